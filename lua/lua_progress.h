/* Progress output and Lua callbacks of the fit / evaluate / predict loops: the bridge
 * between the engine's nn_progress events and what the user sees. */
#ifndef NN_LUA_PROGRESS_H
#define NN_LUA_PROGRESS_H

#include <signal.h>

#include "nn_lua.h"
#include "text.h"

typedef struct nn_lua_progress {
    lua_State *L;
    nn_model *model;
    int model_index;       /* stack index of the model userdata */
    int callbacks_index;   /* stack index of the callbacks list, 0 if none */
    int error_ref;         /* registry ref of a Lua error raised by a callback */
    int verbose;
    bool terminal;
    bool want_batches;     /* some callback has on_train_batch_end */
    int epochs;
    int64_t steps;
    double pass_start, last_draw;
    size_t last_width;     /* of the previous \r line, to blank leftovers */
    const char *kind;      /* "fit", "evaluate", "predict" */
} nn_lua_progress;

typedef struct nn_lua_interrupt_guard {
    struct sigaction previous;
} nn_lua_interrupt_guard;

double nn_lua_now(void);
void nn_lua_push_logs(lua_State *L, const nn_logs *logs);
void nn_lua_progress_write(nn_lua_progress *progress, nn_text *text);
/* Writes a progress line: on a terminal it redraws the current line with \r; elsewhere
 * only final lines are written, whole. */
void nn_lua_progress_draw(nn_lua_progress *progress, const nn_text *line, bool final);
void nn_lua_progress_render(nn_text *line, const nn_lua_progress *progress, int64_t step,
                  const nn_logs *logs, bool epoch_style);
/* SIGINT sets the stop flag while a loop runs; the previous handler comes back after. */
void nn_lua_guard_interrupts(nn_lua_interrupt_guard *guard);
void nn_lua_release_interrupts(nn_lua_interrupt_guard *guard);
void nn_lua_progress_init(nn_lua_progress *progress, lua_State *L, nn_model *model, const char *kind,
                   int verbose);
/* The engine-side callback table that feeds `progress`. */
nn_progress nn_lua_progress_hooks(nn_lua_progress *progress);
/* Re-raises a callback's own error object, or the engine's message for a failure. */
void nn_lua_progress_finish(lua_State *L, nn_lua_progress *progress, nn_status status, const char *function);
/* The table holding a model's Lua-side state (its last history, stop_training). */
void nn_lua_push_model_state(lua_State *L, int model_index);

#endif
