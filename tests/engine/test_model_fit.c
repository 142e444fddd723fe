/* fit and predict: the work a model shares between neighbouring layers (a convolution
 * computing the next layer's pooling, a pooling applying the ReLU derivative of the
 * convolution before it) changes no result, and training is repeatable bit for bit. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "layer_harness.h"
#include "model.h"
#include "random.h"

static nn_layer *make_layer(const char *kind)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, nn_layer_class_find(kind)), NN_OK);
    return layer;
}

static nn_layer *make_conv(int filters, bool relu)
{
    nn_layer *layer = make_layer("Conv2D");
    harness_set_int(layer, "filters", filters);
    harness_set_pair(layer, "kernel_size", 3, 3);
    harness_set_choice(layer, "padding", "same");
    if (relu)
        harness_set_activation(layer, nn_activation_default(NN_ACTIVATION_RELU));
    return layer;
}

static nn_layer *make_dense(int units, nn_activation_kind activation)
{
    nn_layer *layer = make_layer("Dense");
    harness_set_int(layer, "units", units);
    harness_set_activation(layer, nn_activation_default(activation));
    return layer;
}

/* The seed CNN in small: conv(relu) → pool → conv(relu) → pool → flatten → dense(relu)
 * → dense(softmax), with 2 epochs of Adam on random images (a validation split
 * included); returns the weights followed by the predictions for the images. */
static float *train_small_cnn(bool separate_layers, size_t *count)
{
    nn_random_seed(7);
    nn_layer *layers[] = {make_conv(4, true),  make_layer("MaxPooling2D"),
                          make_conv(6, true),  make_layer("MaxPooling2D"),
                          make_layer("Flatten"), make_dense(8, NN_ACTIVATION_RELU),
                          make_dense(3, NN_ACTIVATION_SOFTMAX)};
    nn_model *model = NULL;
    cr_assert_eq(nn_model_create(&model, "small_cnn"), NN_OK);
    model->separate_layers = separate_layers;
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        cr_assert_eq(nn_layer_finish(layers[i]), NN_OK, "%s", nn_error_message());
        cr_assert_eq(nn_model_add(model, layers[i]), NN_OK, "%s", nn_error_message());
        nn_layer_release(layers[i]);
    }
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("sparse_categorical_crossentropy", &loss), NN_OK);
    nn_optimizer_config adam = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    cr_assert_eq(nn_model_compile(model, &adam, &loss, NULL, 0), NN_OK);

    nn_shape x_shape = NN_SHAPE(20, 8, 8, 2), y_shape = NN_SHAPE(20);
    nn_tensor *x = harness_tensor(&x_shape, NULL), *y = NULL;
    cr_assert_eq(nn_tensor_create(&y, NN_DTYPE_I32, &y_shape), NN_OK);
    nn_rng rng;
    nn_rng_init(&rng, 11, 0);
    for (size_t i = 0; i < nn_tensor_count(x); i++)
        nn_tensor_f32(x)[i] = nn_rng_uniform(&rng) * 2.0f - 1.0f;
    for (int i = 0; i < 20; i++)
        ((int32_t *)nn_tensor_data(y))[i] = i % 3;
    nn_fit_options options = nn_fit_defaults();
    options.epochs = 2;
    options.batch_size = 6;
    options.validation_split = 0.25;
    cr_assert_eq(nn_model_fit(model, x, y, &options, NULL, NULL), NN_OK, "%s",
                 nn_error_message());
    nn_tensor *predictions = NULL;
    cr_assert_eq(nn_model_predict(model, x, 7, NULL, &predictions), NN_OK, "%s",
                 nn_error_message());
    size_t weight_count = model->weight_count, prediction_count = nn_tensor_count(predictions);
    *count = weight_count + prediction_count;
    float *weights = malloc(*count * sizeof(float));
    cr_assert(weights != NULL);
    memcpy(weights, nn_model_weights(model), weight_count * sizeof(float));
    memcpy(weights + weight_count, nn_tensor_f32(predictions), prediction_count * sizeof(float));
    nn_tensor_free(predictions);
    nn_tensor_free(x);
    nn_tensor_free(y);
    nn_model_release(model);
    return weights;
}

