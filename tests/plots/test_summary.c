/* model:summary() layouts on the seed's model: Keras' exact text, and the box table at
 * several widths and in both character sets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "golden.h"
#include "summary_box.h"
#include "text.h"

/* The seed CNN with padding='same' (SPEC §3), as model_summary() hands it over; the
 * last two fields say every layer trains and which have weights. */
static const nn_summary_row seed_rows[] = {
    {"conv2d", "Conv2D", "(None, 28, 28, 32)", 320, "shape: ceil(28 / 1) = 28\nparams: 3*3*1*32 + 32 = 320", true, true},
    {"max_pooling2d", "MaxPooling2D", "(None, 14, 14, 32)", 0, "shape: floor((28 - 2) / 2) + 1 = 14", true, false},
    {"conv2d_1", "Conv2D", "(None, 14, 14, 64)", 18496, NULL, true, true},
    {"max_pooling2d_1", "MaxPooling2D", "(None, 7, 7, 64)", 0, NULL, true, false},
    {"flatten", "Flatten", "(None, 3136)", 0, NULL, true, false},
    {"dense", "Dense", "(None, 128)", 401536, NULL, true, true},
    {"dropout", "Dropout", "(None, 128)", 0, NULL, true, false},
    {"dense_1", "Dense", "(None, 10)", 1290, NULL, true, true},
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

/* The box at this width matches its golden file and no line is wider than the width. */
static void expect_box_of(const char *name, const nn_summary *summary, int width,
                          nn_charset charset, bool explain)
{
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_box(&out, summary, width, charset, explain);
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

static void expect_box(const char *name, int width, nn_charset charset, bool explain)
{
    nn_summary summary = seed_summary();
    expect_box_of(name, &summary, width, charset, explain);
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

/* The seed's layers with the first convolution and the first dense layer frozen, as
 * model:summary hands them over with show_trainable. */
static nn_summary_row frozen_rows[8];

static nn_summary frozen_summary(void)
{
    for (int i = 0; i < 8; i++) {
        frozen_rows[i] = seed_rows[i];
        frozen_rows[i].explanation = NULL;
        frozen_rows[i].trainable = i != 0 && i != 5;
    }
    return (nn_summary){.model_name = "sequential", .rows = frozen_rows, .row_count = 8,
                        .total = 421642, .trainable = 19786, .non_trainable = 401856,
                        .show_trainable = true};
}

Test(summary, keras_layout_with_a_trainable_column_marks_frozen_layers_n)
{
    nn_summary summary = frozen_summary();
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_keras(&out, &summary, false);
    expect_golden("summary_keras_trainable", out.data);
    nn_text_free(&out);
}

Test(summary, keras_layout_at_given_column_ends)
{
    nn_summary summary = seed_summary();
    summary.rows += 2, summary.row_count = 3; /* a layer_range: totals stay the model's */
    summary.line_length = 80;
    summary.positions[0] = 24, summary.positions[1] = 60, summary.positions[2] = 80;
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_keras(&out, &summary, false);
    expect_golden("summary_keras_positions", out.data);
    nn_text_free(&out);
}

static void expect_box_trainable(const char *name, int width)
{
    nn_summary summary = frozen_summary();
    expect_box_of(name, &summary, width, NN_CHARSET_UNICODE, false);
}

Test(summary, box_trainable_column_shows_y_n_and_dash_for_layers_without_weights)
{
    expect_box_trainable("summary_box_trainable", 100);
}

Test(summary, box_trainable_column_when_names_must_wrap)
{
    expect_box_trainable("summary_box_trainable_narrow", 60);
}

Test(summary, list_says_trainable_when_no_table_fits)
{
    expect_box_trainable("summary_list_trainable", 36);
}

Test(summary, parameter_sizes_in_binary_units)
{
    char text[32];
    cr_expect_str_eq(nn_format_param_bytes(421642, text, sizeof text), "1.61 MB");
    cr_expect_str_eq(nn_format_param_bytes(58, text, sizeof text), "232 B");
    cr_expect_str_eq(nn_format_param_bytes(300, text, sizeof text), "1.17 KB");
    cr_expect_str_eq(nn_format_param_bytes(0, text, sizeof text), "0 B");
}
