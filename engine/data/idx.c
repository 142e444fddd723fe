/* IDX reader and writer. The header is 4 magic bytes (0, 0, type, rank) and one
 * big-endian uint32 per dimension; the data follows in big-endian order. */
#include "idx.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../io/atomic_file.h"

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

/* Converts the big-endian payload into the tensor's dtype. A float64 beyond float32's
 * range is an error rather than an infinity the file never held. */
static nn_status decode_payload(nn_tensor *tensor, const uint8_t *payload, int type,
                                size_t count, const char *name)
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
            float narrowed = (float)value;
            if (isinf(narrowed) && isfinite(value))
                return nn_error(NN_ERR_FORMAT, "%s: the float64 value %g at position %zu is "
                                               "beyond float32's range (about 3.4e38), the "
                                               "type nnsh reads float64 data into",
                                name, value, i + 1);
            ((float *)out)[i] = narrowed;
            break;
        }
        default: break;
        }
    }
    return NN_OK;
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
    nn_status status = decode_payload(*out, data + header_bytes, type,
                                      (size_t)(payload_bytes / idx_element_size(type)), name);
    if (status != NN_OK) {
        nn_tensor_free(*out);
        *out = NULL;
    }
    return status;
}

/* deflate never expands data more than about 1032 times; a gzip file whose header
 * claims more than this per compressed byte is lying, and is refused before anything is
 * allocated for it. */
enum { GZIP_MAX_RATIO = 1032, GZIP_SLACK_BYTES = 1 << 16 };

/* zlib's message for the stream, without the "<fd:3>: " it puts first for a stream
 * opened on a descriptor (the path is in nnsh's own message already); a read that
 * failed in the system (Z_ERRNO) reads as the system's reason. */
static const char *stream_error(gzFile file, int *code)
{
    const char *message = gzerror(file, code);
    if (*code == Z_ERRNO)
        return strerror(errno);
    if (strncmp(message, "<fd:", 4) == 0 && strstr(message, ": "))
        message = strstr(message, ": ") + 2;
    return message;
}

/* Reads exactly `size` bytes from a (possibly compressed) stream; *got receives how
 * many arrived before the end. */
static nn_status read_stream(gzFile file, const char *path, uint8_t *out, size_t size,
                             size_t *got)
{
    *got = 0;
    while (*got < size) {
        size_t want = size - *got < (1u << 30) ? size - *got : (1u << 30);
        int chunk = gzread(file, out + *got, (unsigned)want);
        if (chunk < 0) {
            int code;
            const char *message = stream_error(file, &code);
            if (code == Z_ERRNO)
                return nn_error(NN_ERR_IO, "%s: reading failed: %s", path, message);
            return nn_error(NN_ERR_FORMAT, "%s: corrupt compressed data: %s", path, message);
        }
        if (chunk == 0)
            break;
        *got += (size_t)chunk;
    }
    /* gzread reports a gzip stream cut short as a plain end of file; only gzerror tells
     * (Z_BUF_ERROR) that the data ended inside the stream. */
    int code = Z_OK;
    const char *message = stream_error(file, &code);
    if (*got < size && code == Z_BUF_ERROR)
        return nn_error(NN_ERR_FORMAT, "%s: the gzip stream is truncated or corrupt (%s)", path,
                        message);
    return NN_OK;
}

/* Reads the header first and checks the size it claims against the file (exactly, for
 * raw files; by deflate's largest possible ratio, for gzip) before reading the payload,
 * whose buffer then grows only as data really arrives. So /dev/zero, a lying header or
 * a decompression bomb cannot make it allocate more than the file can deliver. */
