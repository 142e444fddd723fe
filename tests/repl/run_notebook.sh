#!/usr/bin/env bash
# Runs a notebook and compares the handout with the expected one, after normalising
# what varies between runs (timings). Usage:
#   run_notebook.sh NNSH NOTEBOOK EXPECTED_HANDOUT EXPECTED_EXIT_STATUS [--as NAME]
#                   [nnsh options...]
# --as runs the notebook under another file name (messages quote it).
set -euo pipefail
nnsh=$1 notebook=$2 expected=$3 expected_status=$4
shift 4
name=$(basename "$notebook")
if [ "${1:-}" = --as ]; then
  name=$2
  shift 2
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-notebook.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The notebook runs from a copy, so messages name it the same way wherever the tree is.
cp "$notebook" "$work/$name"
cd "$work"
status=0
HOME="$work" "$nnsh" --notebook "$name" -o handout "$@" 2>stderr || status=$?
if [ "$status" -ne "$expected_status" ]; then
  echo "FAIL: exit status $status, expected $expected_status" >&2
  cat stderr >&2
  exit 1
fi
sed -E 's/time: [0-9.]+ (us|ms|s) wall, [0-9.]+ (us|ms|s) CPU/time: (normalised)/' handout > actual
if ! diff -u "$expected" actual; then
  echo "FAIL: the handout differs from $expected (diff above: - expected, + actual)" >&2
  exit 1
fi
echo "PASS $name gives the expected handout (exit status $status)"
