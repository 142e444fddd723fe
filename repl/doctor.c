/* nnsh --doctor: one screen on what this installation has and lacks. */
#include <cblas.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "blas_advice.h"
#include "cpu/simd.h"
#include "cpu/threads.h"
#include "data/datasets.h"
#include "device.h"
#include "gpu.h"
#include "repl.h"

char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

/* The CUDA libraries, each GPU, and the device models will use, or why no GPU is used
 * and what would change that. */
static void report_gpus(void)
{
    nn_gpu_versions v;
    char why[512], a[32], b[32], c[32], d[32], e[32];
    nn_gpu_get_versions(&v);
    int count = nn_gpu_count(why, sizeof why);
    if (!v.built_with_cuda) {
        printf("GPU:      not used: %s\n", why);
        printf("          to use an NVIDIA GPU: install the CUDA toolkit and cuDNN, then "
               "rebuild (cmake -DNNSH_CUDA=ON; CUDNN_ROOT= if cuDNN is elsewhere)\n");
        return;
    }
    printf("CUDA:     built with CUDA %s and cuDNN %s; runtime %s, cuDNN %s, cuBLAS %s\n",
           nn_gpu_format_cuda_version(v.runtime_compiled, a, sizeof a),
           nn_gpu_format_cudnn_version(v.cudnn_compiled, b, sizeof b),
           nn_gpu_format_cuda_version(v.runtime, c, sizeof c),
           nn_gpu_format_cudnn_version(v.cudnn, d, sizeof d),
           nn_gpu_format_cudnn_version(v.cublas, e, sizeof e));
    printf("Driver:   %s\n", v.driver > 0 ? nn_gpu_format_cuda_version(v.driver, a, sizeof a)
                                          : "none found (no NVIDIA driver is loaded)");
    if (count == 0) {
        printf("GPU:      not used: %s\n", why);
    } else {
        for (int i = 0; i < count; i++) {
            nn_gpu_info info;
            if (nn_gpu_describe(i, &info) != NN_OK) {
                printf("GPU %d:    %s\n", i, nn_error_message());
                continue;
            }
            printf("GPU %d:    %s, %.1f GiB, compute capability %d.%d, %d multiprocessors\n",
                   i, info.name, (double)info.total_memory / (1024.0 * 1024.0 * 1024.0),
                   info.compute_major, info.compute_minor, info.multiprocessors);
        }
    }
}

static void report_device(void)
{
    nn_device device;
    char name[32];
    if (nn_device_default(&device) != NN_OK) {
        printf("Device:   %s\n", nn_error_message());
        return;
    }
    printf("Device:   models run on %s (choose with %s=cpu|gpu|gpu:N or "
           "nn.config.set_device)\n",
           nn_device_format(device, name, sizeof name), NN_DEVICE_ENVIRONMENT);
}

int nnsh_doctor(void)
{
    printf("nnsh %s\n", NNSH_VERSION_STRING);
    printf("Lua:      %s\n", LUA_RELEASE);
    int kernel_threads = nn_cpu_thread_count();
    printf("CPU:      layers run nnsh's %s kernels on %d thread%s, each sum in a fixed "
           "order:\n          the same seed gives the same numbers with any thread count or "
           "BLAS\n",
           nn_simd_level_name(nn_simd_active()), kernel_threads, kernel_threads == 1 ? "" : "s");
    printf("BLAS:     %s (for nn.matmul)\n", openblas_get_config());
    const char *chosen = getenv("OPENBLAS_CORETYPE");
    const char *core = openblas_get_corename();
    bool set = chosen && *chosen;
    bool taken = set && strcasecmp(chosen, core) == 0;
    int threads = openblas_get_num_threads();
    printf("          core %s%s, %d thread%s\n", core,
           taken ? " (chosen by OPENBLAS_CORETYPE)" : "", threads, threads == 1 ? "" : "s");
    if (set && !taken)
        printf("          OPENBLAS_CORETYPE=%s was not taken (not a core this OpenBLAS knows, "
               "or one this CPU cannot run); OpenBLAS chose %s itself\n", chosen, core);
    const char *better = nnsh_blas_better_core(core, nnsh_cpu_features_probe());
    if (better && taken)
        printf("          this CPU can run OpenBLAS' %s kernels, faster for nn.matmul: "
               "export OPENBLAS_CORETYPE=%s\n", better, better);
    else if (better)
        printf("          this CPU can run OpenBLAS' %s kernels, faster for nn.matmul,\n"
               "          but OpenBLAS did not recognise the CPU model and chose %s's; "
               "to use them: export OPENBLAS_CORETYPE=%s\n", better, core, better);
    report_gpus();
    report_device();
    const nn_dataset *const *datasets = nn_datasets();
    for (int i = 0; datasets[i]; i++) {
        nn_tensor *parts[4];
        char where[1024];
        if (nn_dataset_load(datasets[i], parts, where, sizeof where) == NN_OK) {
            printf("Data:     %s found in %s\n", datasets[i]->name, where);
            for (int k = 0; k < 4; k++)
                nn_tensor_free(parts[k]);
        } else {
            printf("Data:     %s missing: %s\n", datasets[i]->name, nn_error_message());
        }
    }
    return 0;
}
