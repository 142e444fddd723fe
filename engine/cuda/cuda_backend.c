/* The CUDA backend: the per-GPU state (streams, cuBLAS handle, reduction workspace),
 * memory and copies, the recording of failed calls, the backend table, and what gpu.h
 * promises (device count, properties, versions). Kernels are in the .cu files, Dense in
 * dense.c and every cuDNN call in cudnn_ops.c. */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../gpu.h"
#include "cublas_loader.h"
#include "cuda_internal.h"
#include "cuda_kernels.h"
#include "host/device_error.h"

/* The first failure of a queued call, until check() or synchronize() reports it. */
static nn_device_error pending;
static nn_cuda_context contexts[NN_CUDA_MAX_DEVICES];
static int current_index;

void nn_cuda_note(nn_status status, const char *library, const char *call, const char *name,
                  const char *text)
{
    nn_device_error_note(&pending, status, library, call, name, text);
}

bool nn_cuda_ok(cudaError_t error, const char *call)
{
    if (error == cudaSuccess)
        return true;
    nn_status status = error == cudaErrorMemoryAllocation ? NN_ERR_MEMORY : NN_ERR_DEVICE;
    nn_cuda_note(status, "CUDA", call, cudaGetErrorName(error), cudaGetErrorString(error));
    return false;
}

bool nn_cublas_ok(cublasStatus_t status, const char *call)
{
    if (status == CUBLAS_STATUS_SUCCESS)
        return true;
    const nn_cublas_api *cublas = nn_cublas(); /* loaded: status came from it */
    nn_cuda_note(status == CUBLAS_STATUS_ALLOC_FAILED ? NN_ERR_MEMORY : NN_ERR_DEVICE, "cuBLAS",
                 call, cublas ? cublas->status_name(status) : "?",
                 cublas ? cublas->status_string(status) : "?");
    return false;
}

/* ---- devices ---- */

static bool counted;
static int gpu_count;
static char count_reason[512];

int nn_gpu_count(char *why, size_t size)
{
    if (!counted) {
        counted = true;
        /* Without a usable driver or GPU, cudaGetDeviceCount returns an error and leaves
         * its output as it was: start from 0. */
        int count = 0;
        cudaError_t error = cudaGetDeviceCount(&count);
        if (error != cudaSuccess) {
            snprintf(count_reason, sizeof count_reason, "cudaGetDeviceCount: %s (%s)",
                     cudaGetErrorString(error), cudaGetErrorName(error));
            count = 0;
            cudaGetLastError(); /* not a failure of later work */
        } else if (count <= 0) {
            snprintf(count_reason, sizeof count_reason,
                     "cudaGetDeviceCount found no CUDA-capable device");
            count = 0;
        }
        gpu_count = count > NN_CUDA_MAX_DEVICES ? NN_CUDA_MAX_DEVICES : count;
    }
    if (why && size)
        snprintf(why, size, "%s", gpu_count > 0 ? "" : count_reason);
    return gpu_count;
}

nn_status nn_gpu_describe(int index, nn_gpu_info *info)
{
    char why[512];
    memset(info, 0, sizeof *info);
    int count = nn_gpu_count(why, sizeof why);
    if (index < 0 || index >= count)
        return nn_error(NN_ERR_DEVICE, "there is no GPU %d: %s", index,
                        count ? "index out of range" : why);
    struct cudaDeviceProp properties;
    cudaError_t error = cudaGetDeviceProperties(&properties, index);
    if (error != cudaSuccess) {
        cudaGetLastError();
        return nn_error(NN_ERR_DEVICE, "cudaGetDeviceProperties(%d): %s (%s)", index,
                        cudaGetErrorString(error), cudaGetErrorName(error));
    }
    info->index = index;
    snprintf(info->name, sizeof info->name, "%s", properties.name);
    info->total_memory = properties.totalGlobalMem;
    cudaDeviceGetAttribute(&info->compute_major, cudaDevAttrComputeCapabilityMajor, index);
    cudaDeviceGetAttribute(&info->compute_minor, cudaDevAttrComputeCapabilityMinor, index);
    cudaDeviceGetAttribute(&info->multiprocessors, cudaDevAttrMultiProcessorCount, index);
    /* Free memory needs a context on that GPU; only ask one this process already has,
     * rather than spend a context's memory on every GPU just to list them. */
    if (contexts[index].ready) {
        size_t free_bytes = 0, total_bytes = 0;
        cudaSetDevice(index);
        if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess)
            info->free_memory = free_bytes;
        cudaSetDevice(current_index);
    }
    cudaGetLastError();
    return NN_OK;
}

