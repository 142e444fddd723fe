/* Every cuDNN call of nnsh: 2-D convolution forward, backward-data and backward-filter
 * through cuDNN's legacy convolution API, with the algorithms found by cuDNN's search once
 * per shape (host/conv_algo_cache) and the workspace carved from the scratch the layer
 * passes in. Keeping cuDNN in this one file lets it move to the graph API (which cuDNN 9
 * recommends; it marks these functions deprecated but keeps them working) without
 * touching anything else. Pooling, batch normalisation and activations use nnsh's own
 * kernels, which match the CPU's rounding rules and argmax conventions.
 *
 * Layouts: activations are NHWC, as everywhere in nnsh. cuDNN's NHWC filters are
 * (OC, KH, KW, C/G) while Keras keeps (KH, KW, C/G, OC), so the kernel is transposed into
 * the scratch before each call and its gradient back after. cuDNN pads symmetrically;
 * Keras' 'same' puts the extra cell after, so such inputs are padded explicitly. */
#include <cudnn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cuda_internal.h"
#include "cuda_kernels.h"
#include "host/conv_algo_cache.h"
#include "host/conv_plan.h"

/* The most workspace one convolution may use, and at most this fraction of free memory:
 * the fastest algorithms rarely need more, and the rest of a model must still fit. */
static const size_t WORKSPACE_LIMIT = (size_t)256 << 20;
enum { WORKSPACE_FREE_FRACTION = 4, ALGORITHM_CANDIDATES = 8, SCRATCH_ALIGNMENT = 256 };

static bool cudnn_ok(cudnnStatus_t status, const char *call)
{
    if (status == CUDNN_STATUS_SUCCESS)
        return true;
    char name[32];
    snprintf(name, sizeof name, "cudnnStatus %d", (int)status);
    nn_cuda_note(status == CUDNN_STATUS_ALLOC_FAILED ? NN_ERR_MEMORY : NN_ERR_DEVICE, "cuDNN",
                 call, name, cudnnGetErrorString(status));
    return false;
}

int nn_cuda_cudnn_version(void) { return (int)cudnnGetVersion(); }

int nn_cuda_cudnn_compiled_version(void) { return CUDNN_VERSION; }

/* The cuDNN handle of the current GPU, on its stream; created on first use (it loads
 * cuDNN's sub-libraries, which takes a moment). */
static cudnnHandle_t handle_of(nn_cuda_context *context)
{
    if (context->cudnn)
        return (cudnnHandle_t)context->cudnn;
    cudnnHandle_t handle = NULL;
    if (!cudnn_ok(cudnnCreate(&handle), "cudnnCreate"))
        return NULL;
    if (!cudnn_ok(cudnnSetStream(handle, context->stream), "cudnnSetStream")) {
        cudnnDestroy(handle);
        return NULL;
    }
    context->cudnn = handle;
    return handle;
}

/* The descriptors of one geometry, owned by its cache entry. */
typedef struct conv_descriptors {
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t convolution;
} conv_descriptors;

static void release_descriptors(void *pointer)
{
    conv_descriptors *d = pointer;
    if (d->x)
        cudnnDestroyTensorDescriptor(d->x);
    if (d->y)
        cudnnDestroyTensorDescriptor(d->y);
    if (d->w)
        cudnnDestroyFilterDescriptor(d->w);
    if (d->convolution)
        cudnnDestroyConvolutionDescriptor(d->convolution);
    free(d);
}

static nn_conv_algo_cache algorithm_cache = {.release = release_descriptors};

