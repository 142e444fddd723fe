/* SVG building blocks: escaping, text elements, the document frame. */
#include "svg.h"

#include <string.h>

/* Length of the well-formed UTF-8 sequence at p, or 0 when it is not one. */
static int utf8_length(const unsigned char *p)
{
    int length = p[0] < 0x80 ? 1 : p[0] >= 0xC2 && p[0] <= 0xDF ? 2
               : p[0] >= 0xE0 && p[0] <= 0xEF               ? 3
               : p[0] >= 0xF0 && p[0] <= 0xF4               ? 4
                                                             : 0;
    for (int i = 1; i < length; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    /* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
    if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] >= 0xA0) ||
        (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] >= 0x90))
        return 0;
    return length;
}

void nn_svg_escape(nn_text *out, const char *text)
{
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p >= 0x80) {
            /* An SVG file is UTF-8 XML: a byte that is not UTF-8 (a Latin-1 title, say)
             * becomes U+FFFD rather than making the file unreadable. */
            int length = utf8_length((const unsigned char *)p);
            if (length == 0) {
                nn_text_append(out, "\xEF\xBF\xBD");
            } else {
                nn_text_append_n(out, p, (size_t)length);
                p += length - 1;
            }
            continue;
        }
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
