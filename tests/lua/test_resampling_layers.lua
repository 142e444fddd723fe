-- ZeroPadding2D, Cropping2D and UpSampling2D: Keras' shapes, argument forms and values;
-- training through them checked against models that compute the same function without
-- them; the same results on cpu and emulated; errors that say what is wrong.
-- (The kernels are checked against references in tests/engine/test_resample.c.)
local t = require 'harness'
local L = nn.layers

t.test('shapes and argument forms as Keras', function()
  local x = nn.ones(2, 5, 6, 3)
  t.eq(tostring(L.ZeroPadding2D()(x).shape), '(2, 7, 8, 3)', 'padding 1 by default')
  t.eq(tostring(L.ZeroPadding2D{2}(x).shape), '(2, 9, 10, 3)', 'an int pads every side')
  t.eq(tostring(L.ZeroPadding2D{{1, 2}}(x).shape), '(2, 7, 10, 3)', '{height, width}')
  t.eq(tostring(L.ZeroPadding2D{{{1, 0}, {3, 1}}}(x).shape), '(2, 6, 10, 3)', '{{top, bottom}, {left, right}}')
  t.eq(tostring(L.ZeroPadding2D{padding = 1, data_format = 'channels_first'}(x).shape),
       '(2, 5, 8, 5)', 'channels first')
  t.eq(tostring(L.Cropping2D()(x).shape), '(2, 5, 6, 3)', 'no cropping by default')
  t.eq(tostring(L.Cropping2D{{{2, 1}, {0, 4}}}(x).shape), '(2, 2, 2, 3)', 'cropping')
  t.eq(tostring(L.Cropping2D{{1, 0}, data_format = 'channels_first'}(x).shape), '(2, 5, 4, 3)',
       'cropping, channels first')
  t.eq(tostring(L.UpSampling2D()(x).shape), '(2, 10, 12, 3)', 'size 2 by default')
  t.eq(tostring(L.UpSampling2D{{3, 1}}(x).shape), '(2, 15, 6, 3)', 'size pair')
  t.eq(tostring(L.UpSampling2D{size = 2, data_format = 'channels_first'}(x).shape), '(2, 5, 12, 6)',
       'upsampling, channels first')
  local layer = L.ZeroPadding2D{{1, 2}}
  t.eq(layer.padding[1][1] .. layer.padding[1][2] .. layer.padding[2][1] .. layer.padding[2][2],
       '1122', 'padding reads back as {{top, bottom}, {left, right}}')
  t.eq(L.ZeroPadding2D().name:match('^zero_padding2d'), 'zero_padding2d', 'name')
  t.eq(L.UpSampling2D().name:match('^up_sampling2d'), 'up_sampling2d', 'name')
  t.eq(L.Cropping2D().name:match('^cropping2d'), 'cropping2d', 'name')
end)

t.test('values: zeros around, a window cut out, cells repeated', function()
  local x = nn.tensor{{{{1}, {2}}, {{3}, {4}}}}           -- (1, 2, 2, 1)
  t.eq(L.ZeroPadding2D{{{1, 0}, {0, 1}}}(x):reshape(3, 3),
       nn.tensor{{0, 0, 0}, {1, 2, 0}, {3, 4, 0}}, 'padded')
  t.eq(L.Cropping2D{{{1, 0}, {0, 1}}}(x):reshape(1, 1), nn.tensor{{3}}, 'cropped')
  t.eq(L.UpSampling2D{{2, 3}}(x):reshape(4, 6),
       nn.tensor{{1, 1, 1, 2, 2, 2}, {1, 1, 1, 2, 2, 2}, {3, 3, 3, 4, 4, 4}, {3, 3, 3, 4, 4, 4}},
       'upsampled')
  -- channels first: (1, 2, 1, 2) holds two channels of one row each
  local c = nn.tensor{{{{1, 2}}, {{3, 4}}}}
  t.eq(L.ZeroPadding2D{{{0, 0}, {1, 0}}, data_format = 'channels_first'}(c):reshape(2, 3),
       nn.tensor{{0, 1, 2}, {0, 3, 4}}, 'padded, channels first')
  t.eq(L.UpSampling2D{{1, 2}, data_format = 'channels_first'}(c):reshape(2, 4),
       nn.tensor{{1, 1, 2, 2}, {3, 3, 4, 4}}, 'upsampled, channels first')
  local model = nn.Sequential{L.ZeroPadding2D{1, input_shape = {28, 28, 1}}, L.Conv2D{4, 3}}
  local text = t.capture(function() model:summary{explain = true} end)
  t.truthy(text:find('height: 28 + 1 + 1 = 30', 1, true), 'explained')
end)

