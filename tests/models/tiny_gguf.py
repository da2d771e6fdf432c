"""A tiny llama-architecture GGUF with random weights, written with the gguf package.

About 0.4 MB; llama.cpp loads it in milliseconds and its output is noise. Its
header is real, so it exercises import validation, info and delete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def write_tiny_gguf(path: Path, *, layers: int = 2, embd: int = 64, heads: int = 4, kv_heads: int = 2,
                    ctx: int = 512, chat_template: str | None = TEMPLATE, seed: int = 0) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{i:02X}>" for i in range(256)] + ["▁", "▁a", "▁the", "a", "e"]
    n_vocab = len(tokens)
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + \
        [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * 5
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name("Tiny Random Llama")
    w.add_block_count(layers)
    w.add_context_length(ctx)
    w.add_embedding_length(embd)
    w.add_feed_forward_length(embd * 2)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(embd // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * n_vocab)
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    if chat_template:
        w.add_chat_template(chat_template)

    def t(name, *shape):
        w.add_tensor(name, (rng.standard_normal(shape) * 0.02).astype(np.float32))
    t("token_embd.weight", n_vocab, embd)
    w.add_tensor("output_norm.weight", np.ones(embd, dtype=np.float32))
    t("output.weight", n_vocab, embd)
    kv = embd // heads * kv_heads
    for i in range(layers):
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(embd, dtype=np.float32))
        t(f"blk.{i}.attn_q.weight", embd, embd)
        t(f"blk.{i}.attn_k.weight", kv, embd)
        t(f"blk.{i}.attn_v.weight", kv, embd)
        t(f"blk.{i}.attn_output.weight", embd, embd)
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.ones(embd, dtype=np.float32))
        t(f"blk.{i}.ffn_gate.weight", embd * 2, embd)
        t(f"blk.{i}.ffn_up.weight", embd * 2, embd)
        t(f"blk.{i}.ffn_down.weight", embd, embd * 2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
