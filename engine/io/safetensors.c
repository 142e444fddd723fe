/* safetensors reading, validated against the file before anything is trusted, and
 * deterministic atomic writing. */
#include "safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

/* Tensor bytes go to and from memory as they are; the format is little-endian. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c copies tensor bytes unchanged; a big-endian host needs byte swapping"
#endif

/* The JSON tree costs far more memory than its text: a header with more values than
 * this is refused before it is parsed. nnsh's own headers hold a few thousand. */
enum { MAX_JSON_VALUES = 1 << 20 };

/* JSON numbers are doubles: integers beyond 2^53 would not be exact. */
static const double MAX_EXACT_INTEGER = 9007199254740992.0;

static const struct {
    const char *name;
    size_t size;
} dtype_table[NN_SAFETENSORS_DTYPE_COUNT] = {
    [NN_SAFETENSORS_BOOL] = {"BOOL", 1},       [NN_SAFETENSORS_U8] = {"U8", 1},
    [NN_SAFETENSORS_I8] = {"I8", 1},           [NN_SAFETENSORS_F8_E5M2] = {"F8_E5M2", 1},
    [NN_SAFETENSORS_F8_E4M3] = {"F8_E4M3", 1}, [NN_SAFETENSORS_I16] = {"I16", 2},
    [NN_SAFETENSORS_U16] = {"U16", 2},         [NN_SAFETENSORS_F16] = {"F16", 2},
    [NN_SAFETENSORS_BF16] = {"BF16", 2},       [NN_SAFETENSORS_I32] = {"I32", 4},
    [NN_SAFETENSORS_U32] = {"U32", 4},         [NN_SAFETENSORS_F32] = {"F32", 4},
    [NN_SAFETENSORS_F64] = {"F64", 8},         [NN_SAFETENSORS_I64] = {"I64", 8},
    [NN_SAFETENSORS_U64] = {"U64", 8},
};

const char *nn_safetensors_dtype_name(nn_safetensors_dtype dtype)
{
    return dtype < NN_SAFETENSORS_DTYPE_COUNT ? dtype_table[dtype].name : "unknown";
}

size_t nn_safetensors_dtype_size(nn_safetensors_dtype dtype)
{
    return dtype < NN_SAFETENSORS_DTYPE_COUNT ? dtype_table[dtype].size : 0;
}

/* ---- text checks ---- */

/* Length of the longest valid UTF-8 prefix of text. */
static size_t utf8_valid_prefix(const unsigned char *text, size_t length)
{
    size_t i = 0;
    while (i < length) {
        unsigned char lead = text[i];
        if (lead < 0x80) {
            i++;
            continue;
        }
        size_t extra;
        uint32_t code, smallest;
        if (lead >= 0xC2 && lead <= 0xDF)
            extra = 1, code = lead & 0x1Fu, smallest = 0x80;
        else if (lead >= 0xE0 && lead <= 0xEF)
            extra = 2, code = lead & 0x0Fu, smallest = 0x800;
        else if (lead >= 0xF0 && lead <= 0xF4)
            extra = 3, code = lead & 0x07u, smallest = 0x10000;
        else
            return i;
        if (length - i <= extra)
            return i;
        for (size_t k = 1; k <= extra; k++) {
            if ((text[i + k] & 0xC0) != 0x80)
                return i;
            code = code << 6 | (text[i + k] & 0x3Fu);
        }
        if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return i;
        i += extra + 1;
    }
    return i;
}

bool nn_utf8_valid(const char *bytes, size_t length)
{
    return utf8_valid_prefix((const unsigned char *)bytes, length) == length;
}

static bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* What must hold before the JSON parser sees the header: it starts with '{', is UTF-8,
 * has no raw control characters (JSON allows none outside whitespace), and its number
 * of values (bounded by commas and brackets) is reasonable. */
