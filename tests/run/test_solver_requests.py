"""Solver requests and the response cache: anything that changes a response changes the key."""

import asyncio

from factory.llm.anthropic_client import AnthropicClient
from factory.llm.cache import CachedClient, ResponseCache
from factory.problem import Problem, Reference
from factory.run.solver import solver_request
from factory.spec import load_spec
from factory.testing.anthropic_server import AnthropicTestServer
from tests.run.scripted_llm import GSM_SPEC

PROBLEM = Problem(
    statement="What is 2 + 2?",
    domain="math",
    reference=Reference(answer="4"),
    trust="ground_truth",
    source="file",
)


def _spec_with(tmp_path, old: str, new: str):
    path = tmp_path / "spec.yaml"
    path.write_text(GSM_SPEC.read_text().replace(old, new))
    (tmp_path / "data").symlink_to(GSM_SPEC.parent / "data")
    return load_spec(path)


def test_samples_of_one_problem_have_distinct_keys():
    spec = load_spec(GSM_SPEC)
    keys = {solver_request(spec, PROBLEM, i).cache_key() for i in range(4)}
    assert len(keys) == 4


def test_requests_are_deterministic():
    spec = load_spec(GSM_SPEC)
    assert solver_request(spec, PROBLEM, 0) == solver_request(spec, PROBLEM, 0)


def test_a_changed_prompt_template_misses_the_cache(tmp_path):
    original = load_spec(GSM_SPEC)
    changed = _spec_with(tmp_path, "{statement}\n", "Problem: {statement}\n")
    a, b = solver_request(original, PROBLEM, 0), solver_request(changed, PROBLEM, 0)
    assert a.prompt_version != b.prompt_version

    async def scenario(server):
        cache = ResponseCache(tmp_path / "cache.sqlite")
        client = CachedClient(AnthropicClient(api_key="k", base_url=server.base_url), cache)
        first = await client.complete(a)
        again = await client.complete(a)
        other = await client.complete(b)
        await client.aclose()
        return first, again, other

    with AnthropicTestServer(responder=lambda body: "\\boxed{4}") as server:
        first, again, other = asyncio.run(scenario(server))
        sent = len(server.requests_to("/v1/messages"))
    assert not first.from_cache and again.from_cache and not other.from_cache
    assert sent == 2


def test_a_changed_system_prompt_or_model_changes_the_key(tmp_path):
    base = solver_request(load_spec(GSM_SPEC), PROBLEM, 0).cache_key()
    system = _spec_with(tmp_path, "You solve grade-school", "You carefully solve grade-school")
    assert solver_request(system, PROBLEM, 0).cache_key() != base
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    model = _spec_with(model_dir, "model: claude-haiku-4-5", "model: claude-sonnet-4-5")
    assert solver_request(model, PROBLEM, 0).cache_key() != base
