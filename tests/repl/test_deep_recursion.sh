#!/usr/bin/env bash
# A runaway recursion in a cell ends in a stack overflow within seconds, with a traceback
# of the nearest and outermost frames and a note of how many were skipped, as Lua's own;
# the session goes on with its variables. (The traceback used to read every one of the
# million frames from the top, quadratic: the shell hung and Ctrl-C could not stop it.)
NNSH=${1:?usage: test_deep_recursion.sh NNSH}
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-recursion.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $1" >&2
  head -c 3000 "$2" >&2
  exit 1
}

printf 'x = 42\nfunction fact(n) return n * fact(n - 1) end\nfact(5)\nx\n' >"$work/in"
# A generous bound, far below the minutes the quadratic traceback took, and above what a
# sanitizer build needs.
timeout 120 "$NNSH" -i <"$work/in" >"$work/out" 2>&1 || fail "the shell did not finish" "$work/out"
grep -qx 'error: In\[2\]:1: stack overflow' "$work/out" || fail 'no stack overflow' "$work/out"
grep -qE '^  \.\.\.\([0-9]+ levels skipped\)$' "$work/out" || fail 'no skipped levels' "$work/out"
[ "$(grep -c "in function 'fact'" "$work/out")" -le 21 ] || fail 'too many frames' "$work/out"
grep -qx '  In\[3\]:1: in main chunk' "$work/out" || fail 'no outermost frame' "$work/out"
grep -qx 'Out\[4\]: 42' "$work/out" || fail 'the session was lost' "$work/out"

# A deep but finite recursion that fails at the bottom: the nearest ten frames, the
# skipped count, the outermost eleven.
printf 'function f(n) if n == 0 then error("bottom") end return 1 + f(n - 1) end\nf(30000)\n' \
  >"$work/in"
"$NNSH" -i <"$work/in" >"$work/out" 2>&1
grep -qx 'error: In\[1\]:1: bottom' "$work/out" || fail 'no error' "$work/out"
skipped=$(sed -n 's/^  \.\.\.(\([0-9]*\) levels skipped)$/\1/p' "$work/out")
# 30,001 calls of f and a few frames of C (error, the cell's call) around them.
[ -n "$skipped" ] && [ "$skipped" -gt 29970 ] && [ "$skipped" -le 30001 ] ||
  fail "skipped '$skipped' levels, expected about 30,000" "$work/out"
frames=$(grep -c "in function 'f'" "$work/out")
[ "$frames" -ge 15 ] && [ "$frames" -le 21 ] || fail "$frames frames of f shown" "$work/out"
# A shallow one keeps every frame.
printf 'function f(n) if n == 0 then error("bottom") end return 1 + f(n - 1) end\nf(5)\n' \
  >"$work/in"
"$NNSH" -i <"$work/in" >"$work/out" 2>&1
[ "$(grep -c "in function 'f'" "$work/out")" = 6 ] || fail 'not all 6 frames of f' "$work/out"
if grep -q 'skipped' "$work/out"; then fail 'levels skipped in a shallow traceback' "$work/out"; fi
echo "PASS a runaway recursion ends quickly with a short traceback and the session goes on"
