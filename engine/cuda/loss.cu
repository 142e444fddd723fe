// Loss, metrics and regularization penalties on the GPU. Rows (or weights) are summed by
// slices into the context's reduction workspace, and one thread adds the slices and
// writes the result into the batch statistics, which stay on the device until the loop
// reads them once per batch.
#include "cuda_kernels.h"
#include "bodies/loss_body.h"
#include "bodies/update_body.h"
#include "launch.cuh"

static const size_t SLICES = NN_REDUCE_SLICES;

static __global__ void loss_partial_kernel(double *partials, float *dlogits,
                                           nn_body_loss_plan plan, const float *labels,
                                           const float *weights, int64_t batch, int64_t width)
{
    NN_FOR_EACH(s, SLICES)
        nn_body_loss_partial(partials, dlogits, plan, labels, weights, batch, width, SLICES, s);
}

// target = sum · scale (or target += it when accumulate).
static __global__ void finish_sum_kernel(double *target, const double *partials, double scale,
                                         int accumulate)
{
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        double value = nn_body_sum_partials(partials, SLICES) * scale;
        *target = accumulate ? *target + value : value;
    }
}

static __global__ void nonbinary_partial_kernel(double *partials, const float *labels, size_t n)
{
    NN_FOR_EACH(s, SLICES) nn_body_nonbinary_partial(partials, labels, n, SLICES, s);
}

// The hinge losses and metrics look at the whole batch's labels before any row: the
// count of labels neither 0 nor 1 goes to a scalar after the partial sums (the second
// half of the workspace holds its own partials), which the rows then read.
static const double *count_nonbinary(nn_cuda_context *context, const float *labels, size_t n)
{
    double *partials = context->reduce + SLICES, *count = context->reduce + 2 * SLICES + 1;
    nonbinary_partial_kernel<<<nn_blocks(SLICES), NN_THREADS, 0, context->stream>>>(
        partials, labels, n);
    NN_CUDA_LAUNCHED("nonbinary_labels");
    finish_sum_kernel<<<1, 1, 0, context->stream>>>(count, partials, 1.0, 0);
    NN_CUDA_LAUNCHED("nonbinary_sum");
    return count;
}

static __global__ void fill_nan_kernel(float *target, size_t n)
{
    NN_FOR_EACH(i, n) target[i] = NAN;
}

extern "C" void nn_cuda_loss_forward_backward(double *loss, float *dlogits,
                                              const nn_loss *loss_kind, nn_activation last,
                                              const float *pred, const float *logits,
                                              const float *labels,
                                              const float *row_weights, int64_t batch,
                                              int64_t width)
{
    size_t n = (size_t)(batch > 0 && width > 0 ? batch * width : 0);
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context)
        return;
    if (n == 0) {
        nn_cuda_ok(cudaMemsetAsync(loss, 0, sizeof *loss, context->stream),
                   "cudaMemsetAsync (empty loss)");
        return;
    }
    nn_body_loss_plan plan = nn_body_loss_plan_make(loss_kind, last, pred, logits, batch, width);
    if (nn_body_loss_counts_nonbinary(loss_kind->kind))
        plan.nonbinary_labels = count_nonbinary(context, labels, n);
    loss_partial_kernel<<<nn_blocks(SLICES), NN_THREADS, 0, context->stream>>>(
        context->reduce, dlogits, plan, labels, row_weights, batch, width);
    NN_CUDA_LAUNCHED("loss_rows");
    finish_sum_kernel<<<1, 1, 0, context->stream>>>(loss, context->reduce, plan.loss_scale, 0);
    NN_CUDA_LAUNCHED("loss_sum");
    if (!dlogits || !plan.through_activation)
        return;
    // dloss/dpred through the last activation; without the logits an activation whose
    // derivative needs its input cannot be done, and NaN makes that loud (as loss.c).
    if (!logits && nn_activation_backward_needs_input(last.kind)) {
        fill_nan_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(dlogits, n);
        NN_CUDA_LAUNCHED("loss_nan");
        return;
    }
    nn_cuda_activation_backward(last, dlogits, dlogits, logits, pred, n, (size_t)width);
}