static nn_status check_header_text(const char *name, const char *text, size_t length)
{
    if (length == 0)
        return nn_error(NN_ERR_FORMAT, "%s: the header is empty", name);
    if (text[0] != '{')
        return nn_error(NN_ERR_FORMAT, "%s: the header does not start with '{' (found byte "
                        "0x%02x); not a safetensors file", name, (unsigned char)text[0]);
    size_t valid = utf8_valid_prefix((const unsigned char *)text, length);
    if (valid != length)
        return nn_error(NN_ERR_FORMAT, "%s: the header is not valid UTF-8 (byte %zu of the "
                        "header)", name, valid);
    size_t values = 1;
    for (size_t i = 0; i < length; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 && !is_json_space((char)c))
            return nn_error(NN_ERR_FORMAT, "%s: the header holds control character 0x%02x at "
                            "byte %zu", name, c, i);
        values += c == ',' || c == '[' || c == '{';
    }
    if (values > MAX_JSON_VALUES)
        return nn_error(NN_ERR_FORMAT, "%s: the header holds more than %d JSON values; "
                        "refusing to parse it", name, MAX_JSON_VALUES);
    return NN_OK;
}

/* ---- header parsing ---- */

static nn_status json_count(const char *name, const char *tensor, const char *field,
                            const cJSON *item, uint64_t *out)
{
    double value = cJSON_IsNumber(item) ? item->valuedouble : -1.0;
    if (!cJSON_IsNumber(item) || !(value >= 0.0) || value > MAX_EXACT_INTEGER ||
        value != (double)(uint64_t)value)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': %s must hold non-negative integers "
                        "(up to 2^53)", name, tensor, field);
    *out = (uint64_t)value;
    return NN_OK;
}

static nn_status parse_tensor(const char *name, const cJSON *info, nn_safetensors_tensor *out)
{
    const char *tensor = info->string;
    if (!cJSON_IsObject(info))
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' must be an object with dtype, shape "
                        "and data_offsets", name, tensor);
    const cJSON *dtype = NULL, *shape = NULL, *offsets = NULL;
    for (const cJSON *field = info->child; field; field = field->next) {
        const cJSON **slot = strcmp(field->string, "dtype") == 0          ? &dtype
                             : strcmp(field->string, "shape") == 0        ? &shape
                             : strcmp(field->string, "data_offsets") == 0 ? &offsets
                                                                          : NULL;
        if (!slot)
            return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has unknown field '%s' (expected "
                            "dtype, shape, data_offsets)", name, tensor, field->string);
        if (*slot)
            return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has field '%s' twice", name,
                            tensor, field->string);
        *slot = field;
    }
    if (!dtype || !shape || !offsets)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' lacks %s", name, tensor,
                        !dtype ? "dtype" : !shape ? "shape" : "data_offsets");
    if (!cJSON_IsString(dtype))
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': dtype must be a string", name, tensor);
    int kind = -1;
    for (int i = 0; i < NN_SAFETENSORS_DTYPE_COUNT; i++)
        if (strcmp(dtype->valuestring, dtype_table[i].name) == 0)
            kind = i;
    if (kind < 0)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has unknown dtype '%.40s' (known: BOOL, "
                        "U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, "
                        "I64, U64)", name, tensor, dtype->valuestring);
    out->dtype = (nn_safetensors_dtype)kind;
    if (!cJSON_IsArray(shape))
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': shape must be a list", name, tensor);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > NN_MAX_DIMS)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' has %d dimensions; at most %d are "
                        "supported", name, tensor, ndim, NN_MAX_DIMS);
    out->shape.ndim = ndim;
    uint64_t count = 1;
    bool overflow = false;
    int axis = 0;
    for (const cJSON *dim = shape->child; dim; dim = dim->next, axis++) {
        uint64_t value = 0;
        NN_TRY(json_count(name, tensor, "shape", dim, &value));
        out->shape.dims[axis] = (int64_t)value;
        overflow |= __builtin_mul_overflow(count, value, &count);
    }
    if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': data_offsets must be a pair [begin, "
                        "end]", name, tensor);
    NN_TRY(json_count(name, tensor, "data_offsets", offsets->child, &out->begin));
    NN_TRY(json_count(name, tensor, "data_offsets", offsets->child->next, &out->end));
    if (out->end < out->begin)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] end before "
                        "they begin", name, tensor, (unsigned long long)out->begin,
                        (unsigned long long)out->end);
    uint64_t bytes = 0;
    overflow |= __builtin_mul_overflow(count, (uint64_t)dtype_table[kind].size, &bytes);
    if (overflow)
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': the shape's size overflows", name,
                        tensor);
    if (bytes != out->end - out->begin) {
        char text[160];
        return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' of shape %s and dtype %s needs %llu "
                        "bytes but data_offsets give %llu", name, tensor,
                        nn_shape_format(&out->shape, text, sizeof text), dtype_table[kind].name,
                        (unsigned long long)bytes, (unsigned long long)(out->end - out->begin));
    }
    out->bytes = (size_t)bytes;
    out->name = strdup(tensor);
    if (!out->name)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", name);
    return NN_OK;
}

