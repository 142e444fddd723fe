/* Keras' PReLU on the CPU, on the CUDA kernels' own bodies. */
#include <string.h>

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

/* The trailing case as the bodies sum it (nn_body_prelu_alpha_slice, then the slices in
 * order), each slice streaming its rows whole; partials: NN_PRELU_SLICES · trailing
 * doubles of the caller's scratch. */
static void alpha_gradient_by_slices(float *dalpha, const float *x, const float *dout,
                                     const nn_prelu_geometry *g, double *partials)
{
    const size_t trailing = (size_t)g->trailing;
    const size_t rows = nn_body_prelu_input_count(g) / trailing;
#pragma omp parallel for schedule(static) if (rows * trailing > PARALLEL_THRESHOLD)
    for (int slice = 0; slice < NN_PRELU_SLICES; slice++) {
        double *sum = partials + (size_t)slice * trailing;
        memset(sum, 0, trailing * sizeof *sum);
        for (size_t r = (size_t)slice; r < rows; r += NN_PRELU_SLICES) {
            const float *xr = x + r * trailing, *dr = dout + r * trailing;
            for (size_t a = 0; a < trailing; a++)
                if (xr[a] < 0.0f)
                    sum[a] += (double)dr[a] * (double)xr[a];
        }
    }
    for (size_t a = 0; a < trailing; a++) {
        double total = 0.0;
        for (size_t slice = 0; slice < NN_PRELU_SLICES; slice++)
            total += partials[slice * trailing + a];
        dalpha[a] = (float)total;
    }
}

void nn_cpu_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                 const nn_prelu_geometry *g, float *scratch)
{
    if (g->trailing) {
        alpha_gradient_by_slices(dalpha, x, dout, g, (double *)(void *)scratch);
        return;
    }
    const long count = (long)nn_body_prelu_alpha_count(g);
    const long inputs = (long)nn_body_prelu_input_count(g);
#pragma omp parallel for schedule(static) if (inputs > PARALLEL_THRESHOLD && count > 1)
    for (long a = 0; a < count; a++)
        nn_body_prelu_alpha_gradient(dalpha, x, dout, g, (size_t)a);
}
