/* Losses and metrics, computed on the CPU from a model's output and the labels. */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "status.h"
#include "tensor.h"

typedef enum nn_loss_kind {
    NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY,
    NN_LOSS_CATEGORICAL_CROSSENTROPY,
    NN_LOSS_BINARY_CROSSENTROPY,
    NN_LOSS_MEAN_SQUARED_ERROR,
    NN_LOSS_MEAN_ABSOLUTE_ERROR,
    NN_LOSS_HUBER,
    NN_LOSS_LOG_COSH,
    NN_LOSS_KL_DIVERGENCE,
    NN_LOSS_POISSON,
    NN_LOSS_HINGE,                 /* 0/1 labels become -1/1, as Keras */
    NN_LOSS_SQUARED_HINGE,         /* likewise */
    NN_LOSS_CATEGORICAL_HINGE,
    NN_LOSS_COSINE_SIMILARITY,     /* the negative cosine along the last axis */
    NN_LOSS_MEAN_ABSOLUTE_PERCENTAGE_ERROR,
    NN_LOSS_MEAN_SQUARED_LOGARITHMIC_ERROR,
    NN_LOSS_COUNT
} nn_loss_kind;

typedef struct nn_loss {
    nn_loss_kind kind;
    bool from_logits; /* predictions are logits, not probabilities */
    /* In [0, 1]; categorical and binary crossentropy only (0 for the others). The
     * targets the loss sees are t·(1 - a) + a/K, K the classes (2 for binary, so
     * 0.5·a), as Keras 3; metrics still see the labels as given. */
    double label_smoothing;
    /* Huber only: where the loss turns from quadratic to linear, finite and > 0 (Keras'
     * default 1.0, which nn_loss_parse sets); ignored by the others. */
    double delta;
} nn_loss;

/* "sparse_categorical_crossentropy", "mse" = "mean_squared_error", "Huber", "kld", ...:
 * Keras 3's names, its short forms and class names. Resets the settings to Keras'
 * defaults (delta 1.0, no smoothing, not from logits). */
nn_status nn_loss_parse(const char *name, nn_loss *loss);
const char *nn_loss_name(nn_loss_kind kind);
const char *const *nn_loss_names(void);

/* Whether the loss takes label_smoothing (categorical and binary crossentropy). */
bool nn_loss_takes_label_smoothing(nn_loss_kind kind);
/* Whether the loss takes from_logits: the crossentropies, and mean squared and absolute
 * error, which have always taken it and ignore it. */
bool nn_loss_takes_from_logits(nn_loss_kind kind);
/* The settings in range: label_smoothing in [0, 1] and only where the loss takes it;
 * huber's delta finite and > 0. */
nn_status nn_loss_check(const nn_loss *loss);
/* When the loss smooths its labels, the affine map that does it for an output of
 * `width` columns, target = label·scale + offset, and true; false (and the identity)
 * otherwise. nn_loss_forward_backward reads its targets as given: the caller maps the
 * labels first (the training loop does, with the backend's scale_shift), so every
 * backend smooths the same way without a kernel of its own. */
bool nn_loss_label_map(const nn_loss *loss, int64_t width, float *scale, float *offset);

/* Checks that labels fit the loss and the model's output (B, classes):
 * sparse losses take integer class ids in [0, classes) of shape (B,) or (B, 1); the
 * others take a float tensor of the output's shape. The message says what arrived and,
 * for the usual mix-ups, which loss was probably meant. */
nn_status nn_loss_check_labels(const nn_loss *loss, const nn_shape *output,
                               const nn_tensor *labels);

/* Mean loss over the batch of `batch` rows of `width` outputs (pred is what the last
 * layer produced). When dlogits is not NULL it receives the gradient of the mean loss
 * with respect to the last layer's pre-activation input, which is exact and stable for
 * softmax + categorical crossentropy and sigmoid + binary crossentropy (fused), and
 * dpred pushed through `last` otherwise: so the last layer's activation backward is
 * skipped by the caller. `logits` is the pre-activation (may equal pred for linear).
 * labels point to `batch` rows of the label tensor (as float), already smoothed
 * (nn_loss_label_map). row_weights (NULL: none) are Keras' sample weights, one per row:
 * each row's loss and gradient are multiplied by its weight and the sum is still divided
 * by `batch`, as Keras' default reduction ("sum over batch size") does. */
double nn_loss_forward_backward(const nn_loss *loss, nn_activation last, float *dlogits,
                                const float *pred, const float *logits, const float *labels,
                                const float *row_weights, int64_t batch, int64_t width);