void nn_gpu_get_versions(nn_gpu_versions *versions)
{
    memset(versions, 0, sizeof *versions);
    versions->built_with_cuda = true;
    versions->runtime_compiled = CUDART_VERSION;
    if (cudaRuntimeGetVersion(&versions->runtime) != cudaSuccess)
        versions->runtime = 0;
    if (cudaDriverGetVersion(&versions->driver) != cudaSuccess)
        versions->driver = 0;
    cudaGetLastError();
    versions->cudnn_compiled = nn_cuda_cudnn_compiled_version();
    versions->cudnn = nn_cuda_cudnn_version();
    int major = 0, minor = 0, patch = 0;
    const nn_cublas_api *cublas = nn_cublas();
    if (cublas && cublas->get_property(MAJOR_VERSION, &major) == CUBLAS_STATUS_SUCCESS &&
        cublas->get_property(MINOR_VERSION, &minor) == CUBLAS_STATUS_SUCCESS &&
        cublas->get_property(PATCH_LEVEL, &patch) == CUBLAS_STATUS_SUCCESS)
        versions->cublas = major * 10000 + minor * 100 + patch;
    nn_device_error_take(&pending); /* a missing cuBLAS shows as version 0, not an error */
}

/* ---- per-GPU state ---- */

static void context_destroy(nn_cuda_context *context)
{
    if (context->reduce)
        cudaFree(context->reduce);
    if (context->cublas && nn_cublas())
        nn_cublas()->destroy(context->cublas);
    if (context->uploaded)
        cudaEventDestroy(context->uploaded);
    if (context->copy_stream)
        cudaStreamDestroy(context->copy_stream);
    if (context->stream)
        cudaStreamDestroy(context->stream);
    memset(context, 0, sizeof *context);
}

nn_cuda_context *nn_cuda_context_current(void)
{
    nn_cuda_context *context = &contexts[current_index];
    if (context->ready)
        return context;
    memset(context, 0, sizeof *context);
    context->index = current_index;
    const char *tf32 = getenv("NNSH_CUDA_TF32");
    context->allow_tf32 = !(tf32 && strcmp(tf32, "0") == 0);
    const nn_cublas_api *cublas = nn_cublas();
    bool ok = cublas && nn_cuda_ok(cudaSetDevice(current_index), "cudaSetDevice") &&
              nn_cuda_ok(cudaStreamCreateWithFlags(&context->stream, cudaStreamNonBlocking),
                         "cudaStreamCreateWithFlags") &&
              nn_cuda_ok(cudaStreamCreateWithFlags(&context->copy_stream,
                                                   cudaStreamNonBlocking),
                         "cudaStreamCreateWithFlags (uploads)") &&
              nn_cuda_ok(cudaEventCreateWithFlags(&context->uploaded, cudaEventDisableTiming),
                         "cudaEventCreateWithFlags") &&
              nn_cublas_ok(cublas->create(&context->cublas), "cublasCreate") &&
              nn_cublas_ok(cublas->set_stream(context->cublas, context->stream),
                           "cublasSetStream") &&
              nn_cublas_ok(cublas->set_math_mode(context->cublas,
                                                 context->allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                     : CUBLAS_DEFAULT_MATH),
                           "cublasSetMathMode") &&
              nn_cuda_ok(cudaMalloc((void **)&context->reduce,
                                    NN_CUDA_REDUCE_DOUBLES * sizeof(double)),
                         "cudaMalloc (reduction workspace)");
    if (!ok) {
        context_destroy(context);
        return NULL;
    }
    context->ready = true;
    return context;
}

