-- history:plot, nn.plot, nn.plot_model / model:plot and model:summary layouts, as Lua
-- sees them: inline text (ASCII here, since the output is captured), files, errors.
local t = require 'harness'
local L = nn.layers
local tmp = os.getenv('NNSH_TEST_TMP') or '/tmp'

local function trained()
  nn.random.seed(5)
  local x = nn.random.randn(240, 4)
  local y = (x * nn.tensor{1, -2, 0.5, 3}):sum(1):gt(0)
  local model = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}},
                              L.Dense{2, activation = 'softmax'}}
  model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local history = model:fit(x, y, {epochs = 4, batch_size = 16, validation_split = 0.25,
                                   verbose = 0})
  return model, history
end

local model, history = trained()


t.test('history:plot draws the seed figure inline, in ASCII off a terminal', function()
  local out = t.capture(function() history:plot() end)
  t.truthy(out:find('Training and Validation Loss', 1, true), out)
  t.truthy(out:find('Training and Validation Accuracy', 1, true), out)
  t.truthy(out:find('** Train Loss  oo Val Loss', 1, true), out)
  t.truthy(not out:find('[\128-\255]'), 'only ASCII off a terminal')
  t.truthy(not out:find('\27', 1, true), 'no escape codes off a terminal')
  local _, epochs = out:gsub('\n', '')
  t.truthy(epochs >= 14, 'a chart of 14 rows')
end)

t.test('history:plot options: Unicode, width, height, keys, log scale', function()
  local out = t.capture(function()
    history:plot{charset = 'unicode', width = 60, height = 10, keys = {'loss'}, log = true}
  end)
  t.truthy(out:find('\226\160', 1, true) or out:find('\226\161', 1, true) or
           out:find('\226\162', 1, true) or out:find('\226\163', 1, true), 'Braille dots')
  t.truthy(not out:find('Accuracy', 1, true), 'only the loss chart')
  local _, lines = out:gsub('\n', '')
  t.eq(lines, 10, 'height=10 rows')
  for line in out:gmatch('[^\n]+') do t.truthy(utf8.len(line) <= 60, 'width 60: ' .. line) end
end)

t.test('history:plot rejects what it cannot draw, naming what it can', function()
  t.raises(function() history:plot{keys = {'auc'}} end, "history:plot: the history has no 'auc'",
           'loss, accuracy, val_loss, val_accuracy')
  t.raises(function() history:plot{colour = true} end, "unknown option 'colour'", 'color')
  t.raises(function() history:plot{height = 0} end, 'height must be an integer from 6 to 1000, got 0')
  -- Too few rows drew blank lines; a huge height wrapped to the default in a C int.
  t.raises(function() history:plot{height = 5} end, 'height must be an integer from 6 to 1000')
  t.raises(function() history:plot{height = 1 << 40} end, 'got 1099511627776')
  t.raises(function() history:plot{charset = 'utf8'} end, "charset must be 'unicode' or 'ascii'")
  t.raises(function() history:plot{file = tmp .. '/curves.jpg'} end,
           'file must end in .svg, .png or .txt')
  t.raises(function() history:plot(3) end, 'expected a table of options')
end)

