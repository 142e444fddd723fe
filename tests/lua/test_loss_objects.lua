-- nn.losses and nn.metrics used on their own, as in Keras: a loss object called on
-- (y_true, y_pred [, sample_weight]) is the mean loss as training computes it, each
-- class's snake_case name its per-sample function, and a metric object counts batches
-- with update_state, as fit counts an epoch. Every expected number is worked out by hand
-- in the comments; the inputs are float32, hence tolerances of about 1e-6.
local t = require 'harness'

local TOLERANCE = 2e-6
-- Two samples of three classes, the first mostly right, the second wrong.
local ONE_HOT = {{0, 1, 0}, {0, 0, 1}}
local PRED = {{0.05, 0.95, 0}, {0.1, 0.8, 0.1}}

-- ---- loss objects ----

t.test('CategoricalCrossentropy is the mean of -ln p(true class)', function()
  -- -(ln 0.95 + ln 0.1) / 2 = (0.0512933 + 2.3025851) / 2 = 1.1769392
  t.near(nn.losses.CategoricalCrossentropy()(ONE_HOT, PRED), 1.1769392, TOLERANCE, 'tables')
  t.near(nn.losses.CategoricalCrossentropy{}(nn.tensor(ONE_HOT), nn.tensor(PRED)), 1.1769392,
         TOLERANCE, 'tensors')
end)

t.test('sample_weight multiplies each row and still divides by the rows', function()
  local loss = nn.losses.CategoricalCrossentropy()
  -- (1 * 0.0512933 + 2 * 2.3025851) / 2 = 2.3282317
  t.near(loss(ONE_HOT, PRED, {1, 2}), 2.3282317, TOLERANCE, 'weights 1, 2')
  -- (0.0512933 + 0) / 2 = 0.0256466: a zero weight still counts as a row
  t.near(loss(ONE_HOT, PRED, nn.tensor{1, 0}), 0.0256466, TOLERANCE, 'weights 1, 0')
  -- a number weighs every row: 3 * 1.1769392 = 3.5308176
  t.near(loss(ONE_HOT, PRED, 3), 3.5308176, 4 * TOLERANCE, 'one number')
end)

t.test('label_smoothing aims at t(1 - a) + a/K, as training', function()
  -- a = 0.3, K = 3: (0, 1, 0) becomes (0.1, 0.8, 0.1);
  -- -(0.1 ln 0.2 + 0.8 ln 0.6 + 0.1 ln 0.2) = 0.2 * 1.6094379 + 0.8 * 0.5108256 = 0.7305481
  local loss = nn.losses.CategoricalCrossentropy{label_smoothing = 0.3}
  t.near(loss({{0, 1, 0}}, {{0.2, 0.6, 0.2}}), 0.7305481, TOLERANCE, 'categorical')
  -- binary, a = 0.2: targets 1 -> 0.9, 0 -> 0.1;
  -- row 1: -(0.9 ln 0.8 + 0.1 ln 0.2) = 0.2008292 + 0.1609438 = 0.3617730
  -- row 2: -(0.1 ln 0.4 + 0.9 ln 0.6) = 0.0916291 + 0.4597430 = 0.5513721; mean 0.4565726
  local binary = nn.losses.BinaryCrossentropy{label_smoothing = 0.2}
  t.near(binary({{1}, {0}}, {{0.8}, {0.4}}), 0.4565726, TOLERANCE, 'binary')
end)

t.test('from_logits takes the softmax or sigmoid of y_pred first', function()
  -- class 2 of logits (1, 2, 3): ln(e + e^2 + e^3) - 3 = ln(1 + e^-1 + e^-2) = 0.4076059
  t.near(nn.losses.CategoricalCrossentropy{from_logits = true}({{0, 0, 1}}, {{1, 2, 3}}),
         0.4076059, TOLERANCE, 'categorical')
  t.near(nn.losses.SparseCategoricalCrossentropy{from_logits = true}({2}, {{1, 2, 3}}),
         0.4076059, TOLERANCE, 'sparse')
  -- sigmoid(0) = 0.5: -ln 0.5 = ln 2 = 0.6931472
  t.near(nn.losses.BinaryCrossentropy{from_logits = true}({{1}}, {{0}}), 0.6931472, TOLERANCE,
         'binary')
end)

