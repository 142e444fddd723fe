/* SimpleRNN, LSTM and GRU against a reference in double written from Keras' cell
 * definitions (batch-major, one sample and one step at a time), with and without Keras'
 * mask over the steps (a masked step leaves the state as it was), their gradients (input,
 * kernel, recurrent kernel, bias) against central differences of that reference, and
 * their initial weights, shapes and errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "cpu/simd.h"
#include "layer_harness.h"

typedef enum ref_kind { REF_SIMPLE, REF_LSTM, REF_GRU } ref_kind;

typedef struct ref_case {
    ref_kind kind;
    int batch, steps, features, units;
    bool use_bias, return_sequences, go_backwards;
    const char *activation, *recurrent_activation;
} ref_case;

/* The mask of the masked cases: some steps of each sample masked, first and last among
 * them, none for sample 0's first, and all of them for no sample. */
static bool masked_step(int b, int t) { return (b + 2 * t) % 3 == 1; }

static int gates(ref_kind kind) { return kind == REF_LSTM ? 4 : kind == REF_GRU ? 3 : 1; }

static double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

static double activate(const char *name, double v)
{
    if (strcmp(name, "tanh") == 0) return tanh(v);
    if (strcmp(name, "sigmoid") == 0) return sigmoid(v);
    if (strcmp(name, "linear") == 0) return v;
    if (strcmp(name, "swish") == 0) return v * sigmoid(v);
    if (strcmp(name, "softsign") == 0) return v / (1.0 + fabs(v));
    cr_assert_fail("no reference for activation %s", name);
    return 0.0;
}

/* The weights and the input of one reference run, in double. */
typedef struct ref_values {
    const ref_case *c;
    double *x, *kernel, *recurrent, *bias; /* bias: columns, or 2 · columns for a GRU */
    const float *dy;                       /* the output gradient of the objective */
    const float *mask;                     /* (batch, steps), or NULL */
    double *which;                         /* the array the central differences move */
} ref_values;

static size_t output_count(const ref_case *c)
{
    return (size_t)c->batch * (c->return_sequences ? (size_t)c->steps : 1) * (size_t)c->units;
}

/* y = the layer's output from Keras' definitions. */
static void reference(double *y, const ref_values *v)
{
    const ref_case *c = v->c;
    int H = c->units, G = gates(c->kind) * H;
    double *h = calloc((size_t)H, sizeof *h), *cell = calloc((size_t)H, sizeof *cell);
    double *xw = malloc((size_t)G * sizeof *xw), *hu = malloc((size_t)G * sizeof *hu);
    double *next = malloc((size_t)H * sizeof *next);
    for (int b = 0; b < c->batch; b++) {
        memset(h, 0, (size_t)H * sizeof *h);
        memset(cell, 0, (size_t)H * sizeof *cell);
        for (int s = 0; s < c->steps; s++) {
            int t = c->go_backwards ? c->steps - 1 - s : s;
            const double *x = v->x + ((size_t)b * c->steps + t) * c->features;
            if (v->mask && v->mask[(size_t)b * c->steps + t] == 0.0f) {
                /* Keras: the state and the cell stay; the output repeats the last one. */
                if (c->return_sequences)
                    memcpy(y + ((size_t)b * c->steps + s) * H, h, (size_t)H * sizeof *h);
                continue;
            }
            for (int g = 0; g < G; g++) {
                xw[g] = c->use_bias ? v->bias[g] : 0.0;
                hu[g] = c->use_bias && c->kind == REF_GRU ? v->bias[G + g] : 0.0;
                for (int f = 0; f < c->features; f++)
                    xw[g] += x[f] * v->kernel[(size_t)f * G + g];
                for (int k = 0; k < H; k++)
                    hu[g] += h[k] * v->recurrent[(size_t)k * G + g];
            }
            for (int j = 0; j < H; j++) {
                const char *act = c->activation, *rec = c->recurrent_activation;
                if (c->kind == REF_SIMPLE) {
                    next[j] = activate(act, xw[j] + hu[j]);
                } else if (c->kind == REF_LSTM) {
                    double i = activate(rec, xw[j] + hu[j]);
                    double f = activate(rec, xw[H + j] + hu[H + j]);
                    double g = activate(act, xw[2 * H + j] + hu[2 * H + j]);
                    double o = activate(rec, xw[3 * H + j] + hu[3 * H + j]);
                    cell[j] = f * cell[j] + i * g;
                    next[j] = o * activate(act, cell[j]);
                } else {
                    double z = activate(rec, xw[j] + hu[j]);
                    double r = activate(rec, xw[H + j] + hu[H + j]);
                    double candidate = activate(act, xw[2 * H + j] + r * hu[2 * H + j]);
                    next[j] = z * h[j] + (1.0 - z) * candidate;
                }
            }
            memcpy(h, next, (size_t)H * sizeof *h);
            if (c->return_sequences)
                memcpy(y + ((size_t)b * c->steps + s) * H, h, (size_t)H * sizeof *h);
        }
        if (!c->return_sequences)
            memcpy(y + (size_t)b * H, h, (size_t)H * sizeof *h);
    }
    free(h), free(cell), free(xw), free(hu), free(next);
}

