/* IDX reader and writer. The header is 4 magic bytes (0, 0, type, rank) and one
 * big-endian uint32 per dimension; the data follows in big-endian order. */
#include "idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum {
    IDX_TYPE_U8 = 0x08,
    IDX_TYPE_I8 = 0x09,
    IDX_TYPE_I16 = 0x0B,
    IDX_TYPE_I32 = 0x0C,
    IDX_TYPE_F32 = 0x0D,
    IDX_TYPE_F64 = 0x0E,
};

/* Refuse data sets beyond this, whatever a header claims (16 GiB). */
static const uint64_t IDX_MAX_BYTES = UINT64_C(1) << 34;

static size_t idx_element_size(int type)
{
    switch (type) {
    case IDX_TYPE_U8:
    case IDX_TYPE_I8: return 1;
    case IDX_TYPE_I16: return 2;
    case IDX_TYPE_I32:
    case IDX_TYPE_F32: return 4;
    case IDX_TYPE_F64: return 8;
    default: return 0;
    }
}

static uint32_t read_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Validates the header and computes the shape and the payload size. */
static nn_status parse_header(const uint8_t *data, size_t size, const char *name,
                              int *type, nn_shape *shape, size_t *header_bytes,
                              uint64_t *payload_bytes)
{
    if (size < 4)
        return nn_error(NN_ERR_FORMAT, "%s: not an IDX file: %zu bytes is shorter than the "
                                       "4-byte magic number", name, size);
    if (data[0] != 0 || data[1] != 0)
        return nn_error(NN_ERR_FORMAT, "%s: not an IDX file: the magic number must start "
                                       "with two zero bytes, found 0x%02x 0x%02x",
                        name, data[0], data[1]);
    *type = data[2];
    size_t element = idx_element_size(*type);
    if (element == 0)
        return nn_error(NN_ERR_FORMAT, "%s: unknown IDX data type 0x%02x (expected 0x08 "
                                       "uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D "
                                       "float32 or 0x0E float64)", name, *type);
    int rank = data[3];
    if (rank < 1 || rank > NN_MAX_DIMS)
        return nn_error(NN_ERR_FORMAT, "%s: IDX rank %d is out of range (1 to %d)", name,
                        rank, NN_MAX_DIMS);
    *header_bytes = 4 + 4 * (size_t)rank;
    if (size < *header_bytes)
        return nn_error(NN_ERR_FORMAT, "%s: truncated IDX header: rank %d needs %zu bytes, "
                                       "the file has %zu", name, rank, *header_bytes, size);
    uint64_t count = 1;
    shape->ndim = rank;
    for (int i = 0; i < rank; i++) {
        uint32_t dim = read_be32(data + 4 + 4 * (size_t)i);
        if (dim == 0)
            return nn_error(NN_ERR_FORMAT, "%s: dimension %d is zero: the file holds no data",
                            name, i);
        shape->dims[i] = dim;
        if (count > IDX_MAX_BYTES / dim)
            return nn_error(NN_ERR_FORMAT, "%s: the dimensions claim more than %llu bytes",
                            name, (unsigned long long)IDX_MAX_BYTES);
        count *= dim;
    }
    if (count > IDX_MAX_BYTES / element)
        return nn_error(NN_ERR_FORMAT, "%s: the dimensions claim more than %llu bytes", name,
                        (unsigned long long)IDX_MAX_BYTES);
    *payload_bytes = count * element;
    return NN_OK;
}

/* Converts the big-endian payload into the tensor's dtype. */
static void decode_payload(nn_tensor *tensor, const uint8_t *payload, int type, size_t count)
{
    void *out = nn_tensor_data(tensor);
    for (size_t i = 0; i < count; i++) {
        switch (type) {
        case IDX_TYPE_U8: ((uint8_t *)out)[i] = payload[i]; break;
        case IDX_TYPE_I8: ((int32_t *)out)[i] = (int8_t)payload[i]; break;
        case IDX_TYPE_I16:
            ((int32_t *)out)[i] = (int16_t)(uint16_t)(payload[2 * i] << 8 | payload[2 * i + 1]);
            break;
        case IDX_TYPE_I32: ((int32_t *)out)[i] = (int32_t)read_be32(payload + 4 * i); break;
        case IDX_TYPE_F32: {
            uint32_t bits = read_be32(payload + 4 * i);
            float value;
            memcpy(&value, &bits, sizeof value);
            ((float *)out)[i] = value;
            break;
        }
        case IDX_TYPE_F64: {
            uint64_t bits = (uint64_t)read_be32(payload + 8 * i) << 32 | read_be32(payload + 8 * i + 4);
            double value;
            memcpy(&value, &bits, sizeof value);
            ((float *)out)[i] = (float)value;
            break;
        }
        default: break;
        }
    }
}

static nn_dtype dtype_for(int type)
{
    switch (type) {
    case IDX_TYPE_U8: return NN_DTYPE_U8;
    case IDX_TYPE_F32:
    case IDX_TYPE_F64: return NN_DTYPE_F32;
    default: return NN_DTYPE_I32;
    }
}

