#!/usr/bin/env bash
# A callback that reads the keyboard while the live screen is up (io.read, file:read,
# io.lines) gets the terminal: the screen clears to its question, the typed answer is
# echoed and read as a whole line, and the screen comes back to finish the fit. The
# record, left in the scrollback, has each question with its answer once, in its place
# among the epochs.
source "$(dirname "$0")/lib.sh" "$1"

view_start 100 32 '"$NNSH" fit_asks.lua' "GATE=$VIEW_TMP/gate"
view_wait_all 120 'Training waits for an answer' 'go on after epoch 1? [y/n]' ||
  fail 'the question after epoch 1 did not show'
view_screen | grep -qF 'q stop after this batch' && fail 'the live screen is still drawn while a callback reads'
view_tmux send-keys 'yes' Enter
view_wait ' q stop after this batch' 30 || fail 'the live screen did not come back after the answer'
view_screen | grep -qF 'Training waits' && fail 'the question page stayed after the answer'
touch "$VIEW_TMP/gate"
view_wait_all 30 'Training waits for an answer' 'go on after epoch 2? [y/n]' ||
  fail 'the question after epoch 2 did not show'
view_tmux send-keys 'yes again' Enter
view_wait 'and a last word:' 30 || fail 'the io.write question did not show'
view_tmux send-keys 'no' Enter
view_wait 'and a number:' 30 || fail 'the number question did not show'
view_tmux send-keys '42' Enter
[ "$(view_exit_status 120)" = 0 ] || fail 'nnsh did not end with status 0'
record=$(view_scrollback)
grep -qxF 'ANSWERS yes,yes again,no,42' <<<"$record" || fail 'the answers were not read as typed'
grep -qE '^RESULT epochs=2 history=2 usable=true' <<<"$record" ||
  fail 'the answer n did not stop training after epoch 2'
grep -qxF 'READ RESTORED true' <<<"$record" || fail 'the io functions were not restored'
# Once each, in order: epoch 1, its question, epoch 2, its questions.
order=$(grep -nxE 'Epoch [12]/50|go on after epoch 1\? \[y/n\] yes|go on after epoch 2\? \[y/n\]|yes again|and a last word: no|and a number: 42' <<<"$record" | cut -d: -f2-)
expected='Epoch 1/50
go on after epoch 1? [y/n] yes
Epoch 2/50
go on after epoch 2? [y/n]
yes again
and a last word: no
and a number: 42'
[ "$order" = "$expected" ] || fail "the record's questions and epochs are not once each in order: $order"
pass 'a callback reads whole lines and numbers from the keyboard under the live view'
