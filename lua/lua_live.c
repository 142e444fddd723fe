/* The live training screen of model:fit: when it opens, what it is fed, and the record
 * it leaves in the scrollback when it closes (finished, stopped or failed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "live_view.h"
#include "lua_progress.h"

static char view_problem[160];

/* ---- callbacks that read the keyboard ----
 * While the screen is up the terminal reads single keys without echo, so io.read in a
 * callback ("go on? [y/n]") would wait for a line that never ends. For the length of the
 * view, io.read, io.lines and the read and lines methods of files are wrapped: reading a
 * terminal lends it back (the shell's modes, the question shown), and the screen returns
 * once the answer is read. */

static nn_live_view *lending_view; /* the open view, while the wrappers are in place */
static const char *const wrapped_reads_key = "nnsh.wrapped_reads";

static bool is_terminal_file(lua_State *L, int index)
{
    luaL_Stream *stream = luaL_testudata(L, index, LUA_FILEHANDLE);
    return stream && stream->closef && stream->f && isatty(fileno(stream->f));
}

/* The file a wrapped function reads: its first argument (file:read, file:lines), or the
 * default input (io.read, and io.lines without a file name). */
static bool reads_terminal(lua_State *L, bool default_input, bool lines)
{
    if (!default_input)
        return is_terminal_file(L, 1);
    if (lines && !lua_isnoneornil(L, 1))
        return false; /* io.lines(file name): a file, not the keyboard */
    lua_getfield(L, LUA_REGISTRYINDEX, "_IO_input"); /* liolib's default input */
    bool terminal = is_terminal_file(L, -1);
    lua_pop(L, 1);
    return terminal;
}

/* The screen comes back, and the record gets the first value read as the terminal
 * showed it (a line, a number). */
static void reclaim_with_answer(lua_State *L, nn_live_view *view, int first_result)
{
    size_t length = 0;
    const char *answer = NULL;
    if (first_result <= lua_gettop(L) && (lua_type(L, first_result) == LUA_TSTRING ||
                                          lua_type(L, first_result) == LUA_TNUMBER)) {
        lua_pushvalue(L, first_result); /* a copy: tolstring would convert a number */
        answer = lua_tolstring(L, -1, &length);
    }
    nn_live_view_reclaim_terminal(view, answer, length);
    if (answer)
        lua_pop(L, 1);
}

/* A wrapped lines iterator: upvalue 1 is the original iterator. */
static int lend_while_iterating(lua_State *L)
{
    nn_live_view *view = lending_view;
    nn_live_view_lend_terminal(view);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    reclaim_with_answer(L, view, 1);
    return lua_gettop(L);
}

/* Upvalue 1: the original C function (without upvalues, so it runs in this call);
 * upvalue 2: true when it reads the default input; upvalue 3: true for lines. An error
 * in the original leaves the terminal lent: the view takes it back at its next batch. */
static int lend_while_reading(lua_State *L)
{
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    bool default_input = lua_toboolean(L, lua_upvalueindex(2));
    bool lines = lua_toboolean(L, lua_upvalueindex(3));
    bool terminal = lending_view && reads_terminal(L, default_input, lines);
    if (!terminal)
        return original(L);
    if (lines) {
        int results = original(L);
        int iterator = lua_gettop(L) - results + 1;
        lua_pushvalue(L, iterator);
        lua_pushcclosure(L, lend_while_iterating, 1);
        lua_replace(L, iterator);
        return results;
    }
    nn_live_view *view = lending_view;
    nn_live_view_lend_terminal(view);
    int results = original(L);
    reclaim_with_answer(L, view, lua_gettop(L) - results + 1);
    return results;
}

/* What is wrapped: io.read and io.lines read the default input (io.lines without a file
 * name), the methods of files their file. */
enum { IO_TABLE, FILE_METHODS };
static const struct {
    int table;
    const char *name;
    bool lines;
} wrapped_reads[] = {
    {IO_TABLE, "read", false},
    {IO_TABLE, "lines", true},
    {FILE_METHODS, "read", false},
    {FILE_METHODS, "lines", true},
};