t.test('SparseCategoricalCrossentropy takes one class id per sample', function()
  local loss = nn.losses.SparseCategoricalCrossentropy()
  -- ids 1 and 2 are the one-hot rows above: 1.1769392 again
  t.near(loss({1, 2}, PRED), 1.1769392, TOLERANCE, '(batch,) ids')
  t.near(loss({{1}, {2}}, PRED), 1.1769392, TOLERANCE, '(batch, 1) ids')
  t.near(loss(nn.tensor({1, 2}, 'int64'), PRED), 1.1769392, TOLERANCE, 'int64 ids')
  -- one sample, a flat y_pred: -ln 0.95 = 0.0512933
  t.near(loss(1, {0.05, 0.95, 0}), 0.0512933, TOLERANCE, 'one sample')
end)

t.test('every other loss class, by hand', function()
  local L = nn.losses
  -- binary crossentropy: (-ln 0.8 - ln 0.6) / 2 = (0.2231436 + 0.5108256) / 2 = 0.3669846
  t.near(L.BinaryCrossentropy()({{1}, {0}}, {{0.8}, {0.4}}), 0.3669846, TOLERANCE, 'bce')
  -- squared errors 0, 1 and 0, 4: mean 1.25
  local y, p = {{1, 2}, {3, 4}}, {{1, 3}, {3, 6}}
  t.near(L.MeanSquaredError()(y, p), 1.25, TOLERANCE, 'mse')
  -- absolute errors 0, 1, 0, 2: mean 0.75
  t.near(L.MeanAbsoluteError()(y, p), 0.75, TOLERANCE, 'mae')
  -- huber, delta 1: errors 0.5 and 3: 0.5 * 0.25 = 0.125 and 3 - 0.5 = 2.5; mean 1.3125
  t.near(L.Huber()({{0, 0}}, {{0.5, 3}}), 1.3125, TOLERANCE, 'huber')
  -- delta 2: 0.125 and 2 * 3 - 2 = 4; mean 2.0625
  t.near(L.Huber{delta = 2}({{0, 0}}, {{0.5, 3}}), 2.0625, TOLERANCE, 'huber delta 2')
  -- log cosh(1) = log cosh(-1) = 0.4337808
  t.near(L.LogCosh()({{0, 0}}, {{1, -1}}), 0.4337808, TOLERANCE, 'log_cosh')
  -- 0.5 ln(0.5 / 0.25) + 0.5 ln(0.5 / 0.75) = 0.3465736 - 0.2027326 = 0.1438410
  t.near(L.KLDivergence()({{0.5, 0.5}}, {{0.25, 0.75}}), 0.1438410, TOLERANCE, 'kld')
  -- (1 - 2 ln(1 + 1e-7)) + (3 - 0) = 4 - 2e-7; mean 2 - 1e-7
  t.near(L.Poisson()({{2, 0}}, {{1, 3}}), 2 - 1e-7, TOLERANCE, 'poisson')
  -- labels -1/1 as given: max(1 + 0.3, 0) = 1.3, max(1 - 0.4, 0) = 0.6; mean 0.95
  t.near(L.Hinge()({{-1, 1}}, {{0.3, 0.4}}), 0.95, TOLERANCE, 'hinge')
  -- 1.3^2 = 1.69, 0.6^2 = 0.36; mean 1.025
  t.near(L.SquaredHinge()({{-1, 1}}, {{0.3, 0.4}}), 1.025, TOLERANCE, 'squared_hinge')
  -- 0/1 labels read as -1/1: (0, 1) vs (0.3, -0.2): 1.3 and 1.2; mean 1.25
  t.near(L.Hinge()({{0, 1}}, {{0.3, -0.2}}), 1.25, TOLERANCE, 'hinge 0/1')
  -- pos = 0.5, neg = max(0.3, 0, 0.2) = 0.3: max(0.3 - 0.5 + 1, 0) = 0.8
  t.near(L.CategoricalHinge()({{0, 1, 0}}, {{0.3, 0.5, 0.2}}), 0.8, TOLERANCE, 'cat. hinge')
  -- -cos((1, 0), (1, 1)) = -1/sqrt(2) = -0.7071068
  t.near(L.CosineSimilarity()({{1, 0}}, {{1, 1}}), -0.7071068, TOLERANCE, 'cosine')
  -- 100 * (|2 - 1| / 2 + |-4 + 5| / 4) / 2 = 100 * 0.75 / 2 = 37.5
  t.near(L.MeanAbsolutePercentageError()({{2, -4}}, {{1, -5}}), 37.5, 1e-4, 'mape')
  -- (ln(1 + 1) - ln(1 + 3))^2 = (ln 0.5)^2 = 0.4804530
  t.near(L.MeanSquaredLogarithmicError()({{3}}, {{1}}), 0.4804530, TOLERANCE, 'msle')
end)

