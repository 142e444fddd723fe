/* Hints for Python habits in Lua code (see python_hints.h): each rule reads Lua's error
 * and the line it names, and says how Lua writes what the line meant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "paren_call.h"
#include "python_hints.h"

/* A piece of a longer text (not terminated). */
typedef struct span {
    const char *text;
    size_t length;
} span;

/* What the rules read. */
typedef struct hint_context {
    span error;      /* the message after "chunk:line: ", up to its first newline */
    bool syntax;     /* the message is Lua's parser's ("... near 'x'") */
    span lines[4];   /* the line the message names, then the non-blank lines before it */
    int line_count;  /* how many of lines[] there are (at least 1) */
    span source;     /* all the code, its first line numbered first_line */
    int first_line;
    long number;     /* the line the message names */
} hint_context;

enum {
    LONGEST_REWRITE = 100, /* a rewrite of the user's code longer than this is not shown */
    LONGEST_PART = 40,     /* nor is a condition or operand longer than this */
};

/* ---- reading text ---- */

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static span trim(span s)
{
    while (s.length > 0 && is_blank(s.text[0])) {
        s.text++;
        s.length--;
    }
    while (s.length > 0 && is_blank(s.text[s.length - 1]))
        s.length--;
    return s;
}

static span span_of(const char *text, size_t start, size_t end)
{
    return (span){text + start, end > start ? end - start : 0};
}

static bool span_has(span s, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n <= s.length && i <= s.length - n; i++)
        if (memcmp(s.text + i, needle, n) == 0)
            return true;
    return false;
}

static bool span_is(span s, const char *text)
{
    return s.length == strlen(text) && memcmp(s.text, text, s.length) == 0;
}

/* Whether two spans hold the same text. */
static bool span_eq(span a, span b)
{
    return a.length == b.length && memcmp(a.text, b.text, a.length) == 0;
}

/* Whether s starts with the word `word` (a whole word, after any blanks). */
static bool starts_with_word(span s, const char *word)
{
    s = trim(s);
    size_t n = strlen(word);
    return s.length >= n && memcmp(s.text, word, n) == 0 &&
           (s.length == n || !is_name_char(s.text[n]));
}

/* The end of the quoted string starting at i (just after its closing quote, or n). */
static size_t skip_string(const char *s, size_t n, size_t i)
{
    char quote = s[i++];
    while (i < n && s[i] != quote) {
        if (s[i] == '\\')
            i++;
        i++;
    }
    return i < n ? i + 1 : n;
}

/* Where the bracket opened at `open` closes, strings skipped; n when not in s. */
static size_t matching_close(const char *s, size_t n, size_t open)
{
    int depth = 0;
    for (size_t i = open; i < n;) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            i = skip_string(s, n, i);
            continue;
        }
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && --depth == 0)
            return i;
        i++;
    }
    return n;
}

/* Where the first character of `wanted` occurs in s outside strings, from `from`; n if
 * nowhere. */
static size_t find_outside_strings(const char *s, size_t n, size_t from, const char *wanted)
{
    size_t length = strlen(wanted);
    for (size_t i = from; i < n;) {
        if (s[i] == '"' || s[i] == '\'') {
            i = skip_string(s, n, i);
            continue;
        }
        if (i + length <= n && memcmp(s + i, wanted, length) == 0)
            return i;
        i++;
    }
    return n;
}

/* Whether the bracket at i follows a value, so that it calls or indexes it (f(x), t[1])
 * rather than opening a list or a tuple. */
static bool follows_value(const char *s, size_t i)
{
    while (i > 0 && is_blank(s[i - 1]))
        i--;
    if (i == 0)
        return false;
    char c = s[i - 1];
    if (c == ')' || c == ']' || c == '}' || c == '"' || c == '\'')
        return true;
    if (!is_name_char(c))
        return false;
    size_t start = i;
    while (start > 0 && is_name_char(s[start - 1]))
        start--;
    static const char *const keywords[] = {"return", "and", "or", "not", "in", "if",
                                           "then", "else", "elseif", "do", "until",
                                           "while", "local", NULL};
    span word = span_of(s, start, i);
    for (int k = 0; keywords[k]; k++)
        if (span_is(word, keywords[k]))
            return false;
    return true;
}

static bool has_top_level_comma(const char *s, size_t open, size_t close)
{
    for (size_t i = open + 1; i < close;) {
        if (s[i] == '"' || s[i] == '\'') {
            i = skip_string(s, close, i);
        } else if (s[i] == '(' || s[i] == '[' || s[i] == '{') {
            i = matching_close(s, close, i) + 1;
        } else {
            if (s[i] == ',')
                return true;
            i++;
        }
    }
    return false;
}

/* Splits s at its top-level commas into at most `capacity` trimmed parts. Returns how
 * many, or -1 when there are more. */
static int split_commas(span s, span *parts, int capacity)
{
    int count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= s.length;) {
        if (i == s.length || s.text[i] == ',') {
            if (count == capacity)
                return -1;
            parts[count++] = trim(span_of(s.text, start, i));
            start = ++i;
        } else if (s.text[i] == '"' || s.text[i] == '\'') {
            i = skip_string(s.text, s.length, i);
        } else if (s.text[i] == '(' || s.text[i] == '[' || s.text[i] == '{') {
            size_t close = matching_close(s.text, s.length, i);
            i = close < s.length ? close + 1 : s.length;
        } else {
            i++;
        }
    }
    return count;
}

/* The length of the name that starts s (0 when none). */
static size_t name_length(span s)
{
    if (s.length == 0 || !is_name_start(s.text[0]))
        return 0;
    size_t n = 1;
    while (n < s.length && is_name_char(s.text[n]))
        n++;
    return n;
}

/* Whether s is `name = value` (not ==), as a Python keyword argument; *name and *value get
 * its parts. */
static bool is_keyword_argument(span s, span *name, span *value)
{
    size_t n = name_length(s);
    if (n == 0)
        return false;
    size_t i = n;
    while (i < s.length && is_blank(s.text[i]))
        i++;
    if (i >= s.length || s.text[i] != '=' || (i + 1 < s.length && s.text[i + 1] == '='))
        return false;
    *name = span_of(s.text, 0, n);
    *value = trim(span_of(s.text, i + 1, s.length));
    return true;
}

/* ---- writing Lua for Python ---- */

/* Appends s with Python's lists and tuples written as Lua tables ([1, 2] and (3, 3) ->
 * {1, 2} and {3, 3}, (4,) -> {4}) and its constants as Lua's: True, False, and None, which
 * is nil, or nn.None inside a list (a size left open, as in input shapes). */
static void append_lua_value(nn_text *out, span s, bool in_sequence)
{
    const char *t = s.text;
    size_t n = s.length;
    for (size_t i = 0; i < n;) {
        char c = t[i];
        if (c == '"' || c == '\'') {
            size_t end = skip_string(t, n, i);
            nn_text_append_n(out, t + i, end - i);
            i = end;
        } else if (c == '(' || c == '[' || c == '{') {
            size_t close = matching_close(t, n, i);
            if (close == n) {
                nn_text_append_n(out, t + i, n - i);
                return;
            }
            bool sequence = !follows_value(t, i) &&
                            (c == '[' || (c == '(' && has_top_level_comma(t, i, close)));
            size_t inner_end = close;
            while (sequence && inner_end > i + 1 && is_blank(t[inner_end - 1]))
                inner_end--;
            if (sequence && inner_end > i + 1 && t[inner_end - 1] == ',')
                inner_end--; /* (4,) is a one-element tuple: {4} */
            nn_text_append_n(out, sequence ? "{" : t + i, 1);
            append_lua_value(out, span_of(t, i + 1, inner_end), sequence || in_sequence);
            nn_text_append_n(out, sequence ? "}" : t + close, 1);
            i = close + 1;
        } else if (is_name_start(c) && (i == 0 || (!is_name_char(t[i - 1]) && t[i - 1] != '.'))) {
            span word = {t + i, name_length(span_of(t, i, n))};
            if (span_is(word, "True"))
                nn_text_append(out, "true");
            else if (span_is(word, "False"))
                nn_text_append(out, "false");
            else if (span_is(word, "None"))
                nn_text_append(out, in_sequence ? "nn.None" : "nil");
            else
                nn_text_append_n(out, word.text, word.length);
            i += word.length;
        } else {
            nn_text_append_n(out, t + i, 1);
            i++;
        }
    }
}

