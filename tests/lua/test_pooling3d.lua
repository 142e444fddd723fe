-- MaxPooling3D, AveragePooling3D, GlobalMaxPooling3D and GlobalAveragePooling3D: Keras'
-- shapes, hand-computed values, training the same on cpu and emulated, model files and
-- errors. (The layers are checked against a naive 3-D reference and finite differences in
-- tests/engine/test_pool3d.c.)
local t = require 'harness'
local L = nn.layers

-- (1, 4, 4, 4, 1) holding 0 .. 63: cell (d, h, w) is 16d + 4h + w.
local cube = nn.arange(64):reshape(1, 4, 4, 4, 1):astype('float32')
-- (1, 3, 3, 3, 1) holding 0 .. 26: cell (d, h, w) is 9d + 3h + w.
local small = nn.arange(27):reshape(1, 3, 3, 3, 1):astype('float32')

t.test('pooling takes the max or the mean of each box', function()
  t.eq(L.MaxPooling3D{2}(cube):reshape(8), nn.tensor{21, 23, 29, 31, 53, 55, 61, 63}, 'max 2x2x2')
  t.eq(L.AvgPool3D{{2, 2, 2}}(cube):reshape(8),
       nn.tensor{10.5, 12.5, 18.5, 20.5, 42.5, 44.5, 50.5, 52.5}, 'mean 2x2x2')
  -- A 3-cube with strides 2, 'same': one cell of padding before each axis and one after,
  -- so each box holds indices {0, 1} or {1, 2} along each axis.
  t.eq(L.MaxPool3D{3, strides = 2, padding = 'same'}(small):reshape(8),
       nn.tensor{13, 14, 16, 17, 22, 23, 25, 26}, "max, 'same': the padding never wins")
  -- The mean counts only the cells inside: 9 · 0.5 + 3 · 0.5 + 0.5 = 6.5 for the first
  -- box (TensorFlow), not 52 / 27.
  t.eq(L.AveragePooling3D{3, strides = 2, padding = 'same'}(small):reshape(8),
       nn.tensor{6.5, 7.5, 9.5, 10.5, 15.5, 16.5, 18.5, 19.5}, "mean, 'same': cells inside only")
  -- A box one cell deep is a 2-D pooling of each depth slice; one cell wide and high, a
  -- pooling along the depth.
  local x = nn.random.randn(2, 3, 6, 4, 5)
  t.eq(L.AveragePooling3D{{1, 2, 2}}(x):reshape(6, 3, 2, 5),
       L.AveragePooling2D{2}(x:reshape(6, 6, 4, 5)), '(1, 2, 2) = AveragePooling2D per slice')
  t.eq(L.MaxPooling3D{{3, 1, 1}}(x):reshape(2, 1, 6 * 4 * 5),
       L.MaxPooling1D{3}(x:reshape(2, 3, 6 * 4 * 5)), '(3, 1, 1) = MaxPooling1D along the depth')
end)

