/* Hints for misspelt names. Lua answers `nn.Sequental{...}` with "attempt to call a nil
 * value (field 'Sequental')" and `pirnt(x)` with "... (global 'pirnt')": true, and no help
 * to a learner. These functions find the name that was most likely meant among what the
 * session holds: the globals, and the fields of the tables reachable from them (nn's
 * layers, optimizers, callbacks, data sets; string, math, ...).
 *
 *   nn_text hint;
 *   nn_text_init(&hint);
 *   if (nnsh_name_hint(L, &hint, message, source, length, 0))
 *       puts(hint.data); // hint: did you mean nn.Sequential?
 *   nn_text_free(&hint);
 */
#ifndef NNSH_NAME_HINTS_H
#define NNSH_NAME_HINTS_H

#include <lua.h>
#include <stdbool.h>
#include <stddef.h>

#include "text.h"

/* Appends one line, "hint: did you mean nn.Sequential?" without a newline, when message
 * (Lua's error, perhaps followed by a traceback) says a global or a field was nil and a
 * name close to it exists. A field counts only when source (the code that ran, length
 * bytes) writes it after its table's whole path, as in `nn.Sequental` or
 * `nn.optimizers.Adma`, so a field of the user's own tables gets no guess from nn's.
 * env is the index of the table the code ran in (its globals), or 0 for the global
 * table. Returns false, appending nothing, when no name is close. Leaves the stack as it
 * was. */
bool nnsh_name_hint(lua_State *L, nn_text *hint, const char *message, const char *source,
                    size_t length, int env);

/* Appends "did you mean model?" when a global close to `name` is defined in the table at
 * index env or in the global table (env 0: that one only). Returns whether it did. */
bool nnsh_name_hint_global(lua_State *L, nn_text *out, const char *name, int env);

#endif
