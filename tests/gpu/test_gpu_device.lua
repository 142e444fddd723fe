-- Devices from Lua on a real GPU (skipped, exit 77, without one): the GPU is listed and
-- is the default device, tensors round-trip through it, and a model trains there to
-- within noise of the same model on the CPU.
local t = require 'harness'
local L = nn.layers

local available, why = nn.test.is_gpu_available()
if not available then
  print('SKIPPED: no GPU: ' .. tostring(why))
  os.exit(77)
end

-- One SGD step of the model make(device) builds, on the CPU and on the GPU: the same loss
-- and weights to 1e-5. `what` starts the messages.
local function expect_same_step(make, x, y, what)
  local cpu, gpu = make('cpu'), make('gpu')
  t.near(gpu:train_on_batch(x, y), cpu:train_on_batch(x, y), 1e-5, what .. 'loss')
  local a, b = cpu:get_weights(), gpu:get_weights()
  for i = 1, #a do
    local difference = (a[i] - b[i]):abs():max()
    t.truthy(difference < 1e-5, what .. 'weight ' .. i .. ' differs by ' .. difference)
  end
end

t.test('the GPU is listed with its name, memory and compute capability', function()
  local gpus = nn.config.list_physical_devices('GPU')
  t.truthy(#gpus >= 1, 'at least one GPU')
  local gpu = gpus[1]
  t.eq(gpu.device, 'gpu:0')
  t.truthy(#gpu.device_name > 0, 'a name')
  t.truthy(gpu.memory > 2^30, 'more than 1 GiB')
  t.truthy(gpu.compute_capability[1] >= 5, 'compute capability ' .. gpu.compute_capability[1])
  print(string.format('      %s, %.1f GiB, compute capability %d.%d', gpu.device_name,
                      gpu.memory / 2^30, gpu.compute_capability[1], gpu.compute_capability[2]))
end)

t.test('a GPU is the default device, as in Keras', function()
  if os.getenv('NNSH_DEVICE') then return end
  t.eq(nn.config.get_device(), 'gpu:0')
  t.eq(nn.Sequential{L.Dense{2, input_shape={3}}}.device, 'gpu:0')
end)

t.test('tensors round-trip through the GPU unchanged', function()
  local x = nn.random.randn(64, 28, 28, 1)
  local g = x:to('gpu')
  t.eq(g.device, 'gpu:0')
  t.eq(g:to('cpu'), x)
  t.eq(nn.arange(10):astype('int32'):to('gpu'):to('cpu'), nn.arange(10):astype('int32'))
end)

t.test('a model trains on the GPU to within noise of the CPU', function()
  local x = nn.random.uniform(512, 8, 8, 1)
  local y = x:reshape(512, 4, 16):sum(2):argmax() -- which quarter is brightest
  local function train(device)
    nn.random.seed(5)
    local model = nn.Sequential{
      L.Conv2D{8, 3, padding='same', activation='relu', input_shape={8, 8, 1}},
      L.MaxPooling2D{2},
      L.Flatten(),
      L.Dense{32, activation='relu'},
      L.Dense{4, activation='softmax'},
    }:to(device)
    model:compile{optimizer='adam', loss='sparse_categorical_crossentropy', metrics={'accuracy'}}
    local history = model:fit(x, y, {epochs=3, batch_size=32, verbose=0})
    return model, history.history.loss[3]
  end
  local gpu_model, gpu_loss = train('gpu')
  local cpu_model, cpu_loss = train('cpu')
  local gap = (gpu_model:predict(x, {verbose=0}) - cpu_model:predict(x, {verbose=0})):abs()
  print(string.format('      final loss gpu %.6f cpu %.6f; prediction difference mean %.2e, ' ..
                      'largest %.2e', gpu_loss, cpu_loss, gap:mean(), gap:max()))
  t.eq(gpu_model.device, 'gpu:0')
  -- TF32 convolutions (the default) and cuDNN's choice of algorithm make each GPU run
  -- drift its own way: two runs on an H200 ended with the loss 1.6e-4 and 2.8e-3 off and
  -- single predictions up to 2.8e-3 and 3.2e-2 apart. The averages are what must agree.
  t.near(gpu_loss, cpu_loss, 0.01 * math.max(1, cpu_loss), 'final loss')
  t.truthy(gap:mean() < 0.01, 'predictions differ by ' .. gap:mean() .. ' on average')
end)

t.test('sample and class weights weigh the loss and gradient on the GPU as on the CPU', function()
  -- Every row predicts softmax (1/8, 2/8, 5/8); weights (2, 0, 1) for classes (0, 1, 2):
  -- loss (2 ln 8 + ln 1.6) / 3, and SGD(1) moves the bias by (13/24, -6/24, -7/24)
  -- (tests/lua/test_sample_weights.lua works these out).
  for _, option in ipairs{{sample_weight = nn.tensor{2, 0, 1}},
                          {class_weight = {[0] = 2, [1] = 0, [2] = 1}}} do
    local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
    model:to('gpu')
    model:set_weights{nn.zeros(2, 3), nn.tensor{0, math.log(2), math.log(5)}}
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1},
                  loss = 'sparse_categorical_crossentropy'}
    local x, y = nn.zeros(3, 2), nn.tensor{0, 1, 2}
    local expected = (2 * math.log(8) + math.log(1.6)) / 3
    if option.sample_weight then
      t.near(model:evaluate(x, y, {verbose = 0, sample_weight = option.sample_weight}),
             expected, 1e-6, 'weighted evaluate')
    end
    option.epochs, option.batch_size, option.shuffle, option.verbose = 1, 3, false, 0
    local history = model:fit(x, y, option)
    t.near(history.history.loss[1], expected, 1e-6, 'weighted fit loss')
    local bias = model:get_weights()[2]:flatten()
    t.near(bias[1], 13 / 24, 1e-6, 'bias 1')
    t.near(bias[2], math.log(2) - 6 / 24, 1e-6, 'bias 2')
    t.near(bias[3], math.log(5) - 7 / 24, 1e-6, 'bias 3')
  end
end)

