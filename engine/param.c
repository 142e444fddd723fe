/* Initializers, regularizers and constraints by Keras' definitions: the numbers a
 * weight starts from, the penalty it adds to the loss, the projection after each step. */
#include "param.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "names.h"

/* ---- initializers ---- */

static const char *const initializer_names[] = {
    [NN_INITIALIZER_ZEROS] = "zeros",
    [NN_INITIALIZER_ONES] = "ones",
    [NN_INITIALIZER_CONSTANT] = "constant",
    [NN_INITIALIZER_RANDOM_NORMAL] = "random_normal",
    [NN_INITIALIZER_RANDOM_UNIFORM] = "random_uniform",
    [NN_INITIALIZER_TRUNCATED_NORMAL] = "truncated_normal",
    [NN_INITIALIZER_GLOROT_UNIFORM] = "glorot_uniform",
    [NN_INITIALIZER_GLOROT_NORMAL] = "glorot_normal",
    [NN_INITIALIZER_HE_UNIFORM] = "he_uniform",
    [NN_INITIALIZER_HE_NORMAL] = "he_normal",
    [NN_INITIALIZER_LECUN_UNIFORM] = "lecun_uniform",
    [NN_INITIALIZER_LECUN_NORMAL] = "lecun_normal",
    [NN_INITIALIZER_ORTHOGONAL] = "orthogonal",
    [NN_INITIALIZER_COUNT] = NULL,
};

/* Every other spelling Keras accepts for the same initializers: its class names and
 * the short aliases of keras.initializers. */
static const struct {
    const char *name;
    nn_initializer_kind kind;
} initializer_aliases[] = {
    {"Zeros", NN_INITIALIZER_ZEROS},
    {"zero", NN_INITIALIZER_ZEROS},
    {"Ones", NN_INITIALIZER_ONES},
    {"one", NN_INITIALIZER_ONES},
    {"Constant", NN_INITIALIZER_CONSTANT},
    {"RandomNormal", NN_INITIALIZER_RANDOM_NORMAL},
    {"normal", NN_INITIALIZER_RANDOM_NORMAL},
    {"RandomUniform", NN_INITIALIZER_RANDOM_UNIFORM},
    {"uniform", NN_INITIALIZER_RANDOM_UNIFORM},
    {"TruncatedNormal", NN_INITIALIZER_TRUNCATED_NORMAL},
    {"GlorotUniform", NN_INITIALIZER_GLOROT_UNIFORM},
    {"GlorotNormal", NN_INITIALIZER_GLOROT_NORMAL},
    {"HeUniform", NN_INITIALIZER_HE_UNIFORM},
    {"HeNormal", NN_INITIALIZER_HE_NORMAL},
    {"LecunUniform", NN_INITIALIZER_LECUN_UNIFORM},
    {"LecunNormal", NN_INITIALIZER_LECUN_NORMAL},
    {"Orthogonal", NN_INITIALIZER_ORTHOGONAL},
};

/* The VarianceScaling family: variance scale / fan, drawn uniformly or from a normal
 * truncated at two standard deviations. */
typedef enum fan_mode { FAN_IN, FAN_OUT, FAN_AVG } fan_mode;

typedef struct variance_scaling {
    nn_initializer_kind kind;
    double scale;
    fan_mode mode;
    bool uniform;
} variance_scaling;

static const variance_scaling variance_scalings[] = {
    {NN_INITIALIZER_GLOROT_UNIFORM, 1.0, FAN_AVG, true},
    {NN_INITIALIZER_GLOROT_NORMAL, 1.0, FAN_AVG, false},
    {NN_INITIALIZER_HE_UNIFORM, 2.0, FAN_IN, true},
    {NN_INITIALIZER_HE_NORMAL, 2.0, FAN_IN, false},
    {NN_INITIALIZER_LECUN_UNIFORM, 1.0, FAN_IN, true},
    {NN_INITIALIZER_LECUN_NORMAL, 1.0, FAN_IN, false},
};

/* Standard deviation of a unit normal truncated to [-2, 2]; Keras divides by it so the
 * truncated draw keeps the intended variance. */
static const double TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

