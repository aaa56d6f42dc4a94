"""Exact duplicates: the first copy of every (prompt, response) is published, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from factory.publish.dedup import conversation_key, drop_duplicates

chats = st.lists(
    st.tuples(st.sampled_from(["What is 2+2?", "Sort [3,1]"]), st.sampled_from(["4", "5", ""])),
    max_size=30,
)


def _row(i: int, prompt: str, answer: str) -> dict:
    return {
        "id": str(i),
        "messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}],
    }


@given(chats)
def test_drop_duplicates_equals_the_naive_first_occurrence_filter(pairs):
    rows = [_row(i, p, a) for i, (p, a) in enumerate(pairs)]
    kept, removed = drop_duplicates(rows, conversation_key)
    earlier = [[x["messages"] for x in rows[:i]] for i in range(len(rows))]
    naive = [r for i, r in enumerate(rows) if r["messages"] not in earlier[i]]
    assert kept == naive and removed == len(rows) - len(naive)
    assert drop_duplicates(kept, conversation_key) == (kept, 0)
