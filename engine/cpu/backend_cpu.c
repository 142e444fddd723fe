/* The CPU backend: OpenBLAS for the matrix products, OpenMP for the rest. */
#include "layout.h"
#include "cpu_kernels.h"

const nn_backend nn_cpu_backend_table = {
    .name = "cpu",
    .device = NN_DEVICE_CPU,
    .host_visible = true,

    .memory_alloc = nn_cpu_memory_alloc,
    .memory_free = nn_cpu_memory_free,
    .host_alloc = nn_cpu_host_alloc,
    .host_free = nn_cpu_host_free,
    .copy_to_host = nn_cpu_copy_to_host,
    .copy_from_host = nn_cpu_copy_from_host,
    .copy = nn_cpu_copy,
    .memory_zero = nn_cpu_memory_zero,
    .upload_async = nn_cpu_upload_async,
    .synchronize = nn_cpu_synchronize,
    .check = nn_cpu_synchronize,
    .select_device = nn_cpu_select_device,

    .fill = nn_cpu_fill,
    .scale_shift = nn_cpu_scale_shift,
    .add = nn_cpu_add,
    .to_channels_last = nn_layout_to_channels_last,
    .to_channels_first = nn_layout_to_channels_first,
    .conv2d_scratch_floats = nn_cpu_conv2d_scratch_floats,
    .conv2d_forward = nn_cpu_conv2d_forward,
    .conv2d_backward = nn_cpu_conv2d_backward,
    .conv2d_maxpool2d_applies = nn_cpu_conv2d_maxpool2d_applies,
    .conv2d_maxpool2d_forward = nn_cpu_conv2d_maxpool2d_forward,
    .maxpool2d_forward = nn_cpu_maxpool2d_forward,
    .maxpool2d_backward = nn_cpu_maxpool2d_backward,
    .maxpool2d_backward_relu = nn_cpu_maxpool2d_backward_relu,
    .avgpool2d_forward = nn_cpu_avgpool2d_forward,
    .avgpool2d_backward = nn_cpu_avgpool2d_backward,
    .dense_forward = nn_cpu_dense_forward,
    .dense_backward = nn_cpu_dense_backward,
    .activation_forward = nn_activation_forward,
    .activation_backward = nn_activation_backward,
    .dropout_forward = nn_cpu_dropout_forward,
    .dropout_backward = nn_cpu_dropout_backward,
    .batchnorm_scratch_floats = nn_cpu_batchnorm_scratch_floats,
    .batchnorm_forward_training = nn_cpu_batchnorm_forward_training,
    .batchnorm_forward_inference = nn_cpu_batchnorm_forward_inference,
    .batchnorm_backward = nn_cpu_batchnorm_backward,

    .loss_forward_backward = nn_cpu_loss_forward_backward,
    .metric_sum = nn_cpu_metric_sum,
    .weight_penalty = nn_cpu_weight_penalty,
    .optimizer_step = nn_cpu_optimizer_step,
    .constraint_scratch_floats = nn_cpu_constraint_scratch_floats,
    .constraint_apply = nn_cpu_constraint_apply,
};

const nn_backend *nn_backend_cpu(void) { return &nn_cpu_backend_table; }
