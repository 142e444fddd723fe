/* Direct convolution for stride 1 and one group, channels-last: no im2col matrix. The
 * input is copied once into a zero-padded buffer, after which every tap of every output
 * pixel is a plain pointer offset, and register tiles (conv_tiles_*.c) read it in place:
 *   forward        out = relu?(conv(inp, kernel) + bias)         6 pixels × 64 channels
 *                  or, fused with 2×2 max pooling, one window     4 pixels × 64 channels
 *   input gradient dinp = conv(padded dout, flipped kernelᵀ)      the same tiles
 *   kernel and bias gradients, summed image by image in a fixed order.
 * 3×3 layers wide enough go through Winograd's F(2×2, 3×3) instead (conv2d_winograd.c),
 * which uses the same tiles for its products. Work is split across OpenMP threads by
 * output tile, by rows of the kernel gradient, or by fixed parts of the batch summed
 * apart and added in order, so every value comes out the same whatever the thread
 * count. */
#include <omp.h>
#include <string.h>

#include "conv_tiles.h"
#include "conv_winograd.h"
#include "cpu_kernels.h"

/* Floats of padded images held at once (8 MiB): the seed CNN's batch of 64 is one
 * chunk, while a predict over thousands of images pads them a chunk at a time. The
 * chunk size depends only on the geometry, so sums never depend on the thread count. */
enum { PADDED_BUDGET_FLOATS = 1 << 21 };

/* Below this many multiply-adds a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 16 };

/* Pixels one weight-gradient call sums before adding to the running total: float
 * rounding then grows with a few hundred terms, not with the whole batch. */
enum { SUM_RUN = 256 };

/* With fewer weight-gradient items than this (a first layer's 3×3×1 kernel has two;
 * counted on the portable tiles' blocks at every level), threads would idle: the images
 * are then split into GRADIENT_PARTS parts, each summed into its own copy in scratch, and the copies added in order; a fixed split, so the
 * result never depends on the thread count. Only for kernels of at most
 * SMALL_KERNEL_FLOATS, which is what the copies cost. */
enum { FEW_GRADIENT_ITEMS = 8, GRADIENT_PARTS = 8, SMALL_KERNEL_FLOATS = 1 << 16 };

/* Scratch is sized for the widest vectors of any level (AVX-512: 16 floats). */
enum { WIDEST_VECTOR = 16 };

/* Items per hand-out of a dynamically scheduled loop: about an eighth of each thread's
 * share, at least one. Scheduling never changes a value, only who computes it. */
static int run_length(long items)
{
    long run = items / (8L * omp_get_max_threads());
    return run > 1 ? (int)(run < 4096 ? run : 4096) : 1;
}

/* The tiles for the active vector level. */
static const nn_conv_tiles *active_tiles(void)
{
    switch (nn_simd_active()) {
    case NN_SIMD_AVX512:
        return &nn_conv_tiles_avx512;
    case NN_SIMD_AVX2:
        return &nn_conv_tiles_avx2;
    default:
        return &nn_conv_tiles_portable;
    }
}

bool nn_cpu_conv2d_direct_applies(const nn_conv2d_geometry *g)
{
    return g->groups == 1 && g->stride_height == 1 && g->stride_width == 1;
}

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

/* How a batch of images sits in a zero-padded buffer. */
typedef struct padding {
    int top, bottom, left, right;
    int height, width; /* padded */
} padding;

static size_t padded_floats(const padding *p, int channels)
{
    return (size_t)p->height * (size_t)p->width * (size_t)channels;
}

static bool needs_padding(const padding *p)
{
    return p->top || p->bottom || p->left || p->right;
}

/* The input as forward and the weight gradient read it: every tap of every output pixel
 * inside the buffer. */
static padding input_padding(const nn_conv2d_geometry *g)
{
    padding p = {.top = g->pad_top, .left = g->pad_left};
    int last_row = g->out_height - 1 + (g->kernel_height - 1) * g->dilation_height - g->pad_top;
    int last_col = g->out_width - 1 + (g->kernel_width - 1) * g->dilation_width - g->pad_left;
    p.bottom = last_row > g->in_height - 1 ? last_row - (g->in_height - 1) : 0;
    p.right = last_col > g->in_width - 1 ? last_col - (g->in_width - 1) : 0;
    p.height = p.top + g->in_height + p.bottom;
    p.width = p.left + g->in_width + p.right;
    return p;
}

/* The output gradient as the input gradient reads it: input pixel (h, w) gathers tap
 * (i, j) of the flipped kernel from padded row h + i·dilation, column w + j·dilation. */
