// Optimizer steps and constraints on the GPU: one fused kernel per step (weight decay,
// clipping and the update, in the CPU's order of operations), skipped on the device
// when the batch's loss was not finite, so the host never waits for the loss first.
#include "cuda_kernels.h"
#include "bodies/update_body.h"
#include "launch.cuh"

static const size_t SLICES = NN_REDUCE_SLICES;

static __global__ void squares_partial_kernel(double *partials, const float *values, size_t n)
{
    NN_FOR_EACH(s, SLICES) nn_body_squares_partial(partials, values, n, SLICES, s);
}

static __global__ void clipnorm_kernel(float *scale, const double *partials, double clipnorm)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        double squares = 0.0;
        for (size_t s = 0; s < SLICES; s++)
            squares += partials[s];
        *scale = nn_body_clipnorm_scale(squares, clipnorm);
    }
}

static __global__ void update_kernel(float *w, float *slot0, float *slot1, float *slot2,
                                     const float *grads, const unsigned char *decay_mask,
                                     nn_body_step step, const float *clip_scale,
                                     const nn_batch_stats *guard, size_t n)
{
    if (!nn_body_guard_allows(guard))
        return;
    float scale = clip_scale ? *clip_scale : 1.0f;
    NN_FOR_EACH(i, n) nn_body_optimizer_update(w, slot0, slot1, slot2, grads, decay_mask, &step, scale, i);
}

extern "C" void nn_cuda_optimizer_step(float *weights, float *const slots[3],
                                       const float *grads, const unsigned char *decay_mask,
                                       const nn_optimizer_config *config, long long iteration,
                                       size_t count, const nn_batch_stats *guard)
{
    NN_CUDA_STREAM_OR_RETURN(context, count);
    const float *clip_scale = NULL;
    if (config->clipnorm > 0.0) {
        // Keras' clip_by_norm over the buffer given (one weight tensor for clipnorm, all
        // of them for global_clipnorm; see optimizer_update in model.c): its norm first.
        float *scale = (float *)(void *)(context->reduce + 2 * SLICES);
        squares_partial_kernel<<<nn_blocks(SLICES), NN_THREADS, 0, context->stream>>>(
            context->reduce, grads, count);
        NN_CUDA_LAUNCHED("clipnorm_partial_sums");
        clipnorm_kernel<<<1, 1, 0, context->stream>>>(scale, context->reduce, config->clipnorm);
        NN_CUDA_LAUNCHED("clipnorm_scale");
        clip_scale = scale;
    }
    update_kernel<<<nn_blocks(count), NN_THREADS, 0, context->stream>>>(
        weights, slots[0], slots[1], slots[2], grads, decay_mask,
        nn_body_step_make(config, iteration), clip_scale, guard, count);
    NN_CUDA_LAUNCHED("optimizer_step");
}

extern "C" size_t nn_cuda_constraint_scratch_floats(const nn_constraint *constraint,
                                                    const nn_shape *shape)
{
    return 2 * nn_constraint_groups(constraint, shape); // one double per norm
}

static __global__ void non_negative_kernel(float *w, const nn_batch_stats *guard, size_t n)
{
    if (!nn_body_guard_allows(guard))
        return;
    NN_FOR_EACH(i, n) nn_body_non_negative(w, i);
}

static __global__ void factor_kernel(double *factors, const float *w, nn_body_norm_groups groups,
                                     nn_constraint constraint, const nn_batch_stats *guard,
                                     size_t count)
{
    if (!nn_body_guard_allows(guard))
        return;
    NN_FOR_EACH(group, count) nn_body_constraint_factor(factors, w, &groups, constraint, group);
}

static __global__ void scale_kernel(float *w, const double *factors, nn_body_norm_groups groups,
                                    const nn_batch_stats *guard, size_t n)
{
    if (!nn_body_guard_allows(guard))
        return;
    NN_FOR_EACH(i, n) nn_body_constraint_scale(w, factors, &groups, i);
}

extern "C" void nn_cuda_constraint_apply(float *weights, const nn_constraint *constraint,
                                         const nn_shape *shape, const nn_batch_stats *guard,
                                         float *scratch)
{
    size_t n = 1;
    for (int axis = 0; axis < shape->ndim; axis++)
        n *= (size_t)shape->dims[axis];
    if (constraint->kind == NN_CONSTRAINT_NONE)
        return;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    if (constraint->kind == NN_CONSTRAINT_NON_NEG) {
        non_negative_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(weights, guard, n);
        NN_CUDA_LAUNCHED("constraint_non_neg");
        return;
    }
    nn_body_norm_groups groups;
    groups.ndim = shape->ndim;
    groups.axes = constraint->axes;
    for (int axis = 0; axis < NN_MAX_DIMS; axis++)
        groups.dims[axis] = axis < shape->ndim ? (uint64_t)shape->dims[axis] : 0;
    size_t count = nn_constraint_groups(constraint, shape);
    double *factors = (double *)(void *)scratch;
    factor_kernel<<<nn_blocks(count), NN_THREADS, 0, context->stream>>>(
        factors, weights, groups, *constraint, guard, count);
    NN_CUDA_LAUNCHED("constraint_norms");
    scale_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(weights, factors, groups,
                                                                  guard, n);
    NN_CUDA_LAUNCHED("constraint_scale");
}
