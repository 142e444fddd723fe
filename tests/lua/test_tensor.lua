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

t.test('a scalar reduces to its value without an axis', function()
  local s = nn.tensor(5)
  t.eq(s:sum(), 5.0)
  t.eq(s:mean(), 5.0)
  t.eq(s:max(), 5.0)
  t.eq(s:argmax(), 0)
end)

t.test('int64 values saturate at the int64 limits', function()
  local x = nn.tensor({1e19, -1e19, 2^63, -2^63}, 'int64'):tolist()
  t.eq(x[1], math.maxinteger, 'above the range')
  t.eq(x[2], math.mininteger, 'below the range')
  t.eq(x[3], math.maxinteger, '2^63')
  t.eq(x[4], math.mininteger, '-2^63 itself')
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

t.finish()
