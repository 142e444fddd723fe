/* Bodies of the losses and metrics, the only place their formulas are written: each
 * row's loss (and its gradient) is one call, the rows are summed by slices, and the plan
 * below makes the choices (fused softmax/sigmoid crossentropy from the logits, clipped
 * probabilities otherwise, which input, which scale). loss.c runs them row by row for the
 * CPU, the CUDA backend by slices; tests/engine/test_loss.c holds them to naive
 * references and finite differences. */
#ifndef NN_LOSS_BODY_H
#define NN_LOSS_BODY_H

#include "../../loss.h"
#include "body.h"

/* Keras' backend epsilon: probabilities are clipped to [EPSILON, 1 - EPSILON]. */
#define NN_BODY_LOSS_EPSILON 1e-7

typedef enum nn_body_loss_row {
    NN_BODY_LOSS_SOFTMAX_CROSSENTROPY,    /* from logits, sparse or one-hot targets */
    NN_BODY_LOSS_CATEGORICAL_PROBABILITY, /* clipped probabilities, one-hot targets */
    NN_BODY_LOSS_SPARSE_PROBABILITY,      /* clipped probabilities, class ids */
    NN_BODY_LOSS_SIGMOID_CROSSENTROPY,    /* from logits */
    NN_BODY_LOSS_BINARY_PROBABILITY,
    NN_BODY_LOSS_SQUARED_ERROR,
    NN_BODY_LOSS_ABSOLUTE_ERROR,
    NN_BODY_LOSS_HUBER,
    NN_BODY_LOSS_LOG_COSH,
    NN_BODY_LOSS_KL_DIVERGENCE,
    NN_BODY_LOSS_POISSON,
    NN_BODY_LOSS_HINGE,
    NN_BODY_LOSS_SQUARED_HINGE,
    NN_BODY_LOSS_CATEGORICAL_HINGE,
    NN_BODY_LOSS_COSINE_SIMILARITY, /* the negative cosine */
    NN_BODY_LOSS_PERCENTAGE_ERROR,
    NN_BODY_LOSS_SQUARED_LOG_ERROR
} nn_body_loss_formula;

/* What a loss call computes: the row formula, its input (the logits or the predictions),
 * the gradient's scale, the loss's, and whether the gradient must still go through the
 * last activation's derivative. */
typedef struct nn_body_loss_plan {
    nn_body_loss_formula row;
    int sparse;               /* labels hold one class id per row */
    const float *input;       /* (B, W): logits or predictions */
    double gradient_scale;
    double loss_scale;
    int through_activation;
    double delta; /* huber's */
    /* Hinge and squared hinge: how many labels of the whole call are neither 0 nor 1
     * (device memory on a GPU, written by nn_body_nonbinary_partial's sum before the
     * rows run); none turns every label t into 2t - 1, as Keras decides per batch. NULL
     * for the other losses. */
    const double *nonbinary_labels;
} nn_body_loss_plan;

/* Whether the loss reads its labels as -1/1 after a batch-wide look (above). */
NN_BODY int nn_body_loss_counts_nonbinary(nn_loss_kind kind)
{
    return kind == NN_LOSS_HINGE || kind == NN_LOSS_SQUARED_HINGE;
}

/* Slice s of the count of labels (n) that are neither 0 nor 1. */
NN_BODY void nn_body_nonbinary_partial(double *partials, const float *labels, size_t n,
                                       size_t slices, size_t s)
{
    double count = 0.0;
    for (size_t i = s; i < n; i += slices)
        count += labels[i] != 0.0f && labels[i] != 1.0f;
    partials[s] = count;
}

