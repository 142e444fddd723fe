/* Saving and loading models: the architecture and settings as JSON in the safetensors
 * metadata, weights and optimizer state as F32 tensors. Loading checks the whole file
 * against the architecture it describes before the model allocates anything. */
#include "model_file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_config.h"

#ifndef NNSH_VERSION
#define NNSH_VERSION "unknown"
#endif

/* More layers than any model of ours: a file claiming more is refused before any layer
 * is created. */
enum { MAX_FILE_LAYERS = 4096 };

/* Tensor names are "<layer>/<weight>" and "optimizer/<slot>/<layer>/<weight>". */
enum { TENSOR_NAME_CAPACITY = 2 * NN_NAME_CAPACITY + 64 };

static const char KEY_FORMAT[] = "nnsh.format";
static const char KEY_VERSION[] = "nnsh.format_version";
static const char KEY_WRITER[] = "nnsh.writer";
static const char KEY_ARCHITECTURE[] = "nnsh.architecture";
static const char KEY_COMPILE[] = "nnsh.compile";
static const char KEY_OPTIMIZER_STATE[] = "nnsh.optimizer_state";
static const char KEY_TRAINING[] = "nnsh.training";

/* ---- walking the weights ---- */

/* Calls visit for every weight in the order of the model's buffer: trainable weights
 * first, then the others, each group in layer order. */
typedef nn_status (*weight_visitor)(void *context, nn_layer *layer, nn_param *param);

static nn_status visit_weights(nn_model *model, bool trainable_only, weight_visitor visit,
                               void *context)
{
    for (int pass = 0; pass < (trainable_only ? 1 : 2); pass++)
        for (int i = 0; i < model->layer_count; i++)
            for (int p = 0; p < model->layers[i]->param_count; p++) {
                nn_param *param = &model->layers[i]->params[p];
                if (nn_param_trains(model->layers[i], param) == (pass == 0))
                    NN_TRY(visit(context, model->layers[i], param));
            }
    return NN_OK;
}

static void weight_name(char *out, const nn_layer *layer, const nn_param *param)
{
    snprintf(out, TENSOR_NAME_CAPACITY, "%s/%s", layer->name, param->name);
}

static void slot_tensor_name(char *out, const char *slot, const nn_layer *layer,
                             const nn_param *param)
{
    snprintf(out, TENSOR_NAME_CAPACITY, "optimizer/%s/%s/%s", slot, layer->name, param->name);
}

/* ---- saving ---- */

/* The tensors and metadata of one file being written. */
typedef struct save_plan {
    nn_safetensors_entry *entries;
    char (*names)[TENSOR_NAME_CAPACITY];
    size_t count, capacity;
    nn_optimizer *optimizer; /* whose slots are saved, or NULL */
    int slot;                /* the slot being listed */
    /* Host copies of the weights and the optimizer's slots: the model's own memory on
     * the CPU, a snapshot read back from a device. */
    const float *weights;
    const float *slots[3];
    float *copies[4];        /* what save allocated for the snapshots */
} save_plan;

static nn_status plan_add(save_plan *plan, const char *name, const nn_shape *shape,
                          const void *data)
{
    if (plan->count == plan->capacity)
        return nn_error(NN_ERR_STATE, "internal: too many tensors to save");
    snprintf(plan->names[plan->count], TENSOR_NAME_CAPACITY, "%s", name);
    plan->entries[plan->count] = (nn_safetensors_entry){.name = plan->names[plan->count],
                                                        .dtype = NN_SAFETENSORS_F32,
                                                        .shape = *shape,
                                                        .data = data};
    plan->count++;
    return NN_OK;
}

static nn_status plan_weight(void *context, nn_layer *layer, nn_param *param)
{
    char name[TENSOR_NAME_CAPACITY];
    weight_name(name, layer, param);
    save_plan *plan = context;
    return plan_add(plan, name, &param->shape, plan->weights + nn_model_weight_offset(param));
}

static nn_status plan_slot(void *context, nn_layer *layer, nn_param *param)
{
    save_plan *plan = context;
    char name[TENSOR_NAME_CAPACITY];
    slot_tensor_name(name, nn_optimizer_slot_name(plan->optimizer, plan->slot), layer, param);
    return plan_add(plan, name, &param->shape,
                    plan->slots[plan->slot] + nn_model_weight_offset(param));
}

/* Names must be unique (they name the tensors) and UTF-8 (the header is JSON). */
static nn_status check_layer_names(const nn_model *model)
{
    for (int i = 0; i < model->layer_count; i++) {
        const char *name = model->layers[i]->name;
        if (!nn_utf8_valid(name, strlen(name)))
            return nn_error(NN_ERR_ARGUMENT, "layer %d's name is not valid UTF-8; rename it",
                            i + 1);
        if (strchr(name, '/'))
            return nn_error(NN_ERR_ARGUMENT, "layer \"%s\": a name with '/' would make "
                            "ambiguous weight names; rename it", name);
        for (int j = 0; j < i; j++)
            if (strcmp(model->layers[j]->name, name) == 0)
                return nn_error(NN_ERR_ARGUMENT, "layers %d and %d are both named \"%s\"; "
                                "give them different names (name='...')", j + 1, i + 1, name);
    }
    return NN_OK;
}

