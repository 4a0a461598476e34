#!/usr/bin/env bash
# One GPU check for a lent GPU machine (docs/platform.md "GPU machines"): CUDA tests, kernel
# micro-benchmarks, the training benchmark (ctxext vs HF transformers) and the planner against the
# measured peak, inside one device call, logs under $OUT. The GPU machine reaches no package
# registry and a build there costs device minutes, so the default flow carries a build made HERE:
#
#   scripts/gpu_check.sh --pack      HERE (CUDA torch in .venv + nvcc: build/ has the CUDA kernels):
#                                    copies build/'s libraries, ctxext, the test binaries and CTest
#                                    files, and the Debian runtime libraries they need (yaml-cpp,
#                                    spdlog, fmt, sentencepiece) into .gpu/ (git-ignored, ~25 MB).
#   scripts/gpu_check.sh [PARTS]     THERE, with .gpu carried: links /work/main to this checkout (the
#                                    build's absolute paths), build -> .gpu/build, .venv/bin/python ->
#                                    python3 there (torch 2.11.0+cu130, the same wheel as .venv here),
#                                    then runs PARTS (default: env tests offload kernels train plan ctest) under
#                                    a deadline of BUDGET_S seconds (default 420): each part gets what
#                                    is left, a part that runs out is killed and the next still runs.
#     env      nvidia-smi, torch, ldd of ctxext (a missing library shows here first)
#     tests    the CUDA test cases (ctest -R cuda) and the ops tests
#     offload  tiny recipe on the GPU: plain trainer vs sharding=full + offload=optimizer, losses per step
#     kernels  scripts/bench_kernels_gpu.py: ceilings measured now + fused ops vs LibTorch composition
#     train    scripts/bench_gpu.sh a-small b a-7b a-small-off table: 8 layers of 7B width, ctxext vs
#              HF at 16k; the 32-layer 7B shape with train.offload=optimizer (tokens/s, MFU, peak GPU
#              and host); the 8-layer shape again with offload
#     plan     ctxext plan for the same configs, printed beside the measured peaks; then a-small
#              profiled (train --profile-steps 2: host ops and device kernels by category)
#     ctest    the whole suite (what is left of the budget)
#   scripts/gpu_check.sh --fetch     HERE: Debian packages + wheels into .deps/ for --build
#   scripts/gpu_check.sh --build     THERE: the older flow, build from source with CUDA in build-gpu
#                                    (unpacks .deps/debs into .deps/prefix; minutes of device time)
#
# Environment: BUDGET_S=420, JOBS=$(nproc), PYTHON=python3, CTEST_ARGS (extra ctest arguments),
# BUILD_DIR=build-gpu and PYVER=3.12 and CONFIGURE_ONLY=1 (--fetch/--build only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/.deps
PREFIX=$DEPS/prefix
BUILD_DIR=${BUILD_DIR:-build-gpu}
JOBS=${JOBS:-$(nproc)}
PYTHON=${PYTHON:-python3}

# The C++ dependencies of CMakeLists.txt (find_package + pkg-config sentencepiece) and pkg-config.
PACKAGES=(libyaml-cpp-dev libspdlog-dev libfmt-dev libsentencepiece-dev sentencepiece catch2
          nlohmann-json3-dev libcli11-dev libgloo-dev pkgconf)
# Present on every glibc system; never unpack our own copies of these.
BASE_RE='^(libc6|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|libcrypt1|debconf|dpkg)$'
# Python oracles of the tests (requirements.txt minus torch, which the GPU machine has).
WHEELS=(transformers==5.24.0 safetensors==0.8.0 sentencepiece==0.2.3 numpy==2.4.6)

