#!/usr/bin/env bash
# History persists in the home directory across two runs, a multi-line cell as one
# entry, and the file is kept to its size limit.
source "$(dirname "$0")/pty.sh"

pty_start
pty_line 'remembered = 42'
pty_line 'for i = 1, 2 do'
pty_line '  print("multi " .. i)'
pty_line 'end'
pty_wait_for 'multi 2'
pty_finish
pty_stop
[ -s "$PTY_HOME/.nnsh_history" ] || { echo "FAIL: no history file" >&2; exit 1; }

# Second run: Up brings back the multi-line cell whole, Up again the line before.
pty_start
pty_keys Up
pty_wait_for '  print("multi " .. i)'
pty_keys Up
pty_wait_for 'In [1]: remembered = 42'
pty_keys Enter
pty_line 'remembered + 1'
pty_wait_for 'Out[2]: 43'
pty_finish
pty_stop

# A third run with a limit of 2 cuts the file to the newest 2 entries.
pty_start NNSH_HISTORY_SIZE=2
pty_finish
pty_stop
entries=$(grep -c $'^\036[0-9]' "$PTY_HOME/.nnsh_history")
[ "$entries" -eq 2 ] || { echo "FAIL: expected 2 entries, found $entries" >&2; cat "$PTY_HOME/.nnsh_history" >&2; exit 1; }
grep -q 'remembered + 1' "$PTY_HOME/.nnsh_history" || { echo "FAIL: the newest entry is gone" >&2; exit 1; }

# A line of a cell that starts with '#' and a digit (a note in a long string) stays in its
# entry: Readline would read a "#<digits>" line as the next entry's time.
pty_start
pty_line 'notes = [['
pty_line '#2 try lr=1e-3'
pty_line 'done]]'
pty_wait_for 'In [2]: '
pty_finish
pty_stop
pty_start
pty_keys Up
pty_wait_for '#2 try lr=1e-3'
pty_wait_for 'In [1]: notes = [['
pty_keys C-u
pty_finish
pty_stop

# A file written before the mark was \036, with "#<time>" lines, is read as it was meant
# and written anew.
printf '#1700000000\nold_one = 1\n#1700000001\nfor i = 1, 2 do\n  print(i)\nend\n' >"$PTY_HOME/.nnsh_history"
pty_start
pty_keys Up
pty_wait_for '  print(i)'
pty_keys Up
pty_wait_for 'In [1]: old_one = 1'
pty_keys C-u
pty_finish
pty_stop
if grep -q '^#1700000000' "$PTY_HOME/.nnsh_history"; then
  echo "FAIL: the old marks stayed" >&2; exit 1
fi

# A history file that cannot be opened (here a directory) is said once, and the session
# works with history in memory; a size that is not a number is named too.
mkdir "$PTY_HOME/history-directory"
pty_start NNSH_HISTORY="$PTY_HOME/history-directory" NNSH_HISTORY_SIZE=lots
pty_wait_for "nnsh: history is not kept between sessions: cannot open $PTY_HOME/history-directory: Is a directory"
pty_wait_for 'nnsh: NNSH_HISTORY_SIZE=lots is not a number of entries from 0 to 1000000; keeping 1000'
pty_line 'kept = 7'
pty_wait_for 'In [2]: '
pty_wait_ready
pty_keys Up
pty_wait_for 'In [2]: kept = 7'
pty_keys C-u
pty_finish
pty_stop
echo "PASS history persisted across runs and cut to its limit"
