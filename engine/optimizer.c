/* STUB: to be replaced by the real optimizers. */
#include "optimizer.h"

#include <stdlib.h>

nn_optimizer_config nn_optimizer_defaults(nn_optimizer_kind kind)
{
    nn_optimizer_config config = {.kind = kind, .learning_rate = 0.01};
    return config;
}
nn_status nn_optimizer_parse(const char *name, nn_optimizer_kind *kind)
{
    (void)name;
    *kind = NN_OPTIMIZER_SGD;
    return NN_OK;
}
const char *nn_optimizer_name(nn_optimizer_kind kind) { (void)kind; return "sgd"; }
const char *const *nn_optimizer_names(void)
{
    static const char *const names[] = {"sgd", NULL};
    return names;
}
nn_status nn_optimizer_create(nn_optimizer **out, const nn_optimizer_config *config,
                              size_t count)
{
    nn_optimizer *optimizer = calloc(1, sizeof *optimizer);
    if (!optimizer)
        return nn_error(NN_ERR_MEMORY, "out of memory");
    optimizer->config = *config;
    optimizer->count = count;
    *out = optimizer;
    return NN_OK;
}
void nn_optimizer_free(nn_optimizer *optimizer) { free(optimizer); }
const char *nn_optimizer_slot_name(const nn_optimizer *optimizer, int slot)
{
    (void)optimizer, (void)slot;
    return "";
}
void nn_optimizer_step(nn_optimizer *optimizer, float *weights, const float *grads,
                       const unsigned char *decay_mask)
{
    (void)decay_mask;
    float rate = (float)optimizer->config.learning_rate;
    for (size_t i = 0; i < optimizer->count; i++)
        weights[i] -= rate * grads[i];
    optimizer->iterations++;
}
