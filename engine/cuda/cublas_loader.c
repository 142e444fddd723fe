/* Loading cuBLAS with dlopen on first use (see cublas_loader.h). */
#include "cublas_loader.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "cuda_internal.h"

/* The library CMake found, then the names a driver-only machine would have. */
static const char *const candidates[] = {
#ifdef NNSH_CUBLAS_PATH
    NNSH_CUBLAS_PATH,
#endif
#ifdef NNSH_CUBLAS_SONAME
    NNSH_CUBLAS_SONAME,
#endif
    "libcublas.so",
};

static nn_cublas_api api;
static bool tried, loaded;
/* Why loading failed: noted again on every later call, as each caller (a context being
 * created on another device, say) reports its own failure. */
static const char *failed_call;
static char failed_name[128], failed_text[512];

static const nn_cublas_api *load_failed(const char *call, const char *name, const char *text)
{
    failed_call = call;
    snprintf(failed_name, sizeof failed_name, "%s", name);
    snprintf(failed_text, sizeof failed_text, "%s", text);
    nn_cuda_note(NN_ERR_DEVICE, "cuBLAS", failed_call, failed_name, failed_text);
    return NULL;
}

/* dlsym's void * to a function pointer: allowed by POSIX, not by ISO C. */
#define BIND(field, symbol)                                      \
    do {                                                         \
        void *address_ = dlsym(library, symbol);                 \
        if (!address_)                                           \
            missing = symbol;                                    \
        *(void **)(&api.field) = address_;                       \
    } while (0)

const nn_cublas_api *nn_cublas(void)
{
    if (tried) {
        if (loaded)
            return &api;
        nn_cuda_note(NN_ERR_DEVICE, "cuBLAS", failed_call, failed_name, failed_text);
        return NULL;
    }
    tried = true;
    void *library = NULL;
    const char *error = "no candidate";
    for (size_t i = 0; !library && i < sizeof candidates / sizeof candidates[0]; i++) {
        library = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
        if (!library)
            error = dlerror();
    }
    if (!library)
        return load_failed("dlopen", "cannot load cuBLAS", error);
    const char *missing = NULL;
    BIND(create, "cublasCreate_v2");
    BIND(destroy, "cublasDestroy_v2");
    BIND(set_stream, "cublasSetStream_v2");
    BIND(set_math_mode, "cublasSetMathMode");
    BIND(sgemm, "cublasSgemm_v2");
    BIND(get_property, "cublasGetProperty");
    BIND(status_name, "cublasGetStatusName");
    BIND(status_string, "cublasGetStatusString");
    if (missing) {
        dlclose(library);
        return load_failed("dlsym", missing, "symbol not found in cuBLAS");
    }
    loaded = true;
    return &api;
}
