/* Learning-rate schedules with Keras 3's formulas (keras.optimizers.schedules). */
#include "schedule.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static const char *const schedule_names[] = {
    [NN_SCHEDULE_CONSTANT] = "Constant",
    [NN_SCHEDULE_EXPONENTIAL_DECAY] = "ExponentialDecay",
    [NN_SCHEDULE_INVERSE_TIME_DECAY] = "InverseTimeDecay",
    [NN_SCHEDULE_POLYNOMIAL_DECAY] = "PolynomialDecay",
    [NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY] = "PiecewiseConstantDecay",
    [NN_SCHEDULE_COSINE_DECAY] = "CosineDecay",
    [NN_SCHEDULE_COSINE_DECAY_RESTARTS] = "CosineDecayRestarts",
    [NN_SCHEDULE_COUNT] = NULL,
};

#define KIND(k) (1u << (k))
#define DECAYS_BY_RATE (KIND(NN_SCHEDULE_EXPONENTIAL_DECAY) | KIND(NN_SCHEDULE_INVERSE_TIME_DECAY))
#define COSINES (KIND(NN_SCHEDULE_COSINE_DECAY) | KIND(NN_SCHEDULE_COSINE_DECAY_RESTARTS))
#define AT(field) offsetof(nn_schedule, field)

static const nn_schedule_setting settings[] = {
    {"initial_learning_rate", false, AT(initial_learning_rate),
     DECAYS_BY_RATE | KIND(NN_SCHEDULE_POLYNOMIAL_DECAY) | COSINES, true},
    {"decay_steps", false, AT(decay_steps),
     DECAYS_BY_RATE | KIND(NN_SCHEDULE_POLYNOMIAL_DECAY) | KIND(NN_SCHEDULE_COSINE_DECAY), true},
    {"first_decay_steps", false, AT(decay_steps), KIND(NN_SCHEDULE_COSINE_DECAY_RESTARTS), true},
    {"decay_rate", false, AT(decay_rate), DECAYS_BY_RATE, true},
    {"staircase", true, AT(staircase), DECAYS_BY_RATE, false},
    {"end_learning_rate", false, AT(end_learning_rate), KIND(NN_SCHEDULE_POLYNOMIAL_DECAY), false},
    {"power", false, AT(power), KIND(NN_SCHEDULE_POLYNOMIAL_DECAY), false},
    {"cycle", true, AT(cycle), KIND(NN_SCHEDULE_POLYNOMIAL_DECAY), false},
    {"alpha", false, AT(alpha), COSINES, false},
    {"warmup_steps", false, AT(warmup_steps), KIND(NN_SCHEDULE_COSINE_DECAY), false},
    {"t_mul", false, AT(t_mul), KIND(NN_SCHEDULE_COSINE_DECAY_RESTARTS), false},
    {"m_mul", false, AT(m_mul), KIND(NN_SCHEDULE_COSINE_DECAY_RESTARTS), false},
};

const nn_schedule_setting *nn_schedule_settings(int *count)
{
    *count = (int)(sizeof settings / sizeof settings[0]);
    return settings;
}

int nn_schedule_values(const nn_schedule *schedule,
                       nn_schedule_value values[NN_SCHEDULE_MAX_VALUES])
{
    int used = 0;
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (!(settings[i].kinds & KIND(schedule->kind)))
            continue;
        const char *at = (const char *)schedule + settings[i].offset;
        nn_schedule_value *value = &values[used++];
        *value = (nn_schedule_value){.name = settings[i].name};
        if (settings[i].flag) {
            value->type = NN_SCHEDULE_VALUE_FLAG;
            value->flag = *(const bool *)at;
        } else {
            value->type = NN_SCHEDULE_VALUE_NUMBER;
            value->number = *(const double *)at;
        }
    }
    if (schedule->kind == NN_SCHEDULE_COSINE_DECAY)
        values[used++] = (nn_schedule_value){
            .name = "warmup_target",
            .type = schedule->warmup ? NN_SCHEDULE_VALUE_NUMBER : NN_SCHEDULE_VALUE_NONE,
            .number = schedule->warmup_target};
    if (schedule->kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY) {
        values[used++] = (nn_schedule_value){.name = "boundaries",
                                             .type = NN_SCHEDULE_VALUE_LIST,
                                             .list = schedule->boundaries,
                                             .length = schedule->boundary_count};
        values[used++] = (nn_schedule_value){.name = "values",
                                             .type = NN_SCHEDULE_VALUE_LIST,
                                             .list = schedule->values,
                                             .length = schedule->boundary_count + 1};
    }
    if (schedule->name[0] != '\0')
        values[used++] = (nn_schedule_value){
            .name = "name", .type = NN_SCHEDULE_VALUE_STRING, .text = schedule->name};
    return used;
}

