/* Ctrl-C while a cell runs (see interrupt.h). Cells do not nest, so one set of state.
 *
 * The signal handler can only set hooks, and a hook belongs to one Lua thread: the one a
 * cell runs in, and the coroutines it resumes. Those are kept on a stack (resume and wrap
 * are wrapped to push and pop), so the handler reaches the thread that is running. Once
 * set, the hook stays until the cell ends and stops every Lua step it sees, so a pcall in
 * a loop cannot swallow the stop: the loop's next step raises it again. */
#include <lauxlib.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include "interrupt.h"
#include "traceback.h"

/* Coroutines resumed inside each other: Lua's own limit on nested calls (200) keeps
 * them fewer. */
enum { MAX_THREADS = 256 };

static lua_State *volatile threads[MAX_THREADS]; /* the cell's thread, then coroutines */
static volatile sig_atomic_t thread_count;
static volatile sig_atomic_t interrupt_pending; /* Ctrl-C seen during this cell */
static volatile sig_atomic_t warned;           /* the note on a second Ctrl-C was written */
static bool keep_process;                      /* the shell: a repeated Ctrl-C never ends it */
static bool stopped_by_interrupt;              /* the hook stopped the code */
static struct sigaction previous_action;       /* the prompt's handler, put back after */

#define STOP_EVENTS (LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT)

static void stop_hook(lua_State *L, lua_Debug *debug_info)
{
    /* A coroutine hooked in an earlier cell and resumed later: nothing to stop. */
    if (!interrupt_pending) {
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    /* C functions run on, so that the message handler can report the stop. */
    if (debug_info->event != LUA_HOOKCOUNT && lua_getinfo(L, "S", debug_info) &&
        debug_info->what[0] == 'C')
        return;
    stopped_by_interrupt = true;
    luaL_error(L, "interrupted (Ctrl-C)");
}

static pthread_t cell_thread; /* the thread that runs the cell's Lua */

static void on_interrupt(int signal_number)
{
    /* A process-directed signal may run its handler on an OpenBLAS or OpenMP worker;
     * the hooks are set from the thread that runs the Lua code, as lua does. */
    if (!pthread_equal(pthread_self(), cell_thread)) {
        pthread_kill(cell_thread, signal_number);
        return;
    }
    if (interrupt_pending && !keep_process) {
        /* A script stuck in C: a second Ctrl-C ends it, as lua does. */
        signal(signal_number, SIG_DFL);
        raise(signal_number);
        return;
    }
    if (interrupt_pending && !warned) {
        static const char note[] = "\n(the cell is inside a C function and stops when it "
                                   "returns; Ctrl-\\ ends nnsh)\n";
        warned = 1;
        ssize_t written = write(STDERR_FILENO, note, sizeof note - 1);
        (void)written;
    }
    interrupt_pending = 1;
    for (int i = 0; i < thread_count; i++)
        lua_sethook(threads[i], stop_hook, STOP_EVENTS, 1);
}

/* The line of the Lua code that was running when the training stopped, and how deep its
 * frame was: a line event of that frame at or before it is a jump back (a loop's next
 * turn), one after it the statement going on; a shallower frame's first is a return. */
static int stopped_line, stopped_depth;

/* After a training stopped by Ctrl-C: stops the cell at its next call (the next fit, a
 * print) or jump back (a loop's next turn), not at a new line, so that a statement that
 * spans lines (`h = m:fit(x, y, {\n...})`) still finishes its assignment. */
static void stop_after_training_hook(lua_State *L, lua_Debug *debug_info)
{
    if (!interrupt_pending) {
        lua_sethook(L, NULL, 0, 0);
        return;
    }
    if (debug_info->event == LUA_HOOKLINE) {
        int depth = nnsh_stack_depth(L);
        bool jumped_back = depth == stopped_depth && debug_info->currentline <= stopped_line;
        if (depth < stopped_depth)
            stopped_depth = depth;
        stopped_line = debug_info->currentline;
        if (!jumped_back)
            return;
    }
    /* From here on as a Ctrl-C in Lua code: stop_hook lets the message handler (C) run
     * and stops every Lua step after, so a pcall around the loop cannot swallow it. */
    for (int i = 0; i < thread_count; i++)
        lua_sethook(threads[i], stop_hook, STOP_EVENTS, 1);
    stopped_by_interrupt = true;
    luaL_error(L, "interrupted (Ctrl-C)");
}

void nnsh_interrupt_stop_at_next_line(void)
{
    if (thread_count < 1)
        return;
    interrupt_pending = 1;
    /* The line of the innermost Lua function running (the one that called fit). */
    lua_State *running = threads[thread_count - 1];
    lua_Debug frame;
    stopped_line = 0;
    stopped_depth = 0;
    int depth = nnsh_stack_depth(running);
    for (int level = 0; lua_getstack(running, level, &frame); level++) {
        if (lua_getinfo(running, "Sl", &frame) && frame.what[0] != 'C') {
            stopped_line = frame.currentline;
            stopped_depth = depth - level; /* as nnsh_stack_depth counts from inside it */
            break;
        }
    }
    for (int i = 0; i < thread_count; i++)
        lua_sethook(threads[i], stop_after_training_hook, LUA_MASKLINE | LUA_MASKCALL, 0);
}

/* Puts co on the stack of running threads (hooked at once if Ctrl-C came already);
 * false when it is not put there (no cell runs, or too deep). */
static bool enter_thread(lua_State *co)
{
    if (!co || thread_count < 1 || thread_count >= MAX_THREADS)
        return false;
    if (interrupt_pending)
        lua_sethook(co, stop_hook, STOP_EVENTS, 1);
    threads[thread_count] = co;
    thread_count = thread_count + 1; /* after the slot is written: the handler reads it */
    return true;
}

/* What coroutine.resume does, with co on the stack of running threads meanwhile: moves
 * the arguments over, resumes, moves the results back. Returns how many results are on
 * L, or -1 with the error message on L. Nothing between entering and leaving can raise,
 * so co always leaves the stack; and no C call is added to Lua's count of nested ones
 * (a pcall around the library's resume halved how deep coroutines could nest). */
static int resume_watched(lua_State *L, lua_State *co, int argument_count)
{
    if (!lua_checkstack(co, argument_count)) {
        lua_pushliteral(L, "too many arguments to resume");
        return -1;
    }
    lua_xmove(L, co, argument_count);
    bool entered = enter_thread(co);
    int result_count = 0;
    int status = lua_resume(co, L, argument_count, &result_count);
    if (entered)
        thread_count = thread_count - 1;
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_xmove(co, L, 1); /* the error */
        return -1;
    }
    if (!lua_checkstack(L, result_count + 1)) {
        lua_pop(co, result_count);
        lua_pushliteral(L, "too many results to resume");
        return -1;
    }
    lua_xmove(co, L, result_count);
    return result_count;
}

