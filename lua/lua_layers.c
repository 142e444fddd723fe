/* nn.layers: one constructor per engine layer class, built from its argument specs,
 * and the nn.Layer userdata (fields, weights, config, calling a layer on a tensor). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "names.h"
#include "nn_lua.h"
#include "tensor_ops.h"

#define LAYER_OBJECTS "nn.layer_objects"
#define LAYER_COUNTERS "nn.layer_counters"

/* ---- userdata ---- */

void nn_lua_push_layer(lua_State *L, nn_layer *layer)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LAYER_OBJECTS);
    if (lua_rawgetp(L, -1, layer) == LUA_TUSERDATA) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    nn_layer **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = layer;
    nn_layer_retain(layer);
    luaL_setmetatable(L, NN_LUA_LAYER);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, layer);
    lua_remove(L, -2);
}

nn_layer *nn_lua_check_layer(lua_State *L, int index, const char *function)
{
    nn_layer **slot = luaL_testudata(L, index, NN_LUA_LAYER);
    if (!slot || !*slot) {
        char hint[160];
        nn_lua_error(L, "%s: expected a layer (from nn.layers) as argument %d, got %s%s",
                     function, index, nn_lua_typename(L, index),
                     nn_lua_colon_hint(index, function, hint, sizeof hint));
    }
    return *slot;
}

static int layer_gc(lua_State *L)
{
    nn_layer **slot = luaL_checkudata(L, 1, NN_LUA_LAYER);
    nn_layer_release(*slot);
    *slot = NULL;
    return 0;
}

/* ---- construction ---- */

/* Gives a new unnamed layer a session-wide number, as Keras does (dense, dense_1, ...);
 * a model renumbers its own layers from zero when they are added. */
static void number_layer(lua_State *L, nn_layer *layer)
{
    if (layer->named_by_user)
        return;
    lua_getfield(L, LUA_REGISTRYINDEX, LAYER_COUNTERS);
    lua_getfield(L, -1, layer->cls->base_name);
    lua_Integer count = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (count > 0)
        snprintf(layer->name, sizeof layer->name, "%s_%lld", layer->cls->base_name,
                 (long long)count);
    lua_pushinteger(L, count + 1);
    lua_setfield(L, -2, layer->cls->base_name);
    lua_pop(L, 1);
}

/* Pushes the names of the class's first `count` arguments, comma-separated. */
/* The names of the first `count` arguments, leaving out those marked in `skip` (may be
 * NULL): a Bidirectional's wrapped-layer arguments, which it refuses. */
static void push_arg_names(lua_State *L, const nn_layer_class *cls, int count,
                           const bool *skip)
{
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    bool first = true;
    for (int i = 0; i < count; i++) {
        if (skip && skip[i])
            continue;
        if (!first)
            luaL_addstring(&buffer, ", ");
        luaL_addstring(&buffer, cls->args[i].name);
        first = false;
    }
    luaL_pushresult(&buffer);
}

/* Bidirectional{layer, ...} or {layer = ...}: when the layer is a layer object, as in
 * Keras, its arguments become the new layer's (all but its name); they are marked in
 * `wrapped` (the wrapper then refuses them, as Keras would) and the key that held the
 * layer is left on the stack for the loop to skip (nil when none). A class name there
 * ('LSTM') is an ordinary argument. */
static void wrap_layer_argument(lua_State *L, nn_layer *layer, int args, bool *given,
                                bool *wrapped_args, const char *function)
{
    lua_rawgeti(L, args, 1);
    lua_pushinteger(L, 1);
    if (!luaL_testudata(L, -2, NN_LUA_LAYER)) {
        lua_pop(L, 2);
        lua_getfield(L, args, "layer");
        lua_pushstring(L, "layer");
    }
    nn_layer **wrapped = luaL_testudata(L, -2, NN_LUA_LAYER);
    if (!wrapped) {
        lua_pop(L, 2);
        lua_pushnil(L);
        return;
    }
    if (!*wrapped)
        nn_lua_error(L, "%s: the layer to wrap has been released", function);
    nn_lua_check(L, nn_bidirectional_wrap(layer, *wrapped), function);
    lua_remove(L, -2); /* the key stays */
    const nn_layer_class *cls = layer->cls;
    for (int i = 0; i < cls->arg_count; i++) {
        const char *name = cls->args[i].name;
        if (strcmp(name, "layer") == 0) {
            given[i] = true;
        } else if (strcmp(name, "name") != 0 && strcmp(name, "input_shape") != 0 &&
                   strcmp(name, "activity_regularizer") != 0 &&
                   strcmp(name, "merge_mode") != 0) {
            /* every recurrent argument, also those the wrapped kind lacks */
            given[i] = wrapped_args[i] = true;
        }
    }
}

/* TimeDistributed{layer, ...} or {layer = ...}: the layer to wrap, a layer object, whose
 * key is left on the stack for the loop to skip. */
