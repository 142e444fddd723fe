/* The shell session (see session.h): compiling cells (locals kept, trailing expressions
 * shown), running them in the session environment, keeping their values and outputs. */
#include <lauxlib.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "activation.h"
#include "capture.h"
#include "cell_source.h"
#include "commands.h"
#include "interrupt.h"
#include "lexer.h"
#include "layer.h"
#include "loss.h"
#include "name_hints.h"
#include "notebook_document.h"
#include "optimizer.h"
#include "param.h"
#include "python_hints.h"
#include "session.h"
#include "traceback.h"

#define SESSION_ENV "nnsh.session_env"
#define SHELL_MODULE "nnsh.shell"
#define CELL_CHUNKS "nnsh.cell_chunks" /* {[chunk name] = true} of the cells run */

extern const unsigned char nnsh_shell_lua[];
extern const size_t nnsh_shell_lua_size;

enum {
    MAX_EXPRESSION_TRIES = 64,
    OUT_KEPT = 100, /* Out keeps this many latest values, so old big tensors can go */
};

struct nnsh_session {
    lua_State *L;
    nnsh_session_mode mode;
    bool interactive; /* output and errors are written as they come (shell, script) */
    int file_depth;   /* files running now, one inside another by %run */
    bool on_terminal; /* interactive, and standard output was a terminal at the start */
    nnsh_cell *cells; /* every cell so far, in order */
    int cell_count, cell_capacity;
    nnsh_cell *current; /* the running cell, which receives output; NULL between cells */
    nnsh_cell start;    /* nnsh -i's script, as the %run cell that %save writes first */
    bool has_start;
    bool exit_requested; /* a notebook's cell called os.exit */
    int exit_code;
};

/* ---- output ---- */

void nnsh_session_write(nnsh_session *session, const char *text, size_t length)
{
    if (session->interactive) {
        fwrite(text, 1, length, stdout);
        fflush(stdout);
        /* fit's live screen takes standard output away from the terminal while it is
         * open and writes what it got when it closes; keeping the text now as well
         * would keep it twice. */
        if (session->on_terminal && !isatty(STDOUT_FILENO))
            return;
    }
    if (session->current)
        nnsh_transcript_write(&session->current->output, text, length);
}

void nnsh_session_printf(nnsh_session *session, const char *format, ...)
{
    char text[1024];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(text, sizeof text, format, args);
    va_end(args);
    if (length > 0)
        nnsh_session_write(session, text, (size_t)length < sizeof text ? (size_t)length
                                                                        : sizeof text - 1);
}

void nnsh_session_fail(nnsh_session *session, const char *message)
{
    if (session->interactive) {
        fflush(stdout);
        fprintf(stderr, "%s%s\n", session->mode == NNSH_SESSION_SCRIPT ? "nnsh: " : "error: ",
                message);
        fflush(stderr);
    }
    nnsh_cell *cell = session->current;
    if (!cell)
        return;
    cell->failed = true;
    if (!cell->error)
        cell->error = strdup(message);
    nnsh_transcript_write(&cell->output, "error: ", 7);
    nnsh_transcript_write(&cell->output, message, strlen(message));
    nnsh_transcript_write(&cell->output, "\n", 1);
}

/* ---- running code ---- */

/* Adds a line to the error message on top of the stack when a Python habit in source
 * (whose first line is first_line) caused it: `fit(x, y, epochs=3)` gets "hint: Lua passes
 * options in a table: ..." (python_hints.h); or when a name was misspelt, `nn.Sequental`
 * gets "hint: did you mean nn.Sequential?" (name_hints.h). chunk is the chunk the message
 * must name, as Lua shows it, or NULL for a syntax error of source itself. */
void nnsh_add_python_hint(lua_State *L, const char *chunk, const char *source, size_t length,
                          int first_line)
{
    const char *message = lua_tostring(L, -1);
    nn_text hint;
    nn_text_init(&hint);
    bool hinted = message && nnsh_python_hint(&hint, message, chunk, source, length, first_line);
    /* Code that ends inside a bracket (a cell ended with Ctrl-D, a file cut short): Lua
     * says only "unexpected symbol near <eof>"; which bracket is open, and where. */
    int opened = 0;
    char closer;
    if (!hinted && !chunk && message && strstr(message, "near <eof>") &&
        !strstr(message, "unfinished string") &&
        (closer = nnsh_cell_unclosed_bracket(source, length, &opened, NULL)) != '\0') {
        nn_text_printf(&hint, "hint: the %c opened on line %d is never closed: a %c is missing",
                       closer == '}' ? '{' : closer == ')' ? '(' : '[', opened + first_line - 1,
                       closer);
        hinted = true;
    }
    /* A misspelt name: Lua says only that `nn.Sequental` or `pirnt` is nil. */
    if (!hinted && message) {
        lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
        int env = lua_istable(L, -1) ? lua_gettop(L) : 0;
        hinted = nnsh_name_hint(L, &hint, message, source, length, env);
        lua_pop(L, 1);
    }
    if (hinted && !hint.failed) {
        /* Right below the error, above a traceback that follows it. */
        const char *traceback = strstr(message, "\nstack traceback:");
        size_t head = traceback ? (size_t)(traceback - message) : strlen(message);
        luaL_Buffer text;
        luaL_buffinit(L, &text);
        luaL_addlstring(&text, message, head);
        luaL_addchar(&text, '\n');
        luaL_addlstring(&text, hint.data, hint.length);
        luaL_addstring(&text, message + head);
        nn_text_free(&hint);
        luaL_pushresult(&text);
        lua_remove(L, -2);
        return;
    }
    nn_text_free(&hint);
}

