/* The live training screen: ncurses on its own descriptor of the terminal, throttled
 * redraws, keys, and a clean hand-back of the terminal. */
#include "live_view.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "curves.h"
#include "figure.h"
#include "live_screen.h"
#include "terminal.h"

enum {
    MAX_KEYS = 24,          /* log names kept per epoch */
    KEY_SIZE = 48,
    BATCH_POINTS = 1024,    /* the batch-loss chart keeps at most this many points */
    RECENT = 3,
    RECENT_SIZE = 512,
    FIGURE_MAX_WIDTH = 120,
};

/* Redraws are at least this far apart, and far enough apart that drawing takes under
 * 0.5% of the time (each draw measures itself). */
static const double min_draw_interval = 0.25;
static const double draw_budget = 0.005;
static const double key_poll_interval = 0.05;

static const int handled_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGTSTP, SIGWINCH, SIGCONT};
enum { SIGNAL_COUNT = sizeof handled_signals / sizeof handled_signals[0] };

struct nn_live_view {
    nn_live_setup setup;
    char model_name[64];

    /* The terminal: a screen on duplicated descriptors, the keyboard if it can be read. */
    SCREEN *screen;
    FILE *out, *in;
    bool keys;
    nn_charset charset;
    bool color;
    attr_t style_attributes[NN_STYLE_COUNT];
    char *saved_locale;
    struct sigaction saved_signals[SIGNAL_COUNT];
    nn_grid grid, shown; /* this frame, and the last one handed to curses */

    /* Standard output goes to a temporary file while the screen is open. */
    int saved_stdout;      /* -1 when not redirected */
    int saved_stderr;      /* the same for standard error, taken when it is a terminal */
    FILE *capture;
    long captured;         /* bytes of the capture already in the transcript */
    nn_text transcript;
    char recent[RECENT][RECENT_SIZE];
    const char *recent_pointers[RECENT];
    int recent_count;

    /* Progress. */
    int epoch;             /* from 0 */
    int64_t step;
    double opened_at, epoch_start, epoch_paused;
    double last_draw, last_poll, draw_interval;
    long frames;
    double draw_seconds;
    bool paused, stopping;
    bool lent;             /* the terminal is lent to a callback reading the keyboard */
    struct sigaction lent_stop_action, lent_resize_action; /* ncurses', while lent */
    double pause_started, paused_total;
    /* Ctrl-Z and fg: the time stopped is left out of the timings as a pause is. Ctrl-Z's
     * moment is noted on the way to ncurses' handler; a stop no handler sees (SIGSTOP)
     * began after the last batch the view saw, at last_alive. pending_paused holds a
     * stop outside the batches until the next batch reports it. */
    double last_alive, pending_paused;
    /* Training time leaves out, besides pauses, the time outside the batches: before the
     * first batch, and from the end of an epoch's batches to the next batch (validation,
     * epoch callbacks). Otherwise a long validation reads as slow training. */
    bool outside_batches;
    double outside_started, outside_total;
    /* The epoch's batches are done and it validates; the validations measured so far
     * (each up to the epoch's end, so with its epoch-end callbacks), for the run ETA. */
    bool validating;
    double validation_seconds;
    int validations;
    /* Throughput: batches per second of training time, smoothed between redraws (it
     * spans epoch boundaries, so short epochs still get a speed). rate_time is the
     * training time of the last sample. */
    int64_t total_steps, rate_steps;
    double rate, rate_time;
    bool rate_sampled;
    int log_count;
    char log_names[MAX_KEYS][KEY_SIZE];
    const char *log_name_pointers[MAX_KEYS];
    double log_values[MAX_KEYS];

    /* The smoothed loss of each batch; when the buffer fills, neighbours merge, so a
     * point stands for `bucket` batches. */
    double previous_mean;
    int64_t previous_seen;
    double ema, ema_decay, ema_weight;
    double batch_x[BATCH_POINTS], batch_y[BATCH_POINTS];
    int batch_count, bucket;
    double pending_x, pending_y;
    int pending;
    nn_series batch_series;

    /* Per-epoch logs, one column per key. */
    int key_count;
    char keys_names[MAX_KEYS][KEY_SIZE];
    const char *key_pointers[MAX_KEYS];
    double *columns[MAX_KEYS];
    double *epoch_numbers;
    int epoch_count, epoch_capacity;
    double last_values[MAX_KEYS];
    nn_curves curves;
};

static nn_live_view *open_view; /* for the exit handler */

static double seconds_of(const struct timespec *ts)
{
    return (double)ts->tv_sec + (double)ts->tv_nsec * 1e-9;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return seconds_of(&ts);
}

/* When the process was last stopped with Ctrl-Z and continued (SIGCONT), for the view
 * to read; clock_gettime is async-signal-safe. */
static volatile sig_atomic_t continued, stop_seen;
static struct timespec continued_at, stopped_at;
static struct sigaction curses_stop_action; /* ncurses' own Ctrl-Z handler */

static void on_continue(int signal_number)
{
    (void)signal_number;
    clock_gettime(CLOCK_MONOTONIC, &continued_at);
    continued = 1;
}

