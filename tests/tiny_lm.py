"""Tiny causal LMs built on the spot, for training tests without any download.

One byte-level BPE tokenizer trainer (``tokenizers``, on text this repository ships) and
one two-layer ``LlamaForCausalLM``; the SFT/DPO tests (tests/training) and the GRPO test
(tests/rewards) pick their own special tokens, chat template and sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_tokenizer(
    texts: Iterable[str],
    *,
    special: list[str],
    bos: str,
    eos: str,
    pad: str,
    chat_template: str,
    vocab_size: int,
):
    """A ``PreTrainedTokenizerFast`` (byte-level BPE: any text encodes) with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=bos,
        eos_token=eos,
        pad_token=pad,
        chat_template=chat_template,
    )


def build_model(tokenizer, *, seed: int = 0, hidden: int, heads: int, max_positions: int,
                tie_embeddings: bool = False):  # fmt: skip
    """A randomly initialised 2-layer Llama sized for ``tokenizer``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=tie_embeddings,
    )
    return LlamaForCausalLM(config)
