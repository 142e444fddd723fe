/* Winograd's minimal filtering F(2×2, 3×3) for 3×3 convolutions with stride 1: a 2×2
 * block of outputs costs 16 multiplies per pair of channels instead of 36. Each 4×4
 * input tile is transformed (Bᵀ d B), the 16 transformed planes are multiplied by the
 * transformed kernel (G g Gᵀ) as 16 small matrix products on the direct convolution's
 * register tiles, and the products are transformed back (Aᵀ m A) straight into the
 * output, with bias, ReLU and 2×2 max pooling applied on the way out. conv2d_direct.c
 * uses it for the forward and for the input gradient (the output gradient convolved
 * with the flipped, transposed kernel) when the layer is wide enough to pay for the
 * transforms. The kernel gradient uses the dual, F(3×3, 2×2): each 4×4 input tile
 * correlated with its 2×2 block of output gradient gives that block's share of the 3×3
 * kernel gradient, so the gradient is 16 products summed over all tiles, transformed
 * back once.
 *
 * Tiles go in blocks small enough for a thread's scratch slot to stay in cache; blocks
 * are independent, so threads may take them in any order without changing a value. The
 * transforms are plain loops over channels, compiled for AVX-512, AVX2 and the baseline
 * (target_clones picks one at load time); they add and halve only, in the same order on
 * every path, so every clone computes the same bits. */
#include <omp.h>
#include <string.h>

#include "conv_tiles.h"
#include "conv_winograd.h"

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CLONES
#endif

enum { POINTS = 16 }; /* values of a transformed 4×4 tile */

bool nn_winograd_applies(const nn_conv2d_geometry *g)
{
    return g->groups == 1 && g->stride_height == 1 && g->stride_width == 1 &&
           g->kernel_height == 3 && g->kernel_width == 3 && g->dilation_height == 1 &&
           g->dilation_width == 1 && g->in_height % 2 == 0 && g->in_width % 2 == 0 &&
           g->out_height % 2 == 0 && g->out_width % 2 == 0 &&
           g->in_channels >= NN_WINOGRAD_MIN_CHANNELS &&
           g->out_channels >= NN_WINOGRAD_MIN_CHANNELS;
}

static size_t round16(size_t n) { return (n + 15) / 16 * 16; }

size_t nn_winograd_kernel_floats(int channels, int filters)
{
    /* 16 planes, then one row of zeros: the bias of a layer without one. */
    return ((size_t)POINTS * (size_t)channels + 1) * round16((size_t)filters);
}

size_t nn_winograd_slot_floats(int channels, int filters)
{
    return round16((size_t)POINTS * NN_WINOGRAD_BLOCK *
                   ((size_t)channels + round16((size_t)filters)));
}

/* The transformed kernel: for point ξ = 4a + b, u[ξ] (channels, stride) = (G g Gᵀ)[a][b]
 * of each 3×3 slice g (channel c, filter n), with zeros past `filters` in each row, and
 * a last row of zeros.
 * g[i][j] is kernel[((i·3 + j)·channels + c)·filters + n], or for the flipped kernel
 * (the input gradient: channels are the forward's filters, filters its channels)
 * kernel[(((2-i)·3 + (2-j))·filters + n)·channels + c]. */