static cJSON *architecture_json(const nn_model *model)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *config = cJSON_CreateObject();
    cJSON *layers = cJSON_CreateArray();
    bool ok = root && config && layers;
    ok = ok && cJSON_AddStringToObject(root, "class_name", "Sequential");
    ok = ok && cJSON_AddStringToObject(config, "name", model->name);
    for (int i = 0; ok && i < model->layer_count; i++) {
        cJSON *entry = nn_json_layer_write(model->layers[i]);
        ok = entry && cJSON_AddItemToArray(layers, entry);
        if (!ok)
            cJSON_Delete(entry);
    }
    if (ok && cJSON_AddItemToObject(config, "layers", layers))
        layers = NULL;
    else
        ok = false;
    if (ok && cJSON_AddItemToObject(root, "config", config))
        config = NULL;
    else
        ok = false;
    cJSON *shape = model->built ? nn_json_shape(&model->input_shape) : cJSON_CreateNull();
    if (!(ok && shape && cJSON_AddItemToObject(root, "build_input_shape", shape))) {
        cJSON_Delete(shape);
        ok = false;
    }
    cJSON_Delete(layers);
    cJSON_Delete(config);
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* A metric as its name ("accuracy"), or, for a metric object with its own name or
 * settings, {"class": "top_k_categorical_accuracy", "name": "top3", "k": 3} (also
 * "threshold", "num_thresholds", "class_id", and AUC's "curve" and "summation_method"
 * where they are not Keras' defaults). */
static cJSON *metric_json(const nn_metric *metric, const nn_loss *loss)
{
    if (nn_metric_is_plain(metric, loss))
        return cJSON_CreateString(metric->name);
    cJSON *object = cJSON_CreateObject();
    bool ok = object && cJSON_AddStringToObject(object, "class",
                                                nn_metric_kind_name(metric->kind)) &&
              cJSON_AddStringToObject(object, "name", metric->name);
    if (ok && metric->top_k > 0)
        ok = cJSON_AddNumberToObject(object, "k", metric->top_k) != NULL;
    if (ok && metric->has_threshold)
        ok = cJSON_AddNumberToObject(object, "threshold", metric->threshold) != NULL;
    if (ok && metric->thresholds > 0)
        ok = cJSON_AddNumberToObject(object, "num_thresholds", metric->thresholds) != NULL;
    if (ok && metric->has_class_id)
        ok = cJSON_AddNumberToObject(object, "class_id", metric->class_id) != NULL;
    if (ok && metric->curve != NN_AUC_ROC)
        ok = cJSON_AddStringToObject(object, "curve", nn_auc_curve_name(metric->curve));
    if (ok && metric->summation != NN_AUC_INTERPOLATION)
        ok = cJSON_AddStringToObject(object, "summation_method",
                                     nn_auc_summation_name(metric->summation));
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* A whole number in [low, high] for a metric's setting in a file. */
static nn_status metric_integer_read(const cJSON *item, const char *setting, int64_t low,
                                     int64_t high, int64_t *out)
{
    double value = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!(value >= (double)low && value <= (double)high && value == floor(value)))
        return nn_error(NN_ERR_FORMAT, "a metric's %s must be an integer from %lld to %lld",
                        setting, (long long)low, (long long)high);
    *out = (int64_t)value;
    return NN_OK;
}

/* The settings of a metric object from a file, checked as nn.metrics checks them. */
static nn_status metric_settings_read(nn_metric *metric, const cJSON *const fields[8],
                                      const nn_loss *loss)
{
    NN_TRY(nn_metric_parse(fields[0]->valuestring, loss, metric));
    NN_TRY(nn_metric_set_name(metric, fields[1]->valuestring));
    int64_t value = 0;
    if (fields[2]) {
        NN_TRY(metric_integer_read(fields[2], "k", 1, INT32_MAX, &value));
        NN_TRY(nn_metric_set_top_k(metric, value));
    }
    if (fields[3] && !cJSON_IsNumber(fields[3]))
        return nn_error(NN_ERR_FORMAT, "a metric's threshold must be a number, got %s",
                        nn_json_type_name(fields[3]));
    if (fields[3])
        NN_TRY(nn_metric_set_threshold(metric, fields[3]->valuedouble));
    if (fields[4]) {
        NN_TRY(metric_integer_read(fields[4], "num_thresholds", 2, NN_METRIC_CURVE_FLOATS / 2,
                                   &value));
        NN_TRY(nn_metric_set_thresholds(metric, value));
    }
    if (fields[5]) {
        NN_TRY(metric_integer_read(fields[5], "class_id", 0, INT32_MAX, &value));
        NN_TRY(nn_metric_set_class_id(metric, value));
    }
    for (int i = 6; i < 8; i++)
        if (fields[i] && !cJSON_IsString(fields[i]))
            return nn_error(NN_ERR_FORMAT, "a metric's %s must be a string, got %s",
                            i == 6 ? "curve" : "summation_method",
                            nn_json_type_name(fields[i]));
    if (fields[6])
        NN_TRY(nn_metric_set_curve(metric, fields[6]->valuestring));
    if (fields[7])
        NN_TRY(nn_metric_set_summation(metric, fields[7]->valuestring));
    return NN_OK;
}

/* The metric a file keeps (metric_json), checked as compile checks it. */
static nn_status metric_read(nn_metric *metric, const cJSON *item, const nn_loss *loss,
                             const char *where)
{
    if (cJSON_IsString(item)) {
        if (nn_metric_parse(item->valuestring, loss, metric) != NN_OK)
            return nn_error_prefix(NN_ERR_FORMAT, "%s", where);
        return NN_OK;
    }
    if (!cJSON_IsObject(item))
        return nn_error(NN_ERR_FORMAT, "%s: a metric must be a name or an object, got %s",
                        where, nn_json_type_name(item));
    static const char *const names[] = {"class",          "name",     "k",     "threshold",
                                        "num_thresholds", "class_id", "curve", "summation_method"};
    const cJSON *fields[8];
    NN_TRY(nn_json_fields(item, names, 8, fields, where, "a metric"));
    if (!cJSON_IsString(fields[0]) || !cJSON_IsString(fields[1]))
        return nn_error(NN_ERR_FORMAT, "%s: a metric object needs a class and a name", where);
    if (metric_settings_read(metric, fields, loss) != NN_OK)
        return nn_error_prefix(NN_ERR_FORMAT, "%s", where);
    return NN_OK;
}

static cJSON *compile_json(const nn_model *model)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *loss = nn_json_loss_write(&model->loss);
    bool ok = root && loss && cJSON_AddItemToObject(root, "loss", loss);
    if (!ok)
        cJSON_Delete(loss);
    cJSON *metrics = ok ? cJSON_AddArrayToObject(root, "metrics") : NULL;
    ok = metrics != NULL;
    int first_weighted = model->metric_count - model->weighted_metric_count;
    for (int i = 0; ok && i < first_weighted; i++) {
        cJSON *item = metric_json(&model->metrics[i], &model->loss);
        ok = item && cJSON_AddItemToArray(metrics, item);
        if (!ok)
            cJSON_Delete(item);
    }
    /* Written only when there are some, so files stay as they were without them. */
    cJSON *weighted = ok && model->weighted_metric_count > 0
                          ? cJSON_AddArrayToObject(root, "weighted_metrics")
                          : NULL;
    ok = ok && (model->weighted_metric_count == 0 || weighted != NULL);
    for (int i = first_weighted; ok && i < model->metric_count; i++) {
        cJSON *item = metric_json(&model->metrics[i], &model->loss);
        ok = item && cJSON_AddItemToArray(weighted, item);
        if (!ok)
            cJSON_Delete(item);
    }
    cJSON *optimizer = ok ? nn_json_optimizer_write(&model->optimizer_config) : NULL;
    ok = optimizer != NULL;
    if (ok && model->decay_exclusion_count > 0) {
        /* The weights weight decay spares, by a part of their names (model->decay_exclusions). */
        const char *names[NN_MAX_DECAY_EXCLUSIONS];
        for (int i = 0; i < model->decay_exclusion_count; i++)
            names[i] = model->decay_exclusions[i];
        cJSON *list = cJSON_CreateStringArray(names, model->decay_exclusion_count);
        ok = list && cJSON_AddItemToObject(optimizer, "exclude_from_weight_decay", list);
        if (!ok)
            cJSON_Delete(list);
    }
    ok = ok && cJSON_AddItemToObject(root, "optimizer", optimizer);
    if (!ok) {
        cJSON_Delete(optimizer);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static cJSON *optimizer_state_json(const nn_optimizer *optimizer)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *iterations = nn_json_uint64((uint64_t)optimizer->iterations);
    bool ok = root && iterations && cJSON_AddItemToObject(root, "iterations", iterations);
    if (!ok)
        cJSON_Delete(iterations);
    cJSON *slots = ok ? cJSON_AddArrayToObject(root, "slots") : NULL;
    ok = slots != NULL;
    for (int s = 0; ok && s < optimizer->slot_count; s++) {
        cJSON *name = cJSON_CreateString(nn_optimizer_slot_name(optimizer, s));
        ok = name && cJSON_AddItemToArray(slots, name);
        if (!ok)
            cJSON_Delete(name);
    }
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

static cJSON *training_json(const nn_model *model, int epochs_done)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *step = nn_json_uint64(model->step);
    bool ok = root && step && cJSON_AddItemToObject(root, "step", step);
    if (!ok)
        cJSON_Delete(step);
    if (ok && epochs_done >= 0)
        ok = cJSON_AddNumberToObject(root, "epoch", epochs_done) != NULL;
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Prints a tree as compact JSON text and frees the tree. */
static char *print_and_free(cJSON *tree)
{
    char *text = tree ? cJSON_PrintUnformatted(tree) : NULL;
    cJSON_Delete(tree);
    return text;
}

typedef enum save_kind { SAVE_MODEL, SAVE_WEIGHTS, SAVE_BACKUP } save_kind;

/* Host memory of `count` floats, kept in plan->copies[index] for save to free. */
static float *snapshot_buffer(save_plan *plan, int index, size_t count)
{
    plan->copies[index] = malloc((count ? count : 1) * sizeof(float));
    if (!plan->copies[index])
        nn_error(NN_ERR_MEMORY, "out of memory for a copy of %zu weights", count);
    return plan->copies[index];
}

/* Points plan->weights and plan->slots at host copies of the model's weights and of the
 * optimizer's state (dropping an optimizer whose state belongs to an older set of
 * weights). On the CPU they are the model's own memory. */
static nn_status snapshot_state(nn_model *model, save_plan *plan)
{
    if (!model->built)
        return NN_OK;
    plan->weights = nn_model_weights(model);
    if (!plan->weights) {
        float *copy = snapshot_buffer(plan, 0, model->weight_count);
        if (!copy)
            return NN_ERR_MEMORY;
        NN_TRY(nn_model_read_weights(model, copy));
        plan->weights = copy;
    }
    nn_optimizer *optimizer = plan->optimizer;
    if (optimizer && optimizer->count != model->trainable_count)
        plan->optimizer = optimizer = NULL; /* nothing to save */
    for (int s = 0; optimizer && s < optimizer->slot_count; s++) {
        if (optimizer->device.kind == NN_DEVICE_CPU) {
            plan->slots[s] = optimizer->slots[s];
            continue;
        }
        float *copy = snapshot_buffer(plan, 1 + s, optimizer->count);
        if (!copy)
            return NN_ERR_MEMORY;
        NN_TRY(nn_optimizer_read_slot(optimizer, s, copy));
        plan->slots[s] = copy;
    }
    return NN_OK;
}

static nn_status save(nn_model *model, const char *path, save_kind kind, bool include_optimizer,
                      int epochs_done)
{
    NN_TRY(check_layer_names(model));
    if (kind == SAVE_WEIGHTS && !model->built)
        return nn_error(NN_ERR_STATE, "model \"%s\" has no weights yet: build it first (give "
                        "the first layer input_shape, call build, or train it)", model->name);
    /* Gathering first: a layer frozen or thawed since the last run restarts the optimizer,
     * which must not be read before that. */
    nn_status gathered = model->built ? nn_model_gather_weights(model) : NN_OK;
    if (gathered != NN_OK)
        return nn_error_prefix(gathered, "cannot save '%s'", path);
    nn_optimizer *optimizer = include_optimizer && kind != SAVE_WEIGHTS ? model->optimizer : NULL;
    save_plan plan = {.optimizer = optimizer};
    nn_status snapshot = snapshot_state(model, &plan);
    if (snapshot != NN_OK) {
        for (size_t i = 0; i < sizeof plan.copies / sizeof plan.copies[0]; i++)
            free(plan.copies[i]);
        return nn_error_prefix(snapshot, "cannot save '%s'", path);
    }
    optimizer = plan.optimizer;
    int tensors = 0;
    for (int i = 0; i < model->layer_count; i++)
        tensors += model->layers[i]->param_count;
    plan.capacity = (size_t)tensors * (size_t)(1 + (optimizer ? optimizer->slot_count : 0));
    plan.entries = calloc(plan.capacity ? plan.capacity : 1, sizeof *plan.entries);
    plan.names = calloc(plan.capacity ? plan.capacity : 1, sizeof *plan.names);
    char *texts[4] = {NULL};
    nn_status status = NN_OK;
    if (!plan.entries || !plan.names)
        status = nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
    if (status == NN_OK && model->built)
        status = visit_weights(model, false, plan_weight, &plan);
    for (int s = 0; status == NN_OK && optimizer && s < optimizer->slot_count; s++) {
        plan.slot = s;
        status = visit_weights(model, true, plan_slot, &plan);
    }

    nn_safetensors_pair metadata[8];
    size_t metadata_count = 0;
    metadata[metadata_count++] = (nn_safetensors_pair){KEY_FORMAT,
                                                       kind == SAVE_WEIGHTS ? "weights" : "model"};
    metadata[metadata_count++] = (nn_safetensors_pair){KEY_VERSION, NN_MODEL_FILE_VERSION};
    metadata[metadata_count++] = (nn_safetensors_pair){KEY_WRITER, "nnsh " NNSH_VERSION};
    if (status == NN_OK && kind != SAVE_WEIGHTS) {
        const char *keys[4] = {KEY_ARCHITECTURE, KEY_COMPILE, KEY_OPTIMIZER_STATE, KEY_TRAINING};
        cJSON *trees[4] = {architecture_json(model),
                           model->compiled ? compile_json(model) : NULL,
                           optimizer ? optimizer_state_json(optimizer) : NULL,
                           training_json(model, kind == SAVE_BACKUP ? epochs_done : -1)};
        bool wanted[4] = {true, model->compiled, optimizer != NULL, true};
        for (int i = 0; i < 4; i++) {
            if (!wanted[i])
                continue;
            texts[i] = print_and_free(trees[i]);
            trees[i] = NULL;
            if (!texts[i]) {
                status = nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
                break;
            }
            metadata[metadata_count++] = (nn_safetensors_pair){keys[i], texts[i]};
        }
        for (int i = 0; i < 4; i++)
            cJSON_Delete(trees[i]);
    }
    if (status == NN_OK)
        status = nn_safetensors_save(path, metadata, metadata_count, plan.entries, plan.count);
    for (int i = 0; i < 4; i++)
        free(texts[i]);
    free(plan.entries);
    free(plan.names);
    for (int i = 0; i < 4; i++)
        free(plan.copies[i]);
    return status;
}

nn_status nn_model_save(nn_model *model, const char *path, bool include_optimizer)
{
    return save(model, path, SAVE_MODEL, include_optimizer, -1);
}

nn_status nn_model_save_weights(nn_model *model, const char *path)
{
    return save(model, path, SAVE_WEIGHTS, false, -1);
}

nn_status nn_model_save_backup(nn_model *model, const char *path, int epochs_done)
{
    return save(model, path, SAVE_BACKUP, true, epochs_done);
}

/* ---- reading weights ---- */

/* Which tensors of a file a load has used, so that strays can be reported. */
typedef struct tensor_usage {
    const nn_safetensors *file;
    bool *used;
} tensor_usage;

static nn_status usage_init(tensor_usage *usage, const nn_safetensors *file)
{
    usage->file = file;
    usage->used = calloc(file->tensor_count ? file->tensor_count : 1, sizeof *usage->used);
    if (!usage->used)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory", file->name);
    return NN_OK;
}

static void usage_mark(tensor_usage *usage, const nn_safetensors_tensor *tensor)
{
    usage->used[tensor - usage->file->tensors] = true;
}

/* Fails on the first tensor nobody used; `ignore_prefix` (may be NULL) is let through. */
static nn_status usage_check(const tensor_usage *usage, const char *ignore_prefix,
                             const char *expected)
{
    for (size_t i = 0; i < usage->file->tensor_count; i++) {
        const char *name = usage->file->tensors[i].name;
        bool ignored = ignore_prefix && strncmp(name, ignore_prefix, strlen(ignore_prefix)) == 0;
        if (usage->used[i] || ignored)
            continue;
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' belongs to no %s of this model (a "
                        "different architecture, or renamed layers?)", usage->file->name, name,
                        expected);
    }
    return NN_OK;
}

/* The F32 tensor called name with exactly `shape`, or an error saying what differs. */
static nn_status find_f32(const nn_safetensors *file, const char *name, const nn_shape *shape,
                          const nn_safetensors_tensor **out)
{
    char expected[128], found[128];
    const nn_safetensors_tensor *tensor = nn_safetensors_find(file, name);
    if (!tensor)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' of shape %s is missing (a different "
                        "architecture, or renamed layers?)", file->name, name,
                        nn_shape_format(shape, expected, sizeof expected));
    if (tensor->dtype != NN_SAFETENSORS_F32)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has dtype %s; nnsh reads F32 weights",
                        file->name, name, nn_safetensors_dtype_name(tensor->dtype));
    if (!nn_shape_equal(&tensor->shape, shape))
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has shape %s but the model's weight has "
                        "shape %s", file->name, name,
                        nn_shape_format(&tensor->shape, found, sizeof found),
                        nn_shape_format(shape, expected, sizeof expected));
    *out = tensor;
    return NN_OK;
}

