/* The table of kernels and memory functions one device provides. Layers, the training
 * loop and the optimizer reach device memory only through a backend, so the model
 * logic exists once for every device.
 *
 *   const nn_backend *backend = nn_backend_for(model->device);     (device.h)
 *   backend->dense_forward(out, inp, kernel, bias, relu, B, K, N);  (device pointers)
 *   NN_TRY(backend->copy_to_host(host, out, bytes));                  (waits for the work)
 *
 * All tensors are dense row-major float arrays. Convolution and pooling kernels work in
 * channels-last layout (B, H, W, C); channels-first layers transpose around them.
 * Kernels never allocate: scratch memory of the size the matching *_scratch_floats
 * function asks for is passed in, in the backend's memory.
 *
 * Kernels return nothing. A device backend queues them in order on one stream and
 * records the first failure (the call and the library's message); check() and
 * synchronize() turn it into an nn_status, which the loops do once per batch. Pointers
 * a kernel receives are in the backend's memory, except the small argument structs
 * (geometries, configs), which are host memory and read before the kernel returns. */
#ifndef NN_BACKEND_H
#define NN_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "activation.h"
#include "loss.h"
#include "optimizer.h"
#include "param.h"
#include "tensor.h"

/* Everything a 2-D convolution kernel needs to know about sizes. */
typedef struct nn_conv2d_geometry {
    int batch;
    int in_height, in_width, in_channels;
    int out_height, out_width, out_channels;
    int kernel_height, kernel_width;
    int stride_height, stride_width;
    int dilation_height, dilation_width;
    int pad_top, pad_left; /* 'same' puts the smaller half of the padding first, as Keras */
    int groups;            /* in_channels and out_channels are multiples of groups */
} nn_conv2d_geometry;

typedef struct nn_pool2d_geometry {
    int batch;
    int in_height, in_width, channels;
    int out_height, out_width;
    int pool_height, pool_width;
    int stride_height, stride_width;
    int pad_top, pad_left; /* padded cells never win the max */
} nn_pool2d_geometry;

/* A window of an image batch, channels-last: `inner` (B,h,w,C) is the part of `outer`
 * (B,H,W,C) whose top-left cell is (top, left). Zero padding and cropping move values
 * between the two. A channels-first batch (B,C,H,W) is the channels-last batch
 * (B·C,H,W,1). */
typedef struct nn_window2d_geometry {
    int64_t batch, channels;
    int64_t outer_height, outer_width;
    int64_t inner_height, inner_width;
    int64_t top, left;
} nn_window2d_geometry;

/* Upsampling, channels-last: (B,H,W,C) -> (B,H·SH,W·SW,C), nearest-neighbour or
 * bilinear. Bilinear follows TensorFlow's resize with half-pixel centers: output cell o
 * reads input position (o + 0.5) · (H / (H·SH)) - 0.5 (in float), its two neighbours
 * clamped to the image, top = tl + (tr - tl) · x_lerp, and likewise down the rows. */
typedef struct nn_upsample2d_geometry {
    int64_t batch, height, width, channels;
    int64_t size_height, size_width;
    bool bilinear;
} nn_upsample2d_geometry;

/* A resize (Keras' Resizing), channels-last: (B,H,W,C) -> (B,out_height,out_width,C). A
 * window of each image is resized: the whole image, a centred crop inside it, or a canvas
 * around it (top and left negative) whose cells outside the image read fill_value. Output
 * cell o reads the window at TensorFlow's half-pixel position (o + 0.5) · window / out -
 * 0.5, bilinearly as upsampling does, or the nearest cell, floor((o + 0.5) · window / out). */
typedef struct nn_resize_geometry {
    int64_t batch, height, width, channels;
    int64_t out_height, out_width;
    int64_t top, left, window_height, window_width;
    bool bilinear; /* else nearest */
    float fill_value;
} nn_resize_geometry;

/* A dropout call: the input's shape and the mask's (1 along broadcast axes). */
typedef struct nn_dropout_geometry {
    int ndim;
    int64_t dims[NN_MAX_DIMS];       /* the input, batch axis included */
    int64_t noise_dims[NN_MAX_DIMS]; /* each equal to dims[i] or 1 */
    float rate;                      /* in [0, 1) */
} nn_dropout_geometry;

/* A PReLU call: the input's shape and alpha's, broadcast over the batch axis and Keras'
 * shared_axes (1 there, each other size the input's). */
