-- GaussianNoise, GaussianDropout, AlphaDropout and ActivityRegularization from Lua: Keras' arguments,
-- noise only in training, its spread, seeds, the penalty and the gradient of a step worked
-- by hand, training on cpu = emulated, model files and errors.
local t = require 'harness'
local L = nn.layers

t.test('GaussianNoise adds noise of the stddev asked, only in training', function()
  local g = L.GaussianNoise{0.2}
  t.eq(g.name:match('^gaussian_noise'), 'gaussian_noise', 'name')
  t.near(g.stddev, 0.2, 1e-7, 'stddev')
  local x = nn.full({200, 100}, 5)
  t.eq(g(x), x, 'inference passes through')
  local noise = g(x, {training = true}) - 5
  -- 20,000 draws: the mean's standard error is 0.0014, the stddev's 0.001.
  t.truthy(math.abs(noise:mean()) < 0.007, 'mean ' .. noise:mean())
  t.truthy(math.abs(noise:std() - 0.2) < 0.005, 'stddev ' .. noise:std())
  local again = g(x, {training = true}) - 5
  t.truthy((again - noise):max() > 0.1, 'each call draws fresh noise')
end)

t.test('GaussianDropout multiplies by noise of mean 1 and stddev sqrt(rate/(1-rate))', function()
  local d = L.GaussianDropout{0.5}
  local x = nn.full({200, 100}, 2)
  t.eq(d(x), x, 'inference passes through')
  local factor = d(x, {training = true}) / 2
  t.truthy(math.abs(factor:mean() - 1) < 0.03, 'mean ' .. factor:mean())
  t.truthy(math.abs(factor:std() - 1) < 0.03, 'stddev ' .. factor:std() .. ', expected 1')
end)

t.test('AlphaDropout keeps the mean and variance of standard normal inputs', function()
  nn.random.seed(8)
  local d = L.AlphaDropout{0.3, seed = 4}
  local x = nn.random.randn(200, 100)
  t.eq(d(x), x, 'inference passes through')
  local y = d(x, {training = true})
  t.truthy(math.abs(y:mean()) < 0.03, 'mean ' .. y:mean())
  t.truthy(math.abs(y:std() - 1) < 0.03, 'stddev ' .. y:std())
  -- Dropped inputs all take one value, a·alpha_p + b = -1.05955 at rate 0.3.
  local low = (y - (-1.059548)):abs():lt(1e-4):astype('float32'):mean()
  t.truthy(math.abs(low - 0.3) < 0.02, 'fraction at the dropped value ' .. low)
end)

t.test('a seed pins the noise: two layers of one seed agree call by call', function()
  local a, b = L.GaussianNoise{0.5, seed = 11}, L.GaussianNoise{0.5, seed = 11}
  local x = nn.zeros(3, 4)
  local a1, b1 = a(x, {training = true}), b(x, {training = true})
  t.eq(a1, b1, 'first calls')
  t.eq(a(x, {training = true}), b(x, {training = true}), 'second calls')
  t.truthy((a1 - a(x, {training = true})):max() > 0, 'later calls differ from the first')
end)

t.test("GaussianDropout's gradient is the output's times the same noise", function()
  -- y = w · (x ⊙ noise) with x = 1 and w = 1: the noise is y itself, and under mse
  -- against 0 the gradient of w is 2y · (x ⊙ noise) = 2 y². SGD at 0.1 gives
  -- w' = 1 - 0.2 y², whatever the noise was.
  nn.random.seed(5)
  local first = L.Dense{1, use_bias = false, kernel_initializer = 'ones', input_shape = {1}}
  local last = L.Dense{1, use_bias = false, kernel_initializer = 'ones'}
  local model = nn.Sequential{first, L.GaussianDropout{0.3, seed = 2}, last}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  local loss = model:train_on_batch(nn.tensor{{1}}, nn.tensor{{0}})
  local y = math.sqrt(loss)
  t.truthy(math.abs(y - 1) > 1e-3, 'noise was drawn: y = ' .. y)
  t.near(last:get_weights()[1], nn.tensor{{1 - 0.2 * y * y}}, 1e-6, 'last kernel')
  t.near(first:get_weights()[1], nn.tensor{{1 - 0.2 * y * y}}, 1e-6,
         'first kernel: the gradient went back through the noise')
end)

