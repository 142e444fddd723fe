/* Tensor headers, shapes and reference-counted storage on the CPU or a device; storage
 * on a device goes through that device's backend (device.h). */
#include "tensor.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"

enum { NN_STORAGE_ALIGNMENT = 64 };

nn_shape nn_shape_from(const int64_t *dims, int ndim)
{
    nn_shape shape = {.ndim = ndim};
    for (int i = 0; i < ndim && i < NN_MAX_DIMS; i++)
        shape.dims[i] = dims[i];
    return shape;
}

nn_status nn_shape_count(const nn_shape *shape, size_t *count)
{
    char text[128];
    if (shape->ndim < 0 || shape->ndim > NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "a shape has %d axes; at most %d are allowed",
                        shape->ndim, NN_MAX_DIMS);
    size_t total = 1;
    for (int i = 0; i < shape->ndim; i++) {
        int64_t dim = shape->dims[i];
        if (dim == 0)
            return nn_error(NN_ERR_SHAPE,
                            "shape %s has a zero dimension at axis %d; every dimension must be "
                            "a positive size",
                            nn_shape_format(shape, text, sizeof text), i);
        if (dim < 0)
            return nn_error(NN_ERR_SHAPE,
                            "shape %s has the negative size %lld at axis %d; every dimension "
                            "must be a positive size",
                            nn_sizes_format(shape, text, sizeof text), (long long)dim, i);
        if ((uint64_t)dim > SIZE_MAX / total)
            return nn_error(NN_ERR_MEMORY, "shape %s has more elements than memory can hold",
                            nn_shape_format(shape, text, sizeof text));
        total *= (size_t)dim;
    }
    *count = total;
    return NN_OK;
}

bool nn_shape_equal(const nn_shape *a, const nn_shape *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return false;
    return true;
}

static char *format_shape(const nn_shape *shape, char *buf, size_t size, bool none)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
#define APPEND(...)                                                            \
    do {                                                                       \
        int n_ = snprintf(buf + used, size - used, __VA_ARGS__);               \
        if (n_ < 0 || (size_t)n_ >= size - used) {                             \
            return buf;                                                        \
        }                                                                      \
        used += (size_t)n_;                                                    \
    } while (0)
    APPEND("(");
    for (int i = 0; i < shape->ndim; i++) {
        if (i > 0)
            APPEND(", ");
        if (shape->dims[i] < 0 && none)
            APPEND("None");
        else
            APPEND("%lld", (long long)shape->dims[i]);
    }
    APPEND(shape->ndim == 1 ? ",)" : ")");
#undef APPEND
    return buf;
}

char *nn_shape_format(const nn_shape *shape, char *buf, size_t size)
{
    return format_shape(shape, buf, size, true);
}

char *nn_sizes_format(const nn_shape *shape, char *buf, size_t size)
{
    return format_shape(shape, buf, size, false);
}

int64_t nn_shape_inner(const nn_shape *shape, int from)
{
    int64_t product = 1;
    for (int i = from; i < shape->ndim; i++)
        product *= shape->dims[i];
    return product;
}

size_t nn_dtype_size(nn_dtype dtype)
{
    switch (dtype) {
    case NN_DTYPE_F32: return 4;
    case NN_DTYPE_U8: return 1;
    case NN_DTYPE_I32: return 4;
    case NN_DTYPE_I64: return 8;
    }
    return 1;
}

const char *nn_dtype_name(nn_dtype dtype)
{
    switch (dtype) {
    case NN_DTYPE_F32: return "float32";
    case NN_DTYPE_U8: return "uint8";
    case NN_DTYPE_I32: return "int32";
    case NN_DTYPE_I64: return "int64";
    }
    return "unknown";
}

nn_status nn_dtype_parse(const char *name, nn_dtype *dtype)
{
    static const struct {
        const char *name;
        nn_dtype dtype;
    } names[] = {{"float32", NN_DTYPE_F32}, {"float", NN_DTYPE_F32},
                 {"uint8", NN_DTYPE_U8},    {"int32", NN_DTYPE_I32},
                 {"int64", NN_DTYPE_I64}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *dtype = names[i].dtype;
            return NN_OK;
        }
    }
    return nn_error(NN_ERR_ARGUMENT,
                    "unknown dtype '%s'; expected one of float32, uint8, int32, int64", name);
}

