/* Devices from Lua: nn.config.list_physical_devices, set_device / get_device,
 * build_info, the CPU's threads (nn.config.threading), and nn.test.is_gpu_available /
 * is_built_with_cuda, as Keras' tf.config and tf.test. Choosing a device:
 * nn.config.set_device('cpu' | 'gpu' | 'gpu:N') or the environment variable NNSH_DEVICE;
 * without either a GPU is used when there is one. */
#include <string.h>

#include "cpu/threads.h"
#include "device.h"
#include "gpu.h"
#include "nn_lua.h"

const char *nn_lua_check_device_name(lua_State *L, int index, const char *function)
{
    /* Only a string: a number would pass Lua's own conversion and fail as the name '0'. */
    if (lua_type(L, index) != LUA_TSTRING)
        nn_lua_error(L, "%s: expected a device name ('cpu', 'gpu' or 'gpu:N'), got %s", function,
                     nn_lua_typename(L, index));
    return lua_tostring(L, index);
}

static void push_cpu(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "/physical_device:CPU:0");
    lua_setfield(L, -2, "name");
    lua_pushliteral(L, "CPU");
    lua_setfield(L, -2, "device_type");
}

/* {name='/physical_device:GPU:0', device_type='GPU', device_name='NVIDIA ...',
 *  memory=<bytes>, compute_capability={9, 0}, multiprocessors=132, device='gpu:0'} */
static bool push_gpu(lua_State *L, int index)
{
    nn_gpu_info info;
    if (nn_gpu_describe(index, &info) != NN_OK)
        return false;
    lua_createtable(L, 0, 7);
    lua_pushfstring(L, "/physical_device:GPU:%d", index);
    lua_setfield(L, -2, "name");
    lua_pushliteral(L, "GPU");
    lua_setfield(L, -2, "device_type");
    lua_pushstring(L, info.name);
    lua_setfield(L, -2, "device_name");
    lua_pushinteger(L, (lua_Integer)info.total_memory);
    lua_setfield(L, -2, "memory");
    lua_createtable(L, 2, 0);
    lua_pushinteger(L, info.compute_major);
    lua_rawseti(L, -2, 1);
    lua_pushinteger(L, info.compute_minor);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "compute_capability");
    lua_pushinteger(L, info.multiprocessors);
    lua_setfield(L, -2, "multiprocessors");
    lua_pushfstring(L, "gpu:%d", index);
    lua_setfield(L, -2, "device");
    return true;
}

static int l_list_physical_devices(lua_State *L)
{
    const char *function = "nn.config.list_physical_devices";
    nn_lua_check_no_more_arguments(L, 1, function, "nn.config.list_physical_devices([device_type])");
    if (!lua_isnoneornil(L, 1) && lua_type(L, 1) != LUA_TSTRING)
        nn_lua_error(L, "%s: device type must be 'CPU' or 'GPU', got %s", function,
                     nn_lua_typename(L, 1));
    const char *kind = lua_tostring(L, 1);
    bool cpu = !kind || strcmp(kind, "CPU") == 0 || strcmp(kind, "cpu") == 0;
    bool gpu = !kind || strcmp(kind, "GPU") == 0 || strcmp(kind, "gpu") == 0;
    if (!cpu && !gpu)
        nn_lua_error(L, "%s: device type must be 'CPU' or 'GPU', got '%s'", function, kind);
    lua_newtable(L);
    int position = 1;
    if (cpu) {
        push_cpu(L);
        lua_rawseti(L, -2, position++);
    }
    int count = gpu ? nn_gpu_count(NULL, 0) : 0;
    for (int i = 0; i < count; i++)
        if (push_gpu(L, i))
            lua_rawseti(L, -2, position++);
    return 1;
}

/* nn.test.is_gpu_available() → true, or false and the reason. */
static int l_is_gpu_available(lua_State *L)
{
    char why[512];
    if (nn_gpu_count(why, sizeof why) > 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, why);
    return 2;
}

static int l_is_built_with_cuda(lua_State *L)
{
    nn_gpu_versions versions;
    nn_gpu_get_versions(&versions);
    lua_pushboolean(L, versions.built_with_cuda);
    return 1;
}

/* nn.config.set_device(name) → true, or nil and the reason when the device is not there
 * (an expected failure: no GPU). A name that is no device is an error. */
