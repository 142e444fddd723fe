/* What the output terminal can show: whether it is one, UTF-8, colour, its size. The
 * renderers take these as plain choices (charset, colour, width); this is where they
 * are decided, the same way for every view. */
#ifndef NN_PLOTS_TERMINAL_H
#define NN_PLOTS_TERMINAL_H

#include <stdbool.h>

typedef struct nn_terminal {
    bool tty;       /* fd is a terminal */
    bool utf8;      /* the locale's character set is UTF-8 (LC_ALL, LC_CTYPE, LANG) */
    bool color;     /* a terminal, TERM is not "dumb" and NO_COLOR is not set */
    bool capable;   /* TERM names a screen-addressable terminal (not unset, "dumb") */
    int columns, lines; /* from the terminal, else $COLUMNS / $LINES, else 80 x 24 */
} nn_terminal;

/* Looks at fd (usually standard output) and the environment. */
nn_terminal nn_terminal_probe(int fd);
/* The locale environment asks for UTF-8. */
bool nn_terminal_locale_is_utf8(void);
/* NO_COLOR (https://no-color.org) is set to a non-empty value. */
bool nn_terminal_no_color(void);

#endif