/* Reads every weight of the model from the file into buffer (laid out like
 * model->weights), marking what it used. */
typedef struct weight_reader {
    const nn_safetensors *file;
    tensor_usage *usage;
    float *buffer;
} weight_reader;

static nn_status read_weight(void *context, nn_layer *layer, nn_param *param)
{
    weight_reader *reader = context;
    char name[TENSOR_NAME_CAPACITY];
    weight_name(name, layer, param);
    const nn_safetensors_tensor *tensor = NULL;
    NN_TRY(find_f32(reader->file, name, &param->shape, &tensor));
    usage_mark(reader->usage, tensor);
    return nn_safetensors_read(reader->file, tensor,
                               reader->buffer + nn_model_weight_offset(param), tensor->bytes);
}

static nn_status read_all_weights(nn_model *model, const nn_safetensors *file, tensor_usage *usage,
                                  float *buffer)
{
    weight_reader reader = {file, usage, buffer};
    return visit_weights(model, false, read_weight, &reader);
}

/* The optimizer state of a file, read into fresh buffers sized for the model. */
typedef struct slot_state {
    long long iterations;
    int slot_count;
    char names[3][32];
    float *slots[3];
} slot_state;

static void slot_state_free(slot_state *state)
{
    for (int s = 0; s < 3; s++)
        free(state->slots[s]);
    memset(state, 0, sizeof *state);
}