static int l_set_device(lua_State *L)
{
    const char *function = "nn.config.set_device";
    nn_lua_check_no_more_arguments(L, 1, function, "nn.config.set_device('cpu' | 'gpu' | 'gpu:N')");
    const char *name = nn_lua_check_device_name(L, 1, function);
    nn_device device;
    nn_lua_check(L, nn_device_parse(name, &device), function);
    if (nn_device_set_default(device) != NN_OK) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", function, nn_error_message());
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* nn.config.get_device() → 'cpu', 'gpu:0', ...: where new models run. */
static int l_get_device(lua_State *L)
{
    nn_device device;
    char name[32];
    nn_lua_check(L, nn_device_default(&device), "nn.config.get_device");
    lua_pushstring(L, nn_device_format(device, name, sizeof name));
    return 1;
}

static void set_version(lua_State *L, const char *field, const char *text)
{
    lua_pushstring(L, text);
    lua_setfield(L, -2, field);
}

/* nn.config.build_info() → {cuda_build=bool, cuda_version='13.0', cudnn_version='9.19.0',
 * cuda_runtime=..., cuda_driver=..., cudnn_runtime=..., cublas=...}: what this nnsh was
 * built with and what it finds (as tf.sysconfig.get_build_info). */
static int l_build_info(lua_State *L)
{
    nn_gpu_versions v;
    char text[32];
    nn_gpu_get_versions(&v);
    lua_createtable(L, 0, 7);
    lua_pushboolean(L, v.built_with_cuda);
    lua_setfield(L, -2, "cuda_build");
    if (!v.built_with_cuda)
        return 1;
    set_version(L, "cuda_version", nn_gpu_format_cuda_version(v.runtime_compiled, text, sizeof text));
    set_version(L, "cudnn_version", nn_gpu_format_cudnn_version(v.cudnn_compiled, text, sizeof text));
    set_version(L, "cuda_runtime", nn_gpu_format_cuda_version(v.runtime, text, sizeof text));
    set_version(L, "cuda_driver", nn_gpu_format_cuda_version(v.driver, text, sizeof text));
    set_version(L, "cudnn_runtime", nn_gpu_format_cudnn_version(v.cudnn, text, sizeof text));
    set_version(L, "cublas", nn_gpu_format_cudnn_version(v.cublas, text, sizeof text));
    return 1;
}

/* nn.config.threading.set_intra_op_parallelism_threads(n): threads the CPU kernels run,
 * n ≥ 1, or 0 for one per logical processor (as tf.config.threading). Results stay the
 * same. */
static int l_set_threads(lua_State *L)
{
    const char *function = "nn.config.threading.set_intra_op_parallelism_threads";
    nn_lua_check_no_more_arguments(L, 1, function,
                                   "nn.config.threading.set_intra_op_parallelism_threads(n)");
    int is_integer = 0;
    lua_Integer count = nn_lua_tointeger(L, 1, &is_integer);
    char text[64];
    if (!is_integer)
        nn_lua_error(L, "%s: expected a whole number of threads (0 for one per logical "
                        "processor), got %s",
                     function, nn_lua_argument_text(L, 1, text, sizeof text));
    if (count < 0 || count > 1024)
        nn_lua_error(L, "%s: threads must be 0 (one per logical processor) to 1024, got %lld",
                     function, (long long)count);
    nn_cpu_set_thread_count((int)count);
    return 0;
}

/* nn.config.threading.get_intra_op_parallelism_threads() → the threads in use now. */
static int l_get_threads(lua_State *L)
{
    nn_lua_check_no_more_arguments(L, 0, "nn.config.threading.get_intra_op_parallelism_threads",
                                   "nn.config.threading.get_intra_op_parallelism_threads()");
    lua_pushinteger(L, nn_cpu_thread_count());
    return 1;
}

static const luaL_Reg threading_functions[] = {
    {"set_intra_op_parallelism_threads", l_set_threads},
    {"get_intra_op_parallelism_threads", l_get_threads},
    {NULL, NULL},
};

static const luaL_Reg config_functions[] = {
    {"list_physical_devices", l_list_physical_devices},
    {"set_device", l_set_device},
    {"get_device", l_get_device},
    {"build_info", l_build_info},
    {NULL, NULL},
};

static const luaL_Reg test_functions[] = {
    {"is_gpu_available", l_is_gpu_available},
    {"is_built_with_cuda", l_is_built_with_cuda},
    {NULL, NULL},
};

void nn_lua_open_device(lua_State *L)
{
    /* nn.config and nn.test exist already (lua_main.c); add to them. */
    lua_getfield(L, -1, "config");
    luaL_setfuncs(L, config_functions, 0);
    luaL_newlib(L, threading_functions);
    lua_setfield(L, -2, "threading");
    lua_pop(L, 1);
    lua_getfield(L, -1, "test");
    luaL_setfuncs(L, test_functions, 0);
    lua_pop(L, 1);
}
