-- The Lua half of the shell: how values print, what Tab offers, what %who lists.
-- Loaded by repl/session.c when a shell or notebook session starts; receives the
-- session environment (the table that holds the user's variables).
local env = ...
local nn = nn
-- Terminal cells of a string (CJK characters take two) and its longest start that fits.
local text_width, text_cut = nn._plots.text_width, nn._plots.text_cut

local shell = {}

local WIDTH = 80        -- a table that fits on one line of this width stays on one line
local MAX_DEPTH = 4     -- deeper tables print as {...}
local MAX_ITEMS = 40    -- entries shown per table
local MAX_STRING = 1000 -- characters of a string shown at the top level
local MAX_NESTED_STRING = 120

-- ---- names of nn's functions (for printing functions) ----

local function_names
local function name_of_function(f)
  if not function_names then
    function_names = {}
    local function walk(t, prefix, separator, depth)
      for key, value in pairs(t) do
        if type(key) == 'string' then
          local path = prefix .. separator .. key
          if type(value) == 'function' and not function_names[value] then
            function_names[value] = path
          elseif type(value) == 'table' and depth < 3 and key ~= '_G' then
            walk(value, path, '.', depth + 1)
          end
        end
      end
    end
    for key, value in pairs(nn) do
      if type(key) == 'string' and type(value) == 'function' then
        function_names[value] = 'nn.' .. key
      elseif type(key) == 'string' and type(value) == 'table' then
        walk(value, 'nn.' .. key, '.', 1)
      end
    end
    for _, library in ipairs{'string', 'table', 'math', 'io', 'os', 'utf8', 'coroutine', 'debug'} do
      if type(_G[library]) == 'table' then walk(_G[library], library, '.', 3) end
    end
    for key, value in pairs(_G) do
      if type(value) == 'function' and not function_names[value] then
        function_names[value] = key
      end
    end
    local registry = debug.getregistry()
    for _, class in ipairs{'nn.Tensor', 'nn.Layer', 'nn.Sequential', 'nn.History'} do
      local methods = registry[class] and rawget(registry[class], 'methods')
      if type(methods) == 'table' then walk(methods, class, ':', 3) end
    end
  end
  return function_names[f]
end

-- ---- showing values ----

-- The first `limit` bytes of s, less the start of a UTF-8 character cut in half.
local function cut_bytes(s, limit)
  while limit > 0 and ((s:byte(limit + 1) or 0) & 0xC0) == 0x80 do limit = limit - 1 end
  return s:sub(1, limit)
end

local function quote(s, limit)
  local shown = s
  if #s > limit then shown = cut_bytes(s, limit) end
  shown = shown:gsub('[%c"\\]', function(c)
    if c == '\n' then return '\\n' elseif c == '\t' then return '\\t'
    elseif c == '"' then return '\\"' elseif c == '\\' then return '\\\\' end
    return string.format('\\%03d', c:byte())
  end)
  if #s > limit then
    return string.format('"%s..." (%d bytes)', shown, #s)
  end
  return '"' .. shown .. '"'
end

local function is_identifier(s)
  return type(s) == 'string' and s:match('^[%a_][%w_]*$') ~= nil and not ({
    ['and'] = 1, ['break'] = 1, ['do'] = 1, ['else'] = 1, ['elseif'] = 1, ['end'] = 1,
    ['false'] = 1, ['for'] = 1, ['function'] = 1, ['goto'] = 1, ['if'] = 1, ['in'] = 1,
    ['local'] = 1, ['nil'] = 1, ['not'] = 1, ['or'] = 1, ['repeat'] = 1, ['return'] = 1,
    ['then'] = 1, ['true'] = 1, ['until'] = 1, ['while'] = 1,
  })[s]
end

local function has_tostring(value)
  local mt = getmetatable(value)
  return type(mt) == 'table' and rawget(mt, '__tostring') ~= nil
end

local function show_function(f)
  local name = name_of_function(f)
  if name then return 'function ' .. name end
  local info = debug.getinfo(f, 'S')
  if info.what == 'C' then return 'function (built in)' end -- its address would vary
  return string.format('function defined at %s:%d', info.short_src, info.linedefined)
end

-- A tensor's text from the binding, with the device always named.
local function show_tensor(t)
  local text = tostring(t)
  if not text:find('device=', 1, true) then
    text = text:gsub('%)$', ', device=' .. t.device .. ')')
  end
  return text
end

local show_table

local function show_value(value, indent, depth, seen, nested)
  local kind = type(value)
  if kind == 'string' then
    return quote(value, nested and MAX_NESTED_STRING or MAX_STRING)
  elseif kind == 'function' then
    return show_function(value)
  elseif kind == 'userdata' and getmetatable(value) == debug.getregistry()['nn.Tensor'] then
    return show_tensor(value)
  elseif has_tostring(value) then
    return tostring(value)
  elseif kind == 'table' then
    return show_table(value, indent, depth, seen)
  end
  return tostring(value)
end

local function key_order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta == 'number' end
  if ta == 'number' or ta == 'string' then return a < b end
  return tostring(a) < tostring(b)
end

function show_table(t, indent, depth, seen)
  if seen[t] then return '{...} (this table again)' end
  if depth >= MAX_DEPTH then
    return next(t) == nil and '{}' or '{...}'
  end
  seen[t] = true
  local items, count = {}, 0
  local function add(text)
    count = count + 1
    if count <= MAX_ITEMS then items[#items + 1] = text end
  end
  local length = 0
  while rawget(t, length + 1) ~= nil do length = length + 1 end
  for i = 1, length do
    add(show_value(rawget(t, i), indent + 2, depth + 1, seen, true))
  end
  local keys = {}
  for key in next, t do
    if not (math.type(key) == 'integer' and key >= 1 and key <= length) then
      keys[#keys + 1] = key
    end
  end
  table.sort(keys, key_order)
  for _, key in ipairs(keys) do
    local name = is_identifier(key) and key
      or '[' .. show_value(key, indent + 2, MAX_DEPTH, seen, true) .. ']'
    add(name .. ' = ' .. show_value(rawget(t, key), indent + 2, depth + 1, seen, true))
  end
  seen[t] = nil
  if count > MAX_ITEMS then
    items[#items + 1] = string.format('... (%d more)', count - MAX_ITEMS)
  end
  if #items == 0 then return '{}' end
  local one_line = '{' .. table.concat(items, ', ') .. '}'
  if indent + #one_line <= WIDTH and not one_line:find('\n', 1, true) then
    return one_line
  end
  local pad = string.rep(' ', indent + 2)
  -- Short items share lines, as many as fit; long or multi-line ones get a line each.
  local lines, line = {}, nil
  for _, item in ipairs(items) do
    local short = #item <= 24 and not item:find('\n', 1, true)
    if line and short and #line + 2 + #item <= WIDTH - indent - 2 then
      line = line .. ', ' .. item
    else
      if line then lines[#lines + 1] = line end
      line = item
    end
    if not short then lines[#lines + 1] = line; line = nil end
  end
  if line then lines[#lines + 1] = line end
  return '{\n' .. pad .. table.concat(lines, ',\n' .. pad) .. '\n' .. string.rep(' ', indent) .. '}'
end

-- The text of one value as the shell prints it.
function shell.show(value)
  return show_value(value, 0, 0, {}, false)
end

-- The text of a cell's values: on one line when each is short, else one per line.
function shell.show_results(...)
  local parts, multiline = {}, false
  for i = 1, select('#', ...) do
    parts[i] = shell.show((select(i, ...)))
    multiline = multiline or parts[i]:find('\n', 1, true) ~= nil
  end
  local joined = table.concat(parts, ', ')
  if multiline or #joined > WIDTH then return table.concat(parts, '\n') end
  return joined
end

-- ---- %who ----

local HIDDEN = {_ = true, In = true, Out = true}
local NAME_COLUMN = 24 -- a longer name gets a line of its own above its type and value

local function describe(value)
  local kind = type(value)
  local mt = getmetatable(value)
  local class = type(mt) == 'table' and rawget(mt, '__name')
  if class == 'nn.Tensor' then
    return class, string.format('%s %s', tostring(value.shape), value.dtype)
  elseif kind == 'table' and not has_tostring(value) then
    local n = 0
    for _ in pairs(value) do n = n + 1 end
    return 'table', string.format('%d entr%s', n, n == 1 and 'y' or 'ies')
  end
  local text = shell.show(value):gsub('\n.*', ' ...')
  return type(class) == 'string' and class or kind, text
end

-- The session's variables, one per line: name, type, a short description. With type
-- names (%who Tensor string), only variables of those types, as IPython's %who; a name
-- matches the type itself or nn.<name> (Tensor, Sequential, Layer).
function shell.who(...)
  local wanted = {}
  for _, kind in ipairs{...} do
    wanted[kind], wanted['nn.' .. kind] = true, true
  end
  local filtered = next(wanted) ~= nil
  local names = {}
  for name in next, env do
    if type(name) == 'string' and not HIDDEN[name] then names[#names + 1] = name end
  end
  if #names == 0 then return 'no variables yet\n' end
  table.sort(names)
  -- Columns are measured in terminal cells, so names and strings in CJK line up.
  local width, cut = text_width, text_cut
  local rows, name_width, type_width = {}, 4, 4
  for _, name in ipairs(names) do
    local value = rawget(env, name)
    -- A value whose __tostring or __pairs fails is marked; the others are still listed.
    local ok, kind, text = pcall(describe, value)
    if not ok then
      local message = type(kind) == 'string' and kind:gsub('\n.*', '') or type(kind)
      local mt = getmetatable(value)
      local class = type(mt) == 'table' and rawget(mt, '__name')
      kind = type(class) == 'string' and class or type(value)
      text = '(cannot show the value: ' .. message .. ')'
    end
    if not filtered or wanted[kind] then
      rows[#rows + 1] = {name, kind, text}
      if width(name) <= NAME_COLUMN then name_width = math.max(name_width, width(name)) end
      type_width = math.max(type_width, width(kind))
    end
  end
  if #rows == 0 then
    return 'no variables of type ' .. table.concat({...}, ' or ') .. '\n'
  end
  local function row_line(name, kind, text)
    local line = name .. string.rep(' ', name_width - width(name) + 2) ..
                 kind .. string.rep(' ', type_width - width(kind) + 2) .. text
    if width(line) > 100 then line = cut(line, 97) .. '...' end
    return line
  end
  local lines = {row_line('name', 'type', 'value')}
  for _, row in ipairs(rows) do
    if width(row[1]) > name_width then
      lines[#lines + 1] = row[1]
      row[1] = ''
    end
    lines[#lines + 1] = row_line(row[1], row[2], row[3])
  end
  return table.concat(lines, '\n') .. '\n'
end

-- ---- completion ----

local KEYWORDS = {
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if',
  'in', 'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
}

-- Fields of nn's userdata that their __index functions compute (not enumerable).
local CLASS_FIELDS = {
  ['nn.Tensor'] = {'shape', 'dtype', 'device', 'ndim', 'size'},
  ['nn.Layer'] = {'name', 'class_name', 'built', 'trainable', 'input_shape', 'output_shape',
                  'explanation', 'weights', 'trainable_weights', 'non_trainable_weights'},
  ['nn.Sequential'] = {'name', 'layers', 'built', 'compiled', 'input_shape', 'output_shape',
                       'loss', 'metrics_names', 'optimizer', 'history', 'stop_training'},
}
local LAYER_WEIGHTS = {'kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance'}

local function nn_class(value)
  local mt = getmetatable(value)
  local name = type(mt) == 'table' and rawget(mt, '__name')
  if type(name) == 'string' and debug.getregistry()[name] == mt then return name end
end

-- value[key] without running code that could change anything: tables are read raw
-- (following __index tables), nn's own userdata through their __index.
-- A view whose metatable says reading it changes nothing (model.optimizer).
local function readable_view(value)
  local mt = getmetatable(value)
  return type(value) == 'table' and type(mt) == 'table' and rawget(mt, '__nn_readable') == true
end

local function field(value, key, depth)
  depth = depth or 0
  if depth > 8 then return nil end
  local kind = type(value)
  if readable_view(value) then
    local ok, found = pcall(function() return value[key] end)
    return ok and found or nil
  end
  if kind == 'table' then
    local found = rawget(value, key)
    if found ~= nil then return found end
  elseif kind ~= 'userdata' and kind ~= 'string' then
    return nil
  end
  local mt = getmetatable(value)
  local index = type(mt) == 'table' and rawget(mt, '__index')
  if type(index) == 'table' then return field(index, key, depth + 1) end
  if type(index) == 'function' and nn_class(value) then
    local ok, found = pcall(index, value, key)
    if ok then return found end
  end
end

-- Adds to names every field a value offers: table keys, __index tables, nn's methods
-- and computed fields.
local function collect_fields(value, names, depth)
  depth = depth or 0
  if depth > 8 then return end
  if readable_view(value) then
    for key, found in pairs(value) do
      if is_identifier(key) and names[key] == nil then names[key] = found end
    end
    if field(value, 'get_config') then names.get_config = field(value, 'get_config') end
    return
  end
  if type(value) == 'table' then
    for key, found in next, value do
      if is_identifier(key) and names[key] == nil then names[key] = found end
    end
  end
  local mt = getmetatable(value)
  if type(mt) ~= 'table' then return end
  local index = rawget(mt, '__index')
  if type(index) == 'table' then collect_fields(index, names, depth + 1) end
  local class = nn_class(value)
  if not class then return end
  local methods = rawget(mt, 'methods')
  if type(methods) == 'table' then collect_fields(methods, names, depth + 1) end
  for _, key in ipairs(CLASS_FIELDS[class] or {}) do
    if names[key] == nil then names[key] = false end
  end
  if class == 'nn.Layer' then
    local ok, config = pcall(field(value, 'get_config'), value)
    if ok then for key in pairs(config) do if names[key] == nil then names[key] = false end end end
    for _, key in ipairs(LAYER_WEIGHTS) do
      if names[key] == nil and field(value, key) ~= nil then names[key] = false end
    end
  end
end

-- Resolves "a.b.c", "a.b:c" or "a.list[2].c" (whole-number indices only: nothing is
-- evaluated) in the session; nil when any step is missing or the path is something else.
local function resolve(path)
  local name, position = path:match('^%s*([%a_][%w_]*)%s*()')
  if not name then return nil end
  local value = env[name]
  while value ~= nil and position <= #path do
    local key, after = path:match('^[.:]%s*([%a_][%w_]*)%s*()', position)
    if not key then
      local number
      number, after = path:match('^%[%s*(%-?%d+)%s*%]%s*()', position)
      key = number and math.tointeger(tonumber(number))
    end
    if not key then return nil end
    value, position = field(value, key), after
  end
  return value
end

-- Names starting with _ are private (nn._plots, _ENV): offered only once the _ is typed,
-- as IPython does.
local function add_matching(candidates, seen, prefix, names, only_functions, text)
  for name, value in pairs(names) do
    local hidden = name:sub(1, 1) == '_' and prefix:sub(1, 1) ~= '_'
    if not hidden and name:sub(1, #prefix) == prefix and
       (not only_functions or type(value) == 'function') then
      local candidate = text .. name
      if not seen[candidate] then
        seen[candidate] = true
        candidates[#candidates + 1] = candidate
      end
    end
  end
end

-- Names of the options a function takes in its table argument (layer arguments, fit's
-- options), from the help texts.
local function option_names(f)
  local doc = nn._doc and nn._doc(f)
  local names = {}
  for _, param in ipairs(doc and doc.params or {}) do
    for name in param.name:gmatch('[%a_][%w_]*') do names[#names + 1] = name end
  end
  return names
end

-- Candidates for the word before the cursor. callee, when the cursor sits where an
-- argument name may go in `f{...}` or `f(x, {...})`, is the text of f.
function shell.complete(word, callee)
  local candidates, seen = {}, {}
  if callee then
    local f = resolve(callee)
    if f ~= nil then
      for _, name in ipairs(option_names(f)) do
        local candidate = name .. '='
        if name:sub(1, #word) == word and not seen[candidate] then
          seen[candidate] = true
          candidates[#candidates + 1] = candidate
        end
      end
    end
  end
  local head, separator, prefix = word:match('^(.-)([.:])([%w_]*)$')
  if head then
    local value = resolve(head)
    if value == nil then return candidates end
    local names = {}
    collect_fields(value, names)
    add_matching(candidates, seen, prefix, names, separator == ':', head .. separator)
    return candidates
  end
  local names = {}
  for key, value in next, env do if is_identifier(key) then names[key] = value end end
  for key, value in pairs(_G) do if is_identifier(key) then names[key] = value end end
  for _, keyword in ipairs(KEYWORDS) do names[keyword] = true end
  add_matching(candidates, seen, word, names, false, '')
  return candidates
end

-- Options outside the layer constructors that take a name from one of the engine's lists
-- (nn._accepted_names): compile's, metrics and weighted_metrics entry by entry.
local OPTION_NAME_LISTS = {
  optimizer = 'optimizer', loss = 'loss', metrics = 'metric', weighted_metrics = 'metric',
}

-- Options whose few names are fixed by the functions that check them: the callbacks'
-- mode= (nn/callbacks.lua check_mode) and summary's layout= (lua_model.c).
local OPTION_FIXED_NAMES = {
  mode = {'auto', 'min', 'max'}, layout = {'box', 'keras'},
}

-- The names a function's option takes: a layer argument's choices (none for one that
-- takes no name, such as name=), or the engine's list for an option the function's help
-- documents; nil when they are not known (a file path may go there).
local function option_value_names(f, option)
  for _, class in ipairs(nn.layer_classes()) do
    if nn.layers[class.name] == f then
      for _, arg in ipairs(class.args) do
        if arg.name == option then return arg.choices or {} end
      end
      return nil
    end
  end
  local list, fixed = OPTION_NAME_LISTS[option], OPTION_FIXED_NAMES[option]
  if not list and not fixed then return nil end
  for _, name in ipairs(option_names(f)) do
    if name == option then return fixed or nn._accepted_names()[list] end
  end
end

-- Candidates for a string value of an argument given by name (padding='s, loss='sparse_c,
-- metrics={'acc): the names that argument takes, or nil when they are not known.
function shell.complete_value(word, callee, option)
  local f = resolve(callee)
  if f == nil then return nil end
  local names = option_value_names(f, option)
  if not names then return nil end
  local candidates = {}
  for _, name in ipairs(names) do
    if name:sub(1, #word) == word then candidates[#candidates + 1] = name end
  end
  return candidates
end

return shell
