/* Text charts on fixed data: the seed's figure in Braille and ASCII, gaps for NaN and
 * Inf, single points, log axes, empty data, colour codes. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "curves.h"
#include "figure.h"
#include "golden.h"

/* The seed's five epochs (loss and accuracy, train and validation, as Keras printed
 * them in the seed's run). */
static const double seed_loss[] = {0.1864, 0.0712, 0.0534, 0.0441, 0.0386};
static const double seed_accuracy[] = {0.9436, 0.9781, 0.9835, 0.9862, 0.9879};
static const double seed_val_loss[] = {0.0645, 0.0482, 0.0411, 0.0398, 0.0367};
static const double seed_val_accuracy[] = {0.9811, 0.9856, 0.9878, 0.9885, 0.9903};

static void render_seed(nn_text *out, nn_charset charset, bool ansi, int width)
{
    const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    const double *columns[] = {seed_loss, seed_accuracy, seed_val_loss, seed_val_accuracy};
    static nn_curves curves;
    nn_curves_build(&curves, 4, keys, columns, 5, NULL, false);
    nn_figure figure = nn_curves_figure(&curves);
    nn_figure_render_text(out, &figure, width, charset, ansi);
}

static void expect_chart(const char *name, const nn_chart *chart, int width, int height,
                         nn_charset charset)
{
    nn_figure figure = {.charts = chart, .count = 1, .chart_height = height};
    nn_text out;
    nn_text_init(&out);
    nn_figure_render_text(&out, &figure, width, charset, false);
    expect_golden(name, out.data);
    nn_text_free(&out);
}

Test(chart, seed_figure_in_braille_two_charts_side_by_side)
{
    nn_text out;
    nn_text_init(&out);
    render_seed(&out, NN_CHARSET_UNICODE, false, 80);
    expect_golden("seed_figure_unicode", out.data);
    nn_text_free(&out);
}

Test(chart, seed_figure_in_ascii_for_pipes_and_files)
{
    nn_text out;
    nn_text_init(&out);
    render_seed(&out, NN_CHARSET_ASCII, false, 80);
    for (size_t i = 0; i < out.length; i++)
        cr_assert((unsigned char)out.data[i] < 0x80, "non-ASCII byte at %zu", i);
    expect_golden("seed_figure_ascii", out.data);
    nn_text_free(&out);
}

Test(chart, narrow_figure_stacks_the_charts)
{
    nn_text out;
    nn_text_init(&out);
    render_seed(&out, NN_CHARSET_UNICODE, false, 50);
    expect_golden("seed_figure_narrow", out.data);
    nn_text_free(&out);
}

/* Removes SGR sequences: what a terminal shows of coloured text. */
static void strip_escapes(char *text)
{
    char *write = text;
    for (const char *read = text; *read;) {
        if (read[0] == '\x1b' && read[1] == '[') {
            read += 2;
            while (*read && *read != 'm')
                read++;
            if (*read)
                read++;
            continue;
        }
        *write++ = *read++;
    }
    *write = '\0';
}

Test(chart, colour_codes_only_add_colour)
{
    nn_text plain, coloured;
    nn_text_init(&plain);
    nn_text_init(&coloured);
    render_seed(&plain, NN_CHARSET_UNICODE, false, 80);
    render_seed(&coloured, NN_CHARSET_UNICODE, true, 80);
    cr_expect(strstr(coloured.data, "\x1b[0;36m") != NULL, "train series in cyan");
    cr_expect(strstr(coloured.data, "\x1b[0;33m") != NULL, "validation series in yellow");
    cr_expect(strstr(plain.data, "\x1b") == NULL, "no escape codes without colour");
    strip_escapes(coloured.data);
    cr_expect_str_eq(coloured.data, plain.data);
    nn_text_free(&plain);
    nn_text_free(&coloured);
}

Test(chart, nan_and_inf_leave_gaps_and_are_counted_in_the_legend)
{
    static const double loss[] = {2.3, 1.1, NAN, 0.7, INFINITY, 0.5, 0.45, -INFINITY, 0.4};
    static const double val[] = {2.0, 1.2, 0.9, 0.8, 0.75, NAN, NAN, 0.6, 0.62};
    nn_series series[] = {{"loss", NULL, loss, 9}, {"val_loss", NULL, val, 9}};
    nn_chart chart = {.title = "Gaps", .x_label = "Epoch", .series = series, .series_count = 2,
                      .integer_x = true};
    expect_chart("nan_inf_unicode", &chart, 50, 14, NN_CHARSET_UNICODE);
    expect_chart("nan_inf_ascii", &chart, 50, 14, NN_CHARSET_ASCII);
}