static nn_status parse_metadata(nn_safetensors *file, const cJSON *metadata)
{
    if (!cJSON_IsObject(metadata))
        return nn_error(NN_ERR_FORMAT, "%s: __metadata__ must be an object of strings",
                        file->name);
    size_t count = 0;
    for (const cJSON *entry = metadata->child; entry; entry = entry->next)
        count++;
    file->metadata_keys = calloc(count ? count : 1, sizeof *file->metadata_keys);
    file->metadata_values = calloc(count ? count : 1, sizeof *file->metadata_values);
    if (!file->metadata_keys || !file->metadata_values)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
    for (const cJSON *entry = metadata->child; entry; entry = entry->next) {
        if (!cJSON_IsString(entry))
            return nn_error(NN_ERR_FORMAT, "%s: __metadata__ entry '%s' must be a string",
                            file->name, entry->string);
        size_t i = file->metadata_count;
        file->metadata_keys[i] = strdup(entry->string);
        file->metadata_values[i] = strdup(entry->valuestring);
        if (!file->metadata_keys[i] || !file->metadata_values[i]) {
            free(file->metadata_keys[i]);
            free(file->metadata_values[i]);
            return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
        }
        file->metadata_count++;
    }
    return NN_OK;
}

/* A name and where it came from, so names sort without a global comparison context. */
typedef struct named_index {
    const char *name;
    size_t index;
} named_index;

static int compare_named_indices(const void *a, const void *b)
{
    return strcmp(((const named_index *)a)->name, ((const named_index *)b)->name);
}

/* Sorts names[0..count) into `order` (indices) and returns the first name that appears
 * twice, or NULL. *failed is set when memory runs out. */