static conv_descriptors *make_descriptors(const nn_conv2d_geometry *g, const nn_conv_plan *plan,
                                          bool allow_tf32)
{
    conv_descriptors *d = calloc(1, sizeof *d);
    if (!d) {
        nn_cuda_note(NN_ERR_MEMORY, "nnsh", "convolution descriptors", "ENOMEM",
                     "out of host memory");
        return NULL;
    }
    int group_channels = g->in_channels / g->groups;
    bool ok =
        cudnn_ok(cudnnCreateTensorDescriptor(&d->x), "cudnnCreateTensorDescriptor") &&
        cudnn_ok(cudnnCreateTensorDescriptor(&d->y), "cudnnCreateTensorDescriptor") &&
        cudnn_ok(cudnnCreateFilterDescriptor(&d->w), "cudnnCreateFilterDescriptor") &&
        cudnn_ok(cudnnCreateConvolutionDescriptor(&d->convolution),
                 "cudnnCreateConvolutionDescriptor") &&
        cudnn_ok(cudnnSetTensor4dDescriptor(d->x, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g->batch,
                                            g->in_channels, plan->input_height,
                                            plan->input_width),
                 "cudnnSetTensor4dDescriptor (input)") &&
        cudnn_ok(cudnnSetTensor4dDescriptor(d->y, CUDNN_TENSOR_NHWC, CUDNN_DATA_FLOAT, g->batch,
                                            g->out_channels, g->out_height, g->out_width),
                 "cudnnSetTensor4dDescriptor (output)") &&
        cudnn_ok(cudnnSetFilter4dDescriptor(d->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NHWC,
                                            g->out_channels, group_channels, g->kernel_height,
                                            g->kernel_width),
                 "cudnnSetFilter4dDescriptor") &&
        cudnn_ok(cudnnSetConvolution2dDescriptor(
                     d->convolution, plan->cudnn_pad_height, plan->cudnn_pad_width,
                     g->stride_height, g->stride_width, g->dilation_height, g->dilation_width,
                     CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
                 "cudnnSetConvolution2dDescriptor") &&
        cudnn_ok(cudnnSetConvolutionGroupCount(d->convolution, g->groups),
                 "cudnnSetConvolutionGroupCount") &&
        /* FMA math is plain FP32; the default lets Ampere and later use TF32 tensor
         * cores, as TensorFlow and PyTorch do for convolutions (NNSH_CUDA_TF32=0: off). */
        cudnn_ok(cudnnSetConvolutionMathType(d->convolution, allow_tf32 ? CUDNN_DEFAULT_MATH
                                                                        : CUDNN_FMA_MATH),
                 "cudnnSetConvolutionMathType");
    if (ok) {
        /* The output size cuDNN derives must be Keras' one; the plan guarantees it. */
        int n = 0, c = 0, h = 0, w = 0;
        ok = cudnn_ok(cudnnGetConvolution2dForwardOutputDim(d->convolution, d->x, d->w, &n, &c,
                                                            &h, &w),
                      "cudnnGetConvolution2dForwardOutputDim");
        if (ok && (n != g->batch || c != g->out_channels || h != g->out_height ||
                   w != g->out_width)) {
            char text[160];
            snprintf(text, sizeof text, "cuDNN computes output (%d, %d, %d, %d), nnsh (%d, %d, "
                     "%d, %d)", n, h, w, c, g->batch, g->out_height, g->out_width,
                     g->out_channels);
            nn_cuda_note(NN_ERR_DEVICE, "nnsh", "convolution plan", "shape mismatch", text);
            ok = false;
        }
    }
    if (!ok) {
        release_descriptors(d);
        return NULL;
    }
    return d;
}

/* Whether an algorithm measured under math type `measured` may run with the descriptor's
 * `math`. cuDNN wants the descriptor to allow what a search result used, and the
 * descriptor is shared by the three directions: plain FP32 (FMA) takes only FMA results;
 * the default type allows tensor cores (TF32), so everything but the conversion to
 * half precision, which nnsh never asks for. */
static bool math_allows(cudnnMathType_t math, cudnnMathType_t measured)
{
    if (math == CUDNN_FMA_MATH)
        return measured == CUDNN_FMA_MATH;
    return measured != CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

/* The first candidate that succeeded, fits the workspace limit and runs under the
 * descriptor's math type, from a search or heuristic result list (fastest first). */
#define PICK(perf, returned, limit, math, chosen_algorithm, chosen_memory)                \
    do {                                                                                  \
        for (int i_ = 0; i_ < (returned); i_++) {                                          \
            if ((perf)[i_].status == CUDNN_STATUS_SUCCESS && (perf)[i_].memory <= (limit) && \
                math_allows((math), (perf)[i_].mathType)) {                               \
                (chosen_algorithm) = (int)(perf)[i_].algo;                                \
                (chosen_memory) = (perf)[i_].memory;                                      \
                break;                                                                    \
            }                                                                             \
        }                                                                                 \
    } while (0)

/* Whether a search or heuristic call succeeded; a failure's status is kept in *failed,
 * so that when no algorithm is found the error says why (out of memory, say). */
static bool searched(cudnnStatus_t status, cudnnStatus_t *failed)
{
    if (status != CUDNN_STATUS_SUCCESS)
        *failed = status;
    return status == CUDNN_STATUS_SUCCESS;
}

/* Fills the entry's three algorithms: cuDNN's search (it runs each candidate), then its
 * heuristics when the search fails (for instance for lack of memory), then the
 * algorithms that need no workspace. */
static bool choose_algorithms(nn_conv_algo_entry *entry, cudnnHandle_t handle,
                              const conv_descriptors *d, size_t limit)
{
    cudnnMathType_t math = CUDNN_DEFAULT_MATH;
    if (!cudnn_ok(cudnnGetConvolutionMathType(d->convolution, &math),
                  "cudnnGetConvolutionMathType"))
        return false;
    int returned = 0, forward = -1, backward_data = -1, backward_filter = -1;
    size_t forward_memory = 0, data_memory = 0, filter_memory = 0;
    cudnnConvolutionFwdAlgoPerf_t forward_perf[ALGORITHM_CANDIDATES];
    cudnnConvolutionBwdDataAlgoPerf_t data_perf[ALGORITHM_CANDIDATES];
    cudnnConvolutionBwdFilterAlgoPerf_t filter_perf[ALGORITHM_CANDIDATES];
    cudnnStatus_t failed = CUDNN_STATUS_SUCCESS;

    if (searched(cudnnFindConvolutionForwardAlgorithm(handle, d->x, d->w, d->convolution,
                                                      d->y, ALGORITHM_CANDIDATES, &returned,
                                                      forward_perf),
                 &failed))
        PICK(forward_perf, returned, limit, math, forward, forward_memory);
    if (forward < 0 &&
        searched(cudnnGetConvolutionForwardAlgorithm_v7(handle, d->x, d->w, d->convolution,
                                                        d->y, ALGORITHM_CANDIDATES, &returned,
                                                        forward_perf),
                 &failed))
        PICK(forward_perf, returned, limit, math, forward, forward_memory);

    if (searched(cudnnFindConvolutionBackwardDataAlgorithm(handle, d->w, d->y, d->convolution,
                                                           d->x, ALGORITHM_CANDIDATES,
                                                           &returned, data_perf),
                 &failed))
        PICK(data_perf, returned, limit, math, backward_data, data_memory);
    if (backward_data < 0 &&
        searched(cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, d->w, d->y,
                                                             d->convolution, d->x,
                                                             ALGORITHM_CANDIDATES, &returned,
                                                             data_perf),
                 &failed))
        PICK(data_perf, returned, limit, math, backward_data, data_memory);

    if (searched(cudnnFindConvolutionBackwardFilterAlgorithm(handle, d->x, d->y,
                                                             d->convolution, d->w,
                                                             ALGORITHM_CANDIDATES, &returned,
                                                             filter_perf),
                 &failed))
        PICK(filter_perf, returned, limit, math, backward_filter, filter_memory);
    if (backward_filter < 0 &&
        searched(cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, d->x, d->y,
                                                               d->convolution, d->w,
                                                               ALGORITHM_CANDIDATES, &returned,
                                                               filter_perf),
                 &failed))
        PICK(filter_perf, returned, limit, math, backward_filter, filter_memory);

    /* A failed search leaves an error behind in the runtime; it is not the caller's. */
    cudaGetLastError();
    if (forward < 0 || backward_data < 0 || backward_filter < 0) {
        if (failed != CUDNN_STATUS_SUCCESS)
            return cudnn_ok(failed, "convolution algorithm search");
        nn_cuda_note(NN_ERR_DEVICE, "cuDNN", "convolution algorithm search",
                     "CUDNN_STATUS_NOT_SUPPORTED",
                     "no forward, backward-data or backward-filter algorithm supports this "
                     "convolution within the workspace limit");
        return false;
    }
    entry->forward_algorithm = forward;
    entry->backward_data_algorithm = backward_data;
    entry->backward_filter_algorithm = backward_filter;
    size_t workspace = forward_memory > data_memory ? forward_memory : data_memory;
    entry->workspace_bytes = workspace > filter_memory ? workspace : filter_memory;
    return true;
}