/* Appends "hint: " + prefix + the rewrite when it is short enough, else + example. */
static void append_hint(nn_text *hint, const char *prefix, const nn_text *rewrite,
                        const char *example)
{
    nn_text_append(hint, "hint: ");
    nn_text_append(hint, prefix);
    if (!rewrite->failed && rewrite->length > 0 && rewrite->length <= LONGEST_REWRITE)
        nn_text_append_n(hint, rewrite->data, rewrite->length);
    else
        nn_text_append(hint, example);
}

/* np, tf, plt, keras: Python's libraries, whose work nn and the tensors' methods do; the
 * hint for a name, or NULL for any other. */
static const char *library_hint(span name)
{
    static const struct {
        const char *name, *hint;
    } libraries[] = {
        {"np", "Lua has no NumPy: tensors have its operations as methods (x:argmax(-1), "
               "x:mean(0), x:reshape(2, 3)) and nn the rest (nn.zeros, nn.matmul); help "
               "'nn.Tensor' lists them"},
        {"numpy", NULL}, /* as np */
        {"tf", "nnsh's Keras is nn (nn.layers.Dense, nn.Sequential, nn.datasets.mnist), and a "
               "tensor's methods do tf's math (x:argmax(-1), x:mean())"},
        {"tensorflow", NULL}, {"keras", NULL}, /* as tf */
        {"plt", "nnsh draws charts in the terminal: history:plot(), or nn.plot(values)"},
        {"matplotlib", NULL}, /* as plt */
        {"torch", "nnsh is Keras-style, not PyTorch: nn.layers.Dense for nn.Linear, "
                  "model:compile and model:fit train, nn.concatenate{a, b} joins tensors, "
                  "model:save(path) saves"},
    };
    const char *found = NULL;
    for (size_t k = 0; k < sizeof libraries / sizeof libraries[0]; k++) {
        if (libraries[k].hint)
            found = libraries[k].hint;
        if (span_is(name, libraries[k].name))
            return found;
    }
    return NULL;
}

/* The receiver of a method written with a dot, as Python writes one (model.compile,
 * x.mean): a lone lowercase name that is no module. Modules and classes keep their dot
 * (nn.zeros, L.Dense, layers.Dense, math.max). */
static bool is_method_receiver(span receiver)
{
    static const char *const modules[] = {"nn", "math", "string", "table", "os", "io",
                                          "coroutine", "utf8", "debug", "layers", "models",
                                          "callbacks", "optimizers", "losses", "metrics",
                                          "initializers", "datasets", "utils", NULL};
    if (receiver.length == 0 || !(receiver.text[0] >= 'a' && receiver.text[0] <= 'z'))
        return false;
    for (size_t i = 0; i < receiver.length; i++)
        if (!is_name_char(receiver.text[i]))
            return false;
    for (int k = 0; modules[k]; k++)
        if (span_is(receiver, modules[k]))
            return false;
    return library_hint(receiver) == NULL;
}

/* Appends the called name, its dot at method_dot (0: none) written as Lua's colon. */
static void append_callee(nn_text *out, span callee, size_t method_dot)
{
    if (method_dot == 0) {
        nn_text_append_n(out, callee.text, callee.length);
        return;
    }
    nn_text_append_n(out, callee.text, method_dot - 1);
    nn_text_append(out, ":");
    nn_text_append_n(out, callee.text + method_dot, callee.length - method_dot);
}

/* ---- the rules: each appends its hint and returns true when its habit matches ---- */

/* fit(x, y, epochs=3): keyword arguments. */
static bool keyword_arguments_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "')' expected near '='"))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    /* The call whose argument list holds the first `name=`: the innermost open '('. */
    size_t opens[32];
    int depth = 0;
    size_t call = n;
    for (size_t i = 0; i < n && call == n;) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            i = skip_string(s, n, i);
        } else if (c == '(' || c == '[' || c == '{') {
            if (depth == 32)
                return false;
            opens[depth++] = i++;
        } else if (c == ')' || c == ']' || c == '}') {
            depth -= depth > 0;
            i++;
        } else if (is_name_start(c) && (i == 0 || !is_name_char(s[i - 1]))) {
            span name, value;
            if (depth > 0 && s[opens[depth - 1]] == '(' &&
                is_keyword_argument(span_of(s, i, n), &name, &value))
                call = opens[depth - 1];
            i += name_length(span_of(s, i, n));
        } else {
            i++;
        }
    }
    if (call == n)
        return false;
    size_t callee_start = call;
    while (callee_start > 0 && (is_name_char(s[callee_start - 1]) || s[callee_start - 1] == '.' ||
                                s[callee_start - 1] == ':'))
        callee_start--;
    span callee = span_of(s, callee_start, call);
    span before = trim(span_of(s, 0, callee_start));
    /* if(x = 1), while(...), function(a = 1): Lua's keywords, no call to give a table */
    static const char *const lua_keywords[] = {"if", "elseif", "while", "until", "function",
                                               "return", "and", "or", "not", NULL};
    for (int k = 0; lua_keywords[k]; k++)
        if (span_is(callee, lua_keywords[k]))
            return false;
    if (callee.length == 0 || !is_name_start(callee.text[0]) ||
        (before.length >= 8 && memcmp(before.text + before.length - 8, "function", 8) == 0))
        return false; /* a definition's defaults (function f(a=1)) are another matter */
    /* np.argmax(p, axis=1): no table makes that work; say what does. */
    span first = span_of(callee.text, 0, name_length(callee));
    if (library_hint(first)) {
        nn_text_printf(hint, "hint: %s", library_hint(first));
        return true;
    }
    /* model.compile(...): Lua calls a method with a colon; the last dot becomes one when
     * what comes before it is an object, not a module. */
    size_t last_dot = callee.length;
    while (last_dot > 0 && callee.text[last_dot - 1] != '.' &&
           callee.text[last_dot - 1] != ':')
        last_dot--;
    bool method = last_dot > 0 && callee.text[last_dot - 1] == '.' &&
                  is_method_receiver(span_of(callee.text, 0, last_dot - 1));
    /* A class (Dense, EarlyStopping, Adam) takes everything in one table, as nn's examples
     * write it: nn.layers.Dense{64, activation = 'relu'}. */
    bool class_name = last_dot < callee.length && callee.text[last_dot] >= 'A' &&
                      callee.text[last_dot] <= 'Z';

    nn_text rewrite;
    nn_text_init(&rewrite);
    size_t close = matching_close(s, n, call);
    span arguments[16];
    int count = close < n ? split_commas(span_of(s, call + 1, close), arguments, 16) : -1;
    /* shape= and dtype= are positional in nn (nn.zeros({2, 3}, 'int32'), x:astype('int32')). */
    int keywords = 0;
    for (int i = 0; i < count; i++) {
        span name, value;
        keywords += is_keyword_argument(arguments[i], &name, &value) &&
                    !span_is(name, "dtype") && !span_is(name, "shape");
    }
    if (count > 0 && keywords == 0) {
        /* Only shape and dtype: the same call with them in their places. */
        append_callee(&rewrite, callee, method ? last_dot : 0);
        nn_text_append(&rewrite, "(");
        for (int i = 0; i < count; i++) {
            span name, value;
            if (i > 0)
                nn_text_append(&rewrite, ", ");
            append_lua_value(&rewrite, is_keyword_argument(arguments[i], &name, &value)
                                           ? value : arguments[i], false);
        }
        nn_text_append(&rewrite, ")");
        append_hint(hint, "nn takes shape and dtype as plain arguments: ", &rewrite,
                    "nn.zeros({2, 3}, 'int32')");
        nn_text_free(&rewrite);
        return true;
    }
    if (count > 0 && keywords > 0) {
        bool one_table = class_name;
        int positional = 0;
        span name, value;
        while (!one_table && positional < count &&
               !is_keyword_argument(arguments[positional], &name, &value))
            positional++;
        append_callee(&rewrite, callee, method ? last_dot : 0);
        nn_text_append(&rewrite, positional > 0 ? "(" : "{");
        for (int i = 0; i < count; i++) {
            if (i > 0)
                nn_text_append(&rewrite, ", ");
            if (i == positional && positional > 0)
                nn_text_append(&rewrite, "{");
            if (i >= positional && is_keyword_argument(arguments[i], &name, &value)) {
                nn_text_append_n(&rewrite, name.text, name.length);
                nn_text_append(&rewrite, " = ");
                append_lua_value(&rewrite, value, false);
            } else {
                append_lua_value(&rewrite, arguments[i], false);
            }
        }
        nn_text_append(&rewrite, positional > 0 ? "})" : "}");
    }
    append_hint(hint, "Lua passes options in a table: ", &rewrite, "model:fit(x, y, {epochs = 3})");
    nn_text_free(&rewrite);
    return true;
}

