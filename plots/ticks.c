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
    if (value == 0.0 && (step <= 0 || step < 1e-4 || step >= 1e6)) {
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
    if (value != 0.0 && (magnitude >= 1e6 || step < 1e-4)) {
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

/* Candidate steps: 1, 2 and 5 times the powers of ten around raw. */
static int candidate_steps(double raw, double steps[9])
{
    double base = pow(10.0, floor(log10(raw)) - 1);
    static const double multiples[] = {1, 2, 5};
    int count = 0;
    for (int e = 0; e < 3; e++, base *= 10)
        for (int m = 0; m < 3; m++)
            steps[count++] = multiples[m] * base;
    return count;
}

/* Ticks on whole multiples of step: from the first at or below low (loose) or at or
 * above it (inside), to the last at or above high (loose) or at or below it. */
static int tick_span(double low, double high, double step, bool loose, double *first,
                     double *last)
{
    *first = (loose ? floor(low / step + 1e-9) : ceil(low / step - 1e-9)) * step;
    *last = (loose ? ceil(high / step - 1e-9) : floor(high / step + 1e-9)) * step;
    return (int)lround((*last - *first) / step) + 1;
}

/* Picks the step whose tick count is closest to target (at most target + 2) and, for
 * loose ticks, whose range wastes least beyond the data; ties go to more ticks. */
static void choose_ticks(nn_ticks *ticks, double low, double high, int target, bool integers,
                         bool loose)
{
    double steps[9];
    int candidates = candidate_steps((high - low) / (target - 1), steps);
    double best_score = INFINITY, best_step = 0;
    int best_count = 0;
    for (int i = 0; i < candidates; i++) {
        double step = steps[i];
        if (integers && step < 1)
            continue;
        double first, last;
        int count = tick_span(low, high, step, loose, &first, &last);
        if (count > target + 2 || count > NN_TICKS_MAX || (count < 2 && loose))
            continue;
        double waste = loose ? (last - first - (high - low)) / (high - low) : 0.0;
        double score = fabs((double)(count - target)) + 2.0 * waste;
        if (count < 1)
            score += 100; /* inside ticks: a step wider than the range shows none */
        if (score < best_score - 1e-9 || (fabs(score - best_score) <= 1e-9 && count > best_count)) {
            best_score = score;
            best_step = step;
            best_count = count;
        }
    }
    if (best_step == 0) /* nothing fitted: the widest candidate */
        best_step = integers && steps[candidates - 1] < 1 ? 1 : steps[candidates - 1];
    double first, last;
    int count = tick_span(low, high, best_step, loose, &first, &last);
    if (count > NN_TICKS_MAX)
        count = NN_TICKS_MAX;
    ticks->count = count > 0 ? count : 0;
    ticks->step = best_step;
    ticks->low = loose ? first : low;
    ticks->high = loose ? first + best_step * (count - 1) : high;
    for (int i = 0; i < ticks->count; i++) {
        double value = first + best_step * i;
        ticks->values[i] = fabs(value) < best_step * 1e-9 ? 0.0 : value;
    }
    label_all(ticks);
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
    choose_ticks(ticks, low, high, clamp_target(target), integers, true);
}

void nn_ticks_linear_inside(nn_ticks *ticks, double low, double high, int target,
                            bool integers)
{
    memset(ticks, 0, sizeof *ticks);
    normalise_range(&low, &high, integers);
    choose_ticks(ticks, low, high, clamp_target(target), integers, false);
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
