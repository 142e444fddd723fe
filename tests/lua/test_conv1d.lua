-- Conv1D, MaxPooling1D and AveragePooling1D: Keras' shapes for 'valid', 'same' and
-- 'causal', hand-computed values, the same training as the 2-D layers on one-row images,
-- cpu = emulated, model files and errors.
local t = require 'harness'
local L = nn.layers

-- Trains a 1-D model and the same model in 2-D (a Conv2D with a (1, k) kernel first, given
-- the 1-D model's weights, each reshaped to its 2-D shape) on `device`, the 2-D one on x as
-- one-row images, and expects the same weights after. Returns the 1-D model's weights.
local function expect_trains_as_image(sequence, image, x, y, device)
  local shapes = {}
  for i, w in ipairs(image:get_weights()) do shapes[i] = w.shape end
  local weights = sequence:get_weights()
  for i = 1, #weights do weights[i] = weights[i]:reshape(shapes[i]) end
  image:set_weights(weights)
  for _, model in ipairs{sequence, image} do
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05}, loss = 'mse'}
  end
  local shape = x.shape
  sequence:fit(x, y, {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
  image:fit(x:reshape(shape[1], 1, shape[2], shape[3]), y,
            {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
  local a, b = sequence:get_weights(), image:get_weights()
  for i = 1, #a do t.eq(a[i]:reshape(shapes[i]), b[i], device .. ': weight ' .. i) end
  return a
end

t.test('shapes and weights as Keras', function()
  local x = nn.random.randn(2, 100, 8)
  local causal = L.Conv1D{16, 5, padding = 'causal', activation = 'relu'}
  t.eq(tostring(causal(x).shape), '(2, 100, 16)', 'causal keeps the length')
  t.eq(tostring(causal.kernel.shape), '(5, 8, 16)', 'kernel (k, channels, filters)')
  t.eq(tostring(L.Conv1D{4, 3}(x).shape), '(2, 98, 4)', 'valid')
  t.eq(tostring(L.Conv1D{4, 3, strides = 2, padding = 'same'}(x).shape), '(2, 50, 4)', 'same, strides 2')
  t.eq(tostring(L.Conv1D{4, 3, dilation_rate = 4}(x).shape), '(2, 92, 4)', 'dilated')
  t.eq(tostring(L.Conv1D{4, 3, data_format = 'channels_first'}(nn.random.randn(2, 8, 100)).shape),
       '(2, 4, 98)', 'channels first')
  t.eq(L.Conv1D{1, 1}.name:match('^conv1d'), 'conv1d', 'name')
  local model = nn.Sequential{nn.Input{shape = {100, 8}}, L.Conv1D{16, 5}}
  t.eq(model:count_params(), 5 * 8 * 16 + 16, 'parameters')
  t.truthy(causal.explanation:find('causal: 4 steps of padding before', 1, true), causal.explanation)
end)

t.test('causal: output t sees steps up to t', function()
  local c = L.Conv1D{2, 2, use_bias = false, padding = 'causal'}
  local x = nn.tensor{{{1}, {2}, {3}}}
  c(x)
  c:set_weights{nn.tensor{{{1, 10}}, {{100, 1000}}}}   -- tap 1 reads step t - 1, tap 2 step t
  t.eq(c(x), nn.tensor{{{100, 1000}, {201, 2010}, {302, 3020}}}, 'values')
end)

t.test('trains as a Conv2D on one-row images, the same on cpu and emulated', function()
  local x, y = nn.random.randn(6, 12, 3), nn.random.randn(6, 1)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(17)
    local sequence = nn.Sequential{L.Conv1D{4, 3, strides = 2, padding = 'same', activation = 'tanh',
                                            input_shape = {12, 3}}, L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.Conv2D{4, {1, 3}, strides = {1, 2}, padding = 'same', activation = 'tanh',
                                         input_shape = {1, 12, 3}}, L.Flatten(), L.Dense{1}}
    results[device] = expect_trains_as_image(sequence, image, x, y, device)
  end
  for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], 'cpu = emulated, weight ' .. i) end
end)

t.test('1-D pooling: values, shapes, and the same training as 2-D pooling on one row', function()
  local x = nn.arange(8):reshape(1, 8, 1):astype('float32')
  t.eq(L.MaxPooling1D{2}(x):reshape(4), nn.tensor{1, 3, 5, 7}, 'max')
  t.eq(L.AveragePooling1D{2}(x):reshape(4), nn.tensor{0.5, 2.5, 4.5, 6.5}, 'mean')
  t.eq(L.AvgPool1D{3, strides = 1, padding = 'same'}(x):reshape(8),
       nn.tensor{0.5, 1, 2, 3, 4, 5, 6, 6.5}, "'same' counts only steps inside")
  t.eq(tostring(L.MaxPool1D{3, strides = 2}(nn.zeros(2, 11, 4)).shape), '(2, 5, 4)', 'strides')
  t.eq(tostring(L.MaxPooling1D{2, data_format = 'channels_first'}(nn.zeros(2, 4, 10)).shape),
       '(2, 4, 5)', 'channels first')
  t.eq(L.MaxPooling1D().name:match('^max_pooling1d'), 'max_pooling1d', 'name')
  t.eq(L.MaxPooling1D().strides, nil, 'strides None')
  local data, y = nn.random.randn(6, 12, 2), nn.random.randn(6, 1)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(18)
    local sequence = nn.Sequential{L.Conv1D{3, 3, activation = 'relu', input_shape = {12, 2}},
                                   L.MaxPooling1D{2}, L.AveragePooling1D{2, strides = 1},
                                   L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.Conv2D{3, {1, 3}, activation = 'relu', input_shape = {1, 12, 2}},
                                L.MaxPooling2D{{1, 2}}, L.AveragePooling2D{{1, 2}, strides = 1},
                                L.Flatten(), L.Dense{1}}
    results[device] = expect_trains_as_image(sequence, image, data, y, device)
  end
  for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], 'cpu = emulated, weight ' .. i) end
  t.raises(function() L.MaxPooling1D{20}(nn.zeros(1, 5, 2)) end, 'output length is <= 0', 'pool_size=20')
  t.raises(function() L.MaxPooling1D{2}(nn.zeros(1, 5, 5, 2)) end, 'expected ndim=3')
  t.raises(function() L.AveragePooling1D{{2, 2}} end, 'pool_size must be an integer')
  t.raises(function() L.MaxPooling1D{2, strides = 0} end, 'strides')
end)

