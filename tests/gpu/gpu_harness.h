/* A small harness for the device tests: a run against one backend ("cuda" or
 * "emulated") named on the command line, cases that compare the device's results with
 * the CPU backend's on the same inputs within a normalised error, and CTest's skip code
 * when the device is not there. Plain C rather than Criterion: Criterion forks each test,
 * and a CUDA context does not survive a fork. */
#ifndef NN_GPU_HARNESS_H
#define NN_GPU_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "tensor.h"

/* CTest's SKIP_RETURN_CODE for these tests: "Skipped", never "Passed". */
enum { GH_SKIPPED = 77 };

typedef struct gh_case {
    const char *name;
    void (*run)(void);
} gh_case;

/* The backend under test and its device. */
extern const nn_backend *gh_device;
extern nn_device gh_device_id;

/* Parses argv ("cuda" or "emulated"), selects the device; returns GH_SKIPPED (after saying
 * why) when it is not there, else 0. */
int gh_start(int argc, char **argv);
/* Runs every case (or those named in argv after the backend), prints one line each,
 * returns the process exit code. */
int gh_run(const gh_case *cases, size_t count, int argc, char **argv);

/* Device memory: a copy of host data, zeros, and the way back. Failures end the case. */
void *gh_upload(const void *host, size_t bytes);
void *gh_zeros(size_t bytes);
void gh_download(void *host, const void *device, size_t bytes);
void gh_free(void *device);
/* Waits for the device and fails the case on any recorded error. */
void gh_sync(const char *what);

float *gh_random(size_t n, uint64_t seed, float low, float high); /* host, freed by caller */

/* Records a failure unless max|actual - expected| <= tolerance · max(max|expected|, floor);
 * prints the worst element. Returns whether it passed. */
bool gh_expect_close(const char *what, const float *actual, const float *expected, size_t n,
                     double tolerance);
bool gh_expect_double(const char *what, double actual, double expected, double tolerance);
void gh_fail(const char *format, ...) __attribute__((format(printf, 1, 2)));
#define GH_CHECK(condition, ...)      \
    do {                              \
        if (!(condition))             \
            gh_fail(__VA_ARGS__);     \
    } while (0)

#endif
