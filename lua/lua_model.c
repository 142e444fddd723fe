/* nn.Sequential: building models, summary, compile, and the fit / evaluate / predict
 * loops with Keras-style progress output and Lua callbacks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "device.h"
#include "nn_lua.h"
#include "io/safetensors.h"
#include "lua_io.h"
#include "names.h"
#include "lua_progress.h"
#include "summary_box.h"
#include "terminal.h"
#include "text.h"

/* ---- userdata ---- */

nn_model *nn_lua_check_model(lua_State *L, int index, const char *function)
{
    nn_model **slot = luaL_testudata(L, index, NN_LUA_MODEL);
    if (!slot || !*slot) {
        char hint[160];
        nn_lua_error(L, "%s: expected a model (nn.Sequential) as argument %d, got %s%s", function,
                     index, nn_lua_typename(L, index),
                     nn_lua_colon_hint(index, function, hint, sizeof hint));
    }
    return *slot;
}

static int model_gc(lua_State *L)
{
    nn_model **slot = luaL_checkudata(L, 1, NN_LUA_MODEL);
    nn_model_release(*slot);
    *slot = NULL;
    return 0;
}

/* The Lua-side state of a model (its last history) lives in the userdata's user value. */
void nn_lua_push_model_state(lua_State *L, int model_index)
{
    if (lua_getiuservalue(L, model_index, 1) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, model_index, 1);
    }
}

void nn_lua_push_model(lua_State *L, nn_model *model)
{
    nn_model **slot = lua_newuserdatauv(L, sizeof *slot, 1);
    *slot = model;
    luaL_setmetatable(L, NN_LUA_MODEL);
}

/* A model among the layers, as in Keras' Sequential([model, Softmax()]): its layers
 * join, shared, so that training either model trains both, as a nested Keras model
 * shares its weights; model.layers and summary list them one by one. */
static void add_model_layers(lua_State *L, nn_model *model, nn_model *inner,
                             const char *function)
{
    if (inner == model)
        nn_lua_error(L, "%s: a model cannot be one of its own layers", function);
    if (inner->layer_count == 0)
        nn_lua_error(L, "%s: model \"%s\" has no layers to add", function, inner->name);
    if (model->layer_count == 0 && inner->input_shape.ndim > 0) {
        nn_shape sample = {.ndim = inner->input_shape.ndim - 1};
        memcpy(sample.dims, &inner->input_shape.dims[1], (size_t)sample.ndim * sizeof sample.dims[0]);
        if (!model->input_declared)
            nn_lua_check(L, nn_model_declare_input(model, &sample), function);
    }
    /* Every layer is checked before any joins, so that a refused model changes nothing. */
    for (int i = 0; i < inner->layer_count; i++) {
        nn_layer *layer = inner->layers[i];
        for (int j = 0; j < model->layer_count; j++)
            if (model->layers[j] == layer)
                nn_lua_error(L, "%s: layer \"%s\" of model \"%s\" is in this model already; "
                                "a model's layers can be added once",
                             function, layer->name, inner->name);
            else if (strcmp(model->layers[j]->name, layer->name) == 0)
                nn_lua_error(L, "%s: model \"%s\" brings a layer named \"%s\", and model "
                                "\"%s\" has one of that name already; give the layers "
                                "name='...' of their own",
                             function, inner->name, layer->name, model->name);
    }
    int first = model->layer_count, popped_before = model->popped_count;
    for (int i = 0; i < inner->layer_count; i++) {
        if (nn_model_add(model, inner->layers[i]) == NN_OK)
            continue;
        /* A shape that does not fit: the layers that joined go again (nn_model_pop gives
         * each back), and the message is the one nn_model_add left. */
        char message[1024];
        snprintf(message, sizeof message, "%s", nn_error_message());
        while (model->layer_count > first) {
            nn_layer *joined = NULL;
            if (nn_model_pop(model, &joined) != NN_OK)
                break;
            nn_layer_release(joined);
        }
        model->popped_count = popped_before; /* their names were never the model's own */
        nn_lua_error(L, "%s: %s", function, message);
    }
}

static void add_layer(lua_State *L, nn_model *model, int index, const char *function)
{
    const nn_shape *input = nn_lua_test_input(L, index);
    if (input) {
        nn_shape sample = {.ndim = input->ndim - 1};
        memcpy(sample.dims, &input->dims[1], (size_t)sample.ndim * sizeof sample.dims[0]);
        nn_lua_check(L, nn_model_declare_input(model, &sample), function);
        return;
    }
    nn_model **inner = luaL_testudata(L, index, NN_LUA_MODEL);
    if (inner && *inner) {
        add_model_layers(L, model, *inner, function);
        return;
    }
    if (!luaL_testudata(L, index, NN_LUA_LAYER))
        nn_lua_error(L, "%s: expected a layer (from nn.layers), a model or an nn.Input, got %s",
                     function, nn_lua_typename(L, index));
    nn_layer *layer = nn_lua_check_layer(L, index, function);
    nn_lua_check(L, nn_model_add(model, layer), function);
}

/* nn.Sequential{layer, layer, ..., name='...'} */
static int l_sequential(lua_State *L)
{
    const char *function = "nn.Sequential";
    nn_lua_check_no_more_arguments(L, 2, function, "nn.Sequential{layer, ..., name='...'} or "
                                                   "nn.Sequential({layer, ...}, name)");
    if (!lua_isnoneornil(L, 1) && !lua_istable(L, 1))
        nn_lua_error(L, "%s: expected a table of layers, got %s", function, nn_lua_typename(L, 1));
    if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TSTRING)
        nn_lua_error(L, "%s: argument 2 is the model's name, a string; got %s", function,
                     nn_lua_typename(L, 2));
    const char *name = "sequential";
    if (lua_istable(L, 1) || lua_type(L, 2) == LUA_TSTRING) {
        /* The name by position, as Keras' Sequential(layers, name), or as name=. */
        if (lua_type(L, 2) == LUA_TSTRING) {
            bool named_twice = lua_istable(L, 1) && lua_getfield(L, 1, "name") != LUA_TNIL;
            if (named_twice)
                nn_lua_error(L, "%s: the name is given twice (name= and argument 2)", function);
            lua_settop(L, 2);
            lua_pushvalue(L, 2);
        } else {
            lua_getfield(L, 1, "name");
        }
        if (!lua_isnil(L, -1)) {
            if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0)
                nn_lua_error(L, "%s: name must be a non-empty string, got %s", function,
                             lua_type(L, -1) == LUA_TSTRING ? "an empty one"
                                                            : nn_lua_typename(L, -1));
            if (lua_rawlen(L, -1) >= NN_NAME_CAPACITY)
                nn_lua_error(L, "%s: name is %zu characters long; at most %d are allowed",
                             function, (size_t)lua_rawlen(L, -1), NN_NAME_CAPACITY - 1);
            for (const char *c = lua_tostring(L, -1); *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    nn_lua_error(L, "%s: name must not hold control characters (found byte %d)",
                                 function, (unsigned char)*c);
            if (!nn_utf8_valid(lua_tostring(L, -1), lua_rawlen(L, -1)))
                nn_lua_error(L, "%s: name must be valid UTF-8 text", function);
            name = lua_tostring(L, -1);
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        while (lua_istable(L, 1) && lua_next(L, 1)) {
            lua_pop(L, 1);
            bool position = lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1);
            bool named = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "name") == 0;
            if (!position && !named)
                nn_lua_error(L, "%s: unknown option '%s'; give layers in order, plus an "
                                "optional name='...'",
                             function, lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
        }
    }
    nn_model **slot = lua_newuserdatauv(L, sizeof *slot, 1);
    *slot = NULL;
    luaL_setmetatable(L, NN_LUA_MODEL);
    int object = lua_gettop(L);
    nn_lua_check(L, nn_model_create(slot, name), function);
    if (lua_istable(L, 1)) {
        lua_Integer count = luaL_len(L, 1);
        for (lua_Integer i = 1; i <= count; i++) {
            lua_geti(L, 1, i);
            char where[64];
            snprintf(where, sizeof where, "%s (layer %lld)", function, (long long)i);
            add_layer(L, *slot, lua_gettop(L), where);
            lua_pop(L, 1);
        }
    }
    lua_pushvalue(L, object);
    return 1;
}

static int model_add(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "model:add");
    nn_lua_check_no_more_arguments(L, 2, "model:add",
                                   "model:add(layer), one layer at a time as in Keras");
    add_layer(L, model, 2, "model:add");
    lua_settop(L, 1);
    return 1;
}

/* model:pop() -> the last layer, removed from the model (Keras' Sequential.pop). */
static int model_pop(lua_State *L)
{
    const char *function = "model:pop";
    nn_model *model = nn_lua_check_model(L, 1, function);
    if (lua_gettop(L) > 1)
        nn_lua_error(L, "%s: takes no arguments, got %d", function, lua_gettop(L) - 1);
    nn_layer *layer = NULL;
    nn_lua_check(L, nn_model_pop(model, &layer), function);
    nn_lua_push_layer(L, layer);
    nn_layer_release(layer); /* the Lua object holds it now */
    return 1;
}

static int model_build(lua_State *L)
{
    const char *function = "model:build";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_shape shape = nn_lua_check_batch_shape_args(L, 2, function);
    /* A known batch size builds as any other (the model takes every batch size). */
    if (shape.dims[0] != -1 && shape.dims[0] < 1)
        nn_lua_error(L, "%s: the batch size (axis 0) must be nn.None, -1 or positive, got %lld",
                     function, (long long)shape.dims[0]);
    for (int i = 1; i < shape.ndim; i++)
        if (shape.dims[i] == -1)
            nn_lua_error(L, "%s: axis %d of the input shape is unknown (nn.None or -1); only the "
                         "batch axis (the first) may be unknown, the others must be known to "
                         "build the model", function, i);
    nn_lua_check(L, nn_model_build(model, &shape), function);
    lua_settop(L, 1);
    return 1;
}

static int model_count_params(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "model:count_params");
    nn_lua_check_no_more_arguments(L, 1, "model:count_params", "model:count_params()");
    lua_pushinteger(L, nn_model_count_params(model, true) + nn_model_count_params(model, false));
    return 1;
}

static int model_get_layer(lua_State *L)
{
    const char *function = "model:get_layer";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "model:get_layer(name or position)");
    if (lua_type(L, 2) != LUA_TNUMBER && lua_type(L, 2) != LUA_TSTRING)
        nn_lua_error(L, "%s: expected a layer's name or its 1-based position, got %s", function,
                     nn_lua_typename(L, 2));
    if (lua_type(L, 2) == LUA_TNUMBER) {
        int is_integer = 0;
        lua_Integer position = nn_lua_tointeger(L, 2, &is_integer);
        if (!is_integer && isnan(lua_tonumber(L, 2)))
            nn_lua_error(L, "%s: a position must be a whole number (layers count from 1), got "
                         "NaN", function);
        if (!is_integer)
            nn_lua_error(L, "%s: a position must be a whole number (layers count from 1), got "
                         "%.15g", function, lua_tonumber(L, 2));
        if (position < 0 && -(position + 1) < model->layer_count)
            position += model->layer_count + 1; /* -1 is the last, as model.layers[-1] */
        if (position < 1 || position > model->layer_count)
            nn_lua_error(L, "%s: position %lld is out of range (the model has %d layer%s)",
                         function, (long long)position, model->layer_count,
                         model->layer_count == 1 ? "" : "s");
        nn_lua_push_layer(L, model->layers[position - 1]);
        return 1;
    }
    const char *name = lua_tostring(L, 2);
    for (int i = 0; i < model->layer_count; i++) {
        if (strcmp(model->layers[i]->name, name) == 0) {
            nn_lua_push_layer(L, model->layers[i]);
            return 1;
        }
    }
    nn_lua_error(L, "%s: no layer named '%s' in model \"%s\"", function, name, model->name);
    return 0;
}

/* ---- summary ---- */

enum { EXPLANATION_WIDTH = 74 }; /* with the summary's indent of 5: an 80-column terminal */

/* Appends label and then text, one line per "; "-separated part (so "height: ...",
 * "width: ..." and "channels: ..." read as a column), a part too long for the width
 * going on at a space outside parentheses, so formulas and asides stay whole. */
static void append_explanation(nn_text *out, const char *label, const char *text)
{
    size_t indent = strlen(label), column = indent;
    nn_text_append(out, label);
    int depth = 0;
    size_t last_break = 0; /* where the last space outside parentheses went in out */
    for (const char *c = text; *c; c++) {
        if (c[0] == ';' && c[1] == ' ' && depth == 0) {
            nn_text_append(out, "\n");
            nn_text_repeat(out, " ", (int)indent);
            column = indent, depth = 0, last_break = 0;
            c++;
            continue;
        }
        depth += *c == '(' ? 1 : *c == ')' ? -1 : 0;
        if (*c == ' ' && depth == 0)
            last_break = out->length;
        nn_text_append_n(out, c, 1);
        column++;
        if (column > EXPLANATION_WIDTH && last_break > 0 && !out->failed) {
            /* Move the words after the last break to a new, further indented line. */
            size_t moved = out->length - last_break - 1;
            char rest[EXPLANATION_WIDTH + 1];
            if (moved > EXPLANATION_WIDTH)
                continue;
            memcpy(rest, out->data + last_break + 1, moved);
            out->length = last_break;
            nn_text_append(out, "\n");
            nn_text_repeat(out, " ", (int)indent + 2);
            nn_text_append_n(out, rest, moved);
            column = indent + 2 + moved;
            last_break = 0;
        }
    }
    nn_text_append(out, "\n");
}