static padding output_gradient_padding(const nn_conv2d_geometry *g)
{
    padding p;
    p.top = (g->kernel_height - 1) * g->dilation_height - g->pad_top;
    p.left = (g->kernel_width - 1) * g->dilation_width - g->pad_left;
    p.height = g->in_height + (g->kernel_height - 1) * g->dilation_height;
    p.width = g->in_width + (g->kernel_width - 1) * g->dilation_width;
    p.bottom = p.height - p.top - g->out_height;
    p.right = p.width - p.left - g->out_width;
    return p;
}

static int images_per_chunk(const nn_conv2d_geometry *g)
{
    padding in = input_padding(g), dout = output_gradient_padding(g);
    size_t per_image = padded_floats(&in, g->in_channels) + padded_floats(&dout, g->out_channels);
    size_t images = PADDED_BUDGET_FLOATS / per_image;
    if (images < 1)
        images = 1;
    if (images > (size_t)g->batch)
        images = (size_t)g->batch;
    return (int)images;
}

static size_t patch_length(const nn_conv2d_geometry *g)
{
    return (size_t)g->kernel_height * (size_t)g->kernel_width * (size_t)g->in_channels;
}

static size_t flipped_patch_length(const nn_conv2d_geometry *g)
{
    return (size_t)g->kernel_height * (size_t)g->kernel_width * (size_t)g->out_channels;
}

/* Scratch layout, each part starting on a 64-byte boundary: [a packed or transformed
 * kernel] [padded input chunk] [padded output-gradient chunk] [Winograd's per-thread
 * slots] [Winograd's kernel-gradient partial sums] [small kernel gradients' partial
 * sums]. A part is touched only when used, so unused ones cost no resident memory. */
typedef struct scratch_layout {
    size_t panel, padded_input, padded_dout, winograd_slots, winograd_partials;
    size_t gradient_partials, total;
} scratch_layout;

static size_t larger(size_t a, size_t b) { return a > b ? a : b; }

static scratch_layout layout_of(const nn_conv2d_geometry *g)
{
    scratch_layout s;
    int chunk = images_per_chunk(g);
    padding in = input_padding(g), dout = output_gradient_padding(g);
    const int channels = g->in_channels, filters = g->out_channels;
    size_t forward_panel = patch_length(g) * round_up((size_t)filters, WIDEST_VECTOR);
    size_t flipped_panel = flipped_patch_length(g) * round_up((size_t)channels, WIDEST_VECTOR);
    s.panel = round_up(larger(forward_panel, flipped_panel), 16);
    s.winograd_slots = s.winograd_partials = 0;
    if (nn_winograd_applies(g)) {
        s.winograd_partials = nn_winograd_partials_floats(channels, filters);
        s.panel = round_up(larger(s.panel, larger(nn_winograd_kernel_floats(channels, filters),
                                                  nn_winograd_kernel_floats(filters, channels))),
                           16);
        s.winograd_slots = NN_WINOGRAD_SLOTS * larger(nn_winograd_slot_floats(channels, filters),
                                                      nn_winograd_slot_floats(filters, channels));
    }
    s.padded_input =
        needs_padding(&in) ? round_up((size_t)chunk * padded_floats(&in, channels), 16) : 0;
    s.padded_dout = round_up((size_t)chunk * padded_floats(&dout, filters), 16);
    size_t kernel_floats = patch_length(g) * (size_t)filters + (size_t)filters; /* and bias */
    s.gradient_partials =
        kernel_floats <= SMALL_KERNEL_FLOATS ? round_up(GRADIENT_PARTS * kernel_floats, 16) : 0;
    s.total = s.panel + s.padded_input + s.padded_dout + s.winograd_slots +
              s.winograd_partials + s.gradient_partials;
    return s;
}

static float *winograd_slots(float *scratch, const scratch_layout *s)
{
    return scratch + s->panel + s->padded_input + s->padded_dout;
}

static float *winograd_partials(float *scratch, const scratch_layout *s)
{
    return winograd_slots(scratch, s) + s->winograd_slots;
}

static float *gradient_partials(float *scratch, const scratch_layout *s)
{
    return winograd_partials(scratch, s) + s->winograd_partials;
}

size_t nn_cpu_conv2d_direct_scratch_floats(const nn_conv2d_geometry *geometry)
{
    if (geometry->batch <= 0)
        return 0;
    return layout_of(geometry).total;
}