nn_status nn_idx_parse(nn_tensor **out, const uint8_t *data, size_t size, const char *name)
{
    int type = 0;
    nn_shape shape = {0};
    size_t header_bytes = 0;
    uint64_t payload_bytes = 0;
    *out = NULL;
    NN_TRY(parse_header(data, size, name, &type, &shape, &header_bytes, &payload_bytes));
    size_t available = size - header_bytes;
    if (payload_bytes != available)
        return nn_error(NN_ERR_FORMAT, "%s: the header's dimensions need %llu data bytes but "
                                       "the file holds %zu (%s)",
                        name, (unsigned long long)payload_bytes, available,
                        payload_bytes > available ? "truncated" : "trailing garbage");
    NN_TRY(nn_tensor_create(out, dtype_for(type), &shape));
    decode_payload(*out, data + header_bytes, type, (size_t)(payload_bytes / idx_element_size(type)));
    return NN_OK;
}

/* Reads a whole (possibly gzip-compressed) file into memory, growing the buffer only as
 * data actually arrives, so a header that lies about its size cannot make us allocate
 * more than the file really holds (plus one chunk). */
static nn_status read_all(const char *path, uint8_t **data_out, size_t *size_out)
{
    *data_out = NULL;
    *size_out = 0;
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return nn_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(probe);
    gzFile file = gzopen(path, "rb");
    if (!file)
        return nn_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t capacity = 1 << 16, size = 0;
    uint8_t *data = malloc(capacity);
    if (!data) {
        gzclose(file);
        return nn_error(NN_ERR_MEMORY, "%s: out of memory", path);
    }
    for (;;) {
        if (size == capacity) {
            if (capacity >= IDX_MAX_BYTES) {
                free(data);
                gzclose(file);
                return nn_error(NN_ERR_FORMAT, "%s: larger than %llu bytes", path,
                                (unsigned long long)IDX_MAX_BYTES);
            }
            uint8_t *grown = realloc(data, capacity * 2);
            if (!grown) {
                free(data);
                gzclose(file);
                return nn_error(NN_ERR_MEMORY, "%s: out of memory after %zu bytes", path, size);
            }
            data = grown;
            capacity *= 2;
        }
        size_t room = capacity - size;
        int chunk = gzread(file, data + size, (unsigned)(room < (1u << 30) ? room : (1u << 30)));
        if (chunk < 0) {
            int code;
            const char *message = gzerror(file, &code);
            nn_status status = nn_error(NN_ERR_FORMAT, "%s: corrupt compressed data: %s", path,
                                        message);
            free(data);
            gzclose(file);
            return status;
        }
        if (chunk == 0)
            break;
        size += (size_t)chunk;
    }
    gzclose(file);
    *data_out = data;
    *size_out = size;
    return NN_OK;
}

nn_status nn_idx_load(nn_tensor **out, const char *path)
{
    uint8_t *data;
    size_t size;
    *out = NULL;
    NN_TRY(read_all(path, &data, &size));
    nn_status status = nn_idx_parse(out, data, size, path);
    free(data);
    return status;
}

nn_status nn_idx_save(const nn_tensor *tensor, const char *path)
{
    int type;
    switch (tensor->dtype) {
    case NN_DTYPE_U8: type = IDX_TYPE_U8; break;
    case NN_DTYPE_I32: type = IDX_TYPE_I32; break;
    case NN_DTYPE_F32: type = IDX_TYPE_F32; break;
    default:
        return nn_error(NN_ERR_ARGUMENT, "IDX files hold uint8, int32 or float32, not %s",
                        nn_dtype_name(tensor->dtype));
    }
    if (tensor->shape.ndim < 1)
        return nn_error(NN_ERR_ARGUMENT, "IDX files need at least one dimension");
    FILE *file = fopen(path, "wb");
    if (!file)
        return nn_error(NN_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    uint8_t header[4 + 4 * NN_MAX_DIMS] = {0, 0, (uint8_t)type, (uint8_t)tensor->shape.ndim};
    for (int i = 0; i < tensor->shape.ndim && i < NN_MAX_DIMS; i++) {
        uint32_t dim = (uint32_t)tensor->shape.dims[i];
        uint8_t *p = header + 4 + 4 * i;
        p[0] = (uint8_t)(dim >> 24), p[1] = (uint8_t)(dim >> 16), p[2] = (uint8_t)(dim >> 8),
        p[3] = (uint8_t)dim;
    }
    bool ok = fwrite(header, 1, 4 + 4 * (size_t)tensor->shape.ndim, file) ==
              4 + 4 * (size_t)tensor->shape.ndim;
    size_t count = nn_tensor_count(tensor);
    const uint8_t *bytes = nn_tensor_data(tensor);
    size_t element = nn_dtype_size(tensor->dtype);
    for (size_t i = 0; ok && i < count; i++) {
        uint8_t be[8];
        for (size_t k = 0; k < element; k++)
            be[k] = bytes[i * element + element - 1 - k]; /* little-endian host to big */
        ok = fwrite(be, 1, element, file) == element;
    }
    if (fclose(file) != 0)
        ok = false;
    if (!ok)
        return nn_error(NN_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return NN_OK;
}
