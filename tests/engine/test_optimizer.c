/* Optimizers: every kind and option against a double reference of Keras' update rules
 * over several steps, first steps by hand, Adam converging on a quadratic, names,
 * defaults and bad settings. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/bodies/update_body.h"
#include "optimizer.h"
#include "ref_core.h"
#include "test_support.h"

/* Runs `steps` updates with fresh random gradients (scaled by shrink^step) through the
 * optimizer and the reference and compares the weights after the last. */
static void check_schedule(const char *what, nn_optimizer_config config, size_t n, int steps,
                           const unsigned char *decay_mask, float shrink)
{
    float *w = malloc(n * sizeof *w), *g = malloc(n * sizeof *g);
    double *wd = malloc(n * sizeof *wd), *gd = malloc(n * sizeof *gd);
    ts_fill_uniform(w, n, 1, -1.0f, 1.0f);
    ts_to_double(wd, w, n);
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, n), NN_OK, "%s: %s", what,
                 nn_error_message());
    ref_optimizer reference;
    ref_optimizer_init(&reference, &config, n);
    for (int step = 0; step < steps; step++) {
        float scale = 2.0f * powf(shrink, (float)step);
        ts_fill_uniform(g, n, 100 + (uint64_t)step, -scale, scale);
        ts_to_double(gd, g, n);
        nn_optimizer_step(optimizer, w, g, decay_mask);
        ref_optimizer_step(&reference, wd, gd, decay_mask);
    }
    cr_assert_eq(optimizer->iterations, steps);
    ts_comparison c = ts_compare(w, wd, n, 1e-6, 1e-5);
    char label[128];
    snprintf(label, sizeof label, "%s, %d steps", what, steps);
    ts_report(label, &c);
    cr_expect(c.ok, "%s: w[%zu] = %.9g, reference %.9g", what, c.worst_index, c.actual,
              c.expected);
    ref_optimizer_free(&reference);
    nn_optimizer_free(optimizer);
    free(w);
    free(g);
    free(wd);
    free(gd);
}

static void check_against_reference(const char *what, nn_optimizer_config config, size_t n,
                                    int steps, const unsigned char *decay_mask)
{
    check_schedule(what, config, n, steps, decay_mask, 1.0f);
}

Test(optimizer, own_settings_fit_the_callers_arrays)
{
    /* The Lua binding lists them in an array of NN_OPTIMIZER_MOST_OWN_SETTINGS. */
    int most = 0;
    for (int kind = 0; kind < NN_OPTIMIZER_COUNT; kind++) {
        int count = 0;
        for (const char *const *own = nn_optimizer_own_settings((nn_optimizer_kind)kind); *own;
             own++)
            count++;
        cr_assert(count <= NN_OPTIMIZER_MOST_OWN_SETTINGS, "%s has %d own settings",
                  nn_optimizer_name((nn_optimizer_kind)kind), count);
        most = count > most ? count : most;
    }
    cr_assert_eq(most, NN_OPTIMIZER_MOST_OWN_SETTINGS, "the bound is the longest list (ftrl)");
}

