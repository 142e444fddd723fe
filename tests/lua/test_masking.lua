-- Masking as Keras: Embedding{mask_zero=true} and Masking make a mask over the steps; the
-- recurrent layers carry their state over masked steps, so a padded sequence gives what the
-- unpadded one gives, in values and in training; GlobalAveragePooling1D averages the kept
-- steps; a mask that reaches the output leaves masked steps out of the loss (not the
-- metrics), as Keras 3; layers that cannot take a mask are refused when the model is built.
local t = require 'harness'
local L = nn.layers

-- Predictions without a progress bar.
local function predict(model, x) return model:predict(x, {verbose = 0}) end

-- x with `count` steps of `value` added before ('pre') or after ('post') each sample's.
local function pad(x, count, where, value)
  local rows = {}
  for b, sample in ipairs(x:tolist()) do
    local filler = {}
    for _ = 1, count do
      local step = {}
      for f = 1, #sample[1] do step[f] = value or 0 end
      filler[#filler + 1] = step
    end
    local first, second = sample, filler
    if where == 'pre' then first, second = filler, sample end
    rows[b] = {}
    for _, s in ipairs(first) do rows[b][#rows[b] + 1] = s end
    for _, s in ipairs(second) do rows[b][#rows[b] + 1] = s end
  end
  return nn.tensor(rows)
end

-- The weights after one step of plain SGD on (x, y), in one batch.
local function one_step_weights(model, x, y)
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5}, loss = 'mse'}
  model:fit(x, y, {epochs = 1, batch_size = #x:tolist(), shuffle = false, verbose = 0})
  return model:get_weights()
end

-- Rows of a tensor stacked along the batch axis.
local function stack(...)
  local rows = {}
  for _, x in ipairs{...} do
    for _, row in ipairs(x:tolist()) do rows[#rows + 1] = row end
  end
  return nn.tensor(rows)
end

t.test('Masking zeroes the steps whose features all equal mask_value', function()
  local x = nn.tensor{{{1, 2}, {5, 5}, {5, 3}}, {{5, 5}, {0, 0}, {7, 8}}}
  local masking = L.Masking{mask_value = 5}
  t.eq(masking(x), nn.tensor{{{1, 2}, {0, 0}, {5, 3}}, {{0, 0}, {0, 0}, {7, 8}}},
       'only steps that are all 5 become 0')
  t.eq(masking(x:to('emulated')):to('cpu'), masking(x), 'the same on the emulated device')
  t.eq(L.Masking()(nn.tensor{{{0, 0}, {0, 1}}}), nn.tensor{{{0, 0}, {0, 1}}}, 'mask_value 0')
  t.eq(masking:get_config().mask_value, 5, 'config')
  t.truthy(masking.explanation:find('all equal 5', 1, true), masking.explanation)
  t.eq(masking.name:match('^masking'), 'masking', 'name')
  local model = nn.Sequential{L.Masking{input_shape = {4, 3}}, L.LSTM{2}}
  t.eq(tostring(model.layers[1].output_shape), '(None, 4, 3)', 'shape unchanged')
end)

for _, kind in ipairs{'SimpleRNN', 'LSTM', 'GRU'} do
  t.test(kind .. ' skips masked steps: a padded sequence gives the unpadded one\'s state',
         function()
    nn.random.seed(5)
    local x = nn.random.randn(3, 4, 2)
    local plain = nn.Sequential{L[kind]{3, input_shape = {4, 2}}}
    local expected = predict(plain, x)
    for _, where in ipairs{'post', 'pre'} do
      local masked = nn.Sequential{L.Masking{input_shape = {7, 2}}, L[kind]{3}}
      masked.layers[2]:set_weights(plain.layers[1]:get_weights())
      t.near(predict(masked, pad(x, 3, where)), expected, 1e-6, kind .. ' ' .. where .. '-padded')
      if where == 'post' then -- zeros before a zero state with zero biases change nothing
        local unmasked = nn.Sequential{L[kind]{3, input_shape = {7, 2}}}
        unmasked:set_weights(plain:get_weights())
        t.truthy((predict(unmasked, pad(x, 3, where)) - expected):abs():max() > 1e-3,
                 'without the mask the padding changes the state')
      end
    end
    -- go_backwards reads the kept steps in reverse, padding skipped wherever it is
    local backwards = nn.Sequential{L[kind]{3, go_backwards = true, input_shape = {4, 2}}}
    local masked = nn.Sequential{L.Masking{input_shape = {6, 2}},
                                 L[kind]{3, go_backwards = true}}
    masked.layers[2]:set_weights(backwards:get_weights())
    t.near(predict(masked, pad(x, 2, 'post')), predict(backwards, x), 1e-6, 'go_backwards')
  end)
end

t.test('samples of different lengths in one batch; return_sequences carries the state',
       function()
  nn.random.seed(6)
  local short, long = nn.random.randn(1, 2, 3), nn.random.randn(1, 4, 3)
  local lstm = L.LSTM{2, return_sequences = true}
  local model = nn.Sequential{L.Masking{input_shape = {4, 3}}, lstm}
  local batch = stack(pad(short, 2, 'post'), long)
  local out = predict(model, batch)
  local alone = nn.Sequential{L.LSTM{2, return_sequences = true, input_shape = {2, 3}}}
  alone:set_weights(lstm:get_weights())
  local short_out = predict(alone, short):tolist()[1]
  local rows = out:tolist()
  for s = 1, 2 do
    t.near(nn.tensor(rows[1][s]), nn.tensor(short_out[s]), 1e-6, 'kept step ' .. s)
  end
  for s = 3, 4 do
    t.near(nn.tensor(rows[1][s]), nn.tensor(short_out[2]), 1e-6,
           'a masked step repeats the output before it (step ' .. s .. ')')
  end
  local long_alone = nn.Sequential{L.LSTM{2, return_sequences = true, input_shape = {4, 3}}}
  long_alone:set_weights(lstm:get_weights())
  t.near(nn.tensor({rows[2]}), predict(long_alone, long), 1e-6, 'the full sample is untouched')
  local first_masked = predict(model, pad(short, 2, 'pre')):tolist()[1]
  t.eq(first_masked[1][1], 0, 'masked first steps keep the zero state')
end)

t.test('Bidirectional: each direction skips the padding; masked outputs are 0', function()
  nn.random.seed(7)
  local x = nn.random.randn(2, 3, 2)
  local plain = nn.Sequential{L.Bidirectional{L.GRU{2}, input_shape = {3, 2}}}
  local masked = nn.Sequential{L.Masking{input_shape = {5, 2}}, L.Bidirectional{L.GRU{2}}}
  masked.layers[2]:set_weights(plain:get_weights())
  t.near(predict(masked, pad(x, 2, 'post')), predict(plain, x), 1e-6, 'last states, both ways')
  local sequences = nn.Sequential{L.Bidirectional{L.LSTM{2, return_sequences = true},
                                                  merge_mode = 'sum', input_shape = {3, 2}}}
  local masked_sequences = nn.Sequential{L.Masking{input_shape = {5, 2}},
                                         L.Bidirectional{L.LSTM{2, return_sequences = true},
                                                         merge_mode = 'sum'}}
  masked_sequences.layers[2]:set_weights(sequences:get_weights())
  local out = predict(masked_sequences, pad(x, 2, 'post')):tolist()
  local expected = predict(sequences, x):tolist()
  for b = 1, 2 do
    for s = 1, 3 do
      t.near(nn.tensor(out[b][s]), nn.tensor(expected[b][s]), 1e-6, 'kept step ' .. s)
    end
    for s = 4, 5 do t.eq(nn.tensor(out[b][s]), nn.tensor{0, 0}, 'masked step ' .. s .. ' is 0') end
  end
end)

t.test('Bidirectional around go_backwards: the output runs backwards, its padding first',
       function()
  -- Both halves come out last step first; the masked steps, last in time, are the first
  -- positions, 0, and the kept ones follow as the unpadded sequence gives them.
  nn.random.seed(17)
  local x = nn.random.randn(2, 3, 2)
  for _, mode in ipairs{'concat', 'mul'} do
    local plain = nn.Sequential{L.Bidirectional{L.SimpleRNN{2, return_sequences = true,
                                                            go_backwards = true},
                                                merge_mode = mode, input_shape = {3, 2}}}
    local masked = nn.Sequential{L.Masking{input_shape = {5, 2}},
                                 L.Bidirectional{L.SimpleRNN{2, return_sequences = true,
                                                             go_backwards = true},
                                                 merge_mode = mode}}
    masked.layers[2]:set_weights(plain:get_weights())
    local out, expected = predict(masked, pad(x, 2, 'post')):tolist(), predict(plain, x):tolist()
    local width = #expected[1][1]
    for b = 1, 2 do
      for p = 1, 2 do t.eq(nn.tensor(out[b][p]), nn.zeros(width), mode .. ': position ' .. p .. ' is 0') end
      for p = 1, 3 do
        t.near(nn.tensor(out[b][p + 2]), nn.tensor(expected[b][p]), 1e-6,
               mode .. ': position ' .. p + 2 .. ' as the unpadded ' .. p)
      end
    end
  end
  -- Its gradients against central differences of the loss. (The mask it passes on stays in
  -- time order, as Keras' compute_mask leaves it, though the positions run backwards; the
  -- GlobalAveragePooling1D after it averages by that mask.)
  local model = nn.Sequential{nn.Input{shape = {5, 2}}, L.Masking(),
                              L.Bidirectional{L.GRU{2, return_sequences = true, go_backwards = true}},
                              L.GlobalAveragePooling1D(), L.Dense{1}}
  local xp, y = pad(x, 2, 'post'), nn.tensor{{0.5}, {-1}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1}, loss = 'mse'}
  local start = model:get_weights()
  local function loss_with(index, kernel)
    local weights = model:get_weights()
    weights[index] = nn.tensor(kernel)
    model:set_weights(weights)
    return model:evaluate(xp, y, {verbose = 0})
  end
  local after = one_step_weights(model, xp, y)
  for _, index in ipairs{1, 4} do -- the forward and the backward half's kernels
    local gradient = (start[index] - after[index]):tolist() -- a step of learning rate 0.5
    for _, at in ipairs{{1, 1}, {2, 3}, {1, 5}} do
      local kernel = start[index]:tolist()
      local h = 1e-2
      kernel[at[1]][at[2]] = kernel[at[1]][at[2]] + h
      local up = loss_with(index, kernel)
      kernel[at[1]][at[2]] = kernel[at[1]][at[2]] - 2 * h
      local down = loss_with(index, kernel)
      t.near(gradient[at[1]][at[2]] / 0.5, (up - down) / (2 * h), 2e-3,
             'kernel ' .. index .. ' at ' .. at[1] .. ',' .. at[2])
    end
    model:set_weights(start)
  end
end)

t.test('BatchNormalization takes its statistics from the kept steps, as Keras 3', function()
  nn.random.seed(18)
  local x = nn.random.randn(2, 3, 2) * 2 + 1
  local function model_for(steps, masked)
    local layers = {nn.Input{shape = {steps, 2}}}
    if masked then layers[2] = L.Masking() end
    layers[#layers + 1] = L.Dense{4}
    layers[#layers + 1] = L.BatchNormalization{momentum = 0}
    layers[#layers + 1] = L.LSTM{3}
    layers[#layers + 1] = L.Dense{1}
    return nn.Sequential(layers)
  end
  local masked, plain = model_for(5, true), model_for(3, false)
  local start = masked:get_weights()
  plain:set_weights(start)
  local y = nn.tensor{{0.5}, {-1}}
  local a = one_step_weights(masked, pad(x, 2, 'post'), y)
  local b = one_step_weights(plain, x, y)
  t.eq(#a, 11, 'Dense (2), BatchNormalization (4), LSTM (3), Dense (2) weights')
  for i = 1, #a do t.near(a[i], b[i], 2e-6, 'weight ' .. i .. ' as without the padding') end
  -- momentum 0: the moving statistics are the kept rows' mean and biased variance
  local features = nn.Sequential{nn.Input{shape = {3, 2}}, L.Dense{4}}
  features:set_weights{start[1], start[2]}
  local rows = predict(features, x):reshape(6, 4)
  local mean = rows:mean(0)
  t.near(a[5], mean, 1e-5, 'moving_mean: the mean of the 6 kept rows')
  t.near(a[6], ((rows - mean) ^ 2):mean(0), 1e-5, 'moving_variance: their biased variance')
  -- a mask over another axis than the features' is refused
  t.raises(function()
    nn.Sequential{L.Masking{input_shape = {4, 3}}, L.BatchNormalization{axis = 1}}
  end, '(BatchNormalization) cannot take the mask', 'over another axis than the last')
  -- the last axis by its number is the features' axis too
  local numbered = nn.Sequential{L.Masking{input_shape = {4, 3}}, L.BatchNormalization{axis = 2},
                                 L.LSTM{2}}
  t.eq(tostring(numbered.output_shape), '(None, 2)', 'axis=2 on (None, 4, 3) takes the mask')
end)

t.test('Embedding mask_zero: index 0 is padding the recurrent layer skips', function()
  nn.random.seed(8)
  local ids = nn.tensor{{3, 1, 4, 0, 0}, {0, 0, 2, 7, 1}}
  local embedding = L.Embedding{10, 4, mask_zero = true, input_shape = {5}}
  local model = nn.Sequential{embedding, L.GRU{3}}
  t.truthy(embedding.explanation:find('mask_zero=True', 1, true), embedding.explanation)
  local out = predict(model, ids)
  local plain = nn.Sequential{L.Embedding{10, 4, input_shape = {3}}, L.GRU{3}}
  plain:set_weights(model:get_weights())
  t.near(out, predict(plain, nn.tensor{{3, 1, 4}, {2, 7, 1}}), 1e-6, 'as the unpadded ids')
  t.eq(embedding:get_config().mask_zero, true, 'config')
end)

t.test('GlobalAveragePooling1D averages the kept steps only', function()
  local ids = nn.tensor{{1, 2, 0}, {2, 0, 0}, {0, 0, 0}}
  local model = nn.Sequential{L.Embedding{3, 2, mask_zero = true, input_shape = {3}},
                              L.GlobalAveragePooling1D()}
  model:set_weights{nn.tensor{{100, 100}, {1, 2}, {3, 6}}}
  t.eq(predict(model, ids), nn.tensor{{2, 4}, {3, 6}, {0, 0}},
       'the mean of rows 1 and 2; row 2 alone; 0 where every step is masked')
  model:to('emulated')
  t.eq(predict(model, ids:to('emulated')):to('cpu'), nn.tensor{{2, 4}, {3, 6}, {0, 0}},
       'the same on the emulated device')
  local unmasked = nn.Sequential{L.Embedding{3, 2, input_shape = {3}},
                                 L.GlobalAveragePooling1D()}
  unmasked:set_weights{nn.tensor{{100, 100}, {1, 2}, {3, 6}}}
  t.eq(predict(unmasked, nn.tensor{{1, 2, 0}}), nn.tensor{{104 / 3, 108 / 3}}, 'without a mask')
end)

-- One step of plain SGD on a batch of two samples, one padded, from the same weights: the
-- masked model's step is the mean of the steps each sample takes alone unpadded.

for _, case in ipairs{
  {'LSTM', function() return L.LSTM{3} end},
  {'GRU', function() return L.GRU{3} end},
  {'SimpleRNN backwards', function() return L.SimpleRNN{3, go_backwards = true} end},
  {'Bidirectional LSTM', function() return L.Bidirectional{L.LSTM{2}} end},
  {'stacked, return_sequences', function()
    return L.GRU{3, return_sequences = true}, L.LSTM{2} end},
} do
  t.test('training through the mask (' .. case[1] .. '): gradients as without padding',
         function()
    nn.random.seed(9)
    local short, long = nn.random.randn(1, 2, 2), nn.random.randn(1, 4, 2)
    local y_short, y_long = nn.tensor{{0.5}}, nn.tensor{{-0.25}}
    local function model_for(steps, masked)
      local layers = {nn.Input{shape = {steps, 2}}}
      if masked then layers[2] = L.Masking() end
      for _, layer in ipairs{case[2]()} do layers[#layers + 1] = layer end
      layers[#layers + 1] = L.Dense{1}
      return nn.Sequential(layers)
    end
    local masked = model_for(4, true)
    local start = masked:get_weights()
    local alone_short, alone_long = model_for(2, false), model_for(4, false)
    alone_short:set_weights(start)
    alone_long:set_weights(start)
    local after = one_step_weights(masked, stack(pad(short, 2, 'post'), long), stack(y_short, y_long))
    local after_short = one_step_weights(alone_short, short, y_short)
    local after_long = one_step_weights(alone_long, long, y_long)
    t.eq(#after, #start, 'weights')
    for i = 1, #after do
      t.truthy((after[i] - start[i]):abs():max() > 1e-4, 'weight ' .. i .. ' moved')
      t.near(after[i], (after_short[i] + after_long[i]) / 2, 2e-6, 'weight ' .. i)
    end
  end)
end

t.test('training with masks: the same weights on cpu and emulated', function()
  local ids = nn.tensor{{3, 1, 4, 0, 0}, {0, 0, 2, 7, 1}, {5, 0, 0, 0, 0}, {1, 2, 3, 4, 5}}
  local y = nn.tensor{1, 0, 1, 0}
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(10)
    local model = nn.Sequential{L.Embedding{10, 4, mask_zero = true, input_shape = {5}},
                                L.Bidirectional{L.LSTM{3, return_sequences = true}},
                                L.Dropout{0.2}, L.GRU{2, go_backwards = true},
                                L.Dense{1, activation = 'sigmoid'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'binary_crossentropy'}
    model:fit(ids, y, {epochs = 3, batch_size = 2, verbose = 0})
    weights[device] = model:get_weights()
  end
  for i = 1, #weights.cpu do
    t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i .. ' equal on cpu and emulated')
  end
end)

t.test('a masked model learns a task the padding would spoil', function()
  -- The class is the last real token, whatever the padding after it.
  nn.random.seed(11)
  local rows, labels = {}, {}
  for i = 1, 256 do
    local length = 1 + (i % 6)
    local row = {}
    for s = 1, 8 do row[s] = s <= length and math.random(1, 9) or 0 end
    rows[i], labels[i] = row, row[length] % 2
  end
  local x, y = nn.tensor(rows), nn.tensor(labels)
  local model = nn.Sequential{L.Embedding{10, 8, mask_zero = true, input_shape = {8}},
                              L.LSTM{16}, L.Dense{1, activation = 'sigmoid'}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.02},
                loss = 'binary_crossentropy', metrics = {'accuracy'}}
  model:fit(x, y, {epochs = 15, batch_size = 32, verbose = 0})
  local _, accuracy = model:evaluate(x, y, {verbose = 0})
  t.truthy(accuracy > 0.95, 'accuracy ' .. accuracy)
end)

t.test('models and files keep the mask', function()
  local model = nn.Sequential{L.Masking{mask_value = -1, input_shape = {4, 2}},
                              L.SimpleRNN{3}, L.Dense{1}}
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-masking'
  nn.io.make_directory(directory)
  local path = directory .. '/masking.nnsh'
  model:save(path)
  local loaded = nn.models.load_model(path)
  os.remove(path)
  t.eq(loaded.layers[1]:get_config().mask_value, -1, 'mask_value')
  local x = nn.tensor{{{1, 2}, {-1, -1}, {3, 4}, {-1, -1}}}
  t.eq(predict(loaded, x), predict(model, x), 'the same outputs')
  local summary = t.capture(function() loaded:summary() end)
  t.truthy(summary:find('masking (Masking)', 1, true), summary)
end)

-- A tagging model, one label per step, on post-padded sequences: the kept steps' outputs do
-- not depend on the padding after them, so the same model without a mask, its padded steps
-- weighed 0 by sample weights, sees the same per-step losses.
local function tagging_models(steps)
  local function make(masked)
    nn.random.seed(12)
    local layers = {nn.Input{shape = {steps, 2}}}
    if masked then layers[2] = L.Masking() end
    layers[#layers + 1] = L.GRU{4, return_sequences = true}
    layers[#layers + 1] = L.Dense{3, activation = 'softmax'}
    local model = nn.Sequential(layers)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                  loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
    return model
  end
  return make(true), make(false)
end

t.test('a mask that reaches the loss: the mean over the kept steps, as Keras 3', function()
  nn.random.seed(13)
  local lengths = {2, 4, 1}
  local x = nn.random.randn(3, 4, 2):tolist()
  local kept, weights = 0, {}
  for b, length in ipairs(lengths) do
    weights[b] = {}
    for s = 1, 4 do
      if s > length then x[b][s] = {0, 0} end
      weights[b][s] = s <= length and 1 or 0
      kept = kept + weights[b][s]
    end
  end
  x = nn.tensor(x)
  local y = nn.tensor{{0, 1, 2, 0}, {2, 2, 1, 0}, {1, 0, 0, 0}}
  local masked, plain = tagging_models(4)
  plain:set_weights(masked:get_weights())
  local masked_loss, masked_accuracy = masked:evaluate(x, y, {verbose = 0})
  local plain_loss = plain:evaluate(x, y, {sample_weight = nn.tensor(weights), verbose = 0})
  t.near(masked_loss, plain_loss * 12 / kept, 1e-5,
         'the kept steps\' mean: the zero-weighted sum over 12 steps, over the 7 kept')
  local predicted, labels, right = predict(masked, x):argmax(-1):tolist(), y:tolist(), 0
  for b = 1, 3 do
    for s = 1, 4 do right = right + (predicted[b][s] == labels[b][s] and 1 or 0) end
  end
  t.near(masked_accuracy, right / 12, 1e-7,
         'the compiled accuracy counts every step, as Keras 3 (no sample weights)')
  -- one training step: the same as weighing the kept steps 12/7 each without a mask
  local scaled = {}
  for b = 1, 3 do
    scaled[b] = {}
    for s = 1, 4 do scaled[b][s] = weights[b][s] * 12 / kept end
  end
  masked:fit(x, y, {epochs = 1, batch_size = 3, shuffle = false, verbose = 0})
  plain:fit(x, y, {epochs = 1, batch_size = 3, shuffle = false, verbose = 0,
                   sample_weight = nn.tensor(scaled)})
  local a, b = masked:get_weights(), plain:get_weights()
  for i = 1, #a do t.near(a[i], b[i], 1e-6, 'weight ' .. i .. ' after one step') end
  -- sample weights multiply the mask's
  local sw = nn.tensor{2, 1, 3}
  local weighted_loss = masked:evaluate(x, y, {sample_weight = sw, verbose = 0})
  local per_step = {}
  for i = 1, 3 do
    per_step[i] = {}
    for s = 1, 4 do per_step[i][s] = weights[i][s] * sw:tolist()[i] end
  end
  plain:set_weights(masked:get_weights())
  local plain_weighted = plain:evaluate(x, y, {sample_weight = nn.tensor(per_step), verbose = 0})
  t.near(weighted_loss, plain_weighted * 12 / kept, 1e-5, 'with sample weights')
  -- the same on the emulated device
  local on_cpu = masked:evaluate(x, y, {verbose = 0})
  masked:to('emulated')
  t.eq(masked:evaluate(x:to('emulated'), y, {verbose = 0}), on_cpu, 'the same on emulated')
end)

t.test('layers that cannot take a mask are refused; the session goes on', function()
  t.raises(function()
    nn.Sequential{L.Embedding{10, 4, mask_zero = true, input_shape = {5}}, L.Flatten()}
  end, 'layer "flatten', '(Flatten) cannot take the mask over steps that "embedding',
       'with mask_zero=True', 'mask_zero=False')
  t.raises(function()
    nn.Sequential{L.Masking{input_shape = {5, 3}}, L.Dense{4}, L.Conv1D{2, 3}}
  end, '(Conv1D) cannot take the mask', '"masking', 'leave the Masking layer out')
  t.raises(function()
    nn.Sequential{L.Masking{input_shape = {5, 3}}, L.LSTM{4, return_sequences = true},
                  L.GlobalMaxPooling1D()}
  end, '(GlobalMaxPooling1D) cannot take the mask')
  -- a layer that consumes the mask ends it: anything may follow
  local model = nn.Sequential{L.Masking{input_shape = {5, 3}}, L.LSTM{4}, L.Reshape{{2, 2}},
                              L.Flatten(), L.Dense{1}}
  t.eq(tostring(model.output_shape), '(None, 1)', 'after the LSTM the mask is gone')
  t.raises(function() L.Masking{mask_value = 'x'} end, 'mask_value')
  t.raises(function() L.Masking{}(nn.tensor{1, 2}) end, 'Masking', 'needs (batch, steps, features)')
  t.eq(tostring(predict(model, nn.zeros(2, 5, 3)).shape), '(2, 1)', 'the session goes on')
end)

t.finish()