/* Ctrl-Z: its moment, then what ncurses does (the screen put away, the process stopped,
 * the screen back on fg). */
static void on_stop(int signal_number)
{
    clock_gettime(CLOCK_MONOTONIC, &stopped_at);
    stop_seen = 1;
    if (!(curses_stop_action.sa_flags & SA_SIGINFO) &&
        curses_stop_action.sa_handler != SIG_DFL && curses_stop_action.sa_handler != SIG_IGN)
        curses_stop_action.sa_handler(signal_number);
    else
        raise(SIGSTOP);
}

/* Seconds the process was stopped since the view last looked, or 0. */
static double take_stopped_time(nn_live_view *view)
{
    if (!continued)
        return 0.0;
    double from = stop_seen ? seconds_of(&stopped_at) : view->last_alive;
    double to = seconds_of(&continued_at);
    continued = stop_seen = 0;
    return to > from ? to - from : 0.0;
}

/* ---- standard output capture ---- */

static void capture_begin(nn_live_view *view)
{
    view->saved_stdout = -1;
    fflush(stdout);
    view->capture = tmpfile();
    if (!view->capture)
        return;
    view->saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (view->saved_stdout < 0 || dup2(fileno(view->capture), STDOUT_FILENO) < 0) {
        if (view->saved_stdout >= 0)
            close(view->saved_stdout);
        view->saved_stdout = -1;
        fclose(view->capture);
        view->capture = NULL;
        return;
    }
    /* Warnings written to a terminal's standard error would land in the middle of the
     * screen and be gone with it: they join the record, in the order written (both
     * descriptors share the capture's offset). Redirected elsewhere, they stay there. */
    view->saved_stderr = -1;
    if (isatty(STDERR_FILENO)) {
        fflush(stderr);
        view->saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (view->saved_stderr >= 0 && dup2(fileno(view->capture), STDERR_FILENO) < 0) {
            close(view->saved_stderr);
            view->saved_stderr = -1;
        }
    }
}

/* Keeps the last lines of the transcript for the screen (text after a \r wins, as on a
 * terminal). */
static void update_recent(nn_live_view *view)
{
    const char *data = view->transcript.data;
    size_t end = view->transcript.length;
    view->recent_count = 0;
    char lines[RECENT][RECENT_SIZE];
    int found = 0;
    while (end > 0 && found < RECENT) {
        size_t start = end;
        while (start > 0 && data[start - 1] != '\n')
            start--;
        size_t length = end - start;
        const char *line = data + start;
        for (size_t i = 0; i < length; i++)
            if (line[i] == '\r' && i + 1 < length)
                line = data + start + i + 1, length = end - (start + i + 1);
        while (length > 0 && (line[length - 1] == '\r' || line[length - 1] == '\n'))
            length--;
        if (length > 0) {
            if (length >= RECENT_SIZE)
                length = RECENT_SIZE - 1;
            memcpy(lines[found], line, length);
            lines[found][length] = '\0';
            found++;
        }
        end = start > 0 ? start - 1 : 0;
    }
    for (int i = 0; i < found; i++)
        strcpy(view->recent[i], lines[found - 1 - i]);
    view->recent_count = found;
}

static void capture_drain(nn_live_view *view)
{
    if (!view->capture)
        return;
    fflush(stdout);
    char buffer[4096];
    bool any = false;
    for (;;) {
        ssize_t n = pread(fileno(view->capture), buffer, sizeof buffer, view->captured);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        nn_text_append_n(&view->transcript, buffer, (size_t)n);
        view->captured += n;
        any = true;
    }
    if (any)
        update_recent(view);
}

static void capture_end(nn_live_view *view)
{
    fflush(stderr);
    capture_drain(view);
    if (view->saved_stdout >= 0) {
        fflush(stdout);
        dup2(view->saved_stdout, STDOUT_FILENO);
        close(view->saved_stdout);
        view->saved_stdout = -1;
    }
    if (view->saved_stderr >= 0) {
        dup2(view->saved_stderr, STDERR_FILENO);
        close(view->saved_stderr);
        view->saved_stderr = -1;
    }
    if (view->capture) {
        fclose(view->capture);
        view->capture = NULL;
    }
}

/* ---- drawing ---- */

static void set_styles(nn_live_view *view)
{
    attr_t *a = view->style_attributes;
    for (int i = 0; i < NN_STYLE_COUNT; i++)
        a[i] = A_NORMAL;
    a[NN_STYLE_TITLE] = A_BOLD;
    a[NN_STYLE_DIM] = A_DIM;
    a[NN_STYLE_KEYS] = A_REVERSE;
    a[NN_STYLE_WARNING] = A_BOLD;
    if (!view->color)
        return;
    start_color();
    short background = use_default_colors() == OK ? -1 : COLOR_BLACK;
    static const short colors[NN_SERIES_STYLES] = {COLOR_CYAN, COLOR_YELLOW, COLOR_GREEN,
                                                   COLOR_MAGENTA, COLOR_RED, COLOR_BLUE};
    for (short i = 0; i < NN_SERIES_STYLES; i++) {
        init_pair((short)(i + 1), colors[i], background);
        a[NN_STYLE_SERIES_1 + i] = COLOR_PAIR(i + 1);
    }
    a[NN_STYLE_BAR] = COLOR_PAIR(1);
    a[NN_STYLE_WARNING] = A_BOLD | COLOR_PAIR(2);
}

