-- Normalization as Keras: Keras' documented examples give Keras' numbers; adapt learns each
-- feature's mean and population variance (weights mean, variance and count, which do not
-- train); a model with it first trains on features of very different scales; files, the
-- emulated device and bad uses.
local t = require 'harness'
local L = nn.layers

local function predict(model, x) return model:predict(x, {verbose = 0}) end

t.test("Keras' documented examples", function()
  local everything = L.Normalization{axis = nn.None}
  everything:adapt(nn.tensor{1, 2, 3, 4, 5})
  t.near(everything(nn.tensor{1, 2, 3}), nn.tensor{-1.4142135, -0.70710677, 0}, 1e-6,
         'axis=None: one mean and variance')
  local per_feature = L.Normalization{axis = -1}
  local data = nn.tensor{{0, 7, 4}, {2, 9, 6}, {0, 7, 4}, {2, 9, 6}}
  per_feature:adapt(data)
  t.near(per_feature(nn.tensor{{0, 7, 4}}), nn.tensor{{-1, -1, -1}}, 1e-6, 'each feature')
  local given = L.Normalization{mean = 3, variance = 2}
  t.near(given(nn.tensor{{1}, {2}, {3}}), nn.tensor{{-1.4142135}, {-0.70710677}, {0}}, 1e-6,
         'mean and variance given')
  local invert = L.Normalization{axis = -1, invert = true}
  invert:adapt(data)
  t.near(invert(nn.tensor{{-1, -1, -1}}), nn.tensor{{0, 7, 4}}, 1e-6, 'invert puts them back')
end)

t.test('adapt stores the mean, the population variance and the count', function()
  local layer = L.Normalization{}
  t.truthy(layer:adapt(nn.tensor{{0, 7, 4}, {2, 9, 6}, {0, 7, 4}, {2, 9, 6}}) == layer,
           'adapt returns the layer')
  t.near(layer.mean, nn.tensor{1, 8, 5}, 0, 'mean')
  t.near(layer.variance, nn.tensor{1, 1, 1}, 0, 'variance (divided by 4, not 3)')
  t.eq(layer.count:item(), 0, 'count, which Keras 3 keeps for older files and never sets')
  t.eq(#layer.trainable_weights, 0, 'nothing trains')
  t.eq(#layer:get_weights(), 3, 'get_weights: mean, variance, count')
  -- A second adapt replaces the first, as Keras'.
  layer:adapt(nn.tensor{{1, 1, 1}, {3, 3, 3}})
  t.near(layer.mean, nn.tensor{2, 2, 2}, 0, 'the second adapt')
end)

t.test('its axis is any axis but the batch; images per channel, uint8 data too', function()
  local images = nn.random.randint(0, 256, 6, 4, 4, 3):astype('uint8')
  local per_channel = L.Normalization{axis = 3}
  per_channel:adapt(images)
  t.eq(tostring(per_channel.mean.shape), '(3,)', 'a mean per channel')
  local as_float = images:astype('float32')
  t.near(per_channel.mean, as_float:reshape(-1, 3):mean(0), 1e-3, 'each channel\'s mean')
  local out = per_channel(as_float)
  t.near(out:reshape(-1, 3):mean(0), nn.zeros(3), 1e-5, 'each channel centred')
  t.near((out:reshape(-1, 3) ^ 2):mean(0), nn.ones(3), 1e-4, 'each channel of variance 1')
  -- Built for 4 x 4 images, it adapts to 8 x 8 ones: only the kept axis must match, as Keras.
  local built = L.Normalization{}
  built:build(-1, 4, 4, 3)
  built:adapt(nn.ones(2, 8, 8, 3) * nn.tensor{1, 2, 3})
  t.near(built.mean, nn.tensor{1, 2, 3}, 0, 'adapted on images of another size')
  local middle = L.Normalization{axis = 1}
  middle:adapt(as_float)
  t.eq(tostring(middle.mean.shape), '(4,)', 'a mean per row of the image')
  local constant = L.Normalization{}
  constant:adapt(nn.tensor{{5, 1}, {5, 3}})
  t.near(constant(nn.tensor{{5, 2}}), nn.tensor{{0, 0}}, 0, 'a constant feature gives 0')
end)

t.test('in a model: 19 weights for 9 features that do not train, and fit learns', function()
  local normalize = L.Normalization{input_shape = {9}}
  local model = nn.Sequential{normalize, L.Dense{1}}
  local summary = t.capture(function() model:summary() end)
  t.truthy(summary:find('Non-trainable params: 19', 1, true), summary)
  local explained = t.capture(function() model:summary{explain = true} end)
  t.truthy(explained:find('mean 9 [non-trainable] + variance 9 [non-trainable] + count 1', 1, true),
           explained)
  nn.random.seed(1)
  -- Features of scales 1 to 10^4, the target a sum of them on a common scale.
  local x = nn.random.randn(256, 9) * nn.tensor{1, 10, 100, 1000, 10000, 1, 10, 100, 1000}
  local y = (x / nn.tensor{1, 10, 100, 1000, 10000, 1, 10, 100, 1000}):sum(1):reshape(-1, 1)
  normalize:adapt(x)
  local mean = normalize.mean:clone()
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.05}, loss = 'mse'}
  local history = model:fit(x, y, {epochs = 30, batch_size = 32, verbose = 0})
  t.truthy(history.history.loss[30] < 0.01 * history.history.loss[1],
           'the loss falls a hundredfold: ' .. history.history.loss[1] .. ' -> ' ..
           history.history.loss[30])
  t.near(normalize.mean, mean, 0, 'fit leaves the mean alone')
  local given = nn.Sequential{L.Normalization{mean = 1, variance = 4, input_shape = {2}}}
  t.eq(given:count_params(), 0, 'given mean and variance are no weights')
end)

