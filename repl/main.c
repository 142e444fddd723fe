/* nnsh: runs Lua scripts against the nn module, evaluates -e chunks, or starts the
 * interactive shell. Exit status 0 on success, 1 on an error. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_lua.h"
#include "notebook.h"
#include "notebook_document.h"
#include "repl.h"
#include "session.h"

static void print_usage(FILE *out)
{
    fputs("usage: nnsh [options] [script.lua [args...]]\n"
          "  (no script)      start the interactive shell\n"
          "  -e CODE          run CODE\n"
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

/* Adds a traceback to error messages, trimmed of the C frames below the user's code. */
static int message_handler(lua_State *L)
{
    const char *message = lua_tostring(L, 1);
    if (!message) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, message, 1);
    return 1;
}

int nnsh_run_chunk(lua_State *L, int argument_count)
{
    int base = lua_gettop(L) - argument_count;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    int status = lua_pcall(L, argument_count, 0, base);
    lua_remove(L, base);
    if (status != LUA_OK) {
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
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

/* Whether the file at path is a Lua notebook (-- %% cells). One that cannot be read is
 * left to luaL_loadfile to report. */
static bool is_lua_notebook(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return false;
    nn_text text;
    nn_text_init(&text);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
        nn_text_append_n(&text, chunk, n);
    fclose(file);
    bool cells = !text.failed && text.data && nnsh_notebook_has_lua_cells(text.data, text.length);
    nn_text_free(&text);
    return cells;
}

/* A Lua notebook (a handout, a %save) runs cell by cell as the shell runs it: a cell
 * that ends in an expression prints its value, where a plain chunk would not compile. */
static int run_notebook_script(lua_State *L, const char *path)
{
    nnsh_session *session = nnsh_session_create(L, NNSH_SESSION_SCRIPT);
    if (!session) {
        fputs("nnsh: out of memory\n", stderr);
        return LUA_ERRMEM;
    }
    nnsh_cell_status status = nnsh_session_run_file(session, path);
    nnsh_session_free(session);
    return status == NNSH_CELL_FAILED ? LUA_ERRRUN : LUA_OK;
}

static int run_script(lua_State *L, const char *path, char **argv, int argc, int script_index)
{
    if (strcmp(path, "-") != 0 && is_lua_notebook(path))
        return run_notebook_script(L, path);
    if (luaL_loadfile(L, strcmp(path, "-") == 0 ? NULL : path) != LUA_OK) {
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return LUA_ERRFILE;
    }
    int count = 0;
    for (int i = script_index + 1; i < argc; i++, count++)
        lua_pushstring(L, argv[i]);
    return nnsh_run_chunk(L, count);
}

/* -e CODE: a chunk, or, when CODE is an expression (which is no statement), the
 * expression, whose values are printed as print prints them, so that
 * nnsh -e 'nn.zeros(2, 3).shape' shows (2, 3) as the shell would. */
static int run_string(lua_State *L, const char *code)
{
    if (luaL_loadbuffer(L, code, strlen(code), "=(command line)") == LUA_OK)
        return nnsh_run_chunk(L, 0);
    const char *expression = lua_pushfstring(
        L, "local function show(...) if select('#', ...) > 0 then print(...) end end show(%s\n)",
        code);
    if (luaL_loadbuffer(L, expression, strlen(expression), "=(command line)") == LUA_OK) {
        lua_remove(L, -2); /* the text */
        lua_remove(L, -2); /* the chunk's message */
        return nnsh_run_chunk(L, 0);
    }
    lua_pop(L, 2); /* the expression's message and text: the chunk's tells what is wrong */
    fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return LUA_ERRSYNTAX;
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
            if (i + 1 >= argc || code_count == 64) {
                fputs("nnsh: -e needs an argument\n", stderr);
                print_usage(stderr);
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
        nnsh_repl_start start = {code, code_count, script_index ? argv[script_index] : NULL};
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