/* Appends the hint for the list or tuple opened at `open` of the line. */
static void sequence_hint(nn_text *hint, const char *s, size_t n, size_t open)
{
    size_t close = matching_close(s, n, open);
    nn_text rewrite;
    nn_text_init(&rewrite);
    if (close < n)
        append_lua_value(&rewrite, span_of(s, open, close + 1), false);
    append_hint(hint, "lists and tuples are tables in Lua: ", &rewrite, "{1, 2, 3}");
    nn_text_free(&rewrite);
}

/* (x_train, y_train), (x_test, y_test) = load_data(): Python unpacks nested tuples; Lua
 * assigns a flat list of names from the values a call returns. */
static bool unpacking_hint(nn_text *hint, const hint_context *context)
{
    if (!context->syntax)
        return false;
    span line = trim(context->lines[0]);
    const char *s = line.text;
    size_t n = line.length;
    if (n == 0 || s[0] != '(')
        return false;
    size_t depth = 0, equals = n;
    for (size_t i = 0; i < n && equals == n; i++) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            i = skip_string(s, n, i) - 1;
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            depth -= depth > 0;
        } else if (c == '=' && depth == 0 && (i + 1 == n || s[i + 1] != '=') &&
                   (i == 0 || !strchr("=~<>", s[i - 1]))) {
            equals = i;
        }
    }
    if (equals == n)
        return false;
    /* The names on the left, brackets dropped; anything else there is no unpacking. */
    nn_text rewrite;
    nn_text_init(&rewrite);
    size_t names = 0;
    for (size_t i = 0; i < equals;) {
        while (i < equals && (is_blank(s[i]) || s[i] == '(' || s[i] == ')' || s[i] == ','))
            i++;
        size_t start = i;
        while (i < equals && (is_name_char(s[i]) || s[i] == '.'))
            i++;
        if (i == start) {
            if (i < equals) {
                nn_text_free(&rewrite);
                return false;
            }
            break;
        }
        if (!is_name_start(s[start])) {
            nn_text_free(&rewrite);
            return false;
        }
        nn_text_append(&rewrite, names++ ? ", " : "");
        nn_text_append_n(&rewrite, s + start, i - start);
    }
    if (names < 2) {
        nn_text_free(&rewrite);
        return false;
    }
    span value = trim(span_of(s, equals + 1, n));
    nn_text_append(&rewrite, " = ");
    nn_text_append_n(&rewrite, value.text, value.length);
    append_hint(hint, "Lua assigns several values without brackets: ", &rewrite,
                "a, b, c, d = f()");
    nn_text_free(&rewrite);
    return true;
}

/* Conv2D{32, (3, 3)}: a tuple. */
static bool tuple_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "')' expected near ','"))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    for (size_t i = find_outside_strings(s, n, 0, "("); i < n;
         i = find_outside_strings(s, n, i + 1, "(")) {
        size_t close = matching_close(s, n, i);
        if (!follows_value(s, i) && (close == n || has_top_level_comma(s, i, close))) {
            sequence_hint(hint, s, n, i);
            return true;
        }
    }
    return false;
}

/* [1, 2, 3]: a list. */
static bool list_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "unexpected symbol near '['"))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    for (size_t i = find_outside_strings(s, n, 0, "["); i < n;
         i = find_outside_strings(s, n, i + 1, "[")) {
        if (follows_value(s, i) || (i + 1 < n && (s[i + 1] == '[' || s[i + 1] == '=')))
            continue;
        size_t close = matching_close(s, n, i);
        if (close < n && find_outside_strings(s, close, i, " for ") < close) {
            nn_text_append(hint, "hint: Lua has no list comprehensions: fill a table in a "
                                 "loop, t[#t + 1] = x");
            return true;
        }
        sequence_hint(hint, s, n, i);
        return true;
    }
    return false;
}

/* x[1:3], x[:, 0]: Python's slices. */
static bool slice_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "near ':'"))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    for (size_t i = find_outside_strings(s, n, 0, "["); i < n;
         i = find_outside_strings(s, n, i + 1, "[")) {
        size_t close = matching_close(s, n, i);
        if (follows_value(s, i) && close < n && find_outside_strings(s, close, i, ":") < close) {
            nn_text_append(hint, "hint: Lua has no slices: t:slice(first, last) takes rows "
                                 "(counting from 1, last included); t[i] is row i");
            return true;
        }
    }
    return false;
}

/* # a comment. A statement cannot start with Lua's length operator; in a cell's last
 * line it can be read as an expression, and then `# comment` is the length of a nil
 * global. */
static bool comment_hint(nn_text *hint, const hint_context *context)
{
    static const char length_of_nil[] = "attempt to get length of a nil value (global '";
    span line = trim(context->lines[0]);
    bool matches = span_has(context->error, "unexpected symbol near '#'");
    if (!matches && span_has(context->error, length_of_nil)) {
        const char *name = strstr(context->error.text, length_of_nil) + sizeof length_of_nil - 1;
        size_t hash = find_outside_strings(line.text, line.length, 0, "#");
        size_t after = hash + 1;
        while (after < line.length && is_blank(line.text[after]))
            after++;
        span word = span_of(line.text, after, line.length);
        word.length = name_length(word);
        /* `# comment` with a blank after the #, where Lua code writes #t; a # where a value
         * goes (print(# items), x = # t) is Lua's length */
        size_t before = hash < line.length ? hash : 0;
        while (before > 0 && is_blank(line.text[before - 1]))
            before--;
        bool where_value_goes = before > 0 && strchr("(,=+-*/%^<>{[~", line.text[before - 1]);
        matches = after > hash + 1 && hash < line.length && word.length > 0 &&
                  !where_value_goes && strncmp(name, word.text, word.length) == 0 &&
                  name[word.length] == '\'';
    }
    if (matches)
        nn_text_append(hint, "hint: comments start with -- in Lua");
    return matches;
}

/* The operand that ends just before i (a name, a number, a field): empty when it is
 * something else. */
static span operand_before(const char *s, size_t i)
{
    while (i > 0 && is_blank(s[i - 1]))
        i--;
    size_t start = i;
    while (start > 0 && (is_name_char(s[start - 1]) || s[start - 1] == '.'))
        start--;
    return span_of(s, start, i);
}