static void wrap_time_distributed(lua_State *L, nn_layer *layer, int args, const char *function)
{
    if (lua_rawgeti(L, args, 2) != LUA_TNIL)
        nn_lua_error(L, "%s: takes one positional argument, the layer to wrap; got another at "
                        "position 2 (valid names: layer, name, input_shape)", function);
    lua_pop(L, 1);
    lua_rawgeti(L, args, 1);
    lua_pushinteger(L, 1);
    if (lua_isnil(L, -2)) {
        lua_pop(L, 2);
        lua_getfield(L, args, "layer");
        lua_pushstring(L, "layer");
    } else if (lua_getfield(L, args, "layer") != LUA_TNIL) {
        nn_lua_error(L, "%s: the layer to wrap is given twice (by position and as layer=)",
                     function);
    } else {
        lua_pop(L, 1);
    }
    nn_layer **wrapped = luaL_testudata(L, -2, NN_LUA_LAYER);
    if (!wrapped)
        nn_lua_error(L, "%s: expected a layer to wrap (nn.layers.TimeDistributed{"
                        "nn.layers.Conv2D{8, 3}}), got %s",
                     function, nn_lua_typename(L, -2));
    if (!*wrapped)
        nn_lua_error(L, "%s: the layer to wrap has been released", function);
    nn_lua_check(L, nn_time_distributed_wrap(layer, *wrapped), function);
    /* The copy took the layer's random stream; the layer, which may still be used on its
     * own, draws other numbers (a Dropout's masks) from a new one. */
    (*wrapped)->stream = nn_random_next_stream();
    lua_remove(L, -2); /* the key stays */
}

/* nn.layers.<Class>{positional..., name=value...} (or plain positional arguments with an
 * optional options table last: nn.layers.Dense(10, {activation='relu'})). */
static int layer_construct(lua_State *L)
{
    const nn_layer_class *cls = lua_touserdata(L, lua_upvalueindex(1));
    char function[64];
    snprintf(function, sizeof function, "nn.layers.%s", cls->name);
    int top = lua_gettop(L);
    /* Normalise both call styles into one table at index `args`. */
    if (top == 1 && lua_istable(L, 1) && !luaL_testudata(L, 1, NN_LUA_TENSOR)) {
        lua_pushvalue(L, 1);
    } else {
        lua_newtable(L);
        int options = 0;
        if (top >= 1 && lua_istable(L, top) && luaL_len(L, top) == 0)
            options = top;
        int positional = options ? top - 1 : top;
        for (int i = 1; i <= positional; i++) {
            lua_pushvalue(L, i);
            lua_rawseti(L, -2, i);
        }
        if (options) {
            lua_pushnil(L);
            while (lua_next(L, options)) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_settable(L, -4);
            }
        }
    }
    int args = lua_gettop(L);

    nn_layer **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, NN_LUA_LAYER);
    int object = lua_gettop(L);
    nn_lua_check(L, nn_layer_create(slot, cls), function);
    nn_layer *layer = *slot;

    bool given[64] = {false}, wrapped_args[64] = {false};
    int wrapped_key = 0; /* the key that held a wrapped layer: the loop skips it */
    if (cls == &nn_bidirectional_class) {
        wrap_layer_argument(L, layer, args, given, wrapped_args, function);
        wrapped_key = lua_gettop(L);
    } else if (cls == &nn_time_distributed_class) {
        wrap_time_distributed(L, layer, args, function);
        wrapped_key = lua_gettop(L);
    }
    lua_pushnil(L);
    while (lua_next(L, args)) {
        const nn_arg_spec *spec = NULL;
        if (wrapped_key && !lua_isnil(L, wrapped_key) && lua_rawequal(L, -2, wrapped_key)) {
            lua_pop(L, 1);
            continue;
        }
        if (lua_type(L, -2) == LUA_TNUMBER && !lua_isinteger(L, -2))
            nn_lua_error(L, "%s: the argument table has the key %.17g, which is neither a "
                            "position (1, 2, ...) nor an argument name",
                         function, lua_tonumber(L, -2));
        if (lua_type(L, -2) == LUA_TNUMBER) {
            lua_Integer position = lua_tointeger(L, -2);
            if (position < 1 || position > cls->positional_count) {
                push_arg_names(L, cls, cls->positional_count, NULL);
                push_arg_names(L, cls, cls->arg_count, wrapped_args);
                nn_lua_error(L, "%s: takes at most %d positional argument%s (%s), got one at "
                                "position %lld; name it instead (valid names: %s)",
                             function, cls->positional_count,
                             cls->positional_count == 1 ? "" : "s",
                             cls->positional_count ? lua_tostring(L, -2) : "none",
                             (long long)position, lua_tostring(L, -1));
            }
            spec = &cls->args[position - 1];
        } else if (lua_type(L, -2) == LUA_TSTRING &&
                   strcmp(lua_tostring(L, -2), "trainable") == 0) {
            /* Every layer takes it, as every Keras layer does. */
            if (!lua_isboolean(L, -1))
                nn_lua_error(L, "%s: trainable must be true or false, got %s", function,
                             nn_lua_typename(L, -1));
            layer->trainable = lua_toboolean(L, -1);
            lua_pop(L, 1);
            continue;
        } else if (lua_type(L, -2) == LUA_TSTRING) {
            spec = nn_layer_class_arg(cls, lua_tostring(L, -2));
            if (!spec) {
                nn_name_guess guess;
                nn_name_guess_start(&guess, lua_tostring(L, -2));
                for (int i = 0; i < cls->arg_count; i++)
                    if (!wrapped_args[i])
                        nn_name_guess_offer(&guess, cls->args[i].name);
                char guess_text[256];
                nn_name_guess_text(&guess, guess_text, sizeof guess_text);
                push_arg_names(L, cls, cls->arg_count, wrapped_args);
                nn_lua_error(L, "%s: unknown argument '%s'%s; valid arguments are: %s",
                             function, lua_tostring(L, -3), guess_text, lua_tostring(L, -1));
            }
        } else {
            nn_lua_error(L, "%s: argument keys must be names or positions, got a %s key",
                         function, luaL_typename(L, -2));
        }
        int index = (int)(spec - cls->args);
        if (wrapped_args[index]) {
            const nn_arg_spec *kind = nn_layer_class_arg(cls, "layer");
            const char *wrapped = kind->choices[*(const int *)nn_layer_arg_pointer(layer, kind)];
            if (!nn_layer_class_arg(nn_layer_class_find(wrapped), spec->name))
                nn_lua_error(L, "%s: '%s' is not an argument of %s, the wrapped layer, nor of "
                                "Bidirectional", function, spec->name, wrapped);
            nn_lua_error(L, "%s: '%s' is an argument of the wrapped layer; give it there "
                            "(nn.layers.%s{..., %s = ...})", function, spec->name, wrapped,
                         spec->name);
        }
        if (given[index])
            nn_lua_error(L, "%s: argument '%s' is given twice (by position and by name)",
                         function, spec->name);
        for (int other = 0; other < cls->arg_count; other++)
            if (other != index && given[other] && cls->args[other].offset == spec->offset)
                nn_lua_error(L, "%s: '%s' and '%s' are two names of one argument; give one of "
                             "them", function, cls->args[other].name, spec->name);
        given[index] = true;
        nn_lua_set_layer_arg(L, layer, spec, function);
        lua_pop(L, 1);
    }
    for (int i = 0; i < cls->arg_count; i++)
        if (cls->args[i].required && !given[i])
            nn_lua_error(L, "%s: missing required argument '%s' (%s)", function,
                         cls->args[i].name, cls->args[i].doc);
    nn_status status = nn_layer_finish(layer);
    if (status != NN_OK)
        nn_lua_error(L, "%s: %s", function, nn_error_message());
    number_layer(L, layer);
    /* Register the userdata so the layer always maps back to this same object. */
    lua_getfield(L, LUA_REGISTRYINDEX, LAYER_OBJECTS);
    lua_pushvalue(L, object);
    lua_rawsetp(L, -2, layer);
    lua_pop(L, 1);
    lua_pushvalue(L, object);
    return 1;
}