/* Bytes of tensor storage allocated since the program started (never decreases). */
static _Atomic size_t allocated_bytes;

size_t nn_storage_allocated_bytes(void) { return allocated_bytes; }

nn_status nn_storage_create(nn_storage **out, size_t bytes)
{
    *out = NULL;
    nn_storage *storage = calloc(1, sizeof *storage);
    if (!storage)
        return nn_error(NN_ERR_MEMORY, "out of memory allocating a tensor header");
    size_t rounded = (bytes + NN_STORAGE_ALIGNMENT - 1) / NN_STORAGE_ALIGNMENT *
                     NN_STORAGE_ALIGNMENT;
    if (rounded < bytes) {
        free(storage);
        return nn_error(NN_ERR_MEMORY, "a tensor of %zu bytes is too large", bytes);
    }
    if (rounded == 0)
        rounded = NN_STORAGE_ALIGNMENT;
    /* calloc rather than aligned_alloc + memset: large blocks come straight from the
     * kernel already zero, so pages a tensor never writes (the output of a layer whose
     * work the next one does) cost neither time nor resident memory. */
    storage->allocation = rounded + NN_STORAGE_ALIGNMENT > rounded
                              ? calloc(1, rounded + NN_STORAGE_ALIGNMENT)
                              : NULL;
    if (!storage->allocation) {
        free(storage);
        return nn_error(NN_ERR_MEMORY, "out of memory allocating %zu bytes for a tensor",
                        bytes);
    }
    uintptr_t address = (uintptr_t)storage->allocation;
    storage->data = (char *)storage->allocation +
                    (NN_STORAGE_ALIGNMENT - address % NN_STORAGE_ALIGNMENT) % NN_STORAGE_ALIGNMENT;
    allocated_bytes += rounded;
    storage->bytes = bytes;
    storage->refcount = 1;
    storage->device = (nn_device){NN_DEVICE_CPU, 0};
    *out = storage;
    return NN_OK;
}

void nn_storage_retain(nn_storage *storage)
{
    if (storage)
        storage->refcount++;
}

/* The backend of a storage's device; NULL for the CPU's plain memory. */
static const nn_backend *device_backend(nn_device device)
{
    return device.kind == NN_DEVICE_CPU ? NULL : nn_backend_for(device);
}

nn_status nn_storage_create_on(nn_storage **out, nn_device device, size_t bytes)
{
    if (device.kind == NN_DEVICE_CPU)
        return nn_storage_create(out, bytes);
    *out = NULL;
    NN_TRY(nn_device_check(device));
    const nn_backend *backend = nn_backend_for(device);
    nn_storage *storage = calloc(1, sizeof *storage);
    if (!storage)
        return nn_error(NN_ERR_MEMORY, "out of memory allocating a tensor header");
    nn_status status = backend->memory_alloc(&storage->data, bytes, device.index);
    if (status != NN_OK) {
        free(storage);
        return status;
    }
    allocated_bytes += bytes;
    storage->bytes = bytes;
    storage->refcount = 1;
    storage->device = device;
    *out = storage;
    return NN_OK;
}

/* Frees the storage's own bytes (an alias has none: it lets go of its base). */
static void free_bytes(nn_storage *storage)
{
    if (storage->base) {
        nn_storage_release(storage->base);
        storage->base = NULL;
        return;
    }
    const nn_backend *backend = device_backend(storage->device);
    if (backend)
        backend->memory_free(storage->data);
    else
        free(storage->allocation);
}

void nn_storage_release(nn_storage *storage)
{
    if (!storage || --storage->refcount > 0)
        return;
    free_bytes(storage);
    free(storage);
}

nn_status nn_storage_alias(nn_storage *storage, nn_storage *base, size_t offset)
{
    if (base->base || base == storage)
        return nn_error(NN_ERR_ARGUMENT, "a storage can alias only a storage with its own "
                                         "bytes");
    if (offset > base->bytes || storage->bytes > base->bytes - offset)
        return nn_error(NN_ERR_ARGUMENT,
                        "an alias of %zu bytes at offset %zu does not fit storage of %zu bytes",
                        storage->bytes, offset, base->bytes);
    nn_storage_retain(base); /* before free_bytes: base may be the current base */
    free_bytes(storage);
    storage->data = NULL;
    storage->allocation = NULL;
    storage->base = base;
    storage->base_offset = offset;
    return NN_OK;
}

