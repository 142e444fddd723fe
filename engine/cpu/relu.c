/* Keras' ReLU layer on the CPU, on the CUDA kernel's own body. */
#include "../cuda/bodies/elementwise_body.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_cpu_clipped_relu(float *out, const float *x, const float *dout, size_t n,
                         float negative_slope, float max_value, float threshold)
{
    const long count = (long)n;
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_clipped_relu_apply(out, x, dout, negative_slope, max_value, threshold,
                                   (size_t)i);
}
