#!/usr/bin/env bash
# Python habits get Lua's error and one hint line, in the shell, in notebooks, in scripts
# and with -e; Python's None, True, False and option values written as names (padding=same) are
# errors that say what Lua writes, not a quiet nil; names the user defined work as ever.
NNSH=${NNSH:?set NNSH to the nnsh program}
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-python-hints.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $1" >&2
  cat "$2" >&2
  exit 1
}
# expect_in FILE TEXT WHAT: TEXT is a line of FILE (fixed string).
expect_in() { grep -F -x -q -- "$2" "$1" || fail "$3: expected the line '$2'; got:" "$1"; }

# -e: the syntax error, then the hint, and exit status 1.
status=0
"$NNSH" -e 'model:fit(x, y, epochs=3)' >"$work/out" 2>&1 || status=$?
[ "$status" = 1 ] || fail "-e exited with $status, expected 1" "$work/out"
expect_in "$work/out" "nnsh: (command line):1: ')' expected near '='" '-e'
expect_in "$work/out" 'hint: Lua passes options in a table: model:fit(x, y, {epochs = 3})' '-e'
[ "$(wc -l <"$work/out")" = 2 ] || fail "-e: one error and one hint expected" "$work/out"

# A Lua notebook run as a script: Python's False stops it. An option value written as a
# name is an error only in typed cells (shell, notebooks); a script may read such a global
# on purpose, as Lua allows.
printf -- '-- %%%%\nl = nn.layers.Dense{4, use_bias=False}\n' >"$work/cells.lua"
printf -- '-- %%%%\nprint("not reached")\n' >>"$work/cells.lua"
status=0
(cd "$work" && "$NNSH" cells.lua) >"$work/out" 2>&1 || status=$?
[ "$status" = 1 ] || fail "the cells script exited with $status, expected 1" "$work/out"
expect_in "$work/out" "nnsh: cells.lua:2: 'False' is Python: Lua writes false" 'script'
if grep -q 'not reached' "$work/out"; then fail 'the script went on after the error' "$work/out"; fi
printf 'relu = relu or 1\nif not linear then print(relu, type(tanh)) end\n' >"$work/idioms.lua"
"$NNSH" "$work/idioms.lua" >"$work/out" 2>&1 || fail 'a script reading unset globals failed' "$work/out"
expect_in "$work/out" "$(printf '1\tnil')" 'script idioms'

# A plain script: a syntax error and a run-time error get their hints, and a Python name
# is an error there too, as with -e.
printf 'local x = 3\nif x != 2 then print(x) end\n' >"$work/plain.lua"
status=0
"$NNSH" "$work/plain.lua" >"$work/out" 2>&1 || status=$?
[ "$status" = 1 ] || fail "the plain script exited with $status, expected 1" "$work/out"
expect_in "$work/out" "nnsh: $work/plain.lua:2: 'then' expected near '!'" 'plain script'
expect_in "$work/out" 'hint: Lua writes ~= for not equal' 'plain script'
printf 'local t = {1, 2}\nprint(len(t))\n' >"$work/plain.lua"
"$NNSH" "$work/plain.lua" >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: $work/plain.lua:2: attempt to call a nil value (global 'len')" 'plain script'
expect_in "$work/out" 'hint: Lua writes #t for len(t)' 'plain script'
"$NNSH" -e 'nn.Input{shape = {None, 3}}' >"$work/out" 2>&1 || true
expect_in "$work/out" \
  "nnsh: (command line):1: 'None' is Python: Lua's nothing is nil; a size left open is nn.None" '-e'

# A notebook's handout shows the same error and hint.
printf '# t\n\n```lua\n# build the model\n```\n\n```lua\nm = nn.Input{shape = {None, 3}}\n```\n' \
  >"$work/nb.md"
