/* The first failure of a device library call, kept until the engine asks: kernels and
 * copies on a GPU report nothing when they are queued, so the backend records what
 * failed (the call, the library's error name and message) and the loops turn it into an
 * nn_status at their next check. Pure C, tested on the CPU. */
#ifndef NN_DEVICE_ERROR_H
#define NN_DEVICE_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include "../../status.h"

typedef struct nn_device_error {
    bool pending;
    nn_status status;    /* NN_ERR_MEMORY for out-of-memory, NN_ERR_DEVICE otherwise */
    char message[768];
} nn_device_error;

/* Records "<library> error in <call>: <text> (<name>)" unless a failure is already
 * pending: the first failure explains the ones after it. */
void nn_device_error_note(nn_device_error *error, nn_status status, const char *library,
                          const char *call, const char *name, const char *text);
/* NN_OK when nothing failed; otherwise sets the thread's error message (nn_error) to the
 * recorded one, clears the record and returns its status. */
nn_status nn_device_error_take(nn_device_error *error);

/* "512 bytes", "3.2 MiB", "1.50 GiB" into buf; returns buf. */
char *nn_format_bytes(size_t bytes, char *buf, size_t size);

#endif