/* dst (images, p.height, p.width, C) = src (images, H, W, C) framed by zeros. */
static void pad_images(float *dst, const float *src, int images, int height, int width,
                       int channels, const padding *p)
{
    const size_t row_floats = (size_t)width * (size_t)channels;
    const size_t padded_row = (size_t)p->width * (size_t)channels;
    const size_t left = (size_t)p->left * (size_t)channels;
    const size_t right = (size_t)p->right * (size_t)channels;
    const size_t work = (size_t)images * (size_t)p->height * padded_row;
#pragma omp parallel for collapse(2) schedule(static) if (work > PARALLEL_THRESHOLD)
    for (int image = 0; image < images; image++) {
        for (int row = 0; row < p->height; row++) {
            float *target = dst + ((size_t)image * (size_t)p->height + (size_t)row) * padded_row;
            int source_row = row - p->top;
            if (source_row < 0 || source_row >= height) {
                memset(target, 0, sizeof(float) * padded_row);
                continue;
            }
            const float *source =
                src + ((size_t)image * (size_t)height + (size_t)source_row) * row_floats;
            memset(target, 0, sizeof(float) * left);
            memcpy(target + left, source, sizeof(float) * row_floats);
            memset(target + left + row_floats, 0, sizeof(float) * right);
        }
    }
}

/* The column blocks of a panel for these tiles: block b covers columns [n0, n0 + cols)
 * stored `vectors` vectors wide. */
typedef struct column_block {
    int first, cols, vectors;
} column_block;

static column_block block_at(const nn_conv_tiles *tiles, int columns, int first)
{
    int full = tiles->vector_floats * tiles->block_vectors;
    column_block b = {.first = first, .cols = columns - first < full ? columns - first : full};
    b.vectors = (b.cols + tiles->vector_floats - 1) / tiles->vector_floats;
    return b;
}

static int block_width(const nn_conv_tiles *tiles)
{
    return tiles->vector_floats * tiles->block_vectors;
}

/* Row `row` of a panel block `width` floats wide: `cols` values `stride` apart in the
 * source, then zeros. */
static void pack_row(float *target, int width, const float *source, int cols,
                     ptrdiff_t stride)
{
    for (int c = 0; c < cols; c++)
        target[c] = source[c * stride];
    for (int c = cols; c < width; c++)
        target[c] = 0.0f;
}

/* The forward panel: the kernel (KH,KW,C,OC) read as a (K, OC) matrix, in blocks. */
static void pack_kernel(float *panel, const nn_conv_tiles *tiles, const float *kernel,
                        const nn_conv2d_geometry *g)
{
    const int rows = (int)patch_length(g), columns = g->out_channels;
    for (int first = 0; first < columns; first += block_width(tiles)) {
        column_block b = block_at(tiles, columns, first);
        int width = b.vectors * tiles->vector_floats;
        float *target = panel + (size_t)rows * (size_t)first;
        for (int r = 0; r < rows; r++, target += width)
            pack_row(target, width, kernel + (size_t)r * (size_t)columns + first, b.cols, 1);
    }
}

/* The input gradient's panel: rows (i', j', oc), columns c, holding kernel tap
 * (KH-1-i', KW-1-j') transposed, in blocks. */
static void pack_flipped_kernel(float *panel, const nn_conv_tiles *tiles, const float *kernel,
                                const nn_conv2d_geometry *g)
{
    const int taps = g->kernel_height * g->kernel_width;
    const int filters = g->out_channels, columns = g->in_channels;
    const size_t rows = flipped_patch_length(g);
    const size_t tap_floats = (size_t)columns * (size_t)filters;
    for (int first = 0; first < columns; first += block_width(tiles)) {
        column_block b = block_at(tiles, columns, first);
        int width = b.vectors * tiles->vector_floats;
        float *target = panel + rows * (size_t)first;
        for (int tap = 0; tap < taps; tap++) {
            const float *source = kernel + (size_t)(taps - 1 - tap) * tap_floats;
            for (int oc = 0; oc < filters; oc++, target += width)
                pack_row(target, width, source + (size_t)first * (size_t)filters + oc, b.cols,
                         filters);
        }
    }
}

/* Where column block n0 of a panel starts, setting the taps' weight stride to match:
 * a packed block is `width` floats wide; a plain matrix keeps its row length. */
static const float *block_weights(nn_conv_taps *taps, const float *panel, ptrdiff_t stride,
                                  size_t patch, int n0, int width)
{
    taps->weight_stride = stride ? stride : width;
    return stride ? panel + n0 : panel + patch * (size_t)n0;
}

/* The forward kernel (K, OC) as the tiles read it: in place when every row is a whole
 * number of vectors (returns its row length), else packed into `panel` (returns 0). */
static ptrdiff_t forward_weights(float *panel, const nn_conv_tiles *tiles, const float *kernel,
                                 const nn_conv2d_geometry *g, const float **weights)
{
    if (g->out_channels % tiles->vector_floats == 0) {
        *weights = kernel;
        return g->out_channels;
    }
    pack_kernel(panel, tiles, kernel, g);
    *weights = panel;
    return 0;
}

/* One convolution over padded images, in the tiles' terms. */
typedef struct direct_pass {
    const float *src;         /* padded images */
    size_t image_floats;      /* floats per padded image */
    ptrdiff_t row_floats;     /* floats per padded row */
    int channels;             /* of src */
    nn_conv_taps taps;
    int out_height, out_width, filters;
    const float *panel;       /* (taps·channels, filters): packed in blocks, or ... */
    ptrdiff_t panel_stride;   /* ... when not 0, a plain row-major matrix with rows this long */
    const float *bias;        /* (filters) or NULL */
    bool relu;
} direct_pass;

