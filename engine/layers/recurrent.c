/* SimpleRNN, LSTM and GRU: a cell run over the time steps of (batch, steps, features),
 * its state carried from step to step, returning the last state (batch, units) or every
 * step's (batch, steps, units) with return_sequences, as Keras.
 *
 * The three share one loop. The input's product with the kernel is one matrix product
 * for every step at once; each step then adds the state's product with the recurrent
 * kernel and runs the cell (backend->lstm_cell_forward, gru_cell_forward, or the
 * activation for SimpleRNN). The work is time-major, (steps, batch, ...), so that each
 * step's rows are contiguous: the input is turned around with swap_leading_axes, and
 * with go_backwards its steps are taken in reverse order by copying them so.
 *
 * Backward runs the steps in reverse, carrying the state's gradient (and the LSTM's cell
 * gradient) back, and keeps each step's pre-activation gradients; the kernels' gradients
 * are then two matrix products over all steps at once.
 *
 * Dropout follows Keras' RNN cells: in training, one mask over the input features and one
 * over the state's units are drawn per call and used at every step; the state's mask
 * applies to what the recurrent kernel reads (a GRU still blends the unmasked state). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "layers.h"

typedef struct recurrent_layer {
    nn_layer base;
    int units;
    nn_activation activation, recurrent_activation;
    bool use_bias, unit_forget_bias, reset_after;
    nn_initializer kernel_initializer, recurrent_initializer, bias_initializer;
    nn_regularizer kernel_regularizer, recurrent_regularizer, bias_regularizer;
    nn_constraint kernel_constraint, recurrent_constraint, bias_constraint;
    float dropout, recurrent_dropout;
    nn_optional_int seed;
    bool return_sequences, return_state, go_backwards, stateful, unroll;

    /* Bidirectional only: the wrapped kind (a cell_kind) and how the two directions'
     * outputs merge (a merge_mode). */
    int wrapped, merge_mode;

    /* Per direction (Bidirectional has two, the others one): what the last forward leaves
     * for backward, on the device the layer ran on, sized by reserve (see
     * history_layout), and the dropout masks of the last forward in training, one byte
     * per (sample, feature) of the input, then per (sample, unit) of the state, the same
     * for every step. */
    nn_storage *history[2];
    nn_storage *masks[2];
    /* Bidirectional: both directions' outputs of the last forward (for 'mul'). */
    nn_storage *merge_inputs;
    bool dropped_inputs, dropped_states; /* whether the last forward applied them */
    uint64_t own_calls;                  /* calls on its own with a seed (see dropout.c) */
} recurrent_layer;

#define ARG(field) offsetof(recurrent_layer, field)

/* The arguments every recurrent kind takes, after its own. */
#define RECURRENT_COMMON_ARGS(default_name)                                                    \
    {"use_bias", NN_ARG_BOOL, ARG(use_bias), false, 0, 1, false, NULL, "True",                 \
     "Whether the layer adds a bias vector."},                                                 \
    {"kernel_initializer", NN_ARG_INITIALIZER, ARG(kernel_initializer), false, 0, 0, false,    \
     NULL, "'glorot_uniform'", "Initializer for the kernel, which maps the inputs."},          \
    {"recurrent_initializer", NN_ARG_INITIALIZER, ARG(recurrent_initializer), false, 0, 0,     \
     false, NULL, "'orthogonal'",                                                              \
     "Initializer for the recurrent_kernel, which maps the previous state."},                  \
    {"bias_initializer", NN_ARG_INITIALIZER, ARG(bias_initializer), false, 0, 0, false, NULL,  \
     "'zeros'", "Initializer for the bias vector."},                                           \
    {"kernel_regularizer", NN_ARG_REGULARIZER, ARG(kernel_regularizer), false, 0, 0, false,    \
     NULL, "None", "Regularizer function applied to the kernel."},                             \
    {"recurrent_regularizer", NN_ARG_REGULARIZER, ARG(recurrent_regularizer), false, 0, 0,     \
     false, NULL, "None", "Regularizer function applied to the recurrent_kernel."},            \
    {"bias_regularizer", NN_ARG_REGULARIZER, ARG(bias_regularizer), false, 0, 0, false, NULL,  \
     "None", "Regularizer function applied to the bias vector."},                              \
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,  \
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},                                        \
    {"kernel_constraint", NN_ARG_CONSTRAINT, ARG(kernel_constraint), false, 0, 0, false, NULL, \
     "None", "Constraint function applied to the kernel."},                                    \
    {"recurrent_constraint", NN_ARG_CONSTRAINT, ARG(recurrent_constraint), false, 0, 0, false, \
     NULL, "None", "Constraint function applied to the recurrent_kernel."},                    \
    {"bias_constraint", NN_ARG_CONSTRAINT, ARG(bias_constraint), false, 0, 0, false, NULL,     \
     "None", "Constraint function applied to the bias vector."},                               \
    {"dropout", NN_ARG_FLOAT, ARG(dropout), false, 0, 1, true, NULL, "0.0",                    \
     "Fraction of the input features to drop in training, with one mask for every step."},    \
    {"recurrent_dropout", NN_ARG_FLOAT, ARG(recurrent_dropout), false, 0, 1, true, NULL,       \
     "0.0", "Fraction of the state's units to drop before the recurrent kernel in training, "  \
     "with one mask for every step."},                                                         \
    {"seed", NN_ARG_OPTIONAL_INT, ARG(seed), false, 0, 9007199254740991.0, false, NULL,        \
     "None", "Integer seed of the dropout masks; None draws them from the global seed."},      \
    {"return_sequences", NN_ARG_BOOL, ARG(return_sequences), false, 0, 1, false, NULL,         \
     "False",                                                                                  \
     "Whether to return every step's output (batch, steps, units) or only the last one's "     \
     "(batch, units)."},                                                                       \
    {"return_state", NN_ARG_BOOL, ARG(return_state), false, 0, 1, false, NULL, "False",        \
     "Whether to return the last state besides the output; nnsh has only False."},             \
    {"go_backwards", NN_ARG_BOOL, ARG(go_backwards), false, 0, 1, false, NULL, "False",        \
     "If True, read the steps from last to first (the output sequence is then in that "        \
     "order)."},                                                                               \
    {"stateful", NN_ARG_BOOL, ARG(stateful), false, 0, 1, false, NULL, "False",                \
     "Whether each batch starts from the last batch's state; nnsh has only False."},           \
    {"unroll", NN_ARG_BOOL, ARG(unroll), false, 0, 1, false, NULL, "False",                    \
     "A speed hint in Keras; nnsh always runs the same loop, so it changes nothing."},         \
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",                  \
     "Name of the layer; by default '" default_name "', '" default_name "_1', ..."},           \
    {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false, NULL,    \
     "None", "Shape of one input sample (steps, features), for the first layer."}

#define UNITS_ARG                                                                              \
    {"units", NN_ARG_INT, ARG(units), true, 1, 1 << 24, false, NULL, NULL,                     \
     "Dimensionality of the output space: the size of the state."}

#define ACTIVATION_ARG                                                                         \
    {"activation", NN_ARG_ACTIVATION, ARG(activation), false, 0, 0, false, NULL, "'tanh'",     \
     "Activation of the state's candidate (element-wise); None means linear."}

