/* Embedding: the lookup by hand, the table's gradient against a naive reference (repeated
 * indices add up, rows never used get zero), the input's gradient of zeros, the shape
 * rules of input_length, and the errors for bad indices and arguments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "layer_harness.h"

/* An Embedding(input_dim, output_dim) built on `input`, its table holding 0, 1, 2, ... */
static nn_layer *embedding(int input_dim, int output_dim, const nn_shape *input)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_embedding_class), NN_OK);
    harness_set_int(layer, "input_dim", input_dim);
    harness_set_int(layer, "output_dim", output_dim);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_layer_build(layer, input), NN_OK, "%s", nn_error_message());
    float *table = nn_tensor_f32(layer->params[0].value);
    for (int i = 0; i < input_dim * output_dim; i++)
        table[i] = (float)i;
    return layer;
}

static bool shape_is(const nn_shape *shape, nn_shape expected)
{
    return nn_shape_equal(shape, &expected);
}

/* dtable (rows, dim) from the definition: for every index in order, its row of dout added
 * to the row it names. */
static void reference_gradient(float *dtable, const float *dout, const float *indices,
                               size_t count, size_t rows, size_t dim)
{
    for (size_t k = 0; k < rows * dim; k++)
        dtable[k] = 0.0f;
    for (size_t i = 0; i < count; i++)
        for (size_t c = 0; c < dim; c++)
            dtable[(size_t)indices[i] * dim + c] += dout[i * dim + c];
}

Test(embedding, each_index_becomes_its_row_of_the_table)
{
    nn_shape shape = NN_SHAPE(2, 3);
    nn_layer *layer = embedding(4, 3, &shape);
    cr_assert_str_eq(layer->params[0].name, "embeddings");
    cr_assert(shape_is(&layer->params[0].shape, NN_SHAPE(4, 3)));
    cr_assert(shape_is(&layer->output_shape, NN_SHAPE(-1, 3, 3)));
    nn_tensor *x = harness_tensor(&shape, (const float[]){0, 3, 1, 2, 2, 0});
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_OK, "%s", nn_error_message());
    const float expected[] = {0, 1, 2,  9, 10, 11,  3, 4, 5,
                              6, 7, 8,  6, 7,  8,   0, 1, 2};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        cr_expect_eq(nn_tensor_f32(run.output)[i], expected[i], "element %zu: expected %g, got %g",
                     i, (double)expected[i], (double)nn_tensor_f32(run.output)[i]);
    harness_run_free(&run);
    nn_tensor_free(x);
    nn_layer_release(layer);
}

Test(embedding, a_batch_of_any_rank_gains_a_last_axis)
{
    nn_shape vector = NN_SHAPE(5), grid = NN_SHAPE(2, 3, 4);
    nn_layer *one = embedding(10, 6, &vector), *three = embedding(10, 6, &grid);
    cr_expect(shape_is(&one->output_shape, NN_SHAPE(-1, 6)));
    cr_expect(shape_is(&three->output_shape, NN_SHAPE(-1, 3, 4, 6)));
    cr_expect_eq(nn_layer_count_params(three, true), 60);
    nn_layer_release(one);
    nn_layer_release(three);
}

Test(embedding, the_table_gradient_matches_the_reference_and_the_input_gets_zeros)
{
    enum { BATCH = 6, STEPS = 7, ROWS = 9, DIM = 70, COUNT = BATCH * STEPS };
    nn_shape shape = NN_SHAPE(BATCH, STEPS);
    nn_layer *layer = embedding(ROWS, DIM, &shape);
    ts_fill_uniform(nn_tensor_f32(layer->params[0].value), ROWS * DIM, 1, -1, 1);
    nn_tensor *x = harness_tensor(&shape, NULL);
    float *indices = nn_tensor_f32(x);
    nn_rng rng;
    nn_rng_init(&rng, 2, 0);
    for (int i = 0; i < COUNT; i++) /* rows 0 .. ROWS - 2: the last one is never used */
        indices[i] = (float)(int)(nn_rng_uniform(&rng) * (ROWS - 1));
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    for (int i = 0; i < COUNT; i++)
        for (int c = 0; c < DIM; c++)
            cr_assert_eq(nn_tensor_f32(run.output)[i * DIM + c],
                         nn_tensor_f32(layer->params[0].value)[(int)indices[i] * DIM + c]);
    nn_shape out_shape = NN_SHAPE(BATCH, STEPS, DIM);
    nn_tensor *dy = harness_tensor(&out_shape, NULL), *dx = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), COUNT * DIM, 3, -1, 1);
    ts_fill_uniform(nn_tensor_f32(dx), COUNT, 4, 5, 6);
    float *dtable = nn_tensor_f32(layer->params[0].grad);
    ts_fill_uniform(dtable, ROWS * DIM, 5, 7, 8); /* overwritten, not added to */
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s", nn_error_message());
    float expected[ROWS * DIM];
    reference_gradient(expected, nn_tensor_f32(dy), indices, COUNT, ROWS, DIM);
    for (int k = 0; k < ROWS * DIM; k++)
        cr_expect_eq(dtable[k], expected[k], "dtable[%d]: expected %.9g, got %.9g", k,
                     (double)expected[k], (double)dtable[k]);
    for (int c = 0; c < DIM; c++)
        cr_expect_eq(dtable[(ROWS - 1) * DIM + c], 0.0f, "the unused row is zero");
    for (int i = 0; i < COUNT; i++)
        cr_expect_eq(nn_tensor_f32(dx)[i], 0.0f, "dx[%d]: indices have no gradient", i);
    /* The first layer of a model gets no dinput. */
    cr_assert_eq(harness_backward(&run, layer, x, dy, NULL, false), NN_OK, "%s", nn_error_message());
    for (int k = 0; k < ROWS * DIM; k++)
        cr_expect_eq(dtable[k], expected[k]);
    harness_run_free(&run);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    nn_layer_release(layer);
}