nn_status nn_memory_copy(nn_device target_device, void *target, nn_device source_device,
                         const void *source, size_t bytes)
{
    if (bytes == 0)
        return NN_OK;
    const nn_backend *to = device_backend(target_device), *from = device_backend(source_device);
    if (!to && !from) {
        memmove(target, source, bytes);
        return NN_OK;
    }
    if (!to)
        return from->copy_to_host(target, source, bytes);
    if (!from)
        return to->copy_from_host(target, source, bytes);
    if (nn_device_equal(target_device, source_device)) {
        to->copy(target, source, bytes);
        return to->synchronize();
    }
    /* Between two devices: through the host, which every backend can reach. */
    void *bounce = malloc(bytes);
    if (!bounce)
        return nn_error(NN_ERR_MEMORY, "out of memory copying %zu bytes between devices", bytes);
    nn_status status = from->copy_to_host(bounce, source, bytes);
    if (status == NN_OK)
        status = to->copy_from_host(target, bounce, bytes);
    free(bounce);
    return status;
}

nn_status nn_storage_move(nn_storage *storage, nn_device device)
{
    if (storage->base)
        storage = storage->base;
    if (nn_device_equal(storage->device, device))
        return NN_OK;
    nn_storage *moved;
    NN_TRY(nn_storage_create_on(&moved, device, storage->bytes));
    nn_status status = nn_memory_copy(device, moved->data, storage->device, storage->data,
                                      storage->bytes);
    if (status != NN_OK) {
        nn_storage_release(moved);
        return status;
    }
    /* Swap the bytes: `storage` keeps its identity (and its views), `moved` takes the
     * old memory away with it. */
    nn_storage old = *storage;
    storage->data = moved->data;
    storage->allocation = moved->allocation;
    storage->device = moved->device;
    moved->data = old.data;
    moved->allocation = old.allocation;
    moved->device = old.device;
    nn_storage_release(moved);
    return NN_OK;
}

static nn_status tensor_bytes_for(nn_dtype dtype, const nn_shape *shape, size_t *bytes)
{
    size_t count;
    NN_TRY(nn_shape_count(shape, &count));
    if (count > SIZE_MAX / nn_dtype_size(dtype))
        return nn_error(NN_ERR_MEMORY, "a tensor of %zu elements is too large", count);
    *bytes = count * nn_dtype_size(dtype);
    return NN_OK;
}

nn_status nn_tensor_view(nn_tensor **out, nn_storage *storage, size_t offset,
                         nn_dtype dtype, const nn_shape *shape)
{
    size_t bytes = 0;
    *out = NULL;
    NN_TRY(tensor_bytes_for(dtype, shape, &bytes));
    if (offset > storage->bytes || bytes > storage->bytes - offset)
        return nn_error(NN_ERR_SHAPE,
                        "a view of %zu bytes at offset %zu does not fit storage of %zu bytes",
                        bytes, offset, storage->bytes);
    nn_tensor *tensor = calloc(1, sizeof *tensor);
    if (!tensor)
        return nn_error(NN_ERR_MEMORY, "out of memory allocating a tensor header");
    tensor->storage = storage;
    tensor->offset = offset;
    tensor->dtype = dtype;
    tensor->shape = *shape;
    nn_storage_retain(storage);
    *out = tensor;
    return NN_OK;
}

nn_status nn_tensor_create(nn_tensor **out, nn_dtype dtype, const nn_shape *shape)
{
    size_t bytes = 0;
    nn_storage *storage;
    *out = NULL;
    NN_TRY(tensor_bytes_for(dtype, shape, &bytes));
    NN_TRY(nn_storage_create(&storage, bytes));
    nn_status status = nn_tensor_view(out, storage, 0, dtype, shape);
    nn_storage_release(storage); /* the view holds it now */
    return status;
}

nn_status nn_tensor_create_on(nn_tensor **out, nn_dtype dtype, const nn_shape *shape,
                              nn_device device)
{
    size_t bytes = 0;
    nn_storage *storage;
    *out = NULL;
    NN_TRY(tensor_bytes_for(dtype, shape, &bytes));
    NN_TRY(nn_storage_create_on(&storage, device, bytes));
    nn_status status = nn_tensor_view(out, storage, 0, dtype, shape);
    nn_storage_release(storage);
    return status;
}