static span operand_after(const char *s, size_t n, size_t i)
{
    while (i < n && is_blank(s[i]))
        i++;
    size_t end = i;
    while (end < n && (is_name_char(s[end]) || s[end] == '.'))
        end++;
    return span_of(s, i, end);
}

/* x ** 2: a power. */
static bool power_hint(nn_text *hint, const hint_context *context)
{
    /* "unexpected symbol" where an expression goes on, "syntax error" at a statement;
     * a cell that is only 2 ** 10 fails at its first number */
    if (!span_has(context->error, "near '*'") &&
        !(context->syntax && span_has(context->error, "unexpected symbol near '") &&
          context->error.length > 0 && context->error.text[context->error.length - 2] >= '0' &&
          context->error.text[context->error.length - 2] <= '9'))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    for (size_t i = find_outside_strings(s, n, 0, "**"); i < n;
         i = find_outside_strings(s, n, i + 2, "**")) {
        size_t before = i;
        while (before > 0 && is_blank(s[before - 1]))
            before--;
        if (before == 0 || !(is_name_char(s[before - 1]) || s[before - 1] == ')' ||
                             s[before - 1] == ']'))
            continue; /* f(**options) is no power */
        span base = operand_before(s, i), exponent = operand_after(s, n, i + 2);
        if (base.length > 0 && exponent.length > 0 && base.length + exponent.length < LONGEST_PART)
            nn_text_printf(hint, "hint: Lua writes %.*s^%.*s", (int)base.length, base.text,
                           (int)exponent.length, exponent.text);
        else
            nn_text_append(hint, "hint: Lua writes x^2 for x ** 2");
        return true;
    }
    return false;
}

/* a != b */
static bool not_equal_hint(nn_text *hint, const hint_context *context)
{
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    if (!span_has(context->error, "near '!'") || find_outside_strings(s, n, 0, "!=") == n)
        return false;
    nn_text_append(hint, "hint: Lua writes ~= for not equal");
    return true;
}

/* x += 1: an augmented assignment, the whole statement. */
static bool augmented_assignment_hint(nn_text *hint, const hint_context *context)
{
    if (!context->syntax || !span_has(context->error, "syntax error near '"))
        return false;
    span line = trim(context->lines[0]);
    if (line.length > 0 && line.text[line.length - 1] == ';')
        line = trim(span_of(line.text, 0, line.length - 1));
    /* The last statement of the line: `x = 1; x += 1`. */
    for (size_t at = find_outside_strings(line.text, line.length, 0, ";"); at < line.length;
         at = find_outside_strings(line.text, line.length, 0, ";"))
        line = trim(span_of(line.text, at + 1, line.length));
    const char *s = line.text;
    size_t n = line.length, i = name_length(line);
    if (i == 0)
        return false;
    while (i < n) { /* the target: x, t.count, t[k] */
        if (s[i] == '.' && name_length(span_of(s, i + 1, n)) > 0)
            i += 1 + name_length(span_of(s, i + 1, n));
        else if (s[i] == '[' && matching_close(s, n, i) < n)
            i = matching_close(s, n, i) + 1;
        else
            break;
    }
    span target = span_of(s, 0, i);
    while (i < n && is_blank(s[i]))
        i++;
    static const struct {
        const char *python, *lua; /* the operator before '=', and Lua's */
    } operators[] = {{"**", "^"}, {"//", "//"}, {"+", "+"}, {"-", "-"},
                     {"*", "*"},  {"/", "/"},   {"%", "%"}};
    for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
        size_t length = strlen(operators[k].python);
        if (i + length >= n || memcmp(s + i, operators[k].python, length) != 0 ||
            s[i + length] != '=' || (i + length + 1 < n && s[i + length + 1] == '='))
            continue;
        span value = trim(span_of(s, i + length + 1, n));
        if (value.length == 0 || target.length + value.length > LONGEST_PART)
            nn_text_printf(hint, "hint: Lua has no %s=; write x = x %s 1", operators[k].python,
                           operators[k].lua);
        else {
            /* x -= a + b is x = x - (a + b) */
            bool simple = operand_after(value.text, value.length, 0).length == value.length;
            bool parenthesize = !simple && strcmp(operators[k].python, "+") != 0;
            bool power = strcmp(operators[k].lua, "^") == 0; /* x^2, as Lua writes it */
            nn_text_printf(hint, "hint: Lua has no %s=; write %.*s = %.*s%s%s%s%s%.*s%s",
                           operators[k].python, (int)target.length, target.text,
                           (int)target.length, target.text, power ? "" : " ", operators[k].lua,
                           power ? "" : " ", parenthesize ? "(" : "", (int)value.length,
                           value.text, parenthesize ? ")" : "");
        }
        return true;
    }
    return false;
}

/* {'a': 1}: a dictionary. */
static bool dictionary_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "'}' expected near ':'"))
        return false;
    nn_text_append(hint, "hint: dictionaries are tables in Lua: {lr = 0.01, ['a key'] = 2}");
    return true;
}

/* """text""": Python's long strings. */
/* Whether a quote that starts a string in the line is three of a kind (Python's """),
 * not one inside a string ('"""' is Lua's string of three quotes). */
static bool opens_triple_quote(span line)
{
    for (size_t i = 0; i < line.length;) {
        char c = line.text[i];
        if (c != '"' && c != '\'') {
            i++;
            continue;
        }
        if (i + 2 < line.length && line.text[i + 1] == c && line.text[i + 2] == c)
            return true;
        i = skip_string(line.text, line.length, i);
    }
    return false;
}

static bool triple_quote_hint(nn_text *hint, const hint_context *context)
{
    if (!context->syntax || !opens_triple_quote(context->lines[0]))
        return false;
    nn_text_append(hint, "hint: Lua writes long strings as [[...]] and long comments as --[[...]]");
    return true;
}

/* a if c else b */
static bool conditional_expression_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "'then' expected near 'else'") ||
        starts_with_word(context->lines[0], "if") || starts_with_word(context->lines[0], "elif"))
        return false;
    /* `if n > 0 else n = 1 end` is a Lua if that lacks its then: what follows its else is
     * a statement (an assignment, an end), where Python's b is a value. */
    span line = context->lines[0];
    size_t at = find_outside_strings(line.text, line.length, 0, " else ");
    for (size_t i = at + 6; at < line.length && i < line.length; i++) {
        char c = line.text[i];
        bool assignment = c == '=' && line.text[i - 1] != '=' && line.text[i - 1] != '~' &&
                          line.text[i - 1] != '<' && line.text[i - 1] != '>' &&
                          (i + 1 == line.length || line.text[i + 1] != '=');
        if (assignment)
            return false;
    }
    if (at < line.length && find_outside_strings(line.text, line.length, at, " end") < line.length)
        return false;
    nn_text_append(hint, "hint: Lua writes c and a or b for a if c else b");
    return true;
}

/* x is None, x is not None */
static bool is_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "near 'is'"))
        return false;
    nn_text_append(hint, "hint: Lua writes x == nil for x is None, and ~= for is not");
    return true;
}

/* L.Dense? or ?L.Dense, IPython's help: Lua reads the ? as a stray symbol. */
static bool question_hint(nn_text *hint, const hint_context *context)
{
    span line = trim(context->lines[0]);
    if (!context->syntax || !span_has(context->error, "near '?'") || line.length < 2 ||
        (line.text[0] != '?' && line.text[line.length - 1] != '?'))
        return false;
    while (line.length > 0 && line.text[0] == '?')
        line.text++, line.length--;
    while (line.length > 0 && line.text[line.length - 1] == '?')
        line.length--;
    line = trim(line);
    if (line.length == 0 || line.length > 80 || span_has(line, "?"))
        return false;
    /* What IPython's ? takes: a name or path (help(model.fit)), not a statement. */
    for (size_t i = 0; i < line.length; i++)
        if (!is_name_char(line.text[i]) && !strchr(".:()[]'\"", line.text[i]))
            return false;
    if (starts_with_word(line, "help"))
        nn_text_printf(hint, "hint: Lua has no ? for help: %.*s shows it", (int)line.length,
                       line.text);
    else
        nn_text_printf(hint, "hint: Lua has no ? for help: help(%.*s) shows it",
                       (int)line.length, line.text);
    return true;
}