/* A top-level `local b` of a cell or %run file is a session variable, so Lua's message
 * about it says "(global 'b')"; for an error in this chunk (named chunk) that is about
 * such a name, the message says "(local 'b')" as the code reads. */
static void name_session_locals(lua_State *L, const char *chunk, const char *source,
                                size_t length)
{
    const char *message = lua_tostring(L, -1);
    size_t chunk_length = strlen(chunk);
    if (!message || strncmp(message, chunk, chunk_length) != 0 || message[chunk_length] != ':')
        return;
    const char *global = strstr(message, "(global '");
    const char *first = global ? global + strlen("(global '") : NULL;
    const char *last = first ? strstr(first, "')") : NULL;
    if (!last || last - first >= 64 || memchr(first, '\n', (size_t)(last - first)))
        return;
    char name[64];
    memcpy(name, first, (size_t)(last - first));
    name[last - first] = '\0';
    if (!nnsh_cell_declares_local(source, length, name))
        return;
    lua_pushlstring(L, message, (size_t)(global - message));
    lua_pushfstring(L, "(local '%s')%s", name, last + 2);
    lua_concat(L, 2);
    lua_remove(L, -2);
}

/* nnsh_load_cell_code, without hints: the shell reads the bare message to tell an
 * unfinished cell ("... near <eof>"). */
static int load_cell_code(lua_State *L, const char *code, size_t length, const char *chunk_name,
                          bool *returns_value)
{
    *returns_value = false;
    if (!code)
        code = ""; /* an empty nn_text */
    bool quiet = nnsh_cell_ends_with_semicolon(code, length);
    size_t quiet_length = length;
    if (quiet) {
        /* As it is first; a lone expression before the ';' runs with its values dropped. */
        if (luaL_loadbufferx(L, code, length, chunk_name, "t") == LUA_OK)
            return LUA_OK;
        lua_pop(L, 1);
        while (quiet_length > 0 && code[quiet_length - 1] != ';')
            quiet_length--;
        if (quiet_length > 0)
            quiet_length--;
    }
    {
        size_t span = quiet ? quiet_length : length;
        size_t starts[MAX_EXPRESSION_TRIES];
        size_t count = nnsh_cell_expression_starts(code, span, starts, MAX_EXPRESSION_TRIES);
        for (size_t i = 0; i < count; i++) {
            nn_text attempt;
            nn_text_init(&attempt);
            bool wrapped = quiet ? nnsh_cell_discard_expression(code, span, starts[i], &attempt)
                                 : nnsh_cell_return_expression(code, span, starts[i], &attempt);
            if (!wrapped) {
                nn_text_free(&attempt);
                continue;
            }
            if (attempt.failed) {
                nn_text_free(&attempt);
                lua_pushliteral(L, "out of memory");
                return LUA_ERRMEM;
            }
            int status = luaL_loadbufferx(L, attempt.data, attempt.length, chunk_name, "t");
            nn_text_free(&attempt);
            if (status == LUA_OK) {
                *returns_value = !quiet;
                return LUA_OK;
            }
            lua_pop(L, 1);
        }
    }
    return luaL_loadbufferx(L, code, length, chunk_name, "t");
}

int nnsh_load_cell_code(lua_State *L, const char *code, size_t length, const char *chunk_name,
                        bool *returns_value)
{
    int status = load_cell_code(L, code, length, chunk_name, returns_value);
    if (status == LUA_ERRSYNTAX)
        nnsh_add_python_hint(L, NULL, code ? code : "", length, 1);
    return status;
}

/* Compiles a cell into a function on the stack, or pushes the error message. The
 * source's top-level locals become session variables; with show_value, a trailing
 * expression becomes the chunk's return value (*returns_value tells). */
static int compile(lua_State *L, const char *source, size_t length, const char *chunk_name,
                   int first_line, bool show_value, bool *returns_value)
{
    nn_text code;
    nn_text_init(&code);
    for (int line = 1; line < first_line; line++)
        nn_text_append(&code, "\n"); /* so line numbers are the file's */
    nnsh_cell_rewrite_locals(source, length, &code);
    *returns_value = false;
    if (code.failed) {
        nn_text_free(&code);
        lua_pushliteral(L, "out of memory");
        return LUA_ERRMEM;
    }
    int status = show_value
                     ? load_cell_code(L, code.data, code.length, chunk_name, returns_value)
                     : luaL_loadbufferx(L, code.data ? code.data : "", code.length, chunk_name,
                                        "t");
    nn_text_free(&code);
    return status;
}

static bool is_incomplete(lua_State *L, int status)
{
    size_t length;
    const char *message = lua_tolstring(L, -1, &length);
    static const char eof_mark[] = "<eof>";
    return status == LUA_ERRSYNTAX && message && length >= sizeof eof_mark - 1 &&
           strcmp(message + length - (sizeof eof_mark - 1), eof_mark) == 0;
}

/* Whether the code's last token, read as Lua reads it (not in a string or comment), opens
 * a bracket or is a comma: a list going on to the next line. */
static bool ends_with_open_list(const char *source, size_t length)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    nnsh_token last = {.kind = NNSH_TOKEN_END};
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         token = nnsh_lexer_next(&lexer))
        last = token;
    if (lexer.comment_unterminated || last.unterminated || last.kind != NNSH_TOKEN_SYMBOL ||
        last.length != 1)
        return false;
    char c = source[last.start];
    return c == '(' || c == '[' || c == '{' || c == ',';
}