/* Seconds of training up to t: the clock stops during pauses and outside the batches. */
static double training_seconds(const nn_live_view *view, double t)
{
    double end = view->paused ? view->pause_started
                 : view->outside_batches ? view->outside_started
                                         : t;
    return end - view->opened_at - view->paused_total - view->outside_total;
}

static bool epoch_validates(const nn_live_view *view, int epoch)
{
    int every = view->setup.validation_freq;
    return every > 0 && (epoch + 1) % every == 0;
}

/* The validation still to come, from the mean of those measured: the run ETA adds it, so
 * that it counts down to the real end. 0 until one is measured (the run ETA is then
 * training only). */
static double validation_to_come(const nn_live_view *view, double t)
{
    if (view->validations == 0)
        return 0;
    double mean = view->validation_seconds / view->validations;
    int count = 0;
    for (int e = view->epoch + 1; e < view->setup.epochs; e++)
        count += epoch_validates(view, e);
    double seconds = mean * count;
    if (view->validating)
        seconds += fmax(0, mean - (t - view->outside_started));
    else if (epoch_validates(view, view->epoch) && view->step < view->setup.steps)
        seconds += mean;
    return seconds;
}

static void fill_screen(nn_live_view *view, nn_live_screen *s)
{
    double t = now();
    double elapsed = t - view->epoch_start - view->epoch_paused;
    if (view->paused)
        elapsed = view->pause_started - view->epoch_start - view->epoch_paused;
    const nn_live_setup *setup = &view->setup;
    *s = (nn_live_screen){
        .model_name = view->model_name,
        .params = setup->params,
        .layer_count = setup->layer_count,
        .epoch = view->epoch + 1,
        .epochs = setup->epochs,
        .step = view->step,
        .steps = setup->steps,
        .epoch_seconds = elapsed > 0 ? elapsed : 0,
        .run_eta_seconds = -1,
        .log_count = view->log_count,
        .log_names = view->log_name_pointers,
        .log_values = view->log_values,
        .batch_loss = view->batch_count + view->pending > 0 ? &view->batch_series : NULL,
        .curves = view->curves.count > 0 ? &view->curves : NULL,
        .paused = view->paused,
        .stopping = view->stopping,
        .validating = view->validating,
        .keys = view->keys,
    };
    /* Samples are taken on the training clock, which stands while paused and outside
     * the batches: a sample that spans a validation counts only the batches' time. */
    double training = training_seconds(view, t);
    if (view->rate_sampled && training - view->rate_time >= 0.2) {
        double instant = (double)(view->total_steps - view->rate_steps) /
                         (training - view->rate_time);
        view->rate = view->rate > 0 ? 0.6 * view->rate + 0.4 * instant : instant;
    }
    if (!view->rate_sampled || training - view->rate_time >= 0.2) {
        view->rate_sampled = true;
        view->rate_time = training;
        view->rate_steps = view->total_steps;
    }
    double rate = view->rate;
    if (rate <= 0 && view->total_steps > 0 && training > 0.05)
        rate = (double)view->total_steps / training;
    if (rate > 0) {
        s->steps_per_second = rate;
        s->samples_per_second =
            rate * (double)setup->samples / (double)(setup->steps > 0 ? setup->steps : 1);
        s->run_eta_seconds = ((double)(setup->steps - view->step) +
                              (double)setup->steps * (double)(setup->epochs - view->epoch - 1)) /
                                 rate +
                             validation_to_come(view, t);
    }
    if (view->epoch_count > 0) {
        int last = view->epoch_count - 1;
        for (int k = 0; k < view->key_count; k++)
            view->last_values[k] = view->columns[k][last];
        s->last_epoch = (int)view->epoch_numbers[last];
        s->last_count = view->key_count;
        s->last_names = view->key_pointers;
        s->last_values = view->last_values;
    }
    for (int i = 0; i < view->recent_count; i++)
        view->recent_pointers[i] = view->recent[i];
    s->lines = view->recent_pointers;
    s->line_count = view->recent_count;
}

/* Whether the terminal is no longer the size curses draws for; *size gets its size. */
static bool size_changed(nn_live_view *view, struct winsize *size)
{
    return ioctl(fileno(view->out), TIOCGWINSZ, size) == 0 && size->ws_col > 0 &&
           size->ws_row > 0 && (size->ws_col != COLS || size->ws_row != LINES);
}

static void follow_terminal_size(nn_live_view *view)
{
    struct winsize size;
    if (size_changed(view, &size)) {
        resizeterm(size.ws_row, size.ws_col);
        clearok(curscr, TRUE);
    }
}

static bool same_cell(const nn_cell *a, const nn_cell *b)
{
    return a->style == b->style && a->wide_tail == b->wide_tail && strcmp(a->glyph, b->glyph) == 0;
}