/* out (images, out_height, out_width, filters) from the pass, tile by tile. */
static void run_tiles(float *out, int images, const direct_pass *p, const nn_conv_tiles *tiles)
{
    const int pixels = p->out_height * p->out_width;
    const int tiles_per_image = (pixels + NN_CONV_TILE_ROWS - 1) / NN_CONV_TILE_ROWS;
    const long items = (long)images * tiles_per_image;
    const size_t patch = (size_t)p->taps.kernel_height * (size_t)p->taps.kernel_width *
                         (size_t)p->channels;
    const size_t work = (size_t)images * (size_t)pixels * patch * (size_t)p->filters;
    /* Tiles are independent: handed out in runs of about an eighth of a thread's share,
     * so a thread that another program holds up costs its neighbour a run, not half the
     * work. */
    const int run = run_length(items);
#pragma omp parallel for schedule(dynamic, run) if (work > PARALLEL_THRESHOLD)
    for (long item = 0; item < items; item++) {
        int image = (int)(item / tiles_per_image);
        int first = (int)(item % tiles_per_image) * NN_CONV_TILE_ROWS;
        int rows = pixels - first < NN_CONV_TILE_ROWS ? pixels - first : NN_CONV_TILE_ROWS;
        const float *x[NN_CONV_TILE_ROWS];
        const float *image_src = p->src + (size_t)image * p->image_floats;
        for (int r = 0; r < NN_CONV_TILE_ROWS; r++) {
            /* Spare rows of a short last tile repeat its last pixel: readable, unused. */
            int pixel = first + (r < rows ? r : rows - 1);
            int y = pixel / p->out_width, x_pos = pixel % p->out_width;
            x[r] = image_src + y * p->row_floats + (ptrdiff_t)x_pos * p->channels;
        }
        float *target = out + ((size_t)image * (size_t)pixels + (size_t)first) * (size_t)p->filters;
        for (int n0 = 0; n0 < p->filters; n0 += block_width(tiles)) {
            column_block b = block_at(tiles, p->filters, n0);
            nn_conv_taps taps = p->taps;
            const float *weights = block_weights(&taps, p->panel, p->panel_stride, patch, n0,
                                                 b.vectors * tiles->vector_floats);
            tiles->forward(target + n0, p->filters, x, &taps, p->channels, weights, b.vectors,
                           p->bias ? p->bias + n0 : NULL, p->relu, rows, b.cols);
        }
    }
}

/* The taps of the kernel over an image padded as `p`. */
static nn_conv_taps taps_over(const nn_conv2d_geometry *g, const padding *p, int channels)
{
    return (nn_conv_taps){.kernel_height = g->kernel_height,
                          .kernel_width = g->kernel_width,
                          .row_step = (ptrdiff_t)g->dilation_height * p->width * channels,
                          .col_step = (ptrdiff_t)g->dilation_width * channels};
}

void nn_cpu_conv2d_direct_forward(float *out, const float *inp, const float *kernel,
                                  const float *bias, bool relu,
                                  const nn_conv2d_geometry *geometry, float *scratch)
{
    /* out (B,OH,OW,OC), inp (B,H,W,C), kernel (KH,KW,C,OC), bias (OC) or NULL; scratch
     * (nn_cpu_conv2d_direct_scratch_floats). */
    const nn_conv2d_geometry *g = geometry;
    const nn_conv_tiles *tiles = active_tiles();
    scratch_layout s = layout_of(g);
    const bool winograd = nn_winograd_applies(g);
    const float *weights = NULL;
    ptrdiff_t weight_stride = 0;
    if (winograd)
        nn_winograd_transform_kernel(scratch, kernel, g->in_channels, g->out_channels, false);
    else
        weight_stride = forward_weights(scratch, tiles, kernel, g, &weights);
    padding pad = input_padding(g);
    float *padded = needs_padding(&pad) ? scratch + s.panel : NULL;
    const size_t image_in = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const size_t image_out = (size_t)g->out_height * (size_t)g->out_width * (size_t)g->out_channels;
    const int chunk = images_per_chunk(g);
    for (int first = 0; first < g->batch; first += chunk) {
        int images = g->batch - first < chunk ? g->batch - first : chunk;
        const float *src = inp + (size_t)first * image_in;
        if (needs_padding(&pad)) {
            pad_images(padded, src, images, g->in_height, g->in_width, g->in_channels, &pad);
            src = padded;
        }
        if (winograd) {
            nn_winograd_pass w = {.src = src,
                                  .images = images,
                                  .image_floats = padded_floats(&pad, g->in_channels),
                                  .row_floats = (ptrdiff_t)pad.width * g->in_channels,
                                  .channels = g->in_channels,
                                  .out_height = g->out_height,
                                  .out_width = g->out_width,
                                  .filters = g->out_channels,
                                  .kernel = scratch,
                                  .bias = bias,
                                  .relu = relu,
                                  .out = out + (size_t)first * image_out};
            nn_winograd_convolve(&w, tiles, winograd_slots(scratch, &s));
            continue;
        }
        direct_pass p = {.src = src,
                         .image_floats = padded_floats(&pad, g->in_channels),
                         .row_floats = (ptrdiff_t)pad.width * g->in_channels,
                         .channels = g->in_channels,
                         .taps = taps_over(g, &pad, g->in_channels),
                         .out_height = g->out_height,
                         .out_width = g->out_width,
                         .filters = g->out_channels,
                         .panel = weights,
                         .panel_stride = weight_stride,
                         .bias = bias,
                         .relu = relu};
        run_tiles(out + (size_t)first * image_out, images, &p, tiles);
    }
}

