#!/usr/bin/env bash
# The whole test suite from any state of the tree: set-up, build, then every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
