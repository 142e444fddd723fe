-- Model files from Lua: model:save / nn.models.load_model give a model that predicts
-- bit-identically and trains on exactly like the original; save -> load -> save gives the
-- same bytes; weights files, get/set_weights; every error names what went wrong. Layer
-- kinds, optimizers and losses that are stubs in this tree are skipped with a note.
local t = require 'harness'
local L = nn.layers

local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-io-model'
nn.io.make_directory(directory)
local function path(name) return directory .. '/' .. name end


-- Whether a layer class is a stub here (building it says "not implemented yet").
local function layer_is_stub(name, input)
  local ok, err = pcall(function() nn.layers[name]()(input) end)
  return not ok and tostring(err):find('not implemented yet', 1, true) ~= nil
end

local function optimizer_is_stub(name)
  local model = nn.Sequential{L.Dense{2, input_shape = {2}}}
  model:compile{optimizer = name, loss = 'mse'}
  return model.optimizer.name ~= name
end

local function loss_is_stub()
  local model = nn.Sequential{L.Dense{2, input_shape = {2}}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  return model.loss ~= 'mean_squared_error'
end

local function skip(why)
  io.write('      skipped: ', why, '\n')
end

local function dense_model()
  return nn.Sequential{
    L.Dense{8, activation = 'relu', input_shape = {5}},
    L.Dense{3, activation = 'softmax'},
  }
end

local function data(rows, features)
  local x = nn.random.randn(rows, features)
  local labels = {}
  for i = 1, rows do labels[i] = (i * 7) % 3 end
  return x, nn.tensor(labels, 'int32')
end

local function same_weights(a, b)
  local wa, wb = a:get_weights(), b:get_weights()
  if #wa ~= #wb then return false end
  for i = 1, #wa do
    if not (wa[i] == wb[i]) then return false end
  end
  return true
end

-- Trains, saves, loads; checks predictions, settings, bytes and continued training.
local function check_round_trip(model, x, y, optimizer, name)
  model:compile{optimizer = optimizer, loss = 'sparse_categorical_crossentropy',
                metrics = {'accuracy'}}
  model:fit(x, y, {epochs = 2, batch_size = 8, verbose = 0})
  local first, second = path(name .. '-1.safetensors'), path(name .. '-2.safetensors')
  model:save(first)
  local copy = nn.models.load_model(first)
  t.truthy(model:predict(x, {verbose = 0}) == copy:predict(x, {verbose = 0}),
           name .. ': predictions bit-identical')
  t.truthy(same_weights(model, copy), name .. ': weights identical')
  t.eq(copy.compiled, true, name .. ': compiled')
  t.eq(copy.loss, model.loss, name .. ': loss')
  t.eq(copy.optimizer.name, model.optimizer.name, name .. ': optimizer')
  t.eq(copy.optimizer.learning_rate, model.optimizer.learning_rate, name .. ': learning rate')
  t.eq(copy.optimizer.iterations, model.optimizer.iterations, name .. ': iterations')
  t.eq(table.concat(copy.metrics_names, ','), table.concat(model.metrics_names, ','), name)
  t.eq(t.capture(function() copy:summary() end), t.capture(function() model:summary() end),
       name .. ': summary')
  copy:save(second)
  t.truthy(t.read_file(first) == t.read_file(second), name .. ': save -> load -> save same bytes')
  nn.random.seed(99)
  model:fit(x, y, {epochs = 1, batch_size = 8, verbose = 0})
  nn.random.seed(99)
  copy:fit(x, y, {epochs = 1, batch_size = 8, verbose = 0})
  t.truthy(same_weights(model, copy), name .. ': continued training stays identical')
end

t.test('a Dense model round-trips: predictions, settings, bytes, continued training', function()
  nn.random.seed(1)
  local x, y = data(40, 5)
  check_round_trip(dense_model(), x, y, {name = 'sgd', learning_rate = 0.05, momentum = 0.9},
                   'dense')
end)

t.test('every layer kind round-trips (a small CNN with all of them)', function()
  local stubs = {}
  for _, name in ipairs{'Conv2D', 'MaxPooling2D', 'BatchNormalization', 'Dropout'} do
    if layer_is_stub(name, nn.zeros(1, 4, 4, 1)) then stubs[#stubs + 1] = name end
  end
  if #stubs > 0 then return skip(table.concat(stubs, ', ') .. ' are stubs in this tree') end
  nn.random.seed(2)
  local x, y = data(32, 64)
  x = x:reshape(32, 8, 8, 1)
  local model = nn.Sequential{
    L.Conv2D{4, 3, padding = 'same', activation = 'relu', kernel_regularizer = 'l2',
             input_shape = {8, 8, 1}},
    L.BatchNormalization{momentum = 0.9},
    L.MaxPooling2D{2, strides = 2},
    L.Conv2D{6, {3, 3}, strides = 1, dilation_rate = 1, use_bias = false},
    L.Flatten(),
    L.Dense{8, activation = 'elu', kernel_constraint = 'max_norm'},
    L.Dropout{0.25},
    L.Activation{'tanh'},
    L.Dense{3, activation = 'softmax'},
  }
  check_round_trip(model, x, y, 'adam', 'cnn')
end)

t.test("to_json, model_from_json and clone_model copy the architecture, not the weights", function()
  nn.random.seed(4)
  local model = nn.Sequential{
    L.Conv2D{4, 3, padding = 'same', activation = 'relu', kernel_regularizer = 'l2',
             input_shape = {8, 8, 1}},
    L.BatchNormalization{momentum = 0.9},
    L.MaxPooling2D{2},
    L.Flatten(),
    L.Dropout{0.25},
    L.Dense{3, activation = 'softmax', name = 'classes'},
    name = 'small_cnn'}
  model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local text = model:to_json()
  t.eq(type(text), 'string', 'text')
  t.eq(text:sub(1, 60), '{"class_name":"Sequential","config":{"name":"small_cnn","lay', 'Keras\' form')
  t.truthy(text:find('"build_input_shape":[null,8,8,1]', 1, true), 'the input shape')
  t.truthy(text:find('"name":"classes"', 1, true), 'layer names')
  t.truthy(not text:find('"random"', 1, true), 'no random streams')
  t.truthy(not text:find('optimizer', 1, true), 'no compile settings')
  local function check_copy(copy, what)
    t.eq(copy.name, 'small_cnn', what .. ': name')
    t.eq(copy.compiled, false, what .. ': not compiled')
    t.eq(#copy.layers, #model.layers, what .. ': layers')
    for i, layer in ipairs(model.layers) do
      t.eq(copy.layers[i].name, layer.name, what .. ': layer ' .. i .. ' name')
      t.eq(tostring(copy.layers[i].output_shape), tostring(layer.output_shape),
           what .. ': layer ' .. i .. ' shape')
    end
    t.eq(copy:count_params(), model:count_params(), what .. ': parameters')
    t.eq(copy.layers[1].kernel_regularizer.l2, 0.01, what .. ': settings')
    t.eq(copy.layers[2].momentum, 0.9, what .. ': settings')
    t.eq(copy.layers[6].activation, 'softmax', what .. ': settings')
    t.truthy(not (copy.layers[1].kernel == model.layers[1].kernel), what .. ': fresh kernel')
    t.eq(copy.layers[2].moving_variance, nn.ones(4), what .. ': fresh statistics')
    t.eq(copy:to_json(), text, what .. ': the same JSON')
    copy:set_weights(model:get_weights())
    local x = nn.random.uniform(5, 8, 8, 1)
    t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}),
         what .. ': with the weights copied, the same predictions')
  end
  check_copy(nn.models.model_from_json(text), 'model_from_json')
  check_copy(nn.models.clone_model(model), 'clone_model')
  -- The fresh weights come from nn.random, so a seed repeats them.
  nn.random.seed(9)
  local first = nn.models.model_from_json(text)
  nn.random.seed(9)
  t.eq(nn.models.model_from_json(text).layers[1].kernel, first.layers[1].kernel, 'seeded')
  -- An unbuilt model's JSON gives an unbuilt model.
  local unbuilt = nn.Sequential{L.Dense{3}}
  t.eq(nn.models.clone_model(unbuilt).built, false, 'unbuilt stays unbuilt')
  t.truthy(unbuilt:to_json():find('"build_input_shape":null', 1, true), 'no input shape')
  local wrapped = nn.Sequential{L.TimeDistributed{L.Dense{2}, input_shape = {3, 4}}}
  t.eq(nn.models.clone_model(wrapped):to_json(), wrapped:to_json(), 'a wrapper and its layer')
  -- Bad calls.
  t.raises(function() nn.models.model_from_json(3) end,
           'nn.models.model_from_json: expected the JSON text of a model', 'got integer')
  t.raises(function() nn.models.model_from_json('{"class_name": "Sequential"') end,
           'nn.models.model_from_json', 'not valid JSON')
  t.raises(function() nn.models.model_from_json('{"class_name": "Functional", "config": {}}') end,
           'the architecture must be a Sequential model')
  t.raises(function()
             nn.models.model_from_json((text:gsub('"filters":4', '"filters":-4')))
           end, 'nn.models.model_from_json', 'filters')
  -- A number JSON reads as infinite is named as too large, not as 'a number'.
  t.raises(function()
             nn.models.model_from_json((text:gsub('"rate":0.25', '"rate":1e400')))
           end, 'nn.models.model_from_json', 'rate must be a finite number, got one too large')
  t.raises(function() nn.models.model_from_json(text, {}) end, 'takes one argument')
  -- names are checked as the constructors check them
  local first_name = text:match('"name":"(conv2d[^"]*)"')
  t.raises(function()
             nn.models.model_from_json((text:gsub('"name":"' .. first_name .. '"', '"name":"a\\tb"', 1)))
           end, 'name must not hold control characters (found byte 9 at position 2)')
  t.raises(function()
             nn.models.model_from_json((text:gsub('"name":"' .. first_name .. '"', '"name":"\\u0000x"', 1)))
           end, 'name must be 1 to 63 characters long (a \\u0000 ends it)')
  t.raises(function() nn.models.clone_model('model') end,
           'nn.models.clone_model: expected a model', 'got string')
  t.raises(function() model:to_json(true) end, 'model:to_json: takes no arguments')
end)