NN_BODY nn_body_loss_plan nn_body_loss_plan_make(const nn_loss *loss, nn_activation last,
                                                 const float *pred, const float *logits,
                                                 int64_t batch, int64_t width)
{
    nn_body_loss_plan plan;
    double per_row = 1.0 / (double)batch;
    double per_element = 1.0 / ((double)batch * (double)width);
    plan.sparse = loss->kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    plan.input = pred;
    plan.through_activation = 1;
    plan.delta = loss->delta;
    plan.nonbinary_labels = NULL;
    /* The losses that are a sum (or one value) per row are averaged over rows; the
     * others are a mean over the row's elements first, so over every element. */
    plan.gradient_scale = plan.loss_scale = per_element;
    switch (loss->kind) {
    case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
    case NN_LOSS_CATEGORICAL_CROSSENTROPY:
        plan.gradient_scale = plan.loss_scale = per_row;
        if (last.kind == NN_ACTIVATION_SOFTMAX && logits) {
            /* Keras takes a softmax output's own logits whatever from_logits says. */
            plan.row = NN_BODY_LOSS_SOFTMAX_CROSSENTROPY;
            plan.input = logits;
            plan.through_activation = 0;
        } else if (loss->from_logits) {
            plan.row = NN_BODY_LOSS_SOFTMAX_CROSSENTROPY;
        } else {
            plan.row = plan.sparse ? NN_BODY_LOSS_SPARSE_PROBABILITY
                                   : NN_BODY_LOSS_CATEGORICAL_PROBABILITY;
        }
        break;
    case NN_LOSS_BINARY_CROSSENTROPY:
        plan.gradient_scale = plan.loss_scale = per_element;
        if (last.kind == NN_ACTIVATION_SIGMOID && logits) {
            plan.row = NN_BODY_LOSS_SIGMOID_CROSSENTROPY;
            plan.input = logits;
            plan.through_activation = 0;
        } else {
            plan.row = loss->from_logits ? NN_BODY_LOSS_SIGMOID_CROSSENTROPY
                                         : NN_BODY_LOSS_BINARY_PROBABILITY;
        }
        break;
    case NN_LOSS_MEAN_ABSOLUTE_ERROR:
        plan.row = NN_BODY_LOSS_ABSOLUTE_ERROR;
        break;
    case NN_LOSS_HUBER:
        plan.row = NN_BODY_LOSS_HUBER;
        break;
    case NN_LOSS_LOG_COSH:
        plan.row = NN_BODY_LOSS_LOG_COSH;
        break;
    case NN_LOSS_KL_DIVERGENCE:
        plan.row = NN_BODY_LOSS_KL_DIVERGENCE;
        plan.gradient_scale = plan.loss_scale = per_row;
        break;
    case NN_LOSS_POISSON:
        plan.row = NN_BODY_LOSS_POISSON;
        break;
    case NN_LOSS_HINGE:
        plan.row = NN_BODY_LOSS_HINGE;
        break;
    case NN_LOSS_SQUARED_HINGE:
        plan.row = NN_BODY_LOSS_SQUARED_HINGE;
        break;
    case NN_LOSS_CATEGORICAL_HINGE:
        plan.row = NN_BODY_LOSS_CATEGORICAL_HINGE;
        plan.gradient_scale = plan.loss_scale = per_row;
        break;
    case NN_LOSS_COSINE_SIMILARITY:
        plan.row = NN_BODY_LOSS_COSINE_SIMILARITY;
        plan.gradient_scale = plan.loss_scale = per_row;
        break;
    case NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR:
        plan.row = NN_BODY_LOSS_PERCENTAGE_ERROR;
        break;
    case NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR:
        plan.row = NN_BODY_LOSS_SQUARED_LOG_ERROR;
        break;
    default: /* mean squared error */
        plan.row = NN_BODY_LOSS_SQUARED_ERROR;
        break;
    }
    if (last.kind == NN_ACTIVATION_LINEAR)
        plan.through_activation = 0;
    return plan;
}

/* Gradient of clip(x, ε, 1 - ε): it passes where x lies inside the bounds. */
NN_BODY int nn_body_inside_clip(double x)
{
    return x >= NN_BODY_LOSS_EPSILON && x <= 1.0 - NN_BODY_LOSS_EPSILON;
}

NN_BODY double nn_body_clip(double x)
{
    return fmin(fmax(x, NN_BODY_LOSS_EPSILON), 1.0 - NN_BODY_LOSS_EPSILON);
}

/* TensorFlow's gradient of max(x, y) goes to x where x >= y, of min(x, y) to x where
 * x <= y; Keras 3 on TensorFlow trains so, and so do these. */

/* One row of a loss that is not a crossentropy (the formulas Keras 3 gives, every
 * clipping epsilon included): returns the row's sum of element losses (or its one value
 * for the row-wise losses), and writes scale · dloss/dx to d when d is not NULL. x is the
 * prediction row, t the label row (width each); hinge_labels: turn t into 2t - 1. */