static void draw(nn_live_view *view, bool full)
{
    double start = now();
    capture_drain(view);
    follow_terminal_size(view);
    int width = COLS, height = LINES;
    if (view->grid.width != width || view->grid.height != height) {
        nn_grid_free(&view->grid);
        nn_grid_free(&view->shown);
        if (!nn_grid_init(&view->grid, width, height) ||
            !nn_grid_init(&view->shown, width, height))
            return;
        full = true;
    } else {
        memset(view->grid.cells, 0, sizeof *view->grid.cells * (size_t)width * (size_t)height);
    }
    nn_live_screen screen;
    fill_screen(view, &screen);
    nn_live_screen_draw(&view->grid, &screen, view->charset);
    /* Only cells that changed since the last frame go to curses: most of a frame (axes,
     * labels, the older part of the charts) stays the same. */
    attr_t current = A_NORMAL;
    wattrset(stdscr, current);
    /* A full frame repaints the window, and the bottom-right cell, which is never written,
     * would otherwise show whatever the window held there before: after a resize, a
     * character of the old frame. */
    if (full)
        werase(stdscr);
    for (int y = 0; y < height; y++) {
        bool placed = false;
        for (int x = 0; x < width; x++) {
            size_t at = (size_t)y * (size_t)width + (size_t)x;
            const nn_cell *cell = &view->grid.cells[at];
            /* The bottom-right cell cannot be written without scrolling: leave it. */
            if ((!full && same_cell(cell, &view->shown.cells[at])) ||
                (y == height - 1 && x == width - 1)) {
                placed = false;
                continue;
            }
            if (cell->wide_tail) {
                /* Drawn with its character, which moved the cursor past it; a tail whose
                 * character is unchanged was placed with it before. */
                view->shown.cells[at] = *cell;
                continue;
            }
            attr_t attributes = view->style_attributes[cell->style < NN_STYLE_COUNT ? cell->style : 0];
            if (attributes != current) {
                wattrset(stdscr, attributes);
                current = attributes;
            }
            if (!placed)
                wmove(stdscr, y, x);
            waddstr(stdscr, cell->glyph[0] ? cell->glyph : " ");
            placed = true;
            view->shown.cells[at] = *cell;
        }
    }
    wattrset(stdscr, A_NORMAL);
    if (full)
        clearok(curscr, TRUE);
    wnoutrefresh(stdscr);
    doupdate();
    double end = now();
    view->last_draw = end;
    view->frames++;
    view->draw_seconds += end - start;
    view->draw_interval = fmax(min_draw_interval, (end - start) / draw_budget);
}

/* Epochs can be shorter than a frame: their boundaries redraw only when a frame is due. */
static void draw_if_due(nn_live_view *view)
{
    if (now() - view->last_draw >= view->draw_interval)
        draw(view, false);
}

/* ---- keys ---- */

static void pause_until_resumed(nn_live_view *view, nn_live_result *result)
{
    double started = now();
    view->pause_started = started;
    view->paused = true;
    draw(view, false);
    wtimeout(stdscr, 200);
    struct winsize size;
    while (view->paused) {
        int key = wgetch(stdscr);
        if (view->setup.stop_flag && *view->setup.stop_flag) {
            view->paused = false;
            view->stopping = true;
        } else if (key == 'p' || key == 'P' || key == ' ') {
            view->paused = false;
        } else if (key == 'q' || key == 'Q') {
            view->paused = false;
            view->stopping = true;
            result->stop = true;
        } else if (key == KEY_RESIZE || (key == ERR && size_changed(view, &size))) {
            /* In the shell SIGWINCH is the shell's, and curses sends no KEY_RESIZE: the
             * size is looked at on every wait instead. */
            draw(view, true);
        }
    }
    nodelay(stdscr, TRUE);
    take_stopped_time(view); /* a Ctrl-Z while paused is inside the pause */
    double paused = now() - started;
    result->paused_seconds += paused;
    view->epoch_paused += paused;
    view->paused_total += paused;
    draw(view, false);
}

static void read_keys(nn_live_view *view, nn_live_result *result)
{
    int key;
    while ((key = wgetch(stdscr)) != ERR) {
        if (key == 'q' || key == 'Q') {
            view->stopping = true;
            result->stop = true;
            draw(view, false);
        } else if (key == 'p' || key == 'P' || key == ' ') {
            pause_until_resumed(view, result);
        } else if (key == KEY_RESIZE) {
            draw(view, true);
        }
    }
}

/* ---- the data ---- */

static void add_batch_point(nn_live_view *view, double x, double y)
{
    view->pending_x += x;
    view->pending_y += y;
    view->pending++;
    if (view->pending < view->bucket)
        return;
    if (view->batch_count == BATCH_POINTS) {
        /* Full: every two neighbours become one, and later points stand for twice as
         * many batches. */
        for (int i = 0; i < BATCH_POINTS / 2; i++) {
            view->batch_x[i] = (view->batch_x[2 * i] + view->batch_x[2 * i + 1]) / 2;
            view->batch_y[i] = (view->batch_y[2 * i] + view->batch_y[2 * i + 1]) / 2;
        }
        view->batch_count = BATCH_POINTS / 2;
        view->bucket *= 2;
    }
    view->batch_x[view->batch_count] = view->pending_x / view->pending;
    view->batch_y[view->batch_count] = view->pending_y / view->pending;
    view->batch_count++;
    view->pending = 0;
    view->pending_x = view->pending_y = 0;
    view->batch_series.count = view->batch_count;
}

