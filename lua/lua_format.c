/* The text of a tensor, NumPy style: nested brackets, aligned columns, and "..." in
 * place of the middle of long axes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "nn_lua.h"
#include "text.h"

enum {
    ELIDE_THRESHOLD = 1000, /* more elements than this: show only the edges */
    EDGE_ITEMS = 3,
    LINE_WIDTH = 75,        /* rows wrap before this column, as NumPy's default */
};

typedef struct format_style {
    bool integral;   /* every value is a whole number: print "3." (float) or "3" (int) */
    bool scientific; /* magnitudes span too much for fixed notation */
    int width;       /* of the widest value */
    bool elide;
} format_style;

/* Element `index` of tensor as text; integers are read whole, exact beyond 2^53. */
static void format_element(char *buf, size_t size, const nn_tensor *tensor, size_t index,
                           const format_style *style)
{
    if (tensor->dtype != NN_DTYPE_F32) {
        snprintf(buf, size, "%lld", (long long)nn_tensor_get_int64(tensor, index));
        return;
    }
    double value = nn_tensor_get(tensor, index);
    if (isnan(value))
        snprintf(buf, size, "nan");
    else if (isinf(value))
        snprintf(buf, size, value > 0 ? "inf" : "-inf");
    else if (style->integral)
        snprintf(buf, size, "%.0f.", value);
    else if (style->scientific)
        snprintf(buf, size, "%.4e", value);
    else
        snprintf(buf, size, "%.4f", value);
}

/* Whether index i along an axis of length n is shown (edges only when eliding). */
static bool shown(const format_style *style, int64_t i, int64_t n)
{
    return !style->elide || n <= 2 * EDGE_ITEMS || i < EDGE_ITEMS || i >= n - EDGE_ITEMS;
}

/* Statistics of the shown values only: a 60000x784 tensor prints in microseconds. */
typedef struct value_scan {
    double largest, smallest;
    bool integral;
} value_scan;

static void scan_shown(const nn_tensor *tensor, int depth, size_t offset,
                       const format_style *style, value_scan *scan)
{
    int64_t n = tensor->shape.ndim ? tensor->shape.dims[depth] : 1;
    size_t stride = tensor->shape.ndim ? (size_t)nn_shape_inner(&tensor->shape, depth + 1) : 1;
    bool last_axis = tensor->shape.ndim == 0 || depth == tensor->shape.ndim - 1;
    for (int64_t i = 0; i < n; i++) {
        if (!shown(style, i, n))
            continue;
        if (!last_axis) {
            scan_shown(tensor, depth + 1, offset + (size_t)i * stride, style, scan);
            continue;
        }
        double v = nn_tensor_get(tensor, offset + (size_t)i);
        if (!isfinite(v))
            continue;
        if (v != floor(v))
            scan->integral = false;
        double magnitude = fabs(v);
        if (magnitude > scan->largest)
            scan->largest = magnitude;
        if (magnitude > 0 && magnitude < scan->smallest)
            scan->smallest = magnitude;
    }
}

static void measure_width(const nn_tensor *tensor, int depth, size_t offset,
                          format_style *style)
{
    int64_t n = tensor->shape.ndim ? tensor->shape.dims[depth] : 1;
    size_t stride = tensor->shape.ndim ? (size_t)nn_shape_inner(&tensor->shape, depth + 1) : 1;
    bool last_axis = tensor->shape.ndim == 0 || depth == tensor->shape.ndim - 1;
    for (int64_t i = 0; i < n; i++) {
        if (!shown(style, i, n))
            continue;
        if (!last_axis) {
            measure_width(tensor, depth + 1, offset + (size_t)i * stride, style);
            continue;
        }
        char buf[64];
        format_element(buf, sizeof buf, tensor, offset + (size_t)i, style);
        int length = (int)strlen(buf);
        if (length > style->width)
            style->width = length;
    }
}

static void scan_values(const nn_tensor *tensor, format_style *style)
{
    value_scan scan = {.largest = 0.0, .smallest = INFINITY, .integral = true};
    scan_shown(tensor, 0, 0, style, &scan);
    style->integral = scan.integral;
    style->scientific = scan.largest >= 1e8 || (scan.smallest < 1e-4 && !scan.integral);
    if (style->integral && scan.largest >= 1e15)
        style->integral = false, style->scientific = true;
    style->width = 1;
    measure_width(tensor, 0, 0, style);
}