NN_BODY double nn_body_regression_row(float *d, nn_body_loss_formula row, const float *x,
                                      const float *t, int64_t width, double scale,
                                      double delta, int hinge_labels)
{
    const double epsilon = NN_BODY_LOSS_EPSILON;
    double loss = 0.0;
    switch (row) {
    case NN_BODY_LOSS_CATEGORICAL_HINGE: {
        /* max(neg - pos + 1, 0), pos = Σ t·x, neg = max (1 - t)·x; the max's gradient is
         * shared by the elements that tie for it, as TensorFlow's reduce_max. */
        double pos = 0.0, neg = -INFINITY, ties = 0.0;
        for (int64_t j = 0; j < width; j++) {
            pos += (double)t[j] * (double)x[j];
            double other = (1.0 - (double)t[j]) * (double)x[j];
            neg = other > neg ? other : neg;
        }
        for (int64_t j = 0; j < width; j++)
            ties += (1.0 - (double)t[j]) * (double)x[j] == neg;
        double margin = neg - pos + 1.0;
        for (int64_t j = 0; d && j < width; j++) {
            double g = 0.0;
            if (margin >= 0.0) {
                double other = (1.0 - (double)t[j]) * (double)x[j];
                g = -(double)t[j] + (other == neg ? (1.0 - (double)t[j]) / ties : 0.0);
            }
            d[j] = (float)(scale * g);
        }
        return fmax(margin, 0.0);
    }
    case NN_BODY_LOSS_COSINE_SIMILARITY: {
        /* -Σ t̂·x̂ with v̂ = v · min(1/‖v‖, 1/ε), Keras' l2 normalisation. */
        double tt = 0.0, xx = 0.0, tx = 0.0;
        for (int64_t j = 0; j < width; j++) {
            tt += (double)t[j] * (double)t[j];
            xx += (double)x[j] * (double)x[j];
            tx += (double)t[j] * (double)x[j];
        }
        double t_inverse = fmin(1.0 / sqrt(tt), 1.0 / epsilon);
        double x_inverse = fmin(1.0 / sqrt(xx), 1.0 / epsilon);
        int x_normed = 1.0 / sqrt(xx) <= 1.0 / epsilon; /* the norm's gradient passes */
        for (int64_t j = 0; d && j < width; j++) {
            double g = x_inverse * (double)t[j];
            if (x_normed)
                g -= tx * (double)x[j] * x_inverse * x_inverse * x_inverse;
            d[j] = (float)(-scale * t_inverse * g);
        }
        return -t_inverse * x_inverse * tx;
    }
    default:
        break;
    }
    for (int64_t j = 0; j < width; j++) {
        double p = x[j], target = t[j], g = 0.0;
        switch (row) {
        case NN_BODY_LOSS_HUBER: {
            double error = p - target, size = fabs(error);
            if (size <= delta) {
                loss += 0.5 * error * error;
                g = error;
            } else {
                loss += delta * size - 0.5 * delta * delta;
                g = error > 0.0 ? delta : -delta;
            }
            break;
        }
        case NN_BODY_LOSS_LOG_COSH: {
            /* log cosh e = |e| + log(1 + exp(-2|e|)) - log 2, stable for any e. */
            double error = p - target, size = fabs(error);
            loss += size + log1p(exp(-2.0 * size)) - log(2.0);
            g = tanh(error);
            break;
        }
        case NN_BODY_LOSS_KL_DIVERGENCE: {
            /* t and x clipped to [ε, 1]; the gradient stops outside. */
            double clipped_t = fmin(fmax(target, epsilon), 1.0);
            double clipped_p = fmin(fmax(p, epsilon), 1.0);
            loss += clipped_t * log(clipped_t / clipped_p);
            g = p >= epsilon && p <= 1.0 ? -clipped_t / clipped_p : 0.0;
            break;
        }
        case NN_BODY_LOSS_POISSON:
            loss += p - target * log(p + epsilon);
            g = 1.0 - target / (p + epsilon);
            break;
        case NN_BODY_LOSS_HINGE:
        case NN_BODY_LOSS_SQUARED_HINGE: {
            double sign = hinge_labels ? 2.0 * target - 1.0 : target;
            double margin = 1.0 - sign * p;
            if (row == NN_BODY_LOSS_HINGE) {
                loss += fmax(margin, 0.0);
                g = margin >= 0.0 ? -sign : 0.0;
            } else {
                double kept = fmax(margin, 0.0);
                loss += kept * kept;
                g = margin >= 0.0 ? -2.0 * sign * kept : 0.0;
            }
            break;
        }
        case NN_BODY_LOSS_PERCENTAGE_ERROR: {
            /* 100 |t - x| / max(|t|, ε) */
            double error = p - target, divisor = fmax(fabs(target), epsilon);
            loss += 100.0 * fabs(error) / divisor;
            g = 100.0 * (error > 0.0 ? 1.0 : error < 0.0 ? -1.0 : 0.0) / divisor;
            break;
        }
        case NN_BODY_LOSS_SQUARED_LOG_ERROR: {
            /* (log(max(x, ε) + 1) - log(max(t, ε) + 1))² */
            double kept = fmax(p, epsilon);
            double error = log(kept + 1.0) - log(fmax(target, epsilon) + 1.0);
            loss += error * error;
            g = p >= epsilon ? 2.0 * error / (kept + 1.0) : 0.0;
            break;
        }
        default:
            return NAN;
        }
        if (d)
            d[j] = (float)(scale * g);
    }
    return loss;
}

