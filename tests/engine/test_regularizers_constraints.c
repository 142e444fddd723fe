/* Regularizers (penalty and gradient) and constraints (Keras' norm projections over any
 * set of axes) against double references. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "param.h"
#include "ref_core.h"
#include "test_support.h"

Test(regularizers, parse_uses_keras_string_defaults)
{
    nn_regularizer r;
    cr_assert_eq(nn_regularizer_parse("l1", &r), NN_OK);
    cr_assert(r.l1 == 0.01f && r.l2 == 0.0f);
    cr_assert_eq(nn_regularizer_parse("l2", &r), NN_OK);
    cr_assert(r.l1 == 0.0f && r.l2 == 0.01f);
    cr_assert_eq(nn_regularizer_parse("l1_l2", &r), NN_OK);
    cr_assert(r.l1 == 0.01f && r.l2 == 0.01f);
    cr_assert(nn_regularizer_active(&r));
    nn_regularizer none = {0};
    cr_assert(!nn_regularizer_active(&none));
    cr_assert_eq(nn_regularizer_parse("l3", &r), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "'l1_l2'"), "%s", nn_error_message());
}

typedef struct penalty_context {
    double l1, l2;
} penalty_context;

static double penalty_reference(const double *w, size_t n, void *context)
{
    const penalty_context *c = context;
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += c->l1 * fabs(w[i]) + c->l2 * w[i] * w[i];
    return total;
}

Test(regularizers, penalty_and_gradient_match_the_reference)
{
    enum { N = 300 };
    float w[N], grad[N], base[N];
    double wd[N], numeric[N];
    ts_fill_uniform(w, N, 5, -2.0f, 2.0f);
    for (size_t i = 0; i < N; i++)
        if (fabsf(w[i]) < 1e-3f)
            w[i] = 0.5f; /* |w| has no derivative at 0 */
    ts_fill_uniform(base, N, 6, -1.0f, 1.0f);
    memcpy(grad, base, sizeof grad);
    nn_regularizer r = {.l1 = 0.03f, .l2 = 0.02f};
    double penalty = nn_regularizer_apply(&r, w, grad, N);
    ts_to_double(wd, w, N);
    penalty_context context = {r.l1, r.l2};
    double expected = penalty_reference(wd, N, &context);
    cr_assert(fabs(penalty - expected) <= 1e-9 * fabs(expected), "penalty %.12g vs %.12g",
              penalty, expected);
    ts_numeric_gradient(penalty_reference, &context, wd, N, 1e-6, numeric);
    float added[N];
    for (size_t i = 0; i < N; i++)
        added[i] = grad[i] - base[i]; /* the gradient is added, not written */
    ts_comparison c = ts_compare(added, numeric, N, 1e-6, 1e-4);
    ts_report("regularizer l1_l2 gradient vs finite differences", &c);
    cr_assert(c.ok);
    /* Without a gradient buffer only the penalty is computed. */
    cr_assert_eq(nn_regularizer_apply(&r, w, NULL, N), penalty);
}

static nn_tensor *tensor_from(nn_shape shape, const float *values)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    memcpy(nn_tensor_f32(t), values, nn_tensor_bytes(t));
    return t;
}

/* Applies the constraint to random weights of `shape` and compares with the reference. */
static void check_constraint(const char *what, nn_constraint constraint, nn_shape shape,
                             float scale, uint64_t seed)
{
    size_t n = (size_t)nn_shape_inner(&shape, 0);
    float *values = malloc(n * sizeof *values);
    double *expected = malloc(n * sizeof *expected);
    ts_fill_uniform(values, n, seed, -scale, scale);
    nn_tensor *t = tensor_from(shape, values);
    ts_to_double(expected, values, n);
    cr_assert_eq(nn_constraint_apply(&constraint, t), NN_OK, "%s", nn_error_message());
    ref_constraint(expected, shape.dims, shape.ndim, &constraint);
    ts_comparison c = ts_compare(nn_tensor_f32(t), expected, n, 1e-7, 1e-6);
    ts_report(what, &c);
    cr_assert(c.ok, "%s", what);
    nn_tensor_free(t);
    free(values);
    free(expected);
}

Test(constraints, max_norm_over_axis_zero_of_a_dense_kernel)
{
    /* Columns of (20, 6) with entries up to ±1 have norms around 2.6: some are cut to 2,
     * those below stay. */
    nn_constraint max_norm = nn_constraint_default(NN_CONSTRAINT_MAX_NORM);
    check_constraint("max_norm (20,6) axis 0", max_norm, NN_SHAPE(20, 6), 1.0f, 1);
    check_constraint("max_norm (20,6) axis 0, norms below 2", max_norm, NN_SHAPE(20, 6), 0.3f,
                     11);
    nn_shape shape = NN_SHAPE(20, 6);
    float values[120];
    ts_fill_uniform(values, 120, 1, -1.0f, 1.0f);
    nn_tensor *t = tensor_from(shape, values);
    nn_constraint_apply(&max_norm, t);
    for (int col = 0; col < 6; col++) {
        double before = 0.0, after = 0.0;
        for (int row = 0; row < 20; row++) {
            before += (double)values[row * 6 + col] * values[row * 6 + col];
            after += (double)nn_tensor_f32(t)[row * 6 + col] * nn_tensor_f32(t)[row * 6 + col];
        }
        double expected = fmin(sqrt(before), 2.0);
        cr_assert(fabs(sqrt(after) - expected) < 1e-5, "column %d: norm %.7f, expected %.7f",
                  col, sqrt(after), expected);
    }
    nn_tensor_free(t);
}

