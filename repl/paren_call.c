/* Finding a '(' that continues the line above as a call (see paren_call.h): one walk over
 * the tokens that knows, after each, whether a '(' there would call what came before. */
#include <string.h>

#include "lexer.h"
#include "paren_call.h"

/* Brackets nested deeper than this end the walk without an answer. */
enum { DEEPEST_BRACKETS = 64 };

/* What an open bracket started, which says what its close leaves behind. */
typedef enum bracket_kind {
    BRACKET_CALL,       /* f( or f{: the result is a value a '(' would call again */
    BRACKET_INDEX,      /* t[: likewise */
    BRACKET_GROUP,      /* (a or b): likewise, an expression starting here */
    BRACKET_PARAMETERS, /* function f(: a body follows, no value */
    BRACKET_TABLE,      /* {1, 2}, or [k] in one: a value Lua does not call */
} bracket_kind;

/* A bracket not yet closed, with what to restore when it closes. */
typedef struct open_bracket {
    bracket_kind kind;
    size_t expression_start; /* the expression the bracket's close ends */
    int expression_line;
    bool candidate;          /* a '(' first on its line, after a finished expression */
    nnsh_paren_call call;    /* when candidate: the call, all but its close_line */
} open_bracket;

/* Names that are no values: a '(' after them does not call them. */
typedef enum naming {
    NAMING_NONE,
    NAMING_DECLARED, /* local a, b <const>; for i, x */
    NAMING_FUNCTION, /* function a.b:c */
    NAMING_LABEL,    /* goto x; ::x:: */
} naming;

/* The line a token ends on (a long string may span several). */
static int token_last_line(const char *source, const nnsh_token *token)
{
    int line = token->line;
    for (size_t i = 0; i < token->length; i++)
        line += source[token->start + i] == '\n';
    return line;
}

static bool falls_on(const nnsh_paren_call *call, int line)
{
    return line == call->callee_line || line == call->above_line ||
           (line >= call->paren_line && line <= call->close_line);
}

static char symbol_of(const char *source, const nnsh_token *token)
{
    return token->kind == NNSH_TOKEN_SYMBOL && token->length == 1 ? source[token->start] : '\0';
}

