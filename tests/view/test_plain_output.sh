#!/usr/bin/env bash
# Without a terminal fit writes plain Keras lines only: no \r, no escape codes, one line
# per epoch. On a terminal where the live screen cannot run (TERM=dumb, smaller than
# 80x24, NNSH_LIVE=0) it falls back to the Keras progress bar.
source "$(dirname "$0")/lib.sh" "$1"
cd "$VIEW_DIR"

check_plain() { # FILE WHAT: only whole lines, no control characters but newlines
  LC_ALL=C grep -q $'\r' "$1" && fail "$2: carriage return in the output"
  LC_ALL=C grep -q $'\x1b' "$1" && fail "$2: escape code in the output"
  LC_ALL=C grep -q $'\x08' "$1" && fail "$2: backspace in the output"
  return 0
}

epoch_line='^24/24 \[==============================\] - [0-9]+s [0-9]+(us|ms|s)/step - loss: [0-9.e+-]+ - accuracy: [0-9.]+ - val_loss: [0-9.e+-]+ - val_accuracy: [0-9.]+$'

# verbose=1 into a file and into a pipe: "Epoch k/2" and the final bar of each epoch.
for how in file pipe; do
  out="$VIEW_TMP/fit-$how.txt"
  if [ $how = file ]; then "$NNSH" fit_plain.lua > "$out"; else "$NNSH" fit_plain.lua | cat > "$out"; fi
  [ $? = 0 ] || fail "nnsh failed writing to a $how"
  check_plain "$out" "verbose=1 to a $how"
  expected=$'Epoch 1/2\n@\nEpoch 2/2\n@\nRESULT epochs=2 history=2 usable=true\nview problem: the output is not a terminal'
  actual=$(sed -E "s#$epoch_line#@#; s# accuracy=[0-9.]+\$##" "$out")
  [ "$actual" = "$expected" ] || { cat "$out"; fail "verbose=1 to a $how: unexpected lines"; }
  pass "verbose=1 to a $how: plain Keras lines"
done

# verbose=2: one line per epoch in Keras' verbose=2 form.
out="$VIEW_TMP/fit-verbose2.txt"
FIT_VERBOSE=2 "$NNSH" fit_plain.lua | cat > "$out"
check_plain "$out" 'verbose=2'
[ "$(grep -cE '^24/24 - [0-9]+s - loss: .* - val_accuracy: [0-9.]+ - [0-9]+(us|ms|s)/epoch - [0-9]+(us|ms|s)/step$' "$out")" = 2 ] ||
  { cat "$out"; fail 'verbose=2 lines'; }
pass 'verbose=2: one line per epoch'

# verbose=0: nothing from fit.
out="$VIEW_TMP/fit-verbose0.txt"
FIT_VERBOSE=0 "$NNSH" fit_plain.lua | cat > "$out"
[ "$(head -1 "$out" | cut -c1-6)" = RESULT ] || { cat "$out"; fail 'verbose=0 wrote progress'; }
pass 'verbose=0: silent'

# On terminals the live screen cannot use: the \r bar, and the reason.
fallback() { # NAME WIDTH HEIGHT REASON [VAR=VALUE...]
  local name=$1 width=$2 height=$3 reason=$4
  shift 4
  # Set in the command: tmux gives every pane its own TERM.
  view_start "$width" "$height" "env $* \"\$NNSH\" fit_plain.lua"
  [ "$(view_exit_status 120)" = 0 ] || fail "$name: nnsh failed"
  local record
  record=$(view_scrollback)
  grep -qF "view problem: $reason" <<<"$record" || fail "$name: expected the reason '$reason'"
  grep -qF 'q stop after this batch' <<<"$record" && fail "$name: the live screen opened"
  grep -qE '24/24 \[=+\] - ' <<<"$record" || fail "$name: no Keras progress bar"
  pass "$name: Keras progress bar ($reason)"
}
fallback 'TERM=dumb' 100 30 'TERM is dumb' TERM=dumb
fallback 'a 70x20 terminal' 70 20 'the terminal is 70x20, smaller than 80x24'
fallback 'NNSH_LIVE=0' 100 30 'NNSH_LIVE=0 asks for plain lines' NNSH_LIVE=0
