/* The emulated device: the CPU kernels, over device memory that the host cannot touch.
 * Every allocation is its own mapping, kept PROT_NONE except while a backend call runs,
 * so any code that reads or writes device memory directly instead of through the backend
 * faults at once. The tests run models, layers and the Lua device API on it, which
 * checks the GPU data path (what stays on the device, what is copied when) on machines
 * without a GPU. It also counts memory against an optional limit and can fail a kernel
 * on request, to exercise the out-of-memory and error paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../cpu/cpu_kernels.h"
#include "emulated.h"

typedef struct mapping {
    void *address;
    size_t length; /* whole pages */
    size_t bytes;  /* what was asked for */
} mapping;

/* Every live allocation. Small: models hold tens of buffers. */
static mapping *mappings;
static size_t mapping_count, mapping_capacity;
static size_t bytes_in_use, memory_limit;
static int open_depth;           /* nested calls leave the memory open once */
static long kernels_until_failure;
static bool limit_read;
static char failure[256];        /* the recorded kernel failure, until checked */

void nn_emulated_set_memory_limit(size_t bytes)
{
    memory_limit = bytes;
    limit_read = true;
}

size_t nn_emulated_memory_in_use(void) { return bytes_in_use; }

void nn_emulated_fail_kernel(long count) { kernels_until_failure = count; }

static void read_limit(void)
{
    if (limit_read)
        return;
    limit_read = true;
    const char *text = getenv("NNSH_EMULATED_MEMORY");
    if (text && *text)
        memory_limit = (size_t)strtoull(text, NULL, 10);
}

static void protect_all(int protection)
{
    for (size_t i = 0; i < mapping_count; i++)
        if (mprotect(mappings[i].address, mappings[i].length, protection) != 0)
            abort(); /* the emulation itself is broken: nothing sensible can follow */
}

/* Opens device memory to the host for the length of one backend call. */
static void open_memory(void)
{
    if (open_depth++ == 0)
        protect_all(PROT_READ | PROT_WRITE);
}

static void close_memory(void)
{
    if (--open_depth == 0)
        protect_all(PROT_NONE);
}

/* Counts a kernel launch; the one nn_emulated_fail_kernel chose records a failure. */
static void count_kernel(const char *name)
{
    if (kernels_until_failure > 0 && --kernels_until_failure == 0 && !failure[0])
        snprintf(failure, sizeof failure, "%s: emulated kernel failure (requested by "
                 "nn_emulated_fail_kernel)", name);
}

static nn_status emulated_memory_alloc(void **out, size_t bytes, int index)
{
    (void)index;
    *out = NULL;
    read_limit();
    if (memory_limit && (bytes > memory_limit || bytes_in_use > memory_limit - bytes))
        return nn_error(NN_ERR_MEMORY, "out of device memory: allocating %zu bytes on "
                        "emulated:0 failed (%zu bytes in use, limit %zu)", bytes, bytes_in_use,
                        memory_limit);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t length = (bytes + page - 1) / page * page;
    if (length == 0)
        length = page;
    if (mapping_count == mapping_capacity) {
        size_t capacity = mapping_capacity ? 2 * mapping_capacity : 64;
        mapping *grown = realloc(mappings, capacity * sizeof *grown);
        if (!grown)
            return nn_error(NN_ERR_MEMORY, "out of memory tracking emulated allocations");
        mappings = grown;
        mapping_capacity = capacity;
    }
    void *address = mmap(NULL, length, open_depth ? PROT_READ | PROT_WRITE : PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address == MAP_FAILED)
        return nn_error(NN_ERR_MEMORY, "out of device memory: mapping %zu bytes for "
                        "emulated:0 failed", bytes);
    mappings[mapping_count++] = (mapping){address, length, bytes};
    bytes_in_use += bytes;
    *out = address;
    return NN_OK;
}

