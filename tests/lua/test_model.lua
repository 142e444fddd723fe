-- Sequential models: the seed's summaries, names, compile, fit history, evaluate, predict.
local t = require 'harness'
local L = nn.layers

local function seed_model(padding)
  return nn.Sequential{
    L.Conv2D{32, {3, 3}, activation = 'relu', padding = padding, input_shape = {28, 28, 1}},
    L.MaxPooling2D{{2, 2}},
    L.Conv2D{64, {3, 3}, activation = 'relu', padding = padding},
    L.MaxPooling2D{{2, 2}},
    L.Flatten(),
    L.Dense{128, activation = 'relu'},
    L.Dropout{0.5},
    L.Dense{10, activation = 'softmax'},
  }
end

local same_summary = [[
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 conv2d (Conv2D)             (None, 28, 28, 32)        320       
                                                                 
 max_pooling2d (MaxPooling2D  (None, 14, 14, 32)       0         
 )                                                               
                                                                 
 conv2d_1 (Conv2D)           (None, 14, 14, 64)        18496     
                                                                 
 max_pooling2d_1 (MaxPooling  (None, 7, 7, 64)         0         
 2D)                                                             
                                                                 
 flatten (Flatten)           (None, 3136)              0         
                                                                 
 dense (Dense)               (None, 128)               401536    
                                                                 
 dropout (Dropout)           (None, 128)               0         
                                                                 
 dense_1 (Dense)             (None, 10)                1290      
=================================================================
Total params: 421,642
Trainable params: 421,642
Non-trainable params: 0
_________________________________________________________________
]]

t.test("summary of the seed model with padding='same': 421,642 params, Keras layout", function()
  local out = t.capture(function() seed_model('same'):summary() end)
  t.eq(out, same_summary, 'summary text')
end)

t.test('summary of the seed model with the default padding: 225,034 params', function()
  local model = seed_model(nil)
  local out = t.capture(function() model:summary() end)
  for _, fragment in ipairs{
    ' conv2d (Conv2D)             (None, 26, 26, 32)        320       ',
    ' max_pooling2d (MaxPooling2D  (None, 13, 13, 32)       0         ',
    ' conv2d_1 (Conv2D)           (None, 11, 11, 64)        18496     ',
    ' max_pooling2d_1 (MaxPooling  (None, 5, 5, 64)         0         ',
    ' flatten (Flatten)           (None, 1600)              0         ',
    ' dense (Dense)               (None, 128)               204928    ',
    'Total params: 225,034\n', 'Trainable params: 225,034\n', 'Non-trainable params: 0\n',
  } do
    t.truthy(out:find(fragment, 1, true), 'summary contains ' .. fragment .. '\n' .. out)
  end
  t.eq(model:count_params(), 225034)
end)

t.test('layer names are numbered per model, and class names print as in the seed', function()
  local a = seed_model('same')
  local b = seed_model('same')
  local names, classes = {}, {}
  for i, layer in ipairs(b.layers) do
    names[i] = layer.name
    classes[i] = layer.class_name
  end
  t.eq(table.concat(names, ' '),
       'conv2d max_pooling2d conv2d_1 max_pooling2d_1 flatten dense dropout dense_1')
  t.eq(table.concat(classes, ' '),
       'Conv2D MaxPooling2D Conv2D MaxPooling2D Flatten Dense Dropout Dense')
  t.eq(a.layers[1].name, 'conv2d')
  t.eq(tostring(b.output_shape), '(None, 10)')
  t.truthy(b.layers[1] == b:get_layer('conv2d'), 'layers keep their identity')
end)

t.test('summary{explain=true} shows the arithmetic of each shape and count', function()
  local out = t.capture(function() seed_model(nil):summary{explain = true} end)
  t.truthy(out:find('floor((28 - 3) / 1) + 1 = 26', 1, true), out)
  t.truthy(out:find('ceil', 1, true) == nil, 'valid padding uses floor')
  t.truthy(out:find('3*3*1*32', 1, true), out)
  local same = t.capture(function() seed_model('same'):summary{explain = true} end)
  t.truthy(same:find('ceil(28 / 1) = 28', 1, true), same)
end)

t.test('steps_per_epoch stops each epoch early, and more steps than the data makes is an error', function()
  nn.random.seed(7)
  local x, y = nn.random.randn(100, 4), nn.random.randint(0, 3, 100)
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {4}}}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  local out = t.capture(function()
    t.eq(model:fit(x, y, {epochs = 2, batch_size = 10, steps_per_epoch = 3, verbose = 2})
           .params.steps, 3)
  end)
  t.truthy(out:find('3/3 - ', 1, true), out)
  local before = model:get_weights()[1]:sum()
  t.raises(function()
    model:fit(x, y, {epochs = 2, batch_size = 10, steps_per_epoch = 9, validation_split = 0.2})
  end, 'model:fit: steps_per_epoch is 9, but 80 training samples in batches of 10 make only 8; ' ..
       'give at most 8, or leave it out for all of them')
  t.eq(model:get_weights()[1]:sum(), before, 'nothing trained')
end)

