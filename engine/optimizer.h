/* Optimizers: one update loop over a flat parameter buffer. */
#ifndef NN_OPTIMIZER_H
#define NN_OPTIMIZER_H

#include <stdbool.h>
#include <stddef.h>

#include "schedule.h"
#include "status.h"
#include "tensor.h"

typedef enum nn_optimizer_kind {
    NN_OPTIMIZER_SGD,
    NN_OPTIMIZER_ADAM,
    NN_OPTIMIZER_ADAMW,
    NN_OPTIMIZER_RMSPROP,
    NN_OPTIMIZER_ADAGRAD,
    NN_OPTIMIZER_NADAM,
    NN_OPTIMIZER_ADAMAX,
    NN_OPTIMIZER_ADADELTA,
    NN_OPTIMIZER_LION,
    NN_OPTIMIZER_FTRL,
    NN_OPTIMIZER_COUNT
} nn_optimizer_kind;

/* Settings, with Keras' defaults from nn_optimizer_defaults. */
typedef struct nn_optimizer_config {
    nn_optimizer_kind kind;
    double learning_rate; /* sgd 0.01, every other 0.001 */
    double momentum;      /* sgd 0, rmsprop 0 */
    bool nesterov;        /* sgd */
    double beta_1, beta_2;/* adam(w), nadam, adamax 0.9, 0.999; lion 0.9, 0.99 */
    double epsilon;       /* 1e-7 for all but sgd and lion, which take none */
    bool amsgrad;         /* adam(w) */
    double weight_decay;  /* adamw 0.004; others 0 (none) */
    double rho;           /* rmsprop 0.9, adadelta 0.95 */
    bool centered;        /* rmsprop */
    double initial_accumulator_value; /* adagrad 0.1, ftrl 0.1 */
    /* Ftrl (Keras' names): how the rate falls with the accumulated squared gradient
     * (-0.5; <= 0, 0 keeps it fixed), the L1 and L2 strengths of the regularised leader,
     * the L2 shrinkage added to the gradient (2 · strength · w), and the paper's beta;
     * all 0 but learning_rate_power. */
    double learning_rate_power;
    double l1_regularization_strength, l2_regularization_strength;
    double l2_shrinkage_regularization_strength;
    double beta;
    /* Gradient clipping, 0 = off; at most one is set (Keras). clipnorm clips each weight
     * tensor's gradient to that norm (in one optimizer step, the whole buffer it is
     * given); global_clipnorm clips all the gradients together to that norm. */
    double clipnorm, clipvalue, global_clipnorm;
    /* A learning-rate schedule (kind NN_SCHEDULE_CONSTANT: none). With one, learning_rate
     * holds the rate of the latest update (the schedule's first before any). */
    nn_schedule schedule;
} nn_optimizer_config;

nn_optimizer_config nn_optimizer_defaults(nn_optimizer_kind kind);
nn_status nn_optimizer_parse(const char *name, nn_optimizer_kind *kind);
const char *nn_optimizer_name(nn_optimizer_kind kind);
const char *const *nn_optimizer_names(void);
/* The settings Keras gives this optimizer besides the ones every optimizer takes
 * (learning_rate, weight_decay and the clips), NULL-terminated: what a user may write.
 * At most NN_OPTIMIZER_MOST_OWN_SETTINGS of them (tests/engine/test_optimizer.c checks),
 * so callers may list them in a fixed array. */
const char *const *nn_optimizer_own_settings(nn_optimizer_kind kind);
enum { NN_OPTIMIZER_MOST_OWN_SETTINGS = 6 };

/* Where a setting lives in nn_optimizer_config, for describing a config by name (the Lua
 * binding's model.optimizer): a bool or a double at `offset`. */
typedef struct nn_optimizer_setting {
    const char *name; /* Keras' name, as in nn_optimizer_own_settings */
    bool flag;        /* a bool; else a double */
    size_t offset;    /* into nn_optimizer_config */
} nn_optimizer_setting;

/* The setting of that name: any own setting of any optimizer, learning_rate, weight_decay
 * or a clip (tests/engine/test_optimizer.c checks every own setting is found); NULL for
 * another name. */
const nn_optimizer_setting *nn_optimizer_setting_find(const char *name);

/* The optimizer and its per-weight state (moments), sized for `count` weights, on the
 * device of the weights it updates. */
typedef struct nn_optimizer {
    nn_optimizer_config config;
    size_t count;
    long long iterations; /* steps taken */
    float *slots[3];      /* state buffers, `count` floats each, NULL when unused; in the
                             memory of `device` (read them with nn_optimizer_read_slot) */
    int slot_count;
    nn_device device;
    nn_storage *slot_storage[3]; /* what owns slots[s] */
} nn_optimizer;

/* The rate of the update after `iterations` updates: the schedule's, or learning_rate. */
double nn_optimizer_rate_at(const nn_optimizer_config *config, long long iterations);
/* Whether the optimizer cannot step with this rate: Ftrl divides by it in float32, so it
 * refuses a rate below float32's smallest normal number (NN_OPTIMIZER_SMALLEST_DIVISOR),
 * 0 included, which would make every weight NaN. */
bool nn_optimizer_refuses_rate(nn_optimizer_kind kind, double rate);
#define NN_OPTIMIZER_SMALLEST_DIVISOR 1.1754944e-38

/* The largest learning_rate, clip or initial_accumulator_value taken, and the largest
 * weight_decay: far beyond any useful value, and below where float32 arithmetic on them
 * overflows at once. */
#define NN_OPTIMIZER_SETTING_MAX 1e30
#define NN_WEIGHT_DECAY_MAX 1e6

/* Every setting in its range (an error names the optimizer, the setting and the range). */
nn_status nn_optimizer_config_check(const nn_optimizer_config *config);
/* On the CPU. */
nn_status nn_optimizer_create(nn_optimizer **out, const nn_optimizer_config *config,
                              size_t count);
nn_status nn_optimizer_create_on(nn_optimizer **out, const nn_optimizer_config *config,
                                 size_t count, nn_device device);
/* Moves the state to another device (all or nothing). */
nn_status nn_optimizer_move(nn_optimizer *optimizer, nn_device device);
/* Copies state buffer `slot` (count floats) to host memory, or from it. */
nn_status nn_optimizer_read_slot(const nn_optimizer *optimizer, int slot, float *host);
nn_status nn_optimizer_write_slot(nn_optimizer *optimizer, int slot, const float *host);
void nn_optimizer_free(nn_optimizer *optimizer);
/* Names of the state buffers ("m", "v", ...), for saving. */
const char *nn_optimizer_slot_name(const nn_optimizer *optimizer, int slot);
/* One update of weights[0..count) from grads (on the optimizer's device). `decay_mask`
 * (may be NULL) marks the weights weight decay applies to. */
void nn_optimizer_step(nn_optimizer *optimizer, float *weights, const float *grads,
                       const unsigned char *decay_mask);

#endif
