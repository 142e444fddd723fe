/* How the shell reads a cell's source (see cell_source.h): a token walk that tracks
 * block depth (function/if/do/repeat open, end/until close) and bracket depth. */
#include <stdlib.h>
#include <string.h>

#include "cell_source.h"
#include "lexer.h"

static bool opens_block(const nnsh_lexer *lexer, const nnsh_token *token)
{
    return nnsh_token_is(lexer, token, "function") || nnsh_token_is(lexer, token, "if") ||
           nnsh_token_is(lexer, token, "do") || nnsh_token_is(lexer, token, "repeat");
}

static bool closes_block(const nnsh_lexer *lexer, const nnsh_token *token)
{
    return nnsh_token_is(lexer, token, "end") || nnsh_token_is(lexer, token, "until");
}

static bool opens_bracket(const nnsh_lexer *lexer, const nnsh_token *token)
{
    return nnsh_token_is(lexer, token, "(") || nnsh_token_is(lexer, token, "[") ||
           nnsh_token_is(lexer, token, "{");
}

static bool closes_bracket(const nnsh_lexer *lexer, const nnsh_token *token)
{
    return nnsh_token_is(lexer, token, ")") || nnsh_token_is(lexer, token, "]") ||
           nnsh_token_is(lexer, token, "}");
}

/* ---- locals ---- */

/* One change to the source: drop `length` bytes at `start`, then insert `insert`. */
typedef struct source_edit {
    size_t start, length;
    const char *insert;
} source_edit;

enum { MAX_EDITS_PER_STATEMENT = 2 + 2 * 32 };

/* Reads `local name [<attrib>] {, name [<attrib>]}` after the `local` token and plans
 * its rewrite. Returns the number of edits (0: leave the statement alone). The lexer is
 * left after the name list. */
static int plan_local_rewrite(nnsh_lexer *lexer, const nnsh_token *local, source_edit *edits)
{
    int count = 0;
    edits[count++] = (source_edit){local->start, local->length, ""};
    nnsh_lexer after_names = *lexer;
    size_t names_end = local->start + local->length;
    for (;;) {
        nnsh_token name = nnsh_lexer_next(lexer);
        if (name.kind != NNSH_TOKEN_NAME)
            return 0;
        names_end = name.start + name.length;
        after_names = *lexer;
        nnsh_token next = nnsh_lexer_next(lexer);
        if (nnsh_token_is(lexer, &next, "<")) {
            nnsh_token attribute = nnsh_lexer_next(lexer);
            nnsh_token close = nnsh_lexer_next(lexer);
            if (attribute.kind != NNSH_TOKEN_NAME || !nnsh_token_is(lexer, &close, ">"))
                return 0;
            if (attribute.length == 5 && memcmp(lexer->source + attribute.start, "close", 5) == 0)
                return 0;
            if (count + 2 > MAX_EDITS_PER_STATEMENT)
                return 0;
            edits[count++] = (source_edit){next.start, close.start + close.length - next.start, ""};
            names_end = close.start + close.length;
            after_names = *lexer;
            next = nnsh_lexer_next(lexer);
        }
        if (!nnsh_token_is(lexer, &next, ",")) {
            if (!nnsh_token_is(lexer, &next, "="))
                edits[count++] = (source_edit){names_end, 0, " = nil"};
            *lexer = after_names;
            return count;
        }
    }
}

void nnsh_cell_rewrite_locals(const char *source, size_t length, nn_text *out)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    size_t copied = 0;
    int depth = 0;
    for (;;) {
        nnsh_token token = nnsh_lexer_next(&lexer);
        if (token.kind == NNSH_TOKEN_END)
            break;
        if (depth == 0 && nnsh_token_is(&lexer, &token, "local")) {
            nnsh_lexer after_local = lexer, peek = lexer;
            nnsh_token next = nnsh_lexer_next(&peek);
            source_edit edits[MAX_EDITS_PER_STATEMENT];
            int count;
            if (nnsh_token_is(&lexer, &next, "function")) {
                edits[0] = (source_edit){token.start, token.length, ""};
                count = 1; /* `function` itself is read next and opens its block */
            } else {
                count = plan_local_rewrite(&lexer, &token, edits);
                if (count == 0)
                    lexer = after_local; /* not a declaration Lua accepts: Lua will say so */
            }
            for (int i = 0; i < count; i++) {
                nn_text_append_n(out, source + copied, edits[i].start - copied);
                nn_text_append(out, edits[i].insert);
                copied = edits[i].start + edits[i].length;
            }
            continue;
        }
        if (opens_block(&lexer, &token))
            depth++;
        else if (closes_block(&lexer, &token) && depth > 0)
            depth--;
    }
    nn_text_append_n(out, source + copied, length - copied);
}