t.test('history:plot{file=} writes SVG or text and returns the path', function()
  local svg = tmp .. '/test_plots_curves.svg'
  local out = t.capture(function() t.eq(history:plot{file = svg}, svg) end)
  t.eq(out, '', 'nothing inline when writing a file')
  local content = t.read_file(svg)
  t.truthy(content:find('^<%?xml'), 'an XML document')
  t.truthy(content:find('</svg>\n$'), 'complete')
  t.truthy(content:find('>Training and Validation Accuracy</text>', 1, true), 'titles')
  local _, lines = content:gsub('<polyline', '')
  t.eq(lines, 4, 'train and validation lines of two charts')
  local txt = tmp .. '/test_plots_curves.txt'
  history:plot{file = txt}
  t.truthy(t.read_file(txt):find('Training and Validation Loss', 1, true), 'text figure')
  local both = t.capture(function() history:plot{file = txt, show = true} end)
  t.truthy(both:find('Training and Validation Loss', 1, true), 'show=true also draws inline')
  -- The file may come first, as in model:plot('net.svg')
  os.remove(svg)
  t.eq(history:plot(svg), svg, 'history:plot(file)')
  t.truthy(t.read_file(svg):find('</svg>\n$'), 'written')
  local ascii = tmp .. '/test_plots_ascii.txt'
  t.eq(history:plot(ascii, {width = 50}), ascii, 'history:plot(file, options)')
  local widest = 0
  for line in t.read_file(ascii):gmatch('[^\n]+') do widest = math.max(widest, utf8.len(line)) end
  t.truthy(widest <= 50 and widest > 30, 'the options are used: width 50, widest line ' .. widest)
  os.remove(ascii)
  t.raises(function() history:plot(svg, {file = txt}) end,
           'history:plot: the file is given twice (the first argument, and file=)')
  t.raises(function() history:plot({}, 'x') end, 'history:plot: unexpected argument 2 (string)')
  os.remove(svg)
  os.remove(txt)
end)

t.test('nn.plot draws lists, tensors, named series and histories', function()
  local out = t.capture(function() nn.plot({1, 4, 9, 16, 25}, {title = 'squares'}) end)
  t.truthy(out:find('squares', 1, true) and out:find('** y', 1, true), out)
  out = t.capture(function() nn.plot(nn.arange(10), {label = 'n', xlabel = 'i'}) end)
  t.truthy(out:find('** n', 1, true), out)
  out = t.capture(function() nn.plot({b = {3, 2, 1}, a = {1, 2, 3}}) end)
  t.truthy(out:find('** a  oo b', 1, true), 'named series in sorted order\n' .. out)
  out = t.capture(function() nn.plot({b = {3, 2, 1}, a = {1, 2, 3}}, {keys = {'b', 'a'}}) end)
  t.truthy(out:find('** b  oo a', 1, true), 'keys= order\n' .. out)
  out = t.capture(function() nn.plot({1, 0 / 0, 3, math.huge, 2}) end)
  t.truthy(out:find('** y (2 not shown)', 1, true), 'NaN and Inf are counted\n' .. out)
  out = t.capture(function() nn.plot({0.5}) end)
  t.truthy(out:find('*', 1, true), 'a single point is drawn\n' .. out)
  local figure = t.capture(function() nn.plot(history) end)
  t.eq(figure, t.capture(function() history:plot() end), 'nn.plot(history) is history:plot()')
end)

t.test('nn.plot checks its data', function()
  t.raises(function() nn.plot('loss') end, 'nn.plot: expected a History, a list of numbers')
  t.raises(function() nn.plot({1, 2}, {x = {1, 2, 3}}) end, "x has 3 values but series 'y' has 2")
  t.raises(function() nn.plot(nn.zeros(2, 2)) end, 'must be a 1-D tensor')
  t.raises(function() nn.plot({a = {1}}, {keys = {'b'}}) end, "no series named 'b'")
  t.raises(function() nn.plot({1, 2}, {width = 5}) end, 'width must be an integer from 20 to 1000')
  -- Words and flags are no data: an empty chart would hide the mistake.
  t.raises(function() nn.plot({'a', 'b'}) end,
           'nn.plot: data must be a list of numbers, got a string at position 1')
  t.raises(function() nn.plot({a = {1, 'q'}}) end, 'a must be a list of numbers, got a string at position 2')
  t.raises(function() nn.plot({1, 2}, {x = {1, true}}) end, 'x must be a list of numbers, got a boolean')
end)

