/* Double-width (CJK) and zero-width characters: how many terminal cells text takes, how
 * grids hold a character that fills two cells, and summary tables that stay aligned and
 * valid UTF-8 with layer names in Chinese. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid.h"
#include "summary_box.h"
#include "text.h"

Test(width, cells_of_ascii_cjk_fullwidth_emoji_and_combining_marks)
{
    cr_expect_eq(nn_utf8_width(""), 0);
    cr_expect_eq(nn_utf8_width("conv2d"), 6);
    cr_expect_eq(nn_utf8_width("卷积层"), 6);           /* CJK ideographs */
    cr_expect_eq(nn_utf8_width("합성곱"), 6);           /* Hangul syllables */
    cr_expect_eq(nn_utf8_width("ＡＢ"), 4);             /* fullwidth forms */
    cr_expect_eq(nn_utf8_width("\xF0\x9F\x9A\x80"), 2); /* U+1F680 rocket */
    cr_expect_eq(nn_utf8_width("e\xCC\x81"), 1);        /* e + combining acute accent */
    cr_expect_eq(nn_utf8_width("é×→─⠿"), 5);            /* narrow non-ASCII */
    cr_expect_eq(nn_utf8_width("a\xFF" "b"), 3);        /* an invalid byte takes a cell */
    cr_expect_eq(nn_utf8_char_width("层"), 2);
    cr_expect_eq(nn_utf8_char_width("\xE2\x80\x8B"), 0); /* zero-width space */
}

Test(width, offsets_never_split_a_character)
{
    const char *text = "ab卷积c";
    cr_expect_eq(nn_utf8_offset(text, 0), 0);
    cr_expect_eq(nn_utf8_offset(text, 2), 2);
    cr_expect_eq(nn_utf8_offset(text, 3), 2, "half of 卷 does not fit in the third cell");
    cr_expect_eq(nn_utf8_offset(text, 4), 5);
    cr_expect_eq(nn_utf8_offset(text, 6), 8);
    cr_expect_eq(nn_utf8_offset(text, 7), 9);
    cr_expect_eq(nn_utf8_offset(text, 100), 9);
}

static char *grid_text(const nn_grid *grid)
{
    nn_text out;
    nn_text_init(&out);
    nn_grid_to_text(&out, grid, false);
    return out.data;
}

Test(grid, a_wide_character_fills_two_cells_and_prints_once)
{
    nn_grid grid;
    cr_assert(nn_grid_init(&grid, 8, 1));
    cr_expect_eq(nn_grid_write(&grid, 0, 0, "a损失b", NN_STYLE_PLAIN), 6);
    cr_expect_str_eq(nn_grid_at(&grid, 1, 0)->glyph, "损");
    cr_expect(nn_grid_at(&grid, 2, 0)->wide_tail);
    char *text = grid_text(&grid);
    cr_expect_str_eq(text, "a损失b\n");
    free(text);
    nn_grid_free(&grid);
}

Test(grid, writing_over_half_a_wide_character_blanks_the_other_half)
{
    nn_grid grid;
    cr_assert(nn_grid_init(&grid, 6, 2));
    nn_grid_write(&grid, 0, 0, "损失", NN_STYLE_PLAIN);
    nn_grid_set(&grid, 1, 0, "x", NN_STYLE_PLAIN); /* the tail of 损 */
    nn_grid_write(&grid, 0, 1, "损失", NN_STYLE_PLAIN);
    nn_grid_set(&grid, 2, 1, "y", NN_STYLE_PLAIN); /* the head of 失 */
    char *text = grid_text(&grid);
    cr_expect_str_eq(text, " x失\n损y\n");
    free(text);
    nn_grid_free(&grid);
}