t.test('the losses and metrics added with huber train and measure on the GPU as on the CPU', function()
  -- 0/1 labels: hinge and squared_hinge read them as -1/1 after the GPU counts the
  -- batch's other labels (none); categorical_hinge and kl_divergence read them as given.
  nn.random.seed(8)
  local x = nn.random.randn(6, 4)
  local y = nn.utils.to_categorical(nn.tensor{0, 1, 2, 1, 0, 2}, 3)
  local metrics = {'root_mean_squared_error', 'top_k_categorical_accuracy', 'kl_divergence',
                   'poisson', 'cosine_similarity', 'logcosh', 'mape', 'msle'}
  for _, case in ipairs{{'huber', 'linear'}, {nn.losses.Huber{delta = 0.2}, 'tanh'},
                        {'log_cosh', 'linear'}, {'kld', 'softmax'}, {'poisson', 'softmax'},
                        {'hinge', 'tanh'}, {'squared_hinge', 'linear'},
                        {'categorical_hinge', 'softmax'}, {'cosine_similarity', 'linear'},
                        {'msle', 'sigmoid'}} do
    -- (mape is left to the metrics: against these 0 labels its steps would be ~1e9.)
    local name = type(case[1]) == 'string' and case[1] or case[1].name
    local function make(device)
      nn.random.seed(9)
      local model = nn.Sequential{L.Dense{3, activation = case[2], input_shape = {4}}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = case[1],
                    metrics = {'hinge', 'squared_hinge', 'categorical_hinge'}}
      return model
    end
    expect_same_step(make, x, y, name .. ': ')
    local cpu, gpu = make('cpu'), make('gpu')
    for _, model in ipairs{cpu, gpu} do
      model:compile{optimizer = 'sgd', loss = case[1], metrics = metrics}
    end
    local want, got = {cpu:evaluate(x, y, {verbose = 0})}, {gpu:evaluate(x, y, {verbose = 0})}
    for i = 1, #want do
      t.near(got[i], want[i], 1e-5 * math.max(1, math.abs(want[i])),
             name .. ': evaluate value ' .. i)
    end
  end
  -- Batches of 3: the first all 0/1 (read as -1/1), the second with -1 and 0.5 (read as
  -- given), so the GPU's count decides per batch, in the loss and in the metrics.
  local mixed = nn.tensor{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {-1, 1, -1}, {1, -1, -1},
                          {-1, -1, 0.5}}
  for _, loss in ipairs{'hinge', 'squared_hinge'} do
    local function make(device)
      nn.random.seed(9)
      local model = nn.Sequential{L.Dense{3, activation = 'tanh', input_shape = {4}}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = loss,
                    metrics = {'hinge', 'squared_hinge'}}
      return model
    end
    local cpu, gpu = make('cpu'), make('gpu')
    local option = {batch_size = 3, verbose = 0}
    local want, got = {cpu:evaluate(x, mixed, option)}, {gpu:evaluate(x, mixed, option)}
    for i = 1, #want do
      t.near(got[i], want[i], 1e-5 * math.max(1, math.abs(want[i])),
             loss .. ' on mixed labels: evaluate value ' .. i)
    end
    option.epochs, option.shuffle = 1, false
    local cpu_history, gpu_history = cpu:fit(x, mixed, option), gpu:fit(x, mixed, option)
    t.near(gpu_history.history.loss[1], cpu_history.history.loss[1], 1e-5,
           loss .. ' on mixed labels: fit loss')
    local a, b = cpu:get_weights(), gpu:get_weights()
    for i = 1, #a do
      local difference = (a[i] - b[i]):abs():max()
      t.truthy(difference < 1e-5, loss .. ' on mixed labels: weight ' .. i .. ' differs by '
                                  .. difference)
    end
  end
  -- Precision and recall: the GPU counts positives beside each metric, over batches of 4.
  local function counted(device)
    nn.random.seed(10)
    local model = nn.Sequential{L.Dense{3, activation = 'sigmoid', input_shape = {4}}}
    model:to(device)
    model:compile{optimizer = 'sgd', loss = 'binary_crossentropy',
                  metrics = {'precision', 'recall', 'binary_accuracy',
                             nn.metrics.Precision{thresholds = 0.3, name = 'p30'},
                             nn.metrics.TopKCategoricalAccuracy{k = 2}, 'auc',
                             nn.metrics.AUC{num_thresholds = 7, name = 'auc7'}}}
    return {model:evaluate(x, y, {verbose = 0, batch_size = 4})}
  end
  local want, got = counted('cpu'), counted('gpu')
  for i = 2, #want do
    t.eq(got[i], want[i], 'precision and recall: value ' .. i .. ' (counts, exact)')
  end
  t.truthy(want[2] > 0 and want[3] > 0, 'something was counted')
end)