typedef struct slot_reader {
    const nn_safetensors *file;
    tensor_usage *usage;
    slot_state *state;
    int slot;
} slot_reader;

static nn_status read_slot(void *context, nn_layer *layer, nn_param *param)
{
    slot_reader *reader = context;
    char name[TENSOR_NAME_CAPACITY];
    slot_tensor_name(name, reader->state->names[reader->slot], layer, param);
    const nn_safetensors_tensor *tensor = NULL;
    NN_TRY(find_f32(reader->file, name, &param->shape, &tensor));
    usage_mark(reader->usage, tensor);
    return nn_safetensors_read(reader->file, tensor,
                               reader->state->slots[reader->slot] + nn_model_weight_offset(param),
                               tensor->bytes);
}

static nn_status parse_metadata_json(const nn_safetensors *file, const char *key, cJSON **out)
{
    *out = NULL;
    const char *text = nn_safetensors_metadata(file, key);
    if (!text)
        return NN_OK;
    char what[64];
    snprintf(what, sizeof what, "metadata %s", key);
    return nn_json_parse_text(out, text, file->name, what);
}

/* Reads "nnsh.optimizer_state" and its tensors for an optimizer configured as `config`
 * over the model's trainable weights. Slot names must be those this optimizer uses. */
static nn_status read_optimizer_state(nn_model *model, const nn_safetensors *file,
                                      tensor_usage *usage, const nn_optimizer_config *config,
                                      slot_state *state)
{
    memset(state, 0, sizeof *state);
    cJSON *json;
    NN_TRY(parse_metadata_json(file, KEY_OPTIMIZER_STATE, &json));
    if (!json)
        return NN_OK;
    static const char *const names[] = {"iterations", "slots"};
    const cJSON *fields[2];
    uint64_t iterations = 0;
    nn_status status = nn_json_fields(json, names, 2, fields, file->name, KEY_OPTIMIZER_STATE);
    if (status == NN_OK && (!fields[0] || !cJSON_IsArray(fields[1])))
        status = nn_error(NN_ERR_FORMAT, "%s: %s needs iterations and a list of slots",
                          file->name, KEY_OPTIMIZER_STATE);
    if (status == NN_OK)
        status = nn_json_read_uint64(fields[0], &iterations, file->name, "optimizer iterations");
    if (status == NN_OK && iterations > (uint64_t)INT64_MAX)
        status = nn_error(NN_ERR_FORMAT, "%s: optimizer iterations must be at most %lld, got "
                          "%llu", file->name, (long long)INT64_MAX,
                          (unsigned long long)iterations);
    /* The slots this optimizer keeps, from a throwaway instance over no weights. */
    nn_optimizer *probe = NULL;
    if (status == NN_OK)
        status = nn_optimizer_create(&probe, config, 0);
    if (status == NN_OK) {
        int count = cJSON_GetArraySize(fields[1]);
        if (count != probe->slot_count)
            status = nn_error(NN_ERR_FORMAT, "%s: the file has %d optimizer state buffers but "
                              "%s with these settings keeps %d", file->name, count,
                              nn_optimizer_name(config->kind), probe->slot_count);
        int s = 0;
        for (const cJSON *slot = fields[1]->child; status == NN_OK && slot;
             slot = slot->next, s++) {
            const char *expected = nn_optimizer_slot_name(probe, s);
            if (!cJSON_IsString(slot) || !expected || strcmp(slot->valuestring, expected) != 0)
                status = nn_error(NN_ERR_FORMAT, "%s: optimizer state buffer %d should be '%s'",
                                  file->name, s + 1, expected ? expected : "?");
            else
                snprintf(state->names[s], sizeof state->names[s], "%s", expected);
        }
        state->slot_count = s;
    }
    nn_optimizer_free(probe);
    cJSON_Delete(json);
    for (int s = 0; status == NN_OK && s < state->slot_count; s++) {
        size_t count = model->trainable_count ? model->trainable_count : 1;
        state->slots[s] = calloc(count, sizeof(float));
        if (!state->slots[s])
            status = nn_error(NN_ERR_MEMORY, "%s: out of memory for the optimizer state",
                              file->name);
        slot_reader reader = {file, usage, state, s};
        if (status == NN_OK)
            status = visit_weights(model, true, read_slot, &reader);
    }
    state->iterations = (long long)iterations;
    if (status != NN_OK)
        slot_state_free(state);
    return status;
}