/* The loss of row b, its gradient written to d (the row, or NULL). A class id that is
 * not one gives NaN and a zero gradient (the training loop stops on the NaN). */
NN_BODY double nn_body_loss_row(float *d, const nn_body_loss_plan *plan, const float *labels,
                                int64_t b, int64_t width)
{
    const float *x = plan->input + b * width;
    const float *t = plan->sparse ? NULL : labels + b * width;
    const double scale = plan->gradient_scale;
    int64_t label = 0;
    if (plan->sparse) {
        float id = labels[b];
        if (!(id >= 0.0f && id < (float)width)) {
            for (int64_t j = 0; d && j < width; j++)
                d[j] = 0.0f;
            return NAN;
        }
        label = (int64_t)id;
    }
    double loss = 0.0;
    switch (plan->row) {
    case NN_BODY_LOSS_SOFTMAX_CROSSENTROPY: {
        double peak = x[0];
        for (int64_t j = 1; j < width; j++)
            peak = x[j] > peak ? x[j] : peak;
        double total = 0.0;
        for (int64_t j = 0; j < width; j++)
            total += exp((double)x[j] - peak);
        double lse = peak + log(total), target_sum = 1.0;
        if (t) {
            target_sum = 0.0;
            for (int64_t j = 0; j < width; j++) {
                loss += (double)t[j] * (lse - (double)x[j]);
                target_sum += t[j];
            }
        } else {
            loss = lse - (double)x[label];
        }
        for (int64_t j = 0; d && j < width; j++) {
            double target = t ? (double)t[j] : (j == label ? 1.0 : 0.0);
            d[j] = (float)(scale * (target_sum * exp((double)x[j] - lse) - target));
        }
        return loss;
    }
    case NN_BODY_LOSS_CATEGORICAL_PROBABILITY: {
        double sum = 0.0, weighted = 0.0;
        for (int64_t j = 0; j < width; j++)
            sum += x[j];
        for (int64_t j = 0; j < width; j++)
            loss -= (double)t[j] * log(nn_body_clip(x[j] / sum));
        for (int64_t j = 0; d && j < width; j++)
            if (nn_body_inside_clip(x[j] / sum))
                weighted -= (double)t[j];
        for (int64_t k = 0; d && k < width; k++) {
            double q = x[k] / sum;
            double g = nn_body_inside_clip(q) ? -(double)t[k] / q : 0.0;
            d[k] = (float)(scale * (g - weighted) / sum);
        }
        return loss;
    }
    case NN_BODY_LOSS_SPARSE_PROBABILITY: {
        double sum = 0.0;
        for (int64_t j = 0; j < width; j++)
            sum += nn_body_clip(x[j]);
        double clipped_label = nn_body_clip(x[label]);
        for (int64_t j = 0; d && j < width; j++) {
            double g = 1.0 / sum - (j == label ? 1.0 / clipped_label : 0.0);
            d[j] = nn_body_inside_clip(x[j]) ? (float)(scale * g) : 0.0f;
        }
        return -log(clipped_label) + log(sum);
    }
    case NN_BODY_LOSS_SIGMOID_CROSSENTROPY:
        for (int64_t j = 0; j < width; j++) {
            double z = x[j], target = t[j];
            loss += fmax(z, 0.0) - z * target + log1p(exp(-fabs(z)));
            if (d) {
                double sigmoid = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
                d[j] = (float)(scale * (sigmoid - target));
            }
        }
        return loss;
    case NN_BODY_LOSS_BINARY_PROBABILITY:
        for (int64_t j = 0; j < width; j++) {
            double c = nn_body_clip(x[j]), target = t[j];
            loss -= target * log(c) + (1.0 - target) * log(1.0 - c);
            if (d)
                d[j] = nn_body_inside_clip(x[j])
                           ? (float)(scale * (-target / c + (1.0 - target) / (1.0 - c)))
                           : 0.0f;
        }
        return loss;
    case NN_BODY_LOSS_ABSOLUTE_ERROR:
        for (int64_t j = 0; j < width; j++) {
            double difference = (double)x[j] - (double)t[j];
            loss += fabs(difference);
            if (d)
                d[j] = (float)(scale * (difference > 0.0 ? 1.0 : difference < 0.0 ? -1.0 : 0.0));
        }
        return loss;
    case NN_BODY_LOSS_SQUARED_ERROR:
        for (int64_t j = 0; j < width; j++) {
            double difference = (double)x[j] - (double)t[j];
            loss += difference * difference;
            if (d)
                d[j] = (float)(scale * 2.0 * difference);
        }
        return loss;
    default:
        return nn_body_regression_row(d, plan->row, x, t, width, scale, plan->delta,
                                      plan->nonbinary_labels && *plan->nonbinary_labels == 0.0);
    }
}

