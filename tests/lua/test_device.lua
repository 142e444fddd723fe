-- Devices from Lua on any machine: what nn.config and nn.test report (a GPU, or exactly
-- why none), choosing a device, and tensors and models on a device other than the CPU.
-- The device here is the emulated one (the CPU kernels over memory the host cannot
-- touch), so every path a GPU takes runs, and a host access to device memory would crash
-- the test; tests/gpu/test_gpu_device.lua does the same on a real GPU.
local t = require 'harness'
local L = nn.layers

local has_gpu, why = nn.test.is_gpu_available()

t.test('is_gpu_available says why there is no GPU', function()
  t.eq(type(has_gpu), 'boolean')
  if has_gpu then return end
  t.eq(type(why), 'string')
  t.truthy(why:find('built without', 1, true) or why:find('cudaGetDeviceCount', 1, true),
           'the reason names the build or the CUDA call: ' .. why)
  t.eq(type(nn.test.is_built_with_cuda()), 'boolean')
end)

t.test('list_physical_devices lists the CPU and each GPU with name, memory, capability', function()
  local all = nn.config.list_physical_devices()
  t.eq(all[1].name, '/physical_device:CPU:0')
  t.eq(all[1].device_type, 'CPU')
  local gpus = nn.config.list_physical_devices('GPU')
  t.eq(#gpus > 0, has_gpu, 'a GPU listed exactly when one is available')
  for i, gpu in ipairs(gpus) do
    t.eq(gpu.name, '/physical_device:GPU:' .. (i - 1))
    t.eq(gpu.device, 'gpu:' .. (i - 1))
    t.truthy(gpu.memory > 0 and #gpu.compute_capability == 2, 'memory and capability')
  end
  t.raises(function() nn.config.list_physical_devices('TPU') end, "'CPU' or 'GPU'")
end)

t.test('set_device refuses a missing GPU with the reason and a bad name with the choices', function()
  if not has_gpu then
    local ok, message = nn.config.set_device('gpu')
    t.eq(ok, nil)
    t.truthy(message:find('gpu:0 is not available', 1, true), message)
  end
  t.raises(function() nn.config.set_device('tpu') end, "'tpu' is not a device", 'gpu:N')
  t.eq(nn.config.set_device('emulated'), true)
  t.eq(nn.config.get_device(), 'emulated:0')
  t.eq(nn.config.set_device('cpu'), true)
  t.eq(nn.config.get_device(), 'cpu')
end)

t.test('build_info says whether CUDA is compiled in and with which versions', function()
  local info = nn.config.build_info()
  t.eq(info.cuda_build, nn.test.is_built_with_cuda())
  if info.cuda_build then
    t.truthy(info.cuda_version:match('^%d+%.%d+$'), 'cuda_version ' .. info.cuda_version)
    t.truthy(info.cudnn_version:match('^%d+%.%d+%.%d+$'), 'cudnn_version ' .. info.cudnn_version)
  end
end)

t.test('tensors move to a device and back, print and compute there', function()
  local x = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  local d = x:to('emulated')
  t.eq(d.device, 'emulated:0')
  t.eq(x:to('cpu'), x, 'to the device it is on gives the tensor itself')
  t.truthy(tostring(d):find('device=emulated:0', 1, true), tostring(d))
  t.eq(d:to('cpu'), x)
  t.eq(d[2][3], 6.0)
  t.eq(d:sum(), 21.0)
  t.eq((d * 2).device, 'emulated:0')
  t.eq((d * 2):to('cpu'), x * 2)
  t.eq(d:reshape(3, 2).device, 'emulated:0')
  local v = nn.arange(3):to('emulated')
  v[2] = 7
  t.eq(v:tolist()[2], 7.0)
  t.raises(function() x:to('tpu') end, 'tensor:to', "'tpu' is not a device")
end)

t.test('a layer runs where its input is when it is built by the call', function()
  nn.random.seed(1)
  local x = nn.random.randn(2, 5)
  local d = L.Dense{3, activation='relu'}
  local y = d(x:to('emulated'))
  t.eq(y.device, 'emulated:0')
  t.eq(d.kernel.device, 'emulated:0')
  local w = d:get_weights()
  t.eq(w[1].device, 'cpu', 'get_weights gives host copies')
  d:set_weights{nn.ones(5, 3), nn.zeros(3)}
  local out = d(x:to('emulated')):to('cpu')
  local sums = x:sum(1)
  for row = 1, 2 do
    for unit = 1, 3 do
      t.near(out[row][unit], math.max(sums[row], 0), 1e-5, 'relu(x @ ones)')
    end
  end
end)

local function small_model()
  nn.random.seed(2)
  local model = nn.Sequential{
    L.Conv2D{4, 3, padding='same', activation='relu', input_shape={6, 6, 1}},
    L.MaxPooling2D{2},
    L.Flatten(),
    L.Dropout{0.25},
    L.Dense{3, activation='softmax'},
  }
  model:compile{optimizer='adam', loss='sparse_categorical_crossentropy', metrics={'accuracy'}}
  return model
end

t.test('a model on a device trains exactly as on the CPU (same kernels)', function()
  local x = nn.random.uniform(40, 6, 6, 1)
  local y = nn.random.randint(0, 3, 40)
  -- Each model made and trained right after the seed, so both draw the same numbers.
  local function train(device)
    local model = small_model():to(device)
    return model, model:fit(x, y, {epochs=2, batch_size=8, validation_split=0.25, verbose=0})
  end
  local on_cpu, a = train('cpu')
  local on_device, b = train('emulated')
  t.eq(on_device.device, 'emulated:0')
  t.eq(on_device.layers[1].kernel.device, 'emulated:0')
  t.eq(b.history.loss[2], a.history.loss[2])
  t.eq(b.history.val_accuracy[2], a.history.val_accuracy[2])
  t.eq(on_device:predict(x, {verbose=0}), on_cpu:predict(x, {verbose=0}))
  t.eq(on_device:predict(x:to('emulated'), {verbose=0}), on_cpu:predict(x, {verbose=0}),
       'data already on the device')
end)

t.test('models move between devices and keep training', function()
  local x = nn.random.uniform(16, 6, 6, 1)
  local y = nn.random.randint(0, 3, 16)
  local model = small_model()
  model:to('cpu')
  model:fit(x, y, {epochs=1, batch_size=8, verbose=0})
  local before = model:predict(x, {verbose=0})
  model:to('emulated')
  t.eq(model:predict(x, {verbose=0}), before)
  model:fit(x, y, {epochs=1, batch_size=8, verbose=0})
  t.eq(model.optimizer.iterations, 4)
  model:to('cpu')
  t.eq(model.device, 'cpu')
  t.raises(function() model:to('gpu:7') end, 'model:to', 'gpu:7')
  local moved
  local cb = nn.callbacks.LambdaCallback{on_epoch_end = function()
    moved = select(2, pcall(model.to, model, 'emulated'))
  end}
  model:fit(x, y, {epochs=1, batch_size=8, verbose=0, callbacks={cb}})
  t.truthy(tostring(moved):find('so it cannot move to another device', 1, true), tostring(moved))
  t.eq(model.device, 'cpu')
end)

t.test('a model on a device saves and loads', function()
  local dir = os.getenv('NNSH_TEST_TMP') or '/tmp'
  local path = dir .. '/device_model.nnsh'
  local x = nn.random.uniform(8, 6, 6, 1)
  local model = small_model():to('emulated')
  model:fit(x, nn.random.randint(0, 3, 8), {epochs=1, verbose=0})
  model:save(path)
  nn.config.set_device('cpu')
  local loaded = nn.models.load_model(path)
  t.eq(loaded.device, 'cpu')
  t.eq(loaded:predict(x, {verbose=0}), model:predict(x, {verbose=0}))
  t.eq(loaded.optimizer.iterations, model.optimizer.iterations)
  os.remove(path)
end)

t.test('models sharing a layer on two devices, and a layer called on another device', function()
  nn.random.seed(8)
  local shared = L.Dense{2, input_shape = {3}}
  local dropout = L.Dropout{0.5}
  local a = nn.Sequential{shared, dropout, L.Dense{2}}
  local b = nn.Sequential{L.Dense{3, input_shape = {3}, name = 'b_first'}, shared}
  a:compile{optimizer = 'sgd', loss = 'mse'}
  b:compile{optimizer = 'sgd', loss = 'mse'}
  local x, y = nn.random.randn(8, 3), nn.random.randn(8, 2)
  a:fit(x, y, {batch_size = 4, verbose = 0})
  b:to('emulated')
  b:fit(x, y, {batch_size = 4, verbose = 0})
  t.eq(shared.kernel.device, 'emulated:0', 'b trained the shared layer last')
  t.eq(#a:fit(x, y, {batch_size = 4, verbose = 0}).history.loss, 1, 'a trains again on the cpu')
  t.eq(shared.kernel.device, 'cpu')
  t.eq(dropout(nn.random.randn(4, 2):to('emulated'), {training = true}).device, 'emulated:0')
  t.eq(#a:fit(x, y, {batch_size = 4, verbose = 0}).history.loss, 1,
       'a trains after its dropout layer ran on another device')
end)

t.finish()