t.test('shapes as Keras', function()
  local function shape(layer, ...) return tostring(layer(nn.zeros(...)).shape) end
  t.eq(shape(L.MaxPooling3D(), 2, 8, 8, 8, 3), '(2, 4, 4, 4, 3)', 'default 2x2x2')
  t.eq(shape(L.MaxPooling3D{{2, 3, 1}, strides = {1, 2, 1}}, 2, 5, 7, 4, 3), '(2, 4, 3, 4, 3)',
       'floor((n - k) / s) + 1 per axis')
  t.eq(shape(L.AveragePooling3D{3, strides = 2, padding = 'same'}, 1, 5, 6, 7, 2), '(1, 3, 3, 4, 2)',
       "'same': ceil(n / s)")
  t.eq(shape(L.AvgPool3D{2, data_format = 'channels_first'}, 2, 3, 4, 6, 9), '(2, 3, 2, 3, 4)',
       'channels first')
  t.eq(shape(L.GlobalMaxPooling3D(), 2, 3, 4, 5, 6), '(2, 6)', 'global')
  t.eq(shape(L.GlobalAvgPool3D{keepdims = true}, 2, 3, 4, 5, 6), '(2, 1, 1, 1, 6)', 'keepdims')
  t.eq(shape(L.GlobalMaxPool3D{'channels_first', true}, 2, 3, 4, 5, 6), '(2, 3, 1, 1, 1)',
       'keepdims, channels first (positional)')
  t.eq(L.MaxPooling3D().name:match('^max_pooling3d'), 'max_pooling3d', 'name')
  t.eq(L.AveragePooling3D().name:match('^average_pooling3d'), 'average_pooling3d', 'name')
  t.eq(L.GlobalAveragePooling3D().name:match('^global_average_pooling3d'), 'global_average_pooling3d',
       'name')
  t.eq(L.MaxPooling3D().strides, nil, 'strides None')
  local model = nn.Sequential{nn.Input{shape = {16, 32, 32, 3}}, L.MaxPooling3D{{1, 2, 2}},
                              L.AveragePooling3D{2, padding = 'same'}, L.GlobalMaxPooling3D()}
  t.eq(tostring(model.layers[2].output_shape), '(None, 8, 8, 8, 3)', 'stacked')
  t.eq(model:count_params(), 0, 'no weights')
  local text = t.capture(function() model:summary{explain = true} end)
  t.truthy(text:find('depth: floor((16 - 1) / 1) + 1 = 16', 1, true), 'explanation')
  t.truthy(text:find('the maximum of each channel over 8 x 8 x 8 cells', 1, true), 'global explanation')
end)

t.test('global pooling takes the mean or the maximum of each channel', function()
  -- (2, 2, 2, 2, 2) holding 0 .. 31: sample 0, channel 0 is 0, 2, ..., 14.
  local x = nn.arange(32):reshape(2, 2, 2, 2, 2):astype('float32')
  t.eq(L.GlobalAveragePooling3D()(x), nn.tensor{{7, 8}, {23, 24}}, 'means')
  t.eq(L.GlobalMaxPooling3D()(x), nn.tensor{{14, 15}, {30, 31}}, 'maxima')
  -- channels_first: channel 0 of sample 0 is 0 .. 7.
  t.eq(L.GlobalAvgPool3D{data_format = 'channels_first'}(x), nn.tensor{{3.5, 11.5}, {19.5, 27.5}},
       'means, channels first')
  t.eq(L.GlobalMaxPool3D{'channels_first'}(x), nn.tensor{{7, 15}, {23, 31}}, 'maxima, channels first')
end)

