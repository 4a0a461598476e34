#!/usr/bin/env bash
# CPU training-step benchmark: ctxext vs HF transformers, side by side in one run (docs/platform.md "Performance method").
#
#   scripts/bench_train_cpu.sh                      # 2 repetitions, 3 warm-up + 10 timed steps
#   REPS=1 WARMUP=1 STEPS=2 scripts/bench_train_cpu.sh   # smoke run
#
# Both sides train the SAME model, data and optimizer, one process after the other:
#   model   the `tiny` preset: vocab 4000, hidden 256, intermediate 688, 4 layers, 8 heads (MHA),
#           untied embeddings, rms_norm_eps 1e-5, RoPE theta 10000; fp32; random init (each side
#           its own init; the init does not change the cost of a step)
#   data    BATCH x SEQ tokens per step (default 8 x 256) of real token ids: documents from
#           data/pretrain/train.jsonl concatenated until they are longer than SEQ, tokenized with
#           data/tokenizer.model; every sample is exactly SEQ tokens (BOS + SEQ-1 pieces; ctxext
#           truncates, HF gets the same ids from scripts/bench_train_hf.py prepare), no padding,
#           all tokens supervised; samples taken in file order (ctxext shuffle: false)
#   tokens  supervised targets per step = BATCH x (SEQ-1) on both sides (HF shifts labels by one;
#           ctxext counts labels[1:] that are not ignored -- the same targets)
#   step    AdamW lr 1e-3 (constant), betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on every
#           parameter, gradient clipping at norm 1.0; one micro-batch per step (no accumulation).
#           HF: torch.optim.AdamW with its default (foreach) implementation; ctxext: its trainer's
#           AdamW, LibTorch's fused kernel at::_fused_adamw_ (src/train/fused_adamw.h).
#   threads THREADS intra-op threads on both sides (ctxext runtime.threads, HF torch.set_num_threads)
#
# What is measured, per side:
#   tokens/s  median over the STEPS timed steps (the WARMUP steps before them are not counted) of
#             supervised targets / wall time of the whole optimizer step. ctxext: the tokens_per_s
#             field of <output_dir>/metrics.jsonl, which TrainRecipe::train() computes as
#             metrics.tokens (the supervised-target count of the step) / steady_clock seconds
#             around train_step() (batch building, zero_grad, forward, chunked loss, backward,
#             grad copy to masters, clip, AdamW step, master copy back). HF: the same span timed
#             with time.perf_counter in scripts/bench_train_hf.py. Neither includes process
#             start-up, model creation, data loading or (ctxext) the final checkpoint write.
#   peak RSS  "Maximum resident set size" of the whole process from /usr/bin/time -v (includes
#             the runtime libraries each side loads: LibTorch for ctxext; Python + torch +
#             transformers for HF). Also printed: ctxext's last peak_mem_mb (getrusage at the end of
#             the last step, i.e. before its final checkpoint write) and HF's RSS right after
#             `import torch, transformers`, before the model exists.
#   wall      whole-process wall clock, for reference (includes start-up and set-up).
#
# PROFILE=N (default 0: off): after the timed repetitions, one more run of each side with steps
#   2..N+1 profiled (`ctxext train --profile-steps N`; HF: bench_train_hf.py --profile-steps N, i.e.
#   torch.profiler): both op tables (self time per op, nested ops excluded) and their categories
#   (matmul, attention, ctxext kernels, optimizer, other, outside ops) side by side. The profiled
#   runs are not in the tokens/s table (the profilers slow their steps).
#
# Environment: THREADS (default: nproc), BATCH=8, SEQ=256, WARMUP=3, STEPS=10, REPS=2, PROFILE=0,
#              CTXEXT=build/ctxext, PYTHON=.venv/bin/python, KEEP=1 keeps the temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/bench_common.sh
. scripts/bench_common.sh
THREADS=${THREADS:-$(nproc)}
BATCH=${BATCH:-8}
SEQ=${SEQ:-256}
WARMUP=${WARMUP:-3}
STEPS=${STEPS:-10}
REPS=${REPS:-2}
PROFILE=${PROFILE:-0}
CTXEXT=${CTXEXT:-$ROOT/build/ctxext}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TOTAL=$((WARMUP + STEPS))