t.test('a loss over pixels (one label per pixel, sample weights per sample) on the GPU', function()
  -- Every pixel predicts softmax (1/8, 2/8, 5/8); see tests/lua/test_per_position_loss.lua.
  local model = nn.Sequential{L.Conv2D{3, 1, activation = 'softmax', input_shape = {2, 2, 1}}}
  model:to('gpu')
  model:set_weights{nn.zeros(1, 1, 1, 3), nn.tensor{0, math.log(2), math.log(5)}}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local y = nn.tensor{{{0, 1}, {2, 2}}, {{2, 2}, {2, 0}}}
  local cost = {math.log(8), math.log(4), math.log(8 / 5)}
  local plain, weighted = 0, 0
  for n = 1, 2 do
    for i = 1, 2 do
      for j = 1, 2 do
        local c = y[n][i][j]
        plain = plain + cost[c + 1] / 8
        weighted = weighted + ({3, 0.5})[n] * cost[c + 1] / 8
      end
    end
  end
  local loss, accuracy = model:evaluate(nn.zeros(2, 2, 2, 1), y, {verbose = 0})
  t.near(loss, plain, 1e-6, 'loss over pixels')
  t.near(accuracy, 5 / 8, 1e-12, 'accuracy over pixels')
  t.near(model:evaluate(nn.zeros(2, 2, 2, 1), y, {verbose = 0, sample_weight = {3, 0.5}}),
         weighted, 1e-6, 'weighted loss over pixels')
end)

