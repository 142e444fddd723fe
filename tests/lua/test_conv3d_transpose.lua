-- Conv3DTranspose: Keras' shapes for 'valid' and 'same', strides, output_padding,
-- dilation and channels_first; values by hand; a kernel one deep as Conv2DTranspose on
-- every frame; the same training as Conv2DTranspose on volumes one row high, on cpu and
-- emulated; model files; and bad arguments. (Values and gradients are checked against a
-- reference in tests/engine/test_conv3d_transpose.c.)
local t = require 'harness'
local L = nn.layers

t.test('shapes and weights as Keras', function()
  local x = nn.random.randn(2, 4, 8, 8, 16)
  local up = L.Conv3DTranspose{8, 3, strides = 2, padding = 'same', activation = 'relu'}
  t.eq(tostring(up(x).shape), '(2, 8, 16, 16, 8)', "strides 2, 'same'")
  t.eq(tostring(up.kernel.shape), '(3, 3, 3, 8, 16)', 'kernel (kd, kh, kw, filters, channels)')
  t.eq(tostring(up.bias.shape), '(8,)', 'bias (filters)')
  t.eq(up(x):min(), 0, 'relu')
  t.eq(tostring(L.Conv3DTranspose{4, {2, 3, 1}}(x).shape), '(2, 5, 10, 8, 4)', "'valid'")
  t.eq(tostring(L.Conv3DTranspose{4, 3, strides = {2, 1, 3}}(x).shape), '(2, 9, 10, 24, 4)',
       "'valid', strides per axis")
  t.eq(tostring(L.Conv3DTranspose{4, 3, strides = 2, output_padding = {1, 0, 1}}(x).shape),
       '(2, 10, 17, 18, 4)', 'output_padding')
  t.eq(tostring(L.Conv3DTranspose{4, 3, strides = 2, padding = 'same', output_padding = 0}(x).shape),
       '(2, 7, 15, 15, 4)', "output_padding 0 with 'same': (n - 1) * 2 + 3 - 2")
  t.eq(tostring(L.Conv3DTranspose{4, 3, dilation_rate = {2, 1, 3}}(x).shape), '(2, 8, 10, 14, 4)',
       'dilated')
  t.eq(tostring(L.Conv3DTranspose{4, 2, strides = 2, data_format = 'channels_first'}(
       nn.zeros(1, 3, 5, 6, 7)).shape), '(1, 4, 10, 12, 14)', 'channels first')
  t.eq(L.Conv3DTranspose{1, 1}.name:match('^conv3d_transpose'), 'conv3d_transpose', 'name')
  t.eq(L.Convolution3DTranspose{1, 1}.name:match('^conv3d_transpose'), 'conv3d_transpose', 'alias')
  -- Keras 3's order: data_format before output_padding
  local positional = L.Conv3DTranspose{4, 3, 2, 'same', 'channels_first', 1}
  t.eq(positional.data_format, 'channels_first', 'fifth positional argument')
  t.eq(positional.output_padding[3], 1, 'sixth positional argument')
  t.eq(L.Conv3DTranspose{1, 1}.output_padding, nil, 'output_padding None by default')
  local explained = L.Conv3DTranspose{4, 3, strides = 2}
  explained(x)
  t.eq(explained.explanation, 'depth: 4 * 2 + max(3 - 2, 0) = 9; height: 8 * 2 + max(3 - 2, 0) = 17; ' ..
       'width: 8 * 2 + max(3 - 2, 0) = 17; channels: filters = 4', 'explanation')
  local model = nn.Sequential{nn.Input{shape = {4, 8, 8, 16}},
                              L.Conv3DTranspose{8, 3, strides = 2, padding = 'same', name = 'up'},
                              L.Conv3DTranspose{2, {1, 2, 2}, use_bias = false, name = 'plain'}}
  t.eq(model:count_params(), (3 * 3 * 3 * 8 * 16 + 8) + 1 * 2 * 2 * 2 * 8, 'parameters')
  local summary = t.capture(function() model:summary() end)
  t.truthy(summary:find('up (Conv3DTranspose)        (None, 8, 16, 16, 8)      3464', 1, true), summary)
  t.truthy(summary:find('plain (Conv3DTranspose)     (None, 8, 17, 17, 2)      64', 1, true), summary)
  t.eq(nn.describe_layer(L.Conv3DTranspose{8, 3, strides = {2, 1, 1}, padding = 'same', activation = 'relu'}),
       'Conv3DTranspose(8, 3×3×3, stride 2×1×1, relu, same)', 'described')
end)