/* ---- fields and methods ---- */

static void push_param(lua_State *L, nn_layer *layer, nn_param *param)
{
    nn_lua_push_weight(L, layer, param, "layer weight");
}

static int layer_count_params(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "layer:count_params");
    if (!layer->built)
        nn_lua_error(L, "layer:count_params: layer \"%s\" is not built yet; call it on a tensor "
                        "or add it to a model with an input shape", layer->name);
    lua_pushinteger(L, nn_layer_count_params(layer, true) + nn_layer_count_params(layer, false));
    return 1;
}

/* The layer's arguments by name; a wrapper's layer as {class_name=, config=}, as Keras
 * serialises it. */
static void push_config(lua_State *L, const nn_layer *layer)
{
    const nn_layer_class *cls = layer->cls;
    lua_createtable(L, 0, cls->arg_count + 1);
    for (int i = 0; i < cls->arg_count; i++) {
        nn_lua_push_layer_arg(L, (nn_layer *)layer, &cls->args[i]);
        lua_setfield(L, -2, cls->args[i].name);
    }
    const nn_layer *wrapped = nn_time_distributed_inner(layer);
    if (wrapped) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, wrapped->cls->name);
        lua_setfield(L, -2, "class_name");
        push_config(L, wrapped);
        lua_setfield(L, -2, "config");
        lua_setfield(L, -2, "layer");
    }
}

static int layer_get_config(lua_State *L)
{
    push_config(L, nn_lua_check_layer(L, 1, "layer:get_config"));
    return 1;
}