/* sum(dy · y) as a function of the array v->which points into. */
static double objective(const double *values, size_t n, void *context)
{
    (void)values, (void)n;
    const ref_values *v = context;
    size_t count = output_count(v->c);
    double *y = malloc(count * sizeof *y), total = 0.0;
    reference(y, v);
    for (size_t i = 0; i < count; i++)
        total += v->dy[i] * y[i];
    free(y);
    return total;
}

static double *to_double(const float *values, size_t n)
{
    double *out = malloc((n ? n : 1) * sizeof *out);
    ts_to_double(out, values, n);
    return out;
}

static const nn_layer_class *class_of(ref_kind kind)
{
    return kind == REF_LSTM ? &nn_lstm_class : kind == REF_GRU ? &nn_gru_class
                                                               : &nn_simple_rnn_class;
}

static nn_layer *make_layer(const ref_case *c)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, class_of(c->kind)), NN_OK);
    harness_set_int(layer, "units", c->units);
    harness_set_bool(layer, "use_bias", c->use_bias);
    harness_set_bool(layer, "return_sequences", c->return_sequences);
    harness_set_bool(layer, "go_backwards", c->go_backwards);
    nn_activation activation;
    cr_assert_eq(nn_activation_parse(c->activation, &activation), NN_OK);
    harness_set_activation(layer, activation);
    if (c->kind != REF_SIMPLE) {
        cr_assert_eq(nn_activation_parse(c->recurrent_activation, &activation), NN_OK);
        *(nn_activation *)harness_arg(layer, "recurrent_activation") = activation;
    }
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    return layer;
}

/* Checks one gradient the layer wrote against central differences of the reference. */
static void expect_gradient(const char *what, size_t case_index, const float *actual,
                            double *values, size_t n, ref_values *v)
{
    double *numeric = malloc(n * sizeof *numeric);
    v->which = values;
    ts_numeric_gradient(objective, v, values, n, 1e-5, numeric);
    for (size_t i = 0; i < n; i++)
        cr_expect(fabs(actual[i] - numeric[i]) <= 2e-4 * (1 + fabs(numeric[i])),
                  "case %zu: %s[%zu] is %.7g, the central difference %.7g", case_index, what, i,
                  (double)actual[i], numeric[i]);
    free(numeric);
}

/* With `masked`, under the mask of masked_step. */
static void check_case(const ref_case *c, size_t k, bool masked)
{
    nn_layer *layer = make_layer(c);
    nn_shape shape = NN_SHAPE(c->batch, c->steps, c->features);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
    int G = gates(c->kind) * c->units;
    size_t kernel_n = (size_t)c->features * G, recurrent_n = (size_t)c->units * G;
    size_t bias_n = c->use_bias ? (size_t)G * (c->kind == REF_GRU ? 2 : 1) : 0;
    cr_assert_eq(layer->param_count, c->use_bias ? 3 : 2);
    cr_assert_eq(nn_tensor_count(layer->params[0].value), kernel_n);
    cr_assert_eq(nn_tensor_count(layer->params[1].value), recurrent_n);
    /* Weights large enough that the gates are not all near 0.5. */
    ts_fill_uniform(nn_tensor_f32(layer->params[0].value), kernel_n, 100 + k, -0.8f, 0.8f);
    ts_fill_uniform(nn_tensor_f32(layer->params[1].value), recurrent_n, 200 + k, -0.6f, 0.6f);
    if (c->use_bias) {
        cr_assert_eq(nn_tensor_count(layer->params[2].value), bias_n);
        ts_fill_uniform(nn_tensor_f32(layer->params[2].value), bias_n, 300 + k, -0.5f, 0.5f);
    }
    nn_tensor *x = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 400 + k, -1.5f, 1.5f);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    float *mask = NULL;
    if (masked) { /* forward again, as a model under a mask would run it */
        mask = malloc((size_t)(c->batch * c->steps) * sizeof *mask);
        for (int b = 0; b < c->batch; b++)
            for (int t = 0; t < c->steps; t++)
                mask[b * c->steps + t] = masked_step(b, t) ? 0.0f : 1.0f;
        run.exec.mask = mask;
        cr_assert_eq(nn_layer_forward(layer, &run.exec, x, run.output), NN_OK, "%s",
                     nn_error_message());
    }
    size_t out_n = output_count(c);
    cr_assert_eq(nn_tensor_count(run.output), out_n);
    nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), out_n, 500 + k, -1, 1);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s",
                 nn_error_message());

    ref_values v = {.c = c,
                    .x = to_double(nn_tensor_f32(x), nn_tensor_count(x)),
                    .kernel = to_double(nn_tensor_f32(layer->params[0].value), kernel_n),
                    .recurrent = to_double(nn_tensor_f32(layer->params[1].value), recurrent_n),
                    .bias = c->use_bias ? to_double(nn_tensor_f32(layer->params[2].value), bias_n)
                                        : NULL,
                    .dy = nn_tensor_f32(dy),
                    .mask = mask};
    double *y = malloc(out_n * sizeof *y);
    reference(y, &v);
    ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y, out_n, 1e-5, 1e-5);
    cr_expect(forward.ok, "case %zu forward: element %zu is %.9g, expected %.9g", k,
              forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
              y[forward.worst_index]);
    expect_gradient("dx", k, nn_tensor_f32(dx), v.x, nn_tensor_count(x), &v);
    expect_gradient("dkernel", k, nn_tensor_f32(layer->params[0].grad), v.kernel, kernel_n, &v);
    expect_gradient("drecurrent_kernel", k, nn_tensor_f32(layer->params[1].grad), v.recurrent,
                    recurrent_n, &v);
    if (c->use_bias)
        expect_gradient("dbias", k, nn_tensor_f32(layer->params[2].grad), v.bias, bias_n, &v);
    free(y), free(v.x), free(v.kernel), free(v.recurrent), free(v.bias), free(mask);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}

