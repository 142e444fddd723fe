#!/usr/bin/env bash
# %save writes the session as a notebook: every cell that ran, each with its output, a
# failed one marked expect-error (it may have defined what later cells use), but not
# one that did not compile; running that notebook gives the same document back.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'x = 20'
pty_line 'x + 1'
pty_wait_for 'Out[2]: 21'
pty_line 'missing_function()'
pty_wait_for 'error: In[3]:1:'
pty_line 'print("printed " .. x)'
pty_line '("not" +)'
pty_wait_for "unexpected symbol near ')'"
pty_line 'function twice() return 2 * x end error("after twice")'
pty_wait_for 'error: In[6]:1: after twice'
pty_line 'twice()'
pty_wait_for 'Out[7]: 40'
pty_line "%save $PTY_HOME/saved.md"
pty_wait_for "saved 6 cells to $PTY_HOME/saved.md"
pty_line "%save $PTY_HOME/saved.lua"
pty_wait_for "saved 6 cells to $PTY_HOME/saved.lua"
pty_line '%quit'
pty_wait_exit

expected_md='# nnsh session

```lua
x = 20
```

```lua
x + 1
```

```output
21
```

```lua expect-error
missing_function()
```

```output
error: In[3]:1: attempt to call a nil value (global '"'"'missing_function'"'"')
```

```lua
print("printed " .. x)
```

```output
printed 20
```

```lua expect-error
function twice() return 2 * x end error("after twice")
```

```output
error: In[6]:1: after twice
```

```lua
twice()
```

```output
40
```
'
expected_lua='-- nnsh session

-- %%
x = 20

-- %%
x + 1
--> 21

-- %% expect-error
missing_function()
--> error: In[3]:1: attempt to call a nil value (global '"'"'missing_function'"'"')

-- %%
print("printed " .. x)
--> printed 20

-- %% expect-error
function twice() return 2 * x end error("after twice")
--> error: In[6]:1: after twice

-- %%
twice()
--> 40
'
check() {
  if ! diff -u <(printf '%s\n' "$2") "$1"; then
    echo "FAIL: $1 differs from what was expected (diff above)" >&2
    exit 1
  fi
}
check "$PTY_HOME/saved.md" "$expected_md"
check "$PTY_HOME/saved.lua" "$expected_lua"
(cd "$PTY_HOME" && "$NNSH" --notebook saved.md -o rerun.md 2>/dev/null)
# The errors now point into the file rather than at the shell's cells.
printf '%s\n' "$expected_md" |
  sed -e 's/In\[3\]:1:/saved.md:16:/' -e 's/In\[6\]:1:/saved.md:32:/' >"$PTY_HOME/expected.md"
if ! diff -u "$PTY_HOME/expected.md" "$PTY_HOME/rerun.md"; then
  echo "FAIL: the notebook run again differs from the saved one (diff above)" >&2
  exit 1
fi
(cd "$PTY_HOME" && "$NNSH" saved.lua >replayed.txt 2>replayed_errors.txt)
check "$PTY_HOME/replayed.txt" "21
printed 20
40"
check "$PTY_HOME/replayed_errors.txt" "nnsh: saved.lua:11: attempt to call a nil value (global 'missing_function')
nnsh: saved.lua:19: after twice"
echo "PASS %save writes the session as a notebook that runs again to the same document"