Test(optimizer, every_setting_is_found_by_name_where_it_lives)
{
    /* model.optimizer describes a config through this table: a setting missing from it
     * would be left out of the description, and a second model built from it would differ. */
    for (int kind = 0; kind < NN_OPTIMIZER_COUNT; kind++)
        for (const char *const *own = nn_optimizer_own_settings((nn_optimizer_kind)kind); *own;
             own++)
            cr_assert(nn_optimizer_setting_find(*own), "%s's %s is not in the table",
                      nn_optimizer_name((nn_optimizer_kind)kind), *own);
    static const char *const shared[] = {"learning_rate", "weight_decay", "clipnorm",
                                         "clipvalue", "global_clipnorm"};
    for (int i = 0; i < 5; i++)
        cr_assert(nn_optimizer_setting_find(shared[i]), "%s is not in the table", shared[i]);
    cr_assert_null(nn_optimizer_setting_find("iterations"));
    cr_assert_null(nn_optimizer_setting_find("name"));
    /* The offsets reach the fields of those names. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_FTRL);
    const nn_optimizer_setting *beta = nn_optimizer_setting_find("beta");
    const nn_optimizer_setting *nesterov = nn_optimizer_setting_find("nesterov");
    cr_assert(!beta->flag && nesterov->flag);
    *(double *)((char *)&config + beta->offset) = 0.25;
    *(bool *)((char *)&config + nesterov->offset) = true;
    cr_assert(config.beta == 0.25 && config.nesterov, "beta %g, nesterov %d", config.beta,
              config.nesterov);
}

Test(optimizer, sgd_plain_momentum_and_nesterov)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    cr_assert(config.learning_rate == 0.01 && config.momentum == 0.0 && !config.nesterov);
    check_against_reference("sgd", config, 257, 5, NULL);
    config.momentum = 0.9;
    check_against_reference("sgd momentum 0.9", config, 257, 5, NULL);
    config.nesterov = true;
    check_against_reference("sgd nesterov momentum 0.9", config, 257, 5, NULL);
}

Test(optimizer, sgd_momentum_by_hand)
{
    /* g = 1 each step, lr 0.1, momentum 0.5: m = -0.1, -0.15, -0.175; w = 1 + Σm. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.learning_rate = 0.1;
    config.momentum = 0.5;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 1), NN_OK);
    float w = 1.0f, g = 1.0f;
    for (int i = 0; i < 3; i++)
        nn_optimizer_step(optimizer, &w, &g, NULL);
    cr_assert(fabsf(w - (1.0f - 0.1f - 0.15f - 0.175f)) < 1e-6f, "w = %.8f", (double)w);
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 0), "momentum");
    nn_optimizer_free(optimizer);
}

Test(optimizer, adam_steps_one_to_five)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    cr_assert(config.learning_rate == 0.001 && config.beta_1 == 0.9 && config.beta_2 == 0.999 &&
              config.epsilon == 1e-7 && !config.amsgrad && config.weight_decay == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("adam", config, 300, steps, NULL);
    config.amsgrad = true;
    check_against_reference("adam amsgrad", config, 300, 5, NULL);
    /* Shrinking gradients make v fall, so the running maximum v_hat differs from v. */
    check_schedule("adam amsgrad, shrinking gradients", config, 300, 5, NULL, 0.05f);
    config.amsgrad = false;
    check_schedule("adam, shrinking gradients", config, 300, 5, NULL, 0.05f);
    config.amsgrad = true;
    config.learning_rate = 0.05;
    check_against_reference("adam amsgrad lr 0.05", config, 300, 5, NULL);
}

Test(optimizer, adam_first_step_by_hand)
{
    /* t = 1: m = 0.1 g, v = 0.001 g², alpha = lr sqrt(0.001) / 0.1, so the step is
     * lr · g / (|g| + eps / sqrt(0.001)) ≈ lr · sign(g). */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 2), NN_OK);
    float w[2] = {1.0f, 1.0f}, g[2] = {0.5f, -3.0f};
    nn_optimizer_step(optimizer, w, g, NULL);
    double expected0 = 1.0 - 0.001 * 0.5 / (0.5 + 1e-7 / sqrt(0.001));
    double expected1 = 1.0 + 0.001 * 3.0 / (3.0 + 1e-7 / sqrt(0.001));
    cr_assert(fabs(w[0] - expected0) < 1e-7 && fabs(w[1] - expected1) < 1e-7, "w = %.9f %.9f",
              (double)w[0], (double)w[1]);
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 0), "momentum");
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 1), "velocity");
    cr_assert_null(nn_optimizer_slot_name(optimizer, 2));
    nn_optimizer_free(optimizer);
}

Test(optimizer, adamw_decays_only_the_masked_weights)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAMW);
    cr_assert(config.weight_decay == 0.004 && config.learning_rate == 0.001);
    enum { N = 200 };
    unsigned char mask[N];
    for (int i = 0; i < N; i++)
        mask[i] = i % 3 != 0;
    check_against_reference("adamw decay mask", config, N, 5, mask);
    check_against_reference("adamw no mask", config, N, 5, NULL);
    config.weight_decay = 0.5;
    config.learning_rate = 0.1;
    check_against_reference("adamw decay 0.5 lr 0.1", config, N, 5, mask);

    /* With a zero gradient only the decay moves a weight: w (1 - wd lr) per step. */
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 2), NN_OK);
    float w[2] = {2.0f, 2.0f}, g[2] = {0.0f, 0.0f};
    unsigned char only_first[2] = {1, 0};
    nn_optimizer_step(optimizer, w, g, only_first);
    cr_assert(fabsf(w[0] - 2.0f * (1.0f - 0.05f)) < 1e-6f && w[1] == 2.0f, "w = %g %g",
              (double)w[0], (double)w[1]);
    nn_optimizer_free(optimizer);
}

