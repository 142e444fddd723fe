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

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
python=/usr/bin/python3
if ! $python -c 'import torch' 2>/dev/null; then
  echo "bench_rnn: installing python3-torch for the comparison (apt)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch >/dev/null
fi
if [ ! -f build/build.ninja ] && [ ! -f build/Makefile ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build build >/dev/null
nnsh=build/nnsh

echo "bench_rnn: nnsh against PyTorch in double (largest differences)"
dump=build/recurrent_dump.py
$nnsh scripts/bench/recurrent_dump.lua "$dump"
$python scripts/bench/recurrent_vs_torch.py "$dump" | sed 's/^RESULT /  /'

results=build/bench-rnn-results.txt
: > "$results"
record() {
  local tag=$1; shift
  "$@" | awk -v tag="$tag" '$1 == "RESULT" { print tag, $2, $3 }' >> "$results"
}
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
awk '
  {
    values[$1 " " $2] = values[$1 " " $2] " " $3
    if (!($2 in seen)) { seen[$2] = 1; names[++count] = $2 }
  }
  function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    printf "%-22s %10s %10s %14s %12s\n", "figure", "nnsh", "torch", "torch 1 thread", "nnsh/best"
    for (k = 1; k <= count; k++) {
      name = names[k]
      a = median(values["nnsh " name]); b = median(values["torch " name]); c = median(values["torch1 " name])
      best = b < c ? b : c
      printf "%-22s %10.2f %10.2f %14.2f %12.2f\n", name, a, b, c, a / best
    }
  }' "$results"