/* Gives the model an optimizer holding `state` (which it takes over). */
static nn_status install_optimizer(nn_model *model, slot_state *state)
{
    if (!model->optimizer || model->optimizer->count != model->trainable_count) {
        nn_optimizer_free(model->optimizer);
        model->optimizer = NULL;
        nn_device device;
        NN_TRY(nn_model_device(model, &device));
        NN_TRY(nn_optimizer_create_on(&model->optimizer, &model->optimizer_config,
                                      model->trainable_count, device));
    }
    nn_optimizer *optimizer = model->optimizer;
    for (int s = 0; s < state->slot_count && s < optimizer->slot_count; s++)
        NN_TRY(nn_optimizer_write_slot(optimizer, s, state->slots[s]));
    optimizer->iterations = state->iterations;
    return NN_OK;
}

nn_status nn_model_load_weights_from(nn_model *model, const nn_safetensors *file)
{
    if (!model->built)
        return nn_error(NN_ERR_STATE, "model \"%s\" is not built, so it has no weights to load "
                        "into: give the first layer input_shape or call model:build first",
                        model->name);
    NN_TRY(nn_model_gather_weights(model));
    float *buffer = malloc((model->weight_count ? model->weight_count : 1) * sizeof(float));
    if (!buffer)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory for %zu weights", file->name,
                        model->weight_count);
    tensor_usage usage;
    nn_status status = usage_init(&usage, file);
    if (status == NN_OK)
        status = read_all_weights(model, file, &usage, buffer);
    if (status == NN_OK)
        status = usage_check(&usage, "optimizer/", "weight");
    if (status == NN_OK)
        status = nn_model_write_weights(model, buffer);
    free(usage.used);
    free(buffer);
    return status;
}

nn_status nn_model_load_weights(nn_model *model, const char *path)
{
    nn_safetensors file;
    NN_TRY(nn_safetensors_open(&file, path));
    nn_status status = nn_model_load_weights_from(model, &file);
    nn_safetensors_close(&file);
    return status;
}

/* ---- loading a model ---- */

static nn_status check_format(const nn_safetensors *file, const char *wanted)
{
    const char *format = nn_safetensors_metadata(file, KEY_FORMAT);
    const char *version = nn_safetensors_metadata(file, KEY_VERSION);
    if (!format)
        return nn_error(NN_ERR_FORMAT, "%s: not an nnsh model file (its metadata has no %s); "
                        "model:load_weights reads the weights of other safetensors files",
                        file->name, KEY_FORMAT);
    if (strcmp(format, wanted) != 0)
        return nn_error(NN_ERR_FORMAT, "%s: this file holds %s, not a %s%s", file->name,
                        strcmp(format, "weights") == 0 ? "only weights" : "something else",
                        wanted,
                        strcmp(format, "weights") == 0
                            ? "; load them with model:load_weights into a model of the same "
                              "architecture"
                            : "");
    if (!version || strcmp(version, NN_MODEL_FILE_VERSION) != 0)
        return nn_error(NN_ERR_FORMAT, "%s: file format version '%.20s' is not one this nnsh "
                        "reads (%s)", file->name, version ? version : "(none)",
                        NN_MODEL_FILE_VERSION);
    return NN_OK;
}

/* The layers of an architecture, created but not yet in a model. */
typedef struct layer_list {
    nn_layer **layers;
    int count;
} layer_list;

static void layer_list_free(layer_list *list)
{
    for (int i = 0; i < list->count; i++)
        nn_layer_release(list->layers[i]);
    free(list->layers);
    memset(list, 0, sizeof *list);
}

static nn_status read_layers(const char *source, const cJSON *array, layer_list *list)
{
    memset(list, 0, sizeof *list);
    if (!cJSON_IsArray(array))
        return nn_error(NN_ERR_FORMAT, "%s: the architecture's layers must be a list",
                        source);
    int count = cJSON_GetArraySize(array);
    if (count > MAX_FILE_LAYERS)
        return nn_error(NN_ERR_FORMAT, "%s: the architecture has %d layers; nnsh reads at most "
                        "%d", source, count, MAX_FILE_LAYERS);
    list->layers = calloc(count ? (size_t)count : 1, sizeof *list->layers);
    if (!list->layers)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory", source);
    for (const cJSON *entry = array->child; entry; entry = entry->next) {
        char where[600];
        snprintf(where, sizeof where, "%s: layer %d", source, list->count + 1);
        nn_layer *layer;
        NN_TRY(nn_json_layer_read(&layer, entry, where));
        list->layers[list->count++] = layer;
        if (!layer->named_by_user)
            return nn_error(NN_ERR_FORMAT, "%s has no name; every layer in a model file is "
                            "named", where);
        if (strchr(layer->name, '/'))
            return nn_error(NN_ERR_FORMAT, "%s: the layer name \"%s\" contains '/'", where,
                            layer->name);
        for (int j = 0; j + 1 < list->count; j++)
            if (strcmp(list->layers[j]->name, layer->name) == 0)
                return nn_error(NN_ERR_FORMAT, "%s: layers %d and %d are both named \"%s\"",
                                source, j + 1, list->count, layer->name);
    }
    return NN_OK;
}