t.test('values by hand', function()
  -- one channel, depth 3 (1, 2, 3), height and width 1: taps along the depth only
  local x = nn.tensor{1, 2, 3}:reshape(1, 3, 1, 1, 1)
  -- strides and output_padding along the depth only: the height and width stay 1
  local function run(kernel, options)
    options[1], options[2], options.use_bias = 1, {#kernel, 1, 1}, false
    options.strides = {options.strides or 1, 1, 1}
    if options.output_padding then options.output_padding = {options.output_padding, 0, 0} end
    local layer = L.Conv3DTranspose(options)
    layer(x)
    layer:set_weights{nn.tensor(kernel):reshape(#kernel, 1, 1, 1, 1)}
    local y = layer(x)
    return y:reshape(y.size)
  end
  -- every input plane d adds x[d] * kernel[i] to plane d * stride + i * dilation
  t.eq(run({1, 10}, {}), nn.tensor{1, 12, 23, 30}, 'valid: 1 | 2 + 10 | 3 + 20 | 30')
  t.eq(run({1, 10}, {strides = 2}), nn.tensor{1, 10, 2, 20, 3, 30}, 'strides 2')
  t.eq(run({1, 10}, {strides = 3}), nn.tensor{1, 10, 0, 2, 20, 0, 3, 30, 0},
       'strides 3: a zero plane after each pair')
  t.eq(run({1, 10}, {strides = 2, output_padding = 1}), nn.tensor{1, 10, 2, 20, 3, 30, 0},
       'output_padding: one more plane behind')
  t.eq(run({1, 10}, {dilation_rate = 2}), nn.tensor{1, 2, 13, 20, 30}, 'dilated: taps two planes apart')
  -- 'same' crops the full scatter 1 | 12 | 123 | 230 | 300 to its middle
  t.eq(run({1, 10, 100}, {padding = 'same'}), nn.tensor{12, 123, 230}, "'same': one plane cropped each side")
  -- 'same', strides 2: full 1 | 10 | 102 | 20 | 203 | 30 | 300, the extra plane cropped
  -- behind (TensorFlow's padding: the smaller half in front)
  t.eq(run({1, 10, 100}, {padding = 'same', strides = 2}), nn.tensor{1, 10, 102, 20, 203, 30},
       "'same', strides 2")
  -- the kernel's last two axes are (filters, channels)
  local spread = L.Conv3DTranspose{2, 1, use_bias = false}
  local one = nn.tensor{3}:reshape(1, 1, 1, 1, 1)
  spread(one)
  spread:set_weights{nn.tensor{2, 10}:reshape(1, 1, 1, 2, 1)}
  t.eq(spread(one):reshape(2), nn.tensor{6, 30}, 'one channel to two filters')
  local mix = L.Conv3DTranspose{1, 1, use_bias = false}
  local pair = nn.tensor{3, 5}:reshape(1, 1, 1, 1, 2)
  mix(pair)
  mix:set_weights{nn.tensor{2, 10}:reshape(1, 1, 1, 1, 2)}
  t.eq(mix(pair):item(), 56, 'two channels summed into one filter')
  -- a cell of 4 under a 2 x 2 x 2 kernel of ones, plus the bias
  local cube = L.Conv3DTranspose{1, 2, kernel_initializer = 'ones',
                                 bias_initializer = nn.initializers.Constant{0.5}}
  t.eq(cube(nn.full({1, 1, 1, 1, 1}, 4)), nn.full({1, 2, 2, 2, 1}, 4.5), 'a cube of 4 + bias')
end)

-- The frames of x (B, D, H, W, C), or (B, C, D, H, W) channels first, as a batch of images
-- for Conv2DTranspose; and the images' outputs back as frames.
-- (B, C, D, H, W) <-> (B, D, C, H, W)
local function to_frames_first(x) return L.Permute{{2, 1, 3, 4}}(x) end
local function frames_as_images(x, first)
  local s = x.shape
  if first then return to_frames_first(x):reshape(s[1] * s[3], s[2], s[4], s[5]) end
  return x:reshape(s[1] * s[2], s[3], s[4], s[5])
end
local function images_as_frames(images, batch, first)
  local s = images.shape
  local frames = images:reshape(batch, s[1] // batch, s[2], s[3], s[4])
  return first and to_frames_first(frames) or frames
end

t.test('a kernel one deep is Conv2DTranspose on every frame', function()
  nn.random.seed(5)
  local cases = {
    {name = 'valid', options = {3, {1, 3, 2}}, image = {3, {3, 2}}},
    {name = "strides, 'same'", options = {3, {1, 3, 3}, strides = {1, 2, 2}, padding = 'same'},
     image = {3, 3, strides = 2, padding = 'same'}},
    {name = 'output_padding', options = {2, {1, 2, 3}, strides = {1, 3, 2}, output_padding = {0, 2, 1}},
     image = {2, {2, 3}, strides = {3, 2}, output_padding = {2, 1}}},
    {name = 'dilated', options = {2, {1, 2, 2}, dilation_rate = {1, 2, 3}, padding = 'same'},
     image = {2, 2, dilation_rate = {2, 3}, padding = 'same'}},
    {name = 'channels first', options = {3, {1, 2, 3}, strides = {1, 2, 1}, padding = 'same',
                                         data_format = 'channels_first'},
     image = {3, {2, 3}, strides = {2, 1}, padding = 'same', data_format = 'channels_first'}, first = true},
  }
  for _, case in ipairs(cases) do
    local x = case.first and nn.random.randn(2, 3, 4, 5, 3) or nn.random.randn(2, 4, 5, 3, 3)
    case.options.activation, case.image.activation = 'tanh', 'tanh'
    local volume, image = L.Conv3DTranspose(case.options), L.Conv2DTranspose(case.image)
    local y = volume(x)
    local images = frames_as_images(x, case.first)
    image:build(images.shape)
    local kernel, bias = table.unpack(volume:get_weights())
    local ks = kernel.shape
    image:set_weights{kernel:reshape(ks[2], ks[3], ks[4], ks[5]), bias}
    local expected = images_as_frames(image(images), 2, case.first)
    t.eq(tostring(y.shape), tostring(expected.shape), case.name .. ': shape')
    t.near(y, expected, 1e-5, case.name)
  end
end)

-- Trains a Conv3DTranspose model on volumes (n, D, 1, W, C) and the same model with a
-- Conv2DTranspose on the images (n, D, W, C) (the Conv3DTranspose's weights given to it,
-- its kernel (kd, 1, kw, F, C) reshaped to (kd, kw, F, C)) on `device`, and expects the
-- same weights after, to float rounding (the two sum the taps in other orders). Returns the
-- Conv3DTranspose model's weights.
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

t.test('trains as Conv2DTranspose on volumes one row high, the same on cpu and emulated', function()
  local cases = {
    {name = "depth strides, 'same'", options = {4, {3, 1, 2}, strides = {2, 1, 1}, padding = 'same'},
     image = {4, {3, 2}, strides = {2, 1}, padding = 'same'}, channels = 3},
    {name = 'kernel shorter than the depth stride, output_padding',
     options = {3, {2, 1, 3}, strides = {3, 1, 2}, output_padding = {1, 0, 1}},
     image = {3, {2, 3}, strides = {3, 2}, output_padding = {1, 1}}, channels = 2},
    {name = 'dilated depth', options = {4, {2, 1, 3}, dilation_rate = {2, 1, 1}},
     image = {4, {2, 3}, dilation_rate = {2, 1}}, channels = 4},
    {name = 'channels first', options = {3, {3, 1, 2}, strides = {2, 1, 2}, padding = 'same',
                                          data_format = 'channels_first'},
     image = {3, {3, 2}, strides = {2, 2}, padding = 'same', data_format = 'channels_first'}, channels = 2,
     first = true},
  }
  for _, case in ipairs(cases) do
    local c = case.channels
    local x = case.first and nn.random.randn(6, c, 4, 1, 3) or nn.random.randn(6, 4, 1, 3, c)
    local y = nn.random.randn(6, 1)
    local results = {}
    for _, device in ipairs{'cpu', 'emulated'} do
      nn.random.seed(31)
      local options, image = {}, {}
      for k, v in pairs(case.options) do options[k] = v end
      for k, v in pairs(case.image) do image[k] = v end
      options.activation, image.activation = 'tanh', 'tanh'
      options.input_shape = case.first and {c, 4, 1, 3} or {4, 1, 3, c}
      image.input_shape = case.first and {c, 4, 3} or {4, 3, c}
      local volume = nn.Sequential{L.Conv3DTranspose(options), L.Flatten(), L.Dense{1}}
      local flat = nn.Sequential{L.Conv2DTranspose(image), L.Flatten(), L.Dense{1}}
      results[device] = expect_trains_as_image(volume, flat, x, y, device, case.first)
    end
    for i = 1, #results.cpu do
      t.eq(results.cpu[i], results.emulated[i], case.name .. ': cpu = emulated, weight ' .. i)
    end
  end
end)

t.test('a 3-D autoencoder learns, the same on cpu and emulated', function()
  -- volumes holding one bright 2 x 2 x 2 cube each, at different places
  local volumes = nn.zeros(8, 4, 4, 4, 1)
  for i = 1, 8 do
    local d, h, w = (i - 1) % 2, (i - 1) // 2 % 2, (i - 1) // 4
    for a = 1, 2 do for b = 1, 2 do for c = 1, 2 do
      volumes[i][d * 2 + a][h * 2 + b][w * 2 + c][1] = 1
    end end end
  end
  local losses, weights = {}, {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(7)
    local model = nn.Sequential{
      L.Conv3D{4, 3, strides = 2, padding = 'same', activation = 'relu', input_shape = {4, 4, 4, 1}},
      L.Conv3DTranspose{4, 3, strides = 2, padding = 'same', activation = 'relu'},
      L.Conv3D{1, 3, padding = 'same', activation = 'sigmoid'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.02}, loss = 'mse'}
    losses[device] = model:fit(volumes, volumes, {epochs = 40, batch_size = 4, shuffle = false,
                                                  verbose = 0}).history.loss
    weights[device] = model:get_weights()
  end
  local loss = losses.cpu
  t.truthy(loss[#loss] < 0.5 * loss[1], string.format('loss fell: %.4f -> %.4f', loss[1], loss[#loss]))
  for i = 1, #weights.cpu do
    local difference = (weights.cpu[i] - weights.emulated[i]):abs():max()
    t.truthy(difference < 1e-5, 'weight ' .. i .. ' differs by ' .. difference .. ' on emulated')
  end
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-conv3d-transpose'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Conv3DTranspose{3, {2, 3, 3}, strides = {2, 1, 2}, output_padding = {1, 0, 1},
                                                data_format = 'channels_first', input_shape = {2, 3, 4, 2}},
                              L.Flatten(), L.Dense{2}}
  model:save(directory .. '/transpose3d.nnsh')
  local copy = nn.models.load_model(directory .. '/transpose3d.nnsh')
  local x = nn.random.randn(3, 2, 3, 4, 2)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].output_padding[1], 1, 'output_padding kept')
  t.eq(copy.layers[1].data_format, 'channels_first', 'data_format kept')
end)

t.test('bad arguments and inputs are refused with clear errors', function()
  t.raises(function() L.Conv3DTranspose{} end, 'missing required argument', 'filters')
  t.raises(function() L.Conv3DTranspose{0, 3} end, 'filters must be a positive integer, got 0')
  t.raises(function() L.Conv3DTranspose{4, {3, 3}} end, 'kernel_size must be an integer or a list of 3 integers')
  t.raises(function() L.Conv3DTranspose{4, 3, strides = {2, 2, 1}, output_padding = {1, 1, 1}} end,
           'output_padding must be smaller than the strides along each axis',
           'output_padding=(1, 1, 1), strides=(2, 2, 1)')
  t.raises(function() L.Conv3DTranspose{4, 3, output_padding = {1, 2}} end, 'output_padding')
  t.raises(function() L.Conv3DTranspose{4, 3, strides = 2, dilation_rate = {1, 2, 1}} end,
           'strides > 1 not supported in conjunction with dilation_rate > 1',
           'strides=(2, 2, 2) and dilation_rate=(1, 2, 1)')
  t.raises(function() L.Conv3DTranspose{4, 3, padding = 'full'} end, 'padding must be one of valid, same')
  t.raises(function() L.Conv3DTranspose{4, 3}(nn.zeros(2, 8, 8, 3)) end,
           'expected ndim=5 (batch, depth, height, width, channels), found ndim=4', 'Full shape received: (2, 8, 8, 3)')
  t.raises(function() L.Conv3DTranspose{4, 3, data_format = 'channels_first'}(nn.zeros(1, 3, 8, 8)) end,
           'expected ndim=5 (batch, channels, depth, height, width)')
  t.raises(function()
    L.Conv3DTranspose{2, {4, 1, 1}, strides = {3, 1, 1}, padding = 'same', output_padding = 0}(
      nn.zeros(1, 2, 3, 3, 1))
  end, 'does not map back onto the input', 'leave output_padding None')
end)

t.finish()
