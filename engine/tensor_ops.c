/* Generic tensor arithmetic for the Lua API, with every shape checked. The training loop
 * never uses it; data preparation does (normalising 60000 images), so the common float32
 * paths walk memory in order, with the same results as element by element. */
#include "tensor_ops.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nn_status nn_shape_broadcast(const nn_shape *a, const nn_shape *b, nn_shape *out)
{
    char ta[128], tb[128];
    int ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        int ia = a->ndim - ndim + i, ib = b->ndim - ndim + i;
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nn_error(NN_ERR_SHAPE, "shapes %s and %s cannot be broadcast together "
                                          "(axis %d: %lld vs %lld)",
                            nn_shape_format(a, ta, sizeof ta), nn_shape_format(b, tb, sizeof tb),
                            i, (long long)da, (long long)db);
        out->dims[i] = da == 1 ? db : da;
    }
    return NN_OK;
}

static bool is_comparison(nn_binary_op op) { return op >= NN_BINARY_EQUAL; }

/* A comparison's 0 or 1 from how its operands order; NaN makes all three false, so only
 * "not equal" holds, as in IEEE and NumPy. */
static int compare(nn_binary_op op, bool less, bool equal, bool greater)
{
    switch (op) {
    case NN_BINARY_EQUAL: return equal;
    case NN_BINARY_NOT_EQUAL: return !equal;
    case NN_BINARY_LESS: return less;
    case NN_BINARY_LESS_EQUAL: return less || equal;
    case NN_BINARY_GREATER: return greater;
    case NN_BINARY_GREATER_EQUAL: return greater || equal;
    default: return 0;
    }
}

/* x // y and x % y in float32, as NumPy's divmod computes them: the quotient from
 * fmod's exact remainder, not from x / y rounded (1 // 0.1 is 9, as 0.1 in float32 is a
 * little over a tenth), the remainder with y's sign (a zero too: -5 % 2.5 is 0, not -0),
 * so that (x // y) * y + x % y gives x back. For y = 0: x / y and NaN, as NumPy's. */
static void float_divmod(float x, float y, float *quotient, float *remainder)
{
    float r = fmodf(x, y);
    if (y == 0) {
        *quotient = x / y;
        *remainder = r;
        return;
    }
    float whole = (x - r) / y;
    if (r != 0) {
        if ((y < 0) != (r < 0)) {
            r += y;
            whole -= 1.0f;
        }
    } else {
        r = copysignf(0.0f, y);
    }
    float q;
    if (whole != 0) {
        q = floorf(whole);
        if (whole - q > 0.5f)
            q += 1.0f;
    } else {
        q = copysignf(0.0f, x / y);
    }
    *quotient = q;
    *remainder = r;
}

static double floor_divide_float(double x, double y)
{
    float quotient, remainder;
    float_divmod((float)x, (float)y, &quotient, &remainder);
    return quotient;
}

static double floor_modulo(double x, double y)
{
    float quotient, remainder;
    float_divmod((float)x, (float)y, &quotient, &remainder);
    return remainder;
}

static double apply(nn_binary_op op, double x, double y)
{
    if (is_comparison(op))
        return compare(op, x < y, x == y, x > y);
    switch (op) {
    case NN_BINARY_ADD: return x + y;
    case NN_BINARY_SUBTRACT: return x - y;
    case NN_BINARY_MULTIPLY: return x * y;
    case NN_BINARY_DIVIDE: return x / y;
    case NN_BINARY_POWER: return pow(x, y);
    case NN_BINARY_MODULO: return floor_modulo(x, y);
    case NN_BINARY_FLOOR_DIVIDE: return floor_divide_float(x, y);
    /* NaN wins from either side, as in NumPy's minimum and maximum. */
    case NN_BINARY_MINIMUM: return x < y || isnan(x) ? x : y;
    case NN_BINARY_MAXIMUM: return x > y || isnan(x) ? x : y;
    default: return 0.0;
    }
}

/* op(x, y) on whole numbers, for operands of integer dtypes, exact at every int64 value
 * (a double would round beyond 2^53). Sums, differences and products wrap like NumPy's
 * fixed-width arithmetic: they are computed in uint64_t, where overflow is defined, then
 * cut to the result dtype's width and read back as signed without an out-of-range cast.
 * Comparisons give 0 or 1; the other operations are not integer ones. */
static bool is_integer_op(nn_binary_op op)
{
    return op != NN_BINARY_DIVIDE && op != NN_BINARY_POWER;
}

/* A whole number computed modulo 2^64, cut to the width of an integer dtype. */
static int64_t wrap_to(nn_dtype dtype, uint64_t r)
{
    switch (dtype) {
    case NN_DTYPE_U8: return (uint8_t)r;
    case NN_DTYPE_I32: {
        uint32_t low = (uint32_t)r;
        return low > INT32_MAX ? (int64_t)low - 0x100000000LL : (int64_t)low;
    }
    default: return r > INT64_MAX ? -(int64_t)~r - 1 : (int64_t)r;
    }
}

/* Whole-number % and // rounded down, as NumPy's: 0 for a divisor of 0 (NumPy warns and
 * gives 0), and the smallest int64 // -1 wrapping to itself. */
static int64_t integer_modulo(int64_t x, int64_t y)
{
    if (y == 0 || y == -1)
        return 0;
    int64_t r = x % y;
    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
}

static int64_t integer_floor_divide(nn_dtype dtype, int64_t x, int64_t y)
{
    if (y == 0)
        return 0;
    if (y == -1)
        return wrap_to(dtype, 0 - (uint64_t)x);
    int64_t q = x / y;
    return q * y != x && (x < 0) != (y < 0) ? q - 1 : q;
}

static int64_t apply_integer(nn_dtype dtype, nn_binary_op op, int64_t x, int64_t y)
{
    if (is_comparison(op))
        return compare(op, x < y, x == y, x > y);
    if (op == NN_BINARY_MODULO)
        return integer_modulo(x, y);
    if (op == NN_BINARY_FLOOR_DIVIDE)
        return integer_floor_divide(dtype, x, y);
    if (op == NN_BINARY_MINIMUM)
        return x < y ? x : y;
    if (op == NN_BINARY_MAXIMUM)
        return x > y ? x : y;
    uint64_t a = (uint64_t)x, b = (uint64_t)y;
    return wrap_to(dtype, op == NN_BINARY_ADD ? a + b : op == NN_BINARY_SUBTRACT ? a - b : a * b);
}

static nn_dtype result_dtype(nn_binary_op op, nn_dtype a, nn_dtype b)
{
    if (is_comparison(op))
        return NN_DTYPE_U8;
    if (op == NN_BINARY_DIVIDE || op == NN_BINARY_POWER || a == NN_DTYPE_F32 || b == NN_DTYPE_F32)
        return NN_DTYPE_F32;
    if (a == b)
        return a;
    if (a == NN_DTYPE_I64 || b == NN_DTYPE_I64)
        return NN_DTYPE_I64;
    return NN_DTYPE_I32;
}

