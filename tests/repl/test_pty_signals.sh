#!/usr/bin/env bash
# Signals at the prompt, where Readline holds the terminal in its raw mode: Ctrl-Z stops
# the shell with the terminal given back and, after fg, the line typed so far is there
# to finish; Ctrl-Z in a running cell stops it until fg; SIGTERM ends the shell with the
# terminal's modes restored (echo, line editing).
source "$(dirname "$0")/pty.sh"

# nnsh under an interactive bash, for its job control and for stty after nnsh ends.
start_under_bash() {
  pty_stop
  PTY_RUNS=$((PTY_RUNS + 1))
  PTY_TMUX=(tmux -L "nnsh-test-$$-$RANDOM-$PTY_RUNS" -f /dev/null)
  "${PTY_TMUX[@]}" new-session -d -x 120 -y 40 \
    env HOME="$PTY_HOME" INPUTRC=/dev/null TERM=screen LC_ALL=C.UTF-8 PS1='bash$ ' \
    bash --norc --noprofile -i \; set-option -w remain-on-exit on >/dev/null
  pty_wait_for 'bash$ '
}

start_under_bash
pty_line "$NNSH"
pty_wait_for 'In [1]: '
pty_type 'x = 1 +'
pty_wait_for 'In [1]: x = 1 +'
pty_keys C-z
pty_wait_for 'Stopped'
pty_line 'fg'
pty_wait_count 'In [1]: x = 1 +' 2
# arrow keys edit again, so Readline has its mode back: 4x1, Left, Backspace is 41
pty_type '4x1'
pty_keys Left BSpace Enter
pty_line 'x'
pty_wait_for 'Out[2]: 42'
# Ctrl-Z while a cell runs stops it there; fg lets it finish.
pty_line 'print("count" .. "ing") s = 0 for i = 1, 3e8 do s = s + 1 end print("counted " .. s)'
pty_wait_for 'counting'
pty_keys C-z
pty_wait_count 'Stopped' 2
pty_line 'fg'
pty_wait_for 'counted 300000000'
pty_wait_for 'In [4]: '
pty_keys C-d
pty_wait_count 'bash$ ' 3

# SIGTERM at the prompt, under sh (bash would reset the modes itself): stty, once nnsh
# has ended, shows what it left behind.
pty_stop
PTY_RUNS=$((PTY_RUNS + 1))
PTY_TMUX=(tmux -L "nnsh-test-$$-$RANDOM-$PTY_RUNS" -f /dev/null)
"${PTY_TMUX[@]}" new-session -d -x 120 -y 40 \
  env HOME="$PTY_HOME" INPUTRC=/dev/null TERM=screen LC_ALL=C.UTF-8 \
  sh -c '"$0"; stty -a >"$1"; echo "stty done"; sleep 60' "$NNSH" "$PTY_HOME/stty.txt" \; \
  set-option -w remain-on-exit on >/dev/null
pty_wait_for 'In [1]: '
pty_type 'half a line'
pty_wait_for 'In [1]: half a line'
# the nnsh of this test's own pane only: other tests' shells run beside it
shell_pid=$("${PTY_TMUX[@]}" display-message -p '#{pane_pid}')
nnsh_pid=$(pgrep -P "$shell_pid" -x "$(basename "$NNSH")")
[ -n "$nnsh_pid" ] || pty_fail "no nnsh under the pane's sh ($shell_pid)"
kill -TERM "$nnsh_pid"
pty_wait_for 'stty done'
for mode in icanon echo icrnl; do
  tr ' ' '\n' <"$PTY_HOME/stty.txt" | grep -q -x -- "$mode" ||
    pty_fail "the terminal lost $mode: $(cat "$PTY_HOME/stty.txt")"
done
echo "PASS Ctrl-Z and fg at the prompt keep the line; SIGTERM leaves the terminal usable"