Test(optimizer, rmsprop_plain_momentum_centered)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    cr_assert(config.learning_rate == 0.001 && config.rho == 0.9 && config.momentum == 0.0 &&
              config.epsilon == 1e-7 && !config.centered);
    check_against_reference("rmsprop", config, 300, 5, NULL);
    config.centered = true;
    check_against_reference("rmsprop centered", config, 300, 5, NULL);
    check_schedule("rmsprop centered, shrinking gradients", config, 300, 5, NULL, 0.1f);
    config.momentum = 0.9;
    check_against_reference("rmsprop centered momentum 0.9", config, 300, 5, NULL);
    config.centered = false;
    check_against_reference("rmsprop momentum 0.9", config, 300, 5, NULL);

    /* Keras' docstring example: lr 0.1, loss var²/2 from 10 → 9.683772 after one step. */
    nn_optimizer_config example = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    example.learning_rate = 0.1;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &example, 1), NN_OK);
    float w = 10.0f, g = 10.0f;
    nn_optimizer_step(optimizer, &w, &g, NULL);
    cr_assert(fabsf(w - 9.683772f) < 1e-5f, "w = %.7f", (double)w);
    nn_optimizer_free(optimizer);
}

Test(optimizer, adagrad)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAGRAD);
    cr_assert(config.learning_rate == 0.001 && config.initial_accumulator_value == 0.1 &&
              config.epsilon == 1e-7);
    check_against_reference("adagrad", config, 300, 5, NULL);
    config.learning_rate = 0.1;
    config.initial_accumulator_value = 0.5;
    check_against_reference("adagrad lr 0.1 accumulator 0.5", config, 300, 5, NULL);
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 3), NN_OK);
    cr_assert_eq(optimizer->slots[0][2], 0.5f);
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 0), "accumulator");
    nn_optimizer_free(optimizer);
}

/* One optimizer's first step on w = {1, 1}, g = {0.5, -3}: the weights after it. */
static void first_step(nn_optimizer_config config, float w[2])
{
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 2), NN_OK, "%s", nn_error_message());
    float g[2] = {0.5f, -3.0f};
    nn_optimizer_step(optimizer, w, g, NULL);
    nn_optimizer_free(optimizer);
}

static void expect_slot_names(nn_optimizer_kind kind, const char *first, const char *second)
{
    nn_optimizer_config config = nn_optimizer_defaults(kind);
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 1), NN_OK);
    cr_assert_eq(optimizer->slot_count, second ? 2 : 1, "%s", nn_optimizer_name(kind));
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 0), first);
    if (second)
        cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 1), second);
    cr_assert_null(nn_optimizer_slot_name(optimizer, second ? 2 : 1));
    nn_optimizer_free(optimizer);
}

Test(optimizer, nadam_against_the_reference)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_NADAM);
    cr_assert(config.learning_rate == 0.001 && config.beta_1 == 0.9 && config.beta_2 == 0.999 &&
              config.epsilon == 1e-7 && config.weight_decay == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("nadam", config, 300, steps, NULL);
    check_against_reference("nadam", config, 300, 40, NULL);
    check_schedule("nadam, shrinking gradients", config, 300, 8, NULL, 0.3f);
    config.learning_rate = 0.05;
    config.beta_1 = 0.5;
    config.beta_2 = 0.9;
    check_against_reference("nadam lr 0.05 beta 0.5 0.9", config, 300, 6, NULL);
    expect_slot_names(NN_OPTIMIZER_NADAM, "momentum", "velocity");
}

Test(optimizer, nadam_first_step_by_hand)
{
    /* u_1 = 0.9 (1 - 0.5 · 0.96) = 0.468, u_2 = 0.9 (1 - 0.5 · 0.9216) = 0.48528; m = 0.1 g,
     * v = 0.001 g², so m_hat = g (0.048528 / (1 - 0.468 · 0.48528) + 1) and
     * v_hat = g²: w -= lr · m_hat / (|g| + eps). */
    float w[2] = {1.0f, 1.0f};
    first_step(nn_optimizer_defaults(NN_OPTIMIZER_NADAM), w);
    double factor = 0.048528 / (1.0 - 0.468 * 0.48528) + 1.0; /* 1.0627882... */
    double expected0 = 1.0 - 0.001 * 0.5 * factor / (0.5 + 1e-7);
    double expected1 = 1.0 + 0.001 * 3.0 * factor / (3.0 + 1e-7);
    cr_assert(fabs(w[0] - expected0) < 1e-7 && fabs(w[1] - expected1) < 1e-7,
              "w = %.9f %.9f, expected %.9f %.9f", (double)w[0], (double)w[1], expected0,
              expected1);
}

