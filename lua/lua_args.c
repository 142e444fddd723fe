/* Argument tables: checking names, typed options, and setting layer arguments from Lua
 * values through the engine's argument specs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "io/safetensors.h"
#include "names.h"
#include "nn_lua.h"

const char *nn_lua_typename(lua_State *L, int index)
{
    if (lua_type(L, index) == LUA_TNUMBER)
        return lua_isinteger(L, index) ? "integer" : "number";
    if (lua_type(L, index) == LUA_TUSERDATA && lua_getmetatable(L, index)) {
        lua_getfield(L, -1, "__name");
        const char *name = lua_tostring(L, -1);
        lua_pop(L, 2);
        if (name)
            return name;
    }
    return luaL_typename(L, index);
}

void *nn_lua_new_box(lua_State *L, size_t size, const char *type_name, lua_CFunction release)
{
    void *box = lua_newuserdatauv(L, size, 0);
    memset(box, 0, size);
    if (luaL_newmetatable(L, type_name)) {
        lua_pushcfunction(L, release);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return box;
}

const char *nn_lua_not_a_number_text(lua_State *L, int index, char *text, size_t size)
{
    if (lua_type(L, index) == LUA_TSTRING && lua_isnumber(L, index)) {
        snprintf(text, size, "the string '%.24s' (tonumber converts it)", lua_tostring(L, index));
        return text;
    }
    return nn_lua_typename(L, index);
}

lua_Integer nn_lua_tointeger(lua_State *L, int index, int *is_integer)
{
    if (lua_type(L, index) != LUA_TNUMBER) {
        *is_integer = 0;
        return 0;
    }
    return lua_tointegerx(L, index, is_integer);
}

double nn_lua_check_number(lua_State *L, int index, const char *function, const char *what)
{
    char text[64];
    if (lua_type(L, index) != LUA_TNUMBER)
        nn_lua_error(L, "%s: %s must be a number, got %s", function, what,
                     nn_lua_not_a_number_text(L, index, text, sizeof text));
    return lua_tonumber(L, index);
}

const char *nn_lua_text_for(const nn_lua_name_text *table, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(name, table[i].name) == 0)
            return table[i].text;
    return NULL;
}

const char *nn_lua_closure_name(lua_State *L, int index, lua_CFunction function)
{
    if (lua_tocfunction(L, index) != function || !lua_getupvalue(L, index, 1))
        return NULL;
    const char *name = lua_tostring(L, -1); /* the closure keeps the string alive */
    lua_pop(L, 1);
    return name;
}

const char *nn_lua_check_field_key(lua_State *L, int index, const char *owner,
                                   const char *owner_name)
{
    int type = lua_type(L, index);
    if (type != LUA_TSTRING && type != LUA_TNUMBER)
        nn_lua_error(L, "%s%s%s%s: fields are named by strings, got a key of type %s", owner,
                     owner_name ? " \"" : "", owner_name ? owner_name : "",
                     owner_name ? "\"" : "", nn_lua_typename(L, index));
    return lua_tostring(L, index);
}

const char *nn_lua_number_text(double value, char *text, size_t size)
{
    if (isnan(value)) {
        snprintf(text, size, "nan");
        return text;
    }
    snprintf(text, size, "%g", value);
    for (int digits = 7; digits <= 17 && strtod(text, NULL) != value; digits++)
        snprintf(text, size, "%.*g", digits, value);
    return text;
}

const char *nn_lua_colon_hint(int index, const char *function, char *buf, size_t size)
{
    if (index != 1 || !strchr(function, ':'))
        return "";
    snprintf(buf, size, "; call methods with a colon: %s(...)", function);
    return buf;
}

void nn_lua_offer_keys(lua_State *L, int index, nn_name_guess *guess)
{
    index = lua_absindex(L, index);
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING && lua_tostring(L, -1)[0] != '_')
            nn_name_guess_offer(guess, lua_tostring(L, -1));
    }
}

static void push_name_list(lua_State *L, const char *const *names)
{
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    for (int i = 0; names[i]; i++) {
        if (i)
            luaL_addstring(&buffer, ", ");
        luaL_addstring(&buffer, names[i]);
    }
    luaL_pushresult(&buffer);
}

int nn_lua_unknown_size_error(lua_State *L, const char *function, const char *key, int entry,
                              bool none)
{
    return nn_lua_error(L, "%s: %s entry %d is %s, a size known only when data arrives; nnsh "
                           "builds every layer for known sizes, so give it (for sequences "
                           "of different lengths, the longest, with nn.utils.pad_sequences "
                           "padding the others)",
                        function, key, entry, none ? "nn.None" : "-1");
}

void nn_lua_check_option_names(lua_State *L, int index, const char *function,
                               const char *const *names, int positional)
{
    index = lua_absindex(L, index);
    if (lua_isnoneornil(L, index))
        return;
    if (!lua_istable(L, index))
        nn_lua_error(L, "%s: options must be a table, got %s", function, nn_lua_typename(L, index));
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
            lua_Integer position = lua_tointeger(L, -1);
            if (position >= 1 && position <= positional)
                continue;
            push_name_list(L, names);
            nn_lua_error(L, "%s: takes %d positional argument%s, got one at position %lld; "
                          "name the others (valid names: %s)",
                       function, positional, positional == 1 ? "" : "s", (long long)position,
                       lua_tostring(L, -1));
        }
        if (lua_type(L, -1) != LUA_TSTRING) {
            nn_lua_error(L, "%s: option keys must be names, got a %s key", function,
                       luaL_typename(L, -1));
        }
        const char *key = lua_tostring(L, -1);
        bool known = false;
        for (int i = 0; names[i] && !known; i++)
            known = strcmp(names[i], key) == 0;
        if (!known) {
            char guess[256];
            nn_names_did_you_mean(guess, sizeof guess, key, names);
            push_name_list(L, names);
            nn_lua_error(L, "%s: unknown option '%s'%s; valid options are: %s", function, key,
                       guess, lua_tostring(L, -1));
        }
    }
}