/* "kernel 3*3*1*32 (288) + bias 32 = 320": the arithmetic of one layer's weights. */
static void explain_params(nn_text *out, const nn_layer *layer)
{
    long long total = 0;
    for (int p = 0; p < layer->param_count; p++) {
        const nn_param *param = &layer->params[p];
        long long count = nn_shape_inner(&param->shape, 0);
        nn_text_printf(out, "%s%s ", p ? " + " : "", param->name);
        for (int d = 0; d < param->shape.ndim; d++)
            nn_text_printf(out, "%s%lld", d ? "*" : "", (long long)param->shape.dims[d]);
        if (param->shape.ndim == 0)
            nn_text_append(out, "1"); /* a scalar (Normalization's count) */
        if (param->shape.ndim > 1)
            nn_text_printf(out, " (%lld)", count);
        if (!nn_param_trains(layer, param))
            nn_text_append(out, " [non-trainable]");
        total += count;
    }
    if (layer->param_count == 0)
        nn_text_append(out, "none");
    else
        nn_text_printf(out, " = %lld", total);
}

/* Whether a layer name matches one end of layer_range as Keras' re.match(given, name)
 * does for a plain name: at its start, so 'dense' also matches dense_1; a final '$' asks
 * for the whole name. */
static bool layer_name_matches(const char *name, const char *given)
{
    size_t length = strlen(given);
    if (length > 0 && given[length - 1] == '$')
        return strlen(name) == length - 1 && strncmp(name, given, length - 1) == 0;
    return strncmp(name, given, length) == 0;
}

/* Raises model:summary's error for a layer_range end that matches no layer, listing the
 * first layer names. */
static int layer_range_unknown(lua_State *L, const nn_model *model, const char *which,
                               const char *given)
{
    enum { LISTED = 8 };
    char names[LISTED * (NN_NAME_CAPACITY + 2) + 8] = "";
    size_t used = 0;
    for (int i = 0; i < model->layer_count && i < LISTED; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 model->layers[i]->name);
    if (model->layer_count > LISTED)
        snprintf(names + used, sizeof names - used, ", ...");
    return nn_lua_error(L, "model:summary: layer_range's %s name '%s' matches no layer of model "
                           "\"%s\" (a name matches the layers whose names begin with it, as "
                           "Keras; the layers: %s)",
                        which, given, model->name, names);
}

/* layer_range={'first', 'last'}: *first and *last receive the 0-based rows to show, both
 * inclusive, from the first layer matching 'first' to the last matching 'last'; all rows
 * without the option. Raises for anything but two names, a name that matches nothing, a
 * pattern, or a first layer after the last. */
static void summary_layer_range(lua_State *L, int options, const nn_model *model, int *first,
                                int *last)
{
    *first = 0, *last = model->layer_count - 1;
    if (!lua_istable(L, options) || lua_getfield(L, options, "layer_range") == LUA_TNIL) {
        if (lua_istable(L, options))
            lua_pop(L, 1);
        return;
    }
    int range = lua_gettop(L);
    if (!lua_istable(L, range))
        nn_lua_error(L, "model:summary: layer_range must be a pair of layer names {first, last}, "
                        "got %s",
                     nn_lua_typename(L, range));
    lua_Unsigned count = lua_rawlen(L, range);
    if (count != 2)
        nn_lua_error(L, "model:summary: layer_range must be a pair of layer names {first, last}, "
                        "got a table of %llu values",
                     (unsigned long long)count);
    const char *given[2];
    static const char *const which[2] = {"first", "last"};
    for (int end = 0; end < 2; end++) {
        lua_rawgeti(L, range, end + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            nn_lua_error(L, "model:summary: layer_range's %s entry must be a layer name (a string), "
                            "got %s",
                         which[end], nn_lua_typename(L, -1));
        given[end] = lua_tostring(L, -1);
        size_t length = strlen(given[end]);
        size_t plain = length > 0 && given[end][length - 1] == '$' ? length - 1 : length;
        if (strcspn(given[end], ".^$*+?{}[]\\|()") < plain)
            nn_lua_error(L, "model:summary: layer_range's %s entry must be a layer name (Keras' "
                            "regular expressions are not supported; a final '$' matches the whole "
                            "name), got '%s'",
                         which[end], given[end]);
        lua_pop(L, 1); /* the string stays alive in the table */
    }
    int lower = -1, upper = -1;
    for (int i = 0; i < model->layer_count; i++) {
        if (lower < 0 && layer_name_matches(model->layers[i]->name, given[0]))
            lower = i;
        if (layer_name_matches(model->layers[i]->name, given[1]))
            upper = i;
    }
    if (lower < 0)
        layer_range_unknown(L, model, "first", given[0]);
    if (upper < 0)
        layer_range_unknown(L, model, "last", given[1]);
    if (lower > upper)
        nn_lua_error(L, "model:summary: layer_range's first layer %s (layer %d) comes after its "
                        "last layer %s (layer %d); give them in the model's order",
                     model->layers[lower]->name, lower + 1, model->layers[upper]->name, upper + 1);
    lua_pop(L, 1);
    *first = lower, *last = upper;
}

/* Reads positions={a, b, c} at index into given[3]: three numbers over 0, whole ones when
 * the last is over 1 (they count characters then). */
static void check_positions(lua_State *L, int table, double given[3])
{
    if (!lua_istable(L, table) || lua_rawlen(L, table) != 3) {
        if (lua_istable(L, table))
            nn_lua_error(L, "model:summary: positions must be the ends of the 3 columns {a, b, c} "
                            "(fractions of line_length, or characters), got a table of %llu values",
                         (unsigned long long)lua_rawlen(L, table));
        nn_lua_error(L, "model:summary: positions must be the ends of the 3 columns {a, b, c} "
                        "(fractions of line_length, or characters), got %s",
                     nn_lua_typename(L, table));
    }
    for (int c = 0; c < 3; c++) {
        lua_rawgeti(L, table, c + 1);
        if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0))
            nn_lua_error(L, "model:summary: positions[%d] must be a number > 0, got %s", c + 1,
                         lua_type(L, -1) == LUA_TNUMBER
                             ? nn_lua_number_text(lua_tonumber(L, -1), (char[32]){0}, 32)
                             : nn_lua_typename(L, -1));
        given[c] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    for (int c = 0; given[2] > 1 && c < 3; c++)
        if (given[c] != (double)(int)given[c] || given[c] > 100000)
            nn_lua_error(L, "model:summary: positions[%d] must be a whole number of characters "
                            "(the last position is over 1, so they count characters), got %s",
                         c + 1, nn_lua_number_text(given[c], (char[32]){0}, 32));
}

/* positions={a, b, c}: the ends of Keras' three columns, as fractions of line_length when
 * the last is at most 1 (truncated, as Keras' int(line_length * p)), else as character
 * counts; without it Keras' {0.45, 0.85, 1}. Fills positions[3], all 0 (Keras' 29, 55,
 * 65) when neither option is given. Every column, the Trainable one included when shown,
 * must be 4 characters wide at least (Keras 3's own limit; Keras 2 would loop forever). */
static void summary_positions(lua_State *L, int options, int line_length, bool show_trainable,
                              int positions[3])
{
    positions[0] = positions[1] = positions[2] = 0;
    double given[3] = {0.45, 0.85, 1.0};
    bool has_positions = lua_istable(L, options) &&
                         lua_getfield(L, options, "positions") != LUA_TNIL;
    if (lua_istable(L, options) && !has_positions)
        lua_pop(L, 1);
    if (!has_positions && line_length == 0)
        return;
    if (line_length == 0)
        line_length = 65;
    if (has_positions)
        check_positions(L, lua_gettop(L), given);
    bool relative = given[2] <= 1;
    for (int c = 0; c < 3; c++)
        positions[c] = relative ? (int)(line_length * given[c]) : (int)given[c];
    int ends[4] = {positions[0], positions[1], positions[2], line_length + 11};
    int columns = show_trainable ? 4 : 3;
    for (int c = 0; c < columns; c++) {
        int start = c > 0 ? ends[c - 1] : 0;
        if (ends[c] - start >= 4)
            continue;
        char trainable[64] = "";
        if (show_trainable)
            snprintf(trainable, sizeof trainable, ", and Trainable at line_length + 11 = %d",
                     ends[3]);
        nn_lua_error(L, "model:summary: line_length and positions leave column %d %d characters "
                        "wide; each needs 4 at least (columns end at %d, %d, %d%s)",
                     c + 1, ends[c] - start, ends[0], ends[1], ends[2], trainable);
    }
    if (has_positions)
        lua_pop(L, 1);
}

static int model_summary(lua_State *L)
{
    const char *function = "model:summary";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "model:summary([{explain=false, ...}])");
    static const char *const names[] = {"explain",        "print_fn",      "line_length",
                                        "layout",         "positions",     "show_trainable",
                                        "expand_nested",  "layer_range",   NULL};
    nn_lua_check_option_names(L, 2, function, names, 0);
    bool explain = nn_lua_opt_boolean(L, 2, "explain", false, function);
    bool show_trainable = nn_lua_opt_boolean(L, 2, "show_trainable", false, function);
    /* Nested Sequential models are already flattened into this model's layers, so every
     * layer has its own row: expand_nested has nothing to expand, but is checked. */
    (void)nn_lua_opt_boolean(L, 2, "expand_nested", false, function);
    int line_length = (int)nn_lua_opt_integer(L, 2, "line_length", 0, 1, 100000, function);
    if (lua_istable(L, 2) && lua_getfield(L, 2, "print_fn") != LUA_TNIL &&
        lua_type(L, -1) != LUA_TFUNCTION)
        nn_lua_error(L, "%s: print_fn must be a function, got %s", function,
                     nn_lua_typename(L, -1));
    if (lua_istable(L, 2))
        lua_pop(L, 1);
    /* A terminal gets a box-drawn table fitted to its width (Unicode lines when the
     * locale is UTF-8, and also when it is too narrow for Keras' 65 columns); pipes,
     * files, notebooks and print_fn get Keras' exact layout. layout= overrides. */
    nn_terminal terminal = nn_terminal_probe(STDOUT_FILENO);
    bool has_print_fn = lua_istable(L, 2) && lua_getfield(L, 2, "print_fn") != LUA_TNIL;
    if (lua_istable(L, 2))
        lua_pop(L, 1);
    /* line_length and positions place Keras' columns, so they also choose its layout. */
    bool has_columns = line_length > 0;
    if (lua_istable(L, 2)) {
        has_columns |= lua_getfield(L, 2, "positions") != LUA_TNIL;
        lua_pop(L, 1);
    }
    bool box = !has_print_fn && !has_columns && nn_lua_output_is_terminal() &&
               (terminal.utf8 || terminal.columns < 65);
    if (lua_istable(L, 2) && lua_getfield(L, 2, "layout") != LUA_TNIL) {
        const char *layout = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!layout)
            return nn_lua_error(L, "%s: layout must be 'box' or 'keras', got %s", function,
                         nn_lua_typename(L, -1));
        if (strcmp(layout, "box") != 0 && strcmp(layout, "keras") != 0)
            nn_lua_error(L, "%s: layout must be 'box' or 'keras', got '%s'", function, layout);
        box = strcmp(layout, "box") == 0;
        if (box && has_columns)
            nn_lua_error(L, "%s: line_length and positions place the columns of layout='keras'; "
                            "layout='box' sizes its columns to the terminal",
                         function);
    }
    if (lua_istable(L, 2))
        lua_pop(L, 1);
    int positions[3];
    summary_positions(L, 2, line_length, show_trainable, positions);
    nn_charset charset = nn_lua_output_is_terminal() && terminal.utf8 ? NN_CHARSET_UNICODE
                                                                      : NN_CHARSET_ASCII;
    int width = nn_lua_output_is_terminal() ? terminal.columns : 80;
    if (!model->built)
        nn_lua_error(L, "%s: This model has not yet been built. Build the model first by "
                        "calling build() or by calling the model on a batch of data, or give "
                        "the first layer an input_shape",
                     function);
    int first, last;
    summary_layer_range(L, 2, model, &first, &last);
    nn_summary_row *rows = lua_newuserdatauv(L, sizeof *rows * (size_t)(model->layer_count + 1), 0);
    nn_text *texts = lua_newuserdatauv(L, sizeof *texts * (size_t)(model->layer_count + 1), 0);
    char (*types)[NN_NAME_CAPACITY] = lua_newuserdatauv(L, NN_NAME_CAPACITY * (size_t)(model->layer_count + 1), 0);
    char (*shapes)[128] = lua_newuserdatauv(L, 128 * (size_t)(model->layer_count + 1), 0);
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        nn_text_init(&texts[i]);
        if (explain) {
            append_explanation(&texts[i], "shape:  ", layer->explanation);
            nn_text params;
            nn_text_init(&params);
            explain_params(&params, layer);
            append_explanation(&texts[i], "params: ", params.data ? params.data : "");
            nn_text_free(&params);
        }
        snprintf(types[i], sizeof types[i], "%s", layer->cls->name);
        rows[i] = (nn_summary_row){
            .name = layer->name,
            .type = types[i],
            .output = nn_shape_format(&layer->output_shape, shapes[i], sizeof shapes[i]),
            .params = nn_layer_count_params(layer, true) + nn_layer_count_params(layer, false),
            .explanation = explain ? texts[i].data : NULL,
            .trainable = layer->trainable,
            .has_weights = layer->param_count > 0,
        };
    }
    /* layer_range limits the rows; the totals stay the whole model's, as in Keras. */
    nn_summary summary = {
        .model_name = model->name,
        .rows = rows + first,
        .row_count = last - first + 1,
        .trainable = nn_model_count_params(model, true),
        .non_trainable = nn_model_count_params(model, false),
        .show_trainable = show_trainable,
        .line_length = line_length,
        .positions = {positions[0], positions[1], positions[2]},
    };
    summary.total = summary.trainable + summary.non_trainable;
    nn_text out;
    nn_text_init(&out);
    if (box)
        nn_summary_render_box(&out, &summary, width, charset, explain);
    else
        nn_summary_render_keras(&out, &summary, explain);
    for (int i = 0; i < model->layer_count; i++)
        nn_text_free(&texts[i]);
    lua_pushlstring(L, out.data ? out.data : "", out.length);
    nn_text_free(&out);
    /* print_fn receives each line, as in Keras; otherwise the text goes to the output. */
    if (lua_istable(L, 2) && lua_getfield(L, 2, "print_fn") != LUA_TNIL) {
        int print_fn = lua_gettop(L);
        const char *text = lua_tostring(L, -2);
        const char *line = text;
        while (*line) {
            const char *end = strchr(line, '\n');
            size_t length = end ? (size_t)(end - line) : strlen(line);
            lua_pushvalue(L, print_fn);
            lua_pushlstring(L, line, length);
            lua_call(L, 1, 0);
            line += length + (end ? 1 : 0);
        }
        return 0;
    }
    size_t length;
    const char *text = lua_tolstring(L, lua_istable(L, 2) ? -2 : -1, &length);
    nn_lua_write(L, text, length);
    return 0;
}

