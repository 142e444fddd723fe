-- Keras' sample_weight and class_weight in fit and evaluate. Expected numbers are worked
-- out by hand from Keras' rule: each sample's loss times its weight, summed and divided by
-- the number of samples in the batch; the compiled metrics are not weighed.
local t = require 'harness'
local L = nn.layers

-- Dense{3, softmax} with a zero kernel and bias (0, ln 2, ln 5): every row predicts
-- softmax = (1/8, 2/8, 5/8) whatever x is, and x = 0 leaves the kernel's gradient 0.
local function softmax_model(device, learning_rate)
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  model:to(device)
  model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = learning_rate or 1},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  return model
end

-- The loss of each class under that prediction: -ln(1/8), -ln(2/8), -ln(5/8).
local loss_of = {math.log(8), math.log(4), math.log(8 / 5)}
local devices = {'cpu', 'emulated'}

t.test('evaluate weighs each sample loss and divides by the sample count; accuracy is not weighed', function()
  for _, device in ipairs(devices) do
    local model = softmax_model(device)
    local x, y = nn.zeros(3, 2), nn.tensor{0, 1, 2}
    local expected = (2 * loss_of[1] + 0 * loss_of[2] + 1 * loss_of[3]) / 3
    local loss, accuracy = model:evaluate(x, y, {verbose = 0, sample_weight = nn.tensor{2, 0, 1}})
    t.near(loss, expected, 1e-6, device .. ': weighted loss')
    t.near(accuracy, 1 / 3, 1e-12, device .. ': accuracy counts every sample once')
    -- A Lua list, a (N, 1) column and batches of one give the same.
    t.near(model:evaluate(x, y, {verbose = 0, sample_weight = {2, 0, 1}}), expected, 1e-6,
           device .. ': weights as a list')
    t.near(model:evaluate(x, y, {verbose = 0, batch_size = 1,
                                 sample_weight = nn.tensor{{2}, {0}, {1}}}),
           expected, 1e-6, device .. ': (N, 1) weights, batches of one')
    t.near(model:evaluate(x, y, {verbose = 0}), (loss_of[1] + loss_of[2] + loss_of[3]) / 3,
           1e-6, device .. ': without weights')
  end
end)

-- SGD(1) moves the bias by -(1/B) sum_b w_b (softmax - onehot_b); with weights (2, 0, 1)
-- for classes (0, 1, 2) that is -(1/3)(2(1/8 - 1, 2/8, 5/8) + (1/8, 2/8, 5/8 - 1))
-- = (13/24, -6/24, -7/24).
local function check_weighted_step(model, history, what)
  t.near(history.history.loss[1], (2 * loss_of[1] + loss_of[3]) / 3, 1e-6, what .. ': fit loss')
  t.near(history.history.accuracy[1], 1 / 3, 1e-12, what .. ': accuracy')
  local bias = model:get_weights()[2]:flatten()
  t.near(bias[1], 13 / 24, 1e-6, what .. ': bias 1')
  t.near(bias[2], math.log(2) - 6 / 24, 1e-6, what .. ': bias 2')
  t.near(bias[3], math.log(5) - 7 / 24, 1e-6, what .. ': bias 3')
end

t.test('fit with sample_weight scales each sample loss and gradient', function()
  for _, device in ipairs(devices) do
    local model = softmax_model(device)
    local history = model:fit(nn.zeros(3, 2), nn.tensor{0, 1, 2},
                              {epochs = 1, batch_size = 3, shuffle = false, verbose = 0,
                               sample_weight = nn.tensor{2, 0, 1}})
    check_weighted_step(model, history, device .. ' sample_weight')
  end
end)

t.test('fit with class_weight weighs samples by their class, missing classes by 1', function()
  for _, device in ipairs(devices) do
    local model = softmax_model(device)
    local history = model:fit(nn.zeros(3, 2), nn.tensor{0, 1, 2},
                              {epochs = 1, batch_size = 3, shuffle = false, verbose = 0,
                               class_weight = {[0] = 2, [1] = 0, [2] = 1}})
    check_weighted_step(model, history, device .. ' class_weight')
  end
  -- The weights follow their samples through shuffling: with the prediction held still
  -- (learning_rate 1e-12) the epoch loss is sum(w_i loss_i) / 6 whatever the order and the
  -- batch size, and each class costs a different loss, so a weight given to the wrong
  -- sample would show.
  local y = nn.tensor{0, 1, 2, 0, 1, 2}
  local weights, expected = {1, 2, 3, 4, 5, 6}, 0
  for i = 1, 6 do expected = expected + weights[i] * loss_of[y[i] + 1] / 6 end
  local by_class = (1 * 2 * loss_of[1] + 2 * 2 * loss_of[2] + 3 * 2 * loss_of[3]) / 6
  for _, device in ipairs(devices) do
    for _, batch_size in ipairs{1, 4} do
      local model = softmax_model(device, 1e-12)
      local history = model:fit(nn.zeros(6, 2), y, {epochs = 3, batch_size = batch_size,
                                                    verbose = 0, sample_weight = weights})
      for epoch = 1, 3 do
        t.near(history.history.loss[epoch], expected, 1e-6,
               string.format('%s, batches of %d, epoch %d: shuffled sample weights', device,
                             batch_size, epoch))
      end
      history = model:fit(nn.zeros(6, 2), y, {epochs = 2, batch_size = batch_size, verbose = 0,
                                              class_weight = {[0] = 1, [1] = 2, [2] = 3}})
      t.near(history.history.loss[2], by_class, 1e-6,
             string.format('%s, batches of %d: shuffled class weights', device, batch_size))
    end
  end
  -- {[0] = 2} alone: classes 1 and 2 weigh 1, so (2 ln 8 + ln 4 + ln 1.6) / 3.
  local model = softmax_model('cpu', 1e-12)
  local history = model:fit(nn.zeros(3, 2), nn.tensor{0, 1, 2},
                            {epochs = 1, batch_size = 3, verbose = 0, class_weight = {[0] = 2}})
  t.near(history.history.loss[1], (2 * loss_of[1] + loss_of[2] + loss_of[3]) / 3, 1e-6,
         'a class without a key weighs 1')
end)

