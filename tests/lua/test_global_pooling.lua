-- AveragePooling2D, GlobalAveragePooling2D and GlobalMaxPooling2D: shapes and values as
-- Keras, and their gradients checked through one SGD step of a model around them.
-- (The average pooling kernels are checked against finite differences in
-- tests/engine/test_avgpool.c.)
local t = require 'harness'
local L = nn.layers

-- x (2, 3, 3, 2) holds 0 .. 35: sample 0, channel 0 is 0, 2, ..., 16.
local x = nn.arange(36):reshape(2, 3, 3, 2):astype('float32')

t.test('global pooling takes the mean or the maximum of each channel', function()
  t.eq(L.GlobalAveragePooling2D()(x), nn.tensor{{8, 9}, {26, 27}}, 'means')
  t.eq(L.GlobalMaxPooling2D()(x), nn.tensor{{16, 17}, {34, 35}}, 'maxima')
  t.eq(tostring(L.GlobalAveragePooling2D{keepdims = true}(x).shape), '(2, 1, 1, 2)', 'keepdims')
  t.eq(tostring(L.GlobalMaxPooling2D{keepdims = true, data_format = 'channels_first'}(x).shape),
       '(2, 3, 1, 1)', 'keepdims, channels first')
  -- channels_first reads (2, 3, 3, 2) as 3 channels of 3 x 2: channel 0 of sample 0 is 0 .. 5.
  t.eq(L.GlobalAvgPool2D{data_format = 'channels_first'}(x),
       nn.tensor{{2.5, 8.5, 14.5}, {20.5, 26.5, 32.5}}, 'means, channels first')
  t.eq(L.GlobalMaxPool2D{'channels_first'}(x), nn.tensor{{5, 11, 17}, {23, 29, 35}},
       'maxima, channels first (positional data_format)')
end)

t.test('a model summary shows (None, channels) and explains it', function()
  local model = nn.Sequential{L.Conv2D{4, 3, padding = 'same', input_shape = {6, 6, 1}},
                              L.GlobalAveragePooling2D(), L.Dense{3}}
  t.eq(tostring(model.layers[2].output_shape), '(None, 4)', 'output shape')
  t.eq(model.layers[2].name, 'global_average_pooling2d', 'name')
  t.eq(model:count_params(), 40 + 15, 'no weights of its own')
  local text = t.capture(function() model:summary{explain = true} end)
  t.truthy(text:find('the mean of each channel over 6 x 6 cells', 1, true), 'explanation')
  t.raises(function() nn.Sequential{L.Dense{4, input_shape = {3}}, L.GlobalMaxPooling2D()} end,
           'global_max_pooling2d', 'expected ndim=4')
end)

