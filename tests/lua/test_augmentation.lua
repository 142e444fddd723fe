-- RandomFlip: each image mirrored or left as it is, about half of them, by mode and data
-- format; flips on its own call as Keras 3's does, in fit only inside a model; the gradient
-- mirrored back the same way (a step worked by hand). RandomRotation, RandomTranslation
-- and RandomZoom: values by hand for fixed ranges, every fill mode and both samplings,
-- each image its own draw. cpu = emulated; files; errors.
local t = require 'harness'
local L = nn.layers

-- Image b of x, as a flat list.
local function image(x, b) return x[b]:reshape(-1):tolist() end

-- A tensor's values as text, "0,1,2".
local function key(y)
  local parts = {}
  for i, v in ipairs(y:reshape(-1):tolist()) do parts[i] = string.format('%g', v) end
  return table.concat(parts, ',')
end

local function same(a, b)
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

t.test('each image is itself or its mirror, about half of them mirrored', function()
  nn.random.seed(4)
  local x = nn.random.randn(400, 3, 4, 2)
  local horizontal = L.RandomFlip{'horizontal'}
  local y = horizontal(x)
  -- x mirrored left-right by hand: column w of each row becomes column 5 - w.
  local rows = x:tolist()
  for b = 1, 400 do
    for h = 1, 3 do
      local row = rows[b][h]
      for w = 1, 2 do row[w], row[5 - w] = row[5 - w], row[w] end
    end
  end
  local mirror = nn.tensor(rows)
  local flipped = 0
  for b = 1, 400 do
    local out = image(y, b)
    if same(out, image(mirror, b)) then
      flipped = flipped + 1
    else
      t.truthy(same(out, image(x, b)), 'image ' .. b .. ' is neither itself nor its mirror')
    end
  end
  -- 400 draws at one half: 200 expected, standard deviation 10.
  t.truthy(flipped > 160 and flipped < 240, flipped .. ' of 400 mirrored')
  t.eq(horizontal(x, {training = false}), x, 'training=false passes through')
end)

t.test('vertical flips reverse the rows; both modes draw each flip on its own', function()
  local x = nn.arange(6):reshape(1, 3, 2, 1)
  local seen = {}
  for seed = 1, 40 do
    seen[key(L.RandomFlip{'vertical', seed = seed}(x))] = true
  end
  t.truthy(seen['0,1,2,3,4,5'] and seen['4,5,2,3,0,1'], 'rows kept or reversed')
  local kinds = {}
  for seed = 1, 60 do
    kinds[key(L.RandomFlip{seed = seed}(x))] = true
  end
  -- As Keras 3: one draw an image, so both flips or neither (a half turn or nothing).
  for _, expected in ipairs{'0,1,2,3,4,5', '5,4,3,2,1,0'} do
    t.truthy(kinds[expected], 'horizontal_and_vertical gives ' .. expected)
  end
  t.eq(kinds['1,0,3,2,5,4'] or kinds['4,5,2,3,0,1'], nil, 'never one flip alone')
  local first = L.RandomFlip{'vertical', seed = 7, data_format = 'channels_first'}
  local y = first(nn.arange(12):reshape(2, 2, 3, 1)):reshape(2, 6):tolist()
  for b = 1, 2 do
    local base = (b - 1) * 6
    local kept = same(y[b], {base, base + 1, base + 2, base + 3, base + 4, base + 5})
    local reversed = same(y[b], {base + 2, base + 1, base, base + 5, base + 4, base + 3})
    t.truthy(kept or reversed, 'channels first: both planes of an image kept or reversed along the height')
  end
end)

