/* Channel-axis transposes on the CPU: the backend table's to_channels_last/first. Each
 * output element is written once by one thread, so the result never depends on the
 * thread count. */
#include "layout.h"

#include <stddef.h>

/* Below this many elements a parallel region costs more than it saves. */
enum { PARALLEL_THRESHOLD = 1 << 15 };

void nn_layout_to_channels_last(float *out, const float *inp, int64_t batch,
                                int64_t channels, int64_t spatial)
{
    /* out (B, S, C), inp (B, C, S). Each thread writes whole rows of out. */
#pragma omp parallel for collapse(2) schedule(static) if (batch * channels * spatial > PARALLEL_THRESHOLD)
    for (int64_t b = 0; b < batch; b++)
        for (int64_t s = 0; s < spatial; s++) {
            float *row = out + (b * spatial + s) * channels;
            const float *column = inp + b * channels * spatial + s;
            for (int64_t c = 0; c < channels; c++)
                row[c] = column[c * spatial];
        }
}

void nn_layout_to_channels_first(float *out, const float *inp, int64_t batch,
                                 int64_t channels, int64_t spatial)
{
    /* Both are a transpose per image: (S, C) to (C, S) is (C, S) to (S, C) with the two
     * sizes swapped. */
    nn_layout_to_channels_last(out, inp, batch, spatial, channels);
}
