#!/usr/bin/env python3
"""CPU micro-benchmark of the fused `ctxext::swiglu` op against the unfused LibTorch composition
torch.silu(gate) * up, validating every variant against the other before timing it.

  .venv/bin/python scripts/bench_swiglu_cpu.py [--rows 16384 --cols 11008 --threads 2 --reps 5]

Bytes counted are the minimum an op must move (each input read once, each output written once):
  forward          3 tensors (read gate, up; write out)
  forward+backward 8 tensors (forward + read grad_out, gate, up; write grad_gate, grad_up)
The unfused composition moves more (silu writes and re-reads a temporary), so its "GB/s" is the
same useful traffic divided by its time, i.e. directly comparable. The copy bandwidth is
dst.copy_(src) of a 2 GiB buffer, counted as read + write, into a dst that is already mapped.
Every op call allocates its outputs (glibc mmap for tensors this size), so each call pays first-
touch page faults on its outputs; the "alloc + first touch" row times that cost for one output.
"""
import argparse
import time

import torch


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=16384)
    ap.add_argument("--cols", type=int, default=11008)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--lib", default="build/libctxext_ops.so")
    args = ap.parse_args()

    torch.ops.load_library(args.lib)
    torch.set_num_threads(args.threads)
    swiglu = torch.ops.ctxext.swiglu
    swiglu_backward = torch.ops.ctxext.swiglu_backward
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, shape [{args.rows}, {args.cols}]")

    # Copy bandwidth of this machine with the same thread count.
    src = torch.ones(2**29, dtype=torch.float32)  # 2 GiB
    dst = torch.empty_like(src)
    t = best_time(lambda: dst.copy_(src), args.reps)
    copy_gbs = 2 * src.numel() * 4 / t / 1e9
    assert torch.equal(dst, src)
    del src, dst
    print(f"copy: {copy_gbs:.1f} GB/s (read + write)")

    rows = []
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 1e-2)):
        torch.manual_seed(0)
        g = (torch.randn(args.rows, args.cols) * 3).to(dtype)
        u = torch.randn(args.rows, args.cols).to(dtype)
        go = torch.randn(args.rows, args.cols).to(dtype)
        es = g.element_size()
        n = g.numel()

        # --- validate: fused vs the composition (and NaN-poisoned outputs never pass) ---
        out = swiglu(g, u)
        ref = torch.nn.functional.silu(g) * u
        e = rel_err(out, ref)
        assert e <= tol, f"{dtype} forward: relative error {e} > {tol}"
        gg, gu = swiglu_backward(go, g, u)
        gr = g.clone().requires_grad_(True)
        ur = u.clone().requires_grad_(True)
        (torch.nn.functional.silu(gr) * ur).backward(go)
        eg, eu = rel_err(gg, gr.grad), rel_err(gu, ur.grad)
        assert eg <= tol and eu <= tol, f"{dtype} backward: relative errors {eg}, {eu} > {tol}"
        # Autograd path of the fused op gives the same gradients as the backward op.
        gf = g.clone().requires_grad_(True)
        uf = u.clone().requires_grad_(True)
        swiglu(gf, uf).backward(go)
        assert torch.equal(gf.grad, gg) and torch.equal(uf.grad, gu)
        print(f"{dtype}: validated (forward rel err {e:.2e}, grad_gate {eg:.2e}, grad_up {eu:.2e})")
        del out, ref, gg, gu, gr, ur, gf, uf

        # --- time ---
        def fused_fwd():
            swiglu(g, u)

        def unfused_fwd():
            torch.nn.functional.silu(g) * u

        gA = g.clone().requires_grad_(True)
        uA = u.clone().requires_grad_(True)

        def fused_fwd_bwd():
            gA.grad = None
            uA.grad = None
            swiglu(gA, uA).backward(go)

        def unfused_fwd_bwd():
            gA.grad = None
            uA.grad = None
            (torch.nn.functional.silu(gA) * uA).backward(go)

        def alloc_touch():
            torch.empty_like(g).fill_(0)

        for name, fn, tensors in (
            ("alloc + first touch of 1 output", alloc_touch, 1),
            ("forward, fused", fused_fwd, 3),
            ("forward, unfused", unfused_fwd, 3),
            ("forward+backward, fused", fused_fwd_bwd, 8),
            ("forward+backward, unfused", unfused_fwd_bwd, 8),
        ):
            t = best_time(fn, args.reps)
            gbs = tensors * n * es / t / 1e9
            rows.append((str(dtype).replace("torch.", ""), name, t * 1e3, gbs, gbs / copy_gbs))
            print(f"  {name:28s} {t * 1e3:8.2f} ms  {gbs:6.1f} GB/s  {gbs / copy_gbs:5.0%} of copy")
        del g, u, go, gA, uA

    print()
    print(f"| dtype | variant | ms | GB/s (useful) | of copy ({copy_gbs:.1f} GB/s) |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.1f} | {r[4]:.0%} |")


if __name__ == "__main__":
    main()