#define RECURRENT_ACTIVATION_ARG                                                               \
    {"recurrent_activation", NN_ARG_ACTIVATION, ARG(recurrent_activation), false, 0, 0, false, \
     NULL, "'sigmoid'", "Activation of the gates (element-wise)."}

static const nn_arg_spec simple_rnn_args[] = {
    UNITS_ARG, ACTIVATION_ARG, RECURRENT_COMMON_ARGS("simple_rnn"),
};

static const nn_arg_spec lstm_args[] = {
    UNITS_ARG,
    ACTIVATION_ARG,
    RECURRENT_ACTIVATION_ARG,
    {"unit_forget_bias", NN_ARG_BOOL, ARG(unit_forget_bias), false, 0, 1, false, NULL, "True",
     "If True, the forget gate's bias starts at 1 (the rest from bias_initializer), so the "
     "cell remembers at the start of training."},
    RECURRENT_COMMON_ARGS("lstm"),
};

static const nn_arg_spec gru_args[] = {
    UNITS_ARG,
    ACTIVATION_ARG,
    RECURRENT_ACTIVATION_ARG,
    {"reset_after", NN_ARG_BOOL, ARG(reset_after), false, 0, 1, false, NULL, "True",
     "Apply the reset gate after the recurrent kernel (Keras' default, with separate input "
     "and recurrent biases: bias shape (2, 3·units)); nnsh has only True."},
    RECURRENT_COMMON_ARGS("gru"),
};

static const char *const wrapped_choices[] = {"SimpleRNN", "LSTM", "GRU", NULL};
static const char *const merge_choices[] = {"concat", "sum", "mul", "ave", NULL};

/* A Bidirectional holds the arguments of the layer it wraps as its own, so that they are
 * read, shown and saved like any layer's. */
static const nn_arg_spec bidirectional_args[] = {
    {"layer", NN_ARG_CHOICE, ARG(wrapped), true, 0, 0, false, wrapped_choices, NULL,
     "The recurrent layer to run both ways: nn.layers.LSTM{64}, GRU{...} or SimpleRNN{...} "
     "(its arguments become this layer's; a file keeps its class name)."},
    {"merge_mode", NN_ARG_CHOICE, ARG(merge_mode), false, 0, 0, false, merge_choices,
     "'concat'", "How the forward and backward outputs combine: 'concat' (side by side), "
     "'sum', 'mul' or 'ave'."},
    UNITS_ARG,
    ACTIVATION_ARG,
    RECURRENT_ACTIVATION_ARG,
    {"unit_forget_bias", NN_ARG_BOOL, ARG(unit_forget_bias), false, 0, 1, false, NULL, "True",
     "LSTM: the forget gate's bias starts at 1."},
    {"reset_after", NN_ARG_BOOL, ARG(reset_after), false, 0, 1, false, NULL, "True",
     "GRU: the reset gate applies after the recurrent kernel (nnsh has only True)."},
    RECURRENT_COMMON_ARGS("bidirectional"),
};

typedef enum cell_kind { CELL_SIMPLE, CELL_LSTM, CELL_GRU } cell_kind;
typedef enum merge_mode { MERGE_CONCAT, MERGE_SUM, MERGE_MUL, MERGE_AVE } merge_mode;

static bool is_bidirectional(const nn_layer *layer)
{
    return layer->cls == &nn_bidirectional_class;
}

static cell_kind kind_of(const nn_layer *layer)
{
    if (is_bidirectional(layer))
        return (cell_kind)((const recurrent_layer *)layer)->wrapped;
    return layer->cls == &nn_lstm_class ? CELL_LSTM
           : layer->cls == &nn_gru_class ? CELL_GRU
                                         : CELL_SIMPLE;
}

static int directions_of(const nn_layer *layer) { return is_bidirectional(layer) ? 2 : 1; }

/* Where direction d's weights start in base.params: kernel, recurrent_kernel, bias. */
static int params_per_direction(const recurrent_layer *rnn) { return rnn->use_bias ? 3 : 2; }

/* Columns of the kernels per unit: one per gate. */
static int64_t gates_of(cell_kind kind) { return kind == CELL_LSTM ? 4 : kind == CELL_GRU ? 3 : 1; }

enum { KERNEL, RECURRENT_KERNEL, BIAS };

static void recurrent_set_defaults(nn_layer *layer)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    rnn->activation = nn_activation_default(NN_ACTIVATION_TANH);
    rnn->recurrent_activation = nn_activation_default(NN_ACTIVATION_SIGMOID);
    rnn->use_bias = rnn->unit_forget_bias = rnn->reset_after = true;
    rnn->kernel_initializer = nn_initializer_default(NN_INITIALIZER_GLOROT_UNIFORM);
    rnn->recurrent_initializer = nn_initializer_default(NN_INITIALIZER_ORTHOGONAL);
    rnn->bias_initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
}

static nn_status refuse(const nn_layer *layer, const char *what, const char *instead)
{
    return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s is not available in nnsh; %s",
                    layer->cls->name, layer->name, what, instead);
}

static nn_status recurrent_validate(nn_layer *layer)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    const nn_activation *activations[] = {&rnn->activation, &rnn->recurrent_activation};
    const char *names[] = {"activation", "recurrent_activation"};
    for (int i = 0; i < 2; i++)
        if (nn_activation_by_rows(activations[i]->kind))
            return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s='%s' normalises whole rows; a "
                            "recurrent cell needs an element-wise activation such as 'tanh' "
                            "or 'sigmoid'", layer->cls->name, layer->name, names[i],
                            nn_activation_name(activations[i]->kind));
    if (is_bidirectional(layer)) {
        /* Given by name with layer='SimpleRNN' or 'GRU': arguments its kind lacks. */
        cell_kind kind = kind_of(layer);
        if (kind == CELL_SIMPLE &&
            rnn->recurrent_activation.kind != NN_ACTIVATION_SIGMOID)
            return nn_error(NN_ERR_ARGUMENT, "Bidirectional \"%s\": recurrent_activation is "
                            "an argument of LSTM and GRU, not of SimpleRNN", layer->name);
        if (kind != CELL_LSTM && !rnn->unit_forget_bias)
            return nn_error(NN_ERR_ARGUMENT, "Bidirectional \"%s\": unit_forget_bias is an "
                            "argument of LSTM only", layer->name);
        if (kind != CELL_GRU && !rnn->reset_after)
            return nn_error(NN_ERR_ARGUMENT, "Bidirectional \"%s\": reset_after is an "
                            "argument of GRU only", layer->name);
    }
    if (rnn->return_state)
        return refuse(layer, "return_state=True", "a Sequential model has one output; use "
                      "return_sequences=True to see every step's state");
    if (rnn->stateful)
        return refuse(layer, "stateful=True", "each batch starts from a zero state");
    if (!rnn->reset_after)
        return refuse(layer, "reset_after=False", "use the default reset_after=True");
    return NN_OK;
}

