/* Whole models on a device against the same models on the CPU: a short fit of the seed
 * CNN from the same seed reaching the same accuracy (within noise on a GPU, bit for bit
 * on the emulated device), every layer kind and option of SPEC §2 through a training
 * step, and the error paths a session must survive: running out of device memory, a
 * failing kernel, a NaN loss (weights left as they were). Run as `test_gpu_fit cuda`
 * (skipped without a GPU) and `test_gpu_fit emulated`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "emulated/emulated.h"
#include "gpu_harness.h"
#include "model.h"
#include "random.h"

/* ---- building models from C ---- */

static void *arg(nn_layer *layer, const char *name)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    if (!spec) {
        gh_fail("layer %s has no argument %s", layer->cls->name, name);
        exit(1);
    }
    return nn_layer_arg_pointer(layer, spec);
}

static nn_layer *make(const char *kind)
{
    nn_layer *layer = NULL;
    if (nn_layer_create(&layer, nn_layer_class_find(kind)) != NN_OK) {
        gh_fail("creating %s: %s", kind, nn_error_message());
        exit(1);
    }
    return layer;
}

static nn_layer *conv(int filters, bool relu, bool channels_first)
{
    nn_layer *layer = make("Conv2D");
    *(int *)arg(layer, "filters") = filters;
    ((int *)arg(layer, "kernel_size"))[0] = ((int *)arg(layer, "kernel_size"))[1] = 3;
    *(int *)arg(layer, "padding") = 1; /* 'same' */
    *(int *)arg(layer, "data_format") = channels_first ? 1 : 0;
    if (relu)
        *(nn_activation *)arg(layer, "activation") = nn_activation_default(NN_ACTIVATION_RELU);
    return layer;
}

static nn_layer *dense(int units, nn_activation_kind activation)
{
    nn_layer *layer = make("Dense");
    *(int *)arg(layer, "units") = units;
    *(nn_activation *)arg(layer, "activation") = nn_activation_default(activation);
    return layer;
}

static nn_layer *pool(bool channels_first)
{
    nn_layer *layer = make("MaxPooling2D");
    *(int *)arg(layer, "data_format") = channels_first ? 1 : 0;
    return layer;
}

static nn_layer *dropout(float rate)
{
    nn_layer *layer = make("Dropout");
    *(float *)arg(layer, "rate") = rate;
    return layer;
}

static nn_model *model_of(nn_layer **layers, size_t count, nn_optimizer_kind optimizer)
{
    nn_model *model = NULL;
    if (nn_model_create(&model, "under_test") != NN_OK)
        exit(1);
    for (size_t i = 0; i < count; i++) {
        if (nn_layer_finish(layers[i]) != NN_OK || nn_model_add(model, layers[i]) != NN_OK) {
            gh_fail("adding layer %zu: %s", i, nn_error_message());
            exit(1);
        }
        nn_layer_release(layers[i]);
    }
    nn_loss loss;
    nn_loss_parse("sparse_categorical_crossentropy", &loss);
    nn_optimizer_config config = nn_optimizer_defaults(optimizer);
    const char *metrics[] = {"accuracy"};
    if (nn_model_compile(model, &config, &loss, metrics, 1) != NN_OK)
        exit(1);
    return model;
}

/* A learnable task of MNIST's kind: ten fixed random templates, noise on top. */
static void make_data(nn_tensor **x, nn_tensor **y, int64_t count, int size, int channels,
                      bool channels_first)
{
    nn_shape shape = channels_first ? NN_SHAPE(count, channels, size, size)
                                    : NN_SHAPE(count, size, size, channels);
    nn_shape label_shape = NN_SHAPE(count);
    nn_tensor_create(x, NN_DTYPE_F32, &shape);
    nn_tensor_create(y, NN_DTYPE_I32, &label_shape);
    size_t pixels = (size_t)(size * size * channels);
    float *templates = gh_random(10 * pixels, 5, 0, 1);
    float *noise = gh_random((size_t)count * pixels, 6, 0, 1);
    for (int64_t n = 0; n < count; n++) {
        int label = (int)((n * 7919) % 10);
        ((int32_t *)nn_tensor_data(*y))[n] = label;
        for (size_t p = 0; p < pixels; p++)
            nn_tensor_f32(*x)[(size_t)n * pixels + p] =
                (templates[(size_t)label * pixels + p] > 0.7f ? 0.6f : 0.0f) +
                0.4f * noise[(size_t)n * pixels + p];
    }
    free(templates);
    free(noise);
}

/* ---- cases ---- */

typedef struct fit_result {
    double accuracy, val_accuracy, loss;
    float *weights;
    size_t weight_count;
} fit_result;

