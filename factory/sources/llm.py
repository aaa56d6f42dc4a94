"""The ``llm`` source: an LLM writes problems with references, as JSON.

Generation is two pure steps around the run loop's LLM call:

- :meth:`LLMSource.build_requests` turns the spec (description, topics,
  difficulties, seed examples, the generator role) into deterministic
  :class:`~factory.llm.types.LLMRequest` s asking for ``problems_per_request``
  problems each;
- :meth:`LLMSource.parse_response` turns one answer into problems, or a
  :class:`~factory.sources.base.Rejection` naming what is wrong (not JSON,
  truncated, a missing field, a wrong type, an empty statement). It never raises
  on what the model wrote.

Problems come out with ``trust="generated"``; the run upgrades math problems to
``consensus`` when k of n solves agree with the reference.
"""

from __future__ import annotations

import json
import math
import random
import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from factory.llm.types import LLMRequest
from factory.problem import Problem, Reference
from factory.sources.base import Rejection, SourceContext

if TYPE_CHECKING:
    from factory.spec import Example, Spec

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FENCE = re.compile(r"```(?:json|JSON)?[ \t]*\n(.*?)(?:\n```|\Z)", re.DOTALL)


class LLMSourceOptions(BaseModel):
    """Options of the ``llm`` source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[str] = Field(
        default_factory=list,
        description="Topics to ask for; requests cycle through them (seeded order).",
    )
    difficulties: list[str] = Field(
        default_factory=list, description="Difficulty labels to ask for, cycled like topics."
    )
    problems_per_request: int = Field(5, ge=1, le=50)
    examples_per_request: int = Field(
        3, ge=0, le=20, description="How many of the spec's examples each request shows."
    )
    code_style: Literal["function", "stdio"] = Field(
        "function",
        description="code domain only: function (tests + entry_point) or stdio (input/output "
        "cases).",
    )


def format_instructions(domain: str, code_style: str, count: int) -> str:
    """What the JSON answer must look like, for the generator prompt's ``{format}``."""
    if domain == "code" and code_style == "stdio":
        item = (
            '{"statement": "...", "reference_solution": "<a complete Python program reading '
            'stdin>", "stdio": [{"input": "...", "output": "..."}, ...]}'
        )
    elif domain == "code":
        item = (
            '{"statement": "...", "entry_point": "<function name>", "reference_solution": '
            '"<Python code defining the function>", "tests": "<Python assert statements '
            'calling the function>"}'
        )
    else:
        item = '{"statement": "...", "answer": "<final answer only, LaTeX>", "solution": "..."}'
    return (
        f"Answer with a JSON list of exactly {count} objects and nothing else, each of the "
        f'form {item}. Optional keys: "topic", "difficulty". Escape backslashes as JSON '
        "requires (\\\\frac)."
    )


def _example_json(example: Example, domain: str) -> dict[str, Any]:
    data = example.model_dump(exclude_none=True)
    if domain == "code" and "solution" in data:
        data["reference_solution"] = data.pop("solution")
    return data


def problem_example(problem: Problem) -> dict[str, Any]:
    """``problem`` as a JSON object in the format generator answers use (to show as an example)."""
    ref = problem.reference
    data: dict[str, Any] = {"statement": problem.statement}
    if problem.domain == "code":
        for key, value in (
            ("entry_point", ref.entry_point),
            ("reference_solution", ref.solution),
            ("tests", ref.tests),
            ("stdio", [c.model_dump() for c in ref.stdio] if ref.stdio else None),
        ):
            if value is not None:
                data[key] = value
    else:
        for key, value in (("answer", ref.answer), ("solution", ref.solution)):
            if value is not None:
                data[key] = value
    for key, value in (("topic", problem.topic), ("difficulty", problem.difficulty)):
        if value:
            data[key] = value
    return data


