-- RepeatVector, SpatialDropout1D and Permute: Keras' shapes, values and gradients by hand,
-- masks shared along the steps, model files and errors.
local t = require 'harness'
local L = nn.layers

t.test('RepeatVector repeats each vector n times', function()
  local r = L.RepeatVector{3}
  t.eq(r(nn.tensor{{1, 2}, {3, 4}}), nn.tensor{{{1, 2}, {1, 2}, {1, 2}}, {{3, 4}, {3, 4}, {3, 4}}},
       'values')
  t.eq(r.n, 3, 'n')
  t.eq(r.name:match('^repeat_vector'), 'repeat_vector', 'name')
  local model = nn.Sequential{L.LSTM{8, input_shape = {5, 2}}, L.RepeatVector{5},
                              L.LSTM{4, return_sequences = true}, L.Dense{2}}
  t.eq(tostring(model.layers[2].output_shape), '(None, 5, 8)', 'encoder state made a sequence')
  t.eq(model.layers[2]:count_params(), 0, 'no weights')
end)

t.test("RepeatVector's gradient sums the repeats", function()
  -- x = [1, 2] through an identity Dense, repeated 3 times, flattened and weighed by
  -- w = 1..6: y = 1·1 + 2·2 + 3·1 + 4·2 + 5·1 + 6·2 = 33. Under mse against 0,
  -- dL/dy = 66 and dL/dh = 66 · [1 + 3 + 5, 2 + 4 + 6] = [594, 792]; the kernel's
  -- gradient is x^T dL/dh, and SGD at 0.001 moves it by a thousandth of that.
  local first = L.Dense{2, use_bias = false, input_shape = {2}}
  local last = L.Dense{1}
  local model = nn.Sequential{first, L.RepeatVector{3}, L.Flatten(), last}
  first:set_weights{nn.tensor{{1, 0}, {0, 1}}}
  last:set_weights{nn.tensor{{1}, {2}, {3}, {4}, {5}, {6}}, nn.tensor{0}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.001}, loss = 'mse'}
  t.near(model:train_on_batch(nn.tensor{{1, 2}}, nn.tensor{{0}}), 33 * 33, 1e-3, 'loss')
  t.near(first:get_weights()[1], nn.tensor{{1 - 0.594, -0.792}, {-1.188, 1 - 1.584}}, 1e-5,
       'kernel after one step')
end)

t.test('SpatialDropout1D drops whole features along the steps', function()
  local d = L.SpatialDropout1D{0.5, seed = 3}
  local x = nn.ones(64, 5, 8)
  t.eq(d(x), x, 'inference passes through')
  local y = d(x, {training = true})
  local dropped = 0
  for b = 1, 64 do
    for f = 1, 8 do
      local first = y[b][1][f]
      t.truthy(first == 0 or first == 2, 'kept values scaled by 2, got ' .. first)
      for s = 2, 5 do t.eq(y[b][s][f], first, 'the same at every step') end
      if first == 0 then dropped = dropped + 1 end
    end
  end
  -- 512 draws at rate 0.5: 256 expected, standard deviation about 11.
  t.truthy(dropped > 210 and dropped < 302, dropped .. ' of 512 features dropped')
  local model = nn.Sequential{L.Embedding{20, 6, input_length = 4}, L.SpatialDropout1D{0.2},
                              L.GRU{3}, L.Dense{1}}
  t.eq(tostring(model.layers[2].output_shape), '(None, 4, 6)', 'shape unchanged')
end)

t.test('Permute reorders the axes of each sample', function()
  local x = nn.tensor{{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {10, 11, 12}}}
  t.eq(L.Permute{{2, 1}}(x), nn.tensor{{{1, 4}, {2, 5}, {3, 6}}, {{7, 10}, {8, 11}, {9, 12}}},
       'steps and features swapped')
  t.eq(tostring(L.Permute{{3, 1, 2}}(nn.ones(2, 4, 5, 6)).shape), '(2, 6, 4, 5)', 'channels first')
  local p = L.Permute{{2, 1}}
  t.eq(p.dims[1], 2, 'dims')
  t.eq(p.name:match('^permute'), 'permute', 'name')
  local model = nn.Sequential{L.Permute{{2, 1}, input_shape = {10, 64}}, L.Dense{8}}
  t.eq(tostring(model.layers[1].output_shape), '(None, 64, 10)', 'in a model')
end)

t.test('saved and loaded, and trained the same on cpu and emulated', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-sequence-helpers'
  nn.io.make_directory(directory)
  local x, y = nn.random.randn(16, 4, 3), nn.random.randn(16, 4, 1)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(31)
    local model = nn.Sequential{L.SpatialDropout1D{0.3, input_shape = {4, 3}},
                                L.Permute{{2, 1}}, L.Dense{4}, L.Permute{{2, 1}}, L.GRU{5},
                                L.RepeatVector{4}, L.SimpleRNN{2, return_sequences = true},
                                L.Dense{1}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'mse'}
    model:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/helpers.nnsh')
      local copy = nn.models.load_model(directory .. '/helpers.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[6].n, 4, 'n kept')
      t.eq(copy.layers[2].dims[1], 2, 'dims kept')
      t.eq(copy.layers[1].rate, model.layers[1].rate, 'rate kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.RepeatVector{} end, 'missing required argument', 'n')
  t.raises(function() L.RepeatVector{0} end, 'n')
  t.raises(function() L.RepeatVector{2}(nn.ones(2, 3, 4)) end, 'expected ndim=2', 'Full shape received: (2, 3, 4)')
  t.raises(function() L.Permute{} end, 'missing required argument', 'dims')
  t.raises(function() L.Permute{{1, 1}} end, 'must hold each of 1 to 2 once')
  t.raises(function() L.Permute{{0, 1}} end, 'dims')
  t.raises(function() L.Permute{{2, 1}}(nn.ones(2, 3, 4, 5)) end, 'orders 2 axes', 'has 3')
  t.raises(function() L.SpatialDropout1D{} end, 'missing required argument', 'rate')
  t.raises(function() L.SpatialDropout1D{1} end, 'rate')
  t.raises(function() L.SpatialDropout1D{0.5}(nn.ones(2, 3)) end, 'expected ndim=3')
  t.raises(function() nn.Sequential{L.LSTM{4, return_sequences = true, input_shape = {3, 2}},
                                    L.RepeatVector{2}} end, 'expected ndim=2', 'RepeatVector')
end)

t.finish()
