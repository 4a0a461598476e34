# Sourced by the CPU benchmark scripts (bench_train_cpu.sh, bench_ddp_cpu.sh): the one ctxext config
# both time, so their numbers describe the same job.
#
# bench_ctxext_config FILE DATA_DIR SEQ STEPS MICRO GLOBAL THREADS OUT_DIR
#   the `tiny` preset, fp32, RoPE unchanged; text documents DATA_DIR/docs.jsonl (bench_train_hf.py
#   prepare) in file order, each truncated to SEQ tokens; STEPS constant-lr AdamW steps (lr 1e-3,
#   betas 0.9/0.95, eps 1e-8, weight decay 0.1, clip 1.0) of GLOBAL samples in micro-batches of
#   MICRO; no checkpoint but the final one, no export; THREADS intra-op threads.
bench_ctxext_config() {
  local file=$1 data=$2 seq=$3 steps=$4 micro=$5 global=$6 threads=$7 out=$8
  cat > "$file" <<YAML
model:
  preset: tiny
rope:
  type: none
data:
  format: text
  path: $data/docs.jsonl
  tokenizer: $ROOT/data/tokenizer.model
  max_seq_len: $seq
  overflow: truncate
  num_samples: 0
  shuffle: false
  seed: 0
train:
  steps: $steps
  lr: 1.0e-3
  schedule: constant
  warmup_steps: 0
  beta1: 0.9
  beta2: 0.95
  eps: 1.0e-8
  weight_decay: 0.1
  micro_batch_size: $micro
  global_batch_size: $global
  max_grad_norm: 1.0
  precision: fp32
checkpoint:
  every_steps: 0
  keep_last: 1
export:
  enabled: false
runtime:
  device: cpu
  threads: $threads
  seed: 0
output_dir: $out
resume: none
YAML
}
