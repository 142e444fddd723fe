/* A small least-recently-used table of convolution algorithms by geometry. */
#include "conv_algo_cache.h"

#include <string.h>

static bool same_geometry(const nn_conv2d_geometry *a, const nn_conv2d_geometry *b,
                          bool ignore_batch)
{
    nn_conv2d_geometry x = *a, y = *b;
    if (ignore_batch)
        x.batch = y.batch = 0;
    /* The struct holds ints only, so there is no padding to compare. */
    return memcmp(&x, &y, sizeof x) == 0;
}

nn_conv_algo_entry *nn_conv_algo_cache_find(nn_conv_algo_cache *cache,
                                            const nn_conv2d_geometry *geometry, int device)
{
    for (int i = 0; i < cache->count; i++) {
        nn_conv_algo_entry *entry = &cache->entries[i];
        if (entry->device == device && same_geometry(&entry->geometry, geometry, false)) {
            entry->last_used = ++cache->clock;
            return entry;
        }
    }
    return NULL;
}

const nn_conv_algo_entry *nn_conv_algo_cache_find_larger_batch(
    const nn_conv_algo_cache *cache, const nn_conv2d_geometry *geometry, int device)
{
    const nn_conv_algo_entry *best = NULL;
    for (int i = 0; i < cache->count; i++) {
        const nn_conv_algo_entry *entry = &cache->entries[i];
        if (entry->device != device || entry->geometry.batch < geometry->batch ||
            !same_geometry(&entry->geometry, geometry, true))
            continue;
        if (!best || entry->geometry.batch < best->geometry.batch)
            best = entry;
    }
    return best;
}

nn_conv_algo_entry *nn_conv_algo_cache_insert(nn_conv_algo_cache *cache,
                                              const nn_conv2d_geometry *geometry, int device)
{
    nn_conv_algo_entry *slot;
    if (cache->count < NN_CONV_ALGO_CACHE_CAPACITY) {
        slot = &cache->entries[cache->count++];
    } else {
        slot = &cache->entries[0];
        for (int i = 1; i < cache->count; i++)
            if (cache->entries[i].last_used < slot->last_used)
                slot = &cache->entries[i];
        if (cache->release && slot->descriptors)
            cache->release(slot->descriptors);
    }
    memset(slot, 0, sizeof *slot);
    slot->geometry = *geometry;
    slot->device = device;
    slot->last_used = ++cache->clock;
    return slot;
}

void nn_conv_algo_cache_clear(nn_conv_algo_cache *cache)
{
    for (int i = 0; i < cache->count; i++)
        if (cache->release && cache->entries[i].descriptors)
            cache->release(cache->entries[i].descriptors);
    cache->count = 0;
}