/* y[i] = op(x[i * x_step], z[i * z_step]) for a run of n float32s along the last axis
 * (a step is 0 where that operand is broadcast), in doubles as apply computes; the switch
 * is outside the loop so that the common operations compile to plain vector code. */
static void binary_f32_run(nn_binary_op op, float *y, const float *x, size_t x_step,
                           const float *z, size_t z_step, size_t n)
{
    switch (op) {
    case NN_BINARY_ADD:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)((double)x[i * x_step] + z[i * z_step]);
        break;
    case NN_BINARY_SUBTRACT:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)((double)x[i * x_step] - z[i * z_step]);
        break;
    case NN_BINARY_MULTIPLY:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)((double)x[i * x_step] * z[i * z_step]);
        break;
    case NN_BINARY_DIVIDE:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)((double)x[i * x_step] / z[i * z_step]);
        break;
    default:
        for (size_t i = 0; i < n; i++)
            y[i] = (float)apply(op, x[i * x_step], z[i * z_step]);
        break;
    }
}

/* The next position of the broadcast index, counting at axis `last` and carrying into the
 * axes before it, with both operands' offsets kept in step (their strides are 0 along
 * the axes they are broadcast on). */
static void step_index(int64_t *index, const nn_shape *shape, int last, const size_t *stride_a,
                       const size_t *stride_b, size_t *offset_a, size_t *offset_b)
{
    for (int d = last; d >= 0; d--) {
        index[d]++;
        *offset_a += stride_a[d];
        *offset_b += stride_b[d];
        if (index[d] < shape->dims[d])
            return;
        *offset_a -= stride_a[d] * (size_t)shape->dims[d];
        *offset_b -= stride_b[d] * (size_t)shape->dims[d];
        index[d] = 0;
    }
}

static nn_status host_binary(nn_tensor **out, nn_binary_op op, const nn_tensor *a,
                           const nn_tensor *b)
{
    nn_shape shape;
    *out = NULL;
    NN_TRY(nn_shape_broadcast(&a->shape, &b->shape, &shape));
    nn_dtype dtype = result_dtype(op, a->dtype, b->dtype);
    NN_TRY(nn_tensor_create(out, dtype, &shape));
    nn_tensor *result = *out;
    size_t count = nn_tensor_count(result);
    int ndim = shape.ndim;
    /* Strides of a and b in the broadcast index space (0 along broadcast axes). */
    size_t stride_a[NN_MAX_DIMS], stride_b[NN_MAX_DIMS];
    size_t sa = 1, sb = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        int ia = a->shape.ndim - ndim + i, ib = b->shape.ndim - ndim + i;
        int64_t da = ia >= 0 ? a->shape.dims[ia] : 1, db = ib >= 0 ? b->shape.dims[ib] : 1;
        stride_a[i] = da == 1 ? 0 : sa;
        stride_b[i] = db == 1 ? 0 : sb;
        sa *= (size_t)da;
        sb *= (size_t)db;
    }
    int64_t index[NN_MAX_DIMS] = {0};
    size_t offset_a = 0, offset_b = 0;
    if (dtype == NN_DTYPE_F32 && a->dtype == NN_DTYPE_F32 && b->dtype == NN_DTYPE_F32) {
        /* A run along the last axis at a time, so the operation is chosen once per run.
         * A scalar is one run of one. */
        size_t run = ndim > 0 ? (size_t)shape.dims[ndim - 1] : 1;
        size_t step_a = ndim > 0 ? stride_a[ndim - 1] : 0;
        size_t step_b = ndim > 0 ? stride_b[ndim - 1] : 0;
        for (size_t i = 0; i < count; i += run) {
            binary_f32_run(op, nn_tensor_f32(result) + i, nn_tensor_f32(a) + offset_a, step_a,
                           nn_tensor_f32(b) + offset_b, step_b, run);
            step_index(index, &shape, ndim - 2, stride_a, stride_b, &offset_a, &offset_b);
        }
        return NN_OK;
    }
    bool integers = a->dtype != NN_DTYPE_F32 && b->dtype != NN_DTYPE_F32 && is_integer_op(op);
    for (size_t i = 0; i < count; i++) {
        if (integers)
            nn_tensor_set_int64(result, i, apply_integer(dtype, op, nn_tensor_get_int64(a, offset_a),
                                                         nn_tensor_get_int64(b, offset_b)));
        else
            nn_tensor_set(result, i, apply(op, nn_tensor_get(a, offset_a), nn_tensor_get(b, offset_b)));
        step_index(index, &shape, ndim - 1, stride_a, stride_b, &offset_a, &offset_b);
    }
    return NN_OK;
}

/* Whether the whole number s is a value of the integer dtype. */
static bool holds(nn_dtype dtype, double s)
{
    switch (dtype) {
    case NN_DTYPE_U8: return s >= 0 && s <= UINT8_MAX;
    case NN_DTYPE_I32: return s >= INT32_MIN && s <= INT32_MAX;
    default: return true; /* int64: every whole number below NN_SCALAR_WHOLE_LIMIT */
    }
}

static nn_status host_scalar(nn_tensor **out, nn_binary_op op, const nn_tensor *a, double s,
                           bool scalar_first)
{
    *out = NULL;
    bool integral = s == floor(s) && fabs(s) < NN_SCALAR_WHOLE_LIMIT;
    nn_dtype dtype;
    if (is_comparison(op))
        dtype = NN_DTYPE_U8;
    else if (a->dtype != NN_DTYPE_F32 && integral &&
             (op == NN_BINARY_ADD || op == NN_BINARY_SUBTRACT || op == NN_BINARY_MULTIPLY ||
              op == NN_BINARY_MINIMUM || op == NN_BINARY_MAXIMUM || op == NN_BINARY_MODULO ||
              op == NN_BINARY_FLOOR_DIVIDE))
        /* A number the dtype cannot hold widens the result, so that max(uint8, 300) is
         * 300, not 255, and uint8 // -1 is negative (NumPy 1 widens too; NumPy 2
         * refuses). */
        dtype = holds(a->dtype, s) ? a->dtype : holds(NN_DTYPE_I32, s) ? NN_DTYPE_I32
                                                                       : NN_DTYPE_I64;
    else
        dtype = NN_DTYPE_F32;
    NN_TRY(nn_tensor_create(out, dtype, &a->shape));
    size_t count = nn_tensor_count(a);
    nn_tensor *result = *out;
    if (dtype == NN_DTYPE_F32 && a->dtype == NN_DTYPE_F32) {
        const float *x = nn_tensor_f32(a);
        float *y = nn_tensor_f32(result);
        for (size_t i = 0; i < count; i++)
            y[i] = (float)(scalar_first ? apply(op, s, x[i]) : apply(op, x[i], s));
        return NN_OK;
    }
    if (a->dtype != NN_DTYPE_F32 && integral && is_integer_op(op)) {
        int64_t whole = (int64_t)s; /* exact: |s| < NN_SCALAR_WHOLE_LIMIT */
        for (size_t i = 0; i < count; i++) {
            int64_t x = nn_tensor_get_int64(a, i);
            nn_tensor_set_int64(result, i, scalar_first ? apply_integer(dtype, op, whole, x)
                                                        : apply_integer(dtype, op, x, whole));
        }
        return NN_OK;
    }
    for (size_t i = 0; i < count; i++) {
        double x = nn_tensor_get(a, i);
        nn_tensor_set(result, i, scalar_first ? apply(op, s, x) : apply(op, x, s));
    }
    return NN_OK;
}

