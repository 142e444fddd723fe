/* Model files and the C side of nn.callbacks: model:save / load_weights / get_weights,
 * nn.models.load_model, and nn.io (the output helper and the BackupAndRestore hooks). */
#ifndef NN_LUA_IO_H
#define NN_LUA_IO_H

#include <stdbool.h>

#include "nn_lua.h"

/* Adds the file methods to models and nn.models / nn.io to the nn table on top. */
void nn_lua_open_io(lua_State *L);

/* Whether the callbacks list at `index` holds a TerminateOnNaN: then a non-finite loss
 * ends fit like a stop (message, on_train_end, history) instead of an error. */
bool nn_lua_callbacks_terminate_on_nan(lua_State *L, int index);

#endif
