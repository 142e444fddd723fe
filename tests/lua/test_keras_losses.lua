-- The losses and metrics added with huber, from Lua: values by hand on Keras' own
-- examples (an identity Dense layer predicts x itself), RMSE's root of the mean across
-- batches, top-k ties, training the same on cpu and emulated with sample weights and a
-- mask, and a huber loss's delta kept in a model file.
local t = require 'harness'
local L = nn.layers
local devices = {'cpu', 'emulated'}

-- A Dense layer whose output is its input: kernel I, bias 0.
local function identity_model(device, width, loss, metrics)
  local model = nn.Sequential{L.Dense{width, input_shape = {width}}}
  model:to(device)
  local kernel = {}
  for i = 1, width do
    kernel[i] = {}
    for j = 1, width do kernel[i][j] = i == j and 1 or 0 end
  end
  model:set_weights{nn.tensor(kernel), nn.zeros(width)}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = loss, metrics = metrics}
  return model
end

local function log_cosh(x) return math.log((math.exp(x) + math.exp(-x)) / 2) end

-- Keras' example for huber, kl_divergence, ...: y_true [[0, 1], [0, 0]],
-- y_pred [[0.6, 0.4], [0.4, 0.6]].
local x = nn.tensor{{0.6, 0.4}, {0.4, 0.6}}
local y = nn.tensor{{0, 1}, {0, 0}}
local e = 1e-7

t.test('each new loss by hand on Keras\' example', function()
  local cases = {
    {'huber', 0.155},  -- rows (0.18 + 0.18)/2, (0.08 + 0.18)/2
    {nn.losses.Huber{delta = 0.5}, (0.175 + 0.175 + 0.08 + 0.175) / 4}, -- 0.5·0.6 - 0.125
    {'log_cosh', (log_cosh(0.6) * 3 + log_cosh(0.4)) / 4},
    {'kld', (e * math.log(e / 0.6) + math.log(1 / 0.4) + e * math.log(e / 0.4) +
             e * math.log(e / 0.6)) / 2},
    {'poisson', ((0.6 + 0.4 - math.log(0.4 + e)) / 2 + (0.4 + 0.6) / 2) / 2},
    {'hinge', (1.6 + 0.6 + 1.4 + 1.6) / 4},  -- 0/1 labels read as -1/1
    {'squared_hinge', (1.6 ^ 2 + 0.6 ^ 2 + 1.4 ^ 2 + 1.6 ^ 2) / 4},
    {'categorical_hinge', ((0.6 - 0.4 + 1) + (0.6 - 0 + 1)) / 2},
    {'cosine_similarity', -(0.4 / math.sqrt(0.52)) / 2}, -- a zero label row: cosine 0
    {'msle', ((math.log(1.6) - math.log(1 + e)) ^ 2 * 2 + (math.log(1.4) - math.log(2)) ^ 2 +
              (math.log(1.4) - math.log(1 + e)) ^ 2) / 4},
    {nn.losses.MeanAbsolutePercentageError{}, 100 * (0.6 / e + 0.6 + 0.4 / e + 0.6 / e) / 4},
  }
  for _, device in ipairs(devices) do
    for _, case in ipairs(cases) do
      local model = identity_model(device, 2, case[1])
      local name = type(case[1]) == 'string' and case[1] or case[1].name
      local value = model:evaluate(x, y, {verbose = 0})
      t.near(value, case[2], 1e-6 * math.max(1, math.abs(case[2])), device .. ': ' .. name)
    end
  end
end)

t.test('sample weights weigh the new losses as the old ones', function()
  for _, device in ipairs(devices) do
    local model = identity_model(device, 2, 'huber')
    t.near(model:evaluate(x, y, {verbose = 0, sample_weight = nn.tensor{2, 0}}),
           2 * 0.18 / 2, 1e-7, device .. ': huber, weights (2, 0)')
    model = identity_model(device, 2, 'categorical_hinge')
    t.near(model:evaluate(x, y, {verbose = 0, sample_weight = {0.5, 1}}),
           (0.5 * 1.2 + 1.6) / 2, 1e-6, device .. ': categorical_hinge, weights (0.5, 1)')
  end
end)

