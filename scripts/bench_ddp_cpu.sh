#!/usr/bin/env bash
# CPU data-parallel benchmark: ctxext over c10d/Gloo vs PyTorch's DistributedDataParallel, side by side
# in one run (docs/platform.md "Performance method"; docs/perf.md "Data parallel (c10d)").
#
#   scripts/bench_ddp_cpu.sh                       # 3 repetitions, 3 warm-up + 10 timed steps (~3 min on 2 cores)
#   REPS=1 WARMUP=1 STEPS=2 scripts/bench_ddp_cpu.sh   # smoke run
# Where a build may run at the same time, hold its lock: flock /tmp/ctxext-build.lock scripts/bench_ddp_cpu.sh
#
# Runs, one after the other (never concurrently; 2 ranks x 1 thread use both cores of the CI machine),
# in this order in every repetition:
#   ctxext-none   ctxext, RANKS ranks x THREADS thread(s), train.sharding: none (replicas; fp32 gradient
#                 all-reduce in 25 MiB buckets, the decoder layers' started from gradient hooks during the
#                 last micro-batch's backward, the rest after it; AdamW on every rank)
#   ctxext-optimizer  the same with train.sharding: optimizer (ZeRO-2: gradients reduce-scattered, fp32
#                 masters + AdamW moments sharded, weights all-gathered after the step)
#   ctxext-full   the same with train.sharding: full (ZeRO-3: each decoder layer's weights all-gathered
#                 before its forward and backward, gradients reduce-scattered per layer)
#                 (SHARDINGS="none optimizer" leaves it out)
#   ddp           PyTorch DDP (scripts/bench_train_hf.py ddp): HF LlamaForCausalLM in
#                 torch.nn.parallel.DistributedDataParallel (defaults: 25 MB buckets all-reduced during
#                 backward), Gloo, torch.optim.AdamW, RANKS ranks x THREADS thread(s)
#   ctxext-1      ctxext alone (1 process, no launcher) x THREADS thread(s): the scaling baseline
#   ddp-1         the DDP script with a world of 1 (DDP1=0 skips it): the Python peer's own baseline
# Multi-rank runs are launched by the venv's torchrun (--standalone --nproc-per-node=RANKS; ctxext with
# --no-python), each rank process wrapped in /usr/bin/time -v.
#
# Same work on every side (as scripts/bench_train_cpu.sh aligns them): the `tiny` preset (vocab 4000,
# hidden 256, intermediate 688, 4 layers, 8 heads, untied embeddings, 5,212,416 parameters), fp32, random
# init; global batch BATCH x SEQ tokens of real ids (bench_train_hf.py prepare; every sample exactly SEQ
# tokens, all supervised, file order); rank r takes samples [r*BATCH/RANKS, (r+1)*BATCH/RANKS) of each
# step's batch, in micro-batches of MICRO (default BATCH/RANKS: one micro-batch per rank; the 1-rank runs
# use the same MICRO, i.e. BATCH/MICRO accumulated micro-batches, so every forward/backward has the same
# shape in every run); AdamW lr 1e-3 constant, betas (0.9, 0.95), eps 1e-8, weight decay 0.1, clip at
# global norm 1.0; loss = mean over the global batch's supervised targets.
#
# What is measured:
#   tokens/s  median over the STEPS timed steps (after WARMUP) of BATCH x (SEQ-1) supervised targets of
#             the GLOBAL batch / wall seconds of rank 0's whole optimizer step, communication included.
#             ctxext: metrics.jsonl tokens_per_s (rank 0 only; steady_clock around train_step(): batch
#             building, supervised-count all-reduce, zero_grad, forward/backward of every micro-batch,
#             loss all-reduce, gradient all-reduce or reduce-scatter + norm all-reduce, clip, AdamW,
#             weight all-gather (optimizer sharding) / master copy-back). DDP: time.perf_counter on rank 0
#             around batch building, zero_grad, forward/backward (DDP's bucketed all-reduce runs inside
#             backward), one all-reduce of [loss, tokens], clip_grad_norm_, optimizer.step().
#             Neither includes start-up, rendezvous, model creation, data loading, final checkpoint.
#   scaling   efficiency = tokens/s(RANKS ranks) / (RANKS x tokens/s(1 rank)), same global batch.
#   peak RSS  per rank process: "Maximum resident set size" from /usr/bin/time -v wrapped around each
#             rank (not the torchrun agent). Includes each side's runtime (LibTorch; Python + torch +
#             transformers).
#   wall      the whole launch (torchrun + ranks, or the lone process), for reference.
#
# Environment: RANKS=2, THREADS=1 (per rank), BATCH=8 (global), SEQ=256, MICRO=BATCH/RANKS, WARMUP=3,
#              STEPS=10, REPS=3, SHARDINGS="none optimizer full", DDP1=1, CTXEXT=build/ctxext, PYTHON=.venv/bin/python,
#              TORCHRUN=.venv/bin/torchrun, KEEP=1 keeps the temp folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/bench_common.sh
. scripts/bench_common.sh
RANKS=${RANKS:-2}
THREADS=${THREADS:-1}
BATCH=${BATCH:-8}
SEQ=${SEQ:-256}
MICRO=${MICRO:-$((BATCH / RANKS))}
WARMUP=${WARMUP:-3}
STEPS=${STEPS:-10}
REPS=${REPS:-3}
DDP1=${DDP1:-1}
SHARDINGS=${SHARDINGS:-none optimizer full}
CTXEXT=${CTXEXT:-$ROOT/build/ctxext}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TORCHRUN=${TORCHRUN:-$ROOT/.venv/bin/torchrun}
TOTAL=$((WARMUP + STEPS))

