-- Every layer example of SPEC §2 (the seed's examples, in Lua), with exact results.
local t = require 'harness'
local L = nn.layers

t.test("Conv2D{32, {3,3}, padding='same', activation='relu'} on (2,28,28,3)", function()
  local x = nn.random.randn(2, 28, 28, 3)
  local conv = L.Conv2D{32, {3, 3}, padding = 'same', activation = 'relu'}
  local y = conv(x)
  t.eq(tostring(y.shape), '(2, 28, 28, 32)')
  t.eq(tostring(conv.kernel.shape), '(3, 3, 3, 32)')
  t.eq(tostring(conv.bias.shape), '(32,)')
  t.truthy(y:min() >= 0, 'relu output is never negative')
end)

t.test("Conv2D{16, 3, strides=2} gives (2,13,13,16) with 'valid' and (2,14,14,16) with 'same'", function()
  local x = nn.random.randn(2, 28, 28, 3)
  t.eq(tostring(L.Conv2D{16, 3, strides = 2, padding = 'valid'}(x).shape), '(2, 13, 13, 16)')
  t.eq(tostring(L.Conv2D{16, 3, strides = 2, padding = 'same'}(x).shape), '(2, 14, 14, 16)')
end)

local x64 = nn.arange(64):reshape(1, 8, 8, 1)

local function grid(tensor)
  local rows = {}
  local values = tensor:reshape(tensor.shape[2], tensor.shape[3]):tolist()
  for i, row in ipairs(values) do
    local cells = {}
    for j, v in ipairs(row) do cells[j] = string.format('%d', v) end
    rows[i] = table.concat(cells, ' ')
  end
  return table.concat(rows, ' / ')
end

t.test('MaxPool2D{{2,2}} on arange(64) (1,8,8,1)', function()
  local y = L.MaxPool2D{{2, 2}}(x64)
  t.eq(tostring(y.shape), '(1, 4, 4, 1)')
  t.eq(grid(y), '9 11 13 15 / 25 27 29 31 / 41 43 45 47 / 57 59 61 63')
end)

t.test("MaxPool2D{2, strides=1, padding='same'} keeps (1,8,8,1)", function()
  local y = L.MaxPool2D{2, strides = 1, padding = 'same'}(x64)
  t.eq(tostring(y.shape), '(1, 8, 8, 1)')
  t.eq(y[1][1][1][1], 9.0)
  t.eq(y[1][8][8][1], 63.0, 'the padded corner takes the only real value')
end)

t.test('MaxPool2D{4, strides=4} gives (1,2,2,1) holding 27 31 / 59 63', function()
  local y = L.MaxPool2D{4, strides = 4}(x64)
  t.eq(tostring(y.shape), '(1, 2, 2, 1)')
  t.eq(grid(y), '27 31 / 59 63')
end)

t.test('MaxPooling2D is the same class as MaxPool2D', function()
  t.eq(L.MaxPooling2D{2}.class_name, 'MaxPooling2D')
  t.eq(L.MaxPool2D{2}.class_name, 'MaxPooling2D')
end)

t.test('Flatten()(randn(2,4,4,3)) gives (2, 48)', function()
  local y = L.Flatten()(nn.random.randn(2, 4, 4, 3))
  t.eq(tostring(y.shape), '(2, 48)')
end)

t.test("Dense{10, activation='relu'} on (3,5): (3,10), kernel (5,10), bias (10,)", function()
  local d = L.Dense{10, activation = 'relu'}
  t.eq(tostring(d(nn.random.randn(3, 5)).shape), '(3, 10)')
  t.eq(tostring(d.kernel.shape), '(5, 10)')
  t.eq(tostring(d.bias.shape), '(10,)')
  t.eq(d.units, 10)
  t.eq(d.activation, 'relu')
end)

t.test('a weight switched off reads nil, as Keras reads None; one the class lacks is an error', function()
  local d = L.Dense{4, use_bias = false}
  d(nn.ones(2, 3))
  t.eq(d.bias, nil, 'Dense{use_bias=false}.bias')
  t.eq(tostring(d.kernel.shape), '(3, 4)', 'the kernel is there')
  local b = L.BatchNormalization{center = false, scale = false}
  b(nn.ones(2, 3))
  t.eq(b.beta, nil, 'center=false: no beta')
  t.eq(b.gamma, nil, 'scale=false: no gamma')
  t.eq(tostring(b.moving_mean.shape), '(3,)', 'the statistics are there')
  local c = L.Conv2D{2, 3, use_bias = false}
  c(nn.ones(1, 5, 5, 1))
  t.eq(c.bias, nil, 'Conv2D{use_bias=false}.bias')
  t.raises(function() return c.gamma end, "(Conv2D) has no weight called 'gamma'")
  t.raises(function() return L.Dense{2, use_bias = false}.bias end, 'has no bias yet')
end)

t.test('Dropout{0.5} in training zeroes about half and doubles the rest; inference is identity', function()
  nn.random.seed(11)
  local x = nn.ones(100, 100)
  local drop = L.Dropout{0.5}
  local y = drop(x, {training = true})
  local zeros = y:eq(0):sum()
  local twos = y:eq(2):sum()
  t.eq(zeros + twos, 10000, 'every value is 0 or 2')
  t.truthy(zeros > 4700 and zeros < 5300, 'about half dropped: ' .. zeros)
  t.truthy(drop(x, {training = false}) == x, 'identity in inference')
  t.truthy(drop(x) == x, 'inference is the default')
end)

t.test('the global learning phase switch turns training on for direct calls', function()
  local drop = L.Dropout{0.5}
  nn.set_learning_phase(1)
  local y = drop(nn.ones(50, 50))
  nn.set_learning_phase(0)
  t.truthy(y:eq(0):sum() > 0, 'training mode dropped values')
  t.truthy(drop(nn.ones(50, 50)):eq(0):sum() == 0, 'back to inference')
  local model = nn.Sequential{L.Dropout{0.5, input_shape = {50}}}
  nn.set_learning_phase(1)
  y = model(nn.ones(50, 50))
  local kept = model(nn.ones(50, 50), {training = false})
  nn.set_learning_phase(0)
  t.truthy(y:eq(0):sum() > 0, 'a model called directly follows the phase too')
  t.truthy(kept:eq(0):sum() == 0, 'training=false still wins')
  t.truthy(model(nn.ones(50, 50)):eq(0):sum() == 0, 'and inference after')
end)

t.test('two Dropout layers of one seed give the same masks, call by call, as in Keras', function()
  local a, b = L.Dropout{0.5, seed = 3}, L.Dropout{0.5, seed = 3}
  local x = nn.ones(4, 16)
  local first_a, first_b = a(x, {training = true}), b(x, {training = true})
  nn.random.uniform(8) -- other draws in between change nothing for a seeded layer
  local second_a, second_b = a(x, {training = true}), b(x, {training = true})
  t.eq(first_a:eq(first_b):min(), 1, 'the first masks agree')
  t.eq(second_a:eq(second_b):min(), 1, 'the second masks agree')
  t.eq(first_a:eq(second_a):min(), 0, 'each call draws a new mask')
  local unseeded_a, unseeded_b = L.Dropout{0.5}, L.Dropout{0.5}
  t.eq(unseeded_a(x, {training = true}):eq(unseeded_b(x, {training = true})):min(), 0,
       'without a seed the masks differ')
end)

t.test('BatchNormalization in training normalises each channel; inference uses moving stats', function()
  nn.random.seed(5)
  local x = nn.random.randn(4, 4, 4, 3) * 3 + 2
  local bn = L.BatchNormalization()
  local y = bn(x, {training = true})
  t.eq(tostring(y.shape), '(4, 4, 4, 3)')
  local per_channel = y:reshape(-1, 3)
  local mean, std = per_channel:mean(0), per_channel:std(0)
  for c = 1, 3 do
    t.near(mean[c], 0, 1e-5, 'mean of channel ' .. c)
    t.near(std[c] ^ 2, 1, 2e-3, 'variance of channel ' .. c)
  end
  t.eq(bn:count_params(), 12)
  t.eq(tostring(bn.moving_mean.shape), '(3,)')
  -- one training step moved the moving mean 1% of the way to the batch mean
  local batch_mean = x:reshape(-1, 3):mean(0)
  t.near(bn.moving_mean[1], 0.01 * batch_mean[1], 1e-5, 'moving mean after one step')
  local inference = bn(x, {training = false})
  t.truthy(math.abs(inference:mean() - y:mean()) > 0.1, 'inference differs from training')
end)

t.test('Flatten of a (batch,) tensor gives (batch, 1), as in Keras', function()
  local y = L.Flatten()(nn.tensor{1, 2, 3})
  t.eq(tostring(y.shape), '(3, 1)', 'shape')
  t.eq(y:tolist()[3][1], 3, 'values kept in order')
end)

t.test("padding and data_format are read in any case, as Keras lowercases them", function()
  t.eq(tostring(L.Conv2D{1, 3, padding = 'SAME'}(nn.zeros(1, 5, 5, 1)).shape), '(1, 5, 5, 1)')
  t.eq(tostring(L.MaxPool2D{2, padding = 'Same'}(nn.zeros(1, 5, 5, 1)).shape), '(1, 3, 3, 1)')
  t.eq(tostring(L.Conv2D{1, 3, data_format = 'Channels_First'}(nn.zeros(1, 2, 5, 5)).shape),
       '(1, 1, 3, 3)')
  t.raises(function() L.Conv2D{1, 3, padding = 'full'} end, "padding must be one of", "'full'")
end)

t.test("hard_sigmoid is Keras 3's x/6 + 0.5, clipped to [0, 1]", function()
  local y = L.Activation{'hard_sigmoid'}(nn.tensor{{-4, -3, -1.5, 0, 1, 3, 4}})
  local expected = {0, 0, 0.25, 0.5, 0.5 + 1 / 6, 1, 1}
  for i, value in ipairs(expected) do
    t.near(y:tolist()[1][i], value, 1e-6, 'hard_sigmoid at entry ' .. i)
  end
end)

t.test('printing the class name of each layer of a Sequential model (seed Flatten example)', function()
  local model = nn.Sequential{
    L.Conv2D{32, {3, 3}, activation = 'relu', input_shape = {28, 28, 1}},
    L.MaxPooling2D{{2, 2}},
    L.Conv2D{64, {3, 3}, activation = 'relu'},
    L.MaxPooling2D{{2, 2}},
    L.Flatten(),
    L.Dense{64, activation = 'relu'},
    L.Dense{10, activation = 'softmax'},
  }
  local lines = {}
  for _, layer in ipairs(model.layers) do
    lines[#lines + 1] = layer.class_name .. ': ' .. tostring(layer.input_shape) .. ' -> ' ..
                        tostring(layer.output_shape)
  end
  t.eq(lines[5], 'Flatten: (None, 5, 5, 64) -> (None, 1600)')
  t.eq(lines[1], 'Conv2D: (None, 28, 28, 1) -> (None, 26, 26, 32)')
  t.eq(#lines, 7)
end)

t.finish()
