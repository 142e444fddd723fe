/* nn.datasets: MNIST and Fashion-MNIST loaders, and IDX files in general. */
#include <string.h>

#include "data/datasets.h"
#include "data/idx.h"
#include "nn_lua.h"

/* nn.datasets.<name>.load_data() -> x_train, y_train, x_test, y_test (uint8) */
static int load_data(lua_State *L)
{
    const nn_dataset *dataset = lua_touserdata(L, lua_upvalueindex(1));
    char function[96];
    snprintf(function, sizeof function, "nn.datasets.%s.load_data", dataset->name);
    /* Keras' load_data(path) names a cache file; here the files are looked for along
     * search_path(), which NNSH_DATA leads. */
    nn_lua_check_no_more_arguments(L, 0, function,
                                   "load_data(), which looks along search_path(); set "
                                   "NNSH_DATA=dir to use the IDX files in dir");
    nn_tensor **slots[4];
    for (int i = 0; i < 4; i++)
        slots[i] = nn_lua_new_tensor_slot(L);
    nn_tensor *loaded[4];
    nn_lua_check(L, nn_dataset_load(dataset, loaded, NULL, 0), function);
    for (int i = 0; i < 4; i++)
        *slots[i] = loaded[i];
    return 4;
}

/* The list of directories lives in a box while it is copied into Lua. */
static int free_search_path(lua_State *L)
{
    char ***dirs = lua_touserdata(L, 1);
    nn_dataset_search_path_free(*dirs);
    *dirs = NULL;
    return 0;
}

static int search_path(lua_State *L)
{
    const nn_dataset *dataset = lua_touserdata(L, lua_upvalueindex(1));
    char ***box = nn_lua_new_box(L, sizeof *box, "nn.SearchPath", free_search_path);
    char **dirs = *box = nn_dataset_search_path(dataset);
    if (!dirs)
        return nn_lua_error(L, "nn.datasets.%s.search_path: out of memory", dataset->name);
    lua_createtable(L, 8, 0);
    for (int n = 0; dirs[n]; n++) {
        lua_pushstring(L, dirs[n]);
        lua_rawseti(L, -2, n + 1);
    }
    return 1;
}

static int l_load_idx(lua_State *L)
{
    const char *function = "nn.datasets.load_idx";
    const char *path = nn_lua_check_path(L, 1, 1, function);
    nn_lua_check_no_more_arguments(L, 1, function, "nn.datasets.load_idx(path)");
    nn_tensor **slot = nn_lua_new_tensor_slot(L);
    nn_lua_check(L, nn_idx_load(slot, path), "nn.datasets.load_idx");
    return 1;
}

static int l_save_idx(lua_State *L)
{
    const char *function = "nn.datasets.save_idx";
    nn_tensor *tensor = nn_lua_check_tensor(L, 1, function);
    const char *path = nn_lua_check_path(L, 2, 2, function);
    nn_lua_check_no_more_arguments(L, 2, function,
                                   "nn.datasets.save_idx(tensor, path), which replaces a file "
                                   "of that name");
    nn_lua_check(L, nn_idx_save(tensor, path), "nn.datasets.save_idx");
    return 0;
}

void nn_lua_open_datasets(lua_State *L)
{
    lua_newtable(L);
    const nn_dataset *const *datasets = nn_datasets();
    for (int i = 0; datasets[i]; i++) {
        lua_createtable(L, 0, 2);
        lua_pushlightuserdata(L, (void *)datasets[i]);
        lua_pushcclosure(L, load_data, 1);
        lua_setfield(L, -2, "load_data");
        lua_pushlightuserdata(L, (void *)datasets[i]);
        lua_pushcclosure(L, search_path, 1);
        lua_setfield(L, -2, "search_path");
        lua_setfield(L, -2, datasets[i]->name);
    }
    lua_pushcfunction(L, l_load_idx);
    lua_setfield(L, -2, "load_idx");
    lua_pushcfunction(L, l_save_idx);
    lua_setfield(L, -2, "save_idx");
    lua_setfield(L, -2, "datasets");
}