t.test('class_weight finds the class of one-hot rows and of one sigmoid column', function()
  -- One-hot labels: the class is the column of the 1.
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1e-12}, loss = 'categorical_crossentropy'}
  local history = model:fit(nn.zeros(2, 2), nn.tensor{{0, 0, 1}, {1, 0, 0}},
                            {epochs = 1, verbose = 0, class_weight = {[2] = 3}})
  t.near(history.history.loss[1], (3 * loss_of[3] + loss_of[1]) / 2, 1e-6, 'one-hot rows')
  -- A sigmoid column predicting 0.75: labels 1 and 0 cost -ln 0.75 and -ln 0.25; class 0
  -- weighs 4.
  local binary = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {1}}}
  binary:set_weights{nn.zeros(1, 1), nn.tensor{math.log(3)}}
  binary:compile{optimizer = nn.optimizers.SGD{learning_rate = 1e-12}, loss = 'binary_crossentropy'}
  history = binary:fit(nn.zeros(2, 1), nn.tensor{1, 0},
                       {epochs = 1, verbose = 0, class_weight = {[0] = 4}})
  t.near(history.history.loss[1], (math.log(4 / 3) + 4 * math.log(4)) / 2, 1e-6, 'sigmoid column')
end)

t.test('validation_split takes the last sample weights along; class weights stay with training', function()
  for _, device in ipairs(devices) do
    -- learning_rate 1e-12 keeps the prediction, so the validation loss is known: the last
    -- sample (class 2) with weight 3 gives 3 ln 1.6.
    local x, y = nn.zeros(4, 2), nn.tensor{0, 1, 0, 2}
    local model = softmax_model(device, 1e-12)
    local history = model:fit(x, y, {epochs = 1, validation_split = 0.25, verbose = 0,
                                     sample_weight = nn.tensor{1, 1, 1, 3}})
    t.near(history.history.val_loss[1], 3 * loss_of[3], 1e-6, device .. ': split weights')
    t.near(history.history.loss[1], (2 * loss_of[1] + loss_of[2]) / 3, 1e-6, device .. ': train')
    history = model:fit(x, y, {epochs = 1, validation_split = 0.25, verbose = 0,
                               class_weight = {[0] = 1, [1] = 1, [2] = 5}})
    t.near(history.history.val_loss[1], loss_of[3], 1e-6, device .. ': class weights not on validation')
    -- validation_data with a third entry weighs the validation samples.
    history = model:fit(x, y, {epochs = 1, verbose = 0,
                               validation_data = {nn.zeros(2, 2), nn.tensor{1, 2}, {0.5, 0}}})
    t.near(history.history.val_loss[1], 0.5 * loss_of[2] / 2, 1e-6, device .. ': validation_data weights')
  end
end)

t.test('weighted training learns what the weights ask for', function()
  -- Two clusters of points, labelled half and half, except the labels of cluster A are
  -- noisy: class 1 there gets weight 0, so the model must call all of cluster A class 0.
  nn.random.seed(3)
  local n = 64
  local xs, ys, ws = {}, {}, {}
  for i = 1, n do
    local a = i <= n / 2
    xs[i] = {a and -1 or 1, (i % 7) / 7}
    ys[i] = a and (i % 2) or 1
    ws[i] = (a and ys[i] == 1) and 0 or 1
  end
  local model = nn.Sequential{L.Dense{2, activation = 'softmax', input_shape = {2}}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.05},
                loss = 'sparse_categorical_crossentropy'}
  model:fit(nn.tensor(xs), nn.tensor(ys), {epochs = 60, batch_size = 16, verbose = 0,
                                           sample_weight = nn.tensor(ws)})
  local predicted = model:predict(nn.tensor{{-1, 0.5}, {1, 0.5}}, {verbose = 0}):argmax(-1)
  t.eq(predicted[1], 0, 'cluster A: the weighted-away labels are ignored')
  t.eq(predicted[2], 1, 'cluster B')