bool nn_cpu_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool)
{
    return nn_cpu_conv2d_direct_applies(conv) && pool->pool_height == 2 &&
           pool->pool_width == 2 && pool->stride_height == 2 && pool->stride_width == 2 &&
           pool->pad_top == 0 && pool->pad_left == 0 && pool->in_height == conv->out_height &&
           pool->in_width == conv->out_width && pool->channels == conv->out_channels &&
           pool->out_height == conv->out_height / 2 && pool->out_width == conv->out_width / 2 &&
           pool->batch == conv->batch;
}

void nn_cpu_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax, const float *inp,
                                     const float *kernel, const float *bias, bool relu,
                                     const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool, float *scratch)
{
    /* pooled and argmax (B,PH,PW,OC) as max pooling would leave them after forward; the
     * convolution's own output (B,OH,OW,OC) is never written. Scratch as forward's. */
    const nn_conv2d_geometry *g = conv;
    const nn_conv_tiles *tiles = active_tiles();
    scratch_layout s = layout_of(g);
    /* Winograd's 2×2 output tiles are exactly the pooling windows. */
    const bool winograd = nn_winograd_applies(g);
    const float *weights = NULL;
    ptrdiff_t weight_stride = 0;
    if (winograd)
        nn_winograd_transform_kernel(scratch, kernel, g->in_channels, g->out_channels, false);
    else
        weight_stride = forward_weights(scratch, tiles, kernel, g, &weights);
    padding pad = input_padding(g);
    float *padded = needs_padding(&pad) ? scratch + s.panel : NULL;
    const size_t image_in = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const int filters = g->out_channels;
    const size_t patch = patch_length(g);
    const int windows = pool->out_height * pool->out_width;
    const nn_conv_taps taps = taps_over(g, &pad, g->in_channels);
    const ptrdiff_t row_floats = (ptrdiff_t)pad.width * g->in_channels;
    const size_t image_floats = padded_floats(&pad, g->in_channels);
    const int chunk = images_per_chunk(g);
    for (int first = 0; first < g->batch; first += chunk) {
        int images = g->batch - first < chunk ? g->batch - first : chunk;
        const float *src = inp + (size_t)first * image_in;
        if (needs_padding(&pad)) {
            pad_images(padded, src, images, g->in_height, g->in_width, g->in_channels, &pad);
            src = padded;
        }
        if (winograd) {
            size_t window_at = (size_t)first * (size_t)windows * (size_t)filters;
            nn_winograd_pass w = {
                .src = src,
                .images = images,
                .image_floats = image_floats,
                .row_floats = row_floats,
                .channels = g->in_channels,
                .out_height = g->out_height,
                .out_width = g->out_width,
                .filters = filters,
                .kernel = scratch,
                .bias = bias,
                .relu = relu,
                .pooled = pooled + window_at,
                .argmax = argmax ? argmax + window_at : NULL,
                .first_index = (size_t)first * (size_t)g->out_height * (size_t)g->out_width *
                               (size_t)filters};
            nn_winograd_convolve(&w, tiles, winograd_slots(scratch, &s));
            continue;
        }
        const long items = (long)images * windows;
        const size_t work = (size_t)items * 4 * patch * (size_t)filters;
        /* Independent windows, handed out in runs as in run_tiles. */
        const int run = run_length(items);
#pragma omp parallel for schedule(dynamic, run) if (work > PARALLEL_THRESHOLD)
        for (long item = 0; item < items; item++) {
            int image = (int)(item / windows), window = (int)(item % windows);
            int py = window / pool->out_width, px = window % pool->out_width;
            const float *x[4];
            int32_t at[4];
            for (int r = 0; r < 4; r++) {
                /* The pooling window row by row: (0,0) (0,1) (1,0) (1,1). */
                int y = 2 * py + r / 2, x_pos = 2 * px + r % 2;
                x[r] = src + (size_t)image * image_floats + y * row_floats +
                       (ptrdiff_t)x_pos * g->in_channels;
                at[r] = (int32_t)((((size_t)(first + image) * (size_t)g->out_height + (size_t)y) *
                                       (size_t)g->out_width + (size_t)x_pos) * (size_t)filters);
            }
            size_t out_at = ((size_t)(first + image) * (size_t)windows + (size_t)window) *
                            (size_t)filters;
            for (int n0 = 0; n0 < filters; n0 += block_width(tiles)) {
                column_block b = block_at(tiles, filters, n0);
                int32_t first_index[4];
                for (int r = 0; r < 4; r++)
                    first_index[r] = at[r] + n0;
                nn_conv_taps block_taps = taps;
                const float *block = block_weights(&block_taps, weights, weight_stride, patch, n0,
                                                   b.vectors * tiles->vector_floats);
                tiles->forward_pooled(pooled + out_at + n0, argmax ? argmax + out_at + n0 : NULL,
                                      x, first_index, &block_taps, g->in_channels, block,
                                      b.vectors, bias ? bias + n0 : NULL, relu, b.cols);
            }
        }
    }
}