typedef struct nn_prelu_geometry {
    int ndim;
    int64_t dims[NN_MAX_DIMS];       /* the input, batch axis included */
    int64_t alpha_dims[NN_MAX_DIMS]; /* 1 on the batch axis and the shared axes */
    /* alpha's element count when its axes are the input's last ones (every shared axis
     * before every other: none shared, {1, 2} on images, all), so that element i has alpha
     * element i % trailing and alpha's gradient sums columns; 0 otherwise (see
     * nn_prelu_trailing). */
    int64_t trailing;
} nn_prelu_geometry;

/* The most mean and variance values a Normalization may be given (as its constructor's
 * NN_FLOATS_CAPACITY). */
enum { NN_NORMALIZE_GIVEN = 64 };

/* A Normalization call (Keras' preprocessing layer): element i of `count` has the mean and
 * variance of index (i / inner) % channels, the index along the layer's axis (channels 1:
 * one for everything, axis=None). */
typedef struct nn_normalize_geometry {
    int64_t count;
    int64_t channels;
    int64_t inner; /* elements after the axis: 1 for the last axis */
    bool invert;   /* de-normalize: mean + x · std */
    /* With no mean and variance arrays (NULL): the values the layer was given, travelling
     * with the call (Normalization{mean=3, variance=2}, or a list per index of the axis):
     * `given` of each, 1 for one value for every index. */
    int given;
    float mean[NN_NORMALIZE_GIVEN], variance[NN_NORMALIZE_GIVEN];
} nn_normalize_geometry;

/* Keras' floor under a Normalization's standard deviation: max(sqrt(variance), 1e-7), so a
 * feature constant in the data gives 0, not a division by 0 (a negative or NaN variance
 * gives NaN, as Keras'). */
#define NN_NORMALIZE_EPSILON 1e-7f

/* A group normalisation call: x is (samples, before, channels, after), the channels split
 * into `groups` runs of channels / groups, and each sample's group normalised on its own
 * over its positions before and after the channel axis and its channels. Keras'
 * GroupNormalization on (batch, ..., channels, ...) is samples = batch; its
 * LayerNormalization is one group of the last axis, a sample per row (before = after = 1).
 * With `root_mean_square` the group is not centred: its mean is taken as 0, so inv_std is
 * 1/sqrt(mean(x²) + epsilon) (RMSNormalization). */
typedef struct nn_group_norm_geometry {
    int64_t samples, before, channels, after;
    int64_t groups; /* divides channels */
    float epsilon;
    bool root_mean_square;
} nn_group_norm_geometry;

/* The most bin boundaries a Discretization holds (as NN_FLOATS_CAPACITY). */
enum { NN_CATEGORY_BOUNDARIES = 64 };

/* A CategoryEncoding or Discretization call: x seen as rows of `length` ids (for a
 * Discretization, numbers whose buckets are the ids), out as rows of `tokens`: 1 where a
 * row holds an id (count: how many times). A bucket is how many boundaries lie at or
 * below the number. */
typedef struct nn_category_geometry {
    int64_t rows, length, tokens;
    bool count;
    bool bucketize;
    int boundary_count;
    float boundaries[NN_CATEGORY_BOUNDARIES];
} nn_category_geometry;

/* A UnitNormalization call: x seen as (outer, length, inner), every run of `length` values
 * along the middle axis (inner apart) divided by its L2 norm, at least
 * NN_UNIT_NORM_EPSILON as Keras 3's. */
typedef struct nn_unit_norm_geometry {
    int64_t outer, length, inner;
} nn_unit_norm_geometry;

#define NN_UNIT_NORM_EPSILON 1e-12f

/* How many reduction slices alpha's gradient uses in the trailing case: rows s, s + S,
 * s + 2S, ... in slice s, the slices then added in order, on every backend. */
enum { NN_PRELU_SLICES = 16 };

/* nn_prelu_geometry.trailing for a geometry: alpha's count when every axis it shares
 * (size 1 in alpha, more in the input) comes before every axis it does not, else 0. */
static inline int64_t nn_prelu_trailing(const nn_prelu_geometry *g)
{
    int64_t count = 1;
    int axis = g->ndim - 1;
    for (; axis >= 0 && !(g->alpha_dims[axis] == 1 && g->dims[axis] != 1); axis--)
        count *= g->dims[axis];
    for (; axis >= 0; axis--)
        if (g->alpha_dims[axis] != 1)
            return 0;
    return count;
}

/* Floats of scratch prelu_alpha_gradient takes: the CPU's partial sums (doubles) in the
 * trailing case. */
static inline size_t nn_prelu_scratch_floats(const nn_prelu_geometry *g)
{
    return g->trailing ? 2 * (size_t)NN_PRELU_SLICES * (size_t)g->trailing : 0;
}

/* A random flip call: `batch` images of height x width x channels, and the axes that
 * may flip. */
