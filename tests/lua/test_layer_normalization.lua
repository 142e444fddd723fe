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
  t.raises(function() L.LayerNormalization{axis = 1}(nn.zeros(2, 3, 4)) end, 'last axis only', 'axis 1')
  t.raises(function() L.LayerNormalization{axis = 7}(nn.zeros(2, 3)) end, 'axis 7 is out of range', '(None, 3)')
  t.raises(function() L.LayerNormalization{axis = 9} end, 'axis must be an axis from')
  t.raises(function() L.LayerNormalization()(nn.zeros(3)) end, 'expected min_ndim=2')
  t.raises(function() L.LayerNormalization{center = 'yes'} end, 'center must be true or false')
end)

t.finish()