/* ---- compile ---- */

/* The name of a setting given as a string ('adam'), as a table from nn.optimizers or
 * nn.losses ({name='adam', ...}), or as a loss function of nn.losses, as Keras' compile
 * takes keras.losses.categorical_crossentropy; NULL when none. The string lives in the
 * table or the function. */
static const char *setting_name(lua_State *L, int index)
{
    if (lua_type(L, index) == LUA_TSTRING)
        return lua_tostring(L, index);
    if (lua_type(L, index) == LUA_TFUNCTION)
        return nn_lua_loss_function_name(L, index);
    if (!lua_istable(L, index))
        return NULL;
    lua_getfield(L, index, "name");
    const char *name = lua_tostring(L, -1);
    lua_pop(L, 1);
    return name;
}

/* A schedule's number setting: a Lua number (not a string that looks like one); its range
 * is the engine's to check, so that NaN and the limits are named as they are for files. */
static double schedule_number(lua_State *L, int index, const char *key, const char *where)
{
    lua_getfield(L, index, key);
    if (lua_type(L, -1) != LUA_TNUMBER)
        nn_lua_error(L, "%s: %s must be a number, got %s", where, key, nn_lua_typename(L, -1));
    double value = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return value;
}

/* A schedule from nn.optimizers.schedules: a table whose `schedule` names the class and
 * whose other keys are that class's Keras settings (checked strictly: an unknown one, a
 * missing required one, a value out of range is an error naming `function`). */
static void parse_schedule(lua_State *L, int index, nn_schedule *out, const char *function)
{
    index = lua_absindex(L, index);
    lua_getfield(L, index, "schedule");
    const char *class_name = lua_tostring(L, -1);
    nn_schedule_kind kind = NN_SCHEDULE_CONSTANT;
    if (!class_name || nn_schedule_parse(class_name, &kind) != NN_OK)
        nn_lua_error(L, "%s: expected a learning-rate schedule from nn.optimizers.schedules, "
                        "got a table whose schedule is %s",
                     function, class_name ? class_name : "missing");
    lua_pop(L, 1);
    *out = nn_schedule_defaults(kind);
    /* Messages name the function and the class once: "nn.optimizers.schedules.CosineDecay:
     * ..." from a constructor, "model:compile: CosineDecay: ..." from elsewhere. */
    const char *class_name_text = nn_schedule_name(kind);
    size_t function_length = strlen(function), class_length = strlen(class_name_text);
    bool names_class = function_length >= class_length &&
                       strcmp(function + function_length - class_length, class_name_text) == 0;
    char where[160];
    snprintf(where, sizeof where, "%s%s%s", function, names_class ? "" : ": ",
             names_class ? "" : class_name_text);
    int count, used = 0;
    const nn_schedule_setting *all = nn_schedule_settings(&count);
    const char *names[20];
    for (int i = 0; i < count; i++) {
        if (!(all[i].kinds & (1u << kind)))
            continue;
        names[used++] = all[i].name;
        lua_getfield(L, index, all[i].name);
        bool given = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (!given && all[i].required)
            nn_lua_error(L, "%s: missing required argument '%s'", where, all[i].name);
        char *at = (char *)out + all[i].offset;
        if (all[i].flag)
            *(bool *)at = nn_lua_opt_boolean(L, index, all[i].name, *(bool *)at, where);
        else if (given)
            *(double *)at = schedule_number(L, index, all[i].name, where);
    }
    if (kind == NN_SCHEDULE_COSINE_DECAY) {
        names[used++] = "warmup_target";
        lua_getfield(L, index, "warmup_target");
        out->warmup = !lua_isnil(L, -1);
        lua_pop(L, 1);
        if (out->warmup)
            out->warmup_target = schedule_number(L, index, "warmup_target", where);
    }
    if (kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY) {
        names[used++] = "boundaries";
        names[used++] = "values";
        int lengths[2];
        double *lists[2] = {out->boundaries, out->values};
        const char *list_names[2] = {"boundaries", "values"};
        for (int k = 0; k < 2; k++) {
            lua_getfield(L, index, list_names[k]);
            if (!lua_istable(L, -1))
                nn_lua_error(L, "%s: %s must be a list of numbers, got %s", where,
                             list_names[k], lua_isnil(L, -1) ? "nothing (it is required)"
                                                             : nn_lua_typename(L, -1));
            lengths[k] = (int)lua_rawlen(L, -1);
            int capacity = NN_SCHEDULE_MAX_BOUNDARIES + k;
            if (lengths[k] > capacity)
                nn_lua_error(L, "%s: %s holds %d numbers, at most %d allowed", where,
                             list_names[k], lengths[k], capacity);
            for (int i = 0; i < lengths[k]; i++) {
                lua_rawgeti(L, -1, i + 1);
                if (lua_type(L, -1) != LUA_TNUMBER)
                    nn_lua_error(L, "%s: %s[%d] must be a number, got %s", where, list_names[k],
                                 i + 1, nn_lua_typename(L, -1));
                lists[k][i] = lua_tonumber(L, -1);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        if (lengths[1] != lengths[0] + 1)
            nn_lua_error(L, "%s: values must hold one more number than boundaries (the rate "
                            "before the first boundary, between each two, after the last), "
                            "got %d boundaries and %d values",
                         where, lengths[0], lengths[1]);
        out->boundary_count = lengths[0];
    }
    names[used++] = "name";
    names[used] = NULL;
    lua_getfield(L, index, "name");
    if (!lua_isnil(L, -1)) {
        size_t length = 0;
        const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &length) : NULL;
        if (!name || length == 0 || length >= sizeof out->name || strlen(name) != length)
            nn_lua_error(L, "%s: name must be a string of 1 to %d bytes, got %s", where,
                         (int)sizeof out->name - 1,
                         name ? "one that is empty, too long or holds a zero byte"
                              : nn_lua_typename(L, -1));
        memcpy(out->name, name, length + 1);
    }
    lua_pop(L, 1);
    /* The settings are checked without the class key, which the user does not write. */
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, index)) {
        if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "schedule") == 0) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    nn_lua_check_option_names(L, -1, where, names, 0);
    lua_pop(L, 1);
    if (nn_schedule_check(out) != NN_OK) {
        /* The engine's message starts with the class name, which `where` holds. */
        const char *message = nn_error_message();
        if (strncmp(message, class_name_text, class_length) == 0 &&
            strncmp(message + class_length, ": ", 2) == 0)
            message += class_length + 2;
        nn_lua_error(L, "%s: %s", where, message);
    }
}

/* nn._schedule_rate(schedule, step[, function]): the schedule's rate after `step`
 * updates; it checks the schedule, so the constructors call it with step 0. */
static int l_schedule_rate(lua_State *L)
{
    const char *function = luaL_optstring(L, 3, "learning-rate schedule");
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_type(L, 2) != LUA_TNUMBER)
        nn_lua_error(L, "%s: call a schedule with the step whose rate you want, schedule(step); "
                        "got %s",
                     function, nn_lua_typename(L, 2));
    double step = lua_tonumber(L, 2);
    if (!(step >= 0) || !isfinite(step))
        nn_lua_error(L, "%s: the step must be a finite number >= 0, got %g", function, step);
    nn_schedule schedule;
    parse_schedule(L, 1, &schedule, function);
    lua_pushnumber(L, nn_schedule_rate(&schedule, step));
    return 1;
}

static void parse_optimizer(lua_State *L, int index, nn_optimizer_config *config,
                            const char *function)
{
    index = lua_absindex(L, index);
    nn_optimizer_kind kind;
    const char *name = setting_name(L, index);
    if (!name)
        nn_lua_error(L, "%s: optimizer must be a name such as 'adam' or an optimizer from "
                        "nn.optimizers, got %s",
                     function, nn_lua_typename(L, index));
    if (nn_optimizer_parse(name, &kind) != NN_OK)
        nn_lua_raise(L, function);
    *config = nn_optimizer_defaults(kind);
    if (!lua_istable(L, index))
        return;
    /* Each optimizer takes Keras' settings for it and no others: Lion{epsilon=...} is
     * refused, as Keras refuses it, rather than silently ignored. */
    static const char *const shared[] = {"name", "learning_rate", "weight_decay",
                                         "exclude_from_weight_decay", "clipnorm", "clipvalue",
                                         "global_clipnorm", "iterations"};
    enum { SHARED_COUNT = (int)(sizeof shared / sizeof shared[0]) };
    const char *names[SHARED_COUNT + NN_OPTIMIZER_MOST_OWN_SETTINGS + 1];
    int count = 0;
    for (int i = 0; i < SHARED_COUNT; i++)
        names[count++] = shared[i];
    for (const char *const *own = nn_optimizer_own_settings(kind); *own; own++)
        if (count < SHARED_COUNT + NN_OPTIMIZER_MOST_OWN_SETTINGS) /* always, by the test */
            names[count++] = *own;
    names[count] = NULL;
    nn_lua_check_option_names(L, index, function, names, 0);
    /* iterations comes with model.optimizer, so that it can be passed back, and is then
     * ignored, as Keras' from_config ignores it: a new optimizer has no moments, and
     * starting its count (and schedule) mid-way without them would be neither a fresh
     * start nor the old run resumed (model files keep both, for that). */
    lua_getfield(L, index, "iterations");
    if (!lua_isnil(L, -1) && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0))
        nn_lua_error(L, "%s: iterations must be an integer >= 0 (the updates taken, as "
                        "model.optimizer gives it; a new optimizer starts from 0), got %s",
                     function, lua_type(L, -1) == LUA_TNUMBER ? luaL_tolstring(L, -1, NULL)
                                                              : nn_lua_typename(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, index, "learning_rate");
    bool scheduled = lua_istable(L, -1);
    if (scheduled) {
        parse_schedule(L, -1, &config->schedule, function);
        config->learning_rate = nn_schedule_rate(&config->schedule, 0.0);
    }
    lua_pop(L, 1);
    /* 0 is allowed, as in Keras: a run that computes losses but moves nothing. */
    if (!scheduled)
        config->learning_rate = nn_lua_opt_number(L, index, "learning_rate",
                                                  config->learning_rate, 0,
                                                  NN_OPTIMIZER_SETTING_MAX, function);
    config->momentum = nn_lua_opt_number(L, index, "momentum", config->momentum, 0, 1, function);
    config->nesterov = nn_lua_opt_boolean(L, index, "nesterov", config->nesterov, function);
    config->beta_1 = nn_lua_opt_number(L, index, "beta_1", config->beta_1, 0, 1, function);
    config->beta_2 = nn_lua_opt_number(L, index, "beta_2", config->beta_2, 0, 1, function);
    config->epsilon = nn_lua_opt_number(L, index, "epsilon", config->epsilon, 0, 1, function);
    config->amsgrad = nn_lua_opt_boolean(L, index, "amsgrad", config->amsgrad, function);
    config->weight_decay = nn_lua_opt_number(L, index, "weight_decay", config->weight_decay, 0,
                                             NN_WEIGHT_DECAY_MAX, function);
    config->rho = nn_lua_opt_number(L, index, "rho", config->rho, 0, 1, function);
    config->centered = nn_lua_opt_boolean(L, index, "centered", config->centered, function);
    config->initial_accumulator_value =
        nn_lua_opt_number(L, index, "initial_accumulator_value",
                          config->initial_accumulator_value, 0, NN_OPTIMIZER_SETTING_MAX,
                          function);
    config->clipnorm = nn_lua_opt_number(L, index, "clipnorm", config->clipnorm, 0,
                                         NN_OPTIMIZER_SETTING_MAX, function);
    config->clipvalue = nn_lua_opt_number(L, index, "clipvalue", config->clipvalue, 0,
                                          NN_OPTIMIZER_SETTING_MAX, function);
    config->global_clipnorm = nn_lua_opt_number(L, index, "global_clipnorm",
                                                config->global_clipnorm, 0,
                                                NN_OPTIMIZER_SETTING_MAX, function);
    config->learning_rate_power = nn_lua_opt_number(L, index, "learning_rate_power",
                                                    config->learning_rate_power,
                                                    -NN_OPTIMIZER_SETTING_MAX, 0, function);
    config->l1_regularization_strength =
        nn_lua_opt_number(L, index, "l1_regularization_strength",
                          config->l1_regularization_strength, 0, NN_OPTIMIZER_SETTING_MAX,
                          function);
    config->l2_regularization_strength =
        nn_lua_opt_number(L, index, "l2_regularization_strength",
                          config->l2_regularization_strength, 0, NN_OPTIMIZER_SETTING_MAX,
                          function);
    config->l2_shrinkage_regularization_strength =
        nn_lua_opt_number(L, index, "l2_shrinkage_regularization_strength",
                          config->l2_shrinkage_regularization_strength, 0,
                          NN_OPTIMIZER_SETTING_MAX, function);
    config->beta = nn_lua_opt_number(L, index, "beta", config->beta, 0, NN_OPTIMIZER_SETTING_MAX,
                                     function);
}

