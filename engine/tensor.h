/* Tensors: an n-dimensional, contiguous, row-major array over reference-counted storage.
 *
 * A tensor header (nn_tensor) is owned by exactly one holder and freed with
 * nn_tensor_free(); the storage under it is shared by every view (reshape, a range of
 * the first axis, nn_tensor_share) and freed when the last view goes. */
#ifndef NN_TENSOR_H
#define NN_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define NN_MAX_DIMS 8

typedef enum nn_dtype {
    NN_DTYPE_F32,
    NN_DTYPE_U8,
    NN_DTYPE_I32,
    NN_DTYPE_I64
} nn_dtype;

typedef enum nn_device_kind {
    NN_DEVICE_CPU,
    NN_DEVICE_CUDA,
    NN_DEVICE_EMULATED /* host memory the host may not touch: tests the device paths */
} nn_device_kind;

/* Where memory lives and kernels run (device.h parses, formats and picks them). */
typedef struct nn_device {
    nn_device_kind kind;
    int index; /* which GPU; 0 for the CPU */
} nn_device;

static inline nn_device nn_device_cpu(void) { return (nn_device){NN_DEVICE_CPU, 0}; }
static inline bool nn_device_equal(nn_device a, nn_device b)
{
    return a.kind == b.kind && a.index == b.index;
}

/* A shape. A dimension of -1 means "not known yet" (the batch axis, Keras' None). */
typedef struct nn_shape {
    int ndim;
    int64_t dims[NN_MAX_DIMS];
} nn_shape;

/* Storage: the bytes behind one or more tensors. Freed when refcount drops to 0. On a
 * device (a GPU) `data` is device memory: only that device's backend may read it, and
 * host code copies through nn_tensor_read / nn_tensor_write / nn_memory_copy. */
typedef struct nn_storage {
    void *data;       /* 64-byte aligned, inside allocation (CPU); device memory otherwise */
    void *allocation; /* what free() takes (CPU); NULL on a device */
    size_t bytes;
    int refcount;
    nn_device device;
    /* Set by nn_storage_alias: the bytes live in base's from base_offset (data and
     * allocation are then NULL), wherever base moves. base is never an alias itself. */
    struct nn_storage *base;
    size_t base_offset;
} nn_storage;

typedef struct nn_tensor {
    nn_storage *storage;
    size_t offset; /* in bytes from storage->data */
    nn_dtype dtype;
    nn_shape shape;
} nn_tensor;

/* ---- shapes ---- */