/* Pushes t[key] for the options table at index (nil when there is no table). */
static int get_option(lua_State *L, int index, const char *key)
{
    if (!lua_istable(L, index)) {
        lua_pushnil(L);
        return LUA_TNIL;
    }
    return lua_getfield(L, index, key);
}

lua_Integer nn_lua_opt_integer(lua_State *L, int index, const char *key, lua_Integer fallback,
                               lua_Integer low, lua_Integer high, const char *function)
{
    index = lua_absindex(L, index);
    if (get_option(L, index, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return fallback;
    }
    int is_integer = 0;
    lua_Integer value = nn_lua_tointeger(L, -1, &is_integer);
    if (!is_integer && lua_type(L, -1) == LUA_TNUMBER) {
        double number = lua_tonumber(L, -1);
        if (isnan(number))
            nn_lua_error(L, "%s: %s must be an integer, got NaN", function, key);
        nn_lua_error(L, "%s: %s must be an integer, got %.15g", function, key, number);
    }
    char text[64];
    if (!is_integer)
        nn_lua_error(L, "%s: %s must be an integer, got %s", function, key,
                     nn_lua_not_a_number_text(L, -1, text, sizeof text));
    if (value < low || value > high) {
        if (high == LUA_MAXINTEGER)
            nn_lua_error(L, "%s: %s must be >= %lld, got %lld", function, key, (long long)low,
                       (long long)value);
        nn_lua_error(L, "%s: %s must be between %lld and %lld, got %lld", function, key,
                   (long long)low, (long long)high, (long long)value);
    }
    lua_pop(L, 1);
    return value;
}

double nn_lua_opt_number(lua_State *L, int index, const char *key, double fallback, double low,
                         double high, const char *function)
{
    index = lua_absindex(L, index);
    if (get_option(L, index, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return fallback;
    }
    char text[64];
    if (lua_type(L, -1) != LUA_TNUMBER)
        nn_lua_error(L, "%s: %s must be a number, got %s", function, key,
                     nn_lua_not_a_number_text(L, -1, text, sizeof text));
    double value = lua_tonumber(L, -1);
    if (!(value >= low && value <= high))
        nn_lua_error(L, "%s: %s must be between %g and %g, got %s", function, key, low, high,
                     nn_lua_number_text(value, text, sizeof text));
    lua_pop(L, 1);
    return value;
}

bool nn_lua_opt_boolean(lua_State *L, int index, const char *key, bool fallback,
                        const char *function)
{
    index = lua_absindex(L, index);
    if (get_option(L, index, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return fallback;
    }
    if (!lua_isboolean(L, -1))
        nn_lua_error(L, "%s: %s must be true or false, got %s", function, key,
                   nn_lua_typename(L, -1));
    bool value = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return value;
}

/* ---- layer arguments ---- */

static int64_t check_arg_integer(lua_State *L, int index, const nn_arg_spec *spec,
                                 const char *function, const char *what)
{
    int is_integer = 0;
    lua_Integer value = nn_lua_tointeger(L, index, &is_integer);
    if (!is_integer && lua_type(L, index) == LUA_TNUMBER) {
        double number = lua_tonumber(L, index);
        if (isnan(number))
            nn_lua_error(L, "%s: %s must be %s, got NaN", function, spec->name, what);
        nn_lua_error(L, "%s: %s must be %s, got %.17g", function, spec->name, what, number);
    }
    char text[64];
    if (!is_integer)
        nn_lua_error(L, "%s: %s must be %s, got %s", function, spec->name, what,
                     nn_lua_not_a_number_text(L, index, text, sizeof text));
    if ((double)value < spec->min) {
        if (spec->min == 1)
            nn_lua_error(L, "%s: %s must be a positive integer, got %lld", function, spec->name,
                       (long long)value);
        nn_lua_error(L, "%s: %s must be an integer >= %g, got %lld", function, spec->name,
                   spec->min, (long long)value);
    }
    if ((double)value > spec->max)
        nn_lua_error(L, "%s: %s must be at most %.0f, got %lld", function, spec->name,
                     spec->max, (long long)value);
    return value;
}

/* One size per axis: an int n (n on every axis) or a list of `count` ints; a pair reads
 * "a pair of integers", a triple "a list of 3 integers". */
static void set_sizes(lua_State *L, int *sizes, int count, const nn_arg_spec *spec,
                      const char *function)
{
    const char *expected = count == 2 ? "an integer or a pair of integers"
                                      : "an integer or a list of 3 integers";
    if (lua_type(L, -1) == LUA_TNUMBER) {
        int value = (int)check_arg_integer(L, -1, spec, function, expected);
        for (int i = 0; i < count; i++)
            sizes[i] = value;
        return;
    }
    if (!lua_istable(L, -1) || luaL_len(L, -1) != count)
        nn_lua_error(L, "%s: %s must be %s, got %s", function, spec->name, expected,
                     !lua_istable(L, -1) ? NN_LUA_NOT_A_NUMBER(L, -1)
                     : count == 2        ? "a table that is not a pair"
                                         : "a table that does not have 3 entries");
    for (int i = 0; i < count; i++) {
        lua_geti(L, -1, i + 1);
        sizes[i] = (int)check_arg_integer(L, -1, spec, function, expected);
        lua_pop(L, 1);
    }
}

/* An augmentation factor: a number f ({-f, f}) or {lower, upper}; nil is None where the
 * argument is optional. Ranges are the engine's to check, after every argument is set. */
static void set_factor(lua_State *L, float *factor, const nn_arg_spec *spec,
                       const char *function)
{
    static const char expected[] = "a number f (the range -f to f) or {lower, upper}";
    if (lua_isnil(L, -1) && !spec->required) {
        factor[0] = factor[1] = NAN;
        return;
    }
    double values[2];
    if (lua_type(L, -1) == LUA_TNUMBER) {
        /* As Keras: f means -|f| to |f|. */
        values[1] = fabs(lua_tonumber(L, -1));
        values[0] = -values[1];
    } else {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != 2)
            nn_lua_error(L, "%s: %s must be %s, got %s", function, spec->name, expected,
                         lua_istable(L, -1) ? "a table that is not a pair"
                                            : NN_LUA_NOT_A_NUMBER(L, -1));
        for (int i = 0; i < 2; i++) {
            lua_geti(L, -1, i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                nn_lua_error(L, "%s: %s must be %s, got %s in it", function, spec->name,
                             expected, nn_lua_typename(L, -1));
            values[i] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    }
    for (int i = 0; i < 2; i++)
        if (!isfinite(values[i]))
            nn_lua_error(L, "%s: %s must hold finite numbers, got %s", function, spec->name,
                         isnan(values[i]) ? "NaN" : values[i] > 0 ? "inf" : "-inf");
    /* A range written upper bound first is the same range, as Keras reads it. */
    factor[0] = (float)fmin(values[0], values[1]);
    factor[1] = (float)fmax(values[0], values[1]);
}

/* n (every side), {height, width} (both sides of each), or {{top, bottom}, {left,
 * right}}; with three axes {depth, height, width} and {{front, back}, {top, bottom},
 * {left, right}}. */
static void set_sides(lua_State *L, int *sides, int axes, const nn_arg_spec *spec,
                      const char *function)
{
    static const char *const side_names[] = {"front, back", "top, bottom", "left, right"};
    const char *const *names = axes == 2 ? side_names + 1 : side_names;
    const char *expected =
        axes == 2 ? "an integer, {height, width} or {{top, bottom}, {left, right}}"
                  : "an integer, {depth, height, width} or {{front, back}, {top, bottom}, "
                    "{left, right}}";
    if (lua_type(L, -1) == LUA_TNUMBER) {
        int value = (int)check_arg_integer(L, -1, spec, function, expected);
        for (int side = 0; side < 2 * axes; side++)
            sides[side] = value;
        return;
    }
    if (!lua_istable(L, -1) || luaL_len(L, -1) != axes)
        nn_lua_error(L, "%s: %s must be %s, got %s", function, spec->name, expected,
                     !lua_istable(L, -1) ? NN_LUA_NOT_A_NUMBER(L, -1)
                     : axes == 2         ? "a table that is not a pair"
                                         : "a table that does not have 3 entries");
    for (int axis = 0; axis < axes; axis++) {
        lua_geti(L, -1, axis + 1);
        if (lua_type(L, -1) == LUA_TNUMBER) {
            int value = (int)check_arg_integer(L, -1, spec, function, expected);
            sides[2 * axis] = sides[2 * axis + 1] = value;
        } else if (lua_istable(L, -1) && luaL_len(L, -1) == 2) {
            for (int side = 0; side < 2; side++) {
                lua_geti(L, -1, side + 1);
                sides[2 * axis + side] = (int)check_arg_integer(L, -1, spec, function, expected);
                lua_pop(L, 1);
            }
        } else {
            nn_lua_error(L, "%s: %s entry %d must be an integer or a pair {%s}, got %s", function,
                         spec->name, axis + 1, names[axis],
                         lua_istable(L, -1) ? "a table that is not a pair"
                                            : NN_LUA_NOT_A_NUMBER(L, -1));
        }
        lua_pop(L, 1);
    }
}

static void set_shape(lua_State *L, nn_shape *shape, const nn_arg_spec *spec, const char *function)
{
    if (lua_type(L, -1) == LUA_TNUMBER) {
        shape->ndim = 1;
        shape->dims[0] = check_arg_integer(L, -1, spec, function, "a list of sizes");
        return;
    }
    if (!lua_istable(L, -1))
        nn_lua_error(L, "%s: %s must be a list of sizes such as {28, 28, 1}, got %s", function,
                   spec->name, NN_LUA_NOT_A_NUMBER(L, -1));
    lua_Integer length = luaL_len(L, -1);
    if (length < 1 || length > NN_MAX_DIMS - 1)
        nn_lua_error(L, "%s: %s must list 1 to %d sizes, got %lld", function, spec->name,
                   NN_MAX_DIMS - 1, (long long)length);
    shape->ndim = (int)length;
    for (int i = 0; i < length; i++) {
        lua_geti(L, -1, i + 1);
        int is_integer = 0;
        lua_Integer number = nn_lua_tointeger(L, -1, &is_integer);
        bool none = nn_lua_is_none(L, -1);
        if (spec->min < 0 && (none || (is_integer && number == -1))) {
            shape->dims[i] = -1; /* nn.None or -1: the size comes from the input */
        } else if (none || (is_integer && number == -1)) {
            nn_lua_unknown_size_error(L, function, spec->name, i + 1, none);
        } else {
            lua_Integer value = number;
            if (!is_integer || value < 1)
                nn_lua_error(L, "%s: %s entry %d must be a positive integer%s, got %s", function,
                           spec->name, i + 1, spec->min < 0 ? ", -1 or nn.None" : "",
                           lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1)
                                                          : NN_LUA_NOT_A_NUMBER(L, -1));
            shape->dims[i] = value;
        }
        lua_pop(L, 1);
    }
}

/* Reads name-or-table values: a string, or a table whose [1] or .name is the name. */
static const char *object_name(lua_State *L, const nn_arg_spec *spec, const char *function,
                               const char *expected)
{
    if (lua_type(L, -1) == LUA_TSTRING)
        return lua_tostring(L, -1);
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "name");
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            lua_geti(L, -1, 1);
        }
        const char *name = lua_tostring(L, -1);
        lua_pop(L, 1); /* the string stays alive in the table */
        if (name)
            return name;
        nn_lua_error(L, "%s: %s must be %s, got a table with no name (neither name= nor a "
                     "first entry); the nn.* constructors make named ones", function,
                     spec->name, expected);
    }
    nn_lua_error(L, "%s: %s must be %s, got %s", function, spec->name, expected,
               nn_lua_typename(L, -1));
    return NULL;
}

