#!/usr/bin/env bash
# Scripts from the command line. A Lua notebook runs as a script: `nnsh FILE.lua` and %run
# take a file with -- %% cells cell by cell, as the shell does, so handouts and %save files
# whose cells end in an expression run, printing those values; plain scripts still run as
# one chunk. `nnsh -e EXPRESSION` prints the expression's values.
# Usage: test_scripts.sh NNSH
set -euo pipefail
nnsh=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-scripts.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export HOME="$work"

fail() { echo "FAIL: $1" >&2; shift; for file in "$@"; do echo "--- $file:" >&2; cat "$file" >&2; done; exit 1; }

# A lesson whose cells end in expressions, its handout, and the handout run as a script:
# the script prints what the handout's --> lines hold.
printf -- '-- %%%%\nx = nn.zeros(2, 3)\n-- %%%%\nx.shape\n-- %%%%\nlocal y = x + 1\nprint(y:sum())\n-- %%%%\ny.shape, #x\n' > lesson.lua
"$nnsh" --notebook lesson.lua -o handout.lua 2>/dev/null
grep -q -- '--> (2, 3), 2' handout.lua || fail "the handout lacks the last value" handout.lua
status=0
"$nnsh" handout.lua arg1 >out 2>err || status=$?
[ "$status" -eq 0 ] || fail "the handout as a script exited $status" err
printf '(2, 3)\n6.0\n(2, 3), 2\n' > expected
cmp -s out expected || fail "the handout as a script printed other values" out expected

# The script's arguments are in arg; a cell that ends in a call returning nothing shows nothing.
printf -- '-- %%%%\nprint(arg[1], arg[2])\n-- %%%%\narg[0]\n' > args.lua
"$nnsh" args.lua one two > out
printf 'one\ttwo\n"args.lua"\n' > expected
cmp -s out expected || fail "arguments of a notebook script" out expected

# A failing cell stops the script with exit status 1 and its file and line; the next cell
# does not run. A cell marked expect-error is meant to fail, and the script goes on.
printf -- '-- %%%%\nx = 1\n-- %%%% expect-error\nerror("meant")\n-- %%%%\nx + 1\n-- %%%%\nerror("boom")\n-- %%%%\nprint("not here")\n' > failing.lua
status=0
"$nnsh" failing.lua >out 2>err || status=$?
[ "$status" -eq 1 ] || fail "a failing cell gave exit status $status" err
grep -q 'failing.lua:8: boom' err || fail "the error does not name failing.lua:8" err
grep -q '^2$' out || fail "the cell after the expected error did not run" out
! grep -q 'not here' out || fail "a cell after the failure ran" out

# A session saved with %save as Lua runs as a script.
"$nnsh" -e '' -i > /dev/null 2>&1 <<'INPUT'
t = nn.arange(6):reshape(2, 3)
t.shape
t:sum()
%save saved.lua
INPUT
[ -s saved.lua ] || fail "%save wrote no saved.lua"
"$nnsh" saved.lua > out 2>err || fail "the saved session as a script failed" saved.lua err
printf '(2, 3)\n15.0\n' > expected
cmp -s out expected || fail "the saved session printed other values" out expected saved.lua

# %run of a notebook in the shell shows each value.
"$nnsh" -e '' -i > shell.out 2>&1 <<<'%run lesson.lua'
grep -q '(2, 3), 2' shell.out || fail "%run of a notebook did not show the last value" shell.out

# A `-- %%` line inside a long string or a function is no cell boundary: such a file is a
# plain script, as in lua.
printf 'local s = [[\n-- %%%% inside a string\n]]\nprint(#s)\n' > in_string.lua
[ "$("$nnsh" in_string.lua)" = 22 ] || fail "a marker inside a long string made a notebook"
printf 'local function f()\n--%%%% a commented line\n  return 7\nend\nprint(f())\n' > in_function.lua
[ "$("$nnsh" in_function.lua)" = 7 ] || fail "a marker inside a function made a notebook"

