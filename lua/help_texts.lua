-- The texts of help(): an entry per function, method, class and module (signature,
-- parameters with defaults and meanings, an example), and the free-standing topics.
-- Compiled only on the first call to help (nn._load_module), to keep startup quick.
-- Layer constructors are documented from the engine's own argument specs.
local nn = ...

-- Each entry: call (the signature), text (what it does), params ({name, meaning,
-- default=..., option=true when it goes in the options table}), returns, example; a
-- class's fields ({name, meaning}), which help 'model.optimizer' finds one by one.
local E = {}
local function doc(path, entry) entry.path = path; E[path] = entry end

-- nn and its small modules
doc('nn', {module = true, text =
  'The neural-network module: tensors, Keras-style layers and models, data sets. ' ..
  'Positions (rows, slices) count from 1 as in Lua; axes count as in Keras and NumPy ' ..
  '(0 is the batch axis, -1 the last); class ids in labels and predictions are the ' ..
  "data's own values (MNIST 0-9), so argmax of a prediction compares with the labels."})
doc('nn.layers', {module = true, text =
  'Layer constructors, Keras names and defaults: positional arguments first, named ' ..
  'ones after, in one table: nn.layers.Conv2D{32, {3, 3}, padding=\'same\'}. A layer ' ..
  'called on a tensor builds itself from that tensor\'s shape. A default name is ' ..
  'provisional until a model takes the layer: the model numbers it among its own layers ' ..
  '(conv2d, conv2d_1, ...), so a summary reads as in a fresh Keras session whatever was ' ..
  'made before, and the layer keeps that name; name=\'...\' fixes a name.'})
doc('nn.random', {module = true, text =
  'Random tensors from one seedable generator: the same seed gives the same numbers ' ..
  'on every run and every thread count.'})
doc('nn.datasets', {module = true, text =
  'Data sets in IDX files (raw or .gz), looked for in $NNSH_DATA and the usual data ' ..
  'directories; a missing data set is an error that says how to get it.'})
doc('nn.optimizers', {module = true, text =
  "Optimizers for model:compile{optimizer=...}; a name such as 'adam' also works. The " ..
  "first positional setting is the learning rate, as in Keras: nn.optimizers.Adam(1e-3) " ..
  'is nn.optimizers.Adam{learning_rate=1e-3}, and a schedule may stand there too.'})
doc('nn.losses', {module = true, text =
  "Losses for model:compile{loss=...}; a name such as 'sparse_categorical_crossentropy' " ..
  'also works. A loss object also computes itself, as training does: ' ..
  'loss(y_true, y_pred [, sample_weight]) is the mean over the samples of each ' ..
  "sample's loss times its weight (Keras' sum over batch size), a number. Each class's " ..
  'Keras name is its function of one loss per sample: ' ..
  'nn.losses.categorical_crossentropy(y_true, y_pred [, {from_logits=true, ...}]) gives a ' ..
  "tensor of y_pred's shape less its last axis. y_true and y_pred are tensors or nested " ..
  "tables; y_pred's last axis holds a sample's outputs (a flat list is one sample); the " ..
  'sparse loss takes one class id per sample.',
  example = "loss = nn.losses.CategoricalCrossentropy{}\n" ..
            "print(loss({{0, 1, 0}, {0, 0, 1}}, {{0.05, 0.95, 0}, {0.1, 0.8, 0.1}}))   --> 1.1769 = -(ln 0.95 + ln 0.1) / 2\n" ..
            "print(loss({{0, 1, 0}, {0, 0, 1}}, {{0.05, 0.95, 0}, {0.1, 0.8, 0.1}}, {1, 0}))   --> 0.0256: the second sample weighs 0\n" ..
            "print(nn.losses.SparseCategoricalCrossentropy{}({1, 2}, {{0.05, 0.95, 0}, {0.1, 0.8, 0.1}}))   --> 1.1769, class ids\n" ..
            "print(nn.losses.categorical_crossentropy({{0, 1, 0}}, {{1, 2, 3}}, {from_logits = true}))   --> tensor([1.4076], ...)"})
doc('nn.metrics', {module = true, text =
  "Metrics for model:compile{metrics={...}} with Keras' settings and a name of their own; " ..
  "a name such as 'accuracy' also works, and so does a class's name ('Precision': the " ..
  "class at its defaults, logged as precision, as Keras does). A metric object also " ..
  'counts on its own, as fit counts over an epoch: metric:update_state(y_true, y_pred ' ..
  '[, sample_weight]) adds a batch, metric:result() is the value over every batch so far, ' ..
  'metric:reset_state() starts again.',
  example = "m = nn.metrics.CategoricalAccuracy{}\n" ..
            "m:update_state({{0, 1, 0}, {0, 0, 1}}, {{0.05, 0.95, 0}, {0.1, 0.8, 0.1}})\n" ..
            "print(m:result())   --> 0.5\n" ..
            "m:update_state({{0, 0, 1}, {1, 0, 0}}, {{0.1, 0.1, 0.8}, {0.6, 0.3, 0.1}})\n" ..
            "print(m:result())   --> 0.75: 3 of 4 samples\n" ..
            "m:reset_state()"})
local metric_arguments = {
  {'y_true', "the labels: y_pred's shape, or one class id per sample for the sparse metrics"},
  {'y_pred', "the predictions; the last axis holds a sample's outputs"},
  {'sample_weight', 'one weight per sample (a number: all of them): the value becomes ' ..
                    'sum(weight * value) / sum(weight); precision, recall and auc count ' ..
                    'weighted positives', default = 'nil'}}
doc('nn.Metric:update_state', {call = 'metric:update_state(y_true, y_pred [, sample_weight])',
  text = "Adds a batch to what the metric has counted, as fit adds each batch to an epoch's " ..
         'totals: the means sum values and samples, precision and recall their positives, ' ..
         'auc its threshold buckets.',
  params = metric_arguments,
  example = "m = nn.metrics.Precision{}\nm:update_state({{1, 0}, {0, 1}}, {{0.9, 0.6}, {0.2, 0.7}})\nprint(m:result())   --> 0.6667: 2 of 3 predicted positives"})
doc('nn.Metric:result', {call = 'metric:result()',
  text = 'The metric over every batch given to update_state since it was made or reset; ' ..
         '0 before any.', returns = 'a number',
  example = "m = nn.metrics.MeanAbsoluteError{}\nm:update_state({{1}, {2}}, {{1.5}, {2}})\nprint(m:result())   --> 0.25"})
doc('nn.Metric:reset_state', {call = 'metric:reset_state()',
  text = 'Forgets what update_state counted, as fit does at the start of each epoch.',
  example = "m = nn.metrics.AUC{}\nm:update_state({1, 0}, {0.8, 0.3})\nm:reset_state()\nprint(m:result())   --> 0"})
doc('nn.initializers', {module = true, text =
  "Weight initializers for kernel_initializer= and friends; a name such as 'he_normal' also works."})
doc('nn.regularizers', {module = true, text =
  'Weight penalties added to the loss: kernel_regularizer=nn.regularizers.l2(0.01).'})
doc('nn.constraints', {module = true, text =
  'Constraints applied to weights after each update: kernel_constraint=nn.constraints.MaxNorm(3).'})
doc('nn.callbacks', {module = true, text =
  'Keras callbacks for model:fit{callbacks={...}}; any table of functions such as ' ..
  'on_epoch_end(self, epoch, logs) is a callback too. Options go in one table, ' ..
  "ModelCheckpoint{'best.safetensors', monitor='loss'}, or as Keras' plain arguments in " ..
  "Keras' order with a table of named ones last: ModelCheckpoint('best.safetensors', " ..
  "'loss', {save_best_only=true})."})
doc('nn.help', {call = 'help([x])  or  nn.help([x])',
  text = 'Prints what x is and how to use it: the signature, each parameter with its ' ..
         "default and meaning, and an example. help() lists the topics; help 'name' " ..
         "looks a function, layer or topic up by name: its last part ('fit', 'Dense'), " ..
         "a layer's other name ('MaxPool2D'), a path ('nn.layers.MaxPool2D') or a " ..
         "method as the signatures write it ('model:summary', 't:reshape').",
  params = {{'x', "a function, method, module, layer, model, tensor, or a name such as 'fit'"}},
  example = "help(nn.layers.Dense)\nhelp 'fit'\nhelp 'MaxPool2D'\nhelp 'model:summary'\nhelp 'shell'"})
doc('nn.None', {call = 'nn.None',
  text = 'The unknown size of the batch axis in shapes; prints as None. model:build and ' ..
         "layer:build take it, as Keras' build((None, 7)); a tensor's sizes must be known, " ..
         'so nn.zeros and the like refuse it.',
  example = 'nn.layers.Dense{4}:build(-1, 3).output_shape[1] == nn.None   --> true'})
doc('nn.config', {module = true, text = 'What this machine offers: devices, the BLAS library.'})
doc('nn.test', {module = true, text = 'Checks of the installation.'})
doc('nn.models', {module = true, text = 'Models: nn.models.Sequential is nn.Sequential; reading, writing and copying models.'})

-- tensors
local shape_param = {'d1, d2, ...', 'the size of each axis, or one table {d1, d2, ...}'}
doc('nn.tensor', {call = 'nn.tensor(data [, dtype])',
  text = 'A tensor from a number, a (nested) table of numbers, or another tensor (converted ' ..
         'as t:astype converts it, clamping to an integer type\'s range). For an integer ' ..
         'dtype a fraction is cut toward zero, and a number given that the dtype cannot ' ..
         'hold (256 as uint8, NaN) is an error naming its place.',
  params = {{'data', 'a number, a nested table such as {{1, 2}, {3, 4}}, or a tensor'},
            {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "'float32'"}},
  example = "nn.tensor{{1, 2}, {3, 4}}\nnn.tensor({1, 2, 3}, 'int32')"})
doc('nn.zeros', {call = 'nn.zeros(d1, d2, ... [, dtype])', text = 'A tensor filled with zeros.',
  params = {shape_param, {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "'float32'"}},
  example = "nn.zeros(2, 3)\nnn.zeros({2, 3}, 'int32')"})
doc('nn.ones', {call = 'nn.ones(d1, d2, ... [, dtype])', text = 'A tensor filled with ones.',
  params = {shape_param, {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "'float32'"}},
  example = 'nn.ones(2, 2)'})
doc('nn.full', {call = 'nn.full(shape, value)', text = 'A float32 tensor filled with value.',
  params = {{'shape', 'a table {d1, d2, ...} (or one integer for a vector)'},
            {'value', 'the number every element gets'}},
  example = 'nn.full({2, 3}, 0.5)'})
doc('nn.linspace', {call = 'nn.linspace(start, stop, num)',
  text = 'num evenly spaced float32 values from start to stop, both included, as NumPy ' ..
         'does; the last one is stop exactly.',
  params = {{'start', 'the first value'}, {'stop', 'the last value'},
            {'num', 'how many values (1 gives start alone)'}},
  example = 'nn.linspace(0, 1, 5)   --> 0, 0.25, 0.5, 0.75, 1'})
doc('nn.eye', {call = 'nn.eye(n [, m] [, dtype])',
  text = 'The identity matrix: n rows, m columns, ones on the diagonal and zeros elsewhere.',
  params = {{'n', 'the rows'}, {'m', 'the columns', default = 'n'},
            {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "'float32'"}},
  example = "nn.eye(3)\nnn.eye(2, 3, 'int32')"})
doc('nn.zeros_like', {call = 'nn.zeros_like(x [, dtype])',
  text = "Zeros in x's shape and dtype (or the dtype given), on the CPU.",
  params = {{'x', 'a tensor'}, {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "x's"}},
  example = 'nn.zeros_like(nn.ones(2, 3))'})
doc('nn.ones_like', {call = 'nn.ones_like(x [, dtype])',
  text = "Ones in x's shape and dtype (or the dtype given), on the CPU.",
  params = {{'x', 'a tensor'}, {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "x's"}},
  example = "nn.ones_like(nn.arange(3), 'int32')"})
doc('nn.arange', {call = 'nn.arange(stop [, dtype]) or nn.arange(start, stop [, step] [, dtype])',
  text = 'Evenly spaced numbers from start up to stop (not included), as a vector, as NumPy ' ..
         'does. An integer dtype counts in whole numbers, exact over the whole int64 range.',
  params = {{'start', 'the first value', default = '0'}, {'stop', 'the end, not included'},
            {'step', 'the distance between values (may be negative)', default = '1'},
            {'dtype', "'float32', 'int32', 'int64' or 'uint8'", default = "'float32'"}},
  example = "nn.arange(5)\nnn.arange(0, 10, 3, 'int64')\nnn.arange(64):reshape(1, 8, 8, 1).shape   --> (1, 8, 8, 1)"})
doc('nn.matmul', {call = 'nn.matmul(a, b)',
  text = "The matrix product a @ b with NumPy's rules: the last two axes are the matrices, " ..
         'earlier axes a batch that broadcasts; a vector on the left is a row and on the ' ..
         'right a column, and that axis is left out of the result. float32 unless both are ' ..
         'integers. A Dense layer computes nn.matmul(x, kernel) + bias.',
  params = {{'a', 'a tensor or a table of numbers'}, {'b', 'a tensor or a table of numbers'}},
  example = 'd = nn.layers.Dense{3}\nx = nn.random.randn(2, 4)\n' ..
            '(d(x) - (nn.matmul(x, d.kernel) + d.bias)):abs():max()   --> 0 (or nearly)'})
doc('nn.concatenate', {call = 'nn.concatenate(tensors [, axis])',
  text = 'The tensors joined along an existing axis; their shapes agree on every other axis.',
  params = {{'tensors', 'a list {a, b, ...} of tensors or tables of numbers'},
            {'axis', 'the axis to join along', default = '0'}},
  example = 'a = nn.ones(2, 3)\nnn.concatenate({a, a}).shape      --> (4, 3)\n' ..
            'nn.concatenate({a, a}, -1).shape  --> (2, 6)'})
doc('nn.stack', {call = 'nn.stack(tensors [, axis])',
  text = 'Tensors of one shape joined along a new axis: images into a batch.',
  params = {{'tensors', 'a list {a, b, ...} of tensors or tables of numbers'},
            {'axis', 'where the new axis goes', default = '0'}},
  example = 'nn.stack({nn.zeros(28, 28), nn.ones(28, 28)}).shape   --> (2, 28, 28)'})