t.test('every optimizer round-trips with its state', function()
  for _, optimizer in ipairs{
    {name = 'sgd', momentum = 0.5, nesterov = true},
    {name = 'adam', amsgrad = true},
    {name = 'adamw'},
    {name = 'rmsprop', centered = true, momentum = 0.3},
    {name = 'adagrad'},
    {name = 'nadam', clipvalue = 0.5},
    {name = 'adamax', weight_decay = 0.01},
    {name = 'adadelta', learning_rate = 1, rho = 0.9},
    {name = 'lion', beta_2 = 0.95},
    {name = 'ftrl', learning_rate = 0.05, l1_regularization_strength = 0.01,
     learning_rate_power = -0.6},
  } do
    if optimizer_is_stub(optimizer.name) then
      skip(optimizer.name .. ' is a stub in this tree')
    else
      nn.random.seed(3)
      local x, y = data(24, 5)
      check_round_trip(dense_model(), x, y, optimizer, 'optimizer-' .. optimizer.name)
    end
  end
end)

t.test('load_model{compile=false} gives an uncompiled model with the same weights', function()
  nn.random.seed(4)
  local model = dense_model()
  model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy'}
  model:save(path('plain.safetensors'))
  local copy = nn.models.load_model(path('plain.safetensors'), {compile = false})
  t.eq(copy.compiled, false, 'compiled')
  t.truthy(same_weights(model, copy), 'weights')
  nn.models.save_model(model, path('plain2.safetensors'))
  t.truthy(t.read_file(path('plain.safetensors')) == t.read_file(path('plain2.safetensors')),
           'save_model is model:save')
  -- The path is save_model's second argument, model:save's first.
  t.raises(function() nn.models.save_model(model, 42) end,
           'nn.models.save_model: expected a file name as argument 2, got integer')
  t.raises(function() model:save(42) end, 'model:save: expected a file name as argument 1, got integer')
end)