/* A schedule as nn.optimizers.schedules makes it (callable, printable, and what compile
 * takes back): its class and its config (nn_schedule_values; Keras' None left out). */
static void push_schedule(lua_State *L, const nn_schedule *schedule)
{
    lua_newtable(L);
    lua_pushstring(L, nn_schedule_name(schedule->kind));
    lua_setfield(L, -2, "schedule");
    nn_schedule_value values[NN_SCHEDULE_MAX_VALUES];
    int count = nn_schedule_values(schedule, values);
    for (int i = 0; i < count; i++) {
        const nn_schedule_value *value = &values[i];
        switch (value->type) {
        case NN_SCHEDULE_VALUE_NUMBER: lua_pushnumber(L, value->number); break;
        case NN_SCHEDULE_VALUE_FLAG: lua_pushboolean(L, value->flag); break;
        case NN_SCHEDULE_VALUE_STRING: lua_pushstring(L, value->text); break;
        case NN_SCHEDULE_VALUE_LIST:
            lua_createtable(L, value->length, 0);
            for (int k = 0; k < value->length; k++) {
                lua_pushnumber(L, value->list[k]);
                lua_rawseti(L, -2, k + 1);
            }
            break;
        case NN_SCHEDULE_VALUE_NONE: continue;
        }
        lua_setfield(L, -2, value->name);
    }
    luaL_setmetatable(L, NN_LUA_SCHEDULE);
}

/* One setting of `config` by its name, into the table on top. */
static void set_optimizer_setting(lua_State *L, const nn_optimizer_config *config,
                                  const char *name)
{
    const nn_optimizer_setting *setting = nn_optimizer_setting_find(name);
    if (!setting) /* never, by tests/engine/test_optimizer.c */
        return;
    const char *at = (const char *)config + setting->offset;
    if (setting->flag)
        lua_pushboolean(L, *(const bool *)at);
    else
        lua_pushnumber(L, *(const double *)at);
    lua_setfield(L, -2, name);
}

/* model.optimizer: the compiled model's optimizer as compile takes it back, as Keras'
 * optimizer.get_config(): the name; learning_rate, a number (the one set last) or the
 * schedule; weight_decay (0: none); the optimizer's own settings; each clip, and
 * exclude_from_weight_decay, only when set (a clip of 0 would read as clipping everything
 * to 0); and iterations, the updates taken, which compile ignores. */
static void push_optimizer_description(lua_State *L, const nn_model *model)
{
    const nn_optimizer_config *config = &model->optimizer_config;
    lua_newtable(L);
    lua_pushstring(L, nn_optimizer_name(config->kind));
    lua_setfield(L, -2, "name");
    if (config->schedule.kind != NN_SCHEDULE_CONSTANT)
        push_schedule(L, &config->schedule);
    else
        lua_pushnumber(L, config->learning_rate);
    lua_setfield(L, -2, "learning_rate");
    set_optimizer_setting(L, config, "weight_decay");
    const double clips[] = {config->clipnorm, config->clipvalue, config->global_clipnorm};
    const char *const clip_names[] = {"clipnorm", "clipvalue", "global_clipnorm"};
    for (int i = 0; i < 3; i++)
        if (clips[i] != 0.0)
            set_optimizer_setting(L, config, clip_names[i]);
    for (const char *const *own = nn_optimizer_own_settings(config->kind); *own; own++)
        set_optimizer_setting(L, config, *own);
    if (model->decay_exclusion_count > 0) {
        lua_createtable(L, model->decay_exclusion_count, 0);
        for (int i = 0; i < model->decay_exclusion_count; i++) {
            lua_pushstring(L, model->decay_exclusions[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "exclude_from_weight_decay");
    }
    lua_pushinteger(L, model->optimizer ? model->optimizer->iterations : 0);
    lua_setfield(L, -2, "iterations");
}

/* model.learning_rate = value (field names the assignment for the messages): a number
 * within compile's range, for a compiled model whose rate follows no schedule. */
static void set_learning_rate(lua_State *L, nn_model *model, int value, const char *field)
{
    if (lua_type(L, value) != LUA_TNUMBER)
        nn_lua_error(L, "%s must be a number, got %s (a schedule is given when compiling: "
                        "optimizer=nn.optimizers.Adam{learning_rate=schedule})",
                     field, nn_lua_typename(L, value));
    double rate = lua_tonumber(L, value);
    if (!(rate >= 0) || !isfinite(rate))
        nn_lua_error(L, "%s must be a finite number >= 0, got %g", field, rate);
    /* compile's range, so that model.optimizer stays a config compile takes back */
    if (rate > NN_OPTIMIZER_SETTING_MAX)
        nn_lua_error(L, "%s must be between 0 and %g, got %g", field, NN_OPTIMIZER_SETTING_MAX,
                     rate);
    if (!model->compiled)
        nn_lua_error(L, "model \"%s\" is not compiled yet: compile{optimizer=...} sets its "
                        "learning rate (nn.optimizers.Adam{learning_rate=%g})",
                     model->name, rate);
    if (nn_optimizer_refuses_rate(model->optimizer_config.kind, rate))
        nn_lua_error(L, "%s must be above 0 for %s, which divides by it (at least %g in "
                        "float32), got %g",
                     field, nn_optimizer_name(model->optimizer_config.kind),
                     NN_OPTIMIZER_SMALLEST_DIVISOR, rate);
    if (model->optimizer_config.schedule.kind != NN_SCHEDULE_CONSTANT)
        nn_lua_error(L, "model \"%s\": its learning rate follows the %s schedule and cannot be "
                        "set (compile again with a number, or leave the schedule to set it)",
                     model->name, nn_schedule_name(model->optimizer_config.schedule.kind));
    model->optimizer_config.learning_rate = rate;
    if (model->optimizer)
        model->optimizer->config.learning_rate = rate;
}

/* The nn.optimizers constructor of an optimizer kind: 'adam' -> Adam. */
static const char *optimizer_class(nn_optimizer_kind kind)
{
    static const char *const classes[][2] = {
        {"sgd", "SGD"},         {"adam", "Adam"},       {"adamw", "AdamW"},
        {"rmsprop", "RMSprop"}, {"adagrad", "Adagrad"}, {"nadam", "Nadam"},
        {"adamax", "Adamax"},   {"adadelta", "Adadelta"}, {"lion", "Lion"},
        {"ftrl", "Ftrl"}};
    const char *name = nn_optimizer_name(kind);
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strcmp(classes[i][0], name) == 0)
            return classes[i][1];
    return name;
}

/* ---- model.optimizer: a live view of the compiled model's optimizer ----
 * Reading a key gives the model's setting now (iterations counts on as it trains);
 * model.optimizer.learning_rate = x sets the rate, as in Keras; other settings are fixed
 * by compile, and get_config() gives a plain copy to change. The view's own table stays
 * empty, so that every read and write reaches the model; pairs() walks the settings, and
 * compile and nn.optimizers take the view back. */
/* model.optimizer:get_config(): the settings as a plain table, a copy to change and give
 * to compile (as Keras' optimizer.get_config()). */
static int optimizer_view_get_config(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, lua_upvalueindex(1), "model.optimizer:get_config");
    push_optimizer_description(L, model);
    return 1;
}

static int optimizer_view_index(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, lua_upvalueindex(1), "model.optimizer");
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "get_config") == 0) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_pushcclosure(L, optimizer_view_get_config, 1);
        return 1;
    }
    push_optimizer_description(L, model);
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
    return 1;
}

static int optimizer_view_newindex(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, lua_upvalueindex(1), "model.optimizer");
    const char *key = lua_tostring(L, 2);
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(key, "learning_rate") == 0) {
        set_learning_rate(L, model, 3, "model.optimizer.learning_rate");
        return 0;
    }
    push_optimizer_description(L, model);
    bool setting = lua_type(L, 2) == LUA_TSTRING && lua_getfield(L, -1, key) != LUA_TNIL;
    if (setting)
        nn_lua_error(L, "model.optimizer.%s cannot be set: compile fixes it (only learning_rate "
                        "changes in place); compile again with the optimizer it should be, "
                        "nn.optimizers.%s{%s=...}, or with a changed copy from "
                        "model.optimizer:get_config()",
                     key, optimizer_class(model->optimizer_config.kind), key);
    nn_lua_error(L, "model.optimizer has no setting %s (its settings: pairs(model.optimizer))",
                 lua_type(L, 2) == LUA_TSTRING ? key : nn_lua_typename(L, 2));
    return 0;
}

/* next(), for the pairs of a view: the description's own keys in turn. */
static int description_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

static int optimizer_view_pairs(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, lua_upvalueindex(1), "model.optimizer");
    lua_pushcfunction(L, description_next);
    push_optimizer_description(L, model);
    lua_pushnil(L);
    return 3;
}

/* Adam{learning_rate=0.001, weight_decay=0.0, beta_1=0.9, ..., iterations=12}: the
 * settings in Keras' get_config order. */
static int optimizer_view_tostring(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, lua_upvalueindex(1), "model.optimizer");
    push_optimizer_description(L, model);
    int description = lua_gettop(L);
    const char *keys[16 + NN_OPTIMIZER_MOST_OWN_SETTINGS];
    int count = 0;
    static const char *const leading[] = {"learning_rate", "weight_decay", "clipnorm",
                                          "clipvalue", "global_clipnorm"};
    for (size_t i = 0; i < sizeof leading / sizeof leading[0]; i++)
        keys[count++] = leading[i];
    for (const char *const *own = nn_optimizer_own_settings(model->optimizer_config.kind);
         *own && count < 13 + NN_OPTIMIZER_MOST_OWN_SETTINGS; own++)
        keys[count++] = *own;
    keys[count++] = "exclude_from_weight_decay";
    keys[count++] = "iterations";
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    luaL_addstring(&buffer, optimizer_class(model->optimizer_config.kind));
    luaL_addchar(&buffer, '{');
    bool first = true;
    for (int i = 0; i < count; i++) {
        int type = lua_getfield(L, description, keys[i]);
        if (type == LUA_TNIL) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushfstring(L, "%s%s=", first ? "" : ", ", keys[i]);
        if (type == LUA_TTABLE && !luaL_getmetafield(L, -2, "__tostring")) {
            /* the exclusion list: {'bias', 'gamma'} */
            lua_pushliteral(L, "{");
            lua_Integer n = (lua_Integer)lua_rawlen(L, -3);
            for (lua_Integer k = 1; k <= n; k++) {
                lua_rawgeti(L, -3, k);
                lua_pushfstring(L, "%s'%s'", k > 1 ? ", " : "", lua_tostring(L, -1));
                lua_remove(L, -2);
                lua_concat(L, 2);
            }
            lua_pushliteral(L, "}");
            lua_concat(L, 2);
        } else {
            if (type == LUA_TTABLE)
                lua_pop(L, 1); /* the __tostring luaL_getmetafield pushed */
            luaL_tolstring(L, -2, NULL);
        }
        lua_concat(L, 2);
        lua_remove(L, -2);
        luaL_addvalue(&buffer);
        first = false;
    }
    luaL_addchar(&buffer, '}');
    luaL_pushresult(&buffer);
    return 1;
}

static void push_optimizer_view(lua_State *L, int model_index)
{
    model_index = lua_absindex(L, model_index);
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    static const lua_CFunction functions[] = {optimizer_view_index, optimizer_view_newindex,
                                              optimizer_view_pairs, optimizer_view_tostring};
    static const char *const names[] = {"__index", "__newindex", "__pairs", "__tostring"};
    for (int i = 0; i < 4; i++) {
        lua_pushvalue(L, model_index);
        lua_pushcclosure(L, functions[i], 1);
        lua_setfield(L, -2, names[i]);
    }
    lua_pushliteral(L, "model.optimizer"); /* help(model.optimizer) finds the field's page */
    lua_setfield(L, -2, "__name");
    /* Reading it changes nothing, so the shell's Tab may list and read its keys. */
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "__nn_readable");
    lua_setmetatable(L, -2);
}

const char *const *nn_lua_loss_options(nn_loss_kind kind)
{
    /* Keras gives label_smoothing to the categorical and binary crossentropies only,
     * from_logits to the crossentropies, delta to huber, and nothing to the losses added
     * with huber; the others reject them as unknown options. (mean squared and absolute
     * error kept from_logits, which they have always taken and ignored.) */
    static const char *const smoothing_names[] = {"name", "from_logits", "label_smoothing",
                                                  NULL};
    static const char *const plain_names[] = {"name", "from_logits", NULL};
    static const char *const huber_names[] = {"name", "delta", NULL};
    static const char *const cosine_names[] = {"name", "axis", NULL};
    static const char *const name_only[] = {"name", NULL};
    return nn_loss_takes_label_smoothing(kind) ? smoothing_names
           : kind == NN_LOSS_HUBER             ? huber_names
           : kind == NN_LOSS_COSINE_SIMILARITY ? cosine_names
           : nn_loss_takes_from_logits(kind)   ? plain_names
                                               : name_only;
}

