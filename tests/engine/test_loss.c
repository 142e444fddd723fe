/* Losses and metrics: each loss and path (fused with softmax/sigmoid, from_logits,
 * clipped probabilities through the last activation) against a double reference and
 * its finite-difference gradient; label checks; metric sums. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss.h"
#include "ref_core.h"
#include "test_support.h"

/* One loss path to check: logits drawn from [low, high). */
typedef struct loss_case {
    const char *what;
    nn_loss_kind kind;
    bool from_logits;
    nn_activation_kind last;
    float low, high;
    bool hard_labels; /* one-hot / 0-1 targets rather than soft ones (hinge: else -1/1) */
    double delta;     /* huber's (0: the default, 1) */
} loss_case;

typedef struct reference_context {
    const loss_case *c;
    const double *labels;
    int64_t batch, width;
} reference_context;

static double reference_of_logits(const double *logits, size_t n, void *context)
{
    (void)n;
    const reference_context *r = context;
    return ref_loss(r->c->kind, r->c->from_logits, r->c->delta, r->c->last, logits, r->labels,
                    r->batch, r->width);
}

/* Labels fitting the loss: class ids, one-hot or soft distributions, 0/1 or soft binary
 * targets, or real values. */
static void make_labels(float *labels, const loss_case *c, int64_t batch, int64_t width,
                        uint64_t seed)
{
    size_t n = (size_t)(batch * width);
    float *u = malloc(n * sizeof *u);
    ts_fill_uniform(u, n, seed, 0.0f, 1.0f);
    switch (c->kind) {
    case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        for (int64_t b = 0; b < batch; b++)
            labels[b] = (float)((int64_t)(u[b] * (float)width) % width);
        break;
    case NN_LOSS_CATEGORICAL_CROSSENTROPY:
    case NN_LOSS_KL_DIVERGENCE:
    case NN_LOSS_CATEGORICAL_HINGE:
        for (int64_t b = 0; b < batch; b++) {
            float sum = 0.0f;
            int64_t hot = (int64_t)(u[b * width] * (float)width) % width;
            for (int64_t j = 0; j < width; j++) {
                labels[b * width + j] = c->hard_labels ? (j == hot ? 1.0f : 0.0f)
                                                       : u[b * width + j] + 0.1f;
                sum += labels[b * width + j];
            }
            for (int64_t j = 0; j < width; j++)
                labels[b * width + j] /= sum;
        }
        break;
    case NN_LOSS_BINARY_CROSSENTROPY:
        for (size_t i = 0; i < n; i++)
            labels[i] = c->hard_labels ? (u[i] > 0.5f ? 1.0f : 0.0f) : u[i];
        break;
    case NN_LOSS_HINGE:
    case NN_LOSS_SQUARED_HINGE:
        for (size_t i = 0; i < n; i++)
            labels[i] = (u[i] > 0.5f ? 1.0f : 0.0f) * (c->hard_labels ? 1.0f : 2.0f) -
                        (c->hard_labels ? 0.0f : 1.0f);
        break;
    case NN_LOSS_POISSON:
        for (size_t i = 0; i < n; i++)
            labels[i] = floorf(4.0f * u[i]); /* counts 0 to 3 */
        break;
    case NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR:
        for (size_t i = 0; i < n; i++)
            labels[i] = 2.0f * u[i];
        break;
    default:
        for (size_t i = 0; i < n; i++)
            labels[i] = 2.0f * u[i] - 1.0f;
        break;
    }
    free(u);
}

/* Sample weights as Keras applies them: the batch loss is the sum over rows of weight
 * times the row's own loss (the loss of a batch of that row alone), divided by the whole
 * batch; each row's gradient scales the same way. Weights 0, 0.5, 1, 1.5, ... */
static void check_sample_weights(const nn_loss *loss, nn_activation last, const float *pred,
                                 const float *logits, const float *labels, int64_t batch,
                                 int64_t width, const char *what)
{
    size_t n = (size_t)(batch * width);
    int64_t label_width = loss->kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : width;
    float *weights = malloc((size_t)batch * sizeof *weights);
    float *weighted = malloc(n * sizeof *weighted), *alone = malloc(n * sizeof *alone);
    double *expected_gradient = malloc(n * sizeof *expected_gradient);
    for (int64_t b = 0; b < batch; b++)
        weights[b] = 0.5f * (float)(b % 4);
    double value = nn_loss_forward_backward(loss, last, weighted, pred, logits, labels, weights,
                                            batch, width);
    double expected = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        double row = nn_loss_forward_backward(loss, last, alone + b * width, pred + b * width,
                                              logits + b * width, labels + b * label_width,
                                              NULL, 1, width);
        expected += (double)weights[b] * row / (double)batch;
        for (int64_t j = 0; j < width; j++)
            expected_gradient[b * width + j] = (double)alone[b * width + j] *
                                               (double)weights[b] / (double)batch;
    }
    cr_expect(fabs(value - expected) <= 1e-12 * fmax(1.0, fabs(expected)),
              "%s with sample weights: loss %.17g, expected %.17g", what, value, expected);
    ts_comparison check = ts_compare(weighted, expected_gradient, n, 1e-7, 1e-6);
    cr_expect(check.ok, "%s with sample weights: dlogits[%zu] = %.9g, expected %.9g", what,
              check.worst_index, check.actual, check.expected);
    for (int64_t j = 0; j < width; j++)
        cr_expect(weighted[j] == 0.0f, "%s: a row of weight 0 has gradient %g", what,
                  (double)weighted[j]);
    free(weights);
    free(weighted);
    free(alone);
    free(expected_gradient);
}

static void check_loss(const loss_case *c, int64_t batch, int64_t width, uint64_t seed)
{
    size_t n = (size_t)(batch * width);
    size_t label_count = c->kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? (size_t)batch : n;
    float *logits = malloc(n * sizeof *logits), *pred = malloc(n * sizeof *pred);
    float *dlogits = malloc(n * sizeof *dlogits), *labels = malloc(n * sizeof *labels);
    double *logits_d = malloc(n * sizeof *logits_d), *labels_d = malloc(n * sizeof *labels_d);
    double *numeric = malloc(n * sizeof *numeric);
    ts_fill_uniform(logits, n, seed, c->low, c->high);
    make_labels(labels, c, batch, width, seed + 100);
    nn_activation last = nn_activation_default(c->last);
    nn_activation_forward(last, pred, logits, n, (size_t)width);
    nn_loss loss = {c->kind, c->from_logits, 0.0, c->delta > 0.0 ? c->delta : 1.0};

    double value = nn_loss_forward_backward(&loss, last, dlogits, pred, logits, labels, NULL,
                                            batch, width);
    double value_only = nn_loss_forward_backward(&loss, last, NULL, pred, logits, labels, NULL,
                                                 batch, width);
    ts_to_double(logits_d, logits, n);
    ts_to_double(labels_d, labels, label_count);
    loss_case with_delta = *c;
    with_delta.delta = loss.delta;
    reference_context context = {&with_delta, labels_d, batch, width};
    double expected = reference_of_logits(logits_d, n, &context);
    ts_numeric_gradient(reference_of_logits, &context, logits_d, n, 1e-6, numeric);

    char what[160];
    snprintf(what, sizeof what, "%s: loss", c->what);
    ts_comparison value_check = ts_compare_double(&value, &expected, 1, 1e-6, 1e-5);
    ts_report(what, &value_check);
    snprintf(what, sizeof what, "%s: dlogits vs finite differences", c->what);
    ts_comparison gradient_check = ts_compare(dlogits, numeric, n, 1e-5, 1e-3);
    ts_report(what, &gradient_check);
    cr_expect(isfinite(value) && value_check.ok, "%s: loss %.9g, reference %.9g", c->what,
              value, expected);
    cr_expect(value_only == value, "%s: the loss must not depend on dlogits", c->what);
    cr_expect(gradient_check.ok, "%s: dlogits[%zu] = %.9g, finite differences %.9g", c->what,
              gradient_check.worst_index, gradient_check.actual, gradient_check.expected);
    check_sample_weights(&loss, last, pred, logits, labels, batch, width, c->what);
    free(logits);
    free(pred);
    free(dlogits);
    free(labels);
    free(logits_d);
    free(labels_d);
    free(numeric);
}