bool nnsh_cell_declares_local(const char *source, size_t length, const char *name)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    size_t name_length = strlen(name);
    int depth = 0;
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         token = nnsh_lexer_next(&lexer)) {
        if (depth == 0 && nnsh_token_is(&lexer, &token, "local")) {
            /* local function f, or local a, b <const>, c: the names up to '=' or another
             * statement. */
            nnsh_lexer peek = lexer;
            nnsh_token next = nnsh_lexer_next(&peek);
            bool function = nnsh_token_is(&lexer, &next, "function");
            if (function)
                next = nnsh_lexer_next(&peek);
            while (next.kind == NNSH_TOKEN_NAME) {
                if (next.length == name_length && memcmp(source + next.start, name, name_length) == 0)
                    return true;
                if (function)
                    break;
                next = nnsh_lexer_next(&peek);
                if (next.kind == NNSH_TOKEN_SYMBOL && source[next.start] == '<') {
                    nnsh_lexer_next(&peek); /* the attribute's name */
                    nnsh_lexer_next(&peek); /* '>' */
                    next = nnsh_lexer_next(&peek);
                }
                if (next.kind != NNSH_TOKEN_SYMBOL || source[next.start] != ',')
                    break;
                next = nnsh_lexer_next(&peek);
            }
            continue;
        }
        if (opens_block(&lexer, &token))
            depth++;
        else if (closes_block(&lexer, &token) && depth > 0)
            depth--;
    }
    return false;
}

/* Whether the token is the name. */
static bool token_names(const char *source, const nnsh_token *token, const char *name,
                        size_t name_length)
{
    return token->kind == NNSH_TOKEN_NAME && token->length == name_length &&
           memcmp(source + token->start, name, name_length) == 0;
}

/* Reads the suffixes of an assignment target after its first name, `.field` and `[key]`,
 * from token on; returns the token after them and whether there were any. */
static nnsh_token skip_target_suffixes(nnsh_lexer *lexer, nnsh_token token, bool *suffixed)
{
    *suffixed = false;
    for (;;) {
        if (nnsh_token_is(lexer, &token, ".")) {
            nnsh_lexer_next(lexer); /* the field's name */
        } else if (nnsh_token_is(lexer, &token, "[")) {
            int depth = 1;
            while (depth > 0) {
                token = nnsh_lexer_next(lexer);
                if (token.kind == NNSH_TOKEN_END)
                    return token;
                depth += nnsh_token_is(lexer, &token, "[") - nnsh_token_is(lexer, &token, "]");
            }
        } else {
            return token;
        }
        *suffixed = true;
        token = nnsh_lexer_next(lexer);
    }
}