t.test('1-D global pooling: the mean or maximum of each channel, trained as 2-D', function()
  local x = nn.arange(12):reshape(2, 3, 2):astype('float32')   -- sample 1: steps {0,1} {2,3} {4,5}
  t.eq(L.GlobalAveragePooling1D()(x), nn.tensor{{2, 3}, {8, 9}}, 'means')
  t.eq(L.GlobalMaxPooling1D()(x), nn.tensor{{4, 5}, {10, 11}}, 'maxima')
  t.eq(L.GlobalMaxPool1D{data_format = 'channels_first'}(x), nn.tensor{{1, 3, 5}, {7, 9, 11}}, 'channels first')
  t.eq(tostring(L.GlobalAvgPool1D{keepdims = true}(x).shape), '(2, 1, 2)', 'keepdims')
  local data, y = nn.random.randn(6, 10, 2), nn.random.randn(6, 1)
  for _, device in ipairs{'cpu', 'emulated'} do
    for _, pair in ipairs{{L.GlobalAveragePooling1D, L.GlobalAveragePooling2D},
                          {L.GlobalMaxPooling1D, L.GlobalMaxPooling2D}} do
      nn.random.seed(19)
      local sequence = nn.Sequential{L.Conv1D{3, 3, input_shape = {10, 2}}, pair[1](), L.Dense{1}}
      local image = nn.Sequential{L.Conv2D{3, {1, 3}, input_shape = {1, 10, 2}}, pair[2](), L.Dense{1}}
      expect_trains_as_image(sequence, image, data, y, device)
    end
  end
  t.raises(function() L.GlobalMaxPooling1D()(nn.zeros(2, 3)) end, 'expected ndim=3', 'Full shape received: (2, 3)')
end)