-- Dense on the last axis (which learns), the pooling, then Dense{2}: the same weights after
-- training on cpu and emulated, and the first Dense moved (the gradient passed through).
local function trained_weights(pool_layer, data_format, device)
  nn.random.seed(23)
  local shape = data_format == 'channels_first' and {3, 5, 6, 4} or {5, 6, 4, 3}
  local model = nn.Sequential{L.Dense{3, activation = 'tanh', input_shape = shape}, pool_layer,
                              L.Flatten(), L.Dense{2}}
  model:to(device)
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  local x, y = nn.random.randn(6, table.unpack(shape)), nn.random.randn(6, 2)
  local before = model:get_weights()[1]
  model:fit(x, y, {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
  local after = model:get_weights()
  t.truthy((after[1] - before):abs():max() > 1e-4, device .. ': the first Dense learned')
  return after
end

t.test('3-D pooling trains the same on cpu and emulated, in both layouts', function()
  local makers = {
    function(f) return L.MaxPooling3D{{2, 3, 2}, strides = {2, 1, 2}, padding = 'same', data_format = f} end,
    function(f) return L.AveragePooling3D{{3, 2, 3}, strides = {1, 2, 1}, data_format = f} end,
    function(f) return L.AvgPool3D{2, padding = 'same', data_format = f} end,
    function(f) return L.GlobalMaxPooling3D{data_format = f} end,
    function(f) return L.GlobalAveragePooling3D{data_format = f, keepdims = true} end,
  }
  for k, make in ipairs(makers) do
    for _, data_format in ipairs{'channels_last', 'channels_first'} do
      local cpu = trained_weights(make(data_format), data_format, 'cpu')
      local emulated = trained_weights(make(data_format), data_format, 'emulated')
      for i = 1, #cpu do
        t.eq(cpu[i], emulated[i], string.format('layer %d, %s: weight %d', k, data_format, i))
      end
    end
  end
end)

t.test('a model with 3-D pooling saves and loads', function()
  nn.random.seed(5)
  local model = nn.Sequential{L.Dense{2, input_shape = {4, 6, 6, 1}}, L.MaxPool3D{{2, 2, 3}, strides = 1},
                              L.AveragePooling3D{2, padding = 'same', data_format = 'channels_first'},
                              L.GlobalMaxPooling3D{keepdims = true}, L.Flatten(), L.Dense{1}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  local x = nn.random.randn(4, 4, 6, 6, 1)
  model:fit(x, nn.random.randn(4, 1), {epochs = 1, verbose = 0})
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/pooling3d.safetensors'
  model:save(path)
  local loaded = nn.models.load_model(path)
  os.remove(path)
  t.eq(loaded:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(loaded.layers[2].class_name, 'MaxPooling3D', 'class kept')
  local config = loaded.layers[2]:get_config()
  t.eq(table.concat(config.pool_size, ', '), '2, 2, 3', 'pool_size kept')
  t.eq(table.concat(config.strides, ', '), '1, 1, 1', 'strides kept')
  t.eq(loaded.layers[3]:get_config().data_format, 'channels_first', 'data_format kept')
  t.eq(loaded.layers[4]:get_config().keepdims, true, 'keepdims kept')
end)

t.test('bad arguments and inputs give clear errors', function()
  t.raises(function() L.MaxPooling3D()(nn.zeros(1, 4, 4, 1)) end, 'max_pooling3d', 'expected ndim=5',
           'found ndim=4', 'Full shape received: (1, 4, 4, 1)', 'x:reshape(1, 1, 4, 4, 1)')
  t.raises(function() L.GlobalAveragePooling3D()(nn.zeros(2, 3)) end, 'global_average_pooling3d',
           'expected ndim=5', 'Full shape received: (2, 3)')
  t.raises(function() L.AveragePooling3D{3}(nn.zeros(1, 2, 4, 4, 1)) end, 'average_pooling3d', '<= 0',
           'pool_size=(3, 3, 3)', '(None, 2, 4, 4, 1)', 'depth: floor((2 - 3) / 3) + 1 = 0',
           "padding='same'")
  t.raises(function() L.MaxPooling3D{{2, 2}} end, 'MaxPooling3D', 'pool_size')
  t.raises(function() L.MaxPooling3D{{2, 2, 2, 2}} end, 'MaxPooling3D', 'pool_size')
  t.raises(function() L.MaxPooling3D{'2'} end, 'MaxPooling3D', 'pool_size')
  t.raises(function() L.MaxPooling3D{2.5} end, 'MaxPooling3D', 'pool_size')
  t.raises(function() L.AveragePooling3D{0} end, 'AveragePooling3D', 'pool_size')
  t.raises(function() L.MaxPooling3D{2, strides = {1, 0, 1}} end, 'MaxPooling3D', 'strides')
  t.raises(function() L.MaxPooling3D{2, padding = 'causal'} end, 'padding must be one of')
  t.raises(function() L.GlobalMaxPooling3D{keepdims = 1} end, 'keepdims must be true or false')
  local model = nn.Sequential{L.Dense{4, input_shape = {3}}}
  t.raises(function() model:add(L.MaxPooling3D()) end, 'max_pooling3d', 'expected ndim=5')
end)

t.finish()
