/* The CUDA backend's host logic, which needs no GPU: convolution plans (when cuDNN's
 * symmetric padding cannot express Keras' 'same', and the scratch partitions), the
 * cache of cuDNN's algorithm choices, and the recording of the first device failure. */
#include <criterion/criterion.h>
#include <string.h>

#include "cuda/host/conv_algo_cache.h"
#include "cuda/host/conv_plan.h"
#include "cuda/host/device_error.h"
#include "gpu.h"
#include "ref_conv.h"

/* A geometry as the Conv2D layer builds it. */
static nn_conv2d_geometry geometry(int batch, int height, int width, int channels, int filters,
                                   int kernel, int stride, int dilation, bool same, int groups)
{
    int pad_top, pad_left;
    int out_height = ref_window_output(height, kernel, stride, dilation, same, &pad_top);
    int out_width = ref_window_output(width, kernel, stride, dilation, same, &pad_left);
    return (nn_conv2d_geometry){.batch = batch, .in_height = height, .in_width = width,
                                .in_channels = channels, .out_height = out_height,
                                .out_width = out_width, .out_channels = filters,
                                .kernel_height = kernel, .kernel_width = kernel,
                                .stride_height = stride, .stride_width = stride,
                                .dilation_height = dilation, .dilation_width = dilation,
                                .pad_top = pad_top, .pad_left = pad_left, .groups = groups};
}

Test(conv_plan, symmetric_same_and_valid_need_no_explicit_padding)
{
    /* The seed CNN: 3×3 'same' stride 1 pads one cell on each side. */
    nn_conv2d_geometry g = geometry(64, 28, 28, 1, 32, 3, 1, 1, true, 1);
    nn_conv_plan plan = nn_conv_plan_make(&g, 0);
    cr_assert(!plan.explicit_padding);
    cr_assert_eq(plan.cudnn_pad_height, 1);
    cr_assert_eq(plan.cudnn_pad_width, 1);
    cr_assert_eq(plan.input_height, 28);
    cr_assert_eq(plan.padded_input_floats, 0);
    g = geometry(2, 28, 28, 3, 16, 3, 2, 1, false, 1);
    plan = nn_conv_plan_make(&g, 0);
    cr_assert(!plan.explicit_padding);
    cr_assert_eq(plan.cudnn_pad_height, 0);
}

Test(conv_plan, asymmetric_same_is_padded_explicitly_to_exactly_the_windows)
{
    /* 28 with a 3×3 window and stride 2: 14 outputs need one padding cell, after. */
    nn_conv2d_geometry g = geometry(2, 28, 28, 3, 16, 3, 2, 1, true, 1);
    cr_assert_eq(g.out_height, 14);
    cr_assert_eq(g.pad_top, 0);
    nn_conv_plan plan = nn_conv_plan_make(&g, 0);
    cr_assert(plan.explicit_padding);
    cr_assert_eq(plan.cudnn_pad_height, 0);
    cr_assert_eq(plan.input_height, 29, "padded height %d", plan.input_height);
    cr_assert_eq(plan.padded_input_floats, (size_t)2 * 29 * 29 * 3);
    /* cuDNN then computes exactly Keras' output: (29 - 3) / 2 + 1 = 14. */
    cr_assert_eq((plan.input_height - 3) / 2 + 1, g.out_height);
    /* An even kernel with stride 1: three cells of padding, one before and two after. */
    g = geometry(1, 5, 6, 2, 4, 4, 1, 1, true, 1);
    plan = nn_conv_plan_make(&g, 0);
    cr_assert(plan.explicit_padding);
    cr_assert_eq(plan.input_height, 8);
    cr_assert_eq(plan.input_width, 9);
    cr_assert_eq((plan.input_width - 4) / 1 + 1, g.out_width);
    /* Dilation widens the window the padded size must cover. */
    g = geometry(1, 10, 10, 1, 1, 2, 1, 3, true, 1);
    plan = nn_conv_plan_make(&g, 0);
    cr_assert_eq(plan.input_height - (2 - 1) * 3, g.out_height);
}

