-- Keras' single-batch methods: train_on_batch, test_on_batch, predict_on_batch. Each
-- must do exactly what fit, evaluate and predict do with the whole input as one batch.
local t = require 'harness'
local L = nn.layers

local function make_model(device)
  nn.random.seed(7)
  local model = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}},
                              L.Dense{3, activation = 'softmax'}}
  model:to(device)
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy',
                metrics = {'accuracy'}}
  return model
end

local function same_weights(a, b, what)
  local wa, wb = a:get_weights(), b:get_weights()
  t.eq(#wa, #wb, what .. ': weight count')
  for i = 1, #wa do t.eq(wa[i], wb[i], what .. ': weight ' .. i) end
end

nn.random.seed(11)
local x = nn.random.randn(10, 4)
local y = nn.tensor{0, 1, 2, 0, 1, 2, 0, 1, 2, 0}

t.test('two train_on_batch calls are two steps of fit with one batch, optimizer state kept', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local stepped, fitted = make_model(device), make_model(device)
    local loss1, accuracy1 = stepped:train_on_batch(x, y)
    local loss2 = stepped:train_on_batch(x, y)
    local history = fitted:fit(x, y, {epochs = 2, batch_size = 10, shuffle = false, verbose = 0})
    t.eq(loss1, history.history.loss[1], device .. ': first loss (before the step)')
    t.eq(accuracy1, history.history.accuracy[1], device .. ': first accuracy')
    t.eq(loss2, history.history.loss[2], device .. ': second loss')
    t.truthy(loss2 < loss1, device .. ': the step lowered the loss')
    same_weights(stepped, fitted, device)
  end
end)

t.test('train_on_batch takes sample_weight and class_weight, and return_dict', function()
  local weighted, classed = make_model('cpu'), make_model('cpu')
  local weights = {}
  for i = 1, 10 do weights[i] = ({[0] = 2, 1, 0.5})[y[i]] end
  local loss = weighted:train_on_batch(x, y, {sample_weight = weights})
  local logs = classed:train_on_batch(x, y, {class_weight = {[0] = 2, [1] = 1, [2] = 0.5},
                                             return_dict = true})
  t.eq(logs.loss, loss, 'class weights are per-sample weights by label')
  t.truthy(logs.accuracy ~= nil, 'the dict has the metric')
  same_weights(weighted, classed, 'weighted step')
  local plain = make_model('cpu')
  t.truthy(plain:train_on_batch(x, y) ~= loss, 'the weights change the loss')
end)

t.test('test_on_batch and predict_on_batch match evaluate and predict', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local model = make_model(device)
    local loss, accuracy = model:test_on_batch(x, y)
    local eval_loss, eval_accuracy = model:evaluate(x, y, {batch_size = 10, verbose = 0})
    t.eq(loss, eval_loss, device .. ': loss')
    t.eq(accuracy, eval_accuracy, device .. ': accuracy')
    local weighted = model:test_on_batch(x, y, {sample_weight = nn.ones(10) * 3})
    t.near(weighted, 3 * loss, 1e-6, device .. ': weighted loss')
    t.eq(model:test_on_batch(x, y, {return_dict = true}).accuracy, accuracy, device .. ': dict')
    t.eq(model:predict_on_batch(x), model:predict(x, {batch_size = 10, verbose = 0}),
         device .. ': predictions')
  end
end)

t.test('bad calls of the batch methods are refused and the model goes on', function()
  local model = make_model('cpu')
  local before = model:get_weights()
  t.raises(function() model:train_on_batch(x) end,
           'model:train_on_batch: expected labels y as argument 2')
  t.raises(function() model:train_on_batch(nn.zeros(10, 5), y) end,
           'model:train_on_batch: model "sequential', 'expects input of shape (None, 4)',
           'x has shape (10, 5)')
  t.raises(function() model:train_on_batch(x, nn.tensor{0, 1}) end,
           'model:train_on_batch: x has 10 samples but y has shape (2,)')
  t.raises(function() model:train_on_batch(x, y, {epochs = 2}) end,
           "model:train_on_batch: unknown option 'epochs'")
  t.raises(function() model:train_on_batch(x, y, {sample_weight = {1, 2}}) end,
           'model:train_on_batch: sample_weight must hold one weight per sample')
  t.raises(function() model:test_on_batch(x) end, 'model:test_on_batch: expected labels y')
  t.raises(function() model:test_on_batch(x, y, {batch_size = 2}) end,
           "model:test_on_batch: unknown option 'batch_size'")
  t.raises(function() model:predict_on_batch(x, {verbose = 0}) end,
           'model:predict_on_batch: expected only x')
  t.raises(function() model:predict_on_batch('x') end, 'model:predict_on_batch')
  local fresh = nn.Sequential{L.Dense{2, input_shape = {4}}}
  t.raises(function() fresh:train_on_batch(x, y) end,
           'model:train_on_batch: model "sequential', 'must be compiled first')
  local after = model:get_weights()
  for i = 1, #before do t.eq(after[i], before[i], 'weight ' .. i .. ' untouched') end
  t.truthy(model:train_on_batch(x, y) > 0, 'the model still trains')
end)

t.finish()