t.test('the metric forms: the cosine positive, RMSE the root of the mean over all rows', function()
  for _, device in ipairs(devices) do
    local model = identity_model(device, 2, 'mse', {'cosine_similarity', 'kl_divergence',
      'logcosh', 'hinge', 'squared_hinge', 'categorical_hinge', 'poisson', 'msle'})
    local values = {model:evaluate(x, y, {verbose = 0})}
    t.near(values[2], 0.4 / math.sqrt(0.52) / 2, 1e-6, device .. ': cosine_similarity')
    t.near(values[3], 0.458, 1e-3, device .. ': kl_divergence')
    t.near(values[4], (log_cosh(0.6) * 3 + log_cosh(0.4)) / 4, 1e-7, device .. ': logcosh')
    t.near(values[5], 1.3, 1e-6, device .. ': hinge')
    t.near(values[6], 1.86, 1e-6, device .. ': squared_hinge')
    t.near(values[7], 1.4, 1e-6, device .. ': categorical_hinge')
    t.near(values[8], ((0.6 + 0.4 - math.log(0.4 + e)) / 2 + 0.5) / 2, 1e-6, device .. ': poisson')
    -- Squared errors (1, 0 | 4, 0): row means 0.5 and 2; RMSE sqrt(1.25), not the mean of
    -- the rows' roots (1.0607), however the rows are batched, in evaluate and in fit.
    model = identity_model(device, 2, 'mse', {'root_mean_squared_error', 'mse'})
    local px, py = nn.tensor{{1, 2}, {3, 4}}, nn.tensor{{0, 2}, {5, 4}}
    for _, batch_size in ipairs{1, 2} do
      local loss, rmse, mse = model:evaluate(px, py, {verbose = 0, batch_size = batch_size})
      t.near(rmse, math.sqrt(1.25), 1e-6, device .. ': rmse, batches of ' .. batch_size)
      t.near(mse, 1.25, 1e-6, device .. ': mse')
      t.near(loss, 1.25, 1e-6, device .. ': loss')
    end
    local history = model:fit(px, py, {epochs = 1, batch_size = 1, shuffle = false, verbose = 0,
                                       validation_data = {px, py}})
    t.near(history.history.root_mean_squared_error[1], math.sqrt(1.25), 1e-6, device .. ': fit rmse')
    t.near(history.history.val_root_mean_squared_error[1], math.sqrt(1.25), 1e-6,
           device .. ': validation rmse')
  end
end)

t.test('top-k accuracy: k = 5, ties at the fifth place count as in', function()
  local row = {0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.1}
  local px = nn.tensor{row, row, row, row}
  local ids = nn.tensor{5, 6, 0, 4} -- in, out, in, in
  local onehot = nn.utils.to_categorical(ids, 7)
  for _, device in ipairs(devices) do
    local sparse = identity_model(device, 7, 'sparse_categorical_crossentropy',
                                  {'sparse_top_k_categorical_accuracy', 'accuracy'})
    local _, top_k, accuracy = sparse:evaluate(px, ids, {verbose = 0})
    t.near(top_k, 3 / 4, 1e-7, device .. ': sparse top 5')
    t.near(accuracy, 1 / 4, 1e-7, device .. ': top 1')
    local categorical = identity_model(device, 7, 'categorical_crossentropy',
                                       {'top_k_categorical_accuracy'})
    _, top_k = categorical:evaluate(px, onehot, {verbose = 0})
    t.near(top_k, 3 / 4, 1e-7, device .. ': top 5 of one-hot labels')
  end
end)

-- Small problems each loss can learn: the last activation and labels that suit it.
local function training_cases()
  nn.random.seed(5)
  local u = nn.random.uniform(16, 3)
  local rows = u:tolist()
  local signs, counts, soft = {}, {}, {}
  for i, row in ipairs(rows) do
    signs[i], counts[i], soft[i] = {}, {}, {}
    local sum = row[1] + row[2] + row[3]
    for j, v in ipairs(row) do
      signs[i][j] = v > 0.5 and 1 or 0
      counts[i][j] = math.floor(4 * v)
      soft[i][j] = v / sum
    end
  end
  signs = nn.tensor(signs)
  local onehot = nn.utils.to_categorical(nn.tensor{0, 1, 2, 1, 0, 2, 2, 1, 0, 0, 1, 2, 1, 0, 2, 1}, 3)
  return {
    {'huber', 'linear', u * 4 - 2},
    {nn.losses.Huber{delta = 0.25}, 'tanh', u - 0.5},
    {'log_cosh', 'linear', u * 3},
    {'kl_divergence', 'softmax', nn.tensor(soft)},
    {'poisson', 'softplus', nn.tensor(counts)},
    {'hinge', 'tanh', signs},              -- 0/1, read as -1/1
    {'squared_hinge', 'linear', signs * 2 - 1},
    {'categorical_hinge', 'softmax', onehot},
    {'cosine_similarity', 'linear', u - 0.5},
    {'mape', 'linear', u + 0.5, 0.002}, -- gradients of 100/|y|: a smaller step
    {'msle', 'sigmoid', u},
  }
