/* Conv2D: the CPU kernels against a naive double reference across strides, padding,
 * dilation, groups and odd sizes; that reference against finite differences; the layer
 * in both data formats, with fused and separate activations; and its errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/conv_winograd.h"
#include "cpu/cpu_kernels.h"
#include "cpu/simd.h"
#include "layer_harness.h"
#include "ref_conv.h"
#include "ref_layers.h"

/* Float kernels against the double reference. Inputs and weights are uniform in
 * [-1, 1] and an output sums at most ~300 products, so float32 rounding (2^-24 per
 * operation, growing like √terms in practice) is about 1e-6 here: atol 1e-5 with
 * rtol 1e-4 leaves a margin of ~10 while any indexing mistake (a wrong tap, a missed
 * pad, a swapped group) moves values by ~0.1 and fails by orders of magnitude. */
static const double KERNEL_ATOL = 1e-5, KERNEL_RTOL = 1e-4;
/* Reference backward against central differences in double, PyTorch gradcheck's
 * tolerance: |numeric - analytic| <= 1e-5 + 1e-3·|numeric|. */
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

/* ---- cases ---- */

typedef struct conv_case {
    int batch, height, width, channels, filters;
    int kernel_height, kernel_width;
    int stride_height, stride_width;
    int dilation_height, dilation_width;
    int groups;
    bool same, bias;
    nn_activation_kind activation;
} conv_case;

static bool case_geometry(const conv_case *c, nn_conv2d_geometry *g)
{
    int pad_top, pad_left;
    int out_height = ref_window_output(c->height, c->kernel_height, c->stride_height,
                                       c->dilation_height, c->same, &pad_top);
    int out_width = ref_window_output(c->width, c->kernel_width, c->stride_width,
                                      c->dilation_width, c->same, &pad_left);
    if (out_height <= 0 || out_width <= 0)
        return false;
    *g = (nn_conv2d_geometry){
        .batch = c->batch, .in_height = c->height, .in_width = c->width,
        .in_channels = c->channels, .out_height = out_height, .out_width = out_width,
        .out_channels = c->filters, .kernel_height = c->kernel_height,
        .kernel_width = c->kernel_width, .stride_height = c->stride_height,
        .stride_width = c->stride_width, .dilation_height = c->dilation_height,
        .dilation_width = c->dilation_width, .pad_top = pad_top, .pad_left = pad_left,
        .groups = c->groups};
    return true;
}

static char *describe_case(const conv_case *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "B%d %dx%dx%d -> %d filters, kernel %dx%d, strides %dx%d, dilation %dx%d, "
             "groups %d, %s, %s, %s",
             c->batch, c->height, c->width, c->channels, c->filters, c->kernel_height,
             c->kernel_width, c->stride_height, c->stride_width, c->dilation_height,
             c->dilation_width, c->groups, c->same ? "same" : "valid",
             c->bias ? "bias" : "no bias", nn_activation_name(c->activation));
    return buf;
}

/* The parameter sweep: every kernel shape × stride/dilation pair × group layout ×
 * padding, with odd sizes, batch 1 and 3, bias on and off, several activations. */
static int conv_sweep(conv_case *cases, int capacity)
{
    static const int kernels[][2] = {{3, 2}, {1, 1}, {2, 3}, {3, 3}};
    /* stride height, stride width, dilation height, dilation width */
    static const int steps[][4] = {{1, 1, 1, 1}, {2, 2, 1, 1}, {3, 1, 1, 1}, {1, 3, 1, 1},
                                   {2, 3, 1, 1}, {1, 1, 2, 2}, {1, 1, 3, 1}, {1, 1, 1, 2},
                                   {1, 1, 3, 3}};
    /* groups, input channels, filters */
    static const int layouts[][3] = {{1, 3, 5}, {2, 4, 6}, {4, 8, 8}};
    static const int sizes[][2] = {{7, 5}, {6, 6}, {5, 7}, {9, 4}};
    static const nn_activation_kind activations[] = {
        NN_ACTIVATION_LINEAR, NN_ACTIVATION_RELU, NN_ACTIVATION_TANH,
        NN_ACTIVATION_SIGMOID, NN_ACTIVATION_ELU, NN_ACTIVATION_SOFTMAX};
    int count = 0;
    for (int k = 0; k < 4; k++)
        for (int s = 0; s < 9; s++)
            for (int l = 0; l < 3; l++)
                for (int same = 0; same < 2; same++) {
                    int index = ((k * 9 + s) * 3 + l) * 2 + same;
                    cr_assert(count < capacity);
                    cases[count++] = (conv_case){
                        .batch = index % 2 ? 3 : 1,
                        .height = sizes[index % 4][0],
                        .width = sizes[index % 4][1],
                        .channels = layouts[l][1],
                        .filters = layouts[l][2],
                        .kernel_height = kernels[k][0],
                        .kernel_width = kernels[k][1],
                        .stride_height = steps[s][0],
                        .stride_width = steps[s][1],
                        .dilation_height = steps[s][2],
                        .dilation_width = steps[s][3],
                        .groups = layouts[l][0],
                        .same = same,
                        .bias = index % 3 != 0,
                        .activation = activations[index % 6]};
                }
    return count;
}

enum { SWEEP_CAPACITY = 256 };

/* Random data of one case, in float for the kernel and double for the reference. */
typedef struct conv_data {
    nn_conv2d_geometry geometry;
    size_t in_count, out_count, kernel_count;
    float *inp, *kernel, *bias, *out, *dout, *dinp, *dkernel, *dbias, *scratch;
    double *inp64, *kernel64, *bias64, *out64, *dout64, *dinp64, *dkernel64, *dbias64;
} conv_data;

static void *checked_calloc(size_t count, size_t size)
{
    void *memory = calloc(count > 0 ? count : 1, size);
    cr_assert(memory != NULL);
    return memory;
}

