#!/usr/bin/env bash
# Tab completion: a method after ':' (found through the tensor's methods table), a
# field path, and an argument name inside a layer constructor's table.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'x = nn.zeros(2, 3)'
pty_wait_for 'In [2]: '
pty_type 'x:resh'
pty_keys Tab
pty_wait_for 'In [2]: x:reshape'
pty_line '(3, 2).shape'
pty_wait_for 'Out[2]: (3, 2)'

pty_type 'nn.layers.Den'
pty_keys Tab
pty_wait_for 'In [3]: nn.layers.Dense'
pty_type '{4, use_b'
pty_keys Tab
pty_wait_for 'In [3]: nn.layers.Dense{4, use_bias='
pty_line "false}.use_bias"
pty_wait_for 'Out[3]: false'

# The seed's Conv2D example, once the engine has Conv2D's arguments.
if "$NNSH" -e "for _, c in ipairs(nn.layer_classes()) do if c.name == 'Conv2D' and #c.args > 0 then os.exit(0) end end os.exit(1)"; then
  pty_type 'nn.layers.Conv2D{32, 3, pad'
  pty_keys Tab
  pty_wait_for 'In [4]: nn.layers.Conv2D{32, 3, padding='
  pty_line "'same'}.padding"
  pty_wait_for 'Out[4]: "same"'
fi
pty_finish
echo "PASS completion of a method, a field path and constructor arguments"
