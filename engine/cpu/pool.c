/* STUB: to be replaced by the real pooling kernels. */
#include "cpu_kernels.h"

void nn_cpu_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry)
{
    (void)out, (void)argmax, (void)inp, (void)geometry;
}
void nn_cpu_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry)
{
    (void)dinp, (void)dout, (void)argmax, (void)geometry;
}