static void conv_data_init(conv_data *d, const nn_conv2d_geometry *g, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->geometry = *g;
    d->in_count = (size_t)g->batch * (size_t)g->in_height * (size_t)g->in_width *
                  (size_t)g->in_channels;
    d->out_count = (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width *
                   (size_t)g->out_channels;
    d->kernel_count = (size_t)g->kernel_height * (size_t)g->kernel_width *
                      (size_t)(g->in_channels / g->groups) * (size_t)g->out_channels;
    size_t oc = (size_t)g->out_channels;
    d->inp = checked_calloc(d->in_count, sizeof(float));
    d->kernel = checked_calloc(d->kernel_count, sizeof(float));
    d->bias = checked_calloc(oc, sizeof(float));
    d->out = checked_calloc(d->out_count, sizeof(float));
    d->dout = checked_calloc(d->out_count, sizeof(float));
    d->dinp = checked_calloc(d->in_count, sizeof(float));
    d->dkernel = checked_calloc(d->kernel_count, sizeof(float));
    d->dbias = checked_calloc(oc, sizeof(float));
    d->scratch = checked_calloc(nn_cpu_conv2d_scratch_floats(g), sizeof(float));
    d->inp64 = checked_calloc(d->in_count, sizeof(double));
    d->kernel64 = checked_calloc(d->kernel_count, sizeof(double));
    d->bias64 = checked_calloc(oc, sizeof(double));
    d->out64 = checked_calloc(d->out_count, sizeof(double));
    d->dout64 = checked_calloc(d->out_count, sizeof(double));
    d->dinp64 = checked_calloc(d->in_count, sizeof(double));
    d->dkernel64 = checked_calloc(d->kernel_count, sizeof(double));
    d->dbias64 = checked_calloc(oc, sizeof(double));
    ts_fill_uniform(d->inp, d->in_count, seed, -1.0f, 1.0f);
    ts_fill_uniform(d->kernel, d->kernel_count, seed + 1, -1.0f, 1.0f);
    ts_fill_uniform(d->bias, oc, seed + 2, -1.0f, 1.0f);
    ts_fill_uniform(d->dout, d->out_count, seed + 3, -1.0f, 1.0f);
    /* The reference sees exactly the float values, so only the arithmetic differs. */
    ts_to_double(d->inp64, d->inp, d->in_count);
    ts_to_double(d->kernel64, d->kernel, d->kernel_count);
    ts_to_double(d->bias64, d->bias, oc);
    ts_to_double(d->dout64, d->dout, d->out_count);
}

static void conv_data_free(conv_data *d)
{
    void *buffers[] = {d->inp, d->kernel, d->bias, d->out, d->dout, d->dinp, d->dkernel,
                       d->dbias, d->scratch, d->inp64, d->kernel64, d->bias64, d->out64,
                       d->dout64, d->dinp64, d->dkernel64, d->dbias64};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        free(buffers[i]);
}

/* Keeps the comparison with the worst ratio over many, and which case it came from. */
typedef struct worst_tracker {
    ts_comparison worst;
    char where[256];
    int compared;
} worst_tracker;

static void track(worst_tracker *tracker, ts_comparison comparison, const char *where)
{
    if (tracker->compared++ == 0 || comparison.worst_ratio > tracker->worst.worst_ratio) {
        tracker->worst = comparison;
        snprintf(tracker->where, sizeof tracker->where, "%s", where);
    }
}

static void report_and_assert(const char *what, const worst_tracker *tracker)
{
    char label[128];
    snprintf(label, sizeof label, "%s (%d arrays)", what, tracker->compared);
    ts_report(label, &tracker->worst);
    cr_assert(tracker->compared > 0, "%s: nothing compared", what);
    cr_assert(tracker->worst.ok,
              "%s: worst element off by %.3e (expected %.9g, got %.9g, %.2f× the "
              "tolerance) in case: %s",
              what, tracker->worst.worst_error, tracker->worst.expected,
              tracker->worst.actual, tracker->worst.worst_ratio, tracker->where);
}

/* ---- the CPU kernels against the reference ---- */

Test(conv2d_kernel, forward_matches_reference_across_the_parameter_space)
{
    conv_case cases[SWEEP_CAPACITY];
    int count = conv_sweep(cases, SWEEP_CAPACITY);
    worst_tracker tracker = {0};
    int run = 0;
    for (int i = 0; i < count; i++) {
        nn_conv2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue; /* 'valid' window larger than the input: the layer rejects it */
        run++;
        conv_data d;
        conv_data_init(&d, &g, 1000 + (uint64_t)i * 10);
        nn_activation activation = nn_activation_default(cases[i].activation);
        nn_cpu_conv2d_forward(d.out, d.inp, d.kernel, cases[i].bias ? d.bias : NULL,
                              activation, &g, d.scratch);
        ref_conv2d_forward(d.out64, d.inp64, d.kernel64, cases[i].bias ? d.bias64 : NULL, &g);
        ref_activation_forward(activation, d.out64, d.out64, d.out_count,
                               (size_t)g.out_channels);
        char where[256];
        track(&tracker, ts_compare(d.out, d.out64, d.out_count, KERNEL_ATOL, KERNEL_RTOL),
              describe_case(&cases[i], where, sizeof where));
        conv_data_free(&d);
    }
    cr_assert_gt(run, 150, "the sweep should run most of its %d cases, ran %d", count, run);
    report_and_assert("conv2d cpu forward vs reference", &tracker);
}

Test(conv2d_kernel, backward_matches_reference_across_the_parameter_space)
{
    conv_case cases[SWEEP_CAPACITY];
    int count = conv_sweep(cases, SWEEP_CAPACITY);
    worst_tracker dinp_tracker = {0}, dkernel_tracker = {0}, dbias_tracker = {0};
    for (int i = 0; i < count; i++) {
        nn_conv2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        conv_data d;
        conv_data_init(&d, &g, 5000 + (uint64_t)i * 10);
        /* Every output is optional: leave one out in some cases. */
        bool want_dinp = i % 4 != 1, want_dkernel = i % 4 != 2, want_dbias = cases[i].bias;
        nn_cpu_conv2d_backward(want_dinp ? d.dinp : NULL, want_dkernel ? d.dkernel : NULL,
                               want_dbias ? d.dbias : NULL, d.dout, d.inp, d.kernel, &g,
                               d.scratch);
        ref_conv2d_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64,
                            &g);
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        if (want_dinp)
            track(&dinp_tracker,
                  ts_compare(d.dinp, d.dinp64, d.in_count, KERNEL_ATOL, KERNEL_RTOL), where);
        if (want_dkernel)
            track(&dkernel_tracker,
                  ts_compare(d.dkernel, d.dkernel64, d.kernel_count, KERNEL_ATOL, KERNEL_RTOL),
                  where);
        if (want_dbias)
            track(&dbias_tracker,
                  ts_compare(d.dbias, d.dbias64, (size_t)g.out_channels, KERNEL_ATOL,
                             KERNEL_RTOL),
                  where);
        conv_data_free(&d);
    }
    report_and_assert("conv2d cpu backward dinp vs reference", &dinp_tracker);
    report_and_assert("conv2d cpu backward dkernel vs reference", &dkernel_tracker);
    report_and_assert("conv2d cpu backward dbias vs reference", &dbias_tracker);
}

/* Big enough that one image's im2col matrix passes the kernel's 16 MiB budget, so the
 * batch runs image by image and dkernel accumulates across chunks. */
Test(conv2d_kernel, large_images_run_in_chunks_and_still_match)
{
    conv_case c = {.batch = 3, .height = 64, .width = 64, .channels = 64, .filters = 4,
                   .kernel_height = 3, .kernel_width = 3, .stride_height = 1,
                   .stride_width = 1, .dilation_height = 1, .dilation_width = 1,
                   .groups = 2, .same = true, .bias = true,
                   .activation = NN_ACTIVATION_LINEAR};
    nn_conv2d_geometry g;
    cr_assert(case_geometry(&c, &g));
    size_t one_image = (size_t)64 * 64 * 3 * 3 * 64;
    cr_assert_eq(nn_cpu_conv2d_scratch_floats(&g), one_image,
                 "expected one image per chunk, scratch is %zu floats",
                 nn_cpu_conv2d_scratch_floats(&g));
    conv_data d;
    conv_data_init(&d, &g, 77);
    nn_cpu_conv2d_forward(d.out, d.inp, d.kernel, d.bias,
                          nn_activation_default(NN_ACTIVATION_LINEAR), &g, d.scratch);
    nn_cpu_conv2d_backward(d.dinp, d.dkernel, d.dbias, d.dout, d.inp, d.kernel, &g, d.scratch);
    ref_conv2d_forward(d.out64, d.inp64, d.kernel64, d.bias64, &g);
    ref_conv2d_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64, &g);
    /* Longer sums than the sweep's: an output adds 3·3·32 = 288 products whose partial
     * sums reach ~10, and a kernel gradient 3·64·64 = 12 288 of them, so float rounding
     * (√terms · 2^-24 · partial-sum size) reaches a few 1e-6 and 1e-5 respectively;
     * atol 2e-5 and 1e-4 keep a margin of ~4. */
    ts_comparison out = ts_compare(d.out, d.out64, d.out_count, 2e-5, KERNEL_RTOL);
    ts_comparison dinp = ts_compare(d.dinp, d.dinp64, d.in_count, KERNEL_ATOL, KERNEL_RTOL);
    ts_comparison dkernel = ts_compare(d.dkernel, d.dkernel64, d.kernel_count, 1e-4, 1e-4);
    ts_comparison dbias = ts_compare(d.dbias, d.dbias64, 4, 1e-4, 1e-4);
    ts_report("conv2d cpu chunked forward", &out);
    ts_report("conv2d cpu chunked dinp", &dinp);
    ts_report("conv2d cpu chunked dkernel", &dkernel);
    ts_report("conv2d cpu chunked dbias", &dbias);
    cr_assert(out.ok && dinp.ok && dkernel.ok && dbias.ok);
    conv_data_free(&d);
}