static double reduce_range(nn_reduce_op op, const nn_tensor *a, size_t start, size_t count,
                           size_t stride)
{
    double sum = 0.0, best = 0.0;
    size_t best_index = 0;
    for (size_t k = 0; k < count; k++) {
        double v = nn_tensor_get(a, start + k * stride);
        sum += v;
        bool better = (op == NN_REDUCE_MAX || op == NN_REDUCE_ARGMAX) ? v > best : v < best;
        if (k == 0 || better || (isnan(v) && !isnan(best))) {
            best = v;
            best_index = k;
        }
    }
    switch (op) {
    case NN_REDUCE_SUM: return sum;
    case NN_REDUCE_MEAN: return sum / (double)count;
    case NN_REDUCE_STD: {
        double mean = sum / (double)count, squares = 0.0;
        for (size_t k = 0; k < count; k++) {
            double d = nn_tensor_get(a, start + k * stride) - mean;
            squares += d * d;
        }
        return sqrt(squares / (double)count);
    }
    case NN_REDUCE_MAX:
    case NN_REDUCE_MIN: return best;
    case NN_REDUCE_ARGMAX:
    case NN_REDUCE_ARGMIN: return (double)best_index;
    }
    return 0.0;
}

/* Sum, max or min of `count` elements of an integer tensor a, `stride` apart from `start`,
 * in whole numbers: exact at every int64 value, where reduce_range's doubles round beyond
 * 2^53. The sum wraps like NumPy's int64 sum (computed in uint64_t, where overflow is
 * defined). count > 0 for max and min. */
static int64_t reduce_range_int64(nn_reduce_op op, const nn_tensor *a, size_t start,
                                  size_t count, size_t stride)
{
    if (op == NN_REDUCE_SUM) {
        uint64_t sum = 0;
        for (size_t i = 0; i < count; i++)
            sum += (uint64_t)nn_tensor_get_int64(a, start + i * stride);
        return sum > INT64_MAX ? -(int64_t)~sum - 1 : (int64_t)sum;
    }
    int64_t best = nn_tensor_get_int64(a, start);
    for (size_t i = 1; i < count; i++) {
        int64_t element = nn_tensor_get_int64(a, start + i * stride);
        if (op == NN_REDUCE_MAX ? element > best : element < best)
            best = element;
    }
    return best;
}

static double host_reduce_all(nn_reduce_op op, const nn_tensor *a)
{
    return reduce_range(op, a, 0, nn_tensor_count(a), 1);
}

/* The sum, mean or standard deviation along an axis of a float32 tensor whose elements
 * along it lie `inner` apart (inner > 1: not the last axis). Memory is read in order, a
 * row of `inner` at a time, where reduce_range would stride `inner` floats per element;
 * each output still adds its elements in the axis's order, in doubles, so the results
 * are reduce_range's to the bit. */
static nn_status reduce_f32_rows(nn_reduce_op op, const float *x, float *y, size_t outer,
                                 size_t length, size_t inner)
{
    /* Sum and mean need the running sums alone; std the squared deviations as well. */
    size_t slots = op == NN_REDUCE_STD ? 2 * inner : inner;
    double *sums = malloc(slots * sizeof *sums);
    if (!sums)
        return nn_error(NN_ERR_MEMORY, "out of memory for %zu running sums", slots);
    double *squares = sums + inner;
    for (size_t o = 0; o < outer; o++) {
        const float *block = x + o * length * inner;
        memset(sums, 0, slots * sizeof *sums);
        for (size_t k = 0; k < length; k++)
            for (size_t i = 0; i < inner; i++)
                sums[i] += block[k * inner + i];
        float *row = y + o * inner;
        if (op != NN_REDUCE_STD) {
            for (size_t i = 0; i < inner; i++)
                row[i] = (float)(op == NN_REDUCE_SUM ? sums[i] : sums[i] / (double)length);
            continue;
        }
        for (size_t i = 0; i < inner; i++)
            sums[i] /= (double)length; /* the means */
        for (size_t k = 0; k < length; k++)
            for (size_t i = 0; i < inner; i++) {
                double d = block[k * inner + i] - sums[i];
                squares[i] += d * d;
            }
        for (size_t i = 0; i < inner; i++)
            row[i] = (float)sqrt(squares[i] / (double)length);
    }
    free(sums);
    return NN_OK;
}

static nn_status host_reduce_axis(nn_tensor **out, nn_reduce_op op, const nn_tensor *a,
                                  int axis)
{
    char text[128];
    *out = NULL;
    int ndim = a->shape.ndim;
    if (ndim == 0)
        return nn_error(NN_ERR_ARGUMENT, "axis %d is out of range for a tensor of shape (): "
                                         "a scalar has no axes; reduce it without an axis",
                        axis);
    /* Messages name the axis as given, not as adjusted: -3 is what the user wrote. */
    int given = axis;
    if (axis < 0)
        axis += ndim;
    if (axis < 0 || axis >= ndim)
        return nn_error(NN_ERR_ARGUMENT, "axis %d is out of range for a tensor of shape %s "
                                         "(axes are 0 to %d, or -1 for the last)",
                        given, nn_shape_format(&a->shape, text, sizeof text), ndim - 1);
    nn_shape shape = {.ndim = ndim - 1};
    for (int i = 0, j = 0; i < ndim; i++)
        if (i != axis)
            shape.dims[j++] = a->shape.dims[i];
    /* A sum of integers is an int64, exact, as NumPy's; a mean or deviation a float. */
    nn_dtype dtype = (op == NN_REDUCE_ARGMAX || op == NN_REDUCE_ARGMIN) ? NN_DTYPE_I64
                     : (op == NN_REDUCE_MAX || op == NN_REDUCE_MIN) ? a->dtype
                     : (op == NN_REDUCE_SUM && a->dtype != NN_DTYPE_F32) ? NN_DTYPE_I64
                                                                    : NN_DTYPE_F32;
    NN_TRY(nn_tensor_create(out, dtype, &shape));
    size_t outer = (size_t)nn_shape_inner(&a->shape, 0) / (size_t)nn_shape_inner(&a->shape, axis);
    size_t length = (size_t)a->shape.dims[axis];
    size_t inner = (size_t)nn_shape_inner(&a->shape, axis + 1);
    /* An int64 max or min keeps its dtype, and an integer sum is an int64: both are found
     * in whole numbers. */
    bool whole = dtype == NN_DTYPE_I64 &&
                 (a->dtype == NN_DTYPE_I64 || (op == NN_REDUCE_SUM && a->dtype != NN_DTYPE_F32));
    if (a->dtype == NN_DTYPE_F32 && inner > 1 && length > 0 &&
        (op == NN_REDUCE_SUM || op == NN_REDUCE_MEAN || op == NN_REDUCE_STD)) {
        nn_status status = reduce_f32_rows(op, nn_tensor_f32(a), nn_tensor_f32(*out),
                                           outer, length, inner);
        if (status != NN_OK) {
            nn_tensor_free(*out);
            *out = NULL;
        }
        return status;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t first = o * length * inner + i;
            if (whole)
                nn_tensor_set_int64(*out, o * inner + i,
                                    reduce_range_int64(op, a, first, length, inner));
            else
                nn_tensor_set(*out, o * inner + i, reduce_range(op, a, first, length, inner));
        }
    return NN_OK;
}