[ -x "$CTXEXT" ] || { echo "bench: $CTXEXT not built (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

TMP=$(mktemp -d /tmp/ctxext-bench.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "bench: keeping $TMP" >&2; else trap 'rm -rf "$TMP"' EXIT; fi

"$PYTHON" scripts/bench_train_hf.py prepare --corpus data/pretrain/train.jsonl --tokenizer data/tokenizer.model \
  --seq-len "$SEQ" --num-docs $((TOTAL * BATCH)) --out "$TMP/data"

# --- ctxext config -----------------------------------------------------------------------------
bench_ctxext_config "$TMP/ctxext.yaml" "$TMP/data" "$SEQ" "$TOTAL" "$BATCH" "$BATCH" "$THREADS" "$TMP/out"

# "Maximum resident set size (kbytes): N" -> MiB; "Elapsed (wall clock) time (h:mm:ss or m:ss): T" -> s
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i];
              printf "%.1f", s}' "$1"
}

run_ctxext() {  # $1 = repetition
  local dir=$TMP/ctxext-$1
  rm -rf "$TMP/out"; mkdir -p "$dir"
  /usr/bin/time -v -o "$dir/time.txt" "$CTXEXT" train "$TMP/ctxext.yaml" > "$dir/log.txt" 2>&1 \
    || { cat "$dir/log.txt" >&2; echo "bench: ctxext failed" >&2; exit 1; }
  cp "$TMP/out/metrics.jsonl" "$dir/metrics.jsonl"
  grep -m1 "intra-op threads" "$dir/log.txt" >&2 || true
  # Median tokens_per_s over the steps after the warm-up; check the per-step token count.
  "$PYTHON" - "$dir/metrics.jsonl" "$WARMUP" "$((BATCH * (SEQ - 1)))" > "$dir/summary.json" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
warmup, want = int(sys.argv[2]), int(sys.argv[3])
timed = [r for r in rows if r["step"] > warmup]
bad = [r["step"] for r in rows if r["tokens"] != want]
if bad:
    sys.exit(f"ctxext steps {bad} counted tokens != {want}: samples are not all the same length")
rates = [r["tokens_per_s"] for r in timed]
print(json.dumps({"median_tokens_per_s": statistics.median(rates), "min_tokens_per_s": min(rates),
                  "max_tokens_per_s": max(rates), "timed_steps": len(rates), "tokens_per_step": want,
                  "peak_mem_mb_last_step": rows[-1]["peak_mem_mb"], "loss_first": rows[0]["loss"],
                  "loss_last": rows[-1]["loss"]}))
EOF
}

run_hf() {  # $1 = repetition
  local dir=$TMP/hf-$1
  mkdir -p "$dir"
  /usr/bin/time -v -o "$dir/time.txt" "$PYTHON" scripts/bench_train_hf.py train --ids "$TMP/data/ids.json" \
    --seq-len "$SEQ" --batch "$BATCH" --warmup "$WARMUP" --steps "$STEPS" --threads "$THREADS" \
    > "$dir/log.txt" 2>&1 || { cat "$dir/log.txt" >&2; echo "bench: HF failed" >&2; exit 1; }
  grep '^SUMMARY ' "$dir/log.txt" | sed 's/^SUMMARY //' > "$dir/summary.json"
  grep -m1 '"side": "hf"' "$dir/log.txt" >&2
}

