/* Nice tick values and short labels for chart axes. */
#include "ticks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* "2.5e-05" -> "2.5e-5", "1e+06" -> "1e6": exponents without padding or plus signs. */
static void compact_exponent(char *text)
{
    char *e = strchr(text, 'e');
    if (!e)
        return;
    char *digits = e + 1;
    char *write = digits;
    if (*digits == '+')
        digits++;
    else if (*digits == '-')
        *write++ = *digits++;
    while (*digits == '0' && digits[1])
        digits++;
    memmove(write, digits, strlen(digits) + 1);
}

void nn_tick_format(double value, double step, char *buf, size_t size)
{
    double magnitude = fabs(value);
    if (step > 0 && magnitude < step * 1e-6)
        value = magnitude = 0.0;
    if (value == 0.0) {
        snprintf(buf, size, "0");
        return;
    }
    if (step <= 0) {
        /* Logarithmic axes: every tick is 1, 2 or 5 times a power of ten. */
        if (magnitude >= 1e-4 && magnitude < 1e6)
            snprintf(buf, size, "%g", value);
        else {
            snprintf(buf, size, "%.0e", value);
            compact_exponent(buf);
        }
        return;
    }
    if (magnitude >= 1e6 || step < 1e-4) {
        int digits = (int)floor(log10(magnitude)) - (int)floor(log10(step) + 1e-9);
        snprintf(buf, size, "%.*e", digits > 0 ? digits : 0, value);
        compact_exponent(buf);
        return;
    }
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals, value);
}

static void label_all(nn_ticks *ticks)
{
    for (int i = 0; i < ticks->count; i++)
        nn_tick_format(ticks->values[i], ticks->step, ticks->labels[i], sizeof ticks->labels[i]);
}

/* The smallest of 1, 2, 5 times a power of ten that is at least raw. */
static double nice_step_at_least(double raw)
{
    double base = pow(10.0, floor(log10(raw)));
    static const double multiples[] = {1, 2, 5, 10};
    for (size_t i = 0; i < sizeof multiples / sizeof multiples[0]; i++)
        if (multiples[i] * base >= raw * (1 - 1e-9))
            return multiples[i] * base;
    return 10 * base;
}

/* Sorts the bounds and widens an empty range; non-finite bounds give [0, 1]. */
static void normalise_range(double *low_io, double *high_io, bool integers)
{
    double low = *low_io, high = *high_io;
    if (!isfinite(low) || !isfinite(high)) {
        low = 0.0;
        high = 1.0;
    }
    if (low > high) {
        double swap = low;
        low = high;
        high = swap;
    }
    if (high - low <= fabs(high) * 1e-12) {
        /* One value: centre it in a range of about ten percent either side. */
        double pad = integers || low == 0.0 ? 1.0 : fabs(low) * 0.1;
        low -= pad;
        high += pad;
    }
    *low_io = low;
    *high_io = high;
}

static int clamp_target(int target)
{
    return target < 2 ? 2 : target > NN_TICKS_MAX - 2 ? NN_TICKS_MAX - 2 : target;
}

void nn_ticks_linear(nn_ticks *ticks, double low, double high, int target, bool integers)
{
    memset(ticks, 0, sizeof *ticks);
    normalise_range(&low, &high, integers);
    target = clamp_target(target);
    double step = nice_step_at_least((high - low) / (target - 1));
    if (integers && step < 1)
        step = 1;
    double first, last;
    int count;
    for (;;) {
        first = floor(low / step + 1e-9) * step;
        last = ceil(high / step - 1e-9) * step;
        count = (int)lround((last - first) / step) + 1;
        if (count <= NN_TICKS_MAX)
            break;
        step = nice_step_at_least(step * 1.01);
    }
    ticks->count = count;
    ticks->step = step;
    ticks->low = first;
    ticks->high = last;
    for (int i = 0; i < count; i++) {
        double value = first + step * i;
        ticks->values[i] = fabs(value) < step * 1e-9 ? 0.0 : value;
    }
    label_all(ticks);
}

void nn_ticks_linear_inside(nn_ticks *ticks, double low, double high, int target,
                            bool integers)
{
    memset(ticks, 0, sizeof *ticks);
    normalise_range(&low, &high, integers);
    target = clamp_target(target);
    double step = nice_step_at_least((high - low) / (target - 1));
    if (integers && step < 1)
        step = 1;
    double first;
    int count;
    for (;;) {
        first = ceil(low / step - 1e-9) * step;
        count = (int)floor((high - first) / step + 1e-9) + 1;
        if (count <= NN_TICKS_MAX)
            break;
        step = nice_step_at_least(step * 1.01);
    }
    ticks->count = count > 0 ? count : 0;
    ticks->step = step;
    ticks->low = low;
    ticks->high = high;
    for (int i = 0; i < ticks->count; i++) {
        double value = first + step * i;
        ticks->values[i] = fabs(value) < step * 1e-9 ? 0.0 : value;
    }
    label_all(ticks);
}

void nn_ticks_log(nn_ticks *ticks, double low, double high, int target)
{
    memset(ticks, 0, sizeof *ticks);
    if (!(high > 0) || !isfinite(high))
        high = 1.0;
    if (!(low > 0) || !isfinite(low) || low > high)
        low = high / 10;
    if (target < 2)
        target = 2;
    int first = (int)floor(log10(low) + 1e-9);
    int last = (int)ceil(log10(high) - 1e-9);
    if (last <= first)
        last = first + 1;
    /* The 1-2-5 ladder from the decade below low to the one above high. */
    static const double multiples[] = {1, 2, 5};
    double ladder[NN_TICKS_MAX];
    int rungs = 0;
    for (int e = first; e <= last && rungs < NN_TICKS_MAX; e++)
        for (int m = 0; m < 3 && rungs < NN_TICKS_MAX; m++)
            if (e < last || m == 0)
                ladder[rungs++] = multiples[m] * pow(10.0, e);
    int lo = 0, hi = rungs - 1;
    for (int i = 0; i < rungs; i++)
        if (ladder[i] <= low * (1 + 1e-9))
            lo = i;
    for (int i = rungs - 1; i >= 0; i--)
        if (ladder[i] >= high * (1 - 1e-9))
            hi = i;
    if (hi - lo + 1 <= target + 2 && last - first <= 3) {
        for (int i = lo; i <= hi; i++)
            ticks->values[ticks->count++] = ladder[i];
    } else {
        int decades = last - first;
        int every = (decades + target - 2) / (target - 1);
        int count = (decades + every - 1) / every + 1;
        if (count > NN_TICKS_MAX)
            count = NN_TICKS_MAX;
        for (int i = 0; i < count; i++)
            ticks->values[i] = pow(10.0, first + i * every);
        ticks->count = count;
    }
    ticks->low = ticks->values[0];
    ticks->high = ticks->values[ticks->count - 1];
    ticks->step = 0;
    label_all(ticks);
}