t.test("the seed CNN's flow is the seed's board picture", function()
  local cnn = nn.Sequential{
    L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same', input_shape = {28, 28, 1}},
    L.MaxPooling2D{{2, 2}}, L.Conv2D{64, {3, 3}, activation = 'relu', padding = 'same'},
    L.MaxPooling2D{{2, 2}}, L.Flatten(), L.Dense{128, activation = 'relu'}, L.Dropout{0.5},
    L.Dense{10, activation = 'softmax'}}
  local out = t.capture(function() cnn:plot{charset = 'unicode'} end)
  t.eq(out, table.concat({'Input: (28, 28, 1)', '↓', 'Conv2D(32, 3×3, relu, same)',
    '↓ shape: (28, 28, 32)', 'MaxPooling2D(2×2)', '↓ shape: (14, 14, 32)',
    'Conv2D(64, 3×3, relu, same)', '↓ shape: (14, 14, 64)', 'MaxPooling2D(2×2)',
    '↓ shape: (7, 7, 64)', 'Flatten', '↓ shape: (3136,)', 'Dense(128, relu)',
    '↓ shape: (128,)', 'Dropout(0.5)', '↓ shape: (128,)', 'Dense(10, softmax)',
    '↓ shape: (10,)', ''}, '\n'))
end)

t.test('model:plot draws the network flow as the seed does', function()
  local out = t.capture(function() model:plot() end)
  t.eq(out, 'Input: (4,)\nv\nDense(8, relu)\nv shape: (8,)\nDense(2, softmax)\nv shape: (2,)\n')
  local unicode = t.capture(function() nn.plot_model(model, {charset = 'unicode'}) end)
  t.truthy(unicode:find('↓ shape: (8,)', 1, true), unicode)
  local svg = tmp .. '/test_plots_model.svg'
  t.eq(model:plot{file = svg}, svg)
  local content = t.read_file(svg)
  t.truthy(content:find('>Dense(8, relu)</text>', 1, true), 'layer boxes')
  t.truthy(content:find('>Output: (2,)</text>', 1, true), 'the output box')
  os.remove(svg)
end)

