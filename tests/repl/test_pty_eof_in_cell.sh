#!/usr/bin/env bash
# Ctrl-D on a "...:" line ends the unfinished cell, not the session: the cell reports what
# it lacks, the variables stay, later cells print as before, the cell comes back with Up
# to be finished, and Ctrl-D at an empty prompt still leaves.
source "$(dirname "$0")/pty.sh"
pty_start

pty_line 'kept = 41'
pty_wait_for 'In [2]: '
pty_line 'for i = 1, 3 do'
pty_wait_for '   ...: '
pty_keys C-d
pty_wait_for "'end' expected near <eof>"
pty_wait_ready
pty_line 'kept + 1'
pty_wait_for 'Out[3]: 42'
# A cell ended inside a bracket says which bracket, and where it opened.
pty_line 'model = nn.Sequential{'
pty_wait_for '   ...: '
pty_line '  nn.layers.Dense{4},'
pty_wait_for '   ...: '
pty_keys C-d
pty_wait_for 'In[4]:2: unexpected symbol near <eof>'
pty_wait_for 'hint: the { opened on line 1 is never closed: a } is missing'
pty_wait_ready
# Readline's end-of-input state is gone: no blank line between an input and its output.
after=$(pty_screen | grep -F -A1 'In [3]: kept + 1' | tail -n 1)
[ "$after" = 'Out[3]: 42' ] || pty_fail "after the input came '$after' instead of its output"
pty_wait_ready
pty_keys Up Up Up
pty_wait_for 'In [5]: for i = 1, 3 do'
pty_keys C-u C-k
pty_finish
echo "PASS Ctrl-D on a continuation line ends the cell and the session goes on"
