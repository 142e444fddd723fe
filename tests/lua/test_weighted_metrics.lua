-- compile's weighted_metrics, as Keras 3: each weighted metric is sum(w * value) / sum(w)
-- over the rows (precision and recall count weighted positives, AUC weighted buckets),
-- w the batch's sample weights (class_weight's per class, validation_data's for val_).
-- Every expected number is worked out by hand from models whose predictions are fixed.
local t = require 'harness'
local L = nn.layers

local devices = {'cpu', 'emulated'}
local function names(model) return table.concat(model.metrics_names, ', ') end
local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-weighted-metrics'
nn.io.make_directory(directory)

-- Dense{3, softmax} with a zero kernel and bias (0, ln 2, ln 5): every row predicts
-- (1/8, 2/8, 5/8), so class 2, whatever x is.
local function class_two_model(device, compile)
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  model:to(device)
  model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
  compile = compile or {}
  compile.optimizer = compile.optimizer or nn.optimizers.SGD{learning_rate = 0}
  compile.loss = compile.loss or 'sparse_categorical_crossentropy'
  model:compile(compile)
  return model
end

-- Labels 0, 1, 2, 2, 0: rows 3 and 4 are right. Unweighted accuracy 2/5; with weights
-- (1, 2, 3, 0.5, 4): (3 + 0.5) / 10.5 = 1/3.
local x5, y5 = nn.zeros(5, 2), nn.tensor{0, 1, 2, 2, 0}
local w5 = {1, 2, 3, 0.5, 4}

