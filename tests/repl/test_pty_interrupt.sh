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

pty_finish
echo "PASS Ctrl-C at the prompt and in a cell, Ctrl-D to leave"
