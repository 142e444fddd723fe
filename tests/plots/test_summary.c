/* model:summary() layouts on the seed's model: Keras' exact text, and the box table at
 * several widths and in both character sets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "summary_box.h"
#include "text.h"

/* The seed CNN with padding='same' (SPEC §3), as model_summary() hands it over. */
static const nn_summary_row seed_rows[] = {
    {"conv2d", "Conv2D", "(None, 28, 28, 32)", 320, "shape: ceil(28 / 1) = 28\nparams: 3*3*1*32 + 32 = 320"},
    {"max_pooling2d", "MaxPooling2D", "(None, 14, 14, 32)", 0, "shape: floor((28 - 2) / 2) + 1 = 14"},
    {"conv2d_1", "Conv2D", "(None, 14, 14, 64)", 18496, NULL},
    {"max_pooling2d_1", "MaxPooling2D", "(None, 7, 7, 64)", 0, NULL},
    {"flatten", "Flatten", "(None, 3136)", 0, NULL},
    {"dense", "Dense", "(None, 128)", 401536, NULL},
    {"dropout", "Dropout", "(None, 128)", 0, NULL},
    {"dense_1", "Dense", "(None, 10)", 1290, NULL},
};

static nn_summary seed_summary(void)
{
    return (nn_summary){.model_name = "sequential", .rows = seed_rows, .row_count = 8,
                        .total = 421642, .trainable = 421642, .non_trainable = 0};
}

Test(summary, keras_layout_is_exact)
{
    nn_summary summary = seed_summary();
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_keras(&out, &summary, false);
    expect_golden("summary_keras", out.data);
    nn_text_free(&out);
}

static void expect_box(const char *name, int width, nn_charset charset, bool explain)
{
    nn_summary summary = seed_summary();
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_box(&out, &summary, width, charset, explain);
    /* No line may be wider than the terminal. */
    const char *line = out.data;
    while (*line) {
        size_t length = strcspn(line, "\n");
        char copy[512];
        snprintf(copy, sizeof copy, "%.*s", (int)length, line);
        cr_expect(nn_utf8_width(copy) <= width, "%s: line wider than %d: |%s|", name, width,
                  copy);
        line += length + (line[length] == '\n');
    }
    expect_golden(name, out.data);
    nn_text_free(&out);
}

Test(summary, box_table_on_a_wide_utf8_terminal)
{
    expect_box("summary_box_wide", 100, NN_CHARSET_UNICODE, false);
}

Test(summary, box_table_wraps_names_and_shapes_when_narrow)
{
    expect_box("summary_box_narrow", 50, NN_CHARSET_UNICODE, false);
}

Test(summary, ascii_lines_for_terminals_that_are_not_utf8)
{
    expect_box("summary_box_ascii", 56, NN_CHARSET_ASCII, false);
}

Test(summary, a_list_when_even_a_narrow_table_does_not_fit)
{
    expect_box("summary_list", 36, NN_CHARSET_UNICODE, false);
}

Test(summary, explanations_span_the_table)
{
    expect_box("summary_box_explain", 80, NN_CHARSET_UNICODE, true);
}

Test(summary, parameter_sizes_in_binary_units)
{
    char text[32];
    cr_expect_str_eq(nn_format_param_bytes(421642, text, sizeof text), "1.61 MB");
    cr_expect_str_eq(nn_format_param_bytes(58, text, sizeof text), "232 B");
    cr_expect_str_eq(nn_format_param_bytes(300, text, sizeof text), "1.17 KB");
    cr_expect_str_eq(nn_format_param_bytes(0, text, sizeof text), "0 B");
}
