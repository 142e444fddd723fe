/* safetensors files: an 8-byte little-endian header length N, N bytes of JSON header
 * naming each tensor's dtype, shape and [begin, end) byte range, then the raw
 * little-endian tensor bytes, back to back. `__metadata__` in the header maps strings to
 * strings (nnsh keeps its model description there). See engine/io/FILE_FORMAT.md.
 *
 * The reader treats every file as hostile: the header length, every offset, shape and
 * dtype are checked against the file's length and against overflow before anything is
 * allocated for them or read, with the rules of the reference reader (contiguous data
 * from offset 0, sizes matching shapes, no bytes left over) plus strict JSON: valid
 * UTF-8, no duplicate names, no unknown fields. Errors name the file and the problem.
 *
 *     nn_safetensors file;
 *     NN_TRY(nn_safetensors_open(&file, "model.safetensors"));
 *     const nn_safetensors_tensor *kernel = nn_safetensors_find(&file, "dense/kernel");
 *     if (kernel) status = nn_safetensors_read(&file, kernel, buffer, kernel->bytes);
 *     nn_safetensors_close(&file);
 */
#ifndef NN_SAFETENSORS_H
#define NN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../tensor.h"

/* Header bigger than this is refused (the reference reader allows 100 MB; nnsh's own
 * headers are far below this, and the JSON tree costs many times the text). */
#define NN_SAFETENSORS_MAX_HEADER_BYTES (16u << 20)

typedef enum nn_safetensors_dtype {
    NN_SAFETENSORS_BOOL,
    NN_SAFETENSORS_U8,
    NN_SAFETENSORS_I8,
    NN_SAFETENSORS_F8_E5M2,
    NN_SAFETENSORS_F8_E4M3,
    NN_SAFETENSORS_I16,
    NN_SAFETENSORS_U16,
    NN_SAFETENSORS_F16,
    NN_SAFETENSORS_BF16,
    NN_SAFETENSORS_I32,
    NN_SAFETENSORS_U32,
    NN_SAFETENSORS_F32,
    NN_SAFETENSORS_F64,
    NN_SAFETENSORS_I64,
    NN_SAFETENSORS_U64,
    NN_SAFETENSORS_DTYPE_COUNT
} nn_safetensors_dtype;

const char *nn_safetensors_dtype_name(nn_safetensors_dtype dtype); /* "F32" */
size_t nn_safetensors_dtype_size(nn_safetensors_dtype dtype);       /* bytes per element */

/* One tensor of an open file. */
typedef struct nn_safetensors_tensor {
    char *name;
    nn_safetensors_dtype dtype;
    nn_shape shape;        /* every dim >= 0 */
    uint64_t begin, end;   /* byte range in the data section */
    size_t bytes;          /* end - begin */
} nn_safetensors_tensor;

/* An open, validated file. Owns its tensor table and metadata; reads data on demand. */
typedef struct nn_safetensors {
    char *name;                     /* path (or the name given for memory) */
    int fd;                         /* -1 when reading from memory */
    const unsigned char *memory;    /* the whole file when reading from memory */
    uint64_t file_size;
    uint64_t data_start;            /* 8 + header length */
    nn_safetensors_tensor *tensors; /* in data order */
    size_t tensor_count;
    size_t *by_name;                /* indices into tensors, sorted by name */
    char **metadata_keys, **metadata_values;
    size_t metadata_count;
} nn_safetensors;

/* Opens and validates a file. On error nothing stays open. */
nn_status nn_safetensors_open(nn_safetensors *file, const char *path);
/* The same over bytes in memory (kept by the caller until close); name is for messages. */
nn_status nn_safetensors_open_memory(nn_safetensors *file, const void *data, size_t size,
                                     const char *name);
void nn_safetensors_close(nn_safetensors *file);

const nn_safetensors_tensor *nn_safetensors_find(const nn_safetensors *file, const char *name);
/* The metadata value for key, or NULL. */
const char *nn_safetensors_metadata(const nn_safetensors *file, const char *key);
/* Copies a tensor's bytes into out, which holds exactly `bytes` = tensor->bytes. */
nn_status nn_safetensors_read(const nn_safetensors *file, const nn_safetensors_tensor *tensor,
                              void *out, size_t bytes);

/* ---- writing ---- */

typedef struct nn_safetensors_entry {
    const char *name;
    nn_safetensors_dtype dtype;
    nn_shape shape;
    const void *data; /* element count × dtype size bytes, little-endian */
} nn_safetensors_entry;

typedef struct nn_safetensors_pair {
    const char *key;
    const char *value;
} nn_safetensors_pair;

/* The header text for these tensors and metadata, padded with spaces so the data starts
 * at a multiple of 8 bytes; tensors are laid out in the order given. *out is malloc'd. */
nn_status nn_safetensors_encode_header(char **out, size_t *length,
                                       const nn_safetensors_pair *metadata,
                                       size_t metadata_count,
                                       const nn_safetensors_entry *tensors,
                                       size_t tensor_count);
/* Writes a file atomically (see atomic_file.h): the same bytes for the same input. */
nn_status nn_safetensors_save(const char *path, const nn_safetensors_pair *metadata,
                              size_t metadata_count, const nn_safetensors_entry *tensors,
                              size_t tensor_count);

/* Whether bytes[0..length) are valid UTF-8 (no overlong forms, no surrogates). */
bool nn_utf8_valid(const char *bytes, size_t length);

#endif