typedef struct nn_flip_geometry {
    int64_t batch, height, width, channels;
    bool channels_first;
    bool horizontal, vertical; /* left-right, top-bottom */
} nn_flip_geometry;

/* How RandomRotation, RandomTranslation and RandomZoom fill the points they read from
 * outside the image (Keras' fill_mode). */
typedef enum nn_fill_mode {
    NN_FILL_REFLECT,  /* d c b a | a b c d | d c b a */
    NN_FILL_WRAP,     /* a b c d | a b c d | a b c d */
    NN_FILL_CONSTANT, /* k k k k | a b c d | k k k k, k = fill_value */
    NN_FILL_NEAREST   /* a a a a | a b c d | d d d d */
} nn_fill_mode;

/* A random affine augmentation call: images as for flips, the ranges each image's
 * transform is drawn from (a layer sets one kind, the others stay at the identity), and
 * how it samples. The output point (x, y) reads the input at the point the image's
 * translation, rotation about the centre and zoom about the centre take it to. */
typedef struct nn_affine_geometry {
    int64_t batch, height, width, channels;
    bool channels_first;
    float rotation[2];           /* radians; positive turns the image counter-clockwise */
    float shift_y[2], shift_x[2];/* fractions of the height and width; positive moves it
                                    down and right */
    float zoom_y[2], zoom_x[2];  /* the factor is 1 + a draw; positive zooms out */
    bool zoom_keeps_aspect;      /* the width zooms by the height's draw */
    bool nearest;                /* nearest-neighbour sampling, else bilinear */
    nn_fill_mode fill_mode;
    float fill_value;
} nn_affine_geometry;

/* A random colour augmentation call (RandomContrast, RandomBrightness): images as for
 * flips, the range each image's draw comes from, and the range the output is clipped to.
 * Contrast moves each plane (one channel of one image) away from its mean, (x - mean) ·
 * draw + mean; brightness adds the draw to every value. */
typedef struct nn_color_geometry {
    int64_t batch, height, width, channels;
    bool channels_first;
    bool contrast;        /* else brightness */
    float range[2];       /* the contrast factor's, or the shift's in the values' units */
    float value_range[2]; /* low, high */
} nn_color_geometry;

/* A batch-normalisation call: the input seen as (outer, channels, inner), element
 * (o, c, k) at (o * channels + c) * inner + k, normalised over o and k per channel. */
typedef struct nn_batchnorm_geometry {
    int64_t outer, channels, inner;
    float momentum; /* moving = moving * momentum + batch * (1 - momentum) */
    float epsilon;
    /* Keras' mask (NULL: none), one weight (1 kept, 0 masked) per row o · inner + k, on
     * the device: the batch statistics are those of the kept rows, as Keras 3's masked
     * moments (divided by the kept count + 1e-7); every row is still normalised. */
    const float *mask;
} nn_batchnorm_geometry;

/* A recurrent cell step: `rows` samples of `units`, the candidate's activation and the
 * gates' (recurrent) activation, both element-wise. */
typedef struct nn_recurrent_cell {
    int64_t rows, units;
    nn_activation activation, recurrent_activation;
} nn_recurrent_cell;

/* What one training or evaluation batch reports, summed on the device and read back
 * once per batch (a few dozen bytes). Lives in the backend's memory. */
enum { NN_BATCH_STATS_METRICS = 16 }; /* NN_MAX_COMPILED_METRICS */
typedef struct nn_batch_stats {
    double loss;                /* mean data loss of the batch */
    double activity_penalty;    /* activity regularizers of this batch */
    double weight_penalty;      /* weight regularizers, summed in layer order */
    double metric_sums[NN_BATCH_STATS_METRICS]; /* each metric summed over the batch */
    /* The sums of the metrics' denominators (nn_metric_denominator), where they have one,
     * and of a weighted mean's weights (NN_METRIC_ROW_WEIGHT). */
    double metric_denominators[NN_BATCH_STATS_METRICS];
} nn_batch_stats;

/* The loss a batch reports: data loss plus both penalties, added as the CPU loop
 * always has. An update whose batch has a non-finite total is skipped (see guard). */
static inline double nn_batch_stats_total(const nn_batch_stats *stats)
{
    return stats->loss + (stats->activity_penalty + stats->weight_penalty);
}

