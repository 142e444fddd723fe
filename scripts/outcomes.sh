#!/usr/bin/env bash
# The seed demo's test accuracy is one draw from a distribution: this script draws many,
# from nnsh (scripts/mnist_cnn.lua --seed S) and from PyTorch set up as Keras is
# (scripts/bench/torch_outcome.py S), and prints each run and, per framework, the mean,
# the standard deviation, the standard error of the mean and how many runs reached 0.99.
#   scripts/outcomes.sh [--nnsh FIRST LAST] [--torch FIRST LAST] [--epochs N]
# Default: seeds 1-10 of each, 5 epochs. A run takes about 30 s in nnsh and 2 minutes in
# PyTorch on 2 cores. Lines go to build/outcomes.txt as they come ("nnsh 3 0.9904"), so
# an interrupted sweep keeps what it measured.
set -euo pipefail
cd "$(dirname "$0")/.."
nnsh_seeds=(1 10) torch_seeds=(1 10) epochs=5
while [ $# -gt 0 ]; do
  case "$1" in
    --nnsh) nnsh_seeds=("$2" "$3"); shift 2 ;;
    --torch) torch_seeds=("$2" "$3"); shift 2 ;;
    --epochs) epochs=$2; shift ;;
    *) echo "usage: scripts/outcomes.sh [--nnsh FIRST LAST] [--torch FIRST LAST] [--epochs N]" >&2
       exit 2 ;;
  esac
  shift
done
bench=outcomes
source scripts/bench/torch_and_build.sh
results=build/outcomes.txt
: > "$results"

for seed in $(seq "${nnsh_seeds[0]}" "${nnsh_seeds[1]}"); do
  out=$($nnsh scripts/mnist_cnn.lua --seed "$seed" --epochs "$epochs")
  accuracy=$(awk '/^test accuracy:/ { print $3 }' <<<"$out")
  echo "nnsh $seed $accuracy" | tee -a "$results"
done
for seed in $(seq "${torch_seeds[0]}" "${torch_seeds[1]}"); do
  out=$(cd scripts/bench && $python torch_outcome.py "$seed" --epochs "$epochs")
  accuracy=$(awk '$2 == "test_accuracy" { print $3 }' <<<"$out")
  echo "torch $seed $accuracy" | tee -a "$results"
done

awk '{ n[$1]++; s[$1] += $3; q[$1] += $3 * $3; if ($3 >= 0.99) hit[$1]++
       if (!($1 in lo) || $3 < lo[$1]) lo[$1] = $3; if ($3 > hi[$1]) hi[$1] = $3 }
     END { for (f in n) {
             sd = n[f] > 1 ? sqrt((q[f] - s[f] * s[f] / n[f]) / (n[f] - 1)) : 0
             printf "%-5s %3d runs: mean %.5f, sd %.5f, se %.5f, range %.4f-%.4f, %d reached 0.99\n",
                    f, n[f], s[f] / n[f], sd, sd / sqrt(n[f]), lo[f], hi[f], hit[f] + 0 } }' "$results"
