/* Random affine and colour augmentation on the CPU, with the CUDA kernels' own bodies:
 * each image's transform drawn once, then every output point sampled from it; the
 * adjoint, and colour both ways, plane by plane. Images and planes are independent, so
 * threads split them. */
#include "../cuda/bodies/affine_body.h"
#include "../cuda/bodies/color_body.h"
#include "cpu_kernels.h"

/* Below this many floats of work a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 14 };

void nn_cpu_random_affine(float *out, const float *in, const nn_affine_geometry *g,
                          uint64_t seed, uint64_t stream)
{
    const long batch = (long)g->batch;
    const size_t size = (size_t)(g->height * g->width * g->channels);
#pragma omp parallel for schedule(static) if ((size_t)batch * size > PARALLEL_THRESHOLD)
    for (long b = 0; b < batch; b++) {
        nn_body_affine t = nn_body_affine_of(g, seed, stream, (uint64_t)b);
        const float *image = in + (size_t)b * size;
        float *target = out + (size_t)b * size;
        for (int64_t c = 0; c < g->channels; c++)
            for (int64_t y = 0; y < g->height; y++)
                for (int64_t x = 0; x < g->width; x++)
                    target[nn_body_affine_offset(g, y, x, c)] =
                        nn_body_affine_sample(g, &t, image, x, y, c);
    }
}

void nn_cpu_random_affine_backward(float *din, const float *dout, const nn_affine_geometry *g,
                                   uint64_t seed, uint64_t stream)
{
    const long planes = (long)(g->batch * g->channels);
    const size_t size = (size_t)(g->height * g->width);
#pragma omp parallel for schedule(static) if ((size_t)planes * size > PARALLEL_THRESHOLD)
    for (long plane = 0; plane < planes; plane++)
        nn_body_random_affine_backward_plane(din, dout, g, seed, stream, (size_t)plane);
}

void nn_cpu_random_color(float *out, const float *in, const nn_color_geometry *g, uint64_t seed,
                         uint64_t stream)
{
    const long planes = (long)(g->batch * g->channels);
    const size_t size = (size_t)(g->height * g->width);
#pragma omp parallel for schedule(static) if ((size_t)planes * size > PARALLEL_THRESHOLD)
    for (long plane = 0; plane < planes; plane++)
        nn_body_random_color_plane(out, in, g, seed, stream, (size_t)plane);
}

void nn_cpu_random_color_backward(float *din, const float *dout, const float *in,
                                  const nn_color_geometry *g, uint64_t seed, uint64_t stream)
{
    const long planes = (long)(g->batch * g->channels);
    const size_t size = (size_t)(g->height * g->width);
#pragma omp parallel for schedule(static) if ((size_t)planes * size > PARALLEL_THRESHOLD)
    for (long plane = 0; plane < planes; plane++)
        nn_body_random_color_backward_plane(din, dout, in, g, seed, stream, (size_t)plane);
}
