-- The seed's MNIST CNN as a benchmark: time per epoch at batch 64 and test accuracy, on
-- the device asked for. Used by scripts/gpu_check.sh.
--   nnsh scripts/gpu/mnist_bench.lua --device gpu|cpu [--epochs 5] [--steps N]
--        [--result FILE]            (one line of key=value results appended to FILE)
--   nnsh scripts/gpu/mnist_bench.lua --make-synthetic DIR
--        writes an MNIST-shaped data set (IDX files) for machines without the real one
local device, epochs, steps, result_file, synthetic_dir = 'gpu', 5, 0, nil, nil
local i = 1
while arg and arg[i] do
  local a, v = arg[i], arg[i + 1]
  if a == '--device' then device = v; i = i + 1
  elseif a == '--epochs' then epochs = math.tointeger(tonumber(v)); i = i + 1
  elseif a == '--steps' then steps = math.tointeger(tonumber(v)); i = i + 1
  elseif a == '--result' then result_file = v; i = i + 1
  elseif a == '--make-synthetic' then synthetic_dir = v; i = i + 1
  else error('unknown argument ' .. a) end
  i = i + 1
end

-- Wall-clock seconds: nn.time where this nnsh has it, else date(1).
local function now()
  if nn.time then return nn.time() end
  local pipe = io.popen('date +%s.%N')
  local text = pipe:read('*l')
  pipe:close()
  return tonumber(text)
end

-- Ten fixed random blobs, one per class, with noise on top: a task a CNN learns in an
-- epoch, of MNIST's shapes and types, so timings mean the same thing. Its accuracy is
-- not MNIST's.
if synthetic_dir then
  nn.random.seed(2024)
  local templates = nn.random.uniform(10, 28, 28):gt(0.75):astype('float32')
  local function part(n)
    local labels = nn.random.randint(0, 10, n)
    local images = templates:take(labels + 1) * 0.6 + nn.random.uniform(n, 28, 28) * 0.4
    return (images * 255):astype('uint8'), labels:astype('uint8')
  end
  local x_train, y_train = part(60000)
  local x_test, y_test = part(10000)
  os.execute('mkdir -p ' .. synthetic_dir)
  nn.datasets.save_idx(x_train, synthetic_dir .. '/train-images-idx3-ubyte')
  nn.datasets.save_idx(y_train, synthetic_dir .. '/train-labels-idx1-ubyte')
  nn.datasets.save_idx(x_test, synthetic_dir .. '/t10k-images-idx3-ubyte')
  nn.datasets.save_idx(y_test, synthetic_dir .. '/t10k-labels-idx1-ubyte')
  print('synthetic MNIST-shaped data set written to ' .. synthetic_dir)
  return
end

local ok, why = nn.config.set_device(device)
if not ok then error(why) end
nn.random.seed(1)
local x_train, y_train, x_test, y_test = nn.datasets.mnist.load_data()
x_train = x_train:reshape(-1, 28, 28, 1):astype('float32') / 255
x_test = x_test:reshape(-1, 28, 28, 1):astype('float32') / 255

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

local times, started = {}, 0
local timer = nn.callbacks.LambdaCallback{
  on_epoch_begin = function() started = now() end,
  on_epoch_end = function() times[#times + 1] = now() - started end,
}
local fit_start = now()
local history = model:fit(x_train, y_train, {epochs = epochs, batch_size = 64,
                                             validation_split = 0.2, verbose = 2,
                                             steps_per_epoch = steps > 0 and steps or nil,
                                             callbacks = {timer}})
local fit_seconds = now() - fit_start
local test_loss, test_accuracy = model:evaluate(x_test, y_test, {verbose = 0})

local parts = {}
for k = 1, #times do parts[k] = string.format('%.3f', times[k]) end
-- The first epoch includes cuDNN's algorithm search and warm-up: the median of the
-- later ones is the figure to compare.
local later = {table.unpack(times, #times > 1 and 2 or 1)}
table.sort(later)
local median = later[(#later + 1) // 2]
local line = string.format('nnsh device=%s model_device=%s epochs=%d epoch_seconds=%s ' ..
                           'median_later_epoch=%.3f fit_seconds=%.2f test_accuracy=%.4f ' ..
                           'test_loss=%.4f val_accuracy=%.4f',
                           device, tostring(model.device), #times, table.concat(parts, ','),
                           median, fit_seconds, test_accuracy, test_loss,
                           history.history.val_accuracy[#times])
print(line)
if result_file then
  local f = assert(io.open(result_file, 'a'))
  f:write(line, '\n')
  f:close()
end
