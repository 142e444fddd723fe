/* Losses and metrics with Keras' semantics: crossentropies fused with softmax/sigmoid
 * (computed from the logits, as Keras does), clipped probabilities otherwise. Names,
 * label checks and the batch's bookkeeping live here; every loss and metric formula is
 * the backends' one body (cuda/bodies/loss_body.h), which the CPU runs row by row. */
#include "loss.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cuda/bodies/loss_body.h"
#include "names.h"

/* ---- names ---- */

static const char *const loss_canonical_names[] = {
    [NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY] = "sparse_categorical_crossentropy",
    [NN_LOSS_CATEGORICAL_CROSSENTROPY] = "categorical_crossentropy",
    [NN_LOSS_BINARY_CROSSENTROPY] = "binary_crossentropy",
    [NN_LOSS_MEAN_SQUARED_ERROR] = "mean_squared_error",
    [NN_LOSS_MEAN_ABSOLUTE_ERROR] = "mean_absolute_error",
    [NN_LOSS_HUBER] = "huber",
    [NN_LOSS_LOG_COSH] = "log_cosh",
    [NN_LOSS_KL_DIVERGENCE] = "kl_divergence",
    [NN_LOSS_POISSON] = "poisson",
    [NN_LOSS_HINGE] = "hinge",
    [NN_LOSS_SQUARED_HINGE] = "squared_hinge",
    [NN_LOSS_CATEGORICAL_HINGE] = "categorical_hinge",
    [NN_LOSS_COSINE_SIMILARITY] = "cosine_similarity",
    [NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR] = "mean_absolute_percentage_error",
    [NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR] = "mean_squared_logarithmic_error",
    [NN_LOSS_COUNT] = NULL,
};

/* What users may write: the canonical names first, then the short forms. */
static const char *const loss_listed_names[] = {
    "sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy",
    "mean_squared_error", "mean_absolute_error", "huber", "log_cosh", "kl_divergence",
    "poisson", "hinge", "squared_hinge", "categorical_hinge", "cosine_similarity",
    "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "mse", "mae", "kld",
    "mape", "msle", NULL,
};

