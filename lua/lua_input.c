/* nn.Input{shape = {28, 28, 1}}: the shape of a model's input, given as the first entry of
 * nn.Sequential (Keras 3's keras.Input) instead of input_shape= on the first layer. Also
 * reachable as nn.layers.Input and nn.layers.InputLayer. */
#include <string.h>

#include "nn_lua.h"

#define NN_LUA_INPUT "nn.Input"

typedef struct lua_input {
    nn_shape shape; /* batch axis -1 */
    char name[NN_NAME_CAPACITY];
} lua_input;

const nn_shape *nn_lua_test_input(lua_State *L, int index)
{
    lua_input *input = luaL_testudata(L, index, NN_LUA_INPUT);
    return input ? &input->shape : NULL;
}

/* The value on top of the stack (popped) as one sample's shape: a list of positive sizes
 * without the batch axis, or a single size. `key` names it in errors. */
static nn_shape pop_sample_shape(lua_State *L, const char *key, const char *function)
{
    nn_shape sample = {0};
    if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_createtable(L, 1, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
    }
    if (!lua_istable(L, -1))
        nn_lua_error(L, "%s: %s must be the shape of one sample without the batch axis, such "
                        "as {28, 28, 1}, got %s", function, key, nn_lua_typename(L, -1));
    lua_Integer length = luaL_len(L, -1);
    if (length < 1 || length > NN_MAX_DIMS - 1)
        nn_lua_error(L, "%s: %s must list 1 to %d sizes (the batch axis is added), got %lld",
                     function, key, NN_MAX_DIMS - 1, (long long)length);
    sample.ndim = (int)length;
    for (int i = 0; i < sample.ndim; i++) {
        lua_geti(L, -1, i + 1);
        int is_integer = 0;
        lua_Integer size = nn_lua_tointeger(L, -1, &is_integer);
        bool none = nn_lua_is_none(L, -1);
        if (none || (is_integer && size == -1))
            nn_lua_unknown_size_error(L, function, key, i + 1, none);
        if (!is_integer || size < 1 || size > (1 << 30))
            nn_lua_error(L, "%s: %s entry %d must be an integer from 1 to %d, got %s", function,
                         key, i + 1, 1 << 30,
                         lua_type(L, -1) == LUA_TNUMBER
                             ? lua_tostring(L, -1)
                             : NN_LUA_NOT_A_NUMBER(L, -1));
        sample.dims[i] = size;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return sample;
}

/* nn.Input{shape = {...}, name = 'input_layer', dtype = 'float32'} */
static int l_input(lua_State *L)
{
    const char *function = "nn.Input";
    nn_lua_check_no_more_arguments(L, 1, function,
                                   "nn.Input{shape = {28, 28, 1} [, name = 'x', dtype = 'float32']}");
    if (!lua_istable(L, 1))
        nn_lua_error(L, "%s: expected a table such as {shape = {28, 28, 1}}, got %s", function,
                     nn_lua_typename(L, 1));
    /* keras.Input((28, 28, 1)) written as nn.Input({28, 28, 1}): the sizes came loose. */
    if (lua_geti(L, 1, 1) == LUA_TNUMBER)
        nn_lua_error(L, "%s: the sample shape is one table, nn.Input{shape = {28, 28, 1}} (or "
                        "nn.Input{{28, 28, 1}}); got the number %s as the first entry",
                     function, lua_tostring(L, -1));
    lua_pop(L, 1);
    static const char *const names[] = {"shape", "input_shape", "name", "dtype", NULL};
    nn_lua_check_option_names(L, 1, function, names, 1);
    /* The shape by position ({{28, 28, 1}}), as shape=, or as Keras 2's input_shape=. */
    static const char *const shape_keys[] = {NULL, "shape", "input_shape"};
    int given = 0;
    const char *key = NULL;
    for (int k = 0; k < 3; k++) {
        if (shape_keys[k])
            lua_getfield(L, 1, shape_keys[k]);
        else
            lua_geti(L, 1, 1);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        if (given++)
            nn_lua_error(L, "%s: give the shape of one sample once, as {{28, 28, 1}} or "
                            "{shape = {28, 28, 1}}", function);
        key = shape_keys[k] ? shape_keys[k] : "shape";
        lua_insert(L, 2);
    }
    if (!given)
        nn_lua_error(L, "%s: missing the shape of one sample, as {shape = {28, 28, 1}}",
                     function);
    lua_pushvalue(L, 2);
    nn_shape sample = pop_sample_shape(L, key, function);
    lua_remove(L, 2);

    lua_getfield(L, 1, "dtype");
    if (!lua_isnil(L, -1) && (lua_type(L, -1) != LUA_TSTRING ||
                              strcmp(lua_tostring(L, -1), "float32") != 0))
        nn_lua_error(L, "%s: dtype must be 'float32' (models compute in float32), got %s",
                     function, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                               : nn_lua_typename(L, -1));
    lua_pop(L, 1);

    const char *name = "input_layer";
    lua_getfield(L, 1, "name");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0 ||
            lua_rawlen(L, -1) >= NN_NAME_CAPACITY)
            nn_lua_error(L, "%s: name must be a string of 1 to %d characters, got %s", function,
                         NN_NAME_CAPACITY - 1, nn_lua_typename(L, -1));
        name = lua_tostring(L, -1);
    }
    lua_input *input = lua_newuserdatauv(L, sizeof *input, 0);
    memset(input, 0, sizeof *input);
    input->shape.ndim = sample.ndim + 1;
    input->shape.dims[0] = -1;
    memcpy(&input->shape.dims[1], sample.dims, (size_t)sample.ndim * sizeof sample.dims[0]);
    strncpy(input->name, name, NN_NAME_CAPACITY - 1);
    luaL_setmetatable(L, NN_LUA_INPUT);
    return 1;
}

