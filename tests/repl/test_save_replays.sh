#!/usr/bin/env bash
# A saved session replays to the outputs it shows, though %save leaves cells out (one that
# did not compile, %save itself): In[n] and Out[n] in the saved code are renumbered to the
# cells' numbers in the notebook, and In[n] holds a cell's code as typed in both; a %run
# of a notebook whose expect-error cell failed as meant is no failed cell.
NNSH=${1:?usage: test_save_replays.sh NNSH}
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-save-replays.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
fail() {
  echo "FAIL: $1" >&2
  cat "$2" >&2
  exit 1
}

cat >in <<'CELLS'
a = 5
b = = 3
a * 2
Out[3] + 1
In[3], "Out[3]" -- Out[3] in a string and a comment stays
%save -f session.md
t = {Out = {[4] = 'own'}}; t.Out[4], Out[4]
%save -f session.lua
CELLS
HOME="$work" "$NNSH" -i <in >out 2>&1
grep -qx 'Out\[4\]: 11' out || fail 'the session itself' out
for notebook in session.md session.lua; do
  grep -qF 'Out[2] + 1' "$notebook" || fail "$notebook: Out[3] not renumbered to Out[2]" "$notebook"
  grep -qF 'In[2], "Out[3]" -- Out[3]' "$notebook" || fail "$notebook: In[3] or the string" "$notebook"
  HOME="$work" "$NNSH" --notebook "$notebook" -o replayed >replay.out 2>&1 ||
    fail "$notebook did not replay" replay.out
  diff "$notebook" replayed >diff.out || fail "$notebook replays to other outputs" diff.out
done
grep -qF "t.Out[4], Out[3]" session.lua || fail 'a field named Out was renumbered' session.lua
grep -qF -- '--> "own", 11' session.lua || fail 'the output of the last cell' session.lua
# A reference to a cell left out cannot follow it: %save says so.
printf 'x = = 1\nIn[1]\n%%save -f dangling.md\n' | HOME="$work" "$NNSH" -i >out 2>&1
grep -qxF 'note: 1 In[n] or Out[n] in the saved cells names a cell left out (it failed to compile, or was %save or stopped by Ctrl-C); running the notebook, it reads another cell' out ||
  fail 'no note of the reference to a cell left out' out
if grep -q '^note:' <(HOME="$work" "$NNSH" -i <in 2>&1); then fail 'a note where every reference follows' out; fi
# A %run of a notebook whose expect-error cell failed as meant ran without error: %save
# must not mark that cell expect-error, or the notebook fails where it ran.
printf '```lua\na = 1\n```\n\n```lua expect-error\nerror("meant to fail")\n```\n\n```lua\nb = a + 1\n```\n' >lesson.md
printf '%%run lesson.md\nb\n%%save -f ran.md\n' | HOME="$work" "$NNSH" -i >out 2>&1
if grep -q 'expect-error' ran.md; then fail 'the %run cell was marked expect-error' ran.md; fi
HOME="$work" "$NNSH" --notebook ran.md -o replayed >replay.out 2>&1 ||
  fail 'a session with a %run of a notebook holding an expect-error cell did not replay' replay.out
diff ran.md replayed >diff.out || fail 'ran.md replays to other outputs' diff.out
echo "PASS a saved session replays to its outputs, its In and Out references renumbered"
