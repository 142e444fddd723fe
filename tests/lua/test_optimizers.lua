-- Nadam, Adamax, Adadelta, Lion and Ftrl from Lua: Keras 3's defaults, first steps worked out
-- by hand, the shared options (weight decay, clipping, schedules, the non-finite-loss
-- guard), the same training on cpu and on the emulated device, and training resumed
-- after save and load_model equal to training that never stopped.
local t = require 'harness'
local L = nn.layers

local tmp = os.getenv('NNSH_TEST_TMP') or '/tmp'
local function path(name) return tmp .. '/nnsh-test-optimizers-' .. name end

-- One weight w = 1 (or `start`) with loss (w - target)² (x = 1, mse): the gradient is
-- 2 (w - target), target 0 unless given.
local function one_weight(optimizer, device, start)
  local model = nn.Sequential{L.Dense{1, use_bias = false, input_shape = {1}}}
  model:to(device or 'cpu')
  model:set_weights{nn.tensor{{start or 1}}}
  model:compile{optimizer = optimizer, loss = 'mse'}
  return model
end

local function steps(model, count, target)
  local ws = {}
  for i = 1, count do
    model:train_on_batch(nn.tensor{{1}}, nn.tensor{{target or 0}})
    ws[i] = model:get_weights()[1]:item()
  end
  return ws
end

t.test("Keras 3's defaults", function()
  local cases = {
    {'Nadam', 'nadam', {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7}},
    {'Adamax', 'adamax', {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7}},
    {'Adadelta', 'adadelta', {learning_rate = 0.001, rho = 0.95, epsilon = 1e-7}},
    {'Lion', 'lion', {learning_rate = 0.001, beta_1 = 0.9, beta_2 = 0.99}},
    {'Ftrl', 'ftrl', {learning_rate = 0.001, learning_rate_power = -0.5,
                      initial_accumulator_value = 0.1, l1_regularization_strength = 0,
                      l2_regularization_strength = 0, l2_shrinkage_regularization_strength = 0,
                      beta = 0}},
  }
  for _, case in ipairs(cases) do
    local object = nn.optimizers[case[1]]{}
    t.eq(object.name, case[2], case[1] .. ' name')
    local model = one_weight(object)
    t.eq(model.optimizer.name, case[2], case[1] .. ': compiled optimizer')
    t.near(model.optimizer.learning_rate, case[3].learning_rate, 1e-12, case[1] .. ' learning_rate')
    -- The settings the model file keeps are Keras' defaults for that optimizer.
    model:save(path(case[2] .. '.safetensors'))
    local text = t.read_file(path(case[2] .. '.safetensors'))
    for key, value in pairs(case[3]) do
      -- The compile settings are JSON inside the header's JSON: quotes are escaped.
      local written = text:match('"' .. key .. '\\?":%s*([%d.e+-]+)')
      t.truthy(written, case[1] .. ': ' .. key .. ' written')
      t.near(tonumber(written), value, 1e-12, case[1] .. ': ' .. key)
    end
    os.remove(path(case[2] .. '.safetensors'))
    -- The name alone, as a string, is the same optimizer.
    t.eq(one_weight(case[2]).optimizer.name, case[2], case[2] .. ' by name')
  end
end)

