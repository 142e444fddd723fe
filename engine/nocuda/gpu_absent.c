/* The GPU functions of a build without the CUDA backend: there is never a GPU, and the
 * reason is always the same. Compiled instead of engine/cuda/ (see engine/CMakeLists). */
#include <stdio.h>
#include <string.h>

#include "../gpu.h"

static const char REASON[] = "this nnsh was built without the CUDA backend (CMake found no "
                             "CUDA toolkit with cuDNN, or NNSH_CUDA=OFF)";

int nn_gpu_count(char *why, size_t size)
{
    if (why && size)
        snprintf(why, size, "%s", REASON);
    return 0;
}

nn_status nn_gpu_describe(int index, nn_gpu_info *info)
{
    memset(info, 0, sizeof *info);
    return nn_error(NN_ERR_DEVICE, "there is no GPU %d: %s", index, REASON);
}

void nn_gpu_get_versions(nn_gpu_versions *versions) { memset(versions, 0, sizeof *versions); }

const nn_backend *nn_backend_cuda(void) { return NULL; }
