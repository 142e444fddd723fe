/* libFuzzer harness for the IDX reader: the bytes are parsed in memory as a raw IDX file,
 * and loaded through the file path (raw or gzip, the loader decides) from a memfd. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "data/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_tensor *tensor = NULL;
    if (nn_idx_parse(&tensor, data, size, "fuzz") == NN_OK)
        nn_tensor_free(tensor);

    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("nnsh-fuzz-idx", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    tensor = NULL;
    if (nn_idx_load(&tensor, path) == NN_OK)
        nn_tensor_free(tensor);
    return 0;
}
