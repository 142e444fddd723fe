#!/usr/bin/env bash
# File names complete inside strings and after %run and %save, through directories
# (`/`, `nb/`), and are listed whole (`v1.2.txt`, not `txt`).
source "$(dirname "$0")/pty.sh"
files=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-files.XXXXXX")
trap 'pty_cleanup; rm -rf "$files"' EXIT
mkdir "$files/nb" "$files/data" "$files/my dir"
echo 'print("ran the spaced file")' >"$files/my dir/data file.lua"
touch "$files/nb/odd.lua" "$files/nb/even.lua" "$files/data/v1.2.txt" "$files/data/v1.3.txt" \
  "$files/here_in_the_current_directory.txt"
cd "$files"
pty_start

# A command's name completes with the space before its argument, so the file name can
# follow at once.
pty_type '%ru'
pty_keys Tab
pty_type 'nb/od'
pty_keys Tab
pty_wait_for 'In [1]: %run nb/odd.lua'
pty_keys C-u

# A unique file under a directory completes in full.
pty_type '%run nb/od'
pty_keys Tab
pty_wait_for 'In [1]: %run nb/odd.lua'
pty_keys C-u

# Two Tabs list the directory typed, not the current one.
pty_type '%run nb/'
pty_keys Tab Tab
pty_wait_for 'even.lua'
pty_wait_for 'odd.lua'
# The whole list is on the screen once Readline has drawn the line again below it.
pty_wait_count 'In [1]: %run nb/' 2
pty_refute 'here_in_the_current_directory'
pty_keys C-u
pty_type '%save data/v'
pty_keys Tab
pty_wait_for 'In [1]: %save data/v1.'
pty_keys C-u

# In a string: from the root, and names with dots listed whole.
pty_type 'x = "/'
pty_keys Tab Tab
pty_wait_for 'tmp/'
pty_wait_count 'In [1]: x = "/' 2
pty_refute 'here_in_the_current_directory'
pty_keys C-u
pty_type 'x = "data/v1.'
pty_keys Tab Tab
pty_wait_for 'v1.2.txt'
pty_wait_for 'v1.3.txt'
pty_keys C-u

# After %run, a name with a space completes escaped, as %run reads it, through its
# directory, and runs.
pty_type '%run my'
pty_keys Tab
pty_wait_for 'In [1]: %run my\ dir/'
pty_type 'da'
pty_keys Tab
pty_wait_for 'In [1]: %run my\ dir/data\ file.lua'
pty_keys Enter
pty_wait_for 'ran the spaced file'
# Inside quotes the user opened, the name goes in as it is, and runs.
pty_type '%run "my'
pty_keys Tab
pty_wait_for 'In [2]: %run "my dir/'
pty_type 'da'
pty_keys Tab
pty_wait_for 'In [2]: %run "my dir/data file.lua'
pty_type '"'
pty_keys Enter
pty_wait_count 'ran the spaced file' 2
# Under ~, through an escaped directory.
mkdir -p "$PTY_HOME/my home dir"
touch "$PTY_HOME/my home dir/inside.lua"
pty_type '%run ~/my\ home\ dir/ins'
pty_keys Tab
pty_wait_for 'In [3]: %run ~/my\ home\ dir/inside.lua'
pty_keys C-u
# In a Lua string the name is the string's text: no backslashes.
pty_type 'x = "my'
pty_keys Tab
pty_wait_for 'In [3]: x = "my dir/'
pty_keys C-u
pty_finish
echo "PASS file names complete through directories, are listed whole, and are escaped after %run"
