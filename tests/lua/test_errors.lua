-- Bad calls: each raises a Lua error that names the function and what was expected, and
-- the process (and every object made before) goes on working.
local t = require 'harness'
local L = nn.layers

local x4 = nn.random.randn(2, 28, 28, 3)
local model = nn.Sequential{L.Dense{4, activation = 'softmax', input_shape = {3}}}
model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
local xs = nn.random.randn(8, 3)
local ys = nn.tensor({0, 1, 2, 3, 0, 1, 2, 3}, 'int32')

local cases = {
  -- tensors
  {'nn.tensor of a string', function() nn.tensor('abc') end, 'nn.tensor', 'table'},
  {'nn.tensor of a ragged table', function() nn.tensor{{1, 2}, {3}} end,
   'nn.tensor: the table is not rectangular: t[2] holds 1 entry, but t[1] holds 2'},
  {'nn.tensor ragged deeper down', function() nn.tensor{{{1, 2}, {3, 4}}, {{1, 2}, {3}}} end,
   'not rectangular: t[2][2] holds 1 entry, but t[1][1] holds 2'},
  {'nn.tensor with a number where a row was', function() nn.tensor{{1, 2}, 3} end,
   'not rectangular: t[2] is not a table (got integer), but t[1] is a table of 2'},
  {'nn.tensor with a string element', function() nn.tensor{{1, 2}, {3, 'x'}} end,
   'nn.tensor: every element must be a number, but t[2][2] is not (got string)'},
  {'nn.tensor of an empty table', function() nn.tensor{} end, 'empty'},
  {'nn.tensor with a non-number', function() nn.tensor{1, 'x'} end, 'number'},
  {'nn.tensor with an unknown dtype', function() nn.tensor({1}, 'complex64') end, 'complex64', 'float32'},
  {'nn.zeros with a zero size', function() nn.zeros(2, 0) end, 'zero'},
  {'nn.zeros with a negative size', function() nn.zeros(-3) end, 'nn.zeros', 'negative size -3 at axis 0'},
  {'nn.zeros with a fractional size', function() nn.zeros(2.5) end, 'nn.zeros', 'size 1 of the shape must be an integer, got 2.5'},
  {'nn.zeros with a fractional size in a table', function() nn.zeros{2, 0.5} end, 'size 2 of the shape must be an integer, got 0.5'},
  {'nn.ones with a dtype and an extra argument', function() nn.ones({2, 3}, 'uint8', 4) end,
   'nn.ones', 'unexpected argument 3 (4)', 'dtype'},
  {'nn.zeros with an extra argument after the shape table', function() nn.zeros({2, 3}, 'int32', 'x') end,
   'nn.zeros', "unexpected argument 3 ('x')"},
  {'nn.full with an extra argument', function() nn.full(2, 3, 4) end,
   'nn.full', 'unexpected argument 3 (4)', 'nn.full(shape, value)'},
  {'reshape with an extra argument after the shape table', function() nn.arange(6):reshape({2, 3}, 1) end,
   'tensor:reshape', 'unexpected argument 3 (1) after the shape table'},
  {'nn.arange to infinity', function() nn.arange(0, math.huge) end, 'nn.arange', 'stop must be a finite number, got inf'},
  {'nn.arange from minus infinity', function() nn.arange(-math.huge, 0) end, 'nn.arange', 'start must be a finite number, got -inf'},
  {'nn.arange to NaN', function() nn.arange(0 / 0) end, 'nn.arange', 'stop must be a finite number'},
  -- extra arguments are refused, not dropped
  {'add with two layers', function()
     nn.Sequential{L.Dense{4, input_shape = {3}}}:add(L.Dense{2}, L.Dense{7}) end,
   'model:add: unexpected argument 2 (nn.Layer); the call is model:add(layer)'},
  {'fit with an extra argument', function() model:fit(xs, ys, {verbose = 0}, 5) end,
   'model:fit: unexpected argument 4 (5)'},
  {'predict with an extra argument', function() model:predict(xs, {verbose = 0}, 5) end,
   'model:predict: unexpected argument 3 (5)'},
  {'compile with an extra argument', function() model:compile({loss = 'mse'}, 'extra') end,
   "model:compile: unexpected argument 2 ('extra')"},
  {'calling a model with an extra argument', function() model(xs, {}, 1) end,
   'model(x): unexpected argument 3 (1)'},
  {'calling a layer with an extra argument', function() L.Dense{2}(xs, {}, 1) end,
   'Dense "dense', 'unexpected argument 3 (1); the call is layer(x [, {training=false}])'},
  {'Dropout rate as a string', function() L.Dropout{'0.5'} end,
   "nn.layers.Dropout: rate must be a number, got the string '0.5' (tonumber converts it)"},
  {'kernel_size as a string', function() L.Conv2D{3, '3'} end,
   "kernel_size must be an integer or a pair of integers, got the string '3' (tonumber converts it)"},
  {'an l2 factor as a string', function() nn.regularizers.l2{l2 = '0.01'} end,
   "nn.regularizers.l2: l2 must be a number >= 0, got the string '0.01'"},
  {'EarlyStopping patience as a string', function() nn.callbacks.EarlyStopping{patience = '3'} end,
   "nn.callbacks.EarlyStopping: patience must be integer, got the string '3' (tonumber converts it)"},
  {'nn.arange with a number as a string', function() nn.arange('5') end,
   "nn.arange: the dtype must be a name such as 'float32' or 'int64', got '5' (a number as a string: tonumber converts it)"},
  {'nn.zeros with a size where the dtype goes', function() nn.zeros({2, 3}, 1) end,
   "nn.zeros: the dtype must be a name such as 'float32' or 'int64', got 1 (sizes belong in the shape)"},
  {'count_params with an argument', function() model:count_params(1) end,
   'model:count_params: unexpected argument 1 (1); the call is model:count_params()'},
  {'set_weights with an extra argument', function() model:set_weights(model:get_weights(), 'x') end,
   "model:set_weights: unexpected argument 2 ('x')"},
  {'nn.tensor with a third argument', function() nn.tensor({1, 2}, 'float32', 3) end,
   'nn.tensor: unexpected argument 3 (3); the call is nn.tensor(values [, dtype])'},
  {'concatenate with a third argument', function() nn.concatenate({xs, xs}, {axis = 0}, 3) end,
   'nn.concatenate: unexpected argument 3 (3)'},
  {'verbose as a string', function() model:fit(xs, ys, {verbose = '0'}) end,
   "model:fit: verbose must be 0, 1, 2 or 'auto', got '0'"},
  {'Sequential with a name that is not a string', function() nn.Sequential({}, 5) end,
   "nn.Sequential: argument 2 is the model's name, a string; got integer"},
  {'Sequential named twice', function() nn.Sequential({name = 'a'}, 'b') end,
   'nn.Sequential: the name is given twice'},
  -- numbers written as strings are refused, not converted as Lua's arithmetic would
  {'fit with epochs as a string', function() model:fit(xs, ys, {epochs = '3', verbose = 0}) end,
   "model:fit: epochs must be an integer, got the string '3' (tonumber converts it)"},
  {'Dense with units as a string', function() L.Dense{'4'} end,
   "nn.layers.Dense: units must be an integer, got the string '4' (tonumber converts it)"},
  {'nn.zeros with a size as a string', function() nn.zeros{'2', 3} end,
   "nn.zeros: size 1 of the shape must be an integer, got '2'"},
  {'reshape with a size as a string', function() nn.arange(6):reshape('3', 2) end,
   "tensor:reshape: size 1 of the shape must be an integer, got '3'"},
  {'nn.linspace with start as a string', function() nn.linspace('0', 1, 3) end,
   "nn.linspace: start must be a number, got the string '0' (tonumber converts it)"},
  {'nn.full with the value as a string', function() nn.full({2}, '1') end,
   "nn.full: value must be a number, got the string '1' (tonumber converts it)"},
  {'fill with a string', function() nn.zeros(2):fill('1') end,
   "tensor:fill: the value must be a number, got the string '1' (tonumber converts it)"},
  {'sum with the axis as a string', function() nn.zeros(2, 3):sum{axis = '1'} end,
   "tensor:sum: axis must be an integer (0 = first axis, -1 = last), got the string '1' (tonumber converts it)"},
  {'sum with an unknown option', function() nn.zeros(2, 3):sum{axes = 1} end,
   "tensor:sum: unknown option 'axes' (did you mean 'axis'?); valid options are: axis"},
  {'fit with an option misspelt', function() model:fit(xs, ys, {epochs = 1, bacth_size = 4}) end,
   "model:fit: unknown option 'bacth_size' (did you mean 'batch_size'?); valid options are: "},
  {'a layer argument misspelt', function() L.Dense{2, activaton = 'relu'} end,
   "nn.layers.Dense: unknown argument 'activaton' (did you mean 'activation'?); valid arguments are: units"},
  {'an activation misspelt', function() L.Dense{2, activation = 'rleu'} end,
   "nn.layers.Dense: unknown activation 'rleu' (did you mean 'relu'?); expected one of 'linear'"},
  {'a padding misspelt', function() L.Conv2D{2, 3, padding = 'vaild'} end,
   "nn.layers.Conv2D: padding must be one of valid, same, got 'vaild' (did you mean 'valid'?)"},
  {'compile with the optimizer misspelt', function() model:compile{optimizer = 'adma', loss = 'mse'} end,
   "model:compile: unknown optimizer 'adma' (did you mean 'adam'?); expected one of 'sgd'"},
  {'compile with the loss misspelt', function()
     model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropu'} end,
   "unknown loss 'sparse_categorical_crossentropu' (did you mean 'sparse_categorical_crossentropy'?)"},
  {'compile with a metric misspelt', function()
     model:compile{optimizer = 'adam', loss = 'mse', metrics = {'accurcy'}} end,
   "unknown metric 'accurcy' (did you mean 'accuracy'?)"},
  {'a callback option misspelt', function() nn.callbacks.EarlyStopping{monitr = 'loss'} end,
   "nn.callbacks.EarlyStopping: unknown option 'monitr' (did you mean 'monitor'?); valid options are: monitor"},
  {'a callback mode misspelt', function() nn.callbacks.EarlyStopping{mode = 'mni'} end,
   "nn.callbacks.EarlyStopping: mode must be 'auto', 'min' or 'max', got 'mni' (did you mean 'min'?)"},
  {'a tensor method misspelt', function() nn.zeros(2):reshap(2, 1) end,
   "tensor has no field or method 'reshap' (did you mean 'reshape'?); see help 'nn.Tensor'"},
  {"Python's layer.__class__", function() return L.Dense{2, name = 'd'}.__class__ end,
   "layer \"d\" has no field '__class__': its class's name is layer.class_name ('Dense')"},
  {'a layer field misspelt', function() return L.Dense{2, name = 'd'}.untis end,
   "layer \"d\" (Dense) has no field 'untis' (did you mean 'units'?)"},
  {'a tensor field nothing like any', function() return nn.zeros(2).xyz end,
   "tensor has no field or method 'xyz' (fields: shape, dtype, device, ndim, size, T; see help 'nn.Tensor')"},
  {'to_categorical with num_classes as a string', function()
     nn.utils.to_categorical(nn.tensor{1, 2}, '3') end,
   "nn.utils.to_categorical: num_classes must be a whole number from 1 to 1000000, got '3'"},
  {'nn.random.seed with a string', function() nn.random.seed('3') end,
   "nn.random.seed: the seed must be a whole number, got '3'"},
  {'nn.zeros with too many axes', function() nn.zeros(1, 1, 1, 1, 1, 1, 1, 1, 1) end, 'at most 8'},
  {'nn.zeros overflowing memory', function() nn.zeros(1 << 40, 1 << 40) end, 'memory'},
  {'nn.arange with a zero step', function() nn.arange(0, 5, 0) end, 'step'},
  {'nn.arange with four numbers', function() nn.arange(0, 5, 1, 2) end, 'nn.arange',
   'expected arange(stop), arange(start, stop) or arange(start, stop, step)', 'got 4 arguments'},
  {'nn.arange with no arguments', function() nn.arange() end, 'nn.arange', 'got 0 arguments'},
  {'nn.arange with an unknown dtype', function() nn.arange(3, 'half') end, 'nn.arange', "unknown dtype 'half'"},
  {'nn.arange of fractions in int32', function() nn.arange(0.5, 3, 'int32') end,
   'nn.arange', 'dtype int32 needs whole numbers within int64, got 0.5'},
  {'nn.arange beyond uint8', function() nn.arange(250, 260, 'uint8') end,
   'nn.arange', 'the values run from 250 to 259, beyond uint8 (0 to 255)'},
  {'nn.arange of no int64 values', function() nn.arange(3, 0, 'int64') end, 'nn.arange', 'holds no values'},
  {'nn.random.randint over the whole int64 range', function()
    nn.random.randint(math.mininteger, math.maxinteger, 3)
  end, 'nn.random.randint', 'int32', '-9223372036854775808'},
  {'nn.random.randint beyond int32', function() nn.random.randint(0, 2^40, 3) end,
   'nn.random.randint', '[0, 1099511627776)', 'int32', 'high <= 2147483648'},
  {'nn.random.uniform to infinity', function() nn.random.uniform(3, {low = 0, high = 1 / 0}) end,
   'nn.random.uniform', 'finite', 'high=inf'},
  {'nn.random.uniform with low equal to high', function() nn.random.uniform(3, {low = 1, high = 1}) end,
   'nn.random.uniform', 'low < high'},
  {'nn.random.uniform over more than a double', function() nn.random.uniform(3, {low = -1e308, high = 1e308}) end,
   'nn.random.uniform', 'finite'},
  {'nn.random.randn with an infinite mean', function() nn.random.randn(3, {mean = 1 / 0}) end,
   'nn.random.randn', 'mean=inf'},
  {'reshape to a wrong count', function() nn.arange(6):reshape(4, 2) end, 'cannot reshape', '(6,)'},
  {'reshape with two -1', function() nn.arange(6):reshape(-1, -1) end, 'only one'},
  {'astype to an unknown dtype', function() nn.arange(3):astype('float16') end, 'float16'},
  {'astype with a number', function() nn.arange(3):astype(32) end, 'dtype'},
  {'slice out of range', function() nn.arange(5):slice(3, 9) end, 'out of range'},
  {'slice backwards', function() nn.arange(5):slice(4, 2) end, 'before'},
  {'slice from a negative position before the first row', function() nn.arange(10):slice(-11) end,
   'tensor:slice', 'position -11 is out of range', 'rows are 1 to 10'},
  {'take an infinite position', function() nn.arange(5):take{1 / 0} end,
   'tensor:take', 'position inf is out of range'},
  {'take position 2^63', function() nn.arange(5):take{2^63} end,
   'tensor:take', 'position 9.2233720368547758e+18 is out of range'},
  {'take a fractional position', function() nn.arange(5):take{1.5} end, 'integers', '1.5'},
  {'take a string position', function() nn.arange(5):take{'a'} end, 'integers', 'string'},
  {'index past the end', function() return nn.arange(5)[6] end, 'out of range'},
  {'index with a fraction', function() return nn.arange(5)[1.5] end, 'integer'},
  {'unknown tensor field', function() return nn.arange(5).colour end, 'colour'},
  {'adding incompatible shapes', function() return nn.zeros(2, 3) + nn.zeros(4) end, 'broadcast', '(2, 3)', '(4,)'},
  {'adding a string', function() return nn.zeros(2) + 'a' end, 'tensor +'},
  {'argmax on a missing axis', function() nn.zeros(2, 3):argmax(5) end, 'axis 5'},
  {'argmax on a missing negative axis', function() nn.zeros(2, 3):argmax(-3) end,
   'tensor:argmax', 'axis -3 is out of range', '(2, 3)'},
  {'sum of a scalar along axis 0', function() nn.tensor(5):sum(0) end, 'tensor:sum', 'axis 0', '()'},
  {'mean of a scalar along axis 0', function() nn.tensor(5):mean(0) end, 'tensor:mean', 'axis 0', '()'},
  {'max of a scalar along axis -1', function() nn.tensor(5):max(-1) end, 'tensor:max', 'axis -1', '()'},
  {'sum of a scalar along axis 7', function() nn.tensor(5):sum(7) end, 'tensor:sum', 'axis 7', '()'},
  {'sum along an axis beyond int', function() nn.tensor{1, 2, 3}:sum(2^32) end,
   'tensor:sum', 'axis 4294967296 is out of range', '(3,)'},
  {'item of a vector', function() nn.zeros(3):item() end, 'one element'},
  -- layers
  {'Conv2D without filters', function() L.Conv2D{} end, 'Conv2D', 'filters'},
  {'Conv2D with zero filters', function() L.Conv2D{0, 3} end, 'filters', 'positive'},
  {'Conv2D with a string kernel size', function() L.Conv2D{8, 'big'} end, 'kernel_size'},
  {'Conv2D with a three-entry kernel size', function() L.Conv2D{8, {3, 3, 3}} end, 'kernel_size', 'pair'},
  {'Conv2D with zero strides', function() L.Conv2D{8, 3, strides = 0} end, 'strides', 'positive'},
  {'Conv2D with an unknown padding', function() L.Conv2D{8, 3, padding = 'full'} end, 'padding', 'valid, same', 'full'},
  {'Conv2D with an unknown argument', function() L.Conv2D{8, 3, paddings = 'same'} end, 'unknown argument', 'paddings', 'padding'},
  {'Conv2D with an unknown activation', function() L.Conv2D{8, 3, activation = 'relu7'} end, 'relu7', 'relu'},
  {'Conv2D with strides and dilation', function() L.Conv2D{8, 3, strides = 2, dilation_rate = 2} end, 'dilation'},
  {'Conv2D with too many positional arguments', function() L.Conv2D{8, 3, 1, 'same', 'channels_last', 1, 1, 'relu', true, 'x', 'y', 'z', 'w', 'v', 'u', 'q', 'r', 's', 't', 'p', 'o'} end, 'positional'},
  {'Rescaling with a third positional argument', function() L.Rescaling{1, 2, 3} end, 'at most 2 positional arguments (scale, offset)', 'position 3'},
  {'Rescaling without a scale', function() L.Rescaling{} end, 'missing required argument', 'scale'},
  {'Rescaling with an infinite scale', function() L.Rescaling{math.huge} end, 'scale must be a finite number of magnitude below 1e+09', 'inf'},
  {'Conv2D on a 2-D input', function() L.Conv2D{8, 3}(nn.zeros(4, 5)) end, 'conv2d'},
  {'Conv2D kernel larger than the input', function() L.Conv2D{8, 7}(nn.zeros(1, 4, 4, 1)) end, '<= 0'},
  {'Conv2D groups not dividing channels', function() L.Conv2D{8, 3, groups = 2}(x4) end, 'groups'},
  {'Conv3DTranspose with output_padding at the strides', function()
    L.Conv3DTranspose{4, 3, strides = {2, 2, 1}, output_padding = {1, 1, 1}}
  end, 'Conv3DTranspose', 'output_padding must be smaller than the strides', 'output_padding=(1, 1, 1)'},
  {'Conv3DTranspose with strides and dilation', function() L.Conv3DTranspose{4, 3, strides = 2, dilation_rate = 2} end,
   'Conv3DTranspose', 'dilation_rate > 1'},
  {'Conv3DTranspose with a two-entry kernel size', function() L.Conv3DTranspose{4, {3, 3}} end,
   'kernel_size', 'list of 3 integers'},
  {'Conv3DTranspose on images', function() L.Conv3DTranspose{4, 3}(x4) end, 'conv3d_transpose', 'expected ndim=5'},
  {'Conv3DTranspose output that does not map back', function()
    L.Conv3DTranspose{2, 2, padding = 'same', output_padding = 0}(nn.zeros(1, 3, 3, 3, 1))
  end, 'does not map back onto the input', 'leave output_padding None'},
  {'BatchNormalization epsilon 0', function() L.BatchNormalization{epsilon = 0} end,
   'epsilon must be >= 1e-30, got 0'},
  {'Dropout rate NaN', function() L.Dropout{0 / 0} end, 'rate must be in [0, 1), got nan'},
  -- The padded sample's size overflowed a C int in the kernel (UBSan) before this check.
  {'Conv2D same padding with a huge dilation', function()
    L.Conv2D{2, 3, dilation_rate = 2 ^ 30, padding = 'same'}(nn.random.randn(2, 6, 6, 6))
  end, "with padding='same', kernel_size=(3, 3) and dilation_rate=(1073741824, 1073741824)",
   'use a smaller dilation_rate'},
  {'Dense with zero units', function() L.Dense{0} end, 'units', 'positive'},
  {'Dense with units as a string', function() L.Dense{'ten'} end, 'units', 'integer'},
  {'Dense given twice the same argument', function() L.Dense{10, units = 10} end, 'twice'},
  {'Dense called on a different shape after build', function()
    local d = L.Dense{3}
    d(nn.zeros(2, 5))
    d(nn.zeros(2, 6))
  end, 'incompatible', '(None, 5)', '(2, 6)'},
  {'Dense kernel before build', function() return L.Dense{3}.kernel end, 'built'},
  {'Dropout rate of 1', function() L.Dropout{1.0} end, 'rate'},
  {'Dropout negative rate', function() L.Dropout{-0.1} end, 'rate'},
  {'MaxPool2D with zero pool size', function() L.MaxPool2D{0} end, 'pool_size'},
  {'MaxPool2D bigger than the input', function() L.MaxPool2D{5}(nn.zeros(1, 4, 4, 1)) end, '<= 0'},
  {'BatchNormalization with an axis beyond int', function() L.BatchNormalization{axis = 2^32} end,
   'axis', '4294967296'},
  {'BatchNormalization with momentum as a string', function() L.BatchNormalization{momentum = 'high'} end, 'momentum', 'number'},
  {'Activation without a name', function() L.Activation{} end, 'activation'},
  {'Flatten with an unknown data_format', function() L.Flatten{data_format = 'nhwc'} end, 'data_format', 'channels_last'},
  {'a layer with a bad initializer', function() L.Dense{3, kernel_initializer = 'golden'} end, 'golden'},
  {'a layer with a bad regularizer', function() L.Dense{3, kernel_regularizer = 'l3'} end, 'l3'},
  {'calling a layer on a string', function() L.Dense{3}('x') end, 'tensor'},
  {'calling a layer with an unknown option', function() L.Dense{3}(nn.zeros(1, 2), {train = true}) end, 'train'},
  -- models
  {'Sequential of a non-layer', function() nn.Sequential{42} end, 'layer'},
  {'Sequential with an unknown option', function() nn.Sequential{name = 'm', colour = 'red'} end, 'colour'},
  {'Dense after an image without Flatten', function()
    nn.Sequential{L.Conv2D{4, 3, input_shape = {8, 8, 1}}, L.Dense{10}}
  end, 'dense', 'conv2d', '(None, 6, 6, 4)', 'Flatten'},
  {'Conv2D after Flatten', function()
    nn.Sequential{L.Flatten{input_shape = {8, 8, 1}}, L.Conv2D{4, 3}}
  end, 'conv2d', 'flatten', '(None, 64)',
   'This layer needs (batch, height, width, channels) input, and "flatten" (Flatten) made it flat: move this layer before it.'},
  {'Conv2D on a flat input of square pictures', function()
    nn.Sequential{nn.Input{shape = {784}}, L.Conv2D{4, 3}}
  end, 'cannot take the model input of shape (None, 784)',
   "the model's input is flat: give it the pictures' shape, input_shape={28, 28, 1}, or put " ..
   'nn.layers.Reshape{{28, 28, 1}} first.'},
  {'Conv2D on a flat input of colour pictures', function()
    nn.Sequential{nn.Input{shape = {3072}}, L.Conv2D{4, 3}}
  end, "input_shape={32, 32, 3}, or put nn.layers.Reshape{{32, 32, 3}} first."},
  {'Conv2D after a Dense that made square pictures worth of features', function()
    nn.Sequential{L.Dense{784, input_shape = {10}}, L.Conv2D{4, 3}}
  end, 'the features reaching it from "dense" (Dense) are flat: put ' ..
       'nn.layers.Reshape{{28, 28, 1}} before this layer.'},
  {'channels-first pictures behind a layer that keeps their shape', function()
    nn.Sequential{L.Rescaling{1 / 255, input_shape = {1, 28, 28}}, L.Conv2D{8, 3}}
  end, 'The input looks channels-first, (channels, height, width): give input_shape={28, 28, 1}'},
  {'a flat input behind a layer that keeps its shape', function()
    nn.Sequential{L.Dropout{0.2, input_shape = {784}}, L.Conv2D{8, 3}}
  end, "the model's input is flat: give it the pictures' shape, input_shape={28, 28, 1}"},
  {'a decoder: Flatten, then a Dense, then a Conv2D', function()
    nn.Sequential{L.Conv2D{4, 3, input_shape = {28, 28, 1}}, L.Flatten(), L.Dense{784}, L.Conv2D{4, 3}}
  end, 'the features reaching it from "dense" (Dense) are flat: put nn.layers.Reshape{{28, 28, 1}} before this layer.'},
  {'a feature map the model made is not taken for channels-first pictures', function()
    nn.Sequential{L.Conv2D{8, 3, input_shape = {4, 20, 1}}, L.MaxPooling2D{2}, L.MaxPooling2D{2}}
  end, 'The feature map is too small for this window'},
  {'Conv2D right after a global pooling', function()
    nn.Sequential{L.Conv2D{4, 3, input_shape = {8, 8, 1}}, L.GlobalMaxPooling2D(), L.Conv2D{4, 3}}
  end, '"global_max_pooling2d" (GlobalMaxPooling2D) made it flat: move this layer before it.'},
  {'Conv2D on channels-first pictures', function()
    nn.Sequential{L.Conv2D{4, 3, input_shape = {1, 28, 28}}}
  end, "The input looks channels-first, (channels, height, width): give input_shape={28, 28, 1} " ..
       "(channels last, Keras' default), or data_format='channels_first'."},
  {'an input of more than 2^40 values per sample', function()
    nn.Sequential{L.Flatten{input_shape = {32768, 32768, 1024, 2}}}
  end, 'flatten', '(None, 32768, 32768, 1024, 2)', 'more than 2^40 values'},
  {'an output of more than 2^40 values per sample', function()
    nn.Sequential{L.UpSampling2D{{32768, 32768}, input_shape = {32, 32, 1024}}}
  end, 'up_sampling2d', 'its output (None, 1048576, 1048576, 1024)', 'more than 2^40 values'},
  {'a constraint axis the kernel does not have', function()
    nn.Sequential{L.Dense{2, kernel_constraint = nn.constraints.MaxNorm{2, axis = {5}},
                          input_shape = {4}}}
  end, 'layer "dense', '(Dense): its weight "kernel": constraint \'max_norm\': axis={5} does ' ..
       'not fit a weight of shape (4, 2), whose axes are 0 to 1'},
  {'a constraint over no axis, on a layer called directly', function()
    L.Dense{2, kernel_constraint = nn.constraints.MaxNorm{2, axis = {}}}(nn.ones(2, 4))
  end, "constraint 'max_norm': axis={} names no axis of a weight of shape (4, 2)"},
  {'pooling too much', function()
    nn.Sequential{L.MaxPool2D{4, input_shape = {6, 6, 1}}, L.MaxPool2D{4}}
  end, 'max_pooling2d_1', '(None, 1, 1, 1)'},
  {'adding the same layer twice', function()
    local d = L.Dense{2}
    local m = nn.Sequential{L.Dense{2, input_shape = {2}}, d}
    m:add(d)
  end, 'already'},
  {'summary before build', function() nn.Sequential{L.Dense{2}}:summary() end, 'not yet been built'},
  {'compile without loss', function() model:compile{optimizer = 'adam'} end, 'loss'},
  {'compile with an unknown optimizer', function() model:compile{optimizer = 'adamax2', loss = 'mse'} end, 'adamax2'},
  {'compile with an unknown loss', function() model:compile{optimizer = 'adam', loss = 'hinge2'} end, 'hinge2'},
  {'compile with an unknown metric', function()
    model:compile{optimizer = 'adam', loss = 'mse', metrics = {'f7'}}
  end, 'f7'},
  {'unknown loss lists the Keras names', function()
    model:compile{optimizer = 'adam', loss = 'hubber'}
  end, "unknown loss 'hubber'", "'huber', 'log_cosh', 'kl_divergence', 'poisson', 'hinge'", "'msle'"},
  {'unknown metric lists the new ones', function()
    model:compile{optimizer = 'adam', loss = 'mse', metrics = {'rmse'}}
  end, "unknown metric 'rmse'", "'root_mean_squared_error'", "'sparse_top_k_categorical_accuracy'"},
  {'a one-hot metric under the sparse loss', function()
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy',
                  metrics = {'accuracy', 'top_k_categorical_accuracy'}}
  end, 'model:compile', "metric 'top_k_categorical_accuracy' reads labels of the output's shape",
   "loss 'sparse_categorical_crossentropy' takes one class id per row",
   "use 'sparse_top_k_categorical_accuracy'"},
  {'a class-id metric under a loss of one-hot labels', function()
    model:compile{optimizer = 'adam', loss = 'categorical_crossentropy',
                  metrics = {'sparse_categorical_accuracy'}}
  end, "metric 'sparse_categorical_accuracy' reads one class id per row",
   "use 'categorical_accuracy' (or 'accuracy')"},
  {'a metric object with a setting of another class', function()
    nn.metrics.Precision{k = 3}
  end, 'nn.metrics.Precision', "unknown option 'k'; valid options are: name, thresholds"},
  {'a top-k of 0', function() nn.metrics.TopKCategoricalAccuracy{k = 0} end,
   'nn.metrics.TopKCategoricalAccuracy', 'k must be an integer >= 1, got 0'},
  {'a threshold above 1', function() nn.metrics.Recall{thresholds = 1.5} end,
   'nn.metrics.Recall', 'the threshold must be in [0, 1], got 1.5'},
  {'a metric name that cannot name a log', function() nn.metrics.Hinge{name = 'a b'} end,
   "a metric's name takes letters, digits and '_'"},
  {'a metric named as a validation log', function()
    model:compile{optimizer = 'adam', loss = 'mse',
                  metrics = {nn.metrics.MeanAbsoluteError{name = 'val_loss'}}}
  end, 'model:compile', "a metric cannot be named 'val_loss' (the logs call the loss 'loss' and validation values 'val_...')"},
  {'two metrics with one name', function()
    model:compile{optimizer = 'adam', loss = 'mse',
                  metrics = {'mse', nn.metrics.MeanAbsoluteError{name = 'mse'}}}
  end, 'model:compile', "two metrics are named 'mse'"},
  {'a cosine similarity over another axis', function()
    nn.losses.CosineSimilarity{axis = 1}
  end, 'nn.losses.CosineSimilarity', "cosine_similarity takes axis = -1 (the last axis, Keras' default) only, got 1"},
  {'a cosine similarity metric over another axis', function()
    nn.metrics.CosineSimilarity{axis = 0}
  end, 'nn.metrics.CosineSimilarity', "axis must be -1 (the last axis, Keras' default), got 0"},
  {'a class_id for a metric without classes', function() nn.metrics.Hinge{class_id = 1} end,
   'nn.metrics.Hinge', "unknown option 'class_id'; valid options are: name"},
  {'a negative class_id', function() nn.metrics.Precision{class_id = -1} end,
   'nn.metrics.Precision', 'precision: class_id must be an integer >= 0, got -1'},
  {'an AUC of one threshold', function() nn.metrics.AUC{num_thresholds = 1} end,
   'nn.metrics.AUC', 'auc: num_thresholds must be an integer from 2 to 2048, got 1'},
  {'an AUC of an unknown curve', function() nn.metrics.AUC{curve = 'DET'} end,
   'nn.metrics.AUC', "curve must be 'ROC' or 'PR', got 'DET'"},
  {'AUC metrics beyond the counts they share', function()
    model:compile{optimizer = 'adam', loss = 'mse', metrics = {nn.metrics.AUC{num_thresholds = 2000},
                  nn.metrics.AUC{num_thresholds = 2000, name = 'auc2'}}}
  end, 'model:compile', 'the AUC metrics take 4000 thresholds in all, more than the 2048 they may share'},
  {'metrics given as keys', function()
    model:compile{optimizer = 'adam', loss = 'mse', metrics = {mae = true}}
  end, 'model:compile', "metrics must be a list of names or nn.metrics objects, got a table with the key mae (write metrics = {'mae'})"},
  {'learning_rate set before compile', function()
    nn.Sequential{nn.layers.Dense{1, input_shape = {1}}}.learning_rate = 0.5
  end, 'is not compiled yet: compile{optimizer=...} sets its learning rate'},
  {'a metric that is neither name nor object', function()
    model:compile{optimizer = 'adam', loss = 'mse', metrics = {'mse', 42}}
  end, 'model:compile', "a metric must be a name such as 'accuracy' or a metric from nn.metrics, got integer"},
  {'Huber delta 0', function() nn.losses.Huber{delta = 0} end,
   'nn.losses.Huber', 'huber: delta must be a finite number > 0, got 0'},
  {'Huber negative delta at compile', function()
    model:compile{optimizer = 'adam', loss = {name = 'huber', delta = -2}}
  end, 'model:compile', 'delta must be a finite number > 0, got -2'},
  {'Huber infinite delta', function() nn.losses.Huber{delta = math.huge} end, 'got inf'},
  {'Huber NaN delta', function() nn.losses.Huber{delta = 0 / 0} end, 'got nan'},
  {'Huber delta not a number', function() nn.losses.Huber{delta = '2'} end,
   'delta must be a number, got string'},
  {'a setting Huber does not take', function() nn.losses.Huber{from_logits = true} end,
   'from_logits', 'delta'},
  {'delta on another loss', function() nn.losses.LogCosh{delta = 2} end, 'delta'},
  {'hinge labels of the wrong shape', function()
    local m = nn.Sequential{L.Dense{3, input_shape = {2}}}
    m:compile{optimizer = 'sgd', loss = 'hinge'}
    m:fit(nn.zeros(4, 2), nn.zeros(4), {verbose = 0})
  end, "hinge expects labels of the output's shape (None, 3)", '(4,)'},
  {'non-finite KL labels', function()
    local m = nn.Sequential{L.Dense{1, input_shape = {2}}}
    m:compile{optimizer = 'sgd', loss = 'kld'}
    m:fit(nn.zeros(2, 2), nn.tensor{{0}, {math.huge}}, {verbose = 0})
  end, 'kl_divergence: the label of sample 2 is inf'},
  {'compile with a negative learning rate', function()
    model:compile{optimizer = nn.optimizers.Adam{learning_rate = -1}, loss = 'mse'}
  end, 'learning_rate'},
  {'fit before compile', function() nn.Sequential{L.Dense{2, input_shape = {3}}}:fit(xs, ys) end, 'compile'},
  {'fit without labels', function() model:fit(xs) end, 'labels'},
  {'fit with mismatched rows', function() model:fit(xs, ys:slice(1, 4), {verbose = 0}) end, '8 samples', '(4,)'},
  {'fit with the wrong input shape', function() model:fit(nn.zeros(8, 5), ys, {verbose = 0}) end, '(None, 3)', '(8, 5)'},
  {'fit with labels out of range', function()
    model:fit(xs, nn.tensor({0, 1, 2, 9, 0, 1, 2, 3}, 'int32'), {verbose = 0})
  end, '9'},
  {'fit with a zero batch size', function() model:fit(xs, ys, {batch_size = 0}) end,
   'batch_size must be between 1 and 2147483648, got 0'},
  {'fit with a batch size beyond int', function() model:fit(xs, ys, {batch_size = 2^32 + 1}) end,
   'batch_size must be between 1 and 2147483648, got 4294967297'},
  {'fit with a validation_split of 1', function() model:fit(xs, ys, {validation_split = 1}) end, 'validation_split'},
  {'fit with an unknown option', function() model:fit(xs, ys, {epoch = 3}) end, 'epoch', 'epochs'},
  {'fit with verbose 5', function() model:fit(xs, ys, {verbose = 5}) end, 'verbose'},
  {'fit with bad validation_data', function() model:fit(xs, ys, {validation_data = {xs}}) end, 'validation_data'},
  {'fit with callbacks that are not tables', function() model:fit(xs, ys, {verbose = 0, callbacks = {1}}) end, 'callback'},
  {'evaluate without labels', function() model:evaluate(xs) end, 'labels'},
  {'predict on a wrong shape', function() model:predict(nn.zeros(2, 7), {verbose = 0}) end, '(None, 3)'},
  {'predict on one sample without its batch axis', function() model:predict(nn.zeros(3), {verbose = 0}) end,
   'expects input of shape (None, 3), but x has shape (3,); one sample needs a batch axis of 1: x:reshape(1, 3)'},
  {'channels-first images for a channels-last model', function()
     local conv = nn.Sequential{L.Conv2D{4, 3, input_shape = {28, 28, 1}}}
     conv:predict(nn.zeros(2, 1, 28, 28)) end,
   'model:predict: model "sequential" expects input of shape (None, 28, 28, 1), but x has shape (2, 1, 28, 28); x looks channels-first, and nnsh takes the channels last: x:transpose{0, 2, 3, 1}'},
  {'a model called on the wrong shape names the call once', function()
     local dense = nn.Sequential{L.Dense{2, input_shape = {3}}}
     dense(nn.zeros(2, 4)) end,
   'model(x): model "sequential" expects input of shape (None, 3), but x has shape (2, 4)'},
  {'channels-first images called in training mode', function()
     local conv = nn.Sequential{L.Conv2D{4, 3, input_shape = {28, 28, 1}}}
     conv(nn.zeros(2, 1, 28, 28), {training = true}) end,
   'model(x): model "sequential" expects input of shape (None, 28, 28, 1), but x has shape (2, 1, 28, 28); x looks channels-first'},
  {'channels-first sequences', function()
     local conv = nn.Sequential{L.Conv1D{4, 3, input_shape = {20, 3}}}
     conv:predict(nn.zeros(2, 3, 20)) end,
   'x looks channels-first, and nnsh takes the channels last: x:transpose{0, 2, 1}'},
  {'a layer called on one image without its batch axis', function() L.Conv2D{2, 3}(nn.zeros(28, 28, 1)) end,
   'Full shape received: (28, 28, 1). Its first axis is the batch: one sample needs a batch axis of 1, x:reshape(1, 28, 28, 1)'},
  {'a layer called on gray images without their channels axis', function() L.Conv2D{2, 3}(nn.zeros(4, 28, 28)) end,
   'Full shape received: (4, 28, 28). Its first axis is the batch: a batch of one-channel inputs needs its channels axis, x:reshape(4, 28, 28, 1)'},
  {'a channels_first layer called on gray images without their channels axis',
   function() L.MaxPooling2D{data_format = 'channels_first'}(nn.zeros(60, 28, 28)) end,
   'a batch of one-channel inputs needs its channels axis, x:reshape(60, 1, 28, 28)'},
  {'predict on gray images without their channels axis', function()
     local gray = nn.Sequential{L.Conv2D{2, 3, input_shape = {28, 28, 1}}}
     gray:predict(nn.zeros(4, 28, 28), {verbose = 0})
   end,
   'expects input of shape (None, 28, 28, 1), but x has shape (4, 28, 28); add the axis of size 1: x:reshape(4, 28, 28, 1)'},
  {'a layer name in the wrong case', function() return L.Conv2d{2, 3} end,
   "nn.layers has no layer 'Conv2d' (did you mean 'Conv2D'?)"},
  {'a layer name with a letter dropped', function() return L.MaxPoling2D{2} end,
   "nn.layers has no layer 'MaxPoling2D' (did you mean 'MaxPooling2D'?)"},
  {'a layer named by a prefix of some', function() return L.Conv{2} end,
   "nn.layers has no layer 'Conv'; did you mean Conv1D, Conv1DTranspose"},
  {'a layer nn does not have', function() return L.Foo{2} end,
   "nn.layers has no layer 'Foo'; nn.layer_classes() lists them"},
  {"PyTorch's Linear", function() return L.Linear{2} end,
   "nn.layers has no layer 'Linear' (a PyTorch name); nnsh writes nn.layers.Dense"},
  {"PyTorch's CrossEntropyLoss, which takes logits", function() return nn.losses.CrossEntropyLoss() end,
   "nn.losses has no 'CrossEntropyLoss' (a PyTorch name); nnsh writes nn.losses.SparseCategoricalCrossentropy{from_logits=true}"},
  {"PyTorch's MSELoss", function() return nn.losses.MSELoss() end,
   "nn.losses has no 'MSELoss' (a PyTorch name); nnsh writes nn.losses.MeanSquaredError{}, or loss = 'mean_squared_error' in compile"},
  {"PyTorch's Dropout2d, not a slip of Dropout", function() return L.Dropout2d{0.5} end,
   "nn.layers has no layer 'Dropout2d' (a PyTorch name); nnsh writes nn.layers.SpatialDropout2D"},
  {"PyTorch's Sigmoid module", function() return L.Sigmoid() end,
   "nn.layers has no layer 'Sigmoid' (a PyTorch name); nnsh writes nn.layers.Activation{'sigmoid'}"},
  {'a layer name with a slash', function() return L.Dense{2, name = 'a/b'} end,
   "nn.layers.Dense: name must not hold '/', which separates a layer's name from its weights' in a saved model, got \"a/b\""},
  {'a layer name that is not UTF-8', function() return L.Dense{2, name = '\xff'} end,
   'nn.layers.Dense: name must be valid UTF-8 text'},
  {'a model name that is not UTF-8', function() return nn.Sequential{name = '\xff'} end,
   'nn.Sequential: name must be valid UTF-8 text'},
  {'a model field by its Keras name', function() return model.metrics end,
   "model \"sequential\" has no field or method 'metrics'; did you mean metrics_names?"},
  {'a model method misspelt', function() return model.evalute end,
   "has no field or method 'evalute' (did you mean 'evaluate'?)"},
  {'a model method with two letters swapped', function() return model.fti end,
   "model \"sequential\" has no field or method 'fti' (did you mean 'fit'?)"},
  {'a model method named by its first letters', function() return model.summ end,
   "model \"sequential\" has no field or method 'summ'; did you mean :summary?"},
  {'a model member nothing like any', function() return model.xyz end,
   "model \"sequential\" has no field or method 'xyz'; help(model) lists them"},
  {"PyTorch's model.eval(), not a slip of evaluate", function() return model.eval end,
   "model \"sequential\" has no field or method 'eval' (a PyTorch name); model(x) and model:predict(x) already run in inference mode"},
  {"PyTorch's model.train()", function() return model.train end,
   "'train' (a PyTorch name); model:fit(x, y, {...}) trains"},
  {"PyTorch's model.parameters()", function() return model.parameters end,
   "'parameters' (a PyTorch name); model.trainable_weights"},
  {"PyTorch's model.state_dict()", function() return model.state_dict end,
   "'state_dict' (a PyTorch name); model:get_weights()"},
  {"PyTorch's optimizer.zero_grad() on a model", function() return model.zero_grad end,
   "'zero_grad' (a PyTorch name); fit and train_on_batch"},
  {"PyTorch's model.forward(x)", function() return model.forward end,
   "'forward' (a PyTorch name); call the model: model(x)"},
  {'get_layer with an unknown name', function() model:get_layer('nothing') end, 'nothing'},
  {'get_layer with a fraction', function() model:get_layer(2.5) end,
   'model:get_layer: a position must be a whole number (layers count from 1), got 2.5'},
  {'get_layer with a table', function() model:get_layer({}) end,
   "model:get_layer: expected a layer's name or its 1-based position, got table"},
  {'fit with a fractional batch size', function() model:fit(xs, ys, {batch_size = 2.5}) end,
   'model:fit: batch_size must be an integer, got 2.5'},
  {'fit with NaN epochs', function() model:fit(xs, ys, {epochs = 0 / 0}) end,
   'model:fit: epochs must be an integer, got NaN'},
  {'set_weights on a layer not built yet', function()
    L.Dense{2}:set_weights{nn.ones(3, 2), nn.zeros(2)}
  end, 'layer:set_weights: layer "dense', 'is not built yet', 'layer:build'},
  {'trace on a scalar', function() model:trace(5) end,
   'model:trace: expected a batch of inputs, got a scalar (5)'},
  {'an initializer table with no name', function() L.Dense{2, kernel_initializer = {l3 = 1}} end,
   'kernel_initializer must be an initializer name', 'got a table with no name'},
  {'a 1-D cropping of three numbers', function() L.Cropping1D{{1, 2, 3}} end,
   'nn.layers.Cropping1D: cropping must be an integer or a pair of integers, got a table that ' ..
   'is not a pair'},
  {'categorical crossentropy with integer labels', function()
    local m = nn.Sequential{L.Dense{4, activation = 'softmax', input_shape = {3}}}
    m:compile{optimizer = 'adam', loss = 'categorical_crossentropy'}
    m:fit(xs, ys, {verbose = 0})
  end, 'sparse_categorical_crossentropy'},
  {'fit with a string for x', function() model:fit('x', ys, {verbose = 0}) end,
   'model:fit: expected a tensor or a table of numbers for x, got string'},
  {'evaluate with a string for y', function() model:evaluate(xs, 'y', {verbose = 0}) end,
   'model:evaluate: expected a tensor or a table of numbers for y, got string'},
  {'set_weights with a string entry', function() model:set_weights{'a', 1} end,
   'model:set_weights: expected a tensor or a table of numbers for entry 1, got string'},
  {'a layer called on a string', function() L.Dense{2}('x') end,
   'expected a tensor or a table of numbers for the input, got string'},
  {'a method called with a dot', function() model.summary() end,
   'model:summary: expected a model (nn.Sequential) as argument 1, got no value; ' ..
   'call methods with a colon: model:summary(...)'},
  {'a tensor method called with a dot', function() xs.reshape(4, 6) end,
   'tensor:reshape: expected a tensor as argument 1, got integer; call methods with a colon'},
  {'to_categorical with a label past num_classes', function() nn.utils.to_categorical({0, 3}, 3) end,
   'nn.utils.to_categorical: label 3 at position 2 is not below num_classes=3'},
  {'to_categorical with a negative label', function() nn.utils.to_categorical({0, -1}) end,
   'label -1 at position 2 is not a class number'},
  {'to_categorical with a NaN label', function() nn.utils.to_categorical({0 / 0}) end,
   'label nan at position 1 is not a class number'},
  {'to_categorical with zero classes', function() nn.utils.to_categorical({0}, 0) end,
   'num_classes must be a whole number from 1 to 1000000, got 0'},
  -- settings that mean nothing as NaN or infinity, refused where they are written
  {'an initializer table with a NaN stddev', function()
    L.Dense{2, kernel_initializer = {'random_normal', stddev = 0 / 0}}
  end, 'nn.layers.Dense: kernel_initializer.stddev must be a finite number, got nan'},
  {'a constant initializer of infinity', function()
    L.Dense{2, kernel_initializer = {'constant', value = 1 / 0}}
  end, 'kernel_initializer.value must be a finite number, got inf'},
  {'a uniform initializer with minval above maxval', function()
    L.Dense{2, kernel_initializer = {'random_uniform', minval = 1, maxval = 0}}
  end, 'nn.layers.Dense: kernel_initializer needs minval <= maxval, got minval=1 maxval=0'},
  {'nn.initializers with a NaN stddev', function() nn.initializers.RandomNormal{stddev = 0 / 0} end,
   'nn.initializers.RandomNormal: stddev must be a finite number, got nan'},
  {'nn.regularizers.l2 of NaN', function() nn.regularizers.l2(0 / 0) end,
   'nn.regularizers.l2: l2 must be a finite number, got nan'},
  {'nn.constraints.MaxNorm of infinity', function() nn.constraints.MaxNorm{max_value = 1 / 0} end,
   'nn.constraints.MaxNorm: max_value must be a finite number, got inf'},
  {'a max_norm constraint below zero', function()
    L.Dense{2, kernel_constraint = {'max_norm', max_value = -1}}
  end, "nn.layers.Dense: kernel_constraint: constraint 'max_norm': max_value must be >= 0, got -1"},
  {'a min_max_norm constraint with min above max', function()
    L.Dense{2, kernel_constraint = nn.constraints.MinMaxNorm{2, 1}}
  end, 'needs 0 <= min_value <= max_value'},
  {'a float a hair above its bound shows its digits', function() L.ELU{alpha = 1.0000001e30} end,
   'alpha must be a finite number below 1e+30, got 1.0000001e+30'},
  {'an optimizer error names the optimizer once', function()
    nn.optimizers.Adam{clipnorm = 1, clipvalue = 1}
  end, 'nn.optimizers.Adam: only one of clipnorm, clipvalue and global_clipnorm can be set'},
  {'nn.optimizers.Adadelta with rho above 1', function() nn.optimizers.Adadelta{rho = 1.5} end,
   'nn.optimizers.Adadelta: rho must be between 0 and 1, got 1.5'},
  {'nn.optimizers.Adadelta with rho NaN', function() nn.optimizers.Adadelta{rho = 0 / 0} end,
   'nn.optimizers.Adadelta: rho must be between 0 and 1, got nan'},
  {'nn.optimizers.Nadam with beta_2 = 1', function() nn.optimizers.Nadam{beta_2 = 1} end,
   'nn.optimizers.Nadam: beta_2 must be in [0, 1), got 1'},
  {'nn.optimizers.Adamax with a negative epsilon', function() nn.optimizers.Adamax{epsilon = -1e-7} end,
   'nn.optimizers.Adamax: epsilon must be between 0 and 1, got -1e-07'},
  {'nn.optimizers.Adamax with beta_1 = 1 in compile', function()
    model:compile{optimizer = {name = 'adamax', beta_1 = 1}, loss = 'mse'}
  end, 'adamax: beta_1 must be in [0, 1), got 1'},
  {'nn.optimizers.Lion with beta_1 = 0 (signSGD)', function() nn.optimizers.Lion{beta_1 = 0} end,
   'nn.optimizers.Lion: beta_1 must be in (0, 1], got 0'},
  {'nn.optimizers.Lion with a string beta_2', function() nn.optimizers.Lion{beta_2 = '0.9'} end,
   "nn.optimizers.Lion: beta_2 must be a number, got the string '0.9' (tonumber converts it)"},
  {'nn.optimizers.Nadam with an unknown option', function() nn.optimizers.Nadam{beta1 = 0.9} end,
   'nn.optimizers.Nadam', "'beta1'"},
  {"Lion given another optimizer's epsilon", function() nn.optimizers.Lion{epsilon = 1e-3} end,
   "nn.optimizers.Lion: unknown option 'epsilon'", 'beta_1, beta_2'},
  {"SGD given Adam's beta_1", function() nn.optimizers.SGD{beta_1 = 0.5} end,
   "nn.optimizers.SGD: unknown option 'beta_1'", 'momentum, nesterov'},
  {"compile with Adadelta given RMSprop's momentum", function()
    nn.Sequential{L.Dense{1, input_shape = {2}}}:compile{optimizer = {name = 'adadelta', momentum = 0.9},
                                                       loss = 'mse'}
  end, "model:compile: unknown option 'momentum'", 'rho, epsilon'},
  {'an unknown optimizer lists the new ones', function()
    model:compile{optimizer = 'nadamw', loss = 'mse'}
  end, "unknown optimizer 'nadamw'", 'nadam', 'adamax', 'adadelta', 'lion', 'ftrl'},
  {'nn.optimizers.Ftrl with a positive learning_rate_power', function()
    nn.optimizers.Ftrl{learning_rate_power = 0.5}
  end, 'nn.optimizers.Ftrl: learning_rate_power must be between -1e+30 and 0, got 0.5'},
  {'nn.optimizers.Ftrl with a negative l1 strength', function()
    nn.optimizers.Ftrl{l1_regularization_strength = -0.1}
  end, 'nn.optimizers.Ftrl: l1_regularization_strength must be between 0 and 1e+30, got -0.1'},
  {'nn.optimizers.Ftrl with a learning rate of 0', function()
    nn.optimizers.Ftrl{learning_rate = 0}
  end, 'nn.optimizers.Ftrl: learning_rate must be above 0 (Ftrl divides by it, at least 1.17549e-38 in float32), got 0'},
  {'nn.constraints.MaxNorm below zero, where it is written', function()
    nn.constraints.MaxNorm{max_value = -1}
  end, 'nn.constraints.MaxNorm: max_value must be >= 0, got -1'},
  {'nn.constraints.MinMaxNorm with min above max', function()
    nn.constraints.MinMaxNorm{min_value = 2, max_value = 1}
  end, 'nn.constraints.MinMaxNorm: needs 0 <= min_value <= max_value'},
  {'nn.initializers.RandomUniform with minval above maxval', function()
    nn.initializers.RandomUniform{minval = 2, maxval = 1}
  end, 'nn.initializers.RandomUniform: needs minval <= maxval, got minval=2 maxval=1'},
  {'nn.initializers.RandomNormal with a negative stddev', function()
    nn.initializers.RandomNormal{stddev = -1}
  end, 'nn.initializers.RandomNormal: stddev must be >= 0, got -1'},
  {'a layer named -nan keeps its name in messages', function()
    L.Dense{2, name = '-nan'}(nn.zeros(2))
  end, 'Dense "-nan": Input 0 of layer "-nan"'},
  {'a NaN in a message reads nan, not -nan', function() nn.random.uniform({2}, 0 / 0, 1) end,
   'nn.random.uniform: unexpected argument 2 (nan) after the shape table'},
  -- data
  {'loading a missing IDX file', function() nn.datasets.load_idx('/nonexistent/file') end, '/nonexistent/file'},
  {'load_idx without a file name', function() nn.datasets.load_idx() end,
   'nn.datasets.load_idx: expected a file name as argument 1, got no value'},
  {'load_idx with a number for a name', function() nn.datasets.load_idx(5) end,
   'nn.datasets.load_idx: expected a file name as argument 1, got integer'},
  {'save_idx to a name with a zero byte', function() nn.datasets.save_idx(nn.ones(2), 'a\0b.idx') end,
   'nn.datasets.save_idx: the file name is empty or holds a zero byte'},
  {'save_idx with options it does not take', function() nn.datasets.save_idx(nn.ones(2), 'a.idx', {overwrite = false}) end,
   'nn.datasets.save_idx: unexpected argument 3 (table)'},
  {'load_data given a path, as Keras takes one', function() nn.datasets.mnist.load_data('/my/mnist.npz') end,
   "nn.datasets.mnist.load_data: unexpected argument 1 ('/my/mnist.npz'); the call is load_data(), which looks along search_path(); set NNSH_DATA=dir to use the IDX files in dir"},
  {'load_weights with by_name', function() model:load_weights('w.safetensors', {by_name = true}) end,
   'model:load_weights: unexpected argument 2 (table)'},
  {'load_model with a third argument', function() nn.models.load_model('m.safetensors', {}, 3) end,
   'nn.models.load_model: unexpected argument 3 (3)'},
  {'shape[0], as Python counts', function() return nn.ones(2, 3).shape[0] end,
   'shape[0]: lists count from 1 in Lua: shape[1] is the first size, shape[2] or shape[-1] the last'},
  {'shape[math.mininteger]', function() return nn.ones(4).shape[math.mininteger] end,
   'shape[-9223372036854775808]: there is only 1 size; shape[-1] is the last'},
  {'shape[-2] of a 1-D shape', function() return nn.ones(4).shape[-2] end,
   'shape[-2]: there is only 1 size; shape[-1] is the last'},
  {'model.layers[0], as Python counts', function()
     return nn.Sequential{L.Dense{2, input_shape = {3}}, L.Dense{1}}.layers[0] end,
   'model.layers[0]: lists count from 1 in Lua: model.layers[1] is the first layer, model.layers[2] or model.layers[-1] the last'},
  {'model.weights[-5] of four weights', function()
     return nn.Sequential{L.Dense{2, input_shape = {3}}, L.Dense{1}}.weights[-5] end,
   'model.weights[-5]: there are only 4 weights; model.weights[-1] is the last'},
  {'nn.learning_phase given the phase to set', function() nn.learning_phase(1) end,
   'nn.learning_phase: unexpected argument 1 (1); the call is nn.learning_phase(), which reads the phase; nn.set_learning_phase(1) sets it'},
  {'fit with no data at all', function() model:fit() end,
   'model:fit: expected inputs x and labels y (model:fit(x, y, {options}))'},
  {'evaluate with no data at all', function() model:evaluate() end,
   'model:evaluate: expected inputs x and labels y (model:evaluate(x, y))'},
  {'nn.random.seed with a string', function() nn.random.seed('abc') end,
   "nn.random.seed: the seed must be a whole number, got 'abc'"},
  {'nn.random.seed with a fraction', function() nn.random.seed(1.5) end,
   'nn.random.seed: the seed must be a whole number, got 1.5'},
  {'randint with one argument', function() nn.random.randint(3) end,
   'nn.random.randint: expected nn.random.randint(low, high, shape...), integers in [low, high); got 1 argument'},
  {'slice with a string', function() nn.arange(3):slice('a') end,
   "tensor:slice: first must be a whole number, got 'a'"},
  {'set_learning_phase with 2', function() nn.set_learning_phase(2) end,
   'nn.set_learning_phase: expected 0 (inference) or 1 (training), got 2'},
  -- device names: the function, what it takes and what came, never Lua's 'bad argument'
  {'tensor:to with no device', function() nn.zeros(2):to() end,
   "tensor:to: expected a device name ('cpu', 'gpu' or 'gpu:N'), got no value"},
  {'tensor:to with a table', function() nn.zeros(2):to({}) end,
   "tensor:to: expected a device name ('cpu', 'gpu' or 'gpu:N'), got table"},
  {'tensor:to with an extra argument', function() nn.zeros(2):to('cpu', 5) end,
   "tensor:to: unexpected argument 2 (5); the call is tensor:to('cpu' | 'gpu' | 'gpu:N')"},
  {'model:to with no device', function() model:to() end,
   "model:to: expected a device name ('cpu', 'gpu' or 'gpu:N'), got no value"},
  {'model:to with a layer', function() model:to(L.Dense{2}) end,
   "model:to: expected a device name ('cpu', 'gpu' or 'gpu:N'), got nn.Layer"},
  {'set_device with no device', function() nn.config.set_device() end,
   "nn.config.set_device: expected a device name ('cpu', 'gpu' or 'gpu:N'), got no value"},
  {'set_device with a number', function() nn.config.set_device(0) end,
   "nn.config.set_device: expected a device name ('cpu', 'gpu' or 'gpu:N'), got integer"},
  {'set_device with an extra argument', function() nn.config.set_device('cpu', 0) end,
   "nn.config.set_device: unexpected argument 2 (0); the call is nn.config.set_device('cpu' | 'gpu' | 'gpu:N')"},
  {'list_physical_devices with a table', function() nn.config.list_physical_devices({}) end,
   "nn.config.list_physical_devices: device type must be 'CPU' or 'GPU', got table"},
  {'list_physical_devices with an extra argument', function() nn.config.list_physical_devices('GPU', 1) end,
   "nn.config.list_physical_devices: unexpected argument 2 (1); the call is nn.config.list_physical_devices([device_type])"},
  -- a callback method that is not a function is named, not "attempt to call a number value"
  {'a callback whose on_epoch_end is a number', function()
     model:fit(xs, ys, {verbose = 0, callbacks = {{on_epoch_end = 3}}}) end,
   'model:fit: callbacks[1].on_epoch_end is not a function (got integer)'},
  {'a Callback whose on_train_batch_end is a string', function()
     model:fit(xs, ys, {verbose = 0, callbacks = {nn.callbacks.Callback{on_train_batch_end = 'x'}}}) end,
   'model:fit: callbacks[1].on_train_batch_end is not a function (got string)'},
  {'a second callback whose on_train_end is a table', function()
     model:fit(xs, ys, {verbose = 0, callbacks = {{}, {on_train_end = {}}}}) end,
   'model:fit: callbacks[2].on_train_end is not a function (got table)'},
  -- helpers written in Lua check their arguments as the C ones do
  {'nn.callbacks.Callback of a number', function() nn.callbacks.Callback(3) end,
   'nn.callbacks.Callback: expected a table of methods (such as {on_epoch_end = function(self, epoch, logs) ... end}), got integer'},
  {'nn.callbacks.Callback with a second argument', function() nn.callbacks.Callback({}, 3) end,
   'nn.callbacks.Callback: unexpected argument 2 (3); the call is nn.callbacks.Callback{on_epoch_end = function(self, epoch, logs) ... end, ...}'},
  {'nn.Input with the sizes loose, as keras.Input((28, 28, 1))', function() nn.Input({28, 28, 1}) end,
   'nn.Input: the sample shape is one table, nn.Input{shape = {28, 28, 1}} (or nn.Input{{28, 28, 1}}); got the number 28 as the first entry'},
  {'nn.describe_layer of a number', function() nn.describe_layer(3) end,
   'nn.describe_layer: expected a layer (such as nn.layers.Dense{10}), got integer'},
  {'nn.describe_layer of a tensor', function() nn.describe_layer(nn.zeros(2)) end,
   'nn.describe_layer: expected a layer (such as nn.layers.Dense{10}), got nn.Tensor'},
  {'nn.describe_layer of a table', function() nn.describe_layer({}) end,
   'nn.describe_layer: expected a layer (such as nn.layers.Dense{10}), got table'},
  -- fields are named by strings; another key is named as such, not "bad argument #2 to 'index'"
  {'a layer indexed by a boolean', function() return L.Dense{2, name = 'd'}[true] end,
   'layer "d": fields are named by strings, got a key of type boolean'},
  {'a layer field set with a table key', function() L.Dense{2, name = 'd'}[{}] = 1 end,
   'layer "d": fields are named by strings, got a key of type table'},
  {'a model indexed by a boolean', function() return model[false] end,
   'model "sequential": fields are named by strings, got a key of type boolean'},
  {'a model field set with a table key', function() model[{}] = true end,
   'model "sequential": fields are named by strings, got a key of type table'},
  {'an nn.Input indexed by a table', function() return nn.Input{shape = {2}}[{}] end,
   'nn.Input: fields are named by strings, got a key of type table'},
  {'an nn.Input field set with a boolean key', function() nn.Input{shape = {2}}[true] = 1 end,
   'nn.Input: fields are named by strings, got a key of type boolean'},
  {'nn.random.permutation of a fraction', function() nn.random.permutation(2.5) end,
   'nn.random.permutation: expected a count (an integer) or a tensor, got 2.5'},
  {'nn.random.permutation of 2^63, whole but too large', function() nn.random.permutation(2^63) end,
   'nn.random.permutation: the count must be from 1 to 2^40, got 9.223372036854776e+18'},
  {'an optimizer table with a hole at the learning rate', function() nn.optimizers.Adam{nil, 0.2} end,
   'nn.optimizers.Adam: takes 1 positional setting (learning_rate), got one at position 2'},
  {'nn.activations.elu with a NaN alpha', function() nn.activations.elu(nn.ones(2), 0 / 0) end,
   'nn.activations.elu: alpha must be between 0 and 1e+30, got nan'},
  {'nn.activations.leaky_relu with a slope a float cannot hold', function()
     nn.activations.leaky_relu(nn.ones(2), 1e300) end,
   'nn.activations.leaky_relu: negative_slope must be between 0 and 1e+30, got 1e+300'},
  {'nn.random.permutation of 2^41 written as a float', function() nn.random.permutation(2^41) end,
   'nn.random.permutation: the count must be from 1 to 2^40, got 2199023255552'},
}

