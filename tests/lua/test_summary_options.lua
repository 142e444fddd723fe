-- model:summary's Keras options beyond explain and print_fn: show_trainable (a Trainable
-- column, N for a frozen layer), layer_range (rows limited by layer names, totals still
-- the whole model's), line_length and positions (Keras' column ends), expand_nested
-- (accepted: nested models are already shown layer by layer), and the errors for bad
-- values.
local t = require 'harness'
local L = nn.layers

local TRAINABLE_TABLE = [[
Model: "sequential"
____________________________________________________________________________
 Layer (type)                Output Shape              Param #   Trainable  
============================================================================
 dense (Dense)               (None, 4)                 16        N          
                                                                            
 dropout (Dropout)           (None, 4)                 0         Y          
                                                                            
 dense_1 (Dense)             (None, 2)                 10        Y          
                                                                            
 dense_2 (Dense)             (None, 1)                 3         Y          
============================================================================
Total params: 29
Trainable params: 13
Non-trainable params: 16
____________________________________________________________________________
]]

local RANGE_TABLE = [[
Model: "sequential"
_________________________________________________________________
 Layer (type)                Output Shape              Param #   
=================================================================
 dropout (Dropout)           (None, 4)                 0         
                                                                 
 dense_1 (Dense)             (None, 2)                 10        
=================================================================
Total params: 29
Trainable params: 13
Non-trainable params: 16
_________________________________________________________________
]]

local POSITIONS_TABLE = [[
Model: "sequential"
______________________________________________________________________
 Layer (type)               Output Shape            Param #           
======================================================================
 dense_2 (Dense)            (None, 1)               3                 
======================================================================
Total params: 29
Trainable params: 13
Non-trainable params: 16
______________________________________________________________________
]]

local TRAINABLE_BOX = [[
Model: "sequential"
+-------------------+--------------+---------+-----------+
| Layer (type)      | Output Shape | Param # | Trainable |
+===================+==============+=========+===========+
| dense (Dense)     | (None, 4)    |      16 |     N     |
| dropout (Dropout) | (None, 4)    |       0 |     -     |
| dense_1 (Dense)   | (None, 2)    |      10 |     Y     |
| dense_2 (Dense)   | (None, 1)    |       3 |     Y     |
+-------------------+--------------+---------+-----------+
 Total params: 29 (116 B)
 Trainable params: 13 (52 B)
 Non-trainable params: 16 (64 B)
]]

-- dense (16 weights, frozen), dropout, dense_1 (10), dense_2 (3).
local function frozen_model()
  local model = nn.Sequential{L.Dense{4, input_shape = {3}}, L.Dropout{0.5}, L.Dense{2},
                              L.Dense{1}}
  model.layers[1].trainable = false
  return model
end

local function summary_of(model, options)
  options.layout = options.layout or 'keras'
  return t.capture(function() model:summary(options) end)
end

t.test('show_trainable adds Keras\' Trainable column: N for the frozen layer, Y for the rest', function()
  t.eq(summary_of(frozen_model(), {show_trainable = true}), TRAINABLE_TABLE)
end)

t.test('layer_range limits the rows to the named layers, both included; totals stay the model\'s', function()
  t.eq(summary_of(frozen_model(), {layer_range = {'dropout', 'dense_1'}}), RANGE_TABLE)
end)

