-- Learning-rate schedules from Lua: Keras' settings by name or position, a schedule
-- called for its rate, training steps worked by hand, model.learning_rate, model files,
-- callbacks, and bad settings.
local t = require 'harness'
local S = nn.optimizers.schedules
local L = nn.layers

t.test('each schedule gives Keras\' rates', function()
  local exponential = S.ExponentialDecay{0.01, 100, 0.5}
  t.near(exponential(0), 0.01, 1e-15, 'exponential at 0')
  t.near(exponential(150), 0.01 * 0.5 ^ 1.5, 1e-15, 'exponential at 150')
  t.near(S.ExponentialDecay{initial_learning_rate = 0.01, decay_steps = 100, decay_rate = 0.5,
                            staircase = true}(150), 0.005, 1e-15, 'staircase')
  t.near(S.InverseTimeDecay{0.1, 10, 2}(30), 0.1 / 7, 1e-15, 'inverse time')
  t.near(S.PolynomialDecay{1, 10, 0.2, 2}(5), 0.4, 1e-15, 'polynomial')
  t.near(S.PolynomialDecay{1, 10, 0.2, 2, true}(15), 0.25, 1e-15, 'polynomial, cycling')
  local piecewise = S.PiecewiseConstantDecay{{100, 200}, {1, 0.5, 0.1}}
  t.eq(piecewise(100), 1, 'piecewise: the boundary belongs to the piece before')
  t.eq(piecewise(101), 0.5, 'piecewise: after the first boundary')
  t.eq(piecewise(201), 0.1, 'piecewise: after the last')
  t.near(S.CosineDecay{0.1, 100}(50), 0.05, 1e-15, 'cosine')
  t.near(S.CosineDecay{0.1, 100, alpha = 0.2}(100), 0.02, 1e-15, 'cosine floor')
  t.near(S.CosineDecay{0, 100, warmup_target = 1, warmup_steps = 10}(4), 0.4, 1e-15, 'warmup')
  t.near(S.CosineDecayRestarts{1, 10, m_mul = 0.5}(20), 0.25, 1e-15, 'restarts')
  t.eq(tostring(exponential), 'ExponentialDecay{initial_learning_rate=0.01, decay_steps=100, ' ..
       'decay_rate=0.5}', 'printed')
end)

t.test('training takes each update\'s rate from the schedule', function()
  -- One weight w, x = 1, y = 1, mse: the gradient is 2(w - 1). From w = 0, an update at
  -- rate 0.1 gives 0.2, then one at 0.01 gives 0.2 + 0.01 · 1.6 = 0.216.
  local dense = L.Dense{1, use_bias = false, kernel_initializer = 'zeros', input_shape = {1}}
  local model = nn.Sequential{dense}
  model:compile{optimizer = nn.optimizers.SGD{
                  learning_rate = S.PiecewiseConstantDecay{{0}, {0.1, 0.01}}},
                loss = 'mse'}
  t.near(model.learning_rate, 0.1, 1e-15, 'the first update\'s rate before training')
  local x, y = nn.tensor{{1}}, nn.tensor{{1}}
  model:train_on_batch(x, y)
  t.near(dense:get_weights()[1], nn.tensor{{0.2}}, 1e-7, 'first update at 0.1')
  t.near(model.learning_rate, 0.01, 1e-15, 'the next update\'s rate')
  model:train_on_batch(x, y)
  t.near(dense:get_weights()[1], nn.tensor{{0.216}}, 1e-7, 'second update at 0.01')
  t.eq(model.optimizer.learning_rate.schedule, 'PiecewiseConstantDecay',
       'optimizer.learning_rate is the schedule')
  t.eq(model.optimizer.iterations, 2, 'iterations')
  t.raises(function() model.learning_rate = 0.5 end, 'PiecewiseConstantDecay schedule',
           'cannot be set')
end)

