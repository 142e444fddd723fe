-- A small lesson as a Lua notebook: `-- %%` starts a cell, outputs follow as `-->`.
nn.random.seed(7)

-- %%
local x = nn.arange(6):reshape(2, 3)
x
--> tensor([[0., 1., 2.],
-->         [3., 4., 5.]], shape=(2, 3), dtype=float32, device=cpu)

-- %% the old output below is replaced
print('rows:', #x)
x:sum(0)
--> rows:	2
--> tensor([3., 5., 7.], shape=(3,), dtype=float32, device=cpu)

-- %%
local function double(v) return 2 * v end
double(21), double(x[1][2])
--> 42, 2.0