Test(conv2d_kernel, results_do_not_depend_on_the_openmp_thread_count)
{
    conv_case c = {.batch = 3, .height = 9, .width = 8, .channels = 4, .filters = 6,
                   .kernel_height = 3, .kernel_width = 2, .stride_height = 1,
                   .stride_width = 2, .dilation_height = 1, .dilation_width = 1,
                   .groups = 2, .same = true, .bias = true, .activation = NN_ACTIVATION_RELU};
    nn_conv2d_geometry g;
    cr_assert(case_geometry(&c, &g));
    conv_data one, two;
    conv_data_init(&one, &g, 99);
    conv_data_init(&two, &g, 99);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    nn_cpu_conv2d_forward(one.out, one.inp, one.kernel, one.bias,
                          nn_activation_default(NN_ACTIVATION_RELU), &g, one.scratch);
    nn_cpu_conv2d_backward(one.dinp, one.dkernel, one.dbias, one.dout, one.inp, one.kernel,
                           &g, one.scratch);
    omp_set_num_threads(threads > 1 ? threads : 2);
    nn_cpu_conv2d_forward(two.out, two.inp, two.kernel, two.bias,
                          nn_activation_default(NN_ACTIVATION_RELU), &g, two.scratch);
    nn_cpu_conv2d_backward(two.dinp, two.dkernel, two.dbias, two.dout, two.inp, two.kernel,
                           &g, two.scratch);
    omp_set_num_threads(threads);
    cr_assert(memcmp(one.out, two.out, one.out_count * sizeof(float)) == 0);
    cr_assert(memcmp(one.dinp, two.dinp, one.in_count * sizeof(float)) == 0);
    cr_assert(memcmp(one.dkernel, two.dkernel, one.kernel_count * sizeof(float)) == 0);
    cr_assert(memcmp(one.dbias, two.dbias, (size_t)g.out_channels * sizeof(float)) == 0);
    conv_data_free(&one);
    conv_data_free(&two);
}

/* ---- every vector level of the direct convolution ---- */

/* Forward and backward of one case at the active vector level against the reference;
 * the activation is applied as the layer would (relu fused in the kernel). */
static void check_case_at_active_level(const conv_case *c, uint64_t seed, double atol,
                                       worst_tracker trackers[4])
{
    nn_conv2d_geometry g;
    cr_assert(case_geometry(c, &g));
    conv_data d;
    conv_data_init(&d, &g, seed);
    nn_activation activation = nn_activation_default(c->activation);
    nn_cpu_conv2d_forward(d.out, d.inp, d.kernel, c->bias ? d.bias : NULL, activation, &g,
                          d.scratch);
    nn_cpu_conv2d_backward(d.dinp, d.dkernel, c->bias ? d.dbias : NULL, d.dout, d.inp,
                           d.kernel, &g, d.scratch);
    ref_conv2d_forward(d.out64, d.inp64, d.kernel64, c->bias ? d.bias64 : NULL, &g);
    ref_activation_forward(activation, d.out64, d.out64, d.out_count, (size_t)g.out_channels);
    ref_conv2d_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64, &g);
    char where[256];
    int used = snprintf(where, sizeof where, "%s: ", nn_simd_level_name(nn_simd_active()));
    describe_case(c, where + used, sizeof where - (size_t)used);
    track(&trackers[0], ts_compare(d.out, d.out64, d.out_count, atol, KERNEL_RTOL), where);
    track(&trackers[1], ts_compare(d.dinp, d.dinp64, d.in_count, atol, KERNEL_RTOL), where);
    track(&trackers[2], ts_compare(d.dkernel, d.dkernel64, d.kernel_count, atol, KERNEL_RTOL),
          where);
    if (c->bias)
        track(&trackers[3], ts_compare(d.dbias, d.dbias64, (size_t)g.out_channels, atol,
                                       KERNEL_RTOL),
              where);
    conv_data_free(&d);
}

/* Runs `check` once per vector level this processor has, then restores the level. */
static int for_every_simd_level(void (*check)(worst_tracker *), worst_tracker *trackers)
{
    nn_simd_level saved = nn_simd_active();
    int levels = 0;
    for (int level = 0; level < NN_SIMD_LEVEL_COUNT; level++) {
        if (!nn_simd_select((nn_simd_level)level))
            continue;
        levels++;
        check(trackers);
    }
    cr_assert(nn_simd_select(saved));
    return levels;
}

static void check_sweep(worst_tracker *trackers)
{
    conv_case cases[SWEEP_CAPACITY];
    int count = conv_sweep(cases, SWEEP_CAPACITY);
    for (int i = 0; i < count; i++) {
        nn_conv2d_geometry g;
        if (case_geometry(&cases[i], &g))
            check_case_at_active_level(&cases[i], 20000 + (uint64_t)i * 10, KERNEL_ATOL,
                                       trackers);
    }
}

Test(conv2d_kernel, every_simd_level_matches_reference_across_the_parameter_space)
{
    worst_tracker trackers[4];
    memset(trackers, 0, sizeof trackers);
    cr_assert_geq(for_every_simd_level(check_sweep, trackers), 1);
    report_and_assert("conv2d every level: forward", &trackers[0]);
    report_and_assert("conv2d every level: dinp", &trackers[1]);
    report_and_assert("conv2d every level: dkernel", &trackers[2]);
    report_and_assert("conv2d every level: dbias", &trackers[3]);
}

/* Channel counts that cross the tiles' column blocks (8, 16 and 64 floats wide) and end
 * in every kind of tail, both as filters (forward, kernel gradient) and as input
 * channels (the input gradient's columns); output pixels that leave a short last tile;
 * the seed CNN's two layers. */
