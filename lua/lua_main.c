/* luaopen_nn: the `nn` module, its error and output plumbing, and the small
 * environment functions (version, devices, learning phase). */
#include <cblas.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpu/simd.h"
#include "lua_io.h"
#include "nn_lua.h"
#include "random.h"

#ifndef NNSH_VERSION
#define NNSH_VERSION "0.1.0"
#endif

#include "embedded_modules.h"

/* OpenBLAS extensions (declared in its cblas.h on Debian; repeated here for clarity). */
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

/* ---- errors ---- */

int nn_lua_error(lua_State *L, const char *format, ...)
{
    char message[2048];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    /* printf writes a NaN with its sign bit as "-nan" (0/0 has it on x86); a sign means
     * nothing there, so every message says "nan", as the binding's own checks do. Only a
     * number's place is rewritten (after a space, '=', '(', '[' or ',', before one of those
     * or an end), never a path or a name the user wrote ('/tmp/-nan.nnsh', "-nan"). */
    for (char *found = strstr(message, "-nan"); found; found = strstr(found, "-nan")) {
        bool number = (found == message || strchr(" =([,", found[-1])) &&
                      (found[4] == '\0' || strchr(" ,)];:", found[4]));
        if (number)
            memmove(found, found + 1, strlen(found + 1) + 1);
        else
            found++;
    }
    lua_pushstring(L, message);
    return lua_error(L);
}

int nn_lua_raise_from(lua_State *L, const char *function, const char *entry)
{
    /* The engine names its own entry point ("fit: ..."), which "model:fit: " already says. */
    const char *message = nn_error_message();
    size_t length = strlen(entry);
    if (length > 0 && strncmp(message, entry, length) == 0 &&
        strncmp(message + length, ": ", 2) == 0)
        message += length + 2;
    return nn_lua_error(L, "%s: %s", function, message);
}

int nn_lua_raise(lua_State *L, const char *function)
{
    const char *method = strrchr(function, ':');
    return nn_lua_raise_from(L, function, method ? method + 1 : function);
}

void nn_lua_check(lua_State *L, nn_status status, const char *function)
{
    if (status != NN_OK)
        nn_lua_raise(L, function);
}

/* ---- output ---- */

static nn_lua_writer output_writer;
static void *output_user;
static bool writer_is_terminal;

void nn_lua_set_writer(nn_lua_writer writer, void *user)
{
    output_writer = writer;
    output_user = user;
    writer_is_terminal = false;
}

void nn_lua_set_writer_terminal(bool terminal) { writer_is_terminal = terminal; }

void nn_lua_write(lua_State *L, const char *text, size_t length)
{
    (void)L;
    if (output_writer) {
        output_writer(output_user, text, length);
        return;
    }
    fwrite(text, 1, length, stdout);
    fflush(stdout);
}

bool nn_lua_output_is_terminal(void)
{
    return output_writer ? writer_is_terminal : isatty(STDOUT_FILENO);
}

/* nn._set_output(fn): sends everything nn writes to a Lua function instead (tests and
 * notebooks capture output this way); nn._set_output(nil) restores stdout. */
static void lua_function_writer(void *user, const char *text, size_t length)
{
    lua_State *L = user;
    lua_getfield(L, LUA_REGISTRYINDEX, "nn.output_function");
    lua_pushlstring(L, text, length);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK)
        lua_pop(L, 1); /* a failing writer must not unwind through the engine */
}

static int l_set_output(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        nn_lua_set_writer(NULL, NULL);
        lua_pushnil(L);
        lua_setfield(L, LUA_REGISTRYINDEX, "nn.output_function");
        return 0;
    }
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "nn.output_function");
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    nn_lua_set_writer(lua_function_writer, lua_tothread(L, -1));
    lua_pop(L, 1);
    return 0;
}

static volatile sig_atomic_t stop_flag;

volatile sig_atomic_t *nn_lua_stop_flag(void) { return &stop_flag; }

static bool interactive_host;

void nn_lua_set_interactive(bool interactive) { interactive_host = interactive; }

bool nn_lua_interactive(void) { return interactive_host; }

static void (*interrupted_fit_handler)(void);

void nn_lua_set_interrupted_fit_handler(void (*handler)(void))
{
    interrupted_fit_handler = handler;
}

void nn_lua_interrupted_fit(void)
{
    if (interrupted_fit_handler)
        interrupted_fit_handler();
}

/* ---- environment ---- */

static int l_blas_info(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, openblas_get_corename());
    lua_setfield(L, -2, "core");
    lua_pushstring(L, openblas_get_config());
    lua_setfield(L, -2, "config");
    lua_pushinteger(L, openblas_get_num_threads());
    lua_setfield(L, -2, "threads");
    return 1;
}