static const struct {
    const char *name;
    nn_loss_kind kind;
} loss_aliases[] = {
    {"mse", NN_LOSS_MEAN_SQUARED_ERROR},
    {"MSE", NN_LOSS_MEAN_SQUARED_ERROR},
    {"mae", NN_LOSS_MEAN_ABSOLUTE_ERROR},
    {"MAE", NN_LOSS_MEAN_ABSOLUTE_ERROR},
    {"SparseCategoricalCrossentropy", NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY},
    {"CategoricalCrossentropy", NN_LOSS_CATEGORICAL_CROSSENTROPY},
    {"BinaryCrossentropy", NN_LOSS_BINARY_CROSSENTROPY},
    {"MeanSquaredError", NN_LOSS_MEAN_SQUARED_ERROR},
    {"MeanAbsoluteError", NN_LOSS_MEAN_ABSOLUTE_ERROR},
    {"kld", NN_LOSS_KL_DIVERGENCE},
    {"KLD", NN_LOSS_KL_DIVERGENCE},
    {"kullback_leibler_divergence", NN_LOSS_KL_DIVERGENCE},
    {"logcosh", NN_LOSS_LOG_COSH},
    {"mape", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
    {"MAPE", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
    {"msle", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR},
    {"MSLE", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR},
    {"Huber", NN_LOSS_HUBER},
    {"LogCosh", NN_LOSS_LOG_COSH},
    {"KLDivergence", NN_LOSS_KL_DIVERGENCE},
    {"Poisson", NN_LOSS_POISSON},
    {"Hinge", NN_LOSS_HINGE},
    {"SquaredHinge", NN_LOSS_SQUARED_HINGE},
    {"CategoricalHinge", NN_LOSS_CATEGORICAL_HINGE},
    {"CosineSimilarity", NN_LOSS_COSINE_SIMILARITY},
    {"MeanAbsolutePercentageError", NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
    {"MeanSquaredLogarithmicError", NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR},
};

nn_status nn_loss_parse(const char *name, nn_loss *loss)
{
    loss->from_logits = false;
    loss->label_smoothing = 0.0;
    loss->delta = 1.0;
    for (int kind = 0; kind < NN_LOSS_COUNT; kind++) {
        if (strcmp(name, loss_canonical_names[kind]) == 0) {
            loss->kind = (nn_loss_kind)kind;
            return NN_OK;
        }
    }
    for (size_t i = 0; i < sizeof loss_aliases / sizeof loss_aliases[0]; i++) {
        if (strcmp(name, loss_aliases[i].name) == 0) {
            loss->kind = loss_aliases[i].kind;
            return NN_OK;
        }
    }
    char list[1024], guess[256];
    return nn_error(NN_ERR_ARGUMENT, "unknown loss '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, loss_listed_names),
                    nn_names_join(list, sizeof list, loss_listed_names));
}

const char *nn_loss_name(nn_loss_kind kind)
{
    return kind < NN_LOSS_COUNT ? loss_canonical_names[kind] : "unknown";
}

const char *const *nn_loss_names(void) { return loss_listed_names; }

bool nn_loss_takes_label_smoothing(nn_loss_kind kind)
{
    return kind == NN_LOSS_CATEGORICAL_CROSSENTROPY || kind == NN_LOSS_BINARY_CROSSENTROPY;
}

bool nn_loss_takes_from_logits(nn_loss_kind kind)
{
    switch (kind) {
    case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
    case NN_LOSS_CATEGORICAL_CROSSENTROPY:
    case NN_LOSS_BINARY_CROSSENTROPY:
    case NN_LOSS_MEAN_SQUARED_ERROR:
    case NN_LOSS_MEAN_ABSOLUTE_ERROR:
        return true;
    default:
        return false;
    }
}

nn_status nn_loss_check(const nn_loss *loss)
{
    if (loss->kind >= NN_LOSS_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "loss kind %d does not exist", (int)loss->kind);
    double a = loss->label_smoothing;
    if (!(a >= 0.0 && a <= 1.0))
        return nn_error(NN_ERR_ARGUMENT, "%s: label_smoothing must be in [0, 1], got %g",
                        nn_loss_name(loss->kind), a);
    if (a != 0.0 && !nn_loss_takes_label_smoothing(loss->kind))
        return nn_error(NN_ERR_ARGUMENT, "%s takes no label_smoothing (got %g); only "
                        "categorical_crossentropy and binary_crossentropy smooth their labels",
                        nn_loss_name(loss->kind), a);
    if (loss->kind == NN_LOSS_HUBER && !(isfinite(loss->delta) && loss->delta > 0.0))
        return nn_error(NN_ERR_ARGUMENT, "huber: delta must be a finite number > 0, got %g",
                        loss->delta);
    return NN_OK;
}

bool nn_loss_label_map(const nn_loss *loss, int64_t width, float *scale, float *offset)
{
    *scale = 1.0f;
    *offset = 0.0f;
    if (loss->label_smoothing <= 0.0 || !nn_loss_takes_label_smoothing(loss->kind) ||
        width <= 0)
        return false;
    /* Keras 3 divides by the classes for categorical labels and by 2 for binary ones,
     * whatever the binary output's width: each column is its own yes/no. */
    double classes = loss->kind == NN_LOSS_BINARY_CROSSENTROPY ? 2.0 : (double)width;
    *scale = (float)(1.0 - loss->label_smoothing);
    *offset = (float)(loss->label_smoothing / classes);
    return true;
}

/* ---- label checks ---- */

static bool is_sparse(nn_loss_kind kind)
{
    return kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
}

/* The first `count` axes of labels equal those of output; an unknown (-1) output axis
 * matches anything. */
static bool leading_axes_match(const nn_shape *labels, const nn_shape *output, int count)
{
    for (int i = 0; i < count; i++)
        if (output->dims[i] >= 0 && labels->dims[i] != output->dims[i])
            return false;
    return true;
}

/* Labels that hold one value per output row: (B,) for (B, C), or (B, 1). */
static bool holds_one_per_row(const nn_shape *labels, const nn_shape *output)
{
    int rows_ndim = output->ndim - 1;
    if (labels->ndim == rows_ndim)
        return leading_axes_match(labels, output, rows_ndim);
    return labels->ndim == output->ndim && labels->dims[labels->ndim - 1] == 1 &&
           leading_axes_match(labels, output, rows_ndim);
}

/* The shapes class ids may take for an output: "(batch,) or (batch, 1)" for (None, 10),
 * "(batch, 5) or (batch, 5, 1)" for (None, 5, 10) (one id per position). */
static const char *class_id_shapes(const nn_shape *output, char *text, size_t size)
{
    char axes[96] = "";
    size_t used = 0;
    for (int i = 1; i + 1 < output->ndim && used < sizeof axes; i++)
        used += (size_t)snprintf(axes + used, sizeof axes - used, ", %lld",
                                 (long long)output->dims[i]);
    snprintf(text, size, "(batch%s%s) or (batch%s, 1)", axes, output->ndim > 2 ? "" : ",", axes);
    return text;
}

static bool same_shape(const nn_shape *labels, const nn_shape *output)
{
    return labels->ndim == output->ndim && leading_axes_match(labels, output, output->ndim);
}

/* Finds the first label value outside [low, high) (or [low, high] when high_inclusive),
 * not finite, or (integers) not a whole number. Returns its index or -1. */
static int64_t first_bad_label(const nn_tensor *labels, double low, double high,
                               bool high_inclusive, bool integers, double *value)
{
    size_t n = nn_tensor_count(labels);
    for (size_t i = 0; i < n; i++) {
        double v = nn_tensor_get(labels, i);
        bool bad = !isfinite(v) || v < low || v > high || (!high_inclusive && v == high) ||
                   (integers && v != floor(v));
        if (bad) {
            *value = v;
            return (int64_t)i;
        }
    }
    return -1;
}

/* Where flat element `index` of labels of `shape` is, as a Lua user counts (from 1):
 * "of sample 3", or "of sample 3 (entry 2 of 4)" when a sample holds several labels. */
static const char *label_place(const nn_shape *shape, int64_t index, char *text, size_t size)
{
    int64_t per_sample = shape->dims[0] > 0 ? nn_shape_inner(shape, 1) : 1;
    if (per_sample <= 1)
        snprintf(text, size, "of sample %lld", (long long)index + 1);
    else
        snprintf(text, size, "of sample %lld (entry %lld of %lld)",
                 (long long)(index / per_sample) + 1, (long long)(index % per_sample) + 1,
                 (long long)per_sample);
    return text;
}

/* Labels with one entry per sample for an output that still has axes between the batch
 * and the classes: Dense acts on the last axis only, so a model without a Flatten keeps
 * them (Dense{128, input_shape = {28, 28}} gives (None, 28, 128)), as does a recurrent
 * layer that returns sequences. The likely fixes. */
static const char *per_sample_hint(const nn_shape *labels, const nn_shape *output,
                                   bool class_ids)
{
    if (output->ndim < 3)
        return "";
    int64_t classes = output->dims[output->ndim - 1];
    bool one_per_sample =
        class_ids ? labels->ndim == 1 || (labels->ndim == 2 && labels->dims[1] == 1)
                  : (labels->ndim == 2 && labels->dims[1] == classes) ||
                        (labels->ndim == 1 && classes == 1);
    return one_per_sample ? "; the labels have one entry per sample, but the output still has "
                            "axes between the batch and the classes (Dense acts on the last "
                            "axis only; a recurrent layer with return_sequences=true keeps its "
                            "steps): add a Flatten or a global pooling layer before the last "
                            "layers, or set return_sequences=false"
                          : "";
}

nn_status nn_loss_check_labels(const nn_loss *loss, const nn_shape *output,
                               const nn_tensor *labels)
{
    const char *name = nn_loss_name(loss->kind);
    const nn_shape *shape = &labels->shape;
    char out_text[128], label_text[128];
    nn_shape_format(output, out_text, sizeof out_text);
    nn_shape_format(shape, label_text, sizeof label_text);
    if (output->ndim < 1)
        return nn_error(NN_ERR_SHAPE, "%s: the model's output %s has no batch axis", name,
                        out_text);
    if (shape->ndim < 1)
        return nn_error(NN_ERR_SHAPE,
                        "%s: labels of shape %s have no batch axis; expected one label row "
                        "per sample", name, label_text);
    if (output->dims[0] >= 0 && shape->dims[0] != output->dims[0])
        return nn_error(NN_ERR_SHAPE,
                        "%s: the labels hold %lld samples but the predictions %lld (labels "
                        "%s, output %s); x and y must have the same number of samples",
                        name, (long long)shape->dims[0], (long long)output->dims[0],
                        label_text, out_text);
    int64_t classes = output->dims[output->ndim - 1];
    double value = 0.0;
    int64_t bad;
    char ids[160], place[96];

    switch (loss->kind) {
    case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        if (!holds_one_per_row(shape, output)) {
            if (same_shape(shape, output) && classes > 1)
                return nn_error(NN_ERR_SHAPE,
                                "%s expects integer class ids of shape %s, but received labels "
                                "of shape %s for an output of shape %s: they look one-hot; use "
                                "loss='categorical_crossentropy' for one-hot labels", name,
                                class_id_shapes(output, ids, sizeof ids), label_text, out_text);
            return nn_error(NN_ERR_SHAPE,
                            "%s expects integer class ids of shape %s for an output of shape "
                            "%s, but received labels of shape %s%s", name,
                            class_id_shapes(output, ids, sizeof ids), out_text, label_text,
                            per_sample_hint(shape, output, true));
        }
        bad = first_bad_label(labels, 0.0, (double)classes, false, true, &value);
        if (bad >= 0) {
            /* One output unit is one class: a label above 0 means the slip is the layer's
             * units, or for a 1 the loss (two classes in one sigmoid unit). A negative
             * label is wrong whatever the layer, and gets the plain message below. */
            if (classes == 1 && isfinite(value) && value == floor(value) && value > 0)
                return nn_error(NN_ERR_ARGUMENT,
                                "%s: label %.17g %s is out of range: the output has 1 unit, "
                                "so the only class is 0; %sgive the last layer one unit per "
                                "class", name, value, label_place(shape, bad, place, sizeof place),
                                value == 1 ? "for 0/1 labels and one sigmoid unit use "
                                             "loss='binary_crossentropy', or "
                                           : "");
            if (isfinite(value) && value == floor(value))
                return nn_error(NN_ERR_ARGUMENT,
                                "%s: label %.17g %s is out of range; the output has %lld "
                                "classes, so labels must lie in [0, %lld)", name, value,
                                label_place(shape, bad, place, sizeof place),
                                (long long)classes, (long long)classes);
            return nn_error(NN_ERR_ARGUMENT,
                            "%s: label %.17g %s is not an integer class id in [0, %lld)",
                            name, value, label_place(shape, bad, place, sizeof place),
                            (long long)classes);
        }
        return NN_OK;

    case NN_LOSS_CATEGORICAL_CROSSENTROPY:
        if (!same_shape(shape, output)) {
            if (holds_one_per_row(shape, output) && classes > 1)
                return nn_error(NN_ERR_SHAPE,
                                "%s expects one-hot labels of the output's shape %s (one "
                                "column per class), but received labels of shape %s: they "
                                "look like integer class ids; use "
                                "loss='sparse_categorical_crossentropy' for integer labels "
                                "(or one-hot encode them)", name, out_text, label_text);
            return nn_error(NN_ERR_SHAPE,
                            "%s expects labels of the output's shape %s, but received "
                            "labels of shape %s%s", name, out_text, label_text,
                            per_sample_hint(shape, output, false));
        }
        bad = first_bad_label(labels, -INFINITY, INFINITY, true, false, &value);
        break;

    case NN_LOSS_BINARY_CROSSENTROPY:
    case NN_LOSS_MEAN_SQUARED_ERROR:
    case NN_LOSS_MEAN_ABSOLUTE_ERROR:
    case NN_LOSS_HUBER:
    case NN_LOSS_LOG_COSH:
    case NN_LOSS_KL_DIVERGENCE:
    case NN_LOSS_POISSON:
    case NN_LOSS_HINGE:
    case NN_LOSS_SQUARED_HINGE:
    case NN_LOSS_CATEGORICAL_HINGE:
    case NN_LOSS_COSINE_SIMILARITY:
    case NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR:
    case NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR:
        /* Keras expands (batch,) labels to (batch, 1) for a one-column output. */
        if (!same_shape(shape, output) && !(classes == 1 && holds_one_per_row(shape, output)))
            return nn_error(NN_ERR_SHAPE,
                            "%s expects labels of the output's shape %s, but received labels "
                            "of shape %s%s", name, out_text, label_text,
                            per_sample_hint(shape, output, false));
        if (loss->kind == NN_LOSS_BINARY_CROSSENTROPY) {
            bad = first_bad_label(labels, 0.0, 1.0, true, false, &value);
            if (bad >= 0)
                return nn_error(NN_ERR_ARGUMENT,
                                "%s: label %.17g %s is not in [0, 1]; binary crossentropy "
                                "takes targets between 0 and 1", name, value,
                                label_place(shape, bad, place, sizeof place));
            return NN_OK;
        }
        bad = first_bad_label(labels, -INFINITY, INFINITY, true, false, &value);
        break;

    default:
        return nn_error(NN_ERR_ARGUMENT, "loss kind %d does not exist", (int)loss->kind);
    }
    if (bad >= 0)
        return nn_error(NN_ERR_NUMERIC, "%s: the label %s is %g; labels must be finite",
                        name, label_place(shape, bad, place, sizeof place), value);
    return NN_OK;
}

/* ---- losses ---- */

/* d (n) holds dloss/dpred; turns it into dloss/dlogits through the last activation. */
static void through_activation(nn_activation last, float *d, const float *pred,
                               const float *logits, size_t n, size_t width)
{
    if (last.kind == NN_ACTIVATION_LINEAR)
        return;
    if (!logits && nn_activation_backward_needs_input(last.kind)) {
        /* The caller broke the contract; make it loud rather than subtly wrong. */
        for (size_t i = 0; i < n; i++)
            d[i] = NAN;
        return;
    }
    nn_activation_backward(last, d, d, logits, pred, n, width);
}

/* The loss of `rows` rows summed (the batch mean is the caller's), their gradients
 * written to dlogits already scaled for the batch (scale); *fused tells whether those
 * are with respect to the logits already, else they are dloss/dpred. nonbinary: the
 * whole batch's count of labels neither 0 nor 1 (hinge losses only, else NULL). */
static double rows_sum(const nn_loss *loss, nn_activation last, float *dlogits,
                       const float *pred, const float *logits, const float *labels,
                       int64_t rows, int64_t width, double scale, const double *nonbinary,
                       bool *fused)
{
    if (loss->kind >= NN_LOSS_COUNT) {
        *fused = true; /* nothing was written to go through the activation */
        return NAN;
    }
    /* One implementation of every loss, the backends' row bodies, run here row by row;
     * tests/engine/test_loss.c holds them to naive references and finite differences. */
    nn_body_loss_plan plan = nn_body_loss_plan_make(loss, last, pred, logits, rows, width);
    plan.gradient_scale = scale;
    plan.nonbinary_labels = nonbinary;
    double total = 0.0;
    for (int64_t b = 0; b < rows; b++)
        total += nn_body_loss_row(dlogits ? dlogits + b * width : NULL, &plan, labels, b, width);
    *fused = !plan.through_activation;
    return total;
}

/* Labels among n neither 0 nor 1: none means the hinge losses read them as -1/1. */
static double count_nonbinary(const float *labels, size_t n)
{
    double count = 0.0;
    nn_body_nonbinary_partial(&count, labels, n, 1, 0);
    return count;
}

double nn_loss_forward_backward(const nn_loss *loss, nn_activation last, float *dlogits,
                                const float *pred, const float *logits, const float *labels,
                                const float *row_weights, int64_t batch, int64_t width)
{
    if (batch <= 0 || width <= 0)
        return 0.0;
    size_t n = (size_t)batch * (size_t)width;
    /* Crossentropies, kl_divergence, categorical_hinge and cosine_similarity sum over
     * (or take one value of) each row and average over rows; the others average over
     * every element. The backends' plan says which. */
    double scale = nn_body_loss_plan_make(loss, last, pred, logits, batch, width).loss_scale;
    double nonbinary = nn_body_loss_counts_nonbinary(loss->kind) ? count_nonbinary(labels, n)
                                                                 : 0.0;
    const double *hinge = nn_body_loss_counts_nonbinary(loss->kind) ? &nonbinary : NULL;
    double total = 0.0;
    bool fused = false;
    if (!row_weights) {
        total = rows_sum(loss, last, dlogits, pred, logits, labels, batch, width, scale, hinge,
                         &fused);
    } else {
        /* Keras' sample weights: each row's loss and gradient times its weight, still
         * divided by the whole batch ("sum over batch size"). */
        int64_t label_width = is_sparse(loss->kind) ? 1 : width;
        for (int64_t b = 0; b < batch; b++) {
            float *row_gradient = dlogits ? dlogits + b * width : NULL;
            total += rows_sum(loss, last, row_gradient, pred + b * width,
                              logits ? logits + b * width : NULL, labels + b * label_width, 1,
                              width, scale, hinge, &fused) *
                     (double)row_weights[b];
            for (int64_t j = 0; row_gradient && j < width; j++)
                row_gradient[j] *= row_weights[b];
        }
    }
    total *= scale;
    if (dlogits && !fused)
        through_activation(last, dlogits, pred, logits, n, (size_t)width);
    return total;
}

void nn_loss_rows(const nn_loss *loss, double *row_losses, const float *pred,
                  const float *labels, int64_t batch, int64_t width)
{
    if (batch <= 0 || width <= 0)
        return;
    nn_activation linear = {.kind = NN_ACTIVATION_LINEAR};
    nn_body_loss_plan plan = nn_body_loss_plan_make(loss, linear, pred, NULL, batch, width);
    /* The plan's scale turns the rows' sum into the batch's mean: 1/batch for the losses
     * summed per row, 1/(batch·width) for the element means; times batch, what one row
     * is divided by. */
    double row_scale = plan.loss_scale * (double)batch;
    /* Hinge labels are read as -1/1 when all of them are 0/1, decided over the whole
     * call as the mean's is. */
    double nonbinary = nn_body_loss_counts_nonbinary(loss->kind)
                           ? count_nonbinary(labels, (size_t)batch * (size_t)width)
                           : 0.0;
    plan.nonbinary_labels = nn_body_loss_counts_nonbinary(loss->kind) ? &nonbinary : NULL;
    for (int64_t b = 0; b < batch; b++)
        row_losses[b] = loss->kind < NN_LOSS_COUNT
                            ? nn_body_loss_row(NULL, &plan, labels, b, width) * row_scale
                            : NAN;
}

/* ---- metrics ---- */

static const struct {
    const char *name;
    nn_metric_kind kind;
} metric_table[] = {
    {"accuracy", NN_METRIC_ACCURACY},
    {"acc", NN_METRIC_ACCURACY},
    {"sparse_categorical_accuracy", NN_METRIC_SPARSE_CATEGORICAL_ACCURACY},
    {"categorical_accuracy", NN_METRIC_CATEGORICAL_ACCURACY},
    {"binary_accuracy", NN_METRIC_BINARY_ACCURACY},
    {"mse", NN_METRIC_MEAN_SQUARED_ERROR},
    {"mean_squared_error", NN_METRIC_MEAN_SQUARED_ERROR},
    {"mae", NN_METRIC_MEAN_ABSOLUTE_ERROR},
    {"mean_absolute_error", NN_METRIC_MEAN_ABSOLUTE_ERROR},
    {"root_mean_squared_error", NN_METRIC_ROOT_MEAN_SQUARED_ERROR},
    {"top_k_categorical_accuracy", NN_METRIC_TOP_K_CATEGORICAL_ACCURACY},
    {"sparse_top_k_categorical_accuracy", NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY},
    {"kl_divergence", NN_METRIC_KL_DIVERGENCE},
    {"kld", NN_METRIC_KL_DIVERGENCE},
    {"kullback_leibler_divergence", NN_METRIC_KL_DIVERGENCE},
    {"poisson", NN_METRIC_POISSON},
    {"cosine_similarity", NN_METRIC_COSINE_SIMILARITY},
    {"logcosh", NN_METRIC_LOG_COSH},
    {"log_cosh", NN_METRIC_LOG_COSH},
    {"log_cosh_error", NN_METRIC_LOG_COSH},
    {"mape", NN_METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
    {"mean_absolute_percentage_error", NN_METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR},
    {"msle", NN_METRIC_MEAN_SQUARED_LOGARITHMIC_ERROR},
    {"mean_squared_logarithmic_error", NN_METRIC_MEAN_SQUARED_LOGARITHMIC_ERROR},
    {"hinge", NN_METRIC_HINGE},
    {"squared_hinge", NN_METRIC_SQUARED_HINGE},
    {"categorical_hinge", NN_METRIC_CATEGORICAL_HINGE},
    {"precision", NN_METRIC_PRECISION},
    {"recall", NN_METRIC_RECALL},
    {"auc", NN_METRIC_AUC},
};

/* Keras' metric classes named by a string ('Precision'): the class with its default
 * settings, logged under the name Keras gives it by default, which is its metric's name
 * here ('precision'), as nn.metrics.Precision{} is. */
static const struct {
    const char *class_name;
    const char *name;
} metric_classes[] = {
    {"BinaryAccuracy", "binary_accuracy"},
    {"CategoricalAccuracy", "categorical_accuracy"},
    {"SparseCategoricalAccuracy", "sparse_categorical_accuracy"},
    {"TopKCategoricalAccuracy", "top_k_categorical_accuracy"},
    {"SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy"},
    {"MeanSquaredError", "mean_squared_error"},
    {"RootMeanSquaredError", "root_mean_squared_error"},
    {"MeanAbsoluteError", "mean_absolute_error"},
    {"MeanAbsolutePercentageError", "mean_absolute_percentage_error"},
    {"MeanSquaredLogarithmicError", "mean_squared_logarithmic_error"},
    {"LogCoshError", "logcosh"},
    {"KLDivergence", "kl_divergence"},
    {"Poisson", "poisson"},
    {"CosineSimilarity", "cosine_similarity"},
    {"Hinge", "hinge"},
    {"SquaredHinge", "squared_hinge"},
    {"CategoricalHinge", "categorical_hinge"},
    {"Precision", "precision"},
    {"Recall", "recall"},
    {"AUC", "auc"},
};

static const char *const metric_names[] = {
    "accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
    "binary_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "mse", "mean_squared_error", "root_mean_squared_error", "mae", "mean_absolute_error",
    "mape", "mean_absolute_percentage_error", "msle", "mean_squared_logarithmic_error",
    "logcosh", "log_cosh", "log_cosh_error", "kld", "kl_divergence",
    "kullback_leibler_divergence", "poisson", "cosine_similarity", "hinge", "squared_hinge",
    "categorical_hinge", "precision", "recall", "auc", NULL,
};

/* Metrics that read one class id per row, the labels of the sparse loss; 'accuracy' takes
 * either kind, and every other metric reads labels of the output's shape. */
static bool metric_reads_class_ids(nn_metric_kind kind)
{
    return kind == NN_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
           kind == NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY;
}

/* The loss decides how the labels are laid out; a metric reading the other layout would
 * read the wrong values (or past a row's labels), so the pair is refused, with the metric
 * or loss that fits. */
static nn_status check_metric_labels(const char *name, nn_metric_kind kind,
                                     const nn_loss *loss)
{
    bool reads_ids = metric_reads_class_ids(kind);
    /* A loss kind that does not exist is nn_loss_check's to report. */
    if (!loss || loss->kind >= NN_LOSS_COUNT || kind == NN_METRIC_ACCURACY ||
        reads_ids == is_sparse(loss->kind))
        return NN_OK;
    static const char ids[] = "one class id per row", shaped[] = "labels of the output's shape";
    const char *fix;
    switch (kind) {
    case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        fix = "use 'categorical_accuracy' (or 'accuracy')";
        break;
    case NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        fix = "use 'top_k_categorical_accuracy'";
        break;
    case NN_METRIC_CATEGORICAL_ACCURACY:
        fix = "use 'sparse_categorical_accuracy' (or 'accuracy')";
        break;
    case NN_METRIC_TOP_K_CATEGORICAL_ACCURACY:
        fix = "use 'sparse_top_k_categorical_accuracy'";
        break;
    default:
        fix = "to report it, train with 'categorical_crossentropy' on one-hot labels";
        break;
    }
    return nn_error(NN_ERR_ARGUMENT, "metric '%s' reads %s, but loss '%s' takes %s; %s", name,
                    reads_ids ? ids : shaped, loss_canonical_names[loss->kind],
                    reads_ids ? shaped : ids, fix);
}

/* The kind a metric name gives with this loss; false for an unknown name. */
static bool metric_kind_of(const char *name, const nn_loss *loss, nn_metric_kind *kind)
{
    for (size_t i = 0; i < sizeof metric_table / sizeof metric_table[0]; i++) {
        if (strcmp(name, metric_table[i].name) != 0)
            continue;
        *kind = metric_table[i].kind;
        /* Keras picks the accuracy by shapes, not by the loss: binary for a one-column
         * output, sparse for labels with one id per row, categorical otherwise. The
         * sparse loss is what allows one id per row, so it fixes the choice here; for
         * every other loss the labels have the output's shape and nn_metric_sum decides
         * by the width. So binary_crossentropy over several columns (multi-label) reports
         * categorical accuracy as Keras does; binary_accuracy is there by name. */
        if (*kind == NN_METRIC_ACCURACY && loss &&
            loss->kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY)
            *kind = NN_METRIC_SPARSE_CATEGORICAL_ACCURACY;
        return true;
    }
    return false;
}

nn_status nn_metric_parse(const char *name, const nn_loss *loss, nn_metric *metric)
{
    const char *metric_name = name;
    for (size_t i = 0; i < sizeof metric_classes / sizeof metric_classes[0]; i++)
        if (strcmp(name, metric_classes[i].class_name) == 0)
            metric_name = metric_classes[i].name;
    nn_metric_kind kind;
    if (metric_kind_of(metric_name, loss, &kind)) {
        NN_TRY(check_metric_labels(name, kind, loss));
        *metric = (nn_metric){.kind = kind};
        snprintf(metric->name, sizeof metric->name, "%s", metric_name);
        return NN_OK;
    }
    nn_name_guess guess;
    nn_name_guess_start(&guess, name);
    for (int i = 0; metric_names[i]; i++)
        nn_name_guess_offer(&guess, metric_names[i]);
    for (size_t i = 0; i < sizeof metric_classes / sizeof metric_classes[0]; i++)
        nn_name_guess_offer(&guess, metric_classes[i].class_name);
    char list[1024], guess_text[256];
    return nn_error(NN_ERR_ARGUMENT, "unknown metric '%s'%s; expected one of %s, or a metric "
                                     "class such as 'Precision' or 'AUC'",
                    name, nn_name_guess_text(&guess, guess_text, sizeof guess_text),
                    nn_names_join(list, sizeof list, metric_names));
}

const char *const *nn_metric_names(void) { return metric_names; }

nn_status nn_metric_check(const nn_metric *metric, const nn_loss *loss)
{
    if (metric->kind >= NN_METRIC_COUNT || !nn_metric_kind_name(metric->kind))
        return nn_error(NN_ERR_ARGUMENT, "metric kind %d does not exist", (int)metric->kind);
    return check_metric_labels(metric->name, metric->kind, loss);
}

int nn_metric_direction(nn_metric_kind kind)
{
    switch (kind) {
    case NN_METRIC_ACCURACY:
    case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    case NN_METRIC_CATEGORICAL_ACCURACY:
    case NN_METRIC_BINARY_ACCURACY:
    case NN_METRIC_TOP_K_CATEGORICAL_ACCURACY:
    case NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
    case NN_METRIC_COSINE_SIMILARITY:
    case NN_METRIC_PRECISION:
    case NN_METRIC_RECALL:
    case NN_METRIC_AUC:
        return 1;
    default:
        return -1;
    }
}

const char *nn_metric_kind_name(nn_metric_kind kind)
{
    for (size_t i = 0; i < sizeof metric_table / sizeof metric_table[0]; i++)
        if (metric_table[i].kind == kind)
            return metric_table[i].name;
    return NULL;
}

nn_status nn_metric_set_name(nn_metric *metric, const char *name)
{
    size_t length = strlen(name);
    if (length == 0 || length >= sizeof metric->name)
        return nn_error(NN_ERR_ARGUMENT, "a metric's name must have 1 to %d characters, got %zu",
                        (int)sizeof metric->name - 1, length);
    for (size_t i = 0; i < length; i++)
        if (!(isalnum((unsigned char)name[i]) || name[i] == '_'))
            return nn_error(NN_ERR_ARGUMENT, "a metric's name takes letters, digits and '_' "
                                             "(it names the logs, as 'val_' + name); got '%s'",
                            name);
    snprintf(metric->name, sizeof metric->name, "%s", name);
    return NN_OK;
}

nn_status nn_metric_set_top_k(nn_metric *metric, int64_t k)
{
    if (metric->kind != NN_METRIC_TOP_K_CATEGORICAL_ACCURACY &&
        metric->kind != NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY &&
        metric->kind != NN_METRIC_PRECISION && metric->kind != NN_METRIC_RECALL)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no k (the top-k accuracies, precision and "
                                         "recall do)",
                        nn_metric_kind_name(metric->kind));
    if (k < 1 || k > INT32_MAX)
        return nn_error(NN_ERR_ARGUMENT, "%s: k must be an integer >= 1, got %lld",
                        nn_metric_kind_name(metric->kind), (long long)k);
    metric->top_k = (int)k;
    return NN_OK;
}

nn_status nn_metric_set_threshold(nn_metric *metric, double threshold)
{
    if (metric->kind != NN_METRIC_BINARY_ACCURACY && metric->kind != NN_METRIC_PRECISION &&
        metric->kind != NN_METRIC_RECALL)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no threshold (binary_accuracy, precision "
                                         "and recall do)",
                        nn_metric_kind_name(metric->kind));
    if (!(threshold >= 0.0 && threshold <= 1.0))
        return nn_error(NN_ERR_ARGUMENT, "%s: the threshold must be in [0, 1], got %g",
                        nn_metric_kind_name(metric->kind), threshold);
    metric->has_threshold = true;
    metric->threshold = (float)threshold;
    return NN_OK;
}

/* Keras' AUC default; the most one metric may take (both halves fit the shared counts). */
enum { DEFAULT_THRESHOLDS = 200, MOST_THRESHOLDS = NN_METRIC_CURVE_FLOATS / 2 };

nn_status nn_metric_set_thresholds(nn_metric *metric, int64_t count)
{
    if (metric->kind != NN_METRIC_AUC)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no num_thresholds (auc does)",
                        nn_metric_kind_name(metric->kind));
    if (count < 2 || count > MOST_THRESHOLDS)
        return nn_error(NN_ERR_ARGUMENT, "auc: num_thresholds must be an integer from 2 to %d, "
                                         "got %lld",
                        MOST_THRESHOLDS, (long long)count);
    metric->thresholds = (int)count;
    return NN_OK;
}

nn_status nn_metric_set_class_id(nn_metric *metric, int64_t class_id)
{
    if (metric->kind != NN_METRIC_PRECISION && metric->kind != NN_METRIC_RECALL)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no class_id (precision and recall do)",
                        nn_metric_kind_name(metric->kind));
    if (class_id < 0 || class_id > INT32_MAX)
        return nn_error(NN_ERR_ARGUMENT, "%s: class_id must be an integer >= 0, got %lld",
                        nn_metric_kind_name(metric->kind), (long long)class_id);
    metric->has_class_id = true;
    metric->class_id = (int)class_id;
    return NN_OK;
}

static const char *const auc_curves[] = {"ROC", "PR", NULL};
static const char *const auc_summations[] = {"interpolation", "minoring", "majoring", NULL};

const char *nn_auc_curve_name(nn_auc_curve curve)
{
    return curve <= NN_AUC_PR ? auc_curves[curve] : "unknown";
}

const char *nn_auc_summation_name(nn_auc_summation summation)
{
    return summation <= NN_AUC_MAJORING ? auc_summations[summation] : "unknown";
}

/* The position of name in names (NULL-terminated), or -1. */
static int name_position(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

nn_status nn_metric_set_curve(nn_metric *metric, const char *curve)
{
    if (metric->kind != NN_METRIC_AUC)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no curve (auc does)",
                        nn_metric_kind_name(metric->kind));
    int position = name_position(auc_curves, curve);
    if (position < 0)
        return nn_error(NN_ERR_ARGUMENT, "auc: curve must be 'ROC' or 'PR', got '%.40s'", curve);
    metric->curve = (nn_auc_curve)position;
    return NN_OK;
}

nn_status nn_metric_set_summation(nn_metric *metric, const char *method)
{
    if (metric->kind != NN_METRIC_AUC)
        return nn_error(NN_ERR_ARGUMENT, "%s takes no summation_method (auc does)",
                        nn_metric_kind_name(metric->kind));
    int position = name_position(auc_summations, method);
    if (position < 0)
        return nn_error(NN_ERR_ARGUMENT, "auc: summation_method must be 'interpolation', "
                                         "'minoring' or 'majoring', got '%.40s'",
                        method);
    metric->summation = (nn_auc_summation)position;
    return NN_OK;
}

int nn_metric_curve_thresholds(const nn_metric *metric)
{
    if (metric->kind != NN_METRIC_AUC)
        return 0;
    return metric->thresholds > 0 ? metric->thresholds : DEFAULT_THRESHOLDS;
}

void nn_metric_curve_counts(double *counts, const float *pred, const float *labels,
                            const float *row_weights, int64_t n, int64_t width,
                            int64_t thresholds)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t slot = nn_body_curve_slot(pred[i], labels[i], thresholds);
        if (slot >= 0)
            counts[slot] += nn_body_row_weight(row_weights, i / width);
    }
}