Test(embedding, repeated_indices_add_their_gradients)
{
    nn_shape shape = NN_SHAPE(1, 3);
    nn_layer *layer = embedding(3, 2, &shape);
    nn_tensor *x = harness_tensor(&shape, (const float[]){1, 1, 1});
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    nn_shape out_shape = NN_SHAPE(1, 3, 2);
    nn_tensor *dy = harness_tensor(&out_shape, (const float[]){1, 10, 2, 20, 3, 30});
    cr_assert_eq(harness_backward(&run, layer, x, dy, NULL, false), NN_OK, "%s", nn_error_message());
    const float expected[] = {0, 0, 6, 60, 0, 0};
    for (int k = 0; k < 6; k++)
        cr_expect_eq(nn_tensor_f32(layer->params[0].grad)[k], expected[k],
                     "dtable[%d]: expected %g, got %g", k, (double)expected[k],
                     (double)nn_tensor_f32(layer->params[0].grad)[k]);
    harness_run_free(&run);
    nn_tensor_free(x), nn_tensor_free(dy);
    nn_layer_release(layer);
}

Test(embedding, a_bad_index_is_an_error_naming_the_layer_value_position_and_range)
{
    const struct { float value; const char *text; } cases[] = {
        {5, "= 5 "}, {-1, "= -1 "}, {2.5f, "= 2.5 "}, {NAN, "= NaN "}, {INFINITY, "= inf "},
        {1e30f, "= 1.00000002e+30 "}};
    nn_shape shape = NN_SHAPE(2, 3);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nn_layer *layer = embedding(5, 2, &shape);
        nn_tensor *x = harness_tensor(&shape, (const float[]){0, 1, 2, 3, cases[k].value, 4});
        harness_run run;
        cr_assert_eq(harness_forward(&run, layer, x, false, NULL), NN_ERR_ARGUMENT,
                     "value %g was taken", (double)cases[k].value);
        ASSERT_MENTIONS(nn_error_message(), "Embedding \"embedding", "input[1, 1]",
                        cases[k].text, "whole numbers in [0, 5)", "input_dim=5");
        nn_tensor *out = NULL;
        cr_assert_eq(nn_layer_call(layer, x, false, &out), NN_ERR_ARGUMENT);
        cr_assert_null(out);
        ASSERT_MENTIONS(nn_error_message(), "input[1, 1]", cases[k].text);
        harness_run_free(&run);
        nn_tensor_free(x);
        nn_layer_release(layer);
    }
}

Test(embedding, integer_inputs_are_checked_too)
{
    nn_shape shape = NN_SHAPE(1, 2);
    nn_layer *layer = embedding(3, 2, &shape);
    nn_tensor *bytes = NULL;
    cr_assert_eq(nn_tensor_create(&bytes, NN_DTYPE_U8, &shape), NN_OK);
    ((uint8_t *)nn_tensor_data(bytes))[0] = 2;
    ((uint8_t *)nn_tensor_data(bytes))[1] = 3;
    cr_assert_eq(nn_layer_check_input(layer, bytes), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "input[0, 1] = 3", "[0, 3)");
    ((uint8_t *)nn_tensor_data(bytes))[1] = 0;
    cr_assert_eq(nn_layer_check_input(layer, bytes), NN_OK, "%s", nn_error_message());
    nn_tensor_free(bytes);
    nn_layer_release(layer);
}

Test(embedding, arguments_keras_refuses_or_nnsh_lacks_are_errors)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_embedding_class), NN_OK);
    harness_set_int(layer, "input_dim", 0);
    harness_set_int(layer, "output_dim", 2);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "input_dim=0");
    harness_set_int(layer, "input_dim", 4);
    harness_set_bool(layer, "mask_zero", true);
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "mask_zero is taken: %s", nn_error_message());
    cr_expect_eq(nn_layer_mask_use(layer), (unsigned)NN_MASK_MAKES);
    nn_layer_release(layer);

    /* input_length declares the input (input_length,), and builds only on that. */
    cr_assert_eq(nn_layer_create(&layer, &nn_embedding_class), NN_OK);
    harness_set_int(layer, "input_dim", 4);
    harness_set_int(layer, "output_dim", 2);
    *(nn_optional_int *)harness_arg(layer, "input_length") = (nn_optional_int){true, 7};
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_expect(shape_is(&layer->declared_input, NN_SHAPE(7)));
    nn_shape wrong = NN_SHAPE(2, 6);
    cr_assert_eq(nn_layer_build(layer, &wrong), NN_ERR_SHAPE);
    ASSERT_MENTIONS(nn_error_message(), "input_length=7", "(None, 7)", "(None, 6)");
    *(nn_shape *)harness_arg(layer, "input_shape") = NN_SHAPE(6);
    cr_assert_eq(nn_layer_finish(layer), NN_ERR_ARGUMENT);
    ASSERT_MENTIONS(nn_error_message(), "input_length=7", "input_shape is (6,)");
    nn_layer_release(layer);
}