static void check_wide_layers(worst_tracker *trackers)
{
    /* channels, filters, height, width, kernel height, kernel width, dilation, same */
    static const int shapes[][8] = {
        {1, 32, 28, 28, 3, 3, 1, 1},  {32, 64, 14, 14, 3, 3, 1, 1}, {3, 70, 7, 5, 3, 3, 1, 1},
        {70, 19, 6, 7, 3, 2, 1, 0},   {17, 130, 5, 5, 1, 1, 1, 0},  {9, 48, 9, 6, 2, 3, 2, 1},
        {40, 33, 8, 8, 5, 5, 1, 1},   {2, 16, 4, 9, 1, 3, 3, 1},    {65, 1, 5, 4, 3, 3, 1, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        conv_case c = {.batch = 2, .height = s[2], .width = s[3], .channels = s[0],
                       .filters = s[1], .kernel_height = s[4], .kernel_width = s[5],
                       .stride_height = 1, .stride_width = 1, .dilation_height = s[6],
                       .dilation_width = s[6], .groups = 1, .same = s[7], .bias = i % 3 != 2,
                       .activation = i % 2 ? NN_ACTIVATION_LINEAR : NN_ACTIVATION_RELU};
        /* Sums of up to 1000 products (40 channels × 25 taps; a kernel gradient: 2 × 784
         * pixels) whose partial sums reach ~10 round to several 1e-6 in float, like the
         * chunked case above: atol 4e-5 keeps a margin of ~4. */
        check_case_at_active_level(&c, 30000 + (uint64_t)i * 10, 4e-5, trackers);
    }
}

Test(conv2d_kernel, every_simd_level_matches_reference_on_wide_layers)
{
    worst_tracker trackers[4];
    memset(trackers, 0, sizeof trackers);
    cr_assert_geq(for_every_simd_level(check_wide_layers, trackers), 1);
    report_and_assert("conv2d wide layers, every level: forward", &trackers[0]);
    report_and_assert("conv2d wide layers, every level: dinp", &trackers[1]);
    report_and_assert("conv2d wide layers, every level: dkernel", &trackers[2]);
    report_and_assert("conv2d wide layers, every level: dbias", &trackers[3]);
}

/* 3×3 layers with stride 1 and at least 16 channels each way go through Winograd's
 * F(2×2, 3×3) for the forward and the input gradient: 'same' and 'valid', channel counts
 * that end in every kind of tail, a single 2×2 tile per image, and a batch whose tiles
 * fill several blocks of 48 and a partial last one. */
static void check_winograd(worst_tracker *trackers)
{
    /* channels, filters, height, width, same, batch */
    static const int shapes[][6] = {
        {16, 16, 2, 2, 1, 1}, {17, 33, 6, 8, 1, 3}, {33, 17, 8, 6, 0, 2},
        {70, 130, 6, 6, 1, 2}, {64, 32, 10, 10, 1, 5}, {32, 64, 14, 14, 1, 4},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        conv_case c = {.batch = s[5], .height = s[2], .width = s[3], .channels = s[0],
                       .filters = s[1], .kernel_height = 3, .kernel_width = 3,
                       .stride_height = 1, .stride_width = 1, .dilation_height = 1,
                       .dilation_width = 1, .groups = 1, .same = s[4], .bias = i % 2 == 0,
                       .activation = i % 3 ? NN_ACTIVATION_RELU : NN_ACTIVATION_LINEAR};
        nn_conv2d_geometry g;
        cr_assert(case_geometry(&c, &g));
        cr_assert(nn_winograd_applies(&g), "shape %zu should take the Winograd path", i);
        /* Up to 1170 products (130 filters × 9 taps in the input gradient) through the
         * transforms, which scale partial sums by up to 4: rounding reaches ~1e-5. */
        check_case_at_active_level(&c, 50000 + (uint64_t)i * 10, 4e-5, trackers);
    }
}

/* Images big enough that the direct convolution pads them one at a time (its budget is
 * 8 MiB of padded images), so the kernel gradient adds chunk after chunk; 3×3 and wide
 * enough for Winograd, and 5×3 for the plain tiles. */
Test(conv2d_kernel, direct_and_winograd_sum_large_batches_chunk_by_chunk)
{
    static const int kernels[][2] = {{3, 3}, {5, 3}};
    for (int k = 0; k < 2; k++) {
        conv_case c = {.batch = 3, .height = 182, .width = 182, .channels = 16, .filters = 16,
                       .kernel_height = kernels[k][0], .kernel_width = kernels[k][1],
                       .stride_height = 1, .stride_width = 1, .dilation_height = 1,
                       .dilation_width = 1, .groups = 1, .same = true, .bias = true,
                       .activation = NN_ACTIVATION_LINEAR};
        nn_conv2d_geometry g;
        cr_assert(case_geometry(&c, &g));
        cr_assert_eq(nn_winograd_applies(&g), k == 0);
        worst_tracker trackers[4];
        memset(trackers, 0, sizeof trackers);
        /* A kernel gradient sums 3 × 182 × 182 products whose partial sums reach ~100;
         * summed in runs of a few hundred, float rounding stays near 1e-4: atol 5e-4
         * (one long running sum was off by 2e-3). */
        check_case_at_active_level(&c, 60000 + (uint64_t)k, 5e-4, trackers);
        static const char *const names[2][4] = {
            {"conv2d winograd chunked: forward", "conv2d winograd chunked: dinp",
             "conv2d winograd chunked: dkernel", "conv2d winograd chunked: dbias"},
            {"conv2d direct chunked: forward", "conv2d direct chunked: dinp",
             "conv2d direct chunked: dkernel", "conv2d direct chunked: dbias"}};
        for (int t = 0; t < 4; t++)
            report_and_assert(names[k][t], &trackers[t]);
    }
}

Test(conv2d_kernel, winograd_matches_reference_at_every_level)
{
    worst_tracker trackers[4];
    memset(trackers, 0, sizeof trackers);
    cr_assert_geq(for_every_simd_level(check_winograd, trackers), 1);
    report_and_assert("conv2d winograd, every level: forward", &trackers[0]);
    report_and_assert("conv2d winograd, every level: dinp", &trackers[1]);
    report_and_assert("conv2d winograd, every level: dkernel", &trackers[2]);
    report_and_assert("conv2d winograd, every level: dbias", &trackers[3]);
}

/* The direct convolution splits tiles and kernel-gradient rows across threads; each
 * value must still come out bit for bit the same with 1, 2 or 3 threads. */
static void check_thread_independence_of(const conv_case *case_in)
{
    conv_case c = *case_in;
    nn_conv2d_geometry g;
    cr_assert(case_geometry(&c, &g));
    cr_assert(nn_cpu_conv2d_direct_applies(&g));
    conv_data runs[3];
    int threads = omp_get_max_threads();
    for (int r = 0; r < 3; r++) {
        conv_data_init(&runs[r], &g, 4242);
        omp_set_num_threads(r + 1);
        nn_cpu_conv2d_forward(runs[r].out, runs[r].inp, runs[r].kernel, runs[r].bias,
                              nn_activation_default(NN_ACTIVATION_RELU), &g, runs[r].scratch);
        nn_cpu_conv2d_backward(runs[r].dinp, runs[r].dkernel, runs[r].dbias, runs[r].dout,
                               runs[r].inp, runs[r].kernel, &g, runs[r].scratch);
    }
    omp_set_num_threads(threads);
    for (int r = 1; r < 3; r++) {
        const char *level = nn_simd_level_name(nn_simd_active());
        cr_assert(memcmp(runs[0].out, runs[r].out, runs[0].out_count * sizeof(float)) == 0,
                  "%s: forward differs between 1 and %d threads", level, r + 1);
        cr_assert(memcmp(runs[0].dinp, runs[r].dinp, runs[0].in_count * sizeof(float)) == 0,
                  "%s: dinp differs between 1 and %d threads", level, r + 1);
        cr_assert(memcmp(runs[0].dkernel, runs[r].dkernel,
                         runs[0].kernel_count * sizeof(float)) == 0,
                  "%s: dkernel differs between 1 and %d threads", level, r + 1);
        cr_assert(memcmp(runs[0].dbias, runs[r].dbias, (size_t)g.out_channels * sizeof(float)) == 0,
                  "%s: dbias differs between 1 and %d threads", level, r + 1);
    }
    for (int r = 0; r < 3; r++)
        conv_data_free(&runs[r]);
}

/* The seed CNN's two layers: conv2 (Winograd, 64 images: 8 parts of 392 tiles) and
 * conv1 (one input channel: two kernel-gradient items, so its 9 images go in 8 parts). */
static void check_thread_independence(worst_tracker *unused)
{
    (void)unused;
    conv_case wide = {.batch = 5, .height = 14, .width = 14, .channels = 32, .filters = 64,
                      .kernel_height = 3, .kernel_width = 3, .stride_height = 1,
                      .stride_width = 1, .dilation_height = 1, .dilation_width = 1,
                      .groups = 1, .same = true, .bias = true,
                      .activation = NN_ACTIVATION_RELU};
    conv_case first = wide;
    first.batch = 9;
    first.height = first.width = 28;
    first.channels = 1;
    first.filters = 32;
    check_thread_independence_of(&wide);
    check_thread_independence_of(&first);
}

Test(conv2d_kernel, direct_results_do_not_depend_on_the_openmp_thread_count)
{
    cr_assert_geq(for_every_simd_level(check_thread_independence, NULL), 1);
}

/* Every vector level that fuses multiply and add (AVX2, AVX-512) gives the same bits:
 * the same seed trains to the same weights on either processor. Shapes where the levels'
 * column blocks differ in number (24 and 40 filters: 2 or 3 AVX2 blocks, 1 AVX-512
 * block), a first layer (few kernel-gradient items), Winograd's 3×3 and a strided
 * convolution (im2col and the layers' product). */
Test(conv2d_kernel, avx2_and_avx512_give_the_same_bits)
{
    static const int shapes[][6] = {
        /* batch, size, channels, filters, kernel, stride */
        {64, 20, 6, 24, 3, 1}, {16, 12, 5, 40, 2, 1}, {9, 28, 1, 32, 3, 1},
        {5, 14, 32, 64, 3, 1}, {7, 11, 3, 24, 3, 2},
    };
    const nn_simd_level saved = nn_simd_active();
    if (!nn_simd_select(NN_SIMD_AVX512) || !nn_simd_select(NN_SIMD_AVX2)) {
        cr_assert(nn_simd_select(saved));
        cr_skip_test("this processor lacks AVX-512 or AVX2: nothing to compare");
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        conv_case c = {.batch = s[0], .height = s[1], .width = s[1], .channels = s[2],
                       .filters = s[3], .kernel_height = s[4], .kernel_width = s[4],
                       .stride_height = s[5], .stride_width = s[5], .dilation_height = 1,
                       .dilation_width = 1, .groups = 1, .same = i % 2 == 0, .bias = true,
                       .activation = NN_ACTIVATION_RELU};
        nn_conv2d_geometry g;
        cr_assert(case_geometry(&c, &g));
        conv_data runs[2];
        const nn_simd_level levels[2] = {NN_SIMD_AVX2, NN_SIMD_AVX512};
        for (int r = 0; r < 2; r++) {
            cr_assert(nn_simd_select(levels[r]));
            conv_data_init(&runs[r], &g, 900 + i);
            nn_cpu_conv2d_forward(runs[r].out, runs[r].inp, runs[r].kernel, runs[r].bias,
                                  nn_activation_default(NN_ACTIVATION_RELU), &g,
                                  runs[r].scratch);
            nn_cpu_conv2d_backward(runs[r].dinp, runs[r].dkernel, runs[r].dbias, runs[r].dout,
                                   runs[r].inp, runs[r].kernel, &g, runs[r].scratch);
        }
        cr_assert(memcmp(runs[0].out, runs[1].out, runs[0].out_count * sizeof(float)) == 0,
                  "shape %zu: forward differs between AVX2 and AVX-512", i);
        cr_assert(memcmp(runs[0].dinp, runs[1].dinp, runs[0].in_count * sizeof(float)) == 0,
                  "shape %zu: dinp differs between AVX2 and AVX-512", i);
        cr_assert(memcmp(runs[0].dkernel, runs[1].dkernel,
                         runs[0].kernel_count * sizeof(float)) == 0,
                  "shape %zu: dkernel differs between AVX2 and AVX-512", i);
        cr_assert(memcmp(runs[0].dbias, runs[1].dbias,
                         (size_t)g.out_channels * sizeof(float)) == 0,
                  "shape %zu: dbias differs between AVX2 and AVX-512", i);
        conv_data_free(&runs[0]);
        conv_data_free(&runs[1]);
    }
    cr_assert(nn_simd_select(saved));
}

/* Convolution and 2×2 max pooling in one pass must give bit for bit what the two
 * kernels give one after the other (the same sums in the same order), winners
 * included, at every vector level: odd sizes drop the last row or column as pooling
 * does; wide layers cross column blocks and tails. */
static void check_fused_pooling(worst_tracker *unused)
{
    (void)unused;
    /* channels, filters, height, width, kernel, same, relu */
    static const int shapes[][7] = {
        {1, 32, 28, 28, 3, 1, 1}, {32, 64, 14, 14, 3, 1, 1}, {3, 5, 7, 9, 3, 1, 0},
        {4, 70, 6, 5, 2, 0, 1},   {17, 19, 9, 8, 1, 0, 1},   {2, 33, 5, 5, 3, 0, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        conv_case c = {.batch = 3, .height = s[2], .width = s[3], .channels = s[0],
                       .filters = s[1], .kernel_height = s[4], .kernel_width = s[4],
                       .stride_height = 1, .stride_width = 1, .dilation_height = 1,
                       .dilation_width = 1, .groups = 1, .same = s[5], .bias = i % 2 == 0,
                       .activation = s[6] ? NN_ACTIVATION_RELU : NN_ACTIVATION_LINEAR};
        nn_conv2d_geometry g;
        cr_assert(case_geometry(&c, &g));
        nn_pool2d_geometry p = {.batch = g.batch, .in_height = g.out_height,
                                .in_width = g.out_width, .channels = g.out_channels,
                                .out_height = g.out_height / 2, .out_width = g.out_width / 2,
                                .pool_height = 2, .pool_width = 2, .stride_height = 2,
                                .stride_width = 2};
        cr_assert(nn_cpu_conv2d_maxpool2d_applies(&g, &p));
        conv_data d;
        conv_data_init(&d, &g, 40000 + (uint64_t)i);
        size_t pooled_count = (size_t)p.batch * (size_t)p.out_height * (size_t)p.out_width *
                              (size_t)p.channels;
        float *expected = checked_calloc(pooled_count, sizeof(float));
        float *pooled = checked_calloc(pooled_count, sizeof(float));
        int32_t *expected_winners = checked_calloc(pooled_count, sizeof(int32_t));
        int32_t *winners = checked_calloc(pooled_count, sizeof(int32_t));
        nn_cpu_conv2d_forward(d.out, d.inp, d.kernel, c.bias ? d.bias : NULL,
                              nn_activation_default(c.activation), &g, d.scratch);
        nn_cpu_maxpool2d_forward(expected, expected_winners, d.out, &p);
        nn_cpu_conv2d_maxpool2d_forward(pooled, winners, d.inp, d.kernel,
                                        c.bias ? d.bias : NULL,
                                        c.activation == NN_ACTIVATION_RELU, &g, &p, d.scratch);
        const char *level = nn_simd_level_name(nn_simd_active());
        for (size_t k = 0; k < pooled_count; k++) {
            cr_assert(memcmp(&pooled[k], &expected[k], sizeof(float)) == 0,
                      "%s, shape %zu: pooled value %zu is %.9g, the two kernels give %.9g",
                      level, i, k, pooled[k], expected[k]);
            cr_assert_eq(winners[k], expected_winners[k],
                         "%s, shape %zu: pooled value %zu won by %d, the two kernels say %d",
                         level, i, k, winners[k], expected_winners[k]);
        }
        /* Inference: no winners, the same values. */
        memset(pooled, 0, pooled_count * sizeof(float));
        nn_cpu_conv2d_maxpool2d_forward(pooled, NULL, d.inp, d.kernel, c.bias ? d.bias : NULL,
                                        c.activation == NN_ACTIVATION_RELU, &g, &p, d.scratch);
        cr_assert(memcmp(pooled, expected, pooled_count * sizeof(float)) == 0,
                  "%s, shape %zu: inference differs from training", level, i);
        free(expected);
        free(pooled);
        free(expected_winners);
        free(winners);
        conv_data_free(&d);
    }
}

Test(conv2d_kernel, convolution_and_pooling_in_one_pass_equal_the_two_kernels)
{
    cr_assert_geq(for_every_simd_level(check_fused_pooling, NULL), 1);
}

/* ---- the reference against finite differences ---- */

typedef enum conv_variable { CONV_INPUT, CONV_KERNEL, CONV_BIAS } conv_variable;

typedef struct conv_objective {
    const conv_data *data;
    conv_variable variable;
    double *out; /* scratch for the forward result */
} conv_objective;

/* sum(dout · conv(inp, kernel, bias)) with the chosen variable replaced by x. */
static double conv_objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    conv_objective *objective = context;
    const conv_data *d = objective->data;
    ref_conv2d_forward(objective->out, objective->variable == CONV_INPUT ? x : d->inp64,
                       objective->variable == CONV_KERNEL ? x : d->kernel64,
                       objective->variable == CONV_BIAS ? x : d->bias64, &d->geometry);
    double total = 0.0;
    for (size_t i = 0; i < d->out_count; i++)
        total += d->dout64[i] * objective->out[i];
    return total;
}

Test(conv2d_reference, backward_matches_finite_differences)
{
    conv_case cases[SWEEP_CAPACITY];
    int count = conv_sweep(cases, SWEEP_CAPACITY);
    worst_tracker trackers[3];
    memset(trackers, 0, sizeof trackers);
    int checked = 0;
    /* A spread of cases (every 13th covers every stride, dilation, group layout and
     * padding) keeps the O(n²) differences quick. */
    for (int i = 0; i < count; i += 13) {
        nn_conv2d_geometry g;
        if (!case_geometry(&cases[i], &g))
            continue;
        checked++;
        conv_data d;
        conv_data_init(&d, &g, 9000 + (uint64_t)i);
        ref_conv2d_backward(d.dinp64, d.dkernel64, d.dbias64, d.dout64, d.inp64, d.kernel64,
                            &g);
        char where[256];
        describe_case(&cases[i], where, sizeof where);
        double *variables[] = {d.inp64, d.kernel64, d.bias64};
        const double *analytic[] = {d.dinp64, d.dkernel64, d.dbias64};
        size_t sizes[] = {d.in_count, d.kernel_count, (size_t)g.out_channels};
        for (int v = 0; v < 3; v++) {
            double *numeric = checked_calloc(sizes[v], sizeof(double));
            conv_objective objective = {&d, (conv_variable)v,
                                        checked_calloc(d.out_count, sizeof(double))};
            ts_numeric_gradient(conv_objective_value, &objective, variables[v], sizes[v],
                                GRADCHECK_EPS, numeric);
            track(&trackers[v],
                  ts_compare_double(analytic[v], numeric, sizes[v], GRADCHECK_ATOL,
                                    GRADCHECK_RTOL),
                  where);
            free(objective.out);
            free(numeric);
        }
        conv_data_free(&d);
    }
    cr_assert_geq(checked, 12);
    report_and_assert("conv2d reference dinp vs finite differences", &trackers[0]);
    report_and_assert("conv2d reference dkernel vs finite differences", &trackers[1]);
    report_and_assert("conv2d reference dbias vs finite differences", &trackers[2]);
}

/* ---- the layer ---- */

static nn_layer *make_conv(int filters, int kernel_height, int kernel_width)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_conv2d_class), NN_OK);
    harness_set_int(layer, "filters", filters);
    harness_set_pair(layer, "kernel_size", kernel_height, kernel_width);
    return layer;
}

