/* The shell's % commands (see commands.h), looked up by name in one table. */
#include <ctype.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "names.h"
#include "notebook.h"

/* A cell that holds a command: its source, the name after %, and what follows it. */
typedef struct command_line {
    const char *source;
    size_t length;
    const char *name;
    size_t name_length;
    size_t command_offset; /* where the % starts in source (after comment lines) */
    size_t rest_offset;    /* where the text after the name starts in source */
    const char *file;      /* where the cell comes from (NULL: the REPL), as for run_cell */
    int first_line;
} command_line;

typedef nnsh_cell_status (*command_handler)(nnsh_session *session, const command_line *line);

typedef struct command {
    const char *name;
    command_handler run;
} command;

/* Whether a Lua long comment (--[[, --[==[) starts at text, which starts with "--". */
static bool opens_long_comment(const char *text, size_t length)
{
    size_t i = 2;
    if (i >= length || text[i] != '[')
        return false;
    for (i++; i < length && text[i] == '='; i++)
        ;
    return i < length && text[i] == '[';
}

/* A command may follow blank lines and -- comment lines, as a notebook cell often opens
 * with a comment that says what it shows (IPython takes `# note` then `%time` too). */
static bool parse(const char *source, size_t length, command_line *line)
{
    size_t i = 0;
    for (;;) {
        while (i < length && isspace((unsigned char)source[i]))
            i++;
        if (length - i < 2 || source[i] != '-' || source[i + 1] != '-' ||
            opens_long_comment(source + i, length - i))
            break;
        while (i < length && source[i] != '\n')
            i++;
    }
    if (i == length || source[i] != '%')
        return false;
    *line = (command_line){.source = source, .length = length, .command_offset = i};
    i++;
    line->name = source + i;
    while (i < length && (isalnum((unsigned char)source[i]) || source[i] == '_'))
        i++;
    line->name_length = (size_t)(source + i - line->name);
    line->rest_offset = i;
    return true;
}

bool nnsh_command_is(const char *source, size_t length)
{
    command_line line;
    return parse(source, length, &line);
}

/* The words after the command name, as a NULL-terminated array in one allocation; NULL
 * when out of memory. Words are split at blanks, as a POSIX shell splits them: 'single
 * quotes' keep everything, "double quotes" all but \" and \\, and a backslash outside
 * quotes keeps the next character (%save 'my notes.md'). An open quote runs to the end.
 * A word that begins with an unquoted ~ followed by / (or alone) begins in $HOME. */
static char **split_words(const command_line *line, int *count)
{
    size_t rest = line->length - line->rest_offset;
    const char *home = getenv("HOME");
    size_t home_length = home ? strlen(home) : 0;
    /* The words are copied after the source, each ~ perhaps grown into $HOME. */
    size_t tildes = 0;
    for (size_t i = line->rest_offset; i < line->length; i++)
        tildes += line->source[i] == '~';
    size_t room = rest + 1 + tildes * home_length + 1;
    char **words = malloc(sizeof *words * (rest / 2 + 2) + rest + 1 + room);
    if (!words)
        return NULL;
    char *text = (char *)(words + rest / 2 + 2);
    memcpy(text, line->source + line->rest_offset, rest);
    text[rest] = '\0';
    int n = 0;
    char *in = text, *out = text + rest + 1;
    for (;;) {
        while (*in && strchr(" \t\r\n", *in))
            in++;
        if (!*in)
            break;
        words[n++] = out;
        if (home && in[0] == '~' && (in[1] == '/' || !in[1] || strchr(" \t\r\n", in[1]))) {
            memcpy(out, home, home_length);
            out += home_length;
            in++;
        }
        char quote = 0;
        for (; *in && (quote || !strchr(" \t\r\n", *in)); in++) {
            if (quote == '\'' && *in != '\'')
                *out++ = *in;
            else if (quote == '"' && *in == '\\' && (in[1] == '"' || in[1] == '\\'))
                *out++ = *++in;
            else if (quote == '"' && *in != '"')
                *out++ = *in;
            else if (quote)
                quote = 0;
            else if (*in == '\'' || *in == '"')
                quote = *in;
            else if (*in == '\\' && in[1])
                *out++ = *++in;
            else
                *out++ = *in;
        }
        /* The blank after the word (if any) is passed before the end is written. */
        if (*in)
            in++;
        *out++ = '\0';
    }
    words[n] = NULL;
    *count = n;
    return words;
}