void nn_lua_parse_loss(lua_State *L, int index, nn_loss *loss, const char *function)
{
    index = lua_absindex(L, index);
    const char *name = setting_name(L, index);
    if (!name)
        nn_lua_error(L, "%s: loss must be a name such as 'sparse_categorical_crossentropy' or "
                        "a loss from nn.losses, got %s",
                     function, lua_type(L, index) == LUA_TFUNCTION
                                   ? "a function of its own (the training loop computes "
                                     "its losses in C; custom loss functions are not "
                                     "supported)"
                                   : nn_lua_typename(L, index));
    if (nn_loss_parse(name, loss) != NN_OK)
        nn_lua_raise(L, function);
    if (lua_istable(L, index)) {
        bool smooths = nn_loss_takes_label_smoothing(loss->kind);
        nn_lua_check_option_names(L, index, function, nn_lua_loss_options(loss->kind), 0);
        if (nn_loss_takes_from_logits(loss->kind))
            loss->from_logits = nn_lua_opt_boolean(L, index, "from_logits", false, function);
        if (smooths)
            loss->label_smoothing = nn_lua_opt_number(L, index, "label_smoothing", 0.0, 0.0,
                                                      1.0, function);
        if (loss->kind == NN_LOSS_COSINE_SIMILARITY) {
            /* Keras' axis: only the last one here, which is its default. */
            int type = lua_getfield(L, index, "axis");
            if (type != LUA_TNIL && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) == -1))
                nn_lua_error(L, "%s: cosine_similarity takes axis = -1 (the last axis, Keras' "
                                "default) only, got %s",
                             function, luaL_tolstring(L, -1, NULL));
            lua_pop(L, 1);
        }
        if (loss->kind == NN_LOSS_HUBER) {
            /* Any number here; nn_loss_check says which deltas make sense. */
            int type = lua_getfield(L, index, "delta");
            if (type != LUA_TNIL && type != LUA_TNUMBER)
                nn_lua_error(L, "%s: delta must be a number, got %s", function,
                             nn_lua_typename(L, -1));
            if (type == LUA_TNUMBER)
                loss->delta = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    }
}

/* One entry of compile's metrics: a name ('accuracy'), a loss function of nn.losses
 * (nn.losses.mean_absolute_error) or a metric object from nn.metrics ({class = 'top_k_categorical_accuracy', k = 3, name = 'top3'}), made for this loss (NULL:
 * no loss yet, as when nn.metrics makes the object). */
void nn_lua_parse_metric(lua_State *L, int index, const nn_loss *loss, nn_metric *metric,
                         const char *function)
{
    index = lua_absindex(L, index);
    /* A loss function of nn.losses counts as its name, as Keras' compile takes
     * metrics=[keras.losses.mean_absolute_error]. */
    const char *name = lua_type(L, index) == LUA_TSTRING ? lua_tostring(L, index)
                                                         : nn_lua_loss_function_name(L, index);
    if (name) {
        if (nn_metric_parse(name, loss, metric) != NN_OK)
            nn_lua_raise(L, function);
        return;
    }
    if (!lua_istable(L, index))
        nn_lua_error(L, "%s: a metric must be a name such as 'accuracy' or a metric from "
                        "nn.metrics, got %s",
                     function, nn_lua_typename(L, index));
    static const char *const names[] = {"class",          "name",     "k",
                                        "top_k",          "threshold", "thresholds",
                                        "num_thresholds", "class_id", "curve",
                                        "summation_method", NULL};
    nn_lua_check_option_names(L, index, function, names, 0);
    if (lua_getfield(L, index, "class") != LUA_TSTRING)
        nn_lua_error(L, "%s: a metric object needs its class, a name such as 'precision' "
                        "(nn.metrics.Precision{} makes one), got %s",
                     function, nn_lua_typename(L, -1));
    nn_status status = nn_metric_parse(lua_tostring(L, -1), loss, metric);
    lua_pop(L, 1);
    int type = lua_getfield(L, index, "name");
    if (status == NN_OK && type != LUA_TNIL) {
        if (type != LUA_TSTRING)
            nn_lua_error(L, "%s: a metric's name must be a string, got %s", function,
                         nn_lua_typename(L, -1));
        status = nn_metric_set_name(metric, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
    /* k in the top-k accuracies, top_k in Precision and Recall (Keras' names); class_id. */
    static const char *const integers[] = {"k", "top_k", "num_thresholds", "class_id"};
    for (int i = 0; i < 4 && status == NN_OK; i++) {
        if (lua_getfield(L, index, integers[i]) != LUA_TNIL) {
            if (!lua_isinteger(L, -1))
                nn_lua_error(L, "%s: %s must be an integer, got %s", function, integers[i],
                             nn_lua_typename(L, -1));
            int64_t value = (int64_t)lua_tointeger(L, -1);
            status = i < 2   ? nn_metric_set_top_k(metric, value)
                     : i == 2 ? nn_metric_set_thresholds(metric, value)
                              : nn_metric_set_class_id(metric, value);
        }
        lua_pop(L, 1);
    }
    /* Keras calls it thresholds in Precision and Recall, threshold in BinaryAccuracy. */
    for (int i = 0; i < 2 && status == NN_OK; i++) {
        const char *key = i == 0 ? "threshold" : "thresholds";
        type = lua_getfield(L, index, key);
        if (type != LUA_TNIL && type != LUA_TNUMBER)
            nn_lua_error(L, "%s: %s must be a number, got %s", function, key,
                         nn_lua_typename(L, -1));
        if (type == LUA_TNUMBER)
            status = nn_metric_set_threshold(metric, lua_tonumber(L, -1));
        lua_pop(L, 1);
    }
    /* AUC's curve and summation_method, by Keras' names. */
    for (int i = 0; i < 2 && status == NN_OK; i++) {
        const char *key = i == 0 ? "curve" : "summation_method";
        type = lua_getfield(L, index, key);
        if (type != LUA_TNIL && type != LUA_TSTRING)
            nn_lua_error(L, "%s: %s must be a string, got %s", function, key,
                         nn_lua_typename(L, -1));
        if (type == LUA_TSTRING)
            status = i == 0 ? nn_metric_set_curve(metric, lua_tostring(L, -1))
                            : nn_metric_set_summation(metric, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    if (status != NN_OK)
        nn_lua_raise(L, function);
}

/* The optimizer's exclude_from_weight_decay = {'bias', ...} into names (strings that
 * live in the optimizer table at `index`); returns how many. */
static int parse_decay_exclusions(lua_State *L, int index, const char *names[],
                                  const char *function)
{
    index = lua_absindex(L, index);
    if (!lua_istable(L, index) ||
        lua_getfield(L, index, "exclude_from_weight_decay") == LUA_TNIL) {
        if (lua_istable(L, index))
            lua_pop(L, 1);
        return 0;
    }
    if (lua_type(L, -1) == LUA_TSTRING)
        nn_lua_error(L, "%s: exclude_from_weight_decay must be a list of weight names such as "
                        "{'bias'}, got a string (write {'%s'})", function, lua_tostring(L, -1));
    if (!lua_istable(L, -1))
        nn_lua_error(L, "%s: exclude_from_weight_decay must be a list of weight names such as "
                        "{'bias'}, got %s", function, nn_lua_typename(L, -1));
    lua_Integer count = luaL_len(L, -1);
    if (count > NN_MAX_DECAY_EXCLUSIONS)
        nn_lua_error(L, "%s: exclude_from_weight_decay takes at most %d names, got %lld",
                     function, NN_MAX_DECAY_EXCLUSIONS, (long long)count);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, -1, i);
        size_t length = 0;
        if (lua_type(L, -1) != LUA_TSTRING || (lua_tolstring(L, -1, &length), length == 0) ||
            length >= NN_NAME_CAPACITY)
            nn_lua_error(L, "%s: exclude_from_weight_decay entry %lld must be a weight name "
                            "(or part of one) of 1 to %d characters, got %s", function,
                         (long long)i, NN_NAME_CAPACITY - 1,
                         lua_type(L, -1) == LUA_TSTRING ? "an empty or longer string"
                                                        : nn_lua_typename(L, -1));
        names[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1); /* the string stays alive in the list */
    }
    lua_pop(L, 1);
    return (int)count;
}

/* compile's metrics or weighted_metrics (`list` names it), the value at `index`: one
 * metric (a name or an object with a class) or a list of them, nil for none, into
 * metrics (NN_MAX_METRICS); returns how many. */
static int parse_metric_list(lua_State *L, int index, const nn_loss *loss, nn_metric *metrics,
                             const char *list, const char *function)
{
    index = lua_absindex(L, index);
    /* An entry's own errors say which list it is in, past metrics' (as they always were). */
    char entry_function[64];
    snprintf(entry_function, sizeof entry_function, "%s%s%s", function,
             strcmp(list, "metrics") == 0 ? "" : ": ", strcmp(list, "metrics") == 0 ? "" : list);
    int metric_count = 0;
    bool single = lua_type(L, index) == LUA_TSTRING;
    if (!single && lua_istable(L, index)) {
        lua_getfield(L, index, "class");
        single = !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    if (single) {
        nn_lua_parse_metric(L, index, loss, &metrics[metric_count++], entry_function);
    } else if (lua_istable(L, index)) {
        lua_Integer count = luaL_len(L, index);
        /* A list and nothing else: {mae = true} would otherwise measure nothing. */
        for (lua_pushnil(L); lua_next(L, index); lua_pop(L, 1)) {
            if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 ||
                lua_tointeger(L, -2) > count) {
                lua_pop(L, 1);
                nn_lua_error(L, "%s: %s must be a list of names or nn.metrics objects, got a "
                                "table with the key %s (write %s = {'mae'})",
                             function, list, luaL_tolstring(L, -1, NULL), list);
            }
        }
        if (count > NN_MAX_METRICS)
            nn_lua_error(L, "%s: at most %d %s, got %lld", function, NN_MAX_METRICS, list,
                         (long long)count);
        for (lua_Integer i = 1; i <= count; i++) {
            lua_geti(L, index, i);
            nn_lua_parse_metric(L, -1, loss, &metrics[metric_count++], entry_function);
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, index)) {
        nn_lua_error(L, "%s: %s must be a list of names or nn.metrics objects, got %s",
                     function, list, nn_lua_typename(L, index));
    }
    return metric_count;
}

/* model:compile{optimizer=..., loss=..., metrics={...}, weighted_metrics={...}} */
static int model_compile(lua_State *L)
{
    const char *function = "model:compile";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function,
                                   "model:compile{optimizer=..., loss=..., metrics={...}}");
    if (!lua_istable(L, 2))
        nn_lua_error(L, "%s: expected a table {optimizer=..., loss=..., metrics={...}}, got %s",
                     function, nn_lua_typename(L, 2));
    static const char *const names[] = {"optimizer", "loss", "metrics", "weighted_metrics",
                                        NULL};
    nn_lua_check_option_names(L, 2, function, names, 0);
    nn_optimizer_config optimizer;
    lua_settop(L, 2);
    lua_getfield(L, 2, "optimizer"); /* stays at 3: the exclusion names live in it */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushliteral(L, "rmsprop"); /* Keras' default */
    }
    parse_optimizer(L, -1, &optimizer, function);
    const char *exclusions[NN_MAX_DECAY_EXCLUSIONS];
    int exclusion_count = parse_decay_exclusions(L, -1, exclusions, function);
    nn_loss loss;
    lua_getfield(L, 2, "loss");
    if (lua_isnil(L, -1))
        nn_lua_error(L, "%s: a loss is required, e.g. loss='sparse_categorical_crossentropy'",
                     function);
    nn_lua_parse_loss(L, -1, &loss, function);
    lua_pop(L, 1);
    nn_metric metrics[NN_MAX_METRICS], weighted[NN_MAX_METRICS];
    lua_getfield(L, 2, "metrics");
    int metric_count = parse_metric_list(L, -1, &loss, metrics, "metrics", function);
    lua_getfield(L, 2, "weighted_metrics");
    int weighted_count = parse_metric_list(L, -1, &loss, weighted, "weighted_metrics", function);
    nn_lua_check(L, nn_model_compile_weighted_metrics(model, &optimizer, &loss, metrics,
                                                      metric_count, weighted, weighted_count),
                 function);
    /* A new optimizer brings its own exclusions (none when it names none). */
    nn_lua_check(L, nn_model_exclude_from_weight_decay(model, exclusions, exclusion_count),
                 function);
    /* Nothing, as Keras' compile: the shell then shows no Out[n] repeating the model. */
    return 0;
}

static int parse_verbose(lua_State *L, int options, int fallback, const char *function)
{
    if (!lua_istable(L, options))
        return fallback;
    lua_getfield(L, options, "verbose");
    int verbose = fallback;
    if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "auto") == 0)
        verbose = 1;
    else if (!lua_isnil(L, -1)) {
        int is_integer = 0;
        lua_Integer value = nn_lua_tointeger(L, -1, &is_integer);
        char text[64];
        if (!is_integer || value < 0 || value > 2)
            nn_lua_error(L, "%s: verbose must be 0, 1, 2 or 'auto', got %s", function,
                         nn_lua_argument_text(L, -1, text, sizeof text));
        verbose = (int)value;
    }
    lua_pop(L, 1);
    return verbose;
}

/* A float32 version of x (Keras casts inputs); anchored on the stack. */
static nn_tensor *float_input(lua_State *L, int index, const char *function, const char *what)
{
    nn_tensor *x = nn_lua_to_tensor(L, index, function, what);
    if (x->dtype == NN_DTYPE_F32)
        return x;
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_astype(slot, x, NN_DTYPE_F32), function);
    lua_replace(L, index);
    return *slot;
}

/* x for the batch loops of fit, evaluate and predict: uint8 images stay bytes (the loops
 * turn each batch into floats, so a data set takes a quarter of the memory); any other
 * dtype becomes float32. */