nn_shape nn_shape_from(const int64_t *dims, int ndim);
#define NN_SHAPE(...)                                                     \
    nn_shape_from((const int64_t[]){__VA_ARGS__},                         \
                  (int)(sizeof((const int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))

/* Number of elements; fails on a negative or unknown dimension or on overflow. */
nn_status nn_shape_count(const nn_shape *shape, size_t *count);
bool nn_shape_equal(const nn_shape *a, const nn_shape *b);
/* Writes "(None, 28, 28, 32)", "(10,)" or "()" into buf; returns buf. */
char *nn_shape_format(const nn_shape *shape, char *buf, size_t size);
/* The same with every size as a number, -1 too: for a tensor's shape as the user wrote
 * it (reshape(5, -1)), where None would read as a batch axis. */
char *nn_sizes_format(const nn_shape *shape, char *buf, size_t size);
/* Product of dims[from..ndim), used for "everything but the batch axis". */
int64_t nn_shape_inner(const nn_shape *shape, int from);

/* ---- dtypes ---- */

size_t nn_dtype_size(nn_dtype dtype);
const char *nn_dtype_name(nn_dtype dtype); /* "float32", "uint8", "int32", "int64" */
/* Looks a dtype up by name ("float32", "uint8", "int32", "int64"; also "float"). */
nn_status nn_dtype_parse(const char *name, nn_dtype *dtype);

/* ---- tensors ---- */

/* New zero-filled tensor on the CPU. All dims must be > 0 (a 0-dim scalar is allowed). */
nn_status nn_tensor_create(nn_tensor **out, nn_dtype dtype, const nn_shape *shape);
/* Bytes of tensor storage allocated so far in this process (a running total that frees
 * do not lower), for callers that pace a garbage collector. */
size_t nn_storage_allocated_bytes(void);
/* New zero-filled tensor on `device`. */
nn_status nn_tensor_create_on(nn_tensor **out, nn_dtype dtype, const nn_shape *shape,
                              nn_device device);
/* The tensor on `device`: a copy there, or a second header on the same storage when it
 * is there already. */
nn_status nn_tensor_to(nn_tensor **out, const nn_tensor *tensor, nn_device device);
/* The storage that holds a tensor's bytes: its own, or the block its storage aliases
 * (nn_storage_alias). *offset, when asked for, gets where the tensor starts there, in
 * bytes. */
static inline const nn_storage *nn_tensor_home(const nn_tensor *tensor, size_t *offset)
{
    const nn_storage *storage = tensor->storage;
    size_t start = tensor->offset;
    if (storage->base) {
        start += storage->base_offset;
        storage = storage->base;
    }
    if (offset)
        *offset = start;
    return storage;
}
static inline nn_device nn_tensor_device(const nn_tensor *tensor)
{
    return nn_tensor_home(tensor, NULL)->device;
}
/* Whether the host may read the tensor's data directly (it is on the CPU). */
static inline bool nn_tensor_on_host(const nn_tensor *tensor)
{
    return nn_tensor_device(tensor).kind == NN_DEVICE_CPU;
}
/* Copies the tensor's nn_tensor_bytes to host memory, or from it, wherever it lives. */
nn_status nn_tensor_read(const nn_tensor *tensor, void *host);
nn_status nn_tensor_write(nn_tensor *tensor, const void *host);
/* New tensor viewing bytes [offset, offset + size) of existing storage. */
nn_status nn_tensor_view(nn_tensor **out, nn_storage *storage, size_t offset,
                         nn_dtype dtype, const nn_shape *shape);
/* A second header on the same storage and shape. */
nn_status nn_tensor_share(nn_tensor **out, const nn_tensor *tensor);
/* Same data, new shape; at most one dim may be -1 and is inferred. */
nn_status nn_tensor_reshape(nn_tensor **out, const nn_tensor *tensor, const nn_shape *shape);
/* Rows [start, start + count) of the first axis, sharing storage. */
nn_status nn_tensor_slice(nn_tensor **out, const nn_tensor *tensor, int64_t start,
                          int64_t count);
/* A deep copy with its own storage. */
nn_status nn_tensor_clone(nn_tensor **out, const nn_tensor *tensor);
/* A deep copy converted to dtype (float → int truncates toward zero). */
nn_status nn_tensor_astype(nn_tensor **out, const nn_tensor *tensor, nn_dtype dtype);
/* Copies src's elements into dst; shapes must hold the same number of elements and
 * dtypes must match. */
nn_status nn_tensor_copy_into(nn_tensor *dst, const nn_tensor *src);
void nn_tensor_free(nn_tensor *tensor);

size_t nn_tensor_count(const nn_tensor *tensor);
size_t nn_tensor_bytes(const nn_tensor *tensor);
static inline void *nn_tensor_data(const nn_tensor *tensor)
{
    size_t offset;
    const nn_storage *home = nn_tensor_home(tensor, &offset);
    return (char *)home->data + offset;
}
static inline float *nn_tensor_f32(const nn_tensor *tensor)
{
    return (float *)nn_tensor_data(tensor);
}
/* Element i (row-major) as a double, whatever the dtype. On a device each call copies
 * one element: read whole device tensors with nn_tensor_read or nn_tensor_to instead. */
double nn_tensor_get(const nn_tensor *tensor, size_t index);
void nn_tensor_set(nn_tensor *tensor, size_t index, double value);
/* The same with whole numbers, exact for int64 beyond 2^53, where a double would round;
 * a float32 element is rounded toward zero (NaN reads 0, infinities saturate), a value
 * out of an integer dtype's range saturates, as nn_tensor_set does. */
int64_t nn_tensor_get_int64(const nn_tensor *tensor, size_t index);
void nn_tensor_set_int64(nn_tensor *tensor, size_t index, int64_t value);
void nn_tensor_fill(nn_tensor *tensor, double value);

/* ---- storage ---- */

/* New zero-filled CPU storage of `bytes`, 64-byte aligned. refcount starts at 1. */
nn_status nn_storage_create(nn_storage **out, size_t bytes);
/* The same on `device`, through its backend (a GPU's memory: out of memory is an error
 * naming the size). */
nn_status nn_storage_create_on(nn_storage **out, nn_device device, size_t bytes);
/* Moves the storage's bytes to `device` in place, so every view of it follows. On error
 * the storage is unchanged. Moving an alias moves its base. */
nn_status nn_storage_move(nn_storage *storage, nn_device device);
/* Turns `storage` into an alias of base's bytes [offset, offset + storage->bytes): its
 * own memory is freed, and every tensor on it (views held anywhere) reads and writes
 * base's bytes from then on, also after base moves to another device. The caller copies
 * the contents first. A model gathers its layers' weights into one block this way, so a
 * layer's kernel fetched before training still shows the trained values. */
nn_status nn_storage_alias(nn_storage *storage, nn_storage *base, size_t offset);
/* Copies bytes between any two places (host memory is NN_DEVICE_CPU); waits until done. */
nn_status nn_memory_copy(nn_device target_device, void *target, nn_device source_device,
                         const void *source, size_t bytes);
void nn_storage_retain(nn_storage *storage);
void nn_storage_release(nn_storage *storage);

#endif
