-- The seed CNN (SPEC §3, with its Dropout) trained STEPS batches of 64 in order, for
-- scripts/parity_cnn.sh:  nnsh scripts/bench/parity_cnn.lua STEPS PREFIX
-- Writes PREFIX.nnsh (the untrained model file, which holds each layer's random stream),
-- PREFIX_init.txt and PREFIX_after.txt: per weight a line of sizes, then a line of values.
local steps = math.tointeger(tonumber(arg[1]))
local prefix = arg[2]
nn.random.seed(1)
local x_train, y_train = nn.datasets.mnist.load_data()
x_train = x_train:reshape(-1, 28, 28, 1):astype('float32') / 255
local L = nn.layers
local model = nn.Sequential{
  L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same', input_shape = {28, 28, 1}},
  L.MaxPooling2D{{2, 2}},
  L.Conv2D{64, {3, 3}, activation = 'relu', padding = 'same'},
  L.MaxPooling2D{{2, 2}},
  L.Flatten(),
  L.Dense{128, activation = 'relu'},
  L.Dropout{0.5},
  L.Dense{10, activation = 'softmax'},
}
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
model:save(prefix .. '.nnsh')
local function dump(path)
  local f = assert(io.open(path, 'w'))
  for _, w in ipairs(model:get_weights()) do
    local dims = {} for i = 1, #w.shape do dims[i] = tostring(w.shape[i]) end
    f:write(table.concat(dims, ' '), '\n')
    local flat = w:reshape(-1):tolist()
    local parts = {}
    for i = 1, #flat do parts[i] = string.format('%.9g', flat[i]) end
    f:write(table.concat(parts, ' '), '\n')
  end
  f:close()
end
dump(prefix .. '_init.txt')
local n = steps * 64
model:fit(x_train:slice(1, n), y_train:slice(1, n), {epochs = 1, batch_size = 64, shuffle = false, verbose = 0})
dump(prefix .. '_after.txt')
