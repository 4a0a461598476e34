#!/usr/bin/env python3
"""GPU micro-benchmarks of the fused ops (csrc_cuda/), run by scripts/gpu_check.sh on the GPU machine.

  python3 scripts/bench_kernels_gpu.py [--lib build/libctxext_ops.so] [--tokens 16384] [--reps 20]
                                       [--device cuda] [--json OUT.jsonl]

First the machine's two ceilings, measured in this run: a device-to-device copy (bytes read + bytes
written over time) and an 8192^3 bf16 matrix product on random data. Then each op, validated before it
is timed (fresh random inputs; ||out - ref|| / ||ref|| against a float64 reference; NaN fails):
  rope_qk      q, k [1, T, 32, 128] bf16 (LLaMA-2-7B heads), forward; bytes = q, k read + written
  rms_norm     x [T, 4096] bf16, forward + backward (weight gradient too)
  swiglu       gate, up [T, 11008] bf16, forward + backward
  linear_ce    hidden [T, 4096] x LM head [32000, 4096] bf16, loss forward + backward; FLOPs = 6 n v h
each against the plain LibTorch composition of the same op (what the model would run without it), same
inputs, same timing: CUDA events around one call, median of --reps after 3 warm-ups. Bandwidth-bound ops
report GB/s (the bytes they must move at least, each tensor read or written once) and the fraction of
the measured copy ceiling; the fused loss reports TFLOP/s and the fraction of the matmul ceiling.
--device cpu runs the same validation on the CPU (a smoke test of this script; timings meaningless).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def timer(dev, fn, reps):
    """Median seconds of fn() over reps calls after 3 warm-ups (CUDA events on a GPU)."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(reps):
        if dev.type == "cuda":
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b) / 1e3)
        else:
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def rel_err(out, ref):
    out, ref = out.double().cpu(), ref.double().cpu()
    if not torch.isfinite(out).all():
        return float("nan")
    return ((out - ref).norm() / ref.norm().clamp_min(1e-300)).item()


def ceilings(dev, reps):
    n = 1 << 30  # 1 GiB of bytes per copy: far beyond the 60 MB L2
    src = torch.randint(0, 255, (n,), dtype=torch.uint8, device=dev)
    dst = torch.empty_like(src)
    copy_s = timer(dev, lambda: dst.copy_(src), reps)
    m = 8192 if dev.type == "cuda" else 1024
    a = torch.randn(m, m, device=dev, dtype=torch.bfloat16)
    b = torch.randn(m, m, device=dev, dtype=torch.bfloat16)
    mm_s = timer(dev, lambda: a @ b, reps)
    return {"copy_GBps": 2 * n / copy_s / 1e9, "bf16_mm_TFLOPs": 2 * m**3 / mm_s / 1e12, "mm_size": m}


def rope_tables(t, d, dev, base=10000.0):
    inv = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float64) / d)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None, :]
    return ang.cos().float().to(dev), ang.sin().float().to(dev)


def rope_ref(x, cos, sin):
    """HF rotate_half form: x * [cos, cos] + rotate_half(x) * [sin, sin], in x's dtype (the composition)."""
    c = torch.cat([cos, cos], -1)[None, :, None, :].to(x.dtype)
    s = torch.cat([sin, sin], -1)[None, :, None, :].to(x.dtype)
    h = x.shape[-1] // 2
    rot = torch.cat([-x[..., h:], x[..., :h]], -1)
    return x * c + rot * s


def bench_rope(dev, t, reps):
    q = torch.randn(1, t, 32, 128, device=dev, dtype=torch.bfloat16)
    k = torch.randn(1, t, 32, 128, device=dev, dtype=torch.bfloat16)
    cos, sin = rope_tables(t, 128, dev)
    fused = lambda: torch.ops.ctxext.rope_qk(q, k, cos, sin, None, False, False)
    plain = lambda: (rope_ref(q, cos, sin), rope_ref(k, cos, sin))
    qo, ko = fused()
    err = max(rel_err(qo, rope_ref(q.double(), cos.double(), sin.double())),
              rel_err(ko, rope_ref(k.double(), cos.double(), sin.double())))
    nbytes = 2 * 2 * q.numel() * q.element_size() + 2 * cos.numel() * 4
    return {"op": "rope_qk fwd", "shape": f"q,k [1,{t},32,128] bf16", "rel_err": err, "bytes": nbytes,
            "fused_s": timer(dev, fused, reps), "plain_s": timer(dev, plain, reps)}