static double table_number(lua_State *L, const char *key, double fallback, const char *function,
                           const char *arg)
{
    if (!lua_istable(L, -1))
        return fallback;
    lua_getfield(L, -1, key);
    double value = fallback;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            nn_lua_error(L, "%s: %s.%s must be a number, got %s", function, arg, key,
                       NN_LUA_NOT_A_NUMBER(L, -1));
        value = lua_tonumber(L, -1);
        /* No initializer, regularizer or constraint setting means anything as NaN or
         * infinity: refused here, where it was written, not as NaN weights later. */
        if (!isfinite(value))
            nn_lua_error(L, "%s: %s.%s must be a finite number, got %s", function, arg, key,
                         isnan(value) ? "nan" : value > 0 ? "inf" : "-inf");
    }
    lua_pop(L, 1);
    return value;
}

static void set_initializer(lua_State *L, nn_initializer *initializer, const nn_arg_spec *spec,
                            const char *function)
{
    const char *name = object_name(L, spec, function,
                                   "an initializer name such as 'glorot_uniform' or an "
                                   "initializer from nn.initializers");
    nn_lua_check(L, nn_initializer_parse(name, initializer), function);
    switch (initializer->kind) {
    case NN_INITIALIZER_CONSTANT:
        initializer->a = table_number(L, "value", initializer->a, function, spec->name);
        break;
    case NN_INITIALIZER_RANDOM_UNIFORM:
        initializer->a = table_number(L, "minval", initializer->a, function, spec->name);
        initializer->b = table_number(L, "maxval", initializer->b, function, spec->name);
        if (initializer->a > initializer->b)
            nn_lua_error(L, "%s: %s needs minval <= maxval, got minval=%g maxval=%g", function,
                         spec->name, initializer->a, initializer->b);
        break;
    case NN_INITIALIZER_RANDOM_NORMAL:
    case NN_INITIALIZER_TRUNCATED_NORMAL:
        initializer->a = table_number(L, "mean", initializer->a, function, spec->name);
        initializer->b = table_number(L, "stddev", initializer->b, function, spec->name);
        if (initializer->b < 0)
            nn_lua_error(L, "%s: %s.stddev must be >= 0, got %g", function, spec->name,
                       initializer->b);
        break;
    case NN_INITIALIZER_ORTHOGONAL:
        initializer->a = table_number(L, "gain", initializer->a, function, spec->name);
        break;
    default:
        break;
    }
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "seed");
        if (!lua_isnil(L, -1)) {
            int is_integer = 0;
            lua_Integer seed = nn_lua_tointeger(L, -1, &is_integer);
            if (!is_integer)
                nn_lua_error(L, "%s: %s.seed must be an integer", function, spec->name);
            initializer->has_seed = true;
            initializer->seed = (uint64_t)seed;
        }
        lua_pop(L, 1);
    }
}

