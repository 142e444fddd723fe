/* Sequential models: a list of layers, one weight buffer, and the training loops.
 *
 * A model runs on one device (nn_model_device, nn_model_to): its weights, gradients,
 * optimizer state and every activation live in that device's memory for the whole fit;
 * the host gathers each batch and reads back one small block of numbers per batch (loss,
 * metrics) for the progress display. The loops are the same code on every device: they
 * reach memory and kernels only through the device's backend.
 *
 * The weights of every layer live in one buffer (trainable first) and their gradients
 * in another, so the optimizer is one loop; activations and gradients of every layer
 * come from buffers sized before a loop starts, so no memory is allocated per batch. */
#ifndef NN_MODEL_H
#define NN_MODEL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "layer.h"
#include "loss.h"
#include "optimizer.h"
#include "tensor.h"

/* compile takes NN_MAX_METRICS metrics and as many weighted_metrics; a log name has room
 * for "val_weighted_" before the longest metric name. The logs hold the loss and every
 * metric, their val_ versions, and NN_MAX_CALLBACK_LOGS more numbers that callbacks add
 * (ReduceLROnPlateau's learning_rate), which the history keeps too. */
enum {
    NN_MAX_METRICS = 8,
    NN_MAX_COMPILED_METRICS = 2 * NN_MAX_METRICS,
    NN_MAX_CALLBACK_LOGS = 8,
    NN_MAX_LOGS = 2 * (NN_MAX_COMPILED_METRICS + 1) + NN_MAX_CALLBACK_LOGS,
    NN_METRIC_LOG_NAME_CAPACITY = 48, /* "weighted_" + a metric name */
    NN_LOG_NAME_CAPACITY = 56
};
enum { NN_MAX_DECAY_EXCLUSIONS = 16 }; /* names in exclude_from_weight_decay */

/* Named numbers reported by the loops: loss, metrics, then val_ versions. */
typedef struct nn_logs {
    int count;
    char names[NN_MAX_LOGS][NN_LOG_NAME_CAPACITY];
    double values[NN_MAX_LOGS];
} nn_logs;

/* Returns the value called name, or NaN when it is absent. */
double nn_logs_get(const nn_logs *logs, const char *name);
void nn_logs_set(nn_logs *logs, const char *name, double value);

/* Per-epoch logs of a fit. */
typedef struct nn_history {
    int epochs;
    int capacity;
    int *epoch_numbers; /* 0-based epoch index of each row */
    nn_logs *rows;
} nn_history;

void nn_history_free(nn_history *history);

/* What a loop tells whoever watches it. Every function may be NULL. A function that
 * returns NN_ERR_STOPPED ends the loop cleanly after the current batch; any other
 * error ends it with that error. */
typedef struct nn_progress {
    void *user;
    nn_status (*train_begin)(void *user, int epochs, int64_t steps, int64_t samples);
    nn_status (*epoch_begin)(void *user, int epoch);
    /* Called before each training batch (step counts from 1). */
    nn_status (*batch_begin)(void *user, int epoch, int64_t step, int64_t steps);
    /* Called after each batch with the running means of the epoch so far. */
    nn_status (*batch_end)(void *user, int epoch, int64_t step, int64_t steps,
                           const nn_logs *logs);
    nn_status (*epoch_end)(void *user, int epoch, nn_logs *logs);
    nn_status (*train_end)(void *user, const nn_logs *logs);
    /* Set asynchronously (SIGINT, a key) to stop at the next batch boundary. */
    volatile sig_atomic_t *stop_requested;
} nn_progress;

