/* Plain-text renderers: the Keras model summary table and Keras-style progress lines.
 * They write into caller buffers and know nothing of Lua or the engine's types. */
#ifndef NN_PLOTS_TEXT_H
#define NN_PLOTS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable string. */
typedef struct nn_text {
    char *data;
    size_t length, capacity;
    bool failed; /* an allocation failed; data holds what fitted */
} nn_text;

void nn_text_init(nn_text *text);
void nn_text_free(nn_text *text);
void nn_text_append(nn_text *text, const char *s);
void nn_text_append_n(nn_text *text, const char *s, size_t n);
void nn_text_printf(nn_text *text, const char *format, ...) __attribute__((format(printf, 2, 3)));
void nn_text_repeat(nn_text *text, const char *s, int count);

/* The cells a UTF-8 string takes on a terminal: 2 for each East Asian wide or fullwidth
 * character and most emoji, 0 for combining marks and zero-width characters, 1 for the
 * rest (an invalid byte included). A fixed table, so every terminal and test agrees
 * whatever the locale. */
int nn_utf8_width(const char *text);
/* The cells of the one character starting at text. */
int nn_utf8_char_width(const char *text);
/* Byte length of the UTF-8 character starting at text (1 for invalid bytes). */
int nn_utf8_char_size(const char *text);
/* The byte offset just after the longest start of text that fits in `cells` cells,
 * never inside a character. */
size_t nn_utf8_offset(const char *text, int cells);

/* 421642 -> "421,642". */
char *nn_format_thousands(long long value, char *buf, size_t size);

/* One row of a model summary. */
typedef struct nn_summary_row {
    const char *name;        /* "conv2d" */
    const char *type;        /* "Conv2D" */
    const char *output;      /* "(None, 28, 28, 32)" */
    long long params;
    const char *explanation; /* optional: how the shape and count were computed */
    bool trainable;          /* the layer is not frozen: "Y" in the Trainable column */
    bool has_weights;        /* the box layout shows "-" for a layer without weights */
} nn_summary_row;

/* What a summary shows. rows may be a slice of the model's layers (layer_range); the
 * totals are always the whole model's, as in Keras. */
typedef struct nn_summary {
    const char *model_name;
    const nn_summary_row *rows;
    int row_count;
    long long total, trainable, non_trainable;
    bool show_trainable; /* add Keras' "Trainable" column after "Param #" */
    /* Keras' layout only; 0 keeps Keras' defaults (65 and {29, 55, 65}). positions are
     * the absolute ends of the three columns; the Trainable column, when shown, takes
     * 11 more characters, as Keras' line_length += 11. */
    int line_length;
    int positions[3];
} nn_summary;

/* Keras' layout: 65 columns, cells cut at the column width minus 2 and continued on the
 * next line. With explain, each row is followed by its explanation lines. */
void nn_summary_render_keras(nn_text *out, const nn_summary *summary, bool explain);

/* Progress of one epoch (fit) or one pass (evaluate, predict). */
typedef struct nn_progress_state {
    int64_t step, steps;      /* steps done so far, and in all */
    double elapsed_seconds;   /* since the pass began */
    int log_count;
    const char *const *log_names;
    const double *log_values;
} nn_progress_state;

/* "123/750 [====>....] - ETA: 5s - loss: 0.5123" while running, or the finished form
 * "750/750 [======] - 10s 13ms/step - loss: ..." when step == steps. No newline. */
void nn_progress_render_bar(nn_text *out, const nn_progress_state *state);
/* verbose=2: "750/750 - 10s - loss: ... - 10s/epoch - 13ms/step". No newline. */
void nn_progress_render_epoch_line(nn_text *out, const nn_progress_state *state);
/* " - loss: 0.1864" parts, %.4f or %.4e for |v| <= 1e-3, as Keras. */
void nn_progress_render_logs(nn_text *out, int count, const char *const *names,
                             const double *values);
/* "5s", "1:05", "1:01:05". */
char *nn_format_eta(double seconds, char *buf, size_t size);
/* "13ms/step", "2s/step", "250us/step" for seconds per unit. */
char *nn_format_per_unit(double seconds, const char *unit, char *buf, size_t size);

#endif