double nn_metric_auc(const double *counts, int64_t thresholds)
{
    nn_metric roc = {.kind = NN_METRIC_AUC};
    return nn_metric_curve_area(&roc, counts, thresholds);
}

/* a / b, or 0 where b is 0 (Keras' divide_no_nan). */
static double divide_no_nan(double a, double b) { return b != 0.0 ? a / b : 0.0; }

/* One term of Keras' interpolated precision-recall area, between a threshold whose labels
 * above it hold tp true and fp false positives and the next higher one (next_tp,
 * next_fp): precision taken as varying linearly in the true positives along the step. */
static double interpolated_pr_step(double tp, double fp, double next_tp, double next_fp,
                                   double all_positive)
{
    double step_tp = tp - next_tp;
    double predicted = tp + fp, next_predicted = next_tp + next_fp;
    double slope = divide_no_nan(step_tp, fmax(predicted - next_predicted, 0.0));
    double intercept = next_tp - slope * next_predicted;
    double ratio = predicted > 0.0 && next_predicted > 0.0
                       ? divide_no_nan(predicted, fmax(next_predicted, 0.0))
                       : 1.0;
    return divide_no_nan(slope * (step_tp + intercept * log(ratio)), fmax(all_positive, 0.0));
}

double nn_metric_curve_area(const nn_metric *metric, const double *counts,
                            int64_t thresholds)
{
    const double *positives = counts, *negatives = counts + thresholds;
    double all_positive = 0.0, all_negative = 0.0;
    for (int64_t b = 0; b < thresholds; b++) {
        all_positive += positives[b];
        all_negative += negatives[b];
    }
    bool roc = metric->curve == NN_AUC_ROC;
    /* From the highest threshold down: the labels above threshold i are those of buckets
     * i and up. Each step adds the area between thresholds i + 1 and i, with x the false
     * positive rate (ROC) or the recall (PR) and y the recall or the precision. */
    double tp = 0.0, fp = 0.0, area = 0.0, last_x = 0.0, last_y = 0.0;
    for (int64_t i = thresholds - 1; i >= 0; i--) {
        double next_tp = tp, next_fp = fp;
        tp += positives[i];
        fp += negatives[i];
        double recall = divide_no_nan(tp, all_positive);
        double x = roc ? divide_no_nan(fp, all_negative) : recall;
        double y = roc ? recall : divide_no_nan(tp, tp + fp);
        if (i < thresholds - 1) {
            if (!roc && metric->summation == NN_AUC_INTERPOLATION)
                area += interpolated_pr_step(tp, fp, next_tp, next_fp, all_positive);
            else
                area += (x - last_x) * (metric->summation == NN_AUC_MINORING   ? fmin(y, last_y)
                                        : metric->summation == NN_AUC_MAJORING ? fmax(y, last_y)
                                                                 : (y + last_y) / 2.0);
        }
        last_x = x;
        last_y = y;
    }
    return area;
}