t.test('layer_range matches names at their start as Keras does; a final $ matches the whole name', function()
  local function names(range)
    local text = summary_of(frozen_model(), {layer_range = range})
    local found = {}
    for name in text:gmatch('\n ([%w_]+) %(%u') do found[#found + 1] = name end
    return table.concat(found, ' ')
  end
  t.eq(names{'dense', 'dense'}, 'dense dropout dense_1 dense_2', "'dense' also matches dense_2")
  t.eq(names{'dense', 'dense$'}, 'dense', "'dense$' is dense alone")
  t.eq(names{'drop', 'dense_1'}, 'dropout dense_1', 'a start of a name')
end)

t.test('line_length and positions place the columns as Keras does', function()
  t.eq(summary_of(frozen_model(), {positions = {0.4, 0.75, 1}, line_length = 70,
                                   layer_range = {'dense_2', 'dense_2'}}), POSITIONS_TABLE)
  local absolute = summary_of(frozen_model(), {positions = {28, 52, 70}, line_length = 70,
                                               layer_range = {'dense_2', 'dense_2'}})
  t.eq(absolute, POSITIONS_TABLE, 'absolute positions 28, 52, 70 are int(70 * 0.4), int(70 * 0.75), 70')
end)

t.test('the box layout shows the Trainable column too, - for a layer without weights', function()
  t.eq(summary_of(frozen_model(), {show_trainable = true, layout = 'box'}), TRAINABLE_BOX)
end)

t.test('expand_nested is accepted and changes nothing: a nested model is already flattened', function()
  local inner = nn.Sequential{L.Dense{4, input_shape = {3}}, L.Dense{2}}
  local outer = nn.Sequential{inner, L.Dense{1}}
  local plain = summary_of(outer, {})
  t.eq(summary_of(outer, {expand_nested = true}), plain, 'expand_nested = true')
  t.eq(summary_of(outer, {expand_nested = false}), plain, 'expand_nested = false')
  t.truthy(plain:find(' dense_1 (Dense)', 1, true), plain)
end)

t.test('bad values name model:summary, what it expects and what it got', function()
  local model = frozen_model()
  local function fails(options, ...)
    t.raises(function() model:summary(options) end, 'model:summary: ', ...)
  end
  fails({show_trainable = 1}, 'show_trainable must be true or false, got integer')
  fails({expand_nested = 'yes'}, 'expand_nested must be true or false, got string')
  fails({layer_range = 'dense'}, 'layer_range must be a pair of layer names {first, last}, got string')
  fails({layer_range = {'dense'}}, 'layer_range must be a pair of layer names {first, last}, got a table of 1 values')
  fails({layer_range = {'dense', 'dropout', 'dense_1'}}, 'got a table of 3 values')
  fails({layer_range = {'dense', 2}}, "layer_range's last entry must be a layer name (a string), got integer")
  fails({layer_range = {'conv2d', 'dense'}},
        "layer_range's first name 'conv2d' matches no layer of model \"sequential\"",
        'the layers: dense, dropout, dense_1, dense_2)')
  fails({layer_range = {'dense', 'flatten'}}, "layer_range's last name 'flatten' matches no layer")
  fails({layer_range = {'dense_1', 'dropout'}},
        "layer_range's first layer dense_1 (layer 3) comes after its last layer dropout (layer 2)")
  fails({layer_range = {'dense.*', 'dense_2'}},
        "layer_range's first entry must be a layer name (Keras' regular expressions are not supported",
        "got 'dense.*'")
  fails({positions = 0.5}, 'positions must be the ends of the 3 columns {a, b, c}', 'got number')
  fails({positions = {0.5, 1}}, 'got a table of 2 values')
  fails({positions = {0.5, 'x', 1}}, 'positions[2] must be a number > 0, got string')
  fails({positions = {0.5, -0.7, 1}}, 'positions[2] must be a number > 0, got -0.7')
  fails({positions = {30.5, 50, 70}}, 'positions[1] must be a whole number of characters', 'got 30.5')
  fails({positions = {30, 20, 70}}, 'leave column 2 -10 characters wide; each needs 4 at least (columns end at 30, 20, 70)')
  fails({positions = {29, 55, 74}, show_trainable = true},
        'leave column 4 2 characters wide', 'and Trainable at line_length + 11 = 76')
  fails({line_length = 20}, 'leave column 3 3 characters wide')
  fails({line_length = 0}, 'line_length must be between 1 and 100000, got 0')
  fails({line_length = 'wide'}, 'line_length must be an integer, got string')
  fails({positions = {0.45, 0.85, 1}, layout = 'box'},
        "line_length and positions place the columns of layout='keras'")
  fails({layout = 3}, "layout must be 'box' or 'keras', got integer")
  fails({print_fn = 'print'}, 'print_fn must be a function, got string')
  fails({show_traineable = true}, "unknown option 'show_traineable'")
end)

t.test('help and completion list every option model:summary takes', function()
  local names = {}
  for _, param in ipairs(nn._doc(frozen_model().summary).params) do names[#names + 1] = param.name end
  t.eq(table.concat(names, ' '),
       'explain show_trainable layer_range print_fn line_length positions layout expand_nested')
end)

t.finish()