nn_status nn_tensor_read(const nn_tensor *tensor, void *host)
{
    return nn_memory_copy(nn_device_cpu(), host, nn_tensor_device(tensor),
                          nn_tensor_data(tensor), nn_tensor_bytes(tensor));
}

nn_status nn_tensor_write(nn_tensor *tensor, const void *host)
{
    return nn_memory_copy(nn_tensor_device(tensor), nn_tensor_data(tensor), nn_device_cpu(),
                          host, nn_tensor_bytes(tensor));
}

nn_status nn_tensor_to(nn_tensor **out, const nn_tensor *tensor, nn_device device)
{
    *out = NULL;
    if (nn_device_equal(nn_tensor_device(tensor), device))
        return nn_tensor_share(out, tensor);
    NN_TRY(nn_tensor_create_on(out, tensor->dtype, &tensor->shape, device));
    nn_status status = nn_memory_copy(device, nn_tensor_data(*out), nn_tensor_device(tensor),
                                      nn_tensor_data(tensor), nn_tensor_bytes(tensor));
    if (status != NN_OK) {
        nn_tensor_free(*out);
        *out = NULL;
    }
    return status;
}

nn_status nn_tensor_share(nn_tensor **out, const nn_tensor *tensor)
{
    return nn_tensor_view(out, tensor->storage, tensor->offset, tensor->dtype,
                          &tensor->shape);
}

nn_status nn_tensor_reshape(nn_tensor **out, const nn_tensor *tensor, const nn_shape *shape)
{
    char from[128], to[128];
    *out = NULL;
    if (shape->ndim < 0 || shape->ndim > NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "reshape: %d axes requested; at most %d are allowed",
                        shape->ndim, NN_MAX_DIMS);
    size_t count = nn_tensor_count(tensor);
    nn_shape resolved = *shape;
    int unknown_axis = -1;
    size_t known = 1;
    for (int i = 0; i < shape->ndim; i++) {
        int64_t dim = shape->dims[i];
        if (dim == -1) {
            if (unknown_axis >= 0)
                return nn_error(NN_ERR_SHAPE, "reshape: only one dimension can be -1, got %s",
                                nn_sizes_format(shape, to, sizeof to));
            unknown_axis = i;
        } else if (dim <= 0) {
            return nn_error(NN_ERR_SHAPE,
                            "reshape: dimension %d of %s is %lld; sizes must be positive "
                            "(or -1 for one inferred dimension)",
                            i, nn_sizes_format(shape, to, sizeof to), (long long)dim);
        } else {
            if ((uint64_t)dim > SIZE_MAX / known)
                return nn_error(NN_ERR_SHAPE, "reshape: %s overflows",
                                nn_sizes_format(shape, to, sizeof to));
            known *= (size_t)dim;
        }
    }
    if (unknown_axis >= 0) {
        if (known == 0 || count % known != 0)
            return nn_error(NN_ERR_SHAPE,
                            "cannot reshape a tensor of shape %s (%zu elements) into %s: %zu "
                            "is not a multiple of %zu",
                            nn_shape_format(&tensor->shape, from, sizeof from), count,
                            nn_sizes_format(shape, to, sizeof to), count, known);
        resolved.dims[unknown_axis] = (int64_t)(count / known);
    } else if (known != count) {
        return nn_error(NN_ERR_SHAPE,
                        "cannot reshape a tensor of shape %s (%zu elements) into %s (%zu "
                        "elements)",
                        nn_shape_format(&tensor->shape, from, sizeof from), count,
                        nn_shape_format(shape, to, sizeof to), known);
    }
    return nn_tensor_view(out, tensor->storage, tensor->offset, tensor->dtype, &resolved);
}

nn_status nn_tensor_slice(nn_tensor **out, const nn_tensor *tensor, int64_t start,
                          int64_t count)
{
    char text[128];
    *out = NULL;
    if (tensor->shape.ndim < 1)
        return nn_error(NN_ERR_SHAPE, "cannot slice a scalar tensor");
    int64_t rows = tensor->shape.dims[0];
    if (start < 0 || count <= 0 || start > rows || count > rows - start)
        return nn_error(NN_ERR_SHAPE,
                        "slice of rows [%lld, %lld) is out of range for a tensor of shape %s",
                        (long long)start, (long long)(start + count),
                        nn_shape_format(&tensor->shape, text, sizeof text));
    nn_shape shape = tensor->shape;
    shape.dims[0] = count;
    size_t row_bytes = (size_t)nn_shape_inner(&tensor->shape, 1) * nn_dtype_size(tensor->dtype);
    return nn_tensor_view(out, tensor->storage, tensor->offset + (size_t)start * row_bytes,
                          tensor->dtype, &shape);
}