printf '\n```lua\nc = nn.layers.Conv2D{8, 3, padding=same}\n```\n' >>"$work/nb.md"
(cd "$work" && "$NNSH" --notebook nb.md --keep-going >/dev/null 2>&1) || true
expect_in "$work/nb.out.md" "error: nb.md:4: unexpected symbol near '#'" 'notebook'
expect_in "$work/nb.out.md" 'hint: comments start with -- in Lua' 'notebook'
expect_in "$work/nb.out.md" \
  "error: nb.md:8: 'None' is Python: Lua's nothing is nil; a size left open is nn.None" 'notebook'
expect_in "$work/nb.out.md" \
  "error: nb.md:12: 'same' is not defined: nn's option values are strings in Lua, so write 'same'" \
  'notebook'

# A Python-looking line inside a long string is text: the cell reads on to its end.
printf 'notes = [[\nfor example:\nstep one]]\n#notes\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'Out[2]: 21' 'a long string holding "for example:"'

# A Python list spread over lines is one cell until its brackets close: one error and its
# hint, not one at every line; the next cell is a cell again.
printf 'model = nn.Sequential([\n  nn.layers.Dense{10},\n])\n1 + 1\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" "error: In[1]:1: unexpected symbol near '['" 'a list over lines'
expect_in "$work/out" 'hint: lists and tuples are tables in Lua: {1, 2, 3}' 'a list over lines'
[ "$(grep -c '^error' "$work/out")" = 1 ] || fail 'one error expected for the list' "$work/out"
expect_in "$work/out" 'Out[2]: 2' 'the cell after the list'
# Only Python's lists, tuples and dicts go on so: a bracket in an unfinished string or a
# comment, or another error on a line ending in a comma, fails at once.
printf "print('hello (\n1 + 1\nprint('a', 'b' 'c', -- note (\n2 + 2\nf(a b,\n3 + 3\nd = {'a': 1,\n 'b': 2}\n4 + 4\n" |
  "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'error: In[1]:1: unfinished string near <eof>' 'a ( in a string'
expect_in "$work/out" 'Out[2]: 2' 'the cell after a ( in a string'
expect_in "$work/out" 'Out[4]: 4' 'the cell after a ( in a comment'
expect_in "$work/out" 'Out[6]: 6' 'the cell after another error'
expect_in "$work/out" "error: In[7]:1: '}' expected near ':'" 'a dict over lines'
expect_in "$work/out" 'Out[8]: 8' 'the cell after a dict over lines'

# A block whose first line ends in a comment with a colon is Lua, not a Python header:
# the shell waits for the block's end.
printf 'for i = 1, 2 do -- i: the index\n  print("turn " .. i)\nend\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'turn 2' 'a block with a colon in its comment'
if grep -q 'error' "$work/out"; then fail 'a block with a colon in its comment failed' "$work/out"; fi

# An unfinished string is what Lua says it is: no bracket hint for the call around it.
printf "print('abc\n" | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'error: In[1]:1: unfinished string near <eof>' 'an unfinished string'
if grep -q 'hint:' "$work/out"; then fail 'a hint for an unfinished string' "$work/out"; fi
# %help takes the topic quoted too, as help 'fit' does.
printf "%%help 'fit'\n" | "$NNSH" -i >"$work/out" 2>&1
grep -qF 'model:fit(x, y [, {epochs=1' "$work/out" || fail "%help 'fit'" "$work/out"

# A line that starts with '(' after a finished expression is a call of it in Lua: the
# teacher's cell, in a script, a notebook and the shell, gets the hint under its error;
# a '(' line in a long string, or after an operator, gets none.
paren_hint() {
  echo "hint: line $1 starts with '(', so Lua reads it as a call of the line above ($2(...));" \
    "end the line above with ';' or start this one with ';('"
}
setup='x = nn.random.randn(4, 3)\nd = nn.layers.Dense{2}\ny = d(x)\n'
teacher='by_hand = nn.matmul(x, d.kernel) + d.bias\n(by_hand - d(x)):abs():max() < 1e-5\n'
nil_tensor='tensor -: expected tensors or numbers, got nil and nn.Tensor'
printf "$setup$teacher" >"$work/paren.lua"
"$NNSH" "$work/paren.lua" >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: $work/paren.lua:5: $nil_tensor" 'a ( line in a script'
expect_in "$work/out" "$(paren_hint 5 d.bias)" 'a ( line in a script'
printf '# t\n\n```lua\n'"$setup"'```\n\n```lua\n'"$teacher"'```\n' >"$work/paren.md"
(cd "$work" && "$NNSH" --notebook paren.md >/dev/null 2>&1) || true
expect_in "$work/paren.out.md" "error: paren.md:11: $nil_tensor" 'a ( line in a notebook'
expect_in "$work/paren.out.md" "$(paren_hint 11 d.bias)" 'a ( line in a notebook'
printf -- '-- %%%%\nx = y\n(f or g)(1)\n' >"$work/paren_cells.lua"
(cd "$work" && "$NNSH" paren_cells.lua) >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: paren_cells.lua:2: attempt to call a nil value (global 'y')" \
  'a ( line in a cells script'
expect_in "$work/out" "$(paren_hint 3 y)" 'a ( line in a cells script'
printf "$setup"'do\n'"$teacher"'end\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" "error: In[4]:3: $nil_tensor" 'a ( line in the shell'
expect_in "$work/out" "$(paren_hint 3 d.bias)" 'a ( line in the shell'
printf 'notes = [[\nby_hand = d.bias\n(by_hand - d(x))]] .. nil\nx = y +\n(f or g)(1)\n' >"$work/paren.lua"
"$NNSH" "$work/paren.lua" >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: $work/paren.lua:3: attempt to concatenate a nil value" \
  'a ( line in a long string'
if grep -q 'hint:' "$work/out"; then fail 'a hint for a ( line in a long string' "$work/out"; fi
printf 'x = y +\n(f or g)(1)\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'error: In[1]:2: attempt to call a nil value' \
  'a ( line after an operator'
if grep -q 'hint:' "$work/out"; then fail 'a hint for a ( line after an operator' "$work/out"; fi

source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'model:fit(x, y, epochs=3)'
pty_wait_for "error: In[1]:1: ')' expected near '='"
pty_wait_for 'hint: Lua passes options in a table: model:fit(x, y, {epochs = 3})'
# A Python block header fails at once: no continuation prompt waiting for more.
pty_line 'for i in range(3):'
pty_wait_for 'error: In[2]:1: <name> expected near <eof>'
pty_wait_for 'hint: Lua counts with for i = 0, 2 do ... end'
pty_line 'l = nn.layers.Conv2D{32, 3, padding=same, activation=relu}'
pty_wait_for \
  "error: In[3]:1: 'same' is not defined: nn's option values are strings in Lua, so write 'same'"
pty_line 'use_bias = False'
pty_wait_for "error: In[4]:1: 'False' is Python: Lua writes false"
pty_line 'print(f"loss {x}")'
pty_wait_for "error: In[5]:1: attempt to call a nil value (global 'f')"
pty_wait_for "hint: Lua has no f-strings: 'x = ' .. x, or string.format('x = %g', x)"
# Names the user defines are theirs; rawget and other undefined names are as in Lua.
pty_line "same = 'valid'"
pty_line 'local relu = 5'
pty_line 'same, relu + 1, rawget(_G, "None"), undefined_name'
pty_wait_for 'Out[8]: "valid", 6, nil, nil'
pty_line '%who'
pty_wait_for 'relu  number  5'
pty_line 'nn.layers.Conv2D{32, 3, padding=same}.padding'
pty_wait_for 'Out[10]: "valid"'
# A block typed line by line: its '(' line calls the line above.
pty_line 'do'
pty_line '  x = y'
pty_line '  (f or g)(1)'
pty_line 'end'
pty_wait_for "error: In[11]:2: attempt to call a nil value (global 'y')"
pty_wait_for "hint: line 3 starts with '(', so Lua reads it as a call of the line above (y(...)); end the line above with ';' or start this one with ';('"
pty_finish
echo "PASS Python habits get hints and Python names are errors, in the shell, notebooks and scripts"
