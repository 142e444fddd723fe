/* Readline completion glue (see complete.h): the terminal side. Which candidates fit is
 * decided by shell.complete in shell.lua; the context (which call's argument table the
 * cursor is in) by cell_source.c. */
#include <ctype.h>
#include <lauxlib.h>
#include <readline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell_source.h"
#include "commands.h"
#include "complete.h"

static nnsh_session *completing_session;
static const nn_text *pending_lines;

/* Candidates of the completion in progress, handed out by next_candidate. */
static char **candidates;
static int candidate_count;

static void clear_candidates(void)
{
    for (int i = 0; i < candidate_count; i++)
        free(candidates[i]);
    free(candidates);
    candidates = NULL;
    candidate_count = 0;
}

static char *next_candidate(const char *text, int state)
{
    (void)text;
    static int position;
    if (state == 0)
        position = 0;
    if (position >= candidate_count)
        return NULL;
    char *candidate = candidates[position];
    candidates[position++] = NULL; /* Readline frees what it is given */
    return candidate;
}

static void add_candidate(const char *candidate)
{
    char **grown = realloc(candidates, sizeof *grown * (size_t)(candidate_count + 1));
    if (!grown)
        return;
    candidates = grown;
    candidates[candidate_count] = strdup(candidate);
    if (candidates[candidate_count])
        candidate_count++;
}

/* Calls shell[function] with the strings given (a NULL one is nil) and adds the strings
 * of the list it returns to the candidates. Returns whether it returned a list (perhaps
 * empty), not nil. */
