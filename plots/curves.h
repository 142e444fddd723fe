/* The seed's training figure built from a history: one chart per quantity (loss, then
 * each metric), training and validation values together, epochs along x. */
#ifndef NN_PLOTS_CURVES_H
#define NN_PLOTS_CURVES_H

#include "chart.h"
#include "figure.h"

enum { NN_CURVES_MAX = 8, NN_CURVES_TEXT = 96 };

/* Owns the charts it describes; the values stay the caller's. */
typedef struct nn_curves {
    nn_chart charts[NN_CURVES_MAX];
    nn_series series[NN_CURVES_MAX][2];
    char titles[NN_CURVES_MAX][NN_CURVES_TEXT];
    char y_labels[NN_CURVES_MAX][NN_CURVES_TEXT];
    char names[NN_CURVES_MAX][2][NN_CURVES_TEXT];
    int count;
} nn_curves;

/* keys are history keys in Keras order ("loss", "accuracy", "val_loss", ...), column k
 * holds the epochs values of keys[k]; x holds epoch numbers (NULL: 1, 2, ...). A key
 * "val_q" joins the chart of "q". Titles and names read like the seed's matplotlib
 * figure: "Training and Validation Loss", "Train Loss", "Val Loss". */
void nn_curves_build(nn_curves *curves, int key_count, const char *const *keys,
                     const double *const *columns, int epochs, const double *x, bool log_y);
/* The same where keys may hold different numbers of values: column k holds counts[k]
 * values measured at the epochs xs[k] (NULL: 1, 2, ...), as val_ keys of a fit with
 * validation_freq > 1 are measured on some epochs only. xs may be NULL. */
void nn_curves_build_each(nn_curves *curves, int key_count, const char *const *keys,
                          const double *const *columns, const int *counts,
                          const double *const *xs, bool log_y);
/* A figure over all the charts. */
nn_figure nn_curves_figure(const nn_curves *curves);
/* "mean_absolute_error" -> "Mean Absolute Error", "lr" -> "Learning Rate". */
void nn_curves_pretty_name(const char *key, char *buf, size_t size);

#endif
