-- Embedding: Keras' shapes and parameter counts, values by hand, a small model that
-- learns a task only the embeddings can solve, cpu = emulated, the weight options, and
-- an error for every bad argument and every bad index, after which the session goes on.
local t = require 'harness'
local L = nn.layers

-- n sequences of `steps` tokens in [0, vocabulary).
local function tokens(n, steps, vocabulary)
  return nn.random.randint(0, vocabulary, n, steps)
end

t.test('shapes, weights and parameter counts as Keras', function()
  local e = L.Embedding{1000, 64}
  t.eq(tostring(e(tokens(32, 10, 1000)).shape), '(32, 10, 64)', 'a new last axis')
  t.eq(tostring(e.embeddings.shape), '(1000, 64)', 'the table (input_dim, output_dim)')
  -- 0.05 as float32 holds it (0.0500000007): a draw may round to it, now and then
  local limit = nn.tensor(0.05):item()
  t.truthy(e.embeddings:max() <= limit and e.embeddings:min() >= -limit, "'uniform': in [-0.05, 0.05]")
  t.truthy(e.embeddings:std() > 0.02, 'and spread over it')
  t.eq(e.name:match('^embedding'), 'embedding', 'name')
  t.eq(tostring(L.Embedding{5, 3}(nn.zeros(4)).shape), '(4, 3)', 'a batch of single indices')
  t.eq(tostring(L.Embedding{5, 3}(nn.zeros(2, 3, 4)).shape), '(2, 3, 4, 3)', 'any rank')
  local model = nn.Sequential{L.Embedding{1000, 64, input_length = 10}, L.Flatten(), L.Dense{1}}
  t.eq(tostring(model.output_shape), '(None, 1)', 'input_length declares the input')
  t.eq(model:count_params(), 1000 * 64 + 640 + 1, 'parameters')
  local summary = t.capture(function() model:summary() end)
  t.truthy(summary:find('embedding (Embedding)       (None, 10, 64)            64000', 1, true), summary)
  local config = model.layers[1]:get_config()
  t.eq(config.input_dim, 1000, 'input_dim')
  t.eq(config.output_dim, 64, 'output_dim')
  t.eq(config.input_length, 10, 'input_length')
  t.eq(config.mask_zero, false, 'mask_zero')
  t.truthy(model.layers[1].explanation:find('output_dim = 64', 1, true), model.layers[1].explanation)
end)

t.test('each index becomes its row of the table', function()
  local e = L.Embedding{3, 2}
  e(nn.zeros(1, 2))
  e:set_weights{nn.tensor{{0, 1}, {10, 11}, {20, 21}}}
  t.eq(e(nn.tensor{{2, 0}, {1, 1}}), nn.tensor{{{20, 21}, {0, 1}}, {{10, 11}, {10, 11}}}, 'rows')
  t.eq(e(nn.tensor{{2, 0}, {1, 1}}:to('emulated')):to('cpu'),
       nn.tensor{{{20, 21}, {0, 1}}, {{10, 11}, {10, 11}}}, 'the same on the emulated device')
  t.eq(e(nn.tensor{{1, 2}}:astype('uint8')), nn.tensor{{{10, 11}, {20, 21}}}, 'bytes as indices')
  t.eq(e(nn.tensor{{1, 2}}:astype('int32')), nn.tensor{{{10, 11}, {20, 21}}}, 'and integers')
end)

-- A task only the embeddings can solve: the class is the second token of the sequence
-- modulo 4, and token ids carry no order a Dense on the raw ids could use.
local function second_token_task(n)
  local x = tokens(n, 5, 12)
  local rows, labels = x:tolist(), {}
  for i, row in ipairs(rows) do labels[i] = row[2] % 4 end
  return x, nn.tensor(labels)
end