static const ref_case cases[] = {
    {REF_SIMPLE, 2, 4, 3, 5, true, false, false, "tanh", "sigmoid"},
    {REF_SIMPLE, 3, 3, 2, 4, true, true, true, "swish", "sigmoid"},
    {REF_SIMPLE, 2, 5, 3, 3, false, true, false, "linear", "sigmoid"},
    {REF_LSTM, 2, 4, 3, 5, true, false, false, "tanh", "sigmoid"},
    {REF_LSTM, 3, 3, 2, 4, true, true, false, "tanh", "sigmoid"},
    {REF_LSTM, 2, 4, 3, 3, true, true, true, "swish", "softsign"},
    {REF_LSTM, 1, 6, 2, 2, false, false, true, "tanh", "sigmoid"},
    {REF_GRU, 2, 4, 3, 5, true, false, false, "tanh", "sigmoid"},
    {REF_GRU, 3, 3, 2, 4, true, true, false, "tanh", "sigmoid"},
    {REF_GRU, 2, 4, 3, 3, true, true, true, "swish", "softsign"},
    {REF_GRU, 1, 6, 2, 2, false, false, true, "tanh", "sigmoid"},
};

/* Under a mask: each kind, with and without return_sequences and go_backwards. */
static const ref_case masked_cases[] = {
    {REF_SIMPLE, 3, 5, 2, 3, true, false, false, "tanh", "sigmoid"},
    {REF_SIMPLE, 3, 5, 2, 3, true, true, true, "tanh", "sigmoid"},
    {REF_LSTM, 3, 5, 3, 4, true, false, false, "tanh", "sigmoid"},
    {REF_LSTM, 3, 5, 2, 3, true, true, false, "tanh", "sigmoid"},
    {REF_LSTM, 3, 4, 2, 3, true, true, true, "swish", "softsign"},
    {REF_GRU, 3, 5, 3, 4, true, false, true, "tanh", "sigmoid"},
    {REF_GRU, 3, 5, 2, 3, true, true, false, "tanh", "sigmoid"},
};

Test(recurrent, masked_steps_match_the_reference_and_its_central_differences)
{
    for (size_t k = 0; k < sizeof masked_cases / sizeof masked_cases[0]; k++)
        check_case(&masked_cases[k], k, true);
}

Test(recurrent, simple_rnn_matches_the_reference_and_its_central_differences)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (cases[k].kind == REF_SIMPLE)
            check_case(&cases[k], k, false);
}

Test(recurrent, lstm_matches_the_reference_and_its_central_differences)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (cases[k].kind == REF_LSTM)
            check_case(&cases[k], k, false);
}

Test(recurrent, gru_matches_the_reference_and_its_central_differences)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (cases[k].kind == REF_GRU)
            check_case(&cases[k], k, false);
}

/* The first layer of a model gets no input gradient (dinput NULL): the weights' gradients
 * must be the same as when it is asked for. */
Test(recurrent, weight_gradients_do_not_depend_on_the_input_gradient)
{
    ref_case c = {REF_LSTM, 2, 4, 3, 5, true, true, true, "tanh", "sigmoid"};
    nn_layer *layer = make_layer(&c);
    nn_shape shape = NN_SHAPE(c.batch, c.steps, c.features);
    nn_tensor *x = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 7, -1, 1);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), nn_tensor_count(dy), 8, -1, 1);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
    size_t n[3];
    float *saved[3];
    for (int i = 0; i < 3; i++) {
        n[i] = nn_tensor_count(layer->params[i].grad);
        saved[i] = malloc(n[i] * sizeof(float));
        memcpy(saved[i], nn_tensor_f32(layer->params[i].grad), n[i] * sizeof(float));
        memset(nn_tensor_f32(layer->params[i].grad), 0, n[i] * sizeof(float));
    }
    cr_assert_eq(harness_backward(&run, layer, x, dy, NULL, false), NN_OK);
    for (int i = 0; i < 3; i++) {
        cr_expect(memcmp(saved[i], nn_tensor_f32(layer->params[i].grad), n[i] * sizeof(float)) == 0,
                  "gradient of %s", layer->params[i].name);
        free(saved[i]);
    }
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}

