#!/usr/bin/env bash
# Benchmark: the seed CNN (SPEC §3) in nnsh and, side by side, in Debian's PyTorch.
#   scripts/bench.sh [--rounds N] [--epochs N] [--steps N] [--no-torch] [--no-accuracy]
# Times training steps at batch 64 after warm-up, one epoch with validation, inference on
# the 10,000 test images, start-up and peak memory; runs nnsh, PyTorch as installed and
# PyTorch with OPENBLAS_NUM_THREADS=1 (its best setting) in alternation, and prints each
# figure's median, the ratios, the GFLOP/s reached against the sgemm rate of the OpenBLAS
# nnsh links, and the test accuracy after 5 epochs (three seeds). Each epoch round also
# runs both programs with the images kept as uint8 and scaled per batch by the model's
# first layer (nnsh's Rescaling), for the memory that pipeline needs. About 11 minutes
# on two cores.
# PyTorch comes from apt (python3-torch, installed here when missing, for the benchmark
# only; --no-torch skips it). Environment settings such as OPENBLAS_CORETYPE are used as
# they are and reported.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 epoch_rounds=3 steps=100 torch=1 accuracy=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --epochs) epoch_rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    --no-torch) torch=0 ;;
    --no-accuracy) accuracy=0 ;;
    *) echo "usage: scripts/bench.sh [--rounds N] [--epochs N] [--steps N] [--no-torch]" \
            "[--no-accuracy]" >&2
       exit 2 ;;
  esac
  shift
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's PyTorch is importable by /usr/bin/python3 (not necessarily the first python3).
python=/usr/bin/python3
if [ $torch = 1 ] && ! $python -c 'import torch' 2>/dev/null; then
  echo "bench: installing python3-torch for the comparison (apt)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >/dev/null; then
    echo "bench: python3-torch could not be installed; timing nnsh alone" >&2
    torch=0
  fi
fi

if [ ! -f build/build.ninja ] && [ ! -f build/Makefile ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build >/dev/null
scripts/fetch_mnist.sh >/dev/null

nnsh=build/nnsh
# Every figure of every run, kept for a second look (summary.lua reads it again).
results=build/bench-results.txt
: > "$results"

# record TAG COMMAND...: runs the command, keeping its RESULT lines under TAG.
record() {
  local tag=$1; shift
  "$@" | awk -v tag="$tag" '$1 == "RESULT" { print tag, $2, $3 }' >> "$results"
}

echo "bench: sgemm probe"
record sgemm build/scripts/bench/nnsh_sgemm_probe
# The other OPENBLAS_CORETYPE setting, for reference only (the floor uses the one set).
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then
  record sgemm_default env -u OPENBLAS_CORETYPE build/scripts/bench/nnsh_sgemm_probe
else
  record sgemm_haswell env OPENBLAS_CORETYPE=Haswell build/scripts/bench/nnsh_sgemm_probe
fi

echo "bench: start-up"
# milliseconds TAG COMMAND...: the wall time of one run, as a result line.
milliseconds() {
  local tag=$1 start end; shift
  start=$EPOCHREALTIME; "$@"; end=$EPOCHREALTIME
  awk -v tag="$tag" -v a="$start" -v b="$end" \
    'BEGIN { printf "%s startup_ms %.2f\n", tag, (b - a) * 1000 }' >> "$results"
}
for _ in $(seq 21); do milliseconds nnsh $nnsh -e ''; done
if [ $torch = 1 ]; then
  for _ in 1 2 3; do milliseconds torch $python -c 'import torch'; done
fi

short=(--mode short --steps "$steps" --warmup 10)
for round in $(seq "$rounds"); do
  echo "bench: round $round of $rounds (training steps and inference)"
  record nnsh $nnsh scripts/bench/nnsh_cnn.lua "${short[@]}"
  if [ $torch = 1 ]; then
    record torch $python scripts/bench/torch_cnn.py "${short[@]}"
    record torch1 env OPENBLAS_NUM_THREADS=1 $python scripts/bench/torch_cnn.py "${short[@]}"
  fi
done

for round in $(seq "$epoch_rounds"); do
  echo "bench: one epoch with validation each, round $round of $epoch_rounds"
  record nnsh $nnsh scripts/bench/nnsh_cnn.lua --mode epoch
  if [ $torch = 1 ]; then
    record torch $python scripts/bench/torch_cnn.py --mode epoch
    record torch1 env OPENBLAS_NUM_THREADS=1 $python scripts/bench/torch_cnn.py --mode epoch
  fi
  record nnsh_bytes $nnsh scripts/bench/nnsh_cnn.lua --mode epoch --pixels bytes
  if [ $torch = 1 ]; then
    record torch_bytes $python scripts/bench/torch_cnn.py --mode epoch --pixels bytes
  fi
done

if [ $accuracy = 1 ]; then
  # One seed's accuracy moves by about 0.001 with any change of rounding: three seeds.
  for seed in 1 2 3; do
    echo "bench: 5 epochs for the test accuracy (nnsh, seed $seed of 3)"
    record nnsh $nnsh scripts/bench/nnsh_cnn.lua --mode accuracy --seed "$seed"
  done
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo "bench: every run's figures are in $results"
echo
$nnsh scripts/bench/summary.lua "$results" "$cpu" "$(nproc)" \
  "${OPENBLAS_CORETYPE:-(unset)}" "${OPENBLAS_L2_SIZE:-(unset)}"
