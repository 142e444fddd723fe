/* Convolution plans for cuDNN: explicit padding when Keras' 'same' is asymmetric, and
 * the scratch partitions. */
#include "conv_plan.h"

static size_t aligned(size_t floats)
{
    return (floats + NN_CONV_PLAN_ALIGN_FLOATS - 1) / NN_CONV_PLAN_ALIGN_FLOATS *
           NN_CONV_PLAN_ALIGN_FLOATS;
}

/* The output size cuDNN computes with `pad` cells on both sides. */
static int symmetric_output(int input, int pad, int effective, int stride)
{
    int span = input + 2 * pad - effective;
    return span < 0 ? 0 : span / stride + 1;
}

nn_conv_plan nn_conv_plan_make(const nn_conv2d_geometry *geometry, size_t workspace_bytes)
{
    const nn_conv2d_geometry *g = geometry;
    nn_conv_plan plan = {0};
    int effective_height = (g->kernel_height - 1) * g->dilation_height + 1;
    int effective_width = (g->kernel_width - 1) * g->dilation_width + 1;
    bool fits = symmetric_output(g->in_height, g->pad_top, effective_height,
                                 g->stride_height) == g->out_height &&
                symmetric_output(g->in_width, g->pad_left, effective_width,
                                 g->stride_width) == g->out_width;
    plan.explicit_padding = !fits;
    if (fits) {
        plan.cudnn_pad_height = g->pad_top;
        plan.cudnn_pad_width = g->pad_left;
        plan.input_height = g->in_height;
        plan.input_width = g->in_width;
    } else {
        /* Exactly the rows and columns the windows cover: the padded input starts
         * pad_top before the input and ends where the last window ends. */
        plan.input_height = (g->out_height - 1) * g->stride_height + effective_height;
        plan.input_width = (g->out_width - 1) * g->stride_width + effective_width;
        plan.padded_input_floats = (size_t)g->batch * (size_t)plan.input_height *
                                   (size_t)plan.input_width * (size_t)g->in_channels;
    }
    plan.kernel_floats = (size_t)g->kernel_height * (size_t)g->kernel_width *
                         (size_t)(g->in_channels / g->groups) * (size_t)g->out_channels;
    size_t offset = 0;
    plan.kernel_offset = offset;
    offset += aligned(plan.kernel_floats);
    plan.dkernel_offset = offset;
    offset += aligned(plan.kernel_floats);
    plan.padded_input_offset = offset;
    offset += aligned(plan.padded_input_floats);
    plan.padded_dinput_offset = offset;
    offset += aligned(plan.padded_input_floats);
    plan.bias_partials_offset = offset;
    offset += aligned(2 * (size_t)NN_REDUCE_SLICES * (size_t)g->out_channels);
    plan.workspace_offset = offset;
    offset += aligned((workspace_bytes + sizeof(float) - 1) / sizeof(float));
    plan.total_floats = offset;
    return plan;
}
