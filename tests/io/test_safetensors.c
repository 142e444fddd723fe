/* safetensors: the exact bytes the writer produces (so other tools read them), reading
 * them back, determinism, what the writer refuses, and the reader's limits on headers
 * that would cost too much memory. The per-rule rejections live in the corpus test. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "scratch.h"

static void temp_path(char *out, size_t size, const char *name)
{
    scratch_path(out, size, "safetensors", name);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    cr_assert(file, "cannot open %s", path);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)length + 1);
    *size = fread(data, 1, (size_t)length, file);
    fclose(file);
    return data;
}

static const float kernel[2] = {1.5f, -2.25f};
static const unsigned char bytes[3] = {7, 8, 9};

static void sample(nn_safetensors_entry entries[2], nn_safetensors_pair metadata[1])
{
    entries[0] = (nn_safetensors_entry){"a", NN_SAFETENSORS_F32, NN_SHAPE(2), kernel};
    entries[1] = (nn_safetensors_entry){"b", NN_SAFETENSORS_U8, NN_SHAPE(1, 3), bytes};
    metadata[0] = (nn_safetensors_pair){"k", "v"};
}

Test(safetensors, the_header_is_compact_json_padded_to_eight_bytes)
{
    nn_safetensors_entry entries[2];
    nn_safetensors_pair metadata[1];
    sample(entries, metadata);
    char *header;
    size_t length;
    cr_assert_eq(nn_safetensors_encode_header(&header, &length, metadata, 1, entries, 2), NN_OK);
    const char *expected = "{\"__metadata__\":{\"k\":\"v\"},"
                           "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                           "\"b\":{\"dtype\":\"U8\",\"shape\":[1,3],\"data_offsets\":[8,11]}}";
    cr_expect_eq((8 + length) % 8, 0, "the data must start 8-byte aligned");
    cr_expect_eq(strncmp(header, expected, strlen(expected)), 0, "header: %s", header);
    for (size_t i = strlen(expected); i < length; i++)
        cr_expect_eq(header[i], ' ', "padding must be spaces");
    free(header);
}

Test(safetensors, a_saved_file_reads_back_exactly_and_saves_identically)
{
    nn_safetensors_entry entries[2];
    nn_safetensors_pair metadata[1];
    sample(entries, metadata);
    char path[512], again[512];
    temp_path(path, sizeof path, "sample.safetensors");
    temp_path(again, sizeof again, "again.safetensors");
    cr_assert_eq(nn_safetensors_save(path, metadata, 1, entries, 2), NN_OK, "%s",
                 nn_error_message());
    cr_assert_eq(nn_safetensors_save(again, metadata, 1, entries, 2), NN_OK);
    size_t size, size_again;
    unsigned char *data = read_all(path, &size), *data_again = read_all(again, &size_again);
    cr_expect(size == size_again && memcmp(data, data_again, size) == 0, "not deterministic");
    uint64_t header_length = 0;
    for (int i = 7; i >= 0; i--)
        header_length = header_length << 8 | data[i];
    cr_expect_eq(size, 8 + header_length + 11);
    cr_expect_eq(memcmp(data + 8 + header_length, kernel, 8), 0, "F32 data little-endian");

    nn_safetensors file;
    cr_assert_eq(nn_safetensors_open(&file, path), NN_OK, "%s", nn_error_message());
    cr_expect_eq(file.tensor_count, 2);
    cr_expect_str_eq(nn_safetensors_metadata(&file, "k"), "v");
    cr_expect_null(nn_safetensors_metadata(&file, "missing"));
    const nn_safetensors_tensor *a = nn_safetensors_find(&file, "a");
    const nn_safetensors_tensor *b = nn_safetensors_find(&file, "b");
    cr_assert(a && b);
    cr_expect_null(nn_safetensors_find(&file, "c"));
    cr_expect_null(nn_safetensors_find(&file, ""));
    cr_expect_eq(a->dtype, NN_SAFETENSORS_F32);
    cr_expect_eq(b->shape.ndim, 2);
    cr_expect_eq(b->shape.dims[1], 3);
    float read_kernel[2];
    unsigned char read_bytes[3];
    cr_expect_eq(nn_safetensors_read(&file, a, read_kernel, sizeof read_kernel), NN_OK);
    cr_expect_eq(nn_safetensors_read(&file, b, read_bytes, sizeof read_bytes), NN_OK);
    cr_expect_eq(memcmp(read_kernel, kernel, sizeof kernel), 0);
    cr_expect_eq(memcmp(read_bytes, bytes, sizeof bytes), 0);
    cr_expect_eq(nn_safetensors_read(&file, a, read_kernel, 4), NN_ERR_ARGUMENT,
                 "a read of the wrong size must fail");
    nn_safetensors_close(&file);

    nn_safetensors from_memory;
    cr_assert_eq(nn_safetensors_open_memory(&from_memory, data, size, "memory"), NN_OK);
    cr_expect_eq(from_memory.tensor_count, 2);
    nn_safetensors_close(&from_memory);
    free(data);
    free(data_again);
    unlink(path);
    unlink(again);
}

Test(safetensors, scalars_and_empty_tensors_are_allowed)
{
    float scalar = 3.0f;
    nn_safetensors_entry entries[2] = {
        {"scalar", NN_SAFETENSORS_F32, {.ndim = 0}, &scalar},
        {"empty", NN_SAFETENSORS_F32, NN_SHAPE(0, 4), NULL},
    };
    char path[512];
    temp_path(path, sizeof path, "scalar.safetensors");
    cr_assert_eq(nn_safetensors_save(path, NULL, 0, entries, 2), NN_OK, "%s", nn_error_message());
    nn_safetensors file;
    cr_assert_eq(nn_safetensors_open(&file, path), NN_OK, "%s", nn_error_message());
    const nn_safetensors_tensor *read = nn_safetensors_find(&file, "scalar");
    cr_assert(read);
    cr_expect_eq(read->shape.ndim, 0);
    cr_expect_eq(read->bytes, 4);
    cr_expect_eq(nn_safetensors_find(&file, "empty")->bytes, 0);
    nn_safetensors_close(&file);
    unlink(path);
}

Test(safetensors, the_writer_refuses_what_readers_would_reject_and_keeps_the_old_file)
{
    char path[512];
    temp_path(path, sizeof path, "keep.safetensors");
    nn_safetensors_entry good = {"x", NN_SAFETENSORS_F32, NN_SHAPE(2), kernel};
    cr_assert_eq(nn_safetensors_save(path, NULL, 0, &good, 1), NN_OK);
    size_t size_before;
    unsigned char *before = read_all(path, &size_before);

    nn_safetensors_entry twice[2] = {good, good};
    cr_expect_eq(nn_safetensors_save(path, NULL, 0, twice, 2), NN_ERR_ARGUMENT);
    cr_expect(strstr(nn_error_message(), "two tensors are named 'x'"), "%s", nn_error_message());
    nn_safetensors_entry reserved = {"__metadata__", NN_SAFETENSORS_F32, NN_SHAPE(2), kernel};
    cr_expect_eq(nn_safetensors_save(path, NULL, 0, &reserved, 1), NN_ERR_ARGUMENT);
    nn_safetensors_entry not_utf8 = {"\xff", NN_SAFETENSORS_F32, NN_SHAPE(2), kernel};
    cr_expect_eq(nn_safetensors_save(path, NULL, 0, &not_utf8, 1), NN_ERR_ARGUMENT);
    nn_safetensors_pair bad_metadata = {"k", "\xc0\xaf"};
    cr_expect_eq(nn_safetensors_save(path, &bad_metadata, 1, &good, 1), NN_ERR_ARGUMENT);

    size_t size_after;
    unsigned char *after = read_all(path, &size_after);
    cr_expect(size_before == size_after && memcmp(before, after, size_before) == 0,
              "a refused save changed the file");
    free(before);
    free(after);
    unlink(path);
}

/* A file in memory with a header of exactly `length` bytes: text, padded with spaces. */
static unsigned char *file_with_header(const char *text, size_t length, size_t *size)
{
    *size = 8 + length;
    unsigned char *data = malloc(*size);
    for (int i = 0; i < 8; i++)
        data[i] = (unsigned char)((uint64_t)length >> (8 * i));
    memset(data + 8, ' ', length);
    memcpy(data + 8, text, strlen(text));
    return data;
}

