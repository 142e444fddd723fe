/* Learning-rate schedules: each kind's rate at chosen steps against values worked out by
 * hand from Keras' formulas, the checks of their settings, and an optimizer taking each
 * update's rate from its schedule. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "optimizer.h"
#include "schedule.h"
#include "test_support.h"

static nn_schedule schedule_of(nn_schedule_kind kind, double initial, double steps)
{
    nn_schedule schedule = nn_schedule_defaults(kind);
    schedule.initial_learning_rate = initial;
    schedule.decay_steps = steps;
    return schedule;
}

static void expect_rate(const nn_schedule *schedule, double step, double expected)
{
    double rate = nn_schedule_rate(schedule, step);
    cr_expect(fabs(rate - expected) <= 1e-12 * fmax(1.0, fabs(expected)),
              "%s at step %g: %.17g, expected %.17g", nn_schedule_name(schedule->kind), step,
              rate, expected);
}

Test(schedule, exponential_and_inverse_time_decay)
{
    nn_schedule s = schedule_of(NN_SCHEDULE_EXPONENTIAL_DECAY, 0.01, 100);
    s.decay_rate = 0.5;
    expect_rate(&s, 0, 0.01);
    expect_rate(&s, 100, 0.005);
    expect_rate(&s, 150, 0.01 * pow(0.5, 1.5));
    s.staircase = true;
    expect_rate(&s, 150, 0.005);
    expect_rate(&s, 199, 0.005);
    expect_rate(&s, 200, 0.0025);

    nn_schedule inverse = schedule_of(NN_SCHEDULE_INVERSE_TIME_DECAY, 0.1, 10);
    inverse.decay_rate = 2;
    expect_rate(&inverse, 5, 0.1 / 2);  /* 1 + 2 * 0.5 */
    expect_rate(&inverse, 30, 0.1 / 7); /* 1 + 2 * 3 */
    inverse.staircase = true;
    expect_rate(&inverse, 5, 0.1);
    expect_rate(&inverse, 15, 0.1 / 3);
}

Test(schedule, polynomial_decay_stops_or_cycles)
{
    nn_schedule s = schedule_of(NN_SCHEDULE_POLYNOMIAL_DECAY, 1.0, 10);
    s.end_learning_rate = 0.2;
    s.power = 2;
    expect_rate(&s, 0, 1.0);
    expect_rate(&s, 5, 0.8 * 0.25 + 0.2);
    expect_rate(&s, 10, 0.2);
    expect_rate(&s, 50, 0.2); /* held at the end */
    s.cycle = true;
    /* Step 15 is in the second period, stretched to 20 steps: 1 - 15/20 = 0.25. */
    expect_rate(&s, 15, 0.8 * 0.0625 + 0.2);
    expect_rate(&s, 20, 0.2);
    expect_rate(&s, 0, 1.0);
}

Test(schedule, piecewise_constant_decay_takes_the_boundary_into_the_earlier_piece)
{
    nn_schedule s = nn_schedule_defaults(NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY);
    s.boundary_count = 2;
    s.boundaries[0] = 100, s.boundaries[1] = 200;
    s.values[0] = 1, s.values[1] = 0.5, s.values[2] = 0.1;
    expect_rate(&s, 0, 1);
    expect_rate(&s, 100, 1);
    expect_rate(&s, 101, 0.5);
    expect_rate(&s, 200, 0.5);
    expect_rate(&s, 201, 0.1);
    expect_rate(&s, 1e9, 0.1);
}

Test(schedule, cosine_decay_with_floor_and_warmup)
{
    nn_schedule s = schedule_of(NN_SCHEDULE_COSINE_DECAY, 0.1, 100);
    expect_rate(&s, 0, 0.1);
    expect_rate(&s, 50, 0.05);
    expect_rate(&s, 25, 0.1 * 0.5 * (1 + cos(M_PI / 4)));
    expect_rate(&s, 100, 0.0);
    expect_rate(&s, 300, 0.0);
    s.alpha = 0.2;
    expect_rate(&s, 100, 0.02);
    expect_rate(&s, 50, 0.1 * (0.8 * 0.5 + 0.2));
    /* A warmup from 0 to 1 over 10 steps, then the cosine from 1 over 100. */
    nn_schedule warm = schedule_of(NN_SCHEDULE_COSINE_DECAY, 0.0, 100);
    warm.warmup = true;
    warm.warmup_target = 1.0;
    warm.warmup_steps = 10;
    expect_rate(&warm, 0, 0.0);
    expect_rate(&warm, 4, 0.4);
    expect_rate(&warm, 10, 1.0);
    expect_rate(&warm, 60, 0.5);
    expect_rate(&warm, 110, 0.0);
    expect_rate(&warm, 500, 0.0);
}

