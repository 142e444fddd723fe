/* Tokenizing Lua source for the shell (see lexer.h). Follows the Lua 5.4 manual's
 * lexical rules; it only has to find token boundaries, not values. */
#include <ctype.h>
#include <string.h>

#include "lexer.h"

static const char *const keywords[] = {
    "and",   "break", "do",     "else", "elseif", "end",   "false", "for",
    "function", "goto", "if",   "in",   "local",  "nil",   "not",   "or",
    "repeat", "return", "then", "true", "until",  "while", NULL,
};

/* Multi-character symbols, longest first so "..." wins over "..". */
static const char *const long_symbols[] = {
    "...", "..", "==", "~=", "<=", ">=", "<<", ">>", "//", "::", NULL,
};

void nnsh_lexer_init(nnsh_lexer *lexer, const char *source, size_t length)
{
    *lexer = (nnsh_lexer){.source = source, .length = length, .line = 1};
}

static int peek(const nnsh_lexer *lexer, size_t offset)
{
    size_t at = lexer->position + offset;
    return at < lexer->length ? (unsigned char)lexer->source[at] : -1;
}

static void advance(nnsh_lexer *lexer)
{
    if (lexer->source[lexer->position] == '\n')
        lexer->line++;
    lexer->position++;
}

/* At "[" followed by "="* and "[": returns the level (count of '='), else -1. */
static int long_bracket_level(const nnsh_lexer *lexer)
{
    if (peek(lexer, 0) != '[')
        return -1;
    size_t level = 0;
    while (peek(lexer, 1 + level) == '=')
        level++;
    return peek(lexer, 1 + level) == '[' ? (int)level : -1;
}

/* Skips a long bracket of the given level; returns false if the input ends first. */
static bool skip_long_bracket(nnsh_lexer *lexer, int level)
{
    lexer->position += (size_t)level + 2;
    while (lexer->position < lexer->length) {
        if (peek(lexer, 0) == ']') {
            int count = 0;
            while (peek(lexer, 1 + (size_t)count) == '=')
                count++;
            if (count == level && peek(lexer, 1 + (size_t)count) == ']') {
                lexer->position += (size_t)level + 2;
                return true;
            }
        }
        advance(lexer);
    }
    return false;
}

static void skip_space_and_comments(nnsh_lexer *lexer)
{
    while (lexer->position < lexer->length) {
        int c = peek(lexer, 0);
        if (isspace(c)) {
            advance(lexer);
        } else if (c == '-' && peek(lexer, 1) == '-') {
            lexer->position += 2;
            int level = long_bracket_level(lexer);
            if (level >= 0) {
                if (!skip_long_bracket(lexer, level))
                    lexer->comment_unterminated = true;
            } else {
                while (lexer->position < lexer->length && peek(lexer, 0) != '\n')
                    lexer->position++;
            }
        } else {
            return;
        }
    }
}

/* A quoted string; escapes may hide the quote (and \z or a backslash-newline may span
 * lines). Returns false if the line or input ends first, as Lua rejects that. */
static bool skip_quoted_string(nnsh_lexer *lexer)
{
    int quote = peek(lexer, 0);
    lexer->position++;
    while (lexer->position < lexer->length) {
        int c = peek(lexer, 0);
        if (c == quote) {
            lexer->position++;
            return true;
        }
        if (c == '\n')
            return false;
        if (c == '\\' && lexer->position + 1 < lexer->length)
            lexer->position++;
        advance(lexer);
    }
    return false;
}

static void skip_number(nnsh_lexer *lexer)
{
    bool hex = peek(lexer, 0) == '0' && (peek(lexer, 1) == 'x' || peek(lexer, 1) == 'X');
    if (hex)
        lexer->position += 2;
    for (;;) {
        int c = peek(lexer, 0);
        bool exponent = hex ? (c == 'p' || c == 'P') : (c == 'e' || c == 'E');
        if (exponent && (peek(lexer, 1) == '+' || peek(lexer, 1) == '-'))
            lexer->position += 2;
        else if (c >= 0 && (isalnum(c) || c == '.'))
            lexer->position++;
        else
            return;
    }
}

nnsh_token nnsh_lexer_next(nnsh_lexer *lexer)
{
    skip_space_and_comments(lexer);
    nnsh_token token = {.start = lexer->position, .line = lexer->line};
    if (lexer->position >= lexer->length) {
        token.kind = NNSH_TOKEN_END;
        token.unterminated = lexer->comment_unterminated;
        return token;
    }
    int c = peek(lexer, 0);
    if (isalpha(c) || c == '_') {
        while (peek(lexer, 0) >= 0 && (isalnum(peek(lexer, 0)) || peek(lexer, 0) == '_'))
            lexer->position++;
        token.kind = NNSH_TOKEN_NAME;
        token.length = lexer->position - token.start;
        for (int i = 0; keywords[i]; i++)
            if (strlen(keywords[i]) == token.length &&
                memcmp(keywords[i], lexer->source + token.start, token.length) == 0)
                token.kind = NNSH_TOKEN_KEYWORD;
        return token;
    }
    if (isdigit(c) || (c == '.' && peek(lexer, 1) >= 0 && isdigit(peek(lexer, 1)))) {
        skip_number(lexer);
        token.kind = NNSH_TOKEN_NUMBER;
    } else if (c == '"' || c == '\'') {
        token.kind = NNSH_TOKEN_STRING;
        token.unterminated = !skip_quoted_string(lexer);
    } else if (long_bracket_level(lexer) >= 0) {
        token.kind = NNSH_TOKEN_STRING;
        token.unterminated = !skip_long_bracket(lexer, long_bracket_level(lexer));
    } else {
        token.kind = NNSH_TOKEN_SYMBOL;
        size_t length = 1;
        for (int i = 0; long_symbols[i]; i++) {
            size_t n = strlen(long_symbols[i]);
            if (lexer->position + n <= lexer->length &&
                memcmp(long_symbols[i], lexer->source + lexer->position, n) == 0) {
                length = n;
                break;
            }
        }
        lexer->position += length;
    }
    token.length = lexer->position - token.start;
    return token;
}

bool nnsh_token_is(const nnsh_lexer *lexer, const nnsh_token *token, const char *text)
{
    if (token->kind != NNSH_TOKEN_KEYWORD && token->kind != NNSH_TOKEN_SYMBOL)
        return false;
    return strlen(text) == token->length &&
           memcmp(text, lexer->source + token->start, token->length) == 0;
}