[ -x "$CTXEXT" ] || { echo "bench: $CTXEXT not built (scripts/build.sh)" >&2; exit 1; }
[ -x "$TORCHRUN" ] || { echo "bench: $TORCHRUN missing (scripts/setup.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
[ $((BATCH % (MICRO * RANKS))) = 0 ] || { echo "bench: BATCH $BATCH must be a multiple of MICRO $MICRO x RANKS $RANKS" >&2; exit 1; }

TMP=$(mktemp -d /tmp/ctxext-bench-ddp.XXXXXX)
if [ "${KEEP:-0}" = 1 ]; then echo "bench: keeping $TMP" >&2; else trap 'rm -rf "$TMP"' EXIT; fi

"$PYTHON" scripts/bench_train_hf.py prepare --corpus data/pretrain/train.jsonl --tokenizer data/tokenizer.model \
  --seq-len "$SEQ" --num-docs $((TOTAL * BATCH)) --out "$TMP/data"

# --- ctxext config (scripts/bench_common.sh: bench_train_cpu.sh's, the global batch in micro-batches) ---
bench_ctxext_config "$TMP/ctxext.yaml" "$TMP/data" "$SEQ" "$TOTAL" "$MICRO" "$BATCH" "$THREADS" "$TMP/out"

# Each rank process under /usr/bin/time -v, its report in $TIME_DIR/time.<RANK>.txt.
cat > "$TMP/timed.sh" <<'EOF'
#!/bin/sh
exec /usr/bin/time -v -o "$TIME_DIR/time.${RANK:-0}.txt" "$@"
EOF
chmod +x "$TMP/timed.sh"

# launch NAME NPROC CMD...: NPROC ranks under torchrun, or one process without any launcher variable.
launch() {
  local name=$1 nproc=$2; shift 2
  local dir=$TMP/$name
  mkdir -p "$dir"
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  if [ "$nproc" -gt 1 ]; then
    TIME_DIR=$dir OMP_NUM_THREADS=$THREADS "$TORCHRUN" --standalone --nproc-per-node="$nproc" --no-python \
      "$TMP/timed.sh" "$@" > "$dir/log.txt" 2>&1 || rc=$?
  else
    env -u RANK -u WORLD_SIZE -u LOCAL_RANK -u LOCAL_WORLD_SIZE -u MASTER_ADDR -u MASTER_PORT \
      -u TORCHELASTIC_USE_AGENT_STORE TIME_DIR="$dir" OMP_NUM_THREADS="$THREADS" \
      "$TMP/timed.sh" "$@" > "$dir/log.txt" 2>&1 || rc=$?
  fi
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.1f\n", $2 - $1}' > "$dir/wall_s"
  if [ "$rc" != 0 ]; then
    tail -n 40 "$dir/log.txt" >&2
    echo "bench: $name failed (exit $rc); command: $*; log: $dir/log.txt" >&2
    return 1
  fi
}

run_ctxext() {  # NAME NPROC SHARDING
  local name=$1 nproc=$2 sharding=$3 dir=$TMP/$1
  rm -rf "$TMP/out-$name"
  launch "$name" "$nproc" "$CTXEXT" train "$TMP/ctxext.yaml" "train.sharding=$sharding" "output_dir=$TMP/out-$name" \
    || return 1
  cp "$TMP/out-$name/metrics.jsonl" "$dir/metrics.jsonl"
  if [ "$nproc" -gt 1 ] && ! grep -q "joined $nproc ranks" "$dir/log.txt"; then
    echo "bench: $name: no 'joined $nproc ranks' line in its log: not a distributed run?" >&2; return 1
  fi
  "$PYTHON" - "$dir/metrics.jsonl" "$WARMUP" "$((BATCH * (SEQ - 1)))" > "$dir/summary.json" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
warmup, want = int(sys.argv[2]), int(sys.argv[3])
bad = [r["step"] for r in rows if r["tokens"] != want]
if bad:
    sys.exit(f"ctxext steps {bad} counted tokens != {want} (the global batch's supervised targets)")
rates = [r["tokens_per_s"] for r in rows if r["step"] > warmup]
print(json.dumps({"median_tokens_per_s": statistics.median(rates), "min_tokens_per_s": min(rates),
                  "max_tokens_per_s": max(rates), "loss_first": rows[0]["loss"], "loss_last": rows[-1]["loss"]}))
EOF
}

run_ddp() {  # NAME NPROC
  local name=$1 nproc=$2 dir=$TMP/$1
  launch "$name" "$nproc" "$PYTHON" "$ROOT/scripts/bench_train_hf.py" ddp --ids "$TMP/data/ids.json" \
    --seq-len "$SEQ" --batch "$BATCH" --micro "$MICRO" --warmup "$WARMUP" --steps "$STEPS" --threads "$THREADS" \
    || return 1
  grep '^SUMMARY ' "$dir/log.txt" | sed 's/^SUMMARY //' | "$PYTHON" -c '
import json, sys; s = json.loads(sys.stdin.read())
print(json.dumps({k: s[k] for k in ("median_tokens_per_s", "min_tokens_per_s", "max_tokens_per_s")}))' > "$dir/summary.json"
}

echo "bench: $(date -u +%FT%TZ) $(uname -n); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores;" \
     "$RANKS ranks x $THREADS thread(s); global batch $BATCH x $SEQ, micro $MICRO; $WARMUP warm-up + $STEPS timed steps;" \
     "$REPS repetitions" >&2
FAILED=()
for rep in $(seq 1 "$REPS"); do
  for sharding in $SHARDINGS; do
    echo "bench: repetition $rep: ctxext $RANKS ranks, sharding $sharding" >&2
    run_ctxext "ctxext-$sharding-$rep" "$RANKS" "$sharding" || FAILED+=("ctxext-$sharding-$rep")
  done
  echo "bench: repetition $rep: PyTorch DDP $RANKS ranks" >&2
  run_ddp "ddp-$rep" "$RANKS" || FAILED+=("ddp-$rep")
  echo "bench: repetition $rep: ctxext 1 rank" >&2
  run_ctxext "ctxext-1-$rep" 1 none || FAILED+=("ctxext-1-$rep")
  if [ "$DDP1" = 1 ]; then
    echo "bench: repetition $rep: PyTorch DDP 1 rank" >&2
    run_ddp "ddp-1-$rep" 1 || FAILED+=("ddp-1-$rep")
  fi
done

echo
"$PYTHON" - "$TMP" "$REPS" "$RANKS" "$THREADS" "$BATCH" "$SEQ" "$SHARDINGS" <<'EOF'
import glob, json, os, re, sys
tmp, reps, ranks, threads, batch, seq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
shardings = sys.argv[7].split()

def load(name):
    d = os.path.join(tmp, name)
    if not os.path.exists(os.path.join(d, "summary.json")):
        return None
    s = json.load(open(os.path.join(d, "summary.json")))
    rss = {}
    for f in glob.glob(os.path.join(d, "time.*.txt")):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f).read())
        if m:
            rss[int(f.split(".")[-2])] = int(m.group(1)) / 1024
    s["rss"] = [rss[r] for r in sorted(rss)]
    s["wall"] = open(os.path.join(d, "wall_s")).read().strip()
    return s

