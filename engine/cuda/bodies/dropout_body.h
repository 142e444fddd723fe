/* Bodies of dropout: Philox4x32-10 exactly as engine/random.c, so a mask element is the
 * same pure function of (seed, stream, index) on every backend, and the broadcast of the
 * mask onto the input as cpu/dropout.c. */
#ifndef NN_DROPOUT_BODY_H
#define NN_DROPOUT_BODY_H

#include "../../backend.h"
#include "body.h"

/* Block `counter` of Philox4x32-10 under (seed, stream). */
NN_BODY void nn_body_philox(uint64_t seed, uint64_t stream, uint64_t counter, uint32_t out[4])
{
    uint32_t x0 = (uint32_t)counter, x1 = (uint32_t)(counter >> 32);
    uint32_t x2 = (uint32_t)stream, x3 = (uint32_t)(stream >> 32);
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t high0 = nn_body_mulhi(0xD2511F53u, x0), low0 = 0xD2511F53u * x0;
        uint32_t high1 = nn_body_mulhi(0xCD9E8D57u, x2), low1 = 0xCD9E8D57u * x2;
        uint32_t y0 = high1 ^ x1 ^ k0;
        uint32_t y2 = high0 ^ x3 ^ k1;
        x0 = y0;
        x1 = low1;
        x2 = y2;
        x3 = low0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = x0;
    out[1] = x1;
    out[2] = x2;
    out[3] = x3;
}

/* 24 random bits as a float in [0, 1), as nn_random_uniform_at. */
NN_BODY float nn_body_uniform_from_bits(uint32_t bits)
{
    return (float)(bits >> 8) * (1.0f / 16777216.0f);
}

/* Normals 4·block .. 4·block + 3 of the stream: Box-Muller on the block's two pairs of
 * uniforms, the first of each pair taken in (0, 1] so its logarithm is finite. */
NN_BODY void nn_body_normal_block(uint64_t seed, uint64_t stream, uint64_t block, float out[4])
{
    uint32_t words[4];
    nn_body_philox(seed, stream, block, words);
    for (int pair = 0; pair < 2; pair++) {
        float u1 = ((float)(words[2 * pair] >> 8) + 1.0f) * (1.0f / 16777216.0f);
        float u2 = nn_body_uniform_from_bits(words[2 * pair + 1]);
        float radius = sqrtf(-2.0f * logf(u1));
        float angle = 6.2831853071795865f * u2;
        out[2 * pair] = radius * cosf(angle);
        out[2 * pair + 1] = radius * sinf(angle);
    }
}

/* Elements 4·block .. 4·block + 3 (those below n) of Gaussian noise: normal i of the
 * stream, z, gives out[i] = inp[i] + stddev·z, or inp[i]·(1 + stddev·z) when
 * multiplicative. */
NN_BODY void nn_body_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                                    bool multiplicative, uint64_t seed, uint64_t stream,
                                    size_t block)
{
    float normals[4];
    nn_body_normal_block(seed, stream, (uint64_t)block, normals);
    for (size_t k = 0; k < 4 && 4 * block + k < n; k++) {
        size_t i = 4 * block + k;
        float noise = stddev * normals[k];
        out[i] = multiplicative ? inp[i] * (1.0f + noise) : inp[i] + noise;
    }
}

/* Whether image `sample` of a random flip is flipped (probability one half): along each
 * axis the flip has, both together for 'horizontal_and_vertical', as Keras 3 draws one
 * number an image. */
NN_BODY bool nn_body_flip_choice(uint64_t seed, uint64_t stream, uint64_t sample)
{
    uint32_t words[4];
    nn_body_philox(seed, stream, sample, words);
    return nn_body_uniform_from_bits(words[0]) < 0.5f;
}

/* Output element i of a random flip: the input element its image's flips put there. */
NN_BODY void nn_body_random_flip(float *out, const float *in, const nn_flip_geometry *g,
                                 uint64_t seed, uint64_t stream, size_t i)
{
    uint64_t rest = (uint64_t)i, x, y, c;
    uint64_t width = (uint64_t)g->width, height = (uint64_t)g->height;
    uint64_t channels = (uint64_t)g->channels;
    if (g->channels_first) {
        x = rest % width, rest /= width;
        y = rest % height, rest /= height;
        c = rest % channels, rest /= channels;
    } else {
        c = rest % channels, rest /= channels;
        x = rest % width, rest /= width;
        y = rest % height, rest /= height;
    }
    bool flipped = nn_body_flip_choice(seed, stream, rest);
    uint64_t from_x = g->horizontal && flipped ? width - 1 - x : x;
    uint64_t from_y = g->vertical && flipped ? height - 1 - y : y;
    uint64_t image = rest * height * width * channels;
    uint64_t from = g->channels_first ? image + (c * height + from_y) * width + from_x
                                      : image + (from_y * width + from_x) * channels + c;
    out[i] = in[from];
}

/* Mask elements 4·block .. 4·block + 3 (those below count): one Philox block each. */
NN_BODY void nn_body_dropout_mask(uint8_t *mask, size_t count, uint64_t seed, uint64_t stream,
                                  float rate, size_t block)
{
    uint32_t words[4];
    nn_body_philox(seed, stream, (uint64_t)block, words);
    for (size_t k = 0; k < 4 && 4 * block + k < count; k++)
        mask[4 * block + k] = nn_body_uniform_from_bits(words[k]) >= rate;
}

/* Where each input element finds its mask element: strides of the mask per input axis,
 * 0 along broadcast axes. */
typedef struct nn_body_noise_map {
    int ndim;
    int broadcasts;                  /* 0: the mask has the input's shape */
    uint64_t dims[NN_MAX_DIMS];      /* the input's */
    uint64_t strides[NN_MAX_DIMS];
    float keep;                      /* 1 - rate */
} nn_body_noise_map;

NN_BODY nn_body_noise_map nn_body_noise_map_make(const nn_dropout_geometry *g)
{
    nn_body_noise_map map;
    uint64_t stride = 1;
    map.ndim = g->ndim;
    map.broadcasts = 0;
    map.keep = 1.0f - g->rate;
    for (int axis = NN_MAX_DIMS - 1; axis >= 0; axis--)
        map.dims[axis] = map.strides[axis] = 0;
    for (int axis = g->ndim - 1; axis >= 0; axis--) {
        int shared = g->noise_dims[axis] == 1 && g->dims[axis] != 1;
        map.dims[axis] = (uint64_t)g->dims[axis];
        map.strides[axis] = shared ? 0 : stride;
        map.broadcasts = map.broadcasts || shared;
        stride *= (uint64_t)g->noise_dims[axis];
    }
    return map;
}

NN_BODY size_t nn_body_noise_index(const nn_body_noise_map *map, size_t i)
{
    if (!map->broadcasts)
        return i;
    uint64_t index = 0, rest = (uint64_t)i;
    for (int axis = map->ndim - 1; axis >= 0; axis--) {
        index += (rest % map->dims[axis]) * map->strides[axis];
        rest /= map->dims[axis];
    }
    return (size_t)index;
}

/* out[i] = mask ? inp[i] / keep : 0 (forward, and backward with dout for inp). */
NN_BODY void nn_body_dropout_apply(float *out, const float *inp, const uint8_t *mask,
                                   const nn_body_noise_map *map, size_t i)
{
    out[i] = mask[nn_body_noise_index(map, i)] ? inp[i] / map->keep : 0.0f;
}

#endif