/* ---- %time ---- */

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void format_duration(char *text, size_t size, double duration)
{
    if (duration < 1e-3)
        snprintf(text, size, "%.0f us", duration * 1e6);
    else if (duration < 1.0)
        snprintf(text, size, "%.2f ms", duration * 1e3);
    else
        snprintf(text, size, "%.2f s", duration);
}

/* The cell with "%time" blanked out, so the code keeps its lines and columns (and the
 * comment lines before it). */
static char *code_after_command(const command_line *line)
{
    char *code = malloc(line->length + 1);
    if (!code)
        return NULL;
    memcpy(code, line->source, line->length);
    memset(code + line->command_offset, ' ', line->rest_offset - line->command_offset);
    code[line->length] = '\0';
    return code;
}

static nnsh_cell_status run_time(nnsh_session *session, const command_line *line)
{
    size_t blank = line->rest_offset;
    while (blank < line->length && isspace((unsigned char)line->source[blank]))
        blank++;
    if (blank == line->length) {
        nnsh_session_fail(session, "%time: which code? usage: %time CODE, e.g. "
                                   "%time model:fit(x, y, {epochs = 1})");
        return NNSH_CELL_FAILED;
    }
    char *code = code_after_command(line);
    if (!code) {
        nnsh_session_fail(session, "%time: out of memory");
        return NNSH_CELL_FAILED;
    }
    char chunk_name[LUA_IDSIZE + 16];
    if (line->file)
        snprintf(chunk_name, sizeof chunk_name, "@%s", line->file);
    else
        snprintf(chunk_name, sizeof chunk_name, "=In[%d]", nnsh_session_next_number(session) - 1);
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    nnsh_cell_status status = nnsh_session_run_code(session, code, line->length, chunk_name,
                                                    line->file ? line->first_line : 1, true);
    wall = seconds(CLOCK_MONOTONIC) - wall;
    cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu;
    free(code);
    char wall_text[32], cpu_text[32];
    format_duration(wall_text, sizeof wall_text, wall);
    format_duration(cpu_text, sizeof cpu_text, cpu);
    nnsh_session_printf(session, "time: %s wall, %s CPU\n", wall_text, cpu_text);
    return status;
}

/* ---- %who ---- */

/* %who [TYPE...]: the variables, or those of the types named (as IPython's %who). */
static nnsh_cell_status run_who(nnsh_session *session, const command_line *line)
{
    int count;
    char **words = split_words(line, &count);
    if (!words) {
        nnsh_session_fail(session, "%who: out of memory");
        return NNSH_CELL_FAILED;
    }
    bool written = nnsh_session_write_from_shell(session, "who", words, count);
    free(words);
    return written ? NNSH_CELL_OK : NNSH_CELL_FAILED;
}

/* ---- %help ---- */

/* %help [TOPIC] is help() or help('TOPIC'), for hands used to IPython's magics. */
static nnsh_cell_status run_help(nnsh_session *session, const command_line *line)
{
    size_t start = line->rest_offset, end = line->length;
    while (start < end && isspace((unsigned char)line->source[start]))
        start++;
    while (end > start && isspace((unsigned char)line->source[end - 1]))
        end--;
    /* %help 'fit' means %help fit, as help 'fit' does. */
    char first = end - start >= 2 ? line->source[start] : '\0';
    if ((first == '\'' || first == '"') && line->source[end - 1] == first) {
        start++;
        end--;
    }
    /* The topic as a Lua string of decimal escapes: any bytes are taken as written. */
    nn_text code;
    nn_text_init(&code);
    nn_text_append(&code, start == end ? "help()" : "help(\"");
    for (size_t i = start; i < end; i++)
        nn_text_printf(&code, "\\%u", (unsigned char)line->source[i]);
    if (start < end)
        nn_text_append(&code, "\")");
    if (code.failed) {
        nn_text_free(&code);
        nnsh_session_fail(session, "%help: out of memory");
        return NNSH_CELL_FAILED;
    }
    nnsh_cell_status status = nnsh_session_run_code(session, code.data, code.length, "=%help",
                                                    1, false);
    nn_text_free(&code);
    return status;
}

/* ---- %run ---- */

