/* Axis ticks at "nice" numbers (1, 2 or 5 times a power of ten), with labels that use
 * as few digits as the step needs: 0, 0.5, 1 rather than 0.000, 0.500, 1.000. */
#ifndef NN_PLOTS_TICKS_H
#define NN_PLOTS_TICKS_H

#include <stdbool.h>
#include <stddef.h>

enum { NN_TICKS_MAX = 24, NN_TICK_LABEL_SIZE = 16 };

typedef struct nn_ticks {
    int count;
    double values[NN_TICKS_MAX];
    char labels[NN_TICKS_MAX][NN_TICK_LABEL_SIZE];
    double low, high; /* the axis range: it starts and ends on a tick */
    double step;      /* linear ticks; 0 for logarithmic ones */
} nn_ticks;

/* About `target` ticks (at least 2) covering [low, high]; the range widens outwards to
 * whole steps. An empty or one-value range is widened first. With integers, the step
 * is at least 1 (epochs). Non-finite bounds give the range [0, 1]. */
void nn_ticks_linear(nn_ticks *ticks, double low, double high, int target, bool integers);
/* About `target` ticks inside [low, high], which stays the axis range (for x axes,
 * where data should reach both edges). One value is widened as above. */
void nn_ticks_linear_inside(nn_ticks *ticks, double low, double high, int target,
                            bool integers);
/* Ticks for a logarithmic axis over [low, high] (both > 0): 1, 2 and 5 times powers
 * of ten when they are few enough, powers of ten (or every few) otherwise. */
void nn_ticks_log(nn_ticks *ticks, double low, double high, int target);
/* The label of value on an axis whose ticks are step apart (step 0: logarithmic). */
void nn_tick_format(double value, double step, char *buf, size_t size);

#endif
