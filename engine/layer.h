/* Layers: a common header, a class table per layer kind, and the generic operations
 * (create from arguments, build on an input shape, forward, backward).
 *
 * Each layer kind lives in one file under layers/ and defines a struct that starts with
 * `nn_layer base;`, followed by its Keras arguments (described by an nn_arg_spec table so
 * that the Lua binding, help texts and model files handle every kind the same way) and
 * its private buffers. */
#ifndef NN_LAYER_H
#define NN_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "backend.h"
#include "param.h"
#include "status.h"
#include "tensor.h"

/* The most values one sample may hold at any layer's input or output (4 TiB of floats,
 * far beyond any memory): building refuses more, and so does reading a model file, so
 * that every model that builds can be saved and loaded again. */
#define NN_MAX_SAMPLE_VALUES ((int64_t)1 << 40)

enum {
    NN_LAYER_MAX_PARAMS = 6, /* a Bidirectional LSTM's two kernels, recurrent kernels, biases */
    NN_NAME_CAPACITY = 64,
    NN_EXPLANATION_CAPACITY = 640,
};

/* What a layer argument holds. */
typedef enum nn_arg_kind {
    NN_ARG_INT,          /* int */
    NN_ARG_OPTIONAL_INT, /* nn_optional_int: nil or an int (Dropout's seed) */
    NN_ARG_FLOAT,        /* float */
    NN_ARG_BOOL,         /* bool */
    NN_ARG_CHOICE,       /* int: index into spec->choices ('valid' / 'same') */
    NN_ARG_PAIR,         /* int[2]: an int n means {n, n} */
    NN_ARG_OPTIONAL_PAIR,/* int[2]: nil (None) gives {NN_PAIR_NONE, NN_PAIR_NONE} */
    NN_ARG_SHAPE,        /* nn_shape: a list of ints; -1 (None) allowed where min < 0 */
    NN_ARG_TARGET_SHAPE, /* nn_shape: a list of ints, one of which may be -1 (inferred, as
                            Reshape's; written -1 as Keras does, not None) */
    NN_ARG_SIDES,        /* int[4] top, bottom, left, right: n means all four, {h, w}
                            {h, h, w, w}, {{top, bottom}, {left, right}} each one */
    NN_ARG_AXIS,         /* int: an axis, negative counts from the end */
    NN_ARG_ACTIVATION,   /* nn_activation */
    NN_ARG_INITIALIZER,  /* nn_initializer */
    NN_ARG_REGULARIZER,  /* nn_regularizer */
    NN_ARG_CONSTRAINT,   /* nn_constraint */
    NN_ARG_STRING,       /* char[NN_NAME_CAPACITY] */
    NN_ARG_FACTOR,       /* float[2] lower, upper: a number f means {-f, f}, as Keras'
                            augmentation factors; where not required, None is {NaN, NaN}
                            (nn_factor_is_none) */
    NN_ARG_OPTIONAL_FLOAT,/* nn_optional_float: nil or a number (ReLU's max_value) */
    NN_ARG_OPTIONAL_FLOATS,/* nn_optional_floats: nil, a number, or a list of numbers
                             (Normalization's mean) */
    NN_ARG_TRIPLE,        /* int[3] (depth, height, width): an int n means {n, n, n} */
    NN_ARG_OPTIONAL_TRIPLE,/* int[3]: nil (None) gives NN_PAIR_NONE in each */
    NN_ARG_SIDES3,        /* int[6] front, back, top, bottom, left, right: n means all six,
                             {d, h, w} both sides of each axis, {{front, back}, {top,
                             bottom}, {left, right}} each one */
    NN_ARG_AXES           /* nn_axes: an axis, or a list of distinct axes (Keras' int or
                             tuple axis); negative counts from the end */
} nn_arg_kind;

/* How many ints an argument of a size kind holds (a pair, a triple, sides): 0 for the
 * other kinds. */
