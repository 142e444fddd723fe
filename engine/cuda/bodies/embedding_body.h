/* Bodies of the embedding lookup: one thread per output element forward, one per column
 * of the table backward, walking every index in order so that a repeated index adds its
 * gradients in the same order whatever the scheduling. The CPU (cpu/embedding.c) adds in
 * the same order, so both give the same bits. */
#ifndef NN_EMBEDDING_BODY_H
#define NN_EMBEDDING_BODY_H

#include "body.h"

/* Whether index names a row of a table of `rows` (NaN does not). Indices are checked on
 * the host before a kernel sees them; this only keeps an unchecked one (an Embedding fed
 * by another layer) inside the table. */
NN_BODY bool nn_body_embedding_valid(float index, size_t rows)
{
    return index >= 0.0f && (double)index < (double)rows;
}

/* Element i of out (count, dim): column i % dim of the table row (rows, dim) that index
 * i / dim names, or 0 for an index outside the table. */
NN_BODY void nn_body_embedding_gather(float *out, const float *table, const float *indices,
                                      size_t rows, size_t dim, size_t i)
{
    float index = indices[i / dim];
    out[i] = nn_body_embedding_valid(index, rows) ? table[(size_t)index * dim + i % dim] : 0.0f;
}

/* Column c of dtable (rows, dim): zero, then dout (count, dim) column c of each index's
 * row added to the row it names, indices in order. */
NN_BODY void nn_body_embedding_gather_backward(float *dtable, const float *dout,
                                               const float *indices, size_t count, size_t rows,
                                               size_t dim, size_t c)
{
    for (size_t r = 0; r < rows; r++)
        dtable[r * dim + c] = 0.0f;
    for (size_t i = 0; i < count; i++) {
        float index = indices[i];
        if (nn_body_embedding_valid(index, rows))
            dtable[(size_t)index * dim + c] += dout[i * dim + c];
    }
}

#endif
