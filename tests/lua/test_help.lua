-- help(x): every function, method and module of nn has a text, every example in the
-- texts runs, and completion finds argument names through the same texts.
local t = require 'harness'

local function help_text(...)
  local arguments = table.pack(...)
  return t.capture(function() help(table.unpack(arguments, 1, arguments.n)) end)
end

-- Every function and module reachable from nn, and every method of nn's classes.
local function public_values()
  local found, seen = {}, {}
  local function walk(value, path)
    if seen[value] then return end
    seen[value] = true
    found[#found + 1] = {path = path, value = value}
    if type(value) == 'table' then
      for key, member in pairs(value) do
        if type(key) == 'string' and not key:match('^_') and
           (type(member) == 'function' or type(member) == 'table') then
          walk(member, path .. '.' .. key)
        end
      end
    end
  end
  walk(nn, 'nn')
  local registry = debug.getregistry()
  for _, class in ipairs{'nn.Tensor', 'nn.Layer', 'nn.Sequential'} do
    for name, method in pairs(registry[class].methods) do
      found[#found + 1] = {path = class .. ':' .. name, value = method}
    end
  end
  return found
end

t.test('help() lists the topics', function()
  local text = help_text()
  t.truthy(text:find('nn.layers', 1, true), 'modules listed')
  t.truthy(text:find("'shell'", 1, true), 'the shell topic listed')
  t.truthy(text:find('Dense', 1, true), 'layers listed')
end)

t.test('every nn function, module and method has a help text', function()
  local missing = {}
  for _, item in ipairs(public_values()) do
    if help_text(item.value):match('^no help') then missing[#missing + 1] = item.path end
  end
  table.sort(missing)
  t.eq(table.concat(missing, ', '), '', 'undocumented')
end)

t.test('a layer constructor shows its signature, every argument with default and meaning, an example', function()
  local text = help_text(nn.layers.Dense)
  t.truthy(text:find('nn.layers.Dense{units, activation, use_bias=true, ...}', 1, true), 'signature')
  t.truthy(text:find('units (required)', 1, true), 'required argument')
  t.truthy(text:find("kernel_initializer = 'glorot_uniform'", 1, true), 'default in Lua form')
  t.truthy(text:find('Dimensionality of the output space', 1, true), 'meaning from the engine')
  t.truthy(text:find('Example:', 1, true), 'example')
  for _, class in ipairs(nn.layer_classes()) do
    local each = help_text(nn.layers[class.name])
    for _, arg in ipairs(class.args) do
      t.truthy(each:find(arg.name, 1, true), class.name .. ' documents ' .. arg.name)
    end
  end
end)

t.test('help of a method, an object and a name', function()
  local x = nn.zeros(2, 3)
  t.truthy(help_text(x.reshape):find('t:reshape(d1, d2, ...)', 1, true), 'method through a tensor')
  t.truthy(help_text(x):find('Methods', 1, true), 'a tensor shows its class and methods')
  local layer = nn.layers.Dense{3}
  t.truthy(help_text(layer):find('nn.layers.Dense{', 1, true), 'a layer shows its constructor')
  t.truthy(help_text('fit'):find('model:fit(x, y', 1, true), "help 'fit'")
  t.truthy(help_text('%save'):find('%save [-f] FILE', 1, true), "help '%save' shows the shell topic")
  t.truthy(help_text('no_such_thing'):match("^no help for 'no_such_thing'"), 'unknown name')
  t.truthy(help_text(42):match('^no help'), 'a number')
end)

t.test('a name that is no entry lists where it is used, the entry it spells first', function()
  local text = help_text('binary_accuracy')
  t.truthy(text:match("^no entry named 'binary_accuracy'; these mention it:\n" ..
                      "  help 'nn.metrics.BinaryAccuracy'\n"), text)
  -- a loss's Keras name is an entry of its own: its per-sample function
  text = help_text('sparse_categorical_crossentropy')
  t.truthy(text:match('^nn%.losses%.sparse_categorical_crossentropy%(y_true, y_pred'), text)
  text = help_text('mnist')
  t.truthy(text:find("  help 'nn.datasets.mnist.load_data'\n", 1, true), text)
  text = help_text('conv')
  t.truthy(text:find("  help 'nn.layers.Conv2D'\n", 1, true), text)
  t.truthy(not text:find('astype', 1, true), "text counts whole words only: not 'converts'")
  text = help_text('axis')
  t.truthy(text:match('  %.%.%. and %d+ more\n?$'), 'at most a dozen are listed: ' .. text)
  t.truthy(help_text('no_such_thing'):match("^no help for 'no_such_thing'"), 'nothing uses it')
  -- help(nn.Tensor) gets nil: the class's page is asked for by name.
  t.eq(help_text(nil), "no help for nil: what was given is nil (a name nothing defines?); a " ..
       "class's page is asked for by name, as help 'nn.Tensor'; help() lists the topics\n")
  t.truthy(help_text():find("Classes:  nn.Sequential  'nn.Tensor'", 1, true), 'the topics quote the class pages')
  t.eq(help_text('Dropuot'), "no help for 'Dropuot' (did you mean 'Dropout'?); help() lists the topics\n",
       'a slip of two letters')
  t.eq(help_text('Sequentail'), "no help for 'Sequentail' (did you mean 'Sequential'?); help() lists the topics\n")
end)

t.test("help by name finds a layer's other name, a full path and the model:method spellings", function()
  for _, class in ipairs(nn.layer_classes()) do
    if class.alias then
      local expected = help_text(nn.layers[class.name])
      t.eq(help_text(class.alias), expected, "help '" .. class.alias .. "'")
      t.eq(help_text('nn.layers.' .. class.alias), expected, "help 'nn.layers." .. class.alias .. "'")
      t.eq(help_text(class.alias:lower()), expected, "help '" .. class.alias:lower() .. "'")
    end
  end
  t.truthy(help_text('MaxPool2D'):match('^nn%.layers%.MaxPooling2D{'), "help 'MaxPool2D'")
  t.truthy(help_text('Convolution3D'):match('^nn%.layers%.Conv3D{'), "help 'Convolution3D'")
  t.eq(help_text('nn.models.Sequential'), help_text(nn.Sequential), "help 'nn.models.Sequential'")
  -- Every method, asked for as help prints its signature (model:fit) and as Keras writes it (model.fit).
  local registry = debug.getregistry()
  for receiver, class in pairs{model = 'nn.Sequential', layer = 'nn.Layer', t = 'nn.Tensor'} do
    for name, method in pairs(registry[class].methods) do
      if not name:match('^_') then
        local expected = help_text(method)
        t.eq(help_text(receiver .. ':' .. name), expected, "help '" .. receiver .. ':' .. name .. "'")
        t.eq(help_text(receiver .. '.' .. name), expected, "help '" .. receiver .. '.' .. name .. "'")
      end
    end
  end
  t.truthy(help_text('model:summary'):match('^model:summary%('), "help 'model:summary'")
  t.truthy(help_text('history:plot'):match('^history:plot{'), "help 'history:plot'")
  t.truthy(help_text('model:fitt'):match("^no help for 'model:fitt': nn.Sequential has no such method or field"),
           'an unknown method names the class')
  t.truthy(help_text('nn.layers.NoSuchLayer'):match("^no help for 'nn.layers.NoSuchLayer'"), 'an unknown path')
end)

t.test('help finds the fields of models, layers, tensors and histories, and each is real', function()
  t.eq(help_text('model.optimizer'):match('^[^\n]*'), 'model.optimizer', "help 'model.optimizer'")
  t.truthy(help_text('model.optimizer'):find("get_config", 1, true), 'the field is described')
  t.truthy(help_text('model.optimizer'):find('A%s+field%s+of%s+nn%.Sequential'), 'and its class named')
  t.eq(help_text('model:learning_rate'), help_text('model.learning_rate'), 'either separator')
  -- The values themselves find the same pages.
  local model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  t.eq(help_text(model.optimizer), help_text('model.optimizer'), 'help(model.optimizer)')
  t.eq(help_text(nn.optimizers.Adam{learning_rate = 0.1}), help_text(nn.optimizers.Adam),
       'an optimizer object finds its constructor')
  t.eq(help_text(nn.losses.Huber{}), help_text(nn.losses.Huber), 'a loss object')
  t.eq(help_text(nn.initializers.Constant{0.5}), help_text(nn.initializers.Constant),
       'an initializer object')
  t.truthy(help_text('nn.Sequential'):find('\n    optimizer%s+the optimizer'), 'the class page lists it')
  t.truthy(help_text('t.T'):find('transpose', 1, true), "help 't.T'")
  t.truthy(help_text('history.epoch'):find('counted from 0', 1, true), "help 'history.epoch'")
  t.truthy(help_text('layer.kernel'):find('main weight', 1, true), "help 'layer.kernel'")
  t.truthy(help_text('model.nothing'):match("^no help for 'model.nothing': nn.Sequential has no such method or field"),
           'an unknown field names the class')
  -- The page and message send the reader to the class's page; what they say to type
  -- must show it (nn.Layer, nn.Tensor and nn.History are names of pages, not values).
  for _, topic in ipairs{'model.optimizer', 'layer.kernel', 't.T', 'history.epoch', 'layer.nothing'} do
    local text = help_text(topic):gsub('%s+', ' ')
    local advice = text:match("(help '[^']+') lists") or text:match('(help%([^)]+%)) lists')
    t.truthy(advice, topic .. ' names a page to read')
    local page = help_text(load('return ' .. advice:match('^help *(.*)$'))())
    t.truthy(page:match('^nn%.%a+'), topic .. ': ' .. advice .. ' shows the class page, got ' .. page:sub(1, 60))
  end
  -- Every documented field exists on a built, compiled, trained object.
  local model = nn.Sequential{nn.layers.Dense{2, input_shape = {3}}}
  model:compile{optimizer = 'adam', loss = 'mse'}
  local history = model:fit(nn.ones(4, 3), nn.ones(4, 2), {epochs = 2, verbose = 0})
  local objects = {['nn.Sequential'] = model, ['nn.Layer'] = model.layers[1],
                   -- a weight: it has the fields every tensor has, and those of weights
                   ['nn.Tensor'] = model.weights[1], ['nn.History'] = history}
  local counted = 0
  for class, object in pairs(objects) do
    local page = help_text(class)
    local fields = page:match('Fields %b():\n(.-)\n\n')
    t.truthy(fields, class .. ' lists its fields')
    for name in fields:gmatch('\n?    ([%w_]+)  ') do
      counted = counted + 1
      t.truthy(object[name] ~= nil, class .. ' has the documented field ' .. name)
    end
  end
  t.truthy(counted >= 38, 'the fields were read from the pages (' .. counted .. ')')
end)

-- Runs an example as the shell would: line by line, a line that does not complete a
-- statement waits for the next, an expression is evaluated.
local function run_example(example, env)
  local pending = ''
  for line in (example .. '\n'):gmatch('(.-)\n') do
    line = line:gsub('%-%->.*$', '') -- "--> (2, 3)" notes the expected result
    pending = pending == '' and line or pending .. '\n' .. line
    local chunk = load('return ' .. pending, '=example', 't', env)
    local err
    if not chunk then chunk, err = load(pending, '=example', 't', env) end
    if chunk then
      chunk()
      pending = ''
    elseif not err:match('<eof>$') then
      error(err)
    end
  end
  if pending:match('%S') then error('unfinished example: ' .. pending) end
end

-- Examples that read data sets or write files are left out.
t.test('every example in the help texts runs', function()
  local failures = {}
  for _, item in ipairs(nn._help_examples()) do
    if item.found and not item.touches_files then
      nn.random.seed(1)
      local env = setmetatable({}, {__index = _G})
      env.model = nn.Sequential{nn.layers.Dense{3, activation = 'softmax', input_shape = {4}}}
      env.model:compile{optimizer = 'sgd', loss = 'sparse_categorical_crossentropy', metrics = {'accuracy'}}
      env.x_train, env.y_train = nn.random.randn(64, 4), nn.random.randint(0, 3, 64)
      env.x_test, env.y_test = nn.random.randn(8, 4), nn.random.randint(0, 3, 8)
      local ok, err = pcall(function()
        t.capture(function()
          env.history = env.model:fit(env.x_train, env.y_train,
                                      {epochs = 1, validation_split = 0.25, verbose = 0})
          run_example(item.example, env)
        end)
      end)
      if not ok then failures[#failures + 1] = item.path .. ': ' .. tostring(err) end
    end
  end
  t.eq(table.concat(failures, '\n'), '', 'failing examples')
end)

t.test('argument names for completion come from the help texts', function()
  local names = {}
  for _, param in ipairs(nn._doc(nn.layers.Dense).params) do names[param.name] = true end
  t.truthy(names.units and names.use_bias and names.input_shape, 'Dense arguments')
  names = {}
  local fit = debug.getregistry()['nn.Sequential'].methods.fit
  for _, param in ipairs(nn._doc(fit).params) do names[param.name] = true end
  t.truthy(names.epochs and names.batch_size and names.validation_split, 'fit options')
  t.truthy(not names.x, 'positional arguments are not options')
end)

t.test('model:trace prints shape and statistics after each layer', function()
  nn.random.seed(3)
  local model = nn.Sequential{nn.layers.Dense{8, activation = 'relu', input_shape = {4}},
                              nn.layers.Dense{2}}
  local text = t.capture(function() model:trace(nn.random.randn(40, 4)) end)
  t.truthy(text:find('input%s+%(32, 4%)'), 'the input, cut to one batch of 32')
  t.truthy(text:find('dense %(Dense%)%s+%(32, 8%)'), 'the first layer')
  t.truthy(text:find('dense_1 %(Dense%)%s+%(32, 2%)'), 'the second layer')
  t.truthy(text:find('zeros', 1, true), 'the zeros column')
  t.raises(function() model:trace(nn.random.randn(4, 4), {train = true}) end, "unknown option 'train'")
  t.raises(function() model:trace('x') end, 'model:trace')
  local unbuilt = nn.Sequential{nn.layers.Dense{3}}
  t.truthy(t.capture(function() unbuilt:trace(nn.random.randn(2, 5)) end):find('(2, 3)', 1, true),
           'an unbuilt model is built from the batch')
end)

t.finish()