Test(recurrent, initial_weights_follow_keras)
{
    ref_case c = {REF_LSTM, 1, 3, 6, 8, true, false, false, "tanh", "sigmoid"};
    nn_layer *layer = make_layer(&c);
    nn_shape shape = NN_SHAPE(1, 3, 6);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK);
    /* unit_forget_bias: the forget gate's quarter starts at 1, the rest at 0. */
    const float *bias = nn_tensor_f32(layer->params[2].value);
    for (int i = 0; i < 32; i++)
        cr_expect_eq(bias[i], i >= 8 && i < 16 ? 1.0f : 0.0f, "bias[%d] = %g", i, (double)bias[i]);
    /* The recurrent kernel (8, 32) is orthogonal: its rows are orthonormal. */
    const float *u = nn_tensor_f32(layer->params[1].value);
    for (int a = 0; a < 8; a++)
        for (int b = 0; b < 8; b++) {
            double dot = 0;
            for (int k = 0; k < 32; k++)
                dot += (double)u[a * 32 + k] * u[b * 32 + k];
            cr_expect(fabs(dot - (a == b)) < 1e-5, "row %d · row %d = %g", a, b, dot);
        }
    nn_layer_release(layer);

    nn_layer *plain = NULL;
    cr_assert_eq(nn_layer_create(&plain, &nn_lstm_class), NN_OK);
    harness_set_int(plain, "units", 2);
    harness_set_bool(plain, "unit_forget_bias", false);
    cr_assert_eq(nn_layer_finish(plain), NN_OK);
    cr_assert_eq(nn_layer_build(plain, &shape), NN_OK);
    for (int i = 0; i < 8; i++)
        cr_expect_eq(nn_tensor_f32(plain->params[2].value)[i], 0.0f);
    nn_layer_release(plain);
}

/* An error from building or finishing a layer of `cls` set up by `setup`. */
static nn_status try_layer(const nn_layer_class *cls, void (*setup)(nn_layer *),
                           const nn_shape *shape)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    harness_set_int(layer, "units", 4);
    if (setup)
        setup(layer);
    nn_status status = nn_layer_finish(layer);
    if (status == NN_OK)
        status = nn_layer_build(layer, shape);
    nn_layer_release(layer);
    return status;
}

static void with_dropout(nn_layer *layer) { *(float *)harness_arg(layer, "dropout") = 0.2f; }
static void with_recurrent_dropout(nn_layer *layer)
{
    *(float *)harness_arg(layer, "recurrent_dropout") = 0.1f;
}
static void with_return_state(nn_layer *layer) { harness_set_bool(layer, "return_state", true); }
static void with_stateful(nn_layer *layer) { harness_set_bool(layer, "stateful", true); }
static void with_reset_before(nn_layer *layer) { harness_set_bool(layer, "reset_after", false); }
static void with_softmax(nn_layer *layer)
{
    harness_set_activation(layer, nn_activation_default(NN_ACTIVATION_SOFTMAX));
}

Test(recurrent, shapes_and_refusals_are_explained)
{
    nn_shape good = NN_SHAPE(2, 5, 3), flat = NN_SHAPE(2, 5), image = NN_SHAPE(2, 4, 4, 1);
    cr_assert_eq(try_layer(&nn_lstm_class, NULL, &good), NN_OK);
    cr_assert_eq(try_layer(&nn_lstm_class, NULL, &flat), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "expected ndim=3", "(None, 5)", "Reshape", "Embedding");
    cr_assert_eq(try_layer(&nn_gru_class, NULL, &image), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "found ndim=4", "(None, 4, 4, 1)");
    cr_assert_eq(try_layer(&nn_lstm_class, with_dropout, &good), NN_OK);
    cr_assert_eq(try_layer(&nn_simple_rnn_class, with_recurrent_dropout, &good), NN_OK);
    cr_assert_eq(try_layer(&nn_gru_class, with_return_state, &good), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "return_state=True", "return_sequences");
    cr_assert_eq(try_layer(&nn_lstm_class, with_stateful, &good), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "stateful=True");
    cr_assert_eq(try_layer(&nn_gru_class, with_reset_before, &good), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "reset_after=False");
    cr_assert_eq(try_layer(&nn_simple_rnn_class, with_softmax, &good), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "activation='softmax'", "element-wise");
    cr_assert(nn_layer_class_find("LSTM") == &nn_lstm_class);
    cr_assert(nn_layer_class_find("GRU") == &nn_gru_class);
    cr_assert(nn_layer_class_find("SimpleRNN") == &nn_simple_rnn_class);
}

