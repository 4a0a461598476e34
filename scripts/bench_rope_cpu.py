#!/usr/bin/env python3
"""CPU micro-benchmark of the fused `ctxext::rope_qk` op (q and k in one parallel loop) against two
`ctxext::rope` calls, the in-place `ctxext::rope_qk_`, and the plain LibTorch composition (HF
apply_rotary_pos_emb: q*cos + rotate_half(q)*sin, times the EABF query scale), validating each
before timing it.

  .venv/bin/python scripts/bench_rope_cpu.py [--b 1 --s 4096 --nq 32 --nkv 8 --d 128 --threads 2 --reps 5]

Bytes counted are the minimum the rotation must move: read q and k, write q_rot and k_rot (the
cos/sin tables, [s, d/2] float32, are read once per token and counted too). The composition moves
more (rotate_half's cat, the products and their sum are temporaries), so its "GB/s" is the same
useful traffic divided by its time, directly comparable. Forward only, under torch.no_grad().
"""
import argparse
import os

import torch

from bench_rms_norm_cpu import best_time, rel_err  # best of reps after one warm-up; relative max error


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def composition(q, k, cos, sin, scale):
    # HF layout: cos/sin [s, d] (the halves repeated), broadcast over [b, s, n, d]; float32 math.
    c = torch.cat((cos, cos), -1)[None, :, None, :]
    s = torch.cat((sin, sin), -1)[None, :, None, :]
    q32, k32 = q.float(), k.float()
    q_rot = ((q32 * c + rotate_half(q32) * s) * scale[None, :, None, None]).to(q.dtype)
    k_rot = (k32 * c + rotate_half(k32) * s).to(k.dtype)
    return q_rot, k_rot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--b", type=int, default=1)
    ap.add_argument("--s", type=int, default=4096)
    ap.add_argument("--nq", type=int, default=32)
    ap.add_argument("--nkv", type=int, default=8)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--lib", default="build/libctxext_ops.so")
    args = ap.parse_args()

    torch.ops.load_library(args.lib)
    torch.set_num_threads(args.threads)
    ops = torch.ops.ctxext
    load = os.getloadavg()[0]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, q [{args.b}, {args.s}, {args.nq}, {args.d}], "
          f"k [{args.b}, {args.s}, {args.nkv}, {args.d}], load average {load:.2f} at start")

    torch.manual_seed(0)
    angles = torch.rand(args.s, args.d // 2, dtype=torch.float64) * 100
    cos, sin = angles.cos().float(), angles.sin().float()
    scale = (1 + torch.rand(args.s)).float()

    print("| dtype | variant | ms | GB/s | vs composition |")
    print("|---|---|---|---|---|")
    for dtype, tol in ((torch.float32, 1e-5), (torch.bfloat16, 1e-2)):
        q = torch.randn(args.b, args.s, args.nq, args.d).to(dtype)
        k = torch.randn(args.b, args.s, args.nkv, args.d).to(dtype)
        nbytes = 2 * (q.numel() + k.numel()) * q.element_size() + 2 * cos.numel() * 4

        # --- validate: fused == two calls bitwise; in place == fused; all vs the composition ---
        fq, fk = ops.rope_qk(q, k, cos, sin, scale, False, False)
        tq = ops.rope(q, cos, sin, scale, False, False)
        tk = ops.rope(k, cos, sin, None, False, False)
        assert torch.equal(fq, tq) and torch.equal(fk, tk), f"{dtype}: rope_qk differs from two rope calls"
        iq, ik = q.clone(), k.clone()
        ops.rope_qk_(iq, ik, cos, sin, scale, False)
        assert torch.equal(iq, fq) and torch.equal(ik, fk), f"{dtype}: rope_qk_ differs from rope_qk"
        cq, ck = composition(q, k, cos, sin, scale)
        for name, a, b in (("q", fq, cq), ("k", fk, ck)):
            e = rel_err(a, b)
            assert e <= tol, f"{dtype} {name}: relative error {e} > {tol}"
        print(f"<!-- validated {dtype}: rope_qk == two rope calls == rope_qk_ (bitwise), within {tol} of the composition -->")

        variants = (
            ("composition", lambda: composition(q, k, cos, sin, scale)),
            ("two rope calls", lambda: (ops.rope(q, cos, sin, scale, False, False), ops.rope(k, cos, sin, None, False, False))),
            ("rope_qk", lambda: ops.rope_qk(q, k, cos, sin, scale, False, False)),
            # Rotating the same buffers again each rep: same traffic, no allocation.
            ("rope_qk_ (in place)", lambda: ops.rope_qk_(iq, ik, cos, sin, scale, False)),
        )
        with torch.no_grad():
            times = {label: best_time(fn, args.reps) for label, fn in variants}
        base = times["composition"]
        for label, t in times.items():
            print(f"| {str(dtype).replace('torch.', '')} | {label} | {t * 1e3:.2f} | {nbytes / t / 1e9:.1f} | "
                  f"{base / t:.2f}x |")
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