/* One unit of weight-gradient work: `count` kernel rows from `first_row` of column
 * block `block`, or (count 0) the bias gradient of that block. */
typedef struct gradient_item {
    column_block block;
    int first_row, count;
} gradient_item;

/* Item `index` of the list: every block's row tiles in order, then (with a bias) one
 * bias item per block. Returns false past the end. */
static bool gradient_item_at(gradient_item *item, long index, const nn_conv_tiles *tiles,
                             int rows, int columns, bool with_kernel, bool with_bias)
{
    for (int n0 = 0; with_kernel && n0 < columns; n0 += block_width(tiles)) {
        column_block b = block_at(tiles, columns, n0);
        int per_tile = tiles->gradient_rows(b.vectors);
        long tiles_here = (rows + per_tile - 1) / per_tile;
        if (index < tiles_here) {
            item->block = b;
            item->first_row = (int)index * per_tile;
            item->count = rows - item->first_row < per_tile ? rows - item->first_row : per_tile;
            return true;
        }
        index -= tiles_here;
    }
    for (int n0 = 0; with_bias && n0 < columns; n0 += block_width(tiles), index--) {
        if (index == 0) {
            *item = (gradient_item){.block = block_at(tiles, columns, n0)};
            return true;
        }
    }
    return false;
}

static long gradient_item_count(const nn_conv_tiles *tiles, int rows, int columns,
                                bool with_kernel, bool with_bias)
{
    long count = 0;
    gradient_item item;
    while (gradient_item_at(&item, count, tiles, rows, columns, with_kernel, with_bias))
        count++;
    return count;
}

/* What one weight-gradient pass reads. */
typedef struct gradient_pass {
    const float *src;       /* padded input images */
    size_t image_floats;    /* floats per padded image */
    ptrdiff_t row_floats;   /* floats per padded row */
    const float *dout;      /* (images, OH, OW, OC) */
    const nn_conv2d_geometry *g;
    nn_conv_taps taps;
    int rows;               /* of the kernel gradient: KH·KW·C */
    int band;               /* output rows summed per call */
} gradient_pass;

/* Item `index` over images [first, last): its kernel rows (or bias) from dkernel
 * (stride OC) and dbias, added to them when `accumulate`, else written. */
static void gradient_item_run(float *dkernel, float *dbias, const gradient_pass *p,
                              const nn_conv_tiles *tiles, long index, bool with_kernel,
                              bool with_bias, int first, int last, bool accumulate)
{
    const nn_conv2d_geometry *g = p->g;
    const int channels = g->in_channels, filters = g->out_channels;
    gradient_item item;
    gradient_item_at(&item, index, tiles, p->rows, filters, with_kernel, with_bias);
    const column_block *b = &item.block;
    ptrdiff_t offsets[16];
    for (int k = 0; k < item.count; k++) {
        int row = item.first_row + k;
        int tap = row / channels, c = row % channels;
        offsets[k] = (tap / g->kernel_width) * p->taps.row_step +
                     (tap % g->kernel_width) * p->taps.col_step + c;
    }
    for (int image = first; image < last; image++) {
        for (int y0 = 0; y0 < g->out_height; y0 += p->band) {
            int band_rows = g->out_height - y0 < p->band ? g->out_height - y0 : p->band;
            const float *src = p->src + (size_t)image * p->image_floats + y0 * p->row_floats;
            const float *d = p->dout + ((size_t)image * (size_t)g->out_height + (size_t)y0) *
                                           (size_t)g->out_width * (size_t)filters;
            bool add = accumulate || image > first || y0 > 0;
            if (item.count == 0)
                tiles->bias_gradient(dbias + b->first, d + b->first, filters,
                                     band_rows * g->out_width, b->vectors, b->cols, add);
            else
                tiles->weight_gradient(dkernel + (size_t)item.first_row * (size_t)filters +
                                           b->first,
                                       filters, item.count, offsets, src, p->row_floats,
                                       channels, band_rows, g->out_width, d + b->first,
                                       filters, b->vectors, b->cols, add);
        }
    }
}

