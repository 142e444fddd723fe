/* Bodies of CategoryEncoding and Discretization: a value's bucket among sorted boundaries,
 * and a row of ids written as Keras' one-hot, multi-hot or count vector. One thread an
 * element (buckets) or a row (encodings); the CPU runs the same bodies. */
#ifndef NN_CATEGORY_BODY_H
#define NN_CATEGORY_BODY_H

#include "../../backend.h"
#include "body.h"

/* How many boundaries lie at or below x: Keras' bucket, 0 below the first boundary and
 * `count` from the last one on (NaN: 0). */
NN_BODY float nn_body_bucket(float x, const float *boundaries, int count)
{
    int bucket = 0;
    for (int k = 0; k < count; k++)
        bucket += boundaries[k] <= x;
    return (float)bucket;
}

/* Element i of a Discretization's output in 'int' mode. */
NN_BODY void nn_body_bucketize(float *out, const float *x, const nn_category_geometry *g,
                               size_t i)
{
    out[i] = nn_body_bucket(x[i], g->boundaries, g->boundary_count);
}

/* Row r of out (rows, tokens): the `length` ids of row r of x (bucketed first for a
 * Discretization), each adding 1 at its token (count) or setting it (one or multi hot).
 * Ids outside [0, tokens) are skipped: the layer has refused them already. */
NN_BODY void nn_body_category_encode(float *out, const float *x, const nn_category_geometry *g,
                                     size_t r)
{
    float *row = out + r * (size_t)g->tokens;
    for (size_t t = 0; t < (size_t)g->tokens; t++)
        row[t] = 0.0f;
    for (size_t j = 0; j < (size_t)g->length; j++) {
        float value = x[r * (size_t)g->length + j];
        if (g->bucketize)
            value = nn_body_bucket(value, g->boundaries, g->boundary_count);
        if (!(value >= 0.0f && value < (float)g->tokens))
            continue;
        size_t token = (size_t)value;
        row[token] = g->count ? row[token] + 1.0f : 1.0f;
    }
}

#endif
