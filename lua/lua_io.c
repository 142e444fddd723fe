/* Model files from Lua (model:save, model:save_weights, model:load_weights,
 * nn.models.load_model), weights as tensors (model:get_weights, model:set_weights), and
 * nn.io: the output helper and file hooks that nn.callbacks (callbacks.lua) is built on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "io/model_file.h"
#include "lua_io.h"

const char *nn_lua_check_path(lua_State *L, int index, int position, const char *function)
{
    if (lua_type(L, index) != LUA_TSTRING)
        nn_lua_error(L, "%s: expected a file name as argument %d, got %s", function, position,
                     nn_lua_typename(L, index));
    size_t length;
    const char *path = lua_tolstring(L, index, &length);
    if (length == 0 || strlen(path) != length)
        nn_lua_error(L, "%s: the file name is empty or holds a zero byte", function);
    return path;
}

/* Keras' and PyTorch's file names for what nnsh does not write: a file saved under one
 * would be safetensors with an HDF5, zip or pickle name, which Keras, h5py and torch.load
 * then fail to open. */
static void check_save_name(lua_State *L, const char *path, const char *function)
{
    static const struct {
        const char *extension, *what;
    } foreign[] = {{".h5", "a Keras HDF5 file"}, {".hdf5", "a Keras HDF5 file"},
                   {".keras", "a Keras archive"}, {".pt", "a PyTorch file"},
                   {".pth", "a PyTorch file"}};
    size_t length = strlen(path);
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        size_t extension = strlen(foreign[i].extension);
        if (length > extension &&
            strcasecmp(path + length - extension, foreign[i].extension) == 0)
            nn_lua_error(L, "%s: '%s' names %s, but nnsh writes safetensors files (Python reads "
                            "them with the safetensors package); use a name ending in "
                            ".safetensors, such as '%.*s.safetensors'",
                         function, path, foreign[i].what, (int)(length - extension), path);
    }
}

static bool path_exists(const char *path)
{
    struct stat info;
    return stat(path, &info) == 0;
}

static void check_overwrite(lua_State *L, int options, const char *path, const char *function)
{
    if (!nn_lua_opt_boolean(L, options, "overwrite", true, function) && path_exists(path))
        nn_lua_error(L, "%s: '%s' already exists and overwrite=false", function, path);
}

/* model:save(path, {overwrite=true, include_optimizer=true}), or nn.models.save_model
 * with the model first: messages name the function the user called. */
static int save_model_as(lua_State *L, const char *function)
{
    nn_model *model = nn_lua_check_model(L, 1, function);
    /* model:save counts its arguments after the model; save_model(model, path) does not */
    bool method = strchr(function, ':') != NULL;
    const char *path = nn_lua_check_path(L, 2, method ? 1 : 2, function);
    check_save_name(L, path, function);
    static const char *const names[] = {"overwrite", "include_optimizer", NULL};
    nn_lua_check_option_names(L, 3, function, names, 0);
    check_overwrite(L, 3, path, function);
    bool include_optimizer = nn_lua_opt_boolean(L, 3, "include_optimizer", true, function);
    nn_lua_check(L, nn_model_save(model, path, include_optimizer), function);
    return 0;
}

static int model_save(lua_State *L) { return save_model_as(L, "model:save"); }

/* model:save_weights(path, {overwrite=true}) */
static int model_save_weights(lua_State *L)
{
    const char *function = "model:save_weights";
    nn_model *model = nn_lua_check_model(L, 1, function);
    const char *path = nn_lua_check_path(L, 2, 1, function);
    check_save_name(L, path, function);
    static const char *const names[] = {"overwrite", NULL};
    nn_lua_check_option_names(L, 3, function, names, 0);
    check_overwrite(L, 3, path, function);
    nn_lua_check(L, nn_model_save_weights(model, path), function);
    return 0;
}

/* model:load_weights(path) -> model */
static int model_load_weights(lua_State *L)
{
    const char *function = "model:load_weights";
    nn_model *model = nn_lua_check_model(L, 1, function);
    const char *path = nn_lua_check_path(L, 2, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function,
                                   "model:load_weights(path); the layers are matched by "
                                   "their names, as Keras' by_name");
    nn_lua_check(L, nn_model_load_weights(model, path), function);
    lua_settop(L, 1);
    return 1;
}

/* model:get_weights() -> {tensor, ...}: copies of every weight, layer by layer, in each
 * layer's order (kernel, bias, ...), as Keras lists them. */