static nn_status recurrent_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    cell_kind kind = kind_of(layer);
    char text[128];
    nn_shape_format(input, text, sizeof text);
    if (input->ndim != 3)
        return nn_error(NN_ERR_SHAPE, "Input 0 of layer \"%s\" is incompatible with the layer: "
                        "expected ndim=3 (batch, timesteps, features), found ndim=%d. Full "
                        "shape received: %s%s", layer->name, input->ndim, text,
                        input->ndim == 2 ? " (after another recurrent layer, give that one "
                                           "return_sequences=true; a sequence of numbers "
                                           "needs a features axis: Reshape{{steps, 1}}; word "
                                           "indices need an Embedding first)"
                                         : "");
    if (input->dims[1] <= 0 || input->dims[2] <= 0)
        return nn_error(NN_ERR_SHAPE, "this layer needs a known number of steps and features, "
                        "got %s", text);
    int64_t steps = input->dims[1], features = input->dims[2], units = rnn->units;
    int64_t columns = gates_of(kind) * units;
    nn_shape kernel = NN_SHAPE(features, columns), recurrent = NN_SHAPE(units, columns);
    nn_shape bias = kind == CELL_GRU ? NN_SHAPE(2, columns) : NN_SHAPE(columns);
    /* Keras' order: each direction's kernel, recurrent kernel and bias, forward first. */
    static const char *const names[2][3] = {
        {"kernel", "recurrent_kernel", "bias"},
        {"backward_kernel", "backward_recurrent_kernel", "backward_bias"},
    };
    static const char *const bidirectional_names[3] = {"forward_kernel",
                                                        "forward_recurrent_kernel",
                                                        "forward_bias"};
    for (int d = 0; d < directions_of(layer); d++) {
        const char *const *name = d == 0 && is_bidirectional(layer) ? bidirectional_names
                                                                    : names[d];
        nn_layer_declare_param(layer, name[0], &kernel, true, rnn->kernel_initializer,
                               rnn->kernel_regularizer, rnn->kernel_constraint);
        nn_layer_declare_param(layer, name[1], &recurrent, true, rnn->recurrent_initializer,
                               rnn->recurrent_regularizer, rnn->recurrent_constraint);
        if (rnn->use_bias)
            nn_layer_declare_param(layer, name[2], &bias, true, rnn->bias_initializer,
                                   rnn->bias_regularizer, rnn->bias_constraint);
    }
    int64_t width = is_bidirectional(layer) && rnn->merge_mode == MERGE_CONCAT ? 2 * units
                                                                              : units;
    *output = rnn->return_sequences ? NN_SHAPE(-1, steps, width) : NN_SHAPE(-1, width);
    static const char *const cells[] = {
        [CELL_SIMPLE] = "one activation",
        [CELL_LSTM] = "4 gates (i, f, c, o)",
        [CELL_GRU] = "3 gates (z, r, h)",
    };
    snprintf(layer->explanation, sizeof layer->explanation,
             "%lld steps of %lld features; each step's state has units = %lld values, and "
             "the kernels have %s x %lld units = %lld columns (kernel %lld x %lld, "
             "recurrent_kernel %lld x %lld); the output is %s",
             (long long)steps, (long long)features, (long long)units, cells[kind],
             (long long)units, (long long)columns, (long long)features, (long long)columns,
             (long long)units, (long long)columns,
             rnn->return_sequences ? "every step's state (return_sequences=True)"
                                   : "the last step's state");
    if (is_bidirectional(layer)) {
        static const char *const merges[] = {
            [MERGE_CONCAT] = "side by side (merge_mode='concat': 2 x units wide)",
            [MERGE_SUM] = "added (merge_mode='sum')",
            [MERGE_MUL] = "multiplied (merge_mode='mul')",
            [MERGE_AVE] = "averaged (merge_mode='ave')",
        };
        size_t used = strlen(layer->explanation);
        snprintf(layer->explanation + used, sizeof layer->explanation - used,
                 "; twice, once reading the steps forwards and once backwards, each with "
                 "its own weights, the two outputs %s", merges[rnn->merge_mode]);
    }
    return NN_OK;
}

/* Keras' unit_forget_bias: the forget gate's quarter of the bias starts at 1. */
static void recurrent_initialized(nn_layer *layer)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    if (kind_of(layer) != CELL_LSTM || !rnn->use_bias || !rnn->unit_forget_bias)
        return;
    for (int d = 0; d < directions_of(layer); d++) {
        float *bias = nn_tensor_f32(layer->params[d * params_per_direction(rnn) + BIAS].value);
        for (int i = 0; i < rnn->units; i++)
            bias[rnn->units + i] = 1.0f;
    }
}

/* The sizes of one call on `batch` samples. Every buffer is time-major, one block of
 * `batch` rows per step, in the order the steps run. */
typedef struct call_sizes {
    cell_kind kind;
    int64_t batch, steps, features, units, columns;
    size_t step_states;  /* batch · units */
    size_t step_columns; /* batch · columns */
    size_t inputs;       /* steps · batch · features */
} call_sizes;

static call_sizes sizes_of(const nn_layer *layer, int64_t batch)
{
    const recurrent_layer *rnn = (const recurrent_layer *)layer;
    call_sizes s = {.kind = kind_of(layer), .batch = batch};
    s.steps = layer->input_shape.dims[1];
    s.features = layer->input_shape.dims[2];
    s.units = rnn->units;
    s.columns = gates_of(s.kind) * s.units;
    s.step_states = (size_t)(batch * s.units);
    s.step_columns = (size_t)(batch * s.columns);
    s.inputs = (size_t)(s.steps * batch * s.features);
    return s;
}

/* Floats of activated gates one step keeps: an LSTM's i, f, c̃, o and act(c), a GRU's z,
 * r and h̃, for each of batch · units. */
static size_t gates_kept_of(const call_sizes *s)
{
    return s->step_states * (s->kind == CELL_LSTM ? 5 : s->kind == CELL_GRU ? 3 : 0);
}

/* What forward keeps for backward, in one buffer: the states before and after every step
 * (steps + 1 blocks, the first zero), the LSTM's cell states likewise, each step's
 * pre-activations and (LSTM, GRU) activated gates, so that backward computes no
 * activation again, and the GRU's recurrent candidate parts. */
typedef struct history_layout {
    size_t states, cells, preact, gates, hu_h, masked_states, total; /* offsets in floats */
} history_layout;

/* With recurrent dropout, also the states as the recurrent kernel saw them (steps blocks,
 * masked). */
static history_layout history_of(const call_sizes *s, bool recurrent_dropout)
{
    history_layout h = {0};
    size_t steps = (size_t)s->steps, offset = 0;
    h.states = offset;
    offset += nn_aligned_floats((steps + 1) * s->step_states);
    h.cells = offset;
    if (s->kind == CELL_LSTM)
        offset += nn_aligned_floats((steps + 1) * s->step_states);
    h.preact = offset;
    offset += nn_aligned_floats(steps * s->step_columns);
    h.gates = offset;
    offset += nn_aligned_floats(steps * gates_kept_of(s));
    h.hu_h = offset;
    if (s->kind == CELL_GRU)
        offset += nn_aligned_floats(steps * s->step_states);
    h.masked_states = offset;
    if (recurrent_dropout)
        offset += nn_aligned_floats(steps * s->step_states);
    h.total = offset;
    return h;
}

/* Scratch of forward and backward, which never run at once:
 *   forward:  time-major input, the same in step order (go_backwards), the input's
 *             products (steps blocks), one step's state product;
 *   backward: the two inputs again, the products' gradients (twice for a GRU), the
 *             output's gradient time-major, the input's gradient (twice), three state
 *             blocks. */
