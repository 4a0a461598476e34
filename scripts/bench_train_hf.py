#!/usr/bin/env python3
"""HF transformers side of scripts/bench_train_cpu.sh and scripts/bench_ddp_cpu.sh (and their data).

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
      starting with "SUMMARY ". --profile-steps N: steps 2..N+1 under torch.profiler, then the op
      table of `ctxext train --profile-steps N` (self time per op and per category, same buckets)
      on lines starting with "PROFILE ".

  torchrun --standalone --nproc-per-node=2 bench_train_hf.py ddp --ids DIR/ids.json --batch 8 --micro 4 ...
      The PyTorch DistributedDataParallel peer of ctxext's data parallel trainer (scripts/bench_ddp_cpu.sh):
      one process per rank (torchrun's RANK/WORLD_SIZE/MASTER_* variables, or WORLD_SIZE=1 alone),
      Gloo, the same LlamaForCausalLM as `train` wrapped in torch.nn.parallel.DistributedDataParallel
      with its defaults (25 MB buckets all-reduced during backward, gradients averaged over ranks;
      rank 0's initial weights broadcast to every rank), torch.optim.AdamW (foreach default).
      --batch is the GLOBAL batch: rank r takes samples [r*batch/world, (r+1)*batch/world) of each
      step's batch (ctxext's split), in micro-batches of --micro (all but the last under no_sync(),
      each loss divided by the number of micro-batches). One step (timed on every rank with
      time.perf_counter; rank 0's times are reported, as ctxext's rank 0 does) = build this rank's
      batch tensors, zero_grad, forward + backward of each micro-batch (incl. DDP's all-reduce),
      one all-reduce of [loss, supervised tokens] (the global loss and token count ctxext also
      all-reduces each step), clip_grad_norm_, optimizer.step(). tokens/s = supervised targets of the
      whole global batch / rank 0's step seconds. Prints per-step JSON lines (rank 0), one
      "RANK_RSS {json}" line per rank and "SUMMARY {json}" (rank 0).
"""
import argparse
import contextlib
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


def load_samples(args, cmd):
    with open(args.ids) as f:
        samples = json.load(f)
    if any(len(s) != args.seq_len for s in samples):
        sys.exit(f"{cmd}: every sample must have exactly --seq-len tokens")
    total = args.warmup + args.steps
    if len(samples) < total * args.batch:
        sys.exit(f"{cmd}: {len(samples)} samples < {total} steps x batch {args.batch}")
    return samples


def build_model(args):
    """LlamaForCausalLM of the given shape (the `tiny` preset by default), fp32, sdpa, train mode."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        max_position_embeddings=args.seq_len, rms_norm_eps=1e-5, rope_theta=10000.0,
        tie_word_embeddings=False, attention_bias=False, mlp_bias=False,
        bos_token_id=1, eos_token_id=2, use_cache=False)
    model = LlamaForCausalLM._from_config(config, attn_implementation="sdpa", dtype=torch.float32)
    model.train()
    return model


def build_optimizer(args, params):
    import torch

    return torch.optim.AdamW(params, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps,
                             weight_decay=args.weight_decay)


def op_category(name):
    """The buckets of ctxext's src/train/step_profiler.cpp op_category, by the same rules."""
    if name in ("aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::baddbmm", "aten::baddbmm_",
                "aten::addbmm", "aten::addbmm_", "aten::matmul", "aten::linear", "aten::dot"):
        return "matmul"
    if any(k in name for k in ("scaled_dot_product", "flash_attention", "efficient_attention")):
        return "attention"
    if name.startswith("ctxext::"):
        return "ctxext kernels"
    if "adam" in name.lower() or name.startswith("aten::_foreach_"):
        return "optimizer"
    return "other"


def print_profile(profiler, steps, wall_ms, rows=25):
    """Self time per op and per category, per step: the table `ctxext train --profile-steps` writes.

    Python's own time (the interpreter between ops) is not an op: it lands in "outside ops"."""
    ops = sorted(profiler.key_averages(), key=lambda e: -e.self_cpu_time_total)
    step_ms = wall_ms / steps
    print(f"PROFILE profile: {steps} step(s), {wall_ms:.1f} ms wall ({step_ms:.1f} ms per step); "
          "host ops by self time (nested ops excluded), per step")
    print(f"PROFILE   {'ms/step':>12}  {'% step':>7}  {'calls/step':>10}  name")
    categories, in_ops = {}, 0.0
    for i, e in enumerate(ops):
        ms = e.self_cpu_time_total / 1e3 / steps
        categories[op_category(e.key)] = categories.get(op_category(e.key), 0.0) + ms
        in_ops += ms
        if i < rows:
            print(f"PROFILE   {ms:>12.2f}  {100 * ms / step_ms:>6.1f}%  {e.count / steps:>10.1f}  {e.key}")
    print("PROFILE by category (ms per step, % of the step's wall time):")
    for name in sorted(categories):
        print(f"PROFILE   {name:<16} {categories[name]:>9.2f}  {100 * categories[name] / step_ms:>6.1f}%")
    print(f"PROFILE   {'outside ops':<16} {step_ms - in_ops:>9.2f}  {100 * (step_ms - in_ops) / step_ms:>6.1f}%"
          "  (wall time outside any recorded op: Python, glue, waits)", flush=True)