static void emulated_memory_free(void *pointer)
{
    if (!pointer)
        return;
    for (size_t i = 0; i < mapping_count; i++) {
        if (mappings[i].address != pointer)
            continue;
        munmap(pointer, mappings[i].length);
        bytes_in_use -= mappings[i].bytes;
        mappings[i] = mappings[--mapping_count];
        if (mapping_count == 0) {
            free(mappings);
            mappings = NULL;
            mapping_capacity = 0;
        }
        return;
    }
    abort(); /* freeing memory this device never gave out */
}

static nn_status take_failure(void)
{
    if (!failure[0])
        return NN_OK;
    nn_status status = nn_error(NN_ERR_DEVICE, "%s", failure);
    failure[0] = '\0';
    return status;
}

static bool on_device(const char *name, const void *const *pointers, size_t count);

static nn_status emulated_copy_to_host(void *host, const void *source, size_t bytes)
{
    const void *const pointers[] = {source};
    if (!on_device("copy_to_host", pointers, 1))
        return take_failure();
    open_memory();
    memmove(host, source, bytes);
    close_memory();
    return take_failure();
}

static nn_status emulated_copy_from_host(void *target, const void *host, size_t bytes)
{
    const void *const pointers[] = {target};
    if (!on_device("copy_from_host", pointers, 1))
        return take_failure();
    open_memory();
    memmove(target, host, bytes);
    close_memory();
    return take_failure();
}

static nn_status emulated_select_device(int index)
{
    if (index != 0)
        return nn_error(NN_ERR_DEVICE, "emulated:%d does not exist (only emulated:0)", index);
    return NN_OK;
}

/* Whether each pointer (NULL allowed) lies in memory this device gave out; records a
 * failure naming the kernel otherwise. A GPU would fault on a host pointer where this
 * device, whose memory the host can still read inside a call, would not notice. */
static bool on_device(const char *name, const void *const *pointers, size_t count)
{
    for (size_t k = 0; k < count; k++) {
        const char *p = pointers[k];
        if (!p)
            continue;
        bool inside = false;
        for (size_t i = 0; i < mapping_count && !inside; i++) {
            const char *start = mappings[i].address;
            inside = p >= start && p < start + mappings[i].length;
        }
        if (!inside) {
            if (!failure[0])
                snprintf(failure, sizeof failure, "%s: argument %zu is not device memory (a "
                         "host pointer given to the device)", name, k + 1);
            return false;
        }
    }
    return true;
}

/* Each kernel: check its memory arguments, open the memory, run the CPU kernel, close
 * it again. */
#define CPU nn_cpu_backend_table
#define RUN(name, call, ...)                                                       \
    do {                                                                           \
        const void *const pointers_[] = {__VA_ARGS__};                             \
        if (!on_device(name, pointers_, sizeof pointers_ / sizeof pointers_[0]))   \
            break;                                                                 \
        count_kernel(name);                                                        \
        open_memory();                                                             \
        call;                                                                      \
        close_memory();                                                            \
    } while (0)

static void emulated_copy(void *target, const void *source, size_t bytes)
{
    RUN("copy", CPU.copy(target, source, bytes),
        target, source);
}

static void emulated_memory_zero(void *target, size_t bytes)
{
    RUN("memory_zero", CPU.memory_zero(target, bytes),
        target);
}

static void emulated_upload_async(void *target, const void *pinned, size_t bytes)
{
    RUN("upload_async", CPU.upload_async(target, pinned, bytes),
        target);
}

static void emulated_fill(float *target, float value, size_t n)
{
    RUN("fill", CPU.fill(target, value, n),
        target);
}

static void emulated_scale_shift(float *y, const float *x, float scale, float offset, size_t n)
{
    RUN("scale_shift", CPU.scale_shift(y, x, scale, offset, n),
        y, x);
}

static void emulated_add(float *y, const float *x, size_t n)
{
    RUN("add", CPU.add(y, x, n),
        y, x);
}

static void emulated_clipped_relu(float *out, const float *x, const float *dout, size_t n,
                                  float negative_slope, float max_value, float threshold)
{
    RUN("clipped_relu",
        CPU.clipped_relu(out, x, dout, n, negative_slope, max_value, threshold), out, x, dout);
}

