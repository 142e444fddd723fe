// Batch normalisation on the GPU: per-channel sums by slices (one thread per slice and
// channel, adjacent threads on adjacent channels), statistics per channel, then one
// thread per element. The scratch holds the partial sums, the sums and the batch mean.
#include "cuda_kernels.h"
#include "bodies/batchnorm_body.h"
#include "launch.cuh"

static const size_t BN_SLICES = NN_REDUCE_SLICES;

// In doubles: partials (slices, 2, C), sums (2, C), batch mean (C), the row count.
extern "C" size_t nn_cuda_batchnorm_scratch_floats(const nn_batchnorm_geometry *geometry)
{
    size_t channels = (size_t)geometry->channels;
    return 2 * (BN_SLICES * 2 * channels + 3 * channels + 1);
}

// The rows the statistics average (nn_body_bn_count), one thread: the mask's sum in order.
static __global__ void count_kernel(double *count, nn_batchnorm_geometry g)
{
    if (blockIdx.x == 0 && threadIdx.x == 0)
        *count = nn_body_bn_count(&g);
}

static __global__ void partial_kernel(double *partials, nn_body_bn_sum kind, const float *x,
                                      const float *dy, const double *center, const float *mean,
                                      const float *inv_std, nn_batchnorm_geometry g,
                                      size_t slices, size_t n)
{
    NN_FOR_EACH(t, n) nn_body_bn_partial(partials, kind, x, dy, center, mean, inv_std, g, slices, t);
}

static __global__ void combine_kernel(double *sums, const double *partials, size_t channels,
                                      size_t slices, double *mean_out, const double *count)
{
    NN_FOR_EACH(c, channels)
    {
        nn_body_bn_combine(sums, partials, channels, slices, c);
        if (mean_out)
            mean_out[c] = sums[c] / *count;
    }
}

static __global__ void statistics_kernel(float *mean, float *inv_std, float *moving_mean,
                                         float *moving_variance, const double *batch_mean,
                                         const double *sums, nn_batchnorm_geometry g,
                                         const double *count)
{
    NN_FOR_EACH(c, (size_t)g.channels)
    nn_body_bn_statistics(mean, inv_std, moving_mean, moving_variance, batch_mean, sums, g,
                          *count, c);
}

static __global__ void inference_statistics_kernel(float *mean, float *inv_std,
                                                   const float *moving_mean,
                                                   const float *moving_variance, float epsilon,
                                                   size_t channels)
{
    NN_FOR_EACH(c, channels)
    nn_body_bn_inference_statistics(mean, inv_std, moving_mean, moving_variance, epsilon, c);
}

static __global__ void normalize_kernel(float *y, const float *x, const float *gamma,
                                        const float *beta, const float *mean,
                                        const float *inv_std, nn_batchnorm_geometry g, size_t n)
{
    NN_FOR_EACH(i, n) nn_body_bn_normalize(y, x, gamma, beta, mean, inv_std, g, i);
}

static __global__ void gradients_kernel(float *dgamma, float *dbeta, const double *sums,
                                        size_t channels)
{
    NN_FOR_EACH(c, channels)
    {
        if (dbeta)
            dbeta[c] = (float)sums[c];
        if (dgamma)
            dgamma[c] = (float)sums[channels + c];
    }
}

static __global__ void dx_kernel(float *dx, const float *dy, const float *x, const float *gamma,
                                 const float *mean, const float *inv_std, const double *sums,
                                 int batch_statistics, nn_batchnorm_geometry g,
                                 const double *count, size_t n)
{
    NN_FOR_EACH(i, n)
    nn_body_bn_dx(dx, dy, x, gamma, mean, inv_std, sums, batch_statistics, g, *count, i);
}

typedef struct bn_scratch {
    double *partials, *sums, *batch_mean, *count;
} bn_scratch;

static bn_scratch split_scratch(float *scratch, size_t channels)
{
    bn_scratch s;
    s.partials = (double *)(void *)scratch;
    s.sums = s.partials + BN_SLICES * 2 * channels;
    s.batch_mean = s.sums + 2 * channels;
    s.count = s.batch_mean + channels;
    return s;
}

