#!/usr/bin/env bash
# A misspelt name gets Lua's error and one hint naming what was most likely meant: a field
# of nn's tables as written after its table's whole path (nn.Sequental, nn.optimizers.Adma), a
# global (pirnt); in scripts, -e, the shell and notebooks. A field of the user's own
# table, or a name nothing is close to, gets no guess. A cell that is only an undefined
# name says which defined name is close.
NNSH=${NNSH:?set NNSH to the nnsh program}
set -euo pipefail
work=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-name-hints.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "FAIL: $1" >&2
  cat "$2" >&2
  exit 1
}
# expect_in FILE TEXT WHAT: TEXT is a line of FILE (fixed string).
expect_in() { grep -F -x -q -- "$2" "$1" || fail "$3: expected the line '$2'; got:" "$1"; }
no_hint() { if grep -q 'hint:' "$1"; then fail "$2: no hint expected" "$1"; fi; }

# -e: the error, the hint right below it, exit status 1.
status=0
"$NNSH" -e 'model = nn.Sequental{nn.layers.Dense{2}}' >"$work/out" 2>&1 || status=$?
[ "$status" = 1 ] || fail "-e exited with $status, expected 1" "$work/out"
expect_in "$work/out" "nnsh: (command line):1: attempt to call a nil value (field 'Sequental')" '-e'
expect_in "$work/out" 'hint: did you mean nn.Sequential?' '-e'
[ "$(head -2 "$work/out" | tail -1)" = 'hint: did you mean nn.Sequential?' ] ||
  fail '-e: the hint goes right below the error' "$work/out"
"$NNSH" -e 'opt = nn.optimizers.Adma{learning_rate = 0.01}' >"$work/out" 2>&1 || true
expect_in "$work/out" 'hint: did you mean nn.optimizers.Adam?' 'an optimizer class'
"$NNSH" -e 'x = nn.datasets.fashoin_mnist.load_data()' >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: (command line):1: attempt to index a nil value (field 'fashoin_mnist')" \
  'a data set'
expect_in "$work/out" 'hint: did you mean nn.datasets.fashion_mnist?' 'a data set'
"$NNSH" -e 'pirnt(1)' >"$work/out" 2>&1 || true
expect_in "$work/out" 'hint: did you mean print?' 'a global'
"$NNSH" -e 's = string.fromat("%d", 1)' >"$work/out" 2>&1 || true
expect_in "$work/out" 'hint: did you mean string.format?' "a library's function"

# Keras's names one module away: nn.Dense is nn.layers.Dense, nn.Adam nn.optimizers.Adam,
# nn.load_model nn.models.load_model (not nn.plot_model, a slip away at nn's level); a
# name that two tables hold names both, in order; a slip is guessed across nn's tables;
# PyTorch's layer and loss names get nnsh's (nn.Linear is Dense, not nn.activations.linear).
for pair in 'nn.Dense{units = 3}:nn.layers.Dense' 'nn.Adam():nn.optimizers.Adam' \
  'nn.EarlyStopping{}:nn.callbacks.EarlyStopping' 'nn.mnist.load_data():nn.datasets.mnist' \
  'nn.Conv2d{}:nn.layers.Conv2D' 'nn.load_model("m"):nn.models.load_model' \
  'nn.Linear(4, 3):nn.layers.Dense' 'nn.BatchNorm2d(8):nn.layers.BatchNormalization' \
  'nn.MSELoss():nn.losses.MeanSquaredError{}' \
  'nn.load_data():nn.datasets.fashion_mnist.load_data or nn.datasets.mnist.load_data'; do
  "$NNSH" -e "${pair%%:*}" >"$work/out" 2>&1 || true
  [ "$(sed -n 2p "$work/out")" = "hint: did you mean ${pair#*:}?" ] || fail "${pair%%:*}" "$work/out"
done
# A global holding another's table is not written in cfg.opts.verbos: one hint, not two.
printf 'cfg = {opts = {verbose = 1}}\nopts = cfg.opts\ncfg.opts.verbos()\n' >"$work/s.lua"
"$NNSH" "$work/s.lua" >"$work/out" 2>&1 || true
[ "$(sed -n 2p "$work/out")" = 'hint: did you mean cfg.opts.verbose?' ] ||
  fail 'a table reached twice' "$work/out"

