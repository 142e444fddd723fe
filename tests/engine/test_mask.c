/* Keras' masking of steps: the CPU kernels (step mask, row select, masked mean over steps,
 * the loss weights under a mask) against naive references written here, the masked mean's gradient against central
 * differences, and the Masking layer's forward and backward. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu_kernels.h"
#include "layer_harness.h"

Test(mask, a_step_is_kept_when_any_feature_differs_from_the_value)
{
    /* 4 rows of 3: all 5, one 5 off, all 0, 5 with a NaN (NaN differs from everything) */
    const float x[] = {5, 5, 5, 5, 5, 4, 0, 0, 0, 5, NAN, 5};
    float mask[4];
    nn_cpu_step_mask(mask, x, 5.0f, 4, 3);
    const float expected[] = {0, 1, 1, 1};
    for (int r = 0; r < 4; r++)
        cr_expect_eq(mask[r], expected[r], "row %d: %g, expected %g", r, (double)mask[r],
                     (double)expected[r]);
    /* an Embedding's indices: width 1, value 0 */
    const float ids[] = {3, 0, 1, 0, 0};
    float id_mask[5];
    nn_cpu_step_mask(id_mask, ids, 0.0f, 5, 1);
    const float id_expected[] = {1, 0, 1, 0, 0};
    cr_expect_arr_eq(id_mask, id_expected, sizeof id_expected);
}

Test(mask, select_rows_picks_by_row_with_a_stride_and_zeros_for_null)
{
    enum { ROWS = 3, WIDTH = 2, STEPS = 4 };
    float kept[ROWS * WIDTH], masked[ROWS * WIDTH], out[ROWS * WIDTH];
    for (int i = 0; i < ROWS * WIDTH; i++) {
        kept[i] = (float)(i + 1);
        masked[i] = (float)(-10 * (i + 1));
    }
    /* (ROWS samples, STEPS steps); step 2 of each read with stride STEPS */
    float mask[ROWS * STEPS] = {0};
    mask[0 * STEPS + 2] = 1.0f;
    mask[2 * STEPS + 2] = 1.0f;
    nn_cpu_select_rows(out, kept, masked, mask + 2, STEPS, ROWS, WIDTH);
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < WIDTH; j++) {
            int i = r * WIDTH + j;
            float expected = r == 1 ? masked[i] : kept[i];
            cr_expect_eq(out[i], expected, "row %d column %d: %g, expected %g", r, j,
                         (double)out[i], (double)expected);
        }
    nn_cpu_select_rows(out, NULL, kept, mask + 2, STEPS, ROWS, WIDTH);
    for (int i = 0; i < ROWS * WIDTH; i++)
        cr_expect_eq(out[i], i / WIDTH == 1 ? kept[i] : 0.0f, "NULL kept: element %d", i);
    /* in place, and an infinity in a masked row stays out of the result */
    kept[2] = INFINITY;
    nn_cpu_select_rows(kept, kept, NULL, mask + 2, STEPS, ROWS, WIDTH);
    cr_expect_eq(kept[2], 0.0f, "a masked infinity becomes 0, not NaN");
    cr_expect_eq(kept[0], 1.0f, "kept values stay in place");
}

/* The masked mean of x (batch, steps, channels) in double, as Keras writes it. */
static void reference_mean(double *out, const double *x, const float *mask, int batch,
                           int steps, int channels)
{
    for (int b = 0; b < batch; b++)
        for (int c = 0; c < channels; c++) {
            double sum = 0.0, count = 0.0;
            for (int t = 0; t < steps; t++) {
                sum += mask[b * steps + t] * x[(b * steps + t) * channels + c];
                count += mask[b * steps + t];
            }
            out[b * channels + c] = count > 0.0 ? sum / count : 0.0;
        }
}

typedef struct mean_case {
    int batch, steps, channels;
    const float *mask;
    const float *weights; /* dout of the objective sum(weights · mean) */
} mean_case;

static double mean_objective(const double *x, size_t n, void *context)
{
    (void)n;
    const mean_case *c = context;
    size_t count = (size_t)(c->batch * c->channels);
    double *out = malloc(count * sizeof *out), total = 0.0;
    reference_mean(out, x, c->mask, c->batch, c->steps, c->channels);
    for (size_t i = 0; i < count; i++)
        total += c->weights[i] * out[i];
    free(out);
    return total;
}

