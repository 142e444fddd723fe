/* Tensor ops for the Lua API: matmul against a naive product in double over NumPy's
 * shape rules, transpose against its index formula, concatenate, stack, softmax, the
 * shape helpers, and the same results for tensors on the emulated device. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "tensor_ops.h"
#include "test_support.h"

static nn_tensor *uniform(nn_shape shape, uint64_t seed)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    ts_fill_uniform(nn_tensor_f32(t), nn_tensor_count(t), seed, -1.0f, 1.0f);
    return t;
}

static nn_tensor *counting(nn_dtype dtype, nn_shape shape, int64_t first, int64_t step)
{
    nn_tensor *t;
    cr_assert_eq(nn_tensor_create(&t, dtype, &shape), NN_OK);
    for (size_t i = 0; i < nn_tensor_count(t); i++)
        nn_tensor_set_int64(t, i, first + (int64_t)i * step);
    return t;
}

/* a @ b for a batch (batch_a, n, k) and (batch_b, k, m) with batch_a or batch_b 1 or
 * equal, in double, element by element. */
static void naive_matmul(const nn_tensor *a, const nn_tensor *b, int64_t batch_a,
                         int64_t batch_b, int64_t n, int64_t k, int64_t m, double *out)
{
    int64_t batch = batch_a > batch_b ? batch_a : batch_b;
    for (int64_t s = 0; s < batch; s++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) {
                double sum = 0.0;
                for (int64_t p = 0; p < k; p++)
                    sum += nn_tensor_get(a, (size_t)((batch_a == 1 ? 0 : s) * n * k + i * k + p)) *
                           nn_tensor_get(b, (size_t)((batch_b == 1 ? 0 : s) * k * m + p * m + j));
                out[(s * n + i) * m + j] = sum;
            }
}

static void expect_shape(const nn_tensor *t, const char *expected)
{
    char text[128];
    cr_expect_str_eq(nn_shape_format(&t->shape, text, sizeof text), expected);
}

Test(tensor_matmul, matrices_and_broadcast_batches_match_a_naive_product)
{
    /* (3, 5, 7) @ (7, 4): b is one matrix for every matrix of a's batch. */
    nn_tensor *a = uniform(NN_SHAPE(3, 5, 7), 1), *b = uniform(NN_SHAPE(7, 4), 2), *c;
    double expected[3 * 5 * 4];
    cr_assert_eq(nn_tensor_matmul(&c, a, b), NN_OK);
    expect_shape(c, "(3, 5, 4)");
    naive_matmul(a, b, 3, 1, 5, 7, 4, expected);
    ts_comparison comparison = ts_compare(nn_tensor_f32(c), expected, 60, 1e-6, 1e-5);
    ts_report("matmul (3,5,7)@(7,4)", &comparison);
    cr_expect(comparison.ok);
    nn_tensor_free(c);

    /* (1, 5, 7) @ (2, 7, 4): a's batch of one repeats. */
    nn_tensor *a1 = uniform(NN_SHAPE(1, 5, 7), 3), *b2 = uniform(NN_SHAPE(2, 7, 4), 4);
    cr_assert_eq(nn_tensor_matmul(&c, a1, b2), NN_OK);
    expect_shape(c, "(2, 5, 4)");
    naive_matmul(a1, b2, 1, 2, 5, 7, 4, expected);
    comparison = ts_compare(nn_tensor_f32(c), expected, 40, 1e-6, 1e-5);
    cr_expect(comparison.ok);
    nn_tensor_free(c);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(a1);
    nn_tensor_free(b2);
}

