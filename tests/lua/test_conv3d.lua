-- Conv3D: Keras' shapes for 'valid' and 'same', strides, dilation, groups and
-- channels_first; hand-computed values; the same training as Conv2D on volumes one row
-- high, on cpu and emulated; summary counts; and bad arguments.
local t = require 'harness'
local L = nn.layers

t.test('shapes and weights as Keras', function()
  local x = nn.random.randn(2, 8, 16, 16, 3)
  local c = L.Conv3D{8, 3, padding = 'same', activation = 'relu'}
  t.eq(tostring(c(x).shape), '(2, 8, 16, 16, 8)', 'same keeps the sizes')
  t.eq(tostring(c.kernel.shape), '(3, 3, 3, 3, 8)', 'kernel (kd, kh, kw, channels, filters)')
  t.eq(tostring(c.bias.shape), '(8,)', 'bias (filters)')
  t.eq(c(x):min(), 0, 'relu')
  t.eq(tostring(L.Conv3D{4, {2, 3, 1}}(x).shape), '(2, 7, 14, 16, 4)', 'valid')
  t.eq(tostring(L.Conv3D{4, 3, strides = {2, 1, 3}, padding = 'same'}(x).shape), '(2, 4, 16, 6, 4)',
       'same, strides per axis')
  t.eq(tostring(L.Conv3D{4, 3, strides = 2}(x).shape), '(2, 3, 7, 7, 4)', 'valid, strides 2')
  t.eq(tostring(L.Conv3D{4, 3, dilation_rate = {2, 1, 4}}(x).shape), '(2, 4, 14, 8, 4)', 'dilated')
  t.eq(tostring(L.Conv3D{4, 3, data_format = 'channels_first'}(nn.zeros(2, 3, 8, 10, 12)).shape),
       '(2, 4, 6, 8, 10)', 'channels first')
  local grouped = L.Conv3D{6, 3, groups = 3}
  grouped(nn.zeros(1, 4, 4, 4, 6))
  t.eq(tostring(grouped.kernel.shape), '(3, 3, 3, 2, 6)', 'grouped kernel (..., channels / groups, filters)')
  t.eq(L.Conv3D{1, 1}.name:match('^conv3d'), 'conv3d', 'name')
  t.eq(L.Convolution3D{1, 1}.name:match('^conv3d'), 'conv3d', 'alias')
  t.eq(L.Conv3D{1, {1, 2, 3}}.kernel_size[3], 3, 'kernel_size reads back')
  local explained = L.Conv3D{4, 3, strides = 2}
  explained(x)
  t.eq(explained.explanation, 'depth: floor((8 - 3) / 2) + 1 = 3; height: floor((16 - 3) / 2) + 1 = 7; ' ..
       'width: floor((16 - 3) / 2) + 1 = 7; channels: filters = 4', 'explanation')
end)

t.test('summary counts kd * kh * kw * channels / groups * filters + filters', function()
  local model = nn.Sequential{nn.Input{shape = {10, 32, 32, 3}},
                              L.Conv3D{16, 3, activation = 'relu', name = 'volume'},
                              L.Conv3D{32, {1, 3, 3}, strides = {1, 2, 2}, padding = 'same', groups = 4,
                                       use_bias = false, name = 'grouped'}}
  t.eq(model:count_params(), (3 * 3 * 3 * 3 * 16 + 16) + 3 * 3 * 4 * 32, 'parameters')
  local summary = t.capture(function() model:summary() end)
  t.truthy(summary:find('volume (Conv3D)             (None, 8, 30, 30, 16)     1312', 1, true), summary)
  t.truthy(summary:find('grouped (Conv3D)            (None, 8, 15, 15, 32)     1152', 1, true), summary)
end)