/* The cached algorithms of a geometry, searched on first sight. A geometry that only
 * differs from a cached one by a smaller batch (a fit's last batch) may use at most that
 * one's workspace, which is what the scratch was sized for. */
static const nn_conv_algo_entry *entry_for(nn_cuda_context *context,
                                           const nn_conv2d_geometry *g, bool sizing)
{
    nn_conv_algo_entry *entry = nn_conv_algo_cache_find(&algorithm_cache, g, context->index);
    if (entry)
        return entry;
    cudnnHandle_t handle = handle_of(context);
    if (!handle)
        return NULL;
    size_t limit = 0;
    const nn_conv_algo_entry *larger =
        nn_conv_algo_cache_find_larger_batch(&algorithm_cache, g, context->index);
    if (larger) {
        limit = larger->workspace_bytes;
    } else if (sizing) {
        size_t free_bytes = 0, total_bytes = 0;
        limit = WORKSPACE_LIMIT;
        if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess &&
            free_bytes / WORKSPACE_FREE_FRACTION < limit)
            limit = free_bytes / WORKSPACE_FREE_FRACTION;
        cudaGetLastError();
    }
    /* else: called without the scratch having been sized for this shape; only
     * algorithms without workspace are safe. */
    nn_conv_plan plan = nn_conv_plan_make(g, 0);
    conv_descriptors *descriptors = make_descriptors(g, &plan, context->allow_tf32);
    if (!descriptors)
        return NULL;
    nn_conv_algo_entry candidate = {0};
    if (!choose_algorithms(&candidate, handle, descriptors, limit)) {
        release_descriptors(descriptors);
        return NULL;
    }
    entry = nn_conv_algo_cache_insert(&algorithm_cache, g, context->index);
    entry->forward_algorithm = candidate.forward_algorithm;
    entry->backward_data_algorithm = candidate.backward_data_algorithm;
    entry->backward_filter_algorithm = candidate.backward_filter_algorithm;
    entry->workspace_bytes = candidate.workspace_bytes;
    entry->descriptors = descriptors;
    return entry;
}

