#!/usr/bin/env bash
# Resizing the terminal during a live fit: a one-line terminal shows the progress line and
# nothing of the larger frame, smaller than the minimum keeps the progress and asks for
# room, and back at full size the charts return; training goes on throughout and q still
# stops it. The fit is paused for the first resize, so the frame before it is known.
source "$(dirname "$0")/lib.sh" "$1"

view_start 100 32 '"$NNSH" fit_long.lua'
view_wait_regex '^ epoch [0-9]+: loss' 120 || fail 'no epoch ended on the live screen'
view_tmux send-keys p
view_wait 'PAUSED - p resumes' 30 || fail 'p did not pause'
# The status sits at the right end of the top line: its last letter is in column 99.
[[ $(view_screen | head -n 1) =~ PAUSED\ -\ p\ resumes$ ]] || fail 'the status is not at the end of the top line'

# 99x1: the progress line alone. The only cell the view cannot write, the bottom-right
# one, is column 99, where the 100-column frame had the 's' of 'resumes'; it must not
# show through. Training resumes, so a later epoch shows the new frames are drawn.
paused_epoch=$(view_screen | grep -oE 'Epoch [0-9]+/100000' | head -n 1 | grep -oE '[0-9]+' | head -n 1)
[ -n "$paused_epoch" ] || fail 'no epoch number on the paused screen'
view_tmux resize-window -x 99 -y 1
view_tmux send-keys p
later_epoch() {
  [[ $(view_screen | head -n 1) =~ ^\ Epoch\ ([0-9]+)/100000 ]] && ((BASH_REMATCH[1] > paused_epoch))
}
for _ in $(seq 1 600); do later_epoch && break; sleep 0.1; done
later_epoch || fail "a 99x1 terminal does not show the progress of later epochs than $paused_epoch"
line=$(view_screen | head -n 1)
cells=$(LC_ALL=C.UTF-8 bash -c 'echo ${#1}' _ "$line")
((cells <= 98)) || fail "the bottom-right cell shows a leftover of the earlier frame: '$line'"
pass 'a one-line terminal shows the progress line and no leftovers'

view_tmux resize-window -x 60 -y 15
view_wait 'enlarge the terminal to 80x24 for charts (now 60x15)' 30 ||
  fail 'a 60x15 terminal does not ask for room'
# Both lines of one frame (tmux may show a frame it has read only in part).
view_wait_all 30 'enlarge the terminal to 80x24 for charts (now 60x15)' 'Epoch ' ||
  fail 'the progress line went away at 60x15'
screen=$(view_screen)
grep -qF 'Batch loss' <<<"$screen" && fail 'charts drawn in a 60x15 terminal'
pass 'below the minimum: progress and a request for room'

view_tmux resize-window -x 100 -y 32
view_wait_all 30 'Batch loss (smoothed)' 'Training and Validation Loss' 'running' ||
  fail 'the charts did not come back at 100x32'
pass 'back at 100x32: the full screen'

view_tmux send-keys q
view_wait RESULT 60 scrollback || fail 'q did not stop training after the resizes'
# Once the status is known tmux has read all the output: the whole RESULT line (when
# 'RESULT' first shows, tmux may have read only part of it).
[ "$(view_exit_status 60)" = 0 ] || fail 'the script did not end with status 0'
grep -qE '^RESULT epochs=[0-9]+ history=[0-9]+ usable=true ' <<<"$(view_scrollback)" ||
  fail 'the model is not usable after the resizes'
pass 'training goes on through the resizes and q stops it'