static int layer_get_weights(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "layer:get_weights");
    nn_lua_check_no_more_arguments(L, 1, "layer:get_weights", "layer:get_weights()");
    lua_createtable(L, layer->param_count, 0);
    for (int i = 0; i < layer->param_count; i++) {
        /* Copies on the host, as Keras returns NumPy arrays, wherever the layer runs. */
        const nn_tensor *value = layer->params[i].value;
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_on_host(value) ? nn_tensor_clone(slot, value)
                                                 : nn_tensor_to(slot, value, nn_device_cpu()),
                     "layer:get_weights");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int layer_set_weights(lua_State *L)
{
    const char *function = "layer:set_weights";
    nn_layer *layer = nn_lua_check_layer(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "layer:set_weights({tensor, ...})");
    if (!lua_istable(L, 2))
        nn_lua_error(L, "%s: expected a list of weight tensors (as get_weights gives), got %s",
                     function, nn_lua_typename(L, 2));
    lua_Integer count = luaL_len(L, 2);
    if (!layer->built && count > 0)
        nn_lua_error(L, "%s: layer \"%s\" is not built yet, so it has no weights to set; call "
                     "it on data or layer:build(...) with its input shape first", function,
                     layer->name);
    if (count != layer->param_count)
        nn_lua_error(L, "%s: layer \"%s\" has %d weight tensors, got %lld", function, layer->name,
                     layer->param_count, (long long)count);
    /* Check everything before changing anything, so a bad list leaves the layer intact;
     * each entry is read once (3: the entries as tensors), so a proxy table's __index
     * cannot give the copy other values than the check saw. */
    lua_settop(L, 2);
    lua_createtable(L, layer->param_count, 0);
    for (int i = 0; i < layer->param_count; i++) {
        lua_geti(L, 2, i + 1);
        char entry[32];
        snprintf(entry, sizeof entry, "weight %d", i + 1);
        nn_tensor *value = nn_lua_to_tensor(L, -1, function, entry);
        char expected[128], received[128];
        if (!nn_shape_equal(&value->shape, &layer->params[i].shape))
            nn_lua_error(L, "%s: weight %d (%s) of layer \"%s\" has shape %s, got %s", function,
                         i + 1, layer->params[i].name, layer->name,
                         nn_shape_format(&layer->params[i].shape, expected, sizeof expected),
                         nn_shape_format(&value->shape, received, sizeof received));
        lua_rawseti(L, 3, i + 1);
    }
    for (int i = 0; i < layer->param_count; i++) {
        lua_rawgeti(L, 3, i + 1);
        nn_tensor *value = nn_lua_test_tensor(L, -1);
        /* As float32, copied into the weight wherever each lives. */
        nn_tensor *converted = NULL;
        nn_status status = nn_tensor_astype(&converted, value, NN_DTYPE_F32);
        if (status == NN_OK)
            status = nn_tensor_copy_into(layer->params[i].value, converted);
        nn_tensor_free(converted);
        nn_lua_check(L, status, function);
        lua_pop(L, 1);
    }
    return 0;
}

/* layer:adapt(x): a Normalization learns its mean and variance from x, a Discretization
 * its bin boundaries. */
static int layer_adapt(lua_State *L)
{
    const char *function = "layer:adapt";
    nn_layer *layer = nn_lua_check_layer(L, 1, function);
    nn_tensor *data = nn_lua_to_tensor(L, 2, function, "the data");
    if (!lua_isnoneornil(L, 3))
        nn_lua_error(L, "%s: takes the data only (all of it at once), got a %s after it",
                     function, nn_lua_typename(L, 3));
    nn_lua_check(L, nn_layer_adapt(layer, data), function);
    lua_settop(L, 1);
    return 1;
}

/* The engine's message without a leading 'Class "name": ', which the binding puts
 * before every layer's message itself (a few layers' build errors name themselves). */
static const char *message_after_own_name(const nn_layer *layer, const char *message)
{
    char own[160];
    int length = snprintf(own, sizeof own, "%s \"%s\": ", layer->cls->name, layer->name);
    if (length > 0 && (size_t)length < sizeof own && strncmp(message, own, (size_t)length) == 0)
        return message + length;
    return message;
}

static int layer_build(lua_State *L)
{
    const char *function = "layer:build";
    nn_layer *layer = nn_lua_check_layer(L, 1, function);
    nn_shape shape = nn_lua_check_batch_shape_args(L, 2, function);
    for (int i = 0; i < shape.ndim; i++)
        if (shape.dims[i] < -1 || shape.dims[i] == 0)
            nn_lua_error(L, "%s: the input shape has size %lld at axis %d; sizes must be "
                         "positive, or nn.None (-1) where unknown", function,
                         (long long)shape.dims[i], i);
    /* As a call does: most of the engine's build errors do not name the layer. */
    if (nn_layer_build(layer, &shape) != NN_OK)
        nn_lua_error(L, "%s: %s \"%s\": %s", function, layer->cls->name, layer->name,
                     message_after_own_name(layer, nn_error_message()));
    lua_settop(L, 1);
    return 1;
}

/* A shape error from calling a layer on a tensor. The engine builds on the shape with
 * the batch axis unknown, so its message shows "(None, 28, 1)" for a tensor of shape
 * (28, 28, 1): this shows the tensor's own shape there, as Keras does for a call, and
 * when the tensor has one axis fewer than the layer takes (one sample without its batch
 * axis, most likely, where the engine suggests nothing else) says how to add the axis. */
