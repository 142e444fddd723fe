/* Resizing on the CPU: the CUDA bodies (cuda/bodies/resize_body.h) element by element,
 * elements in parallel, so both backends give the same bits. */
#include "../cuda/bodies/resize_body.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 14 };

void nn_cpu_resize_forward(float *out, const float *inp, const nn_resize_geometry *g)
{
    const long count = (long)(g->batch * g->out_height * g->out_width * g->channels);
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long i = 0; i < count; i++)
        nn_body_resize_forward(out, inp, g, (size_t)i);
}

void nn_cpu_resize_backward(float *dinp, const float *dout, const nn_resize_geometry *g)
{
    const long count = (long)(g->batch * g->height * g->width * g->channels);
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long j = 0; j < count; j++)
        nn_body_resize_backward(dinp, dout, g, (size_t)j);
}
