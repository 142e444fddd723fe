/* Progress output (Keras-style lines) and Lua callbacks for the training loops. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua_progress.h"
#include "terminal.h"

double nn_lua_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void nn_lua_push_logs(lua_State *L, const nn_logs *logs)
{
    lua_createtable(L, 0, logs ? logs->count : 0);
    for (int i = 0; logs && i < logs->count; i++) {
        lua_pushnumber(L, logs->values[i]);
        lua_setfield(L, -2, logs->names[i]);
    }
}

void nn_lua_progress_write(nn_lua_progress *progress, nn_text *text)
{
    if (text->data)
        nn_lua_write(progress->L, text->data, text->length);
}

void nn_lua_progress_draw(nn_lua_progress *progress, const nn_text *line, bool final)
{
    nn_text out;
    nn_text_init(&out);
    if (progress->terminal) {
        /* A running line must fit the terminal: \r cannot go back over a wrapped one.
         * The width is read at each line, so a terminal made wider shows more. */
        if (!final)
            progress->columns = nn_terminal_probe(STDOUT_FILENO).columns;
        size_t length = line->length;
        if (!final && progress->columns > 1 && length > (size_t)progress->columns - 1)
            length = (size_t)progress->columns - 1;
        nn_text_append(&out, "\r");
        nn_text_append_n(&out, line->data ? line->data : "", line->data ? length : 0);
        if (length < progress->last_width)
            nn_text_repeat(&out, " ", (int)(progress->last_width - length));
        progress->last_width = final ? 0 : length;
    } else {
        nn_text_append(&out, line->data ? line->data : "");
    }
    if (final)
        nn_text_append(&out, "\n");
    nn_lua_progress_write(progress, &out);
    nn_text_free(&out);
}

void nn_lua_progress_render(nn_text *line, const nn_lua_progress *progress, int64_t step,
                         const nn_logs *logs, bool epoch_style)
{
    const char *names[NN_MAX_LOGS];
    for (int i = 0; logs && i < logs->count; i++)
        names[i] = logs->names[i];
    nn_progress_state state = {
        .step = step,
        .steps = progress->steps,
        .elapsed_seconds = nn_lua_now() - progress->pass_start,
        .log_count = logs ? logs->count : 0,
        .log_names = names,
        .log_values = logs ? logs->values : NULL,
    };
    if (epoch_style)
        nn_progress_render_epoch_line(line, &state);
    else
        nn_progress_render_bar(line, &state);
}

/* Set while a loop runs and while Lua code of its callbacks runs. The stop flag alone
 * would wait for a batch boundary that a looping callback never reaches, so a second
 * Ctrl-C sets a hook that interrupts the Lua code itself (lua_sethook may be called from
 * a signal handler, as lua.c does); see on_interrupt. */
static lua_State *interruptible_state;
static volatile sig_atomic_t in_lua_callback, interrupt_hook_set;

/* invoke_callback(callback, position, method, caller, arguments...): callback:method(
 * arguments...) when the callback has the method. Run under lua_pcall, so that looking the
 * method up (an __index, a callback replaced by a number meanwhile) fails as a Lua error
 * too. */
static int invoke_callback(lua_State *L)
{
    int argument_count = lua_gettop(L) - 4;
    const char *method = lua_tostring(L, 3);
    if (!lua_istable(L, 1) && !lua_isuserdata(L, 1))
        return luaL_error(L, "%s: callbacks[%d] is not a table of functions such as %s (got "
                          "%s)", lua_tostring(L, 4), (int)lua_tointeger(L, 2), method,
                          nn_lua_typename(L, 1));
    if (lua_getfield(L, 1, method) == LUA_TNIL)
        return 0;
    if (!lua_isfunction(L, -1) && luaL_getmetafield(L, -1, "__call") == LUA_TNIL)
        return luaL_error(L, "%s: callbacks[%d].%s is not a function (got %s)",
                          lua_tostring(L, 4), (int)lua_tointeger(L, 2), method,
                          nn_lua_typename(L, -1));
    lua_settop(L, 5 + argument_count); /* drops the __call that luaL_getmetafield pushed */
    lua_pushvalue(L, 1);
    for (int a = 0; a < argument_count; a++)
        lua_pushvalue(L, 5 + a);
    lua_call(L, argument_count + 1, 0);
    return 0;
}

/* Calls cb:method(arguments...) for every callback that has the method, protected, so a
 * Lua error never unwinds through the engine's loop; it is kept and re-raised later. */
