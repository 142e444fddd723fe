/* Range checks of layer arguments: the engine's own guard, so a layer configured from C
 * (not through the Lua binding's parser) still rejects zero strides or kernel sizes. */
#include "arg_check.h"

#include <stdio.h>

static nn_status out_of_range(const nn_layer *layer, const nn_arg_spec *spec,
                              const char *value, double number)
{
    const char *subject =
        nn_arg_int_count(spec->kind) > 0 || spec->kind == NN_ARG_FACTOR ? "each entry" : "it";
    /* Open-ended ranges read better as a bound than as an interval with a huge end. (A
     * number past the huge end: 1e30 in Lua becomes a float a little above it.) */
    if (spec->max >= 1e9 && number > spec->max)
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s=%s is out of range; %s must be at most "
                        "%.15g", layer->cls->name, layer->name, spec->name, value, subject,
                        spec->max);
    if (spec->max >= 1e9)
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s=%s is out of range; %s must be >= %.15g",
                        layer->cls->name, layer->name, spec->name, value, subject, spec->min);
    return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s=%s is out of range; %s must be in [%.15g, %.15g%s",
                    layer->cls->name, layer->name, spec->name, value, subject, spec->min,
                    spec->max, spec->exclusive_max ? ")" : "]");
}

static bool outside(const nn_arg_spec *spec, double value)
{
    /* Written so that NaN is outside every range. */
    if (!(value >= spec->min))
        return true;
    return spec->exclusive_max ? !(value < spec->max) : !(value <= spec->max);
}

/* The same for a float argument, against the bounds as floats: the binding takes a bound
 * such as 1e30 itself, which as a float is a little beyond it. */
static bool float_outside(const nn_arg_spec *spec, float value)
{
    nn_arg_spec rounded = *spec;
    rounded.min = (double)(float)spec->min;
    rounded.max = (double)(float)spec->max;
    return outside(&rounded, value);
}

/* "(2, 3)", "(1, 2, 3)", or for sides "((1, 2), (0, 3))": the value as Keras writes it. */
static void sizes_text(nn_arg_kind kind, const int *values, char *text, size_t capacity)
{
    bool sides = nn_arg_is_sides(kind);
    int count = nn_arg_int_count(kind);
    size_t used = (size_t)snprintf(text, capacity, "(");
    for (int k = 0; k < count && used < capacity; k++) {
        const char *before = k == 0 ? "" : sides && k % 2 == 0 ? "), " : ", ";
        used += (size_t)snprintf(text + used, capacity - used, "%s%s%d", before,
                                 sides && k % 2 == 0 ? "(" : "", values[k]);
    }
    if (used < capacity)
        snprintf(text + used, capacity - used, sides ? "))" : ")");
}

nn_status nn_layer_check_arg_ranges(const nn_layer *layer)
{
    const nn_layer_class *cls = layer->cls;
    char text[128];
    for (int i = 0; i < cls->arg_count; i++) {
        const nn_arg_spec *spec = &cls->args[i];
        const void *field = (const char *)layer + spec->offset;
        switch (spec->kind) {
        case NN_ARG_INT: {
            int value = *(const int *)field;
            snprintf(text, sizeof text, "%d", value);
            if (outside(spec, value))
                return out_of_range(layer, spec, text, value);
            break;
        }
        case NN_ARG_OPTIONAL_INT: {
            const nn_optional_int *value = field;
            snprintf(text, sizeof text, "%lld", (long long)value->value);
            if (value->present && outside(spec, (double)value->value))
                return out_of_range(layer, spec, text, (double)value->value);
            break;
        }
        case NN_ARG_OPTIONAL_FLOATS: {
            const nn_optional_floats *value = field;
            for (int k = 0; value->present && k < value->count; k++) {
                snprintf(text, sizeof text, "%g", (double)value->values[k]);
                if (float_outside(spec, value->values[k]))
                    return out_of_range(layer, spec, text, value->values[k]);
            }
            break;
        }
        case NN_ARG_OPTIONAL_FLOAT: {
            const nn_optional_float *value = field;
            snprintf(text, sizeof text, "%g", (double)value->value);
            if (value->present && float_outside(spec, value->value))
                return out_of_range(layer, spec, text, value->value);
            break;
        }
        case NN_ARG_FLOAT: {
            float value = *(const float *)field;
            snprintf(text, sizeof text, "%g", (double)value);
            if (float_outside(spec, value))
                return out_of_range(layer, spec, text, value);
            break;
        }
        case NN_ARG_PAIR:
        case NN_ARG_OPTIONAL_PAIR:
        case NN_ARG_TRIPLE:
        case NN_ARG_OPTIONAL_TRIPLE:
        case NN_ARG_SIDES:
        case NN_ARG_SIDES3: {
            const int *values = field;
            if (nn_arg_is_optional_sizes(spec->kind) && nn_pair_is_none(values))
                break;
            sizes_text(spec->kind, values, text, sizeof text);
            for (int k = 0; k < nn_arg_int_count(spec->kind); k++)
                if (outside(spec, values[k]))
                    return out_of_range(layer, spec, text, values[k]);
            break;
        }
        case NN_ARG_AXES: {
            const nn_axes *axes = field;
            if (axes->count < 1 || axes->count > NN_MAX_DIMS)
                return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s must list 1 to %d axes, got %d",
                                layer->cls->name, layer->name, spec->name, NN_MAX_DIMS,
                                axes->count);
            for (int k = 0; k < axes->count; k++) {
                snprintf(text, sizeof text, "%d", axes->values[k]);
                if (outside(spec, axes->values[k]))
                    return out_of_range(layer, spec, text, axes->values[k]);
                for (int j = 0; j < k; j++)
                    if (axes->values[j] == axes->values[k])
                        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": %s lists axis %d twice",
                                        layer->cls->name, layer->name, spec->name,
                                        axes->values[k]);
            }
            break;
        }
        case NN_ARG_FACTOR: {
            const float *factor = field;
            if (!spec->required && nn_factor_is_none(factor))
                break;
            snprintf(text, sizeof text, "(%g, %g)", (double)factor[0], (double)factor[1]);
            if (float_outside(spec, factor[0]) || float_outside(spec, factor[1]))
                return out_of_range(layer, spec, text,
                                    float_outside(spec, factor[0]) ? factor[0] : factor[1]);
            if (factor[0] > factor[1]) /* the binding and the file reader sort them */
                return nn_error(NN_ERR_ARGUMENT,
                                "%s \"%s\": %s=%s has its lower bound above its upper one",
                                layer->cls->name, layer->name, spec->name, text);
            break;
        }
        default:
            break;
        }
    }
    return NN_OK;
}
