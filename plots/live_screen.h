/* The layout of the live training screen as a pure function of its state: what the
 * curses view shows, drawn into a cell grid (so tests can read it as text).
 *
 *  nnsh · fit · "sequential" · 3 layers · 1,234 params                      running
 *
 *  Epoch 2/5  ██████████████████▍                       312/750  ETA 0:04
 *  213 steps/s · 6,816 samples/s · epoch 0:01 · run ETA 0:13
 *  loss 0.3120 · accuracy 0.9012
 *  epoch 1: loss 0.5120 · accuracy 0.8410 · val_loss 0.3340 · val_accuracy 0.9050
 *  [batch loss chart]                  [epoch curves]
 *  Epoch 1/5
 *  750/750 [==============================] - 4s 5ms/step - loss: ...
 *  q stop after this batch   p pause   Ctrl-C stop
 */
#ifndef NN_PLOTS_LIVE_SCREEN_H
#define NN_PLOTS_LIVE_SCREEN_H

#include <stdint.h>

#include "chart.h"
#include "curves.h"
#include "grid.h"

/* Below this the screen shows only the progress lines and asks for more room. */
enum { NN_LIVE_MIN_COLUMNS = 80, NN_LIVE_MIN_LINES = 24 };

typedef struct nn_live_screen {
    const char *model_name;
    long long params;
    int layer_count;
    int epoch, epochs;         /* epoch counts from 1 */
    int64_t step, steps;       /* batches done in this epoch, and per epoch */
    double epoch_seconds;      /* time in this epoch, pauses left out */
    /* Of training time: validation and pauses left out. 0: not known yet. */
    double steps_per_second, samples_per_second;
    double run_eta_seconds;    /* to the end of the last epoch; < 0: not known */
    /* Running means of this epoch. */
    int log_count;
    const char *const *log_names;
    const double *log_values;
    /* The last finished epoch (with its val_ values); last_epoch 0: none yet. */
    int last_epoch;
    int last_count;
    const char *const *last_names;
    const double *last_values;
    /* The smoothed loss of each batch, x in epochs; NULL or empty: none yet. */
    const nn_series *batch_loss;
    /* Per-epoch curves; NULL or no charts: none yet. */
    const nn_curves *curves;
    /* The last lines of the record (epoch lines, callback output), oldest first. */
    const char *const *lines;
    int line_count;
    bool paused, stopping;
    bool validating; /* the epoch's batches are done and its validation runs */
    bool keys; /* the keyboard can be read */
} nn_live_screen;

/* Draws the whole screen into grid (its size is the terminal's). */
void nn_live_screen_draw(nn_grid *grid, const nn_live_screen *screen, nn_charset charset);

#endif
