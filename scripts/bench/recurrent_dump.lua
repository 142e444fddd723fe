-- Writes a Python module (the path in arg[1]) with an input, the weights nnsh drew for
-- SimpleRNN, LSTM and GRU (12 units: the CPU's eight-at-a-time cells and their scalar
-- tails; return_sequences, forwards and go_backwards), their
-- outputs, and the gradients of one SGD step (learning rate 1, so weights before minus
-- after) of each inside Flatten + Dense{1} under mse against zeros. Read by
-- scripts/bench/recurrent_vs_torch.py, which recomputes all of it in PyTorch.
local L = nn.layers
local UNITS = 12
local path = assert(arg[1], 'usage: nnsh recurrent_dump.lua OUTPUT.py')
nn.random.seed(5)
local x = nn.random.randn(3, 7, 4)
local out = assert(io.open(path, 'w'))
out:write('units = ', UNITS, '\n')
local function lit(v)
  if type(v) == 'table' then
    local parts = {}
    for i = 1, #v do parts[i] = lit(v[i]) end
    return '[' .. table.concat(parts, ',') .. ']'
  end
  return string.format('%.9g', v)
end
out:write('x = ', lit(x:tolist()), '\n')
for _, cls in ipairs{'LSTM', 'GRU', 'SimpleRNN'} do
  for _, back in ipairs{false, true} do
    local l = L[cls]{UNITS, return_sequences = true, go_backwards = back}
    local model = nn.Sequential{nn.Input{shape = {7, 4}}, l, L.Flatten(), L.Dense{1}}
    local y = l(x)
    local w = l:get_weights()
    local key = cls .. (back and '_b' or '_f')
    out:write(key, '_k = ', lit(w[1]:tolist()), '\n')
    out:write(key, '_u = ', lit(w[2]:tolist()), '\n')
    out:write(key, '_bias = ', lit(w[3]:tolist()), '\n')
    out:write(key, '_y = ', lit(y:tolist()), '\n')
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1}, loss = 'mse'}
    local all = model:get_weights()
    out:write(key, '_dense_k = ', lit(all[4]:tolist()), '\n')
    out:write(key, '_dense_b = ', lit(all[5]:tolist()), '\n')
    model:train_on_batch(x, nn.zeros(3, 1))
    local after = model:get_weights()
    out:write(key, '_gk = ', lit((all[1] - after[1]):tolist()), '\n')
    out:write(key, '_gu = ', lit((all[2] - after[2]):tolist()), '\n')
    out:write(key, '_gb = ', lit((all[3] - after[3]):tolist()), '\n')
  end
end
out:close()