static int input_index(lua_State *L)
{
    lua_input *input = luaL_checkudata(L, 1, NN_LUA_INPUT);
    const char *key = nn_lua_check_field_key(L, 2, "nn.Input", NULL);
    if (strcmp(key, "shape") == 0)
        nn_lua_push_shape(L, &input->shape);
    else if (strcmp(key, "name") == 0)
        lua_pushstring(L, input->name);
    else if (strcmp(key, "dtype") == 0)
        lua_pushliteral(L, "float32");
    else
        nn_lua_error(L, "nn.Input has no field '%s' (fields: shape, name, dtype)", key);
    return 1;
}

static int input_newindex(lua_State *L)
{
    luaL_checkudata(L, 1, NN_LUA_INPUT);
    nn_lua_error(L, "nn.Input fields cannot be set (got '%s'); make a new nn.Input instead",
                 nn_lua_check_field_key(L, 2, "nn.Input", NULL));
    return 0;
}

static int input_tostring(lua_State *L)
{
    lua_input *input = luaL_checkudata(L, 1, NN_LUA_INPUT);
    char text[128];
    lua_pushfstring(L, "Input(shape=%s, dtype=float32, name=%s)",
                    nn_shape_format(&input->shape, text, sizeof text), input->name);
    return 1;
}

void nn_lua_open_input(lua_State *L)
{
    static const luaL_Reg metamethods[] = {
        {"__index", input_index}, {"__newindex", input_newindex},
        {"__tostring", input_tostring}, {NULL, NULL}};
    luaL_newmetatable(L, NN_LUA_INPUT);
    luaL_setfuncs(L, metamethods, 0);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_input);
    lua_setfield(L, -2, "Input");
    /* nn.layers.Input and nn.layers.InputLayer, for code written against keras.layers */
    if (lua_getfield(L, -1, "layers") == LUA_TTABLE) {
        lua_pushcfunction(L, l_input);
        lua_setfield(L, -2, "Input");
        lua_pushcfunction(L, l_input);
        lua_setfield(L, -2, "InputLayer");
    }
    lua_pop(L, 1);
}
