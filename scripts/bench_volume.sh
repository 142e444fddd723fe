#!/usr/bin/env bash
# Benchmark of the 3-D layers against Debian's PyTorch.
#   scripts/bench_volume.sh [--rounds N] [--steps N]
# A small 3-D CNN (scripts/bench/nnsh_volume.lua: batch 16 of 16 x 32 x 32 volumes, two
# Conv3D + MaxPooling3D blocks, GlobalAveragePooling3D, Dense{10}, Adam) in nnsh and in
# PyTorch (as installed, and with OPENBLAS_NUM_THREADS=1), alternated for N rounds; prints
# the median ms per training step and per forward of a batch, and the ratios. (The values
# were checked against PyTorch when the layers were written; this times them.) About two
# minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 steps=20
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    *) echo "usage: scripts/bench_volume.sh [--rounds N] [--steps N]" >&2; exit 2 ;;
  esac
  shift
done

bench=bench_volume
results=build/bench-volume-results.txt
source scripts/bench/torch_and_build.sh
: > "$results"
for round in $(seq "$rounds"); do
  echo "bench_volume: round $round of $rounds"
  record nnsh $nnsh scripts/bench/nnsh_volume.lua --steps "$steps"
  record torch $python scripts/bench/torch_volume.py --steps "$steps"
  record torch1 env OPENBLAS_NUM_THREADS=1 $python scripts/bench/torch_volume.py --steps "$steps"
done

echo
echo "median ms over $rounds rounds ($(nproc) cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)})"
awk -f scripts/bench/median_table.awk "$results"
