/* Cell grids: the common canvas of text charts, tables and the live screen. */
#include "grid.h"

#include <stdlib.h>
#include <string.h>

bool nn_grid_init(nn_grid *grid, int width, int height)
{
    grid->width = grid->height = 0;
    grid->cells = NULL;
    if (width <= 0 || height <= 0)
        return true;
    grid->cells = calloc((size_t)width * (size_t)height, sizeof *grid->cells);
    if (!grid->cells)
        return false;
    grid->width = width;
    grid->height = height;
    return true;
}

void nn_grid_free(nn_grid *grid)
{
    free(grid->cells);
    grid->cells = NULL;
    grid->width = grid->height = 0;
}

nn_cell *nn_grid_at(nn_grid *grid, int x, int y)
{
    if (x < 0 || y < 0 || x >= grid->width || y >= grid->height)
        return NULL;
    return &grid->cells[(size_t)y * (size_t)grid->width + (size_t)x];
}


static const nn_cell blank_cell = {{0}, NN_STYLE_PLAIN, false};

/* Blanks the cell at (x, y), and the other half of a double-width character it is part
 * of, so that no half character is left behind. */
static void clear_cell(nn_grid *grid, int x, int y)
{
    nn_cell *cell = nn_grid_at(grid, x, y);
    if (!cell)
        return;
    nn_cell *next = nn_grid_at(grid, x + 1, y);
    if (cell->wide_tail) {
        nn_cell *head = nn_grid_at(grid, x - 1, y);
        if (head)
            *head = blank_cell;
    } else if (next && next->wide_tail) {
        *next = blank_cell;
    }
    *cell = blank_cell;
}

int nn_grid_set(nn_grid *grid, int x, int y, const char *glyph, nn_style style)
{
    nn_cell *cell = nn_grid_at(grid, x, y);
    int width = *glyph ? nn_utf8_char_width(glyph) : 1;
    if (!cell || width == 0)
        return width; /* outside, it still takes its place */
    clear_cell(grid, x, y);
    if (width == 2) {
        nn_cell *tail = nn_grid_at(grid, x + 1, y);
        if (!tail) /* half a character does not fit at the right edge: leave a blank */
            return 1;
        clear_cell(grid, x + 1, y);
        tail->wide_tail = true;
        tail->style = (uint8_t)style;
    }
    int size = *glyph ? nn_utf8_char_size(glyph) : 0;
    /* Blanks are stored as "" so that trailing-space trimming sees them. */
    if (size == 1 && glyph[0] == ' ')
        size = 0;
    memcpy(cell->glyph, glyph, (size_t)size);
    cell->glyph[size] = '\0';
    cell->style = (uint8_t)style;
    return width;
}

int nn_grid_write_n(nn_grid *grid, int x, int y, const char *text, int max_cells,
                    nn_style style)
{
    int written = 0;
    while (*text && x + written < grid->width) {
        int width = nn_utf8_char_width(text);
        if (written + width > max_cells)
            break;
        written += nn_grid_set(grid, x + written, y, text, style);
        text += nn_utf8_char_size(text);
    }
    return written;
}

int nn_grid_write(nn_grid *grid, int x, int y, const char *text, nn_style style)
{
    return nn_grid_write_n(grid, x, y, text, grid->width, style);
}

void nn_grid_blit(nn_grid *grid, int x, int y, const nn_grid *src)
{
    for (int row = 0; row < src->height; row++) {
        const nn_cell *line = &src->cells[(size_t)row * (size_t)src->width];
        for (int col = 0; col < src->width; col++) {
            nn_cell *cell = nn_grid_at(grid, x + col, y + row);
            if (!cell)
                continue;
            /* A double-width character cut in half by the clip becomes a blank. */
            bool head_cut = line[col].wide_tail && !nn_grid_at(grid, x + col - 1, y + row);
            bool tail_cut = col + 1 < src->width && line[col + 1].wide_tail &&
                            !nn_grid_at(grid, x + col + 1, y + row);
            *cell = head_cut || tail_cut ? blank_cell : line[col];
        }
    }
}

/* SGR parameters of each style; cyan and yellow first because they read well on both
 * dark and light backgrounds, like matplotlib's blue and orange. */
static const char *const ansi_codes[NN_STYLE_COUNT] = {
    [NN_STYLE_PLAIN] = "0",     [NN_STYLE_SERIES_1] = "36", [NN_STYLE_SERIES_2] = "33",
    [NN_STYLE_SERIES_3] = "32", [NN_STYLE_SERIES_4] = "35", [NN_STYLE_SERIES_5] = "31",
    [NN_STYLE_SERIES_6] = "34", [NN_STYLE_TITLE] = "1",     [NN_STYLE_DIM] = "2",
    [NN_STYLE_BAR] = "36",      [NN_STYLE_KEYS] = "7",      [NN_STYLE_WARNING] = "1;33",
};

void nn_grid_to_text(nn_text *out, const nn_grid *grid, bool ansi)
{
    for (int row = 0; row < grid->height; row++) {
        const nn_cell *cells = &grid->cells[(size_t)row * (size_t)grid->width];
        int end = grid->width;
        while (end > 0 && cells[end - 1].glyph[0] == '\0')
            end--;
        uint8_t current = NN_STYLE_PLAIN;
        for (int col = 0; col < end; col++) {
            if (cells[col].wide_tail)
                continue; /* its character, printed before, covers it */
            uint8_t style = cells[col].glyph[0] ? cells[col].style : (uint8_t)NN_STYLE_PLAIN;
            if (ansi && style != current && style < NN_STYLE_COUNT) {
                nn_text_printf(out, "\x1b[0;%sm", ansi_codes[style]);
                current = style;
            }
            nn_text_append(out, cells[col].glyph[0] ? cells[col].glyph : " ");
        }
        if (ansi && current != NN_STYLE_PLAIN)
            nn_text_append(out, "\x1b[0m");
        nn_text_append(out, "\n");
    }
}