Test(grid, limits_and_edges_stop_before_a_wide_character_that_does_not_fit)
{
    nn_grid grid;
    cr_assert(nn_grid_init(&grid, 5, 2));
    cr_expect_eq(nn_grid_write_n(&grid, 0, 0, "ab损", 3, NN_STYLE_PLAIN), 2);
    /* At the right edge only half would fit: a blank takes its cell. */
    cr_expect_eq(nn_grid_write(&grid, 2, 1, "ab损", NN_STYLE_PLAIN), 3);
    char *text = grid_text(&grid);
    cr_expect_str_eq(text, "ab\n  ab\n");
    free(text);
    /* Text starting left of the grid keeps its place: 损 takes cells -2 and -1. */
    nn_grid_free(&grid);
    cr_assert(nn_grid_init(&grid, 5, 1));
    cr_expect_eq(nn_grid_write(&grid, -2, 0, "损ab", NN_STYLE_PLAIN), 4);
    text = grid_text(&grid);
    cr_expect_str_eq(text, "ab\n");
    free(text);
    nn_grid_free(&grid);
}

Test(grid, a_blit_that_cuts_a_wide_character_leaves_a_blank)
{
    nn_grid source, target;
    cr_assert(nn_grid_init(&source, 4, 1));
    nn_grid_write(&source, 0, 0, "损失", NN_STYLE_PLAIN);
    cr_assert(nn_grid_init(&target, 3, 1));
    nn_grid_blit(&target, 0, 0, &source); /* 失 would need cells 2 and 3 */
    char *text = grid_text(&target);
    cr_expect_str_eq(text, "损\n");
    free(text);
    nn_grid_blit(&target, -1, 0, &source); /* 损 loses its first half */
    text = grid_text(&target);
    cr_expect_str_eq(text, " 失\n");
    free(text);
    nn_grid_free(&source);
    nn_grid_free(&target);
}

static const nn_summary_row chinese_rows[] = {
    {"第一卷积层_特征提取", "Conv2D", "(None, 26, 26, 32)", 320, NULL, true, true},
    {"展平", "Flatten", "(None, 21632)", 0, NULL, true, false},
    {"全连接输出层_分类器_十类别", "Dense", "(None, 10)", 216330, NULL, true, true},
};

static nn_summary chinese_summary(void)
{
    return (nn_summary){.model_name = "手写数字", .rows = chinese_rows, .row_count = 3,
                        .total = 216650, .trainable = 216650, .non_trainable = 0};
}

Test(summary, keras_layout_cuts_chinese_names_between_characters_and_stays_aligned)
{
    nn_summary summary = chinese_summary();
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_keras(&out, &summary, false);
    const char *expected =
        "Model: \"手写数字\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #   \n"
        "=================================================================\n"
        " 第一卷积层_特征提取 (Conv2D  (None, 26, 26, 32)       320       \n"
        " )                                                               \n"
        "                                                                 \n"
        " 展平 (Flatten)              (None, 21632)             0         \n"
        "                                                                 \n"
        " 全连接输出层_分类器_十类别   (None, 10)               216330    \n"
        " (Dense)                                                         \n"
        "=================================================================\n"
        "Total params: 216,650\n"
        "Trainable params: 216,650\n"
        "Non-trainable params: 0\n"
        "_________________________________________________________________\n";
    cr_expect_str_eq(out.data, expected);
    nn_text_free(&out);
}

static void expect_lines_fit(const char *text, int width)
{
    while (*text) {
        size_t length = strcspn(text, "\n");
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)length, text);
        cr_expect(nn_utf8_width(line) <= width, "line wider than %d: |%s|", width, line);
        text += length + (text[length] == '\n');
    }
}

Test(summary, box_table_measures_chinese_names_in_cells)
{
    nn_summary summary = chinese_summary();
    nn_text out;
    nn_text_init(&out);
    nn_summary_render_box(&out, &summary, 100, NN_CHARSET_UNICODE, false);
    cr_expect(strstr(out.data, "│ 展平 (Flatten)                     │ (None, 21632)      │       0 │\n"),
              "%s", out.data);
    cr_expect(strstr(out.data, "│ 全连接输出层_分类器_十类别 (Dense) │ (None, 10)         │ 216,330 │\n"),
              "%s", out.data);
    expect_lines_fit(out.data, 70);
    nn_text_free(&out);

    /* Narrow: names wrap between characters, and every line still fits. */
    nn_text_init(&out);
    nn_summary_render_box(&out, &summary, 44, NN_CHARSET_UNICODE, false);
    expect_lines_fit(out.data, 44);
    cr_expect(strstr(out.data, "│ 第一卷积层_特征提 │") != NULL, "%s", out.data);
    nn_text_free(&out);
}