static void emulated_normalize(float *y, const float *x, const float *mean,
                               const float *variance, const nn_normalize_geometry *g,
                               bool gradient)
{
    /* mean is unread in the gradient; NULL arrays (given numbers) are no memory. */
    RUN("normalize", CPU.normalize(y, x, mean, variance, g, gradient), y, x,
        gradient ? NULL : mean, variance);
}

static void emulated_bucketize(float *out, const float *x, size_t n,
                               const nn_category_geometry *g)
{
    RUN("bucketize", CPU.bucketize(out, x, n, g), out, x);
}

static void emulated_category_encode(float *out, const float *x, const nn_category_geometry *g)
{
    RUN("category_encode", CPU.category_encode(out, x, g), out, x);
}

static void emulated_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g)
{
    RUN("unit_norm_forward", CPU.unit_norm_forward(y, x, g), y, x);
}

static void emulated_unit_norm_backward(float *dx, const float *dy, const float *x,
                                        const nn_unit_norm_geometry *g)
{
    RUN("unit_norm_backward", CPU.unit_norm_backward(dx, dy, x, g), dx, dy, x);
}

static void emulated_prelu(float *out, const float *x, const float *dout, const float *alpha,
                           const nn_prelu_geometry *g)
{
    RUN("prelu", CPU.prelu(out, x, dout, alpha, g), out, x, dout, alpha);
}

static void emulated_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                          const nn_prelu_geometry *g, float *scratch)
{
    RUN("prelu_alpha_gradient", CPU.prelu_alpha_gradient(dalpha, x, dout, g, scratch), dalpha,
        x, dout, scratch);
}

static void emulated_step_mask(float *mask, const float *x, float value, size_t rows,
                               size_t width)
{
    RUN("step_mask", CPU.step_mask(mask, x, value, rows, width), mask, x);
}

static void emulated_select_rows(float *out, const float *kept, const float *masked,
                                 const float *mask, size_t mask_stride, size_t rows,
                                 size_t width)
{
    RUN("select_rows", CPU.select_rows(out, kept, masked, mask, mask_stride, rows, width),
        out, kept, masked, mask);
}

static void emulated_masked_loss_weights(float *out, const float *weights, const float *mask,
                                         size_t rows)
{
    RUN("masked_loss_weights", CPU.masked_loss_weights(out, weights, mask, rows), out, weights,
        mask);
}

static void emulated_masked_mean_steps(float *out, const float *x, const float *mask,
                                       int64_t batch, int64_t steps, int64_t channels)
{
    RUN("masked_mean_steps", CPU.masked_mean_steps(out, x, mask, batch, steps, channels),
        out, x, mask);
}

static void emulated_masked_mean_steps_backward(float *dx, const float *dout,
                                                const float *mask, int64_t batch,
                                                int64_t steps, int64_t channels)
{
    RUN("masked_mean_steps_backward",
        CPU.masked_mean_steps_backward(dx, dout, mask, batch, steps, channels), dx, dout, mask);
}

static void emulated_multiply(float *y, const float *a, const float *b, size_t n)
{
    RUN("multiply", CPU.multiply(y, a, b, n), y, a, b);
}

static void emulated_to_channels_last(float *out, const float *inp, int64_t batch,
                                      int64_t channels, int64_t spatial)
{
    RUN("to_channels_last", CPU.to_channels_last(out, inp, batch, channels, spatial),
        out, inp);
}

static void emulated_to_channels_first(float *out, const float *inp, int64_t batch,
                                       int64_t channels, int64_t spatial)
{
    RUN("to_channels_first", CPU.to_channels_first(out, inp, batch, channels, spatial),
        out, inp);
}

static size_t emulated_conv2d_scratch_floats(const nn_conv2d_geometry *geometry)
{
    return CPU.conv2d_scratch_floats(geometry);
}

static void emulated_conv2d_forward(float *out, const float *inp, const float *kernel,
                                    const float *bias, nn_activation activation,
                                    const nn_conv2d_geometry *geometry, float *scratch)
{
    RUN("conv2d_forward", CPU.conv2d_forward(out, inp, kernel, bias, activation, geometry,
                                             scratch),
        out, inp, kernel, bias, scratch);
}

