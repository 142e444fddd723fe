-- ReLU, LeakyReLU, ELU and Softmax as layers (Keras' advanced activations): values by
-- their formulas, Keras' defaults and names, training that equals the same function given
-- as an activation argument, ReLU's gradient against finite differences, model files,
-- and errors.
local t = require 'harness'
local L = nn.layers

local x = nn.tensor{{-2, -0.5, 0, 1.5}}

t.test('values follow the formulas with Keras defaults', function()
  t.eq(L.LeakyReLU()(x), nn.tensor{{-0.6, -0.15, 0, 1.5}}, 'LeakyReLU: negative_slope 0.3')
  t.eq(L.LeakyReLU{0.1}(x), nn.tensor{{-0.2, -0.05, 0, 1.5}}, 'negative_slope by position')
  t.eq(L.LeakyReLU{alpha = 0.1}.negative_slope, L.LeakyReLU{0.1}.negative_slope, "Keras 2's alpha")
  local elu = L.ELU()(x)
  t.near(elu[1][1], math.exp(-2) - 1, 1e-7, 'ELU: alpha 1')
  t.near(L.ELU{alpha = 0.5}(x)[1][2], 0.5 * (math.exp(-0.5) - 1), 1e-7, 'ELU alpha 0.5')
  t.eq(elu[1][4], 1.5, 'ELU: positive unchanged')
  local p = L.Softmax()(x)
  local total = 0
  for i = 1, 4 do total = total + math.exp(x[1][i]) end
  t.near(p[1][4], math.exp(1.5) / total, 1e-7, 'Softmax')
  t.eq(L.Softmax{axis = 1}(x), p, 'axis 1 of a 2-D input is the last axis')
  t.eq(L.LeakyReLU().name:match('^leaky_re_lu'), 'leaky_re_lu', "Keras' name")
  t.eq(L.ELU().name:match('^elu'), 'elu', 'name')
  t.eq(L.Softmax().name:match('^softmax'), 'softmax', 'name')
end)

t.test("ReLU's settings follow Keras' relu", function()
  local v = nn.tensor{-3, -1, 0, 0.5, 1, 2, 5, 8}
  t.eq(L.ReLU()(v), nn.tensor{0, 0, 0, 0.5, 1, 2, 5, 8}, 'plain relu')
  t.eq(L.ReLU{max_value = 6}(v), nn.tensor{0, 0, 0, 0.5, 1, 2, 5, 6}, 'relu6')
  t.near(L.ReLU{negative_slope = 0.1}(v), nn.tensor{-0.3, -0.1, 0, 0.5, 1, 2, 5, 8}, 1e-7, 'leaky')
  t.eq(L.ReLU{threshold = 1}(v), nn.tensor{0, 0, 0, 0, 0, 2, 5, 8}, 'threshold: up to it is 0')
  -- All three: 0.5 * (x - 1) below 1, x from 1 up, capped at 4.
  t.eq(L.ReLU{4, 0.5, 1}(v), nn.tensor{-2, -1, -0.5, -0.25, 0, 2, 4, 4}, 'by position')
  t.eq(L.ReLU().max_value, nil, 'max_value None')
  t.eq(L.ReLU{6}.max_value, 6, 'max_value kept')
  t.eq(L.ReLU().name:match('^re_lu'), 're_lu', "Keras' name")
end)

t.test('relu keeps NaN and takes -inf to 0, in every form, on cpu and emulated', function()
  -- As TensorFlow and PyTorch: relu(NaN) is NaN (a NaN must not vanish into a 0) and
  -- relu(-inf) is 0 (not 0 · inf).
  local x = nn.tensor{{-1 / 0, 0 / 0, -2, 3, 1 / 0}}
  for _, device in ipairs{'cpu', 'emulated'} do
    -- (Activation{'relu'} runs the same function as Dense{activation = 'relu'}.)
    for _, layer in ipairs{nn.layers.ReLU{}, nn.layers.Activation{'relu'},
                           nn.layers.ReLU{max_value = 6}} do
      local model = nn.Sequential{nn.Input{shape = {5}}, layer}
      model:to(device)
      local y = model:predict(x, {verbose = 0})[1]
      local what = device .. ': ' .. layer.name
      t.eq(y[1], 0, what .. ' at -inf')
      t.truthy(y[2] ~= y[2], what .. ' keeps NaN')
      t.eq(y[3], 0, what .. ' at -2')
      t.eq(y[4], 3, what .. ' at 3')
    end
  end
end)

-- Images (count, 6, 6, channels) as nested tables of values in [-2, 2], to set cells in.
local function wavy_images(count, channels, phase)
  local values, k = {}, 0
  for n = 1, count do
    values[n] = {}
    for i = 1, 6 do
      values[n][i] = {}
      for j = 1, 6 do
        values[n][i][j] = {}
        for c = 1, channels do
          k = k + 1
          values[n][i][j][c] = math.sin(k * phase) * 2
        end
      end
    end
  end
  return values
end

-- got and want (flat) hold NaN in the same places and agree elsewhere; some NaN is there.
local function expect_same_nans(got, want, what)
  local nans = 0
  for i = 1, #want do
    if want[i] ~= want[i] then
      nans = nans + 1
      t.truthy(got[i] ~= got[i], what .. ': NaN at ' .. i)
    else
      t.near(got[i], want[i], 1e-4, what .. ' at ' .. i)
    end
  end
  t.truthy(nans > 0, what .. ': the NaN reached the output')
end

t.test("Conv2D's fused relu keeps NaN as the relu after it would", function()
  -- The convolution kernels apply relu in their own loops; each must agree with a linear
  -- convolution followed by Activation('relu'), NaN for NaN, on every kernel size.
  nn.random.seed(5)
  for _, channels in ipairs{1, 8, 64} do
    local values = wavy_images(2, channels, 12.9898)
    values[1][2][3][1] = 0 / 0
    values[2][4][4][channels] = -1 / 0
    local x = nn.tensor(values)
    for _, size in ipairs{1, 3} do
      local fused = nn.layers.Conv2D{channels, size, padding = 'same', activation = 'relu'}
      local linear = nn.layers.Conv2D{channels, size, padding = 'same'}
      -- (Not the last layer, whose logits the model keeps, so the relu is fused.)
      local a = nn.Sequential{nn.Input{shape = {6, 6, channels}}, fused, nn.layers.Flatten()}
      local b = nn.Sequential{nn.Input{shape = {6, 6, channels}}, linear,
                              nn.layers.Activation{'relu'}, nn.layers.Flatten()}
      b:set_weights(a:get_weights())
      expect_same_nans(a:predict(x, {verbose = 0}):flatten(),
                       b:predict(x, {verbose = 0}):flatten(),
                       channels .. ' channels, ' .. size .. 'x' .. size)
    end
  end
end)

t.test('max pooling keeps a NaN wherever it lies in the window, fused or not', function()
  -- As TF and PyTorch: a NaN in a window is the window's maximum, first cell or last.
  for position = 1, 4 do
    local window = {{1, 2}, {3, 4}}
    window[(position - 1) // 2 + 1][(position - 1) % 2 + 1] = 0 / 0
    local x = nn.tensor{{{{window[1][1]}, {window[1][2]}}, {{window[2][1]}, {window[2][2]}}}}
    for _, device in ipairs{'cpu', 'emulated'} do
      local pooled = nn.Sequential{nn.Input{shape = {2, 2, 1}}, nn.layers.MaxPooling2D{2}}
      pooled:to(device)
      local y = pooled:predict(x, {verbose = 0}):flatten()[1]
      t.truthy(y ~= y, device .. ': NaN at cell ' .. position .. ' of the window')
      local global = nn.Sequential{nn.Input{shape = {2, 2, 1}}, nn.layers.GlobalMaxPooling2D()}
      global:to(device)
      y = global:predict(x, {verbose = 0}):flatten()[1]
      t.truthy(y ~= y, device .. ': global, NaN at cell ' .. position)
    end
  end
  for _, row in ipairs{{0 / 0, 1}, {1, 0 / 0}} do
    local y = nn.layers.MaxPooling1D{2}(nn.tensor{{{row[1]}, {row[2]}}}):flatten()[1]
    t.truthy(y ~= y, 'MaxPooling1D keeps the NaN')
  end
  -- Conv2D + relu + MaxPooling2D run as one kernel: the NaNs match the unfused chain.
  for _, channels in ipairs{1, 8, 64} do
    local values = wavy_images(1, channels, 78.233)
    values[1][3][4][1] = 0 / 0
    local x = nn.tensor(values)
    local conv = nn.layers.Conv2D{channels, 1, activation = 'relu'}
    local fused = nn.Sequential{nn.Input{shape = {6, 6, channels}}, conv,
                                nn.layers.MaxPooling2D{2}, nn.layers.Flatten()}
    local plain = nn.Sequential{nn.Input{shape = {6, 6, channels}},
                                nn.layers.Conv2D{channels, 1}, nn.layers.Activation{'relu'},
                                nn.layers.MaxPooling2D{2}, nn.layers.Flatten()}
    plain:set_weights(fused:get_weights())
    expect_same_nans(fused:predict(x, {verbose = 0}):flatten(),
                     plain:predict(x, {verbose = 0}):flatten(),
                     channels .. ' channels, pooled')
  end
end)

t.test("ReLU's gradient matches finite differences", function()
  -- d/dx of sum(w * f(x)) at points away from the bends, for every setting at once.
  local relu = L.ReLU{4, 0.5, 1}
  local points = {-2.3, -0.7, 0.4, 1.6, 3.2, 5.5}
  local weights = {0.3, -1.2, 0.8, 2.0, -0.6, 1.1}
  local dense = L.Dense{6, use_bias = false, input_shape = {6}}
  local model = nn.Sequential{dense, relu, L.Dense{1, use_bias = false}}
  model.layers[3]:set_weights{nn.tensor(weights):reshape(6, 1)}
  dense:set_weights{nn.tensor{{1, 0, 0, 0, 0, 0}, {0, 1, 0, 0, 0, 0}, {0, 0, 1, 0, 0, 0},
                              {0, 0, 0, 1, 0, 0}, {0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 1}}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 1}, loss = 'mae'}
  -- mae against a target far below: the loss is y + 1000, so the first kernel's
  -- diagonal moves by x_i · w_i · f'(x_i) (the gradient of y through the relu).
  local x = nn.tensor{points}
  model:train_on_batch(x, nn.tensor{{-1000}})
  local moved = dense:get_weights()[1]
  for i = 1, 6 do
    local h = 1e-3
    local slope = (L.ReLU{4, 0.5, 1}(nn.tensor{points[i] + h}):item() -
                   L.ReLU{4, 0.5, 1}(nn.tensor{points[i] - h}):item()) / (2 * h)
    t.near(moved[i][i], 1 - points[i] * weights[i] * slope, 1e-3, 'point ' .. i)
  end
end)

-- The same function fused into Dense or as its own layer trains to the same weights.
t.test('as layers they train as the same activation given to Dense', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    local inputs = nn.random.randn(16, 5)
    local labels = nn.tensor({0, 1, 2, 1, 0, 2, 2, 1, 0, 1, 2, 0, 1, 1, 0, 2}, 'int32')
    local function train(layers, initial)
      local model = nn.Sequential(layers)
      model:to(device)
      if initial then model:set_weights(initial) end
      model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
      model:fit(inputs, labels, {epochs = 3, batch_size = 4, shuffle = false, verbose = 0})
      return model:get_weights()
    end
    local fused_model = nn.Sequential{L.Dense{6, activation = 'leaky_relu', input_shape = {5}},
                                      L.Dense{4, activation = 'elu'}, L.Dense{5, activation = 'relu'},
                                      L.Dense{3, activation = 'softmax'}}
    local start = fused_model:get_weights()
    local fused = train({L.Dense{6, activation = 'leaky_relu', input_shape = {5}},
                         L.Dense{4, activation = 'elu'}, L.Dense{5, activation = 'relu'},
                         L.Dense{3, activation = 'softmax'}}, start)
    local layered = train({L.Dense{6, input_shape = {5}}, L.LeakyReLU{0.2}, L.Dense{4}, L.ELU(),
                           L.Dense{5}, L.ReLU(), L.Dense{3}, L.Softmax()}, start)
    for i = 1, #fused do
      t.truthy((fused[i] - layered[i]):abs():max() < 1e-6, device .. ': weight ' .. i)
    end
    t.truthy((fused[1] - start[1]):abs():max() > 1e-3, device .. ': trained')
  end
end)

t.test('saved and loaded with their parameters', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-activation-layers'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Dense{4, input_shape = {3}}, L.LeakyReLU{0.05}, L.Dense{3},
                              L.ELU{alpha = 2}, L.ReLU{max_value = 6, threshold = 0.1},
                              L.Softmax()}
  model:save(directory .. '/activations.nnsh')
  local copy = nn.models.load_model(directory .. '/activations.nnsh')
  t.near(copy.layers[2].negative_slope, 0.05, 1e-7, 'negative_slope kept')
  t.eq(copy.layers[4].alpha, 2, 'alpha kept')
  t.eq(copy.layers[5].max_value, 6, 'max_value kept')
  t.near(copy.layers[5].threshold, 0.1, 1e-7, 'threshold kept')
  local inputs = nn.random.randn(5, 3)
  t.eq(copy:predict(inputs, {verbose = 0}), model:predict(inputs, {verbose = 0}), 'same predictions')
end)