# Cells share the real globals (as a plain script's chunk does), run % commands as the
# shell does (as %save writes them), and come from standard input too; a byte order mark
# and a #! line go before the first cell.
printf -- '-- %%%%\nx = 5\n-- %%%%\n%%time y = x + 1\n-- %%%%\nprint(_G.x, load("return y")())\n' > globals.lua
"$nnsh" globals.lua > out 2>err || fail "globals and a %% command in a notebook script" globals.lua err
grep -q "^5	6$" out || fail "cells did not share the globals" out
"$nnsh" - < lesson.lua > out 2>err || fail "a notebook on standard input" err
grep -q '^(2, 3), 2$' out || fail "a notebook on standard input printed other values" out
printf '\xEF\xBB\xBF#!/usr/bin/env nnsh\n-- %%%%\nx = 2\n-- %%%%\nx * 21\n' > bom.lua
[ "$("$nnsh" bom.lua)" = 42 ] || fail "a notebook after a byte order mark and a #! line"

# A notebook that runs itself stops at a depth, with a message, instead of overflowing.
printf -- '-- %%%%\n%%run self.lua\n' > self.lua
status=0
"$nnsh" self.lua > out 2>err || status=$?
[ "$status" -eq 1 ] && grep -q 'files run 32 deep' err || fail "a notebook running itself" err

# An error in a cell's last expression names that line of the file, not one past the cell.
printf -- '-- %%%%\nx = nn.ones(2)\nx[0]\n' > index_error.lua
status=0
"$nnsh" index_error.lua 2>err || status=$?
[ "$status" -eq 1 ] && grep -q '^nnsh: index_error.lua:3: tensor\[i\]' err ||
  fail "the line of an error in a cell's last expression" err

# %run gives a file its arguments as ... and in arg, as `nnsh FILE ARGS` does; so does
# nnsh -i FILE ARGS, and a Lua notebook's cells get them too.
printf 'print(...)\nprint(arg[0], arg[1], #arg)\n' > show_args.lua
"$nnsh" -e '' -i > out 2>&1 <<<'%run show_args.lua one two'
printf 'In [1]: %%run show_args.lua one two\none\ttwo\nshow_args.lua\tone\t2\nIn [2]: \n' > expected
cmp -s out expected || fail "%run's arguments" out expected
"$nnsh" -i show_args.lua one two < /dev/null > out 2>&1
printf 'one\ttwo\nshow_args.lua\tone\t2\nIn [1]: \n' > expected
cmp -s out expected || fail "nnsh -i FILE's arguments" out expected
printf -- '-- %%%%\nprint(...)\n-- %%%%\nselect("#", ...)\n' > cell_args.lua
printf 'one\ttwo\n2\n' > expected
"$nnsh" cell_args.lua one two > out 2>&1
cmp -s out expected || fail "the arguments of a Lua notebook's cells" out expected
"$nnsh" -e '' -i <<<'%run cell_args.lua one two' 2>&1 | grep -v '^In \[' > out
printf 'one\ttwo\n--> 2\n' > expected
cmp -s out expected || fail "the arguments of a Lua notebook's cells under %run" out expected

# A plain script (no -- %% line) is one chunk: its arguments are ..., a bare expression
# is a syntax error as in lua.
printf 'local first = ...\nprint(first)\n' > plain.lua
[ "$("$nnsh" plain.lua hello)" = hello ] || fail "a plain script lost its arguments"
printf 'x = 1\nx\n' > bare.lua
status=0
"$nnsh" bare.lua 2>err || status=$?
[ "$status" -eq 1 ] && grep -q 'syntax error' err || fail "a bare expression in a plain script" err
# -e: a statement runs as in lua; an expression prints its values, as print does; code
# that is neither is the statement's syntax error.
[ "$("$nnsh" -e "nn.layers.Conv2D{16, 3, strides=2, padding='same'}(nn.zeros{1,28,28,3}).shape")" = \
  '(1, 14, 14, 16)' ] || fail "-e with an expression did not print its value"
