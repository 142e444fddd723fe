/* TimeDistributed through the engine's public layer API: on (batch, steps, features) it is
 * the wrapped Dense on (batch·steps, features), exactly, in forward (output and the
 * logits a model's last layer leaves), backward (dinput and every weight's gradient, with
 * and without the activation's derivative), and after its weights' tensors are replaced,
 * as a model replaces them with views of its own buffer. The Dense itself is checked
 * against a reference and finite differences in test_dense.c. */
#include <criterion/criterion.h>
#include <string.h>

#include "layer_harness.h"

enum { BATCH = 3, STEPS = 4, FEATURES = 5, UNITS = 6 };

static nn_layer *make_dense(void)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    harness_set_int(layer, "units", UNITS);
    harness_set_activation(layer, (nn_activation){.kind = NN_ACTIVATION_TANH});
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    return layer;
}

static nn_layer *make_wrapper(void)
{
    nn_layer *dense = make_dense(), *wrapper = NULL;
    cr_assert_eq(nn_layer_create(&wrapper, &nn_time_distributed_class), NN_OK);
    cr_assert_eq(nn_time_distributed_wrap(wrapper, dense), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_finish(wrapper), NN_OK);
    nn_layer_release(dense);
    return wrapper;
}

static void expect_equal(const nn_tensor *a, const nn_tensor *b, const char *what)
{
    cr_assert_eq(nn_tensor_count(a), nn_tensor_count(b), "%s: sizes", what);
    cr_expect(memcmp(nn_tensor_f32(a), nn_tensor_f32(b), nn_tensor_bytes(a)) == 0,
              "%s differs", what);
}

/* Gives both layers the same random weights; with `replace`, in new tensors for the
 * wrapper, as a model gathers weights into one buffer of its own. */
static void set_weights(nn_layer *wrapper, nn_layer *dense, bool replace, uint64_t seed)
{
    for (int p = 0; p < 2; p++) {
        if (replace) {
            nn_tensor *fresh = NULL;
            cr_assert_eq(nn_tensor_clone(&fresh, wrapper->params[p].value), NN_OK);
            nn_tensor_free(wrapper->params[p].value);
            wrapper->params[p].value = fresh;
            nn_tensor *fresh_grad = NULL;
            cr_assert_eq(nn_tensor_clone(&fresh_grad, wrapper->params[p].grad), NN_OK);
            nn_tensor_free(wrapper->params[p].grad);
            wrapper->params[p].grad = fresh_grad;
        }
        ts_fill_uniform(nn_tensor_f32(wrapper->params[p].value),
                        nn_tensor_count(wrapper->params[p].value), seed + (uint64_t)p, -0.5f,
                        0.5f);
        cr_assert_eq(nn_tensor_copy_into(dense->params[p].value, wrapper->params[p].value), NN_OK);
    }
}

