#!/usr/bin/env bash
# CPU micro-benchmarks of the fused ops (docs/architecture.md "Adding a kernel"), each validated against the plain LibTorch
# composition before it is timed. Needs build/libctxext_ops.so (scripts/build.sh) and .venv.
#
#   scripts/bench_kernels_cpu.sh                  # [16384, 4096], fp32 and bf16, 2 threads
#   THREADS=2 ROWS=16384 HIDDEN=4096 REPS=5 scripts/bench_kernels_cpu.sh
#   TOKENS=2048 LCE_HIDDEN=256 VOCAB=32000 CHUNK=256 scripts/bench_kernels_cpu.sh   # linear_cross_entropy shape
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
echo "== ctxext::rms_norm (CPU), $(date -u +%Y-%m-%d), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$PY" scripts/bench_rms_norm_cpu.py --rows "${ROWS:-16384}" --hidden "${HIDDEN:-4096}" \
  --threads "${THREADS:-2}" --reps "${REPS:-5}"
echo "== ctxext::linear_cross_entropy (CPU), fused vs unfused vs chunked+recomputed"
"$PY" scripts/bench_linear_ce_cpu.py --tokens "${TOKENS:-2048}" --hidden "${LCE_HIDDEN:-256}" \
  --vocab "${VOCAB:-32000}" --chunk "${CHUNK:-256}" --threads "${THREADS:-2}" --reps "${LCE_REPS:-3}"
