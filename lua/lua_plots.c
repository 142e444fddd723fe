/* nn._plots: the Lua side's access to the renderers of plots/ (charts, training curves,
 * network flows, SVG and PNG) and to what the output terminal can show. The public
 * functions (history:plot, nn.plot, nn.plot_model, model:plot) are in lua/plots.lua. */
#include <limits.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nn_lua.h"
#include "lua_progress.h"
#include "curves.h"
#include "figure.h"
#include "flow.h"
#include "png.h"
#include "terminal.h"
#include "text.h"

enum { MAX_CHARTS = 16, MAX_SERIES = 12 };

/* A Lua list of numbers as a C array owned by a userdata kept in the anchor table (so
 * an error while reading it frees it, and the stack stays short). Entries that are not
 * numbers become NaN. */
static double *check_numbers(lua_State *L, int anchor, int index, int *count,
                             const char *function, const char *what)
{
    index = lua_absindex(L, index);
    if (!lua_istable(L, index))
        nn_lua_error(L, "%s: %s must be a list of numbers, got %s", function, what,
                     nn_lua_typename(L, index));
    lua_Integer n = luaL_len(L, index);
    if (n < 0 || n > 100000000)
        nn_lua_error(L, "%s: %s has too many values (%lld)", function, what, (long long)n);
    double *values = lua_newuserdatauv(L, sizeof *values * (size_t)(n > 0 ? n : 1), 0);
    lua_rawseti(L, anchor, luaL_len(L, anchor) + 1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, index, i);
        values[i - 1] = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
        lua_pop(L, 1);
    }
    *count = (int)n;
    return values;
}

static const char *opt_string(lua_State *L, int table, const char *key)
{
    lua_getfield(L, table, key);
    const char *value = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays alive in the table */
    return value;
}

static bool opt_flag(lua_State *L, int table, const char *key)
{
    lua_getfield(L, table, key);
    bool value = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return value;
}

static lua_Integer opt_int(lua_State *L, int table, const char *key, lua_Integer fallback)
{
    lua_getfield(L, table, key);
    lua_Integer value = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : fallback;
    lua_pop(L, 1);
    return value;
}

static nn_charset opt_charset(lua_State *L, int table)
{
    const char *charset = opt_string(L, table, "charset");
    return charset && strcmp(charset, "unicode") == 0 ? NN_CHARSET_UNICODE : NN_CHARSET_ASCII;
}

/* Renders a figure as the spec asks: text (width, charset, color) or SVG. Pushes the
 * string. */
static void push_figure(lua_State *L, int spec, const nn_figure *figure)
{
    nn_text out;
    nn_text_init(&out);
    const char *format = opt_string(L, spec, "format");
    if (format && strcmp(format, "svg") == 0)
        nn_figure_render_svg(&out, figure, (int)opt_int(L, spec, "svg_width", 0),
                             (int)opt_int(L, spec, "svg_height", 0));
    else
        nn_figure_render_text(&out, figure, (int)opt_int(L, spec, "width", 80), opt_charset(L, spec),
                              opt_flag(L, spec, "color"));
    if (out.failed) {
        nn_text_free(&out);
        nn_lua_error(L, "out of memory while drawing a figure");
    }
    lua_pushlstring(L, out.data ? out.data : "", out.length);
    nn_text_free(&out);
}

/* figure{charts={{title=, x_label=, y_label=, log=, integer_x=, series={{name=, x=, y=}}}},
 *        format='text'|'svg', width=, height=, columns=, charset=, color=} -> string.
 * Names and titles stay alive in the spec table while the figure is drawn. */