static void set_regularizer(lua_State *L, nn_regularizer *regularizer, const nn_arg_spec *spec,
                            const char *function)
{
    if (lua_type(L, -1) == LUA_TSTRING) {
        nn_lua_check(L, nn_regularizer_parse(lua_tostring(L, -1), regularizer), function);
        return;
    }
    if (!lua_istable(L, -1))
        nn_lua_error(L, "%s: %s must be 'l1', 'l2', 'l1_l2' or a regularizer from "
                      "nn.regularizers, got %s",
                   function, spec->name, nn_lua_typename(L, -1));
    /* A table is what nn.regularizers makes: l1 and/or l2 and nothing else. Anything else
     * (L2=, a list, an empty table) would otherwise read as no penalty at all. */
    bool any = false;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (!key || (strcmp(key, "l1") != 0 && strcmp(key, "l2") != 0)) {
            if (key)
                nn_lua_error(L, "%s: %s has unknown key '%s' (valid: l1, l2), as "
                             "nn.regularizers.l2(0.01) makes", function, spec->name, key);
            if (lua_isinteger(L, -1))
                nn_lua_error(L, "%s: %s has entry [%lld]; a regularizer table has only the keys "
                             "l1 and l2, as nn.regularizers.l2(0.01) makes", function,
                             spec->name, (long long)lua_tointeger(L, -1));
            nn_lua_error(L, "%s: %s has a key of type %s; a regularizer table has only the "
                         "keys l1 and l2, as nn.regularizers.l2(0.01) makes", function,
                         spec->name, nn_lua_typename(L, -1));
        }
        any = true;
    }
    if (!any)
        nn_lua_error(L, "%s: %s is an empty table; give l1= and/or l2=, or use "
                     "nn.regularizers.l2(0.01)", function, spec->name);
    double l1 = table_number(L, "l1", 0.0, function, spec->name);
    double l2 = table_number(L, "l2", 0.0, function, spec->name);
    if (l1 < 0 || l2 < 0 || !isfinite(l1) || !isfinite(l2))
        nn_lua_error(L, "%s: %s factors must be finite and >= 0, got l1=%g l2=%g", function,
                   spec->name, l1, l2);
    regularizer->l1 = (float)l1;
    regularizer->l2 = (float)l2;
}