/* ---- memory ---- */

static nn_status select_device(int index)
{
    if (index == current_index && contexts[index].ready)
        return NN_OK;
    char why[512];
    int count = nn_gpu_count(why, sizeof why);
    if (index < 0 || index >= count)
        return nn_error(NN_ERR_DEVICE, "gpu:%d is not available: %s", index,
                        count ? "index out of range" : why);
    cudaError_t error = cudaSetDevice(index);
    if (error != cudaSuccess) {
        cudaGetLastError();
        return nn_error(NN_ERR_DEVICE, "CUDA error in cudaSetDevice(%d): %s (%s)", index,
                        cudaGetErrorString(error), cudaGetErrorName(error));
    }
    current_index = index;
    if (!nn_cuda_context_current()) {
        /* Every failure on the way notes its reason; never report success without a
         * context, whatever was (not) noted. */
        nn_status status = nn_device_error_take(&pending);
        return status != NN_OK ? status
                               : nn_error(NN_ERR_DEVICE, "gpu:%d: no CUDA context", index);
    }
    return NN_OK;
}

static nn_status cuda_memory_alloc(void **out, size_t bytes, int index)
{
    *out = NULL;
    int previous = current_index;
    NN_TRY(select_device(index));
    nn_cuda_context *context = nn_cuda_context_current();
    void *memory = NULL;
    cudaError_t error = cudaMalloc(&memory, bytes ? bytes : 256);
    nn_status status = NN_OK;
    if (error != cudaSuccess) {
        char want[32], free_text[32], total_text[32];
        size_t free_bytes = 0, total_bytes = 0;
        cudaGetLastError(); /* out of memory is not sticky: the session goes on */
        cudaMemGetInfo(&free_bytes, &total_bytes);
        cudaGetLastError();
        nn_format_bytes(bytes, want, sizeof want);
        if (error == cudaErrorMemoryAllocation)
            status = nn_error(NN_ERR_MEMORY,
                              "out of GPU memory: cudaMalloc of %s on gpu:%d failed (%s of %s "
                              "free); use a smaller batch_size or model, or train on the CPU "
                              "with nn.config.set_device('cpu')",
                              want, index, nn_format_bytes(free_bytes, free_text, sizeof free_text),
                              nn_format_bytes(total_bytes, total_text, sizeof total_text));
        else
            status = nn_error(NN_ERR_DEVICE, "CUDA error in cudaMalloc(%s) on gpu:%d: %s (%s)",
                              want, index, cudaGetErrorString(error), cudaGetErrorName(error));
    } else if (!nn_cuda_ok(cudaMemsetAsync(memory, 0, bytes, context->stream),
                           "cudaMemsetAsync (new memory)") ||
               /* Batches are uploaded on the copy stream, which nothing orders after
                * this zeroing: finish it before the memory is handed out. Memory is
                * allocated when a model reserves, never per batch. */
               !nn_cuda_ok(cudaStreamSynchronize(context->stream),
                           "cudaStreamSynchronize (new memory)")) {
        cudaFree(memory);
        status = nn_device_error_take(&pending);
    } else {
        *out = memory;
    }
    if (previous != index) {
        nn_status back = select_device(previous);
        if (status == NN_OK && back != NN_OK) {
            cudaFree(memory);
            *out = NULL;
            status = back;
        }
    }
    return status;
}

static void cuda_memory_free(void *pointer)
{
    if (pointer)
        nn_cuda_ok(cudaFree(pointer), "cudaFree");
}

static nn_status cuda_host_alloc(void **out, size_t bytes)
{
    *out = NULL;
    void *memory = NULL;
    cudaError_t error = cudaHostAlloc(&memory, bytes ? bytes : 256, cudaHostAllocPortable);
    if (error != cudaSuccess) {
        char want[32];
        cudaGetLastError();
        return nn_error(error == cudaErrorMemoryAllocation ? NN_ERR_MEMORY : NN_ERR_DEVICE,
                        "cudaHostAlloc of %s of page-locked memory failed: %s (%s)",
                        nn_format_bytes(bytes, want, sizeof want), cudaGetErrorString(error),
                        cudaGetErrorName(error));
    }
    memset(memory, 0, bytes ? bytes : 256);
    *out = memory;
    return NN_OK;
}