static nn_tensor *batch_input(lua_State *L, int index, const char *function, const char *what)
{
    nn_tensor *x = nn_lua_to_tensor(L, index, function, what);
    return x->dtype == NN_DTYPE_U8 ? x : float_input(L, index, function, what);
}

static void push_history(lua_State *L, const nn_history *history, int verbose, int epochs,
                         int64_t steps)
{
    lua_createtable(L, 0, 3);
    lua_newtable(L); /* history.history */
    if (history->epochs > 0) {
        /* Keras 3's History appends each epoch's logs key by key: a key an epoch did not
         * log (val_* between validation_freq epochs) gets no entry, so its list is
         * shorter. Keys come in the order they first appear. */
        int values = lua_gettop(L);    /* history.history: key -> values */
        lua_newtable(L);               /* the key order, for printing and plotting in Keras' order */
        lua_newtable(L);               /* key -> the epochs (from 1) its values belong to */
        int order = values + 1, epochs_of = values + 2, key_count = 0;
        for (int e = 0; e < history->epochs; e++) {
            const nn_logs *row = &history->rows[e];
            for (int k = 0; k < row->count; k++) {
                const char *name = row->names[k];
                if (lua_getfield(L, values, name) == LUA_TNIL) {
                    lua_pop(L, 1);
                    lua_createtable(L, history->epochs, 0);
                    lua_setfield(L, epochs_of, name);
                    lua_createtable(L, history->epochs, 0);
                    lua_pushvalue(L, -1);
                    lua_setfield(L, values, name);
                    lua_pushstring(L, name);
                    lua_rawseti(L, order, ++key_count);
                }
                lua_pushnumber(L, row->values[k]);
                lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
                lua_pop(L, 1);
                lua_getfield(L, epochs_of, name);
                lua_pushinteger(L, history->epoch_numbers[e] + 1);
                lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
                lua_pop(L, 1);
            }
        }
        lua_setfield(L, values - 1, "_key_epochs");
        lua_setfield(L, values - 1, "keys");
    }
    lua_setfield(L, -2, "history");
    lua_createtable(L, history->epochs, 0);
    for (int e = 0; e < history->epochs; e++) {
        lua_pushinteger(L, history->epoch_numbers[e]);
        lua_rawseti(L, -2, e + 1);
    }
    lua_setfield(L, -2, "epoch");
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, verbose);
    lua_setfield(L, -2, "verbose");
    lua_pushinteger(L, epochs);
    lua_setfield(L, -2, "epochs");
    lua_pushinteger(L, steps);
    lua_setfield(L, -2, "steps");
    lua_setfield(L, -2, "params");
    luaL_setmetatable(L, NN_LUA_HISTORY);
}

/* Keras' class_weight, {[0]=w0, [1]=w1, ...} keyed by class id, as an array of weights
 * (classes without a key weigh 1) pushed as a full userdata; *count its length. */
static const double *class_weight_array(lua_State *L, int table, const char *function,
                                        int *count)
{
    if (!lua_istable(L, table))
        nn_lua_error(L, "%s: class_weight must be a table {[class id]=weight, ...}, got %s",
                     function, nn_lua_typename(L, table));
    /* Far more classes than any output has: the engine names the real limit. */
    const lua_Integer most = 1 << 20;
    lua_Integer top = -1;
    lua_pushnil(L);
    while (lua_next(L, table)) {
        /* Lua stores a whole float key (2.0) as an integer; 1.5 stays a float. */
        if (!lua_isinteger(L, -2)) {
            if (lua_type(L, -2) == LUA_TNUMBER)
                nn_lua_error(L, "%s: class_weight key %g is not a class id (whole numbers "
                             "from 0)", function, lua_tonumber(L, -2));
            nn_lua_error(L, "%s: class_weight keys must be class ids (integers from 0), got "
                         "a %s key", function, nn_lua_typename(L, -2));
        }
        lua_Integer id = lua_tointeger(L, -2);
        if (id < 0 || id >= most)
            nn_lua_error(L, "%s: class_weight key %lld is not a class id (they count from 0)",
                         function, (long long)id);
        if (lua_type(L, -1) != LUA_TNUMBER)
            nn_lua_error(L, "%s: class_weight[%lld] must be a number, got %s", function,
                         (long long)id, nn_lua_typename(L, -1));
        top = id > top ? id : top;
        lua_pop(L, 1);
    }
    if (top < 0)
        nn_lua_error(L, "%s: class_weight is empty; give {[class id]=weight, ...} or leave it "
                     "out", function);
    double *weights = lua_newuserdatauv(L, (size_t)(top + 1) * sizeof *weights, 0);
    for (lua_Integer id = 0; id <= top; id++) {
        lua_geti(L, table, id);
        weights[id] = lua_isnil(L, -1) ? 1.0 : lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    *count = (int)(top + 1);
    return weights;
}

/* The sample_weight option of the table at `options` (if it is one) as a tensor anchored
 * in stack slot `slot`; NULL when not given. */
static nn_tensor *opt_sample_weight(lua_State *L, int options, int slot, const char *function)
{
    if (!lua_istable(L, options))
        return NULL;
    if (lua_getfield(L, options, "sample_weight") == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_replace(L, slot);
    return nn_lua_to_tensor(L, slot, function, "sample_weight");
}

/* The class_weight option of the table at `options` (if it is one) as an array anchored
 * in stack slot `slot`; NULL and *count 0 when not given. */
static const double *opt_class_weight(lua_State *L, int options, int slot,
                                      const char *function, int *count)
{
    *count = 0;
    if (!lua_istable(L, options))
        return NULL;
    if (lua_getfield(L, options, "class_weight") == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    const double *weights = class_weight_array(L, lua_gettop(L), function, count);
    lua_replace(L, slot);
    lua_pop(L, 1);
    return weights;
}

/* The loss and metrics of logs as evaluate returns them: values in order, or one table
 * by name with return_dict. */
static int push_results(lua_State *L, const nn_logs *logs, bool return_dict)
{
    if (return_dict) {
        nn_lua_push_logs(L, logs);
        return 1;
    }
    luaL_checkstack(L, logs->count, "too many metrics");
    for (int i = 0; i < logs->count; i++)
        lua_pushnumber(L, logs->values[i]);
    return logs->count;
}

/* model:fit(x, y, {epochs=1, batch_size=32, validation_split=0, validation_data={x, y[, w]},
 *                  shuffle=true, verbose=1, callbacks={...}, initial_epoch=0,
 *                  steps_per_epoch=nil, validation_freq=1, validation_batch_size=nil,
 *                  sample_weight=nil, class_weight=nil}) */
static int model_fit(lua_State *L)
{
    const char *function = "model:fit";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 4, function, "model:fit(x, y, {epochs=1, ...})");
    lua_settop(L, 4);
    static const char *const names[] = {"epochs", "batch_size", "validation_split",
                                        "validation_data", "shuffle", "verbose", "callbacks",
                                        "initial_epoch", "steps_per_epoch",
                                        "validation_freq", "validation_batch_size",
                                        "sample_weight", "class_weight", NULL};
    nn_lua_check_option_names(L, 4, function, names, 0);
    if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
        nn_lua_error(L, "%s: expected inputs x and labels y (model:fit(x, y, {options}))",
                     function);
    if (lua_isnoneornil(L, 3))
        nn_lua_error(L, "%s: expected labels y as argument 2 (model:fit(x, y, {options}))",
                     function);
    nn_tensor *x = batch_input(L, 2, function, "x");
    nn_tensor *y = nn_lua_to_tensor(L, 3, function, "y");
    nn_fit_options options = nn_fit_defaults();
    options.epochs = (int)nn_lua_opt_integer(L, 4, "epochs", 1, 0, 1000000, function);
    options.batch_size = nn_lua_opt_integer(L, 4, "batch_size", 32, 1, INT64_C(1) << 31, function);
    options.validation_split = nn_lua_opt_number(L, 4, "validation_split", 0.0, 0.0, 0.999999, function);
    options.shuffle = nn_lua_opt_boolean(L, 4, "shuffle", true, function);
    options.initial_epoch = (int)nn_lua_opt_integer(L, 4, "initial_epoch", 0, 0, 1000000, function);
    options.steps_per_epoch = nn_lua_opt_integer(L, 4, "steps_per_epoch", 0, 0, LUA_MAXINTEGER, function);
    options.validation_freq = (int)nn_lua_opt_integer(L, 4, "validation_freq", 1, 1, 1000000,
                                                      function);
    /* 0 (not given) means batch_size, as Keras' None. */
    options.validation_batch_size = nn_lua_opt_integer(L, 4, "validation_batch_size", 0, 1,
                                                       INT64_C(1) << 31, function);
    int verbose = parse_verbose(L, 4, 1, function);
    lua_settop(L, 4);
    /* Slots 5 and 6: validation tensors, 7: callbacks, 8: sample weights, 9: validation
     * sample weights, 10: class weights. */
    for (int slot = 5; slot <= 10; slot++)
        lua_pushnil(L);
    if (lua_istable(L, 4)) {
        if (lua_getfield(L, 4, "validation_data") != LUA_TNIL) {
            lua_Integer length = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
            if (length != 2 && length != 3)
                nn_lua_error(L, "%s: validation_data must be {x_val, y_val} or {x_val, y_val, "
                             "sample_weight_val}", function);
            lua_geti(L, -1, 1);
            lua_replace(L, 5);
            lua_geti(L, -1, 2);
            lua_replace(L, 6);
            options.validation_x = batch_input(L, 5, function, "validation_data's x");
            options.validation_y = nn_lua_to_tensor(L, 6, function, "validation_data's y");
            if (length == 3) {
                lua_geti(L, -1, 3);
                lua_replace(L, 9);
                options.validation_sample_weight =
                    nn_lua_to_tensor(L, 9, function, "validation_data's sample weights");
            }
        }
        lua_pop(L, 1);
        options.sample_weight = opt_sample_weight(L, 4, 8, function);
        options.class_weight = opt_class_weight(L, 4, 10, function, &options.class_weight_count);
        if (lua_getfield(L, 4, "callbacks") != LUA_TNIL) {
            if (!lua_istable(L, -1))
                nn_lua_error(L, "%s: callbacks must be a list of callback tables, got %s",
                             function, nn_lua_typename(L, -1));
            /* One callback on its own (a table with fields or a class's metatable, but no
             * list part) is taken as a list of one, as Keras takes
             * callbacks=EarlyStopping(...); {} is no callbacks. */
            if (lua_rawlen(L, -1) == 0) {
                bool alone = lua_getmetatable(L, -1);
                if (alone)
                    lua_pop(L, 1);
                lua_pushnil(L);
                if (lua_next(L, -2)) {
                    lua_pop(L, 2);
                    alone = true;
                }
                if (alone) {
                    lua_createtable(L, 1, 0);
                    lua_insert(L, -2);
                    lua_rawseti(L, -2, 1);
                }
            }
            lua_replace(L, 7);
        } else {
            lua_pop(L, 1);
        }
    }
    nn_lua_progress progress;
    nn_lua_progress_init(&progress, L, model, "fit", verbose);
    progress.batch_size = options.batch_size;
    bool validates = options.validation_x != NULL || options.validation_split > 0;
    progress.validation_freq = validates ? options.validation_freq : 0;
    if (!lua_isnil(L, 7)) {
        progress.callbacks_index = 7;
        lua_Integer count = luaL_len(L, 7);
        for (lua_Integer i = 1; i <= count; i++) {
            if (lua_geti(L, 7, i) != LUA_TTABLE)
                nn_lua_error(L, "%s: callback %lld must be a table of functions, got %s",
                             function, (long long)i, nn_lua_typename(L, -1));
            /* Keras callbacks reach their model as self.model. */
            lua_pushvalue(L, 1);
            lua_setfield(L, -2, "model");
            if (lua_getfield(L, -1, "on_train_batch_end") != LUA_TNIL ||
                (lua_pop(L, 1), lua_getfield(L, -1, "on_batch_end") != LUA_TNIL))
                progress.want_batches = true;
            lua_pop(L, 1);
            if (lua_getfield(L, -1, "on_train_batch_begin") != LUA_TNIL ||
                (lua_pop(L, 1), lua_getfield(L, -1, "on_batch_begin") != LUA_TNIL))
                progress.want_batch_begins = true;
            lua_pop(L, 2);
        }
    }
    lua_settop(L, 10);
    nn_history history = {0};
    nn_progress engine = nn_lua_progress_hooks(&progress);
    nn_lua_interrupt_guard guard;
    nn_lua_guard_interrupts(&guard, L);
    nn_status status = nn_model_fit(model, x, y, &options, &engine, &history);
    nn_lua_release_interrupts(&guard);
    /* With TerminateOnNaN a non-finite loss ends training like a stop (Keras): the
     * message, on_train_end and the history; without it, it is an error. */
    if (status == NN_ERR_NUMERIC && progress.error_ref == LUA_NOREF &&
        nn_lua_callbacks_terminate_on_nan(L, 7)) {
        nn_logs last = history.epochs > 0 ? history.rows[history.epochs - 1] : (nn_logs){0};
        char message[1024];
        snprintf(message, sizeof message, "%s", nn_error_message());
        nn_status end_status = engine.train_end(engine.user, &last);
        status = end_status == NN_OK
                     ? nn_error(NN_ERR_STOPPED, "Invalid loss, terminating training: %s", message)
                     : end_status;
    }
    bool user_stop = status == NN_ERR_STOPPED && progress.error_ref == LUA_NOREF;
    if (status != NN_OK && !user_stop) {
        nn_history_free(&history);
        nn_lua_progress_finish(L, &progress, status, function);
    }
    if (user_stop && *nn_lua_stop_flag() == NN_LUA_STOP_INTERRUPT && !nn_lua_interactive()) {
        /* Ctrl-C in a script ends the script; the message says where training was. */
        nn_history_free(&history);
        nn_lua_error(L, "%s: interrupted: %s", function, nn_error_message());
    }
    if (user_stop) {
        nn_text line;
        nn_text_init(&line);
        nn_text_printf(&line, "%s%s; the model keeps its weights and the history so far.\n",
                       progress.terminal ? "\n" : "", nn_error_message());
        nn_lua_progress_write(&progress, &line);
        nn_text_free(&line);
    }
    push_history(L, &history, verbose, options.epochs, progress.steps);
    nn_history_free(&history);
    nn_lua_push_model_state(L, 1);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "history");
    lua_pop(L, 1);
    /* Last: the shell's handler stops the cell at its next call, and nothing of this
     * function may be one. */
    if (user_stop && *nn_lua_stop_flag() == NN_LUA_STOP_INTERRUPT)
        nn_lua_interrupted_fit();
    return 1;
}

/* model:evaluate(x, y, {batch_size=32, verbose=1, return_dict=false, sample_weight=nil})
 * -> loss, metrics... */
static int model_evaluate(lua_State *L)
{
    const char *function = "model:evaluate";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 4, function, "model:evaluate(x, y, {batch_size=32, ...})");
    lua_settop(L, 4);
    static const char *const names[] = {"batch_size", "verbose", "return_dict",
                                        "sample_weight", NULL};
    nn_lua_check_option_names(L, 4, function, names, 0);
    if (lua_isnil(L, 2) && lua_isnil(L, 3))
        nn_lua_error(L, "%s: expected inputs x and labels y (model:evaluate(x, y))", function);
    if (lua_isnil(L, 3))
        nn_lua_error(L, "%s: expected labels y as argument 2 (model:evaluate(x, y))", function);
    nn_tensor *x = batch_input(L, 2, function, "x");
    nn_tensor *y = nn_lua_to_tensor(L, 3, function, "y");
    int64_t batch_size = nn_lua_opt_integer(L, 4, "batch_size", 32, 1, INT64_C(1) << 31, function);
    int verbose = parse_verbose(L, 4, 1, function);
    bool return_dict = nn_lua_opt_boolean(L, 4, "return_dict", false, function);
    lua_settop(L, 4);
    lua_pushnil(L); /* slot 5: the sample weights */
    nn_tensor *sample_weight = opt_sample_weight(L, 4, 5, function);
    nn_lua_progress progress;
    nn_lua_progress_init(&progress, L, model, "evaluate", verbose);
    progress.pass_start = nn_lua_now();
    nn_progress engine = nn_lua_progress_hooks(&progress);
    engine.train_begin = NULL, engine.epoch_begin = NULL, engine.epoch_end = NULL,
    engine.train_end = NULL;
    nn_logs logs;
    nn_lua_interrupt_guard guard;
    nn_lua_guard_interrupts(&guard, L);
    nn_status status = nn_model_evaluate(model, x, y, sample_weight, batch_size, &engine,
                                         &logs);
    nn_lua_release_interrupts(&guard);
    nn_lua_progress_finish(L, &progress, status, function);
    if (status == NN_ERR_STOPPED)
        nn_lua_error(L, "%s: %s", function, nn_error_message());
    if (verbose > 0) {
        int64_t count = x->shape.dims[0];
        progress.steps = (count + batch_size - 1) / batch_size;
        nn_text line;
        nn_text_init(&line);
        nn_lua_progress_render(&line, &progress, progress.steps, &logs, verbose == 2);
        nn_lua_progress_draw(&progress, &line, true);
        nn_text_free(&line);
    }
    return push_results(L, &logs, return_dict);
}

