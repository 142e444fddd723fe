#!/usr/bin/env bash
# A process stopped in the middle of training (Ctrl-Z, or SIGSTOP) and continued: the time
# it stood still is left out of the epoch's time and ms/step, as a pause is, whether the
# stop came during the batches or while validating. The epoch lines' times (steps times
# the time per step) must then add up to well under the run's wall time, which holds the
# stop; without the fix they add up to all of it. (Ctrl-Z itself cannot be sent here: the
# pane's process group has no job-control shell above it, and the kernel drops stop
# signals to such a group; SIGSTOP stops it all the same.)
source "$(dirname "$0")/lib.sh" "$1"

STOP_SECONDS=6

# The seconds the epoch lines of the scrollback account for: steps x time per step each.
epoch_seconds() {
  view_scrollback | grep -oE '^[0-9]+/[0-9]+ \[=+\] - [0-9]+s [0-9]+(us|ms|s)/step' |
    awk '{ split($1, steps, "/"); per = $5; sub("/step", "", per)
           unit = per; gsub(/[0-9]/, "", unit); value = per + 0
           scale = unit == "us" ? 1e-6 : unit == "ms" ? 1e-3 : 1
           total += steps[2] * value * scale; lines++ }
         END { printf "%d %.3f\n", lines, total }'
}

# run EPOCHS WAIT_FOR_REGEX [environment...]: starts the fit, stops nnsh for STOP_SECONDS
# once the screen matches, and checks the epoch lines against the wall time.
run() {
  local epochs=$1 ready=$2
  shift 2
  local started
  started=$(date +%s.%N)
  view_start 100 32 '"$NNSH" fit_stopped.lua' FIT_EPOCHS="$epochs" "$@"
  view_wait_regex "$ready" 120 || fail "the screen never matched $ready"
  local pane nnsh_pid
  pane=$(view_tmux display -p '#{pane_pid}')
  nnsh_pid=$(pgrep -P "$pane" | head -n 1)
  kill -STOP "$nnsh_pid" || fail 'nnsh ended before the stop'
  sleep "$STOP_SECONDS"
  kill -CONT "$nnsh_pid"
  view_wait 'RESULT' 600 scrollback || fail 'training did not finish after the stop'
  local wall counted lines
  wall=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
  read -r lines counted < <(epoch_seconds)
  [ "$lines" -eq "$epochs" ] || fail "expected $epochs epoch lines, got $lines"
  awk -v c="$counted" -v w="$wall" -v s="$STOP_SECONDS" 'BEGIN { exit !(c < w - s / 2) }' ||
    fail "the epochs count ${counted}s of a ${wall}s run that stood still for ${STOP_SECONDS}s"
}

run 5 'Epoch [2-4]/5' FIT_ROWS=65536 FIT_WIDTH=256
pass 'a stop during the batches is not training time'

# While validating: the view says "validating" then.
run 3 'validating$' FIT_ROWS=4096 FIT_WIDTH=64 FIT_VALIDATION_ROWS=400000
pass 'a stop while validating is not in the epoch time'
