/* AveragePooling2D's kernels: the CPU kernels against a naive reference in double (the
 * mean of the window's cells inside the input, padding not counted, as TensorFlow), that
 * reference's gradient against finite differences, and the seed-style example. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu/cpu_kernels.h"
#include "ref_conv.h"
#include "test_support.h"

typedef struct objective {
    const nn_pool2d_geometry *g;
    const double *dout;
    double *out;
    size_t out_count;
} objective;

/* sum(dout · pool(x)): its gradient in x is what backward computes. */
static double objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    objective *o = context;
    ref_avgpool2d_forward(o->out, x, o->g);
    double total = 0.0;
    for (size_t i = 0; i < o->out_count; i++)
        total += o->dout[i] * o->out[i];
    return total;
}

Test(avgpool2d_kernel, forward_and_backward_match_the_reference_and_finite_differences)
{
    const struct { int height, width, pool, stride; bool same; } cases[] = {
        {4, 4, 2, 2, false}, {7, 9, 3, 2, true}, {5, 5, 3, 1, true}, {6, 7, 2, 1, false},
        {9, 6, 4, 3, true}, {4, 4, 5, 1, true}, {5, 3, 2, 3, false},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_pool2d_geometry g = ref_pool_geometry(2, cases[k].height, cases[k].width, 3,
                                                 cases[k].pool, cases[k].stride, cases[k].same);
        size_t in_n = (size_t)(g.batch * g.in_height * g.in_width * g.channels);
        size_t out_n = (size_t)(g.batch * g.out_height * g.out_width * g.channels);
        float *inp = malloc(in_n * sizeof *inp), *out = malloc(out_n * sizeof *out);
        float *dout = malloc(out_n * sizeof *dout), *dinp = malloc(in_n * sizeof *dinp);
        double *inp64 = malloc(in_n * sizeof *inp64), *out64 = malloc(out_n * sizeof *out64);
        double *dout64 = malloc(out_n * sizeof *dout64), *numeric = malloc(in_n * sizeof *numeric);
        ts_fill_uniform(inp, in_n, 60 + k, -1, 1);
        ts_fill_uniform(dout, out_n, 70 + k, -1, 1);
        for (size_t i = 0; i < in_n; i++)
            inp64[i] = inp[i];
        for (size_t i = 0; i < out_n; i++)
            dout64[i] = dout[i];
        char what[96];
        snprintf(what, sizeof what, "case %zu (%dx%d, pool %d, stride %d, %s)", k,
                 cases[k].height, cases[k].width, cases[k].pool, cases[k].stride,
                 cases[k].same ? "same" : "valid");

        nn_cpu_avgpool2d_forward(out, inp, &g);
        ref_avgpool2d_forward(out64, inp64, &g);
        ts_comparison forward = ts_compare(out, out64, out_n, 1e-6, 1e-6);
        cr_expect(forward.ok, "%s: output %zu = %.9g, reference %.9g", what,
                  forward.worst_index, forward.actual, forward.expected);

        nn_cpu_avgpool2d_backward(dinp, dout, &g);
        objective o = {&g, dout64, out64, out_n};
        ts_numeric_gradient(objective_value, &o, inp64, in_n, 1e-6, numeric);
        ts_comparison backward = ts_compare(dinp, numeric, in_n, 1e-5, 1e-4);
        cr_expect(backward.ok, "%s: dinput %zu = %.9g, finite differences %.9g", what,
                  backward.worst_index, backward.actual, backward.expected);
        free(inp), free(out), free(dout), free(dinp), free(inp64), free(out64), free(dout64);
        free(numeric);
    }
}

Test(avgpool2d_kernel, same_padding_counts_only_cells_inside_the_input)
{
    /* 0 .. 15 in a 4x4 image, 3x3 windows, stride 1, 'same': the corner window holds
     * 0, 1, 4, 5 (mean 2.5, not 10/9), the centre ones nine cells. */
    nn_pool2d_geometry g = ref_pool_geometry(1, 4, 4, 1, 3, 1, true);
    float inp[16], out[16];
    for (int i = 0; i < 16; i++)
        inp[i] = (float)i;
    nn_cpu_avgpool2d_forward(out, inp, &g);
    const float expected[16] = {2.5f, 3, 4, 4.5f, 4.5f, 5, 6, 6.5f,
                                8.5f, 9, 10, 10.5f, 10.5f, 11, 12, 12.5f};
    for (int i = 0; i < 16; i++)
        cr_expect_eq(out[i], expected[i], "output %d: expected %g, got %g", i,
                     (double)expected[i], (double)out[i]);
}