nn_initializer nn_initializer_default(nn_initializer_kind kind)
{
    nn_initializer initializer = {.kind = kind};
    switch (kind) {
    case NN_INITIALIZER_RANDOM_NORMAL:
    case NN_INITIALIZER_TRUNCATED_NORMAL:
        initializer.a = 0.0;
        initializer.b = 0.05;
        break;
    case NN_INITIALIZER_RANDOM_UNIFORM:
        initializer.a = -0.05;
        initializer.b = 0.05;
        break;
    case NN_INITIALIZER_ORTHOGONAL:
        initializer.a = 1.0;
        break;
    default:
        break;
    }
    return initializer;
}

nn_status nn_initializer_parse(const char *name, nn_initializer *initializer)
{
    for (int kind = 0; kind < NN_INITIALIZER_COUNT; kind++) {
        if (strcmp(name, initializer_names[kind]) == 0) {
            *initializer = nn_initializer_default((nn_initializer_kind)kind);
            return NN_OK;
        }
    }
    for (size_t i = 0; i < sizeof initializer_aliases / sizeof initializer_aliases[0]; i++) {
        if (strcmp(name, initializer_aliases[i].name) == 0) {
            *initializer = nn_initializer_default(initializer_aliases[i].kind);
            return NN_OK;
        }
    }
    char list[512], guess[256];
    return nn_error(NN_ERR_ARGUMENT, "unknown initializer '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, initializer_names),
                    nn_names_join(list, sizeof list, initializer_names));
}

const char *nn_initializer_name(nn_initializer_kind kind)
{
    return kind < NN_INITIALIZER_COUNT ? initializer_names[kind] : "unknown";
}

const char *const *nn_initializer_names(void) { return initializer_names; }

/* Keras' compute_fans: the receptive field (every axis but the last two) multiplies
 * the input and output channel counts. */
static void compute_fans(const nn_shape *shape, double *fan_in, double *fan_out)
{
    if (shape->ndim == 0) {
        *fan_in = *fan_out = 1.0;
    } else if (shape->ndim == 1) {
        *fan_in = *fan_out = (double)shape->dims[0];
    } else {
        double receptive_field = 1.0;
        for (int axis = 0; axis < shape->ndim - 2; axis++)
            receptive_field *= (double)shape->dims[axis];
        *fan_in = (double)shape->dims[shape->ndim - 2] * receptive_field;
        *fan_out = (double)shape->dims[shape->ndim - 1] * receptive_field;
    }
}

/* data (n) = low + (high - low) * U[0, 1). */
static void fill_uniform(float *data, size_t n, nn_rng *rng, double low, double high)
{
    for (size_t i = 0; i < n; i++)
        data[i] = (float)(low + (high - low) * nn_rng_uniform_double(rng));
}

static void fill_normal(float *data, size_t n, nn_rng *rng, double mean, double stddev)
{
    for (size_t i = 0; i < n; i++)
        data[i] = (float)(mean + stddev * nn_rng_normal(rng));
}

/* Draws beyond two standard deviations are discarded and drawn again, as Keras'
 * TruncatedNormal does. */
static void fill_truncated_normal(float *data, size_t n, nn_rng *rng, double mean,
                                  double stddev)
{
    for (size_t i = 0; i < n; i++) {
        double z;
        do
            z = nn_rng_normal(rng);
        while (fabs(z) > 2.0);
        data[i] = (float)(mean + stddev * z);
    }
}

/* LAPACK's Householder QR, which the OpenBLAS library carries: dgeqrf factors a
 * column-major (m, n) matrix in place (R above the diagonal, the reflectors below),
 * dorgqr then forms the n columns of Q from the reflectors. */
extern void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau,
                    double *work, const int *lwork, int *info);
extern void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda,
                    const double *tau, double *work, const int *lwork, int *info);

/* Keras' Orthogonal: the tensor seen as a (rows, cols) matrix (rows: the product of every
 * axis but the last) whose rows or columns, whichever are fewer, are orthonormal, times
 * gain. A normal (tall, wide) draw, tall = max(rows, cols), is factored Q·R and Q's
 * columns take the signs of R's diagonal, as Keras fixes them; a wide matrix is the
 * transpose. LAPACK's blocked QR keeps a 2048-unit recurrent kernel to a fraction of a
 * second. */
