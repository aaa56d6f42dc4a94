"""The llm source: deterministic requests from a spec; answers parsed or rejected, never raised."""

import json

import pytest

from factory.llm.types import LLMRequest
from factory.sources.base import Rejection, SourceContext
from factory.sources.llm import LLMSource, LLMSourceOptions
from factory.spec import parse_spec

SPEC = {
    "name": "gen",
    "version": "1",
    "description": "Number theory for contests.",
    "seed": 9,
    "domain": "math",
    "verifier": {"name": "math"},
    "source": {
        "kind": "llm",
        "options": {
            "topics": ["primes", "digits", "gcd"],
            "problems_per_request": 4,
            "examples_per_request": 1,
        },
    },
    "roles": {
        "generator": {
            "model": "claude-sonnet-4-5",
            "system": "You write problems.",
            "prompt": "Write {count} {difficulty} problems on {topic} ({domain}).\n"
            "{description}\nExamples:\n{examples}\n{format}",
            "few_shot": [{"user": "one problem please", "assistant": "[]"}],
        },
        "solver": {"model": "claude-haiku-4-5", "prompt": "{statement}", "output_format": "boxed"},
    },
    "examples": [
        {"statement": "What is $7^2$?", "answer": "49"},
        {"statement": "What is $\\gcd(4, 6)$?", "answer": "2"},
    ],
}


def math_source(**options):
    return LLMSource(LLMSourceOptions(**options), SourceContext(domain="math"))


def test_build_requests_is_deterministic_and_covers_count():
    spec = parse_spec(SPEC)
    source = spec.build_source()
    requests = source.build_requests(spec, count=10, seed=1)
    assert requests == source.build_requests(spec, count=10, seed=1)
    assert requests != source.build_requests(spec, count=10, seed=2)
    assert len(requests) == 3 and all(isinstance(r, LLMRequest) for r in requests)
    assert [r.sample_index for r in requests] == [0, 1, 2]
    assert len({r.cache_key() for r in requests}) == 3
    first = requests[0]
    assert first.model == "claude-sonnet-4-5" and first.system == "You write problems."
    assert first.temperature == 1.0 and first.max_tokens == 4096
    assert first.prompt_version == spec.roles.generator.prompt_version
    assert [m.role for m in first.few_shot] == ["user", "assistant"]
    prompt = first.messages[0].content
    assert prompt.startswith("Write 4 any problems on ")
    assert "Number theory for contests." in prompt and "(math)" in prompt
    assert "Answer with a JSON list of exactly 4 objects" in prompt
    assert "exactly 2 objects" in requests[2].messages[0].content  # 10 = 4 + 4 + 2
    topics = {r.messages[0].content.split(" on ")[1].split(" (")[0] for r in requests}
    assert topics == {"primes", "digits", "gcd"}


def test_format_instructions_are_appended_when_the_template_omits_them():
    data = json.loads(json.dumps(SPEC))
    data["roles"]["generator"]["prompt"] = "Write {count} problems."
    spec = parse_spec(data)
    prompt = spec.build_source().build_requests(spec, 2, 0)[0].messages[0].content
    assert prompt.startswith("Write 2 problems.\n\nAnswer with a JSON list")


def test_zero_count_means_no_requests():
    spec = parse_spec(SPEC)
    assert spec.build_source().build_requests(spec, 0, 0) == []


GOOD = [
    {"statement": "What is $2^{10}$?", "answer": "1024", "topic": "powers"},
    {"statement": "Find $\\gcd(12, 18)$.", "answer": 6, "solution": "6 divides both."},
]


def test_good_answer():
    problems = math_source().parse_response(json.dumps(GOOD))
    assert [p.reference.answer for p in problems] == ["1024", "6"]
    assert all(p.trust == "generated" and p.source == "llm" for p in problems)
    assert problems[0].topic == "powers" and problems[1].reference.solution == "6 divides both."


def test_fenced_answer_with_prose_around_it():
    text = "Here you go:\n```json\n" + json.dumps(GOOD, indent=2) + "\n```\nEnjoy!"
    problems = math_source().parse_response(text)
    assert [p.reference.answer for p in problems] == ["1024", "6"]