t.test("the last layer's activity penalty trains on the GPU as on the CPU", function()
  -- tests/lua/test_model.lua works this out: softmax from bias b, label 0, l2(0.5) on
  -- the output; SGD(1) moves b_j by -(s_j - [j = 0] + s_j² - s_j sum s_k²).
  local b = {0, math.log(2), math.log(5)}
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2},
                                      activity_regularizer = nn.regularizers.l2(0.5)}}
  model:to('gpu')
  model:set_weights{nn.zeros(2, 3), nn.tensor(b)}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1},
                loss = 'sparse_categorical_crossentropy'}
  local s, squares = {1 / 8, 2 / 8, 5 / 8}, 0
  for k = 1, 3 do squares = squares + s[k] ^ 2 end
  t.near(model:evaluate(nn.zeros(1, 2), nn.tensor{0}, {verbose = 0}),
         math.log(8) + 0.5 * squares, 1e-6, 'evaluate counts the penalty')
  model:train_on_batch(nn.zeros(1, 2), nn.tensor{0})
  local moved = model:get_weights()[2]:flatten()
  for j = 1, 3 do
    local gradient = s[j] - (j == 1 and 1 or 0) + s[j] ^ 2 - s[j] * squares
    t.near(moved[j], b[j] - gradient, 1e-6, 'bias ' .. j)
  end
end)

-- tests/lua/test_model.lua works these out on the CPU: Keras' documented 5.25 (the activity
-- penalty 25 over 5 rows plus the kernel's 0.25), and a loss that does not depend on
-- batch_size; one step with an activity penalty on a batch of 8 moves the weights as the CPU.
t.test('the activity penalty is divided by the batch rows on the GPU as on the CPU', function()
  local documented = nn.Sequential{L.Dense{5, kernel_initializer = 'ones', input_shape = {5},
                                           kernel_regularizer = nn.regularizers.L1(0.01),
                                           activity_regularizer = nn.regularizers.L2(0.01)}}
  documented:to('gpu')
  documented:compile{optimizer = nn.optimizers.SGD{learning_rate = 0}, loss = 'mse'}
  t.near(documented:evaluate(nn.ones(5, 5) * 2, nn.ones(5, 5) * 10, {verbose = 0}), 5.25, 1e-6,
         "Keras' documented example")
  local x, y = nn.random.randn(8, 3), nn.random.randn(8, 2)
  local function make(device)
    nn.random.seed(11)
    local model = nn.Sequential{
      L.Dense{4, activation = 'tanh', activity_regularizer = nn.regularizers.l1(0.05),
              input_shape = {3}},
      L.ActivityRegularization{l2 = 0.2},
      L.Dense{2, activity_regularizer = nn.regularizers.l1_l2(0.03, 0.3)}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    return model
  end
  local model = make('gpu')
  local whole = model:evaluate(x, y, {batch_size = 8, verbose = 0})
  t.near(model:evaluate(x, y, {batch_size = 3, verbose = 0}), whole, 1e-6 * whole,
         'batch_size 3 against 8')
  expect_same_step(make, x, y, 'one step: ')
end)

t.test('global pooling layers train on the GPU as on the CPU', function()
  for _, data_format in ipairs{'channels_last', 'channels_first'} do
    local function make(device)
      nn.random.seed(9)
      local shape = data_format == 'channels_last' and {6, 5, 2} or {2, 6, 5}
      local model = nn.Sequential{
        L.Conv2D{4, 3, padding = 'same', activation = 'relu', data_format = data_format,
                 input_shape = shape},
        L.GlobalAveragePooling2D{data_format = data_format, keepdims = true},
        L.Conv2D{3, 1, data_format = data_format},
        L.GlobalMaxPooling2D{data_format = data_format}, L.Dense{2, activation = 'softmax'}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                    loss = 'sparse_categorical_crossentropy'}
      return model
    end
    local x = data_format == 'channels_last' and nn.random.randn(8, 6, 5, 2) or nn.random.randn(8, 2, 6, 5)
    local y = nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
    expect_same_step(make, x, y, data_format .. ': ')
  end
end)

t.test('padding, cropping, upsampling and transposed convolution train on the GPU as on the CPU', function()
  for _, data_format in ipairs{'channels_last', 'channels_first'} do
    local function make(device)
      nn.random.seed(10)
      local shape = data_format == 'channels_last' and {6, 5, 2} or {2, 6, 5}
      local model = nn.Sequential{
        L.ZeroPadding2D{{{1, 2}, {0, 1}}, data_format = data_format, input_shape = shape},
        L.Conv2D{3, 3, activation = 'relu', data_format = data_format},
        L.UpSampling2D{{2, 3}, data_format = data_format},
        L.Cropping2D{{1, 2}, data_format = data_format},
        L.Conv2DTranspose{2, 3, strides = 2, padding = 'same', activation = 'tanh',
                          data_format = data_format},
        L.GroupNormalization{2, axis = data_format == 'channels_last' and -1 or 1},
        L.DepthwiseConv2D{3, depth_multiplier = 2, padding = 'same', data_format = data_format},
        L.SeparableConv2D{3, 3, depth_multiplier = 2, padding = 'same', activation = 'relu',
                          data_format = data_format},
        L.UpSampling2D{2, interpolation = 'bilinear', data_format = data_format},
        L.Resizing{7, 9, data_format = data_format},
        L.RandomCrop{6, 8, data_format = data_format}, L.CenterCrop{5, 7, data_format = data_format},
        L.LayerNormalization(), L.RMSNormalization(), L.UnitNormalization{axis = 1}, L.Identity(),
        L.Flatten(), L.Dense{2, activation = 'softmax'}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                    loss = 'sparse_categorical_crossentropy'}
      return model
    end
    local x = data_format == 'channels_last' and nn.random.randn(8, 6, 5, 2) or nn.random.randn(8, 2, 6, 5)
    local y = nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
    expect_same_step(make, x, y, data_format .. ': ')
  end
end)

t.test('Conv1D (causal) and the other 1-D convolutions train on the GPU as on the CPU', function()
  local function make(device)
    nn.random.seed(11)
    local model = nn.Sequential{L.Conv1D{6, 3, padding = 'causal', dilation_rate = 2, activation = 'relu',
                                         input_shape = {20, 4}},
                                L.DepthwiseConv1D{3, depth_multiplier = 2, padding = 'same'},
                                L.Conv1DTranspose{3, 3, strides = 2, output_padding = 1},
                                L.SeparableConv1D{4, 3, depth_multiplier = 2, padding = 'same'},
                                L.LayerNormalization(), L.Flatten(), L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5}, loss = 'sparse_categorical_crossentropy'}
    return model
  end
  local x, y = nn.random.randn(8, 20, 4), nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
  expect_same_step(make, x, y, '')
end)

