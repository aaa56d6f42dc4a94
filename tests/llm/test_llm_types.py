"""LLMRequest.cache_key: stable for equal requests, changed by anything that changes a response."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factory.llm import ChatMessage, LLMRequest, LLMResponse, Usage
from tests.llm.llm_helpers import make_request

texts = st.text(max_size=40)
messages = st.lists(
    st.builds(ChatMessage, role=st.sampled_from(["user", "assistant"]), content=texts),
    min_size=1,
    max_size=3,
)
requests = st.builds(
    LLMRequest,
    model=st.sampled_from(["claude-sonnet-4-5", "claude-haiku-4-5", "local-model"]),
    system=texts,
    few_shot=st.lists(
        st.builds(ChatMessage, role=st.sampled_from(["user", "assistant"]), content=texts),
        max_size=2,
    ),
    messages=messages,
    temperature=st.floats(0, 2, allow_nan=False),
    max_tokens=st.integers(1, 8192),
    sample_index=st.integers(0, 100),
    prompt_version=texts,
)

# One different value per field (applied to a generated request) must always change the key.
CHANGES = {
    "model": lambda r: r.model + "-x",
    "system": lambda r: r.system + " ",
    "few_shot": lambda r: [*r.few_shot, ChatMessage(role="user", content="extra")],
    "messages": lambda r: [*r.messages, ChatMessage(role="user", content="more")],
    "temperature": lambda r: r.temperature + 0.5,
    "max_tokens": lambda r: r.max_tokens + 1,
    "sample_index": lambda r: r.sample_index + 1,
    "prompt_version": lambda r: r.prompt_version + "v",
}


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(requests)
def test_cache_key_is_stable_across_copies_and_round_trips(request: LLMRequest) -> None:
    again = LLMRequest.model_validate_json(request.model_dump_json())
    assert again.cache_key() == request.cache_key()
    assert len(request.cache_key()) == 64


@settings(deadline=None)  # a loaded CI box must not fail on timing
@given(requests, st.sampled_from(sorted(CHANGES)))
def test_cache_key_changes_when_any_field_changes(request: LLMRequest, name: str) -> None:
    changed = request.model_copy(update={name: CHANGES[name](request)})
    assert changed.cache_key() != request.cache_key()


def test_role_of_a_message_is_part_of_the_key() -> None:
    a = make_request(few_shot=[ChatMessage(role="user", content="x")])
    b = make_request(few_shot=[ChatMessage(role="assistant", content="x")])
    assert a.cache_key() != b.cache_key()


def test_request_is_frozen_and_needs_a_message() -> None:
    request = make_request()
    with pytest.raises(ValueError):
        request.model = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        LLMRequest(model="m", messages=[])


def test_describe_names_the_model_and_the_start_of_the_prompt() -> None:
    text = make_request("word " * 40).describe()
    assert "model=claude-haiku-4-5" in text and "..." in text and len(text) < 110


def test_truncated_flag() -> None:
    response = LLMResponse(
        text="",
        stop_reason="max_tokens",
        model="m",
        usage=Usage(),
        cost_usd=0,
        request_key="k",
        provider="p",
    )
    assert response.truncated


def test_an_explicit_default_gives_the_same_key_as_an_omitted_one() -> None:
    implicit = LLMRequest(model="m", messages=[ChatMessage(role="user", content="x")])
    explicit = LLMRequest(
        model="m",
        messages=[ChatMessage(role="user", content="x")],
        temperature=1.0,
        sample_index=0,
        few_shot=[],
    )
    assert implicit.cache_key() == explicit.cache_key()
