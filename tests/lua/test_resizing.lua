-- Resizing, CenterCrop and RandomCrop from Lua: Keras' arguments and shapes, values by
-- hand (a 4 x 4 image halved, a centred crop, a padded canvas, nearest; the crops' windows
-- and RandomCrop's places), in a model with either layout, the same training on cpu and
-- emulated, model files, errors. (Every value and the gradient are checked against a
-- reference in tests/engine/test_resize.c.)
local t = require 'harness'
local L = nn.layers

-- the 4 x 4 image 0 .. 15 as a batch of one
local image = nn.arange(16):reshape(1, 4, 4, 1)
local function plane(y, h, w) return y:reshape(h, w) end

t.test('shapes and arguments as Keras', function()
  t.eq(L.Resizing{32, 24}(nn.ones(2, 28, 28, 3)).shape, nn.ones(2, 32, 24, 3).shape, '(2, 32, 24, 3)')
  t.eq(L.Resizing{8, 8, data_format = 'channels_first'}(nn.ones(1, 3, 4, 4)).shape,
       nn.ones(1, 3, 8, 8).shape, 'channels first')
  local config = L.Resizing{16, 8}:get_config()
  t.eq(config.height, 16, 'height')
  t.eq(config.width, 8, 'width')
  t.eq(config.interpolation, 'bilinear', 'bilinear by default')
  t.eq(config.crop_to_aspect_ratio, false, 'no crop by default')
  t.eq(config.pad_to_aspect_ratio, false, 'no pad by default')
  t.eq(L.Resizing{4, 4}.name:match('^resizing'), 'resizing', 'name')
  local model = nn.Sequential{nn.Input{shape = {28, 28, 1}}, L.Resizing{32, 32}, L.Conv2D{4, 5}}
  t.eq(tostring(model.layers[2].output_shape), '(None, 28, 28, 4)', 'a 5x5 Conv2D after it sees 32 x 32')
end)

t.test('values by hand', function()
  -- halving reads between the four pixels of each 2 x 2 block: their mean
  t.eq(plane(L.Resizing{2, 2}(image), 2, 2), nn.tensor{{2.5, 4.5}, {10.5, 12.5}}, 'halved')
  -- nearest doubling repeats every pixel over a 2 x 2 block
  local doubled = plane(L.Resizing{8, 8, interpolation = 'nearest'}(image), 8, 8)
  t.eq(doubled[1], nn.tensor{0, 0, 1, 1, 2, 2, 3, 3}, 'first row')
  t.eq(doubled[8], nn.tensor{12, 12, 13, 13, 14, 14, 15, 15}, 'last row')
  t.eq(L.Resizing{4, 4}(image), image, 'the same size leaves the image as it is')
  -- 2 x 4 is twice as wide as high: the crop keeps the middle two rows, whole
  t.eq(plane(L.Resizing{2, 4, crop_to_aspect_ratio = true}(image), 2, 4),
       nn.tensor{{4, 5, 6, 7}, {8, 9, 10, 11}}, 'centred crop')
  -- the pad puts the image in the middle of a 4 x 8 canvas of -1, then halves it
  t.eq(plane(L.Resizing{2, 4, pad_to_aspect_ratio = true, fill_value = -1}(image), 2, 4),
       nn.tensor{{-1, 2.5, 4.5, -1}, {-1, 10.5, 12.5, -1}}, 'padded canvas')
  -- without either, 4 x 4 squeezed to 2 x 4: rows averaged in pairs, columns kept
  t.eq(plane(L.Resizing{2, 4}(image), 2, 4), nn.tensor{{2, 3, 4, 5}, {10, 11, 12, 13}}, 'squeezed')
end)

t.test('CenterCrop keeps the centred window as it is; a small image is resized', function()
  local x = nn.arange(63):reshape(1, 7, 9, 1)   -- value 9·row + column
  local expected = {}
  for row = 1, 4 do for column = 2, 6 do expected[#expected + 1] = 9 * row + column end end
  t.eq(L.CenterCrop{4, 5}(x):reshape(-1), nn.tensor(expected), 'rows 1 to 4, columns 2 to 6')
  t.eq(L.CenterCrop{7, 9}(x), x, 'the same size keeps the image')
  t.eq(L.CenterCrop{10, 12}(x), L.Resizing{10, 12, crop_to_aspect_ratio = true}(x),
       'smaller than the window: resized from the centred window of its aspect ratio')
  t.eq(tostring(L.CenterCrop{24, 24, data_format = 'channels_first'}(nn.ones(2, 3, 28, 30)).shape),
       '(2, 3, 24, 24)', 'channels first')
  local same = nn.Sequential{nn.Input{shape = {4, 4, 1}}, L.CenterCrop{4, 4}}
  local summary = t.capture(function() same:summary{explain = true} end)
  t.truthy(summary:find('already that size: the images pass through as they are', 1, true),
           'the summary says a crop of the whole image changes nothing')
end)

t.test('RandomCrop: a window at a random place in training, one for the batch; resized in inference', function()
  local x = nn.arange(2 * 63):reshape(2, 7, 9, 1)   -- value 63·image + 9·row + column
  local places, count = {}, 0
  for seed = 1, 40 do
    local y = L.RandomCrop{4, 5, seed = seed}(x)
    local first = y[1][1][1][1]
    local top, left = first // 9, first % 9
    t.truthy(top >= 0 and top <= 3 and left >= 0 and left <= 4, 'place ' .. top .. ', ' .. left)
    local expected = {}
    for image = 0, 1 do
      for row = top, top + 3 do
        for column = left, left + 4 do expected[#expected + 1] = 63 * image + 9 * row + column end
      end
    end
    t.eq(y:reshape(-1), nn.tensor(expected), 'seed ' .. seed .. ': both images cut at ' .. top .. ', ' .. left)
    if not places[first] then places[first], count = true, count + 1 end
  end
  t.truthy(count >= 10, count .. ' of the 20 places seen over 40 seeds')
  t.eq(L.RandomCrop{4, 5}(x, {training = false}), L.Resizing{4, 5, crop_to_aspect_ratio = true}(x),
       'inference: resized from the centred window')
  t.eq(L.RandomCrop{7, 9}(x), x, 'an image no larger than the window: resized, here to itself')
  local model = nn.Sequential{nn.Input{shape = {7, 9, 1}}, L.RandomCrop{4, 5}, L.Flatten()}
  t.eq(model:predict(x, {verbose = 0}), L.Resizing{4, 5, crop_to_aspect_ratio = true}(x):reshape(2, 20),
       'predict does not crop at random')
end)

t.test('first in a model, trained the same on cpu and emulated, saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-resizing'
  nn.io.make_directory(directory)
  local x, y = nn.random.uniform(12, 2, 9, 7), nn.random.randint(0, 3, 12)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(31)
    local model = nn.Sequential{nn.Input{shape = {2, 9, 7}},
                                L.Conv2D{3, 1, data_format = 'channels_first'},
                                L.Resizing{6, 5, crop_to_aspect_ratio = true, data_format = 'channels_first'},
                                L.Resizing{8, 8, interpolation = 'nearest', data_format = 'channels_first'},
                                L.RandomCrop{6, 7, data_format = 'channels_first'},
                                L.CenterCrop{5, 5, data_format = 'channels_first'},
                                L.Flatten(), L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 4, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/resizing.nnsh')
      local copy = nn.models.load_model(directory .. '/resizing.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[2].crop_to_aspect_ratio, true, 'crop kept')
      t.eq(copy.layers[3].interpolation, 'nearest', 'interpolation kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.Resizing{} end, 'missing required argument', 'height')
  t.raises(function() L.Resizing{32} end, 'missing required argument', 'width')
  t.raises(function() L.Resizing{0, 32} end, 'height must be a positive integer', 'got 0')
  t.raises(function() L.Resizing{32, 32.5} end, 'width')
  t.raises(function() L.Resizing{32, 32, interpolation = 'bicubic'} end,
           "interpolation='bicubic' is not available in nnsh yet", "'nearest'")
  t.raises(function() L.Resizing{32, 32, interpolation = 'cubic'} end, 'interpolation', 'bilinear')
  t.raises(function() L.Resizing{32, 32, antialias = true} end, 'antialias=True is not available')
  t.raises(function() L.Resizing{32, 32, crop_to_aspect_ratio = true, pad_to_aspect_ratio = true} end,
           'only one of crop_to_aspect_ratio and pad_to_aspect_ratio')
  t.raises(function() L.Resizing{32, 32, fill_mode = 'reflect'} end, 'fill_mode', 'constant')
  t.raises(function() L.Resizing{8, 8}(nn.ones(2, 28, 28)) end, 'expected ndim=4', 'found ndim=3')
  t.raises(function() L.CenterCrop{24} end, 'missing required argument', 'width')
  t.raises(function() L.CenterCrop{24, -1} end, 'width must be a positive integer')
  t.raises(function() L.RandomCrop{24, 24, seed = -1} end, 'seed')
  t.raises(function() L.RandomCrop{24, 24, interpolation = 'nearest'} end, 'interpolation')
  t.raises(function() L.RandomCrop{24, 24}(nn.ones(2, 28)) end, 'expected ndim=4')
end)

t.finish()
