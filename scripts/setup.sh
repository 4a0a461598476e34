#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: Debian packages, the project venv (.venv) with
# the pinned PyTorch/transformers (LibTorch comes from the torch wheel), and a configured build/.
# Quiet when nothing is missing. Environment:
#   BUILD_DIR=build          where CMake builds
#   CTXEXT_LIBTORCH=/path    an official LibTorch unzipped folder to build against instead of the wheel
#   CMAKE_ARGS="..."         extra CMake arguments, e.g. -DCTXEXT_CUDA=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}

packages=(cmake ninja-build g++ pkg-config python3-venv libyaml-cpp-dev libspdlog-dev libfmt-dev
          libsentencepiece-dev sentencepiece catch2 nlohmann-json3-dev libcli11-dev
          libgloo-dev iproute2)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The venv is rebuilt only when requirements.txt changed (its hash is kept inside the venv).
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv from requirements.txt (torch wheel is large; a few minutes)"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > .venv/.requirements.sha256
fi

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  if [ -n "${CTXEXT_LIBTORCH:-}" ]; then
    prefix=$CTXEXT_LIBTORCH
  else
    prefix=$(.venv/bin/python -c 'import torch; print(torch.utils.cmake_prefix_path)')
  fi
  echo "setup: configuring $BUILD_DIR (Torch from $prefix)"
  mkdir -p "$BUILD_DIR"
  # shellcheck disable=SC2086
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
        -DCTXEXT_PYTHON="$PWD/.venv/bin/python" ${CMAKE_ARGS:-} > "$BUILD_DIR/configure.log" 2>&1 \
    || { cat "$BUILD_DIR/configure.log"; exit 1; }
  grep "ctxext: CUDA" "$BUILD_DIR/configure.log" || true
fi
