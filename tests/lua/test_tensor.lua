-- Tensors from Lua: construction, shapes, views, arithmetic, reductions, printing.
local t = require 'harness'

t.test('nn.tensor from nested tables keeps shape and values', function()
  local x = nn.tensor{{1, 2, 3}, {4, 5, 6}}
  t.eq(tostring(x.shape), '(2, 3)')
  t.eq(x.dtype, 'float32')
  t.eq(x[2][3], 6.0)
  t.eq(#x, 2)
  t.eq(x.size, 6)
  t.eq(x.ndim, 2)
  t.eq(x.device, 'cpu')
end)

t.test('zeros, ones, full, arange', function()
  t.eq(tostring(nn.zeros(2, 28, 28, 3).shape), '(2, 28, 28, 3)')
  t.eq(nn.ones{3, 4}:sum(), 12.0)
  t.eq(nn.full({2, 2}, 7):mean(), 7.0)
  local a = nn.arange(64)
  t.eq(tostring(a.shape), '(64,)')
  t.eq(a[1], 0.0)
  t.eq(a[64], 63.0)
  t.eq(nn.arange(2, 10, 2):tolist()[4], 8.0)
  t.eq(nn.zeros(2, 3, 'int32').dtype, 'int32')
end)

-- The elements of x in order, as text: '0.0 0.25 0.5'.
local function values(x)
  local text = {}
  for i, v in ipairs(x:flatten():tolist()) do text[i] = tostring(v) end
  return table.concat(text, ' ')
end

t.test('linspace, eye, zeros_like and ones_like as NumPy makes them', function()
  t.eq(values(nn.linspace(0, 1, 5)), '0.0 0.25 0.5 0.75 1.0')
  t.eq(values(nn.linspace(2, 3, 1)), '2.0', 'one value is start')
  t.eq(values(nn.linspace(1, -1, 3)), '1.0 0.0 -1.0', 'downwards')
  -- 0.1 * 3 rounds above 0.3 in doubles; the last value is stop itself, as NumPy sets it
  t.eq(nn.linspace(0, 0.3, 4)[4], nn.tensor(0.3):item())
  local square = nn.eye(3)
  t.eq(tostring(square.shape), '(3, 3)')
  t.eq(values(square), '1.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 1.0')
  local wide = nn.eye(2, 3, 'int32')
  t.eq(wide.dtype, 'int32')
  t.eq(tostring(wide.shape), '(2, 3)')
  t.eq(values(wide), '1 0 0 0 1 0')
  t.eq(values(nn.eye(3, 2)), '1.0 0.0 0.0 1.0 0.0 0.0', 'tall')
  local zeros = nn.zeros_like(nn.arange(6, 'int64'):reshape(2, 3))
  t.eq(tostring(zeros.shape), '(2, 3)')
  t.eq(zeros.dtype, 'int64')
  t.eq(values(zeros), '0 0 0 0 0 0')
  local ones = nn.ones_like(nn.zeros(4), 'uint8')
  t.eq(ones.dtype, 'uint8')
  t.eq(values(ones), '1 1 1 1')
end)

t.test('linspace and eye take whole numbers held as floats, as shapes do', function()
  t.eq(values(nn.linspace(0, 1, 6 / 2)), '0.0 0.5 1.0')
  t.eq(tostring(nn.eye(4 / 2).shape), '(2, 2)')
  t.eq(tostring(nn.eye(2.0, 3.0).shape), '(2, 3)')
end)

t.test('methods refuse arguments they would drop (ddof, keepdims, a step, a third operand)', function()
  local x = nn.tensor{{1, 2}, {3, 5}}
  t.raises(function() return x:std(0, 1) end,
           "tensor:std: unexpected argument 2 (1); the call is t:std([axis]): over every element, or along one axis (0 = first, -1 = last); the population deviation (NumPy's ddof=0)")
  t.raises(function() return x:sum(1, true) end, 'tensor:sum: unexpected argument 2 (true)')
  t.raises(function() return x:argmax(0, {keepdims = true}) end, 'tensor:argmax: unexpected argument 2 (table)')
  t.raises(function() return nn.arange(10):slice(1, 10, 2) end,
           'tensor:slice: unexpected argument 3 (2); the call is t:slice(first [, last]), every row between; for a step, t:take(nn.arange(first, last + 1, step))')
  t.raises(function() return nn.matmul(x, x, x) end, 'nn.matmul: unexpected argument 3 (nn.Tensor)')
  t.raises(function() return x:matmul(x, x) end, 'tensor:matmul: unexpected argument 2 (nn.Tensor)')
  t.raises(function() return x:exp(5) end, 'tensor:exp: unexpected argument 1 (5); the call is t:exp(), with no arguments')
  t.raises(function() return x:eq(1, 2) end, 'tensor:eq: unexpected argument 2 (2); the call is a:eq(b), with one tensor or number b')
  for _, method in ipairs{'clone', 'flatten', 'tolist'} do
    t.raises(function() return x[method](x, 1) end, 'tensor:' .. method .. ': unexpected argument 1 (1)')
  end
  t.raises(function() return x:softmax(0, 1) end, 'tensor:softmax: unexpected argument 2 (1)')
  t.raises(function() return x:take({1}, 2) end, 'tensor:take: unexpected argument 2 (2)')
  t.raises(function() return nn.time(print) end, 'nn.time: takes no arguments, got 1')
  -- what stays: the operators and one-argument forms
  t.eq(values(x:sum(0)), '4.0 7.0')
  t.eq(values(x + 1), '2.0 3.0 4.0 6.0')
  t.eq(values(-x), '-1.0 -2.0 -3.0 -5.0')
end)

t.test('an integer tensor with a Lua float is float arithmetic, as NumPy with a Python float', function()
  local a = nn.arange(0, 3, 1, 'int64')
  t.eq((a + 1.0).dtype, 'float32')
  t.eq((2.0 * a).dtype, 'float32')
  t.eq(values(a * 2.0), '0.0 2.0 4.0')
  t.eq((a + 1).dtype, 'int64', 'an integer keeps it integer')
  t.eq(values(a:maximum(1.5)), '1.5 1.5 2.0')
  t.eq(a:eq(1.0).dtype, 'uint8', 'comparisons stay exact')
  t.eq(values(a:eq(1.0)), '0 1 0')
end)

t.test('integer sums along an axis are exact int64, and abs keeps the dtype, as NumPy', function()
  local a = nn.arange(0, 2, 1, 'int64') + 16777217
  local sum = a:sum(0)
  t.eq(sum.dtype, 'int64')
  t.eq(sum:item(), 33554435, 'a float32 would give 33554436')
  local big = nn.tensor({{2147483647, 2147483647}}, 'int32')
  t.eq(big:sum(1):item(), 4294967294, 'no int32 overflow')
  local bytes = nn.tensor({250, 10}, 'uint8')
  t.eq(bytes:sum(0):item(), 260)
  t.eq(a:mean(0).dtype, 'float32', 'a mean is a float')
  local signed = nn.tensor({-3, 2}, 'int32')
  t.eq(signed:abs().dtype, 'int32')
  t.eq(values(signed:abs()), '3 2')
  t.eq(values(signed:relu()), '0 2')
  t.eq(values(signed:square()), '9 4')
  t.eq(signed:exp().dtype, 'float32', 'exp is a float')
end)

t.test('a tensor shape in an error shows -1 as written, not as a batch axis', function()
  t.raises(function() return nn.zeros(-1) end,
           'nn.zeros: shape (-1,) has the negative size -1 at axis 0; every dimension must be a positive size')
  t.raises(function() return nn.arange(12):reshape(5, -1) end,
           'cannot reshape a tensor of shape (12,) (12 elements) into (5, -1): 12 is not a multiple of 5')
  t.raises(function() return nn.arange(12):reshape(-1, -1) end,
           'tensor:reshape: only one dimension can be -1, got (-1, -1)')
end)

t.test('uniform and randn each take only their own options', function()
  t.raises(function() return nn.random.uniform(2, {mean = 5}) end,
           "nn.random.uniform: unknown option 'mean'; valid options are: low, high")
  t.raises(function() return nn.random.randn(2, {low = 5}) end,
           "nn.random.randn: unknown option 'low'; valid options are: mean, stddev")
  t.eq(nn.random.uniform(100, {low = 5, high = 6}):min() >= 5, true)
  -- NumPy's rand is uniform's other name: the same draws for the same seed.
  nn.random.seed(4)
  local a = nn.random.uniform(2, 3)
  nn.random.seed(4)
  local b = nn.random.rand(2, 3)
  t.eq(tostring(a), tostring(b), 'rand draws as uniform')
  t.raises(function() return nn.random.rand(2, {mean = 5}) end, "nn.random.rand: unknown option 'mean'")
end)

t.test('linspace, eye and the _like functions refuse bad arguments by name', function()
  t.raises(function() nn.linspace(0, 1) end, 'nn.linspace: num must be a whole number of values, got no value')
  t.raises(function() nn.linspace(0, 1, 2.5) end, 'nn.linspace: num must be a whole number of values, got 2.5')
  t.raises(function() nn.linspace(0, 1, 0) end, 'nn.linspace: num must be from 1 to 10000000000, got 0')
  t.raises(function() nn.linspace(0, 1 / 0, 3) end, 'nn.linspace: stop must be a finite number, got inf')
  t.raises(function() nn.linspace(0, 1, 3, 4) end, 'nn.linspace: unexpected argument 4 (4)')
  t.raises(function() nn.eye() end, 'nn.eye: expected nn.eye(n [, m] [, dtype]), got no arguments')
  t.raises(function() nn.eye(0) end, 'nn.eye: n, the rows, must be a whole number over 0, got 0')
  t.raises(function() nn.eye(2, 1.5) end, 'nn.eye: m, the columns, must be a whole number over 0, got 1.5')
  t.raises(function() nn.eye(2, 3, 4) end, 'nn.eye: unexpected argument 3 (4)')
  t.raises(function() nn.eye(2, 'float64') end, "nn.eye: unknown dtype 'float64'")
  t.raises(function() nn.zeros_like{1, 2} end, 'nn.zeros_like: expected a tensor as argument 1, got table')
  t.raises(function() nn.ones_like(nn.zeros(2), 'int32', 1) end,
           'nn.ones_like: unexpected argument 3 (1); the call is nn.ones_like(x [, dtype])')
end)

t.test('x[i] = v sets an element of a vector or a whole row, as NumPy', function()
  local x = nn.zeros(3, 2)
  x[2] = 5
  x[-1] = {1, 2}
  t.eq(values(x), '0.0 0.0 5.0 5.0 1.0 2.0')
  local cube = nn.zeros(2, 2, 2, 'int32')
  cube[1] = nn.ones(2, 2) -- float32 into int32: converted
  t.eq(values(cube), '1 1 1 1 0 0 0 0')
  local rows = nn.zeros(4, 3)
  local view = rows:slice(2, 3)
  view[1] = 7 -- a view writes through to the tensor it views
  t.eq(values(rows[2]), '7.0 7.0 7.0')
  local v = nn.zeros(3)
  v[-1] = 4
  t.eq(values(v), '0.0 0.0 4.0')
  t.raises(function() x[1] = {1, 2, 3} end, 'tensor[i] = v: row 1 has shape (2,), the value has shape (3,)')
  t.raises(function() x[1] = {{1, 2}} end, 'row 1 has shape (2,), the value has shape (1, 2)')
  t.raises(function() x[4] = 1 end, 'tensor[i] = v: position 4 is out of range')
  t.raises(function() x[1.5] = 1 end, 'tensor[i] = v: i must be a whole number (1-based, negative from the end), got 1.5')
  t.raises(function() x[1] = 'a' end, 'tensor[i] = v: expected a tensor or a table of numbers for the row, got string')
  t.raises(function() v[1] = {1} end, 'tensor[i] = v: an element of a vector takes a number, got table')
  t.raises(function() nn.tensor(3)[1] = 2 end, 'tensor[i] = v: a scalar tensor has no rows; use :fill(v)')
  t.raises(function() x.shape = {2, 3} end, "tensor field 'shape' cannot be set")
  t.eq(values(x), '0.0 0.0 5.0 5.0 1.0 2.0', 'the refused assignments changed nothing')
  -- a value that broadcasts over the row, as NumPy's does
  local grid = nn.zeros(2, 2, 3)
  grid[1] = nn.tensor{1, 2, 3}
  grid[2] = nn.tensor{9}
  t.eq(values(grid), '1.0 2.0 3.0 1.0 2.0 3.0 9.0 9.0 9.0 9.0 9.0 9.0')
  v[1] = nn.tensor(8)
  t.eq(values(v), '8.0 0.0 4.0', 'a one-element tensor sets an element')
end)

t.test('reshape with -1 shares data', function()
  local a = nn.arange(64)
  local b = a:reshape(1, 8, 8, 1)
  t.eq(tostring(b.shape), '(1, 8, 8, 1)')
  t.eq(tostring(a:reshape(-1, 16).shape), '(4, 16)')
  t.eq(tostring(a:reshape{4, -1}.shape), '(4, 16)')
end)

t.test('astype converts, division by a number gives float32', function()
  local u = nn.tensor({0, 128, 255}, 'uint8')
  t.eq(u.dtype, 'uint8')
  local f = u:astype('float32') / 255
  t.eq(f.dtype, 'float32')
  t.near(f[2], 128 / 255, 1e-6)
  t.eq(f[3], 1.0)
end)

t.test('arithmetic with numbers and tensors, with broadcasting', function()
  local x = nn.tensor{{1, 2}, {3, 4}}
  t.eq((x + 1):sum(), 14.0)
  t.eq((2 * x):sum(), 20.0)
  t.eq((x - x):sum(), 0.0)
  t.eq((x * x):sum(), 30.0)
  t.eq((-x):sum(), -10.0)
  t.eq((x / 2)[2][2], 2.0)
  local row = nn.tensor{10, 20}
  local y = x + row
  t.eq(y[2][1], 13.0)
  t.eq(y[2][2], 24.0)
  t.eq((x ^ 2):sum(), 30.0)
end)

t.test('slice and indexing are 1-based and share storage', function()
  local x = nn.arange(10):reshape(5, 2)
  local s = x:slice(2, 3)
  t.eq(tostring(s.shape), '(2, 2)')
  t.eq(s[1][1], 2.0)
  t.eq(x:slice(-1)[1][2], 9.0)
  t.eq(tostring(x[1].shape), '(2,)')
  t.eq(x:take{5, 1}[1][1], 8.0)
end)

t.test('take keeps positions above 2^24 exact', function()
  -- 16777217 is the first integer a float32 cannot hold.
  local x = nn.zeros(16777218, 'uint8')
  x[16777217] = 7
  t.eq(x:take{16777217}[1], 7)
  t.eq(x:take{-2}[1], 7)
  t.eq(x:take(nn.tensor({16777217}, 'int32'))[1], 7)
end)

t.test('take refuses a table of positions rather than flattening it', function()
  local x = nn.tensor{10, 20, 30}
  t.raises(function() return x:take(nn.tensor({{3, 1}}, 'int64')) end, 'tensor:take',
           'a list (a table or a 1-D tensor)', 'got a tensor of shape (1, 2)')
  t.eq(tostring(x:take(nn.tensor({3, 1}, 'int64')).shape), '(2,)')
  t.eq(x:take(nn.tensor({{3, 1}}, 'int64'):reshape(-1))[1], 30.0)
end)

t.test('reductions and argmax', function()
  local x = nn.tensor{{1, 9, 3}, {7, 2, 8}}
  t.eq(x:sum(), 30.0)
  t.eq(x:mean(), 5.0)
  t.eq(x:max(), 9.0)
  t.eq(x:min(), 1.0)
  local am = x:argmax()
  t.eq(tostring(am.shape), '(2,)')
  t.eq(am[1], 1)
  t.eq(am[2], 2)
  t.eq(tostring(x:sum(0)), 'tensor([ 8., 11., 11.], shape=(3,), dtype=float32)')
  t.eq(x:argmax(0)[1], 1)
  t.near(nn.tensor{1, 2, 3, 4}:std(), math.sqrt(1.25), 1e-6)
  t.eq(x:eq(x):sum(), 6)
end)

t.test('the axis may be given as {axis = n}, as Keras options are', function()
  local m = nn.tensor{{1, 5}, {7, 2}}
  local function list(x) return table.concat(x:tolist(), ' ') end
  t.eq(list(m:sum{axis = 1}), '6.0 9.0')
  t.eq(list(m:argmax{axis = 0}), '1 0')
  t.eq(m:max{}, 7.0, 'no axis: the whole tensor')
  t.eq(list(m:mean{axis = -1}), '3.0 4.5')
  t.eq(tostring(nn.concatenate({m, m}, {axis = 1}).shape), '(2, 4)')
  t.eq(tostring(m:expand_dims{axis = 0}.shape), '(1, 2, 2)')
  t.eq(tostring(nn.zeros(2, 1):squeeze{axis = 1}.shape), '(2,)')
  t.near(m:softmax{axis = 0}:tolist()[1][1], 1 / (1 + math.exp(6)), 1e-6)
end)

t.test('a scalar reduces to its value without an axis', function()
  local s = nn.tensor(5)
  t.eq(s:sum(), 5.0)
  t.eq(s:mean(), 5.0)
  t.eq(s:max(), 5.0)
  t.eq(s:argmax(), 0)
end)

t.test("a number an integer dtype cannot hold is refused where it is written, as NumPy's", function()
  t.eq(nn.tensor({-2^63}, 'int64'):tolist()[1], math.mininteger, '-2^63 itself fits')
  t.eq(nn.tensor({math.maxinteger}, 'int64'):tolist()[1], math.maxinteger, 'the largest int64')
  t.raises(function() nn.tensor({1, 1e19}, 'int64') end,
           'nn.tensor: 1e+19 at t[2] does not fit int64 (whole numbers from -9223372036854775808 to 9223372036854775807)')
  t.raises(function() nn.tensor({2^63}, 'int64') end, 'at t[1] does not fit int64')
  t.raises(function() nn.tensor({{1, 2}, {3, 256}}, 'uint8') end,
           'nn.tensor: 256 at t[2][2] does not fit uint8 (whole numbers from 0 to 255)')
  t.raises(function() nn.tensor({-1}, 'uint8') end, '-1 at t[1] does not fit uint8')
  t.raises(function() nn.tensor({2147483648}, 'int32') end, '2147483648 at t[1] does not fit int32')
  t.raises(function() nn.tensor({0 / 0}, 'int32') end, 'nan at t[1] does not fit int32')
  t.raises(function() nn.tensor(math.huge, 'uint8') end, 'nn.tensor: inf does not fit uint8')
  t.eq(nn.tensor({1.5, -1.5, 255.9}, 'int32'):tolist()[2], -1, 'a fraction is cut toward zero')
  local bytes = nn.tensor({1, 2}, 'uint8')
  t.raises(function() bytes:fill(-5) end, 'tensor:fill: -5 does not fit uint8')
  t.raises(function() bytes[1] = 300 end, 'tensor[i] = v: 300 does not fit uint8')
  local rows = nn.tensor({{1, 2}}, 'uint8')
  t.raises(function() rows[1] = {1, 256} end, 'tensor[i] = v (the row): 256 at t[2] does not fit uint8')
  t.raises(function() rows[1] = nn.tensor{1, 256} end,
           'tensor[i] = v: 256 (element 2 of the value) does not fit uint8')
  t.raises(function() rows[1] = 999 end, 'tensor[i] = v: 999 does not fit uint8')
  t.eq(bytes:tolist()[1], 1, 'a refused value leaves the tensor as it was')
  t.eq(rows:tolist()[1][2], 2, 'a refused row leaves the tensor as it was')
  -- a row given as a table is read in the tensor's dtype: valid numbers stay whole
  local ints = nn.tensor({{1, 2}}, 'int32')
  ints[1] = {2147483647, -2147483648}
  t.eq(ints:tolist()[1][1], 2147483647, 'the largest int32 in a row')
  ints[1] = {16777217, 1}
  t.eq(ints:tolist()[1][1], 16777217, '2^24 + 1 in an int32 row, not rounded through float32')
  t.raises(function() ints[1] = {2147483648, 1} end,
           'tensor[i] = v (the row): 2147483648 at t[1] does not fit int32')
  local longs = nn.tensor({{1, 2}}, 'int64')
  longs[1] = {9007199254740993, 1}
  t.eq(longs:tolist()[1][1], 9007199254740993, '2^53 + 1 in an int64 row')
  -- filling with an integer keeps it whole
  local big = (1 << 62) + 1
  local filled = nn.tensor({1, 2}, 'int64'):fill(big)
  t.eq(filled:tolist()[2], big, 'fill of an int64 tensor with 2^62 + 1')
  longs[1] = big
  t.eq(longs:tolist()[1][2], big, 'a row of an int64 matrix set to 2^62 + 1')
  -- astype, and nn.tensor of a tensor (a conversion), clamp as asked
  t.eq(nn.tensor{300, -4}:astype('uint8'):tolist()[1], 255, 'astype saturates')
  t.eq(nn.tensor(nn.tensor{300}, 'uint8'):tolist()[1], 255, 'nn.tensor of a tensor converts as astype')
end)

t.test('int64 values beyond 2^53 stay exact: made, read, written, printed, computed', function()
  local big = 9007199254740993 -- 2^53 + 1, which a double rounds to 2^53
  local x = nn.tensor({big, -big, math.maxinteger, math.mininteger}, 'int64')
  t.eq(x[1], big, 'read back')
  t.eq(x:tolist()[2], -big, 'tolist')
  t.eq(x[3], math.maxinteger, 'the largest int64')
  t.eq(x[4], math.mininteger, 'the smallest int64')
  t.eq(nn.tensor(big, 'int64'):item(), big, 'a scalar')
  t.eq(tostring(nn.tensor({big}, 'int64')), 'tensor([9007199254740993], shape=(1,), dtype=int64)')
  local y = nn.tensor({0}, 'int64')
  y[1] = big + 2
  t.eq(y[1], big + 2, 'assigned')
  t.eq((x + 1)[1], big + 1, 'plus a number')
  t.eq((x + x)[1], 2 * big, 'plus itself')
  t.eq((x - nn.tensor({1}, 'int64'))[1], big - 1, 'minus a tensor')
  t.eq((-x)[1], -big, 'negated')
  t.eq(x:eq(nn.tensor({big - 1}, 'int64'))[1], 0, '2^53 + 1 is not 2^53')
  t.eq(x:gt(nn.tensor({big - 1}, 'int64'))[1], 1, '2^53 + 1 is above 2^53')
  t.eq(x:maximum(nn.tensor({big - 1}, 'int64'))[1], big, 'maximum')
  t.eq(x:max(), math.maxinteger, 'max')
  t.eq(nn.tensor({big, big - 1}, 'int64'):min(), big - 1, 'min')
end)

t.test('int64 sums, maxima and integer operands beyond 2^53 stay exact', function()
  local big = 9007199254740993 -- 2^53 + 1
  t.eq(nn.tensor({4611686018427387905, -4611686018427387904}, 'int64'):sum(), 1,
       'terms that cancel (a double sum gives 0)')
  t.eq(nn.tensor({big, 2}, 'int64'):sum(), big + 2, 'a sum beyond 2^53')
  t.eq(nn.tensor({math.maxinteger, 1}, 'int64'):sum(), math.mininteger, 'wraps as NumPy')
  t.eq(nn.tensor({{big, 1}, {2, big - 1}}, 'int64'):max(0):tolist()[1], big, 'max along an axis')
  t.eq(nn.tensor({{big, big - 1}}, 'int64'):min(1):tolist()[1], big - 1, 'min along an axis')
  local x = nn.tensor({big - 1}, 'int64')
  t.eq(x:eq(big)[1], 0, '2^53 is not 2^53 + 1')
  t.eq(x:lt(big)[1], 1, '2^53 is below 2^53 + 1')
  t.eq((x + big).dtype, 'int64', 'plus a large integer stays int64')
  t.eq((x + big)[1], 2 * big - 1, 'plus a large integer')
  t.eq((big - x)[1], 1, 'a large integer minus the tensor')
  t.eq((x * 2).dtype, 'int64', 'a small integer still takes the scalar path')
end)

t.test('arange in an integer dtype counts in integers', function()
  t.eq(tostring(nn.arange(5, 'int32')), 'tensor([0, 1, 2, 3, 4], shape=(5,), dtype=int32)')
  t.eq(table.concat(nn.arange(2, 11, 3, 'int64'):tolist(), ' '), '2 5 8')
  t.eq(table.concat(nn.arange(5, 0, -2, 'uint8'):tolist(), ' '), '5 3 1')
  t.eq(nn.arange(-3, 3, 'int32'):sum(), -3)
  local top = nn.arange(9007199254740993, 9007199254740996, 'int64'):tolist()
  t.eq(table.concat(top, ' '), '9007199254740993 9007199254740994 9007199254740995',
       'exact beyond 2^53')
  t.eq(#nn.arange(math.mininteger, math.maxinteger, 2^62, 'int64'), 4, 'the whole int64 range')
  t.eq(nn.arange(3, 'float32').dtype, 'float32')
  t.eq(nn.arange(3).dtype, 'float32', 'float32 by default')
end)

t.test('nn.utils.to_categorical gives one-hot float32 rows, as Keras', function()
  local y = nn.utils.to_categorical({0, 2, 1})
  t.eq(tostring(y.shape), '(3, 3)')
  t.eq(y.dtype, 'float32')
  t.eq(table.concat(y:reshape(-1):tolist(), ' '), '1.0 0.0 0.0 0.0 0.0 1.0 0.0 1.0 0.0')
  local column = nn.utils.to_categorical(nn.tensor({{1}, {0}}, 'int32'), 4)
  t.eq(tostring(column.shape), '(2, 4)', 'a (N, 1) column gives (N, classes)')
  t.eq(column[1][2], 1.0)
  t.eq(column:sum(), 2.0)
  t.eq(tostring(nn.utils.to_categorical(nn.zeros({2, 3}, 'uint8'), 2).shape), '(2, 3, 2)')
end)

t.test('integer arithmetic wraps like NumPy', function()
  t.eq((nn.tensor({2147483647}, 'int32') + 1)[1], -2147483648, 'int32 + 1')
  t.eq((nn.tensor({-2147483648}, 'int32') - 1)[1], 2147483647, 'int32 - 1')
  t.eq((nn.tensor({65536}, 'int32') * 65537)[1], 65536, 'int32 product')
  t.eq((-nn.tensor({-2147483648}, 'int32'))[1], -2147483648, 'negated int32 minimum')
  local big = nn.tensor({2147483647, 2}, 'int32')
  t.eq((big + big):tolist()[1], -2, 'int32 tensor + tensor')
  local quarter = nn.tensor({2^62}, 'int64')
  t.eq((quarter + quarter + quarter)[1], -2^62 | 0, 'int64 + int64')
  t.eq((nn.tensor({2^62}, 'int64') * 4)[1], 0, 'int64 product')
  t.eq((nn.tensor({250}, 'uint8') + 10)[1], 4, 'uint8 + 10')
  t.eq((nn.tensor({2147483647}, 'int32') + 1).dtype, 'int32')
end)

t.test('sum, mean, max and min take a list of axes, as NumPy takes a tuple', function()
  local x = nn.arange(24):reshape(2, 3, 4)
  local function list(v) return table.concat(v:tolist(), ' ') end
  t.eq(list(x:sum({0, 1})), '60.0 66.0 72.0 78.0')
  t.eq(list(x:sum{axis = {0, -1}}), '60.0 92.0 124.0', 'in options, with a negative axis')
  t.eq(list(x:mean({2, 0})), '7.5 11.5 15.5', 'in any order')
  t.eq(x:max{0, 1, 2}.ndim, 0, 'every axis: a 0-d tensor')
  t.eq(x:max{0, 1, 2}:item(), 23)
  t.eq(tostring(x:min({1})), tostring(x:min(1)), 'a list of one is that axis')
  local n = nn.arange(0, 24, 1, 'int64'):reshape(2, 3, 4)
  t.eq(list(n:sum({0, 2})), '60 92 124', 'integers stay whole')
  t.raises(function() return x:sum({0, 0}) end, 'tensor:sum: axis 0 is in the list of axes twice')
  t.raises(function() return x:sum({1, -2}) end, 'tensor:sum: axes 1 and -2 are the same axis of a tensor of 3 axes')
  t.raises(function() return x:sum({0, axis = 1}) end,
           'tensor:sum: a list of axes holds only axes ({0, 1}), got the key axis in it')
  t.raises(function() return x:mean({0, 3}) end,
           'tensor:mean: axis 3 is out of range for a tensor of shape (2, 3, 4)')
  t.raises(function() return x:sum({0, 'a'}) end,
           'tensor:sum: axis must be an integer (0 = first axis, -1 = last), got string')
  t.raises(function() return x:sum{axis = {}} end,
           'tensor:sum: the list of axes is empty; give one or more, or none at all')
  t.raises(function() return x:std({0, 1}) end,
           'tensor:std: axis must be one integer (0 = first axis, -1 = last), got a table; ' ..
           'a list of axes is taken by sum, mean, max and min')
  t.raises(function() return x:argmax{axis = {0, 1}} end, 'tensor:argmax: axis must be one integer')
end)

t.test('% and // round down as NumPy and Lua do, for every sign, dtype and zero divisor', function()
  local function list(x) return table.concat(x:tolist(), ' ') end
  local b = nn.arange(-5, 6, 2, 'int64') -- -5 -3 -1 1 3 5
  -- Each against Lua's own % and // on the same whole numbers.
  for _, divisor in ipairs{3, -3, 1, -1, 7} do
    local mod, div = {}, {}
    for _, v in ipairs(b:tolist()) do mod[#mod + 1] = v % divisor; div[#div + 1] = v // divisor end
    t.eq(list(b % divisor), table.concat(mod, ' '), 'int64 % ' .. divisor)
    t.eq(list(b // divisor), table.concat(div, ' '), 'int64 // ' .. divisor)
  end
  t.eq((b % 3).dtype, 'int64')
  t.eq(list(7 % b), '-3 -2 0 0 1 2', 'a number first')
  t.eq(list(7 // b), '-2 -3 -7 7 2 1', 'a number first')
  t.eq(list(b % 0), '0 0 0 0 0 0', 'an integer divisor of 0 gives 0, as NumPy')
  t.eq(list(b // 0), '0 0 0 0 0 0', 'an integer divisor of 0 gives 0, as NumPy')
  t.eq(list(nn.tensor({-2^63}, 'int64') // -1), tostring(math.mininteger), 'wraps as NumPy')
  t.eq(list(b % nn.tensor({3}, 'int32')), '1 0 2 1 0 2', 'tensor % tensor, broadcast')
  -- Floats: the sign of the divisor, a zero too; NaN for 0; a float divisor makes floats.
  local f = nn.tensor{-5.5, 2.5, 7, -5}
  t.eq(list(f % 2), '0.5 0.5 1.0 1.0')
  t.eq(list(f // 2), '-3.0 1.0 3.0 -3.0')
  t.eq(list(f % nn.tensor{2, -2, 3, 2.5}), '0.5 -1.5 1.0 0.0')
  t.eq(1 / (nn.tensor{-5} % 2.5)[1], math.huge, '-5 % 2.5 is +0, as NumPy')
  t.eq(1 / (nn.tensor{5} % -2.5)[1], -math.huge, '5 % -2.5 is -0, as NumPy')
  local nan = (f % 0)[1]
  t.eq(nan ~= nan, true, 'NaN for 0')
  -- Float32 throughout, from fmod's exact remainder, as NumPy's divmod: 0.1 in float32 is
  -- a little over a tenth, so 1 // 0.1 is 9, whichever side is the tensor, and
  -- (x // y) * y + x % y gives x back.
  local one = nn.tensor{1}
  t.eq((one // 0.1)[1], 9)
  t.eq((1 // nn.tensor{0.1})[1], 9)
  t.near(((one // 0.1) * 0.1 + one % 0.1)[1], 1, 1e-6)
  t.eq((nn.tensor{-5} // math.huge)[1], -1, 'rounded down, as NumPy')
  t.eq(list(nn.tensor{1, -1} // 0), tostring(math.huge) .. ' ' .. tostring(-math.huge), 'x / 0')
  t.eq((b % 2.5).dtype, 'float32')
  t.eq(list(b % 2.5), '0.0 2.0 1.5 1.0 0.5 0.0')
  -- uint8 with a negative number widens, as NumPy 1.
  local u = nn.tensor({250, 7}, 'uint8')
  t.eq(list(u % 4), '2 3')
  t.eq((u % 4).dtype, 'uint8')
  t.eq(list(u // -1), '-250 -7')
  t.eq((u // -1).dtype, 'int32')
  t.raises(function() return b % 'x' end, "tensor %: expected tensors or numbers, got nn.Tensor and string")
  t.raises(function() return {} // b end, "tensor //: expected tensors or numbers, got table and nn.Tensor")
end)

t.test('.. joins the text of a tensor or a shape, as print shows them', function()
  local x = nn.arange(3)
  t.eq('train shape: ' .. x.shape, 'train shape: (3,)')
  t.eq(x.shape .. ' rows', '(3,) rows')
  t.eq('x = ' .. x, 'x = ' .. tostring(x))
  t.eq(x .. '', tostring(x))
  t.eq(1 .. x.shape, '1(3,)')
  t.raises(function() return x .. x end,
           'tensor ..: .. joins text; tensors join with nn.concatenate{a, b} (or nn.stack{a, b} along a new axis)')
end)

t.test('<, <=, > and >= on tensors say where element-wise comparisons are', function()
  local a = nn.zeros(3)
  local said = "tensor comparison: Lua's <, <=, > and >= give one true or false, not a " ..
               'tensor; compare element by element with a:lt(b), a:le(b), a:gt(b) or ' ..
               'a:ge(b), or reduce first, as in a:max() < 1'
  t.raises(function() return a < nn.ones(3) end, said)
  t.raises(function() return a <= 1 end, said)
  t.raises(function() return 1 > a end, said)
  t.raises(function() return a >= a end, said)
  t.eq(a:max() < 1, true, 'a number from a reduction compares as Lua does')
end)

t.test('comparisons with NaN are false except ne, as NumPy', function()
  local a, b = nn.tensor{0 / 0, 1, 2}, nn.tensor{0 / 0, 2, 2}
  local function bits(t) return table.concat(t:tolist(), ' ') end
  t.eq(bits(a:eq(b)), '0 0 1', 'eq')
  t.eq(bits(a:ne(b)), '1 1 0', 'ne')
  t.eq(bits(a:lt(b)), '0 1 0', 'lt')
  t.eq(bits(a:le(b)), '0 1 1', 'le')
  t.eq(bits(a:gt(b)), '0 0 0', 'gt')
  t.eq(bits(a:ge(b)), '0 0 1', 'ge')
end)

t.test('maximum and minimum propagate NaN from either side, as NumPy', function()
  local function isnan(v) return v ~= v end
  t.truthy(isnan(nn.tensor{0 / 0}:maximum(1)[1]), 'NaN tensor, number')
  t.truthy(isnan(nn.tensor{1, 2}:maximum(0 / 0)[2]), 'tensor, NaN number')
  t.truthy(isnan(nn.tensor{0 / 0}:minimum(1)[1]), 'minimum, NaN tensor')
  t.truthy(isnan(nn.tensor{1}:minimum(nn.tensor{0 / 0})[1]), 'minimum, NaN second tensor')
  t.truthy(isnan(nn.tensor{0 / 0}:maximum(nn.tensor{1})[1]), 'maximum, NaN first tensor')
  t.eq(nn.tensor{1, 5}:maximum(3):tolist()[2], 5.0)
  t.eq(nn.tensor{1, 5}:minimum(3):tolist()[1], 1.0)
end)

t.test('zeros and ones take a dtype after a shape table', function()
  t.eq(nn.ones({2, 3}, 'uint8').dtype, 'uint8')
  t.eq(nn.ones({2, 3}, 'uint8'):sum(), 6)
  t.eq(nn.zeros({2}, 'int64').dtype, 'int64')
end)

t.test('tostring prints like NumPy and elides long tensors', function()
  t.eq(tostring(nn.tensor{{1, 2}, {3, 4}}),
       'tensor([[1., 2.],\n        [3., 4.]], shape=(2, 2), dtype=float32)')
  t.eq(tostring(nn.tensor{0.5, -1.25}), 'tensor([ 0.5000, -1.2500], shape=(2,), dtype=float32)')
  t.eq(tostring(nn.tensor({1, 2}, 'int32')), 'tensor([1, 2], shape=(2,), dtype=int32)')
  local long = tostring(nn.arange(2000))
  t.eq(long, 'tensor([   0.,    1.,    2., ..., 1997., 1998., 1999.], shape=(2000,), dtype=float32)')
  local big = tostring(nn.zeros(100, 100))
  t.truthy(#big < 1000, 'a 100x100 tensor prints in a few lines')
  t.truthy(big:find('...', 1, true), 'elided rows')
end)

t.test('random numbers are repeatable with a seed', function()
  nn.random.seed(42)
  local a = nn.random.randn(3, 4)
  nn.random.seed(42)
  local b = nn.random.randn(3, 4)
  t.truthy(a == b, 'same seed gives the same tensor')
  local u = nn.random.uniform(1000, {low = -2, high = 2})
  t.truthy(u:min() >= -2 and u:max() < 2, 'uniform within bounds')
  local r = nn.random.randint(0, 10, 1000)
  t.truthy(r:min() >= 0 and r:max() <= 9, 'randint within bounds')
  local wide = nn.random.randint(-2^31, 2^31, 1000)
  t.truthy(wide:min() < -1e9 and wide:max() > 1e9, 'randint spans the whole int32 range')
end)

t.test('nn.random.permutation: every position once, repeatable, and rows reordered', function()
  nn.random.seed(7)
  local order = nn.random.permutation(50)
  t.eq(order.dtype, 'int64', 'positions are int64')
  t.eq(tostring(order.shape), '(50,)', 'one per position')
  local seen, moved = {}, 0
  for i = 1, 50 do
    local position = order[i]
    t.truthy(position >= 1 and position <= 50 and not seen[position], 'position ' .. position)
    seen[position] = true
    if position ~= i then moved = moved + 1 end
  end
  t.truthy(moved > 40, 'shuffled (' .. moved .. ' of 50 moved)')
  nn.random.seed(7)
  t.truthy(nn.random.permutation(50) == order, 'the seed repeats it')
  local x = nn.arange(12):reshape(6, 2)
  nn.random.seed(3)
  local shuffled = nn.random.permutation(x)
  nn.random.seed(3)
  t.truthy(shuffled == x:take(nn.random.permutation(6)), 'a tensor: its rows in that order')
  t.eq(shuffled:sum(0), x:sum(0), 'the same rows')
  t.eq(nn.random.permutation(1), nn.tensor({1}, 'int64'), 'one position')
  nn.random.seed(5)
  local from_float = nn.random.permutation(6.0)
  nn.random.seed(5)
  t.eq(from_float, nn.random.permutation(6), 'a count written as a float, as nn.zeros(6.0) takes')
  t.raises(function() nn.random.permutation(0) end,
           'nn.random.permutation: the count must be from 1 to 2^40, got 0')
  t.raises(function() nn.random.permutation(2.5) end, 'expected a count (an integer) or a tensor')
  t.raises(function() nn.random.permutation('6') end, 'got string')
  t.raises(function() nn.random.permutation(nn.tensor(3)) end, 'a scalar tensor has no rows')
  t.raises(function() nn.random.permutation(3, 4) end, 'takes one argument')
end)

t.test('long rows wrap at 75 columns under their first value, as NumPy prints them', function()
  t.eq(tostring(nn.arange(30)),
       'tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12.,\n' ..
       '        13., 14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25.,\n' ..
       '        26., 27., 28., 29.], shape=(30,), dtype=float32)')
  local rows = tostring(nn.arange(24):reshape(2, 12) / 7)
  for line in rows:gmatch('[^\n]+') do
    if not line:find('shape=', 1, true) then t.truthy(#line <= 75, 'line of ' .. #line) end
  end
  t.truthy(rows:find('\n         1.1429', 1, true), 'a wrapped row continues under its first value')
end)

-- Nested tables of numbers as text, to compare tolist() with what is expected.
local function listed(value)
  if type(value) ~= 'table' then return string.format('%.9g', value) end
  local parts = {}
  for k = 1, #value do parts[k] = listed(value[k]) end
  return '{' .. table.concat(parts, ', ') .. '}'
end
local function same_list(tensor, expected) t.eq(listed(tensor:tolist()), listed(expected)) end

t.test('a Dense layer worked out by hand with matmul gives what the layer gives', function()
  nn.random.seed(7)
  local x = nn.random.randn(5, 4)
  local relu = nn.layers.Dense{3, activation = 'relu'}
  local out = relu(x) -- builds the layer: its kernel is (4, 3)
  t.eq(tostring(relu.kernel.shape), '(4, 3)')
  local by_hand = (nn.matmul(x, relu.kernel) + relu.bias):relu()
  t.truthy((out - by_hand):abs():max() < 1e-6, 'relu layer')
  local softmax = nn.layers.Dense{3, activation = 'softmax'}
  out = softmax(x)
  local rows = (x:matmul(softmax.kernel) + softmax.bias):softmax()
  t.truthy((out - rows):abs():max() < 1e-6, 'softmax layer')
  t.near(rows:sum(), 5, 1e-5)
  t.eq(tostring(rows:sum(-1).shape), '(5,)')
end)

t.test('matmul follows NumPy: vectors, batches that broadcast, integers', function()
  local a = nn.arange(6):reshape(2, 3)
  same_list(nn.matmul(a, a.T), {{5, 14}, {14, 50}})
  same_list(a:matmul({1, 1, 1}), {3, 12})
  t.eq(nn.matmul({1, 2, 3}, {4, 5, 6}):item(), 32.0)
  t.eq(tostring(nn.matmul(nn.zeros(2, 1, 3, 4), nn.zeros(5, 4, 6)).shape), '(2, 5, 3, 6)')
  local i = nn.matmul(nn.arange(6, 'int32'):reshape(2, 3), nn.arange(6, 'int32'):reshape(3, 2))
  t.eq(i.dtype, 'int32')
  same_list(i, {{10, 13}, {28, 40}})
end)

t.test('transpose, T, expand_dims and squeeze', function()
  local x = nn.arange(24):reshape(2, 3, 4)
  t.eq(tostring(x:transpose().shape), '(4, 3, 2)')
  t.eq(tostring(x.T.shape), '(4, 3, 2)')
  local y = x:transpose(0, 2, 1)
  t.eq(tostring(y.shape), '(2, 4, 3)')
  t.eq(y[2][4][3], x[2][3][4])
  t.eq(y[1][2][3], 9.0) -- x[1][3][2]: 0-based (0, 2, 1) = 2*4 + 1
  t.truthy(x:transpose{0, 2, 1} == y, 'axes as a table')
  t.truthy(x:transpose(-3, -1, -2) == y, 'negative axes')
  t.eq(tostring(nn.zeros(28, 28, 1):expand_dims(0).shape), '(1, 28, 28, 1)')
  t.eq(tostring(nn.zeros(28, 28):expand_dims(-1).shape), '(28, 28, 1)')
  t.eq(tostring(nn.zeros(1, 28, 28, 1):squeeze().shape), '(28, 28)')
  t.eq(tostring(nn.zeros(1, 28, 28, 1):squeeze(0).shape), '(28, 28, 1)')
  same_list(nn.ones(1, 3):squeeze(), {1, 1, 1})
end)

t.test('concatenate and stack join tensors and tables', function()
  local a, b = nn.tensor{{1, 2}, {3, 4}}, nn.tensor{{5, 6}}
  same_list(nn.concatenate{a, b}, {{1, 2}, {3, 4}, {5, 6}})
  same_list(nn.concatenate({a, a}, 1), {{1, 2, 1, 2}, {3, 4, 3, 4}})
  same_list(nn.concatenate({a, {{7, 8}}}, -2), {{1, 2}, {3, 4}, {7, 8}})
  local joined = nn.concatenate{nn.tensor({1}, 'uint8'), nn.tensor({300}, 'int32')}
  t.eq(joined.dtype, 'int32')
  same_list(joined, {1, 300})
  same_list(nn.stack{nn.tensor{1, 2}, nn.tensor{3, 4}}, {{1, 2}, {3, 4}})
  same_list(nn.stack({nn.tensor{1, 2}, nn.tensor{3, 4}}, -1), {{1, 3}, {2, 4}})
  t.eq(tostring(nn.stack{nn.zeros(28, 28), nn.ones(28, 28)}.shape), '(2, 28, 28)')
end)

t.test('concatenate and stack read axis= in the list, as a Keras-style call writes it', function()
  local a = nn.tensor{{1, 2}, {3, 4}}
  -- once ignored: {a, a, axis = 1} joined along axis 0
  same_list(nn.concatenate{a, a, axis = 1}, {{1, 2, 1, 2}, {3, 4, 3, 4}})
  same_list(nn.stack{nn.tensor{1, 2}, nn.tensor{3, 4}, axis = -1}, {{1, 3}, {2, 4}})
  t.raises(function() nn.concatenate{a, a, dim = 1} end, 'nn.concatenate',
           "unknown option 'dim'", 'axis')
  t.raises(function() nn.stack({a, a, axis = 1}, 0) end, 'nn.stack', 'axis', 'once')
end)

t.test('element math: round halves to even, clip keeps NaN, softmax along an axis', function()
  same_list(nn.tensor{-2.5, -1.5, 0.5, 1.5, 2.5}:round(), {-2, -2, 0, 2, 2})
  same_list(nn.tensor{-1.5, 1.5}:floor(), {-2, 1})
  same_list(nn.tensor{-1.5, 1.5}:ceil(), {-1, 2})
  same_list(nn.tensor{-1, 0, 2}:relu(), {0, 0, 2})
  same_list(nn.tensor{-3, 3}:square(), {9, 9})
  t.near(nn.tensor{1}:tanh():item(), 0.7615941559557649, 1e-6)
  t.near(nn.tensor{0, 2}:sigmoid()[2], 1 / (1 + math.exp(-2)), 1e-6)
  local clipped = nn.tensor{-2, 0.5, 3, 0 / 0}:clip(0, 1):tolist()
  t.eq(listed{clipped[1], clipped[2], clipped[3]}, listed{0, 0.5, 1})
  t.truthy(clipped[4] ~= clipped[4], 'NaN stays NaN')
  same_list(nn.tensor{-2, 3}:clip(nil, 1), {-2, 1})
  t.eq(nn.tensor({-2, 3}, 'int32'):clip(0, 2).dtype, 'int32')
  local columns = nn.tensor{{1, 1000}, {1, 1000}}:softmax(0)
  same_list(columns, {{0.5, 0.5}, {0.5, 0.5}})
end)

t.test('long lists join, and clip and relu keep what NumPy keeps', function()
  -- more entries than a C function's 20 guaranteed stack slots (300 overran them once)
  local ones, rows = {}, {}
  for i = 1, 300 do ones[i] = nn.ones(1); rows[i] = {i} end
  t.eq(tostring(nn.concatenate(ones).shape), '(300,)')
  t.eq(nn.concatenate(ones):sum(), 300.0)
  t.eq(tostring(nn.stack(ones).shape), '(300, 1)')
  local joined = nn.concatenate(rows)
  t.eq(joined[300], 300.0, 'tables converted and kept alive')
  -- a bound beyond the dtype widens the result rather than saturating
  local bytes = nn.tensor({200, 5}, 'uint8'):clip(300)
  t.eq(bytes.dtype, 'int32')
  same_list(bytes, {300, 300})
  t.eq(nn.tensor({200, 5}, 'uint8'):clip(0, 100).dtype, 'uint8')
  -- int64 bounds beyond 2^53 are exact, as the operators are
  local big = nn.tensor({10000000000000001, 3}, 'int64'):clip(0, 10000000000000000)
  t.eq(big.dtype, 'int64')
  t.eq(big:tolist()[1], 10000000000000000)
  local relu = nn.tensor{0 / 0, -1, 2}:relu():tolist()
  t.truthy(relu[1] ~= relu[1], 'relu keeps NaN, as the ReLU layer')
  t.eq(relu[2], 0.0)
end)

t.test("PyTorch's tensor methods name the nnsh way", function()
  local x = nn.zeros(2, 3)
  t.raises(function() return x:view(-1) end, "no field or method 'view'", 'x:reshape(')
  t.raises(function() return x:unsqueeze(0) end, "'unsqueeze'", 'x:expand_dims(axis)')
  t.raises(function() return x:permute(1, 0) end, "'permute'", 'x:transpose{')
  t.raises(function() return x:float() end, "'float'", "x:astype('float32')")
  t.raises(function() return x:long() end, "'long'", "x:astype('int64')")
  t.raises(function() return x:numpy() end, "'numpy'", 'x:tolist()')
  t.raises(function() return x:numel() end, "'numel'", 'x.size')
  t.raises(function() return x:clamp(0, 1) end, "'clamp'", 'x:clip(')
  t.raises(function() return x:pow(2) end, "'pow'", 'x ^ 2')
  t.raises(function() return x:add_(1) end, "'add_' (PyTorch's in-place form)", 'x = x + y')
  t.raises(function() return x:zero_() end, "'zero_'", 'x:fill(0) sets every element')
  t.raises(function() return x:relu_() end, "'relu_'", 'x = x:relu(...)')
  t.raises(function() return x:clip_(0, 1) end, "'clip_'", 'x = x:clip(...)')
  t.raises(function() return x:unsqueeze_(0) end, "'unsqueeze_' (PyTorch's in-place form)",
           'write x:expand_dims(axis), and assign it')
  -- methods that give no tensor like x have no in-place form: a slip, guessed or listed
  t.raises(function() return x:item_() end, "'item_' (did you mean 'item'?)")
  -- a name with _ that is no in-place form of nnsh's is a slip, guessed as one
  t.raises(function() return x.shape_ end, "'shape_' (did you mean 'shape'?)")
  t.raises(function() return x:cache_() end, 'fields: shape')
  -- a list of positions nested once too deep, and a list with a hole
  t.raises(function() return nn.ones(3, 2):take{{3, 1}} end,
           'tensor:take: positions must be integers, got table at entry 1 (positions go in one flat list')
  local one = nn.ones(2)
  t.raises(function() return nn.concatenate{one, one, [4] = one} end,
           'nn.concatenate: entry 4 of the list follows a nil at entry 3')
  t.raises(function() return x:cuda() end, "'cuda'", "x:to('gpu')")
  t.raises(function() return x:detach() end, "'detach'", 'no gradients')
  -- a slip still gets its guess, and other names the list of fields
  t.raises(function() return x:sqeeze(0) end, "did you mean 'squeeze'")
  t.raises(function() return x:frobnicate() end, 'fields: shape')
end)

t.test('bad calls of the tensor ops name the function and what was expected', function()
  t.raises(function() nn.matmul(nn.zeros(2, 3), nn.zeros(2, 3)) end,
           'nn.matmul', '(2, 3) and (2, 3)', 'last axis')
  t.raises(function() nn.zeros(3):matmul('x') end, 'tensor:matmul', 'second operand', 'string')
  t.raises(function() nn.matmul(nn.tensor(2), nn.zeros(2)) end, 'one axis or more')
  t.raises(function() nn.zeros(2, 3):transpose(0) end, 'tensor:transpose', 'needs 2 axes')
  t.raises(function() nn.zeros(2, 3):transpose(1, 1) end, 'appears twice')
  t.raises(function() nn.zeros(2, 3):transpose(0, 2) end, 'axis 2 is out of range', '(2, 3)')
  t.raises(function() nn.zeros(2, 3):transpose(0.5, 1) end, 'must be an integer', '0.5')
  t.raises(function() nn.concatenate(nn.zeros(2)) end, 'nn.concatenate', 'list of tensors')
  t.raises(function() nn.concatenate{} end, 'nn.concatenate', 'one tensor or more')
  t.raises(function() nn.concatenate{nn.zeros(2, 3), nn.zeros(3, 2)} end,
           'tensor 2 has shape (3, 2)', 'only along axis 0')
  t.raises(function() nn.concatenate{nn.zeros(2), true} end, 'entry 2', 'boolean')
  t.raises(function() nn.stack{nn.zeros(2), nn.zeros(3)} end, 'nn.stack', 'one shape')
  t.raises(function() nn.zeros(2):expand_dims() end, 'tensor:expand_dims', 'position')
  t.raises(function() nn.zeros(2):expand_dims(2) end, 'axis 2 is out of range')
  t.raises(function() nn.zeros(2, 3):squeeze(1) end, 'tensor:squeeze', 'size 3')
  t.raises(function() nn.zeros(2):clip() end, 'tensor:clip', 'lower bound')
  t.raises(function() nn.zeros(2):clip(1, 0) end, 'above the upper bound')
  t.raises(function() nn.tensor(2):softmax() end, 'tensor:softmax', 'scalar')
  t.raises(function() return nn.zeros(2).transposed end, "no field or method 'transposed'", 'T')
end)

t.test("nn.utils.set_random_seed is Keras' name for nn.random.seed", function()
  nn.utils.set_random_seed(7)
  local a = nn.random.randn(5)
  nn.random.seed(7)
  t.near(nn.random.randn(5), a, 0, 'the same numbers after either')
  nn.utils.set_random_seed(8)
  t.truthy((nn.random.randn(5) - a):abs():max() > 0, 'another seed, other numbers')
  t.raises(function() nn.utils.set_random_seed('x') end,
           'nn.utils.set_random_seed: the seed must be a whole number')
  t.raises(function() nn.utils.set_random_seed(1, 2) end,
           'nn.utils.set_random_seed: unexpected argument 2 (2); the call is nn.utils.set_random_seed(n)')
end)

t.test('ipairs walks the rows of a tensor and stops after the last, as over a table', function()
  local x = nn.tensor{{1, 2}, {3, 4}, {5, 6}}
  local seen = {}
  for i, row in ipairs(x) do seen[#seen + 1] = i .. ':' .. math.tointeger(row[2]) end
  t.eq(table.concat(seen, ' '), '1:2 2:4 3:6', 'the rows of a matrix')
  local sum = 0
  for _, value in ipairs(nn.arange(4)) do sum = sum + value end
  t.eq(sum, 6, 'the elements of a vector')
  -- one past the last row, written in code, is still an error
  t.raises(function() return x[4] end, 'tensor[i]: position 4 is out of range: rows are 1 to 3')
  t.raises(function() return x[5] end, 'position 5 is out of range')
end)

t.test('a reduction along a leading axis equals, to the bit, the same along the last axis', function()
  -- The leading-axis reductions read memory in rows; each output must still add its
  -- elements in the axis's order, as along the last axis.
  nn.random.seed(11)
  local x = nn.random.randn(50, 7, 3) * 1000 + 0.1
  for _, op in ipairs{'sum', 'mean', 'std'} do
    t.near(x[op](x, 0), x:transpose{1, 2, 0}[op](x:transpose{1, 2, 0}, -1), 0, op .. ' along axis 0')
    t.near(x[op](x, 1), x:transpose{0, 2, 1}[op](x:transpose{0, 2, 1}, -1), 0, op .. ' along axis 1')
  end
  local with_nan = nn.tensor{{1, 0 / 0}, {2, 3}}
  local sums = with_nan:sum(0)
  t.eq(sums[1], 3, 'a column without NaN')
  t.truthy(sums[2] ~= sums[2], 'a NaN makes its column NaN')
  t.near(nn.tensor{{1, 2}}:std(0), nn.tensor{0, 0}, 0, 'the deviation of one row is 0')
  t.near(nn.tensor{{1, 2}, {3, 6}}:std(0), nn.tensor{1, 2}, 0, 'population deviation, as NumPy')
end)

t.test('float32 arithmetic with broadcasting gives each element as a float32 of the double result', function()
  local function f32(v) return (string.unpack('f', string.pack('f', v))) end
  -- equal, with the sign of a zero (but a remainder of 0 takes the divisor's sign, as
  -- NumPy's, where Lua's takes the dividend's) and NaN for NaN
  local function same(p, q, name)
    return (p == q and (p ~= 0 or name == '%' or 1 / p == 1 / q)) or (p ~= p and q ~= q)
  end
  nn.random.seed(12)
  local a = nn.random.randn(2, 3, 4) * 10
  a[1][1] = {0 / 0, 1 / 0, -1 / 0, -0.0} -- NaN and the infinities go through each operation
  -- (3, 1) and (2, 3, 1) make outputs whose last axis has one element
  local operands = {nn.random.randn(4) + 3, nn.random.randn(3, 1) + 3, nn.random.randn(2, 1, 4) + 3,
                    nn.random.randn(2, 3, 4) + 3, nn.random.randn(2, 3, 1) + 3, nn.tensor(2.5)}
  local ops = {
    ['+'] = function(x, y) return x + y end, ['-'] = function(x, y) return x - y end,
    ['*'] = function(x, y) return x * y end, ['/'] = function(x, y) return x / y end,
    ['%'] = function(x, y) return x % y end,
  }
  local function element(tensor, i, j, k) -- tensor's element at a's position, as NumPy broadcasts
    local shape = tensor.shape
    if #shape == 0 then return tensor:item() end
    local index, value = {i, j, k}, tensor
    for axis = 1, #shape do
      value = value[shape[axis] == 1 and 1 or index[3 - #shape + axis]]
    end
    return value
  end
  for _, b in ipairs(operands) do
    for name, op in pairs(ops) do
      -- a op b, and b op a with the broadcast operand first
      for _, order in ipairs{{a, b}, {b, a}} do
        local left, right = order[1], order[2]
        local result = op(left, right)
        t.eq(tostring(result.shape), '(2, 3, 4)', name .. ': the broadcast shape')
        for i = 1, 2 do for j = 1, 3 do for k = 1, 4 do
          local expected = f32(op(element(left, i, j, k), element(right, i, j, k)))
          if not same(result[i][j][k], expected, name) then
            error(string.format('%s %s %s at (%d, %d, %d): %.9g, expected %.9g', tostring(left.shape),
                                name, tostring(right.shape), i, j, k, result[i][j][k], expected))
          end
        end end end
      end
    end
  end
  -- the other operations, element by element
  local x, y = nn.tensor{{-7.5, 3, 0 / 0}}, nn.tensor{{2}, {-3}}
  local maxima, minima = x:maximum(y), x:minimum(y)
  t.eq(maxima[1][1] .. ' ' .. maxima[2][2] .. ' ' .. minima[1][1] .. ' ' .. minima[2][2], '2.0 3.0 -7.5 -3.0',
       'maximum and minimum, broadcast')
  t.truthy(maxima[1][3] ~= maxima[1][3] and minima[2][3] ~= minima[2][3], 'NaN wins in maximum and minimum')
  t.eq((x // y)[1][1], math.floor(-7.5 / 2), '// is floor division')
  t.eq((y ^ x)[2][2], -27.0, '^ with the broadcast operand first')
  -- two scalars: one run of one
  local two, nan = nn.tensor(2.5), nn.tensor(0 / 0)
  t.eq((two + nn.tensor(1.5)):item(), 4.0, 'a scalar plus a scalar')
  t.eq((nn.tensor(7) % nn.tensor(-3)):item(), -2.0, 'floor modulo of scalars')
  t.eq((two // nn.tensor(0)):item(), 1 / 0, 'floor division of scalars by 0')
  t.truthy((two * nan):item() ~= (two * nan):item(), 'NaN through scalars')
  t.eq(1 / (nn.tensor(-0.0) * two):item(), -1 / 0, 'the sign of a zero kept')
end)

t.finish()