/* The wrapper on x, the plain Dense on x as (batch·steps, features), the same weights. */
static void compare(bool replace_weights, bool doutput_is_preactivation)
{
    nn_layer *wrapper = make_wrapper(), *dense = make_dense();
    nn_shape x_shape = NN_SHAPE(BATCH, STEPS, FEATURES),
             rows_shape = NN_SHAPE(BATCH * STEPS, FEATURES);
    nn_tensor *x = harness_tensor(&x_shape, NULL), *rows = harness_tensor(&rows_shape, NULL);
    ts_fill_uniform(nn_tensor_f32(x), nn_tensor_count(x), 1, -1.0f, 1.0f);
    memcpy(nn_tensor_f32(rows), nn_tensor_f32(x), nn_tensor_bytes(x));

    cr_assert_eq(nn_layer_build(wrapper, &x->shape), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_build(dense, &rows->shape), NN_OK, "%s", nn_error_message());
    char text[64];
    cr_assert_str_eq(nn_shape_format(&wrapper->output_shape, text, sizeof text),
                     "(None, 4, 6)");
    cr_assert_eq(wrapper->param_count, 2);
    set_weights(wrapper, dense, false, 10);

    float logits_wrapped[BATCH * STEPS * UNITS], logits_plain[BATCH * STEPS * UNITS];
    harness_run wrapped, plain;
    cr_assert_eq(harness_forward(&wrapped, wrapper, x, true, logits_wrapped), NN_OK, "%s",
                 nn_error_message());
    cr_assert_eq(harness_forward(&plain, dense, rows, true, logits_plain), NN_OK, "%s",
                 nn_error_message());
    if (replace_weights) {
        /* After the reserve: forward and backward themselves must follow the new tensors. */
        set_weights(wrapper, dense, true, 20);
        cr_assert_eq(nn_layer_forward(wrapper, &wrapped.exec, x, wrapped.output), NN_OK);
        cr_assert_eq(nn_layer_forward(dense, &plain.exec, rows, plain.output), NN_OK);
    }
    expect_equal(wrapped.output, plain.output, "the output");
    cr_expect(memcmp(logits_wrapped, logits_plain, sizeof logits_plain) == 0,
              "the logits differ");

    nn_shape out_shape = NN_SHAPE(BATCH, STEPS, UNITS), out_rows = NN_SHAPE(BATCH * STEPS, UNITS);
    nn_tensor *dout = harness_tensor(&out_shape, NULL), *dout_rows = harness_tensor(&out_rows, NULL);
    ts_fill_uniform(nn_tensor_f32(dout), nn_tensor_count(dout), 2, -1.0f, 1.0f);
    memcpy(nn_tensor_f32(dout_rows), nn_tensor_f32(dout), nn_tensor_bytes(dout));
    nn_tensor *dx = harness_tensor(&x_shape, NULL), *dx_rows = harness_tensor(&rows_shape, NULL);
    cr_assert_eq(harness_backward(&wrapped, wrapper, x, dout, dx, doutput_is_preactivation),
                 NN_OK, "%s", nn_error_message());
    cr_assert_eq(harness_backward(&plain, dense, rows, dout_rows, dx_rows,
                                  doutput_is_preactivation),
                 NN_OK, "%s", nn_error_message());
    expect_equal(dx, dx_rows, "dinput");
    expect_equal(wrapper->params[0].grad, dense->params[0].grad, "the kernel's gradient");
    expect_equal(wrapper->params[1].grad, dense->params[1].grad, "the bias's gradient");

    harness_run_free(&wrapped);
    harness_run_free(&plain);
    nn_tensor *tensors[] = {x, rows, dout, dout_rows, dx, dx_rows};
    for (size_t i = 0; i < sizeof tensors / sizeof tensors[0]; i++)
        nn_tensor_free(tensors[i]);
    nn_layer_release(wrapper);
    nn_layer_release(dense);
}

Test(time_distributed, is_the_wrapped_dense_on_steps_as_rows)
{
    compare(false, false);
}

Test(time_distributed, follows_weights_a_model_replaces)
{
    compare(true, false);
}

Test(time_distributed, passes_a_gradient_already_through_the_activation)
{
    compare(false, true);
}

Test(time_distributed, refuses_inputs_without_steps_and_built_layers)
{
    nn_layer *wrapper = make_wrapper();
    nn_shape flat = NN_SHAPE(-1, FEATURES);
    cr_expect_eq(nn_layer_build(wrapper, &flat), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "expects (batch, steps, ...)", "(None, 5)");
    nn_layer_release(wrapper);

    nn_layer *dense = make_dense(), *other = NULL;
    nn_shape rows = NN_SHAPE(-1, FEATURES);
    cr_assert_eq(nn_layer_build(dense, &rows), NN_OK);
    cr_assert_eq(nn_layer_create(&other, &nn_time_distributed_class), NN_OK);
    cr_expect_eq(nn_time_distributed_wrap(other, dense), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "not built yet", "is built already");
    cr_expect_eq(nn_layer_finish(other), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "has no layer to wrap");
    nn_layer_release(other);
    nn_layer_release(dense);
}