/* The seed CNN in small, trained from seed 3 on `device`. */
static fit_result train_seed_cnn(nn_device device, const nn_tensor *x, const nn_tensor *y)
{
    nn_random_seed(3);
    nn_layer *layers[] = {conv(8, true, false),  pool(false),   conv(16, true, false),
                          pool(false),           make("Flatten"), dense(32, NN_ACTIVATION_RELU),
                          dropout(0.5f),         dense(10, NN_ACTIVATION_SOFTMAX)};
    nn_model *model = model_of(layers, sizeof layers / sizeof layers[0], NN_OPTIMIZER_ADAM);
    fit_result result = {0};
    GH_CHECK(nn_model_to(model, device) == NN_OK, "model:to: %s", nn_error_message());
    nn_fit_options options = nn_fit_defaults();
    options.epochs = 3;
    options.batch_size = 64;
    options.validation_split = 0.2;
    nn_history history = {0};
    if (nn_model_fit(model, x, y, &options, NULL, &history) != NN_OK) {
        gh_fail("fit on the device: %s", nn_error_message());
        nn_model_release(model);
        return result;
    }
    const nn_logs *last = &history.rows[history.epochs - 1];
    result.accuracy = nn_logs_get(last, "accuracy");
    result.val_accuracy = nn_logs_get(last, "val_accuracy");
    result.loss = nn_logs_get(last, "loss");
    result.weight_count = model->weight_count;
    result.weights = malloc(model->weight_count * sizeof(float));
    GH_CHECK(nn_model_read_weights(model, result.weights) == NN_OK, "reading weights: %s",
             nn_error_message());
    nn_history_free(&history);
    nn_model_release(model);
    return result;
}

