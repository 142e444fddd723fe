/* A tokenizer for Lua 5.4 source, for the shell's own reading of cells: finding top-level
 * `local` statements, statement starts, unclosed brackets for completion. It never
 * fails: broken input ends in a token marked unterminated. */
#ifndef NNSH_LEXER_H
#define NNSH_LEXER_H

#include <stdbool.h>
#include <stddef.h>

typedef enum nnsh_token_kind {
    NNSH_TOKEN_END,     /* end of input */
    NNSH_TOKEN_NAME,    /* identifier (not a keyword) */
    NNSH_TOKEN_KEYWORD, /* and, break, do, ... */
    NNSH_TOKEN_NUMBER,
    NNSH_TOKEN_STRING,  /* "...", '...', [[...]] */
    NNSH_TOKEN_SYMBOL,  /* operators and punctuation: == ... { ( , */
} nnsh_token_kind;

typedef struct nnsh_token {
    nnsh_token_kind kind;
    size_t start, length; /* bytes of the source */
    int line;             /* 1-based line of the first byte */
    bool unterminated;    /* a string or long comment that runs off the end */
} nnsh_token;

/* Walks a source text token by token; comments and whitespace are skipped. */
typedef struct nnsh_lexer {
    const char *source;
    size_t length, position;
    int line;
    bool comment_unterminated; /* the input ended inside a long comment */
} nnsh_lexer;

void nnsh_lexer_init(nnsh_lexer *lexer, const char *source, size_t length);
/* The next token; NNSH_TOKEN_END (repeatedly) once the input is used up. */
nnsh_token nnsh_lexer_next(nnsh_lexer *lexer);

/* Whether the token is exactly the given keyword or symbol text. */
bool nnsh_token_is(const nnsh_lexer *lexer, const nnsh_token *token, const char *text);

#endif