sides = [(f"ctxext-{s}", f"ctxext {ranks}r {s}") for s in shardings]
sides += [("ddp", f"DDP {ranks}r"), ("ctxext-1", "ctxext 1r"), ("ddp-1", "DDP 1r")]
print(f"{'rep':<4} {'run':<20} {'tok/s med':>10} {'(min-max)':>13} {'peak RSS per rank (MB)':>24} {'wall_s':>7}")
for rep in range(1, reps + 1):
    got = {key: load(f"{key}-{rep}") for key, _ in sides}
    for key, label in sides:
        s = got[key]
        if key == "ddp-1" and s is None and not os.path.exists(os.path.join(tmp, f"ddp-1-{rep}")):
            continue
        if s is None:
            print(f"{rep:<4} {label:<20} {'FAILED':>10}")
            continue
        rss = " / ".join(f"{r:.0f}" for r in s["rss"])
        print(f"{rep:<4} {label:<20} {s['median_tokens_per_s']:>10.0f} "
              f"{'(%.0f-%.0f)' % (s['min_tokens_per_s'], s['max_tokens_per_s']):>13} {rss:>24} {s['wall']:>7}")
    rate = lambda k: got[k]["median_tokens_per_s"] if got.get(k) else None
    parts = []
    for s in shardings:
        if rate(f"ctxext-{s}") and rate("ddp"):
            parts.append(f"ctxext {s}/DDP = {rate(f'ctxext-{s}') / rate('ddp'):.2f}x")
    for k, base, label in [(f"ctxext-{s}", "ctxext-1", f"ctxext {s}") for s in shardings] + [("ddp", "ddp-1", "DDP")]:
        if rate(k) and rate(base):
            parts.append(f"scaling 1->{ranks} {label} = {rate(k) / (ranks * rate(base)):.2f}")
    print(f"{rep:<4} ratios: " + "; ".join(parts))
print(f"tokens/s = supervised targets of the global batch ({batch} x {seq - 1} = {batch * (seq - 1)}) / rank 0's "
      f"whole optimizer-step seconds (median of the timed steps); {threads} thread(s) per rank")
print("peak RSS: /usr/bin/time -v 'Maximum resident set size' of each rank process (rank 0 / rank 1 / ...)")
print("scaling = tokens/s(N ranks) / (N x tokens/s(1 rank)), same global batch and micro-batch shape")
EOF
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "bench: FAILED runs: ${FAILED[*]} (logs in $TMP unless removed; KEEP=1 keeps them)" >&2
  exit 1
fi
