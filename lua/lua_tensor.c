/* nn.Tensor: constructors, fields, methods and arithmetic metamethods. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "names.h"
#include "nn_lua.h"
#include "random.h"
#include "tensor_ops.h"

/* ---- userdata ---- */

/* Tensor memory lives outside Lua's heap, so the collector cannot see that a few small
 * garbage userdata hold hundreds of megabytes (the uint8 images and the float copy left
 * behind by `x:astype('float32') / 255`). Before each new tensor, the collector takes a
 * step as large as what tensors allocated since the last one, so garbage tensors go
 * about as fast as they come. */
static void pace_collector(lua_State *L)
{
    static size_t accounted;
    size_t allocated = nn_storage_allocated_bytes();
    if (allocated - accounted < (size_t)1 << 20)
        return;
    size_t kilobytes = (allocated - accounted) / 1024;
    accounted = allocated;
    lua_gc(L, LUA_GCSTEP, kilobytes > INT_MAX ? INT_MAX : (int)kilobytes);
}

nn_tensor **nn_lua_new_tensor_slot(lua_State *L)
{
    pace_collector(L);
    nn_tensor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, NN_LUA_TENSOR);
    return slot;
}

/* {[weight tensor] = {layer=, name=}}, weak-keyed: the layer a weight's view came from
 * (kept alive by the view) and the weight's name there; its path and whether it trains
 * are read from the layer when asked, so freezing the layer later shows. */
#define WEIGHT_INFO "nn.weight_info"

void nn_lua_push_weight(lua_State *L, nn_layer *layer, const nn_param *param,
                        const char *function)
{
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_share(slot, param->value), function);
    if (lua_getfield(L, LUA_REGISTRYINDEX, WEIGHT_INFO) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, WEIGHT_INFO);
    }
    lua_pushvalue(L, -2);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, param->name);
    lua_setfield(L, -2, "name");
    nn_lua_push_layer(L, layer);
    lua_setfield(L, -2, "layer");
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* Pushes what a weight's view knows under key (name, path, trainable); false, pushing
 * nothing, for a tensor that is no weight's view. */
static bool push_weight_info(lua_State *L, int tensor, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, WEIGHT_INFO) != LUA_TTABLE) {
        lua_pop(L, 1);
        return false;
    }
    lua_pushvalue(L, tensor);
    if (lua_rawget(L, -2) != LUA_TTABLE) {
        lua_pop(L, 2);
        return false;
    }
    lua_getfield(L, -1, "name");
    lua_getfield(L, -2, "layer");
    const char *name = lua_tostring(L, -2);
    const nn_layer *layer = nn_lua_check_layer(L, -1, "weight");
    if (strcmp(key, "name") == 0) {
        lua_pushstring(L, name);
    } else if (strcmp(key, "path") == 0) {
        lua_pushfstring(L, "%s/%s", layer->name, name);
    } else {
        const nn_param *param = NULL;
        for (int i = 0; i < layer->param_count && !param; i++)
            if (strcmp(layer->params[i].name, name) == 0)
                param = &layer->params[i];
        lua_pushboolean(L, param && nn_param_trains(layer, param));
    }
    lua_replace(L, -5);
    lua_pop(L, 3);
    return true;
}

void nn_lua_push_tensor(lua_State *L, nn_tensor *tensor)
{
    pace_collector(L);
    nn_tensor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = tensor;
    luaL_setmetatable(L, NN_LUA_TENSOR);
}

nn_tensor *nn_lua_test_tensor(lua_State *L, int index)
{
    nn_tensor **slot = luaL_testudata(L, index, NN_LUA_TENSOR);
    return slot ? *slot : NULL;
}

nn_tensor *nn_lua_check_tensor(lua_State *L, int index, const char *function)
{
    nn_tensor *tensor = nn_lua_test_tensor(L, index);
    if (!tensor) {
        char hint[160];
        nn_lua_error(L, "%s: expected a tensor as argument %d, got %s%s", function, index,
                     nn_lua_typename(L, index), nn_lua_colon_hint(index, function, hint, sizeof hint));
    }
    return tensor;
}

/* ---- shapes ---- */

static int shape_tostring(lua_State *L)
{
    nn_shape shape = {.ndim = (int)luaL_len(L, 1)};
    if (shape.ndim > NN_MAX_DIMS)
        shape.ndim = NN_MAX_DIMS;
    for (int i = 0; i < shape.ndim; i++) {
        lua_geti(L, 1, i + 1);
        shape.dims[i] = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
        lua_pop(L, 1);
    }
    char text[160];
    lua_pushstring(L, nn_shape_format(&shape, text, sizeof text));
    return 1;
}

static int shape_equal(lua_State *L)
{
    lua_Integer n = luaL_len(L, 1);
    if (n != luaL_len(L, 2)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        lua_geti(L, 2, i);
        if (!lua_rawequal(L, -1, -2)) {
            lua_pushboolean(L, 0);
            return 1;
        }
        lua_pop(L, 2);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Lists nn gives (a shape, model.layers, model.weights) take Python's habits as far as
 * Lua allows: list[-1] is the last entry, as t[-1] is a tensor's last row; list[0] is an
 * error saying lists count from 1. Past the end is nil, as in any list, so that ipairs
 * ends there. The upvalues name the list and its entries ("shape", "size"). */
static int list_index(lua_State *L)
{
    int whole = 0;
    lua_Integer position = nn_lua_tointeger(L, 2, &whole); /* -1.0 is -1, as t[-1.0] */
    if (!whole)
        return 0;
    if (position > 0) { /* 2.0: the entry a table keeps at 2 */
        lua_rawgeti(L, 1, position);
        return 1;
    }
    const char *list = lua_tostring(L, lua_upvalueindex(1));
    const char *entry = lua_tostring(L, lua_upvalueindex(2));
    lua_Integer size = (lua_Integer)lua_rawlen(L, 1);
    if (position < 0 && position >= -size) {
        lua_rawgeti(L, 1, size + 1 + position);
        return 1;
    }
    if (position < 0)
        return nn_lua_error(L, "%s[%lld]: there %s only %lld %s%s; %s[-1] is the last", list,
                            (long long)position, size == 1 ? "is" : "are", (long long)size,
                            entry, size == 1 ? "" : "s", list);
    return nn_lua_error(L, "%s[0]: lists count from 1 in Lua: %s[1] is the first %s%s", list,
                        list, entry,
                        size > 1 ? lua_pushfstring(L, ", %s[%d] or %s[-1] the last", list,
                                                   (int)size, list)
                                 : "");
}

void nn_lua_set_list_metatable(lua_State *L, const char *list, const char *entry)
{
    char key[96];
    snprintf(key, sizeof key, "nn.List %s", list);
    if (luaL_newmetatable(L, key)) {
        lua_pushstring(L, list);
        lua_pushstring(L, entry);
        lua_pushcclosure(L, list_index, 2);
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
}

void nn_lua_push_shape(lua_State *L, const nn_shape *shape)
{
    lua_createtable(L, shape->ndim, 0);
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->dims[i] < 0)
            lua_getfield(L, LUA_REGISTRYINDEX, "nn.None");
        else
            lua_pushinteger(L, shape->dims[i]);
        lua_rawseti(L, -2, i + 1);
    }
    luaL_setmetatable(L, NN_LUA_SHAPE);
}

/* The whole number at index, or an error naming the function and what it is for. */
static lua_Integer check_whole(lua_State *L, int index, const char *function, const char *what)
{
    int is_whole = 0;
    lua_Integer value = nn_lua_tointeger(L, index, &is_whole);
    if (!is_whole) {
        char text[64];
        nn_lua_error(L, "%s: %s must be a whole number, got %s", function, what,
                     lua_isnoneornil(L, index) ? "no value"
                                               : nn_lua_argument_text(L, index, text, sizeof text));
    }
    return value;
}

bool nn_lua_is_none(lua_State *L, int index)
{
    index = lua_absindex(L, index);
    lua_getfield(L, LUA_REGISTRYINDEX, "nn.None");
    bool none = lua_rawequal(L, index, -1);
    lua_pop(L, 1);
    return none;
}

/* Size i (0-based) of a shape from the value at index: an integer, or nn.None (-1) where
 * a batch shape is read; a tensor's sizes must be known, so elsewhere nn.None is refused
 * by name. */
static int64_t check_shape_size(lua_State *L, int index, int i, bool none_allowed,
                                const char *function)
{
    char text[64];
    int ok = 0;
    int64_t size = nn_lua_tointeger(L, index, &ok);
    if (ok)
        return size;
    bool none = nn_lua_is_none(L, index);
    if (none && none_allowed)
        return -1;
    if (none)
        nn_lua_error(L, "%s: size %d of the shape is nn.None, but a tensor's sizes must be "
                     "known integers", function, i + 1);
    nn_lua_error(L, "%s: size %d of the shape must be an integer%s, got %s", function, i + 1,
                 none_allowed ? " or nn.None" : "", nn_lua_argument_text(L, index, text, sizeof text));
    return 0;
}

static nn_shape check_shape(lua_State *L, int first, bool none_allowed, const char *function)
{
    char text[64];
    nn_shape shape = {0};
    int top = lua_gettop(L);
    if (lua_istable(L, first) && !nn_lua_is_none(L, first)) {
        lua_Integer n = luaL_len(L, first);
        if (n < 1 || n > NN_MAX_DIMS)
            nn_lua_error(L, "%s: a shape needs 1 to %d sizes, got %lld", function, NN_MAX_DIMS,
                         (long long)n);
        shape.ndim = (int)n;
        for (int i = 0; i < shape.ndim; i++) {
            lua_geti(L, first, i + 1);
            shape.dims[i] = check_shape_size(L, -1, i, none_allowed, function);
            lua_pop(L, 1);
        }
        if (top > first)
            nn_lua_error(L, "%s: unexpected argument %d (%s) after the shape table", function,
                         first + 1, nn_lua_argument_text(L, first + 1, text, sizeof text));
        return shape;
    }
    if (top < first)
        nn_lua_error(L, "%s: expected a shape (sizes such as 2, 3 or a table {2, 3})", function);
    if (top - first + 1 > NN_MAX_DIMS)
        nn_lua_error(L, "%s: a shape has at most %d sizes, got %d", function, NN_MAX_DIMS,
                     top - first + 1);
    shape.ndim = top - first + 1;
    for (int i = 0; i < shape.ndim; i++)
        shape.dims[i] = check_shape_size(L, first + i, i, none_allowed, function);
    return shape;
}

nn_shape nn_lua_check_shape_args(lua_State *L, int first, const char *function)
{
    return check_shape(L, first, false, function);
}

nn_shape nn_lua_check_batch_shape_args(lua_State *L, int first, const char *function)
{
    return check_shape(L, first, true, function);
}

/* ---- construction from Lua tables ---- */

/* Finds the shape of a nested table by following first elements. */
static void table_shape(lua_State *L, int index, nn_shape *shape, const char *function)
{
    shape->ndim = 0;
    lua_pushvalue(L, index);
    while (lua_istable(L, -1)) {
        if (shape->ndim == NN_MAX_DIMS)
            nn_lua_error(L, "%s: nested more than %d levels deep", function, NN_MAX_DIMS);
        lua_Integer n = luaL_len(L, -1);
        if (n == 0)
            nn_lua_error(L, "%s: empty tables make no tensor (every size must be positive)",
                         function);
        shape->dims[shape->ndim++] = n;
        lua_geti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
}

/* The whole numbers an integer dtype holds. */
static void integer_range(nn_dtype dtype, int64_t *low, int64_t *high)
{
    switch (dtype) {
    case NN_DTYPE_U8: *low = 0, *high = UINT8_MAX; break;
    case NN_DTYPE_I32: *low = INT32_MIN, *high = INT32_MAX; break;
    default: *low = INT64_MIN, *high = INT64_MAX; break;
    }
}

/* Whether an integer tensor can hold the number: `whole` when is_integer, else `value`
 * cut toward zero, as NumPy's np.array([1.5], dtype=int) cuts it. */
static bool number_fits(nn_dtype dtype, bool is_integer, int64_t whole, double value)
{
    if (dtype == NN_DTYPE_F32)
        return true;
    int64_t low, high;
    integer_range(dtype, &low, &high);
    if (is_integer)
        return whole >= low && whole <= high;
    /* 2^63 as a double is one past INT64_MAX; -2^63 is INT64_MIN itself. */
    double cut = trunc(value);
    return isfinite(value) && cut >= (double)low && cut < -(double)INT64_MIN &&
           (dtype == NN_DTYPE_I64 || cut <= (double)high);
}

/* A number an integer tensor cannot hold is refused, as NumPy refuses
 * np.array([256], dtype=np.uint8), rather than clamped: clamping is what astype is asked
 * for. `where` places the number in the message (" at t[2][1]", or ""). */
static void raise_does_not_fit(lua_State *L, nn_dtype dtype, bool is_integer, int64_t whole,
                               double value, const char *function, const char *where)
{
    int64_t low, high;
    integer_range(dtype, &low, &high);
    char text[64];
    if (is_integer)
        snprintf(text, sizeof text, "%lld", (long long)whole);
    else
        nn_lua_number_text(value, text, sizeof text);
    nn_lua_error(L, "%s: %s%s does not fit %s (whole numbers from %lld to %lld)", function,
                 text, where, nn_dtype_name(dtype), (long long)low, (long long)high);
}

/* Whether the Lua number at index fits dtype. */
static bool lua_number_fits(lua_State *L, nn_dtype dtype, int index)
{
    bool is_integer = lua_isinteger(L, index);
    return number_fits(dtype, is_integer, is_integer ? lua_tointeger(L, index) : 0,
                       lua_tonumber(L, index));
}

/* The Lua number at index fits dtype, or an error says it does not. */
static void check_number_fits(lua_State *L, nn_dtype dtype, int index, const char *function,
                              const char *where)
{
    if (lua_number_fits(L, dtype, index))
        return;
    bool is_integer = lua_isinteger(L, index);
    raise_does_not_fit(L, dtype, is_integer, is_integer ? lua_tointeger(L, index) : 0,
                       lua_tonumber(L, index), function, where);
}

/* Element `position` of tensor from the Lua number at index, checked: an integer goes in
 * whole, so int64 values beyond 2^53 stay exact. */
static void set_checked_element(lua_State *L, nn_tensor *tensor, size_t position, int index,
                                const char *function, const char *where)
{
    check_number_fits(L, tensor->dtype, index, function, where);
    if (lua_isinteger(L, index))
        nn_tensor_set_int64(tensor, position, lua_tointeger(L, index));
    else
        nn_tensor_set(tensor, position, lua_tonumber(L, index));
}

/* Every element of the host tensor `value` fits dtype, which it is about to become. */
static void check_tensor_fits(lua_State *L, const nn_tensor *value, nn_dtype dtype,
                              const char *function)
{
    /* Casts that always fit: to float32, to the same type, from bytes, int32 to int64. */
    if (dtype == NN_DTYPE_F32 || value->dtype == dtype || value->dtype == NN_DTYPE_U8 ||
        (value->dtype == NN_DTYPE_I32 && dtype == NN_DTYPE_I64))
        return;
    size_t count = nn_tensor_count(value);
    bool integer = value->dtype != NN_DTYPE_F32;
    for (size_t i = 0; i < count; i++) {
        int64_t whole = integer ? nn_tensor_get_int64(value, i) : 0;
        double number = integer ? 0.0 : nn_tensor_get(value, i);
        if (number_fits(dtype, integer, whole, number))
            continue;
        char where[48];
        snprintf(where, sizeof where, " (element %zu of the value)", i + 1);
        raise_does_not_fit(L, dtype, integer, whole, number, function, where);
    }
}

/* Every element of tensor set to the Lua number at index (checked by the caller). An
 * integer fills an int64 tensor whole, where a double would round it past 2^53. */
static void fill_with_number(lua_State *L, nn_tensor *tensor, int index)
{
    if (lua_isinteger(L, index) && tensor->dtype == NN_DTYPE_I64 && nn_tensor_on_host(tensor)) {
        int64_t whole = lua_tointeger(L, index);
        size_t count = nn_tensor_count(tensor);
        for (size_t i = 0; i < count; i++)
            nn_tensor_set_int64(tensor, i, whole);
        return;
    }
    nn_tensor_fill(tensor, lua_tonumber(L, index));
}

/* "t[2][1]": where an entry of a nested table is, from its positions at each depth. */
static const char *entry_path(const lua_Integer *path, int depth, char *text, size_t size)
{
    size_t used = (size_t)snprintf(text, size, "t");
    for (int i = 0; i < depth && used < size; i++)
        used += (size_t)snprintf(text + used, size - used, "[%lld]", (long long)path[i]);
    return text;
}

/* Fills tensor from the nested table on top, whose entry positions so far are path[0..
 * depth); every table at a depth must hold as many entries as the first one did. */
static void fill_from_table(lua_State *L, nn_tensor *tensor, int depth, lua_Integer *path,
                            size_t *position, const char *function)
{
    const nn_shape *shape = &tensor->shape;
    char where[160], first[160];
    if (!lua_istable(L, -1) || luaL_len(L, -1) != shape->dims[depth]) {
        lua_Integer first_path[NN_MAX_DIMS] = {0};
        for (int i = 0; i < depth; i++)
            first_path[i] = 1;
        entry_path(path, depth, where, sizeof where);
        entry_path(first_path, depth, first, sizeof first);
        if (!lua_istable(L, -1))
            nn_lua_error(L, "%s: the table is not rectangular: %s is not a table (got %s), but "
                            "%s is a table of %lld",
                         function, where, nn_lua_typename(L, -1), first,
                         (long long)shape->dims[depth]);
        lua_Integer length = luaL_len(L, -1);
        nn_lua_error(L, "%s: the table is not rectangular: %s holds %lld entr%s, but %s "
                        "holds %lld",
                     function, where, (long long)length, length == 1 ? "y" : "ies", first,
                     (long long)shape->dims[depth]);
    }
    for (lua_Integer i = 1; i <= shape->dims[depth]; i++) {
        path[depth] = i;
        lua_geti(L, -1, i);
        if (depth + 1 < shape->ndim) {
            fill_from_table(L, tensor, depth + 1, path, position, function);
        } else {
            if (lua_type(L, -1) == LUA_TBOOLEAN)
                nn_tensor_set(tensor, (*position)++, lua_toboolean(L, -1));
            else if (lua_type(L, -1) == LUA_TNUMBER) {
                /* The place is written only for the message of a number that does not fit. */
                char at[180] = "";
                if (!lua_number_fits(L, tensor->dtype, -1))
                    snprintf(at, sizeof at, " at %s",
                             entry_path(path, depth + 1, where, sizeof where));
                set_checked_element(L, tensor, (*position)++, -1, function, at);
            }
            else
                nn_lua_error(L, "%s: every element must be a number, but %s is not (got %s)",
                             function, entry_path(path, depth + 1, where, sizeof where),
                             nn_lua_typename(L, -1));
        }
        lua_pop(L, 1);
    }
}

static void tensor_from_table(lua_State *L, int index, nn_dtype dtype, const char *function)
{
    nn_shape shape;
    index = lua_absindex(L, index);
    table_shape(L, index, &shape, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    size_t position = 0;
    lua_Integer path[NN_MAX_DIMS] = {0};
    lua_pushvalue(L, index);
    fill_from_table(L, *slot, 0, path, &position, function);
    lua_pop(L, 1);
}

nn_tensor *nn_lua_to_tensor(lua_State *L, int index, const char *function, const char *what)
{
    index = lua_absindex(L, index);
    nn_tensor *tensor = nn_lua_test_tensor(L, index);
    if (tensor)
        return tensor;
    if (lua_type(L, index) == LUA_TNUMBER) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_shape scalar = {.ndim = 0};
        nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, &scalar), function);
        nn_tensor_f32(*slot)[0] = (float)lua_tonumber(L, index);
        lua_replace(L, index);
        return *slot;
    }
    if (!lua_istable(L, index))
        nn_lua_error(L, "%s: expected a tensor or a table of numbers for %s, got %s", function,
                     what, nn_lua_typename(L, index));
    /* The table's own faults (empty, ragged, a string inside) name the value too. */
    char context[160];
    snprintf(context, sizeof context, "%s (%s)", function, what);
    tensor_from_table(L, index, NN_DTYPE_F32, context);
    lua_replace(L, index); /* anchor the new tensor where the table was */
    return nn_lua_test_tensor(L, index);
}