/* import numpy, from keras import layers */
static bool import_hint(nn_text *hint, const hint_context *context)
{
    span line = context->lines[0];
    if (!context->syntax ||
        !(starts_with_word(line, "import") ||
          (starts_with_word(line, "from") && span_has(line, " import "))))
        return false;
    nn_text_append(hint, "hint: Lua has no import: nn is loaded already, and require 'name' "
                         "loads a Lua module");
    return true;
}

/* lambda x: x * 2 */
static size_t header_colon(const char *s, size_t n);

static bool lambda_hint(nn_text *hint, const hint_context *context)
{
    span line = context->lines[0];
    size_t at = find_outside_strings(line.text, line.length, 0, "lambda ");
    if (!context->syntax || at == line.length || (at > 0 && is_name_char(line.text[at - 1])))
        return false;
    /* Python's lambda has a colon after its parameters; a variable named lambda (a
     * regularisation's weight) has none. */
    if (header_colon(line.text + at, line.length - at) == line.length - at)
        return false;
    nn_text_append(hint, "hint: Lua writes function(x) return x * 2 end for lambda x: x * 2");
    return true;
}

/* The ':' that ends a Python block header's first part (`if x:`, `if x: y()`), or n: a
 * top-level ':' followed by a blank or the end, where Lua's method calls (x:m()) have a
 * name. */
static size_t header_colon(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            return n; /* a Lua comment: `for i = 1, 3 do -- i: the index` is no header */
        } else if (s[i] == '"' || s[i] == '\'') {
            i = skip_string(s, n, i);
        } else if (s[i] == '(' || s[i] == '[' || s[i] == '{') {
            i = matching_close(s, n, i) + 1;
        } else if (s[i] == ':' && (i + 1 == n || is_blank(s[i + 1])) &&
                   (i == 0 || s[i - 1] != ':')) {
            return i;
        } else {
            i++;
        }
    }
    return n;
}

/* The Python block header words, and whether a condition or names follow them. */
static const struct {
    const char *word;
    bool takes_text; /* if x:, for ...:, while x: (else: takes none) */
} header_words[] = {
    {"if", true},     {"elif", true},    {"while", true}, {"for", true},
    {"def", true},    {"except", false}, {"else", false}, {"try", false},
    {"finally", false},
};

bool nnsh_python_block_header(const char *line_text, size_t length)
{
    span line = trim((span){line_text, length});
    for (size_t k = 0; k < sizeof header_words / sizeof header_words[0]; k++) {
        if (!starts_with_word(line, header_words[k].word))
            continue;
        size_t after = strlen(header_words[k].word);
        span rest = trim(span_of(line.text, after, line.length));
        if (strcmp(header_words[k].word, "def") == 0)
            return name_length(rest) > 0 && span_has(rest, "(");
        if (strcmp(header_words[k].word, "except") == 0)
            return line.text[line.length - 1] == ':';
        if (!header_words[k].takes_text)
            return rest.length > 0 && rest.text[0] == ':';
        return rest.length > 0 && header_colon(rest.text, rest.length) < rest.length;
    }
    return false;
}

/* The hint for `for TARGETS in ITERABLE:`. */
static void for_hint(nn_text *hint, span targets, span iterable)
{
    span arguments[3];
    int count = 0;
    span inside = {0};
    size_t open = find_outside_strings(iterable.text, iterable.length, 0, "(");
    if (open < iterable.length && iterable.text[iterable.length - 1] == ')' &&
        matching_close(iterable.text, iterable.length, open) == iterable.length - 1) {
        inside = span_of(iterable.text, open + 1, iterable.length - 1);
        count = split_commas(inside, arguments, 3);
    }
    span function = span_of(iterable.text, 0, open < iterable.length ? open : 0);
    int t = (int)targets.length;
    if (span_is(function, "range") && (count == 1 || count == 2) && arguments[0].length > 0) {
        span first = count == 2 ? arguments[0] : (span){"0", 1};
        span last = arguments[count - 1];
        char *end;
        long number = strtol(last.text, &end, 10);
        if (end == last.text + last.length && last.length > 0 && last.length < 12)
            nn_text_printf(hint, "hint: Lua counts with for %.*s = %.*s, %ld do ... end", t,
                           targets.text, (int)first.length, first.text, number - 1);
        else
            nn_text_printf(hint, "hint: Lua counts with for %.*s = %.*s, %.*s - 1 do ... end", t,
                           targets.text, (int)first.length, first.text, (int)last.length,
                           last.text);
    } else if (span_is(function, "enumerate") && count == 1) {
        nn_text_printf(hint, "hint: Lua writes for %.*s in ipairs(%.*s) do ... end (from 1)", t,
                       targets.text, (int)inside.length, inside.text);
    } else if (iterable.length > 8 &&
               memcmp(iterable.text + iterable.length - 8, ".items()", 8) == 0) {
        nn_text_printf(hint, "hint: Lua writes for %.*s in pairs(%.*s) do ... end", t,
                       targets.text, (int)iterable.length - 8, iterable.text);
    } else if (!span_has(targets, ",")) {
        nn_text_printf(hint, "hint: Lua walks a list with for _, %.*s in ipairs(%.*s) do ... end",
                       t, targets.text, (int)iterable.length, iterable.text);
    } else {
        nn_text_append(hint, "hint: Lua writes for i, x in ipairs(list) do ... end");
    }
}

/* Appends the hint for a block header line. */
static void header_hint(nn_text *hint, span line)
{
    line = trim(line);
    span rest = trim(span_of(line.text, name_length(line), line.length));
    size_t colon = header_colon(rest.text, rest.length);
    span text = trim(span_of(rest.text, 0, colon));
    if (colon == rest.length && text.length >= 5 && /* elif x then: Lua's then, Python's elif */
        memcmp(text.text + text.length - 5, " then", 5) == 0)
        text = trim(span_of(text.text, 0, text.length - 5));
    bool fits = text.length > 0 && text.length <= LONGEST_PART;
    if (starts_with_word(line, "if") || starts_with_word(line, "elif")) {
        const char *lua = starts_with_word(line, "if") ? "if" : "elseif";
        if (fits)
            nn_text_printf(hint, "hint: Lua writes %s %.*s then ... end", lua, (int)text.length,
                           text.text);
        else
            nn_text_printf(hint, "hint: Lua writes %s x then ... end", lua);
    } else if (starts_with_word(line, "while")) {
        if (fits)
            nn_text_printf(hint, "hint: Lua writes while %.*s do ... end", (int)text.length,
                           text.text);
        else
            nn_text_append(hint, "hint: Lua writes while x do ... end");
    } else if (starts_with_word(line, "for")) {
        size_t in = find_outside_strings(text.text, text.length, 0, " in ");
        if (fits && in < text.length)
            for_hint(hint, trim(span_of(text.text, 0, in)),
                     trim(span_of(text.text, in + 4, text.length)));
        else
            nn_text_append(hint, "hint: Lua writes for i = 1, n do ... end");
    } else if (starts_with_word(line, "def")) {
        /* def f(a, b=2, *rest) -> int:  ->  function f(a, b, ...) ... end */
        span name = {rest.text, name_length(rest)};
        size_t open = name.length;
        size_t close = open < rest.length && rest.text[open] == '('
                           ? matching_close(rest.text, rest.length, open)
                           : rest.length;
        span parameters[16];
        int count = close < rest.length
                        ? split_commas(span_of(rest.text, open + 1, close), parameters, 16)
                        : -1;
        nn_text rewrite;
        nn_text_init(&rewrite);
        if (count >= 0) {
            nn_text_printf(&rewrite, "function %.*s(", (int)name.length, name.text);
            for (int i = 0; i < count; i++) {
                span parameter = parameters[i];
                if (parameter.length == 0)
                    break; /* def f(): no parameters */
                if (i > 0)
                    nn_text_append(&rewrite, ", ");
                if (parameter.text[0] == '*') { /* *args, **options: Lua's ... takes all */
                    nn_text_append(&rewrite, "...");
                    break;
                }
                nn_text_append_n(&rewrite, parameter.text, name_length(parameter));
            }
            nn_text_append(&rewrite, ") ... end");
        }
        append_hint(hint, "Lua writes ", &rewrite, "function f(x) ... end");
        nn_text_free(&rewrite);
    } else if (starts_with_word(line, "else")) {
        nn_text_append(hint, "hint: Lua writes if x then ... else ... end, with no colons");
    } else {
        nn_text_append(hint, "hint: Lua catches errors with pcall: local ok, err = pcall(f, x)");
    }
}