#define SCE NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
#define CCE NN_LOSS_CATEGORICAL_CROSSENTROPY
#define BCE NN_LOSS_BINARY_CROSSENTROPY

Test(loss, sparse_categorical_crossentropy_paths)
{
    static const loss_case cases[] = {
        {"sparse CE, softmax (fused)", SCE, false, NN_ACTIVATION_SOFTMAX, -3, 3, true, 0},
        {"sparse CE, from_logits", SCE, true, NN_ACTIVATION_LINEAR, -3, 3, true, 0},
        {"sparse CE, from_logits after softmax (fused)", SCE, true, NN_ACTIVATION_SOFTMAX, -3,
         3, true, 0},
        {"sparse CE, probabilities (linear)", SCE, false, NN_ACTIVATION_LINEAR, 0.05f, 0.95f,
         true, 0},
        {"sparse CE, probabilities through sigmoid", SCE, false, NN_ACTIVATION_SIGMOID, -3, 3,
         true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_loss(&cases[i], 7, 5, 10 + i);
}

Test(loss, categorical_crossentropy_paths)
{
    static const loss_case cases[] = {
        {"CE, softmax (fused), one-hot", CCE, false, NN_ACTIVATION_SOFTMAX, -3, 3, true, 0},
        {"CE, softmax (fused), soft labels", CCE, false, NN_ACTIVATION_SOFTMAX, -3, 3, false, 0},
        {"CE, from_logits", CCE, true, NN_ACTIVATION_LINEAR, -3, 3, false, 0},
        {"CE, probabilities (linear), normalised", CCE, false, NN_ACTIVATION_LINEAR, 0.05f,
         0.95f, false, 0},
        {"CE, probabilities through sigmoid", CCE, false, NN_ACTIVATION_SIGMOID, -2, 2, true, 0},
        {"CE, probabilities through tanh", CCE, false, NN_ACTIVATION_TANH, 0.1f, 2, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_loss(&cases[i], 6, 4, 20 + i);
}

Test(loss, binary_crossentropy_paths)
{
    static const loss_case cases[] = {
        {"BCE, sigmoid (fused), 0/1", BCE, false, NN_ACTIVATION_SIGMOID, -4, 4, true, 0},
        {"BCE, sigmoid (fused), soft", BCE, false, NN_ACTIVATION_SIGMOID, -4, 4, false, 0},
        {"BCE, from_logits", BCE, true, NN_ACTIVATION_LINEAR, -4, 4, false, 0},
        {"BCE, probabilities (linear)", BCE, false, NN_ACTIVATION_LINEAR, 0.05f, 0.95f, false, 0},
        {"BCE, probabilities through softmax", BCE, false, NN_ACTIVATION_SOFTMAX, -2, 2, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_loss(&cases[i], 5, 3, 30 + i);
    /* One output column, as a binary classifier has. */
    check_loss(&cases[0], 9, 1, 39);
}

Test(loss, regression_losses)
{
    static const loss_case cases[] = {
        {"MSE, linear", NN_LOSS_MEAN_SQUARED_ERROR, false, NN_ACTIVATION_LINEAR, -2, 2, false, 0},
        {"MSE, through tanh", NN_LOSS_MEAN_SQUARED_ERROR, false, NN_ACTIVATION_TANH, -2, 2,
         false, 0},
        {"MSE, through softmax", NN_LOSS_MEAN_SQUARED_ERROR, false, NN_ACTIVATION_SOFTMAX, -2,
         2, false, 0},
        {"MAE, linear", NN_LOSS_MEAN_ABSOLUTE_ERROR, false, NN_ACTIVATION_LINEAR, -2, 2, false, 0},
        {"MAE, through sigmoid", NN_LOSS_MEAN_ABSOLUTE_ERROR, false, NN_ACTIVATION_SIGMOID, -2,
         2, false, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_loss(&cases[i], 6, 3, 40 + i);
}

#define LIN NN_ACTIVATION_LINEAR
#define SOFTMAX NN_ACTIVATION_SOFTMAX
#define SIGMOID NN_ACTIVATION_SIGMOID

/* The losses added after Keras' first five, each after a linear, softmax and sigmoid
 * last layer, against the naive double reference (ref_loss) and its central
 * differences, with and without sample weights. */
Test(loss, keras_regression_and_hinge_losses)
{
    static const loss_case cases[] = {
        {"huber, linear", NN_LOSS_HUBER, false, LIN, -3, 3, false, 0},
        {"huber delta 2, linear", NN_LOSS_HUBER, false, LIN, -4, 4, false, 2.0},
        {"huber delta 0.1, softmax", NN_LOSS_HUBER, false, SOFTMAX, -3, 3, false, 0.1},
        {"huber delta 0.3, sigmoid", NN_LOSS_HUBER, false, SIGMOID, -3, 3, false, 0.3},
        {"log_cosh, linear", NN_LOSS_LOG_COSH, false, LIN, -4, 4, false, 0},
        {"log_cosh, softmax", NN_LOSS_LOG_COSH, false, SOFTMAX, -3, 3, false, 0},
        {"log_cosh, sigmoid", NN_LOSS_LOG_COSH, false, SIGMOID, -3, 3, false, 0},
        {"kl_divergence, softmax, soft labels", NN_LOSS_KL_DIVERGENCE, false, SOFTMAX, -3, 3,
         false, 0},
        {"kl_divergence, softmax, one-hot (zeros clipped)", NN_LOSS_KL_DIVERGENCE, false,
         SOFTMAX, -3, 3, true, 0},
        {"kl_divergence, sigmoid", NN_LOSS_KL_DIVERGENCE, false, SIGMOID, -3, 3, false, 0},
        {"kl_divergence, linear inside (0, 1)", NN_LOSS_KL_DIVERGENCE, false, LIN, 0.05f, 0.95f,
         false, 0},
        {"poisson, softmax", NN_LOSS_POISSON, false, SOFTMAX, -3, 3, false, 0},
        {"poisson, sigmoid", NN_LOSS_POISSON, false, SIGMOID, -3, 3, false, 0},
        {"poisson, linear > 0", NN_LOSS_POISSON, false, LIN, 0.1f, 3, false, 0},
        {"hinge, linear, 0/1 labels", NN_LOSS_HINGE, false, LIN, -2, 2, true, 0},
        {"hinge, linear, -1/1 labels", NN_LOSS_HINGE, false, LIN, -2, 2, false, 0},
        {"hinge, sigmoid, 0/1 labels", NN_LOSS_HINGE, false, SIGMOID, -3, 3, true, 0},
        {"hinge, softmax, -1/1 labels", NN_LOSS_HINGE, false, SOFTMAX, -3, 3, false, 0},
        {"squared_hinge, linear, 0/1 labels", NN_LOSS_SQUARED_HINGE, false, LIN, -2, 2, true,
         0},
        {"squared_hinge, linear, -1/1 labels", NN_LOSS_SQUARED_HINGE, false, LIN, -2, 2, false,
         0},
        {"squared_hinge, sigmoid", NN_LOSS_SQUARED_HINGE, false, SIGMOID, -3, 3, true, 0},
        {"squared_hinge, softmax", NN_LOSS_SQUARED_HINGE, false, SOFTMAX, -3, 3, false, 0},
        {"categorical_hinge, linear", NN_LOSS_CATEGORICAL_HINGE, false, LIN, -2, 2, true, 0},
        {"categorical_hinge, softmax", NN_LOSS_CATEGORICAL_HINGE, false, SOFTMAX, -3, 3, true,
         0},
        {"categorical_hinge, sigmoid", NN_LOSS_CATEGORICAL_HINGE, false, SIGMOID, -3, 3, true,
         0},
        {"cosine_similarity, linear", NN_LOSS_COSINE_SIMILARITY, false, LIN, -2, 2, false, 0},
        {"cosine_similarity, softmax", NN_LOSS_COSINE_SIMILARITY, false, SOFTMAX, -3, 3, false,
         0},
        {"cosine_similarity, sigmoid", NN_LOSS_COSINE_SIMILARITY, false, SIGMOID, -3, 3, false,
         0},
        {"mape, linear", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR, false, LIN, -2, 2, false, 0},
        {"mape, softmax", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR, false, SOFTMAX, -3, 3, false,
         0},
        {"mape, sigmoid", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR, false, SIGMOID, -3, 3, false,
         0},
        {"msle, linear (some below 0, clipped)", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR, false,
         LIN, -0.5f, 2, false, 0},
        {"msle, softmax", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR, false, SOFTMAX, -3, 3, false,
         0},
        {"msle, sigmoid", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR, false, SIGMOID, -3, 3, false,
         0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        check_loss(&cases[i], 6, 4, 70 + i);
        check_loss(&cases[i], 5, 1, 170 + i); /* one output column */
    }
}

Test(loss, extreme_logits_stay_finite_and_exact)
{
    static const loss_case cases[] = {
        {"sparse CE, softmax, logits +-50", SCE, false, NN_ACTIVATION_SOFTMAX, -50, 50, true, 0},
        {"CE, softmax, logits +-50", CCE, false, NN_ACTIVATION_SOFTMAX, -50, 50, true, 0},
        {"sparse CE, from_logits, logits +-50", SCE, true, NN_ACTIVATION_LINEAR, -50, 50, true, 0},
        {"BCE, sigmoid, logits +-50", BCE, false, NN_ACTIVATION_SIGMOID, -50, 50, true, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_loss(&cases[i], 8, 10, 50 + i);

    /* The true class has by far the lowest logit: a loss near 100, no overflow. */
    float logits[3] = {50.0f, -50.0f, 0.0f}, pred[3], dlogits[3], label = 1.0f;
    nn_activation softmax = nn_activation_default(NN_ACTIVATION_SOFTMAX);
    nn_activation_forward(softmax, pred, logits, 3, 3);
    nn_loss loss = {SCE, false, 0.0, 1.0};
    double value = nn_loss_forward_backward(&loss, softmax, dlogits, pred, logits, &label, NULL, 1, 3);
    double expected = 100.0 + log1p(exp(-50.0) + exp(-100.0));
    cr_assert(fabs(value - expected) < 1e-9, "loss %.12g, expected %.12g", value, expected);
    cr_assert(fabsf(dlogits[0] - 1.0f) < 1e-6f && fabsf(dlogits[1] + 1.0f) < 1e-6f,
              "dlogits %g %g %g", (double)dlogits[0], (double)dlogits[1], (double)dlogits[2]);
}

Test(loss, probabilities_are_clipped_like_keras)
{
    /* A linear output with an exact 0 for the true class: -log(1e-7), and no NaN. */
    float pred[3] = {1.0f, 0.0f, 0.0f}, onehot[3] = {0.0f, 1.0f, 0.0f}, dpred[3];
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    nn_loss loss = {CCE, false, 0.0, 1.0};
    double value = nn_loss_forward_backward(&loss, linear, dpred, pred, pred, onehot, NULL, 1, 3);
    cr_assert(fabs(value - -log(1e-7)) < 1e-9, "loss %.12g", value);
    for (int j = 0; j < 3; j++)
        cr_assert(isfinite(dpred[j]), "dpred[%d] = %g", j, (double)dpred[j]);
    float label = 1.0f;
    loss.kind = SCE;
    value = nn_loss_forward_backward(&loss, linear, dpred, pred, pred, &label, NULL, 1, 3);
    double expected = -log(1e-7) + log((1.0 - 1e-7) + 2e-7);
    cr_assert(fabs(value - expected) < 1e-9, "sparse loss %.12g, expected %.12g", value,
              expected);
    float target = 1.0f, probability = 0.0f, dprobability;
    loss.kind = BCE;
    value = nn_loss_forward_backward(&loss, linear, &dprobability, &probability, &probability,
                                     &target, NULL, 1, 1);
    cr_assert(fabs(value - -log(1e-7)) < 1e-9 && isfinite(dprobability), "BCE %.12g", value);
}

Test(loss, unchecked_bad_class_ids_give_nan_not_a_crash)
{
    float logits[6] = {1, 2, 3, 1, 2, 3}, pred[6], dlogits[6], labels[2] = {7.0f, NAN};
    nn_activation softmax = nn_activation_default(NN_ACTIVATION_SOFTMAX);
    nn_activation_forward(softmax, pred, logits, 6, 3);
    nn_loss loss = {SCE, false, 0.0, 1.0};
    cr_assert(isnan(nn_loss_forward_backward(&loss, softmax, dlogits, pred, logits, labels,
                                             NULL, 2, 3)));
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    cr_assert(isnan(nn_loss_forward_backward(&loss, linear, dlogits, pred, pred, labels, NULL,
                                             2, 3)));
    for (int i = 0; i < 6; i++)
        cr_assert_eq(dlogits[i], 0.0f);
}

/* ---- names ---- */

Test(loss, names_and_aliases)
{
    static const struct {
        const char *name;
        nn_loss_kind kind;
    } cases[] = {
        {"sparse_categorical_crossentropy", SCE},
        {"SparseCategoricalCrossentropy", SCE},
        {"categorical_crossentropy", CCE},
        {"binary_crossentropy", BCE},
        {"mse", NN_LOSS_MEAN_SQUARED_ERROR},
        {"mean_squared_error", NN_LOSS_MEAN_SQUARED_ERROR},
        {"MAE", NN_LOSS_MEAN_ABSOLUTE_ERROR},
        {"mean_absolute_error", NN_LOSS_MEAN_ABSOLUTE_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_loss loss = {.from_logits = true};
        cr_assert_eq(nn_loss_parse(cases[i].name, &loss), NN_OK, "%s", cases[i].name);
        cr_assert_eq(loss.kind, cases[i].kind, "%s", cases[i].name);
        cr_assert(!loss.from_logits);
    }
    cr_assert_str_eq(nn_loss_name(NN_LOSS_MEAN_SQUARED_ERROR), "mean_squared_error");
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("crossentropy", &loss), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "'sparse_categorical_crossentropy'") &&
                  strstr(nn_error_message(), "'mse'"),
              "%s", nn_error_message());
}

/* ---- label checks ---- */

static nn_tensor *label_tensor(nn_shape shape, nn_dtype dtype, const double *values)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, dtype, &shape), NN_OK);
    for (size_t i = 0; i < nn_tensor_count(t); i++)
        nn_tensor_set(t, i, values ? values[i] : (double)(i % 2));
    return t;
}

/* Runs the check and returns its status; the message stays in nn_error_message(). */
static nn_status check_labels(nn_loss_kind kind, nn_shape output, nn_shape shape,
                              nn_dtype dtype, const double *values)
{
    nn_loss loss = {kind, false, 0.0, 1.0};
    nn_tensor *labels = label_tensor(shape, dtype, values);
    nn_error_clear();
    nn_status status = nn_loss_check_labels(&loss, &output, labels);
    nn_tensor_free(labels);
    return status;
}

#define MESSAGE_HAS(text) \
    cr_assert(strstr(nn_error_message(), text) != NULL, "message lacks \"%s\": %s", text, \
              nn_error_message())

Test(loss_labels, sparse_labels_in_range_pass)
{
    double ids[4] = {0, 9, 3, 7};
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(4), NN_DTYPE_F32, ids), NN_OK);
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(4, 1), NN_DTYPE_F32, ids), NN_OK);
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(4), NN_DTYPE_U8, ids), NN_OK);
    cr_assert_eq(check_labels(SCE, NN_SHAPE(-1, 10), NN_SHAPE(4), NN_DTYPE_I64, ids), NN_OK);
}

Test(loss_labels, sparse_label_out_of_range_names_value_and_index)
{
    double ids[5] = {0, 1, 10, 3, 11};
    cr_assert_eq(check_labels(SCE, NN_SHAPE(5, 10), NN_SHAPE(5), NN_DTYPE_F32, ids),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("label 10 of sample 3 is out of range");
    MESSAGE_HAS("[0, 10)");
    double negative[2] = {1, -1};
    cr_assert_eq(check_labels(SCE, NN_SHAPE(2, 10), NN_SHAPE(2), NN_DTYPE_I32, negative),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("label -1 of sample 2 is out of range");
}

Test(loss_labels, sparse_label_not_integer)
{
    double ids[3] = {1, 2.5, 3};
    cr_assert_eq(check_labels(SCE, NN_SHAPE(3, 10), NN_SHAPE(3), NN_DTYPE_F32, ids),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("label 2.5 of sample 2 is not an integer class id");
    MESSAGE_HAS("not an integer");
    double nan_ids[2] = {NAN, 1};
    cr_assert_eq(check_labels(SCE, NN_SHAPE(2, 10), NN_SHAPE(2), NN_DTYPE_F32, nan_ids),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("label nan of sample 1 is not an integer");
}

Test(loss_labels, sparse_labels_of_the_wrong_shape)
{
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(4, 10), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("one-hot");
    MESSAGE_HAS("loss='categorical_crossentropy'");
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(4, 3), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("(4, 3)");
}

Test(loss_labels, integer_labels_with_categorical_crossentropy_suggest_sparse)
{
    double ids[4] = {1, 2, 3, 4};
    cr_assert_eq(check_labels(CCE, NN_SHAPE(4, 10), NN_SHAPE(4), NN_DTYPE_U8, ids),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("sparse_categorical_crossentropy");
    MESSAGE_HAS("(4, 10)");
    MESSAGE_HAS("(4,)");
    cr_assert_eq(check_labels(CCE, NN_SHAPE(-1, 10), NN_SHAPE(4, 1), NN_DTYPE_F32, ids),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("sparse_categorical_crossentropy");
    cr_assert_eq(check_labels(CCE, NN_SHAPE(4, 10), NN_SHAPE(4, 10), NN_DTYPE_F32, NULL),
                 NN_OK);
}

Test(loss_labels, per_sample_labels_for_a_per_position_output_suggest_flatten)
{
    /* Dense{128, input_shape = {28, 28}} without a Flatten: (None, 28, 10). */
    cr_assert_eq(check_labels(SCE, NN_SHAPE(-1, 28, 10), NN_SHAPE(4), NN_DTYPE_I64, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("received labels of shape (4,); the labels have one entry per sample");
    MESSAGE_HAS("add a Flatten or a global pooling layer before the last layers, or set "
                "return_sequences=false");
    cr_assert_eq(check_labels(CCE, NN_SHAPE(-1, 28, 10), NN_SHAPE(4, 10), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("add a Flatten");
    cr_assert_eq(check_labels(NN_LOSS_MEAN_SQUARED_ERROR, NN_SHAPE(-1, 5, 1), NN_SHAPE(4),
                              NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("add a Flatten");
    /* Labels per position that merely disagree get no such advice. */
    cr_assert_eq(check_labels(CCE, NN_SHAPE(-1, 28, 10), NN_SHAPE(4, 28, 3), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "Flatten") == NULL, "%s", nn_error_message());
    cr_assert_eq(check_labels(SCE, NN_SHAPE(-1, 10), NN_SHAPE(4, 3), NN_DTYPE_I64, NULL),
                 NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "Flatten") == NULL, "%s", nn_error_message());
}

Test(loss_labels, batch_sizes_must_match)
{
    cr_assert_eq(check_labels(SCE, NN_SHAPE(4, 10), NN_SHAPE(5), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    MESSAGE_HAS("5 samples");
    MESSAGE_HAS("4");
    cr_assert_eq(check_labels(CCE, NN_SHAPE(4, 10), NN_SHAPE(3, 10), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
}

Test(loss_labels, binary_and_regression_shapes_and_values)
{
    cr_assert_eq(check_labels(BCE, NN_SHAPE(4, 1), NN_SHAPE(4), NN_DTYPE_F32, NULL), NN_OK);
    cr_assert_eq(check_labels(BCE, NN_SHAPE(4, 1), NN_SHAPE(4, 1), NN_DTYPE_F32, NULL), NN_OK);
    cr_assert_eq(check_labels(BCE, NN_SHAPE(4, 3), NN_SHAPE(4), NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    double targets[4] = {0, 1, 1.5, 0};
    cr_assert_eq(check_labels(BCE, NN_SHAPE(4, 1), NN_SHAPE(4), NN_DTYPE_F32, targets),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("label 1.5 of sample 3 is not in [0, 1]");
    cr_assert_eq(check_labels(NN_LOSS_MEAN_SQUARED_ERROR, NN_SHAPE(4, 3), NN_SHAPE(4, 3),
                              NN_DTYPE_F32, NULL),
                 NN_OK);
    cr_assert_eq(check_labels(NN_LOSS_MEAN_ABSOLUTE_ERROR, NN_SHAPE(4, 3), NN_SHAPE(4),
                              NN_DTYPE_F32, NULL),
                 NN_ERR_SHAPE);
    double infinite[3] = {0, INFINITY, 0};
    cr_assert_eq(check_labels(NN_LOSS_MEAN_SQUARED_ERROR, NN_SHAPE(3, 1), NN_SHAPE(3, 1),
                              NN_DTYPE_F32, infinite),
                 NN_ERR_NUMERIC);
    MESSAGE_HAS("the label of sample 2 is inf");
    double wide[6] = {0, 1, 2, 3, NAN, 5};
    cr_assert_eq(check_labels(NN_LOSS_MEAN_SQUARED_ERROR, NN_SHAPE(2, 3), NN_SHAPE(2, 3),
                              NN_DTYPE_F32, wide),
                 NN_ERR_NUMERIC);
    MESSAGE_HAS("the label of sample 2 (entry 2 of 3) is nan");
}

/* ---- metrics ---- */

Test(metrics, accuracy_is_resolved_as_keras_does_and_keeps_its_name)
{
    nn_loss sparse = {SCE, false, 0.0, 1.0}, categorical = {CCE, false, 0.0, 1.0}, binary = {BCE, false, 0.0, 1.0};
    nn_loss mse = {NN_LOSS_MEAN_SQUARED_ERROR, false, 0.0, 1.0};
    nn_metric metric;
    cr_assert_eq(nn_metric_parse("accuracy", &sparse, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_SPARSE_CATEGORICAL_ACCURACY);
    cr_assert_str_eq(metric.name, "accuracy");
    /* The other losses take labels of the output's shape: the width decides. */
    cr_assert_eq(nn_metric_parse("acc", &categorical, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_ACCURACY);
    cr_assert_str_eq(metric.name, "acc");
    cr_assert_eq(nn_metric_parse("accuracy", &binary, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_ACCURACY);
    cr_assert_eq(nn_metric_parse("accuracy", &mse, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_ACCURACY); /* decided by the output's width */
    cr_assert_eq(nn_metric_parse("mse", &mse, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_MEAN_SQUARED_ERROR);
    cr_assert_eq(nn_metric_parse("binary_accuracy", &binary, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_BINARY_ACCURACY);
    cr_assert_eq(nn_metric_parse("accuracyy", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("'sparse_categorical_accuracy'");
}

Test(metrics, keras_class_names_are_the_class_at_its_defaults_named_as_keras_names_it)
{
    nn_loss binary = {BCE, false, 0.0, 1.0}, sparse = {SCE, false, 0.0, 1.0};
    static const struct {
        const char *given, *logged;
        nn_metric_kind kind;
    } cases[] = {
        {"Precision", "precision", NN_METRIC_PRECISION},
        {"Recall", "recall", NN_METRIC_RECALL},
        {"AUC", "auc", NN_METRIC_AUC},
        {"RootMeanSquaredError", "root_mean_squared_error", NN_METRIC_ROOT_MEAN_SQUARED_ERROR},
        {"LogCoshError", "logcosh", NN_METRIC_LOG_COSH},
        {"KLDivergence", "kl_divergence", NN_METRIC_KL_DIVERGENCE},
        {"BinaryAccuracy", "binary_accuracy", NN_METRIC_BINARY_ACCURACY},
    };
    nn_metric metric;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(nn_metric_parse(cases[i].given, &binary, &metric), NN_OK, "%s: %s",
                     cases[i].given, nn_error_message());
        cr_expect_str_eq(metric.name, cases[i].logged, "%s logs as %s, got %s", cases[i].given,
                         cases[i].logged, metric.name);
        cr_expect_eq(metric.kind, cases[i].kind, "%s", cases[i].given);
        cr_expect(nn_metric_is_plain(&metric, &binary), "%s is saved by its name", cases[i].given);
    }
    cr_assert_eq(nn_metric_parse("SparseCategoricalAccuracy", &sparse, &metric), NN_OK);
    cr_expect_str_eq(metric.name, "sparse_categorical_accuracy");
    /* The label check names the metric as it was given. */
    cr_assert_eq(nn_metric_parse("CategoricalAccuracy", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("metric 'CategoricalAccuracy' reads labels of the output's shape");
    cr_assert_eq(nn_metric_parse("Precisionn", &binary, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("unknown metric 'Precisionn' (did you mean 'Precision'?); expected one of 'accuracy', ");
    MESSAGE_HAS("or a metric class such as 'Precision' or 'AUC'");
}

Test(metrics, refuses_labels_of_the_other_layout)
{
    /* The sparse loss takes one class id per row, the others labels of the output's shape;
     * a metric reading the other layout would read the wrong values. */
    nn_loss sparse = {SCE, false, 0.0, 1.0}, categorical = {CCE, false, 0.0, 1.0};
    nn_loss huber = {NN_LOSS_HUBER, false, 0.0, 1.0};
    nn_metric metric;
    cr_assert_eq(nn_metric_parse("categorical_accuracy", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("metric 'categorical_accuracy' reads labels of the output's shape, but loss "
                "'sparse_categorical_crossentropy' takes one class id per row; use "
                "'sparse_categorical_accuracy' (or 'accuracy')");
    cr_assert_eq(nn_metric_parse("top_k_categorical_accuracy", &sparse, &metric),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("use 'sparse_top_k_categorical_accuracy'");
    cr_assert_eq(nn_metric_parse("mae", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("train with 'categorical_crossentropy' on one-hot labels");
    cr_assert_eq(nn_metric_parse("binary_accuracy", &sparse, &metric), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_parse("kld", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("metric 'kld' reads labels of the output's shape");
    cr_assert_eq(nn_metric_parse("sparse_categorical_accuracy", &categorical, &metric),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("metric 'sparse_categorical_accuracy' reads one class id per row, but loss "
                "'categorical_crossentropy' takes labels of the output's shape; use "
                "'categorical_accuracy' (or 'accuracy')");
    cr_assert_eq(nn_metric_parse("sparse_top_k_categorical_accuracy", &huber, &metric),
                 NN_ERR_ARGUMENT);
    MESSAGE_HAS("loss 'huber' takes labels of the output's shape; use "
                "'top_k_categorical_accuracy'");
    /* The matching pairs, and 'accuracy' with either. */
    cr_assert_eq(nn_metric_parse("sparse_categorical_accuracy", &sparse, &metric), NN_OK);
    cr_assert_eq(nn_metric_parse("categorical_accuracy", &categorical, &metric), NN_OK);
    cr_assert_eq(nn_metric_parse("accuracy", &huber, &metric), NN_OK);
    cr_assert_eq(nn_metric_parse("accuracy", &sparse, &metric), NN_OK);
}

Test(metrics, precision_and_recall_count_and_divide)
{
    /* Two rows of three: predicted positives (> 0.5) 0, 2 and 1, 2; labels other than 0
     * are positive. */
    const float pred[6] = {0.9f, 0.5f, 0.7f, 0.2f, 0.51f, 0.8f};
    const float labels[6] = {1, 1, 0, 0.5f, 0, 0};
    nn_metric precision = {.kind = NN_METRIC_PRECISION}, recall = {.kind = NN_METRIC_RECALL};
    nn_metric predicted = {.kind = nn_metric_denominator(NN_METRIC_PRECISION)};
    nn_metric actual = {.kind = nn_metric_denominator(NN_METRIC_RECALL)};
    cr_assert_eq(predicted.kind, NN_METRIC_PREDICTED_POSITIVES);
    cr_assert_eq(actual.kind, NN_METRIC_ACTUAL_POSITIVES);
    cr_assert_eq(nn_metric_denominator(NN_METRIC_MEAN_SQUARED_ERROR), NN_METRIC_COUNT);
    cr_assert_eq(nn_metric_sum(&precision, pred, labels, 2, 3), 1.0); /* only 0.9 vs 1 */
    cr_assert_eq(nn_metric_sum(&recall, pred, labels, 2, 3), 1.0);
    cr_assert_eq(nn_metric_sum(&predicted, pred, labels, 2, 3), 4.0);
    cr_assert_eq(nn_metric_sum(&actual, pred, labels, 2, 3), 3.0);
    cr_assert_eq(nn_metric_finish(&precision, 1.0, 4.0), 0.25);
    cr_assert_eq(nn_metric_finish(&recall, 0.0, 0.0), 0.0); /* nothing counted: 0 */
    nn_loss mse = {NN_LOSS_MEAN_SQUARED_ERROR, false, 0.0, 1.0};
    nn_loss sparse = {SCE, false, 0.0, 1.0};
    nn_metric parsed;
    cr_assert_eq(nn_metric_parse("precision", &mse, &parsed), NN_OK);
    cr_assert_eq(parsed.kind, NN_METRIC_PRECISION);
    cr_assert_eq(nn_metric_parse("recall", &sparse, &parsed), NN_ERR_ARGUMENT);
    MESSAGE_HAS("metric 'recall' reads labels of the output's shape");
}

Test(metrics, settings_of_metric_objects)
{
    nn_loss categorical = {CCE, false, 0.0, 1.0};
    nn_metric metric;
    cr_assert_eq(nn_metric_parse("top_k_categorical_accuracy", &categorical, &metric), NN_OK);
    cr_assert(nn_metric_is_plain(&metric, &categorical));
    cr_assert_eq(nn_metric_top_k(&metric), 5);
    cr_assert_eq(nn_metric_set_top_k(&metric, 0), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_threshold(&metric, 0.5), NN_ERR_ARGUMENT);
    MESSAGE_HAS("top_k_categorical_accuracy takes no threshold");
    cr_assert_eq(nn_metric_set_top_k(&metric, 1), NN_OK);
    cr_assert_eq(nn_metric_top_k(&metric), 1);
    cr_assert(!nn_metric_is_plain(&metric, &categorical));
    /* Top 1 of rows whose labels are classes 1 and 2: only the first row's is its max. */
    const float pred[6] = {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f};
    const float onehot[6] = {0, 1, 0, 0, 0, 1};
    cr_assert_eq(nn_metric_sum(&metric, pred, onehot, 2, 3), 1.0);
    cr_assert_eq(nn_metric_parse("binary_accuracy", &categorical, &metric), NN_OK);
    cr_assert_eq(nn_metric_threshold(&metric), 0.5f);
    cr_assert_eq(nn_metric_set_threshold(&metric, 1.5), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_threshold(&metric, 0.15), NN_OK);
    /* Above 0.15: (0, 1, 1) against (0, 1, 0), 2 of 3; (1, 1, 1) against (0, 0, 1), 1. */
    cr_assert(fabs(nn_metric_sum(&metric, pred, onehot, 2, 3) - 1.0) < 1e-12);
    cr_assert_eq(nn_metric_set_name(&metric, "val"), NN_OK);
    cr_assert_str_eq(metric.name, "val");
    cr_assert_eq(nn_metric_set_name(&metric, ""), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_name(&metric, "a-b"), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_name(&metric, "a_name_far_too_long_for_the_logs_of_a_run"),
                 NN_ERR_ARGUMENT);
    /* Precision's top_k picks the lower index among equals, as top_k's selection: of
     * (0.5, 0.5, 0.1) only column 0 is predicted, so the label in column 1 is missed. */
    const float tied[3] = {0.5f, 0.5f, 0.1f}, second[3] = {0, 1, 0};
    cr_assert_eq(nn_metric_parse("recall", &categorical, &metric), NN_OK);
    cr_assert_eq(nn_metric_set_top_k(&metric, 1), NN_OK);
    cr_assert_eq(nn_metric_sum(&metric, tied, second, 1, 3), 0.0);
    cr_assert_eq(nn_metric_set_top_k(&metric, 2), NN_OK);
    cr_assert_eq(nn_metric_sum(&metric, tied, second, 1, 3), 1.0);
    cr_assert_eq(nn_metric_set_class_id(&metric, 2), NN_OK);
    nn_metric actual = metric;
    actual.kind = nn_metric_denominator(metric.kind);
    cr_assert_eq(nn_metric_sum(&actual, tied, second, 1, 3), 0.0); /* column 2 only */
    cr_assert_eq(nn_metric_set_class_id(&metric, -1), NN_ERR_ARGUMENT);
    cr_assert_str_eq(nn_metric_kind_name(NN_METRIC_PRECISION), "precision");
    cr_assert_null(nn_metric_kind_name(NN_METRIC_PREDICTED_POSITIVES));
}

Test(metrics, auc_counts_buckets_and_adds_trapezoids)
{
    /* Three thresholds (-eps, 0.5, 1 + eps): a prediction above 0.5 falls in bucket 1, the
     * others in bucket 0; bucket 2 (above 1 + eps) stays empty. */
    const float pred[5] = {0.9f, 0.4f, 0.6f, 0.1f, NAN};
    const float labels[5] = {1, 1, 0, 0, 1};
    double counts[6] = {0};
    nn_metric_curve_counts(counts, pred, labels, NULL, 5, 1, 3);
    const double expected[6] = {1, 1, 0, 1, 1, 0}; /* NaN counts nowhere */
    for (int i = 0; i < 6; i++)
        cr_assert_eq(counts[i], expected[i], "slot %d", i);
    /* Rates (1, 1), (0.5, 0.5), (0, 0): two trapezoids, 0.375 + 0.125. */
    cr_assert(fabs(nn_metric_auc(counts, 3) - 0.5) < 1e-15);
    const double separated[6] = {0, 2, 0, 2, 0, 0}; /* every positive above every negative */
    cr_assert(fabs(nn_metric_auc(separated, 3) - 1.0) < 1e-15);
    const double one_class[6] = {1, 1, 0, 0, 0, 0};
    cr_assert_eq(nn_metric_auc(one_class, 3), 0.0);
    /* The same counts on the precision-recall curve: points (recall, precision) (1, 0.5),
     * (0.5, 0.5), (0, 0) from the lowest threshold up. Minoring 0.25 + 0, majoring
     * 0.25 + 0.25; interpolated, each step has slope 1/2 and intercept 0, so it adds
     * 1/2 · (1 + 0 · log(ratio)) / 2. */
    nn_metric pr = {.kind = NN_METRIC_AUC};
    cr_assert_eq(nn_metric_set_curve(&pr, "PR"), NN_OK);
    cr_assert(fabs(nn_metric_curve_area(&pr, counts, 3) - 0.5) < 1e-15);
    cr_assert_eq(nn_metric_set_summation(&pr, "minoring"), NN_OK);
    cr_assert(fabs(nn_metric_curve_area(&pr, counts, 3) - 0.25) < 1e-15);
    cr_assert_eq(nn_metric_set_summation(&pr, "majoring"), NN_OK);
    cr_assert(fabs(nn_metric_curve_area(&pr, counts, 3) - 0.5) < 1e-15);
    cr_assert_eq(nn_metric_set_curve(&pr, "pr"), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_summation(&pr, "riemann"), NN_ERR_ARGUMENT);
    nn_loss bce = {BCE, false, 0.0, 1.0};
    nn_metric metric;
    cr_assert_eq(nn_metric_parse("AUC", &bce, &metric), NN_OK);
    cr_assert_str_eq(metric.name, "auc", "Keras' 'AUC' is the class, logged as auc");
    cr_assert_eq(nn_metric_curve_thresholds(&metric), 200);
    cr_assert_eq(nn_metric_set_thresholds(&metric, 1), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_metric_set_thresholds(&metric, 7), NN_OK);
    cr_assert_eq(nn_metric_curve_thresholds(&metric), 7);
    cr_assert_eq(nn_metric_parse("precision", &bce, &metric), NN_OK);
    cr_assert_eq(nn_metric_curve_thresholds(&metric), 0);
    cr_assert_eq(nn_metric_set_thresholds(&metric, 7), NN_ERR_ARGUMENT);
}

Test(metrics, weighted_sums_weigh_each_row)
{
    /* Keras' weighted metrics: a row's value (and each of its counts) times the row's
     * sample weight; the weighted mean divides by the weights' sum (NN_METRIC_ROW_WEIGHT). */
    const float pred[6] = {0.9f, 0.5f, 0.7f, 0.2f, 0.51f, 0.8f};
    const float labels[6] = {1, 1, 0, 0.5f, 0, 0};
    const float weights[2] = {0.5f, 3.0f};
    nn_metric mae = {.kind = NN_METRIC_MEAN_ABSOLUTE_ERROR};
    nn_metric rows = {.kind = NN_METRIC_ROW_WEIGHT};
    nn_metric precision = {.kind = NN_METRIC_PRECISION};
    nn_metric predicted = {.kind = NN_METRIC_PREDICTED_POSITIVES};
    double row0 = (0.1 + 0.5 + 0.7) / 3, row1 = (0.3 + 0.51 + 0.8) / 3;
    cr_assert(fabs(nn_metric_weighted_sum(&mae, pred, labels, weights, 2, 3) -
                   (0.5 * row0 + 3.0 * row1)) < 1e-7);
    cr_assert(fabs(nn_metric_weighted_sum(&mae, pred, labels, NULL, 2, 3) - (row0 + row1)) <
              1e-7);
    cr_assert_eq(nn_metric_weighted_sum(&rows, pred, labels, weights, 2, 3), 3.5);
    cr_assert_eq(nn_metric_weighted_sum(&rows, pred, labels, NULL, 2, 3), 2.0);
    cr_assert_null(nn_metric_kind_name(NN_METRIC_ROW_WEIGHT), "no name a user can give");
    /* Predicted positives 0.9, 0.7 (row 0) and 0.51, 0.8 (row 1); the one true positive is
     * in row 0: precision 0.5 / (2 · 0.5 + 2 · 3) = 1/14, where unweighted it is 1/4. */
    cr_assert_eq(nn_metric_weighted_sum(&precision, pred, labels, weights, 2, 3), 0.5);
    cr_assert_eq(nn_metric_weighted_sum(&predicted, pred, labels, weights, 2, 3), 7.0);
    /* AUC's buckets gain each value's row weight: values 0-2 weigh 0.5, 3-5 weigh 3. */
    double counts[6] = {0};
    nn_metric_curve_counts(counts, pred, labels, weights, 6, 3, 3);
    /* positives 0.9 (bucket 1), 0.5 (bucket 0), 0.2 (label 0.5, bucket 0); negatives 0.7
     * (bucket 1), 0.51 and 0.8 (bucket 1). */
    const double expected[6] = {0.5 + 3.0, 0.5, 0, 0, 0.5 + 3.0 + 3.0, 0};
    for (int i = 0; i < 6; i++)
        cr_assert_eq(counts[i], expected[i], "slot %d: expected %g, got %g", i, expected[i],
                     counts[i]);
}

Test(metrics, sums_over_the_batch)
{
    /* Three rows of four classes; the middle one ties between classes 1 and 3. */
    const float pred[12] = {0.1f, 0.7f, 0.1f, 0.1f, 0.0f, 0.4f, 0.2f, 0.4f,
                            0.6f, 0.1f, 0.2f, 0.1f};
    const float ids[3] = {1, 3, 0};
    const float onehot[12] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
    nn_metric metric = {.kind = NN_METRIC_SPARSE_CATEGORICAL_ACCURACY};
    /* Ties go to the first index (class 1), as tf.argmax: rows 0 and 2 are right. */
    cr_assert_eq(nn_metric_sum(&metric, pred, ids, 3, 4), 2.0);
    metric.kind = NN_METRIC_CATEGORICAL_ACCURACY;
    cr_assert_eq(nn_metric_sum(&metric, pred, onehot, 3, 4), 2.0);
    metric.kind = NN_METRIC_ACCURACY; /* width 4: categorical */
    cr_assert_eq(nn_metric_sum(&metric, pred, onehot, 3, 4), 2.0);

    const float probabilities[6] = {0.9f, 0.2f, 0.5f, 0.51f, 0.1f, 0.7f};
    const float targets[6] = {1, 0, 1, 1, 1, 1};
    metric.kind = NN_METRIC_BINARY_ACCURACY; /* 0.5 is not above the threshold */
    double expected = (2.0 + 1.0 + 1.0) / 2.0;
    cr_assert(fabs(nn_metric_sum(&metric, probabilities, targets, 3, 2) - expected) < 1e-12);
    metric.kind = NN_METRIC_ACCURACY; /* width 1: binary */
    cr_assert(fabs(nn_metric_sum(&metric, probabilities, targets, 6, 1) - 4.0) < 1e-12);

    const float p[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4};
    metric.kind = NN_METRIC_MEAN_SQUARED_ERROR;
    cr_assert(fabs(nn_metric_sum(&metric, p, t, 2, 2) - (0.5 + 2.0)) < 1e-12);
    metric.kind = NN_METRIC_MEAN_ABSOLUTE_ERROR;
    cr_assert(fabs(nn_metric_sum(&metric, p, t, 2, 2) - (0.5 + 1.0)) < 1e-12);
}

/* ---- the losses and metrics added with huber ---- */

Test(loss, keras_names_aliases_and_huber_delta)
{
    static const struct {
        const char *name;
        nn_loss_kind kind;
    } cases[] = {
        {"huber", NN_LOSS_HUBER},
        {"Huber", NN_LOSS_HUBER},
        {"log_cosh", NN_LOSS_LOG_COSH},
        {"logcosh", NN_LOSS_LOG_COSH},
        {"kl_divergence", NN_LOSS_KL_DIVERGENCE},
        {"kld", NN_LOSS_KL_DIVERGENCE},
        {"KLD", NN_LOSS_KL_DIVERGENCE},
        {"kullback_leibler_divergence", NN_LOSS_KL_DIVERGENCE},
        {"KLDivergence", NN_LOSS_KL_DIVERGENCE},
        {"poisson", NN_LOSS_POISSON},
        {"hinge", NN_LOSS_HINGE},
        {"SquaredHinge", NN_LOSS_SQUARED_HINGE},
        {"categorical_hinge", NN_LOSS_CATEGORICAL_HINGE},
        {"cosine_similarity", NN_LOSS_COSINE_SIMILARITY},
        {"mape", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
        {"MAPE", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
        {"msle", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR},
        {"MeanSquaredLogarithmicError", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_loss loss = {.delta = 7.0};
        cr_assert_eq(nn_loss_parse(cases[i].name, &loss), NN_OK, "%s", cases[i].name);
        cr_assert_eq(loss.kind, cases[i].kind, "%s", cases[i].name);
        cr_assert_eq(loss.delta, 1.0, "%s: Keras' default delta", cases[i].name);
        cr_assert_eq(nn_loss_check(&loss), NN_OK, "%s", cases[i].name);
    }
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("hubber", &loss), NN_ERR_ARGUMENT);
    MESSAGE_HAS("'huber', 'log_cosh', 'kl_divergence'");
    MESSAGE_HAS("'mean_squared_logarithmic_error', 'mse', 'mae', 'kld', 'mape', 'msle'");
    cr_assert_str_eq(nn_loss_name(NN_LOSS_KL_DIVERGENCE), "kl_divergence");
    nn_loss_parse("huber", &loss);
    const double bad[] = {0.0, -1.0, INFINITY, NAN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        loss.delta = bad[i];
        cr_assert_eq(nn_loss_check(&loss), NN_ERR_ARGUMENT, "delta %g", bad[i]);
        MESSAGE_HAS("huber: delta must be a finite number > 0");
    }
    /* Only huber reads delta. */
    nn_loss_parse("mse", &loss);
    loss.delta = -1.0;
    cr_assert_eq(nn_loss_check(&loss), NN_OK);
    /* The new losses take labels of the output's shape, (batch,) for one column. */
    nn_shape output = {2, {-1, 3}}, column = {2, {-1, 1}};
    nn_shape four = {1, {4}};
    cr_assert_eq(check_labels(NN_LOSS_HUBER, output, four, NN_DTYPE_F32, NULL), NN_ERR_SHAPE);
    MESSAGE_HAS("huber expects labels of the output's shape (None, 3), but received labels of "
                "shape (4,)");
    cr_assert_eq(check_labels(NN_LOSS_POISSON, column, four, NN_DTYPE_F32, NULL), NN_OK);
    const double infinite[4] = {0, 1, INFINITY, 0};
    cr_assert_eq(check_labels(NN_LOSS_KL_DIVERGENCE, column, four, NN_DTYPE_F32, infinite),
                 NN_ERR_NUMERIC);
    MESSAGE_HAS("kl_divergence: the label of sample 3 is inf; labels must be finite");
}

/* Keras' own examples, worked by hand. */
Test(loss, keras_examples_by_hand)
{
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    const float t[4] = {0, 1, 0, 0}, p[4] = {0.6f, 0.4f, 0.4f, 0.6f};
    nn_loss loss;
    /* huber: rows (0.18 + 0.18)/2 and (0.08 + 0.18)/2, mean 0.155 */
    nn_loss_parse("huber", &loss);
    double value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t, NULL, 2, 2);
    cr_assert(fabs(value - 0.155) < 1e-7, "huber %.9g", value);
    /* delta 0.5: |0.6| is past it: 0.5·0.6 - 0.125 = 0.175 */
    loss.delta = 0.5;
    value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t, NULL, 2, 2);
    cr_assert(fabs(value - (0.175 + 0.175 + 0.08 + 0.175) / 4) < 1e-7, "huber 0.5 %.9g", value);
    /* kl_divergence: 0 labels clip to 1e-7; about 0.458 */
    nn_loss_parse("kld", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t, NULL, 2, 2);
    double e = 1e-7;
    double kl = (e * log(e / 0.6) + log(1 / 0.4) + e * log(e / 0.4) + e * log(e / 0.6)) / 2;
    cr_assert(fabs(value - kl) < 1e-7 && fabs(value - 0.458) < 1e-3, "kld %.9g", value);
    /* log_cosh: log cosh 1 / 2 per row, over 2 rows: 0.108 */
    const float t2[4] = {0, 1, 0, 0}, p2[4] = {1, 1, 0, 0};
    nn_loss_parse("log_cosh", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p2, p2, t2, NULL, 2, 2);
    cr_assert(fabs(value - log(cosh(1.0)) / 4) < 1e-7, "log_cosh %.9g", value);
    /* cosine_similarity: rows -0, -1, +1: mean 0; the first two only: -0.5 */
    const float t3[6] = {0, 1, 1, 1, 1, 1}, p3[6] = {1, 0, 1, 1, -1, -1};
    nn_loss_parse("cosine_similarity", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p3, p3, t3, NULL, 3, 2);
    cr_assert(fabs(value) < 1e-7, "cosine %.9g", value);
    value = nn_loss_forward_backward(&loss, linear, NULL, p3, p3, t3, NULL, 2, 2);
    cr_assert(fabs(value + 0.5) < 1e-7, "cosine %.9g", value);
    /* hinge on 0/1 labels reads -1/1: margins (0.4, 0.6, 1.4, 0.4)... */
    nn_loss_parse("hinge", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t, NULL, 2, 2);
    cr_assert(fabs(value - (1.6 + 0.6 + 1.4 + 1.6) / 4) < 1e-6, "hinge 0/1 %.9g", value);
    /* ... but one label of 2 in the batch keeps every label as given (0 margins 1). */
    const float t4[4] = {0, 1, 0, 2};
    value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t4, NULL, 2, 2);
    cr_assert(fabs(value - (1.0 + 0.6 + 1.0 + 0.0) / 4) < 1e-6, "hinge as given %.9g", value);
    /* categorical_hinge: pos 0.4, neg 0.6: 1.2; row two: pos 0, neg 0.6: 1.6 */
    nn_loss_parse("categorical_hinge", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p, p, t, NULL, 2, 2);
    cr_assert(fabs(value - (1.2 + 1.6) / 2) < 1e-6, "categorical_hinge %.9g", value);
    /* mape: |t - p| / max(|t|, 1e-7): zeros divide by 1e-7 */
    const float t5[2] = {2, -4}, p5[2] = {1, -5};
    nn_loss_parse("mape", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p5, p5, t5, NULL, 1, 2);
    cr_assert(fabs(value - 100 * (0.5 + 0.25) / 2) < 1e-5, "mape %.9g", value);
    /* msle: (log 2 - log 3)^2 and the negative prediction clipped to 1e-7 */
    const float t6[2] = {2, 1}, p6[2] = {1, -3};
    nn_loss_parse("msle", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p6, p6, t6, NULL, 1, 2);
    double a = log(2.0) - log(3.0), b = log1p(1e-7) - log(2.0);
    cr_assert(fabs(value - (a * a + b * b) / 2) < 1e-7, "msle %.9g", value);
    /* poisson: p - t log(p + 1e-7) */
    nn_loss_parse("poisson", &loss);
    value = nn_loss_forward_backward(&loss, linear, NULL, p6, p6, t6, NULL, 1, 1);
    cr_assert(fabs(value - (1 - 2 * log(1 + 1e-7))) < 1e-7, "poisson %.9g", value);
}

Test(metrics, keras_metrics_by_hand)
{
    nn_loss sparse = {SCE, false, 0.0, 1.0};
    nn_metric metric;
    cr_assert_eq(nn_metric_parse("sparse_top_k_categorical_accuracy", &sparse, &metric), NN_OK);
    cr_assert_str_eq(metric.name, "sparse_top_k_categorical_accuracy");
    cr_assert_eq(metric.kind, NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY);
    nn_loss mse = {NN_LOSS_MEAN_SQUARED_ERROR, false, 0.0, 1.0};
    cr_assert_eq(nn_metric_parse("logcosh", &mse, &metric), NN_OK);
    cr_assert_eq(metric.kind, NN_METRIC_LOG_COSH);
    cr_assert_eq(nn_metric_parse("top_5", &sparse, &metric), NN_ERR_ARGUMENT);
    MESSAGE_HAS("'top_k_categorical_accuracy', 'sparse_top_k_categorical_accuracy'");
    MESSAGE_HAS("'categorical_hinge'");

    /* Top 5 of 7: classes 0-3 are in, 4 and 5 tie for fifth (both in, as in_top_k), 6 is
     * out. */
    const float row[7] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.5f, 0.1f};
    float pred[21], ids[3] = {5, 6, 0}, onehot[21] = {0};
    for (int b = 0; b < 3; b++) {
        memcpy(pred + 7 * b, row, sizeof row);
        onehot[7 * b + (int)ids[b]] = 1.0f;
    }
    metric.kind = NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY;
    cr_assert_eq(nn_metric_sum(&metric, pred, ids, 3, 7), 2.0);
    metric.kind = NN_METRIC_TOP_K_CATEGORICAL_ACCURACY;
    cr_assert_eq(nn_metric_sum(&metric, pred, onehot, 3, 7), 2.0);
    /* Five classes or fewer: always in. */
    cr_assert_eq(nn_metric_sum(&metric, pred, onehot, 3, 5), 3.0);

    /* root_mean_squared_error: per-row squared errors 0.5 and 2 are summed; the root is of
     * their mean, sqrt(1.25), not the mean of the roots (1.0607). */
    const float p[4] = {1, 2, 3, 4}, t[4] = {0, 2, 5, 4};
    metric.kind = NN_METRIC_ROOT_MEAN_SQUARED_ERROR;
    double sum = nn_metric_sum(&metric, p, t, 2, 2);
    cr_assert(fabs(sum - 2.5) < 1e-12, "rmse sum %.17g", sum);
    cr_assert(fabs(nn_metric_finish(&metric, sum, 2) - sqrt(1.25)) < 1e-12);
    metric.kind = NN_METRIC_MEAN_SQUARED_ERROR;
    cr_assert(fabs(nn_metric_finish(&metric, sum, 2) - 1.25) < 1e-12);

    /* cosine_similarity is the cosine itself: rows 0, 1, -1. */
    const float t3[6] = {0, 1, 1, 1, 1, 1}, p3[6] = {1, 0, 1, 1, -1, -1};
    metric.kind = NN_METRIC_COSINE_SIMILARITY;
    cr_assert(fabs(nn_metric_sum(&metric, p3, t3, 2, 2) - 1.0) < 1e-7);
    cr_assert(fabs(nn_metric_sum(&metric, p3, t3, 3, 2)) < 1e-7);
    /* hinge: 0/1 labels as -1/1 (margins 0.5 and 0), unless a label in the batch is not
     * 0 or 1. */
    const float hp[4] = {0.5f, -2.0f, 0.5f, -2.0f}, binary[4] = {1, 0, 1, 0};
    const float mixed[4] = {1, 0, -1, 1};
    metric.kind = NN_METRIC_HINGE;
    cr_assert(fabs(nn_metric_sum(&metric, hp, binary, 2, 2) - 0.5) < 1e-7);
    cr_assert(fabs(nn_metric_sum(&metric, hp, mixed, 2, 2) - (0.75 + (1.5 + 3.0) / 2)) < 1e-7,
              "mixed %.9g", nn_metric_sum(&metric, hp, mixed, 2, 2));
    metric.kind = NN_METRIC_SQUARED_HINGE;
    cr_assert(fabs(nn_metric_sum(&metric, hp, binary, 2, 2) - 0.25) < 1e-7);
    /* The mean ones are the loss of the row: mape of (1 | 2) and (-5 | -4). */
    const float mp[2] = {1, -5}, mt[2] = {2, -4};
    metric.kind = NN_METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR;
    cr_assert(fabs(nn_metric_sum(&metric, mp, mt, 2, 1) - 75.0) < 1e-5);
    metric.kind = NN_METRIC_LOG_COSH;
    cr_assert(fabs(nn_metric_sum(&metric, mp, mt, 1, 2) - log(cosh(1.0))) < 1e-9);
}

/* nn_loss_rows: each row as Keras' loss functions give it (a row's sum for the per-row
 * losses, its mean for the element means), whose mean is nn_loss_forward_backward's. */
Test(loss, rows_are_the_per_sample_values_whose_mean_is_the_loss)
{
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);
    const float t[6] = {0, 1, 0, 0, 0, 1}, p[6] = {0.05f, 0.95f, 0.0f, 0.1f, 0.8f, 0.1f};
    double rows[2];
    nn_loss loss;
    /* categorical_crossentropy: -ln 0.95 and -ln 0.1 */
    nn_loss_parse("categorical_crossentropy", &loss);
    nn_loss_rows(&loss, rows, p, t, 2, 3);
    cr_assert(fabs(rows[0] + log(0.95)) < 1e-6 && fabs(rows[1] + log(0.1)) < 1e-6,
              "crossentropy rows %.9g %.9g", rows[0], rows[1]);
    /* mean_squared_error: (0.05² + 0.05²)/3 and (0.1² + 0.8² + 0.9²)/3 */
    nn_loss_parse("mse", &loss);
    nn_loss_rows(&loss, rows, p, t, 2, 3);
    cr_assert(fabs(rows[0] - 0.005 / 3) < 1e-7 && fabs(rows[1] - 1.46 / 3) < 1e-6,
              "mse rows %.9g %.9g", rows[0], rows[1]);
    /* Every loss: the rows' mean is the batch's loss (hinge decided over the batch). */
    for (int kind = 0; kind < NN_LOSS_COUNT; kind++) {
        loss = (nn_loss){.kind = (nn_loss_kind)kind, .delta = 1.0};
        const float ids[2] = {1, 2};
        const float *labels = kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY ? ids : t;
        nn_loss_rows(&loss, rows, p, labels, 2, 3);
        double mean = nn_loss_forward_backward(&loss, linear, NULL, p, p, labels, NULL, 2, 3);
        cr_assert(fabs((rows[0] + rows[1]) / 2 - mean) < 1e-9 * (1 + fabs(mean)),
                  "%s: rows %.9g %.9g, loss %.9g", nn_loss_name(loss.kind), rows[0], rows[1],
                  mean);
    }
}