bool nnsh_session_needs_more(nnsh_session *session, const char *source, size_t length)
{
    if (nnsh_command_is(source, length))
        return nnsh_command_needs_more(session, source, length);
    /* Long cells (a paste) with a block still open are not compiled again at every line;
     * short ones are, so that a syntax error in a block's first line shows at once. */
    enum { COMPILED_LINES = 32 };
    size_t lines = 0;
    for (size_t i = 0; i < length && lines < COMPILED_LINES; i++)
        lines += source[i] == '\n';
    if (lines >= COMPILED_LINES && nnsh_cell_is_open(source, length))
        return true;
    lua_State *L = session->L;
    bool returns_value;
    /* With the expression forms: `t.shape` alone is unfinished as a statement. */
    int status = compile(L, source, length, "=In", 1, true, &returns_value);
    bool more = status != LUA_OK && is_incomplete(L, status);
    /* A quoted string cannot go on to the next line (unless its line ends in a
     * backslash, or in \z and blanks): one left open is an error now, not a reason to
     * take the next line. */
    size_t end = length;
    while (end > 0 && (source[end - 1] == '\n' || source[end - 1] == '\r'))
        end--;
    bool continued = end > 0 && source[end - 1] == '\\';
    size_t text_end = end;
    while (text_end > 0 && (source[text_end - 1] == ' ' || source[text_end - 1] == '\t'))
        text_end--;
    continued = continued || (text_end >= 2 && source[text_end - 1] == 'z' &&
                              source[text_end - 2] == '\\');
    if (more && strstr(lua_tostring(L, -1), ": unfinished string near <eof>") && !continued)
        more = false;
    /* `if x:` reads as unfinished Lua (x: starts a method call), but it is Python: the
     * error and its hint now, not a continuation prompt. */
    size_t last_line = end;
    while (last_line > 0 && source[last_line - 1] != '\n')
        last_line--;
    if (more && !strstr(lua_tostring(L, -1), "unfinished long") &&
        nnsh_python_block_header(source + last_line, end - last_line))
        more = false;
    /* A Python list or call spread over lines, `nn.Sequential([` then its layers: Lua
     * fails at the [, but the cell goes on until its brackets close, as IPython's does,
     * so that it fails once, with its hint, not at every line. */
    const char *error = status != LUA_OK ? lua_tostring(L, -1) : NULL;
    bool python_sequence = error && (strstr(error, "unexpected symbol near '['") || /* a list */
                                     strstr(error, "')' expected near ','") ||      /* a tuple */
                                     strstr(error, "'}' expected near ':'"));       /* a dict */
    if (!more && python_sequence && ends_with_open_list(source, length) &&
        nnsh_cell_unclosed_bracket(source, length, NULL, NULL) != '\0')
        more = true;
    lua_pop(L, 1);
    return more;
}

/* Keeps the values on the stack above base as Out[n] and _: the value itself, or a
 * list with n = count when there are several. */
static void store_values(nnsh_session *session, int base, int count)
{
    lua_State *L = session->L;
    lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
    int env = lua_gettop(L);
    if (count == 1) {
        lua_pushvalue(L, base + 1);
    } else {
        lua_createtable(L, count, 1);
        for (int i = 1; i <= count; i++) {
            lua_pushvalue(L, base + i);
            lua_rawseti(L, -2, i);
        }
        lua_pushinteger(L, count);
        lua_setfield(L, -2, "n");
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, env, "_");
    if (session->current && lua_getfield(L, env, "Out") == LUA_TTABLE) {
        lua_insert(L, -2);
        lua_rawseti(L, -2, session->current->number);
        lua_pushnil(L);
        lua_rawseti(L, -2, session->current->number - OUT_KEPT);
    }
    lua_settop(L, env - 1);
}

/* lua_pcall for the shell's own Lua (showing a value, %who), which runs the user's
 * metamethods: a __tostring that never ends stops on Ctrl-C as a cell does. */
static int interruptible_pcall(nnsh_session *session, int arguments, int results)
{
    lua_State *L = session->L;
    nnsh_interrupt_begin(L, session->mode == NNSH_SESSION_SHELL);
    int status = lua_pcall(L, arguments, results, 0);
    if (nnsh_interrupt_end(L) && session->interactive)
        fputs("\n", stdout); /* after the ^C the terminal echoed */
    return status;
}

/* Whether an earlier cell that ran set the name (to nil, as like as not, since it is
 * nil now). */
static bool set_before(const nnsh_session *session, const char *name)
{
    for (int i = 0; i < session->cell_count; i++) {
        const nnsh_cell *cell = &session->cells[i];
        if (cell != session->current && cell->ran && cell->input &&
            nnsh_cell_assigns(cell->input, strlen(cell->input), name))
            return true;
    }
    return session->has_start && session->start.input &&
           nnsh_cell_assigns(session->start.input, strlen(session->start.input), name);
}

/* Whether the cell is one name that nothing defines, as a typo is (`modle`): its nil is
 * then shown with a note, where IPython would say the name is not defined. A name an
 * earlier cell set to nil is defined. The name is source[*start .. *start +
 * *name_length). */
static bool names_nothing(const nnsh_session *session, const char *source, size_t length,
                          size_t *start, size_t *name_length)
{
    lua_State *L = session->L;
    while (length > 0 && (isspace((unsigned char)source[length - 1]) || source[length - 1] == ';'))
        length--;
    size_t first = 0;
    while (first < length && isspace((unsigned char)source[first]))
        first++;
    const char *name = source + first;
    size_t n = length - first;
    if (n == 0 || isdigit((unsigned char)*name) || (n == 3 && !memcmp(name, "nil", 3)))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return false;
    lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
    lua_pushlstring(L, name, n);
    bool defined = lua_rawget(L, -2) != LUA_TNIL;
    lua_pushglobaltable(L);
    lua_pushlstring(L, name, n);
    defined = defined || lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 4);
    *start = first;
    *name_length = n;
    char written[256];
    if (defined || n >= sizeof written)
        return !defined;
    snprintf(written, sizeof written, "%.*s", (int)n, name);
    return !set_before(session, written);
}