/* if x:, for i in range(3):, def f(x):, else: on the line the error names, or on one of
 * the few lines before it (`if x:` swallows the next line's name as a method's). */
static bool block_hint(nn_text *hint, const hint_context *context)
{
    if (!context->syntax)
        return false;
    if (starts_with_word(context->lines[0], "elif")) {
        header_hint(hint, context->lines[0]);
        return true;
    }
    for (int i = 0; i < context->line_count; i++) {
        if (nnsh_python_block_header(context->lines[i].text, context->lines[i].length)) {
            header_hint(hint, context->lines[i]);
            return true;
        }
    }
    return false;
}

/* print(f"...{x}"): an f-string is a call of the global f. */
static bool f_string_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "a nil value (global 'f')"))
        return false;
    const char *s = context->lines[0].text;
    size_t n = context->lines[0].length;
    for (size_t i = 0; i + 1 < n; i++) {
        if (s[i] == 'f' && (s[i + 1] == '"' || s[i + 1] == '\'') &&
            (i == 0 || !is_name_char(s[i - 1]))) {
            nn_text_append(hint, "hint: Lua has no f-strings: 'x = ' .. x, or "
                                 "string.format('x = %g', x)");
            return true;
        }
    }
    return false;
}

/* x[::2], x[0, :, 0], p @ q, elif, && and ||, !x: Python's operators and indexing. */
static bool python_syntax_hint(nn_text *hint, const hint_context *context)
{
    span line = context->lines[0];
    const char *s = line.text;
    size_t n = line.length;
    if (context->syntax && span_has(context->error, "near '::'") && span_has(line, "[::")) {
        nn_text_append(hint, "hint: Lua has no slices: t:slice(first, last) takes rows "
                             "(counting from 1, last included), t:take{1, 3, 5} the rows "
                             "given");
        return true;
    }
    if (context->syntax && span_has(context->error, "']' expected near ','")) {
        for (size_t i = find_outside_strings(s, n, 0, "["); i < n;
             i = find_outside_strings(s, n, i + 1, "[")) {
            size_t close = matching_close(s, n, i);
            if (follows_value(s, i) && close < n && has_top_level_comma(s, i, close)) {
                nn_text_append(hint, "hint: Lua's [] takes one position: t[1][2] goes one "
                                     "axis at a time, counting from 1");
                return true;
            }
        }
    }
    /* Python's with-block: a context manager to open a file, or PyTorch's no_grad. */
    if (context->syntax && starts_with_word(line, "with")) {
        if (span_has(line, "no_grad"))
            nn_text_append(hint, "hint: nnsh needs no torch.no_grad(): model(x) and "
                                 "model:predict(x) keep no gradients; Lua has no with-block");
        else if (span_has(line, "open("))
            nn_text_append(hint, "hint: Lua has no with-block: local f = assert(io.open(path)), "
                                 "then f:read('a') and f:close()");
        else
            nn_text_append(hint, "hint: Lua has no with-block: write the setup, a do ... end "
                                 "block, and the cleanup after it");
        return true;
    }
    if (context->syntax && span_has(context->error, "near '@'") && span_has(line, "@")) {
        nn_text_append(hint, "hint: Lua has no @: nn.matmul(a, b) multiplies matrices");
        return true;
    }
    if (context->syntax && (find_outside_strings(s, n, 0, " elif ") < n ||
                            starts_with_word(line, "elif"))) {
        nn_text_append(hint, "hint: Lua writes elseif for elif, and ends the if with end");
        return true;
    }
    if (context->syntax && (span_has(context->error, "near '&'") ||
                            span_has(context->error, "near '|'")) &&
        (span_has(line, "&&") || span_has(line, "||"))) {
        nn_text_append(hint, "hint: Lua writes and for &&, or for ||");
        return true;
    }
    if (context->syntax && span_has(context->error, "near '!'") && !span_has(line, "!=")) {
        span command = trim(line);
        if (command.length > 1 && command.text[0] == '!') /* IPython's !ls */
            nn_text_printf(hint, "hint: Lua runs a shell command with os.execute('%.*s')",
                           (int)(command.length - 1 < 60 ? command.length - 1 : 60),
                           command.text + 1);
        else
            nn_text_append(hint, "hint: Lua writes not x for !x");
        return true;
    }
    return false;
}

/* Habits that an error and a text on its line tell apart at once: Python's built-in
 * functions and list methods, nil in Lua (len(t), str(x), range(n), t.append(x)), and a
 * few ways of NumPy. */
static bool error_and_line_hint(nn_text *hint, const hint_context *context)
{
    static const struct {
        const char *error, *line, *hint; /* a part of the error, the text on the line */
    } habits[] = {
        {"attempt to call a nil value (global 'len')", "len(", "Lua writes #t for len(t)"},
        {"attempt to call a nil value (global 'str')", "str(",
         "Lua writes tostring(x) for str(x)"},
        {"attempt to call a nil value (global 'int')", "int(",
         "Lua writes math.floor(x) for int(x), tonumber(s) for a string"},
        {"attempt to call a nil value (global 'float')", "float(",
         "Lua writes tonumber(s) for float(s)"},
        {"attempt to call a nil value (global 'range')", "range(",
         "Lua counts with for i = 0, n - 1 do ... end"},
        {"attempt to call a nil value (global 'enumerate')", "enumerate(",
         "Lua writes for i, x in ipairs(t) do ... end"},
        {"attempt to call a nil value (global 'abs')", "abs(",
         "Lua writes math.abs(x) for a number, t:abs() for a tensor"},
        {"attempt to call a nil value (global 'min')", "min(",
         "Lua writes math.min(a, b) for numbers, t:min() for a tensor"},
        {"attempt to call a nil value (global 'max')", "max(",
         "Lua writes math.max(a, b) for numbers, t:max() for a tensor"},
        {"attempt to call a nil value (global 'sum')", "sum(",
         "a tensor sums with t:sum() (t:sum(0) along an axis)"},
        {"attempt to call a nil value (global 'round')", "round(",
         "a tensor rounds with t:round(), a number with math.floor(x + 0.5)"},
        {"attempt to call a nil value (field 'append')", ".append(",
         "Lua appends with t[#t + 1] = x"},
        {"attempt to call a nil value (method 'append')", ":append(",
         "Lua appends with t[#t + 1] = x"},
        {"attempt to call a nil value (global 'exit')", "exit(",
         "Ctrl-D or %quit leaves the shell; os.exit() ends a script"},
        {"attempt to call a nil value (global 'quit')", "quit(",
         "Ctrl-D or %quit leaves the shell; os.exit() ends a script"},
        /* (p == q):mean(): == gives one boolean, not a tensor of them. */
        {"attempt to index a boolean value$", "==",
         "== compares whole tensors to one true or false; a:eq(b) compares them element by "
         "element"},
        /* PyTorch's x.size(0): size is a field here, a number of any object. */
        {"attempt to call a number value (field 'size')", "size(",
         "x.size is the number of elements (a field, no call); x.shape[1] is the size of the "
         "first axis"},
        {"attempt to call a number value (method 'size')", "size(",
         "x.size is the number of elements (a field, no call); x.shape[1] is the size of the "
         "first axis"},
        /* x[None], NumPy's new axis. */
        {"'None' is Python", "[None", "NumPy's x[None] adds an axis: x:expand_dims(0)"},
    };
    for (size_t k = 0; k < sizeof habits / sizeof habits[0]; k++) {
        /* An error ending in $ must end there: a boolean that no name holds (Lua names
         * a variable's: "(field 'verbose')"), as == makes one. */
        size_t error_length = strlen(habits[k].error);
        bool at_end = habits[k].error[error_length - 1] == '$';
        span wanted = {habits[k].error, error_length - at_end};
        bool matches = at_end ? context->error.length >= wanted.length &&
                                    memcmp(context->error.text + context->error.length -
                                               wanted.length,
                                           wanted.text, wanted.length) == 0
                              : span_has(context->error, habits[k].error);
        if (matches && span_has(context->lines[0], habits[k].line)) {
            nn_text_printf(hint, "hint: %s", habits[k].hint);
            return true;
        }
    }
    return false;
}

