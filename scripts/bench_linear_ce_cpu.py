#!/usr/bin/env python3
"""CPU micro-benchmark of the fused `ctxext::linear_cross_entropy` op (LM head + next-token loss)
against the unfused LibTorch composition cross_entropy(linear(h, w).float(), t, reduction="sum")
and against the loss the trainer used before the op (chunks of positions, each checkpointed and
recomputed in backward), validating each against the fused op before timing it.

  .venv/bin/python scripts/bench_linear_ce_cpu.py [--tokens 2048 --hidden 256 --vocab 32000
                                                   --chunk 256 --threads 2 --reps 3 --dtypes float32]

Time: forward + backward (both gradients), best of --reps after one warm-up. TFLOP/s counts the 3
matmuls every variant needs (logits, grad_hidden, grad_weight: 6·n·v·h flops); the recomputing
variant does a 4th and is still charged 3. The ceiling is one [n, h] x [h, v] at::mm of the same
shape, timed alone.

Peak memory: an allocator-level counter (src/train/alloc_counter.cpp, CTXEXT_COUNT_ALLOC=1): this
script loads build/libctxext_train.so with that variable set, so every CPU tensor allocation of the
process goes through the counter, and reads it through ctypes. "peak extra" is the counter's peak
during one forward + backward minus the bytes live before it (the inputs), so it includes the two
gradients the call returns ([n, h] + [v, h]) and every temporary. MKL's and OpenMP's own buffers
are not tensors and are not counted. The counter cannot run bfloat16 matmuls (oneDNN's
raw_allocate asserts that a DataPtr's context is its data, which the counter's is not), so
bfloat16 rows need --no-memory.
"""
import argparse
import ctypes
import os

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402

from bench_rms_norm_cpu import best_time  # noqa: E402  (best of reps after one warm-up call)

IGNORE = -100


class AllocCounter:
    """ctxext::alloc_counter (src/train/alloc_counter.h) through its C++ symbols."""

    def __init__(self, lib):
        self.lib = ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
        self._enabled = self._fn("_ZN6ctxext5train13alloc_counter7enabledEv", ctypes.c_bool)
        self._current = self._fn("_ZN6ctxext5train13alloc_counter13current_bytesEv", ctypes.c_int64)
        self._peak = self._fn("_ZN6ctxext5train13alloc_counter10peak_bytesEv", ctypes.c_int64)
        self._reset = self._fn("_ZN6ctxext5train13alloc_counter10reset_peakEv", None)
        assert self._enabled(), "the allocation counter did not install (CTXEXT_COUNT_ALLOC=1 not seen)"

    def _fn(self, name, restype):
        f = getattr(self.lib, name)
        f.restype = restype
        f.argtypes = []
        return f

    def peak_extra(self, fn):
        """Bytes allocated at the peak of fn() beyond those live when it starts."""
        before = self._current()
        self._reset()
        fn()
        return self._peak() - before


def rel_err(a, b):
    a64, b64 = a.double(), b.double()
    scale = b64.abs().max().item()
    return (a64 - b64).abs().max().item() / scale  # NaN anywhere -> NaN -> fails the check


def unfused(h, w, t, chunk):
    return F.cross_entropy(F.linear(h, w).float(), t, ignore_index=IGNORE, reduction="sum")


