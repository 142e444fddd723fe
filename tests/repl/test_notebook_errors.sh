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

echo "PASS notebooks that cannot run say why"