// The per-channel sums of `kind` into s.sums (and the mean into mean_out when given).
static void channel_sums(nn_cuda_context *context, bn_scratch s, nn_body_bn_sum kind,
                         const float *x, const float *dy, const double *center,
                         const float *mean, const float *inv_std,
                         const nn_batchnorm_geometry *g, double *mean_out)
{
    size_t channels = (size_t)g->channels, threads = BN_SLICES * channels;
    partial_kernel<<<nn_blocks(threads), NN_THREADS, 0, context->stream>>>(
        s.partials, kind, x, dy, center, mean, inv_std, *g, BN_SLICES, threads);
    NN_CUDA_LAUNCHED("batchnorm_partial_sums");
    combine_kernel<<<nn_blocks(channels), NN_THREADS, 0, context->stream>>>(
        s.sums, s.partials, channels, BN_SLICES, mean_out, s.count);
    NN_CUDA_LAUNCHED("batchnorm_combine");
}

static void count_rows(nn_cuda_context *context, bn_scratch s, const nn_batchnorm_geometry *g)
{
    count_kernel<<<1, 1, 0, context->stream>>>(s.count, *g);
    NN_CUDA_LAUNCHED("batchnorm_count");
}

extern "C" void nn_cuda_batchnorm_forward_training(float *y, float *mean, float *inv_std,
                                                   float *moving_mean, float *moving_variance,
                                                   const float *x, const float *gamma,
                                                   const float *beta,
                                                   const nn_batchnorm_geometry *geometry,
                                                   float *scratch)
{
    size_t channels = (size_t)geometry->channels;
    size_t n = (size_t)(geometry->outer * geometry->inner) * channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    bn_scratch s = split_scratch(scratch, channels);
    // Two passes, as on the CPU: the mean, then the squared deviations from it.
    count_rows(context, s, geometry);
    channel_sums(context, s, NN_BODY_BN_SUM_X, x, NULL, NULL, NULL, NULL, geometry,
                 s.batch_mean);
    channel_sums(context, s, NN_BODY_BN_SUM_SQUARED_DEVIATION, x, NULL, s.batch_mean, NULL,
                 NULL, geometry, NULL);
    statistics_kernel<<<nn_blocks(channels), NN_THREADS, 0, context->stream>>>(
        mean, inv_std, moving_mean, moving_variance, s.batch_mean, s.sums, *geometry, s.count);
    NN_CUDA_LAUNCHED("batchnorm_statistics");
    normalize_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, x, gamma, beta, mean,
                                                                     inv_std, *geometry, n);
    NN_CUDA_LAUNCHED("batchnorm_normalize");
}

extern "C" void nn_cuda_batchnorm_forward_inference(float *y, float *mean, float *inv_std,
                                                    const float *x, const float *gamma,
                                                    const float *beta, const float *moving_mean,
                                                    const float *moving_variance,
                                                    const nn_batchnorm_geometry *geometry)
{
    size_t channels = (size_t)geometry->channels;
    size_t n = (size_t)(geometry->outer * geometry->inner) * channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    inference_statistics_kernel<<<nn_blocks(channels), NN_THREADS, 0, context->stream>>>(
        mean, inv_std, moving_mean, moving_variance, geometry->epsilon, channels);
    NN_CUDA_LAUNCHED("batchnorm_inference_statistics");
    normalize_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(y, x, gamma, beta, mean,
                                                                     inv_std, *geometry, n);
    NN_CUDA_LAUNCHED("batchnorm_normalize");
}

extern "C" void nn_cuda_batchnorm_backward(float *dx, float *dgamma, float *dbeta,
                                           const float *dy, const float *x, const float *gamma,
                                           const float *mean, const float *inv_std,
                                           bool batch_statistics,
                                           const nn_batchnorm_geometry *geometry, float *scratch)
{
    size_t channels = (size_t)geometry->channels;
    size_t n = (size_t)(geometry->outer * geometry->inner) * channels;
    NN_CUDA_STREAM_OR_RETURN(context, n);
    bn_scratch s = split_scratch(scratch, channels);
    count_rows(context, s, geometry);
    channel_sums(context, s, NN_BODY_BN_SUM_DY_AND_DY_XHAT, x, dy, NULL, mean, inv_std,
                 geometry, NULL);
    if (dgamma || dbeta) {
        gradients_kernel<<<nn_blocks(channels), NN_THREADS, 0, context->stream>>>(
            dgamma, dbeta, s.sums, channels);
        NN_CUDA_LAUNCHED("batchnorm_gradients");
    }
    if (!dx)
        return;
    dx_kernel<<<nn_blocks(n), NN_THREADS, 0, context->stream>>>(
        dx, dy, x, gamma, mean, inv_std, s.sums, batch_statistics, *geometry, s.count, n);
    NN_CUDA_LAUNCHED("batchnorm_dx");
}
