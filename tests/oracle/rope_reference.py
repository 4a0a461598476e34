"""Hugging Face oracle for the RoPE tests (tests/rope/test_rope_hf_parity.cpp).

Usage: rope_reference.py SPECS.json OUT.json

SPECS.json is a list of {"name", "head_dim", "max_position_embeddings", "rope_parameters", "positions"}.
For each spec this builds a fresh LlamaRotaryEmbedding from a LlamaConfig, runs ONE forward over
`positions` (so dynamic RoPE sees seq_len = max(positions) + 1, exactly as in a model forward), and
writes inv_freq, attention_scaling and the cos/sin tables ([len(positions), head_dim/2], the first
half of HF's duplicated [.., head_dim] tables) as JSON. Python floats of float32 values are exact
and json writes them with repr, so the C++ side reads back the identical float32 bits.
"""
import json
import sys

import torch
import transformers
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding


def run(spec):
    head_dim = spec["head_dim"]
    config = LlamaConfig(
        hidden_size=head_dim * 2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=head_dim,
        max_position_embeddings=spec["max_position_embeddings"],
        rope_parameters=dict(spec["rope_parameters"]),
    )
    rotary = LlamaRotaryEmbedding(config)
    positions = torch.tensor([spec["positions"]], dtype=torch.int64)
    x = torch.zeros(1, dtype=torch.float32)
    with torch.no_grad():
        cos, sin = rotary(x, positions)
    half = head_dim // 2
    return {
        "name": spec["name"],
        "inv_freq": rotary.inv_freq.tolist(),
        "attention_scaling": float(rotary.attention_scaling),
        "cos": cos[0, :, :half].tolist(),
        "sin": sin[0, :, :half].tolist(),
    }


def main():
    specs_path, out_path = sys.argv[1], sys.argv[2]
    with open(specs_path) as f:
        specs = json.load(f)
    results = [run(spec) for spec in specs]
    with open(out_path, "w") as f:
        json.dump({"transformers": transformers.__version__, "results": results}, f)


if __name__ == "__main__":
    main()