t.test('Conv3D and the other 3-D layers train on the GPU as on the CPU', function()
  for _, data_format in ipairs{'channels_last', 'channels_first'} do
    local function make(device)
      nn.random.seed(12)
      local shape = data_format == 'channels_last' and {7, 6, 5, 2} or {2, 7, 6, 5}
      local f = data_format
      local model = nn.Sequential{
        L.Conv3D{4, 3, strides = {2, 1, 1}, padding = 'same', activation = 'relu',
                 data_format = f, input_shape = shape},
        L.ZeroPadding3D{{{1, 0}, 1, {0, 2}}, data_format = f},
        L.MaxPooling3D{{1, 2, 2}, strides = {1, 1, 2}, padding = 'same', data_format = f},
        L.UpSampling3D{{2, 1, 1}, data_format = f},
        L.Cropping3D{{{1, 1}, 0, {1, 0}}, data_format = f},
        L.SpatialDropout3D{0.25, data_format = f},
        L.Conv3D{4, {2, 2, 3}, dilation_rate = {2, 1, 1}, groups = 2, activation = 'tanh',
                 data_format = f},
        L.AveragePooling3D{2, padding = 'same', data_format = f},
        L.Conv3DTranspose{3, {3, 2, 2}, strides = {2, 1, 2}, padding = 'same', activation = 'relu',
                          data_format = f},
        L.Conv3DTranspose{4, {2, 3, 1}, strides = {1, 1, 3}, output_padding = {0, 0, 2},
                          data_format = f},
        L.GlobalMaxPooling3D{data_format = f, keepdims = true},
        L.Flatten(), L.Dense{2, activation = 'softmax'}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                    loss = 'sparse_categorical_crossentropy'}
      return model
    end
    local x = data_format == 'channels_last' and nn.random.randn(8, 7, 6, 5, 2)
              or nn.random.randn(8, 2, 7, 6, 5)
    local y = nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
    expect_same_step(make, x, y, data_format .. ': ')
  end
end)