static nn_dtype check_dtype(lua_State *L, int index, nn_dtype fallback, const char *function)
{
    if (lua_isnoneornil(L, index))
        return fallback;
    nn_dtype dtype;
    char text[64];
    if (lua_type(L, index) != LUA_TSTRING || lua_isnumber(L, index))
        nn_lua_error(L, "%s: the dtype must be a name such as 'float32' or 'int64', got %s%s",
                     function, nn_lua_argument_text(L, index, text, sizeof text),
                     lua_type(L, index) == LUA_TNUMBER ? " (sizes belong in the shape)"
                     : lua_isnumber(L, index)          ? " (a number as a string: tonumber "
                                                         "converts it)"
                                                       : "");
    if (nn_dtype_parse(lua_tostring(L, index), &dtype) != NN_OK)
        nn_lua_error(L, "%s: %s", function, nn_error_message());
    return dtype;
}

/* nn.tensor(data [, dtype]) */
static int l_tensor(lua_State *L)
{
    const char *function = "nn.tensor";
    nn_lua_check_no_more_arguments(L, 2, function, "nn.tensor(values [, dtype])");
    nn_dtype dtype = check_dtype(L, 2, NN_DTYPE_F32, function);
    if (lua_type(L, 1) == LUA_TNUMBER) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_shape scalar = {.ndim = 0};
        nn_lua_check(L, nn_tensor_create(slot, dtype, &scalar), function);
        set_checked_element(L, *slot, 0, 1, function, "");
        return 1;
    }
    nn_tensor *existing = nn_lua_test_tensor(L, 1);
    if (existing) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_astype(slot, existing, dtype), function);
        return 1;
    }
    if (!lua_istable(L, 1))
        nn_lua_error(L, "%s: expected a (nested) table of numbers, got %s", function,
                     nn_lua_typename(L, 1));
    tensor_from_table(L, 1, dtype, function);
    return 1;
}

static int push_filled(lua_State *L, const char *function, const char *usage, double value)
{
    /* The dtype follows the sizes: nn.zeros(2, 3, 'int32') or nn.zeros({2, 3}, 'int32'). */
    nn_dtype dtype = NN_DTYPE_F32;
    if (lua_istable(L, 1) && !nn_lua_is_none(L, 1)) {
        dtype = check_dtype(L, 2, NN_DTYPE_F32, function);
        nn_lua_check_no_more_arguments(L, 2, function, usage);
        lua_settop(L, 1);
    } else if (lua_gettop(L) > 1 && lua_type(L, lua_gettop(L)) == LUA_TSTRING) {
        dtype = check_dtype(L, lua_gettop(L), NN_DTYPE_F32, function);
        lua_pop(L, 1);
    }
    nn_shape shape = nn_lua_check_shape_args(L, 1, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    if (value != 0.0)
        nn_tensor_fill(*slot, value);
    return 1;
}

static int l_zeros(lua_State *L)
{
    return push_filled(L, "nn.zeros",
                       "nn.zeros(d1, d2, ... [, dtype]) or nn.zeros({d1, d2, ...} [, dtype])", 0.0);
}

static int l_ones(lua_State *L)
{
    return push_filled(L, "nn.ones",
                       "nn.ones(d1, d2, ... [, dtype]) or nn.ones({d1, d2, ...} [, dtype])", 1.0);
}

/* nn.full(shape, value) */
static int l_full(lua_State *L)
{
    const char *function = "nn.full";
    double value = nn_lua_check_number(L, 2, function, "value");
    nn_lua_check_no_more_arguments(L, 2, function, "nn.full(shape, value), a float32 tensor");
    lua_settop(L, 1);
    nn_shape shape = nn_lua_check_shape_args(L, 1, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, &shape), function);
    nn_tensor_fill(*slot, value);
    return 1;
}

/* nn.arange(stop) or nn.arange(start, stop [, step]): [start, stop) as float32. */
/* nn.arange for an integer dtype: the count and every value worked out in integers, exact
 * where doubles would round (int64 beyond 2^53). */
static int arange_integers(lua_State *L, int numbers, nn_dtype dtype, const char *function)
{
    lua_Integer values[3] = {0, 0, 1}; /* start, stop, step */
    for (int i = 1; i <= numbers; i++) {
        double number = lua_tonumber(L, i);
        if (!lua_isinteger(L, i) && (number != floor(number) || number < -0x1p63 || number >= 0x1p63))
            nn_lua_error(L, "%s: dtype %s needs whole numbers within int64, got %g", function,
                         nn_dtype_name(dtype), number);
        lua_Integer value = lua_isinteger(L, i) ? lua_tointeger(L, i) : (lua_Integer)number;
        values[numbers == 1 ? 1 : i - 1] = value;
    }
    __int128 start = values[0], stop = values[1], step = values[2];
    __int128 span = stop - start;
    __int128 count = step > 0 ? (span + step - 1) / step : (span + step + 1) / step;
    if (count < 1)
        nn_lua_error(L, "%s: [%lld, %lld) with step %lld holds no values", function,
                     (long long)values[0], (long long)values[1], (long long)values[2]);
    if (count > 10000000000)
        nn_lua_error(L, "%s: %.0f values is too many", function, (double)count);
    __int128 last = start + (count - 1) * step;
    __int128 lowest = step > 0 ? start : last, highest = step > 0 ? last : start;
    int64_t floor_of_dtype, ceiling_of_dtype;
    integer_range(dtype, &floor_of_dtype, &ceiling_of_dtype);
    if (lowest < floor_of_dtype || highest > ceiling_of_dtype)
        nn_lua_error(L, "%s: the values run from %lld to %lld, beyond %s (%lld to %lld)", function,
                     (long long)lowest, (long long)highest, nn_dtype_name(dtype),
                     (long long)floor_of_dtype, (long long)ceiling_of_dtype);
    nn_shape shape = NN_SHAPE((int64_t)count);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    /* Every value lies between start and stop, so none overflows. */
    for (int64_t i = 0; i < (int64_t)count; i++)
        nn_tensor_set_int64(*slot, (size_t)i, (int64_t)(start + (__int128)i * step));
    return 1;
}

