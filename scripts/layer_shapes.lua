-- Every layer example of SPEC §2 (the seed tutorial's API sections), printed with its
-- shapes and the arithmetic behind them. Run: nnsh scripts/layer_shapes.lua
-- The lesson scripts/lessons/layer_shapes.md walks through the same examples.
local L = nn.layers
nn.random.seed(42)

local function heading(title) print('\n== ' .. title) end
local function show(what, value) print(string.format('%-60s %s', what, tostring(value))) end

-- A layer's explanation, one part per line ("height: ...", "width: ...").
local function explain(layer)
  local depth, part = 0, {}
  local text = layer.explanation .. '; '
  local i = 1
  while i <= #text do
    local c = text:sub(i, i)
    depth = depth + (c == '(' and 1 or c == ')' and -1 or 0)
    if depth == 0 and text:sub(i, i + 1) == '; ' then
      print('    ' .. table.concat(part))
      part, i = {}, i + 2
    else
      part[#part + 1], i = c, i + 1
    end
  end
end

-- The values of a (1, h, w, 1) tensor, one row of the image per line.
local function image_rows(t)
  local rows = {}
  for _, row in ipairs(t:reshape(t.shape[2], t.shape[3]):tolist()) do
    local values = {}
    for i, v in ipairs(row) do values[i] = string.format('%2d', v) end
    rows[#rows + 1] = '    ' .. table.concat(values, ' ')
  end
  return table.concat(rows, '\n')
end

heading('Conv2D')
local x = nn.random.randn(2, 28, 28, 3)
show('x = nn.random.randn(2, 28, 28, 3)', x.shape)
local conv = L.Conv2D{32, {3, 3}, padding = 'same', activation = 'relu'}
show("Conv2D{32, {3, 3}, padding='same', activation='relu'}(x)", conv(x).shape)
explain(conv)
show('  its kernel.shape (kh, kw, in_channels, filters)', conv.kernel.shape)
show('  its bias.shape', conv.bias.shape)
local strided = L.Conv2D{16, 3, strides = 2, padding = 'valid'}
show("Conv2D{16, 3, strides=2, padding='valid'}(x)", strided(x).shape)
explain(strided)
local strided_same = L.Conv2D{16, 3, strides = 2, padding = 'same'}
show("Conv2D{16, 3, strides=2, padding='same'}(x)", strided_same(x).shape)
explain(strided_same)

heading('MaxPool2D (also called MaxPooling2D)')
local image = nn.arange(64):reshape(1, 8, 8, 1)
show('image = nn.arange(64):reshape(1, 8, 8, 1)', image.shape)
local pool = L.MaxPool2D{{2, 2}}
local pooled = pool(image)
show('MaxPool2D{{2, 2}}(image)', pooled.shape)
explain(pool)
print(image_rows(pooled))
local same = L.MaxPool2D{2, strides = 1, padding = 'same'}
show("MaxPool2D{2, strides=1, padding='same'}(image)", same(image).shape)
explain(same)
local big = L.MaxPool2D{4, strides = 4}
local coarse = big(image)
show('MaxPool2D{4, strides=4}(image)', coarse.shape)
explain(big)
print(image_rows(coarse))

heading('Flatten')
local flatten = L.Flatten()
show('Flatten()(nn.random.randn(2, 4, 4, 3))', flatten(nn.random.randn(2, 4, 4, 3)).shape)
explain(flatten)

heading('Dense')
local d = L.Dense{10, activation = 'relu'}
show("d = Dense{10, activation='relu'}; d(nn.random.randn(3, 5))", d(nn.random.randn(3, 5)).shape)
explain(d)
show('  d.kernel.shape (inputs, units)', d.kernel.shape)
show('  d.bias.shape', d.bias.shape)

heading('Dropout')
local ones = nn.ones(1000, 10)
local dropout = L.Dropout{0.5}
local dropped = dropout(ones, {training = true})
show('Dropout{0.5}(ones, {training=true}).shape', dropped.shape)
show('  fraction of zeros (about half)', string.format('%.3f', dropped:eq(0):sum() / dropped.size))
show('  the largest value (kept values scaled by 1/(1-0.5))', dropped:max())
show('  with {training=false}: the input unchanged', dropout(ones, {training = false}) == ones)
nn.set_learning_phase(1)
show('  nn.set_learning_phase(1): training is the default', dropout(ones):eq(0):sum() > 0)
nn.set_learning_phase(0)

heading('BatchNormalization')
local batch = nn.random.randn(4, 4, 4, 3) * 5 + 3
local norm = L.BatchNormalization()
local normalised = norm(batch, {training = true})
show('BatchNormalization()(batch, {training=true})', normalised.shape)
explain(norm)
local per_channel = normalised:reshape(-1, 3)
local means, variances = per_channel:mean(0), (per_channel:std(0)) ^ 2
for c = 1, 3 do
  show(string.format('  channel %d: mean ~ 0, variance ~ 1', c),
       string.format('%s, %s', math.abs(means[c]) < 1e-4, math.abs(variances[c] - 1) < 1e-2))
end
local inference = norm(batch, {training = false})
show('  with {training=false}: moving statistics, so not mean 0',
     math.abs(inference:mean()) > 0.5)

heading("A model's layers, as the seed's Flatten example prints them")
local model = nn.Sequential{
  L.Conv2D{32, {3, 3}, activation = 'relu', input_shape = {28, 28, 1}},
  L.MaxPooling2D{{2, 2}},
  L.Conv2D{64, {3, 3}, activation = 'relu'},
  L.MaxPooling2D{{2, 2}},
  L.Flatten(),
  L.Dense{64, activation = 'relu'},
  L.Dense{10, activation = 'softmax'},
}
for _, layer in ipairs(model.layers) do
  print(string.format('%-14s %-18s -> %s', layer.class_name, tostring(layer.input_shape),
                      tostring(layer.output_shape)))
end
