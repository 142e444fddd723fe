-- GroupNormalization from Lua: Keras' values, weights and defaults, images in either
-- layout, the same training on cpu and emulated, model files, errors. (Values and
-- gradients are checked against a reference in tests/engine/test_group_norm.c.)
local t = require 'harness'
local L = nn.layers

t.test('values and weights as Keras', function()
  local n = L.GroupNormalization{2}
  local y = n(nn.tensor{{1, 3, 10, 20}})
  t.near(y[1][1], -1 / math.sqrt(1 + 1e-3), 1e-6, 'group {1, 3}: variance 1')
  t.near(y[1][4], 5 / math.sqrt(25 + 1e-3), 1e-6, 'group {10, 20}: variance 25')
  t.eq(n.gamma, nn.ones(4), 'gamma starts at 1')
  t.eq(n.beta, nn.zeros(4), 'beta starts at 0')
  t.eq(n.name:match('^group_normalization'), 'group_normalization', 'name')
  local config = L.GroupNormalization():get_config()
  t.eq(config.groups, 32, 'groups defaults to 32')
  t.eq(config.axis, -1, 'axis defaults to -1')
  t.near(config.epsilon, 1e-3, 1e-9, 'epsilon defaults to 1e-3')
  local model = nn.Sequential{nn.Input{shape = {8, 8, 64}}, L.GroupNormalization()}
  t.eq(model:count_params(), 128, 'gamma and beta per channel')
  t.eq(tostring(model.layers[1].output_shape), '(None, 8, 8, 64)', 'shape unchanged')
end)

t.test('each group of each image has mean 0 and variance 1', function()
  nn.random.seed(3)
  local x = nn.random.randn(3, 5, 5, 6) * 4 + 7
  local y = L.GroupNormalization{3, epsilon = 1e-6}(x)
  for image = 1, 3 do
    for group = 0, 2 do
      local values = {}
      for row = 1, 5 do for column = 1, 5 do for channel = 2 * group + 1, 2 * group + 2 do
        values[#values + 1] = y[image][row][column][channel]
      end end end
      local v = nn.tensor(values)
      t.near(v:mean(), 0, 1e-5, 'image ' .. image .. ' group ' .. group .. ' mean')
      t.near((v * v):mean(), 1, 1e-4, 'image ' .. image .. ' group ' .. group .. ' variance')
    end
  end
  -- channels_first with axis=1 groups the same channels as channels_last with -1
  local first = L.GroupNormalization{3, axis = 1, epsilon = 1e-6}(L.Permute{{3, 1, 2}}(x))
  t.near((L.Permute{{2, 3, 1}}(first) - y):abs():max(), 0, 1e-5, 'axis=1 on channels_first')
  -- groups=-1: each channel on its own (instance normalisation)
  local instance = L.GroupNormalization{-1, epsilon = 1e-6}(x)
  t.near(instance:mean(1):mean(1):abs():max(), 0, 1e-5, 'every channel of every image has mean 0')
  t.eq(L.GroupNormalization{-1}:get_config().groups, -1, 'groups=-1 stays -1 in the config')
end)

t.test('trains the same on cpu and emulated; a frozen one keeps its weights', function()
  local x = nn.random.randn(12, 6, 6, 2)
  local y = nn.tensor({0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0}, 'int32')
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(21)
    local model = nn.Sequential{L.Conv2D{8, 3, input_shape = {6, 6, 2}},
                                L.GroupNormalization{4},
                                L.Activation{'relu'}, L.Flatten(),
                                L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 3, batch_size = 5, verbose = 0})
    weights[device] = model:get_weights()
  end
  for i = 1, #weights.cpu do t.eq(weights.cpu[i], weights.emulated[i], 'weight ' .. i) end
  t.truthy((weights.cpu[3] - nn.ones(8)):abs():max() > 1e-3, 'gamma learned')
  local norm = L.GroupNormalization{2, trainable = false}
  local model = nn.Sequential{L.Dense{6, input_shape = {4}}, norm, L.Dense{2}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  model:fit(nn.random.randn(8, 4), nn.random.randn(8, 2), {epochs = 2, verbose = 0})
  t.eq(norm.gamma, nn.ones(6), 'a frozen layer keeps gamma')
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-group-normalization'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Dense{6, input_shape = {3}},
                              L.GroupNormalization{3, epsilon = 1e-4, center = false}, L.Dense{2}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  local x = nn.random.randn(4, 3)
  model:fit(x, nn.random.randn(4, 2), {epochs = 2, verbose = 0})
  model:save(directory .. '/groups.nnsh')
  local copy = nn.models.load_model(directory .. '/groups.nnsh')
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[2].groups, 3, 'groups kept')
  t.near(copy.layers[2].epsilon, 1e-4, 1e-10, 'epsilon kept')
  t.eq(copy.layers[2].center, false, 'center kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.GroupNormalization{0} end, 'groups must be a number of groups >= 1', 'got 0')
  t.raises(function() L.GroupNormalization{-2} end, 'groups must be an integer >= -1', 'got -2')
  t.raises(function() L.GroupNormalization{2.5} end, 'groups')
  t.raises(function() L.GroupNormalization()(nn.zeros(2, 16)) end,
           'Number of groups (32) cannot be more than the number of channels (16)')
  t.raises(function() L.GroupNormalization{3}(nn.zeros(2, 4, 4, 8)) end,
           'the 8 channels of input (None, 4, 4, 8) do not split into 3 groups')
  t.raises(function() L.GroupNormalization{2, axis = 0}(nn.zeros(2, 4)) end, 'batch axis')
  t.raises(function() L.GroupNormalization{2}(nn.zeros(4)) end, 'expected min_ndim=2')
  t.raises(function() nn.Sequential{L.Dense{6, input_shape = {3}}, L.GroupNormalization{4}} end,
           'do not split into 4 groups')
end)

t.finish()
