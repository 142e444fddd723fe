#!/usr/bin/env bash
# An error prints a short message (located in the cell, with a traceback of the user's
# frames only) and the shell goes on: the next cell works.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'nn.layers.Dense{4, unit = 3}'
pty_wait_for "error: In[1]:1: nn.layers.Dense: unknown argument 'unit'"
pty_line 'local function inner() error("deep trouble") end'
pty_line 'local function outer() inner() end'
pty_line 'outer()'
pty_wait_for 'error: In[2]:1: deep trouble'
pty_wait_for "  In[3]:1: in function 'outer'"
pty_wait_for '  In[4]:1: in main chunk'
pty_refute '[C]'
pty_line 'x = = 1'
pty_wait_for "error: In[5]:1: unexpected symbol near '='"
pty_line '1 + 1'
pty_wait_for 'Out[6]: 2'
pty_finish
echo "PASS errors print briefly and the next cell works"