static inline int nn_arg_int_count(nn_arg_kind kind)
{
    switch (kind) {
    case NN_ARG_PAIR: case NN_ARG_OPTIONAL_PAIR: return 2;
    case NN_ARG_TRIPLE: case NN_ARG_OPTIONAL_TRIPLE: return 3;
    case NN_ARG_SIDES: return 4;
    case NN_ARG_SIDES3: return 6;
    default: return 0;
    }
}

/* Whether a size kind takes nil (None): the optional pair and triple. */
static inline bool nn_arg_is_optional_sizes(nn_arg_kind kind)
{
    return kind == NN_ARG_OPTIONAL_PAIR || kind == NN_ARG_OPTIONAL_TRIPLE;
}

/* Whether a size kind lists sides (two ints per axis) rather than one int per axis. */
static inline bool nn_arg_is_sides(nn_arg_kind kind)
{
    return kind == NN_ARG_SIDES || kind == NN_ARG_SIDES3;
}

/* The value of an optional pair left at None ("same as pool_size", "inferred"): no
 * valid entry is negative, so 0 stays a value of its own (Conv2DTranspose's
 * output_padding=0 is not None). */
enum { NN_PAIR_NONE = -1 };

static inline bool nn_pair_is_none(const int *pair) { return pair[0] == NN_PAIR_NONE; }

/* An NN_ARG_FACTOR left at None (RandomZoom's width_factor: the height's draw). */
static inline bool nn_factor_is_none(const float *factor) { return factor[0] != factor[0]; }

typedef struct nn_optional_int {
    bool present;
    int64_t value;
} nn_optional_int;

typedef struct nn_optional_float {
    bool present;
    float value;
} nn_optional_float;

/* The most numbers an NN_ARG_OPTIONAL_FLOATS list holds. */
enum { NN_FLOATS_CAPACITY = 64 };

typedef struct nn_optional_floats {
    bool present;
    bool list;  /* given as a list (even of one), not a number: kept so for get_config */
    int count;  /* 1 for a number */
    float values[NN_FLOATS_CAPACITY];
} nn_optional_floats;

typedef struct nn_axes {
    bool list; /* given as a list (even of one), not a number: kept so for get_config */
    int count; /* 1 to NN_MAX_DIMS */
    int values[NN_MAX_DIMS];
} nn_axes;

/* Resolves axes (negative from the end) against rank `ndim` into ascending order:
 * false when one is out of range or two name the same axis. */
bool nn_axes_resolve(const nn_axes *axes, int ndim, int sorted[NN_MAX_DIMS]);

/* One Keras argument of a layer kind. `offset` is into the concrete layer struct. */
typedef struct nn_arg_spec {
    const char *name;
    nn_arg_kind kind;
    size_t offset;
    bool required;
    double min, max;            /* inclusive range for numbers (and pair entries) */
    bool exclusive_max;         /* Dropout's rate < 1 */
    const char *const *choices; /* NN_ARG_CHOICE: NULL-terminated names */
    const char *default_text;   /* as Keras writes it: "(1, 1)", "'valid'", "None" */
    const char *doc;            /* what it means, one or two sentences */
} nn_arg_spec;

typedef struct nn_layer nn_layer;
typedef struct nn_exec nn_exec;

/* What a layer does with Keras' mask over the steps of its input (one float per step of
 * a sample, 1 kept and 0 masked; see the backend's step_mask): flags of
 * nn_layer_class.mask_use. A layer with none of them takes no mask: a model refuses to
 * hand it one, as Keras documents. */
enum {
    NN_MASK_MAKES = 1,  /* makes a mask from its input (Embedding with mask_zero, Masking) */
    NN_MASK_READS = 2,  /* forward and backward read nn_exec.mask (a recurrent layer) */
    NN_MASK_PASSES = 4, /* its output has the input's steps: the mask goes on unchanged */
};

