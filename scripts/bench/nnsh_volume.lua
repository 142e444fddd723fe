-- A small 3-D CNN timed in nnsh; run by scripts/bench_volume.sh, which alternates it with
-- scripts/bench/torch_volume.py. Volumes (batch 16, 16 x 32 x 32, 1 channel) ->
-- Conv3D{8, 3, relu, same} -> MaxPooling3D{2} -> Conv3D{16, 3, relu, same} ->
-- MaxPooling3D{2} -> GlobalAveragePooling3D -> Dense{10, softmax}, Adam, sparse categorical
-- cross-entropy on random data.
--   nnsh scripts/bench/nnsh_volume.lua [--steps 20] [--warmup 3]
-- Prints `RESULT volume_train_ms <median ms per training step>` and
-- `RESULT volume_predict_ms <median ms per forward of one batch>`.
local steps, warmup = 20, 3
local i = 1
while arg and arg[i] do
  local value = arg[i + 1]
  if arg[i] == '--steps' then steps = math.tointeger(tonumber(value))
  elseif arg[i] == '--warmup' then warmup = math.tointeger(tonumber(value))
  else error('unknown argument ' .. arg[i]) end
  i = i + 2
end
local BATCH, DEPTH, SIZE = 16, 16, 32
local L = nn.layers

nn.random.seed(1)
local x = nn.random.randn(BATCH, DEPTH, SIZE, SIZE, 1)
local y = nn.random.randint(0, 10, BATCH)
local model = nn.Sequential{nn.Input{shape = {DEPTH, SIZE, SIZE, 1}},
                            L.Conv3D{8, 3, activation = 'relu', padding = 'same'},
                            L.MaxPooling3D{2},
                            L.Conv3D{16, 3, activation = 'relu', padding = 'same'},
                            L.MaxPooling3D{2},
                            L.GlobalAveragePooling3D(),
                            L.Dense{10, activation = 'softmax'}}
model:to('cpu')
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}

local function time_ms(fn)
  for _ = 1, warmup do fn() end
  local times = {}
  for k = 1, steps do
    local start = nn.time()
    fn()
    times[k] = (nn.time() - start) * 1000
  end
  table.sort(times)
  return times[(#times + 1) // 2]
end
print(string.format('RESULT volume_train_ms %.3f', time_ms(function() model:train_on_batch(x, y) end)))
print(string.format('RESULT volume_predict_ms %.3f', time_ms(function() model:predict_on_batch(x) end)))
