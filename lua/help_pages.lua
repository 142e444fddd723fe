-- The help pages: finding the text of a value (functions and modules by identity, nn
-- objects by class, names by search) and laying it out. Compiled on the first call to
-- help (see help.lua); the texts themselves are in help_texts.lua.
local nn = ...

local pages = {}

local WIDTH = 78

-- ---- the texts (lua/help_texts.lua, loaded on first use) ----

local entries -- path -> entry
local TOPICS  -- name -> text

-- ---- finding the entry of a value ----

local by_value -- value -> entry

-- The methods of a class: its metatable's methods table (userdata), or the __index
-- table (History).
local function class_methods(mt)
  if type(mt) ~= 'table' then return nil end
  local methods = rawget(mt, 'methods')
  if type(methods) ~= 'table' then methods = rawget(mt, '__index') end
  return type(methods) == 'table' and methods or nil
end

local function resolve_path(path)
  local registry = debug.getregistry()
  local class, method = path:match('^(nn%.%a+):([%w_]+)$')
  if class then
    local methods = class_methods(registry[class])
    return methods and methods[method] or nil
  end
  -- A class's metatable, except where the path is also its constructor (nn.Sequential).
  if registry[path] and path:match('^nn%.%u') and path ~= 'nn.Sequential' and path ~= 'nn.Input' then
    return registry[path]
  end
  local value = {nn = nn}
  for name in path:gmatch('[^.]+') do
    if type(value) ~= 'table' then return nil end
    value = rawget(value, name)
  end
  return value
end

local function ensure_entries()
  if entries then return end
  local texts = assert(nn._load_module('help_texts'))(nn)
  entries, TOPICS = texts.entries, texts.topics
  by_value = {}
  for path, entry in pairs(entries) do
    local value = resolve_path(path)
    if value ~= nil and (type(value) == 'function' or type(value) == 'table') then
      by_value[value] = by_value[value] or entry
    end
  end
end

-- The entry of a value: functions and modules by identity, nn objects by class.
local function entry_of(value)
  ensure_entries()
  local found = by_value[value]
  if found then return found end
  local mt = getmetatable(value)
  local class = type(mt) == 'table' and rawget(mt, '__name')
  if class == 'nn.Layer' then
    return entries['nn.layers.' .. value.class_name] or entries['nn.Layer']
  end
  if type(class) == 'string' and entries[class] then return entries[class] end
end