doc('nn.utils.to_categorical', {call = 'nn.utils.to_categorical(labels [, num_classes])',
  text = 'One-hot rows for integer class labels, as float32, as Keras does: labels of shape ' ..
         '(N,) or (N, 1) give (N, num_classes). For categorical_crossentropy; ' ..
         'sparse_categorical_crossentropy takes the labels themselves.',
  params = {{'labels', 'a tensor or table of whole numbers from 0'},
            {'num_classes', 'the number of classes', default = 'the largest label + 1'}},
  example = "nn.utils.to_categorical({0, 2, 1})\nnn.utils.to_categorical(y_train, 10).shape"})
doc('nn.utils.pad_sequences', {call = "nn.utils.pad_sequences(sequences [, {maxlen=nil, dtype='int32', padding='pre', truncating='pre', value=0}])",
  text = 'One (N, maxlen) tensor from N sequences of different lengths, as Keras does: ' ..
         'short ones are padded with value, long ones cut, at the start (\'pre\') or the end ' ..
         '(\'post\'). For an Embedding, whose input is one row of indices per sample; ' ..
         'with Embedding{..., mask_zero=true} the recurrent layers after it skip the ' ..
         'padding (value 0), so a padded sequence gives what the unpadded one would.',
  params = {{'sequences', 'a list of lists of numbers, or of 1-D tensors'},
            {'maxlen', 'the length of every row', default = 'the longest sequence', option = true},
            {'dtype', "'int32', 'int64', 'uint8' or 'float32'", default = "'int32'", option = true},
            {'padding', "where padding goes: 'pre' or 'post'", default = "'pre'", option = true},
            {'truncating', "where a long sequence is cut: 'pre' keeps its end, 'post' its start", default = "'pre'", option = true},
            {'value', 'the padding', default = '0', option = true}},
  example = "nn.utils.pad_sequences({{1, 2, 3}, {4, 5}, {6}})\n" ..
            "nn.utils.pad_sequences({{1, 2, 3}, {4}}, {maxlen = 2, padding = 'post'})"})
doc('nn.activations', {module = true, text =
  "Keras' activation functions, one per name activation= takes: nn.activations.relu(x) " ..
  "computes what a layer with activation='relu' computes, in float32, and a layer takes " ..
  "the function itself: Dense{10, activation=nn.activations.relu}. help 'activations' " ..
  'shows every formula.',
  example = "nn.activations.relu(nn.tensor{-1, 2})          --> tensor([0., 2.], ...)\n" ..
            "nn.activations.softmax(nn.tensor{{1, 1}})     --> tensor([[0.5000, 0.5000]], ...)\n" ..
            "nn.layers.Dense{10, activation = nn.activations.gelu}"})
for _, activation in ipairs{
    {'linear', 'x itself.'}, {'relu', 'max(x, 0).'}, {'sigmoid', '1 / (1 + exp(-x)).'},
    {'tanh', 'tanh(x).'},
    {'softmax', 'exp(x) / sum(exp(x)) along an axis.', 'axis', 'the axis that sums to 1', '-1'},
    {'log_softmax', 'log(softmax(x)) along an axis.', 'axis', 'the axis softmax normalises', '-1'},
    {'elu', 'x if x > 0, else alpha * (exp(x) - 1).', 'alpha', 'the scale of the negative part', '1'},
    {'selu', '1.0507 * (x if x > 0, else 1.67326 * (exp(x) - 1)).'},
    {'gelu', 'x * P(X <= x) for a standard normal X (the exact, erf form).'},
    {'leaky_relu', 'x if x > 0, else negative_slope * x.', 'negative_slope', 'the slope below 0', '0.2'},
    {'relu6', 'min(max(x, 0), 6).'}, {'softplus', 'log(1 + exp(x)).'},
    {'softsign', 'x / (1 + |x|).'}, {'exponential', 'exp(x).'},
    {'swish', 'x * sigmoid(x) (also called silu).'}, {'silu', 'x * sigmoid(x) (also called swish).'},
    {'mish', 'x * tanh(softplus(x)).'},
    {'hard_sigmoid', "clip(x / 6 + 0.5, 0, 1), Keras 3's form (Keras 2 had clip(0.2 * x + 0.5, 0, 1))."},
    {'hard_silu', 'x * hard_sigmoid(x) (also called hard_swish).'},
    {'hard_swish', 'x * hard_sigmoid(x) (also called hard_silu).'},
} do
  local name, formula, setting = activation[1], activation[2], activation[3]
  local params = {{'x', 'a tensor, a table of numbers or a number'}}
  if setting then
    params[2] = {setting, activation[4], default = activation[5]}
  end
  local text = "Keras' " .. name .. ' activation: ' .. formula .. " The same as activation='" ..
               name .. "' in a layer, which also takes this function as its activation."
  if name == 'relu' then
    text = text .. ' For negative_slope, max_value or threshold use nn.layers.ReLU{...}(x).'
  end
  doc('nn.activations.' .. name, {
    call = 'nn.activations.' .. name .. '(x' .. (setting and ' [, ' .. setting .. ']' or '') .. ')',
    text = text, params = params, returns = "a float32 tensor of x's shape",
    example = 'nn.activations.' .. name .. '(nn.tensor{-1, 0, 2})\n' ..
              'nn.layers.Dense{4, activation = nn.activations.' .. name .. '}'})
end
doc('nn.utils.set_random_seed', {call = 'nn.utils.set_random_seed(n)',
  text = "Keras' name for nn.random.seed(n): nnsh has one generator for random tensors, " ..
         'initial weights, dropout masks and shuffles, and this restarts it.',
  params = {{'n', 'the seed, a whole number'}},
  example = 'nn.utils.set_random_seed(42)'})
doc('nn.random.seed', {call = 'nn.random.seed(n)',
  text = 'Restarts the generator: every random tensor, initial weight, dropout mask and ' ..
         'shuffle after it repeats exactly.',
  params = {{'n', 'any integer'}}, example = 'nn.random.seed(42)'})
local random_options = {
  {'low', 'uniform: the lowest value', default = '0', option = true},
  {'high', 'uniform: the upper end (not included)', default = '1', option = true},
  {'mean', 'normal: the mean', default = '0', option = true},
  {'stddev', 'normal: the standard deviation', default = '1', option = true}}
doc('nn.random.randn', {call = 'nn.random.randn(d1, d2, ... [, {mean=0, stddev=1}])',
  text = 'A float32 tensor of normally distributed numbers.',
  params = {shape_param, random_options[3], random_options[4]},
  example = 'x = nn.random.randn(2, 28, 28, 3)\nx.shape   --> (2, 28, 28, 3)'})
doc('nn.random.uniform', {call = 'nn.random.uniform(d1, d2, ... [, {low=0, high=1}])',
  text = 'A float32 tensor of numbers drawn uniformly from [low, high).',
  params = {shape_param, random_options[1], random_options[2]},
  example = 'nn.random.uniform(2, 2, {low = -1, high = 1})'})
doc('nn.random.rand', {call = 'nn.random.rand(d1, d2, ... [, {low=0, high=1}])',
  text = "NumPy's name for nn.random.uniform: a float32 tensor drawn uniformly from [0, 1).",
  params = {shape_param, random_options[1], random_options[2]},
  example = 'nn.random.rand(2, 3)'})
doc('nn.random.randint', {call = 'nn.random.randint(low, high, d1, d2, ...)',
  text = 'An int32 tensor of integers drawn uniformly from [low, high).',
  params = {{'low', 'the smallest value'}, {'high', 'the upper end (not included)'}, shape_param},
  example = 'nn.random.randint(0, 10, 5)'})
doc('nn.random.permutation', {call = 'nn.random.permutation(n) or nn.random.permutation(t)',
  text = 'The positions 1 to n in a random order (int64), for t:take; given a tensor, a copy ' ..
         'of it with its rows in a random order, as NumPy\'s permutation. nn.random.seed ' ..
         'repeats them.',
  params = {{'n', 'how many positions (or a tensor whose rows to reorder)'}},
  returns = 'a tensor',
  example = 'order = nn.random.permutation(5)\nx = nn.arange(10):reshape(5, 2)\nx:take(order)'})
doc('nn.set_learning_phase', {call = 'nn.set_learning_phase(phase)',
  text = 'The default of `training` when a layer or a model is called directly (layer(x), ' ..
         'model(x)): 1 makes Dropout ' ..
         'drop and BatchNormalization use batch statistics, 0 (the start) is inference.',
  params = {{'phase', '0 or 1 (or false/true)'}}, example = 'nn.set_learning_phase(1)'})
doc('nn.learning_phase', {call = 'nn.learning_phase()', text = 'The global learning phase, 0 or 1.',
  returns = '0 or 1', example = 'nn.learning_phase()'})
doc('nn.layer_classes', {call = 'nn.layer_classes()',
  text = 'Every layer class with its arguments (name, default, required, doc): what help ' ..
         'and completion read.', example = '#nn.layer_classes()'})
doc('nn.config.list_physical_devices', {call = "nn.config.list_physical_devices([kind])",
  text = 'The devices of this machine, each a table with name and device_type; a GPU also ' ..
         'has device_name, memory (bytes), compute_capability ({major, minor}), ' ..
         "multiprocessors and device (the name set_device takes, 'gpu:0').",
  params = {{'kind', "'CPU' or 'GPU'; nil lists every device", default = 'nil'}},
  example = "nn.config.list_physical_devices('GPU')"})
doc('nn.config.set_device', {call = "nn.config.set_device(name)",
  text = 'Where models created afterwards run and train. Without it (and without the ' ..
         'environment variable NNSH_DEVICE, which takes the same names) a GPU is used ' ..
         'when there is one, else the CPU. A device that is not there (no GPU) returns ' ..
         'nil and the reason. Move an existing model with model:to(name).',
  params = {{'name', "'cpu', 'gpu', 'gpu:N' (or 'cuda:N'); 'emulated' is a test device"}},
  returns = 'true, or nil and the reason', example = "nn.config.set_device('cpu')"})
doc('nn.config.get_device', {call = 'nn.config.get_device()',
  text = "The device new models use: 'cpu', 'gpu:0', ...", returns = 'a string',
  example = 'nn.config.get_device()'})
doc('nn.config.threading.set_intra_op_parallelism_threads',
  {call = 'nn.config.threading.set_intra_op_parallelism_threads(n)',
   text = 'How many threads the CPU kernels run: n from 1, or 0 for one per logical processor. At ' ..
          'start it is one per logical processor, or OMP_NUM_THREADS when set. Only the speed changes: every layer sums ' ..
          'in a fixed order, so the same seed trains to the same weights with any number ' ..
          'of threads. nn.matmul goes through OpenBLAS, whose sums may differ.',
   params = {{'n', 'a whole number from 0 to 1024'}},
   example = 'nn.config.threading.set_intra_op_parallelism_threads(1)'})
doc('nn.config.threading.get_intra_op_parallelism_threads',
  {call = 'nn.config.threading.get_intra_op_parallelism_threads()',
   text = 'The threads the CPU kernels run now (Keras answers 0 for "not set"; this is the ' ..
          'number in use).', returns = 'an integer',
   example = 'nn.config.threading.get_intra_op_parallelism_threads()'})
doc('nn.config.build_info', {call = 'nn.config.build_info()',
  text = 'What this nnsh was built with and what it finds: cuda_build (false for the CPU ' ..
         'build), cuda_version and cudnn_version (the headers), cuda_runtime, cuda_driver, ' ..
         'cudnn_runtime and cublas (the libraries found now).',
  returns = 'a table', example = 'nn.config.build_info().cuda_build'})
doc('nn.config.blas', {call = 'nn.config.blas()', text = 'The BLAS library in use: core, config, threads.',
  example = 'nn.config.blas().threads'})
doc('nn.config.simd', {call = 'nn.config.simd()',
  text = "The vector instructions the CPU kernels use: 'avx512', 'avx2' or 'portable' " ..
         '(the best the processor has; the environment variable NNSH_SIMD can lower it).',
  returns = 'a string', example = 'nn.config.simd()'})
doc('nn.time', {call = 'nn.time()',
  text = 'Seconds on a monotonic wall clock, for timing code (os.clock adds up the CPU ' ..
         'time of every thread).',
  returns = 'a number', example = 'local start = nn.time(); local elapsed = nn.time() - start'})
doc('nn.test.is_gpu_available', {call = 'nn.test.is_gpu_available()',
  text = 'Whether a GPU can be used; when not, the second result says why (a CPU-only ' ..
         "build, or CUDA's own message such as 'no CUDA-capable device is detected').",
  returns = 'true, or false and the reason', example = 'nn.test.is_gpu_available()'})
doc('nn.test.is_built_with_cuda', {call = 'nn.test.is_built_with_cuda()',
  text = 'Whether this nnsh has the CUDA backend (CMake found the CUDA toolkit and cuDNN).',
  returns = 'a boolean', example = 'nn.test.is_built_with_cuda()'})

-- data sets
doc('nn.datasets.mnist.load_data', {call = 'nn.datasets.mnist.load_data()',
  text = 'The MNIST digits: 60,000 training and 10,000 test images of 28x28 (uint8) and ' ..
         'their labels 0-9. scripts/fetch_mnist.sh puts the files in the data directory.',
  returns = 'x_train, y_train, x_test, y_test', touches_files = true,
  example = 'x_train, y_train, x_test, y_test = nn.datasets.mnist.load_data()\n' ..
            "x_train = x_train:reshape(-1, 28, 28, 1):astype('float32') / 255"})
doc('nn.datasets.fashion_mnist.load_data', {call = 'nn.datasets.fashion_mnist.load_data()',
  text = "Fashion-MNIST: like MNIST, ten kinds of clothing (Debian's dataset-fashion-mnist).",
  returns = 'x_train, y_train, x_test, y_test', touches_files = true,
  example = 'x_train, y_train, x_test, y_test = nn.datasets.fashion_mnist.load_data()'})
doc('nn.datasets.mnist.search_path', {call = 'nn.datasets.mnist.search_path()',
  text = 'The directories searched for the MNIST files, in order.', example = 'nn.datasets.mnist.search_path()'})
doc('nn.datasets.fashion_mnist.search_path', {call = 'nn.datasets.fashion_mnist.search_path()',
  text = 'The directories searched for the Fashion-MNIST files, in order.',
  example = 'nn.datasets.fashion_mnist.search_path()'})
