#!/usr/bin/env bash
# Resizing the terminal while the shell writes the record of a live fit into a slow
# terminal (a long record over SSH) loses none of it. The shell catches SIGWINCH; a
# handler that does not restart system calls made a write blocked on the full terminal
# fail with EINTR, and stdio dropped the rest of the record: the end of the printed
# lines, the charts, the RESULT line. tmux is stopped while the record is written, so
# the writes block, and nnsh gets SIGWINCH all that time.
source "$(dirname "$0")/lib.sh" "$1"

gate="$VIEW_TMP/go"
# -i: the script runs inside the shell, with its signal handlers.
view_start 100 32 '"$NNSH" -i fit_record.lua' "GATE=$gate"
# The screen is open; training waits at epoch 2 for the gate.
view_wait_all 120 'Epoch 1/2' 'q stop after this batch' || fail 'the live screen never opened'
server=$(view_tmux display-message -p '#{pid}')
pane=$(view_tmux display-message -p '#{pane_pid}')
nnsh=$(pgrep -P "$pane" | head -n 1)
[ -n "$server" ] && [ -n "$nnsh" ] || fail 'no tmux server or nnsh process'

kill -STOP "$server"
touch "$gate"
# The record (about 200 kB) is written within a second or so (a sanitizer build is
# slower); it blocks once the terminal's buffer is full, and every signal then meets a
# blocked write. Three seconds of signals reach it there in any build.
for _ in $(seq 1 60); do
  kill -WINCH "$nnsh" 2>/dev/null || break
  sleep 0.05
done
kill -CONT "$server"

view_wait 'RESULT epochs=2 history=2 usable=true' 120 scrollback ||
  fail 'the record or the RESULT line after it was lost'
record=$(view_scrollback)
[ "$(grep -c '^record line ' <<<"$record")" = 2000 ] ||
  fail "the record lost printed lines: $(grep -c '^record line ' <<<"$record") of 2000"
grep -qF 'Training and Validation Loss' <<<"$record" || fail 'the record lost its charts'
pass 'the whole record arrives while the terminal is resized'

view_wait_regex '^In \[1\]: ' 30 || fail 'no prompt after the script'
view_tmux send-keys C-d
[ "$(view_exit_status 60)" = 0 ] || fail 'the shell did not end with status 0'
pass 'the shell goes on and ends cleanly'