field() { "$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

echo "bench: $(date -u +%FT%TZ) $(uname -n); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
     "threads $THREADS; batch $BATCH x $SEQ; $WARMUP warm-up + $STEPS timed steps; $REPS repetitions" >&2
for rep in $(seq 1 "$REPS"); do
  echo "bench: repetition $rep: ctxext" >&2; run_ctxext "$rep"
  echo "bench: repetition $rep: HF transformers" >&2; run_hf "$rep"
done

echo
printf '%-4s %-8s %12s %12s %12s %10s %14s %8s\n' rep side "tok/s(med)" "tok/s(min)" "tok/s(max)" "peakRSS" "other-mem" "wall_s"
for rep in $(seq 1 "$REPS"); do
  c=$TMP/ctxext-$rep; h=$TMP/hf-$rep
  printf '%-4s %-8s %12.0f %12.0f %12.0f %8sMB %11.0fMB* %8s\n' "$rep" ctxext \
    "$(field "$c/summary.json" median_tokens_per_s)" "$(field "$c/summary.json" min_tokens_per_s)" \
    "$(field "$c/summary.json" max_tokens_per_s)" "$(rss_mb "$c/time.txt")" \
    "$(field "$c/summary.json" peak_mem_mb_last_step)" "$(wall_s "$c/time.txt")"
  hf_import=$(grep -m1 '"side": "hf"' "$h/log.txt" | "$PYTHON" -c 'import json,sys; print(json.loads(sys.stdin.readline())["rss_after_import_mb"])')
  printf '%-4s %-8s %12.0f %12.0f %12.0f %8sMB %11.0fMB+ %8s\n' "$rep" hf \
    "$(field "$h/summary.json" median_tokens_per_s)" "$(field "$h/summary.json" min_tokens_per_s)" \
    "$(field "$h/summary.json" max_tokens_per_s)" "$(rss_mb "$h/time.txt")" "$hf_import" "$(wall_s "$h/time.txt")"
  "$PYTHON" - "$c/summary.json" "$h/summary.json" "$(rss_mb "$c/time.txt")" "$(rss_mb "$h/time.txt")" "$rep" <<'EOF'
import json, sys
c, h = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
print(f"{sys.argv[5]:<4} ratio    ctxext/HF tokens/s (median) = {c['median_tokens_per_s'] / h['median_tokens_per_s']:.2f}x;"
      f" peak RSS ctxext/HF = {int(sys.argv[3]) / int(sys.argv[4]):.2f}x")
EOF
done
echo "* ctxext peak_mem_mb of the last step (getrusage, before the final checkpoint write)"
echo "+ HF process RSS right after importing torch + transformers, before the model exists"
echo "tokens/s = supervised targets per step ($((BATCH * (SEQ - 1)))) / wall seconds of the whole optimizer step"

if [ "$PROFILE" -gt 0 ]; then
  echo
  echo "profiles: steps 2..$((PROFILE + 1)) of one more run per side (not in the table above)"
  rm -rf "$TMP/out"
  "$CTXEXT" train "$TMP/ctxext.yaml" --profile-steps "$PROFILE" > "$TMP/ctxext-profile.txt" 2>&1 \
    || { cat "$TMP/ctxext-profile.txt" >&2; echo "bench: ctxext profile run failed" >&2; exit 1; }
  echo "--- ctxext"
  sed -n '/info profile: [0-9]/,/outside ops/p' "$TMP/ctxext-profile.txt" | sed 's/^\[[0-9:]*\] info //'
  "$PYTHON" scripts/bench_train_hf.py train --ids "$TMP/data/ids.json" --seq-len "$SEQ" --batch "$BATCH" \
    --warmup "$WARMUP" --steps "$STEPS" --threads "$THREADS" --profile-steps "$PROFILE" > "$TMP/hf-profile.txt" 2>&1 \
    || { cat "$TMP/hf-profile.txt" >&2; echo "bench: HF profile run failed" >&2; exit 1; }
  echo "--- HF transformers"
  grep '^PROFILE ' "$TMP/hf-profile.txt" | sed 's/^PROFILE //'
fi
