-- Keras 3 options of losses, fit and the optimizers: label_smoothing, validation_freq,
-- validation_batch_size, exclude_from_weight_decay. Expected numbers are worked out by
-- hand from Keras' formulas in the comments.
local t = require 'harness'
local L = nn.layers

-- Dense{3, softmax} with a zero kernel and bias (0, ln 2, ln 5): every row predicts
-- softmax = (1/8, 2/8, 5/8) whatever x is.
local function softmax_model(loss, device)
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  model:to(device)
  model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1}, loss = loss,
                metrics = {'accuracy'}}
  return model
end

t.test('CategoricalCrossentropy{label_smoothing} smooths the loss in evaluate and fit, not accuracy', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- Keras 3: target = y·(1 - 0.3) + 0.3/3, so one-hot class 0 becomes (0.8, 0.1, 0.1)
    -- and the loss is -(0.8 ln 1/8 + 0.1 ln 2/8 + 0.1 ln 5/8).
    local smoothed = 0.8 * math.log(8) + 0.1 * math.log(4) + 0.1 * math.log(8 / 5)
    local x, y = nn.zeros(2, 2), nn.tensor{{1, 0, 0}, {1, 0, 0}}
    local model = softmax_model(nn.losses.CategoricalCrossentropy{label_smoothing = 0.3}, device)
    local loss, accuracy = model:evaluate(x, y, {verbose = 0})
    t.near(loss, smoothed, 1e-6, device .. ': evaluate loss (' .. math.log(8) .. ' unsmoothed)')
    t.near(accuracy, 0, 0, device .. ': argmax 2 against class 0')
    -- fit reports the loss of the weights it started from, and SGD(1) moves the bias by
    -- -(softmax - target) = -(1/8 - 0.8, 2/8 - 0.1, 5/8 - 0.1) (both rows agree).
    local history = model:fit(x, y, {epochs = 1, batch_size = 2, shuffle = false, verbose = 0})
    t.near(history.history.loss[1], smoothed, 1e-6, device .. ': fit loss')
    local bias = model:get_weights()[2]
    t.near(bias:flatten()[1], 0.675, 1e-6, device .. ': bias 1')
    t.near(bias:flatten()[2], math.log(2) - 0.15, 1e-6, device .. ': bias 2')
    t.near(bias:flatten()[3], math.log(5) - 0.525, 1e-6, device .. ': bias 3')
    -- Without smoothing the loss is ln 8 as before.
    local plain = softmax_model(nn.losses.CategoricalCrossentropy{}, device)
    t.near(plain:evaluate(x, y, {verbose = 0}), math.log(8), 1e-6, device .. ': unsmoothed')
  end
end)

t.test('BinaryCrossentropy{label_smoothing} smooths toward 0.5 and keeps binary accuracy', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- sigmoid(ln 3) = 0.75. Keras 3: target = 1·(1 - 0.2) + 0.5·0.2 = 0.9, so the loss is
    -- -(0.9 ln 0.75 + 0.1 ln 0.25); the prediction still counts as right (0.75 > 0.5).
    local model = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {1}}}
    model:to(device)
    model:set_weights{nn.zeros(1, 1), nn.tensor{math.log(3)}}
    model:compile{optimizer = 'sgd', metrics = {'accuracy'},
                  loss = nn.losses.BinaryCrossentropy{label_smoothing = 0.2}}
    local loss, accuracy = model:evaluate(nn.zeros(4, 1), nn.ones(4), {verbose = 0})
    t.near(loss, -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)), 1e-6, device .. ': loss')
    t.eq(accuracy, 1, device .. ': accuracy compares the labels as given')
    -- from_logits with a linear output: the same formula on sigmoid(ln 3).
    local logits = nn.Sequential{L.Dense{1, input_shape = {1}}}
    logits:to(device)
    logits:set_weights{nn.zeros(1, 1), nn.tensor{math.log(3)}}
    logits:compile{optimizer = 'sgd',
                   loss = nn.losses.BinaryCrossentropy{from_logits = true, label_smoothing = 0.2}}
    t.near(logits:evaluate(nn.zeros(4, 1), nn.ones(4), {verbose = 0}),
           -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)), 1e-6, device .. ': from_logits')
  end
end)

