/* The convolution algorithms cuDNN's search chose, per geometry: searching runs every
 * candidate on the GPU, so it happens once per shape (when a model reserves its buffers)
 * and later calls look the answer up. Entries also own cuDNN's descriptors through an
 * opaque pointer and a release function, so the cache knows nothing of cuDNN. Least
 * recently used entries go first when it is full. Pure C, tested on the CPU. */
#ifndef NN_CONV_ALGO_CACHE_H
#define NN_CONV_ALGO_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "../../backend.h"

enum { NN_CONV_ALGO_CACHE_CAPACITY = 64 };

typedef struct nn_conv_algo_entry {
    nn_conv2d_geometry geometry;  /* the key, batch included */
    int forward_algorithm, backward_data_algorithm, backward_filter_algorithm;
    size_t workspace_bytes;       /* the largest of the three's workspaces */
    void *descriptors;            /* owned; freed with the cache's release function */
    uint64_t last_used;
    int device;                   /* which GPU the search ran on */
} nn_conv_algo_entry;

typedef struct nn_conv_algo_cache {
    nn_conv_algo_entry entries[NN_CONV_ALGO_CACHE_CAPACITY];
    int count;
    uint64_t clock;
    void (*release)(void *descriptors); /* may be NULL */
} nn_conv_algo_cache;

/* The entry for exactly this geometry on this device, or NULL. Marks it used. */
nn_conv_algo_entry *nn_conv_algo_cache_find(nn_conv_algo_cache *cache,
                                            const nn_conv2d_geometry *geometry, int device);
/* The entry for the same geometry with the smallest batch at least as large, or NULL:
 * its workspace bounds what a smaller batch (a fit's last, short batch) may use, since
 * the scratch was sized for it. */
const nn_conv_algo_entry *nn_conv_algo_cache_find_larger_batch(
    const nn_conv_algo_cache *cache, const nn_conv2d_geometry *geometry, int device);
/* A cleared entry keyed by geometry for the caller to fill, evicting (and releasing)
 * the least recently used one when the cache is full. */
nn_conv_algo_entry *nn_conv_algo_cache_insert(nn_conv_algo_cache *cache,
                                              const nn_conv2d_geometry *geometry, int device);
/* Releases every entry. */
void nn_conv_algo_cache_clear(nn_conv_algo_cache *cache);

#endif