Test(tensor_matmul, vectors_lose_the_axis_they_gained)
{
    nn_tensor *v = counting(NN_DTYPE_F32, NN_SHAPE(3), 1, 1);      /* 1 2 3 */
    nn_tensor *w = counting(NN_DTYPE_F32, NN_SHAPE(3), 4, 1);      /* 4 5 6 */
    nn_tensor *m = counting(NN_DTYPE_F32, NN_SHAPE(2, 3), 0, 1);   /* 0..5 */
    nn_tensor *mt = counting(NN_DTYPE_F32, NN_SHAPE(3, 2), 0, 1);  /* 0..5 */
    nn_tensor *c;
    cr_assert_eq(nn_tensor_matmul(&c, v, w), NN_OK);
    expect_shape(c, "()");
    cr_expect_eq(nn_tensor_f32(c)[0], 32.0f);
    nn_tensor_free(c);
    cr_assert_eq(nn_tensor_matmul(&c, m, v), NN_OK); /* a column on the right */
    expect_shape(c, "(2,)");
    cr_expect_eq(nn_tensor_f32(c)[0], 8.0f);
    cr_expect_eq(nn_tensor_f32(c)[1], 26.0f);
    nn_tensor_free(c);
    cr_assert_eq(nn_tensor_matmul(&c, v, mt), NN_OK); /* a row on the left */
    expect_shape(c, "(2,)");
    cr_expect_eq(nn_tensor_f32(c)[0], 16.0f); /* 1*0 + 2*2 + 3*4 */
    cr_expect_eq(nn_tensor_f32(c)[1], 22.0f); /* 1*1 + 2*3 + 3*5 */
    nn_tensor_free(c);
    nn_tensor_free(v);
    nn_tensor_free(w);
    nn_tensor_free(m);
    nn_tensor_free(mt);
}

Test(tensor_matmul, integers_stay_whole_and_wrap_as_numpy)
{
    /* uint8: 200 * 2 + 100 * 1 = 500, which wraps to 244 in uint8 as NumPy's does. */
    nn_tensor *a = counting(NN_DTYPE_U8, NN_SHAPE(1, 2), 200, -100);
    nn_tensor *b = counting(NN_DTYPE_U8, NN_SHAPE(2, 1), 2, -1);
    nn_tensor *c;
    cr_assert_eq(nn_tensor_matmul(&c, a, b), NN_OK);
    cr_expect_eq(c->dtype, NN_DTYPE_U8);
    cr_expect_eq(nn_tensor_get_int64(c, 0), 244);
    nn_tensor_free(c);
    /* int64 beyond 2^53 is exact: (2^53 + 1) * 1 + 1 * 1. */
    nn_tensor *big = counting(NN_DTYPE_I64, NN_SHAPE(2), (INT64_C(1) << 53) + 1, 0);
    nn_tensor_set_int64(big, 1, 1);
    nn_tensor *ones = counting(NN_DTYPE_I64, NN_SHAPE(2), 1, 0);
    cr_assert_eq(nn_tensor_matmul(&c, big, ones), NN_OK);
    cr_expect_eq(c->dtype, NN_DTYPE_I64);
    cr_expect_eq(nn_tensor_get_int64(c, 0), (INT64_C(1) << 53) + 2);
    nn_tensor_free(c);
    /* An integer with a float gives float32. */
    nn_tensor *f = counting(NN_DTYPE_F32, NN_SHAPE(2), 1, 1);
    cr_assert_eq(nn_tensor_matmul(&c, ones, f), NN_OK);
    cr_expect_eq(c->dtype, NN_DTYPE_F32);
    cr_expect_eq(nn_tensor_f32(c)[0], 3.0f);
    nn_tensor_free(c);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(big);
    nn_tensor_free(ones);
    nn_tensor_free(f);
}

Test(tensor_matmul, shapes_that_do_not_fit_are_refused_with_both_shapes)
{
    nn_tensor *a = uniform(NN_SHAPE(2, 3), 1), *b = uniform(NN_SHAPE(2, 3), 2), *c = NULL;
    cr_expect_eq(nn_tensor_matmul(&c, a, b), NN_ERR_SHAPE);
    cr_expect(strstr(nn_error_message(), "(2, 3) and (2, 3)") != NULL, "%s", nn_error_message());
    cr_expect_null(c);
    nn_tensor *a3 = uniform(NN_SHAPE(2, 3, 4), 3), *b3 = uniform(NN_SHAPE(3, 4, 2), 4);
    cr_expect_eq(nn_tensor_matmul(&c, a3, b3), NN_ERR_SHAPE);
    cr_expect(strstr(nn_error_message(), "broadcast") != NULL, "%s", nn_error_message());
    nn_shape scalar = {.ndim = 0};
    nn_tensor *s;
    cr_assert_eq(nn_tensor_create(&s, NN_DTYPE_F32, &scalar), NN_OK);
    cr_expect_eq(nn_tensor_matmul(&c, s, a), NN_ERR_SHAPE);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(a3);
    nn_tensor_free(b3);
    nn_tensor_free(s);
}