typedef struct nn_fit_options {
    int epochs;                /* 1 */
    int initial_epoch;         /* 0 */
    int64_t batch_size;        /* 32 */
    double validation_split;   /* 0: none */
    const nn_tensor *validation_x, *validation_y; /* or NULL */
    /* Keras' sample weights (NULL: none): one per sample of x, shape (N,) or (N, 1), each
     * multiplying that sample's loss; for an output of several positions, (N, T, C) say,
     * also one per position, (N, T). With validation_split the last ones weigh the
     * validation samples. validation_sample_weight does the same for validation_x. */
    const nn_tensor *sample_weight, *validation_sample_weight;
    /* Keras' class_weight (NULL: none; not with sample_weight): the training samples of
     * class c weigh class_weight[c] (1 for c >= class_weight_count). A sample's class is
     * its label, the column of its largest label for one-hot rows, the label rounded for
     * one output column. Validation samples are not weighed by class, as in Keras. */
    const double *class_weight;
    int class_weight_count;
    bool shuffle;              /* true */
    int64_t steps_per_epoch;   /* 0: all */
    bool allow_nonfinite_loss; /* false: a NaN/Inf loss stops training with an error */
    int validation_freq;       /* 1: validate after epochs N, 2N, ... (counting from 1),
                                  as Keras 3; the other epochs log no val_ entries */
    int64_t validation_batch_size; /* 0: batch_size */
} nn_fit_options;

nn_fit_options nn_fit_defaults(void);

typedef struct nn_model {
    char name[NN_NAME_CAPACITY];
    int refcount;
    nn_layer **layers;
    int layer_count, layer_capacity;
    /* Names this model gave layers that pop took away: not given again, as Keras never
     * gives a name twice (malloc'd; forgetting one on a failed allocation is harmless). */
    char (*popped_names)[NN_NAME_CAPACITY];
    int popped_count;
    nn_shape input_shape; /* batch axis -1; ndim 0 until known */
    bool built;

    /* Where the weights live and the loops run: the default device (a GPU when there is
     * one), chosen when the model first needs memory, or what nn_model_to set. */
    nn_device device;
    bool device_chosen;
    const nn_backend *backend; /* the device's */

    /* Weights: views of each layer's params point here once built. */
    nn_storage *weights;      /* all weights, trainable ones first */
    size_t weight_count, trainable_count;
    nn_storage *gradients;    /* trainable_count floats */
    nn_storage *decay_mask;   /* trainable_count bytes: 1 where weight decay applies */
    /* The optimizer's exclude_from_weight_decay: a weight whose name ("kernel", "bias",
     * ...) contains one of these is not decayed (decay_mask 0). */
    char decay_exclusions[NN_MAX_DECAY_EXCLUSIONS][NN_NAME_CAPACITY];
    int decay_exclusion_count;
    bool weights_stale;       /* layers changed since the buffer was gathered */
    /* Which weights trained when the buffer was gathered, in layer and weight order
     * (malloc'd): a layer frozen or thawed since, here or through another model sharing
     * it, makes the model gather again and restart its optimizer. */
    bool *gathered_trains;
    int gathered_count;

    bool compiled;
    nn_loss loss;
    /* compile's metrics then its weighted_metrics (the last weighted_metric_count), which
     * Keras weighs by the batch's sample weights (class_weight's included): each row's
     * value times its weight, the sum divided by the weights' sum (precision, recall and
     * AUC count weighted positives), as the unweighted ones without sample weights. */
    nn_metric metrics[NN_MAX_COMPILED_METRICS];
    int metric_count;          /* both kinds */
    int weighted_metric_count;
    /* What the logs call metric m: its name, or for a weighted metric named as an
     * unweighted one "weighted_" + its name, as Keras 3's CompileMetrics.result. */
    char metric_log_names[NN_MAX_COMPILED_METRICS][NN_METRIC_LOG_NAME_CAPACITY];
    /* The AUC metrics' counts: metric m's start in the curve counts (when it has a curve),
     * and the doubles of all of them (<= NN_METRIC_CURVE_FLOATS). */
    int curve_offsets[NN_MAX_COMPILED_METRICS];
    int curve_floats;
    /* Metrics a model file named that its loss's labels cannot feed (files written before
     * compile refused such pairs), left out when it was loaded: "'mse', 'kld'" or "". */
    char dropped_metrics[96];
    nn_optimizer *optimizer;
    nn_optimizer_config optimizer_config;

    /* Execution buffers for `reserved_batch` rows. */
    int64_t reserved_batch;
    nn_tensor **outputs;      /* layer_count + 1: [0] is the input batch */
    nn_tensor **doutputs;     /* gradients of the same */
    int output_count;         /* entries of both, as reserved (layers may be added since) */
    bool reserved_training;   /* doutputs exist too */
    nn_storage *logits;       /* last layer before its activation (reserved_batch rows) */
    nn_storage *labels;       /* the batch's labels as floats */
    nn_storage *row_weights;  /* the batch's sample weights, when the loop has them */
    nn_storage *metric_weights; /* under a mask: row_weights times it, for weighted means */
    nn_storage *activity_gradient; /* the last layer's activity penalty gradient, when it
                                      has an activity regularizer (else NULL) */
    nn_storage *scratch;
    size_t scratch_floats;
    nn_storage *stats;        /* one nn_batch_stats, summed on the device */
    nn_storage *curves;       /* NN_METRIC_CURVE_FLOATS doubles: the batch's curve counts */
    /* Keras' masking: masks[i] is the mask over the steps of outputs[i] (see
     * nn_model_mask_source), NULL where none; a layer that makes one writes it into
     * mask_storage[i + 1], and the layers that pass it on share it. */
    float **masks;
    nn_storage **mask_storage;
    /* Feeding a device the host cannot write: each batch is gathered into page-locked
     * host memory and copied to a landing buffer while the batch before computes; two of
     * each, alternating. NULL on the CPU, where batches are gathered in place. */
    void *pinned_inputs[2], *pinned_labels[2], *pinned_weights[2];
    nn_storage *landing_inputs[2], *landing_labels[2], *landing_weights[2];
    const nn_backend *pinned_backend; /* the backend that allocated the pinned buffers */
    int64_t *order;           /* sample order of the current epoch */
    int64_t order_capacity;
    uint64_t step;            /* batches trained so far: dropout's counter */
    /* false (default): a layer may do part of its neighbour's work: a convolution its
     * pooling's forward (forward_pooled), a pooling the ReLU derivative of the layer
     * before (nn_layer.applies_input_relu). true runs every layer on its own, for tests. */
    bool separate_layers;
    bool stop_training;       /* a callback asked to stop: after this batch, as Keras */
    bool running;             /* inside fit, evaluate or predict: buffers in use */
    bool input_declared;      /* input_shape came from an Input (nn_model_declare_input) */
    int initial_epoch;        /* where fit starts: the option, which train_begin may move
                                 forward (BackupAndRestore resumes a killed run this way) */
} nn_model;

