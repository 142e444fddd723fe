/* Element-wise arithmetic with NumPy broadcasting, reductions and argmax over tensors
 * of any dtype. Results are new tensors. */
#ifndef NN_TENSOR_OPS_H
#define NN_TENSOR_OPS_H

#include <stdbool.h>

#include "activation.h"
#include "tensor.h"

typedef enum nn_binary_op {
    NN_BINARY_ADD,
    NN_BINARY_SUBTRACT,
    NN_BINARY_MULTIPLY,
    NN_BINARY_DIVIDE,   /* always float32, like NumPy's true division */
    NN_BINARY_POWER,
    NN_BINARY_MODULO,         /* NumPy's and Lua's %: the sign of the divisor */
    NN_BINARY_FLOOR_DIVIDE,   /* NumPy's and Lua's //: rounded down */
    NN_BINARY_MINIMUM,
    NN_BINARY_MAXIMUM,
    NN_BINARY_EQUAL,    /* uint8 0/1 */
    NN_BINARY_NOT_EQUAL,
    NN_BINARY_LESS,
    NN_BINARY_LESS_EQUAL,
    NN_BINARY_GREATER,
    NN_BINARY_GREATER_EQUAL
} nn_binary_op;

typedef enum nn_reduce_op {
    NN_REDUCE_SUM,
    NN_REDUCE_MEAN,
    NN_REDUCE_MAX,
    NN_REDUCE_MIN,
    NN_REDUCE_STD,      /* population standard deviation, as NumPy's default */
    NN_REDUCE_ARGMAX,   /* int64 indices, 0-based */
    NN_REDUCE_ARGMIN
} nn_reduce_op;

/* out = a op b with NumPy broadcasting. The result is float32 when either side is
 * float32 or the op is a division; integer ops on integers keep int32 (uint8 op uint8
 * stays uint8 for +, -, * wrapping like NumPy); comparisons give uint8. */
nn_status nn_tensor_binary(nn_tensor **out, nn_binary_op op, const nn_tensor *a,
                           const nn_tensor *b);
/* out = a op s (or s op a when scalar_first). An integer-valued s within
 * ±NN_SCALAR_WHOLE_LIMIT keeps an integer tensor's dtype for +, -, *, max and min when the
 * dtype holds s (else the result widens to int32 or int64), and is applied in whole
 * numbers; otherwise the result is float32. */
#define NN_SCALAR_WHOLE_LIMIT 9e15 /* below 2^53, so every integer within is a double */
nn_status nn_tensor_scalar(nn_tensor **out, nn_binary_op op, const nn_tensor *a, double s,
                           bool scalar_first);
/* out = -a. */
nn_status nn_tensor_negate(nn_tensor **out, const nn_tensor *a);

/* Reduces over `axis` (negative counts from the end), dropping that axis. */
nn_status nn_tensor_reduce_axis(nn_tensor **out, nn_reduce_op op, const nn_tensor *a, int axis);
/* Reduces over every element. Arg ops give the flat index. */
double nn_tensor_reduce_all(nn_reduce_op op, const nn_tensor *a);
/* The sum, max or min of every element of an integer tensor as a whole number, exact
 * where the double of nn_tensor_reduce_all rounds (int64 beyond 2^53, and sums whose
 * terms cancel); the sum wraps at int64's range like NumPy's. An error for a float32
 * tensor, another reduction, or the max or min of an empty tensor. */
nn_status nn_tensor_reduce_all_int64(nn_reduce_op op, const nn_tensor *a, int64_t *result);

/* Element-wise math in float32: exp, log, sqrt, abs, ... by name. */
nn_status nn_tensor_unary(nn_tensor **out, const char *function, const nn_tensor *a);

/* out = rows of a picked by index (each in [0, rows)). */
nn_status nn_tensor_take_rows(nn_tensor **out, const nn_tensor *a, const int64_t *indices,
                              int64_t count);

/* NumPy's matmul: matrix products over the last two axes, earlier axes a broadcast batch;
 * a 1-D operand is a row on the left or a column on the right, and that axis is left out
 * of the result. float32 when either side is (summed in float32 by the BLAS), else the
 * integers' dtype, wrapping as NumPy's. */
nn_status nn_tensor_matmul(nn_tensor **out, const nn_tensor *a, const nn_tensor *b);
/* The axes of shape in a new order: `count` axes (negative from the end), each once, or
 * the reverse order when axes is NULL. */
nn_status nn_shape_permutation(const nn_shape *shape, const int *axes, int count,
                               int permutation[NN_MAX_DIMS]);
/* A copy with its axes reordered: result axis i is a's axis axes[i]; NULL reverses them
 * (NumPy's transpose and .T). */
nn_status nn_tensor_transpose(nn_tensor **out, const nn_tensor *a, const int *axes, int count);

/* The parts joined along an existing axis; their shapes agree on every other axis. The
 * dtype is what their arithmetic would give (float32 over integers, the wider integer). */
nn_status nn_tensor_concatenate(nn_tensor **out, const nn_tensor *const *parts, int count,
                                int axis);
/* The parts, all of one shape, joined along a new axis at `axis` (0 to ndim, negative
 * from after the last). */
nn_status nn_tensor_stack(nn_tensor **out, const nn_tensor *const *parts, int count, int axis);
/* exp(x) / sum(exp(x)) along `axis`, in float32. */
nn_status nn_tensor_softmax(nn_tensor **out, const nn_tensor *a, int axis);
/* A layer's activation applied to a, in float32 as the layer computes it: element by
 * element, or along `axis` for softmax and log_softmax (ignored by the others). */
nn_status nn_tensor_activation(nn_tensor **out, const nn_tensor *a, nn_activation activation,
                               int axis);

/* The shape with a new axis of size 1 at `axis` (0 to ndim; -1 puts it last). */
nn_status nn_shape_expand_dims(const nn_shape *shape, int axis, nn_shape *out);
/* The shape without the axis of size 1 at *axis, or without every axis of size 1 when
 * axis is NULL. */
nn_status nn_shape_squeeze(const nn_shape *shape, const int *axis, nn_shape *out);

/* The broadcast shape of a and b, or an error naming both shapes. */
nn_status nn_shape_broadcast(const nn_shape *a, const nn_shape *b, nn_shape *out);

#endif
