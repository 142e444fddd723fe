/* Losses and metrics on their own, as Keras': loss(y_true, y_pred), the per-sample loss
 * functions and metric:update_state, run by the engine's loss and metric code. */
#include <float.h>
#include <stdio.h>
#include <string.h>

#include "loss.h"
#include "nn_lua.h"

/* The weak-keyed table {[metric object] = its state}: the object itself stays the plain
 * table of settings that compile reads. */
#define METRIC_STATES "nn.metric_states"
#define METRIC_STATE "nn.MetricState"
/* The class of metric objects, for help: its `methods` are update_state and the others. */
#define METRIC_CLASS "nn.Metric"

/* ---- the batch a loss or metric reads ---- */

/* y_true and y_pred read into host float32 rows of `width` outputs, with the sample
 * weights; every pointer is into tensors anchored on the Lua stack. */
typedef struct labelled_batch {
    const float *pred;    /* (rows, width) */
    float *labels;        /* (rows, width), or (rows,) class ids; a copy, free to smooth */
    const float *weights; /* (rows,), or NULL */
    int64_t rows, width;
    nn_shape pred_shape; /* as given: what the per-sample losses keep, less the last axis */
} labelled_batch;

/* A float32 tensor on the host with tensor's values, pushed (tensor itself when it is
 * one already, nothing pushed then). */
static nn_tensor *host_floats(lua_State *L, nn_tensor *tensor, const char *function)
{
    if (!nn_tensor_on_host(tensor)) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_to(slot, tensor, nn_device_cpu()), function);
        tensor = *slot;
    }
    if (tensor->dtype != NN_DTYPE_F32) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_astype(slot, tensor, NN_DTYPE_F32), function);
        tensor = *slot;
    }
    return tensor;
}

/* A new float32 tensor of shape, pushed. */
static nn_tensor *new_floats(lua_State *L, const nn_shape *shape, const char *function)
{
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, shape), function);
    return *slot;
}

/* shape without its last axis: what holds one value per sample (per row). */
static nn_shape leading_axes(const nn_shape *shape)
{
    nn_shape lead = *shape;
    lead.ndim = shape->ndim > 0 ? shape->ndim - 1 : 0;
    return lead;
}

/* shape with an axis of `size` after its own. */
static nn_shape with_axis(const nn_shape *shape, int64_t size)
{
    nn_shape longer = *shape;
    longer.dims[longer.ndim++] = size;
    return longer;
}

/* The engine's label messages begin with the loss's name ("categorical_crossentropy: "),
 * which the function's own name replaces. */
static int raise_label_error(lua_State *L, const nn_loss *loss, const char *function)
{
    const char *message = nn_error_message();
    const char *own = nn_loss_name(loss->kind);
    size_t length = strlen(own);
    if (strncmp(message, own, length) == 0 && strncmp(message + length, ": ", 2) == 0)
        message += length + 2;
    return nn_lua_error(L, "%s: %s", function, message);
}

/* y_true of the wrong shape: the shapes, and for the usual mix-up of class ids and
 * one-hot rows, the class that reads the other. */
static int raise_shape_error(lua_State *L, const nn_shape *labels, const nn_shape *pred,
                             bool sparse, const char *other_class, const char *function)
{
    char label_text[128], pred_text[128], lead_text[128], column_text[128];
    nn_shape_format(labels, label_text, sizeof label_text);
    nn_shape_format(pred, pred_text, sizeof pred_text);
    nn_shape lead = leading_axes(pred), column = with_axis(&lead, 1);
    nn_shape_format(&lead, lead_text, sizeof lead_text);
    nn_shape_format(&column, column_text, sizeof column_text);
    if (sparse) {
        bool one_hot = nn_shape_equal(labels, pred) && pred->dims[pred->ndim - 1] > 1;
        return nn_lua_error(L, "%s: y_true must hold one class id per sample, of shape %s or "
                               "%s for y_pred of shape %s; got shape %s%s%s%s",
                            function, lead_text, column_text, pred_text, label_text,
                            one_hot && other_class ? " (it looks one-hot: " : "",
                            one_hot && other_class ? other_class : "",
                            one_hot && other_class ? " reads one-hot labels)" : "");
    }
    bool ids = (nn_shape_equal(labels, &lead) || nn_shape_equal(labels, &column)) &&
               pred->dims[pred->ndim - 1] > 1;
    return nn_lua_error(L, "%s: y_true has shape %s but y_pred has shape %s%s%s%s", function,
                        label_text, pred_text,
                        ids && other_class ? " (y_true looks like class ids: " : "",
                        ids && other_class ? other_class : "",
                        ids && other_class ? " reads them, or nn.utils.to_categorical makes "
                                             "them one-hot)"
                                           : "");
}

