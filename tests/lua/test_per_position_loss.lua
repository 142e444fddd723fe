-- Outputs with more than one axis after the batch, (B, H, W, C) or (B, T, C): Keras
-- applies the loss and the metrics along the last axis, one label per position, and
-- averages over every position of every sample. Expected numbers are worked out by hand.
local t = require 'harness'
local L = nn.layers

-- Every position predicts softmax (1/8, 2/8, 5/8): a 1x1 convolution (or a Dense on the
-- last axis) with a zero kernel and bias (0, ln 2, ln 5).
local loss_of = {math.log(8), math.log(4), math.log(8 / 5)}
local bias = nn.tensor{0, math.log(2), math.log(5)}

local function pixel_model(device, loss, learning_rate)
  local model = nn.Sequential{L.Conv2D{3, 1, activation = 'softmax', input_shape = {2, 2, 1}}}
  model:to(device)
  model:set_weights{nn.zeros(1, 1, 1, 3), bias}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = learning_rate or 1}, loss = loss,
                metrics = {'accuracy'}}
  return model
end

-- Two samples of 2x2 pixels; classes per pixel, and what they cost.
local classes = {{{0, 1}, {2, 2}}, {{2, 2}, {2, 0}}}
local function per_pixel(fn)
  for n = 1, 2 do for i = 1, 2 do for j = 1, 2 do fn(n, classes[n][i][j]) end end end
end
local mean_loss, right = 0, 0
per_pixel(function(_, c) mean_loss = mean_loss + loss_of[c + 1] / 8; right = right + (c == 2 and 1 or 0) end)

local function one_hot()
  local rows = {}
  for n = 1, 2 do
    rows[n] = {}
    for i = 1, 2 do
      rows[n][i] = {}
      for j = 1, 2 do
        local c = classes[n][i][j]
        rows[n][i][j] = {c == 0 and 1 or 0, c == 1 and 1 or 0, c == 2 and 1 or 0}
      end
    end
  end
  return nn.tensor(rows)
end

local devices = {'cpu', 'emulated'}

t.test('sparse and one-hot crossentropy over pixels: one label per pixel, mean over all', function()
  for _, device in ipairs(devices) do
    local x = nn.zeros(2, 2, 2, 1)
    local sparse = pixel_model(device, 'sparse_categorical_crossentropy')
    local loss, accuracy = sparse:evaluate(x, nn.tensor(classes), {verbose = 0})
    t.near(loss, mean_loss, 1e-6, device .. ': sparse loss (ln 3 per pixel would be wrong)')
    t.near(accuracy, right / 8, 1e-12, device .. ': accuracy per pixel')
    -- Labels with a trailing axis of 1 are the same ids.
    t.near(sparse:evaluate(x, nn.tensor(classes):reshape(2, 2, 2, 1), {verbose = 0}), mean_loss,
           1e-6, device .. ': (B, H, W, 1) labels')
    local categorical = pixel_model(device, 'categorical_crossentropy')
    loss, accuracy = categorical:evaluate(x, one_hot(), {verbose = 0})
    t.near(loss, mean_loss, 1e-6, device .. ': one-hot loss')
    t.near(accuracy, right / 8, 1e-12, device .. ': one-hot accuracy')
  end
end)

t.test('a fit step over pixels moves the bias by the mean gradient of all pixels', function()
  for _, device in ipairs(devices) do
    local model = pixel_model(device, 'sparse_categorical_crossentropy')
    -- d loss / d bias = mean over the 8 pixels of softmax - onehot.
    local gradient = {1 / 8, 2 / 8, 5 / 8}
    per_pixel(function(_, c) gradient[c + 1] = gradient[c + 1] - 1 / 8 end)
    local history = model:fit(nn.zeros(2, 2, 2, 1), nn.tensor(classes),
                              {epochs = 1, batch_size = 2, shuffle = false, verbose = 0})
    t.near(history.history.loss[1], mean_loss, 1e-6, device .. ': fit loss')
    t.near(history.history.accuracy[1], right / 8, 1e-12, device .. ': fit accuracy')
    local moved = model:get_weights()[2]:flatten()
    for k = 1, 3 do
      t.near(moved[k], bias[k] - gradient[k], 1e-6, device .. ': bias ' .. k)
    end
  end
end)

