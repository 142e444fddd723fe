/* nnsh: runs Lua scripts against the nn module, evaluates -e chunks, or starts the
 * interactive shell. Exit status 0 on success, 1 on an error. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell_source.h"
#include "nn_lua.h"
#include "notebook.h"
#include "notebook_document.h"
#include "repl.h"
#include "session.h"
#include "traceback.h"

static void print_usage(FILE *out)
{
    fputs("usage: nnsh [options] [script.lua [args...]]\n"
          "  (no script)      start the interactive shell\n"
          "  -e CODE          run CODE as a cell: a last expression prints its values\n"
          "  -i               run the script and -e code in the shell's session, then stay\n"
          "                   there (their top-level locals stay too)\n"
          "  --notebook FILE  run a notebook (Markdown with ```lua blocks, or Lua with -- %%\n"
          "                   cells) and write it with every cell's output filled in\n"
          "    -o OUT         where to write it (default FILE.out.md or FILE.out.lua; - for\n"
          "                   stdout)\n"
          "    --keep-going   run the cells after a failing one too\n"
          "  --version        print the version\n"
          "  --doctor         report the BLAS library, Lua, GPU support and data sets\n"
          "  -h, --help       this text\n",
          out);
}

/* Whether the error comes from Lua's own error or assert, whose message is as the code
 * chose it: error(message, 0) leaves the place out on purpose. */
static bool raised_by_lua_itself(lua_State *L)
{
    lua_Debug frame;
    if (!lua_getstack(L, 1, &frame) || !lua_getinfo(L, "f", &frame))
        return false;
    bool own = false;
    lua_pushglobaltable(L);
    for (const char *const *name = (const char *const[]){"error", "assert", NULL}; *name; name++) {
        lua_getfield(L, -1, *name);
        own = own || lua_rawequal(L, -1, -3);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return own;
}

/* Adds a traceback to error messages, trimmed of the C frames below the user's code. An
 * error of nn's (which names its function, not a line) gets the place in the user's code
 * in front, as in the shell. */
static int message_handler(lua_State *L)
{
    const char *message = lua_tostring(L, 1);
    if (!message) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    char location[LUA_IDSIZE + 32];
    if (!nnsh_message_has_location(message) && !raised_by_lua_itself(L))
        message = lua_pushfstring(L, "%s%s", nnsh_user_location(L, location, sizeof location),
                                  message);
    luaL_traceback(L, L, message, 1);
    /* The last line names the C function that ran the chunk (-e's printer), which says
     * nothing to the user. */
    size_t length;
    const char *traceback = lua_tolstring(L, -1, &length);
    static const char host_frame[] = "\n\t[C]: in ?";
    size_t frame = sizeof host_frame - 1;
    if (length > frame && strcmp(traceback + length - frame, host_frame) == 0)
        lua_pushlstring(L, traceback, length - frame);
    return 1;
}

/* Runs the function below its arguments and reports an error. source (NULL: not known)
 * is the text, from its first line, of the chunk named chunk in messages (short_src),
 * for a hint when a Python habit in it failed. */
static int run_chunk_of(lua_State *L, int argument_count, const char *chunk,
                        const char *source, size_t length)
{
    int base = lua_gettop(L) - argument_count;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, argument_count, 0, base);
    lua_remove(L, base);
    if (status != LUA_OK) {
        if (source)
            nnsh_add_python_hint(L, chunk, source, length, 1);
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

int nnsh_run_chunk(lua_State *L, int argument_count)
{
    return run_chunk_of(L, argument_count, NULL, NULL, 0);
}

/* Creates the Lua state with the standard libraries and `nn` as a global. */
lua_State *nnsh_new_state(void)
{
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    luaL_openlibs(L);
    luaL_requiref(L, "nn", luaopen_nn, 1);
    /* help(x) is everywhere: in the shell, in notebooks, in scripts. */
    lua_getfield(L, -1, "help");
    lua_setglobal(L, "help");
    lua_pop(L, 1);
    nnsh_watch_python_names(L);
    return L;
}

/* The `arg` table as lua.c makes it: script at 0, its arguments from 1. */
static void create_arg_table(lua_State *L, char **argv, int argc, int script_index)
{
    lua_createtable(L, argc - script_index - 1, script_index + 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script_index);
    }
    lua_setglobal(L, "arg");
}

/* A Lua notebook (a handout, a %save) runs cell by cell as the shell runs it: a cell
 * that ends in an expression prints its value, where a plain chunk would not compile. */
static int run_notebook_script(lua_State *L, const char *text, size_t length, const char *name)
{
    nnsh_session *session = nnsh_session_create(L, NNSH_SESSION_SCRIPT);
    if (!session) {
        fputs("nnsh: out of memory\n", stderr);
        return LUA_ERRMEM;
    }
    nnsh_cell_status status = nnsh_session_run_text(session, text, length, name);
    nnsh_session_free(session);
    return status == NNSH_CELL_FAILED ? LUA_ERRRUN : LUA_OK;
}

static int run_script(lua_State *L, const char *path, char **argv, int argc, int script_index)
{
    bool standard_input = strcmp(path, "-") == 0;
    size_t length;
    int cause;
    /* Read whole once, so that a notebook is told from a plain script (standard input
     * too), and a plain script runs from the same text; a file that cannot be read is
     * left to luaL_loadfile to report. */
    char *text = nnsh_read_source(path, &length, &cause);
    int status;
    if (text && (nnsh_names_markdown(path) || nnsh_session_reads_as_cells(L, text, length))) {
        status = run_notebook_script(L, text, length, standard_input ? "stdin" : path);
        free(text);
        return status;
    }
    size_t start = text ? nnsh_source_code_start(text, length) : 0;
    if (text) {
        const char *chunk_name = standard_input ? "=stdin" : lua_pushfstring(L, "@%s", path);
        status = luaL_loadbufferx(L, text + start, length - start, chunk_name, NULL);
        if (!standard_input)
            lua_remove(L, -2); /* the chunk name */
        if (status == LUA_ERRSYNTAX)
            nnsh_add_python_hint(L, NULL, text + start, length - start, 1);
    } else {
        status = luaL_loadfile(L, standard_input ? NULL : path);
    }
    if (status != LUA_OK) {
        free(text);
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return LUA_ERRFILE;
    }
    lua_Debug chunk;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &chunk);
    int count = 0;
    for (int i = script_index + 1; i < argc; i++, count++)
        lua_pushstring(L, argv[i]);
    status = run_chunk_of(L, count, chunk.short_src, text ? text + start : NULL,
                          text ? length - start : 0);
    free(text);
    return status;
}