doc('nn.datasets.load_idx', {call = 'nn.datasets.load_idx(path)',
  text = 'Reads one IDX file (raw or gzip) into a tensor of its type and shape.',
  params = {{'path', 'the file'}}, touches_files = true,
  example = "images = nn.datasets.load_idx('train-images-idx3-ubyte.gz')"})
doc('nn.datasets.save_idx', {call = 'nn.datasets.save_idx(tensor, path)',
  text = 'Writes a uint8, int32 or float32 tensor as an IDX file (gzip when path ends in .gz).',
  params = {{'tensor', 'what to write'}, {'path', 'the file'}}, touches_files = true,
  example = "nn.datasets.save_idx(nn.zeros({2, 2}, 'uint8'), '/tmp/zeros.idx')"})

-- tensor methods
local T = 'nn.Tensor:'
local axis = {'axis', 'the axis to reduce (0 = first, -1 = last), or for sum, mean, max and min a list of them ({0, 1}); nil reduces everything to a number', default = 'nil'}
doc('nn.Tensor', {class = 'nn.Tensor', call = 'nn.Tensor',
  text = 'An n-dimensional array (float32, int32, int64 or uint8), on the CPU or a GPU. ' ..
         'Operators: + - * / ^, % and // (rounded down, as NumPy) and unary minus ' ..
         'with numbers or tensors (broadcasting as NumPy); a == b compares whole tensors; ' ..
         '#t is the number of rows; t[i] is row i (1-based, negative from the end); ' ..
         't[i] = v sets an element of a 1-D tensor, or row i of a larger one (v a number for ' ..
         "every element, or a tensor or table of the row's shape).",
  fields = {{'shape', 'its sizes, an nn.Shape: (2, 3)'},
            {'dtype', "its element type: 'float32', 'int32', 'int64' or 'uint8'"},
            {'device', "where it lives: 'cpu' or 'gpu:N'"},
            {'ndim', 'its number of axes'},
            {'size', 'its number of elements'},
            {'T', 'the transpose (the axes reversed), as t:transpose()'},
            {'name', "a weight's name, 'kernel' (only on weights: layer.weights, model.weights, layer.kernel)"},
            {'path', "a weight's layer and name, 'dense/kernel' (only on weights)"},
            {'trainable', 'whether a weight trains (only on weights)'}},
  example = 'x = nn.arange(6):reshape(2, 3)\nx.shape, x.dtype, #x\nx[2]\nx * 2 + 1'})
doc(T .. 'reshape', {call = 't:reshape(d1, d2, ...)', text = 'The same elements in a new shape; ' ..
    'one size may be -1 (worked out from the others). Shares the storage.',
  params = {shape_param}, example = 'nn.arange(6):reshape(-1, 2).shape   --> (3, 2)'})
doc(T .. 'flatten', {call = 't:flatten()', text = 'A 1-D view of all elements.',
  example = 'nn.zeros(2, 3):flatten().shape   --> (6,)'})
doc(T .. 'astype', {call = 't:astype(dtype)', text = 'A copy converted to another element type. ' ..
  "To an integer type, fractions are cut toward zero and values beyond the type's range " ..
  'are clamped to it (NaN becomes 0).',
  params = {{'dtype', "'float32', 'int32', 'int64' or 'uint8'"}},
  example = "nn.arange(3):astype('int32')"})
doc(T .. 'clone', {call = 't:clone()', text = 'A copy with its own storage.', example = 'y = nn.ones(2):clone()'})
doc(T .. 'slice', {call = 't:slice(first [, last])',
  text = 'Rows first..last of the first axis (1-based, inclusive; negative counts from ' ..
         'the end). Shares the storage.',
  params = {{'first', 'the first row'}, {'last', 'the last row', default = '-1 (the end)'}},
  example = 'nn.arange(10):slice(2, 4)\nnn.arange(10):slice(-3)'})
doc(T .. 'take', {call = 't:take(positions)', text = 'A new tensor of the rows at the given positions.',
  params = {{'positions', '1-based row positions, a table or a 1-D tensor'}},
  example = 'nn.arange(10):take{1, 3, 5}'})
for _, reduction in ipairs{{'sum', 'The sum'}, {'mean', 'The mean'}, {'max', 'The largest value'},
                           {'min', 'The smallest value'}, {'std', 'The standard deviation'}} do
  doc(T .. reduction[1], {call = 't:' .. reduction[1] .. '([axis])',
    text = reduction[2] .. ' of all elements (a number), or along one axis (a tensor)' ..
      (reduction[1] ~= 'std' and ', or several ({0, 1}).' or '.'),
    params = {axis}, example = 'x = nn.arange(6):reshape(2, 3)\nx:' .. reduction[1] ..
      '()\nx:' .. reduction[1] .. '(0)'})
end
for _, name in ipairs{'argmax', 'argmin'} do
  doc(T .. name, {call = 't:' .. name .. '([axis])',
    text = 'The 0-based index of the ' .. (name == 'argmax' and 'largest' or 'smallest') ..
           ' value along an axis (int64): for predictions, the class of each row, to ' ..
           'compare with the labels.',
    params = {{'axis', 'the axis', default = '-1'}},
    example = 'nn.tensor{{0.1, 0.7, 0.2}, {0.9, 0.05, 0.05}}:' .. name .. '()'})
end
for _, name in ipairs{'exp', 'log', 'sqrt', 'abs'} do
  doc(T .. name, {call = 't:' .. name .. '()', text = 'The ' .. name .. ' of each element.',
    example = 'nn.tensor{1, 4, 9}:' .. name .. '()'})
end
for _, math in ipairs{{'square', 'The square'}, {'tanh', 'The hyperbolic tangent'},
                      {'sigmoid', 'The logistic sigmoid, 1 / (1 + exp(-x)),'},
                      {'relu', 'max(x, 0)'}, {'sin', 'The sine'}, {'cos', 'The cosine'},
                      {'floor', 'The largest whole number not above'},
                      {'ceil', 'The smallest whole number not below'},
                      {'round', 'The nearest whole number (halves to the even one, as NumPy)'}} do
  doc(T .. math[1], {call = 't:' .. math[1] .. '()', text = math[2] .. ' of each element, in float32.',
    example = 'nn.tensor{-1.5, 0, 2.5}:' .. math[1] .. '()'})
end
doc(T .. 'softmax', {call = 't:softmax([axis])',
  text = 'exp(x) / sum(exp(x)) along an axis: each row of the result is positive and sums ' ..
         "to 1, what Dense{..., activation='softmax'} gives.",
  params = {{'axis', 'the axis', default = '-1'}},
  example = 'nn.tensor{{1, 2, 3}}:softmax()\nnn.tensor{{1, 2, 3}}:softmax():sum()   --> 1'})
doc(T .. 'clip', {call = 't:clip(low, high)',
  text = 'Every element held within [low, high] (NaN stays NaN); nil leaves a side open.',
  params = {{'low', 'the lower bound, or nil'}, {'high', 'the upper bound, or nil'}},
  example = 'nn.tensor{-2, 0.5, 3}:clip(0, 1)\nnn.tensor{-2, 0.5, 3}:clip(nil, 1)'})
doc(T .. 'matmul', {call = 't:matmul(other)', text = 'The matrix product t @ other: see nn.matmul.',
  params = {{'other', 'a tensor or a table of numbers'}},
  example = 'nn.arange(6):reshape(2, 3):matmul(nn.ones(3, 1))'})
doc(T .. 'transpose', {call = 't:transpose([axes...])',
  text = 'A copy with the axes in a new order: result axis i is axis axes[i] of t ' ..
         '(0-based, as NumPy). Without axes the order is reversed; t.T is the same.',
  params = {{'axes', 'every axis once, as integers or one table', default = 'reversed'}},
  example = 'x = nn.zeros(2, 3, 4)\nx:transpose().shape          --> (4, 3, 2)\n' ..
            'x:transpose(0, 2, 1).shape   --> (2, 4, 3)\nnn.arange(6):reshape(2, 3).T'})
doc(T .. 'expand_dims', {call = 't:expand_dims(axis)',
  text = 'A view with a new axis of size 1 at axis (0 = before the first, -1 = after the ' ..
         'last): one image (28, 28, 1) becomes a batch of one (1, 28, 28, 1).',
  params = {{'axis', 'where the new axis goes'}},
  example = 'nn.zeros(28, 28, 1):expand_dims(0).shape   --> (1, 28, 28, 1)'})
doc(T .. 'squeeze', {call = 't:squeeze([axis])',
  text = 'A view without the axes of size 1 (or only the one at axis, which must have size 1).',
  params = {{'axis', 'the axis to remove', default = 'every axis of size 1'}},
  example = 'nn.zeros(1, 28, 28, 1):squeeze().shape    --> (28, 28)\n' ..
            'nn.zeros(1, 28, 28, 1):squeeze(0).shape   --> (28, 28, 1)'})
for _, comparison in ipairs{{'eq', '=='}, {'ne', '~='}, {'lt', '<'}, {'le', '<='}, {'gt', '>'},
                            {'ge', '>='}} do
  doc(T .. comparison[1], {call = 't:' .. comparison[1] .. '(other)',
    text = 'Element by element, t ' .. comparison[2] .. ' other: a uint8 tensor of 0 and 1.',
    params = {{'other', 'a number or a tensor that broadcasts'}},
    example = 'x = nn.tensor{1, 2, 3}\nx:' .. comparison[1] .. '(2)\nx:' .. comparison[1] .. '(2):sum()'})
end
doc(T .. 'maximum', {call = 't:maximum(other)', text = 'The larger of t and other, element by element.',
  params = {{'other', 'a number or a tensor that broadcasts'}}, example = 'nn.tensor{-1, 2}:maximum(0)'})
doc(T .. 'minimum', {call = 't:minimum(other)', text = 'The smaller of t and other, element by element.',
  params = {{'other', 'a number or a tensor that broadcasts'}}, example = 'nn.tensor{-1, 2}:minimum(0)'})
doc(T .. 'tolist', {call = 't:tolist()', text = 'The elements as (nested) Lua tables.',
  example = 'nn.arange(4):reshape(2, 2):tolist()'})
doc(T .. 'item', {call = 't:item()', text = 'The number in a tensor of one element.',
  example = 'nn.tensor{{7}}:item()'})
doc(T .. 'fill', {call = 't:fill(value)', text = 'Sets every element to value, in place; returns t.',
  params = {{'value', 'a number'}}, example = 'nn.zeros(3):fill(2)'})
doc(T .. 'to', {call = 't:to(device)',
  text = "The tensor on another device: a copy on 'gpu' (or 'gpu:N', 'cpu'), or t itself " ..
         'when it is there already. t.device says where a tensor lives. Tensors on a GPU ' ..
         'print, convert and do arithmetic through host copies (slowly); models train on ' ..
         'their own device whatever device the data is on.',
  params = {{'device', "'cpu', 'gpu', 'gpu:N'"}}, returns = 'a tensor',
  example = "nn.ones(2, 2):to('cpu').device"})

-- layers
doc('nn.Layer', {class = 'nn.Layer', call = 'nn.Layer',
  text = 'A layer from nn.layers. Call it on a tensor: layer(x) or layer(x, {training=true}) ' ..
         '(Dropout and BatchNormalization act differently in training). The first call ' ..
         'builds it; later calls may give any shape its weights take (pooling on another ' ..
         'image size, Dense on more leading axes, an LSTM on more steps), and a shape ' ..
         'they cannot take is an error naming the axis. Inside a model a layer keeps ' ..
         'the shape it was built for. Besides the ' ..
         'fields below, a layer shows its weights by name (layer.kernel, layer.bias, ...) ' ..
         'and its arguments (layer.units, layer.activation, ...). layer.trainable = false ' ..
         '(or the argument trainable=false) freezes it: fit leaves its weights alone, and ' ..
         'a frozen BatchNormalization normalises with its moving statistics.',
  fields = {{'name', 'its name, unique within a model (conv2d, conv2d_1, ...)'},
            {'class_name', "its class, as Keras names it: 'Conv2D'"},
            {'built', 'whether its weights exist (it has seen an input shape)'},
            {'trainable', 'whether fit updates its weights; set it to freeze or thaw the layer'},
            {'input_shape', 'the shape it was built for (its first call\'s, as Keras ' ..
                            'keeps it), batch axis None: (None, 28, 28, 1)'},
            {'output_shape', 'the shape it gives for input_shape: (None, 26, 26, 32)'},
            {'explanation', 'how output_shape was worked out from input_shape'},
            {'weights', 'its weight tensors, in order'},
            {'trainable_weights', 'those fit updates'},
            {'non_trainable_weights', 'the others (moving statistics, frozen weights)'},
            {'kernel', 'the main weight of Dense, the convolutions and the recurrent layers ' ..
                       '(asking before it is built is an error); each weight is a field by its name'},
            {'bias', 'the bias (nil with use_bias=false, as Keras\' None)'}},
  example = "d = nn.layers.Dense{10, activation = 'relu'}\nd(nn.random.randn(3, 5)).shape\nd.kernel.shape, d.bias.shape\nd.trainable = false"})
local L = 'nn.Layer:'
doc(L .. 'count_params', {call = 'layer:count_params()', text = 'The number of weights (once built).',
  example = 'd = nn.layers.Dense{4}\nd:build(-1, 3)\nd:count_params()   --> 16'})
doc(L .. 'get_config', {call = 'layer:get_config()', text = 'The arguments of the layer as a table.',
  example = 'nn.layers.Dense{4}:get_config().units'})
doc(L .. 'get_weights', {call = 'layer:get_weights()', text = 'Copies of the weight tensors, in order (kernel, bias, ...).',
  example = 'd = nn.layers.Dense{2}:build(-1, 3)\n#d:get_weights()'})
doc(L .. 'set_weights', {call = 'layer:set_weights(weights)',
  text = 'Replaces the weights; every shape must match, or nothing changes.',
  params = {{'weights', 'a list of tensors (or nested tables) like get_weights() returns'}},
  example = 'd = nn.layers.Dense{2}:build(-1, 3)\nd:set_weights{nn.ones(3, 2), nn.zeros(2)}'})