/* The loss of the batch just done, from the running means before and after it. */
static void record_batch_loss(nn_live_view *view, double mean)
{
    const nn_live_setup *setup = &view->setup;
    int64_t seen = view->step * setup->batch_size;
    if (seen > setup->samples)
        seen = setup->samples;
    int64_t batch = seen - view->previous_seen;
    if (batch <= 0 || !isfinite(mean))
        return;
    double loss = (mean * (double)seen - view->previous_mean * (double)view->previous_seen) /
                  (double)batch;
    view->previous_mean = mean;
    view->previous_seen = seen;
    view->ema = view->ema_decay * view->ema + (1 - view->ema_decay) * loss;
    view->ema_weight = view->ema_decay * view->ema_weight + (1 - view->ema_decay);
    double x = view->epoch + (double)view->step / (double)(setup->steps > 0 ? setup->steps : 1);
    add_batch_point(view, x, view->ema / view->ema_weight);
}

static int key_index(nn_live_view *view, const char *name)
{
    for (int k = 0; k < view->key_count; k++)
        if (strcmp(view->keys_names[k], name) == 0)
            return k;
    if (view->key_count == MAX_KEYS)
        return -1;
    int k = view->key_count;
    double *column = malloc(sizeof *column * (size_t)(view->epoch_capacity > 0 ? view->epoch_capacity : 1));
    if (!column)
        return -1;
    for (int e = 0; e < view->epoch_count; e++)
        column[e] = NAN;
    snprintf(view->keys_names[k], KEY_SIZE, "%s", name);
    view->key_pointers[k] = view->keys_names[k];
    view->columns[k] = column;
    view->key_count++;
    return k;
}

static bool grow_epochs(nn_live_view *view)
{
    if (view->epoch_count < view->epoch_capacity)
        return true;
    int capacity = view->epoch_capacity ? view->epoch_capacity * 2 : 16;
    double *numbers = realloc(view->epoch_numbers, sizeof *numbers * (size_t)capacity);
    if (!numbers)
        return false;
    view->epoch_numbers = numbers;
    for (int k = 0; k < view->key_count; k++) {
        double *column = realloc(view->columns[k], sizeof *column * (size_t)capacity);
        if (!column)
            return false;
        view->columns[k] = column;
    }
    view->epoch_capacity = capacity;
    return true;
}

static void rebuild_curves(nn_live_view *view)
{
    nn_curves_build(&view->curves, view->key_count, view->key_pointers,
                    (const double *const *)view->columns, view->epoch_count,
                    view->epoch_numbers, false);
}

/* ---- a signal that ends the program while the screen is open ---- */

/* What gives the terminal back from a signal handler, where curses cannot be called:
 * the bytes that leave the alternate screen and show the cursor, and the modes before
 * the screen opened. */
static char restore_bytes[256];
static size_t restore_length;
static int restore_fd = -1;
static struct termios restore_modes;
static bool restore_modes_saved;

/* From <term.h>, whose macros (lines, columns) would take over names used here. */
char *tigetstr(const char *name);

/* A terminal capability's bytes, or "" where the terminal has none. */
static const char *capability(const char *name)
{
    const char *bytes = tigetstr(name);
    return bytes && bytes != (const char *)-1 ? bytes : "";
}

static void add_restore_capability(const char *name)
{
    const char *bytes = capability(name);
    size_t length = strlen(bytes);
    if (length && restore_length + length < sizeof restore_bytes) {
        memcpy(restore_bytes + restore_length, bytes, length);
        restore_length += length;
    }
}

/* SIGTERM or SIGHUP (kill, a closed terminal, a job scheduler): the terminal back as it
 * was, then the signal's own end. What the record held is lost with the process. */
static void on_ending_signal(int signal_number)
{
    if (restore_fd >= 0) {
        (void)!write(restore_fd, restore_bytes, restore_length);
        if (restore_modes_saved)
            tcsetattr(restore_fd, TCSANOW, &restore_modes);
    }
    signal(signal_number, SIG_DFL);
    raise(signal_number);
}

static void guard_ending_signals(nn_live_view *view)
{
    restore_length = 0;
    add_restore_capability("sgr0");
    add_restore_capability("cnorm");
    add_restore_capability("rmcup");
    restore_fd = fileno(view->out);
    struct sigaction ending = {.sa_handler = on_ending_signal};
    sigemptyset(&ending.sa_mask);
    for (int i = 0; i < SIGNAL_COUNT; i++) {
        int signal_number = handled_signals[i];
        if ((signal_number == SIGTERM || signal_number == SIGHUP) &&
            view->saved_signals[i].sa_handler != SIG_IGN)
            sigaction(signal_number, &ending, NULL);
    }
}