t.test("bilinear upsampling is TensorFlow's resize, and its gradient is right", function()
  local square = nn.tensor{{{{1}, {2}}, {{3}, {4}}}}
  t.eq(L.UpSampling2D{interpolation = 'bilinear'}(square):reshape(4, 4),
       nn.tensor{{1, 1.25, 1.75, 2}, {1.5, 1.75, 2.25, 2.5}, {2.5, 2.75, 3.25, 3.5}, {3, 3.25, 3.75, 4}},
       'the 2x2 example')
  -- Channels first: two channels, the second ten times the first, each resized on its own.
  local two = nn.tensor{{{{1, 2}, {3, 4}}, {{10, 20}, {30, 40}}}}   -- (1, 2, 2, 2)
  local resized = L.UpSampling2D{2, interpolation = 'bilinear', data_format = 'channels_first'}(two)
  t.eq(resized[1][1], L.UpSampling2D{interpolation = 'bilinear'}(square):reshape(4, 4), 'channels first, channel 1')
  t.eq(resized[1][2], L.UpSampling2D{interpolation = 'bilinear'}(square):reshape(4, 4) * 10, 'channels first, channel 2')
  -- One SGD step on the 1x1 convolution's weight w moves it by -lr times the loss's
  -- derivative, which a central difference of the loss measures.
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(5)
    local model = nn.Sequential{L.Conv2D{1, 1, use_bias = false, input_shape = {3, 4, 1}},
                                L.UpSampling2D{{2, 3}, interpolation = 'bilinear'}, L.Flatten(), L.Dense{1}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    local x, y = nn.random.randn(4, 3, 4, 1), nn.random.randn(4, 1)
    local weights = model:get_weights()
    local w = weights[1]:item()
    local function loss_at(value)
      weights[1] = nn.tensor{{{{value}}}}
      model:set_weights(weights)
      return model:test_on_batch(x, y)
    end
    local h = 1e-2
    local derivative = (loss_at(w + h) - loss_at(w - h)) / (2 * h)
    loss_at(w)
    model:train_on_batch(x, y)
    t.near(model:get_weights()[1]:item(), w - 0.1 * derivative, 1e-4, device .. ': SGD step')
  end
end)

local function train(layers, device, initial, x, y)
  local model = nn.Sequential(layers)
  model:to(device)
  if initial then model:set_weights(initial) end
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05}, loss = 'mse'}
  model:fit(x, y, {epochs = 2, batch_size = 4, shuffle = false, verbose = 0})
  return model
end

local function max_difference(a, b)
  local worst = 0
  for i = 1, #a do worst = math.max(worst, (a[i] - b[i]):abs():max()) end
  return worst
end

