/* The network flow picture: text for terminals and notebooks, SVG for handouts. */
#include "flow.h"

#include <stdio.h>
#include <string.h>

#include "grid.h"
#include "svg.h"

void nn_text_append_ascii(nn_text *out, const char *text)
{
    while (*text) {
        int size = nn_utf8_char_size(text);
        if (size == 1)
            nn_text_append_n(out, text, 1);
        else if (strncmp(text, "×", (size_t)size) == 0)
            nn_text_append(out, "x");
        else if (strncmp(text, "→", (size_t)size) == 0)
            nn_text_append(out, "->");
        else
            nn_text_append(out, "?");
        text += size;
    }
}

static void append(nn_text *out, const char *text, nn_charset charset)
{
    if (charset == NN_CHARSET_UNICODE)
        nn_text_append(out, text);
    else
        nn_text_append_ascii(out, text);
}

/* What the flow shows of a tensor: "(8,), float32", "(8,)", "float32" or nothing, the
 * shape after shape_prefix. */
static void append_tensor(nn_text *out, const char *shape_prefix, const char *shape,
                          const char *dtype)
{
    if (shape)
        nn_text_printf(out, "%s%s", shape_prefix, shape);
    if (dtype)
        nn_text_printf(out, "%s%s", shape ? ", " : "", dtype);
}

/* "Input: (28, 28, 1)", "Input: float32" or "Input": an end box of the picture. */
static void append_end(nn_text *out, const char *end, const char *shape, const char *dtype)
{
    nn_text_append(out, end);
    if (shape || dtype)
        nn_text_append(out, ": ");
    append_tensor(out, "", shape, dtype);
}

void nn_flow_render_text(nn_text *out, const nn_flow *flow, nn_charset charset)
{
    const char *arrow = charset == NN_CHARSET_UNICODE ? "↓" : "v";
    nn_text line;
    nn_text_init(&line);
    append_end(&line, "Input", flow->input_shape, flow->dtype);
    nn_text_printf(&line, "\n%s\n", arrow);
    for (int i = 0; i < flow->count; i++) {
        const nn_flow_step *step = &flow->steps[i];
        if (step->name)
            nn_text_printf(&line, "%s: ", step->name);
        nn_text_printf(&line, "%s\n%s", step->label, arrow);
        if (step->shape || flow->dtype)
            nn_text_append(&line, " ");
        append_tensor(&line, "shape: ", step->shape, flow->dtype);
        nn_text_append(&line, "\n");
    }
    append(out, line.data ? line.data : "", charset);
    nn_text_free(&line);
}

/* ---- SVG ---- */

enum { BOX_HEIGHT = 34, NAMED_BOX_HEIGHT = 48, ARROW = 40, MARGIN = 24 };
static const double char_width = 8.4; /* of the 14px monospace labels, roughly */

static void box(nn_text *out, double center, double top, double width, double height,
                const char *fill, const char *label, const char *name)
{
    nn_text_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" "
                        "fill=\"%s\" stroke=\"#4a6fa5\" stroke-width=\"1.5\"/>\n",
                   center - width / 2, top, width, height, fill);
    nn_svg_text(out, center, top + 22, "middle",
                "font-family=\"DejaVu Sans Mono, monospace\" font-size=\"14\"", label);
    if (name && *name)
        nn_svg_text(out, center, top + 39, "middle", "font-size=\"11\" fill=\"#666666\"", name);
}

static void arrow(nn_text *out, double center, double top, const char *label)
{
    nn_text_printf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\" "
                        "stroke-width=\"1.5\" marker-end=\"url(#arrow)\"/>\n",
                   center, top + 2, center, top + ARROW - 4);
    if (label && *label)
        nn_svg_text(out, center + 12, top + ARROW / 2 + 5, "start",
                    "font-family=\"DejaVu Sans Mono, monospace\" fill=\"#444444\"", label);
}

/* The width in cells of the label of step i's arrow. */
static int arrow_label_width(const nn_flow *flow, int i)
{
    nn_text label;
    nn_text_init(&label);
    append_tensor(&label, "shape: ", flow->steps[i].shape, flow->dtype);
    int width = label.data ? nn_utf8_width(label.data) : 0;
    nn_text_free(&label);
    return width;
}

void nn_flow_render_svg(nn_text *out, const nn_flow *flow)
{
    nn_text input, output;
    nn_text_init(&input);
    nn_text_init(&output);
    append_end(&input, "Input", flow->input_shape, flow->dtype);
    append_end(&output, "Output", flow->count > 0 ? flow->steps[flow->count - 1].shape : NULL,
               flow->dtype);
    const char *input_text = input.data ? input.data : "";
    const char *output_text = output.data ? output.data : "";
    int longest = nn_utf8_width(input_text), longest_shape = 0;
    bool named = false;
    for (int i = 0; i < flow->count; i++) {
        int length = nn_utf8_width(flow->steps[i].label);
        if (length > longest)
            longest = length;
        length = arrow_label_width(flow, i);
        if (length > longest_shape)
            longest_shape = length;
        named |= flow->steps[i].name && flow->steps[i].name[0];
    }
    double box_width = longest * char_width + 32;
    double center = MARGIN + box_width / 2;
    int width = (int)(center + box_width / 2 + MARGIN);
    /* Shape labels sit right of the arrows; the picture widens if they need it. */
    int shape_right = (int)(center + 12 + longest_shape * 7.3 + MARGIN);
    if (shape_right > width)
        width = shape_right;
    double layer_height = named ? NAMED_BOX_HEIGHT : BOX_HEIGHT;
    double title_height = flow->title ? 34 : 8;
    int height = (int)(title_height + BOX_HEIGHT * 2 + (layer_height + ARROW) * flow->count +
                       ARROW + MARGIN);

    nn_svg_begin(out, width, height);
    nn_text_append(out, "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                        "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
                        "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#333333\"/></marker></defs>\n");
    if (flow->title)
        nn_svg_text(out, center, 24, "middle", "font-size=\"15\" font-weight=\"bold\"",
                    flow->title);
    double top = title_height;
    box(out, center, top, box_width, BOX_HEIGHT, "#eef2f7", input_text, NULL);
    top += BOX_HEIGHT;
    arrow(out, center, top, NULL);
    top += ARROW;
    for (int i = 0; i < flow->count; i++) {
        box(out, center, top, box_width, layer_height, "#dde8f6", flow->steps[i].label,
            flow->steps[i].name);
        top += layer_height;
        nn_text label;
        nn_text_init(&label);
        append_tensor(&label, "shape: ", flow->steps[i].shape, flow->dtype);
        arrow(out, center, top, label.data);
        nn_text_free(&label);
        top += ARROW;
    }
    box(out, center, top, box_width, BOX_HEIGHT, "#eef2f7", output_text, NULL);
    nn_svg_end(out);
    nn_text_free(&input);
    nn_text_free(&output);
}