Test(optimizer, nadam_momentum_product_is_the_running_product)
{
    /* Keras multiplies u_product by u_t at every step; nnsh computes it from t. */
    double running = 1.0;
    for (long long t = 1; t <= 5000; t++) {
        running *= 0.9 * (1.0 - 0.5 * pow(0.96, (double)t));
        if (t <= 3 || t == 999 || t == 1000 || t == 1001 || t == 5000) {
            double closed = nn_body_nadam_product(0.9, t);
            cr_assert(fabs(closed - running) <= 1e-12 * running,
                      "t = %lld: product %.17g, running product %.17g", t, closed, running);
        }
    }
    cr_assert(nn_body_nadam_product(0.9, 0) == 1.0);
    cr_assert(nn_body_nadam_product(0.0, 3) == 0.0);
}

Test(optimizer, adamax_against_the_reference)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAMAX);
    cr_assert(config.learning_rate == 0.001 && config.beta_1 == 0.9 && config.beta_2 == 0.999 &&
              config.epsilon == 1e-7 && config.weight_decay == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("adamax", config, 300, steps, NULL);
    /* Shrinking gradients: the decayed norm beta_2 · u wins over |g|. */
    check_schedule("adamax, shrinking gradients", config, 300, 6, NULL, 0.2f);
    config.learning_rate = 0.02;
    config.beta_2 = 0.5;
    check_schedule("adamax lr 0.02 beta_2 0.5, shrinking gradients", config, 300, 6, NULL, 0.7f);
    expect_slot_names(NN_OPTIMIZER_ADAMAX, "momentum", "norm");
}

Test(optimizer, adamax_first_step_by_hand)
{
    /* t = 1: m = 0.1 g, u = |g|, step lr · m / ((1 - 0.9) (u + eps)) = lr · g / (|g| + eps). */
    float w[2] = {1.0f, 1.0f};
    first_step(nn_optimizer_defaults(NN_OPTIMIZER_ADAMAX), w);
    double expected0 = 1.0 - 0.001 * 0.5 / (0.5 + 1e-7);
    double expected1 = 1.0 + 0.001 * 3.0 / (3.0 + 1e-7);
    cr_assert(fabs(w[0] - expected0) < 1e-7 && fabs(w[1] - expected1) < 1e-7, "w = %.9f %.9f",
              (double)w[0], (double)w[1]);
}

Test(optimizer, adadelta_against_the_reference)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADADELTA);
    cr_assert(config.learning_rate == 0.001 && config.rho == 0.95 && config.epsilon == 1e-7 &&
              config.weight_decay == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("adadelta", config, 300, steps, NULL);
    config.learning_rate = 1.0; /* the paper's form */
    check_against_reference("adadelta lr 1", config, 300, 8, NULL);
    config.rho = 0.5;
    config.epsilon = 1e-4;
    check_schedule("adadelta lr 1 rho 0.5 eps 1e-4, shrinking gradients", config, 300, 6, NULL,
                   0.5f);
    expect_slot_names(NN_OPTIMIZER_ADADELTA, "accumulated_grad", "accumulated_delta_var");
}

