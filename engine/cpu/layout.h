/* Moving the channel axis: channels-first layers transpose their tensors around the
 * channels-last kernels with these. */
#ifndef NN_LAYOUT_H
#define NN_LAYOUT_H

#include <stdint.h>

/* out (B, S, C) = inp (B, C, S) with the channel axis moved last; S is every spatial
 * axis flattened (H·W). out and inp must not overlap. */
void nn_layout_to_channels_last(float *out, const float *inp, int64_t batch,
                                int64_t channels, int64_t spatial);
/* out (B, C, S) = inp (B, S, C): the inverse of nn_layout_to_channels_last. */
void nn_layout_to_channels_first(float *out, const float *inp, int64_t batch,
                                 int64_t channels, int64_t spatial);

#endif
