/* Keras' PReLU on the CPU, on the CUDA kernels' own bodies. */
#include "../cuda/bodies/prelu_body.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_cpu_prelu(float *out, const float *x, const float *dout, const float *alpha,
                  const nn_prelu_geometry *g)
{
    const long count = (long)nn_body_prelu_input_count(g);
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_prelu(out, x, dout, alpha, g, (size_t)i);
}

void nn_cpu_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                 const nn_prelu_geometry *g)
{
    const long count = (long)nn_body_prelu_alpha_count(g);
    const long inputs = (long)nn_body_prelu_input_count(g);
#pragma omp parallel for schedule(static) if (inputs > PARALLEL_THRESHOLD && count > 1)
    for (long a = 0; a < count; a++)
        nn_body_prelu_alpha_gradient(dalpha, x, dout, g, (size_t)a);
}