t.test('fit returns a History with per-epoch loss and metrics', function()
  nn.random.seed(7)
  local x = nn.random.randn(200, 4)
  local score = (x * nn.tensor{1, -2, 0.5, 3}):sum(1)
  local y = score:gt(0)
  local model = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}},
                              L.Dense{2, activation = 'softmax'}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local history
  local out = t.capture(function()
    history = model:fit(x, y, {epochs = 3, batch_size = 16, validation_split = 0.25, verbose = 2})
  end)
  local keys = table.concat(history.keys, ',')
  t.eq(keys, 'loss,accuracy,val_loss,val_accuracy')
  t.eq(#history.history.loss, 3)
  t.eq(#history.history.val_accuracy, 3)
  t.eq(history.epoch[1], 0)
  t.eq(history.params.epochs, 3)
  t.eq(history.params.steps, 10, '150 training samples at batch 16')
  t.truthy(history.history.loss[3] < history.history.loss[1], 'loss decreases')
  t.truthy(model.history == history, 'model.history is the last history')
  -- A misspelt field or method is an error naming the likely one, not a silent nil.
  t.raises(function() return history.histroy end,
           "history has no field or method 'histroy' (did you mean 'history'?); it has epoch, " ..
           'history, keys, params, plot')
  t.raises(function() return history:plt() end, "(did you mean 'plot'?)")
  -- verbose=2: exactly one line per epoch after the header
  local lines = {}
  for line in out:gmatch('[^\n]+') do lines[#lines + 1] = line end
  t.eq(#lines, 6, 'three Epoch headers and three epoch lines\n' .. out)
  t.truthy(lines[2]:match('^10/10 %- %d+s %- loss: %d%.%d%d%d%d %- accuracy: %d%.%d%d%d%d %- val_loss: %d%.%d%d%d%d %- val_accuracy: %d%.%d%d%d%d %- %d+[mu]?s/epoch %- %d+[mu]?s/step$'),
           lines[2])
  t.truthy(not out:find('\r', 1, true), 'no carriage returns in captured output')
  -- Printed: the epochs, then each key's values to 4 places.
  local printed = tostring(history)
  t.truthy(printed:match('^History%(3 epochs; loss: {%d%.%d%d%d%d, %d%.%d%d%d%d, %d%.%d%d%d%d}; ' ..
                         'accuracy: {.-}; val_loss: {.-}; val_accuracy: {.-}%)$'), printed)
  local none = model:fit(x, y, {epochs = 0, verbose = 0})
  t.eq(tostring(none), 'History(0 epochs)', 'no epochs, no keys')
  -- A long run prints its first and last three epochs; extreme values stay short.
  local long = model:fit(x, y, {epochs = 12, verbose = 0})
  local losses = long.history.loss
  losses[1], losses[2], losses[3], losses[10] = 1e60, 1e-7, 0 / 0, 1 / 0
  local text = tostring(long)
  t.truthy(text:match('^History%(12 epochs; loss: {1e%+60, 1e%-07, nan, %.%.%., inf, ' ..
                      '%d%.%d%d%d%d, %d%.%d%d%d%d}; accuracy: {[^}]*%.%.%.[^}]*}%)$'), text)
end)

t.test('evaluate returns loss and metrics; predict returns probabilities', function()
  nn.random.seed(3)
  local x = nn.random.randn(64, 3)
  local y = nn.random.randint(0, 3, 64)
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {3}}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local loss, accuracy = model:evaluate(x, y, {verbose = 0})
  t.truthy(loss > 0 and accuracy >= 0 and accuracy <= 1, 'loss and accuracy in range')
  local logs = model:evaluate(x, y, {verbose = 0, return_dict = true})
  t.near(logs.loss, loss, 1e-9)
  local p = model:predict(x, {verbose = 0})
  t.eq(tostring(p.shape), '(64, 3)')
  t.near(p:slice(1, 1):sum(), 1.0, 1e-5, 'softmax rows sum to 1')
  local direct = model(x)
  t.truthy(direct == p, 'model(x) equals predict')
end)

t.test('callbacks are called with Keras names and can stop training', function()
  local x = nn.random.randn(40, 2)
  local y = nn.random.randint(0, 2, 40)
  local model = nn.Sequential{L.Dense{2, activation = 'softmax', input_shape = {2}}}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  local calls = {}
  local callback = {
    on_train_begin = function(self, logs) calls[#calls + 1] = 'train_begin' end,
    on_epoch_begin = function(self, epoch) calls[#calls + 1] = 'epoch_begin ' .. epoch end,
    on_epoch_end = function(self, epoch, logs)
      calls[#calls + 1] = 'epoch_end ' .. epoch
      if epoch == 1 then self.model.stop_training = true end
    end,
    on_train_end = function(self, logs) calls[#calls + 1] = 'train_end' end,
  }
  local history = model:fit(x, y, {epochs = 10, verbose = 0, callbacks = {callback}})
  t.eq(table.concat(calls, ','),
       'train_begin,epoch_begin 0,epoch_end 0,epoch_begin 1,epoch_end 1,train_end')
  t.eq(#history.history.loss, 2)
  local batches = 0
  model:fit(x, y, {epochs = 1, batch_size = 10, verbose = 0,
                   callbacks = {{on_train_batch_end = function() batches = batches + 1 end}}})
  t.eq(batches, 4)
  local old_name = 0
  model:fit(x, y, {epochs = 1, batch_size = 10, verbose = 0,
                   callbacks = {{on_batch_end = function() old_name = old_name + 1 end}}})
  t.eq(old_name, 4, 'on_batch_end, the older name, is called too')
end)

t.test('an error inside a callback reaches the caller and the model stays usable', function()
  local x = nn.random.randn(20, 2)
  local y = nn.random.randint(0, 2, 20)
  local model = nn.Sequential{L.Dense{2, activation = 'softmax', input_shape = {2}}}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  t.raises(function()
    model:fit(x, y, {epochs = 2, verbose = 0,
                     callbacks = {{on_epoch_end = function() error('boom from callback') end}}})
  end, 'boom from callback')
  local h = model:fit(x, y, {epochs = 1, verbose = 0})
  t.eq(#h.history.loss, 1)
end)

-- An activity regularizer's penalty joins the loss once, in fit and in evaluate alike (Keras
-- 3 adds the layers' losses to test steps too), divided by the batch's rows as Keras does
-- (tf.keras 2, and Keras 3 since keras-team/keras#22021): with a learning rate too small to
-- move a weight, each is the data loss plus l2 · sum(out²) / rows, whatever batch_size is.
t.test('fit and evaluate count an activity penalty once, divided by the batch rows', function()
  nn.random.seed(5)
  local first = L.Dense{4, activity_regularizer = nn.regularizers.l2(1), input_shape = {3}}
  local model = nn.Sequential{first, L.Dense{2}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1e-30}, loss = 'mse'}
  local x, y = nn.random.randn(8, 3), nn.random.randn(8, 2)
  local difference = model:predict(x, {verbose = 0}) - y
  local data = (difference * difference):mean()
  local out = first(x)
  local expected = data + (out * out):sum() / 8
  local tolerance = 1e-5 * expected
  t.near(model:evaluate(x, y, {verbose = 0}), expected, tolerance, 'evaluate loss')
  t.near(model:test_on_batch(x, y), expected, tolerance, 'test_on_batch loss')
  local loss = model:fit(x, y, {epochs = 1, batch_size = 8, verbose = 0}).history.loss[1]
  t.near(loss, expected, tolerance, 'training loss')
  -- Halves of 4 rows: each batch's penalty over 4, so the mean over rows is unchanged.
  t.near(model:fit(x, y, {epochs = 1, batch_size = 4, shuffle = false, verbose = 0}).history.loss[1],
         expected, tolerance, 'training loss, batch_size 4')
  local top, top_out = x:slice(1, 4), out:slice(1, 4)
  local top_difference = difference:slice(1, 4)
  t.near(model:test_on_batch(top, y:slice(1, 4)),
         (top_difference * top_difference):mean() + (top_out * top_out):sum() / 4, tolerance,
         'test_on_batch of 4 rows')
end)

-- The reported loss must not depend on batch_size: the same 8 rows evaluated 8, 4, 3 (a
-- last batch of 2) and 1 at a time, with every kind of activity penalty (a layer's l1 and
-- l1_l2, the ActivityRegularization layer's l2, the last layer's), on the CPU and the
-- emulated device.
t.test('evaluate gives the same loss with an activity penalty for any batch_size', function()
  local x, y = nn.random.randn(8, 3), nn.random.randn(8, 2)
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(11)
    local model = nn.Sequential{
      L.Dense{4, activation = 'tanh', activity_regularizer = nn.regularizers.l1(0.05),
              input_shape = {3}},
      L.ActivityRegularization{l2 = 0.2},
      L.Dense{3, activity_regularizer = nn.regularizers.l1_l2(0.03, 0.1)},
      L.Dense{2, activity_regularizer = nn.regularizers.l2(0.3)}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = 'mse'}
    local whole = model:evaluate(x, y, {batch_size = 8, verbose = 0})
    for _, batch_size in ipairs{4, 3, 1} do
      t.near(model:evaluate(x, y, {batch_size = batch_size, verbose = 0}), whole, 1e-6 * whole,
             device .. ': batch_size ' .. batch_size .. ' against 8')
    end
    t.near(model:fit(x, y, {epochs = 1, batch_size = 4, shuffle = false, verbose = 0})
             .history.loss[1], whole, 1e-6 * whole, device .. ': fit at batch_size 4')
  end
end)

-- Keras' documented example (keras-team/keras#22018): Dense(5, kernel_initializer='ones',
-- kernel_regularizer=L1(0.01), activity_regularizer=L2(0.01)) on ones(5, 5) * 2 has
-- layer losses 5.25: each output is 10, so the activity penalty is 0.01 · 25 · 100 / 5 = 5
-- and the kernel's 0.01 · 25 = 0.25. With labels equal to the output the mse is 0 and the
-- loss evaluate reports is those penalties alone.
t.test("Keras' documented activity penalty: 5.25 for Dense(5) on ones(5, 5) * 2", function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local model = nn.Sequential{L.Dense{5, kernel_initializer = 'ones', input_shape = {5},
                                        kernel_regularizer = nn.regularizers.L1(0.01),
                                        activity_regularizer = nn.regularizers.L2(0.01)}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = 'mse'}
    local x, y = nn.ones(5, 5) * 2, nn.ones(5, 5) * 10
    t.near(model:evaluate(x, y, {verbose = 0}), 5.25, 1e-6, device .. ': evaluate')
    t.near(model:evaluate(x, y, {batch_size = 2, verbose = 0}), 5.25, 1e-6,
           device .. ': evaluate, batch_size 2')
    t.near(model:test_on_batch(x, y), 5.25, 1e-6, device .. ': test_on_batch')
  end
end)

-- The gradient training follows is the derivative of the loss evaluate reports: one SGD(1)
-- step moves each weight by minus its gradient, which central differences of evaluate
-- check, with activity penalties on a hidden layer, an ActivityRegularization and the last
-- layer. A gradient left summed over the 6 rows beside a loss divided by them (or the
-- reverse) would be 6 times too strong or too weak.
t.test('the activity penalty gradient matches finite differences of the loss', function()
  local x, y = nn.random.randn(6, 2), nn.random.randn(6, 2)
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(21)
    local model = nn.Sequential{
      L.Dense{3, activation = 'tanh', input_shape = {2},
              activity_regularizer = nn.regularizers.l1_l2(0.05, 0.3)},
      L.ActivityRegularization{l2 = 0.4},
      L.Dense{2, activity_regularizer = nn.regularizers.l2(0.5)}}
    model:to(device)
    local weights = model:get_weights()
    local function loss_at(w)
      model:set_weights(w)
      return model:evaluate(x, y, {verbose = 0})
    end
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1}, loss = 'mse'}
    model:set_weights(weights)
    model:train_on_batch(x, y)
    local stepped = model:get_weights()
    local h, worst = 1e-2, 0
    for i, w in ipairs(weights) do
      local before, after = w:flatten(), stepped[i]:flatten()
      for k = 1, w.size do
        local probe = {}
        for j, other in ipairs(weights) do probe[j] = other:clone() end
        local flat = probe[i]:reshape(w.size)
        flat[k] = before[k] + h
        local up = loss_at(probe)
        flat[k] = before[k] - h
        local down = loss_at(probe)
        local numeric, trained = (up - down) / (2 * h), before[k] - after[k]
        worst = math.max(worst, math.abs(numeric - trained) / (1e-2 + math.abs(numeric)))
      end
    end
    t.truthy(worst < 3e-3, device .. ': worst relative gradient error ' .. worst)
  end
end)

-- The last layer's activity penalty moves the weights too: its gradient goes through the
-- layer's activation into the same place as the loss's.
t.test("the last layer's activity penalty has a gradient, through its activation", function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- Linear: loss (2w - 2)² + 0.5 (2w)²... with x = 1, y = 2, w = 2: mse 0, penalty
    -- 0.5 · 2² = 2, gradient 0.5 · 2 · 2 = 2, so SGD(0.1) takes w to 1.8.
    local linear = nn.Sequential{L.Dense{1, input_shape = {1}, use_bias = false,
                                         activity_regularizer = nn.regularizers.l2(0.5)}}
    linear:to(device)
    linear:set_weights{nn.tensor{{2}}}
    linear:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    t.near(linear:train_on_batch(nn.tensor{{1}}, nn.tensor{{2}}), 2, 1e-6, device .. ': linear loss')
    t.near(linear:get_weights()[1]:item(), 1.8, 1e-6, device .. ': linear step')
    -- Softmax over 3 classes from bias b (zero kernel, x = 0), label 0: the loss is
    -- -ln s_0 + 0.5 sum s_k², whose gradient in b_j is s_j - [j = 0] + s_j² - s_j sum s_k².
    local b = {0, math.log(2), math.log(5)}
    local softmax = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2},
                                          activity_regularizer = nn.regularizers.l2(0.5)}}
    softmax:to(device)
    softmax:set_weights{nn.zeros(2, 3), nn.tensor(b)}
    softmax:compile{optimizer = nn.optimizers.SGD{learning_rate = 1},
                    loss = 'sparse_categorical_crossentropy'}
    local s, squares = {1 / 8, 2 / 8, 5 / 8}, 0
    for k = 1, 3 do squares = squares + s[k] ^ 2 end
    local loss = softmax:train_on_batch(nn.zeros(1, 2), nn.tensor{0})
    t.near(loss, math.log(8) + 0.5 * squares, 1e-6, device .. ': softmax loss')
    local moved = softmax:get_weights()[2]:flatten()
    for j = 1, 3 do
      local gradient = s[j] - (j == 1 and 1 or 0) + s[j] ^ 2 - s[j] * squares
      t.near(moved[j], b[j] - gradient, 1e-6, device .. ': softmax bias ' .. j)
    end
  end
end)

t.test("nn.regularizers.l1_l2 leaves a factor out as 0, as Keras 3's L1L2", function()
  t.eq(nn.regularizers.l1_l2{l2 = 0.03}.l1, 0, 'l1 left out')
  t.eq(nn.regularizers.l1_l2{l2 = 0.03}.l2, 0.03, 'l2 given')
  local none = nn.regularizers.l1_l2()
  t.eq(none.l1 + none.l2, 0, 'both left out')
  -- The name 'l1_l2' still means 0.01 each: kernel {{1, -2}, {3, 4}} costs 0.01 · 10 + 0.01 · 30.
  local model = nn.Sequential{L.Dense{2, input_shape = {2}, use_bias = false,
                                      kernel_regularizer = 'l1_l2'}}
  model:set_weights{nn.tensor{{1, -2}, {3, 4}}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  t.near(model:evaluate(nn.zeros(1, 2), nn.zeros(1, 2), {verbose = 0}), 0.4, 1e-6, "'l1_l2' by name")
  -- Keras' arguments, by position or by name, as L1L2(0.1) and L2(l2=0.5); others refused.
  t.eq(nn.regularizers.l1_l2(0.1).l1, 0.1, 'a lone number is l1')
  t.eq(nn.regularizers.L1L2{0.1, 0.2}.l2, 0.2, 'l2 second')
  t.eq(nn.regularizers.L2{0.5}.l2, 0.5, 'L2{0.5}')
  t.eq(nn.regularizers.L2{l2 = 0.5}.l2, 0.5, 'L2{l2=0.5}')
  t.eq(nn.regularizers.L1{}.l1, 0.01, 'L1{} has the default')
  t.raises(function() nn.regularizers.L2{l1 = 0.1} end, "nn.regularizers.l2: unknown argument 'l1'",
           'valid arguments: l2')
  t.raises(function() nn.regularizers.l1_l2{1, 2, 3} end, 'takes 2 positional arguments')
  t.raises(function() nn.regularizers.l2(-1) end, 'l2 must be a number >= 0, got -1')
  t.raises(function() nn.regularizers.l1('a') end, 'expected a table of options (or a number)')
  -- A hand-written table must say l1 and/or l2: anything else would be no penalty at all.
  t.raises(function() L.Dense{2, kernel_regularizer = {L2 = 0.01}} end,
           "kernel_regularizer has unknown key 'L2' (valid: l1, l2)")
  t.raises(function() L.Dense{2, bias_regularizer = {}} end, 'bias_regularizer is an empty table')
  t.raises(function() L.Dense{2, activity_regularizer = {0.01}} end,
           'activity_regularizer has entry [1]', 'only the keys l1 and l2')
  t.eq(L.Dense{2, kernel_regularizer = {l2 = 0.5}}:get_config().kernel_regularizer.l2, 0.5,
       'a table with l2 is taken')
end)

t.test('learning_rate 0 is allowed, as in Keras: losses are computed, weights stay', function()
  nn.random.seed(2)
  local model = nn.Sequential{L.Dense{2, input_shape = {3}}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0}, loss = 'mse'}
  local before = model:get_weights()
  local history = model:fit(nn.random.randn(8, 3), nn.random.randn(8, 2), {epochs = 2, verbose = 0})
  t.truthy(history.history.loss[1] > 0, 'a loss was computed')
  local after = model:get_weights()
  for i = 1, #before do t.eq(after[i], before[i], 'weight ' .. i .. ' unchanged') end
  model.learning_rate = 0
  t.raises(function() model.learning_rate = -1 end, 'model.learning_rate must be a finite number >= 0, got -1')
  -- compile's range, so that model.optimizer stays a config compile takes back
  t.raises(function() model.learning_rate = 1e40 end,
           'model.learning_rate must be between 0 and 1e+30, got 1e+40')
  t.eq(model.learning_rate, 0, 'unchanged by the refused rate')
  t.raises(function() model:compile{optimizer = nn.optimizers.SGD{learning_rate = -0.1}, loss = 'mse'} end,
           'learning_rate')
end)

-- layer.kernel is the layer's weight itself, as a Keras variable is: fetched before the
-- first fit (when the model gathers its weights into one block) or after moving the
-- model, it shows what training wrote; get_weights gives copies that stay put.
t.test('a kernel fetched before fit shows the trained weights; get_weights copies', function()
  for _, move in ipairs{false, true} do
    nn.random.seed(3)
    local dense = L.Dense{1, input_shape = {3}}
    local model = nn.Sequential{dense}
    if move then model:to('cpu') end
    model:compile{optimizer = 'sgd', loss = 'mse'}
    local kernel, copies = dense.kernel, model:get_weights()
    local start = copies[1]:sum()
    t.near(kernel:sum(), start, 1e-6, 'kernel before fit')
    model:fit(nn.ones(4, 3), nn.ones(4, 1) * 5, {epochs = 1, verbose = 0})
    t.truthy(math.abs(dense.kernel:sum() - start) > 0.1, 'fit moved the kernel')
    t.near(kernel:sum(), dense.kernel:sum(), 0, 'the kernel fetched before fit')
    t.near(copies[1]:sum(), start, 0, 'the copy from get_weights')
    kernel:fill(0)
    t.near(model:get_weights()[1]:sum(), 0, 0, 'writing the fetched kernel writes the layer')
  end
end)

-- A model that has trained can grow: its buffers were sized for fewer layers (the
-- sanitizer build caught them being freed as if they had the new count).
t.test('a layer added after fit joins the model; a kernel fetched before still follows', function()
  nn.random.seed(6)
  local x = nn.random.randn(16, 6)
  local model = nn.Sequential{L.Dense{5, input_shape = {6}}}
  local kernel = model.layers[1].kernel
  model:compile{optimizer = 'sgd', loss = 'mse'}
  model:fit(x, nn.zeros(16, 5), {epochs = 1, verbose = 0})
  model:add(L.Dense{2})
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local before = kernel:sum()
  model:fit(x, nn.ones(16, 2), {epochs = 2, verbose = 0})
  t.eq(tostring(model:predict(x, {verbose = 0}).shape), '(16, 2)')
  t.truthy(math.abs(kernel:sum() - before) > 1e-6, 'the second fit moved the first kernel')
  t.near(kernel:sum(), model.layers[1].kernel:sum(), 0, 'the kernel fetched before both fits')
end)

t.test('pop removes the last layer: the rest keep their weights, train and predict', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(7)
    local x = nn.random.randn(32, 4)
    local model = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}},
                                L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, nn.random.randint(0, 3, 32), {epochs = 1, verbose = 0})
    local first = model.layers[1].kernel:sum()
    local popped = model:pop()
    t.eq(popped.name, 'dense_1', device)
    t.eq(tostring(popped), 'Dense "dense_1" (None, 8) -> (None, 3), 27 params')
    t.eq(tostring(model), 'Sequential "sequential": (None, 4) -> (None, 8), 1 layer, 40 params')
    t.eq(model.layers[1].kernel:sum(), first, 'the first layer keeps its trained weights')
    t.eq(tostring(popped(nn.ones(2, 8)).shape), '(2, 3)', 'the popped layer works on its own')
    model:add(L.Dense{2, activation = 'softmax'})
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    local history = model:fit(x, nn.random.randint(0, 2, 32), {epochs = 2, verbose = 0})
    t.eq(#history.history.loss, 2)
    t.truthy(model.layers[1].kernel:sum() ~= first, 'training goes on with the new head')
    t.eq(tostring(model:predict(x, {verbose = 0}).shape), '(32, 2)')
    model:pop()
    model:pop()
    t.eq(tostring(model), 'Sequential "sequential": 0 layers, not built yet')
    t.raises(function() model:pop() end, 'model:pop', 'has no layers to pop')
    t.raises(function() model:predict(x, {verbose = 0}) end, 'has no layers')
    model:add(L.Dense{5})
    t.eq(tostring(model:predict(x, {verbose = 0}).shape), '(32, 5)', 'the input shape stays')
    t.eq(model.layers[1].name, 'dense_3', 'names the model gave popped layers are not given again')
  end
end)