/* for layer in model.layers do: Python walks a list itself; Lua through ipairs. */
static bool for_in_hint(nn_text *hint, const hint_context *context)
{
    if (!span_has(context->error, "(for iterator 'for iterator')"))
        return false;
    span line = trim(context->lines[0]);
    const char *in = NULL;
    for (size_t i = 0; i + 4 <= line.length && !in; i++)
        if (memcmp(line.text + i, " in ", 4) == 0)
            in = line.text + i;
    const char *end = in ? strstr(in, " do") : NULL;
    if (starts_with_word(line, "for") && in && end && end < line.text + line.length &&
        end - (in + 4) < 60 && in - line.text < 40) {
        span names = trim(span_of(line.text, 3, (size_t)(in - line.text)));
        span list = trim(span_of(in, 4, (size_t)(end - in)));
        bool one_name = true;
        for (size_t i = 0; i < names.length; i++)
            one_name = one_name && is_name_char(names.text[i]);
        if (one_name && names.length > 0 && list.length > 0) {
            nn_text_printf(hint, "hint: Lua walks a list with ipairs: for _, %.*s in "
                                 "ipairs(%.*s) do",
                           (int)names.length, names.text, (int)list.length, list.text);
            return true;
        }
    }
    nn_text_append(hint, "hint: Lua walks a list with ipairs: for i, x in ipairs(t) do, and a "
                         "table's keys with pairs");
    return true;
}

/* np.zeros(3) after an import that Lua refused: "attempt to index a nil value (global
 * 'np')"; what nnsh has instead. */
static bool library_global_hint(nn_text *hint, const hint_context *context)
{
    static const char marker[] = "a nil value (global '";
    for (size_t i = 0; i + sizeof marker - 1 <= context->error.length; i++) {
        if (memcmp(context->error.text + i, marker, sizeof marker - 1) != 0)
            continue;
        span name = span_of(context->error.text, i + sizeof marker - 1, context->error.length);
        name.length = name_length(name);
        const char *text = library_hint(name);
        if (!text)
            return false;
        nn_text_printf(hint, "hint: %s", text);
        return true;
    }
    return false;
}

/* The variable "... (global 'y')" names at the end of an error, as Lua names the value
 * it could not use; false when the error names none. */
static bool named_variable(span error, span *name)
{
    static const char *const kinds[] = {"global", "local", "field", "method", "upvalue",
                                        "constant", NULL};
    if (error.length < 2 || !span_is(span_of(error.text, error.length - 2, error.length), "')"))
        return false;
    size_t open = error.length - 2;
    while (open > 0 && error.text[open] != '(')
        open--;
    for (int k = 0; kinds[k]; k++) {
        size_t n = strlen(kinds[k]);
        if (open + n + 3 <= error.length - 2 && memcmp(error.text + open + 1, kinds[k], n) == 0 &&
            memcmp(error.text + open + 1 + n, " '", 2) == 0) {
            *name = span_of(error.text, open + n + 3, error.length - 2);
            return true;
        }
    }
    return false;
}

/* by_hand = ... + d.bias, then (by_hand - d(x)):abs() on the next line: Lua reads the
 * second line as a call of the first's d.bias, where Python sees two statements. */
static bool paren_call_hint(nn_text *hint, const hint_context *context)
{
    int line = (int)(context->number - context->first_line + 1);
    nnsh_paren_call call;
    if (!nnsh_paren_call_find(context->source.text, context->source.length, line, &call))
        return false;
    /* On the lines of the called expression, an error about another variable (pirnt in
     * `pirnt(a)`) happened before the call, whatever follows. */
    span name;
    span callee_name = {context->source.text + call.callee_name, call.callee_name_length};
    bool in_arguments = line >= call.paren_line && line <= call.close_line;
    if (!in_arguments && named_variable(context->error, &name) && !span_eq(name, callee_name))
        return false;
    int offset = context->first_line - 1;
    bool directly = call.above_line == call.paren_line - 1;
    char above[32];
    if (directly)
        snprintf(above, sizeof above, "the line above");
    else
        snprintf(above, sizeof above, "line %d", call.above_line + offset);
    span callee = span_of(context->source.text, call.callee_start, call.callee_end);
    nn_text_printf(hint, "hint: line %d starts with '(', so Lua reads it as a call of %s",
                   call.paren_line + offset, above);
    if (callee.length <= LONGEST_PART && !memchr(callee.text, '\n', callee.length))
        nn_text_printf(hint, " (%.*s(...))", (int)callee.length, callee.text);
    nn_text_printf(hint, "; end %s with ';' or start this one with ';('", above);
    return true;
}

/* The receiver of the first call ":name(" or ".name(" on the line at or after *from
 * (blanks allowed around the ':' or '.'): its last name ("loss" in "self.loss:item("),
 * or ")" or "]" for a call's result or an indexed value ("x:sum():item(", "h[1]:item(").
 * *from moves past the call, for the next one. False when no further call has a
 * receiver that can be read. */
static bool next_call_receiver(span line, const char *method, size_t *from, span *receiver)
{
    size_t method_length = strlen(method);
    for (size_t i = *from; i < line.length; i++) {
        if (line.text[i] != ':' && line.text[i] != '.')
            continue;
        size_t name = i + 1;
        while (name < line.length && is_blank(line.text[name]))
            name++;
        if (name + method_length >= line.length ||
            memcmp(line.text + name, method, method_length) != 0 ||
            line.text[name + method_length] != '(')
            continue;
        *from = name + method_length;
        size_t end = i;
        while (end > 0 && is_blank(line.text[end - 1]))
            end--;
        if (end > 0 && (line.text[end - 1] == ')' || line.text[end - 1] == ']')) {
            *receiver = span_of(line.text, end - 1, end);
            return true;
        }
        size_t start = end;
        while (start > 0 && is_name_char(line.text[start - 1]))
            start--;
        if (start < end) {
            *receiver = span_of(line.text, start, end);
            return true;
        }
    }
    return false;
}

/* Whether a receiver's name says optimizer: opt, optim, optimizer (and a name ending so:
 * my_optimizer), or an optimizer's class. Not options or adopter. */
