/* Training curves: history keys grouped into charts of training and validation. */
#include "curves.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void nn_curves_pretty_name(const char *key, char *buf, size_t size)
{
    if (size == 0)
        return;
    if (strcmp(key, "lr") == 0 || strcmp(key, "learning_rate") == 0) {
        snprintf(buf, size, "Learning Rate");
        return;
    }
    size_t used = 0;
    bool word_start = true;
    for (const char *p = key; *p && used + 1 < size; p++) {
        char c = *p == '_' ? ' ' : *p;
        buf[used++] = word_start ? (char)toupper((unsigned char)c) : c;
        word_start = c == ' ';
    }
    buf[used] = '\0';
}

static int find_key(int key_count, const char *const *keys, const char *name)
{
    for (int k = 0; k < key_count; k++)
        if (strcmp(keys[k], name) == 0)
            return k;
    return -1;
}

/* Both builders: key k has counts[k] values at xs[k] when those are given, else
 * `epochs` values at x. */
static void build(nn_curves *curves, int key_count, const char *const *keys,
                  const double *const *columns, const int *counts, int epochs,
                  const double *const *xs, const double *x, bool log_y)
{
    memset(curves, 0, sizeof *curves);
    for (int k = 0; k < key_count && curves->count < NN_CURVES_MAX; k++) {
        const char *key = keys[k];
        bool validation = strncmp(key, "val_", 4) == 0;
        const char *base = validation ? key + 4 : key;
        /* A val_ key whose training key exists is drawn with it. */
        if (validation && find_key(key_count, keys, base) >= 0)
            continue;
        int train = validation ? -1 : k;
        char val_name[NN_CURVES_TEXT];
        snprintf(val_name, sizeof val_name, "val_%s", base);
        int val = validation ? k : find_key(key_count, keys, val_name);

        int c = curves->count++;
        char pretty[48];
        nn_curves_pretty_name(base, pretty, sizeof pretty);
        snprintf(curves->y_labels[c], NN_CURVES_TEXT, "%s", pretty);
        snprintf(curves->titles[c], NN_CURVES_TEXT, "%s %s",
                 train >= 0 && val >= 0 ? "Training and Validation"
                 : train >= 0           ? "Training"
                                        : "Validation",
                 pretty);
        int n = 0;
        const int sources[2] = {train, val};
        for (int s = 0; s < 2; s++) {
            if (sources[s] < 0)
                continue;
            snprintf(curves->names[c][n], NN_CURVES_TEXT, "%s %s", s == 0 ? "Train" : "Val",
                     pretty);
            int source = sources[s];
            curves->series[c][n] = (nn_series){.name = curves->names[c][n],
                                               .x = counts ? (xs ? xs[source] : NULL) : x,
                                               .y = columns[source],
                                               .count = counts ? counts[source] : epochs};
            n++;
        }
        curves->charts[c] = (nn_chart){.title = curves->titles[c], .x_label = "Epoch",
                                       .y_label = curves->y_labels[c],
                                       .series = curves->series[c], .series_count = n,
                                       .log_y = log_y, .integer_x = true,
                                       .first_style = train >= 0 ? 0 : 1};
    }
}

void nn_curves_build(nn_curves *curves, int key_count, const char *const *keys,
                     const double *const *columns, int epochs, const double *x, bool log_y)
{
    build(curves, key_count, keys, columns, NULL, epochs, NULL, x, log_y);
}

void nn_curves_build_each(nn_curves *curves, int key_count, const char *const *keys,
                          const double *const *columns, const int *counts,
                          const double *const *xs, bool log_y)
{
    build(curves, key_count, keys, columns, counts, 0, xs, NULL, log_y);
}

nn_figure nn_curves_figure(const nn_curves *curves)
{
    return (nn_figure){.charts = curves->charts, .count = curves->count};
}