t.test('ZeroPadding1D, Cropping1D, UpSampling1D: values, and training as their 2-D layers', function()
  local x = nn.arange(6):reshape(1, 3, 2):astype('float32')   -- steps {0,1} {2,3} {4,5}
  t.eq(L.ZeroPadding1D{{1, 2}}(x):reshape(6, 2), nn.tensor{{0, 0}, {0, 1}, {2, 3}, {4, 5}, {0, 0}, {0, 0}}, 'padded')
  t.eq(tostring(L.ZeroPadding1D()(x).shape), '(1, 5, 2)', 'padding 1 by default')
  t.eq(tostring(L.ZeroPadding1D{1, data_format = 'channels_first'}(x).shape), '(1, 3, 4)', 'channels first')
  t.eq(L.Cropping1D()(x), nn.tensor{{{2, 3}}}, 'cropping 1 at each end by default')
  t.eq(L.UpSampling1D{2}(x):reshape(6, 2), nn.tensor{{0, 1}, {0, 1}, {2, 3}, {2, 3}, {4, 5}, {4, 5}}, 'upsampled')
  t.eq(L.ZeroPadding1D{{1, 2}}.padding[2], 2, 'padding reads back as {start, end}')
  t.eq(L.UpSampling1D().name:match('^up_sampling1d'), 'up_sampling1d', 'name')
  local data, y = nn.random.randn(6, 8, 2), nn.random.randn(6, 1)
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(20)
    local sequence = nn.Sequential{L.Conv1D{3, 3, input_shape = {8, 2}}, L.ZeroPadding1D{{2, 1}},
                                   L.UpSampling1D{3}, L.Cropping1D{{4, 2}}, L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.Conv2D{3, {1, 3}, input_shape = {1, 8, 2}}, L.ZeroPadding2D{{{0, 0}, {2, 1}}},
                                L.UpSampling2D{{1, 3}}, L.Cropping2D{{{0, 0}, {4, 2}}}, L.Flatten(), L.Dense{1}}
    expect_trains_as_image(sequence, image, data, y, device)
  end
  t.raises(function() L.Cropping1D{2}(x) end, 'cropping (2, 2) removes every step', '(None, 3, 2)')
  t.raises(function() L.ZeroPadding1D{-1} end, 'padding must be an integer >= 0')
  t.raises(function() L.UpSampling1D{0} end, 'size must be a positive integer')
  t.raises(function() L.UpSampling1D{2}(nn.zeros(1, 2, 2, 2)) end, 'expected ndim=3')
end)