t.test('evaluate: weighted accuracy is sum(w * right) / sum(w); the same name logs as weighted_', function()
  for _, device in ipairs(devices) do
    local model = class_two_model(device, {metrics = {'accuracy'}, weighted_metrics = {'accuracy'}})
    t.eq(names(model), 'loss, accuracy, weighted_accuracy', device .. ': names')
    local loss, accuracy, weighted = model:evaluate(x5, y5, {verbose = 0, sample_weight = w5})
    t.near(accuracy, 2 / 5, 1e-12, device .. ': accuracy is not weighed')
    t.near(weighted, 1 / 3, 1e-7, device .. ': weighted accuracy')
    t.truthy(loss > 0, device .. ': loss')
    -- Batches of two: the sums run over the whole evaluation, not a mean of batch means
    -- (batch means (1/3, 3.5/3.5 = 1, 0/4) would average to 4/9).
    local logs = model:evaluate(x5, y5, {verbose = 0, batch_size = 2, sample_weight = w5,
                                         return_dict = true})
    t.near(logs.weighted_accuracy, 1 / 3, 1e-7, device .. ': over batches of two')
    t.near(logs.accuracy, 2 / 5, 1e-12, device .. ': unweighted over batches')
    -- Without sample weights it is the unweighted metric.
    local _, plain, unweighted = model:evaluate(x5, y5, {verbose = 0})
    t.near(unweighted, plain, 0, device .. ': no weights, same as accuracy')
    t.near(unweighted, 2 / 5, 1e-12, device .. ': no weights')
    -- Alone in weighted_metrics it keeps its own name.
    local alone = class_two_model(device, {weighted_metrics = {'accuracy'}})
    t.eq(names(alone), 'loss, accuracy', device .. ': alone')
    local _, only = alone:evaluate(x5, y5, {verbose = 0, sample_weight = w5})
    t.near(only, 1 / 3, 1e-7, device .. ': alone, weighted')
    -- Weights that sum to 0 give 0 (Keras' divide_no_nan).
    local _, _, zero = model:evaluate(x5, y5, {verbose = 0, sample_weight = {0, 0, 0, 0, 0}})
    t.eq(zero, 0, device .. ': zero weights')
  end
end)

-- Dense{1} with a zero kernel and bias 1: every row predicts 1. Targets 0, 1, 3, 2 have
-- absolute errors 1, 0, 2, 1 and squared errors 1, 0, 4, 1; weights (1, 0, 2, 3) sum to 6.
t.test('evaluate: weighted mae, mse and root_mean_squared_error', function()
  for _, device in ipairs(devices) do
    local model = nn.Sequential{L.Dense{1, input_shape = {2}}}
    model:to(device)
    model:set_weights{nn.zeros(2, 1), nn.tensor{1}}
    model:compile{loss = 'mse', metrics = {'mae'},
                  weighted_metrics = {'mae', 'mse', 'root_mean_squared_error'}}
    t.eq(names(model), 'loss, mae, weighted_mae, mse, root_mean_squared_error',
         device .. ': names')
    local y = nn.tensor{{0}, {1}, {3}, {2}}
    local logs = model:evaluate(nn.zeros(4, 2), y, {verbose = 0, sample_weight = {1, 0, 2, 3},
                                                   return_dict = true})
    t.near(logs.mae, 1, 1e-7, device .. ': mae')
    t.near(logs.weighted_mae, (1 + 4 + 3) / 6, 1e-7, device .. ': weighted mae')
    t.near(logs.mse, (1 + 8 + 3) / 6, 1e-7, device .. ': weighted mse')
    t.near(logs.root_mean_squared_error, math.sqrt(2), 1e-7, device .. ': weighted rmse')
    t.near(logs.loss, (1 + 8 + 3) / 4, 1e-6, device .. ': the loss divides by the samples')
  end
end)

-- Dense{1, sigmoid} with kernel 1 and bias 0 on x = logits (2, -2, 3, 1, -1): predictions
-- 0.88, 0.12, 0.95, 0.73, 0.27, so rows 1, 3, 4 are predicted positive. Labels (1, 1, 0,
-- 1, 0): true positives rows 1 and 4; weights (1, 2, 4, 0.5, 3).
--   precision: unweighted 2/3, weighted (1 + 0.5) / (1 + 4 + 0.5) = 3/11
--   recall:    unweighted 2/3, weighted (1 + 0.5) / (1 + 2 + 0.5) = 3/7
--   auc: the (positive, negative) pairs ranked right, weighted by w_p * w_n: rows 1 > 5
--        (1 * 3) and 4 > 5 (0.5 * 3) of (3.5 * 7): 9/49; unweighted 2 of 6: 1/3.
t.test('precision, recall and auc count weighted positives and buckets', function()
  local x = nn.tensor{{2}, {-2}, {3}, {1}, {-1}}
  local y = nn.tensor{{1}, {1}, {0}, {1}, {0}}
  local w = {1, 2, 4, 0.5, 3}
  for _, device in ipairs(devices) do
    local model = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {1}}}
    model:to(device)
    model:set_weights{nn.tensor{{1}}, nn.tensor{0}}
    model:compile{loss = 'binary_crossentropy', metrics = {'precision', 'recall', 'auc'},
                  weighted_metrics = {'precision', nn.metrics.Recall{name = 'wr'}, 'auc'}}
    t.eq(names(model), 'loss, precision, recall, auc, weighted_precision, wr, weighted_auc', device .. ': names')
    local logs = model:evaluate(x, y, {verbose = 0, sample_weight = w, batch_size = 2,
                                       return_dict = true})
    t.near(logs.precision, 2 / 3, 1e-7, device .. ': precision')
    t.near(logs.weighted_precision, 3 / 11, 1e-7, device .. ': weighted precision')
    t.near(logs.recall, 2 / 3, 1e-7, device .. ': recall')
    t.near(logs.wr, 3 / 7, 1e-7, device .. ': weighted recall')
    t.near(logs.auc, 1 / 3, 1e-6, device .. ': auc')
    t.near(logs.weighted_auc, 9 / 49, 1e-6, device .. ': weighted auc')
  end
end)