for _, case in ipairs(cases) do
  t.test('error: ' .. case[1], function()
    t.raises(case[2], table.unpack(case, 3))
  end)
end

t.test('build errors name the layer once, whichever way the layer is built', function()
  local function message(f)
    local ok, err = pcall(f)
    t.eq(ok, false, 'refused')
    return tostring(err)
  end
  local function occurrences(text, name)
    local count = 0
    for _ in text:gmatch('"' .. name .. '"') do count = count + 1 end
    return count
  end
  local built = message(function() L.BatchNormalization{axis = 5, name = 'bn'}:build{3, 4} end)
  t.truthy(built:find('layer:build: BatchNormalization "bn": invalid axis 5', 1, true), built)
  local called = message(function() L.BatchNormalization{axis = 5, name = 'bn2'}(nn.zeros(3, 4)) end)
  t.eq(occurrences(called, 'bn2'), 1, called)
  local added = message(function()
    nn.Sequential{L.Dense{4, input_shape = {3}}, L.Dropout{0.5, noise_shape = {1, 5}, name = 'drop'}}
  end)
  t.eq(occurrences(added, 'drop'), 1, added)
  local wrapped = message(function() L.TimeDistributed{L.Conv2D{4, 3}, name = 'td'}(nn.zeros(2, 3, 5)) end)
  t.eq(occurrences(wrapped, 'td'), 1, wrapped)
  t.truthy(wrapped:find('applying "conv2d', 1, true), wrapped)
end)

