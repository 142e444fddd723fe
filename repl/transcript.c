/* A cell's printed text as a terminal would leave it (see transcript.h). */
#include <string.h>

#include "transcript.h"

enum { ESCAPE_NONE, ESCAPE_START, ESCAPE_CSI };

void nnsh_transcript_init(nnsh_transcript *transcript)
{
    memset(transcript, 0, sizeof *transcript);
    nn_text_init(&transcript->text);
}

void nnsh_transcript_free(nnsh_transcript *transcript)
{
    nn_text_free(&transcript->text);
    memset(transcript, 0, sizeof *transcript);
}

static void put(nnsh_transcript *transcript, char c)
{
    nn_text *text = &transcript->text;
    /* Characters overwrite what a carriage return went back over; a newline never does. */
    if (transcript->cursor < text->length && c != '\n') {
        text->data[transcript->cursor++] = c;
        return;
    }
    if (text->length >= NNSH_TRANSCRIPT_LIMIT) {
        transcript->truncated = true;
        return;
    }
    nn_text_append_n(text, &c, 1);
    transcript->cursor = text->length;
    if (c == '\n')
        transcript->line_start = text->length;
}

void nnsh_transcript_write(nnsh_transcript *transcript, const char *data, size_t length)
{
    for (size_t i = 0; i < length; i++) {
        char c = data[i];
        if (transcript->escape == ESCAPE_START) {
            transcript->escape = c == '[' ? ESCAPE_CSI : ESCAPE_NONE;
            continue;
        }
        if (transcript->escape == ESCAPE_CSI) {
            if (c >= 0x40 && c <= 0x7e) /* the final byte of a control sequence */
                transcript->escape = ESCAPE_NONE;
            continue;
        }
        switch (c) {
        case '\033':
            transcript->escape = ESCAPE_START;
            break;
        case '\r':
            transcript->cursor = transcript->line_start;
            break;
        case '\b':
            if (transcript->cursor > transcript->line_start)
                transcript->cursor--;
            break;
        case '\0': /* shown as U+2400 SYMBOL FOR NULL: the text stays a C string */
            put(transcript, '\xe2');
            put(transcript, '\x90');
            put(transcript, '\x80');
            break;
        default:
            put(transcript, c);
        }
    }
}

const char *nnsh_transcript_finish(nnsh_transcript *transcript, size_t *length)
{
    nn_text *text = &transcript->text;
    /* Trailing spaces of each line are what progress redraws used to blank old text. */
    size_t out = 0, line = 0;
    for (size_t in = 0; in < text->length; in++) {
        char c = text->data[in];
        if (c == '\n') {
            while (out > line && text->data[out - 1] == ' ')
                out--;
            text->data[out++] = '\n';
            line = out;
        } else {
            text->data[out++] = c;
        }
    }
    while (out > line && text->data[out - 1] == ' ')
        out--;
    text->length = out;
    if (text->data)
        text->data[out] = '\0';
    if (out > 0 && text->data[out - 1] != '\n')
        nn_text_append(text, "\n");
    if (transcript->truncated) {
        nn_text_append(text, "[output cut: a cell keeps at most 1 MiB]\n");
        transcript->truncated = false;
    }
    transcript->cursor = transcript->line_start = text->length;
    *length = text->length;
    return text->data ? text->data : "";
}