t.test('fit: sample_weight and class_weight weigh the training metrics, validation_data its own', function()
  for _, device in ipairs(devices) do
    local model = class_two_model(device, {metrics = {'accuracy'}, weighted_metrics = {'accuracy'}})
    local history = model:fit(x5, y5, {epochs = 1, batch_size = 5, verbose = 0, sample_weight = w5,
                                       validation_data = {nn.zeros(3, 2), nn.tensor{2, 0, 1},
                                                          {1, 4, 5}}})
    local h = history.history
    t.near(h.accuracy[1], 2 / 5, 1e-12, device .. ': fit accuracy')
    t.near(h.weighted_accuracy[1], 1 / 3, 1e-7, device .. ': fit weighted accuracy')
    t.near(h.val_accuracy[1], 1 / 3, 1e-12, device .. ': val accuracy')
    t.near(h.val_weighted_accuracy[1], 1 / 10, 1e-7, device .. ': val weighted by its weights')
    -- Without validation weights the val_ weighted metric is the plain one.
    h = model:fit(x5, y5, {epochs = 1, batch_size = 5, verbose = 0, sample_weight = w5,
                           validation_data = {nn.zeros(3, 2), nn.tensor{2, 0, 1}}}).history
    t.near(h.val_weighted_accuracy[1], 1 / 3, 1e-7, device .. ': val without weights')
    -- class_weight {0: 2, 1: 0, 2: 1} gives the rows (2, 0, 1, 1, 2): right ones weigh 2 of 6.
    -- Shuffled batches of two: the weights follow their samples.
    h = model:fit(x5, y5, {epochs = 1, batch_size = 2, verbose = 0,
                           class_weight = {[0] = 2, [1] = 0, [2] = 1}}).history
    t.near(h.weighted_accuracy[1], 1 / 3, 1e-7, device .. ': class_weight')
    t.near(h.accuracy[1], 2 / 5, 1e-12, device .. ': class_weight leaves accuracy')
    -- validation_split: the last two samples (labels 2, 0; weights 0.5, 4) validate.
    h = model:fit(x5, y5, {epochs = 1, verbose = 0, sample_weight = w5,
                           validation_split = 0.4}).history
    t.near(h.val_weighted_accuracy[1], 0.5 / 4.5, 1e-7, device .. ': validation_split weights')
    t.near(h.weighted_accuracy[1], 3 / 6, 1e-7, device .. ': training part (1, 2, 3)')
  end
end)

t.test('train_on_batch and test_on_batch weigh the weighted metrics', function()
  for _, device in ipairs(devices) do
    local model = class_two_model(device, {metrics = {'accuracy'}, weighted_metrics = {'accuracy'}})
    local logs = model:train_on_batch(x5, y5, {class_weight = {[0] = 2, [1] = 0, [2] = 1},
                                               return_dict = true})
    t.near(logs.weighted_accuracy, 1 / 3, 1e-7, device .. ': train_on_batch class_weight')
    t.near(logs.accuracy, 2 / 5, 1e-12, device .. ': train_on_batch accuracy')
    local loss, accuracy, weighted = model:test_on_batch(x5, y5, {sample_weight = w5})
    t.near(weighted, 1 / 3, 1e-7, device .. ': test_on_batch')
    t.near(accuracy, 2 / 5, 1e-12, device .. ': test_on_batch accuracy')
    t.truthy(loss > 0, device .. ': loss')
  end
end)

