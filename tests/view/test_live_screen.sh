#!/usr/bin/env bash
# The live screen of fit under a real pseudo-terminal: what it shows mid-training, and
# what stays in the scrollback after it closes (the Keras epoch lines and the final
# charts, but not the screen itself).
source "$(dirname "$0")/lib.sh" "$1"

gate="$VIEW_TMP/go"
view_start 100 32 '"$NNSH" fit_gated.lua' "GATE=$gate"

# Mid-training: epoch 2 waits in a callback until the gate file exists, after a redraw
# that measured the speed.
view_wait_all 120 'Epoch 2/3' 'steps/s' || fail 'the live screen never showed epoch 2 at speed'
# The whole frame: tmux may show one it has read only in part, so each text is waited for
# (the screen then stands still at the gate).
expected=('nnsh · fit · "viewtest" · 2 layers · 306 params (1.20 KB)' 'Epoch 2/3'
          'Batch loss (smoothed)' 'Training and Validation Loss'
          'Training and Validation Accuracy' 'epoch 1: loss' 'steps/s' 'samples/s'
          'q stop after this batch' 'p pause')
if ! view_wait_all 30 "${expected[@]}"; then
  screen=$(view_screen)
  for text in "${expected[@]}"; do
    grep -qF -- "$text" <<<"$screen" || fail "mid-training screen lacks '$text'"
  done
fi
screen=$(view_screen)
LC_ALL=C grep -q $'\xe2[\xa0-\xa3]' <<<"$screen" || fail 'no Braille chart on a UTF-8 terminal'
grep -qF '░' <<<"$screen" || fail 'no block progress bar'
pass 'mid-training screen'

touch "$gate"
status=$(view_exit_status 120)
[ "$status" = 0 ] || fail "nnsh exited with status $status"
view_wait 'RESULT epochs=3 history=3 usable=true' 5 scrollback || fail 'no RESULT line'
record=$(view_scrollback)
for text in 'Epoch 1/3' 'Epoch 2/3' 'Epoch 3/3' '24/24 [==============================]' \
            'val_accuracy:' 'Training and Validation Loss' 'Train Accuracy' \
            'view problem: nil' 'a warning on standard error'; do
  grep -qF -- "$text" <<<"$record" || fail "scrollback lacks '$text'"
done
[ "$(grep -c '^24/24 \[==============================\] - ' <<<"$record")" = 3 ] ||
  fail 'expected exactly three final epoch lines in the scrollback'
for text in 'q stop after this batch' 'Batch loss (smoothed)' 'steps/s'; do
  grep -qF -- "$text" <<<"$record" && fail "the closed screen left '$text' in the scrollback"
done
# The charts come after the last epoch line, and the result after the charts.
order=$(grep -nE '^Epoch 3/3|Training and Validation Loss|^RESULT' <<<"$record" | cut -d: -f1 | tr '\n' ' ')
read -r epoch3 charts result <<<"$order"
((epoch3 < charts && charts < result)) || fail "scrollback order: $order"
pass 'scrollback record'