# No guess: the user's own table (it has no such field, and nn's Sequential is not it), a
# name nothing is close to, a one-letter global.
"$NNSH" -e 'local t = {}; t.Sequental()' >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: (command line):1: attempt to call a nil value (field 'Sequental')" \
  "the user's table"
no_hint "$work/out" "the user's table"
"$NNSH" -e 'local layers = {}; layers.Dens()' >"$work/out" 2>&1 || true
no_hint "$work/out" "the user's table named as one of nn's"
"$NNSH" -e 'nn.Zzyzx()' >"$work/out" 2>&1 || true
no_hint "$work/out" 'a name nothing is close to'
"$NNSH" -e 'x = 1; g(x)' >"$work/out" 2>&1 || true
no_hint "$work/out" 'a one-letter global'

# Many tables in the session: nn is searched first, and the search is bounded.
printf 'for i = 1, 100000 do _G["t" .. i] = {x = {}} end\nnn.Sequental{}\n' | "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" 'hint: did you mean nn.Sequential?' 'many tables'

# A script: the hint is above the traceback.
printf 'local L = nn.layers\nlocal cb = nn.callbacks.EarlyStoping{patience = 2}\n' >"$work/s.lua"
"$NNSH" "$work/s.lua" >"$work/out" 2>&1 || true
expect_in "$work/out" "nnsh: $work/s.lua:2: attempt to call a nil value (field 'EarlyStoping')" 'script'
[ "$(sed -n 2p "$work/out")" = 'hint: did you mean nn.callbacks.EarlyStopping?' ] ||
  fail 'script: the hint goes right below the error' "$work/out"

# The shell: a session variable is a global the guess knows, and a lone undefined name
# shows nil with the defined name close to it.
printf 'model = 42\nmodle\nprint(modle + 1)\nzzzq\nexit\ncfg = {printer = print}\ncfg.printr(1)\n' |
  "$NNSH" -i >"$work/out" 2>&1
expect_in "$work/out" "Out[2]: nil   -- 'modle' is not defined; did you mean model?" 'a lone name'
expect_in "$work/out" \
  "error: In[3]:1: attempt to perform arithmetic on a nil value (global 'modle')" 'the shell'
expect_in "$work/out" 'hint: did you mean model?' 'the shell'
expect_in "$work/out" "Out[4]: nil   -- 'zzzq' is not defined (a typo?)" 'a name nothing is close to'
expect_in "$work/out" "Out[5]: nil   -- 'exit' is not defined: Ctrl-D or %quit leaves the shell" \
  "IPython's exit"
expect_in "$work/out" 'hint: did you mean cfg.printer?' "a field of a session variable"

# A name an earlier cell set to nil is defined: its nil has no note. A field of that name
# in a table constructor sets no variable.
printf 'local a = nil\na\nb = nil\nb\nt = {d = nil}\nd\n' | "$NNSH" -i >"$work/out" 2>&1
grep -qx 'Out\[2\]: nil' "$work/out" || fail 'a local set to nil' "$work/out"
grep -qx 'Out\[4\]: nil' "$work/out" || fail 'a global set to nil' "$work/out"
expect_in "$work/out" "Out[6]: nil   -- 'd' is not defined (a typo?)" 'a table field'

# A % command misspelt, or written as IPython names it, gets the command nnsh has.
printf '%%whos\n%%timeit 1 + 1\n%%sav x.md\n%%zzz\n' | "$NNSH" -i >"$work/out" 2>&1
for pair in "whos:%who" "timeit:%time" "sav:%save"; do
  grep -qF "error: unknown command %${pair%%:*} (did you mean '${pair#*:}'?); the commands are" "$work/out" ||
    fail "%${pair%%:*}" "$work/out"
done
grep -qF "error: unknown command %zzz; the commands are" "$work/out" || fail '%zzz' "$work/out"

# A notebook's handout shows the error and its hint.
printf '# t\n\n```lua\nm = nn.Sequental{}\n```\n' >"$work/nb.md"
(cd "$work" && "$NNSH" --notebook nb.md --keep-going >/dev/null 2>&1) || true
expect_in "$work/nb.out.md" "error: nb.md:4: attempt to call a nil value (field 'Sequental')" \
  'notebook'
expect_in "$work/nb.out.md" 'hint: did you mean nn.Sequential?' 'notebook'
echo "PASS misspelt names get a hint naming the likely one, in scripts, -e, the shell and notebooks"