static nn_status call_callbacks(nn_lua_progress *progress, const char *method, int argument_count)
{
    lua_State *L = progress->L;
    int first_argument = lua_gettop(L) - argument_count + 1;
    nn_status status = NN_OK;
    if (progress->callbacks_index) {
        sig_atomic_t was_in_callback = in_lua_callback;
        in_lua_callback = 1;
        lua_Integer count = (lua_Integer)lua_rawlen(L, progress->callbacks_index);
        for (lua_Integer i = 1; i <= count && status == NN_OK; i++) {
            lua_pushcfunction(L, invoke_callback);
            lua_rawgeti(L, progress->callbacks_index, i);
            lua_pushinteger(L, i);
            lua_pushstring(L, method);
            lua_pushfstring(L, "model:%s", progress->kind);
            for (int a = 0; a < argument_count; a++)
                lua_pushvalue(L, first_argument + a);
            if (lua_pcall(L, argument_count + 4, 0, 0) != LUA_OK) {
                const char *message = lua_tostring(L, -1);
                status = nn_error(NN_ERR_ARGUMENT, "callback %s failed: %s", method,
                                  message ? message : "(error object)");
                progress->error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
            }
        }
        in_lua_callback = was_in_callback;
        /* A Ctrl-C that came as the callbacks ended: the stop flag will end the loop. */
        if (!in_lua_callback && interrupt_hook_set) {
            lua_sethook(L, NULL, 0, 0);
            interrupt_hook_set = 0;
        }
    }
    lua_settop(L, first_argument - 1);
    /* A callback may have set model.stop_training = true. */
    return status;
}

static nn_status on_train_begin(void *user, int epochs, int64_t steps, int64_t samples)
{
    nn_lua_progress *progress = user;
    progress->epochs = epochs;
    progress->steps = steps;
    nn_lua_live_open(progress, epochs, steps, samples);
    nn_lua_push_logs(progress->L, NULL);
    return call_callbacks(progress, "on_train_begin", 1);
}

static nn_status on_epoch_begin(void *user, int epoch)
{
    nn_lua_progress *progress = user;
    progress->pass_start = nn_lua_now();
    progress->last_draw = 0;
    if (progress->verbose > 0 && progress->epochs > 1) {
        nn_text line;
        nn_text_init(&line);
        nn_text_printf(&line, "Epoch %d/%d\n", epoch + 1, progress->epochs);
        nn_lua_progress_write(progress, &line);
        nn_text_free(&line);
    }
    nn_lua_live_epoch_begin(progress, epoch);
    lua_pushinteger(progress->L, epoch);
    nn_lua_push_logs(progress->L, NULL);
    return call_callbacks(progress, "on_epoch_begin", 2);
}

/* callback:method(batch, logs) for batch `step` (counted from 1 here, from 0 in Lua), then
 * the same under Keras' older name for that moment when there is one. */
static nn_status call_batch_callbacks(nn_lua_progress *progress, const char *method,
                                      const char *older, int64_t step, const nn_logs *logs)
{
    lua_pushinteger(progress->L, step - 1);
    nn_lua_push_logs(progress->L, logs);
    nn_status status = call_callbacks(progress, method, 2);
    if (status != NN_OK || !older)
        return status;
    lua_pushinteger(progress->L, step - 1);
    nn_lua_push_logs(progress->L, logs);
    return call_callbacks(progress, older, 2);
}

static nn_status on_batch_begin(void *user, int epoch, int64_t step, int64_t steps)
{
    nn_lua_progress *progress = user;
    (void)epoch;
    (void)steps;
    nn_lua_live_batch_begin(progress);
    if (!progress->want_batch_begins)
        return NN_OK;
    return call_batch_callbacks(progress, "on_train_batch_begin", "on_batch_begin", step, NULL);
}

static nn_status on_batch_end(void *user, int epoch, int64_t step, int64_t steps,
                              const nn_logs *logs)
{
    nn_lua_progress *progress = user;
    (void)epoch;
    progress->steps = steps;
    if (progress->view) {
        nn_lua_live_batch(progress, step, logs);
    } else if (progress->verbose == 1 && progress->terminal) {
        /* Redraw at most ten times a second so drawing never slows training. */
        double now = nn_lua_now();
        if (now - progress->last_draw >= 0.1 || step == steps) {
            progress->last_draw = now;
            nn_text line;
            nn_text_init(&line);
            nn_lua_progress_render(&line, progress, step, logs, false);
            nn_lua_progress_draw(progress, &line, false);
            nn_text_free(&line);
        }
    }
    nn_status status = NN_OK;
    if (progress->want_batches)
        status = strcmp(progress->kind, "fit") == 0
                     ? call_batch_callbacks(progress, "on_train_batch_end", "on_batch_end", step,
                                            logs)
                     : call_batch_callbacks(progress, "on_test_batch_end", NULL, step, logs);
    /* The epoch goes on to its validation after its last batch, or after the batch a
     * callback set stop_training at; not when training stops here. */
    bool epoch_batches_done = step == steps || progress->model->stop_training;
    if (progress->view && status == NN_OK && epoch_batches_done &&
        *nn_lua_stop_flag() == NN_LUA_STOP_NONE)
        nn_lua_live_batches_done(progress);
    return status;
}

