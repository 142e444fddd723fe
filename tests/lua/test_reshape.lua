-- Reshape: shapes and values as Keras (row-major, one -1 inferred), explanations, errors
-- that name both shapes, and training through it: a model with Reshape learns exactly
-- what the same model without it learns.
local t = require 'harness'
local L = nn.layers

t.test('Reshape keeps the values in row-major order and infers one -1', function()
  local x = nn.arange(24):reshape(2, 12):astype('float32')
  t.eq(L.Reshape{{3, 4}}(x), nn.arange(24):reshape(2, 3, 4):astype('float32'), 'values')
  local layer = L.Reshape{target_shape = {2, -1, 3}}
  t.eq(tostring(layer(x).shape), '(2, 2, 2, 3)', '-1 inferred')
  t.eq(layer.explanation, 'values per sample: 12; the -1 becomes 12 / 6 = 2', 'explanation')
  t.eq(tostring(L.Reshape{{-1}}(nn.zeros(5, 4, 7)).shape), '(5, 28)', 'flattening with -1')
  local same = L.Reshape{{4, 3}}
  same(x)
  t.eq(same.explanation, 'values per sample: 12, the same as 4 * 3 = 12', 'explanation')
  t.eq(L.Reshape{{6, 2}}.name:match('^reshape'), 'reshape', 'automatic name')
end)

t.test('a model summary shows the target shape; a Dense -> image decoder builds', function()
  local model = nn.Sequential{L.Dense{7 * 7 * 8, input_shape = {16}}, L.Reshape{{7, 7, -1}},
                              L.Conv2D{4, 3, padding = 'same'}, L.Flatten(), L.Reshape{{14, 14}}}
  t.eq(tostring(model.layers[2].output_shape), '(None, 7, 7, 8)', 'inferred channels')
  t.eq(tostring(model.output_shape), '(None, 14, 14)', 'last reshape')
  t.eq(model:count_params(), (16 * 392 + 392) + (3 * 3 * 8 * 4 + 4), 'no weights of its own')
  local text = t.capture(function() model:summary() end)
  t.truthy(text:find('reshape (Reshape)           (None, 7, 7, 8)           0', 1, true), 'summary row')
  t.truthy(text:find('reshape_1 (Reshape)         (None, 14, 14)', 1, true), 'numbered')
end)

t.test('bad target shapes raise errors naming both shapes', function()
  t.raises(function() L.Reshape() end, 'nn.layers.Reshape', 'target_shape')
  t.raises(function() L.Reshape{{-1, -1}} end, 'target_shape (-1, -1)', 'at most one')
  t.raises(function() L.Reshape{{0, 3}} end, 'entry 1', 'positive integer, -1')
  t.raises(function() L.Reshape{{-2, 3}} end, 'entry 1')
  t.raises(function() L.Reshape{'7x7'} end, 'target_shape', 'list of sizes')
  t.raises(function() L.Reshape{{3, 4}, 5} end, 'at most 1 positional argument')
  t.raises(function() L.Reshape{{5, -1}}(nn.zeros(2, 12)) end,
           'input (None, 12)', 'target_shape (5, -1)', '12 is not a multiple of 5')
  t.raises(function() L.Reshape{{5, 5}}(nn.zeros(2, 12)) end,
           '(12 values per sample)', 'target_shape (5, 5) (25 values)')
  t.raises(function() nn.Sequential{L.Dense{5, input_shape = {3}}, L.Reshape{{2, 2}}} end,
           '"reshape"', '"dense"', '(None, 5)', 'target_shape (2, 2)')
  t.raises(function() L.Reshape{{2, 3, 4, 5, 6, 7, 8, 9}} end, 'target_shape')
  t.raises(function() L.Reshape{{3, 'abc'}} end, 'entry 2 must be a positive integer, -1', 'string')
  t.raises(function() L.Reshape{{3, {}}} end, 'entry 2', 'table')
  t.raises(function() L.Reshape{{2 ^ 30 | 0, 2 ^ 30 | 0, 2 ^ 30 | 0, -1}}(nn.zeros(2, 4)) end,
           'more values per sample than can be counted')
end)

-- Dense{6} -> Reshape{{3, 2}} -> Flatten -> Dense{1} computes what Dense{6} -> Dense{1}
-- does, so after the same training both hold the same weights: the gradient passes
-- through Reshape unchanged. A Reshape in front turns flat rows into images for a Conv2D.
t.test('training through Reshape equals training without it', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local x, y = nn.random.randn(12, 4), nn.random.randn(12, 1)
    local initial
    local function train(with_reshape)
      local layers = {L.Dense{6, activation = 'tanh', input_shape = {4}}}
      if with_reshape then
        layers[#layers + 1] = L.Reshape{{3, 2}}
        layers[#layers + 1] = L.Flatten()
      end
      layers[#layers + 1] = L.Dense{1}
      local model = nn.Sequential(layers)
      model:to(device)
      if initial then model:set_weights(initial) else initial = model:get_weights() end
      model:compile{optimizer = 'adam', loss = 'mse'}
      model:fit(x, y, {epochs = 3, batch_size = 4, shuffle = false, verbose = 0})
      return model:get_weights()
    end
    local plain, reshaped = train(false), train(true)
    for i = 1, #plain do
      t.eq(reshaped[i], plain[i], device .. ': weight ' .. i)
    end

    nn.random.seed(4)
    local images = nn.Sequential{L.Reshape{{4, 4, 1}, input_shape = {16}}, L.Conv2D{2, 3},
                                 L.Flatten(), L.Dense{1}}
    images:to(device)
    images:compile{optimizer = 'sgd', loss = 'mse'}
    local before = images:get_weights()[1]
    local history = images:fit(nn.random.randn(8, 16), nn.random.randn(8, 1),
                               {epochs = 2, verbose = 0})
    t.eq(#history.history.loss, 2, device .. ': trained')
    t.truthy((images:get_weights()[1] - before):abs():max() > 0, device .. ': kernel moved')
  end
end)

t.test('a model with Reshape saves and loads', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-reshape'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Dense{12, input_shape = {3}}, L.Reshape{{-1, 4}}, L.Flatten(),
                              L.Dense{2}}
  local x = nn.random.randn(5, 3)
  model:save(directory .. '/reshape.nnsh')
  local copy = nn.models.load_model(directory .. '/reshape.nnsh')
  t.eq(tostring(copy.layers[2].output_shape), '(None, 3, 4)', 'shape after loading')
  t.eq(copy.layers[2].target_shape[1], -1, 'the -1 is kept, as Keras writes it')
  t.eq(L.Reshape{{7, -1}}:get_config().target_shape[2], -1, 'get_config keeps -1')
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
end)

t.finish()