static const char *sort_and_find_duplicate(const char *const *names, size_t stride,
                                           size_t count, size_t *order, bool *failed)
{
    *failed = false;
    named_index *slots = malloc((count ? count : 1) * sizeof *slots);
    if (!slots) {
        *failed = true;
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        slots[i] = (named_index){*(const char *const *)((const char *)names + i * stride), i};
    qsort(slots, count, sizeof *slots, compare_named_indices);
    const char *duplicate = NULL;
    for (size_t i = 0; i < count; i++) {
        if (order)
            order[i] = slots[i].index;
        if (i > 0 && !duplicate && strcmp(slots[i - 1].name, slots[i].name) == 0)
            duplicate = slots[i].name;
    }
    free(slots);
    return duplicate;
}

static int compare_offsets(const void *a, const void *b)
{
    const nn_safetensors_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

static nn_status check_metadata_unique(const nn_safetensors *file)
{
    bool failed;
    const char *duplicate = sort_and_find_duplicate((const char *const *)file->metadata_keys,
                                                    sizeof(char *), file->metadata_count, NULL,
                                                    &failed);
    if (failed)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
    if (duplicate)
        return nn_error(NN_ERR_FORMAT, "%s: __metadata__ has key '%s' twice", file->name,
                        duplicate);
    return NN_OK;
}

/* The data must be exactly the tensors, back to back from offset 0, in some order. */
static nn_status check_layout(nn_safetensors *file)
{
    uint64_t data_length = file->file_size - file->data_start;
    for (size_t i = 0; i < file->tensor_count; i++) {
        const nn_safetensors_tensor *tensor = &file->tensors[i];
        if (tensor->end > data_length)
            return nn_error(NN_ERR_FORMAT, "%s: tensor '%s': data_offsets end at byte %llu, "
                            "past the end of the data (%llu bytes)", file->name, tensor->name,
                            (unsigned long long)tensor->end, (unsigned long long)data_length);
    }
    qsort(file->tensors, file->tensor_count, sizeof *file->tensors, compare_offsets);
    file->by_name = malloc((file->tensor_count ? file->tensor_count : 1) * sizeof *file->by_name);
    if (!file->by_name)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
    bool failed;
    const char *duplicate = sort_and_find_duplicate((const char *const *)&file->tensors[0].name,
                                                    sizeof *file->tensors, file->tensor_count,
                                                    file->by_name, &failed);
    if (failed)
        return nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
    if (duplicate)
        return nn_error(NN_ERR_FORMAT, "%s: tensor name '%s' appears twice", file->name,
                        duplicate);
    uint64_t expected = 0;
    for (size_t i = 0; i < file->tensor_count; i++) {
        const nn_safetensors_tensor *tensor = &file->tensors[i];
        if (tensor->begin != expected)
            return nn_error(NN_ERR_FORMAT, "%s: tensor '%s' starts at data byte %llu but the "
                            "tensor before it ends at %llu: tensors must follow each other "
                            "without %s", file->name, tensor->name,
                            (unsigned long long)tensor->begin, (unsigned long long)expected,
                            tensor->begin < expected ? "overlapping" : "gaps");
        expected = tensor->end;
    }
    if (expected != data_length)
        return nn_error(NN_ERR_FORMAT, "%s: the tensors cover %llu bytes but %llu bytes follow "
                        "the header (%s)", file->name, (unsigned long long)expected,
                        (unsigned long long)data_length,
                        expected < data_length ? "trailing bytes" : "truncated file");
    return check_metadata_unique(file);
}

static nn_status parse_header(nn_safetensors *file, const char *text, size_t length)
{
    NN_TRY(check_header_text(file->name, text, length));
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, length, &end, 0);
    if (!root) {
        const char *where = cJSON_GetErrorPtr();
        bool inside = where && where >= text && where <= text + length;
        size_t offset = inside ? (size_t)(where - text) : 0;
        return nn_error(NN_ERR_FORMAT, "%s: the header is not valid JSON (near byte %zu of the "
                        "header)", file->name, offset);
    }
    nn_status status = NN_OK;
    for (const char *rest = end; status == NN_OK && rest && rest < text + length; rest++)
        if (!is_json_space(*rest))
            status = nn_error(NN_ERR_FORMAT, "%s: the header has bytes after its JSON object",
                              file->name);
    if (status == NN_OK && !cJSON_IsObject(root))
        status = nn_error(NN_ERR_FORMAT, "%s: the header must be a JSON object", file->name);
    size_t count = 0;
    const cJSON *metadata = NULL;
    for (const cJSON *item = status == NN_OK ? root->child : NULL; item; item = item->next) {
        if (strcmp(item->string, "__metadata__") != 0)
            count++;
        else if (metadata)
            status = nn_error(NN_ERR_FORMAT, "%s: the header has __metadata__ twice", file->name);
        else
            metadata = item;
    }
    if (status == NN_OK && metadata)
        status = parse_metadata(file, metadata);
    if (status == NN_OK) {
        file->tensors = calloc(count ? count : 1, sizeof *file->tensors);
        if (!file->tensors)
            status = nn_error(NN_ERR_MEMORY, "%s: out of memory reading the header", file->name);
    }
    for (const cJSON *item = status == NN_OK ? root->child : NULL; item && status == NN_OK;
         item = item->next) {
        if (item == metadata)
            continue;
        status = parse_tensor(file->name, item, &file->tensors[file->tensor_count]);
        if (status == NN_OK)
            file->tensor_count++;
    }
    cJSON_Delete(root);
    if (status == NN_OK)
        status = check_layout(file);
    return status;
}

/* Reads the 8-byte length and checks it against the file before the header is read.
 * Files of Keras' own formats are named for what they are: their first bytes read as a
 * length would only say "truncated". */
static nn_status check_header_length(nn_safetensors *file, const unsigned char prefix[8],
                                     uint64_t *length)
{
    if (memcmp(prefix, "\x89HDF\r\n\x1a\n", 8) == 0)
        return nn_error(NN_ERR_FORMAT, "%s is an HDF5 file (Keras' .h5 format), not a "
                        "safetensors file; nnsh reads the safetensors files model:save writes",
                        file->name);
    if (memcmp(prefix, "PK\x03\x04", 4) == 0)
        return nn_error(NN_ERR_FORMAT, "%s is a zip archive (such as Keras' .keras format), not a "
                        "safetensors file; nnsh reads the safetensors files model:save writes",
                        file->name);
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = value << 8 | prefix[i];
    *length = value;
    uint64_t after = file->file_size - 8;
    if (value > after)
        return nn_error(NN_ERR_FORMAT, "%s: the header length %llu runs past the end of the "
                        "file (%llu bytes follow the length); truncated, or not a "
                        "safetensors file", file->name, (unsigned long long)value,
                        (unsigned long long)after);
    if (value > NN_SAFETENSORS_MAX_HEADER_BYTES)
        return nn_error(NN_ERR_FORMAT, "%s: the header is %llu bytes, more than the %u that "
                        "nnsh reads", file->name, (unsigned long long)value,
                        NN_SAFETENSORS_MAX_HEADER_BYTES);
    file->data_start = 8 + value;
    return NN_OK;
}

static nn_status start(nn_safetensors *file, const char *name, uint64_t size)
{
    memset(file, 0, sizeof *file);
    file->fd = -1;
    file->file_size = size;
    file->name = strdup(name ? name : "(memory)");
    if (!file->name)
        return nn_error(NN_ERR_MEMORY, "out of memory opening %s", name);
    if (size < 8)
        return nn_error(NN_ERR_FORMAT, "%s: the file is %llu bytes, too short for a "
                        "safetensors file (it starts with an 8-byte header length)", file->name,
                        (unsigned long long)size);
    return NN_OK;
}

nn_status nn_safetensors_open_memory(nn_safetensors *file, const void *data, size_t size,
                                     const char *name)
{
    nn_status status = start(file, name, size);
    uint64_t length = 0;
    if (status == NN_OK) {
        file->memory = data;
        status = check_header_length(file, file->memory, &length);
    }
    if (status == NN_OK)
        status = parse_header(file, (const char *)file->memory + 8, (size_t)length);
    if (status != NN_OK)
        nn_safetensors_close(file);
    return status;
}

static nn_status read_at(const nn_safetensors *file, void *out, size_t size, uint64_t offset)
{
    char *target = out;
    while (size > 0) {
        ssize_t done = pread(file->fd, target, size, (off_t)offset);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return nn_error(NN_ERR_IO, "%s: read failed: %s", file->name, strerror(errno));
        if (done == 0)
            return nn_error(NN_ERR_FORMAT, "%s: the file ended early at byte %llu (was it "
                            "changed while being read?)", file->name, (unsigned long long)offset);
        target += done;
        size -= (size_t)done;
        offset += (uint64_t)done;
    }
    return NN_OK;
}

nn_status nn_safetensors_open(nn_safetensors *file, const char *path)
{
    memset(file, 0, sizeof *file);
    file->fd = -1;
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
    nn_status status = start(file, path, (uint64_t)info.st_size);
    file->fd = fd;
    unsigned char prefix[8];
    uint64_t length = 0;
    char *header = NULL;
    if (status == NN_OK)
        status = read_at(file, prefix, sizeof prefix, 0);
    if (status == NN_OK)
        status = check_header_length(file, prefix, &length);
    if (status == NN_OK && !(header = malloc(length ? (size_t)length : 1)))
        status = nn_error(NN_ERR_MEMORY, "%s: out of memory for a %llu-byte header", path,
                          (unsigned long long)length);
    if (status == NN_OK)
        status = read_at(file, header, (size_t)length, 8);
    if (status == NN_OK)
        status = parse_header(file, header, (size_t)length);
    free(header);
    if (status != NN_OK)
        nn_safetensors_close(file);
    return status;
}

void nn_safetensors_close(nn_safetensors *file)
{
    if (file->fd >= 0)
        close(file->fd);
    for (size_t i = 0; i < file->tensor_count; i++)
        free(file->tensors[i].name);
    for (size_t i = 0; i < file->metadata_count; i++) {
        free(file->metadata_keys[i]);
        free(file->metadata_values[i]);
    }
    free(file->tensors);
    free(file->by_name);
    free(file->metadata_keys);
    free(file->metadata_values);
    free(file->name);
    memset(file, 0, sizeof *file);
    file->fd = -1;
}

const nn_safetensors_tensor *nn_safetensors_find(const nn_safetensors *file, const char *name)
{
    size_t low = 0, high = file->tensor_count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const nn_safetensors_tensor *tensor = &file->tensors[file->by_name[middle]];
        int order = strcmp(tensor->name, name);
        if (order == 0)
            return tensor;
        if (order < 0)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

const char *nn_safetensors_metadata(const nn_safetensors *file, const char *key)
{
    for (size_t i = 0; i < file->metadata_count; i++)
        if (strcmp(file->metadata_keys[i], key) == 0)
            return file->metadata_values[i];
    return NULL;
}

nn_status nn_safetensors_read(const nn_safetensors *file, const nn_safetensors_tensor *tensor,
                              void *out, size_t bytes)
{
    if (bytes != tensor->bytes)
        return nn_error(NN_ERR_ARGUMENT, "%s: tensor '%s' holds %zu bytes, not %zu", file->name,
                        tensor->name, tensor->bytes, bytes);
    uint64_t offset = file->data_start + tensor->begin;
    if (file->memory) {
        if (bytes)
            memcpy(out, file->memory + offset, bytes);
        return NN_OK;
    }
    return read_at(file, out, bytes, offset);
}

/* ---- writing ---- */

/* Builds JSON without losing a failed allocation: any NULL turns `ok` false. */
typedef struct json_builder {
    bool ok;
} json_builder;

static cJSON *add(json_builder *builder, cJSON *parent, const char *key, cJSON *item)
{
    if (!item) {
        builder->ok = false;
        return NULL;
    }
    bool added = key ? cJSON_AddItemToObject(parent, key, item)
                     : cJSON_AddItemToArray(parent, item);
    if (!added) {
        cJSON_Delete(item);
        builder->ok = false;
        return NULL;
    }
    return item;
}

static int compare_entry_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static nn_status check_entries(const nn_safetensors_pair *metadata, size_t metadata_count,
                               const nn_safetensors_entry *tensors, size_t tensor_count)
{
    for (size_t i = 0; i < metadata_count; i++) {
        if (!nn_utf8_valid(metadata[i].key, strlen(metadata[i].key)) ||
            !nn_utf8_valid(metadata[i].value, strlen(metadata[i].value)))
            return nn_error(NN_ERR_ARGUMENT, "metadata '%s' is not valid UTF-8", metadata[i].key);
        for (size_t j = 0; j < i; j++)
            if (strcmp(metadata[i].key, metadata[j].key) == 0)
                return nn_error(NN_ERR_ARGUMENT, "metadata key '%s' given twice", metadata[i].key);
    }
    const char **names = malloc((tensor_count ? tensor_count : 1) * sizeof *names);
    if (!names)
        return nn_error(NN_ERR_MEMORY, "out of memory writing a header");
    nn_status status = NN_OK;
    for (size_t i = 0; i < tensor_count && status == NN_OK; i++) {
        names[i] = tensors[i].name;
        if (!nn_utf8_valid(names[i], strlen(names[i])))
            status = nn_error(NN_ERR_ARGUMENT, "tensor name '%s' is not valid UTF-8", names[i]);
        else if (strcmp(names[i], "__metadata__") == 0)
            status = nn_error(NN_ERR_ARGUMENT, "a tensor cannot be called __metadata__");
        else if (tensors[i].dtype >= NN_SAFETENSORS_DTYPE_COUNT)
            status = nn_error(NN_ERR_ARGUMENT, "tensor '%s' has no valid dtype", names[i]);
    }
    if (status == NN_OK) {
        qsort(names, tensor_count, sizeof *names, compare_entry_names);
        for (size_t i = 1; i < tensor_count && status == NN_OK; i++)
            if (strcmp(names[i - 1], names[i]) == 0)
                status = nn_error(NN_ERR_ARGUMENT, "two tensors are named '%s'", names[i]);
    }
    free(names);
    return status;
}

static nn_status entry_bytes(const nn_safetensors_entry *entry, uint64_t *bytes)
{
    uint64_t count = 1;
    bool overflow = false;
    for (int d = 0; d < entry->shape.ndim; d++) {
        if (entry->shape.dims[d] < 0)
            return nn_error(NN_ERR_ARGUMENT, "tensor '%s' has a negative dimension", entry->name);
        overflow |= __builtin_mul_overflow(count, (uint64_t)entry->shape.dims[d], &count);
    }
    overflow |= __builtin_mul_overflow(count, (uint64_t)dtype_table[entry->dtype].size, bytes);
    if (overflow || *bytes > (uint64_t)MAX_EXACT_INTEGER)
        return nn_error(NN_ERR_ARGUMENT, "tensor '%s' is too large", entry->name);
    return NN_OK;
}

nn_status nn_safetensors_encode_header(char **out, size_t *length,
                                       const nn_safetensors_pair *metadata,
                                       size_t metadata_count,
                                       const nn_safetensors_entry *tensors,
                                       size_t tensor_count)
{
    *out = NULL;
    *length = 0;
    NN_TRY(check_entries(metadata, metadata_count, tensors, tensor_count));
    json_builder builder = {.ok = true};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return nn_error(NN_ERR_MEMORY, "out of memory writing a header");
    if (metadata_count > 0) {
        cJSON *map = add(&builder, root, "__metadata__", cJSON_CreateObject());
        for (size_t i = 0; map && i < metadata_count; i++)
            add(&builder, map, metadata[i].key, cJSON_CreateString(metadata[i].value));
    }
    uint64_t offset = 0;
    nn_status status = NN_OK;
    for (size_t i = 0; i < tensor_count && builder.ok && status == NN_OK; i++) {
        uint64_t bytes = 0;
        status = entry_bytes(&tensors[i], &bytes);
        if (status != NN_OK)
            break;
        cJSON *info = add(&builder, root, tensors[i].name, cJSON_CreateObject());
        if (!info)
            break;
        add(&builder, info, "dtype", cJSON_CreateString(dtype_table[tensors[i].dtype].name));
        cJSON *shape = add(&builder, info, "shape", cJSON_CreateArray());
        for (int d = 0; shape && d < tensors[i].shape.ndim; d++)
            add(&builder, shape, NULL, cJSON_CreateNumber((double)tensors[i].shape.dims[d]));
        cJSON *offsets = add(&builder, info, "data_offsets", cJSON_CreateArray());
        if (offsets) {
            add(&builder, offsets, NULL, cJSON_CreateNumber((double)offset));
            add(&builder, offsets, NULL, cJSON_CreateNumber((double)(offset + bytes)));
        }
        offset += bytes;
    }
    char *text = builder.ok && status == NN_OK ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (status != NN_OK)
        return status;
    if (!text)
        return nn_error(NN_ERR_MEMORY, "out of memory writing a header");
    /* Spaces after the JSON align the data to 8 bytes, as the reference writer does. */
    size_t used = strlen(text);
    size_t padded = (8 + used + 7) / 8 * 8 - 8;
    char *grown = realloc(text, padded + 1);
    if (!grown) {
        free(text);
        return nn_error(NN_ERR_MEMORY, "out of memory writing a header");
    }
    memset(grown + used, ' ', padded - used);
    grown[padded] = '\0';
    *out = grown;
    *length = padded;
    return NN_OK;
}

nn_status nn_safetensors_save(const char *path, const nn_safetensors_pair *metadata,
                              size_t metadata_count, const nn_safetensors_entry *tensors,
                              size_t tensor_count)
{
    char *header;
    size_t header_length;
    nn_status status = nn_safetensors_encode_header(&header, &header_length, metadata,
                                                    metadata_count, tensors, tensor_count);
    if (status != NN_OK)
        return nn_error_prefix(status, "cannot save '%s'", path);
    unsigned char prefix[8];
    for (int i = 0; i < 8; i++)
        prefix[i] = (unsigned char)((uint64_t)header_length >> (8 * i));
    nn_atomic_file file;
    status = nn_atomic_file_begin(&file, path);
    if (status != NN_OK) {
        free(header);
        return status;
    }
    status = nn_atomic_file_write(&file, prefix, sizeof prefix);
    if (status == NN_OK)
        status = nn_atomic_file_write(&file, header, header_length);
    for (size_t i = 0; i < tensor_count && status == NN_OK; i++) {
        uint64_t bytes = 0;
        entry_bytes(&tensors[i], &bytes);
        status = nn_atomic_file_write(&file, tensors[i].data, (size_t)bytes);
    }
    free(header);
    if (status != NN_OK) {
        nn_atomic_file_abort(&file);
        return status;
    }
    return nn_atomic_file_commit(&file);
}