nn_status nn_tensor_clone(nn_tensor **out, const nn_tensor *tensor)
{
    nn_device device = nn_tensor_device(tensor);
    NN_TRY(nn_tensor_create_on(out, tensor->dtype, &tensor->shape, device));
    nn_status status = nn_memory_copy(device, nn_tensor_data(*out), device,
                                      nn_tensor_data(tensor), nn_tensor_bytes(tensor));
    if (status != NN_OK) {
        nn_tensor_free(*out);
        *out = NULL;
    }
    return status;
}

nn_status nn_tensor_astype(nn_tensor **out, const nn_tensor *tensor, nn_dtype dtype)
{
    if (dtype == tensor->dtype)
        return nn_tensor_clone(out, tensor);
    if (!nn_tensor_on_host(tensor)) {
        /* Conversions run on the host; the result goes back where the tensor was. */
        nn_tensor *host = NULL, *converted = NULL;
        *out = NULL;
        nn_status status = nn_tensor_to(&host, tensor, nn_device_cpu());
        if (status == NN_OK)
            status = nn_tensor_astype(&converted, host, dtype);
        if (status == NN_OK)
            status = nn_tensor_to(out, converted, nn_tensor_device(tensor));
        nn_tensor_free(host);
        nn_tensor_free(converted);
        return status;
    }
    NN_TRY(nn_tensor_create(out, dtype, &tensor->shape));
    size_t count = nn_tensor_count(tensor);
    nn_tensor *result = *out;
    if (tensor->dtype == NN_DTYPE_U8 && dtype == NN_DTYPE_F32) {
        const uint8_t *src = nn_tensor_data(tensor);
        float *dst = nn_tensor_f32(result);
        for (size_t i = 0; i < count; i++)
            dst[i] = (float)src[i];
        return NN_OK;
    }
    for (size_t i = 0; i < count; i++)
        nn_tensor_set(result, i, nn_tensor_get(tensor, i));
    return NN_OK;
}

nn_status nn_tensor_copy_into(nn_tensor *dst, const nn_tensor *src)
{
    char a[128], b[128];
    if (dst->dtype != src->dtype)
        return nn_error(NN_ERR_ARGUMENT, "cannot copy %s data into a %s tensor",
                        nn_dtype_name(src->dtype), nn_dtype_name(dst->dtype));
    if (nn_tensor_count(dst) != nn_tensor_count(src))
        return nn_error(NN_ERR_SHAPE, "cannot copy a tensor of shape %s into one of shape %s",
                        nn_shape_format(&src->shape, a, sizeof a),
                        nn_shape_format(&dst->shape, b, sizeof b));
    return nn_memory_copy(nn_tensor_device(dst), nn_tensor_data(dst), nn_tensor_device(src),
                          nn_tensor_data(src), nn_tensor_bytes(src));
}

void nn_tensor_free(nn_tensor *tensor)
{
    if (!tensor)
        return;
    nn_storage_release(tensor->storage);
    free(tensor);
}

size_t nn_tensor_count(const nn_tensor *tensor)
{
    size_t count = 1;
    for (int i = 0; i < tensor->shape.ndim; i++)
        count *= (size_t)tensor->shape.dims[i];
    return count;
}

size_t nn_tensor_bytes(const nn_tensor *tensor)
{
    return nn_tensor_count(tensor) * nn_dtype_size(tensor->dtype);
}

double nn_tensor_get(const nn_tensor *tensor, size_t index)
{
    const void *data = nn_tensor_data(tensor);
    int64_t element = 0; /* room for the widest dtype */
    if (!nn_tensor_on_host(tensor)) {
        size_t size = nn_dtype_size(tensor->dtype);
        if (nn_memory_copy(nn_device_cpu(), &element, nn_tensor_device(tensor),
                           (const char *)data + index * size, size) != NN_OK)
            return NAN;
        data = &element;
        index = 0;
    }
    switch (tensor->dtype) {
    case NN_DTYPE_F32: return ((const float *)data)[index];
    case NN_DTYPE_U8: return ((const uint8_t *)data)[index];
    case NN_DTYPE_I32: return ((const int32_t *)data)[index];
    case NN_DTYPE_I64: return (double)((const int64_t *)data)[index];
    }
    return 0.0;
}