int nn_metric_top_k(const nn_metric *metric)
{
    return (int)nn_body_metric_of(metric, 2).top_k;
}

float nn_metric_threshold(const nn_metric *metric)
{
    return nn_body_metric_of(metric, 2).threshold;
}

bool nn_metric_is_plain(const nn_metric *metric, const nn_loss *loss)
{
    nn_metric_kind kind;
    return metric->top_k == 0 && !metric->has_threshold && metric->thresholds == 0 &&
           !metric->has_class_id && metric->curve == NN_AUC_ROC &&
           metric->summation == NN_AUC_INTERPOLATION &&
           metric_kind_of(metric->name, loss, &kind) && kind == metric->kind;
}

double nn_metric_sum(const nn_metric *metric, const float *pred, const float *labels,
                     int64_t batch, int64_t width)
{
    return nn_metric_weighted_sum(metric, pred, labels, NULL, batch, width);
}

double nn_metric_weighted_sum(const nn_metric *metric, const float *pred, const float *labels,
                              const float *row_weights, int64_t batch, int64_t width)
{
    nn_body_metric body = nn_body_metric_of(metric, width);
    nn_metric_kind kind = body.kind;
    if (kind >= NN_METRIC_COUNT)
        return NAN;
    /* The hinge metrics read 0/1 labels as -1/1 when the whole batch is 0/1, as Keras. */
    double nonbinary = nn_body_metric_counts_nonbinary(kind)
                           ? count_nonbinary(labels, (size_t)batch * (size_t)width)
                           : 0.0;
    double total = 0.0;
    nn_body_metric_partial(&total, body, pred, labels, row_weights, &nonbinary, batch, width,
                           1, 0);
    return total;
}

nn_metric_kind nn_metric_denominator(nn_metric_kind kind)
{
    switch (kind) {
    case NN_METRIC_PRECISION:
        return NN_METRIC_PREDICTED_POSITIVES;
    case NN_METRIC_RECALL:
        return NN_METRIC_ACTUAL_POSITIVES;
    default:
        return NN_METRIC_COUNT;
    }
}

double nn_metric_finish(const nn_metric *metric, double sum, double denominator)
{
    if (nn_metric_denominator(metric->kind) != NN_METRIC_COUNT)
        return denominator > 0.0 ? sum / denominator : 0.0;
    /* Keras' Mean divides with divide_no_nan: weights that sum to 0 give 0. */
    double mean = denominator != 0.0 ? sum / denominator : 0.0;
    return metric->kind == NN_METRIC_ROOT_MEAN_SQUARED_ERROR ? sqrt(mean) : mean;
}
