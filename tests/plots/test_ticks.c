/* Tick choice: nice steps, ranges that start and end on ticks, short labels. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ticks.h"

/* The labels joined with spaces, for one readable comparison. */
static const char *joined(const nn_ticks *ticks)
{
    static char text[512];
    text[0] = '\0';
    for (int i = 0; i < ticks->count; i++) {
        if (i)
            strcat(text, " ");
        strcat(text, ticks->labels[i]);
    }
    return text;
}

#define expect_labels(ticks, expected)                                                   \
    cr_expect_str_eq(joined(&(ticks)), (expected), "ticks: expected \"%s\", got \"%s\"", \
                     (expected), joined(&(ticks)))

Test(ticks, seed_loss_range_gets_steps_of_one_twentieth)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, 0.0367, 0.1864, 5, false);
    expect_labels(ticks, "0.00 0.05 0.10 0.15 0.20");
    cr_expect_float_eq(ticks.low, 0.0, 1e-12);
    cr_expect_float_eq(ticks.high, 0.2, 1e-12);
}

Test(ticks, accuracy_range_uses_two_decimals)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, 0.9436, 0.9903, 4, false);
    expect_labels(ticks, "0.94 0.96 0.98 1.00");
}

Test(ticks, fewer_rows_give_fewer_ticks)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, 0.0367, 0.1864, 3, false);
    expect_labels(ticks, "0.0 0.1 0.2");
}

Test(ticks, large_and_negative_values)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, -230, 1780, 5, false);
    expect_labels(ticks, "-500 0 500 1000 1500 2000");
    nn_ticks_linear(&ticks, 0, 3.2e7, 4, false);
    expect_labels(ticks, "0 1e7 2e7 3e7 4e7");
}

Test(ticks, tiny_steps_use_exponents)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, 1.2e-5, 4.9e-5, 4, false);
    expect_labels(ticks, "1e-5 2e-5 3e-5 4e-5 5e-5");
}

Test(ticks, one_value_is_widened_around_it)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, 0.5, 0.5, 5, false);
    cr_expect(ticks.low < 0.5 && ticks.high > 0.5, "range [%g, %g] must contain 0.5 inside",
              ticks.low, ticks.high);
    expect_labels(ticks, "0.45 0.50 0.55");
    nn_ticks_linear(&ticks, 0, 0, 3, false);
    expect_labels(ticks, "-1 0 1");
}

Test(ticks, non_finite_bounds_give_the_unit_range)
{
    nn_ticks ticks;
    nn_ticks_linear(&ticks, NAN, INFINITY, 3, false);
    expect_labels(ticks, "0.0 0.5 1.0");
}

Test(ticks, epochs_stay_whole_and_inside_the_data)
{
    nn_ticks ticks;
    nn_ticks_linear_inside(&ticks, 1, 5, 6, true);
    expect_labels(ticks, "1 2 3 4 5");
    cr_expect_float_eq(ticks.low, 1.0, 1e-12);
    cr_expect_float_eq(ticks.high, 5.0, 1e-12);
    nn_ticks_linear_inside(&ticks, 1, 100, 5, true);
    expect_labels(ticks, "20 40 60 80 100");
    nn_ticks_linear_inside(&ticks, 1, 2, 10, true);
    expect_labels(ticks, "1 2");
    nn_ticks_linear_inside(&ticks, 3, 3, 5, true);
    expect_labels(ticks, "2 3 4");
}

Test(ticks, log_axis_within_a_decade_uses_one_two_five)
{
    nn_ticks ticks;
    nn_ticks_log(&ticks, 0.021, 0.09, 4);
    expect_labels(ticks, "0.02 0.05 0.1");
    nn_ticks_log(&ticks, 0.5, 3, 4);
    expect_labels(ticks, "0.5 1 2 5");
}

Test(ticks, log_axis_over_many_decades_uses_powers_of_ten)
{
    nn_ticks ticks;
    nn_ticks_log(&ticks, 3e-5, 2.5, 6);
    expect_labels(ticks, "1e-5 0.001 0.1 10");
    nn_ticks_log(&ticks, 3e-9, 2.5e3, 4);
    expect_labels(ticks, "1e-9 0.0001 10 1e6");
}

Test(ticks, labels_carry_only_the_digits_the_step_needs)
{
    char label[32];
    nn_tick_format(0.30000000000000004, 0.1, label, sizeof label);
    cr_expect_str_eq(label, "0.3");
    nn_tick_format(-1e-17, 0.05, label, sizeof label);
    cr_expect_str_eq(label, "0.00", "a rounding residue prints as 0.00, not -0.00, got %s",
                     label);
    nn_tick_format(2500, 500, label, sizeof label);
    cr_expect_str_eq(label, "2500");
    nn_tick_format(0.25, 0.05, label, sizeof label);
    cr_expect_str_eq(label, "0.25");
}
