/* Golden files: compare, or rewrite with NNSH_UPDATE_GOLDEN=1. */
#include "golden.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NNSH_GOLDEN_DIR
#error "NNSH_GOLDEN_DIR must name tests/plots/golden"
#endif

static char *read_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    if (data && fread(data, 1, (size_t)size, file) != (size_t)size) {
        free(data);
        data = NULL;
    }
    if (data)
        data[size] = '\0';
    fclose(file);
    return data;
}

/* Line number (from 1) and the text of the line holding offset. */
static void line_at(const char *text, size_t offset, int *number, char *line, size_t size)
{
    const char *start = text;
    *number = 1;
    for (const char *p = text; p < text + offset; p++)
        if (*p == '\n')
            (*number)++, start = p + 1;
    size_t length = strcspn(start, "\n");
    if (length >= size)
        length = size - 1;
    memcpy(line, start, length);
    line[length] = '\0';
}

void expect_golden(const char *name, const char *actual)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.txt", NNSH_GOLDEN_DIR, name);
    const char *update = getenv("NNSH_UPDATE_GOLDEN");
    if (update && strcmp(update, "1") == 0) {
        FILE *file = fopen(path, "wb");
        cr_assert(file, "cannot write %s", path);
        fputs(actual, file);
        fclose(file);
        return;
    }
    char *expected = read_file(path);
    cr_assert(expected, "golden file %s is missing; run with NNSH_UPDATE_GOLDEN=1 to create "
                        "it from this output:\n%s", path, actual);
    size_t at = 0;
    while (expected[at] && expected[at] == actual[at])
        at++;
    if (expected[at] != actual[at]) {
        int line_number, unused;
        char expected_line[512], actual_line[512];
        line_at(expected, at, &line_number, expected_line, sizeof expected_line);
        line_at(actual, at, &unused, actual_line, sizeof actual_line);
        cr_log_error("%s differs from %s at line %d\nexpected: |%s|\nactual:   |%s|\n"
                     "whole actual output:\n%s", name, path, line_number, expected_line,
                     actual_line, actual);
        free(expected);
        cr_assert_fail("%s: output differs from its golden file at line %d", name,
                       line_number);
    }
    free(expected);
}
