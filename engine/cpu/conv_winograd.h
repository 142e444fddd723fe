/* Winograd F(2×2, 3×3) for the direct convolution (conv2d_winograd.c). */
#ifndef NN_CPU_CONV_WINOGRAD_H
#define NN_CPU_CONV_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../backend.h"
#include "conv_tiles.h"

enum {
    /* Tiles transformed and multiplied together: a thread's slot (16 planes of 48 rows
     * of input and of output channels) stays in its core's L2. A multiple of the
     * register tiles' 6 rows. */
    NN_WINOGRAD_BLOCK = 48,
    /* Threads that work at once; each needs its own slot of scratch. */
    NN_WINOGRAD_SLOTS = 16,
    /* Narrower layers spend more on the transforms than the multiplies save. */
    NN_WINOGRAD_MIN_CHANNELS = 16,
    /* Parts the kernel gradient's tiles are split into, each summed on its own, then
     * added in order: enough to keep threads busy, fixed so results never change. */
    NN_WINOGRAD_PARTS = 8,
};

/* 3×3, stride 1, no dilation, one group, even sizes in and out, and wide enough. */
bool nn_winograd_applies(const nn_conv2d_geometry *geometry);

/* Floats of a transformed kernel, and of one thread's slot, for a convolution from
 * `channels` to `filters` channels. */
size_t nn_winograd_kernel_floats(int channels, int filters);
size_t nn_winograd_slot_floats(int channels, int filters);

/* u (nn_winograd_kernel_floats) = the kernel (3,3,channels,filters) transformed, rows
 * of 16-float multiples, then a row of zeros; with
 * `flipped`, the kernel is the forward's (3,3,filters,channels) flipped and transposed,
 * as the input gradient convolves with it. */
void nn_winograd_transform_kernel(float *u, const float *kernel, int channels, int filters,
                                  bool flipped);

/* One convolution of padded images. */
typedef struct nn_winograd_pass {
    const float *src;       /* padded images: output (y, x) reads rows y..y+2, cols x..x+2 */
    int images;
    size_t image_floats;    /* floats per padded image */
    ptrdiff_t row_floats;   /* floats per padded row */
    int channels;           /* of src */
    int out_height, out_width, filters;
    const float *kernel;    /* transformed (nn_winograd_transform_kernel) */
    const float *bias;      /* (filters) or NULL */
    bool relu;
    float *out;             /* (images, out_height, out_width, filters), or NULL when ... */
    float *pooled;          /* ... 2×2 max pooling goes here instead (images, h/2, w/2, filters) */
    int32_t *argmax;        /* with pooled: the winners, or NULL */
    size_t first_index;     /* added to every winner: where these images start in the batch */
} nn_winograd_pass;

/* Runs the pass; slots holds NN_WINOGRAD_SLOTS × nn_winograd_slot_floats floats. */
void nn_winograd_convolve(const nn_winograd_pass *pass, const nn_conv_tiles *tiles,
                          float *slots);

/* Floats of the kernel gradient's partial sums. */
size_t nn_winograd_partials_floats(int channels, int filters);

/* dkernel (3,3,channels,filters) (+)= the kernel gradient from the pass's padded input
 * images and dout (images, out_height, out_width, filters), the gradient of the
 * convolution's output (pass.kernel, bias, relu and outputs unused); partials holds
 * nn_winograd_partials_floats, slots as for nn_winograd_convolve. */
void nn_winograd_weight_gradient(float *dkernel, const nn_winograd_pass *pass,
                                 const float *dout, bool accumulate,
                                 const nn_conv_tiles *tiles, float *partials, float *slots);

#endif
