/* The classes of every built-in layer kind, one per file in this folder. */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include "../layer.h"

extern const nn_layer_class nn_conv2d_class;
extern const nn_layer_class nn_conv1d_class;
extern const nn_layer_class nn_conv2d_transpose_class;
extern const nn_layer_class nn_depthwise_conv2d_class;
extern const nn_layer_class nn_depthwise_conv1d_class;
extern const nn_layer_class nn_conv1d_transpose_class;
extern const nn_layer_class nn_separable_conv1d_class;
extern const nn_layer_class nn_separable_conv2d_class;
extern const nn_layer_class nn_conv3d_class;
extern const nn_layer_class nn_conv3d_transpose_class;
extern const nn_layer_class nn_maxpool2d_class;
extern const nn_layer_class nn_avgpool2d_class;
extern const nn_layer_class nn_maxpool1d_class;
extern const nn_layer_class nn_avgpool1d_class;
extern const nn_layer_class nn_maxpool3d_class;
extern const nn_layer_class nn_avgpool3d_class;
extern const nn_layer_class nn_flatten_class;
extern const nn_layer_class nn_reshape_class;
extern const nn_layer_class nn_zero_padding2d_class;
extern const nn_layer_class nn_cropping2d_class;
extern const nn_layer_class nn_upsampling2d_class;
extern const nn_layer_class nn_zero_padding1d_class;
extern const nn_layer_class nn_cropping1d_class;
extern const nn_layer_class nn_upsampling1d_class;
extern const nn_layer_class nn_zero_padding3d_class;
extern const nn_layer_class nn_cropping3d_class;
extern const nn_layer_class nn_upsampling3d_class;
extern const nn_layer_class nn_dense_class;
extern const nn_layer_class nn_embedding_class;
extern const nn_layer_class nn_dropout_class;
extern const nn_layer_class nn_spatial_dropout2d_class;
extern const nn_layer_class nn_spatial_dropout3d_class;
extern const nn_layer_class nn_batchnorm_class;
extern const nn_layer_class nn_layernorm_class;
extern const nn_layer_class nn_group_norm_class;
extern const nn_layer_class nn_rms_norm_class;
extern const nn_layer_class nn_random_contrast_class;
extern const nn_layer_class nn_random_brightness_class;
extern const nn_layer_class nn_resizing_class;
extern const nn_layer_class nn_center_crop_class;
extern const nn_layer_class nn_random_crop_class;
extern const nn_layer_class nn_identity_class;
extern const nn_layer_class nn_unit_normalization_class;
extern const nn_layer_class nn_category_encoding_class;
extern const nn_layer_class nn_discretization_class;
extern const nn_layer_class nn_activation_class;
extern const nn_layer_class nn_leaky_relu_class;
extern const nn_layer_class nn_elu_class;
extern const nn_layer_class nn_softmax_class;
extern const nn_layer_class nn_rescaling_class;
extern const nn_layer_class nn_global_average_pooling2d_class;
extern const nn_layer_class nn_global_max_pooling2d_class;
extern const nn_layer_class nn_global_average_pooling1d_class;
extern const nn_layer_class nn_global_max_pooling1d_class;
extern const nn_layer_class nn_global_average_pooling3d_class;
extern const nn_layer_class nn_global_max_pooling3d_class;
extern const nn_layer_class nn_simple_rnn_class;
extern const nn_layer_class nn_lstm_class;
extern const nn_layer_class nn_gru_class;
extern const nn_layer_class nn_bidirectional_class;
extern const nn_layer_class nn_repeat_vector_class;
extern const nn_layer_class nn_spatial_dropout1d_class;
extern const nn_layer_class nn_gaussian_noise_class;
extern const nn_layer_class nn_gaussian_dropout_class;
extern const nn_layer_class nn_activity_regularization_class;
extern const nn_layer_class nn_masking_class;
extern const nn_layer_class nn_prelu_class;
extern const nn_layer_class nn_alpha_dropout_class;
extern const nn_layer_class nn_random_flip_class;
extern const nn_layer_class nn_random_rotation_class;
extern const nn_layer_class nn_random_translation_class;
extern const nn_layer_class nn_random_zoom_class;
extern const nn_layer_class nn_relu_class;
extern const nn_layer_class nn_permute_class;
extern const nn_layer_class nn_time_distributed_class;
extern const nn_layer_class nn_normalization_class;

/* The seed and stream of a dropout mask `layer` draws in this call: from its own seed
 * (own_seed present; on its own the mask follows own_calls, the calls so far, which the
 * caller advances once per call) or the model's, and the step. `mask` tells apart the
 * masks one call draws (0 for the first). */
void nn_dropout_stream(const nn_layer *layer, const nn_exec *exec,
                       const nn_optional_int *own_seed, uint64_t own_calls, uint64_t mask,
                       uint64_t *seed, uint64_t *stream);
/* The same for a layer that draws one stream a call (Dropout, the noise and augmentation
 * layers), and the call counted: own_calls advances when the layer has its own seed and
 * runs on its own. */
