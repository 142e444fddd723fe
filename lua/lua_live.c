/* The live training screen of model:fit: when it opens, what it is fed, and the record
 * it leaves in the scrollback when it closes (finished, stopped or failed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_view.h"
#include "lua_progress.h"

static char view_problem[160];

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
        .fd = STDOUT_FILENO,
        .stop_flag = nn_lua_stop_flag(),
    };
    progress->view = nn_live_view_open(&setup, view_problem, sizeof view_problem);
    /* While the screen is up, progress is written as whole lines: they go into the
     * screen's record and come out in the scrollback as a pipe would have them. */
    if (progress->view)
        progress->terminal = false;
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