static nn_status fill_orthogonal(float *data, const nn_shape *shape, nn_rng *rng, double gain)
{
    if (!isfinite(gain))
        return nn_error(NN_ERR_ARGUMENT, "initializer 'orthogonal' needs a finite gain, got %g",
                        gain);
    if (shape->ndim < 2)
        return nn_error(NN_ERR_ARGUMENT, "initializer 'orthogonal' fills a matrix (2 or more "
                        "axes), got %d axis%s", shape->ndim, shape->ndim == 1 ? "" : "es");
    size_t cols = (size_t)shape->dims[shape->ndim - 1], rows = 1;
    for (int i = 0; i < shape->ndim - 1; i++)
        rows *= (size_t)shape->dims[i];
    size_t tall = rows > cols ? rows : cols, wide = rows > cols ? cols : rows;
    if (tall > INT_MAX / 2 || tall * wide > (size_t)INT_MAX)
        return nn_error(NN_ERR_ARGUMENT, "initializer 'orthogonal': a %zu x %zu matrix is "
                        "more than it factors (2^31 values)", rows, cols);
    int m = (int)tall, n = (int)wide, lwork = -1, info = 0;
    double *q = malloc(tall * wide * sizeof *q), *tau = malloc(wide * sizeof *tau);
    double *signs = malloc(wide * sizeof *signs), size_query = 0.0, *work = NULL;
    nn_status status = NN_OK;
    if (!q || !tau || !signs) {
        status = nn_error(NN_ERR_MEMORY, "initializer 'orthogonal': no memory for a %zu x %zu "
                          "matrix", tall, wide);
        goto done;
    }
    /* Drawn in row-major order of the (tall, wide) matrix, as a normal tensor would be;
     * stored column-major (column j at q + j·tall), as LAPACK reads it. */
    for (size_t i = 0; i < tall; i++)
        for (size_t j = 0; j < wide; j++)
            q[j * tall + i] = nn_rng_normal(rng);
    dgeqrf_(&m, &n, q, &m, tau, &size_query, &lwork, &info);
    lwork = info == 0 && size_query >= (double)n ? (int)size_query : n;
    work = malloc((size_t)lwork * sizeof *work);
    if (!work) {
        status = nn_error(NN_ERR_MEMORY, "initializer 'orthogonal': no memory for its work "
                          "space");
        goto done;
    }
    dgeqrf_(&m, &n, q, &m, tau, work, &lwork, &info);
    for (size_t j = 0; j < wide && info == 0; j++)
        signs[j] = q[j * tall + j] < 0.0 ? -1.0 : 1.0;
    if (info == 0)
        dorgqr_(&m, &n, &n, q, &m, tau, work, &lwork, &info);
    if (info != 0) {
        status = nn_error(NN_ERR_ARGUMENT, "initializer 'orthogonal': the QR factorisation of "
                          "a %zu x %zu matrix failed (LAPACK info %d)", tall, wide, info);
        goto done;
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t i = rows >= cols ? r : c, j = rows >= cols ? c : r;
            data[r * cols + c] = (float)(gain * signs[j] * q[j * tall + i]);
        }
done:
    free(q), free(tau), free(signs), free(work);
    return status;
}

static const variance_scaling *find_variance_scaling(nn_initializer_kind kind)
{
    for (size_t i = 0; i < sizeof variance_scalings / sizeof variance_scalings[0]; i++)
        if (variance_scalings[i].kind == kind)
            return &variance_scalings[i];
    return NULL;
}