/* Sample weights at index (nil: none) for the batch: a number for every sample, one per
 * sample ((batch,) or (batch, 1)) or one per row of an output with positions (y_pred's
 * leading axes); finite float32 numbers >= 0, as fit takes them. */
static void read_weights(lua_State *L, int index, labelled_batch *batch, const char *function)
{
    if (lua_isnoneornil(L, index)) {
        batch->weights = NULL;
        return;
    }
    nn_shape rows_shape = {.ndim = 1, .dims = {batch->rows}};
    nn_tensor *weights = new_floats(L, &rows_shape, function);
    float *values = nn_tensor_f32(weights);
    batch->weights = values;
    if (lua_type(L, index) == LUA_TNUMBER) {
        double value = lua_tonumber(L, index);
        if (!(value >= 0.0 && value <= FLT_MAX))
            nn_lua_error(L, "%s: sample_weight must be a finite number >= 0, got %g", function,
                         value);
        for (int64_t r = 0; r < batch->rows; r++)
            values[r] = (float)value;
        return;
    }
    nn_tensor *given = host_floats(L, nn_lua_to_tensor(L, index, function, "sample_weight"),
                                   function);
    const nn_shape *shape = &given->shape, *pred = &batch->pred_shape;
    /* A 1-D y_pred is one sample. */
    int64_t samples = pred->ndim > 1 ? pred->dims[0] : 1;
    int64_t per_sample = batch->rows / samples;
    nn_shape lead = leading_axes(pred);
    bool one_each = shape->ndim >= 1 && shape->dims[0] == samples &&
                    (shape->ndim == 1 || (shape->ndim == 2 && shape->dims[1] == 1));
    bool one_per_row = pred->ndim > 2 && nn_shape_equal(shape, &lead);
    if (!one_each && !one_per_row) {
        char shape_text[128], pred_text[128];
        nn_lua_error(L, "%s: sample_weight must hold one weight per sample, %lld for y_pred of "
                        "shape %s, got shape %s",
                     function, (long long)samples,
                     nn_shape_format(pred, pred_text, sizeof pred_text),
                     nn_shape_format(shape, shape_text, sizeof shape_text));
    }
    const float *given_values = nn_tensor_f32(given);
    for (int64_t r = 0; r < batch->rows; r++) {
        float value = given_values[one_per_row ? r : r / per_sample];
        if (!(value >= 0.0f && value <= FLT_MAX)) {
            char text[32];
            nn_lua_error(L, "%s: sample_weight must be finite numbers >= 0, got %s for sample %lld",
                         function, nn_lua_number_text(value, text, sizeof text),
                         (long long)(r / per_sample) + 1);
        }
        values[r] = value;
    }
}

/* Reads y_true (at first), y_pred (first + 1) and sample_weight (at weight_index, 0 when
 * the call takes none) for a loss or metric: y_pred's last axis holds each sample's
 * outputs (a 1-D y_pred is one sample, as Keras reads it); y_true holds a class id per
 * sample when check_loss is the sparse one, else y_pred's shape (or one label per sample
 * for one output), and check_loss checks its values. other_class: the class a mix-up of
 * class ids and one-hot labels wants (NULL: none). */