t.test('first steps by hand, on cpu and emulated', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- Nadam, lr 0.1: u_1 = 0.9 (1 - 0.5 · 0.96) = 0.468, u_2 = 0.9 (1 - 0.5 · 0.96²) =
    -- 0.48528; with g = 2, m = 0.2, v = 0.004: m_hat = 0.48528 · 0.2 / (1 - 0.468 · 0.48528)
    -- + 0.532 · 2 / 0.532 = 2.1255764, v_hat = 4, w = 1 - 0.1 · 2.1255764 / (2 + 1e-7).
    -- Step 2 (g = 1.7874424) the same way with u_3 and u_1 u_2 u_3.
    local w = steps(one_weight(nn.optimizers.Nadam{learning_rate = 0.1}, device), 2)
    t.near(w[1], 0.89372122, 1e-6, device .. ': nadam step 1')
    t.near(w[2], 0.82024504, 1e-6, device .. ': nadam step 2')
    -- Adamax, lr 0.1: step 1 m = 0.2, u = 2, w = 1 - 0.1 · 0.2 / (0.1 · (2 + 1e-7)) = 0.9;
    -- step 2 g = 1.8, m = 0.36, u = max(0.999 · 2, 1.8) = 1.998 (the decayed maximum wins),
    -- w = 0.9 - 0.1 · 0.36 / (0.19 · 1.998) = 0.80516834.
    w = steps(one_weight(nn.optimizers.Adamax{learning_rate = 0.1}, device), 2)
    t.near(w[1], 0.9, 1e-6, device .. ': adamax step 1')
    t.near(w[2], 0.80516834, 1e-6, device .. ': adamax step 2')
    -- Adadelta, lr 1 (the paper's form): step 1 a = 0.05 · 4 = 0.2,
    -- delta = -sqrt(0 + 1e-7) · 2 / sqrt(0.2 + 1e-7) = -0.00141421, d = 0.05 delta²;
    -- step 2 with g = 2 (1 - 0.00141421).
    w = steps(one_weight(nn.optimizers.Adadelta{learning_rate = 1}, device), 2)
    t.near(w[1], 0.99858579, 1e-6, device .. ': adadelta step 1')
    t.near(w[2], 0.99715455, 1e-6, device .. ': adadelta step 2')
    -- Lion, lr 0.1: each step moves exactly lr along sign(0.9 m + 0.1 g).
    w = steps(one_weight(nn.optimizers.Lion{learning_rate = 0.1}, device), 3)
    t.near(w[1], 0.9, 1e-6, device .. ': lion step 1')
    t.near(w[2], 0.8, 1e-6, device .. ': lion step 2')
    t.near(w[3], 0.7, 1e-6, device .. ': lion step 3')
    -- Ftrl, lr 0.5, accumulator 0.25, target 0.25 so g = 1.5: n = 2.5, linear = 1.5 -
    -- (sqrt(2.5) - sqrt(0.25)) / 0.5 = -0.662278, w = -linear / (sqrt(2.5) / 0.5) =
    -- 0.209431; an l1 strength of 0.7 > |linear| holds the weight at exactly 0.
    local ftrl = {learning_rate = 0.5, initial_accumulator_value = 0.25}
    t.near(steps(one_weight(nn.optimizers.Ftrl(ftrl), device), 1, 0.25)[1], 0.20943058, 1e-6,
           device .. ': ftrl step 1')
    ftrl.l1_regularization_strength = 0.7
    t.eq(steps(one_weight(nn.optimizers.Ftrl(ftrl), device), 1, 0.25)[1], 0,
         device .. ': ftrl with l1 above |linear|')
  end
end)

t.test('weight decay, clipping and schedules act as in Keras', function()
  for _, device in ipairs{'cpu', 'emulated'} do
    -- Decay first, w (1 - lr · wd) = 0.95, then Lion's step of lr: 0.85.
    local w = steps(one_weight(nn.optimizers.Lion{learning_rate = 0.1, weight_decay = 0.5},
                               device), 1)
    t.near(w[1], 0.85, 1e-6, device .. ': lion with weight_decay')
    -- A schedule's rate at each step: 0.1 for steps 0 and 1, then 0.01.
    local schedule = nn.optimizers.schedules.PiecewiseConstantDecay{{1}, {0.1, 0.01}}
    w = steps(one_weight(nn.optimizers.Lion{learning_rate = schedule}, device), 3)
    t.near(w[2], 0.8, 1e-6, device .. ': lion scheduled step 2')
    t.near(w[3], 0.79, 1e-6, device .. ': lion scheduled step 3')
    -- Adadelta's first step is lr · sqrt(eps) · g / sqrt((1 - rho) g² + eps): from w = 0
    -- towards -1 the gradient is 2, which clipvalue 0.01 makes 0.01, so the weight moves by
    -- -1e-3 · sqrt(1e-7) · 0.01 / sqrt(0.05 · 1e-4 + 1e-7) = -1.40028e-6, not -1.41421e-6.
    local expected = -1e-3 * math.sqrt(1e-7) * 0.01 / math.sqrt(0.05 * 1e-4 + 1e-7)
    for _, clip in ipairs{'clipvalue', 'clipnorm', 'global_clipnorm'} do
      local model = one_weight(nn.optimizers.Adadelta{[clip] = 0.01}, device, 0)
      t.near(steps(model, 1, -1)[1], expected, 1e-11, device .. ': adadelta ' .. clip)
    end
    local unclipped = one_weight(nn.optimizers.Adadelta{}, device, 0)
    t.near(steps(unclipped, 1, -1)[1], -1e-3 * math.sqrt(1e-7) * 2 / math.sqrt(0.05 * 4 + 1e-7),
           1e-11, device .. ': adadelta unclipped')
  end
end)

t.test('Ftrl never trains with a learning rate of 0', function()
  -- Ftrl divides by the rate, so 0 would make the weight NaN. Set by hand it is refused
  -- and the rate stays; reached by a schedule, training stops before that step.
  local model = one_weight(nn.optimizers.Ftrl{learning_rate = 0.5})
  t.raises(function() model.learning_rate = 0 end,
           'model.learning_rate must be above 0 for ftrl, which divides by it (at least '
           .. '1.17549e-38 in float32), got 0')
  -- 1e-300 is 0 in float32: refused too, here and in the constructor.
  t.raises(function() model.learning_rate = 1e-300 end, 'got 1e-300')
  t.raises(function() nn.optimizers.Ftrl{learning_rate = 1e-300} end,
           'learning_rate must be above 0 (Ftrl divides by it, at least 1.17549e-38 in '
           .. 'float32), got 1e-300')
  -- Any optimizer's rate is set once the model is compiled, not before.
  local fresh = nn.Sequential{L.Dense{1, input_shape = {1}}}
  t.raises(function() fresh.learning_rate = 0.5 end, 'is not compiled yet')
  -- A schedule may not go beyond the rates a number may be (1e30): training stops before
  -- the step, and the weights stay.
  local huge = one_weight(nn.optimizers.SGD{
    learning_rate = nn.optimizers.schedules.ExponentialDecay{1e29, 1, 100}})
  t.raises(function() steps(huge, 2) end, 'ExponentialDecay gives 1e+31 at step 1, outside '
           .. '[0, 1e+30]')
  -- The first step (rate 1e29, gradient 2) is taken; the second is not.
  t.near(huge:get_weights()[1]:item(), 1 - 2e29, 1e23, 'the weight after one step at 1e29')
  t.eq(model.learning_rate, 0.5, 'the rate stays')
  model.learning_rate = 0.25
  t.eq(model.learning_rate, 0.25, 'a positive rate is taken')
  -- The rate is 0.5 at step 0 and 0 from step 1 on.
  local schedule = nn.optimizers.schedules.PiecewiseConstantDecay{{0}, {0.5, 0}}
  for _, device in ipairs{'cpu', 'emulated'} do
    model = one_weight(nn.optimizers.Ftrl{learning_rate = schedule,
                                          initial_accumulator_value = 0.25}, device)
    local first = steps(model, 1, 0.25)[1]
    t.near(first, 0.20943058, 1e-6, device .. ': the first step, at rate 0.5')
    t.raises(function() steps(model, 1, 0.25) end,
             'ftrl divides by the learning rate, which is 0 at step 1 (PiecewiseConstantDecay), '
             .. "below 1.17549e-38 (float32's smallest normal number); training stopped")
    t.eq(model:get_weights()[1]:item(), first, device .. ': the weight is that of step 1')
  end
end)

local function classifier(device)
  local model = nn.Sequential{
    L.Dense{8, activation = 'relu', input_shape = {5}},
    L.Dense{3, activation = 'softmax'},
  }
  model:to(device)
  return model
end

local function data(rows)
  local x = nn.random.randn(rows, 5)
  local labels = {}
  for i = 1, rows do labels[i] = (i * 7) % 3 end
  return x, nn.tensor(labels, 'int32')
end

local function same_weights(a, b)
  local wa, wb = a:get_weights(), b:get_weights()
  for i = 1, #wa do
    if not (wa[i] == wb[i]) then return false end
  end
  return #wa == #wb
end

local trained = {
  {'Nadam', {learning_rate = 0.01}},
  {'Nadam', {learning_rate = 0.01, clipnorm = 0.1, weight_decay = 0.01}},
  {'Adamax', {learning_rate = 0.01, clipvalue = 0.05}},
  {'Adamax', {learning_rate = 0.01, global_clipnorm = 0.2, weight_decay = 0.1}},
  {'Adadelta', {learning_rate = 1, rho = 0.9}},
  {'Adadelta', {learning_rate = 1, clipnorm = 0.5, weight_decay = 0.01}},
  {'Lion', {learning_rate = 0.003}},
  {'Lion', {learning_rate = 0.003, beta_1 = 0.5, weight_decay = 0.3, clipvalue = 0.01,
            exclude_from_weight_decay = {'bias'}}},
  {'Ftrl', {learning_rate = 0.1}},
  {'Ftrl', {learning_rate = 0.1, l1_regularization_strength = 0.001, beta = 0.1,
            l2_shrinkage_regularization_strength = 0.01, learning_rate_power = -0.7,
            clipnorm = 1}},
}

local function describe(case)
  local keys = {}
  for k in pairs(case[2]) do keys[#keys + 1] = k end
  table.sort(keys)
  return case[1] .. '{' .. table.concat(keys, ', ') .. '}'
end

t.test('training is the same on cpu and on the emulated device, and moves the loss', function()
  for _, case in ipairs(trained) do
    local models, losses = {}, {}
    for _, device in ipairs{'cpu', 'emulated'} do
      nn.random.seed(21)
      local x, y = data(32)
      local model = classifier(device)
      model:compile{optimizer = nn.optimizers[case[1]](case[2]),
                    loss = 'sparse_categorical_crossentropy'}
      local history = model:fit(x, y, {epochs = 4, batch_size = 8, verbose = 0})
      models[device], losses[device] = model, history.history.loss
    end
    local what = describe(case)
    t.truthy(same_weights(models.cpu, models.emulated), what .. ': cpu and emulated weights')
    t.eq(models.emulated.optimizer.iterations, 16, what .. ': iterations')
    t.truthy(losses.cpu[4] < losses.cpu[1], what .. ': the loss falls (' .. losses.cpu[1] ..
             ' -> ' .. losses.cpu[4] .. ')')
  end
end)

t.test('save, load_model and go on: the same as training that never stopped', function()
  for k, case in ipairs(trained) do
    -- Each optimizer's first case on both devices, the second on the cpu.
    for _, device in ipairs(k % 2 == 1 and {'cpu', 'emulated'} or {'cpu'}) do
      local what = describe(case) .. ' on ' .. device
      nn.random.seed(22)
      local x, y = data(24)
      local options = {epochs = 2, batch_size = 8, shuffle = false, verbose = 0}
      local straight = classifier(device)
      local resumed = classifier(device)
      resumed:set_weights(straight:get_weights())
      -- The model file does not keep exclude_from_weight_decay (Keras' optimizer config
      -- has no such entry either): this round trip leaves it out.
      local settings = {}
      for k, v in pairs(case[2]) do
        if k ~= 'exclude_from_weight_decay' then settings[k] = v end
      end
      for _, model in ipairs{straight, resumed} do
        model:compile{optimizer = nn.optimizers[case[1]](settings),
                      loss = 'sparse_categorical_crossentropy'}
      end
      straight:fit(x, y, {epochs = 5, batch_size = 8, shuffle = false, verbose = 0})
      resumed:fit(x, y, options)
      resumed:save(path('resume.safetensors'))
      local loaded = nn.models.load_model(path('resume.safetensors'))
      loaded:to(device)
      t.eq(loaded.optimizer.iterations, 6, what .. ': iterations restored')
      loaded:fit(x, y, {epochs = 3, batch_size = 8, shuffle = false, verbose = 0})
      t.eq(loaded.optimizer.iterations, 15, what .. ': iterations after')
      t.truthy(same_weights(straight, loaded), what .. ': resumed = uninterrupted')
      os.remove(path('resume.safetensors'))
    end
  end
end)

t.test('a non-finite loss skips the step and stops, leaving weights and state as before', function()
  local rows = {}
  for i = 1, 16 do rows[i] = {i / 16, 1 - i / 16} end
  -- In the third batch of 4, values fit accepts (it refuses NaN and infinity) whose sum
  -- overflows float with weights of a size near 1, so the prediction and the loss become
  -- infinite. Ftrl's weights are near learning_rate · linear / sqrt(n): it takes a rate of 10.
  rows[10] = {3e38, 3e38}
  local x, y = nn.tensor(rows), nn.zeros(16, 1)
  for _, name in ipairs{'Nadam', 'Adamax', 'Adadelta', 'Lion', 'Ftrl'} do
    for _, device in ipairs{'cpu', 'emulated'} do
      local function model()
        local m = nn.Sequential{L.Dense{1, input_shape = {2}}}
        m:to(device)
        m:compile{optimizer = nn.optimizers[name]{learning_rate = name == 'Ftrl' and 10 or 0.01},
                  loss = 'mse'}
        m:set_weights{nn.ones(2, 1), nn.zeros(1)}
        return m
      end
      local stopped, clean = model(), model()
      t.raises(function()
        stopped:fit(x, y, {epochs = 1, batch_size = 4, shuffle = false, verbose = 0})
      end, 'the loss became', 'epoch 1, batch 3')
      clean:fit(x:slice(1, 8), y:slice(1, 8), {epochs = 1, batch_size = 4, shuffle = false,
                                               verbose = 0})
      local what = name .. ' on ' .. device
      t.eq(stopped.optimizer.iterations, 2, what .. ': iterations')
      t.truthy(same_weights(stopped, clean), what .. ': weights are those before batch 3')
      -- Both go on alike: the optimizer state was not touched either.
      local rest = {epochs = 1, batch_size = 4, shuffle = false, verbose = 0}
      stopped:fit(x:slice(1, 8), y:slice(1, 8), rest)
      clean:fit(x:slice(1, 8), y:slice(1, 8), rest)
      t.truthy(same_weights(stopped, clean), what .. ': state untouched')
    end
  end
end)

-- ---- model.optimizer: the optimizer's config, which compile takes back ----

-- Every key of a and b the same, lists and schedules entry by entry.
local function same_config(a, b, what)
  for key, value in pairs(a) do
    if type(value) == 'table' then
      t.eq(type(b[key]), 'table', what .. ': ' .. key)
      same_config(value, b[key], what .. ': ' .. key)
    else
      t.eq(b[key], value, what .. ': ' .. key)
    end
  end
  for key in pairs(b) do t.truthy(a[key] ~= nil, what .. ': ' .. key .. ' only in the second') end
end

local function key_list(config)
  local keys = {}
  for key in pairs(config) do keys[#keys + 1] = key end
  table.sort(keys)
  return table.concat(keys, ', ')
end

-- Each optimizer with settings other than its defaults, and the settings Keras' get_config
-- gives it besides name, learning_rate and weight_decay.
local configured = {
  {'SGD', {learning_rate = 0.05, momentum = 0.8, nesterov = true, clipvalue = 0.5},
   {'momentum', 'nesterov'}},
  {'Adam', {learning_rate = 0.02, beta_1 = 0.8, beta_2 = 0.99, epsilon = 1e-6, amsgrad = true,
            clipnorm = 1.5}, {'beta_1', 'beta_2', 'epsilon', 'amsgrad'}},
  {'AdamW', {weight_decay = 0.01, exclude_from_weight_decay = {'bias'}, global_clipnorm = 2},
   {'beta_1', 'beta_2', 'epsilon', 'amsgrad'}},
  {'RMSprop', {rho = 0.8, momentum = 0.5, centered = true, epsilon = 1e-6},
   {'rho', 'momentum', 'epsilon', 'centered'}},
  {'Adagrad', {initial_accumulator_value = 0.2, epsilon = 1e-6, weight_decay = 0.001},
   {'initial_accumulator_value', 'epsilon'}},
  {'Nadam', {beta_1 = 0.85}, {'beta_1', 'beta_2', 'epsilon'}},
  {'Adamax', {beta_2 = 0.99, clipvalue = 0.1}, {'beta_1', 'beta_2', 'epsilon'}},
  {'Adadelta', {learning_rate = 1, rho = 0.9}, {'rho', 'epsilon'}},
  {'Lion', {beta_1 = 0.95, beta_2 = 0.98}, {'beta_1', 'beta_2'}},
  {'Ftrl', {learning_rate = 0.1, learning_rate_power = -0.7, initial_accumulator_value = 0.3,
            l1_regularization_strength = 0.001, l2_regularization_strength = 0.002,
            l2_shrinkage_regularization_strength = 0.01, beta = 0.1},
   {'learning_rate_power', 'initial_accumulator_value', 'l1_regularization_strength',
    'l2_regularization_strength', 'l2_shrinkage_regularization_strength', 'beta'}},
}

t.test('model.optimizer lists every setting of its optimizer, and compile takes it back',
       function()
  for _, case in ipairs(configured) do
    local class, settings, own = case[1], case[2], case[3]
    local model = classifier('cpu')
    model:compile{optimizer = nn.optimizers[class](settings), loss = 'mse'}
    local config = model.optimizer
    -- Exactly Keras' keys, the clips and exclusions given, and iterations.
    local expected = {name = true, learning_rate = true, weight_decay = true, iterations = true}
    for _, key in ipairs(own) do expected[key] = true end
    for key in pairs(settings) do expected[key] = true end
    t.eq(key_list(config), key_list(expected), class .. ': keys')
    t.eq(config.name, nn.optimizers[class]{}.name, class .. ': name')
    t.eq(config.iterations, 0, class .. ': iterations')
    for key, value in pairs(settings) do
      if type(value) == 'table' then
        same_config(value, config[key], class .. ': ' .. key)
      else
        t.eq(config[key], value, class .. ': ' .. key)
      end
    end
    -- A second model compiled from it describes the same optimizer.
    local second = classifier('cpu')
    second:compile{optimizer = config, loss = 'mse'}
    same_config(config, second.optimizer, class .. ' compiled from model.optimizer')
    -- The constructor takes it too, as Keras' from_config.
    same_config(nn.optimizers[class](config), config, class .. ' through nn.optimizers')
  end
  -- A name alone brings Keras' defaults, all listed.
  local model = classifier('cpu')
  model:compile{optimizer = 'rmsprop', loss = 'mse'}
  same_config(model.optimizer, {name = 'rmsprop', learning_rate = 0.001, weight_decay = 0,
                                rho = 0.9, momentum = 0, epsilon = 1e-7, centered = false,
                                iterations = 0}, 'rmsprop by name')
  -- get_config() gives a plain copy: changing it changes nothing in the model.
  local config = model.optimizer:get_config()
  t.eq(getmetatable(config), nil, 'a plain table')
  same_config(config, model.optimizer, 'get_config')
  config.learning_rate, config.iterations = 5, 7
  t.eq(model.optimizer.learning_rate, 0.001, 'the model keeps its rate')
  t.eq(model.optimizer.iterations, 0, 'the model keeps its count')
  -- The rate set last is the one listed (as ReduceLROnPlateau sets it).
  model.learning_rate = 0.0005
  t.eq(model.optimizer.learning_rate, 0.0005, 'a rate set on the model')
  local plain = classifier('cpu')
  t.eq(plain:compile{optimizer = 'sgd', loss = 'mse'}, nil, 'compile returns nothing, as Keras')
  t.eq(plain.optimizer.clipnorm, nil, 'a clip that is not set is not listed')
end)

t.test('model.optimizer is the model\'s optimizer: live, and its learning_rate settable as Keras\'',
       function()
  nn.random.seed(5)
  local x, y = data(16)
  local options = {epochs = 1, batch_size = 8, shuffle = false, verbose = 0}
  local function trained(set_rate)
    nn.random.seed(9)
    local model = classifier('cpu')
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                  loss = 'sparse_categorical_crossentropy'}
    set_rate(model)
    model:fit(x, y, options)
    return model
  end
  local view = trained(function(model) model.optimizer.learning_rate = 0.02 end)
  local direct = trained(function(model) model.learning_rate = 0.02 end)
  local unchanged = trained(function() end)
  t.truthy(same_weights(view, direct), 'model.optimizer.learning_rate = 0.02 trains at 0.02')
  t.truthy(not same_weights(view, unchanged), 'and not at 0.1')
  t.eq(view.optimizer.learning_rate, 0.02)
  t.eq(view.learning_rate, 0.02)
  -- A view taken before training reads the count as it is now.
  local optimizer = unchanged.optimizer
  t.eq(optimizer.iterations, 2, 'two batches taken')
  unchanged:fit(x, y, options)
  t.eq(optimizer.iterations, 4, 'the same view, after two more')
  t.eq(tostring(optimizer), 'SGD{learning_rate=0.1, weight_decay=0.0, momentum=0.0, ' ..
                            'nesterov=false, iterations=4}')
  t.raises(function() optimizer.momentum = 0.9 end,
           'model.optimizer.momentum cannot be set: compile fixes it (only learning_rate changes ' ..
           'in place); compile again with the optimizer it should be, nn.optimizers.SGD{momentum=...}')
  t.raises(function() optimizer.iterations = 0 end, 'model.optimizer.iterations cannot be set')
  t.raises(function() optimizer.speed = 1 end,
           'model.optimizer has no setting speed (its settings: pairs(model.optimizer))')
  t.raises(function() optimizer.learning_rate = -1 end,
           'model.optimizer.learning_rate must be a finite number >= 0, got -1')
  t.raises(function() optimizer.learning_rate = '0.1' end,
           'model.optimizer.learning_rate must be a number, got string')
  t.eq(optimizer.learning_rate, 0.1, 'a refused rate changes nothing')
end)

t.test('objects from nn.optimizers, nn.losses, initializers, regularizers print their settings',
       function()
  t.eq(tostring(nn.optimizers.Adam{learning_rate = 0.01, amsgrad = true}),
       'nn.optimizers.Adam{amsgrad=true, learning_rate=0.01}')
  t.eq(tostring(nn.optimizers.SGD()), 'nn.optimizers.SGD{}')
  t.eq(tostring(nn.optimizers.AdamW{exclude_from_weight_decay = {'bias', 'gamma'}}),
       'nn.optimizers.AdamW{exclude_from_weight_decay={"bias", "gamma"}}')
  t.eq(tostring(nn.optimizers.SGD{learning_rate = nn.optimizers.schedules.ExponentialDecay{0.1, 10, 0.5}}),
       'nn.optimizers.SGD{learning_rate=ExponentialDecay{initial_learning_rate=0.1, ' ..
       'decay_steps=10, decay_rate=0.5}}')
  t.eq(tostring(nn.losses.SparseCategoricalCrossentropy{from_logits = true}),
       'nn.losses.SparseCategoricalCrossentropy{from_logits=true}')
  t.eq(tostring(nn.initializers.Constant{0.5}), 'nn.initializers.Constant{value=0.5}')
  t.eq(tostring(nn.regularizers.l2(0.02)), 'nn.regularizers.L1L2{l1=0, l2=0.02}')
  t.eq(tostring(nn.constraints.MaxNorm(3)), 'nn.constraints.MaxNorm{max_value=3}')
end)

t.test('model.optimizer describes a schedule as nn.optimizers.schedules makes it', function()
  local S = nn.optimizers.schedules
  local schedules = {
    S.ExponentialDecay{0.1, 100, 0.5, staircase = true},
    S.InverseTimeDecay{0.1, 10, 0.5},
    S.PolynomialDecay{0.1, 50, 0.001, power = 2, cycle = true},
    S.PiecewiseConstantDecay{{10, 20}, {0.1, 0.05, 0.01}},
    S.CosineDecay{0.1, 100, alpha = 0.1},
    S.CosineDecay{0.01, 100, warmup_target = 0.1, warmup_steps = 10},
    S.CosineDecayRestarts{0.1, 20, t_mul = 1.5, m_mul = 0.9, alpha = 0.01},
  }
  for _, schedule in ipairs(schedules) do
    local what = tostring(schedule)
    local model = classifier('cpu')
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = schedule, momentum = 0.9},
                  loss = 'mse'}
    local described = model.optimizer.learning_rate
    t.eq(getmetatable(described), getmetatable(schedule), what .. ': a schedule object')
    -- Every setting, its defaults included (warmup_target only when given, as it is
    -- written).
    for key, value in pairs(schedule) do
      if type(value) == 'table' then
        same_config(value, described[key], what .. ': ' .. key)
      else
        t.eq(described[key], value, what .. ': ' .. key)
      end
    end
    t.eq(described.warmup_target, schedule.warmup_target, what .. ': warmup_target')
    for _, step in ipairs{0, 5, 15, 60, 250} do
      t.eq(described(step), schedule(step), what .. ': rate at step ' .. step)
    end
    t.eq(model.learning_rate, schedule(0), what .. ': model.learning_rate is the next rate')
    local second = classifier('cpu')
    second:compile{optimizer = model.optimizer, loss = 'mse'}
    same_config(model.optimizer, second.optimizer, what .. ': compiled from model.optimizer')
    t.eq(tostring(second.optimizer.learning_rate), tostring(described), what .. ': printed')
  end
end)

