#!/usr/bin/env bash
# Build ctxext with CUDA on a GPU machine and run the whole test suite there (docs/platform.md "GPU machines").
#
# Two modes, because the GPU machine reaches no package registry:
#
#   scripts/gpu_check.sh --fetch     HERE (a Debian 12 machine with network): downloads the C++
#                                    dependencies as Debian packages (`apt-get download`, with their
#                                    dependency closure minus the C/C++ runtime every Linux has) into
#                                    .deps/debs/, and the Python test oracles as wheels
#                                    (`pip download`, for the GPU machine's Python; PYVER=3.11 by
#                                    default) into .deps/wheels/. .deps/ is git-ignored: carry it to
#                                    the GPU machine (about 40-50 MB).
#   scripts/gpu_check.sh             THERE (the default): unpacks .deps/debs/*.deb with `dpkg -x`
#                                    (or ar + tar) into the prefix .deps/prefix (never into /),
#                                    installs the wheels into .deps/pylib when python3 lacks
#                                    transformers, configures build-gpu with -DCTXEXT_CUDA=ON and
#                                    CMAKE_PREFIX_PATH = .deps/prefix/usr + torch's CMake prefix
#                                    (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)';
#                                    torch 2.11.0+cu130 there), builds, then runs ctest.
#
# Environment: BUILD_DIR=build-gpu, JOBS=$(nproc), PYTHON=python3, CTEST_ARGS="..." (extra ctest
# arguments, e.g. "-R cuda"), PYVER=3.11 (--fetch: the GPU machine's Python version),
# CONFIGURE_ONLY=1 (stop after CMake configure: checks the unpacked prefix without a GPU).
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
  local pyver=${PYVER:-3.11}
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

case "${1:-}" in
  --fetch) fetch ;;
  "") check ;;
  -h|--help) sed -n '2,24p' "$0" ;;
  *) echo "usage: scripts/gpu_check.sh [--fetch]" >&2; exit 2 ;;
esac