/* The column the text has reached on its last line. */
static int column_of(const nn_text *out)
{
    size_t start = out->length;
    while (start > 0 && out->data[start - 1] != '\n')
        start--;
    return (int)(out->length - start);
}

/* One value (or "...") of a row: on this line after a space, or on the next one, aligned
 * under the row's first value, when it would pass LINE_WIDTH (with its comma or the
 * closing brackets after it). */
static void append_item(nn_text *out, const char *item, bool first, int closing, int row_start)
{
    if (!first) {
        if (column_of(out) + 1 + (int)strlen(item) + closing > LINE_WIDTH) {
            nn_text_append(out, "\n");
            nn_text_repeat(out, " ", row_start);
        } else {
            nn_text_append(out, " ");
        }
    }
    nn_text_append(out, item);
}

static void render(nn_text *out, const nn_tensor *tensor, int depth, size_t offset,
                   const format_style *style, int indent)
{
    int64_t n = tensor->shape.dims[depth];
    size_t stride = (size_t)nn_shape_inner(&tensor->shape, depth + 1);
    bool last_axis = depth == tensor->shape.ndim - 1;
    nn_text_append(out, "[");
    int row_start = indent + depth + 1;
    bool skipped = false;
    for (int64_t i = 0; i < n; i++) {
        if (!shown(style, i, n)) {
            if (!skipped) {
                if (last_axis) {
                    append_item(out, "...", i == 0, 1, row_start);
                    nn_text_append(out, ",");
                } else {
                    nn_text_append(out, "...,\n");
                    nn_text_repeat(out, " ", row_start);
                }
                skipped = true;
            }
            continue;
        }
        if (last_axis) {
            char buf[64], item[80];
            format_element(buf, sizeof buf, tensor, offset + (size_t)i, style);
            snprintf(item, sizeof item, "%*s", style->width, buf);
            append_item(out, item, i == 0, i + 1 < n ? 1 : depth + 1, row_start);
            if (i + 1 < n)
                nn_text_append(out, ",");
        } else {
            render(out, tensor, depth + 1, offset + (size_t)i * stride, style, indent);
            if (i + 1 < n) {
                nn_text_append(out, ",");
                /* Blank lines between blocks of 3-D and deeper, as NumPy. */
                int blank = tensor->shape.ndim - depth - 2;
                for (int b = 0; b <= blank; b++)
                    nn_text_append(out, "\n");
                nn_text_repeat(out, " ", indent + depth + 1);
            }
        }
    }
    nn_text_append(out, "]");
}

void nn_lua_push_tensor_string(lua_State *L, const nn_tensor *tensor)
{
    /* A tensor on a device prints from one host copy (each value separately would be
     * a copy each), and says where it lives. */
    char device[32] = "";
    nn_tensor *host = NULL;
    if (!nn_tensor_on_host(tensor)) {
        nn_device_format(nn_tensor_device(tensor), device, sizeof device);
        nn_lua_check(L, nn_tensor_to(&host, tensor, nn_device_cpu()), "tostring");
        tensor = host;
    }
    nn_text out;
    nn_text_init(&out);
    char shape[160];
    nn_shape_format(&tensor->shape, shape, sizeof shape);
    format_style style = {.elide = nn_tensor_count(tensor) > ELIDE_THRESHOLD};
    nn_text_append(&out, "tensor(");
    scan_values(tensor, &style);
    if (tensor->shape.ndim == 0) {
        char buf[64];
        format_element(buf, sizeof buf, tensor, 0, &style);
        nn_text_append(&out, buf);
    } else {
        render(&out, tensor, 0, 0, &style, (int)strlen("tensor("));
    }
    nn_text_printf(&out, ", shape=%s, dtype=%s%s%s)", shape, nn_dtype_name(tensor->dtype),
                   device[0] ? ", device=" : "", device);
    nn_tensor_free(host);
    if (out.failed) {
        nn_text_free(&out);
        nn_lua_error(L, "tostring: out of memory");
    }
    lua_pushlstring(L, out.data, out.length);
    nn_text_free(&out);
}