/* Where a tensor with one axis too few for a layer with a channels axis (a convolution, a
 * pooling) most likely lacks its channels rather than its batch: the position to add a 1
 * at, or -1. A lone sample's channels are few (1 gray, 3 RGB, 4 RGBA) while a batch of
 * gray images ends (or, channels_first, starts after the batch) in a spatial size:
 * (60000, 28, 28) wants (60000, 28, 28, 1), (28, 28, 1) wants (1, 28, 28, 1). */
static int missing_channels_axis(nn_layer *layer, const nn_shape *shape)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, "data_format");
    if (!spec || spec->kind != NN_ARG_CHOICE || shape->ndim < 2)
        return -1;
    const int *choice = nn_layer_arg_pointer(layer, spec);
    bool first = strcmp(spec->choices[*choice], "channels_first") == 0;
    int64_t candidate = first ? shape->dims[0] : shape->dims[shape->ndim - 1];
    if (candidate <= 4)
        return -1;
    return first ? 1 : shape->ndim;
}

static int raise_call_shape_error(lua_State *L, nn_layer *layer, const nn_tensor *input,
                                  const char *function)
{
    const char *message = message_after_own_name(layer, nn_error_message());
    nn_shape batched = input->shape;
    batched.dims[0] = -1;
    char batched_text[128], given[128], received[160];
    nn_shape_format(&batched, batched_text, sizeof batched_text);
    nn_shape_format(&input->shape, given, sizeof given);
    snprintf(received, sizeof received, "Full shape received: %s", batched_text);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    const char *at = strstr(message, received);
    if (at) {
        luaL_addlstring(&buffer, message, (size_t)(at - message));
        luaL_addstring(&buffer, "Full shape received: ");
        luaL_addstring(&buffer, given);
        luaL_addstring(&buffer, at + strlen(received));
    } else {
        luaL_addstring(&buffer, message);
    }
    const char *expected = strstr(message, "expected ndim=");
    const char *at_least = strstr(message, "expected min_ndim=");
    const char *found = strstr(message, "found ndim=");
    int wanted = expected    ? atoi(expected + strlen("expected ndim="))
                 : at_least ? atoi(at_least + strlen("expected min_ndim="))
                            : 0;
    int got = found ? atoi(found + strlen("found ndim=")) : 0;
    /* Only where the engine has no advice of its own: after a recurrent layer's, the
     * axis missing is more likely the features' than the batch's. */
    bool advised = !at || at[strlen(received)] != '\0';
    if (!advised && wanted > 0 && got == input->shape.ndim && wanted == got + 1) {
        int channels_at = missing_channels_axis(layer, &input->shape);
        nn_shape target;
        char sizes[128];
        /* A built layer's channels are known: the axis of 1 helps only where it has one. */
        bool fits_built = !layer->built || channels_at < 0 ||
                          (layer->input_shape.ndim == input->shape.ndim + 1 &&
                           layer->input_shape.dims[channels_at] == 1);
        if (fits_built &&
            nn_shape_expand_dims(&input->shape, channels_at >= 0 ? channels_at : 0, &target) ==
                NN_OK) {
            luaL_addstring(&buffer, channels_at >= 0
                                        ? ". Its first axis is the batch: a batch of one-channel "
                                          "inputs needs its channels axis, x:reshape"
                                        : ". Its first axis is the batch: one sample needs a "
                                          "batch axis of 1, x:reshape");
            luaL_addstring(&buffer, nn_sizes_format(&target, sizes, sizeof sizes));
        }
    }
    luaL_pushresult(&buffer);
    return nn_lua_error(L, "%s: %s", function, lua_tostring(L, -1));
}

/* layer(x [, {training=bool}]) */
static int layer_call(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "layer(x)");
    char function[96];
    snprintf(function, sizeof function, "%s \"%s\"", layer->cls->name, layer->name);
    nn_lua_check_no_more_call_arguments(L, 3, function, "layer(x [, {training=false}])");
    /* Keras' functional API chains layers on an Input; nnsh's models are Sequential. */
    if (nn_lua_test_input(L, 2))
        nn_lua_error(L, "%s: got an nn.Input, which is no data: nnsh has no functional API "
                        "(layer(Input) chains); give the Input to a model instead, "
                        "nn.Sequential{nn.Input{shape = {...}}, layer, ...}, or call the layer "
                        "on a tensor",
                     function);
    nn_tensor *input = nn_lua_to_tensor(L, 2, function, "the input");
    /* Augmentation layers augment on their own calls (Keras 3's default), unless a
     * learning phase was set or training=false is given. */
    bool training = nn_lua_learning_phase_set() ? nn_lua_learning_phase()
                                                 : layer->cls->augments || nn_lua_learning_phase();
    if (!lua_isnoneornil(L, 3)) {
        static const char *const names[] = {"training", NULL};
        nn_lua_check_option_names(L, 3, function, names, 0);
        training = nn_lua_opt_boolean(L, 3, "training", training, function);
    }
    if (input->shape.ndim < 1)
        nn_lua_error(L, "%s: expected a batch of inputs, got a scalar", function);
    if (input->dtype != NN_DTYPE_F32) {
        /* Keras casts inputs to the layer's float dtype. */
        nn_tensor **converted = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_astype(converted, input, NN_DTYPE_F32), function);
        input = *converted;
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_status status = nn_layer_call(layer, input, training, slot);
    if (status == NN_ERR_SHAPE)
        raise_call_shape_error(L, layer, input, function);
    nn_lua_check(L, status, function);
    return 1;
}