static labelled_batch read_batch(lua_State *L, int first, int weight_index,
                                 const nn_loss *check_loss, const char *other_class,
                                 const char *function)
{
    bool sparse = check_loss->kind == NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY;
    nn_tensor *y_true = nn_lua_to_tensor(L, first, function, "y_true");
    nn_tensor *y_pred = nn_lua_to_tensor(L, first + 1, function, "y_pred");
    labelled_batch batch = {.pred_shape = y_pred->shape, .weights = NULL};
    const nn_shape *pred = &y_pred->shape, *labels = &y_true->shape;
    char text[128];
    if (pred->ndim < 1)
        nn_lua_error(L, "%s: y_pred must have an axis of outputs (its last axis holds each "
                        "sample's outputs), got a single number",
                     function);
    size_t count = nn_tensor_count(y_pred);
    if (count == 0)
        nn_lua_error(L, "%s: y_pred is empty (shape %s)", function,
                     nn_shape_format(pred, text, sizeof text));
    batch.width = pred->dims[pred->ndim - 1];
    batch.rows = (int64_t)count / batch.width;
    nn_shape lead = leading_axes(pred), column = with_axis(&lead, 1);
    bool fits = sparse ? nn_shape_equal(labels, &lead) || nn_shape_equal(labels, &column)
                       : nn_shape_equal(labels, pred) ||
                             (batch.width == 1 && nn_shape_equal(labels, &lead));
    if (!fits)
        raise_shape_error(L, labels, pred, sparse, other_class, function);

    batch.pred = nn_tensor_f32(host_floats(L, y_pred, function));
    /* The labels are copied: the loss smooths them in place. */
    nn_tensor *host_labels = host_floats(L, y_true, function);
    nn_tensor *copy = new_floats(L, &host_labels->shape, function);
    memcpy(nn_tensor_f32(copy), nn_tensor_f32(host_labels), nn_tensor_bytes(copy));
    batch.labels = nn_tensor_f32(copy);

    /* The engine checks the values (class ids in range, finite, binary targets in [0, 1])
     * of labels for an output of rows: a 1-D y_pred is the one row of (1, width). */
    nn_shape output = *pred, label_rows = copy->shape;
    if (pred->ndim == 1) {
        output = (nn_shape){.ndim = 2, .dims = {1, batch.width}};
        label_rows.ndim = label_rows.ndim + 1;
        memmove(&label_rows.dims[1], &label_rows.dims[0],
                (size_t)copy->shape.ndim * sizeof label_rows.dims[0]);
        label_rows.dims[0] = 1;
    }
    nn_tensor **view = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_reshape(view, copy, &label_rows), function);
    if (nn_loss_check_labels(check_loss, &output, *view) != NN_OK)
        raise_label_error(L, check_loss, function);
    if (weight_index > 0)
        read_weights(L, weight_index, &batch, function);
    return batch;
}

/* The class that reads the other label layout than this loss, for the messages. */
static const char *loss_other_class(nn_loss_kind kind)
{
    switch (kind) {
    case NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY:
        return "nn.losses.CategoricalCrossentropy";
    case NN_LOSS_CATEGORICAL_CROSSENTROPY:
        return "nn.losses.SparseCategoricalCrossentropy";
    default:
        return NULL;
    }
}

/* Smooths the labels as training does (nn_loss_label_map), for the loss only. */
static void smooth_labels(const nn_loss *loss, labelled_batch *batch)
{
    float scale, offset;
    if (!nn_loss_label_map(loss, batch->width, &scale, &offset))
        return;
    size_t n = (size_t)batch->rows * (size_t)batch->width;
    for (size_t i = 0; i < n; i++)
        batch->labels[i] = batch->labels[i] * scale + offset;
}

/* ---- losses ---- */

/* loss(y_true, y_pred [, sample_weight]), the __call of nn.losses objects: the mean loss
 * as training computes it (Keras' "sum over batch size": the rows' losses times their
 * weights, summed, over the rows). */
