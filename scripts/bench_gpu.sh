#!/usr/bin/env bash
# GPU training benchmark (H100/H200): ctxext vs HF transformers at 16k tokens, and the 7B recipe's
# wall clock. Run on the GPU machine after scripts/gpu_check.sh has built build-gpu/ctxext.
#
#   scripts/bench_gpu.sh [PARTS...]      PARTS: a-small a-7b b c table (default: all of them)
#
#   a-small  ctxext training step, the LLaMA-2-7B widths with SMALL_LAYERS layers (default 8:
#            1.88e9 parameters, small enough for HF to train too), random weights (model.preset
#            llama2-7b + model.num_hidden_layers), one sequence of SEQ=16384 tokens per step
#            (real text from data/pretrain/train.jsonl, tokenized with data/tokenizer.model,
#            truncated to exactly SEQ tokens), bf16 compute with fp32 master weights and fp32 AdamW
#            states, activation checkpointing per layer, AdamW lr 2e-5 betas (0.9, 0.95), clip 1.0.
#   a-7b     the same for the full 32-layer LLaMA-2-7B shape (6.74e9 parameters) with
#            train.offload=optimizer (OFFLOAD_7B): fp32 masters, fp32 gradients and AdamW moments in
#            pinned host memory (~108 GB by ctxext plan), bf16 weights and gradients on the GPU. Without
#            offload it needs ~20 bytes/parameter on the GPU = 135 GB (OFFLOAD_7B=none to try it).
#   a-small-off  a-small with train.offload=optimizer (the GPU holds only bf16 weights and gradients).
#   b        HF LlamaForCausalLM on the a-small shape: attn_implementation="sdpa", gradient
#            checkpointing, fp32 parameters + torch.autocast(bf16) (the same bytes/param and
#            numerics as ctxext's recipe), torch.optim.AdamW (foreach), same lr/betas/clip, SEQ tokens.
#   c        the 7B recipe's wall clock: configs/llama2-7b-chat/yarn.yaml on a random-weight
#            LLaMA-2-7B HF folder (bench_gpu_hf.py make-model; there are no real weights on the
#            machine) and 100 ShareGPT conversations of >= 16k tokens, 6 optimizer steps of global
#            batch 16: load + train + final checkpoint + export, timed as one process. Needs ~110 GB
#            free disk (input 13.5 GB + final checkpoint with fp32 masters and AdamW states 81 GB +
#            export 13.5 GB); skipped with a note when the disk is smaller, unless FORCE=1.
#   table    prints the table of everything measured so far (WORK/results.jsonl); always run last.
#
# Measured per run: tokens/s = supervised targets per step / wall seconds of the whole optimizer
# step, median over STEPS steps after WARMUP (ctxext: metrics.jsonl tokens_per_s; HF: the same
# span timed with cuda synchronisation); MFU = tokens/s x (6 N_matmul + 6 L d SEQ) / 790e12
# (docs/platform.md: measured bf16 matmul ceiling; no recomputation counted; formula in
# bench_gpu_hf.py flops_per_token); peak GPU memory = the CUDA caching allocator's peak
# allocated bytes (ctxext metrics.jsonl peak_mem_mb, HF torch.cuda.max_memory_allocated); peak host
# RSS of the process (bench_gpu_hf.py rss, i.e. getrusage of the child).
#
# Each part fits the device tool's 10-minute limit per command; run them as separate calls, e.g.
#   scripts/bench_gpu.sh a-small b table
# Environment: SMALL_LAYERS=8, OFFLOAD_7B=optimizer, SEQ=16384, WARMUP=2, STEPS=5, CTXEXT=build-gpu/ctxext, PYTHON=python3,
# WORK=/tmp/ctxext-bench-gpu (results.jsonl accumulates there; rm -rf it to start over), FORCE=1.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SMALL_LAYERS=${SMALL_LAYERS:-8}
SEQ=${SEQ:-16384}
WARMUP=${WARMUP:-2}
STEPS=${STEPS:-5}
CTXEXT=${CTXEXT:-$ROOT/build-gpu/ctxext}
PYTHON=${PYTHON:-python3}
WORK=${WORK:-/tmp/ctxext-bench-gpu}
HELPER=$ROOT/scripts/bench_gpu_hf.py
RESULTS=$WORK/results.jsonl
mkdir -p "$WORK"
# The unpacked Debian libraries of scripts/gpu_check.sh, for build-gpu/ctxext at run time.
[ -d "$ROOT/.deps/prefix/usr/lib/x86_64-linux-gnu" ] && \
  export LD_LIBRARY_PATH=$ROOT/.deps/prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

say() { echo "bench_gpu: $*" >&2; }
record() { echo "$1" >> "$RESULTS"; say "result: $1"; }