/* Writes the values above base the way the shell shows them. */

static void show_values(nnsh_session *session, int base, int count, const char *undefined_name,
                        size_t name_length)
{
    lua_State *L = session->L;
    lua_getfield(L, LUA_REGISTRYINDEX, SHELL_MODULE);
    lua_getfield(L, -1, "show_results");
    for (int i = 1; i <= count; i++)
        lua_pushvalue(L, base + i);
    const char *text;
    if (interruptible_pcall(session, count, 1) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
        text = lua_tostring(L, -1);
    else
        text = lua_pushfstring(L, "(cannot show the value: %s)", lua_tostring(L, -1));
    if (undefined_name) {
        lua_pushlstring(L, undefined_name, name_length);
        nn_text guess;
        nn_text_init(&guess);
        lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
        bool guessed = nnsh_name_hint_global(L, &guess, lua_tostring(L, -2), lua_gettop(L));
        lua_pop(L, 1);
        const char *name = lua_tostring(L, -1);
        if (strcmp(name, "exit") == 0 || strcmp(name, "quit") == 0)
            /* IPython's way out. */
            lua_pushfstring(L, "%s   -- '%s' is not defined: Ctrl-D or %%quit leaves the shell",
                            text, name);
        else if (guessed && !guess.failed)
            lua_pushfstring(L, "%s   -- '%s' is not defined; %s", text, lua_tostring(L, -1),
                            guess.data);
        else
            lua_pushfstring(L, "%s   -- '%s' is not defined (a typo?)", text,
                            lua_tostring(L, -1));
        nn_text_free(&guess);
        lua_replace(L, -3); /* in place of the shown text */
        lua_pop(L, 1);
        text = lua_tostring(L, -1);
    }
    nnsh_cell *cell = session->current;
    if (session->interactive) {
        /* A cell of a notebook that %run runs is none of the shell's: its values are
         * marked as a Lua notebook marks its outputs, not all as the %run cell's Out. */
        if (cell && session->file_depth > 0)
            printf("-->%s", strchr(text, '\n') ? "\n" : " ");
        else if (cell)
            printf("Out[%d]:%s", cell->number, strchr(text, '\n') ? "\n" : " ");
        printf("%s\n", text);
        fflush(stdout);
    }
    if (cell) {
        nnsh_transcript_write(&cell->output, text, strlen(text));
        nnsh_transcript_write(&cell->output, "\n", 1);
    }
    lua_pop(L, 2);
}

/* The arguments a file's chunks get as `...`: stack slots first .. first + count - 1
 * (count 0: none). */
typedef struct chunk_arguments {
    int first, count;
} chunk_arguments;

/* nnsh_session_run_code, with a copy of the arguments passed to the chunk. */
static nnsh_cell_status run_code(nnsh_session *session, const char *source, size_t length,
                                 const char *chunk_name, int first_line, bool show_value,
                                 chunk_arguments arguments)
{
    lua_State *L = session->L;
    int base = lua_gettop(L);
    bool returns_value;
    if (compile(L, source, length, chunk_name, first_line, show_value, &returns_value) != LUA_OK) {
        nnsh_add_python_hint(L, NULL, source, length, first_line);
        nnsh_session_fail(session, lua_tostring(L, -1));
        lua_settop(L, base);
        return NNSH_CELL_FAILED;
    }
    /* The chunk as error messages name it, so a hint reads only this chunk's lines. */
    lua_Debug chunk;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &chunk);
    lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
    lua_setupvalue(L, -2, 1); /* a main chunk's first upvalue is its _ENV */
    lua_pushcfunction(L, nnsh_traceback_handler);
    lua_insert(L, base + 1);
    if (!lua_checkstack(L, arguments.count)) {
        nnsh_session_fail(session, "too many arguments for the Lua stack");
        lua_settop(L, base);
        return NNSH_CELL_FAILED;
    }
    for (int i = 0; i < arguments.count; i++)
        lua_pushvalue(L, arguments.first + i);
    if (session->current)
        session->current->ran = true;
    nnsh_interrupt_begin(L, session->mode == NNSH_SESSION_SHELL);
    int status = lua_pcall(L, arguments.count, LUA_MULTRET, base + 1);
    bool interrupted = nnsh_interrupt_end(L);
    if (interrupted && session->current)
        session->current->interrupted = true;
    if (session->exit_requested) {
        char note[96];
        int n = snprintf(note, sizeof note, "(os.exit(%d): the notebook ends here)\n",
                         session->exit_code);
        if (session->current)
            nnsh_transcript_write(&session->current->output, note, (size_t)n);
        lua_settop(L, base);
        return NNSH_CELL_QUIT;
    }
    if (status != LUA_OK) {
        if (interrupted && session->interactive)
            fputs("\n", stdout); /* the terminal echoed ^C where the cursor was */
        if (!interrupted) {
            name_session_locals(L, chunk.short_src, source, length);
            nnsh_add_python_hint(L, chunk.short_src, source, length, first_line);
        }
        nnsh_session_fail(session, lua_tostring(L, -1));
        lua_settop(L, base);
        return NNSH_CELL_FAILED;
    }
    int results = lua_gettop(L) - (base + 1);
    /* A trailing expression's value, or what the cell returned itself (return 5). */
    if ((returns_value || show_value) && results > 0) {
        /* A lone nil is never kept (as IPython keeps no None, _ stays the last real
         * value), and shown only when it is not what a call returned. */
        bool lone_nil = results == 1 && lua_isnil(L, base + 2);
        if (!lone_nil)
            store_values(session, base + 1, results);
        if (!lone_nil || !nnsh_cell_ends_with_call(source, length)) {
            size_t start = 0, name_length = 0;
            bool typo = lone_nil && names_nothing(session, source, length, &start, &name_length);
            show_values(session, base + 1, results, typo ? source + start : NULL, name_length);
        }
    }
    lua_settop(L, base);
    return NNSH_CELL_OK;
}

