# Helpers for tests that run nnsh in a real pseudo-terminal: each test gets its own
# tmux server (a unique -L socket), polls the screen for text with bounded timeouts,
# and reads the scrollback after the program ends. Needs bash and tmux; a test without
# tmux is skipped (exit 77).
#   source "$(dirname "$0")/lib.sh" "$1"     # $1: the nnsh program
#   view_start 100 32 'command'              # in the test's folder, LANG=C.UTF-8
#   view_wait 'text' 30 || fail 'no text'
set -u
NNSH=$(realpath "${1:?usage: $0 path/to/nnsh}")
VIEW_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
# Sanitizer builds: libraries that keep caches until exit (fontconfig, terminfo) are not
# leaks of ours (CTest sets the same).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$VIEW_DIR/lsan.supp}

# Each session gets a server of its own: a server still shutting down must never be
# reached by the next test step ("server exited unexpectedly").
VIEW_SOCKET_BASE="nnsh-$(basename "$0" .sh)-$$"
VIEW_SESSIONS=0
VIEW_SOCKET="$VIEW_SOCKET_BASE-0"
VIEW_TMP=$(mktemp -d "${TMPDIR:-/tmp}/nnsh-view.XXXXXX")
view_cleanup() {
  for ((i = 1; i <= VIEW_SESSIONS; i++)); do
    tmux -L "$VIEW_SOCKET_BASE-$i" kill-server 2>/dev/null
  done
  # A killed server can leave its socket file behind.
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$VIEW_SOCKET_BASE-"*
  rm -rf "$VIEW_TMP"
}
trap view_cleanup EXIT

# The pane stays after its program exits, with a long scrollback and a known terminal.
cat > "$VIEW_TMP/tmux.conf" <<'CONF'
set -g default-terminal tmux-256color
set -g remain-on-exit on
set -g history-limit 10000
set -g status off
CONF

view_tmux() { tmux -L "$VIEW_SOCKET" "$@"; }
VIEW_END_TITLE=nnsh-view-command-ended

# view_start WIDTH HEIGHT COMMAND [VAR=VALUE...]: ends the previous session and starts a
# new one running COMMAND (through
# sh, not with exec, so its status is kept) in tests/view, with LANG=C.UTF-8, NNSH=the
# program, and the extra variables.
# When COMMAND ends, its shell sets the pane title to VIEW_END_TITLE and stays: tmux 3.3
# drops what a pane's program wrote but tmux had not read yet when the pane's command
# exits (up to the terminal's buffer, tens of kilobytes: the end of a record, its charts
# and RESULT line), so the pane must outlive the output. The title is set through the
# terminal, after the output, so once tmux shows it tmux has read everything before it.
view_start() {
  local width=$1 height=$2 command=$3
  shift 3
  view_tmux kill-server 2>/dev/null
  rm -f "$VIEW_TMP/exit"
  VIEW_SESSIONS=$((VIEW_SESSIONS + 1))
  VIEW_SOCKET="$VIEW_SOCKET_BASE-$VIEW_SESSIONS"
  # The same locale and colour settings whatever the CI machine has exported.
  local environment=(-e LANG=C.UTF-8 -e LC_ALL= -e LC_CTYPE= -e NO_COLOR= -e NNSH_LIVE=
                     -e "NNSH=$NNSH" -e "VIEW_TMP=$VIEW_TMP")
  for assignment in "$@"; do environment+=(-e "$assignment"); done
  view_tmux -f "$VIEW_TMP/tmux.conf" new-session -d -x "$width" -y "$height" \
    "${environment[@]}" -c "$VIEW_DIR" \
    "$command; status=\$?; printf '\\033]2;%s\\033\\\\' $VIEW_END_TITLE; echo \$status > \"\$VIEW_TMP/exit\"; exec sleep 86400"
}

# What the terminal shows now (wrapped lines joined).
view_screen() { view_tmux capture-pane -p -J 2>/dev/null; }
# The same with colour escape codes.
view_screen_escapes() { view_tmux capture-pane -p -e 2>/dev/null; }
# Everything: the scrollback and the screen.
view_scrollback() { view_tmux capture-pane -p -J -S - -E - 2>/dev/null; }

# view_wait TEXT [SECONDS] [screen|scrollback]: polls until TEXT shows.
view_wait() {
  local text=$1 timeout=${2:-60} where=${3:-screen}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    if "view_$where" | grep -qF -- "$text"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# view_wait_regex REGEX [SECONDS]: polls until a line of the screen matches (grep -E).
view_wait_regex() {
  local regex=$1 timeout=${2:-60}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    if view_screen | grep -qE -- "$regex"; then return 0; fi
    sleep 0.1
  done
  return 1
}

# view_wait_all SECONDS TEXT...: polls until one screen shows every TEXT.
view_wait_all() {
  local timeout=$1
  shift
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    local screen missing=
    screen=$(view_screen)
    for text in "$@"; do
      grep -qF -- "$text" <<<"$screen" || { missing=yes; break; }
    done
    [ -z "$missing" ] && return 0
    sleep 0.1
  done
  return 1
}

# The exit status of the pane's command once it has ended and tmux has read all its
# output (waits up to SECONDS): the scrollback is complete afterwards. The command's
# shell writes the status to a file: tmux's own pane_dead_status is not always set.
view_exit_status() {
  local timeout=${1:-60}
  local end=$((SECONDS + timeout))
  while ((SECONDS < end)); do
    if [ -s "$VIEW_TMP/exit" ] &&
       [ "$(view_tmux display-message -p '#{pane_title}' 2>/dev/null)" = "$VIEW_END_TITLE" ]; then
      cat "$VIEW_TMP/exit"
      return 0
    fi
    sleep 0.1
  done
  echo timeout
  return 1
}

fail() {
  echo "FAIL: $*"
  echo "----- screen -----"
  view_screen
  echo "----- scrollback -----"
  view_scrollback | tail -60
  exit 1
}

pass() { echo "PASS: $*"; }
