-- nn.Input as the first entry of nn.Sequential (Keras 3's keras.Input): the model is the
-- one input_shape= on the first layer gives, and every misuse is an error that says why.
local t = require 'harness'
local L = nn.layers

local function seed_model(first)
  local layers = {L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same'},
                  L.MaxPooling2D{{2, 2}}, L.Flatten(), L.Dense{10, activation = 'softmax'}}
  if first then table.insert(layers, 1, first) end
  return nn.Sequential(layers)
end

t.test('an Input gives the model its input shape', function()
  local input = nn.Input{shape = {28, 28, 1}}
  t.eq(tostring(input), 'Input(shape=(None, 28, 28, 1), dtype=float32, name=input_layer)', 'tostring')
  t.eq(tostring(input.shape), '(None, 28, 28, 1)', 'shape')
  t.eq(input.dtype, 'float32', 'dtype')
  t.eq(nn.Input{{4}, name = 'pixels'}.name, 'pixels', 'name, shape by position')
  t.eq(tostring(nn.Input{shape = 5}.shape), '(None, 5)', 'a single size')
  t.eq(tostring(L.InputLayer{input_shape = {3, 2}}.shape), '(None, 3, 2)', "Keras 2's InputLayer")
  t.truthy(rawequal(L.Input, nn.Input), 'nn.layers.Input is nn.Input')

  local model = seed_model(nn.Input{shape = {28, 28, 1}})
  t.truthy(model.built, 'built at once')
  t.eq(#model.layers, 4, 'the Input is not a layer')
  t.eq(tostring(model.input_shape), '(None, 28, 28, 1)', 'input shape')
  t.eq(tostring(model.output_shape), '(None, 10)', 'output shape')
  t.eq(model:count_params(), 320 + 62730, 'params')

  local reference = nn.Sequential{L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same',
                                           input_shape = {28, 28, 1}},
                                  L.MaxPooling2D{{2, 2}}, L.Flatten(), L.Dense{10, activation = 'softmax'}}
  t.eq(t.capture(function() model:summary() end), t.capture(function() reference:summary() end),
       'the same summary as input_shape= on the first layer')

  local added = nn.Sequential()
  added:add(nn.Input{shape = {3}})
  t.truthy(not added.built, 'no layers yet: not built')
  added:add(L.Dense{2})
  t.eq(tostring(added.output_shape), '(None, 2)', 'built by the first add')
  t.eq(tostring(nn.Sequential{nn.Input{shape = {4}}, L.Dense{3, input_shape = {4}}}.output_shape),
       '(None, 3)', 'an input_shape that agrees is accepted')
end)

t.test('a model from an Input trains, saves and loads', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-input'
  nn.io.make_directory(directory)
  local model = nn.Sequential{nn.Input{shape = {6}}, L.Dense{4, activation = 'relu'}, L.Dense{3, activation = 'softmax'}}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
  local x, y = nn.random.randn(20, 6), nn.tensor({0, 1, 2, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0}, 'int32')
  model:fit(x, y, {epochs = 2, verbose = 0})
  model:save(directory .. '/input.nnsh')
  local copy = nn.models.load_model(directory .. '/input.nnsh')
  t.eq(tostring(copy.input_shape), '(None, 6)', 'input shape kept')
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
end)

t.test('misused Inputs raise errors that say what was expected', function()
  -- Keras' functional style, layer(Input): there is no such API; the error says what is.
  t.raises(function() nn.layers.Dense{4}(nn.Input{shape = {8}}) end,
           'got an nn.Input, which is no data: nnsh has no functional API',
           'nn.Sequential{nn.Input{shape = {...}}, layer, ...}')
  t.raises(function() nn.Input{} end, 'nn.Input', 'missing the shape')
  t.raises(function() nn.Input(3) end, 'nn.Input', 'expected a table')
  t.raises(function() nn.Input{shape = {0, 3}} end, 'shape entry 1 must be an integer from 1 to 1073741824, got 0')
  t.raises(function() nn.Input{shape = {2.5}} end, 'shape entry 1', '2.5')
  -- Keras' variable-length sequences, Input(shape=(None, 3)): every size must be known.
  t.raises(function() nn.Input{shape = {nn.None, 3}} end,
           'nn.Input: shape entry 1 is nn.None, a size known only when data arrives',
           'nn.utils.pad_sequences')
  t.raises(function() nn.Input{shape = {5, -1}} end, 'shape entry 2 is -1, a size known only')
  t.raises(function() L.LSTM{4, input_shape = {nn.None, 3}} end,
           'nn.layers.LSTM: input_shape entry 1 is nn.None, a size known only')
  t.raises(function() nn.Input{shape = 'big'} end, 'shape must be the shape of one sample')
  t.raises(function() nn.Input{shape = {1, 2, 3, 4, 5, 6, 7, 8}} end, 'must list 1 to')
  t.raises(function() nn.Input{{3}, shape = {3}} end, 'give the shape of one sample once')
  t.raises(function() nn.Input{shape = {3}, dtype = 'int32'} end, "dtype must be 'float32'", 'int32')
  t.raises(function() nn.Input{shape = {3}, batch = 4} end, "unknown option 'batch'")
  t.raises(function() nn.Input{shape = {3}, name = ''} end, 'name must be a string')
  t.raises(function() nn.Input{shape = {3}}.units = 1 end, 'nn.Input fields cannot be set', 'units')
  t.raises(function() nn.Input{shape = {2 ^ 31 | 0}} end, 'from 1 to 1073741824', '2147483648')
  t.raises(function() nn.Sequential{nn.Input{shape = {4}}, nn.Input{shape = {5}}, L.Dense{2}} end,
           'already has an Input, of shape (None, 4)', '(None, 5)')
  t.raises(function() return nn.Input{shape = {3}}.units end, "no field 'units'")
  t.raises(function() nn.Sequential{L.Dense{3, input_shape = {4}}, nn.Input{shape = {4}}} end,
           'nn.Sequential (layer 2)', 'an Input can only come first', 'already has 1 layer')
  t.raises(function() nn.Sequential{nn.Input{shape = {4}}, L.Dense{3, input_shape = {5}}} end,
           'declares input_shape (5,)', 'input of shape (None, 4)')
  t.raises(function() nn.Sequential{nn.Input{shape = {4}}, L.Conv2D{3, 3}} end,
           'conv2d', '(None, 4)')
  local model = nn.Sequential{nn.Input{shape = {4}}, L.Dense{2}}
  t.raises(function() model:add(nn.Input{shape = {4}}) end, 'model:add', 'can only come first')
  t.eq(#model.layers, 1, 'the model is unchanged')
  -- Without an Input, a shape kept from popped layers gives way as before (Keras 3).
  local popped = nn.Sequential{L.Dense{3, input_shape = {4}}}
  popped:pop()
  popped:add(L.Dense{2, input_shape = {5}})
  t.eq(tostring(popped.output_shape), '(None, 2)', 'a popped model takes a new first layer')
  t.raises(function() model:predict(nn.zeros(3, 5), {verbose = 0}) end, '(None, 4)', '(3, 5)')
end)

t.finish()
