#!/usr/bin/env python3
"""GPU helpers for scripts/bench_gpu.sh (run on the GPU machine; python3 there has torch 2.11.0+cu130).

  bench_gpu_hf.py train --layers 8 --seq 16384 --warmup 2 --steps 5
      HF transformers peer: LlamaForCausalLM with the LLaMA-2-7B widths (hidden 4096, intermediate
      11008, 32 heads, vocab 32000) and --layers layers, attn_implementation="sdpa", gradient
      checkpointing, torch.optim.AdamW (foreach default), lr 2e-5, betas (0.9, 0.95), clip 1.0,
      one sequence of --seq tokens per step (random ids: a step's cost does not depend on them).
      --precision amp (default): fp32 parameters, grads and AdamW states, forward/backward under
      torch.autocast(bfloat16) -- the same numerics and bytes/param as ctxext's bf16 recipe (bf16
      compute, fp32 masters and AdamW states). --precision bf16: the whole model and AdamW in bf16
      (HF's smallest-memory setting, 8 bytes/param; not numerically the same recipe).
      Prints per-step JSON lines and "SUMMARY {json}" with median tokens/s, MFU and peak memory.
  bench_gpu_hf.py flops --layers 32 --seq 16384
      Model FLOPs per token used for MFU (the same formula for both sides; see flops_per_token).
  bench_gpu_hf.py docs --tokenizer data/tokenizer.model --corpus data/pretrain/train.jsonl \
      --tokens 16384 --num 100 --format text|sharegpt --out FILE
      Long documents (or ShareGPT conversations with one long answer) of at least --tokens tokens.
  bench_gpu_hf.py make-model --layers 32 --out DIR --tokenizer data/tokenizer.model
      A random-weight LLaMA-2-7B-shaped HF folder (bf16 safetensors, config.json, tokenizer.model)
      for the recipe wall-clock run (no real weights on the GPU machine).
  bench_gpu_hf.py rss -- CMD ...
      Runs CMD; prints "RSS_MB <max resident set of the child>" and "WALL_S <seconds>" on stderr
      and exits with CMD's status (a stand-in for /usr/bin/time -v).
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

PEAK_BF16_FLOPS = 790e12  # docs/platform.md: measured H100/H200 bf16 dense matmul


def shape(layers, vocab=32000):
    return dict(vocab=vocab, hidden=4096, intermediate=11008, layers=layers, heads=32, kv_heads=32)


def flops_per_token(s, seq):
    """Model FLOPs per trained token (forward + backward = 3 x forward; no recomputation counted):
    6 * N_matmul with N_matmul = every weight a token multiplies (attention q,k,v,o + MLP per layer,
    and the LM head; the embedding is a lookup), plus causal attention scores and values:
    forward 2 matmuls x 2 FLOPs x d_model x (seq/2 keys on average) per token per layer, x3 for
    backward = 6 * layers * d_model * seq."""
    d, f, L = s["hidden"], s["intermediate"], s["layers"]
    head_dim = d // s["heads"]
    per_layer = d * d * 2 + d * s["kv_heads"] * head_dim * 2 + 3 * d * f
    n_matmul = L * per_layer + d * s["vocab"]
    return 6 * n_matmul + 6 * L * d * seq, n_matmul


def cmd_flops(args):
    fpt, n = flops_per_token(shape(args.layers), args.seq)
    print(json.dumps({"layers": args.layers, "seq": args.seq, "n_matmul": n, "flops_per_token": fpt}))


def cmd_train(args):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    s = shape(args.layers)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=s["vocab"], hidden_size=s["hidden"], intermediate_size=s["intermediate"],
                         num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                         num_key_value_heads=s["kv_heads"], max_position_embeddings=max(4096, args.seq),
                         rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, use_cache=False)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    peak = (lambda: torch.cuda.max_memory_allocated() / 2**20) if cuda else (lambda: 0.0)
    with dev:
        model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=dtype)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.0)
    n_params = sum(p.numel() for p in model.parameters())
    fpt, _ = flops_per_token(s, args.seq)
    tokens = args.seq - 1  # supervised targets per sequence (labels shifted), as ctxext counts
    gen = torch.Generator(device=dev).manual_seed(0)
    print(json.dumps({"side": "hf", "params": n_params, "precision": args.precision, "torch": torch.__version__,
                      "device": torch.cuda.get_device_name() if cuda else "cpu", "flops_per_token": fpt}), flush=True)
    rates, step_s = [], []
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    for step in range(args.warmup + args.steps):
        ids = torch.randint(0, s["vocab"], (1, args.seq), device=dev, generator=gen)
        sync()
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=args.precision == "amp"):
            out = model(input_ids=ids, labels=ids, use_cache=False)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        loss = out.loss.item()  # synchronizes
        seconds = time.perf_counter() - t0
        if step >= args.warmup:
            rates.append(tokens / seconds)
            step_s.append(seconds)
        print(json.dumps({"step": step + 1, "loss": loss, "seconds": seconds, "tokens_per_s": tokens / seconds,
                          "peak_gpu_mb": peak()}), flush=True)
    med = statistics.median(rates)
    print("SUMMARY " + json.dumps({
        "side": "hf", "layers": args.layers, "seq": args.seq, "precision": args.precision,
        "median_tokens_per_s": med, "median_step_s": statistics.median(step_s), "timed_steps": len(rates),
        "mfu": med * fpt / PEAK_BF16_FLOPS, "peak_gpu_mb": peak(),
        "peak_gpu_reserved_mb": torch.cuda.max_memory_reserved() / 2**20 if cuda else 0.0,
        "peak_host_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def cmd_docs(args):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    texts = [json.loads(l)["text"] for l in open(args.corpus, encoding="utf-8") if l.strip()]
    avg = max(1.0, sum(len(sp.encode(t)) for t in texts[:200]) / 200)
    i = 0
    with open(args.out, "w", encoding="utf-8") as f:
        for k in range(args.num):
            parts, count = [], 0
            while count < args.tokens + 64:  # cheap running estimate, then an exact check
                parts.append(texts[i % len(texts)])
                i += 1
                count += avg
                if count >= args.tokens + 64:
                    count = len(sp.encode(" ".join(parts)))
            text = " ".join(parts)
            if args.format == "text":
                rec = {"id": f"long-{k:04d}", "text": text}
            else:
                rec = {"id": f"long-{k:04d}", "conversations": [
                    {"from": "human", "value": "Recite the following passage back to me."},
                    {"from": "gpt", "value": text}]}
            f.write(json.dumps(rec) + "\n")
    print(f"docs: {args.num} {args.format} records of >= {args.tokens} tokens -> {args.out}", file=sys.stderr)


def cmd_make_model(args):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    s = shape(args.layers)
    config = LlamaConfig(vocab_size=s["vocab"], hidden_size=s["hidden"], intermediate_size=s["intermediate"],
                         num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
                         num_key_value_heads=s["kv_heads"], max_position_embeddings=4096, rms_norm_eps=1e-5,
                         rope_theta=10000.0, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    t0 = time.perf_counter()
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = LlamaForCausalLM._from_config(config, dtype=torch.bfloat16)
    model.save_pretrained(args.out, max_shard_size="5GB")
    shutil.copy(args.tokenizer, os.path.join(args.out, "tokenizer.model"))
    print(f"make-model: {args.out} ({sum(p.numel() for p in model.parameters())} parameters, "
          f"{time.perf_counter() - t0:.0f} s)", file=sys.stderr)


def cmd_rss(args):
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    t0 = time.perf_counter()
    rc = subprocess.call(cmd)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"RSS_MB {rss:.0f}\nWALL_S {wall:.1f}", file=sys.stderr)
    sys.exit(rc)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd_name", required=True)
    t = sub.add_parser("train")
    t.add_argument("--layers", type=int, default=8)
    t.add_argument("--seq", type=int, default=16384)
    t.add_argument("--warmup", type=int, default=2)
    t.add_argument("--steps", type=int, default=5)
    t.add_argument("--precision", choices=["amp", "bf16"], default="amp")
    t.add_argument("--device", default="cuda", help="cpu: a smoke test of this script only (MFU meaningless)")
    f = sub.add_parser("flops")
    f.add_argument("--layers", type=int, default=32)
    f.add_argument("--seq", type=int, default=16384)
    d = sub.add_parser("docs")
    d.add_argument("--tokenizer", required=True)
    d.add_argument("--corpus", required=True)
    d.add_argument("--tokens", type=int, default=16384)
    d.add_argument("--num", type=int, default=100)
    d.add_argument("--format", choices=["text", "sharegpt"], default="text")
    d.add_argument("--out", required=True)
    m = sub.add_parser("make-model")
    m.add_argument("--layers", type=int, default=32)
    m.add_argument("--out", required=True)
    m.add_argument("--tokenizer", required=True)
    r = sub.add_parser("rss")
    r.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    {"train": cmd_train, "flops": cmd_flops, "docs": cmd_docs, "make-model": cmd_make_model,
     "rss": cmd_rss}[args.cmd_name](args)


if __name__ == "__main__":
    main()
