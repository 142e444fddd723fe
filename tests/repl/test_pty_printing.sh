#!/usr/bin/env bash
# Values print themselves: a tensor (shape, dtype, device, elided values), a model on
# one line, a shape as Keras writes it, a nested table.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'nn.arange(6):reshape(2, 3)'
pty_wait_for 'Out[1]:'
pty_wait_for 'tensor([[0., 1., 2.],'
pty_wait_for '        [3., 4., 5.]], shape=(2, 3), dtype=float32, device=cpu)'

pty_line 'nn.arange(2000)'
pty_wait_for 'Out[2]: tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=(2000,), dtype=float32, device=cpu)'

pty_line 'model = nn.Sequential{nn.layers.Dense{4, input_shape = {3}}, nn.layers.Dense{2}}'
pty_line 'model'
pty_wait_for 'Out[4]: Sequential "sequential": (None, 3) -> (None, 2), 2 layers, 26 params'
pty_line 'model.layers[1]'
pty_wait_for 'Out[5]: Dense "dense" (None, 3) -> (None, 4), 16 params'
pty_line 'model.output_shape'
pty_wait_for 'Out[6]: (None, 2)'
pty_line '{name = "run", sizes = {1, 2, 3}, [10] = true}'
pty_wait_for 'Out[7]: {[10] = true, name = "run", sizes = {1, 2, 3}}'
# Statements, then an expression after ';' on the same line: its value is shown, as IPython.
pty_line 'x = nn.zeros(2, 2); x[2] = 5; x:sum()'
pty_wait_for 'Out[8]: 10.0'
# model.optimizer shows its settings; setting its learning rate shows in it.
pty_line "model:compile{optimizer = 'sgd', loss = 'mse'}; model.optimizer.learning_rate = 0.5; model.optimizer"
pty_wait_for 'Out[9]: SGD{learning_rate=0.5, weight_decay=0.0, momentum=0.0, nesterov=false, iterations=0}'
pty_finish
echo "PASS printing of tensors, models, layers, shapes and tables"