nnsh_cell_status nnsh_session_run_code(nnsh_session *session, const char *source, size_t length,
                                       const char *chunk_name, int first_line, bool show_value)
{
    return run_code(session, source, length, chunk_name, first_line, show_value,
                    (chunk_arguments){0, 0});
}

/* Where a file's code starts: after a byte order mark and a #! line (blanked up to its
 * newline, so line numbers stay the file's), as lua skips them. */
size_t nnsh_source_code_start(const char *text, size_t length)
{
    size_t at = length >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    if (at < length && text[at] == '#')
        while (at < length && text[at] != '\n')
            at++;
    return at;
}

bool nnsh_names_markdown(const char *path)
{
    size_t n = strlen(path);
    return (n > 3 && strcasecmp(path + n - 3, ".md") == 0) ||
           (n > 9 && strcasecmp(path + n - 9, ".markdown") == 0);
}

bool nnsh_session_reads_as_cells(lua_State *L, const char *text, size_t length)
{
    size_t start = nnsh_source_code_start(text, length);
    text += start;
    length -= start;
    if (!nnsh_notebook_has_lua_cells(text, length))
        return false;
    nnsh_notebook_document document;
    if (!nnsh_notebook_parse(&document, text, length, NNSH_NOTEBOOK_LUA))
        return false;
    /* A `-- %%` line inside a long string or a function is no cell boundary: then some
     * cell is no chunk of its own, and the file is a plain script. */
    bool cells = true;
    for (int i = 0; i < document.part_count && cells; i++) {
        const nnsh_notebook_part *part = &document.parts[i];
        const char *code = text + part->code_start;
        if (!part->is_cell || nnsh_command_is(code, part->code_length))
            continue;
        bool returns_value;
        cells = compile(L, code, part->code_length, "=cell", part->code_line, true,
                        &returns_value) == LUA_OK;
        lua_pop(L, 1);
    }
    nnsh_notebook_document_free(&document);
    return cells;
}

/* A Lua notebook (-- %% cells, as a handout or %save writes it) run cell by cell, each
 * showing its value as in the shell, so a cell that ends in an expression, which is no
 * statement in a plain chunk, runs too; % commands run as in the shell. Stops at the first
 * failing cell, unless it is marked expect-error. */
static nnsh_cell_status run_cells(nnsh_session *session, const char *text, size_t length,
                                  const char *name, const char *chunk_name,
                                  chunk_arguments arguments, nnsh_notebook_format format)
{
    nnsh_notebook_document document;
    if (!nnsh_notebook_parse(&document, text, length, format)) {
        nnsh_session_fail(session, "out of memory");
        return NNSH_CELL_FAILED;
    }
    if (document.unclosed_line) {
        char message[512];
        snprintf(message, sizeof message, "%s:%d: the code block opened here is never closed "
                 "(add its closing fence)", name, document.unclosed_line);
        nnsh_notebook_document_free(&document);
        nnsh_session_fail(session, message);
        return NNSH_CELL_FAILED;
    }
    nnsh_cell_status status = NNSH_CELL_OK;
    for (int i = 0; i < document.part_count && status == NNSH_CELL_OK; i++) {
        const nnsh_notebook_part *part = &document.parts[i];
        if (!part->is_cell)
            continue;
        const char *code = text + part->code_start;
        nnsh_cell *cell = session->current;
        bool failed_before = cell && cell->failed;
        if (nnsh_command_is(code, part->code_length))
            status = nnsh_command_run(session, code, part->code_length, name, part->code_line);
        else
            status = run_code(session, code, part->code_length, chunk_name, part->code_line,
                              true, arguments);
        if (part->expect_error && status == NNSH_CELL_FAILED) {
            status = NNSH_CELL_OK;
            /* The error the notebook meant is no failure of the cell that runs the file:
             * %save must not mark that cell expect-error, or it would not replay. Its
             * output keeps the error's line. */
            if (cell && !failed_before) {
                cell->failed = false;
                free(cell->error);
                cell->error = NULL;
            }
        }
    }
    nnsh_notebook_document_free(&document);
    return status;
}

enum { MOST_NESTED_FILES = 32 };

/* Pushes arg[1] .. arg[#arg] of the global `arg` table, a file's arguments, as lua.c does
 * for its script: `nnsh FILE ARGS`, `nnsh -i FILE ARGS` and `%run FILE ARGS` set arg just
 * before the file runs. Returns how many (none when arg is no table), or -1 when the
 * stack cannot hold them (nothing pushed). */