Test(tensor_transpose, every_element_lands_where_the_permutation_says)
{
    nn_tensor *a = counting(NN_DTYPE_I32, NN_SHAPE(2, 3, 4), 0, 1), *t;
    const int axes[] = {1, -1, 0}; /* result (3, 4, 2) */
    cr_assert_eq(nn_tensor_transpose(&t, a, axes, 3), NN_OK);
    expect_shape(t, "(3, 4, 2)");
    cr_expect_eq(t->dtype, NN_DTYPE_I32);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 2; k++)
                cr_expect_eq(nn_tensor_get_int64(t, (size_t)((i * 4 + j) * 2 + k)),
                             k * 12 + i * 4 + j, "t[%d][%d][%d]", i, j, k);
    nn_tensor_free(t);
    cr_assert_eq(nn_tensor_transpose(&t, a, NULL, 0), NN_OK); /* reversed: (4, 3, 2) */
    expect_shape(t, "(4, 3, 2)");
    cr_expect_eq(nn_tensor_get_int64(t, 1), 12); /* t[0][0][1] = a[1][0][0] */
    nn_tensor_free(t);
    const int twice[] = {0, 0, 1}, short_list[] = {1, 0};
    cr_expect_eq(nn_tensor_transpose(&t, a, twice, 3), NN_ERR_ARGUMENT);
    cr_expect(strstr(nn_error_message(), "twice") != NULL, "%s", nn_error_message());
    cr_expect_eq(nn_tensor_transpose(&t, a, short_list, 2), NN_ERR_ARGUMENT);
    nn_tensor_free(a);
}

Test(tensor_concatenate, parts_join_along_any_axis_and_promote_dtypes)
{
    nn_tensor *a = counting(NN_DTYPE_U8, NN_SHAPE(2, 2), 0, 1);   /* 0 1 / 2 3 */
    nn_tensor *b = counting(NN_DTYPE_I32, NN_SHAPE(2, 1), 10, 1); /* 10 / 11 */
    nn_tensor *c;
    const nn_tensor *parts[] = {a, b};
    cr_assert_eq(nn_tensor_concatenate(&c, parts, 2, -1), NN_OK);
    expect_shape(c, "(2, 3)");
    cr_expect_eq(c->dtype, NN_DTYPE_I32);
    const int64_t expected[] = {0, 1, 10, 2, 3, 11};
    for (size_t i = 0; i < 6; i++)
        cr_expect_eq(nn_tensor_get_int64(c, i), expected[i], "element %zu", i);
    nn_tensor_free(c);
    cr_expect_eq(nn_tensor_concatenate(&c, parts, 2, 0), NN_ERR_SHAPE);
    cr_expect(strstr(nn_error_message(), "only along axis 0") != NULL, "%s", nn_error_message());
    nn_tensor_free(a);
    nn_tensor_free(b);
}

Test(tensor_stack, parts_of_one_shape_gain_a_new_axis)
{
    nn_tensor *a = counting(NN_DTYPE_F32, NN_SHAPE(2, 3), 0, 1);
    nn_tensor *b = counting(NN_DTYPE_F32, NN_SHAPE(2, 3), 100, 1);
    const nn_tensor *parts[] = {a, b};
    nn_tensor *s;
    cr_assert_eq(nn_tensor_stack(&s, parts, 2, 0), NN_OK);
    expect_shape(s, "(2, 2, 3)");
    cr_expect_eq(nn_tensor_f32(s)[6], 100.0f);
    nn_tensor_free(s);
    cr_assert_eq(nn_tensor_stack(&s, parts, 2, -1), NN_OK); /* (2, 3, 2): pairs */
    expect_shape(s, "(2, 3, 2)");
    cr_expect_eq(nn_tensor_f32(s)[0], 0.0f);
    cr_expect_eq(nn_tensor_f32(s)[1], 100.0f);
    cr_expect_eq(nn_tensor_f32(s)[11], 105.0f);
    nn_tensor_free(s);
    nn_tensor *c = counting(NN_DTYPE_F32, NN_SHAPE(3, 2), 0, 1);
    const nn_tensor *mixed[] = {a, c};
    cr_expect_eq(nn_tensor_stack(&s, mixed, 2, 0), NN_ERR_SHAPE);
    nn_tensor_free(a);
    nn_tensor_free(b);
    nn_tensor_free(c);
}

