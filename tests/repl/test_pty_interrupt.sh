#!/usr/bin/env bash
# Ctrl-C at the prompt clears the line (and an unfinished cell); Ctrl-C in a running
# cell stops it; the shell goes on either way. Ctrl-D leaves.
source "$(dirname "$0")/pty.sh"
pty_start

pty_type 'this line is thrown away'
pty_keys C-c
pty_wait_count 'In [1]: ' 2
pty_line '2 + 3'
pty_wait_for 'Out[1]: 5'

pty_line 'for i = 1, 2 do'
pty_wait_for '   ...: '
pty_keys C-c
pty_wait_count 'In [2]: ' 2
pty_line '7'
pty_wait_for 'Out[2]: 7'

# The word is built when the cell runs, so the wait does not match the typed line (a
# Ctrl-C sent before the shell read Enter would clear the line instead).
pty_line 'print("loop" .. "ing") while true do end'
pty_wait_for 'looping'
pty_keys C-c
pty_wait_for 'interrupted (Ctrl-C)'
pty_wait_for 'In [4]: '
pty_line '"still here"'
pty_wait_for 'Out[4]: "still here"'

# A loop that catches every error (pcall) is stopped all the same: the stop is raised
# again at the loop's next step.
pty_line 'print("catch" .. "ing") for i = 1, 1e12 do pcall(function() for j = 1, 1e6 do end end) end'
pty_wait_for 'catching'
pty_keys C-c
pty_wait_count 'interrupted (Ctrl-C)' 2
pty_wait_for 'In [6]: '

# A coroutine made in an earlier cell is stopped where it runs.
pty_line 'spin = coroutine.wrap(function() while true do end end)'
pty_wait_for 'In [7]: '
pty_line 'print("spin" .. "ning") spin()'
pty_wait_for 'spinning'
pty_keys C-c
pty_wait_count 'interrupted (Ctrl-C)' 3
pty_wait_for 'In [8]: '

# Ctrl-C twice while a C function runs (one product of a few seconds, so that both
# land inside it) ends neither the cell's stop nor the shell: the second only says where
# the cell is.
pty_line 'a = nn.ones(4000, 4000); print("multi" .. "plying") b = nn.matmul(a, a)'
pty_wait_for 'multiplying'
pty_keys C-c
# The second only once the first has been delivered: two sent at once to a process that
# is not running (a loaded machine) reach it as one. The pane's process is nnsh (env
# execs it); SIGINT is bit 2 of the pending masks.
nnsh_pid=$("${PTY_TMUX[@]}" display-message -p '#{pane_pid}')
sigint_pending() {
  local mask
  for mask in $(awk '/^(SigPnd|ShdPnd):/ {print $2}' "/proc/$nnsh_pid/status"); do
    (((16#$mask & 2) != 0)) && return 0
  done
  return 1
}
for _ in $(seq 1 100); do sigint_pending || break; sleep 0.05; done
sigint_pending && pty_fail 'the first Ctrl-C was not delivered within 5 s'
pty_keys C-c
pty_wait_for 'inside a C function'
pty_wait_count 'interrupted (Ctrl-C)' 4
pty_wait_for 'In [9]: '
pty_line '"still here"'
pty_wait_for 'Out[9]: "still here"'

pty_finish
echo "PASS Ctrl-C at the prompt and in a cell (a pcall loop, a coroutine, twice in C), Ctrl-D to leave"