static nnsh_cell_status run_file(nnsh_session *session, const command_line *line)
{
    int count;
    char **words = split_words(line, &count);
    if (!words || count == 0) {
        free(words);
        nnsh_session_fail(session, "%run: which file? usage: %run FILE [ARGS...]");
        return NNSH_CELL_FAILED;
    }
    /* The script sees its arguments in `arg`, as with `nnsh FILE ARGS`. */
    lua_State *L = nnsh_session_lua(session);
    lua_createtable(L, count - 1, 1);
    for (int i = 0; i < count; i++) {
        lua_pushstring(L, words[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
    nnsh_cell_status status = nnsh_session_run_file(session, words[0]);
    free(words);
    /* A %quit in the file ends the file, not the shell that runs it; an os.exit in a
     * notebook's file ends the notebook. */
    int exit_code;
    if (status == NNSH_CELL_QUIT && !nnsh_session_exit_requested(session, &exit_code))
        return NNSH_CELL_OK;
    return status;
}

/* ---- %save ---- */

typedef enum { REPLACE, KEEP_DECLINED, KEEP_REFUSED } replace_answer;

/* One line from the keyboard, read a byte at a time: nothing typed after it is taken
 * from Readline. Returns whether it starts with y. */
static bool read_yes(void)
{
    char first = '\0', byte;
    bool any = false;
    while (read(STDIN_FILENO, &byte, 1) == 1 && byte != '\n') {
        if (!any)
            first = byte;
        any = true;
    }
    return first == 'y' || first == 'Y';
}

/* An existing file is replaced only when asked: with -f, or with a yes at the prompt of
 * an interactive shell (a script or notebook that runs %save refuses). */
static replace_answer may_replace(nnsh_session *session, const char *path, bool force)
{
    struct stat info;
    if (force || strcmp(path, "-") == 0 || stat(path, &info) != 0)
        return REPLACE;
    char message[600];
    if (!S_ISREG(info.st_mode)) {
        snprintf(message, sizeof message, "%%save: %s exists and is not a regular file", path);
        nnsh_session_fail(session, message);
        return KEEP_REFUSED;
    }
    if (!nnsh_session_is_interactive(session) || !isatty(STDIN_FILENO) ||
        !isatty(STDOUT_FILENO)) {
        snprintf(message, sizeof message,
                 "%%save: %s exists; %%save -f %s replaces it", path, path);
        nnsh_session_fail(session, message);
        return KEEP_REFUSED;
    }
    char modified[32] = "";
    struct tm local;
    if (localtime_r(&info.st_mtime, &local))
        strftime(modified, sizeof modified, "%Y-%m-%d %H:%M", &local);
    printf("%s exists (%lld bytes, modified %s); replace it? [y/N] ", path,
           (long long)info.st_size, modified);
    fflush(stdout);
    if (read_yes())
        return REPLACE;
    nnsh_session_printf(session, "not saved: %s is as it was\n", path);
    return KEEP_DECLINED;
}

static nnsh_cell_status run_save(nnsh_session *session, const command_line *line)
{
    static const char usage[] = "%save: usage: %save [-f] FILE.md or %save [-f] FILE.lua "
                                "(-f replaces an existing file without asking)";
    nnsh_session_keep_cell(session, false);
    int count;
    char **words = split_words(line, &count);
    bool force = words && count >= 1 && strcmp(words[0], "-f") == 0;
    if (!words || count != (force ? 2 : 1)) {
        free(words);
        nnsh_session_fail(session, usage);
        return NNSH_CELL_FAILED;
    }
    const char *path = words[force ? 1 : 0];
    /* A notebook under another name (notes.txt, a figure's .svg) would replace a file
     * that is something else; "-" writes to standard output. */
    size_t length = strlen(path);
    bool markdown = length > 3 && strcmp(path + length - 3, ".md") == 0;
    bool lua = length > 4 && strcmp(path + length - 4, ".lua") == 0;
    if (!markdown && !lua && strcmp(path, "-") != 0) {
        nnsh_session_fail(session, "%save: the file name must end in .md (a Markdown notebook) "
                                   "or .lua (a Lua one)");
        free(words);
        return NNSH_CELL_FAILED;
    }
    replace_answer answer = may_replace(session, path, force);
    if (answer != REPLACE) {
        free(words);
        return answer == KEEP_DECLINED ? NNSH_CELL_OK : NNSH_CELL_FAILED;
    }
    char error[512] = "";
    int saved = nnsh_notebook_save_session(session, path, error, sizeof error);
    if (saved < 0) {
        nnsh_session_fail(session, error);
        free(words);
        return NNSH_CELL_FAILED;
    }
    nnsh_session_printf(session, "saved %d cell%s to %s\n", saved, saved == 1 ? "" : "s", path);
    if (error[0])
        nnsh_session_printf(session, "%s\n", error);
    free(words);
    return NNSH_CELL_OK;
}

/* ---- %history ---- */

/* %history [N]: the inputs of this session's cells (the last N), numbered as they ran,
 * as IPython's %history -n. The %history cell itself, the last, is left out. */
static nnsh_cell_status run_history(nnsh_session *session, const command_line *line)
{
    nnsh_session_keep_cell(session, false);
    int count = 0;
    char **words = split_words(line, &count);
    char *end = NULL;
    long wanted = words && count == 1 ? strtol(words[0], &end, 10) : -1;
    if (!words || count > 1 || (count == 1 && (end == words[0] || *end || wanted < 1))) {
        free(words);
        nnsh_session_fail(session, "%history: usage: %history, or %history N for the last N "
                                   "cells (N a whole number from 1)");
        return NNSH_CELL_FAILED;
    }
    free(words);
    int cells = nnsh_session_cell_count(session) - 1;
    int first = count == 1 && wanted < cells ? cells - (int)wanted : 0;
    for (int position = first; position < cells; position++) {
        const nnsh_cell *cell = nnsh_session_cell(session, position);
        const char *text = cell->input;
        /* Later lines of a cell under the first, as the shell's continuation prompt. */
        for (bool first_line = true; *text; first_line = false) {
            char prompt[32];
            nnsh_cell_prompt(prompt, sizeof prompt, cell->number, !first_line);
            const char *newline = strchr(text, '\n');
            int length = newline ? (int)(newline - text) : (int)strlen(text);
            nnsh_session_printf(session, "%s%.*s\n", prompt, length, text);
            text += length + (newline ? 1 : 0);
        }
    }
    return NNSH_CELL_OK;
}

/* ---- %quit ---- */

static nnsh_cell_status run_quit(nnsh_session *session, const command_line *line)
{
    (void)line;
    nnsh_session_keep_cell(session, false);
    return NNSH_CELL_QUIT;
}

/* ---- the table ---- */

static const command commands[] = {
    {"time", run_time}, {"who", run_who},   {"run", run_file},
    {"save", run_save}, {"quit", run_quit}, {"exit", run_quit},
    {"history", run_history}, {"hist", run_history}, {"help", run_help},
};

static const char *const command_names[] = {"%time", "%who",  "%run",  "%save", "%history",
                                            "%hist", "%help", "%quit", "%exit", NULL};

const char *const *nnsh_command_names(void) { return command_names; }

static const command *find(const command_line *line)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strlen(commands[i].name) == line->name_length &&
            memcmp(commands[i].name, line->name, line->name_length) == 0)
            return &commands[i];
    return NULL;
}

bool nnsh_command_needs_more(nnsh_session *session, const char *source, size_t length)
{
    command_line line;
    if (!parse(source, length, &line) || find(&line) == NULL || find(&line)->run != run_time)
        return false;
    return nnsh_session_needs_more(session, source + line.rest_offset, length - line.rest_offset);
}

nnsh_cell_status nnsh_command_run(nnsh_session *session, const char *source, size_t length,
                                  const char *file, int first_line)
{
    command_line line;
    parse(source, length, &line);
    line.file = file;
    line.first_line = first_line;
    const command *found = find(&line);
    if (!found) {
        /* IPython's names for the same commands, then a slip of a letter. */
        static const struct {
            const char *ipython, *nnsh;
        } aliases[] = {{"%timeit", "'%time'"}, {"%whos", "'%who'"}, {"%load", "'%run'"}};
        char typed[72], guess[128] = "";
        snprintf(typed, sizeof typed, "%%%.*s",
                 (int)line.name_length < 64 ? (int)line.name_length : 64, line.name);
        for (size_t i = 0; i < sizeof aliases / sizeof aliases[0] && !guess[0]; i++)
            if (strcmp(typed, aliases[i].ipython) == 0)
                snprintf(guess, sizeof guess, " (did you mean %s?)", aliases[i].nnsh);
        if (!guess[0])
            nn_names_did_you_mean(guess, sizeof guess, typed, command_names);
        char message[320];
        snprintf(message, sizeof message,
                 "unknown command %s%s; the commands are %%time, %%who, %%run, %%save, "
                 "%%history, %%help and %%quit (help 'shell' tells more)",
                 typed, guess);
        nnsh_session_fail(session, message);
        return NNSH_CELL_FAILED;
    }
    return found->run(session, &line);
}