bool nnsh_cell_assigns(const char *source, size_t length, const char *name)
{
    if (nnsh_cell_declares_local(source, length, name))
        return true;
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    size_t name_length = strlen(name);
    int braces = 0;          /* inside a table constructor, `key = value` is a field */
    bool after_dot = false;  /* t.name and t:name are fields and methods */
    nnsh_token token = nnsh_lexer_next(&lexer);
    while (token.kind != NNSH_TOKEN_END) {
        if (nnsh_token_is(&lexer, &token, "local") || nnsh_token_is(&lexer, &token, "for")) {
            /* The names a local statement or a for loop declares are locals of their
             * block (a top-level local was counted above). */
            token = nnsh_lexer_next(&lexer);
            if (nnsh_token_is(&lexer, &token, "function"))
                token = nnsh_lexer_next(&lexer);
            /* name [<attribute>] {, name [<attribute>]}: a name only after a comma, so a
             * statement on the next line (local a / b = nil) is read as one */
            while (token.kind == NNSH_TOKEN_NAME) {
                token = nnsh_lexer_next(&lexer);
                if (nnsh_token_is(&lexer, &token, "<")) {
                    nnsh_lexer_next(&lexer); /* the attribute */
                    nnsh_lexer_next(&lexer); /* '>' */
                    token = nnsh_lexer_next(&lexer);
                }
                if (!nnsh_token_is(&lexer, &token, ","))
                    break;
                token = nnsh_lexer_next(&lexer);
            }
            after_dot = false;
            continue;
        }
        if (nnsh_token_is(&lexer, &token, "function")) {
            nnsh_lexer peek = lexer;
            nnsh_token function_name = nnsh_lexer_next(&peek);
            nnsh_token after = nnsh_lexer_next(&peek);
            if (token_names(source, &function_name, name, name_length) &&
                nnsh_token_is(&lexer, &after, "("))
                return true; /* function name() ... end */
        }
        if (token.kind == NNSH_TOKEN_NAME && braces == 0 && !after_dot) {
            /* A list of assignment targets, `a, t.f, b[1]`, is one only if '=' follows;
             * its plain names are the variables it sets. */
            bool named = false;
            for (;;) {
                bool same = token_names(source, &token, name, name_length), suffixed;
                token = skip_target_suffixes(&lexer, nnsh_lexer_next(&lexer), &suffixed);
                named = named || (same && !suffixed);
                if (!nnsh_token_is(&lexer, &token, ","))
                    break;
                nnsh_token next = nnsh_lexer_next(&lexer);
                if (next.kind != NNSH_TOKEN_NAME) {
                    token = next;
                    break;
                }
                token = next;
            }
            if (named && nnsh_token_is(&lexer, &token, "="))
                return true;
            after_dot = false;
            continue; /* the token that ended the list is read as any other */
        }
        braces += nnsh_token_is(&lexer, &token, "{") - nnsh_token_is(&lexer, &token, "}");
        after_dot = nnsh_token_is(&lexer, &token, ".") || nnsh_token_is(&lexer, &token, ":");
        token = nnsh_lexer_next(&lexer);
    }
    return false;
}

/* ---- trailing expressions ---- */

/* Whether a token that begins a line can only begin a new statement there: a bracket, a
 * string or an operator would instead continue the line before ("f\n(x)" is a call). */
static bool starts_fresh_expression(const nnsh_lexer *lexer, const nnsh_token *token)
{
    switch (token->kind) {
    case NNSH_TOKEN_NAME:
    case NNSH_TOKEN_NUMBER:
        return true;
    case NNSH_TOKEN_KEYWORD:
        return nnsh_token_is(lexer, token, "nil") || nnsh_token_is(lexer, token, "true") ||
               nnsh_token_is(lexer, token, "false") || nnsh_token_is(lexer, token, "not") ||
               nnsh_token_is(lexer, token, "function");
    case NNSH_TOKEN_SYMBOL:
        return nnsh_token_is(lexer, token, "...") || nnsh_token_is(lexer, token, "#");
    default:
        return false;
    }
}

size_t nnsh_cell_expression_starts(const char *source, size_t length, size_t *starts,
                                   size_t capacity)
{
    if (capacity == 0)
        return 0;
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    nnsh_token token = nnsh_lexer_next(&lexer);
    if (token.kind == NNSH_TOKEN_END)
        return 0;
    starts[0] = token.start;
    /* The later candidates, kept in a ring so only the last capacity-1 survive. */
    size_t ring_size = capacity - 1, seen = 0;
    int depth = 0, brackets = 0;
    int previous_end_line = token.line;
    for (;;) {
        if (opens_block(&lexer, &token))
            depth++;
        else if (closes_block(&lexer, &token) && depth > 0)
            depth--;
        else if (opens_bracket(&lexer, &token))
            brackets++;
        else if (closes_bracket(&lexer, &token) && brackets > 0)
            brackets--;
        /* After a top-level ';' a new statement starts, on the same line or not. */
        bool after_semicolon = depth == 0 && brackets == 0 && nnsh_token_is(&lexer, &token, ";");
        previous_end_line = lexer.line;
        token = nnsh_lexer_next(&lexer);
        if (token.kind == NNSH_TOKEN_END)
            break;
        bool new_line = token.line > previous_end_line && starts_fresh_expression(&lexer, &token);
        if (ring_size && depth == 0 && brackets == 0 && (after_semicolon || new_line))
            starts[1 + seen++ % ring_size] = token.start;
    }
    /* Order the ring from the newest candidate to the oldest. */
    size_t kept = seen < ring_size ? seen : ring_size;
    size_t *ordered = malloc(sizeof *ordered * (kept ? kept : 1));
    if (!ordered)
        return 1;
    for (size_t i = 0; i < kept; i++)
        ordered[i] = starts[1 + (seen - 1 - i) % ring_size];
    memcpy(starts + 1, ordered, sizeof *ordered * kept);
    free(ordered);
    return 1 + kept;
}

