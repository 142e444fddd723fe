-- SimpleRNN, LSTM and GRU from Lua: Keras' shapes and parameter counts, values by hand,
-- learning a task that needs memory, cpu = emulated, model files and errors.
local t = require 'harness'
local L = nn.layers

t.test('shapes and parameter counts as Keras', function()
  local x = nn.random.randn(32, 10, 8)
  t.eq(tostring(L.LSTM{64}(x).shape), '(32, 64)', 'LSTM: the last state')
  t.eq(tostring(L.LSTM{64, return_sequences = true}(x).shape), '(32, 10, 64)', 'LSTM: every step')
  t.eq(tostring(L.GRU{32, go_backwards = true}(x).shape), '(32, 32)', 'GRU')
  t.eq(tostring(L.SimpleRNN{16, return_sequences = true}(x).shape), '(32, 10, 16)', 'SimpleRNN')
  local lstm, gru, simple = L.LSTM{64}, L.GRU{32}, L.SimpleRNN{16}
  local model = nn.Sequential{nn.Input{shape = {10, 8}}, lstm}
  t.eq(model:count_params(), 4 * ((8 + 64) * 64 + 64), 'LSTM parameters')
  t.eq(tostring(lstm.kernel.shape), '(8, 256)', 'LSTM kernel')
  t.eq(tostring(lstm.recurrent_kernel.shape), '(64, 256)', 'LSTM recurrent kernel')
  t.eq(tostring(lstm.bias.shape), '(256,)', 'LSTM bias')
  t.eq(nn.Sequential{nn.Input{shape = {10, 8}}, gru}:count_params(), 3 * (8 * 32 + 32 * 32 + 2 * 32),
       'GRU parameters (two bias rows)')
  t.eq(tostring(gru.bias.shape), '(2, 96)', 'GRU bias')
  t.eq(nn.Sequential{nn.Input{shape = {10, 8}}, simple}:count_params(), 8 * 16 + 16 * 16 + 16,
       'SimpleRNN parameters')
  t.eq(lstm.name:match('^lstm'), 'lstm', 'name')
  t.eq(gru.name:match('^gru'), 'gru', 'name')
  t.eq(simple.name:match('^simple_rnn'), 'simple_rnn', 'name')
  t.eq(lstm.recurrent_activation, 'sigmoid', 'recurrent_activation default')
  t.eq(lstm.activation, 'tanh', 'activation default')
  t.eq(lstm.recurrent_initializer.name, 'orthogonal', 'recurrent_initializer default')
  t.eq(L.GRU{2, recurrent_initializer = nn.initializers.Orthogonal{gain = 0.5}}.recurrent_initializer.gain,
       0.5, 'orthogonal gain')
  local stacked = nn.Sequential{L.LSTM{8, return_sequences = true, input_shape = {5, 3}}, L.LSTM{4}, L.Dense{1}}
  local summary = t.capture(function() stacked:summary() end)
  t.truthy(summary:find('(None, 5, 8)', 1, true), summary)
  t.truthy(summary:find('(None, 4)', 1, true), summary)
  t.truthy(stacked.layers[1].explanation:find('4 gates (i, f, c, o)', 1, true), stacked.layers[1].explanation)
end)

t.test('values by hand', function()
  -- SimpleRNN with identity-like weights: h1 = tanh(x1), h2 = tanh(x2 + h1).
  local r = L.SimpleRNN{1, use_bias = false, return_sequences = true}
  local x = nn.tensor{{{0.5}, {0.25}}}
  r(x)
  r:set_weights{nn.tensor{{1}}, nn.tensor{{1}}}
  local h1 = math.tanh(0.5)
  local h2 = math.tanh(0.25 + h1)
  t.near(r(x), nn.tensor{{{h1}, {h2}}}, 1e-6, 'SimpleRNN')
  -- LSTM with zero weights: every gate is sigmoid(0) = 0.5 and the candidate 0 unless the
  -- bias says otherwise; bias c = 1: c1 = 0.5 tanh(1), h1 = 0.5 tanh(c1).
  local l = L.LSTM{1}
  l(x)
  l:set_weights{nn.zeros(1, 4), nn.zeros(1, 4), nn.tensor{0, 0, 1, 0}}
  local c1 = 0.5 * math.tanh(1)
  local c2 = 0.5 * c1 + 0.5 * math.tanh(1)
  t.near(l(x), nn.tensor{{0.5 * math.tanh(c2)}}, 1e-6, 'LSTM')
  -- GRU, zero weights, candidate bias 1: z = 0.5, h = 0.5 h + 0.5 tanh(1).
  local g = L.GRU{1}
  g(x)
  g:set_weights{nn.zeros(1, 3), nn.zeros(1, 3), nn.tensor{{0, 0, 1}, {0, 0, 0}}}
  local g1 = 0.5 * math.tanh(1)
  t.near(g(x), nn.tensor{{0.5 * g1 + 0.5 * math.tanh(1)}}, 1e-6, 'GRU')
  -- go_backwards reads the steps from the last: the same as the reversed input.
  local b = L.LSTM{3, go_backwards = true, return_sequences = true}
  local f = L.LSTM{3, return_sequences = true}
  local seq = nn.random.randn(2, 4, 2)
  b(seq)
  f(seq)
  f:set_weights(b:get_weights())
  local reversed = nn.zeros(2, 4, 2)
  for step = 1, 4 do
    for sample = 1, 2 do
      for k = 1, 2 do reversed[sample][5 - step][k] = seq[sample][step][k] end
    end
  end
  t.eq(b(seq), f(reversed), 'go_backwards')
end)