Test(optimizer, adadelta_first_steps_by_hand)
{
    /* lr 1, rho 0.5, eps 0.01, w = 0, g = 1 twice:
     * step 1: a = 0.5, delta = -sqrt(0.01) / sqrt(0.51) = -0.140028, d = 0.5 delta² = 0.0098039;
     * step 2: a = 0.75, delta = -sqrt(0.0198039) / sqrt(0.76) = -0.161426. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADADELTA);
    config.learning_rate = 1.0;
    config.rho = 0.5;
    config.epsilon = 0.01;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 1), NN_OK);
    float w = 0.0f, g = 1.0f;
    nn_optimizer_step(optimizer, &w, &g, NULL);
    double delta1 = -sqrt(0.01) / sqrt(0.51);
    cr_assert(fabs(w - delta1) < 1e-6, "w = %.9f, expected %.9f", (double)w, delta1);
    double d = 0.5 * delta1 * delta1;
    cr_assert(fabs(optimizer->slots[1][0] - d) < 1e-7, "accumulated_delta_var = %.9f",
              (double)optimizer->slots[1][0]);
    nn_optimizer_step(optimizer, &w, &g, NULL);
    double delta2 = -sqrt(d + 0.01) / sqrt(0.76);
    cr_assert(fabs(w - (delta1 + delta2)) < 1e-6, "w = %.9f, expected %.9f", (double)w,
              delta1 + delta2);
    nn_optimizer_free(optimizer);
}

Test(optimizer, lion_against_the_reference)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_LION);
    cr_assert(config.learning_rate == 0.001 && config.beta_1 == 0.9 && config.beta_2 == 0.99 &&
              config.weight_decay == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("lion", config, 300, steps, NULL);
    check_schedule("lion, shrinking gradients", config, 300, 8, NULL, 0.5f);
    config.beta_1 = 0.5;
    config.beta_2 = 0.3;
    check_against_reference("lion beta 0.5 0.3", config, 300, 6, NULL);
    expect_slot_names(NN_OPTIMIZER_LION, "momentum", NULL);
}

Test(optimizer, lion_steps_by_the_sign_of_the_momentum)
{
    /* lr 0.1, g = 1 then -0.05: step 1 moves -lr (m = 0.01); step 2's direction
     * 0.9 · 0.01 + 0.1 · (-0.05) = 0.004 is still positive, so the weight falls again
     * though the gradient turned; a zero gradient with no momentum moves nothing. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_LION);
    config.learning_rate = 0.1;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 2), NN_OK);
    float w[2] = {1.0f, 1.0f}, g[2] = {1.0f, 0.0f};
    nn_optimizer_step(optimizer, w, g, NULL);
    cr_assert(fabsf(w[0] - 0.9f) < 1e-7f && w[1] == 1.0f, "w = %.9f %.9f", (double)w[0],
              (double)w[1]);
    cr_assert(fabsf(optimizer->slots[0][0] - 0.01f) < 1e-9f, "m = %.9g",
              (double)optimizer->slots[0][0]);
    g[0] = -0.05f;
    nn_optimizer_step(optimizer, w, g, NULL);
    cr_assert(fabsf(w[0] - 0.8f) < 1e-6f, "w = %.9f", (double)w[0]);
    double m = 0.99 * 0.01 + 0.01 * -0.05;
    cr_assert(fabs(optimizer->slots[0][0] - m) < 1e-9, "m = %.9g, expected %.9g",
              (double)optimizer->slots[0][0], m);
    nn_optimizer_free(optimizer);
}

Test(optimizer, ftrl_against_the_reference)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_FTRL);
    cr_assert(config.learning_rate == 0.001 && config.learning_rate_power == -0.5 &&
              config.initial_accumulator_value == 0.1 &&
              config.l1_regularization_strength == 0.0 &&
              config.l2_regularization_strength == 0.0 &&
              config.l2_shrinkage_regularization_strength == 0.0 && config.beta == 0.0);
    for (int steps = 1; steps <= 5; steps++)
        check_against_reference("ftrl", config, 300, steps, NULL);
    config.learning_rate = 0.1;
    check_against_reference("ftrl lr 0.1", config, 300, 8, NULL);
    /* l1 holds the weights whose |linear| stays below it at exactly 0. */
    config.l1_regularization_strength = 1.5;
    check_against_reference("ftrl lr 0.1 l1 1.5", config, 300, 6, NULL);
    config.l2_regularization_strength = 0.3;
    config.l2_shrinkage_regularization_strength = 0.2;
    config.beta = 0.5;
    check_against_reference("ftrl lr 0.1 l1 l2 shrinkage beta", config, 300, 6, NULL);
    /* Other powers run powf instead of the square root. */
    config.learning_rate_power = -0.3;
    check_against_reference("ftrl learning_rate_power -0.3", config, 300, 6, NULL);
    config.learning_rate_power = 0.0;
    config.initial_accumulator_value = 0.0;
    check_against_reference("ftrl learning_rate_power 0, accumulator 0", config, 300, 6, NULL);
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 3), NN_OK);
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 0), "accumulator");
    cr_assert_str_eq(nn_optimizer_slot_name(optimizer, 1), "linear");
    cr_assert_null(nn_optimizer_slot_name(optimizer, 2));
    nn_optimizer_free(optimizer);
}