/* Elements of one sample (every axis but the batch), or -1 when too large. */
static int64_t sample_elements(const nn_shape *shape)
{
    int64_t count = 1;
    for (int i = 1; i < shape->ndim; i++) {
        if (shape->dims[i] < 1 || __builtin_mul_overflow(count, shape->dims[i], &count) ||
            count > NN_MAX_SAMPLE_VALUES)
            return -1;
    }
    return count;
}

/* Runs each layer's shape computation on the input shape, without allocating, and
 * checks that every weight it declares is in the file with that shape. Only then may the
 * model really be built: the weights it allocates are bytes the file really holds. */
static nn_status check_weights_present(const nn_safetensors *file, layer_list *list,
                                       const nn_shape *input, tensor_usage *usage)
{
    nn_shape shape = *input;
    char text[128];
    for (int i = 0; i < list->count; i++) {
        nn_layer *layer = list->layers[i];
        if (shape.ndim < 1 || sample_elements(&shape) < 0)
            return nn_error(NN_ERR_FORMAT, "%s: layer %d (\"%s\") would receive input of shape "
                            "%s, which nnsh refuses (too large or empty)", file->name, i + 1,
                            layer->name, nn_shape_format(&shape, text, sizeof text));
        nn_shape output = {0};
        layer->param_count = 0;
        nn_status status = layer->cls->build(layer, &shape, &output);
        int declared = layer->param_count;
        layer->param_count = 0;
        if (status != NN_OK)
            return nn_error_prefix(NN_ERR_FORMAT, "%s: layer %d (\"%s\") does not fit its input "
                                   "%s", file->name, i + 1, layer->name,
                                   nn_shape_format(&shape, text, sizeof text));
        for (int p = 0; p < declared; p++) {
            const nn_param *param = &layer->params[p];
            size_t count;
            if (nn_shape_count(&param->shape, &count) != NN_OK)
                return nn_error(NN_ERR_FORMAT, "%s: layer \"%s\" would have a weight of "
                                "impossible size", file->name, layer->name);
            char name[TENSOR_NAME_CAPACITY];
            weight_name(name, layer, param);
            const nn_safetensors_tensor *tensor = NULL;
            NN_TRY(find_f32(file, name, &param->shape, &tensor));
            usage_mark(usage, tensor);
        }
        shape = output;
    }
    return NN_OK;
}

/* The model's input shape: build_input_shape, or the first layer's input_shape. */
static nn_status read_input_shape(const char *source, const cJSON *item,
                                  const layer_list *list, nn_shape *out)
{
    memset(out, 0, sizeof *out);
    if (item && !cJSON_IsNull(item)) {
        NN_TRY(nn_json_read_shape(item, out, source, "build_input_shape"));
        if (out->ndim < 2 || out->dims[0] != -1)
            return nn_error(NN_ERR_FORMAT, "%s: build_input_shape must start with null (the "
                            "batch axis) and have at least one more axis", source);
    }
    if (list->count > 0 && list->layers[0]->declared_input.ndim > 0) {
        const nn_shape *declared = &list->layers[0]->declared_input;
        if (declared->ndim >= NN_MAX_DIMS)
            return nn_error(NN_ERR_FORMAT, "%s: the first layer's input_shape has %d sizes; "
                            "with the batch axis at most %d fit", source, declared->ndim,
                            NN_MAX_DIMS);
        nn_shape from_layer = {.ndim = declared->ndim + 1};
        from_layer.dims[0] = -1;
        for (int i = 0; i < declared->ndim; i++)
            from_layer.dims[i + 1] = declared->dims[i];
        if (out->ndim > 0 && !nn_shape_equal(out, &from_layer))
            return nn_error(NN_ERR_FORMAT, "%s: build_input_shape disagrees with the first "
                            "layer's input_shape", source);
        *out = from_layer;
    }
    return NN_OK;
}

/* The optimizer's exclude_from_weight_decay, a list of names (absent: none, as in files
 * written before it was kept), given to the model. */
static nn_status read_decay_exclusions(nn_model *model, const cJSON *list, const char *where)
{
    const char *names[NN_MAX_DECAY_EXCLUSIONS];
    int count = 0;
    if (list && !cJSON_IsArray(list))
        return nn_error(NN_ERR_FORMAT, "%s: exclude_from_weight_decay must be a list of names, "
                        "got %s", where, nn_json_type_name(list));
    for (const cJSON *entry = list ? list->child : NULL; entry; entry = entry->next) {
        if (!cJSON_IsString(entry))
            return nn_error(NN_ERR_FORMAT, "%s: exclude_from_weight_decay must hold names, got "
                            "%s", where, nn_json_type_name(entry));
        if (count == NN_MAX_DECAY_EXCLUSIONS)
            return nn_error(NN_ERR_FORMAT, "%s: exclude_from_weight_decay holds more than %d "
                            "names", where, NN_MAX_DECAY_EXCLUSIONS);
        names[count++] = entry->valuestring;
    }
    if (nn_model_exclude_from_weight_decay(model, names, count) != NN_OK)
        return nn_error_prefix(NN_ERR_FORMAT, "%s", where);
    return NN_OK;
}