doc(L .. 'adapt', {call = 'layer:adapt(x)',
  text = 'A Normalization learns its mean and variance from the data x (a tensor or nested ' ..
         'tables, all of it at once; any dtype), over every axis but its own, as Keras\'s ' ..
         'adapt: call it on the training data before fit. Builds the layer on x\'s shape; ' ..
         'a built layer takes data whose kept axis matches (images of another size, for a ' ..
         'mean per channel). A Discretization made with num_bins places its bin_boundaries ' ..
         'at the quantiles of x. Returns the layer.',
  params = {{'x', 'the data, batch axis first'}},
  example = 'n = nn.layers.Normalization{}\nn:adapt(nn.tensor{{0, 7}, {2, 9}})\nn.mean, n.variance'})
doc(L .. 'build', {call = 'layer:build(batch, d1, d2, ...)',
  text = 'Builds the layer for inputs of this shape, as Keras\'s build((None, ...)): ' ..
         'output shape and fresh weights. Returns the layer.',
  params = {{'batch, d1, d2, ...', 'the input shape with its batch axis first, or one table; ' ..
                                   'nn.None (or -1) where a size is unknown, as the batch'}},
  example = 'nn.layers.Dense{4}:build(nn.None, 3)'})

-- models
doc('nn.Input', {call = 'nn.Input{shape, name=nil, dtype=nil}',
  text = 'The shape of a model\'s input, without the batch axis, given as the first entry of ' ..
         'nn.Sequential (as keras.Input): the model is built from it, so every layer\'s ' ..
         'shape is known at once. Instead of input_shape on the first layer. Also ' ..
         'nn.layers.Input and nn.layers.InputLayer (which takes input_shape= as well). ' ..
         'Fields: shape, name, dtype.',
  params = {{'shape', 'one sample\'s sizes, such as {28, 28, 1}; may be given first'},
            {'name', 'a name for it', default = "'input_layer'", option = true},
            {'dtype', "only 'float32'", default = "'float32'", option = true}},
  example = "model = nn.Sequential{nn.Input{shape = {28, 28, 1}},\n  nn.layers.Conv2D{8, 3}, nn.layers.Flatten(), nn.layers.Dense{10}}\nmodel.output_shape"})
local S = 'nn.Sequential:'
doc('nn.Sequential', {class = 'nn.Sequential', call = 'nn.Sequential{layer, layer, ..., name=nil}',
  text = 'A model that runs its layers one after another. Its shapes are known as soon ' ..
         'as the first layer has an input_shape (or after model:build). model(x) runs it ' ..
         'on a tensor; model.layers lists the layers. nn.Sequential({layers}, name) gives ' ..
         'the name by position, as Keras.',
  fields = {{'name', "its name ('sequential' unless given)"},
            {'layers', 'its layers, in order'},
            {'built', 'whether its shapes and weights exist'},
            {'compiled', 'whether model:compile has been called'},
            {'input_shape', 'the shape it takes, batch axis None: (None, 28, 28, 1)'},
            {'output_shape', 'the shape it gives: (None, 10)'},
            {'loss', 'the loss compile was given, by name'},
            {'metrics_names', "the names its logs use: {'loss', 'accuracy'}"},
            {'optimizer', "the optimizer, live as Keras' model.optimizer: every setting " ..
                          '(learning_rate a number or the schedule) and iterations, the ' ..
                          'updates taken so far; model.optimizer.learning_rate = r sets the ' ..
                          "rate; :get_config() gives a plain copy, as Keras' get_config(); " ..
                          'compile{optimizer = other.optimizer} builds the same optimizer afresh'},
            {'learning_rate', 'the learning rate of the next update; model.learning_rate = r ' ..
                              'sets it (as a callback might between epochs)'},
            {'history', 'the History of the last fit'},
            {'stop_training', 'set to true in a callback to end fit after this batch; it reads ' ..
                              'true after that, until the next fit'},
            {'device', "where its weights live: 'cpu' or 'gpu:N'"},
            {'weights', 'every weight tensor, layer by layer (views: changing them changes ' ..
                        'the model)'},
            {'trainable_weights', 'those fit updates'},
            {'non_trainable_weights', 'the others (moving statistics, frozen layers)'},
            {'trainable', 'true while any layer trains; model.trainable = false freezes every ' ..
                          'layer, true thaws them all'}},
  params = {{'layer', 'layers from nn.layers, in order; a model among them brings its ' ..
                      'layers, shared, so training either model trains both (Keras\' ' ..
                      'Sequential([model, Softmax()]))'},
            {'name', "the model's name", default = "'sequential'", option = true}},
  example = "L = nn.layers\nmodel = nn.Sequential{\n  L.Dense{16, activation = 'relu', input_shape = {4}},\n  L.Dense{3, activation = 'softmax'},\n}\nmodel"})
doc(S .. 'add', {call = 'model:add(layer)', text = 'Appends a layer; shapes are checked at once. Returns the model.',
  params = {{'layer', 'a layer from nn.layers'}},
  example = "model = nn.Sequential{nn.layers.Dense{8, input_shape = {4}}}\nmodel:add(nn.layers.Dense{2})"})
doc(S .. 'pop', {call = 'model:pop()',
  text = 'Removes the last layer and returns it, to put a new head on a trained model: ' ..
         'the layers before it keep their weights (the optimizer starts afresh). Its name ' ..
         'is not given to a layer added later.',
  example = "model = nn.Sequential{nn.layers.Dense{8, input_shape = {4}}, nn.layers.Dense{2}}\n" ..
            "model:pop()\nmodel"})
doc(S .. 'build', {call = 'model:build(batch, d1, d2, ...)',
  text = "Builds every layer for inputs of this shape, batch axis first (nn.None or -1: " ..
         "any batch, as Keras' build((None, 3))), for a model whose first layer has no " ..
         'input_shape. Returns the model.',
  params = {{'batch, d1, d2, ...', 'the input shape with its batch axis first, or one table; ' ..
                                   'only the batch axis may be nn.None'}},
  example = 'model = nn.Sequential{nn.layers.Dense{2}}\nmodel:build{nn.None, 3}'})
doc(S .. 'summary', {call = 'model:summary([{explain=false, show_trainable=false, layer_range=nil, print_fn=nil}])',
  text = "The Keras table of layers, output shapes and parameter counts. On a terminal it is " ..
         "drawn as a box fitted to the terminal's width; pipes, files, notebooks and print_fn " ..
         "get Keras' exact 65-column text. With explain=true each layer also shows the " ..
         'formula and numbers behind its output shape and its parameter count.',
  params = {{'explain', 'add how each shape and count comes about', default = 'false', option = true},
            {'show_trainable', "add Keras' Trainable column: Y, or N for a frozen layer " ..
                               "(layer.trainable = false); the box shows - for a layer without " ..
                               'weights, as Keras 3', default = 'false', option = true},
            {'layer_range', "{'first', 'last'}: show only the rows from the first layer whose name " ..
                            "begins with 'first' to the last whose name begins with 'last', both " ..
                            "included (Keras matches names at their start, so 'dense' also matches " ..
                            "dense_1; end a name with $ to match it whole: 'dense$'); the totals " ..
                            'stay those of the whole model, as in Keras', default = 'nil', option = true},
            {'print_fn', 'a function that receives each line instead of printing it', default = 'nil', option = true},
            {'line_length', "the width of Keras' text table (the Trainable column adds 11); " ..
                            "chooses layout='keras'", default = '65', option = true},
            {'positions', "{a, b, c}: where Keras' three columns end, as fractions of line_length " ..
                          "(last at most 1) or in characters; chooses layout='keras'",
             default = '{0.45, 0.85, 1}', option = true},
            {'layout', "'keras' for Keras' text table, 'box' for the terminal's box",
             default = 'the terminal decides', option = true},
            {'expand_nested', "accepted, changes nothing: a Sequential given among a model's " ..
                              'layers is already shown layer by layer', default = 'false', option = true}},
  example = "model = nn.Sequential{nn.layers.Dense{4, input_shape = {3}}, nn.layers.Dense{2}}\n" ..
            "model:summary{explain = true}\n" ..
            "model.layers[1].trainable = false\n" ..
            "model:summary{show_trainable = true, layer_range = {'dense', 'dense_1'}}"})
doc(S .. 'compile', {call = 'model:compile{optimizer=\'rmsprop\', loss=..., metrics={}, weighted_metrics={}}',
  text = 'Chooses how the model learns. Returns nothing, as Keras\' compile.',
  params = {{'optimizer', "a name ('sgd', 'adam', 'adamw', 'rmsprop', 'adagrad', 'nadam', 'adamax', 'adadelta', 'lion', 'ftrl'), one from nn.optimizers, or another model's model.optimizer (its iterations ignored: the optimizer starts afresh)", default = "'rmsprop'", option = true},
            {'loss', "a name ('sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', 'mse', 'mae', 'huber', 'log_cosh', 'kl_divergence', 'poisson', 'hinge', 'squared_hinge', 'categorical_hinge', 'cosine_similarity', 'mape', 'msle') or one from nn.losses", option = true},
            {'metrics', "names such as {'accuracy'}: also 'categorical_accuracy', 'sparse_categorical_accuracy', 'binary_accuracy', 'top_k_categorical_accuracy', 'sparse_top_k_categorical_accuracy' (k = 5), 'mse', 'root_mean_squared_error', 'mae', 'mape', 'msle', 'logcosh', 'kl_divergence', 'poisson', 'cosine_similarity', 'hinge', 'squared_hinge', 'categorical_hinge', 'precision', 'recall' (threshold 0.5, counted over the epoch), 'auc' (ROC, 200 thresholds); a class of nn.metrics by name, as Keras takes it, is that class at its defaults, logged under its default name ('AUC' as auc, 'Precision' as precision); or objects from nn.metrics: nn.metrics.TopKCategoricalAccuracy{k = 3, name = 'top3'}, nn.metrics.Precision{thresholds = 0.3}", default = '{}', option = true},
            {'weighted_metrics', "metrics as for metrics (the same names and nn.metrics objects), weighed by the sample weights of fit, evaluate, train_on_batch and test_on_batch (sample_weight, or class_weight's weight for each sample's class) and by validation_data's weights for the val_ values: sum(weight * value) / sum(weight); precision and recall count weighted positives, auc weighted buckets. Without sample weights they equal the unweighted metric. One also in metrics is logged as weighted_<name> (weighted_accuracy), as Keras 3. Under a mask reaching the output (Embedding mask_zero, Masking) a mean metric's weight is sample weight * mask when sample weights are given, while without them, as the unweighted metrics, it counts every position; precision, recall and auc take the sample weights alone (Keras 3)", default = '{}', option = true}},
  example = "model = nn.Sequential{nn.layers.Dense{3, activation = 'softmax', input_shape = {4}}}\nmodel:compile{optimizer = 'adam', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}\nmodel:compile{loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}, weighted_metrics = {'accuracy'}}   -- logs accuracy and weighted_accuracy"})
doc(S .. 'fit', {call = 'model:fit(x, y [, {epochs=1, batch_size=32, ...}])',
  text = 'Trains the model; returns its History. Ctrl-C stops after the current batch and ' ..
         'keeps the weights and the history so far.',
  params = {{'x', 'the inputs, first axis = samples'}, {'y', 'the labels or targets'},
            {'epochs', 'passes over the data', default = '1', option = true},
            {'batch_size', 'samples per step', default = '32', option = true},
            {'validation_split', 'the fraction of the data, taken from the end before shuffling, kept for validation', default = '0', option = true},
            {'validation_data', 'a pair {x_val, y_val} to validate on instead, or {x_val, y_val, sample_weight_val}', default = 'nil', option = true},
            {'shuffle', 'shuffle the training samples every epoch', default = 'true', option = true},
            {'verbose', '0 silent, 1 a progress bar, 2 one line per epoch', default = '1', option = true},
            {'callbacks', 'a list of callbacks (tables of functions such as on_epoch_end), or one callback', default = '{}', option = true},
            {'initial_epoch', 'the epoch to start counting from (to resume)', default = '0', option = true},
            {'steps_per_epoch', 'stop each epoch after this many steps (at most the batches the data makes)', default = 'nil', option = true},
            {'validation_freq', 'validate after every N-th epoch only (N, 2N, ...); the val_ lists of the History then hold one value per validation', default = '1', option = true},
            {'validation_batch_size', 'samples per validation step', default = 'batch_size', option = true},
            {'sample_weight', "one weight per sample (a list or an (N,) tensor): each sample's loss (and weighted_metrics value) counts that many times; for an output such as (N, T, C) also one per position, (N, T), a mask; with validation_split the last ones weigh the validation samples", default = 'nil', option = true},
            {'class_weight', "a weight per class id, {[0]=1, [1]=5}: the samples of a class weigh that much in training (1 for a class left out); not with sample_weight", default = 'nil', option = true}},
  example = "history = model:fit(x_train, y_train, {epochs = 5, batch_size = 64, validation_split = 0.2})\nmodel:fit(x_train, y_train, {class_weight = {[0] = 1, [1] = 10}})   -- class 1 is rare"})
doc(S .. 'evaluate', {call = 'model:evaluate(x, y [, {batch_size=32, verbose=1, return_dict=false, sample_weight=nil}])',
  text = 'The loss and metrics on the given data, in inference mode. With sample_weight ' ..
         "the loss weighs each sample as fit does, and so do compile's weighted_metrics; the " ..
         "metrics count every sample once.",
  returns = 'loss, metric, ... (or a table by name with return_dict=true)',
  params = {{'x', 'the inputs'}, {'y', 'the labels or targets'},
            {'batch_size', 'samples per step', default = '32', option = true},
            {'verbose', '0 silent, 1 progress bar, 2 one line', default = '1', option = true},
            {'return_dict', 'return {loss=..., accuracy=...} instead of values', default = 'false', option = true},
            {'sample_weight', 'one weight per sample for the loss and the weighted_metrics', default = 'nil', option = true}},
  example = 'test_loss, test_acc = model:evaluate(x_test, y_test, {verbose = 0})'})
doc(S .. 'predict', {call = 'model:predict(x [, {batch_size=32, verbose=1}])',
  text = "The model's outputs for x, in inference mode, batch by batch.",
  params = {{'x', 'the inputs'}, {'batch_size', 'samples per step', default = '32', option = true},
            {'verbose', '0 silent, 1 progress bar, 2 one line', default = '1', option = true}},
  example = 'model:predict(x_test:slice(1, 5)):argmax()'})