nn_status nn_model_create(nn_model **out, const char *name);
void nn_model_retain(nn_model *model);
void nn_model_release(nn_model *model);

/* Appends a layer. When the model's input shape is known the layer is built at once,
 * so a shape that does not fit is reported here, naming both layers and both shapes
 * and suggesting the likely fix. */
nn_status nn_model_add(nn_model *model, nn_layer *layer);
/* Removes the last layer, as Keras' Sequential.pop: *popped receives it with the model's
 * reference handed over (release it when done). The layers before it keep their
 * weights; a model left with no layers is no longer built. */
nn_status nn_model_pop(nn_model *model, nn_layer **popped);
/* Declares the shape of the model's input before its first layer (Keras' Input as the
 * first entry of a Sequential): sample is one sample's shape, without the batch axis.
 * The first layer added is built on it at once. Refused once the model has layers. */
nn_status nn_model_declare_input(nn_model *model, const nn_shape *sample);
/* The index of the layer whose mask (Keras' masking: an Embedding with mask_zero, a
 * Masking layer) reaches the input of layer `index` (layer_count: the model's output),
 * or -1 when none does. Layers before `index` must be built. */
int nn_model_mask_source(const nn_model *model, int index);
/* Builds every layer for inputs of shape input (batch axis ignored). */
nn_status nn_model_build(nn_model *model, const nn_shape *input);
/* The error for a batch x of a shape the model does not take ("what: model "m" expects
 * input of shape ..."), with the likely fix: a missing batch or channel axis, or the
 * channels first. Always returns the error's status. */
