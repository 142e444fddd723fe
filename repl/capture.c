/* Everything a cell prints goes through the session (see capture.h): print and
 * io.write are replaced, and nn's writer is pointed at the session. */
#include <lauxlib.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "interrupt.h"
#include "nn_lua.h"

static void write_from_nn(void *user, const char *text, size_t length)
{
    nnsh_session_write(user, text, length);
}

/* print, as the standard one, but into the session's output. */
static int shell_print(lua_State *L)
{
    nnsh_session *session = lua_touserdata(L, lua_upvalueindex(1));
    int count = lua_gettop(L);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (int i = 1; i <= count; i++) {
        if (i > 1)
            luaL_addchar(&buffer, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&buffer);
    }
    luaL_addchar(&buffer, '\n');
    luaL_pushresult(&buffer);
    size_t length;
    const char *text = lua_tolstring(L, -1, &length);
    nnsh_session_write(session, text, length);
    return 0;
}

/* io.write into the session's output while the default output file is stdout; the
 * original io.write (upvalue 2) otherwise. Numbers are written as io.write does. */
static int shell_io_write(lua_State *L)
{
    nnsh_session *session = lua_touserdata(L, lua_upvalueindex(1));
    int count = lua_gettop(L);
    lua_getfield(L, lua_upvalueindex(3), "output");
    lua_call(L, 0, 1);
    lua_getfield(L, lua_upvalueindex(3), "stdout");
    bool to_stdout = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (!to_stdout) {
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_insert(L, 1);
        lua_call(L, count, LUA_MULTRET);
        return lua_gettop(L);
    }
    for (int i = 1; i <= count; i++) {
        char number[64];
        size_t length;
        const char *text;
        if (lua_type(L, i) == LUA_TNUMBER) {
            int written = lua_isinteger(L, i)
                              ? snprintf(number, sizeof number, LUA_INTEGER_FMT,
                                         (LUAI_UACINT)lua_tointeger(L, i))
                              : snprintf(number, sizeof number, LUA_NUMBER_FMT,
                                         (LUAI_UACNUMBER)lua_tonumber(L, i));
            text = number;
            length = (size_t)written;
        } else {
            text = luaL_checklstring(L, i, &length);
        }
        nnsh_session_write(session, text, length);
    }
    lua_getfield(L, lua_upvalueindex(3), "stdout");
    return 1;
}

void nnsh_capture_install(nnsh_session *session)
{
    lua_State *L = nnsh_session_lua(session);
    lua_getglobal(L, "print");
    lua_setfield(L, LUA_REGISTRYINDEX, "nnsh.print");
    lua_pushlightuserdata(L, session);
    lua_pushcclosure(L, shell_print, 1);
    lua_setglobal(L, "print");
    lua_getglobal(L, "io");
    if (lua_istable(L, -1)) {
        int io = lua_gettop(L);
        lua_pushlightuserdata(L, session);
        lua_getfield(L, io, "write");
        lua_setfield(L, LUA_REGISTRYINDEX, "nnsh.io_write");
        lua_getfield(L, LUA_REGISTRYINDEX, "nnsh.io_write");
        lua_pushvalue(L, io);
        lua_pushcclosure(L, shell_io_write, 3);
        lua_setfield(L, io, "write");
    }
    lua_pop(L, 1);
    nn_lua_set_writer(write_from_nn, session);
    /* Ctrl-C in fit then returns the history so far, back to the prompt. */
    nn_lua_set_interactive(nnsh_session_is_interactive(session));
    nn_lua_set_interrupted_fit_handler(nnsh_session_is_interactive(session)
                                           ? nnsh_interrupt_stop_at_next_line
                                           : NULL);
    /* Progress bars redraw in place only where the text really reaches a terminal. */
    nn_lua_set_writer_terminal(nnsh_session_is_interactive(session) && isatty(STDOUT_FILENO));
}

void nnsh_capture_remove(nnsh_session *session)
{
    lua_State *L = nnsh_session_lua(session);
    nn_lua_set_writer(NULL, NULL);
    nn_lua_set_interactive(false);
    nn_lua_set_interrupted_fit_handler(NULL);
    lua_getglobal(L, "io");
    if (lua_istable(L, -1) &&
        lua_getfield(L, LUA_REGISTRYINDEX, "nnsh.io_write") == LUA_TFUNCTION)
        lua_setfield(L, -2, "write");
    else
        lua_pop(L, 1);
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, "nnsh.print");
    lua_setglobal(L, "print");
}