t.test('a constraint that cannot apply is refused before fit moves any weight', function()
  local dense = L.Dense{2, kernel_constraint = nn.constraints.UnitNorm{axis = 3}}
  t.raises(function() nn.Sequential{nn.Input{shape = {4}}, dense} end, "axis={3} does not fit")
  t.eq(dense.built, false, 'the layer stays unbuilt')
end)

t.test('the advice for a window too large comes only when the window is the problem', function()
  local _, too_big = pcall(function()
    nn.Sequential{L.Conv2D{2, 3, input_shape = {60000, 60000, 1000}}}
  end)
  t.truthy(tostring(too_big):find('more than 2^40 values', 1, true), too_big)
  t.truthy(not tostring(too_big):find('too small', 1, true), too_big)
  local _, too_small = pcall(function() nn.Sequential{L.Conv2D{2, 5, input_shape = {3, 3, 1}}} end)
  t.truthy(tostring(too_small):find('The feature map is too small for this window', 1, true),
           too_small)
end)

t.test('constructors that take one table refuse an argument after it instead of dropping it', function()
  for _, call in ipairs{
    {'nn.optimizers.Adam', function() return nn.optimizers.Adam({learning_rate = 0.1}, 0.9) end},
    {'nn.losses.CategoricalCrossentropy',
     function() return nn.losses.CategoricalCrossentropy({from_logits = true}, 0.1) end},
    {'nn.metrics.Precision', function() return nn.metrics.Precision({}, 0.3) end},
    {'nn.optimizers.schedules.ExponentialDecay',
     function() return nn.optimizers.schedules.ExponentialDecay({0.1, 100, 0.9}, true) end},
    {'nn.Input', function() return nn.Input({shape = {3}}, 'float64') end},
  } do
    t.raises(call[2], call[1] .. ': unexpected argument 2')
  end
  -- one table alone, or none, is still the call
  t.eq(nn.optimizers.Adam{learning_rate = 0.1}.learning_rate, 0.1)
  t.eq(nn.metrics.Precision().name, 'precision')
end)

t.test('at least 40 distinct bad calls were checked', function()
  t.truthy(#cases >= 40, #cases .. ' cases')
end)

t.test('after all those errors, the model and data still work', function()
  local h = model:fit(xs, ys, {epochs = 1, verbose = 0})
  t.eq(#h.history.loss, 1)
  t.eq(tostring(x4.shape), '(2, 28, 28, 3)')
end)

t.finish()
