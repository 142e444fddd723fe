-- LayerNormalization from Lua: Keras' values and weights, the same training on cpu and
-- emulated, freezing, model files, errors. (Values and gradients are checked against a
-- reference in tests/engine/test_layernorm.c.)
local t = require 'harness'
local L = nn.layers

t.test('values and weights as Keras', function()
  local n = L.LayerNormalization()
  local y = n(nn.tensor{{1, 2, 3}, {10, 10, 10}})
  local scale = 1 / math.sqrt(2 / 3 + 1e-3)
  t.near(y[1][1], -scale, 1e-6, 'row 1')
  t.near(y[1][3], scale, 1e-6, 'row 1')
  t.eq(y[2][2], 0, 'a constant row becomes 0')
  t.eq(n.gamma, nn.ones(3), 'gamma starts at 1')
  t.eq(n.beta, nn.zeros(3), 'beta starts at 0')
  t.eq(n.name:match('^layer_normalization'), 'layer_normalization', 'name')
  local images = L.LayerNormalization{epsilon = 1e-5}(nn.random.randn(2, 4, 4, 6) * 3 + 5)
  t.near(images:mean(-1):abs():max(), 0, 1e-5, 'each row of the last axis has mean 0')
  local no_weights = L.LayerNormalization{center = false, scale = false}
  no_weights(nn.zeros(1, 4))
  t.eq(#no_weights:get_weights(), 0, 'center=false, scale=false: no weights')
  local model = nn.Sequential{nn.Input{shape = {10, 16}}, L.LayerNormalization()}
  t.eq(model:count_params(), 32, 'gamma and beta per feature')
end)

t.test('several last axes normalised together, as Keras axis={1, 2, 3}', function()
  nn.random.seed(21)
  local x = nn.random.randn(3, 4, 5, 2) * 2 + 1
  local n = L.LayerNormalization{axis = {1, 2, 3}}
  local y = n(x)
  t.eq(tostring(n.gamma.shape), '(4, 5, 2)', 'gamma has the sizes of the axes')
  t.eq(tostring(n.beta.shape), '(4, 5, 2)', 'beta too')
  for b = 1, 3 do -- each sample's 40 values as one row
    local row = x:slice(b, b):reshape(40)
    local centred = row - row:mean()
    local expected = centred / math.sqrt((centred * centred):mean() + 1e-3)
    t.near((y:slice(b, b):reshape(40) - expected):abs():max(), 0, 1e-5, 'sample ' .. b)
  end
  -- the same axes written from the end, in another order, normalise the same
  t.eq(L.LayerNormalization{axis = {-1, -3, -2}}(x), y, 'axes in any order and sign')
  -- one listed axis is the single axis, kept as a list in the config
  local listed = L.LayerNormalization{axis = {-1}}
  t.eq(listed(x), L.LayerNormalization()(x), '{-1} is -1')
  t.eq(type(listed:get_config().axis), 'table', 'a list stays a list')
  t.eq(table.concat(listed:get_config().axis, ','), '-1', 'a list stays a list')
  t.eq(L.LayerNormalization{axis = 2}:get_config().axis, 2, 'an axis stays an axis')
  local model = nn.Sequential{nn.Input{shape = {6, 8}}, L.LayerNormalization{axis = {-2, -1}}}
  t.eq(model:count_params(), 96, 'gamma and beta per value of the (6, 8) rows')
  -- trains the same on cpu and emulated, and the file keeps the axes
  local inputs, targets = nn.random.randn(8, 4, 3), nn.random.randn(8, 2)
  local weights, models = {}, {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(22)
    local m = nn.Sequential{L.Dense{5, input_shape = {4, 3}}, L.LayerNormalization{axis = {1, 2}},
                            L.Flatten(), L.Dense{2}}
    m:to(device)
    m:compile{optimizer = 'adam', loss = 'mse'}
    m:fit(inputs, targets, {epochs = 3, batch_size = 4, verbose = 0})
    weights[device], models[device] = m:get_weights(), m
  end
  for i = 1, #weights.cpu do t.eq(weights.cpu[i], weights.emulated[i], 'weight ' .. i) end
  t.truthy((weights.cpu[3] - nn.ones(4, 5)):abs():max() > 1e-3, 'gamma learned')
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-layer-normalization'
  nn.io.make_directory(directory)
  models.cpu:save(directory .. '/axes.nnsh')
  local copy = nn.models.load_model(directory .. '/axes.nnsh')
  t.eq(table.concat(copy.layers[2].axis, ','), '1,2', 'axes kept')
  t.eq(copy:predict(inputs, {verbose = 0}), models.cpu:predict(inputs, {verbose = 0}), 'same predictions')
end)

t.test('trains the same on cpu and emulated; frozen it keeps its weights', function()
  local x, y = nn.random.randn(16, 5, 4), nn.tensor({0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1, 1, 0, 2}, 'int32')
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(14)
    local model = nn.Sequential{L.Dense{6, input_shape = {5, 4}}, L.LayerNormalization(),
                                L.Flatten(), L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 3, batch_size = 5, verbose = 0})
    weights[device] = model:get_weights()
  end
  for i = 1, #weights.cpu do t.eq(weights.cpu[i], weights.emulated[i], 'weight ' .. i) end
  t.truthy((weights.cpu[3] - nn.ones(6)):abs():max() > 1e-3, 'gamma learned')
  nn.random.seed(15)
  local norm = L.LayerNormalization{trainable = false}
  local model = nn.Sequential{L.Dense{6, input_shape = {4}}, norm, L.Dense{2}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  model:fit(nn.random.randn(8, 4), nn.random.randn(8, 2), {epochs = 2, verbose = 0})
  t.eq(norm.gamma, nn.ones(6), 'a frozen layer keeps gamma')
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-layer-normalization'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Dense{6, input_shape = {3}}, L.LayerNormalization{epsilon = 1e-4, center = false},
                              L.Dense{2}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  local x = nn.random.randn(4, 3)
  model:fit(x, nn.random.randn(4, 2), {epochs = 2, verbose = 0})
  model:save(directory .. '/norm.nnsh')
  local copy = nn.models.load_model(directory .. '/norm.nnsh')
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.near(copy.layers[2].epsilon, 1e-4, 1e-10, 'epsilon kept')
  t.eq(copy.layers[2].center, false, 'center kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.LayerNormalization{epsilon = 0} end, 'epsilon must be >= 1e-30')
  t.raises(function() L.LayerNormalization{rms_scaling = true} end, 'rms_scaling=True is not available')
  t.raises(function() L.LayerNormalization{axis = 1}(nn.zeros(2, 3, 4)) end,
           'normalisation over axis 1 of input (None, 3, 4): nnsh normalises the last axis '
           .. '(axis=-1) or the last few together, such as {-2, -1}')
  t.raises(function() L.LayerNormalization{axis = {1, 2}}(nn.zeros(2, 3, 4, 5)) end,
           'normalisation over axis {1, 2} of input (None, 3, 4, 5)')
  t.raises(function() L.LayerNormalization{axis = {1, 3}}(nn.zeros(2, 3, 4, 5)) end,
           'normalisation over axis {1, 3}', 'the last few together')
  t.raises(function() L.LayerNormalization{axis = {0, 1}}(nn.zeros(2, 3)) end,
           'axis {0, 1} of input (None, 3) includes the batch axis (0)')
  t.raises(function() L.LayerNormalization{axis = 7}(nn.zeros(2, 3)) end, 'axis 7 is out of range', '(None, 3)')
  t.raises(function() L.LayerNormalization{axis = {-1, 4}}(nn.zeros(2, 3)) end,
           'axis {-1, 4} is out of range for input (None, 3) (rank 2)')
  t.raises(function() L.LayerNormalization{axis = {-1, 3}}(nn.zeros(2, 3, 4, 5)) end,
           'axis {-1, 3} names one axis of input (None, 3, 4, 5) twice (a negative axis counts '
           .. 'from the end: -1 is 3)')
  t.raises(function()
    nn.Sequential{nn.Input{shape = {2 ^ 20 | 0, 2 ^ 11 | 0, 2}}, L.LayerNormalization{axis = {1, 2, 3}}}
  end, 'normalising axis {1, 2, 3} of input (None, 1048576, 2048, 2) together would give gamma '
       .. 'and beta 4294967296 values each, more than the 2147483647 a layer supports')
  t.raises(function() L.LayerNormalization{axis = 9} end, 'axis must hold axes from -8 to 7, got 9')
  t.raises(function() L.LayerNormalization{axis = {2, -1, 2}} end, 'axis lists axis 2 twice')
  t.raises(function() L.LayerNormalization{axis = {}} end, 'axis must list 1 to 8 axes, got 0')
  t.raises(function() L.LayerNormalization{axis = {1.5}} end, 'axis must hold integer axes (0 = batch, -1 = last), got 1.5')
  t.raises(function() L.LayerNormalization{axis = 'last'} end,
           'axis must be an integer axis or a list of axes')
  t.raises(function() L.RMSNormalization{axis = {1, 2}} end, 'axis must be an integer axis')
  t.raises(function() L.LayerNormalization()(nn.zeros(3)) end, 'expected min_ndim=2')
  t.raises(function() L.LayerNormalization{center = 'yes'} end, 'center must be true or false')
end)

t.finish()