t.test('values by hand', function()
  -- one channel, depth 3 (1, 2, 3), height and width 1: taps along the depth only
  local x = nn.tensor{1, 2, 3}:reshape(1, 3, 1, 1, 1)
  local function run(kernel, options)
    options[1], options[2], options.use_bias = 1, {#kernel, 1, 1}, false
    local layer = L.Conv3D(options)
    layer(x)
    layer:set_weights{nn.tensor(kernel):reshape(#kernel, 1, 1, 1, 1)}
    local y = layer(x)
    return y:reshape(y.size)
  end
  t.eq(run({1, 10}, {}), nn.tensor{21, 32}, 'valid')
  t.eq(run({1, 10, 100}, {padding = 'same'}), nn.tensor{210, 321, 32}, 'same: one zero plane each side')
  t.eq(run({1, 10}, {padding = 'same'}), nn.tensor{21, 32, 3}, "same, even kernel: the zero plane behind")
  t.eq(run({1, 10, 100}, {padding = 'same', strides = 2}), nn.tensor{210, 32}, 'same, strides 2')
  t.eq(run({1, 10}, {dilation_rate = 2}), nn.tensor{31}, 'dilated: planes 1 and 3')
  -- a 2 x 2 x 2 window of ones over 0..7 sums them, plus the bias
  local cube = L.Conv3D{1, 2, kernel_initializer = 'ones', bias_initializer = nn.initializers.Constant{0.5}}
  t.eq(cube(nn.arange(8):reshape(1, 2, 2, 2, 1):astype('float32')):item(), 28.5, 'window sum + bias')
  -- groups: channel 1 feeds filter 1, channel 2 filter 2
  local grouped = L.Conv3D{2, 1, groups = 2, use_bias = false}
  local pair = nn.tensor{3, 5}:reshape(1, 1, 1, 1, 2)
  grouped(pair)
  grouped:set_weights{nn.tensor{2, 10}:reshape(1, 1, 1, 1, 2)}
  t.eq(grouped(pair):reshape(2), nn.tensor{6, 50}, 'groups')
end)

-- Trains a Conv3D model on volumes (n, D, 1, W, C) and the same model with a Conv2D on the
-- images (n, D, W, C) (the Conv3D's weights given to it, its kernel (kd, 1, kw, C/G, F)
-- reshaped to (kd, kw, C/G, F)) on `device`, and expects the same weights after, to float
-- rounding (the two sum the taps in other orders). Returns the Conv3D model's weights.
local function expect_trains_as_image(volume, image, x, y, device, first)
  local shapes = {}
  for i, w in ipairs(image:get_weights()) do shapes[i] = w.shape end
  local weights = volume:get_weights()
  for i = 1, #weights do weights[i] = weights[i]:reshape(shapes[i]) end
  image:set_weights(weights)
  for _, model in ipairs{volume, image} do
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05}, loss = 'mse'}
  end
  local s = x.shape
  volume:fit(x, y, {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
  local flat = first and x:reshape(s[1], s[2], s[3], s[5]) or x:reshape(s[1], s[2], s[4], s[5])
  image:fit(flat, y, {epochs = 2, batch_size = 3, shuffle = false, verbose = 0})
  local a, b = volume:get_weights(), image:get_weights()
  for i = 1, #a do t.near(a[i]:reshape(shapes[i]), b[i], 1e-5, device .. ': weight ' .. i) end
  return a
end

t.test('a depth stride past the input gives one plane, as Keras, without padding to the stride', function()
  nn.random.seed(31)
  local x = nn.random.randn(2, 5, 4, 4, 2)
  local strided = L.Conv3D{3, {2, 3, 3}, strides = {7, 1, 1}}
  local y = strided(x)
  t.eq(tostring(y.shape), '(2, 1, 2, 2, 3)', 'one output plane')
  local dense = L.Conv3D{3, {2, 3, 3}}
  dense:build(x.shape)
  dense:set_weights(strided:get_weights())
  -- the first plane of the unstrided convolution, the others cropped away
  t.near(y, L.Cropping3D{{{0, 3}, 0, 0}}(dense(x)), 1e-6, 'the first plane of stride 1')
  -- a stride of 1024 needs no padded copy 1024 planes deep (it was refused as too large)
  t.eq(tostring(L.Conv3D{1, 1, strides = {1024, 1, 1}}(nn.zeros(1, 3, 512, 512, 16)).shape),
       '(1, 1, 512, 512, 1)', 'a long depth stride on a large volume')
end)

t.test('trains as a Conv2D on volumes one row high, the same on cpu and emulated', function()
  local cases = {
    {name = 'depth strides, same', options = {4, {3, 1, 2}, strides = {2, 1, 1}, padding = 'same'},
     image = {4, {3, 2}, strides = {2, 1}, padding = 'same'}, channels = 3},
    {name = 'dilated depth, groups', options = {4, {2, 1, 3}, dilation_rate = {2, 1, 1}, groups = 2},
     image = {4, {2, 3}, dilation_rate = {2, 1}, groups = 2}, channels = 4},
    {name = 'channels first', options = {3, {2, 1, 2}, strides = {3, 1, 2}, padding = 'same',
                                          data_format = 'channels_first'},
     image = {3, {2, 2}, strides = {3, 2}, padding = 'same', data_format = 'channels_first'}, channels = 2,
     first = true},
  }
  for _, case in ipairs(cases) do
    local c = case.channels
    local x = case.first and nn.random.randn(6, c, 7, 1, 6) or nn.random.randn(6, 7, 1, 6, c)
    local y = nn.random.randn(6, 1)
    local results = {}
    for _, device in ipairs{'cpu', 'emulated'} do
      nn.random.seed(31)
      local options, image = {}, {}
      for k, v in pairs(case.options) do options[k] = v end
      for k, v in pairs(case.image) do image[k] = v end
      options.activation, image.activation = 'tanh', 'tanh'
      options.input_shape = case.first and {c, 7, 1, 6} or {7, 1, 6, c}
      image.input_shape = case.first and {c, 7, 6} or {7, 6, c}
      local volume = nn.Sequential{L.Conv3D(options), L.Flatten(), L.Dense{1}}
      local flat = nn.Sequential{L.Conv2D(image), L.Flatten(), L.Dense{1}}
      results[device] = expect_trains_as_image(volume, flat, x, y, device, case.first)
    end
    for i = 1, #results.cpu do
      t.eq(results.cpu[i], results.emulated[i], case.name .. ': cpu = emulated, weight ' .. i)
    end
  end
end)

t.test('bad arguments and inputs are refused with clear errors', function()
  t.raises(function() L.Conv3D{4, 3}(nn.zeros(2, 8, 8, 3)) end,
           'expected ndim=5 (batch, depth, height, width, channels), found ndim=4',
           'Full shape received: (2, 8, 8, 3). Its first axis is the batch: one sample needs a batch axis of 1, x:reshape(1, 2, 8, 8, 3)')
  t.raises(function() L.Conv3D{4, 3}(nn.zeros(1, 2, 8, 8, 1)) end,
           'One of the dimensions in the output is <= 0', 'kernel_size=(3, 3, 3)', 'depth: floor((2 - 3) / 1) + 1')
  t.raises(function() L.Conv3D{4, 3, groups = 2}(nn.zeros(1, 4, 4, 4, 3)) end,
           'number of input channels must be evenly divisible', 'groups=2', '3 channels')
  t.raises(function() L.Conv3D{6, 3, groups = 4} end, 'filters must be evenly divisible', 'groups=4, filters=6')
  t.raises(function() L.Conv3D{4, 3, strides = 2, dilation_rate = {1, 2, 1}} end,
           'strides > 1 not supported in conjunction with dilation_rate > 1',
           'strides=(2, 2, 2) and dilation_rate=(1, 2, 1)')
  t.raises(function() L.Conv3D{4, {3, 3}} end, 'kernel_size must be an integer or a list of 3 integers')
  t.raises(function() L.Conv3D{4, 0} end, 'kernel_size must be a positive integer, got 0')
  t.raises(function() L.Conv3D{4, 3, padding = 'causal'} end, 'padding must be one of valid, same')
  t.raises(function() L.Conv3D{4, 3, data_format = 'channels_first'}(nn.zeros(1, 3, 8, 8)) end,
           'expected ndim=5 (batch, channels, depth, height, width)')
end)

t.finish()