static int l_arange(lua_State *L)
{
    const char *function = "nn.arange";
    /* Up to three numbers, then an optional dtype. */
    int numbers = lua_gettop(L);
    nn_dtype dtype = NN_DTYPE_F32;
    if (numbers > 0 && lua_type(L, numbers) == LUA_TSTRING) {
        dtype = check_dtype(L, numbers, NN_DTYPE_F32, function);
        numbers--;
    }
    if (numbers < 1 || numbers > 3)
        nn_lua_error(L, "%s: expected arange(stop), arange(start, stop) or arange(start, stop, "
                        "step), each optionally followed by a dtype; got %d arguments",
                     function, lua_gettop(L));
    static const char *const names[3][3] = {
        {"stop"}, {"start", "stop"}, {"start", "stop", "step"}};
    for (int i = 1; i <= numbers; i++)
        nn_lua_check_number(L, i, function, names[numbers - 1][i - 1]);
    double start = 0, stop, step = 1;
    if (numbers == 1) {
        stop = lua_tonumber(L, 1);
    } else {
        start = lua_tonumber(L, 1);
        stop = lua_tonumber(L, 2);
        step = numbers == 3 ? lua_tonumber(L, 3) : 1;
    }
    if (!isfinite(start))
        nn_lua_error(L, "%s: start must be a finite number, got %g", function, start);
    if (!isfinite(stop))
        nn_lua_error(L, "%s: stop must be a finite number, got %g", function, stop);
    if (step == 0 || !isfinite(step))
        nn_lua_error(L, "%s: step must be a finite non-zero number, got %g", function, step);
    if (dtype != NN_DTYPE_F32)
        return arange_integers(L, numbers, dtype, function);
    double count = ceil((stop - start) / step);
    if (count < 1)
        nn_lua_error(L, "%s: [%g, %g) with step %g holds no values", function, start, stop, step);
    if (count > 1e10)
        nn_lua_error(L, "%s: %g values is too many", function, count);
    nn_shape shape = NN_SHAPE((int64_t)count);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    for (int64_t i = 0; i < (int64_t)count; i++)
        nn_tensor_f32(*slot)[i] = (float)(start + (double)i * step);
    return 1;
}

/* nn.linspace(start, stop, num): num evenly spaced float32 values from start to stop, both
 * included, as NumPy's linspace; the last value is stop exactly, not start + (num-1)*step. */
static int l_linspace(lua_State *L)
{
    const char *function = "nn.linspace";
    nn_lua_check_no_more_arguments(L, 3, function, "nn.linspace(start, stop, num)");
    double start = nn_lua_check_number(L, 1, function, "start");
    double stop = nn_lua_check_number(L, 2, function, "stop");
    if (!isfinite(start))
        nn_lua_error(L, "%s: start must be a finite number, got %g", function, start);
    if (!isfinite(stop))
        nn_lua_error(L, "%s: stop must be a finite number, got %g", function, stop);
    /* 5.0 and 10/2 count as whole, as in every shape. */
    int is_whole = 0;
    lua_Integer count = nn_lua_tointeger(L, 3, &is_whole);
    if (!is_whole && lua_type(L, 3) == LUA_TNUMBER)
        nn_lua_error(L, "%s: num must be a whole number of values, got %s", function,
                     lua_tostring(L, 3));
    if (!is_whole)
        nn_lua_error(L, "%s: num must be a whole number of values, got %s", function,
                     nn_lua_typename(L, 3));
    if (count < 1 || count > 10000000000)
        nn_lua_error(L, "%s: num must be from 1 to 10000000000, got %lld", function,
                     (long long)count);
    nn_shape shape = NN_SHAPE((int64_t)count);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, &shape), function);
    float *values = nn_tensor_f32(*slot);
    double step = count > 1 ? (stop - start) / (double)(count - 1) : 0.0;
    for (lua_Integer i = 0; i < count; i++)
        values[i] = (float)(start + (double)i * step);
    if (count > 1)
        values[count - 1] = (float)stop;
    return 1;
}

/* nn.eye(n [, m] [, dtype]): the n x m identity (ones on the diagonal). */
static int l_eye(lua_State *L)
{
    const char *function = "nn.eye";
    const char *usage = "nn.eye(n [, m] [, dtype])";
    nn_lua_check_no_more_arguments(L, 3, function, usage);
    int top = lua_gettop(L);
    nn_dtype dtype = NN_DTYPE_F32;
    if (top > 1 && lua_type(L, top) == LUA_TSTRING)
        dtype = check_dtype(L, top--, NN_DTYPE_F32, function);
    if (top < 1)
        nn_lua_error(L, "%s: expected %s, got no arguments", function, usage);
    if (top > 2) {
        char text[64];
        nn_lua_error(L, "%s: unexpected argument 3 (%s); the call is %s", function,
                     nn_lua_argument_text(L, 3, text, sizeof text), usage);
    }
    int64_t sizes[2];
    static const char *const names[2] = {"n, the rows,", "m, the columns,"};
    for (int i = 0; i < 2; i++) {
        int index = i < top ? i + 1 : 1;
        int is_whole = 0;
        lua_Integer size = nn_lua_tointeger(L, index, &is_whole);
        if (!is_whole || size < 1)
            nn_lua_error(L, "%s: %s must be a whole number over 0, got %s", function, names[i],
                         lua_type(L, index) == LUA_TNUMBER
                             ? lua_tostring(L, index)
                             : NN_LUA_NOT_A_NUMBER(L, index));
        sizes[i] = (int64_t)size;
    }
    nn_shape shape = NN_SHAPE(sizes[0], sizes[1]);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    for (int64_t i = 0; i < sizes[0] && i < sizes[1]; i++)
        nn_tensor_set(*slot, (size_t)(i * sizes[1] + i), 1.0);
    return 1;
}

/* nn.zeros_like(x [, dtype]) and nn.ones_like: x's shape and dtype (or the one given), on
 * the CPU. */
static int push_filled_like(lua_State *L, const char *function, double value)
{
    nn_tensor *like = nn_lua_check_tensor(L, 1, function);
    nn_dtype dtype = check_dtype(L, 2, like->dtype, function);
    nn_lua_check_no_more_arguments(L, 2, function, value == 0.0 ? "nn.zeros_like(x [, dtype])"
                                                          : "nn.ones_like(x [, dtype])");
    nn_shape shape = like->shape;
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    if (value != 0.0)
        nn_tensor_fill(*slot, value);
    return 1;
}

static int l_zeros_like(lua_State *L) { return push_filled_like(L, "nn.zeros_like", 0.0); }
static int l_ones_like(lua_State *L) { return push_filled_like(L, "nn.ones_like", 1.0); }

/* ---- random ---- */

static int seed_generator(lua_State *L, const char *function)
{
    char usage[64];
    snprintf(usage, sizeof usage, "%s(n)", function);
    lua_Integer seed = check_whole(L, 1, function, "the seed");
    nn_lua_check_no_more_arguments(L, 1, function, usage);
    nn_random_seed((uint64_t)seed);
    return 0;
}

static int l_random_seed(lua_State *L) { return seed_generator(L, "nn.random.seed"); }

/* keras.utils.set_random_seed seeds Python's, NumPy's and the backend's generators; nnsh
 * has the one. */
static int l_set_random_seed(lua_State *L) { return seed_generator(L, "nn.utils.set_random_seed"); }

static int random_fill(lua_State *L, const char *function, bool normal)
{
    double low = 0.0, high = 1.0, mean = 0.0, stddev = 1.0;
    int top = lua_gettop(L);
    if (top >= 2 && lua_istable(L, top) && luaL_len(L, top) == 0 && !nn_lua_is_none(L, top)) {
        static const char *const normal_names[] = {"mean", "stddev", NULL};
        static const char *const uniform_names[] = {"low", "high", NULL};
        nn_lua_check_option_names(L, top, function, normal ? normal_names : uniform_names, 0);
        low = nn_lua_opt_number(L, top, "low", 0.0, -HUGE_VAL, HUGE_VAL, function);
        high = nn_lua_opt_number(L, top, "high", 1.0, -HUGE_VAL, HUGE_VAL, function);
        mean = nn_lua_opt_number(L, top, "mean", 0.0, -HUGE_VAL, HUGE_VAL, function);
        stddev = nn_lua_opt_number(L, top, "stddev", 1.0, 0.0, HUGE_VAL, function);
        lua_settop(L, top - 1);
    }
    /* Infinite bounds, or a range too wide for a double, would fill the tensor with inf
     * and NaN. */
    if (!normal && !(isfinite(low) && isfinite(high) && low < high && isfinite(high - low)))
        nn_lua_error(L, "%s: low and high must be finite numbers with low < high, got low=%g "
                        "and high=%g",
                     function, low, high);
    if (normal && !(isfinite(mean) && isfinite(stddev)))
        nn_lua_error(L, "%s: mean and stddev must be finite numbers, got mean=%g and stddev=%g",
                     function, mean, stddev);
    nn_shape shape = nn_lua_check_shape_args(L, 1, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, &shape), function);
    nn_rng rng;
    nn_rng_init(&rng, nn_random_global_seed(), nn_random_next_stream());
    size_t count = nn_tensor_count(*slot);
    float *data = nn_tensor_f32(*slot);
    for (size_t i = 0; i < count; i++)
        data[i] = normal ? (float)(mean + stddev * nn_rng_normal(&rng))
                         : (float)(low + (high - low) * nn_rng_uniform_double(&rng));
    return 1;
}

static int l_random_randn(lua_State *L) { return random_fill(L, "nn.random.randn", true); }
static int l_random_uniform(lua_State *L) { return random_fill(L, "nn.random.uniform", false); }
/* NumPy's name for the same draws from [0, 1). */
static int l_random_rand(lua_State *L) { return random_fill(L, "nn.random.rand", false); }

/* nn.random.randint(low, high, shape...): integers in [low, high), int32. */
static int l_random_randint(lua_State *L)
{
    const char *function = "nn.random.randint";
    if (lua_gettop(L) < 2)
        nn_lua_error(L, "%s: expected nn.random.randint(low, high, shape...), integers in "
                        "[low, high); got %d argument%s",
                     function, lua_gettop(L), lua_gettop(L) == 1 ? "" : "s");
    lua_Integer low = check_whole(L, 1, function, "low");
    lua_Integer high = check_whole(L, 2, function, "high");
    if (high <= low)
        nn_lua_error(L, "%s: high (%lld) must be greater than low (%lld)", function,
                     (long long)high, (long long)low);
    /* The result is int32, so every draw in [low, high) must be one; with both ends in
     * range, high - low below cannot overflow either. */
    if (low < INT32_MIN || high > (lua_Integer)INT32_MAX + 1)
        nn_lua_error(L, "%s: [%lld, %lld) does not fit the int32 result: low must be >= %lld "
                        "and high <= %lld",
                     function, (long long)low, (long long)high, (long long)INT32_MIN,
                     (long long)INT32_MAX + 1);
    nn_shape shape = nn_lua_check_shape_args(L, 3, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_I32, &shape), function);
    nn_rng rng;
    nn_rng_init(&rng, nn_random_global_seed(), nn_random_next_stream());
    size_t count = nn_tensor_count(*slot);
    for (size_t i = 0; i < count; i++)
        nn_tensor_set_int64(*slot, i, low + (lua_Integer)nn_rng_below(&rng, (uint64_t)(high - low)));
    return 1;
}

/* nn.random.permutation(n): the positions 1 to n in a random order (int64), as t:take
 * takes them; nn.random.permutation(t): a copy of t with its rows in a random order (as
 * NumPy's permutation). Drawn from nn.random's seed, so nn.random.seed repeats them. */
static int l_random_permutation(lua_State *L)
{
    const char *function = "nn.random.permutation";
    if (lua_gettop(L) != 1)
        nn_lua_error(L, "%s: takes one argument, a count or a tensor, got %d", function,
                     lua_gettop(L));
    nn_tensor *tensor = nn_lua_test_tensor(L, 1);
    lua_Integer count = 0;
    if (tensor) {
        if (tensor->shape.ndim < 1)
            nn_lua_error(L, "%s: a scalar tensor has no rows to reorder", function);
        count = tensor->shape.dims[0];
    } else {
        /* A whole float (6.0, 2^41) is a count, as nn.zeros(6.0) takes it. */
        int is_integer = 0;
        count = nn_lua_tointeger(L, 1, &is_integer);
        char text[64];
        double number = lua_tonumber(L, 1);
        if (!is_integer) {
            bool number_given = lua_type(L, 1) == LUA_TNUMBER;
            if (number_given && number == floor(number))
                nn_lua_error(L, "%s: the count must be from 1 to 2^40, got %s", function,
                             nn_lua_number_text(number, text, sizeof text));
            nn_lua_error(L, "%s: expected a count (an integer) or a tensor, got %s", function,
                         number_given ? nn_lua_number_text(number, text, sizeof text)
                                      : nn_lua_typename(L, 1));
        }
        if (count < 1 || count > (lua_Integer)1 << 40)
            nn_lua_error(L, "%s: the count must be from 1 to 2^40, got %lld", function,
                         (long long)count);
    }
    int64_t *rows = lua_newuserdatauv(L, (size_t)count * sizeof(int64_t), 0);
    for (lua_Integer i = 0; i < count; i++)
        rows[i] = i;
    nn_rng rng;
    nn_rng_init(&rng, nn_random_global_seed(), nn_random_next_stream());
    nn_rng_shuffle(&rng, rows, (size_t)count);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    if (tensor) {
        nn_lua_check(L, nn_tensor_take_rows(slot, tensor, rows, count), function);
        return 1;
    }
    nn_shape shape = {.ndim = 1, .dims = {count}};
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_I64, &shape), function);
    for (lua_Integer i = 0; i < count; i++)
        nn_tensor_set_int64(*slot, (size_t)i, rows[i] + 1); /* positions count from 1 */
    return 1;
}