/* model:predict(x, {batch_size=32, verbose=1}) -> tensor */
static int model_predict(lua_State *L)
{
    const char *function = "model:predict";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 3, function, "model:predict(x, {batch_size=32, verbose=1})");
    lua_settop(L, 3);
    static const char *const names[] = {"batch_size", "verbose", NULL};
    nn_lua_check_option_names(L, 3, function, names, 0);
    nn_tensor *x = batch_input(L, 2, function, "x");
    int64_t batch_size = nn_lua_opt_integer(L, 3, "batch_size", 32, 1, INT64_C(1) << 31, function);
    int verbose = parse_verbose(L, 3, 1, function);
    nn_lua_progress progress;
    nn_lua_progress_init(&progress, L, model, "predict", verbose);
    progress.pass_start = nn_lua_now();
    nn_progress engine = nn_lua_progress_hooks(&progress);
    engine.train_begin = NULL, engine.epoch_begin = NULL, engine.epoch_end = NULL,
    engine.train_end = NULL;
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_interrupt_guard guard;
    nn_lua_guard_interrupts(&guard, L);
    nn_status status = nn_model_predict(model, x, batch_size, &engine, slot);
    nn_lua_release_interrupts(&guard);
    nn_lua_progress_finish(L, &progress, status, function);
    if (status == NN_ERR_STOPPED)
        nn_lua_error(L, "%s: %s", function, nn_error_message());
    if (verbose > 0) {
        int64_t count = x->shape.dims[0];
        progress.steps = (count + batch_size - 1) / batch_size;
        nn_text line;
        nn_text_init(&line);
        nn_lua_progress_render(&line, &progress, progress.steps, NULL, verbose == 2);
        nn_lua_progress_draw(&progress, &line, true);
        nn_text_free(&line);
    }
    return 1;
}

/* model(x [, {training=false}]) -> tensor, all at once without progress output. */
static int model_call(lua_State *L)
{
    const char *function = "model(x)";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_call_arguments(L, 3, function, "model(x [, {training=false}])");
    lua_settop(L, 3);
    static const char *const names[] = {"training", NULL};
    nn_lua_check_option_names(L, 3, function, names, 0);
    nn_tensor *x = float_input(L, 2, function, "x");
    if (x->shape.ndim < 1)
        nn_lua_error(L, "%s: expected a batch of inputs, got a scalar", function);
    /* The global learning phase is the default here as for a layer's own call (Keras). */
    if (nn_lua_opt_boolean(L, 3, "training", nn_lua_learning_phase(), function)) {
        if (model->layer_count == 0)
            nn_lua_error(L, "%s: model \"%s\" has no layers", function, model->name);
        /* Built as predict would build it, so the model knows its input shape after. */
        if (!model->built)
            nn_lua_check(L, nn_model_build(model, &x->shape), function);
        /* Its layers, called one by one, would each take any shape their weights fit;
         * a model keeps the one it was built for, as predict does. */
        bool same = x->shape.ndim == model->input_shape.ndim;
        for (int i = 1; same && i < x->shape.ndim; i++)
            same = x->shape.dims[i] == model->input_shape.dims[i];
        if (!same) {
            nn_model_input_shape_error(model, function, &x->shape);
            nn_lua_error(L, "%s", nn_error_message());
        }
        /* Training mode runs the layers one by one, so dropout and batch statistics act. */
        lua_pushvalue(L, 2);
        for (int i = 0; i < model->layer_count; i++) {
            nn_tensor *input = nn_lua_test_tensor(L, -1);
            nn_tensor **slot = nn_lua_new_tensor_slot(L);
            nn_lua_check(L, nn_layer_call(model->layers[i], input, true, slot), function);
            lua_remove(L, -2);
        }
        return 1;
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    int64_t rows = x->shape.dims[0];
    /* The engine's message starts "predict: "; model(x) names itself instead. */
    if (nn_model_predict(model, x, rows < 1024 ? rows : 1024, NULL, slot) != NN_OK)
        nn_lua_raise_from(L, function, "predict");
    return 1;
}

static int model_tostring(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "tostring");
    char input[128], output[128], params[32];
    if (!model->built) {
        lua_pushfstring(L, "Sequential \"%s\": %d layer%s, not built yet", model->name,
                        model->layer_count, model->layer_count == 1 ? "" : "s");
        return 1;
    }
    nn_format_thousands(nn_model_count_params(model, true) + nn_model_count_params(model, false),
                        params, sizeof params);
    lua_pushfstring(L, "Sequential \"%s\": %s -> %s, %d layer%s, %s param%s", model->name,
                    nn_shape_format(&model->input_shape, input, sizeof input),
                    nn_shape_format(nn_model_output_shape(model), output, sizeof output),
                    model->layer_count, model->layer_count == 1 ? "" : "s", params,
                    strcmp(params, "1") == 0 ? "" : "s");
    return 1;
}

/* PyTorch's module methods and how nnsh does their work: a guess by spelling would send
 * eval to evaluate, which is not inference mode. */
static const char *torch_model_way(const char *key)
{
    static const nn_lua_name_text ways[] = {
        {"eval", "model(x) and model:predict(x) already run in inference mode (Dropout off, "
                 "BatchNormalization's moving statistics); model:evaluate(x, y) computes the "
                 "loss and metrics"},
        {"train", "model:fit(x, y, {...}) trains, model:train_on_batch(x, y) takes one step of "
                  "a loop of your own, model(x, {training = true}) runs in training mode"},
        {"parameters", "model.trainable_weights (or model.weights) lists the weight tensors"},
        {"named_parameters", "model.weights lists the weight tensors, each with its .path"},
        {"state_dict", "model:get_weights() gives the weights, model:save_weights(path) "
                       "writes them"},
        {"load_state_dict", "model:set_weights(list) or model:load_weights(path)"},
        {"zero_grad", "fit and train_on_batch clear the gradients themselves"},
        {"forward", "call the model: model(x)"},
        {"cuda", "model:to('gpu')"},
        {"cpu", "model:to('cpu')"},
    };
    return nn_lua_text_for(ways, sizeof ways / sizeof ways[0], key);
}

/* "model has no field or method 'fti' (did you mean 'fit'?)" for a slip, else with the
 * members whose names begin the same way. methods: the index of the methods table. */
static void raise_no_member(lua_State *L, const nn_model *model, const char *key, int methods)
{
    static const char *const fields[] = {
        "built", "compiled", "device", "history", "input_shape", "layers", "learning_rate",
        "loss", "metrics_names", "name", "non_trainable_weights", "optimizer", "output_shape",
        "stop_training", "trainable", "trainable_weights", "weights", NULL};
    const char *torch_way = torch_model_way(key);
    if (torch_way)
        nn_lua_error(L, "model \"%s\" has no field or method '%s' (a PyTorch name); %s",
                     model->name, key, torch_way);
    nn_name_guess guess;
    nn_name_guess_start(&guess, key);
    for (const char *const *field = fields; *field; field++)
        nn_name_guess_offer(&guess, *field);
    nn_lua_offer_keys(L, methods, &guess);
    if (guess.found_count > 0) {
        char guess_text[256];
        nn_lua_error(L, "model \"%s\" has no field or method '%s'%s", model->name, key,
                     nn_name_guess_text(&guess, guess_text, sizeof guess_text));
    }
    char close[512] = "";
    size_t used = 0, prefix = strlen(key) < 3 ? strlen(key) : 3;
    for (const char *const *field = fields; *field && used < sizeof close; field++)
        if (strncasecmp(*field, key, prefix) == 0)
            used += (size_t)snprintf(close + used, sizeof close - used, "%s%s",
                                     used ? ", " : "", *field);
    lua_pushnil(L);
    while (lua_next(L, methods)) {
        lua_pop(L, 1);
        if (used < sizeof close && lua_type(L, -1) == LUA_TSTRING &&
            strncasecmp(lua_tostring(L, -1), key, prefix) == 0)
            used += (size_t)snprintf(close + used, sizeof close - used, "%s:%s",
                                     used ? ", " : "", lua_tostring(L, -1));
    }
    nn_lua_error(L, "model \"%s\" has no field or method '%s'%s%s%s", model->name, key,
                 used ? "; did you mean " : "", close, used ? "?" : "; help(model) lists them");
}