t.test('in a model it flips in fit only, and the gradient is mirrored back', function()
  -- x = [1, 2] as one 1 x 2 image, through a 1x1 convolution k = 1, the flip, and a Dense
  -- w = [1, 3]: y = 7 kept, 5 mirrored. Under mse against 0 with SGD at 0.001, w moves by
  -- 0.002·y·flip(x), and k by 0.002·y·(w · flip(x)) = 0.002·y² whichever way the flip went,
  -- which only holds if the gradient is mirrored back as the values were.
  local outcomes = {}
  for seed = 1, 12 do
    local conv = L.Conv2D{1, 1, use_bias = false, kernel_initializer = 'ones', input_shape = {1, 2, 1}}
    local dense = L.Dense{1, use_bias = false}
    local model = nn.Sequential{conv, L.RandomFlip{'horizontal', seed = seed}, L.Flatten(), dense}
    dense:set_weights{nn.tensor{{1}, {3}}}
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.001}, loss = 'mse'}
    local x = nn.tensor{{{{1}, {2}}}}
    t.eq(model:predict(x, {verbose = 0}):item(), 7, 'predict never flips')
    local y = math.sqrt(model:train_on_batch(x, nn.tensor{{0}}))
    t.truthy(math.abs(y - 7) < 1e-5 or math.abs(y - 5) < 1e-5, 'y is 7 or 5, got ' .. y)
    local mirrored = math.abs(y - 5) < 1e-5
    outcomes[mirrored] = true
    local seen = mirrored and {2, 1} or {1, 2}
    t.near(dense:get_weights()[1], nn.tensor{{1 - 0.002 * y * seen[1]}, {3 - 0.002 * y * seen[2]}},
           1e-5, 'dense kernel')
    t.near(conv:get_weights()[1]:reshape(-1):item(), 1 - 0.002 * y * y, 1e-5, 'conv kernel')
  end
  t.truthy(outcomes[true] and outcomes[false], 'both outcomes seen over 12 seeds')
end)

t.test('rotation, translation and zoom by hand, with every fill mode', function()
  local img = nn.arange(25):reshape(1, 5, 5, 1)
  local function grid(layer) return layer(img):reshape(5, 5) end
  -- One row down; the row that enters is filled as each mode says.
  local down = {0.2, 0.2}
  local body = {{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}, {10, 11, 12, 13, 14}, {15, 16, 17, 18, 19}}
  local function with_top(top)
    local rows = {top}
    for i = 1, 4 do rows[i + 1] = body[i] end
    return nn.tensor(rows)
  end
  t.eq(grid(L.RandomTranslation{down, 0, fill_mode = 'constant', fill_value = -1}),
       with_top{-1, -1, -1, -1, -1}, 'constant')
  t.eq(grid(L.RandomTranslation{down, 0, fill_mode = 'reflect'}), with_top{0, 1, 2, 3, 4}, 'reflect')
  t.eq(grid(L.RandomTranslation{down, 0, fill_mode = 'nearest'}), with_top{0, 1, 2, 3, 4}, 'nearest')
  t.eq(grid(L.RandomTranslation{down, 0, fill_mode = 'wrap'}), with_top{20, 21, 22, 23, 24}, 'wrap')
  -- A quarter turn counter-clockwise: the top row becomes the left column, read upwards.
  t.eq(grid(L.RandomRotation{{0.25, 0.25}, interpolation = 'nearest'}),
       nn.tensor{{4, 9, 14, 19, 24}, {3, 8, 13, 18, 23}, {2, 7, 12, 17, 22}, {1, 6, 11, 16, 21},
                 {0, 5, 10, 15, 20}}, 'rotation')
  -- Zoomed in twice about the centre (2, 2): output (x, y) reads (1 + x/2, 1 + y/2), so
  -- bilinear reading gives 6 + 2.5 y + 0.5 x.
  local zoomed = {}
  for y = 0, 4 do
    zoomed[y + 1] = {}
    for x = 0, 4 do zoomed[y + 1][x + 1] = 6 + 2.5 * y + 0.5 * x end
  end
  t.near(grid(L.RandomZoom{{-0.5, -0.5}}), nn.tensor(zoomed), 1e-5, 'zoom in, bilinear')
  -- Zoomed out twice: every other pixel, the rest filled.
  t.eq(grid(L.RandomZoom{{1, 1}, fill_mode = 'constant', fill_value = -1, interpolation = 'nearest'}),
       nn.tensor{{-1, -1, -1, -1, -1}, {-1, 0, 2, 4, -1}, {-1, 10, 12, 14, -1}, {-1, 20, 22, 24, -1},
                 {-1, -1, -1, -1, -1}}, 'zoom out')
  -- Zero ranges change nothing; training=false neither.
  for _, layer in ipairs{L.RandomRotation{0}, L.RandomTranslation{0, 0}, L.RandomZoom{0}} do
    t.near(layer(img), img, 1e-5, layer.name .. ' with a zero range')
  end
  t.eq(L.RandomRotation{0.2}(img, {training = false}), img, 'training=false passes through')
end)

t.test('each image draws its own transform from the range', function()
  nn.random.seed(6)
  local x = nn.ones(300, 5, 5, 1)
  -- Shifts of up to half the width, constant 0 fill: the zeros that enter count the shift.
  local y = L.RandomTranslation{0, 0.5, fill_mode = 'constant', interpolation = 'nearest'}(x)
  local sums = {}
  for b = 1, 300 do sums[y[b]:sum()] = true end
  for _, columns_left in ipairs{5, 4, 3} do
    t.truthy(sums[columns_left * 5], 'some image kept ' .. columns_left .. ' columns')
  end
  t.eq(y:min(), 0, 'filled')
  t.eq(y:max(), 1, 'nothing made up')
  t.eq(tostring(L.RandomZoom{0.2, {-0.1, 0.3}}.width_factor[2]), tostring(nn.tensor{0.3}:item()),
       'width_factor kept')
end)