end

t.test('precision and recall: counts over the whole run, not means of batches', function()
  -- Predictions above 0.5 are positive (0.5 itself is not), labels other than 0 are.
  -- Rows: TP 1 of 2 predicted, 1 actual; TP 1 of 1, 2 actual; nothing predicted, 1 actual
  -- (label 0.25); 2 predicted, none actual. In all: TP 2, predicted 5, actual 4.
  local xs = nn.tensor{{0.9, 0.2, 0.6}, {0.1, 0.7, 0.5}, {0.3, 0.4, 0.2}, {0.8, 0.9, 0.3}}
  local ys = nn.tensor{{1, 0, 0}, {0, 1, 1}, {0.25, 0, 0}, {0, 0, 0}}
  for _, device in ipairs(devices) do
    local model = identity_model(device, 3, 'mse', {'precision', 'recall'})
    t.eq(table.concat(model.metrics_names, ','), 'loss,precision,recall', device .. ': names')
    for _, batch_size in ipairs{4, 2, 1} do
      -- Batches of 2 would average to 1/3 and 1/3.
      local _, precision, recall = model:evaluate(xs, ys, {verbose = 0, batch_size = batch_size})
      t.near(precision, 2 / 5, 1e-12, device .. ': precision, batches of ' .. batch_size)
      t.near(recall, 2 / 4, 1e-12, device .. ': recall, batches of ' .. batch_size)
    end
    -- Nothing predicted positive and nothing actual: 0, as Keras' divide_no_nan.
    local _, precision, recall = model:evaluate(xs:slice(3, 3), nn.zeros(1, 3), {verbose = 0})
    t.eq(precision, 0, device .. ': precision of nothing')
    t.eq(recall, 0, device .. ': recall of nothing')
    -- fit (learning rate 0) and validation report the same counts.
    local history = model:fit(xs, ys, {epochs = 1, batch_size = 2, shuffle = false, verbose = 0,
                                       validation_data = {xs, ys}})
    t.near(history.history.precision[1], 2 / 5, 1e-12, device .. ': fit precision')
    t.near(history.history.val_recall[1], 2 / 4, 1e-12, device .. ': validation recall')
  end
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-keras-losses'
  nn.io.make_directory(directory)
  identity_model('cpu', 3, 'binary_crossentropy', {'recall'}):save(directory .. '/recall.nnsh')
  local copy = nn.models.load_model(directory .. '/recall.nnsh')
  t.eq(table.concat(copy.metrics_names, ','), 'loss,recall', 'recall kept in a model file')
  t.near(select(2, copy:evaluate(xs, ys, {verbose = 0})), 2 / 4, 1e-12, 'and counted again')
end)