/* ---- the public functions ---- */

static void emergency_close(void)
{
    /* The process is exiting with the screen open (os.exit in a callback): give the
     * terminal back and keep the record. */
    nn_live_view *view = open_view;
    if (!view)
        return;
    open_view = NULL;
    endwin();
    capture_end(view);
    if (view->transcript.data)
        (void)!write(STDOUT_FILENO, view->transcript.data, view->transcript.length);
}

/* Present only in sanitizer builds (weak: NULL elsewhere). */
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static int open_keyboard(int fd)
{
    const char *name = ttyname(fd);
    int in = name ? open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC) : -1;
    if (in < 0)
        in = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC);
    return in;
}

nn_live_view *nn_live_view_open(const nn_live_setup *setup, char *why, size_t why_size)
{
    nn_terminal terminal = nn_terminal_probe(setup->fd);
    if (!terminal.tty) {
        snprintf(why, why_size, "the output is not a terminal");
        return NULL;
    }
    if (!terminal.capable) {
        snprintf(why, why_size, "TERM is %s", getenv("TERM") ? "dumb" : "not set");
        return NULL;
    }
    if (terminal.columns < NN_LIVE_MIN_COLUMNS || terminal.lines < NN_LIVE_MIN_LINES) {
        snprintf(why, why_size, "the terminal is %dx%d, smaller than %dx%d", terminal.columns,
                 terminal.lines, NN_LIVE_MIN_COLUMNS, NN_LIVE_MIN_LINES);
        return NULL;
    }
    if (open_view) {
        snprintf(why, why_size, "a live view is already open");
        return NULL;
    }
    nn_live_view *view = calloc(1, sizeof *view);
    if (!view) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    view->setup = *setup;
    snprintf(view->model_name, sizeof view->model_name, "%s",
             setup->model_name ? setup->model_name : "model");
    view->setup.model_name = view->model_name;
    view->saved_stdout = view->saved_stderr = -1;
    nn_text_init(&view->transcript);
    int out_fd = fcntl(setup->fd, F_DUPFD_CLOEXEC, 3);
    int in_fd = open_keyboard(setup->fd);
    view->keys = in_fd >= 0;
    if (in_fd < 0)
        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    view->out = out_fd >= 0 ? fdopen(out_fd, "w") : NULL;
    view->in = in_fd >= 0 ? fdopen(in_fd, "r") : NULL;
    if (!view->out || !view->in) {
        if (view->out)
            fclose(view->out);
        else if (out_fd >= 0)
            close(out_fd);
        if (view->in)
            fclose(view->in);
        else if (in_fd >= 0)
            close(in_fd);
        free(view);
        snprintf(why, why_size, "the terminal could not be opened");
        return NULL;
    }

    /* Wide characters need a UTF-8 LC_CTYPE; the caller's locale comes back on close. */
    const char *locale = setlocale(LC_CTYPE, NULL);
    view->saved_locale = locale ? strdup(locale) : NULL;
    if (terminal.utf8 && !setlocale(LC_CTYPE, ""))
        setlocale(LC_CTYPE, "C.UTF-8");
    view->charset = terminal.utf8 && strcmp(nl_langinfo(CODESET), "UTF-8") == 0
                        ? NN_CHARSET_UNICODE : NN_CHARSET_ASCII;
    view->color = terminal.color;

    for (int i = 0; i < SIGNAL_COUNT; i++)
        sigaction(handled_signals[i], NULL, &view->saved_signals[i]);
    /* ncurses handles Ctrl-Z (the screen put away, redrawn on fg) only where the action
     * is the default; the shell's own handler is back after the view. */
    for (int i = 0; i < SIGNAL_COUNT; i++)
        if (handled_signals[i] == SIGTSTP && view->saved_signals[i].sa_handler != SIG_IGN)
            signal(SIGTSTP, SIG_DFL);
    restore_modes_saved = tcgetattr(fileno(view->out), &restore_modes) == 0;
    fflush(stdout);
    view->screen = newterm(NULL, view->out, view->in);
    if (!view->screen) {
        snprintf(why, why_size, "ncurses cannot drive TERM=%s", getenv("TERM"));
        for (int i = 0; i < SIGNAL_COUNT; i++)
            sigaction(handled_signals[i], &view->saved_signals[i], NULL);
        if (view->saved_locale)
            setlocale(LC_CTYPE, view->saved_locale);
        free(view->saved_locale);
        fclose(view->out);
        fclose(view->in);
        free(view);
        return NULL;
    }
    set_term(view->screen);
    cbreak(); /* keeps ISIG: Ctrl-C still stops training through SIGINT */
    noecho();
    /* No Ctrl-S/Ctrl-Q flow control while the view is open: Ctrl-S (Readline's forward
     * search, pressed by habit) would stop the terminal's output, and with it training,
     * which blocks writing the screen, and every key but Ctrl-Q. endwin puts the
     * shell's modes back; def_prog_mode keeps this one across Ctrl-Z. */
    struct termios modes;
    if (tcgetattr(fileno(view->out), &modes) == 0) {
        modes.c_iflag &= ~(tcflag_t)IXON;
        tcsetattr(fileno(view->out), TCSANOW, &modes);
        def_prog_mode();
    }
    nonl();
    intrflush(stdscr, FALSE);
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    leaveok(stdscr, TRUE);
    typeahead(-1); /* never postpone a redraw because a key is waiting */
    curs_set(0);
    set_styles(view);
    guard_ending_signals(view);
    struct sigaction continuing = {.sa_handler = on_continue, .sa_flags = SA_RESTART};
    sigemptyset(&continuing.sa_mask);
    continued = stop_seen = 0;
    sigaction(SIGCONT, &continuing, NULL);
    sigaction(SIGTSTP, NULL, &curses_stop_action);
    if (curses_stop_action.sa_handler != SIG_IGN) {
        struct sigaction stopping = {.sa_handler = on_stop, .sa_flags = SA_RESTART};
        sigemptyset(&stopping.sa_mask);
        sigaction(SIGTSTP, &stopping, NULL);
    }

    view->bucket = 1;
    view->batch_series = (nn_series){.name = "loss", .x = view->batch_x, .y = view->batch_y};
    int64_t window = setup->steps / 20;
    if (window < 1)
        window = 1;
    if (window > 50)
        window = 50;
    view->ema_decay = 1.0 - 1.0 / (double)window;
    view->opened_at = view->epoch_start = view->last_alive = now();
    view->outside_batches = true; /* until the first batch begins */
    view->outside_started = view->opened_at;
    view->draw_interval = min_draw_interval;
    capture_begin(view);
    open_view = view;
    static bool registered;
    if (!registered) {
        registered = atexit(emergency_close) == 0;
        /* A sanitizer's report ends the process without atexit, and its text went into
         * the record: the terminal and the report come back on the way out. */
        if (__sanitizer_set_death_callback)
            __sanitizer_set_death_callback(emergency_close);
    }
    draw(view, true);
    return view;
}