-- A layer may serve two models (Keras allows it): each model trains the one weight it
-- shares, whichever trained last, and the layer keeps the name its first model gave it.
t.test('a layer shared by two models trains in both and keeps its name', function()
  nn.random.seed(3)
  local shared = L.Dense{2, input_shape = {3}}
  local a = nn.Sequential{shared}
  local b = nn.Sequential{L.Dense{3, input_shape = {3}, name = 'first'}}
  b:add(shared)
  t.eq(shared.name, 'dense', 'kept the name model a gave it')
  t.eq(a.layers[1].name, 'dense')
  a:compile{optimizer = 'sgd', loss = 'mse'}
  b:compile{optimizer = 'sgd', loss = 'mse'}
  local x, y = nn.random.randn(16, 3), nn.random.randn(16, 2)
  a:fit(x, y, {epochs = 2, verbose = 0})
  b:fit(x, y, {epochs = 1, verbose = 0})
  local losses = a:fit(x, y, {epochs = 4, verbose = 0}).history.loss
  t.truthy(losses[4] < losses[1], 'model a still learns after b trained the layer: ' ..
           losses[1] .. ' then ' .. losses[4])
  t.near(a:predict(x, {verbose = 0}):sum(), shared(x):sum(), 1e-4, 'a uses the trained layer')
  local c = nn.Sequential{L.Dense{2, input_shape = {3}}}
  t.raises(function() c:add(nn.Sequential{L.Dense{2, input_shape = {2}}}.layers[1]) end,
           'layer name "dense" is already used by layer 1 of model "sequential"')
  t.eq(#c.layers, 1, 'the refused add changed nothing')
end)

t.test('a failed first add leaves no input shape behind', function()
  local model = nn.Sequential()
  t.raises(function() model:add(L.Conv2D{4, 3, input_shape = {2, 2, 1}}) end,
           'cannot take the model input of shape (None, 2, 2, 1)', 'The feature map is too small')
  model:add(L.Flatten())
  t.eq(model.built, false, 'Flatten alone has no input shape to build with')
end)

t.test('compile refuses optimizer settings that fit would refuse every time', function()
  local model = nn.Sequential{L.Dense{2, input_shape = {3}}}
  t.raises(function()
    model:compile{optimizer = {name = 'sgd', learning_rate = 0.1, clipnorm = 1, clipvalue = 0.5},
                  loss = 'mse'}
  end, 'model:compile: sgd: only one of clipnorm, clipvalue and global_clipnorm can be set')
  t.eq(model.compiled, false, 'the refused compile left the model uncompiled')
  -- nn.optimizers checks the same where the optimizer is made
  t.raises(function() nn.optimizers.SGD{learning_rate = 0.1, clipnorm = 1, clipvalue = 0.5} end,
           'nn.optimizers.SGD: only one of clipnorm, clipvalue and global_clipnorm')
  t.raises(function() nn.optimizers.SGD{momentum = 5} end,
           'nn.optimizers.SGD: momentum must be between 0 and 1, got 5')
  t.raises(function() nn.optimizers.Adam{bogus = 1} end,
           "nn.optimizers.Adam: unknown option 'bogus'")
  t.raises(function() nn.optimizers.Adam{learning_rate = 'x'} end,
           'nn.optimizers.Adam: learning_rate must be a number, got string')
end)

-- One step of Dense{1} (w = b = start) on x, y with the optimizer given; returns w, b.
local function one_step(optimizer, start, x, y)
  local model = nn.Sequential{L.Dense{1, input_shape = {1}, kernel_initializer = 'zeros'}}
  model:set_weights{nn.tensor{{start}}, nn.tensor{start}}
  model:compile{optimizer = optimizer, loss = 'mse'}
  model:fit(nn.tensor{{x}}, nn.tensor{{y}}, {epochs = 1, batch_size = 1, verbose = 0})
  local weights = model:get_weights()
  return weights[1]:item(), weights[2]:item()
end

t.test('clipnorm clips each weight tensor by its own norm; global_clipnorm all together', function()
  -- From w = b = 0 on x = 1, y = 3 both gradients are 2(0 - 3) = -6. Keras 3 clips each
  -- variable's gradient to norm 1, so both move by lr·1; global_clipnorm clips the pair
  -- (-6, -6) to norm 1, so each moves by 1/sqrt(2).
  local w, b = one_step(nn.optimizers.SGD{learning_rate = 1, clipnorm = 1}, 0, 1, 3)
  t.near(w, 1, 1e-6, 'kernel after clipnorm=1')
  t.near(b, 1, 1e-6, 'bias after clipnorm=1')
  w, b = one_step(nn.optimizers.SGD{learning_rate = 1, global_clipnorm = 1}, 0, 1, 3)
  t.near(w, math.sqrt(0.5), 1e-6, 'kernel after global_clipnorm=1')
  t.near(b, math.sqrt(0.5), 1e-6, 'bias after global_clipnorm=1')
  t.raises(function() nn.Sequential{L.Dense{1, input_shape = {1}}}:compile{
             optimizer = nn.optimizers.Adam{clipnorm = 1, global_clipnorm = 1}, loss = 'mse'} end,
           'only one of clipnorm, clipvalue and global_clipnorm')
end)

t.test('AdamW decays biases too, as Keras 3 does by default', function()
  -- x = 0, y = 1 from w = b = 1: the loss and every gradient are 0, so only the decay
  -- moves the weights: w·(1 - weight_decay·learning_rate) = 1 - 0.5·0.1.
  local w, b = one_step(nn.optimizers.AdamW{learning_rate = 0.1, weight_decay = 0.5}, 1, 0, 1)
  t.near(w, 0.95, 1e-6, 'kernel')
  t.near(b, 0.95, 1e-6, 'bias')
end)

t.test("'accuracy' is chosen by shapes as in Keras: categorical for multi-label outputs", function()
  -- sigmoid(bias) = (0.73, 0.27, 0.27) for every row: thresholded (1, 0, 0), argmax 0.
  local model = nn.Sequential{L.Dense{3, activation = 'sigmoid', input_shape = {1},
                                      kernel_initializer = 'zeros'}}
  model:set_weights{nn.zeros(1, 3), nn.tensor{1, -1, -1}}
  model:compile{optimizer = 'sgd', loss = 'binary_crossentropy',
                metrics = {'accuracy', 'binary_accuracy'}}
  local x, y = nn.zeros(2, 1), nn.tensor{{1, 0, 0}, {0, 1, 0}}
  local _, accuracy, binary = model:evaluate(x, y, {verbose = 0})
  t.near(accuracy, 0.5, 1e-6, 'accuracy: argmax right in row 1 only (categorical)')
  t.near(binary, (1 + 1 / 3) / 2, 1e-6, 'binary_accuracy: 3/3 and 1/3 elements')
  -- One column: binary accuracy, as before.
  local single = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {1}}}
  single:set_weights{nn.zeros(1, 1), nn.tensor{1}}
  single:compile{optimizer = 'sgd', loss = 'binary_crossentropy', metrics = {'accuracy'}}
  local _, one = single:evaluate(x, nn.tensor{1, 0}, {verbose = 0})
  t.near(one, 0.5, 1e-6, 'one column: thresholded at 0.5')