/* ---- metamethods ---- */

static int tensor_gc(lua_State *L)
{
    nn_tensor **slot = luaL_checkudata(L, 1, NN_LUA_TENSOR);
    nn_tensor_free(*slot);
    *slot = NULL;
    return 0;
}

static int tensor_tostring(lua_State *L)
{
    nn_lua_push_tensor_string(L, nn_lua_check_tensor(L, 1, "tostring"));
    return 1;
}

static int tensor_len(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "#");
    lua_pushinteger(L, tensor->shape.ndim ? tensor->shape.dims[0] : 1);
    return 1;
}

/* Converts a Lua position (1-based, negative from the end) into a 0-based row. */
static int64_t row_index(lua_State *L, lua_Integer position, int64_t rows, const char *function)
{
    /* The message shows the position as given: -11, not the 0 it becomes. */
    lua_Integer row = position < 0 ? position + rows + 1 : position;
    if (row < 1 || row > rows)
        nn_lua_error(L, "%s: position %lld is out of range: rows are 1 to %lld (or -1 for the "
                        "last)",
                     function, (long long)position, (long long)rows);
    return row - 1;
}

/* The same for a position held as a float (a tensor element, or a Lua float such as 1/0
 * or 2^63): checked against the rows before it becomes an integer, since converting a
 * float beyond int64's range is undefined. */
static int64_t row_index_of_number(lua_State *L, double position, int64_t rows,
                                   const char *function)
{
    if (position != floor(position)) /* NaN too */
        nn_lua_error(L, "%s: positions must be integers, got %g", function, position);
    if (fabs(position) > (double)rows)
        nn_lua_error(L, "%s: position %.17g is out of range: rows are 1 to %lld (or -1 for the "
                        "last)",
                     function, position, (long long)rows);
    return row_index(L, (lua_Integer)position, rows, function);
}

/* For an op of an int64 tensor with the number at index: an integer beyond
 * NN_SCALAR_WHOLE_LIMIT pushed as a 0-d int64 tensor, since nn_tensor_scalar takes a
 * double, which rounds it beyond 2^53 and gives a float32 result. NULL, with nothing
 * pushed, for every other operand, which nn_tensor_scalar serves exactly. */
static nn_tensor *push_whole_operand(lua_State *L, const nn_tensor *tensor, int index,
                                     const char *function)
{
    if (tensor->dtype != NN_DTYPE_I64 || !lua_isinteger(L, index))
        return NULL;
    lua_Integer value = lua_tointeger(L, index);
    if (fabs((double)value) < NN_SCALAR_WHOLE_LIMIT)
        return NULL;
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_shape scalar = {.ndim = 0};
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_I64, &scalar), function);
    nn_tensor_set_int64(*slot, 0, value);
    return *slot;
}

static int binary(lua_State *L, nn_binary_op op, const char *function)
{
    /* Operators pass two operands, and so do the methods (a:eq(b), a:maximum(b)). */
    if (lua_gettop(L) > 2) {
        const char *method = strchr(function, ':');
        char usage[64];
        snprintf(usage, sizeof usage, "a:%s(b), with one tensor or number b",
                 method ? method + 1 : function);
        nn_lua_check_no_more_arguments(L, 2, function, usage);
    }
    nn_tensor *a = nn_lua_test_tensor(L, 1), *b = nn_lua_test_tensor(L, 2);
    nn_tensor **slot;
    /* An integer tensor with a Lua float (1.0, 2^3, 10/2) is float arithmetic, as NumPy's
     * with a Python float: the tensor is converted first. Comparisons stay exact. */
    bool arithmetic = op == NN_BINARY_ADD || op == NN_BINARY_SUBTRACT ||
                      op == NN_BINARY_MULTIPLY || op == NN_BINARY_POWER ||
                      op == NN_BINARY_MAXIMUM || op == NN_BINARY_MINIMUM ||
                      op == NN_BINARY_MODULO || op == NN_BINARY_FLOOR_DIVIDE;
    for (int side = 0; side < 2 && arithmetic; side++) {
        nn_tensor **tensor = side == 0 ? &a : &b;
        int other = side == 0 ? 2 : 1;
        if (*tensor && (*tensor)->dtype != NN_DTYPE_F32 &&
            lua_type(L, other) == LUA_TNUMBER && !lua_isinteger(L, other)) {
            nn_tensor **converted = nn_lua_new_tensor_slot(L);
            nn_lua_check(L, nn_tensor_astype(converted, *tensor, NN_DTYPE_F32), function);
            *tensor = *converted;
        }
    }
    if (a && !b && lua_type(L, 2) == LUA_TNUMBER)
        b = push_whole_operand(L, a, 2, function);
    else if (b && !a && lua_type(L, 1) == LUA_TNUMBER)
        a = push_whole_operand(L, b, 1, function);
    if (a && b) {
        slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_binary(slot, op, a, b), function);
    } else if (a && lua_type(L, 2) == LUA_TNUMBER) {
        slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_scalar(slot, op, a, lua_tonumber(L, 2), false), function);
    } else if (b && lua_type(L, 1) == LUA_TNUMBER) {
        slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_scalar(slot, op, b, lua_tonumber(L, 1), true), function);
    } else {
        nn_lua_error(L, "%s: expected tensors or numbers, got %s and %s", function,
                     nn_lua_typename(L, 1), nn_lua_typename(L, 2));
    }
    return 1;
}

static int tensor_add(lua_State *L) { return binary(L, NN_BINARY_ADD, "tensor +"); }
static int tensor_sub(lua_State *L) { return binary(L, NN_BINARY_SUBTRACT, "tensor -"); }
static int tensor_mul(lua_State *L) { return binary(L, NN_BINARY_MULTIPLY, "tensor *"); }
static int tensor_div(lua_State *L) { return binary(L, NN_BINARY_DIVIDE, "tensor /"); }
static int tensor_pow(lua_State *L) { return binary(L, NN_BINARY_POWER, "tensor ^"); }
/* 'shape: ' .. x.shape, 'x = ' .. x: the text each shows, as print does, so that Python's
 * f-string habits have a Lua form that works ('..' alone refuses userdata). */
static int concat_as_text(lua_State *L)
{
    /* Two tensors: NumPy users mean joining them, which is no text. */
    if (nn_lua_test_tensor(L, 1) && nn_lua_test_tensor(L, 2))
        return nn_lua_error(L, "tensor ..: .. joins text; tensors join with nn.concatenate{a, b} "
                               "(or nn.stack{a, b} along a new axis)");
    luaL_tolstring(L, 1, NULL);
    luaL_tolstring(L, 2, NULL);
    lua_concat(L, 2);
    return 1;
}

/* a < b, a <= b (and so a > b, a >= b): Lua turns what __lt and __le return into one
 * boolean, so an element-wise comparison cannot be had from them; they say where it is. */
static int tensor_order(lua_State *L)
{
    /* Lua swaps the operands of > and >=, so the message names no order. */
    return nn_lua_error(L, "tensor comparison: Lua's <, <=, > and >= give one true or false, "
                           "not a tensor; compare element by element with a:lt(b), a:le(b), "
                           "a:gt(b) or a:ge(b), or reduce first, as in a:max() < 1");
}

static int tensor_mod(lua_State *L) { return binary(L, NN_BINARY_MODULO, "tensor %"); }
static int tensor_idiv(lua_State *L) { return binary(L, NN_BINARY_FLOOR_DIVIDE, "tensor //"); }
static int tensor_eq_elementwise(lua_State *L) { return binary(L, NN_BINARY_EQUAL, "tensor:eq"); }
static int tensor_ne(lua_State *L) { return binary(L, NN_BINARY_NOT_EQUAL, "tensor:ne"); }
static int tensor_lt(lua_State *L) { return binary(L, NN_BINARY_LESS, "tensor:lt"); }
static int tensor_le(lua_State *L) { return binary(L, NN_BINARY_LESS_EQUAL, "tensor:le"); }
static int tensor_gt(lua_State *L) { return binary(L, NN_BINARY_GREATER, "tensor:gt"); }
static int tensor_ge(lua_State *L) { return binary(L, NN_BINARY_GREATER_EQUAL, "tensor:ge"); }
static int tensor_maximum(lua_State *L) { return binary(L, NN_BINARY_MAXIMUM, "tensor:maximum"); }
static int tensor_minimum(lua_State *L) { return binary(L, NN_BINARY_MINIMUM, "tensor:minimum"); }

static int tensor_unm(lua_State *L)
{
    nn_tensor *a = nn_lua_check_tensor(L, 1, "tensor unary -");
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_negate(slot, a), "tensor unary -");
    return 1;
}

/* a == b for two tensors: same shape and equal values (one boolean). */
static int tensor_equal(lua_State *L)
{
    nn_tensor *a = nn_lua_test_tensor(L, 1), *b = nn_lua_test_tensor(L, 2);
    bool equal = a && b && nn_shape_equal(&a->shape, &b->shape);
    for (size_t i = 0; equal && i < nn_tensor_count(a); i++)
        equal = nn_tensor_get(a, i) == nn_tensor_get(b, i);
    lua_pushboolean(L, equal);
    return 1;
}

/* ---- methods ---- */

static int tensor_reshape(lua_State *L)
{
    const char *function = "tensor:reshape";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    nn_shape shape = nn_lua_check_shape_args(L, 2, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_reshape(slot, tensor, &shape), function);
    return 1;
}

static int tensor_flatten(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor:flatten");
    nn_lua_check_no_more_arguments(L, 1, "tensor:flatten", "t:flatten(), with no arguments");
    nn_shape shape = NN_SHAPE(-1);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_reshape(slot, tensor, &shape), "tensor:flatten");
    return 1;
}

static int tensor_astype(lua_State *L)
{
    const char *function = "tensor:astype";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    if (lua_type(L, 2) != LUA_TSTRING)
        nn_lua_error(L, "%s: expected a dtype name such as 'float32', got %s", function,
                     nn_lua_typename(L, 2));
    nn_dtype dtype = check_dtype(L, 2, NN_DTYPE_F32, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_astype(slot, tensor, dtype), function);
    return 1;
}

static int tensor_clone(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor:clone");
    nn_lua_check_no_more_arguments(L, 1, "tensor:clone", "t:clone(), with no arguments");
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_clone(slot, tensor), "tensor:clone");
    return 1;
}

/* t:slice(first [, last]): rows first..last (1-based, inclusive, negative from the end),
 * sharing storage. */
static int tensor_slice(lua_State *L)
{
    const char *function = "tensor:slice";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    if (tensor->shape.ndim < 1)
        nn_lua_error(L, "%s: cannot slice a scalar tensor", function);
    nn_lua_check_no_more_arguments(L, 3, function,
                            "t:slice(first [, last]), every row between; for a step, "
                            "t:take(nn.arange(first, last + 1, step))");
    int64_t rows = tensor->shape.dims[0];
    int64_t first = row_index(L, check_whole(L, 2, function, "first"), rows, function);
    int64_t last = lua_isnoneornil(L, 3)
                       ? rows - 1
                       : row_index(L, check_whole(L, 3, function, "last"), rows, function);
    if (last < first)
        nn_lua_error(L, "%s: the last row (%lld) comes before the first (%lld)", function,
                     (long long)last + 1, (long long)first + 1);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_slice(slot, tensor, first, last - first + 1), function);
    return 1;
}

/* t:take(indices): the rows at the given 1-based positions (a table or tensor). */
static int tensor_take(lua_State *L)
{
    const char *function = "tensor:take";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "t:take(positions), a table or tensor of rows");
    if (tensor->shape.ndim < 1)
        nn_lua_error(L, "%s: cannot take rows of a scalar tensor", function);
    int64_t rows = tensor->shape.dims[0];
    int64_t *indices;
    size_t count;
    if (lua_istable(L, 2)) {
        /* Read as Lua numbers, not through a float32 tensor, so that integers above 2^24
         * keep their value and a bad entry is reported as written. */
        count = (size_t)luaL_len(L, 2);
        indices = lua_newuserdatauv(L, count * sizeof(int64_t), 0);
        for (size_t i = 0; i < count; i++) {
            lua_geti(L, 2, (lua_Integer)i + 1);
            if (lua_isinteger(L, -1))
                indices[i] = row_index(L, lua_tointeger(L, -1), rows, function);
            else if (lua_type(L, -1) == LUA_TNUMBER)
                indices[i] = row_index_of_number(L, lua_tonumber(L, -1), rows, function);
            else
                nn_lua_error(L, "%s: positions must be integers, got %s at entry %zu%s", function,
                             nn_lua_typename(L, -1), i + 1,
                             lua_istable(L, -1) ? " (positions go in one flat list, such as "
                                                  "{3, 1}, not nested)"
                                                : "");
            lua_pop(L, 1);
        }
    } else {
        nn_tensor *positions = nn_lua_to_tensor(L, 2, function, "the positions");
        /* NumPy's take would give a (1, 2) table of positions a (1, 2, ...) result; rows
         * come back in one list here, so a table of positions is refused, not flattened. */
        if (positions->shape.ndim > 1) {
            char text[128];
            nn_lua_error(L, "%s: expected the positions as a list (a table or a 1-D tensor), "
                            "got a tensor of shape %s; flatten it first with "
                            "positions:reshape(-1)",
                         function, nn_shape_format(&positions->shape, text, sizeof text));
        }
        count = nn_tensor_count(positions);
        indices = lua_newuserdatauv(L, count * sizeof(int64_t), 0);
        for (size_t i = 0; i < count; i++)
            indices[i] = row_index_of_number(L, nn_tensor_get(positions, i), rows, function);
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_take_rows(slot, tensor, indices, (int64_t)count), function);
    return 1;
}

