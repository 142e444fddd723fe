/* Bodies of the losses and metrics as loss.c: each row's loss (and its gradient) is one
 * call, the rows are summed by slices, and the plan below makes the choices
 * nn_loss_forward_backward makes (fused softmax/sigmoid crossentropy from the logits,
 * clipped probabilities otherwise, which input, which scale). */
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
    NN_BODY_LOSS_ABSOLUTE_ERROR
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
} nn_body_loss_plan;

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
        plan.gradient_scale = plan.loss_scale = per_element;
        break;
    default: /* mean squared error */
        plan.row = NN_BODY_LOSS_SQUARED_ERROR;
        plan.gradient_scale = plan.loss_scale = per_element;
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

/* The loss of row b, its gradient written to d (the row, or NULL). A class id that is
 * not one gives NaN and a zero gradient, as loss.c. */
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
    default: /* squared error */
        for (int64_t j = 0; j < width; j++) {
            double difference = (double)x[j] - (double)t[j];
            loss += difference * difference;
            if (d)
                d[j] = (float)(scale * 2.0 * difference);
        }
        return loss;
    }
}

/* Slice s of a loss: the rows s, s + slices, ... summed, their gradients written; with
 * sample weights (weights not NULL) each row's loss and gradient times its weight, as
 * loss.c. */
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

/* The metric a kind resolves to for an output of `width` ("accuracy" after mse). */
NN_BODY nn_metric_kind nn_body_metric_resolve(nn_metric_kind kind, int64_t width)
{
    if (kind == NN_METRIC_ACCURACY)
        return width == 1 ? NN_METRIC_BINARY_ACCURACY : NN_METRIC_CATEGORICAL_ACCURACY;
    return kind;
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

/* The metric's value for row b (its sum over rows is what nn_metric_sum returns). */
NN_BODY double nn_body_metric_row(nn_metric_kind kind, const float *pred, const float *labels,
                                  int64_t b, int64_t width)
{
    const float *p = pred + b * width;
    double row = 0.0;
    switch (kind) {
    case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        return (double)nn_body_argmax(p, width) == (double)labels[b];
    case NN_METRIC_CATEGORICAL_ACCURACY:
        return nn_body_argmax(p, width) == nn_body_argmax(labels + b * width, width);
    case NN_METRIC_BINARY_ACCURACY:
        for (int64_t j = 0; j < width; j++)
            row += (p[j] > 0.5f ? 1.0f : 0.0f) == labels[b * width + j];
        return row / (double)width;
    case NN_METRIC_MEAN_SQUARED_ERROR:
        for (int64_t j = 0; j < width; j++) {
            double difference = (double)p[j] - (double)labels[b * width + j];
            row += difference * difference;
        }
        return row / (double)width;
    case NN_METRIC_MEAN_ABSOLUTE_ERROR:
        for (int64_t j = 0; j < width; j++)
            row += fabs((double)p[j] - (double)labels[b * width + j]);
        return row / (double)width;
    default:
        return NAN;
    }
}

NN_BODY void nn_body_metric_partial(double *partials, nn_metric_kind kind, const float *pred,
                                    const float *labels, int64_t batch, int64_t width,
                                    size_t slices, size_t s)
{
    double total = 0.0;
    for (int64_t b = (int64_t)s; b < batch; b += (int64_t)slices)
        total += nn_body_metric_row(kind, pred, labels, b, width);
    partials[s] = total;
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
