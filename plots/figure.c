/* Figures of several text charts, laid out in rows. */
#include "figure.h"

int nn_figure_columns(const nn_figure *figure, int width)
{
    int columns = figure->columns;
    if (columns <= 0) {
        columns = (width + NN_FIGURE_GAP) / (NN_FIGURE_MIN_CHART_WIDTH + NN_FIGURE_GAP);
        if (columns < 1)
            columns = 1;
    }
    if (columns > figure->count)
        columns = figure->count > 0 ? figure->count : 1;
    return columns;
}

static int chart_height(const nn_figure *figure)
{
    return figure->chart_height > 0 ? figure->chart_height : NN_FIGURE_CHART_HEIGHT;
}

int nn_figure_height(const nn_figure *figure, int width)
{
    int columns = nn_figure_columns(figure, width);
    int rows = (figure->count + columns - 1) / columns;
    /* One blank row between rows of charts. */
    return rows > 0 ? rows * chart_height(figure) + (rows - 1) : 0;
}

void nn_figure_draw(nn_grid *grid, int x, int y, int width, const nn_figure *figure,
                    nn_charset charset)
{
    int columns = nn_figure_columns(figure, width);
    int chart_width = (width - NN_FIGURE_GAP * (columns - 1)) / columns;
    int height = chart_height(figure);
    for (int i = 0; i < figure->count; i++) {
        int column = i % columns, row = i / columns;
        nn_chart_draw(grid, x + column * (chart_width + NN_FIGURE_GAP), y + row * (height + 1),
                      chart_width, height, &figure->charts[i], charset);
    }
}

void nn_figure_render_text(nn_text *out, const nn_figure *figure, int width, nn_charset charset,
                           bool ansi)
{
    nn_grid grid;
    if (!nn_grid_init(&grid, width, nn_figure_height(figure, width))) {
        out->failed = true;
        return;
    }
    nn_figure_draw(&grid, 0, 0, width, figure, charset);
    nn_grid_to_text(out, &grid, ansi);
    nn_grid_free(&grid);
}
