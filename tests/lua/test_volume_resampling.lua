-- ZeroPadding3D, Cropping3D, UpSampling3D and SpatialDropout3D: Keras' shapes, argument
-- forms and values; training through them checked against models that compute the same
-- function with the 1-D and 2-D layers; the same results on cpu and emulated; whole
-- channels dropped; errors that say what is wrong. (Every cell is checked against a
-- reference in tests/engine/test_volume_resampling.c.)
local t = require 'harness'
local L = nn.layers

t.test('shapes and argument forms as Keras', function()
  local x = nn.ones(2, 4, 5, 6, 3)
  t.eq(tostring(L.ZeroPadding3D()(x).shape), '(2, 6, 7, 8, 3)', 'padding 1 by default')
  t.eq(tostring(L.ZeroPadding3D{2}(x).shape), '(2, 8, 9, 10, 3)', 'an int pads every side')
  t.eq(tostring(L.ZeroPadding3D{{1, 0, 2}}(x).shape), '(2, 6, 5, 10, 3)', '{depth, height, width}')
  t.eq(tostring(L.ZeroPadding3D{{{1, 0}, {0, 3}, {2, 1}}}(x).shape), '(2, 5, 8, 9, 3)',
       '{{front, back}, {top, bottom}, {left, right}}')
  t.eq(tostring(L.ZeroPadding3D{{{1, 0}, 2, {0, 1}}}(x).shape), '(2, 5, 9, 7, 3)', 'pairs and ints mixed')
  t.eq(tostring(L.ZeroPadding3D{1, data_format = 'channels_first'}(x).shape), '(2, 4, 7, 8, 5)',
       'channels first')
  t.eq(tostring(L.Cropping3D()(x).shape), '(2, 2, 3, 4, 3)', 'cropping 1 by default, as Keras 3')
  t.eq(tostring(L.Cropping3D{{{2, 1}, {0, 4}, 0}}(x).shape), '(2, 1, 1, 6, 3)', 'cropping')
  t.eq(tostring(L.Cropping3D{{0, 1, 1}, data_format = 'channels_first'}(x).shape), '(2, 4, 5, 4, 1)',
       'cropping, channels first')
  t.eq(tostring(L.Cropping3D{{2, 4, 2}}(nn.ones(2, 28, 28, 10, 3)).shape), '(2, 24, 20, 6, 3)',
       "Keras' example")
  t.eq(tostring(L.ZeroPadding3D{2}(nn.ones(1, 1, 2, 2, 3)).shape), '(1, 5, 6, 6, 3)', "Keras' example")
  t.eq(tostring(L.UpSampling3D()(x).shape), '(2, 8, 10, 12, 3)', 'size 2 by default')
  t.eq(tostring(L.UpSampling3D{{3, 1, 2}}(x).shape), '(2, 12, 5, 12, 3)', 'size triple')
  t.eq(tostring(L.UpSampling3D{size = 2, data_format = 'channels_first'}(x).shape), '(2, 4, 10, 12, 6)',
       'upsampling, channels first')
  local layer = L.ZeroPadding3D{{1, 2, 3}}
  t.eq(layer.padding[1][1] .. layer.padding[1][2] .. layer.padding[2][1] .. layer.padding[2][2] ..
       layer.padding[3][1] .. layer.padding[3][2], '112233',
       'padding reads back as {{front, back}, {top, bottom}, {left, right}}')
  t.eq(L.UpSampling3D{{1, 2, 3}}.size[3], 3, 'size reads back')
  t.eq(L.ZeroPadding3D().name:match('^zero_padding3d'), 'zero_padding3d', 'name')
  t.eq(L.Cropping3D().name:match('^cropping3d'), 'cropping3d', 'name')
  t.eq(L.UpSampling3D().name:match('^up_sampling3d'), 'up_sampling3d', 'name')
  t.eq(L.SpatialDropout3D{0.5}.name:match('^spatial_dropout3d'), 'spatial_dropout3d', 'name')
  t.eq(tostring(L.SpatialDropout3D{0.5}(x).shape), '(2, 4, 5, 6, 3)', 'dropout keeps the shape')
end)