static nn_status read_compile(nn_model *model, const nn_safetensors *file)
{
    cJSON *json;
    NN_TRY(parse_metadata_json(file, KEY_COMPILE, &json));
    if (!json)
        return NN_OK;
    static const char *const names[] = {"loss", "metrics", "optimizer", "weighted_metrics"};
    const cJSON *fields[4];
    nn_loss loss;
    nn_optimizer_config optimizer;
    nn_metric metrics[NN_MAX_METRICS], weighted[NN_MAX_METRICS];
    int metric_count = 0, weighted_count = 0;
    nn_status status = nn_json_fields(json, names, 4, fields, file->name, KEY_COMPILE);
    if (status == NN_OK && (!fields[0] || !fields[2] || !cJSON_IsArray(fields[1])))
        status = nn_error(NN_ERR_FORMAT, "%s: %s needs loss, metrics and optimizer", file->name,
                          KEY_COMPILE);
    /* weighted_metrics: absent in files without them (and in those from before). */
    if (status == NN_OK && fields[3] && !cJSON_IsArray(fields[3]))
        status = nn_error(NN_ERR_FORMAT, "%s: %s: weighted_metrics must be a list, got %s",
                          file->name, KEY_COMPILE, nn_json_type_name(fields[3]));
    if (status == NN_OK && fields[3] && cJSON_GetArraySize(fields[3]) > NN_MAX_METRICS)
        status = nn_error(NN_ERR_FORMAT, "%s: more than %d weighted_metrics", file->name,
                          NN_MAX_METRICS);
    if (status == NN_OK)
        status = nn_json_loss_read(&loss, fields[0], file->name);
    if (status == NN_OK)
        status = nn_json_optimizer_read(&optimizer, fields[2], file->name);
    if (status == NN_OK && cJSON_GetArraySize(fields[1]) > NN_MAX_METRICS)
        status = nn_error(NN_ERR_FORMAT, "%s: more than %d metrics", file->name, NN_MAX_METRICS);
    char dropped[sizeof model->dropped_metrics] = "";
    for (const cJSON *metric = status == NN_OK ? fields[1]->child : NULL;
         metric && status == NN_OK; metric = metric->next) {
        /* A name compile accepted before it checked the labels' layout: left out (it
         * measured nothing meaningful), so the model and its weights still load. */
        nn_metric plain;
        if (cJSON_IsString(metric) && nn_metric_parse(metric->valuestring, NULL, &plain) == NN_OK &&
            nn_metric_check(&plain, &loss) != NN_OK) {
            size_t used = strlen(dropped);
            snprintf(dropped + used, sizeof dropped - used, "%s'%s'", used ? ", " : "",
                     metric->valuestring);
            continue;
        }
        status = metric_read(&metrics[metric_count++], metric, &loss, file->name);
    }
    for (const cJSON *metric = status == NN_OK && fields[3] ? fields[3]->child : NULL;
         metric && status == NN_OK; metric = metric->next)
        status = metric_read(&weighted[weighted_count++], metric, &loss, file->name);
    /* The optimizer checks its own settings when it is created: check them now, not at
     * the first fit. */
    nn_optimizer *probe = NULL;
    if (status == NN_OK && (status = nn_optimizer_create(&probe, &optimizer, 0)) != NN_OK)
        status = nn_error_prefix(NN_ERR_FORMAT, "%s", file->name);
    nn_optimizer_free(probe);
    if (status == NN_OK &&
        (status = nn_model_compile_weighted_metrics(model, &optimizer, &loss, metrics,
                                                    metric_count, weighted, weighted_count)) !=
            NN_OK)
        status = nn_error_prefix(NN_ERR_FORMAT, "%s", file->name);
    if (status == NN_OK)
        status = read_decay_exclusions(model, cJSON_GetObjectItemCaseSensitive(fields[2],
                                                                              "exclude_from_weight_decay"),
                                       file->name);
    if (status == NN_OK)
        snprintf(model->dropped_metrics, sizeof model->dropped_metrics, "%s", dropped);
    cJSON_Delete(json);
    return status;
}

/* "nnsh.training": the step counter and, in backups, the completed epochs (or -1). */
static nn_status read_training(const nn_safetensors *file, uint64_t *step, int *epochs_done)
{
    *step = 0;
    *epochs_done = -1;
    cJSON *json;
    NN_TRY(parse_metadata_json(file, KEY_TRAINING, &json));
    if (!json)
        return NN_OK;
    static const char *const names[] = {"step", "epoch"};
    const cJSON *fields[2];
    nn_status status = nn_json_fields(json, names, 2, fields, file->name, KEY_TRAINING);
    if (status == NN_OK && fields[0])
        status = nn_json_read_uint64(fields[0], step, file->name, "training step");
    int64_t epoch = -1;
    if (status == NN_OK && fields[1])
        status = nn_json_read_integer(fields[1], 0, 100000000, &epoch, file->name,
                                      "training epoch");
    *epochs_done = (int)epoch;
    cJSON_Delete(json);
    return status;
}

/* The model an architecture describes, named `source` in errors. With a file (and its
 * usage), every weight the layers declare must be in it; without, they are initialized. */
static nn_status build_model(nn_model **out, const char *source, const nn_safetensors *file,
                             const cJSON *root, tensor_usage *usage)
{
    static const char *const names[] = {"class_name", "config", "build_input_shape"};
    const cJSON *fields[3];
    NN_TRY(nn_json_fields(root, names, 3, fields, source, "the architecture"));
    if (!cJSON_IsString(fields[0]) || strcmp(fields[0]->valuestring, "Sequential") != 0)
        return nn_error(NN_ERR_FORMAT, "%s: the architecture must be a Sequential model",
                        source);
    static const char *const config_names[] = {"name", "layers"};
    const cJSON *config[2];
    NN_TRY(nn_json_fields(fields[1], config_names, 2, config, source, "the model config"));
    if (!cJSON_IsString(config[0]) || config[0]->valuestring[0] == '\0' ||
        strlen(config[0]->valuestring) >= NN_NAME_CAPACITY)
        return nn_error(NN_ERR_FORMAT, "%s: the model's name must be 1 to %d characters",
                        source, NN_NAME_CAPACITY - 1);
    /* What nn.Sequential{name=...} refuses, a file may not bring in. */
    for (const char *c = config[0]->valuestring; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return nn_error(NN_ERR_FORMAT, "%s: the model's name must not hold control "
                            "characters (found byte %d)", source, (unsigned char)*c);
    if (!nn_utf8_valid(config[0]->valuestring, strlen(config[0]->valuestring)))
        return nn_error(NN_ERR_FORMAT, "%s: the model's name must be valid UTF-8 text", source);
    layer_list list;
    nn_status status = read_layers(source, config[1], &list);
    nn_shape input;
    if (status == NN_OK)
        status = read_input_shape(source, fields[2], &list, &input);
    if (status == NN_OK && file && input.ndim > 0)
        status = check_weights_present(file, &list, &input, usage);
    nn_model *model = NULL;
    if (status == NN_OK)
        status = nn_model_create(&model, config[0]->valuestring);
    for (int i = 0; status == NN_OK && i < list.count; i++)
        if ((status = nn_model_add(model, list.layers[i])) != NN_OK)
            status = nn_error_prefix(NN_ERR_FORMAT, "%s", source);
    if (status == NN_OK && input.ndim > 0 && !model->built &&
        (status = nn_model_build(model, &input)) != NN_OK)
        status = nn_error_prefix(NN_ERR_FORMAT, "%s", source);
    layer_list_free(&list);
    if (status != NN_OK) {
        nn_model_release(model);
        return status;
    }
    *out = model;
    return NN_OK;
}

/* Drops the layer entries' random streams (the wrapped layer's too), so that a model
 * made from the text draws fresh ones, as a new layer does. */
static void forget_random_streams(cJSON *layer_entry)
{
    cJSON_DeleteItemFromObjectCaseSensitive(layer_entry, "random");
    cJSON *config = cJSON_GetObjectItemCaseSensitive(layer_entry, "config");
    cJSON *wrapped = config ? cJSON_GetObjectItemCaseSensitive(config, "layer") : NULL;
    if (cJSON_IsObject(wrapped))
        forget_random_streams(wrapped);
}

nn_status nn_model_to_json(const nn_model *model, char **out)
{
    *out = NULL;
    cJSON *root = architecture_json(model);
    if (!root)
        return nn_error(NN_ERR_MEMORY, "out of memory describing model \"%s\"", model->name);
    cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    cJSON *layers = config ? cJSON_GetObjectItemCaseSensitive(config, "layers") : NULL;
    cJSON *entry;
    cJSON_ArrayForEach(entry, layers)
        forget_random_streams(entry);
    *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!*out)
        return nn_error(NN_ERR_MEMORY, "out of memory describing model \"%s\"", model->name);
    return NN_OK;
}

