-- Errors in `-- %%` cells point at the file's own lines, not past the cell's end.

-- %% expect-error
history = {}
history.loss.last

-- %% expect-error
x = nn.ones(2)
x[0]

-- %% expect-error
t = {}
t.missing.field -- a comment after the expression

-- %% expect-error
t = {}
print(#t)
t
  .missing
  .field

-- %%
x:sum(), #x -- two values
