/* Ctrl-C while a cell runs: as lua.c does, the SIGINT handler sets a hook that stops the
 * Lua code at its next step with the error "interrupted (Ctrl-C)". A second Ctrl-C
 * before that happens (code stuck in C) ends the program. nn's training loops put their
 * own handler in place while they run and stop at the next batch instead. */
#ifndef NNSH_INTERRUPT_H
#define NNSH_INTERRUPT_H

#include <lua.h>
#include <stdbool.h>

/* Installs the handler for code about to run in L; the previous handler is kept. */
void nnsh_interrupt_begin(lua_State *L);
/* Restores the previous handler; returns whether Ctrl-C stopped the code. */
bool nnsh_interrupt_end(lua_State *L);

#endif