/* The axis at index as an int (negative counts from the end), or `absent` when there is
 * none. The engine reports an axis out of range for the tensor; a Lua integer beyond any
 * tensor's axes is refused here, as given rather than cut to an int, naming the shape it
 * was meant for (NULL: not known yet). */
static int check_axis(lua_State *L, int index, int absent, const nn_shape *shape,
                      const char *function)
{
    if (lua_isnoneornil(L, index))
        return absent;
    int is_integer = 0;
    lua_Integer axis = nn_lua_tointeger(L, index, &is_integer);
    if (!is_integer && lua_type(L, index) == LUA_TNUMBER)
        nn_lua_error(L, "%s: axis must be an integer (0 = first axis, -1 = last), got %g",
                     function, lua_tonumber(L, index));
    char text[128];
    if (!is_integer)
        nn_lua_error(L, "%s: axis must be an integer (0 = first axis, -1 = last), got %s",
                     function, nn_lua_not_a_number_text(L, index, text, sizeof text));
    if (axis < -NN_MAX_DIMS - 1 || axis > NN_MAX_DIMS) {
        if (shape)
            nn_lua_error(L, "%s: axis %lld is out of range for a tensor of shape %s", function,
                         (long long)axis, nn_shape_format(shape, text, sizeof text));
        nn_lua_error(L, "%s: axis %lld is out of range for every tensor (at most %d axes)",
                     function, (long long)axis, NN_MAX_DIMS);
    }
    return (int)axis;
}

/* Keras users write t:sum{axis = 1} as they write every layer's options: argument 2
 * given as {axis = n} (or {} or {axis = nn.None}) is taken as the axis n (or none). */
static void unwrap_axis_option(lua_State *L, const char *function)
{
    /* A list ({0, 1}) is a list of axes, not options. */
    if (lua_type(L, 2) != LUA_TTABLE || lua_rawlen(L, 2) > 0)
        return;
    static const char *const names[] = {"axis", NULL};
    nn_lua_check_option_names(L, 2, function, names, 0);
    lua_getfield(L, 2, "axis");
    if (nn_lua_is_none(L, -1)) { /* Keras' axis=None: every axis */
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    lua_replace(L, 2);
}

/* Sum, mean, max or min over several axes at once (NumPy's axis=(0, 1)): one axis after
 * another, the last first so the others keep their numbers. Each of these composes: the
 * mean of equal groups' means is the mean of all. */
static int reduce_axes(lua_State *L, nn_reduce_op op, nn_tensor *tensor, const char *function)
{
    char text[128];
    if (op != NN_REDUCE_SUM && op != NN_REDUCE_MEAN && op != NN_REDUCE_MAX &&
        op != NN_REDUCE_MIN)
        nn_lua_error(L, "%s: axis must be one integer (0 = first axis, -1 = last), got a "
                        "table; a list of axes is taken by sum, mean, max and min",
                     function);
    int count = (int)lua_rawlen(L, 2), ndim = tensor->shape.ndim;
    if (count == 0)
        nn_lua_error(L, "%s: the list of axes is empty; give one or more, or none at all "
                        "for every element", function);
    /* {0, axis = 1} would leave one of its meanings unread. */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        lua_pop(L, 1);
        lua_Integer key = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        if (key < 1 || key > count)
            nn_lua_error(L, "%s: a list of axes holds only axes ({0, 1}), got the key %s "
                            "in it; give the axes as a list or as axis = {...}",
                         function, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                                  : nn_lua_typename(L, -1));
    }
    int typed[NN_MAX_DIMS];
    bool chosen[NN_MAX_DIMS] = {false};
    for (int i = 1; i <= count; i++) {
        lua_rawgeti(L, 2, i);
        if (lua_isnil(L, -1))
            nn_lua_error(L, "%s: the list of axes has a hole at entry %d", function, i);
        int axis = check_axis(L, lua_gettop(L), 0, &tensor->shape, function);
        lua_pop(L, 1);
        int normal = axis < 0 ? axis + ndim : axis;
        if (normal < 0 || normal >= ndim)
            nn_lua_error(L, "%s: axis %d is out of range for a tensor of shape %s", function,
                         axis, nn_shape_format(&tensor->shape, text, sizeof text));
        if (chosen[normal] && typed[normal] == axis)
            nn_lua_error(L, "%s: axis %d is in the list of axes twice", function, axis);
        if (chosen[normal])
            nn_lua_error(L, "%s: axes %d and %d are the same axis of a tensor of %d axes",
                         function, typed[normal], axis, ndim);
        chosen[normal] = true;
        typed[normal] = axis;
    }
    const nn_tensor *current = tensor;
    for (int axis = ndim - 1; axis >= 0; axis--) {
        if (!chosen[axis])
            continue;
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_reduce_axis(slot, op, current, axis), function);
        current = *slot;
    }
    return 1;
}

static int reduce(lua_State *L, nn_reduce_op op, const char *function, const char *usage)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    /* A second argument would be NumPy's keepdims or ddof: refused, not dropped, as the
     * result would look right and be wrong. */
    nn_lua_check_no_more_arguments(L, 2, function, usage);
    unwrap_axis_option(L, function);
    if (lua_type(L, 2) == LUA_TTABLE)
        return reduce_axes(L, op, tensor, function);
    bool arg = op == NN_REDUCE_ARGMAX || op == NN_REDUCE_ARGMIN;
    if (lua_isnoneornil(L, 2) && !arg) {
        bool whole = op == NN_REDUCE_SUM || op == NN_REDUCE_MAX || op == NN_REDUCE_MIN;
        if (whole && tensor->dtype != NN_DTYPE_F32 &&
            (op == NN_REDUCE_SUM || nn_tensor_count(tensor) > 0)) {
            int64_t value = 0;
            nn_lua_check(L, nn_tensor_reduce_all_int64(op, tensor, &value), function);
            lua_pushinteger(L, value);
        } else {
            lua_pushnumber(L, nn_tensor_reduce_all(op, tensor));
        }
        return 1;
    }
    /* argmax/argmin default to the last axis: the class of each row of predictions. */
    int axis = check_axis(L, 2, -1, &tensor->shape, function);
    /* The one element of a scalar is at position 0, as NumPy's argmax of a 0-d array;
     * an axis the user names goes to the engine, which has none to offer. */
    if (tensor->shape.ndim == 0 && lua_isnoneornil(L, 2)) {
        lua_pushinteger(L, 0);
        return 1;
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_reduce_axis(slot, op, tensor, axis), function);
    return 1;
}

#define REDUCE_USAGE(name) "t:" name "([axis]): over every element, or along one axis " \
                                "(0 = first, -1 = last)"
#define ARG_USAGE(name) "t:" name "([axis]): along the last axis, or the one given"

static int tensor_sum(lua_State *L)
{
    return reduce(L, NN_REDUCE_SUM, "tensor:sum", REDUCE_USAGE("sum"));
}
static int tensor_mean(lua_State *L)
{
    return reduce(L, NN_REDUCE_MEAN, "tensor:mean", REDUCE_USAGE("mean"));
}
static int tensor_max(lua_State *L)
{
    return reduce(L, NN_REDUCE_MAX, "tensor:max", REDUCE_USAGE("max"));
}
static int tensor_min(lua_State *L)
{
    return reduce(L, NN_REDUCE_MIN, "tensor:min", REDUCE_USAGE("min"));
}
static int tensor_std(lua_State *L)
{
    return reduce(L, NN_REDUCE_STD, "tensor:std",
                  REDUCE_USAGE("std") "; the population deviation (NumPy's ddof=0)");
}
static int tensor_argmax(lua_State *L)
{
    return reduce(L, NN_REDUCE_ARGMAX, "tensor:argmax", ARG_USAGE("argmax"));
}
static int tensor_argmin(lua_State *L)
{
    return reduce(L, NN_REDUCE_ARGMIN, "tensor:argmin", ARG_USAGE("argmin"));
}

static int unary_method(lua_State *L, const char *name)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, name);
    char function[32], usage[64];
    snprintf(function, sizeof function, "tensor:%s", name);
    snprintf(usage, sizeof usage, "t:%s(), with no arguments", name);
    nn_lua_check_no_more_arguments(L, 1, function, usage);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_unary(slot, name, tensor), name);
    return 1;
}

static int tensor_exp(lua_State *L) { return unary_method(L, "exp"); }
static int tensor_log(lua_State *L) { return unary_method(L, "log"); }
static int tensor_sqrt(lua_State *L) { return unary_method(L, "sqrt"); }
static int tensor_abs(lua_State *L) { return unary_method(L, "abs"); }
static int tensor_square(lua_State *L) { return unary_method(L, "square"); }
static int tensor_tanh(lua_State *L) { return unary_method(L, "tanh"); }
static int tensor_sigmoid(lua_State *L) { return unary_method(L, "sigmoid"); }
static int tensor_relu(lua_State *L) { return unary_method(L, "relu"); }
static int tensor_sin(lua_State *L) { return unary_method(L, "sin"); }
static int tensor_cos(lua_State *L) { return unary_method(L, "cos"); }
static int tensor_floor(lua_State *L) { return unary_method(L, "floor"); }
static int tensor_ceil(lua_State *L) { return unary_method(L, "ceil"); }
static int tensor_round(lua_State *L) { return unary_method(L, "round"); }

/* NumPy's matrix product of the values at 1 and 2. */
static int matmul(lua_State *L, const char *function)
{
    nn_tensor *a = nn_lua_to_tensor(L, 1, function, "the first operand");
    nn_tensor *b = nn_lua_to_tensor(L, 2, function, "the second operand");
    nn_lua_check_no_more_arguments(L, 2, function, "nn.matmul(a, b) or a:matmul(b), two operands");
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_matmul(slot, a, b), function);
    return 1;
}

/* Two functions, so that help tells nn.matmul and the method apart. */
static int l_matmul(lua_State *L) { return matmul(L, "nn.matmul"); }
static int tensor_matmul(lua_State *L) { return matmul(L, "tensor:matmul"); }

/* t:transpose() reverses the axes; t:transpose(1, 0, 2) or t:transpose{1, 0, 2} puts
 * them in that order (0-based, as NumPy). */
static int tensor_transpose(lua_State *L)
{
    const char *function = "tensor:transpose";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    int axes[NN_MAX_DIMS], count = 0;
    bool listed = lua_istable(L, 2);
    int last = listed ? (int)luaL_len(L, 2) : lua_gettop(L) - 1;
    if (listed && lua_gettop(L) > 2)
        nn_lua_error(L, "%s: give the axes as one table or as separate integers, not both",
                     function);
    if (last > NN_MAX_DIMS)
        nn_lua_error(L, "%s: %d axes given; a tensor has at most %d", function, last, NN_MAX_DIMS);
    for (int i = 1; i <= last; i++) {
        int index = i + 1;
        if (listed) {
            lua_geti(L, 2, i);
            index = lua_gettop(L);
        }
        if (lua_isnil(L, index))
            nn_lua_error(L, "%s: axis %d is nil; expected integers", function, i);
        axes[count++] = check_axis(L, index, 0, &tensor->shape, function);
        if (listed)
            lua_pop(L, 1);
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_transpose(slot, tensor, count ? axes : NULL, count), function);
    return 1;
}

/* The tensors of the list at index 1 (tensors or tables of numbers), for concatenate and
 * stack: an array in a userdata pushed on the stack, the entries anchored in a table
 * pushed below it (a list of any length takes two stack slots). */
static const nn_tensor **check_parts(lua_State *L, int *count, const char *function)
{
    if (!lua_istable(L, 1) || nn_lua_test_tensor(L, 1))
        nn_lua_error(L, "%s: expected a list of tensors such as {a, b}, got %s", function,
                     nn_lua_typename(L, 1));
    lua_Integer length = luaL_len(L, 1);
    if (length < 1 || length > INT_MAX)
        nn_lua_error(L, "%s: expected a list of one tensor or more, got %lld entries", function,
                     (long long)length);
    *count = (int)length;
    lua_createtable(L, *count, 0);
    int anchors = lua_gettop(L);
    const nn_tensor **parts = lua_newuserdatauv(L, (size_t)*count * sizeof *parts, 0);
    for (int i = 1; i <= *count; i++) {
        char what[32];
        snprintf(what, sizeof what, "entry %d", i);
        lua_geti(L, 1, i);
        parts[i - 1] = nn_lua_to_tensor(L, lua_gettop(L), function, what);
        lua_rawseti(L, anchors, i); /* keeps a converted table's tensor alive */
    }
    return parts;
}

