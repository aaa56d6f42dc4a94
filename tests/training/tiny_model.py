"""A tiny causal LM built on the spot (no download): a byte-level BPE tokenizer trained with
`tokenizers` on text shipped in this repository, a chat template, and a 2-layer Llama."""

from __future__ import annotations

from pathlib import Path

from tests import tiny_lm as tiny
from tests.tiny_lm import REPO

SPECIAL = ["<|pad|>", "<|bos|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
# Every message is "<|role|>content<|end|>"; the generation prompt is "<|assistant|>", so a
# prompt rendered with it is a prefix of the prompt rendered with its answer (what TRL's
# DPO and SFT tokenisation rely on).
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>"
    "{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


def shipped_text() -> list[str]:
    """The README, the problem specs and their data files: text this repository ships."""
    files = [REPO / "README.md", *sorted((REPO / "problem_specs").rglob("*.yaml"))]
    files += sorted((REPO / "problem_specs" / "data").glob("*.jsonl"))
    return [f.read_text(encoding="utf-8") for f in files]


def tiny_tokenizer(vocab_size: int = 600):
    """A byte-level BPE tokenizer (any text encodes) with the chat template above."""
    return tiny.build_tokenizer(shipped_text(), special=SPECIAL, bos="<|bos|>", eos="<|end|>",
                                pad="<|pad|>", chat_template=CHAT_TEMPLATE,
                                vocab_size=vocab_size)  # fmt: skip


def tiny_model(tokenizer, seed: int = 0):
    """A randomly initialised 2-layer Llama sized for ``tokenizer`` (a few hundred KB)."""
    return tiny.build_model(tokenizer, seed=seed, hidden=32, heads=2, max_positions=4096)


def save_tiny_model(directory: Path) -> Path:
    """Write the tokenizer and the model to ``directory``, loadable by path like any local
    checkpoint (TRL's DPOTrainer builds its reference model from the path)."""
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
