-- DepthwiseConv2D and SpatialDropout2D: Keras' shapes, weights and values, training on cpu
-- and emulated, model files, errors.
local t = require 'harness'
local L = nn.layers

t.test('DepthwiseConv2D: shapes, weights and Keras defaults', function()
  local d = L.DepthwiseConv2D{3, depth_multiplier = 2, padding = 'same'}
  t.eq(tostring(d(nn.random.randn(2, 28, 28, 8)).shape), '(2, 28, 28, 16)', 'output')
  t.eq(tostring(d.depthwise_kernel.shape), '(3, 3, 8, 2)', 'depthwise_kernel (kh, kw, channels, multiplier)')
  t.eq(tostring(d.bias.shape), '(16,)', 'one bias per output channel')
  t.eq(tostring(L.DepthwiseConv2D{{3, 5}, strides = 2}(nn.random.randn(1, 9, 9, 4)).shape), '(1, 4, 3, 4)', 'valid, strides')
  t.eq(tostring(L.DepthwiseConv2D{3, data_format = 'channels_first'}(nn.random.randn(1, 4, 6, 6)).shape),
       '(1, 4, 4, 4)', 'channels first')
  t.eq(d.name:match('^depthwise_conv2d'), 'depthwise_conv2d', 'name')
  -- Glorot's limit comes from the depthwise kernel's own shape: fans 3*3*8 and 3*3*2.
  local limit = math.sqrt(6 / (72 + 18))
  local largest = d.depthwise_kernel:abs():max()
  t.truthy(largest <= limit and largest > 0.9 * limit, 'glorot_uniform bound ' .. largest .. ' of ' .. limit)
  t.truthy(d.explanation:find('channels: 8 * depth_multiplier 2 = 16', 1, true), d.explanation)
  local model = nn.Sequential{nn.Input{shape = {28, 28, 8}}, L.DepthwiseConv2D{3, depth_multiplier = 2}}
  t.eq(model:count_params(), 3 * 3 * 8 * 2 + 16, 'parameters')
end)

t.test('each channel is convolved on its own, output channel c * multiplier + m', function()
  -- A 1x1 depthwise kernel scales channel c by k[c][m] into output c * 2 + m.
  local d = L.DepthwiseConv2D{1, depth_multiplier = 2}
  local x = nn.tensor{{{{1, 10, 100}}}}              -- one cell, channels 1, 10, 100
  d(x)
  d:set_weights{nn.tensor{{{{1, 2}, {3, 4}, {5, 6}}}}, nn.tensor{0, 0, 0, 0, 0, 0.5}}
  t.eq(d(x):reshape(6), nn.tensor{1, 2, 30, 40, 500, 600.5}, 'values')
  -- The same as Conv2D with one group per channel and the kernel read as (kh, kw, 1, C*m).
  local x3 = nn.random.randn(2, 5, 5, 3)
  local depthwise = L.DepthwiseConv2D{3, depth_multiplier = 2, padding = 'same'}
  local grouped = L.Conv2D{6, 3, groups = 3, padding = 'same'}
  depthwise(x3)
  grouped(x3)
  local kernel, bias = depthwise.depthwise_kernel, depthwise.bias
  grouped:set_weights{kernel:reshape(3, 3, 1, 6), bias}
  t.eq(depthwise(x3), grouped(x3), 'equals the grouped convolution')
end)