nn_status nn_initializer_fill(const nn_initializer *initializer, nn_tensor *tensor,
                              uint64_t seed, uint64_t stream)
{
    if (initializer->kind >= NN_INITIALIZER_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "initializer kind %d does not exist",
                        (int)initializer->kind);
    if (tensor->dtype != NN_DTYPE_F32)
        return nn_error(NN_ERR_ARGUMENT, "initializer '%s' fills float32 tensors, got %s",
                        nn_initializer_name(initializer->kind), nn_dtype_name(tensor->dtype));
    float *data = nn_tensor_f32(tensor);
    size_t n = nn_tensor_count(tensor);
    nn_rng rng;
    if (initializer->has_seed)
        nn_rng_init(&rng, initializer->seed, 0);
    else
        nn_rng_init(&rng, seed, stream);

    const char *name = nn_initializer_name(initializer->kind);
    switch (initializer->kind) {
    case NN_INITIALIZER_ZEROS:
        memset(data, 0, n * sizeof(float));
        return NN_OK;
    case NN_INITIALIZER_ONES:
        for (size_t i = 0; i < n; i++)
            data[i] = 1.0f;
        return NN_OK;
    case NN_INITIALIZER_CONSTANT:
        for (size_t i = 0; i < n; i++)
            data[i] = (float)initializer->a;
        return NN_OK;
    case NN_INITIALIZER_RANDOM_UNIFORM:
        if (!(initializer->a <= initializer->b) || !isfinite(initializer->a) ||
            !isfinite(initializer->b))
            return nn_error(NN_ERR_ARGUMENT,
                            "initializer '%s' needs finite minval <= maxval, got minval=%g "
                            "maxval=%g", name, initializer->a, initializer->b);
        fill_uniform(data, n, &rng, initializer->a, initializer->b);
        return NN_OK;
    case NN_INITIALIZER_RANDOM_NORMAL:
    case NN_INITIALIZER_TRUNCATED_NORMAL:
        if (!(initializer->b >= 0.0) || !isfinite(initializer->a) ||
            !isfinite(initializer->b))
            return nn_error(NN_ERR_ARGUMENT,
                            "initializer '%s' needs a finite mean and stddev >= 0, got "
                            "mean=%g stddev=%g", name, initializer->a, initializer->b);
        if (initializer->kind == NN_INITIALIZER_RANDOM_NORMAL)
            fill_normal(data, n, &rng, initializer->a, initializer->b);
        else
            fill_truncated_normal(data, n, &rng, initializer->a, initializer->b);
        return NN_OK;
    case NN_INITIALIZER_ORTHOGONAL:
        return fill_orthogonal(data, &tensor->shape, &rng, initializer->a);
    default:
        break;
    }

    const variance_scaling *scaling = find_variance_scaling(initializer->kind);
    double fan_in, fan_out, fan;
    compute_fans(&tensor->shape, &fan_in, &fan_out);
    fan = scaling->mode == FAN_IN ? fan_in : scaling->mode == FAN_OUT ? fan_out
                                                                       : (fan_in + fan_out) / 2.0;
    double variance = scaling->scale / fmax(1.0, fan);
    if (scaling->uniform) {
        double limit = sqrt(3.0 * variance);
        fill_uniform(data, n, &rng, -limit, limit);
    } else {
        fill_truncated_normal(data, n, &rng, 0.0, sqrt(variance) / TRUNCATED_NORMAL_STDDEV);
    }
    return NN_OK;
}

/* ---- regularizers ---- */

/* Keras' string forms: "l1_l2" as a string means 0.01 for both (keras.regularizers.get
 * special-cases it; the L1L2 class itself defaults to zeros). */
static const struct {
    const char *name;
    float l1, l2;
} regularizer_table[] = {
    {"l1", 0.01f, 0.0f},
    {"l2", 0.0f, 0.01f},
    {"l1_l2", 0.01f, 0.01f},
    {"L1", 0.01f, 0.0f},
    {"L2", 0.0f, 0.01f},
};

static const char *const regularizer_names[] = {"l1", "l2", "l1_l2", NULL};

const char *const *nn_regularizer_names(void) { return regularizer_names; }

nn_status nn_regularizer_parse(const char *name, nn_regularizer *regularizer)
{
    for (size_t i = 0; i < sizeof regularizer_table / sizeof regularizer_table[0]; i++) {
        if (strcmp(name, regularizer_table[i].name) == 0) {
            regularizer->l1 = regularizer_table[i].l1;
            regularizer->l2 = regularizer_table[i].l2;
            return NN_OK;
        }
    }
    char list[128], guess[128];
    return nn_error(NN_ERR_ARGUMENT, "unknown regularizer '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, regularizer_names),
                    nn_names_join(list, sizeof list, regularizer_names));
}

