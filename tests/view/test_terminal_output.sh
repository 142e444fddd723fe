#!/usr/bin/env bash
# What model:summary(), history:plot() and model:plot() print on different terminals:
# box lines and Braille on UTF-8, Keras' layout and ASCII elsewhere, an ASCII box when
# narrow, colour unless NO_COLOR; and the files they write (SVG, text, PNG if built).
source "$(dirname "$0")/lib.sh" "$1"
cd "$VIEW_DIR"

show() { # WIDTH HEIGHT [VAR=VALUE...]: runs show_model.lua, leaves its output in $record
  local width=$1 height=$2
  shift 2
  view_start "$width" "$height" "env $* \"\$NNSH\" show_model.lua"
  [ "$(view_exit_status 120)" = 0 ] || fail "show_model.lua failed ($*)"
  record=$(view_scrollback)
  escapes=$(view_tmux capture-pane -p -e -S - -E -)
}
has() { grep -qF -- "$1" <<<"$record" || fail "$2: missing '$1'"; }
lacks() { grep -qF -- "$1" <<<"$record" && fail "$2: unexpected '$1'"; return 0; }
braille() { LC_ALL=C grep -q $'\xe2[\xa0-\xa3]' <<<"$record"; }
coloured() { LC_ALL=C grep -qE $'\x1b\\[([0-9]+;)*3[1-6]m' <<<"$escapes"; }

show 100 40
has '┌─────────────────┬──────────────┬─────────┐' 'UTF-8 summary'
has '│ dense (Dense)   │ (None, 16)   │     272 │' 'UTF-8 summary'
has ' Total params: 306 (1.20 KB)' 'UTF-8 summary'
has 'Training and Validation Loss' 'UTF-8 curves'
braille || fail 'UTF-8 curves: no Braille'
has 'Dense(16, relu)' 'UTF-8 flow'
has '↓ shape: (2,)' 'UTF-8 flow'
coloured || fail 'UTF-8 terminal: the curves have no colour'
pass 'UTF-8 terminal: box summary, Braille curves in colour, Unicode flow'

show 100 40 LANG=C
has '_________________________________________________________________' 'C locale summary'
has ' dense (Dense)               (None, 16)                272       ' 'C locale summary'
lacks '┌' 'C locale summary'
braille && fail 'C locale: Braille in the curves'
has '** Train Loss  oo Val Loss' 'C locale curves'
has 'v shape: (2,)' 'C locale flow'
pass 'C locale: Keras summary, ASCII curves and flow'

show 50 40 LANG=C
has '+-----------------+--------------+---------+' 'narrow C locale summary'
has '| dense (Dense)   | (None, 16)   |     272 |' 'narrow C locale summary'
pass 'narrow non-UTF-8 terminal: ASCII box summary'

show 100 40 NO_COLOR=1
braille || fail 'NO_COLOR: still Braille'
coloured && fail 'NO_COLOR: colour escape codes on the screen'
pass 'NO_COLOR: no colour'

# Files, written without a terminal.
out="$VIEW_TMP/files"
mkdir -p "$out"
OUT_DIR="$out" "$NNSH" show_model.lua > "$VIEW_TMP/files.txt" || fail 'writing figure files failed'
grep -qF 'SHOWN' "$VIEW_TMP/files.txt" || fail 'show_model.lua did not finish'
check_svg() {
  [ -s "$1" ] || fail "$1 is missing"
  if command -v xmllint >/dev/null; then xmllint --noout "$1" || fail "$1 is not well-formed XML"
  else python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" || fail "$1 is not XML"; fi
}
check_svg "$out/curves.svg"
check_svg "$out/model.svg"
grep -qF '>Training and Validation Accuracy</text>' "$out/curves.svg" || fail 'curves.svg lacks its title'
grep -qF '>Dense(16, relu)</text>' "$out/model.svg" || fail 'model.svg lacks a layer'
LC_ALL=C grep -q $'\xe2[\xa0-\xa3]' "$out/curves.txt" || fail 'curves.txt is not drawn in Braille'
if [ -e "$out/curves.png" ]; then
  [ "$(head -c 8 "$out/curves.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail 'curves.png is not a PNG'
  pass 'files: SVG, text and PNG'
else
  pass 'files: SVG and text (this build has no PNG)'
fi
