-- Charts and pictures: history:plot() and nn.plot() draw training curves and line
-- charts inline (Braille on a UTF-8 terminal, ASCII elsewhere) or into SVG/PNG/text
-- files; nn.plot_model(model) and model:plot() draw the network flow. The drawing is
-- done by the C renderers of plots/ through nn._plots.
local nn = ...
local P = nn._plots

local plots = {}

-- ---- options ----

local function check_options(function_name, options, valid)
  if options == nil then return {} end
  if type(options) ~= 'table' then
    error(function_name .. ': expected a table of options, got ' .. nn._typename(options), 3)
  end
  local allowed = {}
  for _, name in ipairs(valid) do allowed[name] = true end
  for key in pairs(options) do
    if not allowed[key] then
      table.sort(valid)
      error(string.format("%s: unknown option '%s' (valid options: %s)", function_name,
                          tostring(key), table.concat(valid, ', ')), 3)
    end
  end
  return options
end

-- The chart sizes that draw: a chart needs 6 rows for its legend, 3 values and the axis.
local size_limits = {height = {6, 1000}, width = {20, 1000}, columns = {1, 100}}

-- level: where the error points, counted from check_size's caller (default its caller).
local function check_size(function_name, options, key, level)
  local value, limits = options[key], size_limits[key]
  if value ~= nil and (math.type(value) ~= 'integer' or value < limits[1] or value > limits[2]) then
    error(string.format('%s: %s must be an integer from %d to %d, got %s', function_name, key,
                        limits[1], limits[2], tostring(value)), (level or 2) + 1)
  end
end

-- How inline output should look here: Unicode and colour on a UTF-8 terminal, plain
-- ASCII in pipes, files and notebooks; the caller's options win.
local function look(function_name, options)
  local terminal = P.terminal()
  local charset = options.charset
  if charset == nil then
    charset = (terminal.tty and terminal.utf8) and 'unicode' or 'ascii'
  elseif charset ~= 'unicode' and charset ~= 'ascii' then
    error(function_name .. ": charset must be 'unicode' or 'ascii', got " .. tostring(charset), 3)
  end
  local color = options.color
  if color == nil then color = terminal.color end
  local width = options.width
  if width == nil then
    -- A terminal narrower than a chart's least width gets that width (and wraps).
    width = terminal.tty and math.max(math.min(terminal.columns, 120), 20) or 80
  end
  check_size(function_name, {width = width}, 'width', 3)
  return {charset = charset, color = color and true or false, width = width}
end

-- Writes content to path through a temporary file renamed into place.
-- Written as model:save writes: a full disk or a kill leaves the old figure as it was,
-- and a symbolic link keeps pointing at the new one.
local function write_file(function_name, path, content)
  local ok, message = pcall(nn.io._write_file, function_name, path, content)
  if not ok then error(message, 4) end
end

-- Saves a figure by the file's extension: .svg, .png (when librsvg is installed; png_scale
-- PNG pixels to an SVG pixel, 2 by default) or .txt (the text figure, in Unicode).
-- render(format, charset) returns the content.
local function save(function_name, path, render, png_scale)
  if type(path) ~= 'string' or path == '' then
    error(function_name .. ': file must be a file name, got ' .. tostring(path), 3)
  end
  local extension = path:match('%.([%w]+)$')
  extension = extension and extension:lower()
  if extension == 'svg' then
    write_file(function_name, path, render('svg'))
  elseif extension == 'png' then
    local png, message = P.png(render('svg'), png_scale)
    if not png then error(function_name .. ': ' .. message, 3) end
    write_file(function_name, path, png)
  elseif extension == 'txt' then
    write_file(function_name, path, render('text', 'unicode'))
  else
    error(function_name .. ": file must end in .svg, .png or .txt, got '" .. path .. "'", 3)
  end
  return path
end