t.test('label_smoothing is checked: range, and only the losses that take it', function()
  local model = nn.Sequential{L.Dense{3, input_shape = {2}}}
  -- where the loss is made, and in compile for a table written by hand
  t.raises(function() nn.losses.CategoricalCrossentropy{label_smoothing = 1.5} end,
           'nn.losses.CategoricalCrossentropy: label_smoothing must be between 0 and 1, got 1.5')
  t.raises(function()
    model:compile{optimizer = 'sgd',
                  loss = {name = 'categorical_crossentropy', label_smoothing = 1.5}}
  end, 'model:compile: label_smoothing must be between 0 and 1, got 1.5')
  t.raises(function() nn.losses.SparseCategoricalCrossentropy{label_smoothing = 0.1} end,
           "nn.losses.SparseCategoricalCrossentropy: unknown option 'label_smoothing'")
  t.raises(function()
    model:compile{optimizer = 'sgd',
                  loss = {name = 'sparse_categorical_crossentropy', label_smoothing = 0.1}}
  end, "model:compile: unknown option 'label_smoothing'")
  t.raises(function() nn.losses.MeanSquaredError{label_smoothing = 0.1} end,
           "unknown option 'label_smoothing'")
end)

t.test('a saved model keeps label_smoothing', function()
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/label_smoothing.safetensors'
  local model = softmax_model(nn.losses.CategoricalCrossentropy{label_smoothing = 0.3}, 'cpu')
  model:save(path)
  local loaded = nn.models.load_model(path)
  local x, y = nn.zeros(2, 2), nn.tensor{{1, 0, 0}, {1, 0, 0}}
  t.near(loaded:evaluate(x, y, {verbose = 0}),
         0.8 * math.log(8) + 0.1 * math.log(4) + 0.1 * math.log(8 / 5), 1e-6, 'loaded loss')
  os.remove(path)
end)

-- ---- fit: validation_freq, validation_batch_size ----

local function small_problem()
  nn.random.seed(11)
  local model = nn.Sequential{L.Dense{4, activation = 'relu', input_shape = {3}},
                              L.Dense{2, activation = 'softmax'}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy',
                metrics = {'accuracy'}}
  return model, nn.random.randn(12, 3), nn.random.randint(0, 2, 12),
         nn.random.randn(7, 3), nn.random.randint(0, 2, 7)
end