class LLMSource:
    """Problems an LLM writes; trust is ``generated``."""

    name: ClassVar[str] = "llm"
    Options: ClassVar[type[BaseModel]] = LLMSourceOptions

    def __init__(self, options: LLMSourceOptions, context: SourceContext) -> None:
        self.options = options
        self.context = context

    @classmethod
    def for_spec(cls, spec: Spec) -> LLMSource:
        """The spec's own llm source, or one with default options for a spec of another
        kind (recipes write problems in the llm source's format whatever the spec's source)."""
        options = spec.source.options
        if not isinstance(options, LLMSourceOptions):
            options = LLMSourceOptions()
        return cls(options, spec.source_context())

    # ---- step 1: requests

    def build_requests(self, spec: Spec, count: int, seed: int) -> list[LLMRequest]:
        """Requests that together ask for ``count`` problems; the same seed, the same list.

        Request ``i`` gets its topic and difficulty from the seeded cyclic order,
        a seeded choice of examples, and ``sample_index=i`` so identical prompts
        still get distinct cache entries.
        """
        per = self.options.problems_per_request
        n_requests = math.ceil(count / per) if count > 0 else 0
        rng = random.Random(f"{seed}:llm-source")
        topics = list(self.options.topics)
        difficulties = list(self.options.difficulties)
        rng.shuffle(topics)
        rng.shuffle(difficulties)
        requests = []
        for i in range(n_requests):
            shown = self._pick_examples(spec, rng)
            requests.append(
                self.build_request(
                    spec,
                    index=i,
                    count=min(per, count - i * per),
                    examples=[_example_json(e, spec.domain) for e in shown],
                    topic=topics[i % len(topics)] if topics else "",
                    difficulty=difficulties[i % len(difficulties)] if difficulties else "",
                )
            )
        return requests

    def build_request(
        self,
        spec: Spec,
        *,
        index: int,
        count: int,
        examples: list[dict[str, Any]],
        topic: str = "",
        difficulty: str = "",
    ) -> LLMRequest:
        """One generator request for ``count`` problems in the style of ``examples``.

        ``examples`` are JSON-ready problem objects (the format the answer must use);
        ``index`` becomes the request's ``sample_index``, so identical prompts still get
        distinct cache entries.
        """
        role = spec.roles.generator
        if role is None:
            raise ValueError(f"spec {spec.name!r} has no roles.generator for the llm source")
        values = {
            "count": count,
            "domain": spec.domain,
            "description": spec.description.strip(),
            "topic": topic or "any",
            "difficulty": difficulty or "any",
            "examples": "\n".join(json.dumps(e, ensure_ascii=False) for e in examples)
            or "(none)",
            "format": format_instructions(spec.domain, self.options.code_style, count),
        }
        prompt = role.render(**values)
        if "{format}" not in role.prompt:
            # The answer must be parseable whatever the template says.
            prompt = f"{prompt.rstrip()}\n\n{values['format']}"
        return role.request(prompt, sample_index=index)

    def _pick_examples(self, spec: Spec, rng: random.Random) -> list[Example]:
        k = min(self.options.examples_per_request, len(spec.examples))
        if k == 0:
            return []
        chosen = sorted(rng.sample(range(len(spec.examples)), k))
        return [spec.examples[j] for j in chosen]

    # ---- step 2: responses

    def parse_response(self, text: str) -> list[Problem] | Rejection:
        """All problems in ``text``, or the first reason it is unusable.

        Strict on purpose: one malformed item rejects the whole answer (a model
        that breaks the format once is not trusted on the rest), so nothing is
        dropped silently. Use :meth:`parse_items` to keep the good items and get a
        rejection per bad one.
        """
        problems, rejections = self.parse_items(text)
        if rejections:
            return rejections[0]
        return problems

    def parse_items(self, text: str) -> tuple[list[Problem], list[Rejection]]:
        """(problems, rejections) item by item; a whole-answer failure is one rejection."""
        data = _load_json(text)
        if isinstance(data, Rejection):
            return [], [data]
        if isinstance(data, dict) and isinstance(data.get("problems"), list):
            data = data["problems"]  # {"problems": [...]} is a common, harmless variation
        elif isinstance(data, dict) and "statement" in data:
            data = [data]
        if not isinstance(data, list):
            return [], [
                Rejection(
                    reason="not_a_list",
                    message=f"expected a JSON list of problems, got {type(data).__name__}",
                )
            ]
        if not data:
            return [], [Rejection(reason="no_problems", message="the JSON list is empty")]
        problems: list[Problem] = []
        rejections: list[Rejection] = []
        for index, item in enumerate(data):
            result = self._item(index, item)
            if isinstance(result, Rejection):
                rejections.append(result)
            else:
                problems.append(result)
        return problems, rejections

    def _item(self, index: int, item: Any) -> Problem | Rejection:
        def reject(reason: str, message: str) -> Rejection:
            return Rejection(reason=reason, message=f"problem {index}: {message}", item=index)

        if not isinstance(item, dict):
            return reject("wrong_type", f"must be a JSON object, got {_json_type(item)}")
        domain = self.context.domain
        if domain == "code" and self.options.code_style == "stdio":
            required = ("statement", "reference_solution", "stdio")
        elif domain == "code":
            required = ("statement", "entry_point", "reference_solution", "tests")
        else:
            required = ("statement", "answer")
        for key in required:
            if key not in item or item[key] is None:
                return reject("missing_field", f"missing field {key!r}")
        fields: dict[str, Any] = {}
        for key in (
            "statement",
            "answer",
            "solution",
            "reference_solution",
            "tests",
            "entry_point",
            "topic",
            "difficulty",
        ):
            if key not in item or item[key] is None:
                continue
            value = item[key]
            if (
                key in ("answer", "difficulty")
                and isinstance(value, int | float)
                and not (isinstance(value, bool))
            ):
                value = str(value)  # a numeric answer is still an answer
            if not isinstance(value, str):
                return reject(
                    "wrong_type", f"field {key!r} must be a string, got {_json_type(value)}"
                )
            if key in required and not value.strip():
                return reject("empty_field", f"field {key!r} is empty")
            fields[key] = value
        entry = fields.get("entry_point")
        if entry is not None and not _IDENTIFIER.match(entry.strip()):
            return reject("bad_value", f"entry_point {entry!r} is not a Python identifier")
        stdio = None
        if "stdio" in required:
            stdio = item["stdio"]
            problem = _check_stdio(stdio)
            if problem:
                return reject(problem[0], problem[1])
        solution = fields.get("reference_solution", fields.get("solution"))
        reference = Reference(
            answer=fields.get("answer"),
            solution=solution,
            tests=fields.get("tests"),
            entry_point=entry.strip() if entry else None,
            stdio=stdio,
        )
        return Problem(
            statement=fields["statement"].strip(),
            domain=domain,
            reference=reference,
            trust="generated",
            topic=fields.get("topic"),
            difficulty=fields.get("difficulty"),
            source=self.name,
            metadata={"item": index},
        )