t.test('a loss object still configures compile, and its value is what evaluate reports', function()
  nn.random.seed(7)
  local model = nn.Sequential{nn.layers.Dense{3, activation = 'softmax', input_shape = {4}}}
  local loss = nn.losses.SparseCategoricalCrossentropy{}
  model:compile{optimizer = 'sgd', loss = loss}
  local x, y = nn.random.randn(10, 4), nn.random.randint(0, 3, 10)
  local evaluated = model:evaluate(x, y, {verbose = 0, batch_size = 10})
  -- training takes a softmax output's own logits, the object the probabilities: equal to
  -- float32 rounding
  t.near(loss(y, model:predict(x, {verbose = 0})), evaluated, 1e-5, 'loss vs evaluate')
end)

-- ---- per-sample functions ----

t.test('per-sample functions give one loss per row, of shape (batch,)', function()
  -- -ln 0.95 = 0.0512933, -ln 0.1 = 2.3025851
  local rows = nn.losses.categorical_crossentropy(ONE_HOT, PRED)
  t.eq(tostring(rows.shape), '(2,)', 'shape')
  t.near(rows, nn.tensor{0.0512933, 2.3025851}, TOLERANCE, 'values')
  t.near(nn.losses.sparse_categorical_crossentropy({1, 2}, PRED), nn.tensor{0.0512933, 2.3025851},
         TOLERANCE, 'sparse')
  -- mean over each row's elements: (0 + 1) / 2, (0 + 4) / 2
  t.near(nn.losses.mean_squared_error({{1, 2}, {3, 4}}, {{1, 3}, {3, 6}}), nn.tensor{0.5, 2},
         TOLERANCE, 'mse')
  -- Keras' optional arguments, in a trailing table
  t.near(nn.losses.categorical_crossentropy({{0, 0, 1}}, {{1, 2, 3}}, {from_logits = true}),
         nn.tensor{0.4076059}, TOLERANCE, 'from_logits')
  t.near(nn.losses.categorical_crossentropy({{0, 1, 0}}, {{0.2, 0.6, 0.2}},
                                            {label_smoothing = 0.3}),
         nn.tensor{0.7305481}, TOLERANCE, 'label_smoothing')
  t.near(nn.losses.huber({{0, 0}}, {{0.5, 3}}, {delta = 2}), nn.tensor{2.0625}, TOLERANCE, 'delta')
  -- an output with positions keeps them: (2, 2, 1) gives (2, 2)
  local per_position = nn.losses.mean_absolute_error(nn.zeros(2, 2, 1), nn.tensor{{{1}, {2}}, {{3}, {4}}})
  t.near(per_position, nn.tensor{{1, 2}, {3, 4}}, TOLERANCE, 'positions')
end)

t.test('every loss class has its per-sample function, whose mean is the object', function()
  local count = 0
  for name, class in pairs(nn.losses) do
    if name:match('^%u') then
      local function_name = class().name
      local rows_of = nn.losses[function_name]
      t.truthy(type(rows_of) == 'function', 'nn.losses.' .. function_name)
      local y = function_name == 'sparse_categorical_crossentropy' and {1, 2} or ONE_HOT
      local rows, mean = rows_of(y, PRED), class()(y, PRED)
      -- the rows are float32: equal to float32's relative precision (mape is 1.6e8 here)
      t.near((rows[1] + rows[2]) / 2, mean, 1e-6 * (1 + math.abs(mean)), function_name)
      count = count + 1
    end
  end
  t.eq(count, 15, 'loss classes')
end)

-- ---- metric objects ----