Test(optimizer, ftrl_first_step_by_hand)
{
    /* lr 0.5, accumulator 0.25, w = 1, g = 1.5: n = 2.5, linear = 1.5 - (sqrt(2.5) - 0.5)
     * / 0.5 · 1 = -0.662278, quadratic = sqrt(2.5) / 0.5 = 3.162278; without l1 w =
     * 0.662278 / 3.162278 = 0.209431; with l1 = 0.3 linear is clipped to -0.3 and
     * w = (-0.3 + 0.662278) / 3.162278 = 0.114562; with l1 = 0.7 > |linear| w is exactly 0. */
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_FTRL);
    config.learning_rate = 0.5;
    config.initial_accumulator_value = 0.25;
    const double l1s[] = {0.0, 0.3, 0.7};
    const double linear = 1.5 - (sqrt(2.5) - 0.5) / 0.5;
    const double expected[] = {-linear / (sqrt(2.5) / 0.5), (-0.3 - linear) / (sqrt(2.5) / 0.5),
                               0.0};
    cr_assert(fabs(expected[0] - 0.209431) < 1e-6 && fabs(expected[1] - 0.114562) < 1e-6);
    for (int k = 0; k < 3; k++) {
        config.l1_regularization_strength = l1s[k];
        nn_optimizer *optimizer;
        cr_assert_eq(nn_optimizer_create(&optimizer, &config, 1), NN_OK);
        float w = 1.0f, g = 1.5f;
        nn_optimizer_step(optimizer, &w, &g, NULL);
        cr_assert(fabs(w - expected[k]) < 1e-6, "l1 %g: w = %.9f, expected %.9f", l1s[k],
                  (double)w, expected[k]);
        if (k == 2)
            cr_assert(w == 0.0f, "l1 above |linear|: w = %g", (double)w);
        cr_assert(fabs(optimizer->slots[1][0] - linear) < 1e-6, "linear = %.9f",
                  (double)optimizer->slots[1][0]);
        cr_assert(optimizer->slots[0][0] == 2.5f, "accumulator = %g",
                  (double)optimizer->slots[0][0]);
        nn_optimizer_free(optimizer);
    }
}

Test(optimizer, new_optimizers_with_weight_decay_and_clipping)
{
    enum { N = 200 };
    unsigned char mask[N];
    for (int i = 0; i < N; i++)
        mask[i] = i % 3 != 0;
    static const nn_optimizer_kind kinds[] = {NN_OPTIMIZER_NADAM, NN_OPTIMIZER_ADAMAX,
                                              NN_OPTIMIZER_ADADELTA, NN_OPTIMIZER_LION,
                                              NN_OPTIMIZER_FTRL};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        char what[96];
        const char *name = nn_optimizer_name(kinds[k]);
        nn_optimizer_config config = nn_optimizer_defaults(kinds[k]);
        config.learning_rate = kinds[k] == NN_OPTIMIZER_ADADELTA ? 1.0 : 0.01;
        config.weight_decay = 0.5;
        snprintf(what, sizeof what, "%s weight_decay 0.5, masked", name);
        check_against_reference(what, config, N, 5, mask);
        config.clipnorm = 1.0; /* the random gradients have norm ~16 */
        snprintf(what, sizeof what, "%s weight_decay 0.5 clipnorm 1", name);
        check_against_reference(what, config, N, 5, mask);
        config.weight_decay = 0.0;
        config.clipnorm = 0.0;
        config.clipvalue = 0.3;
        snprintf(what, sizeof what, "%s clipvalue 0.3", name);
        check_against_reference(what, config, N, 5, NULL);
    }
}

Test(optimizer, gradient_clipping)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.clipnorm = 1.0; /* the random gradients have norm ~20 */
    check_against_reference("sgd clipnorm 1", config, 300, 3, NULL);
    config.clipnorm = 1e6; /* no effect */
    check_against_reference("sgd clipnorm 1e6", config, 300, 3, NULL);
    config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.clipvalue = 0.5;
    check_against_reference("adam clipvalue 0.5", config, 300, 3, NULL);
}