end)

-- A ReLU turns a NaN input into 0 in the forward pass, so the loss never shows it, while
-- the gradient would fill the first kernel with NaN: fit refuses such data up front.
t.test('fit refuses NaN or infinite data and leaves the weights alone', function()
  nn.random.seed(1)
  local model = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}},
                              L.Dense{3, activation = 'softmax'}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
  local x, y = nn.random.randn(4, 4), nn.tensor{0, 1, 2, 0}
  local before = model:get_weights()[1]:sum()
  x:flatten()[6] = 0 / 0
  t.raises(function() model:fit(x, y, {verbose = 0}) end,
           'model:fit: x holds NaN in sample 2 (value 2 of it)')
  x:flatten()[6] = 1 / 0
  t.raises(function() model:fit(x, y, {verbose = 0}) end, 'x holds inf in sample 2')
  x:flatten()[6] = 0
  t.raises(function()
    model:fit(x, y, {verbose = 0, validation_data = {x * (0 / 0), y}})
  end, 'model:fit: validation x holds NaN in sample 1 (value 1 of it); every validation loss ' ..
       'would be NaN, and callbacks watching it blind: remove or replace such values first')
  -- A bad label of validation_data is said to be there, not in y.
  t.raises(function()
    model:fit(x, y, {verbose = 0, validation_data = {x, nn.tensor{0, 1, 7, 0}}})
  end, 'model:fit: validation_data: sparse_categorical_crossentropy: label 7 of sample 3 is ' ..
       'out of range; the output has 3 classes, so labels must lie in [0, 3)')
  t.raises(function()
    model:fit(x, y, {verbose = 0, validation_data = {x, nn.tensor{0, 1}}})
  end, 'model:fit: validation_data: x has 4 samples but y has shape (2,)')
  t.eq(model:get_weights()[1]:sum(), before, 'weights untouched')
  t.eq(#model:fit(x, y, {verbose = 0}).history.loss, 1, 'clean data trains')
end)

