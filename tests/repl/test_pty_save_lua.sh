#!/usr/bin/env bash
# %save FILE.lua refuses a cell that would not read back whole (a `-- %%` line inside a
# long string would split it; a last line starting with `-->` would read as its output),
# and says why; FILE.md keeps such cells.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 's = [['
pty_line '-- %%'
pty_line ']]'
pty_wait_for 'In [2]: '
pty_line "%save $PTY_HOME/marker.lua"
pty_wait_for 'cannot save In[1] in a Lua notebook: a line of it starts with `-- %%`'
pty_line "%save $PTY_HOME/marker.md"
pty_wait_for "saved 1 cell to $PTY_HOME/marker.md"
pty_line '%quit'
pty_wait_exit

pty_start
pty_line 'x = 1'
pty_line '--> looks like output'
pty_line "%save $PTY_HOME/arrow.lua"
pty_wait_for 'cannot save In[2] in a Lua notebook: its last line starts with `-->`'
pty_line '%quit'
pty_wait_exit
[ ! -e "$PTY_HOME/marker.lua" ] && [ ! -e "$PTY_HOME/arrow.lua" ] ||
  pty_fail "a Lua notebook was written although a cell would not read back"
echo "PASS %save FILE.lua refuses cells that would not read back whole"