-- Embedding{mask_zero} then Dense{3, softmax} with the identity kernel: id 1 predicts
-- class 0, id 2 class 1, id 3 class 2; id 0 is padding (masked), its prediction uniform,
-- so class 0 (the first of ties). Positions (prediction vs label):
--   sample 1: ids (1, 2, 0), labels (0, 0, 0): right, wrong, right (masked)
--   sample 2: ids (3, 3, 1), labels (2, 1, 0): right, wrong, right
-- Unweighted accuracy counts every position: 4/6. With sample weights (1, 3) the mask
-- zeroes the padded position's weight: (1 + 3 + 3) / (1 + 1 + 3 + 3 + 3) = 7/11 (ignoring
-- the mask would give 8/12); without sample weights a weighted metric counts every
-- position as the unweighted one (4/6, where the mask alone would give 3/5).
t.test('under a mask, sample weights times the mask weigh the metric; no weights, every position', function()
  local ids = nn.tensor{{1, 2, 0}, {3, 3, 1}}
  local labels = nn.tensor{{0, 0, 0}, {2, 1, 0}}
  for _, device in ipairs(devices) do
    local model = nn.Sequential{L.Embedding{4, 3, mask_zero = true, input_shape = {3}},
                                L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:set_weights{nn.tensor{{0, 0, 0}, {5, 0, 0}, {0, 5, 0}, {0, 0, 5}}, nn.tensor{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, nn.zeros(3)}
    model:compile{loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'},
                  weighted_metrics = {'accuracy'}}
    local _, accuracy, weighted = model:evaluate(ids, labels, {verbose = 0, sample_weight = {1, 3}})
    t.near(accuracy, 4 / 6, 1e-12, device .. ': unweighted counts the padding')
    t.near(weighted, 7 / 11, 1e-7, device .. ': weights times the mask')
    _, accuracy, weighted = model:evaluate(ids, labels, {verbose = 0})
    t.near(weighted, 4 / 6, 1e-12, device .. ': no sample weights: every position')
    -- Weights per position (N, T): sample 1 (1, 2, 5 masked), sample 2 (1, 1, 0):
    -- right ones 1 + 1 of 1 + 2 + 1 + 1.
    _, _, weighted = model:evaluate(ids, labels, {verbose = 0,
                                                  sample_weight = {{1, 2, 5}, {1, 1, 0}}})
    t.near(weighted, 2 / 5, 1e-7, device .. ': per-position weights')
  end
end)

-- Precision and recall do not read the mask (Keras' confusion metrics take the sample
-- weights alone). Embedding{mask_zero} values (3, 2, -2) for ids (0, 1, 2), then Dense{1,
-- sigmoid} with kernel 1: ids (1, 0) predict (0.88, 0.95), the padding predicted positive;
-- ids (2, 2) predict (0.12, 0.12). Labels (1, 0) and (1, 0), sample weights (1, 3):
--   precision: positives predicted at (1, 1) right and (1, 2) the padding: 1 / (1 + 1) = 1/2
--              (1 if the mask were applied)
--   recall: actual positives (1, 1) weight 1, found, and (2, 1) weight 3, missed: 1/4
--   binary accuracy, a mean, takes weights times the mask: (1 + 3) / (1 + 3 + 3) = 4/7
t.test('under a mask, weighted precision and recall take the sample weights alone', function()
  local ids = nn.tensor{{1, 0}, {2, 2}}
  local labels = nn.tensor{{{1}, {0}}, {{1}, {0}}}
  for _, device in ipairs(devices) do
    local model = nn.Sequential{L.Embedding{3, 1, mask_zero = true, input_shape = {2}},
                                L.Dense{1, activation = 'sigmoid'}}
    model:to(device)
    model:set_weights{nn.tensor{{3}, {2}, {-2}}, nn.tensor{{1}}, nn.zeros(1)}
    model:compile{loss = 'binary_crossentropy',
                  weighted_metrics = {'precision', 'recall', 'binary_accuracy'}}
    local logs = model:evaluate(ids, labels, {verbose = 0, sample_weight = {1, 3},
                                              return_dict = true})
    t.near(logs.precision, 1 / 2, 1e-7, device .. ': precision counts the padding')
    t.near(logs.recall, 1 / 4, 1e-7, device .. ': recall weighted')
    t.near(logs.binary_accuracy, 4 / 7, 1e-7, device .. ': binary accuracy masked')
  end
end)

t.test('model files keep weighted_metrics; a loaded model evaluates the same', function()
  local path = directory .. '/weighted.safetensors'
  local model = class_two_model('cpu', {metrics = {'accuracy'},
                                        weighted_metrics = {'accuracy', nn.metrics.SparseTopKCategoricalAccuracy{k = 1, name = 'top1'}}})
  local before = model:evaluate(x5, y5, {verbose = 0, sample_weight = w5, return_dict = true})
  t.near(before.top1, 1 / 3, 1e-7, 'top-1 weighted')
  model:save(path)
  local copy = nn.models.load_model(path)
  t.eq(names(copy), 'loss, accuracy, weighted_accuracy, top1', 'names after loading')
  local after = copy:evaluate(x5, y5, {verbose = 0, sample_weight = w5, return_dict = true})
  for _, name in ipairs{'loss', 'accuracy', 'weighted_accuracy', 'top1'} do
    t.eq(after[name], before[name], name .. ' after loading')
  end
  -- A model without them is saved and read back without them.
  local plain = class_two_model('cpu', {metrics = {'accuracy'}})
  plain:save(directory .. '/plain.safetensors')
  t.eq(names(nn.models.load_model(directory .. '/plain.safetensors')), 'loss, accuracy')
end)

t.test('bad weighted_metrics are refused, naming compile and what was expected', function()
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  local function compile(weighted, metrics)
    return function()
      model:compile{loss = 'sparse_categorical_crossentropy', metrics = metrics,
                    weighted_metrics = weighted}
    end
  end
  t.raises(compile(5), 'model:compile', 'weighted_metrics must be a list of names or nn.metrics objects, got integer')
  t.raises(compile{accuracy = true}, 'model:compile', 'weighted_metrics must be a list', 'the key accuracy')
  t.raises(compile{'accurasy'}, 'model:compile: weighted_metrics', 'accurasy')
  t.raises(compile{true}, 'model:compile: weighted_metrics', 'a metric must be a name', 'got boolean')
  t.raises(compile{'mae'}, 'model:compile: weighted_metrics', "metric 'mae' reads labels of the output's shape")
  t.raises(compile{'accuracy', 'accuracy'}, "two weighted_metrics are named 'accuracy'")
  t.raises(compile({'accuracy'}, {'accuracy', nn.metrics.SparseCategoricalAccuracy{name = 'weighted_accuracy'}}),
           "weighted_metrics entry 'accuracy' would log as 'weighted_accuracy'")
  t.raises(compile{'accuracy', 'acc', 'sparse_categorical_accuracy', 'top_k_categorical_accuracy',
                   'sparse_top_k_categorical_accuracy', 'precision', 'recall', 'auc', 'mse'},
           'at most 8 weighted_metrics, got 9')
  t.raises(compile{nn.metrics.SparseCategoricalAccuracy{name = 'val_p'}}, "a metric cannot be named 'val_p'")
  t.eq(model.compiled, false, 'a refused compile leaves the model uncompiled')
  model:compile{loss = 'sparse_categorical_crossentropy', weighted_metrics = 'accuracy'}
  t.eq(names(model), 'loss, accuracy', 'one metric alone, as for metrics')
end)

-- 8 metrics and 8 weighted metrics with validation fill 34 logs; a callback's own
-- number (ReduceLROnPlateau's learning_rate) must still reach the history.
t.test('with every metric slot used, a callback number (learning_rate) still reaches the history', function()
  local model = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {1}}}
  local metrics, weighted = {}, {}
  for i = 1, 8 do
    metrics[i] = nn.metrics.BinaryAccuracy{name = 'm' .. i}
    weighted[i] = nn.metrics.BinaryAccuracy{name = 'w' .. i}
  end
  model:compile{loss = 'binary_crossentropy', metrics = metrics, weighted_metrics = weighted}
  local x, y = nn.tensor{{2}, {-2}, {3}}, nn.tensor{{1}, {1}, {0}}
  local history = model:fit(x, y, {epochs = 1, verbose = 0, sample_weight = {1, 2, 3},
                                   validation_data = {x, y},
                                   callbacks = {nn.callbacks.ReduceLROnPlateau{monitor = 'val_w8'}}})
  t.truthy(history.history.val_w8, 'val_w8 logged')
  t.truthy(history.history.learning_rate, 'learning_rate logged beside 34 metric logs')
end)

t.finish()
