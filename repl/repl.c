/* The interactive shell: a Readline loop that collects lines into cells (an unfinished
 * chunk continues on a "...:" line, as lua.c decides with <eof>), runs each cell in the
 * session, and owns the terminal between cells: Ctrl-C clears the line, Ctrl-D leaves (or,
 * on a continuation line, ends the unfinished cell).
 *
 * Readline's callback interface is used so that signals are seen in this loop, not in
 * a signal handler: SIGINT and SIGWINCH only set flags and wake the loop's select()
 * through a pipe, which brings it round to act on them. */
#include <errno.h>
#include <fcntl.h>
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

static volatile sig_atomic_t interrupted, resized, suspended, ending_signal;
static volatile sig_atomic_t at_prompt; /* Readline has the terminal (raw) */

/* The handlers also write a byte here, which the prompt loop's select() watches beside
 * the terminal. A process-directed signal may run its handler on any thread (OpenBLAS
 * and OpenMP keep workers), and then the main thread's select() is not interrupted; the
 * byte wakes it whichever thread ran the handler, and whenever the signal came. */
static int wake_pipe[2] = {-1, -1};

static void wake_prompt(void)
{
    int saved_errno = errno;
    if (wake_pipe[1] >= 0 && write(wake_pipe[1], "!", 1) < 0) {
        /* full: a wake-up is already pending, which is all that is needed */
    }
    errno = saved_errno;
}

static void on_prompt_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
    wake_prompt();
}

static void on_resize(int signal_number)
{
    (void)signal_number;
    resized = 1;
    wake_prompt();
}

/* Ctrl-Z: at the prompt, the loop gives the terminal back before it stops and takes it
 * again after (rl_catch_signals is off, so Readline does not); while a cell runs, the
 * terminal is the cell's and the process just stops. */
static void on_suspend(int signal_number)
{
    if (at_prompt) {
        suspended = 1;
        wake_prompt();
        return;
    }
    int saved_errno = errno;
    struct sigaction stop = {.sa_handler = SIG_DFL}, ours;
    sigemptyset(&stop.sa_mask);
    sigaction(signal_number, &stop, &ours);
    raise(signal_number); /* stops here until fg */
    sigaction(signal_number, &ours, NULL);
    errno = saved_errno;
}

/* SIGTERM and SIGHUP: at the prompt the loop restores the terminal's modes first (a
 * killed shell would leave it without echo); otherwise they end the program at once. */
