/* Progress output and Lua callbacks of the fit / evaluate / predict loops: the bridge
 * between the engine's nn_progress events and what the user sees. */
#ifndef NN_LUA_PROGRESS_H
#define NN_LUA_PROGRESS_H

#include <signal.h>

#include "nn_lua.h"
#include "text.h"

struct nn_live_view;

typedef struct nn_lua_progress {
    lua_State *L;
    nn_model *model;
    int model_index;       /* stack index of the model userdata */
    int callbacks_index;   /* stack index of the callbacks list, 0 if none */
    int error_ref;         /* registry ref of a Lua error raised by a callback */
    int verbose;
    bool terminal;
    bool want_batches;     /* some callback has on_train_batch_end */
    bool want_batch_begins; /* some callback has on_train_batch_begin */
    int epochs;
    int64_t steps;
    int64_t batch_size;    /* of fit, as the user asked for it */
    int validation_freq;   /* fit: validates every this many epochs; 0: no validation */
    double pass_start, last_draw;
    size_t last_width;     /* of the previous \r line, to blank leftovers */
    int columns;           /* of the terminal: a \r line longer than this would wrap */
    const char *kind;      /* "fit", "evaluate", "predict" */
    /* The live screen of fit (verbose=1 on a terminal) while it is open. */
    struct nn_live_view *view;
    bool epoch_open;       /* an epoch began and has not ended yet */
    int64_t last_step;     /* of the last batch, and its running logs (view only) */
    nn_logs last_logs;
} nn_lua_progress;

typedef struct nn_lua_interrupt_guard {
    struct sigaction previous;
    lua_State *previous_state;
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
/* Ctrl-C during a loop stops it at the next batch; Lua code of a callback of the loop
 * (on L) is interrupted at once. */
void nn_lua_guard_interrupts(nn_lua_interrupt_guard *guard, lua_State *L);
void nn_lua_release_interrupts(nn_lua_interrupt_guard *guard);
void nn_lua_progress_init(nn_lua_progress *progress, lua_State *L, nn_model *model, const char *kind,
                   int verbose);
/* The engine-side callback table that feeds `progress`. */
nn_progress nn_lua_progress_hooks(nn_lua_progress *progress);
/* Re-raises a callback's own error object, or the engine's message for a failure. After
 * a pass that ended well the caller writes the final line (nn_lua_progress_draw with
 * final): on a terminal it redraws the running bar, which is left open for it. */
void nn_lua_progress_finish(lua_State *L, nn_lua_progress *progress, nn_status status, const char *function);
/* ---- the live view (lua_live.c) ---- */

/* Opens the live screen for a fit when verbose is 1, the output is a terminal and
 * NNSH_LIVE is not 0; otherwise the plain progress bar stays. */
void nn_lua_live_open(nn_lua_progress *progress, int epochs, int64_t steps, int64_t samples);
void nn_lua_live_epoch_begin(nn_lua_progress *progress, int epoch);
void nn_lua_live_batch_begin(nn_lua_progress *progress);
void nn_lua_live_batch(nn_lua_progress *progress, int64_t step, const nn_logs *logs);
/* After a batch's callbacks, when the epoch's batches are done and the engine goes on to
 * validate (if it does) and to end the epoch. */
void nn_lua_live_batches_done(nn_lua_progress *progress);
/* Before the epoch's line is written: the time the process stood stopped while the
 * epoch validated is left out of the line's time, as a pause is. */
void nn_lua_live_take_stopped(nn_lua_progress *progress);
void nn_lua_live_epoch_end(nn_lua_progress *progress, int epoch, const nn_logs *logs);
/* Closes the screen (if open) and writes its record: the epoch lines and the charts. */
void nn_lua_live_close(nn_lua_progress *progress);
/* Why the last fit on a terminal did not open the live view ("" if it did). */
const char *nn_lua_live_view_problem(void);

/* The table holding a model's Lua-side state (its last history, stop_training). */
void nn_lua_push_model_state(lua_State *L, int model_index);

#endif
