/* The live training screen laid out from fixed state: at 80x24 (the smallest it
 * supports), larger, paused, and too small. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "golden.h"
#include "live_screen.h"

static const char *const running_names[] = {"loss", "accuracy"};
static const double running_values[] = {0.0412, 0.9874};
static const char *const last_names[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
static const double last_values[] = {0.0534, 0.9835, 0.0411, 0.9878};
static const double epoch_loss[] = {0.1864, 0.0712, 0.0534};
static const double epoch_accuracy[] = {0.9436, 0.9781, 0.9835};
static const double epoch_val_loss[] = {0.0645, 0.0482, 0.0411};
static const double epoch_val_accuracy[] = {0.9811, 0.9856, 0.9878};
static const char *const record[] = {
    "750/750 [==============================] - 9s 12ms/step - loss: 0.0534 - accuracy: "
    "0.9835 - val_loss: 0.0411 - val_accuracy: 0.9878",
    "Epoch 4/5",
};

static double batch_x[120], batch_y[120];
static nn_series batch_series;
static nn_curves curves;

static nn_live_screen example(void)
{
    /* A loss that falls quickly and then slowly, with some noise. */
    for (int i = 0; i < 120; i++) {
        batch_x[i] = 3.0 * (i + 1) / 120.0 + 0.0;
        batch_y[i] = 0.04 + 0.5 * exp(-i / 12.0) + 0.01 * sin(i * 1.7);
    }
    batch_series = (nn_series){.name = "loss", .x = batch_x, .y = batch_y, .count = 120};
    const char *keys[] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    const double *columns[] = {epoch_loss, epoch_accuracy, epoch_val_loss, epoch_val_accuracy};
    nn_curves_build(&curves, 4, keys, columns, 3, NULL, false);
    return (nn_live_screen){
        .model_name = "sequential", .params = 421642, .layer_count = 8,
        .epoch = 4, .epochs = 5, .step = 312, .steps = 750,
        .epoch_seconds = 3.7, .steps_per_second = 84.3, .samples_per_second = 5395.2,
        .run_eta_seconds = 14.1,
        .log_count = 2, .log_names = running_names, .log_values = running_values,
        .last_epoch = 3, .last_count = 4, .last_names = last_names, .last_values = last_values,
        .batch_loss = &batch_series, .curves = &curves,
        .lines = record, .line_count = 2, .keys = true,
    };
}

static void expect_screen(const char *name, const nn_live_screen *screen, int width,
                          int height, nn_charset charset)
{
    nn_grid grid;
    cr_assert(nn_grid_init(&grid, width, height));
    nn_live_screen_draw(&grid, screen, charset);
    nn_text out;
    nn_text_init(&out);
    nn_grid_to_text(&out, &grid, false);
    expect_golden(name, out.data);
    nn_text_free(&out);
    nn_grid_free(&grid);
}

Test(live_screen, at_80x24_everything_fits)
{
    nn_live_screen screen = example();
    expect_screen("live_80x24", &screen, 80, 24, NN_CHARSET_UNICODE);
}

Test(live_screen, a_wide_terminal_gets_three_charts)
{
    nn_live_screen screen = example();
    expect_screen("live_120x30", &screen, 120, 30, NN_CHARSET_UNICODE);
}

Test(live_screen, a_tall_terminal_stacks_the_epoch_charts)
{
    nn_live_screen screen = example();
    expect_screen("live_100x40_ascii", &screen, 100, 40, NN_CHARSET_ASCII);
}

Test(live_screen, before_the_first_epoch_ends_and_while_paused)
{
    nn_live_screen screen = example();
    screen.epoch = 1;
    screen.last_epoch = 0;
    screen.curves = NULL;
    screen.line_count = 0;
    screen.paused = true;
    screen.steps_per_second = 0;
    screen.run_eta_seconds = -1;
    expect_screen("live_first_epoch_paused", &screen, 80, 24, NN_CHARSET_UNICODE);
}

Test(live_screen, too_small_asks_for_room_and_keeps_the_progress)
{
    nn_live_screen screen = example();
    screen.stopping = true;
    expect_screen("live_too_small", &screen, 60, 12, NN_CHARSET_UNICODE);
}

Test(live_screen, a_tiny_terminal_keeps_the_progress_lines)
{
    nn_live_screen screen = example();
    expect_screen("live_tiny", &screen, 70, 2, NN_CHARSET_UNICODE);
}

Test(live_screen, fast_speeds_group_thousands_alike)
{
    nn_live_screen screen = example();
    screen.steps_per_second = 38449.3;
    screen.samples_per_second = 38449.3;
    nn_grid grid;
    cr_assert(nn_grid_init(&grid, 80, 24));
    nn_live_screen_draw(&grid, &screen, NN_CHARSET_UNICODE);
    nn_text out;
    nn_text_init(&out);
    nn_grid_to_text(&out, &grid, false);
    cr_expect(strstr(out.data, "38,449 steps/s") != NULL, "%s", out.data);
    cr_expect(strstr(out.data, "38,449 samples/s") != NULL, "%s", out.data);
    nn_text_free(&out);
    nn_grid_free(&grid);
}