static nn_status on_epoch_end(void *user, int epoch, nn_logs *logs)
{
    nn_lua_progress *progress = user;
    lua_State *L = progress->L;
    nn_lua_live_take_stopped(progress);
    if (progress->verbose > 0) {
        nn_text line;
        nn_text_init(&line);
        nn_lua_progress_render(&line, progress, progress->steps, logs, progress->verbose == 2);
        nn_lua_progress_draw(progress, &line, true);
        nn_text_free(&line);
    }
    lua_pushinteger(L, epoch);
    nn_lua_push_logs(L, logs);
    int logs_index = lua_gettop(L);
    lua_pushvalue(L, logs_index);
    lua_insert(L, -3); /* keep a copy of the logs table below the arguments */
    nn_status status = call_callbacks(progress, "on_epoch_end", 2);
    /* Callbacks may change logs (e.g. add lr); copy numbers back into the engine's logs. */
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER)
            nn_logs_set(logs, lua_tostring(L, -2), lua_tonumber(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    nn_lua_push_model_state(L, progress->model_index);
    if (lua_getfield(L, -1, "stop_training") == LUA_TBOOLEAN && lua_toboolean(L, -1)) {
        progress->model->stop_training = true;
        lua_pushboolean(L, 0);
        lua_setfield(L, -3, "stop_training");
    }
    lua_pop(L, 2);
    nn_lua_live_epoch_end(progress, epoch, logs);
    return status;
}

static nn_status on_train_end(void *user, const nn_logs *logs)
{
    nn_lua_progress *progress = user;
    nn_lua_push_logs(progress->L, logs);
    nn_status status = call_callbacks(progress, "on_train_end", 1);
    nn_lua_live_close(progress);
    return status;
}

static void interrupt_lua(lua_State *L, lua_Debug *debug)
{
    (void)debug;
    lua_sethook(L, NULL, 0, 0);
    interrupt_hook_set = 0;
    luaL_error(L, "interrupted (Ctrl-C)");
}

/* Ctrl-C during a loop sets the stop flag, and the loop ends cleanly at the next batch
 * boundary; a second Ctrl-C while a callback's Lua code still runs interrupts that code.
 * The previous handler comes back after the loop. */
static void on_interrupt(int signal_number)
{
    (void)signal_number;
    bool again = *nn_lua_stop_flag() == NN_LUA_STOP_INTERRUPT;
    *nn_lua_stop_flag() = NN_LUA_STOP_INTERRUPT;
    if (again && in_lua_callback && interruptible_state) {
        interrupt_hook_set = 1;
        lua_sethook(interruptible_state, interrupt_lua,
                    LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
    }
}

void nn_lua_guard_interrupts(nn_lua_interrupt_guard *guard, lua_State *L)
{
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    *nn_lua_stop_flag() = NN_LUA_STOP_NONE;
    guard->previous_state = interruptible_state;
    interruptible_state = L;
    sigaction(SIGINT, &action, &guard->previous);
}

void nn_lua_release_interrupts(nn_lua_interrupt_guard *guard)
{
    sigaction(SIGINT, &guard->previous, NULL);
    interruptible_state = guard->previous_state;
}

void nn_lua_progress_init(nn_lua_progress *progress, lua_State *L, nn_model *model, const char *kind,
                          int verbose)
{
    memset(progress, 0, sizeof *progress);
    progress->L = L;
    progress->model = model;
    progress->model_index = 1;
    progress->verbose = verbose;
    progress->terminal = nn_lua_output_is_terminal();
    progress->columns = progress->terminal ? nn_terminal_probe(STDOUT_FILENO).columns : 0;
    progress->error_ref = LUA_NOREF;
    progress->kind = kind;
    progress->epochs = 1;
}

nn_progress nn_lua_progress_hooks(nn_lua_progress *progress)
{
    return (nn_progress){.user = progress,
                         .train_begin = on_train_begin,
                         .epoch_begin = on_epoch_begin,
                         .batch_begin = on_batch_begin,
                         .batch_end = on_batch_end,
                         .epoch_end = on_epoch_end,
                         .train_end = on_train_end,
                         .stop_requested = nn_lua_stop_flag()};
}

/* Re-raises a callback's own error object, or the engine's message. */
void nn_lua_progress_finish(lua_State *L, nn_lua_progress *progress, nn_status status,
                          const char *function)
{
    /* The screen closes (leaving its record) before any error is raised. */
    nn_lua_live_close(progress);
    /* When a message follows (an error, a stop), a bar drawn with \r, or the ^C the
     * terminal echoed, ends its line first, so the message starts a line of its own. A
     * pass that ended well leaves its bar to the caller's final line, which redraws it
     * with \r: ending the line here would leave the bar above the final line, the same
     * numbers twice. */
    bool failing = progress->error_ref != LUA_NOREF || (status != NN_OK && status != NN_ERR_STOPPED);
    bool message_follows = progress->error_ref != LUA_NOREF || status != NN_OK;
    if (progress->terminal && message_follows &&
        (progress->last_width > 0 || (failing && *nn_lua_stop_flag() == NN_LUA_STOP_INTERRUPT))) {
        nn_text newline;
        nn_text_init(&newline);
        nn_text_append(&newline, "\n");
        nn_lua_progress_write(progress, &newline);
        nn_text_free(&newline);
        progress->last_width = 0;
    }
    if (progress->error_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, progress->error_ref);
        luaL_unref(L, LUA_REGISTRYINDEX, progress->error_ref);
        lua_error(L);
    }
    if (status != NN_OK && status != NN_ERR_STOPPED)
        nn_lua_raise(L, function);
}