static void on_ending_signal(int signal_number)
{
    if (at_prompt) {
        ending_signal = signal_number;
        wake_prompt();
        return;
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void drain_wake_pipe(void)
{
    char bytes[64];
    while (read(wake_pipe[0], bytes, sizeof bytes) > 0) {
    }
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
 * Ctrl-C threw the input away instead. The signal flags are checked after every wait,
 * and a signal always ends the wait (see wake_pipe), so none goes unseen until the next
 * key (the tty flushes pending input on Ctrl-C, so there may be none). */
static char *read_line(const char *prompt, nn_text *pending, bool *cleared)
{
    line_ready = false;
    entered_line = NULL;
    *cleared = false;
    /* A Ctrl-C that came while no cell code ran (a % command) is not for this prompt. */
    interrupted = 0;
    drain_wake_pipe();
    rl_callback_handler_install(prompt, take_line);
    at_prompt = 1;
    if (resized) { /* the terminal changed size while the cell ran */
        resized = 0;
        rl_resize_terminal();
    }
    while (!line_ready) {
        int input = fileno(rl_instream);
        fd_set readable;
        FD_ZERO(&readable);
        FD_SET(input, &readable);
        FD_SET(wake_pipe[0], &readable);
        int ready = select((input > wake_pipe[0] ? input : wake_pipe[0]) + 1, &readable, NULL,
                           NULL, NULL);
        int select_error = ready < 0 ? errno : 0; /* before the handling below changes it */
        if (ready > 0 && FD_ISSET(wake_pipe[0], &readable))
            drain_wake_pipe();
        if (ending_signal) {
            int signal_number = ending_signal;
            rl_callback_handler_remove(); /* the terminal's own modes back */
            fputs("\n", rl_outstream);
            fflush(rl_outstream);
            nnsh_history_close();
            signal(signal_number, SIG_DFL);
            raise(signal_number);
        }
        if (suspended) {
            suspended = 0;
            /* Only the terminal's modes change hands: the line typed so far stays. */
            rl_deprep_term_function();
            fputs("\n", rl_outstream);
            fflush(rl_outstream);
            struct sigaction stop = {.sa_handler = SIG_DFL}, ours;
            sigemptyset(&stop.sa_mask);
            sigaction(SIGTSTP, &stop, &ours);
            raise(SIGTSTP); /* stops here until fg */
            sigaction(SIGTSTP, &ours, NULL);
            rl_prep_term_function(1);
            rl_forced_update_display();
        }
        if (interrupted) {
            interrupted = 0;
            at_prompt = 0;
            clear_input(pending);
            *cleared = true;
            return NULL;
        }
        if (resized) {
            resized = 0;
            rl_resize_terminal();
        }
        if (ready < 0 && select_error != EINTR) {
            at_prompt = 0;
            rl_callback_handler_remove();
            return NULL;
        }
        if (ready > 0 && FD_ISSET(input, &readable))
            rl_callback_read_char();
    }
    at_prompt = 0;
    return entered_line;
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
    if (!start->script)
        return;
    /* %save writes the script as "%run 'lesson.lua' 'first'", quoted as %run reads it. */
    nn_text command;
    nn_text_init(&command);
    nn_text_append(&command, "%run");
    for (int i = -1; i < start->script_arg_count; i++) {
        const char *word = i < 0 ? start->script : start->script_args[i];
        nn_text_append(&command, " '");
        for (const char *quote; (quote = strchr(word, '\'')) != NULL; word = quote + 1) {
            nn_text_append_n(&command, word, (size_t)(quote - word));
            nn_text_append(&command, "'\\''");
        }
        nn_text_append(&command, word);
        nn_text_append(&command, "'");
    }
    nnsh_session_run_start_file(session, start->script, command.failed ? "" : command.data);
    nn_text_free(&command);
}

int nnsh_repl(lua_State *L, const nnsh_repl_start *start)
{
    nnsh_session *session = nnsh_session_create(L, NNSH_SESSION_SHELL);
    if (!session) {
        fputs("nnsh: cannot start the shell\n", stderr);
        return LUA_ERRMEM;
    }
    nn_text pending;
    nn_text_init(&pending);
    rl_readline_name = "nnsh";
    /* nnsh > file: the prompt and the echo of what is typed go to the terminal on
     * standard error, and the file gets the output only (no escape codes). */
    if (!isatty(STDOUT_FILENO) && isatty(STDERR_FILENO))
        rl_outstream = stderr;
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    nnsh_history_open();
    nnsh_complete_install(session, &pending);

    if (pipe(wake_pipe) != 0 || fcntl(wake_pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(wake_pipe[1], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(wake_pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(wake_pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
        perror("nnsh: cannot start the shell");
        for (int end = 0; end < 2; end++)
            if (wake_pipe[end] >= 0)
                close(wake_pipe[end]);
        wake_pipe[0] = wake_pipe[1] = -1;
        nnsh_session_free(session);
        return LUA_ERRERR;
    }
    struct sigaction interrupt = {.sa_handler = on_prompt_interrupt};
    struct sigaction resize = {.sa_handler = on_resize};
    /* SA_NODEFER: the handler stops the process with the signal it runs for, which must
     * not be blocked then (it would stay pending and call the handler again forever). */
    struct sigaction suspend = {.sa_handler = on_suspend, .sa_flags = SA_RESTART | SA_NODEFER};
    struct sigaction ending = {.sa_handler = on_ending_signal};
    struct sigaction previous_interrupt, previous_resize, previous_suspend;
    struct sigaction previous_ending[2];
    static const int ending_signals[2] = {SIGTERM, SIGHUP};
    sigemptyset(&interrupt.sa_mask);
    sigemptyset(&resize.sa_mask);
    sigemptyset(&suspend.sa_mask);
    sigemptyset(&ending.sa_mask);
    /* A resize must not fail the write or read a cell is blocked in (a long record into
     * a slow terminal): one write failing with EINTR leaves glibc's stdout writing
     * nothing ever again. The wake pipe ends the prompt's select() all the same. */
    resize.sa_flags = SA_RESTART;
    sigaction(SIGINT, &interrupt, &previous_interrupt);
    sigaction(SIGWINCH, &resize, &previous_resize);
    sigaction(SIGTSTP, &suspend, &previous_suspend);
    for (int i = 0; i < 2; i++) {
        sigaction(ending_signals[i], NULL, &previous_ending[i]);
        if (previous_ending[i].sa_handler != SIG_IGN) /* nohup's SIGHUP stays ignored */
            sigaction(ending_signals[i], &ending, NULL);
    }

    print_banner();
    run_start(session, start);
    for (;;) {
        char prompt[64];
        nnsh_cell_prompt(prompt, sizeof prompt, nnsh_session_next_number(session),
                         pending.length > 0);
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
    sigaction(SIGTSTP, &previous_suspend, NULL);
    for (int i = 0; i < 2; i++)
        sigaction(ending_signals[i], &previous_ending[i], NULL);
    nnsh_history_close();
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    nn_text_free(&pending);
    nnsh_session_free(session);
    return LUA_OK;
}