void nn_live_view_epoch_begin(nn_live_view *view, int epoch)
{
    nn_live_view_reclaim_terminal(view, NULL, 0);
    view->epoch = epoch;
    view->step = 0;
    view->log_count = 0;
    view->previous_mean = 0;
    view->previous_seen = 0;
    view->epoch_start = now();
    view->epoch_paused = 0;
    draw_if_due(view);
}

double nn_live_view_take_stopped(nn_live_view *view)
{
    /* During the batches a stop is left out of training time too; outside them training
     * time leaves out all the time already. */
    double stopped = take_stopped_time(view);
    view->epoch_paused += stopped;
    if (!view->outside_batches)
        view->paused_total += stopped;
    stopped += view->pending_paused;
    view->pending_paused = 0;
    view->last_alive = now();
    return stopped;
}

void nn_live_view_batch_begin(nn_live_view *view)
{
    if (!view->outside_batches)
        return;
    view->outside_batches = false;
    /* A stop outside the batches (validation, a callback) leaves the epoch's time; training
     * time leaves out all that time already. */
    double stopped = take_stopped_time(view);
    view->epoch_paused += stopped;
    view->pending_paused += stopped;
    view->last_alive = now();
    view->outside_total += view->last_alive - view->outside_started;
}

void nn_live_view_batches_done(nn_live_view *view)
{
    nn_live_view_reclaim_terminal(view, NULL, 0);
    view->outside_batches = true;
    view->outside_started = now();
    view->validating = epoch_validates(view, view->epoch);
    /* Drawn now unless earlier validations were too short for the frame to be seen; then
     * the epoch's end draws as it did, when a frame is due. */
    if (view->validating && (view->validations == 0 ||
                             view->validation_seconds / view->validations >= min_draw_interval))
        draw(view, false);
}

static void copy_logs(nn_live_view *view, int count, const char *const *names,
                      const double *values)
{
    if (count > MAX_KEYS)
        count = MAX_KEYS;
    for (int i = 0; i < count; i++) {
        if (strcmp(view->log_names[i], names[i]) != 0)
            snprintf(view->log_names[i], KEY_SIZE, "%s", names[i]);
        view->log_name_pointers[i] = view->log_names[i];
        view->log_values[i] = values[i];
    }
    view->log_count = count;
}

nn_live_result nn_live_view_batch(nn_live_view *view, int64_t step, int log_count,
                                  const char *const *names, const double *values)
{
    nn_live_result result = {0};
    nn_live_view_reclaim_terminal(view, NULL, 0);
    /* A pause below must find the training clock running (a caller that skipped
     * nn_live_view_batch_begin gets its batch left out of training time instead). */
    nn_live_view_batch_begin(view);
    result.paused_seconds += nn_live_view_take_stopped(view);
    view->step = step;
    view->total_steps++;
    copy_logs(view, log_count, names, values);
    for (int i = 0; i < log_count; i++)
        if (strcmp(names[i], "loss") == 0)
            record_batch_loss(view, values[i]);
    double t = now();
    if (view->keys && t - view->last_poll >= key_poll_interval) {
        view->last_poll = t;
        read_keys(view, &result);
    }
    if (t - view->last_draw >= view->draw_interval)
        draw(view, false);
    return result;
}