-- Whether the second step is positive: a model must remember it over the next four steps
-- of noise.
local function memory_task(n, seed)
  nn.random.seed(seed)
  local x = nn.random.uniform(n, 6, 1) * 2 - 1
  local labels = {}
  for i = 1, n do labels[i] = x[i][2][1] > 0 and 1 or 0 end
  return x, nn.tensor(labels)
end

t.test('LSTM and GRU learn to remember a step', function()
  local x, y = memory_task(1024, 3)
  local vx, vy = memory_task(256, 4)
  for _, cls in ipairs{'LSTM', 'GRU'} do
    nn.random.seed(21)
    local model = nn.Sequential{L[cls]{16, input_shape = {6, 1}}, L.Dense{1, activation = 'sigmoid'}}
    model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.01}, loss = 'binary_crossentropy',
                  metrics = {'accuracy'}}
    model:fit(x, y, {epochs = 10, batch_size = 32, verbose = 0})
    local _, accuracy = model:evaluate(vx, vy, {verbose = 0})
    t.truthy(accuracy > 0.9, cls .. ': validation accuracy ' .. accuracy)
  end
end)

t.test('training gives the same weights on cpu and emulated', function()
  local x, y = memory_task(96, 6)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(22)
    local model = nn.Sequential{L.SimpleRNN{5, return_sequences = true, input_shape = {6, 1}},
                                L.GRU{4, return_sequences = true, go_backwards = true},
                                L.LSTM{3, dropout = 0.3, recurrent_dropout = 0.2}, L.Dense{1, activation = 'sigmoid'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'binary_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 32, verbose = 0})
    weights[device] = model:get_weights()
  end
  t.eq(#weights.cpu, 11, 'three recurrent layers and a Dense')
  for i = 1, #weights.cpu do
    t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i .. ' equal on cpu and emulated')
  end
end)

t.test('SimpleRNN and stacked layers train; frozen layers stay', function()
  local x, y = memory_task(256, 5)
  nn.random.seed(8)
  local frozen = L.GRU{4, return_sequences = true, input_shape = {6, 1}}
  frozen.trainable = false
  local model = nn.Sequential{frozen, L.SimpleRNN{8}, L.Dense{1, activation = 'sigmoid'}}
  model:compile{optimizer = 'adam', loss = 'binary_crossentropy'}
  local before = frozen:get_weights()
  local second = model.layers[2]:get_weights()
  local history = model:fit(x, y, {epochs = 3, batch_size = 32, verbose = 0})
  local losses = history.history.loss
  t.truthy(losses[3] < losses[1], 'the loss falls: ' .. losses[1] .. ' -> ' .. losses[3])
  local after = frozen:get_weights()
  for i = 1, #before do t.eq(after[i], before[i], 'frozen weight ' .. i) end
  t.truthy((model.layers[2]:get_weights()[1] - second[1]):abs():max() > 0, 'the SimpleRNN moved')
end)

t.test('dropout and recurrent_dropout act in training only, with seeded masks', function()
  local x = nn.random.randn(4, 6, 3)
  local function pair(seed)
    local a = L.LSTM{5, dropout = 0.5, recurrent_dropout = 0.5, seed = seed, return_sequences = true}
    local b = L.LSTM{5, dropout = 0.5, recurrent_dropout = 0.5, seed = seed, return_sequences = true}
    a(x)
    b(x)
    b:set_weights(a:get_weights())
    return a, b
  end
  local a, b = pair(7)
  t.eq(a(x), b(x), 'inference: no masks')
  local trained = a(x, {training = true})
  t.truthy((trained - a(x)):abs():max() > 1e-3, 'training draws masks')
  t.eq(b(x, {training = true}), trained, 'the same seed draws the same masks')
  t.truthy((a(x, {training = true}) - trained):abs():max() > 1e-3, 'the next call draws new ones')
  local x_train, y_train = memory_task(512, 9)
  nn.random.seed(4)
  local model = nn.Sequential{L.GRU{16, dropout = 0.1, recurrent_dropout = 0.1, input_shape = {6, 1}},
                              L.Dense{1, activation = 'sigmoid'}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.01}, loss = 'binary_crossentropy',
                metrics = {'accuracy'}}
  local history = model:fit(x_train, y_train, {epochs = 6, batch_size = 32, verbose = 0})
  local accuracy = history.history.accuracy
  t.truthy(accuracy[6] > accuracy[1] and accuracy[6] > 0.75,
           'GRU with dropout learns: ' .. accuracy[1] .. ' -> ' .. accuracy[6])
end)

t.test('Bidirectional: Keras shapes, counts and merges', function()
  local x = nn.random.randn(4, 6, 3)
  local b = L.Bidirectional{L.LSTM{5, return_sequences = true}}
  t.eq(tostring(b(x).shape), '(4, 6, 10)', 'concat: 2 x units')
  t.eq(b.layer, 'LSTM', 'the wrapped class')
  t.eq(b.units, 5, 'its arguments')
  t.eq(tostring(b.forward_kernel.shape), '(3, 20)', 'forward kernel')
  t.eq(tostring(b.backward_recurrent_kernel.shape), '(5, 20)', 'backward recurrent kernel')
  t.eq(#b:get_weights(), 6, 'forward then backward weights')
  t.eq(b.trainable, true, 'trainable by default')
  t.eq(L.Bidirectional{L.GRU{4, trainable = false}}.trainable, false,
       'a frozen layer gives frozen directions')
  t.eq(L.Bidirectional{L.GRU{4, trainable = false}, trainable = true}.trainable, true,
       "the wrapper's own trainable= decides")
  local model = nn.Sequential{L.Bidirectional{L.LSTM{8, return_sequences = true}, input_shape = {6, 3}},
                              L.Bidirectional{L.GRU{4}, merge_mode = 'sum'}, L.Dense{1}}
  t.eq(model:count_params(), 2 * 4 * ((3 + 8) * 8 + 8) + 2 * 3 * (16 * 4 + 4 * 4 + 2 * 4) + 5,
       'parameters')
  t.eq(tostring(model.layers[2].output_shape), '(None, 4)', 'sum keeps units')
  -- The merges from the two directions' outputs, which are the wrapped layer run
  -- forwards and a copy run backwards (its sequence turned back to time order).
  local f = L.GRU{3, return_sequences = true}
  local r = L.GRU{3, return_sequences = true, go_backwards = true}
  f(x) r(x)
  -- One Bidirectional per mode, and the two plain layers given its weights.
  local function merged(mode)
    local layer = L.Bidirectional{L.GRU{3, return_sequences = true}, merge_mode = mode}
    layer(x)
    local w = layer:get_weights()
    f:set_weights{w[1], w[2], w[3]}
    r:set_weights{w[4], w[5], w[6]}
    local backwards = r(x)
    local flipped = nn.zeros(4, 6, 3)
    for sample = 1, 4 do
      for step = 1, 6 do
        for j = 1, 3 do flipped[sample][step][j] = backwards[sample][7 - step][j] end
      end
    end
    return layer(x), f(x), flipped
  end
  local y, forwards, flipped = merged('sum')
  t.near(y, forwards + flipped, 1e-6, 'sum')
  y, forwards, flipped = merged('mul')
  t.near(y, forwards * flipped, 1e-6, 'mul')
  y, forwards, flipped = merged('ave')
  t.near(y, (forwards + flipped) * 0.5, 1e-6, 'ave')
  y, forwards, flipped = merged('concat')
  local concat = y:reshape(4, 6, 2, 3)
  local firsts, seconds = nn.zeros(4, 6, 3), nn.zeros(4, 6, 3)
  for sample = 1, 4 do
    for step = 1, 6 do
      for j = 1, 3 do
        firsts[sample][step][j] = concat[sample][step][1][j]
        seconds[sample][step][j] = concat[sample][step][2][j]
      end
    end
  end
  t.near(firsts, forwards, 1e-6, 'concat: forward half')
  t.near(seconds, flipped, 1e-6, 'concat: backward half')
end)

t.test('Bidirectional trains, the same on cpu and emulated, and is saved', function()
  local x, y = memory_task(96, 12)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(23)
    local model = nn.Sequential{L.Bidirectional{L.LSTM{4, return_sequences = true, dropout = 0.2},
                                                input_shape = {6, 1}},
                                L.Bidirectional{L.GRU{3}, merge_mode = 'mul'},
                                L.Dense{1, activation = 'sigmoid'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'binary_crossentropy'}
    model:fit(x, y, {epochs = 2, batch_size = 32, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-recurrent'
      nn.io.make_directory(directory)
      model:save(directory .. '/bidirectional.nnsh')
      local copy = nn.models.load_model(directory .. '/bidirectional.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(copy.layers[2].merge_mode, 'mul', 'merge_mode kept')
      t.eq(copy.layers[1].layer, 'LSTM', 'the wrapped class kept')
    end
  end
  t.eq(#weights.cpu, 14, 'two Bidirectionals of 6 weights and a Dense of 2')
  for i = 1, #weights.cpu do
    t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i .. ' equal on cpu and emulated')
  end
  local x2, y2 = memory_task(512, 13)
  nn.random.seed(24)
  local model = nn.Sequential{L.Bidirectional{L.GRU{8}, input_shape = {6, 1}},
                              L.Dense{1, activation = 'sigmoid'}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.01}, loss = 'binary_crossentropy',
                metrics = {'accuracy'}}
  local history = model:fit(x2, y2, {epochs = 8, batch_size = 32, verbose = 0})
  t.truthy(history.history.accuracy[8] > 0.9, 'learns: ' .. history.history.accuracy[8])
end)

t.test('each mask of a call is drawn on its own', function()
  -- A linear SimpleRNN passing its input through (identity kernels): step 1 shows the
  -- input mask, step 2 (input 0) the state mask where step 1 was kept.
  local U = 8
  local eye = nn.zeros(U, U)
  for i = 1, U do eye[i][i] = 1 end
  local r = L.SimpleRNN{U, dropout = 0.5, recurrent_dropout = 0.5, seed = 1, use_bias = false,
                        activation = 'linear', return_sequences = true}
  local x = nn.zeros(16, 2, U)
  for b = 1, 16 do for j = 1, U do x[b][1][j] = 0.3 end end
  r(x)
  r:set_weights{eye, eye}
  local first, second = r(x, {training = true}), r(x, {training = true})
  local readable, same_as_next_input, inputs_differ = 0, 0, 0
  for b = 1, 16 do
    for j = 1, U do
      local kept = first[b][1][j] ~= 0
      if kept then
        readable = readable + 1
        if (first[b][2][j] ~= 0) == (second[b][1][j] ~= 0) then
          same_as_next_input = same_as_next_input + 1
        end
      end
      if kept ~= (second[b][1][j] ~= 0) then inputs_differ = inputs_differ + 1 end
    end
  end
  t.truthy(readable > 30, 'enough kept inputs: ' .. readable)
  t.truthy(same_as_next_input < readable,
           'the state mask of a call is not the next call\'s input mask (' .. same_as_next_input ..
           ' of ' .. readable .. ' agree)')
  t.truthy(inputs_differ > 20, 'calls draw new input masks: ' .. inputs_differ .. ' of 128 differ')
  t.near(first[1][1][1] == 0 and 0.6 or first[1][1][1], 0.6, 1e-6, 'kept inputs scaled by 2')
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-recurrent'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.GRU{6, return_sequences = true, go_backwards = true, input_shape = {7, 3}},
                              L.LSTM{5, recurrent_activation = 'hard_sigmoid', unit_forget_bias = false,
                                     dropout = 0.25, seed = 3},
                              L.Dense{2}}
  model:save(directory .. '/recurrent.nnsh')
  local copy = nn.models.load_model(directory .. '/recurrent.nnsh')
  local x = nn.random.randn(3, 7, 3)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].go_backwards, true, 'go_backwards kept')
  t.eq(copy.layers[2].recurrent_activation, 'hard_sigmoid', 'recurrent_activation kept')
  t.eq(copy.layers[2].unit_forget_bias, false, 'unit_forget_bias kept')
  t.eq(copy.layers[2].dropout, 0.25, 'dropout kept')
  t.eq(copy.layers[2].seed, 3, 'seed kept')
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.LSTM{} end, 'missing required argument', 'units')
  t.raises(function() L.LSTM{0} end, 'units')
  t.raises(function() L.GRU{4.5} end, 'units')
  t.raises(function() L.SimpleRNN{4, activations = 'tanh'} end, 'activations')
  t.raises(function() L.LSTM{4, dropout = 1.5} end, 'dropout')
  t.raises(function() L.GRU{4, recurrent_dropout = 1} end, 'recurrent_dropout')
  t.raises(function() L.GRU{4, dropout = -0.1} end, 'dropout')
  t.raises(function() L.LSTM{4, return_state = true} end, 'return_state=True')
  t.raises(function() L.LSTM{4, stateful = true} end, 'stateful=True')
  t.raises(function() L.GRU{4, reset_after = false} end, 'reset_after=False')
  t.raises(function() L.LSTM{4, recurrent_activation = 'softmax'} end, "recurrent_activation='softmax'")
  t.raises(function() L.SimpleRNN{4, recurrent_activation = 'tanh'} end, 'recurrent_activation')
  t.raises(function() L.LSTM{4}(nn.zeros(2, 10)) end, 'expected ndim=3', 'Full shape received: (2, 10)', 'Reshape')
  t.raises(function() nn.Sequential{L.Dense{4, input_shape = {10}}, L.LSTM{2}} end, 'expected ndim=3')
  t.raises(function() nn.Sequential{L.LSTM{4, input_shape = {10, 2}}, L.LSTM{2}} end,
           'expected ndim=3', '(None, 4)')
  t.raises(function() L.Bidirectional{L.Dense{3}} end, 'SimpleRNN, LSTM or GRU', 'Dense')
  t.raises(function() L.LSTM{4, [2.5] = 1} end, 'the key 2.5', 'neither a position')
  t.raises(function() L.LSTM{1e12} end, 'units must be at most 16777216')
  t.raises(function() L.GRU{0 / 0} end, 'units must be an integer, got NaN')
  t.raises(function() L.Bidirectional{} end, 'missing required argument', 'layer')
  t.raises(function() L.Bidirectional{L.LSTM{3}, merge_mode = 'max'} end,
           'merge_mode must be one of concat, sum, mul, ave')
  t.raises(function() L.Bidirectional{L.LSTM{3}, backward_layer = L.LSTM{3}} end,
           "unknown argument 'backward_layer'")
  t.raises(function() L.Bidirectional{L.LSTM{3}, units = 8} end,
           "'units' is an argument of the wrapped layer", 'nn.layers.LSTM{..., units = ...}')
  t.raises(function() L.Bidirectional{L.LSTM{3}, reset_after = false} end,
           "'reset_after' is not an argument of LSTM, the wrapped layer, nor of Bidirectional")
  local message = t.raises(function() L.Bidirectional{L.LSTM{3}, foo = 1} end,
                           "unknown argument 'foo'",
                           'valid arguments are: layer, merge_mode, activity_regularizer, name, input_shape')
  t.truthy(not message:find('units', 1, true), 'the wrapped arguments are not offered: ' .. message)
  t.raises(function() L.Bidirectional{'SimpleRNN', units = 3, recurrent_activation = 'relu'} end,
           'not of SimpleRNN')
  t.raises(function() L.Bidirectional{'LSTM', units = 3, reset_after = false} end,
           'reset_after is an argument of GRU only')
  local arguments = {L.GRU{2}}
  t.eq(L.Bidirectional(arguments).layer, 'GRU', 'first use of a table')
  t.eq(L.Bidirectional(arguments).layer, 'GRU', 'the same table again: left as it was')
  t.eq(L.Bidirectional{layer = L.LSTM{3}}.units, 3, 'the layer given by name')
  t.eq(L.Bidirectional{'GRU', units = 3}.units, 3, 'the class by name, arguments by name')
  t.truthy(L.Bidirectional{L.GRU{3}, activity_regularizer = 'l2'}, 'activity_regularizer on the wrapper')
  t.raises(function() L.Bidirectional{L.LSTM{3}}(nn.zeros(2, 5)) end, 'expected ndim=3')
  t.raises(function() nn.Sequential{L.LSTM{4, input_shape = {10, 2}}, L.LSTM{2}} end,
           'return_sequences=true')
  local l = L.LSTM{3}
  l(nn.zeros(1, 5, 2))
  -- Another number of steps fits the weights (as Keras); other features do not.
  t.eq(tostring(l(nn.zeros(1, 6, 2)).shape), '(1, 3)', 'another number of steps')
  t.raises(function() l(nn.zeros(1, 5, 3)) end, 'expected axis -1 of input shape to have '
           .. 'value 2', '(None, 5, 2)', '(1, 5, 3)')
  t.eq(tostring(l(nn.zeros(4, 5, 2)).shape), '(4, 3)', 'the layer still works')
end)

t.finish()