static void cuda_host_free(void *pointer)
{
    if (pointer)
        nn_cuda_ok(cudaFreeHost(pointer), "cudaFreeHost");
}

/* Waits for the stream and reports the first failure since the last report. */
static nn_status cuda_synchronize(void)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (context)
        nn_cuda_ok(cudaStreamSynchronize(context->stream), "cudaStreamSynchronize");
    return nn_device_error_take(&pending);
}

static nn_status cuda_check(void)
{
    nn_cuda_ok(cudaGetLastError(), "a queued kernel");
    return nn_device_error_take(&pending);
}

static nn_status cuda_copy_to_host(void *host, const void *source, size_t bytes)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (context && bytes)
        nn_cuda_ok(cudaMemcpyAsync(host, source, bytes, cudaMemcpyDeviceToHost,
                                   context->stream),
                   "cudaMemcpyAsync (to the host)");
    return cuda_synchronize();
}

static nn_status cuda_copy_from_host(void *target, const void *host, size_t bytes)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (context && bytes)
        nn_cuda_ok(cudaMemcpyAsync(target, host, bytes, cudaMemcpyHostToDevice,
                                   context->stream),
                   "cudaMemcpyAsync (from the host)");
    return cuda_synchronize();
}

static void cuda_copy(void *target, const void *source, size_t bytes)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (context && bytes && target != source)
        nn_cuda_ok(cudaMemcpyAsync(target, source, bytes, cudaMemcpyDeviceToDevice,
                                   context->stream),
                   "cudaMemcpyAsync (device to device)");
}

static void cuda_memory_zero(void *target, size_t bytes)
{
    nn_cuda_context *context = nn_cuda_context_current();
    if (context && bytes)
        nn_cuda_ok(cudaMemsetAsync(target, 0, bytes, context->stream), "cudaMemsetAsync");
}

static void cuda_upload_async(void *target, const void *pinned, size_t bytes)
{
    /* The copy runs on its own stream, beside the kernels of the batch before; the
     * compute stream waits for it before the kernels queued after this call. */
    nn_cuda_context *context = nn_cuda_context_current();
    if (!context || !bytes)
        return;
    if (nn_cuda_ok(cudaMemcpyAsync(target, pinned, bytes, cudaMemcpyHostToDevice,
                                   context->copy_stream),
                   "cudaMemcpyAsync (batch upload)") &&
        nn_cuda_ok(cudaEventRecord(context->uploaded, context->copy_stream), "cudaEventRecord"))
        nn_cuda_ok(cudaStreamWaitEvent(context->stream, context->uploaded, 0),
                   "cudaStreamWaitEvent");
}

