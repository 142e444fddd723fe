/* The live training screen in ncurses: it owns the terminal between the start and the
 * end of a fit, reads the keys q (stop after this batch) and p (pause), redraws on
 * resize and at most a few times a second, and on closing hands back a plain record
 * (everything written to standard output meanwhile, then the final charts) for the
 * normal scrollback.
 *
 *     char why[128];
 *     nn_live_view *view = nn_live_view_open(&setup, why, sizeof why);
 *     if (!view) ... plain lines instead; why says what was missing
 *     for each epoch: nn_live_view_epoch_begin(view, epoch);
 *         for each batch: nn_live_view_batch_begin(view);
 *                         nn_live_result r = nn_live_view_batch(view, step, n, names, values);
 *         nn_live_view_batches_done(view);   // then the epoch's validation, if any
 *         nn_live_view_epoch_end(view, epoch, n, names, values);
 *     nn_text record; nn_text_init(&record);
 *     nn_live_view_close(view, &record);  // then write record to standard output
 *
 * While the screen is open, standard output is redirected into the record (so callback
 * output cannot tear the screen) and shown in its last lines; the screen itself draws on
 * its own descriptor of the terminal. */
#ifndef NN_PLOTS_LIVE_VIEW_H
#define NN_PLOTS_LIVE_VIEW_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "text.h"

typedef struct nn_live_view nn_live_view;

typedef struct nn_live_setup {
    const char *model_name;
    long long params;
    int layer_count;
    int epochs;          /* epochs are numbered up to this (Keras' epochs) */
    int64_t steps;       /* batches per epoch */
    int64_t batch_size;
    int64_t samples;     /* training samples per epoch */
    /* Epochs validate when (epoch + 1) % validation_freq == 0 (epoch from 0, as the
     * engine counts); 0: the fit has no validation data. */
    int validation_freq;
    int fd;              /* the terminal to draw on: standard output */
    volatile sig_atomic_t *stop_flag; /* Ctrl-C sets it; a pause ends when it is set */
} nn_live_setup;

/* What a batch's keys asked for. */
typedef struct nn_live_result {
    bool stop;             /* q: stop after this batch */
    double paused_seconds; /* time spent paused in this call (leave it out of timings) */
} nn_live_result;

typedef struct nn_live_stats {
    long frames;          /* screens drawn */
    double draw_seconds;  /* spent drawing them (rendering and terminal output) */
    double open_seconds;  /* the screen was open this long */
} nn_live_stats;

/* Opens the screen when fd is a capable terminal of at least 80x24 and ncurses starts;
 * otherwise returns NULL with the reason in why. */
nn_live_view *nn_live_view_open(const nn_live_setup *setup, char *why, size_t why_size);
/* epoch counts from 0. */
void nn_live_view_epoch_begin(nn_live_view *view, int epoch);
/* After each batch: step counts from 1 within the epoch; logs are the running means. */
nn_live_result nn_live_view_batch(nn_live_view *view, int64_t step, int log_count,
                                  const char *const *names, const double *values);
/* Before each batch. Speeds and ETAs count training time only: the time since the
 * previous epoch's batches were done (validation, epoch callbacks), or since the screen
 * opened, ends here and is left out, as pauses are. */
void nn_live_view_batch_begin(nn_live_view *view);
/* After the callbacks of an epoch's last batch (or of the batch a callback ended the
 * epoch at): time stops counting as training time until the next batch begins. When the
 * epoch validates the status says so, drawn at once: no call comes while the engine
 * validates, so this frame stays up until the epoch ends. */
void nn_live_view_batches_done(nn_live_view *view);
/* Seconds the process stood stopped (Ctrl-Z, SIGSTOP) since the last call or batch, to
 * leave out of the timings the caller keeps (the epoch line's time and ms/step), as a
 * pause is; the view leaves them out of its own. */
double nn_live_view_take_stopped(nn_live_view *view);
/* The epoch's final logs (with val_ values): they extend the epoch curves. */
void nn_live_view_epoch_end(nn_live_view *view, int epoch, int log_count,
                            const char *const *names, const double *values);
nn_live_stats nn_live_view_stats(const nn_live_view *view);
/* A callback is about to read the keyboard (io.read): the screen is cleared and shows
 * the output's last line (the question), in the shell's modes (echo, whole lines), with
 * Ctrl-Z and resizes left to the terminal. The screen comes back with
 * nn_live_view_reclaim_terminal, which adds what was read (`answer`, may be NULL) to the
 * record after the question, as a terminal would show it; or, without an answer, at the
 * next batch, epoch or close (a read that raised an error never reclaims it itself).
 * Standard output stays captured throughout. */
void nn_live_view_lend_terminal(nn_live_view *view);
void nn_live_view_reclaim_terminal(nn_live_view *view, const char *answer, size_t length);
/* Gives the terminal back (modes, signal handlers, standard output, locale) and
 * appends the record to `record`: the captured output, then the epoch charts. */
void nn_live_view_close(nn_live_view *view, nn_text *record);

#endif
