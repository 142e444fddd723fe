/* The device tests' harness: device selection with CTest's skip code, memory helpers,
 * and comparisons that print the worst element. */
#include "gpu_harness.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "gpu.h"
#include "random.h"

const nn_backend *gh_device;
nn_device gh_device_id;

static jmp_buf case_exit;  /* a failed allocation or copy ends the case here */
static int case_failures;

void gh_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fprintf(stderr, "    FAIL: ");
    vfprintf(stderr, format, args);
    fprintf(stderr, "\n");
    va_end(args);
    case_failures++;
}

static void abort_case(const char *what)
{
    gh_fail("%s: %s", what, nn_error_message());
    longjmp(case_exit, 1);
}

int gh_start(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "cuda";
    /* Plain FP32 in cuDNN and cuBLAS, so results compare at FP32 tolerances (the
     * default lets tensor cores use TF32, as TensorFlow does). */
    setenv("NNSH_CUDA_TF32", "0", 0);
    if (nn_device_parse(name, &gh_device_id) != NN_OK) {
        fprintf(stderr, "%s\n", nn_error_message());
        return 2;
    }
    if (nn_device_check(gh_device_id) != NN_OK) {
        printf("SKIPPED: %s\n", nn_error_message());
        return GH_SKIPPED;
    }
    gh_device = nn_backend_for(gh_device_id);
    if (gh_device->select_device(gh_device_id.index) != NN_OK) {
        fprintf(stderr, "selecting %s: %s\n", name, nn_error_message());
        return 1;
    }
    if (gh_device_id.kind == NN_DEVICE_CUDA) {
        nn_gpu_info info;
        nn_gpu_versions versions;
        nn_gpu_get_versions(&versions);
        if (nn_gpu_describe(gh_device_id.index, &info) == NN_OK)
            printf("device: %s, compute capability %d.%d, CUDA runtime %d, driver %d, cuDNN %d\n",
                   info.name, info.compute_major, info.compute_minor, versions.runtime,
                   versions.driver, versions.cudnn);
    } else {
        printf("device: %s backend (CPU kernels over protected memory)\n", gh_device->name);
    }
    return 0;
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc <= 2)
        return true;
    for (int i = 2; i < argc; i++)
        if (strstr(name, argv[i]))
            return true;
    return false;
}

/* Runs one case; a failed allocation or copy inside it returns here early. */
static int run_case(const gh_case *c)
{
    case_failures = 0;
    nn_error_clear();
    if (setjmp(case_exit) == 0)
        c->run();
    if (gh_device->synchronize() != NN_OK)
        gh_fail("device error after the case: %s", nn_error_message());
    printf("%s %s\n", case_failures ? "FAIL" : "ok  ", c->name);
    fflush(stdout);
    return case_failures;
}

int gh_run(const gh_case *cases, size_t count, int argc, char **argv)
{
    int failed = 0, ran = 0;
    for (size_t i = 0; i < count; i++) {
        if (!selected(cases[i].name, argc, argv))
            continue;
        failed += run_case(&cases[i]) > 0;
        ran++;
    }
    printf("%d of %d cases passed on %s\n", ran - failed, ran, gh_device->name);
    if (ran == 0) {
        printf("no case matches the names given: nothing was tested\n");
        return 1;
    }
    return failed ? 1 : 0;
}

void *gh_zeros(size_t bytes)
{
    void *memory = NULL;
    if (gh_device->memory_alloc(&memory, bytes, gh_device_id.index) != NN_OK)
        abort_case("device allocation");
    return memory;
}

void *gh_upload(const void *host, size_t bytes)
{
    void *memory = gh_zeros(bytes);
    if (gh_device->copy_from_host(memory, host, bytes) != NN_OK)
        abort_case("copy to the device");
    return memory;
}

void gh_download(void *host, const void *device, size_t bytes)
{
    if (gh_device->copy_to_host(host, device, bytes) != NN_OK)
        abort_case("copy to the host");
}

void gh_free(void *device) { gh_device->memory_free(device); }

void gh_sync(const char *what)
{
    if (gh_device->synchronize() != NN_OK)
        abort_case(what);
}

float *gh_random(size_t n, uint64_t seed, float low, float high)
{
    float *values = malloc((n ? n : 1) * sizeof(float));
    if (!values) {
        gh_fail("out of host memory");
        longjmp(case_exit, 1);
    }
    nn_rng rng;
    nn_rng_init(&rng, seed, 12345);
    for (size_t i = 0; i < n; i++)
        values[i] = low + (high - low) * nn_rng_uniform(&rng);
    return values;
}

bool gh_expect_close(const char *what, const float *actual, const float *expected, size_t n,
                     double tolerance)
{
    double scale = 1e-6, worst = 0.0;
    size_t worst_index = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(expected[i]))
            scale = fmax(scale, fabs((double)expected[i]));
    for (size_t i = 0; i < n; i++) {
        bool both_nan = isnan(actual[i]) && isnan(expected[i]);
        double error = both_nan ? 0.0 : fabs((double)actual[i] - (double)expected[i]);
        if (!(error <= worst) && !both_nan) { /* NaN errors count as the worst */
            worst = isnan(error) ? INFINITY : error;
            worst_index = i;
        }
    }
    double normalised = worst / scale;
    if (normalised <= tolerance) {
        printf("    %-40s normalised error %.2e (limit %.0e)\n", what, normalised, tolerance);
        return true;
    }
    gh_fail("%s: normalised error %.3e > %.0e at element %zu of %zu: expected %.9g (CPU), got "
            "%.9g (%s)", what, normalised, tolerance, worst_index, n,
            (double)expected[worst_index], (double)actual[worst_index], gh_device->name);
    return false;
}

bool gh_expect_double(const char *what, double actual, double expected, double tolerance)
{
    double error = fabs(actual - expected) / fmax(1e-12, fabs(expected));
    if (error <= tolerance || (isnan(actual) && isnan(expected))) {
        printf("    %-40s relative error %.2e (limit %.0e)\n", what, error, tolerance);
        return true;
    }
    gh_fail("%s: expected %.17g (CPU), got %.17g (%s), relative error %.3e > %.0e", what,
            expected, actual, gh_device->name, error, tolerance);
    return false;
}
