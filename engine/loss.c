/* STUB: to be replaced by the real losses and metrics. */
#include "loss.h"

#include <math.h>
#include <string.h>

nn_status nn_loss_parse(const char *name, nn_loss *loss)
{
    (void)name;
    loss->kind = NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    loss->from_logits = false;
    return NN_OK;
}
const char *nn_loss_name(nn_loss_kind kind) { (void)kind; return "sparse_categorical_crossentropy"; }
const char *const *nn_loss_names(void)
{
    static const char *const names[] = {"sparse_categorical_crossentropy", NULL};
    return names;
}
nn_status nn_loss_check_labels(const nn_loss *loss, const nn_shape *output,
                               const nn_tensor *labels)
{
    (void)loss, (void)output, (void)labels;
    return NN_OK;
}
double nn_loss_forward_backward(const nn_loss *loss, nn_activation last, float *dlogits,
                                const float *pred, const float *logits, const float *labels,
                                int64_t batch, int64_t width)
{
    (void)loss, (void)last, (void)logits;
    double total = 0.0;
    for (int64_t b = 0; b < batch; b++) {
        int64_t y = (int64_t)labels[b];
        total += -log(fmax(pred[b * width + y], 1e-7));
        if (dlogits)
            for (int64_t j = 0; j < width; j++)
                dlogits[b * width + j] =
                    (pred[b * width + j] - (j == y ? 1.0f : 0.0f)) / (float)batch;
    }
    return total / (double)batch;
}
nn_status nn_metric_parse(const char *name, const nn_loss *loss, nn_metric *metric)
{
    (void)loss;
    metric->kind = NN_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    strncpy(metric->name, name, sizeof metric->name - 1);
    metric->name[sizeof metric->name - 1] = '\0';
    return NN_OK;
}
const char *const *nn_metric_names(void)
{
    static const char *const names[] = {"accuracy", NULL};
    return names;
}
double nn_metric_sum(const nn_metric *metric, const float *pred, const float *labels,
                     int64_t batch, int64_t width)
{
    (void)metric;
    double correct = 0;
    for (int64_t b = 0; b < batch; b++) {
        int64_t best = 0;
        for (int64_t j = 1; j < width; j++)
            if (pred[b * width + j] > pred[b * width + best])
                best = j;
        correct += best == (int64_t)labels[b];
    }
    return correct;
}