/* coroutine.resume(co, ...), watched: true and the results, or false and the error. */
static int watched_resume(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    int result_count = resume_watched(L, co, lua_gettop(L) - 1);
    lua_pushboolean(L, result_count >= 0);
    if (result_count < 0) {
        lua_insert(L, -2);
        return 2;
    }
    lua_insert(L, -(result_count + 1));
    return result_count + 1;
}

/* The function coroutine.wrap returns, watched (upvalue 1: its coroutine): an error in
 * the coroutine ends it (its to-be-closed variables closed) and is raised again here,
 * a message with the caller's position in front. */
static int watched_wrapped_call(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    int result_count = resume_watched(L, co, lua_gettop(L));
    if (result_count >= 0)
        return result_count;
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) {
        status = lua_resetthread(co);
        lua_xmove(co, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* coroutine.wrap(f), watched. */
static int watched_wrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushcclosure(L, watched_wrapped_call, 1);
    return 1;
}

void nnsh_interrupt_watch_coroutines(lua_State *L)
{
    if (lua_getglobal(L, "coroutine") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_pushcfunction(L, watched_resume);
    lua_setfield(L, -2, "resume");
    lua_pushcfunction(L, watched_wrap);
    lua_setfield(L, -2, "wrap");
    lua_pop(L, 1);
}

void nnsh_interrupt_begin(lua_State *L, bool keep_running_process)
{
    struct sigaction action = {.sa_handler = on_interrupt};
    sigemptyset(&action.sa_mask);
    cell_thread = pthread_self();
    threads[0] = L;
    thread_count = 1;
    interrupt_pending = 0;
    warned = 0;
    keep_process = keep_running_process;
    stopped_by_interrupt = false;
    sigaction(SIGINT, &action, &previous_action);
}

bool nnsh_interrupt_end(lua_State *L)
{
    sigaction(SIGINT, &previous_action, NULL);
    thread_count = 0;
    interrupt_pending = 0;
    lua_sethook(L, NULL, 0, 0);
    bool stopped = stopped_by_interrupt;
    stopped_by_interrupt = false;
    return stopped;
}
