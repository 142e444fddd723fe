/* Name lists for error messages and help: "'zeros', 'ones', 'constant'".
 * Every module that looks names up in a table rejects unknown ones with this list. */
#ifndef NN_NAMES_H
#define NN_NAMES_H

#include <stddef.h>

/* Writes the NULL-terminated `names` as "'a', 'b', 'c'" into buf (cut short if it does
 * not fit; always terminated). Returns buf. */
char *nn_names_join(char *buf, size_t size, const char *const *names);

#endif