typedef struct unary_function {
    const char *name;
    double (*apply)(double);
} unary_function;

static double square(double x) { return x * x; }
/* NaN stays NaN, as the ReLU layer keeps it (x < 0 is false for NaN). */
static double relu(double x) { return x < 0 ? 0 : x; }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
/* Halves go to the even neighbour, as NumPy's round (C's round takes them away from 0). */
static double round_half_even(double x) { return nearbyint(x); }

static const unary_function unary_functions[] = {
    {"exp", exp},     {"log", log},   {"sqrt", sqrt}, {"abs", fabs},   {"tanh", tanh},
    {"sin", sin},     {"cos", cos},   {"floor", floor}, {"ceil", ceil}, {"round", round_half_even},
    {"square", square}, {"relu", relu}, {"sigmoid", sigmoid},
};

/* The functions that map whole numbers to whole numbers keep an integer tensor's dtype,
 * as NumPy's do, computed exactly; a result beyond the dtype (the square of a big int32)
 * is held at its limit, as every conversion into it is. */
static bool host_unary_integer(nn_tensor **out, const char *function, const nn_tensor *a,
                               nn_status *status)
{
    enum { ABS, SQUARE, SAME, RELU } kind;
    if (strcmp(function, "abs") == 0)
        kind = ABS;
    else if (strcmp(function, "square") == 0)
        kind = SQUARE;
    else if (strcmp(function, "floor") == 0 || strcmp(function, "ceil") == 0 ||
             strcmp(function, "round") == 0)
        kind = SAME;
    else if (strcmp(function, "relu") == 0)
        kind = RELU;
    else
        return false;
    *status = nn_tensor_create(out, a->dtype, &a->shape);
    if (*status != NN_OK)
        return true;
    size_t count = nn_tensor_count(a);
    for (size_t i = 0; i < count; i++) {
        int64_t v = nn_tensor_get_int64(a, i);
        uint64_t magnitude = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
        int64_t result = kind == ABS      ? (int64_t)magnitude
                         : kind == SQUARE ? (int64_t)(magnitude * magnitude)
                         : kind == RELU   ? (v < 0 ? 0 : v)
                                          : v;
        nn_tensor_set_int64(*out, i, result);
    }
    return true;
}

static nn_status host_unary(nn_tensor **out, const char *function, const nn_tensor *a)
{
    *out = NULL;
    nn_status status;
    if (a->dtype != NN_DTYPE_F32 && host_unary_integer(out, function, a, &status))
        return status;
    const size_t count_functions = sizeof unary_functions / sizeof unary_functions[0];
    for (size_t f = 0; f < count_functions; f++) {
        if (strcmp(unary_functions[f].name, function) != 0)
            continue;
        NN_TRY(nn_tensor_create(out, NN_DTYPE_F32, &a->shape));
        size_t count = nn_tensor_count(a);
        for (size_t i = 0; i < count; i++)
            nn_tensor_f32(*out)[i] = (float)unary_functions[f].apply(nn_tensor_get(a, i));
        return NN_OK;
    }
    char list[256] = "";
    size_t used = 0;
    for (size_t f = 0; f < count_functions && used < sizeof list; f++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", f ? ", " : "",
                                 unary_functions[f].name);
    return nn_error(NN_ERR_ARGUMENT, "unknown function '%s'; expected one of %s", function, list);
}

static nn_status host_take_rows(nn_tensor **out, const nn_tensor *a, const int64_t *indices,
                              int64_t count)
{
    char text[128];
    *out = NULL;
    if (a->shape.ndim < 1 || count <= 0)
        return nn_error(NN_ERR_SHAPE, "cannot take %lld rows of a tensor of shape %s",
                        (long long)count, nn_shape_format(&a->shape, text, sizeof text));
    for (int64_t i = 0; i < count; i++)
        if (indices[i] < 0 || indices[i] >= a->shape.dims[0])
            return nn_error(NN_ERR_SHAPE, "row %lld is out of range for a tensor with %lld rows",
                            (long long)indices[i], (long long)a->shape.dims[0]);
    nn_shape shape = a->shape;
    shape.dims[0] = count;
    NN_TRY(nn_tensor_create(out, a->dtype, &shape));
    size_t row = (size_t)nn_shape_inner(&a->shape, 1) * nn_dtype_size(a->dtype);
    for (int64_t i = 0; i < count; i++)
        memcpy((char *)nn_tensor_data(*out) + (size_t)i * row,
               (const char *)nn_tensor_data(a) + (size_t)indices[i] * row, row);
    return NN_OK;
}

/* Reads `given` as an axis of a tensor with `ndim` axes (negative counts from the end)
 * into *axis, or an error naming the axis as written and the shape it was meant for. */
static nn_status resolve_axis(int given, int ndim, const nn_shape *shape, int *axis)
{
    char text[128];
    *axis = given < 0 ? given + ndim : given;
    if (*axis >= 0 && *axis < ndim)
        return NN_OK;
    return nn_error(NN_ERR_ARGUMENT, "axis %d is out of range for a tensor of shape %s "
                                     "(axes are 0 to %d, or -1 for the last)",
                    given, nn_shape_format(shape, text, sizeof text), ndim - 1);
}