static int model_get_weights(lua_State *L)
{
    const char *function = "model:get_weights";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 1, function, "model:get_weights()");
    lua_newtable(L);
    int count = 0;
    for (int i = 0; i < model->layer_count; i++) {
        nn_layer *layer = model->layers[i];
        for (int p = 0; p < layer->param_count; p++) {
            nn_tensor **slot = nn_lua_new_tensor_slot(L);
            nn_lua_check(L, nn_tensor_clone(slot, layer->params[p].value), function);
            lua_rawseti(L, -2, ++count);
        }
    }
    return 1;
}

/* model:set_weights({tensor, ...}): the inverse of get_weights. Every shape is checked
 * before anything is copied, so a wrong list leaves the model as it was. */
static int model_set_weights(lua_State *L)
{
    const char *function = "model:set_weights";
    nn_model *model = nn_lua_check_model(L, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "model:set_weights({tensor, ...})");
    if (!lua_istable(L, 2))
        nn_lua_error(L, "%s: expected a list of weight tensors (as get_weights gives), got %s",
                     function, nn_lua_typename(L, 2));
    lua_settop(L, 2);
    int expected = 0;
    for (int i = 0; i < model->layer_count; i++)
        expected += model->layers[i]->param_count;
    lua_Integer given = luaL_len(L, 2);
    if (given != expected)
        nn_lua_error(L, "%s: model \"%s\" has %d weight tensors, got a list of %lld", function,
                     model->name, expected, (long long)given);
    /* 3: the entries, each read once (a proxy table's __index must not see a second,
     * different list) and checked before any weight changes. */
    lua_createtable(L, expected, 0);
    char want[128], got[128];
    for (int pass = 0; pass < 2; pass++) {
        int index = 0;
        for (int i = 0; i < model->layer_count; i++) {
            nn_layer *layer = model->layers[i];
            for (int p = 0; p < layer->param_count; p++) {
                nn_param *param = &layer->params[p];
                index++;
                if (pass == 0) {
                    lua_geti(L, 2, index);
                    char entry[32];
                    snprintf(entry, sizeof entry, "entry %d", index);
                    nn_tensor *value = nn_lua_to_tensor(L, -1, function, entry);
                    if (!nn_shape_equal(&value->shape, &param->shape))
                        nn_lua_error(L, "%s: entry %d is for %s/%s of shape %s, got shape %s",
                                     function, index, layer->name, param->name,
                                     nn_shape_format(&param->shape, want, sizeof want),
                                     nn_shape_format(&value->shape, got, sizeof got));
                    lua_rawseti(L, 3, index);
                    continue;
                }
                lua_rawgeti(L, 3, index);
                /* As float32 (other dtypes converted, as layer:set_weights does). */
                nn_tensor *converted = NULL;
                nn_status status = nn_tensor_astype(&converted, nn_lua_test_tensor(L, -1),
                                                    NN_DTYPE_F32);
                if (status == NN_OK)
                    status = nn_tensor_copy_into(param->value, converted);
                nn_tensor_free(converted);
                nn_lua_check(L, status, function);
                lua_pop(L, 1);
            }
        }
    }
    return 0;
}

/* nn.models.load_model(path, {compile=true}) -> model */
static int l_load_model(lua_State *L)
{
    const char *function = "nn.models.load_model";
    const char *path = nn_lua_check_path(L, 1, 1, function);
    nn_lua_check_no_more_arguments(L, 2, function, "nn.models.load_model(path [, {compile=true}])");
    static const char *const names[] = {"compile", NULL};
    nn_lua_check_option_names(L, 2, function, names, 0);
    bool compile = nn_lua_opt_boolean(L, 2, "compile", true, function);
    nn_model *model = NULL;
    nn_lua_check(L, nn_model_load(&model, path, compile), function);
    if (model->dropped_metrics[0]) {
        /* Said through nn's output, so notebooks and tests see it too. */
        char note[320];
        int length = snprintf(note, sizeof note,
                              "%s: %s: left out metric %s, which read the other kind of labels "
                              "than loss '%s' (compile refuses such pairs now)\n",
                              function, path, model->dropped_metrics,
                              nn_loss_name(model->loss.kind));
        nn_lua_write(L, note, length < (int)sizeof note ? (size_t)length : sizeof note - 1);
    }
    nn_lua_push_model(L, model);
    return 1;
}

/* nn.models.save_model(model, path, {...}): Keras' function form of model:save. */
static int l_save_model(lua_State *L)
{
    return save_model_as(L, "nn.models.save_model");
}