/* Each row's loss, as Keras' loss functions give it before any reduction: the row's sum
 * for the losses that sum over a row (crossentropies, kl_divergence, categorical_hinge,
 * cosine_similarity), the mean of its elements for the others. pred is what the model
 * produced, taken as probabilities unless the loss is from_logits (no last activation is
 * fused); labels as nn_loss_forward_backward's, already smoothed. The unweighted mean of
 * row_losses (batch) is nn_loss_forward_backward's value for the same rows. */
void nn_loss_rows(const nn_loss *loss, double *row_losses, const float *pred,
                  const float *labels, int64_t batch, int64_t width);

typedef enum nn_metric_kind {
    NN_METRIC_ACCURACY,                  /* resolved to one of the next three */
    NN_METRIC_SPARSE_CATEGORICAL_ACCURACY,
    NN_METRIC_CATEGORICAL_ACCURACY,
    NN_METRIC_BINARY_ACCURACY,
    NN_METRIC_MEAN_SQUARED_ERROR,
    NN_METRIC_MEAN_ABSOLUTE_ERROR,
    NN_METRIC_ROOT_MEAN_SQUARED_ERROR,  /* sums squared errors; nn_metric_finish roots */
    NN_METRIC_TOP_K_CATEGORICAL_ACCURACY,        /* k = 5, one-hot labels */
    NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY, /* k = 5, class ids */
    NN_METRIC_KL_DIVERGENCE,             /* the next ones are the losses' row values */
    NN_METRIC_POISSON,
    NN_METRIC_COSINE_SIMILARITY,         /* the positive cosine */
    NN_METRIC_LOG_COSH,
    NN_METRIC_MEAN_ABSOLUTE_PERCENTAGE_ERROR,
    NN_METRIC_MEAN_SQUARED_LOGARITHMIC_ERROR,
    NN_METRIC_HINGE,
    NN_METRIC_SQUARED_HINGE,
    NN_METRIC_CATEGORICAL_HINGE,
    /* Keras' Precision and Recall at threshold 0.5 over every output value (a label is
     * positive when it is not 0): true positives over predicted (actual) positives,
     * counted over the whole epoch or evaluation, not averaged over batches. */
    NN_METRIC_PRECISION,
    NN_METRIC_RECALL,
    /* Keras' AUC (ROC curve, interpolation): from counts of positive and negative labels
     * per threshold bucket over the whole run (nn_metric_curve_*), not from sums. */
    NN_METRIC_AUC,
    NN_METRIC_PREDICTED_POSITIVES, /* their denominators (nn_metric_denominator), */
    NN_METRIC_ACTUAL_POSITIVES,    /* summed beside them; no name of their own */
    /* 1 per row: with sample weights its sum is the rows' total weight, the denominator of
     * a weighted mean (Keras' Mean count with sample_weight); no name of its own. */
    NN_METRIC_ROW_WEIGHT,
    NN_METRIC_COUNT
} nn_metric_kind;

/* AUC's curve and how its area is summed (Keras' curve= and summation_method=). */
typedef enum nn_auc_curve { NN_AUC_ROC, NN_AUC_PR } nn_auc_curve;
typedef enum nn_auc_summation {
    NN_AUC_INTERPOLATION, /* ROC: trapezoids; PR: Davis and Goadrich's interpolation */
    NN_AUC_MINORING,      /* each step's lower end */
    NN_AUC_MAJORING       /* each step's higher end */
} nn_auc_summation;

typedef struct nn_metric {
    nn_metric_kind kind;
    int top_k;          /* the top-k accuracies' k; 0: Keras' 5 */
    int thresholds;     /* AUC's num_thresholds; 0: Keras' 200 */
    nn_auc_curve curve;         /* AUC's curve (Keras' default, ROC, is 0) */
    nn_auc_summation summation; /* AUC's summation_method (interpolation is 0) */
    /* Precision and recall: only this class (column) when has_class_id, and only the
     * top_k predictions of a row as positive when top_k > 0 (then the threshold, unless
     * given, is -inf, as Keras). */
    bool has_class_id;
    int class_id;
    bool has_threshold; /* precision and recall: threshold, else Keras' 0.5 */
    float threshold;
    /* What logs call it: "accuracy" keeps the name the user wrote, and a metric object
     * may give its own. Room for the longest name, "sparse_top_k_categorical_accuracy",
     * and "val_" before it in nn_logs. */
    char name[36];
} nn_metric;

/* The metric a name gives with the loss's labels (settings at Keras' defaults); refuses
 * unknown names and a metric reading the other label layout than the loss. A Keras class
 * name ("Precision", "AUC") is that class at its defaults, named as Keras names it
 * ("precision", "auc"). */
