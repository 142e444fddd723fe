/* How the CUDA backend lays out one convolution for cuDNN: cuDNN pads symmetrically and
 * wants its filters as (OC, KH, KW, C/G), while nnsh keeps Keras' (KH, KW, C/G, OC) and
 * pads 'same' with the larger half after. The plan says whether the input must be padded
 * explicitly and where each buffer sits in the scratch. Pure arithmetic, tested on the
 * CPU. */
#ifndef NN_CONV_PLAN_H
#define NN_CONV_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "../../backend.h"
#include "../bodies/body.h"

/* Scratch partitions start on multiples of this many floats (256 bytes), the alignment
 * cuDNN's fastest kernels want. */
enum { NN_CONV_PLAN_ALIGN_FLOATS = 64 };

typedef struct nn_conv_plan {
    /* true: more padding after than before that cuDNN's symmetric padding cannot
     * express; the input is copied into a zero-padded buffer and cuDNN pads nothing. */
    bool explicit_padding;
    int cudnn_pad_height, cudnn_pad_width;   /* what cuDNN pads on each side */
    int input_height, input_width;           /* the input cuDNN sees */
    size_t kernel_floats;                    /* KH·KW·C/G·OC */
    size_t padded_input_floats;              /* B·Hp·Wp·C when explicit, else 0 */
    /* Offsets into the scratch, in floats: the kernel in cuDNN's layout, its gradient,
     * the padded input and its gradient (explicit padding only), cuDNN's workspace. */
    size_t kernel_offset, dkernel_offset;
    size_t padded_input_offset, padded_dinput_offset;
    size_t bias_partials_offset;             /* (slices, OC) doubles for the bias gradient */
    size_t workspace_offset;
    size_t total_floats;                     /* the scratch the convolution needs */
} nn_conv_plan;

/* The plan for a geometry (with its batch) and `workspace_bytes` of cuDNN workspace. */
nn_conv_plan nn_conv_plan_make(const nn_conv2d_geometry *geometry, size_t workspace_bytes);

#endif