const char *nn_schedule_name(nn_schedule_kind kind)
{
    return kind < NN_SCHEDULE_COUNT ? schedule_names[kind] : "unknown";
}

nn_status nn_schedule_parse(const char *name, nn_schedule_kind *kind)
{
    for (int i = 1; i < NN_SCHEDULE_COUNT; i++) {
        if (strcmp(name, schedule_names[i]) == 0) {
            *kind = (nn_schedule_kind)i;
            return NN_OK;
        }
    }
    char list[256], guess[256];
    return nn_error(NN_ERR_ARGUMENT, "unknown learning-rate schedule '%s'%s; expected one of %s",
                    name, nn_names_did_you_mean(guess, sizeof guess, name, schedule_names + 1),
                    nn_names_join(list, sizeof list, schedule_names + 1));
}

nn_schedule nn_schedule_defaults(nn_schedule_kind kind)
{
    nn_schedule schedule = {
        .kind = kind,
        .end_learning_rate = 0.0001,
        .power = 1.0,
        .t_mul = 2.0,
        .m_mul = 1.0,
    };
    return schedule;
}

/* low <= value <= high (and finite), or an error naming the schedule and the setting. */
static nn_status check_setting(const nn_schedule *schedule, const char *setting, double value,
                               double low, bool low_inclusive, double high)
{
    bool inside = isfinite(value) && (low_inclusive ? value >= low : value > low) &&
                  value <= high;
    if (inside)
        return NN_OK;
    char text[32];
    snprintf(text, sizeof text, isnan(value) ? "NaN" : "%g", value); /* not "-nan" */
    return nn_error(NN_ERR_ARGUMENT, "%s: %s must be a number %s %g%s, got %s",
                    nn_schedule_name(schedule->kind), setting, low_inclusive ? ">=" : ">", low,
                    high == 1.0 ? " and <= 1" : "", text);
}

nn_status nn_schedule_check(const nn_schedule *s)
{
    if (s->kind >= NN_SCHEDULE_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "learning-rate schedule kind %d does not exist",
                        (int)s->kind);
    if (s->kind == NN_SCHEDULE_CONSTANT)
        return NN_OK;
    if (s->kind == NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY) {
        const char *name = nn_schedule_name(s->kind);
        if (s->boundary_count < 1 || s->boundary_count > NN_SCHEDULE_MAX_BOUNDARIES)
            return nn_error(NN_ERR_ARGUMENT,
                            "%s: boundaries must hold 1 to %d steps, got %d", name,
                            NN_SCHEDULE_MAX_BOUNDARIES, s->boundary_count);
        for (int i = 0; i < s->boundary_count; i++) {
            if (!isfinite(s->boundaries[i]))
                return nn_error(NN_ERR_ARGUMENT, "%s: boundary %d is not a finite number", name,
                                i + 1);
            if (i > 0 && s->boundaries[i] <= s->boundaries[i - 1])
                return nn_error(NN_ERR_ARGUMENT,
                                "%s: boundaries must be increasing, but boundary %d is %g after "
                                "%g",
                                name, i + 1, s->boundaries[i], s->boundaries[i - 1]);
        }
        for (int i = 0; i <= s->boundary_count; i++)
            NN_TRY(check_setting(s, "each of values", s->values[i], 0.0, true, INFINITY));
        return NN_OK;
    }
    NN_TRY(check_setting(s, "initial_learning_rate", s->initial_learning_rate, 0.0, true,
                         INFINITY));
    NN_TRY(check_setting(s,
                         s->kind == NN_SCHEDULE_COSINE_DECAY_RESTARTS ? "first_decay_steps"
                                                                      : "decay_steps",
                         s->decay_steps, 0.0, false, INFINITY));
    switch (s->kind) {
    case NN_SCHEDULE_EXPONENTIAL_DECAY:
    case NN_SCHEDULE_INVERSE_TIME_DECAY:
        return check_setting(s, "decay_rate", s->decay_rate, 0.0, true, INFINITY);
    case NN_SCHEDULE_POLYNOMIAL_DECAY:
        NN_TRY(check_setting(s, "end_learning_rate", s->end_learning_rate, 0.0, true, INFINITY));
        return check_setting(s, "power", s->power, 0.0, true, INFINITY);
    case NN_SCHEDULE_COSINE_DECAY:
        NN_TRY(check_setting(s, "alpha", s->alpha, 0.0, true, 1.0));
        NN_TRY(check_setting(s, "warmup_steps", s->warmup_steps, 0.0, true, INFINITY));
        if (s->warmup)
            NN_TRY(check_setting(s, "warmup_target", s->warmup_target, 0.0, true, INFINITY));
        return NN_OK;
    case NN_SCHEDULE_COSINE_DECAY_RESTARTS:
        NN_TRY(check_setting(s, "alpha", s->alpha, 0.0, true, 1.0));
        /* Periods that shrink (t_mul < 1) add up to first_decay_steps / (1 - t_mul) steps,
         * after which Keras' formula has no restart to be in (its rate turns NaN). */
        NN_TRY(check_setting(s, "t_mul", s->t_mul, 1.0, true, INFINITY));
        return check_setting(s, "m_mul", s->m_mul, 0.0, true, INFINITY);
    default:
        return NN_OK;
    }
}