Test(model_fit, layers_sharing_work_change_no_weight_and_no_prediction)
{
    size_t shared_count, separate_count;
    float *shared = train_small_cnn(false, &shared_count);
    float *separate = train_small_cnn(true, &separate_count);
    cr_assert_eq(shared_count, separate_count);
    for (size_t i = 0; i < shared_count; i++)
        cr_assert(memcmp(&shared[i], &separate[i], sizeof(float)) == 0,
                  "value %zu: %.9g with shared work, %.9g without", i, shared[i],
                  separate[i]);
    free(shared);
    free(separate);
}

Test(model_fit, the_same_seed_gives_the_same_weights)
{
    size_t first_count, second_count;
    float *first = train_small_cnn(false, &first_count);
    float *second = train_small_cnn(false, &second_count);
    cr_assert_eq(first_count, second_count);
    cr_assert(memcmp(first, second, first_count * sizeof(float)) == 0);
    free(first);
    free(second);
}

/* A model of one linear Dense unit, not built yet. */
static nn_model *make_linear_model(const char *name)
{
    nn_model *model = NULL;
    cr_assert_eq(nn_model_create(&model, name), NN_OK);
    nn_layer *dense = make_dense(1, NN_ACTIVATION_LINEAR);
    cr_assert_eq(nn_layer_finish(dense), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_model_add(model, dense), NN_OK, "%s", nn_error_message());
    nn_layer_release(dense);
    return model;
}

/* Keras' weighted_metrics through the engine's API: a zero Dense predicts 0, so each
 * metric is worked out by hand; a weighted metric named as an unweighted one logs as
 * weighted_<name>, and a clash with that name is refused without touching the model. */
Test(model_fit, weighted_metrics_weigh_by_the_sample_weights)
{
    nn_model *model = make_linear_model("weighted");
    nn_shape input = NN_SHAPE(-1, 2);
    cr_assert_eq(nn_model_build(model, &input), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_model_gather_weights(model), NN_OK, "%s", nn_error_message());
    float zeros[3] = {0};
    cr_assert_eq(model->weight_count, 3);
    cr_assert_eq(nn_model_write_weights(model, zeros), NN_OK, "%s", nn_error_message());
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("mse", &loss), NN_OK);
    nn_metric mae, mse, named;
    cr_assert_eq(nn_metric_parse("mae", &loss, &mae), NN_OK);
    cr_assert_eq(nn_metric_parse("mse", &loss, &mse), NN_OK);
    nn_optimizer_config sgd = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    /* An unweighted metric called weighted_mae takes the name the weighted mae needs. */
    named = mse;
    cr_assert_eq(nn_metric_set_name(&named, "weighted_mae"), NN_OK);
    const nn_metric clash[] = {mae, named};
    cr_assert_eq(nn_model_compile_weighted_metrics(model, &sgd, &loss, clash, 2, &mae, 1),
                 NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "would log as 'weighted_mae'"), "%s",
              nn_error_message());
    cr_assert(!model->compiled, "a refused compile changes nothing");
    const nn_metric weighted[] = {mae, mse};
    cr_assert_eq(nn_model_compile_weighted_metrics(model, &sgd, &loss, &mae, 1, weighted, 2),
                 NN_OK, "%s", nn_error_message());
    cr_assert_eq(model->metric_count, 3);
    cr_assert_eq(model->weighted_metric_count, 2);
    cr_assert_str_eq(model->metric_log_names[0], "mae");
    cr_assert_str_eq(model->metric_log_names[1], "weighted_mae");
    cr_assert_str_eq(model->metric_log_names[2], "mse");

    nn_shape x_shape = NN_SHAPE(3, 2), y_shape = NN_SHAPE(3, 1), w_shape = NN_SHAPE(3);
    nn_tensor *x = harness_tensor(&x_shape, NULL), *y = harness_tensor(&y_shape, NULL);
    nn_tensor *w = harness_tensor(&w_shape, NULL);
    const float targets[3] = {1, -2, 3}, weights[3] = {1, 2, 0.5f};
    memcpy(nn_tensor_f32(y), targets, sizeof targets);
    memcpy(nn_tensor_f32(w), weights, sizeof weights);
    memset(nn_tensor_f32(x), 0, nn_tensor_bytes(x));
    nn_logs logs = {0};
    cr_assert_eq(nn_model_evaluate(model, x, y, w, 2, NULL, &logs), NN_OK, "%s",
                 nn_error_message());
    cr_assert_float_eq(nn_logs_get(&logs, "mae"), 2.0, 1e-6);
    cr_assert_float_eq(nn_logs_get(&logs, "weighted_mae"), (1 + 4 + 1.5) / 3.5, 1e-6);
    cr_assert_float_eq(nn_logs_get(&logs, "mse"), (1 + 8 + 4.5) / 3.5, 1e-6);
    /* Without sample weights the weighted ones are the plain means. */
    cr_assert_eq(nn_model_evaluate(model, x, y, NULL, 2, NULL, &logs), NN_OK, "%s",
                 nn_error_message());
    cr_assert_float_eq(nn_logs_get(&logs, "weighted_mae"), 2.0, 1e-6);
    cr_assert_float_eq(nn_logs_get(&logs, "mse"), 14.0 / 3.0, 1e-6);
    nn_tensor_free(x), nn_tensor_free(y), nn_tensor_free(w);
    nn_model_release(model);
}