size_t nn_cuda_conv2d_scratch_floats(const nn_conv2d_geometry *geometry)
{
    /* Called when a model reserves its buffers, outside the training loop: the right
     * moment for the search. If it fails, the convolution itself reports why. */
    nn_cuda_context *context = nn_cuda_context_current();
    const nn_conv_algo_entry *entry = context ? entry_for(context, geometry, true) : NULL;
    nn_conv_plan plan = nn_conv_plan_make(geometry, entry ? entry->workspace_bytes : 0);
    return plan.total_floats + SCRATCH_ALIGNMENT / sizeof(float);
}

/* The scratch from its first 256-byte boundary (the layer's partitions are 64-byte
 * aligned; cuDNN's fastest kernels want more). */
static float *aligned_scratch(float *scratch)
{
    uintptr_t address = (uintptr_t)scratch;
    uintptr_t rounded = (address + SCRATCH_ALIGNMENT - 1) / SCRATCH_ALIGNMENT * SCRATCH_ALIGNMENT;
    return (float *)(void *)((char *)scratch + (rounded - address));
}

void nn_cuda_conv2d_forward(float *out, const float *inp, const float *kernel,
                            const float *bias, nn_activation activation,
                            const nn_conv2d_geometry *geometry, float *scratch)
{
    const nn_conv2d_geometry *g = geometry;
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context || g->batch <= 0)
        return;
    const nn_conv_algo_entry *entry = entry_for(context, g, false);
    if (!entry)
        return;
    const conv_descriptors *d = entry->descriptors;
    cudnnHandle_t handle = handle_of(context);
    nn_conv_plan plan = nn_conv_plan_make(g, entry->workspace_bytes);
    float *base = aligned_scratch(scratch);
    float *kernel_cudnn = base + plan.kernel_offset;
    nn_cuda_kernel_to_cudnn(kernel_cudnn, kernel, g->kernel_height, g->kernel_width,
                            g->in_channels / g->groups, g->out_channels);
    const float *x = inp;
    if (plan.explicit_padding) {
        float *padded = base + plan.padded_input_offset;
        nn_cuda_pad(padded, inp, g->batch, g->in_height, g->in_width, g->in_channels,
                    plan.input_height, plan.input_width, g->pad_top, g->pad_left);
        x = padded;
    }
    const float one = 1.0f, zero = 0.0f;
    cudnn_ok(cudnnConvolutionForward(handle, &one, d->x, x, d->w,
                                     kernel_cudnn, d->convolution,
                                     (cudnnConvolutionFwdAlgo_t)entry->forward_algorithm,
                                     base + plan.workspace_offset, entry->workspace_bytes, &zero,
                                     d->y, out),
             "cudnnConvolutionForward");
    nn_cuda_bias_activate(out, bias,
                          (size_t)g->batch * (size_t)g->out_height * (size_t)g->out_width,
                          (size_t)g->out_channels, activation);
}