end)

t.test('bad sample and class weights are refused with what was expected', function()
  local model = softmax_model('cpu')
  local x, y = nn.zeros(3, 2), nn.tensor{0, 1, 2}
  local function fit(options)
    options.verbose = 0
    return function() model:fit(x, y, options) end
  end
  t.raises(fit{sample_weight = {1, 2}}, 'fit: sample_weight must hold one weight per sample',
           'shape (3,) or (3, 1); got shape (2,)')
  t.raises(fit{sample_weight = nn.ones(3, 2)}, 'shape (3,) or (3, 1); got shape (3, 2)')
  t.raises(fit{sample_weight = {1, -1, 1}}, 'sample_weight must be finite float32 numbers >= 0, got -1 for sample 2')
  t.raises(fit{sample_weight = {1, 0 / 0, 1}}, 'must be finite float32 numbers >= 0', 'sample 2')
  t.raises(fit{sample_weight = {}}, 'model:fit (sample_weight): empty tables make no tensor')
  t.raises(fit{sample_weight = 'heavy'}, 'sample_weight')
  t.raises(fit{sample_weight = {1, 1, 1}, class_weight = {[0] = 1}},
           'give class_weight or sample_weight, not both')
  t.raises(fit{class_weight = {1, 2, 3}}, 'class_weight gives a weight for class 3',
           'the model\'s output has 3 classes (0 to 2)', 'class ids count from 0')
  t.raises(fit{class_weight = {[-1] = 2}}, 'class_weight key -1 is not a class id')
  t.raises(fit{class_weight = {[0] = 1, [1.5] = 9}}, 'class_weight key 1.5 is not a class id')
  t.raises(fit{class_weight = {[math.maxinteger] = 1}},
           'class_weight key 9223372036854775807 is not a class id')
  t.raises(fit{class_weight = {[0] = 1e39}}, 'class_weight must be finite float32 numbers >= 0, got 1e+39 for class 0')
  t.raises(fit{class_weight = {a = 2}}, 'class_weight keys must be class ids', 'got a string key')
  t.raises(fit{class_weight = {[0] = 'x'}}, 'class_weight[0] must be a number, got string')
  t.raises(fit{class_weight = {[0] = -2}}, 'class_weight must be finite float32 numbers >= 0, got -2 for class 0')
  t.raises(fit{class_weight = {}}, 'class_weight is empty')
  t.raises(fit{class_weight = 2}, 'class_weight must be a table')
  t.raises(fit{validation_data = {x, y, {1}}}, "validation_data's sample weights must hold one weight per sample")
  t.raises(fit{validation_data = {x, y, {1, 1, 1}, 4}}, 'validation_data must be {x_val, y_val} or {x_val, y_val, sample_weight_val}')
  t.raises(function() model:evaluate(x, y, {verbose = 0, sample_weight = {1}}) end,
           'evaluate: sample_weight must hold one weight per sample')
  t.raises(function() model:evaluate(x, y, {verbose = 0, sample_weights = {1}}) end,
           "unknown option 'sample_weights'")
  -- Keras takes class_weight only for one class per sample.
  local pixels = nn.Sequential{L.Conv2D{3, 1, activation = 'softmax', input_shape = {2, 2, 1}}}
  pixels:compile{optimizer = 'sgd', loss = 'mse'}
  t.raises(function()
    pixels:fit(nn.zeros(3, 2, 2, 1), nn.ones(3, 2, 2, 3), {verbose = 0, class_weight = {[0] = 1}})
  end, 'class_weight needs one class per sample', 'y has shape (3, 2, 2, 3)')
  -- Nothing above changed the model.
  local bias = model:get_weights()[2]:flatten()
  t.eq(bias[1], 0, 'the bias is untouched')
  t.near(model:evaluate(x, y, {verbose = 0}), (loss_of[1] + loss_of[2] + loss_of[3]) / 3, 1e-6,
         'the model still evaluates')
end)

t.test('class_weight rounds a soft label half to even, as Keras np.round does', function()
  local function model()
    nn.random.seed(3)
    local m = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {2}}}
    m:compile{optimizer = 'sgd', loss = 'binary_crossentropy'}
    return m
  end
  local x, y = nn.random.randn(4, 2), nn.tensor{0.5, 0.4, 0.6, 1}
  -- 0.5 and 0.4 are class 0, 0.6 and 1 class 1.
  local by_class = model():train_on_batch(x, y, {class_weight = {[0] = 1, [1] = 10}})
  local by_sample = model():train_on_batch(x, y, {sample_weight = nn.tensor{1, 1, 10, 10}})
  t.near(by_class, by_sample, 1e-6, 'the weights of the classes rounded half to even')
  local half_up = model():train_on_batch(x, y, {sample_weight = nn.tensor{10, 1, 10, 10}})
  t.truthy(math.abs(by_class - half_up) > 1e-3, 'differs from rounding 0.5 up')
end)

t.finish()
