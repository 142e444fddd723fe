-- Devices from Lua on a real GPU (skipped, exit 77, without one): the GPU is listed and
-- is the default device, tensors round-trip through it, and a model trains there to
-- within noise of the same model on the CPU.
local t = require 'harness'
local L = nn.layers

local available, why = nn.test.is_gpu_available()
if not available then
  print('SKIPPED: no GPU: ' .. tostring(why))
  os.exit(77)
end

t.test('the GPU is listed with its name, memory and compute capability', function()
  local gpus = nn.config.list_physical_devices('GPU')
  t.truthy(#gpus >= 1, 'at least one GPU')
  local gpu = gpus[1]
  t.eq(gpu.device, 'gpu:0')
  t.truthy(#gpu.device_name > 0, 'a name')
  t.truthy(gpu.memory > 2^30, 'more than 1 GiB')
  t.truthy(gpu.compute_capability[1] >= 5, 'compute capability ' .. gpu.compute_capability[1])
  print(string.format('      %s, %.1f GiB, compute capability %d.%d', gpu.device_name,
                      gpu.memory / 2^30, gpu.compute_capability[1], gpu.compute_capability[2]))
end)

t.test('a GPU is the default device, as in Keras', function()
  if os.getenv('NNSH_DEVICE') then return end
  t.eq(nn.config.get_device(), 'gpu:0')
  t.eq(nn.Sequential{L.Dense{2, input_shape={3}}}.device, 'gpu:0')
end)

t.test('tensors round-trip through the GPU unchanged', function()
  local x = nn.random.randn(64, 28, 28, 1)
  local g = x:to('gpu')
  t.eq(g.device, 'gpu:0')
  t.eq(g:to('cpu'), x)
  t.eq(nn.arange(10):astype('int32'):to('gpu'):to('cpu'), nn.arange(10):astype('int32'))
end)

t.test('a model trains on the GPU to within noise of the CPU', function()
  local x = nn.random.uniform(512, 8, 8, 1)
  local y = x:reshape(512, 4, 16):sum(2):argmax() -- which quarter is brightest
  local function train(device)
    nn.random.seed(5)
    local model = nn.Sequential{
      L.Conv2D{8, 3, padding='same', activation='relu', input_shape={8, 8, 1}},
      L.MaxPooling2D{2},
      L.Flatten(),
      L.Dense{32, activation='relu'},
      L.Dense{4, activation='softmax'},
    }:to(device)
    model:compile{optimizer='adam', loss='sparse_categorical_crossentropy', metrics={'accuracy'}}
    local history = model:fit(x, y, {epochs=3, batch_size=32, verbose=0})
    return model, history.history.loss[3]
  end
  local gpu_model, gpu_loss = train('gpu')
  local cpu_model, cpu_loss = train('cpu')
  t.eq(gpu_model.device, 'gpu:0')
  t.near(gpu_loss, cpu_loss, 0.02 * math.max(1, cpu_loss), 'final loss')
  local difference = (gpu_model:predict(x, {verbose=0}) - cpu_model:predict(x, {verbose=0})):abs():max()
  t.truthy(difference < 0.05, 'predictions differ by ' .. difference)
end)

t.finish()