/* Pushes io and the methods table of files (nil where missing: no io library). */
static void push_read_tables(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, LUA_IOLIBNAME);
    lua_remove(L, -2);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    luaL_getmetatable(L, LUA_FILEHANDLE);
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "__index");
    else
        lua_pushnil(L);
    lua_remove(L, -2);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Swaps each read function for a wrapper, keeping wrapper -> original in a registry
 * table: only a wrapper still in place is swapped back. A function the program replaced
 * already (not a plain C function) is left alone. */
static void wrap_reads(lua_State *L, nn_live_view *view)
{
    if (lending_view || !lua_checkstack(L, 8))
        return;
    push_read_tables(L);
    int tables = lua_gettop(L) - 1; /* io, then the methods */
    lua_newtable(L);
    int originals = lua_gettop(L);
    for (size_t i = 0; i < sizeof wrapped_reads / sizeof wrapped_reads[0]; i++) {
        int table = tables + wrapped_reads[i].table;
        if (!lua_istable(L, table))
            continue;
        lua_pushstring(L, wrapped_reads[i].name);
        lua_rawget(L, table);
        bool plain_c = lua_iscfunction(L, -1);
        if (plain_c && lua_getupvalue(L, -1, 1)) {
            lua_pop(L, 1);
            plain_c = false;
        }
        if (!plain_c) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        lua_pushboolean(L, wrapped_reads[i].table == IO_TABLE);
        lua_pushboolean(L, wrapped_reads[i].lines);
        lua_pushcclosure(L, lend_while_reading, 3); /* original, wrapper */
        lua_pushstring(L, wrapped_reads[i].name);
        lua_pushvalue(L, -2);
        lua_rawset(L, table);
        lua_insert(L, -2);
        lua_rawset(L, originals);
    }
    lua_setfield(L, LUA_REGISTRYINDEX, wrapped_reads_key);
    lua_pop(L, 2);
    lending_view = view;
}

static void unwrap_reads(lua_State *L)
{
    if (!lending_view)
        return;
    lending_view = NULL;
    if (!lua_checkstack(L, 8))
        return;
    push_read_tables(L);
    int tables = lua_gettop(L) - 1;
    lua_getfield(L, LUA_REGISTRYINDEX, wrapped_reads_key);
    int originals = lua_gettop(L);
    size_t count = lua_istable(L, originals) ? sizeof wrapped_reads / sizeof wrapped_reads[0] : 0;
    for (size_t i = 0; i < count; i++) {
        int table = tables + wrapped_reads[i].table;
        if (!lua_istable(L, table))
            continue;
        lua_pushstring(L, wrapped_reads[i].name);
        lua_pushvalue(L, -1);
        lua_rawget(L, table);
        if (lua_rawget(L, originals) == LUA_TNIL)
            lua_pop(L, 2); /* not our wrapper any more */
        else
            lua_rawset(L, table);
    }
    lua_pop(L, 3);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, wrapped_reads_key);
}

const char *nn_lua_live_view_problem(void) { return view_problem; }

/* The view needs the batch size for samples/s and for the loss of each batch. */
static int64_t fit_batch_size(const nn_lua_progress *progress, int64_t samples)
{
    int64_t batch = progress->batch_size > 0 ? progress->batch_size : 32;
    if (batch > samples)
        batch = samples;
    return batch > 0 ? batch : 1;
}