t.test("factors as Keras reads them: f is -|f| to |f|, a range in either order", function()
  local r = L.RandomRotation{-0.2}
  t.near(r.factor[1], -0.2, 1e-7, 'lower')
  t.near(r.factor[2], 0.2, 1e-7, 'upper')
  local z = L.RandomZoom{{0.3, -0.1}}
  t.near(z.height_factor[1], -0.1, 1e-7, 'sorted lower')
  t.near(z.height_factor[2], 0.3, 1e-7, 'sorted upper')
  t.eq(L.RandomZoom{{-1, 1}}.height_factor[1], -1, 'the whole range Keras allows')
end)

t.test('trained the same on cpu and emulated, saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-augmentation'
  nn.io.make_directory(directory)
  local x, y = nn.random.randn(16, 6, 6, 1), nn.random.randint(0, 3, 16)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(23)
    local model = nn.Sequential{L.Conv2D{2, 3, padding = 'same', input_shape = {6, 6, 1}},
                                L.RandomFlip{}, L.RandomRotation{0.1}, L.RandomTranslation{0.2, 0.1},
                                L.RandomZoom{0.2, fill_mode = 'constant'}, L.Flatten(),
                                L.Dense{3, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/flip.nnsh')
      local copy = nn.models.load_model(directory .. '/flip.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[2].mode, 'horizontal_and_vertical', 'mode kept')
      t.near(copy.layers[3].factor[2], 0.1, 1e-7, 'factor kept')
      t.eq(copy.layers[5].fill_mode, 'constant', 'fill_mode kept')
      t.eq(copy.layers[5].width_factor, nil, 'None kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.RandomFlip{'sideways'} end, 'mode', 'horizontal_and_vertical')
  t.raises(function() L.RandomFlip{seed = -1} end, 'seed')
  t.raises(function() L.RandomFlip{data_format = 'nhwc'} end, 'data_format')
  t.raises(function() L.RandomFlip{}(nn.ones(2, 3, 4)) end, 'expected ndim=4', 'found ndim=3')
  t.raises(function() L.RandomFlip{}(nn.ones(2, 3, 4, 1), {training = 1}) end, 'training')
  t.raises(function() L.RandomRotation{} end, 'missing required argument', 'factor')
  t.raises(function() L.RandomRotation{'a'} end, 'factor must be a number f', 'got string')
  t.raises(function() L.RandomRotation{{0.1}} end, 'factor must be', 'not a pair')
  t.raises(function() L.RandomRotation{2} end, 'factor', 'out of range')
  t.raises(function() L.RandomRotation{0 / 0} end, 'factor must hold finite numbers, got NaN')
  t.raises(function() L.RandomZoom{0.2, {0 / 0, 0.5}} end, 'width_factor must hold finite numbers')
  t.raises(function() L.RandomRotation{0.1, fill_mode = 'mirror'} end, 'fill_mode', 'reflect')
  t.raises(function() L.RandomRotation{0.1, interpolation = 'bicubic'} end, 'interpolation')
  t.raises(function() L.RandomTranslation{0.1} end, 'missing required argument', 'width_factor')
  t.raises(function() L.RandomZoom{{-1.5, 0}} end, 'height_factor', 'out of range')
  t.raises(function() L.RandomZoom{2} end, 'height_factor', 'out of range')
  t.raises(function() L.RandomZoom{0.2}(nn.ones(2, 5, 5)) end, 'expected ndim=4')
end)

-- Last, as it changes the session for good: a learning phase set by hand decides the
-- augmentation layers' own calls too.
t.test('nn.set_learning_phase(0) stops augmentation on direct calls', function()
  local x = nn.arange(6):reshape(1, 2, 3, 1)
  nn.set_learning_phase(0)
  for seed = 1, 10 do
    t.eq(L.RandomFlip{seed = seed}(x), x, 'seed ' .. seed .. ' leaves the image')
  end
  local flipped = false
  for seed = 1, 10 do
    flipped = flipped or key(L.RandomFlip{'horizontal', seed = seed}(x, {training = true})) ~= key(x)
  end
  t.truthy(flipped, 'training=true still flips')
end)

t.finish()
