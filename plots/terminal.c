/* Terminal facts from the file descriptor and the environment. */
#include "terminal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Whether text contains word, ignoring case. */
static bool contains_word(const char *text, const char *word)
{
    size_t length = strlen(word);
    for (; *text; text++)
        if (strncasecmp(text, word, length) == 0)
            return true;
    return false;
}

bool nn_terminal_locale_is_utf8(void)
{
    /* The first of these that is set decides, as setlocale(LC_CTYPE, "") would. */
    static const char *const names[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *value = getenv(names[i]);
        if (value && *value)
            return contains_word(value, "utf-8") || contains_word(value, "utf8");
    }
    return false;
}

bool nn_terminal_no_color(void)
{
    const char *value = getenv("NO_COLOR");
    return value && *value;
}

static int env_number(const char *name)
{
    const char *value = getenv(name);
    int number = value ? atoi(value) : 0;
    return number > 0 ? number : 0;
}

nn_terminal nn_terminal_probe(int fd)
{
    nn_terminal terminal = {.tty = isatty(fd) == 1, .columns = 80, .lines = 24};
    const char *term = getenv("TERM");
    terminal.capable = term && *term && strcmp(term, "dumb") != 0;
    terminal.utf8 = nn_terminal_locale_is_utf8();
    terminal.color = terminal.tty && terminal.capable && !nn_terminal_no_color();
    struct winsize size;
    if (terminal.tty && ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 && size.ws_row > 0) {
        terminal.columns = size.ws_col;
        terminal.lines = size.ws_row;
    } else {
        if (env_number("COLUMNS"))
            terminal.columns = env_number("COLUMNS");
        if (env_number("LINES"))
            terminal.lines = env_number("LINES");
    }
    return terminal;
}