t.test('a metric accumulates over update_state calls until reset_state', function()
  local m = nn.metrics.CategoricalAccuracy()
  t.eq(m:result(), 0.0, 'nothing counted')
  -- row 1 right (argmax 1), row 2 wrong (argmax 1, label 2): 1/2
  m:update_state(ONE_HOT, PRED)
  t.near(m:result(), 0.5, 1e-12, 'first batch')
  -- both right: (1 + 2) / 4 = 0.75
  m:update_state({{0, 0, 1}, {1, 0, 0}}, {{0.1, 0.1, 0.8}, {0.6, 0.3, 0.1}})
  t.near(m:result(), 0.75, 1e-12, 'two batches')
  m:reset_state()
  t.eq(m:result(), 0.0, 'after reset')
  m:update_state({{0, 0, 1}}, {{0.1, 0.1, 0.8}})
  t.near(m:result(), 1.0, 1e-12, 'counting again')
end)

t.test('means of errors accumulate over rows; the root comes after the mean', function()
  local mse, rmse = nn.metrics.MeanSquaredError(), nn.metrics.RootMeanSquaredError()
  for _, m in ipairs{mse, rmse} do
    m:update_state({{0}, {0}}, {{1}, {3}}) -- 1 + 9 over 2 rows
    m:update_state({{0}}, {{2}})           -- + 4 over 1 row: 14 / 3
  end
  t.near(mse:result(), 14 / 3, 1e-9, 'mse 4.6666667')
  t.near(rmse:result(), math.sqrt(14 / 3), 1e-9, 'rmse 2.1602469')
end)

t.test('sample_weight makes a weighted mean: sum(w * value) / sum(w)', function()
  local m = nn.metrics.CategoricalAccuracy()
  -- right with weight 1, wrong with weight 3: 1/4
  m:update_state(ONE_HOT, PRED, {1, 3})
  t.near(m:result(), 0.25, 1e-12, 'weighted')
  -- + a right row of weight 4: 5/8
  m:update_state({{0, 0, 1}}, {{0.1, 0.1, 0.8}}, {4})
  t.near(m:result(), 0.625, 1e-12, 'weighted, two batches')
end)

t.test('sparse metrics take class ids', function()
  local m = nn.metrics.SparseCategoricalAccuracy()
  m:update_state({1, 2}, PRED) -- argmax 1 and 1: 1/2
  t.near(m:result(), 0.5, 1e-12, 'sparse accuracy')
  local top2 = nn.metrics.SparseTopKCategoricalAccuracy{k = 2}
  top2:update_state({1, 2}, PRED) -- 2 is second largest in row 2 (0.1 ties 0.1: both in)
  t.near(top2:result(), 1.0, 1e-12, 'top 2')
end)

t.test('precision and recall count positives over every batch', function()
  local precision, recall = nn.metrics.Precision(), nn.metrics.Recall()
  for _, m in ipairs{precision, recall} do
    -- above 0.5: 0.9 (label 1), 0.6 (label 0), 0.7 (label 1): 2 true of 3 predicted;
    -- actual positives 2, both found
    m:update_state({{1, 0}, {0, 1}}, {{0.9, 0.6}, {0.2, 0.7}})
  end
  t.near(precision:result(), 2 / 3, 1e-12, 'precision 0.6667')
  t.near(recall:result(), 1.0, 1e-12, 'recall 1')
  for _, m in ipairs{precision, recall} do
    -- 0.8 (label 1) predicted and right; 0.1 (label 1) missed: 3 of 4 predicted, 3 of 4 actual
    m:update_state({{1, 1}}, {{0.1, 0.8}})
  end
  t.near(precision:result(), 0.75, 1e-12, 'precision 3/4')
  t.near(recall:result(), 0.75, 1e-12, 'recall 3/4')
  -- class_id 1 only: column 1 holds 0.6 (label 0), 0.7 (label 1): 1/2
  local one_class = nn.metrics.Precision{class_id = 1}
  one_class:update_state({{1, 0}, {0, 1}}, {{0.9, 0.6}, {0.2, 0.7}})
  t.near(one_class:result(), 0.5, 1e-12, 'class_id')
end)

t.test('AUC counts buckets over every batch', function()
  local auc = nn.metrics.AUC()
  -- positives at 0.9 and 0.4, negatives at 0.1 and 0.6: 3 of the 4 pairs are ordered,
  -- and with no two in one bucket the trapezoids give exactly 0.75
  auc:update_state({1, 0}, {0.9, 0.1})
  t.near(auc:result(), 1.0, 1e-9, 'one batch, separated')
  auc:update_state({1, 0}, {0.4, 0.6})
  t.near(auc:result(), 0.75, 1e-9, 'two batches')
  auc:reset_state()
  t.eq(auc:result(), 0.0, 'reset: one class missing gives 0')
end)

