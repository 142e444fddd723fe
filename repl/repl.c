/* STUB: a minimal read-eval-print loop until the full shell lands. */
#include <lauxlib.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "repl.h"

int nnsh_repl(lua_State *L)
{
    char *line;
    while ((line = readline("> ")) != NULL) {
        if (*line)
            add_history(line);
        char *code = malloc(strlen(line) + 8);
        if (!code) {
            free(line);
            break;
        }
        sprintf(code, "return %s", line);
        if (luaL_loadstring(L, code) != LUA_OK) {
            lua_pop(L, 1);
            luaL_loadstring(L, line);
        }
        free(code);
        free(line);
        if (lua_isstring(L, -1) && !lua_isfunction(L, -1)) {
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            lua_pop(L, 1);
            continue;
        }
        int base = lua_gettop(L);
        if (nnsh_run_chunk(L, 0) == LUA_OK) {
            (void)base;
        }
    }
    return 0;
}