t.test('a model compiled from model.optimizer trains the same, from step 0', function()
  local S = nn.optimizers.schedules
  local cases = {
    {'Adam', {learning_rate = 0.01, amsgrad = true, beta_1 = 0.8, clipnorm = 0.5}},
    {'AdamW', {learning_rate = 0.01, weight_decay = 0.5, exclude_from_weight_decay = {'bias'}}},
    {'SGD', {learning_rate = S.PiecewiseConstantDecay{{2}, {0.1, 0.02}}, momentum = 0.9,
             nesterov = true}},
    {'RMSprop', {learning_rate = S.CosineDecay{0.001, 6, warmup_target = 0.01,
                                               warmup_steps = 2}, centered = true,
                 momentum = 0.5, global_clipnorm = 1}},
    {'Ftrl', {learning_rate = 0.1, l1_regularization_strength = 0.001, beta = 0.1,
              clipvalue = 0.05}},
    {'Lion', {learning_rate = 0.003, beta_2 = 0.95, weight_decay = 0.1}},
  }
  nn.random.seed(23)
  local x, y = data(24)
  local options = {epochs = 2, batch_size = 8, shuffle = false, verbose = 0}
  for _, case in ipairs(cases) do
    local what = describe(case)
    local first = classifier('cpu')
    local start = first:get_weights()
    first:compile{optimizer = nn.optimizers[case[1]](case[2]),
                  loss = 'sparse_categorical_crossentropy'}
    first:fit(x, y, options)
    -- Compiled from the description after 6 steps: iterations is ignored, so the second
    -- model starts at step 0 (its schedule too) with fresh state, as Keras' from_config.
    local config = first.optimizer
    t.eq(config.iterations, 6, what .. ': iterations listed')
    local second = classifier('cpu')
    second:set_weights(start)
    second:compile{optimizer = config, loss = 'sparse_categorical_crossentropy'}
    t.eq(second.optimizer.iterations, 0, what .. ': the second starts at step 0')
    second:fit(x, y, options)
    t.truthy(same_weights(first, second), what .. ': the same weights after the same steps')
    t.truthy(not same_weights(second, classifier('cpu')), what .. ': the weights moved')
  end
  -- The exclusions are part of the description: without them AdamW trains otherwise.
  local with = classifier('cpu')
  local start = with:get_weights()
  with:compile{optimizer = nn.optimizers.AdamW{weight_decay = 0.5,
                                               exclude_from_weight_decay = {'bias'}},
               loss = 'sparse_categorical_crossentropy'}
  local config = with.optimizer:get_config()
  config.exclude_from_weight_decay = nil
  local without = classifier('cpu')
  without:set_weights(start)
  without:compile{optimizer = config, loss = 'sparse_categorical_crossentropy'}
  with:fit(x, y, options)
  without:fit(x, y, options)
  t.truthy(not same_weights(with, without), 'exclude_from_weight_decay changes the training')
end)

