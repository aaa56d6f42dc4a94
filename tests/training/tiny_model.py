"""A tiny causal LM built on the spot (no download): a byte-level BPE tokenizer trained with
`tokenizers` on text shipped in this repository, a chat template, and a 2-layer Llama."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
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
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(shipped_text(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|bos|>",
        eos_token="<|end|>",
        pad_token="<|pad|>",
        chat_template=CHAT_TEMPLATE,
    )


def tiny_model(tokenizer, seed: int = 0):
    """A randomly initialised 2-layer Llama sized for ``tokenizer`` (a few hundred KB)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return LlamaForCausalLM(config)


def save_tiny_model(directory: Path) -> Path:
    """Write the tokenizer and the model to ``directory``, loadable by path like any local
    checkpoint (TRL's DPOTrainer builds its reference model from the path)."""
    tokenizer = tiny_tokenizer()
    tiny_model(tokenizer).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
