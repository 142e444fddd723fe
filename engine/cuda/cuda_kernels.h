/* The CUDA backend's functions, one per entry of the backend table (same signatures as
 * the CPU's in cpu/cpu_kernels.h), plus the helpers cudnn_ops.c and dense.c use. The .cu
 * files define the kernels; cuda_backend.c, dense.c and cudnn_ops.c the rest. */
#ifndef NN_CUDA_KERNELS_H
#define NN_CUDA_KERNELS_H

/* The engine headers are C: the .cu files include this first so they keep C linkage. */
#ifdef __cplusplus
extern "C" {
#endif

#include "../backend.h"

/* ---- elementwise.cu ---- */
void nn_cuda_fill(float *target, float value, size_t n);
void nn_cuda_scale_shift(float *y, const float *x, float scale, float offset, size_t n);
void nn_cuda_add(float *y, const float *x, size_t n);
void nn_cuda_multiply(float *y, const float *a, const float *b, size_t n);
void nn_cuda_clipped_relu(float *out, const float *x, const float *dout, size_t n,
                          float negative_slope, float max_value, float threshold);
void nn_cuda_normalize(float *y, const float *x, const float *mean, const float *variance,
                       const nn_normalize_geometry *g, bool gradient);
void nn_cuda_bucketize(float *out, const float *x, size_t n, const nn_category_geometry *g);
void nn_cuda_category_encode(float *out, const float *x, const nn_category_geometry *g);
void nn_cuda_unit_norm_forward(float *y, const float *x, const nn_unit_norm_geometry *g);
void nn_cuda_unit_norm_backward(float *dx, const float *dy, const float *x,
                                const nn_unit_norm_geometry *g);
void nn_cuda_prelu(float *out, const float *x, const float *dout, const float *alpha,
                   const nn_prelu_geometry *g);
void nn_cuda_prelu_alpha_gradient(float *dalpha, const float *x, const float *dout,
                                  const nn_prelu_geometry *g, float *scratch);
void nn_cuda_step_mask(float *mask, const float *x, float value, size_t rows, size_t width);
void nn_cuda_select_rows(float *out, const float *kept, const float *masked, const float *mask,
                     size_t mask_stride, size_t rows, size_t width);
void nn_cuda_masked_loss_weights(float *out, const float *weights, const float *mask,
                            size_t rows);
void nn_cuda_masked_mean_steps(float *out, const float *x, const float *mask, int64_t batch,
                     int64_t steps, int64_t channels);
void nn_cuda_masked_mean_steps_backward(float *dx, const float *dout, const float *mask,
                     int64_t batch, int64_t steps, int64_t channels);
void nn_cuda_to_channels_last(float *out, const float *inp, int64_t batch, int64_t channels,
                              int64_t spatial);
void nn_cuda_to_channels_first(float *out, const float *inp, int64_t batch, int64_t channels,
                               int64_t spatial);
void nn_cuda_activation_forward(nn_activation activation, float *y, const float *x, size_t n,
                                size_t axis_size);
void nn_cuda_activation_backward(nn_activation activation, float *dx, const float *dy,
                                 const float *x, const float *y, size_t n, size_t axis_size);
/* out (rows, width) += bias (width, or NULL), then the activation (softmax by rows). */
void nn_cuda_bias_activate(float *out, const float *bias, size_t rows, size_t width,
                           nn_activation activation);
/* sums (width) = column sums of rows (row_count, width), in row order. */
void nn_cuda_column_sums(float *sums, const float *rows, size_t row_count, size_t width);
/* The same for many rows (a convolution's pixels): NN_REDUCE_SLICES slices per column
 * summed in double into partials (NN_REDUCE_SLICES, width), then combined. */
void nn_cuda_column_sums_sliced(float *sums, double *partials, const float *rows,
                                size_t row_count, size_t width);
/* Kernel layouts: Keras' (KH,KW,Cg,OC) to cuDNN's (OC,KH,KW,Cg) and back. */
void nn_cuda_kernel_to_cudnn(float *out, const float *in, int kernel_height, int kernel_width,
                             int group_channels, int out_channels);
void nn_cuda_kernel_from_cudnn(float *out, const float *in, int kernel_height,
                               int kernel_width, int group_channels, int out_channels);
/* padded (B,Hp,Wp,C) = inp (B,H,W,C) placed at (pad_top, pad_left), zeros around; crop
 * is the way back (for gradients). */
void nn_cuda_pad(float *padded, const float *inp, int batch, int height, int width,
                 int channels, int padded_height, int padded_width, int pad_top,
                 int pad_left);
void nn_cuda_crop(float *out, const float *padded, int batch, int height, int width,
                  int channels, int padded_height, int padded_width, int pad_top,
                  int pad_left);

/* ---- recurrent.cu ---- */
void nn_cuda_swap_leading_axes(float *out, const float *inp, int64_t d0, int64_t d1,
                        int64_t inner);
void nn_cuda_simple_rnn_cell_forward(float *h, float *preact, const float *xw, const float *hu,
                              const nn_recurrent_cell *cell);
void nn_cuda_lstm_cell_forward(float *h, float *c, float *preact, float *gates, const float *xw,
                        const float *hu, const float *c_prev, const nn_recurrent_cell *cell);
void nn_cuda_lstm_cell_backward(float *dpreact, float *dc, const float *dh, const float *preact,
                         const float *gates, const float *c_prev, const float *c,
                         const nn_recurrent_cell *cell);
void nn_cuda_gru_cell_forward(float *h, float *preact, float *gates, float *hu_h, const float *xw,
                       const float *hu, const float *h_prev, const nn_recurrent_cell *cell);
void nn_cuda_gru_cell_backward(float *dxw, float *dhu, float *dh_prev, const float *dh,
                        const float *preact, const float *gates, const float *hu_h,
                        const float *h_prev, const nn_recurrent_cell *cell);

/* ---- group_norm.cu ---- */
void nn_cuda_group_norm_forward(float *y, float *mean, float *inv_std, const float *x,
                                const float *gamma, const float *beta,
                                const nn_group_norm_geometry *geometry);
void nn_cuda_group_norm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                 const float *x, const float *gamma, const float *mean,
                                 const float *inv_std, const nn_group_norm_geometry *geometry);

