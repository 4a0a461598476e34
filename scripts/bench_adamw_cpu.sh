#!/usr/bin/env bash
# The trainer's CPU AdamW (LibTorch's fused at::_fused_adamw_) against the op-by-op torch::optim::AdamW it
# replaced: validated (ulps after 10 steps), then timed side by side at 1 and 2 threads on 2^26 fp32
# parameters (FlatShard::kStepChunk), with the machine's copy and read ceilings measured in the same run.
# Holds the build lock so no build runs beside it (docs/perf.md "AdamW on CPU").
#
#   scripts/bench_adamw_cpu.sh                       # defaults
#   NUMEL=100000000 THREADS=1,2 REPS=5 scripts/bench_adamw_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
echo "== AdamW step (CPU), $(date -u +%FT%TZ), $(nproc) cores:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
flock /tmp/ctxext-build.lock "$PY" scripts/bench_adamw_cpu.py --numel "${NUMEL:-67108864}" \
  --threads "${THREADS:-1,2}" --reps "${REPS:-5}"
