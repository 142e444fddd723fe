/* Tensors: shapes, views sharing storage, reshape and slice rules, overflow checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "tensor.h"

Test(tensor, create_is_zero_filled_and_shaped)
{
    nn_tensor *t;
    nn_shape shape = NN_SHAPE(2, 3, 4);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    cr_assert_eq(nn_tensor_count(t), 24);
    for (size_t i = 0; i < 24; i++)
        cr_assert_eq(nn_tensor_f32(t)[i], 0.0f);
    nn_tensor_free(t);
}

Test(tensor, shape_format_matches_python_tuples)
{
    char text[64];
    nn_shape batch = NN_SHAPE(-1, 28, 28, 32);
    cr_assert_str_eq(nn_shape_format(&batch, text, sizeof text), "(None, 28, 28, 32)");
    nn_shape vector = NN_SHAPE(10);
    cr_assert_str_eq(nn_shape_format(&vector, text, sizeof text), "(10,)");
    nn_shape scalar = {.ndim = 0};
    cr_assert_str_eq(nn_shape_format(&scalar, text, sizeof text), "()");
}

Test(tensor, reshape_infers_one_axis_and_shares_storage)
{
    nn_tensor *t, *r;
    nn_shape shape = NN_SHAPE(60, 784);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_U8, &shape), NN_OK);
    nn_shape target = NN_SHAPE(-1, 28, 28, 1);
    cr_assert_eq(nn_tensor_reshape(&r, t, &target), NN_OK);
    cr_assert_eq(r->shape.dims[0], 60);
    cr_assert_eq(r->storage, t->storage);
    ((uint8_t *)nn_tensor_data(t))[5] = 9;
    cr_assert_eq(((uint8_t *)nn_tensor_data(r))[5], 9);
    nn_tensor_free(t); /* the view keeps the storage alive */
    cr_assert_eq(((uint8_t *)nn_tensor_data(r))[5], 9);
    nn_tensor_free(r);
}

Test(tensor, reshape_rejects_bad_sizes)
{
    nn_tensor *t, *r;
    nn_shape shape = NN_SHAPE(6);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    nn_shape wrong = NN_SHAPE(4, -1);
    cr_assert_eq(nn_tensor_reshape(&r, t, &wrong), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "not a multiple") != NULL, "%s", nn_error_message());
    nn_shape two_unknown = NN_SHAPE(-1, -1);
    cr_assert_eq(nn_tensor_reshape(&r, t, &two_unknown), NN_ERR_SHAPE);
    nn_shape zero = NN_SHAPE(0, 6);
    cr_assert_eq(nn_tensor_reshape(&r, t, &zero), NN_ERR_SHAPE);
    nn_shape too_many = NN_SHAPE(7);
    cr_assert_eq(nn_tensor_reshape(&r, t, &too_many), NN_ERR_SHAPE);
    nn_tensor_free(t);
}

Test(tensor, slice_views_rows_and_checks_range)
{
    nn_tensor *t, *s;
    nn_shape shape = NN_SHAPE(5, 2);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &shape), NN_OK);
    for (int i = 0; i < 10; i++)
        nn_tensor_f32(t)[i] = (float)i;
    cr_assert_eq(nn_tensor_slice(&s, t, 1, 3), NN_OK);
    cr_assert_eq(s->shape.dims[0], 3);
    cr_assert_eq(nn_tensor_f32(s)[0], 2.0f);
    nn_tensor_free(s);
    cr_assert_eq(nn_tensor_slice(&s, t, 4, 2), NN_ERR_SHAPE);
    cr_assert_eq(nn_tensor_slice(&s, t, -1, 1), NN_ERR_SHAPE);
    cr_assert_eq(nn_tensor_slice(&s, t, 0, 0), NN_ERR_SHAPE);
    nn_tensor_free(t);
}

Test(tensor, zero_negative_and_overflowing_shapes_are_errors)
{
    nn_tensor *t;
    nn_shape zero = NN_SHAPE(3, 0);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &zero), NN_ERR_SHAPE);
    cr_assert(strstr(nn_error_message(), "zero") != NULL);
    nn_shape negative = NN_SHAPE(-2, 3);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &negative), NN_ERR_SHAPE);
    nn_shape huge = NN_SHAPE(INT64_C(1) << 40, INT64_C(1) << 40);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &huge), NN_ERR_MEMORY);
    nn_shape bytes_overflow = NN_SHAPE(INT64_C(1) << 62);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &bytes_overflow), NN_ERR_MEMORY);
    nn_shape too_many_axes = {.ndim = 9};
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_F32, &too_many_axes), NN_ERR_SHAPE);
}

Test(tensor, astype_converts_and_saturates)
{
    nn_tensor *t, *f, *u;
    nn_shape shape = NN_SHAPE(3);
    cr_assert_eq(nn_tensor_create(&t, NN_DTYPE_U8, &shape), NN_OK);
    uint8_t *bytes = nn_tensor_data(t);
    bytes[0] = 0, bytes[1] = 128, bytes[2] = 255;
    cr_assert_eq(nn_tensor_astype(&f, t, NN_DTYPE_F32), NN_OK);
    cr_assert_eq(nn_tensor_f32(f)[2], 255.0f);
    nn_tensor_f32(f)[0] = -5.0f;
    nn_tensor_f32(f)[1] = 1e9f;
    cr_assert_eq(nn_tensor_astype(&u, f, NN_DTYPE_U8), NN_OK);
    cr_assert_eq(((uint8_t *)nn_tensor_data(u))[0], 0);
    cr_assert_eq(((uint8_t *)nn_tensor_data(u))[1], 255);
    nn_tensor_free(t), nn_tensor_free(f), nn_tensor_free(u);
}
