/* Ctrl-C while a cell runs (see interrupt.h). Cells do not nest, so one set of state. */
#include <lauxlib.h>
#include <signal.h>
#include <stdbool.h>

#include "interrupt.h"

static lua_State *running_state;            /* where the hook goes */
static volatile sig_atomic_t interrupt_pending; /* Ctrl-C seen, hook not yet run */
static bool stopped_by_interrupt;           /* the hook stopped the code */
static struct sigaction previous_action;    /* the prompt's handler, put back after */

static void stop_hook(lua_State *L, lua_Debug *debug_info)
{
    (void)debug_info;
    lua_sethook(L, NULL, 0, 0);
    interrupt_pending = 0;
    stopped_by_interrupt = true;
    luaL_error(L, "interrupted (Ctrl-C)");
}

static void on_interrupt(int signal_number)
{
    if (interrupt_pending) {
        signal(signal_number, SIG_DFL);
        raise(signal_number);
        return;
    }
    interrupt_pending = 1;
    lua_sethook(running_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void nnsh_interrupt_begin(lua_State *L)
{
    struct sigaction action = {.sa_handler = on_interrupt};
    sigemptyset(&action.sa_mask);
    running_state = L;
    interrupt_pending = 0;
    stopped_by_interrupt = false;
    sigaction(SIGINT, &action, &previous_action);
}

bool nnsh_interrupt_end(lua_State *L)
{
    sigaction(SIGINT, &previous_action, NULL);
    lua_sethook(L, NULL, 0, 0);
    running_state = NULL;
    bool stopped = stopped_by_interrupt;
    stopped_by_interrupt = false;
    return stopped;
}
