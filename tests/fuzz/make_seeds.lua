-- Seed inputs for the fuzzers: valid model files of every layer kind this tree builds,
-- weights files, and small IDX files (raw and gzip). Usage: nnsh make_seeds.lua <dir>
local out = assert(arg[1], 'usage: nnsh make_seeds.lua <directory>')
local L = nn.layers
nn.io.make_directory(out .. '/model')
nn.io.make_directory(out .. '/idx')
nn.random.seed(1)

local function try(name, build)
  local ok, err = pcall(function()
    local model, x = build()
    model:compile{optimizer = 'adam', loss = 'mse'}
    local y = model:predict(x, {verbose = 0})
    model:fit(x, y, {epochs = 1, verbose = 0})
    model:save(out .. '/model/' .. name .. '.safetensors')
    model:save_weights(out .. '/model/' .. name .. '-weights.safetensors')
  end)
  if not ok then io.stderr:write('seed ', name, ' skipped: ', tostring(err), '\n') end
end

try('dense', function()
  return nn.Sequential{L.Dense{3, activation = 'relu', input_shape = {2}}, L.Dense{2}},
         nn.random.randn(4, 2)
end)
try('flatten-activation', function()
  return nn.Sequential{L.Flatten{input_shape = {2, 2}}, L.Activation{'tanh'}, L.Dense{1}},
         nn.random.randn(4, 2, 2)
end)
try('cnn', function()
  return nn.Sequential{
    L.Conv2D{2, 3, padding = 'same', input_shape = {4, 4, 1}}, L.BatchNormalization(),
    L.MaxPooling2D{2}, L.Flatten(), L.Dropout{0.5}, L.Dense{2},
  }, nn.random.randn(4, 4, 4, 1)
end)
nn.Sequential{L.Dense{2}, L.Dense{1}}:save(out .. '/model/unbuilt.safetensors')

nn.datasets.save_idx(nn.tensor({{1, 2, 3}, {4, 5, 6}}, 'uint8'), out .. '/idx/u8.idx')
nn.datasets.save_idx(nn.tensor({1, -2, 3}, 'int32'), out .. '/idx/i32.idx')
nn.datasets.save_idx(nn.tensor({{0.5, -1}}, 'float32'), out .. '/idx/f32.idx')
os.execute(string.format("gzip -kf '%s/idx/u8.idx'", out))
