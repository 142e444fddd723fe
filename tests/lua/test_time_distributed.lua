-- TimeDistributed as Keras: one layer applied to every step of (batch, steps, ...), with the
-- same weights for every step. Its values and one training step equal the wrapped layer's on
-- the steps laid out as samples; it freezes, saves and masks as that layer would; bad uses
-- are errors that say what was expected, after which the session goes on.
local t = require 'harness'
local L = nn.layers

local function predict(model, x) return model:predict(x, {verbose = 0}) end

t.test('a convolution on each frame: shapes, parameters and the explanation', function()
  local td = L.TimeDistributed{L.Conv2D{4, {3, 3}, activation = 'relu'},
                               input_shape = {5, 8, 8, 1}}
  local model = nn.Sequential{td}
  t.eq(tostring(td.output_shape), '(None, 5, 6, 6, 4)', 'output shape')
  t.eq(td:count_params(), 40, 'parameters: 3*3*1*4 + 4')
  t.eq(tostring(td.kernel.shape), '(3, 3, 1, 4)', 'the kernel is the wrapped layer\'s')
  t.eq(tostring(td.bias.shape), '(4,)', 'bias')
  t.truthy(td.explanation:find('on each of the 5 steps: (None, 8, 8, 1) -> (None, 6, 6, 4)',
                               1, true), td.explanation)
  local summary = t.capture(function() model:summary() end)
  t.truthy(summary:find('(None, 5, 6, 6, 4)', 1, true), summary)
  t.truthy(summary:find('Total params: 40', 1, true), summary)
  t.eq(nn.describe_layer(L.TimeDistributed{L.TimeDistributed{L.Dense{3, activation = 'relu'}}}),
       'TimeDistributed(TimeDistributed(Dense(3, relu)))', 'the flow chart names the layer inside')
end)

t.test('its output is the wrapped layer\'s on the steps as samples, exactly', function()
  nn.random.seed(3)
  local td = L.TimeDistributed{L.Conv2D{4, {3, 3}, activation = 'tanh'}}
  local x = nn.random.randn(3, 5, 8, 8, 2)
  local out = td(x)
  t.eq(tostring(out.shape), '(3, 5, 6, 6, 4)', 'shape')
  local conv = L.Conv2D{4, {3, 3}, activation = 'tanh'}
  local rows = x:reshape(15, 8, 8, 2)
  conv(rows)
  conv:set_weights(td:get_weights())
  t.near(out:reshape(15, 6, 6, 4), conv(rows), 0, 'every value')
end)

t.test('one SGD step equals the wrapped layer\'s on the steps as samples', function()
  nn.random.seed(4)
  local td = L.TimeDistributed{L.Conv2D{3, {3, 3}, activation = 'tanh'}, input_shape = {4, 6, 6, 2}}
  local wrapped = nn.Sequential{td}
  local conv = L.Conv2D{3, {3, 3}, activation = 'tanh', input_shape = {6, 6, 2}}
  local plain = nn.Sequential{conv}
  conv:set_weights(td:get_weights())
  for _, model in ipairs{wrapped, plain} do
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5}, loss = 'mse'}
  end
  local x, y = nn.random.randn(2, 4, 6, 6, 2), nn.random.randn(2, 4, 4, 4, 3)
  local loss_wrapped = wrapped:train_on_batch(x, y)
  local loss_plain = plain:train_on_batch(x:reshape(8, 6, 6, 2), y:reshape(8, 4, 4, 3))
  t.near(loss_wrapped, loss_plain, 1e-6, 'loss')
  local a, b = td:get_weights(), conv:get_weights()
  t.near(a[1], b[1], 1e-6, 'kernel after the step')
  t.near(a[2], b[2], 1e-6, 'bias after the step')
  t.truthy((a[1] - td:get_weights()[1]):abs():max() == 0, 'get_weights is stable')
end)

t.test('a softmax Dense on each step, last in the model, trains as Dense on the last axis', function()
  -- The loss is taken from the wrapped layer's logits, as from a Dense of the model's own.
  nn.random.seed(5)
  local td = L.TimeDistributed{L.Dense{3, activation = 'softmax'}, input_shape = {6, 4}}
  local dense = L.Dense{3, activation = 'softmax', input_shape = {6, 4}}
  local wrapped, plain = nn.Sequential{td}, nn.Sequential{dense}
  dense:set_weights(td:get_weights())
  for _, model in ipairs{wrapped, plain} do
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1},
                  loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  end
  local x, y = nn.random.randn(5, 6, 4), nn.random.randint(0, 3, 5, 6)
  local h1 = wrapped:fit(x, y, {epochs = 3, batch_size = 5, shuffle = false, verbose = 0})
  local h2 = plain:fit(x, y, {epochs = 3, batch_size = 5, shuffle = false, verbose = 0})
  for e = 1, 3 do
    t.near(h1.history.loss[e], h2.history.loss[e], 1e-6, 'loss of epoch ' .. e)
    t.near(h1.history.accuracy[e], h2.history.accuracy[e], 1e-6, 'accuracy of epoch ' .. e)
  end
  t.near(td.kernel, dense.kernel, 1e-6, 'kernel')
