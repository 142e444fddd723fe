/* IDX files (the MNIST format), raw or gzip-compressed, read as hostile input: every
 * size is checked against the file and against overflow before anything is allocated. */
#ifndef NN_IDX_H
#define NN_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "../tensor.h"

/* Reads an IDX file (gzip detected by its magic bytes). uint8 data stays uint8; int8,
 * int16 and int32 become int32; float32 and float64 become float32 (a finite float64
 * beyond float32's range is an error, not an infinity). Errors name the
 * file and what is wrong with it. */
nn_status nn_idx_load(nn_tensor **out, const char *path);

/* Parses an IDX image held in memory (uncompressed). `name` is used in messages. */
nn_status nn_idx_parse(nn_tensor **out, const uint8_t *data, size_t size, const char *name);

/* Writes a uint8 or int32/float32 tensor as an IDX file (for tests and small data
 * sets), gzip-compressed when the path ends in .gz, else uncompressed. */
nn_status nn_idx_save(const nn_tensor *tensor, const char *path);

#endif
