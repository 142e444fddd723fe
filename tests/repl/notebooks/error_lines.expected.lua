-- Errors in `-- %%` cells point at the file's own lines, not past the cell's end.

-- %% expect-error
history = {}
history.loss.last
--> error: error_lines.lua:5: attempt to index a nil value (field 'loss')

-- %% expect-error
x = nn.ones(2)
x[0]
--> error: error_lines.lua:9: tensor[i]: position 0 is out of range: rows are 1 to 2 (or -1 for the last)

-- %% expect-error
t = {}
t.missing.field -- a comment after the expression
--> error: error_lines.lua:13: attempt to index a nil value (field 'missing')

-- %% expect-error
t = {}
print(#t)
t
  .missing
  .field
--> 0
--> error: error_lines.lua:20: attempt to index a nil value (field 'missing')

-- %%
x:sum(), #x -- two values
--> 2.0, 2