def _check_stdio(stdio: Any) -> tuple[str, str] | None:
    if not isinstance(stdio, list):
        return "wrong_type", f"field 'stdio' must be a list, got {_json_type(stdio)}"
    if not stdio:
        return "empty_field", "field 'stdio' is empty"
    for j, case in enumerate(stdio):
        if not isinstance(case, dict) or set(case) != {"input", "output"}:
            return "wrong_type", f"stdio[{j}] must be an object with keys input and output"
        if not all(isinstance(case[k], str) for k in ("input", "output")):
            return "wrong_type", f"stdio[{j}] input and output must be strings"
    return None


def _json_type(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _load_json(text: str) -> Any:
    """The JSON document in ``text`` (bare, or in a ```json fence), or a Rejection."""
    if not isinstance(text, str) or not text.strip():
        return Rejection(reason="invalid_json", message="the answer is empty")
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text.strip()]
    # Prose around a bare document: try from the first bracket to the last one.
    start = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
    if start >= 0:
        candidates.append(text[start : max(text.rfind("]"), text.rfind("}")) + 1])
    first_error: json.JSONDecodeError | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            first_error = first_error or exc
        except RecursionError:
            return Rejection(reason="invalid_json", message="the JSON is nested too deeply")
    assert first_error is not None
    # A document cut off mid-way fails at (or right before) its very end.
    body = candidates[0]
    if first_error.pos >= len(body.rstrip()) - 1 or _unbalanced(body):
        return Rejection(
            reason="truncated",
            message="the JSON ends before it is complete (raise roles.generator.max_tokens "
            "or ask for fewer problems per request)",
        )
    return Rejection(
        reason="invalid_json",
        message=f"not valid JSON: {first_error.msg} at line {first_error.lineno} column "
        f"{first_error.colno}",
    )


def _unbalanced(text: str) -> bool:
    """True if brackets/braces outside strings never close: the mark of a cut-off answer."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth > 0 or in_string