void nn_random_call_stream(const nn_layer *layer, const nn_exec *exec,
                           const nn_optional_int *own_seed, uint64_t *own_calls,
                           uint64_t *seed, uint64_t *stream);

/* Makes `bidirectional` (of nn_bidirectional_class, arguments not finished yet) wrap a
 * copy of the arguments of `recurrent`, a SimpleRNN, LSTM or GRU: all but its name. */
nn_status nn_bidirectional_wrap(nn_layer *bidirectional, const nn_layer *recurrent);

/* Makes `wrapper` (of nn_time_distributed_class, arguments not finished yet) wrap a copy
 * of `layer`'s arguments, seed and stream; `layer` must not be built (the wrapper makes
 * the weights) nor have an input_shape (the wrapper's is the whole input's). */
nn_status nn_time_distributed_wrap(nn_layer *wrapper, const nn_layer *layer);
/* The copy a TimeDistributed wraps (its weights are the wrapper's); NULL for another
 * kind of layer. */
const nn_layer *nn_time_distributed_inner(const nn_layer *layer);
/* The layer inside every TimeDistributed around it: the layer itself when it is none. */
const nn_layer *nn_time_distributed_innermost(const nn_layer *layer);


/* The arguments most layers end with, in the arg table of a struct whose ARG(field) the
 * including file defines: data_format (image layers), then name (by default base_name,
 * base_name_1, ...) and input_shape. */
#define NN_DATA_FORMAT_ARG                                                                    \
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,                      \
     nn_data_format_choices, "'channels_last'",                                               \
     "'channels_last' (batch, height, width, channels) or 'channels_first' (batch, "          \
     "channels, height, width)."}
/* The same for volumes (the 3-D layers). */
#define NN_VOLUME_DATA_FORMAT_ARG                                                             \
    {"data_format", NN_ARG_CHOICE, ARG(data_format), false, 0, 0, false,                      \
     nn_data_format_choices, "'channels_last'",                                               \
     "'channels_last' (batch, depth, height, width, channels) or 'channels_first' (batch, "   \
     "channels, depth, height, width)."}
#define NN_NAME_AND_INPUT_SHAPE_ARGS(base_name)                                               \
    {"name", NN_ARG_STRING, ARG(base.name), false, 0, 0, false, NULL, "None",                 \
     "Name of the layer; by default '" base_name "', '" base_name "_1', ..."},                \
        {"input_shape", NN_ARG_SHAPE, ARG(base.declared_input), false, 1, 1 << 30, false,     \
         NULL, "None",                                                                        \
         "Shape of one input sample (without the batch axis), for the first layer."}

/* The activity_regularizer argument's help, one text for every layer that takes it. */
#define NN_ACTIVITY_REGULARIZER_DOC                                                            \
    "Regularizer function applied to the output of the layer; its penalty joins the loss "     \
    "divided by the batch's rows, as Keras."

/* What the convolutions (Conv1D, Conv2D and their transposes) take after dilation_rate or
 * groups, in Keras' order, for a struct with the fields kernel_initializer, use_bias, ...;
 * kernel_doc describes the kernel's shape. */
#define NN_CONV_WEIGHT_ARGS(kernel_doc)                                                        \
    {"activation", NN_ARG_ACTIVATION, ARG(base.activation), false, 0, 0, false, NULL, "None",  \
     "Activation function applied to the output, e.g. 'relu'; None means linear."},            \
    {"use_bias", NN_ARG_BOOL, ARG(use_bias), false, 0, 1, false, NULL, "True",                 \
     "Whether the layer adds a bias vector (one value per filter)."},                          \
    {"kernel_initializer", NN_ARG_INITIALIZER, ARG(kernel_initializer), false, 0, 0, false,    \
     NULL, "'glorot_uniform'", kernel_doc},                                                    \
    {"bias_initializer", NN_ARG_INITIALIZER, ARG(bias_initializer), false, 0, 0, false, NULL,  \
     "'zeros'", "Initializer for the bias vector."},                                           \
    {"kernel_regularizer", NN_ARG_REGULARIZER, ARG(kernel_regularizer), false, 0, 0, false,    \
     NULL, "None", "Regularizer function applied to the kernel."},                             \
    {"bias_regularizer", NN_ARG_REGULARIZER, ARG(bias_regularizer), false, 0, 0, false, NULL,  \
     "None", "Regularizer function applied to the bias vector."},                              \
    {"activity_regularizer", NN_ARG_REGULARIZER, ARG(base.activity_regularizer), false, 0, 0,  \
     false, NULL, "None", NN_ACTIVITY_REGULARIZER_DOC},                                        \
    {"kernel_constraint", NN_ARG_CONSTRAINT, ARG(kernel_constraint), false, 0, 0, false, NULL, \
     "None", "Constraint function applied to the kernel after each update."},                  \
    {"bias_constraint", NN_ARG_CONSTRAINT, ARG(bias_constraint), false, 0, 0, false, NULL,     \
     "None", "Constraint function applied to the bias vector after each update."}

