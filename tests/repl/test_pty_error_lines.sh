#!/usr/bin/env bash
# An error in a cell's last expression (a field of a missing table, an index) names the
# line that expression is on, as an error in any other statement does.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'qq = {}'
pty_line 'qq.history.x'
pty_wait_for "error: In[2]:1: attempt to index a nil value (field 'history')"
pty_line 'x = nn.ones(2)'
pty_line 'x[0]'
pty_wait_for 'error: In[4]:1: tensor[i]: position 0 is out of range'
pty_line 'qq.history.x -- a comment after it'
pty_wait_for "error: In[5]:1: attempt to index a nil value (field 'history')"
# In a cell of several lines: its second line, not a third after the cell.
pty_line 't = {'
pty_line '}; t.missing.field'
pty_wait_for "error: In[6]:2: attempt to index a nil value (field 'missing')"
pty_refute 'In[2]:2'
pty_refute 'In[4]:2'
pty_refute 'In[5]:2'
pty_refute 'In[6]:3'
# The values still show.
pty_line 'x:sum(), #x -- two values'
pty_wait_for 'Out[7]: 2.0, 2'
pty_finish
echo "PASS errors in a cell's last expression name its line"