typedef struct scratch_layout {
    size_t inputs_by_time, inputs_by_step, products, state_product; /* forward */
    size_t dproducts, dstate_products, doutputs, doutputs_by_step, dinputs_by_step,
        dinputs_by_time, dstate, dcell, dstate_direct, dstate_passed,
        dcell_passed;                                                 /* backward */
    size_t total;
} scratch_layout;

static scratch_layout scratch_of(const call_sizes *s, bool go_backwards, bool return_sequences)
{
    scratch_layout l = {0};
    size_t steps = (size_t)s->steps, offset = 0;
    l.inputs_by_time = offset;
    offset += nn_aligned_floats(s->inputs);
    l.inputs_by_step = offset;
    if (go_backwards)
        offset += nn_aligned_floats(s->inputs);
    size_t shared = offset; /* both passes use the inputs; the rest is each pass's own */
    l.products = offset;
    offset += nn_aligned_floats(steps * s->step_columns);
    l.state_product = offset;
    offset += nn_aligned_floats(s->step_columns);
    size_t forward_end = offset;

    offset = shared;
    l.dproducts = offset;
    offset += nn_aligned_floats(steps * s->step_columns);
    l.dstate_products = offset;
    if (s->kind == CELL_GRU)
        offset += nn_aligned_floats(steps * s->step_columns);
    l.doutputs = offset;
    if (return_sequences)
        offset += nn_aligned_floats(steps * s->step_states);
    /* A Bidirectional's backward direction gets its output's gradient in time order and
     * turns it into step order here. */
    l.doutputs_by_step = offset;
    if (return_sequences && go_backwards)
        offset += nn_aligned_floats(steps * s->step_states);
    l.dinputs_by_step = offset;
    offset += nn_aligned_floats(s->inputs);
    l.dinputs_by_time = offset;
    if (go_backwards)
        offset += nn_aligned_floats(s->inputs);
    l.dstate = offset;
    offset += nn_aligned_floats(s->step_states);
    l.dcell = offset;
    offset += nn_aligned_floats(s->step_states);
    l.dstate_direct = offset;
    offset += nn_aligned_floats(s->step_states);
    /* Under a mask: the gradients that skip a masked step (its state is the one before). */
    l.dstate_passed = offset;
    offset += nn_aligned_floats(s->step_states);
    l.dcell_passed = offset;
    offset += nn_aligned_floats(s->step_states);
    l.total = offset > forward_end ? offset : forward_end;
    return l;
}

/* The masks' bytes: one per input feature of a step, then one per unit of the state. */
static size_t masks_bytes(const call_sizes *s)
{
    return (size_t)(s->batch * s->features) + s->step_states;
}

/* The dropout of the inputs (steps, batch, features) with one mask (1, batch, features),
 * or of one step's state (batch, units). */
static nn_dropout_geometry input_dropout_of(const recurrent_layer *rnn, const call_sizes *s)
{
    return (nn_dropout_geometry){.ndim = 3,
                                 .dims = {s->steps, s->batch, s->features},
                                 .noise_dims = {1, s->batch, s->features},
                                 .rate = rnn->dropout};
}

static nn_dropout_geometry state_dropout_of(const recurrent_layer *rnn, const call_sizes *s)
{
    return (nn_dropout_geometry){.ndim = 2,
                                 .dims = {s->batch, s->units},
                                 .noise_dims = {s->batch, s->units},
                                 .rate = rnn->recurrent_dropout};
}

/* The scratch layout of one direction's run: with go_backwards for a Bidirectional,
 * whose backward direction needs every part. */
static scratch_layout direction_scratch_of(const recurrent_layer *rnn, const call_sizes *s)
{
    return scratch_of(s, rnn->go_backwards || is_bidirectional(&rnn->base),
                      rnn->return_sequences);
}

/* A Bidirectional's own scratch after its directions': the two outputs (then their
 * gradients), the backward direction's input gradient, and the mask in the output's step
 * order (two blocks: it is reversed through a time-major copy). */
typedef struct merge_layout {
    size_t outputs, dinput, mask, total; /* offsets past the directions' scratch */
    size_t output_floats;                /* one direction's output */
} merge_layout;

static merge_layout merge_of(const recurrent_layer *rnn, const call_sizes *s)
{
    merge_layout m = {0};
    m.output_floats = (rnn->return_sequences ? (size_t)s->steps : 1) * s->step_states;
    size_t offset = direction_scratch_of(rnn, s).total;
    m.outputs = offset;
    offset += 2 * nn_aligned_floats(m.output_floats);
    m.dinput = offset;
    offset += nn_aligned_floats(s->inputs);
    m.mask = offset;
    offset += 2 * nn_aligned_floats((size_t)(s->batch * s->steps));
    m.total = offset;
    return m;
}

static size_t recurrent_scratch_floats(const nn_layer *layer, const nn_backend *backend,
                                       int64_t batch)
{
    (void)backend;
    const recurrent_layer *rnn = (const recurrent_layer *)layer;
    call_sizes s = sizes_of(layer, batch);
    return is_bidirectional(layer) ? merge_of(rnn, &s).total
                                   : direction_scratch_of(rnn, &s).total;
}

static nn_status recurrent_reserve(nn_layer *layer, nn_device device, int64_t batch)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    call_sizes s = sizes_of(layer, batch);
    size_t history_bytes = history_of(&s, rnn->recurrent_dropout > 0.0f).total * sizeof(float);
    for (int d = 0; d < directions_of(layer); d++) {
        NN_TRY(nn_layer_buffer_reserve(&rnn->history[d], device, history_bytes, layer));
        NN_TRY(nn_layer_buffer_reserve(&rnn->masks[d], device, masks_bytes(&s), layer));
    }
    if (!is_bidirectional(layer))
        return NN_OK;
    return nn_layer_buffer_reserve(&rnn->merge_inputs, device,
                                   2 * merge_of(rnn, &s).output_floats * sizeof(float), layer);
}

/* The most samples one call takes: the kernels index steps · batch rows with int. */
static int64_t batch_limit_of(const nn_layer *layer)
{
    const call_sizes s = sizes_of(layer, 1);
    int64_t widest = s.columns > s.features ? s.columns : s.features;
    return (int64_t)INT_MAX / (s.steps * (widest > s.units ? widest : s.units));
}

/* Copies the steps of `from` (steps blocks of `block` floats) in reverse order. */
static void reverse_steps(const nn_backend *backend, float *to, const float *from,
                          int64_t steps, size_t block)
{
    for (int64_t t = 0; t < steps; t++)
        backend->copy(to + (size_t)(steps - 1 - t) * block, from + (size_t)t * block,
                      block * sizeof(float));
}

/* One direction of a call: which weights and buffers, and which way it reads the steps. */
typedef struct direction {
    int index;            /* 0, or 1 for a Bidirectional's backward direction */
    bool go_backwards;    /* reads the steps from the last */
    bool time_order;      /* its output sequence is turned back into time order */
    const float *kernel, *recurrent, *bias;
    float *dkernel, *drecurrent, *dbias; /* NULL where frozen */
    nn_storage *history, *masks;
} direction;