t.test('a saved model keeps its schedule and where it is in it', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-schedules'
  nn.io.make_directory(directory)
  nn.random.seed(3)
  local model = nn.Sequential{L.Dense{4, activation = 'tanh', input_shape = {3}}, L.Dense{1}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = S.CosineDecay{0.01, 20,
                                                                             alpha = 0.1}},
                loss = 'mse'}
  local x, y = nn.random.randn(16, 3), nn.random.randn(16, 1)
  model:fit(x, y, {epochs = 2, batch_size = 4, verbose = 0})
  model:save(directory .. '/scheduled.nnsh')
  local copy = nn.models.load_model(directory .. '/scheduled.nnsh')
  t.eq(copy.optimizer.learning_rate.schedule, 'CosineDecay', 'schedule kept')
  t.eq(copy.optimizer.iterations, 8, 'iterations kept')
  t.near(copy.learning_rate, S.CosineDecay{0.01, 20, alpha = 0.1}(8), 1e-12, 'rate at step 8')
  model:fit(x, y, {epochs = 1, batch_size = 4, verbose = 0, shuffle = false})
  copy:fit(x, y, {epochs = 1, batch_size = 4, verbose = 0, shuffle = false})
  local expected, actual = model:get_weights(), copy:get_weights()
  for i = 1, #expected do t.eq(actual[i], expected[i], 'weight ' .. i .. ' after more training') end
end)

t.test('callbacks see the rate in use', function()
  local rates = {}
  local model = nn.Sequential{L.Dense{1, input_shape = {2}}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = S.ExponentialDecay{0.1, 2, 0.5}},
                loss = 'mse'}
  model:fit(nn.ones(8, 2), nn.ones(8, 1), {epochs = 2, batch_size = 4, verbose = 0,
    callbacks = {{on_epoch_end = function(self) rates[#rates + 1] = self.model.learning_rate end}}})
  -- Two updates an epoch: after epoch 1 the next rate is 0.1 · 0.5, after epoch 2 0.1 · 0.25.
  t.near(rates[1], 0.05, 1e-9, 'after epoch 1')
  t.near(rates[2], 0.025, 1e-9, 'after epoch 2')
end)

t.test('a schedule is printed with every setting', function()
  t.eq(tostring(S.CosineDecay{0.1, 10, warmup_target = 1, warmup_steps = 5}),
       'CosineDecay{initial_learning_rate=0.1, decay_steps=10, warmup_steps=5, warmup_target=1}',
       'warmup included')
  t.eq(tostring(S.PiecewiseConstantDecay{{10}, {1, 0.5}}),
       'PiecewiseConstantDecay{boundaries={10}, values={1, 0.5}}', 'lists')
  t.eq(tostring(S.ExponentialDecay{0.1, 10, 0.5, name = 'slow'}),
       'ExponentialDecay{initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, name="slow"}',
       'a name, quoted')
end)

t.test("a schedule's name, as Keras' name=, is kept by compile and by the model file", function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-schedules'
  nn.io.make_directory(directory)
  local steps = S.PiecewiseConstantDecay{{10, 20}, {0.1, 0.01, 0.001}, name = 'steps'}
  t.eq(steps.name, 'steps', 'on the schedule')
  t.eq(steps(15), 0.01, 'the name changes no rate')
  local model = nn.Sequential{L.Dense{1, input_shape = {2}}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = steps}, loss = 'mse'}
  t.eq(model.optimizer.learning_rate.name, 'steps', 'in model.optimizer')
  model:save(directory .. '/named.nnsh')
  local copy = nn.models.load_model(directory .. '/named.nnsh')
  t.eq(copy.optimizer.learning_rate.name, 'steps', 'read back from the file')
  t.eq(tostring(copy.optimizer.learning_rate), tostring(model.optimizer.learning_rate),
       'the same schedule')
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = S.CosineDecay{0.1, 10}}, loss = 'mse'}
  t.eq(model.optimizer.learning_rate.name, nil, 'none unless given')
  model:save(directory .. '/unnamed.nnsh')
  t.eq(nn.models.load_model(directory .. '/unnamed.nnsh').optimizer.learning_rate.name, nil,
       'and none from the file')
  t.truthy(not t.read_file(directory .. '/unnamed.nnsh'):find('"name": *"CosineDecay"'),
           'no name written')
end)

t.test('what sets the rate by hand is refused under a schedule, and a rate that overflows stops training', function()
  local model = nn.Sequential{L.Dense{1, kernel_initializer = 'zeros', input_shape = {1}}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = S.ExponentialDecay{1e-300, 1, 1e300}},
                loss = 'mse'}
  local x, y = nn.ones(4, 1), nn.ones(4, 1)
  for _, callback in ipairs{nn.callbacks.ReduceLROnPlateau{}, nn.callbacks.LearningRateScheduler{
                              function(_, rate) return rate end}} do
    t.raises(function() model:fit(x, y, {epochs = 1, verbose = 0, callbacks = {callback}}) end,
             'sets the learning rate', 'ExponentialDecay schedule')
  end
  t.eq(model.optimizer.iterations, 0, 'refused before any step')
  t.raises(function() model.learning_rate = S.ExponentialDecay{0.1, 10, 0.5} end,
           'model.learning_rate must be a number, got table')
  -- 1e-300, then 1e-300 · 1e300 = 1, then infinity: two steps, and the third is refused.
  t.raises(function() model:fit(x, y, {epochs = 5, batch_size = 4, verbose = 0}) end,
           'the learning-rate schedule ExponentialDecay gives inf at step 2')
  t.eq(model.optimizer.iterations, 2, 'two updates taken')
  t.near(model.layers[1]:get_weights()[1], nn.tensor{{2}}, 1e-6, 'the weights of the last good step')
  -- A schedule's rates are its own to check: one starting above the 1e30 a constant
  -- learning_rate may have is taken, as its schedule allows it.
  t.eq(nn.optimizers.Adam{learning_rate = S.ExponentialDecay{1e31, 10, 0.5}}.name, 'adam',
       'a schedule starting at 1e31')
end)