def bench_rms_norm(dev, t, reps, eps=1e-5):
    x = torch.randn(t, 4096, device=dev, dtype=torch.bfloat16, requires_grad=True)
    w = (1 + 0.1 * torch.randn(4096, device=dev)).to(torch.bfloat16).requires_grad_()
    gy = torch.randn(t, 4096, device=dev, dtype=torch.bfloat16)

    def plain_fn(x, w):  # LLaMA's RMSNorm: float32 statistics, weight applied in the input dtype
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)

    def run(f):
        y = f(x, w)
        return torch.autograd.grad(y, (x, w), gy)

    fused = lambda: run(lambda a, b: torch.ops.ctxext.rms_norm(a, b, eps))
    plain = lambda: run(plain_fn)
    gx, gw = fused()
    xd, wd = x.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    rx, rw = torch.autograd.grad(plain_fn(xd, wd), (xd, wd), gy.double())
    err = max(rel_err(gx, rx), rel_err(gw, rw),
              rel_err(torch.ops.ctxext.rms_norm(x.detach(), w.detach(), eps), plain_fn(xd.detach(), wd.detach())))
    # The least it must move: forward reads x, w and writes y; backward reads x, gy, w and writes gx, gw.
    nbytes = (5 * x.numel() + 3 * w.numel()) * x.element_size()
    return {"op": "rms_norm fwd+bwd", "shape": f"[{t},4096] bf16", "rel_err": err, "bytes": nbytes,
            "fused_s": timer(dev, fused, reps), "plain_s": timer(dev, plain, reps)}


def bench_swiglu(dev, t, reps):
    g = torch.randn(t, 11008, device=dev, dtype=torch.bfloat16, requires_grad=True)
    u = torch.randn(t, 11008, device=dev, dtype=torch.bfloat16, requires_grad=True)
    gy = torch.randn(t, 11008, device=dev, dtype=torch.bfloat16)

    def run(f):
        return torch.autograd.grad(f(g, u), (g, u), gy)

    fused = lambda: run(torch.ops.ctxext.swiglu)
    plain = lambda: run(lambda a, b: F.silu(a) * b)
    gg, gu = fused()
    gd, ud = g.detach().double().requires_grad_(), u.detach().double().requires_grad_()
    rg, ru = torch.autograd.grad(F.silu(gd) * ud, (gd, ud), gy.double())
    err = max(rel_err(gg, rg), rel_err(gu, ru),
              rel_err(torch.ops.ctxext.swiglu(g.detach(), u.detach()), F.silu(gd.detach()) * ud.detach()))
    e = g.element_size()
    nbytes = 3 * g.numel() * e + 5 * g.numel() * e  # fwd: gate, up in, y out; bwd: gy, gate, up in, 2 grads out
    return {"op": "swiglu fwd+bwd", "shape": f"[{t},11008] bf16", "rel_err": err, "bytes": nbytes,
            "fused_s": timer(dev, fused, reps), "plain_s": timer(dev, plain, reps)}


