/* The message handler of cells: an error message located in the user's code (nn's
 * errors name their function, not a line, so the cell's line is put in front), and a
 * traceback of the user's own frames (cells, files) when there is more than one;
 * frames of C, of nn's embedded Lua and of the shell itself are left out. */
#ifndef NNSH_TRACEBACK_H
#define NNSH_TRACEBACK_H

#include <lua.h>
#include <stdbool.h>

/* For lua_pcall: turns the error on top of the stack into the message to show. */
int nnsh_traceback_handler(lua_State *L);

/* "file.lua:3: " of the innermost frame of the user's code (a cell, a file, -e's code),
 * not of C or nn's embedded Lua; "" when there is none. Returns buf. */
const char *nnsh_user_location(lua_State *L, char *buf, size_t size);

/* Whether a message already starts with "chunk:line:". */
bool nnsh_message_has_location(const char *message);

/* The number of the deepest frame of L's stack that exists (0: only the running one), in
 * a few dozen lua_getstack calls however deep it is. */
int nnsh_stack_depth(lua_State *L);

#endif