doc(S .. 'train_on_batch', {call = 'model:train_on_batch(x, y [, {sample_weight=nil, class_weight=nil, return_dict=false}])',
  text = 'One optimizer step with all of x as one batch, for loops of your own. Returns ' ..
         "the batch's loss and metrics from before the step, as fit logs them.",
  returns = 'loss, metric, ... (or a table by name with return_dict=true)',
  params = {{'x', 'the inputs of one batch'}, {'y', 'their labels or targets'},
            {'sample_weight', 'one weight per sample for the loss and the weighted_metrics', default = 'nil', option = true},
            {'class_weight', 'a weight per class id, {[0]=1, [1]=5}', default = 'nil', option = true},
            {'return_dict', 'return {loss=..., accuracy=...} instead of values', default = 'false', option = true}},
  example = 'for step = 1, 3 do print(model:train_on_batch(x_train:slice(1, 16), y_train:slice(1, 16))) end'})
doc(S .. 'test_on_batch', {call = 'model:test_on_batch(x, y [, {sample_weight=nil, return_dict=false}])',
  text = 'The loss and metrics of one batch in inference mode: evaluate with all of x as one batch.',
  returns = 'loss, metric, ... (or a table by name with return_dict=true)',
  params = {{'x', 'the inputs of one batch'}, {'y', 'their labels or targets'},
            {'sample_weight', 'one weight per sample for the loss and the weighted_metrics', default = 'nil', option = true},
            {'return_dict', 'return {loss=..., accuracy=...} instead of values', default = 'false', option = true}},
  example = 'model:test_on_batch(x_test, y_test)'})
doc(S .. 'predict_on_batch', {call = 'model:predict_on_batch(x)',
  text = "The model's outputs for x as one batch, in inference mode, without a progress bar.",
  params = {{'x', 'the inputs of one batch'}},
  example = 'model:predict_on_batch(x_test:slice(1, 5)):argmax()'})
doc(S .. 'count_params', {call = 'model:count_params()', text = 'The number of weights of all layers.',
  example = 'nn.Sequential{nn.layers.Dense{4, input_shape = {3}}}:count_params()   --> 16'})
doc(S .. 'to', {call = 'model:to(device)',
  text = 'Moves the weights, gradients and optimizer state to a device; later fit, ' ..
         'evaluate and predict run there. A model starts on the default device ' ..
         '(nn.config.set_device, NNSH_DEVICE, else a GPU when there is one): model.device ' ..
         'says which.',
  params = {{'device', "'cpu', 'gpu', 'gpu:N'"}}, returns = 'the model',
  example = "nn.Sequential{nn.layers.Dense{4, input_shape = {3}}}:to('cpu').device"})
doc(S .. 'get_layer', {call = 'model:get_layer(name_or_position)', text = 'One layer, by name or by 1-based position.',
  params = {{'name_or_position', "'dense_1' or 3"}},
  example = "nn.Sequential{nn.layers.Dense{4, input_shape = {3}}}:get_layer(1)"})
doc(S .. 'trace', {call = 'model:trace(x)',
  text = 'Runs one batch through each layer in turn and prints what comes out of each: ' ..
         'its shape and the mean, standard deviation, minimum, maximum and fraction of ' ..
         'zeros. Shows where activations die (all zeros after a relu) or blow up.',
  params = {{'x', 'a batch of inputs (only the first 32 samples are used)'},
            {'training', 'run Dropout and BatchNormalization as in training', default = 'false', option = true}},
  example = "model = nn.Sequential{nn.layers.Dense{8, activation = 'relu', input_shape = {4}}, nn.layers.Dense{2}}\nmodel:trace(nn.random.randn(16, 4))"})
doc('nn.History', {class = 'nn.History', call = 'nn.History',
  text = 'What model:fit returns.',
  fields = {{'history', 'loss, each metric and val_* mapped to their value per epoch'},
            {'epoch', 'the epochs, counted from 0 as Keras does'},
            {'params', 'the settings fit ran with (verbose, epochs, steps)'}},
  example = 'history.history.loss\nhistory.history.val_accuracy[#history.epoch]'})
doc('nn.Shape', {class = 'nn.Shape', call = 'nn.Shape',
  text = 'A shape: a list of sizes that prints as Keras does, (None, 28, 28, 32); None ' ..
         '(nn.None) is the batch axis of a layer\'s shapes. shape[1] is the first size, ' ..
         'shape[-1] the last (model.layers and model.weights count the same way).',
  example = 'nn.zeros(2, 3).shape\nnn.zeros(2, 3).shape[2]   --> 3'})

-- optimizers, losses, initializers, regularizers, constraints
local lr = function(default) return {'learning_rate', 'the step size: a number, or a schedule from nn.optimizers.schedules', default = default, option = true} end
local eps = {'epsilon', 'a small constant for numerical stability', default = '1e-07', option = true}
local clip = {{'clipnorm', "clip each weight tensor's gradient to this norm", default = 'nil', option = true},
              {'clipvalue', 'clip each gradient element to [-v, v]', default = 'nil', option = true},
              {'global_clipnorm', 'clip all the gradients together to this norm', default = 'nil', option = true}}
local decay = {{'weight_decay', 'shrink every weight by learning_rate * weight_decay each step', default = '0', option = true},
               {'exclude_from_weight_decay', "weights not to decay: a list of names or parts of names, such as {'bias'} ('kernel', 'bias', 'gamma', 'beta')", default = 'nil', option = true}}