void nn_lua_live_open(nn_lua_progress *progress, int epochs, int64_t steps, int64_t samples)
{
    view_problem[0] = '\0';
    if (progress->verbose != 1 || strcmp(progress->kind, "fit") != 0)
        return;
    if (!progress->terminal) {
        snprintf(view_problem, sizeof view_problem, "the output is not a terminal");
        return;
    }
    const char *setting = getenv("NNSH_LIVE");
    if (setting && strcmp(setting, "0") == 0) {
        snprintf(view_problem, sizeof view_problem, "NNSH_LIVE=0 asks for plain lines");
        return;
    }
    nn_model *model = progress->model;
    nn_live_setup setup = {
        .model_name = model->name,
        .params = (long long)(nn_model_count_params(model, true) +
                              nn_model_count_params(model, false)),
        .layer_count = model->layer_count,
        .epochs = epochs,
        .steps = steps,
        .batch_size = fit_batch_size(progress, samples),
        .samples = samples,
        .validation_freq = progress->validation_freq,
        .fd = STDOUT_FILENO,
        .stop_flag = nn_lua_stop_flag(),
    };
    progress->view = nn_live_view_open(&setup, view_problem, sizeof view_problem);
    /* While the screen is up, progress is written as whole lines: they go into the
     * screen's record and come out in the scrollback as a pipe would have them. */
    if (progress->view) {
        progress->terminal = false;
        /* Only Lua callbacks can read the keyboard during a fit. */
        if (progress->callbacks_index)
            wrap_reads(progress->L, progress->view);
    }
}

void nn_lua_live_epoch_begin(nn_lua_progress *progress, int epoch)
{
    progress->epoch_open = true;
    progress->last_step = 0;
    if (progress->view)
        nn_live_view_epoch_begin(progress->view, epoch);
}

static void log_names(const nn_logs *logs, const char *names[NN_MAX_LOGS])
{
    for (int i = 0; i < logs->count && i < NN_MAX_LOGS; i++)
        names[i] = logs->names[i];
}

void nn_lua_live_batch_begin(nn_lua_progress *progress)
{
    if (progress->view)
        nn_live_view_batch_begin(progress->view);
}

void nn_lua_live_batches_done(nn_lua_progress *progress)
{
    if (progress->view)
        nn_live_view_batches_done(progress->view);
}

void nn_lua_live_batch(nn_lua_progress *progress, int64_t step, const nn_logs *logs)
{
    progress->last_step = step;
    if (!progress->view || !logs)
        return;
    progress->last_logs = *logs;
    const char *names[NN_MAX_LOGS];
    log_names(logs, names);
    nn_live_result result = nn_live_view_batch(progress->view, step, logs->count, names,
                                               logs->values);
    if (result.stop)
        *nn_lua_stop_flag() = NN_LUA_STOP_KEY;
    /* Time spent paused is not training time: ETA and ms/step leave it out. */
    progress->pass_start += result.paused_seconds;
}

void nn_lua_live_take_stopped(nn_lua_progress *progress)
{
    if (progress->view)
        progress->pass_start += nn_live_view_take_stopped(progress->view);
}

void nn_lua_live_epoch_end(nn_lua_progress *progress, int epoch, const nn_logs *logs)
{
    progress->epoch_open = false;
    if (!progress->view)
        return;
    const char *names[NN_MAX_LOGS];
    log_names(logs, names);
    nn_live_view_epoch_end(progress->view, epoch, logs->count, names, logs->values);
}

void nn_lua_live_close(nn_lua_progress *progress)
{
    nn_live_view *view = progress->view;
    if (!view)
        return;
    if (progress->epoch_open && progress->last_step > 0) {
        /* Stopped inside an epoch: the record keeps where it stopped. */
        nn_text line;
        nn_text_init(&line);
        nn_lua_progress_render(&line, progress, progress->last_step, &progress->last_logs, false);
        nn_text_append(&line, "\n");
        nn_lua_progress_write(progress, &line);
        nn_text_free(&line);
    }
    nn_live_stats stats = nn_live_view_stats(view);
    nn_text record;
    nn_text_init(&record);
    if (lending_view == view)
        unwrap_reads(progress->L);
    nn_live_view_close(view, &record);
    progress->view = NULL;
    progress->terminal = true;
    const char *show_stats = getenv("NNSH_LIVE_STATS");
    if (show_stats && *show_stats && strcmp(show_stats, "0") != 0)
        nn_text_printf(&record, "live view: %ld frames, %.1f ms drawing in %.2f s (%.3f%%)\n",
                       stats.frames, stats.draw_seconds * 1e3, stats.open_seconds,
                       stats.open_seconds > 0 ? 100.0 * stats.draw_seconds / stats.open_seconds
                                              : 0.0);
    nn_lua_progress_write(progress, &record);
    nn_text_free(&record);
}