t.test("plot_model takes Keras' plot_model arguments where they mean something here", function()
  local frozen = nn.Sequential{L.Dense{8, activation = 'relu', input_shape = {4}, trainable = false},
                               L.Dense{2, activation = 'softmax'}}
  local function drawn(options) return t.capture(function() nn.plot_model(frozen, options) end) end
  t.eq(drawn{show_shapes = true, show_layer_names = false, show_layer_activations = true,
             show_dtype = false, show_trainable = false, expand_nested = false, rankdir = 'TB'},
       drawn(), "Keras' arguments at what nnsh draws by default change nothing")
  t.eq(drawn{show_shapes = false}, 'Input\nv\nDense(8, relu)\nv\nDense(2, softmax)\nv\n', 'show_shapes=false')
  t.eq(drawn{show_dtype = true},
       'Input: (4,), float32\nv\nDense(8, relu)\nv shape: (8,), float32\nDense(2, softmax)\nv shape: (2,), float32\n',
       'show_dtype')
  t.eq(drawn{show_layer_names = true, show_layer_activations = false, show_trainable = true},
       'Input: (4,)\nv\ndense: Dense(8) [frozen]\nv shape: (8,)\ndense_1: Dense(2) [trainable]\nv shape: (2,)\n',
       'names, no activations, trainable')
  t.eq(nn.describe_layer(L.Activation('tanh'), true), 'Activation(tanh)', 'an Activation layer keeps its own')
  t.eq(nn.describe_layer(L.TimeDistributed{L.Dense{4, activation = 'relu'}}, true),
       'TimeDistributed(Dense(4))', 'a wrapped layer without its activation')

  -- to_file is file; SVG shows names unless show_layer_names=false
  local svg = tmp .. '/test_plots_to_file.svg'
  t.eq(nn.plot_model(frozen, {to_file = svg, show_shapes = true}), svg, 'to_file returns the path')
  local content = t.read_file(svg)
  t.truthy(content:find('>dense_1</text>', 1, true), 'names in a picture by default')
  t.truthy(content:find('>shape: (8,)</text>', 1, true), 'shapes in a picture')
  frozen:plot{to_file = svg, show_layer_names = false, show_shapes = false}
  content = t.read_file(svg)
  t.truthy(not content:find('>dense_1</text>', 1, true), 'show_layer_names=false')
  t.truthy(not content:find('shape:', 1, true) and content:find('>Output</text>', 1, true), 'show_shapes=false')
  os.remove(svg)
  if nn._plots.terminal().png then
    local png = tmp .. '/test_plots_dpi.png'
    local function png_width()
      local file = assert(io.open(png, 'rb'))
      local header = file:read(24)
      file:close()
      return string.unpack('>I4', header, 17)
    end
    nn.plot_model(frozen, {to_file = png, dpi = 96})
    local at_96 = png_width()
    nn.plot_model(frozen, {to_file = png, dpi = 192})
    t.eq(png_width(), 2 * at_96, 'dpi=192 doubles the pixels of dpi=96')
    nn.plot_model(frozen, {to_file = png})
    t.eq(png_width(), 2 * at_96, 'the default is 192 dpi')
    -- A PNG is written as every file is: through a symbolic link to its target (the
    -- link stays a link), with the old file's permissions, and no temporary file left.
    local target, link = tmp .. '/test_plots_target.png', tmp .. '/test_plots_link.png'
    os.remove(target); os.remove(link)
    t.truthy(os.execute(string.format("printf old > '%s' && chmod 640 '%s' && ln -s '%s' '%s'",
                                      target, target, target, link)), 'made the link')
    nn.plot_model(frozen, {to_file = link, dpi = 96})
    local written = assert(io.open(target, 'rb'))
    t.eq(written:read(8), '\137PNG\r\n\26\n', 'the PNG went into the link target')
    written:close()
    local kind = io.popen(string.format("stat -c '%%F %%a' '%s' '%s'", link, target)):read('a')
    t.eq(kind, 'symbolic link 777\nregular file 640\n', 'the link stays, the permissions too')
    -- Only this file's temporaries: the directory is shared with the tests that run beside
    -- this one, whose saves may be half way when it looks.
    local count = "ls -a '%s' | grep -c '^[.]test_plots_target[.]png[.]nnsh-tmp'"
    local leftovers = io.popen(string.format(count, tmp)):read('a')
    t.eq(leftovers, '0\n', 'no temporary file left')
    os.remove(link); os.remove(target)
    os.remove(png)
  end

  -- Keras' plot_model(model, 'model.png'): the file second, options after it
  t.eq(nn.plot_model(frozen, svg), svg, 'a file as the second argument')
  t.truthy(t.read_file(svg):find('>dense_1</text>', 1, true), 'drawn there')
  frozen:plot(svg, {show_layer_names = false})
  t.truthy(not t.read_file(svg):find('>dense_1</text>', 1, true), 'options after the file')
  os.remove(svg)
  t.raises(function() nn.plot_model(frozen, svg, {to_file = svg}) end,
           'nn.plot_model: the file is given twice')
  t.raises(function() nn.plot_model(frozen, svg, 3) end,
           'nn.plot_model: expected a table of options after the file name, got integer')
  t.raises(function() nn.plot_model(frozen, {file = svg, to_file = svg}) end,
           'nn.plot_model: file and to_file are the same option; give one')
  t.raises(function() nn.plot_model(frozen, {rankdir = 'LR'}) end,
           "nn.plot_model: rankdir must be 'TB', got 'LR': the flow is drawn top to bottom only")
  t.raises(function() nn.plot_model(frozen, {dpi = 96}) end,
           'nn.plot_model: dpi sets the resolution of a .png file, but this draws inline text')
  t.raises(function() nn.plot_model(frozen, {to_file = svg, dpi = 96}) end,
           "dpi sets the resolution of a .png file, but this draws '" .. svg .. "'")
  t.raises(function() nn.plot_model(frozen, {to_file = tmp .. '/m.png', dpi = 0}) end,
           'nn.plot_model: dpi must be a number from 24 to 1200, got 0')
  t.raises(function() nn.plot_model(frozen, {show_shapes = 1}) end,
           'nn.plot_model: show_shapes must be true or false, got 1')
  t.raises(function() frozen:plot{show_dtype = 'yes'} end, "show_dtype must be true or false, got 'yes'")
  t.raises(function() nn.plot_model(frozen, {layer_range = {1, 2}}) end,
           "nn.plot_model: unknown option 'layer_range' (valid options: charset, dpi, expand_nested, file,")
end)

