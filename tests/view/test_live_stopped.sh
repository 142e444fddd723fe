#!/usr/bin/env bash
# A process stopped in the middle of training (Ctrl-Z, or SIGSTOP) and continued: the time
# it stood still is left out of the epoch's time and ms/step, as a pause is.
source "$(dirname "$0")/lib.sh" "$1"

view_start 100 32 '"$NNSH" fit_stopped.lua' FIT_EPOCHS=20 FIT_ROWS=32768 FIT_WIDTH=64
view_wait_regex 'Epoch [3-9]/20|Epoch 1[0-9]/20' 120 || fail 'training did not get going'
pane=$(view_tmux display -p '#{pane_pid}')
nnsh_pid=$(pgrep -P "$pane" | head -n 1)
[ -n "$nnsh_pid" ] || fail 'no nnsh process under the pane'
kill -STOP "$nnsh_pid"
sleep 4
kill -CONT "$nnsh_pid"
view_wait 'RESULT' 300 scrollback || fail 'training did not finish after the stop'
lines=$(view_scrollback | grep -E '^[0-9]+/[0-9]+ \[=+\] - ')
[ "$(wc -l <<<"$lines")" -eq 20 ] || fail "expected 20 epoch lines, got: $lines"
if grep -qE ' - ([3-9]|[0-9]{2,})s ' <<<"$lines"; then
  fail "an epoch counted the 4 s stopped: $(grep -E ' - ([3-9]|[0-9]{2,})s ' <<<"$lines")"
fi
pass 'the time stopped is not training time'