t.test('Softmax over another axis: values, gradients, files, devices', function()
  -- Along axis 1 of (1, 2, 3) each column's two values become 1 / (1 + e^-d) and its
  -- complement, d their difference.
  local p = L.Softmax{axis = 1}(nn.tensor{{{1, 2, 3}, {4, 6, 9}}})
  for column, difference in ipairs{3, 4, 6} do
    t.near(p[1][1][column], 1 / (1 + math.exp(difference)), 1e-7, 'column ' .. column .. ', row 1')
    t.near(p[1][2][column], 1 / (1 + math.exp(-difference)), 1e-7, 'column ' .. column .. ', row 2')
  end
  local cube = nn.random.randn(2, 3, 4, 5)
  t.eq(L.Softmax{axis = -3}(cube), L.Softmax{axis = 1}(cube), 'a negative axis counts from the end')
  local moved = L.Permute{{1, 3, 2}}(L.Softmax()(L.Permute{{1, 3, 2}}(cube)))
  t.near(L.Softmax{axis = 2}(cube), moved, 1e-7, 'axis 2 is the last axis of the permuted input')
  local layer = L.Softmax{axis = 1}
  local model = nn.Sequential{L.Dense{3, input_shape = {2, 4}}, layer}
  t.eq(layer.explanation, 'unchanged: softmax normalises axis 1, so the 2 values along it sum '
       .. 'to 1 for each position of the other axes', 'explained')

  -- The same network with the axis moved last by Permute layers, from the same weights,
  -- trains the same: the gradient through the moved softmax is the softmax's. As the last
  -- layer, the loss is not fused with a softmax over the wrong axis.
  local function train(layers, device)
    nn.random.seed(11)
    local m = nn.Sequential(layers)
    m:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.5}, loss = 'categorical_crossentropy'}
    if device then m:to(device) end
    m:set_weights(model:get_weights())
    local xs, ys = nn.random.randn(8, 2, 4), nn.random.uniform(8, 2, 3)
    ys = ys:reshape(8, table.unpack(m.layers[#m.layers].output_shape, 2))
    local history = m:fit(xs, ys, {epochs = 3, batch_size = 4, verbose = 0})
    return m, history.history.loss
  end
  local direct, direct_loss = train{L.Dense{3, input_shape = {2, 4}}, L.Softmax{axis = 1}}
  local permuted, permuted_loss = train{L.Dense{3, input_shape = {2, 4}}, L.Permute{{2, 1}},
                                        L.Softmax(), L.Permute{{2, 1}}}
  t.near(direct_loss[3], permuted_loss[3], 1e-6, 'the same losses')
  t.truthy(direct_loss[3] < direct_loss[1], 'the loss falls')
  t.near(direct:get_weights()[1], permuted:get_weights()[1], 1e-6, 'the same kernel')
  -- Wrapped, the axis counts within each step, and the model still sees no activation.
  local _, wrapped_loss = train{L.Dense{3, input_shape = {2, 4}}, L.Reshape{{2, 1, 3}},
                                L.TimeDistributed{L.Softmax{axis = 1}}, L.Reshape{{2, 3}}}
  local _, unwrapped_loss = train{L.Dense{3, input_shape = {2, 4}}, L.Reshape{{2, 1, 3}},
                                  L.Softmax{axis = 2}, L.Reshape{{2, 3}}}
  t.near(wrapped_loss[3], unwrapped_loss[3], 1e-6, 'TimeDistributed over a middle axis')
  local _, wrapped_last = train{L.Dense{3, input_shape = {2, 4}}, L.Reshape{{1, 2, 3}},
                                L.TimeDistributed{L.Softmax{axis = 1}}}
  local _, unwrapped_last = train{L.Dense{3, input_shape = {2, 4}}, L.Reshape{{1, 2, 3}},
                                  L.Softmax{axis = 2}}
  t.near(wrapped_last[3], unwrapped_last[3], 1e-6, 'TimeDistributed over a middle axis, last')
  local emulated, emulated_loss = train({L.Dense{3, input_shape = {2, 4}}, L.Softmax{axis = 1}},
                                        'emulated')
  for epoch = 1, 3 do t.eq(emulated_loss[epoch], direct_loss[epoch], 'cpu and emulated, epoch ' .. epoch) end
  t.eq(emulated:get_weights()[1], direct:get_weights()[1], 'the same kernel on both')

  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-activation-layers'
  nn.io.make_directory(directory)
  direct:save(directory .. '/softmax_axis.nnsh')
  local copy = nn.models.load_model(directory .. '/softmax_axis.nnsh')
  t.eq(copy.layers[2].axis, 1, 'axis kept')
  local inputs = nn.random.randn(3, 2, 4)
  t.eq(copy:predict(inputs, {verbose = 0}), direct:predict(inputs, {verbose = 0}), 'same predictions')
end)

t.test('bad arguments raise errors that say what is wrong', function()
  t.raises(function() L.LeakyReLU{-0.1} end, 'negative_slope must be >= 0', '-0.1')
  t.raises(function() L.LeakyReLU{'steep'} end, 'negative_slope must be a number', 'string')
  t.raises(function() L.ELU{alpha = 1 / 0} end, 'alpha must be a finite number', 'inf')
  t.raises(function() L.Softmax{axis = 0}(x) end, 'axis 0 of input (None, 4) is the batch axis')
  t.raises(function() L.Softmax{axis = -2}(x) end, 'axis -2 of input (None, 4) is the batch axis')
  t.raises(function() L.Softmax{axis = 5}(x) end, 'axis 5 is out of range', '(None, 4)')
  t.raises(function() L.Softmax{axis = 'last'} end, 'axis must be an integer')
  t.raises(function() L.ELU{beta = 1} end, "unknown", 'beta')
  t.raises(function() L.ReLU{max_value = -1} end, 'max_value must be nn.None or a number >= 0')
  t.raises(function() L.ReLU{max_value = 0 / 0} end, 'max_value', 'got nan')
  t.raises(function() L.ReLU{max_value = '6'} end, 'max_value must be a number or nn.None')
  t.raises(function() L.ReLU{negative_slope = -0.1} end, 'negative_slope must be >= 0')
  t.raises(function() L.ReLU{threshold = -1} end, 'threshold must be >= 0')
end)

-- PReLU: Keras' parametric rectifier, alpha learned per element or shared along axes.
t.test('PReLU: alpha per element or shared, values, training, files', function()
  local p = L.PReLU{alpha_initializer = nn.initializers.Constant{0.25}}
  t.eq(p(nn.tensor{{-2, 3}, {4, -8}}), nn.tensor{{-0.5, 3}, {4, -2}}, 'x above 0, alpha * x below')
  t.eq(tostring(p.alpha.shape), '(2,)', 'one alpha per element of a sample')
  t.eq(L.PReLU()(nn.tensor{{-2, 3}}), nn.tensor{{0, 3}}, "alpha starts at 0: a relu")
  local images = nn.Sequential{L.Conv2D{8, 3, input_shape = {6, 6, 1}}, L.PReLU{shared_axes = {1, 2}}}
  t.eq(tostring(images.layers[2].alpha.shape), '(1, 1, 8)', 'shared_axes {1, 2}: one per channel')
  t.eq(images.layers[2]:count_params(), 8, 'parameters')
  local summary = t.capture(function() images:summary() end)
  t.truthy(summary:find('p_re_lu (PReLU)', 1, true), summary)
  local layer = images.layers[2]
  layer:set_weights{nn.tensor{{{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}}}}
  local x = nn.random.randn(2, 4, 4, 8)
  local expected = x:tolist()
  for b = 1, 2 do for h = 1, 4 do for w = 1, 4 do for c = 1, 8 do
    local v = expected[b][h][w][c]
    if v < 0 then expected[b][h][w][c] = v * c / 10 end
  end end end end
  t.near(layer(x), nn.tensor(expected), 1e-6, 'each channel its alpha')
  t.near(layer(x:to('emulated')):to('cpu'), nn.tensor(expected), 1e-6, 'the same on emulated')
  t.eq(layer:get_config().shared_axes[2], 2, 'config')

  -- training moves alpha, the same on cpu and emulated
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(21)
    local model = nn.Sequential{L.Dense{6, input_shape = {4}}, L.PReLU(), L.Dense{1}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    nn.random.seed(22)
    model:fit(nn.random.randn(32, 4), nn.random.randn(32, 1), {epochs = 2, batch_size = 8, verbose = 0})
    weights[device] = model:get_weights()
  end
  t.truthy(weights.cpu[3]:abs():max() > 1e-4, 'alpha learned')
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end

  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-activation-layers'
  nn.io.make_directory(directory)
  images:save(directory .. '/prelu.nnsh')
  local copy = nn.models.load_model(directory .. '/prelu.nnsh')
  t.eq(copy.layers[2].alpha, images.layers[2].alpha, 'alpha kept')
  t.eq(copy.layers[2]:get_config().shared_axes[1], 1, 'shared_axes kept')

  t.raises(function() L.PReLU{shared_axes = {1, 1}} end, 'shared_axes names axis 1 twice')
  t.raises(function() nn.Sequential{L.Dense{3, input_shape = {2}}, L.PReLU{shared_axes = {2}}} end,
           'shared_axes names axis 2', 'axes 1 to 1')
  t.raises(function() L.PReLU{shared_axes = {0}} end, 'shared_axes')
  t.raises(function() L.PReLU{alpha_initializer = 'nope'} end, 'nope')
  t.raises(function() return L.PReLU().alpha end, 'has no alpha yet', 'when it is built')
  t.raises(function() return L.LSTM{2}.recurrent_kernel end, 'has no recurrent_kernel yet')
end)

t.test('initializers and constraints take Keras arguments by position or name, and no others', function()
  t.eq(nn.initializers.Constant{0.5}.value, 0.5, 'Constant{value}')
  local normal = nn.initializers.RandomNormal{1, 0.2, 7}
  t.eq(normal.mean, 1, 'mean')
  t.eq(normal.stddev, 0.2, 'stddev')
  t.eq(normal.seed, 7, 'seed')
  local d = L.Dense{2, kernel_initializer = nn.initializers.Constant{3}}
  d(nn.zeros(1, 2))
  t.eq(d.kernel, nn.ones(2, 2) * 3, 'a positional value is used')
  t.raises(function() nn.initializers.Constant{valu = 3} end,
           "nn.initializers.Constant: unknown argument 'valu'", 'valid arguments: value')
  t.raises(function() nn.initializers.RandomUniform{-1, 1, 2, 3} end,
           'takes 3 positional arguments (minval, maxval, seed), got one at position 4')
  t.raises(function() nn.initializers.Constant{1, value = 2} end, 'value is given twice')
  t.raises(function() nn.initializers.GlorotUniform{gain = 2} end, "unknown argument 'gain'")
  t.eq(nn.initializers.Constant(2).value, 2, 'a lone number is the first argument')
  t.eq(nn.constraints.MaxNorm(3).max_value, 3, 'MaxNorm(3)')
  t.eq(nn.constraints.MaxNorm{1}.max_value, 1, 'MaxNorm{1}: max_value by position')
  local min_max = nn.constraints.MinMaxNorm{0.5, 2, 0.1, 1}
  t.eq(min_max.min_value, 0.5, 'MinMaxNorm: min_value first')
  t.eq(min_max.max_value, 2, 'then max_value')
  t.eq(min_max.rate, 0.1, 'then rate')
  t.eq(min_max.axis, 1, 'then axis')
  t.raises(function() nn.constraints.MaxNorm{max_valu = 1} end,
           "nn.constraints.MaxNorm: unknown argument 'max_valu'", 'max_value, axis')
  t.raises(function() nn.constraints.NonNeg(1) end, 'takes 0 positional arguments')
  -- a positional max_value is applied: the kernel's column norms end at most 1
  local capped = L.Dense{3, kernel_constraint = nn.constraints.MaxNorm{1},
                         kernel_initializer = nn.initializers.Constant{3}}
  local model = nn.Sequential{nn.Input{shape = {2}}, capped}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.01}, loss = 'mse'}
  model:fit(nn.ones(4, 2), nn.zeros(4, 3), {epochs = 1, batch_size = 4, verbose = 0})
  local norms = (capped.kernel ^ 2):sum(0):sqrt()
  t.truthy(norms:max() <= 1 + 1e-5, 'column norms ' .. tostring(norms))
end)

t.test("Keras' positional call RandomUniform(-0.5, 0.5) keeps every argument, as the table does", function()
  -- Keras: RandomUniform(-0.5, 0.5) draws from U(-0.5, 0.5); dropping maxval gave U(-0.5, 0.05)
  local uniform = nn.initializers.RandomUniform(-0.5, 0.5)
  t.eq(uniform.minval, -0.5, 'minval')
  t.eq(uniform.maxval, 0.5, 'maxval')
  local normal = nn.initializers.RandomNormal(1, 0.2, {seed = 7})
  t.eq(normal.stddev, 0.2, 'stddev')
  t.eq(normal.seed, 7, 'seed from the options table after the positional ones')
  local both = nn.regularizers.l1_l2(0.01, 0.02)
  t.eq(both.l1, 0.01, 'l1')
  t.eq(both.l2, 0.02, 'l2')
  local min_max = nn.constraints.MinMaxNorm(0.5, 2)
  t.eq(min_max.max_value, 2, 'MinMaxNorm max_value')
  t.raises(function() nn.initializers.RandomUniform(-1, 1, 2, 3) end,
           'takes 3 positional arguments (minval, maxval, seed), got one at position 4')
  t.raises(function() nn.initializers.RandomNormal({mean = 1}, 0.2) end,
           'nn.initializers.RandomNormal: unexpected argument 2 (0.2)')
  t.raises(function() nn.regularizers.l2({0.1}, 0.2) end,
           'nn.regularizers.l2: unexpected argument 2 (0.2)')
end)

t.test('a documented bound is taken: 1e30 as a float lies a little beyond 1e30', function()
  t.eq(L.ELU{1e30}:get_config().alpha > 9.9e29, true, 'ELU alpha = 1e30')
  t.eq(L.ReLU{max_value = 1e30}:get_config().max_value > 9.9e29, true, 'ReLU max_value = 1e30')
  t.eq(L.RandomRotation{0.1, fill_value = -1e30}:get_config().fill_value < -9.9e29, true,
       'fill_value = -1e30')
  t.raises(function() L.ELU{2e30} end, 'alpha must be a finite number below 1e+30, got 2e+30')
end)

t.test("nn.activations: Keras' functions compute each formula, and layers take them as activation", function()
  local A = nn.activations
  local v = nn.tensor{{-2, -0.5, 0, 3}}
  local function sigmoid(z) return 1 / (1 + math.exp(-z)) end
  local expected = {
    relu = function(z) return math.max(z, 0) end, linear = function(z) return z end,
    sigmoid = sigmoid, tanh = function(z) return (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1) end,
    elu = function(z) return z > 0 and z or math.exp(z) - 1 end,
    leaky_relu = function(z) return z > 0 and z or 0.2 * z end,
    relu6 = function(z) return math.min(math.max(z, 0), 6) end,
    softplus = function(z) return math.log(1 + math.exp(z)) end,
    softsign = function(z) return z / (1 + math.abs(z)) end,
    exponential = math.exp,
    swish = function(z) return z * sigmoid(z) end, silu = function(z) return z * sigmoid(z) end,
    hard_sigmoid = function(z) return math.min(math.max(z / 6 + 0.5, 0), 1) end,
    hard_silu = function(z) return z * math.min(math.max(z / 6 + 0.5, 0), 1) end,
    hard_swish = function(z) return z * math.min(math.max(z / 6 + 0.5, 0), 1) end,
  }
  for name, f in pairs(expected) do
    local y = A[name](v)
    t.eq(tostring(y.shape), '(1, 4)', name .. ': shape')
    for i = 1, 4 do t.near(y[1][i], f(v[1][i]), 2e-6 * math.max(1, math.abs(f(v[1][i]))), name) end
  end
  -- erf by Abramowitz and Stegun 7.1.26 (error below 1.5e-7), for the exact gelu
  local function erf(z)
    local sign = z < 0 and -1 or 1
    z = math.abs(z)
    local k = 1 / (1 + 0.3275911 * z)
    local poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 +
                 k * 1.061405429))))
    return sign * (1 - poly * math.exp(-z * z))
  end
  local function tanh(z) return (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1) end
  local by_formula = {
    selu = function(z) return 1.0507009873554805 * (z > 0 and z or 1.6732632423543772 * (math.exp(z) - 1)) end,
    gelu = function(z) return 0.5 * z * (1 + erf(z / math.sqrt(2))) end,
    mish = function(z) return z * tanh(math.log(1 + math.exp(z))) end,
  }
  for name, f in pairs(by_formula) do
    for i = 1, 4 do t.near(A[name](v)[1][i], f(v[1][i]), 1e-6, name .. ' by its formula') end
  end
  for _, name in ipairs{'selu', 'gelu', 'mish', 'softmax', 'log_softmax'} do
    t.near(A[name](v), L.Activation{name}(v), 0, name .. ': as the layer computes it')
  end
  -- a tensor on a device gives a tensor there, with the same values
  local on_device = A.softmax(nn.tensor{{1, 2}, {3, 5}}:to('emulated'), 0)
  t.eq(on_device.device, 'emulated:0', 'the result stays on the emulated device')
  t.near(on_device:to('cpu'), A.softmax(nn.tensor{{1, 2}, {3, 5}}, 0), 0, 'the same values there')
  t.near(A.gelu(v:to('emulated')):to('cpu'), A.gelu(v), 0, 'gelu on the emulated device')
  local sum = 0
  for i = 1, 4 do sum = sum + math.exp(v[1][i]) end
  t.near(A.softmax(v)[1][4], math.exp(3) / sum, 1e-7, 'softmax along the last axis')
  t.near(A.log_softmax(v)[1][1], -2 - math.log(sum), 1e-6, 'log_softmax')
  -- the setting after x, by position or by name
  t.near(A.elu(v, 0.5)[1][1], 0.5 * (math.exp(-2) - 1), 1e-7, 'elu alpha')
  t.near(A.elu(v, {alpha = 0.5})[1][1], 0.5 * (math.exp(-2) - 1), 1e-7, 'elu {alpha=}')
  t.near(A.leaky_relu(v, {negative_slope = 0.1})[1][1], -0.2, 1e-7, 'leaky_relu slope')
  local columns = A.softmax(nn.tensor{{1, 2}, {3, 5}}, 0)
  t.near(columns[1][1], 1 / (1 + math.exp(2)), 1e-7, 'softmax along axis 0')
  t.near(columns[2][2], 1 / (1 + math.exp(-3)), 1e-7, 'softmax along axis 0, second column')
  t.near(A.sigmoid{0, 0}, nn.tensor{0.5, 0.5}, 0, 'a table of numbers')
  t.eq(A.relu(-3).dtype, 'float32', 'a number gives a float32 scalar')
  -- a layer takes the function as its activation, as the name
  nn.random.seed(5)
  local by_function = L.Dense{3, activation = A.gelu}
  nn.random.seed(5)
  local by_name = L.Dense{3, activation = 'gelu'}
  t.eq(by_function.activation, 'gelu', 'the layer reads the function as its name')
  local input = nn.random.randn(2, 4)
  t.near(by_function(input), by_name(input), 0, 'Dense with nn.activations.gelu')
  t.near(L.Activation{A.tanh}(v), A.tanh(v), 0, 'Activation takes the function too')
  -- errors
  t.raises(function() L.Dense{3, activation = function(z) return z end} end,
           'nn.layers.Dense: activation must be', 'nn.activations', 'a function of your own')
  t.raises(function() A.relu(v, {max_value = 6}) end, 'nn.activations.relu: unexpected argument 2',
           'nn.layers.ReLU')
  t.raises(function() A.tanh(v, 1) end, 'nn.activations.tanh: unexpected argument 2',
           'nn.activations.tanh(x)')
  t.raises(function() A.elu(v, {beta = 1}) end, "nn.activations.elu: unknown option 'beta'", 'alpha')
  t.raises(function() A.softmax(v, 2) end, 'nn.activations.softmax', 'axis 2 is out of range')
  t.raises(function() A.sigmoid('x') end, 'nn.activations.sigmoid', 'got string')
  t.raises(function() A.softmax(nn.tensor(1)) end, 'nn.activations.softmax', 'a scalar has no axis')
end)

t.finish()