Test(optimizer, large_buffers_take_the_parallel_path_identically)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    check_against_reference("adam, 100000 weights (OpenMP)", config, 100000, 3, NULL);
    /* The same numbers with one thread and with several. */
    enum { N = 70000 };
    float *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b), *g = malloc(N * sizeof *g);
    ts_fill_uniform(a, N, 3, -1.0f, 1.0f);
    memcpy(b, a, N * sizeof *a);
    ts_fill_uniform(g, N, 4, -1.0f, 1.0f);
    config = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    config.centered = true;
    config.clipnorm = 10.0;
    nn_optimizer *one, *many;
    cr_assert_eq(nn_optimizer_create(&one, &config, N), NN_OK);
    cr_assert_eq(nn_optimizer_create(&many, &config, N), NN_OK);
    int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    nn_optimizer_step(one, a, g, NULL);
    omp_set_num_threads(threads > 1 ? threads : 2);
    nn_optimizer_step(many, b, g, NULL);
    omp_set_num_threads(threads);
    cr_assert(memcmp(a, b, N * sizeof *a) == 0, "results depend on the thread count");
    nn_optimizer_free(one);
    nn_optimizer_free(many);
    free(a);
    free(b);
    free(g);
}

Test(optimizer, adam_converges_on_a_quadratic)
{
    /* loss = Σ c_i (w_i - t_i)², gradient 2 c_i (w_i - t_i). */
    enum { N = 16 };
    float w[N], target[N], curvature[N], g[N];
    ts_fill_uniform(w, N, 7, -3.0f, 3.0f);
    ts_fill_uniform(target, N, 8, -2.0f, 2.0f);
    ts_fill_uniform(curvature, N, 9, 0.5f, 5.0f);
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.learning_rate = 0.05;
    nn_optimizer *optimizer;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, N), NN_OK);
    for (int step = 0; step < 2000; step++) {
        for (int i = 0; i < N; i++)
            g[i] = 2.0f * curvature[i] * (w[i] - target[i]);
        nn_optimizer_step(optimizer, w, g, NULL);
    }
    double worst = 0.0;
    for (int i = 0; i < N; i++)
        worst = fmax(worst, fabs((double)w[i] - target[i]));
    fprintf(stderr, "[optimizer] adam on a quadratic: max |w - w*| = %.3e after 2000 steps\n",
            worst);
    cr_assert(worst < 1e-3, "adam did not converge: max |w - w*| = %g", worst);
    nn_optimizer_free(optimizer);
}

Test(optimizer, names_are_case_insensitive)
{
    static const struct {
        const char *name;
        nn_optimizer_kind kind;
    } cases[] = {
        {"adam", NN_OPTIMIZER_ADAM},       {"Adam", NN_OPTIMIZER_ADAM},
        {"SGD", NN_OPTIMIZER_SGD},         {"sgd", NN_OPTIMIZER_SGD},
        {"AdamW", NN_OPTIMIZER_ADAMW},     {"RMSprop", NN_OPTIMIZER_RMSPROP},
        {"rmsprop", NN_OPTIMIZER_RMSPROP}, {"Adagrad", NN_OPTIMIZER_ADAGRAD},
        {"Nadam", NN_OPTIMIZER_NADAM},     {"adamax", NN_OPTIMIZER_ADAMAX},
        {"Adamax", NN_OPTIMIZER_ADAMAX},   {"Adadelta", NN_OPTIMIZER_ADADELTA},
        {"LION", NN_OPTIMIZER_LION},       {"Ftrl", NN_OPTIMIZER_FTRL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_optimizer_kind kind;
        cr_assert_eq(nn_optimizer_parse(cases[i].name, &kind), NN_OK, "%s", cases[i].name);
        cr_assert_eq(kind, cases[i].kind, "%s", cases[i].name);
    }
    nn_optimizer_kind kind;
    cr_assert_eq(nn_optimizer_parse("adamx", &kind), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "'rmsprop'"), "%s", nn_error_message());
    cr_assert(strstr(nn_error_message(), "lion"), "%s", nn_error_message());
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_ADAGRAD), "adagrad");
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_NADAM), "nadam");
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_ADAMAX), "adamax");
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_ADADELTA), "adadelta");
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_LION), "lion");
    cr_assert_str_eq(nn_optimizer_name(NN_OPTIMIZER_FTRL), "ftrl");
}