static nn_tensor *random_tensor(const nn_shape *shape, uint64_t seed)
{
    nn_tensor *tensor = harness_tensor(shape, NULL);
    ts_fill_uniform(nn_tensor_f32(tensor), nn_tensor_count(tensor), seed, -1.0f, 1.0f);
    return tensor;
}

Test(conv2d_layer, seed_examples_have_keras_shapes)
{
    nn_shape input_shape = NN_SHAPE(2, 28, 28, 3);
    nn_tensor *x = random_tensor(&input_shape, 1);
    char text[64];

    /* Conv2D{32, {3,3}, padding='same', activation='relu'} */
    nn_layer *same = make_conv(32, 3, 3);
    harness_set_choice(same, "padding", "same");
    harness_set_activation(same, nn_activation_default(NN_ACTIVATION_RELU));
    cr_assert_eq(nn_layer_finish(same), NN_OK, "%s", nn_error_message());
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(same, x, false, &y), NN_OK, "%s", nn_error_message());
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(2, 28, 28, 32)");
    nn_param *kernel = nn_layer_param(same, "kernel");
    cr_assert_not_null(kernel);
    cr_assert_str_eq(nn_shape_format(&kernel->shape, text, sizeof text), "(3, 3, 3, 32)");
    cr_assert_str_eq(nn_shape_format(&nn_layer_param(same, "bias")->shape, text, sizeof text),
                     "(32,)");
    cr_assert_eq(nn_layer_count_params(same, true), 3 * 3 * 3 * 32 + 32);
    cr_assert_str_eq(same->explanation,
                     "height: ceil(28 / 1) = 28; width: ceil(28 / 1) = 28; channels: "
                     "filters = 32");
    /* relu: nothing negative comes out */
    float lowest = 0.0f;
    for (size_t i = 0; i < nn_tensor_count(y); i++)
        lowest = fminf(lowest, nn_tensor_f32(y)[i]);
    cr_assert_eq(lowest, 0.0f);
    nn_tensor_free(y);
    nn_layer_release(same);

    /* Conv2D{16, 3, strides=2, padding='valid'} and 'same' */
    const char *paddings[] = {"valid", "same"};
    const char *expected[] = {"(2, 13, 13, 16)", "(2, 14, 14, 16)"};
    const char *explanations[] = {
        "height: floor((28 - 3) / 2) + 1 = 13; width: floor((28 - 3) / 2) + 1 = 13; "
        "channels: filters = 16",
        "height: ceil(28 / 2) = 14; width: ceil(28 / 2) = 14; channels: filters = 16"};
    for (int i = 0; i < 2; i++) {
        nn_layer *strided = make_conv(16, 3, 3);
        harness_set_pair(strided, "strides", 2, 2);
        harness_set_choice(strided, "padding", paddings[i]);
        cr_assert_eq(nn_layer_finish(strided), NN_OK, "%s", nn_error_message());
        cr_assert_eq(nn_layer_call(strided, x, false, &y), NN_OK, "%s", nn_error_message());
        cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), expected[i]);
        cr_assert_str_eq(strided->explanation, explanations[i]);
        nn_tensor_free(y);
        nn_layer_release(strided);
    }
    nn_tensor_free(x);
}

