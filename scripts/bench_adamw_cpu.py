#!/usr/bin/env python3
"""CPU AdamW step: LibTorch's fused kernel (`torch._fused_adamw_`, what the trainer calls, through
train/fused_adamw.cpp) against the op-by-op step of LibTorch's C++ `torch::optim::AdamW` (what the
trainer used before), same inputs, validated before timed, then timed side by side in one run.

  .venv/bin/python scripts/bench_adamw_cpu.py [--numel 67108864 --threads 1,2 --reps 5 --steps 10]

The op-by-op step is torch::optim::AdamW::step (torch/csrc/api/src/optim/adamw.cpp) written with the
same ATen calls and the same double scalars, so it runs the same kernels as the C++ class:
  p.mul_(1 - lr*wd); m.mul_(b1).add_(g, 1-b1); v.mul_(b2).addcmul_(g, g, 1-b2);
  denom = (v.sqrt() / sqrt(1 - b2^t)).add_(eps); p.addcdiv_(m, denom, -lr / (1 - b1^t))
The fused kernel does the same in one pass, except that it forms the first moment as
m + (1-b1)*(g - m) with one fused multiply-add (exp_avg.lerp_, as torch.optim.AdamW) instead of
m*b1 + (1-b1)*g: the two differ by rounding only (reported below in ulps).

Bytes: the minimum one step must move, 28 per parameter (read p, g, m, v; write p, m, v), counted the
same for both variants so their GB/s compare directly; the op-by-op step really moves ~92 B/param
(9 passes, two of them into fresh [numel] temporaries). Ceilings, 2 GiB fp32 at the same thread
count: copy, dst.copy_(src) counted as read + write (8 B/element; the cache's write-allocate reads dst
too, so the memory really moves ~12 B/element and this figure understates the bus); read, src.sum()
(4 B/element). AdamW's 28 bytes are 16 read + 12 written to lines it has just read (no extra
write-allocate), so it can beat the copy figure.
"""
import argparse
import math
import os
import time

import torch

LR, B1, B2, EPS, WD = 1e-3, 0.9, 0.95, 1e-8, 0.1


def libtorch_step(p, g, m, v, t):
    # torch::optim::AdamW::step for one tensor (the trainer's optimizer before train/fused_adamw.cpp).
    p.mul_(1 - LR * WD)
    bc1, bc2 = 1 - B1 ** t, 1 - B2 ** t
    m.mul_(B1).add_(g, alpha=1 - B1)
    v.mul_(B2).addcmul_(g, g, value=1 - B2)
    denom = (v.sqrt() / math.sqrt(bc2)).add_(EPS)
    p.addcdiv_(m, denom, value=-LR / bc1)


def fused_step(ps, gs, ms, vs, t):
    steps = [torch.tensor(float(t)) for _ in ps]
    torch._fused_adamw_(ps, gs, ms, vs, [], steps, lr=LR, beta1=B1, beta2=B2, weight_decay=WD, eps=EPS,
                        amsgrad=False, maximize=False)


def compare(name, x, y):
    # The largest difference in ulps of the tensor's largest magnitude (float32 spacing there), and
    # relative to it; the share of elements that differ at all.
    diff = (x.double() - y.double()).abs()
    big = x.abs().max()
    spacing = (torch.nextafter(big, torch.tensor(math.inf)) - big).item()
    rel = (diff.max() / big.double()).item()
    print(f"  {name}: {(diff > 0).double().mean().item() * 100:.1f}% of elements differ; max |diff| = "
          f"{diff.max().item() / spacing:.2f} ulp of max |x| ({rel:.2e} of it)")
    return rel


def state(n, seed):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, generator=gen) * 0.02, torch.zeros(n), torch.zeros(n)]


def grads(n, steps, seed):
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(n, generator=gen) * 1e-3 for _ in range(steps)]


