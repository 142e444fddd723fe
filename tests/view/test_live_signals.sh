#!/usr/bin/env bash
# SIGTERM or SIGHUP (kill, a closed terminal, a job scheduler) while the live screen is up:
# nnsh ends by that signal, and the terminal is as it was before the screen: the normal
# screen (not the alternate one), the cursor shown, echo and line editing back.
source "$(dirname "$0")/lib.sh" "$1"

for signal in TERM HUP; do
  rm -f "$VIEW_TMP/stty" "$VIEW_TMP/status"
  view_start 100 32 '"$NNSH" fit_long.lua; echo $? >"$VIEW_TMP/status"; stty -a >"$VIEW_TMP/stty"'
  view_wait_regex '^ epoch [0-9]+: loss' 120 || fail 'no epoch ended on the live screen'
  [ "$(view_tmux display-message -p '#{alternate_on}')" = 1 ] || fail 'the live screen is not on the alternate screen'
  # the nnsh of this test's own pane only: other tests' programs run beside it
  shell_pid=$(view_tmux display-message -p '#{pane_pid}')
  nnsh_pid=$(pgrep -P "$shell_pid" -x "$(basename "$NNSH")")
  [ -n "$nnsh_pid" ] || fail "no nnsh under the pane's shell ($shell_pid)"
  kill "-$signal" "$nnsh_pid"
  [ "$(view_exit_status 60)" = 0 ] || fail "the pane's command did not end after SIG$signal"
  expected=$((128 + $(kill -l "$signal")))
  [ "$(cat "$VIEW_TMP/status")" = "$expected" ] ||
    fail "nnsh ended with status $(cat "$VIEW_TMP/status") after SIG$signal, not $expected"
  [ "$(view_tmux display-message -p '#{alternate_on}')" = 0 ] || fail "SIG$signal left the alternate screen on"
  [ "$(view_tmux display-message -p '#{cursor_flag}')" = 1 ] || fail "SIG$signal left the cursor hidden"
  for mode in icanon echo icrnl isig; do
    tr ' ;' '\n\n' <"$VIEW_TMP/stty" | grep -q -x -- "$mode" ||
      fail "SIG$signal left the terminal without $mode: $(cat "$VIEW_TMP/stty")"
  done
  pass "SIG$signal ends nnsh with status $expected and gives the terminal back"
done
