#!/usr/bin/env python3
"""HF transformers side of scripts/bench_train_cpu.sh (and its data preparation).

  bench_train_hf.py prepare --corpus data/pretrain/train.jsonl --tokenizer data/tokenizer.model \
      --seq-len 256 --num-docs 104 --out DIR
      Writes DIR/docs.jsonl ({"text": ...} records, each long enough that ctxext's text format
      -- BOS + pieces + EOS, then `overflow: truncate` at max_seq_len -- gives exactly seq_len
      tokens) and DIR/ids.json (the same samples as token ids: [BOS] + the first seq_len-1 pieces,
      tokenized here with the Python sentencepiece on the same tokenizer.model).

  bench_train_hf.py train --ids DIR/ids.json --batch 8 --warmup 3 --steps 10 --threads 2 ...
      Trains LlamaForCausalLM (attn_implementation="sdpa", fp32, CPU) of the given shape with
      torch.optim.AdamW (foreach default) on the samples in order, batch after batch, exactly as
      ctxext does with `shuffle: false`. One step = build the batch tensor, zero_grad, forward with
      labels = input_ids (HF shifts: seq_len-1 targets per sequence, mean over them), backward,
      clip_grad_norm_(max_grad_norm), optimizer.step() -- the same work as ctxext's
      TrainRecipe::train_step. Each step is timed with time.perf_counter around all of that;
      tokens/s = supervised targets (batch * (seq_len-1)) / step seconds, the same definition as
      ctxext's metrics.jsonl tokens_per_s. Prints one JSON line per step and a JSON summary line
      starting with "SUMMARY ".
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def max_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def prepare(args):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    bos = sp.bos_id()
    need = args.seq_len - 1 + 8  # pieces after BOS, with a margin so truncation always happens
    texts = []
    with open(args.corpus, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                texts.append(json.loads(line)["text"])
    docs, ids = [], []
    i = 0
    while len(docs) < args.num_docs:
        parts = []
        while True:
            parts.append(texts[i % len(texts)])
            i += 1
            text = " ".join(parts)
            pieces = sp.encode(text)
            if len(pieces) >= need:
                break
        docs.append(text)
        ids.append([bos] + pieces[: args.seq_len - 1])
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "docs.jsonl"), "w", encoding="utf-8") as f:
        for k, text in enumerate(docs):
            f.write(json.dumps({"id": f"bench-{k:05d}", "text": text}) + "\n")
    with open(os.path.join(args.out, "ids.json"), "w") as f:
        json.dump(ids, f)
    print(f"prepare: {len(docs)} documents of exactly {args.seq_len} tokens -> {args.out}", file=sys.stderr)


def train(args):
    rss_start = max_rss_mb()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rss_after_import = max_rss_mb()
    with open(args.ids) as f:
        samples = json.load(f)
    if any(len(s) != args.seq_len for s in samples):
        sys.exit("train: every sample must have exactly --seq-len tokens")
    total = args.warmup + args.steps
    if len(samples) < total * args.batch:
        sys.exit(f"train: {len(samples)} samples < {total} steps x batch {args.batch}")

    config = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=args.seq_len, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        bos_token_id=1, eos_token_id=2, use_cache=False)
    model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.float32)
    model.train()
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps,
                                  weight_decay=args.weight_decay)
    supervised = args.batch * (args.seq_len - 1)
    print(json.dumps({"side": "hf", "threads": torch.get_num_threads(), "params": n_params,
                      "attn": model.config._attn_implementation, "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__, "rss_after_import_mb": rss_after_import,
                      "rss_at_start_mb": rss_start}), flush=True)

    rates = []
    for step in range(total):
        t0 = time.perf_counter()
        batch = torch.tensor(samples[step * args.batch:(step + 1) * args.batch], dtype=torch.long)
        optimizer.zero_grad(set_to_none=True)
        out = model(input_ids=batch, labels=batch, use_cache=False)
        out.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        loss = out.loss.item()
        seconds = time.perf_counter() - t0
        rate = supervised / seconds
        if step >= args.warmup:
            rates.append(rate)
        print(json.dumps({"step": step + 1, "loss": loss, "grad_norm": float(grad_norm), "tokens": supervised,
                          "seconds": seconds, "tokens_per_s": rate, "warmup": step < args.warmup,
                          "max_rss_mb": max_rss_mb()}), flush=True)
    print("SUMMARY " + json.dumps({"side": "hf", "median_tokens_per_s": statistics.median(rates),
                                   "min_tokens_per_s": min(rates), "max_tokens_per_s": max(rates),
                                   "timed_steps": len(rates), "tokens_per_step": supervised,
                                   "max_rss_mb": max_rss_mb()}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--corpus", required=True)
    p.add_argument("--tokenizer", required=True)
    p.add_argument("--seq-len", type=int, default=256)
    p.add_argument("--num-docs", type=int, required=True)
    p.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("--ids", required=True)
    t.add_argument("--seq-len", type=int, default=256)
    t.add_argument("--batch", type=int, default=8)
    t.add_argument("--warmup", type=int, default=3)
    t.add_argument("--steps", type=int, default=10)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--vocab", type=int, default=4000)
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--intermediate", type=int, default=688)
    t.add_argument("--layers", type=int, default=4)
    t.add_argument("--heads", type=int, default=8)
    t.add_argument("--kv-heads", type=int, default=8)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--beta1", type=float, default=0.9)
    t.add_argument("--beta2", type=float, default=0.95)
    t.add_argument("--eps", type=float, default=1e-8)
    t.add_argument("--weight-decay", type=float, default=0.1)
    t.add_argument("--max-grad-norm", type=float, default=1.0)
    args = parser.parse_args()
    prepare(args) if args.cmd == "prepare" else train(args)


if __name__ == "__main__":
    main()