-- For completion: the entry (params) of a function, or nil.
function pages.doc(value)
  local entry = entry_of(value)
  if not entry or not entry.params then return nil end
  local options = {}
  for _, param in ipairs(entry.params) do
    if param.option then options[#options + 1] = {name = param[1], default = param.default} end
  end
  return {path = entry.path, params = options}
end

-- ---- writing ----

local function wrap(text, indent, width)
  local lines, line = {}, ''
  for word in text:gmatch('%S+') do
    if #line > 0 and indent + #line + 1 + #word > width then
      lines[#lines + 1] = line
      line = word
    else
      line = #line > 0 and line .. ' ' .. word or word
    end
  end
  if #line > 0 then lines[#lines + 1] = line end
  local pad = string.rep(' ', indent)
  for i, l in ipairs(lines) do lines[i] = pad .. l end
  return lines
end

local function add_wrapped(out, text, indent)
  for _, line in ipairs(wrap(text, indent, WIDTH)) do out[#out + 1] = line end
end

local function add_params(out, entry)
  if not entry.params or #entry.params == 0 then return end
  out[#out + 1] = ''
  if entry.layer then
    out[#out + 1] = entry.positional == 1
      and '  Arguments (the first may be given by position, all by name):'
      or string.format('  Arguments (the first %d may be given by position, all by name):',
                       entry.positional)
  else
    out[#out + 1] = '  Parameters:'
  end
  local left, widest = {}, 0
  for i, param in ipairs(entry.params) do
    local name = param[1]
    if param.required then
      left[i] = name .. ' (required)'
    elseif param.default then
      left[i] = name .. ' = ' .. param.default
    else
      left[i] = name
    end
    if #left[i] <= 30 then widest = math.max(widest, #left[i]) end
  end
  for i, param in ipairs(entry.params) do
    if param.section then
      out[#out + 1] = ''
      add_wrapped(out, param.section, 2)
    end
    local lines = wrap(param[2] or '', 6 + widest, WIDTH)
    if #left[i] > widest then
      out[#out + 1] = '    ' .. left[i]
    elseif #lines > 0 then
      local gap = string.rep(' ', widest - #left[i] + 2)
      lines[1] = '    ' .. left[i] .. gap .. lines[1]:sub(7 + widest)
    else
      lines[1] = '    ' .. left[i]
    end
    for _, line in ipairs(lines) do out[#out + 1] = line end
  end
end

local function add_example(out, example)
  if not example or example == '' then return end
  out[#out + 1] = ''
  out[#out + 1] = '  Example:'
  for line in (example .. '\n'):gmatch('(.-)\n') do out[#out + 1] = '    ' .. line end
end

-- The members of a module or the methods of a class, one line each.
local function add_members(out, title, members, prefix, separator)
  local names = {}
  for name in pairs(members) do
    if type(name) == 'string' and not name:match('^_') then names[#names + 1] = name end
  end
  if #names == 0 then return end
  table.sort(names)
  out[#out + 1] = ''
  out[#out + 1] = '  ' .. title .. ':'
  for _, name in ipairs(names) do
    local entry = entries[prefix .. separator .. name]
    local value = members[name]
    local text = entry and entry.text
    local summary = text and (text:match('^(.-)%.%s') or text:match('^(.-)%.?$')) or
      (type(value) == 'table' and 'a module' or '')
    local line = string.format('    %-24s %s', name, summary)
    if #line > WIDTH then line = line:sub(1, WIDTH - 3) .. '...' end
    out[#out + 1] = line
  end
end

-- The receivers the signatures are written with (model:fit, t:reshape): the class of each.
local RECEIVERS = {model = 'nn.Sequential', layer = 'nn.Layer', t = 'nn.Tensor',
                   history = 'nn.History'}
local RECEIVER_OF = {}
for receiver, class in pairs(RECEIVERS) do RECEIVER_OF[class] = receiver end

-- A class's fields, one line each, as its receiver spells them (model.optimizer).
local function add_fields(out, entry)
  if not entry.fields then return end
  local receiver = RECEIVER_OF[entry.class] or 'x'
  out[#out + 1] = ''
  local example = entry.fields[#entry.fields > 1 and 2 or 1][1]
  out[#out + 1] = string.format("  Fields (help '%s.%s' shows one):", receiver, example)
  local widest = 0
  for _, field in ipairs(entry.fields) do widest = math.max(widest, #field[1]) end
  for _, field in ipairs(entry.fields) do
    local lines = wrap(field[2], 6 + widest, WIDTH)
    lines[1] = string.format('    %-' .. widest .. 's  %s', field[1], lines[1]:sub(7 + widest))
    for _, line in ipairs(lines) do out[#out + 1] = line end
  end
end

-- The entry of one field of a class, as help 'model.optimizer' prints it.
local function field_entry(class_entry, receiver, name)
  for _, field in ipairs(class_entry.fields or {}) do
    if field[1] == name then
      return {path = class_entry.path .. '.' .. name, call = receiver .. '.' .. name,
              text = field[2]:sub(1, 1):upper() .. field[2]:sub(2) .. '. A field of ' ..
                     class_entry.path .. "; help '" .. class_entry.path .. "' lists the others."}
    end
  end
end

local function render(entry, value)
  local out = {}
  if entry.module then
    out[#out + 1] = entry.path
    add_wrapped(out, entry.text, 2)
    add_members(out, 'Members (help(' .. entry.path .. '.name) for each)',
                value or resolve_path(entry.path), entry.path, '.')
  else
    out[#out + 1] = entry.call
    add_wrapped(out, entry.text, 2)
    if entry.returns then out[#out + 1] = '  Returns: ' .. entry.returns end
    add_params(out, entry)
    add_fields(out, entry)
    local methods = entry.class and class_methods(debug.getregistry()[entry.class])
    if methods then
      add_members(out, 'Methods (help(x.name) for each)', methods, entry.class, ':')
    end
    add_example(out, entry.example)
  end
  return table.concat(out, '\n')
end

local function topic_list()
  ensure_entries()
  local layers = {}
  for _, class in ipairs(nn.layer_classes()) do
    layers[#layers + 1] = class.name .. (class.alias and ' (' .. class.alias .. ')' or '')
  end
  local out = {'nnsh help: help(x) documents any function, method, layer, model or tensor x;',
               "help 'name' finds a topic or function by name, e.g. help 'fit'.", ''}
  out[#out + 1] = '  Modules:  nn  nn.layers  nn.random  nn.datasets  nn.optimizers  nn.losses'
  out[#out + 1] = '            nn.metrics  nn.initializers  nn.regularizers  nn.constraints'
  out[#out + 1] = '            nn.callbacks  nn.config  nn.io  nn.models'
  -- Only nn.Sequential is a value; the other classes are pages, asked for by name.
  out[#out + 1] = "  Classes:  nn.Sequential  'nn.Tensor'  'nn.Layer'  'nn.History'  'nn.Shape'" ..
                  "  (help 'nn.Tensor')"
  -- the names start in the column of the lines above, two spaces apart
  local line, first = '  Layers:   ', true
  for _, name in ipairs(layers) do
    if not first and #line + #name + 2 > WIDTH then
      out[#out + 1] = line
      line, first = '            ', true
    end
    line = line .. (first and '' or '  ') .. name
    first = false
  end
  out[#out + 1] = line
  out[#out + 1] = "  Topics:   'shell' (cells, completion, %time %who %run %save %quit)"
  out[#out + 1] = "            'notebooks'  'indexing'  'shapes'  'activations'"
  return table.concat(out, '\n')
end

-- The entry a name spells other than by its path: a signature as help prints it
-- ('model:summary', or Keras' 'model.summary'), a path to a value with an entry under
-- another path ('nn.layers.MaxPool2D', 'nn.models.Sequential'), or nil.
local function entry_by_spelling(name)
  local receiver, method = name:match('^(%a+)[:.]([%w_]+)$')
  if receiver and RECEIVERS[receiver] then
    local entry = entries[RECEIVERS[receiver] .. ':' .. method]
    if entry then return entry end
    entry = field_entry(entries[RECEIVERS[receiver]], receiver, method)
    if entry then return entry end
  end
  if name:match('^nn[.:]') then
    local value = resolve_path(name)
    if type(value) == 'function' or type(value) == 'table' or type(value) == 'userdata' then
      return entry_of(value)
    end
  end
end

-- Finds entries by a name: exact path, a spelling of one (above), last component
-- ('Dense', 'fit', 'reshape'), or a layer's other name ('MaxPool2D', 'Convolution3D').
local function search(name)
  ensure_entries()
  if TOPICS[name] then return nil, TOPICS[name] end
  if entries[name] then return {entries[name]} end
  local spelled = entry_by_spelling(name)
  if spelled then return {spelled} end
  local found, lower = {}, name:lower()
  for path, entry in pairs(entries) do
    local last = path:match('[.:]([%w_]+)$')
    if last and last:lower() == lower then found[#found + 1] = entry end
  end
  for _, class in ipairs(nn.layer_classes()) do
    if class.alias and class.alias:lower() == lower then
      found[#found + 1] = entries['nn.layers.' .. class.name]
    end
  end
  table.sort(found, function(a, b) return a.path < b.path end)
  return found
end

local function write(text) print(text) end

-- For a name that is no entry: where it is used. First the entries it names in another
-- spelling (compile's 'sparse_categorical_crossentropy' is
-- nn.losses.SparseCategoricalCrossentropy), then paths that hold it ('mnist', 'conv'),
-- then the entries and topics whose text uses it. Returns the help names, best first.
local function mentions(name)
  local word = name:lower()
  local squashed = word:gsub('_', '')
  -- In running text only the whole word counts: 'conv' is not in "converts".
  local whole_word = '%f[%w_]' .. word:gsub('%W', '%%%0') .. '%f[^%w_]'

  local ranks, found = {}, {}
  local function add(help_name, rank)
    if not ranks[help_name] then found[#found + 1] = help_name end
    ranks[help_name] = math.min(ranks[help_name] or rank, rank)
  end
  for path, entry in pairs(entries) do
    local last = (path:match('[.:]([%w_]+)$') or path):lower()
    local text = ((entry.call or '') .. ' ' .. (entry.text or '')):lower()
    if last:gsub('_', '') == squashed then add(path, 1)
    elseif path:lower():find(word, 1, true) then add(path, 2)
    elseif text:find(whole_word) then add(path, 3) end
  end
  for topic, text in pairs(TOPICS) do
    if text:lower():find(whole_word) then add(topic, 3) end
  end
  table.sort(found, function(a, b)
    if ranks[a] ~= ranks[b] then return ranks[a] < ranks[b] end
    return a < b
  end)
  return found
end

local MOST_MENTIONS = 12

-- help(x): prints the documentation of x; help() lists the topics.
function pages.help(...)
  if select('#', ...) == 0 then return write(topic_list()) end
  local value = ...
  if type(value) == 'string' then
    local found, topic = search((value:gsub('^%%', '')) == value and value or 'shell')
    if topic then return write(topic) end
    if #found == 1 then return write(render(found[1])) end
    if #found > 1 then
      local lines = {string.format("'%s' is in several places; ask for one of them, e.g. help '%s':",
                                   value, found[1].path)}
      for _, entry in ipairs(found) do lines[#lines + 1] = '  ' .. entry.path end
      return write(table.concat(lines, '\n'))
    end
    local receiver = value:match('^(%a+)[:.][%w_]+$')
    if receiver and RECEIVERS[receiver] then
      return write(string.format("no help for '%s': %s has no such method or field; help '%s' lists them",
                                 value, RECEIVERS[receiver], RECEIVERS[receiver]))
    end
    local related = #value >= 3 and mentions(value) or {}
    if #related > 0 then
      local lines = {string.format("no entry named '%s'; these mention it:", value)}
      for i = 1, math.min(#related, MOST_MENTIONS) do
        lines[#lines + 1] = string.format("  help '%s'", related[i])
      end
      if #related > MOST_MENTIONS then
        lines[#lines + 1] = string.format('  ... and %d more', #related - MOST_MENTIONS)
      end
      return write(table.concat(lines, '\n'))
    end
    -- A slip of a letter or two: the entry or topic it most likely meant.
    local names, seen = {}, {}
    local function offer(name)
      if not seen[name] then seen[name] = true; names[#names + 1] = name end
    end
    for path in pairs(entries) do offer(path:match('[.:]([%w_]+)$') or path) end
    for topic in pairs(TOPICS) do offer(topic) end
    return write(string.format("no help for '%s'%s; help() lists the topics", value,
                               nn._did_you_mean(value, names)))
  end
  local entry = entry_of(value)
  if entry then return write(render(entry, value)) end
  -- A value that is a field of a class (model.optimizer) names the field in its __name.
  local mt = getmetatable(value)
  local name = type(mt) == 'table' and rawget(mt, '__name')
  local receiver = type(name) == 'string' and name:match('^(%a+)%.[%w_]+$')
  if receiver and RECEIVERS[receiver] then return pages.help(name) end
  if type(value) == 'table' and getmetatable(value) == nil then
    return write('a table; help(x) knows nn\'s functions, modules, layers, models and tensors')
  end
  if value == nil then
    return write("no help for nil: what was given is nil (a name nothing defines?); a class's " ..
                 "page is asked for by name, as help 'nn.Tensor'; help() lists the topics")
  end
  write(string.format('no help for this %s; help() lists the topics', type(value)))
end

-- For tests: every documented path with its example (so the examples can be run).
function pages.examples()
  ensure_entries()
  local list = {}
  for path, entry in pairs(entries) do
    if entry.example and not entry.from_engine then
      list[#list + 1] = {path = path, example = entry.example, touches_files = entry.touches_files,
                         found = resolve_path(path) ~= nil}
    end
  end
  table.sort(list, function(a, b) return a.path < b.path end)
  return list
end

return pages