/* A stop asked for (q, Ctrl-C) during a batch: stopped after the epoch's last batch, the
 * epoch trained whole and the history keeps it; stopped earlier, it keeps only the
 * epochs before. */
typedef struct stop_at {
    int epoch;
    int64_t step;
    volatile sig_atomic_t flag;
} stop_at;

static nn_status request_stop(void *user, int epoch, int64_t step, int64_t steps,
                              const nn_logs *logs)
{
    (void)steps, (void)logs;
    stop_at *stop = user;
    if (epoch == stop->epoch && step == stop->step)
        stop->flag = 1;
    return NN_OK;
}

static int epochs_kept_after_stop(int epoch, int64_t step)
{
    nn_random_seed(3);
    nn_model *model = make_linear_model("stopped");
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("mse", &loss), NN_OK);
    nn_optimizer_config sgd = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    cr_assert_eq(nn_model_compile(model, &sgd, &loss, NULL, 0), NN_OK);
    nn_shape x_shape = NN_SHAPE(8, 2), y_shape = NN_SHAPE(8, 1);
    nn_tensor *x = harness_tensor(&x_shape, NULL), *y = harness_tensor(&y_shape, NULL);
    stop_at stop = {.epoch = epoch, .step = step};
    nn_progress progress = {.user = &stop, .batch_end = request_stop,
                            .stop_requested = &stop.flag};
    nn_fit_options options = nn_fit_defaults();
    options.epochs = 5;
    options.batch_size = 2; /* 6 training rows: 3 batches an epoch */
    options.validation_split = 0.25;
    nn_history history = {0};
    cr_assert_eq(nn_model_fit(model, x, y, &options, &progress, &history), NN_ERR_STOPPED);
    cr_assert_not_null(strstr(nn_error_message(), "stopped by the user"), "%s",
                       nn_error_message());
    int kept = history.epochs;
    if (kept > 0) {
        const nn_logs *last = &history.rows[kept - 1];
        cr_assert_eq(history.epoch_numbers[kept - 1], kept - 1);
        cr_assert(isfinite(nn_logs_get(last, "loss")));
        /* The stop skips the stopped epoch's validation; earlier epochs have theirs. */
        cr_assert(isnan(nn_logs_get(last, "val_loss")) == (history.epochs > epoch));
    }
    nn_history_free(&history);
    nn_tensor_free(x), nn_tensor_free(y);
    nn_model_release(model);
    return kept;
}

Test(model_fit, a_stop_after_an_epochs_last_batch_keeps_that_epoch)
{
    cr_assert_eq(epochs_kept_after_stop(1, 3), 2, "epoch 2 trained whole (3 of 3 batches)");
    cr_assert_eq(epochs_kept_after_stop(1, 2), 1, "epoch 2 stopped at batch 2 of 3");
    cr_assert_eq(epochs_kept_after_stop(0, 1), 0, "epoch 1 stopped at its first batch");
}
