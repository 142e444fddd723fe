-- The seed CNN (SPEC §3) timed in nnsh; run by scripts/bench.sh, which alternates it
-- with scripts/bench/torch_cnn.py and prints medians and ratios.
--   nnsh scripts/bench/nnsh_cnn.lua --mode short [--steps 100] [--warmup 10]
--   nnsh scripts/bench/nnsh_cnn.lua --mode epoch
--   nnsh scripts/bench/nnsh_cnn.lua --mode accuracy     (5 epochs, then the test set)
-- --seed N (default 1) seeds nn.random.
-- --pixels float (default): the seed's preprocessing, x:astype('float32') / 255 up front;
-- --pixels bytes: the images stay uint8 and a Rescaling{1/255} layer scales each batch.
-- Prints `RESULT <name> <value>` lines.
local mode, steps, warmup, batch, seed, pixels = nil, 100, 10, 64, 1, 'float'
local i = 1
while arg and arg[i] do
  local value = arg[i + 1]
  if arg[i] == '--mode' then mode = value
  elseif arg[i] == '--steps' then steps = math.tointeger(tonumber(value))
  elseif arg[i] == '--warmup' then warmup = math.tointeger(tonumber(value))
  elseif arg[i] == '--batch' then batch = math.tointeger(tonumber(value))
  elseif arg[i] == '--seed' then seed = math.tointeger(tonumber(value))
  elseif arg[i] == '--pixels' then pixels = value
  else error('unknown argument ' .. arg[i]) end
  i = i + 2
end
assert(mode == 'short' or mode == 'epoch' or mode == 'accuracy',
       'expected --mode short, epoch or accuracy')
assert(pixels == 'float' or pixels == 'bytes', 'expected --pixels float or bytes')

local function result(name, value, format)
  print(string.format('RESULT %s ' .. (format or '%.3f'), name, value))
end

nn.random.seed(seed)
local x_train, y_train, x_test, y_test = nn.datasets.mnist.load_data()
x_train, x_test = x_train:reshape(-1, 28, 28, 1), x_test:reshape(-1, 28, 28, 1)
if pixels == 'float' then
  x_train = x_train:astype('float32') / 255
  x_test = x_test:astype('float32') / 255
end

local L = nn.layers
local layers = {
  L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same'},
  L.MaxPooling2D{{2, 2}},
  L.Conv2D{64, {3, 3}, activation = 'relu', padding = 'same'},
  L.MaxPooling2D{{2, 2}},
  L.Flatten(),
  L.Dense{128, activation = 'relu'},
  L.Dropout{0.5},
  L.Dense{10, activation = 'softmax'},
}
if pixels == 'bytes' then table.insert(layers, 1, L.Rescaling{1 / 255}) end
local model = nn.Sequential(layers)
model:build{1, 28, 28, 1}
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}

-- Multiply-adds of one sample, counted as 2 FLOP each: forward; and for training the
-- forward, the weight gradients (as many again) and the input gradients of every layer
-- but the first (whose input gradient is never needed).
local products = {
  28 * 28 * 32 * (3 * 3 * 1),   -- conv2d
  14 * 14 * 64 * (3 * 3 * 32),  -- conv2d_1
  3136 * 128,                   -- dense
  128 * 10,                     -- dense_1
}
local forward_flop, train_flop = 0, 0
for k, p in ipairs(products) do
  forward_flop = forward_flop + 2 * p
  train_flop = train_flop + 2 * p * (k == 1 and 2 or 3)
end
result('infer_flop_per_sample', forward_flop, '%d')
result('train_flop_per_sample', train_flop, '%d')
local blas = nn.config.blas()
print('RESULT openblas_core ' .. blas.core)
result('openblas_threads', blas.threads, '%d')
print('RESULT simd ' .. nn.config.simd())

-- Peak resident memory so far (VmHWM), and its reset (Linux: clear_refs 5), so that the
-- epoch can report the peak of training alone besides the process's.
local function peak_rss_mb()
  local status = io.open('/proc/self/status')
  if not status then return 0 end
  local text = status:read('a')
  status:close()
  return (tonumber(text:match('VmHWM:%s*(%d+)')) or 0) / 1024
end

local function reset_peak_rss()
  local file = io.open('/proc/self/clear_refs', 'w')
  if file then
    file:write('5')
    file:close()
  end
end

local process_peak = 0

if mode == 'short' then
  local function train(count)
    model:fit(x_train, y_train, {epochs = 1, batch_size = batch, steps_per_epoch = count,
                                 verbose = 0})
  end
  train(warmup)
  local start = nn.time()
  train(steps)
  local elapsed = nn.time() - start
  result('train_ms_per_step', 1000 * elapsed / steps)
  model:predict(x_test:slice(1, 4 * batch), {batch_size = batch, verbose = 0})
  start = nn.time()
  model:predict(x_test, {batch_size = batch, verbose = 0})
  elapsed = nn.time() - start
  result('infer_images_per_s', x_test.shape[1] / elapsed, '%.1f')
elseif mode == 'epoch' then
  process_peak = peak_rss_mb()
  collectgarbage('collect')
  reset_peak_rss()
  local start = nn.time()
  local history = model:fit(x_train, y_train, {epochs = 1, batch_size = batch,
                                               validation_split = 0.2, verbose = 0})
  result('epoch_s', nn.time() - start)
  result('train_peak_rss_mb', peak_rss_mb(), '%.1f')
  result('val_accuracy', history.history.val_accuracy[1], '%.4f')
  local train_count = math.floor(x_train.shape[1] * 0.8)
  result('epoch_flop', train_count * train_flop + (x_train.shape[1] - train_count) * forward_flop,
         '%.0f')
else
  model:fit(x_train, y_train, {epochs = 5, batch_size = batch, validation_split = 0.2, verbose = 0})
  local _, accuracy = model:evaluate(x_test, y_test, {verbose = 0})
  result('test_accuracy', accuracy, '%.4f')
  local predicted = model:predict(x_test:slice(1, 5), {verbose = 0}):argmax(-1)
  local classes = {}
  for k = 1, 5 do classes[k] = tostring(predicted[k]) end
  print('RESULT first_predictions ' .. table.concat(classes, ','))
end
result('peak_rss_mb', math.max(process_peak, peak_rss_mb()), '%.1f')
