/* Flatten: the seed's example, both data formats against a naive reference (forward,
 * and backward against finite differences of that reference), and rank errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_layers.h"

/* Flatten only moves values: forward and backward must be exact. */
static const double EXACT = 1e-30;
static const double GRADCHECK_ATOL = 1e-5, GRADCHECK_RTOL = 1e-3, GRADCHECK_EPS = 1e-6;

static nn_layer *make_flatten(const char *data_format)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_flatten_class), NN_OK);
    harness_set_choice(layer, "data_format", data_format);
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    return layer;
}

Test(flatten_layer, seed_example)
{
    nn_layer *layer = make_flatten("channels_last");
    nn_shape shape = NN_SHAPE(2, 4, 4, 3);
    nn_tensor *x = harness_tensor(&shape, NULL), *y = NULL;
    ts_fill_uniform(nn_tensor_f32(x), 96, 1, -1.0f, 1.0f);
    cr_assert_eq(nn_layer_call(layer, x, false, &y), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&y->shape, text, sizeof text), "(2, 48)");
    cr_assert(memcmp(nn_tensor_f32(y), nn_tensor_f32(x), 96 * sizeof(float)) == 0,
              "channels_last flattening keeps the memory order");
    cr_assert_str_eq(layer->explanation, "features: 4 * 4 * 3 = 48");
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_layer_release(layer);
}

typedef struct flatten_objective {
    int batch;
    const int *dims;
    int ndim, channels_first;
    const double *dout;
    double *out;
    size_t count;
} flatten_objective;

static double flatten_objective_value(const double *x, size_t n, void *context)
{
    (void)n;
    flatten_objective *objective = context;
    ref_flatten_forward(objective->out, x, objective->batch, objective->dims,
                        objective->ndim, objective->channels_first);
    double total = 0.0;
    for (size_t i = 0; i < objective->count; i++)
        total += objective->dout[i] * objective->out[i];
    return total;
}

Test(flatten_layer, both_data_formats_match_reference_forward_and_backward)
{
    struct {
        int dims[4];
        int ndim;
        const char *data_format;
    } cases[] = {
        {{4, 4, 3}, 3, "channels_last"}, {{3, 4, 5}, 3, "channels_first"},
        {{2, 3, 2, 3}, 4, "channels_first"}, {{7}, 1, "channels_first"},
    };
    const int batch = 2;
    for (int i = 0; i < 4; i++) {
        int channels_first = strcmp(cases[i].data_format, "channels_first") == 0;
        int64_t dims[5] = {batch};
        size_t features = 1;
        for (int a = 0; a < cases[i].ndim; a++) {
            dims[a + 1] = cases[i].dims[a];
            features *= (size_t)cases[i].dims[a];
        }
        size_t count = (size_t)batch * features;
        nn_layer *layer = make_flatten(cases[i].data_format);
        nn_shape shape = nn_shape_from(dims, cases[i].ndim + 1);
        nn_tensor *input = harness_tensor(&shape, NULL);
        nn_tensor *dinput = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(input), count, 10 + (uint64_t)i, -1.0f, 1.0f);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, input, true, NULL), NN_OK, "%s",
                     nn_error_message());
        cr_assert_eq(run.output->shape.ndim, 2);
        cr_assert_eq(run.output->shape.dims[1], (int64_t)features);
        nn_tensor *doutput = harness_tensor(&run.output->shape, NULL);
        ts_fill_uniform(nn_tensor_f32(doutput), count, 20 + (uint64_t)i, -1.0f, 1.0f);
        cr_assert_eq(harness_backward(&run, layer, input, doutput, dinput, false), NN_OK);

        double *x = calloc(count, sizeof(double)), *y = calloc(count, sizeof(double));
        double *dout = calloc(count, sizeof(double)), *numeric = calloc(count, sizeof(double));
        double *scratch = calloc(count, sizeof(double));
        cr_assert(x && y && dout && numeric && scratch);
        ts_to_double(x, nn_tensor_f32(input), count);
        ts_to_double(dout, nn_tensor_f32(doutput), count);
        ref_flatten_forward(y, x, batch, cases[i].dims, cases[i].ndim, channels_first);
        /* Flatten is linear, so central differences give its gradient to rounding. */
        flatten_objective objective = {batch, cases[i].dims, cases[i].ndim, channels_first,
                                       dout, scratch, count};
        ts_numeric_gradient(flatten_objective_value, &objective, x, count, GRADCHECK_EPS,
                            numeric);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y, count, EXACT, 0.0);
        ts_comparison backward = ts_compare(nn_tensor_f32(dinput), numeric, count,
                                            GRADCHECK_ATOL, GRADCHECK_RTOL);
        char label[96];
        snprintf(label, sizeof label, "Flatten %s rank %d forward", cases[i].data_format,
                 cases[i].ndim + 1);
        ts_report(label, &forward);
        snprintf(label, sizeof label, "Flatten %s rank %d backward vs differences",
                 cases[i].data_format, cases[i].ndim + 1);
        ts_report(label, &backward);
        cr_assert(forward.ok && backward.ok, "case %d", i);
        free(x);
        free(y);
        free(dout);
        free(numeric);
        free(scratch);
        nn_tensor_free(doutput);
        nn_tensor_free(dinput);
        nn_tensor_free(input);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

Test(flatten_layer, a_batch_axis_alone_becomes_one_column_as_in_keras)
{
    nn_layer *layer = make_flatten("channels_last");
    nn_shape batch_only = NN_SHAPE(5);
    cr_assert_eq(nn_layer_build(layer, &batch_only), NN_OK, "%s", nn_error_message());
    cr_assert_eq(layer->output_shape.ndim, 2);
    cr_assert_eq(layer->output_shape.dims[1], 1);
    nn_layer_release(layer);
    layer = make_flatten("channels_last");
    nn_shape scalar = {0};
    cr_assert_eq(nn_layer_build(layer, &scalar), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "flatten", "min_ndim=1");
    nn_layer_release(layer);
}