extern const unsigned char nnsh_shell_lua[];
extern const size_t nnsh_shell_lua_size;

/* A plain table (no __tostring) at index, replaced by its text as the shell shows it,
 * {1, 2, a = {b = 1}}, rather than print's address. */
static void show_plain_table(lua_State *L, int index)
{
    if (!lua_istable(L, index) || luaL_getmetafield(L, index, "__tostring") != LUA_TNIL) {
        if (lua_istable(L, index))
            lua_pop(L, 1);
        return;
    }
    /* The shell's module, made once (a session's, where one made it already). */
    if (lua_getfield(L, LUA_REGISTRYINDEX, "nnsh.shell") != LUA_TTABLE) {
        lua_pop(L, 1);
        if (luaL_loadbufferx(L, (const char *)nnsh_shell_lua, nnsh_shell_lua_size,
                             "=nnsh/shell.lua", "b") != LUA_OK) {
            lua_pop(L, 1);
            return;
        }
        lua_pushglobaltable(L);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
            lua_pop(L, 1);
            return;
        }
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, "nnsh.shell");
    }
    if (lua_getfield(L, -1, "show") != LUA_TFUNCTION) {
        lua_pop(L, 2);
        return;
    }
    lua_pushvalue(L, index);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
        lua_replace(L, index);
    else
        lua_pop(L, 1);
    lua_pop(L, 1); /* the shell module */
}

/* Calls the chunk at 1 and prints what it returns, as the shell shows a value: nothing
 * for no value, nor for a lone nil that a call returned (upvalue 1: the code ends in a
 * call). */
static int call_and_print(lua_State *L)
{
    lua_call(L, 0, LUA_MULTRET);
    int count = lua_gettop(L);
    if (count == 0 || (count == 1 && lua_isnil(L, 1) && lua_toboolean(L, lua_upvalueindex(1))))
        return 0;
    for (int i = 1; i <= count; i++)
        show_plain_table(L, i);
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    lua_call(L, count, 0);
    return 0;
}