/* Slice s of a loss: the rows s, s + slices, ... summed, their gradients written; with
 * sample weights (weights not NULL) each row's loss and gradient times its weight, as
 * nn_loss_forward_backward. */
NN_BODY void nn_body_loss_partial(double *partials, float *dlogits, nn_body_loss_plan plan,
                                  const float *labels, const float *weights, int64_t batch,
                                  int64_t width, size_t slices, size_t s)
{
    double total = 0.0;
    for (int64_t b = (int64_t)s; b < batch; b += (int64_t)slices) {
        float *d = dlogits ? dlogits + b * width : NULL;
        double row = nn_body_loss_row(d, &plan, labels, b, width);
        if (weights) {
            row *= (double)weights[b];
            for (int64_t j = 0; d && j < width; j++)
                d[j] *= weights[b];
        }
        total += row;
    }
    partials[s] = total;
}

/* Keras' top-k metrics take k = 5 unless told. */
enum { NN_BODY_METRIC_TOP_K = 5 };
/* Keras' binary accuracy, precision and recall count a prediction above 0.5 as positive
 * unless told. */
#define NN_BODY_METRIC_THRESHOLD 0.5f

/* What a metric row computes: the kind, resolved for the output's width ("accuracy"
 * after mse), with its k and threshold. */
typedef struct nn_body_metric {
    nn_metric_kind kind;
    int64_t top_k;      /* the top-k accuracies' k; precision and recall's top_k, 0 none */
    float threshold;
    int64_t class_id;   /* precision and recall: the one column counted, -1 every column */
} nn_body_metric;

/* Whether a metric counts positives (precision, recall and their denominators). */
NN_BODY int nn_body_metric_counts_positives(nn_metric_kind kind)
{
    return kind == NN_METRIC_PRECISION || kind == NN_METRIC_RECALL ||
           kind == NN_METRIC_PREDICTED_POSITIVES || kind == NN_METRIC_ACTUAL_POSITIVES;
}

NN_BODY nn_body_metric nn_body_metric_of(const nn_metric *metric, int64_t width)
{
    nn_body_metric body;
    body.kind = metric->kind;
    if (body.kind == NN_METRIC_ACCURACY)
        body.kind = width == 1 ? NN_METRIC_BINARY_ACCURACY : NN_METRIC_CATEGORICAL_ACCURACY;
    body.top_k = metric->top_k > 0 ? metric->top_k : NN_BODY_METRIC_TOP_K;
    body.threshold = metric->has_threshold ? metric->threshold : NN_BODY_METRIC_THRESHOLD;
    body.class_id = -1;
    if (nn_body_metric_counts_positives(body.kind)) {
        body.top_k = metric->top_k;
        if (metric->top_k > 0 && !metric->has_threshold)
            body.threshold = -INFINITY;
        body.class_id = metric->has_class_id ? metric->class_id : -1;
    }
    return body;
}

