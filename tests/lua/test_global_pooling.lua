-- GlobalAveragePooling2D and GlobalMaxPooling2D: shapes and values as Keras, and their
-- gradients checked through one SGD step of a model around them.
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
