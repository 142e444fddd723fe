/* The padding, cropping and upsampling kernels: each CPU kernel against a naive
 * reference that indexes every cell from its definition, and each backward checked as
 * the exact adjoint of its forward (sum(dout · forward(x)) = sum(backward(dout) · x) in
 * double), which is what makes it the gradient of a linear map. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu_kernels.h"
#include "test_support.h"

static size_t cells(int64_t batch, int64_t height, int64_t width, int64_t channels)
{
    return (size_t)(batch * height * width * channels);
}

static size_t at(int64_t b, int64_t h, int64_t w, int64_t c, int64_t height, int64_t width,
                 int64_t channels)
{
    return (size_t)(((b * height + h) * width + w) * channels + c);
}

static double dot(const float *a, const float *b, size_t n)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += (double)a[i] * (double)b[i];
    return total;
}

static void expect_exact(const float *actual, const double *expected, size_t n, const char *what)
{
    ts_comparison result = ts_compare(actual, expected, n, 0.0, 0.0);
    cr_expect(result.ok, "%s: element %zu is %.9g, expected %.9g", what, result.worst_index,
              (double)actual[result.worst_index], expected[result.worst_index]);
}

Test(resample_kernels, padding_and_cropping_move_exactly_the_window)
{
    const nn_window2d_geometry cases[] = {
        {.batch = 2, .channels = 3, .outer_height = 6, .outer_width = 7, .inner_height = 4,
         .inner_width = 3, .top = 1, .left = 2},
        {.batch = 1, .channels = 1, .outer_height = 5, .outer_width = 5, .inner_height = 5,
         .inner_width = 5, .top = 0, .left = 0},
        {.batch = 3, .channels = 2, .outer_height = 9, .outer_width = 4, .inner_height = 1,
         .inner_width = 1, .top = 8, .left = 3},
        {.batch = 2, .channels = 5, .outer_height = 40, .outer_width = 40, .inner_height = 33,
         .inner_width = 35, .top = 4, .left = 0}, /* large enough to run in parallel */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const nn_window2d_geometry *g = &cases[k];
        size_t inner_n = cells(g->batch, g->inner_height, g->inner_width, g->channels);
        size_t outer_n = cells(g->batch, g->outer_height, g->outer_width, g->channels);
        float *inner = malloc(inner_n * sizeof *inner), *outer = malloc(outer_n * sizeof *outer);
        float *cut = malloc(inner_n * sizeof *cut), *big = malloc(outer_n * sizeof *big);
        double *expected_outer = calloc(outer_n, sizeof *expected_outer);
        double *expected_inner = malloc(inner_n * sizeof *expected_inner);
        ts_fill_uniform(inner, inner_n, 10 + k, -1, 1);
        ts_fill_uniform(big, outer_n, 20 + k, -1, 1);
        for (size_t i = 0; i < outer_n; i++)
            outer[i] = 99.0f; /* embed must overwrite every cell */
        for (int64_t b = 0; b < g->batch; b++)
            for (int64_t h = 0; h < g->inner_height; h++)
                for (int64_t w = 0; w < g->inner_width; w++)
                    for (int64_t c = 0; c < g->channels; c++) {
                        size_t small = at(b, h, w, c, g->inner_height, g->inner_width, g->channels);
                        size_t large = at(b, h + g->top, w + g->left, c, g->outer_height,
                                          g->outer_width, g->channels);
                        expected_outer[large] = inner[small];
                        expected_inner[small] = big[large];
                    }
        char what[64];
        snprintf(what, sizeof what, "case %zu embed", k);
        nn_cpu_window2d_embed(outer, inner, g);
        expect_exact(outer, expected_outer, outer_n, what);
        snprintf(what, sizeof what, "case %zu extract", k);
        nn_cpu_window2d_extract(cut, big, g);
        expect_exact(cut, expected_inner, inner_n, what);
        /* Each is the other's adjoint: <embed(x), y> = <x, extract(y)>. */
        cr_expect_eq(dot(outer, big, outer_n), dot(inner, cut, inner_n), "case %zu adjoint", k);
        free(inner), free(outer), free(cut), free(big), free(expected_outer), free(expected_inner);
    }
}