t.test('Embedding -> Flatten -> Dense learns a task far better than chance', function()
  nn.random.seed(3)
  local x, y = second_token_task(256)
  local model = nn.Sequential{L.Embedding{12, 8, input_shape = {5}}, L.Flatten(),
                              L.Dense{4, activation = 'softmax'}}
  model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.05},
                loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
  local _, before = model:evaluate(x, y, {verbose = 0})
  model:fit(x, y, {epochs = 20, batch_size = 32, verbose = 0})
  local loss, accuracy = model:evaluate(x, y, {verbose = 0})
  t.truthy(before < 0.5, 'near chance (0.25) before: ' .. before)
  t.eq(accuracy, 1, 'every training sequence right after')
  t.truthy(loss < 0.1, 'loss ' .. loss)
  local fresh_x, fresh_y = second_token_task(64)
  local _, fresh = model:evaluate(fresh_x, fresh_y, {verbose = 0})
  t.eq(fresh, 1, 'and every new one: the task is learnt, not the samples')
end)

t.test('Embedding -> GlobalAveragePooling1D -> Dense trains to the same weights on cpu and emulated', function()
  nn.random.seed(4)
  local x = tokens(48, 6, 9)
  local rows, labels = x:tolist(), {}
  for i, row in ipairs(rows) do   -- whether token 3 occurs: a bag-of-words question
    labels[i] = 0
    for _, token in ipairs(row) do if token == 3 then labels[i] = 1 end end
  end
  local y = nn.tensor(labels)
  local results = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(5)
    local model = nn.Sequential{L.Embedding{9, 4, input_shape = {6}}, L.GlobalAveragePooling1D(),
                                L.Dense{1, activation = 'sigmoid'}}
    model:to(device)
    model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.05}, loss = 'binary_crossentropy',
                  metrics = {'accuracy'}}
    model:fit(x, y, {epochs = 30, batch_size = 8, verbose = 0})
    local _, accuracy = model:evaluate(x, y, {verbose = 0})
    t.truthy(accuracy >= 0.9, device .. ': accuracy ' .. accuracy)
    results[device] = model:get_weights()
  end
  for i = 1, #results.cpu do
    t.eq(results.cpu[i]:to('cpu'), results.emulated[i]:to('cpu'), 'cpu = emulated, weight ' .. i)
  end
end)

t.test('regularizer, constraint and freezing act on the embeddings', function()
  nn.random.seed(6)
  local x, y = tokens(16, 3, 5), nn.random.randn(16, 1)
  local function model_with(options)
    nn.random.seed(7)
    options[1], options[2], options.input_shape = 5, 2, {3}
    local model = nn.Sequential{L.Embedding(options), L.Flatten(), L.Dense{1}}
    model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1}, loss = 'mse'}
    return model
  end
  local plain, penalised = model_with{}, model_with{embeddings_regularizer = 'l2'}
  local table = penalised.layers[1].embeddings
  t.near(penalised:evaluate(x, y, {verbose = 0}) - plain:evaluate(x, y, {verbose = 0}),
         0.01 * (table * table):sum(), 1e-6, 'l2 adds 0.01 * sum of squares')
  local constrained = model_with{embeddings_constraint = 'non_neg'}
  constrained:fit(x, y, {epochs = 3, verbose = 0})
  t.truthy(constrained.layers[1].embeddings:min() >= 0, 'non_neg keeps the table >= 0')
  local frozen = model_with{trainable = false}
  local kept = frozen.layers[1].embeddings * 1
  frozen:fit(x, y, {epochs = 2, verbose = 0})
  t.eq(frozen.layers[1].embeddings, kept, 'a frozen table does not move')
  t.eq(frozen:count_params(), 5 * 2 + 6 + 1, 'all counted')
end)