static int model_index(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "model index");
    const char *key = nn_lua_check_field_key(L, 2, "model", model->name);
    if (strcmp(key, "name") == 0) {
        lua_pushstring(L, model->name);
    } else if (strcmp(key, "layers") == 0) {
        lua_createtable(L, model->layer_count, 0);
        for (int i = 0; i < model->layer_count; i++) {
            nn_lua_push_layer(L, model->layers[i]);
            lua_rawseti(L, -2, i + 1);
        }
        nn_lua_set_list_metatable(L, "model.layers", "layer");
    } else if (strcmp(key, "built") == 0) {
        lua_pushboolean(L, model->built);
    } else if (strcmp(key, "compiled") == 0) {
        lua_pushboolean(L, model->compiled);
    } else if (strcmp(key, "input_shape") == 0) {
        if (model->built)
            nn_lua_push_shape(L, &model->input_shape);
        else
            lua_pushnil(L);
    } else if (strcmp(key, "output_shape") == 0) {
        const nn_shape *shape = nn_model_output_shape(model);
        if (shape)
            nn_lua_push_shape(L, shape);
        else
            lua_pushnil(L);
    } else if (strcmp(key, "loss") == 0) {
        if (model->compiled)
            lua_pushstring(L, nn_loss_name(model->loss.kind));
        else
            lua_pushnil(L);
    } else if (strcmp(key, "metrics_names") == 0) {
        lua_createtable(L, model->metric_count + 1, 0);
        lua_pushliteral(L, "loss");
        lua_rawseti(L, -2, 1);
        for (int i = 0; i < model->metric_count; i++) {
            lua_pushstring(L, model->metric_log_names[i]);
            lua_rawseti(L, -2, i + 2);
        }
    } else if (strcmp(key, "optimizer") == 0) {
        if (model->compiled)
            push_optimizer_view(L, 1);
        else
            lua_pushnil(L);
    } else if (strcmp(key, "weights") == 0 || strcmp(key, "trainable_weights") == 0 ||
               strcmp(key, "non_trainable_weights") == 0) {
        /* Views of the weights (as layer.weights gives them), layer by layer, the order of
         * get_weights: trainable ones train now, in a layer that is not frozen. */
        lua_newtable(L);
        int count = 0;
        for (int i = 0; i < model->layer_count; i++) {
            nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count; p++) {
                bool trains = nn_param_trains(layer, &layer->params[p]);
                if ((key[0] == 't' && !trains) || (key[0] == 'n' && trains))
                    continue;
                nn_lua_push_weight(L, layer, &layer->params[p], "model.weights");
                lua_rawseti(L, -2, ++count);
            }
        }
        nn_lua_set_list_metatable(L, key[0] == 'w' ? "model.weights"
                                     : key[0] == 't' ? "model.trainable_weights"
                                                     : "model.non_trainable_weights",
                                  "weight");
    } else if (strcmp(key, "trainable") == 0) {
        /* Whether any layer trains: false once model.trainable = false froze them all. */
        bool trainable = false;
        for (int i = 0; i < model->layer_count && !trainable; i++)
            trainable = model->layers[i]->trainable;
        lua_pushboolean(L, trainable);
    } else if (strcmp(key, "device") == 0) {
        nn_device device;
        char name[32];
        nn_lua_check(L, nn_model_device(model, &device), "model.device");
        lua_pushstring(L, nn_device_format(device, name, sizeof name));
    } else if (strcmp(key, "history") == 0) {
        nn_lua_push_model_state(L, 1);
        lua_getfield(L, -1, key);
    } else if (strcmp(key, "stop_training") == 0) {
        /* false until a callback sets it; after it stopped fit, true until the next fit
         * starts, as Keras' */
        nn_lua_push_model_state(L, 1);
        bool set = lua_getfield(L, -1, key) == LUA_TBOOLEAN && lua_toboolean(L, -1);
        lua_pushboolean(L, set || model->stop_training);
    } else if (strcmp(key, "learning_rate") == 0) {
        /* Settable (model.learning_rate = x), so readable too; nil before compile. With a
         * schedule, the rate of the next update, as Keras' optimizer.learning_rate. */
        if (model->compiled)
            lua_pushnumber(L, model->optimizer
                                  ? nn_optimizer_rate_at(&model->optimizer->config,
                                                         model->optimizer->iterations)
                                  : nn_optimizer_rate_at(&model->optimizer_config, 0));
        else
            lua_pushnil(L);
    } else {
        luaL_getmetatable(L, NN_LUA_MODEL);
        lua_getfield(L, -1, "methods");
        if (lua_getfield(L, -1, key) == LUA_TNIL)
            raise_no_member(L, model, key, lua_gettop(L) - 1);
    }
    return 1;
}

static int model_newindex(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "model field");
    const char *key = nn_lua_check_field_key(L, 2, "model", model->name);
    if (strcmp(key, "stop_training") == 0) {
        if (!lua_isboolean(L, 3))
            nn_lua_error(L, "model.stop_training must be true or false");
        nn_lua_push_model_state(L, 1);
        lua_pushvalue(L, 3);
        lua_setfield(L, -2, "stop_training");
        model->stop_training = lua_toboolean(L, 3);
        return 0;
    }
    if (strcmp(key, "trainable") == 0) {
        /* Keras' model.trainable = false: every layer frozen (true thaws them all); the
         * model gathers its weights again on its next run, as for one layer. */
        if (!lua_isboolean(L, 3))
            nn_lua_error(L, "model.trainable must be true or false, got %s", nn_lua_typename(L, 3));
        for (int i = 0; i < model->layer_count; i++)
            if (model->layers[i]->running_in)
                nn_lua_error(L, "model \"%s\": trainable cannot change while model \"%s\" runs; "
                                "set it before fit",
                             model->name, model->layers[i]->running_in->name);
        for (int i = 0; i < model->layer_count; i++)
            model->layers[i]->trainable = lua_toboolean(L, 3);
        return 0;
    }
    if (strcmp(key, "learning_rate") == 0) {
        set_learning_rate(L, model, 3, "model.learning_rate");
        return 0;
    }
    nn_lua_error(L, "model \"%s\": field '%s' cannot be set (settable: stop_training, "
                    "learning_rate, trainable)", model->name, key);
    return 0;
}

/* model:to(device): moves the weights, gradients and optimizer state to 'cpu', 'gpu' or
 * 'gpu:N'; later fits, evaluations and predictions run there. Returns the model. */
static int model_to(lua_State *L)
{
    const char *function = "model:to";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "model:to('cpu' | 'gpu' | 'gpu:N')");
    nn_device device;
    nn_lua_check(L, nn_device_parse(nn_lua_check_device_name(L, 2, function), &device), function);
    nn_lua_check(L, nn_model_to(model, device), function);
    lua_settop(L, 1);
    return 1;
}

/* model:train_on_batch(x, y, {sample_weight=nil, class_weight=nil, return_dict=false})
 * -> loss, metrics...: one optimizer step with all of x as one batch. The loss and
 * metrics are the batch's before the step, as fit logs them. */
static int model_train_on_batch(lua_State *L)
{
    const char *function = "model:train_on_batch";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 4, function, "model:train_on_batch(x, y [, {options}])");
    lua_settop(L, 4);
    static const char *const names[] = {"sample_weight", "class_weight", "return_dict", NULL};
    nn_lua_check_option_names(L, 4, function, names, 0);
    if (lua_isnil(L, 3))
        nn_lua_error(L, "%s: expected labels y as argument 2 (model:train_on_batch(x, y))",
                     function);
    nn_tensor *x = batch_input(L, 2, function, "x");
    nn_tensor *y = nn_lua_to_tensor(L, 3, function, "y");
    bool return_dict = nn_lua_opt_boolean(L, 4, "return_dict", false, function);
    lua_settop(L, 4);
    lua_pushnil(L); /* slot 5: the sample weights, 6: the class weights */
    lua_pushnil(L);
    nn_fit_options options = nn_fit_defaults();
    options.sample_weight = opt_sample_weight(L, 4, 5, function);
    options.class_weight = opt_class_weight(L, 4, 6, function, &options.class_weight_count);
    options.shuffle = false;
    options.batch_size = x->shape.ndim > 0 ? x->shape.dims[0] : 1;
    nn_history history = {0};
    nn_status status = nn_model_fit(model, x, y, &options, NULL, &history);
    nn_logs logs = history.epochs > 0 ? history.rows[0] : (nn_logs){0};
    nn_history_free(&history);
    if (status != NN_OK)
        nn_lua_raise_from(L, function, "fit");
    return push_results(L, &logs, return_dict);
}

/* model:test_on_batch(x, y, {sample_weight=nil, return_dict=false}) -> loss, metrics...:
 * evaluate with all of x as one batch. */
static int model_test_on_batch(lua_State *L)
{
    const char *function = "model:test_on_batch";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 4, function, "model:test_on_batch(x, y [, {options}])");
    lua_settop(L, 4);
    static const char *const names[] = {"sample_weight", "return_dict", NULL};
    nn_lua_check_option_names(L, 4, function, names, 0);
    if (lua_isnil(L, 3))
        nn_lua_error(L, "%s: expected labels y as argument 2 (model:test_on_batch(x, y))",
                     function);
    nn_tensor *x = batch_input(L, 2, function, "x");
    nn_tensor *y = nn_lua_to_tensor(L, 3, function, "y");
    bool return_dict = nn_lua_opt_boolean(L, 4, "return_dict", false, function);
    lua_settop(L, 4);
    lua_pushnil(L); /* slot 5: the sample weights */
    nn_tensor *sample_weight = opt_sample_weight(L, 4, 5, function);
    nn_logs logs;
    nn_status status = nn_model_evaluate(model, x, y, sample_weight,
                                         x->shape.ndim > 0 ? x->shape.dims[0] : 1, NULL, &logs);
    if (status != NN_OK)
        nn_lua_raise_from(L, function, "evaluate");
    return push_results(L, &logs, return_dict);
}

/* model:predict_on_batch(x) -> tensor: predict with all of x as one batch. */
static int model_predict_on_batch(lua_State *L)
{
    const char *function = "model:predict_on_batch";
    nn_model *model = nn_lua_check_model(L, 1, function);
    if (lua_gettop(L) > 2)
        nn_lua_error(L, "%s: expected only x (model:predict_on_batch(x)), got %d arguments",
                     function, lua_gettop(L) - 1);
    lua_settop(L, 2);
    nn_tensor *x = batch_input(L, 2, function, "x");
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_status status = nn_model_predict(model, x, x->shape.ndim > 0 ? x->shape.dims[0] : 1,
                                        NULL, slot);
    if (status != NN_OK)
        nn_lua_raise_from(L, function, "predict");
    return 1;
}

static const luaL_Reg model_methods[] = {
    {"add", model_add},           {"pop", model_pop},
    {"build", model_build},       {"summary", model_summary},
    {"compile", model_compile},
    {"fit", model_fit},           {"evaluate", model_evaluate},
    {"predict", model_predict},   {"count_params", model_count_params},
    {"train_on_batch", model_train_on_batch}, {"test_on_batch", model_test_on_batch},
    {"predict_on_batch", model_predict_on_batch},
    {"get_layer", model_get_layer}, {"to", model_to},
    {NULL, NULL},
};

static const luaL_Reg model_metamethods[] = {
    {"__gc", model_gc},         {"__index", model_index}, {"__newindex", model_newindex},
    {"__call", model_call},     {"__tostring", model_tostring}, {NULL, NULL},
};

/* nn._check_optimizer(optimizer, function) and nn._check_loss(loss, function): what
 * compile checks, when nn.optimizers.Adam{...} or nn.losses.X{...} is made, so a bad
 * setting is reported where it was written. */
static int l_check_optimizer(lua_State *L)
{
    const char *function = luaL_checkstring(L, 2);
    lua_settop(L, 2); /* keeps function's string alive */
    nn_optimizer_config config;
    parse_optimizer(L, 1, &config, function);
    const char *exclusions[NN_MAX_DECAY_EXCLUSIONS];
    parse_decay_exclusions(L, 1, exclusions, function);
    if (nn_optimizer_config_check(&config) != NN_OK) {
        /* The engine's message starts with the optimizer's own name ("adam: ..."), which
         * the function's name already says. */
        const char *message = nn_error_message();
        const char *own = nn_optimizer_name(config.kind);
        size_t length = strlen(own);
        if (strncmp(message, own, length) == 0 && strncmp(message + length, ": ", 2) == 0)
            message += length + 2;
        nn_lua_error(L, "%s: %s", function, message);
    }
    return 0;
}

/* nn._check_metric(metric, function): nn.metrics.X{...} checks its settings where it is
 * written (the labels it reads are checked against the loss at compile). */
static int l_check_metric(lua_State *L)
{
    const char *function = luaL_checkstring(L, 2);
    lua_settop(L, 2);
    nn_metric metric;
    nn_lua_parse_metric(L, 1, NULL, &metric, function);
    return 0;
}

/* nn._monitor_mode(model, monitor) -> 'max', 'min' or nil: which way the log a callback
 * watches improves ("loss" and "val_loss" go down; a metric as its kind does), for the
 * callbacks' mode = 'auto'; nil for a name the model does not log. */
static int l_monitor_mode(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "nn._monitor_mode");
    const char *monitor = luaL_checkstring(L, 2);
    if (strncmp(monitor, "val_", 4) == 0)
        monitor += 4;
    if (strcmp(monitor, "loss") == 0) {
        lua_pushstring(L, "min");
        return 1;
    }
    for (int m = 0; model->compiled && m < model->metric_count; m++) {
        if (strcmp(model->metric_log_names[m], monitor) == 0) {
            lua_pushstring(L, nn_metric_direction(model->metrics[m].kind) > 0 ? "max" : "min");
            return 1;
        }
    }
    lua_pushnil(L);
    return 1;
}

static int l_check_loss(lua_State *L)
{
    const char *function = luaL_checkstring(L, 2);
    lua_settop(L, 2); /* keeps function's string alive */
    nn_loss loss;
    nn_lua_parse_loss(L, 1, &loss, function);
    if (nn_loss_check(&loss) != NN_OK)
        nn_lua_error(L, "%s: %s", function, nn_error_message());
    return 0;
}

void nn_lua_open_model(lua_State *L)
{
    luaL_newmetatable(L, NN_LUA_MODEL);
    luaL_setfuncs(L, model_metamethods, 0);
    luaL_newlib(L, model_methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);
    luaL_newmetatable(L, NN_LUA_HISTORY);
    lua_pop(L, 1);
    /* The schedules' class: the prelude gives it __call and __tostring, and
     * model.optimizer gives it to the schedule it describes. */
    luaL_newmetatable(L, NN_LUA_SCHEDULE);
    lua_setfield(L, -2, "_schedule_class");
    lua_pushcfunction(L, l_sequential);
    lua_setfield(L, -2, "Sequential");
    lua_pushcfunction(L, l_schedule_rate);
    lua_setfield(L, -2, "_schedule_rate");
    lua_pushcfunction(L, l_check_optimizer);
    lua_setfield(L, -2, "_check_optimizer");
    lua_pushcfunction(L, l_check_loss);
    lua_setfield(L, -2, "_check_loss");
    lua_pushcfunction(L, l_monitor_mode);
    lua_setfield(L, -2, "_monitor_mode");
    lua_pushcfunction(L, l_check_metric);
    lua_setfield(L, -2, "_check_metric");
    lua_pushcfunction(L, nn_lua_check_keras_object);
    lua_setfield(L, -2, "_check_keras_object");
}
