#!/usr/bin/env bash
# A callback that reads the keyboard while the live screen is up (io.read, file:read,
# io.lines) gets the terminal lent back: its question shows, the typed answer is echoed
# and read as a whole line, and the screen comes back to finish the fit.
source "$(dirname "$0")/lib.sh" "$1"

view_start 100 32 '"$NNSH" fit_asks.lua' "GATE=$VIEW_TMP/gate"
view_wait 'go on after epoch 1? [y/n]' 120 || fail 'the question after epoch 1 did not show'
# The screen is put away while the question waits: no live chart, the shell's modes.
view_screen | grep -qF 'p pause' && fail 'the live screen is still up while a callback reads'
view_tmux send-keys 'yes' Enter
view_wait ' q stop after this batch' 30 || fail 'the live screen did not come back after the answer'
touch "$VIEW_TMP/gate"
view_wait_all 30 'go on after epoch 2? [y/n]' || fail 'the question after epoch 2 did not show'
view_tmux send-keys 'yes again' Enter
view_wait 'and a last word:' 30 || fail 'the io.write question did not show'
view_tmux send-keys 'no' Enter
[ "$(view_exit_status 120)" = 0 ] || fail 'nnsh did not end with status 0'
record=$(view_scrollback)
grep -qxF 'ANSWERS yes,yes again,no' <<<"$record" || fail 'the answers were not read as typed'
grep -qE '^RESULT epochs=2 history=2 usable=true' <<<"$record" ||
  fail 'the answer n did not stop training after epoch 2'
grep -qxF 'READ RESTORED true' <<<"$record" || fail 'the io functions were not restored'
# The record keeps the questions and answers as the terminal showed them.
grep -qxF 'go on after epoch 1? [y/n] yes' <<<"$record" || fail 'the record lost the first question'
grep -qxF 'yes again' <<<"$record" || fail 'the record lost the second answer'
grep -qxF 'and a last word: no' <<<"$record" || fail 'the record lost the third question'
grep -qxF 'Epoch 3/50' <<<"$record" && fail 'the record has an epoch after the stop'
pass 'a callback reads whole lines from the keyboard under the live view'
