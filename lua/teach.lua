-- Teaching aids: model:trace(x) follows one batch through a model layer by layer.
local nn = ...

local Model = debug.getregistry()['nn.Sequential']
local methods = rawget(Model, 'methods')

local TRACE_ROWS = 32 -- one batch is enough to see what each layer does

local function statistics(t)
  local count = t.size
  return t:mean(), t:std(), t:min(), t:max(), count > 0 and t:eq(0):sum() / count or 0
end

-- model:trace(x [, {training=false}]): prints, for the input and after each layer, the
-- shape and the mean, standard deviation, minimum, maximum and fraction of zeros.
function methods.trace(model, x, options)
  if getmetatable(model) ~= Model then
    error('model:trace: expected a model; call it as model:trace(x)', 2)
  end
  if options ~= nil and type(options) ~= 'table' then
    error('model:trace: options must be a table such as {training=true}, got ' .. nn._typename(options), 2)
  end
  for key in pairs(options or {}) do
    if key ~= 'training' then
      error("model:trace: unknown option '" .. tostring(key) .. "'; valid options are: training", 2)
    end
  end
  local ok, input = pcall(nn.tensor, x)
  if not ok then error('model:trace: expected a batch of inputs (a tensor), got ' .. nn._typename(x), 2) end
  if input.ndim < 1 then
    error('model:trace: expected a batch of inputs, got a scalar (' .. tostring(x) .. ')', 2)
  end
  if #input == 0 then error('model:trace: expected a batch with at least one sample', 2) end
  if #input > TRACE_ROWS then input = input:slice(1, TRACE_ROWS) end
  input = input:astype('float32')
  if #model.layers == 0 then error('model:trace: the model has no layers yet', 2) end
  if not model.built then
    local shape = {-1}
    for i = 2, input.ndim do shape[#shape + 1] = input.shape[i] end
    model:build(shape)
  end
  local training = options and options.training or false
  local lines = {}
  local function row(name, t)
    local mean, std, min, max, zeros = statistics(t)
    -- string.format pads bytes; a name in CJK characters needs its cells counted.
    local padding = string.rep(' ', math.max(0, 30 - nn._plots.text_width(name)))
    lines[#lines + 1] = name .. padding .. string.format(' %-20s %9.4f %9.4f %9.4f %9.4f %6.1f%%',
                                                         tostring(t.shape), mean, std, min, max,
                                                         100 * zeros)
  end
  lines[1] = string.format('%-30s %-20s %9s %9s %9s %9s %7s', 'Layer (type)', 'Output shape',
                           'mean', 'std', 'min', 'max', 'zeros')
  lines[2] = string.rep('-', #lines[1])
  row('input', input)
  local y = input
  for _, layer in ipairs(model.layers) do
    y = layer(y, {training = training})
    row(string.format('%s (%s)', layer.name, layer.class_name), y)
  end
  print(table.concat(lines, '\n'))
end