def validate(n, steps):
    """Both variants over `steps` steps from the same state and gradients: their difference in ulps;
    and the fused kernel on one flat tensor vs on odd-sized pieces of it (a flat shard vs the same
    parameters stepped one by one)."""
    gs = grads(n, steps, 1)
    a, b = state(n, 0), state(n, 0)
    for t, g in enumerate(gs, 1):
        libtorch_step(a[0], g, a[1], a[2], t)
        fused_step([b[0]], [g], [b[1]], [b[2]], t)
    print(f"  fused vs op by op after {steps} steps:")
    for name, x, y in zip(("param", "exp_avg", "exp_avg_sq"), a, b):
        assert compare(name, x, y) <= 1e-6, f"{name}: fused and op-by-op AdamW disagree beyond rounding"
    sizes = [1, 15, 17, 1000, 4097, 31, n - 1 - 15 - 17 - 1000 - 4097 - 31]
    flat, pieces = state(n, 2), [list(s) for s in zip(*(t.split(sizes) for t in state(n, 2)))]
    for t, g in enumerate(gs, 1):
        fused_step([flat[0]], [g], [flat[1]], [flat[2]], t)
        gp = list(g.split(sizes))
        fused_step([p[0] for p in pieces], gp, [p[1] for p in pieces], [p[2] for p in pieces], t)
    # The kernel runs each tensor's last numel % (vector width) elements through a scalar loop that
    # rounds differently: the same elements stepped as one flat tensor or as pieces can differ.
    print(f"  fused on one flat tensor vs on pieces of sizes {sizes[:6]}...:")
    for k, name in enumerate(("param", "exp_avg", "exp_avg_sq")):
        assert compare(name, flat[k], torch.cat([p[k] for p in pieces])) <= 1e-6, f"{name}: layouts disagree"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--numel", type=int, default=1 << 26)  # FlatShard::kStepChunk, 67.1M fp32 parameters
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10, help="steps of the ulp comparison")
    args = ap.parse_args()
    n = args.numel
    print(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()}), {n:,} fp32 parameters "
          f"({n * 4 / 2**20:.0f} MiB per tensor), load average {os.getloadavg()[0]:.2f} at start")
    print(f"validate ({args.steps} steps, 1M-element copy of the shapes):")
    validate(min(n, 1 << 20), args.steps)

    a, b = state(n, 0), state(n, 0)
    g = grads(n, 1, 1)[0]
    src, dst = torch.randn(1 << 29), torch.empty(1 << 29)
    print("| threads | variant | best ms | median ms | GB/s (28 B/param) | of copy |")
    print("|---:|---|---:|---:|---:|---:|")
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        dst.copy_(src)
        copy = min(timed(lambda: dst.copy_(src)) for _ in range(args.reps))
        copy_gbs = 2 * src.numel() * 4 / copy / 1e9
        read = min(timed(lambda: src.sum()) for _ in range(args.reps))
        read_gbs = src.numel() * 4 / read / 1e9
        lt, ft = [], []
        t = 0
        libtorch_step(a[0], g, a[1], a[2], 1)  # warm-up: first touch of the temporaries' pages, thread pool
        fused_step([b[0]], [g], [b[1]], [b[2]], 1)
        for _ in range(args.reps):  # alternating, so load changes hit both alike
            t += 1
            lt.append(timed(lambda: libtorch_step(a[0], g, a[1], a[2], t + 1)))
            ft.append(timed(lambda: fused_step([b[0]], [g], [b[1]], [b[2]], t + 1)))
        for name, ts in (("op by op (torch::optim::AdamW)", lt), ("fused (at::_fused_adamw_)", ft)):
            best, med = min(ts), sorted(ts)[len(ts) // 2]
            gbs = 28 * n / best / 1e9
            print(f"| {threads} | {name} | {best * 1e3:.1f} | {med * 1e3:.1f} | {gbs:.1f} | {gbs / copy_gbs:.2f} |")
        print(f"| {threads} | copy ceiling (dst.copy_(src), 2 GiB, read + write) | {copy * 1e3:.1f} | | {copy_gbs:.1f} | 1.00 |")
        print(f"| {threads} | read ceiling (src.sum(), 2 GiB) | {read * 1e3:.1f} | | {read_gbs:.1f} | {read_gbs / copy_gbs:.2f} |")
        print(f"| {threads} | **fused speed-up** | {min(lt) / min(ft):.2f}x | | | |")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
