#!/usr/bin/env bash
# Benchmark and cross-check of the recurrent layers against Debian's PyTorch.
#   scripts/bench_rnn.sh [--rounds N] [--steps N]
# First the numbers: SimpleRNN, LSTM and GRU in nnsh against torch.nn.RNN, LSTM and GRU in
# double on the same weights (outputs and one step's gradients). Then the speed: one
# layer of 128 units over (batch 64, 50 steps, 32 features) + Dense{10}, Adam, in nnsh
# and in PyTorch (as installed, and with OPENBLAS_NUM_THREADS=1), alternated for N rounds;
# prints the median ms per training step and per forward of a batch, and the ratios.
# PyTorch comes from apt (python3-torch), installed here when missing, for this script
# only. About 2 minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=5 steps=40
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift ;;
    --steps) steps=$2; shift ;;
    *) echo "usage: scripts/bench_rnn.sh [--rounds N] [--steps N]" >&2; exit 2 ;;
  esac
  shift
done

bench=bench_rnn
source scripts/bench/torch_and_build.sh

echo "bench_rnn: nnsh against PyTorch in double (largest differences)"
dump=build/recurrent_dump.py
$nnsh scripts/bench/recurrent_dump.lua "$dump"
$python scripts/bench/recurrent_vs_torch.py "$dump" | sed 's/^RESULT /  /'

results=build/bench-rnn-results.txt
: > "$results"
for round in $(seq "$rounds"); do
  echo "bench_rnn: round $round of $rounds"
  for cell in SimpleRNN LSTM GRU; do
    record nnsh $nnsh scripts/bench/nnsh_rnn.lua --cell $cell --steps "$steps"
    record torch $python scripts/bench/torch_rnn.py --cell $cell --steps "$steps"
    record torch1 env OPENBLAS_NUM_THREADS=1 $python scripts/bench/torch_rnn.py --cell $cell \
      --steps "$steps"
  done
done

echo
echo "median ms over $rounds rounds ($(nproc) cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)})"
awk -f scripts/bench/median_table.awk "$results"