bool nn_regularizer_active(const nn_regularizer *regularizer)
{
    return regularizer->l1 != 0.0f || regularizer->l2 != 0.0f;
}

double nn_regularizer_apply(const nn_regularizer *regularizer, const float *w, float *grad,
                            size_t n)
{
    const float l1 = regularizer->l1, l2 = regularizer->l2;
    double sum_abs = 0.0, sum_squares = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum_abs += fabs((double)w[i]);
        sum_squares += (double)w[i] * (double)w[i];
    }
    if (grad) {
        /* d|w|/dw is taken as 0 at w = 0, as TensorFlow's sign() gives. */
        for (size_t i = 0; i < n; i++) {
            float sign = w[i] > 0.0f ? 1.0f : w[i] < 0.0f ? -1.0f : 0.0f;
            grad[i] += l1 * sign + 2.0f * l2 * w[i];
        }
    }
    return (double)l1 * sum_abs + (double)l2 * sum_squares;
}

/* ---- constraints ---- */

static const char *const constraint_names[] = {
    [NN_CONSTRAINT_NONE] = "none",
    [NN_CONSTRAINT_MAX_NORM] = "max_norm",
    [NN_CONSTRAINT_NON_NEG] = "non_neg",
    [NN_CONSTRAINT_UNIT_NORM] = "unit_norm",
    [NN_CONSTRAINT_MIN_MAX_NORM] = "min_max_norm",
    [NN_CONSTRAINT_COUNT] = NULL,
};

/* Class names and the Keras 2 short aliases (maxnorm, nonneg, unitnorm). */
static const struct {
    const char *name;
    nn_constraint_kind kind;
} constraint_aliases[] = {
    {"MaxNorm", NN_CONSTRAINT_MAX_NORM},       {"maxnorm", NN_CONSTRAINT_MAX_NORM},
    {"NonNeg", NN_CONSTRAINT_NON_NEG},         {"nonneg", NN_CONSTRAINT_NON_NEG},
    {"UnitNorm", NN_CONSTRAINT_UNIT_NORM},     {"unitnorm", NN_CONSTRAINT_UNIT_NORM},
    {"MinMaxNorm", NN_CONSTRAINT_MIN_MAX_NORM},
};


nn_constraint nn_constraint_default(nn_constraint_kind kind)
{
    nn_constraint constraint = {.kind = kind};
    switch (kind) {
    case NN_CONSTRAINT_MAX_NORM:
        constraint.max_value = 2.0f;
        constraint.axes = 1u;
        break;
    case NN_CONSTRAINT_UNIT_NORM:
        constraint.axes = 1u;
        break;
    case NN_CONSTRAINT_MIN_MAX_NORM:
        constraint.min_value = 0.0f;
        constraint.max_value = 1.0f;
        constraint.rate = 1.0f;
        constraint.axes = 1u;
        break;
    default:
        break;
    }
    return constraint;
}

nn_status nn_constraint_parse(const char *name, nn_constraint *constraint)
{
    /* "none" stays out of the names users may write: a missing constraint is nil. */
    for (int kind = NN_CONSTRAINT_NONE + 1; kind < NN_CONSTRAINT_COUNT; kind++) {
        if (strcmp(name, constraint_names[kind]) == 0) {
            *constraint = nn_constraint_default((nn_constraint_kind)kind);
            return NN_OK;
        }
    }
    for (size_t i = 0; i < sizeof constraint_aliases / sizeof constraint_aliases[0]; i++) {
        if (strcmp(name, constraint_aliases[i].name) == 0) {
            *constraint = nn_constraint_default(constraint_aliases[i].kind);
            return NN_OK;
        }
    }
    char list[128], guess[128];
    return nn_error(NN_ERR_ARGUMENT, "unknown constraint '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, nn_constraint_names()),
                    nn_names_join(list, sizeof list, nn_constraint_names()));
}

const char *nn_constraint_name(nn_constraint_kind kind)
{
    return kind < NN_CONSTRAINT_COUNT ? constraint_names[kind] : "unknown";
}

const char *const *nn_constraint_names(void) { return constraint_names + 1; }

