"""Writes a tiny Llama model that a real engine can serve, without the Hugging Face Hub (run by the engines' Python).

Random weights (9 MB), so the text it writes is nonsense; what matters is that the engine loads it through its
normal path: config.json, model.safetensors, a fast tokenizer with a chat template. Head size 64, because vLLM's
CPU attention kernels refuse 16 (`Unsupported CPU attention configuration: head_dim=16`).

    python tiny_model.py FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

VOCABULARY = 2048
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>"]
# The shape of the usual chat templates: the clients' chat calls go through it, as they would on a real model.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}{{ eos_token }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def _corpus() -> list[str]:
    words = ["the", "a", "model", "serves", "tokens", "fast", "slow", "cluster", "pod", "gpu", "request", "stream",
             "answer", "question", "engine"]  # fmt: skip
    return [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(12)) + f" {i}" for i in range(4000)]


def write(folder: Path) -> None:
    torch.manual_seed(0)
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCABULARY, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tokenizer.train_from_iterator(_corpus(), trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    config = LlamaConfig(
        vocab_size=VOCABULARY,
        hidden_size=256,
        intermediate_size=512,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=32768,  # room for requests long enough to stay in flight (tests/test_platform.py)
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        torch_dtype="float32",
    )
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)


if __name__ == "__main__":
    write(Path(sys.argv[1]))
