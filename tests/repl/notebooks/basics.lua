-- A small lesson as a Lua notebook: `-- %%` starts a cell, outputs follow as `-->`.
nn.random.seed(7)

-- %%
local x = nn.arange(6):reshape(2, 3)
x

-- %% the old output below is replaced
print('rows:', #x)
x:sum(0)
--> this old output is replaced

-- %%
local function double(v) return 2 * v end
double(21), double(x[1][2])
