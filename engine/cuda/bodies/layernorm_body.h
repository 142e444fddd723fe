/* Bodies of layer normalisation over the last axis: one thread per row forward and for
 * the input gradient (each row normalised on its own), one per column for the gradients
 * of gamma and beta. The CPU (cpu/layernorm.c) does the same arithmetic in the same
 * order, so both give the same bits. */
#ifndef NN_LAYERNORM_BODY_H
#define NN_LAYERNORM_BODY_H

#include "body.h"

/* Row r of x (rows, width): its mean and 1/sqrt(biased variance + epsilon), summed in
 * double, then y = (x - mean) · inv_std · gamma + beta (gamma, beta may be NULL). */
NN_BODY void nn_body_layernorm_row(float *y, float *mean, float *inv_std, const float *x,
                                   const float *gamma, const float *beta, size_t width,
                                   float epsilon, size_t r)
{
    const float *row = x + r * width;
    double sum = 0.0;
    for (size_t c = 0; c < width; c++)
        sum += (double)row[c];
    double center = sum / (double)width;
    double squares = 0.0;
    for (size_t c = 0; c < width; c++) {
        double deviation = (double)row[c] - center;
        squares += deviation * deviation;
    }
    float row_mean = (float)center;
    float row_inv_std = (float)(1.0 / sqrt(squares / (double)width + (double)epsilon));
    mean[r] = row_mean;
    inv_std[r] = row_inv_std;
    float *out = y + r * width;
    for (size_t c = 0; c < width; c++) {
        float normalized = (row[c] - row_mean) * row_inv_std;
        out[c] = normalized * (gamma ? gamma[c] : 1.0f) + (beta ? beta[c] : 0.0f);
    }
}

/* Row r of dx: inv_std · (g - mean(g) - x̂ · mean(g · x̂)) with g = dy · gamma. */
NN_BODY void nn_body_layernorm_dx(float *dx, const float *dy, const float *x,
                                  const float *gamma, const float *mean, const float *inv_std,
                                  size_t width, size_t r)
{
    const float *row = x + r * width, *gradient = dy + r * width;
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (size_t c = 0; c < width; c++) {
        float g = gradient[c] * (gamma ? gamma[c] : 1.0f);
        float xhat = (row[c] - mean[r]) * inv_std[r];
        sum_g += (double)g;
        sum_g_xhat += (double)g * (double)xhat;
    }
    double mean_g = sum_g / (double)width, mean_g_xhat = sum_g_xhat / (double)width;
    float *out = dx + r * width;
    for (size_t c = 0; c < width; c++) {
        float g = gradient[c] * (gamma ? gamma[c] : 1.0f);
        float xhat = (row[c] - mean[r]) * inv_std[r];
        out[c] = (float)((double)inv_std[r] * ((double)g - mean_g - (double)xhat * mean_g_xhat));
    }
}

/* Column c of dgamma (Σ dy · x̂) and dbeta (Σ dy) over every row, in row order; either may
 * be NULL. */
NN_BODY void nn_body_layernorm_parameters(float *dgamma, float *dbeta, const float *dy,
                                          const float *x, const float *mean,
                                          const float *inv_std, size_t rows, size_t width,
                                          size_t c)
{
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for (size_t r = 0; r < rows; r++) {
        float gradient = dy[r * width + c];
        float xhat = (x[r * width + c] - mean[r]) * inv_std[r];
        sum_dy += (double)gradient;
        sum_dy_xhat += (double)gradient * (double)xhat;
    }
    if (dgamma)
        dgamma[c] = (float)sum_dy_xhat;
    if (dbeta)
        dbeta[c] = (float)sum_dy;
}

#endif
