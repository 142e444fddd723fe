#!/usr/bin/env bash
# %history lists the session's inputs as they ran, numbered, a cell's later lines under
# the continuation prompt; %history N the last N; %hist is the same; a bad N says how.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'x = 6'
pty_line 'for i = 1, 2 do'
pty_line '  x = x + i'
pty_line 'end'
pty_line 'x * 7'
pty_wait_for 'Out[3]: 63'
pty_line '%history'
pty_wait_count 'In [3]: x * 7' 2
listing=$(pty_screen | sed -n '/^In \[4\]: %history$/,/^In \[5\]:/p')
expected='In [4]: %history
In [1]: x = 6
In [2]: for i = 1, 2 do
   ...:   x = x + i
   ...: end
In [3]: x * 7
In [5]:'
[ "$(sed 's/ *$//' <<<"$listing")" = "$expected" ] || pty_fail "%history listed: $listing"
pty_line '%hist 1'
pty_wait_count 'In [4]: %history' 2
pty_line '%history 0'
pty_wait_for '%history: usage: %history, or %history N for the last N cells'
pty_finish
echo "PASS %history lists the session's inputs"