/* Index of the largest value of a row; the first on ties, as tf.argmax. */
NN_BODY int64_t nn_body_argmax(const float *row, int64_t width)
{
    int64_t best = 0;
    for (int64_t j = 1; j < width; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Whether the metric reads its labels as -1/1 after a batch-wide look, as its loss. */
NN_BODY int nn_body_metric_counts_nonbinary(nn_metric_kind kind)
{
    return kind == NN_METRIC_HINGE || kind == NN_METRIC_SQUARED_HINGE;
}


/* Whether class `label` is among the k largest of a row, as TensorFlow's in_top_k: fewer
 * than k values are strictly larger, so ties at the boundary are all in; a class that is
 * not one, or a non-finite value there, is not. */
NN_BODY int nn_body_in_top_k(const float *row, double label, int64_t width, int64_t k)
{
    if (!(label >= 0.0 && label < (double)width))
        return 0;
    float value = row[(int64_t)label];
    if (!isfinite(value))
        return 0;
    int64_t larger = 0;
    for (int64_t j = 0; j < width; j++)
        larger += row[j] > value;
    return larger < k;
}

/* Whether row[j] is among the k largest of its row, ties going to the lower index (as
 * top_k's selection, which Keras' Precision and Recall take). */
NN_BODY int nn_body_selected_top_k(const float *row, int64_t j, int64_t width, int64_t k)
{
    int64_t before = 0;
    for (int64_t i = 0; i < width; i++)
        before += row[i] > row[j] || (row[i] == row[j] && i < j);
    return before < k;
}

/* The positives of a row for precision and recall: predicted (above the threshold, and
 * among the top_k when set), actual (label not 0), or both, over every column or the one
 * class_id. */
NN_BODY double nn_body_positives(nn_body_metric metric, const float *p, const float *t,
                                 int64_t width, int predicted, int actual)
{
    int64_t first = metric.class_id >= 0 ? metric.class_id : 0;
    int64_t end = metric.class_id >= 0 ? metric.class_id + 1 : width;
    double count = 0.0;
    for (int64_t j = first; j < end && j < width; j++) {
        int is_predicted = p[j] > metric.threshold &&
                           (metric.top_k <= 0 || nn_body_selected_top_k(p, j, width, metric.top_k));
        count += (!predicted || is_predicted) && (!actual || t[j] != 0.0f);
    }
    return count;
}

/* The metric's value for row b (its sum over rows is what nn_metric_sum returns).
 * nonbinary: the batch's count of labels neither 0 nor 1, for the hinge metrics (NULL
 * otherwise). */
NN_BODY double nn_body_metric_row(nn_body_metric metric, const float *pred, const float *labels,
                                  const double *nonbinary, int64_t b, int64_t width)
{
    const nn_metric_kind kind = metric.kind;
    const float *p = pred + b * width;
    const float *t = labels + b * width;
    double row = 0.0;
    nn_body_loss_formula formula;
    switch (kind) {
    case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        return (double)nn_body_argmax(p, width) == (double)labels[b];
    case NN_METRIC_CATEGORICAL_ACCURACY:
        return nn_body_argmax(p, width) == nn_body_argmax(t, width);
    case NN_METRIC_BINARY_ACCURACY:
        for (int64_t j = 0; j < width; j++)
            row += (p[j] > metric.threshold ? 1.0f : 0.0f) == t[j];
        return row / (double)width;
    case NN_METRIC_MEAN_SQUARED_ERROR:
    case NN_METRIC_ROOT_MEAN_SQUARED_ERROR:
        for (int64_t j = 0; j < width; j++) {
            double difference = (double)p[j] - (double)t[j];
            row += difference * difference;
        }
        return row / (double)width;
    case NN_METRIC_MEAN_ABSOLUTE_ERROR:
        for (int64_t j = 0; j < width; j++)
            row += fabs((double)p[j] - (double)t[j]);
        return row / (double)width;
    case NN_METRIC_TOP_K_CATEGORICAL_ACCURACY:
        return nn_body_in_top_k(p, (double)nn_body_argmax(t, width), width, metric.top_k);
    case NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        return nn_body_in_top_k(p, (double)labels[b], width, metric.top_k);
    /* The confusion counts of Keras' Precision and Recall: a value above the threshold
     * is a predicted positive, a label other than 0 an actual one. */
    case NN_METRIC_PRECISION:
    case NN_METRIC_RECALL:
        return nn_body_positives(metric, p, t, width, 1, 1);
    case NN_METRIC_PREDICTED_POSITIVES:
        return nn_body_positives(metric, p, t, width, 1, 0);
    case NN_METRIC_ACTUAL_POSITIVES:
        return nn_body_positives(metric, p, t, width, 0, 1);
    case NN_METRIC_AUC: /* counted by buckets (nn_body_curve_slot), not summed */
        return 0.0;
    case NN_METRIC_ROW_WEIGHT:
        return 1.0;
    /* The rest are their loss's row value: a sum (or one value) per row... */
    case NN_METRIC_KL_DIVERGENCE:
        return nn_body_regression_row(NULL, NN_BODY_LOSS_KL_DIVERGENCE, p, t, width, 1.0, 1.0, 0);
    case NN_METRIC_CATEGORICAL_HINGE:
        return nn_body_regression_row(NULL, NN_BODY_LOSS_CATEGORICAL_HINGE, p, t, width, 1.0,
                                      1.0, 0);
    case NN_METRIC_COSINE_SIMILARITY:
        return -nn_body_regression_row(NULL, NN_BODY_LOSS_COSINE_SIMILARITY, p, t, width, 1.0,
                                       1.0, 0);
    /* ... or a mean over the row. */
    case NN_METRIC_POISSON:
        formula = NN_BODY_LOSS_POISSON;
        break;
    case NN_METRIC_LOG_COSH:
        formula = NN_BODY_LOSS_LOG_COSH;
        break;
    case NN_METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR:
        formula = NN_BODY_LOSS_PERCENTAGE_ERROR;
        break;
    case NN_METRIC_MEAN_SQUARED_LOGARITHMIC_ERROR:
        formula = NN_BODY_LOSS_SQUARED_LOG_ERROR;
        break;
    case NN_METRIC_HINGE:
        formula = NN_BODY_LOSS_HINGE;
        break;
    case NN_METRIC_SQUARED_HINGE:
        formula = NN_BODY_LOSS_SQUARED_HINGE;
        break;
    default:
        return NAN;
    }
    int hinge_labels = nonbinary && *nonbinary == 0.0;
    return nn_body_regression_row(NULL, formula, p, t, width, 1.0, 1.0, hinge_labels) /
           (double)width;
}

/* Row b's weight: row_weights[b], or 1 without weights. */
NN_BODY double nn_body_row_weight(const float *row_weights, int64_t b)
{
    return row_weights ? (double)row_weights[b] : 1.0;
}

/* Slice s of the metric's sum over the rows, each row's value times its weight
 * (row_weights NULL: 1). */
NN_BODY void nn_body_metric_partial(double *partials, nn_body_metric metric, const float *pred,
                                    const float *labels, const float *row_weights,
                                    const double *nonbinary, int64_t batch, int64_t width,
                                    size_t slices, size_t s)
{
    double total = 0.0;
    for (int64_t b = (int64_t)s; b < batch; b += (int64_t)slices)
        total += nn_body_row_weight(row_weights, b) *
                 nn_body_metric_row(metric, pred, labels, nonbinary, b, width);
    partials[s] = total;
}

/* AUC's bucket of a prediction, as Keras' evenly spaced thresholds (-eps, 1/(T-1), ...,
 * (T-2)/(T-1), 1+eps): the last threshold the prediction (clipped to [0, 1]) lies above,
 * computed as Keras in float32; -1 for NaN, which no bucket counts. */
NN_BODY int64_t nn_body_curve_bucket(float p, int64_t thresholds)
{
    if (isnan(p))
        return -1;
    float clipped = p < 0.0f ? 0.0f : p > 1.0f ? 1.0f : p;
    int64_t bucket = (int64_t)ceilf(clipped * (float)(thresholds - 1)) - 1;
    return bucket < 0 ? 0 : bucket;
}

/* The slot a value counts in: its bucket among the positive labels (not 0) or, after
 * them, the negative ones; -1 for none. */
NN_BODY int64_t nn_body_curve_slot(float p, float label, int64_t thresholds)
{
    int64_t bucket = nn_body_curve_bucket(p, thresholds);
    if (bucket < 0)
        return -1;
    return label != 0.0f ? bucket : thresholds + bucket;
}

/* The slices of a reduction added in order. */
NN_BODY double nn_body_sum_partials(const double *partials, size_t slices)
{
    double total = 0.0;
    for (size_t s = 0; s < slices; s++)
        total += partials[s];
    return total;
}

#endif