/* The source with the expression that begins at `start` passed through `wrapper` (a
 * function's text and its opening parenthesis). */
static bool wrap_expression(const char *source, size_t length, size_t start, nn_text *out,
                            const char *wrapper)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source + start, length - start);
    size_t end = start;
    long brackets = 0;
    for (nnsh_token token; (token = nnsh_lexer_next(&lexer)).kind != NNSH_TOKEN_END;) {
        if (opens_bracket(&lexer, &token))
            brackets++;
        else if (closes_bracket(&lexer, &token) && --brackets < 0)
            return false;
        end = start + token.start + token.length;
    }
    nn_text_append_n(out, source, start);
    nn_text_append(out, wrapper);
    nn_text_append_n(out, source + start, end - start);
    nn_text_append(out, ")");
    nn_text_append_n(out, source + end, length - end);
    return true;
}

bool nnsh_cell_return_expression(const char *source, size_t length, size_t start, nn_text *out)
{
    return wrap_expression(source, length, start, out, "return (function(...) return ... end)(");
}

bool nnsh_cell_discard_expression(const char *source, size_t length, size_t start, nn_text *out)
{
    return wrap_expression(source, length, start, out, "return (function() end)(");
}

static nnsh_token last_token(nnsh_lexer *lexer, const char *source, size_t length)
{
    nnsh_lexer_init(lexer, source, length);
    nnsh_token last = {.kind = NNSH_TOKEN_END};
    for (nnsh_token token; (token = nnsh_lexer_next(lexer)).kind != NNSH_TOKEN_END;)
        last = token;
    return last;
}

bool nnsh_cell_ends_with_semicolon(const char *source, size_t length)
{
    nnsh_lexer lexer;
    nnsh_token last = last_token(&lexer, source, length);
    return nnsh_token_is(&lexer, &last, ";");
}

bool nnsh_cell_ends_with_call(const char *source, size_t length)
{
    nnsh_lexer lexer;
    nnsh_token last = last_token(&lexer, source, length);
    return last.kind == NNSH_TOKEN_STRING || nnsh_token_is(&lexer, &last, ")") ||
           nnsh_token_is(&lexer, &last, "}");
}

/* ---- completion inside argument tables ---- */

/* The start of the name path (a.b.c or a.b:c) that ends with tokens[end]; returns the
 * index of its first token, or -1 when tokens[end] does not end a path. */
static long path_start(const nnsh_lexer *lexer, const nnsh_token *tokens, long end)
{
    if (end < 0 || tokens[end].kind != NNSH_TOKEN_NAME)
        return -1;
    long first = end;
    bool method = false;
    while (first >= 2 && tokens[first - 2].kind == NNSH_TOKEN_NAME &&
           (nnsh_token_is(lexer, &tokens[first - 1], ".") ||
            (!method && first == end && nnsh_token_is(lexer, &tokens[first - 1], ":")))) {
        method = method || nnsh_token_is(lexer, &tokens[first - 1], ":");
        first -= 2;
    }
    return first;
}

