-- RMSNormalization from Lua: Keras' values, weight and defaults, training the same on cpu
-- and emulated, model files, errors. (Values and gradients are checked against a reference
-- in tests/engine/test_group_norm.c.)
local t = require 'harness'
local L = nn.layers

t.test('values, weight and defaults as Keras', function()
  local n = L.RMSNormalization()
  local y = n(nn.tensor{{3, 4}, {1, -1}, {0, 0}})
  local rms = math.sqrt(12.5 + 1e-6)
  t.near(y[1][1], 3 / rms, 1e-6, '3 / sqrt(mean(9, 16))')
  t.near(y[1][2], 4 / rms, 1e-6, '4 / sqrt(mean(9, 16))')
  t.near(y[2][1], 1 / math.sqrt(1 + 1e-6), 1e-6, 'not centred: 1 stays about 1')
  t.near(y[2][2], -1 / math.sqrt(1 + 1e-6), 1e-6, 'and -1 about -1')
  t.eq(y[3][1], 0, 'a row of zeros stays zeros')
  t.eq(n.scale, nn.ones(2), 'scale starts at 1')
  t.eq(#n.weights, 1, 'one weight, no offset')
  t.eq(n.name:match('^rms_normalization'), 'rms_normalization', 'name')
  local config = L.RMSNormalization():get_config()
  t.eq(config.axis, -1, 'axis defaults to -1')
  t.near(config.epsilon, 1e-6, 1e-12, 'epsilon defaults to 1e-6')
  local model = nn.Sequential{nn.Input{shape = {7, 16}}, L.RMSNormalization()}
  t.eq(model:count_params(), 16, 'one scale per feature')
  t.eq(tostring(model.layers[1].output_shape), '(None, 7, 16)', 'shape unchanged')
end)

t.test('every row has mean square 1, then is multiplied by scale', function()
  nn.random.seed(5)
  local x = nn.random.randn(4, 3, 6) * 3 + 2
  local n = L.RMSNormalization{epsilon = 1e-9}
  local y = n(x)
  t.near(((y * y):mean(2) - 1):abs():max(), 0, 1e-5, 'mean square 1 along the last axis')
  t.truthy(y:mean(2):abs():max() > 0.1, 'the mean is not removed')
  n:set_weights{nn.tensor{1, 2, 3, 4, 5, 6}}
  local scaled = n(x)
  t.near((scaled - y * nn.tensor{1, 2, 3, 4, 5, 6}):abs():max(), 0, 1e-5, 'times scale')
end)

t.test('trains the same on cpu and emulated; a frozen one keeps its scale', function()
  local x = nn.random.randn(16, 5, 4)
  local y = nn.random.randn(16, 2)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(8)
    local model = nn.Sequential{L.Dense{8, input_shape = {5, 4}}, L.RMSNormalization(),
                                L.Flatten(), L.Dense{2}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'mse'}
    model:fit(x, y, {epochs = 3, batch_size = 6, verbose = 0})
    weights[device] = model:get_weights()
  end
  for i = 1, #weights.cpu do t.eq(weights.cpu[i], weights.emulated[i], 'weight ' .. i) end
  t.truthy((weights.cpu[3] - nn.ones(8)):abs():max() > 1e-3, 'scale learned')
  local norm = L.RMSNormalization{trainable = false}
  local model = nn.Sequential{L.Dense{6, input_shape = {4}}, norm, L.Dense{2}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  model:fit(nn.random.randn(8, 4), nn.random.randn(8, 2), {epochs = 2, verbose = 0})
  t.eq(norm.scale, nn.ones(6), 'a frozen layer keeps its scale')
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-rms-normalization'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Dense{6, input_shape = {3}}, L.RMSNormalization{epsilon = 1e-4},
                              L.Dense{2}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  local x = nn.random.randn(4, 3)
  model:fit(x, nn.random.randn(4, 2), {epochs = 2, verbose = 0})
  model:save(directory .. '/rms.nnsh')
  local copy = nn.models.load_model(directory .. '/rms.nnsh')
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.near(copy.layers[2].epsilon, 1e-4, 1e-10, 'epsilon kept')
  t.eq(copy.layers[2].scale, model.layers[2].scale, 'scale kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.RMSNormalization{center = true} end, "unknown argument 'center'",
           'axis, epsilon')
  t.raises(function() L.RMSNormalization{epsilon = 0} end, 'epsilon')
  t.raises(function() L.RMSNormalization{epsilon = 'small'} end, 'epsilon', 'string')
  t.raises(function() L.RMSNormalization{axis = 1}(nn.zeros(2, 3, 4)) end,
           'axis 1 of input (None, 3, 4)', 'last axis only')
  t.raises(function() L.RMSNormalization{axis = 5}(nn.zeros(2, 3)) end, 'axis')
  t.raises(function() L.LayerNormalization{rms_scaling = true} end, 'rms_scaling=True',
           'RMSNormalization')
  t.raises(function() L.RMSNormalization():set_weights{nn.ones(3)} end, 'weight')
  t.raises(function() return L.RMSNormalization().scale end, 'has no scale yet', 'built')
  local n = L.RMSNormalization()
  n(nn.ones(2, 3))
  t.raises(function() n:set_weights{nn.ones(4)} end, 'shape (3,)', '(4,)')
  t.raises(function() n(nn.ones(2, 4)) end, 'incompatible', '(None, 3)')
  t.eq(n(nn.ones(1, 3)), nn.ones(1, 3) / math.sqrt(1 + 1e-6), 'still usable after the errors')
end)

t.finish()