/* The class of a layer kind: its name, arguments and operations. */
typedef struct nn_layer_class {
    const char *name;       /* Keras class name: "Conv2D", "MaxPooling2D" */
    const char *alias;      /* another accepted name ("MaxPool2D") or NULL */
    const char *base_name;  /* snake-case prefix of automatic names: "conv2d" */
    const char *doc;        /* one paragraph: what the layer computes */
    const char *example;    /* a Lua example for help() */
    size_t size;            /* sizeof the concrete struct */
    const nn_arg_spec *args;
    int arg_count;
    int positional_count;   /* the first args may be given by position */

    /* Fills every argument with its Keras default. */
    void (*set_defaults)(nn_layer *layer);
    /* Checks the arguments once they are all set (ranges that depend on each other). */
    nn_status (*validate)(nn_layer *layer);
    /* Checks input (batch axis -1), computes output, declares the weights with
     * nn_layer_declare_param and writes layer->explanation. */
    nn_status (*build)(nn_layer *layer, const nn_shape *input, nn_shape *output);
    /* Adjusts the weights nn_layer_build has just filled from their initializers (host
     * memory), where Keras composes one weight from several (an LSTM's forget-gate bias
     * starting at 1). May be NULL: nothing to adjust. */
    void (*initialized)(nn_layer *layer);
    /* Floats of scratch the layer needs at this batch size on this backend (may be
     * NULL: none). */
    size_t (*scratch_floats)(const nn_layer *layer, const nn_backend *backend, int64_t batch);
    /* Makes the layer's own per-batch buffers (masks, argmax) hold `batch` rows in the
     * memory of `device` (see nn_layer_buffer_reserve). Called before a loop, never
     * inside it. May be NULL. */
    nn_status (*reserve)(nn_layer *layer, nn_device device, int64_t batch);
    /* output = layer(input). Shapes are already checked. */
    nn_status (*forward)(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                         nn_tensor *output);
    /* From doutput, writes dinput (NULL for the first layer of a model) and the
     * gradient of every trainable weight (overwritten, not accumulated). input and
     * output are those of the last forward in training mode. */
    nn_status (*backward)(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                          const nn_tensor *output, const nn_tensor *doutput,
                          nn_tensor *dinput);
    /* Checks the values of an input whose shape is already right, before any kernel sees
     * them: an Embedding's indices. Kernels cannot report a bad value (a GPU's cannot),
     * so this runs on the host, where the data still is: on the whole of x before a
     * model's loop (for its first layer), and in nn_layer_call and nn_layer_forward. input
     * is on the host, float32 or an integer dtype. The error names the layer, the value,
     * its position and what is allowed. May be NULL: every value is fine. */
    nn_status (*check_input)(const nn_layer *layer, const nn_tensor *input);
    /* Learns the layer's statistics from data, before fit, as Keras' adapt (a
     * Normalization's mean and variance). data may be on any device, of any dtype. May be
     * NULL: the layer has nothing to learn that way. */
    nn_status (*adapt)(nn_layer *layer, const nn_tensor *data);
    /* Frees what the concrete struct owns (not the struct, not the params). */
    void (*destroy)(nn_layer *layer);
    /* Forward followed by the next layer's max pooling (see prepare_pooling), writing
     * only the pooled result and its winners (argmax, NULL in inference); the layer's
     * own output is left unwritten. Sets *done false, doing nothing, when it cannot
     * (layout, activation, sizes). May be NULL: never. */
    nn_status (*forward_pooled)(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                nn_tensor *pooled, const nn_pool2d_geometry *pool,
                                int32_t *argmax, bool *done);
    /* For a pooling layer whose forward the layer before does (forward_pooled): the
     * pooling's sizes for `batch` rows and where its winners go (NULL in inference),
     * leaving the layer ready for backward as its own forward would. false when it
     * cannot be done that way. May be NULL: never. */
    bool (*prepare_pooling)(nn_layer *layer, nn_exec *exec, int64_t batch,
                            nn_pool2d_geometry *geometry, int32_t **argmax);
    /* Whether backward can apply the derivative of a ReLU that produced its input (see
     * nn_layer.applies_input_relu). May be NULL: never. */
    bool (*can_apply_input_relu)(const nn_layer *layer);
    /* A random augmentation (RandomFlip): called on its own, as in Keras 3, it augments
     * unless told training=false; in a model it augments in fit only. */
    bool augments;
    /* Whether the output holds the input's values in the same order (Flatten, Reshape):
     * a model then makes the output (and its gradient) a view of the input's storage,
     * and forward and backward find nothing to copy. May be NULL: never. */
    bool (*output_views_input)(const nn_layer *layer);
    /* Its masking: NN_MASK_* flags for the layer on an input of shape `input` (the one it
     * is built on, or is about to be). May be NULL: none. */
    unsigned (*mask_use)(const nn_layer *layer, const nn_shape *input);
    /* NN_MASK_MAKES: writes the mask of the output's steps (batch rows of
     * nn_layer_mask_steps floats) from the input. */
    void (*make_mask)(nn_layer *layer, nn_exec *exec, const nn_tensor *input, float *mask);
} nn_layer_class;

