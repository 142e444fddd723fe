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
pty_finish
echo "PASS a script's locals stay in the shell after nnsh -i and %run"