end)

t.test('an LSTM inside starts with its forget-gate bias at 1, as it would alone', function()
  local td = L.TimeDistributed{L.LSTM{2}}
  td(nn.zeros(1, 3, 4, 5))
  t.near(td.bias, nn.tensor{0, 0, 1, 1, 0, 0, 0, 0}, 0, 'bias (i, f, c, o)')
end)

t.test('the layer given is copied: it stays unbuilt and its own', function()
  local dense = L.Dense{4, name = 'per_step'}
  local td = L.TimeDistributed{dense}
  td(nn.zeros(2, 3, 5))
  t.eq(dense.built, false, 'the original is not built')
  t.raises(function() return dense.kernel end, 'has no kernel yet')
  t.eq(td:get_config().layer.class_name, 'Dense', 'config.layer.class_name')
  t.eq(td:get_config().layer.config.units, 4, 'config.layer.config.units')
  t.eq(td:get_config().layer.config.name, 'per_step', 'the copy keeps the name')
  -- used on its own afterwards, the original makes weights of its own
  t.eq(tostring(dense(nn.zeros(2, 7)).shape), '(2, 4)', 'the original on its own')
end)

t.test('trainable = false freezes the wrapped weights', function()
  nn.random.seed(6)
  local td = L.TimeDistributed{L.Dense{3}, input_shape = {4, 2}}
  local model = nn.Sequential{td, L.Flatten(), L.Dense{1}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  td.trainable = false
  local before = td:get_weights()
  model:fit(nn.random.randn(8, 4, 2), nn.random.randn(8, 1), {epochs = 2, verbose = 0})
  t.near(td:get_weights()[1], before[1], 0, 'kernel unchanged')
  t.eq(#td.trainable_weights, 0, 'no trainable weights')
  t.eq(#td.non_trainable_weights, 2, 'two frozen weights')
end)

t.test('a frozen layer stays frozen when wrapped, unless the wrapper says otherwise', function()
  local frozen = L.Dense{3, trainable = false}
  local td = L.TimeDistributed{frozen}
  td(nn.zeros(1, 2, 4))
  t.eq(td.trainable, false, 'the wrapper is frozen')
  t.eq(#td.trainable_weights, 0, 'no trainable weights')
  local thawed = L.TimeDistributed{L.Dense{3, trainable = false}, trainable = true}
  thawed(nn.zeros(1, 2, 4))
  t.eq(#thawed.trainable_weights, 2, 'trainable=true given to the wrapper decides')
end)

t.test('a frozen BatchNormalization inside keeps its moving statistics', function()
  nn.random.seed(13)
  local td = L.TimeDistributed{L.BatchNormalization{}, input_shape = {3, 4}}
  local model = nn.Sequential{td, L.Flatten(), L.Dense{1}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local x, y = nn.random.randn(8, 3, 4) * 3 + 2, nn.random.randn(8, 1)
  td.trainable = false
  model:fit(x, y, {epochs = 1, verbose = 0})
  t.near(td.moving_mean, nn.zeros(4), 0, 'moving mean unchanged')
  t.near(td.moving_variance, nn.ones(4), 0, 'moving variance unchanged')
  td.trainable = true
  model:fit(x, y, {epochs = 1, verbose = 0})
  t.truthy(td.moving_mean:abs():max() > 0.01, 'unfrozen, the moving mean moves')
end)

-- The wrapped layer sees (batch * steps) samples, as in tf.keras 2, which divided an
-- activity penalty by the rows the layer saw: the wrapped Dense's penalty is the plain
-- Dense's (on the same 3-D input, divided by the batch alone) over the 5 steps.
t.test('an activity penalty on the wrapped layer is divided by batch * steps', function()
  nn.random.seed(14)
  local td = L.TimeDistributed{L.Dense{3, activity_regularizer = nn.regularizers.L2{0.1}},
                               input_shape = {5, 4}}
  local dense = L.Dense{3, activity_regularizer = nn.regularizers.L2{0.1}, input_shape = {5, 4}}
  local wrapped, plain = nn.Sequential{td, L.Flatten(), L.Dense{1}},
                         nn.Sequential{dense, L.Flatten(), L.Dense{1}}
  local bare = nn.Sequential{L.Dense{3, input_shape = {5, 4}}, L.Flatten(), L.Dense{1}}
  plain:set_weights(wrapped:get_weights())
  bare:set_weights(wrapped:get_weights())
  for _, model in ipairs{wrapped, plain, bare} do
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = 'mse'}
  end
  local x, y = nn.random.randn(6, 5, 4), nn.random.randn(6, 1)
  local data = bare:evaluate(x, y, {verbose = 0})
  local plain_penalty = plain:evaluate(x, y, {verbose = 0}) - data
  t.truthy(plain_penalty > 1e-3, 'the plain Dense has a penalty')
  for _, batch_size in ipairs{6, 4, 1} do
    t.near(wrapped:evaluate(x, y, {batch_size = batch_size, verbose = 0}) - data,
           plain_penalty / 5, 1e-5, 'wrapped penalty, batch_size ' .. batch_size)
  end
  -- nested wrappers divide by every wrapped axis: (batch * 2 * 5) rows, as one wrapper
  -- over the same values as (batch, 10, 4)
  nn.random.seed(15)
  local twice = nn.Sequential{
    L.TimeDistributed{L.TimeDistributed{L.Dense{3, activity_regularizer = nn.regularizers.L2{0.1}}},
                      input_shape = {2, 5, 4}}, L.Flatten(), L.Dense{1}}
  local once = nn.Sequential{
    L.TimeDistributed{L.Dense{3, activity_regularizer = nn.regularizers.L2{0.1}}, input_shape = {10, 4}},
    L.Flatten(), L.Dense{1}}
  once:set_weights(twice:get_weights())
  local x2, y2 = nn.random.randn(3, 2, 5, 4), nn.random.randn(3, 1)
  for _, model in ipairs{twice, once} do model:compile{optimizer = 'sgd', loss = 'mse'} end
  t.near(twice:evaluate(x2, y2, {verbose = 0}), once:evaluate(x2:reshape(3, 10, 4), y2, {verbose = 0}),
         1e-5, 'two wrappers')
end)

t.test('a mask passes through a Dense on each step and reaches the LSTM', function()
  nn.random.seed(7)
  local embedding = L.Embedding{10, 4, mask_zero = true, input_shape = {6}}
  local model = nn.Sequential{embedding, L.TimeDistributed{L.Dense{5, activation = 'tanh'}},
                              L.LSTM{3}}
  local padded = nn.tensor{{0, 0, 3, 4, 5, 6}, {0, 0, 7, 1, 2, 9}}
  local short = nn.Sequential{L.Embedding{10, 4, input_shape = {4}},
                              L.TimeDistributed{L.Dense{5, activation = 'tanh'}}, L.LSTM{3}}
  for i, layer in ipairs(model.layers) do short.layers[i]:set_weights(layer:get_weights()) end
  t.near(predict(model, padded), predict(short, nn.tensor{{3, 4, 5, 6}, {7, 1, 2, 9}}), 1e-6,
         'padding before changes nothing')
end)

t.test('an Embedding with mask_zero on each step masks each step\'s own sequence', function()
  -- (batch, sentences, words): the LSTM on each sentence skips its padding.
  nn.random.seed(8)
  local padded = nn.Sequential{L.TimeDistributed{L.Embedding{10, 4, mask_zero = true},
                                                 input_shape = {2, 5}},
                               L.TimeDistributed{L.LSTM{3}}}
  local plain = nn.Sequential{L.TimeDistributed{L.Embedding{10, 4}, input_shape = {2, 3}},
                              L.TimeDistributed{L.LSTM{3}}}
  for i, layer in ipairs(padded.layers) do plain.layers[i]:set_weights(layer:get_weights()) end
  local words = nn.tensor{{{4, 5, 6}, {1, 2, 3}}, {{7, 8, 9}, {3, 3, 1}}}
  local with_padding = nn.tensor{{{4, 5, 6, 0, 0}, {1, 2, 3, 0, 0}},
                                 {{7, 8, 9, 0, 0}, {3, 3, 1, 0, 0}}}
  local out = predict(padded, with_padding)
  t.eq(tostring(out.shape), '(2, 2, 3)', 'one state per sentence')
  t.near(out, predict(plain, words), 1e-6, 'padding after each sentence changes nothing')
end)

t.test('a mask that reaches a wrapped layer which cannot take one is refused', function()
  t.raises(function()
    return nn.Sequential{L.Embedding{10, 4, mask_zero = true, input_shape = {6}},
                         L.TimeDistributed{L.Reshape{{2, 2}}}}
  end, '(TimeDistributed) cannot take the mask', 'Reshape does not support masking')
end)

t.test('a model file keeps the wrapped layer, its weights and its randomness', function()
  nn.random.seed(9)
  local model = nn.Sequential{
    L.TimeDistributed{L.Conv2D{2, {3, 3}, activation = 'relu'}, input_shape = {3, 5, 5, 1}},
    L.TimeDistributed{L.TimeDistributed{L.Dropout{0.4}}},
    L.TimeDistributed{L.Flatten()}, L.GRU{3}, L.Dense{2, activation = 'softmax'}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
  local x, y = nn.random.randn(6, 3, 5, 5, 1), nn.random.randint(0, 2, 6)
  model:fit(x, y, {epochs = 1, verbose = 0})
  local path = os.getenv('NNSH_TEST_TMP') .. '/time_distributed.nnsh'
  model:save(path)
  local copy = nn.models.load_model(path)
  t.near(predict(copy, x), predict(model, x), 0, 'predictions')
  t.eq(copy.layers[2]:get_config().layer.class_name, 'TimeDistributed', 'nested wrapper')
  t.near(copy.layers[2]:get_config().layer.config.layer.config.rate, 0.4, 1e-7, 'its Dropout')
  local a = model:fit(x, y, {epochs = 1, verbose = 0, shuffle = false})
  local b = copy:fit(x, y, {epochs = 1, verbose = 0, shuffle = false})
  t.eq(a.history.loss[1], b.history.loss[1], 'the same training step, dropout included')
  os.remove(path)
end)

t.test('training on the emulated device gives the CPU\'s weights exactly', function()
  -- The wrapped layer runs wherever the wrapper's weights are.
  local x = nn.random.randn(6, 3, 5, 5, 1)
  local y = nn.random.randint(0, 2, 6)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(12)
    local model = nn.Sequential{
      L.TimeDistributed{L.Conv2D{2, {3, 3}, activation = 'relu'}, input_shape = {3, 5, 5, 1}},
      L.TimeDistributed{L.BatchNormalization{}}, L.TimeDistributed{L.Dropout{0.3}},
      L.TimeDistributed{L.Flatten()}, L.LSTM{3}, L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 3, verbose = 0})
    weights[device] = model:get_weights()
  end
  t.eq(#weights.cpu, 11, 'weights: 2 + 4 + 3 + 2')
  for i = 1, #weights.cpu do
    t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i .. ' equal on cpu and emulated')
  end
end)

t.test('bad uses say what was expected, and the session goes on', function()
  t.raises(function() return L.TimeDistributed{} end, 'nn.layers.TimeDistributed',
           'expected a layer to wrap', 'got nil')
  t.raises(function() return L.TimeDistributed{'Dense'} end, 'expected a layer to wrap',
           'got string')
  t.raises(function()
    local built = L.Dense{4}
    built(nn.zeros(1, 3))
    return L.TimeDistributed{built}
  end, 'not built yet', 'is built already')
  t.raises(function() return L.TimeDistributed{L.Dense{4, input_shape = {3}}} end,
           'takes no input_shape', 'TimeDistributed{layer, input_shape=')
  t.raises(function() return L.TimeDistributed{L.Dense{4}, L.Dense{5}} end,
           'one positional argument', 'position 2')
  t.raises(function() return L.TimeDistributed{L.Dense{4}, layer = L.Dense{5}} end,
           'given twice')
  t.raises(function() return L.TimeDistributed{L.Dense{4}, units = 3} end,
           "unknown argument 'units'", 'name, input_shape')
  t.raises(function() return L.TimeDistributed{L.Dense{4}}(nn.zeros(2, 3)) end,
           'expects (batch, steps, ...)', 'found shape (None, 3)')
  t.raises(function() return L.TimeDistributed{L.Dense{4}}:build(-1, -1, 4) end,
           'needs a known number of steps', '(None, None, 4)')
  t.raises(function()
    return nn.Sequential{L.TimeDistributed{L.Conv2D{4, 3}, input_shape = {3, 5}}}
  end, 'applying "conv2d', 'to each step (None, 5) of its input (None, 3, 5)', 'expected ndim=4')
  t.raises(function()
    return nn.Sequential{L.Dense{4, input_shape = {3, 5}}, L.TimeDistributed{L.Embedding{10, 3}}}
  end, 'must be the model\'s first layer')
  local model = nn.Sequential{L.TimeDistributed{L.Embedding{10, 3}, input_shape = {4, 5}}}
  t.raises(function() return predict(model, nn.full({2, 4, 5}, 12)) end,
           'input[0, 0, 0] = 12 is not a valid index')
  t.eq(tostring(predict(model, nn.ones(2, 4, 5)).shape), '(2, 4, 5, 3)', 'the session goes on')
end)

t.finish()
