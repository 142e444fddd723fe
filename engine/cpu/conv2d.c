/* STUB: to be replaced by the real convolution kernels. */
#include "cpu_kernels.h"

size_t nn_cpu_conv2d_scratch_floats(const nn_conv2d_geometry *geometry)
{
    (void)geometry;
    return 0;
}
void nn_cpu_conv2d_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch)
{
    (void)out, (void)inp, (void)kernel, (void)bias, (void)activation, (void)geometry,
        (void)scratch;
}
void nn_cpu_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch)
{
    (void)dinp, (void)dkernel, (void)dbias, (void)dout, (void)inp, (void)kernel,
        (void)geometry, (void)scratch;
}
