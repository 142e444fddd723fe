/* The sgemm rate of the OpenBLAS nnsh links, for the benchmark's floor: the best of
 * several timed runs of C = A·B on every core, for a large square product and for the
 * product the seed CNN's second convolution would be as im2col + sgemm.
 *   nnsh_sgemm_probe            prints `RESULT <name> <value>` lines */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *openblas_get_corename(void);
int openblas_get_num_threads(void);

static double seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* GFLOP/s of the best of `trials` runs of (m, k) · (k, n), each repeated for ≥ 0.1 s. */
static double probe(int m, int n, int k, int trials)
{
    float *a = malloc(sizeof(float) * (size_t)m * (size_t)k);
    float *b = malloc(sizeof(float) * (size_t)k * (size_t)n);
    float *c = malloc(sizeof(float) * (size_t)m * (size_t)n);
    if (!a || !b || !c) {
        fprintf(stderr, "sgemm_probe: out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < (size_t)m * (size_t)k; i++)
        a[i] = (float)(i % 7) * 0.25f;
    for (size_t i = 0; i < (size_t)k * (size_t)n; i++)
        b[i] = (float)(i % 5) * 0.5f;
    double best = 1e30;
    for (int t = 0; t < trials; t++) {
        int runs = 0;
        double start = seconds(), elapsed;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n,
                        0.0f, c, n);
            runs++;
            elapsed = seconds() - start;
        } while (elapsed < 0.1);
        if (elapsed / runs < best)
            best = elapsed / runs;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * m * n * (double)k / best * 1e-9;
}

int main(void)
{
    printf("RESULT sgemm_core %s\n", openblas_get_corename());
    printf("RESULT sgemm_threads %d\n", openblas_get_num_threads());
    printf("RESULT sgemm_gflops %.1f\n", probe(2048, 2048, 2048, 5));
    /* conv2 of the seed CNN as one GEMM: 64 images · 14·14 pixels, 3·3·32 taps, 64 filters */
    printf("RESULT sgemm_conv2_gflops %.1f\n", probe(64 * 14 * 14, 64, 3 * 3 * 32, 5));
    return 0;
}