local function with_clip(params)
  for _, p in ipairs(clip) do params[#params + 1] = p end
  for _, p in ipairs(decay) do
    local present = false
    for _, q in ipairs(params) do present = present or q[1] == p[1] end
    if not present then params[#params + 1] = p end
  end
  return params
end
doc('nn.optimizers.SGD', {call = 'nn.optimizers.SGD{learning_rate=0.01, momentum=0, nesterov=false}',
  text = 'Stochastic gradient descent, with optional (Nesterov) momentum.',
  params = with_clip{lr('0.01'), {'momentum', 'how much of the last step carries on', default = '0', option = true},
                     {'nesterov', 'use Nesterov momentum', default = 'false', option = true}},
  example = "model:compile{optimizer = nn.optimizers.SGD{learning_rate = 0.1, momentum = 0.9}, loss = 'mse'}"})
doc('nn.optimizers.Adam', {call = 'nn.optimizers.Adam{learning_rate=0.001, beta_1=0.9, beta_2=0.999, ...}',
  text = 'Adam: steps scaled by running averages of the gradient and its square.',
  params = with_clip{lr('0.001'), {'beta_1', 'decay of the gradient average', default = '0.9', option = true},
                     {'beta_2', 'decay of the squared-gradient average', default = '0.999', option = true},
                     eps, {'amsgrad', 'use the AMSGrad variant', default = 'false', option = true}},
  example = "model:compile{optimizer = nn.optimizers.Adam{learning_rate = 1e-3}, loss = 'mse'}"})
doc('nn.optimizers.AdamW', {call = 'nn.optimizers.AdamW{learning_rate=0.001, weight_decay=0.004, ...}',
  text = 'Adam with decoupled weight decay.',
  params = with_clip{lr('0.001'), {'weight_decay', 'the decay applied to the weights each step', default = '0.004', option = true},
                     {'beta_1', 'decay of the gradient average', default = '0.9', option = true},
                     {'beta_2', 'decay of the squared-gradient average', default = '0.999', option = true},
                     eps, {'amsgrad', 'use the AMSGrad variant', default = 'false', option = true}},
  example = "model:compile{optimizer = nn.optimizers.AdamW{weight_decay = 0.01}, loss = 'mse'}"})
doc('nn.optimizers.RMSprop', {call = 'nn.optimizers.RMSprop{learning_rate=0.001, rho=0.9, ...}',
  text = 'RMSprop: steps scaled by a running average of the squared gradient.',
  params = with_clip{lr('0.001'), {'rho', 'decay of the squared-gradient average', default = '0.9', option = true},
                     {'momentum', 'momentum', default = '0', option = true}, eps,
                     {'centered', 'normalise by the variance rather than the second moment', default = 'false', option = true}},
  example = "model:compile{optimizer = nn.optimizers.RMSprop{}, loss = 'mse'}"})
doc('nn.optimizers.Adagrad', {call = 'nn.optimizers.Adagrad{learning_rate=0.001, initial_accumulator_value=0.1, ...}',
  text = 'Adagrad: steps scaled by the sum of all squared gradients so far.',
  params = with_clip{lr('0.001'), {'initial_accumulator_value', 'where the sums start', default = '0.1', option = true}, eps},
  example = "model:compile{optimizer = nn.optimizers.Adagrad{}, loss = 'mse'}"})
doc('nn.optimizers.Nadam', {call = 'nn.optimizers.Nadam{learning_rate=0.001, beta_1=0.9, beta_2=0.999, ...}',
  text = 'Nadam: Adam with Nesterov momentum; the momentum weight grows over the first few hundred steps (Dozat\'s schedule, as Keras).',
  params = with_clip{lr('0.001'), {'beta_1', 'decay of the gradient average', default = '0.9', option = true},
                     {'beta_2', 'decay of the squared-gradient average', default = '0.999', option = true}, eps},
  example = "model:compile{optimizer = nn.optimizers.Nadam{learning_rate = 2e-3}, loss = 'mse'}"})
doc('nn.optimizers.Adamax', {call = 'nn.optimizers.Adamax{learning_rate=0.001, beta_1=0.9, beta_2=0.999, ...}',
  text = 'Adamax: Adam with the largest recent gradient size (a decaying maximum) in place of the squared-gradient average.',
  params = with_clip{lr('0.001'), {'beta_1', 'decay of the gradient average', default = '0.9', option = true},
                     {'beta_2', 'decay of the gradient-size maximum', default = '0.999', option = true}, eps},
  example = "model:compile{optimizer = nn.optimizers.Adamax{}, loss = 'mse'}"})
doc('nn.optimizers.Adadelta', {call = 'nn.optimizers.Adadelta{learning_rate=0.001, rho=0.95, epsilon=1e-07, ...}',
  text = 'Adadelta: steps scaled by the ratio of running averages of past steps and of squared gradients; learning_rate = 1 is the paper\'s form.',
  params = with_clip{lr('0.001'), {'rho', 'decay of both running averages', default = '0.95', option = true}, eps},
  example = "model:compile{optimizer = nn.optimizers.Adadelta{learning_rate = 1}, loss = 'mse'}"})
doc('nn.optimizers.Lion', {call = 'nn.optimizers.Lion{learning_rate=0.001, beta_1=0.9, beta_2=0.99, ...}',
  text = 'Lion: every weight moves by learning_rate along the sign of a mix of its momentum and gradient; use a rate 3-10 times smaller than Adam\'s.',
  params = with_clip{lr('0.001'), {'beta_1', "the momentum's share of the step direction, in (0, 1]", default = '0.9', option = true},
                     {'beta_2', 'decay of the momentum', default = '0.99', option = true}},
  example = "model:compile{optimizer = nn.optimizers.Lion{learning_rate = 1e-4}, loss = 'mse'}"})
doc('nn.optimizers.Ftrl', {call = 'nn.optimizers.Ftrl{learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1, ...}',
  text = 'Ftrl ("follow the regularised leader"): per-weight rates as Adagrad\'s, and an L1 strength that holds weights at exactly 0; for wide, sparse linear models.',
  params = with_clip{lr('0.001'),
                     {'learning_rate_power', 'how the rate falls as squared gradients add up: <= 0, 0 for a fixed rate', default = '-0.5', option = true},
                     {'initial_accumulator_value', 'where the sums of squared gradients start', default = '0.1', option = true},
                     {'l1_regularization_strength', 'L1 strength: a weight stays 0 while its accumulated gradient is below it', default = '0', option = true},
                     {'l2_regularization_strength', 'L2 strength of the leader', default = '0', option = true},
                     {'l2_shrinkage_regularization_strength', 'L2 penalty added to the gradient (2 * strength * w)', default = '0', option = true},
                     {'beta', "the paper's beta", default = '0', option = true}},
  example = "model:compile{optimizer = nn.optimizers.Ftrl{learning_rate = 0.1, l1_regularization_strength = 0.01}, loss = 'mse'}"})
doc('nn.optimizers.schedules', {module = true, text =
  'Learning-rate schedules, as Keras\'s keras.optimizers.schedules: give one as an ' ..
  'optimizer\'s learning_rate and each update takes the rate of the updates before it; ' ..
  'call one with a step for its rate. Positional settings follow Keras\'s order. ' ..
  'Each also takes name= (a label, kept in model.optimizer and the model file).'})
local schedule_settings = {
  initial = {'initial_learning_rate', 'the rate at step 0', option = true},
  steps = {'decay_steps', 'the steps the decay is measured in (> 0)', option = true},
  rate = {'decay_rate', 'the rate\'s factor per decay_steps', option = true},
  staircase = {'staircase', 'decay in whole periods of decay_steps only', default = 'false', option = true},
  alpha = {'alpha', 'the floor, as a fraction of the starting rate (initial_learning_rate, or warmup_target after a warmup), in [0, 1]', default = '0', option = true},
}
doc('nn.optimizers.schedules.ExponentialDecay', {
  call = 'nn.optimizers.schedules.ExponentialDecay{initial_learning_rate, decay_steps, decay_rate, staircase=false}',
  text = 'initial_learning_rate * decay_rate ^ (step / decay_steps).',
  params = {schedule_settings.initial, schedule_settings.steps, schedule_settings.rate,
            schedule_settings.staircase},
  example = "schedule = nn.optimizers.schedules.ExponentialDecay{1e-2, 1000, 0.9}\n" ..
            "print(schedule(2000))   --> 0.0081\n" ..
            "optimizer = nn.optimizers.Adam{learning_rate = schedule}"})
doc('nn.optimizers.schedules.InverseTimeDecay', {
  call = 'nn.optimizers.schedules.InverseTimeDecay{initial_learning_rate, decay_steps, decay_rate, staircase=false}',
  text = 'initial_learning_rate / (1 + decay_rate * step / decay_steps).',
  params = {schedule_settings.initial, schedule_settings.steps,
            {'decay_rate', 'how fast the divisor grows: by decay_rate every decay_steps', option = true},
            schedule_settings.staircase},
  example = "print(nn.optimizers.schedules.InverseTimeDecay{0.1, 100, 1}(100))   --> 0.05"})
doc('nn.optimizers.schedules.PolynomialDecay', {
  call = 'nn.optimizers.schedules.PolynomialDecay{initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1, cycle=false}',
  text = 'From initial_learning_rate to end_learning_rate over decay_steps along ' ..
         '(1 - step / decay_steps) ^ power, then end_learning_rate (or, with cycle, again ' ..
         'over a period stretched to the next multiple of decay_steps).',
  params = {schedule_settings.initial, schedule_settings.steps,
            {'end_learning_rate', 'the rate at the end', default = '0.0001', option = true},
            {'power', 'the polynomial\'s power', default = '1', option = true},
            {'cycle', 'start again after decay_steps', default = 'false', option = true}},
  example = "print(nn.optimizers.schedules.PolynomialDecay{0.1, 100, 0}(50))   --> 0.05"})
doc('nn.optimizers.schedules.PiecewiseConstantDecay', {
  call = 'nn.optimizers.schedules.PiecewiseConstantDecay{boundaries, values}',
  text = 'values[1] up to step boundaries[1], values[2] up to boundaries[2], ..., the last ' ..
         'value after the last boundary.',
  params = {{'boundaries', 'increasing steps', option = true},
            {'values', 'the rates, one more than boundaries', option = true}},
  example = "schedule = nn.optimizers.schedules.PiecewiseConstantDecay{{1000, 2000}, {0.1, 0.01, 0.001}}\n" ..
            "print(schedule(1500))   --> 0.01"})
doc('nn.optimizers.schedules.CosineDecay', {
  call = 'nn.optimizers.schedules.CosineDecay{initial_learning_rate, decay_steps, alpha=0, warmup_target=nil, warmup_steps=0}',
  text = 'Half a cosine from the rate down to alpha times it over decay_steps. With ' ..
         'warmup_target, first a straight line from initial_learning_rate up to ' ..
         'warmup_target over warmup_steps, then the cosine from warmup_target.',
  params = {schedule_settings.initial, schedule_settings.steps, schedule_settings.alpha,
            {'warmup_target', 'the rate the warmup ends at', default = 'nil', option = true},
            {'warmup_steps', 'the warmup\'s length', default = '0', option = true}},
  example = "print(nn.optimizers.schedules.CosineDecay{0.1, 100}(50))   --> 0.05"})
doc('nn.optimizers.schedules.CosineDecayRestarts', {
  call = 'nn.optimizers.schedules.CosineDecayRestarts{initial_learning_rate, first_decay_steps, t_mul=2, m_mul=1, alpha=0}',
  text = 'Cosine decays that start again: the first over first_decay_steps, each next ' ..
         't_mul times longer and starting m_mul times lower.',
  params = {schedule_settings.initial,
            {'first_decay_steps', 'the first period\'s length (> 0)', option = true},
            {'t_mul', 'each period this much longer (at least 1)', default = '2', option = true},
            {'m_mul', 'each restart\'s cosine this much lower (the floor stays)', default = '1', option = true},
            schedule_settings.alpha},
  example = "print(nn.optimizers.schedules.CosineDecayRestarts{0.1, 100}(100))   --> 0.1"})
local from_logits = {{'from_logits', 'the model outputs raw scores, not probabilities', default = 'false', option = true}}
local function smoothing(toward)
  return {from_logits[1], {'label_smoothing', 'in [0, 1]: the loss aims at y*(1 - a) + ' .. toward ..
          ' rather than y; metrics still see y', default = '0', option = true}}
end
-- Each class's Keras name, which names its per-sample function too.
local loss_functions = {
  SparseCategoricalCrossentropy = 'sparse_categorical_crossentropy',
  CategoricalCrossentropy = 'categorical_crossentropy', BinaryCrossentropy = 'binary_crossentropy',
  MeanSquaredError = 'mean_squared_error', MeanAbsoluteError = 'mean_absolute_error',
  Huber = 'huber', LogCosh = 'log_cosh', KLDivergence = 'kl_divergence', Poisson = 'poisson',
  Hinge = 'hinge', SquaredHinge = 'squared_hinge', CategoricalHinge = 'categorical_hinge',
  CosineSimilarity = 'cosine_similarity',
  MeanAbsolutePercentageError = 'mean_absolute_percentage_error',
  MeanSquaredLogarithmicError = 'mean_squared_logarithmic_error',
}
for _, loss in ipairs{
    {'SparseCategoricalCrossentropy', 'Cross-entropy with integer class labels (0, 1, 2, ...) against predicted probabilities.', from_logits},
    {'CategoricalCrossentropy', 'Cross-entropy with one-hot labels against predicted probabilities.', smoothing('a/K (K classes)')},
    {'BinaryCrossentropy', 'Cross-entropy for yes/no labels (0 or 1) against one probability each.', smoothing('0.5*a')},
    {'MeanSquaredError', 'The mean of the squared differences.', {}},
    {'MeanAbsoluteError', 'The mean of the absolute differences.', {}},
    {'Huber', 'Half the squared difference up to delta, then growing linearly: ' ..
              'delta*|e| - delta^2/2 (mean over the last axis).',
     {{'delta', 'where the square turns into a line (> 0)', default = '1', option = true}}, 'delta=1'},
    {'LogCosh', 'The mean of log(cosh(prediction - label)): e^2/2 near zero, |e| - log 2 far away.', {}},
    {'KLDivergence', 'sum(y * log(y / p)) over the last axis, y and p clipped to [1e-7, 1] (alias kld).', {}},
    {'Poisson', 'The mean of p - y*log(p + 1e-7), for counts.', {}},
    {'Hinge', 'The mean of max(1 - y*p, 0); labels -1/1 (0/1 labels are read as -1/1).', {}},
    {'SquaredHinge', 'The mean of max(1 - y*p, 0)^2; labels -1/1 (0/1 labels are read as -1/1).', {}},
    {'CategoricalHinge', 'max(max((1 - y)*p) - sum(y*p) + 1, 0) per row, for one-hot labels.', {}},
    {'CosineSimilarity', 'Minus the cosine of the label and prediction rows (-1 is the best).',
     {{'axis', "the axis of the rows: the last (Keras' default) only", default = '-1', option = true}}, 'axis=-1'},
    {'MeanAbsolutePercentageError', 'The mean of 100*|y - p| / max(|y|, 1e-7) (alias mape).', {}},
    {'MeanSquaredLogarithmicError', 'The mean of (log(max(p, 1e-7) + 1) - log(max(y, 1e-7) + 1))^2 (alias msle).', {}}} do
  local call = loss[4] or #loss[3] == 2 and 'from_logits=false, label_smoothing=0' or
               #loss[3] == 1 and 'from_logits=false' or ''
  local function_name = loss_functions[loss[1]]
  local sparse = function_name == 'sparse_categorical_crossentropy'
  local y_true = sparse and '{1, 2}' or '{{0, 1, 0}, {0, 0, 1}}'
  local y_pred = '{{0.05, 0.95, 0}, {0.1, 0.8, 0.1}}'
  doc('nn.losses.' .. loss[1], {call = 'nn.losses.' .. loss[1] .. '{' .. call .. '}',
    text = loss[2] .. ' Called as loss(y_true, y_pred [, sample_weight]), the mean loss ' ..
           'over the samples, as training computes it; nn.losses.' .. function_name ..
           ' gives each sample\'s.',
    params = loss[3],
    example = 'model:compile{optimizer = \'adam\', loss = nn.losses.' .. loss[1] .. '{}}\n' ..
              'print(nn.losses.' .. loss[1] .. '{}(' .. y_true .. ', ' .. y_pred .. '))'})
  local options = {}
  for _, param in ipairs(loss[3]) do
    if param[1] ~= 'axis' then options[#options + 1] = param[1] .. '=' .. param.default end
  end
  local function_params = {
    {'y_true', sparse and 'one class id per sample' or "the labels, of y_pred's shape"},
    {'y_pred', "the predictions; the last axis holds a sample's outputs"}}
  for _, param in ipairs(loss[3]) do function_params[#function_params + 1] = param end
  doc('nn.losses.' .. function_name, {
    call = 'nn.losses.' .. function_name .. '(y_true, y_pred' ..
           (#options > 0 and ' [, {' .. table.concat(options, ', ') .. '}]' or '') .. ')',
    text = "Each sample's " .. loss[1] .. " loss (Keras' " .. function_name .. '). ' ..
           loss[2] .. ' Their mean is nn.losses.' .. loss[1] .. '{...}(y_true, y_pred).',
    params = function_params,
    returns = "a tensor of y_pred's shape less its last axis",
    example = 'print(nn.losses.' .. function_name .. '(' .. y_true .. ', ' .. y_pred .. '))'})
end
local metric_name = {'name', 'what the logs call it (letters, digits, _)', option = true}
for _, metric in ipairs{
    {'BinaryAccuracy', 'binary_accuracy', 'The share of values on the right side of threshold.',
     {{'threshold', 'a prediction above it counts as 1', default = '0.5', option = true}}},
    {'CategoricalAccuracy', 'categorical_accuracy', 'The share of rows whose largest prediction is the one-hot label.'},
    {'SparseCategoricalAccuracy', 'sparse_categorical_accuracy', 'The share of rows whose largest prediction is the class id.'},
    {'TopKCategoricalAccuracy', 'top_k_categorical_accuracy', 'The share of rows whose one-hot label is among the k largest predictions.',
     {{'k', 'how many of the largest count', default = '5', option = true}}},
    {'SparseTopKCategoricalAccuracy', 'sparse_top_k_categorical_accuracy', 'The share of rows whose class id is among the k largest predictions.',
     {{'k', 'how many of the largest count', default = '5', option = true}}},
    {'MeanSquaredError', 'mean_squared_error', 'The mean of the squared differences.'},
    {'RootMeanSquaredError', 'root_mean_squared_error', 'The root of the mean squared difference over all rows.'},
    {'MeanAbsoluteError', 'mean_absolute_error', 'The mean of the absolute differences.'},
    {'MeanAbsolutePercentageError', 'mean_absolute_percentage_error', 'The mean of 100*|y - p| / max(|y|, 1e-7).'},
    {'MeanSquaredLogarithmicError', 'mean_squared_logarithmic_error', 'The mean squared difference of log(1 + max(., 1e-7)).'},
    {'LogCoshError', 'logcosh', 'The mean of log(cosh(prediction - label)).'},
    {'KLDivergence', 'kl_divergence', 'sum(y * log(y / p)) per row, clipped as the loss.'},
    {'Poisson', 'poisson', 'The mean of p - y*log(p + 1e-7).'},
    {'CosineSimilarity', 'cosine_similarity', 'The cosine of the label and prediction rows (1 is the best).',
     {{'axis', "the axis of the rows: the last (Keras' default) only", default = '-1', option = true}}},
    {'Hinge', 'hinge', 'The mean of max(1 - y*p, 0); 0/1 labels read as -1/1.'},
    {'SquaredHinge', 'squared_hinge', 'The mean of max(1 - y*p, 0)^2; 0/1 labels read as -1/1.'},
    {'CategoricalHinge', 'categorical_hinge', 'max(max((1 - y)*p) - sum(y*p) + 1, 0) per row.'},
    {'Precision', 'precision', 'True positives over predicted positives (above thresholds), counted over the epoch.',
     {{'thresholds', 'a prediction above it is positive', default = '0.5 (-inf with top_k)', option = true},
      {'top_k', "only a row's k largest predictions are positive (ties: the lower index)", default = 'nil', option = true},
      {'class_id', 'count one class (column) only', default = 'nil', option = true}}},
    {'Recall', 'recall', 'True positives over actual positives (labels other than 0), counted over the epoch.',
     {{'thresholds', 'a prediction above it is positive', default = '0.5 (-inf with top_k)', option = true},
      {'top_k', "only a row's k largest predictions are positive (ties: the lower index)", default = 'nil', option = true},
      {'class_id', 'count one class (column) only', default = 'nil', option = true}}},
    {'AUC', 'auc', "The area under the ROC or precision-recall curve over the epoch, as Keras': " ..
            'counts of the labels at num_thresholds evenly spaced thresholds, the area summed ' ..
            'between each two.',
     {{'num_thresholds', 'how many thresholds (2 to 2048)', default = '200', option = true},
      {'curve', "'ROC' (true positive rate against false positive rate) or 'PR' (precision " ..
                'against recall)', default = "'ROC'", option = true},
      {'summation_method', "'interpolation' (trapezoids for ROC; for PR, precision " ..
                           "interpolated along the true positives, as Keras), 'minoring' " ..
                           "(each step's lower end) or 'majoring' (its higher end)",
       default = "'interpolation'", option = true}}}} do
  local params = {}
  for _, param in ipairs(metric[4] or {}) do params[#params + 1] = param end
  params[#params + 1] = {metric_name[1], metric_name[2], default = "'" .. metric[2] .. "'",
                         option = true}
  doc('nn.metrics.' .. metric[1], {call = 'nn.metrics.' .. metric[1] .. '{...}',
    text = metric[3], params = params,
    example = "model:compile{optimizer = 'adam', loss = '" ..
              (metric[2]:find('^sparse') and 'sparse_categorical_crossentropy' or 'mse') ..
              "', metrics = {nn.metrics." .. metric[1] .. '{}}}'})
end
-- Each initializer's arguments in Keras' order (they may be given by position).
local initializer_arguments = {
  value = {'value', 'the value of every weight', default = '0'},
  mean = {'mean', 'the mean', default = '0'},
  stddev = {'stddev', 'the standard deviation', default = '0.05'},
  minval = {'minval', 'the lowest value', default = '-0.05'},
  maxval = {'maxval', 'the upper end (excluded)', default = '0.05'},
  gain = {'gain', 'the factor the orthogonal matrix is scaled by', default = '1'},
  seed = {'seed', 'a seed of its own (an integer); by default the global one', default = 'nil'},
}
for class, spec in pairs(nn._initializer_arguments) do
  local params, shown = {}, {}
  for i, argument in ipairs(spec[2]) do
    local entry = initializer_arguments[argument]
    params[i] = {entry[1], entry[2], default = entry.default}
    shown[i] = argument .. '=' .. entry.default
  end
  doc('nn.initializers.' .. class, {call = 'nn.initializers.' .. class .. '{' .. table.concat(shown, ', ') .. '}',
    text = "The '" .. spec[1] .. "' initializer as an object. " ..
           (#params > 0 and 'Its arguments may also be given by position, in this order.'
                        or 'It takes no arguments.'),
    params = #params > 0 and params or nil,
    example = "nn.layers.Dense{4, kernel_initializer = nn.initializers." .. class .. "{}}"})
end
doc('nn.regularizers.l1', {call = 'nn.regularizers.l1([l1])',
  text = 'Adds l1 * sum(|w|) to the loss; as an activity_regularizer, l1 * sum(|output|) over the ' ..
         "batch divided by the batch's rows, as Keras. Also nn.regularizers.L1{0.01} or L1{l1=0.01}.",
  params = {{'l1', 'the weight of the penalty', default = '0.01'}},
  example = 'nn.layers.Dense{4, kernel_regularizer = nn.regularizers.l1(0.001)}'})
doc('nn.regularizers.l2', {call = 'nn.regularizers.l2([l2])',
  text = 'Adds l2 * sum(w^2) to the loss; as an activity_regularizer, l2 * sum(output^2) over the ' ..
         "batch divided by the batch's rows, as Keras. Also nn.regularizers.L2{0.01} or L2{l2=0.01}.",
  params = {{'l2', 'the weight of the penalty', default = '0.01'}},
  example = 'nn.layers.Dense{4, kernel_regularizer = nn.regularizers.l2(0.01)}'})
doc('nn.regularizers.l1_l2', {call = 'nn.regularizers.l1_l2{l1=0, l2=0}',
  text = "Both penalties (an activity_regularizer's divided by the batch's rows, as Keras). " ..
         "A factor left out is 0, as Keras 3's L1L2; the name 'l1_l2' " ..
         '(kernel_regularizer = \'l1_l2\') means 0.01 for both. By position too: L1L2{l1, l2}.',
  params = {{'l1', 'the weight of the l1 penalty', default = '0', option = true},
            {'l2', 'the weight of the l2 penalty', default = '0', option = true}},
  example = 'nn.layers.Dense{4, kernel_regularizer = nn.regularizers.l1_l2{l1 = 0, l2 = 0.01}}'})
doc('nn.constraints.MaxNorm', {call = 'nn.constraints.MaxNorm{max_value=2, axis=0}',
  text = 'Scales down each unit\'s incoming weights whose norm exceeds max_value.',
  params = {{'max_value', 'the largest norm', default = '2', option = true}, {'axis', 'the axis the norm runs along', default = '0', option = true}},
  example = 'nn.layers.Dense{4, kernel_constraint = nn.constraints.MaxNorm{max_value = 3}}'})
doc('nn.constraints.NonNeg', {call = 'nn.constraints.NonNeg{}', text = 'Sets negative weights to zero.',
  example = 'nn.layers.Dense{4, kernel_constraint = nn.constraints.NonNeg{}}'})
doc('nn.constraints.UnitNorm', {call = 'nn.constraints.UnitNorm{axis=0}', text = 'Scales each unit\'s incoming weights to norm 1.',
  params = {{'axis', 'the axis the norm runs along', default = '0', option = true}},
  example = 'nn.layers.Dense{4, kernel_constraint = nn.constraints.UnitNorm{}}'})
doc('nn.constraints.MinMaxNorm', {call = 'nn.constraints.MinMaxNorm{min_value=0, max_value=1, rate=1, axis=0}',
  text = 'Keeps each unit\'s incoming weight norm between min_value and max_value.',
  params = {{'min_value', 'the smallest norm', default = '0', option = true}, {'max_value', 'the largest norm', default = '1', option = true},
            {'rate', 'how far to move towards the range each time (1: all the way)', default = '1', option = true},
            {'axis', 'the axis the norm runs along', default = '0', option = true}},
  example = 'nn.layers.Dense{4, kernel_constraint = nn.constraints.MinMaxNorm{max_value = 2}}'})

-- saving and loading models
doc(S .. 'save', {touches_files = true, call = 'model:save(path [, {overwrite=true, include_optimizer=true}])',
  text = 'Writes the whole model (architecture, weights, compile settings, optimizer state) ' ..
         'to one safetensors file, through a temporary file renamed into place, so a crash ' ..
         'never leaves half a file. nn.models.load_model reads it back.',
  params = {{'path', "the file, e.g. 'mnist.safetensors' (Keras' names ending in .h5, .hdf5 " ..
                     "or .keras are refused: the file would not be what they say)"},
            {'overwrite', 'replace an existing file', default = 'true', option = true},
            {'include_optimizer', "keep the optimizer's state, to go on training", default = 'true', option = true}},
  example = "model:save('/tmp/model.safetensors')"})
doc(S .. 'save_weights', {touches_files = true, call = 'model:save_weights(path [, {overwrite=true}])',
  text = 'Writes only the weights (safetensors); load_weights puts them into a model of the same architecture.',
  params = {{'path', 'the file'}, {'overwrite', 'replace an existing file', default = 'true', option = true}},
  example = "model:save_weights('/tmp/model.weights.safetensors')"})
doc(S .. 'load_weights', {touches_files = true, call = 'model:load_weights(path)',
  text = 'Reads weights written by save_weights (or save) into this model; layer names and ' ..
         'shapes must match. Returns the model.',
  params = {{'path', 'the file'}},
  example = "model:save_weights('/tmp/w.safetensors')\nmodel:load_weights('/tmp/w.safetensors')"})
doc(S .. 'get_weights', {call = 'model:get_weights()',
  text = 'Copies of every weight tensor, layer by layer (each layer in its own order: kernel, bias, ...).',
  example = '#model:get_weights()'})
doc(S .. 'set_weights', {call = 'model:set_weights(weights)',
  text = 'The inverse of get_weights; every shape is checked before anything changes.',
  params = {{'weights', 'a list of tensors like get_weights() returns'}},
  example = 'model:set_weights(model:get_weights())'})
-- nn.plot_model's options, model:plot's too: nnsh's own, then Keras' plot_model arguments.
local flow_params = {
  {'file', 'write an .svg, .png or .txt file instead of drawing inline', default = 'nil', option = true},
  {'to_file', "Keras' name for file (give one of them)", default = 'nil', option = true},
  {'charset', "'unicode' or 'ascii'; by default what the terminal can show", default = 'nil', option = true},
  {'show', 'with file=, draw inline too', default = 'false', option = true},
  {'show_shapes', 'the shape each layer produces, on its arrow (Keras: false by default)', default = 'true', option = true},
  {'show_dtype', 'the element type after each shape: float32, which every model computes in', default = 'false', option = true},
  {'show_layer_names', "each layer's name: by default in .svg and .png files, not in text", default = 'nil', option = true},
  {'show_layer_activations', "the activation in a layer's label: Dense(128, relu)", default = 'true', option = true},
  {'show_trainable', 'mark each layer [trainable] or [frozen]', default = 'false', option = true},
  {'expand_nested', "accepted, changes nothing: a model given among a Sequential's layers " ..
                    "joins with its layers, which are drawn one by one, and a wrapper's " ..
                    'layer is always drawn: TimeDistributed(Dense(4))', default = 'false', option = true},
  {'rankdir', "'TB' only: the flow is drawn top to bottom", default = "'TB'", option = true},
  {'dpi', 'the resolution of a .png file (an error for other output)', default = '192', option = true}}
doc(S .. 'plot', {call = 'model:plot{file=nil, charset=nil, show=false, show_shapes=true, ...}',
  text = 'The same as nn.plot_model(model, {...}): the network as a vertical flow.',
  params = flow_params,
  example = "model:plot()\nmodel:plot{show_layer_names = true, show_layer_activations = false}"})
doc('nn.models.load_model', {touches_files = true, call = 'nn.models.load_model(path [, {compile=true}])',
  text = 'A model read from a file written by model:save, predicting bit-identically.',
  params = {{'path', 'the file'}, {'compile', 'restore the compile settings and optimizer state', default = 'true', option = true}},
  example = "model:save('/tmp/m.safetensors')\ncopy = nn.models.load_model('/tmp/m.safetensors')\ncopy"})
doc('nn.models.save_model', {touches_files = true, call = 'nn.models.save_model(model, path [, {...}])',
  text = "Keras' function form of model:save, with the same options.",
  params = {{'model', 'the model'}, {'path', 'the file'},
            {'overwrite', 'replace an existing file', default = 'true', option = true},
            {'include_optimizer', "keep the optimizer's state", default = 'true', option = true}},
  example = "nn.models.save_model(model, '/tmp/m.safetensors')"})
doc(S .. 'to_json', {call = 'model:to_json()',
  text = "The architecture as JSON text, as Keras' model.to_json(): the model's name, each " ..
         "layer's class and settings, and the input shape; no weights, compile settings or " ..
         "random streams. nn.models.model_from_json makes a model from it.",
  returns = 'a string',
  example = "model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}\ntext = model:to_json()\ntext:sub(1, 60)"})
doc('nn.models.model_from_json', {call = 'nn.models.model_from_json(text)',
  text = "A new model from model:to_json()'s text (or a model file's architecture): the same " ..
         'layers, names and shapes, its weights drawn afresh from their initializers, not ' ..
         'compiled.',
  params = {{'text', 'the JSON text'}}, returns = 'a model',
  example = "model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}\ncopy = nn.models.model_from_json(model:to_json())\ncopy.output_shape"})
doc('nn.models.clone_model', {call = 'nn.models.clone_model(model)',
  text = "A new model of the same architecture, as Keras' clone_model: the same layers, " ..
         'names and settings, fresh weights (copy them with ' ..
         'copy:set_weights(model:get_weights())), not compiled.',
  params = {{'model', 'the model to copy'}}, returns = 'a model',
  example = "model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}\ncopy = nn.models.clone_model(model)\ncopy:set_weights(model:get_weights())"})
doc('nn.io', {module = true, text = "Small helpers for callbacks and scripts that write through nn's output."})
doc('nn.io.write', {call = 'nn.io.write(...)',
  text = "Like io.write, but through nn's output, so the shell and notebooks capture it.",
  params = {{'...', 'strings and numbers'}}, example = "nn.io.write('epoch done\\n')"})
doc('nn.io.make_directory', {touches_files = true, call = 'nn.io.make_directory(path)',
  text = 'Creates a directory and its parents, as mkdir -p does.',
  params = {{'path', 'the directory'}}, example = "nn.io.make_directory('/tmp/nnsh-runs/one')"})

-- charts and pictures
local look_params = {
  {'width', 'columns of the chart (inline: the terminal width, at most 120)', default = 'nil', option = true},
  {'height', 'rows of each chart', default = '14', option = true},
  {'log', 'a logarithmic y axis', default = 'false', option = true},
  {'charset', "'unicode' (Braille) or 'ascii'; by default what the terminal can show", default = 'nil', option = true},
  {'color', 'colour inline; by default where the terminal has it', default = 'nil', option = true},
  {'file', 'write an .svg, .png (with librsvg) or .txt file instead of drawing inline', default = 'nil', option = true},
  {'show', 'with file=, draw inline too', default = 'false', option = true}}
local function with_look(params)
  for _, p in ipairs(look_params) do params[#params + 1] = p end
  return params
end
doc('nn.History:plot', {call = 'history:plot{keys=nil, height=14, log=false, file=nil, ...}',
  text = "The tutorial's figure: one chart per quantity (loss, accuracy, ...), training and " ..
         'validation together, epochs along x. Returns the path when it writes a file.',
  params = with_look{{'keys', "the quantities to draw, e.g. {'loss'}; each brings its val_ partner", default = 'all', option = true},
                     {'columns', 'charts side by side', default = 'nil', option = true}},
  example = 'history:plot()'})
doc('nn.plot', {call = 'nn.plot(data [, {title=, xlabel=, ylabel=, x=, ...}])',
  text = 'A line chart, inline or into a file: data is a History, a list of numbers or a 1-D ' ..
         'tensor (one series), or a table of named lists (one series each).',
  params = with_look{{'data', 'what to draw'},
                     {'title', 'the title', default = 'nil', option = true},
                     {'xlabel', 'the x axis label', default = 'nil', option = true},
                     {'ylabel', 'the y axis label', default = 'nil', option = true},
                     {'x', 'the x values (default 1, 2, 3, ...)', default = 'nil', option = true},
                     {'label', 'the name of a single series', default = "'y'", option = true},
                     {'keys', 'the order of named series', default = 'sorted', option = true}},
  example = 'nn.plot({1, 4, 9, 16, 25}, {title = "squares"})'})
local plot_model_params = {{'model', 'a built Sequential model'}}
for _, param in ipairs(flow_params) do plot_model_params[#plot_model_params + 1] = param end
doc('nn.plot_model', {call = 'nn.plot_model(model [, {file=nil, charset=nil, show=false, show_shapes=true, ...}])',
  text = 'The network as the tutorial draws it on the board: the input shape, then each ' ..
         "layer with its arguments and an arrow with the shape it produces. Keras' " ..
         "plot_model arguments work where they mean something here; unlike Keras, it " ..
         'draws inline unless a file is given, and shows shapes by default. As in Keras, ' ..
         "the file may come second: nn.plot_model(model, 'model.png' [, {...}]).",
  params = plot_model_params,
  example = "nn.plot_model(model)\nnn.plot_model(model, {show_shapes = false, show_trainable = true})\n" ..
            "nn.plot_model(model, 'model.svg')"})
doc('nn.describe_layer', {call = 'nn.describe_layer(layer [, without_activations])',
  text = 'A layer as the network flow writes it: "Conv2D(32, 3×3, relu)".',
  params = {{'layer', 'a layer'},
            {'without_activations', 'leave the activation argument out', default = 'false'}},
  example = "nn.describe_layer(nn.layers.Dense{10, activation = 'relu'})"})

-- callbacks
local monitor = {'monitor', 'the quantity to watch', default = "'val_loss'", option = true}
local mode = {'mode', "'min', 'max' or 'auto' (from the name: accuracy goes up, the rest down)", default = "'auto'", option = true}
local verbose = {'verbose', '1: say what it does', default = '0', option = true}
doc('nn.callbacks.Callback', {call = 'nn.callbacks.Callback{on_epoch_end=function(self, epoch, logs) ... end, ...}',
  text = 'A callback made of functions: on_train_begin(logs), on_epoch_begin(epoch, logs), ' ..
         'on_epoch_end(epoch, logs), on_train_batch_begin(batch, logs), ' ..
         'on_train_batch_end(batch, logs), on_train_end(logs) (on_batch_begin and ' ..
         'on_batch_end are the older names). Epochs and batches count from 0 as in Keras; ' ..
         'self.model is the model; self.model.stop_training = true ends training after the ' ..
         'current batch. evaluate and predict work from any of them; add, compile, fit ' ..
         'and model:to do not while the model trains.',
  params = {{'on_...', 'the methods, each taking self first'}},
  example = 'cb = nn.callbacks.Callback{on_epoch_end = function(self, epoch, logs) print(epoch, logs.loss) end}'})
doc('nn.callbacks.ModelCheckpoint', {call = "nn.callbacks.ModelCheckpoint{filepath, monitor='val_loss', save_best_only=false, ...}",
  text = 'Saves the model (or its weights) as training goes: every epoch, or only when the ' ..
         'monitored quantity improves. The file name may hold {epoch:02d} or {val_loss:.2f}.',
  params = {{'filepath', "where to save, e.g. 'ckpt-{epoch:02d}.safetensors'", required = true, option = true},
            monitor, verbose,
            {'save_best_only', 'save only when the monitored quantity improves', default = 'false', option = true},
            {'save_weights_only', 'save the weights only', default = 'false', option = true},
            mode, {'save_freq', "'epoch', or a number of batches", default = "'epoch'", option = true},
            {'initial_value_threshold', 'the value to beat at first', default = 'nil', option = true}},
  example = "nn.callbacks.ModelCheckpoint{'/tmp/ckpt-{epoch:02d}.safetensors', save_best_only = true}"})
doc('nn.callbacks.EarlyStopping', {call = "nn.callbacks.EarlyStopping{monitor='val_loss', patience=0, ...}",
  text = 'Stops training when the monitored quantity has stopped improving.',
  params = {monitor, {'min_delta', 'the smallest change that counts as improving', default = '0', option = true},
            {'patience', 'epochs without improvement before stopping', default = '0', option = true},
            verbose, mode, {'baseline', 'a value the quantity must reach', default = 'nil', option = true},
            {'restore_best_weights', 'when training ends, go back to the weights of the best epoch', default = 'false', option = true},
            {'start_from_epoch', 'epochs to wait before watching', default = '0', option = true}},
  example = "nn.callbacks.EarlyStopping{monitor = 'val_loss', patience = 3, restore_best_weights = true}"})
doc('nn.callbacks.ReduceLROnPlateau', {call = "nn.callbacks.ReduceLROnPlateau{monitor='val_loss', factor=0.1, patience=10, ...}",
  text = 'Multiplies the learning rate by factor when the monitored quantity stops improving.',
  params = {monitor, {'factor', 'the new rate is rate * factor', default = '0.1', option = true},
            {'patience', 'epochs without improvement before reducing', default = '10', option = true},
            verbose, mode, {'min_delta', 'the smallest change that counts', default = '0.0001', option = true},
            {'cooldown', 'epochs to wait after a reduction', default = '0', option = true},
            {'min_lr', 'the lowest learning rate', default = '0', option = true}},
  example = 'nn.callbacks.ReduceLROnPlateau{factor = 0.5, patience = 2}'})
doc('nn.callbacks.CSVLogger', {call = "nn.callbacks.CSVLogger{filename, separator=',', append=false}",
  text = "Writes each epoch's results as a line of a CSV file.",
  params = {{'filename', 'the CSV file', required = true, option = true},
            {'separator', 'between fields', default = "','", option = true},
            {'append', 'add to an existing file', default = 'false', option = true}},
  example = "nn.callbacks.CSVLogger{'/tmp/training.csv'}"})
doc('nn.callbacks.TerminateOnNaN', {call = 'nn.callbacks.TerminateOnNaN{}',
  text = 'Ends training cleanly (history kept) when the loss becomes NaN or infinite; ' ..
         'without it that is an error.', example = 'nn.callbacks.TerminateOnNaN{}'})
doc('nn.callbacks.LearningRateScheduler', {call = 'nn.callbacks.LearningRateScheduler{schedule, verbose=0}',
  text = 'Sets the learning rate at the start of each epoch to schedule(epoch, lr).',
  params = {{'schedule', 'function(epoch, lr) returning the new rate; epochs count from 0', required = true, option = true}, verbose},
  example = 'nn.callbacks.LearningRateScheduler{function(epoch, lr) return epoch < 2 and lr or lr * 0.9 end}'})
doc('nn.callbacks.LambdaCallback', {call = 'nn.callbacks.LambdaCallback{on_epoch_end=function(epoch, logs) ... end, ...}',
  text = "A callback from plain functions that take Keras' arguments (no self).",
  params = {{'on_train_begin', 'function(logs)', option = true}, {'on_train_end', 'function(logs)', option = true},
            {'on_epoch_begin', 'function(epoch, logs)', option = true}, {'on_epoch_end', 'function(epoch, logs)', option = true},
            {'on_batch_begin', 'function(batch, logs)', option = true}, {'on_train_batch_begin', 'function(batch, logs)', option = true},
            {'on_batch_end', 'function(batch, logs)', option = true}, {'on_train_batch_end', 'function(batch, logs)', option = true}},
  example = "nn.callbacks.LambdaCallback{on_epoch_end = function(epoch, logs) print(epoch + 1, logs.loss) end}"})
doc('nn.callbacks.BackupAndRestore', {call = "nn.callbacks.BackupAndRestore{backup_dir, save_freq='epoch', ...}",
  text = 'Saves the whole training state into backup_dir at the end of every epoch; when the ' ..
         'same script runs again after a crash, fit goes on after the last finished epoch. ' ..
         'Put it last in the list.',
  params = {{'backup_dir', 'where the state is kept', required = true, option = true},
            {'save_freq', "'epoch', or a number of batches", default = "'epoch'", option = true},
            {'delete_checkpoint', 'remove the backup when training ends', default = 'true', option = true},
            {'save_before_preemption', 'accepted for Keras compatibility', default = 'false', option = true}},
  example = "nn.callbacks.BackupAndRestore{'/tmp/nnsh-backup'}"})

-- layer constructors, from the engine's argument specs
local function lua_default(text)
  if text == 'None' or text == '' then return 'nil' end
  if text == 'True' then return 'true' end
  if text == 'False' then return 'false' end
  return (text:gsub('^%((.*)%)$', '{%1}'))
end
-- The engine's argument texts speak Keras (None means linear); in Lua an argument left
-- out is nil. Shapes keep their None: (None, 10) is how they print.
local function lua_words(text)
  return (text:gsub('(%f[%w_.]None)(%f[^%w_])(.?)', function(word, _, after)
    if after == ',' or after == ')' then return word .. after end
    return 'nil' .. after
  end))
end
for _, class in ipairs(nn.layer_classes()) do
  local params, call, positional = {}, {}, class.positional
  for i, arg in ipairs(class.args) do
    params[i] = {arg.name, lua_words(arg.doc), default = not arg.required and lua_default(arg.default) or nil,
                 required = arg.required, option = true}
    call[i] = i <= class.positional and arg.name or arg.name .. '=' .. lua_default(arg.default)
  end
  if #call > 5 then call = {table.unpack(call, 1, math.max(class.positional, 3))}; call[#call + 1] = '...' end
  if class.name == 'Bidirectional' then
    -- A wrapper: the recurrent arguments belong to the layer it wraps, given there; they
    -- are listed after the wrapper's own, under a heading that says so.
    local own, wrapped = {}, {}
    local wrapper_args = {layer = true, merge_mode = true, name = true, input_shape = true,
                          activity_regularizer = true}
    for _, param in ipairs(params) do
      if wrapper_args[param[1]] then
        own[#own + 1] = param
      else
        param.required, param.default = nil, nil
        wrapped[#wrapped + 1] = param
      end
    end
    if #wrapped > 0 then
      wrapped[1].section = "The wrapped layer's arguments: a layer object brings its own " ..
                           "(give them there); only with layer='LSTM', 'GRU' or " ..
                           "'SimpleRNN' given by name are they given here."
    end
    params = own
    for _, param in ipairs(wrapped) do params[#params + 1] = param end
    call = {'layer', "merge_mode='concat'", '...'}
  elseif class.name == 'TimeDistributed' then
    -- A wrapper whose layer is an object, given first (or as layer=).
    table.insert(params, 1, {'layer', 'The layer to apply to every step: a layer object, not ' ..
                             'built yet (it is copied; its arguments are given there).',
                             required = true, option = true})
    call, positional = {'layer', '...'}, 1
  end
  local entry = {call = 'nn.layers.' .. class.name .. '{' .. table.concat(call, ', ') .. '}',
                 text = class.doc ~= '' and class.doc or 'A ' .. class.name .. ' layer.',
                 params = params, positional = positional, example = class.example,
                 layer = true, from_engine = true}
  if class.alias then entry.text = entry.text .. ' Also called nn.layers.' .. class.alias .. '.' end
  doc('nn.layers.' .. class.name, entry)
end

local TOPICS = {
  shell = [[
The shell (nnsh with no script)
  Each input is a numbered cell. A cell that ends in an expression shows its value
  (end it with ; to keep quiet). In[n] is the source of cell n, Out[n] its value (a
  list when there were several; the last 100 are kept) and _ the latest value.
  Top-level locals live on: `local x = 1` in one cell is x in the next, so a script
  can be pasted cell by cell unchanged. An unfinished chunk continues on a ...: line.
  Tab completes variables, fields, methods after `:`, and argument names inside a
  call's table: nn.layers.Conv2D{32, 3, pad<Tab> gives padding=.
  Tab with only blanks before the cursor indents.
  Ctrl-C clears the line (or stops a running cell, or fit after the current batch);
  no number of Ctrl-C ends the shell. Ctrl-Z suspends it (fg brings it back).
  Ctrl-D leaves (on a ...: line it ends the cell, which says what it lacks). History
  is kept in ~/.nnsh_history ($NNSH_HISTORY, at most $NNSH_HISTORY_SIZE entries, 1000
  by default).

Commands (a cell that starts with %)
  %time CODE        runs CODE and says how long it took (wall and CPU time)
  %who [TYPE...]    lists your variables with their types and values (only those
                    of the types named: %who Tensor string)
  %run FILE [ARGS]  runs a Lua file (or a notebook's cells, FILE.md) in the session;
                    its top-level locals stay
  %save [-f] FILE   saves the session's cells and outputs as a notebook that
                    replays it (FILE.md: Markdown; FILE.lua: Lua with -- %% cells);
                    a cell that failed after it ran is kept, marked expect-error;
                    an existing FILE is replaced only after a yes (-f: without asking)
  %history [N]      lists this session's inputs, numbered (the last N); also %hist
  %help [TOPIC]     help() or help 'TOPIC'
  %quit, %exit      leave (so does Ctrl-D)
See also help 'notebooks'.]],
  notebooks = [[
Notebooks: lessons that become handouts
  nnsh --notebook lesson.md [-o handout.md] [--keep-going]
  runs every cell of the file in one session, top to bottom, and writes the document
  again (to lesson.out.md unless -o says otherwise; -o - writes to stdout) with each
  cell's output below it: printed text, values, summaries, errors.
  Markdown: each ```lua block is a cell; its output follows as an ```output block.
  Lua: -- %% lines start cells; the output follows as --> comment lines, so the
  handout still runs as a script: nnsh FILE.lua (and %run FILE.lua) runs a file with
  -- %% cells cell by cell, as the shell does, printing each cell's value; nnsh FILE.md
  and %run FILE.md run a Markdown notebook's ```lua blocks so (outputs not written).
  Output from an earlier run is replaced.
  A failing cell's error goes into the handout and stops the run (exit status 1);
  --keep-going runs the rest. A cell marked `lua expect-error` (Markdown) or
  `-- %% expect-error` (Lua) is meant to fail: its error is shown, the run goes on.
  In the shell, %save FILE writes the session as such a notebook.]],
  indexing = [[
Indexing in nn
  Positions count from 1, as everywhere in Lua: t[1] is the first row, t:slice(2, 4)
  rows 2 to 4, negative positions count from the end (t[-1] is the last row; so do
  shape[-1], model.layers[-1] and model.weights[-1]).
  Axes count as in Keras and NumPy: 0 is the first (batch) axis, -1 the last; so
  t:sum(0) adds up the rows and t:argmax() looks along the last axis; t:sum{axis = 0}
  says the same in the options style of layers.
  Class ids are the data's own values: MNIST labels are 0-9 and argmax returns 0-9,
  so model:predict(x):argmax() compares directly with the labels.]],
  shapes = [[
Shapes
  Shapes print as Keras prints them: (None, 28, 28, 32), None being the batch axis.
  Conv2D and MaxPool2D work out each spatial size n (kernel k, stride s, dilation d):
    padding='valid': floor((n - d*(k-1) - 1) / s) + 1      padding='same': ceil(n / s)
  Conv2D's kernel is (kh, kw, in_channels/groups, filters); Dense's is (in, units).
  model:summary{explain=true} shows these numbers for every layer; layer.explanation
  holds them for one layer, and model:trace(x) follows one batch through the model.]],
  activations = [[
Activations
  The names activation= takes (Dense, Conv2D, Activation, ...), each element by itself
  except softmax and log_softmax, which work along the last axis:
    linear (or none)   x                  relu         max(x, 0)
    sigmoid            1 / (1 + exp(-x))  tanh         tanh(x)
    softmax            exp(x) / sum(exp(x))            log_softmax  log(softmax(x))
    elu                x if x > 0, else exp(x) - 1
    selu               1.0507 * (x if x > 0, else 1.67326 * (exp(x) - 1))
    gelu               x * P(X <= x) for a standard normal X (the exact, erf form)
    leaky_relu         x if x > 0, else 0.2 * x
    relu6              min(max(x, 0), 6)  softplus     log(1 + exp(x))
    softsign           x / (1 + |x|)      exponential  exp(x)
    swish (or silu)    x * sigmoid(x)     mish         x * tanh(softplus(x))
    hard_sigmoid       clip(x / 6 + 0.5, 0, 1), as Keras 3 (Keras 2 had
                       clip(0.2 * x + 0.5, 0, 1))
    hard_silu (or hard_swish)  x * hard_sigmoid(x)
  Each name is also a function, nn.activations.gelu(x), which a layer takes as
  activation= too (Dense{10, activation=nn.activations.gelu}).
  Layers with a parameter of their own: nn.layers.LeakyReLU{negative_slope},
  nn.layers.ELU{alpha}, nn.layers.ReLU{max_value, negative_slope, threshold},
  nn.layers.PReLU (learnt slopes), nn.layers.Softmax{axis}.]],
}

return {entries = E, topics = TOPICS}
