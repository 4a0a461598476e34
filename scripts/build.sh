#!/usr/bin/env bash
# Set-up if needed, then build everything (binary: build/ctxext).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cmake --build "${BUILD_DIR:-build}" -j "$(nproc)"
