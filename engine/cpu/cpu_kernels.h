/* CPU kernels behind nn_backend_cpu(). Signatures match the backend table; see
 * backend.h for the shapes of every pointer. */
#ifndef NN_CPU_KERNELS_H
#define NN_CPU_KERNELS_H

#include <stdbool.h>

#include "../backend.h"

nn_status nn_cpu_memory_alloc(void **out, size_t bytes, int index);
void nn_cpu_memory_free(void *pointer);
nn_status nn_cpu_host_alloc(void **out, size_t bytes);
void nn_cpu_host_free(void *pointer);
nn_status nn_cpu_copy_to_host(void *host, const void *source, size_t bytes);
nn_status nn_cpu_copy_from_host(void *target, const void *host, size_t bytes);
void nn_cpu_copy(void *target, const void *source, size_t bytes);
void nn_cpu_memory_zero(void *target, size_t bytes);
void nn_cpu_upload_async(void *target, const void *pinned, size_t bytes);
nn_status nn_cpu_synchronize(void);
nn_status nn_cpu_select_device(int index);

void nn_cpu_fill(float *target, float value, size_t n);
void nn_cpu_scale_shift(float *y, const float *x, float scale, float offset, size_t n);
void nn_cpu_add(float *y, const float *x, size_t n);
void nn_cpu_multiply(float *y, const float *a, const float *b, size_t n);
void nn_cpu_clipped_relu(float *out, const float *x, const float *dout, size_t n,
                         float negative_slope, float max_value, float threshold);
void nn_cpu_normalize(float *y, const float *x, const float *mean, const float *variance,
                      const nn_normalize_geometry *g, bool gradient);
void nn_cpu_bucketize(float *out, const float *x, size_t n, const nn_category_geometry *g);
void nn_cpu_category_encode(float *out, const float *x, const nn_category_geometry *g);
void nn_cpu_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g);
void nn_cpu_unit_norm_backward(float *dx, const float *dy, const float *x,
                               const nn_unit_norm_geometry *g);
void nn_cpu_prelu(float *out, const float *x, const float *dout, const float *alpha,
                  const nn_prelu_geometry *g);
void nn_cpu_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                 const nn_prelu_geometry *g, float *scratch);
void nn_cpu_step_mask(float *mask, const float *x, float value, size_t rows, size_t width);
void nn_cpu_select_rows(float *out, const float *kept, const float *masked, const float *mask,
                    size_t mask_stride, size_t rows, size_t width);
void nn_cpu_masked_loss_weights(float *out, const float *weights, const float *mask,
                           size_t rows);
void nn_cpu_masked_mean_steps(float *out, const float *x, const float *mask, int64_t batch,
                    int64_t steps, int64_t channels);
void nn_cpu_masked_mean_steps_backward(float *dx, const float *dout, const float *mask,
                    int64_t batch, int64_t steps, int64_t channels);

size_t nn_cpu_conv2d_scratch_floats(const nn_conv2d_geometry *geometry);
void nn_cpu_conv2d_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation,
                           const nn_conv2d_geometry *geometry, float *scratch);
void nn_cpu_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel,
                            const nn_conv2d_geometry *geometry, float *scratch);

/* The direct convolution (conv2d_direct.c), used by the two above when it applies:
 * stride 1 and one group. Same shapes; relu is fused, other activations are not. */
bool nn_cpu_conv2d_direct_applies(const nn_conv2d_geometry *geometry);
size_t nn_cpu_conv2d_direct_scratch_floats(const nn_conv2d_geometry *geometry);
void nn_cpu_conv2d_direct_forward(float *out, const float *inp, const float *kernel,
                                  const float *bias, bool relu,
                                  const nn_conv2d_geometry *geometry, float *scratch);
void nn_cpu_conv2d_direct_backward(float *dinp, float *dkernel, float *dbias,
                                   const float *dout, const float *inp, const float *kernel,
                                   const nn_conv2d_geometry *geometry, float *scratch);

/* Convolution, bias, relu? and 2×2 max pooling in one pass (conv2d_direct.c): see
 * nn_backend.conv2d_maxpool2d_forward. */
bool nn_cpu_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool);
void nn_cpu_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax, const float *inp,
                                     const float *kernel, const float *bias, bool relu,
                                     const nn_conv2d_geometry *conv,
                                     const nn_pool2d_geometry *pool, float *scratch);

void nn_cpu_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                              const nn_pool2d_geometry *geometry);
void nn_cpu_avgpool2d_forward(float *out, const float *inp, const nn_pool2d_geometry *geometry);
void nn_cpu_avgpool2d_backward(float *dinp, const float *dout, const nn_pool2d_geometry *geometry);
void nn_cpu_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                               const nn_pool2d_geometry *geometry);
void nn_cpu_maxpool2d_backward_relu(float *dinp, const float *dout, const int32_t *argmax,
                                    const float *out, const nn_pool2d_geometry *geometry);

/* Zero padding, cropping and nearest upsampling (resample.c): see nn_backend. */
void nn_cpu_window2d_embed(float *outer, const float *inner, const nn_window2d_geometry *g);
void nn_cpu_window2d_extract(float *inner, const float *outer, const nn_window2d_geometry *g);
void nn_cpu_upsample2d_forward(float *out, const float *inp, const nn_upsample2d_geometry *g);
void nn_cpu_upsample2d_backward(float *dinp, const float *dout,
                                const nn_upsample2d_geometry *g);
/* Resizing (resize.c): see nn_backend. */
void nn_cpu_resize_forward(float *out, const float *inp, const nn_resize_geometry *g);
void nn_cpu_resize_backward(float *dinp, const float *dout, const nn_resize_geometry *g);

