#!/usr/bin/env python3
"""CPU micro-benchmark of the fused `ctxext::rms_norm` op against the unfused LibTorch composition
(HF LlamaRMSNorm: weight * (x32 * rsqrt(x32.pow(2).mean(-1) + eps)).to(x.dtype)), validating each
before timing it.

  .venv/bin/python scripts/bench_rms_norm_cpu.py [--rows 16384 --hidden 4096 --threads 2 --reps 5]

Bytes counted are the minimum an op must move (weight and the per-row statistic are negligible):
  forward          2 tensors of x's size (read x; write y)
  forward+backward 5 tensors (forward + read grad_y, x; write grad_x), through autograd for both
The unfused composition moves more (x32, x32^2, the normalised row and its cast are temporaries),
so its "GB/s" is the same useful traffic divided by its time, i.e. directly comparable. The copy
bandwidth is dst.copy_(src) of a 2 GiB buffer, counted as read + write.
"""
import argparse
import time

import torch

EPS = 1e-5


def best_time(fn, reps):
    fn()  # warm-up (page faults, thread pool)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rel_err(a, b):
    a64, b64 = a.double(), b.double()
    scale = max(1.0, b64.abs().max().item())
    err = (a64 - b64).abs().max().item()  # NaN anywhere -> NaN -> fails the comparison below
    return err / scale


def composition(x, w):
    x32 = x.to(torch.float32)
    var = x32.pow(2).mean(-1, keepdim=True)
    return w * (x32 * torch.rsqrt(var + EPS)).to(x.dtype)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--hidden", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--lib", default="build/libctxext_ops.so")
    args = ap.parse_args()

    torch.ops.load_library(args.lib)
    torch.set_num_threads(args.threads)
    fused = torch.ops.ctxext.rms_norm
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, shape [{args.rows}, {args.hidden}]")

    src = torch.ones(2**29, dtype=torch.float32)  # 2 GiB
    dst = torch.empty_like(src)
    t = best_time(lambda: dst.copy_(src), args.reps)
    copy_gbs = 2 * src.numel() * 4 / t / 1e9
    assert torch.equal(dst, src)
    del src, dst
    print(f"copy: {copy_gbs:.1f} GB/s (read + write)")

    print("| dtype | pass | fused ms | fused GB/s | fused / copy | unfused ms | unfused GB/s | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 1e-2)):
        torch.manual_seed(0)
        x = (torch.randn(args.rows, args.hidden) * 2).to(dtype)
        w = (1 + 0.5 * torch.randn(args.hidden)).to(dtype)
        gy = torch.randn(args.rows, args.hidden).to(dtype)
        nbytes = x.numel() * x.element_size()

        # --- validate: fused vs the composition, forward and both gradients ---
        def fwd_bwd(f):
            xr = x.clone().requires_grad_(True)
            wr = w.clone().requires_grad_(True)
            y = f(xr, wr)
            y.backward(gy)
            return y.detach(), xr.grad, wr.grad

        got, ref = fwd_bwd(fused_fn(fused)), fwd_bwd(composition)
        for name, a, b in zip(("y", "grad_x", "grad_weight"), got, ref):
            e = rel_err(a, b)
            assert e <= tol, f"{dtype} {name}: relative error {e} > {tol}"
        print(f"<!-- validated {dtype}: y, grad_x, grad_weight within {tol} of the composition -->")

        # A fresh output pays its page faults on first touch (glibc returns >32 MiB blocks to the OS
        # on free, so every call's output is new memory); both variants pay this per output.
        warm = torch.empty_like(x)
        t_warm = best_time(lambda: warm.fill_(1), args.reps)
        t_fresh = best_time(lambda: torch.empty_like(x).fill_(1), args.reps)
        print(f"<!-- {dtype}: fill of a reused [{args.rows}, {args.hidden}] tensor {t_warm * 1e3:.1f} ms, "
              f"of a fresh one {t_fresh * 1e3:.1f} ms (first-touch cost {(t_fresh - t_warm) * 1e3:.1f} ms per output) -->")
        del warm

        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def timed_fwd(f):
            def run():
                with torch.no_grad():
                    f(x, w)
            return run

        def timed_fwd_bwd(f):
            def run():
                xg.grad = None
                wg.grad = None
                f(xg, wg).backward(gy)
            return run

        for label, tensors, make in (("forward", 2, timed_fwd), ("fwd+bwd", 5, timed_fwd_bwd)):
            tf = best_time(make(fused_fn(fused)), args.reps)
            tu = best_time(make(composition), args.reps)
            gbs_f = tensors * nbytes / tf / 1e9
            gbs_u = tensors * nbytes / tu / 1e9
            print(f"| {str(dtype).replace('torch.', '')} | {label} | {tf * 1e3:.1f} | {gbs_f:.1f} | "
                  f"{gbs_f / copy_gbs:.2f} | {tu * 1e3:.1f} | {gbs_u:.1f} | {tu / tf:.2f}x |")


def fused_fn(op):
    return lambda x, w: op(x, w, EPS)


if __name__ == "__main__":
    main()