nn_status nn_model_input_shape_error(const nn_model *model, const char *what, const nn_shape *x);
int64_t nn_model_count_params(const nn_model *model, bool trainable);
/* The last layer's output shape (batch axis -1), or NULL before the model is built. */
const nn_shape *nn_model_output_shape(const nn_model *model);
/* All weights in one array (trainable first), gathering them on first use; NULL on
 * failure (see nn_error_message), and for a model on a device, whose weights the host
 * cannot read: use nn_model_read_weights there. */
float *nn_model_weights(nn_model *model);
/* Gathers the layers' weights into the model's buffers on its device (the loops and the
 * functions here do it themselves; weight_count means something only after it). */
nn_status nn_model_gather_weights(nn_model *model);
/* Where one of a gathered model's weights starts in its buffer, in floats. */
size_t nn_model_weight_offset(const nn_param *param);
/* Copies all weight_count weights (gathered first) to host memory, or from it. */
nn_status nn_model_read_weights(nn_model *model, float *host);
nn_status nn_model_write_weights(nn_model *model, const float *host);

/* The device the model runs on, choosing the default on first use (a GPU when there is
 * one; see device.h). */
nn_status nn_model_device(nn_model *model, nn_device *device);
/* Moves the model (weights, gradients, optimizer state) to `device`: all or nothing. Its
 * execution buffers are made again there at the next loop. */
nn_status nn_model_to(nn_model *model, nn_device device);

nn_status nn_model_compile(nn_model *model, const nn_optimizer_config *optimizer,
                           const nn_loss *loss, const char *const *metrics,
                           int metric_count);
/* nn_model_compile with metrics already made (nn_metric_parse and the nn_metric_set_*
 * settings of metric objects); their label layout is checked against loss here. */
nn_status nn_model_compile_metrics(nn_model *model, const nn_optimizer_config *optimizer,
                                   const nn_loss *loss, const nn_metric *metrics,
                                   int metric_count);
/* The same with Keras' weighted_metrics too (weighted_count of them, at most
 * NN_MAX_METRICS): metrics weighed by the sample weights of fit, evaluate and their
 * validation data, and by class_weight. No two metrics of one list may share a name; a
 * weighted one named as an unweighted one logs as "weighted_" + its name. On error the
 * model is unchanged. */
nn_status nn_model_compile_weighted_metrics(nn_model *model,
                                            const nn_optimizer_config *optimizer,
                                            const nn_loss *loss, const nn_metric *metrics,
                                            int metric_count, const nn_metric *weighted,
                                            int weighted_count);
/* Keras 3's optimizer.exclude_from_weight_decay(var_names=...): weight decay skips every
 * trainable weight whose name contains one of names[0..count) (a plain substring, where
 * Keras searches a regular expression; "bias" works the same in both). count 0 decays
 * every weight again. On error nothing changes. */
nn_status nn_model_exclude_from_weight_decay(nn_model *model, const char *const *names,
                                             int count);

/* Trains. x is float32 (B, ...) matching the input shape; y holds labels as the loss
 * wants them. history receives one row per epoch (may be NULL). */
nn_status nn_model_fit(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                       const nn_fit_options *options, nn_progress *progress,
                       nn_history *history);
/* Loss and metrics over (x, y) in inference mode; sample_weight (NULL: none) weighs each
 * sample's loss as in fit, and the weighted metrics (compile's metrics are not weighed, as
 * Keras'). */
nn_status nn_model_evaluate(nn_model *model, const nn_tensor *x, const nn_tensor *y,
                            const nn_tensor *sample_weight, int64_t batch_size,
                            nn_progress *progress, nn_logs *logs);
/* Outputs for x in inference mode; *out is a new (B, ...) tensor. */
nn_status nn_model_predict(nn_model *model, const nn_tensor *x, int64_t batch_size,
                           nn_progress *progress, nn_tensor **out);

#endif