/* ---- dropout ---- */

/* sum(dy · layer(x)) in training, at the harness's fixed step, so every call draws the
 * same masks. */
static double layer_objective(nn_layer *layer, harness_run *run, const nn_tensor *x,
                              const float *dy)
{
    cr_assert_eq(nn_layer_forward(layer, &run->exec, x, run->output), NN_OK, "%s",
                 nn_error_message());
    double total = 0.0;
    for (size_t i = 0; i < nn_tensor_count(run->output); i++)
        total += (double)dy[i] * nn_tensor_f32(run->output)[i];
    return total;
}

/* The gradient the layer wrote for values (n floats) against central differences of the
 * layer's own float forward (so with its masks); float rounding allows 2e-3. */
static void expect_float_gradient(const char *what, const char *kind, const float *actual,
                                  float *values, size_t n, nn_layer *layer, harness_run *run,
                                  const nn_tensor *x, const float *dy)
{
    const float h = 4e-3f;
    for (size_t i = 0; i < n; i++) {
        float saved = values[i];
        values[i] = saved + h;
        double up = layer_objective(layer, run, x, dy);
        values[i] = saved - h;
        double down = layer_objective(layer, run, x, dy);
        values[i] = saved;
        double numeric = (up - down) / (2.0 * (double)h);
        cr_expect(fabs(actual[i] - numeric) <= 2e-3 * (1 + fabs(numeric)),
                  "%s: %s[%zu] is %.6g, the central difference %.6g", kind, what, i,
                  (double)actual[i], numeric);
    }
}

Test(recurrent, dropout_gradients_match_central_differences_with_the_same_masks)
{
    const ref_kind kinds[] = {REF_SIMPLE, REF_LSTM, REF_GRU};
    for (size_t k = 0; k < 3; k++) {
        ref_case c = {kinds[k], 3, 4, 3, 4, true, true, k == 2, "tanh", "sigmoid"};
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, class_of(c.kind)), NN_OK);
        harness_set_int(layer, "units", c.units);
        harness_set_bool(layer, "return_sequences", true);
        harness_set_bool(layer, "go_backwards", c.go_backwards);
        *(float *)harness_arg(layer, "dropout") = 0.4f;
        *(float *)harness_arg(layer, "recurrent_dropout") = 0.3f;
        cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
        nn_shape shape = NN_SHAPE(c.batch, c.steps, c.features);
        nn_tensor *x = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 60 + k, -1.5f, 1.5f);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        for (int p = 0; p < layer->param_count; p++)
            ts_fill_uniform(nn_tensor_f32(layer->params[p].value),
                            nn_tensor_count(layer->params[p].value), 70 + 3 * k + (size_t)p,
                            -0.8f, 0.8f);
        cr_assert_eq(nn_layer_forward(layer, &run.exec, x, run.output), NN_OK);
        nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), nn_tensor_count(dy), 80 + k, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK);
        const char *kind = layer->cls->name;
        expect_float_gradient("dx", kind, nn_tensor_f32(dx), nn_tensor_f32(x),
                              nn_tensor_count(x), layer, &run, x, nn_tensor_f32(dy));
        const char *names[] = {"dkernel", "drecurrent_kernel", "dbias"};
        for (int p = 0; p < layer->param_count; p++)
            expect_float_gradient(names[p], kind, nn_tensor_f32(layer->params[p].grad),
                                  nn_tensor_f32(layer->params[p].value),
                                  nn_tensor_count(layer->params[p].value), layer, &run, x,
                                  nn_tensor_f32(dy));
        /* Inference draws no masks: the reference without dropout. */
        ref_values v = {.c = &c,
                        .x = to_double(nn_tensor_f32(x), nn_tensor_count(x)),
                        .kernel = to_double(nn_tensor_f32(layer->params[0].value),
                                            nn_tensor_count(layer->params[0].value)),
                        .recurrent = to_double(nn_tensor_f32(layer->params[1].value),
                                               nn_tensor_count(layer->params[1].value)),
                        .bias = to_double(nn_tensor_f32(layer->params[2].value),
                                          nn_tensor_count(layer->params[2].value))};
        size_t out_n = output_count(&c);
        double *y = malloc(out_n * sizeof *y);
        reference(y, &v);
        run.exec.training = false;
        cr_assert_eq(nn_layer_forward(layer, &run.exec, x, run.output), NN_OK);
        ts_comparison inference = ts_compare(nn_tensor_f32(run.output), y, out_n, 1e-5, 1e-5);
        cr_expect(inference.ok, "%s: inference is not the plain layer (element %zu)", kind,
                  inference.worst_index);
        /* Training differs from it (the masks do something). */
        run.exec.training = true;
        cr_assert_eq(nn_layer_forward(layer, &run.exec, x, run.output), NN_OK);
        cr_expect(!ts_compare(nn_tensor_f32(run.output), y, out_n, 1e-3, 1e-3).ok,
                  "%s: training equals inference", kind);
        free(y), free(v.x), free(v.kernel), free(v.recurrent), free(v.bias);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

