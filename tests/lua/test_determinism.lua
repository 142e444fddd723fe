-- The same seed trains to the same weights whatever the number of threads: every layer
-- sums in a fixed order (engine/cpu/gemm.h), so the thread count changes only the speed.
local t = require 'harness'
local threading = nn.config.threading
local L = nn.layers

-- Models that run every kind of CPU product, each big enough to be split among threads:
-- the direct convolution (stride 1), the im2col convolution (stride 2), Dense layers read
-- in place (32 units) and packed (40 and 10 units), and a recurrent layer whose 40 gate
-- columns go through the layers' matrix product.
local function train(threads)
  threading.set_intra_op_parallelism_threads(threads)
  nn.random.seed(7)
  local image = nn.Sequential{
    L.Conv2D{8, 3, activation = 'relu', padding = 'same', input_shape = {12, 12, 3}},
    L.Conv2D{16, 3, strides = 2, activation = 'relu'},
    L.Flatten(),
    L.Dense{40, activation = 'relu'},
    L.Dense{32, activation = 'relu'},
    L.Dense{10, activation = 'softmax'},
  }
  image:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
  local x = nn.random.uniform(256, 12, 12, 3)
  local y = (nn.random.uniform(256) * 10):astype('int32')
  local history = image:fit(x, y, {epochs = 2, batch_size = 128, verbose = 0})
  local sequence = nn.Sequential{L.LSTM{10, input_shape = {20, 7}}, L.Dense{3}}
  sequence:compile{optimizer = 'sgd', loss = 'mse'}
  sequence:fit(nn.random.randn(128, 20, 7), nn.random.randn(128, 3),
               {epochs = 2, batch_size = 64, verbose = 0})
  local weights = image:get_weights()
  for _, w in ipairs(sequence:get_weights()) do weights[#weights + 1] = w end
  return weights, history.history.loss
end

local before = threading.get_intra_op_parallelism_threads()

t.test('training with 1 and with 3 threads gives the same weights, bit for bit', function()
  local one, one_loss = train(1)
  t.eq(threading.get_intra_op_parallelism_threads(), 1, 'threads in use')
  local three, three_loss = train(3)
  t.eq(threading.get_intra_op_parallelism_threads(), 3, 'threads in use')
  t.eq(#one, #three, 'weight count')
  t.eq(#one, 15, 'weights of both models')
  for i = 1, #one do
    t.truthy(one[i] == three[i], 'weight ' .. i .. ' differs between 1 and 3 threads')
  end
  t.eq(string.format('%a %a', one_loss[1], one_loss[2]),
       string.format('%a %a', three_loss[1], three_loss[2]), 'losses to the bit')
  -- and training did move them: the comparison is not of untouched initial values
  nn.random.seed(7)
  local fresh = nn.Sequential{L.Conv2D{8, 3, padding = 'same', input_shape = {12, 12, 3}}}
  t.truthy(not (fresh:get_weights()[1] == one[1]), 'the first kernel was trained')
end)

t.test('set_intra_op_parallelism_threads refuses what is not a thread count', function()
  local set = threading.set_intra_op_parallelism_threads
  t.raises(function() set(-1) end, 'threads must be 0 (one per logical processor) to 1024, got -1')
  t.raises(function() set(1.5) end, 'expected a whole number of threads (0 for one per logical processor), got 1.5')
  t.raises(function() set('two') end, "got 'two'")
  t.raises(function() set() end, 'expected a whole number of threads')
  t.raises(function() set(2, 3) end, 'unexpected argument 2')
  t.raises(function() threading.get_intra_op_parallelism_threads(1) end, 'unexpected argument 1')
end)

t.test('0 means one thread per logical processor', function()
  threading.set_intra_op_parallelism_threads(0)
  t.truthy(threading.get_intra_op_parallelism_threads() >= 1, 'at least one thread')
  threading.set_intra_op_parallelism_threads(before)
  t.eq(threading.get_intra_op_parallelism_threads(), before, 'restored')
end)

t.finish()