/* ---- nn.io ---- */

/* nn.io.write(...): like io.write, but through nn's output, so notebooks and tests
 * capture what callbacks say. */
static int l_write(lua_State *L)
{
    int count = lua_gettop(L);
    for (int i = 1; i <= count; i++) {
        if (lua_type(L, i) != LUA_TSTRING && lua_type(L, i) != LUA_TNUMBER)
            nn_lua_error(L, "nn.io.write: argument %d must be a string or a number, got %s", i,
                         nn_lua_typename(L, i));
        size_t length;
        const char *text = lua_tolstring(L, i, &length);
        nn_lua_write(L, text, length);
    }
    return 0;
}

/* nn.io._check_save_name(path, function): raises the error model:save would give for a
 * Keras file name, so ModelCheckpoint refuses one when it is made, not epochs later. */
static int l_check_save_name(lua_State *L)
{
    const char *function = luaL_checkstring(L, 2);
    check_save_name(L, nn_lua_check_path(L, 1, 1, function), function);
    return 0;
}

/* nn.io._write_file(function, path, text): replaces the file as model:save does (a
 * temporary file renamed over it once on disk), for the figures written from Lua. */
static int l_write_file(lua_State *L)
{
    const char *function = luaL_checkstring(L, 1);
    const char *path = nn_lua_check_path(L, 2, 1, function);
    size_t length;
    const char *text = luaL_checklstring(L, 3, &length);
    nn_lua_check(L, nn_atomic_file_replace(path, text, length), function);
    return 0;
}

/* nn.io.make_directory(path): creates a directory and its parents (mkdir -p). */
static int l_make_directory(lua_State *L)
{
    const char *function = "nn.io.make_directory";
    const char *path = nn_lua_check_path(L, 1, 1, function);
    size_t length = strlen(path);
    char *copy = lua_newuserdatauv(L, length + 1, 0);
    memcpy(copy, path, length + 1);
    for (size_t i = 1; i <= length; i++) {
        if (copy[i] != '/' && copy[i] != '\0')
            continue;
        char saved = copy[i];
        copy[i] = '\0';
        struct stat info;
        if (mkdir(copy, 0777) != 0 && errno != EEXIST)
            nn_lua_error(L, "%s: cannot create '%s': %s", function, copy, strerror(errno));
        if (stat(copy, &info) != 0 || !S_ISDIR(info.st_mode))
            nn_lua_error(L, "%s: '%s' exists and is not a directory", function, copy);
        copy[i] = saved;
    }
    return 0;
}

/* nn.io._save_backup(model, path, epochs_done) */
static int l_save_backup(lua_State *L)
{
    const char *function = "BackupAndRestore";
    nn_model *model = nn_lua_check_model(L, 1, function);
    const char *path = nn_lua_check_path(L, 2, 1, function);
    lua_Integer epochs = luaL_checkinteger(L, 3);
    if (epochs < 0 || epochs > 100000000)
        nn_lua_error(L, "%s: epoch %lld out of range", function, (long long)epochs);
    nn_lua_check(L, nn_model_save_backup(model, path, (int)epochs), function);
    return 0;
}

/* nn.io._restore_backup(model, path) -> completed epochs, or nil when there is no backup */
static int l_restore_backup(lua_State *L)
{
    const char *function = "BackupAndRestore";
    nn_model *model = nn_lua_check_model(L, 1, function);
    const char *path = nn_lua_check_path(L, 2, 1, function);
    if (!path_exists(path)) {
        lua_pushnil(L);
        return 1;
    }
    int epochs = -1;
    nn_lua_check(L, nn_model_restore_backup(model, path, &epochs), function);
    lua_pushinteger(L, epochs);
    return 1;
}

/* nn.io._set_initial_epoch(model, epoch): where a fit that is starting begins (called
 * from on_train_begin). */
static int l_set_initial_epoch(lua_State *L)
{
    nn_model *model = nn_lua_check_model(L, 1, "nn.io._set_initial_epoch");
    lua_Integer epoch = luaL_checkinteger(L, 2);
    if (epoch < 0 || epoch > 100000000)
        nn_lua_error(L, "nn.io._set_initial_epoch: epoch %lld out of range", (long long)epoch);
    model->initial_epoch = (int)epoch;
    return 0;
}

/* nn.io._stop_requested() -> whether Ctrl-C asked the running loop to stop. */
static int l_stop_requested(lua_State *L)
{
    lua_pushboolean(L, *nn_lua_stop_flag() != 0);
    return 1;
}