t.test('DepthwiseConv2D trains the same on cpu and emulated, and saves', function()
  local x, y = nn.random.randn(8, 6, 6, 2), nn.tensor({0, 1, 1, 0, 1, 0, 0, 1}, 'int32')
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(12)
    local model = nn.Sequential{L.DepthwiseConv2D{3, depth_multiplier = 3, activation = 'relu', input_shape = {6, 6, 2}},
                                L.SpatialDropout2D{0.25}, L.Flatten(), L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 3, batch_size = 4, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-depthwise'
      nn.io.make_directory(directory)
      model:save(directory .. '/depthwise.nnsh')
      local copy = nn.models.load_model(directory .. '/depthwise.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'saved and loaded')
      t.eq(copy.layers[1].depth_multiplier, 3, 'depth_multiplier kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.cpu[i], weights.emulated[i], 'weight ' .. i) end
end)

t.test('SeparableConv2D is a depthwise step then a pointwise 1x1 convolution', function()
  local s = L.SeparableConv2D{64, 3, padding = 'same', activation = 'relu'}
  t.eq(tostring(s(nn.random.randn(2, 28, 28, 32)).shape), '(2, 28, 28, 64)', 'output')
  t.eq(tostring(s.depthwise_kernel.shape), '(3, 3, 32, 1)', 'depthwise_kernel')
  t.eq(tostring(s.pointwise_kernel.shape), '(1, 1, 32, 64)', 'pointwise_kernel')
  t.eq(s.name:match('^separable_conv2d'), 'separable_conv2d', 'name')
  local model = nn.Sequential{nn.Input{shape = {28, 28, 32}}, L.SeparableConv2D{64, 3}}
  t.eq(model:count_params(), 3 * 3 * 32 + 32 * 64 + 64, 'parameters (Conv2D would have 18,496)')
  -- The same as DepthwiseConv2D (no bias) then Conv2D{filters, 1}, in both layouts and
  -- while training on cpu and emulated.
  for _, data_format in ipairs{'channels_last', 'channels_first'} do
    local shape = data_format == 'channels_last' and {7, 6, 3} or {3, 7, 6}
    local x, y = nn.random.randn(6, table.unpack(shape)), nn.random.randn(6, 1)
    local results = {}
    for _, device in ipairs{'cpu', 'emulated'} do
      nn.random.seed(16)
      local separable = nn.Sequential{
        L.SeparableConv2D{4, 3, strides = 2, padding = 'same', depth_multiplier = 2, activation = 'tanh',
                          data_format = data_format, input_shape = shape},
        L.Flatten(), L.Dense{1}}
      local two_steps = nn.Sequential{
        L.DepthwiseConv2D{3, strides = 2, padding = 'same', depth_multiplier = 2, use_bias = false,
                          data_format = data_format, input_shape = shape},
        L.Conv2D{4, 1, activation = 'tanh', data_format = data_format}, L.Flatten(), L.Dense{1}}
      two_steps:set_weights(separable:get_weights())
      for _, model in ipairs{separable, two_steps} do
        model:to(device)
        model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05}, loss = 'mse'}
        model:fit(x, y, {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
      end
      local a, b = separable:get_weights(), two_steps:get_weights()
      for i = 1, #a do
        t.truthy((a[i] - b[i]):abs():max() < 1e-5, data_format .. ', ' .. device .. ': weight ' .. i)
      end
      results[device] = a
    end
    for i = 1, #results.cpu do t.eq(results.cpu[i], results.emulated[i], data_format .. ': cpu = emulated, weight ' .. i) end
  end
  t.raises(function() L.SeparableConv2D{4, 3, strides = 2, dilation_rate = 2} end, 'SeparableConv2D', 'dilation_rate > 1')
  t.raises(function() L.SeparableConv2D{4} end, 'missing required argument', 'kernel_size')
  t.raises(function() L.SeparableConv2D{1, 4, dilation_rate = 2 ^ 30 | 0, padding = 'same'}(nn.ones(1, 4, 4, 1)) end,
           'makes a (padded) sample or a kernel of more than 2147483647 values')
end)

t.test('SpatialDropout2D drops whole channels', function()
  local d = L.SpatialDropout2D{0.5}
  local y = d(nn.ones(4, 3, 3, 16), {training = true})
  local kept, dropped = 0, 0
  for b = 1, 4 do
    for c = 1, 16 do
      local first = y[b][1][1][c]
      for h = 1, 3 do for w = 1, 3 do t.eq(y[b][h][w][c], first, 'one value per channel') end end
      if first == 0 then dropped = dropped + 1 else kept = kept + 1; t.eq(first, 2, 'scaled by 2') end
    end
  end
  t.truthy(kept > 10 and dropped > 10, 'about half dropped: ' .. dropped .. ' of 64')
  t.eq(d(nn.ones(4, 3, 3, 16)), nn.ones(4, 3, 3, 16), 'inference passes through')
  local first = L.SpatialDropout2D{0.5, data_format = 'channels_first'}(nn.ones(1, 8, 2, 2), {training = true})
  for c = 1, 8 do t.eq(first[1][c][2][2], first[1][c][1][1], 'channels first: one value per map') end
  t.eq(d.name:match('^spatial_dropout2d'), 'spatial_dropout2d', 'name')
end)

t.test('bad arguments raise errors that say what is wrong', function()
  t.raises(function() L.DepthwiseConv2D{} end, 'missing required argument', 'kernel_size')
  t.raises(function() L.DepthwiseConv2D{3, depth_multiplier = 0} end, 'depth_multiplier must be a positive integer')
  t.raises(function() L.DepthwiseConv2D{3, strides = 2, dilation_rate = 2} end, 'DepthwiseConv2D', 'dilation_rate > 1')
  t.raises(function() L.DepthwiseConv2D{3, filters = 4} end, 'filters')
  t.raises(function() L.DepthwiseConv2D{3}(nn.zeros(2, 5)) end, 'expected ndim=4')
  t.raises(function() L.SpatialDropout2D{1} end, 'rate must be in [0, 1)')
  t.raises(function() L.SpatialDropout2D{0.5}(nn.zeros(2, 5)) end, 'expected ndim=4', 'Full shape received: (2, 5)')
  t.raises(function() L.SpatialDropout2D{0.5, noise_shape = {1, 1, 1, 1}} end, 'noise_shape')
end)

t.finish()