/* The header every layer starts with. Layers are shared (a Lua variable and a model
 * may hold the same one) and freed when the last reference goes. */
struct nn_layer {
    const nn_layer_class *cls;
    int refcount;
    char name[NN_NAME_CAPACITY];
    bool named_by_user;          /* false: the model may renumber it */
    bool numbered;               /* a model gave it its name; it keeps it in other models */
    struct nn_model *running_in; /* the model whose fit, evaluate or predict uses it now */
    bool built;
    nn_shape declared_input;     /* from input_shape=, without the batch axis; ndim 0 if none */
    nn_shape input_shape;        /* batch axis -1 */
    nn_shape output_shape;       /* batch axis -1 */
    nn_param params[NN_LAYER_MAX_PARAMS];
    int param_count;
    uint64_t seed, stream;       /* where the initial weights come from */
    bool trainable;
    char explanation[NN_EXPLANATION_CAPACITY]; /* how output_shape was computed */
    nn_activation activation;    /* fused activation; linear for layers without one */
    nn_regularizer activity_regularizer;
    nn_storage *preactivation;   /* kept for activations whose backward needs x; on the
                                    device the layer last ran on */
    /* Set by a model during fit when the layer before ends in a ReLU: backward then
     * also applies that ReLU's derivative to dinput (max pooling does it for free: only
     * winners get a gradient, and a winner of 0 had a zero derivative), and the layer
     * before is told its doutput is already through it. */
    bool applies_input_relu;
};

/* Per-call context of forward and backward. Every pointer a layer gets (tensors,
 * scratch, its own buffers) is in the memory of `device`, which `backend` runs. */
struct nn_exec {
    const nn_backend *backend;
    nn_device device; /* zero: the CPU */
    bool training;
    uint64_t seed;    /* randomness of this call (dropout) */
    uint64_t step;    /* advances every batch so each draws fresh numbers */
    float *scratch;   /* at least the max of the layers' scratch_floats */
    size_t scratch_floats;
    /* The batch's statistics in device memory (loss, penalties, metrics); activity
     * regularizers add their penalty to stats->activity_penalty. NULL outside a model. */
    nn_batch_stats *stats;
    /* Set by the model for its last layer only: forward copies the pre-activation
     * output here (for a numerically stable loss). */
    float *logits;
    /* Set by the model for its last layer, and for a layer whose ReLU derivative the
     * next layer applied (nn_layer.applies_input_relu): backward receives doutput
     * already taken through the activation, so it must skip the activation's
     * derivative. */
    bool doutput_is_preactivation;
    /* Set by nn_layer_call: the layer runs on its own, outside a model's loop, where
     * `step` is a session-wide counter rather than the training step. */
    bool on_its_own;
    /* The mask over the input's steps (batch rows of nn_layer_mask_steps of the input)
     * where a model's mask reaches a layer that reads it (NN_MASK_READS), else NULL. */
    const float *mask;
};

/* ---- the registry of layer kinds ---- */