/* The operand as float32: itself, or a converted copy in *copy. */
static nn_status as_float(const nn_tensor *tensor, const nn_tensor **result, nn_tensor **copy)
{
    *copy = NULL;
    *result = tensor;
    if (tensor->dtype == NN_DTYPE_F32)
        return NN_OK;
    NN_TRY(nn_tensor_astype(copy, tensor, NN_DTYPE_F32));
    *result = *copy;
    return NN_OK;
}

/* One product of two matrices, rows x inner times inner x columns, in whole numbers
 * computed modulo 2^64 and cut to the result's width, as NumPy's integer matmul wraps. */
static void integer_matrix_product(nn_tensor *result, size_t result_at, const nn_tensor *a,
                                   size_t a_at, const nn_tensor *b, size_t b_at, int64_t rows,
                                   int64_t inner, int64_t columns)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < columns; j++) {
            uint64_t sum = 0;
            for (int64_t k = 0; k < inner; k++)
                sum += (uint64_t)nn_tensor_get_int64(a, a_at + (size_t)(i * inner + k)) *
                       (uint64_t)nn_tensor_get_int64(b, b_at + (size_t)(k * columns + j));
            nn_tensor_set_int64(result, result_at + (size_t)(i * columns + j),
                                wrap_to(result->dtype, sum));
        }
}

static nn_status host_matmul(nn_tensor **out, const nn_tensor *a, const nn_tensor *b)
{
    char ta[128], tb[128];
    *out = NULL;
    if (a->shape.ndim == 0 || b->shape.ndim == 0)
        return nn_error(NN_ERR_SHAPE, "expected tensors of one axis or more, got shapes %s and "
                                      "%s; multiply by a number with *",
                        nn_shape_format(&a->shape, ta, sizeof ta),
                        nn_shape_format(&b->shape, tb, sizeof tb));
    /* NumPy's rules: a vector on the left is one row, a vector on the right one column,
     * and the axis so added is left out of the result; axes before the last two are a
     * batch of matrices and broadcast. */
    nn_shape left = a->shape, right = b->shape;
    if (left.ndim == 1)
        left = NN_SHAPE(1, a->shape.dims[0]);
    if (right.ndim == 1)
        right = NN_SHAPE(b->shape.dims[0], 1);
    int64_t rows = left.dims[left.ndim - 2], inner = left.dims[left.ndim - 1];
    int64_t columns = right.dims[right.ndim - 1];
    if (right.dims[right.ndim - 2] != inner)
        return nn_error(NN_ERR_SHAPE, "shapes %s and %s do not fit: the first has %lld values "
                                      "along its last axis, the second %lld along its %s",
                        nn_shape_format(&a->shape, ta, sizeof ta),
                        nn_shape_format(&b->shape, tb, sizeof tb), (long long)inner,
                        (long long)right.dims[right.ndim - 2],
                        b->shape.ndim == 1 ? "only axis" : "second-to-last axis");
    nn_shape batch_left = {.ndim = left.ndim - 2}, batch_right = {.ndim = right.ndim - 2}, batch;
    memcpy(batch_left.dims, left.dims, sizeof(int64_t) * (size_t)batch_left.ndim);
    memcpy(batch_right.dims, right.dims, sizeof(int64_t) * (size_t)batch_right.ndim);
    if (nn_shape_broadcast(&batch_left, &batch_right, &batch) != NN_OK)
        return nn_error(NN_ERR_SHAPE, "shapes %s and %s do not fit: the axes before the last "
                                      "two are batches of matrices and must broadcast",
                        nn_shape_format(&a->shape, ta, sizeof ta),
                        nn_shape_format(&b->shape, tb, sizeof tb));
    nn_shape shape = batch;
    if (a->shape.ndim > 1)
        shape.dims[shape.ndim++] = rows;
    if (b->shape.ndim > 1)
        shape.dims[shape.ndim++] = columns;
    nn_dtype dtype = result_dtype(NN_BINARY_MULTIPLY, a->dtype, b->dtype);
    const nn_tensor *fa = a, *fb = b;
    nn_tensor *copy_a = NULL, *copy_b = NULL;
    nn_status status = NN_OK;
    if (dtype == NN_DTYPE_F32) {
        status = as_float(a, &fa, &copy_a);
        if (status == NN_OK)
            status = as_float(b, &fb, &copy_b);
    }
    if (status == NN_OK)
        status = nn_tensor_create(out, dtype, &shape);
    if (status != NN_OK) {
        nn_tensor_free(copy_a);
        nn_tensor_free(copy_b);
        return status;
    }
    /* Which matrix of a and of b each matrix of the batch takes (broadcast axes repeat). */
    size_t stride_a[NN_MAX_DIMS], stride_b[NN_MAX_DIMS], matrices = 1;
    size_t sa = 1, sb = 1;
    for (int i = batch.ndim - 1; i >= 0; i--) {
        int ia = batch_left.ndim - batch.ndim + i, ib = batch_right.ndim - batch.ndim + i;
        int64_t da = ia >= 0 ? batch_left.dims[ia] : 1, db = ib >= 0 ? batch_right.dims[ib] : 1;
        stride_a[i] = da == 1 ? 0 : sa;
        stride_b[i] = db == 1 ? 0 : sb;
        sa *= (size_t)da;
        sb *= (size_t)db;
        matrices *= (size_t)batch.dims[i];
    }
    size_t size_a = (size_t)(rows * inner), size_b = (size_t)(inner * columns);
    size_t size_out = (size_t)(rows * columns);
    for (size_t m = 0; m < matrices; m++) {
        size_t matrix_a = 0, matrix_b = 0, rest = m;
        for (int i = batch.ndim - 1; i >= 0; i--) {
            size_t index = rest % (size_t)batch.dims[i];
            rest /= (size_t)batch.dims[i];
            matrix_a += index * stride_a[i];
            matrix_b += index * stride_b[i];
        }
        if (dtype == NN_DTYPE_F32)
            /* float32 products summed in float32 by the BLAS, as NumPy's float32 matmul. */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)columns,
                        (int)inner, 1.0f, nn_tensor_f32(fa) + matrix_a * size_a, (int)inner,
                        nn_tensor_f32(fb) + matrix_b * size_b, (int)columns, 0.0f,
                        nn_tensor_f32(*out) + m * size_out, (int)columns);
        else
            integer_matrix_product(*out, m * size_out, a, matrix_a * size_a, b,
                                   matrix_b * size_b, rows, inner, columns);
    }
    nn_tensor_free(copy_a);
    nn_tensor_free(copy_b);
    return NN_OK;
}