t.test('metric objects match fit and evaluate, and still configure compile', function()
  nn.random.seed(11)
  local model = nn.Sequential{nn.layers.Dense{3, activation = 'softmax', input_shape = {4}}}
  local accuracy, auc = nn.metrics.CategoricalAccuracy{name = 'acc'}, nn.metrics.AUC()
  model:compile{optimizer = 'sgd', loss = 'categorical_crossentropy', metrics = {accuracy, auc}}
  t.eq(table.concat(model.metrics_names, ', '), 'loss, acc, auc', 'names')
  local x = nn.random.randn(12, 4)
  local y = nn.utils.to_categorical(nn.random.randint(0, 3, 12), 3)
  local _, acc, area = model:evaluate(x, y, {verbose = 0, batch_size = 5})
  local pred = model:predict(x, {verbose = 0})
  accuracy:update_state(y:slice(1, 5), pred:slice(1, 5))
  accuracy:update_state(y:slice(6, 12), pred:slice(6, 12))
  auc:update_state(y, pred)
  t.near(accuracy:result(), acc, 1e-12, 'accuracy')
  t.near(auc:result(), area, 1e-9, 'auc')
end)

t.test("compile takes a loss function, as Keras' compile takes keras.losses.mse", function()
  local m = nn.Sequential{nn.layers.Dense{1, input_shape = {2}}}
  m:compile{optimizer = 'sgd', loss = nn.losses.mean_squared_error}
  t.eq(m.loss, 'mean_squared_error')
  local x, y = nn.tensor{{1, 2}, {3, 4}}, nn.tensor{{1}, {2}}
  -- the compiled loss is the function's: evaluate gives what the function gives
  t.near(m:evaluate(x, y, {verbose = 0}), nn.losses.mean_squared_error(y, m:predict(x, {verbose = 0})):mean(),
         1e-6, 'evaluate')
  -- and as a metric, logged under its name, as Keras' metrics=[keras.losses.mae]
  m:compile{optimizer = 'sgd', loss = 'mse', metrics = {nn.losses.mean_absolute_error}}
  t.eq(m.metrics_names[2], 'mean_absolute_error')
  local _, mae = m:evaluate(x, y, {verbose = 0})
  t.near(mae, nn.losses.mean_absolute_error(y, m:predict(x, {verbose = 0})):mean(), 1e-6,
         'the metric is the function')
  t.raises(function() m:compile{loss = function() return 0 end} end,
           'model:compile: loss must be a name', 'custom loss functions are not supported')
end)

t.test('tensors on another device are read back', function()
  local loss = nn.losses.CategoricalCrossentropy()
  t.near(loss(nn.tensor(ONE_HOT):to('emulated'), nn.tensor(PRED):to('emulated')), 1.1769392,
         TOLERANCE, 'emulated device')
end)

-- ---- strict arguments ----

t.test('a metric reads its settings at each update, as Keras reads them', function()
  local m = nn.metrics.Precision{thresholds = 0.5}
  m:update_state({{1, 0}}, {{0.6, 0.7}})
  t.eq(m:result(), 0.5, 'at 0.5: one of two predicted positives is right')
  m.thresholds = 0.9
  m:reset_state()
  m:update_state({{1, 0}}, {{0.6, 0.7}})
  t.eq(m:result(), 0.0, 'at 0.9 nothing is predicted positive')
  -- AUC's buckets cannot change under counts kept; after reset_state they can
  local auc = nn.metrics.AUC{}
  auc:update_state({{1}, {0}}, {{0.8}, {0.3}})
  auc.num_thresholds = 50
  t.raises(function() auc:update_state({{1}}, {{0.5}}) end,
           'nn.metrics.AUC:update_state: num_thresholds changed from 200 to 50 while counts are kept')
  local p = nn.metrics.Precision{}
  p:update_state({{1, 0}}, {{0.6, 0.7}})
  p.class = 'mean_squared_error'
  t.raises(function() p:update_state({{1, 0}}, {{0.6, 0.7}}) end,
           "the metric's class changed from precision to mse while counts are kept")
  auc:reset_state()
  auc:update_state({{1}, {0}}, {{0.8}, {0.3}})
  t.eq(auc:result(), 1.0, 'counted again with 50 buckets')
end)