static int push_script_arguments(lua_State *L)
{
    if (lua_getglobal(L, "arg") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    lua_Unsigned length = lua_rawlen(L, -1);
    if (length > INT_MAX / 2 || !lua_checkstack(L, (int)length + 1)) {
        lua_pop(L, 1);
        return -1;
    }
    int count = (int)length;
    for (int i = 1; i <= count; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -count - 1);
    return count;
}

nnsh_cell_status nnsh_session_run_text(nnsh_session *session, const char *text, size_t length,
                                       const char *name)
{
    if (session->file_depth >= MOST_NESTED_FILES) {
        char message[160];
        snprintf(message, sizeof message, "%s: files run %d deep (does a file %%run itself?)",
                 name, MOST_NESTED_FILES);
        nnsh_session_fail(session, message);
        return NNSH_CELL_FAILED;
    }
    char chunk_name[LUA_IDSIZE + 16];
    if (strcmp(name, "stdin") == 0)
        snprintf(chunk_name, sizeof chunk_name, "=stdin");
    else
        snprintf(chunk_name, sizeof chunk_name, "@%s", name);
    lua_State *L = session->L;
    int base = lua_gettop(L);
    chunk_arguments arguments = {base + 1, push_script_arguments(L)};
    if (arguments.count < 0) {
        nnsh_session_fail(session, "too many arguments for the Lua stack");
        return NNSH_CELL_FAILED;
    }
    session->file_depth++;
    nnsh_cell_status status;
    bool markdown = nnsh_names_markdown(name);
    bool cells = markdown || nnsh_session_reads_as_cells(L, text, length);
    size_t start = markdown ? 0 : nnsh_source_code_start(text, length);
    if (cells)
        status = run_cells(session, text + start, length - start, name, chunk_name, arguments,
                           markdown ? NNSH_NOTEBOOK_MARKDOWN : NNSH_NOTEBOOK_LUA);
    else
        status = run_code(session, text + start, length - start, chunk_name, 1, false,
                          arguments);
    session->file_depth--;
    lua_settop(L, base);
    return status;
}

char *nnsh_read_source(const char *path, size_t *length, int *cause)
{
    bool standard_input = strcmp(path, "-") == 0;
    FILE *file = standard_input ? stdin : fopen(path, "rb");
    *length = 0;
    if (!file) {
        *cause = errno;
        return NULL;
    }
    nn_text source;
    nn_text_init(&source);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
        nn_text_append_n(&source, chunk, n);
    /* The cause is fread's errno (EISDIR for a directory); fclose could change it. */
    *cause = ferror(file) ? errno : source.failed ? ENOMEM : 0;
    if (!standard_input)
        fclose(file);
    if (*cause || !source.data) {
        if (!*cause) { /* an empty file */
            nn_text_free(&source);
            *length = 0;
            return strdup("");
        }
        nn_text_free(&source);
        return NULL;
    }
    *length = source.length;
    return source.data; /* the caller frees it */
}

nnsh_cell_status nnsh_session_run_file(nnsh_session *session, const char *path)
{
    lua_State *L = session->L;
    size_t length;
    int cause;
    char *text = nnsh_read_source(path, &length, &cause);
    if (!text) {
        lua_pushfstring(L, "cannot %s %s: %s", cause == ENOENT || cause == EACCES ? "open" : "read",
                        path, strerror(cause));
        nnsh_session_fail(session, lua_tostring(L, -1));
        lua_pop(L, 1);
        return NNSH_CELL_FAILED;
    }
    nnsh_cell_status status = nnsh_session_run_text(session, text, length, path);
    free(text);
    return status;
}

nnsh_cell_status nnsh_session_run_start_file(nnsh_session *session, const char *path,
                                             const char *command)
{
    session->start = (nnsh_cell){.input = strdup(command), .keep = true};
    session->has_start = session->start.input != NULL;
    if (session->has_start)
        session->current = &session->start;
    nnsh_cell_status status = nnsh_session_run_file(session, path);
    session->current = NULL;
    return status;
}

const nnsh_cell *nnsh_session_start_cell(const nnsh_session *session)
{
    return session->has_start ? &session->start : NULL;
}

/* ---- cells ---- */

static nnsh_cell *add_cell(nnsh_session *session, const char *source, size_t length)
{
    if (session->cell_count == session->cell_capacity) {
        int capacity = session->cell_capacity ? 2 * session->cell_capacity : 16;
        nnsh_cell *grown = realloc(session->cells, sizeof *grown * (size_t)capacity);
        if (!grown)
            return NULL;
        session->cells = grown;
        session->cell_capacity = capacity;
    }
    char *input = malloc(length + 1);
    if (!input)
        return NULL;
    memcpy(input, source, length);
    input[length] = '\0';
    nnsh_cell *cell = &session->cells[session->cell_count++];
    *cell = (nnsh_cell){.number = session->cell_count, .input = input, .keep = true};
    nnsh_transcript_init(&cell->output);
    return cell;
}

nnsh_cell_status nnsh_session_run_cell(nnsh_session *session, const char *source, size_t length,
                                       const char *file, int first_line)
{
    lua_State *L = session->L;
    nnsh_cell *cell = add_cell(session, source, length);
    if (!cell) {
        fputs("nnsh: out of memory\n", stderr);
        return NNSH_CELL_FAILED;
    }
    int number = cell->number;
    lua_getfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
    if (lua_getfield(L, -1, "In") == LUA_TTABLE) {
        /* As typed: a notebook's cell ends in the newline before its closing line. */
        size_t typed = length;
        while (typed > 0 && (source[typed - 1] == '\n' || source[typed - 1] == '\r'))
            typed--;
        lua_pushlstring(L, source, typed);
        lua_rawseti(L, -2, number);
    }
    lua_pop(L, 2);

    session->current = cell;
    nnsh_cell_status status;
    if (nnsh_command_is(source, length)) {
        status = nnsh_command_run(session, source, length, file, first_line);
    } else {
        char chunk_name[LUA_IDSIZE + 16];
        if (file)
            snprintf(chunk_name, sizeof chunk_name, "@%s", file);
        else
            snprintf(chunk_name, sizeof chunk_name, "=In[%d]", number);
        /* Known as a cell's chunk, where an option value written as a name is an error. */
        lua_getfield(L, LUA_REGISTRYINDEX, CELL_CHUNKS);
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, chunk_name);
        lua_pop(L, 1);
        status = nnsh_session_run_code(session, source, length, chunk_name, file ? first_line : 1,
                                       true);
    }
    session->current = NULL;
    return status;
}

