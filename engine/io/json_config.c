/* Layer configurations (through the argument specs), optimizer and loss settings, to and
 * from JSON, with every value range-checked on the way in. */
#include "json_config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../layers/layers.h"
#include "../random.h"

/* JSON numbers are doubles: integers up to 2^53 are exact. */
#define MAX_EXACT_INTEGER 9007199254740992.0

/* Classes have at most this many arguments (Conv2D has 19). */
enum { MAX_ARGS = 64 };

/* Far more JSON values than any nnsh file holds; see nn_json_parse_text. */
enum { MAX_JSON_VALUES = 1 << 20 };

/* ---- building ---- */

/* Adds item to object (key) or array (key NULL), taking ownership; false if anything
 * failed, including item itself being NULL from a failed allocation. */
static bool put(cJSON *parent, const char *key, cJSON *item)
{
    if (!parent || !item) {
        cJSON_Delete(item);
        return false;
    }
    bool added = key ? cJSON_AddItemToObject(parent, key, item)
                     : cJSON_AddItemToArray(parent, item);
    if (!added)
        cJSON_Delete(item);
    return added;
}

/* The shortest decimal that reads back as the same float, as a double. */
static double shortest_float(float value)
{
    char text[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)value);
        if (strtof(text, NULL) == value)
            return strtod(text, NULL);
    }
    return (double)value;
}

static cJSON *float_number(float value) { return cJSON_CreateNumber(shortest_float(value)); }

cJSON *nn_json_uint64(uint64_t value)
{
    if (value <= (UINT64_C(1) << 53))
        return cJSON_CreateNumber((double)value);
    char text[24];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return cJSON_CreateString(text);
}

