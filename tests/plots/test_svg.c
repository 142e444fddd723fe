/* SVG figures: well-formed documents whose lines break at gaps, with escaped text. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "curves.h"
#include "figure.h"
#include "svg.h"

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

Test(svg, seed_figure_has_two_panels_four_lines_and_legends)
{
    static const double loss[] = {0.1864, 0.0712, 0.0534, 0.0441, 0.0386};
    static const double accuracy[] = {0.9436, 0.9781, 0.9835, 0.9862, 0.9879};
    static const double val_loss[] = {0.0645, 0.0482, 0.0411, 0.0398, 0.0367};
    static const double val_accuracy[] = {0.9811, 0.9856, 0.9878, 0.9885, 0.9903};
    const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    const double *columns[] = {loss, accuracy, val_loss, val_accuracy};
    nn_curves curves;
    nn_curves_build(&curves, 4, keys, columns, 5, NULL, false);
    nn_figure figure = nn_curves_figure(&curves);
    nn_text out;
    nn_text_init(&out);
    nn_figure_render_svg(&out, &figure, 0, 0);
    cr_assert(strncmp(out.data, "<?xml", 5) == 0);
    cr_expect(strstr(out.data, "width=\"1200\" height=\"400\"") != NULL,
              "two charts side by side, as the seed's figsize=(12, 4)");
    cr_expect_eq(count(out.data, "<polyline"), 4);
    cr_expect_eq(count(out.data, "stroke-dasharray"), 4, "validation lines (and their legend "
                                                         "samples) are dashed");
    cr_expect_eq(count(out.data, "<circle"), 20, "a marker per epoch and series");
    cr_expect(strstr(out.data, ">Training and Validation Loss</text>") != NULL);
    cr_expect(strstr(out.data, ">Val Accuracy</text>") != NULL);
    cr_expect(strstr(out.data, ">Epoch</text>") != NULL);
    cr_expect_eq(count(out.data, "<svg"), 1);
    cr_expect(strstr(out.data, "</svg>\n") != NULL);
    nn_text_free(&out);
}

Test(svg, gaps_split_the_line_and_are_noted)
{
    static const double y[] = {1, 2, NAN, 4, 5, INFINITY, 7};
    nn_series series[] = {{"a <b> & \"c\"", NULL, y, 7}};
    nn_chart chart = {.title = "gaps", .series = series, .series_count = 1};
    nn_figure figure = {.charts = &chart, .count = 1};
    nn_text out;
    nn_text_init(&out);
    nn_figure_render_svg(&out, &figure, 600, 400);
    cr_expect_eq(count(out.data, "<polyline"), 3, "runs 1-2, 4-5 and 7");
    cr_expect(strstr(out.data, "a &lt;b&gt; &amp; &quot;c&quot; (2 not shown)") != NULL);
    cr_expect(strstr(out.data, "nan") == NULL && strstr(out.data, "inf") == NULL,
              "no non-finite coordinates");
    nn_text_free(&out);
}

Test(svg, no_data_is_said_not_drawn)
{
    static const double y[] = {NAN};
    nn_series series[] = {{"y", NULL, y, 1}};
    nn_chart chart = {.title = "empty", .series = series, .series_count = 1};
    nn_figure figure = {.charts = &chart, .count = 1};
    nn_text out;
    nn_text_init(&out);
    nn_figure_render_svg(&out, &figure, 600, 400);
    cr_expect(strstr(out.data, ">no data</text>") != NULL);
    cr_expect_eq(count(out.data, "<polyline"), 0);
    nn_text_free(&out);
}