t.test('pad_sequences makes rows of one length as Keras does', function()
  local P = nn.utils.pad_sequences
  local sequences = {{1, 2, 3}, {4, 5}, {6}}
  t.eq(P(sequences), nn.tensor({{1, 2, 3}, {0, 4, 5}, {0, 0, 6}}, 'int32'), "'pre' padding")
  t.eq(P(sequences, {padding = 'post'}), nn.tensor({{1, 2, 3}, {4, 5, 0}, {6, 0, 0}}, 'int32'),
       "'post' padding")
  t.eq(P({{1, 2, 3, 4}, {5}}, {maxlen = 2}), nn.tensor({{3, 4}, {0, 5}}, 'int32'),
       "'pre' truncating keeps the end")
  t.eq(P({{1, 2, 3, 4}, {5}}, {maxlen = 2, truncating = 'post', value = -1}),
       nn.tensor({{1, 2}, {-1, 5}}, 'int32'), "'post' truncating keeps the start")
  t.eq(P({nn.tensor{7, 8}, {}}, {maxlen = 3, dtype = 'float32', value = 0.5}),
       nn.tensor{{0.5, 7, 8}, {0.5, 0.5, 0.5}}, 'tensors and empty sequences, float32')
  -- Padded word ids through an Embedding and a GRU.
  local model = nn.Sequential{L.Embedding{10, 4}, L.GRU{3}, L.Dense{1}}
  t.eq(tostring(model(P(sequences)).shape), '(3, 1)', 'into a model')
  t.raises(function() P{} end, 'sequences is an empty list')
  t.raises(function() P{{1.5}} end, 'sequence 1, element 1 is 1.5', "dtype 'int32'")
  t.raises(function() P({{1}, 'x'}) end, 'sequence 2 must be a list of numbers or a 1-D tensor')
  t.raises(function() P({{'a'}}) end, 'element 1 must be a number, got string')
  t.raises(function() P({{1}}, {padding = 'mid'}) end, "padding must be 'pre' or 'post', got 'mid'")
  t.raises(function() P({{1}}, {truncating = 1}) end, "truncating must be 'pre' or 'post', got integer")
  t.raises(function() P({{1}}, {dtype = 'int8'}) end, 'dtype must be', 'int8')
  t.raises(function() P({{}}) end, 'every sequence is empty; give maxlen')
  t.raises(function() P({{1}}, {value = 0.5}) end, 'value 0.5 cannot pad', 'int32')
  t.raises(function() P({{300}}, {dtype = 'uint8'}) end, 'is 300', "dtype 'uint8'")
  t.raises(function() P({{1}}, {pad = 'post'}) end, "unknown option 'pad'")
  t.raises(function() P({nn.ones(2, 2)}) end, 'a tensor of 2 axes')
end)

t.test('bad arguments raise errors that say what is wrong', function()
  t.raises(function() L.Embedding{} end, 'missing required argument', 'input_dim')
  t.raises(function() L.Embedding{10} end, 'missing required argument', 'output_dim')
  t.raises(function() L.Embedding{0, 4} end, 'input_dim must be a positive integer, got 0')
  t.raises(function() L.Embedding{10, -2} end, 'output_dim must be a positive integer, got -2')
  t.raises(function() L.Embedding{2.5, 4} end, 'input_dim must be an integer, got 2.5')
  -- Indices travel as float32, exact up to 2^24: a larger table could not be indexed.
  t.raises(function() L.Embedding{16777217, 2} end, 'input_dim must be at most 16777216')
  t.raises(function() nn.Sequential{L.Input{shape = {3}}, L.Dense{3}, L.Embedding{4, 2}} end,
           'cannot follow "dense"', "must be the model's first layer")
  t.raises(function() L.Embedding{10, 4, mask_zero = 1} end, 'mask_zero')
  t.raises(function() L.Embedding{10, 4, embeddings_initializer = 'nope'} end, 'nope')
  t.raises(function() L.Embedding{10, 4, embeddings_regularizer = 'l3'} end, 'l3')
  t.raises(function() L.Embedding{10, 4, embeddings_constraint = 'none_such'} end, 'none_such')
  t.raises(function() L.Embedding{10, 4, input_length = 0} end, 'input_length')
  t.raises(function() L.Embedding{10, 4, input_length = 5, input_shape = {6}} end,
           'input_length=5', 'input_shape is (6,)')
  t.raises(function() L.Embedding{10, 4, weights = 1} end, 'weights')
  t.raises(function() L.Embedding{10, 4, input_length = 5}(nn.zeros(2, 6)) end,
           'input_length=5 expects shape (None, 5)', 'Full shape received: (2, 6)')
  t.raises(function() L.Embedding{10, 4}(nn.zeros(1, 1, 1, 1, 1, 1, 1, 1)) end, '8 axes')
  t.raises(function() L.Embedding{10, 4}(nn.tensor{{1, 12}}:astype('int32')) end, 'input[0, 1] = 12')
end)