t.test('save_weights / load_weights move weights between models of one architecture', function()
  nn.random.seed(5)
  local a, b = dense_model(), dense_model()
  t.truthy(not same_weights(a, b), 'two fresh models differ')
  a:save_weights(path('weights.safetensors'))
  t.eq(b:load_weights(path('weights.safetensors')), b, 'load_weights returns the model')
  t.truthy(same_weights(a, b), 'weights moved')
  local other = nn.Sequential{L.Dense{9, input_shape = {5}}, L.Dense{3}}
  local before = other:get_weights()
  t.raises(function() other:load_weights(path('weights.safetensors')) end,
           'model:load_weights', "tensor 'dense/kernel'", 'has shape (5, 8)')
  local after = other:get_weights()
  for i = 1, #before do t.truthy(before[i] == after[i], 'unchanged after a failed load') end
  t.raises(function() nn.models.load_model(path('weights.safetensors')) end,
           'holds only weights', 'load_weights')
end)

t.test('get_weights / set_weights copy and check every tensor', function()
  nn.random.seed(6)
  local model = dense_model()
  local weights = model:get_weights()
  t.eq(#weights, 4, 'kernel and bias of two layers')
  t.eq(tostring(weights[1].shape), '(5, 8)', 'first kernel')
  weights[2] = weights[2] + 1
  model:set_weights(weights)
  t.truthy(model:get_weights()[2] == weights[2], 'set')
  t.raises(function() model:set_weights({weights[1]}) end, 'has 4 weight tensors, got a list of 1')
  t.raises(function() model:set_weights({weights[2], weights[1], weights[3], weights[4]}) end,
           'entry 1 is for dense/kernel of shape (5, 8)')
end)

t.test('bad saves and loads say what is wrong', function()
  local model = dense_model()
  t.raises(function() nn.models.load_model(path('missing.safetensors')) end,
           'nn.models.load_model', 'missing.safetensors', 'No such file')
  t.raises(function() model:save(path('no/such/dir/m.safetensors')) end,
           'model:save', 'does not exist')
  model:save(path('exists.safetensors'))
  t.raises(function() model:save(path('exists.safetensors'), {overwrite = false}) end,
           'already exists and overwrite=false')
  t.raises(function() model:save(path('x.safetensors'), {compress = true}) end,
           "unknown option 'compress'")
  t.raises(function() model:save() end, 'model:save: expected a file name')
  t.raises(function() nn.Sequential{L.Dense{2}}:save_weights(path('w.safetensors')) end,
           'has no weights yet')
  t.raises(function() nn.Sequential{L.Dense{2}}:load_weights(path('exists.safetensors')) end,
           'is not built')
  local file = assert(io.open(path('garbage.safetensors'), 'wb'))
  file:write('this is not a model')
  file:close()
  t.raises(function() nn.models.load_model(path('garbage.safetensors')) end,
           'garbage.safetensors', 'runs past the end of the file')
end)

t.test('every model that builds loads again, up to 2^40 values per sample', function()
  -- Building and the file reader share one limit: a model at it saves and loads; past it,
  -- building already refuses, so no file is ever written that load_model would refuse.
  local widest = nn.Sequential{L.Flatten{input_shape = {1024, 1024, 1024, 1024}}}
  widest:save(path('widest.nnsh'))
  t.eq(tostring(nn.models.load_model(path('widest.nnsh')).layers[1].output_shape),
       '(None, 1099511627776)', 'Flatten of 2^40 values per sample, reloaded')
  t.raises(function() nn.Sequential{L.Flatten{input_shape = {1024, 1024, 1024, 2048}}} end,
           'more than 2^40 values')
end)

t.test("Keras' file names are refused for saving, and Keras' files named when loaded", function()
  local model = dense_model()
  t.raises(function() model:save(path('m.h5')) end, 'model:save', 'm.h5\' names a Keras HDF5 file',
           'nnsh writes safetensors files', "such as '" .. path('m.safetensors') .. "'")
  t.raises(function() model:save_weights(path('m.weights.H5')) end, 'model:save_weights',
           "such as '" .. path('m.weights.safetensors') .. "'")
  t.raises(function() nn.models.save_model(model, path('m.keras')) end, 'nn.models.save_model',
           'names a Keras archive')
  t.raises(function() nn.callbacks.ModelCheckpoint{path('ckpt-{epoch:02d}.hdf5')} end,
           'nn.callbacks.ModelCheckpoint', "such as '" .. path('ckpt-{epoch:02d}.safetensors') .. "'")
  t.raises(function() model:save(path('m.pt')) end, 'model:save', "m.pt' names a PyTorch file",
           "such as '" .. path('m.safetensors') .. "'")
  t.raises(function() model:save_weights(path('m.pth')) end, 'model:save_weights',
           'names a PyTorch file')
  for _, name in ipairs{'m.h5', 'm.weights.h5', 'm.keras', 'm.pt', 'm.pth'} do
    t.truthy(io.open(path(name)) == nil, name .. ' was not written')
  end
  local file = assert(io.open(path('keras.h5'), 'wb'))
  file:write('\x89HDF\r\n\x1a\n' .. string.rep('\0', 64))
  file:close()
  t.raises(function() nn.models.load_model(path('keras.h5')) end,
           'is an HDF5 file (Keras\' .h5 format), not a safetensors file')
  t.raises(function() model:load_weights(path('keras.h5')) end, 'model:load_weights', 'HDF5')
end)

t.test('a non-finite loss: an error naming epoch and batch, or a clean stop with TerminateOnNaN',
       function()
  if loss_is_stub() then return skip('the losses are stubs in this tree') end
  nn.random.seed(8)
  local rows = {}
  for i = 1, 16 do rows[i] = {i / 16, 1 - i / 16} end
  -- In the third batch of 4 when not shuffled: values fit accepts (it refuses NaN and
  -- infinity in the data) whose sum overflows float with kernel weights near 1, so the
  -- prediction and the loss become infinite.
  rows[10] = {3e38, 3e38}
  local x = nn.tensor(rows)
  local y = nn.zeros(16, 1)
  local function model()
    local m = nn.Sequential{L.Dense{1, input_shape = {2}}}
    m:compile{optimizer = 'sgd', loss = 'mse'}
    m:set_weights{nn.ones(2, 1), nn.zeros(1)}
    return m
  end
  local options = {epochs = 3, batch_size = 4, shuffle = false, verbose = 0}
  t.raises(function() model():fit(x, y, options) end, 'model:fit', 'the loss became',
           'epoch 1, batch 3')
  local m = model()
  local ended = false
  options.callbacks = {nn.callbacks.TerminateOnNaN(),
                       nn.callbacks.LambdaCallback{on_train_end = function() ended = true end}}
  local history
  local out = t.capture(function() history = m:fit(x, y, options) end)
  t.truthy(out:find('epoch 1, batch 3', 1, true), 'message names epoch and batch: ' .. out)
  t.eq(ended, true, 'on_train_end ran')
  t.eq(#history.epoch, 0, 'no epoch completed')
  for _, w in ipairs(m:get_weights()) do
    for _, v in ipairs(w:flatten():tolist()) do t.truthy(v == v, 'weights stay finite') end
  end
end)

t.test('weights or optimizer state turned non-finite by an update with a finite loss: an error',
       function()
  -- One sample, one step: the loss (1e10 - 1)^2 is finite, the update with a learning rate
  -- of 1e30 is not; without the check fit would return as if all were well.
  local m = nn.Sequential{L.Dense{1, input_shape = {1}}}
  m:compile{optimizer = nn.optimizers.SGD{learning_rate = 1e30}, loss = 'mse'}
  t.raises(function() m:fit(nn.ones(1, 1) * 1e10, nn.ones(1, 1), {verbose = 0}) end,
           'model:fit: the weights became NaN or infinite during epoch 1',
           'layer "dense', 'kernel first', 'learning_rate (it is 1e+30)')
  -- Gradients past float32 make Adam's state infinite: said as such, not as a learning rate.
  local adam = nn.Sequential{L.Dense{3, input_shape = {2}}}
  adam:compile{optimizer = 'adam', loss = 'mse'}
  t.raises(function() adam:fit(nn.ones(4, 2) * 1e38, nn.ones(4, 3), {verbose = 0}) end,
           "the optimizer's state (momentum of layer", 'outgrew float32', 'Scale the data')
  -- A sound run is not stopped, and TerminateOnNaN's users keep their choice.
  local sound = nn.Sequential{L.Dense{1, input_shape = {1}}}
  sound:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
  t.eq(#sound:fit(nn.ones(4, 1), nn.ones(4, 1), {epochs = 2, verbose = 0}).history.loss, 2,
       'two epochs')
end)

t.test('a file from before compile checked the labels of metrics still loads', function()
  -- Such a file named 'mae' beside sparse_categorical_crossentropy; its header is written
  -- here by hand from a plain save (safetensors: an 8-byte length, then the JSON).
  local model = nn.Sequential{L.Dense{3, input_shape = {2}}}
  model:compile{optimizer = 'sgd', loss = 'mse', metrics = {'mae', 'accuracy'}}
  model:save(path('old-metrics.nnsh'))
  local bytes = t.read_file(path('old-metrics.nnsh'))
  local length = string.unpack('<I8', bytes)
  local header = bytes:sub(9, 8 + length)
  local patched, count = header:gsub('mean_squared_error', 'sparse_categorical_crossentropy')
  t.eq(count, 1, 'the loss named once')
  t.write_file(path('old-metrics.nnsh'),
               string.pack('<I8', #patched) .. patched .. bytes:sub(9 + length))
  local said = t.capture(function() model = nn.models.load_model(path('old-metrics.nnsh')) end)
  t.truthy(said:find("left out metric 'mae', which read the other kind of labels than loss "
                     .. "'sparse_categorical_crossentropy'", 1, true), 'says so: ' .. said)
  t.eq(table.concat(model.metrics_names, ','), 'loss,accuracy', 'accuracy kept')
  t.eq(#model:get_weights(), 2, 'the weights loaded')
  local _, accuracy = model:evaluate(nn.ones(2, 2), nn.tensor{0, 1}, {verbose = 0})
  t.truthy(accuracy >= 0 and accuracy <= 1, 'and it evaluates')
end)

t.finish()
