/* nnsh --doctor: one screen on what this installation has and lacks. */
#include <cblas.h>
#include <lua.h>
#include <stdio.h>

#include "data/datasets.h"
#include "repl.h"

char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);

int nnsh_doctor(void)
{
    printf("nnsh %s\n", NNSH_VERSION_STRING);
    printf("Lua:      %s\n", LUA_RELEASE);
    printf("BLAS:     %s\n", openblas_get_config());
    printf("          core %s, %d threads\n", openblas_get_corename(), openblas_get_num_threads());
    printf("GPU:      not used: this nnsh was built without the CUDA backend\n");
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
