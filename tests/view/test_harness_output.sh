#!/usr/bin/env bash
# The harness itself: once view_exit_status has the status, the scrollback holds all that
# the command wrote, even when tmux is behind as the command ends (a loaded machine, a
# long record). tmux 3.3 drops a pane's unread output when the pane's command exits; a
# record cut in the middle of its epoch lines, with no charts and no RESULT line, was
# this and not nnsh. tmux is stopped while the command writes and ends, so it is behind
# every time; the drop itself depends on the order tmux then handles the end and the
# output, so the check runs a few rounds.
source "$(dirname "$0")/lib.sh" "$1"

for round in 1 2 3 4 5; do
  rm -f "$VIEW_TMP/go"
  mkfifo "$VIEW_TMP/go"
  # About 11 kB: it fits in the terminal's buffer, so the command ends while tmux sleeps.
  view_start 100 32 'cat "$VIEW_TMP/go" >/dev/null; seq 1 2000; echo END-OF-OUTPUT'
  server=$(view_tmux display-message -p '#{pid}')
  pane=$(view_tmux display-message -p '#{pane_pid}')
  [ -n "$server" ] && [ -n "$pane" ] || fail 'no tmux server or pane'
  kill -STOP "$server"
  echo go > "$VIEW_TMP/go"
  # The shell writes the status file itself (not through tmux), after the output.
  for _ in $(seq 1 300); do [ -s "$VIEW_TMP/exit" ] && break; sleep 0.1; done
  [ -s "$VIEW_TMP/exit" ] || { kill -CONT "$server"; fail "round $round: the command did not end"; }
  # Wait for the pane's shell to have ended (a zombie: tmux cannot reap it yet) or to
  # have settled into its wait after the command.
  for _ in $(seq 1 300); do
    state=$(awk '{ print $3 }' "/proc/$pane/stat" 2>/dev/null)
    [ "$state" = Z ] || [ "$(cat "/proc/$pane/comm" 2>/dev/null)" = sleep ] && break
    sleep 0.1
  done
  kill -CONT "$server"
  [ "$(view_exit_status 30)" = 0 ] || fail "round $round: no exit status"
  record=$(view_scrollback)
  grep -qx 'END-OF-OUTPUT' <<<"$record" ||
    fail "round $round: the scrollback lost the end of the output; its last line: '$(grep . <<<"$record" | tail -n 1)'"
  [ "$(grep -cE '^[0-9]+$' <<<"$record")" = 2000 ] || fail "round $round: lines of the output are missing"
done
pass 'the scrollback holds all the output of a command that ended while tmux was behind'