Test(optimizer, bad_settings_are_rejected)
{
    nn_optimizer *optimizer;
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.momentum = 1.5;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "momentum"), "%s", nn_error_message());
    config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.learning_rate = -0.1;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT);
    config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.beta_1 = 1.0;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT);
    config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.clipnorm = 1.0;
    config.clipvalue = 1.0;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "only one"), "%s", nn_error_message());
    config = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    config.rho = NAN;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT);
    static const struct {
        nn_optimizer_kind kind;
        const char *setting;
        double value;
        const char *message;
    } bad[] = {
        {NN_OPTIMIZER_NADAM, "beta_2", 1.0, "nadam: beta_2 must be in [0, 1), got 1"},
        {NN_OPTIMIZER_NADAM, "beta_1", -0.1, "nadam: beta_1 must be in [0, 1), got -0.1"},
        {NN_OPTIMIZER_ADAMAX, "beta_1", 1.0, "adamax: beta_1 must be in [0, 1), got 1"},
        {NN_OPTIMIZER_ADAMAX, "epsilon", -1e-7, "adamax: epsilon must be in [0, 1], got -1e-07"},
        {NN_OPTIMIZER_ADADELTA, "rho", 1.5, "adadelta: rho must be in [0, 1], got 1.5"},
        {NN_OPTIMIZER_ADADELTA, "rho", NAN, "adadelta: rho must be in [0, 1], got nan"},
        {NN_OPTIMIZER_LION, "beta_1", 0.0, "lion: beta_1 must be in (0, 1], got 0"},
        {NN_OPTIMIZER_LION, "beta_1", 1.5, "lion: beta_1 must be in (0, 1], got 1.5"},
        {NN_OPTIMIZER_LION, "beta_2", 2.0, "lion: beta_2 must be in [0, 1], got 2"},
        {NN_OPTIMIZER_FTRL, "learning_rate_power", 0.5,
         "ftrl: learning_rate_power must be in [-1e+30, 0], got 0.5"},
        {NN_OPTIMIZER_FTRL, "l1_regularization_strength", -1.0,
         "ftrl: l1_regularization_strength must be in [0, 1e+30], got -1"},
        {NN_OPTIMIZER_FTRL, "l2_regularization_strength", NAN,
         "ftrl: l2_regularization_strength must be in [0, 1e+30], got nan"},
        {NN_OPTIMIZER_FTRL, "l2_shrinkage_regularization_strength", -0.5,
         "ftrl: l2_shrinkage_regularization_strength must be in [0, 1e+30], got -0.5"},
        {NN_OPTIMIZER_FTRL, "beta", -2.0, "ftrl: beta must be in [0, 1e+30], got -2"},
        {NN_OPTIMIZER_FTRL, "initial_accumulator_value", -0.1,
         "ftrl: initial_accumulator_value must be in [0, 1e+30], got -0.1"},
        {NN_OPTIMIZER_FTRL, "learning_rate", 0.0,
         "ftrl: learning_rate must be above 0 (Ftrl divides by it, at least 1.17549e-38 in float32), got 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        config = nn_optimizer_defaults(bad[i].kind);
        const struct {
            const char *name;
            double *value;
        } settings[] = {
            {"beta_1", &config.beta_1},
            {"beta_2", &config.beta_2},
            {"rho", &config.rho},
            {"epsilon", &config.epsilon},
            {"learning_rate", &config.learning_rate},
            {"learning_rate_power", &config.learning_rate_power},
            {"l1_regularization_strength", &config.l1_regularization_strength},
            {"l2_regularization_strength", &config.l2_regularization_strength},
            {"l2_shrinkage_regularization_strength", &config.l2_shrinkage_regularization_strength},
            {"beta", &config.beta},
            {"initial_accumulator_value", &config.initial_accumulator_value},
        };
        double *setting = NULL;
        for (size_t s = 0; s < sizeof settings / sizeof settings[0]; s++)
            if (strcmp(settings[s].name, bad[i].setting) == 0)
                setting = settings[s].value;
        cr_assert_not_null(setting, "%s", bad[i].setting);
        *setting = bad[i].value;
        cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_ERR_ARGUMENT, "%s",
                     bad[i].message);
        cr_assert_str_eq(nn_error_message(), bad[i].message);
    }
    /* Lion takes beta_1 = 1 and beta_2 = 1 (Keras' range), which only freeze its momentum. */
    config = nn_optimizer_defaults(NN_OPTIMIZER_LION);
    config.beta_1 = 1.0;
    config.beta_2 = 1.0;
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 4), NN_OK, "%s", nn_error_message());
    nn_optimizer_free(optimizer);
    /* An empty model is fine. */
    config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    cr_assert_eq(nn_optimizer_create(&optimizer, &config, 0), NN_OK);
    nn_optimizer_step(optimizer, NULL, NULL, NULL);
    nn_optimizer_free(optimizer);
}