static void emulated_conv2d_backward(float *dinp, float *dkernel, float *dbias,
                                     const float *dout, const float *inp, const float *kernel,
                                     const nn_conv2d_geometry *geometry, float *scratch)
{
    RUN("conv2d_backward", CPU.conv2d_backward(dinp, dkernel, dbias, dout, inp, kernel,
                                               geometry, scratch),
        dinp, dkernel, dbias, dout, inp, kernel, scratch);
}

static void emulated_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                                       const nn_pool2d_geometry *geometry)
{
    RUN("maxpool2d_forward", CPU.maxpool2d_forward(out, argmax, inp, geometry),
        out, argmax, inp);
}

static void emulated_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                                        const nn_pool2d_geometry *geometry)
{
    RUN("maxpool2d_backward", CPU.maxpool2d_backward(dinp, dout, argmax, geometry),
        dinp, dout, argmax);
}

static void emulated_avgpool2d_forward(float *out, const float *inp,
                                       const nn_pool2d_geometry *geometry)
{
    RUN("avgpool2d_forward", CPU.avgpool2d_forward(out, inp, geometry),
        out, inp);
}

static void emulated_avgpool2d_backward(float *dinp, const float *dout,
                                        const nn_pool2d_geometry *geometry)
{
    RUN("avgpool2d_backward", CPU.avgpool2d_backward(dinp, dout, geometry),
        dinp, dout);
}

static void emulated_group_norm_forward(float *y, float *mean, float *inv_std, const float *x,
                                        const float *gamma, const float *beta,
                                        const nn_group_norm_geometry *geometry)
{
    RUN("group_norm_forward", CPU.group_norm_forward(y, mean, inv_std, x, gamma, beta, geometry),
        y, mean, inv_std, x, gamma, beta);
}

static void emulated_group_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                         const float *x, const float *gamma, const float *mean,
                                         const float *inv_std,
                                         const nn_group_norm_geometry *geometry)
{
    RUN("group_norm_backward",
        CPU.group_norm_backward(dx, dgamma, dbeta, dy, x, gamma, mean, inv_std, geometry), dx,
        dgamma, dbeta, dy, x, gamma, mean, inv_std);
}

static void emulated_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                                       int64_t inner)
{
    RUN("swap_leading_axes", CPU.swap_leading_axes(out, inp, d0, d1, inner), out, inp);
}

static void emulated_simple_rnn_cell_forward(float *h, float *preact, const float *xw,
                                             const float *hu, const nn_recurrent_cell *cell)
{
    RUN("simple_rnn_cell_forward", CPU.simple_rnn_cell_forward(h, preact, xw, hu, cell), h,
        preact, xw, hu);
}

static void emulated_lstm_cell_forward(float *h, float *c, float *preact, float *gates,
                                       const float *xw, const float *hu, const float *c_prev,
                                       const nn_recurrent_cell *cell)
{
    RUN("lstm_cell_forward", CPU.lstm_cell_forward(h, c, preact, gates, xw, hu, c_prev, cell),
        h, c, preact, gates, xw, hu, c_prev);
}

static void emulated_lstm_cell_backward(float *dpreact, float *dc, const float *dh,
                                        const float *preact, const float *gates,
                                        const float *c_prev, const float *c,
                                        const nn_recurrent_cell *cell)
{
    RUN("lstm_cell_backward",
        CPU.lstm_cell_backward(dpreact, dc, dh, preact, gates, c_prev, c, cell), dpreact, dc,
        dh, preact, gates, c_prev, c);
}

static void emulated_gru_cell_forward(float *h, float *preact, float *gates, float *hu_h,
                                      const float *xw, const float *hu, const float *h_prev,
                                      const nn_recurrent_cell *cell)
{
    RUN("gru_cell_forward", CPU.gru_cell_forward(h, preact, gates, hu_h, xw, hu, h_prev, cell),
        h, preact, gates, hu_h, xw, hu, h_prev);
}