t.test('layers are labelled by the arguments that shape their output', function()
  t.eq(nn.describe_layer(L.Dense{128, activation = 'relu'}), 'Dense(128, relu)')
  t.eq(nn.describe_layer(L.Dense{10}), 'Dense(10)')
  t.eq(nn.describe_layer(L.Flatten()), 'Flatten')
  t.eq(nn.describe_layer(L.Softmax()), 'Softmax')
  t.eq(nn.describe_layer(L.Softmax{axis = 1}), 'Softmax(axis 1)')
  t.eq(nn.describe_layer(L.Activation('tanh')), 'Activation(tanh)')
  t.eq(nn.describe_layer(L.Conv2D{32, {3, 3}, activation = 'relu', padding = 'same'}),
       'Conv2D(32, 3×3, relu, same)')
  t.eq(nn.describe_layer(L.Conv2D{16, {3, 5}, strides = 2}), 'Conv2D(16, 3×5, stride 2)')
  t.eq(nn.describe_layer(L.Conv2D{8, 3, dilation_rate = {2, 1}}), 'Conv2D(8, 3×3, dilation 2×1)')
  t.eq(nn.describe_layer(L.MaxPooling2D{{2, 2}}), 'MaxPooling2D(2×2)')
  t.eq(nn.describe_layer(L.MaxPool2D{3, strides = 1, padding = 'same'}),
       'MaxPooling2D(3×3, stride 1, same)')
  t.eq(nn.describe_layer(L.Dropout{0.5}), 'Dropout(0.5)')
  -- every convolution, pooling and upsampling, of one, two or three dimensions
  t.eq(nn.describe_layer(L.Conv1D{8, 3, activation = 'relu', padding = 'causal'}),
       'Conv1D(8, 3, relu, causal)')
  t.eq(nn.describe_layer(L.Conv2DTranspose{16, 3, strides = 2, padding = 'same'}),
       'Conv2DTranspose(16, 3×3, stride 2, same)')
  t.eq(nn.describe_layer(L.DepthwiseConv2D{3, activation = 'relu'}), 'DepthwiseConv2D(3×3, relu)')
  t.eq(nn.describe_layer(L.SeparableConv1D{8, 5}), 'SeparableConv1D(8, 5)')
  t.eq(nn.describe_layer(L.MaxPooling1D{3, strides = 1}), 'MaxPooling1D(3, stride 1)')
  t.eq(nn.describe_layer(L.AveragePooling2D{2}), 'AveragePooling2D(2×2)')
  t.eq(nn.describe_layer(L.MaxPooling3D{{1, 2, 2}, strides = {1, 1, 1}}), 'MaxPooling3D(1×2×2, stride 1)')
  t.eq(nn.describe_layer(L.AvgPool3D{2}), 'AveragePooling3D(2×2×2)')
  t.eq(nn.describe_layer(L.UpSampling2D{2, interpolation = 'bilinear'}), 'UpSampling2D(×2, bilinear)')
  t.eq(nn.describe_layer(L.UpSampling3D{{1, 2, 2}}), 'UpSampling3D(1×2×2)')
  t.eq(nn.describe_layer(L.UpSampling1D{3}), 'UpSampling1D(×3)')
  t.eq(nn.describe_layer(L.Rescaling{1 / 255}), 'Rescaling(×1/255)')
  t.eq(nn.describe_layer(L.Rescaling{1 / 127.5, offset = -1}), 'Rescaling(×1/127.5 -1)')
  t.eq(nn.describe_layer(L.Rescaling{0.3}), 'Rescaling(×0.3)')
  t.eq(nn.describe_layer(L.Rescaling{4}), 'Rescaling(×4)')
  t.eq(nn.describe_layer(L.Rescaling{-1 / 255}), 'Rescaling(×-1/255)')
  t.eq(nn.describe_layer(L.BatchNormalization()), 'BatchNormalization')
  t.raises(function() nn.plot_model(nn.Sequential{L.Dense{3}}) end, 'is not built yet')
  t.raises(function() nn.plot_model({}) end, 'expected a model')
end)

