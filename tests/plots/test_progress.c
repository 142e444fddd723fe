/* Keras' progress lines: the running bar, the final bar, the verbose=2 epoch line, and
 * the number formats inside them. */
#include <criterion/criterion.h>

#include "text.h"

static const char *const names[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
static const double values[] = {0.1864, 0.9436, 0.0645, 0.9811};

static const char *render(bool epoch_line, int64_t step, int64_t steps, double seconds,
                          int log_count)
{
    static nn_text out;
    nn_text_free(&out);
    nn_text_init(&out);
    nn_progress_state state = {.step = step, .steps = steps, .elapsed_seconds = seconds,
                               .log_count = log_count, .log_names = names,
                               .log_values = values};
    if (epoch_line)
        nn_progress_render_epoch_line(&out, &state);
    else
        nn_progress_render_bar(&out, &state);
    return out.data;
}

Test(progress, final_bar_is_the_seed_line)
{
    cr_expect_str_eq(render(false, 750, 750, 10.2, 4),
                     "750/750 [==============================] - 10s 14ms/step - loss: 0.1864 "
                     "- accuracy: 0.9436 - val_loss: 0.0645 - val_accuracy: 0.9811");
}

Test(progress, running_bar_has_an_arrow_and_an_eta)
{
    cr_expect_str_eq(render(false, 123, 750, 1.23, 2),
                     "123/750 [===>..........................] - ETA: 6s - loss: 0.1864 "
                     "- accuracy: 0.9436");
    cr_expect_str_eq(render(false, 1, 750, 0.5, 0),
                     "  1/750 [..............................] - ETA: 6:14");
}

Test(progress, verbose_two_is_one_line_per_epoch)
{
    cr_expect_str_eq(render(true, 750, 750, 10.2, 4),
                     "750/750 - 10s - loss: 0.1864 - accuracy: 0.9436 - val_loss: 0.0645 "
                     "- val_accuracy: 0.9811 - 10s/epoch - 14ms/step");
}

Test(progress, times_and_values_use_keras_formats)
{
    char text[32];
    cr_expect_str_eq(nn_format_eta(5.4, text, sizeof text), "5s");
    cr_expect_str_eq(nn_format_eta(65, text, sizeof text), "1:05");
    cr_expect_str_eq(nn_format_eta(3661, text, sizeof text), "1:01:01");
    cr_expect_str_eq(nn_format_per_unit(0.013, "step", text, sizeof text), "13ms/step");
    cr_expect_str_eq(nn_format_per_unit(0.00025, "step", text, sizeof text), "250us/step");
    cr_expect_str_eq(nn_format_per_unit(2.4, "epoch", text, sizeof text), "2s/epoch");
    nn_text out;
    nn_text_init(&out);
    const char *tiny[] = {"loss"};
    double small[] = {0.00012345};
    nn_progress_render_logs(&out, 1, tiny, small);
    cr_expect_str_eq(out.data, " - loss: 1.2345e-04");
    nn_text_free(&out);
}
