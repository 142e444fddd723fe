/* Joining name tables into the lists that error messages show. */
#include "names.h"

#include <stdio.h>

char *nn_names_join(char *buf, size_t size, const char *const *names)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; names[i] && used < size; i++) {
        int written = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", names[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
    return buf;
}
