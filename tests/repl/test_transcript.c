/* A cell's transcript keeps what a terminal would finally show. */
#include <criterion/criterion.h>
#include <string.h>

#include "transcript.h"

static void write_text(nnsh_transcript *transcript, const char *text)
{
    nnsh_transcript_write(transcript, text, strlen(text));
}

static void expect(nnsh_transcript *transcript, const char *expected)
{
    size_t length;
    const char *text = nnsh_transcript_finish(transcript, &length);
    cr_assert_str_eq(text, expected);
    cr_assert_eq(length, strlen(expected));
}

Test(transcript, carriage_returns_leave_the_last_redraw)
{
    nnsh_transcript transcript;
    nnsh_transcript_init(&transcript);
    write_text(&transcript, "Epoch 1/1\n");
    write_text(&transcript, "\r 1/3 [==>.....] - ETA: 2s");
    write_text(&transcript, "\r 2/3 [=====>..] - ETA: 1s");
    write_text(&transcript, "\r3/3 [========] - 1s       \n");
    expect(&transcript, "Epoch 1/1\n3/3 [========] - 1s\n");
    nnsh_transcript_free(&transcript);
}

Test(transcript, escape_sequences_are_dropped_and_a_final_newline_added)
{
    nnsh_transcript transcript;
    nnsh_transcript_init(&transcript);
    write_text(&transcript, "\033[1;31mred\033[0m text\b\b\b\bTEXT");
    expect(&transcript, "red TEXT\n");
    nnsh_transcript_free(&transcript);
}

Test(transcript, nothing_written_is_empty)
{
    nnsh_transcript transcript;
    nnsh_transcript_init(&transcript);
    expect(&transcript, "");
    nnsh_transcript_free(&transcript);
}

Test(transcript, a_nul_byte_is_shown_and_nothing_after_it_is_lost)
{
    nnsh_transcript transcript;
    nnsh_transcript_init(&transcript);
    nnsh_transcript_write(&transcript, "before\na\0b\nafter\n", 17);
    expect(&transcript, "before\na\xe2\x90\x80" "b\nafter\n");
    nnsh_transcript_free(&transcript);
}