def train(args):
    rss_start = max_rss_mb()
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM  # noqa: F401 -- loaded before rss_after_import, as before

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rss_after_import = max_rss_mb()
    samples = load_samples(args, "train")
    total = args.warmup + args.steps

    model = build_model(args)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = build_optimizer(args, model.parameters())
    supervised = args.batch * (args.seq_len - 1)
    print(json.dumps({"side": "hf", "threads": torch.get_num_threads(), "params": n_params,
                      "attn": model.config._attn_implementation, "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__, "rss_after_import_mb": rss_after_import,
                      "rss_at_start_mb": rss_start}), flush=True)

    rates = []
    profiler, profiled_s = None, 0.0
    for step in range(total):
        if args.profile_steps and step == 1:  # steps 2..N+1, as `ctxext train --profile-steps N`
            profiler = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            profiler.__enter__()
        t0 = time.perf_counter()
        batch = torch.tensor(samples[step * args.batch:(step + 1) * args.batch], dtype=torch.long)
        optimizer.zero_grad(set_to_none=True)
        out = model(input_ids=batch, labels=batch, use_cache=False)
        out.loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        loss = out.loss.item()
        seconds = time.perf_counter() - t0
        if profiler is not None:
            profiled_s += seconds
            if step == args.profile_steps:
                profiler.__exit__(None, None, None)
                print_profile(profiler, args.profile_steps, profiled_s * 1e3)
                profiler = None
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


def ddp(args):
    rss_start = max_rss_mb()
    import datetime

    import torch
    from transformers import LlamaConfig, LlamaForCausalLM  # noqa: F401 -- loaded before rss_after_import
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rss_after_import = max_rss_mb()
    if "WORLD_SIZE" not in os.environ:  # alone, without a launcher: a world of one
        os.environ.update(RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1", MASTER_PORT=str(args.port))
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=args.timeout))
    rank, world = dist.get_rank(), dist.get_world_size()
    micro = args.micro or args.batch // world
    if args.batch % (micro * world) != 0:
        sys.exit(f"ddp: global batch {args.batch} is not a multiple of micro {micro} x world {world}")
    per_rank = args.batch // world
    accumulation = per_rank // micro
    samples = load_samples(args, "ddp")
    total = args.warmup + args.steps

    model = DistributedDataParallel(build_model(args))  # CPU: no device_ids; default 25 MB buckets
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = build_optimizer(args, model.parameters())
    supervised_local = per_rank * (args.seq_len - 1)
    if rank == 0:
        print(json.dumps({"side": "ddp", "world": world, "threads": torch.get_num_threads(), "params": n_params,
                          "micro": micro, "accumulation": accumulation, "bucket_cap_mb": 25,
                          "attn": model.module.config._attn_implementation,
                          "transformers": __import__("transformers").__version__, "torch": torch.__version__,
                          "rss_after_import_mb": rss_after_import, "rss_at_start_mb": rss_start}), flush=True)

    rates = []
    for step in range(total):
        t0 = time.perf_counter()
        first = step * args.batch + rank * per_rank
        batches = [torch.tensor(samples[first + m * micro:first + (m + 1) * micro], dtype=torch.long)
                   for m in range(accumulation)]
        optimizer.zero_grad(set_to_none=True)
        loss_sum = 0.0
        for m, batch in enumerate(batches):
            last = m == accumulation - 1
            with contextlib.nullcontext() if last else model.no_sync():
                out = model(input_ids=batch, labels=batch, use_cache=False)
                (out.loss / accumulation).backward()
            loss_sum += out.loss.item() * micro * (args.seq_len - 1)
        totals = torch.tensor([loss_sum, float(supervised_local)], dtype=torch.float64)
        dist.all_reduce(totals)
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        optimizer.step()
        seconds = time.perf_counter() - t0
        supervised = int(totals[1].item())
        rate = supervised / seconds
        if step >= args.warmup:
            rates.append(rate)
        if rank == 0:
            print(json.dumps({"step": step + 1, "loss": float(totals[0] / totals[1]), "grad_norm": float(grad_norm),
                              "tokens": supervised, "seconds": seconds, "tokens_per_s": rate,
                              "warmup": step < args.warmup, "max_rss_mb": max_rss_mb()}), flush=True)
    print("RANK_RSS " + json.dumps({"rank": rank, "max_rss_mb": max_rss_mb()}), flush=True)
    if rank == 0:
        print("SUMMARY " + json.dumps({"side": "ddp", "world": world, "median_tokens_per_s": statistics.median(rates),
                                       "min_tokens_per_s": min(rates), "max_tokens_per_s": max(rates),
                                       "timed_steps": len(rates), "tokens_per_step": supervised,
                                       "max_rss_mb": max_rss_mb()}), flush=True)
    dist.destroy_process_group()


def add_model_args(t):
    """The model, optimizer and schedule flags `train` and `ddp` share (defaults: the tiny preset and
    bench_train_cpu.sh's AdamW settings)."""
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
    add_model_args(t)
    t.add_argument("--profile-steps", type=int, default=0,
                   help="profile steps 2..N+1 with torch.profiler and print the op table (PROFILE lines)")
    d = sub.add_parser("ddp")
    add_model_args(d)
    d.add_argument("--micro", type=int, default=0, help="micro-batch size per rank (default: batch / world)")
    d.add_argument("--timeout", type=int, default=300, help="process-group timeout in seconds")
    d.add_argument("--port", type=int, default=29533, help="MASTER_PORT when run without a launcher")
    args = parser.parse_args()
    {"prepare": prepare, "train": train, "ddp": ddp}[args.cmd](args)


if __name__ == "__main__":
    main()