static void emulated_gru_cell_backward(float *dxw, float *dhu, float *dh_prev, const float *dh,
                                       const float *preact, const float *gates,
                                       const float *hu_h, const float *h_prev,
                                       const nn_recurrent_cell *cell)
{
    RUN("gru_cell_backward",
        CPU.gru_cell_backward(dxw, dhu, dh_prev, dh, preact, gates, hu_h, h_prev, cell), dxw,
        dhu, dh_prev, dh, preact, gates, hu_h, h_prev);
}

static void emulated_embedding_gather(float *out, const float *table, const float *indices,
                                      int64_t count, int64_t rows, int64_t dim)
{
    RUN("embedding_gather", CPU.embedding_gather(out, table, indices, count, rows, dim),
        out, table, indices);
}

static void emulated_embedding_gather_backward(float *dtable, const float *dout,
                                               const float *indices, int64_t count,
                                               int64_t rows, int64_t dim)
{
    RUN("embedding_gather_backward",
        CPU.embedding_gather_backward(dtable, dout, indices, count, rows, dim),
        dtable, dout, indices);
}

static void emulated_bias_add(float *out, const float *bias, int64_t rows, int64_t width)
{
    RUN("bias_add", CPU.bias_add(out, bias, rows, width), out, bias);
}

static void emulated_column_sums(float *sums, const float *rows, int64_t row_count,
                                 int64_t width)
{
    RUN("column_sums", CPU.column_sums(sums, rows, row_count, width), sums, rows);
}

static void emulated_window2d_embed(float *outer, const float *inner,
                                    const nn_window2d_geometry *geometry)
{
    RUN("window2d_embed", CPU.window2d_embed(outer, inner, geometry), outer, inner);
}

static void emulated_window2d_extract(float *inner, const float *outer,
                                      const nn_window2d_geometry *geometry)
{
    RUN("window2d_extract", CPU.window2d_extract(inner, outer, geometry), inner, outer);
}

static void emulated_upsample2d_forward(float *out, const float *inp,
                                        const nn_upsample2d_geometry *geometry)
{
    RUN("upsample2d_forward", CPU.upsample2d_forward(out, inp, geometry), out, inp);
}

static void emulated_upsample2d_backward(float *dinp, const float *dout,
                                         const nn_upsample2d_geometry *geometry)
{
    RUN("upsample2d_backward", CPU.upsample2d_backward(dinp, dout, geometry), dinp, dout);
}

static void emulated_resize_forward(float *out, const float *inp,
                                    const nn_resize_geometry *geometry)
{
    RUN("resize_forward", CPU.resize_forward(out, inp, geometry), out, inp);
}

static void emulated_resize_backward(float *dinp, const float *dout,
                                     const nn_resize_geometry *geometry)
{
    RUN("resize_backward", CPU.resize_backward(dinp, dout, geometry), dinp, dout);
}

static bool emulated_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                              const nn_pool2d_geometry *pool)
{
    return CPU.conv2d_maxpool2d_applies(conv, pool);
}

static void emulated_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax, const float *inp,
                                              const float *kernel, const float *bias, bool relu,
                                              const nn_conv2d_geometry *conv,
                                              const nn_pool2d_geometry *pool, float *scratch)
{
    RUN("conv2d_maxpool2d_forward", CPU.conv2d_maxpool2d_forward(pooled, argmax, inp, kernel,
                                                                 bias, relu, conv, pool,
                                                                 scratch),
        pooled, argmax, inp, kernel, bias, scratch);
}

static void emulated_maxpool2d_backward_relu(float *dinp, const float *dout,
                                             const int32_t *argmax, const float *out,
                                             const nn_pool2d_geometry *geometry)
{
    RUN("maxpool2d_backward_relu", CPU.maxpool2d_backward_relu(dinp, dout, argmax, out,
                                                               geometry),
        dinp, dout, argmax, out);
}

static void emulated_dense_forward(float *out, const float *inp, const float *kernel,
                                   const float *bias, nn_activation activation, int batch,
                                   int in_features, int out_features)
{
    RUN("dense_forward", CPU.dense_forward(out, inp, kernel, bias, activation, batch,
                                           in_features, out_features),
        out, inp, kernel, bias);
}