t.test('DepthwiseConv1D: each channel on its own, trained as DepthwiseConv2D on one row', function()
  local x = nn.random.randn(2, 100, 8)
  local d = L.DepthwiseConv1D{5, depth_multiplier = 2, padding = 'same'}
  t.eq(tostring(d(x).shape), '(2, 100, 16)', 'same, channels * depth_multiplier')
  t.eq(tostring(d.depthwise_kernel.shape), '(5, 8, 2)', 'kernel (k, channels, depth_multiplier)')
  t.eq(tostring(L.DepthwiseConv1D{3, strides = 2}(x).shape), '(2, 49, 8)', 'valid, strides 2')
  t.eq(tostring(L.DepthwiseConv1D{3, data_format = 'channels_first'}(nn.zeros(2, 8, 100)).shape),
       '(2, 8, 98)', 'channels first')
  t.eq(L.DepthwiseConv1D{3}.name:match('^depthwise_conv1d'), 'depthwise_conv1d', 'name')
  t.eq(nn.Sequential{nn.Input{shape = {100, 8}}, L.DepthwiseConv1D{5, depth_multiplier = 2}}
         :count_params(), 5 * 8 * 2 + 16, 'parameters')
  t.truthy(d.explanation:find('8 * depth_multiplier 2 = 16', 1, true), d.explanation)
  -- by hand: channel 1 sees taps 1 and 100, channel 2 taps 0.5 and 0
  local hand = L.DepthwiseConv1D{2, use_bias = false}
  local steps = nn.tensor{{{1, 10}, {2, 20}, {3, 30}}}
  hand(steps)
  hand:set_weights{nn.tensor{{{1}, {0.5}}, {{100}, {0}}}}
  t.eq(hand(steps), nn.tensor{{{201, 5}, {302, 10}}}, 'values')
  local data, y = nn.random.randn(6, 12, 3), nn.random.randn(6, 1)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(23)
    local sequence = nn.Sequential{L.DepthwiseConv1D{3, depth_multiplier = 2, padding = 'same',
                                                     dilation_rate = 2, activation = 'tanh',
                                                     input_shape = {12, 3}},
                                   L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.DepthwiseConv2D{{1, 3}, depth_multiplier = 2, padding = 'same',
                                                  dilation_rate = {1, 2}, activation = 'tanh',
                                                  input_shape = {1, 12, 3}},
                                L.Flatten(), L.Dense{1}}
    results[device] = expect_trains_as_image(sequence, image, data, y, device)
  end
  for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], 'cpu = emulated, weight ' .. i) end
  t.raises(function() L.DepthwiseConv1D{3, padding = 'causal'} end,
           'padding must be one of valid, same', "got 'causal'")
  t.raises(function() L.DepthwiseConv1D{3, strides = 2, dilation_rate = 2} end,
           'strides=2 and dilation_rate=2')
  t.raises(function() L.DepthwiseConv1D{{3, 3}} end, 'kernel_size must be an integer')
  t.raises(function() L.DepthwiseConv1D{3}(nn.zeros(2, 5, 5, 3)) end, 'expected ndim=3')
  t.raises(function() L.DepthwiseConv1D{30}(nn.zeros(2, 5, 3)) end, 'output length is <= 0')
end)

t.test('Conv1DTranspose: the reverse of Conv1D, trained as Conv2DTranspose on one row', function()
  local up = L.Conv1DTranspose{8, 3, strides = 2, padding = 'same'}
  t.eq(tostring(up(nn.random.randn(2, 25, 16)).shape), '(2, 50, 8)', 'same: steps * strides')
  t.eq(tostring(up.kernel.shape), '(3, 8, 16)', 'kernel (k, filters, channels)')
  t.eq(tostring(L.Conv1DTranspose{4, 3}(nn.zeros(2, 10, 3)).shape), '(2, 12, 4)',
       'valid: steps + kernel - 1')
  t.eq(tostring(L.Conv1DTranspose{4, 3, strides = 2, output_padding = 1}(nn.zeros(2, 10, 3)).shape),
       '(2, 22, 4)', '(10 - 1) * 2 + 3 + 1')
  t.eq(tostring(L.Conv1DTranspose{4, 3, data_format = 'channels_first'}(nn.zeros(2, 3, 10)).shape),
       '(2, 4, 12)', 'channels first')
  t.eq(L.Conv1DTranspose{4, 3, output_padding = 0}.output_padding, 0, 'output_padding reads back')
  t.eq(L.Conv1DTranspose{4, 3}.output_padding, nil, 'None by default')
  t.eq(L.Convolution1DTranspose{4, 3}.name:match('^conv1d_transpose'), 'conv1d_transpose', 'alias')
  -- by hand: each step scatters the kernel {1, 10}, scaled, strides apart; overlaps add
  local x = nn.tensor{{{1}, {2}}}
  for _, case in ipairs{{2, {1, 10, 2, 20}}, {1, {1, 12, 20}}} do
    local layer = L.Conv1DTranspose{1, 2, strides = case[1], use_bias = false}
    layer(x)
    layer:set_weights{nn.tensor{{{1}}, {{10}}}}
    t.eq(layer(x):reshape(#case[2]), nn.tensor(case[2]), 'strides ' .. case[1])
  end
  local data, y = nn.random.randn(6, 7, 3), nn.random.randn(6, 1)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(29)
    local sequence = nn.Sequential{L.Conv1DTranspose{4, 3, strides = 2, output_padding = 1,
                                                     activation = 'tanh', input_shape = {7, 3}},
                                   L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.Conv2DTranspose{4, {1, 3}, strides = {1, 2}, output_padding = {0, 1},
                                                  activation = 'tanh', input_shape = {1, 7, 3}},
                                L.Flatten(), L.Dense{1}}
    results[device] = expect_trains_as_image(sequence, image, data, y, device)
  end
  for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], 'cpu = emulated, weight ' .. i) end
  t.raises(function() L.Conv1DTranspose{4, 3, strides = 2, output_padding = 2} end,
           'Conv1DTranspose', 'output_padding must be smaller than the strides',
           'output_padding=2, strides=2')
  t.raises(function() L.Conv1DTranspose{4, 3, strides = 2, dilation_rate = 2} end,
           'strides=2 and dilation_rate=2')
  t.raises(function() L.Conv1DTranspose{4, {3, 3}} end, 'kernel_size must be an integer')
  t.raises(function() L.Conv1DTranspose{4, 3}(nn.zeros(2, 5, 5, 3)) end, 'expected ndim=3')
  t.raises(function() L.Conv1DTranspose{4, 3, padding = 'causal'} end, 'padding must be one of')
  -- as TensorFlow: an even kernel with 'same' and a given output_padding can miss the input
  t.raises(function() L.Conv1DTranspose{2, 4, padding = 'same', output_padding = 0}(nn.zeros(1, 5, 2)) end,
           'an output of (4, 2) (steps: (5 - 1) * 1 + 4 - 2 * 2 + 0 = 4) does not map back',
           'kernel_size=4, strides=1', 'leave output_padding None (the default)')
  t.raises(function() L.Conv1DTranspose{4, 3, strides = 2 ^ 30 | 0}(nn.zeros(1, 3, 2)) end,
           'gives an output of (3221225472, 4) (steps: 3 * 1073741824')
end)

