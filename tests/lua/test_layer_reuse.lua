-- A built layer called on its own on another input shape: it runs whenever its weights
-- fit (pooling on another image size, Dense on more leading axes, an LSTM on more steps),
-- with the same weights and values, and keeps the shapes of its first build; a shape its
-- weights cannot take is an error naming the axis, the built shape and the one received.
-- Inside a model nothing changes.
local t = require 'harness'
local L = nn.layers

-- Every value of two tensors of one shape, exactly.
local function same_values(actual, expected, what)
  t.eq(tostring(actual.shape), tostring(expected.shape), what .. ': shape')
  t.eq((actual - expected):abs():max(), 0, what .. ': largest difference')
end

-- The layer's weights as copies, to compare after calls.
local function weights_of(layer)
  local copies = {}
  for i, w in ipairs(layer:get_weights()) do copies[i] = w:clone() end
  return copies
end

local function weights_unchanged(layer, before, what)
  local after = layer:get_weights()
  t.eq(#after, #before, what .. ': number of weights')
  for i = 1, #before do same_values(after[i], before[i], what .. ': weight ' .. i) end
end

-- A (1, h, w, 1) image holding 0, 1, 2, ... row by row.
local function arange_image(h, w)
  return nn.arange(h * w):reshape(1, h, w, 1):astype('float32')
end

t.test('MaxPooling2D on an 8x8 then a 6x6 image gives each one\'s maxima', function()
  local pool = L.MaxPooling2D{2}
  local first = pool(arange_image(8, 8))
  t.eq(tostring(first.shape), '(1, 4, 4, 1)', '8x8')
  same_values(first, nn.tensor{9, 11, 13, 15, 25, 27, 29, 31, 41, 43, 45, 47, 57, 59, 61, 63}
                       :reshape(1, 4, 4, 1), '8x8 maxima')
  local second = pool(arange_image(6, 6))
  t.eq(tostring(second.shape), '(1, 3, 3, 1)', '6x6')
  same_values(second, nn.tensor{7, 9, 11, 19, 21, 23, 31, 33, 35}:reshape(1, 3, 3, 1),
              '6x6 maxima')
  -- In training it keeps its winners for the call's size, not the built one's.
  same_values(pool(arange_image(6, 6), {training = true}), second, '6x6 in training')
  local odd = pool(nn.arange(2 * 5 * 7 * 3):reshape(2, 5, 7, 3):astype('float32'))
  t.eq(tostring(odd.shape), '(2, 2, 3, 3)', 'a batch of 2 of 5x7 with 3 channels')
  t.eq(odd[2][2][3][3], 2 * 5 * 7 * 3 - 1 - 3 * (7 + 1), 'the last window\'s maximum')
  -- The recorded shapes stay those of the first build, as Keras records them.
  t.eq(tostring(pool.input_shape), '(None, 8, 8, 1)', 'input_shape kept')
  t.eq(tostring(pool.output_shape), '(None, 4, 4, 1)', 'output_shape kept')
  t.eq(pool.explanation, 'height: floor((8 - 2) / 2) + 1 = 4; width: floor((8 - 2) / 2) + 1 '
                         .. '= 4; channels: unchanged = 1', 'explanation kept')
  same_values(pool(arange_image(8, 8)), first, 'the built size again')
end)

t.test('layers without weights take any shape with the axes they need', function()
  local average = L.AveragePooling2D{2, data_format = 'channels_first'}
  t.eq(tostring(average(nn.ones(1, 2, 4, 4)).shape), '(1, 2, 2, 2)', 'first')
  same_values(average(nn.arange(12):reshape(1, 1, 2, 6):astype('float32')),
              nn.tensor{3.5, 5.5, 7.5}:reshape(1, 1, 1, 3), 'channels_first means')
  local flatten = L.Flatten()
  t.eq(tostring(flatten(nn.ones(2, 4, 4, 3)).shape), '(2, 48)', 'Flatten first')
  local x = nn.arange(30):reshape(3, 2, 5):astype('float32')
  same_values(flatten(x), nn.arange(30):reshape(3, 10):astype('float32'), 'Flatten (3, 2, 5)')
  local relu = L.Activation{'relu'}
  t.eq(tostring(relu(nn.ones(2, 3)).shape), '(2, 3)', 'Activation first')
  local signed = nn.arange(24):reshape(2, 3, 4):astype('float32') - 12
  same_values(relu(signed), signed:relu(), 'Activation on (2, 3, 4)')
  local dropout = L.Dropout{0.5}
  dropout(nn.ones(2, 4), {training = true})
  local dropped = dropout(nn.ones(3, 50, 6), {training = true})
  t.eq(tostring(dropped.shape), '(3, 50, 6)', 'Dropout on (3, 50, 6)')
  local zeros, twos = (dropped:eq(0)):sum(), (dropped:eq(2)):sum()
  t.eq(zeros + twos, 900, 'each value dropped or scaled by 2')
  t.truthy(zeros > 300 and zeros < 600, 'about half dropped, got ' .. zeros)
  same_values(dropout(nn.ones(2, 7)), nn.ones(2, 7), 'Dropout outside training')
  local global = L.GlobalMaxPooling2D()
  global(nn.ones(1, 3, 3, 2))
  same_values(global(arange_image(5, 4)), nn.tensor{{19}}, 'GlobalMaxPooling2D on 5x4')
  local softmax = L.Softmax()
  softmax(nn.ones(2, 3))
  same_values(softmax(nn.zeros(2, 2, 4)), nn.ones(2, 2, 4) * 0.25, 'Softmax on another rank')
end)

-- The conv by hand: out[b][i][j][f] = bias[f] + sum over the window and channels.
local function conv_by_hand(x, kernel, bias)
  local b, h, w, c = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
  local kh, kw, filters = kernel.shape[1], kernel.shape[2], kernel.shape[4]
  local rows = {}
  for n = 1, b do
    rows[n] = {}
    for i = 1, h - kh + 1 do
      rows[n][i] = {}
      for j = 1, w - kw + 1 do
        rows[n][i][j] = {}
        for f = 1, filters do
          local sum = bias[f]
          for di = 1, kh do
            for dj = 1, kw do
              for ch = 1, c do
                sum = sum + x[n][i + di - 1][j + dj - 1][ch] * kernel[di][dj][ch][f]
              end
            end
          end
          rows[n][i][j][f] = sum
        end
      end
    end
  end
  return nn.tensor(rows)
end

t.test('Conv2D on another height and width with the same channels', function()
  local conv = L.Conv2D{1, 2}
  conv(nn.ones(1, 3, 3, 1))
  conv:set_weights{nn.tensor{1, 2, 3, 4}:reshape(2, 2, 1, 1), nn.tensor{0.5}}
  -- Window (i, j): x[i][j] + 2 x[i][j+1] + 3 x[i+1][j] + 4 x[i+1][j+1] + 0.5; on the
  -- arange image of width W that is 10 (iW + j) + 7W + 6.5 (i, j from 0).
  local small = conv(arange_image(3, 3))
  same_values(small, nn.tensor{27.5, 37.5, 57.5, 67.5}:reshape(1, 2, 2, 1), '3x3 by hand')
  local wide = conv(arange_image(5, 6))
  t.eq(tostring(wide.shape), '(1, 4, 5, 1)', '5x6')
  t.eq(wide[1][1][1][1], 48.5, 'first window of 5x6')
  t.eq(wide[1][4][5][1], 10 * (3 * 6 + 4) + 48.5, 'last window of 5x6')
  same_values(wide, conv_by_hand(arange_image(5, 6), conv.kernel, {0.5}), '5x6 by hand')

  nn.random.seed(7)
  local rgb = L.Conv2D{2, 3}
  t.eq(tostring(rgb(nn.random.randn(1, 8, 8, 3)).shape), '(1, 6, 6, 2)', '8x8')
  local x = nn.random.randn(2, 5, 7, 3)
  local before = weights_of(rgb)
  local y = rgb(x)
  t.eq(tostring(y.shape), '(2, 3, 5, 2)', 'a batch of 5x7')
  t.near(y, conv_by_hand(x, rgb.kernel, rgb.bias:tolist()), 1e-4, '5x7 by hand')
  weights_unchanged(rgb, before, 'Conv2D')
  t.eq(tostring(rgb.input_shape), '(None, 8, 8, 3)', 'input_shape kept')
  t.eq(tostring(rgb.kernel.shape), '(3, 3, 3, 2)', 'kernel kept')

  local strided = L.Conv2D{4, 3, strides = 2, padding = 'same', data_format = 'channels_first'}
  t.eq(tostring(strided(nn.ones(1, 2, 9, 9)).shape), '(1, 4, 5, 5)', 'channels_first 9x9')
  t.eq(tostring(strided(nn.ones(3, 2, 4, 11)).shape), '(3, 4, 2, 6)', 'channels_first 4x11')
  local depthwise = L.DepthwiseConv2D{3, depth_multiplier = 2}
  t.eq(tostring(depthwise(nn.ones(1, 5, 5, 3)).shape), '(1, 3, 3, 6)', 'depthwise 5x5')
  t.eq(tostring(depthwise(nn.ones(1, 4, 6, 3)).shape), '(1, 2, 4, 6)', 'depthwise 4x6')
  t.raises(function() depthwise(nn.ones(1, 5, 5, 4)) end,
           'expected axis -1 of input shape to have value 3', '(1, 5, 5, 4)')
  t.eq(tostring(depthwise(nn.ones(1, 5, 5, 3)).shape), '(1, 3, 3, 6)', 'depthwise after')
end)

t.test('the same Dense gives x @ kernel + bias on (2, 5) and (2, 4, 5)', function()
  nn.random.seed(11)
  local dense = L.Dense{3}
  local x = nn.random.randn(2, 5)
  local y = dense(x)
  t.eq(tostring(y.shape), '(2, 3)', '(2, 5)')
  t.near(y, nn.matmul(x, dense.kernel) + dense.bias, 1e-5, 'x @ kernel + bias')
  local before, kernel = weights_of(dense), dense.kernel
  local deep = nn.random.randn(2, 4, 5)
  local z = dense(deep)
  t.eq(tostring(z.shape), '(2, 4, 3)', '(2, 4, 5)')
  t.near(z, (nn.matmul(deep:reshape(8, 5), dense.kernel) + dense.bias):reshape(2, 4, 3), 1e-5,
         'each row @ kernel + bias')
  weights_unchanged(dense, before, 'Dense')
  t.eq(tostring(dense.input_shape), '(None, 5)', 'input_shape kept')
  t.eq(tostring(dense.output_shape), '(None, 3)', 'output_shape kept')
  -- The kernel fetched before is still the layer's own: writing it writes the layer.
  kernel:fill(0)
  same_values(dense(deep), dense.bias:reshape(1, 1, 3) + nn.zeros(2, 4, 3), 'kernel zeroed')
  same_values(dense(x), dense.bias:reshape(1, 3) + nn.zeros(2, 3), 'the built shape')
end)

-- out[b][t][u] of a (batch, steps, units) tensor, as a table.
local function step_rows(y, steps)
  local rows = {}
  for b = 1, y.shape[1] do
    rows[b] = {}
    for s = 1, steps do rows[b][s] = y[b][s]:tolist() end
  end
  return nn.tensor(rows)
end

t.test('LSTM, GRU and SimpleRNN on another number of steps', function()
  for _, kind in ipairs{'LSTM', 'GRU', 'SimpleRNN'} do
    nn.random.seed(5)
    local sequences = L[kind]{4, return_sequences = true}
    local long = nn.random.randn(2, 7, 3)
    local short = step_rows(long, 5)
    local first = sequences(short)
    t.eq(tostring(first.shape), '(2, 5, 4)', kind .. ' on 5 steps')
    local before = weights_of(sequences)
    local all = sequences(long)
    t.eq(tostring(all.shape), '(2, 7, 4)', kind .. ' on 7 steps')
    -- A step's state depends only on the steps before it.
    t.near(step_rows(all, 5), first, 1e-6, kind .. ': the first 5 steps of 7')
    weights_unchanged(sequences, before, kind)
    t.eq(tostring(sequences.input_shape), '(None, 5, 3)', kind .. ': input_shape kept')
    local last = L[kind]{4}
    t.eq(tostring(last(nn.ones(2, 5, 3)).shape), '(2, 4)', kind .. ' last state, 5 steps')
    t.eq(tostring(last(nn.ones(3, 9, 3)).shape), '(3, 4)', kind .. ' last state, 9 steps')
    t.raises(function() last(nn.ones(2, 7, 2)) end, kind,
             'expected axis -1 of input shape to have value 3',
             'received input with shape (2, 7, 2)', '(None, 5, 3)')
  end
  local both = L.Bidirectional{L.LSTM{2, return_sequences = true}}
  t.eq(tostring(both(nn.ones(1, 3, 2)).shape), '(1, 3, 4)', 'Bidirectional on 3 steps')
  t.eq(tostring(both(nn.ones(1, 6, 2)).shape), '(1, 6, 4)', 'Bidirectional on 6 steps')
  local each = L.TimeDistributed{L.Dense{2}}
  t.eq(tostring(each(nn.ones(1, 3, 4)).shape), '(1, 3, 2)', 'TimeDistributed on 3 steps')
  local before = weights_of(each)
  t.eq(tostring(each(nn.ones(2, 8, 4)).shape), '(2, 8, 2)', 'TimeDistributed on 8 steps')
  weights_unchanged(each, before, 'TimeDistributed')
  t.raises(function() each(nn.ones(1, 3, 5)) end, 'expected axis -1 of input shape to have '
           .. 'value 4')
end)

t.test('Embedding on other sequence lengths looks up the same table', function()
  nn.random.seed(3)
  local embedding = L.Embedding{10, 4}
  t.eq(tostring(embedding(nn.zeros(2, 5)).shape), '(2, 5, 4)', '5 ids')
  local ids = nn.tensor{{1, 9, 0, 3, 3, 7, 2, 8, 5}}
  local before = weights_of(embedding)
  local vectors = embedding(ids)
  t.eq(tostring(vectors.shape), '(1, 9, 4)', '9 ids')
  local table_rows = embedding.embeddings
  for s, id in ipairs(ids[1]:tolist()) do
    same_values(vectors[1][s], table_rows[id + 1], 'row of id ' .. id)
  end
  weights_unchanged(embedding, before, 'Embedding')
  t.raises(function() embedding(nn.tensor{{1, 10}}) end, 'not a valid index', '[0, 10)')
end)

t.test('shapes the weights cannot take are errors naming the axis and both shapes', function()
  local conv = L.Conv2D{2, 3}
  conv(nn.ones(1, 8, 8, 3))
  local before = weights_of(conv)
  t.raises(function() conv(nn.ones(1, 8, 8, 4)) end, 'Conv2D "conv2d',
           'Input 0 of layer "conv2d', 'is incompatible with the layer: expected axis -1 of '
           .. 'input shape to have value 3, but received input with shape (1, 8, 8, 4)',
           'built for input shape (None, 8, 8, 3)', 'weight "kernel" of shape (3, 3, 3, 2)')
  t.raises(function() conv(nn.ones(1, 6, 10, 1)) end, 'axis -1', 'value 3', '(1, 6, 10, 1)')
  local first = L.Conv2D{2, 3, data_format = 'channels_first'}
  first(nn.ones(1, 3, 8, 8))
  t.raises(function() first(nn.ones(1, 2, 8, 8)) end,
           'expected axis 1 of input shape to have value 3', '(1, 2, 8, 8)')
  local dense = L.Dense{3}
  dense(nn.ones(2, 5))
  t.raises(function() dense(nn.ones(2, 4)) end,
           'Input 0 of layer "dense', 'expected axis -1 of input shape to have value 5, but '
           .. 'received input with shape (2, 4)', '(None, 5)')
  t.raises(function() dense(nn.ones(2, 3, 6)) end, 'axis -1', 'value 5', '(2, 3, 6)')
  -- Wrong number of axes: the layer's own rule, with the tensor's shape.
  local pool = L.MaxPooling2D{2}
  pool(nn.ones(1, 8, 8, 1))
  t.raises(function() pool(nn.ones(1, 6, 6)) end, 'expected ndim=4',
           'found ndim=3', 'Full shape received: (1, 6, 6)')
  t.raises(function() conv(nn.ones(2, 8, 8, 3, 1)) end, 'expected ndim=4', 'found ndim=5')
  -- An axis of 1 for the channels is advice only where the built layer has one channel.
  local message = t.raises(function() conv(nn.ones(2, 8, 8)) end, 'found ndim=3')
  t.eq(message:find('reshape', 1, true), nil, 'no channels advice for 3 channels')
  local gray = L.Conv2D{2, 3}
  gray(nn.ones(1, 8, 8, 1))
  t.raises(function() gray(nn.ones(2, 8, 8)) end, 'found ndim=3', 'x:reshape(2, 8, 8, 1)')
  local lstm = L.LSTM{2}
  lstm(nn.ones(1, 3, 2))
  t.raises(function() lstm(nn.ones(1, 6)) end, 'expected ndim=3', 'found ndim=2')
  -- A size its shape rule refuses: the rule's own message.
  t.raises(function() pool(nn.ones(1, 1, 5, 1)) end, 'dimensions in the output is <= 0',
           '(None, 1, 5, 1)')
  -- After the errors each layer is as it was: same weights, shapes, results.
  weights_unchanged(conv, before, 'Conv2D after errors')
  t.eq(tostring(conv.input_shape), '(None, 8, 8, 3)', 'input_shape after errors')
  t.eq(tostring(conv.output_shape), '(None, 6, 6, 2)', 'output_shape after errors')
  t.eq(tostring(conv(nn.ones(1, 8, 8, 3)).shape), '(1, 6, 6, 2)', 'the built shape')
  t.eq(tostring(pool(nn.ones(1, 6, 6, 1)).shape), '(1, 3, 3, 1)', 'another size still')
end)

t.test('inside a model nothing changes', function()
  nn.random.seed(2)
  local conv, pool = L.Conv2D{2, 3, input_shape = {8, 8, 1}}, L.MaxPooling2D{2}
  local model = nn.Sequential{conv, pool, L.Flatten(), L.Dense{3}}
  local x = nn.random.randn(2, 8, 8, 1)
  local before = model:predict(x, {verbose = 0})
  t.raises(function() model:predict(nn.ones(2, 6, 6, 1), {verbose = 0}) end,
           'expects input of shape (None, 8, 8, 1)', '(2, 6, 6, 1)')
  t.raises(function() model(nn.ones(2, 6, 6, 1), {training = true}) end,
           'model(x): model "sequential', 'expects input of shape (None, 8, 8, 1), but x has '
           .. 'shape (2, 6, 6, 1)')
  -- Its layers called on their own on other sizes leave it as it was.
  t.eq(tostring(conv(nn.ones(1, 12, 10, 1)).shape), '(1, 10, 8, 2)', 'conv on 12x10')
  t.eq(tostring(pool(nn.ones(1, 10, 8, 2), {training = true}).shape), '(1, 5, 4, 2)',
       'pool on 10x8')
  t.eq(tostring(conv.output_shape), '(None, 6, 6, 2)', 'the model\'s conv shape')
  t.eq(tostring(pool.output_shape), '(None, 3, 3, 2)', 'the model\'s pool shape')
  same_values(model:predict(x, {verbose = 0}), before, 'predict after')
  model:compile{optimizer = 'sgd', loss = 'mse'}
  local history = model:fit(x, nn.zeros(2, 3), {epochs = 1, verbose = 0})
  t.truthy(history.history.loss[1] == history.history.loss[1], 'fit runs')
  t.eq(tostring(model(x, {training = true}).shape), '(2, 3)', 'model(x) in training')
end)

t.finish()