t.test('bad calls are errors that name the function and the fault', function()
  local cce = nn.losses.CategoricalCrossentropy()
  local sparse = nn.losses.SparseCategoricalCrossentropy()
  t.raises(function() cce({{0, 1, 0, 0}, {0, 0, 1, 0}}, PRED) end,
           'nn.losses.CategoricalCrossentropy: y_true has shape (2, 4) but y_pred has shape (2, 3)')
  t.raises(function() cce({1, 2}, PRED) end, 'y_true has shape (2,) but y_pred has shape (2, 3)',
           'looks like class ids', 'nn.losses.SparseCategoricalCrossentropy')
  t.raises(function() sparse({1, 3}, PRED) end,
           'nn.losses.SparseCategoricalCrossentropy: label 3 of sample 2 is out of range',
           'lie in [0, 3)')
  t.raises(function() sparse({0.5, 1}, PRED) end, 'is not an integer class id')
  t.raises(function() sparse(ONE_HOT, PRED) end,
           'nn.losses.SparseCategoricalCrossentropy: y_true must hold one class id per sample',
           'looks one-hot')
  t.raises(function() cce(ONE_HOT, PRED, {1, 2, 3}) end,
           'nn.losses.CategoricalCrossentropy: sample_weight must hold one weight per sample, ' ..
           '2 for y_pred of shape (2, 3), got shape (3,)')
  t.raises(function() cce(ONE_HOT, PRED, {1, -1}) end,
           'sample_weight must be finite numbers >= 0, got -1 for sample 2')
  t.raises(function() cce('labels', PRED) end,
           'nn.losses.CategoricalCrossentropy: expected a tensor or a table of numbers for y_true, got string')
  t.raises(function() cce(ONE_HOT, 0.5) end, 'nn.losses.CategoricalCrossentropy: y_pred must have an axis')
  t.raises(function() cce(ONE_HOT, {{0.5, 0.5, 0}, {0.1}}) end,
           'nn.losses.CategoricalCrossentropy (y_pred)')
  t.raises(function() cce(ONE_HOT, PRED, nil, 'extra') end,
           "nn.losses.CategoricalCrossentropy: unexpected argument 4 ('extra')")
  t.raises(function() nn.losses.BinaryCrossentropy()({{2}}, {{0.5}}) end,
           'nn.losses.BinaryCrossentropy: label 2 of sample 1 is not in [0, 1]')
  t.raises(function() nn.losses.MeanSquaredError()({{0 / 0}}, {{0.5}}) end,
           'nn.losses.MeanSquaredError: the label of sample 1 is nan; labels must be finite')
  t.raises(function() nn.losses.huber({{0}}, {{1}}, {deltas = 2}) end,
           "nn.losses.huber: unknown option 'deltas'", 'delta')
  t.raises(function() nn.losses.poisson({{0}}, {{1}}, {from_logits = true}) end,
           'nn.losses.poisson: takes no options')
  t.raises(function() nn.losses.categorical_crossentropy(ONE_HOT, PRED, true) end,
           'nn.losses.categorical_crossentropy: the third argument is a table of options')
  local m = nn.metrics.CategoricalAccuracy()
  t.raises(function() m.update_state(ONE_HOT, PRED) end,
           'expected a metric object from nn.metrics', 'colon')
  t.raises(function() m:update_state({1, 2}, PRED) end,
           'nn.metrics.CategoricalAccuracy:update_state: y_true has shape (2,) but y_pred has shape (2, 3)',
           'nn.metrics.SparseCategoricalAccuracy')
  t.raises(function() nn.metrics.SparseCategoricalAccuracy():update_state({1, 5}, PRED) end,
           'nn.metrics.SparseCategoricalAccuracy:update_state: label 5 of sample 2 is out of range')
  t.raises(function() nn.metrics.Precision{class_id = 4}:update_state(ONE_HOT, PRED) end,
           'nn.metrics.Precision:update_state: the metric counts class_id 4, but y_pred has 3 classes')
  t.raises(function() m:result(1) end, 'nn.metrics.CategoricalAccuracy:result: unexpected argument 1')
  -- nothing was counted by the failed calls
  t.eq(m:result(), 0.0, 'no partial update')
end)

t.finish()