/* Half a cosine from 1 down to alpha over [0, 1] of the period, times `rate`. */
static double cosine_decay(double rate, double fraction, double alpha)
{
    double cosine = 0.5 * (1.0 + cos(M_PI * fraction));
    return rate * ((1.0 - alpha) * cosine + alpha);
}

static double piecewise_constant(const nn_schedule *s, double step)
{
    for (int i = 0; i < s->boundary_count; i++)
        if (step <= s->boundaries[i])
            return s->values[i];
    return s->values[s->boundary_count];
}

static double polynomial_decay(const nn_schedule *s, double step)
{
    double steps = s->decay_steps;
    if (s->cycle)
        steps *= step == 0.0 ? 1.0 : ceil(step / s->decay_steps);
    else
        step = fmin(step, steps);
    double remaining = 1.0 - step / steps;
    return (s->initial_learning_rate - s->end_learning_rate) * pow(remaining, s->power) +
           s->end_learning_rate;
}

static double cosine_decay_with_warmup(const nn_schedule *s, double step)
{
    if (!s->warmup)
        return cosine_decay(s->initial_learning_rate, fmin(step, s->decay_steps) / s->decay_steps,
                            s->alpha);
    step = fmin(step, s->decay_steps + s->warmup_steps);
    if (step < s->warmup_steps) /* a straight line from the initial rate to the target */
        return s->initial_learning_rate +
               (s->warmup_target - s->initial_learning_rate) * step / s->warmup_steps;
    return cosine_decay(s->warmup_target, (step - s->warmup_steps) / s->decay_steps, s->alpha);
}

/* Periods of first_decay_steps, each t_mul times the one before: the restart a step falls
 * in and how far into its period it is, and each restart's peak m_mul times lower. */
static double cosine_decay_restarts(const nn_schedule *s, double step)
{
    double fraction = step / s->decay_steps, restart;
    if (s->t_mul == 1.0) {
        restart = floor(fraction);
        fraction -= restart;
    } else {
        restart = floor(log(1.0 - fraction * (1.0 - s->t_mul)) / log(s->t_mul));
        double before = (1.0 - pow(s->t_mul, restart)) / (1.0 - s->t_mul);
        fraction = (fraction - before) / pow(s->t_mul, restart);
    }
    /* Keras lowers the cosine by m_mul each restart, not the floor alpha. */
    double cosine = 0.5 * pow(s->m_mul, restart) * (1.0 + cos(M_PI * fraction));
    return s->initial_learning_rate * ((1.0 - s->alpha) * cosine + s->alpha);
}

double nn_schedule_rate(const nn_schedule *s, double step)
{
    switch (s->kind) {
    case NN_SCHEDULE_EXPONENTIAL_DECAY: {
        double periods = step / s->decay_steps;
        return s->initial_learning_rate *
               pow(s->decay_rate, s->staircase ? floor(periods) : periods);
    }
    case NN_SCHEDULE_INVERSE_TIME_DECAY: {
        double periods = step / s->decay_steps;
        return s->initial_learning_rate /
               (1.0 + s->decay_rate * (s->staircase ? floor(periods) : periods));
    }
    case NN_SCHEDULE_POLYNOMIAL_DECAY:
        return polynomial_decay(s, step);
    case NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY:
        return piecewise_constant(s, step);
    case NN_SCHEDULE_COSINE_DECAY:
        return cosine_decay_with_warmup(s, step);
    case NN_SCHEDULE_COSINE_DECAY_RESTARTS:
        return cosine_decay_restarts(s, step);
    default:
        return s->initial_learning_rate;
    }
}