nn_status nn_shape_permutation(const nn_shape *shape, const int *axes, int count,
                               int permutation[NN_MAX_DIMS])
{
    char text[128];
    int ndim = shape->ndim;
    if (axes == NULL) {
        for (int i = 0; i < ndim; i++)
            permutation[i] = ndim - 1 - i;
        return NN_OK;
    }
    if (count != ndim)
        return nn_error(NN_ERR_ARGUMENT, "a tensor of shape %s needs %d axes in its new "
                                         "order, got %d",
                        nn_shape_format(shape, text, sizeof text), ndim, count);
    bool seen[NN_MAX_DIMS] = {false};
    for (int i = 0; i < ndim; i++) {
        NN_TRY(resolve_axis(axes[i], ndim, shape, &permutation[i]));
        if (seen[permutation[i]])
            return nn_error(NN_ERR_ARGUMENT, "axis %d appears twice in the new order; each of "
                                             "0 to %d must appear once",
                            axes[i], ndim - 1);
        seen[permutation[i]] = true;
    }
    return NN_OK;
}

static nn_status host_transpose(nn_tensor **out, const nn_tensor *a, const int *axes, int count)
{
    *out = NULL;
    int ndim = a->shape.ndim, permutation[NN_MAX_DIMS];
    NN_TRY(nn_shape_permutation(&a->shape, axes, count, permutation));
    nn_shape shape = {.ndim = ndim};
    size_t source_strides[NN_MAX_DIMS], stride = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        source_strides[i] = stride;
        stride *= (size_t)a->shape.dims[i];
    }
    size_t strides[NN_MAX_DIMS]; /* in the source, for each axis of the result */
    for (int i = 0; i < ndim; i++) {
        shape.dims[i] = a->shape.dims[permutation[i]];
        strides[i] = source_strides[permutation[i]];
    }
    NN_TRY(nn_tensor_create(out, a->dtype, &shape));
    size_t element = nn_dtype_size(a->dtype), count_out = nn_tensor_count(*out);
    const char *source = nn_tensor_data(a);
    char *target = nn_tensor_data(*out);
    int64_t index[NN_MAX_DIMS] = {0};
    size_t offset = 0;
    for (size_t i = 0; i < count_out; i++) {
        memcpy(target + i * element, source + offset * element, element);
        for (int d = ndim - 1; d >= 0; d--) {
            offset += strides[d];
            if (++index[d] < shape.dims[d])
                break;
            offset -= strides[d] * (size_t)shape.dims[d];
            index[d] = 0;
        }
    }
    return NN_OK;
}

static nn_status host_concatenate(nn_tensor **out, const nn_tensor *const *parts, int count,
                                  int given_axis)
{
    char first_text[128], text[128];
    *out = NULL;
    if (count < 1)
        return nn_error(NN_ERR_ARGUMENT, "nothing to join: expected one tensor or more");
    const nn_shape *first = &parts[0]->shape;
    if (first->ndim == 0)
        return nn_error(NN_ERR_SHAPE, "scalars have no axis to join along; stack them instead");
    int axis;
    NN_TRY(resolve_axis(given_axis, first->ndim, first, &axis));
    nn_shape shape = *first;
    nn_dtype dtype = parts[0]->dtype;
    for (int p = 1; p < count; p++) {
        const nn_shape *part = &parts[p]->shape;
        bool fits = part->ndim == first->ndim;
        for (int d = 0; fits && d < first->ndim; d++)
            fits = d == axis || part->dims[d] == first->dims[d];
        if (!fits)
            return nn_error(NN_ERR_SHAPE, "tensor %d has shape %s and tensor 1 %s; they may "
                                          "differ only along axis %d",
                            p + 1, nn_shape_format(part, text, sizeof text),
                            nn_shape_format(first, first_text, sizeof first_text), given_axis);
        shape.dims[axis] += part->dims[axis];
        dtype = result_dtype(NN_BINARY_ADD, dtype, parts[p]->dtype);
    }
    NN_TRY(nn_tensor_create(out, dtype, &shape));
    size_t element = nn_dtype_size(dtype);
    size_t outer = (size_t)nn_shape_inner(first, 0) / (size_t)nn_shape_inner(first, axis);
    size_t inner = (size_t)nn_shape_inner(first, axis + 1);
    size_t row = (size_t)shape.dims[axis] * inner; /* elements of the result per outer step */
    size_t start = 0;                              /* where this part begins in a row */
    for (int p = 0; p < count; p++) {
        const nn_tensor *part = parts[p];
        nn_tensor *converted = NULL;
        if (part->dtype != dtype) {
            nn_status status = nn_tensor_astype(&converted, part, dtype);
            if (status != NN_OK) {
                nn_tensor_free(*out);
                *out = NULL;
                return status;
            }
            part = converted;
        }
        size_t chunk = (size_t)part->shape.dims[axis] * inner;
        for (size_t o = 0; o < outer; o++)
            memcpy((char *)nn_tensor_data(*out) + (o * row + start) * element,
                   (const char *)nn_tensor_data(part) + o * chunk * element, chunk * element);
        start += chunk;
        nn_tensor_free(converted);
    }
    return NN_OK;
}

static nn_status host_softmax(nn_tensor **out, const nn_tensor *a, int given_axis)
{
    *out = NULL;
    if (a->shape.ndim == 0)
        return nn_error(NN_ERR_SHAPE, "a scalar has no axis to take the softmax along");
    int axis;
    NN_TRY(resolve_axis(given_axis, a->shape.ndim, &a->shape, &axis));
    NN_TRY(nn_tensor_create(out, NN_DTYPE_F32, &a->shape));
    size_t outer = (size_t)nn_shape_inner(&a->shape, 0) / (size_t)nn_shape_inner(&a->shape, axis);
    size_t length = (size_t)a->shape.dims[axis];
    size_t inner = (size_t)nn_shape_inner(&a->shape, axis + 1);
    float *y = nn_tensor_f32(*out);
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t first = o * length * inner + i;
            /* exp(x - max) keeps every term at most 1, so large inputs do not overflow. */
            double largest = -INFINITY, sum = 0.0;
            for (size_t k = 0; k < length; k++)
                largest = fmax(largest, nn_tensor_get(a, first + k * inner));
            for (size_t k = 0; k < length; k++)
                sum += exp(nn_tensor_get(a, first + k * inner) - largest);
            for (size_t k = 0; k < length; k++)
                y[first + k * inner] = (float)(exp(nn_tensor_get(a, first + k * inner) - largest) / sum);
        }
    return NN_OK;
}

/* f(x) of a layer's activation in float32: element by element, or along `given_axis` for
 * softmax and log_softmax, each run gathered so the layers' own kernel does the work. */
