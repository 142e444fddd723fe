#!/usr/bin/env bash
# Ctrl-C during fit in the shell stops the training at the next batch and then the cell,
# at its next call or loop turn: a loop of fits ends at once instead of going on to its
# next fit, and the rest of the cell does not run; the statement that trained finishes its
# assignment (over several lines too), so h = m:fit(...) keeps the history so far, and the
# model stays usable. (SIGINT is sent from a callback, through io.popen: os.execute's
# system() ignores SIGINT while its child runs.)
NNSH=${1:?usage: test_interrupted_fit_cell.sh NNSH}
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-interrupted-fit.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $1" >&2
  cat "$2" >&2
  exit 1
}
expect_in() { grep -F -x -q -- "$2" "$1" || fail "expected the line '$2'; got:" "$1"; }

cat >"$work/in" <<'CELLS'
nn.random.seed(1); x = nn.random.randn(512, 4); y = nn.random.randint(0, 2, 512)
m = nn.Sequential{nn.layers.Dense{2, activation = 'softmax', input_shape = {4}}}
m:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
pid = io.open('/proc/self/stat'):read('n')
stopper = nn.callbacks.LambdaCallback{on_train_batch_end = function(batch) if run == 2 and batch == 3 then io.popen('kill -INT ' .. pid):close() end end}
for r = 1, 3 do run = r; print('run', r); m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0, callbacks = {stopper}}) end
run
do
  run = 2; h = m:fit(x, y, {epochs = 2, batch_size = 16, verbose = 0, callbacks = {stopper}})
  print('not reached')
end
h
run = 2; h2 = m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0, callbacks = {stopper}})
h2
run = 0; #m:fit(x, y, {epochs = 2, batch_size = 16, verbose = 0}).history.loss
run = 2; h3 = m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0,
                           callbacks = {stopper}})
h3
run = 2; m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0, callbacks = {stopper}}); run = 0; print('same line', #m:fit(x, y, {epochs = 3, verbose = 0}).history.loss)
for r = 1, 4 do run = r; local ok = pcall(function() m:fit(x, y, {epochs = 1, batch_size = 16, verbose = 0, callbacks = {stopper}}); print('after fit', r) end); print('pcall', r, ok) end
function train(options)
  -- two lines of comment, so that fit's line is below the caller's
  --
  local history = m:fit(x, y, options)
  return history
end
run = 2; h4 = train({epochs = 1, batch_size = 16, verbose = 0,
                     callbacks = {stopper}})
h4
CELLS
"$NNSH" -i <"$work/in" >"$work/out" 2>&1
stop='training stopped by the user at epoch 1, batch 4 of 32; the model keeps its weights and the history so far.'
expect_in "$work/out" 'error: In[6]:1: interrupted (Ctrl-C)'
if grep -qx 'run.3' "$work/out"; then fail 'the loop went on after Ctrl-C' "$work/out"; fi
expect_in "$work/out" 'Out[7]: 2'
expect_in "$work/out" 'error: In[8]:3: interrupted (Ctrl-C)'
if grep -qx 'not reached' "$work/out"; then fail 'the cell went on after Ctrl-C' "$work/out"; fi
# The statement that trained finished: its history holds what was trained.
expect_in "$work/out" 'Out[9]: History(0 epochs)'
expect_in "$work/out" 'Out[11]: History(0 epochs)'
[ "$(grep -c -F -x "$stop" "$work/out")" = 7 ] || fail 'seven stops expected' "$work/out"
# A single statement is no error, and the model trains on afterwards.
if grep -q 'error: In\[10\]' "$work/out"; then fail 'a one-line fit cell failed' "$work/out"; fi
expect_in "$work/out" 'Out[12]: 2'
# A statement over two lines finishes too: its assignment is on the second.
if grep -q 'error: In\[13\]' "$work/out"; then fail 'a two-line fit statement failed' "$work/out"; fi
expect_in "$work/out" 'Out[14]: History(0 epochs)'
# A pcall around the loop's body catches the first stop, not the cell's: the next turn stops.
expect_in "$work/out" 'error: In[16]:1: interrupted (Ctrl-C)'
if grep -q '^after fit.[23]' "$work/out"; then fail 'a pcall swallowed the stop' "$work/out"; fi
# fit called in a function, its line below the caller's: the caller's assignment finishes.
expect_in "$work/out" 'Out[19]: History(0 epochs)'
# The rest of the line is the rest of the cell: the next call on it does not run.
expect_in "$work/out" 'error: In[15]:1: interrupted (Ctrl-C)'
if grep -q '^same line' "$work/out"; then fail 'the rest of the line ran' "$work/out"; fi
echo "PASS Ctrl-C during fit stops the cell at its next call or loop turn; the statement keeps its history"