text_docs() {  # enough fixed-length documents for WARMUP + STEPS steps of batch 1
  local out=$WORK/docs-$SEQ.jsonl
  [ -s "$out" ] || "$PYTHON" "$HELPER" docs --tokenizer "$ROOT/data/tokenizer.model" \
    --corpus "$ROOT/data/pretrain/train.jsonl" --tokens "$SEQ" --num $((WARMUP + STEPS)) --format text --out "$out"
  echo "$out"
}

ctxext_step() {  # $1 = name, $2 = layers, $3 = train.offload
  local name=$1 layers=$2 offload=${3:-none} dir=$WORK/$1 docs
  [ -x "$CTXEXT" ] || { say "$CTXEXT missing: run scripts/gpu_check.sh first"; return 1; }
  docs=$(text_docs)
  rm -rf "$dir"; mkdir -p "$dir"
  cat > "$dir/config.yaml" <<EOF
model:
  preset: llama2-7b
  num_hidden_layers: $layers
  max_position_embeddings: $SEQ
rope:
  type: none
data:
  format: text
  path: $docs
  tokenizer: $ROOT/data/tokenizer.model
  max_seq_len: $SEQ
  overflow: truncate
  shuffle: false
train:
  steps: $((WARMUP + STEPS))
  lr: 2.0e-5
  schedule: constant
  beta1: 0.9
  beta2: 0.95
  weight_decay: 0.0
  micro_batch_size: 1
  global_batch_size: 1
  max_grad_norm: 1.0
  precision: bf16
  activation_checkpointing: true
  offload: $offload
checkpoint:
  every_steps: 0
  keep_last: 1
  final: false   # a 7B final checkpoint (fp32 masters + AdamW) is ~81 GB of disk and minutes of writing
export:
  enabled: false
runtime:
  device: cuda
  seed: 0
output_dir: $dir/out
resume: none
EOF
  say "$name: ctxext, $layers layers x $SEQ tokens, offload $offload"
  "$PYTHON" "$HELPER" rss -- "$CTXEXT" train "$dir/config.yaml" > "$dir/log.txt" 2>&1
  local rc=$?
  tail -3 "$dir/log.txt" >&2
  local fpt
  fpt=$("$PYTHON" "$HELPER" flops --layers "$layers" --seq "$SEQ" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["flops_per_token"])')
  record "$("$PYTHON" - "$dir/out/metrics.jsonl" "$WARMUP" "$name" "$layers" "$rc" "$fpt" "$dir/log.txt" "$offload" <<'EOF'
import json, os, re, statistics, sys
path, warmup, name, layers, rc, fpt, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
rows = [json.loads(l) for l in open(path) if l.strip()] if os.path.exists(path) else []
text = open(log, errors="replace").read()
rss = re.findall(r"RSS_MB (\d+)", text)
oom = "out of memory" in text.lower()
timed = [r["tokens_per_s"] for r in rows if r["step"] > warmup]
out = {"part": name, "side": "ctxext", "layers": layers, "offload": sys.argv[8], "exit": rc, "steps_done": len(rows),
       "oom": oom, "peak_host_rss_mb": int(rss[-1]) if rss else None}
if timed:
    med = statistics.median(timed)
    out.update(median_tokens_per_s=med, mfu=med * fpt / 790e12, peak_gpu_mb=max(r["peak_mem_mb"] for r in rows),
               tokens_per_step=rows[-1]["tokens"])
print(json.dumps(out))
EOF
)"
}

hf_step() {
  local dir=$WORK/b
  rm -rf "$dir"; mkdir -p "$dir"
  say "b: HF transformers, $SMALL_LAYERS layers x $SEQ tokens"
  "$PYTHON" "$HELPER" rss -- "$PYTHON" "$HELPER" train --layers "$SMALL_LAYERS" --seq "$SEQ" \
    --warmup "$WARMUP" --steps "$STEPS" --precision amp > "$dir/log.txt" 2>&1
  local rc=$?
  tail -3 "$dir/log.txt" >&2
  record "$("$PYTHON" - "$dir/log.txt" "$rc" "$SMALL_LAYERS" <<'EOF'
import json, re, sys
text = open(sys.argv[1], errors="replace").read()
summary = [l[8:] for l in text.splitlines() if l.startswith("SUMMARY ")]
rss = re.findall(r"RSS_MB (\d+)", text)
out = {"part": "b", "side": "hf", "layers": int(sys.argv[3]), "exit": int(sys.argv[2]),
       "oom": "out of memory" in text.lower(), "peak_host_rss_mb": int(rss[-1]) if rss else None}
if summary:
    s = json.loads(summary[-1])
    out.update(median_tokens_per_s=s["median_tokens_per_s"], mfu=s["mfu"], peak_gpu_mb=s["peak_gpu_mb"],
               steps_done=s["timed_steps"])
print(json.dumps(out))
EOF
)"
}