t.test('compile refuses what model.optimizer would not list', function()
  local model = classifier('cpu')
  model:compile{optimizer = nn.optimizers.Lion{}, loss = 'mse'}
  local function compile_with(key, value)
    local config = model.optimizer:get_config()
    config[key] = value
    return function() classifier('cpu'):compile{optimizer = config, loss = 'mse'} end
  end
  t.raises(compile_with('iterationz', 1), "model:compile: unknown option 'iterationz'",
           'iterations')
  t.raises(compile_with('epsilon', 1e-7), "unknown option 'epsilon'")
  t.raises(compile_with('schedule', 'CosineDecay'), "unknown option 'schedule'")
  for _, bad in ipairs{{-1, '-1'}, {1.5, '1.5'}, {'3', 'string'}} do
    t.raises(compile_with('iterations', bad[1]),
             'model:compile: iterations must be an integer >= 0', 'got ' .. bad[2])
  end
  t.raises(function() nn.optimizers.Adam{iterations = -2} end,
           'nn.optimizers.Adam: iterations must be an integer >= 0')
  -- Any count is taken, and ignored.
  local config = model.optimizer:get_config()
  config.iterations = 1000000
  local fresh = classifier('cpu')
  fresh:compile{optimizer = config, loss = 'mse'}
  t.eq(fresh.optimizer.iterations, 0, 'a new optimizer starts from 0')
  -- The settings' ranges hold as for nn.optimizers.Lion{...}.
  t.raises(compile_with('beta_1', 2), 'model:compile: beta_1 must be between 0 and 1, got 2')
end)