static int l_figure(lua_State *L)
{
    const char *function = "nn.plot";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    lua_newtable(L); /* 2: anchors the arrays */
    nn_chart *charts = lua_newuserdatauv(L, sizeof *charts * MAX_CHARTS, 0);
    lua_rawseti(L, 2, 1);
    nn_series *series = lua_newuserdatauv(L, sizeof *series * MAX_CHARTS * MAX_SERIES, 0);
    memset(series, 0, sizeof *series * MAX_CHARTS * MAX_SERIES);
    lua_rawseti(L, 2, 2);
    if (lua_getfield(L, 1, "charts") != LUA_TTABLE) /* 3 */
        nn_lua_error(L, "%s: no charts to draw", function);
    lua_Integer chart_count = luaL_len(L, 3);
    if (chart_count < 1 || chart_count > MAX_CHARTS)
        nn_lua_error(L, "%s: between 1 and %d charts, got %lld", function, MAX_CHARTS,
                     (long long)chart_count);
    for (int c = 0; c < chart_count; c++) {
        lua_settop(L, 3);
        if (lua_geti(L, 3, c + 1) != LUA_TTABLE) /* 4 */
            nn_lua_error(L, "%s: chart %d must be a table", function, c + 1);
        nn_series *own = series + c * MAX_SERIES;
        charts[c] = (nn_chart){.title = opt_string(L, 4, "title"),
                               .x_label = opt_string(L, 4, "x_label"),
                               .y_label = opt_string(L, 4, "y_label"),
                               .log_y = opt_flag(L, 4, "log"),
                               .integer_x = opt_flag(L, 4, "integer_x"),
                               .first_style = (int)opt_int(L, 4, "first_style", 0),
                               .series = own};
        lua_getfield(L, 4, "series"); /* 5 */
        lua_Integer count = lua_istable(L, 5) ? luaL_len(L, 5) : 0;
        if (count > MAX_SERIES)
            nn_lua_error(L, "%s: at most %d series in one chart, got %lld", function, MAX_SERIES,
                         (long long)count);
        for (int s = 0; s < count; s++) {
            lua_settop(L, 5);
            if (lua_geti(L, 5, s + 1) != LUA_TTABLE) /* 6 */
                nn_lua_error(L, "%s: series %d of chart %d must be a table", function, s + 1,
                             c + 1);
            own[s].name = opt_string(L, 6, "name");
            lua_getfield(L, 6, "y");
            own[s].y = check_numbers(L, 2, -1, &own[s].count, function, "y");
            lua_pop(L, 1);
            if (lua_getfield(L, 6, "x") != LUA_TNIL) {
                int x_count;
                own[s].x = check_numbers(L, 2, -1, &x_count, function, "x");
                if (x_count != own[s].count)
                    nn_lua_error(L, "%s: series '%s' has %d x values and %d y values", function,
                                 own[s].name ? own[s].name : "?", x_count, own[s].count);
            }
        }
        charts[c].series_count = (int)count;
    }
    lua_settop(L, 2);
    nn_figure figure = {.charts = charts, .count = (int)chart_count,
                        .columns = (int)opt_int(L, 1, "columns", 0),
                        .chart_height = (int)opt_int(L, 1, "height", 0)};
    push_figure(L, 1, &figure);
    return 1;
}

/* curves(keys, history, spec) -> string: the seed's training figure. keys lists the
 * history keys to draw (val_ keys join their chart), history maps keys to lists, spec
 * is as for figure plus epochs= (list of epoch numbers) and log=. */
static int l_curves(lua_State *L)
{
    const char *function = "history:plot";
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    lua_newtable(L); /* 4: anchors the arrays */
    lua_Integer key_count = luaL_len(L, 1);
    if (key_count < 1)
        nn_lua_error(L, "%s: the history is empty (no epoch finished)", function);
    if (key_count > 2 * NN_CURVES_MAX)
        key_count = 2 * NN_CURVES_MAX;
    const char *keys[2 * NN_CURVES_MAX];
    const double *columns[2 * NN_CURVES_MAX];
    const double *xs[2 * NN_CURVES_MAX];
    int counts[2 * NN_CURVES_MAX];
    /* x of each key: spec.key_epochs[key] where given (a val_ key measured on some
     * epochs only), else spec.epochs, else 1, 2, ... */
    lua_getfield(L, 3, "key_epochs"); /* 5 */
    lua_getfield(L, 3, "epochs");     /* 6 */
    for (int k = 0; k < key_count; k++) {
        lua_settop(L, 6);
        if (lua_geti(L, 1, k + 1) != LUA_TSTRING)
            nn_lua_error(L, "%s: keys must be strings", function);
        keys[k] = lua_tostring(L, -1); /* alive in the keys table */
        lua_getfield(L, 2, keys[k]);
        columns[k] = check_numbers(L, 4, -1, &counts[k], function, keys[k]);
        xs[k] = NULL;
        int x_count = -1;
        bool own_epochs = lua_istable(L, 5) && lua_getfield(L, 5, keys[k]) == LUA_TTABLE;
        if (own_epochs)
            xs[k] = check_numbers(L, 4, -1, &x_count, function, "epochs");
        else if (lua_istable(L, 6))
            xs[k] = check_numbers(L, 4, 6, &x_count, function, "epochs");
        if (own_epochs && x_count != counts[k])
            nn_lua_error(L, "%s: '%s' has %d values for %d epochs", function, keys[k],
                         counts[k], x_count);
        if (x_count != counts[k])
            xs[k] = NULL; /* the shared epochs are another key's: count from 1 */
    }
    lua_settop(L, 4);
    nn_curves *curves = lua_newuserdatauv(L, sizeof *curves, 0);
    lua_rawseti(L, 4, luaL_len(L, 4) + 1);
    nn_curves_build_each(curves, (int)key_count, keys, columns, counts, xs,
                         opt_flag(L, 3, "log"));
    nn_figure figure = nn_curves_figure(curves);
    figure.columns = (int)opt_int(L, 3, "columns", 0);
    figure.chart_height = (int)opt_int(L, 3, "height", 0);
    push_figure(L, 3, &figure);
    return 1;
}