Test(schedule, cosine_decay_restarts_in_longer_and_lower_periods)
{
    nn_schedule s = schedule_of(NN_SCHEDULE_COSINE_DECAY_RESTARTS, 1.0, 10);
    s.m_mul = 0.5;
    /* Periods of 10, 20, 40 steps starting at 0, 10, 30; peaks 1, 0.5, 0.25. */
    expect_rate(&s, 0, 1.0);
    expect_rate(&s, 5, 0.5);
    expect_rate(&s, 10, 0.5);
    expect_rate(&s, 20, 0.25);
    expect_rate(&s, 30, 0.25);
    expect_rate(&s, 50, 0.125);
    s.t_mul = 1.0; /* equal periods */
    expect_rate(&s, 25, 0.25 * 0.5 * (1 + cos(M_PI / 2)));
    expect_rate(&s, 30, 0.125);
    /* The floor stays where it is: only the cosine above it is lowered, as Keras does
     * (1 · ((1 - 0.2) · 0.5 + 0.2) = 0.6 at the first restart). */
    s.t_mul = 2.0;
    s.alpha = 0.2;
    expect_rate(&s, 10, 0.6);
    expect_rate(&s, 30, 0.4);
    expect_rate(&s, 5, 0.8 * 0.5 + 0.2);
}

Test(schedule, settings_out_of_range_are_named)
{
    struct {
        nn_schedule schedule;
        const char *words[2];
    } cases[7];
    int n = 0;
    cases[n].schedule = schedule_of(NN_SCHEDULE_EXPONENTIAL_DECAY, 0.1, 0);
    cases[n].words[0] = "ExponentialDecay", cases[n++].words[1] = "decay_steps";
    cases[n].schedule = schedule_of(NN_SCHEDULE_COSINE_DECAY_RESTARTS, 0.1, -5);
    cases[n].words[0] = "CosineDecayRestarts", cases[n++].words[1] = "first_decay_steps";
    cases[n].schedule = schedule_of(NN_SCHEDULE_COSINE_DECAY, NAN, 10);
    cases[n].words[0] = "CosineDecay", cases[n++].words[1] = "initial_learning_rate";
    cases[n].schedule = schedule_of(NN_SCHEDULE_COSINE_DECAY, 0.1, 10);
    cases[n].schedule.alpha = 1.5;
    cases[n].words[0] = "CosineDecay", cases[n++].words[1] = "alpha";
    cases[n].schedule = nn_schedule_defaults(NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY);
    cases[n].words[0] = "PiecewiseConstantDecay", cases[n++].words[1] = "boundaries";
    cases[n].schedule = schedule_of(NN_SCHEDULE_COSINE_DECAY_RESTARTS, 0.1, 10);
    cases[n].schedule.t_mul = 0.5; /* periods that shrink run out after 20 steps */
    cases[n].words[0] = "CosineDecayRestarts", cases[n++].words[1] = "t_mul must be a number >= 1";
    cases[n].schedule = nn_schedule_defaults(NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY);
    cases[n].schedule.boundary_count = 2;
    cases[n].schedule.boundaries[0] = 5, cases[n].schedule.boundaries[1] = 5;
    cases[n].words[0] = "PiecewiseConstantDecay", cases[n++].words[1] = "increasing";
    for (int i = 0; i < n; i++) {
        cr_expect_neq(nn_schedule_check(&cases[i].schedule), NN_OK, "case %d accepted", i);
        for (int w = 0; w < 2; w++)
            cr_expect(strstr(nn_error_message(), cases[i].words[w]) != NULL,
                      "case %d: expected \"%s\" in: %s", i, cases[i].words[w],
                      nn_error_message());
    }
    nn_schedule_kind kind;
    cr_expect_neq(nn_schedule_parse("ExponentialDecayy", &kind), NN_OK);
    cr_expect(strstr(nn_error_message(), "CosineDecayRestarts") != NULL, "lists the names: %s",
              nn_error_message());
    cr_expect_eq(nn_schedule_parse("PolynomialDecay", &kind), NN_OK);
    cr_expect_eq(kind, NN_SCHEDULE_POLYNOMIAL_DECAY);
}

Test(schedule, an_optimizer_takes_each_updates_rate_from_its_schedule)
{
    /* SGD on one weight with gradient 1: each update subtracts that update's rate. The
     * schedule halves the rate every step: 0.1, 0.05, 0.025. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.schedule = schedule_of(NN_SCHEDULE_EXPONENTIAL_DECAY, 0.1, 1);
    config.schedule.decay_rate = 0.5;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 1), NN_OK, "%s", nn_error_message());
    float weight = 1.0f, gradient = 1.0f;
    for (int step = 0; step < 3; step++)
        nn_optimizer_step(optimizer, &weight, &gradient, NULL);
    cr_expect_float_eq(weight, 1.0f - 0.175f, 1e-7f, "weight %g", (double)weight);
    cr_expect_float_eq(optimizer->config.learning_rate, 0.025, 1e-15,
                       "the config holds the latest update's rate");
    cr_expect_float_eq(nn_optimizer_rate_at(&optimizer->config, optimizer->iterations), 0.0125,
                       1e-15, "and the next one follows the schedule");
    nn_optimizer_free(optimizer);

    config.schedule.decay_steps = 0;
    cr_expect_neq(nn_optimizer_create(&optimizer, &config, 1), NN_OK,
                  "a schedule out of range is refused");
}
