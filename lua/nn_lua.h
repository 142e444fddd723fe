/* The Lua binding of nnsh: internal interface shared by the binding's files.
 *
 * Conventions: every function that Lua calls checks its arguments and raises an error
 * that starts with its Lua name ("nn.zeros: ..."); userdata are created empty before a
 * resource is attached, so __gc can always clean up; positions (rows, slices) are
 * 1-based as in Lua, axes are numbered as in Keras and NumPy (0 = batch, -1 = last). */
#ifndef NN_LUA_H
#define NN_LUA_H

#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdbool.h>

#include "layer.h"
#include "model.h"
#include "names.h"
#include "tensor.h"

#define NN_LUA_TENSOR "nn.Tensor"
#define NN_LUA_LAYER "nn.Layer"
#define NN_LUA_MODEL "nn.Sequential"
#define NN_LUA_SHAPE "nn.Shape"
#define NN_LUA_HISTORY "nn.History"
#define NN_LUA_SCHEDULE "nn.Schedule"

int luaopen_nn(lua_State *L);

/* ---- errors and output ---- */

/* Raises a Lua error with a printf-formatted message (C formats, unlike luaL_error).
 * Never returns. */
int nn_lua_error(lua_State *L, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Raises "<function>: <engine message>". Never returns. */
int nn_lua_raise(lua_State *L, const char *function);
/* The same, for a function that calls the engine entry point `entry` ("fit"): the
 * message's own "fit: " goes, since the function's name is said instead. */
int nn_lua_raise_from(lua_State *L, const char *function, const char *entry);
/* Raises when status is not NN_OK. */
void nn_lua_check(lua_State *L, nn_status status, const char *function);
/* Writes text to the session's output: stdout, or whatever the host installed with
 * nn_lua_set_writer (the notebook runner captures output this way). */
void nn_lua_write(lua_State *L, const char *text, size_t length);
typedef void (*nn_lua_writer)(void *user, const char *text, size_t length);
void nn_lua_set_writer(nn_lua_writer writer, void *user);
/* Says that the installed writer ends on a terminal after all (a shell that records
 * what it shows still wants progress bars redrawn in place). Reset by set_writer. */
void nn_lua_set_writer_terminal(bool terminal);
/* Whether output goes to a terminal (enables \r progress bars). */
bool nn_lua_output_is_terminal(void);

/* The global learning phase (nn.set_learning_phase): the default of `training` when a
 * layer is called directly. */
bool nn_lua_learning_phase(void);
/* Whether nn.set_learning_phase was called: its phase then decides layer calls that
 * name none, augmentation layers' too. */
bool nn_lua_learning_phase_set(void);

/* The flag that stops a loop at the next batch: NN_LUA_STOP_KEY when the user asked the
 * live view to stop (the script goes on with the model as trained so far),
 * NN_LUA_STOP_INTERRUPT for Ctrl-C (a script ends; the shell returns to its prompt). */
enum { NN_LUA_STOP_NONE = 0, NN_LUA_STOP_KEY = 1, NN_LUA_STOP_INTERRUPT = 2 };
volatile sig_atomic_t *nn_lua_stop_flag(void);
/* Whether an interactive shell hosts the module (set by the REPL). Ctrl-C during fit
 * then returns the history so far instead of ending the script. */
void nn_lua_set_interactive(bool interactive);
bool nn_lua_interactive(void);
/* What an interactive host does after fit returned early because of Ctrl-C (NULL:
 * nothing): the shell stops the rest of the cell at its next line, so that Ctrl-C ends
 * a loop of fits, while `h = model:fit(...)` still keeps its history. */
void nn_lua_set_interrupted_fit_handler(void (*handler)(void));
/* Runs that handler, if any. */
void nn_lua_interrupted_fit(void);

/* ---- tensors ---- */

/* Pushes an empty tensor userdata and returns its slot; store the tensor there. */
nn_tensor **nn_lua_new_tensor_slot(lua_State *L);
/* Offers the string keys of the table at index to guess (names.h): the methods of a
 * class, say. Keys that begin with '_' (metamethods, private fields, _G) are left out.
 * The table must stay alive as long as the guess is read. */
void nn_lua_offer_keys(lua_State *L, int index, nn_name_guess *guess);

/* Pushes a view of a layer's weight (its storage shared), which also knows, as a Keras
 * variable does, its name ('kernel'), path ('dense/kernel') and whether it trains. */
void nn_lua_push_weight(lua_State *L, nn_layer *layer, const nn_param *param,
                        const char *function);
/* Takes ownership of tensor and pushes it. Raises (freeing it) on memory errors. */
void nn_lua_push_tensor(lua_State *L, nn_tensor *tensor);
nn_tensor *nn_lua_check_tensor(lua_State *L, int index, const char *function);
nn_tensor *nn_lua_test_tensor(lua_State *L, int index);
/* Accepts a tensor, or a (nested) table of numbers converted to float32; pushes
 * nothing and returns a borrowed tensor (tables are anchored at `index`). `what` names
 * the value in messages as the user sees it: "x", "y", "entry 2". */
nn_tensor *nn_lua_to_tensor(lua_State *L, int index, const char *function, const char *what);
void nn_lua_push_shape(lua_State *L, const nn_shape *shape);
/* Gives the list at the top of the stack Python's habits: list[-1] is its last entry,
 * list[0] an error saying lists count from 1. list and entry name them in messages
 * ("model.layers", "layer"). */
void nn_lua_set_list_metatable(lua_State *L, const char *list, const char *entry);
/* Whether the value at index is nn.None, Keras' None where a Lua table cannot hold nil. */
bool nn_lua_is_none(lua_State *L, int index);
/* Reads a shape given as integers at [first, top] or as one table at first. */
nn_shape nn_lua_check_shape_args(lua_State *L, int first, const char *function);
/* The same for a batch shape (model:build, layer:build): nn.None, an unknown size, is
 * read as -1. */
nn_shape nn_lua_check_batch_shape_args(lua_State *L, int first, const char *function);
void nn_lua_open_tensor(lua_State *L);
/* The numpy-like text of a tensor: tensor([...], shape=(2, 3), dtype=float32). */
void nn_lua_push_tensor_string(lua_State *L, const nn_tensor *tensor);

/* ---- devices ---- */

/* nn.config.list_physical_devices, set_device, get_device, build_info; nn.test.*. */
void nn_lua_open_device(lua_State *L);
/* The device name at index ('cpu', 'gpu', 'gpu:N', ...), or an error naming function,
 * what it takes and what came instead. The name is checked by nn_device_parse. */
const char *nn_lua_check_device_name(lua_State *L, int index, const char *function);

/* ---- layers and models ---- */

void nn_lua_open_layers(lua_State *L);
void nn_lua_open_model(lua_State *L);
/* nn.Input (also nn.layers.Input, nn.layers.InputLayer); call after nn_lua_open_layers. */
void nn_lua_open_input(lua_State *L);
/* The input shape (batch axis -1) of the nn.Input at index, or NULL if it is none. */
const nn_shape *nn_lua_test_input(lua_State *L, int index);
void nn_lua_open_datasets(lua_State *L);
/* nn._plots: the chart, flow, SVG and PNG renderers for lua/plots.lua. */
void nn_lua_open_plots(lua_State *L);
/* Pushes the (unique) userdata of a layer, creating it on first use. */
void nn_lua_push_layer(lua_State *L, nn_layer *layer);
nn_layer *nn_lua_check_layer(lua_State *L, int index, const char *function);
nn_model *nn_lua_check_model(lua_State *L, int index, const char *function);
/* Pushes a new model userdata that takes over the caller's reference to model. */
void nn_lua_push_model(lua_State *L, nn_model *model);

/* ---- losses and metrics ---- */

/* A loss as compile takes it (a name, a table from nn.losses with its settings, or one
 * of nn.losses' per-sample functions) at index into loss; raises an error naming
 * function on an unknown name or setting. */
void nn_lua_parse_loss(lua_State *L, int index, nn_loss *loss, const char *function);
/* The loss name of nn.losses.<name>, the per-sample function, at index; NULL for any
 * other value. */
const char *nn_lua_loss_function_name(lua_State *L, int index);
/* A name and the text that goes with it, in the lookup tables of the messages. */
typedef struct nn_lua_name_text {
    const char *name, *text;
} nn_lua_name_text;
/* The text for name in a table of count entries, or NULL. */
const char *nn_lua_text_for(const nn_lua_name_text *table, size_t count, const char *name);

/* The name a C closure of `function` at index holds as its first upvalue (nn.losses.<name>,
 * nn.activations.<name>); NULL for any other value. */
const char *nn_lua_closure_name(lua_State *L, int index, lua_CFunction function);
/* The activation name of nn.activations.<name> at index; NULL for any other value. */
const char *nn_lua_activation_function_name(lua_State *L, int index);
/* The settings a loss object of this kind takes, "name" first, NULL-terminated. */
const char *const *nn_lua_loss_options(nn_loss_kind kind);
/* A metric as compile takes it (a name, or a table from nn.metrics) for the loss's labels
 * (NULL: no loss to check against) into metric; raises on a bad name or setting. */
void nn_lua_parse_metric(lua_State *L, int index, const nn_loss *loss, nn_metric *metric,
                         const char *function);
/* nn._loss_call, nn._loss_function and the metric objects' methods (lua_losses.c), which
 * the prelude gives to nn.losses and nn.metrics. */
void nn_lua_open_losses(lua_State *L);

/* ---- argument tables ---- */

/* Raises the error for nn.None (none) or -1 at entry `entry` (from 1) of a sample shape
 * given as `key`: every size after the batch axis must be known. */
int nn_lua_unknown_size_error(lua_State *L, const char *function, const char *key, int entry,
                              bool none);
/* Checks that every key of the table at `index` is an integer position up to
 * `positional` or one of names[]; otherwise raises an error listing the valid names. */
void nn_lua_check_option_names(lua_State *L, int index, const char *function,
                               const char *const *names, int positional);
/* An argument as a message shows it: a number, string or boolean as written, else its
 * type; written into text. */
const char *nn_lua_argument_text(lua_State *L, int index, char *text, size_t size);
/* Raises "function: unexpected argument N (value); the call is usage" when the stack
 * holds more than `last` values (a method's self, before a ':' in function, is not
 * counted in N), so that an argument is never dropped in silence. */
void nn_lua_check_no_more_arguments(lua_State *L, int last, const char *function,
                                    const char *usage);
/* The same for a __call metamethod (model(x), layer(x)): the object called is argument 1
 * and no argument to its caller. */
void nn_lua_check_no_more_call_arguments(lua_State *L, int last, const char *function,
                                         const char *usage);
/* The file name at stack index `index` (argument `position` as the user wrote it): a
 * string without zero bytes, not empty. */
const char *nn_lua_check_path(lua_State *L, int index, int position, const char *function);
/* Options table at index (or none/nil): typed getters with defaults and range checks. */
lua_Integer nn_lua_opt_integer(lua_State *L, int index, const char *key, lua_Integer fallback,
                               lua_Integer low, lua_Integer high, const char *function);
double nn_lua_opt_number(lua_State *L, int index, const char *key, double fallback, double low,
                         double high, const char *function);
bool nn_lua_opt_boolean(lua_State *L, int index, const char *key, bool fallback,
                        const char *function);
/* Sets one layer argument from the Lua value on top of the stack (does not pop). */
void nn_lua_set_layer_arg(lua_State *L, nn_layer *layer, const nn_arg_spec *spec,
                          const char *function);
/* nn._check_keras_object(object, 'initializer' | 'constraint', function): the checks a layer
 * makes of such an argument, run where nn.initializers.X{...} or nn.constraints.X{...}
 * is written. */
int nn_lua_check_keras_object(lua_State *L);
/* Pushes the current value of a layer argument as Lua would write it. */
void nn_lua_push_layer_arg(lua_State *L, nn_layer *layer, const nn_arg_spec *spec);
/* The Lua type name of a value, naming nn classes ("nn.Tensor", "integer"). */
const char *nn_lua_typename(lua_State *L, int index);
/* A number as a message shows it: %g where that reads back as the same number, else the
 * fewest digits that do (1.0000001e+30, not 1e+30, beside a bound of 1e+30); "nan" for
 * NaN, never printf's "-nan". Returns text. */
const char *nn_lua_number_text(double value, char *text, size_t size);
/* For a method ("model:fit") whose object, argument 1, is missing or wrong: the reminder
 * that methods are called with a colon (model.fit(x) passes x as the model); "" else. */
const char *nn_lua_colon_hint(int index, const char *function, char *buf, size_t size);
/* Pushes a zeroed userdata of `size` bytes whose __gc calls release(box): C memory made
 * while an error may still be raised is kept in one, so the error never leaks it.
 * type_name names the metatable (one per release function). */
void *nn_lua_new_box(lua_State *L, size_t size, const char *type_name, lua_CFunction release);
/* lua_tointegerx for arguments: only a Lua number can be an integer here. The string "3"
 * is refused rather than converted (Python refuses it too), so that epochs = '3' read
 * from a file or a typo is reported instead of silently working. */
lua_Integer nn_lua_tointeger(lua_State *L, int index, int *is_integer);
/* What a message says arrived where a number was wanted: "the string '3' (tonumber
 * converts it)" for a numeric string (script arguments and os.getenv give strings), else
 * the value's type. Written into text when it is the former. */
const char *nn_lua_not_a_number_text(lua_State *L, int index, char *text, size_t size);
/* nn_lua_not_a_number_text with a buffer that lives as long as the message is made. */
#define NN_LUA_NOT_A_NUMBER(L, index) nn_lua_not_a_number_text((L), (index), (char[64]){0}, 64)
/* luaL_checknumber for arguments, strict in the same way: "what must be a number, got
 * string". */
double nn_lua_check_number(lua_State *L, int index, const char *function, const char *what);

/* The field name at index for an __index or __newindex of owner ("layer", with its name
 * "dense", or "nn.Input" with none): a string, or a number as its text; another key (a
 * boolean, a table) is an error. The owner is put together only then: this runs on every
 * method lookup. */
const char *nn_lua_check_field_key(lua_State *L, int index, const char *owner,
                                   const char *owner_name);

#endif