t.test('values: zeros around, a window cut out, cells repeated', function()
  -- (1, 2, 1, 2, 1): two slices of one row of two cells
  local x = nn.tensor{{{{{1}, {2}}}, {{{3}, {4}}}}}
  t.eq(L.ZeroPadding3D{{{1, 0}, {0, 1}, {0, 1}}}(x):reshape(3, 2, 3),
       nn.tensor{{{0, 0, 0}, {0, 0, 0}}, {{1, 2, 0}, {0, 0, 0}}, {{3, 4, 0}, {0, 0, 0}}}, 'padded')
  t.eq(L.Cropping3D{{{1, 0}, {0, 0}, {0, 1}}}(x):reshape(1), nn.tensor{3}, 'cropped')
  t.eq(L.UpSampling3D{{2, 2, 3}}(x):reshape(4, 2, 6),
       nn.tensor{{{1, 1, 1, 2, 2, 2}, {1, 1, 1, 2, 2, 2}}, {{1, 1, 1, 2, 2, 2}, {1, 1, 1, 2, 2, 2}},
                 {{3, 3, 3, 4, 4, 4}, {3, 3, 3, 4, 4, 4}}, {{3, 3, 3, 4, 4, 4}, {3, 3, 3, 4, 4, 4}}},
       'upsampled')
  -- channels first: (1, 2, 1, 1, 2) holds two channels of one slice of one row each
  local c = nn.tensor{{{{{1, 2}}}, {{{3, 4}}}}}
  t.eq(L.ZeroPadding3D{{{0, 1}, {0, 0}, {1, 0}}, data_format = 'channels_first'}(c):reshape(2, 2, 3),
       nn.tensor{{{0, 1, 2}, {0, 0, 0}}, {{0, 3, 4}, {0, 0, 0}}}, 'padded, channels first')
  t.eq(L.UpSampling3D{{2, 1, 2}, data_format = 'channels_first'}(c):reshape(2, 2, 4),
       nn.tensor{{{1, 1, 2, 2}, {1, 1, 2, 2}}, {{3, 3, 4, 4}, {3, 3, 4, 4}}}, 'upsampled, channels first')
  local model = nn.Sequential{L.ZeroPadding3D{{1, 0, 2}, input_shape = {8, 8, 8, 1}}, L.Flatten()}
  local text = t.capture(function() model:summary{explain = true} end)
  for _, line in ipairs{'depth: 8 + 1 + 1 = 10', 'height: 8 + 0 + 0 = 8', 'width: 8 + 2 + 2 = 12',
                        'channels: 1 (unchanged)'} do
    t.truthy(text:find(line, 1, true), 'explained: ' .. line)
  end
end)

local function train(layers, device, initial, x, y)
  local model = nn.Sequential(layers)
  model:to(device)
  model:set_weights(initial)
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.05}, loss = 'mse'}
  model:fit(x, y, {epochs = 1, batch_size = 4, shuffle = false, verbose = 0})
  return model:get_weights()
end