Test(tensor_softmax, rows_sum_to_one_without_overflow)
{
    nn_tensor *a = counting(NN_DTYPE_F32, NN_SHAPE(2, 3), 1, 1), *s;
    for (size_t i = 3; i < 6; i++)
        nn_tensor_f32(a)[i] = 1000.0f; /* exp(1000) overflows a double */
    cr_assert_eq(nn_tensor_softmax(&s, a, -1), NN_OK);
    double e1 = exp(1.0), e2 = exp(2.0), e3 = exp(3.0), sum = e1 + e2 + e3;
    const double expected[] = {e1 / sum, e2 / sum, e3 / sum, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    ts_comparison comparison = ts_compare(nn_tensor_f32(s), expected, 6, 1e-7, 1e-6);
    cr_expect(comparison.ok);
    nn_tensor_free(s);
    cr_assert_eq(nn_tensor_softmax(&s, a, 0), NN_OK); /* down the columns */
    cr_expect_float_eq(nn_tensor_f32(s)[0] + nn_tensor_f32(s)[3], 1.0f, 1e-6);
    cr_expect_lt(nn_tensor_f32(s)[0], 1e-30f);
    nn_tensor_free(s);
    nn_tensor_free(a);
}

Test(tensor_shapes, expand_dims_and_squeeze)
{
    char text[64];
    nn_shape image = NN_SHAPE(28, 28, 1), out;
    cr_assert_eq(nn_shape_expand_dims(&image, 0, &out), NN_OK);
    cr_expect_str_eq(nn_shape_format(&out, text, sizeof text), "(1, 28, 28, 1)");
    cr_assert_eq(nn_shape_expand_dims(&image, -1, &out), NN_OK);
    cr_expect_str_eq(nn_shape_format(&out, text, sizeof text), "(28, 28, 1, 1)");
    cr_expect_eq(nn_shape_expand_dims(&image, 4, &out), NN_ERR_ARGUMENT);
    cr_assert_eq(nn_shape_squeeze(&image, NULL, &out), NN_OK);
    cr_expect_str_eq(nn_shape_format(&out, text, sizeof text), "(28, 28)");
    int axis = -1;
    cr_assert_eq(nn_shape_squeeze(&image, &axis, &out), NN_OK);
    cr_expect_str_eq(nn_shape_format(&out, text, sizeof text), "(28, 28)");
    axis = 0;
    cr_expect_eq(nn_shape_squeeze(&image, &axis, &out), NN_ERR_SHAPE);
    cr_expect(strstr(nn_error_message(), "size 28") != NULL, "%s", nn_error_message());
}

Test(tensor_ops_on_a_device, results_stay_on_the_operands_device)
{
    nn_device emulated = {NN_DEVICE_EMULATED, 0};
    nn_tensor *a = counting(NN_DTYPE_F32, NN_SHAPE(2, 3), 0, 1), *da, *product, *t, *back;
    cr_assert_eq(nn_tensor_to(&da, a, emulated), NN_OK);
    cr_assert_eq(nn_tensor_transpose(&t, da, NULL, 0), NN_OK);
    cr_expect(nn_device_equal(nn_tensor_device(t), emulated));
    cr_assert_eq(nn_tensor_matmul(&product, da, t), NN_OK); /* (2, 3) @ (3, 2) */
    cr_expect(nn_device_equal(nn_tensor_device(product), emulated));
    cr_assert_eq(nn_tensor_to(&back, product, nn_device_cpu()), NN_OK);
    cr_expect_eq(nn_tensor_f32(back)[0], 5.0f);  /* 0 1 2 . 0 1 2 */
    cr_expect_eq(nn_tensor_f32(back)[1], 14.0f); /* 0 1 2 . 3 4 5 */
    cr_expect_eq(nn_tensor_f32(back)[3], 50.0f);
    nn_tensor_free(back);
    const nn_tensor *parts[] = {da, a};
    nn_tensor *joined;
    cr_assert_eq(nn_tensor_concatenate(&joined, parts, 2, 0), NN_OK);
    cr_expect(nn_device_equal(nn_tensor_device(joined), emulated));
    nn_tensor_free(joined);
    nn_tensor_free(product);
    nn_tensor_free(t);
    nn_tensor_free(da);
    nn_tensor_free(a);
}