/* A SimpleRNN that only passes its input through (identity kernel, no recurrence, linear)
 * shows the input mask: each feature of a sample is kept (scaled by 1 / (1 - rate)) at
 * every step or dropped at every step, and about `rate` of them are dropped. */
Test(recurrent, input_dropout_uses_one_mask_for_every_step)
{
    enum { BATCH = 200, STEPS = 5, FEATURES = 10 };
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_simple_rnn_class), NN_OK);
    harness_set_int(layer, "units", FEATURES);
    harness_set_bool(layer, "use_bias", false);
    harness_set_bool(layer, "return_sequences", true);
    harness_set_activation(layer, nn_activation_default(NN_ACTIVATION_LINEAR));
    *(float *)harness_arg(layer, "dropout") = 0.25f;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    nn_shape shape = NN_SHAPE(BATCH, STEPS, FEATURES);
    nn_tensor *x = harness_tensor(&shape, NULL);
    for (size_t i = 0; i < nn_tensor_count(x); i++)
        nn_tensor_f32(x)[i] = 1.0f + (float)(i % 7);
    cr_assert_eq(nn_layer_build(layer, &shape), NN_OK);
    float *kernel = nn_tensor_f32(layer->params[0].value);
    memset(kernel, 0, FEATURES * FEATURES * sizeof(float));
    for (int f = 0; f < FEATURES; f++)
        kernel[f * FEATURES + f] = 1.0f;
    memset(nn_tensor_f32(layer->params[1].value), 0, FEATURES * FEATURES * sizeof(float));
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    int dropped = 0;
    for (int b = 0; b < BATCH; b++)
        for (int f = 0; f < FEATURES; f++) {
            bool kept_first = nn_tensor_f32(run.output)[((size_t)b * STEPS) * FEATURES + f] != 0;
            dropped += !kept_first;
            for (int t = 0; t < STEPS; t++) {
                size_t i = ((size_t)b * STEPS + t) * FEATURES + f;
                float expected = kept_first ? nn_tensor_f32(x)[i] / 0.75f : 0.0f;
                cr_assert_eq(nn_tensor_f32(run.output)[i], expected,
                             "sample %d feature %d step %d: %g, expected %g", b, f, t,
                             (double)nn_tensor_f32(run.output)[i], (double)expected);
            }
        }
    /* 2000 draws at rate 0.25: 500 expected, standard deviation about 19. */
    cr_expect(dropped > 420 && dropped < 580, "%d of 2000 dropped", dropped);
    nn_tensor_free(x);
    harness_run_free(&run);
    nn_layer_release(layer);
}

/* ---- Bidirectional ---- */

typedef struct bidirectional_values {
    ref_values forward, backward; /* each direction's weights; x shared */
    int merge;                    /* 0 concat, 1 sum, 2 mul, 3 ave */
} bidirectional_values;

/* Keras' Bidirectional: the wrapped layer forwards and a copy with go_backwards flipped,
 * the latter's sequence flipped back to time order, then merged. */
static void bidirectional_reference(double *y, const bidirectional_values *v)
{
    const ref_case *c = v->forward.c;
    size_t n = output_count(c);
    double *f = malloc(n * sizeof *f), *b = malloc(n * sizeof *b);
    reference(f, &v->forward);
    reference(b, &v->backward);
    size_t rows = n / (size_t)c->units, H = (size_t)c->units;
    for (size_t r = 0; r < rows; r++) {
        /* row r of the backward output, in time order */
        size_t sample = c->return_sequences ? r / (size_t)c->steps : r;
        size_t step = c->return_sequences ? r % (size_t)c->steps : 0;
        size_t rr = c->return_sequences ? sample * (size_t)c->steps + (size_t)c->steps - 1 - step
                                        : r;
        for (size_t j = 0; j < H; j++) {
            double a = f[r * H + j], bb = b[rr * H + j];
            switch (v->merge) {
            case 0: y[r * 2 * H + j] = a, y[r * 2 * H + H + j] = bb; break;
            case 1: y[r * H + j] = a + bb; break;
            case 2: y[r * H + j] = a * bb; break;
            default: y[r * H + j] = 0.5 * (a + bb); break;
            }
        }
    }
    free(f), free(b);
}