/* dkernel (KH,KW,C,OC) and dbias (OC), either may be NULL, summed over `images` padded
 * input images and their output gradients (images, OH, OW, OC); `accumulate` adds to
 * what earlier chunks left. Every item sums the images in order. With many items,
 * threads take contiguous runs of them and walk the images in the outer loop, so an
 * image's data stays in cache for all of a thread's items; with few (see
 * FEW_GRADIENT_ITEMS), each of GRADIENT_PARTS parts of the images is summed into its
 * own copy in `partials`, and the copies are added in order. */
static void weight_gradient(float *dkernel, float *dbias, const float *padded_inp,
                            const padding *pad, const float *dout, int images,
                            bool accumulate, const nn_conv2d_geometry *g,
                            const nn_conv_tiles *tiles, float *partials)
{
    const int filters = g->out_channels;
    const bool with_kernel = dkernel != NULL, with_bias = dbias != NULL;
    gradient_pass p = {.src = padded_inp,
                       .image_floats = padded_floats(pad, g->in_channels),
                       .row_floats = (ptrdiff_t)pad->width * g->in_channels,
                       .dout = dout,
                       .g = g,
                       .taps = taps_over(g, pad, g->in_channels),
                       .rows = (int)patch_length(g)};
    /* Output rows summed per call: a few hundred pixels, so each float sum stays short
     * and the calls' results add up in a second, short chain. */
    p.band = SUM_RUN / g->out_width > 1 ? SUM_RUN / g->out_width : 1;
    const long items = gradient_item_count(tiles, p.rows, filters, with_kernel, with_bias);
    /* Whether to split the images is decided on the portable tiles' blocks, whatever the
     * level: the split changes the sums, and AVX2 and AVX-512 must give the same. */
    const long split_items = gradient_item_count(&nn_conv_tiles_portable, p.rows, filters,
                                                 with_kernel, with_bias);
    const size_t kernel_floats = (size_t)p.rows * (size_t)filters;
    const size_t work = (size_t)images * (size_t)g->out_height * (size_t)g->out_width *
                        kernel_floats;
    const int parts = split_items < FEW_GRADIENT_ITEMS && partials &&
                              kernel_floats + (size_t)filters <= SMALL_KERNEL_FLOATS
                          ? (images < GRADIENT_PARTS ? images : GRADIENT_PARTS)
                          : 1;
    if (parts > 1) {
        const size_t part_floats = kernel_floats + (size_t)filters;
        const long units = (long)parts * items;
#pragma omp parallel for schedule(dynamic, 1) if (work > PARALLEL_THRESHOLD)
        for (long unit = 0; unit < units; unit++) {
            int part = (int)(unit / items);
            float *copy = partials + (size_t)part * part_floats;
            gradient_item_run(copy, copy + kernel_floats, &p, tiles, unit % items, with_kernel,
                              with_bias, images * part / parts, images * (part + 1) / parts,
                              false);
        }
        /* The copies, added in part order. */
#pragma omp parallel for schedule(static) if (part_floats > 4096)
        for (size_t i = 0; i < part_floats; i++) {
            float *target = i < kernel_floats ? (with_kernel ? dkernel + i : NULL)
                                              : (with_bias ? dbias + (i - kernel_floats) : NULL);
            if (!target)
                continue;
            float sum = partials[i];
            for (int part = 1; part < parts; part++)
                sum += partials[(size_t)part * part_floats + i];
            *target = accumulate ? *target + sum : sum;
        }
        return;
    }
    if (images == 1) {
        /* One image (a dense layer's batch is one row of pixels): nothing to keep in
         * cache across items, so they are handed out in runs like output tiles. */
        const int run = run_length(items);
#pragma omp parallel for schedule(dynamic, run) if (work > PARALLEL_THRESHOLD)
        for (long index = 0; index < items; index++)
            gradient_item_run(dkernel, dbias, &p, tiles, index, with_kernel, with_bias, 0, 1,
                              accumulate);
        return;
    }
#pragma omp parallel if (work > PARALLEL_THRESHOLD)
    {
        int threads = omp_get_num_threads(), thread = omp_get_thread_num();
        long begin = items * thread / threads, end = items * (thread + 1) / threads;
        for (int image = 0; image < images; image++)
            for (long index = begin; index < end; index++)
                gradient_item_run(dkernel, dbias, &p, tiles, index, with_kernel, with_bias,
                                  image, image + 1, accumulate || image > 0);
    }
}