def test_bare_json_with_prose_and_a_problems_wrapper():
    text = "Sure! " + json.dumps({"problems": GOOD})
    assert len(math_source().parse_response(text)) == 2


@pytest.mark.parametrize(
    ("text", "reason", "message"),
    [
        ("", "invalid_json", "the answer is empty"),
        ("I cannot help with that.", "invalid_json", "not valid JSON"),
        (
            '[{"statement": "x", "answer": "1"}, {"statement": "y", "ans',
            "truncated",
            "the JSON ends before it is complete",
        ),
        ('```json\n[{"statement": "x", "answer": "1"},\n', "truncated", "ends before"),
        (
            '{"statement": 3, "answer": "1"}',
            "wrong_type",
            "problem 0: field 'statement' must be a string, got a number",
        ),
        ('"just a string"', "not_a_list", "expected a JSON list of problems, got str"),
        ("[]", "no_problems", "the JSON list is empty"),
        ('[{"statement": "x"}]', "missing_field", "problem 0: missing field 'answer'"),
        (
            '[{"statement": "  ", "answer": "1"}]',
            "empty_field",
            "problem 0: field 'statement' is empty",
        ),
        (
            '[{"statement": "x", "answer": ["1"]}]',
            "wrong_type",
            "problem 0: field 'answer' must be a string, got a list",
        ),
        ('[{"statement": "x", "answer": true}]', "wrong_type", "got a boolean"),
        (
            '[{"statement": "x", "answer": "1"}, 7]',
            "wrong_type",
            "problem 1: must be a JSON object, got a number",
        ),
    ],
)
def test_malformed_answers_are_rejected_with_a_reason(text, reason, message):
    result = math_source().parse_response(text)
    assert isinstance(result, Rejection)
    assert result.reason == reason
    assert message in result.message


def test_parse_items_keeps_the_good_items_and_reports_the_bad_ones():
    text = json.dumps([GOOD[0], {"statement": "x"}, GOOD[1]])
    problems, rejections = math_source().parse_items(text)
    assert len(problems) == 2
    assert [(r.item, r.reason) for r in rejections] == [(1, "missing_field")]


def test_code_function_problems():
    source = LLMSource(LLMSourceOptions(), SourceContext(domain="code"))
    item = {
        "statement": "Write add(a, b).",
        "entry_point": "add",
        "reference_solution": "def add(a, b):\n    return a + b\n",
        "tests": "assert add(1, 2) == 3",
    }
    (problem,) = source.parse_response(json.dumps([item]))
    assert problem.verifier_problem() == {
        "tests": "assert add(1, 2) == 3",
        "entry_point": "add",
        "reference_solution": "def add(a, b):\n    return a + b\n",
    }
    missing = source.parse_response(json.dumps([{**item, "tests": None}]))
    assert missing.reason == "missing_field" and "'tests'" in missing.message
    bad_name = source.parse_response(json.dumps([{**item, "entry_point": "add me"}]))
    assert bad_name.reason == "bad_value"


def test_code_stdio_problems():
    source = LLMSource(LLMSourceOptions(code_style="stdio"), SourceContext(domain="code"))
    item = {
        "statement": "Print the sum of two integers.",
        "reference_solution": "print(sum(map(int, input().split())))",
        "stdio": [{"input": "1 2\n", "output": "3\n"}],
    }
    (problem,) = source.parse_response(json.dumps([item]))
    assert problem.verifier_problem()["stdio"] == [{"input": "1 2\n", "output": "3\n"}]
    bad = source.parse_response(json.dumps([{**item, "stdio": [{"input": "1"}]}]))
    assert bad.reason == "wrong_type" and "stdio[0]" in bad.message
    empty = source.parse_response(json.dumps([{**item, "stdio": []}]))
    assert empty.reason == "empty_field"


def test_never_raises_on_junk():
    source = math_source()
    for junk in ["{", "}", "[[[[", "null", "1e999", "```json\n```", "\x00", "[" * 5000, '"\\u']:
        result = source.parse_response(junk)
        assert isinstance(result, Rejection | list)
