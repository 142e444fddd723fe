-- scripts/layer_shapes.lua prints every SPEC §2 example with the shapes the spec gives.
local t = require 'harness'

t.test('scripts/layer_shapes.lua prints the SPEC shapes and values', function()
  local out = t.capture(function() dofile('../../scripts/layer_shapes.lua') end)
  local expected = {
    {"Conv2D{32, {3, 3}, padding='same', activation='relu'}(x)", '(2, 28, 28, 32)'},
    {'its kernel.shape', '(3, 3, 3, 32)'},
    {"Conv2D{16, 3, strides=2, padding='valid'}(x)", '(2, 13, 13, 16)'},
    {"Conv2D{16, 3, strides=2, padding='same'}(x)", '(2, 14, 14, 16)'},
    {'MaxPool2D{{2, 2}}(image)', '(1, 4, 4, 1)'},
    {"MaxPool2D{2, strides=1, padding='same'}(image)", '(1, 8, 8, 1)'},
    {'MaxPool2D{4, strides=4}(image)', '(1, 2, 2, 1)'},
    {'Flatten()(nn.random.randn(2, 4, 4, 3))', '(2, 48)'},
    {"d = Dense{10, activation='relu'}; d(nn.random.randn(3, 5))", '(3, 10)'},
    {'d.kernel.shape', '(5, 10)'},
    {'d.bias.shape', '(10,)'},
    {'with {training=false}: the input unchanged', 'true'},
    {'BatchNormalization()(batch, {training=true})', '(4, 4, 4, 3)'},
  }
  for _, pair in ipairs(expected) do
    local line = out:match('[^\n]*' .. pair[1]:gsub('%p', '%%%0') .. '[^\n]*')
    t.truthy(line, 'a line for ' .. pair[1])
    t.eq(line:match('(%S+[^\n]-)$'):sub(-#pair[2]), pair[2], pair[1])
  end
  for _, rows in ipairs{' 9 11 13 15', '25 27 29 31', '41 43 45 47', '57 59 61 63', '27 31', '59 63'} do
    t.truthy(out:find(rows, 1, true), 'pooled values ' .. rows)
  end
  t.truthy(not out:find('%sfalse'), 'every check in the script holds')
end)

t.finish()