/* nn.concatenate({a, b, ...} [, axis]) joins along an existing axis, nn.stack along a
 * new one (axis 0 by default). */
static int join(lua_State *L, bool new_axis, const char *function)
{
    nn_lua_check_no_more_arguments(L, 2, function, new_axis ? "nn.stack({a, b, ...} [, axis])"
                                                            : "nn.concatenate({a, b, ...} [, axis])");
    /* One table, positional entries first, named after ({a, b, axis = 1}), as nn's other
     * calls take it: the axis is read there, and any other name refused, not ignored. */
    if (lua_istable(L, 1) && !nn_lua_test_tensor(L, 1)) {
        static const char *const names[] = {"axis", NULL};
        lua_Integer length = luaL_len(L, 1);
        int positional = length > INT_MAX ? INT_MAX : (int)length;
        /* An entry past the list's end is one after a nil: a tensor the list lost. */
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            lua_pop(L, 1);
            if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > length)
                nn_lua_error(L, "%s: entry %lld of the list follows a nil at entry %lld "
                                "(a tensor that was nil when the list was made?)",
                             function, (long long)lua_tointeger(L, -1), (long long)length + 1);
        }
        nn_lua_check_option_names(L, 1, function, names, positional);
        lua_settop(L, 2);
        if (lua_getfield(L, 1, "axis") != LUA_TNIL) {
            if (!lua_isnil(L, 2))
                nn_lua_error(L, "%s: give the axis once, in the list (axis = ...) or after it",
                             function);
            lua_replace(L, 2);
        } else {
            lua_pop(L, 1);
        }
    }
    unwrap_axis_option(L, function);
    int axis = check_axis(L, 2, 0, NULL, function), count;
    lua_settop(L, 1);
    const nn_tensor **parts = check_parts(L, &count, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, new_axis ? nn_tensor_stack(slot, parts, count, axis)
                             : nn_tensor_concatenate(slot, parts, count, axis),
                 function);
    return 1;
}

static int l_concatenate(lua_State *L) { return join(L, false, "nn.concatenate"); }
static int l_stack(lua_State *L) { return join(L, true, "nn.stack"); }

/* A view of the tensor at index 1 in `shape`. */
static int push_view(lua_State *L, const nn_shape *shape, const char *function)
{
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_reshape(slot, nn_lua_test_tensor(L, 1), shape), function);
    return 1;
}

static int tensor_expand_dims(lua_State *L)
{
    const char *function = "tensor:expand_dims";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    unwrap_axis_option(L, function);
    if (lua_isnoneornil(L, 2))
        nn_lua_error(L, "%s: expected the position of the new axis (0 = first, -1 = last)",
                     function);
    int axis = check_axis(L, 2, 0, &tensor->shape, function);
    nn_shape shape;
    nn_lua_check(L, nn_shape_expand_dims(&tensor->shape, axis, &shape), function);
    return push_view(L, &shape, function);
}

static int tensor_squeeze(lua_State *L)
{
    const char *function = "tensor:squeeze";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    unwrap_axis_option(L, function);
    int axis = check_axis(L, 2, 0, &tensor->shape, function);
    nn_shape shape;
    nn_lua_check(L, nn_shape_squeeze(&tensor->shape, lua_isnoneornil(L, 2) ? NULL : &axis, &shape),
                 function);
    return push_view(L, &shape, function);
}

/* max(t, bound) or min(t, bound) for the number at `bound`, pushed: exact for an int64
 * tensor and any Lua integer, as the operators are. */
static nn_tensor *clip_side(lua_State *L, const nn_tensor *tensor, int bound, nn_binary_op op,
                            const char *function)
{
    nn_tensor *whole = push_whole_operand(L, tensor, bound, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    if (whole)
        nn_lua_check(L, nn_tensor_binary(slot, op, tensor, whole), function);
    else
        nn_lua_check(L, nn_tensor_scalar(slot, op, tensor, lua_tonumber(L, bound), false),
                     function);
    return *slot;
}

/* t:clip(low, high): every element held within [low, high]; nil leaves that side open,
 * as NumPy's None. NaN stays NaN. */
static int tensor_clip(lua_State *L)
{
    const char *function = "tensor:clip";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    for (int index = 2; index <= 3; index++)
        if (!lua_isnoneornil(L, index) && lua_type(L, index) != LUA_TNUMBER)
            nn_lua_error(L, "%s: the %s bound must be a number or nil, got %s", function,
                         index == 2 ? "lower" : "upper", nn_lua_typename(L, index));
    if (lua_isnoneornil(L, 2) && lua_isnoneornil(L, 3))
        nn_lua_error(L, "%s: expected a lower bound, an upper bound or both", function);
    if (!lua_isnoneornil(L, 2) && !lua_isnoneornil(L, 3) && lua_tonumber(L, 2) > lua_tonumber(L, 3))
        nn_lua_error(L, "%s: the lower bound %g is above the upper bound %g", function,
                     lua_tonumber(L, 2), lua_tonumber(L, 3));
    lua_settop(L, 3); /* the results go above the bounds, which keep their places */
    nn_tensor *result = tensor;
    if (!lua_isnoneornil(L, 2))
        result = clip_side(L, result, 2, NN_BINARY_MAXIMUM, function);
    if (!lua_isnoneornil(L, 3))
        result = clip_side(L, result, 3, NN_BINARY_MINIMUM, function);
    return 1;
}

static int tensor_softmax(lua_State *L)
{
    const char *function = "tensor:softmax";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "t:softmax([axis]), along the last axis by default");
    unwrap_axis_option(L, function);
    int axis = check_axis(L, 2, -1, &tensor->shape, function);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_softmax(slot, tensor, axis), function);
    return 1;
}

static void push_element(lua_State *L, const nn_tensor *tensor, size_t index)
{
    if (tensor->dtype == NN_DTYPE_F32)
        lua_pushnumber(L, nn_tensor_get(tensor, index));
    else
        lua_pushinteger(L, nn_tensor_get_int64(tensor, index));
}

static void push_list(lua_State *L, const nn_tensor *tensor, int depth, size_t *position)
{
    int64_t n = tensor->shape.dims[depth];
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        if (depth + 1 < tensor->shape.ndim)
            push_list(L, tensor, depth + 1, position);
        else
            push_element(L, tensor, (*position)++);
        lua_rawseti(L, -2, i + 1);
    }
}

static int tensor_tolist(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor:tolist");
    nn_lua_check_no_more_arguments(L, 1, "tensor:tolist", "t:tolist(), with no arguments");
    if (tensor->shape.ndim == 0) {
        push_element(L, tensor, 0);
        return 1;
    }
    if (nn_tensor_count(tensor) > 50000000)
        nn_lua_error(L, "tensor:tolist: %zu elements is too many for a Lua table",
                     nn_tensor_count(tensor));
    size_t position = 0;
    push_list(L, tensor, 0, &position);
    return 1;
}

static int tensor_item(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor:item");
    nn_lua_check_no_more_arguments(L, 1, "tensor:item", "t:item(), with no arguments");
    if (nn_tensor_count(tensor) != 1) {
        char text[128];
        nn_lua_error(L, "tensor:item: only a tensor with one element converts to a number; "
                        "this one has shape %s",
                     nn_shape_format(&tensor->shape, text, sizeof text));
    }
    push_element(L, tensor, 0);
    return 1;
}

/* PyTorch's tensor methods that nnsh writes otherwise, and how: a PyTorch user's first
 * reach, which a guess by spelling would miss (view) or get wrong (unsqueeze: squeeze). */
static const char *torch_method_way(const char *key)
{
    static const nn_lua_name_text ways[] = {
        {"view", "write x:reshape(...) (one -1 allowed)"},
        {"unsqueeze", "write x:expand_dims(axis)"},
        {"permute", "write x:transpose{...} with the whole new order of axes"},
        {"float", "write x:astype('float32')"},
        {"long", "write x:astype('int64')"},
        {"int", "write x:astype('int32')"},
        {"numpy", "a tensor is nnsh's array; x:tolist() gives a Lua table"},
        {"numel", "x.size is the number of elements (a field)"},
        {"dim", "x.ndim is the number of axes (a field)"},
        {"clamp", "write x:clip(min, max)"},
        {"pow", "write x ^ 2"},
        {"mm", "write nn.matmul(x, y)"},
        {"cuda", "write x:to('gpu')"},
        {"cpu", "write x:to('cpu')"},
        {"detach", "tensors hold no gradients in nnsh: use x as it is"},
        {"contiguous", "every tensor is contiguous in nnsh: use x as it is"},
        {"backward", "nnsh has no autograd: model:fit or model:train_on_batch(x, y) trains"},
    };
    return nn_lua_text_for(ways, sizeof ways / sizeof ways[0], key);
}

/* PyTorch's in-place form of an operation (add_, relu_, unsqueeze_): the message for it,
 * written into way, or false for any other name (shape_ is a slip of shape, for the
 * guess; sum_ is no PyTorch method). */
static bool torch_in_place_way(const char *key, char *way, size_t size)
{
    static const nn_lua_name_text written_otherwise[] = {
        {"add_", "nnsh has no in-place operations: x = x + y"},
        {"sub_", "nnsh has no in-place operations: x = x - y"},
        {"mul_", "nnsh has no in-place operations: x = x * y"},
        {"div_", "nnsh has no in-place operations: x = x / y"},
        {"pow_", "nnsh has no in-place operations: x = x ^ y"},
        {"copy_", "nnsh has no in-place operations: x = y:clone()"},
        {"normal_", "x = nn.random.randn(...) draws a new tensor"},
        {"uniform_", "x = nn.random.uniform(...) draws a new tensor"},
        {"zero_", "x:fill(0) sets every element"}, {"fill_", "x:fill(v) sets every element"},
    };
    /* nnsh's methods that give a tensor like x, whose in-place form PyTorch has. */
    static const char *const elementwise[] = {
        "exp", "log", "sqrt", "abs", "square", "tanh", "sigmoid", "relu", "sin", "cos", "floor",
        "ceil", "round", "clip", "softmax", "maximum", "minimum", "reshape", "transpose",
        "squeeze", NULL};
    size_t length = strlen(key);
    if (length < 2 || key[length - 1] != '_' || key[length - 2] == '_')
        return false;
    const char *written = nn_lua_text_for(written_otherwise,
                                          sizeof written_otherwise / sizeof written_otherwise[0],
                                          key);
    if (written) {
        snprintf(way, size, "%s", written);
        return true;
    }
    char method[64];
    if (length - 1 >= sizeof method)
        return false;
    memcpy(method, key, length - 1);
    method[length - 1] = '\0';
    const char *renamed = torch_method_way(method); /* unsqueeze_: as unsqueeze */
    if (renamed) {
        snprintf(way, size, "nnsh has no in-place operations: %s, and assign it", renamed);
        return true;
    }
    for (int i = 0; elementwise[i]; i++)
        if (strcmp(method, elementwise[i]) == 0) {
            snprintf(way, size, "nnsh has no in-place operations: x = x:%s(...)", method);
            return true;
        }
    return false;
}

/* The registry key of ipairs' iterator, kept when the module opens. */
static const char IPAIRS_ITERATOR_KEY[] = "nn.ipairs_iterator";

/* Whether the function that indexed the tensor is ipairs' iterator. */
static bool called_by_ipairs(lua_State *L)
{
    lua_Debug caller;
    if (!lua_getstack(L, 1, &caller) || !lua_getinfo(L, "f", &caller))
        return false;
    lua_getfield(L, LUA_REGISTRYINDEX, IPAIRS_ITERATOR_KEY);
    bool same = !lua_isnil(L, -1) && lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* Keeps ipairs' iterator (ipairs returns it) for called_by_ipairs. */
static void keep_ipairs_iterator(lua_State *L)
{
    if (lua_getglobal(L, "ipairs") == LUA_TFUNCTION) {
        lua_newtable(L);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isfunction(L, -1)) {
            lua_setfield(L, LUA_REGISTRYINDEX, IPAIRS_ITERATOR_KEY);
            return;
        }
    }
    lua_pop(L, 1);
}

