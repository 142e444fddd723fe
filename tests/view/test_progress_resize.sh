#!/usr/bin/env bash
# The Keras progress line without the live screen (NNSH_LIVE=0) fits the terminal as it
# is now: started in a narrow window it is cut to that width (a wrapped line could not be
# redrawn with \r), and once the window is made wider the next lines show the logs that
# did not fit before.
source "$(dirname "$0")/lib.sh" "$1"
cd "$VIEW_DIR"

view_start 40 10 'env NNSH_LIVE=0 "$NNSH" fit_plain_gated.lua' \
  "HELD=$VIEW_TMP/held" "GATE=$VIEW_TMP/gate" \
  "HELD_AGAIN=$VIEW_TMP/held_again" "GATE_AGAIN=$VIEW_TMP/gate_again"
for ((i = 0; i < 1200; i++)); do [ -e "$VIEW_TMP/held" ] && break; sleep 0.1; done
[ -e "$VIEW_TMP/held" ] || fail 'the fit never reached batch 10'
view_wait_regex '[0-9]+/64 ' 30 || fail 'no running line by batch 10'
narrow=$(view_screen | grep -E '[0-9]+/64 ' | tail -n 1)
[ "${#narrow}" -le 39 ] || fail "the running line is wider than the 40-column window: '$narrow'"
grep -qF 'loss:' <<<"$narrow" && fail "the logs fit a 40-column window? '$narrow'"
pass "in 40 columns the running line is cut: '$narrow'"

view_tmux resize-window -x 150 -y 10
sleep 0.3
touch "$VIEW_TMP/gate"
for ((i = 0; i < 1200; i++)); do [ -e "$VIEW_TMP/held_again" ] && break; sleep 0.1; done
[ -e "$VIEW_TMP/held_again" ] || fail 'the fit never reached batch 20'
view_wait_regex '[0-9]+/64 .* - loss: ' 30 ||
  fail "after widening to 150 columns the running line still lacks its logs: '$(view_screen)'"
wide=$(view_screen | grep -E '[0-9]+/64 ' | tail -n 1)
grep -qE '[0-9]+/64 .* - loss: [0-9.]+ - accuracy: [0-9.]+' <<<"$wide" ||
  fail "after widening to 150 columns the running line still lacks its logs: '$wide'"
pass "after widening the window the running line shows its logs: '$wide'"

touch "$VIEW_TMP/gate_again"
[ "$(view_exit_status 60)" = 0 ] || fail 'fit_plain_gated.lua failed'
view_scrollback | grep -qF 'DONE' || fail 'the fit did not finish'
pass 'the fit ends normally'