static bool names_optimizer(span receiver)
{
    static const char *const whole[] = {"opt", "optim", "optimizer", "optimiser", "adam", "sgd",
                                        "rmsprop", NULL};
    static const char *const endings[] = {"_opt", "_optim", "optimizer", "optimiser", NULL};
    char lowered[64];
    if (receiver.length >= sizeof lowered)
        return false;
    for (size_t i = 0; i < receiver.length; i++) {
        char c = receiver.text[i];
        lowered[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    lowered[receiver.length] = '\0';
    for (int w = 0; whole[w]; w++)
        if (strcmp(lowered, whole[w]) == 0)
            return true;
    for (int e = 0; endings[e]; e++) {
        size_t n = strlen(endings[e]);
        if (receiver.length > n && strcmp(lowered + receiver.length - n, endings[e]) == 0)
            return true;
    }
    return false;
}

/* PyTorch's loss.item(), loss.backward(), optimizer.step() and optimizer.zero_grad(),
 * hinted only where the line's receiver is what the error is about: the number the error
 * names, or, where it names none it can (a call's result, an indexed value: "field '?'"),
 * a receiver that is one; for step and zero_grad, a name that says optimizer. A table of
 * the user's own with a step method gets nothing. */
static bool torch_loop_hint(nn_text *hint, const hint_context *context)
{
    span receiver, named;
    bool names = named_variable(context->error, &named) && named.length > 0 &&
                 is_name_start(named.text[0]) && !span_has(named, " ");
    if (span_has(context->error, "attempt to index a number value")) {
        static const struct {
            const char *method, *hint;
        } numbers[] = {
            {"item", "x:sum(), x:mean() and a loss are Lua numbers already: drop :item()"},
            {"backward", "nnsh has no autograd: model:fit(x, y, {...}) trains, or "
                         "model:train_on_batch(x, y) takes one step of a loop of your own"},
        };
        for (size_t k = 0; k < sizeof numbers / sizeof numbers[0]; k++) {
            size_t from = 0;
            while (next_call_receiver(context->lines[0], numbers[k].method, &from, &receiver)) {
                bool same = names ? span_eq(receiver, named)
                                  : span_is(receiver, ")") || span_is(receiver, "]");
                if (same) {
                    nn_text_printf(hint, "hint: %s", numbers[k].hint);
                    return true;
                }
            }
        }
        return false;
    }
    static const char *const steps[] = {"step", "zero_grad", NULL};
    for (int k = 0; steps[k]; k++) {
        char method_error[64], field_error[64];
        snprintf(method_error, sizeof method_error, "attempt to call a nil value (method '%s')",
                 steps[k]);
        snprintf(field_error, sizeof field_error, "attempt to call a nil value (field '%s')",
                 steps[k]);
        if (!span_has(context->error, method_error) && !span_has(context->error, field_error))
            continue;
        size_t from = 0;
        while (next_call_receiver(context->lines[0], steps[k], &from, &receiver))
            if (names_optimizer(receiver)) {
                nn_text_printf(hint, "hint: the optimizer steps inside model:fit and "
                                     "model:train_on_batch: give it to "
                                     "model:compile{optimizer = ...}");
                return true;
            }
    }
    return false;
}

/* In order: a block header explains the most, so it goes first. */
static bool (*const rules[])(nn_text *, const hint_context *) = {
    block_hint,        import_hint,         keyword_arguments_hint,
    unpacking_hint,    tuple_hint,          list_hint,         slice_hint,
    comment_hint,      augmented_assignment_hint, /* x **= 2 before x ** 2 */
    power_hint,        not_equal_hint,      dictionary_hint,
    triple_quote_hint, conditional_expression_hint,
    is_hint,           lambda_hint,         f_string_hint,
    question_hint,     library_global_hint,
    python_syntax_hint, error_and_line_hint, for_in_hint,
    torch_loop_hint,
    paren_call_hint, /* a Python habit, if any, explains the error better */
};

/* ---- reading the message ---- */

/* The line `number` of source (whose first line is first_line), without its newline;
 * false when the source has no such line. */
static bool source_line(const char *source, size_t length, int first_line, long number,
                        span *line)
{
    if (number < first_line)
        return false;
    size_t start = 0;
    for (long at = first_line; at < number; at++) {
        const char *newline = memchr(source + start, '\n', length - start);
        if (!newline)
            return false;
        start = (size_t)(newline - source) + 1;
    }
    const char *newline = memchr(source + start, '\n', length - start);
    size_t end = newline ? (size_t)(newline - source) : length;
    *line = span_of(source, start, end);
    return true;
}

/* Whether the line of source starting at `line` begins with code, not inside a long
 * string or comment opened above it ([[ ... if x: ... ]]): a token starts at its first
 * non-blank byte. */
static bool line_starts_code(const char *source, size_t length, const char *line)
{
    size_t offset = (size_t)(line - source);
    while (offset < length && is_blank(source[offset]) && source[offset] != '\n')
        offset++;
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         token = nnsh_lexer_next(&lexer)) {
        if (token.start >= offset)
            return token.start == offset;
        if (token.start + token.length > offset)
            return false; /* inside a string that spans lines */
    }
    return false;
}

/* The line up to a Lua comment (--, outside strings): the rules read code, so that
 * `x = = 1 -- python elif here` is no elif. */
static span without_lua_comment(span line)
{
    size_t comment = find_outside_strings(line.text, line.length, 0, "--");
    return span_of(line.text, 0, comment < line.length ? comment : line.length);
}

bool nnsh_python_hint(nn_text *hint, const char *message, const char *chunk, const char *source,
                      size_t length, int first_line)
{
    if (!message || !source)
        return false;
    /* "chunk:line: text" */
    const char *at = NULL;
    if (chunk) {
        size_t chunk_length = strlen(chunk);
        if (strncmp(message, chunk, chunk_length) == 0 && message[chunk_length] == ':')
            at = message + chunk_length + 1;
    } else {
        const char *first_newline = strchr(message, '\n');
        for (const char *colon = strchr(message, ':');
             colon && (!first_newline || colon < first_newline); colon = strchr(colon + 1, ':')) {
            if (colon[1] >= '0' && colon[1] <= '9') {
                at = colon + 1;
                break;
            }
        }
    }
    if (!at || !(*at >= '0' && *at <= '9'))
        return false;
    char *end;
    long number = strtol(at, &end, 10);
    if (end[0] != ':' || end[1] != ' ')
        return false;
    hint_context context = {.source = {source, length}, .first_line = first_line,
                            .number = number};
    const char *text = end + 2;
    context.error = (span){text, strcspn(text, "\n")};
    context.syntax = span_has(context.error, " near ");
    if (!source_line(source, length, first_line, number, &context.lines[0]))
        return false;
    context.lines[0] = without_lua_comment(context.lines[0]);
    context.line_count = 1;
    /* A few lines back at most: blank lines between a header and its error are few. */
    for (long previous = number - 1;
         previous >= first_line && previous >= number - 8 && context.line_count < 4; previous--) {
        span line;
        if (source_line(source, length, first_line, previous, &line) &&
            trim(without_lua_comment(line)).length > 0 &&
            line_starts_code(source, length, line.text))
            context.lines[context.line_count++] = without_lua_comment(line);
    }
    for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
        if (rules[k](hint, &context))
            return true;
    return false;
}

/* ---- Python names read as Lua globals ---- */

const char *nnsh_python_constant_message(const char *name)
{
    static const struct {
        const char *name, *message;
    } constants[] = {
        {"None", "'None' is Python: Lua's nothing is nil; a size left open is nn.None"},
        {"True", "'True' is Python: Lua writes true"},
        {"False", "'False' is Python: Lua writes false"},
    };
    for (size_t k = 0; k < sizeof constants / sizeof constants[0]; k++)
        if (strcmp(name, constants[k].name) == 0)
            return constants[k].message;
    return NULL;
}

void nnsh_python_option_message(nn_text *out, const char *name)
{
    nn_text_printf(out, "'%s' is not defined: nn's option values are strings in Lua, so write "
                   "'%s'", name, name);
}
