/* Inverted dropout on the CPU: a Philox mask over the noise shape, broadcast onto the
 * input; and Gaussian noise, drawn by the CUDA kernels' own body. Every mask element is a pure function of (seed, stream, index), so the result
 * does not depend on the thread count, and the CUDA kernels draw the same masks. */
#include <string.h>

#include "../cuda/bodies/dropout_body.h"
#include "../random.h"
#include "cpu_kernels.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

/* For input element i (row-major over dims), the element of the noise mask it uses:
 * its coordinates with the broadcast axes (noise size 1) set to 0. */
static size_t noise_index(size_t i, const int64_t *input_dims, const size_t *noise_strides,
                          int ndim)
{
    size_t index = 0;
    for (int axis = ndim - 1; axis >= 0; axis--) {
        size_t dim = (size_t)input_dims[axis];
        index += (i % dim) * noise_strides[axis];
        i /= dim;
    }
    return index;
}

/* Strides of the noise mask seen from the input: 0 along broadcast axes. Returns whether
 * any axis broadcasts (else noise index = input index). */
static bool noise_strides_for(size_t *strides, const nn_dropout_geometry *g)
{
    bool broadcasts = false;
    size_t stride = 1;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        bool shared = g->noise_dims[axis] == 1 && g->dims[axis] != 1;
        strides[axis] = shared ? 0 : stride;
        broadcasts = broadcasts || shared;
        stride *= (size_t)g->noise_dims[axis];
    }
    return broadcasts;
}

static size_t count_of(const int64_t *dims, int ndim)
{
    size_t count = 1;
    for (int i = 0; i < ndim; i++)
        count *= (size_t)dims[i];
    return count;
}

void nn_cpu_dropout_forward(float *out, uint8_t *mask, const float *inp,
                            const nn_dropout_geometry *geometry, uint64_t seed,
                            uint64_t stream)
{
    const nn_dropout_geometry *g = geometry;
    const float rate = g->rate, keep = 1.0f - rate;
    const long count = (long)count_of(g->noise_dims, g->ndim);
    /* A Philox block gives 4 numbers: use them all (element j is number j of the stream
     * either way). */
    const long blocks = (count + 3) / 4;
#pragma omp parallel for schedule(static) if (count > PARALLEL_THRESHOLD)
    for (long b = 0; b < blocks; b++) {
        float uniform[4];
        nn_random_uniform_block(seed, stream, (uint64_t)b, uniform);
        for (long j = 4 * b; j < 4 * b + 4 && j < count; j++)
            mask[j] = uniform[j - 4 * b] >= rate;
    }

    size_t strides[NN_MAX_DIMS];
    bool broadcasts = noise_strides_for(strides, g);
    const long total = (long)count_of(g->dims, g->ndim);
    /* x / keep rather than x * (1 / keep): the kept value is the correctly rounded
     * x/(1 - rate). */
#pragma omp parallel for schedule(static) if (total > PARALLEL_THRESHOLD)
    for (long i = 0; i < total; i++) {
        size_t j = broadcasts ? noise_index((size_t)i, g->dims, strides, g->ndim) : (size_t)i;
        out[i] = mask[j] ? inp[i] / keep : 0.0f;
    }
}

void nn_cpu_dropout_backward(float *dinp, const float *dout, const uint8_t *mask,
                             const nn_dropout_geometry *geometry)
{
    const nn_dropout_geometry *g = geometry;
    size_t strides[NN_MAX_DIMS];
    bool broadcasts = noise_strides_for(strides, g);
    const float keep = 1.0f - g->rate;
    const long total = (long)count_of(g->dims, g->ndim);
#pragma omp parallel for schedule(static) if (total > PARALLEL_THRESHOLD)
    for (long i = 0; i < total; i++) {
        size_t j = broadcasts ? noise_index((size_t)i, g->dims, strides, g->ndim) : (size_t)i;
        dinp[i] = mask[j] ? dout[i] / keep : 0.0f;
    }
}

void nn_cpu_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                           bool multiplicative, uint64_t seed, uint64_t stream)
{
    const long blocks = (long)((n + 3) / 4);
#pragma omp parallel for schedule(static) if (n > PARALLEL_THRESHOLD)
    for (long block = 0; block < blocks; block++)
        nn_body_gaussian_noise(out, inp, n, stddev, multiplicative, seed, stream,
                               (size_t)block);
}

/* One image at a time: its flips drawn once, then rows copied forwards or backwards. */
void nn_cpu_random_flip(float *out, const float *in, const nn_flip_geometry *g, uint64_t seed,
                        uint64_t stream)
{
    const long batch = (long)g->batch;
    const size_t height = (size_t)g->height, width = (size_t)g->width;
    const size_t channels = (size_t)g->channels, image = height * width * channels;
#pragma omp parallel for schedule(static) if ((size_t)batch * image > PARALLEL_THRESHOLD)
    for (long b = 0; b < batch; b++) {
        bool flipped = nn_body_flip_choice(seed, stream, (uint64_t)b);
        bool left_right = g->horizontal && flipped, top_bottom = g->vertical && flipped;
        const float *source = in + (size_t)b * image;
        float *target = out + (size_t)b * image;
        /* Channels first: planes of rows of pixels; last: rows of pixels of channels. */
        size_t planes = g->channels_first ? channels : 1;
        size_t pixel = g->channels_first ? 1 : channels;
        for (size_t p = 0; p < planes; p++)
            for (size_t y = 0; y < height; y++) {
                size_t from_y = top_bottom ? height - 1 - y : y;
                const float *row = source + (p * height + from_y) * width * pixel;
                float *to = target + (p * height + y) * width * pixel;
                if (!left_right) {
                    memcpy(to, row, width * pixel * sizeof(float));
                    continue;
                }
                for (size_t x = 0; x < width; x++)
                    memcpy(to + x * pixel, row + (width - 1 - x) * pixel, pixel * sizeof(float));
            }
    }
}
