"""A tiny causal LM built on the spot, for training-loop tests without any download.

The tokenizer is a byte-level BPE trained with ``tokenizers`` on text shipped in
this repository (the problem data and the README), with a chat template; the model
is a two-layer ``LlamaForCausalLM`` from a ``LlamaConfig``. ``teach`` fits it for a
few seconds on a handful of replies, right and wrong, so that sampling from it gives
completions the verifiers can judge both ways (a random model only babbles).
"""

from __future__ import annotations

from tests import tiny_lm as tiny
from tests.tiny_lm import REPO

SHIPPED_TEXT = [
    REPO / "problem_specs" / "data" / "grade_school_math.jsonl",
    REPO / "problem_specs" / "data" / "python_functions.jsonl",
    REPO / "README.md",
]
SPECIAL = ["<pad>", "<s>", "</s>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '</s>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def build_tokenizer():
    """A ``PreTrainedTokenizerFast`` (BPE, 512 tokens) with a chat template."""
    lines = (
        line for path in SHIPPED_TEXT for line in path.read_text(encoding="utf-8").splitlines()
    )
    return tiny.build_tokenizer(lines, special=SPECIAL, bos="<s>", eos="</s>", pad="<pad>",
                                chat_template=CHAT_TEMPLATE, vocab_size=512)  # fmt: skip


def build_model(tokenizer, seed: int = 0):
    """A two-layer Llama with random weights sized for ``tokenizer``."""
    return tiny.build_model(tokenizer, seed=seed, hidden=64, heads=4, max_positions=256,
                            tie_embeddings=True)  # fmt: skip


def teach(model, tokenizer, examples: list[tuple[list[dict], str]], steps: int = 120) -> None:
    """Fit ``model`` to reply with each example's text after its chat prompt."""
    import torch

    texts = [
        tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        + reply
        + tokenizer.eos_token
        for messages, reply in examples
    ]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
