-- UnitNormalization and Identity from Lua: Keras' values and arguments, along another
-- axis, masks passed on, the same training on cpu and emulated, model files, errors.
-- (Values and gradients are checked against a reference in tests/engine/test_unit_norm.c.)
local t = require 'harness'
local L = nn.layers

t.test('UnitNormalization: each run has length 1, zeros stay zeros', function()
  local y = L.UnitNormalization()(nn.tensor{{3, 4}, {0, 0}, {-1, 0}})
  t.near(y, nn.tensor{{0.6, 0.8}, {0, 0}, {-1, 0}}, 1e-6, 'rows of length 1')
  local x = nn.random.randn(2, 5, 3) * 4
  local along_steps = L.UnitNormalization{axis = 1}(x)
  local lengths = (along_steps * along_steps):sum(1)   -- one per (sample, feature)
  t.near(lengths, nn.ones(2, 3), 1e-5, 'axis=1: every feature has length 1 over the steps')
  t.eq(L.UnitNormalization():get_config().axis, -1, 'axis defaults to -1')
  t.eq(L.UnitNormalization().name:match('^unit_normalization'), 'unit_normalization', 'name')
  local model = nn.Sequential{nn.Input{shape = {7}}, L.Dense{4}, L.UnitNormalization()}
  t.eq(model:count_params(), 32, 'no weights of its own')
end)

t.test('Identity passes values and masks on', function()
  local x = nn.random.randn(2, 3)
  t.eq(L.Identity()(x), x, 'unchanged')
  t.eq(L.Identity().name:match('^identity'), 'identity', 'name')
  -- a mask from Embedding reaches the LSTM through either layer: with the same weights,
  -- a padded sentence gives what it gives without the layer in between (Identity), and
  -- something else than with the mask switched off
  local function make(mask_zero, middle)
    local layers = {L.Embedding{10, 4, mask_zero = mask_zero, input_shape = {5}}}
    if middle then layers[#layers + 1] = middle end
    layers[#layers + 1] = L.LSTM{3}
    return nn.Sequential(layers)
  end
  local padded, full = nn.tensor{{1, 2, 3, 0, 0}}, nn.tensor{{1, 2, 3, 4, 5}}
  local plain = make(true)
  local through = make(true, L.Identity())
  through:set_weights(plain:get_weights())
  t.eq(through:predict(padded, {verbose = 0}), plain:predict(padded, {verbose = 0}),
       'Identity: the same output as without it')
  local masked, unmasked = make(true, L.UnitNormalization()), make(false, L.UnitNormalization())
  unmasked:set_weights(masked:get_weights())
  t.eq(masked:predict(full, {verbose = 0}), unmasked:predict(full, {verbose = 0}),
       'no padding: the mask changes nothing')
  t.truthy((masked:predict(padded, {verbose = 0}) - unmasked:predict(padded, {verbose = 0})):abs():max() > 1e-4,
           'UnitNormalization: padding steps are skipped once the mask arrives')
end)

t.test('trains the same on cpu and emulated; saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-unit-normalization'
  nn.io.make_directory(directory)
  local x, y = nn.random.randn(12, 4, 3), nn.random.randint(0, 3, 12)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(37)
    local model = nn.Sequential{nn.Input{shape = {4, 3}}, L.Dense{5}, L.UnitNormalization{axis = 1},
                                L.Identity(), L.Flatten(), L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 4, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/unit.nnsh')
      local copy = nn.models.load_model(directory .. '/unit.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[2].axis, 1, 'axis kept')
      t.eq(copy.layers[3].name, model.layers[3].name, 'Identity kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.UnitNormalization{axis = 0}(nn.ones(2, 3)) end, 'axis 0 is the batch axis')
  t.raises(function() L.UnitNormalization{axis = 3}(nn.ones(2, 3)) end, 'axis 3 is out of range', '[-2, 1]')
  t.raises(function() L.UnitNormalization{axis = {1, 2}} end, 'axis must be an integer axis')
  t.raises(function() L.UnitNormalization()(nn.ones(3)) end, 'expected min_ndim=2')
  t.raises(function() L.Identity{'x'} end, 'takes at most 0 positional arguments', 'valid names: name, input_shape')
  t.raises(function() L.Identity{units = 3} end, 'units')
end)

t.finish()
