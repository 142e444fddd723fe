#!/usr/bin/env bash
# Tab completion: a method after ':' (found through the tensor's methods table), a
# field path, and an argument name inside a layer constructor's table.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'x = nn.zeros(2, 3)'
# Keys typed before the next prompt appears would be echoed by the terminal and then
# drawn again by Readline: wait for that prompt, empty, before typing (the number first,
# so that the prompt before it cannot match).
pty_wait_for 'In [2]: '
pty_wait_ready
pty_type 'x:resh'
pty_keys Tab
pty_wait_for 'In [2]: x:reshape'
pty_line '(3, 2).shape'
pty_wait_for 'Out[2]: (3, 2)'
pty_wait_for 'In [3]: '
pty_wait_ready

pty_type 'nn.layers.Den'
pty_keys Tab
pty_wait_for 'In [3]: nn.layers.Dense'
pty_type '{4, use_b'
pty_keys Tab
pty_wait_for 'In [3]: nn.layers.Dense{4, use_bias='
pty_line "false}.use_bias"
pty_wait_for 'Out[3]: false'
pty_wait_for 'In [4]: '
pty_wait_ready

# The seed's Conv2D example.
pty_type 'nn.layers.Conv2D{32, 3, pad'
pty_keys Tab
pty_wait_for 'In [4]: nn.layers.Conv2D{32, 3, padding='
pty_line "'same'}.padding"
pty_wait_for 'Out[4]: "same"'
pty_wait_for 'In [5]: '
pty_wait_ready

# An option of a method, inside the table after the positional arguments.
pty_line 'model = nn.Sequential{nn.layers.Dense{1, input_shape = {3}}}'
pty_wait_for 'In [6]: '
pty_wait_ready
pty_type 'model:fit(x, y, {epo'
pty_keys Tab
pty_wait_for 'In [6]: model:fit(x, y, {epochs='
pty_keys C-u

# Private names (nn._plots, nn._doc) are offered only once the _ is typed, as IPython
# does: the list for nn. has the public names alone.
pty_type 'nn.'
pty_keys Tab Tab
pty_wait_for 'Sequential'
# Readline writes the list a line at a time and then draws the prompt and the line again
# below it: once that second 'In [6]: nn.' shows, the whole list is on the screen.
pty_wait_count 'In [6]: nn.' 2
pty_refute '_plots'
pty_refute '_help_examples'
pty_keys C-u
pty_type 'nn._pl'
pty_keys Tab
pty_wait_for 'In [6]: nn._plots'
pty_keys C-u

# model.optimizer is a live view with no keys of its own: Tab still offers its settings.
pty_line "model:compile{optimizer = 'sgd', loss = 'mse'}"
pty_wait_for 'In [7]: '
pty_wait_ready
pty_type 'model.optimizer.mom'
pty_keys Tab
pty_wait_for 'In [7]: model.optimizer.momentum'
pty_keys C-u
pty_type 'model.optimizer:get_c'
pty_keys Tab
pty_wait_for 'In [7]: model.optimizer:get_config'
pty_keys C-u
# The value of a layer argument given by name: the names it takes (a choice, an
# activation); other strings still complete file names.
pty_type "nn.layers.Conv2D{32, 3, padding='s"
pty_keys Tab
pty_wait_for "In [7]: nn.layers.Conv2D{32, 3, padding='same'"
pty_keys C-u
pty_type 'nn.layers.Dense{4, activation = "softm'
pty_keys Tab
pty_wait_for 'In [7]: nn.layers.Dense{4, activation = "softmax"'
pty_keys C-u
# Through a whole-number index: model.layers[1].name, a tensor's row's method.
pty_type 'model.layers[1].na'
pty_keys Tab
pty_wait_for 'In [7]: model.layers[1].name'
pty_keys C-u
pty_type 'print(x[2]:resh'
pty_keys Tab
pty_wait_for 'In [7]: print(x[2]:reshape'
pty_keys C-u
# Tab with only blanks before the cursor indents (IPython's way) instead of listing names.
pty_line 'for i = 1, 2 do'
pty_wait_for '   ...: '
pty_keys Tab
pty_type 'print("in" .. "dented " .. i)'
pty_wait_for '   ...:     print("in" .. "dented " .. i)'
pty_keys Enter
pty_line 'end'
pty_wait_for 'indented 2'
pty_finish
echo "PASS completion of a method, a field path (through [n] too), constructor arguments and their named values; Tab indents"