void nnsh_session_keep_cell(nnsh_session *session, bool keep)
{
    if (session->current)
        session->current->keep = keep;
}

bool nnsh_session_write_from_shell(nnsh_session *session, const char *name,
                                   char *const *words, int count)
{
    lua_State *L = session->L;
    lua_getfield(L, LUA_REGISTRYINDEX, SHELL_MODULE);
    lua_getfield(L, -1, name);
    luaL_checkstack(L, count, "too many words");
    for (int i = 0; i < count; i++)
        lua_pushstring(L, words[i]);
    bool written = interruptible_pcall(session, count, 1) == LUA_OK &&
                   lua_type(L, -1) == LUA_TSTRING;
    if (written) {
        size_t length;
        const char *text = lua_tolstring(L, -1, &length);
        nnsh_session_write(session, text, length);
    } else {
        nnsh_session_fail(session, lua_tostring(L, -1) ? lua_tostring(L, -1) : name);
    }
    lua_pop(L, 2);
    return written;
}

int nnsh_session_next_number(const nnsh_session *session) { return session->cell_count + 1; }

void nnsh_cell_prompt(char *prompt, size_t size, int number, bool continuation)
{
    int width = snprintf(prompt, size, "In [%d]: ", number);
    if (continuation)
        snprintf(prompt, size, "%*s", width, "...: ");
}
int nnsh_session_cell_count(const nnsh_session *session) { return session->cell_count; }
nnsh_cell *nnsh_session_cell(nnsh_session *session, int position)
{
    return position >= 0 && position < session->cell_count ? &session->cells[position] : NULL;
}
lua_State *nnsh_session_lua(nnsh_session *session) { return session->L; }
bool nnsh_session_is_interactive(const nnsh_session *session)
{
    return session->mode == NNSH_SESSION_SHELL;
}

/* ---- Python names ---- */

/* _G's __index: reading a global that is not defined. Python's None, True and False, and
 * the string values nn's options take written as names (padding=same, activation=relu),
 * are nil in Lua, which nn would take quietly for "not given"; they are errors here, that
 * say what Lua writes (option values only in cells). Any other name is nil, as always.
 * Upvalue 1: the set of option value names ({same = true, relu = true, ...}). */
static int read_undefined_global(lua_State *L)
{
    if (lua_type(L, 2) != LUA_TSTRING)
        return 0;
    const char *name = lua_tostring(L, 2);
    const char *constant = nnsh_python_constant_message(name);
    if (constant)
        return luaL_error(L, "%s", constant);
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TBOOLEAN)
        return 0;
    /* Option values only in the cells one types (the shell, notebooks): a script or a
     * module may read such a global on purpose (`relu = relu or f`, `if not linear`). */
    lua_Debug caller;
    if (!lua_getstack(L, 1, &caller) || !lua_getinfo(L, "S", &caller))
        return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, CELL_CHUNKS);
    bool in_cell = lua_istable(L, -1) && lua_getfield(L, -1, caller.source) == LUA_TBOOLEAN;
    if (!in_cell)
        return 0;
    nn_text message;
    nn_text_init(&message);
    nnsh_python_option_message(&message, name);
    luaL_where(L, 1);
    if (message.data)
        lua_pushlstring(L, message.data, message.length);
    else
        lua_pushstring(L, name); /* out of memory: the name at least */
    nn_text_free(&message);
    lua_concat(L, 2);
    return lua_error(L);
}

/* Adds names[i] -> true to the table at index. */
static void add_option_values(lua_State *L, int table, const char *const *names)
{
    /* Words that are also everyday names (zeros(3) from numpy, a count of one's own) are
     * left nil: an error that speaks of options would mislead there. */
    static const char *const everyday[] = {"zeros", "ones", "constant", NULL};
    for (int i = 0; names[i]; i++) {
        bool everyday_word = false;
        for (int k = 0; everyday[k]; k++)
            everyday_word = everyday_word || strcmp(names[i], everyday[k]) == 0;
        if (everyday_word)
            continue;
        lua_pushboolean(L, 1);
        lua_setfield(L, table, names[i]);
    }
}

/* Gives _G a metatable whose __index is read_undefined_global, unless _G has one. The names come from the engine's own lists, as nn's argument checks read
 * them: activations, the layers' padding and data_format choices, optimizers, losses,
 * initializers. Only _G changes: nn loaded into a stock lua5.4 leaves it alone. */