Test(mask, masked_mean_matches_the_reference_and_its_central_differences)
{
    enum { BATCH = 3, STEPS = 5, CHANNELS = 4 };
    const float mask[BATCH * STEPS] = {1, 0, 1, 1, 0, /* three kept */
                                       0, 0, 0, 0, 0, /* none: 0, and no gradient */
                                       0, 0, 0, 0, 1}; /* only the last */
    float x[BATCH * STEPS * CHANNELS], out[BATCH * CHANNELS], dout[BATCH * CHANNELS];
    float dx[BATCH * STEPS * CHANNELS];
    ts_fill_uniform(x, BATCH * STEPS * CHANNELS, 11, -2, 2);
    ts_fill_uniform(dout, BATCH * CHANNELS, 12, -1, 1);
    nn_cpu_masked_mean_steps(out, x, mask, BATCH, STEPS, CHANNELS);
    double xd[BATCH * STEPS * CHANNELS], expected[BATCH * CHANNELS];
    ts_to_double(xd, x, BATCH * STEPS * CHANNELS);
    reference_mean(expected, xd, mask, BATCH, STEPS, CHANNELS);
    ts_comparison forward = ts_compare(out, expected, BATCH * CHANNELS, 1e-6, 1e-6);
    cr_expect(forward.ok, "forward: element %zu is %.9g, expected %.9g", forward.worst_index,
              (double)out[forward.worst_index], expected[forward.worst_index]);
    cr_expect_eq(out[1 * CHANNELS + 2], 0.0f, "a sample with every step masked gives 0");

    memset(dx, 0x7f, sizeof dx); /* overwritten, not accumulated */
    nn_cpu_masked_mean_steps_backward(dx, dout, mask, BATCH, STEPS, CHANNELS);
    mean_case c = {BATCH, STEPS, CHANNELS, mask, dout};
    double numeric[BATCH * STEPS * CHANNELS];
    ts_numeric_gradient(mean_objective, &c, xd, BATCH * STEPS * CHANNELS, 1e-5, numeric);
    ts_comparison backward = ts_compare(dx, numeric, BATCH * STEPS * CHANNELS, 1e-6, 1e-5);
    cr_expect(backward.ok, "backward: element %zu is %.9g, the central difference %.9g",
              backward.worst_index, (double)dx[backward.worst_index],
              numeric[backward.worst_index]);
}

Test(mask, loss_weights_make_the_mean_over_all_rows_the_mean_over_the_kept_ones)
{
    enum { ROWS = 700 }; /* more rows than reduction slices */
    float mask[ROWS], weights[ROWS], out[ROWS], loss[ROWS];
    double kept = 0.0, kept_sum = 0.0, weighted_sum = 0.0;
    ts_fill_uniform(loss, ROWS, 14, 0, 3);
    ts_fill_uniform(weights, ROWS, 15, 0, 2);
    for (int r = 0; r < ROWS; r++) {
        mask[r] = r % 7 == 3 || r % 5 == 0 ? 0.0f : 1.0f;
        kept += mask[r];
        kept_sum += mask[r] * loss[r];
        weighted_sum += mask[r] * weights[r] * loss[r];
    }
    nn_cpu_masked_loss_weights(out, NULL, mask, ROWS);
    double mean = 0.0;
    for (int r = 0; r < ROWS; r++)
        mean += (double)out[r] * loss[r];
    mean /= ROWS;
    cr_expect(fabs(mean - kept_sum / kept) < 1e-5 * kept_sum / kept,
              "the mean over all rows %.9g, over the kept %.9g", mean, kept_sum / kept);
    for (int r = 0; r < ROWS; r++)
        if (mask[r] == 0.0f)
            cr_expect_eq(out[r], 0.0f, "masked row %d weighs 0", r);
    /* sample weights multiply it, in place */
    memcpy(out, weights, sizeof out);
    nn_cpu_masked_loss_weights(out, out, mask, ROWS);
    mean = 0.0;
    for (int r = 0; r < ROWS; r++)
        mean += (double)out[r] * loss[r];
    mean /= ROWS;
    cr_expect(fabs(mean - weighted_sum / kept) < 1e-5 * weighted_sum / kept,
              "weighted: %.9g, expected %.9g", mean, weighted_sum / kept);
    /* nothing kept: every weight 0, no division by 0 */
    memset(mask, 0, sizeof mask);
    nn_cpu_masked_loss_weights(out, weights, mask, ROWS);
    for (int r = 0; r < ROWS; r++)
        cr_expect_eq(out[r], 0.0f, "row %d with nothing kept", r);
}

Test(mask, the_masking_layer_zeroes_masked_steps_and_their_gradient)
{
    nn_layer *layer = NULL;
    cr_assert_eq(nn_layer_create(&layer, &nn_masking_class), NN_OK);
    *(float *)harness_arg(layer, "mask_value") = -1.0f;
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    nn_shape shape = NN_SHAPE(2, 3, 2);
    const float values[] = {1, 2, -1, -1, -1, 3, /* sample 0: step 1 masked */
                            -1, -1, 4, 5, -1, -1}; /* sample 1: steps 0 and 2 */
    nn_tensor *x = harness_tensor(&shape, values);
    harness_run run;
    cr_assert_eq(harness_forward(&run, layer, x, true, NULL), NN_OK, "%s", nn_error_message());
    const float expected[] = {1, 2, 0, 0, -1, 3, 0, 0, 4, 5, 0, 0};
    cr_expect_arr_eq(nn_tensor_f32(run.output), expected, sizeof expected);
    nn_tensor *dy = harness_tensor(&shape, NULL), *dx = harness_tensor(&shape, NULL);
    ts_fill_uniform(nn_tensor_f32(dy), 12, 13, -1, 1);
    cr_assert_eq(harness_backward(&run, layer, x, dy, dx, false), NN_OK, "%s",
                 nn_error_message());
    for (int i = 0; i < 12; i++)
        cr_expect_eq(nn_tensor_f32(dx)[i], expected[i] == 0.0f ? 0.0f : nn_tensor_f32(dy)[i],
                     "gradient %d", i);
    cr_expect_eq(nn_layer_mask_use(layer), (unsigned)NN_MASK_MAKES);
    float mask[6];
    layer->cls->make_mask(layer, &run.exec, x, mask);
    const float expected_mask[] = {1, 0, 1, 0, 1, 0};
    cr_expect_arr_eq(mask, expected_mask, sizeof expected_mask);
    nn_tensor_free(x), nn_tensor_free(dy), nn_tensor_free(dx);
    harness_run_free(&run);
    nn_layer_release(layer);
}
