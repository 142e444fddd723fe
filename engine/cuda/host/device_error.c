/* Keeping the first failure of a device call until the engine checks. */
#include "device_error.h"

#include <stdio.h>
#include <string.h>

void nn_device_error_note(nn_device_error *error, nn_status status, const char *library,
                          const char *call, const char *name, const char *text)
{
    if (error->pending)
        return;
    error->pending = true;
    error->status = status;
    snprintf(error->message, sizeof error->message, "%s error in %s: %s (%s)", library, call,
             text && *text ? text : "no message", name && *name ? name : "unknown error");
}

nn_status nn_device_error_take(nn_device_error *error)
{
    if (!error->pending)
        return NN_OK;
    error->pending = false;
    return nn_error(error->status, "%s", error->message);
}

char *nn_format_bytes(size_t bytes, char *buf, size_t size)
{
    const double kib = 1024.0, mib = kib * 1024.0, gib = mib * 1024.0;
    double value = (double)bytes;
    if (value >= gib)
        snprintf(buf, size, "%.2f GiB", value / gib);
    else if (value >= mib)
        snprintf(buf, size, "%.1f MiB", value / mib);
    else if (value >= kib)
        snprintf(buf, size, "%.1f KiB", value / kib);
    else
        snprintf(buf, size, "%zu bytes", bytes);
    return buf;
}