static void emulated_dense_backward(float *dinp, float *dkernel, float *dbias,
                                    const float *dout, const float *inp, const float *kernel,
                                    int batch, int in_features, int out_features)
{
    RUN("dense_backward", CPU.dense_backward(dinp, dkernel, dbias, dout, inp, kernel, batch,
                                             in_features, out_features),
        dinp, dkernel, dbias, dout, inp, kernel);
}

static void emulated_activation_forward(nn_activation activation, float *y, const float *x,
                                        size_t n, size_t axis_size)
{
    RUN("activation_forward", CPU.activation_forward(activation, y, x, n, axis_size),
        y, x);
}

static void emulated_activation_backward(nn_activation activation, float *dx, const float *dy,
                                         const float *x, const float *y, size_t n,
                                         size_t axis_size)
{
    RUN("activation_backward", CPU.activation_backward(activation, dx, dy, x, y, n, axis_size),
        dx, dy, x, y);
}

static void emulated_dropout_forward(float *out, uint8_t *mask, const float *inp,
                                     const nn_dropout_geometry *geometry, uint64_t seed,
                                     uint64_t stream)
{
    RUN("dropout_forward", CPU.dropout_forward(out, mask, inp, geometry, seed, stream),
        out, mask, inp);
}

static void emulated_random_affine(float *out, const float *in,
                                   const nn_affine_geometry *geometry, uint64_t seed,
                                   uint64_t stream)
{
    RUN("random_affine", CPU.random_affine(out, in, geometry, seed, stream), out, in);
}

static void emulated_random_color(float *out, const float *in,
                                  const nn_color_geometry *geometry, uint64_t seed,
                                  uint64_t stream)
{
    RUN("random_color", CPU.random_color(out, in, geometry, seed, stream), out, in);
}

static void emulated_random_color_backward(float *din, const float *dout, const float *in,
                                           const nn_color_geometry *geometry, uint64_t seed,
                                           uint64_t stream)
{
    RUN("random_color_backward",
        CPU.random_color_backward(din, dout, in, geometry, seed, stream), din, dout, in);
}

static void emulated_random_affine_backward(float *din, const float *dout,
                                            const nn_affine_geometry *geometry, uint64_t seed,
                                            uint64_t stream)
{
    RUN("random_affine_backward",
        CPU.random_affine_backward(din, dout, geometry, seed, stream), din, dout);
}

static void emulated_random_flip(float *out, const float *in, const nn_flip_geometry *geometry,
                                 uint64_t seed, uint64_t stream)
{
    RUN("random_flip", CPU.random_flip(out, in, geometry, seed, stream), out, in);
}

static void emulated_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                                    bool multiplicative, uint64_t seed, uint64_t stream)
{
    RUN("gaussian_noise", CPU.gaussian_noise(out, inp, n, stddev, multiplicative, seed, stream),
        out, inp);
}

static void emulated_dropout_backward(float *dinp, const float *dout, const uint8_t *mask,
                                      const nn_dropout_geometry *geometry)
{
    RUN("dropout_backward", CPU.dropout_backward(dinp, dout, mask, geometry),
        dinp, dout, mask);
}

static size_t emulated_batchnorm_scratch_floats(const nn_batchnorm_geometry *geometry)
{
    return CPU.batchnorm_scratch_floats(geometry);
}

static void emulated_batchnorm_forward_training(float *y, float *mean, float *inv_std,
                                                float *moving_mean, float *moving_variance,
                                                const float *x, const float *gamma,
                                                const float *beta,
                                                const nn_batchnorm_geometry *geometry,
                                                float *scratch)
{
    RUN("batchnorm_forward_training", CPU.batchnorm_forward_training(y, mean, inv_std,
                                                                     moving_mean,
                                                                     moving_variance, x, gamma,
                                                                     beta, geometry, scratch),
        y, mean, inv_std, moving_mean, moving_variance, x, gamma, beta, scratch);
}