t.test('training through them learns what equivalent models learn', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    for _, data_format in ipairs{'channels_last', 'channels_first'} do
      local what = device .. ', ' .. data_format
      local shape = data_format == 'channels_last' and {6, 5, 2} or {2, 6, 5}
      local x = nn.random.randn(8, table.unpack(shape))
      local y = nn.random.randn(8, 1)
      nn.random.seed(21)
      -- ZeroPadding2D{1} then a valid 3x3 convolution is a 'same' convolution.
      local same = train({L.Conv2D{3, 3, padding = 'same', activation = 'tanh', data_format = data_format,
                                   input_shape = shape},
                          L.Flatten{data_format = data_format}, L.Dense{1}}, device, nil, x, y)
      nn.random.seed(21)
      local reference = nn.Sequential{L.Conv2D{3, 3, padding = 'same', activation = 'tanh',
                                               data_format = data_format, input_shape = shape},
                                      L.Flatten{data_format = data_format}, L.Dense{1}}
      local initial_same = reference:get_weights()
      local padded = train({L.ZeroPadding2D{1, data_format = data_format, input_shape = shape},
                            L.Conv2D{3, 3, activation = 'tanh', data_format = data_format},
                            L.Flatten{data_format = data_format}, L.Dense{1}},
                           device, initial_same, x, y)
      t.truthy(max_difference(padded:get_weights(), same:get_weights()) < 1e-5,
               what .. ': padding + valid = same')

      -- Padding then cropping the same sides is the identity: exactly the plain model.
      nn.random.seed(22)
      local plain = nn.Sequential{L.Conv2D{2, 1, input_shape = shape, data_format = data_format},
                                  L.Flatten(), L.Dense{1}}
      local start = plain:get_weights()
      plain = train({L.Conv2D{2, 1, input_shape = shape, data_format = data_format}, L.Flatten(), L.Dense{1}},
                    device, start, x, y)
      local sides = {{1, 2}, {0, 3}}
      local framed = train({L.Conv2D{2, 1, input_shape = shape, data_format = data_format},
                            L.ZeroPadding2D{sides, data_format = data_format},
                            L.Cropping2D{sides, data_format = data_format}, L.Flatten(), L.Dense{1}},
                           device, start, x, y)
      local a, b = framed:get_weights(), plain:get_weights()
      for i = 1, #a do t.eq(a[i], b[i], what .. ': pad then crop, weight ' .. i) end

      -- Nearest upsampling keeps each channel's mean, so the gradient reaching the
      -- convolution is the one it gets without it.
      nn.random.seed(23)
      local pooled = nn.Sequential{L.Conv2D{2, 1, input_shape = shape, data_format = data_format},
                                   L.GlobalAveragePooling2D{data_format = data_format}, L.Dense{1}}
      start = pooled:get_weights()
      pooled = train({L.Conv2D{2, 1, input_shape = shape, data_format = data_format},
                      L.GlobalAveragePooling2D{data_format = data_format}, L.Dense{1}}, device, start, x, y)
      local upsampled = train({L.Conv2D{2, 1, input_shape = shape, data_format = data_format},
                               L.UpSampling2D{{2, 3}, data_format = data_format},
                               L.GlobalAveragePooling2D{data_format = data_format}, L.Dense{1}},
                              device, start, x, y)
      t.truthy(max_difference(upsampled:get_weights(), pooled:get_weights()) < 1e-5,
               what .. ': upsampling keeps the mean and its gradient')
      t.truthy(max_difference(upsampled:get_weights(), start) > 1e-3, what .. ': it trained')
    end
  end
end)

t.test('a model with all three saves and loads', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-resampling'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.ZeroPadding2D{{{1, 2}, {0, 1}}, input_shape = {4, 4, 1}},
                              L.Conv2D{2, 3}, L.UpSampling2D{{2, 1}}, L.Cropping2D{{1, 0}},
                              L.Flatten(), L.Dense{2}}
  t.eq(tostring(model.layers[4].output_shape), '(None, 8, 3, 2)', 'shapes')
  model:save(directory .. '/resampling.nnsh')
  local copy = nn.models.load_model(directory .. '/resampling.nnsh')
  local x = nn.random.randn(3, 4, 4, 1)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].padding[1][2], 2, 'padding kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  local x = nn.ones(1, 4, 4, 2)
  t.raises(function() L.Cropping2D{2}(x) end, 'cropping ((2, 2), (2, 2))', 'removes every row',
           '(None, 4, 4, 2)')
  t.raises(function() L.Cropping2D{{{0, 0}, {3, 1}}}(x) end, 'removes every column')
  t.raises(function() L.ZeroPadding2D{-1} end, 'padding must be an integer >= 0, got -1')
  t.raises(function() L.ZeroPadding2D{{1, 2, 3}} end, 'padding must be an integer, {height, width}')
  t.raises(function() L.ZeroPadding2D{{{1}, {2, 3}}} end, 'padding entry 1', '{top, bottom}')
  t.raises(function() L.ZeroPadding2D{{1, 'a'}} end, 'padding entry 2', 'got string')
  t.raises(function() L.ZeroPadding2D{{{1, 2}, {3, 1.5}}} end, 'padding must be')
  t.raises(function() L.UpSampling2D{0} end, 'size must be a positive integer, got 0')
  t.raises(function() L.ZeroPadding2D{2 ^ 30 | 0}(x) end, 'makes images of 2147483652 x 2147483652',
           'at most 1073741824')
  t.raises(function() L.UpSampling2D{interpolation = 'cubic'} end, 'interpolation must be one of nearest, bilinear', 'cubic')
  t.raises(function() L.ZeroPadding2D()(nn.zeros(2, 3)) end, 'expected ndim=4', 'Full shape received: (2, 3)')
  t.raises(function() nn.Sequential{L.Dense{4, input_shape = {3}}, L.UpSampling2D()} end,
           'up_sampling2d', 'dense', '(None, 4)')
  t.raises(function() L.ZeroPadding2D{1, data_format = 'nchw'} end, 'data_format')
end)

t.finish()
