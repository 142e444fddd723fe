-- The Lua half of the nn module: small constructors for optimizers, losses,
-- initializers, regularizers and constraints, and History helpers.
local nn = ...

-- The text of an object made by a constructor: nn.optimizers.Adam{learning_rate=0.01},
-- the settings given, by name (the class's own name left out: the constructor says it).
local function object_text(function_name, object)
  local keys = {}
  for key in pairs(object) do
    if key ~= 'name' then keys[#keys + 1] = tostring(key) end
  end
  table.sort(keys)
  local settings = {}
  for i, key in ipairs(keys) do
    local value = object[key]
    if value == nil then value = object[math.tointeger(tonumber(key))] end
    if type(value) == 'string' then
      value = string.format('%q', value)
    elseif type(value) == 'table' and getmetatable(value) == nil then
      local items = {}
      for k, item in ipairs(value) do
        items[k] = type(item) == 'string' and string.format('%q', item) or tostring(item)
      end
      value = '{' .. table.concat(items, ', ') .. '}'
    end
    settings[i] = key .. '=' .. tostring(value)
  end
  return function_name .. '{' .. table.concat(settings, ', ') .. '}'
end

-- Errors when a constructor that takes one table is given more: Lua drops extra arguments
-- without a word, so Adam({learning_rate = 0.1}, 0.9) would lose the 0.9. Level 3 is the
-- constructor's caller.
local function refuse_more_arguments(function_name, ...)
  if select('#', ...) == 0 then return end
  error(string.format('%s: unexpected argument 2 (%s); the call is %s{...}, every setting ' ..
                      'in the one table', function_name, nn._argument_text((...)), function_name), 3)
end

-- An optimizer or loss constructor: a table of the given options and the name, checked
-- as compile would check it (`check`), so a bad setting is an error where it is written.
-- `call`: what calling the object does (a loss computes itself), nil for none.
local function options(name, defaults, check, call)
  -- __name: help(object) finds the constructor's page, and errors name the class
  local meta = {__tostring = function(self) return object_text(name, self) end, __name = name,
                __call = call}
  return function(t, ...)
    refuse_more_arguments(name, ...)
    t = t or {}
    if type(t) ~= 'table' then
      error(name .. ': expected a table of options, got ' .. nn._typename(t), 2)
    end
    local object = {name = defaults.name}
    for k, v in pairs(t) do object[k] = v end
    local ok, message = pcall(check, object, name)
    if not ok then error(message, 2) end
    return setmetatable(object, meta)
  end
end

-- The class of learning-rate schedules is C's metatable, so that the schedule
-- model.optimizer describes is one too.
local schedule_class = nn._schedule_class
nn._schedule_class = nil

local function has_positions(t)
  for key in pairs(t) do
    if math.type(key) == 'integer' then return true end
  end
  return false
end

-- Keras' first positional argument of an optimizer is its learning rate: Adam(1e-3),
-- Adam{1e-3, beta_1 = 0.8} and Adam(schedule) as Adam{learning_rate = ...}.
local function optimizer(name, defaults)
  local make = options(name, defaults, nn._check_optimizer)
  return function(t, ...)
    if type(t) == 'number' or getmetatable(t) == schedule_class then
      t = {learning_rate = t}
    elseif type(t) == 'table' and getmetatable(t) == nil and has_positions(t) then
      if t.learning_rate ~= nil then
        error(name .. ': the learning rate is given twice, at position 1 and as learning_rate', 2)
      end
      for key in pairs(t) do
        if math.type(key) == 'integer' and key ~= 1 then
          error(string.format('%s: takes 1 positional setting (learning_rate), got one at ' ..
                              'position %d; name the others, as beta_1 = 0.9', name, key), 2)
        end
      end
      local named = {}
      for key, value in pairs(t) do named[key] = value end
      named.learning_rate, named[1] = t[1], nil
      t = named
    end
    -- A tail call, so that make's errors at level 2 point at the user's line.
    return make(t, ...)
  end
end
nn.optimizers = {
  SGD = optimizer('nn.optimizers.SGD', {name = 'sgd'}),
  Adam = optimizer('nn.optimizers.Adam', {name = 'adam'}),
  AdamW = optimizer('nn.optimizers.AdamW', {name = 'adamw'}),
  RMSprop = optimizer('nn.optimizers.RMSprop', {name = 'rmsprop'}),
  Adagrad = optimizer('nn.optimizers.Adagrad', {name = 'adagrad'}),
  Nadam = optimizer('nn.optimizers.Nadam', {name = 'nadam'}),
  Adamax = optimizer('nn.optimizers.Adamax', {name = 'adamax'}),
  Adadelta = optimizer('nn.optimizers.Adadelta', {name = 'adadelta'}),
  Lion = optimizer('nn.optimizers.Lion', {name = 'lion'}),
  Ftrl = optimizer('nn.optimizers.Ftrl', {name = 'ftrl'}),
}

-- Learning-rate schedules: nn.optimizers.Adam{learning_rate =
-- nn.optimizers.schedules.ExponentialDecay{1e-3, 1000, 0.9}}. Positional entries follow
-- Keras' order; a schedule is called with a step for its rate, as in Keras.
local schedule_positions = {
  ExponentialDecay = {'initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase'},
  InverseTimeDecay = {'initial_learning_rate', 'decay_steps', 'decay_rate', 'staircase'},
  PolynomialDecay = {'initial_learning_rate', 'decay_steps', 'end_learning_rate', 'power',
                     'cycle'},
  PiecewiseConstantDecay = {'boundaries', 'values'},
  CosineDecay = {'initial_learning_rate', 'decay_steps', 'alpha'},
  CosineDecayRestarts = {'initial_learning_rate', 'first_decay_steps', 't_mul', 'm_mul',
                         'alpha'},
}
schedule_class.__call = function(self, step)
  return nn._schedule_rate(self, step, 'nn.optimizers.schedules.' .. tostring(self.schedule))
end
schedule_class.__tostring = function(self)
  -- The positional settings in Keras' order, then the others by name.
  local keys, listed = {}, {schedule = true}
  for _, key in ipairs(schedule_positions[self.schedule] or {}) do
    keys[#keys + 1], listed[key] = key, true
  end
  local others = {}
  for key in pairs(self) do
    if type(key) == 'string' and not listed[key] then others[#others + 1] = key end
  end
  table.sort(others)
  table.move(others, 1, #others, #keys + 1, keys)
  local settings = {}
  for _, key in ipairs(keys) do
    local value = self[key]
    if type(value) == 'string' then value = string.format('%q', value) end
    if type(value) == 'table' then value = '{' .. table.concat(value, ', ') .. '}' end
    if value ~= nil then settings[#settings + 1] = key .. '=' .. tostring(value) end
  end
  return tostring(self.schedule) .. '{' .. table.concat(settings, ', ') .. '}'
end
nn.optimizers.schedules = {}
for class, positions in pairs(schedule_positions) do
  local function_name = 'nn.optimizers.schedules.' .. class
  nn.optimizers.schedules[class] = function(t, ...)
    refuse_more_arguments(function_name, ...)
    if type(t) ~= 'table' then
      error(function_name .. ': expected a table of settings, got ' .. nn._typename(t), 2)
    end
    if t.schedule ~= nil then
      error(function_name .. ": 'schedule' is not a setting (the class is " .. class .. ')', 2)
    end
    local object = {schedule = class}
    for k, v in pairs(t) do
      if math.type(k) == 'integer' then
        local name = positions[k]
        if not name then
          error(string.format('%s: %d positional settings at most (%s), got one at %d',
                              function_name, #positions, table.concat(positions, ', '), k), 2)
        end
        if t[name] ~= nil then
          error(function_name .. ': ' .. name .. ' given both by position and by name', 2)
        end
        k = name
      end
      object[k] = v
    end
    local ok, message = pcall(nn._schedule_rate, object, 0, function_name)
    if not ok then error(message, 2) end
    return setmetatable(object, schedule_class)
  end
end

-- Loss objects compile takes, which also compute themselves as Keras' do:
-- nn.losses.CategoricalCrossentropy{}(y_true, y_pred [, sample_weight]) is the mean loss
-- as training computes it. Each class's Keras name is also its per-sample function,
-- nn.losses.categorical_crossentropy(y_true, y_pred [, {from_logits = true}]).
local loss_call, loss_function = nn._loss_call, nn._loss_function
nn._loss_call, nn._loss_function = nil, nil
nn.losses = {}
for _, spec in ipairs{
  {'SparseCategoricalCrossentropy', 'sparse_categorical_crossentropy'},
  {'CategoricalCrossentropy', 'categorical_crossentropy'},
  {'BinaryCrossentropy', 'binary_crossentropy'},
  {'MeanSquaredError', 'mean_squared_error'}, {'MeanAbsoluteError', 'mean_absolute_error'},
  {'Huber', 'huber'}, {'LogCosh', 'log_cosh'}, {'KLDivergence', 'kl_divergence'},
  {'Poisson', 'poisson'}, {'Hinge', 'hinge'}, {'SquaredHinge', 'squared_hinge'},
  {'CategoricalHinge', 'categorical_hinge'}, {'CosineSimilarity', 'cosine_similarity'},
  {'MeanAbsolutePercentageError', 'mean_absolute_percentage_error'},
  {'MeanSquaredLogarithmicError', 'mean_squared_logarithmic_error'},
} do
  local class, name = spec[1], spec[2]
  nn.losses[class] = options('nn.losses.' .. class, {name = name}, nn._check_loss, loss_call)
  nn.losses[name] = loss_function(name)
end

-- Metric objects, as keras.metrics: the class decides what is measured, name (default the
-- class's Keras name) what the logs call it; k for the top-k accuracies, thresholds for
-- Precision and Recall, threshold for BinaryAccuracy.
local metric_settings = {
  top_k_categorical_accuracy = {'name', 'k'}, sparse_top_k_categorical_accuracy = {'name', 'k'},
  binary_accuracy = {'name', 'threshold'},
  precision = {'name', 'thresholds', 'top_k', 'class_id'},
  recall = {'name', 'thresholds', 'top_k', 'class_id'}, cosine_similarity = {'name', 'axis'},
  auc = {'name', 'num_thresholds', 'curve', 'summation_method'},
}
-- update_state, result and reset_state, in C; each object's counts are kept beside it.
local metric_methods = nn._metric_methods
nn._metric_methods = nil
local function metric(class_name, class)
  local function_name = 'nn.metrics.' .. class_name
  local settings = metric_settings[class] or {'name'}
  local valid = {}
  for _, key in ipairs(settings) do valid[key] = true end
  -- __name: help(object) finds the class's page, and the methods' errors name the class
  local meta = {
    __name = function_name, __index = metric_methods,
    __tostring = function(self)
      local settings = {}
      for _, key in ipairs{'name', 'k', 'top_k', 'threshold', 'thresholds', 'num_thresholds',
                           'curve', 'summation_method', 'class_id'} do
        local value = self[key]
        if value ~= nil then
          settings[#settings + 1] = key .. '=' .. (type(value) == 'string' and
                                                   string.format('%q', value) or tostring(value))
        end
      end
      return function_name .. '{' .. table.concat(settings, ', ') .. '}'
    end,
  }
  return function(t, ...)
    refuse_more_arguments(function_name, ...)
    t = t or {}
    if type(t) ~= 'table' then
      error(function_name .. ': expected a table of options, got ' .. nn._typename(t), 2)
    end
    for key in pairs(t) do
      if not valid[key] then
        local guess = type(key) == 'string' and nn._did_you_mean(key, settings) or ''
        error(string.format("%s: unknown option '%s'%s; valid options are: %s", function_name,
                            tostring(key), guess, table.concat(settings, ', ')), 2)
      end
    end
    if t.axis ~= nil and t.axis ~= -1 then
      error(string.format("%s: axis must be -1 (the last axis, Keras' default), got %s",
                          function_name, tostring(t.axis)), 2)
    end
    local object = {class = class}
    for k, v in pairs(t) do
      if k ~= 'axis' then object[k] = v end
    end
    local ok, message = pcall(nn._check_metric, object, function_name)
    if not ok then error(message, 2) end
    object.name = object.name or class
    return setmetatable(object, meta)
  end
end
nn.metrics = {}
for class_name, class in pairs{
  BinaryAccuracy = 'binary_accuracy', CategoricalAccuracy = 'categorical_accuracy',
  SparseCategoricalAccuracy = 'sparse_categorical_accuracy',
  TopKCategoricalAccuracy = 'top_k_categorical_accuracy',
  SparseTopKCategoricalAccuracy = 'sparse_top_k_categorical_accuracy',
  MeanSquaredError = 'mean_squared_error', RootMeanSquaredError = 'root_mean_squared_error',
  MeanAbsoluteError = 'mean_absolute_error',
  MeanAbsolutePercentageError = 'mean_absolute_percentage_error',
  MeanSquaredLogarithmicError = 'mean_squared_logarithmic_error', LogCoshError = 'logcosh',
  KLDivergence = 'kl_divergence', Poisson = 'poisson', CosineSimilarity = 'cosine_similarity',
  Hinge = 'hinge', SquaredHinge = 'squared_hinge', CategoricalHinge = 'categorical_hinge',
  Precision = 'precision', Recall = 'recall', AUC = 'auc',
} do
  nn.metrics[class_name] = metric(class_name, class)
end

-- Initializers and constraints take Keras' arguments by position, in Keras' order
-- (Constant{0.5}, RandomNormal{0, 0.1}, MaxNorm(3)), or by name; any other entry is an
-- error, not a silent default. A lone number is the first argument, and plain arguments
-- are positions as in Keras (RandomUniform(-0.5, 0.5), l1_l2(0.01, 0.02)), with an options
-- table last if named ones follow, as the layers take them.
local function keras_object(what, name, arguments, kind)
  local meta = {__tostring = function(self) return object_text(what, self) end, __name = what}
  local valid = {}
  for _, argument in ipairs(arguments) do valid[argument] = true end
  local listed = #arguments > 0 and table.concat(arguments, ', ') or 'none'
  return function(t, ...)
    local count = select('#', ...)
    if count > 0 then
      if type(t) == 'table' then
        error(string.format('%s: unexpected argument 2 (%s); give every argument in the one ' ..
                            'table, or all of them plainly, in the order %s', what,
                            nn._argument_text((...)), listed), 2)
      end
      local positional = table.pack(t, ...)
      local options = positional[positional.n]
      if type(options) == 'table' and #options == 0 then
        positional.n = positional.n - 1
        positional[positional.n + 1] = nil
      else
        options = {}
      end
      t = {}
      for key, value in pairs(options) do t[key] = value end
      for i = 1, positional.n do
        if positional[i] ~= nil then t[i] = positional[i] end
      end
    end
    t = t or {}
    if type(t) == 'number' then t = {t} end
    if type(t) ~= 'table' then
      error(what .. ': expected a table of options (or a number), got ' .. nn._typename(t), 2)
    end
    local object = {name = name}
    for key, value in pairs(t) do
      local argument = key
      if math.type(key) == 'integer' then
        argument = arguments[key]
        if not argument then
          error(string.format('%s: takes %d positional argument%s (%s), got one at position %d',
                              what, #arguments, #arguments == 1 and '' or 's', listed, key), 2)
        end
        if t[argument] ~= nil then
          error(string.format('%s: %s is given twice, at position %d and by name', what,
                              argument, key), 2)
        end
      elseif not valid[key] then
        error(string.format("%s: unknown argument '%s' (valid arguments: %s)", what,
                            tostring(key), listed), 2)
      end
      -- No setting of these means anything as NaN or infinity.
      if type(value) == 'number' and (value ~= value or math.abs(value) == math.huge) then
        error(string.format('%s: %s must be a finite number, got %s', what, argument,
                            value ~= value and 'nan' or value > 0 and 'inf' or '-inf'), 2)
      end
      object[argument] = value
    end
    -- checked as a layer would check it, so a bad value is an error where it is written
    if kind then
      local ok, message = pcall(nn._check_keras_object, object, kind, what)
      if not ok then
        -- the layer's wording names the argument ("initializer.stddev", "constraint:
        -- constraint 'max_norm': "), which `what` already says
        local prefix = what .. ': '
        if message:sub(1, #prefix) == prefix then
          local rest = message:sub(#prefix + 1):gsub('^' .. kind .. '[.:]%s*', '', 1)
          rest = rest:gsub("^constraint '[%w_]+':? ?", '', 1):gsub('^' .. kind .. ' ', '', 1)
          message = prefix .. rest
        end
        error(message, 2)
      end
    end
    return setmetatable(object, meta)
  end
end

-- Each initializer's name and arguments in Keras' order (help() reads them too).
nn._initializer_arguments = {
  Zeros = {'zeros', {}}, Ones = {'ones', {}}, Constant = {'constant', {'value'}},
  RandomNormal = {'random_normal', {'mean', 'stddev', 'seed'}},
  RandomUniform = {'random_uniform', {'minval', 'maxval', 'seed'}},
  TruncatedNormal = {'truncated_normal', {'mean', 'stddev', 'seed'}},
  GlorotUniform = {'glorot_uniform', {'seed'}}, GlorotNormal = {'glorot_normal', {'seed'}},
  HeUniform = {'he_uniform', {'seed'}}, HeNormal = {'he_normal', {'seed'}},
  LecunUniform = {'lecun_uniform', {'seed'}}, LecunNormal = {'lecun_normal', {'seed'}},
  Orthogonal = {'orthogonal', {'gain', 'seed'}},
}
nn.initializers = {}
for class, spec in pairs(nn._initializer_arguments) do
  nn.initializers[class] = keras_object('nn.initializers.' .. class, spec[1], spec[2], 'initializer')
end

-- Regularizers take Keras' arguments as the initializers do: nn.regularizers.l2(0.01),
-- L2{0.01} or L2{l2=0.01}, l1_l2{l1=..., l2=...} or L1L2{0.01, 0.02}.
local regularizer_meta = {__tostring = function(self)
  return object_text('nn.regularizers.L1L2', self)
end}
local function regularizer(what, arguments, default)
  local parse = keras_object(what, nil, arguments)
  return function(t, ...)
    local ok, given = pcall(parse, t, ...)
    if not ok then error(given, 2) end
    local penalty = {}
    for _, which in ipairs{'l1', 'l2'} do
      local value = given[which]
      if value == nil then
        value = arguments[1] == which and default or 0
      elseif type(value) ~= 'number' or not (value >= 0) then
        local got = type(value) == 'string' and string.format("the string '%s'", value)
                    or tostring(value)
        error(what .. ': ' .. which .. ' must be a number >= 0, got ' .. got, 2)
      end
      penalty[which] = value
    end
    return setmetatable(penalty, regularizer_meta)
  end
end
-- Keras 3's L1L2 class leaves a factor out as 0 (only the string 'l1_l2' means 0.01 and
-- 0.01), so l1_l2{l2=0.1} has no l1 penalty.
nn.regularizers = {
  l1 = regularizer('nn.regularizers.l1', {'l1'}, 0.01),
  l2 = regularizer('nn.regularizers.l2', {'l2'}, 0.01),
  l1_l2 = regularizer('nn.regularizers.l1_l2', {'l1', 'l2'}, 0),
}
nn.regularizers.L1, nn.regularizers.L2, nn.regularizers.L1L2 =
  nn.regularizers.l1, nn.regularizers.l2, nn.regularizers.l1_l2

nn.constraints = {}
for class, spec in pairs{MaxNorm = {'max_norm', {'max_value', 'axis'}},
                         NonNeg = {'non_neg', {}}, UnitNorm = {'unit_norm', {'axis'}},
                         MinMaxNorm = {'min_max_norm', {'min_value', 'max_value', 'rate', 'axis'}}} do
  nn.constraints[class] = keras_object('nn.constraints.' .. class, spec[1], spec[2], 'constraint')
  nn.constraints[spec[1]] = nn.constraints[class]
end

nn.models = nn.models or {}
nn.models.Sequential = nn.Sequential

-- History: history.history.loss etc., printing and plotting.
local History = debug.getregistry()['nn.History']
History.__name = 'nn.History'
-- An unknown field is an error naming the likely one, as Keras' AttributeError, not a
-- silent nil: h.histroy, h:plt().
local HISTORY_FIELDS = {'history', 'epoch', 'params', 'keys'}
History.__index = function(_, key)
  local method = rawget(History, key)
  if method ~= nil or type(key) ~= 'string' or key:sub(1, 1) == '_' then return method end
  for _, field in ipairs(HISTORY_FIELDS) do
    if key == field then return nil end -- keys: none before an epoch ends
  end
  local names = {table.unpack(HISTORY_FIELDS)}
  for name in pairs(History) do
    if type(name) == 'string' and name:sub(1, 2) ~= '__' then names[#names + 1] = name end
  end
  table.sort(names)
  error(string.format("history has no field or method '%s'%s; it has %s", key,
                      nn._did_you_mean(key, names), table.concat(names, ', ')), 2)
end
-- A logged value: four decimals, as Keras prints them, unless that would be a 60-digit
-- number or a 0.0000 hiding a small one.
local function logged_value(v)
  local size = math.abs(v)
  if v ~= v then return 'nan' end
  if size == math.huge then return v > 0 and 'inf' or '-inf' end
  if size >= 1e6 or (size > 0 and size < 1e-4) then return string.format('%.4g', v) end
  return string.format('%.4f', v)
end

-- Each metric's values, the first three and last three of a long run with '...' between
-- (as NumPy elides), so that printing a history of 1000 epochs stays one short line.
function History:__tostring()
  local parts = {}
  for _, key in ipairs(self.keys or {}) do
    local series, values = self.history[key], {}
    for i, v in ipairs(series) do
      if #series <= 8 or i <= 3 or i > #series - 3 then
        values[#values + 1] = logged_value(v)
      elseif i == 4 then
        values[#values + 1] = '...'
      end
    end
    parts[#parts + 1] = key .. ': {' .. table.concat(values, ', ') .. '}'
  end
  local count = #self.epoch .. (#self.epoch == 1 and ' epoch' or ' epochs')
  if #parts == 0 then return 'History(' .. count .. ')' end
  return 'History(' .. count .. '; ' .. table.concat(parts, '; ') .. ')'
end

-- nn.layers.Conv2d{...} would call nil; the unknown name is said, with the layer it most
-- likely meant (a slip of a letter or two, the same letters in another case, or names that
-- start the same way).
-- PyTorch's module names that nnsh spells otherwise, and nnsh's way: a guess by spelling
-- misses them (Linear) or picks the wrong layer (Dropout2d: Dropout). The shell's name
-- hints read this table too (nn.Linear: nn.layers.Dense, not nn.activations.linear).
nn._torch_layers = {
  Linear = 'Dense', LazyLinear = 'Dense',
  BatchNorm1d = 'BatchNormalization', BatchNorm2d = 'BatchNormalization',
  BatchNorm3d = 'BatchNormalization', LayerNorm = 'LayerNormalization',
  GroupNorm = 'GroupNormalization', RMSNorm = 'RMSNormalization',
  ConvTranspose1d = 'Conv1DTranspose', ConvTranspose2d = 'Conv2DTranspose',
  ConvTranspose3d = 'Conv3DTranspose',
  Dropout1d = 'SpatialDropout1D', Dropout2d = 'SpatialDropout2D', Dropout3d = 'SpatialDropout3D',
  AdaptiveAvgPool1d = 'GlobalAveragePooling1D', AdaptiveAvgPool2d = 'GlobalAveragePooling2D',
  AdaptiveAvgPool3d = 'GlobalAveragePooling3D', AdaptiveMaxPool1d = 'GlobalMaxPooling1D',
  AdaptiveMaxPool2d = 'GlobalMaxPooling2D', AdaptiveMaxPool3d = 'GlobalMaxPooling3D',
  Upsample = 'UpSampling2D', ZeroPad2d = 'ZeroPadding2D',
  Sigmoid = "Activation{'sigmoid'}", Tanh = "Activation{'tanh'}", GELU = "Activation{'gelu'}",
  SiLU = "Activation{'swish'}", Softplus = "Activation{'softplus'}",
}

-- PyTorch's loss classes and nnsh's: CrossEntropyLoss and BCEWithLogitsLoss take logits.
nn._torch_losses = {
  CrossEntropyLoss = 'SparseCategoricalCrossentropy{from_logits=true}',
  MSELoss = 'MeanSquaredError{}', L1Loss = 'MeanAbsoluteError{}',
  BCELoss = 'BinaryCrossentropy{}', BCEWithLogitsLoss = 'BinaryCrossentropy{from_logits=true}',
  HuberLoss = 'Huber{}', SmoothL1Loss = 'Huber{}',
}

-- nn.losses.CrossEntropyLoss is an error naming nnsh's loss; other missing names stay nil,
-- for Lua's own message and the shell's hints.
setmetatable(nn.losses, {__index = function(_, name)
  local way = type(name) == 'string' and nn._torch_losses[name]
  if way then
    -- A name in compile is the same loss only where no setting is needed.
    local by_name = way:find('=', 1, true) and ''
                    or string.format(", or loss = '%s' in compile", nn.losses[way:match('^%a+')]{}.name)
    error(string.format("nn.losses has no '%s' (a PyTorch name); nnsh writes nn.losses.%s%s",
                        name, way, by_name), 2)
  end
end})

setmetatable(nn.layers, {__index = function(_, name)
  if type(name) ~= 'string' then return nil end
  if nn._torch_layers[name] then
    error(string.format("nn.layers has no layer '%s' (a PyTorch name); nnsh writes nn.layers.%s",
                        name, nn._torch_layers[name]), 2)
  end
  local names, close = {}, {}
  for key in pairs(nn.layers) do names[#names + 1] = key end
  table.sort(names)
  local guess = nn._did_you_mean(name, names)
  if guess ~= '' then error(string.format("nn.layers has no layer '%s'%s", name, guess), 2) end
  for _, key in ipairs(names) do
    if key:lower() == name:lower() then close = {key}; break end
    if #name >= 4 and key:lower():sub(1, 4) == name:lower():sub(1, 4) then
      close[#close + 1] = key
    end
  end
  local hint = #close > 0 and '; did you mean ' .. table.concat(close, ', ') .. '?'
               or '; nn.layer_classes() lists them'
  error(string.format("nn.layers has no layer '%s'%s", name, hint), 2)
end})