static nn_status host_activation(nn_tensor **out, const nn_tensor *a, nn_activation activation,
                                 int given_axis)
{
    *out = NULL;
    bool by_rows = nn_activation_by_rows(activation.kind);
    int axis = 0;
    if (by_rows && a->shape.ndim == 0)
        return nn_error(NN_ERR_SHAPE, "a scalar has no axis to take the %s along",
                        nn_activation_name(activation.kind));
    if (by_rows)
        NN_TRY(resolve_axis(given_axis, a->shape.ndim, &a->shape, &axis));
    NN_TRY(nn_tensor_astype(out, a, NN_DTYPE_F32));
    size_t count = nn_tensor_count(a);
    float *y = nn_tensor_f32(*out);
    if (count == 0)
        return NN_OK;
    if (!by_rows) {
        nn_activation_forward(activation, y, y, count, 1);
        return NN_OK;
    }
    size_t length = (size_t)a->shape.dims[axis];
    size_t inner = (size_t)nn_shape_inner(&a->shape, axis + 1);
    size_t outer = count / (length * inner);
    if (inner == 1) { /* the last axis: the runs lie end to end, as the layers have them */
        nn_activation_forward(activation, y, y, count, length);
        return NN_OK;
    }
    float *run = malloc(length * sizeof *run);
    if (!run) {
        nn_tensor_free(*out);
        *out = NULL;
        return nn_error(NN_ERR_MEMORY, "out of memory for a run of %zu values", length);
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            float *first = y + o * length * inner + i;
            for (size_t k = 0; k < length; k++)
                run[k] = first[k * inner];
            nn_activation_forward(activation, run, run, length, length);
            for (size_t k = 0; k < length; k++)
                first[k * inner] = run[k];
        }
    free(run);
    return NN_OK;
}

nn_status nn_shape_expand_dims(const nn_shape *shape, int given_axis, nn_shape *out)
{
    char text[128];
    if (shape->ndim >= NN_MAX_DIMS)
        return nn_error(NN_ERR_SHAPE, "a tensor of shape %s has the most axes a tensor can "
                                      "have (%d)",
                        nn_shape_format(shape, text, sizeof text), NN_MAX_DIMS);
    /* The new axis may go anywhere from before the first to after the last. */
    int axis = given_axis < 0 ? given_axis + shape->ndim + 1 : given_axis;
    if (axis < 0 || axis > shape->ndim)
        return nn_error(NN_ERR_ARGUMENT, "axis %d is out of range for a new axis of a tensor "
                                         "of shape %s (0 to %d, or -1 for after the last)",
                        given_axis, nn_shape_format(shape, text, sizeof text), shape->ndim);
    out->ndim = shape->ndim + 1;
    for (int i = 0, j = 0; i < out->ndim; i++)
        out->dims[i] = i == axis ? 1 : shape->dims[j++];
    return NN_OK;
}

nn_status nn_shape_squeeze(const nn_shape *shape, const int *given_axis, nn_shape *out)
{
    char text[128];
    int axis = -1;
    if (given_axis) {
        if (shape->ndim == 0)
            return nn_error(NN_ERR_ARGUMENT, "axis %d is out of range for a tensor of shape (): "
                                             "a scalar has no axes", *given_axis);
        NN_TRY(resolve_axis(*given_axis, shape->ndim, shape, &axis));
        if (shape->dims[axis] != 1)
            return nn_error(NN_ERR_SHAPE, "axis %d of a tensor of shape %s has size %lld; only "
                                          "an axis of size 1 can be removed",
                            *given_axis, nn_shape_format(shape, text, sizeof text),
                            (long long)shape->dims[axis]);
    }
    out->ndim = 0;
    for (int i = 0; i < shape->ndim; i++)
        if (given_axis ? i != axis : shape->dims[i] != 1)
            out->dims[out->ndim++] = shape->dims[i];
    return NN_OK;
}

/* ---- tensors on a device ----
 * The operations above run on the host. For a tensor on a device they work on host
 * copies and put the result on that device: correct everywhere, fast on the CPU; the
 * training loops never use them. */

/* *host is the tensor itself when on the host, else a new host copy in *copy. */
static nn_status on_host(const nn_tensor *tensor, const nn_tensor **host, nn_tensor **copy)
{
    *copy = NULL;
    *host = tensor;
    if (!tensor || nn_tensor_on_host(tensor))
        return NN_OK;
    NN_TRY(nn_tensor_to(copy, tensor, (nn_device){NN_DEVICE_CPU, 0}));
    *host = *copy;
    return NN_OK;
}

/* Moves a host result to where the operand came from (nothing when that is the host). */
static nn_status back_to(nn_tensor **result, const nn_tensor *operand)
{
    if (*result == NULL || nn_tensor_on_host(operand))
        return NN_OK;
    nn_tensor *moved = NULL;
    nn_status status = nn_tensor_to(&moved, *result, nn_tensor_device(operand));
    nn_tensor_free(*result);
    *result = moved;
    return status;
}

/* The device a result of a and b belongs on: a's unless a is on the host. */
static const nn_tensor *device_operand(const nn_tensor *a, const nn_tensor *b)
{
    return !nn_tensor_on_host(a) || !b ? a : b;
}

/* The settings of one host operation, for run_on_host. */
typedef struct host_call {
    nn_binary_op binary;
    nn_reduce_op reduce;
    double scalar;
    bool scalar_first;
    int axis;
    const int *axes; /* transpose: count axes, or NULL */
    int count;       /* transpose: axes given */
    const int64_t *indices; /* take_rows: `rows` positions */
    int64_t rows;
    const char *function;
    nn_activation activation;
} host_call;

typedef nn_status (*host_op)(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                             const host_call *call);

/* Runs op on host copies of a and b (b may be NULL) and puts the result on the device
 * they came from. */
static nn_status run_on_host(nn_tensor **out, host_op op, const nn_tensor *a,
                             const nn_tensor *b, const host_call *call)
{
    const nn_tensor *ha, *hb;
    nn_tensor *ca, *cb = NULL;
    *out = NULL;
    nn_status status = on_host(a, &ha, &ca);
    if (status == NN_OK)
        status = on_host(b, &hb, &cb);
    if (status == NN_OK)
        status = op(out, ha, hb, call);
    if (status == NN_OK)
        status = back_to(out, device_operand(a, b));
    nn_tensor_free(ca);
    nn_tensor_free(cb);
    return status;
}

static nn_status binary_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                           const host_call *call)
{
    return host_binary(out, call->binary, a, b);
}

static nn_status scalar_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                           const host_call *call)
{
    (void)b;
    return host_scalar(out, call->binary, a, call->scalar, call->scalar_first);
}

static nn_status reduce_axis_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                                const host_call *call)
{
    (void)b;
    return host_reduce_axis(out, call->reduce, a, call->axis);
}

static nn_status unary_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                          const host_call *call)
{
    (void)b;
    return host_unary(out, call->function, a);
}

static nn_status take_rows_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                              const host_call *call)
{
    (void)b;
    return host_take_rows(out, a, call->indices, call->rows);
}

static nn_status matmul_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                           const host_call *call)
{
    (void)call;
    return host_matmul(out, a, b);
}

