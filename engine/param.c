/* STUB: to be replaced by real initializers, regularizers and constraints. */
#include "param.h"

#include <string.h>

nn_initializer nn_initializer_default(nn_initializer_kind kind)
{
    nn_initializer initializer = {.kind = kind};
    return initializer;
}
nn_status nn_initializer_parse(const char *name, nn_initializer *initializer)
{
    (void)name;
    *initializer = nn_initializer_default(NN_INITIALIZER_ZEROS);
    return NN_OK;
}
const char *nn_initializer_name(nn_initializer_kind kind) { (void)kind; return "zeros"; }
const char *const *nn_initializer_names(void)
{
    static const char *const names[] = {"zeros", NULL};
    return names;
}
nn_status nn_initializer_fill(const nn_initializer *initializer, nn_tensor *tensor,
                              uint64_t seed, uint64_t stream)
{
    (void)initializer;
    nn_rng rng;
    nn_rng_init(&rng, seed, stream);
    size_t n = nn_tensor_count(tensor);
    float *data = nn_tensor_f32(tensor);
    for (size_t i = 0; i < n; i++)
        data[i] = (nn_rng_uniform(&rng) - 0.5f) * 0.2f;
    return NN_OK;
}
nn_status nn_regularizer_parse(const char *name, nn_regularizer *regularizer)
{
    (void)name;
    memset(regularizer, 0, sizeof *regularizer);
    return NN_OK;
}
bool nn_regularizer_active(const nn_regularizer *regularizer)
{
    return regularizer->l1 != 0.0f || regularizer->l2 != 0.0f;
}
double nn_regularizer_apply(const nn_regularizer *regularizer, const float *w, float *grad,
                            size_t n)
{
    (void)regularizer, (void)w, (void)grad, (void)n;
    return 0.0;
}
nn_constraint nn_constraint_default(nn_constraint_kind kind)
{
    nn_constraint constraint = {.kind = kind};
    return constraint;
}
nn_status nn_constraint_parse(const char *name, nn_constraint *constraint)
{
    (void)name;
    *constraint = nn_constraint_default(NN_CONSTRAINT_NONE);
    return NN_OK;
}
const char *nn_constraint_name(nn_constraint_kind kind) { (void)kind; return "none"; }
const char *const *nn_constraint_names(void)
{
    static const char *const names[] = {NULL};
    return names;
}
nn_status nn_constraint_apply(const nn_constraint *constraint, nn_tensor *weights)
{
    (void)constraint, (void)weights;
    return NN_OK;
}
