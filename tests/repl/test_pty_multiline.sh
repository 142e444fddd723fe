#!/usr/bin/env bash
# Multi-line input: an unfinished chunk continues on a "...:" line and runs as one cell;
# top-level locals live on into the next cells.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'for i = 1, 3 do'
pty_wait_for '   ...: '
pty_line '  print("line " .. i * 10)'
pty_line 'end'
pty_wait_for 'line 30'
pty_wait_for 'In [2]: '

pty_line 'local t = {'
pty_line '  a = 1,'
pty_line '  b = [[two'
pty_line 'lines]],'
pty_line '}'
pty_wait_for 'In [3]: '
pty_line 't.a, t.b'
pty_wait_for 'Out[3]: 1, "two\nlines"'

pty_line 'local function twice(x) return 2 * x end'
pty_line 'local z = twice(21)'
pty_line 'z'
pty_wait_for 'Out[6]: 42'
pty_line 'Out[6] + _'
pty_wait_for 'Out[7]: 84'
pty_finish
echo "PASS multi-line input, continuation prompt, locals across cells, Out and _"