static int l_loss_call(lua_State *L)
{
    /* The class's name, which help finds the class by too: its metatable's __name. */
    char function[96] = "loss";
    int type = luaL_getmetafield(L, 1, "__name");
    if (type == LUA_TSTRING)
        snprintf(function, sizeof function, "%s", lua_tostring(L, -1));
    if (type != LUA_TNIL)
        lua_pop(L, 1);
    char usage[160];
    snprintf(usage, sizeof usage, "%s{...}(y_true, y_pred [, sample_weight])", function);
    nn_lua_check_no_more_call_arguments(L, 4, function, usage);
    lua_settop(L, 4);
    nn_loss loss;
    nn_lua_parse_loss(L, 1, &loss, function);
    if (nn_loss_check(&loss) != NN_OK)
        raise_label_error(L, &loss, function);
    labelled_batch batch = read_batch(L, 2, 4, &loss, loss_other_class(loss.kind), function);
    smooth_labels(&loss, &batch);
    nn_activation linear = {.kind = NN_ACTIVATION_LINEAR};
    lua_pushnumber(L, nn_loss_forward_backward(&loss, linear, NULL, batch.pred, NULL,
                                               batch.labels, batch.weights, batch.rows,
                                               batch.width));
    return 1;
}

/* nn.losses.<name>(y_true, y_pred [, options]), Keras' loss functions: one loss per
 * sample (per row of y_pred's leading axes), a tensor of y_pred's shape less its last
 * axis. The name is the closure's upvalue; options the loss's settings (from_logits,
 * label_smoothing, delta). */
static int l_loss_rows(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    char function[96], usage[160];
    snprintf(function, sizeof function, "nn.losses.%s", name);
    snprintf(usage, sizeof usage, "%s(y_true, y_pred [, {options}])", function);
    nn_lua_check_no_more_arguments(L, 3, function, usage);
    lua_settop(L, 3);
    /* The options become a loss table {name = name, ...}, which compile's parser checks. */
    lua_createtable(L, 0, 4);
    if (!lua_isnil(L, 3)) {
        if (!lua_istable(L, 3) || nn_lua_test_tensor(L, 3))
            nn_lua_error(L, "%s: the third argument is a table of options such as "
                            "{from_logits = true}, got %s (sample weights go to the loss "
                            "objects: nn.losses.X{}(y_true, y_pred, sample_weight))",
                         function, nn_lua_typename(L, 3));
        /* The loss's settings less its name, which the function is. */
        nn_loss named;
        nn_lua_check(L, nn_loss_parse(name, &named), function);
        const char *const *settings = nn_lua_loss_options(named.kind) + 1;
        lua_pushnil(L);
        if (!settings[0] && lua_next(L, 3))
            nn_lua_error(L, "%s: takes no options, got %s", function,
                         luaL_tolstring(L, -2, NULL));
        lua_settop(L, 4);
        nn_lua_check_option_names(L, 3, function, settings, 0);
        lua_pushnil(L);
        while (lua_next(L, 3)) { /* key, value: the copy takes both, the key stays */
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_settable(L, 4);
        }
    }
    lua_pushstring(L, name);
    lua_setfield(L, 4, "name");
    nn_loss loss;
    nn_lua_parse_loss(L, 4, &loss, function);
    if (nn_loss_check(&loss) != NN_OK)
        raise_label_error(L, &loss, function);
    labelled_batch batch = read_batch(L, 1, 0, &loss, loss_other_class(loss.kind), function);
    smooth_labels(&loss, &batch);
    nn_shape lead = leading_axes(&batch.pred_shape);
    nn_tensor *out = new_floats(L, &lead, function);
    int out_index = lua_gettop(L);
    /* The rows' doubles, until they are rounded: memory Lua collects. */
    double *row_losses = lua_newuserdatauv(L, (size_t)batch.rows * sizeof *row_losses, 0);
    nn_loss_rows(&loss, row_losses, batch.pred, batch.labels, batch.rows, batch.width);
    float *values = nn_tensor_f32(out);
    for (int64_t r = 0; r < batch.rows; r++)
        values[r] = (float)row_losses[r];
    lua_pushvalue(L, out_index);
    return 1;
}

const char *nn_lua_loss_function_name(lua_State *L, int index)
{
    return nn_lua_closure_name(L, index, l_loss_rows);
}

/* nn._loss_function(name) -> the per-sample function of the loss called name. */
static int l_loss_function(lua_State *L)
{
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    lua_pushcclosure(L, l_loss_rows, 1);
    return 1;
}

/* ---- metrics ---- */

/* What a metric object has counted since it was made or reset: the sums fit keeps over an
 * epoch. Plain memory, no resources: Lua frees it. */