-- One unit with 0/1 labels is binary classification under the wrong loss, the mistake
-- "the output has 1 classes" left a student to work out.
t.test('sparse labels against a one-unit output name the binary loss and the units', function()
  nn.random.seed(1)
  local model = nn.Sequential{L.Dense{1, activation = 'sigmoid', input_shape = {4}}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
  t.raises(function()
    model:fit(nn.random.randn(4, 4), nn.tensor{0, 1, 1, 0}, {verbose = 0})
  end, "model:fit: sparse_categorical_crossentropy: label 1 of sample 2 is out of range: the " ..
       "output has 1 unit, so the only class is 0; for 0/1 labels and one sigmoid unit use " ..
       "loss='binary_crossentropy', or give the last layer one unit per class")
  -- class ids beyond 1 are not 0/1 labels: only the units are the fix
  t.raises(function()
    model:fit(nn.random.randn(4, 4), nn.tensor{0, 3, 9, 0}, {verbose = 0})
  end, "label 3 of sample 2 is out of range: the output has 1 unit, so the only class is 0; " ..
       "give the last layer one unit per class")
  -- a negative label is wrong whatever the layer
  local ok, message = pcall(model.fit, model, nn.random.randn(4, 4), nn.tensor{0, -1, 0, 0},
                            {verbose = 0})
  t.truthy(not ok and message:find('label -1 of sample 2 is out of range', 1, true) and
           not message:find('1 unit', 1, true), 'a negative label: ' .. tostring(message))
end)

t.test('weights know their name, path and whether they train, as Keras variables do', function()
  local m = nn.Sequential{L.Dense{4, input_shape = {3}}, L.BatchNormalization()}
  local seen = {}
  for _, w in ipairs(m.weights) do
    seen[#seen + 1] = string.format('%s %s %s %s', w.name, w.path, tostring(w.trainable), w.shape)
  end
  t.eq(table.concat(seen, '; '), 'kernel dense/kernel true (3, 4); bias dense/bias true (4,); ' ..
       'gamma batch_normalization/gamma true (4,); beta batch_normalization/beta true (4,); ' ..
       'moving_mean batch_normalization/moving_mean false (4,); ' ..
       'moving_variance batch_normalization/moving_variance false (4,)')
  t.eq(m.layers[1].kernel.path, 'dense/kernel')
  t.eq(m.layers[2].weights[3].name, 'moving_mean')
  local kernel = m.layers[1].kernel
  m.layers[1].trainable = false
  t.eq(m.weights[1].trainable, false, 'a frozen layer: asked again, its weights do not train')
  t.eq(kernel.trainable, false, 'and a view taken before the freeze says so too')
  m.layers[1].trainable = true
  t.eq(kernel.trainable, true)
  m.layers[1].trainable = false
  t.eq(m.trainable_weights[1].path, 'batch_normalization/gamma')
  -- Other tensors have no name: what is computed from a weight is no weight.
  t.raises(function() return (m.weights[1] * 2).name end, "tensor has no field or method 'name'")
  t.raises(function() return nn.zeros(2).path end, "tensor has no field or method 'path'")
end)

t.test('model.layers and model.weights count back from the end with -1, as Keras code does', function()
  local m = nn.Sequential{L.Dense{2, input_shape = {3}, name = 'first'}, L.Dense{5, name = 'last'}}
  t.eq(m.layers[-1].name, 'last')
  t.eq(m.layers[-2].name, 'first')
  t.eq(tostring(m.weights[-1].shape), '(5,)', 'the last bias')
  t.eq(tostring(m.trainable_weights[-2].shape), '(2, 5)', 'the last kernel')
  t.eq(m.layers[3], nil, 'past the end is nil, so ipairs ends')
  local names = {}
  for _, layer in ipairs(m.layers) do names[#names + 1] = layer.name end
  t.eq(table.concat(names, ' '), 'first last')
  t.eq(nn.zeros(2, 3, 4).shape[-1], 4)
  t.eq(nn.zeros(2, 3, 4).shape[-3], 2)
  t.eq(nn.zeros(2, 3, 4).shape[-1.0], 4, 'a whole float counts as t[-1.0] does')
  t.eq(m.layers[-1.0].name, 'last')
  t.eq(tostring(m.layers[-1].weights[-1].shape), '(5,)', "a layer's weights too")
  t.eq(m:get_layer(-1).name, 'last', 'get_layer counts back as well')
  t.eq(m:get_layer(-2).name, 'first')
  t.raises(function() m:get_layer(-3) end, 'position -3 is out of range (the model has 2 layers)')
  t.eq(nn.tensor{{1, 2}, {3, 4}}:sum{axis = nn.None}, 10.0, "axis = nn.None is Keras' axis=None")
end)

t.test("the name may follow the layers, as Keras' Sequential(layers, name)", function()
  local named = nn.Sequential({L.Dense{4, input_shape = {3}}}, 'net')
  t.eq(named.name, 'net')
  t.eq(#named.layers, 1)
  t.eq(nn.Sequential(nil, 'empty').name, 'empty')
  t.raises(function() nn.Sequential({}, '') end, 'name must be a non-empty string, got an empty one')
end)

t.test('model construction and calls say exactly what is wrong', function()
  t.raises(function() nn.Sequential{1} end, 'nn.Sequential (layer 1): expected a layer ' ..
           '(from nn.layers), a model or an nn.Input, got integer')
  t.raises(function() nn.Sequential{name = string.rep('a', 300)} end,
           'nn.Sequential: name is 300 characters long; at most 63 are allowed')
  t.raises(function() nn.Sequential{name = ''} end, 'name must be a non-empty string, got an empty one')
  -- A newline or tab in a name broke the summary table and the charts.
  t.raises(function() nn.Sequential{name = 'a\tb'} end, 'name must not hold control characters')
  t.raises(function() L.Dense{2, name = 'a\nb'} end,
           'nn.layers.Dense: name must not hold control characters (found byte 10 at position 2)')
  local empty = nn.Sequential()
  t.raises(function() empty(nn.ones(2, 3), {training = true}) end,
           'model(x): model "sequential" has no layers')
  local model = nn.Sequential{L.Dense{2}, L.Dropout{0.5}}
  t.eq(tostring(model(nn.ones(4, 3), {training = true}).shape), '(4, 2)')
  t.eq(model.built, true, 'a call in training mode builds the model as predict would')
  t.eq(tostring(model:predict(nn.ones(5, 3), {verbose = 0}).shape), '(5, 2)')
  local unbuilt = nn.Sequential{L.Dense{2}}
  t.raises(function() unbuilt:build{-1, 0} end, 'model:build: the input shape has size 0 ' ..
           'at axis 1; every size after the batch axis must be positive')
  t.raises(function() unbuilt:build(-1, -5) end, 'has size -5 at axis 1')
  t.raises(function() L.Dense{2}:build(-1, -5) end, 'layer:build: the input shape has size -5 ' ..
           'at axis 1; sizes must be positive, or nn.None (-1) where unknown')
  t.raises(function() L.Conv2D{2, 2}:build(-1, 5, 0, 3) end, 'size 0 at axis 2')
  t.eq(unbuilt.built, false)
end)

t.test("build takes nn.None for the batch axis, as Keras' build((None, 7)); a tensor's sizes stay known", function()
  local model = nn.Sequential{L.Dense{3}}
  model:build{nn.None, 7}
  t.eq(tostring(model.input_shape), '(None, 7)', 'model:build{nn.None, 7}')
  t.eq(tostring(model.layers[1].output_shape), '(None, 3)')
  local again = nn.Sequential{L.Dense{3}}
  again:build(nn.None, 7)
  t.eq(tostring(again.input_shape), '(None, 7)', 'model:build(nn.None, 7)')
  local from_shape = nn.Sequential{L.Dense{3}}
  from_shape:build(model.input_shape)
  t.eq(tostring(from_shape.input_shape), '(None, 7)', 'model:build(other.input_shape)')
  t.eq(tostring(L.Dense{4}:build(nn.None, 3).output_shape), '(None, 4)', 'layer:build(nn.None, 3)')
  t.eq(tostring(L.Dense{4}:build{nn.None, 3}.output_shape), '(None, 4)', 'layer:build{nn.None, 3}')
  t.eq(tostring(L.Dense{4}:build{nn.None, nn.None, 3}.output_shape), '(None, None, 4)',
       'a layer takes nn.None where its input may have any size')

  local unbuilt = nn.Sequential{L.Dense{3}}
  t.raises(function() unbuilt:build(nn.None, nn.None) end,
           'model:build: axis 1 of the input shape is unknown (nn.None or -1); only the ' ..
           'batch axis (the first) may be unknown, the others must be known to build the model')
  t.raises(function() unbuilt:build{-5, 7} end,
           'model:build: the batch size (axis 0) must be nn.None, -1 or positive, got -5')
  t.raises(function() unbuilt:build{0, 7} end, 'must be nn.None, -1 or positive, got 0')
  t.raises(function() unbuilt:build{nn.None, 'a'} end,
           "model:build: size 2 of the shape must be an integer or nn.None, got 'a'")
  t.eq(unbuilt.built, false)
  local unknown = "size 1 of the shape is nn.None, but a tensor's sizes must be known integers"
  t.raises(function() nn.zeros(nn.None, 3) end, 'nn.zeros: ' .. unknown)
  t.raises(function() nn.zeros({nn.None, 3}, 'int32') end, 'nn.zeros: ' .. unknown)
  t.raises(function() nn.ones(nn.None, 3, 'int32') end, 'nn.ones: ' .. unknown)
  t.raises(function() nn.full({nn.None, 2}, 1) end, 'nn.full: ' .. unknown)
  t.raises(function() nn.random.randn(nn.None, 2) end, 'nn.random.randn: ' .. unknown)
  t.raises(function() nn.random.uniform(2, nn.None) end,
           "nn.random.uniform: size 2 of the shape is nn.None, but a tensor's sizes must be known")
  t.raises(function() nn.random.randint(0, 3, nn.None) end, 'nn.random.randint: ' .. unknown)
  t.raises(function() nn.zeros(6):reshape(nn.None, 3) end, 'tensor:reshape: ' .. unknown)
  t.raises(function() nn.zeros(2, 'x', 3) end, "nn.zeros: size 2 of the shape must be an integer, got 'x'")
end)

t.test('learning_rate reads as it is set; set_weights names itself when given no list', function()
  local model = nn.Sequential{L.Dense{2, input_shape = {3}}}
  t.eq(model.learning_rate, nil, 'no rate before compile')
  model:compile{optimizer = 'sgd', loss = 'mse'}
  t.near(model.learning_rate, 0.01, 1e-9, 'the optimizer default')
  model.learning_rate = 0.5
  t.near(model.learning_rate, 0.5, 1e-9)
  model:fit(nn.ones(2, 3), nn.ones(2, 2), {verbose = 0})
  t.near(model.learning_rate, 0.5, 1e-9, 'after fit')
  t.raises(function() model:set_weights(nil) end,
           'model:set_weights: expected a list of weight tensors (as get_weights gives), got nil')
  t.raises(function() model.layers[1]:set_weights(5) end, 'layer:set_weights: expected a list')
end)

t.test('set_weights reads each entry once and converts integer tensors, model and layer alike', function()
  local model = nn.Sequential{L.Dense{2, input_shape = {3}}}
  local weights, reads = model:get_weights(), 0
  -- A list whose entries change after the first reading: the check and the copy must
  -- see the same tensors.
  local proxy = setmetatable({}, {__len = function() return 2 end, __index = function(_, i)
    reads = reads + 1
    return reads > 2 and nn.zeros(9) or weights[i]
  end})
  model:set_weights(proxy)
  t.eq(reads, 2, 'each entry read once')
  model:set_weights{nn.ones(3, 2):astype('int32'), nn.zeros(2)}
  t.eq(model:get_weights()[1]:sum(), 6, 'int32 converted like layer:set_weights does')
  reads = 0
  model.layers[1]:set_weights(proxy)
  t.eq(reads, 2, 'layer:set_weights reads each entry once too')
end)

t.test('a model among the layers brings its layers, shared, as a nested Keras model', function()
  local L = nn.layers
  nn.random.seed(3)
  local model = nn.Sequential{L.Flatten{input_shape = {4, 4}}, L.Dense{6, activation = 'relu'},
                              L.Dense{3}}
  local probability = nn.Sequential{model, L.Softmax()}
  t.eq(#probability.layers, 4)
  t.eq(tostring(probability.input_shape), '(None, 4, 4)')
  t.eq(probability.layers[2].name, 'dense')
  t.eq(probability.layers[4].name, 'softmax')
  t.eq(probability:count_params(), model:count_params())
  local x = nn.random.uniform(5, 4, 4)
  local expected = model:predict(x, {verbose = 0}):softmax()
  t.truthy((probability:predict(x, {verbose = 0}) - expected):abs():max() < 1e-6, 'softmax on top')
  -- shared weights: training the outer model moves the inner one's
  probability:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  local before = model.layers[2].kernel:clone()
  probability:fit(x, nn.tensor{0, 1, 2, 0, 1}, {epochs = 1, verbose = 0})
  t.truthy((model.layers[2].kernel - before):abs():max() > 0, 'the inner model trained too')
  -- a frozen base under a new head, the Keras transfer-learning step
  local base = nn.Sequential{nn.Input{shape = {5}}, L.Dense{8}}
  base.trainable = false
  local head = nn.Sequential{base, L.Dense{1}}
  t.eq(tostring(head.input_shape), '(None, 5)')
  t.eq(#head.trainable_weights, 2)
  t.raises(function() nn.Sequential{model, model} end, 'is in this model already')
  t.raises(function() nn.Sequential{nn.Sequential{}, L.Dense{3}} end, 'has no layers to add')
  t.raises(function() nn.Sequential{L.Dense{3, input_shape = {16}, name = 'first'}, model} end,
           'cannot follow "first"', '(None, 3)')
  -- a refused model changes nothing: checked before any layer joins, or taken out again
  local outer = nn.Sequential{L.Dense{4, input_shape = {3}, name = 'b'}}
  local named = nn.Sequential{L.Dense{4, input_shape = {4}, name = 'a'}, L.Dense{3, name = 'b'}}
  t.raises(function() outer:add(named) end, 'brings a layer named "b"')
  t.eq(#outer.layers, 1)
  local unbuilt = nn.Sequential{L.Dense{4, name = 'c'}, L.Conv2D{2, 3}}
  t.raises(function() outer:add(unbuilt) end, 'cannot follow "c"')
  t.eq(#outer.layers, 1)
  outer:add(L.Dense{2})
  t.eq(outer.layers[2].name, 'dense', 'names of layers taken out again are free')
  local other = nn.Sequential{L.Dense{2, input_shape = {3}}}
  t.raises(function() nn.Sequential{L.Dense{3, input_shape = {3}}, other} end,
           'brings a layer named "dense"', "name='...'")
  t.raises(function() probability:add(probability) end, 'cannot be one of its own layers')
end)

t.finish()