static direction direction_of(recurrent_layer *rnn, int index)
{
    nn_layer *layer = &rnn->base;
    int first = index * params_per_direction(rnn);
    direction d = {.index = index,
                   .go_backwards = rnn->go_backwards != (index == 1),
                   .time_order = index == 1,
                   .history = rnn->history[index],
                   .masks = rnn->masks[index]};
    const float **values[3] = {&d.kernel, &d.recurrent, &d.bias};
    float **grads[3] = {&d.dkernel, &d.drecurrent, &d.dbias};
    for (int k = 0; k < params_per_direction(rnn); k++) {
        nn_param *param = &layer->params[first + k];
        *values[k] = nn_tensor_f32(param->value);
        *grads[k] = param->grad ? nn_tensor_f32(param->grad) : NULL;
    }
    return d;
}

/* The mask of the direction's step t (in the order it runs them): one float per sample,
 * `steps` apart in the (batch, steps) mask. NULL without a mask. */
static const float *step_mask_of(const nn_exec *exec, const direction *d, const call_sizes *s,
                                 int64_t t)
{
    if (!exec->mask)
        return NULL;
    return exec->mask + (d->go_backwards ? s->steps - 1 - t : t);
}

/* The input, time-major and in the order the direction runs its steps. */
static float *inputs_in_step_order(const nn_exec *exec, const direction *d, const float *input,
                                   const call_sizes *s, const scratch_layout *l)
{
    const nn_backend *backend = exec->backend;
    float *by_time = exec->scratch + l->inputs_by_time;
    backend->swap_leading_axes(by_time, input, s->batch, s->steps, s->features);
    if (!d->go_backwards)
        return by_time;
    float *by_step = exec->scratch + l->inputs_by_step;
    reverse_steps(backend, by_step, by_time, s->steps, (size_t)(s->batch * s->features));
    return by_step;
}

/* Whether the buffers reserve made hold a batch of `batch` on the exec's device. */
static nn_status check_reserved(const recurrent_layer *rnn, const nn_exec *exec,
                                const call_sizes *s)
{
    size_t history_bytes = history_of(s, rnn->recurrent_dropout > 0.0f).total * sizeof(float);
    for (int d = 0; d < directions_of(&rnn->base); d++) {
        if (!nn_layer_buffer_reserved(rnn->history[d], exec->device, history_bytes) ||
            !nn_layer_buffer_reserved(rnn->masks[d], exec->device, masks_bytes(s)))
            return nn_error(NN_ERR_STATE, "layer \"%s\": a batch of %lld arrived but the layer "
                            "was reserved for fewer rows or another device (call "
                            "nn_layer_reserve first)", rnn->base.name, (long long)s->batch);
    }
    return NN_OK;
}

/* One direction's forward: out (batch, steps, units) or (batch, units). */
static void run_forward(recurrent_layer *rnn, nn_exec *exec, const direction *d,
                        const float *input, const call_sizes *sizes, float *out)
{
    nn_layer *layer = &rnn->base;
    const nn_backend *backend = exec->backend;
    const call_sizes s = *sizes;
    int64_t batch = s.batch;
    history_layout h = history_of(&s, rnn->recurrent_dropout > 0.0f);
    scratch_layout l = direction_scratch_of(rnn, &s);
    /* A GRU's bias holds the input's row, then the state's. */
    const float *state_bias = d->bias && s.kind == CELL_GRU ? d->bias + s.columns : NULL;
    nn_activation linear = nn_activation_default(NN_ACTIVATION_LINEAR);

    float *history = d->history->data;
    float *states = history + h.states, *cells = history + h.cells;
    float *preact = history + h.preact, *gates = history + h.gates, *hu_h = history + h.hu_h;
    float *products = exec->scratch + l.products, *state_product = exec->scratch + l.state_product;

    float *inputs = inputs_in_step_order(exec, d, input, &s, &l);
    backend->memory_zero(states, s.step_states * sizeof(float));
    /* Dropout: masks drawn once per call, each used at every step (Keras' RNN dropout);
     * each direction draws its own. */
    rnn->dropped_inputs = exec->training && rnn->dropout > 0.0f;
    rnn->dropped_states = exec->training && rnn->recurrent_dropout > 0.0f;
    uint8_t *input_mask = d->masks->data;
    uint8_t *state_mask = input_mask + (size_t)(batch * s.features);
    nn_dropout_geometry input_dropout = input_dropout_of(rnn, &s);
    nn_dropout_geometry state_dropout = state_dropout_of(rnn, &s);
    uint64_t seed, stream, tag = 2 * (uint64_t)d->index;
    if (rnn->dropped_inputs) {
        nn_dropout_stream(layer, exec, &rnn->seed, rnn->own_calls, tag, &seed, &stream);
        backend->dropout_forward(inputs, input_mask, inputs, &input_dropout, seed, stream);
    }
    if (rnn->dropped_states) {
        /* Drawn over the zero first state, into a block the loop overwrites: only the mask
         * is wanted. */
        nn_dropout_stream(layer, exec, &rnn->seed, rnn->own_calls, tag + 1, &seed, &stream);
        backend->dropout_forward(state_product, state_mask, states, &state_dropout, seed,
                                 stream);
    }
    backend->dense_forward(products, inputs, d->kernel, d->bias, linear,
                           (int)(s.steps * batch), (int)s.features, (int)s.columns);
    if (s.kind == CELL_LSTM)
        backend->memory_zero(cells, s.step_states * sizeof(float));
    nn_recurrent_cell cell = {batch, s.units, rnn->activation, rnn->recurrent_activation};
    size_t step_kept = gates_kept_of(&s);
    for (int64_t t = 0; t < s.steps; t++) {
        const float *state = states + (size_t)t * s.step_states;
        float *next_state = states + (size_t)(t + 1) * s.step_states;
        const float *step_products = products + (size_t)t * s.step_columns;
        float *step_preact = preact + (size_t)t * s.step_columns;
        float *step_gates = gates + (size_t)t * step_kept;
        const float *seen_state = state; /* what the recurrent kernel reads */
        if (rnn->dropped_states) {
            float *masked = history + h.masked_states + (size_t)t * s.step_states;
            /* mask ? state / (1 - rate) : 0, the dropout's own scaling */
            backend->dropout_backward(masked, state, state_mask, &state_dropout);
            seen_state = masked;
        }
        backend->dense_forward(state_product, seen_state, d->recurrent, state_bias, linear,
                               (int)batch, (int)s.units, (int)s.columns);
        switch (s.kind) {
        case CELL_LSTM:
            backend->lstm_cell_forward(next_state, cells + (size_t)(t + 1) * s.step_states,
                                       step_preact, step_gates, step_products, state_product,
                                       cells + (size_t)t * s.step_states, &cell);
            break;
        case CELL_GRU:
            backend->gru_cell_forward(next_state, step_preact, step_gates,
                                      hu_h + (size_t)t * s.step_states, step_products,
                                      state_product, state, &cell);
            break;
        case CELL_SIMPLE:
            backend->simple_rnn_cell_forward(next_state, step_preact, step_products,
                                             state_product, &cell);
            break;
        }
        /* Keras' masking: a masked step leaves the state (and an LSTM's cell) as it was,
         * so its output is the step before's. */
        const float *step_mask = step_mask_of(exec, d, &s, t);
        if (step_mask) {
            backend->select_rows(next_state, next_state, state, step_mask, (size_t)s.steps,
                                 (size_t)batch, (size_t)s.units);
            if (s.kind == CELL_LSTM)
                backend->select_rows(cells + (size_t)(t + 1) * s.step_states,
                                     cells + (size_t)(t + 1) * s.step_states,
                                     cells + (size_t)t * s.step_states, step_mask,
                                     (size_t)s.steps, (size_t)batch, (size_t)s.units);
        }
    }
    if (!rnn->return_sequences) {
        backend->copy(out, states + (size_t)s.steps * s.step_states,
                      s.step_states * sizeof(float));
        return;
    }
    const float *sequence = states + s.step_states;
    if (d->time_order) { /* the products are spent: their room holds the reversed steps */
        reverse_steps(backend, products, sequence, s.steps, s.step_states);
        sequence = products;
    }
    backend->swap_leading_axes(out, sequence, s.steps, batch, s.units);
}

