#!/usr/bin/env bash
# Notebooks that cannot be run say why, with the line or the cause, and write nothing.
# Usage: test_notebook_errors.sh NNSH
set -euo pipefail
nnsh=$1
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-notebook-errors.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"

# expect_failure NAME EXPECTED_MESSAGE NNSH_ARGS...: exit status 1, the message on stderr.
expect_failure() {
  local name=$1 message=$2 status=0
  shift 2
  HOME="$work" "$nnsh" "$@" >stdout 2>stderr || status=$?
  if [ "$status" -ne 1 ] || ! grep -F -q -- "$message" stderr; then
    echo "FAIL: $name: exit status $status, expected 1 and '$message' on stderr; stderr:" >&2
    cat stderr >&2
    exit 1
  fi
}

# An unclosed ```lua fence: the output would land inside it and the handout would not run.
printf '# t\n\n```lua\nx = 1\nprint("hi")\n' > unclosed.md
expect_failure unclosed_fence 'unclosed.md:3: the code block opened here is never closed' \
  --notebook unclosed.md
[ ! -e unclosed.out.md ] || { echo "FAIL: a handout was written for unclosed.md" >&2; exit 1; }

# A header of comments (as %save writes) is not a cell: the first cell is cell 1.
printf -- '-- nnsh session\n\n-- %%%%\nerror("boom")\n' > header.lua
expect_failure lua_header_is_not_a_cell 'header.lua:4: cell 1 failed' --notebook header.lua

# A directory is named as one (the message said "Input/output error").
mkdir lesson.md
expect_failure directory 'cannot read lesson.md: Is a directory' --notebook lesson.md
HOME="$work" "$nnsh" -e '' -i <<<'%run lesson.md' >run.out 2>&1 || true
grep -F -q 'error: cannot read lesson.md: Is a directory' run.out ||
  { echo "FAIL: %run of a directory; it said:" >&2; cat run.out >&2; exit 1; }
# %save names the cause of a file it cannot create.
HOME="$work" "$nnsh" -e 'x = 1' -i <<<'%save no_such_directory/x.md' >save.out 2>&1 || true
grep -F -q "cannot save 'no_such_directory/x.md': the directory 'no_such_directory' does not exist; no file was written" save.out ||
  { echo "FAIL: %save into a missing directory; it said:" >&2; cat save.out >&2; exit 1; }
# %save writes only .md or .lua notebooks: notes.txt is no notebook's name.
HOME="$work" "$nnsh" -e 'x = 1' -i <<<'%save notes.txt' >save.out 2>&1 || true
grep -F -q '%save: the file name must end in .md (a Markdown notebook) or .lua (a Lua one)' save.out ||
  { echo "FAIL: %save to a .txt; it said:" >&2; cat save.out >&2; exit 1; }
[ ! -e notes.txt ] || { echo "FAIL: %save wrote notes.txt" >&2; exit 1; }
# %time with no code says how to use it, and the cell fails.
printf '# t\n\n```lua\n%%time\n```\n' > time.md
expect_failure time_without_code '%time: which code? usage: %time CODE' --notebook time.md

# os.exit in a cell ends the run there, not the process before the handout is written:
# the handout holds the cells up to it, the exit status is the code given. A pcall that
# catches it still ends the run at the cell's end.
printf '# t\n\n```lua\nprint("bye")\nos.exit(3)\nprint("not here")\n```\n\n```lua\nprint("later")\n```\n' > exit.md
status=0
HOME="$work" "$nnsh" --notebook exit.md >stdout 2>stderr || status=$?
[ "$status" -eq 3 ] || { echo "FAIL: os.exit(3): exit status $status" >&2; cat stderr >&2; exit 1; }
grep -qF '(os.exit(3): the notebook ends here)' exit.out.md || { echo "FAIL: os.exit note" >&2; cat exit.out.md >&2; exit 1; }
grep -qF 'wrote exit.out.md (1 of 2 cells run, ended by os.exit(3))' stderr || { echo "FAIL: os.exit on stderr" >&2; cat stderr >&2; exit 1; }
if grep -qx 'not here\|later' exit.out.md; then echo "FAIL: ran past os.exit" >&2; cat exit.out.md >&2; exit 1; fi
printf -- '-- %%%%\nprint(pcall(os.exit, false))\nprint("after")\n-- %%%%\nprint("next")\n' > caught.lua
status=0
HOME="$work" "$nnsh" --notebook caught.lua >stdout 2>stderr || status=$?
[ "$status" -eq 1 ] || { echo "FAIL: os.exit(false) in a pcall: exit status $status" >&2; exit 1; }
grep -qF -- '--> after' caught.out.lua || { echo "FAIL: the cell ends" >&2; cat caught.out.lua >&2; exit 1; }
if grep -qF -- '--> next' caught.out.lua; then echo "FAIL: the next cell ran" >&2; exit 1; fi