Test(resample_kernels, nearest_upsampling_repeats_cells_and_sums_blocks_back)
{
    const nn_upsample2d_geometry cases[] = {
        {.batch = 2, .height = 3, .width = 4, .channels = 3, .size_height = 2, .size_width = 2},
        {.batch = 1, .height = 2, .width = 5, .channels = 1, .size_height = 1, .size_width = 3},
        {.batch = 3, .height = 4, .width = 1, .channels = 2, .size_height = 3, .size_width = 1},
        {.batch = 2, .height = 16, .width = 16, .channels = 8, .size_height = 2, .size_width = 3},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const nn_upsample2d_geometry *g = &cases[k];
        int64_t out_height = g->height * g->size_height, out_width = g->width * g->size_width;
        size_t in_n = cells(g->batch, g->height, g->width, g->channels);
        size_t out_n = cells(g->batch, out_height, out_width, g->channels);
        float *inp = malloc(in_n * sizeof *inp), *out = malloc(out_n * sizeof *out);
        float *dout = malloc(out_n * sizeof *dout), *dinp = malloc(in_n * sizeof *dinp);
        double *expected_out = malloc(out_n * sizeof *expected_out);
        double *expected_dinp = calloc(in_n, sizeof *expected_dinp);
        ts_fill_uniform(inp, in_n, 30 + k, -1, 1);
        ts_fill_uniform(dout, out_n, 40 + k, -1, 1);
        for (int64_t b = 0; b < g->batch; b++)
            for (int64_t oh = 0; oh < out_height; oh++)
                for (int64_t ow = 0; ow < out_width; ow++)
                    for (int64_t c = 0; c < g->channels; c++) {
                        size_t source = at(b, oh / g->size_height, ow / g->size_width, c,
                                           g->height, g->width, g->channels);
                        size_t target = at(b, oh, ow, c, out_height, out_width, g->channels);
                        expected_out[target] = inp[source];
                        expected_dinp[source] += dout[target];
                    }
        char what[64];
        snprintf(what, sizeof what, "case %zu forward", k);
        nn_cpu_upsample2d_forward(out, inp, g);
        expect_exact(out, expected_out, out_n, what);
        nn_cpu_upsample2d_backward(dinp, dout, g);
        ts_comparison backward = ts_compare(dinp, expected_dinp, in_n, 1e-6, 1e-6);
        cr_expect(backward.ok, "case %zu backward: element %zu is %.9g, expected %.9g", k,
                  backward.worst_index, (double)dinp[backward.worst_index],
                  expected_dinp[backward.worst_index]);
        double forward_side = dot(out, dout, out_n), backward_side = dot(inp, dinp, in_n);
        cr_expect(fabs(forward_side - backward_side) <= 1e-5 * (1.0 + fabs(forward_side)),
                  "case %zu adjoint: %.12g vs %.12g", k, forward_side, backward_side);
        free(inp), free(out), free(dout), free(dinp), free(expected_out), free(expected_dinp);
    }
}

/* TensorFlow's half-pixel bilinear resize, in double, from its definition. */
static void reference_bilinear(double *out, const float *inp, const nn_upsample2d_geometry *g)
{
    int64_t out_height = g->height * g->size_height, out_width = g->width * g->size_width;
    for (int64_t b = 0; b < g->batch; b++)
        for (int64_t oh = 0; oh < out_height; oh++)
            for (int64_t ow = 0; ow < out_width; ow++) {
                double y = ((double)oh + 0.5) / (double)g->size_height - 0.5;
                double x = ((double)ow + 0.5) / (double)g->size_width - 0.5;
                int64_t y0 = (int64_t)floor(y), x0 = (int64_t)floor(x);
                double ly = y - (double)y0, lx = x - (double)x0;
                int64_t y1 = y0 + 1 > g->height - 1 ? g->height - 1 : y0 + 1;
                int64_t x1 = x0 + 1 > g->width - 1 ? g->width - 1 : x0 + 1;
                y0 = y0 < 0 ? 0 : y0, x0 = x0 < 0 ? 0 : x0;
                for (int64_t c = 0; c < g->channels; c++) {
                    double tl = inp[at(b, y0, x0, c, g->height, g->width, g->channels)];
                    double tr = inp[at(b, y0, x1, c, g->height, g->width, g->channels)];
                    double bl = inp[at(b, y1, x0, c, g->height, g->width, g->channels)];
                    double br = inp[at(b, y1, x1, c, g->height, g->width, g->channels)];
                    double top = tl + (tr - tl) * lx, bottom = bl + (br - bl) * lx;
                    out[at(b, oh, ow, c, out_height, out_width, g->channels)] =
                        top + (bottom - top) * ly;
                }
            }
}

