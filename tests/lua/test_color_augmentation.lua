-- RandomContrast and RandomBrightness from Lua: Keras' arguments and defaults (a value
-- range of 0 to 255), the adjustment by hand on one image, each image its own draw, on
-- their own calls as Keras 3's, in fit only inside a model, the same training on cpu and
-- emulated, model files, errors. (Every value and the gradient are checked against the
-- definition in tests/engine/test_random_color.c.)
local t = require 'harness'
local L = nn.layers

t.test('arguments and defaults as Keras', function()
  local contrast = L.RandomContrast{0.25}
  local config = contrast:get_config()
  t.eq(config.factor, 0.25, 'a number stays a number')
  t.eq(nn.tensor(config.value_range), nn.tensor{0, 255}, 'value_range defaults to (0, 255)')
  t.eq(config.seed, nil, 'no seed')
  t.eq(nn.tensor(L.RandomContrast{{0.125, 0.375}}:get_config().factor), nn.tensor{0.125, 0.375}, 'a pair stays a pair')
  local brightness = L.RandomBrightness{0.3}
  t.near(brightness.factor[1], -0.3, 1e-7, 'f means -f ...')
  t.near(brightness.factor[2], 0.3, 1e-7, '... to f')
  t.eq(nn.tensor(brightness.value_range), nn.tensor{0, 255}, 'value_range of brightness too')
  t.eq(nn.tensor(L.RandomBrightness{0.1, value_range = {1, 0}}.value_range), nn.tensor{0, 1},
       'a range written high to low is the same range, as Keras')
  t.eq(contrast.name:match('^random_contrast'), 'random_contrast', 'name')
  t.eq(brightness.name:match('^random_brightness'), 'random_brightness', 'name')
end)

t.test('one image by hand: the factor read back, the clip, a fixed shift', function()
  local x = nn.tensor{{{{10}, {20}}, {{30}, {40}}}}   -- one 2 x 2 image, mean 25
  for seed = 1, 5 do
    local y = L.RandomContrast{{0.5, 0.5}, seed = seed}(x):reshape(-1):tolist()
    local factor = (y[4] - 25) / 15
    t.truthy(factor >= 0.5 and factor <= 1.5, 'factor ' .. factor .. ' within 1 - 0.5 to 1 + 0.5')
    t.near(nn.tensor(y), nn.tensor{25 - 15 * factor, 25 - 5 * factor, 25 + 5 * factor, 25 + 15 * factor},
           1e-4, '(x - 25) * factor + 25')
  end
  -- factor {0, 1}: 1 to 2, so 10 falls to at most 10 and 40 rises to at least 40
  local clipped = L.RandomContrast{{0, 1}, value_range = {12, 38}}(x):reshape(-1):tolist()
  t.eq(clipped[1], 12, 'clipped up to the low end')
  t.eq(clipped[4], 38, 'clipped down to the high end')
  t.near(clipped[2] + clipped[3], 50, 1e-4, 'the middle two stay symmetric about the mean')
  local brighter = L.RandomBrightness{{0.1, 0.1}, value_range = {0, 100}}(x)
  t.near(brighter:reshape(-1), nn.tensor{20, 30, 40, 50}, 1e-5, 'shifted by 0.1 of the range')
  t.eq(L.RandomBrightness{{1, 1}}(x):reshape(-1), nn.tensor{255, 255, 255, 255}, '1 makes it white')
  t.eq(L.RandomBrightness{{-1, -1}}(x):reshape(-1), nn.tensor{0, 0, 0, 0}, '-1 makes it black')
end)