static const nn_backend cuda_backend = {
    .name = "cuda",
    .device = NN_DEVICE_CUDA,
    .host_visible = false,

    .memory_alloc = cuda_memory_alloc,
    .memory_free = cuda_memory_free,
    .host_alloc = cuda_host_alloc,
    .host_free = cuda_host_free,
    .copy_to_host = cuda_copy_to_host,
    .copy_from_host = cuda_copy_from_host,
    .copy = cuda_copy,
    .memory_zero = cuda_memory_zero,
    .upload_async = cuda_upload_async,
    .synchronize = cuda_synchronize,
    .check = cuda_check,
    .select_device = select_device,

    .fill = nn_cuda_fill,
    .scale_shift = nn_cuda_scale_shift,
    .add = nn_cuda_add,
    .multiply = nn_cuda_multiply,
    .clipped_relu = nn_cuda_clipped_relu,
    .normalize = nn_cuda_normalize,
    .bucketize = nn_cuda_bucketize,
    .category_encode = nn_cuda_category_encode,
    .unit_norm_forward = nn_cuda_unit_norm_forward,
    .unit_norm_backward = nn_cuda_unit_norm_backward,
    .prelu = nn_cuda_prelu,
    .prelu_alpha_gradient = nn_cuda_prelu_alpha_gradient,
    .step_mask = nn_cuda_step_mask,
    .select_rows = nn_cuda_select_rows,
    .masked_loss_weights = nn_cuda_masked_loss_weights,
    .masked_mean_steps = nn_cuda_masked_mean_steps,
    .masked_mean_steps_backward = nn_cuda_masked_mean_steps_backward,
    .to_channels_last = nn_cuda_to_channels_last,
    .to_channels_first = nn_cuda_to_channels_first,
    .conv2d_scratch_floats = nn_cuda_conv2d_scratch_floats,
    .conv2d_forward = nn_cuda_conv2d_forward,
    .conv2d_backward = nn_cuda_conv2d_backward,
    .conv2d_maxpool2d_applies = nn_cuda_conv2d_maxpool2d_applies,
    .conv2d_maxpool2d_forward = nn_cuda_conv2d_maxpool2d_forward,
    .maxpool2d_forward = nn_cuda_maxpool2d_forward,
    .maxpool2d_backward = nn_cuda_maxpool2d_backward,
    .maxpool2d_backward_relu = nn_cuda_maxpool2d_backward_relu,
    .avgpool2d_forward = nn_cuda_avgpool2d_forward,
    .avgpool2d_backward = nn_cuda_avgpool2d_backward,
    .bias_add = nn_cuda_bias_add,
    .swap_leading_axes = nn_cuda_swap_leading_axes,
    .simple_rnn_cell_forward = nn_cuda_simple_rnn_cell_forward,
    .lstm_cell_forward = nn_cuda_lstm_cell_forward,
    .lstm_cell_backward = nn_cuda_lstm_cell_backward,
    .gru_cell_forward = nn_cuda_gru_cell_forward,
    .gru_cell_backward = nn_cuda_gru_cell_backward,
    .group_norm_forward = nn_cuda_group_norm_forward,
    .group_norm_backward = nn_cuda_group_norm_backward,
    .column_sums = nn_cuda_column_sums_of,
    .window2d_embed = nn_cuda_window2d_embed,
    .window2d_extract = nn_cuda_window2d_extract,
    .upsample2d_forward = nn_cuda_upsample2d_forward,
    .upsample2d_backward = nn_cuda_upsample2d_backward,
    .resize_forward = nn_cuda_resize_forward,
    .resize_backward = nn_cuda_resize_backward,
    .embedding_gather = nn_cuda_embedding_gather,
    .embedding_gather_backward = nn_cuda_embedding_gather_backward,
    .dense_forward = nn_cuda_dense_forward,
    .dense_backward = nn_cuda_dense_backward,
    .activation_forward = nn_cuda_activation_forward,
    .activation_backward = nn_cuda_activation_backward,
    .dropout_forward = nn_cuda_dropout_forward,
    .dropout_backward = nn_cuda_dropout_backward,
    .gaussian_noise = nn_cuda_gaussian_noise,
    .random_flip = nn_cuda_random_flip,
    .random_affine = nn_cuda_random_affine,
    .random_affine_backward = nn_cuda_random_affine_backward,
    .random_color = nn_cuda_random_color,
    .random_color_backward = nn_cuda_random_color_backward,
    .batchnorm_scratch_floats = nn_cuda_batchnorm_scratch_floats,
    .batchnorm_forward_training = nn_cuda_batchnorm_forward_training,
    .batchnorm_forward_inference = nn_cuda_batchnorm_forward_inference,
    .batchnorm_backward = nn_cuda_batchnorm_backward,

    .loss_forward_backward = nn_cuda_loss_forward_backward,
    .metric_sum = nn_cuda_metric_sum,
    .curve_counts = nn_cuda_curve_counts,
    .weight_penalty = nn_cuda_weight_penalty,
    .optimizer_step = nn_cuda_optimizer_step,
    .constraint_scratch_floats = nn_cuda_constraint_scratch_floats,
    .constraint_apply = nn_cuda_constraint_apply,
};

const nn_backend *nn_backend_cuda(void) { return &cuda_backend; }
