"""Independent float64 re-derivation of the EABF authors' released models (GAIR-NLP/Entropy-ABF).

Usage: eabf_release_reference.py FOLDER TOKENS.json SEQ_LEN SKIP_LAYERS

FOLDER holds config.json in the authors' exact form ("rope_scaling": {"type": "eabf", "factor": 4.0},
no rope_theta) and model.safetensors. What their monkey patch on transformers 4.31 computes:
RoPE base 500,000 (HF's halves layout); after the rotation the queries, and only the queries, are
multiplied by max(1, ln(pos + 1) / ln 4096) for 0-based positions; keys unscaled. Their code means to
leave layers 0 and 1 unscaled but that override never takes effect, so every layer is scaled:
SKIP_LAYERS 0 is what they ran (2 is the paper's stated intent, for the override test).

Written from that description alone, in plain torch float64 (no transformers): embedding, RMSNorm,
GQA attention with a causal mask, SwiGLU MLP, final norm, LM head. Prints one JSON line
{"nll": mean next-token NLL in nats over the first SEQ_LEN tokens, "tokens": SEQ_LEN - 1}.
"""
import json
import math
import sys

import torch
from safetensors.torch import load_file


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rotate(x, cos, sin):
    # x: [s, heads, d]; HF's rotate_half layout: pairs (i, i + d/2)
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


def main():
    folder, tokens_path, seq_len, skip_layers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    with open(f"{folder}/config.json") as f:
        cfg = json.load(f)
    assert cfg["rope_scaling"] == {"type": "eabf", "factor": 4.0} and "rope_theta" not in cfg, cfg
    with open(tokens_path) as f:
        ids = torch.tensor(json.load(f)[:seq_len], dtype=torch.int64)
    w = {k: v.to(torch.float64) for k, v in load_file(f"{folder}/model.safetensors").items()}

    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    d = cfg.get("head_dim") or hidden // heads
    eps = cfg["rms_norm_eps"]
    s = ids.shape[0]

    pos = torch.arange(s, dtype=torch.float64)
    inv_freq = 500000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    angles = pos[:, None] * inv_freq[None, :]
    cos, sin = angles.cos()[:, None, :], angles.sin()[:, None, :]
    query_scale = torch.clamp(torch.log(pos + 1.0) / math.log(4096.0), min=1.0)[:, None, None]
    causal = torch.full((s, s), float("-inf"), dtype=torch.float64).triu(1)

    x = w["model.embed_tokens.weight"][ids]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = rotate((h @ w[p + "self_attn.q_proj.weight"].T).view(s, heads, d), cos, sin)
        k = rotate((h @ w[p + "self_attn.k_proj.weight"].T).view(s, kv_heads, d), cos, sin)
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(s, kv_heads, d)
        if layer >= skip_layers:
            q = q * query_scale
        out = torch.empty(s, heads, d, dtype=torch.float64)
        for head in range(heads):  # one [s, s] score matrix at a time
            kv = head // (heads // kv_heads)
            scores = q[:, head] @ k[:, kv].T / math.sqrt(d) + causal
            out[:, head] = torch.softmax(scores, dim=-1) @ v[:, kv]
        x = x + out.reshape(s, heads * d) @ w[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate = h @ w[p + "mlp.gate_proj.weight"].T
        x = x + (torch.nn.functional.silu(gate) * (h @ w[p + "mlp.up_proj.weight"].T)) @ w[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, w["model.norm.weight"], eps)
    head_weight = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    logits = x[:-1] @ head_weight.T
    nll = -torch.log_softmax(logits, dim=-1).gather(1, ids[1:, None]).mean().item()
    print(json.dumps({"nll": nll, "tokens": s - 1}))


if __name__ == "__main__":
    main()