static void set_constraint(lua_State *L, nn_constraint *constraint, const nn_arg_spec *spec,
                           const char *function)
{
    const char *name = object_name(L, spec, function,
                                   "a constraint name such as 'max_norm' or a constraint "
                                   "from nn.constraints");
    nn_lua_check(L, nn_constraint_parse(name, constraint), function);
    if (!lua_istable(L, -1))
        return;
    constraint->max_value = (float)table_number(L, "max_value", constraint->max_value, function, spec->name);
    constraint->min_value = (float)table_number(L, "min_value", constraint->min_value, function, spec->name);
    constraint->rate = (float)table_number(L, "rate", constraint->rate, function, spec->name);
    if (nn_constraint_check_settings(constraint) != NN_OK)
        nn_lua_error(L, "%s: %s: %s", function, spec->name, nn_error_message());
    lua_getfield(L, -1, "axis");
    if (lua_type(L, -1) == LUA_TNUMBER) {
        lua_Integer axis = lua_tointeger(L, -1);
        if (axis < 0 || axis >= NN_MAX_DIMS)
            nn_lua_error(L, "%s: %s.axis must be between 0 and %d, got %lld", function,
                       spec->name, NN_MAX_DIMS - 1, (long long)axis);
        constraint->axes = 1u << axis;
    } else if (lua_istable(L, -1)) {
        constraint->axes = 0;
        for (lua_Integer i = 1; i <= luaL_len(L, -1); i++) {
            lua_geti(L, -1, i);
            lua_Integer axis = lua_tointeger(L, -1);
            if (axis < 0 || axis >= NN_MAX_DIMS)
                nn_lua_error(L, "%s: %s.axis entries must be between 0 and %d", function,
                           spec->name, NN_MAX_DIMS - 1);
            constraint->axes |= 1u << axis;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

int nn_lua_check_keras_object(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *kind = luaL_checkstring(L, 2);
    const char *function = luaL_checkstring(L, 3);
    lua_settop(L, 3); /* keeps the strings alive */
    lua_pushvalue(L, 1);
    nn_arg_spec spec = {.name = kind};
    if (strcmp(kind, "initializer") == 0) {
        nn_initializer initializer;
        set_initializer(L, &initializer, &spec, function);
    } else {
        nn_constraint constraint;
        set_constraint(L, &constraint, &spec, function);
    }
    return 0;
}

void nn_lua_set_layer_arg(lua_State *L, nn_layer *layer, const nn_arg_spec *spec,
                          const char *function)
{
    void *target = nn_layer_arg_pointer(layer, spec);
    /* nn.None is Keras' None where a table cannot hold nil: Normalization{axis=nn.None}.
     * Kinds with a None of their own take it as nil; for the others None is the default. */
    bool none = nn_lua_is_none(L, -1);
    if (none) {
        if (spec->required)
            nn_lua_error(L, "%s: '%s' is required, and nn.None is not a value for it (%s)",
                         function, spec->name, spec->doc);
        switch (spec->kind) {
        case NN_ARG_OPTIONAL_INT: case NN_ARG_OPTIONAL_FLOAT: case NN_ARG_OPTIONAL_PAIR:
        case NN_ARG_OPTIONAL_TRIPLE: case NN_ARG_OPTIONAL_FLOATS:
        case NN_ARG_FACTOR: case NN_ARG_ACTIVATION:
            lua_pop(L, 1);
            lua_pushnil(L);
            break;
        default:
            return; /* the default, which nn_layer_create set (no regularizer, ...) */
        }
    }
    int top = lua_gettop(L);
    switch (spec->kind) {
    case NN_ARG_INT:
        *(int *)target = (int)check_arg_integer(L, -1, spec, function, "an integer");
        break;
    case NN_ARG_OPTIONAL_INT: {
        nn_optional_int *value = target;
        value->present = !lua_isnil(L, -1);
        if (value->present)
            value->value = check_arg_integer(L, -1, spec, function, "an integer or nn.None");
        break;
    }
    case NN_ARG_AXIS: {
        int is_integer = 0;
        lua_Integer axis = nn_lua_tointeger(L, -1, &is_integer);
        if (!is_integer)
            nn_lua_error(L, "%s: %s must be an integer axis (0 = batch, -1 = last), got %s",
                       function, spec->name, NN_LUA_NOT_A_NUMBER(L, -1));
        /* Checked before the cast to int, which would turn 2^32 into axis 0. */
        if ((double)axis < spec->min || (double)axis > spec->max)
            nn_lua_error(L, "%s: %s must be an axis from %g to %g, got %lld", function,
                       spec->name, spec->min, spec->max, (long long)axis);
        *(int *)target = (int)axis;
        break;
    }
    case NN_ARG_AXES: {
        nn_axes *axes = target;
        memset(axes, 0, sizeof *axes);
        axes->list = lua_type(L, -1) != LUA_TNUMBER;
        lua_Integer count = 1;
        if (axes->list) {
            if (!lua_istable(L, -1) || luaL_testudata(L, -1, NN_LUA_TENSOR))
                nn_lua_error(L, "%s: %s must be an integer axis or a list of axes (0 = batch, "
                             "-1 = last), got %s", function, spec->name, NN_LUA_NOT_A_NUMBER(L, -1));
            count = luaL_len(L, -1);
            if (count < 1 || count > NN_MAX_DIMS)
                nn_lua_error(L, "%s: %s must list 1 to %d axes, got %lld", function, spec->name,
                             NN_MAX_DIMS, (long long)count);
        }
        for (lua_Integer i = 0; i < count; i++) {
            if (axes->list)
                lua_geti(L, -1, i + 1);
            int is_integer = 0;
            lua_Integer axis = nn_lua_tointeger(L, -1, &is_integer);
            if (!is_integer) {
                char text[32];
                nn_lua_error(L, "%s: %s must hold integer axes (0 = batch, -1 = last), got %s",
                             function, spec->name,
                             lua_type(L, -1) == LUA_TNUMBER
                                 ? nn_lua_number_text(lua_tonumber(L, -1), text, sizeof text)
                                 : NN_LUA_NOT_A_NUMBER(L, -1));
            }
            if ((double)axis < spec->min || (double)axis > spec->max)
                nn_lua_error(L, "%s: %s must hold axes from %g to %g, got %lld", function,
                             spec->name, spec->min, spec->max, (long long)axis);
            for (lua_Integer j = 0; j < i; j++)
                if (axes->values[j] == axis)
                    nn_lua_error(L, "%s: %s lists axis %lld twice", function, spec->name,
                                 (long long)axis);
            axes->values[i] = (int)axis;
            if (axes->list)
                lua_pop(L, 1);
        }
        axes->count = (int)count;
        break;
    }
    case NN_ARG_OPTIONAL_FLOATS: {
        nn_optional_floats *optional = target;
        memset(optional, 0, sizeof *optional);
        if (lua_isnil(L, -1))
            break;
        optional->present = true;
        optional->list = lua_type(L, -1) != LUA_TNUMBER;
        lua_Integer count = 1;
        if (optional->list) {
            if (!lua_istable(L, -1) || luaL_testudata(L, -1, NN_LUA_TENSOR))
                nn_lua_error(L, "%s: %s must be a number, a list of numbers or nn.None, got %s",
                             function, spec->name, NN_LUA_NOT_A_NUMBER(L, -1));
            count = luaL_len(L, -1);
            if (count < 1 || count > NN_FLOATS_CAPACITY)
                nn_lua_error(L, "%s: %s must list 1 to %d numbers, got %lld", function,
                             spec->name, NN_FLOATS_CAPACITY, (long long)count);
        }
        for (lua_Integer i = 0; i < count; i++) {
            if (optional->list)
                lua_geti(L, -1, i + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                nn_lua_error(L, "%s: %s entry %lld must be a number, got %s", function,
                             spec->name, (long long)(i + 1), NN_LUA_NOT_A_NUMBER(L, -1));
            double value = lua_tonumber(L, -1);
            if (!isfinite(value))
                nn_lua_error(L, "%s: %s entries must be finite numbers, got %s", function,
                             spec->name, isnan(value) ? "NaN" : value > 0 ? "inf" : "-inf");
            if (!(value >= spec->min && value <= spec->max))
                nn_lua_error(L, "%s: %s entries must be numbers >= %g, got %g", function,
                             spec->name, spec->min, value);
            optional->values[i] = (float)value;
            if (optional->list)
                lua_pop(L, 1);
        }
        optional->count = (int)count;
        break;
    }
    case NN_ARG_OPTIONAL_FLOAT: {
        nn_optional_float *optional = target;
        optional->present = !lua_isnil(L, -1);
        if (!optional->present)
            break;
        if (lua_type(L, -1) != LUA_TNUMBER)
            nn_lua_error(L, "%s: %s must be a number or nn.None, got %s", function, spec->name,
                         NN_LUA_NOT_A_NUMBER(L, -1));
        double value = lua_tonumber(L, -1);
        if (!(value >= spec->min && value <= spec->max)) {
            char text[32];
            nn_lua_number_text(value, text, sizeof text);
            nn_lua_error(L, "%s: %s must be nn.None or a number >= %g, got %s", function,
                         spec->name, spec->min, text);
        }
        optional->value = (float)value;
        break;
    }
    case NN_ARG_FLOAT: {
        if (lua_type(L, -1) != LUA_TNUMBER)
            nn_lua_error(L, "%s: %s must be a number, got %s", function, spec->name,
                       NN_LUA_NOT_A_NUMBER(L, -1));
        double value = lua_tonumber(L, -1);
        bool above_max = spec->exclusive_max ? !(value < spec->max) : !(value <= spec->max);
        if (!(value >= spec->min) || above_max) {
            char text[32]; /* "nan", never printf's "-nan" */
            nn_lua_number_text(value, text, sizeof text);
            /* Open-ended ranges read better as a bound than as an interval with a huge end. */
            if (spec->max >= 1e9 && spec->min <= -1e9)
                nn_lua_error(L, "%s: %s must be a finite number of magnitude below %g, got %s",
                             function, spec->name, spec->max, text);
            if (spec->max >= 1e9 && !(value >= spec->min))
                nn_lua_error(L, "%s: %s must be >= %g, got %s", function, spec->name, spec->min,
                             text);
            if (spec->max >= 1e9)
                nn_lua_error(L, "%s: %s must be a finite number below %g, got %s", function,
                             spec->name, spec->max, text);
            nn_lua_error(L, "%s: %s must be in [%g, %g%s, got %s", function, spec->name, spec->min,
                       spec->max, spec->exclusive_max ? ")" : "]", text);
        }
        *(float *)target = (float)value;
        break;
    }
    case NN_ARG_BOOL:
        if (!lua_isboolean(L, -1))
            nn_lua_error(L, "%s: %s must be true or false, got %s", function, spec->name,
                       nn_lua_typename(L, -1));
        *(bool *)target = lua_toboolean(L, -1);
        break;
    case NN_ARG_CHOICE: {
        const char *value = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int found = -1;
        /* The choices are padding and data_format, which Keras lowercases first, so
         * 'SAME' (TensorFlow's spelling) is 'same'. */
        for (int i = 0; value && spec->choices[i]; i++)
            if (strcasecmp(spec->choices[i], value) == 0)
                found = i;
        if (found < 0) {
            char guess[256] = "";
            if (value)
                nn_names_did_you_mean(guess, sizeof guess, value,
                                      (const char *const *)spec->choices);
            push_name_list(L, (const char *const *)spec->choices);
            nn_lua_error(L, "%s: %s must be one of %s, got %s%s%s%s", function, spec->name,
                       lua_tostring(L, -1), value ? "'" : "", value ? value : nn_lua_typename(L, -2),
                       value ? "'" : "", guess);
        }
        *(int *)target = found;
        break;
    }
    case NN_ARG_PAIR:
    case NN_ARG_TRIPLE:
    case NN_ARG_OPTIONAL_PAIR:
    case NN_ARG_OPTIONAL_TRIPLE: {
        int count = nn_arg_int_count(spec->kind);
        if (nn_arg_is_optional_sizes(spec->kind) && lua_isnil(L, -1)) {
            for (int i = 0; i < count; i++)
                ((int *)target)[i] = NN_PAIR_NONE;
            break;
        }
        set_sizes(L, target, count, spec, function);
        break;
    }
    case NN_ARG_SHAPE:
    case NN_ARG_TARGET_SHAPE:
        set_shape(L, target, spec, function);
        break;
    case NN_ARG_SIDES:
    case NN_ARG_SIDES3:
        set_sides(L, target, nn_arg_int_count(spec->kind) / 2, spec, function);
        break;
    case NN_ARG_FACTOR:
        set_factor(L, target, spec, function);
        break;
    case NN_ARG_ACTIVATION: {
        /* one of nn.activations: the name it stands for */
        const char *named = lua_isfunction(L, -1) ? nn_lua_activation_function_name(L, -1) : NULL;
        if (lua_isnil(L, -1)) {
            *(nn_activation *)target = nn_activation_default(NN_ACTIVATION_LINEAR);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            nn_lua_check(L, nn_activation_parse(lua_tostring(L, -1), target), function);
        } else if (named) {
            /* nn.activations.relu, as Keras takes keras.activations.relu */
            nn_lua_check(L, nn_activation_parse(named, target), function);
        } else if (lua_isfunction(L, -1)) {
            nn_lua_error(L, "%s: %s must be an activation's name such as 'relu' or one of "
                            "nn.activations, got a function of your own (the training loop "
                            "runs in C and cannot call it)", function, spec->name);
        } else {
            nn_lua_error(L, "%s: %s must be the name of an activation such as 'relu', got %s",
                       function, spec->name, nn_lua_typename(L, -1));
        }
        break;
    }
    case NN_ARG_INITIALIZER:
        set_initializer(L, target, spec, function);
        break;
    case NN_ARG_REGULARIZER:
        set_regularizer(L, target, spec, function);
        break;
    case NN_ARG_CONSTRAINT:
        set_constraint(L, target, spec, function);
        break;
    case NN_ARG_STRING: {
        if (lua_type(L, -1) != LUA_TSTRING)
            nn_lua_error(L, "%s: %s must be a string, got %s", function, spec->name,
                       nn_lua_typename(L, -1));
        size_t length;
        const char *value = lua_tolstring(L, -1, &length);
        if (length == 0 || length >= NN_NAME_CAPACITY)
            nn_lua_error(L, "%s: %s must be 1 to %d characters long", function, spec->name,
                       NN_NAME_CAPACITY - 1);
        /* Names appear in tables, charts and files: a newline or tab would break them. */
        for (size_t i = 0; i < length; i++)
            if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f)
                nn_lua_error(L, "%s: %s must not hold control characters (found byte %d at "
                                "position %zu)", function, spec->name, (unsigned char)value[i],
                             i + 1);
        /* A layer's name is saved in a JSON header and names its weights "name/kernel":
         * refused here rather than when the model is saved. */
        if (!nn_utf8_valid(value, length))
            nn_lua_error(L, "%s: %s must be valid UTF-8 text", function, spec->name);
        if (strcmp(spec->name, "name") == 0 && strchr(value, '/'))
            nn_lua_error(L, "%s: name must not hold '/', which separates a layer's name from "
                            "its weights' in a saved model, got \"%s\"", function, value);
        memcpy(target, value, length + 1);
        if (strcmp(spec->name, "name") == 0)
            layer->named_by_user = true;
        break;
    }
    }
    lua_settop(L, top);
}

static void push_sizes(lua_State *L, const int *sizes, int count)
{
    lua_createtable(L, count, 0);
    for (int i = 0; i < count; i++) {
        lua_pushinteger(L, sizes[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* A float32 setting as the shortest decimal that reads back as it: 0.9 as the user wrote
 * it, not 0.89999997615814. */
static void push_float(lua_State *L, float value)
{
    char text[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)value);
        if ((float)strtod(text, NULL) == value)
            break;
    }
    lua_pushnumber(L, strtod(text, NULL));
}

void nn_lua_push_layer_arg(lua_State *L, nn_layer *layer, const nn_arg_spec *spec)
{
    const void *value = nn_layer_arg_pointer(layer, spec);
    switch (spec->kind) {
    case NN_ARG_INT:
    case NN_ARG_AXIS: lua_pushinteger(L, *(const int *)value); break;
    case NN_ARG_OPTIONAL_INT: {
        const nn_optional_int *optional = value;
        if (optional->present)
            lua_pushinteger(L, optional->value);
        else
            lua_pushnil(L);
        break;
    }
    case NN_ARG_FLOAT: push_float(L, *(const float *)value); break;
    case NN_ARG_OPTIONAL_FLOAT: {
        const nn_optional_float *optional = value;
        if (optional->present)
            push_float(L, optional->value);
        else
            lua_pushnil(L);
        break;
    }
    case NN_ARG_AXES: {
        const nn_axes *axes = value;
        if (!axes->list) {
            lua_pushinteger(L, axes->values[0]);
            break;
        }
        lua_createtable(L, axes->count, 0);
        for (int i = 0; i < axes->count; i++) {
            lua_pushinteger(L, axes->values[i]);
            lua_rawseti(L, -2, i + 1);
        }
        break;
    }
    case NN_ARG_OPTIONAL_FLOATS: {
        const nn_optional_floats *optional = value;
        if (!optional->present) {
            lua_pushnil(L);
        } else if (!optional->list) {
            push_float(L, optional->values[0]);
        } else {
            lua_createtable(L, optional->count, 0);
            for (int i = 0; i < optional->count; i++) {
                push_float(L, optional->values[i]);
                lua_rawseti(L, -2, i + 1);
            }
        }
        break;
    }
    case NN_ARG_BOOL: lua_pushboolean(L, *(const bool *)value); break;
    case NN_ARG_CHOICE: lua_pushstring(L, spec->choices[*(const int *)value]); break;
    case NN_ARG_PAIR:
    case NN_ARG_TRIPLE:
    case NN_ARG_OPTIONAL_PAIR:
    case NN_ARG_OPTIONAL_TRIPLE:
        if (nn_arg_is_optional_sizes(spec->kind) && nn_pair_is_none(value))
            lua_pushnil(L);
        else
            push_sizes(L, value, nn_arg_int_count(spec->kind));
        break;
    case NN_ARG_SIDES:
    case NN_ARG_SIDES3: {
        int axes = nn_arg_int_count(spec->kind) / 2;
        lua_createtable(L, axes, 0);
        for (int axis = 0; axis < axes; axis++) {
            push_sizes(L, (const int *)value + 2 * axis, 2);
            lua_rawseti(L, -2, axis + 1);
        }
        break;
    }
    case NN_ARG_FACTOR: {
        const float *factor = value;
        if (nn_factor_is_none(factor)) {
            lua_pushnil(L);
            break;
        }
        lua_createtable(L, 2, 0);
        lua_pushnumber(L, (double)factor[0]);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, (double)factor[1]);
        lua_rawseti(L, -2, 2);
        break;
    }
    case NN_ARG_SHAPE:
    case NN_ARG_TARGET_SHAPE: {
        const nn_shape *shape = value;
        if (shape->ndim == 0) {
            lua_pushnil(L);
            break;
        }
        if (spec->kind == NN_ARG_TARGET_SHAPE) { /* -1, as written */
            lua_createtable(L, shape->ndim, 0);
            for (int i = 0; i < shape->ndim; i++) {
                lua_pushinteger(L, shape->dims[i]);
                lua_rawseti(L, -2, i + 1);
            }
            break;
        }
        nn_lua_push_shape(L, shape);
        break;
    }
    case NN_ARG_ACTIVATION:
        lua_pushstring(L, nn_activation_name(((const nn_activation *)value)->kind));
        break;
    case NN_ARG_INITIALIZER: {
        const nn_initializer *initializer = value;
        lua_createtable(L, 0, 4);
        lua_pushstring(L, nn_initializer_name(initializer->kind));
        lua_setfield(L, -2, "name");
        if (initializer->kind == NN_INITIALIZER_CONSTANT) {
            lua_pushnumber(L, initializer->a);
            lua_setfield(L, -2, "value");
        } else if (initializer->kind == NN_INITIALIZER_RANDOM_UNIFORM) {
            lua_pushnumber(L, initializer->a);
            lua_setfield(L, -2, "minval");
            lua_pushnumber(L, initializer->b);
            lua_setfield(L, -2, "maxval");
        } else if (initializer->kind == NN_INITIALIZER_RANDOM_NORMAL ||
                   initializer->kind == NN_INITIALIZER_TRUNCATED_NORMAL) {
            lua_pushnumber(L, initializer->a);
            lua_setfield(L, -2, "mean");
            lua_pushnumber(L, initializer->b);
            lua_setfield(L, -2, "stddev");
        } else if (initializer->kind == NN_INITIALIZER_ORTHOGONAL) {
            lua_pushnumber(L, initializer->a);
            lua_setfield(L, -2, "gain");
        }
        if (initializer->has_seed) {
            lua_pushinteger(L, (lua_Integer)initializer->seed);
            lua_setfield(L, -2, "seed");
        }
        break;
    }
    case NN_ARG_REGULARIZER: {
        const nn_regularizer *regularizer = value;
        if (!nn_regularizer_active(regularizer)) {
            lua_pushnil(L);
            break;
        }
        lua_createtable(L, 0, 2);
        push_float(L, regularizer->l1);
        lua_setfield(L, -2, "l1");
        push_float(L, regularizer->l2);
        lua_setfield(L, -2, "l2");
        break;
    }
    case NN_ARG_CONSTRAINT: {
        const nn_constraint *constraint = value;
        if (constraint->kind == NN_CONSTRAINT_NONE) {
            lua_pushnil(L);
            break;
        }
        lua_createtable(L, 0, 4);
        lua_pushstring(L, nn_constraint_name(constraint->kind));
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, constraint->max_value);
        lua_setfield(L, -2, "max_value");
        lua_pushnumber(L, constraint->min_value);
        lua_setfield(L, -2, "min_value");
        lua_pushnumber(L, constraint->rate);
        lua_setfield(L, -2, "rate");
        break;
    }
    case NN_ARG_STRING: lua_pushstring(L, (const char *)value); break;
    }
}

/* An argument as a message shows it: a number or string as written, else its type. */
const char *nn_lua_argument_text(lua_State *L, int index, char *text, size_t size)
{
    if (lua_type(L, index) == LUA_TNUMBER && lua_isinteger(L, index))
        snprintf(text, size, "%lld", (long long)lua_tointeger(L, index));
    else if (lua_type(L, index) == LUA_TNUMBER)
        snprintf(text, size, "%.14g", lua_tonumber(L, index));
    else if (lua_type(L, index) == LUA_TSTRING)
        snprintf(text, size, "'%s'", lua_tostring(L, index));
    else if (lua_type(L, index) == LUA_TBOOLEAN)
        snprintf(text, size, "%s", lua_toboolean(L, index) ? "true" : "false");
    else
        snprintf(text, size, "%s", nn_lua_typename(L, index));
    return text;
}

static void check_no_more(lua_State *L, int last, const char *function, const char *usage,
                          bool self_first)
{
    char text[64];
    int shown = last + 1 - self_first;
    if (lua_gettop(L) > last)
        nn_lua_error(L, "%s: unexpected argument %d (%s); the call is %s", function, shown,
                     nn_lua_argument_text(L, last + 1, text, sizeof text), usage);
}

void nn_lua_check_no_more_arguments(lua_State *L, int last, const char *function,
                                    const char *usage)
{
    /* A method's self is no argument to its caller: x:std(0, 1) has 1 as its second. */
    check_no_more(L, last, function, usage, strchr(function, ':') != NULL);
}

void nn_lua_check_no_more_call_arguments(lua_State *L, int last, const char *function,
                                         const char *usage)
{
    check_no_more(L, last, function, usage, true);
}