/* One direction's backward from dout (its output's gradient); dinput (batch, steps,
 * features) is overwritten, or NULL. */
static void run_backward(recurrent_layer *rnn, nn_exec *exec, const direction *d,
                         const float *input, const call_sizes *sizes, const float *dout,
                         float *dinput)
{
    const nn_backend *backend = exec->backend;
    const call_sizes s = *sizes;
    int64_t batch = s.batch;
    history_layout h = history_of(&s, rnn->recurrent_dropout > 0.0f);
    scratch_layout l = direction_scratch_of(rnn, &s);
    float *dstate_bias = d->dbias && s.kind == CELL_GRU ? d->dbias + s.columns : NULL;

    const float *history = d->history->data;
    const float *states = history + h.states, *cells = history + h.cells;
    const float *preact = history + h.preact, *gates = history + h.gates;
    const float *hu_h = history + h.hu_h;
    float *scratch = exec->scratch;
    float *dproducts = scratch + l.dproducts;
    /* The state's products have the input's gradients, except a GRU's candidate part. */
    float *dstate_products = s.kind == CELL_GRU ? scratch + l.dstate_products : dproducts;
    float *doutputs = scratch + l.doutputs, *dstate = scratch + l.dstate;
    float *dcell = scratch + l.dcell, *dstate_direct = scratch + l.dstate_direct;
    float *dstate_passed = scratch + l.dstate_passed, *dcell_passed = scratch + l.dcell_passed;
    const uint8_t *input_mask = d->masks->data;
    const uint8_t *state_mask = input_mask + (size_t)(batch * s.features);
    nn_dropout_geometry input_dropout = input_dropout_of(rnn, &s);
    nn_dropout_geometry state_dropout = state_dropout_of(rnn, &s);
    const float *seen_states = rnn->dropped_states ? history + h.masked_states : states;

    /* dstate: the gradient reaching the state after the step being undone. */
    if (rnn->return_sequences) {
        backend->swap_leading_axes(doutputs, dout, batch, s.steps, s.units);
        if (d->time_order) {
            float *by_step = scratch + l.doutputs_by_step;
            reverse_steps(backend, by_step, doutputs, s.steps, s.step_states);
            doutputs = by_step;
        }
        backend->copy(dstate, doutputs + (size_t)(s.steps - 1) * s.step_states,
                      s.step_states * sizeof(float));
    } else {
        backend->copy(dstate, dout, s.step_states * sizeof(float));
    }
    if (s.kind == CELL_LSTM)
        backend->memory_zero(dcell, s.step_states * sizeof(float));
    nn_recurrent_cell cell = {batch, s.units, rnn->activation, rnn->recurrent_activation};
    size_t step_kept = gates_kept_of(&s);
    for (int64_t t = s.steps - 1; t >= 0; t--) {
        const float *state = states + (size_t)t * s.step_states;
        const float *next_state = states + (size_t)(t + 1) * s.step_states;
        const float *step_preact = preact + (size_t)t * s.step_columns;
        const float *step_gates = gates + (size_t)t * step_kept;
        float *step_dproducts = dproducts + (size_t)t * s.step_columns;
        float *step_dstate_products = dstate_products + (size_t)t * s.step_columns;
        /* A masked step copied its state: that part of the gradient passes to the state
         * before untouched, and the cell, whose result was dropped, gets none. */
        const float *step_mask = step_mask_of(exec, d, &s, t);
        if (step_mask) {
            backend->select_rows(dstate_passed, NULL, dstate, step_mask, (size_t)s.steps,
                                 (size_t)batch, (size_t)s.units);
            backend->select_rows(dstate, dstate, NULL, step_mask, (size_t)s.steps,
                                 (size_t)batch, (size_t)s.units);
            if (s.kind == CELL_LSTM) {
                backend->select_rows(dcell_passed, NULL, dcell, step_mask, (size_t)s.steps,
                                     (size_t)batch, (size_t)s.units);
                backend->select_rows(dcell, dcell, NULL, step_mask, (size_t)s.steps,
                                     (size_t)batch, (size_t)s.units);
            }
        }
        switch (s.kind) {
        case CELL_LSTM:
            backend->lstm_cell_backward(step_dproducts, dcell, dstate, step_preact, step_gates,
                                        cells + (size_t)t * s.step_states,
                                        cells + (size_t)(t + 1) * s.step_states, &cell);
            break;
        case CELL_GRU:
            backend->gru_cell_backward(step_dproducts, step_dstate_products, dstate_direct,
                                       dstate, step_preact, step_gates,
                                       hu_h + (size_t)t * s.step_states, state, &cell);
            break;
        case CELL_SIMPLE:
            backend->activation_backward(rnn->activation, step_dproducts, dstate, step_preact,
                                         next_state, s.step_states, (size_t)s.units);
            break;
        }
        if (t == 0)
            break;
        if (step_mask && s.kind == CELL_LSTM)
            backend->add(dcell, dcell_passed, s.step_states);
        backend->dense_backward(dstate, NULL, NULL, step_dstate_products, state, d->recurrent,
                                (int)batch, (int)s.units, (int)s.columns);
        if (rnn->dropped_states)
            backend->dropout_backward(dstate, dstate, state_mask, &state_dropout);
        if (s.kind == CELL_GRU)
            backend->add(dstate, dstate_direct, s.step_states);
        if (rnn->return_sequences)
            backend->add(dstate, doutputs + (size_t)(t - 1) * s.step_states, s.step_states);
        if (step_mask)
            backend->add(dstate, dstate_passed, s.step_states);
    }

    int rows = (int)(s.steps * batch);
    /* The state's products: every step's state before it, against their gradients. */
    if (d->drecurrent || dstate_bias)
        backend->dense_backward(NULL, d->drecurrent, dstate_bias, dstate_products, seen_states,
                                d->recurrent, rows, (int)s.units, (int)s.columns);
    if (!d->dkernel && !d->dbias && !dinput)
        return;
    float *inputs = inputs_in_step_order(exec, d, input, &s, &l);
    if (rnn->dropped_inputs) /* the inputs as forward's kernel saw them */
        backend->dropout_backward(inputs, inputs, input_mask, &input_dropout);
    float *dinputs = dinput ? scratch + l.dinputs_by_step : NULL;
    backend->dense_backward(dinputs, d->dkernel, d->dbias, dproducts, inputs, d->kernel, rows,
                            (int)s.features, (int)s.columns);
    if (!dinput)
        return;
    if (rnn->dropped_inputs)
        backend->dropout_backward(dinputs, dinputs, input_mask, &input_dropout);
    if (d->go_backwards) {
        float *by_time = scratch + l.dinputs_by_time;
        reverse_steps(backend, by_time, dinputs, s.steps, (size_t)(batch * s.features));
        dinputs = by_time;
    }
    backend->swap_leading_axes(dinput, dinputs, s.steps, batch, s.features);
}