/* NULL-terminated list of every layer class. */
const nn_layer_class *const *nn_layer_classes(void);
/* Finds a class by name or alias; NULL if none. */
const nn_layer_class *nn_layer_class_find(const char *name);
/* Finds an argument of a class by name; NULL if none. */
const nn_arg_spec *nn_layer_class_arg(const nn_layer_class *cls, const char *name);

/* ---- creating and sharing ---- */

/* A new layer with every argument at its default; the caller sets arguments (through
 * nn_layer_arg_pointer and the specs) and then calls nn_layer_finish. */
nn_status nn_layer_create(nn_layer **out, const nn_layer_class *cls);
/* Validates the arguments and draws the layer's random stream. */
nn_status nn_layer_finish(nn_layer *layer);
void *nn_layer_arg_pointer(nn_layer *layer, const nn_arg_spec *spec);
void nn_layer_retain(nn_layer *layer);
void nn_layer_release(nn_layer *layer);

/* ---- building and running ---- */

/* Floats rounded up so that scratch partitions start on 64-byte boundaries, like the
 * buffer itself. */
static inline size_t nn_aligned_floats(size_t floats) { return (floats + 15) / 16 * 16; }
/* Before a layer's kernels run on a batch: the batch is at most batch_limit rows (the
 * kernels index it with int) and the caller's scratch holds what the class's
 * scratch_floats asks for. */
nn_status nn_layer_check_call(const nn_layer *layer, const nn_exec *exec, int64_t batch,
                              int64_t batch_limit);

/* Builds on input (whose batch axis is ignored): output shape, explanation, and
 * freshly initialised weights. A built layer accepts only inputs whose non-batch axes
 * match (a model's layers keep their shapes; nn_layer_call is what takes others);
 * anything else is an error that names the layer and both shapes. */
nn_status nn_layer_build(nn_layer *layer, const nn_shape *input);
/* Used by build functions: adds a weight. Returns its index. */
int nn_layer_declare_param(nn_layer *layer, const char *name, const nn_shape *shape,
                           bool trainable, nn_initializer initializer,
                           nn_regularizer regularizer, nn_constraint constraint);
nn_param *nn_layer_param(nn_layer *layer, const char *name);
/* Number of weights (elements) of the layer, trainable or not. */
int64_t nn_layer_count_params(const nn_layer *layer, bool trainable);
/* Whether training moves a weight: one that can learn (not a moving statistic) in a layer
 * that is not frozen (layer.trainable = false, as Keras). */
static inline bool nn_param_trains(const nn_layer *layer, const nn_param *param)
{
    return param->trainable && layer->trainable;
}

/* Sizes the layer's per-batch buffers for `batch` rows (its own and the shared
 * pre-activation cache) on the CPU, or on `device`. Call before a loop. */
nn_status nn_layer_reserve(nn_layer *layer, int64_t batch);
nn_status nn_layer_reserve_on(nn_layer *layer, nn_device device, int64_t batch);
/* Scratch floats the layer needs for a batch on a backend (0 when it needs none). */
size_t nn_layer_scratch_floats(const nn_layer *layer, const nn_backend *backend, int64_t batch);
/* For reserve functions: makes *buffer hold at least `bytes` on `device`, replacing it
 * (contents not kept, new memory zero) when it is smaller or elsewhere. The error names
 * the layer. */
nn_status nn_layer_buffer_reserve(nn_storage **buffer, nn_device device, size_t bytes,
                                  const nn_layer *layer);
/* For forward and backward: the data of a buffer reserve made, when it holds at least
 * `bytes` on `device`; NULL when it was not reserved for that (the caller's error). */
void *nn_layer_buffer_reserved(const nn_storage *buffer, nn_device device, size_t bytes);
/* The device a layer's weights live on (the CPU for a layer without weights). */
nn_device nn_layer_device(const nn_layer *layer);

/* For layers with a fused activation: out holds the linear result (n elements, rows of
 * axis_size); keeps what backward will need and applies the activation in place. */
void nn_layer_activate_forward(nn_layer *layer, nn_exec *exec, float *out, size_t n,
                               size_t axis_size);