void nn_cpu_conv2d_direct_backward(float *dinp, float *dkernel, float *dbias,
                                   const float *dout, const float *inp, const float *kernel,
                                   const nn_conv2d_geometry *geometry, float *scratch)
{
    /* dinp (B,H,W,C), dkernel (KH,KW,C,OC), dbias (OC) overwritten, each may be NULL;
     * dout (B,OH,OW,OC) the gradient of the linear output; inp and kernel as forward. */
    const nn_conv2d_geometry *g = geometry;
    const nn_conv_tiles *tiles = active_tiles();
    scratch_layout s = layout_of(g);
    /* Scratch is touched only by the parts that need it: a dense layer's 1×1 weight
     * gradient needs none, and may pass none. */
    padding in_pad = input_padding(g), dout_pad = output_gradient_padding(g);
    float *panel = dinp ? scratch : NULL;
    float *padded_inp = needs_padding(&in_pad) ? scratch + s.panel : NULL;
    float *padded_dout = dinp ? scratch + s.panel + s.padded_input : NULL;
    const size_t image_in = (size_t)g->in_height * (size_t)g->in_width * (size_t)g->in_channels;
    const size_t image_out = (size_t)g->out_height * (size_t)g->out_width * (size_t)g->out_channels;
    const int chunk = images_per_chunk(g);
    const bool winograd = dinp && nn_winograd_applies(g);
    if (winograd)
        nn_winograd_transform_kernel(panel, kernel, g->out_channels, g->in_channels, true);
    else if (dinp)
        pack_flipped_kernel(panel, tiles, kernel, g);
    for (int first = 0; first < g->batch; first += chunk) {
        int images = g->batch - first < chunk ? g->batch - first : chunk;
        const float *dout_chunk = dout + (size_t)first * image_out;
        if (dkernel || dbias) {
            const float *src = inp + (size_t)first * image_in;
            if (needs_padding(&in_pad)) {
                pad_images(padded_inp, src, images, g->in_height, g->in_width, g->in_channels,
                           &in_pad);
                src = padded_inp;
            }
            if (dkernel && nn_winograd_applies(g)) {
                nn_winograd_pass w = {.src = src,
                                      .images = images,
                                      .image_floats = padded_floats(&in_pad, g->in_channels),
                                      .row_floats = (ptrdiff_t)in_pad.width * g->in_channels,
                                      .channels = g->in_channels,
                                      .out_height = g->out_height,
                                      .out_width = g->out_width,
                                      .filters = g->out_channels};
                nn_winograd_weight_gradient(dkernel, &w, dout_chunk, first > 0, tiles,
                                            winograd_partials(scratch, &s),
                                            winograd_slots(scratch, &s));
                if (dbias)
                    weight_gradient(NULL, dbias, src, &in_pad, dout_chunk, images, first > 0, g,
                                    tiles, gradient_partials(scratch, &s));
            } else {
                weight_gradient(dkernel, dbias, src, &in_pad, dout_chunk, images, first > 0, g,
                                tiles, scratch ? gradient_partials(scratch, &s) : NULL);
            }
        }
        if (winograd) {
            /* The input gradient as a convolution of the padded output gradient with the
             * flipped, transposed kernel. */
            pad_images(padded_dout, dout_chunk, images, g->out_height, g->out_width,
                       g->out_channels, &dout_pad);
            nn_winograd_pass w = {.src = padded_dout,
                                  .images = images,
                                  .image_floats = padded_floats(&dout_pad, g->out_channels),
                                  .row_floats = (ptrdiff_t)dout_pad.width * g->out_channels,
                                  .channels = g->out_channels,
                                  .out_height = g->in_height,
                                  .out_width = g->in_width,
                                  .filters = g->in_channels,
                                  .kernel = panel,
                                  .out = dinp + (size_t)first * image_in};
            nn_winograd_convolve(&w, tiles, winograd_slots(scratch, &s));
        } else if (dinp) {
            pad_images(padded_dout, dout_chunk, images, g->out_height, g->out_width,
                       g->out_channels, &dout_pad);
            direct_pass p = {.src = padded_dout,
                             .image_floats = padded_floats(&dout_pad, g->out_channels),
                             .row_floats = (ptrdiff_t)dout_pad.width * g->out_channels,
                             .channels = g->out_channels,
                             .taps = taps_over(g, &dout_pad, g->out_channels),
                             .out_height = g->in_height,
                             .out_width = g->in_width,
                             .filters = g->in_channels,
                             .panel = panel};
            run_tiles(dinp + (size_t)first * image_in, images, &p, tiles);
        }
    }
}