Test(conv2d_layer, mnist_cnn_parameter_counts)
{
    /* SPEC §3: 320 and 18 496 parameters. */
    nn_layer *first = make_conv(32, 3, 3);
    cr_assert_eq(nn_layer_finish(first), NN_OK);
    nn_shape mnist = NN_SHAPE(-1, 28, 28, 1);
    cr_assert_eq(nn_layer_build(first, &mnist), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_count_params(first, true), 320);
    nn_layer *second = make_conv(64, 3, 3);
    cr_assert_eq(nn_layer_finish(second), NN_OK);
    nn_shape pooled = NN_SHAPE(-1, 14, 14, 32);
    cr_assert_eq(nn_layer_build(second, &pooled), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_count_params(second, true), 18496);
    nn_layer_release(first);
    nn_layer_release(second);
}

typedef struct layer_case {
    bool channels_first;
    int batch, height, width, channels, filters;
    int kernel[2], strides[2], dilation[2], groups;
    bool same, bias, training;
    nn_activation_kind activation;
} layer_case;

static const layer_case layer_cases[] = {
    /* first  B  H  W  C  F  kernel  strides dilation groups same bias train activation */
    {false, 3, 7, 5, 4, 6, {3, 2}, {1, 1}, {1, 1}, 1, true, true, true, NN_ACTIVATION_RELU},
    {true, 3, 7, 5, 4, 6, {3, 2}, {1, 1}, {1, 1}, 1, true, true, true, NN_ACTIVATION_RELU},
    {false, 1, 6, 7, 4, 8, {3, 3}, {2, 3}, {1, 1}, 2, false, false, true, NN_ACTIVATION_TANH},
    {true, 1, 6, 7, 4, 8, {3, 3}, {2, 3}, {1, 1}, 2, false, false, true, NN_ACTIVATION_TANH},
    {false, 3, 8, 6, 4, 4, {2, 3}, {1, 1}, {2, 3}, 4, true, true, true, NN_ACTIVATION_GELU},
    {true, 3, 8, 6, 4, 4, {2, 3}, {1, 1}, {2, 3}, 4, true, true, true, NN_ACTIVATION_GELU},
    {false, 3, 5, 7, 3, 5, {1, 1}, {1, 1}, {1, 1}, 1, false, true, true, NN_ACTIVATION_SOFTMAX},
    {true, 3, 5, 7, 3, 5, {3, 1}, {1, 2}, {1, 1}, 1, true, true, true, NN_ACTIVATION_SOFTMAX},
    {false, 3, 7, 5, 6, 6, {3, 2}, {3, 1}, {1, 1}, 3, true, true, true,
     NN_ACTIVATION_LEAKY_RELU},
    {true, 3, 7, 5, 6, 6, {3, 2}, {3, 1}, {1, 1}, 3, true, false, true, NN_ACTIVATION_SWISH},
    {false, 3, 7, 5, 4, 6, {2, 2}, {1, 1}, {3, 1}, 2, false, true, false,
     NN_ACTIVATION_SIGMOID},
    {true, 3, 7, 5, 4, 6, {2, 2}, {1, 1}, {3, 1}, 2, false, true, false, NN_ACTIVATION_GELU},
    {false, 1, 7, 5, 4, 6, {2, 2}, {2, 2}, {1, 1}, 1, true, true, false, NN_ACTIVATION_LINEAR},
    {true, 1, 7, 5, 4, 6, {2, 2}, {2, 2}, {1, 1}, 1, true, true, true, NN_ACTIVATION_LINEAR},
    /* 'same' lets the window be larger than the input, as in Keras. */
    {false, 2, 2, 3, 2, 3, {5, 4}, {1, 1}, {1, 1}, 1, true, true, true, NN_ACTIVATION_ELU},
};

static char *describe_layer_case(const layer_case *c, char *buf, size_t size)
{
    snprintf(buf, size,
             "%s B%d %dx%dx%d -> %d, kernel %dx%d, strides %dx%d, dilation %dx%d, groups %d, "
             "%s, %s, %s, %s",
             c->channels_first ? "channels_first" : "channels_last", c->batch, c->height,
             c->width, c->channels, c->filters, c->kernel[0], c->kernel[1], c->strides[0],
             c->strides[1], c->dilation[0], c->dilation[1], c->groups,
             c->same ? "same" : "valid", c->bias ? "bias" : "no bias",
             c->training ? "training" : "inference", nn_activation_name(c->activation));
    return buf;
}

