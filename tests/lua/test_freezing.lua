-- Freezing layers, as Keras' layer.trainable = False: fit leaves a frozen layer's weights
-- alone while the layers around it learn, the counts move to non-trainable, a frozen
-- BatchNormalization normalises with its moving statistics and keeps them, and models
-- with frozen layers save and load.
local t = require 'harness'
local L = nn.layers

local function same(a, b, what)
  t.eq((a - b):abs():max(), 0, what)
end

local function moved(a, b, what)
  t.truthy((a - b):abs():max() > 1e-6, what)
end

nn.random.seed(21)
local x, y = nn.random.randn(32, 3), nn.random.randn(32, 2)

-- Saves a model whose first layer is frozen, loads it, and trains both on from the same
-- random state: the copy must stay frozen and end with the same weights.
local function saves_and_trains_on(model, file)
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/' .. file
  model:save(path)
  local loaded = nn.models.load_model(path)
  t.eq(loaded.layers[1].trainable, false, file .. ': still frozen')
  nn.random.seed(9)
  model:fit(x, y, {epochs = 2, verbose = 0})
  nn.random.seed(9)
  loaded:fit(x, y, {epochs = 2, verbose = 0})
  local a, b = model:get_weights(), loaded:get_weights()
  for i = 1, #a do same(a[i], b[i], file .. ': weight ' .. i .. ' after training on') end
  os.remove(path)
end

t.test('a frozen layer keeps its weights while the others learn, on cpu and emulated', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(1)
    local first, second = L.Dense{4, activation = 'tanh', input_shape = {3}}, L.Dense{2}
    local model = nn.Sequential{first, second}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'mse'}
    model:fit(x, y, {epochs = 1, verbose = 0})
    first.trainable = false
    t.eq(model:count_params(), 26, device .. ': all weights still count')
    local text = t.capture(function() model:summary() end)
    t.truthy(text:find('Trainable params: 10', 1, true), device .. ': trainable count')
    t.truthy(text:find('Non-trainable params: 16', 1, true), device .. ': non-trainable count')
    t.eq(#first.trainable_weights, 0, device .. ': no trainable weights')
    t.eq(#first.non_trainable_weights, 2, device .. ': kernel and bias are non-trainable')
    local before = model:get_weights()
    model:fit(x, y, {epochs = 2, verbose = 0})
    local after = model:get_weights()
    same(after[1], before[1], device .. ': frozen kernel')
    same(after[2], before[2], device .. ': frozen bias')
    moved(after[3], before[3], device .. ': the next layer learns')
    first.trainable = true
    model:fit(x, y, {epochs = 1, verbose = 0})
    moved(model:get_weights()[1], before[1], device .. ': thawed, it learns again')
  end
end)

t.test('freezing is the same as training the rest alone', function()
  -- A model whose first layer is frozen from the start trains its second layer exactly as
  -- a model of that layer alone trains on the first layer's (fixed) outputs.
  nn.random.seed(3)
  local first = L.Dense{4, activation = 'tanh', input_shape = {3}, trainable = false}
  local second = L.Dense{2}
  local model = nn.Sequential{first, second}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  local features = first(x)
  local alone = nn.Sequential{L.Dense{2, input_shape = {4}}}
  alone:set_weights(second:get_weights())
  alone:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  local a = model:fit(x, y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0})
  local b = alone:fit(features, y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0})
  for epoch = 1, 3 do
    t.near(a.history.loss[epoch], b.history.loss[epoch], 1e-6, 'loss of epoch ' .. epoch)
  end
  local trained, reference = second:get_weights(), alone:get_weights()
  for i = 1, 2 do t.near((trained[i] - reference[i]):abs():max(), 0, 1e-6, 'weight ' .. i) end
end)