nn_status nn_metric_parse(const char *name, const nn_loss *loss, nn_metric *metric);
const char *const *nn_metric_names(void);
/* A metric object's settings (nn.metrics.TopKCategoricalAccuracy{k = 3, name = 'top3'}):
 * each refuses a value out of range and a setting the metric does not take. */
nn_status nn_metric_set_name(nn_metric *metric, const char *name);
nn_status nn_metric_set_top_k(nn_metric *metric, int64_t k);
nn_status nn_metric_set_threshold(nn_metric *metric, double threshold);
nn_status nn_metric_set_thresholds(nn_metric *metric, int64_t count);
nn_status nn_metric_set_class_id(nn_metric *metric, int64_t class_id);
/* AUC's curve ("ROC" or "PR") and summation_method ("interpolation", "minoring",
 * "majoring"), by Keras' names. */
nn_status nn_metric_set_curve(nn_metric *metric, const char *curve);
nn_status nn_metric_set_summation(nn_metric *metric, const char *method);
const char *nn_auc_curve_name(nn_auc_curve curve);
const char *nn_auc_summation_name(nn_auc_summation summation);
/* AUC's thresholds (buckets) with the default filled in; 0 for the other metrics, which
 * count no curve. Its counts take 2 * that many doubles: the positive labels per bucket,
 * then the negative ones. All curves of a model share NN_METRIC_CURVE_FLOATS. */
int nn_metric_curve_thresholds(const nn_metric *metric);
enum { NN_METRIC_CURVE_FLOATS = 4096 };
/* counts (2 * thresholds) += the labels of pred (n values, rows of `width`) by bucket, each
 * value counting its row's weight, row_weights[i / width] (NULL: 1 each; Keras' AUC with
 * sample_weight adds the weights): CPU reference of the backends' curve_counts. */
void nn_metric_curve_counts(double *counts, const float *pred, const float *labels,
                            const float *row_weights, int64_t n, int64_t width,
                            int64_t thresholds);
/* The area under the ROC curve of the counts, as Keras' AUC: the trapezoids between the
 * thresholds' (false positive rate, true positive rate) points; 0 when one class is
 * missing. */
double nn_metric_auc(const double *counts, int64_t thresholds);
/* The area under the metric's curve (ROC or precision-recall) of the counts, summed by
 * its summation_method, as Keras' AUC.result(): ratios with a zero denominator are 0
 * (divide_no_nan). */
double nn_metric_curve_area(const nn_metric *metric, const double *counts,
                            int64_t thresholds);
/* The metric's k and threshold with the defaults filled in. */
int nn_metric_top_k(const nn_metric *metric);
float nn_metric_threshold(const nn_metric *metric);
/* Whether the metric is what its name alone gives with this loss (so a file may keep the
 * name alone). */
bool nn_metric_is_plain(const nn_metric *metric, const nn_loss *loss);
/* Which way a metric improves, as Keras' metric directions: +1 for the accuracies,
 * precision, recall, auc and the cosine similarity, -1 for the errors and losses. */
int nn_metric_direction(nn_metric_kind kind);
/* The name a metric kind is listed under ("precision"); NULL for the internal ones. */
const char *nn_metric_kind_name(nn_metric_kind kind);
/* nn_metric_parse's check of the label layout, for metrics built otherwise. */
nn_status nn_metric_check(const nn_metric *metric, const nn_loss *loss);
/* Sum over the batch (not the mean: the caller keeps running totals). */
double nn_metric_sum(const nn_metric *metric, const float *pred, const float *labels,
                     int64_t batch, int64_t width);
/* The same with each row's value multiplied by row_weights[b] (NULL: nn_metric_sum), as
 * Keras' weighted metrics: a weighted mean is this over the NN_METRIC_ROW_WEIGHT sum, and
 * precision and recall count weighted positives over weighted denominators. */
double nn_metric_weighted_sum(const nn_metric *metric, const float *pred, const float *labels,
                              const float *row_weights, int64_t batch, int64_t width);
/* What a metric's sum is divided by: NN_METRIC_COUNT for the means (the number of rows),
 * else the metric whose sum over the same rows is the denominator (precision: the
 * predicted positives; recall: the actual positives). */
nn_metric_kind nn_metric_denominator(nn_metric_kind kind);
/* The metric's value from its sum and its denominator (the rows, or the denominator
 * metric's sum): the mean, for root_mean_squared_error the square root of the mean
 * (Keras' root of the mean over all rows, not a mean of per-row roots), for precision and
 * recall the ratio, 0 when nothing was counted or the weights sum to 0 (Keras'
 * divide_no_nan). Every epoch,
 * evaluate and validation value is finished here. */
double nn_metric_finish(const nn_metric *metric, double sum, double denominator);

#endif