static nn_layer *make_layer_for_case(const layer_case *c)
{
    nn_layer *layer = make_conv(c->filters, c->kernel[0], c->kernel[1]);
    harness_set_pair(layer, "strides", c->strides[0], c->strides[1]);
    harness_set_pair(layer, "dilation_rate", c->dilation[0], c->dilation[1]);
    harness_set_int(layer, "groups", c->groups);
    harness_set_choice(layer, "padding", c->same ? "same" : "valid");
    harness_set_choice(layer, "data_format", c->channels_first ? "channels_first" : "channels_last");
    harness_set_bool(layer, "use_bias", c->bias);
    harness_set_activation(layer, nn_activation_default(c->activation));
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* What the layer should compute, in double: conv in channels-last, then the layout of
 * the case, then the activation over the last axis of that layout (Keras). */
typedef struct layer_expectation {
    nn_conv2d_geometry geometry;
    size_t in_count, out_count, kernel_count;
    double *preactivation, *output;      /* output layout */
    double *dinput, *dkernel, *dbias;    /* input layout */
} layer_expectation;

static void expect_layer(layer_expectation *e, const layer_case *c, const float *input,
                         const float *kernel, const float *bias, const float *doutput,
                         bool doutput_is_preactivation)
{
    conv_case shape = {.batch = c->batch, .height = c->height, .width = c->width,
                       .channels = c->channels, .filters = c->filters,
                       .kernel_height = c->kernel[0], .kernel_width = c->kernel[1],
                       .stride_height = c->strides[0], .stride_width = c->strides[1],
                       .dilation_height = c->dilation[0], .dilation_width = c->dilation[1],
                       .groups = c->groups, .same = c->same};
    cr_assert(case_geometry(&shape, &e->geometry));
    const nn_conv2d_geometry *g = &e->geometry;
    e->in_count = (size_t)c->batch * (size_t)c->height * (size_t)c->width * (size_t)c->channels;
    e->out_count = (size_t)c->batch * (size_t)g->out_height * (size_t)g->out_width *
                   (size_t)c->filters;
    e->kernel_count = (size_t)c->kernel[0] * (size_t)c->kernel[1] *
                      (size_t)(c->channels / c->groups) * (size_t)c->filters;
    int in_spatial = c->height * c->width, out_spatial = g->out_height * g->out_width;
    double *inp = checked_calloc(e->in_count, sizeof(double));
    double *inp_last = checked_calloc(e->in_count, sizeof(double));
    double *weights = checked_calloc(e->kernel_count, sizeof(double));
    double *offsets = checked_calloc((size_t)c->filters, sizeof(double));
    double *out_last = checked_calloc(e->out_count, sizeof(double));
    ts_to_double(inp, input, e->in_count);
    ts_to_double(weights, kernel, e->kernel_count);
    if (c->bias)
        ts_to_double(offsets, bias, (size_t)c->filters);
    if (c->channels_first)
        ref_to_channels_last(inp_last, inp, c->batch, c->channels, in_spatial);
    else
        memcpy(inp_last, inp, e->in_count * sizeof(double));
    ref_conv2d_forward(out_last, inp_last, weights, c->bias ? offsets : NULL, g);
    e->preactivation = checked_calloc(e->out_count, sizeof(double));
    e->output = checked_calloc(e->out_count, sizeof(double));
    if (c->channels_first)
        ref_to_channels_first(e->preactivation, out_last, c->batch, c->filters, out_spatial);
    else
        memcpy(e->preactivation, out_last, e->out_count * sizeof(double));
    size_t axis = c->channels_first ? (size_t)g->out_width : (size_t)c->filters;
    nn_activation activation = nn_activation_default(c->activation);
    ref_activation_forward(activation, e->output, e->preactivation, e->out_count, axis);

    e->dinput = checked_calloc(e->in_count, sizeof(double));
    e->dkernel = checked_calloc(e->kernel_count, sizeof(double));
    e->dbias = checked_calloc((size_t)c->filters, sizeof(double));
    if (doutput) {
        double *dy = checked_calloc(e->out_count, sizeof(double));
        double *dz = checked_calloc(e->out_count, sizeof(double));
        double *dz_last = checked_calloc(e->out_count, sizeof(double));
        double *dinp_last = checked_calloc(e->in_count, sizeof(double));
        ts_to_double(dy, doutput, e->out_count);
        if (doutput_is_preactivation)
            memcpy(dz, dy, e->out_count * sizeof(double));
        else
            ref_activation_backward(activation, dz, dy, e->preactivation, e->out_count, axis);
        if (c->channels_first)
            ref_to_channels_last(dz_last, dz, c->batch, c->filters, out_spatial);
        else
            memcpy(dz_last, dz, e->out_count * sizeof(double));
        ref_conv2d_backward(dinp_last, e->dkernel, e->dbias, dz_last, inp_last, weights, g);
        if (c->channels_first)
            ref_to_channels_first(e->dinput, dinp_last, c->batch, c->channels, in_spatial);
        else
            memcpy(e->dinput, dinp_last, e->in_count * sizeof(double));
        free(dy);
        free(dz);
        free(dz_last);
        free(dinp_last);
    }
    free(inp);
    free(inp_last);
    free(weights);
    free(offsets);
    free(out_last);
}

static void expectation_free(layer_expectation *e)
{
    free(e->preactivation);
    free(e->output);
    free(e->dinput);
    free(e->dkernel);
    free(e->dbias);
}

static nn_shape case_input_shape(const layer_case *c)
{
    return c->channels_first ? NN_SHAPE(c->batch, c->channels, c->height, c->width)
                             : NN_SHAPE(c->batch, c->height, c->width, c->channels);
}

/* Builds the layer and overwrites its weights with known random numbers (the
 * initializers are tested elsewhere). */
static void build_with_weights(nn_layer *layer, const nn_shape *input_shape, uint64_t seed)
{
    cr_assert_eq(nn_layer_build(layer, input_shape), NN_OK, "%s", nn_error_message());
    for (int i = 0; i < layer->param_count; i++)
        ts_fill_uniform(nn_tensor_f32(layer->params[i].value),
                        nn_tensor_count(layer->params[i].value), seed + (uint64_t)i, -1.0f,
                        1.0f);
}

Test(conv2d_layer, forward_and_backward_match_reference_in_both_data_formats)
{
    worst_tracker output_tracker = {0}, dinput_tracker = {0}, dkernel_tracker = {0},
                  dbias_tracker = {0};
    int count = (int)(sizeof layer_cases / sizeof layer_cases[0]);
    for (int i = 0; i < count; i++) {
        const layer_case *c = &layer_cases[i];
        char where[256];
        describe_layer_case(c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(c);
        nn_shape input_shape = case_input_shape(c);
        build_with_weights(layer, &input_shape, 300 + (uint64_t)i);
        cr_assert_eq(layer->param_count, c->bias ? 2 : 1, "%s", where);
        nn_tensor *input = random_tensor(&input_shape, 400 + (uint64_t)i);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, c->training, NULL), NN_OK, "%s: %s",
                     where, nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 500 + (uint64_t)i);
        const float *bias = c->bias ? nn_tensor_f32(layer->params[1].value) : NULL;
        layer_expectation e;
        expect_layer(&e, c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value), bias,
                     c->training ? nn_tensor_f32(doutput) : NULL, false);
        track(&output_tracker,
              ts_compare(nn_tensor_f32(run.output), e.output, e.out_count, KERNEL_ATOL,
                         KERNEL_RTOL),
              where);
        if (c->training) {
            nn_tensor *dinput = harness_tensor(&input_shape, NULL);
            cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK,
                         "%s: %s", where, nn_error_message());
            track(&dinput_tracker,
                  ts_compare(nn_tensor_f32(dinput), e.dinput, e.in_count, KERNEL_ATOL,
                             KERNEL_RTOL),
                  where);
            track(&dkernel_tracker,
                  ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel, e.kernel_count,
                             KERNEL_ATOL, KERNEL_RTOL),
                  where);
            if (c->bias)
                track(&dbias_tracker,
                      ts_compare(nn_tensor_f32(layer->params[1].grad), e.dbias,
                                 (size_t)c->filters, KERNEL_ATOL, KERNEL_RTOL),
                      where);
            nn_tensor_free(dinput);
        }
        expectation_free(&e);
        nn_tensor_free(doutput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
    report_and_assert("Conv2D layer forward vs reference", &output_tracker);
    report_and_assert("Conv2D layer dinput vs reference", &dinput_tracker);
    report_and_assert("Conv2D layer dkernel vs reference", &dkernel_tracker);
    report_and_assert("Conv2D layer dbias vs reference", &dbias_tracker);
}