t.test('validation_freq=2 validates after epochs 2 and 4 only; History lists only those', function()
  local model, x, y, xv, yv = small_problem()
  local logged = {}
  local spy = {on_epoch_end = function(_, epoch, logs) logged[epoch + 1] = logs.val_loss ~= nil end}
  local history = model:fit(x, y, {epochs = 4, batch_size = 4, verbose = 0, validation_freq = 2,
                                   validation_data = {xv, yv}, callbacks = {spy}})
  t.eq(#history.history.loss, 4, 'a loss per epoch')
  t.eq(#history.history.val_loss, 2, 'val_loss after epochs 2 and 4 (Keras 3 History)')
  t.eq(#history.history.val_accuracy, 2, 'val_accuracy likewise')
  t.eq(table.concat(history.keys, ' '), 'loss accuracy val_loss val_accuracy', 'key order')
  t.eq(tostring(logged[1]) .. ' ' .. tostring(logged[2]) .. ' ' .. tostring(logged[3]) .. ' ' ..
       tostring(logged[4]), 'false true false true', 'epoch logs carry val_ entries when validated')
  -- The last validation ran on the final weights with the batch size of the training.
  local loss, accuracy = model:evaluate(xv, yv, {batch_size = 4, verbose = 0})
  t.eq(history.history.val_loss[2], loss, 'val_loss of epoch 4')
  t.eq(history.history.val_accuracy[2], accuracy, 'val_accuracy of epoch 4')
  -- fit records the epochs of each key, and the chart draws val_ values there.
  t.eq(table.concat(history._key_epochs.val_loss, ' '), '2 4', 'val_loss measured at epochs 2, 4')
  t.eq(table.concat(history._key_epochs.loss, ' '), '1 2 3 4')
  local path = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/validation_freq.svg'
  t.eq(history:plot{file = path}, path)
  local svg = t.read_file(path)
  os.remove(path)
  t.truthy(svg:find('Val Loss', 1, true), 'the val_loss curve is drawn')
  t.truthy(svg:find('Val Accuracy', 1, true), 'the val_accuracy curve is drawn')
  -- A history put together by hand, with a shorter list and no epochs for it, leaves
  -- that curve out and says so.
  local text = t.capture(function()
    history._key_epochs = nil
    history:plot{width = 60}
  end)
  t.truthy(text:find('(val_loss, val_accuracy left out: measured on fewer epochs than were trained)',
                     1, true), text)
end)

t.test('validation_freq=3 over 2 epochs never validates, as Keras 3', function()
  local model, x, y, xv, yv = small_problem()
  local history = model:fit(x, y, {epochs = 2, verbose = 0, validation_freq = 3,
                                   validation_data = {xv, yv}})
  t.eq(#history.history.loss, 2)
  t.eq(history.history.val_loss, nil, 'no val_loss at all')
end)

t.test('validation_batch_size sets the validation batches, larger or smaller than batch_size', function()
  for _, size in ipairs{7, 3} do
    local model, x, y, xv, yv = small_problem()
    local history = model:fit(x, y, {epochs = 2, batch_size = 2, verbose = 0,
                                     validation_data = {xv, yv}, validation_batch_size = size})
    local loss, accuracy = model:evaluate(xv, yv, {batch_size = size, verbose = 0})
    t.eq(history.history.val_loss[2], loss, 'val_loss with validation_batch_size ' .. size)
    t.eq(history.history.val_accuracy[2], accuracy, 'val_accuracy ' .. size)
  end
  local model, x, y = small_problem()
  t.raises(function() model:fit(x, y, {verbose = 0, validation_freq = 0}) end,
           'model:fit: validation_freq must be between 1 and 1000000, got 0')
  t.raises(function() model:fit(x, y, {verbose = 0, validation_batch_size = 0}) end,
           'model:fit: validation_batch_size must be between 1 and')
  t.raises(function() model:fit(x, y, {verbose = 0, validation_freq = 1.5}) end,
           'model:fit: validation_freq must be an integer, got 1.5')
end)

-- ---- exclude_from_weight_decay ----

-- Dense{1} with w = b = 1 fit on x = 0, y = 1: the loss and every gradient are 0, so
-- only weight decay moves a weight, to 1 - weight_decay·learning_rate = 1 - 0.5·0.1.
local function decayed(optimizer, device, model)
  model = model or nn.Sequential{L.Dense{1, input_shape = {1}}}
  model:to(device or 'cpu')
  model:set_weights{nn.tensor{{1}}, nn.tensor{1}}
  model:compile{optimizer = optimizer, loss = 'mse'}
  model:fit(nn.tensor{{0}}, nn.tensor{{1}}, {epochs = 1, batch_size = 1, verbose = 0})
  local weights = model:get_weights()
  return weights[1]:item(), weights[2]:item(), model
end

t.test('exclude_from_weight_decay spares the weights whose name contains a listed part', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local w, b = decayed(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5,
                                             exclude_from_weight_decay = {'bias'}}, device)
    t.near(w, 0.95, 1e-6, device .. ': kernel decays')
    t.near(b, 1, 0, device .. ': bias excluded')
    w, b = decayed(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5,
                                       exclude_from_weight_decay = {'ern'}}, device)
    t.near(w, 1, 0, device .. ': a part of "kernel" excludes it')
    t.near(b, 0.95, 1e-6, device .. ': bias decays')
    -- Every optimizer that takes weight_decay honours it (Keras 3's base optimizer).
    w, b = decayed(nn.optimizers.SGD{learning_rate = 0.1, weight_decay = 0.5,
                                     exclude_from_weight_decay = {'kernel', 'bias'}}, device)
    t.near(w, 1, 0, device .. ': SGD kernel excluded')
    t.near(b, 1, 0, device .. ': SGD bias excluded')
  end
end)

t.test('compiling again replaces the exclusions of a model that has trained', function()
  local _, _, model = decayed(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5,
                                                  exclude_from_weight_decay = {'bias'}})
  local w, b = decayed(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5}, 'cpu', model)
  t.near(w, 0.95, 1e-6, 'kernel')
  t.near(b, 0.95, 1e-6, 'the bias decays again under an optimizer that excludes nothing')
  w, b = decayed(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5,
                                     exclude_from_weight_decay = {'kernel'}}, 'cpu', model)
  t.near(w, 1, 0, 'kernel excluded now')
  t.near(b, 0.95, 1e-6, 'bias')
end)