t.test('help and completion know the new optimizers', function()
  local arguments = {Nadam = {'beta_1', 'beta_2', 'epsilon'}, Adamax = {'beta_1', 'beta_2', 'epsilon'},
                     Adadelta = {'rho', 'epsilon'}, Lion = {'beta_1', 'beta_2'},
                     Ftrl = {'learning_rate_power', 'initial_accumulator_value',
                             'l1_regularization_strength', 'l2_regularization_strength',
                             'l2_shrinkage_regularization_strength', 'beta'}}
  for name, expected in pairs(arguments) do
    local text = t.capture(function() help(nn.optimizers[name]) end)
    t.truthy(text:find('nn.optimizers.' .. name, 1, true), name .. ' help: ' .. text)
    local names = {}
    for _, param in ipairs(nn._doc(nn.optimizers[name]).params) do names[param.name] = true end
    for _, argument in ipairs(expected) do
      t.truthy(names[argument], name .. ' completes ' .. argument)
    end
    t.truthy(names.learning_rate and names.weight_decay and names.clipnorm, name .. ' shared options')
  end
  local compile = debug.getregistry()['nn.Sequential'].methods.compile
  local text = t.capture(function() help(compile) end)
  t.truthy(text:find("'lion'", 1, true) and text:find("'ftrl'", 1, true),
           'compile help lists lion and ftrl: ' .. text)
end)