static nn_status transpose_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                              const host_call *call)
{
    (void)b;
    return host_transpose(out, a, call->axes, call->count);
}

static nn_status softmax_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                            const host_call *call)
{
    (void)b;
    return host_softmax(out, a, call->axis);
}

nn_status nn_tensor_binary(nn_tensor **out, nn_binary_op op, const nn_tensor *a,
                           const nn_tensor *b)
{
    return run_on_host(out, binary_op, a, b, &(host_call){.binary = op});
}

nn_status nn_tensor_scalar(nn_tensor **out, nn_binary_op op, const nn_tensor *a, double s,
                           bool scalar_first)
{
    return run_on_host(out, scalar_op, a, NULL,
                       &(host_call){.binary = op, .scalar = s, .scalar_first = scalar_first});
}

nn_status nn_tensor_negate(nn_tensor **out, const nn_tensor *a)
{
    /* 0 - a */
    return nn_tensor_scalar(out, NN_BINARY_SUBTRACT, a, 0.0, true);
}

double nn_tensor_reduce_all(nn_reduce_op op, const nn_tensor *a)
{
    const nn_tensor *ha;
    nn_tensor *ca;
    if (on_host(a, &ha, &ca) != NN_OK)
        return NAN;
    double value = host_reduce_all(op, ha);
    nn_tensor_free(ca);
    return value;
}

nn_status nn_tensor_reduce_all_int64(nn_reduce_op op, const nn_tensor *a, int64_t *result)
{
    *result = 0;
    if (a->dtype == NN_DTYPE_F32)
        return nn_error(NN_ERR_ARGUMENT, "an exact reduction needs an integer tensor, got %s",
                        nn_dtype_name(a->dtype));
    if (op != NN_REDUCE_SUM && op != NN_REDUCE_MAX && op != NN_REDUCE_MIN)
        return nn_error(NN_ERR_ARGUMENT, "an exact reduction is a sum, max or min, got "
                                         "reduction %d", (int)op);
    size_t count = nn_tensor_count(a);
    if (count == 0 && op != NN_REDUCE_SUM)
        return nn_error(NN_ERR_SHAPE, "the %s of an empty tensor does not exist",
                        op == NN_REDUCE_MAX ? "max" : "min");
    const nn_tensor *ha;
    nn_tensor *ca;
    NN_TRY(on_host(a, &ha, &ca));
    *result = reduce_range_int64(op, ha, 0, count, 1);
    nn_tensor_free(ca);
    return NN_OK;
}

nn_status nn_tensor_reduce_axis(nn_tensor **out, nn_reduce_op op, const nn_tensor *a, int axis)
{
    return run_on_host(out, reduce_axis_op, a, NULL, &(host_call){.reduce = op, .axis = axis});
}

nn_status nn_tensor_unary(nn_tensor **out, const char *function, const nn_tensor *a)
{
    return run_on_host(out, unary_op, a, NULL, &(host_call){.function = function});
}

nn_status nn_tensor_take_rows(nn_tensor **out, const nn_tensor *a, const int64_t *indices,
                              int64_t count)
{
    return run_on_host(out, take_rows_op, a, NULL, &(host_call){.indices = indices, .rows = count});
}

nn_status nn_tensor_matmul(nn_tensor **out, const nn_tensor *a, const nn_tensor *b)
{
    return run_on_host(out, matmul_op, a, b, &(host_call){0});
}

nn_status nn_tensor_transpose(nn_tensor **out, const nn_tensor *a, const int *axes, int count)
{
    return run_on_host(out, transpose_op, a, NULL, &(host_call){.axes = axes, .count = count});
}

nn_status nn_tensor_concatenate(nn_tensor **out, const nn_tensor *const *parts, int count,
                                int axis)
{
    *out = NULL;
    if (count < 1)
        return nn_error(NN_ERR_ARGUMENT, "nothing to join: expected one tensor or more");
    const nn_tensor **host = calloc((size_t)count, sizeof *host);
    nn_tensor **copies = calloc((size_t)count, sizeof *copies);
    nn_status status = host && copies ? NN_OK
                                      : nn_error(NN_ERR_MEMORY, "out of memory joining %d tensors",
                                                 count);
    for (int p = 0; p < count && status == NN_OK; p++)
        status = on_host(parts[p], &host[p], &copies[p]);
    if (status == NN_OK)
        status = host_concatenate(out, host, count, axis);
    if (status == NN_OK)
        status = back_to(out, parts[0]);
    for (int p = 0; copies && p < count; p++)
        nn_tensor_free(copies[p]);
    free(copies);
    free(host);
    return status;
}

nn_status nn_tensor_stack(nn_tensor **out, const nn_tensor *const *parts, int count, int axis)
{
    char first_text[128], text[128];
    *out = NULL;
    if (count < 1)
        return nn_error(NN_ERR_ARGUMENT, "nothing to stack: expected one tensor or more");
    for (int p = 1; p < count; p++)
        if (!nn_shape_equal(&parts[p]->shape, &parts[0]->shape))
            return nn_error(NN_ERR_SHAPE, "tensor %d has shape %s and tensor 1 %s; stacked "
                                          "tensors must have one shape",
                            p + 1, nn_shape_format(&parts[p]->shape, text, sizeof text),
                            nn_shape_format(&parts[0]->shape, first_text, sizeof first_text));
    nn_shape shape;
    NN_TRY(nn_shape_expand_dims(&parts[0]->shape, axis, &shape));
    /* Each part gains an axis of size 1 (a view), and the views are joined along it. */
    nn_tensor **views = calloc((size_t)count, sizeof *views);
    if (!views)
        return nn_error(NN_ERR_MEMORY, "out of memory stacking %d tensors", count);
    nn_status status = NN_OK;
    for (int p = 0; p < count && status == NN_OK; p++)
        status = nn_tensor_reshape(&views[p], parts[p], &shape);
    if (status == NN_OK)
        status = nn_tensor_concatenate(out, (const nn_tensor *const *)views, count,
                                       axis < 0 ? axis + shape.ndim : axis);
    for (int p = 0; p < count; p++)
        nn_tensor_free(views[p]);
    free(views);
    return status;
}

nn_status nn_tensor_softmax(nn_tensor **out, const nn_tensor *a, int axis)
{
    return run_on_host(out, softmax_op, a, NULL, &(host_call){.axis = axis});
}

static nn_status activation_op(nn_tensor **out, const nn_tensor *a, const nn_tensor *b,
                               const host_call *call)
{
    (void)b;
    return host_activation(out, a, call->activation, call->axis);
}

nn_status nn_tensor_activation(nn_tensor **out, const nn_tensor *a, nn_activation activation,
                               int axis)
{
    return run_on_host(out, activation_op, a, NULL,
                       &(host_call){.activation = activation, .axis = axis});
}