static double bidirectional_objective(const double *values, size_t n, void *context)
{
    (void)values, (void)n;
    const bidirectional_values *v = context;
    size_t count = output_count(v->forward.c) * (v->merge == 0 ? 2 : 1);
    double *y = malloc(count * sizeof *y), total = 0.0;
    bidirectional_reference(y, v);
    for (size_t i = 0; i < count; i++)
        total += v->forward.dy[i] * y[i];
    free(y);
    return total;
}

static void expect_bidirectional_gradient(const char *what, const char *label,
                                          const float *actual, double *values, size_t n,
                                          bidirectional_values *v)
{
    double *numeric = malloc(n * sizeof *numeric);
    ts_numeric_gradient(bidirectional_objective, v, values, n, 1e-5, numeric);
    for (size_t i = 0; i < n; i++)
        cr_expect(fabs(actual[i] - numeric[i]) <= 2e-4 * (1 + fabs(numeric[i])),
                  "%s: %s[%zu] is %.7g, the central difference %.7g", label, what, i,
                  (double)actual[i], numeric[i]);
    free(numeric);
}

Test(recurrent, bidirectional_matches_the_reference_and_its_central_differences)
{
    static const char *const merges[] = {"concat", "sum", "mul", "ave"};
    const struct {
        ref_kind kind;
        bool return_sequences, go_backwards;
        int merge;
    } shapes[] = {
        {REF_LSTM, true, false, 0}, {REF_GRU, false, false, 1}, {REF_SIMPLE, true, false, 2},
        {REF_LSTM, false, true, 3}, {REF_GRU, true, true, 0},
    };
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        ref_case fc = {shapes[k].kind, 2, 4, 3, 3, true, shapes[k].return_sequences,
                       shapes[k].go_backwards, "tanh", "sigmoid"};
        ref_case bc = fc;
        bc.go_backwards = !fc.go_backwards;
        nn_layer *layer = NULL;
        cr_assert_eq(nn_layer_create(&layer, &nn_bidirectional_class), NN_OK);
        nn_layer *wrapped = make_layer(&fc);
        cr_assert_eq(nn_bidirectional_wrap(layer, wrapped), NN_OK);
        nn_layer_release(wrapped);
        harness_set_choice(layer, "merge_mode", merges[shapes[k].merge]);
        cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
        nn_shape shape = NN_SHAPE(fc.batch, fc.steps, fc.features);
        cr_assert_eq(nn_layer_build(layer, &shape), NN_OK, "%s", nn_error_message());
        cr_assert_eq(layer->param_count, 6);
        for (int p = 0; p < 6; p++)
            ts_fill_uniform(nn_tensor_f32(layer->params[p].value),
                            nn_tensor_count(layer->params[p].value), 900 + 10 * k + (size_t)p,
                            -0.7f, 0.7f);
        nn_tensor *x = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 950 + k, -1.5f, 1.5f);
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
        size_t out_n = nn_tensor_count(run.output);
        cr_assert_eq(out_n, output_count(&fc) * (shapes[k].merge == 0 ? 2 : 1));
        nn_tensor *dy = harness_tensor(&run.output->shape, NULL), *dx = harness_tensor(&shape, NULL);
        ts_fill_uniform(nn_tensor_f32(dy), out_n, 970 + k, -1, 1);
        cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s",
                     nn_error_message());

        double *x64 = to_double(nn_tensor_f32(x), nn_tensor_count(x));
        double *w[6];
        for (int p = 0; p < 6; p++)
            w[p] = to_double(nn_tensor_f32(layer->params[p].value),
                             nn_tensor_count(layer->params[p].value));
        bidirectional_values v = {
            .forward = {.c = &fc, .x = x64, .kernel = w[0], .recurrent = w[1], .bias = w[2],
                        .dy = nn_tensor_f32(dy)},
            .backward = {.c = &bc, .x = x64, .kernel = w[3], .recurrent = w[4], .bias = w[5],
                         .dy = nn_tensor_f32(dy)},
            .merge = shapes[k].merge};
        double *y = malloc(out_n * sizeof *y);
        bidirectional_reference(y, &v);
        char label[64];
        snprintf(label, sizeof label, "case %zu (%s)", k, merges[shapes[k].merge]);
        ts_comparison forward = ts_compare(nn_tensor_f32(run.output), y, out_n, 1e-5, 1e-5);
        cr_expect(forward.ok, "%s forward: element %zu is %.9g, expected %.9g", label,
                  forward.worst_index, (double)nn_tensor_f32(run.output)[forward.worst_index],
                  y[forward.worst_index]);
        expect_bidirectional_gradient("dx", label, nn_tensor_f32(dx), x64, nn_tensor_count(x), &v);
        static const char *const names[] = {"dkernel", "drecurrent", "dbias",
                                            "dbackward_kernel", "dbackward_recurrent",
                                            "dbackward_bias"};
        for (int p = 0; p < 6; p++)
            expect_bidirectional_gradient(names[p], label, nn_tensor_f32(layer->params[p].grad),
                                          w[p], nn_tensor_count(layer->params[p].value), &v);
        for (int p = 0; p < 6; p++)
            free(w[p]);
        free(x64), free(y);
        nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
        harness_run_free(&run);
        nn_layer_release(layer);
    }
}