/* A seeded layer called on its own counts its calls, one per call whatever it drew. */
static void count_own_call(recurrent_layer *rnn, const nn_exec *exec)
{
    if ((rnn->dropped_inputs || rnn->dropped_states) && rnn->seed.present && exec->on_its_own)
        rnn->own_calls++;
}

static nn_status recurrent_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   nn_tensor *output)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, batch_limit_of(layer)));
    call_sizes s = sizes_of(layer, batch);
    NN_TRY(check_reserved(rnn, exec, &s));
    direction d = direction_of(rnn, 0);
    run_forward(rnn, exec, &d, nn_tensor_f32(input), &s, nn_tensor_f32(output));
    count_own_call(rnn, exec);
    /* No activation of its own (base.activation is linear): this only hands the model
     * the output as logits when the layer is last. */
    nn_layer_activate_forward(layer, exec, nn_tensor_f32(output), nn_tensor_count(output),
                              (size_t)s.units);
    return NN_OK;
}

static nn_status recurrent_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                    const nn_tensor *output, const nn_tensor *doutput,
                                    nn_tensor *dinput)
{
    (void)output;
    recurrent_layer *rnn = (recurrent_layer *)layer;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, batch_limit_of(layer)));
    call_sizes s = sizes_of(layer, batch);
    NN_TRY(check_reserved(rnn, exec, &s));
    direction d = direction_of(rnn, 0);
    run_backward(rnn, exec, &d, nn_tensor_f32(input), &s, nn_tensor_f32(doutput),
                 dinput ? nn_tensor_f32(dinput) : NULL);
    return NN_OK;
}

/* Keras' masking: masked steps are skipped (the state carried over them); the output
 * sequence keeps the mask, the last state does not need it. */
static unsigned recurrent_mask_use(const nn_layer *layer, const nn_shape *input)
{
    (void)input;
    return NN_MASK_READS |
           (((const recurrent_layer *)layer)->return_sequences ? NN_MASK_PASSES : 0);
}

/* ---- Bidirectional ---- */

/* Keras' Bidirectional gives 0, not the carried state, at a masked step of its output
 * sequence: each direction zeroes the steps it skipped, in the order it ran them. Its
 * output sequence is in time order, unless the wrapped layer has go_backwards: then both
 * halves run (forward half) or are turned (backward half) the other way, position p
 * holding step T-1-p, and the mask is reversed to match. NULL: nothing to zero. */
static const float *output_mask(const recurrent_layer *rnn, const nn_exec *exec,
                                const call_sizes *s, const merge_layout *m)
{
    if (!exec->mask || !rnn->return_sequences)
        return NULL;
    if (!rnn->go_backwards)
        return exec->mask;
    const nn_backend *backend = exec->backend;
    size_t block = (size_t)(s->batch * s->steps);
    float *by_time = exec->scratch + m->mask, *reversed = by_time + nn_aligned_floats(block);
    backend->swap_leading_axes(by_time, exec->mask, s->batch, s->steps, 1);
    reverse_steps(backend, reversed, by_time, s->steps, (size_t)s->batch);
    backend->swap_leading_axes(by_time, reversed, s->steps, s->batch, 1);
    return by_time;
}

/* values (batch · steps rows of width) set to 0 at the masked positions: outputs after the
 * merge, or their gradients before the split. */
static void zero_masked_outputs(const nn_exec *exec, const float *mask, float *values,
                                const call_sizes *s, size_t width)
{
    if (mask)
        exec->backend->select_rows(values, values, NULL, mask, 1,
                                   (size_t)(s->batch * s->steps), width);
}

static nn_status bidirectional_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                       nn_tensor *output)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, batch_limit_of(layer)));
    call_sizes s = sizes_of(layer, batch);
    NN_TRY(check_reserved(rnn, exec, &s));
    merge_layout m = merge_of(rnn, &s);
    if (!nn_layer_buffer_reserved(rnn->merge_inputs, exec->device,
                                  2 * m.output_floats * sizeof(float)))
        return nn_error(NN_ERR_STATE, "layer \"%s\": a batch of %lld arrived but the layer "
                        "was reserved for fewer rows (call nn_layer_reserve first)",
                        layer->name, (long long)batch);
    /* Each direction's output goes to the layer's own buffer (mul's backward reads it). */
    float *outputs[2] = {rnn->merge_inputs->data,
                         (float *)rnn->merge_inputs->data + m.output_floats};
    for (int index = 0; index < 2; index++) {
        direction d = direction_of(rnn, index);
        run_forward(rnn, exec, &d, nn_tensor_f32(input), &s, outputs[index]);
    }
    count_own_call(rnn, exec);
    float *out = nn_tensor_f32(output);
    size_t n = m.output_floats, rows = n / (size_t)s.units;
    switch ((merge_mode)rnn->merge_mode) {
    case MERGE_CONCAT:
        /* (2, rows, units) -> (rows, 2, units): each row forward then backward. */
        backend->swap_leading_axes(out, outputs[0], 2, (int64_t)rows, s.units);
        break;
    case MERGE_SUM:
    case MERGE_AVE:
        backend->copy(out, outputs[0], n * sizeof(float));
        backend->add(out, outputs[1], n);
        if (rnn->merge_mode == MERGE_AVE)
            backend->scale_shift(out, out, 0.5f, 0.0f, n);
        break;
    case MERGE_MUL:
        backend->multiply(out, outputs[0], outputs[1], n);
        break;
    }
    zero_masked_outputs(exec, output_mask(rnn, exec, &s, &m), out, &s,
                        (size_t)output->shape.dims[output->shape.ndim - 1]);
    nn_layer_activate_forward(layer, exec, out, nn_tensor_count(output),
                              (size_t)output->shape.dims[output->shape.ndim - 1]);
    return NN_OK;
}