fetch() {
  mkdir -p "$DEPS/debs" "$DEPS/wheels"
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
                           --no-replaces --no-enhances "${PACKAGES[@]}" | grep -v '^[ <]' | sort -u | grep -Ev "$BASE_RE")
  echo "gpu_check --fetch: ${#closure[@]} Debian packages: ${closure[*]}"
  (cd "$DEPS/debs" && apt-get download "${closure[@]}")
  local pyver=${PYVER:-3.12}
  python3 -m pip download -q --only-binary=:all: --python-version "$pyver" --platform manylinux2014_x86_64 \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --implementation cp \
    -d "$DEPS/wheels" "${WHEELS[@]}"
  du -sh "$DEPS/debs" "$DEPS/wheels"
  echo "gpu_check --fetch: done; carry .deps to the GPU machine and run scripts/gpu_check.sh there"
}

unpack_debs() {
  compgen -G "$DEPS/debs/*.deb" > /dev/null || { echo "gpu_check: no .deps/debs/*.deb; run scripts/gpu_check.sh --fetch first (with network)" >&2; exit 1; }
  if [ -f "$PREFIX/.unpacked" ] && [ "$(ls "$DEPS"/debs/*.deb | sha256sum)" = "$(cat "$PREFIX/.unpacked")" ]; then return; fi
  rm -rf "$PREFIX"; mkdir -p "$PREFIX"
  for deb in "$DEPS"/debs/*.deb; do
    if command -v dpkg > /dev/null; then
      dpkg -x "$deb" "$PREFIX"
    else  # a .deb is an ar archive holding data.tar.{xz,zst,gz}
      local tmp; tmp=$(mktemp -d)
      (cd "$tmp" && ar x "$deb" && tar -xf data.tar.* -C "$PREFIX")
      rm -rf "$tmp"
    fi
  done
  ls "$DEPS"/debs/*.deb | sha256sum > "$PREFIX/.unpacked"
  echo "gpu_check: unpacked $(ls "$DEPS"/debs/*.deb | wc -l) packages into $PREFIX"
}

check() {
  command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "gpu_check: warning: no nvidia-smi"
  command -v nvcc > /dev/null || { echo "gpu_check: nvcc not on PATH (try /usr/local/cuda/bin)" >&2; [ -x /usr/local/cuda/bin/nvcc ] && export PATH=/usr/local/cuda/bin:$PATH; }
  nvcc --version | tail -1
  local torch_prefix
  torch_prefix=$("$PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  "$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())'

  unpack_debs
  local arch_lib=$PREFIX/usr/lib/x86_64-linux-gnu
  export LD_LIBRARY_PATH=$arch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  # sentencepiece comes through pkg-config: its .pc says prefix=/usr, so the sysroot re-roots it.
  export PKG_CONFIG_PATH=$arch_lib/pkgconfig:$PREFIX/usr/share/pkgconfig
  export PKG_CONFIG_SYSROOT_DIR=$PREFIX
  local pkg_config
  pkg_config=$(command -v pkg-config || true)
  [ -n "$pkg_config" ] || pkg_config=$PREFIX/usr/bin/pkgconf

  # Python oracles for the tests that compare against transformers.
  if ! "$PYTHON" -c 'import transformers, safetensors, sentencepiece' 2> /dev/null; then
    if compgen -G "$DEPS/wheels/*.whl" > /dev/null; then
      [ -d "$DEPS/pylib" ] || "$PYTHON" -m pip install -q --no-index --find-links "$DEPS/wheels" --target "$DEPS/pylib" \
        "${WHEELS[@]}"
      export PYTHONPATH=$DEPS/pylib${PYTHONPATH:+:$PYTHONPATH}
    else
      echo "gpu_check: warning: $PYTHON lacks transformers and .deps/wheels is empty; oracle tests will fail" >&2
    fi
  fi

  if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCTXEXT_CUDA=ON \
      -DCMAKE_PREFIX_PATH="$PREFIX/usr;$torch_prefix" -DPKG_CONFIG_EXECUTABLE="$pkg_config" \
      -DCTXEXT_PYTHON="$(command -v "$PYTHON")"
  fi
  [ "${CONFIGURE_ONLY:-0}" = 1 ] && { grep -m1 "ctxext: CUDA" "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true; echo "gpu_check: configured $BUILD_DIR (CONFIGURE_ONLY=1)"; return; }
  cmake --build "$BUILD_DIR" -j "$JOBS"
  # shellcheck disable=SC2086
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS" ${CTEST_ARGS:-}
  nccl_run
}

# Data parallel over NCCL: 2 ranks of the tiny recipe through torchrun, one GPU each (needs 2 GPUs;
# NCCL refuses two ranks on one device), compared with one process on the same global batch.
nccl_run() {
  local gpus torchrun out=${OUT:-/tmp}/nccl
  mkdir -p "$out"
  # One GPU: the ZeRO-3 code path (layer weights gathered and freed on the device) with the optimizer
  # offloaded to pinned host memory, against the plain trainer, same recipe.
  "$BUILD_DIR/ctxext" train configs/tiny/eabf.yaml runtime.device=cuda train.precision=fp32 output_dir="$out/plain" resume=none
  "$BUILD_DIR/ctxext" train configs/tiny/eabf.yaml runtime.device=cuda train.precision=fp32 train.sharding=full \
    train.offload=optimizer train.activation_checkpointing=true output_dir="$out/full-offload" resume=none
  compare_runs "$out" plain full-offload
  gpus=$(nvidia-smi -L 2> /dev/null | wc -l)
  if [ "$gpus" -lt 2 ]; then echo "gpu_check: NCCL data parallel not run: $gpus GPU(s), it needs 2"; return; fi
  torchrun=$(dirname "$(command -v "$PYTHON")")/torchrun
  [ -x "$torchrun" ] || torchrun="$PYTHON -m torch.distributed.run"
  "$BUILD_DIR/ctxext" train configs/tiny/eabf.yaml runtime.device=cuda train.precision=fp32 output_dir="$out/single" resume=none
  $torchrun --nnodes=1 --nproc-per-node=2 --no-python "$BUILD_DIR/ctxext" train configs/tiny/eabf.yaml \
    runtime.device=cuda train.precision=fp32 train.sharding=optimizer output_dir="$out/nccl" resume=none
  compare_runs "$out" single nccl
}

# Per-step loss and tokens/s of two runs under $1 (folders $2 and $3), side by side.
compare_runs() {
  "$PYTHON" - "$@" <<'EOF'
import json, sys
rows = lambda d: [json.loads(l) for l in open(f"{sys.argv[1]}/{d}/metrics.jsonl")]
a_name, b_name = sys.argv[2], sys.argv[3]
for a, b in zip(rows(a_name), rows(b_name)):
    print(f"step {a['step']}: loss {a_name} {a['loss']:.6f} {b_name} {b['loss']:.6f} "
          f"rel {abs(a['loss'] - b['loss']) / a['loss']:.2e}  tok/s {a['tokens_per_s']:.0f} vs {b['tokens_per_s']:.0f}")
EOF
}

# --- the carried build (--pack here, the default flow there) ---------------------------------
GPU=$ROOT/.gpu

pack() {
  [ -x build/ctxext ] || { echo "gpu_check --pack: build/ctxext missing: run ./scripts/build.sh" >&2; exit 1; }
  grep -q "csrc_cuda/rope.cu.o" build/build.ninja ||
    { echo "gpu_check --pack: build/ has no CUDA kernels (configure found no nvcc or a CPU-only torch)" >&2; exit 1; }
  rm -rf "$GPU"; mkdir -p "$GPU/build/tests" "$GPU/lib"
  cp -a build/ctxext build/lib*.so build/CTestTestfile.cmake "$GPU/build/"
  cp -a build/tests/test_* build/tests/CTestTestfile.cmake "$GPU/build/tests/"
  [ -d build/tests/oracle-cache ] && cp -a build/tests/oracle-cache "$GPU/build/tests/"
  # The Debian libraries outside the C runtime and torch (resolved where they are here).
  ldd build/ctxext $(find build/tests -maxdepth 1 -name 'test_*' -type f -executable) | awk '/=> \// {print $3}' | sort -u |
    grep -E '/lib(yaml-cpp|spdlog|fmt|sentencepiece|protobuf)[^/]*$' | xargs -r cp -L -t "$GPU/lib/"
  echo "gpu_check --pack: $(du -sh "$GPU" | cut -f1) in .gpu (libraries: $(ls "$GPU/lib" | tr '\n' ' '))"
  echo "gpu_check --pack: carry .gpu; on the GPU machine run scripts/gpu_check.sh"
}

# The build's absolute paths (/work/main/...) made true on the GPU machine, and python3 there as .venv's.
link_tree() {
  [ -d "$GPU/build" ] || { echo "gpu_check: no .gpu/build: run scripts/gpu_check.sh --pack here and carry .gpu" >&2; exit 1; }
  if [ "$ROOT" != /work/main ]; then
    [ -e /work/main ] && [ ! -L /work/main ] && { echo "gpu_check: /work/main exists and is not this checkout" >&2; exit 1; }
    mkdir -p /work && ln -sfn "$ROOT" /work/main
  fi
  [ -e build ] && [ ! -L build ] && { echo "gpu_check: build/ exists here; move it away (the carried .gpu/build takes its place)" >&2; exit 1; }
  ln -sfn .gpu/build build
  local py torch_lib
  py=$(command -v "$PYTHON")
  mkdir -p .venv/bin
  # Wrappers, not symlinks: a symlinked venv python would lose its venv (pyvenv.cfg is looked up beside it).
  printf '#!/bin/sh\nexec %s "$@"\n' "$py" > .venv/bin/python
  printf '#!/bin/sh\nexec %s -m torch.distributed.run "$@"\n' "$py" > .venv/bin/torchrun
  chmod +x .venv/bin/python .venv/bin/torchrun
  torch_lib=$("$PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
  local cu_lib
  cu_lib=$(dirname "$torch_lib")/../nvidia/cu13/lib
  export LD_LIBRARY_PATH=$GPU/lib:$torch_lib:$cu_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
}

DEADLINE=0
left() { echo $((DEADLINE - SECONDS)); }

# part NAME CMD...: runs CMD with what is left of the budget, output to $LOGS/NAME.log and the terminal.
part() {
  local name=$1; shift
  local t; t=$(left)
  if [ "$t" -lt 15 ]; then echo "gpu_check: $name skipped: budget spent" | tee -a "$SUMMARY"; return; fi
  echo "=== $name ($(date -u +%T), ${t}s left)"
  local start=$SECONDS rc=0
  timeout --signal=TERM --kill-after=10 "$t" "$@" > "$LOGS/$name.log" 2>&1 || rc=$?
  tail -n "${TAIL_LINES:-25}" "$LOGS/$name.log"
  echo "gpu_check: $name exit $rc in $((SECONDS - start)) s$([ $rc = 124 ] && echo ' (budget ran out)')" | tee -a "$SUMMARY"
}

part_env() {
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
  "$PYTHON" -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(), "transformers", transformers.__version__)'
  nproc; free -g | head -2
  ldd build/ctxext | grep -E "not found|ctxext_ops|torch_cuda|yaml|sentencepiece" || true
  build/ctxext --version
}

# The tiny recipe on the GPU: plain trainer vs ZeRO-3 path + optimizer offload to pinned host memory +
# activation checkpointing, fp32, same data: per-step losses side by side (same arithmetic expected).
offload_compare() {
  local out=$WORK/offload
  build/ctxext train configs/tiny/eabf.yaml runtime.device=cuda train.precision=fp32 output_dir="$out/plain" resume=none checkpoint.final=false export.enabled=false
  build/ctxext train configs/tiny/eabf.yaml runtime.device=cuda train.precision=fp32 train.sharding=full \
    train.offload=optimizer train.activation_checkpointing=true output_dir="$out/full-offload" resume=none checkpoint.final=false export.enabled=false
  compare_runs "$out" plain full-offload
}

part_plan() {
  local work=${WORK:-/tmp/ctxext-bench-gpu} cfg
  for cfg in "$work"/a-small/config.yaml "$work"/a-7b/config.yaml; do
    [ -f "$cfg" ] || { echo "plan: $cfg missing (train part did not write it)"; continue; }
    echo "--- ctxext plan $cfg"
    build/ctxext plan "$cfg" --gpu-memory 141GB --host-memory 128GB | sed -n '/^phase/,$p'
    echo "measured peak GPU (allocator max_allocated) MB: $(grep -h "\"part\": \"$(basename "$(dirname "$cfg")")\"" "$work/results.jsonl" | tail -1)"
  done
  # Where a-small's step goes: host ops and device kernels by category (matmul, attention, ctxext
  # kernels, optimizer, copies, other; the device's idle share), steps 2-3 of a 3-step run.
  cfg=$work/a-small/config.yaml
  [ -f "$cfg" ] || return 0
  echo "--- ctxext train $cfg train.steps=3 --profile-steps 2"
  build/ctxext train "$cfg" train.steps=3 output_dir="$work/profile" resume=none --profile-steps 2 2>&1 |
    sed -n '/info profile: [0-9]/,/info profile: every op/p' | sed 's/^\[[0-9:]*\] info //'
}

run_checks() {
  link_tree
  # $OUT brings back at most 8 files: one log per part (7) and work.tar.gz (the runs' metrics and logs,
  # kernels.jsonl): nothing else may be written there.
  LOGS=${OUT:-/tmp/gpu-check}; SUMMARY=/tmp/gpu-check-summary.txt
  DEADLINE=$((SECONDS + ${BUDGET_S:-420}))
  export WORK=${WORK:-/tmp/ctxext-bench-gpu} PYTHON CTXEXT=$ROOT/build/ctxext
  mkdir -p "$LOGS" "$WORK"; : > "$SUMMARY"
  local parts=("$@"); ((${#parts[@]})) || parts=(env tests offload kernels train plan ctest)
  local p
  for p in "${parts[@]}"; do
    case "$p" in
      env) part env bash -c part_env ;;
      tests) part tests ctest --test-dir build --output-on-failure -j 8 -R "cuda|CUDA|^ops:" ;;
      kernels) part kernels "$PYTHON" scripts/bench_kernels_gpu.py --json "$WORK/kernels.jsonl" ;;
      offload) part offload bash -c offload_compare ;;
      train) TAIL_LINES=40 part train env WARMUP=${WARMUP:-1} STEPS=${STEPS:-4} scripts/bench_gpu.sh a-small b a-7b a-small-off table ;;
      plan) part plan bash -c part_plan ;;
      # shellcheck disable=SC2086
      ctest) part ctest ctest --test-dir build --output-on-failure -j "$JOBS" ${CTEST_ARGS:-} ;;
      *) echo "gpu_check: unknown part '$p' (env tests offload kernels train plan ctest)" >&2; exit 2 ;;
    esac
  done
  [ -d "$WORK" ] && tar -czf "$LOGS/work.tar.gz" -C "$WORK" --exclude='*.safetensors' --exclude='docs-*.jsonl' \
    --exclude='checkpoints' . 2> /dev/null
  echo "=== summary"; cat "$SUMMARY"
}
export -f part_env part_plan offload_compare compare_runs

case "${1:-}" in
  --fetch) fetch ;;
  --build) check ;;
  --pack) pack ;;
  -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0" ;;
  -*) echo "usage: scripts/gpu_check.sh [--pack | --fetch | --build | PARTS...]" >&2; exit 2 ;;
  *) run_checks "$@" ;;
esac
