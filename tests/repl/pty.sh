# Drives the real nnsh shell through a pseudo-terminal (a private tmux server), for the
# tests/repl/test_pty_*.sh scripts. Source it, then:
#   pty_start [ENV=VALUE...]   start nnsh (with arguments PTY_ARGS) in a 120x40 terminal
#   pty_type TEXT              type TEXT literally (no Enter)
#   pty_line TEXT              type TEXT and press Enter
#   pty_keys KEY...            press keys by tmux name (Enter, Tab, C-c, C-d, Up)
#   pty_wait_for TEXT          wait until TEXT is on the screen (fails after a timeout)
#   pty_wait_count TEXT N      wait until TEXT is on N lines of the screen
#   pty_wait_ready             wait for an empty prompt (before keys like Ctrl-D)
#   pty_wait_exit              wait until nnsh has ended, and check it ended cleanly
#   pty_finish                 leave with Ctrl-D and check nnsh ended cleanly
#   pty_screen                 print the screen
# Every wait polls the screen; nothing relies on sleeping long enough.
set -euo pipefail

NNSH=${NNSH:?set NNSH to the nnsh program}
PTY_TIMEOUT=${PTY_TIMEOUT:-30}
PTY_HOME=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-pty-home.XXXXXX")
PTY_RUNS=0
PTY_TMUX=(true)
PTY_ARGS=() # nnsh's own arguments, for the next pty_start

if ! command -v tmux >/dev/null; then
  echo "tmux is not installed; skipping" >&2
  exit 77
fi

pty_cleanup() {
  pty_stop
  rm -rf "$PTY_HOME"
}
trap pty_cleanup EXIT

pty_start() {
  # Each run gets its own tmux server: a server being shut down could otherwise take
  # the next run's session with it. The previous run's server is ended here (it stays,
  # its pane kept by remain-on-exit, until killed).
  pty_stop
  PTY_RUNS=$((PTY_RUNS + 1))
  PTY_TMUX=(tmux -L "nnsh-test-$$-$RANDOM-$PTY_RUNS" -f /dev/null)
  # The shell's own state (history) lives in a private home; no user inputrc.
  # remain-on-exit keeps the screen readable after nnsh ends.
  "${PTY_TMUX[@]}" new-session -d -x 120 -y 40 \
    env HOME="$PTY_HOME" INPUTRC=/dev/null TERM=screen LC_ALL=C.UTF-8 "$@" "$NNSH" \
    "${PTY_ARGS[@]}" \; \
    set-option -w remain-on-exit on >/dev/null
  pty_wait_for "In [1]: "
}

pty_screen() { "${PTY_TMUX[@]}" capture-pane -p -J -S -200; }

pty_type() { "${PTY_TMUX[@]}" send-keys -l -- "$1"; }

pty_line() {
  pty_type "$1"
  "${PTY_TMUX[@]}" send-keys Enter
}

pty_keys() { "${PTY_TMUX[@]}" send-keys "$@"; }

pty_fail() {
  echo "FAIL: $1" >&2
  echo "---- screen ----" >&2
  pty_screen >&2 || true
  echo "----------------" >&2
  exit 1
}

# Waits until `grep -F -c TEXT` on the screen reaches N (default 1).
pty_wait_count() {
  local text=$1 want=${2:-1} waited=0
  while :; do
    local have
    have=$(pty_screen | grep -F -c -- "$text" || true)
    [ "$have" -ge "$want" ] && return 0
    if [ "$waited" -ge $((PTY_TIMEOUT * 20)) ]; then
      pty_fail "expected '$text' on $want line(s) of the screen, found $have"
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
}

pty_wait_for() { pty_wait_count "$1" 1; }

# A clean end: exit status 0 and no sanitizer report on the screen (sanitizer builds run
# these tests too).
pty_wait_exit() {
  # tmux knows the exit status a moment after it sees the terminal close. Now and then
  # it misses the SIGCHLD of a process that exits slowly (as sanitizer builds do) and
  # never collects the status; another SIGCHLD makes it look again.
  local waited=0 status=''
  while [ -z "$status" ]; do
    if [ "$waited" -ge $((PTY_TIMEOUT * 20)) ]; then
      pty_fail "nnsh did not exit"
    fi
    sleep 0.05
    waited=$((waited + 1))
    if [ $((waited % 10)) = 0 ] &&
       [ "$("${PTY_TMUX[@]}" display-message -p '#{pane_dead}')" = 1 ]; then
      kill -CHLD "$("${PTY_TMUX[@]}" display-message -p '#{pid}')" 2>/dev/null || true
    fi
    status=$("${PTY_TMUX[@]}" display-message -p '#{pane_dead_status}#{?pane_dead_signal,signal #{pane_dead_signal},}')
  done
  [ "$status" = 0 ] || pty_fail "nnsh exited with status $status"
  if pty_screen | grep -E -q 'Sanitizer|runtime error:'; then
    pty_fail "a sanitizer reported a problem"
  fi
}

# Waits until the shell shows an empty prompt, ready for keys: keys sent while a cell is
# still running reach the terminal in its normal mode, where Ctrl-D and Ctrl-C mean
# something else.
pty_wait_ready() {
  local waited=0
  until pty_screen | grep -v '^[[:space:]]*$' | tail -n 1 | grep -E -q '^In \[[0-9]+\]: *$'; do
    if [ "$waited" -ge $((PTY_TIMEOUT * 20)) ]; then
      pty_fail "the shell did not come back to its prompt"
    fi
    sleep 0.05
    waited=$((waited + 1))
  done
}

pty_finish() {
  pty_wait_ready
  pty_keys C-d
  pty_wait_exit
}

# Asserts TEXT is not on the screen now.
pty_refute() {
  if pty_screen | grep -F -q -- "$1"; then
    pty_fail "did not expect '$1' on the screen"
  fi
}

# Ends the session: kills the terminal (and nnsh with it).
pty_stop() { "${PTY_TMUX[@]}" kill-server 2>/dev/null || true; }