/* dz = dy through the activation's derivative (or a copy when the model already did
 * it, see nn_exec.doutput_is_preactivation). y is the forward output. dz may equal dy. */
void nn_layer_activate_backward(nn_layer *layer, nn_exec *exec, float *dz, const float *dy,
                                const float *y, size_t n, size_t axis_size);
/* Adds the activity regularizer's penalty for out (the whole batch's output, rows along
 * its first axis), divided by the batch's rows as Keras does, to exec->stats and, when
 * dout (out's size) is not NULL, its gradient to dout. */
void nn_layer_activity_penalty(nn_layer *layer, nn_exec *exec, const nn_tensor *out,
                               float *dout);

/* forward and backward with every shape checked: the public entry points for C callers
 * that drive layers themselves. input must match the shape the layer was built for (any
 * batch), output (and doutput, dinput) the shapes it implies; exec->scratch must hold
 * the layer's scratch_floats for that batch, and nn_layer_reserve must have run for at
 * least that batch. Mismatches are NN_ERR_SHAPE errors naming the layer and shapes;
 * forward also runs the class's check of the input's values (nn_layer_check_input). */
nn_status nn_layer_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                           nn_tensor *output);
nn_status nn_layer_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                            const nn_tensor *output, const nn_tensor *doutput,
                            nn_tensor *dinput);

/* The class's check_input on input (of the shape the layer was built for), which may be
 * on any device: one elsewhere than the host is copied there to be read. NN_OK when the
 * class has no check. */
nn_status nn_layer_check_input(const nn_layer *layer, const nn_tensor *input);
/* Whether the layer checks its input's values (an Embedding, or a wrapper around one), so
 * that a model must give it the data itself, as its first layer. */
bool nn_layer_checks_input(const nn_layer *layer);

/* Checks that every value of input (on the host) is a whole number in [0, limit): the ids
 * an Embedding or CategoryEncoding looks up. The error names the layer, the value, its
 * position and the limit, as `limit_name`=limit. */
nn_status nn_check_ids(const nn_layer *layer, const nn_tensor *input, int64_t limit,
                       const char *limit_name);

/* Learns the layer's statistics from data (its class's adapt, as Keras'); an error for a
 * layer that has none. */
nn_status nn_layer_adapt(nn_layer *layer, const nn_tensor *data);

/* Runs the layer once on a whole tensor, outside any model: `layer(x)` in Lua. Builds
 * it on first use. A built layer takes any other shape its weights fit, as Keras does
 * (another image size for a convolution or a pooling, more steps for an LSTM, more
 * leading axes for Dense): its class's build runs on that shape for the call, the
 * weights left as they are, and runs again on the built shape after, so that
 * input_shape, output_shape and everything sized from them stay those of the first
 * build. A shape the weights cannot take is an NN_ERR_SHAPE error naming the axis they
 * fix, the shape built for and the one received. It runs where its weights are (a layer
 * built by this call puts them on the input's device; one without weights runs on the
 * input's device), the input copied there when needed. *out is a new tensor on that
 * device. */
nn_status nn_layer_call(nn_layer *layer, const nn_tensor *input, bool training,
                        nn_tensor **out);

/* The layer's NN_MASK_* flags on the input it is built on (0 for a class without
 * masking), and on an input of shape `input` before it is built. */
unsigned nn_layer_mask_use(const nn_layer *layer);
unsigned nn_layer_mask_use_on(const nn_layer *layer, const nn_shape *input);
/* Steps of one sample that a mask over a tensor of this shape (batch axis first) has: every
 * axis but the batch and the last (features), 1 for (batch, features). */
int64_t nn_layer_mask_steps(const nn_shape *shape);
/* For classes whose output keeps the input's steps (Dense, Dropout, activations). */
unsigned nn_mask_passes(const nn_layer *layer, const nn_shape *input);

/* Formats the layer's arguments like a constructor call: "Conv2D(32, 3×3, relu)". */
char *nn_layer_describe(const nn_layer *layer, char *buf, size_t size);

#endif
