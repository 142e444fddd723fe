/* Weights of a layer and what governs them: initializers, regularizers, constraints. */
#ifndef NN_PARAM_H
#define NN_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "random.h"
#include "tensor.h"

typedef enum nn_initializer_kind {
    NN_INITIALIZER_ZEROS,
    NN_INITIALIZER_ONES,
    NN_INITIALIZER_CONSTANT,        /* value */
    NN_INITIALIZER_RANDOM_NORMAL,   /* mean=0, stddev=0.05 */
    NN_INITIALIZER_RANDOM_UNIFORM,  /* minval=-0.05, maxval=0.05 */
    NN_INITIALIZER_TRUNCATED_NORMAL,/* mean=0, stddev=0.05, cut at 2 stddev */
    NN_INITIALIZER_GLOROT_UNIFORM,
    NN_INITIALIZER_GLOROT_NORMAL,
    NN_INITIALIZER_HE_UNIFORM,
    NN_INITIALIZER_HE_NORMAL,
    NN_INITIALIZER_LECUN_UNIFORM,
    NN_INITIALIZER_LECUN_NORMAL,
    NN_INITIALIZER_ORTHOGONAL,      /* gain=1: an orthogonal matrix (rows: every axis but the
                                       last) times gain; recurrent kernels start from it */
    NN_INITIALIZER_COUNT
} nn_initializer_kind;

typedef struct nn_initializer {
    nn_initializer_kind kind;
    double a;       /* value (constant), mean (normals), minval (uniform), gain (orthogonal) */
    double b;       /* stddev (normals), maxval (uniform) */
    bool has_seed;  /* a seed given by the user pins the numbers */
    uint64_t seed;
} nn_initializer;

/* An initializer with Keras' default arguments. */
nn_initializer nn_initializer_default(nn_initializer_kind kind);
nn_status nn_initializer_parse(const char *name, nn_initializer *initializer);
const char *nn_initializer_name(nn_initializer_kind kind);
const char *const *nn_initializer_names(void);

/* Fills tensor (f32). Fans follow Keras: a (kh, kw, in, out) kernel has
 * fan_in = kh*kw*in and fan_out = kh*kw*out; a (in, out) matrix in and out; a vector
 * its length for both. Numbers come from (seed, stream) unless the initializer has its
 * own seed. */
nn_status nn_initializer_fill(const nn_initializer *initializer, nn_tensor *tensor,
                              uint64_t seed, uint64_t stream);

/* l1·Σ|w| + l2·Σw² added to the loss. Both zero means none. */
typedef struct nn_regularizer {
    float l1;
    float l2;
} nn_regularizer;

/* "l1", "l2", "l1_l2" with Keras' default factor 0.01. */
nn_status nn_regularizer_parse(const char *name, nn_regularizer *regularizer);
/* The names nn_regularizer_parse takes, NULL-terminated (for completion and messages). */
const char *const *nn_regularizer_names(void);
bool nn_regularizer_active(const nn_regularizer *regularizer);
/* Penalty of w[0..n) and, when grad is not NULL, its gradient added to grad. */
double nn_regularizer_apply(const nn_regularizer *regularizer, const float *w, float *grad,
                            size_t n);

typedef enum nn_constraint_kind {
    NN_CONSTRAINT_NONE,
    NN_CONSTRAINT_MAX_NORM,     /* max_value=2, axis=0 */
    NN_CONSTRAINT_NON_NEG,
    NN_CONSTRAINT_UNIT_NORM,    /* axis=0 */
    NN_CONSTRAINT_MIN_MAX_NORM, /* min_value=0, max_value=1, rate=1, axis=0 */
    NN_CONSTRAINT_COUNT
} nn_constraint_kind;

typedef struct nn_constraint {
    nn_constraint_kind kind;
    float min_value;
    float max_value;
    float rate;
    unsigned axes; /* bit i set: the norm is taken over axis i (Keras' axis list) */
} nn_constraint;

nn_constraint nn_constraint_default(nn_constraint_kind kind);
nn_status nn_constraint_parse(const char *name, nn_constraint *constraint);
const char *nn_constraint_name(nn_constraint_kind kind);
const char *const *nn_constraint_names(void);
/* Projects the weights (a CPU tensor) in place after an optimizer step. */
nn_status nn_constraint_apply(const nn_constraint *constraint, nn_tensor *weights);
/* Whether the constraint's own settings are in range (max_value >= 0; min_max_norm's
 * 0 <= min_value <= max_value and rate in [0, 1]), whatever weights it will meet. */
nn_status nn_constraint_check_settings(const nn_constraint *constraint);
/* Whether the constraint's settings fit weights of that shape and dtype (what
 * nn_constraint_apply checks before projecting), so a backend kernel may then run. */
nn_status nn_constraint_check(const nn_constraint *constraint, const nn_tensor *weights);
/* How many norms the constraint takes over a weight of `shape` (one per combination of
 * the axes it does not reduce); 0 for non_neg and none. */
size_t nn_constraint_groups(const nn_constraint *constraint, const nn_shape *shape);

/* One weight tensor of a layer. `value` may be a view into the model's single weight
 * buffer; `grad` (trainable weights only) into its gradient buffer. */
typedef struct nn_param {
    const char *name; /* "kernel", "bias", "gamma", "beta", "moving_mean", ... */
    nn_shape shape;
    nn_tensor *value;
    nn_tensor *grad;
    bool trainable;
    nn_initializer initializer;
    nn_regularizer regularizer;
    nn_constraint constraint;
} nn_param;

#endif