t.test('model:summary{layout=} picks the box table or the Keras layout', function()
  local box = t.capture(function() model:summary{layout = 'box'} end)
  t.truthy(box:find('| dense (Dense)   | (None, 8)    |      40 |', 1, true), box)
  t.truthy(box:find('Total params: 58 (232 B)', 1, true), box)
  local keras = t.capture(function() model:summary{layout = 'keras'} end)
  t.eq(keras, t.capture(function() model:summary() end), 'off a terminal the default is Keras')
  t.raises(function() model:summary{layout = 'fancy'} end, "layout must be 'box' or 'keras', got 'fancy'")
end)

t.test('fit off a terminal leaves the live view closed and says why', function()
  local x = nn.random.randn(64, 4)
  local y = (x * nn.tensor{1, 1, 1, 1}):sum(1):gt(0)
  local out = t.capture(function() model:fit(x, y, {epochs = 1, verbose = 1}) end)
  t.truthy(not out:find('\r', 1, true), 'whole lines only')
  t.eq(nn._plots.last_view_problem(), 'the output is not a terminal')
end)

t.test('a terminal narrower than a chart draws it at the least width', function()
  local real = nn._plots.terminal
  nn._plots.terminal = function() return {tty = true, utf8 = false, color = false, columns = 10} end
  local ok, out = pcall(t.capture, function() nn.plot({1, 2, 3}) end)
  nn._plots.terminal = real
  t.truthy(ok, tostring(out))
  local widest = 0
  for line in out:gmatch('[^\n]+') do widest = math.max(widest, #line) end
  t.eq(widest, 20, 'drawn 20 columns wide')
end)

t.test('values too large for an axis are counted as not shown, never drawn as nan', function()
  local out = t.capture(function() nn.plot({1e308, -1e308, 1, 2}, {width = 40, height = 8}) end)
  t.truthy(out:find('(2 not shown)', 1, true), out)
  t.truthy(not out:lower():find('nan', 1, true), 'no nan: ' .. out)
  local svg = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/huge-range.svg'
  nn.plot({1e308, -1e308}, {file = svg})
  t.truthy(not t.read_file(svg):lower():find('nan', 1, true), 'no nan in the SVG')
end)

t.test('a history of more quantities than a figure holds says what it left out', function()
  local model = nn.Sequential{L.Dense{3, activation = 'softmax', input_shape = {2}}}
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  local extra = nn.callbacks.LambdaCallback{on_epoch_end = function(epoch, logs)
    for i = 1, 10 do logs['m' .. i] = i + epoch end
  end}
  local history = model:fit(nn.ones(4, 2), nn.tensor{0, 1, 2, 0},
                            {epochs = 2, verbose = 0, callbacks = {extra}})
  local out = t.capture(function() history:plot{width = 60, height = 6} end)
  t.truthy(out:find('(8 of 11 quantities drawn; choose others with keys={...})', 1, true), out)
  t.raises(function() history:plot{keys = {'m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'}} end,
           'history:plot: at most 8 quantities fit in one figure, got 9')
end)

t.test('an SVG stays UTF-8 XML whatever bytes a title holds', function()
  local svg = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/latin1-title.svg'
  nn.plot({1, 2, 3}, {title = 'caf\xe9 \xc3\xa9\27', file = svg})
  local text = t.read_file(svg)
  t.truthy(text:find('caf\xef\xbf\xbd \xc3\xa9<', 1, true), 'a stray byte becomes U+FFFD, UTF-8 stays')
  t.truthy(not text:find('\27', 1, true), 'no control characters')
end)

t.finish()
