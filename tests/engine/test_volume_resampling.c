/* ZeroPadding3D, Cropping3D, UpSampling3D and SpatialDropout3D: each forward against a
 * naive reference that indexes every cell of the volume from its definition (both
 * layouts, odd sizes, asymmetric sides), each backward as the exact adjoint of its
 * forward and by a finite difference, the shapes, explanations and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_harness.h"
#include "layers/layers.h"
#include "test_support.h"

/* Sizes of a volume batch: batch, depth/height/width, channels, and its layout. */
typedef struct volume {
    int64_t batch, size[3], channels;
    bool channels_first;
} volume;

static nn_shape shape_of(const volume *v)
{
    return v->channels_first
               ? NN_SHAPE(v->batch, v->channels, v->size[0], v->size[1], v->size[2])
               : NN_SHAPE(v->batch, v->size[0], v->size[1], v->size[2], v->channels);
}

static size_t count_of(const volume *v)
{
    return (size_t)(v->batch * v->size[0] * v->size[1] * v->size[2] * v->channels);
}

/* Element (b, d, h, w, c) of a batch of v, in its layout. */
static size_t at(const volume *v, int64_t b, const int64_t p[3], int64_t c)
{
    if (v->channels_first)
        return (size_t)((((b * v->channels + c) * v->size[0] + p[0]) * v->size[1] + p[1]) *
                            v->size[2] + p[2]);
    return (size_t)((((b * v->size[0] + p[0]) * v->size[1] + p[1]) * v->size[2] + p[2]) *
                        v->channels + c);
}

static double dot(const float *a, const float *b, size_t n)
{
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += (double)a[i] * (double)b[i];
    return total;
}

/* How output cell p of a layer reads its input: the input cell (false when outside, a
 * padded zero). */
typedef bool (*reads_fn)(const int *arg, const volume *in, const int64_t p[3], int64_t q[3]);

/* Padding by sides {front, back, top, bottom, left, right}: cell p reads p - before. */
static bool padding_reads(const int *sides, const volume *in, const int64_t p[3], int64_t q[3])
{
    bool inside = true;
    for (int axis = 0; axis < 3; axis++) {
        q[axis] = p[axis] - sides[2 * axis];
        inside = inside && q[axis] >= 0 && q[axis] < in->size[axis];
    }
    return inside;
}

/* Cropping: cell p reads p + before. */
static bool cropping_reads(const int *sides, const volume *in, const int64_t p[3], int64_t q[3])
{
    (void)in;
    for (int axis = 0; axis < 3; axis++)
        q[axis] = p[axis] + sides[2 * axis];
    return true;
}

/* Nearest upsampling by size {d, h, w}: cell p reads p / size. */
static bool upsampling_reads(const int *size, const volume *in, const int64_t p[3],
                             int64_t q[3])
{
    (void)in;
    for (int axis = 0; axis < 3; axis++)
        q[axis] = p[axis] / size[axis];
    return true;
}

/* The reference forward in double, and the reference backward: every output cell's
 * gradient added to the input cell it reads. */
static void reference(double *out, double *din, const float *x, const float *dy,
                      const volume *in, const volume *o, reads_fn reads, const int *arg)
{
    for (size_t i = 0; i < count_of(in); i++)
        din[i] = 0.0;
    for (int64_t b = 0; b < o->batch; b++)
        for (int64_t c = 0; c < o->channels; c++) {
            int64_t p[3], q[3];
            for (p[0] = 0; p[0] < o->size[0]; p[0]++)
                for (p[1] = 0; p[1] < o->size[1]; p[1]++)
                    for (p[2] = 0; p[2] < o->size[2]; p[2]++) {
                        size_t target = at(o, b, p, c);
                        if (!reads(arg, in, p, q)) {
                            out[target] = 0.0;
                            continue;
                        }
                        size_t source = at(in, b, q, c);
                        out[target] = x[source];
                        din[source] += dy[target];
                    }
        }
}

static nn_layer *make_layer(const nn_layer_class *cls, const char *arg_name, const int *values,
                            int count, bool channels_first)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    int *arg = harness_arg(layer, arg_name);
    for (int i = 0; i < count; i++)
        arg[i] = values[i];
    harness_set_choice(layer, "data_format", channels_first ? "channels_first" : "channels_last");
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

typedef struct layer_case {
    const nn_layer_class *cls;
    int arg[6];
    volume in;
    int64_t out_size[3];
} layer_case;

/* Runs each case: forward against the reference, backward against the reference's
 * gradient, the adjoint identity, and one input cell moved by a finite step. */