-- A file name given before the options, as Keras' plot_model(model, 'model.png', ...):
-- the options with it under key. position names the file's argument, for the messages,
-- and keys the options that name a file too.
local function options_after_file(name, file, more, position, key, keys)
  if more ~= nil and type(more) ~= 'table' then
    error(name .. ': expected a table of options after the file name, got ' .. nn._typename(more), 3)
  end
  for _, key in ipairs(keys) do
    if more and more[key] ~= nil then
      error(string.format('%s: the file is given twice (the %s argument, and %s=)', name,
                          position, table.concat(keys, '= or ')), 3)
    end
  end
  local with_file = {[key] = file}
  for key, value in pairs(more or {}) do with_file[key] = value end
  return with_file
end

-- ---- training curves ----

local History = debug.getregistry()['nn.History']

local history_options = {'file', 'keys', 'width', 'height', 'log', 'charset', 'color',
                         'columns', 'show'}

-- The keys to draw: the quantities asked for (or all), each with its val_ key.
local function curve_keys(function_name, history, wanted)
  local present = {}
  for _, key in ipairs(history.keys or {}) do present[key] = true end
  if wanted == nil then return history.keys or {} end
  if type(wanted) == 'string' then wanted = {wanted} end
  if type(wanted) ~= 'table' then
    error(function_name .. ': keys must be a list of names such as {"loss"}', 3)
  end
  local keys = {}
  for _, key in ipairs(wanted) do
    if not present[key] then
      error(string.format("%s: the history has no '%s' (it has: %s)", function_name,
                          tostring(key), table.concat(history.keys or {}, ', ')), 3)
    end
    keys[#keys + 1] = key
    if present['val_' .. key] then keys[#keys + 1] = 'val_' .. key end
  end
  return keys
end

--- history:plot{file=nil, keys=nil, width=nil, height=14, log=false, charset=nil,
---              color=nil, columns=nil, show=false}
-- Draws the seed's figure: one chart per quantity (loss, accuracy, ...), train and
-- validation together, epochs along x. Inline by default; with file= it writes an
-- .svg, .png or .txt file instead (show=true draws it inline too) and returns the path.
-- As model:plot, the file may also come first: history:plot('h.png', {options}).
function History:plot(options, more)
  local name = 'history:plot'
  if type(options) == 'string' then
    options = options_after_file(name, options, more, 'first', 'file', {'file'})
  elseif more ~= nil then
    error(name .. ': unexpected argument 2 (' .. type(more) .. '); the call is ' ..
          "history:plot{options} or history:plot('file.svg', {options})", 2)
  end
  options = check_options(name, options, history_options)
  check_size(name, options, 'height')
  check_size(name, options, 'columns')
  local keys = curve_keys(name, self, options.keys)
  if #keys == 0 or #(self.epoch or {}) == 0 then
    error(name .. ': the history is empty (no epoch finished)', 2)
  end
  -- With validation_freq > 1 the val_ lists hold fewer values than there are epochs
  -- (Keras 3's History); fit records which epochs they belong to (_key_epochs), and they
  -- are drawn there. A list of another length without that record (a history put
  -- together by hand) is left out, and the note says so, rather than drawn at the wrong
  -- epochs.
  local key_epochs = rawget(self, '_key_epochs')
  local note, aligned, partial = nil, {}, {}
  for _, key in ipairs(keys) do
    local at = type(key_epochs) == 'table' and key_epochs[key]
    if #(self.history[key] or {}) == #self.epoch or
       (type(at) == 'table' and #at == #(self.history[key] or {})) then
      aligned[#aligned + 1] = key
    else
      partial[#partial + 1] = key
    end
  end
  if #partial > 0 then
    note = string.format('(%s left out: measured on fewer epochs than were trained)\n',
                         table.concat(partial, ', '))
    keys = aligned
    if #keys == 0 then error(name .. ': ' .. note:sub(2, -3), 2) end
  end
  -- One chart per quantity, a train key with its val_ key, at most P.max_charts of them.
  local quantities, drawn = {}, {}
  for _, key in ipairs(keys) do
    local base = key:match('^val_(.+)$') or key
    if not quantities[base] then
      quantities[#quantities + 1] = base
      quantities[base] = true
    end
  end
  if #quantities > P.max_charts then
    if options.keys ~= nil then
      error(string.format('%s: at most %d quantities fit in one figure, got %d', name,
                          P.max_charts, #quantities), 2)
    end
    local kept = {}
    for i = 1, P.max_charts do kept[quantities[i]] = true end
    for _, key in ipairs(keys) do
      if kept[key:match('^val_(.+)$') or key] then drawn[#drawn + 1] = key end
    end
    note = (note or '') ..
           string.format('(%d of %d quantities drawn; choose others with keys={...})\n',
                         P.max_charts, #quantities)
    keys = drawn
  end
  local epochs = {}
  for i, epoch in ipairs(self.epoch) do epochs[i] = epoch + 1 end
  local function render(format, charset, color, width)
    return P.curves(keys, self.history, {format = format, charset = charset, color = color,
                                         width = width or options.width or 100, height = options.height,
                                         columns = options.columns, log = options.log,
                                         epochs = epochs, key_epochs = key_epochs})
  end
  local path
  if options.file ~= nil then
    path = save(name, options.file, render)
    if not options.show then return path end
  end
  local style = look(name, options)
  P.write(render('text', style.charset, style.color, style.width))
  if note then P.write(note) end
  return path
end

-- ---- line charts ----

local function is_tensor(value)
  local meta = getmetatable(value)
  return meta ~= nil and meta.__name == 'nn.Tensor'
end

local function numbers(function_name, value, what)
  if is_tensor(value) then
    if value.ndim ~= 1 then
      error(string.format('%s: %s must be a 1-D tensor, got shape %s', function_name, what,
                          tostring(value.shape)), 3)
    end
    return value:tolist()
  end
  if type(value) ~= 'table' then
    error(string.format('%s: %s must be a list of numbers or a 1-D tensor, got %s',
                        function_name, what, type(value)), 3)
  end
  for i = 1, #value do
    if type(value[i]) ~= 'number' then
      error(string.format('%s: %s must be a list of numbers, got a %s at position %d',
                          function_name, what, type(value[i]), i), 3)
    end
  end
  return value
end

local plot_options = {'file', 'title', 'xlabel', 'ylabel', 'x', 'log', 'width', 'height',
                      'charset', 'color', 'label', 'keys', 'show'}

--- nn.plot(data, {title=, xlabel=, ylabel=, x=, log=, width=, height=, file=, ...})
-- data is a History (same as history:plot), a list of numbers or a 1-D tensor (one
-- series), or a table of named lists (one series each, in keys= order or sorted).
function nn.plot(data, options)
  local name = 'nn.plot'
  if getmetatable(data) == History then return data:plot(options) end
  options = check_options(name, options, plot_options)
  check_size(name, options, 'height')
  local series = {}
  if is_tensor(data) or (type(data) == 'table' and (data[1] ~= nil or next(data) == nil)) then
    series[1] = {name = options.label or 'y', y = numbers(name, data, 'data')}
  elseif type(data) == 'table' then
    local order = options.keys
    if order == nil then
      order = {}
      for key in pairs(data) do order[#order + 1] = key end
      table.sort(order, function(a, b) return tostring(a) < tostring(b) end)
    end
    for _, key in ipairs(order) do
      if data[key] == nil then
        error(string.format("%s: no series named '%s'", name, tostring(key)), 2)
      end
      series[#series + 1] = {name = tostring(key), y = numbers(name, data[key], tostring(key))}
    end
  else
    error(name .. ': expected a History, a list of numbers, a 1-D tensor or a table of ' ..
          'named lists, got ' .. nn._typename(data), 2)
  end
  if options.x ~= nil then
    local x = numbers(name, options.x, 'x')
    for _, s in ipairs(series) do
      if #x ~= #s.y then
        error(string.format("%s: x has %d values but series '%s' has %d", name, #x, s.name,
                            #s.y), 2)
      end
      s.x = x
    end
  end
  local chart = {title = options.title, x_label = options.xlabel, y_label = options.ylabel,
                 log = options.log, series = series, integer_x = options.x == nil}
  local function render(format, charset, color, width)
    return P.figure{charts = {chart}, format = format, charset = charset, color = color,
                    width = width or 80, height = options.height}
  end
  local path
  if options.file ~= nil then
    path = save(name, options.file, render)
    if not options.show then return path end
  end
  local style = look(name, options)
  P.write(render('text', style.charset, style.color, math.min(style.width, 100)))
  return path
end

-- ---- the network flow ----

-- "3×3" for {3, 3}, "3×5" for {3, 5}, "3×3×3" for a 3-D layer's; a 1-D layer's number as
-- it is.
local function sizes(value)
  if type(value) ~= 'table' then return value ~= nil and tostring(value) or nil end
  local texts = {}
  for i, size in ipairs(value) do texts[i] = tostring(size) end
  return table.concat(texts, '×')
end

local function all_equal(value)
  for i = 2, #value do if value[i] ~= value[1] then return false end end
  return true
end

-- "2" for a stride or dilation the same along every axis, "2×1" otherwise.
local function step(value)
  if type(value) == 'table' and not all_equal(value) then return sizes(value) end
  return tostring(type(value) == 'table' and value[1] or value)
end

local function is_one(value)
  if type(value) == 'table' then return all_equal(value) and value[1] == 1 end
  return value == nil or value == 1
end

local function same_sizes(a, b)
  if type(a) ~= 'table' or type(b) ~= 'table' then return a == b end
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

local function activation_part(parts, activation)
  if activation ~= nil and activation ~= 'linear' then parts[#parts + 1] = tostring(activation) end
end

-- The arguments that change what a layer computes, as the seed writes them on the board.
local function convolution(c)
  if c.kernel_size == nil then return nil end
  local parts = {}
  if c.filters ~= nil then parts[1] = tostring(c.filters) end -- depthwise: the kernel only
  parts[#parts + 1] = sizes(c.kernel_size)
  if not is_one(c.strides) then parts[#parts + 1] = 'stride ' .. step(c.strides) end
  if not is_one(c.dilation_rate) then parts[#parts + 1] = 'dilation ' .. step(c.dilation_rate) end
  activation_part(parts, c.activation)
  if c.padding == 'same' or c.padding == 'causal' then parts[#parts + 1] = c.padding end
  return parts
end

local function pooling(c)
  if c.pool_size == nil then return nil end
  local parts = {sizes(c.pool_size)}
  -- strides None (nil) is pool_size, as are strides equal to it
  if c.strides ~= nil and not same_sizes(c.strides, c.pool_size) and
     not (type(c.strides) == 'table' and (c.strides[1] or 1) <= 0) then
    parts[#parts + 1] = 'stride ' .. step(c.strides)
  end
  if c.padding == 'same' then parts[#parts + 1] = 'same' end
  return parts
end

local function upsampling(c)
  if c.size == nil then return nil end
  local factor = step(c.size) -- "×2" for the same factor on every axis, else "1×2×2"
  local parts = {factor:find('×') and factor or '×' .. factor}
  if c.interpolation ~= nil and c.interpolation ~= 'nearest' then
    parts[#parts + 1] = c.interpolation
  end
  return parts
end

-- The arguments that change what a layer computes, as the seed writes them on the board.
local describers = {
  Dense = function(c)
    if c.units == nil then return nil end
    local parts = {tostring(c.units)}
    activation_part(parts, c.activation)
    return parts
  end,
  Dropout = function(c)
    if c.rate == nil then return nil end
    return {string.format('%g', c.rate)}
  end,
  Activation = function(c)
    if c.activation == nil then return nil end
    return {tostring(c.activation)}
  end,
  Softmax = function(c)
    if c.axis == nil or c.axis == -1 then return nil end
    return {'axis ' .. c.axis}
  end,
  Rescaling = function(c)
    if c.scale == nil then return nil end
    -- 1/255 reads better as a fraction than as 0.00392157.
    local inverse = 1 / c.scale
    local rounded = math.floor(inverse * 100 + 0.5) / 100
    local scale = math.abs(c.scale) < 1 and math.abs(inverse - rounded) < 1e-4 * math.abs(inverse)
                  and string.format('%s1/%g', c.scale < 0 and '-' or '', math.abs(rounded))
                  or string.format('%g', c.scale)
    local parts = {'×' .. scale}
    if c.offset ~= nil and c.offset ~= 0 then parts[1] = parts[1] .. string.format(' %+g', c.offset) end
    return parts
  end,
}
for _, dimensions in ipairs{'1D', '2D', '3D'} do
  for _, class in ipairs{'Conv', 'DepthwiseConv', 'SeparableConv', 'Conv%sTranspose'} do
    local name = class:find('%%s') and class:format(dimensions) or class .. dimensions
    describers[name] = convolution
  end
  describers['MaxPooling' .. dimensions] = pooling
  describers['AveragePooling' .. dimensions] = pooling
  describers['UpSampling' .. dimensions] = upsampling
end

-- A layer's description from its class and config; a wrapper's from its layer's. Without
-- activations, a layer's activation argument is left out (an Activation layer keeps
-- its own: it is what the layer does).
local function describe_config(class, config, without_activations)
  if class == 'TimeDistributed' and config and config.layer then
    return class .. '(' .. describe_config(config.layer.class_name, config.layer.config,
                                           without_activations) .. ')'
  end
  if without_activations and config and config.activation ~= nil and class ~= 'Activation' then
    local copy = {}
    for key, value in pairs(config) do copy[key] = value end
    copy.activation, config = nil, copy
  end
  local describe = describers[class]
  local parts = describe and config and describe(config) or nil
  if parts == nil or #parts == 0 then return class end
  return class .. '(' .. table.concat(parts, ', ') .. ')'
end

--- nn.describe_layer(layer) -> "Conv2D(32, 3×3, relu)", "TimeDistributed(Dense(4))"
-- (without_activations: "Conv2D(32, 3×3)", for plot_model's show_layer_activations=false)
function nn.describe_layer(layer, without_activations)
  if nn._typename(layer) ~= 'nn.Layer' then
    error('nn.describe_layer: expected a layer (such as nn.layers.Dense{10}), got ' ..
          nn._typename(layer), 2)
  end
  local ok, config = pcall(layer.get_config, layer)
  return describe_config(layer.class_name, ok and config or nil, without_activations)
end

-- A shape without its batch axis, printed as nn prints shapes: (28, 28, 32), (10,).
local function sample_shape(shape)
  if shape == nil then return '?' end
  local dims = {}
  for i = 2, #shape do dims[#dims + 1] = shape[i] end
  return tostring(setmetatable(dims, getmetatable(shape)))
end

-- Keras' plot_model arguments are taken where they mean something in this picture;
-- rankdir and dpi only where they describe what is drawn (top to bottom; a PNG).
local flow_options = {'file', 'to_file', 'charset', 'show', 'show_shapes', 'show_dtype',
                      'show_layer_names', 'show_layer_activations', 'show_trainable',
                      'expand_nested', 'rankdir', 'dpi'}

local function check_flag(function_name, options, key)
  local value = options[key]
  if value ~= nil and type(value) ~= 'boolean' then
    error(string.format('%s: %s must be true or false, got %s', function_name, key,
                        type(value) == 'string' and "'" .. value .. "'" or tostring(value)), 4)
  end
  return value
end

-- The checked options of nn.plot_model: file (to_file's too) and the PNG scale.
local function flow_settings(name, options)
  for _, key in ipairs{'show', 'show_shapes', 'show_dtype', 'show_layer_names',
                       'show_layer_activations', 'show_trainable', 'expand_nested'} do
    check_flag(name, options, key)
  end
  if options.file ~= nil and options.to_file ~= nil then
    error(name .. ': file and to_file are the same option; give one', 3)
  end
  local file = options.file
  if file == nil then file = options.to_file end
  if options.rankdir ~= nil and options.rankdir ~= 'TB' then
    error(string.format("%s: rankdir must be 'TB', got %s: the flow is drawn top to bottom only",
                        name, type(options.rankdir) == 'string' and "'" .. options.rankdir .. "'"
                        or tostring(options.rankdir)), 3)
  end
  local scale
  if options.dpi ~= nil then
    local dpi = options.dpi
    if type(dpi) ~= 'number' or dpi ~= dpi or dpi < 24 or dpi > 1200 then
      error(string.format('%s: dpi must be a number from 24 to 1200, got %s', name, tostring(dpi)), 3)
    end
    if type(file) ~= 'string' or not file:lower():match('%.png$') then
      error(string.format('%s: dpi sets the resolution of a .png file, but this draws %s', name,
                          file == nil and 'inline text' or "'" .. tostring(file) .. "'"), 3)
    end
    scale = dpi / 96 -- an SVG pixel is 1/96 inch
  end
  return file, scale
end

--- nn.plot_model(model, {file=nil, charset=nil, show=false, show_shapes=true, ...})
-- The vertical flow of a Sequential model: the input shape, each layer with its
-- arguments and an arrow with the shape it produces. Inline text by default (ASCII
-- arrows outside UTF-8 terminals); with file= (or Keras' to_file=) an .svg, .png or
-- .txt file.
function nn.plot_model(model, options, more)
  local name = 'nn.plot_model'
  if getmetatable(model) ~= debug.getregistry()['nn.Sequential'] then
    error(name .. ': expected a model (nn.Sequential), got ' .. nn._typename(model), 2)
  end
  -- Keras' plot_model(model, 'model.png', ...): the file may come second, options after.
  if type(options) == 'string' then
    options = options_after_file(name, options, more, 'second', 'to_file', {'file', 'to_file'})
  end
  options = check_options(name, options, flow_options)
  local file, png_scale = flow_settings(name, options)
  if not model.built then
    error(string.format('%s: model "%s" is not built yet: give the first layer an ' ..
                        'input_shape, or call model:build(...)', name, model.name), 2)
  end
  local shapes = options.show_shapes ~= false
  local steps = {}
  for i, layer in ipairs(model.layers) do
    local label = nn.describe_layer(layer, options.show_layer_activations == false)
    if options.show_trainable then label = label .. (layer.trainable and ' [trainable]' or ' [frozen]') end
    steps[i] = {label = label, shape = shapes and sample_shape(layer.output_shape) or nil,
                layer_name = layer.name}
  end
  -- Models compute in float32 (nn.Input takes no other dtype).
  local spec = {title = model.name, input = shapes and sample_shape(model.input_shape) or nil,
                dtype = options.show_dtype and 'float32' or nil, steps = steps}
  local function render(format, charset)
    -- Layer names: in pictures unless turned off, in text only when asked for.
    local names
    if format == 'svg' then names = options.show_layer_names ~= false
    else names = options.show_layer_names == true end
    for _, each in ipairs(steps) do each.name = names and each.layer_name or nil end
    spec.format, spec.charset = format, charset
    return P.flow(spec)
  end
  local path
  if file ~= nil then
    path = save(name, file, render, png_scale)
    if not options.show then return path end
  end
  local style = look(name, {charset = options.charset, width = 80})
  P.write(render('text', style.charset))
  return path
end

do
  local methods = debug.getregistry()['nn.Sequential'].methods
  --- model:plot{...}: the same as nn.plot_model(model, {...})
  methods.plot = function(model, options, more) return nn.plot_model(model, options, more) end
end

return plots