static __global__ void metric_partial_kernel(double *partials, nn_body_metric metric,
                                             const float *pred, const float *labels,
                                             const float *row_weights, const double *nonbinary,
                                             int64_t batch, int64_t width)
{
    NN_FOR_EACH(s, SLICES)
        nn_body_metric_partial(partials, metric, pred, labels, row_weights, nonbinary, batch,
                               width, SLICES, s);
}

extern "C" void nn_cuda_metric_sum(double *sum, const nn_metric *metric, const float *pred,
                                   const float *labels, const float *row_weights,
                                   int64_t batch, int64_t width)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)(batch > 0 ? batch : 0));
    nn_body_metric body = nn_body_metric_of(metric, width);
    const double *nonbinary = nn_body_metric_counts_nonbinary(body.kind)
                                  ? count_nonbinary(context, labels, (size_t)(batch * width))
                                  : NULL;
    metric_partial_kernel<<<nn_blocks(SLICES), NN_THREADS, 0, context->stream>>>(
        context->reduce, body, pred, labels, row_weights, nonbinary, batch, width);
    NN_CUDA_LAUNCHED("metric_rows");
    finish_sum_kernel<<<1, 1, 0, context->stream>>>(sum, context->reduce, 1.0, 1);
    NN_CUDA_LAUNCHED("metric_sum");
}

// One thread per slot (bucket and label sign) reads every value: no atomics, so the
// counts are the same on every run. A value counts its row's weight (1 without weights).
static __global__ void curve_counts_kernel(double *counts, const float *pred,
                                           const float *labels, const float *row_weights,
                                           int64_t n, int64_t width, int64_t thresholds)
{
    NN_FOR_EACH(slot, (size_t)(2 * thresholds)) {
        double count = 0.0;
        for (int64_t i = 0; i < n; i++)
            if (nn_body_curve_slot(pred[i], labels[i], thresholds) == (int64_t)slot)
                count += nn_body_row_weight(row_weights, i / width);
        counts[slot] += count;
    }
}

extern "C" void nn_cuda_curve_counts(double *counts, const float *pred, const float *labels,
                                     const float *row_weights, int64_t n, int64_t width,
                                     int64_t thresholds)
{
    NN_CUDA_STREAM_OR_RETURN(context, (size_t)(n > 0 ? n : 0));
    curve_counts_kernel<<<nn_blocks((size_t)(2 * thresholds)), NN_THREADS, 0,
                          context->stream>>>(counts, pred, labels, row_weights, n, width,
                                             thresholds);
    NN_CUDA_LAUNCHED("curve_counts");
}

static __global__ void penalty_partial_kernel(double *partials, const float *w, size_t n)
{
    NN_FOR_EACH(s, SLICES) nn_body_penalty_partial(partials, w, n, SLICES, s);
}

static __global__ void penalty_total_kernel(double *penalty, const double *partials, float l1,
                                            float l2)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
        *penalty += nn_body_penalty_total(partials, SLICES, l1, l2);
}

static __global__ void penalty_gradient_kernel(float *grad, const float *w, float l1,
                                               float two_l2, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_penalty_gradient(grad, w, l1, two_l2, i);
}

static void penalty(nn_cuda_context *context, double *target, const float *w, size_t n,
                    nn_regularizer regularizer)
{
    penalty_partial_kernel<<<nn_blocks(SLICES), NN_THREADS, 0, context->stream>>>(
        context->reduce, w, n);
    NN_CUDA_LAUNCHED("penalty_partial_sums");
    penalty_total_kernel<<<1, 1, 0, context->stream>>>(target, context->reduce, regularizer.l1,
                                                       regularizer.l2);
    NN_CUDA_LAUNCHED("penalty_total");
}

extern "C" void nn_cuda_weight_penalty(double *penalty_sum, float *grad, const float *weights,
                                       size_t n, nn_regularizer regularizer)
{
    NN_CUDA_STREAM_OR_RETURN(context, n);
    penalty(context, penalty_sum, weights, n, regularizer);
    if (!grad)
        return;
    penalty_gradient_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        grad, weights, regularizer.l1, 2.0f * regularizer.l2, n);
    NN_CUDA_LAUNCHED("weight_penalty_gradient");
}