/* -e CODE runs as a cell does: when its last statement is an expression (nnsh -e
 * 'nn.zeros(2, 3).shape', or 'x = nn.ones(3); x:sum()'), its values are printed; a
 * trailing ';' keeps them quiet; anything else runs as a chunk. */
static int run_string(lua_State *L, const char *code)
{
    size_t length = strlen(code);
    bool returns_value;
    if (nnsh_load_cell_code(L, code, length, "=(command line)", &returns_value) != LUA_OK) {
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return LUA_ERRSYNTAX;
    }
    if (!returns_value)
        return run_chunk_of(L, 0, "(command line)", code, length);
    lua_pushboolean(L, nnsh_cell_ends_with_call(code, length));
    lua_pushcclosure(L, call_and_print, 1);
    lua_insert(L, -2);
    return run_chunk_of(L, 1, "(command line)", code, length);
}

int main(int argc, char **argv)
{
    bool interactive = false, ran_something = false;
    int script_index = 0;
    nnsh_notebook_options notebook = {0};
    const char *code[64];
    int code_count = 0;
    for (int i = 1; i < argc && !script_index; i++) {
        if (strcmp(argv[i], "-e") == 0) {
            if (i + 1 >= argc) {
                fputs("nnsh: -e needs an argument\n", stderr);
                print_usage(stderr);
                return 1;
            }
            if (code_count == 64) {
                fputs("nnsh: at most 64 -e options; put the code in a script instead\n", stderr);
                return 1;
            }
            code[code_count++] = argv[++i];
        } else if (strcmp(argv[i], "-i") == 0) {
            interactive = true;
        } else if (strcmp(argv[i], "--notebook") == 0 || strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nnsh: %s needs a file name\n", argv[i]);
                print_usage(stderr);
                return 1;
            }
            if (argv[i][1] == 'o')
                notebook.output = argv[++i];
            else
                notebook.input = argv[++i];
        } else if (strcmp(argv[i], "--keep-going") == 0) {
            notebook.keep_going = true;
        } else if (strcmp(argv[i], "--version") == 0 || strcmp(argv[i], "-v") == 0) {
            printf("nnsh %s (%s)\n", NNSH_VERSION_STRING, LUA_RELEASE);
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--doctor") == 0) {
            return nnsh_doctor();
        } else if (strcmp(argv[i], "--") == 0) {
            if (i + 1 < argc)
                script_index = i + 1;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "nnsh: unknown option '%s'\n", argv[i]);
            print_usage(stderr);
            return 1;
        } else {
            script_index = i;
        }
    }
    if ((notebook.output || notebook.keep_going) && !notebook.input) {
        fputs("nnsh: -o and --keep-going go with --notebook FILE\n", stderr);
        return 1;
    }
    if (notebook.input && (script_index || code_count || interactive)) {
        fputs("nnsh: --notebook runs on its own, without a script, -e or -i\n", stderr);
        return 1;
    }
    lua_State *L = nnsh_new_state();
    if (!L) {
        fputs("nnsh: cannot create a Lua state (out of memory)\n", stderr);
        return 1;
    }
    if (notebook.input) {
        int exit_status = nnsh_notebook_run(L, &notebook);
        lua_close(L);
        return exit_status;
    }
    create_arg_table(L, argv, argc, script_index ? script_index : 0);
    int status = LUA_OK;
    if (interactive) {
        /* -i: the code and script run in the shell's session, so their locals stay. */
        nnsh_repl_start start = {code, code_count, script_index ? argv[script_index] : NULL,
                                 script_index ? argv + script_index + 1 : NULL,
                                 script_index ? argc - script_index - 1 : 0};
        status = nnsh_repl(L, &start);
        lua_close(L);
        return status == LUA_OK ? 0 : 1;
    }
    for (int i = 0; i < code_count && status == LUA_OK; i++, ran_something = true)
        status = run_string(L, code[i]);
    if (status == LUA_OK && script_index) {
        status = run_script(L, argv[script_index], argv, argc, script_index);
        ran_something = true;
    }
    if (status == LUA_OK && !ran_something) {
        /* As lua does: input that is not a terminal is a script. */
        status = isatty(STDIN_FILENO) ? nnsh_repl(L, NULL) : run_script(L, "-", argv, 1, 0);
    }
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
