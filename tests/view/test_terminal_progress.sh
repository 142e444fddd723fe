#!/usr/bin/env bash
# The Keras progress bar on a terminal without the live screen (NNSH_LIVE=0; evaluate
# and predict never use it): the bar is redrawn with \r and each pass ends with exactly
# one final line, as Keras prints it, not the last running bar and then the final line.
source "$(dirname "$0")/lib.sh" "$1"
cd "$VIEW_DIR"

view_start 120 40 'env NNSH_LIVE=0 "$NNSH" passes_plain.lua'
[ "$(view_exit_status 120)" = 0 ] || fail 'passes_plain.lua failed'
record=$(view_scrollback)

per_step='[0-9]+s [0-9]+(us|ms|s)/step'
logs=' - loss: [0-9.e+-]+ - accuracy: [0-9.]+'
evaluate_line="^32/32 \\[=+\\] - $per_step$logs\$"
predict_line="^32/32 \\[=+\\] - $per_step\$"
epoch_line="^24/24 \\[=+\\] - $per_step$logs - val_loss: [0-9.e+-]+ - val_accuracy: [0-9.]+\$"
count() { grep -cE -- "$1" <<<"$record"; }

[ "$(count "$evaluate_line")" = 1 ] ||
  fail "evaluate: expected 1 final line, found $(count "$evaluate_line")"
pass 'evaluate: one final line'
[ "$(count "$predict_line")" = 1 ] ||
  fail "predict: expected 1 final line, found $(count "$predict_line")"
pass 'predict: one final line'
[ "$(count "$epoch_line")" = 2 ] ||
  fail "fit: expected 2 epoch lines (one per epoch), found $(count "$epoch_line")"
pass 'fit: one line per epoch'

# Nothing else between the markers: no running bar left behind, no blank line.
expected=$'EVALUATE\nE\nPREDICT\nP\nFIT\nEpoch 1/2\nF\nEpoch 2/2\nF\nDONE'
actual=$(sed -E "s#$evaluate_line#E#; s#$predict_line#P#; s#$epoch_line#F#" <<<"$record" |
         sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')
[ "$actual" = "$expected" ] || fail "unexpected lines:"$'\n'"$actual"
pass 'the screen shows each pass once, in order'