static bool ask_shell(const char *function, int count, const char *const *texts,
                      const size_t *lengths)
{
    lua_State *L = nnsh_session_lua(completing_session);
    int top = lua_gettop(L);
    lua_getfield(L, LUA_REGISTRYINDEX, "nnsh.shell");
    lua_getfield(L, -1, function);
    for (int i = 0; i < count; i++) {
        if (texts[i])
            lua_pushlstring(L, texts[i], lengths[i]);
        else
            lua_pushnil(L);
    }
    bool listed = lua_pcall(L, count, 1, 0) == LUA_OK && lua_istable(L, -1);
    if (listed) {
        lua_Integer length = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= length; i++) {
            if (lua_geti(L, -1, i) == LUA_TSTRING)
                add_candidate(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);
    return listed;
}

/* shell.complete(word, callee): names, fields, methods, argument names. */
static void ask_shell_names(const char *word, const char *callee, size_t callee_length)
{
    const char *texts[2] = {word, callee};
    size_t lengths[2] = {strlen(word), callee_length};
    ask_shell("complete", 2, texts, lengths);
}

/* shell.complete_value(word, callee, option): the names an argument takes. Returns
 * whether they are known (then no file name belongs there). */
static bool ask_shell_value(const char *word, const char *callee, size_t callee_length,
                            const char *option, size_t option_length)
{
    const char *texts[3] = {word, callee, option};
    size_t lengths[3] = {strlen(word), callee_length, option_length};
    return ask_shell("complete_value", 3, texts, lengths);
}

/* Whether the line holds nothing before `start` but blanks and a %. */
static bool at_command_name(int start)
{
    if (pending_lines->length > 0 || start < 1 || rl_line_buffer[start - 1] != '%')
        return false;
    for (int i = 0; i < start - 1; i++)
        if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t')
            return false;
    return true;
}

/* Whether the cursor is in the argument of %run or %save (a file name). */
static bool at_command_file(void)
{
    const char *line = rl_line_buffer + strspn(rl_line_buffer, " \t");
    return pending_lines->length == 0 &&
           (strncmp(line, "%run ", 5) == 0 || strncmp(line, "%save ", 6) == 0);
}

/* Whether the line up to the cursor ends inside a quoted string. */
static bool in_string(void)
{
    char quote = '\0';
    for (int i = 0; i < rl_point && rl_line_buffer[i]; i++) {
        char c = rl_line_buffer[i];
        if (quote && c == '\\' && i + 1 < rl_point)
            i++;
        else if (quote && c == quote)
            quote = '\0';
        else if (!quote && (c == '"' || c == '\''))
            quote = c;
    }
    return quote != '\0';
}

/* The string being typed is the value of an argument given by name, `name = '...`, or
 * an entry of a list given so, `metrics = {'accuracy', '...`: where the name is in the
 * line. */
typedef struct option_value {
    int name_start, name_length;
} option_value;

static int skip_blanks_back(int i)
{
    while (i > 0 && (rl_line_buffer[i - 1] == ' ' || rl_line_buffer[i - 1] == '\t'))
        i--;
    return i;
}

/* Whether the line before `end` ends with `name =` (blanks allowed; not `==`, `<=`). */
static bool name_before_equals(int end, option_value *value)
{
    int i = skip_blanks_back(end);
    if (i < 1 || rl_line_buffer[i - 1] != '=' || (i >= 2 && strchr("=~<>", rl_line_buffer[i - 2])))
        return false;
    i = skip_blanks_back(i - 1);
    int name_end = i;
    while (i > 0 && (isalnum((unsigned char)rl_line_buffer[i - 1]) || rl_line_buffer[i - 1] == '_'))
        i--;
    if (i == name_end || isdigit((unsigned char)rl_line_buffer[i]))
        return false;
    *value = (option_value){.name_start = i, .name_length = name_end - i};
    return true;
}

/* Whether the word at `start` (just after a quote) is such a value. */
static bool at_option_value(int start, option_value *value)
{
    if (start < 1 || (rl_line_buffer[start - 1] != '\'' && rl_line_buffer[start - 1] != '"'))
        return false;
    if (name_before_equals(start - 1, value))
        return true;
    int i = skip_blanks_back(start - 1);
    if (i < 1 || (rl_line_buffer[i - 1] != '{' && rl_line_buffer[i - 1] != ','))
        return false;
    size_t list;
    return nnsh_cell_unclosed_bracket(rl_line_buffer, (size_t)(start - 1), NULL, &list) == '}' &&
           name_before_equals((int)list, value);
}

/* Whether the completion in progress is of a file name (its matches are paths). */
static bool completing_files;

/* Where the path ending at `point` starts when it indexes with a whole number on the way
 * (model.layers[1].na, model.layers[-1].na), or -1: then its brackets belong to the word,
 * and the minus of a negative index too. */
static int indexed_path_start(int point)
{
    bool indexed = false;
    int i = point;
    while (i > 0) {
        unsigned char c = (unsigned char)rl_line_buffer[i - 1];
        if (isalnum(c) || c == '_' || c == '.' || c == ':') {
            i--;
        } else if (c == ']') {
            int digits = i - 1;
            while (digits > 0 && isdigit((unsigned char)rl_line_buffer[digits - 1]))
                digits--;
            if (digits == i - 1 || digits == 0)
                return -1;
            if (rl_line_buffer[digits - 1] == '-' && digits > 1)
                digits--;
            if (rl_line_buffer[digits - 1] != '[')
                return -1;
            indexed = true;
            i = digits - 1;
        } else {
            break;
        }
    }
    return indexed ? i : -1;
}

/* The characters a file name given to %run or %save has a backslash before, as the
 * commands read their words the way a POSIX shell does (my\ notes.md). */
static const char command_file_specials[] = " \t\n\"'\\";

/* A file name completed after %run or %save, its specials escaped: "my dir" becomes
 * my\ dir, which keeps a leading ~ unquoted, for the commands to expand. */
static char *quote_command_file(char *name, int match_type, char *quote_pointer)
{
    (void)match_type;
    /* Inside quotes the user opened ("my dir/...), the name goes in as it is. */
    if (quote_pointer && *quote_pointer)
        return strdup(name);
    char *quoted = malloc(2 * strlen(name) + 1), *out = quoted;
    if (!quoted)
        return NULL;
    for (const char *in = name; *in; in++) {
        if (strchr(command_file_specials, *in))
            *out++ = '\\';
        *out++ = *in;
    }
    *out = '\0';
    return quoted;
}

static char *dequote_command_file(char *text, int quote_char)
{
    /* A Lua string's backslashes are its own escapes; inside quotes, the name is as
     * typed. */
    if (!at_command_file() || quote_char)
        return strdup(text);
    char *plain = malloc(strlen(text) + 1), *out = plain;
    if (!plain)
        return NULL;
    for (const char *in = text; *in; in++) {
        if (*in == '\\' && in[1])
            in++;
        *out++ = *in;
    }
    *out = '\0';
    return plain;
}

/* The directory Readline opens to complete a file name after %run or %save, without the
 * backslashes the name was given (my\ dir/). Readline's own dequoting skips a directory
 * it expanded from ~, so this does it for every one. */
static int dequote_command_directory(char **directory)
{
    if (!at_command_file() || rl_completion_quote_character)
        return 0;
    char *plain = dequote_command_file(*directory, 0);
    if (!plain)
        return 0;
    free(*directory);
    *directory = plain;
    return 1;
}

/* Whether the break character at index is escaped with a backslash, in a %run or %save
 * line: then it is part of the file name. */
static int escaped_in_command_file(char *text, int index)
{
    return at_command_file() && index > 0 && text[index - 1] == '\\';
}

/* In a file name, only blanks and quotes end the word: `/`, `.` and `-` are part of it.
 * In an indexed path, [ and ] are part of it. */
static char *word_break_characters(void)
{
    static char file_name_breaks[] = " \t\n\"'";
    static char indexed_path_breaks[] = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#";
    completing_files = at_command_file() || in_string();
    /* Inside a Lua string the name is the string's text as it is. */
    rl_filename_quote_characters = at_command_file() ? command_file_specials : NULL;
    if (completing_files)
        return file_name_breaks;
    return indexed_path_start(rl_point) >= 0 ? indexed_path_breaks : NULL;
}

/* The call whose argument table holds the cell's text up to `end` of this line (earlier
 * lines too): its text in `before`, which the caller frees. */
static bool argument_context(int end, nn_text *before, nnsh_argument_context *context)
{
    nn_text_init(before);
    if (pending_lines->length) {
        nn_text_append_n(before, pending_lines->data, pending_lines->length);
        nn_text_append(before, "\n");
    }
    nn_text_append_n(before, rl_line_buffer, (size_t)end);
    return !before->failed && before->length > 0 &&
           nnsh_cell_argument_context(before->data, before->length, context);
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)end;
    rl_completion_append_character = '\0';
    rl_completion_suppress_append = 1;
    /* The value of an argument given by name whose names are known (padding='s,
     * loss='sparse_c, metrics={'acc): those names, and never file names. */
    option_value value;
    if (completing_files && !at_command_file() && at_option_value(start, &value)) {
        nn_text before;
        nnsh_argument_context context;
        clear_candidates();
        bool known = argument_context(value.name_start, &before, &context) &&
                     ask_shell_value(text, before.data + context.callee_start,
                                     context.callee_length, rl_line_buffer + value.name_start,
                                     (size_t)value.name_length);
        nn_text_free(&before);
        if (known) {
            rl_attempted_completion_over = 1;
            return rl_completion_matches(text, next_candidate);
        }
    }
    /* Inside a string, or after %run/%save: Readline's own file name completion. */
    if (completing_files)
        return NULL;
    rl_attempted_completion_over = 1;
    clear_candidates();
    if (at_command_name(start)) {
        /* A whole command name is followed by a space: its argument comes next. */
        rl_completion_append_character = ' ';
        rl_completion_suppress_append = 0;
        for (const char *const *name = nnsh_command_names(); *name; name++)
            if (strncmp(*name + 1, text, strlen(text)) == 0)
                add_candidate(*name + 1);
        return rl_completion_matches(text, next_candidate);
    }
    /* A negative index: Readline's word starts after its minus (a break, as in k-x), so
     * the whole path is asked for and the candidates cut to the word. */
    int path_start = start >= 2 && rl_line_buffer[start - 1] == '-' &&
                             rl_line_buffer[start - 2] == '['
                         ? indexed_path_start(end)
                         : -1;
    char *path = path_start >= 0 ? strndup(rl_line_buffer + path_start, (size_t)(end - path_start))
                                 : NULL;
    /* The context is the whole cell so far: earlier lines and this one up to the word. */
    nn_text before;
    nnsh_argument_context context;
    bool in_arguments = argument_context(path ? path_start : start, &before, &context);
    ask_shell_names(path ? path : text, in_arguments ? before.data + context.callee_start : NULL,
                    in_arguments ? context.callee_length : 0);
    nn_text_free(&before);
    if (path) {
        size_t cut = (size_t)(start - path_start);
        for (int i = 0; i < candidate_count; i++)
            if (strlen(candidates[i]) >= cut)
                memmove(candidates[i], candidates[i] + cut, strlen(candidates[i] + cut) + 1);
        free(path);
    }
    return rl_completion_matches(text, next_candidate);
}

