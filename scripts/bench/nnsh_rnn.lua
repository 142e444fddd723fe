-- Recurrent layers timed in nnsh; run by scripts/bench_rnn.sh, which alternates it with
-- scripts/bench/torch_rnn.py. One model per cell: (batch 64, 50 steps, 32 features) ->
-- LSTM, GRU or SimpleRNN of 128 units -> Dense{10, softmax}, Adam, sparse categorical
-- cross-entropy on random data.
--   nnsh scripts/bench/nnsh_rnn.lua --cell LSTM [--steps 40] [--warmup 5]
-- Prints `RESULT <cell>_train_ms <median ms per training step>` and
-- `RESULT <cell>_predict_ms <median ms per forward of one batch>`.
local cell, steps, warmup = 'LSTM', 40, 5
local i = 1
while arg and arg[i] do
  local value = arg[i + 1]
  if arg[i] == '--cell' then cell = value
  elseif arg[i] == '--steps' then steps = math.tointeger(tonumber(value))
  elseif arg[i] == '--warmup' then warmup = math.tointeger(tonumber(value))
  else error('unknown argument ' .. arg[i]) end
  i = i + 2
end
assert(nn.layers[cell], 'unknown cell ' .. cell)
local BATCH, TIME, FEATURES, UNITS = 64, 50, 32, 128

nn.random.seed(1)
local x = nn.random.randn(BATCH, TIME, FEATURES)
local y = nn.random.randint(0, 10, BATCH)
local model = nn.Sequential{nn.Input{shape = {TIME, FEATURES}}, nn.layers[cell]{UNITS},
                            nn.layers.Dense{10, activation = 'softmax'}}
model:to('cpu')
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}

local function median(times)
  table.sort(times)
  return times[(#times + 1) // 2]
end
local function time_ms(fn)
  for _ = 1, warmup do fn() end
  local times = {}
  for k = 1, steps do
    local start = nn.time()
    fn()
    times[k] = (nn.time() - start) * 1000
  end
  return median(times)
end
print(string.format('RESULT %s_train_ms %.3f', cell, time_ms(function() model:train_on_batch(x, y) end)))
print(string.format('RESULT %s_predict_ms %.3f', cell,
                    time_ms(function() model:predict_on_batch(x) end)))