[ "$("$nnsh" -e 'x = 3' -e 'x * 2, "six"')" = "$(printf '6\tsix')" ] ||
  fail "-e with two values after a statement"
[ -z "$("$nnsh" -e 'local y = 1')" ] || fail "-e with a statement printed something"
# a plain table prints as the shell shows it, not as its address
[ "$("$nnsh" -e '{1, 2, a = {b = 1}}, "s"')" = "$(printf '{1, 2, a = {b = 1}}\ts')" ] ||
  fail "-e with a table did not show its contents"
[ -z "$("$nnsh" -e '(function() end)()')" ] || fail "-e with a call returning nothing printed"
[ "$("$nnsh" -e 'nn.ones(2):sum()')" = 2.0 ] || fail "-e with a call did not print its value"
[ -z "$("$nnsh" -e 'nn.ones(2):sum();')" ] || fail "-e with a trailing ; printed a value"
# Statements then an expression, as a cell: the last expression's values are printed.
[ "$("$nnsh" -e 'x = nn.zeros(2); x[2] = 5; x:sum(), #x')" = "$(printf '5.0\t2')" ] ||
  fail "-e with statements, then an expression after ';'"
[ "$("$nnsh" -e 'x = 2
x * 3')" = 6 ] || fail "-e with statements, then an expression on its own line"
[ -z "$("$nnsh" -e 'x = 2; y = x')" ] || fail "-e with statements only printed something"
# code that would close a wrapper around it is no expression
status=0
"$nnsh" -e '1)  print(2' > out 2>err || status=$?
[ "$status" -eq 1 ] && [ ! -s out ] || fail "-e '1)  print(2' ran" out err
# an error in an expression's traceback ends at the user's chunk, not at the printer
"$nnsh" -e 'nn.zeros(3):sum(0.5)' 2>err || true
grep -q 'got 0.5' err && tail -n 1 err | grep -q 'in main chunk' ||
  fail "the traceback of an -e expression" err
# -e runs as a cell does: the last statement, an expression, shows its values after any
# statements (a call too); a call that returns nothing shows nothing.
[ "$("$nnsh" -e 'x = nn.ones(3); x:sum()')" = 3.0 ] ||
  fail "-e with a statement, then a method call after ';'"
[ "$("$nnsh" -e 'x = -3; math.abs(x)')" = 3 ] || fail "-e with a statement, then a call after ';'"
[ "$("$nnsh" -e 'x = -3
math.abs(x)')" = 3 ] || fail "-e with a statement, then a call on its own line"
[ "$("$nnsh" -e 'x = 4; x -- a comment')" = 4 ] || fail "-e with an expression before a comment"
[ "$("$nnsh" -e 'print(1)')" = 1 ] || fail "-e 'print(1)' printed more than 1"
[ -z "$("$nnsh" -e 'x = 1 -- a comment')" ] || fail "-e with a statement and a comment printed"
# an error in that last expression names its line
"$nnsh" -e 'qq = {}; qq.history.x' 2>err || true
grep -q '^nnsh: (command line):1: attempt to index a nil value' err ||
  fail "the line of an error in -e's last expression" err
"$nnsh" -e 'x = nn.ones(2)
x[0]' 2>err || true
grep -q 'position 0 is out of range' err && grep -q '(command line):2: in main chunk' err ||
  fail "the line of an index error in -e's last expression" err
args=(); for i in $(seq 1 65); do args+=(-e "x = $i"); done
status=0
"$nnsh" "${args[@]}" 2>err || status=$?
[ "$status" -eq 1 ] && grep -q 'at most 64 -e' err || fail "65 -e options" err
status=0
"$nnsh" -e 'x =' 2>err || status=$?
[ "$status" -eq 1 ] && grep -q "unexpected symbol near <eof>" err || fail "-e with bad code" err

# A Markdown notebook (.md, as %save writes it) runs its ```lua blocks as cells, with
# `nnsh FILE.md` and with %run; the text around them is not code. A block never closed
# is refused, naming its line.
printf 'A lesson.\n\n```lua\nx = nn.ones(2, 3)\nx:sum()\n```\n\nText `code`.\n\n```output\nold\n```\n\n```lua\nprint(x.shape)\n```\n' > lesson.md
"$nnsh" lesson.md > out 2>err || fail "a Markdown notebook as a script failed" err
printf '6.0\n(2, 3)\n' > expected
cmp -s out expected || fail "a Markdown notebook as a script printed other values" out expected
printf '%%run lesson.md\nx:mean()\n' | "$nnsh" -i > out 2>err || fail "%run of a Markdown notebook failed" err
grep -q '^Out\[2\]: 1.0$' out || fail "%run of a Markdown notebook left no x" out err
printf 'Text.\n\n```lua\nx = 1\n' > open.md
status=0
"$nnsh" open.md >out 2>err || status=$?
[ "$status" -eq 1 ] && grep -q 'open.md:3: the code block opened here is never closed' err ||
  fail "an unclosed block in a Markdown script (status $status)" err
# A top-level local of a %run file or a cell is a session variable, and its error says
# local, as the code reads, not global.
printf 'local b = nil\nprint(b.x)\n' > locals.lua
printf '%%run locals.lua\nlocal q = nil; q.x = 1\nw = nil; w.x = 1\n' | "$nnsh" -i > out 2>&1 || true
grep -qF "locals.lua:2: attempt to index a nil value (local 'b')" out || fail "a %run file's local" out
grep -qF "In[2]:1: attempt to index a nil value (local 'q')" out || fail "a cell's local" out
grep -qF "In[3]:1: attempt to index a nil value (global 'w')" out || fail "a cell's global" out
# An error of nn's (which names its function, not a line) says where in the user's code it
# came from, in a script and with -e, as in the shell; Lua's own messages keep theirs.
printf 'local x = 1\nlocal c = nn.layers.Conv2D{2, 3, padding = "vaild"}\n' > where.lua
"$nnsh" where.lua > out 2>&1 || true
grep -qxF "nnsh: where.lua:2: nn.layers.Conv2D: padding must be one of valid, same, got 'vaild' (did you mean 'valid'?)" out ||
  fail "the place of nn's error in a script" out
"$nnsh" -e 'x = 1' -e 'y = nn.zeros(2):reshap(1, 2)' > out 2>&1 || true
grep -qxF "nnsh: (command line):1: tensor has no field or method 'reshap' (did you mean 'reshape'?); see help 'nn.Tensor'" out ||
  fail "the place of nn's error with -e" out
printf 'local t = nil\nprint(t.x)\n' > own.lua
"$nnsh" own.lua > out 2>&1 || true
grep -qxF "nnsh: own.lua:2: attempt to index a nil value (local 't')" out || fail "Lua's own message" out
printf 'x = 1\nx = nn.layers.Conv2D{-1, 3}\n' | "$nnsh" > out 2>&1 || true
grep -qxF "nnsh: stdin:2: nn.layers.Conv2D: filters must be a positive integer, got -1" out ||
  fail "the place of nn's error in a script from standard input" out
printf 'error("usage: tool FILE", 0)\n' > level0.lua
"$nnsh" level0.lua > out 2>&1 || true
grep -qxF "nnsh: usage: tool FILE" out || fail "error(message, 0) keeps its message as chosen" out
# %run and %save read ~ as $HOME, as a shell does, where the word begins unquoted.
printf 'print("from home", ...)\n' > "$HOME/home_script.lua"
"$nnsh" -e '' -i > out 2>&1 <<<$'%run ~/home_script.lua ~ "~"\n%save ~/saved_home.md'
grep -qxF "from home	$HOME	~" out || fail "%run ~/file" out
[ -s "$HOME/saved_home.md" ] || fail "%save ~/file wrote nothing" out
echo "scripts: ok"
