/* Ctrl-C while a cell runs: as lua.c does, the SIGINT handler sets a hook that stops the
 * Lua code at its next step with the error "interrupted (Ctrl-C)"; here the hook reaches
 * the coroutine that runs, and stays until the cell ends, so code that catches the error
 * (a pcall in a loop) is stopped at its next step again. A second Ctrl-C before the code
 * reaches a Lua step (stuck in C) ends a script, as lua does, and in the shell only says
 * so: the session is never lost. nn's training loops put their own handler in place
 * while they run and stop at the next batch instead. */
#ifndef NNSH_INTERRUPT_H
#define NNSH_INTERRUPT_H

#include <lua.h>
#include <stdbool.h>

/* Installs the handler for code about to run in L; the previous handler is kept.
 * keep_process: the shell's, where a repeated Ctrl-C does not end the program. */
void nnsh_interrupt_begin(lua_State *L, bool keep_process);
/* Restores the previous handler; returns whether Ctrl-C stopped the code. */
bool nnsh_interrupt_end(lua_State *L);

/* After a training loop stopped by Ctrl-C returned to the cell (see
 * nn_lua_set_interrupted_fit_handler): the cell stops at its next call or the next turn
 * of its loop, as though Ctrl-C had come there; the statement that trained finishes its
 * assignment, so `h = model:fit(...)` keeps its history, over several lines too. Nothing
 * when no cell runs. */
void nnsh_interrupt_stop_at_next_line(void);

/* Wraps coroutine.resume and coroutine.wrap of L's globals so that Ctrl-C reaches the
 * coroutines they run. */
void nnsh_interrupt_watch_coroutines(lua_State *L);

#endif