Test(resample_kernels, bilinear_upsampling_is_tensorflows_resize_and_backward_its_adjoint)
{
    /* The 2x2 image 1 2 / 3 4 made 4x4, as TensorFlow gives it. */
    const float square[] = {1, 2, 3, 4};
    const double known[] = {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5,
                            2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4};
    nn_upsample2d_geometry two = {.batch = 1, .height = 2, .width = 2, .channels = 1,
                                  .size_height = 2, .size_width = 2, .bilinear = true};
    float resized[16];
    nn_cpu_upsample2d_forward(resized, square, &two);
    expect_exact(resized, known, 16, "the 2x2 example");

    const nn_upsample2d_geometry cases[] = {
        {.batch = 2, .height = 3, .width = 4, .channels = 3, .size_height = 2, .size_width = 2},
        {.batch = 1, .height = 4, .width = 3, .channels = 2, .size_height = 3, .size_width = 1},
        {.batch = 1, .height = 1, .width = 5, .channels = 1, .size_height = 4, .size_width = 3},
        {.batch = 2, .height = 16, .width = 12, .channels = 8, .size_height = 2, .size_width = 5},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_upsample2d_geometry g = cases[k];
        g.bilinear = true;
        size_t in_n = cells(g.batch, g.height, g.width, g.channels);
        size_t out_n = in_n * (size_t)(g.size_height * g.size_width);
        float *inp = malloc(in_n * sizeof *inp), *out = malloc(out_n * sizeof *out);
        float *dout = malloc(out_n * sizeof *dout), *dinp = malloc(in_n * sizeof *dinp);
        double *expected = malloc(out_n * sizeof *expected);
        ts_fill_uniform(inp, in_n, 50 + k, -1, 1);
        ts_fill_uniform(dout, out_n, 60 + k, -1, 1);
        nn_cpu_upsample2d_forward(out, inp, &g);
        reference_bilinear(expected, inp, &g);
        ts_comparison forward = ts_compare(out, expected, out_n, 1e-6, 1e-6);
        cr_expect(forward.ok, "case %zu forward: element %zu is %.9g, expected %.9g", k,
                  forward.worst_index, (double)out[forward.worst_index],
                  expected[forward.worst_index]);
        nn_cpu_upsample2d_backward(dinp, dout, &g);
        double forward_side = dot(out, dout, out_n), backward_side = dot(inp, dinp, in_n);
        cr_expect(fabs(forward_side - backward_side) <= 1e-5 * (1.0 + fabs(forward_side)),
                  "case %zu adjoint: %.12g vs %.12g", k, forward_side, backward_side);
        /* Each input cell's gradient is the derivative of sum(dout · out) in that cell. */
        size_t probe = in_n / 3;
        float saved = inp[probe];
        inp[probe] = saved + 1.0f;
        float *moved = malloc(out_n * sizeof *moved);
        nn_cpu_upsample2d_forward(moved, inp, &g);
        inp[probe] = saved;
        double change = dot(moved, dout, out_n) - forward_side;
        cr_expect(fabs(change - dinp[probe]) <= 1e-4, "case %zu: cell %zu's gradient %.9g, "
                  "the output moved by %.9g", k, probe, (double)dinp[probe], change);
        free(inp), free(out), free(dout), free(dinp), free(expected), free(moved);
    }
}