/* Converts value to an integer of the given range, saturating and mapping NaN to 0, so
 * that a cast never invokes undefined behaviour. */
static double saturate(double value, double low, double high)
{
    if (isnan(value))
        return 0.0;
    value = trunc(value);
    return value < low ? low : value > high ? high : value;
}

/* The same for int64, whose limits a double cannot hold: INT64_MAX rounds up to 2^63,
 * which itself no longer converts, so the comparisons are against +-2^63 exactly. */
static int64_t saturate_int64(double value)
{
    if (isnan(value))
        return 0;
    if (value >= 0x1p63)
        return INT64_MAX;
    if (value < -0x1p63)
        return INT64_MIN;
    return (int64_t)value;
}

void nn_tensor_set(nn_tensor *tensor, size_t index, double value)
{
    void *data = nn_tensor_data(tensor);
    if (!nn_tensor_on_host(tensor)) {
        /* One element through the host: set it there, then copy it in. */
        size_t size = nn_dtype_size(tensor->dtype);
        nn_tensor element = {.dtype = tensor->dtype, .shape = NN_SHAPE(1)};
        int64_t bytes = 0;
        nn_storage storage = {.data = &bytes, .bytes = sizeof bytes, .refcount = 1,
                              .device = nn_device_cpu()};
        element.storage = &storage;
        nn_tensor_set(&element, 0, value);
        nn_memory_copy(nn_tensor_device(tensor), (char *)data + index * size, nn_device_cpu(),
                       &bytes, size);
        return;
    }
    switch (tensor->dtype) {
    case NN_DTYPE_F32: ((float *)data)[index] = (float)value; break;
    case NN_DTYPE_U8: ((uint8_t *)data)[index] = (uint8_t)saturate(value, 0, 255); break;
    case NN_DTYPE_I32:
        ((int32_t *)data)[index] = (int32_t)saturate(value, INT32_MIN, INT32_MAX);
        break;
    case NN_DTYPE_I64:
        ((int64_t *)data)[index] = saturate_int64(value);
        break;
    }
}

int64_t nn_tensor_get_int64(const nn_tensor *tensor, size_t index)
{
    if (tensor->dtype != NN_DTYPE_I64)
        return saturate_int64(nn_tensor_get(tensor, index)); /* exact below 2^53 */
    const void *data = nn_tensor_data(tensor);
    int64_t element = 0;
    if (!nn_tensor_on_host(tensor)) {
        if (nn_memory_copy(nn_device_cpu(), &element, nn_tensor_device(tensor),
                           (const int64_t *)data + index, sizeof element) != NN_OK)
            return 0;
        return element;
    }
    return ((const int64_t *)data)[index];
}

void nn_tensor_set_int64(nn_tensor *tensor, size_t index, int64_t value)
{
    if (tensor->dtype != NN_DTYPE_I64) {
        /* Every other dtype's range (and float32's precision) is within a double's. */
        nn_tensor_set(tensor, index, (double)value);
        return;
    }
    void *data = nn_tensor_data(tensor);
    if (!nn_tensor_on_host(tensor))
        nn_memory_copy(nn_tensor_device(tensor), (int64_t *)data + index, nn_device_cpu(), &value,
                       sizeof value);
    else
        ((int64_t *)data)[index] = value;
}

void nn_tensor_fill(nn_tensor *tensor, double value)
{
    size_t count = nn_tensor_count(tensor);
    if (!nn_tensor_on_host(tensor)) {
        nn_tensor *host = NULL;
        if (nn_tensor_create(&host, tensor->dtype, &tensor->shape) != NN_OK)
            return;
        nn_tensor_fill(host, value);
        nn_tensor_write(tensor, nn_tensor_data(host));
        nn_tensor_free(host);
        return;
    }
    if (tensor->dtype == NN_DTYPE_F32) {
        float *data = nn_tensor_f32(tensor);
        for (size_t i = 0; i < count; i++)
            data[i] = (float)value;
        return;
    }
    for (size_t i = 0; i < count; i++)
        nn_tensor_set(tensor, i, value);
}