nn_status nn_constraint_check_settings(const nn_constraint *constraint)
{
    if (constraint->kind == NN_CONSTRAINT_NONE || constraint->kind == NN_CONSTRAINT_NON_NEG)
        return NN_OK;
    if (!(constraint->max_value >= 0.0f) && constraint->kind != NN_CONSTRAINT_UNIT_NORM)
        return nn_error(NN_ERR_ARGUMENT, "constraint '%s': max_value must be >= 0, got %g",
                        nn_constraint_name(constraint->kind), (double)constraint->max_value);
    if (constraint->kind == NN_CONSTRAINT_MIN_MAX_NORM &&
        (!(constraint->min_value >= 0.0f) || !(constraint->min_value <= constraint->max_value) ||
         !(constraint->rate >= 0.0f && constraint->rate <= 1.0f)))
        return nn_error(NN_ERR_ARGUMENT,
                        "constraint 'min_max_norm' needs 0 <= min_value <= max_value and rate "
                        "in [0, 1], got min_value=%g max_value=%g rate=%g",
                        (double)constraint->min_value, (double)constraint->max_value,
                        (double)constraint->rate);
    return NN_OK;
}

static nn_status check_constraint(const nn_constraint *constraint, const nn_tensor *weights)
{
    const char *name = nn_constraint_name(constraint->kind);
    char text[128];
    if (weights->dtype != NN_DTYPE_F32)
        return nn_error(NN_ERR_ARGUMENT, "constraint '%s' applies to float32 weights, got %s",
                        name, nn_dtype_name(weights->dtype));
    if (constraint->kind == NN_CONSTRAINT_NON_NEG)
        return NN_OK;
    int ndim = weights->shape.ndim;
    if (ndim > 0 && (constraint->axes == 0 || (ndim < 32 && (constraint->axes >> ndim) != 0))) {
        /* The axes as Keras' axis= list gave them: {0}, {0, 1, 2}. */
        char axes[128] = "{";
        for (int axis = 0; axis < 32; axis++)
            if (constraint->axes & (1u << axis))
                snprintf(axes + strlen(axes), sizeof axes - strlen(axes), "%s%d",
                         axes[1] ? ", " : "", axis);
        snprintf(axes + strlen(axes), sizeof axes - strlen(axes), "}");
        return nn_error(NN_ERR_ARGUMENT,
                        "constraint '%s': axis=%s %s a weight of shape %s, whose axes are 0 "
                        "to %d",
                        name, axes, constraint->axes ? "does not fit" : "names no axis of",
                        nn_shape_format(&weights->shape, text, sizeof text), ndim - 1);
    }
    return nn_constraint_check_settings(constraint);
}

nn_status nn_constraint_check(const nn_constraint *constraint, const nn_tensor *weights)
{
    if (constraint->kind == NN_CONSTRAINT_NONE)
        return NN_OK;
    if (constraint->kind >= NN_CONSTRAINT_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "constraint kind %d does not exist",
                        (int)constraint->kind);
    return check_constraint(constraint, weights);
}

size_t nn_constraint_groups(const nn_constraint *constraint, const nn_shape *shape)
{
    size_t groups = 1;
    if (constraint->kind == NN_CONSTRAINT_NON_NEG || constraint->kind == NN_CONSTRAINT_NONE)
        return 0;
    for (int axis = 0; axis < shape->ndim; axis++)
        if (!(constraint->axes & (1u << axis)))
            groups *= (size_t)shape->dims[axis];
    return groups;
}

nn_status nn_constraint_apply(const nn_constraint *constraint, nn_tensor *weights)
{
    NN_TRY(nn_constraint_check(constraint, weights));
    if (constraint->kind == NN_CONSTRAINT_NONE)
        return NN_OK;
    const nn_backend *cpu = nn_backend_cpu();
    size_t floats = cpu->constraint_scratch_floats(constraint, &weights->shape);
    float *scratch = floats ? calloc(floats, sizeof(float)) : NULL;
    if (floats && !scratch)
        return nn_error(NN_ERR_MEMORY, "out of memory applying constraint '%s'",
                        nn_constraint_name(constraint->kind));
    cpu->constraint_apply(nn_tensor_f32(weights), constraint, &weights->shape, NULL, scratch);
    free(scratch);
    return NN_OK;
}
