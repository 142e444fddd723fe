/* The interactive shell: a Readline loop that collects lines into cells (an unfinished
 * chunk continues on a "...:" line, as lua.c decides with <eof>), runs each cell in the
 * session, and owns the terminal between cells: Ctrl-C clears the line, Ctrl-D leaves (or,
 * on a continuation line, ends the unfinished cell).
 *
 * Readline's callback interface is used so that signals are seen in this loop, not in
 * a signal handler: SIGINT and SIGWINCH only set flags, and pselect() returning EINTR
 * brings the loop round to act on them. */
#include <errno.h>
#include <readline/readline.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "complete.h"
#include "history.h"
#include "repl.h"
#include "session.h"

static volatile sig_atomic_t interrupted, resized;

static void on_prompt_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

static void on_resize(int signal_number)
{
    (void)signal_number;
    resized = 1;
}

/* The line Readline handed over, once it has one. */
static char *entered_line;
static bool line_ready;

static void take_line(char *line)
{
    entered_line = line;
    line_ready = true;
    rl_callback_handler_remove(); /* the cell runs with the terminal in its normal mode */
#if RL_READLINE_VERSION >= 0x0801
    /* Readline ends the line after a Ctrl-D as it leaves its mode, and would go on doing
     * so after every later line (a blank line between each input and its output) while
     * this stays set. */
    rl_eof_found = 0;
#endif
}

/* "In [12]: " for a new cell, "    ...: " (as wide) for its next lines. */
static void make_prompt(char *prompt, size_t size, int number, bool continuation)
{
    int width = snprintf(prompt, size, "In [%d]: ", number);
    if (continuation)
        snprintf(prompt, size, "%*s", width, "...: ");
}

/* Forgets the line being typed and any unfinished cell, as Ctrl-C does. */
static void clear_input(nn_text *pending)
{
    /* ^C goes after the text typed so far; leaving Readline's mode may send the cursor
     * back to the start of the line, so the newline comes after that. */
    fputs("^C", rl_outstream);
    fflush(rl_outstream);
    rl_free_line_state();
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    fputs("\n", rl_outstream);
    fflush(rl_outstream);
    pending->length = 0;
}

/* Reads one line with the prompt; NULL at end of input (Ctrl-D). *cleared is set when
 * Ctrl-C threw the input away instead.
 *
 * SIGINT and SIGWINCH stay blocked here except inside pselect(), which unblocks them
 * atomically: a Ctrl-C that lands while Readline handles a key is then delivered when the
 * loop next waits, and seen at once. With select(), one landing between the check of
 * the flag and the wait went unseen until the next key (the tty flushes pending input on
 * Ctrl-C, so there may be none). */
static char *read_line(const char *prompt, nn_text *pending, bool *cleared)
{
    line_ready = false;
    entered_line = NULL;
    *cleared = false;
    sigset_t signals, waiting;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGWINCH);
    sigprocmask(SIG_BLOCK, &signals, &waiting);
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGWINCH);
    interrupted = 0; /* a Ctrl-C from before this prompt showed is not meant for it */
    rl_callback_handler_install(prompt, take_line);
    while (!line_ready) {
        int input = fileno(rl_instream);
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(input, &readable);
        int ready = pselect(input + 1, &readable, NULL, NULL, NULL, &waiting);
        if (interrupted) {
            interrupted = 0;
            clear_input(pending);
            *cleared = true;
            break;
        }
        if (resized) {
            resized = 0;
            rl_resize_terminal();
        }
        if (ready < 0 && errno != EINTR) {
            rl_callback_handler_remove();
            break;
        }
        if (ready > 0)
            rl_callback_read_char();
    }
    sigprocmask(SIG_UNBLOCK, &signals, NULL);
    return line_ready ? entered_line : NULL;
}

static void print_banner(void)
{
    if (!isatty(STDIN_FILENO))
        return;
    printf("nnsh %s (%s): help() for help, %%quit or Ctrl-D to leave\n", NNSH_VERSION_STRING,
           LUA_RELEASE);
}

/* nnsh -i: the -e chunks and the script, before the first prompt. An error is shown and
 * the shell starts anyway, with whatever the code left behind to look at. */
static void run_start(nnsh_session *session, const nnsh_repl_start *start)
{
    if (!start)
        return;
    for (int i = 0; i < start->code_count; i++)
        if (nnsh_session_run_code(session, start->code[i], strlen(start->code[i]),
                                  "=(command line)", 1, false) != NNSH_CELL_OK)
            return;
    if (start->script)
        nnsh_session_run_file(session, start->script);
}

int nnsh_repl(lua_State *L, const nnsh_repl_start *start)
{
    nnsh_session *session = nnsh_session_create(L, true);
    if (!session) {
        fputs("nnsh: cannot start the shell\n", stderr);
        return LUA_ERRMEM;
    }
    nn_text pending;
    nn_text_init(&pending);
    rl_readline_name = "nnsh";
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    nnsh_history_open();
    nnsh_complete_install(session, &pending);

    struct sigaction interrupt = {.sa_handler = on_prompt_interrupt};
    struct sigaction resize = {.sa_handler = on_resize};
    struct sigaction previous_interrupt, previous_resize;
    sigemptyset(&interrupt.sa_mask);
    sigemptyset(&resize.sa_mask);
    /* A resize must not fail the write or read a cell is blocked in (a long record into
     * a slow terminal): one write failing with EINTR leaves glibc's stdout writing
     * nothing ever again. pselect() above still returns EINTR: it is never restarted. */
    resize.sa_flags = SA_RESTART;
    sigaction(SIGINT, &interrupt, &previous_interrupt);
    sigaction(SIGWINCH, &resize, &previous_resize);

    print_banner();
    run_start(session, start);
    for (;;) {
        char prompt[64];
        make_prompt(prompt, sizeof prompt, nnsh_session_next_number(session), pending.length > 0);
        bool cleared;
        char *line = read_line(prompt, &pending, &cleared);
        if (cleared)
            continue;
        if (!line) {
            if (pending.length == 0) {
                fputs("\n", stdout);
                break;
            }
            /* Ctrl-D on a "...:" line ends the cell, not the session (as in lua.c and
             * bash): the cell runs and says what it lacks ("'end' expected near
             * <eof>"), and stays in the history to be finished. */
            nnsh_history_add(pending.data);
            nnsh_session_run_cell(session, pending.data, pending.length, NULL, 0);
            pending.length = 0;
            continue;
        }
        if (pending.length > 0)
            nn_text_append(&pending, "\n");
        nn_text_append(&pending, line);
        free(line);
        if (pending.failed) {
            fputs("nnsh: out of memory; the input is dropped\n", stderr);
            nn_text_free(&pending);
            nn_text_init(&pending);
            continue;
        }
        if (pending.data[strspn(pending.data, " \t\r\n")] == '\0') {
            pending.length = 0; /* an empty line is not a cell */
            continue;
        }
        if (nnsh_session_needs_more(session, pending.data, pending.length))
            continue;
        nnsh_history_add(pending.data);
        nnsh_cell_status status =
            nnsh_session_run_cell(session, pending.data, pending.length, NULL, 0);
        pending.length = 0;
        if (status == NNSH_CELL_QUIT)
            break;
    }
    sigaction(SIGINT, &previous_interrupt, NULL);
    sigaction(SIGWINCH, &previous_resize, NULL);
    nnsh_history_close();
    nn_text_free(&pending);
    nnsh_session_free(session);
    return LUA_OK;
}