t.test('SeparableConv1D: depthwise then pointwise, trained as SeparableConv2D on one row', function()
  local s = L.SeparableConv1D{32, 5, padding = 'same', depth_multiplier = 2}
  t.eq(tostring(s(nn.random.randn(2, 100, 16)).shape), '(2, 100, 32)', 'same')
  t.eq(tostring(s.depthwise_kernel.shape), '(5, 16, 2)', 'depthwise (k, channels, multiplier)')
  t.eq(tostring(s.pointwise_kernel.shape), '(1, 32, 32)', 'pointwise (1, channels * multiplier, filters)')
  t.eq(tostring(L.SeparableConv1D{4, 3, strides = 2}(nn.zeros(2, 11, 3)).shape), '(2, 5, 4)',
       'valid, strides 2')
  t.eq(tostring(L.SeparableConv1D{4, 3, data_format = 'channels_first'}(nn.zeros(2, 3, 11)).shape),
       '(2, 4, 9)', 'channels first')
  t.eq(L.SeparableConvolution1D{4, 3}.name:match('^separable_conv1d'), 'separable_conv1d', 'alias')
  t.eq(nn.Sequential{nn.Input{shape = {100, 16}}, L.SeparableConv1D{32, 5}}:count_params(),
       5 * 16 + 16 * 32 + 32, 'parameters')
  -- by hand: channel 1 through taps {1, 2}, channel 2 through {0, 1}, then 1 * a + 10 * b
  local hand = L.SeparableConv1D{1, 2, use_bias = false}
  local steps = nn.tensor{{{1, 10}, {2, 20}, {3, 30}}}
  hand(steps)
  hand:set_weights{nn.tensor{{{1}, {0}}, {{2}, {1}}}, nn.tensor{{{1}, {10}}}}
  t.eq(hand(steps), nn.tensor{{{5 + 200}, {8 + 300}}}, 'values')
  local data, y = nn.random.randn(6, 12, 3), nn.random.randn(6, 1)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(31)
    local sequence = nn.Sequential{L.SeparableConv1D{4, 3, depth_multiplier = 2, strides = 2,
                                                     padding = 'same', activation = 'tanh',
                                                     input_shape = {12, 3}},
                                   L.Flatten(), L.Dense{1}}
    local image = nn.Sequential{L.SeparableConv2D{4, {1, 3}, depth_multiplier = 2, strides = {1, 2},
                                                  padding = 'same', activation = 'tanh',
                                                  input_shape = {1, 12, 3}},
                                L.Flatten(), L.Dense{1}}
    results[device] = expect_trains_as_image(sequence, image, data, y, device)
  end
  for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], 'cpu = emulated, weight ' .. i) end
  t.raises(function() L.SeparableConv1D{4, 3, strides = 2, dilation_rate = 2} end,
           'SeparableConv1D', 'strides=2 and dilation_rate=2')
  t.raises(function() L.SeparableConv1D{4, 30}(nn.zeros(2, 5, 3)) end, 'output length is <= 0',
           'kernel_size=30')
  t.raises(function() L.SeparableConv1D{4, {3, 3}} end, 'kernel_size must be an integer')
  t.raises(function() L.SeparableConv1D{4, 3}(nn.zeros(2, 5, 5, 3)) end, 'expected ndim=3')
  t.raises(function() L.SeparableConv1D{4, 3, padding = 'causal'} end, 'padding must be one of')
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-conv1d'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Conv1D{4, 3, padding = 'causal', dilation_rate = 2, input_shape = {10, 2}},
                              L.MaxPooling1D{3, strides = 2},
                              L.DepthwiseConv1D{2, depth_multiplier = 3, padding = 'same'},
                              L.Conv1DTranspose{2, 3, strides = 2, output_padding = 1},
                              L.SeparableConv1D{3, 2, depth_multiplier = 2},
                              L.Flatten(), L.Dense{2}}
  model:save(directory .. '/conv1d.nnsh')
  local copy = nn.models.load_model(directory .. '/conv1d.nnsh')
  local x = nn.random.randn(3, 10, 2)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].padding, 'causal', 'padding kept')
  t.eq(copy.layers[1].kernel_size, 3, 'kernel_size kept')
  t.eq(copy.layers[2].strides, 2, 'pooling strides kept')
  t.eq(copy.layers[3].depth_multiplier, 3, 'depth_multiplier kept')
  t.eq(copy.layers[4].output_padding, 1, 'output_padding kept')
  t.eq(copy.layers[5].depth_multiplier, 2, 'separable depth_multiplier kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.Conv1D{4} end, 'missing required argument', 'kernel_size')
  t.raises(function() L.Conv1D{4, {3, 3}} end, 'kernel_size must be an integer')
  t.raises(function() L.Conv1D{4, 3, padding = 'full'} end, 'padding must be one of valid, same, causal')
  t.raises(function() L.Conv1D{4, 3}(nn.zeros(2, 3, 4, 5)) end, 'expected ndim=3', 'Full shape received: (2, 3, 4, 5)')
  t.raises(function() L.Conv1D{4, 30}(nn.zeros(2, 3, 4)) end, 'output length is <= 0', 'kernel_size=30')
  t.raises(function() L.Conv1D{6, 3, groups = 4} end, 'Conv1D', 'filters must be evenly divisible')
  t.raises(function() L.Conv1D{4, 3, groups = 4}(nn.zeros(2, 5, 6)) end,
           'input channels must be evenly divisible', 'groups=4', '6 channels')
  t.raises(function() L.Conv1D{4, 3, strides = 2, dilation_rate = 2} end,
           'strides=2 and dilation_rate=2')
  t.raises(function() L.Conv1D{1, 3, padding = 'causal', dilation_rate = 2 ^ 29 | 0}(nn.zeros(1, 5, 2)) end,
           "padding='causal', kernel_size=3 and dilation_rate=536870912", '(1073741829, 2) elements')
  t.raises(function() L.Conv1D{2 ^ 20 | 0, 2 ^ 12 | 0}(nn.zeros(1, 5000, 2)) end, 'the kernel (4096, 2, 1048576)')
end)

t.finish()