# os.exit in a file the notebook %runs ends the notebook too, not only that cell.
printf 'print("in script")\nos.exit(9)\n' > exits.lua
printf '# t\n\n```lua\n%%run exits.lua\n```\n\n```lua\nprint("cell 2")\n```\n' > runs.md
status=0
HOME="$work" "$nnsh" --notebook runs.md >stdout 2>stderr || status=$?
[ "$status" -eq 9 ] || { echo "FAIL: os.exit(9) in %run: exit status $status" >&2; cat stderr >&2; exit 1; }
grep -qF 'wrote runs.out.md (1 of 2 cells run, ended by os.exit(9))' stderr ||
  { echo "FAIL: os.exit in %run: summary" >&2; cat stderr >&2; exit 1; }
if grep -qx 'cell 2' runs.out.md; then echo "FAIL: the next cell ran" >&2; exit 1; fi

# With --keep-going the last line counts the failures and says what ended the run.
printf '# t\n\n```lua\nerror("boom")\n```\n\n```lua\nos.exit(0)\n```\n\n```lua\nprint(1)\n```\n' > kg.md
status=0
HOME="$work" "$nnsh" --notebook kg.md --keep-going >stdout 2>stderr || status=$?
[ "$status" -eq 1 ] || { echo "FAIL: a failed cell, then os.exit(0): exit status $status" >&2; exit 1; }
grep -qF 'wrote kg.out.md (2 of 3 cells run, 1 failed, ended by os.exit(0))' stderr ||
  { echo "FAIL: --keep-going summary" >&2; cat stderr >&2; exit 1; }

# A copy of os.exit that a finalizer calls after the run is Lua's own again, with no
# session behind it (under ASan, a use after free if it were not).
printf '# t\n\n```lua\nlocal e = os.exit\nkeep = setmetatable({}, {__gc = function() e(5) end})\nprint("ok")\n```\n' > gc.md
status=0
HOME="$work" "$nnsh" --notebook gc.md >stdout 2>stderr || status=$?
[ "$status" -eq 5 ] || { echo "FAIL: os.exit in a finalizer: exit status $status" >&2; cat stderr >&2; exit 1; }
grep -qx 'ok' gc.out.md || { echo "FAIL: the handout before the finalizer" >&2; exit 1; }

# The handout names the notebook by its file name, so it is the same from any folder;
# the terminal's line keeps the path as typed.
mkdir -p lessons/week1
printf '# t\n\n```lua\nx = 1\n```\n\n```lua\nerror("boom")\n```\n' > lessons/week1/shapes.md
status=0
HOME="$work" "$nnsh" --notebook lessons/week1/shapes.md -o from_top.md --keep-going >stdout 2>stderr || status=$?
[ "$status" -eq 1 ] || { echo "FAIL: a failing cell from another folder: exit status $status" >&2; exit 1; }
grep -qF 'nnsh: lessons/week1/shapes.md:8: cell 2 failed: shapes.md:8: boom' stderr ||
  { echo "FAIL: the terminal's line for a notebook in another folder" >&2; cat stderr >&2; exit 1; }
(cd lessons/week1 && HOME="$work" "$nnsh" --notebook shapes.md -o ../../from_inside.md --keep-going >/dev/null 2>&1) || true
grep -qxF 'error: shapes.md:8: boom' from_top.md ||
  { echo "FAIL: the handout names the notebook by its path:" >&2; cat from_top.md >&2; exit 1; }
cmp -s from_top.md from_inside.md ||
  { echo "FAIL: the handout differs with the folder it is run from" >&2; diff from_top.md from_inside.md >&2; exit 1; }

echo "PASS notebooks that cannot run say why"