-- Conv2D{1, 1} with kernel w (no bias) scales the image; the pooling reduces it to one
-- value p per sample (mean or max of w·x), and Dense{1} with kernel v and no bias predicts
-- v·p. With mse against y, one SGD(lr) step moves w by -lr · mean_b 2 (v p_b - y_b) v p_b / w.
local function step(pool_layer, reduce, device, data_format)
  local shape = data_format == 'channels_first' and {1, 3, 2} or {3, 2, 1}
  local model = nn.Sequential{
    L.Conv2D{1, 1, use_bias = false, data_format = data_format, input_shape = shape},
    pool_layer, L.Dense{1, use_bias = false}}
  model:to(device)
  local w, v = 0.5, 2
  model:set_weights{nn.tensor{{{{w}}}}, nn.tensor{{v}}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.01}, loss = 'mse'}
  local images = {{{{1}, {-2}}, {{3}, {4}}, {{0}, {5}}},
                  {{{-1}, {2}}, {{7}, {1}}, {{2}, {2}}}}
  local inputs = nn.tensor(images)
  if data_format == 'channels_first' then inputs = inputs:reshape(2, 1, 3, 2) end
  local y = nn.tensor{{1}, {3}}
  local gradient, loss = 0, 0
  for b = 1, 2 do
    local values = {}
    for i = 1, 3 do for j = 1, 2 do values[#values + 1] = images[b][i][j][1] end end
    local p = w * reduce(values)
    loss = loss + (v * p - y[b][1]) ^ 2 / 2
    gradient = gradient + 2 * (v * p - y[b][1]) * v * (p / w) / 2
  end
  local reported = model:train_on_batch(inputs, y)
  t.near(reported, loss, 1e-5, device .. ': loss')
  t.near(model:get_weights()[1]:item(), w - 0.01 * gradient, 1e-6, device .. ': kernel step')
end

local function mean(values)
  local sum = 0
  for _, value in ipairs(values) do sum = sum + value end
  return sum / #values
end

local function maximum(values) return math.max(table.unpack(values)) end

t.test('gradients flow through global pooling (one SGD step by hand)', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    for _, data_format in ipairs{'channels_last', 'channels_first'} do
      step(L.GlobalAveragePooling2D{data_format = data_format}, mean, device, data_format)
      step(L.GlobalMaxPooling2D{data_format = data_format}, maximum, device, data_format)
    end
  end
end)

t.test('AveragePooling2D takes window means; with same padding only cells inside count', function()
  local image = nn.arange(16):reshape(1, 4, 4, 1):astype('float32')
  t.eq(L.AveragePooling2D{{2, 2}}(image):reshape(2, 2), nn.tensor{{2.5, 4.5}, {10.5, 12.5}}, 'valid 2x2')
  -- The corner window of a 3x3 'same' pool holds 0, 1, 4, 5: mean 2.5 (TensorFlow), not 10/9.
  t.eq(L.AvgPool2D{3, strides = 1, padding = 'same'}(image):reshape(4, 4),
       nn.tensor{{2.5, 3, 4, 4.5}, {4.5, 5, 6, 6.5}, {8.5, 9, 10, 10.5}, {10.5, 11, 12, 12.5}},
       'same 3x3 stride 1')
  t.eq(L.AveragePooling2D{{2, 2}, data_format = 'channels_first'}(image:reshape(1, 1, 4, 4)):reshape(2, 2),
       nn.tensor{{2.5, 4.5}, {10.5, 12.5}}, 'channels first')
  local model = nn.Sequential{L.Conv2D{6, 5, activation = 'tanh', padding = 'same', input_shape = {28, 28, 1}},
                              L.AveragePooling2D(), L.Conv2D{16, 5, activation = 'tanh'},
                              L.AveragePooling2D(), L.Flatten(), L.Dense{120, activation = 'tanh'},
                              L.Dense{84, activation = 'tanh'}, L.Dense{10, activation = 'softmax'}}
  t.eq(tostring(model.layers[4].output_shape), '(None, 5, 5, 16)', 'LeNet-5 shapes')
  t.eq(model:count_params(), 61706, 'LeNet-5 parameter count')
  t.eq(model.layers[2].name, 'average_pooling2d', 'name')
end)

t.test('average pooling trains the same on cpu and emulated, in both layouts', function()
  for _, data_format in ipairs{'channels_last', 'channels_first'} do
    local weights = {}
    for _, device in ipairs{'cpu', 'emulated'} do
      nn.random.seed(6)
      local shape = data_format == 'channels_last' and {7, 6, 2} or {2, 7, 6}
      local model = nn.Sequential{
        L.Conv2D{3, 3, padding = 'same', activation = 'relu', data_format = data_format, input_shape = shape},
        L.AveragePooling2D{3, strides = 2, padding = 'same', data_format = data_format},
        L.Flatten(), L.Dense{2, activation = 'softmax'}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                    loss = 'sparse_categorical_crossentropy'}
      local x = data_format == 'channels_last' and nn.random.randn(8, 7, 6, 2) or nn.random.randn(8, 2, 7, 6)
      local before = model:get_weights()[1]
      model:train_on_batch(x, nn.tensor{0, 1, 1, 0, 1, 0, 0, 1})
      weights[device] = model:get_weights()
      -- The convolution before the pooling learned: the gradient passed through it.
      t.truthy((weights[device][1] - before):abs():max() > 1e-4, data_format .. ', ' .. device .. ': kernel moved')
    end
    for i = 1, #weights.cpu do
      t.eq(weights.cpu[i], weights.emulated[i], data_format .. ': weight ' .. i)
    end
  end
end)

t.test('a CNN with global average pooling learns and saves', function()
  nn.random.seed(4)
  -- Class 1 images are bright, class 0 dark: the mean of the image decides.
  local n = 64
  local xs = nn.random.uniform(n, 6, 6, 1)
  local ys = {}
  for i = 1, n do ys[i] = i % 2 end
  xs = xs + nn.tensor(ys):reshape(n, 1, 1, 1) * 2
  local model = nn.Sequential{L.Conv2D{4, 3, activation = 'relu', padding = 'same', input_shape = {6, 6, 1}},
                              L.GlobalAveragePooling2D(), L.Dense{2, activation = 'softmax'}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.05},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local history = model:fit(xs, nn.tensor(ys), {epochs = 30, batch_size = 16, verbose = 0})
  t.eq(history.history.accuracy[30], 1, 'separates bright from dark')
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/global_pooling.safetensors'
  model:save(path)
  local loaded = nn.models.load_model(path)
  t.eq(loaded:predict(xs, {verbose = 0}), model:predict(xs, {verbose = 0}), 'loaded model predicts the same')
  t.eq(loaded.layers[2].class_name, 'GlobalAveragePooling2D', 'layer class kept')
  os.remove(path)
end)

t.finish()