/* flow{title=, input=, dtype=, steps={{label=, shape=, name=}}, format='text'|'svg', charset=} */
static int l_flow(lua_State *L)
{
    const char *function = "nn.plot_model";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "steps");
    int list = lua_gettop(L);
    lua_Integer count = lua_istable(L, list) ? luaL_len(L, list) : 0;
    if (count > 100000)
        nn_lua_error(L, "%s: too many layers (%lld)", function, (long long)count);
    nn_flow_step *steps = lua_newuserdatauv(L, sizeof *steps * (size_t)(count + 1), 0);
    for (int i = 0; i < count; i++) {
        lua_geti(L, list, i + 1);
        luaL_checktype(L, -1, LUA_TTABLE);
        steps[i] = (nn_flow_step){.label = opt_string(L, -1, "label"),
                                  .shape = opt_string(L, -1, "shape"),
                                  .name = opt_string(L, -1, "name")};
        if (!steps[i].label)
            nn_lua_error(L, "%s: step %d has no label", function, i + 1);
        lua_pop(L, 1);
    }
    nn_flow flow = {.title = opt_string(L, 1, "title"), .input_shape = opt_string(L, 1, "input"),
                    .dtype = opt_string(L, 1, "dtype"), .steps = steps, .count = (int)count};
    nn_text out;
    nn_text_init(&out);
    const char *format = opt_string(L, 1, "format");
    if (format && strcmp(format, "svg") == 0)
        nn_flow_render_svg(&out, &flow);
    else
        nn_flow_render_text(&out, &flow, opt_charset(L, 1));
    lua_pushlstring(L, out.data ? out.data : "", out.length);
    nn_text_free(&out);
    return 1;
}

/* The PNG's bytes live in a box while they are made. */
static int free_text_box(lua_State *L)
{
    nn_text *text = lua_touserdata(L, 1);
    nn_text_free(text);
    return 0;
}

/* png(svg_text [, scale]) -> the bytes of a PNG file, or nil and a message */
static int l_png(lua_State *L)
{
    size_t length;
    const char *svg = luaL_checklstring(L, 1, &length);
    double scale = luaL_optnumber(L, 2, 2.0);
    nn_text *png = nn_lua_new_box(L, sizeof *png, "nn.PngBytes", free_text_box);
    nn_text_init(png);
    char why[256];
    if (!nn_png_render_svg(svg, length, scale, png, why, sizeof why)) {
        lua_pushnil(L);
        lua_pushstring(L, why);
        return 2;
    }
    lua_pushlstring(L, png->data ? png->data : "", png->length);
    nn_text_free(png);
    return 1;
}

/* write(text): through the session output (stdout, or what captures it). */
static int l_write(lua_State *L)
{
    size_t length;
    const char *text = luaL_checklstring(L, 1, &length);
    nn_lua_write(L, text, length);
    return 0;
}

/* terminal() -> {tty=, utf8=, color=, columns=, lines=, png=} for the session output. */
static int l_terminal(lua_State *L)
{
    nn_terminal terminal = nn_terminal_probe(STDOUT_FILENO);
    bool tty = nn_lua_output_is_terminal();
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, tty);
    lua_setfield(L, -2, "tty");
    lua_pushboolean(L, terminal.utf8);
    lua_setfield(L, -2, "utf8");
    lua_pushboolean(L, tty && terminal.color);
    lua_setfield(L, -2, "color");
    lua_pushinteger(L, terminal.columns);
    lua_setfield(L, -2, "columns");
    lua_pushinteger(L, terminal.lines);
    lua_setfield(L, -2, "lines");
    lua_pushboolean(L, nn_png_available());
    lua_setfield(L, -2, "png");
    return 1;
}

/* last_view_problem() -> why the last fit did not open the live view, or nil. */
static int l_last_view_problem(lua_State *L)
{
    const char *why = nn_lua_live_view_problem();
    if (why && *why)
        lua_pushstring(L, why);
    else
        lua_pushnil(L);
    return 1;
}

/* text_width(s) -> the terminal cells s takes (CJK characters two each). */
static int l_text_width(lua_State *L)
{
    lua_pushinteger(L, nn_utf8_width(luaL_checkstring(L, 1)));
    return 1;
}

/* text_cut(s, cells) -> the longest start of s that fits in cells, whole characters. */
static int l_text_cut(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    lua_Integer cells = luaL_checkinteger(L, 2);
    cells = cells < 0 ? 0 : cells > INT_MAX ? INT_MAX : cells;
    lua_pushlstring(L, text, nn_utf8_offset(text, (int)cells));
    return 1;
}

static const luaL_Reg plots_functions[] = {
    {"figure", l_figure},     {"curves", l_curves},
    {"flow", l_flow},         {"png", l_png},
    {"terminal", l_terminal}, {"last_view_problem", l_last_view_problem},
    {"write", l_write},       {"text_width", l_text_width},
    {"text_cut", l_text_cut}, {NULL, NULL},
};

void nn_lua_open_plots(lua_State *L)
{
    luaL_newlib(L, plots_functions);
    lua_pushinteger(L, NN_CURVES_MAX); /* charts in one history figure */
    lua_setfield(L, -2, "max_charts");
    lua_setfield(L, -2, "_plots");
}