Test(safetensors, headers_beyond_the_size_limit_are_refused_before_parsing)
{
    size_t size;
    unsigned char *data = file_with_header("{}", NN_SAFETENSORS_MAX_HEADER_BYTES + 1, &size);
    nn_safetensors file;
    cr_expect_eq(nn_safetensors_open_memory(&file, data, size, "big"), NN_ERR_FORMAT);
    cr_expect(strstr(nn_error_message(), "more than the"), "%s", nn_error_message());
    free(data);
    /* Exactly at the limit is fine (spaces after the JSON are allowed). */
    data = file_with_header("{}", NN_SAFETENSORS_MAX_HEADER_BYTES, &size);
    cr_expect_eq(nn_safetensors_open_memory(&file, data, size, "limit"), NN_OK, "%s",
                 nn_error_message());
    nn_safetensors_close(&file);
    free(data);
}

Test(safetensors, headers_with_millions_of_values_are_refused_before_parsing)
{
    /* {"__metadata__":{"a":"b"},"x":[0,0,0,...]}: 2 MB of text, 1M JSON values. */
    size_t count = 1100000, length = 32 + 2 * count;
    char *text = malloc(length + 1);
    size_t used = (size_t)sprintf(text, "{\"x\":[0");
    for (size_t i = 1; i < count; i++)
        text[used++] = ',', text[used++] = '0';
    used += (size_t)sprintf(text + used, "]}");
    size_t size;
    unsigned char *data = file_with_header(text, used, &size);
    nn_safetensors file;
    cr_expect_eq(nn_safetensors_open_memory(&file, data, size, "values"), NN_ERR_FORMAT);
    cr_expect(strstr(nn_error_message(), "JSON values"), "%s", nn_error_message());
    free(text);
    free(data);
}