static void emulated_batchnorm_forward_inference(float *y, float *mean, float *inv_std,
                                                 const float *x, const float *gamma,
                                                 const float *beta, const float *moving_mean,
                                                 const float *moving_variance,
                                                 const nn_batchnorm_geometry *geometry)
{
    RUN("batchnorm_forward_inference", CPU.batchnorm_forward_inference(y, mean, inv_std, x,
                                                                       gamma, beta,
                                                                       moving_mean,
                                                                       moving_variance,
                                                                       geometry),
        y, mean, inv_std, x, gamma, beta, moving_mean, moving_variance);
}

static void emulated_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                                        const float *dy, const float *x, const float *gamma,
                                        const float *mean, const float *inv_std,
                                        bool batch_statistics,
                                        const nn_batchnorm_geometry *geometry, float *scratch)
{
    RUN("batchnorm_backward", CPU.batchnorm_backward(dx, dgamma, dbeta, dy, x, gamma, mean,
                                                     inv_std, batch_statistics, geometry,
                                                     scratch),
        dx, dgamma, dbeta, dy, x, gamma, mean, inv_std, scratch);
}

static void emulated_loss_forward_backward(double *loss, float *dlogits,
                                           const nn_loss *loss_kind, nn_activation last,
                                           const float *pred, const float *logits,
                                           const float *labels, const float *row_weights,
                                           int64_t batch, int64_t width)
{
    RUN("loss_forward_backward", CPU.loss_forward_backward(loss, dlogits, loss_kind, last,
                                                           pred, logits, labels, row_weights,
                                                           batch, width),
        loss, dlogits, pred, logits, labels, row_weights);
}

static void emulated_metric_sum(double *sum, const nn_metric *metric, const float *pred,
                                const float *labels, const float *row_weights, int64_t batch,
                                int64_t width)
{
    RUN("metric_sum", CPU.metric_sum(sum, metric, pred, labels, row_weights, batch, width),
        sum, pred, labels, row_weights);
}

static void emulated_curve_counts(double *counts, const float *pred, const float *labels,
                                  const float *row_weights, int64_t n, int64_t width,
                                  int64_t thresholds)
{
    RUN("curve_counts",
        CPU.curve_counts(counts, pred, labels, row_weights, n, width, thresholds), counts,
        pred, labels, row_weights);
}

static void emulated_weight_penalty(double *penalty, float *grad, const float *weights,
                                    size_t n, nn_regularizer regularizer)
{
    RUN("weight_penalty", CPU.weight_penalty(penalty, grad, weights, n, regularizer),
        penalty, grad, weights);
}

static void emulated_optimizer_step(float *weights, float *const slots[3], const float *grads,
                                    const unsigned char *decay_mask,
                                    const nn_optimizer_config *config, long long iteration,
                                    size_t count, const nn_batch_stats *guard)
{
    RUN("optimizer_step", CPU.optimizer_step(weights, slots, grads, decay_mask, config,
                                             iteration, count, guard),
        weights, slots[0], slots[1], slots[2], grads, decay_mask, guard);
}

static size_t emulated_constraint_scratch_floats(const nn_constraint *constraint,
                                                 const nn_shape *shape)
{
    return CPU.constraint_scratch_floats(constraint, shape);
}

static void emulated_constraint_apply(float *weights, const nn_constraint *constraint,
                                      const nn_shape *shape, const nn_batch_stats *guard,
                                      float *scratch)
{
    RUN("constraint_apply", CPU.constraint_apply(weights, constraint, shape, guard, scratch),
        weights, guard, scratch);
}

static nn_status emulated_check(void) { return take_failure(); }

