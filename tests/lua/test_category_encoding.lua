-- CategoryEncoding and Discretization from Lua: Keras' documented examples, shapes of every
-- output mode, adapt's boundaries, a model on buckets trained the same on cpu and emulated
-- and saved with its learned boundaries, errors. (Values against references in
-- tests/engine/test_category.c.)
local t = require 'harness'
local L = nn.layers

t.test("Keras' examples", function()
  t.eq(L.CategoryEncoding{num_tokens = 4, output_mode = 'one_hot'}(nn.tensor{3, 2, 0, 1}),
       nn.tensor{{0, 0, 0, 1}, {0, 0, 1, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}}, 'one_hot')
  local samples = nn.tensor{{0, 1}, {0, 0}, {1, 2}, {3, 1}}
  t.eq(L.CategoryEncoding{num_tokens = 4, output_mode = 'multi_hot'}(samples),
       nn.tensor{{1, 1, 0, 0}, {1, 0, 0, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}}, 'multi_hot')
  t.eq(L.CategoryEncoding{4, output_mode = 'count'}(samples),
       nn.tensor{{1, 1, 0, 0}, {2, 0, 0, 0}, {0, 1, 1, 0}, {0, 1, 0, 1}}, 'count')
  t.eq(L.CategoryEncoding{4}:get_config().output_mode, 'multi_hot', 'multi_hot by default')
  t.eq(L.Discretization{bin_boundaries = {0, 1, 2}}(nn.tensor{{-1.5, 1.0, 3.4, 0.5}, {0.0, 3.0, 1.3, 0.0}}),
       nn.tensor{{0, 2, 3, 1}, {1, 3, 2, 1}}, 'Discretization buckets')
  t.eq(L.Discretization{bin_boundaries = {0, 1, 2}}:get_config().output_mode, 'int', 'int by default')
end)

t.test('shapes of every mode', function()
  local ids = nn.zeros(2, 5)
  t.eq(tostring(L.CategoryEncoding{7, output_mode = 'one_hot'}(ids).shape), '(2, 5, 7)', 'one_hot adds an axis')
  t.eq(tostring(L.CategoryEncoding{7, output_mode = 'one_hot'}(nn.zeros(2, 1)).shape), '(2, 7)',
       'one_hot replaces a last axis of 1')
  t.eq(tostring(L.CategoryEncoding{7}(ids).shape), '(2, 7)', 'multi_hot: one vector per sample')
  t.eq(tostring(L.CategoryEncoding{7, output_mode = 'count'}(nn.zeros(2, 3, 5)).shape), '(2, 3, 7)',
       'count: the last axis becomes the counts')
  t.eq(tostring(L.Discretization{bin_boundaries = {1, 2}, output_mode = 'one_hot'}(ids).shape), '(2, 5, 3)',
       'Discretization one_hot: a vector of 3 buckets per value')
  local model = nn.Sequential{nn.Input{shape = {5}}, L.CategoryEncoding{7}, L.Dense{2}}
  t.eq(model:count_params(), 16, 'no weights of its own; the Dense sees 7 features')
  -- numbers have buckets wherever they come from: a Discretization may follow a layer
  local dense = L.Dense{2, use_bias = false, kernel_initializer = 'ones'}
  local after = nn.Sequential{nn.Input{shape = {2}}, dense, L.Discretization{bin_boundaries = {0, 5}}}
  t.eq(after:predict(nn.tensor{{-3, 1}, {1, 2}, {4, 4}}, {verbose = 0}),
       nn.tensor{{0, 0}, {1, 1}, {2, 2}}, 'buckets of the Dense outputs -2, 3 and 8')
end)

