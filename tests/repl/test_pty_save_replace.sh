#!/usr/bin/env bash
# %save never replaces a file without being asked: in the shell it asks (no, the
# default, keeps the file; y replaces it), %save -f replaces without asking, and a
# script that the session ran with %run is kept when the answer is no. Off a terminal
# (nnsh -i with a pipe) it refuses and says how to replace.
source "$(dirname "$0")/pty.sh"
notebook=$PTY_HOME/lesson.md script=$PTY_HOME/cnn.lua
printf 'model_size = 11\n' >"$script"
pty_start

pty_line 'x = 1'
pty_line "%save $notebook"
pty_wait_for "saved 1 cell to $notebook"
pty_line 'y = 2'
pty_line "%save $notebook"
pty_wait_for "$notebook exists ("
pty_wait_for 'replace it? [y/N]'
pty_keys Enter
pty_wait_for "not saved: $notebook is as it was"
grep -qF 'y = 2' "$notebook" && pty_fail 'the answer no (Enter) replaced the file'
pty_line "%save $notebook"
pty_wait_count 'replace it? [y/N]' 2
pty_line 'y'
pty_wait_for "saved 2 cells to $notebook"
grep -qF 'y = 2' "$notebook" || pty_fail 'the answer y did not replace the file'

pty_line "%run $script"
pty_line "%save $script"
pty_wait_count 'replace it? [y/N]' 3
pty_line 'n'
pty_wait_count 'is as it was' 2
[ "$(cat "$script")" = 'model_size = 11' ] || pty_fail 'the script that %run ran was replaced'
pty_line "%save -f $notebook"
pty_wait_for "saved 3 cells to $notebook"
pty_wait_count 'replace it? [y/N]' 3
pty_line '"still here"'
pty_wait_for 'Out[9]: "still here"'
pty_finish

# Off a terminal: refused, and the file is kept.
cd "$PTY_HOME"
HOME="$PTY_HOME" "$NNSH" -i <<<"%save $notebook" >refused.out 2>&1 || true
grep -qF "%save: $notebook exists; %save -f $notebook replaces it" refused.out ||
  { echo "FAIL: %save off a terminal did not refuse; it said:" >&2; cat refused.out >&2; exit 1; }
grep -qF 'y = 2' "$notebook" || { echo "FAIL: the refused %save changed the file" >&2; exit 1; }
echo "PASS %save asks before replacing a file, -f replaces, off a terminal it refuses"
