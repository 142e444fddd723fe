-- A small test harness for Lua tests run by nnsh: test(name, fn), expectations that
-- print expected and actual, and an exit status CTest understands.
local harness = {passed = 0, failed = 0, failures = {}}

local function describe(value)
  if type(value) == 'string' then return string.format('%q', value) end
  return tostring(value)
end

function harness.test(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    harness.passed = harness.passed + 1
    io.write('PASS  ', name, '\n')
  else
    harness.failed = harness.failed + 1
    harness.failures[#harness.failures + 1] = name
    io.write('FAIL  ', name, '\n      ', tostring(err):gsub('\n', '\n      '), '\n')
  end
end

function harness.eq(actual, expected, what)
  if actual ~= expected then
    error(string.format('%s: expected %s, got %s', what or 'value', describe(expected),
                        describe(actual)), 2)
  end
end

-- Numbers within tolerance; or tensors of one shape whose elements all are.
function harness.near(actual, expected, tolerance, what)
  if type(actual) == 'userdata' and type(expected) == 'userdata' then
    harness.eq(tostring(actual.shape), tostring(expected.shape), (what or 'value') .. ': shape')
    local difference = (actual - expected):abs():max()
    if difference > tolerance then
      error(string.format('%s: differs by %g, more than %g', what or 'value', difference,
                          tolerance), 2)
    end
    return
  end
  if type(actual) ~= 'number' or math.abs(actual - expected) > tolerance then
    error(string.format('%s: expected %s within %g, got %s', what or 'value', describe(expected),
                        tolerance, describe(actual)), 2)
  end
end

function harness.truthy(value, what)
  if not value then error((what or 'condition') .. ' is false', 2) end
end

-- Expects fn to raise an error whose message contains every pattern (plain text).
function harness.raises(fn, ...)
  local ok, err = pcall(fn)
  if ok then error('expected an error, but the call succeeded', 2) end
  err = tostring(err)
  for _, fragment in ipairs{...} do
    if not err:find(fragment, 1, true) then
      error(string.format('error message %q does not mention %q', err, fragment), 2)
    end
  end
  return err
end

-- Captures what fn writes through print and the nn output into one string.
function harness.capture(fn)
  local chunks = {}
  local old_print = print
  print = function(...)
    local parts = {}
    for i = 1, select('#', ...) do parts[i] = tostring(select(i, ...)) end
    chunks[#chunks + 1] = table.concat(parts, '\t') .. '\n'
  end
  local restore = nn._set_output and nn._set_output(function(text) chunks[#chunks + 1] = text end)
  local ok, err = pcall(fn)
  print = old_print
  if nn._set_output then nn._set_output(nil) end
  if not ok then error(err, 2) end
  return table.concat(chunks)
end

-- A whole file's bytes, and writing bytes to a file (for tests of files).
function harness.read_file(path)
  local file = assert(io.open(path, 'rb'))
  local bytes = file:read('a')
  file:close()
  return bytes
end

function harness.write_file(path, bytes)
  local file = assert(io.open(path, 'wb'))
  file:write(bytes)
  file:close()
end

function harness.finish()
  io.write(string.format('\n%d passed, %d failed\n', harness.passed, harness.failed))
  if harness.failed > 0 then
    io.write('failed: ', table.concat(harness.failures, ', '), '\n')
    os.exit(1)
  end
  os.exit(0)
end

return harness