t.test('adapt places the boundaries at the quantiles; kept in model files', function()
  local directory = (os.getenv('NNSH_TEST_TMP') or '/tmp') .. '/lua-category-encoding'
  nn.io.make_directory(directory)
  local ages = nn.arange(20, 80):reshape(-1, 1)   -- 60 ages, 20 to 79
  local buckets = L.Discretization{num_bins = 3}
  buckets:adapt(ages)
  t.eq(nn.tensor(buckets:get_config().bin_boundaries), nn.tensor{40, 60}, 'thirds of the ages')
  t.eq(buckets:get_config().num_bins, nil, 'the boundaries stand for num_bins now')
  t.eq(buckets(nn.tensor{{25}, {45}, {79}}), nn.tensor{{0}, {1}, {2}}, 'young, middle, old')
  local x = nn.random.uniform(24, 1) * 60 + 20
  local y = (x - 50):gt(0):astype('int32'):reshape(-1)
  local weights = {}
  for _, device in ipairs{'cpu', 'emulated'} do
    nn.random.seed(41)
    local discretize = L.Discretization{num_bins = 4, output_mode = 'one_hot'}
    discretize:adapt(x)
    local model = nn.Sequential{nn.Input{shape = {1}}, discretize, L.Dense{2, activation = 'softmax'}}
    model:to(device)
    model:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy'}
    model:fit(x, y, {epochs = 3, batch_size = 8, verbose = 0})
    weights[device] = model:get_weights()
    if device == 'cpu' then
      model:save(directory .. '/buckets.nnsh')
      local copy = nn.models.load_model(directory .. '/buckets.nnsh')
      t.eq(copy:predict(x, {verbose = 0}), model:predict(x, {verbose = 0}), 'same predictions')
      t.eq(nn.tensor(copy.layers[1]:get_config().bin_boundaries),
           nn.tensor(discretize:get_config().bin_boundaries), 'the learned boundaries kept')
    end
  end
  for i = 1, #weights.cpu do t.eq(weights.emulated[i], weights.cpu[i], 'weight ' .. i) end
end)

t.test('bad arguments and inputs raise errors that say what is wrong', function()
  t.raises(function() L.CategoryEncoding{} end, 'missing required argument', 'num_tokens')
  t.raises(function() L.CategoryEncoding{0} end, 'num_tokens')
  t.raises(function() L.CategoryEncoding{4, output_mode = 'tf_idf'} end, 'output_mode', 'multi_hot')
  t.raises(function() L.CategoryEncoding{4, sparse = true} end, 'sparse=True is not available')
  t.raises(function() L.CategoryEncoding{4}(nn.tensor{{0, 4}}) end,
           'input[0, 1] = 4 is not a valid index', 'num_tokens=4')
  t.raises(function() L.CategoryEncoding{4}(nn.tensor{{0, 0.5}}) end, 'input[0, 1] = 0.5')
  local model = nn.Sequential{nn.Input{shape = {2}}, L.CategoryEncoding{3}, L.Dense{1}}
  model:compile{optimizer = 'sgd', loss = 'mse'}
  t.raises(function() model:fit(nn.tensor{{0, 1}, {2, 5}}, nn.ones(2, 1), {verbose = 0}) end,
           'input[1, 1] = 5 is not a valid index')
  t.raises(function() L.Discretization{} end, 'either bin_boundaries', 'got neither')
  t.raises(function() L.Discretization{bin_boundaries = {0, 1}, num_bins = 3} end, 'not both')
  t.raises(function() L.Discretization{bin_boundaries = {0, 2, 1}} end, 'must be sorted')
  t.raises(function() L.Discretization{num_bins = 1} end, 'num_bins')
  t.raises(function() L.Discretization{num_bins = 3}(nn.ones(2, 2)) end, 'call layer:adapt(data) first')
  t.raises(function() L.Discretization{bin_boundaries = {0}}:adapt(nn.ones(4, 1)) end,
           'was given its bin_boundaries')
  t.raises(function() L.Discretization{num_bins = 3}:adapt(nn.tensor{0 / 0, 1 / 0}) end,
           'at least one finite number')
  t.raises(function() L.Dense{2}:adapt(nn.ones(2, 2)) end, '(Dense) has no adapt')
end)

t.finish()