t.test('nn.metrics objects: k, thresholds, their own names, kept in model files', function()
  -- The rows of the precision test above; the top 2 of row 1 are classes 0 and 2, of row
  -- 2 classes 1 and 2, of row 3 classes 1 and 0, of row 4 classes 1 and 0. The one-hot
  -- top 1 compares with the labels' argmax (the first on ties): 0, 1, 0, 0.
  local xs = nn.tensor{{0.9, 0.2, 0.6}, {0.1, 0.7, 0.5}, {0.3, 0.4, 0.2}, {0.8, 0.9, 0.3}}
  local ys = nn.tensor{{1, 0, 0}, {0, 1, 1}, {0.25, 0, 0}, {0, 0, 0}}
  local M = nn.metrics
  local metrics = {
    M.TopKCategoricalAccuracy{k = 1, name = 'top1'},  -- rows 1 and 2 are right
    M.Precision{thresholds = 0.35},    -- predicted 0.9 0.6 0.7 0.5 0.4 0.8 0.9: TP 3 of 7
    M.Recall{thresholds = 0.75, name = 'sure_recall'},  -- only 0.9 (row 1) of 4 positives
    M.BinaryAccuracy{threshold = 0.65},
    M.MeanSquaredError{},
  }
  t.eq(tostring(metrics[1]), 'nn.metrics.TopKCategoricalAccuracy{name="top1", k=1}')
  t.eq(tostring(metrics[2]), 'nn.metrics.Precision{name="precision", thresholds=0.35}')
  -- BinaryAccuracy at 0.65: predictions 0.9, 0.7, 0.8, 0.9 are 1; 3 + 2 + 2 + 1 of the 12
  -- values match their labels exactly (the 0.25 label never does).
  local expected = {top1 = 2 / 4, precision = 3 / 7, sure_recall = 1 / 4, binary_accuracy = 8 / 12}
  local mse = 0
  for i = 1, 4 do
    for j = 1, 3 do mse = mse + (xs[i][j] - ys[i][j]) ^ 2 / 12 end
  end
  expected.mean_squared_error = mse
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-keras-losses'
  nn.io.make_directory(directory)
  for _, device in ipairs(devices) do
    local model = identity_model(device, 3, 'mse', metrics)
    t.eq(table.concat(model.metrics_names, ','),
         'loss,top1,precision,sure_recall,binary_accuracy,mean_squared_error', device .. ': names')
    local function check(values, what)
      for i, name in ipairs{'top1', 'precision', 'sure_recall', 'binary_accuracy',
                            'mean_squared_error'} do
        t.near(values[i + 1], expected[name], 1e-6, device .. ': ' .. what .. ' ' .. name)
      end
    end
    check({model:evaluate(xs, ys, {verbose = 0, batch_size = 3})}, 'evaluate')
    local history = model:fit(xs, ys, {epochs = 1, verbose = 0, validation_data = {xs, ys}})
    t.near(history.history.val_top1[1], 2 / 4, 1e-12, device .. ': val_top1')
    model:save(directory .. '/metric-objects.nnsh')
    local copy = nn.models.load_model(directory .. '/metric-objects.nnsh')
    t.eq(table.concat(copy.metrics_names, ','),
         'loss,top1,precision,sure_recall,binary_accuracy,mean_squared_error',
         device .. ': names after loading')
    check({copy:evaluate(xs, ys, {verbose = 0})}, 'after loading')
  end
  -- Keras' axis = -1 (the default, the only axis here) is taken by the cosine classes.
  local model = identity_model('cpu', 2, nn.losses.CosineSimilarity{axis = -1},
                         {nn.metrics.CosineSimilarity{axis = -1}})
  local loss, cosine = model:evaluate(x, y, {verbose = 0})
  t.near(loss, -(0.4 / math.sqrt(0.52)) / 2, 1e-6, 'cosine loss with axis = -1')
  t.near(cosine, -loss, 1e-6, 'cosine metric with axis = -1')
  -- Precision and Recall with top_k (the row's k largest are the predicted positives,
  -- whatever their value) and class_id (one column).
  model = identity_model('cpu', 3, 'mse', {
    M.Precision{top_k = 1, name = 'p_top1'},       -- argmax 0, 1, 1, 1: TP 2 of 4
    M.Recall{top_k = 2, name = 'r_top2'},          -- top 2 hold all 4 positive labels
    M.Precision{class_id = 1, name = 'p_class1'},  -- 0.7 (label 1) and 0.9 (label 0)
    M.Recall{class_id = 0, thresholds = 0.35, name = 'r_class0'}, -- 0.9 of labels 1, 0.25
    M.Precision{top_k = 1, class_id = 0, name = 'p_top1_class0'}, -- only row 1's 0.9
  })
  local values = {model:evaluate(xs, ys, {verbose = 0, batch_size = 3})}
  for i, want in ipairs{0.5, 1.0, 0.5, 0.5, 1.0} do
    t.near(values[i + 1], want, 1e-12, model.metrics_names[i + 1])
  end
  model:save(directory .. '/top-k-class-id.nnsh')
  local reloaded = {nn.models.load_model(directory .. '/top-k-class-id.nnsh'):evaluate(xs, ys,
                                                                                   {verbose = 0})}
  for i = 2, #values do t.near(reloaded[i], values[i], 1e-12, 'reloaded ' .. i) end
  t.raises(function()
    identity_model('cpu', 3, 'mse', {M.Recall{class_id = 3}}):evaluate(xs, ys, {verbose = 0})
  end, "model:evaluate: metric 'recall' counts class_id 3, but the output has 3 classes (0 to 2)")
  -- One object alone, not in a list.
  model = identity_model('cpu', 3, 'mse', M.Recall{})
  t.near(select(2, model:evaluate(xs, ys, {verbose = 0})), 2 / 4, 1e-12, 'a lone Recall')
  -- A sparse top 2 (class ids 0, 1, 2, 1): rows 1, 2 and 4 have theirs in the top 2.
  model = identity_model('cpu', 3, 'sparse_categorical_crossentropy',
                         {M.SparseTopKCategoricalAccuracy{k = 2}})
  t.near(select(2, model:evaluate(xs, nn.tensor{0, 1, 2, 1}, {verbose = 0})), 3 / 4, 1e-12,
         'sparse top 2')
end)