Test(recurrent, bidirectional_wraps_only_recurrent_layers)
{
    nn_layer *layer = NULL, *dense = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_bidirectional_class), NN_OK);
    cr_assert_eq(nn_layer_create(&dense, &nn_dense_class), NN_OK);
    cr_assert_eq(nn_bidirectional_wrap(layer, dense), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "SimpleRNN, LSTM or GRU", "Dense");
    nn_layer_release(dense);
    nn_layer_release(layer);
}

/* ---- the CPU's vector cells ---- */

/* The usual cells (tanh, sigmoid; SimpleRNN's tanh) take eight values at a time where
 * AVX2 is there: the same values as the scalar bodies to within libmvec's 4 ulp, tails
 * (13 units = 8 + 5) and saturated inputs included. */
Test(recurrent, vector_cells_match_the_scalar_bodies)
{
    enum { ROWS = 3, UNITS = 13, STATE = ROWS * UNITS };
    nn_simd_level saved = nn_simd_active();
    if (saved < NN_SIMD_AVX2)
        cr_skip_test("no AVX2 on this processor: only the scalar cells run");
    nn_recurrent_cell cell = {ROWS, UNITS, nn_activation_default(NN_ACTIVATION_TANH),
                              nn_activation_default(NN_ACTIVATION_SIGMOID)};
    float xw[4 * STATE], hu[4 * STATE], previous[STATE];
    ts_fill_uniform(xw, 4 * STATE, 41, -4, 4);
    ts_fill_uniform(hu, 4 * STATE, 42, -4, 4);
    ts_fill_uniform(previous, STATE, 43, -2, 2);
    xw[0] = 100.0f, xw[1] = -100.0f, xw[UNITS + 2] = 90.0f, xw[2 * UNITS + 3] = -95.0f;
    xw[3 * UNITS + 9] = 0.0f, hu[3 * UNITS + 9] = 0.0f;
    /* A forget gate of sigmoid(-100 + hu), about 1e-44 and not 0, against a huge cell:
     * their product is a number, not 0 and not NaN. */
    xw[UNITS + 5] = -100.0f, previous[5] = 3e38f;
    /* outputs: [0] h, [1] c or hu_h, [2] preact, [3] gates, for scalar and vector */
    static float out[2][4][5 * STATE];
    for (int kind = 0; kind < 3; kind++) {
        for (int pass = 0; pass < 2; pass++) {
            cr_assert(nn_simd_select(pass == 0 ? NN_SIMD_PORTABLE : saved));
            memset(out[pass], 0, sizeof out[pass]);
            if (kind == 2) /* SimpleRNN: h and preact over all 39 values (4 vectors + 7) */
                nn_cpu_simple_rnn_cell_forward(out[pass][0], out[pass][2], xw, hu, &cell);
            else if (kind == 0)
                nn_cpu_lstm_cell_forward(out[pass][0], out[pass][1], out[pass][2], out[pass][3],
                                         xw, hu, previous, &cell);
            else
                nn_cpu_gru_cell_forward(out[pass][0], out[pass][2], out[pass][3], out[pass][1],
                                        xw, hu, previous, &cell);
        }
        cr_assert(nn_simd_select(saved));
        const size_t sizes[4] = {STATE, kind == 2 ? 0 : STATE,
                                 kind == 2 ? STATE : (size_t)(kind == 0 ? 4 : 3) * STATE,
                                 kind == 2 ? 0 : (size_t)(kind == 0 ? 5 : 3) * STATE};
        const char *names[4] = {"h", kind == 0 ? "c" : "hu_h", "preact", "gates"};
        const char *kinds[3] = {"LSTM", "GRU", "SimpleRNN"};
        for (int k = 0; k < 4; k++)
            for (size_t i = 0; i < sizes[k]; i++) {
                float scalar = out[0][k][i], vector = out[1][k][i];
                cr_expect(fabsf(scalar - vector) <= 1e-6f * (1.0f + fabsf(scalar)),
                          "%s %s[%zu]: scalar %.9g, vector %.9g", kinds[kind], names[k], i,
                          (double)scalar, (double)vector);
            }
        /* Saturated gates reach their limits: 1 exactly, and a tiny positive value. */
        if (kind == 0) {
            cr_expect_eq(out[1][3][0], 1.0f, "sigmoid(104) %.9g", (double)out[1][3][0]);
            cr_expect(out[1][3][1] > 0.0f && out[1][3][1] < 1e-40f, "sigmoid(-100 + hu) %.9g",
                      (double)out[1][3][1]);
            cr_expect(out[1][1][5] != 0.0f && isfinite(out[1][1][5]), "c[5] = %.9g",
                      (double)out[1][1][5]);
        }
    }
}