static const nn_backend emulated_backend = {
    .name = "emulated",
    .device = NN_DEVICE_EMULATED,
    .host_visible = false,

    .memory_alloc = emulated_memory_alloc,
    .memory_free = emulated_memory_free,
    .host_alloc = nn_cpu_host_alloc,
    .host_free = nn_cpu_host_free,
    .copy_to_host = emulated_copy_to_host,
    .copy_from_host = emulated_copy_from_host,
    .copy = emulated_copy,
    .memory_zero = emulated_memory_zero,
    .upload_async = emulated_upload_async,
    .synchronize = emulated_check,
    .check = emulated_check,
    .select_device = emulated_select_device,

    .fill = emulated_fill,
    .scale_shift = emulated_scale_shift,
    .add = emulated_add,
    .multiply = emulated_multiply,
    .clipped_relu = emulated_clipped_relu,
    .normalize = emulated_normalize,
    .bucketize = emulated_bucketize,
    .category_encode = emulated_category_encode,
    .unit_norm_forward = emulated_unit_norm_forward,
    .unit_norm_backward = emulated_unit_norm_backward,
    .prelu = emulated_prelu,
    .prelu_alpha_gradient = emulated_prelu_alpha_gradient,
    .step_mask = emulated_step_mask,
    .select_rows = emulated_select_rows,
    .masked_loss_weights = emulated_masked_loss_weights,
    .masked_mean_steps = emulated_masked_mean_steps,
    .masked_mean_steps_backward = emulated_masked_mean_steps_backward,
    .to_channels_last = emulated_to_channels_last,
    .to_channels_first = emulated_to_channels_first,
    .conv2d_scratch_floats = emulated_conv2d_scratch_floats,
    .conv2d_forward = emulated_conv2d_forward,
    .conv2d_backward = emulated_conv2d_backward,
    .conv2d_maxpool2d_applies = emulated_conv2d_maxpool2d_applies,
    .conv2d_maxpool2d_forward = emulated_conv2d_maxpool2d_forward,
    .maxpool2d_forward = emulated_maxpool2d_forward,
    .maxpool2d_backward = emulated_maxpool2d_backward,
    .maxpool2d_backward_relu = emulated_maxpool2d_backward_relu,
    .avgpool2d_forward = emulated_avgpool2d_forward,
    .avgpool2d_backward = emulated_avgpool2d_backward,
    .bias_add = emulated_bias_add,
    .swap_leading_axes = emulated_swap_leading_axes,
    .simple_rnn_cell_forward = emulated_simple_rnn_cell_forward,
    .lstm_cell_forward = emulated_lstm_cell_forward,
    .lstm_cell_backward = emulated_lstm_cell_backward,
    .gru_cell_forward = emulated_gru_cell_forward,
    .gru_cell_backward = emulated_gru_cell_backward,
    .group_norm_forward = emulated_group_norm_forward,
    .group_norm_backward = emulated_group_norm_backward,
    .embedding_gather = emulated_embedding_gather,
    .embedding_gather_backward = emulated_embedding_gather_backward,
    .column_sums = emulated_column_sums,
    .window2d_embed = emulated_window2d_embed,
    .window2d_extract = emulated_window2d_extract,
    .upsample2d_forward = emulated_upsample2d_forward,
    .upsample2d_backward = emulated_upsample2d_backward,
    .resize_forward = emulated_resize_forward,
    .resize_backward = emulated_resize_backward,
    .dense_forward = emulated_dense_forward,
    .dense_backward = emulated_dense_backward,
    .activation_forward = emulated_activation_forward,
    .activation_backward = emulated_activation_backward,
    .dropout_forward = emulated_dropout_forward,
    .dropout_backward = emulated_dropout_backward,
    .gaussian_noise = emulated_gaussian_noise,
    .random_flip = emulated_random_flip,
    .random_affine = emulated_random_affine,
    .random_affine_backward = emulated_random_affine_backward,
    .random_color = emulated_random_color,
    .random_color_backward = emulated_random_color_backward,
    .batchnorm_scratch_floats = emulated_batchnorm_scratch_floats,
    .batchnorm_forward_training = emulated_batchnorm_forward_training,
    .batchnorm_forward_inference = emulated_batchnorm_forward_inference,
    .batchnorm_backward = emulated_batchnorm_backward,

    .loss_forward_backward = emulated_loss_forward_backward,
    .metric_sum = emulated_metric_sum,
    .curve_counts = emulated_curve_counts,
    .weight_penalty = emulated_weight_penalty,
    .optimizer_step = emulated_optimizer_step,
    .constraint_scratch_floats = emulated_constraint_scratch_floats,
    .constraint_apply = emulated_constraint_apply,
};

const nn_backend *nn_backend_emulated(void) { return &emulated_backend; }