static void check_cases(const layer_case *cases, size_t n_cases)
{
    for (size_t k = 0; k < n_cases; k++) {
        const layer_case *lc = &cases[k];
        bool upsampling = lc->cls == &nn_upsampling3d_class;
        const char *arg_name = upsampling                         ? "size"
                               : lc->cls == &nn_cropping3d_class ? "cropping"
                                                                 : "padding";
        reads_fn reads = upsampling                         ? upsampling_reads
                         : lc->cls == &nn_cropping3d_class ? cropping_reads
                                                           : padding_reads;
        nn_layer *layer = make_layer(lc->cls, arg_name, lc->arg, upsampling ? 3 : 6,
                                     lc->in.channels_first);
        volume out = lc->in;
        for (int axis = 0; axis < 3; axis++)
            out.size[axis] = lc->out_size[axis];
        nn_shape in_shape = shape_of(&lc->in), out_shape = shape_of(&out);
        size_t in_n = count_of(&lc->in), out_n = count_of(&out);
        nn_tensor *x = harness_tensor(&in_shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), in_n, 100 + k, -1, 1);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "case %zu: %s", k,
                     nn_error_message());
        cr_assert(nn_shape_equal(&run.output->shape, &out_shape), "case %zu: output shape", k);

        nn_tensor *dy = harness_tensor(&out_shape, NULL), *dx = harness_tensor(&in_shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), out_n, 200 + k, -1, 1);
        double *expected = malloc(out_n * sizeof *expected);
        double *expected_dx = malloc(in_n * sizeof *expected_dx);
        reference(expected, expected_dx, nn_tensor_f32(x), nn_tensor_f32(dy), &lc->in, &out,
                  reads, lc->arg);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), expected, out_n, 0, 0);
        cr_expect(forward.ok, "case %zu (%s) forward: element %zu is %.9g, expected %.9g", k,
                  lc->cls->name, forward.worst_index,
                  (double)nn_tensor_f32(run.output)[forward.worst_index],
                  expected[forward.worst_index]);

        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s",
                     nn_error_message());
        ts_comparison backward = ts_compare(nn_tensor_f32(dx), expected_dx, in_n, 1e-6, 1e-6);
        cr_expect(backward.ok, "case %zu (%s) backward: element %zu is %.9g, expected %.9g", k,
                  lc->cls->name, backward.worst_index,
                  (double)nn_tensor_f32(dx)[backward.worst_index],
                  expected_dx[backward.worst_index]);
        double outputs = dot(nn_tensor_f32(run.output), nn_tensor_f32(dy), out_n);
        double inputs = dot(nn_tensor_f32(x), nn_tensor_f32(dx), in_n);
        cr_expect(fabs(outputs - inputs) <= 1e-6 * (1.0 + fabs(outputs)),
                  "case %zu adjoint: <dy, forward x> = %.12g, <backward dy, x> = %.12g", k,
                  outputs, inputs);

        /* A finite step in one input cell moves sum(dy · y) by its gradient. */
        size_t probe = in_n / 3;
        nn_tensor_f32(x)[probe] += 0.5f;
        harness_run moved;
        cr_assert_eq(harness_forward(&moved, layer, x, true, NULL), NN_OK);
        double change = (dot(nn_tensor_f32(moved.output), nn_tensor_f32(dy), out_n) - outputs) / 0.5;
        cr_expect(fabs(change - nn_tensor_f32(dx)[probe]) <= 1e-5,
                  "case %zu: cell %zu's gradient %.9g, the loss moved by %.9g", k, probe,
                  (double)nn_tensor_f32(dx)[probe], change);

        free(expected), free(expected_dx);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run), harness_run_free(&moved);
        nn_layer_release(layer);
    }
}

