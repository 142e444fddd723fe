#!/usr/bin/env bash
# Tab completion: a method after ':' (found through the tensor's methods table), a
# field path, an argument name inside a layer constructor's table, and the names a string
# argument takes (compile's and a layer's) instead of file names.
source "$(dirname "$0")/pty.sh"
# A file in the current directory, which Readline's own completion would offer in a string.
files=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-completion.XXXXXX")
trap 'pty_cleanup; rm -rf "$files"' EXIT
touch "$files/here_in_the_current_directory.txt"
cd "$files"
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
# compile's options take the engine's names (its lists of optimizers, losses, metrics),
# metrics and weighted_metrics entry by entry; never the files of the directory.
pty_type "model:compile{optimizer='"
pty_keys Tab Tab
pty_wait_for 'rmsprop'
pty_wait_count "In [7]: model:compile{optimizer='" 2
pty_refute 'here_in_the_current_directory'
pty_keys C-u
pty_type "model:compile{loss='"
pty_keys Tab Tab
pty_wait_for 'sparse_categorical_crossentropy'
pty_wait_count "In [7]: model:compile{loss='" 2
pty_refute 'here_in_the_current_directory'
pty_keys C-u
pty_type "model:compile{optimizer = 'adam', loss = 'sparse_c"
pty_keys Tab
pty_wait_for "In [7]: model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'"
pty_keys C-u
pty_type "model:compile{loss = 'mse', metrics = {'root"
pty_keys Tab
pty_wait_for "In [7]: model:compile{loss = 'mse', metrics = {'root_mean_squared_error'"
pty_keys C-u
pty_type "model:compile{loss = 'mse', metrics = {'mae', \"kl_d"
pty_keys Tab
pty_wait_for "In [7]: model:compile{loss = 'mse', metrics = {'mae', \"kl_divergence\""
pty_keys C-u
pty_type "model:compile{loss = 'binary_crossentropy', weighted_metrics = {'binary_a"
pty_keys Tab
pty_wait_for "weighted_metrics = {'binary_accuracy'"
pty_keys C-u
# The callbacks' mode= and summary's layout= take their few fixed names.
pty_type "nn.callbacks.EarlyStopping{monitor = 'val_loss', mode = 'm"
pty_keys Tab Tab
pty_wait_for 'max'
pty_wait_count "In [7]: nn.callbacks.EarlyStopping{monitor = 'val_loss', mode = 'm" 2
pty_keys C-u
pty_type "nn.callbacks.ReduceLROnPlateau{mode = 'a"
pty_keys Tab
pty_wait_for "In [7]: nn.callbacks.ReduceLROnPlateau{mode = 'auto'"
pty_keys C-u
pty_type "model:summary{layout = 'b"
pty_keys Tab
pty_wait_for "In [7]: model:summary{layout = 'box'"
pty_keys C-u
# A layer's initializer, regularizer and constraint arguments: the engine's names.
pty_type "nn.layers.Dense{4, kernel_initializer='"
pty_keys Tab Tab
pty_wait_for 'glorot_uniform'
pty_wait_for 'lecun_normal'
pty_wait_count "In [7]: nn.layers.Dense{4, kernel_initializer='" 2
pty_refute 'here_in_the_current_directory'
pty_keys C-u
pty_type "nn.layers.Dense(4, {bias_initializer = 'he_n"
pty_keys Tab
pty_wait_for "In [7]: nn.layers.Dense(4, {bias_initializer = 'he_normal'"
pty_keys C-u
pty_type "nn.layers.Conv2D{8, 3, kernel_regularizer='l1_"
pty_keys Tab
pty_wait_for "In [7]: nn.layers.Conv2D{8, 3, kernel_regularizer='l1_l2'"
pty_keys C-u
pty_type "nn.layers.Dense{4, kernel_constraint='max"
pty_keys Tab
pty_wait_for "In [7]: nn.layers.Dense{4, kernel_constraint='max_norm'"
pty_keys C-u
# No name fits, or the argument takes no name (a layer's name=): nothing, not the file
# whose name fits. The letter typed after Tab shows that Tab has been handled.
pty_type "model:compile{loss='here_"
pty_keys Tab
pty_type 'Q'
pty_wait_for "In [7]: model:compile{loss='here_Q"
pty_keys C-u
pty_type "nn.layers.Dense{4, name='here_"
pty_keys Tab
pty_type 'Q'
pty_wait_for "In [7]: nn.layers.Dense{4, name='here_Q"
pty_refute 'here_in_the_current_directory'
pty_keys C-u
# Where a path goes (model:save's file), the file names are still there.
pty_type "model:save('here_"
pty_keys Tab
pty_wait_for "In [7]: model:save('here_in_the_current_directory.txt"
pty_keys C-u
# Through a whole-number index: model.layers[1].name, a tensor's row's method.
pty_type 'model.layers[1].na'
pty_keys Tab
pty_wait_for 'In [7]: model.layers[1].name'
pty_keys C-u
pty_type 'model.layers[-1].na'
pty_keys Tab
pty_wait_for 'In [7]: model.layers[-1].name'
pty_keys C-u
# A minus before a path is still a break: the path after it completes.
pty_type 'y = k-model.layers[1].na'
pty_keys Tab
pty_wait_for 'In [7]: y = k-model.layers[1].name'
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
echo "PASS completion of a method, a field path (through [n] too), constructor arguments, the names a layer's or compile's argument takes (not files); Tab indents"