t.test('ActivityRegularization adds its penalty to the loss and its gradient', function()
  -- x = 1 through ones kernels: h = [1, 1], y = 2. mse = 4, penalty 0.5·2 + 0.25·2 = 1.5.
  -- dL/dh = 2y·1 + 0.5·sign(h) + 2·0.25·h = 5 for each unit, so SGD at 0.1 takes the
  -- first kernel from 1 to 0.5; the last kernel's gradient is 2y·h = 4, to 0.6.
  local first = L.Dense{2, use_bias = false, kernel_initializer = 'ones', input_shape = {1}}
  local last = L.Dense{1, use_bias = false, kernel_initializer = 'ones'}
  local a = L.ActivityRegularization{l1 = 0.5, l2 = 0.25}
  t.eq(a.name:match('^activity_regularization'), 'activity_regularization', 'name')
  t.eq(a(nn.tensor{{-1, 2}}), nn.tensor{{-1, 2}}, 'passes its input through')
  local model = nn.Sequential{first, a, last}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  local x, y = nn.tensor{{1}}, nn.tensor{{0}}
  t.near(model:evaluate(x, y, {verbose = 0}), 5.5, 1e-6, 'evaluate counts the penalty')
  t.near(model:train_on_batch(x, y), 5.5, 1e-6, 'so does training')
  t.near(first:get_weights()[1], nn.tensor{{0.5, 0.5}}, 1e-6, 'first kernel')
  t.near(last:get_weights()[1], nn.tensor{{0.6}, {0.6}}, 1e-6, 'last kernel')
  local defaults = L.ActivityRegularization()
  t.eq(defaults.l1, 0, 'l1 defaults to 0')
  t.eq(defaults.l2, 0, 'l2 defaults to 0')
end)

t.test('trained the same on cpu and emulated, saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-noise-layers'
  nn.io.make_directory(directory)
  local x = nn.random.randn(32, 6)
  local rows = {}
  for i = 1, 32 do rows[i] = {x[i][1] + x[i][2], x[i][3] - x[i][4]} end
  local y = nn.tensor(rows)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(17)
    local model = nn.Sequential{L.GaussianNoise{0.1, input_shape = {6}}, L.Dense{8, activation = 'tanh'},
                                L.GaussianDropout{0.2}, L.ActivityRegularization{l2 = 1e-3},
                                L.AlphaDropout{0.1}, L.Dense{2}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.01}, loss = 'mse'}
    local history = model:fit(x, y, {epochs = 10, batch_size = 8, verbose = 0})
    t.truthy(history.history.loss[10] < 0.5 * history.history.loss[1], 'loss goes down')
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/noise.nnsh')
      local copy = nn.models.load_model(directory .. '/noise.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.near(copy.layers[1].stddev, 0.1, 1e-7, 'stddev kept')
      t.near(copy.layers[3].rate, 0.2, 1e-7, 'rate kept')
      t.near(copy.layers[4].l2, 1e-3, 1e-9, 'l2 kept')
      t.near(copy.layers[5].rate, 0.1, 1e-7, 'alpha dropout rate kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments raise errors that say what is allowed', function()
  t.raises(function() L.GaussianNoise{} end, 'missing required argument', 'stddev')
  t.raises(function() L.GaussianNoise{1.5} end, 'stddev must be in [0, 1]', '1.5')
  t.raises(function() L.GaussianNoise{'a'} end, 'stddev must be a number', 'string')
  t.raises(function() L.GaussianNoise{0.1, sd = 1} end, "unknown argument 'sd'", 'stddev')
  t.raises(function() L.GaussianDropout{} end, 'missing required argument', 'rate')
  t.raises(function() L.GaussianDropout{1} end, 'rate must be in [0, 1)')
  t.raises(function() L.GaussianDropout{0.5, seed = -1} end, 'seed')
  t.raises(function() L.AlphaDropout{} end, 'missing required argument', 'rate')
  t.raises(function() L.AlphaDropout{1} end, 'rate must be in [0, 1)')
  t.raises(function() L.AlphaDropout{0.5, noise_shape = {2}}(nn.ones(2, 3, 4)) end,
           'noise_shape', '1 entries')
  t.raises(function() L.ActivityRegularization{l1 = -1} end, 'l1', '-1')
  t.raises(function() L.ActivityRegularization{l2 = 'big'} end, 'l2 must be a number')
  t.raises(function() L.ActivityRegularization{l3 = 1} end, "unknown argument 'l3'", 'l1, l2')
end)

t.finish()