typedef struct metric_state {
    nn_metric metric;
    double sum;         /* the rows' values (weighted), or the true positives */
    double denominator; /* the rows (their weights' sum), or the positives predicted/actual */
    int thresholds;     /* AUC's buckets, 0 for the others */
    double counts[];    /* AUC: 2 * thresholds counts (nn_metric_curve_counts) */
} metric_state;

/* "nn.metrics.Precision:update_state": the object's class (its metatable's __name) and the
 * method, into text. */
static const char *method_name(lua_State *L, const char *method, char *text, size_t size)
{
    int type = luaL_getmetafield(L, 1, "__name");
    snprintf(text, size, "%s:%s", type == LUA_TSTRING ? lua_tostring(L, -1) : "metric", method);
    if (type != LUA_TNIL)
        lua_pop(L, 1);
    return text;
}

/* The metric the object at index 1 stands for, from its settings as they are now. */
static void read_metric_object(lua_State *L, nn_metric *metric, const char *function)
{
    if (!lua_istable(L, 1) || luaL_getmetafield(L, 1, "__index") == LUA_TNIL) {
        char hint[160];
        nn_lua_error(L, "%s: expected a metric object from nn.metrics, got %s%s", function,
                     nn_lua_typename(L, 1), nn_lua_colon_hint(1, function, hint, sizeof hint));
    }
    lua_pop(L, 1);
    nn_lua_parse_metric(L, 1, NULL, metric, function);
}

/* The state of the metric object at index 1, made on first use. Its settings are read
 * afresh each time, as Keras reads them at each update: m.thresholds = 0.9 counts the
 * next batches at 0.9. Only AUC's number of buckets cannot change under counts already
 * made. */
static metric_state *state_of(lua_State *L, const char *function)
{
    nn_metric metric;
    read_metric_object(L, &metric, function);
    int thresholds = nn_metric_curve_thresholds(&metric);
    lua_getfield(L, LUA_REGISTRYINDEX, METRIC_STATES);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TUSERDATA) {
        metric_state *state = lua_touserdata(L, -1);
        lua_pop(L, 2);
        if (state->metric.kind != metric.kind)
            nn_lua_error(L, "%s: the metric's class changed from %s to %s while counts are "
                            "kept; call reset_state() first",
                         function, nn_metric_kind_name(state->metric.kind),
                         nn_metric_kind_name(metric.kind));
        if (state->thresholds != thresholds)
            nn_lua_error(L, "%s: num_thresholds changed from %d to %d while counts are kept; "
                            "call reset_state() first",
                         function, state->thresholds, thresholds);
        state->metric = metric;
        return state;
    }
    lua_pop(L, 1);
    metric_state *state = lua_newuserdatauv(
        L, sizeof *state + 2 * (size_t)thresholds * sizeof state->counts[0], 0);
    memset(state, 0, sizeof *state + 2 * (size_t)thresholds * sizeof state->counts[0]);
    state->metric = metric;
    state->thresholds = thresholds;
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -2);
    lua_rawset(L, -4); /* states[object] = state */
    lua_pop(L, 2);
    return state;
}

/* Forgets the counts of the metric object at index 1: the next use starts afresh, with
 * the settings it then has. */
static void drop_state(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, METRIC_STATES);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Whether the metric reads one class id per sample. */
static bool metric_reads_class_ids(nn_metric_kind kind)
{
    return kind == NN_METRIC_SPARSE_CATEGORICAL_ACCURACY ||
           kind == NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY;
}

/* The class reading the other label layout, for the messages. */
static const char *metric_other_class(nn_metric_kind kind)
{
    switch (kind) {
    case NN_METRIC_SPARSE_CATEGORICAL_ACCURACY:
        return "nn.metrics.CategoricalAccuracy";
    case NN_METRIC_SPARSE_TOP_K_CATEGORICAL_ACCURACY:
        return "nn.metrics.TopKCategoricalAccuracy";
    case NN_METRIC_CATEGORICAL_ACCURACY:
        return "nn.metrics.SparseCategoricalAccuracy";
    case NN_METRIC_TOP_K_CATEGORICAL_ACCURACY:
        return "nn.metrics.SparseTopKCategoricalAccuracy";
    default:
        return NULL;
    }
}