void nn_winograd_transform_kernel(float *u, const float *kernel, int channels, int filters,
                                  bool flipped)
{
    const size_t stride = round16((size_t)filters);
    memset(u, 0, sizeof(float) * nn_winograd_kernel_floats(channels, filters));
    for (int c = 0; c < channels; c++) {
        for (int n = 0; n < filters; n++) {
            float g[3][3], gg[4][3], t[4][4];
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++)
                    g[i][j] = flipped
                                  ? kernel[(((size_t)(2 - i) * 3 + (size_t)(2 - j)) *
                                                (size_t)filters + (size_t)n) *
                                               (size_t)channels + (size_t)c]
                                  : kernel[(((size_t)i * 3 + (size_t)j) * (size_t)channels +
                                            (size_t)c) *
                                               (size_t)filters + (size_t)n];
            /* G g: rows g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2 */
            for (int j = 0; j < 3; j++) {
                gg[0][j] = g[0][j];
                gg[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
                gg[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
                gg[3][j] = g[2][j];
            }
            /* (G g) Gᵀ: the same on the columns */
            for (int a = 0; a < 4; a++) {
                t[a][0] = gg[a][0];
                t[a][1] = 0.5f * (gg[a][0] + gg[a][1] + gg[a][2]);
                t[a][2] = 0.5f * (gg[a][0] - gg[a][1] + gg[a][2]);
                t[a][3] = gg[a][2];
            }
            for (int a = 0; a < 4; a++)
                for (int b = 0; b < 4; b++)
                    u[((size_t)(4 * a + b) * (size_t)channels + (size_t)c) * stride +
                      (size_t)n] = t[a][b];
        }
    }
}

/* v[ξ] (count, channels), row i for tile i: Bᵀ d B of the 4×4 input tile whose corner
 * is corners[i] (rows row_floats apart); Bᵀ rows are d0 - d2, d1 + d2, d2 - d1, d1 - d3.
 * Written out with scalars so that the loop over channels vectorizes. */
CLONES static void transform_input(float *v, const float *const *corners,
                                   ptrdiff_t row_floats, int channels, int count)
{
    const size_t plane = (size_t)NN_WINOGRAD_BLOCK * (size_t)channels;
    for (int i = 0; i < count; i++) {
        /* d_ab: row a, column b of the tile, each a run of channels */
        const float *d00 = corners[i], *d10 = d00 + row_floats;
        const float *d20 = d10 + row_floats, *d30 = d20 + row_floats;
        const float *d01 = d00 + channels, *d11 = d10 + channels;
        const float *d21 = d20 + channels, *d31 = d30 + channels;
        const float *d02 = d01 + channels, *d12 = d11 + channels;
        const float *d22 = d21 + channels, *d32 = d31 + channels;
        const float *d03 = d02 + channels, *d13 = d12 + channels;
        const float *d23 = d22 + channels, *d33 = d32 + channels;
        float *out = v + (size_t)i * (size_t)channels;
        /* The tile is only read and v only written: vectorize without the run-time
         * overlap checks of 16 streams, too many for the compiler to try. */
#pragma omp simd
        for (ptrdiff_t c = 0; c < channels; c++) {
            /* Bᵀ d, column by column */
            float t00 = d00[c] - d20[c], t01 = d01[c] - d21[c];
            float t02 = d02[c] - d22[c], t03 = d03[c] - d23[c];
            float t10 = d10[c] + d20[c], t11 = d11[c] + d21[c];
            float t12 = d12[c] + d22[c], t13 = d13[c] + d23[c];
            float t20 = d20[c] - d10[c], t21 = d21[c] - d11[c];
            float t22 = d22[c] - d12[c], t23 = d23[c] - d13[c];
            float t30 = d10[c] - d30[c], t31 = d11[c] - d31[c];
            float t32 = d12[c] - d32[c], t33 = d13[c] - d33[c];
            /* (Bᵀ d) B, row by row */
            out[0 * plane + c] = t00 - t02;
            out[1 * plane + c] = t01 + t02;
            out[2 * plane + c] = t02 - t01;
            out[3 * plane + c] = t01 - t03;
            out[4 * plane + c] = t10 - t12;
            out[5 * plane + c] = t11 + t12;
            out[6 * plane + c] = t12 - t11;
            out[7 * plane + c] = t11 - t13;
            out[8 * plane + c] = t20 - t22;
            out[9 * plane + c] = t21 + t22;
            out[10 * plane + c] = t22 - t21;
            out[11 * plane + c] = t21 - t23;
            out[12 * plane + c] = t30 - t32;
            out[13 * plane + c] = t31 + t32;
            out[14 * plane + c] = t32 - t31;
            out[15 * plane + c] = t31 - t33;
        }
    }
}

/* The 16 point products of a tile as locals m0..m15 (at products + ξ·plane): loop
 * invariants the compiler keeps in registers, where an array of them would be
 * reloaded in every iteration and block vectorization. */
#define POINT_ROWS(products, plane)                                                         \
    const float *m0 = (products), *m1 = m0 + (plane), *m2 = m1 + (plane);                  \
    const float *m3 = m2 + (plane), *m4 = m3 + (plane), *m5 = m4 + (plane);                \
    const float *m6 = m5 + (plane), *m7 = m6 + (plane), *m8 = m7 + (plane);                \
    const float *m9 = m8 + (plane), *m10 = m9 + (plane), *m11 = m10 + (plane);             \
    const float *m12 = m11 + (plane), *m13 = m12 + (plane), *m14 = m13 + (plane);          \
    const float *m15 = m14 + (plane)

/* Aᵀ m A of channel n (Aᵀ rows m0 + m1 + m2 and m1 - m2 - m3), plus the bias, clamped
 * at 0 when relu: the tile's four outputs. */
#define TRANSFORM_OUTPUT(n, add, relu, y00, y01, y10, y11)                                   \
    float y00, y01, y10, y11;                                                               \
    {                                                                                       \
        float a0 = m0[n] + m4[n] + m8[n], a1 = m1[n] + m5[n] + m9[n];                       \
        float a2 = m2[n] + m6[n] + m10[n], a3 = m3[n] + m7[n] + m11[n];                     \
        float b0 = m4[n] - m8[n] - m12[n], b1 = m5[n] - m9[n] - m13[n];                     \
        float b2 = m6[n] - m10[n] - m14[n], b3 = m7[n] - m11[n] - m15[n];                   \
        y00 = a0 + a1 + a2 + (add);                                                         \
        y01 = a1 - a2 - a3 + (add);                                                         \
        y10 = b0 + b1 + b2 + (add);                                                         \
        y11 = b1 - b2 - b3 + (add);                                                         \
        if (relu) { /* NaN is never <= 0: it stays NaN, as in relu */                       \
            y00 = y00 <= 0.0f ? 0.0f : y00;                                                 \
            y01 = y01 <= 0.0f ? 0.0f : y01;                                                 \
            y10 = y10 <= 0.0f ? 0.0f : y10;                                                 \
            y11 = y11 <= 0.0f ? 0.0f : y11;                                                 \
        }                                                                                   \
    }

/* The loops below are written twice, with relu a constant 0 or 1, so that neither holds
 * a branch (which would keep it from vectorizing). */

/* The 2×2 outputs of `count` tiles, from the point products m (rows `stride` apart),
 * into outs[i] (the block's corner; rows out_row apart). bias (filters) is never NULL
 * here (zeros stand in). Products are only read and outputs only written, so the loops
 * need no run-time overlap checks (omp simd). */
#define FINISH_TILES(relu)                                                                  \
    for (int i = 0; i < count; i++) {                                                       \
        POINT_ROWS(m + (size_t)i * stride, plane);                                          \
        float *top = outs[i], *bottom = outs[i] + out_row;                                  \
        _Pragma("omp simd") for (ptrdiff_t n = 0; n < filters; n++)                         \
        {                                                                                   \
            TRANSFORM_OUTPUT(n, bias[n], relu, y00, y01, y10, y11)                          \
            top[n] = y00;                                                                   \
            top[filters + n] = y01;                                                         \
            bottom[n] = y10;                                                                \
            bottom[filters + n] = y11;                                                      \
        }                                                                                   \
    }

CLONES static void finish_tiles(float *const *outs, ptrdiff_t out_row, const float *m,
                                int filters, size_t stride, const float *bias, bool relu,
                                int count)
{
    const size_t plane = (size_t)NN_WINOGRAD_BLOCK * stride;
    if (relu)
        FINISH_TILES(1)
    else
        FINISH_TILES(0)
}

/* The same, pooled: pooled[i] (filters) gets the maximum of each 2×2 block and, when
 * argmax is not NULL, argmax[i] the winner's flat index first[i] + offset + n (offsets of
 * the block's cells in scan order), the first of equals winning as pooling scans. */
#define FINISH_POOLED(relu, with_winners)                                                   \
    for (int i = 0; i < count; i++) {                                                       \
        POINT_ROWS(m + (size_t)i * stride, plane);                                          \
        float *best_out = pooled[i];                                                        \
        int32_t *winner_out = with_winners ? argmax[i] : NULL, base = first[i];             \
        _Pragma("omp simd") for (ptrdiff_t n = 0; n < filters; n++)                         \
        {                                                                                   \
            TRANSFORM_OUTPUT(n, bias[n], relu, y00, y01, y10, y11)                          \
            float best = y00;                                                               \
            int32_t winner = 0;                                                             \
            bool greater = y01 > best;                                                      \
            best = greater ? y01 : best;                                                    \
            winner = greater ? filters : winner;                                            \
            greater = y10 > best;                                                           \
            best = greater ? y10 : best;                                                    \
            winner = greater ? out_row : winner;                                            \
            greater = y11 > best;                                                           \
            best = greater ? y11 : best;                                                    \
            winner = greater ? out_row + filters : winner;                                  \
            best_out[n] = best;                                                             \
            if (with_winners)                                                               \
                winner_out[n] = base + winner + (int32_t)n;                                 \
        }                                                                                   \
    }

CLONES static void finish_tiles_pooled(float *const *pooled, int32_t *const *argmax,
                                       const int32_t *first, int32_t out_row, const float *m,
                                       int filters, size_t stride, const float *bias,
                                       bool relu, int count)
{
    const size_t plane = (size_t)NN_WINOGRAD_BLOCK * stride;
    if (relu && argmax)
        FINISH_POOLED(1, 1)
    else if (relu)
        FINISH_POOLED(1, 0)
    else if (argmax)
        FINISH_POOLED(0, 1)
    else
        FINISH_POOLED(0, 0)
}

/* Column block [n0, n0 + *cols) of `filters` as the tiles take it; returns its vectors. */
static int column_block_at(const nn_conv_tiles *tiles, int filters, int n0, int *cols)
{
    int full = tiles->vector_floats * tiles->block_vectors;
    *cols = filters - n0 < full ? filters - n0 : full;
    return (*cols + tiles->vector_floats - 1) / tiles->vector_floats;
}

/* z[ξ] (count, stride) = G g Gᵀ of each tile's 2×2 block g of output gradient (rows
 * out_row apart, corners[i]); G rows are g0, (g0 + g1)/2, (g0 - g1)/2, -g1. The kernel
 * gradient's dual, F(3×3, 2×2), transforms its input tiles with Bᵀ's last row d3 - d1;
 * transform_input's is d1 - d3. Negating G's last row instead makes every product
 * v[ξ]·z[ξ] the same, sign flips being exact, so one input transform serves both. */
CLONES static void transform_gradient(float *z, const float *const *corners, ptrdiff_t out_row,
                                      int filters, size_t stride, int count)
{
    const size_t plane = (size_t)NN_WINOGRAD_BLOCK * stride;
    for (int i = 0; i < count; i++) {
        const float *g00 = corners[i], *g01 = g00 + filters;
        const float *g10 = g00 + out_row, *g11 = g10 + filters;
        float *out = z + (size_t)i * stride;
#pragma omp simd
        for (ptrdiff_t n = 0; n < filters; n++) {
            /* G g: rows g0, (g0 + g1)/2, (g0 - g1)/2, -g1 (over dy) */
            float r00 = g00[n], r01 = g01[n];
            float r10 = 0.5f * (g00[n] + g10[n]), r11 = 0.5f * (g01[n] + g11[n]);
            float r20 = 0.5f * (g00[n] - g10[n]), r21 = 0.5f * (g01[n] - g11[n]);
            float r30 = -g10[n], r31 = -g11[n];
            /* (G g) Gᵀ: the same over dx */
            out[0 * plane + n] = r00;
            out[1 * plane + n] = 0.5f * (r00 + r01);
            out[2 * plane + n] = 0.5f * (r00 - r01);
            out[3 * plane + n] = -r01;
            out[4 * plane + n] = r10;
            out[5 * plane + n] = 0.5f * (r10 + r11);
            out[6 * plane + n] = 0.5f * (r10 - r11);
            out[7 * plane + n] = -r11;
            out[8 * plane + n] = r20;
            out[9 * plane + n] = 0.5f * (r20 + r21);
            out[10 * plane + n] = 0.5f * (r20 - r21);
            out[11 * plane + n] = -r21;
            out[12 * plane + n] = r30;
            out[13 * plane + n] = 0.5f * (r30 + r31);
            out[14 * plane + n] = 0.5f * (r30 - r31);
            out[15 * plane + n] = -r31;
        }
    }
}

/* Tiles summed by one part of the kernel gradient: a fixed split of the tiles (never
 * the thread count's), so the partial sums and their ordered total never change. */
static int gradient_parts(long tiles)
{
    long blocks = (tiles + NN_WINOGRAD_BLOCK - 1) / NN_WINOGRAD_BLOCK;
    return (int)(blocks < NN_WINOGRAD_PARTS ? blocks : NN_WINOGRAD_PARTS);
}

size_t nn_winograd_partials_floats(int channels, int filters)
{
    return (size_t)NN_WINOGRAD_PARTS * POINTS * (size_t)channels * round16((size_t)filters);
}

/* dkernel (3,3,C,N) from the partial sums (per part, 16 planes of (C, stride)): for each
 * channel c, the parts are added in order, then Aᵀ U A (Aᵀ rows m0 + m1 + m2, m1 - m2,
 * m1 + m2 + m3) gives the 3×3 taps; loops over filters vectorize. u is scratch for
 * 16 rows of `stride` floats per thread. */
CLONES static void finish_gradient_channel(float *dkernel, const float *partials, int parts,
                                           int c, int channels, int filters, size_t stride,
                                           bool accumulate, float *u)
{
    const size_t part_floats = (size_t)POINTS * (size_t)channels * stride;
    const size_t plane = (size_t)channels * stride;
    for (int point = 0; point < POINTS; point++) {
        const float *first = partials + (size_t)point * plane + (size_t)c * stride;
        float *sum = u + (size_t)point * stride;
        for (int n = 0; n < filters; n++)
            sum[n] = first[n];
        for (int part = 1; part < parts; part++) {
            const float *more = first + (size_t)part * part_floats;
            for (int n = 0; n < filters; n++)
                sum[n] += more[n];
        }
    }
    const size_t tap = (size_t)channels * (size_t)filters;
    float *out[9];
    for (int k = 0; k < 9; k++)
        out[k] = dkernel + (size_t)k * tap + (size_t)c * (size_t)filters;
    const float *m0 = u, *m1 = m0 + stride, *m2 = m1 + stride, *m3 = m2 + stride;
    const float *m4 = m3 + stride, *m5 = m4 + stride, *m6 = m5 + stride, *m7 = m6 + stride;
    const float *m8 = m7 + stride, *m9 = m8 + stride, *m10 = m9 + stride, *m11 = m10 + stride;
    const float *m12 = m11 + stride, *m13 = m12 + stride, *m14 = m13 + stride;
    const float *m15 = m14 + stride;
    /* Written twice so neither loop holds a branch. */
#define FINISH_CHANNEL(store)                                                               \
    _Pragma("omp simd") for (ptrdiff_t n = 0; n < filters; n++)                             \
    {                                                                                       \
        /* Aᵀ U: rows a of the 4×4 sum, for each column b; then (Aᵀ U) A */               \
        float t00 = m0[n] + m4[n] + m8[n], t01 = m1[n] + m5[n] + m9[n];                     \
        float t02 = m2[n] + m6[n] + m10[n], t03 = m3[n] + m7[n] + m11[n];                   \
        float t10 = m4[n] - m8[n], t11 = m5[n] - m9[n];                                     \
        float t12 = m6[n] - m10[n], t13 = m7[n] - m11[n];                                   \
        float t20 = m4[n] + m8[n] + m12[n], t21 = m5[n] + m9[n] + m13[n];                   \
        float t22 = m6[n] + m10[n] + m14[n], t23 = m7[n] + m11[n] + m15[n];                 \
        store(out0[n], t00 + t01 + t02);                                                    \
        store(out1[n], t01 - t02);                                                          \
        store(out2[n], t01 + t02 + t03);                                                    \
        store(out3[n], t10 + t11 + t12);                                                    \
        store(out4[n], t11 - t12);                                                          \
        store(out5[n], t11 + t12 + t13);                                                    \
        store(out6[n], t20 + t21 + t22);                                                    \
        store(out7[n], t21 - t22);                                                          \
        store(out8[n], t21 + t22 + t23);                                                    \
    }
#define ADD_TO(target, value) ((target) += (value))
#define SET_TO(target, value) ((target) = (value))
    float *out0 = out[0], *out1 = out[1], *out2 = out[2], *out3 = out[3], *out4 = out[4];
    float *out5 = out[5], *out6 = out[6], *out7 = out[7], *out8 = out[8];
    if (accumulate)
        FINISH_CHANNEL(ADD_TO)
    else
        FINISH_CHANNEL(SET_TO)
#undef FINISH_CHANNEL
#undef ADD_TO
#undef SET_TO
}

static void finish_gradient(float *dkernel, const float *partials, int parts, int channels,
                            int filters, size_t stride, bool accumulate, float *slots,
                            size_t slot)
{
    int threads = omp_get_max_threads();
    if (threads > NN_WINOGRAD_SLOTS)
        threads = NN_WINOGRAD_SLOTS;
#pragma omp parallel num_threads(threads) if (channels >= 8)
    {
        float *u = slots + (size_t)omp_get_thread_num() * slot;
#pragma omp for schedule(static)
        for (int c = 0; c < channels; c++)
            finish_gradient_channel(dkernel, partials, parts, c, channels, filters, stride,
                                    accumulate, u);
    }
}

void nn_winograd_weight_gradient(float *dkernel, const nn_winograd_pass *p, const float *dout,
                                 bool accumulate, const nn_conv_tiles *tiles, float *partials,
                                 float *slots)
{
    const int channels = p->channels, filters = p->filters;
    const size_t stride = round16((size_t)filters);
    const int tiles_high = p->out_height / 2, tiles_wide = p->out_width / 2;
    const long per_image = (long)tiles_high * tiles_wide;
    const long total = (long)p->images * per_image;
    const int parts = gradient_parts(total);
    const size_t slot = nn_winograd_slot_floats(channels, filters);
    const size_t part_floats = (size_t)POINTS * (size_t)channels * stride;
    const size_t v_plane = (size_t)NN_WINOGRAD_BLOCK * (size_t)channels;
    const size_t z_plane = (size_t)NN_WINOGRAD_BLOCK * stride;
    const ptrdiff_t out_row = (ptrdiff_t)p->out_width * filters;
    const int step = tiles->vector_floats * tiles->block_vectors;
    int threads = omp_get_max_threads();
    if (threads > NN_WINOGRAD_SLOTS)
        threads = NN_WINOGRAD_SLOTS;
#pragma omp parallel num_threads(threads) if (parts > 1)
    {
        float *v = slots + (size_t)omp_get_thread_num() * slot;
        float *z = v + (size_t)POINTS * v_plane;
#pragma omp for schedule(dynamic, 1)
        for (int part = 0; part < parts; part++) {
            float *u = partials + (size_t)part * part_floats;
            long begin = total * part / parts, end = total * (part + 1) / parts;
            for (long first_tile = begin; first_tile < end; first_tile += NN_WINOGRAD_BLOCK) {
                int count = (int)(end - first_tile < NN_WINOGRAD_BLOCK ? end - first_tile
                                                                        : NN_WINOGRAD_BLOCK);
                const float *corners[NN_WINOGRAD_BLOCK], *gradients[NN_WINOGRAD_BLOCK];
                for (int i = 0; i < count; i++) {
                    long tile = first_tile + i;
                    int image = (int)(tile / per_image), within = (int)(tile % per_image);
                    int ty = within / tiles_wide, tx = within % tiles_wide;
                    corners[i] = p->src + (size_t)image * p->image_floats +
                                 2 * ty * p->row_floats + (ptrdiff_t)(2 * tx) * channels;
                    gradients[i] = dout + (((size_t)image * (size_t)p->out_height +
                                            (size_t)(2 * ty)) * (size_t)p->out_width +
                                           (size_t)(2 * tx)) * (size_t)filters;
                }
                transform_input(v, corners, p->row_floats, channels, count);
                transform_gradient(z, gradients, out_row, filters, stride, count);
                /* u[ξ] (channels, filters) += v[ξ]ᵀ z[ξ], over this block's tiles */
                bool add = first_tile > begin;
                for (int point = 0; point < POINTS; point++) {
                    float *u_point = u + (size_t)point * (size_t)channels * stride;
                    for (int n0 = 0; n0 < filters; n0 += step) {
                        int cols, vectors = column_block_at(tiles, filters, n0, &cols);
                        int per_call = tiles->gradient_rows(vectors);
                        for (int c0 = 0; c0 < channels; c0 += per_call) {
                            int rows = channels - c0 < per_call ? channels - c0 : per_call;
                            ptrdiff_t offsets[16];
                            for (int k = 0; k < rows; k++)
                                offsets[k] = c0 + k;
                            tiles->weight_gradient(u_point + (size_t)c0 * stride + (size_t)n0,
                                                   (ptrdiff_t)stride, rows, offsets,
                                                   v + (size_t)point * v_plane, 0, channels, 1,
                                                   count, z + (size_t)point * z_plane + n0,
                                                   (ptrdiff_t)stride, vectors, cols, add);
                        }
                    }
                }
            }
        }
    }
    finish_gradient(dkernel, partials, parts, channels, filters, stride, accumulate, slots, slot);
}

void nn_winograd_convolve(const nn_winograd_pass *p, const nn_conv_tiles *tiles, float *slots)
{
    const int channels = p->channels, filters = p->filters;
    const size_t stride = round16((size_t)filters);
    const int tiles_high = p->out_height / 2, tiles_wide = p->out_width / 2;
    const long per_image = (long)tiles_high * tiles_wide;
    const long total = (long)p->images * per_image;
    const long blocks = (total + NN_WINOGRAD_BLOCK - 1) / NN_WINOGRAD_BLOCK;
    const size_t slot = nn_winograd_slot_floats(channels, filters);
    const size_t plane = (size_t)NN_WINOGRAD_BLOCK * (size_t)channels;
    const ptrdiff_t out_row = (ptrdiff_t)p->out_width * filters;
    const int step = tiles->vector_floats * tiles->block_vectors;
    int threads = omp_get_max_threads();
    if (threads > NN_WINOGRAD_SLOTS)
        threads = NN_WINOGRAD_SLOTS;
#pragma omp parallel num_threads(threads) if (blocks > 1)
    {
        float *v = slots + (size_t)omp_get_thread_num() * slot;
        float *m = v + (size_t)POINTS * plane;
        /* Blocks are independent: any thread, any order, the same values. */
#pragma omp for schedule(dynamic, 1)
        for (long block = 0; block < blocks; block++) {
            long first_tile = block * NN_WINOGRAD_BLOCK;
            int count = (int)(total - first_tile < NN_WINOGRAD_BLOCK ? total - first_tile
                                                                      : NN_WINOGRAD_BLOCK);
            const float *corners[NN_WINOGRAD_BLOCK];
            float *outs[NN_WINOGRAD_BLOCK], *pooled[NN_WINOGRAD_BLOCK];
            int32_t *winners[NN_WINOGRAD_BLOCK], first[NN_WINOGRAD_BLOCK];
            for (int i = 0; i < count; i++) {
                long tile = first_tile + i;
                int image = (int)(tile / per_image), within = (int)(tile % per_image);
                int ty = within / tiles_wide, tx = within % tiles_wide;
                corners[i] = p->src + (size_t)image * p->image_floats + 2 * ty * p->row_floats +
                             (ptrdiff_t)(2 * tx) * channels;
                size_t corner = (((size_t)image * (size_t)p->out_height + (size_t)(2 * ty)) *
                                     (size_t)p->out_width + (size_t)(2 * tx)) * (size_t)filters;
                outs[i] = p->out ? p->out + corner : NULL;
                size_t window = ((size_t)image * (size_t)per_image + (size_t)within) *
                                (size_t)filters;
                pooled[i] = p->pooled ? p->pooled + window : NULL;
                winners[i] = p->argmax ? p->argmax + window : NULL;
                first[i] = (int32_t)(corner + p->first_index);
            }
            transform_input(v, corners, p->row_floats, channels, count);
            /* The 16 point products, m[ξ] (count, filters) = v[ξ] (count, channels) ·
             * u[ξ] (channels, filters), as 1×1 convolutions on the register tiles. */
            nn_conv_taps taps = {.kernel_height = 1, .kernel_width = 1,
                                 .weight_stride = (ptrdiff_t)stride};
            for (int point = 0; point < POINTS; point++) {
                const float *v_point = v + (size_t)point * plane;
                float *m_point = m + (size_t)point * NN_WINOGRAD_BLOCK * stride;
                const float *u_point = p->kernel + (size_t)point * (size_t)channels * stride;
                for (int r0 = 0; r0 < count; r0 += NN_CONV_TILE_ROWS) {
                    int rows = count - r0 < NN_CONV_TILE_ROWS ? count - r0 : NN_CONV_TILE_ROWS;
                    const float *x[NN_CONV_TILE_ROWS];
                    for (int r = 0; r < NN_CONV_TILE_ROWS; r++) {
                        int row = r0 + (r < rows ? r : rows - 1); /* spare rows repeat */
                        x[r] = v_point + (size_t)row * (size_t)channels;
                    }
                    for (int n0 = 0; n0 < filters; n0 += step) {
                        int cols, vectors = column_block_at(tiles, filters, n0, &cols);
                        tiles->forward(m_point + (size_t)r0 * stride + (size_t)n0,
                                       (ptrdiff_t)stride, x, &taps, channels, u_point + n0,
                                       vectors, NULL, false, rows, cols);
                    }
                }
            }
            const float *bias = p->bias ? p->bias
                                        : p->kernel + (size_t)POINTS * (size_t)channels * stride;
            if (p->pooled)
                finish_tiles_pooled(pooled, p->argmax ? winners : NULL, first, (int32_t)out_row,
                                    m, filters, stride, bias, p->relu, count);
            else
                finish_tiles(outs, out_row, m, filters, stride, bias, p->relu, count);
        }
    }
}