static nn_status load_stream(gzFile file, const char *path, uint64_t file_size,
                             nn_tensor **out)
{
    uint8_t header[4 + 4 * NN_MAX_DIMS];
    size_t got;
    NN_TRY(read_stream(file, path, header, 4, &got));
    size_t header_bytes = 4;
    if (got == 4 && header[3] >= 1 && header[3] <= NN_MAX_DIMS) {
        header_bytes = 4 + 4 * (size_t)header[3];
        size_t more;
        NN_TRY(read_stream(file, path, header + 4, header_bytes - 4, &more));
        got += more;
    }
    int type = 0;
    nn_shape shape = {0};
    uint64_t payload_bytes = 0;
    NN_TRY(parse_header(header, got, path, &type, &shape, &header_bytes, &payload_bytes));
    bool compressed = !gzdirect(file);
    uint64_t limit = compressed ? file_size * GZIP_MAX_RATIO + GZIP_SLACK_BYTES
                                : file_size - header_bytes;
    if (payload_bytes > limit || (!compressed && payload_bytes != limit))
        return nn_error(NN_ERR_FORMAT, "%s: the header's dimensions need %llu data bytes but "
                        "the file %s %llu (%s)", path, (unsigned long long)payload_bytes,
                        compressed ? "could hold at most" : "holds", (unsigned long long)limit,
                        payload_bytes > limit ? "truncated, or a lying header"
                                              : "trailing garbage");
    /* One byte more than needed, to notice data after the payload. */
    size_t wanted = (size_t)payload_bytes + 1;
    size_t capacity = wanted < (1u << 16) ? wanted : (1u << 16), size = 0;
    uint8_t *data = malloc(capacity);
    if (!data)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory", path);
    nn_status status = NN_OK;
    for (;;) {
        size_t chunk;
        status = read_stream(file, path, data + size, capacity - size, &chunk);
        size += chunk;
        if (status != NN_OK || size < capacity || capacity == wanted)
            break;
        size_t grown_capacity = capacity * 2 < wanted ? capacity * 2 : wanted;
        uint8_t *grown = realloc(data, grown_capacity);
        if (!grown) {
            status = nn_error(NN_ERR_MEMORY, "%s: out of memory after %zu bytes", path, size);
            break;
        }
        data = grown;
        capacity = grown_capacity;
    }
    if (status == NN_OK && size != payload_bytes)
        status = nn_error(NN_ERR_FORMAT, "%s: the header's dimensions need %llu data bytes but "
                          "the file holds %s (%s)", path, (unsigned long long)payload_bytes,
                          size > payload_bytes ? "more" : "fewer",
                          size > payload_bytes ? "trailing garbage" : "truncated");
    if (status == NN_OK)
        status = nn_tensor_create(out, dtype_for(type), &shape);
    if (status == NN_OK)
        status = decode_payload(*out, data, type,
                                (size_t)(payload_bytes / idx_element_size(type)), path);
    if (status != NN_OK) {
        nn_tensor_free(*out);
        *out = NULL;
    }
    free(data);
    return status;
}

nn_status nn_idx_load(nn_tensor **out, const char *path)
{
    *out = NULL;
    /* O_NONBLOCK: opening a named pipe would otherwise wait for a writer forever before
     * the check below could refuse it; reads of a regular file ignore the flag. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return nn_error(NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat info;
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
        close(fd);
        return nn_error(NN_ERR_IO, "%s: not a regular file", path);
    }
    gzFile file = gzdopen(fd, "rb");
    if (!file) {
        close(fd);
        return nn_error(NN_ERR_MEMORY, "%s: out of memory opening", path);
    }
    nn_status status = load_stream(file, path, (uint64_t)info.st_size, out);
    gzclose(file);
    return status;
}

static nn_status save_host(const nn_tensor *tensor, const char *path);

nn_status nn_idx_save(const nn_tensor *tensor, const char *path)
{
    if (nn_tensor_on_host(tensor))
        return save_host(tensor, path);
    /* Written from one host copy of a tensor on a device. */
    nn_tensor *host;
    NN_TRY(nn_tensor_to(&host, tensor, nn_device_cpu()));
    nn_status status = save_host(host, path);
    nn_tensor_free(host);
    return status;
}

static bool has_gzip_suffix(const char *path)
{
    size_t length = strlen(path);
    return length >= 3 && strcmp(path + length - 3, ".gz") == 0;
}

