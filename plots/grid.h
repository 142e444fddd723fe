/* A rectangle of terminal cells, each one character and a style: what charts, tables
 * and the live screen draw into before they become plain text, ANSI text or curses calls.
 *
 *     nn_grid grid;
 *     nn_grid_init(&grid, 40, 12);
 *     nn_grid_write(&grid, 0, 0, "Loss", NN_STYLE_TITLE);
 *     nn_text out; nn_text_init(&out);
 *     nn_grid_to_text(&out, &grid, false);   // plain text, trailing blanks trimmed
 *     nn_grid_free(&grid);
 */
#ifndef NN_PLOTS_GRID_H
#define NN_PLOTS_GRID_H

#include <stdbool.h>
#include <stdint.h>

#include "text.h"

/* What a cell means, not how it looks: ANSI text and curses map styles to colours and
 * attributes (or to nothing, with NO_COLOR). */
typedef enum nn_style {
    NN_STYLE_PLAIN = 0,
    NN_STYLE_SERIES_1, /* chart series, in legend order */
    NN_STYLE_SERIES_2,
    NN_STYLE_SERIES_3,
    NN_STYLE_SERIES_4,
    NN_STYLE_SERIES_5,
    NN_STYLE_SERIES_6,
    NN_STYLE_TITLE,    /* headings */
    NN_STYLE_DIM,      /* axes, secondary text */
    NN_STYLE_BAR,      /* the filled part of a progress bar */
    NN_STYLE_KEYS,     /* the key line of the live screen */
    NN_STYLE_WARNING,  /* paused, stopping, too small */
    NN_STYLE_COUNT
} nn_style;

enum { NN_SERIES_STYLES = 6 };

/* One character cell. glyph holds one UTF-8 encoded character, or "" for a blank. A
 * double-width character (CJK, most emoji) fills its cell and the next, which is then a
 * wide_tail: blank, and skipped when the grid is printed. */
typedef struct nn_cell {
    char glyph[5];
    uint8_t style;
    bool wide_tail;
} nn_cell;

/* width x height cells, row by row. Owns cells. */
typedef struct nn_grid {
    int width, height;
    nn_cell *cells;
} nn_grid;

/* All cells blank. Returns false (and an empty 0 x 0 grid) when memory runs out. */
bool nn_grid_init(nn_grid *grid, int width, int height);
void nn_grid_free(nn_grid *grid);
/* The cell at (x, y), or NULL outside the grid. */
nn_cell *nn_grid_at(nn_grid *grid, int x, int y);
/* Sets the cell at (x, y) to the first character of glyph (clipped outside the grid); a
 * double-width one takes the next cell too, or is drawn as a blank where it would not
 * fit. Returns the cells used: 0 outside the grid or for a zero-width character. */
int nn_grid_set(nn_grid *grid, int x, int y, const char *glyph, nn_style style);
/* Writes UTF-8 text from (x, y) rightwards, one character per cell (two for a
 * double-width one), stopping at the grid's edge. Returns the number of cells written. */
int nn_grid_write(nn_grid *grid, int x, int y, const char *text, nn_style style);
/* Like nn_grid_write but stops after max_cells cells (before a double-width character
 * that would pass them). */
int nn_grid_write_n(nn_grid *grid, int x, int y, const char *text, int max_cells,
                    nn_style style);
/* Copies src onto grid with its top-left corner at (x, y), clipped. */
void nn_grid_blit(nn_grid *grid, int x, int y, const nn_grid *src);
/* One line per row, trailing blanks dropped, each ending in "\n". With ansi, styles
 * become SGR colour codes (reset at the end of each line). */
void nn_grid_to_text(nn_text *out, const nn_grid *grid, bool ansi);

#endif