t.test('a bad index is an error naming the layer, the value, its position and the range', function()
  local e = L.Embedding{10, 3, name = 'words'}
  local bad = {{10, '= 10 '}, {-1, '= -1 '}, {2.5, '= 2.5 '}, {0 / 0, '= NaN '}, {1 / 0, '= inf '}}
  for _, case in ipairs(bad) do
    local x = nn.tensor{{1, 2, 3}, {4, case[1], 5}}
    t.raises(function() e(x) end, 'Embedding "words"', 'input[1, 1] ' .. case[2],
             'whole numbers in [0, 10)', 'input_dim=10')
    t.raises(function() e(x:to('emulated')) end, 'input[1, 1] ' .. case[2])
  end
  t.eq(tostring(e(nn.tensor{{9, 0, 3}}).shape), '(1, 3, 3)', 'the layer still works')

  nn.random.seed(8)
  local x, y = tokens(20, 3, 10), nn.random.randn(20, 1)
  local rows = x:tolist()
  rows[16][2] = 12   -- row 15, step 1, counted from 0 as the message does
  local bad_x = nn.tensor(rows)
  for _, device in ipairs{'cpu', 'emulated'} do
    local model = nn.Sequential{L.Embedding{10, 2, input_shape = {3}}, L.Flatten(), L.Dense{1}}
    model:to(device)
    model:compile{optimizer = 'sgd', loss = 'mse'}
    local before = model:get_weights()[1]:to('cpu')
    local where = 'input[15, 1] = 12'
    t.raises(function() model:fit(bad_x, y, {epochs = 1, verbose = 0}) end, 'model:fit', where, '[0, 10)')
    t.raises(function() model:fit(x, y, {validation_data = {bad_x, y}, verbose = 0}) end, where)
    t.raises(function() model:evaluate(bad_x, y, {verbose = 0}) end, 'model:evaluate', where)
    t.raises(function() model:predict(bad_x, {verbose = 0}) end, 'model:predict', where)
    t.raises(function() model:train_on_batch(bad_x, y) end, 'model:train_on_batch', where)
    t.raises(function() model:test_on_batch(bad_x, y) end, 'model:test_on_batch', where)
    t.raises(function() model:predict_on_batch(bad_x) end, 'model:predict_on_batch', where)
    t.raises(function() model(bad_x) end, where)
    t.eq(model:get_weights()[1]:to('cpu'), before, device .. ': nothing trained on bad data')
    model:fit(x, y, {epochs = 1, verbose = 0})
    t.truthy(model:get_weights()[1]:to('cpu') ~= before, device .. ': and good data still trains')
  end
end)

t.test('saved and loaded', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-embedding'
  nn.io.make_directory(directory)
  local model = nn.Sequential{L.Embedding{7, 3, input_length = 4, embeddings_constraint = 'non_neg'},
                              L.GlobalAveragePooling1D(), L.Dense{2}}
  model:save(directory .. '/embedding.nnsh')
  local copy = nn.models.load_model(directory .. '/embedding.nnsh')
  local x = tokens(5, 4, 7)
  t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
  t.eq(copy.layers[1].input_length, 4, 'input_length kept')
  t.eq(copy.layers[1].input_dim, 7, 'input_dim kept')
end)

t.finish()