t.test("an optimizer's first positional setting is its learning rate, as in Keras", function()
  t.eq(tostring(nn.optimizers.Adam(0.01)), 'nn.optimizers.Adam{learning_rate=0.01}')
  t.eq(tostring(nn.optimizers.SGD{0.1, momentum = 0.9}), 'nn.optimizers.SGD{learning_rate=0.1, momentum=0.9}')
  local decay = nn.optimizers.schedules.ExponentialDecay{0.1, 100, 0.9}
  t.eq(nn.optimizers.RMSprop(decay).learning_rate, decay, 'a schedule by position')
  -- the same training as learning_rate = 0.05 by name
  local function trained(optimizer)
    nn.random.seed(3)
    local model = nn.Sequential{nn.layers.Dense{1, input_shape = {2}}}
    model:compile{optimizer = optimizer, loss = 'mse'}
    model:fit(nn.tensor{{1, 2}, {3, 4}}, nn.tensor{{1}, {2}}, {epochs = 3, verbose = 0})
    return model.layers[1].kernel
  end
  t.near(trained(nn.optimizers.Adam(0.05)), trained(nn.optimizers.Adam{learning_rate = 0.05}), 0,
         'Adam(0.05) trains as Adam{learning_rate = 0.05}')
  t.raises(function() nn.optimizers.Adam{0.1, learning_rate = 0.2} end,
           'nn.optimizers.Adam: the learning rate is given twice')
  t.raises(function() nn.optimizers.Adam{0.1, 0.2} end,
           'nn.optimizers.Adam: takes 1 positional setting (learning_rate), got one at position 2')
  t.raises(function() nn.optimizers.SGD(-1) end, 'nn.optimizers.SGD: learning_rate must be between 0')
  t.raises(function() nn.optimizers.Adam('fast') end, 'nn.optimizers.Adam: expected a table of options, got string')
end)

t.finish()