t.test('sample weights weigh every position of their sample', function()
  for _, device in ipairs(devices) do
    -- learning_rate 1e-12 holds the prediction still between the two batches.
    local model = pixel_model(device, 'sparse_categorical_crossentropy', 1e-12)
    local weights, expected = {3, 0.5}, 0
    per_pixel(function(n, c) expected = expected + weights[n] * loss_of[c + 1] / 8 end)
    t.near(model:evaluate(nn.zeros(2, 2, 2, 1), nn.tensor(classes),
                          {verbose = 0, sample_weight = weights}),
           expected, 1e-6, device .. ': weighted loss over pixels')
    local history = model:fit(nn.zeros(2, 2, 2, 1), nn.tensor(classes),
                              {epochs = 1, batch_size = 1, verbose = 0, sample_weight = weights})
    t.near(history.history.loss[1], expected, 1e-6, device .. ': weighted fit loss')
  end
end)

t.test('weights per position, (B, H, W) for a (B, H, W, C) output, weigh each pixel', function()
  for _, device in ipairs(devices) do
    local model = pixel_model(device, 'sparse_categorical_crossentropy', 1e-12)
    -- A mask per image (Keras still divides by every pixel), different per image so that
    -- a mask given to the wrong image would show.
    local mask = {{{1, 1}, {0, 0}}, {{0, 1}, {1, 0}}}
    local expected = 0
    for n = 1, 2 do
      for i = 1, 2 do
        for j = 1, 2 do expected = expected + mask[n][i][j] * loss_of[classes[n][i][j] + 1] / 8 end
      end
    end
    local x, y = nn.zeros(2, 2, 2, 1), nn.tensor(classes)
    t.near(model:evaluate(x, y, {verbose = 0, sample_weight = mask}), expected, 1e-6,
           device .. ': masked loss')
    t.near(model:evaluate(x, y, {verbose = 0, sample_weight = nn.tensor(mask):reshape(2, 2, 2, 1)}),
           expected, 1e-6, device .. ': (B, H, W, 1) mask')
    local history = model:fit(x, y, {epochs = 2, batch_size = 1, verbose = 0, sample_weight = mask})
    t.near(history.history.loss[2], expected, 1e-6, device .. ': shuffled masked fit loss')
    t.raises(function() model:evaluate(x, y, {verbose = 0, sample_weight = nn.ones(2, 2)}) end,
             'sample_weight must hold one weight per sample, shape (2,) or (2, 1), or one per ' ..
             'position of the output, shape (2, 2, 2); got shape (2, 2)')
  end
end)

t.test('label smoothing over pixels smooths toward the classes of the last axis', function()
  local model = pixel_model('cpu', nn.losses.CategoricalCrossentropy{label_smoothing = 0.3})
  -- Each one-hot pixel becomes 0.8 on its class and 0.1 on the others (3 classes).
  local expected = 0
  per_pixel(function(_, c)
    for k = 1, 3 do expected = expected + (k == c + 1 and 0.8 or 0.1) * loss_of[k] / 8 end
  end)
  t.near(model:evaluate(nn.zeros(2, 2, 2, 1), one_hot(), {verbose = 0}), expected, 1e-6,
         'smoothed loss')
end)

t.test('a Dense over a sequence (B, T, F) labels every step', function()
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {4, 2}}}
  model:set_weights{nn.zeros(2, 3), bias}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local y = nn.tensor{{0, 1, 2, 2}, {2, 2, 2, 0}}
  local loss, accuracy = model:evaluate(nn.zeros(2, 4, 2), y, {verbose = 0})
  t.near(loss, mean_loss, 1e-6, 'sequence loss')
  t.near(accuracy, right / 8, 1e-12, 'sequence accuracy')
  t.raises(function() model:evaluate(nn.zeros(2, 4, 2), nn.zeros(2, 3), {verbose = 0}) end,
           'expects integer class ids of shape (batch, 4) or (batch, 4, 1)',
           'output of shape (None, 4, 3)', 'labels of shape (2, 3)')
  t.raises(function() model:evaluate(nn.zeros(2, 4, 2), nn.tensor{{0, 1, 2, 3}, {0, 0, 0, 0}}, {verbose = 0}) end,
           'label 3 of sample 1 (entry 4 of 4) is out of range', 'the output has 3 classes')
end)

t.finish()