-- 60 predictions on a grid away from every threshold's edge, and labels from a rule that
-- makes the classes overlap: as Lua lists, and as (60, 1) tensors.
local function auc_data()
  local p, labels = {}, {}
  for i = 1, 60 do
    p[i] = ((i * 37) % 100 + 0.25) / 100
    labels[i] = ((i * 13) % 7 < 3 or p[i] > 0.8) and 1 or 0
  end
  local column, column_labels = {}, {}
  for i = 1, 60 do column[i], column_labels[i] = {p[i]}, {labels[i]} end
  return p, labels, nn.tensor(column), nn.tensor(column_labels)
end

t.test("AUC: Keras' thresholds and trapezoids, over the whole run, in files", function()
  -- Keras' AUC written out: thresholds -1e-7, 1/(T-1), ..., (T-2)/(T-1), 1 + 1e-7; at each
  -- the true and false positive rates of the predictions above it; the trapezoids between.
  local function keras_auc(p, labels, count)
    local thresholds = {-1e-7}
    for i = 1, count - 2 do thresholds[#thresholds + 1] = i / (count - 1) end
    thresholds[#thresholds + 1] = 1 + 1e-7
    local positives, negatives = 0, 0
    for i = 1, #p do
      if labels[i] ~= 0 then positives = positives + 1 else negatives = negatives + 1 end
    end
    local tpr, fpr = {}, {}
    for k, threshold in ipairs(thresholds) do
      local tp, fp = 0, 0
      for i = 1, #p do
        if p[i] > threshold then
          if labels[i] ~= 0 then tp = tp + 1 else fp = fp + 1 end
        end
      end
      tpr[k] = positives > 0 and tp / positives or 0
      fpr[k] = negatives > 0 and fp / negatives or 0
    end
    local area = 0
    for k = 1, count - 1 do area = area + (fpr[k] - fpr[k + 1]) * (tpr[k] + tpr[k + 1]) / 2 end
    return area
  end
  -- As one column (width 1) and as three (width 3, flattened).
  local p, labels, xs, ys = auc_data()
  for _, device in ipairs(devices) do
    for _, count in ipairs{200, 3, 10} do
      local metric = count == 200 and 'AUC' or nn.metrics.AUC{num_thresholds = count, name = 'auc_n'}
      -- 'AUC' is the class, logged as auc: the default beside it takes another name.
      local default = count == 200 and nn.metrics.AUC{name = 'default_auc'} or 'auc'
      local model = identity_model(device, 1, 'binary_crossentropy', {metric, default})
      local want = keras_auc(p, labels, count)
      for _, batch_size in ipairs{60, 7} do
        local _, auc, default = model:evaluate(xs, ys, {verbose = 0, batch_size = batch_size})
        t.near(auc, want, 1e-12, device .. ': ' .. count .. ' thresholds, batches of '
                                 .. batch_size)
        t.near(default, keras_auc(p, labels, 200), 1e-12, device .. ": 'auc', 200 thresholds")
      end
    end
    local wide = identity_model(device, 3, 'binary_crossentropy', {nn.metrics.AUC{name = 'roc'}})
    local _, auc = wide:evaluate(xs:reshape(20, 3), ys:reshape(20, 3), {verbose = 0})
    t.near(auc, keras_auc(p, labels, 200), 1e-12, device .. ': three columns, flattened')
    local history = wide:fit(xs:reshape(20, 3), ys:reshape(20, 3),
                             {epochs = 1, batch_size = 6, verbose = 0, shuffle = false,
                              validation_data = {xs:reshape(20, 3), ys:reshape(20, 3)}})
    t.near(history.history.roc[1], auc, 1e-12, device .. ': fit roc')
    t.near(history.history.val_roc[1], auc, 1e-12, device .. ': val_roc')
  end
  -- One class only: 0, as Keras' divide_no_nan.
  local model = identity_model('cpu', 1, 'binary_crossentropy', {'auc'})
  t.eq(select(2, model:evaluate(xs, nn.ones(60, 1), {verbose = 0})), 0, 'no negatives')
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-keras-losses'
  nn.io.make_directory(directory)
  model = identity_model('cpu', 1, 'binary_crossentropy', {nn.metrics.AUC{num_thresholds = 10}})
  model:save(directory .. '/auc.nnsh')
  local copy = nn.models.load_model(directory .. '/auc.nnsh')
  t.near(select(2, copy:evaluate(xs, ys, {verbose = 0})), keras_auc(p, labels, 10), 1e-12,
         'num_thresholds kept in a model file')
end)

t.test("AUC's precision-recall curve and summation methods, as Keras' result()", function()
  -- Keras' AUC.result() written out from its counts at each threshold (-1e-7, 1/(T-1), ...,
  -- 1 + 1e-7): x the false positive rate (ROC) or the recall (PR), y the recall or the
  -- precision, each step's height by summation_method; PR with 'interpolation' sums Davis
  -- and Goadrich's interpolated steps. Every ratio over 0 is 0 (divide_no_nan).
  local function div(a, b) return b ~= 0 and a / b or 0 end
  local function keras_area(p, labels, count, curve, summation)
    local thresholds = {-1e-7}
    for i = 1, count - 2 do thresholds[#thresholds + 1] = i / (count - 1) end
    thresholds[#thresholds + 1] = 1 + 1e-7
    local tp, fp, fn, tn = {}, {}, {}, {}
    for k, threshold in ipairs(thresholds) do
      tp[k], fp[k], fn[k], tn[k] = 0, 0, 0, 0
      for i = 1, #p do
        local above, positive = p[i] > threshold, labels[i] ~= 0
        if above and positive then tp[k] = tp[k] + 1
        elseif above then fp[k] = fp[k] + 1
        elseif positive then fn[k] = fn[k] + 1
        else tn[k] = tn[k] + 1 end
      end
    end
    local area = 0
    if curve == 'PR' and summation == 'interpolation' then
      for k = 1, count - 1 do
        local dtp = tp[k] - tp[k + 1]
        local p0, p1 = tp[k] + fp[k], tp[k + 1] + fp[k + 1]
        local slope = div(dtp, math.max(p0 - p1, 0))
        local intercept = tp[k + 1] - slope * p1
        local ratio = (p0 > 0 and p1 > 0) and div(p0, math.max(p1, 0)) or 1
        area = area + div(slope * (dtp + intercept * math.log(ratio)),
                          math.max(tp[k + 1] + fn[k + 1], 0))
      end
      return area
    end
    local x, y = {}, {}
    for k = 1, count do
      local recall = div(tp[k], tp[k] + fn[k])
      if curve == 'ROC' then x[k], y[k] = div(fp[k], fp[k] + tn[k]), recall
      else x[k], y[k] = recall, div(tp[k], tp[k] + fp[k]) end
    end
    for k = 1, count - 1 do
      local height = summation == 'minoring' and math.min(y[k], y[k + 1])
                     or summation == 'majoring' and math.max(y[k], y[k + 1])
                     or (y[k] + y[k + 1]) / 2
      area = area + (x[k] - x[k + 1]) * height
    end
    return area
  end
  -- Keras' docstring data: labels [0, 0, 1, 1], predictions [0, 0.5, 0.3, 0.9], 3 thresholds
  -- (tp [2, 1, 0], fp [2, 0, 0]); worked by hand: ROC 0.75 / 0.5 / 1; PR minoring 0.25,
  -- majoring 1, interpolated (1 + 2/3 ln 4) / 6 + 1/2.
  local small_x, small_y = nn.tensor{{0}, {0.5}, {0.3}, {0.9}}, nn.tensor{{0}, {0}, {1}, {1}}
  local by_hand = {
    {'ROC', 'interpolation', 0.75}, {'ROC', 'minoring', 0.5}, {'ROC', 'majoring', 1},
    {'PR', 'minoring', 0.25}, {'PR', 'majoring', 1},
    {'PR', 'interpolation', (1 + 2 / 3 * math.log(4)) / 6 + 0.5}}
  for _, case in ipairs(by_hand) do
    t.near(keras_area({0, 0.5, 0.3, 0.9}, {0, 0, 1, 1}, 3, case[1], case[2]), case[3], 1e-15,
           'the reference: ' .. case[1] .. ' ' .. case[2])
  end
  local p, labels, xs, ys = auc_data()
  for _, device in ipairs(devices) do
    for _, case in ipairs(by_hand) do
      local auc = nn.metrics.AUC{num_thresholds = 3, curve = case[1], summation_method = case[2]}
      local model = identity_model(device, 1, 'binary_crossentropy', {auc})
      t.near(select(2, model:evaluate(small_x, small_y, {verbose = 0})), case[3], 1e-12,
             device .. ': ' .. case[1] .. ' ' .. case[2] .. ' by hand')
      for _, count in ipairs{200, 7} do
        auc = nn.metrics.AUC{num_thresholds = count, curve = case[1], summation_method = case[2]}
        model = identity_model(device, 1, 'binary_crossentropy', {auc})
        local _, value = model:evaluate(xs, ys, {verbose = 0, batch_size = 9})
        t.near(value, keras_area(p, labels, count, case[1], case[2]), 1e-12,
               device .. ': ' .. case[1] .. ' ' .. case[2] .. ', ' .. count .. ' thresholds')
      end
    end
  end
  local pr = nn.metrics.AUC{curve = 'PR', name = 'pr_auc'}
  t.eq(tostring(pr), 'nn.metrics.AUC{name="pr_auc", curve="PR"}', 'printed')
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-keras-losses'
  nn.io.make_directory(directory)
  local model = identity_model('cpu', 1, 'binary_crossentropy',
                               {pr, nn.metrics.AUC{summation_method = 'majoring'}})
  model:save(directory .. '/pr_auc.nnsh')
  local _, want_pr, want_majoring = model:evaluate(xs, ys, {verbose = 0})
  local _, got_pr, got_majoring = nn.models.load_model(directory .. '/pr_auc.nnsh')
                                    :evaluate(xs, ys, {verbose = 0})
  t.eq(got_pr, want_pr, 'curve kept in a model file')
  t.eq(got_majoring, want_majoring, 'summation_method kept in a model file')
  t.near(want_pr, keras_area(p, labels, 200, 'PR', 'interpolation'), 1e-12, 'PR after loading')
  t.raises(function() nn.metrics.AUC{curve = 'roc'} end, 'nn.metrics.AUC',
           "auc: curve must be 'ROC' or 'PR', got 'roc'")
  t.raises(function() nn.metrics.AUC{summation_method = 'trapezoid'} end,
           "summation_method must be 'interpolation', 'minoring' or 'majoring', got 'trapezoid'")
  t.raises(function() nn.metrics.AUC{curve = 1} end, 'curve must be a string, got integer')
  t.raises(function() nn.metrics.Precision{curve = 'PR'} end, "unknown option 'curve'")
end)

t.test('every new loss trains the same on cpu and emulated, with sample weights', function()
  local x_train = nn.random.randn(16, 4)
  local weights = nn.random.uniform(16)
  for _, case in ipairs(training_cases()) do
    local name = type(case[1]) == 'string' and case[1] or case[1].name
    local results = {}
    for _, device in ipairs(devices) do
      nn.random.seed(11)
      local model = nn.Sequential{L.Dense{3, activation = case[2], input_shape = {4}}}
      model:to(device)
      local before = model:get_weights()[1]
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = case[4] or 0.05}, loss = case[1]}
      local history = model:fit(x_train, case[3], {epochs = 3, batch_size = 4, verbose = 0,
                                                   shuffle = false, sample_weight = weights})
      results[device] = {weights = model:get_weights(), loss = history.history.loss}
      t.truthy((model:get_weights()[1] - before):abs():max() > 1e-6, name .. ': it learns')
      t.truthy(history.history.loss[3] < history.history.loss[1], name .. ': the loss falls')
    end
    for i, w in ipairs(results.cpu.weights) do
      t.eq(results.emulated.weights[i], w, name .. ': weight ' .. i .. ' the same on emulated')
    end
    t.eq(results.emulated.loss[3], results.cpu.loss[3], name .. ': the same loss')
  end
end)

t.test('a mask that reaches a new loss: the mean over the kept steps', function()
  nn.random.seed(3)
  local steps = nn.random.randn(3, 4, 2):tolist()
  local lengths, kept, step_weights = {2, 4, 1}, 0, {}
  for b, length in ipairs(lengths) do
    step_weights[b] = {}
    for s = 1, 4 do
      if s > length then steps[b][s] = {0, 0} end
      step_weights[b][s] = s <= length and 1 or 0
      kept = kept + step_weights[b][s]
    end
  end
  local px, targets = nn.tensor(steps), nn.random.randn(3, 4, 2)
  for _, device in ipairs(devices) do
    for _, loss in ipairs{'huber', 'log_cosh', 'cosine_similarity'} do
      nn.random.seed(4)
      local masked = nn.Sequential{L.Masking{mask_value = 0, input_shape = {4, 2}}, L.Dense{2}}
      local plain = nn.Sequential{L.Dense{2, input_shape = {4, 2}}}
      masked:to(device)
      plain:to(device)
      plain:set_weights(masked:get_weights())
      masked:compile{optimizer = 'sgd', loss = loss}
      plain:compile{optimizer = 'sgd', loss = loss}
      local masked_loss = masked:evaluate(px, targets, {verbose = 0})
      local plain_loss = plain:evaluate(px, targets, {verbose = 0,
                                                      sample_weight = nn.tensor(step_weights)})
      t.near(masked_loss, plain_loss * 12 / kept, 1e-5, device .. ': ' .. loss .. ' under a mask')
    end
  end
end)

t.test("a metric class name given as a string is the class at its defaults, named as Keras logs it", function()
  -- Keras: metrics=['AUC', 'Precision'] log auc and precision, the names nn.metrics.X{} has.
  local sparse_classes = {SparseCategoricalAccuracy = true, SparseTopKCategoricalAccuracy = true}
  local names = {}
  for class_name in pairs(nn.metrics) do names[#names + 1] = class_name end
  table.sort(names)
  for _, class_name in ipairs(names) do
    local loss = sparse_classes[class_name] and 'sparse_categorical_crossentropy' or 'mse'
    local by_string = identity_model('cpu', 2, loss, {class_name})
    local by_object = identity_model('cpu', 2, loss, {nn.metrics[class_name]{}})
    t.eq(by_string.metrics_names[2], nn.metrics[class_name]{}.name, "'" .. class_name .. "' logs as the class does")
    t.eq(by_string.metrics_names[2], by_object.metrics_names[2], class_name)
  end
  local model = identity_model('cpu', 2, 'binary_crossentropy',
                               {'AUC', 'Precision', 'Recall', 'RootMeanSquaredError'})
  t.eq(table.concat(model.metrics_names, ','), 'loss,auc,precision,recall,root_mean_squared_error',
       'the names Keras logs')
  local values = {model:evaluate(x, y, {verbose = 0})}
  local objects = identity_model('cpu', 2, 'binary_crossentropy',
                                 {nn.metrics.AUC{}, nn.metrics.Precision{}, nn.metrics.Recall{},
                                  nn.metrics.RootMeanSquaredError{}})
  local expected = {objects:evaluate(x, y, {verbose = 0})}
  for i = 1, 5 do t.eq(values[i], expected[i], model.metrics_names[i] .. ' measures as the class') end
  t.raises(function() identity_model('cpu', 2, 'mse', {'Precisionn'}) end,
           "model:compile: unknown metric 'Precisionn' (did you mean 'Precision'?); expected one of 'accuracy'",
           "or a metric class such as 'Precision' or 'AUC'")
  t.raises(function() identity_model('cpu', 2, 'sparse_categorical_crossentropy', {'CategoricalAccuracy'}) end,
           "model:compile: metric 'CategoricalAccuracy' reads labels of the output's shape")
end)

t.test('a huber loss keeps its delta in a model file', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-keras-losses'
  nn.io.make_directory(directory)
  local model = identity_model('cpu', 2, nn.losses.Huber{delta = 0.5},
                               {'root_mean_squared_error', 'top_k_categorical_accuracy'})
  local expected = (0.175 + 0.175 + 0.08 + 0.175) / 4
  t.near(model:evaluate(x, y, {verbose = 0}), expected, 1e-7, 'before saving')
  model:save(directory .. '/huber.nnsh')
  local copy = nn.models.load_model(directory .. '/huber.nnsh')
  t.eq(copy.loss, 'huber', 'the loss')
  t.eq(table.concat(copy.metrics_names, ','),
       'loss,root_mean_squared_error,top_k_categorical_accuracy', 'the metrics')
  t.near(copy:evaluate(x, y, {verbose = 0}), expected, 1e-7, 'delta 0.5 after loading, not 1')
  -- and the default delta of a plain 'huber' stays 1
  model = identity_model('cpu', 2, 'huber')
  model:save(directory .. '/huber1.nnsh')
  t.near(nn.models.load_model(directory .. '/huber1.nnsh'):evaluate(x, y, {verbose = 0}), 0.155,
         1e-7, 'delta 1')
end)

t.finish()
