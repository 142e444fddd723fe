-- nn.callbacks: Keras' training callbacks, with Keras' names, defaults and messages.
--
-- A callback is a table of on_* methods that model:fit calls (on_train_begin(logs),
-- on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs), on_train_batch_end(batch, logs),
-- on_train_end(logs)); fit sets cb.model. Epochs and batches are 0-based as in Keras; the
-- messages number epochs from 1 as Keras prints them. Messages go through nn.io.write so
-- notebooks capture them. Constructors take one table: positional entries first, then
-- named ones, e.g. nn.callbacks.ModelCheckpoint{'ckpt-{epoch:02d}.safetensors',
-- save_best_only=true}.
local nn = ...
local callbacks = nn.callbacks or {}
nn.callbacks = callbacks

local write = nn.io.write

-- ---- helpers ----

-- Python's repr of a float: the shortest digits that read back, '1e-05' below 1e-4 and
-- from 1e16 on, '.0' on whole numbers. Keras prints learning rates and CSV values so.
local function repr(x)
  if math.type(x) == 'integer' then return tostring(x) end
  if x ~= x then return 'nan' end
  if x == math.huge then return 'inf' end
  if x == -math.huge then return '-inf' end
  local sign = (x < 0 or 1 / x < 0) and '-' or ''
  if x == 0 then return sign .. '0.0' end
  local digits, exponent
  for precision = 0, 16 do
    local text = string.format('%.' .. precision .. 'e', x)
    if tonumber(text) == x then
      local mantissa, power = text:match('^-?([%d.]+)e([-+]%d+)$')
      digits, exponent = mantissa:gsub('%.', ''), tonumber(power)
      break
    end
  end
  digits = digits:gsub('0+$', '')
  if digits == '' then digits = '0' end
  if exponent < -4 or exponent >= 16 then
    local mantissa = digits:sub(1, 1) .. (#digits > 1 and '.' .. digits:sub(2) or '')
    return string.format('%s%se%s%02d', sign, mantissa, exponent < 0 and '-' or '+',
                         math.abs(exponent))
  end
  if exponent < 0 then
    return sign .. '0.' .. string.rep('0', -exponent - 1) .. digits
  end
  if #digits <= exponent + 1 then
    return sign .. digits .. string.rep('0', exponent + 1 - #digits) .. '.0'
  end
  return sign .. digits:sub(1, exponent + 1) .. '.' .. digits:sub(exponent + 2)
end
callbacks._repr = repr

local function sorted_keys(t)
  local keys = {}
  for key in pairs(t or {}) do
    if type(key) == 'string' then keys[#keys + 1] = key end
  end
  table.sort(keys)
  return keys
end

-- Reads a constructor's options. spec: {positional = n, {name, type, default,
-- required = bool}, ...}, the first n entries in Keras' order, which may be given by
-- position; type is a Lua type name, 'integer', or several joined with '|'. Unknown names
-- are errors that list the valid ones. The arguments are one table, or Keras' plain ones
-- with an options table last: ModelCheckpoint('best.safetensors', 'loss'),
-- CSVLogger('log.csv', ';', {append = true}).
local function parse_options(class, spec, ...)
  local arguments = table.pack(...)
  local given = arguments[1]
  if arguments.n > 1 then
    if type(given) == 'table' then
      error(string.format('nn.callbacks.%s: unexpected argument 2 (%s) after a table of ' ..
                          'options; give every option in the table, or plain arguments ' ..
                          'with the table last', class, nn._argument_text(arguments[2])), 3)
    end
    local last = arguments[arguments.n]
    local named = {}
    if type(last) == 'table' and getmetatable(last) == nil then
      named, arguments.n = last, arguments.n - 1
    end
    given = {}
    for key, value in pairs(named) do given[key] = value end
    for i = 1, arguments.n do
      if given[i] == nil then given[i] = arguments[i] end
    end
  end
  if given == nil then given = {} end
  -- A lone first argument needs no table, as in Keras: CSVLogger('log.csv').
  if type(given) ~= 'table' and (spec.positional or 0) >= 1 then given = {given} end
  if type(given) ~= 'table' then
    error(string.format('nn.callbacks.%s: expected a table of options, got %s', class,
                        nn._typename(given)), 3)
  end
  local by_name, names = {}, {}
  for i, entry in ipairs(spec) do
    by_name[entry[1]] = i
    names[#names + 1] = entry[1]
  end
  local positional = spec.positional or 0
  for key in pairs(given) do
    if math.type(key) == 'integer' then
      if #names == 0 then
        error(string.format('nn.callbacks.%s: takes no arguments, got one at position %d',
                            class, key), 3)
      elseif positional == 0 then
        error(string.format('nn.callbacks.%s: takes its options by name, got one at position ' ..
                            '%d (valid names: %s)', class, key, table.concat(names, ', ')), 3)
      elseif key < 1 or key > positional then
        error(string.format('nn.callbacks.%s: takes %d positional argument%s (%s), got one ' ..
                            'at position %d; name the others (valid names: %s)', class,
                            positional, positional == 1 and '' or 's',
                            table.concat(names, ', ', 1, positional), key,
                            table.concat(names, ', ')), 3)
      end
    elseif not by_name[key] then
      local guess = type(key) == 'string' and nn._did_you_mean(key, names) or ''
      error(string.format("nn.callbacks.%s: unknown option '%s'%s; valid options are: %s",
                          class, tostring(key), guess, table.concat(names, ', ')), 3)
    end
  end
  local options = {}
  for i, entry in ipairs(spec) do
    local name, kinds, default = entry[1], entry[2], entry[3]
    local value = given[name]
    if i <= positional and given[i] ~= nil then
      if value ~= nil then
        error(string.format('nn.callbacks.%s: %s given both by position and by name', class,
                            name), 3)
      end
      value = given[i]
    end
    if value == nil then
      if entry.required then
        error(string.format('nn.callbacks.%s: %s is required', class, name), 3)
      end
      value = default
    end
    if value ~= nil then
      local ok = false
      for kind in kinds:gmatch('[^|]+') do
        if kind == 'integer' then ok = ok or math.type(value) == 'integer'
        else ok = ok or type(value) == kind end
      end
      if not ok then
        local got = type(value) == 'string' and tonumber(value)
                    and string.format("the string '%s' (tonumber converts it)", value)
                    or nn._typename(value)
        error(string.format('nn.callbacks.%s: %s must be %s, got %s', class, name,
                            (kinds:gsub('|', ' or ')), got), 3)
      end
    end
    options[name] = value
  end
  return options
end

local function make_class(name)
  local class = {}
  class.__index = class
  class.__name = 'nn.callbacks.' .. name
  class.__tostring = function(self) return string.format('<%s>', class.__name) end
  return class
end

local function check_mode(class, mode)
  if mode ~= 'auto' and mode ~= 'min' and mode ~= 'max' then
    error(string.format("nn.callbacks.%s: mode must be 'auto', 'min' or 'max', got '%s'%s",
                        class, mode, nn._did_you_mean(mode, {'auto', 'min', 'max'})), 3)
  end
end

local function warn(text)
  write('WARNING: ', text, '\n')
end

-- The rate of the next update (model.optimizer.learning_rate is the schedule, if any).
local function lr_of(model)
  local rate = model.learning_rate
  if not rate then error('the model is not compiled, so it has no learning rate', 2) end
  return rate
end

-- A callback that sets the learning rate cannot work with a schedule, which sets it
-- every step: said when training begins, naming the callback.
local function refuse_schedule(model, callback)
  local optimizer = model.optimizer
  local schedule = optimizer and type(optimizer.learning_rate) == 'table' and
                   optimizer.learning_rate.schedule
  if schedule then
    error(string.format('%s sets the learning rate, but this model\'s follows the %s ' ..
                        'schedule; compile with a number as learning_rate to use %s',
                        callback, schedule, callback), 0)
  end
end

-- mode = 'auto' as Keras 3: the direction of the model's metric of that name (accuracies,
-- precision, recall, auc and the cosine go up; losses and errors down), decided when
-- training begins; a name the model does not log keeps the guess from its name.
local function auto_maximize(model, monitor, guess)
  local mode = model and nn._monitor_mode(model, monitor)
  if mode == nil then return guess end
  return mode == 'max'
end

local function available(logs)
  return table.concat(sorted_keys(logs), ',')
end

-- ---- file name templates ----

-- Splits a Python-style template ('ckpt-{epoch:02d}-{val_loss:.2f}.safetensors') into
-- literal text and fields {name, spec}; {{ and }} are literal braces.
local function parse_template(class, template)
  local parts, i, literal = {}, 1, {}
  local function flush()
    if #literal > 0 then parts[#parts + 1] = table.concat(literal); literal = {} end
  end
  while i <= #template do
    local c = template:sub(i, i)
    local following = template:sub(i + 1, i + 1)
    if c == '{' and following == '{' then
      literal[#literal + 1] = '{'; i = i + 2
    elseif c == '}' and following == '}' then
      literal[#literal + 1] = '}'; i = i + 2
    elseif c == '{' then
      local close = template:find('}', i, true)
      if not close then
        error(string.format("nn.callbacks.%s: unbalanced '{' in file name '%s'", class,
                            template), 4)
      end
      local field = template:sub(i + 1, close - 1)
      local name, spec = field:match('^([%a_][%w_]*)(.*)$')
      local zero, width, precision, kind
      if spec then
        if spec == '' then
          kind = ''
        else
          zero, width, precision, kind = spec:match('^:(0?)(%d*)%.?(%d*)([dfeEgGs%%]?)$')
        end
      end
      if not name or not kind then
        error(string.format("nn.callbacks.%s: cannot use '{%s}' in file name '%s' (write " ..
                            "{name} or {name:format}, e.g. {epoch:02d} or {val_loss:.2f})",
                            class, field, template), 4)
      end
      -- Lua's string.format takes widths and precisions up to 99: found now, not after
      -- the first epoch has trained.
      if (tonumber(width) or 0) > 99 or (tonumber(precision) or 0) > 99 then
        error(string.format("nn.callbacks.%s: '{%s}' in file name '%s' asks for more than " ..
                            "99 characters (width and precision go up to 99)", class, field,
                            template), 4)
      end
      flush()
      parts[#parts + 1] = {name = name, zero = zero or '', width = width or '',
                           precision = precision or '', kind = kind}
      i = close + 1
    elseif c == '}' then
      error(string.format("nn.callbacks.%s: single '}' in file name '%s'", class, template), 4)
    else
      literal[#literal + 1] = c; i = i + 1
    end
  end
  flush()
  return parts
end

local function format_field(class, template, field, value)
  if value == nil then
    error(string.format("nn.callbacks.%s: cannot format the file name '%s': no value " ..
                        "named '%s'", class, template, field.name), 0)
  end
  local kind = field.kind
  if kind == '' and field.width == '' and field.precision == '' then
    return type(value) == 'number' and repr(value) or tostring(value)
  end
  if kind == '' then kind = math.type(value) == 'integer' and 'd' or 'g' end
  if kind == 'd' then
    local integer = math.tointeger(value)
    if not integer then
      error(string.format("nn.callbacks.%s: '{%s:d}' needs a whole number, %s is %s", class,
                          field.name, field.name, tostring(value)), 0)
    end
    value = integer
  end
  if kind == '%' then
    return string.format('%' .. field.zero .. field.width .. '.' ..
                         (field.precision ~= '' and field.precision or '6') .. 'f',
                         value * 100) .. '%'
  end
  local precision = field.precision ~= '' and '.' .. field.precision or ''
  if (kind == 'f' or kind == 'e' or kind == 'E') and precision == '' then precision = '.6' end
  return string.format('%' .. field.zero .. field.width .. precision .. kind, value)
end

local function format_path(class, template, parts, values)
  local out = {}
  for _, part in ipairs(parts) do
    out[#out + 1] = type(part) == 'string' and part
                    or format_field(class, template, part, values[part.name])
  end
  return table.concat(out)
end

local function parent_directory(path)
  return path:match('^(.*)/[^/]*$')
end

-- ---- Callback: the base class ----

local Callback = make_class('Callback')

-- nn.callbacks.Callback{on_epoch_end = function(self, epoch, logs) ... end, ...}: a
-- callback from functions (or an empty one to add methods to).
function callbacks.Callback(methods, ...)
  if select('#', ...) > 0 then
    error('nn.callbacks.Callback: unexpected argument 2 (' .. nn._argument_text((...)) .. '); the call is ' ..
          'nn.callbacks.Callback{on_epoch_end = function(self, epoch, logs) ... end, ...}', 2)
  end
  if methods ~= nil and type(methods) ~= 'table' then
    error('nn.callbacks.Callback: expected a table of methods (such as {on_epoch_end = ' ..
          'function(self, epoch, logs) ... end}), got ' .. nn._typename(methods), 2)
  end
  local self = setmetatable({}, Callback)
  for key, value in pairs(methods or {}) do self[key] = value end
  return self
end

-- ---- ModelCheckpoint ----

local ModelCheckpoint = make_class('ModelCheckpoint')

function callbacks.ModelCheckpoint(...)
  local o = parse_options('ModelCheckpoint', {
    positional = 8,
    {'filepath', 'string', required = true},
    {'monitor', 'string', 'val_loss'},
    {'verbose', 'integer', 0},
    {'save_best_only', 'boolean', false},
    {'save_weights_only', 'boolean', false},
    {'mode', 'string', 'auto'},
    {'save_freq', 'string|integer', 'epoch'},
    {'initial_value_threshold', 'number', nil},
  }, ...)
  check_mode('ModelCheckpoint', o.mode)
  local ok, problem = pcall(nn.io._check_save_name, o.filepath, 'nn.callbacks.ModelCheckpoint')
  if not ok then error(problem, 2) end
  if o.save_freq ~= 'epoch' and (type(o.save_freq) ~= 'number' or o.save_freq < 1) then
    error(string.format("nn.callbacks.ModelCheckpoint: save_freq must be 'epoch' or a " ..
                        "positive number of batches, got %s", tostring(o.save_freq)), 2)
  end
  local self = setmetatable(o, ModelCheckpoint)
  self.parts = parse_template('ModelCheckpoint', o.filepath)
  -- {batch} has a value only when saving every few batches.
  for _, part in ipairs(self.parts) do
    if type(part) == 'table' and part.name == 'batch' and o.save_freq == 'epoch' then
      error(string.format("nn.callbacks.ModelCheckpoint: the file name '%s' uses {batch}, " ..
                          "which has a value only with save_freq = a number of batches",
                          o.filepath), 2)
    end
  end
  local maximize = o.mode == 'max' or
                   (o.mode == 'auto' and (o.monitor:find('acc', 1, true) ~= nil or
                                          o.monitor:sub(1, 8) == 'fmeasure'))
  self.better = maximize and function(a, b) return a > b end
                          or function(a, b) return a < b end
  self.best = o.initial_value_threshold or (maximize and -math.huge or math.huge)
  self.maximize = maximize
  self.epoch = 0
  self.batches = 0
  if type(o.save_freq) == 'number' then
    -- Only then: a batch method makes fit call Lua after every batch.
    self.on_train_batch_end = ModelCheckpoint.on_batch
  end
  return self
end

function ModelCheckpoint:on_train_begin()
  -- Once, with the model known (best carries over from one fit to the next, as Keras).
  if self.mode ~= 'auto' or self.auto_decided then return end
  self.auto_decided = true
  local maximize = auto_maximize(self.model, self.monitor, self.maximize)
  if maximize == self.maximize then return end
  self.maximize = maximize
  self.better = maximize and function(a, b) return a > b end
                          or function(a, b) return a < b end
  self.best = self.initial_value_threshold or (maximize and -math.huge or math.huge)
end

function ModelCheckpoint:on_epoch_begin(epoch)
  self.epoch = epoch
end

function ModelCheckpoint:on_epoch_end(epoch, logs)
  if self.save_freq == 'epoch' then self:save(epoch, nil, logs) end
end

function ModelCheckpoint:on_batch(batch, logs)
  self.batches = self.batches + 1
  if self.batches % self.save_freq == 0 then self:save(self.epoch, batch, logs) end
end

function ModelCheckpoint:save(epoch, batch, logs)
  logs = logs or {}
  local values = {epoch = epoch + 1, batch = batch and batch + 1 or nil}
  for key, value in pairs(logs) do values[key] = value end
  local path = format_path('ModelCheckpoint', self.filepath, self.parts, values)
  local directory = parent_directory(path)
  if directory and directory ~= '' then
    local made, problem = pcall(nn.io.make_directory, directory)
    if not made then
      error(string.format('nn.callbacks.ModelCheckpoint (epoch %d): %s', epoch + 1,
                          (tostring(problem):gsub('^nn%.io%.make_directory: ', ''))), 0)
    end
  end
  if self.save_best_only then
    local current = logs[self.monitor]
    if current == nil then
      warn(string.format('Can save best model only with %s available, skipping.', self.monitor))
      return
    end
    if not self.better(current, self.best) then
      if self.verbose > 0 then
        write(string.format('Epoch %d: %s did not improve from %.5f\n', epoch + 1, self.monitor,
                            self.best))
      end
      return
    end
    if self.verbose > 0 then
      write(string.format('Epoch %d: %s improved from %.5f to %.5f, saving model to %s\n',
                          epoch + 1, self.monitor, self.best, current, path))
    end
    self.best = current
  elseif self.verbose > 0 then
    write(string.format('Epoch %d: saving model to %s\n', epoch + 1, path))
  end
  -- The user never called model:save: the failure is the callback's, at this epoch.
  local ok, message = pcall(function()
    if self.save_weights_only then self.model:save_weights(path) else self.model:save(path) end
  end)
  if not ok then
    error(string.format('nn.callbacks.ModelCheckpoint (epoch %d): %s', epoch + 1,
                        (tostring(message):gsub('^model:save_weights: ', '')
                                          :gsub('^model:save: ', ''))), 0)
  end
  self.last_saved = path
end

-- ---- EarlyStopping ----

local EarlyStopping = make_class('EarlyStopping')

function callbacks.EarlyStopping(...)
  local o = parse_options('EarlyStopping', {
    positional = 8,
    {'monitor', 'string', 'val_loss'},
    {'min_delta', 'number', 0},
    {'patience', 'integer', 0},
    {'verbose', 'integer', 0},
    {'mode', 'string', 'auto'},
    {'baseline', 'number', nil},
    {'restore_best_weights', 'boolean', false},
    {'start_from_epoch', 'integer', 0},
  }, ...)
  check_mode('EarlyStopping', o.mode)
  local maximize = o.mode == 'max' or
                   (o.mode == 'auto' and (o.monitor:sub(-3) == 'acc' or
                                          o.monitor:sub(-8) == 'accuracy' or
                                          o.monitor:sub(-3) == 'auc'))
  local self = setmetatable(o, EarlyStopping)
  self.maximize, self.name_maximize = maximize, maximize
  self.min_delta = maximize and math.abs(o.min_delta) or -math.abs(o.min_delta)
  return self
end

function EarlyStopping:improves(value, reference)
  if self.maximize then return value - self.min_delta > reference end
  return value - self.min_delta < reference
end

function EarlyStopping:on_train_begin()
  if self.mode == 'auto' then
    self.maximize = auto_maximize(self.model, self.monitor, self.name_maximize)
    self.min_delta = self.maximize and math.abs(self.min_delta) or -math.abs(self.min_delta)
  end
  self.wait = 0
  self.stopped_epoch = 0
  self.best = self.maximize and -math.huge or math.huge
  self.best_weights = nil
  self.best_epoch = 0
end

function EarlyStopping:on_epoch_end(epoch, logs)
  local current = (logs or {})[self.monitor]
  if current == nil then
    warn(string.format('Early stopping conditioned on metric `%s` which is not available. ' ..
                       'Available metrics are: %s', self.monitor, available(logs)))
    return
  end
  if epoch < self.start_from_epoch then return end
  if self.restore_best_weights and self.best_weights == nil then
    self.best_weights = self.model:get_weights()
    self.best_epoch = epoch
  end
  self.wait = self.wait + 1
  if self:improves(current, self.best) then
    self.best = current
    self.best_epoch = epoch
    if self.restore_best_weights then self.best_weights = self.model:get_weights() end
    if self.baseline == nil or self:improves(current, self.baseline) then self.wait = 0 end
    return
  end
  if self.wait >= self.patience and epoch > 0 then
    self.stopped_epoch = epoch
    self.model.stop_training = true
  end
end

-- Keras 3 restores the best weights when training ends, whether or not it stopped early
-- (Keras 2 restored them only on an early stop, leaving the last epoch's weights after a
-- run that used all its epochs).
function EarlyStopping:on_train_end()
  if self.stopped_epoch > 0 and self.verbose > 0 then
    write(string.format('Epoch %d: early stopping\n', self.stopped_epoch + 1))
  end
  if self.restore_best_weights and self.best_weights ~= nil then
    if self.verbose > 0 then
      write(string.format('Restoring model weights from the end of the best epoch: %d.\n',
                          self.best_epoch + 1))
    end
    self.model:set_weights(self.best_weights)
  end
end

-- ---- ReduceLROnPlateau ----

local ReduceLROnPlateau = make_class('ReduceLROnPlateau')

function callbacks.ReduceLROnPlateau(...)
  local o = parse_options('ReduceLROnPlateau', {
    positional = 8,
    {'monitor', 'string', 'val_loss'},
    {'factor', 'number', 0.1},
    {'patience', 'integer', 10},
    {'verbose', 'integer', 0},
    {'mode', 'string', 'auto'},
    {'min_delta', 'number', 1e-4},
    {'cooldown', 'integer', 0},
    {'min_lr', 'number', 0},
  }, ...)
  check_mode('ReduceLROnPlateau', o.mode)
  if o.factor >= 1.0 then
    error('nn.callbacks.ReduceLROnPlateau: ReduceLROnPlateau does not support a factor >= 1.0. ' ..
          'Got ' .. repr(o.factor + 0.0), 2)
  end
  local self = setmetatable(o, ReduceLROnPlateau)
  self.maximize = o.mode == 'max' or (o.mode == 'auto' and o.monitor:find('acc', 1, true) ~= nil)
  self.name_maximize = self.maximize
  self:reset()
  return self
end

function ReduceLROnPlateau:reset()
  self.best = self.maximize and -math.huge or math.huge
  self.cooldown_counter = 0
  self.wait = 0
end

function ReduceLROnPlateau:better(value)
  if self.maximize then return value > self.best + self.min_delta end
  return value < self.best - self.min_delta
end

function ReduceLROnPlateau:on_train_begin()
  refuse_schedule(self.model, 'ReduceLROnPlateau')
  if self.mode == 'auto' then
    self.maximize = auto_maximize(self.model, self.monitor, self.name_maximize)
  end
  self:reset()
end

function ReduceLROnPlateau:on_epoch_end(epoch, logs)
  logs = logs or {}
  logs.learning_rate = lr_of(self.model) -- Keras 3's key (Keras 2 wrote lr)
  local current = logs[self.monitor]
  if current == nil then
    warn(string.format('Learning rate reduction is conditioned on metric `%s` which is not ' ..
                       'available. Available metrics are: %s', self.monitor, available(logs)))
    return
  end
  if self.cooldown_counter > 0 then
    self.cooldown_counter = self.cooldown_counter - 1
    self.wait = 0
  end
  if self:better(current) then
    self.best = current
    self.wait = 0
  elseif self.cooldown_counter <= 0 then
    self.wait = self.wait + 1
    if self.wait >= self.patience then
      local old_lr = lr_of(self.model)
      -- Keras compares with min_lr as a float32.
      if old_lr > string.unpack('f', string.pack('f', self.min_lr)) then
        local new_lr = math.max(old_lr * self.factor, self.min_lr)
        if new_lr > 0 then self.model.learning_rate = new_lr end
        if self.verbose > 0 then
          write(string.format('Epoch %d: ReduceLROnPlateau reducing learning rate to %s.\n',
                              epoch + 1, repr(new_lr + 0.0)))
        end
        self.cooldown_counter = self.cooldown
        self.wait = 0
      end
    end
  end
end

-- ---- CSVLogger ----

local CSVLogger = make_class('CSVLogger')

function callbacks.CSVLogger(...)
  local o = parse_options('CSVLogger', {
    positional = 3,
    {'filename', 'string', required = true},
    {'separator', 'string', ','},
    {'append', 'boolean', false},
  }, ...)
  if o.filename == '' or o.filename:find('\0', 1, true) then
    -- io.open would stop at the zero byte and write to another file
    error('nn.callbacks.CSVLogger: the file name is empty or holds a zero byte', 2)
  end
  -- One character, as Python's csv takes, and none that quoting uses or ends a row.
  if #o.separator ~= 1 or o.separator:find('[\r\n"]') then
    error(string.format("nn.callbacks.CSVLogger: separator must be one character other " ..
                        "than a quote or a line end, got %q", o.separator), 2)
  end
  return setmetatable(o, CSVLogger)
end

local function csv_field(value, separator)
  local text = type(value) == 'number' and repr(value) or tostring(value)
  if text:find(separator, 1, true) or text:find('[\r\n"]') then
    text = '"' .. text:gsub('"', '""') .. '"'
  end
  return text
end

function CSVLogger:on_train_begin()
  self.write_header = true
  if self.append then
    local existing = io.open(self.filename, 'r')
    if existing then
      self.write_header = (existing:read('l') or '') == ''
      existing:close()
    end
  end
  local file, message = io.open(self.filename, self.append and 'a' or 'w')
  if not file then
    -- io.open's message starts with the file name already
    error('nn.callbacks.CSVLogger: cannot open for writing: ' .. tostring(message), 0)
  end
  self.file = file
  self.keys = nil
end

function CSVLogger:on_epoch_end(epoch, logs)
  logs = logs or {}
  if not self.keys then self.keys = sorted_keys(logs) end
  if not self.file then return end
  local fields = {}
  if self.write_header then
    fields[1] = 'epoch'
    for _, key in ipairs(self.keys) do fields[#fields + 1] = csv_field(key, self.separator) end
    self.file:write(table.concat(fields, self.separator), '\n')
    self.write_header = false
    fields = {}
  end
  fields[1] = csv_field(epoch, self.separator)
  for _, key in ipairs(self.keys) do
    local value = logs[key]
    fields[#fields + 1] = value == nil and 'NA' or csv_field(value, self.separator)
  end
  local ok, message = self.file:write(table.concat(fields, self.separator), '\n')
  -- The write only fills a buffer: a full disk shows when it reaches the file.
  if ok then ok, message = self.file:flush() end
  if not ok then
    error('CSVLogger: cannot write ' .. self.filename .. ': ' .. tostring(message), 0)
  end
end

function CSVLogger:on_train_end()
  local file = self.file
  self.file = nil
  if file then
    local ok, message = file:close()
    if not ok then
      error('CSVLogger: cannot write ' .. self.filename .. ': ' .. tostring(message), 0)
    end
  end
end

-- ---- TerminateOnNaN ----

local TerminateOnNaN = make_class('TerminateOnNaN')

-- nnsh checks the loss of every batch before the update is applied and, with this
-- callback in the list, ends training cleanly (history kept, on_train_end called) with a
-- message naming the epoch and batch; without it a NaN/Inf loss is an error.
function callbacks.TerminateOnNaN(...)
  parse_options('TerminateOnNaN', {}, ...)
  return setmetatable({terminate_on_nan = true}, TerminateOnNaN)
end

-- ---- LearningRateScheduler ----

local LearningRateScheduler = make_class('LearningRateScheduler')

function callbacks.LearningRateScheduler(...)
  local o = parse_options('LearningRateScheduler', {
    positional = 2,
    {'schedule', 'function', required = true},
    {'verbose', 'integer', 0},
  }, ...)
  return setmetatable(o, LearningRateScheduler)
end

function LearningRateScheduler:on_train_begin()
  refuse_schedule(self.model, 'LearningRateScheduler')
end

function LearningRateScheduler:on_epoch_begin(epoch)
  local lr = self.schedule(epoch, lr_of(self.model))
  if type(lr) ~= 'number' or lr ~= lr then
    error(string.format('LearningRateScheduler: the output of the "schedule" function should ' ..
                        'be a number. Got: %s', tostring(lr)), 0)
  end
  self.model.learning_rate = lr
  if self.verbose > 0 then
    write(string.format('Epoch %d: LearningRateScheduler setting learning rate to %s.\n',
                        epoch + 1, repr(lr + 0.0)))
  end
end

function LearningRateScheduler:on_epoch_end(_, logs)
  if logs then logs.learning_rate = lr_of(self.model) end
end

-- ---- LambdaCallback ----

local LambdaCallback = make_class('LambdaCallback')

-- LambdaCallback{on_epoch_end = function(epoch, logs) ... end, ...}: the functions take
-- Keras' arguments (no self).
function callbacks.LambdaCallback(...)
  local o = parse_options('LambdaCallback', {
    {'on_train_begin', 'function'},
    {'on_train_end', 'function'},
    {'on_epoch_begin', 'function'},
    {'on_epoch_end', 'function'},
    {'on_batch_begin', 'function'},
    {'on_train_batch_begin', 'function'},
    {'on_batch_end', 'function'},
    {'on_train_batch_end', 'function'},
  }, ...)
  -- Keras' older batch names are the same moments.
  local renamed = {on_batch_begin = 'on_train_batch_begin', on_batch_end = 'on_train_batch_end'}
  local self = setmetatable({}, LambdaCallback)
  for name, fn in pairs(o) do
    self[renamed[name] or name] = function(_, ...) return fn(...) end
  end
  return self
end

-- ---- BackupAndRestore ----

local BackupAndRestore = make_class('BackupAndRestore')

-- Saves the whole training state (weights, optimizer state, learning rate, step counter,
-- completed epochs) into backup_dir at the end of every epoch, atomically. When the same
-- script runs again after the process died, fit resumes after the last completed epoch
-- and ends with the weights an uninterrupted run would have. Put it last in the list,
-- so the state it saves includes what other callbacks changed at the epoch's end (their
-- own counters, e.g. EarlyStopping's patience, are not saved, as in Keras).
function callbacks.BackupAndRestore(...)
  local o = parse_options('BackupAndRestore', {
    positional = 2,
    {'backup_dir', 'string', required = true},
    {'save_freq', 'string|integer', 'epoch'},
    {'delete_checkpoint', 'boolean', true},
    {'save_before_preemption', 'boolean', false},
  }, ...)
  if o.save_freq ~= 'epoch' then
    error("nn.callbacks.BackupAndRestore: only save_freq='epoch' is supported (nnsh resumes " ..
          'at epoch boundaries)', 2)
  end
  if o.backup_dir == '' or o.backup_dir:find('\0', 1, true) then
    error('nn.callbacks.BackupAndRestore: backup_dir is empty or holds a zero byte', 2)
  end
  local self = setmetatable(o, BackupAndRestore)
  self.path = o.backup_dir .. '/backup.safetensors'
  return self
end

function BackupAndRestore:on_train_begin()
  local made, problem = pcall(nn.io.make_directory, self.backup_dir)
  if not made then
    error('nn.callbacks.BackupAndRestore: ' ..
          (tostring(problem):gsub('^nn%.io%.make_directory: ', '')), 0)
  end
  local epochs_done = nn.io._restore_backup(self.model, self.path)
  if epochs_done then
    nn.io._set_initial_epoch(self.model, epochs_done)
    write(string.format('BackupAndRestore: resuming after epoch %d from %s\n', epochs_done,
                        self.path))
  end
end

function BackupAndRestore:on_epoch_end(epoch)
  nn.io._save_backup(self.model, self.path, epoch + 1)
end

function BackupAndRestore:on_train_end()
  -- Ctrl-C keeps the backup, so running the script again goes on from there.
  if self.delete_checkpoint and not nn.io._stop_requested() then
    os.remove(self.path)
    os.remove(self.backup_dir) -- only if nothing else is in it
  end
end
