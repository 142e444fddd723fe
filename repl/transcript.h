/* The transcript of a cell: the text it printed, kept as a terminal would finally show
 * it. A carriage return goes back to the start of the line and later text overwrites
 * it, so a progress bar redrawn a hundred times leaves only its last state; colour and
 * other escape sequences are dropped. A NUL byte is kept as the sign U+2400 (the UTF-8
 * bytes E2 90 80), so the finished text is a C string that holds everything printed. */
#ifndef NNSH_TRANSCRIPT_H
#define NNSH_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "text.h"

enum { NNSH_TRANSCRIPT_LIMIT = 1 << 20 }; /* bytes kept per cell; the rest is cut */

typedef struct nnsh_transcript {
    nn_text text;
    size_t line_start; /* where the current line begins in text */
    size_t cursor;     /* where the next character goes (<= text.length) */
    int escape;        /* 0, or the state inside an escape sequence */
    bool truncated;    /* the limit was reached; a note says so at the end */
} nnsh_transcript;

void nnsh_transcript_init(nnsh_transcript *transcript);
void nnsh_transcript_free(nnsh_transcript *transcript);
void nnsh_transcript_write(nnsh_transcript *transcript, const char *data, size_t length);
/* The text with trailing spaces cut from each line and a final newline if there is
 * text at all. Owned by the transcript; valid until the next write. */
const char *nnsh_transcript_finish(nnsh_transcript *transcript, size_t *length);

#endif