static int tensor_index(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor index");
    if (lua_type(L, 2) == LUA_TNUMBER) {
        const char *function = "tensor[i]";
        int is_integer = 0;
        lua_Integer position = nn_lua_tointeger(L, 2, &is_integer);
        if (!is_integer)
            nn_lua_error(L, "%s: positions must be integers, got %g", function, lua_tonumber(L, 2));
        if (tensor->shape.ndim == 0)
            nn_lua_error(L, "%s: a scalar tensor has no rows; use :item()", function);
        /* ipairs(x) reads one past the last row to learn that the rows have ended: nil
         * there, as a table gives, where x[n + 1] in code is an error. */
        if (position == tensor->shape.dims[0] + 1 && called_by_ipairs(L)) {
            lua_pushnil(L);
            return 1;
        }
        int64_t row = row_index(L, position, tensor->shape.dims[0], function);
        if (tensor->shape.ndim == 1) {
            push_element(L, tensor, (size_t)row);
            return 1;
        }
        nn_tensor *view;
        nn_lua_check(L, nn_tensor_slice(&view, tensor, row, 1), function);
        nn_shape shape = {.ndim = tensor->shape.ndim - 1};
        memcpy(shape.dims, tensor->shape.dims + 1, sizeof(int64_t) * (size_t)shape.ndim);
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_status status = nn_tensor_reshape(slot, view, &shape);
        nn_tensor_free(view);
        nn_lua_check(L, status, function);
        return 1;
    }
    const char *key = lua_tostring(L, 2);
    if (!key)
        nn_lua_error(L, "tensor index: expected a position or a field name, got %s",
                     nn_lua_typename(L, 2));
    if (strcmp(key, "shape") == 0) {
        nn_lua_push_shape(L, &tensor->shape);
    } else if (strcmp(key, "dtype") == 0) {
        lua_pushstring(L, nn_dtype_name(tensor->dtype));
    } else if (strcmp(key, "device") == 0) {
        char name[32];
        lua_pushstring(L, nn_device_format(nn_tensor_device(tensor), name, sizeof name));
    } else if (strcmp(key, "ndim") == 0) {
        lua_pushinteger(L, tensor->shape.ndim);
    } else if (strcmp(key, "size") == 0) {
        lua_pushinteger(L, (lua_Integer)nn_tensor_count(tensor));
    } else if (strcmp(key, "T") == 0) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_transpose(slot, tensor, NULL, 0), "tensor.T");
    } else if ((strcmp(key, "name") == 0 || strcmp(key, "path") == 0 ||
                strcmp(key, "trainable") == 0) &&
               push_weight_info(L, 1, key)) {
        return 1;
    } else {
        luaL_getmetatable(L, NN_LUA_TENSOR);
        lua_getfield(L, -1, "methods");
        lua_getfield(L, -1, key);
        if (lua_isnil(L, -1)) {
            const char *torch_way = torch_method_way(key);
            if (torch_way)
                nn_lua_error(L, "tensor has no field or method '%s' (a PyTorch name); %s", key,
                             torch_way);
            char in_place[160];
            if (torch_in_place_way(key, in_place, sizeof in_place))
                nn_lua_error(L, "tensor has no field or method '%s' (PyTorch's in-place form); "
                                "%s", key, in_place);
            static const char *const fields[] = {"shape", "dtype", "device", "ndim", "size",
                                                 "T", NULL};
            nn_name_guess guess;
            nn_name_guess_start(&guess, key);
            for (int i = 0; fields[i]; i++)
                nn_name_guess_offer(&guess, fields[i]);
            nn_lua_offer_keys(L, -2, &guess); /* the methods */
            char guess_text[256];
            if (guess.found_count > 0)
                nn_lua_error(L, "tensor has no field or method '%s'%s; see help 'nn.Tensor'",
                             key, nn_name_guess_text(&guess, guess_text, sizeof guess_text));
            nn_lua_error(L, "tensor has no field or method '%s' (fields: shape, dtype, device, "
                            "ndim, size, T; see help 'nn.Tensor')", key);
        }
    }
    return 1;
}

/* x[i] = v: an element of a vector; for more axes, row i, from a number (every element)
 * or a tensor or table of the row's shape, as NumPy's x[i] = v. */
static int tensor_newindex(lua_State *L)
{
    const char *function = "tensor[i] = v";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    if (lua_type(L, 2) == LUA_TSTRING)
        nn_lua_error(L, "tensor field '%s' cannot be set; a tensor changes through its elements "
                        "(x[i] = v, x:fill(v)), and reshape, astype and arithmetic make new ones",
                     lua_tostring(L, 2));
    if (!lua_isinteger(L, 2))
        nn_lua_error(L, "%s: i must be a whole number (1-based, negative from the end), got %s",
                     function, lua_type(L, 2) == LUA_TNUMBER ? lua_tostring(L, 2)
                                                             : nn_lua_typename(L, 2));
    if (tensor->shape.ndim == 0)
        nn_lua_error(L, "%s: a scalar tensor has no rows; use :fill(v)", function);
    int64_t row = row_index(L, lua_tointeger(L, 2), tensor->shape.dims[0], function);
    if (tensor->shape.ndim == 1) {
        /* A tensor of one element is its number, as NumPy takes x[i] = np.array(5). */
        nn_tensor *single = nn_lua_test_tensor(L, 3);
        if (single && nn_tensor_count(single) == 1) {
            if (single->dtype == NN_DTYPE_F32)
                lua_pushnumber(L, nn_tensor_get(single, 0));
            else
                lua_pushinteger(L, nn_tensor_get_int64(single, 0));
            lua_replace(L, 3);
        }
        if (lua_type(L, 3) != LUA_TNUMBER)
            nn_lua_error(L, "%s: an element of a vector takes a number, got %s", function,
                         nn_lua_typename(L, 3));
        set_checked_element(L, tensor, (size_t)row, 3, function, "");
        return 0;
    }
    if (!nn_tensor_on_host(tensor)) {
        char device[32];
        nn_lua_error(L, "%s: rows are set on the CPU; this tensor is on %s (x:to('cpu'))",
                     function, nn_device_format(nn_tensor_device(tensor), device, sizeof device));
    }
    nn_tensor *view;
    nn_lua_check(L, nn_tensor_slice(&view, tensor, row, 1), function);
    nn_tensor **anchor = nn_lua_new_tensor_slot(L); /* frees the view on an error */
    *anchor = view;
    nn_shape row_shape = {.ndim = tensor->shape.ndim - 1};
    memcpy(row_shape.dims, &tensor->shape.dims[1], (size_t)row_shape.ndim * sizeof row_shape.dims[0]);
    if (lua_type(L, 3) == LUA_TNUMBER) {
        check_number_fits(L, tensor->dtype, 3, function, "");
        fill_with_number(L, view, 3);
        return 0;
    }
    /* A table of numbers is read in the tensor's own dtype, each number checked and an
     * integer kept whole; through float32 first, 2147483647 would become 2^31. */
    if (lua_istable(L, 3) && !nn_lua_test_tensor(L, 3) && tensor->dtype != NN_DTYPE_F32) {
        char context[96];
        snprintf(context, sizeof context, "%s (the row)", function);
        tensor_from_table(L, 3, tensor->dtype, context);
        lua_replace(L, 3);
    }
    nn_tensor *value = nn_lua_to_tensor(L, 3, function, "the row");
    if (!nn_shape_equal(&value->shape, &row_shape)) {
        /* Broadcast over the row as NumPy would (one element, or a row of a matrix row):
         * the value added to zeros of the row's shape, if that keeps the row's shape. */
        nn_tensor **zeros = nn_lua_new_tensor_slot(L);
        nn_tensor **spread = nn_lua_new_tensor_slot(L);
        if (nn_tensor_create(zeros, value->dtype, &row_shape) == NN_OK) {
            nn_tensor_fill(*zeros, 0.0);
            if (nn_tensor_binary(spread, NN_BINARY_ADD, *zeros, value) == NN_OK &&
                nn_shape_equal(&(*spread)->shape, &row_shape))
                value = *spread;
        }
    }
    if (!nn_shape_equal(&value->shape, &row_shape)) {
        char want[96], got[96];
        nn_lua_error(L, "%s: row %lld has shape %s, the value has shape %s", function,
                     (long long)lua_tointeger(L, 2), nn_shape_format(&row_shape, want, sizeof want),
                     nn_shape_format(&value->shape, got, sizeof got));
    }
    if (value->dtype != tensor->dtype) {
        check_tensor_fits(L, value, tensor->dtype, function);
        nn_tensor **converted = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_astype(converted, value, tensor->dtype), function);
        value = *converted;
    }
    nn_lua_check(L, nn_tensor_copy_into(view, value), function);
    return 0;
}

/* t:to(device): the tensor on 'cpu', 'gpu', 'gpu:N' (a copy; the tensor itself when it
 * is there already). */
static int tensor_to(lua_State *L)
{
    const char *function = "tensor:to";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "tensor:to('cpu' | 'gpu' | 'gpu:N')");
    nn_device device;
    nn_lua_check(L, nn_device_parse(nn_lua_check_device_name(L, 2, function), &device), function);
    nn_lua_check(L, nn_device_check(device), function);
    if (nn_device_equal(device, nn_tensor_device(tensor))) {
        lua_settop(L, 1);
        return 1;
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_to(slot, tensor, device), function);
    return 1;
}

static int tensor_fill(lua_State *L)
{
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, "tensor:fill");
    nn_lua_check_number(L, 2, "tensor:fill", "the value");
    check_number_fits(L, tensor->dtype, 2, "tensor:fill", "");
    fill_with_number(L, tensor, 2);
    lua_settop(L, 1);
    return 1;
}

static const luaL_Reg tensor_methods[] = {
    {"reshape", tensor_reshape}, {"flatten", tensor_flatten}, {"astype", tensor_astype},
    {"clone", tensor_clone},     {"slice", tensor_slice},     {"take", tensor_take},
    {"sum", tensor_sum},         {"mean", tensor_mean},       {"max", tensor_max},
    {"min", tensor_min},         {"std", tensor_std},         {"argmax", tensor_argmax},
    {"argmin", tensor_argmin},   {"exp", tensor_exp},         {"log", tensor_log},
    {"sqrt", tensor_sqrt},       {"abs", tensor_abs},         {"tolist", tensor_tolist},
    {"item", tensor_item},       {"eq", tensor_eq_elementwise}, {"ne", tensor_ne},
    {"lt", tensor_lt},           {"le", tensor_le},           {"gt", tensor_gt},
    {"ge", tensor_ge},           {"maximum", tensor_maximum}, {"minimum", tensor_minimum},
    {"fill", tensor_fill},       {"to", tensor_to},           {"square", tensor_square},
    {"tanh", tensor_tanh},       {"sigmoid", tensor_sigmoid}, {"relu", tensor_relu},
    {"sin", tensor_sin},         {"cos", tensor_cos},         {"floor", tensor_floor},
    {"ceil", tensor_ceil},       {"round", tensor_round},     {"matmul", tensor_matmul},
    {"transpose", tensor_transpose}, {"expand_dims", tensor_expand_dims},
    {"squeeze", tensor_squeeze}, {"clip", tensor_clip},       {"softmax", tensor_softmax},
    {NULL, NULL},
};

static const luaL_Reg tensor_metamethods[] = {
    {"__gc", tensor_gc},     {"__tostring", tensor_tostring}, {"__len", tensor_len},
    {"__index", tensor_index}, {"__newindex", tensor_newindex}, {"__add", tensor_add},
    {"__sub", tensor_sub},   {"__mul", tensor_mul},           {"__div", tensor_div},
    {"__pow", tensor_pow},   {"__unm", tensor_unm},           {"__eq", tensor_equal},
    {"__mod", tensor_mod},   {"__idiv", tensor_idiv},
    {"__lt", tensor_order},  {"__le", tensor_order},  {"__concat", concat_as_text},
    {NULL, NULL},
};

/* ---- nn.activations ---- */

/* The setting an activation function takes after x, as Keras orders it, or NULL. */
static const char *activation_setting(nn_activation_kind kind)
{
    switch (kind) {
    case NN_ACTIVATION_ELU: return "alpha";
    case NN_ACTIVATION_LEAKY_RELU: return "negative_slope";
    case NN_ACTIVATION_SOFTMAX:
    case NN_ACTIVATION_LOG_SOFTMAX: return "axis";
    default: return NULL;
    }
}

/* nn.activations.<name>(x [, setting]), Keras' activation functions: what a layer with
 * activation = '<name>' computes, in float32. The name is the closure's upvalue, so a
 * layer can take the function itself as its activation. */
static int l_activation(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    char function[64], usage[160];
    snprintf(function, sizeof function, "nn.activations.%s", name);
    nn_activation activation;
    nn_lua_check(L, nn_activation_parse(name, &activation), function);
    const char *setting = activation_setting(activation.kind);
    if (activation.kind == NN_ACTIVATION_RELU)
        snprintf(usage, sizeof usage, "%s(x); for negative_slope, max_value or threshold use "
                                      "nn.layers.ReLU{...}(x)", function);
    else if (setting)
        snprintf(usage, sizeof usage, "%s(x [, %s])", function, setting);
    else
        snprintf(usage, sizeof usage, "%s(x)", function);
    nn_lua_check_no_more_arguments(L, setting ? 2 : 1, function, usage);
    nn_tensor *x = nn_lua_to_tensor(L, 1, function, "x");
    int axis = -1;
    if (setting && !lua_isnoneornil(L, 2)) {
        /* A plain value is the setting itself: elu(x, 0.5) as elu(x, {alpha = 0.5}). */
        if (!lua_istable(L, 2) || nn_lua_test_tensor(L, 2)) {
            lua_createtable(L, 0, 1);
            lua_pushvalue(L, 2);
            lua_setfield(L, -2, setting);
            lua_replace(L, 2);
        }
        const char *names[] = {setting, NULL};
        nn_lua_check_option_names(L, 2, function, names, 0);
        if (strcmp(setting, "axis") == 0)
            axis = (int)nn_lua_opt_integer(L, 2, "axis", -1, -NN_MAX_DIMS, NN_MAX_DIMS - 1,
                                           function);
        else
            /* The bounds of the ELU and LeakyReLU layers, so a float keeps the value. */
            activation.alpha = (float)nn_lua_opt_number(L, 2, setting, activation.alpha, 0.0,
                                                        1e30, function);
    }
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_activation(slot, x, activation, axis), function);
    return 1;
}

const char *nn_lua_activation_function_name(lua_State *L, int index)
{
    return nn_lua_closure_name(L, index, l_activation);
}