def bench_linear_ce(dev, t, reps, vocab=32000, hidden=4096, chunk=4096):
    h = (0.5 * torch.randn(t, hidden, device=dev)).to(torch.bfloat16).requires_grad_()
    w = (0.02 * torch.randn(vocab, hidden, device=dev)).to(torch.bfloat16).requires_grad_()
    y = torch.randint(0, vocab, (t,), device=dev)
    y[:: 7] = -100  # some ignored targets, as a chat template's prompt tokens

    def run(f):
        loss = f(h, w)
        return torch.autograd.grad(loss, (h, w))

    fused_fn = lambda a, b: torch.ops.ctxext.linear_cross_entropy(a, b, y, -100, chunk, "sum")
    plain_fn = lambda a, b: F.cross_entropy(F.linear(a, b).float(), y, ignore_index=-100, reduction="sum")
    fused = lambda: run(fused_fn)
    plain = lambda: run(plain_fn)
    gh, gw = fused()
    hd, wd = h.detach().double().requires_grad_(), w.detach().double().requires_grad_()
    rl = F.cross_entropy(F.linear(hd, wd), y, ignore_index=-100, reduction="sum")
    rh, rw = torch.autograd.grad(rl, (hd, wd))
    err = max(rel_err(gh, rh), rel_err(gw, rw), rel_err(fused_fn(h.detach(), w.detach()), rl.detach()))
    return {"op": "linear_ce fwd+bwd", "shape": f"[{t},{hidden}]x[{vocab},{hidden}] bf16, chunk {chunk}",
            "rel_err": err, "flops": 6 * t * vocab * hidden,
            "fused_s": timer(dev, fused, reps), "plain_s": timer(dev, plain, reps)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", default="build/libctxext_ops.so")
    ap.add_argument("--tokens", type=int, default=16384)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--json", help="append one JSON line per row to this file")
    args = ap.parse_args()
    if not os.path.exists(args.lib):
        sys.exit(f"bench_kernels_gpu: {args.lib}: no such library (build first)")
    torch.ops.load_library(args.lib)
    dev = torch.device(args.device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_kernels_gpu: --device cuda but torch sees no GPU")
    torch.manual_seed(0)
    name = torch.cuda.get_device_name() if dev.type == "cuda" else "cpu"
    ceil = ceilings(dev, args.reps)
    print(f"bench_kernels_gpu: {name}, torch {torch.__version__}, {time.strftime('%Y-%m-%d', time.gmtime())}; "
          f"ceilings measured now: copy {ceil['copy_GBps']:.0f} GB/s, bf16 matmul {ceil['bf16_mm_TFLOPs']:.0f} TFLOP/s "
          f"({ceil['mm_size']}^3, random data)")
    rows = []
    for bench in (bench_rope, bench_rms_norm, bench_swiglu, bench_linear_ce):
        try:
            rows.append(bench(dev, args.tokens, args.reps))
        except Exception as e:  # one broken op must not hide the others' numbers
            rows.append({"op": bench.__name__, "error": f"{type(e).__name__}: {e}"})
            print(f"bench_kernels_gpu: {bench.__name__} failed: {type(e).__name__}: {e}", file=sys.stderr)
    fmt = "{:<18} {:<38} {:>9} {:>10} {:>10} {:>16} {:>8}"
    print(fmt.format("op", "shape", "rel_err", "fused_ms", "plain_ms", "fused rate", "speedup"))
    for r in rows:
        if "error" in r:
            print(f"{r['op']:<18} FAILED: {r['error']}")
            continue
        if "bytes" in r:
            gbs = r["bytes"] / r["fused_s"] / 1e9
            rate = f"{gbs:.0f} GB/s {gbs / ceil['copy_GBps']:.0%}"
            r.update(fused_GBps=gbs, frac_copy_ceiling=gbs / ceil["copy_GBps"])
        else:
            tf = r["flops"] / r["fused_s"] / 1e12
            rate = f"{tf:.0f} TF/s {tf / ceil['bf16_mm_TFLOPs']:.0%}"
            r.update(fused_TFLOPs=tf, frac_mm_ceiling=tf / ceil["bf16_mm_TFLOPs"])
        ok = r["rel_err"] == r["rel_err"] and r["rel_err"] < 1e-2  # bf16 operands: 1e-3..1e-2
        print(fmt.format(r["op"], r["shape"], f"{r['rel_err']:.1e}" + ("" if ok else "!"), f"{r['fused_s'] * 1e3:.3f}",
                         f"{r['plain_s'] * 1e3:.3f}", rate, f"{r['plain_s'] / r['fused_s']:.2f}x"))
    if args.json:
        with open(args.json, "a") as f:
            f.write(json.dumps({"device": name, "ceilings": ceil}) + "\n")
            for r in rows:
                f.write(json.dumps(r) + "\n")
    bad = [r["op"] for r in rows if "error" in r or not (r["rel_err"] < 1e-2)]
    if bad:
        sys.exit(f"bench_kernels_gpu: validation failed for {', '.join(bad)}")


if __name__ == "__main__":
    main()