void nn_cuda_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                             const float *inp, const float *kernel,
                             const nn_conv2d_geometry *geometry, float *scratch)
{
    const nn_conv2d_geometry *g = geometry;
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context || g->batch <= 0)
        return;
    const nn_conv_algo_entry *entry = entry_for(context, g, false);
    if (!entry)
        return;
    const conv_descriptors *d = entry->descriptors;
    cudnnHandle_t handle = handle_of(context);
    nn_conv_plan plan = nn_conv_plan_make(g, entry->workspace_bytes);
    float *base = aligned_scratch(scratch);
    float *workspace = base + plan.workspace_offset;
    int group_channels = g->in_channels / g->groups;
    const float one = 1.0f, zero = 0.0f;

    const float *x = inp;
    if (plan.explicit_padding && dkernel) {
        float *padded = base + plan.padded_input_offset;
        nn_cuda_pad(padded, inp, g->batch, g->in_height, g->in_width, g->in_channels,
                    plan.input_height, plan.input_width, g->pad_top, g->pad_left);
        x = padded;
    }
    if (dinp) {
        float *kernel_cudnn = base + plan.kernel_offset;
        nn_cuda_kernel_to_cudnn(kernel_cudnn, kernel, g->kernel_height, g->kernel_width,
                                group_channels, g->out_channels);
        float *dx = plan.explicit_padding ? base + plan.padded_dinput_offset : dinp;
        cudnn_ok(cudnnConvolutionBackwardData(
                     handle, &one, d->w, kernel_cudnn, d->y, dout, d->convolution,
                     (cudnnConvolutionBwdDataAlgo_t)entry->backward_data_algorithm, workspace,
                     entry->workspace_bytes, &zero, d->x, dx),
                 "cudnnConvolutionBackwardData");
        if (plan.explicit_padding)
            nn_cuda_crop(dinp, dx, g->batch, g->in_height, g->in_width, g->in_channels,
                         plan.input_height, plan.input_width, g->pad_top, g->pad_left);
    }
    if (dkernel) {
        float *dkernel_cudnn = base + plan.dkernel_offset;
        cudnn_ok(cudnnConvolutionBackwardFilter(
                     handle, &one, d->x, x, d->y, dout, d->convolution,
                     (cudnnConvolutionBwdFilterAlgo_t)entry->backward_filter_algorithm,
                     workspace, entry->workspace_bytes, &zero, d->w, dkernel_cudnn),
                 "cudnnConvolutionBackwardFilter");
        nn_cuda_kernel_from_cudnn(dkernel, dkernel_cudnn, g->kernel_height, g->kernel_width,
                                  group_channels, g->out_channels);
    }
    if (dbias)
        nn_cuda_column_sums_sliced(dbias, (double *)(void *)(base + plan.bias_partials_offset),
                                   dout, (size_t)g->batch * (size_t)g->out_height *
                                             (size_t)g->out_width,
                                   (size_t)g->out_channels);
}