static void set_activation(lua_State *L, const char *name)
{
    lua_pushstring(L, name);
    lua_pushcclosure(L, l_activation, 1);
    lua_setfield(L, -2, name);
}

/* nn.activations: a function for each of Keras' names, its aliases silu and hard_swish
 * included. */
static void push_activations(lua_State *L)
{
    lua_newtable(L);
    for (const char *const *name = nn_activation_names(); *name; name++)
        set_activation(L, *name);
    set_activation(L, "silu");
    set_activation(L, "hard_swish");
}

/* nn.utils.to_categorical(labels [, num_classes]): one-hot rows, float32, as Keras. */
static int l_to_categorical(lua_State *L)
{
    const char *function = "nn.utils.to_categorical";
    const char *usage = "nn.utils.to_categorical(labels [, num_classes])";
    nn_lua_check_no_more_arguments(L, 2, function, usage);
    nn_tensor *labels = nn_lua_to_tensor(L, 1, function, "the labels");
    lua_Integer classes = 0;
    if (!lua_isnoneornil(L, 2)) {
        int is_integer = 0;
        classes = nn_lua_tointeger(L, 2, &is_integer);
        char text[64];
        if (!is_integer || classes < 1 || classes > 1000000)
            nn_lua_error(L, "%s: num_classes must be a whole number from 1 to 1000000, got %s",
                         function, nn_lua_argument_text(L, 2, text, sizeof text));
    }
    nn_tensor *host = labels;
    if (!nn_tensor_on_host(labels)) {
        nn_tensor **slot = nn_lua_new_tensor_slot(L);
        nn_lua_check(L, nn_tensor_to(slot, labels, nn_device_cpu()), function);
        host = *slot;
    }
    size_t count = nn_tensor_count(host);
    int64_t largest = -1;
    for (size_t i = 0; i < count; i++) {
        double label = nn_tensor_get(host, i);
        if (!(label >= 0) || label != floor(label)) {
            char text[32];
            snprintf(text, sizeof text, isnan(label) ? "nan" : "%g", label); /* not "-nan" */
            nn_lua_error(L, "%s: label %s at position %zu is not a class number (a whole number "
                            "from 0)", function, text, i + 1);
        }
        if (label >= 1e6)
            nn_lua_error(L, "%s: label %g at position %zu is beyond the 1000000 classes allowed",
                         function, label, i + 1);
        if ((int64_t)label > largest)
            largest = (int64_t)label;
        if (classes > 0 && label >= (double)classes)
            nn_lua_error(L, "%s: label %g at position %zu is not below num_classes=%lld",
                         function, label, i + 1, (long long)classes);
    }
    if (classes == 0)
        classes = largest + 1;
    /* Labels of shape (N, 1) give (N, classes), not (N, 1, classes), as in Keras. */
    nn_shape shape = host->shape;
    if (shape.ndim > 1 && shape.dims[shape.ndim - 1] == 1)
        shape.ndim--;
    if (shape.ndim >= NN_MAX_DIMS)
        nn_lua_error(L, "%s: labels of %d axes leave no room for the class axis", function,
                     shape.ndim);
    shape.dims[shape.ndim++] = classes;
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, NN_DTYPE_F32, &shape), function);
    float *rows = nn_tensor_f32(*slot);
    for (size_t i = 0; i < count; i++)
        rows[i * (size_t)classes + (size_t)nn_tensor_get(host, i)] = 1.0f;
    return 1;
}

/* Whether `value` fits `dtype` exactly: any number for float32, whole numbers in range
 * (*low to *high) for the integer dtypes (int64 up to 2^53, where doubles stay exact). */
static bool holds(nn_dtype dtype, double value, double *low, double *high)
{
    *low = dtype == NN_DTYPE_U8 ? 0 : dtype == NN_DTYPE_I32 ? -2147483648.0 : -9007199254740992.0;
    *high = dtype == NN_DTYPE_U8 ? 255 : dtype == NN_DTYPE_I32 ? 2147483647.0 : 9007199254740992.0;
    return dtype == NN_DTYPE_F32 || (value >= *low && value <= *high && value == floor(value));
}

/* Element j (from 1) of sequence i of pad_sequences' list (the value at the top of the
 * stack: a Lua list or a 1-D tensor), checked against the dtype. */
static double sequence_element(lua_State *L, int sequence, lua_Integer i, lua_Integer j,
                               nn_dtype dtype, const char *function)
{
    double value;
    nn_tensor **tensor = luaL_testudata(L, sequence, NN_LUA_TENSOR);
    if (tensor) {
        value = nn_tensor_get(*tensor, (size_t)(j - 1));
    } else {
        lua_rawgeti(L, sequence, j);
        if (lua_type(L, -1) != LUA_TNUMBER)
            nn_lua_error(L, "%s: sequence %lld, element %lld must be a number, got %s", function,
                         (long long)i, (long long)j, nn_lua_typename(L, -1));
        value = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    double low, high;
    if (!holds(dtype, value, &low, &high))
        nn_lua_error(L, "%s: sequence %lld, element %lld is %g, which dtype '%s' cannot hold "
                        "(whole numbers from %.0f to %.0f)",
                     function, (long long)i, (long long)j, value, nn_dtype_name(dtype), low,
                     high);
    return value;
}

/* The length of sequence i of pad_sequences' list (at `sequence`): a list's, or a 1-D
 * tensor's. */
static lua_Integer sequence_length(lua_State *L, int sequence, lua_Integer i,
                                   const char *function)
{
    nn_tensor **tensor = luaL_testudata(L, sequence, NN_LUA_TENSOR);
    if (tensor) {
        if (!*tensor || (*tensor)->shape.ndim != 1)
            nn_lua_error(L, "%s: sequence %lld is a tensor of %d axes; a sequence is a list or "
                            "a tensor of one axis",
                         function, (long long)i, *tensor ? (*tensor)->shape.ndim : 0);
        if (!nn_tensor_on_host(*tensor))
            nn_lua_error(L, "%s: sequence %lld is on another device; bring it to the cpu first",
                         function, (long long)i);
        return (*tensor)->shape.dims[0];
    }
    if (!lua_istable(L, sequence))
        nn_lua_error(L, "%s: sequence %lld must be a list of numbers or a 1-D tensor, got %s",
                     function, (long long)i, nn_lua_typename(L, sequence));
    return (lua_Integer)lua_rawlen(L, sequence);
}

/* 'pre' (0) or 'post' (1). */
static int pre_or_post(lua_State *L, int options, const char *key, const char *function)
{
    lua_getfield(L, options, key);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
        nn_lua_error(L, "%s: %s must be 'pre' or 'post', got %s", function, key,
                     nn_lua_typename(L, -1));
    const char *value = lua_isnil(L, -1) ? "pre" : lua_tostring(L, -1);
    int result = strcmp(value, "pre") == 0 ? 0 : strcmp(value, "post") == 0 ? 1 : -1;
    if (result < 0)
        nn_lua_error(L, "%s: %s must be 'pre' or 'post', got '%s'", function, key, value);
    lua_pop(L, 1);
    return result;
}

/* nn.utils.pad_sequences(sequences [, {maxlen=, dtype='int32', padding='pre',
 * truncating='pre', value=0}]): a (N, maxlen) tensor of the sequences, padded or cut to one
 * length, as Keras. */
static int l_pad_sequences(lua_State *L)
{
    const char *function = "nn.utils.pad_sequences";
    const char *usage = "nn.utils.pad_sequences(sequences [, {maxlen=, dtype=, padding=, "
                        "truncating=, value=}])";
    nn_lua_check_no_more_arguments(L, 2, function, usage);
    if (!lua_istable(L, 1))
        nn_lua_error(L, "%s: sequences must be a list of lists (or of 1-D tensors), got %s; "
                        "usage: %s",
                     function, nn_lua_typename(L, 1), usage);
    if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
        nn_lua_error(L, "%s: the options must be a table, got %s; usage: %s", function,
                     nn_lua_typename(L, 2), usage);
    if (lua_isnone(L, 2))
        lua_pushnil(L);
    if (lua_isnil(L, 2)) {
        lua_newtable(L);
        lua_replace(L, 2);
    }
    static const char *const names[] = {"maxlen", "dtype", "padding", "truncating", "value", NULL};
    nn_lua_check_option_names(L, 2, function, names, 0);
    lua_Integer count = (lua_Integer)lua_rawlen(L, 1);
    if (count == 0)
        nn_lua_error(L, "%s: sequences is an empty list; give at least one sequence", function);
    lua_Integer maxlen = nn_lua_opt_integer(L, 2, "maxlen", 0, 1, 1 << 24, function);
    lua_getfield(L, 2, "dtype");
    const char *dtype_name = lua_isnil(L, -1) ? "int32" : lua_tostring(L, -1);
    nn_dtype dtype = NN_DTYPE_I32;
    if (!dtype_name || nn_dtype_parse(dtype_name, &dtype) != NN_OK)
        nn_lua_error(L, "%s: dtype must be 'int32', 'int64', 'uint8' or 'float32', got %s",
                     function, dtype_name ? dtype_name : nn_lua_typename(L, -1));
    lua_pop(L, 1);
    int padding = pre_or_post(L, 2, "padding", function);
    int truncating = pre_or_post(L, 2, "truncating", function);
    double value = nn_lua_opt_number(L, 2, "value", 0.0, -1e300, 1e300, function);
    double low, high;
    if (!holds(dtype, value, &low, &high))
        nn_lua_error(L, "%s: value %g cannot pad a tensor of dtype '%s' (whole numbers from "
                        "%.0f to %.0f)",
                     function, value, nn_dtype_name(dtype), low, high);

    lua_Integer longest = 0;
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, 1, i);
        lua_Integer length = sequence_length(L, lua_gettop(L), i, function);
        longest = length > longest ? length : longest;
        lua_pop(L, 1);
    }
    if (maxlen == 0)
        maxlen = longest;
    if (maxlen == 0)
        nn_lua_error(L, "%s: every sequence is empty; give maxlen to make rows of padding",
                     function);
    nn_shape shape = NN_SHAPE(count, maxlen);
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_tensor_create(slot, dtype, &shape), function);
    nn_tensor *out = *slot;
    nn_tensor_fill(out, value);
    for (lua_Integer i = 1; i <= count; i++) {
        lua_rawgeti(L, 1, i);
        int sequence = lua_gettop(L);
        lua_Integer length = sequence_length(L, sequence, i, function);
        lua_Integer kept = length < maxlen ? length : maxlen;
        /* 'pre' truncation keeps the end of a long sequence; 'pre' padding puts the
         * padding before a short one. */
        lua_Integer first = truncating == 0 ? length - kept + 1 : 1;
        lua_Integer column = padding == 0 ? maxlen - kept : 0;
        for (lua_Integer j = 0; j < kept; j++)
            nn_tensor_set(out, (size_t)((i - 1) * maxlen + column + j),
                          sequence_element(L, sequence, i, first + j, dtype, function));
        lua_pop(L, 1);
    }
    return 1;
}

static const luaL_Reg tensor_functions[] = {
    {"tensor", l_tensor}, {"zeros", l_zeros}, {"ones", l_ones},
    {"full", l_full},     {"arange", l_arange}, {"matmul", l_matmul},
    {"concatenate", l_concatenate}, {"stack", l_stack}, {"linspace", l_linspace},
    {"eye", l_eye},       {"zeros_like", l_zeros_like}, {"ones_like", l_ones_like},
    {NULL, NULL},
};

static const luaL_Reg random_functions[] = {
    {"seed", l_random_seed},       {"randn", l_random_randn},
    {"uniform", l_random_uniform}, {"rand", l_random_rand},
    {"randint", l_random_randint},
    {"permutation", l_random_permutation},
    {NULL, NULL},
};

static int none_tostring(lua_State *L)
{
    lua_pushliteral(L, "None");
    return 1;
}

void nn_lua_open_tensor(lua_State *L)
{
    /* nn.None: the unknown (batch) dimension in shapes. */
    lua_newtable(L);
    lua_newtable(L);
    lua_pushcfunction(L, none_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "nn.None");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "nn.None");
    lua_setfield(L, -2, "None");

    luaL_newmetatable(L, NN_LUA_SHAPE);
    lua_pushcfunction(L, shape_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, shape_equal);
    lua_setfield(L, -2, "__eq");
    lua_pushcfunction(L, concat_as_text);
    lua_setfield(L, -2, "__concat");
    lua_pushliteral(L, "shape");
    lua_pushliteral(L, "size");
    lua_pushcclosure(L, list_index, 2);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);

    keep_ipairs_iterator(L);
    luaL_newmetatable(L, NN_LUA_TENSOR);
    luaL_setfuncs(L, tensor_metamethods, 0);
    luaL_newlib(L, tensor_methods);
    lua_setfield(L, -2, "methods");
    lua_pop(L, 1);

    luaL_setfuncs(L, tensor_functions, 0);
    luaL_newlib(L, random_functions);
    lua_setfield(L, -2, "random");
    lua_newtable(L);
    lua_pushcfunction(L, l_to_categorical);
    lua_setfield(L, -2, "to_categorical");
    lua_pushcfunction(L, l_pad_sequences);
    lua_setfield(L, -2, "pad_sequences");
    lua_pushcfunction(L, l_set_random_seed);
    lua_setfield(L, -2, "set_random_seed");
    lua_setfield(L, -2, "utils");
    push_activations(L);
    lua_setfield(L, -2, "activations");
}
