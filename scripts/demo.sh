#!/usr/bin/env bash
# The main job: set-up and build if needed, then extend the embedded tiny LLaMA (native context 256)
# to 1,024 tokens with the 100-sample, 6-step Entropy-Aware ABF recipe, and evaluate the base and
# the extended model side by side (perplexity at 1x-8x, passkey grid, attention entropy).
#   ./scripts/demo.sh            base vs EABF        -> runs/demo/results.md + PNG plots
#   ./scripts/demo.sh --ablate   every RoPE method, 1 seed (~9 min) -> runs/tiny-ablation-quick/results.md + PNG plots
#                                (the 3-seed grid with intervals: build/ctxext ablate configs/tiny/ablation.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."
config=configs/tiny/demo.yaml out=runs/demo
case "${1:-}" in
  "") ;;
  --ablate) config=configs/tiny/ablation_quick.yaml out=runs/tiny-ablation-quick ;;
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
  *) echo "demo.sh: unknown argument '$1' (expected --ablate or nothing)" >&2; exit 2 ;;
esac
./scripts/build.sh
# A fresh run every time: the training runs would otherwise resume from the last demo's checkpoints.
rm -rf "$out"
build/ctxext ablate "$config"
