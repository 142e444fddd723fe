/* The interactive shell and the program's shared helpers. */
#ifndef NNSH_REPL_H
#define NNSH_REPL_H

#include <lua.h>

#define NNSH_VERSION_STRING "0.1.0"

/* Runs the function below `argument_count` arguments on the stack with a traceback
 * handler; prints the error to stderr. Returns the lua_pcall status. */
int nnsh_run_chunk(lua_State *L, int argument_count);
lua_State *nnsh_new_state(void);
/* The interactive shell; returns when the user quits. */
int nnsh_repl(lua_State *L);
/* nnsh --doctor: what this installation can do and what is missing. */
int nnsh_doctor(void);

#endif
