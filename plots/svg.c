/* SVG building blocks: escaping, text elements, the document frame. */
#include "svg.h"

#include <string.h>

void nn_svg_escape(nn_text *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        switch (*p) {
        case '&': nn_text_append(out, "&amp;"); break;
        case '<': nn_text_append(out, "&lt;"); break;
        case '>': nn_text_append(out, "&gt;"); break;
        case '"': nn_text_append(out, "&quot;"); break;
        case '\'': nn_text_append(out, "&apos;"); break;
        default:
            /* Control characters are not allowed in XML 1.0 text. */
            if ((unsigned char)*p >= 0x20 || *p == '\t' || *p == '\n')
                nn_text_append_n(out, p, 1);
        }
    }
}

void nn_svg_text(nn_text *out, double x, double y, const char *anchor, const char *attributes,
                 const char *text)
{
    nn_text_printf(out, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
    if (anchor && strcmp(anchor, "start") != 0)
        nn_text_printf(out, " text-anchor=\"%s\"", anchor);
    if (attributes && *attributes)
        nn_text_printf(out, " %s", attributes);
    nn_text_append(out, ">");
    nn_svg_escape(out, text);
    nn_text_append(out, "</text>\n");
}

void nn_svg_begin(nn_text *out, int width, int height)
{
    nn_text_printf(out,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                   "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
                   "sans-serif\" font-size=\"12\">\n"
                   "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
                   width, height, width, height, width, height);
}

void nn_svg_end(nn_text *out) { nn_text_append(out, "</svg>\n"); }

const char *nn_svg_series_color(int index)
{
    static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                         "#d62728", "#9467bd", "#8c564b"};
    return colors[(index % 6 + 6) % 6];
}