/* Shared choice lists. */
extern const char *const nn_padding_choices[];     /* "valid", "same" */
extern const char *const nn_data_format_choices[]; /* "channels_last", "channels_first" */

enum { NN_PADDING_VALID = 0, NN_PADDING_SAME = 1 };
enum { NN_CHANNELS_LAST = 0, NN_CHANNELS_FIRST = 1 };

/* Output length of one spatial axis by Keras' formulas, with the arithmetic written
 * into text ("floor((28 - 3) / 1) + 1 = 26" or "ceil(28 / 2) = 14"). Returns the length,
 * which is <= 0 when the window does not fit. *pad_before receives the padding put
 * before the first element ('same' splits like Keras: the smaller half first). */
int64_t nn_window_output(int64_t input, int64_t window, int64_t stride, int64_t dilation,
                         int padding, int64_t *pad_before, char *text, size_t text_size);

/* Output length of one spatial axis of a transposed convolution (Conv1DTranspose,
 * Conv2DTranspose, Conv3DTranspose) by Keras' rule, with the arithmetic written into text:
 * with output_padding None (NN_PAIR_NONE) 'valid' gives input * stride + max(dilated window
 * - stride, 0) and 'same' input * stride; with an output_padding p, (input - 1) * stride +
 * dilated window - 2 * (dilated window // 2 for 'same', else 0) + p. */
int64_t nn_transposed_window_output(int64_t input, int64_t window, int64_t stride,
                                    int64_t dilation, int padding, int output_padding,
                                    char *text, size_t text_size);

/* NN_OK when every size of input but the batch is known; the error shows the shape. */
nn_status nn_known_sizes(const nn_shape *input);

/* A size pair as the user gave it: "3" for a 1-D layer (whose height, the pair's first
 * entry, is a hidden 1), "(3, 3)" for a 2-D one. Returns text. */
const char *nn_pair_text(bool one_row, const int pair[2], char *text, size_t size);

/* A size triple as the user gave it: "(3, 3, 3)". Returns text. */
const char *nn_triple_text(const int triple[3], char *text, size_t size);

/* Keras' refusal of strides > 1 together with dilation_rate > 1 in a convolution, over
 * `axes` (2: pairs, shown as nn_pair_text with one_row; 3: triples). */
nn_status nn_check_strides_or_dilation(const nn_layer *layer, const int *strides,
                                       const int *dilation_rate, int axes, bool one_row);

/* *product = the product of factors (each non-negative); false, *product untouched, when
 * it passes limit. */
bool nn_product_within(const int64_t *factors, int count, int64_t limit, int64_t *product);

/* Checks that input is a batch of images, (batch, height, width, channels) or with
 * channels first, with every size known, and reads the three sizes. The error is worded
 * like Keras' and names the layer and the shape received. */
/* The axis `axis` (negative counts from the end) of an input of at least (batch,
 * features), counted from the front, for layers that work along one axis. With
 * batch_axis_advice, the batch axis is refused, the message ending with that advice. The
 * errors name the layer and the shape received. */
nn_status nn_feature_axis(const nn_layer *layer, const nn_shape *input, int axis,
                          const char *batch_axis_advice, int *resolved);

nn_status nn_image_input(const nn_layer *layer, const nn_shape *input, int data_format,
                         int64_t *height, int64_t *width, int64_t *channels);

/* The same for a sequence, (batch, steps, channels) or channels first, read as an image
 * one row high: *height is 1, *width the steps. */
nn_status nn_sequence_input(const nn_layer *layer, const nn_shape *input, int data_format,
                            int64_t *height, int64_t *width, int64_t *channels);

/* The same for a volume, (batch, depth, height, width, channels) or channels first, as
 * the 3-D layers take: sizes[0..2] receive depth, height and width. */
nn_status nn_volume_input(const nn_layer *layer, const nn_shape *input, int data_format,
                          int64_t sizes[3], int64_t *channels);

/* A convolution's sizes for one call: its geometry with `batch` filled in, the floats of a
 * batch of its input and of its output (rounded up with nn_aligned_floats, so scratch
 * partitions stay aligned), and the scratch its kernels ask for. */
typedef struct nn_conv2d_sizes {
    nn_conv2d_geometry geometry;
    size_t input_floats, output_floats, kernel_scratch;
} nn_conv2d_sizes;
nn_conv2d_sizes nn_conv2d_sizes_of(const nn_conv2d_geometry *geometry, const nn_backend *backend,
                                   int64_t batch);

/* The channels-last batch the image kernels take for an image batch of `shape`: itself
 * with channels last, (B·C, H, W, 1) with channels first (each channel an image). A
 * sequence (B, steps, C) is an image one row high. */
void nn_image_kernel_view(const nn_shape *shape, int data_format, int64_t *batch,
                          int64_t *height, int64_t *width, int64_t *channels);

#endif