Test(conv_plan, scratch_partitions_are_aligned_disjoint_and_include_the_workspace)
{
    nn_conv2d_geometry g = geometry(3, 9, 7, 6, 8, 3, 2, 1, true, 2);
    const size_t workspace = 1000;
    nn_conv_plan plan = nn_conv_plan_make(&g, workspace);
    size_t offsets[] = {plan.kernel_offset, plan.dkernel_offset, plan.padded_input_offset,
                        plan.padded_dinput_offset, plan.bias_partials_offset,
                        plan.workspace_offset};
    size_t sizes[] = {plan.kernel_floats, plan.kernel_floats, plan.padded_input_floats,
                      plan.padded_input_floats, 2 * (size_t)NN_REDUCE_SLICES * 8,
                      (workspace + 3) / 4};
    cr_assert_eq(plan.kernel_floats, (size_t)3 * 3 * 3 * 8);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(offsets[i] % NN_CONV_PLAN_ALIGN_FLOATS, 0, "partition %d at %zu", i,
                     offsets[i]);
        size_t end = offsets[i] + sizes[i];
        size_t next = i < 5 ? offsets[i + 1] : plan.total_floats;
        cr_assert(end <= next, "partition %d ends at %zu, after the next begins at %zu", i, end,
                  next);
    }
    /* A smaller batch never needs more scratch than the batch it was sized for. */
    nn_conv2d_geometry short_batch = g;
    short_batch.batch = 1;
    cr_assert(nn_conv_plan_make(&short_batch, workspace).total_floats <= plan.total_floats);
}

static int released;
static void count_release(void *descriptors)
{
    released++;
    free(descriptors);
}

Test(conv_algo_cache, finds_exact_shapes_and_bounds_short_batches_by_larger_ones)
{
    nn_conv_algo_cache cache = {.release = count_release};
    released = 0;
    nn_conv2d_geometry g64 = geometry(64, 28, 28, 1, 32, 3, 1, 1, true, 1);
    nn_conv2d_geometry g16 = g64, g100 = g64, other = g64;
    g16.batch = 16;
    g100.batch = 100;
    other.out_channels = 64;
    cr_assert_null(nn_conv_algo_cache_find(&cache, &g64, 0));
    nn_conv_algo_entry *entry = nn_conv_algo_cache_insert(&cache, &g64, 0);
    entry->forward_algorithm = 2;
    entry->workspace_bytes = 4096;
    entry->descriptors = malloc(8);
    cr_assert_eq(nn_conv_algo_cache_find(&cache, &g64, 0), entry);
    cr_assert_null(nn_conv_algo_cache_find(&cache, &g64, 1), "another GPU has its own entries");
    cr_assert_null(nn_conv_algo_cache_find(&cache, &g16, 0));
    cr_assert_eq(nn_conv_algo_cache_find_larger_batch(&cache, &g16, 0), entry);
    cr_assert_null(nn_conv_algo_cache_find_larger_batch(&cache, &g100, 0));
    cr_assert_null(nn_conv_algo_cache_find_larger_batch(&cache, &other, 0));
    nn_conv_algo_entry *big = nn_conv_algo_cache_insert(&cache, &g100, 0);
    big->descriptors = malloc(8);
    /* The smallest batch at least as large bounds the workspace. */
    cr_assert_eq(nn_conv_algo_cache_find_larger_batch(&cache, &g16, 0), entry);
    nn_conv_algo_cache_clear(&cache);
    cr_assert_eq(released, 2);
    cr_assert_eq(cache.count, 0);
    /* The same with the larger batch stored first, so the first match is the wrong one. */
    nn_conv_algo_cache_insert(&cache, &g100, 0)->descriptors = malloc(8);
    entry = nn_conv_algo_cache_insert(&cache, &g64, 0);
    entry->descriptors = malloc(8);
    cr_assert_eq(nn_conv_algo_cache_find_larger_batch(&cache, &g16, 0), entry);
    nn_conv_algo_cache_clear(&cache);
}

