/* Status codes and the error message that goes with the last failure.
 * Every fallible engine function returns an nn_status; the text lives per thread. */
#ifndef NN_STATUS_H
#define NN_STATUS_H

typedef enum nn_status {
    NN_OK = 0,
    NN_ERR_ARGUMENT,   /* a value out of range, an unknown name, a wrong type */
    NN_ERR_SHAPE,      /* shapes that do not fit together */
    NN_ERR_MEMORY,     /* allocation failed or a size overflowed */
    NN_ERR_IO,         /* the operating system refused a read or write */
    NN_ERR_FORMAT,     /* a file's contents are malformed */
    NN_ERR_DEVICE,     /* a backend (CUDA, cuDNN, cuBLAS) failed */
    NN_ERR_NUMERIC,    /* NaN or Inf where a number was needed */
    NN_ERR_STOPPED,    /* the user asked to stop (Ctrl-C, q) */
    NN_ERR_STATE       /* called at the wrong time: not built, not compiled */
} nn_status;

/* Records msg (printf-style) as this thread's last error and returns status, so that
 * a failing path reads `return nn_error(NN_ERR_SHAPE, "...", ...);`. */
nn_status nn_error(nn_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with "context: " (for adding the caller's name). */
nn_status nn_error_prefix(nn_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* The message of this thread's last error; never NULL, empty if none was set. */
const char *nn_error_message(void);

/* Clears this thread's message. */
void nn_error_clear(void);

/* A short name for a status: "shape error", "out of memory", ... */
const char *nn_status_name(nn_status status);

#define NN_TRY(expr)                        \
    do {                                    \
        nn_status nn_try_status_ = (expr);  \
        if (nn_try_status_ != NN_OK)        \
            return nn_try_status_;          \
    } while (0)

#endif