static int layer_tostring(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "tostring");
    char input[128], output[128];
    if (layer->built) {
        lua_Integer params = (lua_Integer)(nn_layer_count_params(layer, true) +
                                           nn_layer_count_params(layer, false));
        lua_pushfstring(L, "%s \"%s\" %s -> %s, %I param%s", layer->cls->name, layer->name,
                        nn_shape_format(&layer->input_shape, input, sizeof input),
                        nn_shape_format(&layer->output_shape, output, sizeof output), params,
                        params == 1 ? "" : "s");
    } else {
        lua_pushfstring(L, "%s \"%s\" (not built yet)", layer->cls->name, layer->name);
    }
    return 1;
}

/* Whether `key` names a weight of some layer kind, so that asking an unbuilt layer for it
 * says when weights appear. */
/* Whether the layer was told not to make the weight `key`: bias (and a bidirectional
 * layer's forward_bias, backward_bias) with use_bias=false, beta with center=false, gamma
 * with scale=false. Keras reads such a weight as None. */
static bool weight_switched_off(nn_layer *layer, const char *key)
{
    size_t length = strlen(key);
    const char *setting = length >= 4 && strcmp(key + length - 4, "bias") == 0 ? "use_bias"
                          : strcmp(key, "beta") == 0                          ? "center"
                          : strcmp(key, "gamma") == 0                         ? "scale"
                                                                              : NULL;
    const nn_arg_spec *spec = setting ? nn_layer_class_arg(layer->cls, setting) : NULL;
    return spec && spec->kind == NN_ARG_BOOL && !*(const bool *)nn_layer_arg_pointer(layer, spec);
}

static bool is_weight_name(const char *key)
{
    static const char *const names[] = {
        "kernel", "bias", "gamma", "beta", "scale", "moving_mean", "moving_variance", "alpha",
        "embeddings", "depthwise_kernel", "pointwise_kernel", "recurrent_kernel",
        "forward_kernel", "forward_recurrent_kernel", "forward_bias", "backward_kernel",
        "backward_recurrent_kernel", "backward_bias"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return false;
}

static int layer_index(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "layer index");
    const char *key = nn_lua_check_field_key(L, 2, "layer", layer->name);
    if (strcmp(key, "name") == 0) {
        lua_pushstring(L, layer->name);
    } else if (strcmp(key, "class_name") == 0) {
        lua_pushstring(L, layer->cls->name);
    } else if (strcmp(key, "built") == 0) {
        lua_pushboolean(L, layer->built);
    } else if (strcmp(key, "trainable") == 0) {
        lua_pushboolean(L, layer->trainable);
    } else if (strcmp(key, "input_shape") == 0 || strcmp(key, "output_shape") == 0) {
        if (!layer->built)
            lua_pushnil(L);
        else
            nn_lua_push_shape(L, key[0] == 'i' ? &layer->input_shape : &layer->output_shape);
    } else if (strcmp(key, "explanation") == 0) {
        lua_pushstring(L, layer->built ? layer->explanation : "");
    } else if (strcmp(key, "weights") == 0 || strcmp(key, "trainable_weights") == 0 ||
               strcmp(key, "non_trainable_weights") == 0) {
        lua_newtable(L);
        int n = 0;
        for (int i = 0; i < layer->param_count; i++) {
            bool trainable = nn_param_trains(layer, &layer->params[i]);
            if ((key[0] == 't' && !trainable) || (key[0] == 'n' && trainable))
                continue;
            push_param(L, layer, &layer->params[i]);
            lua_rawseti(L, -2, ++n);
        }
        nn_lua_set_list_metatable(L, key[0] == 'w' ? "layer.weights"
                                     : key[0] == 't' ? "layer.trainable_weights"
                                                     : "layer.non_trainable_weights",
                                  "weight");
    } else {
        for (int i = 0; i < layer->param_count; i++) {
            if (strcmp(layer->params[i].name, key) == 0) {
                push_param(L, layer, &layer->params[i]);
                return 1;
            }
        }
        const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, key);
        if (spec) {
            nn_lua_push_layer_arg(L, layer, spec);
            return 1;
        }
        luaL_getmetatable(L, NN_LUA_LAYER);
        lua_getfield(L, -1, "methods");
        if (lua_getfield(L, -1, key) != LUA_TNIL)
            return 1;
        if (is_weight_name(key)) {
            if (layer->built && weight_switched_off(layer, key)) {
                lua_pushnil(L); /* Keras' None: layer.bias with use_bias=False */
                return 1;
            }
            if (!layer->built)
                nn_lua_error(L, "layer \"%s\" has no %s yet: a layer makes its weights when it "
                                "is built, on its first input (call it on a tensor, or add it "
                                "to a model that knows its input shape)",
                             layer->name, key);
            nn_lua_error(L, "layer \"%s\" (%s) has no weight called '%s'", layer->name,
                         layer->cls->name, key);
        }
        if (strcmp(key, "__class__") == 0) /* Python's layer.__class__.__name__ */
            nn_lua_error(L, "layer \"%s\" has no field '__class__': its class's name is "
                            "layer.class_name ('%s')", layer->name, layer->cls->name);
        /* The fields above, the weights, the arguments and the methods, for a guess. */
        static const char *const fields[] = {"name", "class_name", "built", "trainable",
                                             "input_shape", "output_shape", "explanation",
                                             "weights", "trainable_weights",
                                             "non_trainable_weights", NULL};
        nn_name_guess guess;
        nn_name_guess_start(&guess, key);
        for (int i = 0; fields[i]; i++)
            nn_name_guess_offer(&guess, fields[i]);
        for (int i = 0; i < layer->param_count; i++)
            nn_name_guess_offer(&guess, layer->params[i].name);
        for (int i = 0; i < layer->cls->arg_count; i++)
            nn_name_guess_offer(&guess, layer->cls->args[i].name);
        lua_pop(L, 1); /* the nil */
        nn_lua_offer_keys(L, -1, &guess); /* the methods */
        char guess_text[256];
        nn_lua_error(L, "layer \"%s\" (%s) has no field '%s'%s", layer->name, layer->cls->name,
                     key, nn_name_guess_text(&guess, guess_text, sizeof guess_text));
    }
    return 1;
}