/* ---- embedding.cu ---- */
void nn_cuda_embedding_gather(float *out, const float *table, const float *indices,
                              int64_t count, int64_t rows, int64_t dim);
void nn_cuda_embedding_gather_backward(float *dtable, const float *dout, const float *indices,
                                       int64_t count, int64_t rows, int64_t dim);

/* nn_backend's bias_add and column_sums. */
void nn_cuda_bias_add(float *out, const float *bias, int64_t rows, int64_t width);
void nn_cuda_column_sums_of(float *sums, const float *rows, int64_t row_count, int64_t width);

/* The padding layers' windows and nearest upsampling: see nn_backend. */
void nn_cuda_window2d_embed(float *outer, const float *inner, const nn_window2d_geometry *g);
void nn_cuda_window2d_extract(float *inner, const float *outer, const nn_window2d_geometry *g);
void nn_cuda_upsample2d_forward(float *out, const float *inp, const nn_upsample2d_geometry *g);
void nn_cuda_upsample2d_backward(float *dinp, const float *dout,
                                 const nn_upsample2d_geometry *g);

/* ---- resize.cu ---- */
void nn_cuda_resize_forward(float *out, const float *inp, const nn_resize_geometry *g);
void nn_cuda_resize_backward(float *dinp, const float *dout, const nn_resize_geometry *g);

/* ---- pool.cu ---- */
void nn_cuda_maxpool2d_forward(float *out, int32_t *argmax, const float *inp,
                               const nn_pool2d_geometry *geometry);
void nn_cuda_avgpool2d_forward(float *out, const float *inp, const nn_pool2d_geometry *geometry);
void nn_cuda_avgpool2d_backward(float *dinp, const float *dout,
                                const nn_pool2d_geometry *geometry);
void nn_cuda_maxpool2d_backward(float *dinp, const float *dout, const int32_t *argmax,
                                const nn_pool2d_geometry *geometry);

void nn_cuda_maxpool2d_backward_relu(float *dinp, const float *dout, const int32_t *argmax,
                                     const float *out, const nn_pool2d_geometry *geometry);
bool nn_cuda_conv2d_maxpool2d_applies(const nn_conv2d_geometry *conv,
                                      const nn_pool2d_geometry *pool);
void nn_cuda_conv2d_maxpool2d_forward(float *pooled, int32_t *argmax, const float *inp,
                                      const float *kernel, const float *bias, bool relu,
                                      const nn_conv2d_geometry *conv,
                                      const nn_pool2d_geometry *pool, float *scratch);

/* ---- dropout.cu ---- */
void nn_cuda_dropout_forward(float *out, uint8_t *mask, const float *inp,
                             const nn_dropout_geometry *geometry, uint64_t seed,
                             uint64_t stream);