bool nnsh_paren_call_find(const char *source, size_t length, int line, nnsh_paren_call *call)
{
    open_bracket brackets[DEEPEST_BRACKETS];
    int depth = 0;
    bool callable = false;       /* a '(' now would call the expression before it, */
    size_t expression_start = 0; /* which starts here, on this line, */
    int expression_line = 1;
    size_t last_name = 0, last_name_length = 0; /* and ends in this name (length 0: none) */
    bool method = false;         /* a '(' now would give a method (o:m) its arguments */
    naming names = NAMING_NONE;
    bool in_label = false;
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, length);
    nnsh_token previous = {.kind = NNSH_TOKEN_END};
    for (nnsh_token token = nnsh_lexer_next(&lexer); token.kind != NNSH_TOKEN_END;
         previous = token, token = nnsh_lexer_next(&lexer)) {
        if (token.unterminated)
            return false; /* the rest is one string: Lua stops there too */
        bool was_callable = callable, was_method = method;
        char symbol = symbol_of(source, &token);
        char before = symbol_of(source, &previous);
        naming was_naming = names;
        callable = method = false;
        if (token.kind == NNSH_TOKEN_NAME) {
            if (was_naming != NAMING_NONE) {
                if (was_naming == NAMING_LABEL)
                    names = NAMING_NONE;
            } else if (before == ':') {
                method = true; /* its arguments must follow, on any line */
            } else {
                callable = true;
                if (before != '.') {
                    expression_start = token.start;
                    expression_line = token.line;
                }
                last_name = token.start;
                last_name_length = token.length;
            }
            continue;
        }
        if (token.kind == NNSH_TOKEN_KEYWORD) {
            names = nnsh_token_is(&lexer, &token, "local") || nnsh_token_is(&lexer, &token, "for")
                        ? NAMING_DECLARED
                    : nnsh_token_is(&lexer, &token, "function") ? NAMING_FUNCTION
                    : nnsh_token_is(&lexer, &token, "goto")     ? NAMING_LABEL
                                                                : NAMING_NONE;
            continue;
        }
        if (token.kind == NNSH_TOKEN_STRING) {
            callable = was_callable || was_method; /* f"x", o:m[[x]]: calls, values */
            last_name_length = 0;
            names = NAMING_NONE;
            continue;
        }
        /* Symbols (and numbers): a declaration goes on only through its own punctuation. */
        bool declaring = was_naming == NAMING_DECLARED &&
                         (symbol == ',' || symbol == '<' || symbol == '>');
        bool naming_function = was_naming == NAMING_FUNCTION && (symbol == '.' || symbol == ':');
        names = declaring ? NAMING_DECLARED : naming_function ? NAMING_FUNCTION : NAMING_NONE;
        if (nnsh_token_is(&lexer, &token, "::")) {
            in_label = !in_label;
            names = in_label ? NAMING_LABEL : NAMING_NONE;
        }
        if (symbol == '(' || symbol == '[' || symbol == '{') {
            if (depth == DEEPEST_BRACKETS)
                return false;
            open_bracket *open = &brackets[depth++];
            *open = (open_bracket){
                .kind = symbol == '(' ? (was_naming == NAMING_FUNCTION   ? BRACKET_PARAMETERS
                                         : was_callable || was_method ? BRACKET_CALL
                                                                         : BRACKET_GROUP)
                        : symbol == '[' ? (was_callable ? BRACKET_INDEX : BRACKET_TABLE)
                                        : (was_callable || was_method ? BRACKET_CALL
                                                                      : BRACKET_TABLE),
                .expression_start = expression_start,
                .expression_line = expression_line,
            };
            if (open->kind == BRACKET_GROUP) {
                open->expression_start = token.start;
                open->expression_line = token.line;
            }
            int above = previous.kind == NNSH_TOKEN_END ? 0 : token_last_line(source, &previous);
            /* o:m then (x) on the next line: the arguments o:m needs, no surprise */
            if (symbol == '(' && was_callable && above < token.line) {
                open->candidate = true;
                open->call = (nnsh_paren_call){
                    .callee_line = expression_line,
                    .above_line = above,
                    .paren_line = token.line,
                    .close_line = token.line,
                    .callee_start = expression_start,
                    .callee_end = previous.start + previous.length,
                    .callee_name = last_name,
                    .callee_name_length = last_name_length,
                };
            }
            continue;
        }
        if (symbol == ')' || symbol == ']' || symbol == '}') {
            if (depth == 0)
                continue; /* a stray close: Lua's syntax error says so */
            open_bracket *open = &brackets[--depth];
            if (open->candidate) {
                open->call.close_line = token.line;
                if (falls_on(&open->call, line)) {
                    *call = open->call;
                    return true;
                }
            }
            callable = open->kind == BRACKET_CALL || open->kind == BRACKET_INDEX ||
                       open->kind == BRACKET_GROUP;
            expression_start = open->expression_start;
            expression_line = open->expression_line;
            last_name_length = 0;
            continue;
        }
        if (symbol == '.' || symbol == ':')
            callable = false; /* a name follows, continuing the expression */
    }
    /* A '(' never closed (a syntax error at the end): it reaches to the last line. */
    int last_line = previous.kind == NNSH_TOKEN_END ? 1 : token_last_line(source, &previous);
    for (int i = 0; i < depth; i++) {
        if (!brackets[i].candidate)
            continue;
        brackets[i].call.close_line = last_line;
        if (falls_on(&brackets[i].call, line)) {
            *call = brackets[i].call;
            return true;
        }
    }
    return false;
}