t.test('given one value per index: an image model\'s channel statistics', function()
  local imagenet = L.Normalization{mean = {0.485, 0.456, 0.406},
                                   variance = {0.229 ^ 2, 0.224 ^ 2, 0.225 ^ 2}}
  local out = imagenet(nn.full({1, 2, 2, 3}, 0.5))
  t.near(out:reshape(-1, 3):mean(0),
         nn.tensor{(0.5 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (0.5 - 0.406) / 0.225}, 1e-5,
         'each channel by its own mean and deviation')
  t.eq(imagenet:count_params(), 0, 'given values are no weights')
  t.eq(#imagenet:get_config().mean, 3, 'get_config gives the list back')
  t.eq(L.Normalization{mean = 3, variance = 2}:get_config().mean, 3, 'and a number as a number')
  local mixed = L.Normalization{mean = {1, 2, 3}, variance = 4, invert = true}
  t.near(mixed(nn.zeros(1, 3)), nn.tensor{{1, 2, 3}}, 0, 'a list with one number, inverted')
  t.raises(function() L.Normalization{mean = {1, 2}, variance = {1, 2, 3}} end,
           'mean has 2 values and variance 3')
  t.raises(function() L.Normalization{mean = {1, 2}, variance = 1}(nn.zeros(2, 3)) end,
           'given 2 means and variances', 'has 3 indices')
  t.raises(function() L.Normalization{mean = {1, 'a'}, variance = 1} end,
           'mean entry 2 must be a number', 'got string')
  t.raises(function() L.Normalization{mean = {}, variance = 1} end, 'must list 1 to 64 numbers')
  -- adapt refuses NaN and inf (Keras would store a NaN mean) and changes nothing
  local fresh = L.Normalization()
  t.raises(function() fresh:adapt(nn.tensor{{1, 2}, {0 / 0, 3}}) end,
           'adapt got NaN in sample 2 (value 1 of it)', 'remove or replace')
  t.raises(function() fresh:adapt(nn.tensor{{1}, {-1 / 0}}) end, 'adapt got -inf in sample 2')
  t.eq(fresh.built, false, 'not built by the refused data')
  fresh:adapt(nn.tensor{{1}, {3}})
  t.near(fresh(nn.tensor{{2}}), nn.tensor{{0}}, 1e-6, 'adapts to clean data afterwards')
end)

t.test('a model file keeps the adapted weights and the given numbers', function()
  local first = L.Normalization{axis = 1, input_shape = {3, 2}}
  first:adapt(nn.tensor{{{1, 2}, {3, 4}, {5, 6}}, {{2, 2}, {0, 4}, {9, 1}}})
  local model = nn.Sequential{first, L.Normalization{mean = 0.5, variance = 4, invert = true},
                              L.Normalization{mean = {1, -1}, variance = {4, 0.25}},
                              L.Flatten(), L.Dense{2}}
  local path = os.getenv('NNSH_TEST_TMP') .. '/normalization.nnsh'
  model:save(path)
  local copy = nn.models.load_model(path)
  local x = nn.random.randn(4, 3, 2)
  t.near(predict(copy, x), predict(model, x), 0, 'predictions')
  t.near(copy.layers[1].variance, first.variance, 0, 'variance')
  t.eq(copy.layers[2]:get_config().invert, true, 'invert')
  t.eq(copy.layers[3]:get_config().variance[2], 0.25, 'a given list')
  os.remove(path)
end)

t.test('nn.None is Keras\' None for any argument that has one, else its default', function()
  t.eq(L.Normalization{axis = nn.None}:get_config().axis, nil, 'axis None')
  t.eq(L.Dropout{0.5, seed = nn.None}:get_config().seed, nil, 'seed None')
  local dense = L.Dense{2, kernel_regularizer = nn.None, name = nn.None, activation = nn.None}
  t.eq(dense:get_config().activation, 'linear', 'activation None')
  t.raises(function() L.Dense{units = nn.None} end, "'units' is required",
           'nn.None is not a value for it')
end)

t.test('given numbers need no device memory: a layer shared by a running model', function()
  -- Called on its own in a callback while the model runs on the emulated device.
  local given = L.Normalization{mean = 1, variance = 4, input_shape = {2}}
  local model = nn.Sequential{given, L.Dense{1}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  model:to('emulated')
  local seen
  model:fit(nn.ones(8, 2), nn.ones(8, 1), {batch_size = 2, verbose = 0, callbacks = {
    nn.callbacks.LambdaCallback{on_batch_end = function() seen = given(nn.tensor{{3, 5}}) end}}})
  t.near(seen, nn.tensor{{1, 2}}, 0, '(x - 1) / 2 on the CPU')
  t.near(predict(nn.Sequential{given}, nn.tensor{{3, 5}}:to('emulated')):to('cpu'),
         nn.tensor{{1, 2}}, 0, 'and on the emulated device')
end)

t.test('the emulated device gives the CPU\'s values', function()
  local layer = L.Normalization{axis = 2}
  local x = nn.random.randn(5, 3, 4)
  layer:adapt(x)
  local on_cpu = layer(x)
  local given = L.Normalization{mean = 2, variance = 9}
  local given_cpu = given(x)
  t.eq(layer(x:to('emulated')):to('cpu'), on_cpu, 'adapted')
  t.eq(given(x:to('emulated')):to('cpu'), given_cpu, 'given')
  local elsewhere = L.Normalization{}
  elsewhere:adapt(x:to('emulated'))
  t.near(elsewhere.mean:to('cpu'), x:reshape(-1, 4):mean(0), 1e-6, 'adapt on device data')
end)

t.test('bad uses say what was expected, and the session goes on', function()
  t.raises(function() L.Dense{2}:adapt(nn.zeros(2, 3)) end, 'layer:adapt',
           '(Dense) has no adapt', 'Normalization')
  t.raises(function() L.Normalization{mean = 1, variance = 2}:adapt(nn.zeros(2, 3)) end,
           'was given its mean and variance', 'without mean= and variance=')
  t.raises(function() L.Normalization{mean = 1} end, 'give mean and variance together',
           'got only mean')
  t.raises(function() L.Normalization{variance = -1, mean = 0} end, 'variance', '-1')
  t.raises(function() L.Normalization{axis = {1, 2}} end, 'axis', 'an integer or nn.None',
           'table')
  t.raises(function() L.Normalization{}(nn.tensor{1, 2}) end, 'has only the batch axis',
           'use axis=nn.None')
  t.raises(function() L.Normalization{}:adapt(nn.tensor(3)) end, 'got a scalar')
  t.raises(function() L.Normalization{axis = 1}:build(-1, -1, 3) end, 'has no known size')
  t.raises(function() L.Normalization{axis = 0}:adapt(nn.zeros(2, 3)) end,
           'axis=0 is the batch axis')
  t.raises(function() L.Normalization{axis = 3}(nn.zeros(2, 3)) end, 'axis=3 is not an axis',
           'from 1 to 1')
  local layer = L.Normalization{}
  layer:adapt(nn.ones(2, 3))
  t.raises(function() layer:adapt(nn.ones(2, 4)) end, 'was built for input (None, 3)',
           'with 3 indices on axis 1', 'data of shape (2, 4), with 4')
  t.raises(function() layer:adapt(nn.ones(2, 2, 3)) end, 'with 3 axes instead of 2')
  t.near(layer.mean, nn.ones(3), 0, 'a refused adapt changes nothing')
  t.raises(function() layer:adapt(nn.ones(2, 3), {batch_size = 2}) end,
           'takes the data only')
  t.raises(function() layer:adapt('x') end, 'layer:adapt')
  t.near(layer(nn.ones(1, 3)), nn.zeros(1, 3), 0, 'the session goes on')
end)

t.test('a shape error names the layer once, called or built', function()
  local function once(err, name)
    local first = err:find(name, 1, true)
    t.truthy(first and not err:find(name, first + 1, true),
             string.format('%q named once in %q', name, err))
  end
  local layer = L.Normalization{axis = 5, name = 'norm_axis'}
  once(t.raises(function() layer(nn.ones(2, 3)) end, 'axis=5 is not an axis'), 'norm_axis')
  once(t.raises(function() layer:build(-1, 3) end, 'layer:build', 'axis=5 is not an axis'),
       'norm_axis')
  local flat = L.Normalization{name = 'norm_flat'}
  once(t.raises(function() flat(nn.ones(2)) end, 'has only the batch axis'), 'norm_flat')
end)

t.finish()