recipe() {
  local dir=$WORK/c model=$WORK/model-7b data=$WORK/long-sharegpt.jsonl
  local free_gb
  free_gb=$(df -Pk "$WORK" | awk 'NR == 2 {printf "%d", $4 / 1048576}')
  if [ "$free_gb" -lt 110 ] && [ "${FORCE:-0}" != 1 ]; then
    record "{\"part\": \"c\", \"side\": \"ctxext\", \"skipped\": \"disk: ${free_gb} GiB free < ~110 GB needed (13.5 GB input + 81 GB final checkpoint + 13.5 GB export); FORCE=1 runs it anyway\"}"
    return
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  [ -f "$model/config.json" ] || "$PYTHON" "$HELPER" make-model --layers 32 --out "$model" --tokenizer "$ROOT/data/tokenizer.model"
  [ -s "$data" ] || "$PYTHON" "$HELPER" docs --tokenizer "$ROOT/data/tokenizer.model" \
    --corpus "$ROOT/data/pretrain/train.jsonl" --tokens 16384 --num 100 --format sharegpt --out "$data"
  say "c: 7B recipe (configs/llama2-7b-chat/yarn.yaml), load + 6 steps + checkpoint + export"
  "$PYTHON" "$HELPER" rss -- "$CTXEXT" train "$ROOT/configs/llama2-7b-chat/yarn.yaml" "model.path=$model" \
    "data.path=$data" "data.tokenizer=$ROOT/data/tokenizer.model" "output_dir=$dir/out" \
    checkpoint.every_steps=0 resume=none > "$dir/log.txt" 2>&1
  local rc=$?
  tail -3 "$dir/log.txt" >&2
  record "$("$PYTHON" - "$dir/log.txt" "$rc" "$dir/out/metrics.jsonl" <<'EOF'
import json, os, re, sys
text = open(sys.argv[1], errors="replace").read()
rows = [json.loads(l) for l in open(sys.argv[3]) if l.strip()] if os.path.exists(sys.argv[3]) else []
wall = re.findall(r"WALL_S ([\d.]+)", text)
rss = re.findall(r"RSS_MB (\d+)", text)
print(json.dumps({"part": "c", "side": "ctxext", "layers": 32, "exit": int(sys.argv[2]), "steps_done": len(rows),
                  "oom": "out of memory" in text.lower(), "wall_s": float(wall[-1]) if wall else None,
                  "train_s": sum(r["tokens"] / r["tokens_per_s"] for r in rows) if rows else None,
                  "peak_gpu_mb": max((r["peak_mem_mb"] for r in rows), default=None),
                  "peak_host_rss_mb": int(rss[-1]) if rss else None}))
EOF
)"
  rm -rf "$dir/out/checkpoints"  # 81 GB
}

table() {
  [ -s "$RESULTS" ] || { say "no results yet in $RESULTS"; return; }
  echo
  echo "ctxext GPU benchmark: $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1); SEQ=$SEQ; $WARMUP warm-up + $STEPS timed steps; $(date -u +%F)"
  "$PYTHON" - "$RESULTS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fmt = "{:<8} {:<7} {:>6} {:>10} {:>6} {:>11} {:>11} {:>8} {:>6}  {}"
print(fmt.format("part", "side", "layers", "tok/s", "MFU", "peakGPU_MB", "hostRSS_MB", "wall_s", "exit", "note"))
def f(v, spec):
    return "-" if v is None else format(v, spec)
for r in rows:
    note = r.get("skipped") or ("OOM" if r.get("oom") else "") or (f"{r.get('steps_done')} steps" if r.get("steps_done") is not None else "")
    print(fmt.format(r["part"], r["side"], f(r.get("layers"), "d"), f(r.get("median_tokens_per_s"), ".0f"),
                     f(r.get("mfu"), ".3f"), f(r.get("peak_gpu_mb"), ".0f"), f(r.get("peak_host_rss_mb"), "d"),
                     f(r.get("wall_s"), ".0f"), f(r.get("exit"), "d"), note))
a = {r["part"]: r for r in rows}
if "median_tokens_per_s" in a.get("a-small", {}) and "median_tokens_per_s" in a.get("b", {}):
    print(f"ratio a-small/b: tokens/s {a['a-small']['median_tokens_per_s'] / a['b']['median_tokens_per_s']:.2f}x, "
          f"peak GPU memory {a['a-small']['peak_gpu_mb'] / a['b']['peak_gpu_mb']:.2f}x")
EOF
}

parts=("$@")
((${#parts[@]})) || parts=(a-small b a-7b c table)
for part in "${parts[@]}"; do
  case "$part" in
    a-small) ctxext_step a-small "$SMALL_LAYERS" ;;
    a-7b) ctxext_step a-7b 32 "${OFFLOAD_7B:-optimizer}" ;;
    a-small-off) ctxext_step a-small-off "$SMALL_LAYERS" optimizer ;;
    b) hf_step ;;
    c) recipe ;;
    table) table ;;
    *) say "unknown part '$part' (a-small a-small-off a-7b b c table)"; exit 2 ;;
  esac
done