static void seed_cnn_fit_matches_the_cpu(void)
{
    nn_tensor *x, *y;
    make_data(&x, &y, 1280, 12, 1, false);
    fit_result cpu = train_seed_cnn(nn_device_cpu(), x, y);
    fit_result device = train_seed_cnn(gh_device_id, x, y);
    printf("    accuracy cpu %.4f device %.4f; val_accuracy cpu %.4f device %.4f; loss cpu %.4f "
           "device %.4f\n", cpu.accuracy, device.accuracy, cpu.val_accuracy,
           device.val_accuracy, cpu.loss, device.loss);
    GH_CHECK(cpu.val_accuracy > 0.8, "the task was not learned on the CPU (%.3f)",
             cpu.val_accuracy);
    /* Dropout draws the same masks everywhere; cuDNN and cuBLAS sum in other orders, so
     * a GPU run drifts within noise. The emulated device runs the CPU's kernels. */
    double tolerance = gh_device_id.kind == NN_DEVICE_EMULATED ? 0.0 : 0.03;
    GH_CHECK(fabs(device.val_accuracy - cpu.val_accuracy) <= tolerance,
             "validation accuracy %.4f on the device, %.4f on the CPU (tolerance %.2f)",
             device.val_accuracy, cpu.val_accuracy, tolerance);
    GH_CHECK(fabs(device.accuracy - cpu.accuracy) <= tolerance + 0.01,
             "training accuracy %.4f on the device, %.4f on the CPU", device.accuracy,
             cpu.accuracy);
    if (gh_device_id.kind == NN_DEVICE_EMULATED && cpu.weights && device.weights)
        GH_CHECK(memcmp(cpu.weights, device.weights, cpu.weight_count * sizeof(float)) == 0,
                 "the emulated device's weights differ from the CPU's");
    free(cpu.weights);
    free(device.weights);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

/* One training step of a model with every layer kind and the options that change the
 * kernels' work; returns the weights after the step. */
static float *one_step_of_everything(nn_device device, const nn_tensor *x, const nn_tensor *y,
                                     nn_optimizer_kind optimizer, size_t *count)
{
    nn_random_seed(9);
    nn_layer *first = conv(6, true, true); /* channels_first */
    *(nn_regularizer *)arg(first, "kernel_regularizer") = (nn_regularizer){0.01f, 0.01f};
    nn_constraint max_norm = nn_constraint_default(NN_CONSTRAINT_MAX_NORM);
    max_norm.axes = 7u;
    *(nn_constraint *)arg(first, "kernel_constraint") = max_norm;
    nn_layer *batchnorm = make("BatchNormalization");
    *(int *)arg(batchnorm, "axis") = 1;
    nn_layer *strided = conv(8, false, true);
    ((int *)arg(strided, "strides"))[0] = ((int *)arg(strided, "strides"))[1] = 2;
    nn_layer *activation = make("Activation");
    *(nn_activation *)arg(activation, "activation") = nn_activation_default(NN_ACTIVATION_SWISH);
    nn_layer *noise = dropout(0.3f);
    nn_shape *noise_shape = arg(noise, "noise_shape");
    *noise_shape = NN_SHAPE(-1, 8, 1, 1);
    nn_layer *hidden = dense(16, NN_ACTIVATION_GELU);
    *(nn_regularizer *)arg(hidden, "activity_regularizer") = (nn_regularizer){0.001f, 0.0f};
    *(nn_constraint *)arg(hidden, "bias_constraint") = nn_constraint_default(NN_CONSTRAINT_NON_NEG);
    nn_layer *layers[] = {first,         batchnorm,        strided,
                          activation,    pool(true),       noise,
                          make("Flatten"), hidden,         dense(10, NN_ACTIVATION_SOFTMAX)};
    nn_model *model = model_of(layers, sizeof layers / sizeof layers[0], optimizer);
    float *weights = NULL;
    if (nn_model_to(model, device) != NN_OK) {
        gh_fail("model:to: %s", nn_error_message());
        nn_model_release(model);
        return NULL;
    }
    nn_fit_options options = nn_fit_defaults();
    options.batch_size = 32;
    options.steps_per_epoch = 2;
    if (nn_model_fit(model, x, y, &options, NULL, NULL) != NN_OK) {
        gh_fail("fit: %s", nn_error_message());
    } else {
        *count = model->weight_count;
        weights = malloc(*count * sizeof(float));
        if (nn_model_read_weights(model, weights) != NN_OK) {
            gh_fail("reading weights: %s", nn_error_message());
            free(weights);
            weights = NULL;
        }
    }
    nn_model_release(model);
    return weights;
}

static void every_layer_kind_trains_like_the_cpu(void)
{
    nn_tensor *x, *y;
    make_data(&x, &y, 64, 10, 3, true);
    const nn_optimizer_kind optimizers[] = {NN_OPTIMIZER_ADAMW, NN_OPTIMIZER_RMSPROP,
                                            NN_OPTIMIZER_SGD};
    for (size_t k = 0; k < 3; k++) {
        size_t cpu_count = 0, device_count = 0;
        float *cpu = one_step_of_everything(nn_device_cpu(), x, y, optimizers[k], &cpu_count);
        float *device = one_step_of_everything(gh_device_id, x, y, optimizers[k],
                                               &device_count);
        char what[96];
        snprintf(what, sizeof what, "weights after 2 steps of %s",
                 nn_optimizer_name(optimizers[k]));
        if (cpu && device && cpu_count == device_count)
            /* FP32 on both (the harness turns TF32 off): an H200 gave 3e-8 to 9e-8. */
            gh_expect_close(what, device, cpu, cpu_count,
                            gh_device_id.kind == NN_DEVICE_EMULATED ? 0.0 : 1e-5);
        free(cpu);
        free(device);
    }
    nn_tensor_free(x);
    nn_tensor_free(y);
}

static nn_model *small_model(void)
{
    nn_random_seed(4);
    nn_layer *layers[] = {make("Flatten"), dense(16, NN_ACTIVATION_RELU),
                          dense(10, NN_ACTIVATION_SOFTMAX)};
    return model_of(layers, 3, NN_OPTIMIZER_ADAM);
}

static void a_nan_loss_leaves_the_weights_as_they_were(void)
{
    nn_tensor *x, *y;
    make_data(&x, &y, 64, 6, 1, false);
    /* The first sample holds values fit accepts (it refuses NaN and infinity in the data)
     * and, with every weight 1, the first layer's sums overflow float: the loss is NaN. */
    for (int p = 0; p < 36; p++)
        nn_tensor_f32(x)[p] = 3e38f;
    nn_model *model = small_model();
    GH_CHECK(nn_model_build(model, &x->shape) == NN_OK, "build: %s", nn_error_message());
    GH_CHECK(nn_model_to(model, gh_device_id) == NN_OK, "model:to: %s", nn_error_message());
    size_t count = model->weight_count;
    float *before = malloc(count * sizeof(float)), *after = malloc(count * sizeof(float));
    for (size_t i = 0; i < count; i++)
        before[i] = 1.0f;
    GH_CHECK(nn_model_write_weights(model, before) == NN_OK, "%s", nn_error_message());
    nn_fit_options options = nn_fit_defaults();
    options.shuffle = false;
    nn_status status = nn_model_fit(model, x, y, &options, NULL, NULL);
    GH_CHECK(status == NN_ERR_NUMERIC, "fit returned %s: %s", nn_status_name(status),
             nn_error_message());
    GH_CHECK(strstr(nn_error_message(), "the loss became") != NULL, "message: %s",
             nn_error_message());
    GH_CHECK(nn_model_read_weights(model, after) == NN_OK, "%s", nn_error_message());
    GH_CHECK(memcmp(before, after, count * sizeof(float)) == 0,
             "the weights changed after a NaN loss");
    GH_CHECK(model->optimizer && model->optimizer->iterations == 0,
             "the skipped step was counted");
    free(before);
    free(after);
    nn_model_release(model);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

/* Emulated only: a full device and a failing kernel are errors the session survives.
 * (On a GPU the same code runs: the parity test makes a real allocation fail.) */
static void out_of_memory_and_kernel_failures_are_errors(void)
{
    if (gh_device_id.kind != NN_DEVICE_EMULATED) {
        printf("    (emulated device only)\n");
        return;
    }
    nn_tensor *x, *y;
    make_data(&x, &y, 256, 6, 1, false);
    nn_model *model = small_model();
    GH_CHECK(nn_model_to(model, gh_device_id) == NN_OK, "model:to: %s", nn_error_message());
    nn_fit_options options = nn_fit_defaults();
    options.batch_size = 256;
    nn_emulated_set_memory_limit(nn_emulated_memory_in_use() + 4096);
    nn_status status = nn_model_fit(model, x, y, &options, NULL, NULL);
    GH_CHECK(status == NN_ERR_MEMORY, "fit with a full device returned %s: %s",
             nn_status_name(status), nn_error_message());
    printf("    message: %s\n", nn_error_message());
    nn_emulated_set_memory_limit(0);
    options.batch_size = 32;
    GH_CHECK(nn_model_fit(model, x, y, &options, NULL, NULL) == NN_OK,
             "fit after running out of memory: %s", nn_error_message());
    nn_emulated_fail_kernel(40);
    status = nn_model_fit(model, x, y, &options, NULL, NULL);
    GH_CHECK(status == NN_ERR_DEVICE, "fit with a failing kernel returned %s",
             nn_status_name(status));
    printf("    message: %s\n", nn_error_message());
    GH_CHECK(nn_model_fit(model, x, y, &options, NULL, NULL) == NN_OK,
             "fit after a kernel failure: %s", nn_error_message());
    nn_model_release(model);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

static void models_move_between_devices(void)
{
    nn_tensor *x, *y;
    make_data(&x, &y, 128, 6, 1, false);
    nn_model *model = small_model();
    nn_fit_options options = nn_fit_defaults();
    GH_CHECK(nn_model_to(model, nn_device_cpu()) == NN_OK, "%s", nn_error_message());
    GH_CHECK(nn_model_fit(model, x, y, &options, NULL, NULL) == NN_OK, "%s", nn_error_message());
    nn_tensor *on_cpu = NULL, *on_device = NULL, *trained_on_device = NULL, *back = NULL;
    GH_CHECK(nn_model_predict(model, x, 50, NULL, &on_cpu) == NN_OK, "%s", nn_error_message());
    GH_CHECK(nn_model_to(model, gh_device_id) == NN_OK, "%s", nn_error_message());
    GH_CHECK(nn_model_predict(model, x, 50, NULL, &on_device) == NN_OK, "%s", nn_error_message());
    /* Training goes on where it is, with the optimizer state it had. */
    GH_CHECK(nn_model_fit(model, x, y, &options, NULL, NULL) == NN_OK, "%s", nn_error_message());
    GH_CHECK(nn_model_predict(model, x, 50, NULL, &trained_on_device) == NN_OK, "%s",
             nn_error_message());
    GH_CHECK(nn_model_to(model, nn_device_cpu()) == NN_OK, "%s", nn_error_message());
    GH_CHECK(nn_model_predict(model, x, 50, NULL, &back) == NN_OK, "%s", nn_error_message());
    if (on_cpu && on_device)
        gh_expect_close("predictions before and after moving", nn_tensor_f32(on_device),
                        nn_tensor_f32(on_cpu), nn_tensor_count(on_cpu), 1e-5);
    if (trained_on_device && back)
        gh_expect_close("predictions after moving the trained model back",
                        nn_tensor_f32(back), nn_tensor_f32(trained_on_device),
                        nn_tensor_count(back), 1e-5);
    GH_CHECK(model->optimizer && model->optimizer->iterations == 8,
             "the optimizer did not keep counting across devices");
    nn_tensor_free(on_cpu);
    nn_tensor_free(on_device);
    nn_tensor_free(trained_on_device);
    nn_tensor_free(back);
    nn_model_release(model);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

int main(int argc, char **argv)
{
    int start = gh_start(argc, argv);
    if (start != 0)
        return start;
    static const gh_case cases[] = {
        {"seed CNN fit: same accuracy as the CPU", seed_cnn_fit_matches_the_cpu},
        {"every layer kind and option: a step like the CPU's", every_layer_kind_trains_like_the_cpu},
        {"NaN loss: weights unchanged", a_nan_loss_leaves_the_weights_as_they_were},
        {"out of memory and kernel failures", out_of_memory_and_kernel_failures_are_errors},
        {"models move between devices", models_move_between_devices},
    };
    return gh_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