-- A Dense layer that makes a volume (3, 4, 5, 2) of each sample, the layers `middle`
-- makes, and a Dense that reads their result: both Dense layers train only through the
-- layers between them.
local function between(middle)
  local layers = {L.Dense{120, activation = 'tanh', input_shape = {6}}, L.Reshape{{3, 4, 5, 2}}}
  for _, layer in ipairs(middle()) do layers[#layers + 1] = layer end
  layers[#layers + 1] = L.Flatten()
  layers[#layers + 1] = L.Dense{1}
  return layers
end

-- Trains the model of `tested` and the one of `same` from the same start on `device` and
-- expects the same weights after, bit for bit. Returns the tested model's weights.
local function expect_trains_as(tested, same, device, what)
  local x, y = nn.random.randn(8, 6), nn.random.randn(8, 1)
  local start = nn.Sequential(between(tested)):get_weights()
  local a = train(between(tested), device, start, x, y)
  local b = train(between(same), device, start, x, y)
  for i = 1, #a do t.eq(a[i], b[i], device .. ': ' .. what .. ', weight ' .. i) end
  t.truthy((a[1] - start[1]):abs():max() > 1e-4, device .. ': ' .. what .. ' trained')
  -- The emulated device guards every buffer on every call: free the models' at once.
  collectgarbage()
  return a
end

t.test('training through them learns what the same function in 1-D and 2-D layers learns', function()
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(31)
    local weights = {}
    -- ZeroPadding3D is ZeroPadding2D on every slice, then ZeroPadding1D along the depth
    -- with each slice one step; Cropping3D likewise.
    weights[1] = expect_trains_as(
      function() return {L.ZeroPadding3D{{{1, 2}, {0, 1}, {2, 0}}}} end,
      function() return {L.TimeDistributed{L.ZeroPadding2D{{{0, 1}, {2, 0}}}}, L.Reshape{{3, 5 * 7 * 2}},
                         L.ZeroPadding1D{{1, 2}}, L.Reshape{{6, 5, 7, 2}}} end,
      device, 'padding')
    weights[2] = expect_trains_as(
      function() return {L.Cropping3D{{{1, 0}, {1, 2}, {0, 3}}}} end,
      function() return {L.TimeDistributed{L.Cropping2D{{{1, 2}, {0, 3}}}}, L.Reshape{{3, 1 * 2 * 2}},
                         L.Cropping1D{{1, 0}}, L.Reshape{{2, 1, 2, 2}}} end,
      device, 'cropping')
    -- UpSampling3D{{d, h, w}} is UpSampling2D{{h, w}} on the slices stacked as rows, then
    -- UpSampling1D{d} with each slice one step.
    weights[3] = expect_trains_as(
      function() return {L.UpSampling3D{{2, 3, 1}}} end,
      function() return {L.Reshape{{12, 5, 2}}, L.UpSampling2D{{3, 1}}, L.Reshape{{3, 12 * 5 * 2}},
                         L.UpSampling1D{2}, L.Reshape{{6, 12, 5, 2}}} end,
      device, 'upsampling')
    -- Channels first is channels last on the permuted volume.
    weights[4] = expect_trains_as(
      function() return {L.ZeroPadding3D{{{1, 0}, {2, 1}, {0, 1}}, data_format = 'channels_first'},
                         L.UpSampling3D{{1, 2, 2}, data_format = 'channels_first'},
                         L.Cropping3D{{{0, 1}, {1, 1}, {2, 0}}, data_format = 'channels_first'},
                         L.Permute{{2, 3, 4, 1}}} end,
      function() return {L.Permute{{2, 3, 4, 1}}, L.ZeroPadding3D{{{1, 0}, {2, 1}, {0, 1}}},
                         L.UpSampling3D{{1, 2, 2}}, L.Cropping3D{{{0, 1}, {1, 1}, {2, 0}}}} end,
      device, 'channels first')
    results[device] = weights
  end
  for k = 1, #results.cpu do
    for i = 1, #results.cpu[k] do
      t.eq(results.emulated[k][i], results.cpu[k][i], 'cpu = emulated, model ' .. k .. ', weight ' .. i)
    end
  end
end)

t.test('SpatialDropout3D drops whole channels and scales the rest', function()
  local d = L.SpatialDropout3D{0.5}
  local y = d(nn.ones(4, 2, 3, 2, 16), {training = true})
  local kept, dropped = 0, 0
  for b = 1, 4 do
    for c = 1, 16 do
      local first = y[b][1][1][1][c]
      for i = 1, 2 do for h = 1, 3 do for w = 1, 2 do
        t.eq(y[b][i][h][w][c], first, 'one value per channel')
      end end end
      if first == 0 then dropped = dropped + 1 else kept = kept + 1; t.eq(first, 2, 'scaled by 2') end
    end
  end
  t.truthy(kept > 10 and dropped > 10, 'about half dropped: ' .. dropped .. ' of 64')
  t.eq(d(nn.ones(4, 2, 3, 2, 16)), nn.ones(4, 2, 3, 2, 16), 'inference passes through')
  local quarter = L.SpatialDropout3D{0.25}(nn.ones(2, 1, 1, 1, 8), {training = true})
  for c = 1, 8 do
    local v = quarter[1][1][1][1][c]
    t.truthy(v == 0 or math.abs(v - 4 / 3) < 1e-6, 'kept channels scaled by 1/(1 - 0.25): ' .. v)
  end
  local first = L.SpatialDropout3D{0.5, data_format = 'channels_first'}(nn.ones(1, 8, 2, 2, 2), {training = true})
  for c = 1, 8 do t.eq(first[1][c][2][2][2], first[1][c][1][1][1], 'channels first: one value per volume') end
  local a = L.SpatialDropout3D{0.5, seed = 7}(nn.ones(2, 1, 2, 1, 8), {training = true})
  local b = L.SpatialDropout3D{0.5, seed = 7}(nn.ones(2, 1, 2, 1, 8), {training = true})
  t.eq(a, b, 'the same seed draws the same channels')
  -- The gradient goes through the kept channels, scaled as their values.
  nn.random.seed(4)
  local model = nn.Sequential{L.Dense{8, use_bias = false, kernel_initializer = 'ones', input_shape = {1}},
                              L.Reshape{{1, 1, 1, 8}}, L.SpatialDropout3D{0.5, seed = 3}, L.Flatten(),
                              L.Dense{1, use_bias = false, kernel_initializer = 'ones'}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  model:train_on_batch(nn.ones(1, 1), nn.zeros(1, 1))
  local moved = model:get_weights()[1]
  local kept_count = 0
  for c = 1, 8 do if moved[1][c] ~= 1 then kept_count = kept_count + 1 end end
  t.truthy(kept_count > 0 and kept_count < 8, 'only kept channels learn: ' .. kept_count .. ' of 8')
end)

t.test('a model with all four saves and loads', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-volume-resampling'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.ZeroPadding3D{{{1, 2}, {0, 1}, 1}, input_shape = {2, 3, 3, 1}},
                              L.UpSampling3D{{1, 2, 1}}, L.SpatialDropout3D{0.3},
                              L.Cropping3D{{1, 0, {1, 2}}, data_format = 'channels_last'},
                              L.Flatten(), L.Dense{2}}
  t.eq(tostring(model.layers[4].output_shape), '(None, 3, 8, 2, 1)', 'shapes')
  model:save(directory .. '/volumes.nnsh')
  local copy = nn.models.load_model(directory .. '/volumes.nnsh')
  local x = nn.random.randn(3, 2, 3, 3, 1)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].padding[1][2], 2, 'padding kept')
  t.eq(copy.layers[4].cropping[3][2], 2, 'cropping kept')
  t.eq(copy.layers[2].size[2], 2, 'size kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  local x = nn.ones(1, 3, 4, 4, 2)
  t.raises(function() L.Cropping3D{{{2, 1}, 0, 0}}(x) end, 'cropping ((2, 1), (0, 0), (0, 0))',
           'removes every slice', '(None, 3, 4, 4, 2)', 'keeps 0 of 3 slices')
  t.raises(function() L.Cropping3D{{0, 2, 0}}(x) end, 'removes every row', '0 of 4 rows')
  t.raises(function() L.Cropping3D{{{0, 0}, {0, 0}, {3, 1}}}(x) end, 'removes every column')
  t.raises(function() L.Cropping3D()(nn.ones(1, 2, 2, 2, 2)) end, 'removes every slice')
  t.raises(function() L.ZeroPadding3D{-1} end, 'padding must be an integer >= 0, got -1')
  t.raises(function() L.ZeroPadding3D{{1, 2}} end,
           'padding must be an integer, {depth, height, width} or {{front, back}, {top, bottom}, {left, right}}',
           'does not have 3 entries')
  t.raises(function() L.ZeroPadding3D{{{1}, {2, 3}, 1}} end, 'padding entry 1', '{front, back}')
  t.raises(function() L.ZeroPadding3D{{1, {2, 3, 4}, 1}} end, 'padding entry 2', '{top, bottom}')
  t.raises(function() L.Cropping3D{{1, 2, 'a'}} end, 'cropping entry 3', 'got string')
  t.raises(function() L.Cropping3D{{{1, 2}, {3, 1.5}, 0}} end, 'cropping must be')
  t.raises(function() L.UpSampling3D{0} end, 'size must be a positive integer, got 0')
  t.raises(function() L.UpSampling3D{{2, 2}} end, 'size')
  t.raises(function() L.UpSampling3D{interpolation = 'bilinear'} end, 'interpolation')
  t.raises(function() L.ZeroPadding3D{2 ^ 30 | 0}(x) end, 'makes volumes of 2147483651 x',
           'at most 1073741824')
  t.raises(function() L.UpSampling3D{2 ^ 20 | 0}(nn.ones(1, 1, 1, 2048, 1)) end,
           'size (1048576, 1048576, 1048576) on input (None, 1, 1, 2048, 1) makes the width '
           .. '2048 x 1048576, longer than the 1073741824 cells supported')
  t.raises(function() L.UpSampling3D{{1, 2, 1}}:build{1, 1, 2 ^ 40 | 0, 1, 1} end,
           'on input (None, 1, 1099511627776, 1, 1) makes the height 1099511627776 x 2, longer')
  for _, make in ipairs{function() return L.ZeroPadding3D() end, function() return L.Cropping3D() end,
                        function() return L.UpSampling3D() end, function() return L.SpatialDropout3D{0.5} end} do
    t.raises(function() make()(nn.zeros(2, 4, 4, 3)) end, 'expected ndim=5',
             '(batch, depth, height, width, channels)', 'Full shape received: (2, 4, 4, 3)')
    t.raises(function() nn.Sequential{L.Dense{4, input_shape = {3}}, make()} end, 'dense', '(None, 4)')
  end
  t.raises(function() L.ZeroPadding3D{1, data_format = 'channels_first'}(nn.zeros(2, 4, 4, 3)) end,
           '(batch, channels, depth, height, width)')
  t.raises(function() L.ZeroPadding3D{1, data_format = 'nchw'} end, 'data_format')
  t.raises(function() L.SpatialDropout3D{1} end, 'rate must be in [0, 1)')
  t.raises(function() L.SpatialDropout3D{} end, 'rate')
  t.raises(function() L.SpatialDropout3D{0.5, noise_shape = {1, 1, 1, 1, 1}} end, 'noise_shape')
end)

t.finish()