void nnsh_watch_python_names(lua_State *L)
{
    lua_pushglobaltable(L);
    if (lua_getmetatable(L, -1)) {
        lua_pop(L, 2);
        return;
    }
    lua_newtable(L);
    int names = lua_gettop(L);
    add_option_values(L, names, nn_activation_names());
    const nn_layer_class *const *classes = nn_layer_classes();
    for (int c = 0; classes[c]; c++) {
        for (int i = 0; i < classes[c]->arg_count; i++) {
            const nn_arg_spec *spec = &classes[c]->args[i];
            if (spec->kind == NN_ARG_CHOICE &&
                (strcmp(spec->name, "padding") == 0 || strcmp(spec->name, "data_format") == 0))
                add_option_values(L, names, spec->choices);
        }
    }
    add_option_values(L, names, nn_optimizer_names());
    add_option_values(L, names, nn_loss_names());
    add_option_values(L, names, nn_initializer_names());
    lua_createtable(L, 0, 1);
    lua_insert(L, names);
    lua_pushcclosure(L, read_undefined_global, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

/* ---- the session itself ---- */

/* Creates the session environment (variables, In, Out) and loads shell.lua into it. */
static bool open_environment(lua_State *L, nnsh_session_mode mode)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CELL_CHUNKS) != LUA_TTABLE) {
        lua_newtable(L);
        lua_setfield(L, LUA_REGISTRYINDEX, CELL_CHUNKS);
    }
    lua_pop(L, 1);
    if (mode == NNSH_SESSION_SCRIPT) {
        /* A script's cells share the globals, as a plain script's chunk does: _G.x,
         * load and required modules see what a cell set. */
        lua_pushglobaltable(L);
    } else {
        lua_newtable(L);
        lua_newtable(L);
        lua_pushglobaltable(L);
        lua_setfield(L, -2, "__index");
        lua_setmetatable(L, -2);
    }
    lua_newtable(L);
    lua_setfield(L, -2, "In");
    lua_newtable(L);
    lua_setfield(L, -2, "Out");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, SESSION_ENV);
    if (luaL_loadbufferx(L, (const char *)nnsh_shell_lua, nnsh_shell_lua_size, "=nnsh/shell.lua",
                         "b") != LUA_OK) { /* precompiled at build time */
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 2);
        return false;
    }
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "nnsh: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    lua_setfield(L, LUA_REGISTRYINDEX, SHELL_MODULE);
    return true;
}

/* os.exit in a notebook: ending the process there would leave no handout at all. The
 * cell stops (unless a pcall in it swallows the error; it then stops at its end) and the
 * runner writes the handout up to it and exits with the code given. Once the session is
 * gone (a copy of the function kept by a finalizer that runs at lua_close), it is Lua's
 * os.exit again: it ends the process. */
static int notebook_exit(lua_State *L)
{
    nnsh_session *session = lua_touserdata(L, lua_upvalueindex(1));
    int code = EXIT_SUCCESS;
    if (lua_isboolean(L, 1))
        code = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
    else if (!lua_isnoneornil(L, 1))
        code = (int)luaL_checkinteger(L, 1);
    if (!session)
        exit(code);
    session->exit_requested = true;
    session->exit_code = code;
    return luaL_error(L, "os.exit(%d) ends the notebook here", code);
}

static const char ORIGINAL_EXIT[] = "nnsh.original_os_exit";
static const char NOTEBOOK_EXIT[] = "nnsh.notebook_os_exit";

/* Puts notebook_exit in os.exit, keeping Lua's own to put back. */
static void replace_exit(nnsh_session *session)
{
    lua_State *L = session->L;
    if (lua_getglobal(L, "os") == LUA_TTABLE) {
        lua_getfield(L, -1, "exit");
        lua_setfield(L, LUA_REGISTRYINDEX, ORIGINAL_EXIT);
        lua_pushlightuserdata(L, session);
        lua_pushcclosure(L, notebook_exit, 1);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, NOTEBOOK_EXIT);
        lua_setfield(L, -2, "exit");
    }
    lua_pop(L, 1);
}

/* Puts Lua's os.exit back, and cuts every copy of notebook_exit loose from the session
 * that is about to be freed. */
static void restore_exit(lua_State *L)
{
    int top = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, NOTEBOOK_EXIT) == LUA_TFUNCTION) {
        lua_pushnil(L);
        lua_setupvalue(L, -2, 1);
    }
    if (lua_getglobal(L, "os") == LUA_TTABLE &&
        lua_getfield(L, LUA_REGISTRYINDEX, ORIGINAL_EXIT) != LUA_TNIL)
        lua_setfield(L, -2, "exit");
    lua_settop(L, top);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, ORIGINAL_EXIT);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, NOTEBOOK_EXIT);
}

bool nnsh_session_exit_requested(const nnsh_session *session, int *code)
{
    *code = session->exit_code;
    return session->exit_requested;
}

nnsh_session *nnsh_session_create(lua_State *L, nnsh_session_mode mode)
{
    nnsh_session *session = calloc(1, sizeof *session);
    if (!session)
        return NULL;
    session->L = L;
    session->mode = mode;
    session->interactive = mode != NNSH_SESSION_NOTEBOOK;
    session->on_terminal = session->interactive && isatty(STDOUT_FILENO);
    if (!open_environment(L, mode)) {
        free(session);
        return NULL;
    }
    nnsh_interrupt_watch_coroutines(L);
    /* A script's output needs no recording: print and nn write it themselves. */
    if (mode != NNSH_SESSION_SCRIPT)
        nnsh_capture_install(session);
    if (mode == NNSH_SESSION_NOTEBOOK)
        replace_exit(session);
    return session;
}

void nnsh_session_free(nnsh_session *session)
{
    if (!session)
        return;
    if (session->mode != NNSH_SESSION_SCRIPT)
        nnsh_capture_remove(session);
    if (session->mode == NNSH_SESSION_NOTEBOOK)
        restore_exit(session->L);
    for (int i = 0; i < session->cell_count; i++) {
        free(session->cells[i].input);
        free(session->cells[i].error);
        nnsh_transcript_free(&session->cells[i].output);
    }
    free(session->cells);
    if (session->has_start) {
        free(session->start.input);
        free(session->start.error);
        nnsh_transcript_free(&session->start.output);
    }
    free(session);
}
