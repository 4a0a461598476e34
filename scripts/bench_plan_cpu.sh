#!/usr/bin/env bash
# The memory planner (ctxext plan) against the trainer's measured peak on the CPU (docs/perf.md "Memory
# planner"): the allocator-level counter (src/train/alloc_counter.cpp, CTXEXT_COUNT_ALLOC=1; live tensor
# bytes, not RSS) vs the plan's device peak, for the tiny preset and a ~100M-parameter shape (hidden 768,
# 12 layers, 12 heads, intermediate 2048, vocab 32000: 134,105,856 parameters) at 2,048 tokens, fp32,
# one process, activation checkpointing off and on. Holds the build lock per run (~1.5 min for 100m).
# ctxext plan prints GB with two decimals: fine for the 100M shape (~2-4 GB), too coarse for tiny
# (0.25 GB), whose exact comparison is the test `cli: memory plan: within 10% ...`.
#
#   scripts/bench_plan_cpu.sh            # SHAPES="100m" CKPT="false true"
set -euo pipefail
cd "$(dirname "$0")/.."
CTXEXT=${CTXEXT:-build/ctxext}
PY=${PY:-.venv/bin/python}
TMP=$(mktemp -d /tmp/ctxext-plan.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
# The configuration of tests/cli/test_cli_plan.cpp (tiny preset, 2,048 positions, 3 steps).
cat > "$TMP/tiny.yaml" <<YAML
model:
  preset: tiny
  max_position_embeddings: 2048
rope:
  type: none
data:
  format: text
  path: data/corpus/kjv_train.jsonl
  tokenizer: data/tokenizer.model
  max_seq_len: 2048
  min_tokens: 2048
  num_samples: 4
  shuffle: false
train:
  steps: 3
  lr: 1.0e-4
  micro_batch_size: 1
  global_batch_size: 1
  precision: fp32
checkpoint:
  every_steps: 0
export:
  enabled: false
runtime:
  device: cpu
  threads: 2
  seed: 1
resume: none
YAML
shape_overrides() {
  case $1 in
    tiny) echo "" ;;
    100m) echo "model.hidden_size=768 model.num_hidden_layers=12 model.num_attention_heads=12 model.num_key_value_heads=12 model.intermediate_size=2048 model.vocab_size=32000 train.steps=2" ;;
    *) echo "bench_plan: unknown shape '$1' (tiny, 100m)" >&2; exit 2 ;;
  esac
}
echo "== ctxext plan vs measured peak (CPU, fp32, 2,048 tokens), $(date -u +%FT%TZ), $(nproc) cores"
echo "| shape | checkpointing | predicted peak MiB (phase) | measured peak MiB | predicted / measured |"
echo "|---|---|---:|---:|---:|"
for shape in ${SHAPES:-100m}; do
  for ckpt in ${CKPT:-false true}; do
    # shellcheck disable=SC2046
    set -- $(shape_overrides "$shape") "train.activation_checkpointing=$ckpt"
    out=$TMP/run-$shape-$ckpt
    flock /tmp/ctxext-build.lock env CTXEXT_COUNT_ALLOC=1 "$CTXEXT" train "$TMP/tiny.yaml" "output_dir=$out" "$@" \
      > "$TMP/train.log" 2>&1 || { cat "$TMP/train.log" >&2; exit 1; }
    "$CTXEXT" plan "$TMP/tiny.yaml" "output_dir=$out" "$@" > "$TMP/plan.txt" 2>&1 || { cat "$TMP/plan.txt" >&2; exit 1; }
    "$PY" - "$out/metrics.jsonl" "$TMP/plan.txt" "$shape" "$ckpt" <<'PYEOF'
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
measured = max(r["peak_alloc_mb"] for r in rows)
plan = open(sys.argv[2]).read()
# The phase table: "<phase name>   <device> GB   <host> GB|-", from "setup" to "optimizer step".
section = plan.split("phase (everything live at its worst moment)")[1].split("\npeak")[0]
phases = [(m.group(1).strip(), float(m.group(2))) for m in re.finditer(r"^(.+?)\s+([0-9.]+) GB", section, re.M)]
if not phases:
    sys.exit("bench_plan: no phase table in the plan:\n" + plan)
phase, gb = max(phases, key=lambda p: p[1])
mib = gb * 1e9 / 2**20
print(f"| {sys.argv[3]} | {sys.argv[4]} | {mib:,.1f} ({phase}) | {measured:,.1f} | {mib / measured:.3f} |")
PYEOF
  done
done