Test(constraints, norms_over_several_axes_of_a_conv_kernel)
{
    nn_constraint max_norm = nn_constraint_default(NN_CONSTRAINT_MAX_NORM);
    max_norm.axes = 0x7; /* Keras' axis=[0, 1, 2]: one norm per filter */
    max_norm.max_value = 1.5f;
    check_constraint("max_norm (3,3,4,8) axes 0,1,2", max_norm, NN_SHAPE(3, 3, 4, 8), 0.5f, 2);
    nn_constraint unit = nn_constraint_default(NN_CONSTRAINT_UNIT_NORM);
    unit.axes = 0x7;
    check_constraint("unit_norm (3,3,4,8) axes 0,1,2", unit, NN_SHAPE(3, 3, 4, 8), 0.5f, 3);
    unit.axes = 0x2; /* a middle axis alone */
    check_constraint("unit_norm (3,5,4) axis 1", unit, NN_SHAPE(3, 5, 4), 0.5f, 4);
}

Test(constraints, unit_norm_gives_norm_one)
{
    nn_constraint unit = nn_constraint_default(NN_CONSTRAINT_UNIT_NORM);
    nn_shape shape = NN_SHAPE(10, 4);
    float values[40];
    ts_fill_uniform(values, 40, 9, -3.0f, 3.0f);
    nn_tensor *t = tensor_from(shape, values);
    cr_assert_eq(nn_constraint_apply(&unit, t), NN_OK);
    for (int col = 0; col < 4; col++) {
        double norm = 0.0;
        for (int row = 0; row < 10; row++)
            norm += (double)nn_tensor_f32(t)[row * 4 + col] * nn_tensor_f32(t)[row * 4 + col];
        cr_assert(fabs(sqrt(norm) - 1.0) < 1e-6, "column %d has norm %.8f", col, sqrt(norm));
    }
    nn_tensor_free(t);
}

Test(constraints, min_max_norm_and_non_neg)
{
    nn_constraint min_max = nn_constraint_default(NN_CONSTRAINT_MIN_MAX_NORM);
    cr_assert(min_max.min_value == 0.0f && min_max.max_value == 1.0f && min_max.rate == 1.0f &&
              min_max.axes == 1u);
    check_constraint("min_max_norm defaults (8,5)", min_max, NN_SHAPE(8, 5), 1.0f, 5);
    min_max.min_value = 1.0f;
    min_max.max_value = 1.2f;
    min_max.rate = 0.5f;
    check_constraint("min_max_norm [1, 1.2] rate 0.5 (8,5)", min_max, NN_SHAPE(8, 5), 0.3f, 6);
    check_constraint("min_max_norm [1, 1.2] rate 0.5 (8,5) big", min_max, NN_SHAPE(8, 5), 3.0f,
                     7);
    nn_constraint non_neg = nn_constraint_default(NN_CONSTRAINT_NON_NEG);
    check_constraint("non_neg (4,4)", non_neg, NN_SHAPE(4, 4), 1.0f, 8);
}

Test(constraints, parse_and_errors)
{
    nn_constraint c;
    cr_assert_eq(nn_constraint_parse("max_norm", &c), NN_OK);
    cr_assert(c.kind == NN_CONSTRAINT_MAX_NORM && c.max_value == 2.0f && c.axes == 1u);
    cr_assert_eq(nn_constraint_parse("NonNeg", &c), NN_OK);
    cr_assert_eq(c.kind, NN_CONSTRAINT_NON_NEG);
    cr_assert_eq(nn_constraint_parse("unitnorm", &c), NN_OK);
    cr_assert_eq(c.kind, NN_CONSTRAINT_UNIT_NORM);
    cr_assert_eq(nn_constraint_parse("max", &c), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "'min_max_norm'"), "%s", nn_error_message());
    cr_assert_str_eq(nn_constraint_names()[0], "max_norm");

    /* An axis the weight does not have. */
    nn_constraint bad = nn_constraint_default(NN_CONSTRAINT_MAX_NORM);
    bad.axes = 1u << 3;
    nn_shape shape = NN_SHAPE(4, 4);
    float values[16] = {0};
    nn_tensor *t = tensor_from(shape, values);
    cr_assert_eq(nn_constraint_apply(&bad, t), NN_ERR_ARGUMENT);
    cr_assert(strstr(nn_error_message(), "(4, 4)"), "%s", nn_error_message());
    nn_constraint none = nn_constraint_default(NN_CONSTRAINT_NONE);
    cr_assert_eq(nn_constraint_apply(&none, t), NN_OK);
    nn_tensor_free(t);
}