/* nn.time(): seconds on a monotonic wall clock, for timing code from Lua (os.clock
 * counts the CPU time of every thread, os.time has whole seconds). */
static int l_time(lua_State *L)
{
    if (lua_gettop(L) > 0)
        nn_lua_error(L, "nn.time: takes no arguments, got %d; to time code: local start = "
                        "nn.time(); f(); print(nn.time() - start)",
                     lua_gettop(L));
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    lua_pushnumber(L, (lua_Number)now.tv_sec + (lua_Number)now.tv_nsec * 1e-9);
    return 1;
}

/* nn.config.simd(): the vector instructions the CPU kernels use ('avx512', 'avx2' or
 * 'portable'). */
static int l_simd(lua_State *L)
{
    lua_pushstring(L, nn_simd_level_name(nn_simd_active()));
    return 1;
}

static int learning_phase;
static bool learning_phase_set; /* by nn.set_learning_phase: it then decides every call */

bool nn_lua_learning_phase(void) { return learning_phase != 0; }

bool nn_lua_learning_phase_set(void) { return learning_phase_set; }

static int l_set_learning_phase(lua_State *L)
{
    int is_integer = 0;
    lua_Integer value = nn_lua_tointeger(L, 1, &is_integer);
    if (lua_isboolean(L, 1))
        value = lua_toboolean(L, 1), is_integer = 1;
    if (is_integer && value != 0 && value != 1)
        nn_lua_error(L, "nn.set_learning_phase: expected 0 (inference) or 1 (training), got %lld",
                     (long long)value);
    if (!is_integer)
        nn_lua_error(L, "nn.set_learning_phase: expected 0 (inference) or 1 (training), got %s",
                     lua_type(L, 1) == LUA_TNUMBER ? "a number with a fraction"
                                                   : nn_lua_typename(L, 1));
    learning_phase = (int)value;
    learning_phase_set = true;
    return 0;
}

static int l_learning_phase(lua_State *L)
{
    nn_lua_check_no_more_arguments(L, 0, "nn.learning_phase",
                                   "nn.learning_phase(), which reads the phase; "
                                   "nn.set_learning_phase(1) sets it");
    lua_pushinteger(L, learning_phase);
    return 1;
}

/* nn._load_module(name): compiles a lazily embedded module and returns its chunk (to be
 * called with the nn table), or nil and a message. */
static int l_load_module(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (const nn_embedded_module *module = nn_embedded_modules; module->name; module++) {
        if (!module->lazy || strcmp(module->name, name) != 0)
            continue;
        char chunk_name[64];
        snprintf(chunk_name, sizeof chunk_name, "=nn/%s.lua", module->name);
        if (luaL_loadbuffer(L, (const char *)module->source, *module->size, chunk_name) != LUA_OK) {
            lua_pushnil(L);
            lua_insert(L, -2);
            return 2;
        }
        return 1;
    }
    lua_pushnil(L);
    lua_pushfstring(L, "nn._load_module: no embedded module '%s'", name);
    return 2;
}

static const luaL_Reg config_functions[] = {
    {"blas", l_blas_info},
    {"simd", l_simd},
    {NULL, NULL},
};

/* Filled by lua_device.c. */
static const luaL_Reg test_functions[] = {
    {NULL, NULL},
};

static const luaL_Reg top_level_functions[] = {
    {"set_learning_phase", l_set_learning_phase},
    {"learning_phase", l_learning_phase},
    {"time", l_time},
    {"_set_output", l_set_output},
    {"_load_module", l_load_module},
    {NULL, NULL},
};

int luaopen_nn(lua_State *L)
{
    luaL_checkversion(L);
    lua_newtable(L);
    lua_pushliteral(L, NNSH_VERSION);
    lua_setfield(L, -2, "version");
    luaL_newlib(L, config_functions);
    lua_setfield(L, -2, "config");
    luaL_newlib(L, test_functions);
    lua_setfield(L, -2, "test");
    luaL_setfuncs(L, top_level_functions, 0);

    nn_lua_open_device(L);
    nn_lua_open_tensor(L);
    nn_lua_open_layers(L);
    nn_lua_open_model(L);
    nn_lua_open_input(L);
    nn_lua_open_datasets(L);
    nn_lua_open_io(L);
    nn_lua_open_plots(L);
    nn_lua_open_losses(L);

    /* The Lua half of the module: each embedded file gets the table and adds to it. */
    for (const nn_embedded_module *module = nn_embedded_modules; module->name; module++) {
        if (module->lazy)
            continue;
        char chunk_name[64];
        snprintf(chunk_name, sizeof chunk_name, "=nn/%s.lua", module->name);
        if (luaL_loadbuffer(L, (const char *)module->source, *module->size, chunk_name) != LUA_OK)
            return lua_error(L);
        lua_pushvalue(L, -2);
        lua_call(L, 1, 0);
    }
    return 1;
}