/* metric:update_state(y_true, y_pred [, sample_weight]): adds the batch to the totals, as
 * fit adds each batch to an epoch's; with sample weights, a weighted metric's. */
static int metric_update_state(lua_State *L)
{
    char function[96];
    method_name(L, "update_state", function, sizeof function);
    nn_lua_check_no_more_arguments(L, 4, function,
                                   "metric:update_state(y_true, y_pred [, sample_weight])");
    lua_settop(L, 4);
    metric_state *state = state_of(L, function);
    const nn_metric *metric = &state->metric;
    /* The labels' values are checked as a loss reading the same layout checks them: class
     * ids in range, or finite values. */
    nn_loss check_loss = {.kind = metric_reads_class_ids(metric->kind)
                                      ? NN_LOSS_SPARSE_CATEGORICAL_CROSSENTROPY
                                      : NN_LOSS_MEAN_SQUARED_ERROR,
                          .delta = 1.0};
    labelled_batch batch = read_batch(L, 2, 4, &check_loss, metric_other_class(metric->kind),
                                      function);
    if (metric->has_class_id && metric->class_id >= batch.width)
        nn_lua_error(L, "%s: the metric counts class_id %d, but y_pred has %lld classes "
                        "(0 to %lld)",
                     function, metric->class_id, (long long)batch.width,
                     (long long)batch.width - 1);
    if (state->thresholds > 0) {
        nn_metric_curve_counts(state->counts, batch.pred, batch.labels, batch.weights,
                               batch.rows * batch.width, batch.width, state->thresholds);
        return 0;
    }
    /* Precision and recall divide by their positives, the means by the rows (the weights'
     * sum with sample weights), both summed beside the metric as fit sums them. */
    nn_metric denominator = *metric;
    denominator.kind = nn_metric_denominator(metric->kind) != NN_METRIC_COUNT
                           ? nn_metric_denominator(metric->kind)
                           : NN_METRIC_ROW_WEIGHT;
    state->sum += nn_metric_weighted_sum(metric, batch.pred, batch.labels, batch.weights,
                                         batch.rows, batch.width);
    state->denominator += nn_metric_weighted_sum(&denominator, batch.pred, batch.labels,
                                                 batch.weights, batch.rows, batch.width);
    return 0;
}

/* metric:result() -> the metric over everything counted since it was made or reset (0
 * before anything is, as Keras). */
static int metric_result(lua_State *L)
{
    char function[96];
    method_name(L, "result", function, sizeof function);
    nn_lua_check_no_more_arguments(L, 1, function, "metric:result()");
    metric_state *state = state_of(L, function);
    lua_pushnumber(L, state->thresholds > 0
                          ? nn_metric_curve_area(&state->metric, state->counts,
                                                 state->thresholds)
                          : nn_metric_finish(&state->metric, state->sum, state->denominator));
    return 1;
}

/* metric:reset_state(): forgets what was counted. */
static int metric_reset_state(lua_State *L)
{
    char function[96];
    method_name(L, "reset_state", function, sizeof function);
    nn_lua_check_no_more_arguments(L, 1, function, "metric:reset_state()");
    nn_metric metric;
    read_metric_object(L, &metric, function); /* the object and its settings are sound */
    drop_state(L);
    return 0;
}

static const luaL_Reg metric_methods[] = {
    {"update_state", metric_update_state},
    {"result", metric_result},
    {"reset_state", metric_reset_state},
    {NULL, NULL},
};

void nn_lua_open_losses(lua_State *L)
{
    lua_newtable(L); /* the metric objects' states, weak-keyed */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, METRIC_STATES);

    luaL_newmetatable(L, METRIC_CLASS);
    luaL_newlib(L, metric_methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");
    lua_setfield(L, -3, "_metric_methods"); /* nn._metric_methods, for the prelude */
    lua_pop(L, 1);

    lua_pushcfunction(L, l_loss_call);
    lua_setfield(L, -2, "_loss_call");
    lua_pushcfunction(L, l_loss_function);
    lua_setfield(L, -2, "_loss_function");
}