t.test('SimpleRNN, Bidirectional LSTM and GRU train on the GPU as on the CPU', function()
  for _, options in ipairs{{}, {return_sequences = true, go_backwards = true}} do
    local function make(device)
      nn.random.seed(13)
      local model = nn.Sequential{L.SimpleRNN{6, return_sequences = true, input_shape = {7, 3}},
                                  L.Bidirectional{L.LSTM{5, return_sequences = true, dropout = 0.2,
                                                         go_backwards = options.go_backwards},
                                                  merge_mode = options.go_backwards and 'mul' or 'concat'},
                                  L.GRU{4, return_sequences = options.return_sequences,
                                        go_backwards = options.go_backwards},
                                  L.Flatten(), L.Dense{2, activation = 'softmax'}}
      model:to(device)
      model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                    loss = 'sparse_categorical_crossentropy'}
      return model
    end
    local x, y = nn.random.randn(8, 7, 3), nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
    expect_same_step(make, x, y, options.go_backwards and 'backwards: ' or 'last state: ')
  end
end)

t.test('masks (Embedding mask_zero, Masking) train on the GPU as on the CPU', function()
  local ids = nn.tensor{{3, 1, 4, 0, 0}, {0, 0, 2, 7, 1}, {5, 0, 0, 0, 0}, {1, 2, 3, 4, 5}}
  local function make(device)
    nn.random.seed(14)
    local model = nn.Sequential{L.Embedding{10, 4, mask_zero = true, input_shape = {5}},
                                L.BatchNormalization(),
                                L.Bidirectional{L.LSTM{3, return_sequences = true}},
                                L.GRU{4, return_sequences = true, go_backwards = true},
                                L.GlobalAveragePooling1D(), L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  expect_same_step(make, ids, nn.tensor{0, 1, 1, 0}, 'mask_zero: ')
  local function masking(device)
    nn.random.seed(15)
    local model = nn.Sequential{L.Masking{input_shape = {6, 3}}, L.SimpleRNN{4}, L.Dense{1}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    return model
  end
  local x = nn.random.randn(4, 6, 3)
  expect_same_step(masking, x, nn.random.randn(4, 1), 'Masking: ')
  -- a mask that reaches the loss: one label per step, the kept steps' mean
  local function tagging(device)
    nn.random.seed(16)
    local model = nn.Sequential{L.Embedding{10, 4, mask_zero = true, input_shape = {5}},
                                L.GRU{4, return_sequences = true},
                                L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  expect_same_step(tagging, ids, nn.tensor{{0, 1, 2, 0, 0}, {0, 0, 1, 1, 2}, {2, 0, 0, 0, 0},
                                           {1, 2, 0, 1, 2}}, 'masked loss: ')
end)

t.test('PReLU, per element and per channel, trains on the GPU as on the CPU', function()
  local function make(device)
    nn.random.seed(17)
    local model = nn.Sequential{L.Conv2D{4, 3, input_shape = {6, 6, 2}},
                                L.PReLU{shared_axes = {1, 2}, alpha_initializer = 'random_normal'},
                                L.Flatten(), L.Dense{5},
                                L.PReLU{alpha_initializer = nn.initializers.Constant{0.2}},
                                L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  expect_same_step(make, nn.random.randn(8, 6, 6, 2), nn.tensor{0, 1, 1, 0, 1, 0, 0, 1}, 'PReLU: ')
end)

t.test('Softmax over a middle axis, inside the model and last, trains on the GPU as on the CPU',
       function()
  local function make(device)
    nn.random.seed(19)
    local model = nn.Sequential{L.Conv2D{3, 1, input_shape = {4, 5, 2}}, L.Softmax{axis = 1},
                                L.Conv2D{3, 1}, L.Softmax{axis = 2}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                  loss = 'categorical_crossentropy'}
    return model
  end
  expect_same_step(make, nn.random.randn(6, 4, 5, 2), nn.random.uniform(6, 4, 5, 3), 'Softmax: ')
end)

t.test('TimeDistributed layers train on the GPU as on the CPU', function()
  local function make(device)
    nn.random.seed(18)
    local model = nn.Sequential{
      L.TimeDistributed{L.Conv2D{3, 3, activation = 'relu'}, input_shape = {4, 6, 6, 2}},
      L.TimeDistributed{L.BatchNormalization{}}, L.TimeDistributed{L.Flatten()},
      L.GRU{3, return_sequences = true},
      L.TimeDistributed{L.Dense{2, activation = 'softmax'}}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  expect_same_step(make, nn.random.randn(5, 4, 6, 6, 2), nn.random.randint(0, 2, 5, 4),
                   'TimeDistributed: ')
end)

t.test('Normalization, adapted and given, trains on the GPU as on the CPU', function()
  local x = nn.random.randn(8, 5, 3) * 10 + 4
  local function make(device)
    nn.random.seed(19)
    local normalize = L.Normalization{axis = 1, input_shape = {5, 3}}
    normalize:adapt(x)
    local model = nn.Sequential{normalize, L.Normalization{mean = 0.5, variance = 2},
                                L.Flatten(), L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  expect_same_step(make, x, nn.tensor{0, 1, 1, 0, 1, 0, 0, 1}, 'Normalization: ')
end)

t.test('noise, augmentation, ReLU and a schedule train on the GPU as on the CPU', function()
  -- Every random layer draws the same numbers on both devices (Philox by image or element);
  -- the Gaussian noise and the turn's sine and cosine may differ in their last bits.
  local function make(device)
    nn.random.seed(17)
    local model = nn.Sequential{L.Conv2D{3, 3, padding = 'same', input_shape = {8, 8, 1}},
                                L.RandomFlip{}, L.RandomRotation{0.1}, L.RandomTranslation{0.1, 0.2},
                                L.RandomZoom{0.2, fill_mode = 'constant'},
                                L.RandomContrast{0.5, value_range = {-3, 3}},
                                L.RandomBrightness{0.1, value_range = {-3, 3}}, L.GaussianNoise{0.1},
                                L.ReLU{max_value = 6, negative_slope = 0.1}, L.Flatten(),
                                L.GaussianDropout{0.2}, L.AlphaDropout{0.1},
                                L.ActivityRegularization{l2 = 1e-3}, L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{
                    learning_rate = nn.optimizers.schedules.ExponentialDecay{0.5, 1, 0.5}},
                  loss = 'sparse_categorical_crossentropy'}
    return model
  end
  local x, y = nn.random.randn(8, 8, 8, 1), nn.tensor{0, 1, 0, 1, 1, 0, 0, 1}
  expect_same_step(make, x, y, 'augmented: ')
end)

t.test('running out of GPU memory is an error and the session goes on', function()
  -- One batch of 1024 images of 256x256 through 1024 filters needs 256 GiB of
  -- activations, more than any GPU has; the same model then works on a small batch.
  nn.random.seed(9)
  local model = nn.Sequential{
    L.Conv2D{1024, 3, padding='same', input_shape={256, 256, 1}},
    L.MaxPooling2D{256},
    L.Flatten(),
    L.Dense{1},
  }:to('gpu')
  model:compile{optimizer='sgd', loss='mse'}
  local x, y = nn.random.uniform(1024, 256, 256, 1), nn.zeros(1024, 1)
  local before = model:get_weights()
  local err = t.raises(function() model:predict(x, {batch_size=1024, verbose=0}) end,
                       'out of GPU memory')
  print('      predict: ' .. err)
  err = t.raises(function() model:fit(x, y, {batch_size=1024, epochs=1, verbose=0}) end,
                 'out of GPU memory')
  print('      fit: ' .. err)
  err = t.raises(function() model.layers[1](x:to('gpu')) end, 'out of GPU memory')
  print('      a layer called on its own: ' .. err)
  local after = model:get_weights()
  for i = 1, #before do t.eq(after[i], before[i], 'weight ' .. i .. ' after the failed fit') end
  local history = model:fit(x:slice(1, 8), y:slice(1, 8), {batch_size=4, epochs=1, verbose=0})
  t.truthy(history.history.loss[1] == history.history.loss[1], 'the loss after the error is not NaN')
  t.eq(tostring(model:predict(x:slice(1, 2), {verbose=0}).shape), '(2, 1)')
end)

t.finish()