nn_status nn_model_from_json(nn_model **out, const char *text)
{
    *out = NULL;
    const char *source = "the model's JSON";
    cJSON *root;
    NN_TRY(nn_json_parse_text(&root, text, source, "the architecture"));
    nn_status status = build_model(out, source, NULL, root, NULL);
    cJSON_Delete(root);
    return status;
}

nn_status nn_model_load_from(nn_model **out, const nn_safetensors *file, bool compile)
{
    *out = NULL;
    NN_TRY(check_format(file, "model"));
    cJSON *architecture;
    NN_TRY(parse_metadata_json(file, KEY_ARCHITECTURE, &architecture));
    if (!architecture)
        return nn_error(NN_ERR_FORMAT, "%s: the file has no %s", file->name, KEY_ARCHITECTURE);
    tensor_usage usage;
    nn_status status = usage_init(&usage, file);
    nn_model *model = NULL;
    if (status == NN_OK)
        status = build_model(&model, file->name, file, architecture, &usage);
    cJSON_Delete(architecture);
    float *weights = NULL;
    if (status == NN_OK && model->built)
        status = nn_model_gather_weights(model);
    if (status == NN_OK && model->built &&
        !(weights = malloc((model->weight_count ? model->weight_count : 1) * sizeof(float))))
        status = nn_error(NN_ERR_MEMORY, "%s: out of memory for %zu weights", file->name,
                          model->weight_count);
    if (status == NN_OK && model->built)
        status = read_all_weights(model, file, &usage, weights);
    if (status == NN_OK && model->built)
        status = nn_model_write_weights(model, weights);
    free(weights);
    if (status == NN_OK && compile)
        status = read_compile(model, file);
    slot_state state = {0};
    if (status == NN_OK && compile && model->compiled)
        status = read_optimizer_state(model, file, &usage, &model->optimizer_config, &state);
    if (status == NN_OK && state.slot_count + state.iterations > 0)
        status = install_optimizer(model, &state);
    slot_state_free(&state);
    uint64_t step = 0;
    int epochs_done;
    if (status == NN_OK)
        status = read_training(file, &step, &epochs_done);
    if (status == NN_OK)
        status = usage_check(&usage, compile ? NULL : "optimizer/", "weight or optimizer state");
    free(usage.used);
    if (status != NN_OK) {
        nn_model_release(model);
        return status;
    }
    model->step = step;
    *out = model;
    return NN_OK;
}

nn_status nn_model_load(nn_model **out, const char *path, bool compile)
{
    nn_safetensors file;
    *out = NULL;
    NN_TRY(nn_safetensors_open(&file, path));
    nn_status status = nn_model_load_from(out, &file, compile);
    nn_safetensors_close(&file);
    return status;
}

/* ---- backups ---- */

static nn_status restore_from(nn_model *model, const nn_safetensors *file, int *epochs_done)
{
    NN_TRY(check_format(file, "model"));
    if (!model->compiled)
        return nn_error(NN_ERR_STATE, "model \"%s\" must be compiled before its training state "
                        "is restored", model->name);
    if (!model->built)
        return nn_error(NN_ERR_STATE, "model \"%s\" must be built before its training state is "
                        "restored", model->name);
    uint64_t step;
    NN_TRY(read_training(file, &step, epochs_done));
    if (*epochs_done < 0)
        return nn_error(NN_ERR_FORMAT, "%s: not a training backup (no completed epoch count)",
                        file->name);
    /* The learning rate may have been changed by a callback (ReduceLROnPlateau); the rest
     * of the settings must match the script's, or the state would not fit. */
    nn_optimizer_config config = model->optimizer_config;
    cJSON *compile_settings;
    NN_TRY(parse_metadata_json(file, KEY_COMPILE, &compile_settings));
    static const char *const names[] = {"loss", "metrics", "optimizer"};
    const cJSON *fields[3] = {NULL, NULL, NULL};
    nn_optimizer_config saved_config;
    nn_status status = compile_settings ? nn_json_fields(compile_settings, names, 3, fields,
                                                         file->name, KEY_COMPILE)
                                        : NN_OK;
    if (status == NN_OK)
        status = fields[2] ? nn_json_optimizer_read(&saved_config, fields[2], file->name)
                           : nn_error(NN_ERR_FORMAT, "%s: the backup has no optimizer settings",
                                      file->name);
    cJSON_Delete(compile_settings);
    NN_TRY(status);
    if (saved_config.kind != config.kind)
        return nn_error(NN_ERR_FORMAT, "%s: the backup was made with optimizer %s, but the "
                        "model is compiled with %s", file->name,
                        nn_optimizer_name(saved_config.kind), nn_optimizer_name(config.kind));
    config.learning_rate = saved_config.learning_rate;

    NN_TRY(nn_model_gather_weights(model));
    float *buffer = malloc((model->weight_count ? model->weight_count : 1) * sizeof(float));
    if (!buffer)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory", file->name);
    tensor_usage usage;
    slot_state state = {0};
    status = usage_init(&usage, file);
    if (status == NN_OK)
        status = read_all_weights(model, file, &usage, buffer);
    if (status == NN_OK)
        status = read_optimizer_state(model, file, &usage, &config, &state);
    if (status == NN_OK)
        status = usage_check(&usage, NULL, "weight or optimizer state");
    /* Everything is read and checked: only now does the model change. */
    if (status == NN_OK) {
        model->optimizer_config.learning_rate = config.learning_rate;
        status = install_optimizer(model, &state);
    }
    if (status == NN_OK) {
        model->optimizer->config.learning_rate = config.learning_rate;
        status = nn_model_write_weights(model, buffer);
        model->step = step;
    }
    slot_state_free(&state);
    free(usage.used);
    free(buffer);
    return status;
}

nn_status nn_model_restore_backup(nn_model *model, const char *path, int *epochs_done)
{
    nn_safetensors file;
    *epochs_done = -1;
    NN_TRY(nn_safetensors_open(&file, path));
    nn_status status = restore_from(model, &file, epochs_done);
    nn_safetensors_close(&file);
    return status;
}
