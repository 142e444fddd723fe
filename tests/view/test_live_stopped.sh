#!/usr/bin/env bash
# A process stopped in the middle of training (Ctrl-Z, or SIGSTOP) and continued: the time
# it stood still is left out of the epoch's time and ms/step, as a pause is, whether the
# stop came during the batches or while validating.
source "$(dirname "$0")/lib.sh" "$1"

# SIGSTOP during the batches. (Ctrl-Z cannot be sent here: the pane's process group has
# no job-control shell above it, and the kernel drops stop signals to such a group.)
view_start 100 32 '"$NNSH" fit_stopped.lua' FIT_EPOCHS=8 FIT_ROWS=65536 FIT_WIDTH=512
view_wait_regex 'Epoch [2-6]/8' 300 || fail 'training did not get going'
pane=$(view_tmux display -p '#{pane_pid}')
nnsh_pid=$(pgrep -P "$pane" | head -n 1)
[ -n "$nnsh_pid" ] || fail 'no nnsh process under the pane'
kill -STOP "$nnsh_pid" || fail 'nnsh ended before the stop'
sleep 6
kill -CONT "$nnsh_pid" || fail 'nnsh ended while stopped'
view_wait 'RESULT' 600 scrollback || fail 'training did not finish after the stop'
lines=$(view_scrollback | grep -E '^[0-9]+/[0-9]+ \[=+\] - ')
[ "$(wc -l <<<"$lines")" -eq 8 ] || fail "expected 8 epoch lines, got: $lines"
# The longest epoch may not be 6 s longer than the shortest (the epochs take about as long
# as each other, in a sanitizer build too).
seconds=$(grep -oE ' - [0-9]+s ' <<<"$lines" | grep -oE '[0-9]+' | sort -n)
longest=$(tail -n 1 <<<"$seconds") shortest=$(head -n 1 <<<"$seconds")
((longest - shortest < 4)) || fail "an epoch counted the 6 s stopped: $lines"
pass 'a stop during the batches is not training time'

# SIGSTOP while validating (no handler sees it): the view says "validating" then.
view_start 100 32 '"$NNSH" fit_stopped.lua' FIT_EPOCHS=4 FIT_ROWS=4096 FIT_WIDTH=64 \
  FIT_VALIDATION_ROWS=400000
view_wait_regex 'validating$' 300 || fail 'the view never showed validating'
pane=$(view_tmux display -p '#{pane_pid}')
nnsh_pid=$(pgrep -P "$pane" | head -n 1)
kill -STOP "$nnsh_pid" || fail 'nnsh ended before the stop'
sleep 8
kill -CONT "$nnsh_pid"
view_wait 'RESULT' 600 scrollback || fail 'training did not finish after the stop'
lines=$(view_scrollback | grep -E '^[0-9]+/[0-9]+ \[=+\] - ')
[ "$(wc -l <<<"$lines")" -eq 4 ] || fail "expected 4 epoch lines, got: $lines"
# The longest epoch may not be 8 s longer than the shortest.
seconds=$(grep -oE ' - [0-9]+s ' <<<"$lines" | grep -oE '[0-9]+' | sort -n)
longest=$(tail -n 1 <<<"$seconds") shortest=$(head -n 1 <<<"$seconds")
((longest - shortest < 6)) || fail "an epoch counted the 8 s stopped while validating: $lines"
pass 'a stop while validating is not in the epoch time'
