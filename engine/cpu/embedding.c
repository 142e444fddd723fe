/* The embedding lookup on the CPU: rows copied out of the table forward; backward, the
 * gradient rows added into the table's in index order, a block of columns per thread, so
 * every element sums in the order of the CUDA body (cuda/bodies/embedding_body.h). */
#include <string.h>

#include "cpu_kernels.h"
#include "../cuda/bodies/embedding_body.h"

/* Below this many elements a parallel loop costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15, COLUMN_BLOCK = 64 };

void nn_cpu_embedding_gather(float *out, const float *table, const float *indices,
                             int64_t count, int64_t rows, int64_t dim)
{
    size_t width = (size_t)dim;
#pragma omp parallel for schedule(static) if (count * dim > PARALLEL_THRESHOLD)
    for (int64_t i = 0; i < count; i++) {
        float *row = out + (size_t)i * width;
        if (nn_body_embedding_valid(indices[i], (size_t)rows))
            memcpy(row, table + (size_t)indices[i] * width, width * sizeof(float));
        else
            memset(row, 0, width * sizeof(float));
    }
}

void nn_cpu_embedding_gather_backward(float *dtable, const float *dout, const float *indices,
                                      int64_t count, int64_t rows, int64_t dim)
{
    int64_t blocks = (dim + COLUMN_BLOCK - 1) / COLUMN_BLOCK;
    size_t width = (size_t)dim;
#pragma omp parallel for schedule(static) if (count * dim > PARALLEL_THRESHOLD && blocks > 1)
    for (int64_t block = 0; block < blocks; block++) {
        size_t first = (size_t)block * COLUMN_BLOCK;
        size_t end = first + COLUMN_BLOCK < width ? first + COLUMN_BLOCK : width;
        for (size_t r = 0; r < (size_t)rows; r++)
            memset(dtable + r * width + first, 0, (end - first) * sizeof(float));
        for (size_t i = 0; i < (size_t)count; i++) {
            if (!nn_body_embedding_valid(indices[i], (size_t)rows))
                continue;
            float *target = dtable + (size_t)indices[i] * width;
            const float *source = dout + i * width;
            for (size_t c = first; c < end; c++)
                target[c] += source[c];
        }
    }
}
