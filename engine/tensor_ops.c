/* Generic tensor arithmetic for the Lua API: clear rather than fast (the training loop
 * never uses it), but with every shape checked. */
#include "tensor_ops.h"

#include <math.h>
#include <stdio.h>
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

static int64_t apply_integer(nn_dtype dtype, nn_binary_op op, int64_t x, int64_t y)
{
    if (is_comparison(op))
        return compare(op, x < y, x == y, x > y);
    if (op == NN_BINARY_MINIMUM)
        return x < y ? x : y;
    if (op == NN_BINARY_MAXIMUM)
        return x > y ? x : y;
    uint64_t a = (uint64_t)x, b = (uint64_t)y;
    uint64_t r = op == NN_BINARY_ADD ? a + b : op == NN_BINARY_SUBTRACT ? a - b : a * b;
    switch (dtype) {
    case NN_DTYPE_U8: return (uint8_t)r;
    case NN_DTYPE_I32: {
        uint32_t low = (uint32_t)r;
        return low > INT32_MAX ? (int64_t)low - 0x100000000LL : (int64_t)low;
    }
    default: return r > INT64_MAX ? -(int64_t)~r - 1 : (int64_t)r;
    }
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
    bool fast_float = dtype == NN_DTYPE_F32 && a->dtype == NN_DTYPE_F32 && b->dtype == NN_DTYPE_F32;
    bool integers = a->dtype != NN_DTYPE_F32 && b->dtype != NN_DTYPE_F32 && is_integer_op(op);
    for (size_t i = 0; i < count; i++) {
        if (fast_float)
            nn_tensor_f32(result)[i] = (float)apply(op, nn_tensor_f32(a)[offset_a], nn_tensor_f32(b)[offset_b]);
        else if (integers)
            nn_tensor_set_int64(result, i, apply_integer(dtype, op, nn_tensor_get_int64(a, offset_a),
                                                         nn_tensor_get_int64(b, offset_b)));
        else
            nn_tensor_set(result, i, apply(op, nn_tensor_get(a, offset_a), nn_tensor_get(b, offset_b)));
        for (int d = ndim - 1; d >= 0; d--) {
            index[d]++;
            offset_a += stride_a[d];
            offset_b += stride_b[d];
            if (index[d] < shape.dims[d])
                break;
            offset_a -= stride_a[d] * (size_t)shape.dims[d];
            offset_b -= stride_b[d] * (size_t)shape.dims[d];
            index[d] = 0;
        }
    }
    return NN_OK;
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
              op == NN_BINARY_MINIMUM || op == NN_BINARY_MAXIMUM))
        dtype = a->dtype;
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

static nn_status host_negate(nn_tensor **out, const nn_tensor *a)
{
    return host_scalar(out, NN_BINARY_SUBTRACT, a, 0.0, true);
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
    nn_dtype dtype = (op == NN_REDUCE_ARGMAX || op == NN_REDUCE_ARGMIN) ? NN_DTYPE_I64
                     : (op == NN_REDUCE_MAX || op == NN_REDUCE_MIN) ? a->dtype
                                                                    : NN_DTYPE_F32;
    NN_TRY(nn_tensor_create(out, dtype, &shape));
    size_t outer = (size_t)nn_shape_inner(&a->shape, 0) / (size_t)nn_shape_inner(&a->shape, axis);
    size_t length = (size_t)a->shape.dims[axis];
    size_t inner = (size_t)nn_shape_inner(&a->shape, axis + 1);
    /* An int64 max or min keeps its dtype, so it is found in whole numbers. */
    bool whole = dtype == NN_DTYPE_I64 && a->dtype == NN_DTYPE_I64;
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
static double relu(double x) { return x > 0 ? x : 0; }
static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static const unary_function unary_functions[] = {
    {"exp", exp},     {"log", log},   {"sqrt", sqrt}, {"abs", fabs},   {"tanh", tanh},
    {"sin", sin},     {"cos", cos},   {"floor", floor}, {"ceil", ceil}, {"round", round},
    {"square", square}, {"relu", relu}, {"sigmoid", sigmoid},
};

static nn_status host_unary(nn_tensor **out, const char *function, const nn_tensor *a)
{
    *out = NULL;
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

nn_status nn_tensor_binary(nn_tensor **out, nn_binary_op op, const nn_tensor *a,
                           const nn_tensor *b)
{
    if (nn_tensor_on_host(a) && nn_tensor_on_host(b))
        return host_binary(out, op, a, b);
    const nn_tensor *ha, *hb;
    nn_tensor *ca, *cb = NULL;
    *out = NULL;
    nn_status status = on_host(a, &ha, &ca);
    if (status == NN_OK)
        status = on_host(b, &hb, &cb);
    if (status == NN_OK)
        status = host_binary(out, op, ha, hb);
    if (status == NN_OK)
        status = back_to(out, device_operand(a, b));
    nn_tensor_free(ca);
    nn_tensor_free(cb);
    return status;
}

nn_status nn_tensor_scalar(nn_tensor **out, nn_binary_op op, const nn_tensor *a, double s,
                           bool scalar_first)
{
    const nn_tensor *ha;
    nn_tensor *ca;
    *out = NULL;
    NN_TRY(on_host(a, &ha, &ca));
    nn_status status = host_scalar(out, op, ha, s, scalar_first);
    if (status == NN_OK)
        status = back_to(out, a);
    nn_tensor_free(ca);
    return status;
}

nn_status nn_tensor_negate(nn_tensor **out, const nn_tensor *a)
{
    const nn_tensor *ha;
    nn_tensor *ca;
    *out = NULL;
    NN_TRY(on_host(a, &ha, &ca));
    nn_status status = host_negate(out, ha);
    if (status == NN_OK)
        status = back_to(out, a);
    nn_tensor_free(ca);
    return status;
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
    const nn_tensor *ha;
    nn_tensor *ca;
    *out = NULL;
    NN_TRY(on_host(a, &ha, &ca));
    nn_status status = host_reduce_axis(out, op, ha, axis);
    if (status == NN_OK)
        status = back_to(out, a);
    nn_tensor_free(ca);
    return status;
}

nn_status nn_tensor_unary(nn_tensor **out, const char *function, const nn_tensor *a)
{
    const nn_tensor *ha;
    nn_tensor *ca;
    *out = NULL;
    NN_TRY(on_host(a, &ha, &ca));
    nn_status status = host_unary(out, function, ha);
    if (status == NN_OK)
        status = back_to(out, a);
    nn_tensor_free(ca);
    return status;
}

nn_status nn_tensor_take_rows(nn_tensor **out, const nn_tensor *a, const int64_t *indices,
                              int64_t count)
{
    const nn_tensor *ha;
    nn_tensor *ca;
    *out = NULL;
    NN_TRY(on_host(a, &ha, &ca));
    nn_status status = host_take_rows(out, ha, indices, count);
    if (status == NN_OK)
        status = back_to(out, a);
    nn_tensor_free(ca);
    return status;
}