static const luaL_Reg layer_methods[] = {
    {"count_params", layer_count_params}, {"get_config", layer_get_config},
    {"get_weights", layer_get_weights},   {"set_weights", layer_set_weights},
    {"build", layer_build},               {"adapt", layer_adapt},
    {NULL, NULL},
};

/* layer.trainable = false freezes the layer, as in Keras: fit leaves its weights alone
 * (a BatchNormalization also keeps its moving statistics and normalises with them) and
 * its weights count as non-trainable. The models using it gather their weights again on
 * their next run. */
static int layer_newindex(lua_State *L)
{
    nn_layer *layer = nn_lua_check_layer(L, 1, "layer field");
    const char *key = nn_lua_check_field_key(L, 2, "layer", layer->name);
    if (strcmp(key, "trainable") != 0)
        nn_lua_error(L, "layer \"%s\": field '%s' cannot be set (settable: trainable)",
                     layer->name, key);
    if (!lua_isboolean(L, 3))
        nn_lua_error(L, "layer \"%s\": trainable must be true or false, got %s", layer->name,
                     nn_lua_typename(L, 3));
    if (layer->running_in)
        nn_lua_error(L, "layer \"%s\": trainable cannot change while model \"%s\" runs; set it "
                     "before fit", layer->name, layer->running_in->name);
    layer->trainable = lua_toboolean(L, 3);
    return 0;
}

static const luaL_Reg layer_metamethods[] = {
    {"__gc", layer_gc},       {"__call", layer_call}, {"__tostring", layer_tostring},
    {"__index", layer_index}, {"__newindex", layer_newindex}, {NULL, NULL},
};

/* ---- the names string arguments take, for completion ---- */