Test(volume_resampling, padding_and_cropping_match_the_reference_in_both_layouts)
{
    const layer_case cases[] = {
        {&nn_zero_padding3d_class, {1, 1, 1, 1, 1, 1}, {2, {3, 4, 5}, 3, false}, {5, 6, 7}},
        {&nn_zero_padding3d_class, {2, 0, 0, 3, 1, 2}, {2, {3, 5, 1}, 2, false}, {5, 8, 4}},
        {&nn_zero_padding3d_class, {0, 1, 2, 0, 0, 0}, {3, {1, 3, 3}, 1, false}, {2, 5, 3}},
        {&nn_zero_padding3d_class, {1, 2, 3, 0, 0, 1}, {2, {3, 2, 5}, 3, true}, {6, 5, 6}},
        {&nn_zero_padding3d_class, {0, 0, 0, 0, 0, 0}, {1, {2, 3, 4}, 2, true}, {2, 3, 4}},
        {&nn_cropping3d_class, {1, 1, 1, 1, 1, 1}, {2, {5, 4, 3}, 3, false}, {3, 2, 1}},
        {&nn_cropping3d_class, {2, 0, 0, 3, 1, 2}, {2, {5, 7, 6}, 2, false}, {3, 4, 3}},
        {&nn_cropping3d_class, {0, 1, 1, 0, 2, 0}, {3, {3, 3, 5}, 1, true}, {2, 2, 3}},
        {&nn_cropping3d_class, {1, 0, 0, 0, 0, 3}, {2, {2, 1, 7}, 3, true}, {1, 1, 4}},
        /* Large enough for the CPU kernels' parallel loops. */
        {&nn_zero_padding3d_class, {1, 2, 0, 1, 3, 0}, {4, {9, 10, 11}, 5, false}, {12, 11, 14}},
        {&nn_cropping3d_class, {1, 2, 0, 1, 3, 0}, {4, {9, 10, 11}, 5, true}, {6, 9, 8}},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

Test(volume_resampling, upsampling_repeats_each_cell_over_its_block_in_both_layouts)
{
    const layer_case cases[] = {
        {&nn_upsampling3d_class, {2, 2, 2}, {2, {3, 4, 5}, 3, false}, {6, 8, 10}},
        {&nn_upsampling3d_class, {3, 1, 2}, {2, {1, 3, 5}, 2, false}, {3, 3, 10}},
        {&nn_upsampling3d_class, {1, 3, 1}, {3, {3, 1, 3}, 1, true}, {3, 3, 3}},
        {&nn_upsampling3d_class, {2, 1, 3}, {2, {3, 5, 1}, 3, true}, {6, 5, 3}},
        {&nn_upsampling3d_class, {1, 1, 1}, {1, {2, 3, 4}, 2, false}, {2, 3, 4}},
        {&nn_upsampling3d_class, {2, 3, 2}, {2, {7, 9, 5}, 6, false}, {14, 27, 10}},
    };
    check_cases(cases, sizeof cases / sizeof cases[0]);
}

static nn_status build_on(const nn_layer_class *cls, const char *arg_name, const int *values,
                          int count, nn_shape input, nn_layer **layer)
{
    cr_assert_eq(nn_layer_create(layer, cls), NN_OK);
    if (arg_name) {
        int *arg = harness_arg(*layer, arg_name);
        for (int i = 0; i < count; i++)
            arg[i] = values[i];
    }
    cr_assert_eq(nn_layer_finish(*layer), NN_OK, "%s", nn_error_message());
    return nn_layer_build(*layer, &input);
}

Test(volume_resampling, defaults_shapes_explanations_and_errors)
{
    /* Keras' defaults: one on every side, size 2 on every axis. */
    nn_layer *layer;
    cr_assert_eq(build_on(&nn_zero_padding3d_class, NULL, NULL, 0, NN_SHAPE(-1, 2, 3, 4, 5),
                          &layer), NN_OK);
    nn_shape padded = NN_SHAPE(-1, 4, 5, 6, 5);
    cr_expect(nn_shape_equal(&layer->output_shape, &padded));
    ASSERT_MENTIONS(layer->explanation, "depth: 2 + 1 + 1 = 4", "height: 3 + 1 + 1 = 5",
                    "width: 4 + 1 + 1 = 6", "channels: 5 (unchanged)");
    nn_layer_release(layer);
    cr_assert_eq(build_on(&nn_cropping3d_class, NULL, NULL, 0, NN_SHAPE(-1, 3, 4, 5, 2),
                          &layer), NN_OK);
    nn_shape cropped = NN_SHAPE(-1, 1, 2, 3, 2);
    cr_expect(nn_shape_equal(&layer->output_shape, &cropped));
    ASSERT_MENTIONS(layer->explanation, "depth: 3 - 1 - 1 = 1");
    nn_layer_release(layer);
    cr_assert_eq(build_on(&nn_upsampling3d_class, NULL, NULL, 0, NN_SHAPE(-1, 1, 2, 3, 4),
                          &layer), NN_OK);
    nn_shape upsampled = NN_SHAPE(-1, 2, 4, 6, 4);
    cr_expect(nn_shape_equal(&layer->output_shape, &upsampled));
    ASSERT_MENTIONS(layer->explanation, "depth: 1 * 2 = 2", "width: 3 * 2 = 6");
    nn_layer_release(layer);

    /* A cropping that leaves nothing of an axis names it and what stays of each. */
    const int too_deep[6] = {2, 1, 0, 0, 0, 0};
    cr_expect_eq(build_on(&nn_cropping3d_class, "cropping", too_deep, 6,
                          NN_SHAPE(-1, 3, 4, 5, 2), &layer), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "cropping ((2, 1), (0, 0), (0, 0))",
                    "removes every slice of input (None, 3, 4, 5, 2)", "keeps 0 of 3 slices",
                    "4 of 4 rows", "5 of 5 columns");
    nn_layer_release(layer);
    const int too_wide[6] = {0, 0, 0, 0, 3, 3};
    cr_expect_eq(build_on(&nn_cropping3d_class, "cropping", too_wide, 6,
                          NN_SHAPE(-1, 3, 4, 5, 2), &layer), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "removes every column", "0 of 5 columns");
    nn_layer_release(layer);

    /* Images are not volumes: every class says what it expected. */
    const nn_layer_class *classes[] = {&nn_zero_padding3d_class, &nn_cropping3d_class,
                                       &nn_upsampling3d_class, &nn_spatial_dropout3d_class};
    for (size_t k = 0; k < sizeof classes / sizeof classes[0]; k++) {
        cr_assert_eq(nn_layer_create(&layer, classes[k]), NN_OK);
        if (classes[k] == &nn_spatial_dropout3d_class)
            *(float *)harness_arg(layer, "rate") = 0.5f;
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape image = NN_SHAPE(-1, 8, 8, 3);
        cr_expect_eq(nn_layer_build(layer, &image), NN_ERR_SHAPE, "%s", classes[k]->name);
        ASSERT_MENTIONS(nn_error_message(), "expected ndim=5",
                        "(batch, depth, height, width, channels)", "found ndim=4",
                        "(None, 8, 8, 3)");
        nn_layer_release(layer);
    }
}

/* SpatialDropout3D: every channel of every volume kept whole (scaled by 1/(1 - rate)) or
 * dropped whole; the gradient follows the same mask. */
Test(volume_resampling, spatial_dropout3d_drops_whole_channels)
{
    const float rate = 0.5f;
    for (int first = 0; first < 2; first++) {
        nn_layer *layer;
        cr_assert_eq(nn_layer_create(&layer, &nn_spatial_dropout3d_class), NN_OK);
        *(float *)harness_arg(layer, "rate") = rate;
        harness_set_choice(layer, "data_format", first ? "channels_first" : "channels_last");
        cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
        volume v = {4, {3, 2, 5}, 16, first};
        nn_shape shape = shape_of(&v);
        size_t n = count_of(&v);
        nn_tensor *x = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), n, 7, 0.5f, 1.5f); /* never 0 */
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        nn_tensor *dy = harness_tensor(&shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), n, 8, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
        const float *in = nn_tensor_f32(x), *out = nn_tensor_f32(run.output);
        const float *grad_out = nn_tensor_f32(dy), *grad_in = nn_tensor_f32(dx);
        int dropped = 0;
        for (int64_t b = 0; b < v.batch; b++)
            for (int64_t c = 0; c < v.channels; c++) {
                int64_t origin[3] = {0, 0, 0}, p[3];
                bool kept = out[at(&v, b, origin, c)] != 0.0f;
                dropped += !kept;
                for (p[0] = 0; p[0] < v.size[0]; p[0]++)
                    for (p[1] = 0; p[1] < v.size[1]; p[1]++)
                        for (p[2] = 0; p[2] < v.size[2]; p[2]++) {
                            size_t i = at(&v, b, p, c);
                            float scale = kept ? 1.0f / (1.0f - rate) : 0.0f;
                            cr_expect_eq(out[i], in[i] * scale,
                                         "%s: volume %lld channel %lld is %s at cell %zu",
                                         first ? "channels_first" : "channels_last",
                                         (long long)b, (long long)c, kept ? "kept" : "dropped", i);
                            cr_expect_eq(grad_in[i], grad_out[i] * scale, "gradient at %zu", i);
                        }
            }
        /* 64 channels at rate 0.5: all kept or all dropped would be a broken mask. */
        cr_expect(dropped > 10 && dropped < 54, "dropped %d of 64 channels", dropped);

        /* In inference the layer passes its input through. */
        harness_run inference;
        cr_assert_eq(harness_forward(&inference, layer, x, false, NULL), NN_OK);
        for (size_t i = 0; i < n; i++)
            cr_expect_eq(nn_tensor_f32(inference.output)[i], in[i]);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run), harness_run_free(&inference);
        nn_layer_release(layer);
    }
}