Test(safetensors, many_tensors_are_found_by_name_in_a_sorted_index)
{
    enum { COUNT = 2000 };
    static nn_safetensors_entry entries[COUNT];
    static char names[COUNT][16];
    static float values[COUNT];
    for (int i = 0; i < COUNT; i++) {
        snprintf(names[i], sizeof names[i], "t%d", (i * 7919) % COUNT);
        values[i] = (float)i;
        entries[i] = (nn_safetensors_entry){names[i], NN_SAFETENSORS_F32, {.ndim = 0}, &values[i]};
    }
    char path[512];
    temp_path(path, sizeof path, "many.safetensors");
    cr_assert_eq(nn_safetensors_save(path, NULL, 0, entries, COUNT), NN_OK, "%s",
                 nn_error_message());
    nn_safetensors file;
    cr_assert_eq(nn_safetensors_open(&file, path), NN_OK, "%s", nn_error_message());
    for (int i = 0; i < COUNT; i++) {
        const nn_safetensors_tensor *tensor = nn_safetensors_find(&file, names[i]);
        cr_assert(tensor, "%s not found", names[i]);
        float value;
        cr_assert_eq(nn_safetensors_read(&file, tensor, &value, sizeof value), NN_OK);
        cr_expect_eq(value, (float)i);
    }
    nn_safetensors_close(&file);
    unlink(path);
}

Test(safetensors, utf8_validation_follows_the_standard)
{
    cr_expect(nn_utf8_valid("plain ascii", 11));
    cr_expect(nn_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9), "é € 😀");
    cr_expect(!nn_utf8_valid("\xc0\x80", 2), "overlong NUL");
    cr_expect(!nn_utf8_valid("\xe0\x80\xaf", 3), "overlong slash");
    cr_expect(!nn_utf8_valid("\xed\xa0\x80", 3), "surrogate");
    cr_expect(!nn_utf8_valid("\xf4\x90\x80\x80", 4), "beyond U+10FFFF");
    cr_expect(!nn_utf8_valid("\xe2\x82", 2), "truncated");
    cr_expect(!nn_utf8_valid("\x80", 1), "stray continuation byte");
}

Test(safetensors, keras_hdf5_and_zip_files_are_named_for_what_they_are)
{
    /* The first bytes of an HDF5 file and of a .keras zip archive, read as a header
     * length, would otherwise only say "runs past the end of the file". */
    static const unsigned char hdf5[16] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    static const unsigned char zip[16] = {'P', 'K', 0x03, 0x04, 0x14};
    nn_safetensors file;
    cr_expect_eq(nn_safetensors_open_memory(&file, hdf5, sizeof hdf5, "model.h5"), NN_ERR_FORMAT);
    cr_expect_str_eq(nn_error_message(),
                     "model.h5 is an HDF5 file (Keras' .h5 format), not a safetensors file; nnsh "
                     "reads the safetensors files model:save writes");
    cr_expect_eq(nn_safetensors_open_memory(&file, zip, sizeof zip, "model.keras"), NN_ERR_FORMAT);
    cr_expect_str_eq(nn_error_message(),
                     "model.keras is a zip archive (such as Keras' .keras format), not a "
                     "safetensors file; nnsh reads the safetensors files model:save writes");
}