void nn_live_view_epoch_end(nn_live_view *view, int epoch, int log_count,
                            const char *const *names, const double *values)
{
    nn_live_view_reclaim_terminal(view, NULL, 0);
    if (view->validating) {
        view->validating = false;
        view->validation_seconds += now() - view->outside_started;
        view->validations++;
    }
    if (!grow_epochs(view))
        return;
    int e = view->epoch_count;
    view->epoch_numbers[e] = epoch + 1;
    for (int k = 0; k < view->key_count; k++)
        view->columns[k][e] = NAN;
    view->epoch_count++;
    for (int i = 0; i < log_count; i++) {
        int k = key_index(view, names[i]);
        if (k >= 0)
            view->columns[k][e] = values[i];
    }
    rebuild_curves(view);
    draw_if_due(view);
}

nn_live_stats nn_live_view_stats(const nn_live_view *view)
{
    return (nn_live_stats){.frames = view->frames, .draw_seconds = view->draw_seconds,
                           .open_seconds = now() - view->opened_at};
}

void nn_live_view_lend_terminal(nn_live_view *view)
{
    if (!view || view->lent)
        return;
    fflush(stderr);
    capture_drain(view);
    view->lent = true;
    /* While lent, Ctrl-Z and resizes are the terminal's: ncurses' handlers would bring
     * the screen's modes back in the middle of the read (after fg), or end the read
     * (a resize interrupts it). The screen follows the size when it comes back. */
    struct sigaction plain = {.sa_handler = SIG_DFL};
    sigemptyset(&plain.sa_mask);
    sigaction(SIGTSTP, NULL, &view->lent_stop_action);
    if (view->lent_stop_action.sa_handler != SIG_IGN)
        sigaction(SIGTSTP, &plain, NULL);
    sigaction(SIGWINCH, &plain, &view->lent_resize_action);
    /* The read happens on the alternate screen, cleared, in the shell's modes (echo,
     * whole lines), below the question: the normal screen keeps only the record, where
     * question and answer are written once, in their place among the epochs. Standard
     * output stays captured, so what the callback writes next still joins the record. */
    reset_shell_mode();
    fputs(capability("clear"), view->out);
    fputs(" Training waits for an answer to a callback's question:\n\n", view->out);
    /* The question is the output's last line; one written with print ended its line. */
    if (view->recent_count > 0) {
        const nn_text *transcript = &view->transcript;
        fputs(view->recent[view->recent_count - 1], view->out);
        if (transcript->data[transcript->length - 1] == '\n')
            fputs("\n", view->out);
    }
    fputs(capability("cnorm"), view->out);
    fflush(view->out);
}

void nn_live_view_reclaim_terminal(nn_live_view *view, const char *answer, size_t length)
{
    if (!view || !view->lent)
        return;
    view->lent = false;
    sigaction(SIGWINCH, &view->lent_resize_action, NULL);
    if (view->lent_stop_action.sa_handler != SIG_IGN)
        sigaction(SIGTSTP, &view->lent_stop_action, NULL);
    fputs(capability("civis"), view->out);
    fflush(view->out);
    reset_prog_mode();
    fflush(stderr);
    capture_drain(view);
    if (answer)
        nn_text_append_n(&view->transcript, answer, length);
    /* The answer ended its line on the terminal: the record's next output starts a new
     * line there too. */
    if (view->transcript.length > 0 && view->transcript.data[view->transcript.length - 1] != '\n')
        nn_text_append(&view->transcript, "\n");
    update_recent(view);
    draw(view, true);
}

void nn_live_view_close(nn_live_view *view, nn_text *record)
{
    if (!view)
        return;
    /* Lent to a read that failed: the terminal's modes and the handlers come back first,
     * and an unanswered question ends its line. */
    if (view->lent)
        nn_live_view_reclaim_terminal(view, NULL, 0);
    capture_end(view);
    endwin();
    delscreen(view->screen);
    restore_fd = -1;
    fclose(view->out);
    fclose(view->in);
    for (int i = 0; i < SIGNAL_COUNT; i++)
        sigaction(handled_signals[i], &view->saved_signals[i], NULL);
    open_view = NULL;

    if (view->transcript.data)
        nn_text_append_n(record, view->transcript.data, view->transcript.length);
    if (view->epoch_count > 0 && view->curves.count > 0) {
        nn_terminal terminal = nn_terminal_probe(view->setup.fd);
        int width = terminal.columns < FIGURE_MAX_WIDTH ? terminal.columns : FIGURE_MAX_WIDTH;
        nn_figure figure = nn_curves_figure(&view->curves);
        nn_figure_render_text(record, &figure, width, view->charset, terminal.color);
    }
    if (view->saved_locale)
        setlocale(LC_CTYPE, view->saved_locale);
    free(view->saved_locale);
    nn_grid_free(&view->grid);
    nn_grid_free(&view->shown);
    nn_text_free(&view->transcript);
    for (int k = 0; k < view->key_count; k++)
        free(view->columns[k]);
    free(view->epoch_numbers);
    free(view);
}