static void push_names(lua_State *L, const char *const *names)
{
    lua_newtable(L);
    for (int i = 0; names[i]; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* Pushes the names an argument of this kind takes ('same', 'relu', 'glorot_uniform', 'l2')
 * and returns true; false (pushing nothing) for a kind that takes no names. */
static bool push_arg_choices(lua_State *L, const nn_arg_spec *spec)
{
    switch (spec->kind) {
    case NN_ARG_CHOICE: push_names(L, spec->choices); return true;
    case NN_ARG_ACTIVATION: push_names(L, nn_activation_names()); return true;
    case NN_ARG_INITIALIZER: push_names(L, nn_initializer_names()); return true;
    case NN_ARG_CONSTRAINT: push_names(L, nn_constraint_names()); return true;
    case NN_ARG_REGULARIZER: push_names(L, nn_regularizer_names()); return true;
    default: return false;
    }
}

/* nn._accepted_names(): the engine's lists of the names string arguments take, a fresh
 * copy each call: {optimizer = {'sgd', ...}, loss = {...}, metric = {...},
 * activation = {...}, initializer = {...}, regularizer = {...}, constraint = {...}}. */
static int l_accepted_names(lua_State *L)
{
    static const struct {
        const char *key;
        const char *const *(*names)(void);
    } lists[] = {
        {"optimizer", nn_optimizer_names},       {"loss", nn_loss_names},
        {"metric", nn_metric_names},             {"activation", nn_activation_names},
        {"initializer", nn_initializer_names},   {"regularizer", nn_regularizer_names},
        {"constraint", nn_constraint_names},
    };
    int count = (int)(sizeof lists / sizeof lists[0]);
    lua_createtable(L, 0, count);
    for (int i = 0; i < count; i++) {
        push_names(L, lists[i].names());
        lua_setfield(L, -2, lists[i].key);
    }
    return 1;
}

/* nn._typename(value): the type a message names, as the C functions name it ("nn.Tensor",
 * "nn.Layer", "integer"), for the errors of the Lua parts. */
static int l_typename(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_pushstring(L, nn_lua_typename(L, 1));
    return 1;
}

/* nn._argument_text(value): a value as the binding's messages show an argument ('x', 3,
 * true, nn.Tensor), for the messages of the Lua parts. */
static int l_argument_text(lua_State *L)
{
    luaL_checkany(L, 1);
    char text[64];
    lua_pushstring(L, nn_lua_argument_text(L, 1, text, sizeof text));
    return 1;
}

/* nn._did_you_mean(typed, names): " (did you mean 'relu'?)" naming the entries of the list
 * `names` that `typed` most likely misspells, or "" when none is close; for the error
 * messages of the Lua parts (callbacks, nn.layers). */
static int l_did_you_mean(lua_State *L)
{
    const char *typed = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    nn_name_guess guess;
    nn_name_guess_start(&guess, typed);
    /* The names stay alive as the list's values while the list is on the stack. */
    lua_Integer count = luaL_len(L, 2);
    for (lua_Integer i = 1; i <= count; i++) {
        if (lua_rawgeti(L, 2, i) == LUA_TSTRING)
            nn_name_guess_offer(&guess, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    char text[256];
    lua_pushstring(L, nn_name_guess_text(&guess, text, sizeof text));
    return 1;
}

/* nn.layer_classes(): the classes with their argument specs, for help and completion. */
static int l_layer_classes(lua_State *L)
{
    const nn_layer_class *const *classes = nn_layer_classes();
    lua_newtable(L);
    for (int c = 0; classes[c]; c++) {
        const nn_layer_class *cls = classes[c];
        lua_createtable(L, 0, 6);
        lua_pushstring(L, cls->name);
        lua_setfield(L, -2, "name");
        if (cls->alias) {
            lua_pushstring(L, cls->alias);
            lua_setfield(L, -2, "alias");
        }
        lua_pushstring(L, cls->doc ? cls->doc : "");
        lua_setfield(L, -2, "doc");
        lua_pushstring(L, cls->example ? cls->example : "");
        lua_setfield(L, -2, "example");
        lua_pushinteger(L, cls->positional_count);
        lua_setfield(L, -2, "positional");
        lua_createtable(L, cls->arg_count, 0);
        for (int i = 0; i < cls->arg_count; i++) {
            const nn_arg_spec *spec = &cls->args[i];
            lua_createtable(L, 0, 4);
            lua_pushstring(L, spec->name);
            lua_setfield(L, -2, "name");
            lua_pushstring(L, spec->default_text ? spec->default_text : "");
            lua_setfield(L, -2, "default");
            lua_pushboolean(L, spec->required);
            lua_setfield(L, -2, "required");
            lua_pushstring(L, spec->doc ? spec->doc : "");
            lua_setfield(L, -2, "doc");
            /* The names a string argument takes, for completion ('same', 'relu'). */
            if (push_arg_choices(L, spec))
                lua_setfield(L, -2, "choices");
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "args");
        lua_rawseti(L, -2, c + 1);
    }
    return 1;
}

void nn_lua_open_layers(lua_State *L)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, LAYER_OBJECTS);
    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LAYER_COUNTERS);

    luaL_newmetatable(L, NN_LUA_LAYER);
    luaL_setfuncs(L, layer_metamethods, 0);
    luaL_newlib(L, layer_methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);

    lua_newtable(L);
    const nn_layer_class *const *classes = nn_layer_classes();
    for (int c = 0; classes[c]; c++) {
        lua_pushlightuserdata(L, (void *)classes[c]);
        lua_pushcclosure(L, layer_construct, 1);
        if (classes[c]->alias) {
            lua_pushvalue(L, -1);
            lua_setfield(L, -3, classes[c]->alias);
        }
        lua_setfield(L, -2, classes[c]->name);
    }
    lua_setfield(L, -2, "layers");
    lua_pushcfunction(L, l_layer_classes);
    lua_setfield(L, -2, "layer_classes");
    lua_pushcfunction(L, l_accepted_names);
    lua_setfield(L, -2, "_accepted_names");
    lua_pushcfunction(L, l_did_you_mean);
    lua_setfield(L, -2, "_did_you_mean");
    lua_pushcfunction(L, l_typename);
    lua_setfield(L, -2, "_typename");
    lua_pushcfunction(L, l_argument_text);
    lua_setfield(L, -2, "_argument_text");
}
