-- nn.callbacks: Keras' behaviour, defaults and messages for every callback. The metric a
-- callback watches is scripted by a LambdaCallback placed before it (callbacks share the
-- logs table of an epoch), so each test knows exactly what the callback sees.
local t = require 'harness'
local L = nn.layers
local C = nn.callbacks

local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-callbacks'
nn.io.make_directory(directory)
local function path(name) return directory .. '/' .. name end

local function exists(file)
  local handle = io.open(file, 'rb')
  if handle then handle:close() end
  return handle ~= nil
end


local function setup(seed)
  nn.random.seed(seed or 1)
  local model = nn.Sequential{L.Dense{6, activation = 'relu', input_shape = {4}}, L.Dense{3}}
  model:compile{optimizer = {name = 'sgd', learning_rate = 0.1},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local x = nn.random.randn(24, 4)
  local labels = {}
  for i = 1, 24 do labels[i] = i % 3 end
  return model, x, nn.tensor(labels, 'int32')
end

-- A callback that sets logs[key] to values[epoch + 1] at each epoch's end.
local function script(key, values)
  return C.LambdaCallback{on_epoch_end = function(epoch, logs) logs[key] = values[epoch + 1] end}
end

local function lines(text)
  local out = {}
  for line in text:gmatch('[^\n]+') do out[#out + 1] = line end
  return out
end

local function fit(model, x, y, epochs, callbacks)
  local history
  local out = t.capture(function()
    history = model:fit(x, y, {epochs = epochs, batch_size = 8, verbose = 0,
                               callbacks = callbacks})
  end)
  return history, lines(out), out
end

-- ---- ModelCheckpoint ----

t.test('ModelCheckpoint: templated names, save_best_only and the Keras messages', function()
  local model, x, y = setup()
  local template = path('best-{epoch:02d}-{val_loss:.2f}.safetensors')
  local _, out = fit(model, x, y, 4, {
    script('val_loss', {0.5, 0.4, 0.45, 0.3}),
    C.ModelCheckpoint{template, save_best_only = true, verbose = 1},
  })
  t.eq(out[1], 'Epoch 1: val_loss improved from inf to 0.50000, saving model to ' ..
               path('best-01-0.50.safetensors'))
  t.eq(out[2], 'Epoch 2: val_loss improved from 0.50000 to 0.40000, saving model to ' ..
               path('best-02-0.40.safetensors'))
  t.eq(out[3], 'Epoch 3: val_loss did not improve from 0.40000')
  t.eq(out[4], 'Epoch 4: val_loss improved from 0.40000 to 0.30000, saving model to ' ..
               path('best-04-0.30.safetensors'))
  t.eq(#out, 4, 'four messages')
  t.truthy(exists(path('best-01-0.50.safetensors')) and exists(path('best-04-0.30.safetensors')),
           'improving epochs saved')
  t.truthy(not exists(path('best-03-0.45.safetensors')), 'epoch 3 not saved')
  local best = nn.models.load_model(path('best-04-0.30.safetensors'))
  t.truthy(best:predict(x, {verbose = 0}) == model:predict(x, {verbose = 0}),
           'the last checkpoint is the final model')
end)

t.test('ModelCheckpoint: defaults are silent, every epoch, whole model; mode max', function()
  local model, x, y = setup()
  local _, out = fit(model, x, y, 2, {C.ModelCheckpoint{path('every-{epoch}.safetensors')}})
  t.eq(#out, 0, 'verbose=0 prints nothing')
  t.truthy(exists(path('every-1.safetensors')) and exists(path('every-2.safetensors')), 'saved')
  nn.models.load_model(path('every-2.safetensors'))
  _, out = fit(model, x, y, 3, {
    script('val_accuracy', {0.5, 0.4, 0.7}),
    C.ModelCheckpoint{path('acc.safetensors'), monitor = 'val_accuracy', save_best_only = true,
                      verbose = 1},
  })
  t.eq(out[1], 'Epoch 1: val_accuracy improved from -inf to 0.50000, saving model to ' ..
               path('acc.safetensors'), "'acc' in the name means max")
  t.eq(out[2], 'Epoch 2: val_accuracy did not improve from 0.50000')
  t.eq(out[3]:sub(1, 46), 'Epoch 3: val_accuracy improved from 0.50000 to')
end)

t.test('ModelCheckpoint: weights only, batch frequency, nested directories', function()
  local model, x, y = setup()
  fit(model, x, y, 1, {C.ModelCheckpoint{path('weights-only.safetensors'),
                                         save_weights_only = true}})
  t.raises(function() nn.models.load_model(path('weights-only.safetensors')) end,
           'holds only weights')
  local copy = setup()
  copy:load_weights(path('weights-only.safetensors'))
  t.truthy(copy:predict(x, {verbose = 0}) == model:predict(x, {verbose = 0}), 'weights saved')
  -- 24 samples in batches of 8: 3 batches an epoch, 6 in two; a save every 2 batches.
  fit(model, x, y, 2, {C.ModelCheckpoint{path('sub/dir/e{epoch}-b{batch}.safetensors'),
                                         save_freq = 2}})
  for _, name in ipairs{'e1-b2', 'e2-b1', 'e2-b3'} do
    t.truthy(exists(path('sub/dir/' .. name .. '.safetensors')), name .. ' saved')
  end
  t.truthy(not exists(path('sub/dir/e1-b1.safetensors')), 'not after every batch')
end)

t.test('ModelCheckpoint: bad templates and options are errors that explain', function()
  local model, x, y = setup()
  t.raises(function() C.ModelCheckpoint{'x-{epoch:q}.safetensors'} end,
           "cannot use '{epoch:q}'")
  t.raises(function() C.ModelCheckpoint{'x-{epoch.safetensors'} end, "unbalanced '{'")
  t.raises(function() C.ModelCheckpoint{} end, 'filepath is required')
  t.raises(function() C.ModelCheckpoint{'a', mode = 'up'} end, "mode must be 'auto'")
  t.raises(function() C.ModelCheckpoint{'a', save_best = true} end,
           "unknown option 'save_best'", 'save_best_only')
  t.raises(function() C.ModelCheckpoint{'a', save_freq = 0} end, 'save_freq must be')
  local ok, message = pcall(fit, model, x, y, 1, {C.ModelCheckpoint{path('x-{nope}.safetensors')}})
  t.eq(ok, false)
  t.truthy(message:find("nn.callbacks.ModelCheckpoint: cannot format the file name '" ..
                        path('x-{nope}.safetensors') .. "': no value named 'nope'", 1, true), message)
  t.eq(message:find('nn/callbacks.lua', 1, true), nil, 'no place inside nn: ' .. message)
  -- found when the callback is made, not after an epoch has trained
  t.raises(function() C.ModelCheckpoint{'x-{epoch:100d}.safetensors'} end,
           "nn.callbacks.ModelCheckpoint: '{epoch:100d}' in file name 'x-{epoch:100d}.safetensors' " ..
           "asks for more than 99 characters")
  t.raises(function() C.ModelCheckpoint{'x-{val_loss:.120f}.safetensors'} end, 'more than 99 characters')
  t.raises(function() C.ModelCheckpoint{'x-{epoch}-{batch}.safetensors'} end,
           "uses {batch}, which has a value only with save_freq = a number of batches")
  C.ModelCheckpoint{'x-{epoch}-{batch}.safetensors', save_freq = 2}
  -- a save that fails is the callback's failure, at its epoch
  local plain = path('plain.txt')
  local handle = io.open(plain, 'w'); handle:write('x'); handle:close()
  t.raises(function() fit(model, x, y, 1, {C.ModelCheckpoint{'/proc/m.safetensors', monitor = 'loss'}}) end,
           "nn.callbacks.ModelCheckpoint (epoch 1): cannot save '/proc/m.safetensors'")
  t.raises(function() fit(model, x, y, 1, {C.ModelCheckpoint{plain .. '/d/m.safetensors', monitor = 'loss'}}) end,
           "nn.callbacks.ModelCheckpoint (epoch 1): '" .. plain .. "' exists and is not a directory")
  local _, out = fit(model, x, y, 1, {C.ModelCheckpoint{path('never.safetensors'),
                                                        save_best_only = true}})
  t.eq(out[1], 'WARNING: Can save best model only with val_loss available, skipping.')
  t.eq(C._repr(0.1), '0.1')
  t.eq(C._repr(1e-05), '1e-05')
  t.eq(C._repr(2.0), '2.0')
end)

-- ---- EarlyStopping ----

t.test('EarlyStopping: patience counts epochs without improvement; Keras message', function()
  local model, x, y = setup()
  local history, out = fit(model, x, y, 10, {
    script('val_loss', {1.0, 0.9, 0.95, 0.97, 0.5, 0.4}),
    C.EarlyStopping{patience = 2, verbose = 1},
  })
  t.eq(#history.epoch, 4, 'stopped after the 4th epoch')
  t.eq(out[#out], 'Epoch 4: early stopping')
  history = fit(model, x, y, 10, {
    script('val_loss', {1.0, 0.9, 0.95, 0.97, 0.5, 0.4}),
    C.EarlyStopping{patience = 0},
  })
  t.eq(#history.epoch, 3, 'patience 0 stops at the first epoch without improvement')
end)

t.test('EarlyStopping: min_delta, mode, baseline, start_from_epoch', function()
  local model, x, y = setup()
  local history = fit(model, x, y, 10, {
    script('val_loss', {1.0, 0.95, 0.9, 0.85, 0.8, 0.75}),
    C.EarlyStopping{min_delta = 0.1, patience = 1},
  })
  t.eq(#history.epoch, 2, 'steps of 0.05 are not improvements of 0.1')
  history = fit(model, x, y, 10, {
    script('score', {0.1, 0.2, 0.2, 0.2}),
    C.EarlyStopping{monitor = 'score', mode = 'max', patience = 1},
  })
  t.eq(#history.epoch, 3, 'mode max: 0.2 after 0.2 is no improvement')
  -- Epochs above the baseline do not reset the patience count.
  history = fit(model, x, y, 10, {
    script('val_loss', {0.9, 0.95, 0.97, 0.99}),
    C.EarlyStopping{patience = 2},
  })
  t.eq(#history.epoch, 3, 'without a baseline')
  history = fit(model, x, y, 10, {
    script('val_loss', {0.9, 0.95, 0.97, 0.99}),
    C.EarlyStopping{baseline = 0.5, patience = 2},
  })
  t.eq(#history.epoch, 2, 'with a baseline never reached')
  history = fit(model, x, y, 6, {
    script('val_loss', {1, 1, 1, 1, 1, 1}),
    C.EarlyStopping{start_from_epoch = 3, patience = 1},
  })
  t.eq(#history.epoch, 5, 'no stopping before start_from_epoch')
  local _, out = fit(model, x, y, 1, {C.EarlyStopping{monitor = 'nothing'}})
  t.truthy(out[1]:find('Early stopping conditioned on metric `nothing` which is not available',
                       1, true), out[1])
end)

t.test('EarlyStopping: restore_best_weights puts back the best epoch', function()
  local model, x, y = setup()
  local snapshots = {}
  local _, out = fit(model, x, y, 10, {
    script('val_loss', {1.0, 0.5, 0.7, 0.8, 0.9}),
    C.LambdaCallback{on_epoch_end = function(epoch) snapshots[epoch + 1] = model:get_weights() end},
    C.EarlyStopping{patience = 2, restore_best_weights = true, verbose = 1},
  })
  -- Keras 3's order: the stop, then the restore, both when training ends.
  t.eq(out[1], 'Epoch 4: early stopping')
  t.eq(out[2], 'Restoring model weights from the end of the best epoch: 2.')
  local now = model:get_weights()
  for i = 1, #now do t.truthy(now[i] == snapshots[2][i], 'weights of epoch 2') end
end)

t.test('EarlyStopping: restore_best_weights restores after a run that never stopped', function()
  local model, x, y = setup()
  local snapshots = {}
  local history, out = fit(model, x, y, 4, {
    script('val_loss', {1.0, 0.5, 0.7, 0.8}),
    C.LambdaCallback{on_epoch_end = function(epoch) snapshots[epoch + 1] = model:get_weights() end},
    C.EarlyStopping{patience = 5, restore_best_weights = true, verbose = 1},
  })
  t.eq(#history.epoch, 4, 'all epochs ran')
  t.eq(#out, 1, 'no early stopping line')
  t.eq(out[1], 'Restoring model weights from the end of the best epoch: 2.')
  local now = model:get_weights()
  t.truthy(not (now[1] == snapshots[4][1]), 'the last epoch changed the kernel')
  for i = 1, #now do t.truthy(now[i] == snapshots[2][i], 'weights of epoch 2') end
end)

-- ---- ReduceLROnPlateau ----

t.test("mode = 'auto' takes the direction of the model's metric, as Keras 3", function()
  -- Names that say nothing of their direction: auc, precision, a metric object named top2,
  -- and the error mae; loss always goes down.
  local model = nn.Sequential{L.Dense{3, activation = 'sigmoid', input_shape = {4}}}
  model:compile{optimizer = 'sgd', loss = 'binary_crossentropy',
                metrics = {'auc', 'precision', nn.metrics.TopKCategoricalAccuracy{k = 2, name = 'top2'},
                           'mae'}}
  local x = nn.random.randn(8, 4)
  local y = nn.tensor{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1},
                      {1, 0, 0}, {0, 1, 0}}
  for monitor, maximize in pairs{val_auc = true, precision = true, val_top2 = true,
                                 val_mae = false, val_loss = false, loss = false} do
    local stopping = C.EarlyStopping{monitor = monitor}
    local plateau = C.ReduceLROnPlateau{monitor = monitor}
    local checkpoint = C.ModelCheckpoint{filepath = path('auto-mode.nnsh'), monitor = monitor,
                                         save_best_only = true}
    model:fit(x, y, {epochs = 1, verbose = 0, validation_data = {x, y},
                     callbacks = {stopping, plateau, checkpoint}})
    t.eq(stopping.maximize, maximize, 'EarlyStopping on ' .. monitor)
    t.eq(plateau.maximize, maximize, 'ReduceLROnPlateau on ' .. monitor)
    t.eq(checkpoint.maximize, maximize, 'ModelCheckpoint on ' .. monitor)
  end
  -- An explicit mode stays, and a name the model does not log keeps the guess by name.
  local explicit = C.EarlyStopping{monitor = 'val_auc', mode = 'min'}
  local unknown = C.EarlyStopping{monitor = 'val_custom_accuracy'}
  model:fit(x, y, {epochs = 1, verbose = 0, validation_data = {x, y},
                   callbacks = {explicit, unknown}})
  t.eq(explicit.maximize, false, 'mode min kept')
  t.eq(unknown.maximize, true, 'by its name')
end)

t.test('ReduceLROnPlateau: reduces after patience, logs learning_rate, Keras message', function()
  local model, x, y = setup()
  local history, out = fit(model, x, y, 6, {
    script('val_loss', {1, 1, 1, 1, 1, 1}),
    C.ReduceLROnPlateau{patience = 2, factor = 0.5, verbose = 1},
  })
  t.eq(out[1], 'Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05.')
  t.eq(out[2], 'Epoch 5: ReduceLROnPlateau reducing learning rate to 0.025.')
  t.eq(table.concat(history.history.learning_rate, ' '), '0.1 0.1 0.1 0.05 0.05 0.025', 'learning_rate in the history')
  t.eq(model.optimizer.learning_rate, 0.025, 'the optimizer uses the new rate')
end)

t.test('ReduceLROnPlateau: cooldown, min_lr, improvements reset the count', function()
  local model, x, y = setup()
  local history = fit(model, x, y, 7, {
    script('val_loss', {1, 1, 1, 1, 1, 1, 1}),
    C.ReduceLROnPlateau{patience = 1, factor = 0.5, cooldown = 2, min_lr = 0.04},
  })
  -- Keras: the cooldown counts down at the start of each epoch's check.
  t.eq(table.concat(history.history.learning_rate, ' '), '0.1 0.1 0.05 0.05 0.04 0.04 0.04')
  model.learning_rate = 0.1
  history = fit(model, x, y, 5, {
    script('val_loss', {1, 0.9, 0.8, 0.7, 0.6}),
    C.ReduceLROnPlateau{patience = 1},
  })
  t.eq(model.optimizer.learning_rate, 0.1, 'no plateau, no change')
  t.raises(function() C.ReduceLROnPlateau{factor = 1.0} end, 'does not support a factor >= 1.0')
end)

t.test('Ctrl-C during an epoch-end callback stops before the next epoch moves a weight', function()
  local model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  -- SIGINT to nnsh itself, from the callback (io.popen's shell is nnsh's child; os.execute
  -- would ignore the signal while it waits)
  local interrupt = C.LambdaCallback{on_epoch_end = function(epoch)
    if epoch == 0 then io.popen('kill -INT $PPID'):close() end
  end}
  local ok, message = pcall(model.fit, model, nn.ones(64, 3), nn.zeros(64, 2),
                            {epochs = 3, batch_size = 16, verbose = 0, callbacks = {interrupt}})
  t.eq(ok, false, 'fit reports the stop')
  t.truthy(tostring(message):find('training stopped by the user after epoch 1', 1, true), message)
  t.eq(model.optimizer.iterations, 4, 'the 4 batches of epoch 1, none of epoch 2')
  t.eq(#model:fit(nn.ones(4, 3), nn.zeros(4, 2), {verbose = 0}).history.loss, 1,
       'the next fit runs')
end)

-- ---- CSVLogger ----

t.test('CSVLogger: sorted columns after epoch, one row per epoch, append', function()
  local model, x, y = setup()
  local file = path('log.csv')
  fit(model, x, y, 2, {script('val_loss', {0.5, 0.25}), C.CSVLogger{file}})
  local rows = lines(t.read_file(file))
  t.eq(rows[1], 'epoch,accuracy,loss,val_loss')
  t.eq(#rows, 3, 'header and two rows')
  t.truthy(rows[2]:find('^0,[%d.e-]+,[%d.e-]+,0%.5$'), rows[2])
  t.truthy(rows[3]:find('^1,.*,0%.25$'), rows[3])
  fit(model, x, y, 1, {script('val_loss', {0.125}), C.CSVLogger{file, append = true}})
  rows = lines(t.read_file(file))
  t.eq(#rows, 4, 'appended one row, no second header')
  t.truthy(rows[4]:find('^0,.*,0%.125$'), rows[4])
  fit(model, x, y, 1, {C.CSVLogger{file, separator = ';'}})
  t.eq(lines(t.read_file(file))[1], 'epoch;accuracy;loss', 'separator, and overwritten')
  t.raises(function() fit(model, x, y, 1, {C.CSVLogger{path('no/dir/log.csv')}}) end,
           'nn.callbacks.CSVLogger: cannot open for writing: ' .. path('no/dir/log.csv'))
  -- A lone first argument needs no table, as Keras' CSVLogger('log.csv').
  fit(model, x, y, 1, {C.CSVLogger(file)})
  t.eq(#lines(t.read_file(file)), 2, 'CSVLogger(file): header and one row')
  t.raises(function() C.CSVLogger(3) end, 'nn.callbacks.CSVLogger: filename must be string, got integer')
  t.raises(function() C.CSVLogger('') end, 'nn.callbacks.CSVLogger: the file name is empty')
  -- io.open would stop at the zero byte: 'keep\0.csv' would overwrite 'keep'.
  t.raises(function() C.CSVLogger(path('keep') .. '\0.csv') end,
           'nn.callbacks.CSVLogger: the file name is empty or holds a zero byte')
  -- A separator that the epoch number holds quotes it, as every other field.
  fit(model, x, y, 2, {C.CSVLogger{file, separator = '1'}})
  t.truthy(lines(t.read_file(file))[3]:find('^"1"1'), lines(t.read_file(file))[3])
  for _, bad in ipairs{'', ';;', '\n', '"'} do
    t.raises(function() C.CSVLogger{file, separator = bad} end,
             'nn.callbacks.CSVLogger: separator must be one character other than a quote or a line end')
  end
  t.eq(C.EarlyStopping('loss').monitor, 'loss', "EarlyStopping('loss') watches loss, as Keras'")
end)

-- ---- LearningRateScheduler ----

t.test('CSVLogger: a full disk is an error, not rows lost in silence', function()
  local model, x, y = setup()
  t.raises(function() fit(model, x, y, 2, {C.CSVLogger{'/dev/full'}}) end,
           'CSVLogger: cannot write /dev/full', 'No space left on device')
  t.eq(#fit(model, x, y, 1).history.loss, 1, 'the model trains afterwards')
end)

t.test('LearningRateScheduler: sets the rate each epoch from schedule(epoch, lr)', function()
  local model, x, y = setup()
  local seen = {}
  local history, out = fit(model, x, y, 3, {
    C.LearningRateScheduler{function(epoch, lr) return epoch == 0 and lr or lr / 2 end,
                            verbose = 1},
    C.LambdaCallback{on_epoch_begin = function(epoch)
      seen[epoch + 1] = model.optimizer.learning_rate
    end},
  })
  t.eq(table.concat(seen, ' '), '0.1 0.05 0.025', 'rate during each epoch')
  t.eq(table.concat(history.history.learning_rate, ' '), '0.1 0.05 0.025', 'learning_rate logged')
  t.eq(out[2], 'Epoch 2: LearningRateScheduler setting learning rate to 0.05.')
  t.raises(function()
    fit(model, x, y, 1, {C.LearningRateScheduler(function() return 'fast' end)})
  end, 'should be a number')
  t.raises(function() C.LearningRateScheduler{} end, 'schedule is required')
end)

-- ---- LambdaCallback and Callback ----

t.test('LambdaCallback: every hook with Keras arguments; on_batch_end is the batch hook', function()
  local model, x, y = setup()
  local calls = {}
  local function record(name) return function(...) calls[#calls + 1] = {name, ...} end end
  fit(model, x, y, 2, {C.LambdaCallback{
    on_train_begin = record('train_begin'), on_epoch_begin = record('epoch_begin'),
    on_batch_begin = record('begin'), on_batch_end = record('batch_end'),
    on_epoch_end = record('epoch_end'), on_train_end = record('train_end'),
  }})
  local names = {}
  for i, call in ipairs(calls) do
    names[i] = call[1] .. (type(call[2]) == 'number' and call[2] or '')
  end
  t.eq(table.concat(names, ' '), 'train_begin epoch_begin0 begin0 batch_end0 begin1 batch_end1 ' ..
       'begin2 batch_end2 epoch_end0 epoch_begin1 begin0 batch_end0 begin1 batch_end1 begin2 ' ..
       'batch_end2 epoch_end1 train_end')
  t.eq(type(calls[#calls - 1][3].loss), 'number', 'epoch_end gets the logs')
  t.raises(function() C.LambdaCallback{on_epoch_end = 5} end, 'on_epoch_end must be function')
  local stops = C.Callback{on_epoch_end = function(self) self.model.stop_training = true end}
  t.eq(model.stop_training, false, 'false before it is set')
  local history = fit(model, x, y, 5, {stops})
  t.eq(#history.epoch, 1, 'a Callback can stop training')
  t.eq(model.stop_training, true, 'true after it stopped fit, as Keras')
  history = fit(model, x, y, 2, {})
  t.eq(#history.epoch, 2, 'the next fit runs every epoch')
  t.eq(model.stop_training, false, 'and clears it')
end)

-- Keras' usual patterns from inside fit: evaluate or predict with the same model. They
-- run on buffers of their own, so the training is exactly what it is without them.
t.test('evaluate and predict from callbacks leave the training unchanged', function()
  local function run(with_calls)
    local model, x, y = setup(4)
    local probe = nn.random.randn(30, 4) -- larger than a training batch
    local seen = {}
    local cb = C.Callback{
      on_train_batch_end = function(self)
        if with_calls then seen[#seen + 1] = self.model:predict(probe, {verbose = 0}).shape[1] end
      end,
      on_epoch_end = function(self, epoch, logs)
        if with_calls then seen[#seen + 1] = self.model:evaluate(probe, nn.zeros(30):astype('int32'),
                                                                 {verbose = 0}) end
      end}
    local history = fit(model, x, y, 2, {cb})
    return history.history.loss, model:get_weights()[1]:sum(), seen
  end
  local losses, kernel = run(false)
  local losses_with, kernel_with, seen = run(true)
  t.eq(#seen, 8, 'six predictions and two evaluations ran')
  t.eq(seen[1], 30)
  t.eq(type(seen[4]), 'number')
  t.eq(losses_with[1], losses[1], 'epoch 1 loss')
  t.eq(losses_with[2], losses[2], 'epoch 2 loss')
  t.eq(kernel_with, kernel, 'trained kernel')
end)

t.test('add, compile, fit and to are refused from callbacks; the model stays usable', function()
  for _, action in ipairs{
    {'model:add', 'take new layers', function(m) m:add(L.Dense{2}) end},
    {'model:compile', 'be compiled again', function(m) m:compile{optimizer = 'adam', loss = 'mse'} end},
    {'model:fit', 'start another fit', function(m, x, y) m:fit(x, y, {verbose = 0}) end},
    {'model:to', 'move to another device', function(m) m:to('cpu') end},
  } do
    local model, x, y = setup()
    local cb = C.Callback{on_train_batch_end = function(self) action[3](self.model, x, y) end}
    t.raises(function() fit(model, x, y, 1, {cb}) end, action[1] .. ': model "sequential" is ' ..
             'in the middle of fit', 'so it cannot ' .. action[2] .. ' until that returns')
    t.eq(#fit(model, x, y, 1).history.loss, 1, action[1] .. ': fits afterwards')
  end
end)

t.test('another model sharing a layer cannot take it away from a callback', function()
  for _, action in ipairs{
    {'move', function(other) other:to('emulated') end, 'cannot move to another device'},
    {'predict', function(other) other:predict(nn.ones(1, 3), {verbose = 0}) end,
     'cannot gather its weights'},
    {'save', function(other) other:save(path('shared.safetensors')) end,
     'cannot gather its weights'},
  } do
    nn.random.seed(3)
    local shared = L.Dense{4, input_shape = {3}}
    local a = nn.Sequential{shared, L.Dense{2}, name = 'a'}
    local b = nn.Sequential{shared, L.Dense{2}, name = 'b'}
    a:compile{optimizer = 'sgd', loss = 'mse'}
    local x, y = nn.ones(8, 3), nn.ones(8, 2)
    local cb = C.LambdaCallback{on_train_batch_end = function() action[2](b) end}
    t.raises(function() a:fit(x, y, {batch_size = 4, verbose = 0, callbacks = {cb}}) end,
             'layer "dense" of model "b" is in use by model "a"', action[3])
    t.eq(#a:fit(x, y, {verbose = 0}).history.loss, 1, action[1] .. ': a trains afterwards')
    t.eq(tostring(b:predict(x, {verbose = 0}).shape), '(8, 2)', action[1] .. ': b works after')
  end
end)

t.test('bad data with TerminateOnNaN is the data error, before any callback runs', function()
  local model, x, y = setup()
  x:flatten()[3] = 0 / 0
  local began = false
  local watch = C.LambdaCallback{on_train_begin = function() began = true end,
                                 on_train_end = function() began = 'ended' end}
  t.raises(function() fit(model, x, y, 2, {C.TerminateOnNaN(), watch}) end,
           'model:fit: x holds NaN in sample 1')
  t.eq(began, false, 'no callback ran')
end)

t.test('a callback list changed into nonsense during fit is an error, not a stuck model', function()
  local model, x, y = setup()
  local list = {}
  list[1] = C.Callback{on_epoch_end = function() list[1] = 7 end}
  t.raises(function() fit(model, x, y, 3, list) end, 'model:fit: callbacks[1] is not a table of functions such as on_epoch_begin (got integer)')
  t.eq(#fit(model, x, y, 1).history.loss, 1, 'the model trains again')
end)

t.test('one callback on its own is a list of one, as Keras takes callbacks=ModelCheckpoint(...)', function()
  local model, x, y = setup()
  local epochs = {}
  local function fit_with(callbacks, epoch_count)
    return model:fit(x, y, {epochs = epoch_count or 2, batch_size = 8, verbose = 0,
                            callbacks = callbacks})
  end
  fit_with(C.LambdaCallback{on_epoch_end = function(epoch) epochs[#epochs + 1] = epoch end})
  t.eq(table.concat(epochs, ' '), '0 1', 'a LambdaCallback object')
  fit_with({on_epoch_end = function(self, epoch) epochs[#epochs + 1] = epoch end})
  t.eq(table.concat(epochs, ' '), '0 1 0 1', 'a plain table of functions')
  local history = fit_with(C.Callback{on_epoch_end = function(self)
    self.model.stop_training = true
  end}, 5)
  t.eq(#history.epoch, 1, 'a Callback given alone can stop the training')
  local saved = path('alone.nnsh')
  os.remove(saved)
  fit_with(C.ModelCheckpoint{saved, monitor = 'loss'}, 1)
  t.truthy(exists(saved), 'a ModelCheckpoint given alone saves')
  t.eq(#fit_with({}).epoch, 2, 'an empty list is no callbacks')
  -- an object whose methods all come from its class (a metatable), with no fields yet
  local Counter, counted = {}, 0
  Counter.__index = Counter
  function Counter:on_epoch_end() counted = counted + 1 end
  fit_with(setmetatable({}, Counter))
  t.eq(counted, 2, 'a class instance given alone runs')
  t.raises(function() fit_with(5) end, 'model:fit: callbacks must be a list of callback tables, got integer')
end)

t.test('stop_training set after a batch ends training after that batch, as Keras', function()
  local model, x, y = setup()
  local batches = 0
  local cb = C.Callback{on_train_batch_end = function(self, batch)
    batches = batches + 1
    if batch == 1 then self.model.stop_training = true end
  end}
  local history = fit(model, x, y, 4, {cb})
  t.eq(batches, 2, 'batches run')
  t.eq(#history.history.loss, 1, 'epochs recorded')
end)

-- ---- BackupAndRestore ----

t.test('BackupAndRestore: a bad backup_dir is named as its own', function()
  local model, x, y = setup()
  t.raises(function() C.BackupAndRestore{path('bk') .. '\0x'} end,
           'nn.callbacks.BackupAndRestore: backup_dir is empty or holds a zero byte')
  local file = path('not_a_dir')
  assert(io.open(file, 'w')):close()
  t.raises(function() fit(model, x, y, 1, {C.BackupAndRestore{file}}) end,
           "nn.callbacks.BackupAndRestore: '" .. file .. "' exists and is not a directory")
end)

-- The "script": seeded, builds the same model and data every time.
local function backup_run(backup_dir, crash_after_epoch)
  local model, x, y = setup(42)
  local callbacks = {}
  if crash_after_epoch then
    callbacks[1] = C.LambdaCallback{on_epoch_end = function(epoch)
      if epoch == crash_after_epoch then error('simulated crash') end
    end}
  end
  callbacks[#callbacks + 1] = C.BackupAndRestore{backup_dir}
  local ok, err
  local out = t.capture(function()
    ok, err = pcall(model.fit, model, x, y, {epochs = 5, batch_size = 8, verbose = 0,
                                             callbacks = callbacks})
  end)
  return model, ok, err, out
end

t.test('BackupAndRestore: a crashed run started again ends like an uninterrupted one', function()
  local straight = backup_run(path('backup-straight'))
  t.truthy(not exists(path('backup-straight/backup.safetensors')), 'deleted after training')
  local dir = path('backup-crash')
  local _, ok, err = backup_run(dir, 2)
  t.eq(ok, false, 'the first run crashed')
  t.truthy(tostring(err):find('simulated crash', 1, true), tostring(err))
  t.truthy(exists(dir .. '/backup.safetensors'), 'the backup stays after a crash')
  local resumed, ok2, err2, out = backup_run(dir)
  t.truthy(ok2, tostring(err2))
  t.eq(out, 'BackupAndRestore: resuming after epoch 2 from ' .. dir .. '/backup.safetensors\n')
  local a, b = straight:get_weights(), resumed:get_weights()
  for i = 1, #a do t.truthy(a[i] == b[i], 'weights identical to the uninterrupted run') end
  t.eq(resumed.optimizer.iterations, straight.optimizer.iterations, 'optimizer iterations')
  t.truthy(not exists(dir .. '/backup.safetensors'), 'deleted after the resumed run')
  t.raises(function() C.BackupAndRestore{'x', save_freq = 10} end, "only save_freq='epoch'")
end)

t.test('TerminateOnNaN is a marker the fit loop honours', function()
  local callback = C.TerminateOnNaN()
  t.eq(callback.terminate_on_nan, true)
  t.raises(function() C.TerminateOnNaN{x = 1} end, "unknown option 'x'")
end)

t.test("Keras' positional arguments are taken in Keras' order, an options table last", function()
  -- ModelCheckpoint(path, 'loss') in Keras watches 'loss' (nnsh once dropped the 'loss')
  t.eq(C.ModelCheckpoint('best.safetensors', 'loss').monitor, 'loss', 'ModelCheckpoint monitor')
  local checkpoint = C.ModelCheckpoint('best.safetensors', 'loss', 1, {save_best_only = true})
  t.eq(checkpoint.verbose, 1, 'ModelCheckpoint verbose, third')
  t.eq(checkpoint.save_best_only, true, 'named options in a table after them')
  local log = C.CSVLogger('log.csv', ';', true)
  t.eq(log.separator, ';', 'CSVLogger separator')
  t.eq(log.append, true, 'CSVLogger append')
  t.eq(C.LearningRateScheduler(function(_, lr) return lr end, 1).verbose, 1,
       'LearningRateScheduler verbose')
  local stopping = C.EarlyStopping('val_accuracy', 0.01, 3)
  t.eq(stopping.monitor .. ' ' .. stopping.min_delta .. ' ' .. stopping.patience,
       'val_accuracy 0.01 3', 'EarlyStopping monitor, min_delta, patience')
  t.eq(C.ReduceLROnPlateau('loss', 0.5).factor, 0.5, 'ReduceLROnPlateau factor')
  t.eq(C.BackupAndRestore(directory, 'epoch').save_freq, 'epoch', 'BackupAndRestore save_freq')
  t.eq(C.ModelCheckpoint{'best.safetensors', 'loss'}.monitor, 'loss', 'positions inside the table')
  -- a table is last or alone; more positions than Keras has, or none at all, are errors
  t.raises(function() C.EarlyStopping({monitor = 'loss'}, 3) end,
           'nn.callbacks.EarlyStopping: unexpected argument 2 (3) after a table of options')
  t.raises(function() C.CSVLogger('log.csv', ';', true, 5) end,
           'nn.callbacks.CSVLogger: takes 3 positional arguments (filename, separator, append), ' ..
           'got one at position 4')
  t.raises(function() C.BackupAndRestore(directory, 'epoch', false) end,
           'nn.callbacks.BackupAndRestore: takes 2 positional arguments (backup_dir, save_freq)')
  t.raises(function() C.TerminateOnNaN(nil, 1) end,
           'nn.callbacks.TerminateOnNaN: takes no arguments, got one at position 2')
  t.raises(function() C.LambdaCallback(print, print) end,
           'nn.callbacks.LambdaCallback: takes its options by name, got one at position 1')
  t.raises(function() C.LambdaCallback(print) end,
           'nn.callbacks.LambdaCallback: expected a table of options, got function')
  t.raises(function() C.ModelCheckpoint('best.safetensors', 3) end,
           'nn.callbacks.ModelCheckpoint: monitor must be string, got integer')
  -- one argument alone still works, as in Keras
  t.eq(C.CSVLogger(path('one.csv')).filename, path('one.csv'))
  t.eq(C.LearningRateScheduler(function(_, lr) return lr end).verbose, 0)
end)

t.finish()
