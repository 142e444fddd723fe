#!/usr/bin/env bash
# What the live training screen costs: the same fit (scripts/bench_view.lua) with the
# view (verbose=1) and silent (verbose=0), both in a real 120x40 terminal (tmux),
# alternating, RUNS times each. Prints the median wall and CPU times, their ratios, and
# the view's own count of its drawing time. On a busy machine trust the CPU times and
# the view's own count more than the wall times. OpenBLAS runs on one thread (the view draws on
# the main thread; spare cores would hide its cost), unless OPENBLAS_NUM_THREADS is set.
#   scripts/bench_view.sh [path/to/nnsh] [runs]      (defaults: build/nnsh, 3)
set -euo pipefail
cd "$(dirname "$0")/.."
nnsh=$(realpath "${1:-build/nnsh}")
runs=${2:-3}
command -v tmux >/dev/null || { echo "bench_view: needs tmux" >&2; exit 1; }
socket="nnsh-bench-$$"
work=$(mktemp -d)
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$socket"; rm -rf "$work"' EXIT

# run VERBOSE N: one timed fit in a fresh 120x40 terminal; appends its seconds to
# $work/times-VERBOSE and the view's statistics line to $work/stats.
run() {
  local verbose=$1 n=$2
  tmux -L "$socket" -f /dev/null new-session -d -x 120 -y 40 \
    -e LANG=C.UTF-8 -e NNSH_LIVE_STATS=1 -e BENCH_VERBOSE="$verbose" -c "$PWD" \
    "bash -c 's=\$(date +%s.%N); \"$nnsh\" scripts/bench_view.lua; e=\$(date +%s.%N); \
     times > \"$work/times-of-$verbose-$n\"; \
     echo \$s \$e \$(tail -1 \"$work/times-of-$verbose-$n\") > \"$work/done-$verbose-$n\"'; sleep 30"
  while [ ! -s "$work/done-$verbose-$n" ]; do sleep 0.2; done
  tmux -L "$socket" capture-pane -p -J -S - -E - > "$work/out-$verbose-$n"
  tmux -L "$socket" kill-server
  # Wall time, and CPU time (user + system, from bash's times: 0m12.345s 0m0.123s).
  awk '{printf "%.3f\n", $2 - $1}' "$work/done-$verbose-$n" >> "$work/times-$verbose"
  awk '{ split($3, u, /[ms]/); split($4, y, /[ms]/); printf "%.3f\n", u[1] * 60 + u[2] + y[1] * 60 + y[2] }' \
    "$work/done-$verbose-$n" >> "$work/cpu-$verbose"
  grep -a 'live view:' "$work/out-$verbose-$n" >> "$work/stats" || true
}

median() { sort -n "$1" | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Alternating, and swapping which goes first, so drift in the machine's load hits both.
for n in $(seq 1 "$runs"); do
  if ((n % 2)); then run 0 "$n"; run 1 "$n"; else run 1 "$n"; run 0 "$n"; fi
done
report() { # KIND FILE-PREFIX
  local silent view
  silent=$(median "$work/$2-0")
  view=$(median "$work/$2-1")
  echo "$1, silent (verbose=0): $(tr '\n' ' ' < "$work/$2-0")s, median ${silent}s"
  echo "$1, live view (verbose=1): $(tr '\n' ' ' < "$work/$2-1")s, median ${view}s"
  awk -v v="$view" -v s="$silent" -v k="$1" 'BEGIN {printf "%s ratio view/silent: %.3f\n", k, v / s}'
}
report 'wall time' times
report 'CPU time' cpu
sed 's/^/view drawing: /' "$work/stats"
