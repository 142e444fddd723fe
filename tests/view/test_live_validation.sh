#!/usr/bin/env bash
# The live screen while a fit validates, with a validation set much larger than the
# training part: after an epoch's last batch the screen says it validates (the engine
# gives no call during validation, so that frame must be drawn before), and the speeds
# leave validation time out: steps/s is the training speed the script measures, and the
# run ETA adds the validation still to come.
source "$(dirname "$0")/lib.sh" "$1"
cd "$VIEW_DIR"

measured="$VIEW_TMP/measured"
view_start 100 32 '"$NNSH" fit_validating.lua' FIT_ROWS=640 FIT_WIDTH=1024 VAL_ROWS=600000 \
  "MEASURED=$measured" "GATE=$VIEW_TMP/gate"

view_wait '10/10  validating' 120 || fail 'the screen never said the epoch validates'
view_screen | head -1 | grep -qE 'validating$' || fail 'the status does not say validating'
pass 'after the last batch of an epoch the screen says it validates'

for ((i = 0; i < 1200; i++)); do [ -s "$measured" ] && break; sleep 0.1; done
[ -s "$measured" ] || fail 'the fit never reached epoch 4'
sleep 0.5 # the screen is still while the script waits; let tmux catch up
screen=$(view_screen)
read -r rate validation < <(sed -E 's/rate=([0-9.]+) validation=([0-9.]+)/\1 \2/' "$measured")
shown_rate=$(grep -oE '[0-9.,]+ steps/s' <<<"$screen" | head -1 | tr -d ', ' | sed 's#steps/s##')
shown_eta=$(grep -oE 'run ETA [0-9:.]+s?' <<<"$screen" | head -1 | sed 's/run ETA //')
[ -n "$shown_rate" ] && [ -n "$shown_eta" ] || fail 'no steps/s or run ETA on the screen'
eta_seconds=$(awk -v t="$shown_eta" 'BEGIN { sub(/s$/, "", t); n = split(t, p, ":");
                                             print n == 2 ? p[1] * 60 + p[2] : p[1] }')

# The speed of training alone, within the noise of a shared machine (counting the
# validations in made it several times lower).
awk -v shown="$shown_rate" -v rate="$rate" 'BEGIN { exit !(shown >= 0.6 * rate && shown <= 1.6 * rate) }' ||
  fail "steps/s: expected about $rate (the training speed measured), shown $shown_rate"
pass "steps/s leaves validation out: shown $shown_rate, training runs at $rate"

# One epoch to go: its ten batches and its validation.
awk -v eta="$eta_seconds" -v rate="$rate" -v validation="$validation" \
  'BEGIN { expected = 10 / rate + validation
           exit !(eta >= 0.5 * expected && eta <= 2 * expected + 0.5) }' ||
  fail "run ETA: expected about 10 batches at $rate steps/s and a validation of ${validation}s, shown $shown_eta"
pass "run ETA counts the validation to come: shown $shown_eta (validations take ${validation}s)"

touch "$VIEW_TMP/gate"
[ "$(view_exit_status 120)" = 0 ] || fail 'fit_validating.lua failed'
view_scrollback | grep -qF 'RESULT epochs=4 history=4 usable=true' || fail 'no RESULT line'
pass 'the fit ends normally'