void nn_cpu_bias_add(float *out, const float *bias, int64_t rows, int64_t width);
void nn_cpu_column_sums(float *sums, const float *rows, int64_t row_count, int64_t width);

/* Recurrent layers (recurrent.c): see nn_backend. */
void nn_cpu_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                        int64_t inner);
void nn_cpu_simple_rnn_cell_forward(float *h, float *preact, const float *xw, const float *hu,
                              const nn_recurrent_cell *cell);
void nn_cpu_lstm_cell_forward(float *h, float *c, float *preact, float *gates, const float *xw,
                        const float *hu, const float *c_prev, const nn_recurrent_cell *cell);
void nn_cpu_lstm_cell_backward(float *dpreact, float *dc, const float *dh, const float *preact,
                         const float *gates, const float *c_prev, const float *c,
                         const nn_recurrent_cell *cell);
void nn_cpu_gru_cell_forward(float *h, float *preact, float *gates, float *hu_h, const float *xw,
                       const float *hu, const float *h_prev, const nn_recurrent_cell *cell);
void nn_cpu_gru_cell_backward(float *dxw, float *dhu, float *dh_prev, const float *dh,
                        const float *preact, const float *gates, const float *hu_h,
                        const float *h_prev, const nn_recurrent_cell *cell);

/* Group (and layer) normalisation (group_norm.c): see nn_backend. */
void nn_cpu_group_norm_forward(float *y, float *mean, float *inv_std, const float *x,
                               const float *gamma, const float *beta,
                               const nn_group_norm_geometry *geometry);
void nn_cpu_group_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *mean,
                                const float *inv_std, const nn_group_norm_geometry *geometry);

/* The embedding lookup (embedding.c): see nn_backend. */
void nn_cpu_embedding_gather(float *out, const float *table, const float *indices,
                             int64_t count, int64_t rows, int64_t dim);
void nn_cpu_embedding_gather_backward(float *dtable, const float *dout, const float *indices,
                                      int64_t count, int64_t rows, int64_t dim);

void nn_cpu_dense_forward(float *out, const float *inp, const float *kernel,
                          const float *bias, nn_activation activation, int batch,
                          int in_features, int out_features);
void nn_cpu_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                           const float *inp, const float *kernel, int batch,
                           int in_features, int out_features);

void nn_cpu_dropout_forward(float *out, uint8_t *mask, const float *inp,
                            const nn_dropout_geometry *geometry, uint64_t seed,
                            uint64_t stream);
void nn_cpu_dropout_backward(float *dinp, const float *dout, const uint8_t *mask,
                             const nn_dropout_geometry *geometry);
void nn_cpu_random_affine(float *out, const float *in, const nn_affine_geometry *geometry,
                          uint64_t seed, uint64_t stream);
void nn_cpu_random_affine_backward(float *din, const float *dout,
                                   const nn_affine_geometry *geometry, uint64_t seed,
                                   uint64_t stream);
void nn_cpu_random_color(float *out, const float *in, const nn_color_geometry *geometry,
                         uint64_t seed, uint64_t stream);
void nn_cpu_random_color_backward(float *din, const float *dout, const float *in,
                                  const nn_color_geometry *geometry, uint64_t seed,
                                  uint64_t stream);
void nn_cpu_random_flip(float *out, const float *in, const nn_flip_geometry *geometry,
                        uint64_t seed, uint64_t stream);
void nn_cpu_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                           bool multiplicative, uint64_t seed, uint64_t stream);

size_t nn_cpu_batchnorm_scratch_floats(const nn_batchnorm_geometry *geometry);
void nn_cpu_batchnorm_forward_training(float *y, float *mean, float *inv_std,
                                       float *moving_mean, float *moving_variance,
                                       const float *x, const float *gamma, const float *beta,
                                       const nn_batchnorm_geometry *geometry, float *scratch);
void nn_cpu_batchnorm_forward_inference(float *y, float *mean, float *inv_std,
                                        const float *x, const float *gamma, const float *beta,
                                        const float *moving_mean, const float *moving_variance,
                                        const nn_batchnorm_geometry *geometry);
void nn_cpu_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                               const float *x, const float *gamma, const float *mean,
                               const float *inv_std, bool batch_statistics,
                               const nn_batchnorm_geometry *geometry, float *scratch);

void nn_cpu_loss_forward_backward(double *loss, float *dlogits, const nn_loss *loss_kind,
                                  nn_activation last, const float *pred, const float *logits,
                                  const float *labels, const float *row_weights,
                                  int64_t batch, int64_t width);
void nn_cpu_curve_counts(double *counts, const float *pred, const float *labels,
                         const float *row_weights, int64_t n, int64_t width,
                         int64_t thresholds);
void nn_cpu_metric_sum(double *sum, const nn_metric *metric, const float *pred,
                       const float *labels, const float *row_weights, int64_t batch,
                       int64_t width);
void nn_cpu_weight_penalty(double *penalty, float *grad, const float *weights, size_t n,
                           nn_regularizer regularizer);

void nn_cpu_optimizer_step(float *weights, float *const slots[3], const float *grads,
                           const unsigned char *decay_mask, const nn_optimizer_config *config,
                           long long iteration, size_t count, const nn_batch_stats *guard);
size_t nn_cpu_constraint_scratch_floats(const nn_constraint *constraint, const nn_shape *shape);
void nn_cpu_constraint_apply(float *weights, const nn_constraint *constraint,
                             const nn_shape *shape, const nn_batch_stats *guard,
                             float *scratch);

/* The table itself, for backends that wrap the CPU kernels (the emulated device). */
extern const nn_backend nn_cpu_backend_table;

#endif