/* Lists candidates by their last part only (`Conv2D`, not `nn.layers.Conv2D`), which
 * is what tells them apart; file names as Readline lists them (whole, a directory's
 * with a slash). */
static void display_matches(char **matches, int count, int longest)
{
    if (completing_files) {
        rl_display_match_list(matches, count, longest);
        rl_forced_update_display();
        return;
    }
    char **shown = malloc(sizeof *shown * (size_t)(count + 2));
    if (!shown)
        return;
    int widest = 0;
    for (int i = 0; i <= count; i++) {
        const char *match = matches[i];
        const char *dot = strrchr(match, '.'), *colon = strrchr(match, ':');
        const char *cut = dot > colon ? dot : colon;
        shown[i] = (char *)(i > 0 && cut && cut[1] ? cut + 1 : match);
        int width = (int)strlen(shown[i]);
        if (i > 0 && width > widest)
            widest = width;
    }
    shown[count + 1] = NULL;
    rl_display_match_list(shown, count, widest);
    rl_forced_update_display();
    free(shown);
}

/* Tab with nothing but blanks before the cursor indents, as in IPython; elsewhere it
 * completes. */
static int tab_or_complete(int count, int key)
{
    for (int i = 0; i < rl_point; i++)
        if (rl_line_buffer[i] != ' ' && rl_line_buffer[i] != '\t') {
            /* A second Tab lists the candidates when Readline sees its own completion
             * as the last command. */
            if (rl_last_func == tab_or_complete)
                rl_last_func = rl_complete;
            return rl_complete(count, key);
        }
    return rl_insert_text("    ") >= 0 ? 0 : 1;
}

void nnsh_complete_install(nnsh_session *session, const nn_text *pending)
{
    rl_bind_key('\t', tab_or_complete);
    completing_session = session;
    pending_lines = pending;
    rl_attempted_completion_function = attempt_completion;
    rl_completion_display_matches_hook = display_matches;
    rl_completion_word_break_hook = word_break_characters;
    /* `.` and `:` are not breaks: the word is the whole path, such as nn.layers.Con. */
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,[+-*/%^~#";
    rl_completer_word_break_characters = rl_basic_word_break_characters;
    rl_completer_quote_characters = "\"'";
    rl_filename_quoting_function = quote_command_file;
    rl_filename_dequoting_function = dequote_command_file;
    rl_char_is_quoted_p = escaped_in_command_file;
    rl_directory_rewrite_hook = dequote_command_directory;
}