t.test('a frozen BatchNormalization normalises with its moving statistics and keeps them', function()
  nn.random.seed(5)
  local bn = L.BatchNormalization{input_shape = {3}}
  local model = nn.Sequential{bn, L.Dense{1}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local data = nn.random.randn(64, 3) * 3 + 2
  model:fit(data, nn.random.randn(64, 1), {epochs = 2, verbose = 0})
  bn.trainable = false
  local moving = bn:get_weights()
  -- In training mode it gives what inference gives: the moving statistics, not the batch's.
  t.near((bn(data, {training = true}) - bn(data)):abs():max(), 0, 1e-6,
         'training output equals inference output')
  model:fit(data, nn.random.randn(64, 1), {epochs = 2, verbose = 0})
  local now = bn:get_weights()
  for i = 1, #moving do same(now[i], moving[i], 'batch normalization weight ' .. i) end
end)

t.test('a model with a frozen layer saves and loads, and trains on identically', function()
  nn.random.seed(8)
  local first = L.Dense{4, activation = 'relu', input_shape = {3}}
  local model = nn.Sequential{first, L.Dense{2}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  model:fit(x, y, {epochs = 1, verbose = 0})
  first.trainable = false
  model:fit(x, y, {epochs = 1, verbose = 0})
  saves_and_trains_on(model, 'frozen.safetensors')
end)

t.test('thawing and compiling again, then saving a model frozen since its last run', function()
  -- Both once went past the end of buffers sized for the weights that trained before.
  nn.random.seed(12)
  local base = L.Dense{64, activation = 'relu', input_shape = {3}, trainable = false}
  local model = nn.Sequential{base, L.Dense{2}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  model:fit(x, y, {epochs = 1, verbose = 0})
  base.trainable = true
  model:compile{optimizer = nn.optimizers.AdamW{weight_decay = 0.1}, loss = 'mse'}
  local before = model:get_weights()[1]
  model:fit(x, y, {epochs = 1, verbose = 0})
  moved(model:get_weights()[1], before, 'thawed base learns after compiling again')
  base.trainable = false
  saves_and_trains_on(model, 'frozen_since.safetensors')
end)

t.test('a frozen layer keeps out of constraints and weight penalties, as Keras 3', function()
  nn.random.seed(14)
  local frozen = L.Dense{4, input_shape = {3}, trainable = false,
                         kernel_constraint = nn.constraints.MaxNorm{max_value = 0.1},
                         kernel_regularizer = nn.regularizers.l2(10)}
  local model = nn.Sequential{frozen, L.Dense{2}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = 'mse'}
  local kernel = frozen:get_weights()[1]
  local difference = model:predict(x, {verbose = 0}) - y
  t.near(model:evaluate(x, y, {verbose = 0}), (difference * difference):mean(), 1e-5,
         'no penalty from a frozen kernel')
  model:fit(x, y, {epochs = 1, verbose = 0})
  same(frozen:get_weights()[1], kernel, 'MaxNorm left the frozen kernel alone')
  local text = t.capture(function() model:summary{explain = true} end)
  t.truthy(text:find('kernel 3*4 (12) [non-trainable]', 1, true), 'explain marks frozen weights')
end)

t.test('a model compiled with learning_rate 0 saves and loads', function()
  local model = nn.Sequential{L.Dense{2, input_shape = {3}}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0}, loss = 'mse'}
  model:fit(x, y, {epochs = 1, verbose = 0})
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/rate0.safetensors'
  model:save(path)
  t.eq(nn.models.load_model(path).learning_rate, 0, 'learning rate 0 loaded')
  os.remove(path)
end)

t.test('trainable takes only booleans, and not while the model runs', function()
  local layer = L.Dense{2, input_shape = {3}}
  t.raises(function() layer.trainable = 0 end, 'trainable must be true or false, got integer')
  t.raises(function() layer.units = 3 end, "field 'units' cannot be set (settable: trainable)")
  t.raises(function() L.Dense{2, trainable = 'no'} end,
           'nn.layers.Dense: trainable must be true or false, got string')
  local model = nn.Sequential{layer}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local callback = {on_epoch_end = function() layer.trainable = false end}
  t.raises(function() model:fit(x, y, {epochs = 1, verbose = 0, callbacks = {callback}}) end,
           'trainable cannot change while model')
  t.eq(layer.trainable, true, 'unchanged')
  t.truthy(model:fit(x, y, {epochs = 1, verbose = 0}).history.loss[1] > 0, 'the model still trains')
end)

t.test('model.trainable freezes and thaws every layer; the model lists its weights as Keras', function()
  local model = nn.Sequential{L.Dense{4, input_shape = {3}}, L.BatchNormalization{}, L.Dense{2}}
  -- kernel, bias; gamma, beta (moving mean and variance never train); kernel, bias
  t.eq(#model.weights, 8)
  t.eq(#model.trainable_weights, 6)
  t.eq(#model.non_trainable_weights, 2)
  t.eq(tostring(model.weights[3].shape), '(4,)')
  t.eq(tostring(model.trainable_weights[5].shape), '(4, 2)')
  t.eq(model.trainable, true)
  -- the lists hold views: a layer's weight and the model's are one tensor
  model.weights[6]:fill(0.5)
  t.eq(model.layers[2].moving_variance:mean(), 0.5, 'a view of the moving variance')
  model.trainable = false
  t.eq(model.trainable, false)
  t.eq(#model.trainable_weights, 0)
  t.eq(#model.non_trainable_weights, 8)
  for i = 1, 3 do t.eq(model.layers[i].trainable, false, 'layer ' .. i) end
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local first = model.weights[1]:clone()
  model:fit(x, y, {epochs = 1, verbose = 0})
  same(model.weights[1], first, 'a frozen model does not train')
  model.layers[3].trainable = true
  t.eq(model.trainable, true, 'true while any layer trains')
  t.eq(#model.trainable_weights, 2)
  model.trainable = true
  t.eq(#model.trainable_weights, 6)
  model:fit(x, y, {epochs = 1, verbose = 0})
  moved(model.weights[1], first, 'thawed, it trains')
  t.eq(#nn.Sequential{L.Dense{2}}.weights, 0, 'a model not built has no weights yet')
  t.raises(function() model.trainable = 'no' end, 'model.trainable must be true or false, got string')
  t.raises(function() model.units = 3 end, "cannot be set", 'trainable')
  local callback = {on_epoch_end = function() model.trainable = false end}
  t.raises(function() model:fit(x, y, {epochs = 1, verbose = 0, callbacks = {callback}}) end,
           'trainable cannot change while model')
end)

t.finish()