typedef struct nn_backend {
    const char *name;      /* "cpu", "cuda", "emulated" */
    nn_device_kind device;
    bool host_visible;     /* the host may read and write this backend's memory */

    /* ---- memory ----
     * Device memory: zero-filled, aligned to at least 256 bytes, on device `index`.
     * Running out is NN_ERR_MEMORY naming the size and what the device has free. */
    nn_status (*memory_alloc)(void **out, size_t bytes, int index);
    void (*memory_free)(void *pointer);
    /* Host memory the device copies from without staging (page-locked on a GPU). */
    nn_status (*host_alloc)(void **out, size_t bytes);
    void (*host_free)(void *pointer);
    /* Copies between host and device memory. Both wait for the work queued before them
     * and report its first failure, so a copy to the host is also a synchronisation. */
    nn_status (*copy_to_host)(void *host, const void *source, size_t bytes);
    nn_status (*copy_from_host)(void *target, const void *host, size_t bytes);
    /* Device to device, and zeroing, in queue order. */
    void (*copy)(void *target, const void *source, size_t bytes);
    void (*memory_zero)(void *target, size_t bytes);
    /* Starts copying host_alloc memory to the device and returns at once; kernels queued
     * afterwards see the data. The host buffer must not change until the next
     * synchronisation. Lets a batch upload while the previous one computes. */
    void (*upload_async)(void *target, const void *pinned, size_t bytes);
    /* Waits for every queued kernel; returns the first failure since the last check. */
    nn_status (*synchronize)(void);
    /* The first failure recorded so far, without waiting; clears it. */
    nn_status (*check)(void);
    /* Makes device `index` the one the following kernels run on. */
    nn_status (*select_device)(int index);

    /* ---- layer kernels ---- */

    /* target[0..n) = value */
    void (*fill)(float *target, float value, size_t n);
    /* y[i] = x[i] · scale + offset for i in [0, n); y may be x. */
    void (*scale_shift)(float *y, const float *x, float scale, float offset, size_t n);
    /* y[i] += x[i] for i in [0, n). */
    void (*add)(float *y, const float *x, size_t n);
    /* y[i] = a[i] · b[i] for i in [0, n); y may be a or b. */
    void (*multiply)(float *y, const float *a, const float *b, size_t n);
    /* out (B,S,C) = inp (B,C,S): the channel axis moved last (S is H·W). */
    void (*to_channels_last)(float *out, const float *inp, int64_t batch, int64_t channels,
                             int64_t spatial);
    /* out (B,C,S) = inp (B,S,C). */
    void (*to_channels_first)(float *out, const float *inp, int64_t batch, int64_t channels,
                              int64_t spatial);

    /* out (B,OH,OW,OC) = conv(inp (B,H,W,C), kernel (KH,KW,C/G,OC)) + bias (OC) or NULL,
     * then the activation applied in place. */
    size_t (*conv2d_scratch_floats)(const nn_conv2d_geometry *geometry);
    void (*conv2d_forward)(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch);
    /* Given dout (B,OH,OW,OC) (already through the activation's derivative), writes
     * dinp (B,H,W,C), dkernel (KH,KW,C/G,OC) and dbias (OC); each may be NULL. */
    void (*conv2d_backward)(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch);

    /* A convolution (bias, then relu when asked) followed by max pooling in one pass:
     * pooled (B,PH,PW,OC) and argmax (B,PH,PW,OC) or NULL come out as maxpool2d_forward
     * would leave them on the convolution's output (B,OH,OW,OC), which is never
     * written. Only for the sizes conv2d_maxpool2d_applies accepts (batch included);
     * scratch as conv2d_forward's. */
    bool (*conv2d_maxpool2d_applies)(const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool);
    void (*conv2d_maxpool2d_forward)(float *pooled, int32_t *argmax, const float *inp,
                                     const float *kernel, const float *bias, bool relu,
                                     const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool, float *scratch);

    /* out (B,OH,OW,C) = max over each window of inp (B,H,W,C); argmax (B,OH,OW,C)
     * receives the flat index into inp of each winner (may be NULL in inference). */
    void (*maxpool2d_forward)(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry);
    /* dinp (B,H,W,C) = scatter of dout (B,OH,OW,C) to the winners. */
    void (*maxpool2d_backward)(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry);
    /* The same for an input that a ReLU produced, with the ReLU's derivative folded in:
     * only winners whose forward output out (B,OH,OW,C) is positive get their gradient
     * (a winner of 0 had a zero derivative; the others get none anyway). The layer
     * before then skips its own derivative pass. */
    void (*maxpool2d_backward_relu)(float *dinp, const float *dout, const int32_t *argmax,
                                    const float *out, const nn_pool2d_geometry *geometry);
    /* Average pooling, channels-last, geometry as max pooling: out (B,OH,OW,C) = the mean
     * of each window's cells inside the input (cells in the padding are not counted, as
     * TensorFlow), summed in row-major window order and divided once. */
    void (*avgpool2d_forward)(float *out, const float *inp, const nn_pool2d_geometry *geometry);
    /* dinp (B,H,W,C), overwritten: for each cell the sum over the windows that cover it
     * (row-major order) of dout / that window's count. */
    void (*avgpool2d_backward)(float *dinp, const float *dout,
                               const nn_pool2d_geometry *geometry);

    /* out (rows, width) += bias (width) on every row. */
    void (*bias_add)(float *out, const float *bias, int64_t rows, int64_t width);
    /* sums (width) = the sum of rows (row_count, width) down each column (in double on the
     * CPU; in float, row by row, on a GPU). */
    void (*column_sums)(float *sums, const float *rows, int64_t row_count, int64_t width);

    /* outer (B,H,W,C) = zeros with inner (B,h,w,C) at (top, left) (zero padding). */
    void (*window2d_embed)(float *outer, const float *inner,
                           const nn_window2d_geometry *geometry);
    /* inner (B,h,w,C) = the cells of outer (B,H,W,C) from (top, left) (cropping). */
    void (*window2d_extract)(float *inner, const float *outer,
                             const nn_window2d_geometry *geometry);
    /* out (B,H·SH,W·SW,C): each cell of inp (B,H,W,C) repeated over an SH x SW block, or
     * interpolated (geometry->bilinear). */
    void (*upsample2d_forward)(float *out, const float *inp,
                               const nn_upsample2d_geometry *geometry);
    /* dinp (B,H,W,C) = the sum of dout over each cell's block, in row-major order; for
     * bilinear, over the output cells that read it, each times its weight. */
    void (*upsample2d_backward)(float *dinp, const float *dout,
                                const nn_upsample2d_geometry *geometry);
    /* Resizing (see nn_resize_geometry), and its adjoint: each input cell the sum of the
     * output's gradient over the cells that read it, times their weights (dinp is
     * overwritten; cells outside the window get 0). */
    void (*resize_forward)(float *out, const float *inp, const nn_resize_geometry *geometry);
    void (*resize_backward)(float *dinp, const float *dout,
                            const nn_resize_geometry *geometry);

    /* out (B,N) = inp (B,K) @ kernel (K,N) + bias (N) or NULL, then the activation. */
    void (*dense_forward)(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features);
    /* dinp (B,K) = dout @ kernelᵀ; dkernel (K,N) = inpᵀ @ dout; dbias (N) = Σ_b dout.
     * Each output may be NULL. */
    void (*dense_backward)(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features);

    /* y (n) = f(x); softmax normalises each run of axis_size elements. y may equal x. */
    void (*activation_forward)(nn_activation activation, float *y, const float *x, size_t n,
                               size_t axis_size);
    /* dx (n) = dy · f'(x) given y = f(x) (x may be NULL unless the activation's backward
     * needs its input). dx may equal dy. */
    void (*activation_backward)(nn_activation activation, float *dx, const float *dy,
                                const float *x, const float *y, size_t n, size_t axis_size);

    /* Keras' ReLU layer over n elements (nn_body_clipped_relu; max_value infinity for
     * None): out = f(x), or with dout given its backward, out = dout · f'(x). out may be
     * x or dout. */
    void (*clipped_relu)(float *out, const float *x, const float *dout, size_t n,
                         float negative_slope, float max_value, float threshold);

    /* Keras' PReLU over the input of geometry g (nn_body_prelu): out = x where x > 0, alpha·x
     * below, alpha broadcast; with dout given its input gradient, out = dout where x > 0,
     * alpha·dout where x < 0, 0 at 0. out may be x or dout. */
    void (*prelu)(float *out, const float *x, const float *dout, const float *alpha,
                  const nn_prelu_geometry *g);
    /* dalpha (alpha's elements, overwritten) = the sum of dout · min(x, 0) over the input
     * elements that share each alpha element, in a fixed order; scratch holds
     * nn_prelu_scratch_floats(g). */
    void (*prelu_alpha_gradient)(float *dalpha, const float *x, const float *dout,
                                 const nn_prelu_geometry *g, float *scratch);

    /* Keras' masking of steps: a mask holds one float per row (step) of a sample, 1
     * kept and 0 masked. mask[r] = 1 where row r of x (`width` floats) holds a value
     * other than `value`: Masking's rule (any feature differs), and with width 1 and
     * value 0 an Embedding's with mask_zero. */
    void (*step_mask)(float *mask, const float *x, float value, size_t rows, size_t width);
    /* out[r, j] = kept[r, j] where mask[r · mask_stride] is not 0, else masked[r, j]; a
     * NULL source reads as zeros (nn_body_select_rows). out may be either source. The
     * stride reads one step of a (batch, steps) mask for time-major rows. */
    void (*select_rows)(float *out, const float *kept, const float *masked, const float *mask,
                        size_t mask_stride, size_t rows, size_t width);
    /* Keras' loss under a mask over its rows: out[r] = (weights ? weights[r] : 1) ·
     * mask[r] · rows / (kept rows + 1e-7), so that the loss's mean over all rows is the
     * mean over the kept ones (nn_body_masked_loss_weight). out may be weights. */
    void (*masked_loss_weights)(float *out, const float *weights, const float *mask,
                                size_t rows);
    /* out (batch, channels) = the mean of x (batch, steps, channels) over the kept steps
     * of each sample, 0 where none is kept; and its backward, dx overwritten. */
    void (*masked_mean_steps)(float *out, const float *x, const float *mask, int64_t batch,
                              int64_t steps, int64_t channels);
    void (*masked_mean_steps_backward)(float *dx, const float *dout, const float *mask,
                                       int64_t batch, int64_t steps, int64_t channels);

    /* Inverted dropout. mask (the noise shape, one byte per element) = 1 where
     * uniform(seed, stream, j) >= rate, drawn with Philox exactly as nn_random_uniform_at
     * so every backend draws the same masks; out = mask ? inp / (1 - rate) : 0, with the
     * mask broadcast along its size-1 axes. */
    void (*dropout_forward)(float *out, uint8_t *mask, const float *inp,
                            const nn_dropout_geometry *geometry, uint64_t seed,
                            uint64_t stream);
    /* dinp = mask ? dout / (1 - rate) : 0. dinp may equal dout. */
    void (*dropout_backward)(float *dinp, const float *dout, const uint8_t *mask,
                             const nn_dropout_geometry *geometry);

    /* Gaussian noise: with z_i normal i of (seed, stream) (Box-Muller on Philox blocks,
     * the same numbers on every backend), out[i] = inp[i] + stddev·z_i, or
     * inp[i]·(1 + stddev·z_i) when multiplicative, which run on the output's gradient
     * is also that noise's backward. out may equal inp. */
    void (*gaussian_noise)(float *out, const float *inp, size_t n, float stddev,
                           bool multiplicative, uint64_t seed, uint64_t stream);

    /* Random flips (RandomFlip): when uniform number 0 of Philox block b of (seed,
     * stream) is below 0.5 (nn_body_flip_choice), image b is mirrored left-right if
     * horizontal and top-bottom if vertical. out must not be in. Run on the output's
     * gradient with the same seed and stream, it is its own backward. */
    void (*random_flip)(float *out, const float *in, const nn_flip_geometry *geometry,
                        uint64_t seed, uint64_t stream);

    /* Random affine augmentation: each image's transform drawn from Philox blocks 2b
     * and 2b + 1 of (seed, stream) (nn_body_affine_of), every output point sampled from
     * the input there. out must not be in. */
    void (*random_affine)(float *out, const float *in, const nn_affine_geometry *geometry,
                          uint64_t seed, uint64_t stream);
    /* Its adjoint: din = each output gradient spread over the input points it was read
     * from, with the same weights (din is overwritten; points read through the fill
     * mode get theirs too). */
    void (*random_affine_backward)(float *din, const float *dout,
                                   const nn_affine_geometry *geometry, uint64_t seed,
                                   uint64_t stream);

    /* Random contrast or brightness: image b's draw from uniform number 0 of Philox block
     * b of (seed, stream) (nn_body_color_draw), every plane adjusted and clipped to the
     * value range. out must not be in. */
    void (*random_color)(float *out, const float *in, const nn_color_geometry *geometry,
                         uint64_t seed, uint64_t stream);
    /* Its backward: din from dout and the forward's input, the gradient passing where the
     * output was not clipped (and, for contrast, through each plane's mean). */
    void (*random_color_backward)(float *din, const float *dout, const float *in,
                                  const nn_color_geometry *geometry, uint64_t seed,
                                  uint64_t stream);

    /* Batch normalisation with the batch's statistics: mean (C) and inv_std (C) receive
     * the batch mean and 1/sqrt(biased variance + epsilon), moving_mean and
     * moving_variance (C) move toward them, y = (x - mean) · inv_std · gamma + beta
     * (gamma, beta (C) may be NULL: 1 and 0). */
    size_t (*batchnorm_scratch_floats)(const nn_batchnorm_geometry *geometry);
    void (*batchnorm_forward_training)(float *y, float *mean, float *inv_std,
                                       float *moving_mean, float *moving_variance,
                                       const float *x, const float *gamma, const float *beta,
                                       const nn_batchnorm_geometry *geometry, float *scratch);
    /* The same with fixed statistics: mean and inv_std (C) are computed from the moving
     * averages, then y as above. */
    void (*batchnorm_forward_inference)(float *y, float *mean, float *inv_std,
                                        const float *x, const float *gamma, const float *beta,
                                        const float *moving_mean, const float *moving_variance,
                                        const nn_batchnorm_geometry *geometry);
    /* dgamma, dbeta (C, each may be NULL) and dx (may be NULL) from dy, with the mean and
     * inv_std forward used; batch_statistics says whether those came from the batch (the
     * gradient then flows through them too). */
    void (*batchnorm_backward)(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *mean,
                               const float *inv_std, bool batch_statistics,
                               const nn_batchnorm_geometry *geometry, float *scratch);

    /* Group normalisation (see nn_group_norm_geometry): mean and inv_std (samples · groups)
     * receive each group's mean and 1/sqrt(biased variance + epsilon) (root_mean_square:
     * 0 and 1/sqrt(mean(x²) + epsilon)), y = (x - mean) · inv_std · gamma + beta (gamma,
     * beta (channels) may be NULL: 1 and 0). */
    void (*group_norm_forward)(float *y, float *mean, float *inv_std, const float *x,
                               const float *gamma, const float *beta,
                               const nn_group_norm_geometry *geometry);
    /* dx (the input's shape), dgamma and dbeta (channels), each may be NULL, from dy with
     * the mean and inv_std forward gave. */
    void (*group_norm_backward)(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *mean,
                                const float *inv_std, const nn_group_norm_geometry *geometry);

    /* out (d1, d0, inner) = inp (d0, d1, inner): the two leading axes swapped, as a
     * recurrent layer turns a batch (B, T, F) into time steps (T, B, F) and back. */
    void (*swap_leading_axes)(float *out, const float *inp, int64_t d0, int64_t d1,
                              int64_t inner);

    /* One SimpleRNN step: preact (rows, units) = xw + hu is kept for backward and
     * h = act(preact). */
    void (*simple_rnn_cell_forward)(float *h, float *preact, const float *xw, const float *hu,
                                    const nn_recurrent_cell *cell);
    /* One LSTM step for `rows` samples of `units` (Keras' gate order i, f, c, o in each
     * row of 4·units): preact (rows, 4·units) = xw + hu (the input's and the state's
     * products, bias included) and gates (rows, 5·units), the activated i, f, c̃, o and
     * act(c), are kept for backward; c = rec(f)·c_prev + rec(i)·act(c̃), h = rec(o)·act(c)
     * (rows, units). */
    void (*lstm_cell_forward)(float *h, float *c, float *preact, float *gates,
                              const float *xw, const float *hu, const float *c_prev,
                              const nn_recurrent_cell *cell);
    /* Given dh (rows, units), the whole gradient reaching h, and dc (rows, units), the
     * gradient reaching c from the next step (0 at the last), writes dpreact (rows,
     * 4·units) and replaces dc by the gradient reaching c_prev through this step. */
    void (*lstm_cell_backward)(float *dpreact, float *dc, const float *dh, const float *preact,
                               const float *gates, const float *c_prev, const float *c,
                               const nn_recurrent_cell *cell);
    /* Keras' Normalization (see nn_normalize_geometry), std = max(sqrt(variance[c]), 1e-7):
     * y = (x - mean[c]) / std, or mean[c] + x · std with invert; with `gradient`, x is the
     * output's gradient and y the input's: x / std, or x · std (mean unread). mean and
     * variance NULL: the geometry's two numbers. y may be x. */
    void (*normalize)(float *y, const float *x, const float *mean, const float *variance,
                      const nn_normalize_geometry *g, bool gradient);
    /* Discretization's buckets of n numbers (see nn_category_geometry), and
     * CategoryEncoding's vectors of rows of ids (or of buckets). */
    void (*bucketize)(float *out, const float *x, size_t n, const nn_category_geometry *g);
    void (*category_encode)(float *out, const float *x, const nn_category_geometry *g);
    /* UnitNormalization (see nn_unit_norm_geometry), and its gradient from the output's
     * and the forward's input. */
    void (*unit_norm_forward)(float *y, const float *x, const nn_unit_norm_geometry *g);
    void (*unit_norm_backward)(float *dx, const float *dy, const float *x,
                               const nn_unit_norm_geometry *g);
    /* One GRU step, Keras' reset_after form (gate order z, r, h in each row of 3·units):
     * xw and hu (rows, 3·units) are the input's and the state's products, each with its
     * own bias; z = rec(xw_z + hu_z), r = rec(xw_r + hu_r), h̃ = act(xw_h + r·hu_h),
     * h = z·h_prev + (1 - z)·h̃. preact (rows, 3·units) keeps the three pre-activations,
     * gates (rows, 3·units) z, r and h̃, and hu_h (rows, units) the state's candidate
     * part, for backward. */
    void (*gru_cell_forward)(float *h, float *preact, float *gates, float *hu_h,
                             const float *xw, const float *hu, const float *h_prev,
                             const nn_recurrent_cell *cell);
    /* Given dh (rows, units), the whole gradient reaching h, writes dxw and dhu (rows,
     * 3·units), the gradients of the two products, and dh_prev (rows, units), the part of
     * h_prev's gradient that does not pass through the recurrent kernel. */
    void (*gru_cell_backward)(float *dxw, float *dhu, float *dh_prev, const float *dh,
                              const float *preact, const float *gates, const float *hu_h,
                              const float *h_prev, const nn_recurrent_cell *cell);
    /* Embedding lookup: out (count, dim) row i = table (rows, dim) row indices[i]. The
     * indices (count) are floats holding whole numbers, which the layer checks on the
     * host before they get here; one outside [0, rows) all the same gives a row of zeros,
     * never a read outside the table. */
    void (*embedding_gather)(float *out, const float *table, const float *indices,
                             int64_t count, int64_t rows, int64_t dim);
    /* dtable (rows, dim), overwritten: zero, then each row i of dout (count, dim) added to
     * row indices[i], in index order for every element, so a repeated index sums its
     * gradients the same way on every backend and run (rows never named stay zero). */
    void (*embedding_gather_backward)(float *dtable, const float *dout, const float *indices,
                                      int64_t count, int64_t rows, int64_t dim);

    /* ---- loss, metrics, regularizers ---- */

    /* *loss = mean loss of pred (B,W) against labels (B rows, as floats), each row's
     * weighed by row_weights (B; NULL: none); dlogits (B,W) (NULL: none) = its gradient
     * with respect to the last layer's pre-activation logits (B,W); see
     * nn_loss_forward_backward for the exact rules. */
    void (*loss_forward_backward)(double *loss, float *dlogits, const nn_loss *loss_kind,
                                  nn_activation last, const float *pred, const float *logits,
                                  const float *labels, const float *row_weights,
                                  int64_t batch, int64_t width);
    /* *sum += the metric summed over the batch's rows, each row's value times
     * row_weights[b] (B; NULL: none) (nn_metric_weighted_sum). */
    void (*metric_sum)(double *sum, const nn_metric *metric, const float *pred,
                       const float *labels, const float *row_weights, int64_t batch,
                       int64_t width);
    /* counts (2 * thresholds) += AUC's counts of the n values of pred (rows of width) by
     * bucket and label, each counting its row's weight (row_weights NULL: 1)
     * (nn_metric_curve_counts). */
    void (*curve_counts)(double *counts, const float *pred, const float *labels,
                         const float *row_weights, int64_t n, int64_t width,
                         int64_t thresholds);
    /* *penalty += l1·Σ|w| + l2·Σw² over weights (n); grad (n, or NULL) += its gradient.
     * Activity regularizers use it too, on a layer's output, with l1 and l2 divided by
     * the batch's rows (nn_layer_activity_penalty). */
    void (*weight_penalty)(double *penalty, float *grad, const float *weights, size_t n,
                           nn_regularizer regularizer);

    /* ---- updates ---- */

    /* One optimizer step over weights (count) from grads, with the state slots (count
     * floats each; NULL where the optimizer has none), nn_optimizer_step's formulas.
     * iteration counts this step (1 for the first). decay_mask (count bytes, or NULL for
     * all) selects the weights weight decay applies to. When guard is not NULL and its
     * total loss is not finite, the step leaves everything unchanged. */
    void (*optimizer_step)(float *weights, float *const slots[3], const float *grads,
                           const unsigned char *decay_mask, const nn_optimizer_config *config,
                           long long iteration, size_t count, const nn_batch_stats *guard);
    /* Projects weights of `shape` onto the constraint (nn_constraint_apply's formulas),
     * unless guard (may be NULL) holds a non-finite loss. */
    size_t (*constraint_scratch_floats)(const nn_constraint *constraint, const nn_shape *shape);
    void (*constraint_apply)(float *weights, const nn_constraint *constraint,
                             const nn_shape *shape, const nn_batch_stats *guard,
                             float *scratch);
} nn_backend;

/* The CPU backend (its own kernels under OpenMP). Always present. */
const nn_backend *nn_backend_cpu(void);

/* A backend for testing the device code paths without a GPU: the CPU kernels, over
 * memory the host cannot touch (every access outside a backend call faults). */
const nn_backend *nn_backend_emulated(void);

#endif