/* As the model's last layer: forward hands out the logits (pre-activation), and
 * backward receives a gradient already taken through the activation. */
Test(conv2d_layer, last_layer_gives_logits_and_takes_preactivation_gradient)
{
    for (int first = 0; first < 2; first++) {
        layer_case c = {first, 2, 6, 5, 4, 6, {3, 3}, {1, 1}, {1, 1}, 2, true, true, true,
                        NN_ACTIVATION_SOFTMAX};
        char where[256];
        describe_layer_case(&c, where, sizeof where);
        nn_layer *layer = make_layer_for_case(&c);
        nn_shape input_shape = case_input_shape(&c);
        build_with_weights(layer, &input_shape, 42);
        nn_tensor *input = random_tensor(&input_shape, 43);
        size_t out_count = (size_t)2 * 6 * 5 * 6;
        float *logits = checked_calloc(out_count, sizeof(float));
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, logits), NN_OK, "%s",
                     nn_error_message());
        nn_tensor *doutput = random_tensor(&run.output->shape, 44);
        nn_tensor *dinput = harness_tensor(&input_shape, NULL);
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, true), NN_OK, "%s",
                     nn_error_message());
        layer_expectation e;
        expect_layer(&e, &c, nn_tensor_f32(input), nn_tensor_f32(layer->params[0].value),
                     nn_tensor_f32(layer->params[1].value), nn_tensor_f32(doutput), true);
        ts_comparison checks[] = {
            ts_compare(logits, e.preactivation, e.out_count, KERNEL_ATOL, KERNEL_RTOL),
            ts_compare(nn_tensor_f32(run.output), e.output, e.out_count, KERNEL_ATOL,
                       KERNEL_RTOL),
            ts_compare(nn_tensor_f32(dinput), e.dinput, e.in_count, KERNEL_ATOL, KERNEL_RTOL),
            ts_compare(nn_tensor_f32(layer->params[0].grad), e.dkernel, e.kernel_count,
                       KERNEL_ATOL, KERNEL_RTOL)};
        const char *names[] = {"logits", "output", "dinput", "dkernel"};
        for (int i = 0; i < 4; i++)
            cr_assert(checks[i].ok, "%s: %s off by %.3e (expected %.9g, got %.9g)", where,
                      names[i], checks[i].worst_error, checks[i].expected, checks[i].actual);
        expectation_free(&e);
        free(logits);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

/* ---- errors ---- */

Test(conv2d_errors, zero_or_negative_sizes_are_rejected_by_validate)
{
    struct {
        const char *arg;
        int first, second;
        const char *shown;
    } bad[] = {{"strides", 0, 1, "strides=(0, 1)"},
               {"kernel_size", 3, 0, "kernel_size=(3, 0)"},
               {"dilation_rate", -1, 1, "dilation_rate=(-1, 1)"},
               {"filters", 0, 0, "filters=0"},
               {"groups", -2, 0, "groups=-2"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_layer *layer = make_conv(8, 3, 3);
        const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, bad[i].arg);
        if (spec->kind == NN_ARG_PAIR)
            harness_set_pair(layer, bad[i].arg, bad[i].first, bad[i].second);
        else
            harness_set_int(layer, bad[i].arg, bad[i].first);
        cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT, "%s accepted", bad[i].shown);
        ASSERT_MENTIONS(nn_error_message(), "conv2d", bad[i].shown, "out of range",
                        "must be >= 1");
        nn_layer_release(layer);
    }
}

Test(conv2d_errors, filters_must_divide_into_groups)
{
    nn_layer *layer = make_conv(6, 3, 3);
    harness_set_int(layer, "groups", 4);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "conv2d", "filters must be evenly divisible",
                    "groups=4", "filters=6");
    nn_layer_release(layer);
}

Test(conv2d_errors, input_channels_must_divide_into_groups)
{
    nn_layer *layer = make_conv(4, 3, 3);
    harness_set_int(layer, "groups", 2);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 28, 28, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "conv2d",
                    "number of input channels must be evenly divisible", "groups=2",
                    "3 channels", "(None, 28, 28, 3)");
    cr_assert(!layer->built);
    nn_layer_release(layer);
}

Test(conv2d_errors, strides_with_dilation_are_rejected)
{
    nn_layer *layer = make_conv(4, 3, 3);
    harness_set_pair(layer, "strides", 2, 1);
    harness_set_pair(layer, "dilation_rate", 1, 2);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "conv2d", "strides > 1", "dilation_rate > 1",
                    "strides=(2, 1)", "dilation_rate=(1, 2)");
    nn_layer_release(layer);
}

Test(conv2d_errors, wrong_rank_names_expected_and_received)
{
    nn_layer *layer = make_conv(4, 3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(2, 28, 28);
    nn_tensor *x = harness_tensor(&input, NULL);
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_ERR_SHAPE);
    cr_assert_null(y);
    ASSERT_MENTIONS(nn_error_message(), "conv2d", "expected ndim=4", "found ndim=3",
                    "(None, 28, 28)");
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(conv2d_errors, unknown_spatial_size_is_rejected)
{
    nn_layer *layer = make_conv(4, 3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, -1, 28, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "conv2d", "known positive size", "(None, None, 28, 3)");
    nn_layer_release(layer);
}

Test(conv2d_errors, kernel_larger_than_valid_input_gives_no_output)
{
    nn_layer *layer = make_conv(4, 3, 3);
    snprintf(layer->name, sizeof layer->name, "conv2d_3");
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape input = NN_SHAPE(-1, 2, 5, 1);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(),
                    "One of the dimensions in the output is <= 0 due to downsampling in "
                    "conv2d_3. Consider increasing the input size.",
                    "(None, 2, 5, 1)", "kernel_size=(3, 3)", "height: floor((2 - 3) / 1) + 1");
    nn_layer_release(layer);

    /* A dilated kernel spans more than its size: 3 taps at rate 3 cover 7 cells. */
    layer = make_conv(4, 3, 1);
    harness_set_pair(layer, "dilation_rate", 3, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape six = NN_SHAPE(-1, 6, 6, 1);
    cr_assert_eq(nn_layer_build(layer, &six), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "<= 0", "dilated window 3 + (3 - 1)*(3 - 1) = 7");
    nn_layer_release(layer);
}

Test(conv2d_errors, built_layer_rejects_a_different_input_shape)
{
    nn_layer *layer = make_conv(4, 3, 3);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape first = NN_SHAPE(1, 8, 8, 3);
    nn_tensor *x = harness_tensor(&first, NULL);
    nn_tensor *y = NULL;
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    nn_tensor_free(y);
    nn_tensor_free(x);
    nn_shape second = NN_SHAPE(1, 8, 8, 4);
    x = harness_tensor(&second, NULL);
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "conv2d", "(None, 8, 8, 3)", "(1, 8, 8, 4)");
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(conv2d_errors, sizes_whose_product_overflows_fail_cleanly)
{
    /* 2^20 · 2^20 · 3 · 2^30 weights overflows even int64: build must say so, not wrap
     * around into a small allocation or try to allocate exabytes. */
    nn_layer *layer = make_conv(1 << 30, 1 << 20, 1 << 20);
    harness_set_choice(layer, "padding", "same");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape input = NN_SHAPE(-1, 4, 4, 3);
    cr_assert_eq(nn_layer_build(layer, &input), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "kernel (1048576, 1048576, 3, 1073741824)",
                    "more than");
    cr_assert_eq(layer->param_count, 0);
    nn_layer_release(layer);

    /* An output sample past 2^31 elements: 65536 × 65536 × 1 input, 2 filters. */
    layer = make_conv(2, 1, 1);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape huge = NN_SHAPE(-1, 65536, 65536, 1);
    cr_assert_eq(nn_layer_build(layer, &huge), NN_ERR_MEMORY);
    ASSERT_MENTIONS(nn_error_message(), "one sample of input (None, 65536, 65536, 1)", "more than");
    nn_layer_release(layer);
}