void nn_cuda_dropout_backward(float *dinp, const float *dout, const uint8_t *mask,
                              const nn_dropout_geometry *geometry);
void nn_cuda_random_affine(float *out, const float *in, const nn_affine_geometry *geometry,
                           uint64_t seed, uint64_t stream);
void nn_cuda_random_affine_backward(float *din, const float *dout,
                                    const nn_affine_geometry *geometry, uint64_t seed,
                                    uint64_t stream);
void nn_cuda_random_color(float *out, const float *in, const nn_color_geometry *geometry,
                          uint64_t seed, uint64_t stream);
void nn_cuda_random_color_backward(float *din, const float *dout, const float *in,
                                   const nn_color_geometry *geometry, uint64_t seed,
                                   uint64_t stream);
void nn_cuda_random_flip(float *out, const float *in, const nn_flip_geometry *geometry,
                         uint64_t seed, uint64_t stream);
void nn_cuda_gaussian_noise(float *out, const float *inp, size_t n, float stddev,
                            bool multiplicative, uint64_t seed, uint64_t stream);

/* ---- batchnorm.cu ---- */
size_t nn_cuda_batchnorm_scratch_floats(const nn_batchnorm_geometry *geometry);
void nn_cuda_batchnorm_forward_training(float *y, float *mean, float *inv_std,
                                        float *moving_mean, float *moving_variance,
                                        const float *x, const float *gamma, const float *beta,
                                        const nn_batchnorm_geometry *geometry, float *scratch);
void nn_cuda_batchnorm_forward_inference(float *y, float *mean, float *inv_std,
                                         const float *x, const float *gamma, const float *beta,
                                         const float *moving_mean, const float *moving_variance,
                                         const nn_batchnorm_geometry *geometry);
void nn_cuda_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *gamma, const float *mean,
                                const float *inv_std, bool batch_statistics,
                                const nn_batchnorm_geometry *geometry, float *scratch);

/* ---- loss.cu ---- */
void nn_cuda_loss_forward_backward(double *loss, float *dlogits, const nn_loss *loss_kind,
                                   nn_activation last, const float *pred, const float *logits,
                                   const float *labels, const float *row_weights,
                                   int64_t batch, int64_t width);
void nn_cuda_metric_sum(double *sum, const nn_metric *metric, const float *pred,
                        const float *labels, const float *row_weights, int64_t batch,
                        int64_t width);
void nn_cuda_curve_counts(double *counts, const float *pred, const float *labels,
                          const float *row_weights, int64_t n, int64_t width,
                          int64_t thresholds);
void nn_cuda_weight_penalty(double *penalty, float *grad, const float *weights, size_t n,
                            nn_regularizer regularizer);

/* ---- optimizer.cu ---- */
void nn_cuda_optimizer_step(float *weights, float *const slots[3], const float *grads,
                            const unsigned char *decay_mask, const nn_optimizer_config *config,
                            long long iteration, size_t count, const nn_batch_stats *guard);
size_t nn_cuda_constraint_scratch_floats(const nn_constraint *constraint,
                                         const nn_shape *shape);
void nn_cuda_constraint_apply(float *weights, const nn_constraint *constraint,
                              const nn_shape *shape, const nn_batch_stats *guard,
                              float *scratch);

/* ---- dense.c (cuBLAS) ---- */
void nn_cuda_dense_forward(float *out, const float *inp, const float *kernel,
                           const float *bias, nn_activation activation, int batch,
                           int in_features, int out_features);
void nn_cuda_dense_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                            const float *inp, const float *kernel, int batch,
                            int in_features, int out_features);

/* ---- cudnn_ops.c ---- */
size_t nn_cuda_conv2d_scratch_floats(const nn_conv2d_geometry *geometry);
void nn_cuda_conv2d_forward(float *out, const float *inp, const float *kernel,
                            const float *bias, nn_activation activation,
                            const nn_conv2d_geometry *geometry, float *scratch);
void nn_cuda_conv2d_backward(float *dinp, float *dkernel, float *dbias, const float *dout,
                             const float *inp, const float *kernel,
                             const nn_conv2d_geometry *geometry, float *scratch);
/* cuDNN's version (cudnnGetVersion), without needing a GPU. */
int nn_cuda_cudnn_version(void);
/* The cuDNN version of the headers this build used (CUDNN_VERSION). */
int nn_cuda_cudnn_compiled_version(void);

#ifdef __cplusplus
}
#endif

#endif