Test(chart, a_single_point_is_centred_and_marked)
{
    static const double loss[] = {0.6931};
    static const double val[] = {0.6012};
    nn_series series[] = {{"Train Loss", NULL, loss, 1}, {"Val Loss", NULL, val, 1}};
    nn_chart chart = {.title = "One epoch", .x_label = "Epoch", .series = series,
                      .series_count = 2, .integer_x = true};
    expect_chart("single_point_unicode", &chart, 40, 12, NN_CHARSET_UNICODE);
    expect_chart("single_point_ascii", &chart, 40, 12, NN_CHARSET_ASCII);
}

Test(chart, log_axis_spreads_decades_and_hides_what_it_cannot_show)
{
    double loss[30];
    for (int i = 0; i < 30; i++)
        loss[i] = 2.0 * pow(0.7, i);
    loss[10] = 0.0; /* log10(0) does not exist: a gap */
    nn_series series[] = {{"loss", NULL, loss, 30}};
    nn_chart chart = {.title = "Loss (log)", .series = series, .series_count = 1,
                      .log_y = true, .integer_x = true};
    expect_chart("log_scale", &chart, 60, 14, NN_CHARSET_UNICODE);
}

Test(chart, no_finite_value_says_no_data)
{
    static const double nothing[] = {NAN, NAN, INFINITY};
    nn_series series[] = {{"loss", NULL, nothing, 3}};
    nn_chart chart = {.title = "Empty", .series = series, .series_count = 1, .integer_x = true};
    expect_chart("no_data", &chart, 40, 10, NN_CHARSET_UNICODE);
}

Test(chart, explicit_x_values_and_many_points)
{
    double x[400], y[400];
    for (int i = 0; i < 400; i++) {
        x[i] = i * 0.01;
        y[i] = sin(x[i] * 3.0) * exp(-x[i] / 2);
    }
    nn_series series[] = {{"damped sine", x, y, 400}};
    nn_chart chart = {.title = "y = sin(3x) exp(-x/2)", .x_label = "x", .series = series,
                      .series_count = 1};
    expect_chart("damped_sine", &chart, 60, 16, NN_CHARSET_UNICODE);
}

Test(chart, a_short_rectangle_drops_the_x_label_then_the_title)
{
    nn_series series[] = {{"loss", NULL, seed_loss, 5}};
    nn_chart chart = {.title = "Loss", .x_label = "Epoch", .series = series, .series_count = 1,
                      .integer_x = true};
    expect_chart("short_chart", &chart, 30, 7, NN_CHARSET_UNICODE);
}

Test(chart, curves_without_validation_are_training_only)
{
    const char *keys[] = {"loss", "mean_absolute_error"};
    const double *columns[] = {seed_loss, seed_val_loss};
    nn_curves curves;
    nn_curves_build(&curves, 2, keys, columns, 5, NULL, false);
    cr_assert_eq(curves.count, 2);
    cr_expect_str_eq(curves.charts[0].title, "Training Loss");
    cr_expect_str_eq(curves.charts[1].title, "Training Mean Absolute Error");
    cr_expect_eq(curves.charts[0].series_count, 1);
    cr_expect_str_eq(curves.charts[1].series[0].name, "Train Mean Absolute Error");
}

Test(chart, a_validation_key_without_its_training_key_gets_its_own_chart)
{
    const char *keys[] = {"loss", "val_loss", "val_auc", "lr"};
    const double *columns[] = {seed_loss, seed_val_loss, seed_accuracy, seed_val_loss};
    nn_curves curves;
    nn_curves_build(&curves, 4, keys, columns, 5, NULL, false);
    cr_assert_eq(curves.count, 3);
    cr_expect_str_eq(curves.charts[0].title, "Training and Validation Loss");
    cr_expect_str_eq(curves.charts[1].title, "Validation Auc");
    cr_expect_str_eq(curves.charts[2].title, "Training Learning Rate");
}

Test(chart, validation_measured_on_some_epochs_is_drawn_at_those_epochs)
{
    /* validation_freq=2 over 5 epochs: val_loss after epochs 2 and 4 only. */
    const char *keys[] = {"loss", "val_loss"};
    const double val_loss[] = {0.05, 0.04};
    const double val_epochs[] = {2, 4};
    const double *columns[] = {seed_loss, val_loss};
    const int counts[] = {5, 2};
    const double *xs[] = {NULL, val_epochs};
    nn_curves curves;
    nn_curves_build_each(&curves, 2, keys, columns, counts, xs, false);
    cr_assert_eq(curves.count, 1);
    cr_assert_eq(curves.charts[0].series_count, 2);
    const nn_series *train = &curves.charts[0].series[0], *val = &curves.charts[0].series[1];
    cr_expect_eq(train->count, 5);
    cr_expect_eq(nn_series_x(train, 4), 5.0);
    cr_expect_eq(val->count, 2);
    cr_expect_eq(nn_series_x(val, 0), 2.0);
    cr_expect_eq(nn_series_x(val, 1), 4.0);
    cr_expect_eq(val->y[1], 0.04);
}