def recomputed(h, w, t, chunk):
    """The trainer's loss before the fused op: chunks of rows, each checkpointed (recomputed in backward)."""
    total = torch.zeros((), dtype=torch.float32)
    for b in range(0, h.shape[0], chunk):
        def piece(hc, tc=t[b:b + chunk]):
            return F.cross_entropy(F.linear(hc, w).float(), tc, ignore_index=IGNORE, reduction="sum")
        total = total + checkpoint(piece, h[b:b + chunk], use_reentrant=False)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=2048)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--chunk", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dtypes", default="float32", help="comma-separated: float32,bfloat16")
    ap.add_argument("--ops-lib", default="build/libctxext_ops.so")
    ap.add_argument("--train-lib", default="build/libctxext_train.so")
    ap.add_argument("--no-memory", action="store_true", help="no allocation counter (needed for bfloat16)")
    args = ap.parse_args()

    counter = None
    if not args.no_memory:
        os.environ["CTXEXT_COUNT_ALLOC"] = "1"  # read by libctxext_train.so's static initialiser when loaded
        counter = AllocCounter(args.train_lib)
    torch.ops.load_library(args.ops_lib)
    torch.set_num_threads(args.threads)
    op = torch.ops.ctxext.linear_cross_entropy

    def fused(h, w, t, chunk):
        return op(h, w, t, IGNORE, chunk, "sum")

    n, hd, v = args.tokens, args.hidden, args.vocab
    flops = 6.0 * n * v * hd
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, tokens {n}, hidden {hd}, vocab {v}, "
          f"chunk {args.chunk} tokens")
    print("| dtype | variant | fwd+bwd ms | TFLOP/s | / GEMM ceiling | time / fused | peak extra MiB | memory / fused |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in args.dtypes.split(","):
        dtype = getattr(torch, name)
        tol = 1e-5 if dtype == torch.float32 else 2e-2
        torch.manual_seed(0)
        h = torch.randn(n, hd).to(dtype)
        w = (torch.randn(v, hd) * (2.0 / hd ** 0.5)).to(dtype)
        t = torch.randint(v, (n,))
        t[torch.rand(n) < 0.1] = IGNORE  # some positions unsupervised, as in a padded batch

        a, b = h.clone(), w.t().contiguous()
        t_mm = best_time(lambda: torch.mm(a, b), args.reps)
        ceiling = 2.0 * n * v * hd / t_mm / 1e12
        del a, b
        print(f"<!-- {name}: GEMM ceiling [{n}, {hd}] x [{hd}, {v}] {t_mm * 1e3:.1f} ms = {ceiling:.3f} TFLOP/s -->")

        hg = h.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def step(f):
            def run():
                hg.grad = None
                wg.grad = None
                f(hg, wg, t, args.chunk).backward()
                return hg.grad, wg.grad
            return run

        variants = (("fused ctxext::linear_cross_entropy", fused), ("unfused linear + cross_entropy", unfused),
                    ("chunked + recomputed (old trainer loss)", recomputed))
        # --- validate every variant against the fused op: loss, grad_hidden, grad_weight ---
        ref_loss = fused(hg, wg, t, args.chunk).detach()
        ref_grads = tuple(g.clone() for g in step(fused)())
        for label, f in variants[1:]:
            loss = f(hg, wg, t, args.chunk).detach()
            grads = step(f)()
            for what, x, y in (("loss", loss, ref_loss), ("grad_hidden", grads[0], ref_grads[0]),
                               ("grad_weight", grads[1], ref_grads[1])):
                e = rel_err(x, y)
                assert e <= tol, f"{name} {label} {what}: relative error {e} > {tol}"
        print(f"<!-- validated {name}: loss, grad_hidden, grad_weight of every variant within {tol} of the fused op -->")
        del ref_grads

        rows = []
        for label, f in variants:
            hg.grad = wg.grad = None
            tm = best_time(step(f), args.reps)
            hg.grad = wg.grad = None
            mem = counter.peak_extra(step(f)) if counter else float("nan")
            rows.append((label, tm, mem))
        tf, mf = rows[0][1], rows[0][2]
        for label, tm, mem in rows:
            tflops = flops / tm / 1e12
            print(f"| {name} | {label} | {tm * 1e3:.0f} | {tflops:.3f} | {tflops / ceiling:.2f} | {tm / tf:.2f}x | "
                  f"{mem / 2**20:.0f} | {mem / mf:.2f}x |")


if __name__ == "__main__":
    main()