Test(conv_algo_cache, evicts_the_least_recently_used_entry_when_full)
{
    nn_conv_algo_cache cache = {.release = count_release};
    released = 0;
    nn_conv2d_geometry g = geometry(1, 8, 8, 1, 1, 3, 1, 1, true, 1);
    for (int i = 0; i < NN_CONV_ALGO_CACHE_CAPACITY; i++) {
        g.out_channels = i + 1;
        nn_conv_algo_cache_insert(&cache, &g, 0)->descriptors = malloc(8);
    }
    /* Touch the first one: the second is now the oldest. */
    g.out_channels = 1;
    cr_assert_not_null(nn_conv_algo_cache_find(&cache, &g, 0));
    g.out_channels = 1000;
    nn_conv_algo_cache_insert(&cache, &g, 0)->descriptors = malloc(8);
    cr_assert_eq(released, 1);
    g.out_channels = 2;
    cr_assert_null(nn_conv_algo_cache_find(&cache, &g, 0), "the oldest entry was not evicted");
    g.out_channels = 1;
    cr_assert_not_null(nn_conv_algo_cache_find(&cache, &g, 0));
    nn_conv_algo_cache_clear(&cache);
    cr_assert_eq(released, 1 + NN_CONV_ALGO_CACHE_CAPACITY);
}

Test(device_error, the_first_failure_is_kept_and_reported_once)
{
    nn_device_error error = {0};
    nn_error_clear();
    cr_assert_eq(nn_device_error_take(&error), NN_OK);
    nn_device_error_note(&error, NN_ERR_DEVICE, "CUDA", "maxpool2d_forward launch",
                         "cudaErrorInvalidConfiguration", "invalid configuration argument");
    nn_device_error_note(&error, NN_ERR_MEMORY, "cuDNN", "cudnnConvolutionForward",
                         "cudnnStatus 2", "CUDNN_STATUS_ALLOC_FAILED");
    cr_assert_eq(nn_device_error_take(&error), NN_ERR_DEVICE);
    cr_assert_str_eq(nn_error_message(), "CUDA error in maxpool2d_forward launch: invalid "
                                         "configuration argument (cudaErrorInvalidConfiguration)");
    cr_assert_eq(nn_device_error_take(&error), NN_OK, "a failure was reported twice");
    nn_device_error_note(&error, NN_ERR_MEMORY, "cuBLAS", "cublasSgemm", "CUBLAS_STATUS_ALLOC_FAILED",
                         "resource allocation failed");
    cr_assert_eq(nn_device_error_take(&error), NN_ERR_MEMORY);
}

Test(device_error, byte_counts_read_like_a_person_would_write_them)
{
    char text[32];
    cr_assert_str_eq(nn_format_bytes(512, text, sizeof text), "512 bytes");
    cr_assert_str_eq(nn_format_bytes(3 * 1024 * 1024 + 200 * 1024, text, sizeof text), "3.2 MiB");
    cr_assert_str_eq(nn_format_bytes((size_t)3 << 29, text, sizeof text), "1.50 GiB");
}

Test(device_error, versions_read_as_the_libraries_write_them)
{
    char text[32];
    cr_assert_str_eq(nn_gpu_format_cuda_version(12040, text, sizeof text), "12.4");
    cr_assert_str_eq(nn_gpu_format_cuda_version(13000, text, sizeof text), "13.0");
    cr_assert_str_eq(nn_gpu_format_cuda_version(0, text, sizeof text), "none");
    cr_assert_str_eq(nn_gpu_format_cudnn_version(91900, text, sizeof text), "9.19.0");
    cr_assert_str_eq(nn_gpu_format_cudnn_version(8907, text, sizeof text), "8.9.7");
}
