/* The CPU backend: OpenBLAS for the matrix products, OpenMP for the rest. */
#include "cpu_kernels.h"

static const nn_backend cpu_backend = {
    .name = "cpu",
    .device = NN_DEVICE_CPU,
    .conv2d_scratch_floats = nn_cpu_conv2d_scratch_floats,
    .conv2d_forward = nn_cpu_conv2d_forward,
    .conv2d_backward = nn_cpu_conv2d_backward,
    .conv2d_maxpool2d_applies = nn_cpu_conv2d_maxpool2d_applies,
    .conv2d_maxpool2d_forward = nn_cpu_conv2d_maxpool2d_forward,
    .maxpool2d_forward = nn_cpu_maxpool2d_forward,
    .maxpool2d_backward = nn_cpu_maxpool2d_backward,
    .maxpool2d_backward_relu = nn_cpu_maxpool2d_backward_relu,
    .dense_forward = nn_cpu_dense_forward,
    .dense_backward = nn_cpu_dense_backward,
    .activation_forward = nn_activation_forward,
    .activation_backward = nn_activation_backward,
};

const nn_backend *nn_backend_cpu(void) { return &cpu_backend; }