t.test('each image its own draw; on its own call it adjusts, training=false passes', function()
  nn.random.seed(8)
  local x = nn.random.uniform(50, 4, 4, 3)
  local brightness = L.RandomBrightness{0.2, value_range = {-10, 10}}
  local shift = (brightness(x) - x):mean(3):mean(2):mean(1)   -- one number per image
  local shifts = shift:tolist()
  local low, high, different = math.huge, -math.huge, {}
  for _, s in ipairs(shifts) do
    low, high = math.min(low, s), math.max(high, s)
    different[string.format('%.4f', s)] = true
  end
  t.truthy(low >= -4 - 1e-4 and high <= 4 + 1e-4, 'shifts within 0.2 of a range 20 wide')
  t.truthy(high - low > 4, 'they spread over the range: ' .. low .. ' to ' .. high)
  local count = 0
  for _ in pairs(different) do count = count + 1 end
  t.truthy(count >= 45, count .. ' distinct shifts for 50 images')
  t.eq(brightness(x, {training = false}), x, 'training=false passes through')
  t.eq(L.RandomContrast{0.5}(x, {training = false}), x, 'training=false passes through')
end)

t.test('in a model it adjusts in fit only; trained the same on cpu and emulated; saved', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-color-augmentation'
  nn.io.make_directory(directory)
  local x, y = nn.random.uniform(16, 6, 6, 3), nn.random.randint(0, 3, 16)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(29)
    local model = nn.Sequential{nn.Input{shape = {6, 6, 3}},
                                L.RandomContrast{0.375, value_range = {0, 1}},
                                L.RandomBrightness{{-0.125, 0.25}, value_range = {0, 1}},
                                L.Conv2D{2, 3}, L.Flatten(), L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    local before = model:predict(x, {verbose = 0})
    local plain = nn.Sequential{nn.Input{shape = {6, 6, 3}}, model.layers[3], model.layers[4],
                                model.layers[5]}
    t.eq(before, plain:predict(x, {verbose = 0}), device .. ': predict does not adjust')
    model:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/color.nnsh')
      local copy = nn.models.load_model(directory .. '/color.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[1]:get_config().factor, 0.375, 'contrast factor kept')
      t.eq(nn.tensor(copy.layers[2]:get_config().factor), nn.tensor{-0.125, 0.25}, 'brightness factor kept')
      t.eq(nn.tensor(copy.layers[2].value_range), nn.tensor{0, 1}, 'value_range kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.RandomContrast{} end, 'missing required argument', 'factor')
  t.raises(function() L.RandomContrast{-0.1} end, 'factor', '>= 0')
  t.raises(function() L.RandomContrast{{1.5, 0.2}} end, 'lower bound must be at most 1', '1.5')
  t.raises(function() L.RandomContrast{{0.1, 0.2, 0.3}} end, 'a pair {lower, upper}', 'a list of 3')
  t.raises(function() L.RandomContrast{'high'} end, 'factor must be a number')
  t.raises(function() L.RandomContrast{0.2, value_range = {0, 1, 2}} end, 'value_range must be a list of two numbers')
  t.raises(function() L.RandomContrast{0.2, value_range = 1} end, 'value_range must be a list of two numbers')
  t.raises(function() L.RandomContrast{0.2, value_range = nn.None} end, 'value_range must be a list of two numbers')
  t.raises(function() L.RandomBrightness{0.2, value_range = {1, 1}} end, 'value_range must span a range', '{1, 1}')
  t.raises(function() L.RandomContrast{0.2, value_range = {0, 1 / 0}} end, 'value_range entries must be finite numbers, got inf')
  t.raises(function() L.RandomContrast{0 / 0} end, 'factor entries must be finite numbers, got NaN')
  t.raises(function() L.RandomBrightness{1.5} end, 'factor', 'out of range')
  t.raises(function() L.RandomBrightness{{-2, 0}} end, 'factor', 'out of range')
  t.raises(function() L.RandomBrightness{0.1, seed = -3} end, 'seed')
  t.raises(function() L.RandomBrightness{0.1}(nn.ones(2, 3, 4)) end, 'expected ndim=4', 'found ndim=3')
  t.raises(function() L.RandomContrast{0.1}(nn.ones(2, 3)) end, 'expected ndim=4')
end)

t.finish()