/* Where the bytes of an IDX file go: straight into the file, or through gzip. */
typedef struct idx_writer {
    nn_atomic_file *file;
    z_stream *gzip; /* NULL: raw */
    uint8_t packed[1 << 16];
} idx_writer;

static nn_status writer_put(idx_writer *writer, const uint8_t *bytes, size_t size, bool last)
{
    if (!writer->gzip)
        return nn_atomic_file_write(writer->file, bytes, size);
    z_stream *stream = writer->gzip;
    stream->next_in = (Bytef *)bytes;
    stream->avail_in = (uInt)size; /* blocks are small */
    int result;
    do {
        stream->next_out = writer->packed;
        stream->avail_out = sizeof writer->packed;
        result = deflate(stream, last ? Z_FINISH : Z_NO_FLUSH);
        if (result == Z_STREAM_ERROR)
            return nn_error(NN_ERR_MEMORY, "gzip could not compress the data");
        size_t produced = sizeof writer->packed - stream->avail_out;
        if (produced)
            NN_TRY(nn_atomic_file_write(writer->file, writer->packed, produced));
    } while (stream->avail_out == 0 || (last && result != Z_STREAM_END));
    return NN_OK;
}

/* The header, then the elements big-endian a block at a time. */
static nn_status write_idx(idx_writer *writer, const nn_tensor *tensor, int type)
{
    uint8_t header[4 + 4 * NN_MAX_DIMS] = {0, 0, (uint8_t)type, (uint8_t)tensor->shape.ndim};
    for (int i = 0; i < tensor->shape.ndim && i < NN_MAX_DIMS; i++) {
        uint32_t dim = (uint32_t)tensor->shape.dims[i];
        uint8_t *p = header + 4 + 4 * i;
        p[0] = (uint8_t)(dim >> 24), p[1] = (uint8_t)(dim >> 16), p[2] = (uint8_t)(dim >> 8),
        p[3] = (uint8_t)dim;
    }
    size_t count = nn_tensor_count(tensor), element = nn_dtype_size(tensor->dtype);
    NN_TRY(writer_put(writer, header, 4 + 4 * (size_t)tensor->shape.ndim, count == 0));
    const uint8_t *data = nn_tensor_data(tensor);
    uint8_t block[1 << 14];
    size_t per_block = sizeof block / element;
    for (size_t first = 0; first < count; first += per_block) {
        size_t n = count - first < per_block ? count - first : per_block;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < element; k++) /* little-endian host to big */
                block[i * element + k] = data[(first + i) * element + element - 1 - k];
        NN_TRY(writer_put(writer, block, n * element, first + n == count));
    }
    return NN_OK;
}

static nn_status save_host(const nn_tensor *tensor, const char *path)
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
    for (int i = 0; i < tensor->shape.ndim; i++)
        if (tensor->shape.dims[i] > (int64_t)UINT32_MAX)
            return nn_error(NN_ERR_ARGUMENT, "IDX files hold sizes below 2^32; axis %d has "
                            "%lld", i, (long long)tensor->shape.dims[i]);
    idx_writer *writer = malloc(sizeof *writer);
    if (!writer)
        return nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
    z_stream stream = {0};
    writer->gzip = NULL;
    if (has_gzip_suffix(path)) {
        if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            free(writer);
            return nn_error(NN_ERR_MEMORY, "out of memory starting gzip");
        }
        writer->gzip = &stream;
    }
    /* Written beside the target and renamed over it once complete, as model files are:
     * a full disk or a kill half-way leaves the old file as it was. */
    nn_atomic_file file;
    nn_status status = nn_atomic_file_begin(&file, path);
    if (status == NN_OK) {
        writer->file = &file;
        status = write_idx(writer, tensor, type);
        if (status == NN_OK)
            status = nn_atomic_file_commit(&file);
        else
            nn_atomic_file_abort(&file);
    }
    if (writer->gzip)
        deflateEnd(&stream);
    free(writer);
    return status;
}
