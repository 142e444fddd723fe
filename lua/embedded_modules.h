/* The Lua modules compiled into nnsh (see NNSH_LUA_MODULES in lua/CMakeLists.txt). */
#ifndef NN_EMBEDDED_MODULES_H
#define NN_EMBEDDED_MODULES_H

#include <stdbool.h>
#include <stddef.h>

typedef struct nn_embedded_module {
    const char *name;
    const unsigned char *source;
    const size_t *size;
    bool lazy; /* compiled only when nn._load_module asks for it, not when nn opens */
} nn_embedded_module;

/* Terminated by an entry with a NULL name. */
extern const nn_embedded_module nn_embedded_modules[];

#endif
