#!/usr/bin/env bash
# Keys of the live screen: p pauses (nothing moves) and resumes, q stops after the
# current batch with a usable model and the history so far, and the REPL then reads the
# keyboard normally (the terminal modes are restored).
source "$(dirname "$0")/lib.sh" "$1"

view_start 100 32 '"$NNSH" -i fit_long.lua' FIT_ROWS=4096 FIT_WIDTH=64
view_wait_regex '^ epoch [0-9]+: loss' 120 || fail 'no epoch ended on the live screen'

view_tmux send-keys p
# The paused frame is drawn once, top to bottom: its status on the top line, its key line
# at the bottom. Once tmux shows both the whole frame has arrived, and nothing may move.
view_wait_all 30 'PAUSED - p resumes' ' p resume   q stop after this batch' || fail 'p did not pause'
before=$(view_screen | grep -F 'Epoch ')
sleep 1.2
after=$(view_screen | grep -F 'Epoch ')
[ -n "$before" ] && [ "$before" = "$after" ] || fail "progress moved while paused: '$before' then '$after'"
pass 'p pauses'

# Resized while paused, in the shell (where SIGWINCH is the shell's own): the paused frame
# is drawn again at the new size, still paused: the status ends in column 89, as it ended
# in column 99 at 100 columns.
view_tmux resize-window -x 90 -y 30
for _ in $(seq 1 300); do
  [[ $(view_screen | head -n 1) =~ PAUSED\ -\ p\ resumes$ ]] &&
    (($(LC_ALL=C.UTF-8 bash -c 'echo ${#1}' _ "$(view_screen | head -n 1)") == 89)) && break
  sleep 0.1
done
top=$(view_screen | head -n 1)
[[ $top =~ PAUSED\ -\ p\ resumes$ ]] && (($(LC_ALL=C.UTF-8 bash -c 'echo ${#1}' _ "$top") == 89)) ||
  fail "the paused frame was not redrawn at 90 columns: '$top'"
# the progress line's epoch and batch (its bar is narrower now; the first such line: the
# output's last lines below may start alike); tmux may show the new frame's top before the
# rest, so the line is waited for, and must show the same place
position() { grep -m 1 -E '^ Epoch [0-9]+/100000 ' | grep -oE '(Epoch [0-9]+|[0-9]+/192)' | tr '\n' ' '; }
paused_at=$(position <<<"$after")
for _ in $(seq 1 100); do [ "$(view_screen | position)" = "$paused_at" ] && break; sleep 0.1; done
[ "$(view_screen | position)" = "$paused_at" ] ||
  fail "progress moved while paused and resized: now '$(view_screen | position)', paused at '$paused_at'"
[ -n "$paused_at" ] || fail 'no progress line in the paused frame'
view_tmux resize-window -x 100 -y 32
view_wait_regex 'PAUSED - p resumes$' 30 || fail 'the paused frame did not come back at 100 columns'
pass 'a resize while paused redraws the paused frame'

view_tmux send-keys p
view_wait 'running' 30 || fail 'p did not resume'
moved=
for _ in $(seq 1 600); do
  sleep 0.1
  if [ "$(view_screen | grep -F 'Epoch ')" != "$after" ]; then moved=yes; break; fi
done
[ -n "$moved" ] || fail 'progress did not move after resuming'
pass 'p resumes'

# Ctrl-S (Readline's forward search, pressed by habit) is no flow control while the view is
# open: it would stop the terminal's output, training with it, and every key but Ctrl-Q.
view_tmux send-keys C-s
sleep 0.5
stopped_at=$(view_screen | grep -F 'Epoch ')
moved=
for _ in $(seq 1 600); do
  sleep 0.1
  if [ "$(view_screen | grep -F 'Epoch ')" != "$stopped_at" ]; then moved=yes; break; fi
done
[ -n "$moved" ] || fail 'progress stopped after Ctrl-S'
pass 'Ctrl-S does not stop the output'

view_tmux send-keys q
view_wait 'RESULT' 60 scrollback || fail 'q did not stop training'
# The prompt comes after the whole RESULT line (tmux may have read only part of it when
# 'RESULT' first shows), and keys typed before it would race the shell taking back the
# terminal.
view_wait_regex '^In \[1\]: *$' 60 || fail 'no prompt after q'
record=$(view_scrollback)
grep -qF 'training stopped by the user at epoch' <<<"$record" || fail 'no stop message'
grep -qF 'the model keeps its weights and the history so far' <<<"$record" || fail 'no keep message'
line=$(grep -F 'RESULT' <<<"$record")
epochs=$(sed -E 's/.*epochs=([0-9]+).*/\1/' <<<"$line")
((epochs >= 1 && epochs < 100000)) || fail "expected a partial history, got: $line"
grep -qF "history=$epochs usable=true" <<<"$line" || fail "model not usable after q: $line"
# The epoch that q interrupted is kept as its last running line: the batch the stop
# message names, with an ETA, or the finished bar when q came during the last batch
# (then without validation, which the stop skipped).
stop=$(grep -oE 'stopped by the user at epoch [0-9]+, batch [0-9]+ of 192' <<<"$record")
[[ $stop =~ epoch\ ([0-9]+),\ batch\ ([0-9]+) ]] || fail "stop message names no batch: '$stop'"
stopped_epoch=${BASH_REMATCH[1]} stopped_batch=${BASH_REMATCH[2]}
last_line=$(grep -A1 -E "^Epoch $stopped_epoch/100000 *$" <<<"$record" | tail -n 1)
if ((stopped_batch < 192)); then
  grep -qE "^ *$stopped_batch/192 \[[=>.]+\] - ETA" <<<"$last_line"
else
  grep -qE '^192/192 \[=+\] - .* - accuracy: [0-9.]+ *$' <<<"$last_line"
fi || fail "no line for the interrupted epoch $stopped_epoch (batch $stopped_batch): '$last_line'"
pass "q stops after $epochs epochs with a usable model"

# The shell reads the keyboard again, with echo (cooked modes are back).
view_tmux send-keys 'print(6*7, "ok" .. "!")' Enter
view_wait_regex '^42[[:space:]]+ok!$' 30 || fail 'the REPL did not get the keyboard back'
view_screen | grep -qF 'print(6*7, "ok" .. "!")' || fail 'typed input is not echoed'
pass 'the REPL reads the keyboard after the view closed'
view_wait_regex '^In \[2\]: *$' 30 || fail 'no prompt after the cell'
view_tmux send-keys C-d
[ "$(view_exit_status 60)" = 0 ] || fail 'the shell did not end with status 0'
pass 'the shell ends cleanly'
