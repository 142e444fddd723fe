/* Per-thread error messages behind nn_status. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { NN_ERROR_CAPACITY = 1024 };

static _Thread_local char error_text[NN_ERROR_CAPACITY];

nn_status nn_error(nn_status status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(error_text, sizeof error_text, format, args);
    va_end(args);
    return status;
}

nn_status nn_error_prefix(nn_status status, const char *format, ...)
{
    char prefix[NN_ERROR_CAPACITY];
    char previous[NN_ERROR_CAPACITY];
    va_list args;
    va_start(args, format);
    vsnprintf(prefix, sizeof prefix, format, args);
    va_end(args);
    /* Already said (a layer's own message names the layer): once is enough. */
    size_t prefix_length = strlen(prefix);
    if (strncmp(error_text, prefix, prefix_length) == 0 &&
        strncmp(error_text + prefix_length, ": ", 2) == 0)
        return status;
    memcpy(previous, error_text, sizeof previous);
    /* Truncating a very long message is acceptable; the start says the most. */
    int written = snprintf(error_text, sizeof error_text, "%s", prefix);
    if (written >= 0 && (size_t)written + 2 < sizeof error_text) {
        size_t used = (size_t)written;
        error_text[used++] = ':';
        error_text[used++] = ' ';
        size_t room = sizeof error_text - used - 1;
        size_t length = strnlen(previous, room);
        memcpy(error_text + used, previous, length);
        error_text[used + length] = '\0';
    }
    return status;
}

const char *nn_error_message(void) { return error_text; }

void nn_error_clear(void) { error_text[0] = '\0'; }

const char *nn_status_name(nn_status status)
{
    switch (status) {
    case NN_OK: return "ok";
    case NN_ERR_ARGUMENT: return "bad argument";
    case NN_ERR_SHAPE: return "shape error";
    case NN_ERR_MEMORY: return "out of memory";
    case NN_ERR_IO: return "I/O error";
    case NN_ERR_FORMAT: return "malformed file";
    case NN_ERR_DEVICE: return "device error";
    case NN_ERR_NUMERIC: return "numeric error";
    case NN_ERR_STOPPED: return "stopped";
    case NN_ERR_STATE: return "invalid state";
    }
    return "unknown error";
}