bool nn_lua_callbacks_terminate_on_nan(lua_State *L, int index)
{
    if (!index || !lua_istable(L, index))
        return false;
    bool found = false;
    lua_Integer count = luaL_len(L, index);
    for (lua_Integer i = 1; i <= count && !found; i++) {
        if (lua_geti(L, index, i) == LUA_TTABLE) {
            lua_getfield(L, -1, "terminate_on_nan");
            found = lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    return found;
}

/* model:to_json() -> the architecture as JSON text (Keras' model.to_json()) */
static int model_to_json(lua_State *L)
{
    const char *function = "model:to_json";
    nn_model *model = nn_lua_check_model(L, 1, function);
    if (lua_gettop(L) > 1)
        nn_lua_error(L, "%s: takes no arguments, got %d", function, lua_gettop(L) - 1);
    char *text = NULL;
    nn_lua_check(L, nn_model_to_json(model, &text), function);
    lua_pushstring(L, text);
    free(text);
    return 1;
}

/* A new model from architecture JSON at the top of the stack, pushed; `function` names
 * the caller in errors. */
static void push_model_from_json(lua_State *L, const char *text, const char *function)
{
    nn_model *model = NULL;
    nn_lua_check(L, nn_model_from_json(&model, text), function);
    nn_lua_push_model(L, model);
}

/* nn.models.model_from_json(text) -> a new model, weights freshly initialized */
static int l_model_from_json(lua_State *L)
{
    const char *function = "nn.models.model_from_json";
    if (lua_type(L, 1) != LUA_TSTRING)
        nn_lua_error(L, "%s: expected the JSON text of a model (from model:to_json()), got %s",
                     function, nn_lua_typename(L, 1));
    if (lua_gettop(L) > 1)
        nn_lua_error(L, "%s: takes one argument, the JSON text, got %d", function,
                     lua_gettop(L));
    size_t length = 0;
    const char *text = lua_tolstring(L, 1, &length);
    if (strlen(text) != length)
        nn_lua_error(L, "%s: the JSON text holds a zero byte", function);
    push_model_from_json(L, text, function);
    return 1;
}

/* nn.models.clone_model(model) -> a new model of the same architecture (layer names and
 * settings), with fresh weights and not compiled, as Keras' clone_model. */
static int l_clone_model(lua_State *L)
{
    const char *function = "nn.models.clone_model";
    nn_model *model = nn_lua_check_model(L, 1, function);
    if (lua_gettop(L) > 1)
        nn_lua_error(L, "%s: takes one argument, the model, got %d", function, lua_gettop(L));
    char *text = NULL;
    nn_lua_check(L, nn_model_to_json(model, &text), function);
    nn_model *copy = NULL;
    nn_status status = nn_model_from_json(&copy, text);
    free(text);
    nn_lua_check(L, status, function);
    nn_lua_push_model(L, copy);
    return 1;
}

static const luaL_Reg model_methods[] = {
    {"save", model_save},
    {"save_weights", model_save_weights},
    {"load_weights", model_load_weights},
    {"get_weights", model_get_weights},
    {"set_weights", model_set_weights},
    {"to_json", model_to_json},
    {NULL, NULL},
};

static const luaL_Reg models_functions[] = {
    {"load_model", l_load_model},
    {"save_model", l_save_model},
    {"model_from_json", l_model_from_json},
    {"clone_model", l_clone_model},
    {NULL, NULL},
};

static const luaL_Reg io_functions[] = {
    {"write", l_write},
    {"make_directory", l_make_directory},
    {"_write_file", l_write_file},
    {"_check_save_name", l_check_save_name},
    {"_save_backup", l_save_backup},
    {"_restore_backup", l_restore_backup},
    {"_set_initial_epoch", l_set_initial_epoch},
    {"_stop_requested", l_stop_requested},
    {NULL, NULL},
};

void nn_lua_open_io(lua_State *L)
{
    luaL_getmetatable(L, NN_LUA_MODEL);
    if (lua_getfield(L, -1, "methods") == LUA_TTABLE)
        luaL_setfuncs(L, model_methods, 0);
    lua_pop(L, 2);
    if (lua_getfield(L, -1, "models") != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, "models");
    }
    luaL_setfuncs(L, models_functions, 0);
    lua_pop(L, 1);
    luaL_newlib(L, io_functions);
    lua_setfield(L, -2, "io");
}