t.test('bad settings raise errors naming the schedule and the setting', function()
  t.raises(function() S.ExponentialDecay{0.1, 100} end, 'ExponentialDecay',
           "missing required argument 'decay_rate'")
  t.raises(function() S.ExponentialDecay{0.1, 0, 0.5} end, 'decay_steps must be a number > 0')
  t.raises(function() S.ExponentialDecay{-0.1, 10, 0.5} end, 'initial_learning_rate', '>= 0')
  t.raises(function() S.ExponentialDecay{'fast', 10, 0.5} end, 'initial_learning_rate',
           'must be a number')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, decay = 1} end, "unknown option 'decay'",
           'valid options are: initial_learning_rate, decay_steps, decay_rate, staircase, name')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, name = 7} end,
           'ExponentialDecay: name must be a string of 1 to 63 bytes, got integer')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, name = ''} end, 'name must be a string')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, name = string.rep('n', 64)} end,
           'name must be a string of 1 to 63 bytes')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, true, 5} end, '4 positional settings')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, decay_rate = 0.2} end,
           'decay_rate given both by position and by name')
  t.raises(function() S.ExponentialDecay(0.1) end, 'expected a table of settings, got number')
  t.raises(function() S.PiecewiseConstantDecay{{1, 2}, {1, 2}} end,
           'values must hold one more number than boundaries', '2 boundaries and 2 values')
  t.raises(function() S.PiecewiseConstantDecay{{2, 1}, {1, 2, 3}} end, 'increasing')
  t.raises(function() S.PiecewiseConstantDecay{{1}, {1, 'x'}} end, 'values[2] must be a number')
  t.raises(function() S.PiecewiseConstantDecay{values = {1}} end, 'boundaries must be a list')
  t.raises(function() S.CosineDecay{0.1, 10, alpha = 2} end, 'alpha must be a number >= 0 and <= 1')
  t.raises(function() S.CosineDecayRestarts{0.1, 10, t_mul = 0.5} end,
           't_mul must be a number >= 1, got 0.5')
  t.raises(function() S.ExponentialDecay{0 / 0, 10, 0.5} end, 'initial_learning_rate',
           'got NaN')
  t.raises(function() S.ExponentialDecay{'0.1', 10, 0.5} end, 'must be a number, got string')
  t.raises(function() S.PiecewiseConstantDecay{{'5'}, {1, 2}} end, 'boundaries[1] must be a number')
  t.raises(function() S.PiecewiseConstantDecay{{0 / 0}, {1, 2}} end, 'boundary 1 is not a finite number')
  t.raises(function() S.ExponentialDecay{0.1, 10, 0.5, schedule = 'CosineDecay'} end,
           "'schedule' is not a setting")
  t.raises(function() S.CosineDecay{0.1, 10}(-1) end, 'the step must be a finite number >= 0')
  t.raises(function() S.CosineDecay{0.1, 10}() end, 'call a schedule with the step', 'got nil')
  t.raises(function() S.CosineDecay{0.1, 10}('3') end, 'call a schedule with the step', 'got string')
  t.raises(function()
    nn.Sequential{L.Dense{1, input_shape = {1}}}:compile{
      optimizer = nn.optimizers.Adam{learning_rate = {schedule = 'Sometimes'}}, loss = 'mse'}
  end, 'nn.optimizers.Adam', 'expected a learning-rate schedule')
end)

t.finish()
