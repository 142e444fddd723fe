-- Conv2DTranspose from Lua: Keras' shapes and parameter counts, a small convolutional
-- autoencoder that learns, the same training on cpu and emulated, model files, errors.
-- (Values and gradients are checked against a reference in
-- tests/engine/test_conv2d_transpose.c.)
local t = require 'harness'
local L = nn.layers

t.test('shapes and weights as Keras', function()
  local x = nn.random.randn(2, 7, 7, 32)
  local up = L.Conv2DTranspose{16, 3, strides = 2, padding = 'same'}
  t.eq(tostring(up(x).shape), '(2, 14, 14, 16)', "strides 2, 'same'")
  t.eq(tostring(up.kernel.shape), '(3, 3, 16, 32)', 'kernel (kh, kw, filters, channels)')
  t.eq(tostring(L.Conv2DTranspose{8, {3, 3}}(x).shape), '(2, 9, 9, 8)', "'valid'")
  t.eq(tostring(L.Conv2DTranspose{8, 3, strides = 2}(x).shape), '(2, 15, 15, 8)', "'valid', strides 2")
  t.eq(tostring(L.Conv2DTranspose{8, 3, strides = 2, output_padding = 1}(x).shape), '(2, 16, 16, 8)',
       'output_padding')
  t.eq(tostring(L.Conv2DTranspose{8, 2, strides = 3}(x).shape), '(2, 21, 21, 8)', 'kernel < strides')
  t.eq(tostring(L.Conv2DTranspose{4, 3, strides = 2, padding = 'same', data_format = 'channels_first'}(
       nn.random.randn(1, 3, 5, 6)).shape), '(1, 4, 10, 12)', 'channels first')
  t.eq(L.Conv2DTranspose{1, 1}.name:match('^conv2d_transpose'), 'conv2d_transpose', 'name')
  local model = nn.Sequential{nn.Input{shape = {7, 7, 32}}, L.Conv2DTranspose{16, 3, strides = 2, padding = 'same'}}
  t.eq(model:count_params(), 3 * 3 * 16 * 32 + 16, 'parameters')
  local text = t.capture(function() model:summary{explain = true} end)
  t.truthy(text:find('height: 7 * 2 = 14', 1, true), 'explained')
end)

local function autoencoder(device)
  nn.random.seed(31)
  local model = nn.Sequential{
    L.Conv2D{4, 3, strides = 2, padding = 'same', activation = 'relu', input_shape = {8, 8, 1}},
    L.Conv2DTranspose{4, 3, strides = 2, padding = 'same', activation = 'relu'},
    L.Conv2D{1, 3, padding = 'same', activation = 'sigmoid'}}
  model:to(device)
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.01}, loss = 'mse'}
  return model
end

t.test('a convolutional autoencoder learns, the same on cpu and emulated', function()
  -- Images of one bright square each, at different places.
  local images = nn.zeros(16, 8, 8, 1)
  for i = 1, 16 do
    local top, left = (i - 1) % 4 + 1, (i - 1) // 4 + 1
    for h = top, top + 3 do for w = left, left + 3 do images[i][h][w][1] = 1 end end
  end
  local weights, losses = {}, {}
  for _, device in ipairs{'cpu', 'emulated'} do
    local model = autoencoder(device)
    local history = model:fit(images, images, {epochs = 30, batch_size = 4, shuffle = false, verbose = 0})
    losses[device] = history.history.loss
    weights[device] = model:get_weights()
  end
  local loss = losses.cpu
  t.truthy(loss[#loss] < 0.5 * loss[1], string.format('loss fell: %.4f -> %.4f', loss[1], loss[#loss]))
  for i = 1, #weights.cpu do
    local difference = (weights.cpu[i] - weights.emulated[i]):abs():max()
    t.truthy(difference < 1e-5, 'weight ' .. i .. ' differs by ' .. difference .. ' on emulated')
  end
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-conv2d-transpose'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Conv2DTranspose{3, 3, strides = 2, output_padding = 1, input_shape = {4, 4, 2}},
                              L.Flatten(), L.Dense{2}}
  model:save(directory .. '/transpose.nnsh')
  local copy = nn.models.load_model(directory .. '/transpose.nnsh')
  local x = nn.random.randn(3, 4, 4, 2)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].output_padding[1], 1, 'output_padding kept')
end)

t.test('bad arguments raise errors that say what is wrong', function()
  t.raises(function() L.Conv2DTranspose{} end, 'missing required argument', 'filters')
  t.raises(function() L.Conv2DTranspose{0, 3} end, 'filters must be a positive integer, got 0')
  t.raises(function() L.Conv2DTranspose{4, 3, strides = 2, output_padding = 2} end,
           'output_padding must be smaller than the strides')
  t.raises(function() L.Conv2DTranspose{4, 3, strides = 2, dilation_rate = 2} end, 'dilation_rate > 1')
  t.raises(function() L.Conv2DTranspose{4, 3}(nn.zeros(2, 5)) end, 'expected ndim=4', 'Full shape received: (2, 5)')
  t.raises(function() L.Conv2DTranspose{4, 3, padding = 'full'} end, 'padding')
end)

t.finish()
