#!/usr/bin/env bash
# %save writes the session as a notebook: the cells that ran without error, each with
# its output; running that notebook gives the same document back.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'x = 20'
pty_line 'x + 1'
pty_wait_for 'Out[2]: 21'
pty_line 'missing_function()'
pty_wait_for 'error: In[3]:1:'
pty_line 'print("printed " .. x)'
pty_line "%save $PTY_HOME/saved.md"
pty_wait_for "saved 3 cells to $PTY_HOME/saved.md"
pty_line "%save $PTY_HOME/saved.lua"
pty_wait_for "saved 3 cells to $PTY_HOME/saved.lua"
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

```lua
print("printed " .. x)
```

```output
printed 20
```
'
expected_lua='-- nnsh session

-- %%
x = 20

-- %%
x + 1
--> 21

-- %%
print("printed " .. x)
--> printed 20
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
check "$PTY_HOME/rerun.md" "$expected_md"
echo "PASS %save writes the session as a notebook that runs again to the same document"
