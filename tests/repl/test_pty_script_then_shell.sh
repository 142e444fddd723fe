#!/usr/bin/env bash
# nnsh -i script.lua: the script's top-level locals are there at the prompt; %run does
# the same for another file, with its arguments in `arg`.
source "$(dirname "$0")/pty.sh"
cat > "$PTY_HOME/lesson.lua" <<'LUA'
local L = nn.layers
local model = nn.Sequential{L.Dense{4, input_shape = {3}}}
local function double(x) return 2 * x end
print('script ran with ' .. arg[1])
LUA
PTY_ARGS=(-i "$PTY_HOME/lesson.lua" first)
pty_start
pty_wait_for 'script ran with first'
pty_line 'model.output_shape, double(21), L.Dense ~= nil'
pty_wait_for 'Out[1]: (None, 4), 42, true'
pty_line "%run $PTY_HOME/lesson.lua second"
pty_wait_for 'script ran with second'
# %save puts the script first, as the %run cell that replays it.
pty_line "%save $PTY_HOME/session.lua"
pty_wait_for "saved 3 cells to $PTY_HOME/session.lua"
pty_finish
head -4 "$PTY_HOME/session.lua" >"$PTY_HOME/head.txt"
printf -- "-- nnsh session\n\n-- %%%%\n%%run '%s' 'first'\n" "$PTY_HOME/lesson.lua" >"$PTY_HOME/want.txt"
if ! diff -u "$PTY_HOME/want.txt" "$PTY_HOME/head.txt"; then
  echo "FAIL: the saved session does not start with the script's %run cell" >&2
  exit 1
fi
(cd "$PTY_HOME" && "$NNSH" session.lua >replayed.txt)
if [ "$(cat "$PTY_HOME/replayed.txt")" != "script ran with first
(None, 4), 42, true
script ran with second" ]; then
  echo "FAIL: the saved session replays as:" >&2
  cat "$PTY_HOME/replayed.txt" >&2
  exit 1
fi
echo "PASS a script's locals stay in the shell after nnsh -i and %run; %save replays the script"