static nn_status bidirectional_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                        const nn_tensor *output, const nn_tensor *doutput,
                                        nn_tensor *dinput)
{
    (void)output;
    recurrent_layer *rnn = (recurrent_layer *)layer;
    const nn_backend *backend = exec->backend;
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_check_call(layer, exec, batch, batch_limit_of(layer)));
    call_sizes s = sizes_of(layer, batch);
    NN_TRY(check_reserved(rnn, exec, &s));
    merge_layout m = merge_of(rnn, &s);
    size_t n = m.output_floats, rows = n / (size_t)s.units;
    const float *dout = nn_tensor_f32(doutput);
    const float *outputs[2] = {rnn->merge_inputs->data,
                               (const float *)rnn->merge_inputs->data + n};
    /* The two directions' output gradients, in the merge's part of the scratch (past
     * what the directions use). */
    float *douts[2] = {exec->scratch + m.outputs,
                       exec->scratch + m.outputs + n}; /* contiguous, as concat splits */
    switch ((merge_mode)rnn->merge_mode) {
    case MERGE_CONCAT:
        backend->swap_leading_axes(douts[0], dout, (int64_t)rows, 2, s.units);
        break;
    case MERGE_SUM:
    case MERGE_AVE: {
        float scale = rnn->merge_mode == MERGE_AVE ? 0.5f : 1.0f;
        backend->scale_shift(douts[0], dout, scale, 0.0f, n);
        backend->scale_shift(douts[1], dout, scale, 0.0f, n);
        break;
    }
    case MERGE_MUL:
        backend->multiply(douts[0], dout, outputs[1], n);
        backend->multiply(douts[1], dout, outputs[0], n);
        break;
    }
    const float *mask = output_mask(rnn, exec, &s, &m);
    for (int index = 0; index < 2; index++)
        zero_masked_outputs(exec, mask, douts[index], &s, (size_t)s.units);
    float *backward_dinput = dinput ? exec->scratch + m.dinput : NULL;
    for (int index = 0; index < 2; index++) {
        direction d = direction_of(rnn, index);
        run_backward(rnn, exec, &d, nn_tensor_f32(input), &s, douts[index],
                     index == 0 ? (dinput ? nn_tensor_f32(dinput) : NULL) : backward_dinput);
    }
    if (dinput)
        backend->add(nn_tensor_f32(dinput), backward_dinput, s.inputs);
    return NN_OK;
}

static void recurrent_destroy(nn_layer *layer)
{
    recurrent_layer *rnn = (recurrent_layer *)layer;
    for (int d = 0; d < 2; d++) {
        nn_storage_release(rnn->history[d]);
        nn_storage_release(rnn->masks[d]);
        rnn->history[d] = rnn->masks[d] = NULL;
    }
    nn_storage_release(rnn->merge_inputs);
    rnn->merge_inputs = NULL;
}

nn_status nn_bidirectional_wrap(nn_layer *bidirectional, const nn_layer *recurrent)
{
    const nn_layer_class *cls = recurrent->cls;
    if (cls != &nn_simple_rnn_class && cls != &nn_lstm_class && cls != &nn_gru_class)
        return nn_error(NN_ERR_ARGUMENT, "Bidirectional wraps a SimpleRNN, LSTM or GRU layer, "
                        "got %s \"%s\"", cls->name, recurrent->name);
    recurrent_layer *to = (recurrent_layer *)bidirectional;
    const recurrent_layer *from = (const recurrent_layer *)recurrent;
    /* Every argument but the name: the fields from units to unroll. */
    size_t start = offsetof(recurrent_layer, units), end = offsetof(recurrent_layer, wrapped);
    memcpy((char *)to + start, (const char *)from + start, end - start);
    to->wrapped = (int)kind_of(recurrent);
    to->base.activity_regularizer = recurrent->activity_regularizer;
    /* A frozen layer gives frozen directions, as Keras copies its config to both. */
    to->base.trainable = recurrent->trainable;
    if (recurrent->declared_input.ndim > 0)
        to->base.declared_input = recurrent->declared_input;
    return NN_OK;
}

static void bidirectional_set_defaults(nn_layer *layer)
{
    recurrent_set_defaults(layer);
    ((recurrent_layer *)layer)->merge_mode = MERGE_CONCAT;
}

#define RECURRENT_CLASS_OPS                                                                    \
    .size = sizeof(recurrent_layer), .positional_count = 1,                                   \
    .set_defaults = recurrent_set_defaults, .validate = recurrent_validate,                   \
    .build = recurrent_build, .initialized = recurrent_initialized,                           \
    .scratch_floats = recurrent_scratch_floats, .reserve = recurrent_reserve,                 \
    .forward = recurrent_forward, .backward = recurrent_backward,                             \
    .destroy = recurrent_destroy, .mask_use = recurrent_mask_use

const nn_layer_class nn_simple_rnn_class = {
    .name = "SimpleRNN",
    .base_name = "simple_rnn",
    .doc = "A fully-connected recurrent layer: at each step the state becomes "
           "activation(input @ kernel + state @ recurrent_kernel + bias), starting from "
           "zeros. Input (batch, steps, features); output the last state (batch, units), or "
           "every step's (batch, steps, units) with return_sequences=True.",
    .example = "local r = nn.layers.SimpleRNN{4}\n"
               "print(r(nn.random.randn(32, 10, 8)).shape)   --> (32, 4)",
    .args = simple_rnn_args,
    .arg_count = (int)(sizeof simple_rnn_args / sizeof simple_rnn_args[0]),
    RECURRENT_CLASS_OPS,
};

const nn_layer_class nn_lstm_class = {
    .name = "LSTM",
    .base_name = "lstm",
    .doc = "Long Short-Term Memory: each step updates a cell state through input, forget "
           "and output gates, which lets it carry information over many steps. The kernels "
           "hold the four parts i, f, c, o side by side (4·units columns). Input (batch, "
           "steps, features); output the last state (batch, units), or every step's "
           "(batch, steps, units) with return_sequences=True.",
    .example = "local l = nn.layers.LSTM{4, return_sequences = true}\n"
               "print(l(nn.random.randn(32, 10, 8)).shape)   --> (32, 10, 4)",
    .args = lstm_args,
    .arg_count = (int)(sizeof lstm_args / sizeof lstm_args[0]),
    RECURRENT_CLASS_OPS,
};

const nn_layer_class nn_gru_class = {
    .name = "GRU",
    .base_name = "gru",
    .doc = "Gated Recurrent Unit: each step blends the previous state with a candidate "
           "through an update gate z, the candidate reading the state through a reset gate "
           "r (applied after the recurrent kernel, as Keras' default reset_after=True; the "
           "bias then has an input row and a recurrent row, shape (2, 3·units)). Input "
           "(batch, steps, features); output the last state (batch, units), or every step's "
           "with return_sequences=True.",
    .example = "local g = nn.layers.GRU{4}\n"
               "print(g(nn.random.randn(32, 10, 8)).shape)   --> (32, 4)",
    .args = gru_args,
    .arg_count = (int)(sizeof gru_args / sizeof gru_args[0]),
    RECURRENT_CLASS_OPS,
};

const nn_layer_class nn_bidirectional_class = {
    .name = "Bidirectional",
    .base_name = "bidirectional",
    .doc = "Runs a recurrent layer over the steps twice, forwards and backwards, each way "
           "with weights of its own, and merges the two outputs (side by side by default, "
           "so 2·units wide). With return_sequences=True the backward output is put back "
           "in time order, so step t of the output sees the whole sequence.",
    .example = "local b = nn.layers.Bidirectional{nn.layers.LSTM{16, return_sequences = true}}\n"
               "print(b(nn.random.randn(32, 10, 8)).shape)   --> (32, 10, 32)",
    .size = sizeof(recurrent_layer),
    .args = bidirectional_args,
    .arg_count = (int)(sizeof bidirectional_args / sizeof bidirectional_args[0]),
    .positional_count = 1,
    .set_defaults = bidirectional_set_defaults,
    .validate = recurrent_validate,
    .build = recurrent_build,
    .initialized = recurrent_initialized,
    .scratch_floats = recurrent_scratch_floats,
    .reserve = recurrent_reserve,
    .forward = bidirectional_forward,
    .backward = bidirectional_backward,
    .destroy = recurrent_destroy,
    .mask_use = recurrent_mask_use,
};
