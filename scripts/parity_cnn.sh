#!/usr/bin/env bash
# Checks that nnsh trains the seed CNN exactly as PyTorch would: the same initial weights,
# the same batches in order and the same Dropout masks (nnsh's, recomputed in Python),
# then Keras' Adam, for N steps; prints the largest difference of each weight relative
# to how far it moved. Float rounding grows with the steps (PyTorch in float32 against
# itself in float64 differs by about 1e-2 after 60 steps), so a few dozen steps tell a
# real difference (a wrong gradient or mask: about 1) from rounding (1e-5 at 20 steps).
#   scripts/parity_cnn.sh [--steps N] [--double]
# Needs the MNIST data (scripts/setup.sh); installs python3-torch like the benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=20 precision=
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift ;;
    --double) precision=double ;;
    *) echo "usage: scripts/parity_cnn.sh [--steps N] [--double]" >&2; exit 2 ;;
  esac
  shift
done
bench=parity_cnn
source scripts/bench/torch_and_build.sh
prefix=build/parity_cnn
$nnsh scripts/bench/parity_cnn.lua "$steps" "$prefix"
echo "parity_cnn: $steps steps of nnsh against PyTorch (${precision:-float32})"
$python scripts/bench/parity_cnn.py "$steps" "$prefix" $precision