cJSON *nn_json_shape(const nn_shape *shape)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < shape->ndim; i++) {
        cJSON *entry = shape->dims[i] < 0 ? cJSON_CreateNull()
                                          : cJSON_CreateNumber((double)shape->dims[i]);
        if (!put(list, NULL, entry)) {
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

/* [a, b] or [a, b, c]: a pair or triple of sizes. */
static cJSON *int_list(const int *values, int count)
{
    cJSON *list = cJSON_CreateArray();
    for (int i = 0; list && i < count; i++)
        if (!put(list, NULL, cJSON_CreateNumber(values[i]))) {
            cJSON_Delete(list);
            return NULL;
        }
    return list;
}

/* Axis bit set -> [0, 2, ...] */
static cJSON *axis_list(unsigned axes)
{
    cJSON *list = cJSON_CreateArray();
    for (int axis = 0; list && axis < NN_MAX_DIMS; axis++) {
        if ((axes & (1u << axis)) && !put(list, NULL, cJSON_CreateNumber(axis))) {
            cJSON_Delete(list);
            return NULL;
        }
    }
    return list;
}

static cJSON *activation_write(const nn_activation *activation)
{
    const char *name = nn_activation_name(activation->kind);
    if (activation->alpha == nn_activation_default(activation->kind).alpha)
        return cJSON_CreateString(name);
    cJSON *object = cJSON_CreateObject();
    if (!put(object, "name", cJSON_CreateString(name)) ||
        !put(object, "alpha", float_number(activation->alpha))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* The parameter names an initializer kind takes, for a and b (NULL: none). */
static void initializer_fields(nn_initializer_kind kind, const char **a, const char **b)
{
    *a = *b = NULL;
    switch (kind) {
    case NN_INITIALIZER_CONSTANT: *a = "value"; break;
    case NN_INITIALIZER_RANDOM_UNIFORM: *a = "minval", *b = "maxval"; break;
    case NN_INITIALIZER_RANDOM_NORMAL:
    case NN_INITIALIZER_TRUNCATED_NORMAL: *a = "mean", *b = "stddev"; break;
    case NN_INITIALIZER_ORTHOGONAL: *a = "gain"; break;
    default: break;
    }
}

static cJSON *initializer_write(const nn_initializer *initializer)
{
    const char *a, *b;
    initializer_fields(initializer->kind, &a, &b);
    cJSON *object = cJSON_CreateObject();
    bool ok = put(object, "name", cJSON_CreateString(nn_initializer_name(initializer->kind)));
    if (ok && a)
        ok = put(object, a, cJSON_CreateNumber(initializer->a));
    if (ok && b)
        ok = put(object, b, cJSON_CreateNumber(initializer->b));
    if (ok && initializer->has_seed)
        ok = put(object, "seed", nn_json_uint64(initializer->seed));
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *regularizer_write(const nn_regularizer *regularizer)
{
    if (!nn_regularizer_active(regularizer))
        return cJSON_CreateNull();
    cJSON *object = cJSON_CreateObject();
    if (!put(object, "l1", float_number(regularizer->l1)) ||
        !put(object, "l2", float_number(regularizer->l2))) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static cJSON *constraint_write(const nn_constraint *constraint)
{
    if (constraint->kind == NN_CONSTRAINT_NONE)
        return cJSON_CreateNull();
    cJSON *object = cJSON_CreateObject();
    bool ok = put(object, "name", cJSON_CreateString(nn_constraint_name(constraint->kind)));
    bool with_axis = constraint->kind != NN_CONSTRAINT_NON_NEG;
    if (ok && constraint->kind == NN_CONSTRAINT_MIN_MAX_NORM)
        ok = put(object, "min_value", float_number(constraint->min_value));
    if (ok && (constraint->kind == NN_CONSTRAINT_MAX_NORM ||
               constraint->kind == NN_CONSTRAINT_MIN_MAX_NORM))
        ok = put(object, "max_value", float_number(constraint->max_value));
    if (ok && constraint->kind == NN_CONSTRAINT_MIN_MAX_NORM)
        ok = put(object, "rate", float_number(constraint->rate));
    if (ok && with_axis)
        ok = put(object, "axis", axis_list(constraint->axes));
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

static int choice_count(const char *const *choices)
{
    int count = 0;
    while (choices && choices[count])
        count++;
    return count;
}

static cJSON *arg_write(const nn_layer *layer, const nn_arg_spec *spec)
{
    const void *value = (const char *)layer + spec->offset;
    switch (spec->kind) {
    case NN_ARG_INT:
    case NN_ARG_AXIS: return cJSON_CreateNumber(*(const int *)value);
    case NN_ARG_AXES: {
        const nn_axes *axes = value;
        return axes->list ? int_list(axes->values, axes->count)
                          : cJSON_CreateNumber(axes->values[0]);
    }
    case NN_ARG_OPTIONAL_INT: {
        const nn_optional_int *optional = value;
        return optional->present ? cJSON_CreateNumber((double)optional->value) : cJSON_CreateNull();
    }
    case NN_ARG_FLOAT: return float_number(*(const float *)value);
    case NN_ARG_OPTIONAL_FLOAT: {
        const nn_optional_float *optional = value;
        return optional->present ? float_number(optional->value) : cJSON_CreateNull();
    }
    case NN_ARG_OPTIONAL_FLOATS: {
        const nn_optional_floats *optional = value;
        if (!optional->present)
            return cJSON_CreateNull();
        if (!optional->list)
            return float_number(optional->values[0]);
        cJSON *list = cJSON_CreateArray();
        for (int i = 0; list && i < optional->count; i++)
            if (!put(list, NULL, float_number(optional->values[i]))) {
                cJSON_Delete(list);
                return NULL;
            }
        return list;
    }
    case NN_ARG_BOOL: return cJSON_CreateBool(*(const bool *)value);
    case NN_ARG_CHOICE: {
        int index = *(const int *)value;
        if (index < 0 || index >= choice_count(spec->choices))
            return NULL;
        return cJSON_CreateString(spec->choices[index]);
    }
    case NN_ARG_PAIR:
    case NN_ARG_TRIPLE:
    case NN_ARG_OPTIONAL_PAIR:
    case NN_ARG_OPTIONAL_TRIPLE: {
        const int *values = value;
        if (nn_arg_is_optional_sizes(spec->kind) && nn_pair_is_none(values))
            return cJSON_CreateNull();
        return int_list(values, nn_arg_int_count(spec->kind));
    }
    case NN_ARG_SIDES:
    case NN_ARG_SIDES3: { /* [[top, bottom], [left, right]]: a pair per axis */
        cJSON *list = cJSON_CreateArray();
        for (int axis = 0; list && axis < nn_arg_int_count(spec->kind) / 2; axis++)
            if (!put(list, NULL, int_list((const int *)value + 2 * axis, 2))) {
                cJSON_Delete(list);
                return NULL;
            }
        return list;
    }
    case NN_ARG_FACTOR: {
        const float *factor = value;
        if (nn_factor_is_none(factor))
            return cJSON_CreateNull();
        cJSON *list = cJSON_CreateArray();
        if (!put(list, NULL, float_number(factor[0])) ||
            !put(list, NULL, float_number(factor[1]))) {
            cJSON_Delete(list);
            return NULL;
        }
        return list;
    }
    case NN_ARG_SHAPE:
    case NN_ARG_TARGET_SHAPE: {
        const nn_shape *shape = value;
        if (shape->ndim == 0)
            return cJSON_CreateNull();
        if (spec->kind == NN_ARG_SHAPE)
            return nn_json_shape(shape);
        cJSON *list = cJSON_CreateArray(); /* Reshape's target: -1 as Keras writes it */
        for (int i = 0; list && i < shape->ndim; i++)
            if (!put(list, NULL, cJSON_CreateNumber((double)shape->dims[i]))) {
                cJSON_Delete(list);
                return NULL;
            }
        return list;
    }
    case NN_ARG_ACTIVATION: return activation_write(value);
    case NN_ARG_INITIALIZER: return initializer_write(value);
    case NN_ARG_REGULARIZER: return regularizer_write(value);
    case NN_ARG_CONSTRAINT: return constraint_write(value);
    case NN_ARG_STRING: return cJSON_CreateString(value);
    }
    return NULL;
}

cJSON *nn_json_layer_write(const nn_layer *layer)
{
    const nn_layer_class *cls = layer->cls;
    cJSON *entry = cJSON_CreateObject();
    cJSON *config = cJSON_CreateObject();
    cJSON *random = cJSON_CreateObject();
    bool ok = put(entry, "class_name", cJSON_CreateString(cls->name));
    for (int i = 0; ok && i < cls->arg_count; i++)
        ok = put(config, cls->args[i].name, arg_write(layer, &cls->args[i]));
    ok = ok && put(config, "trainable", cJSON_CreateBool(layer->trainable));
    /* A wrapper's layer is an entry of its own in its config, as Keras writes it. */
    const nn_layer *wrapped = nn_time_distributed_inner(layer);
    if (ok && wrapped)
        ok = put(config, "layer", nn_json_layer_write(wrapped));
    ok = put(entry, "config", config) && ok;
    ok = ok && put(random, "seed", nn_json_uint64(layer->seed)) &&
         put(random, "stream", nn_json_uint64(layer->stream));
    ok = put(entry, "random", random) && ok;
    if (!ok) {
        cJSON_Delete(entry);
        nn_error(NN_ERR_MEMORY, "out of memory describing layer \"%s\"", layer->name);
        return NULL;
    }
    return entry;
}

/* ---- reading helpers ---- */

const char *nn_json_type_name(const cJSON *item)
{
    if (!item)
        return "nothing";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsBool(item))
        return "a boolean";
    if (cJSON_IsNumber(item))
        return "a number";
    if (cJSON_IsString(item))
        return "a string";
    if (cJSON_IsArray(item))
        return "a list";
    if (cJSON_IsObject(item))
        return "an object";
    return "an unknown value";
}

nn_status nn_json_fields(const cJSON *object, const char *const *names, int count,
                         const cJSON **items, const char *where, const char *what)
{
    for (int i = 0; i < count; i++)
        items[i] = NULL;
    if (!cJSON_IsObject(object))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be an object, got %s", where, what,
                        nn_json_type_name(object));
    for (const cJSON *member = object->child; member; member = member->next) {
        int found = -1;
        for (int i = 0; i < count && found < 0; i++)
            if (strcmp(member->string, names[i]) == 0)
                found = i;
        if (found < 0) {
            char list[512];
            size_t used = 0;
            list[0] = '\0';
            for (int i = 0; i < count && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                         names[i]);
            return nn_error(NN_ERR_FORMAT, "%s: %s has unknown key '%.60s' (valid: %s)", where,
                            what, member->string, list);
        }
        if (items[found])
            return nn_error(NN_ERR_FORMAT, "%s: %s has key '%s' twice", where, what,
                            names[found]);
        items[found] = member;
    }
    return NN_OK;
}

nn_status nn_json_parse_text(cJSON **out, const char *text, const char *where,
                             const char *what)
{
    *out = NULL;
    size_t length = strlen(text), values = 1;
    for (size_t i = 0; i < length; i++)
        values += text[i] == ',' || text[i] == '[' || text[i] == '{';
    if (values > MAX_JSON_VALUES)
        return nn_error(NN_ERR_FORMAT, "%s: %s holds more than %d JSON values; refusing to "
                        "parse it", where, what, MAX_JSON_VALUES);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, 0);
    if (!root)
        return nn_error(NN_ERR_FORMAT, "%s: %s is not valid JSON", where, what);
    for (; end && *end; end++) {
        if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
            cJSON_Delete(root);
            return nn_error(NN_ERR_FORMAT, "%s: %s has text after its JSON value", where, what);
        }
    }
    *out = root;
    return NN_OK;
}

nn_status nn_json_read_integer(const cJSON *item, int64_t low, int64_t high, int64_t *out,
                               const char *where, const char *field)
{
    double value = cJSON_IsNumber(item) ? item->valuedouble : NAN;
    if (!cJSON_IsNumber(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be an integer from %lld to %lld, got %s",
                        where, field, (long long)low, (long long)high,
                        nn_json_type_name(item));
    if (!(value >= (double)low && value <= (double)high) || value != floor(value))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be an integer from %lld to %lld, got %.17g",
                        where, field, (long long)low, (long long)high, value);
    *out = (int64_t)value;
    return NN_OK;
}

nn_status nn_json_read_uint64(const cJSON *item, uint64_t *out, const char *where,
                              const char *field)
{
    if (cJSON_IsNumber(item)) {
        int64_t value = 0;
        NN_TRY(nn_json_read_integer(item, 0, (int64_t)MAX_EXACT_INTEGER, &value, where, field));
        *out = (uint64_t)value;
        return NN_OK;
    }
    const char *text = cJSON_IsString(item) ? item->valuestring : NULL;
    uint64_t value = 0;
    bool ok = text && text[0] != '\0';
    for (const char *c = text; ok && *c; c++)
        ok = *c >= '0' && *c <= '9' && !__builtin_mul_overflow(value, 10u, &value) &&
             !__builtin_add_overflow(value, (uint64_t)(*c - '0'), &value);
    if (!ok)
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a non-negative 64-bit integer (a number "
                        "or a string of digits), got %s", where, field, nn_json_type_name(item));
    *out = value;
    return NN_OK;
}

nn_status nn_json_read_shape(const cJSON *item, nn_shape *out, const char *where,
                             const char *field)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a list of sizes, got %s", where, field,
                        nn_json_type_name(item));
    int ndim = cJSON_GetArraySize(item);
    if (ndim > NN_MAX_DIMS)
        return nn_error(NN_ERR_FORMAT, "%s: %s has %d dimensions; at most %d are supported",
                        where, field, ndim, NN_MAX_DIMS);
    out->ndim = ndim;
    int axis = 0;
    for (const cJSON *entry = item->child; entry; entry = entry->next, axis++) {
        if (cJSON_IsNull(entry)) {
            out->dims[axis] = -1;
            continue;
        }
        NN_TRY(nn_json_read_integer(entry, 0, (int64_t)MAX_EXACT_INTEGER, &out->dims[axis],
                                    where, field));
    }
    return NN_OK;
}

static nn_status read_number(const cJSON *item, double *out, const char *where,
                             const char *field)
{
    if (!cJSON_IsNumber(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a number, got %s", where, field,
                        nn_json_type_name(item));
    /* JSON has no infinity: 1e400 reads as one. */
    if (!isfinite(item->valuedouble))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a finite number, got one too large "
                                       "for a double",
                        where, field);
    *out = item->valuedouble;
    return NN_OK;
}

/* A float that is finite once narrowed to float. */
static nn_status read_float(const cJSON *item, float *out, const char *where,
                            const char *field)
{
    double value = 0.0;
    NN_TRY(read_number(item, &value, where, field));
    if (!isfinite((float)value))
        return nn_error(NN_ERR_FORMAT, "%s: %s = %g does not fit a float", where, field, value);
    *out = (float)value;
    return NN_OK;
}

static nn_status read_bool(const cJSON *item, bool *out, const char *where, const char *field)
{
    if (!cJSON_IsBool(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be true or false, got %s", where, field,
                        nn_json_type_name(item));
    *out = cJSON_IsTrue(item);
    return NN_OK;
}

static nn_status read_string(const cJSON *item, const char **out, const char *where,
                             const char *field)
{
    if (!cJSON_IsString(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a string, got %s", where, field,
                        nn_json_type_name(item));
    *out = item->valuestring;
    return NN_OK;
}

/* Prefixes the engine's own message (an unknown activation name, say) with where. */
static nn_status engine_check(nn_status status, const char *where)
{
    if (status == NN_OK)
        return NN_OK;
    return nn_error_prefix(NN_ERR_FORMAT, "%s", where);
}

/* ---- reading layer arguments ---- */

static nn_status read_activation(const cJSON *item, nn_activation *out, const char *where,
                                 const char *field)
{
    if (cJSON_IsNull(item)) {
        *out = nn_activation_default(NN_ACTIVATION_LINEAR);
        return NN_OK;
    }
    const cJSON *fields[2] = {item, NULL};
    if (cJSON_IsObject(item)) {
        static const char *const names[] = {"name", "alpha"};
        NN_TRY(nn_json_fields(item, names, 2, fields, where, field));
    }
    const char *name = NULL;
    NN_TRY(read_string(fields[0], &name, where, field));
    NN_TRY(engine_check(nn_activation_parse(name, out), where));
    if (fields[1])
        NN_TRY(read_float(fields[1], &out->alpha, where, "activation alpha"));
    return NN_OK;
}

static nn_status read_initializer(const cJSON *item, nn_initializer *out, const char *where,
                                  const char *field)
{
    static const char *const names[] = {"name", "value", "minval", "maxval", "mean", "stddev",
                                        "gain", "seed"};
    const cJSON *fields[8];
    NN_TRY(nn_json_fields(item, names, 8, fields, where, field));
    const char *name = NULL;
    NN_TRY(read_string(fields[0], &name, where, field));
    NN_TRY(engine_check(nn_initializer_parse(name, out), where));
    const char *a, *b;
    initializer_fields(out->kind, &a, &b);
    for (int i = 1; i <= 6; i++) {
        if (!fields[i])
            continue;
        bool is_a = a && strcmp(names[i], a) == 0, is_b = b && strcmp(names[i], b) == 0;
        if (!is_a && !is_b)
            return nn_error(NN_ERR_FORMAT, "%s: %s: initializer '%s' takes no '%s'", where,
                            field, name, names[i]);
        NN_TRY(read_number(fields[i], is_a ? &out->a : &out->b, where, names[i]));
    }
    if (out->kind == NN_INITIALIZER_RANDOM_NORMAL || out->kind == NN_INITIALIZER_TRUNCATED_NORMAL) {
        if (out->b < 0)
            return nn_error(NN_ERR_FORMAT, "%s: %s.stddev must be >= 0, got %g", where, field,
                            out->b);
    }
    if (fields[7]) {
        NN_TRY(nn_json_read_uint64(fields[7], &out->seed, where, "initializer seed"));
        out->has_seed = true;
    }
    return NN_OK;
}

static nn_status read_regularizer(const cJSON *item, nn_regularizer *out, const char *where,
                                  const char *field)
{
    memset(out, 0, sizeof *out);
    if (cJSON_IsNull(item))
        return NN_OK;
    static const char *const names[] = {"l1", "l2"};
    const cJSON *fields[2];
    NN_TRY(nn_json_fields(item, names, 2, fields, where, field));
    if (fields[0])
        NN_TRY(read_float(fields[0], &out->l1, where, "regularizer l1"));
    if (fields[1])
        NN_TRY(read_float(fields[1], &out->l2, where, "regularizer l2"));
    if (out->l1 < 0 || out->l2 < 0)
        return nn_error(NN_ERR_FORMAT, "%s: %s factors must be >= 0", where, field);
    return NN_OK;
}

static nn_status read_constraint(const cJSON *item, nn_constraint *out, const char *where,
                                 const char *field)
{
    if (cJSON_IsNull(item)) {
        *out = nn_constraint_default(NN_CONSTRAINT_NONE);
        return NN_OK;
    }
    static const char *const names[] = {"name", "min_value", "max_value", "rate", "axis"};
    const cJSON *fields[5];
    NN_TRY(nn_json_fields(item, names, 5, fields, where, field));
    const char *name = NULL;
    NN_TRY(read_string(fields[0], &name, where, field));
    NN_TRY(engine_check(nn_constraint_parse(name, out), where));
    if (fields[1])
        NN_TRY(read_float(fields[1], &out->min_value, where, "constraint min_value"));
    if (fields[2])
        NN_TRY(read_float(fields[2], &out->max_value, where, "constraint max_value"));
    if (fields[3])
        NN_TRY(read_float(fields[3], &out->rate, where, "constraint rate"));
    if (fields[4]) {
        if (!cJSON_IsArray(fields[4]))
            return nn_error(NN_ERR_FORMAT, "%s: %s.axis must be a list of axes", where, field);
        out->axes = 0;
        for (const cJSON *axis = fields[4]->child; axis; axis = axis->next) {
            int64_t value = 0;
            NN_TRY(nn_json_read_integer(axis, 0, NN_MAX_DIMS - 1, &value, where,
                                        "constraint axis"));
            out->axes |= 1u << value;
        }
    }
    return NN_OK;
}

static nn_status read_ranged_integer(const cJSON *item, const nn_arg_spec *spec, int64_t *out,
                                     const char *where)
{
    double high = spec->exclusive_max ? spec->max - 1 : spec->max;
    return nn_json_read_integer(item, (int64_t)ceil(spec->min), (int64_t)floor(high), out,
                                where, spec->name);
}

/* [a, b] (count 2) or [a, b, c] (count 3), each entry in the argument's range. */
static nn_status read_sizes(const cJSON *item, const nn_arg_spec *spec, int *out, int count,
                            const char *where)
{
    if (!cJSON_IsArray(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be %s, got %s", where, spec->name,
                        count == 2 ? "a pair [a, b]" : "a list [a, b, c]",
                        nn_json_type_name(item));
    if (cJSON_GetArraySize(item) != count)
        return nn_error(NN_ERR_FORMAT, "%s: %s must be %s, got a list of %d", where,
                        spec->name, count == 2 ? "a pair [a, b]" : "a list [a, b, c]",
                        cJSON_GetArraySize(item));
    const cJSON *entry = item->child;
    for (int i = 0; i < count; i++, entry = entry->next) {
        int64_t value = 0;
        NN_TRY(read_ranged_integer(entry, spec, &value, where));
        out[i] = (int)value;
    }
    return NN_OK;
}

static nn_status read_arg_shape(const cJSON *item, const nn_arg_spec *spec, nn_shape *out,
                                const char *where)
{
    if (cJSON_IsNull(item) && spec->required)
        return nn_error(NN_ERR_FORMAT, "%s: %s is required, got null", where, spec->name);
    if (cJSON_IsNull(item)) {
        memset(out, 0, sizeof *out);
        return NN_OK;
    }
    if (spec->min < 0 && cJSON_IsArray(item)) {
        /* An unknown or inferred entry may be written null or -1 (Keras' Reshape). */
        cJSON *copy = cJSON_Duplicate(item, true);
        if (!copy)
            return nn_error(NN_ERR_MEMORY, "%s: out of memory reading %s", where, spec->name);
        for (cJSON *entry = copy->child; entry; entry = entry->next)
            if (cJSON_IsNumber(entry) && entry->valuedouble == -1.0) {
                entry->type = cJSON_NULL;
            }
        nn_status status = nn_json_read_shape(copy, out, where, spec->name);
        cJSON_Delete(copy);
        NN_TRY(status);
    } else {
        NN_TRY(nn_json_read_shape(item, out, where, spec->name));
    }
    /* As in the constructors: a model adds the batch axis to input_shape, so it holds at
     * most NN_MAX_DIMS - 1 sizes. */
    if (out->ndim < 1 || out->ndim > NN_MAX_DIMS - 1)
        return nn_error(NN_ERR_FORMAT, "%s: %s must list 1 to %d sizes (or be null), got %d",
                        where, spec->name, NN_MAX_DIMS - 1, out->ndim);
    for (int i = 0; i < out->ndim; i++) {
        int64_t dim = out->dims[i];
        bool none_allowed = spec->min < 0;
        if ((dim == -1 && !none_allowed) || (dim != -1 && (dim < 1 || (double)dim > spec->max)))
            return nn_error(NN_ERR_FORMAT, "%s: %s entry %d must be a size from 1 to %.0f%s, "
                            "got %lld", where, spec->name, i + 1, spec->max,
                            none_allowed ? " or null" : "", (long long)dim);
    }
    return NN_OK;
}

static nn_status read_arg(nn_layer *layer, const nn_arg_spec *spec, const cJSON *item,
                          const char *where)
{
    void *target = nn_layer_arg_pointer(layer, spec);
    int64_t integer = 0;
    switch (spec->kind) {
    case NN_ARG_INT:
    case NN_ARG_AXIS:
        NN_TRY(read_ranged_integer(item, spec, &integer, where));
        *(int *)target = (int)integer;
        return NN_OK;
    case NN_ARG_OPTIONAL_INT: {
        nn_optional_int *optional = target;
        optional->present = !cJSON_IsNull(item);
        if (optional->present)
            NN_TRY(read_ranged_integer(item, spec, &optional->value, where));
        return NN_OK;
    }
    case NN_ARG_AXES: { /* an axis or a list of distinct ones */
        nn_axes *axes = target;
        memset(axes, 0, sizeof *axes);
        axes->list = cJSON_IsArray(item);
        int count = axes->list ? cJSON_GetArraySize(item) : 1;
        if (count < 1 || count > NN_MAX_DIMS)
            return nn_error(NN_ERR_FORMAT, "%s: %s must be an axis or a list of 1 to %d axes, "
                            "got %d", where, spec->name, NN_MAX_DIMS, count);
        const cJSON *entry = axes->list ? item->child : item;
        for (int i = 0; i < count; i++, entry = entry->next) {
            NN_TRY(read_ranged_integer(entry, spec, &integer, where));
            for (int j = 0; j < i; j++)
                if (axes->values[j] == integer)
                    return nn_error(NN_ERR_FORMAT, "%s: %s lists axis %lld twice", where,
                                    spec->name, (long long)integer);
            axes->values[i] = (int)integer;
        }
        axes->count = count;
        return NN_OK;
    }
    case NN_ARG_OPTIONAL_FLOATS: {
        nn_optional_floats *optional = target;
        memset(optional, 0, sizeof *optional);
        if (cJSON_IsNull(item))
            return NN_OK;
        optional->present = true;
        optional->list = cJSON_IsArray(item);
        int count = optional->list ? cJSON_GetArraySize(item) : 1;
        if (count < 1 || count > NN_FLOATS_CAPACITY)
            return nn_error(NN_ERR_FORMAT, "%s: %s must be null, a number or a list of 1 to %d "
                            "numbers, got %d", where, spec->name, NN_FLOATS_CAPACITY, count);
        const cJSON *entry = optional->list ? item->child : item;
        for (int i = 0; i < count; i++, entry = entry->next) {
            double number = 0.0;
            NN_TRY(read_number(entry, &number, where, spec->name));
            if (!(number >= spec->min && number <= spec->max))
                return nn_error(NN_ERR_FORMAT, "%s: %s entries must be in [%g, %g], got %g",
                                where, spec->name, spec->min, spec->max, number);
            optional->values[i] = (float)number;
        }
        optional->count = count;
        return NN_OK;
    }
    case NN_ARG_OPTIONAL_FLOAT: {
        nn_optional_float *optional = target;
        optional->present = !cJSON_IsNull(item);
        if (!optional->present)
            return NN_OK;
        double value = 0.0;
        NN_TRY(read_number(item, &value, where, spec->name));
        if (!(value >= spec->min && value <= spec->max))
            return nn_error(NN_ERR_FORMAT, "%s: %s must be null or in [%g, %g], got %g", where,
                            spec->name, spec->min, spec->max, value);
        optional->value = (float)value;
        return NN_OK;
    }
    case NN_ARG_FLOAT: {
        double value = 0.0;
        NN_TRY(read_number(item, &value, where, spec->name));
        bool above = spec->exclusive_max ? !(value < spec->max) : !(value <= spec->max);
        if (!(value >= spec->min) || above)
            return nn_error(NN_ERR_FORMAT, "%s: %s must be in [%g, %g%s, got %g", where,
                            spec->name, spec->min, spec->max, spec->exclusive_max ? ")" : "]",
                            value);
        *(float *)target = (float)value;
        return NN_OK;
    }
    case NN_ARG_BOOL: return read_bool(item, target, where, spec->name);
    case NN_ARG_CHOICE: {
        const char *value = NULL;
        NN_TRY(read_string(item, &value, where, spec->name));
        for (int i = 0; spec->choices && spec->choices[i]; i++) {
            if (strcmp(spec->choices[i], value) == 0) {
                *(int *)target = i;
                return NN_OK;
            }
        }
        return nn_error(NN_ERR_FORMAT, "%s: %s '%.40s' is not one of its choices", where,
                        spec->name, value);
    }
    case NN_ARG_PAIR:
    case NN_ARG_TRIPLE:
        return read_sizes(item, spec, target, nn_arg_int_count(spec->kind), where);
    case NN_ARG_SIDES:
    case NN_ARG_SIDES3: {
        int axes = nn_arg_int_count(spec->kind) / 2;
        if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != axes)
            return nn_error(NN_ERR_FORMAT, "%s: %s must be %s, got %s", where, spec->name,
                            axes == 2 ? "[[top, bottom], [left, right]]"
                                      : "[[front, back], [top, bottom], [left, right]]",
                            nn_json_type_name(item));
        const cJSON *entry = item->child;
        for (int axis = 0; axis < axes; axis++, entry = entry->next)
            NN_TRY(read_sizes(entry, spec, (int *)target + 2 * axis, 2, where));
        return NN_OK;
    }
    case NN_ARG_FACTOR: {
        float *factor = target;
        if (cJSON_IsNull(item) && !spec->required) {
            factor[0] = factor[1] = NAN;
            return NN_OK;
        }
        float values[2] = {0.0f, 0.0f};
        if (cJSON_IsNumber(item)) { /* Keras writes a factor as given: f means -|f| to |f| */
            NN_TRY(read_float(item, &values[1], where, spec->name));
            values[1] = fabsf(values[1]);
            values[0] = -values[1];
        } else if (cJSON_IsArray(item) && cJSON_GetArraySize(item) == 2) {
            NN_TRY(read_float(item->child, &values[0], where, spec->name));
            NN_TRY(read_float(item->child->next, &values[1], where, spec->name));
        } else {
            return nn_error(NN_ERR_FORMAT, "%s: %s must be a number or [lower, upper], got %s",
                            where, spec->name, nn_json_type_name(item));
        }
        factor[0] = fminf(values[0], values[1]);
        factor[1] = fmaxf(values[0], values[1]);
        for (int i = 0; i < 2; i++)
            if (!(factor[i] >= spec->min && factor[i] <= spec->max))
                return nn_error(NN_ERR_FORMAT, "%s: %s=[%g, %g] is out of range; each entry "
                                "must be in [%g, %g]",
                                where, spec->name, (double)factor[0], (double)factor[1],
                                spec->min, spec->max);
        return NN_OK;
    }
    case NN_ARG_OPTIONAL_PAIR:
    case NN_ARG_OPTIONAL_TRIPLE: {
        int count = nn_arg_int_count(spec->kind);
        if (cJSON_IsNull(item)) {
            for (int i = 0; i < count; i++)
                ((int *)target)[i] = NN_PAIR_NONE;
            return NN_OK;
        }
        return read_sizes(item, spec, target, count, where);
    }
    case NN_ARG_SHAPE:
    case NN_ARG_TARGET_SHAPE: return read_arg_shape(item, spec, target, where);
    case NN_ARG_ACTIVATION: return read_activation(item, target, where, spec->name);
    case NN_ARG_INITIALIZER: return read_initializer(item, target, where, spec->name);
    case NN_ARG_REGULARIZER: return read_regularizer(item, target, where, spec->name);
    case NN_ARG_CONSTRAINT: return read_constraint(item, target, where, spec->name);
    case NN_ARG_STRING: {
        const char *value = NULL;
        NN_TRY(read_string(item, &value, where, spec->name));
        size_t length = strlen(value);
        if (length == 0 || length >= NN_NAME_CAPACITY)
            return nn_error(NN_ERR_FORMAT, "%s: %s must be 1 to %d characters long (a \\u0000 "
                            "ends it)", where, spec->name, NN_NAME_CAPACITY - 1);
        /* As the constructors check it: a newline or tab would break tables and charts. */
        for (size_t i = 0; i < length; i++)
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                return nn_error(NN_ERR_FORMAT, "%s: %s must not hold control characters (found "
                                "byte %d at position %zu)", where, spec->name,
                                (unsigned char)value[i], i + 1);
        memcpy(target, value, length + 1);
        if (strcmp(spec->name, "name") == 0)
            layer->named_by_user = true; /* a saved name stays what it was */
        return NN_OK;
    }
    }
    return nn_error(NN_ERR_FORMAT, "%s: argument %s has an unknown kind", where, spec->name);
}

static nn_status class_from_name(const cJSON *item, const nn_layer_class **out,
                                 const char *where)
{
    const char *name = NULL;
    NN_TRY(read_string(item, &name, where, "class_name"));
    *out = nn_layer_class_find(name);
    if (*out)
        return NN_OK;
    char list[256];
    size_t used = 0;
    const nn_layer_class *const *classes = nn_layer_classes();
    for (int i = 0; classes[i] && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 classes[i]->name);
    return nn_error(NN_ERR_FORMAT, "%s: unknown layer class '%.60s' (nnsh knows %s)", where,
                    name, list);
}

/* Sets every argument given in config; the rest keep their defaults. */
static nn_status read_config(nn_layer *layer, const cJSON *config, const char *where)
{
    const nn_layer_class *cls = layer->cls;
    if (!cJSON_IsObject(config))
        return nn_error(NN_ERR_FORMAT, "%s: config must be an object, got %s", where,
                        nn_json_type_name(config));
    if (cls->arg_count > MAX_ARGS)
        return nn_error(NN_ERR_FORMAT, "%s: class %s has too many arguments", where, cls->name);
    bool given[MAX_ARGS + 1] = {false};
    for (const cJSON *member = config->child; member; member = member->next) {
        int index = -1;
        for (int i = 0; i < cls->arg_count && index < 0; i++)
            if (strcmp(cls->args[i].name, member->string) == 0)
                index = i;
        if (index < 0 && strcmp(member->string, "trainable") == 0)
            index = cls->arg_count;
        if (index < 0 && cls == &nn_time_distributed_class &&
            strcmp(member->string, "layer") == 0)
            continue; /* read by nn_json_layer_read */
        if (index < 0) {
            char list[768];
            size_t used = 0;
            list[0] = '\0';
            for (int i = 0; i < cls->arg_count && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s, ",
                                         cls->args[i].name);
            return nn_error(NN_ERR_FORMAT, "%s: unknown argument '%.60s' (valid: %strainable%s)",
                            where, member->string, list,
                            cls == &nn_time_distributed_class ? ", layer" : "");
        }
        if (given[index])
            return nn_error(NN_ERR_FORMAT, "%s: argument '%s' is given twice", where,
                            member->string);
        given[index] = true;
        if (index == cls->arg_count)
            NN_TRY(read_bool(member, &layer->trainable, where, "trainable"));
        else
            NN_TRY(read_arg(layer, &cls->args[index], member, where));
    }
    for (int i = 0; i < cls->arg_count; i++)
        if (cls->args[i].required && !given[i])
            return nn_error(NN_ERR_FORMAT, "%s: required argument '%s' is missing", where,
                            cls->args[i].name);
    return NN_OK;
}

/* How deep wrappers may nest in a file (TimeDistributed of TimeDistributed of ...):
 * far more than any model needs, and a bound on the reader's recursion. */
enum { MAX_WRAPPING_DEPTH = 8 };

/* Room for a place in a model file: the file's own place (up to 600 characters, see
 * model_file.c) and, for a wrapped layer, ", its layer (Class)" for each wrapper down to
 * MAX_WRAPPING_DEPTH, so that an error deep inside names the whole way there. */
enum { LAYER_CONTEXT_CAPACITY = 1024 };

static nn_status read_layer_at_depth(nn_layer **out, const cJSON *entry, const char *where,
                                     int depth);

/* A TimeDistributed's config.layer: the entry of the layer it wraps, `depth` wrappers
 * down. */
static nn_status read_wrapped_layer(nn_layer *wrapper, const cJSON *config, const char *where,
                                    int depth)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(config, "layer");
    if (!item)
        return nn_error(NN_ERR_FORMAT, "%s: the config has no 'layer', the entry of the layer "
                        "it wraps", where);
    if (depth >= MAX_WRAPPING_DEPTH)
        return nn_error(NN_ERR_FORMAT, "%s: wrappers nest more than %d deep", where,
                        MAX_WRAPPING_DEPTH);
    char context[LAYER_CONTEXT_CAPACITY];
    /* The way there cut to leave room for the step down, as a message needs its end. */
    static const char step[] = ", its layer";
    snprintf(context, sizeof context, "%.*s%s", (int)(sizeof context - sizeof step), where,
             step);
    nn_layer *inner = NULL;
    nn_status status = read_layer_at_depth(&inner, item, context, depth + 1);
    bool trainable = wrapper->trainable; /* the wrapper's own, read from its config */
    if (status == NN_OK) {
        status = nn_time_distributed_wrap(wrapper, inner);
        wrapper->trainable = trainable;
        if (status != NN_OK)
            status = nn_error_prefix(NN_ERR_FORMAT, "%s", context);
    }
    nn_layer_release(inner);
    return status;
}

nn_status nn_json_layer_read(nn_layer **out, const cJSON *entry, const char *where)
{
    return read_layer_at_depth(out, entry, where, 0);
}

static nn_status read_layer_at_depth(nn_layer **out, const cJSON *entry, const char *where,
                                     int depth)
{
    *out = NULL;
    static const char *const names[] = {"class_name", "config", "random"};
    const cJSON *fields[3];
    NN_TRY(nn_json_fields(entry, names, 3, fields, where, "a layer entry"));
    const nn_layer_class *cls = NULL;
    NN_TRY(class_from_name(fields[0], &cls, where));
    char context[LAYER_CONTEXT_CAPACITY];
    snprintf(context, sizeof context, "%s (%s)", where, cls->name);
    if (!fields[1])
        return nn_error(NN_ERR_FORMAT, "%s: the layer has no config", context);
    nn_layer *layer;
    NN_TRY(nn_layer_create(&layer, cls));
    nn_status status = read_config(layer, fields[1], context);
    if (status == NN_OK && cls == &nn_time_distributed_class)
        status = read_wrapped_layer(layer, fields[1], context, depth);
    if (status == NN_OK && cls->validate && (status = cls->validate(layer)) != NN_OK)
        status = nn_error_prefix(NN_ERR_FORMAT, "%s", context);
    if (status == NN_OK && fields[2]) {
        static const char *const random_names[] = {"seed", "stream"};
        const cJSON *random[2];
        status = nn_json_fields(fields[2], random_names, 2, random, context, "random");
        if (status == NN_OK && (!random[0] || !random[1]))
            status = nn_error(NN_ERR_FORMAT, "%s: random needs both seed and stream", context);
        if (status == NN_OK)
            status = nn_json_read_uint64(random[0], &layer->seed, context, "random seed");
        if (status == NN_OK)
            status = nn_json_read_uint64(random[1], &layer->stream, context, "random stream");
    } else if (status == NN_OK) {
        /* A hand-written entry without its stream draws a fresh one, like a new layer. */
        layer->seed = nn_random_global_seed();
        layer->stream = nn_random_next_stream();
    }
    if (status != NN_OK) {
        nn_layer_release(layer);
        return status;
    }
    *out = layer;
    return NN_OK;
}

/* ---- optimizer and loss ---- */

static const char *const optimizer_fields[] = {
    "name",         "learning_rate", "momentum", "nesterov", "beta_1",
    "beta_2",       "epsilon",       "amsgrad",  "weight_decay", "rho",
    "centered",     "initial_accumulator_value", "clipnorm", "clipvalue",
    "global_clipnorm", "learning_rate_power", "l1_regularization_strength",
    "l2_regularization_strength", "l2_shrinkage_regularization_strength", "beta",
    /* the model's, not the config's: written and read by model_file.c */
    "exclude_from_weight_decay",
};
enum { OPTIMIZER_FIELD_COUNT = (int)(sizeof optimizer_fields / sizeof optimizer_fields[0]) };

/* The numeric settings in the order of optimizer_fields (NULL where it is a bool). */
static void optimizer_slots(nn_optimizer_config *config, double *numbers[OPTIMIZER_FIELD_COUNT],
                            bool *flags[OPTIMIZER_FIELD_COUNT])
{
    for (int i = 0; i < OPTIMIZER_FIELD_COUNT; i++)
        numbers[i] = NULL, flags[i] = NULL;
    numbers[1] = &config->learning_rate;
    numbers[2] = &config->momentum;
    flags[3] = &config->nesterov;
    numbers[4] = &config->beta_1;
    numbers[5] = &config->beta_2;
    numbers[6] = &config->epsilon;
    flags[7] = &config->amsgrad;
    numbers[8] = &config->weight_decay;
    numbers[9] = &config->rho;
    flags[10] = &config->centered;
    numbers[11] = &config->initial_accumulator_value;
    numbers[12] = &config->clipnorm;
    numbers[13] = &config->clipvalue;
    numbers[14] = &config->global_clipnorm;
    numbers[15] = &config->learning_rate_power;
    numbers[16] = &config->l1_regularization_strength;
    numbers[17] = &config->l2_regularization_strength;
    numbers[18] = &config->l2_shrinkage_regularization_strength;
    numbers[19] = &config->beta;
}

/* A schedule as Keras writes one: {"class_name": "ExponentialDecay", "config": {...}}
 * with the settings its kind takes. */
static cJSON *schedule_write(const nn_schedule *schedule)
{
    cJSON *object = cJSON_CreateObject(), *settings = cJSON_CreateObject();
    bool ok = put(object, "class_name", cJSON_CreateString(nn_schedule_name(schedule->kind))) &&
              put(object, "config", settings);
    if (!ok)
        cJSON_Delete(settings);
    nn_schedule_value values[NN_SCHEDULE_MAX_VALUES];
    int count = nn_schedule_values(schedule, values);
    for (int i = 0; ok && i < count; i++) {
        const nn_schedule_value *value = &values[i];
        cJSON *item = value->type == NN_SCHEDULE_VALUE_NUMBER ? cJSON_CreateNumber(value->number)
                      : value->type == NN_SCHEDULE_VALUE_FLAG ? cJSON_CreateBool(value->flag)
                      : value->type == NN_SCHEDULE_VALUE_LIST
                          ? cJSON_CreateDoubleArray(value->list, value->length)
                      : value->type == NN_SCHEDULE_VALUE_STRING ? cJSON_CreateString(value->text)
                                                                : cJSON_CreateNull();
        ok = put(settings, value->name, item);
    }
    if (!ok) {
        cJSON_Delete(object);
        return NULL;
    }
    return object;
}

/* A list of at most `capacity` numbers. */
static nn_status read_numbers(const cJSON *item, double *out, int capacity, int *count,
                              const char *where, const char *field)
{
    if (!cJSON_IsArray(item))
        return nn_error(NN_ERR_FORMAT, "%s: %s must be a list of numbers, got %s", where, field,
                        nn_json_type_name(item));
    *count = 0;
    for (const cJSON *entry = item->child; entry; entry = entry->next) {
        if (*count == capacity)
            return nn_error(NN_ERR_FORMAT, "%s: %s holds more than %d numbers", where, field,
                            capacity);
        NN_TRY(read_number(entry, &out[(*count)++], where, field));
    }
    return NN_OK;
}

/* A schedule's name: a string that fits nn_schedule's name. */
static nn_status read_schedule_name(const cJSON *item, char name[NN_SCHEDULE_NAME_SIZE],
                                    const char *where)
{
    const char *text = NULL;
    NN_TRY(read_string(item, &text, where, "schedule name"));
    size_t length = strlen(text);
    if (length >= NN_SCHEDULE_NAME_SIZE)
        return nn_error(NN_ERR_FORMAT, "%s: the schedule's name holds %zu bytes, at most %d",
                        where, length, NN_SCHEDULE_NAME_SIZE - 1);
    memcpy(name, text, length + 1);
    return NN_OK;
}

static nn_status schedule_read(nn_schedule *out, const cJSON *json, const char *where)
{
    /* Keras' serialized form adds module and registered_name, which say nothing here. */
    static const char *const names[] = {"class_name", "config", "module", "registered_name"};
    const cJSON *fields[4];
    NN_TRY(nn_json_fields(json, names, 4, fields, where, "the learning-rate schedule"));
    const char *class_name = NULL;
    NN_TRY(read_string(fields[0], &class_name, where, "schedule class_name"));
    nn_schedule_kind kind = NN_SCHEDULE_CONSTANT;
    NN_TRY(engine_check(nn_schedule_parse(class_name, &kind), where));
    *out = nn_schedule_defaults(kind);
    if (!cJSON_IsObject(fields[1]))
        return nn_error(NN_ERR_FORMAT, "%s: the schedule's config must be an object, got %s",
                        where, nn_json_type_name(fields[1]));
    int count, values = 0;
    const nn_schedule_setting *all = nn_schedule_settings(&count);
    /* Every key once: bits 0..count-1 the settings, then the lists and the rest. */
    enum { SEEN_BOUNDARIES = 24, SEEN_VALUES, SEEN_WARMUP_TARGET, SEEN_NAME };
    uint32_t seen = 0;
    for (const cJSON *member = fields[1]->child; member; member = member->next) {
        const char *key = member->string;
        int bit = strcmp(key, "boundaries") == 0      ? SEEN_BOUNDARIES
                  : strcmp(key, "values") == 0        ? SEEN_VALUES
                  : strcmp(key, "warmup_target") == 0 ? SEEN_WARMUP_TARGET
                  : strcmp(key, "name") == 0          ? SEEN_NAME
                                                      : -1;
        for (int i = 0; bit < 0 && i < count; i++)
            if ((all[i].kinds & (1u << kind)) && strcmp(key, all[i].name) == 0)
                bit = i;
        if (bit >= 0 && (seen & (1u << bit)))
            return nn_error(NN_ERR_FORMAT, "%s: %s has '%.60s' twice", where, class_name, key);
        if (bit >= 0)
            seen |= 1u << bit;
        if (bit == SEEN_NAME) { /* Keras writes the schedule's name, null when none */
            if (!cJSON_IsNull(member))
                NN_TRY(read_schedule_name(member, out->name, where));
            continue;
        }
        if (strcmp(key, "warmup_target") == 0 && kind == NN_SCHEDULE_COSINE_DECAY) {
            out->warmup = !cJSON_IsNull(member);
            if (out->warmup)
                NN_TRY(read_number(member, &out->warmup_target, where, key));
            continue;
        }
        if (kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY && strcmp(key, "boundaries") == 0) {
            NN_TRY(read_numbers(member, out->boundaries, NN_SCHEDULE_MAX_BOUNDARIES,
                                &out->boundary_count, where, key));
            continue;
        }
        if (kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY && strcmp(key, "values") == 0) {
            NN_TRY(read_numbers(member, out->values, NN_SCHEDULE_MAX_BOUNDARIES + 1, &values,
                                where, key));
            continue;
        }
        int found = -1;
        for (int i = 0; i < count && found < 0; i++)
            if ((all[i].kinds & (1u << kind)) && strcmp(key, all[i].name) == 0)
                found = i;
        if (found < 0)
            return nn_error(NN_ERR_FORMAT, "%s: %s has no setting '%.60s'", where, class_name,
                            key);
        char *at = (char *)out + all[found].offset;
        if (all[found].flag)
            NN_TRY(read_bool(member, (bool *)at, where, key));
        else
            NN_TRY(read_number(member, (double *)at, where, key));
    }
    for (int i = 0; i < count; i++)
        if ((all[i].kinds & (1u << kind)) && all[i].required && !(seen & (1u << i)))
            return nn_error(NN_ERR_FORMAT, "%s: %s lacks its setting '%s'", where, class_name,
                            all[i].name);
    if (kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY &&
        (seen & (1u << SEEN_BOUNDARIES | 1u << SEEN_VALUES)) !=
            (1u << SEEN_BOUNDARIES | 1u << SEEN_VALUES))
        return nn_error(NN_ERR_FORMAT, "%s: %s needs both boundaries and values", where,
                        class_name);
    if (kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY && values != out->boundary_count + 1)
        return nn_error(NN_ERR_FORMAT,
                        "%s: %s has %d values for %d boundaries (one more value than "
                        "boundaries is needed)",
                        where, class_name, values, out->boundary_count);
    return engine_check(nn_schedule_check(out), where);
}

cJSON *nn_json_optimizer_write(const nn_optimizer_config *config)
{
    nn_optimizer_config copy = *config;
    double *numbers[OPTIMIZER_FIELD_COUNT];
    bool *flags[OPTIMIZER_FIELD_COUNT];
    optimizer_slots(&copy, numbers, flags);
    cJSON *object = cJSON_CreateObject();
    bool ok = put(object, "name", cJSON_CreateString(nn_optimizer_name(config->kind)));
    for (int i = 1; ok && i < OPTIMIZER_FIELD_COUNT; i++) {
        if (!numbers[i] && !flags[i])
            continue; /* not a setting of the config */
        if (numbers[i] == &copy.learning_rate && config->schedule.kind != NN_SCHEDULE_CONSTANT)
            ok = put(object, optimizer_fields[i], schedule_write(&config->schedule));
        else
            ok = put(object, optimizer_fields[i], numbers[i] ? cJSON_CreateNumber(*numbers[i])
                                                             : cJSON_CreateBool(*flags[i]));
    }
    if (!ok) {
        cJSON_Delete(object);
        nn_error(NN_ERR_MEMORY, "out of memory describing the optimizer");
        return NULL;
    }
    return object;
}

nn_status nn_json_optimizer_read(nn_optimizer_config *out, const cJSON *json, const char *where)
{
    const cJSON *fields[OPTIMIZER_FIELD_COUNT];
    NN_TRY(nn_json_fields(json, optimizer_fields, OPTIMIZER_FIELD_COUNT, fields, where,
                          "the optimizer"));
    const char *name = NULL;
    NN_TRY(read_string(fields[0], &name, where, "optimizer name"));
    nn_optimizer_kind kind = NN_OPTIMIZER_SGD;
    NN_TRY(engine_check(nn_optimizer_parse(name, &kind), where));
    *out = nn_optimizer_defaults(kind);
    double *numbers[OPTIMIZER_FIELD_COUNT];
    bool *flags[OPTIMIZER_FIELD_COUNT];
    optimizer_slots(out, numbers, flags);
    for (int i = 1; i < OPTIMIZER_FIELD_COUNT; i++) {
        if (!fields[i] || (!numbers[i] && !flags[i]))
            continue;
        if (flags[i]) {
            NN_TRY(read_bool(fields[i], flags[i], where, optimizer_fields[i]));
            continue;
        }
        if (numbers[i] == &out->learning_rate && cJSON_IsObject(fields[i])) {
            NN_TRY(schedule_read(&out->schedule, fields[i], where));
            out->learning_rate = nn_schedule_rate(&out->schedule, 0.0);
            continue;
        }
        NN_TRY(read_number(fields[i], numbers[i], where, optimizer_fields[i]));
        /* Ftrl's learning_rate_power is <= 0; its range is the config check's. */
        if (*numbers[i] < 0 && numbers[i] != &out->learning_rate_power)
            return nn_error(NN_ERR_FORMAT, "%s: optimizer %s must be >= 0, got %g", where,
                            optimizer_fields[i], *numbers[i]);
    }
    if (!(out->learning_rate >= 0) || !isfinite(out->learning_rate))
        return nn_error(NN_ERR_FORMAT, "%s: the learning rate must be a finite number >= 0, got %g", where,
                        out->learning_rate);
    /* The ranges compile holds a setting to, so a file cannot bring in what compile refuses. */
    return engine_check(nn_optimizer_config_check(out), where);
}

cJSON *nn_json_loss_write(const nn_loss *loss)
{
    cJSON *object = cJSON_CreateObject();
    /* delta is written for huber only, so other files read as before. */
    if (!put(object, "name", cJSON_CreateString(nn_loss_name(loss->kind))) ||
        !put(object, "from_logits", cJSON_CreateBool(loss->from_logits)) ||
        !put(object, "label_smoothing", cJSON_CreateNumber(loss->label_smoothing)) ||
        (loss->kind == NN_LOSS_HUBER && !put(object, "delta", cJSON_CreateNumber(loss->delta)))) {
        cJSON_Delete(object);
        nn_error(NN_ERR_MEMORY, "out of memory describing the loss");
        return NULL;
    }
    return object;
}

nn_status nn_json_loss_read(nn_loss *out, const cJSON *json, const char *where)
{
    static const char *const names[] = {"name", "from_logits", "label_smoothing", "delta"};
    const cJSON *fields[4];
    NN_TRY(nn_json_fields(json, names, 4, fields, where, "the loss"));
    const char *name = NULL;
    NN_TRY(read_string(fields[0], &name, where, "loss name"));
    NN_TRY(engine_check(nn_loss_parse(name, out), where));
    out->from_logits = false;
    if (fields[1])
        NN_TRY(read_bool(fields[1], &out->from_logits, where, "from_logits"));
    /* Files from before label_smoothing existed read it as 0, the default. */
    if (fields[2])
        NN_TRY(read_number(fields[2], &out->label_smoothing, where, "label_smoothing"));
    /* Without it (files before huber), Keras' default that nn_loss_parse set. */
    if (fields[3])
        NN_TRY(read_number(fields[3], &out->delta, where, "delta"));
    return engine_check(nn_loss_check(out), where);
}