t.test('a model file keeps exclude_from_weight_decay, so the loaded model trains the same', function()
  local path = os.getenv('NNSH_TEST_TMP') .. '/test_keras_options_exclusions.safetensors'
  local model = nn.Sequential{L.Dense{1, input_shape = {1}}}
  model:set_weights{nn.tensor{{1}}, nn.tensor{1}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1, weight_decay = 0.5,
                                              exclude_from_weight_decay = {'bias', 'gamma'}},
                loss = 'mse'}
  model:save(path)
  local loaded = nn.models.load_model(path)
  os.remove(path)
  t.eq(table.concat(loaded.optimizer.exclude_from_weight_decay, ' '), 'bias gamma')
  loaded:fit(nn.tensor{{0}}, nn.tensor{{1}}, {epochs = 1, batch_size = 1, verbose = 0})
  local weights = loaded:get_weights()
  t.near(weights[1]:item(), 0.95, 1e-6, 'the kernel decays')
  t.near(weights[2]:item(), 1, 0, 'the bias is still spared after loading (it decayed before)')
  -- none given, none written: the key stays out of the file
  model:compile{optimizer = nn.optimizers.SGD{weight_decay = 0.5}, loss = 'mse'}
  model:save(path)
  t.eq(nn.models.load_model(path).optimizer.exclude_from_weight_decay, nil)
  t.truthy(not t.read_file(path):find('exclude_from_weight_decay', 1, true), 'no key written')
  os.remove(path)
end)

t.test('exclude_from_weight_decay takes a list of names and says what arrived otherwise', function()
  local model = nn.Sequential{L.Dense{1, input_shape = {1}}}
  t.raises(function()
    model:compile{optimizer = nn.optimizers.AdamW{exclude_from_weight_decay = 'bias'}, loss = 'mse'}
  end, "nn.optimizers.AdamW: exclude_from_weight_decay must be a list of weight names such as " ..
       "{'bias'}, got a string (write {'bias'})")
  t.raises(function()
    model:compile{optimizer = {name = 'adamw', exclude_from_weight_decay = 'bias'}, loss = 'mse'}
  end, "model:compile: exclude_from_weight_decay must be a list of weight names")
  t.raises(function()
    model:compile{optimizer = nn.optimizers.AdamW{exclude_from_weight_decay = {'bias', 3}}, loss = 'mse'}
  end, 'exclude_from_weight_decay entry 2 must be a weight name (or part of one) of 1 to 63 ' ..
       'characters, got integer')
  t.raises(function()
    model:compile{optimizer = nn.optimizers.AdamW{exclude_from_weight_decay = {''}}, loss = 'mse'}
  end, 'entry 1 must be a weight name')
end)

t.test('Keras 3 activations log_softmax, mish and hard_silu (hard_swish)', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- log_softmax of (0, ln 2, ln 5) is ln(1/8, 2/8, 5/8); with from_logits the softmax of
    -- it is the same distribution, so the loss and the SGD(1) step are softmax's.
    local model = nn.Sequential{L.Dense{3, activation = 'log_softmax', input_shape = {2}}}
    model:to(device)
    model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
    local out = model:predict(nn.zeros(1, 2), {verbose = 0}):flatten()
    t.near(out[1], math.log(1 / 8), 1e-6, device .. ': log_softmax 1')
    t.near(out[3], math.log(5 / 8), 1e-6, device .. ': log_softmax 3')
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1},
                  loss = nn.losses.SparseCategoricalCrossentropy{from_logits = true}}
    t.near(model:train_on_batch(nn.zeros(1, 2), nn.tensor{0}), math.log(8), 1e-6, device .. ': loss')
    local bias = model:get_weights()[2]:flatten()
    t.near(bias[1], 7 / 8, 1e-6, device .. ': bias 1')
    t.near(bias[3], math.log(5) - 5 / 8, 1e-6, device .. ': bias 3')
  end
  local x = nn.tensor{-4, -1, 0, 2, 5}
  local mish = nn.layers.Activation{'mish'}(x):flatten()
  for i, v in ipairs{-4, -1, 0, 2, 5} do
    t.near(mish[i], v * math.tanh(math.log(1 + math.exp(v))), 1e-6, 'mish(' .. v .. ')')
  end
  local hard = nn.layers.Activation{'hard_swish'}(x):flatten()
  for i, v in ipairs{-4, -1, 0, 2, 5} do
    t.near(hard[i], v * math.min(math.max(v / 6 + 0.5, 0), 1), 1e-6, 'hard_silu(' .. v .. ')')
  end
end)

t.finish()