bool nnsh_cell_argument_context(const char *text, size_t length, nnsh_argument_context *context)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, text, length);
    size_t capacity = 64, count = 0;
    nnsh_token *tokens = malloc(sizeof *tokens * capacity);
    long *open = malloc(sizeof *open * capacity); /* indices of unclosed brackets */
    size_t open_count = 0;
    bool found = false;
    if (!tokens || !open)
        goto done;
    for (nnsh_token token; (token = nnsh_lexer_next(&lexer)).kind != NNSH_TOKEN_END;) {
        if (token.unterminated)
            goto done; /* inside a string or comment: not an argument name */
        if (count == capacity) {
            capacity *= 2;
            nnsh_token *grown = realloc(tokens, sizeof *tokens * capacity);
            long *grown_open = grown ? realloc(open, sizeof *open * capacity) : NULL;
            if (grown)
                tokens = grown;
            if (grown_open)
                open = grown_open;
            if (!grown || !grown_open)
                goto done;
        }
        if (opens_bracket(&lexer, &token))
            open[open_count++] = (long)count;
        else if (closes_bracket(&lexer, &token) && open_count > 0)
            open_count--;
        tokens[count++] = token;
    }
    if (lexer.comment_unterminated || open_count == 0 || count == 0)
        goto done;
    long table = open[open_count - 1];
    const nnsh_token *last = &tokens[count - 1];
    if (!nnsh_token_is(&lexer, &tokens[table], "{"))
        goto done;
    if ((long)count - 1 != table && !nnsh_token_is(&lexer, last, ",") &&
        !nnsh_token_is(&lexer, last, ";"))
        goto done;
    /* f{...} calls with the table itself; f(a, {...}) passes it inside parentheses. */
    long callee_end = table - 1;
    if (callee_end >= 0 && (nnsh_token_is(&lexer, &tokens[callee_end], "(") ||
                            nnsh_token_is(&lexer, &tokens[callee_end], ","))) {
        if (open_count < 2 || !nnsh_token_is(&lexer, &tokens[open[open_count - 2]], "("))
            goto done;
        callee_end = open[open_count - 2] - 1;
    }
    long callee_first = path_start(&lexer, tokens, callee_end);
    if (callee_first < 0)
        goto done;
    context->callee_start = tokens[callee_first].start;
    context->callee_length =
        tokens[callee_end].start + tokens[callee_end].length - tokens[callee_first].start;
    found = true;
done:
    free(tokens);
    free(open);
    return found;
}

char nnsh_cell_unclosed_bracket(const char *source, size_t length, int *line, size_t *offset)
{
    enum { DEEPEST = 256 };
    char closers[DEEPEST];
    int lines[DEEPEST], depth = 0;
    size_t starts[DEEPEST];
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         token = nnsh_lexer_next(&lexer)) {
        if (token.kind != NNSH_TOKEN_SYMBOL || token.length != 1)
            continue;
        char c = source[token.start];
        const char *opener = strchr("({[", c);
        if (opener && c != '\0') {
            if (depth == DEEPEST)
                return '\0';
            closers[depth] = ")}]"[opener - "({["];
            starts[depth] = token.start;
            lines[depth++] = token.line;
        } else if (c == ')' || c == '}' || c == ']') {
            if (depth == 0 || closers[depth - 1] != c)
                return '\0';
            depth--;
        }
    }
    if (depth == 0)
        return '\0';
    if (line)
        *line = lines[depth - 1];
    if (offset)
        *offset = starts[depth - 1];
    return closers[depth - 1];
}

bool nnsh_cell_is_open(const char *source, size_t length)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    /* In valid Lua each block has one opener and one closer: while and for open with
     * their `do`, an if with `if` (not with each `then`), and repeat closes with until. */
    static const char *const openers[] = {"function", "do", "if", "repeat"};
    static const char *const closers[] = {"end", "until"};
    long blocks = 0, brackets = 0;
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         token = nnsh_lexer_next(&lexer)) {
        if (token.unterminated)
            return token.kind == NNSH_TOKEN_STRING && source[token.start] == '[';
        if (token.kind == NNSH_TOKEN_KEYWORD) {
            for (size_t i = 0; i < sizeof openers / sizeof openers[0]; i++)
                blocks += nnsh_token_is(&lexer, &token, openers[i]);
            for (size_t i = 0; i < sizeof closers / sizeof closers[0]; i++)
                blocks -= nnsh_token_is(&lexer, &token, closers[i]);
        } else if (token.kind == NNSH_TOKEN_SYMBOL) {
            char c = source[token.start];
            brackets += token.length == 1 && (c == '(' || c == '{' || c == '[');
            brackets -= token.length == 1 && (c == ')' || c == '}' || c == ']');
        }
    }
    return lexer.comment_unterminated || (blocks > 0 && brackets >= 0) ||
           (brackets > 0 && blocks >= 0);
}
