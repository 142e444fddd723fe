/* Model files: every layer kind and every optimizer survive save -> load with
 * bit-identical predictions, weights, optimizer state and step counter; save -> load ->
 * save gives identical bytes; a loaded model goes on training exactly like the original;
 * every argument of every layer class round-trips through the JSON config; backups
 * restore a run; bad saves and loads change nothing.
 *
 * Layer kinds and optimizers that are still stubs in this tree are skipped (their
 * classes have no forward function; the optimizer parser maps every name to sgd). */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/json_config.h"
#include "io/model_file.h"
#include "layers/layers.h"
#include "random.h"
#include "scratch.h"

/* ---- building models from C ---- */

static const nn_arg_spec *arg(nn_layer *layer, const char *name)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert(spec, "%s has no argument '%s'", layer->cls->name, name);
    return spec;
}

static void set_int(nn_layer *layer, const char *name, int value)
{
    *(int *)nn_layer_arg_pointer(layer, arg(layer, name)) = value;
}

static void set_bool(nn_layer *layer, const char *name, bool value)
{
    *(bool *)nn_layer_arg_pointer(layer, arg(layer, name)) = value;
}

static void set_float(nn_layer *layer, const char *name, float value)
{
    *(float *)nn_layer_arg_pointer(layer, arg(layer, name)) = value;
}

static void set_pair(nn_layer *layer, const char *name, int a, int b)
{
    int *pair = nn_layer_arg_pointer(layer, arg(layer, name));
    pair[0] = a, pair[1] = b;
}

static void set_choice(nn_layer *layer, const char *name, const char *choice)
{
    const nn_arg_spec *spec = arg(layer, name);
    for (int i = 0; spec->choices[i]; i++)
        if (strcmp(spec->choices[i], choice) == 0)
            *(int *)nn_layer_arg_pointer(layer, spec) = i;
}

static void set_activation(nn_layer *layer, const char *name)
{
    cr_assert_eq(nn_activation_parse(name, nn_layer_arg_pointer(layer, arg(layer, "activation"))),
                 NN_OK);
}

static void set_input(nn_layer *layer, nn_shape shape)
{
    *(nn_shape *)nn_layer_arg_pointer(layer, arg(layer, "input_shape")) = shape;
}

static bool is_stub(const nn_layer_class *cls) { return cls->forward == NULL; }

static nn_layer *new_layer(const nn_layer_class *cls)
{
    nn_layer *layer;
    cr_assert_eq(nn_layer_create(&layer, cls), NN_OK);
    return layer;
}

static void add(nn_model *model, nn_layer *layer)
{
    cr_assert_eq(nn_layer_finish(layer), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_model_add(model, layer), NN_OK, "%s", nn_error_message());
    nn_layer_release(layer);
}

static nn_layer *dense(int units, const char *activation)
{
    nn_layer *layer = new_layer(&nn_dense_class);
    set_int(layer, "units", units);
    if (activation)
        set_activation(layer, activation);
    return layer;
}

/* A model around one layer of the class under test, ending in Dense(3), for mse. */
static nn_model *model_around(const nn_layer_class *cls, nn_shape *input)
{
    nn_model *model;
    cr_assert_eq(nn_model_create(&model, "under_test"), NN_OK);
    nn_layer *layer = new_layer(cls);
    if (cls == &nn_conv2d_class) {
        *input = NN_SHAPE(6, 6, 2);
        set_int(layer, "filters", 4);
        set_pair(layer, "kernel_size", 3, 3);
        set_choice(layer, "padding", "same");
        set_activation(layer, "relu");
        set_input(layer, NN_SHAPE(6, 6, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_maxpool2d_class || cls == &nn_avgpool2d_class) {
        *input = NN_SHAPE(6, 6, 2);
        set_pair(layer, "pool_size", 2, 2);
        set_input(layer, NN_SHAPE(6, 6, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_global_average_pooling2d_class ||
               cls == &nn_global_max_pooling2d_class) {
        *input = NN_SHAPE(5, 4, 2);
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(5, 4, 2));
        add(model, layer);
    } else if (cls == &nn_global_average_pooling1d_class ||
               cls == &nn_global_max_pooling1d_class) {
        *input = NN_SHAPE(9, 3);
        set_input(layer, NN_SHAPE(9, 3));
        add(model, layer);
    } else if (cls == &nn_maxpool3d_class || cls == &nn_avgpool3d_class) {
        /* channels first: 2 channels of 4 x 5 x 3, a (2, 3, 2) box every (1, 2, 2), 'same' */
        *input = NN_SHAPE(2, 4, 5, 3);
        int *pool_size = nn_layer_arg_pointer(layer, arg(layer, "pool_size"));
        int *strides = nn_layer_arg_pointer(layer, arg(layer, "strides"));
        pool_size[0] = 2, pool_size[1] = 3, pool_size[2] = 2;
        strides[0] = 1, strides[1] = 2, strides[2] = 2;
        set_choice(layer, "padding", "same");
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(2, 4, 5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_global_average_pooling3d_class ||
               cls == &nn_global_max_pooling3d_class) {
        *input = NN_SHAPE(3, 4, 2, 2);
        set_bool(layer, "keepdims", true);
        set_input(layer, NN_SHAPE(3, 4, 2, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_maxpool1d_class || cls == &nn_avgpool1d_class ||
               cls == &nn_zero_padding1d_class || cls == &nn_cropping1d_class ||
               cls == &nn_upsampling1d_class) {
        *input = NN_SHAPE(9, 3);
        set_input(layer, NN_SHAPE(9, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_permute_class) {
        *input = NN_SHAPE(5, 3);
        *(nn_shape *)nn_layer_arg_pointer(layer, arg(layer, "dims")) = NN_SHAPE(2, 1);
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_group_norm_class) {
        /* channels first: 6 channels on axis 1 in 3 groups */
        *input = NN_SHAPE(6, 3, 3);
        set_int(layer, "groups", 3);
        set_int(layer, "axis", 1);
        set_float(layer, "epsilon", 1e-4f);
        set_input(layer, NN_SHAPE(6, 3, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_random_contrast_class || cls == &nn_random_brightness_class) {
        /* channels first, images in [0, 1] */
        *input = NN_SHAPE(2, 4, 4);
        if (cls == &nn_random_contrast_class) {
            *(nn_optional_floats *)nn_layer_arg_pointer(layer, arg(layer, "factor")) =
                (nn_optional_floats){.present = true, .list = true, .count = 2,
                                     .values = {0.25f, 0.5f}};
        } else {
            float *factor = nn_layer_arg_pointer(layer, arg(layer, "factor"));
            factor[0] = -0.25f, factor[1] = 0.125f;
        }
        *(nn_optional_floats *)nn_layer_arg_pointer(layer, arg(layer, "value_range")) =
            (nn_optional_floats){.present = true, .list = true, .count = 2, .values = {0, 1}};
        *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "seed")) =
            (nn_optional_int){true, 5};
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(2, 4, 4));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_resizing_class) {
        /* channels first, the sides cut to 3 x 6's aspect ratio */
        *input = NN_SHAPE(2, 5, 7);
        set_int(layer, "height", 3);
        set_int(layer, "width", 6);
        set_choice(layer, "interpolation", "nearest");
        set_bool(layer, "crop_to_aspect_ratio", true);
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(2, 5, 7));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_center_crop_class || cls == &nn_random_crop_class) {
        /* 7 x 6 images: CenterCrop keeps 4 x 5 of them, RandomCrop (seeded) too */
        *input = NN_SHAPE(7, 6, 2);
        set_int(layer, "height", 4);
        set_int(layer, "width", 5);
        if (cls == &nn_random_crop_class)
            *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "seed")) =
                (nn_optional_int){true, 9};
        set_input(layer, NN_SHAPE(7, 6, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_unit_normalization_class) {
        *input = NN_SHAPE(4, 3);
        set_int(layer, "axis", 1);
        set_input(layer, NN_SHAPE(4, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_category_encoding_class) {
        /* ids 0, 1, 2 (round_trip makes them), counted per sample among 6 */
        *input = NN_SHAPE(3);
        set_int(layer, "num_tokens", 6);
        set_choice(layer, "output_mode", "count");
        set_input(layer, NN_SHAPE(3));
        add(model, layer);
    } else if (cls == &nn_discretization_class) {
        *input = NN_SHAPE(4);
        nn_optional_floats *boundaries = nn_layer_arg_pointer(layer, arg(layer, "bin_boundaries"));
        *boundaries = (nn_optional_floats){.present = true, .list = true, .count = 3,
                                           .values = {-0.5f, 0.25f, 0.75f}};
        set_choice(layer, "output_mode", "one_hot");
        set_input(layer, NN_SHAPE(4));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_repeat_vector_class) {
        *input = NN_SHAPE(4);
        set_int(layer, "n", 3);
        set_input(layer, NN_SHAPE(4));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_spatial_dropout1d_class) {
        *input = NN_SHAPE(5, 3);
        set_float(layer, "rate", 0.5f);
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_bidirectional_class) {
        /* A GRU both ways, outputs multiplied. */
        *input = NN_SHAPE(5, 3);
        nn_layer *gru = new_layer(&nn_gru_class);
        set_int(gru, "units", 4);
        set_bool(gru, "return_sequences", true);
        cr_assert_eq(nn_bidirectional_wrap(layer, gru), NN_OK);
        nn_layer_release(gru);
        set_choice(layer, "merge_mode", "mul");
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_simple_rnn_class || cls == &nn_lstm_class || cls == &nn_gru_class) {
        *input = NN_SHAPE(5, 3);
        set_int(layer, "units", 4);
        set_bool(layer, "return_sequences", true);
        set_bool(layer, "go_backwards", cls == &nn_gru_class);
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_conv1d_class) {
        *input = NN_SHAPE(9, 3);
        set_int(layer, "filters", 4);
        set_int(layer, "kernel_size", 3);
        set_choice(layer, "padding", "causal");
        set_input(layer, NN_SHAPE(9, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_depthwise_conv1d_class) {
        *input = NN_SHAPE(9, 3);
        set_int(layer, "kernel_size", 3);
        set_int(layer, "depth_multiplier", 2);
        set_choice(layer, "padding", "same");
        set_input(layer, NN_SHAPE(9, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_separable_conv1d_class) {
        *input = NN_SHAPE(9, 3);
        set_int(layer, "filters", 2);
        set_int(layer, "kernel_size", 3);
        set_int(layer, "depth_multiplier", 2);
        set_input(layer, NN_SHAPE(9, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_conv1d_transpose_class) {
        *input = NN_SHAPE(5, 3);
        set_int(layer, "filters", 2);
        set_int(layer, "kernel_size", 3);
        set_int(layer, "strides", 2);
        *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "output_padding")) =
            (nn_optional_int){true, 1};
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_conv3d_class) {
        /* 4 x 5 x 3 volumes, channels first: a 2 x 3 x 2 window, depth stride 2, 'same' */
        *input = NN_SHAPE(2, 4, 5, 3);
        set_int(layer, "filters", 3);
        int *kernel_size = nn_layer_arg_pointer(layer, arg(layer, "kernel_size"));
        kernel_size[0] = 2, kernel_size[1] = 3, kernel_size[2] = 2;
        int *strides = nn_layer_arg_pointer(layer, arg(layer, "strides"));
        strides[0] = 2, strides[1] = 1, strides[2] = 1;
        set_choice(layer, "padding", "same");
        set_choice(layer, "data_format", "channels_first");
        set_activation(layer, "tanh");
        set_input(layer, NN_SHAPE(2, 4, 5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_conv3d_transpose_class) {
        /* 3 x 2 x 3 volumes, channels first: a 3 x 3 x 2 kernel, strides (2, 1, 2), 'same',
         * output_padding (1, 0, 1): (2, 6, 2, 5) out */
        *input = NN_SHAPE(2, 3, 2, 3);
        set_int(layer, "filters", 2);
        int *kernel_size = nn_layer_arg_pointer(layer, arg(layer, "kernel_size"));
        kernel_size[0] = 3, kernel_size[1] = 3, kernel_size[2] = 2;
        int *strides = nn_layer_arg_pointer(layer, arg(layer, "strides"));
        strides[0] = 2, strides[1] = 1, strides[2] = 2;
        int *output_padding = nn_layer_arg_pointer(layer, arg(layer, "output_padding"));
        output_padding[0] = 1, output_padding[1] = 0, output_padding[2] = 1;
        set_choice(layer, "padding", "same");
        set_choice(layer, "data_format", "channels_first");
        set_activation(layer, "relu");
        set_input(layer, NN_SHAPE(2, 3, 2, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_separable_conv2d_class) {
        set_int(layer, "filters", 3);
        set_pair(layer, "kernel_size", 3, 3);
        set_int(layer, "depth_multiplier", 2);
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(2, 6, 5));
        *input = NN_SHAPE(2, 6, 5);
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_depthwise_conv2d_class || cls == &nn_spatial_dropout2d_class ||
               cls == &nn_random_flip_class || cls == &nn_random_rotation_class ||
               cls == &nn_random_translation_class || cls == &nn_random_zoom_class) {
        *input = NN_SHAPE(5, 5, 3);
        if (cls == &nn_depthwise_conv2d_class) {
            set_pair(layer, "kernel_size", 3, 3);
            set_int(layer, "depth_multiplier", 2);
        } else if (cls == &nn_random_flip_class) {
            set_choice(layer, "mode", "vertical");
        } else if (cls == &nn_random_rotation_class || cls == &nn_random_translation_class ||
                   cls == &nn_random_zoom_class) {
            const char *first = cls == &nn_random_rotation_class ? "factor" : "height_factor";
            float *factor = nn_layer_arg_pointer(layer, arg(layer, first));
            factor[0] = -0.125f, factor[1] = 0.25f;
            if (cls == &nn_random_translation_class) {
                float *across = nn_layer_arg_pointer(layer, arg(layer, "width_factor"));
                across[0] = 0.0f, across[1] = 0.5f;
            }
            set_choice(layer, "fill_mode", "wrap");
        } else {
            set_float(layer, "rate", 0.5f);
        }
        set_input(layer, NN_SHAPE(5, 5, 3));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_conv2d_transpose_class) {
        *input = NN_SHAPE(3, 4, 2);
        set_int(layer, "filters", 3);
        set_pair(layer, "kernel_size", 3, 3);
        set_pair(layer, "strides", 2, 2);
        set_pair(layer, "output_padding", 1, 1);
        set_activation(layer, "relu");
        set_input(layer, NN_SHAPE(3, 4, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_zero_padding2d_class || cls == &nn_cropping2d_class ||
               cls == &nn_upsampling2d_class) {
        *input = NN_SHAPE(6, 5, 2);
        int *sides = cls == &nn_upsampling2d_class
                         ? NULL
                         : nn_layer_arg_pointer(layer, arg(layer, cls == &nn_cropping2d_class
                                                                      ? "cropping"
                                                                      : "padding"));
        if (sides)
            sides[0] = 1, sides[1] = 2, sides[2] = 0, sides[3] = 1;
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(6, 5, 2));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_zero_padding3d_class || cls == &nn_cropping3d_class ||
               cls == &nn_upsampling3d_class || cls == &nn_spatial_dropout3d_class) {
        /* Volumes, channels first, with a different size on every side and axis. */
        *input = NN_SHAPE(2, 5, 4, 6);
        if (cls == &nn_upsampling3d_class) {
            int *size = nn_layer_arg_pointer(layer, arg(layer, "size"));
            size[0] = 1, size[1] = 2, size[2] = 3;
        } else if (cls == &nn_spatial_dropout3d_class) {
            set_float(layer, "rate", 0.25f);
        } else {
            bool padding = cls == &nn_zero_padding3d_class;
            int *sides = nn_layer_arg_pointer(layer, arg(layer, padding ? "padding" : "cropping"));
            const int chosen[6] = {1, 2, 0, 1, 2, 1};
            for (int side = 0; side < 6; side++)
                sides[side] = chosen[side];
        }
        set_choice(layer, "data_format", "channels_first");
        set_input(layer, NN_SHAPE(2, 5, 4, 6));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_reshape_class) {
        *input = NN_SHAPE(12);
        *(nn_shape *)nn_layer_arg_pointer(layer, arg(layer, "target_shape")) = NN_SHAPE(2, -1, 3);
        set_input(layer, NN_SHAPE(12));
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_embedding_class) {
        /* input_length (Keras 2) declares the input; the file keeps both it and the shape.
         * mask_zero: index 0 is masked for the mean after it. */
        *input = NN_SHAPE(5);
        set_int(layer, "input_dim", 6);
        set_int(layer, "output_dim", 4);
        set_bool(layer, "mask_zero", true);
        *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "input_length")) =
            (nn_optional_int){true, 5};
        add(model, layer);
        add(model, new_layer(&nn_global_average_pooling1d_class));
    } else if (cls == &nn_prelu_class) {
        /* One alpha per channel of an image, an L2 penalty on it. */
        *input = NN_SHAPE(4, 4, 2);
        nn_layer *conv = new_layer(&nn_conv2d_class);
        set_int(conv, "filters", 3);
        set_pair(conv, "kernel_size", 3, 3);
        set_input(conv, NN_SHAPE(4, 4, 2));
        add(model, conv);
        *(nn_shape *)nn_layer_arg_pointer(layer, arg(layer, "shared_axes")) = NN_SHAPE(1, 2);
        ((nn_regularizer *)nn_layer_arg_pointer(layer, arg(layer, "alpha_regularizer")))->l2 =
            0.01f;
        add(model, layer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_masking_class) {
        *input = NN_SHAPE(5, 3);
        set_float(layer, "mask_value", -0.5f);
        set_input(layer, NN_SHAPE(5, 3));
        add(model, layer);
        nn_layer *rnn = new_layer(&nn_simple_rnn_class);
        set_int(rnn, "units", 4);
        add(model, rnn);
    } else if (cls == &nn_time_distributed_class) {
        /* A convolution on each of 3 frames, its config an entry inside the wrapper's, and
         * a Dropout in a wrapper in a wrapper (its seed and stream kept). */
        *input = NN_SHAPE(3, 4, 4, 2);
        nn_layer *conv = new_layer(&nn_conv2d_class);
        set_int(conv, "filters", 3);
        set_pair(conv, "kernel_size", 3, 3);
        set_activation(conv, "relu");
        cr_assert_eq(nn_layer_finish(conv), NN_OK);
        cr_assert_eq(nn_time_distributed_wrap(layer, conv), NN_OK, "%s", nn_error_message());
        nn_layer_release(conv);
        set_input(layer, NN_SHAPE(3, 4, 4, 2));
        add(model, layer);
        nn_layer *dropout = new_layer(&nn_dropout_class);
        set_float(dropout, "rate", 0.5f);
        cr_assert_eq(nn_layer_finish(dropout), NN_OK);
        nn_layer *inner = new_layer(&nn_time_distributed_class);
        cr_assert_eq(nn_time_distributed_wrap(inner, dropout), NN_OK, "%s", nn_error_message());
        nn_layer_release(dropout);
        cr_assert_eq(nn_layer_finish(inner), NN_OK);
        nn_layer *outer = new_layer(&nn_time_distributed_class);
        cr_assert_eq(nn_time_distributed_wrap(outer, inner), NN_OK, "%s", nn_error_message());
        nn_layer_release(inner);
        add(model, outer);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_normalization_class) {
        /* Adapted per index of axis 1 (weights mean, variance, count), then one given its
         * mean and variance (no weights) that puts them back on. */
        *input = NN_SHAPE(4, 3);
        *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "axis")) =
            (nn_optional_int){true, 1};
        set_input(layer, NN_SHAPE(4, 3));
        cr_assert_eq(nn_layer_finish(layer), NN_OK);
        nn_shape data_shape = NN_SHAPE(5, 4, 3);
        nn_tensor *data = NULL;
        cr_assert_eq(nn_tensor_create(&data, NN_DTYPE_F32, &data_shape), NN_OK);
        for (size_t i = 0; i < nn_tensor_count(data); i++)
            nn_tensor_f32(data)[i] = (float)(i % 7) * 0.5f - (float)(i % 4);
        cr_assert_eq(nn_layer_adapt(layer, data), NN_OK, "%s", nn_error_message());
        nn_tensor_free(data);
        add(model, layer);
        nn_layer *given = new_layer(&nn_normalization_class);
        nn_optional_floats *mean = nn_layer_arg_pointer(given, arg(given, "mean"));
        *mean = (nn_optional_floats){.present = true, .list = true, .count = 3,
                                     .values = {0.5f, -1.0f, 2.0f}};
        nn_optional_floats *variance = nn_layer_arg_pointer(given, arg(given, "variance"));
        *variance = (nn_optional_floats){.present = true, .count = 1, .values = {4.0f}};
        set_bool(given, "invert", true);
        add(model, given);
        add(model, new_layer(&nn_flatten_class));
    } else if (cls == &nn_flatten_class) {
        *input = NN_SHAPE(4, 4, 2);
        set_input(layer, NN_SHAPE(4, 4, 2));
        add(model, layer);
    } else {
        *input = NN_SHAPE(5);
        nn_layer *first = dense(6, "relu");
        set_input(first, NN_SHAPE(5));
        add(model, first);
        if (cls == &nn_dense_class)
            set_int(layer, "units", 4);
        if (cls == &nn_dropout_class || cls == &nn_alpha_dropout_class)
            set_float(layer, "rate", 0.5f);
        if (cls == &nn_gaussian_noise_class)
            set_float(layer, "stddev", 0.2f);
        if (cls == &nn_rms_norm_class)
            set_float(layer, "epsilon", 1e-3f);
        if (cls == &nn_relu_class) {
            *(nn_optional_float *)nn_layer_arg_pointer(layer, arg(layer, "max_value")) =
                (nn_optional_float){true, 6.0f};
            set_float(layer, "threshold", 0.25f);
        }
        if (cls == &nn_activity_regularization_class) {
            set_float(layer, "l1", 0.01f);
            set_float(layer, "l2", 0.02f);
        }
        if (cls == &nn_gaussian_dropout_class) {
            set_float(layer, "rate", 0.4f);
            *(nn_optional_int *)nn_layer_arg_pointer(layer, arg(layer, "seed")) =
                (nn_optional_int){true, 7};
        }
        if (cls == &nn_activation_class)
            set_activation(layer, "tanh");
        if (cls == &nn_leaky_relu_class || cls == &nn_elu_class)
            set_float(layer, cls == &nn_elu_class ? "alpha" : "negative_slope", 0.25f);
        if (cls == &nn_rescaling_class) {
            set_float(layer, "scale", 0.25f);
            set_float(layer, "offset", -0.5f);
        }
        add(model, layer);
    }
    add(model, dense(3, NULL));
    return model;
}

static nn_tensor *random_tensor(nn_shape shape, uint64_t stream)
{
    nn_tensor *tensor;
    cr_assert_eq(nn_tensor_create(&tensor, NN_DTYPE_F32, &shape), NN_OK);
    nn_rng rng;
    nn_rng_init(&rng, 99, stream);
    float *data = nn_tensor_f32(tensor);
    for (size_t i = 0; i < nn_tensor_count(tensor); i++)
        data[i] = nn_rng_uniform(&rng) * 2.0f - 1.0f;
    return tensor;
}

static nn_shape batch_of(int64_t rows, const nn_shape *sample)
{
    nn_shape shape = {.ndim = sample->ndim + 1};
    shape.dims[0] = rows;
    for (int i = 0; i < sample->ndim; i++)
        shape.dims[i + 1] = sample->dims[i];
    return shape;
}

static void compile(nn_model *model, nn_optimizer_config config)
{
    nn_loss loss;
    cr_assert_eq(nn_loss_parse("mse", &loss), NN_OK);
    const char *metrics[] = {"mae"};
    nn_status status = nn_model_compile(model, &config, &loss, metrics, 1);
    if (status != NN_OK) /* a stub metric list */
        status = nn_model_compile(model, &config, &loss, NULL, 0);
    cr_assert_eq(status, NN_OK, "%s", nn_error_message());
}

static void fit(nn_model *model, const nn_tensor *x, const nn_tensor *y, int initial_epoch,
                int epochs)
{
    nn_fit_options options = nn_fit_defaults();
    options.batch_size = 8;
    options.initial_epoch = initial_epoch;
    options.epochs = epochs;
    cr_assert_eq(nn_model_fit(model, x, y, &options, NULL, NULL), NN_OK, "%s",
                 nn_error_message());
}

static nn_tensor *predict(nn_model *model, const nn_tensor *x)
{
    nn_tensor *out;
    cr_assert_eq(nn_model_predict(model, x, 8, NULL, &out), NN_OK, "%s", nn_error_message());
    return out;
}

static char *read_all(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    cr_assert(file, "cannot open %s", path);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *data = malloc((size_t)length + 1);
    *size = fread(data, 1, (size_t)length, file);
    fclose(file);
    return data;
}

static void expect_same_file(const char *a, const char *b)
{
    size_t size_a, size_b;
    char *data_a = read_all(a, &size_a), *data_b = read_all(b, &size_b);
    cr_expect(size_a == size_b && memcmp(data_a, data_b, size_a) == 0,
              "save -> load -> save changed the bytes: %s (%zu bytes) vs %s (%zu bytes)", a,
              size_a, b, size_b);
    free(data_a);
    free(data_b);
}

static void expect_same_tensor(const nn_tensor *a, const nn_tensor *b, const char *what)
{
    cr_expect(nn_shape_equal(&a->shape, &b->shape), "%s: shapes differ", what);
    cr_expect(memcmp(nn_tensor_data(a), nn_tensor_data(b), nn_tensor_bytes(a)) == 0,
              "%s: not bit-identical", what);
}

static void expect_same_state(nn_model *a, nn_model *b, const char *what)
{
    /* Gathering first: weight_count is only known once the buffer exists. */
    const float *weights_a = nn_model_weights(a), *weights_b = nn_model_weights(b);
    cr_assert(weights_a && weights_b, "%s: %s", what, nn_error_message());
    cr_assert_eq(a->weight_count, b->weight_count, "%s: weight counts differ", what);
    cr_assert_gt(a->weight_count, 0, "%s: no weights to compare", what);
    cr_expect(memcmp(weights_a, weights_b, a->weight_count * sizeof(float)) == 0,
              "%s: weights differ", what);
    cr_expect_eq(a->step, b->step, "%s: step %llu vs %llu", what, (unsigned long long)a->step,
                 (unsigned long long)b->step);
    cr_assert_eq(a->optimizer != NULL, b->optimizer != NULL, "%s: optimizer presence", what);
    if (!a->optimizer)
        return;
    cr_expect_eq(a->optimizer->iterations, b->optimizer->iterations, "%s: iterations", what);
    cr_assert_eq(a->optimizer->slot_count, b->optimizer->slot_count, "%s: slot count", what);
    for (int s = 0; s < a->optimizer->slot_count; s++)
        cr_expect(memcmp(a->optimizer->slots[s], b->optimizer->slots[s],
                         a->optimizer->count * sizeof(float)) == 0,
                  "%s: optimizer slot %s differs", what, nn_optimizer_slot_name(a->optimizer, s));
}

static void temp_path(char *out, size_t size, const char *name)
{
    scratch_path(out, size, "model-file", name);
}

/* The whole round trip: train, save, load, compare everything, save again, train on. */
static void round_trip(nn_model *model, const nn_shape *input, nn_optimizer_config config,
                       const char *label)
{
    nn_random_seed(7);
    nn_shape x_shape = batch_of(32, input);
    nn_tensor *x = random_tensor(x_shape, 1);
    nn_tensor *y = random_tensor(NN_SHAPE(32, 3), 2);
    if (model->layers[0]->cls == &nn_embedding_class ||
        model->layers[0]->cls == &nn_category_encoding_class) {
        /* An Embedding or CategoryEncoding takes ids: x's values in [-1, 1) become 0, 1, 2. */
        float *data = nn_tensor_f32(x);
        for (size_t i = 0; i < nn_tensor_count(x); i++)
            data[i] = (float)(int)(data[i] * 1.5f + 1.5f);
    }
    compile(model, config);
    fit(model, x, y, 0, 2);

    char first[512], second[512];
    temp_path(first, sizeof first, "first.safetensors");
    temp_path(second, sizeof second, "second.safetensors");
    cr_assert_eq(nn_model_save(model, first, true), NN_OK, "%s: %s", label, nn_error_message());
    nn_model *copy;
    cr_assert_eq(nn_model_load(&copy, first, true), NN_OK, "%s: %s", label, nn_error_message());
    cr_expect(copy->compiled, "%s: the loaded model is not compiled", label);
    cr_expect_eq(copy->optimizer_config.kind, model->optimizer_config.kind, "%s", label);

    nn_tensor *expected = predict(model, x), *actual = predict(copy, x);
    expect_same_tensor(expected, actual, label);
    nn_tensor_free(expected);
    nn_tensor_free(actual);
    expect_same_state(model, copy, label);

    cr_assert_eq(nn_model_save(copy, second, true), NN_OK, "%s", nn_error_message());
    expect_same_file(first, second);

    /* Both go on training from the same global state: they must stay identical. */
    nn_random_seed(11);
    fit(model, x, y, 2, 3);
    nn_random_seed(11);
    fit(copy, x, y, 2, 3);
    expect_same_state(model, copy, label);

    unlink(first);
    unlink(second);
    nn_model_release(copy);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

/* ---- every layer kind ---- */

static void layer_round_trip(const nn_layer_class *cls)
{
    if (is_stub(cls))
        cr_skip_test("%s is a stub in this tree", cls->name);
    nn_shape input;
    nn_model *model = model_around(cls, &input);
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.momentum = 0.9;
    round_trip(model, &input, config, cls->name);
    nn_model_release(model);
}

Test(model_file, conv2d_round_trips) { layer_round_trip(&nn_conv2d_class); }
Test(model_file, maxpooling2d_round_trips) { layer_round_trip(&nn_maxpool2d_class); }
Test(model_file, averagepooling2d_round_trips) { layer_round_trip(&nn_avgpool2d_class); }
Test(model_file, flatten_round_trips) { layer_round_trip(&nn_flatten_class); }
Test(model_file, reshape_round_trips) { layer_round_trip(&nn_reshape_class); }
Test(model_file, zero_padding2d_round_trips) { layer_round_trip(&nn_zero_padding2d_class); }
Test(model_file, cropping2d_round_trips) { layer_round_trip(&nn_cropping2d_class); }
Test(model_file, upsampling2d_round_trips) { layer_round_trip(&nn_upsampling2d_class); }
Test(model_file, zero_padding3d_round_trips) { layer_round_trip(&nn_zero_padding3d_class); }
Test(model_file, cropping3d_round_trips) { layer_round_trip(&nn_cropping3d_class); }
Test(model_file, upsampling3d_round_trips) { layer_round_trip(&nn_upsampling3d_class); }
Test(model_file, spatial_dropout3d_round_trips) { layer_round_trip(&nn_spatial_dropout3d_class); }
Test(model_file, leaky_relu_round_trips) { layer_round_trip(&nn_leaky_relu_class); }
Test(model_file, elu_round_trips) { layer_round_trip(&nn_elu_class); }
Test(model_file, softmax_round_trips) { layer_round_trip(&nn_softmax_class); }
Test(model_file, conv2d_transpose_round_trips) { layer_round_trip(&nn_conv2d_transpose_class); }
Test(model_file, depthwise_conv2d_round_trips) { layer_round_trip(&nn_depthwise_conv2d_class); }
Test(model_file, spatial_dropout2d_round_trips) { layer_round_trip(&nn_spatial_dropout2d_class); }
Test(model_file, layer_normalization_round_trips) { layer_round_trip(&nn_layernorm_class); }
Test(model_file, separable_conv2d_round_trips) { layer_round_trip(&nn_separable_conv2d_class); }
Test(model_file, conv1d_round_trips) { layer_round_trip(&nn_conv1d_class); }
Test(model_file, max_pooling1d_round_trips) { layer_round_trip(&nn_maxpool1d_class); }
Test(model_file, average_pooling1d_round_trips) { layer_round_trip(&nn_avgpool1d_class); }
Test(model_file, zero_padding1d_round_trips) { layer_round_trip(&nn_zero_padding1d_class); }
Test(model_file, cropping1d_round_trips) { layer_round_trip(&nn_cropping1d_class); }
Test(model_file, upsampling1d_round_trips) { layer_round_trip(&nn_upsampling1d_class); }
Test(model_file, global_average_pooling1d_round_trips)
{
    layer_round_trip(&nn_global_average_pooling1d_class);
}
Test(model_file, global_max_pooling1d_round_trips)
{
    layer_round_trip(&nn_global_max_pooling1d_class);
}
Test(model_file, max_pooling3d_round_trips) { layer_round_trip(&nn_maxpool3d_class); }
Test(model_file, average_pooling3d_round_trips) { layer_round_trip(&nn_avgpool3d_class); }
Test(model_file, global_average_pooling3d_round_trips)
{
    layer_round_trip(&nn_global_average_pooling3d_class);
}
Test(model_file, global_max_pooling3d_round_trips)
{
    layer_round_trip(&nn_global_max_pooling3d_class);
}
Test(model_file, simple_rnn_round_trips) { layer_round_trip(&nn_simple_rnn_class); }
Test(model_file, lstm_round_trips) { layer_round_trip(&nn_lstm_class); }
Test(model_file, gru_round_trips) { layer_round_trip(&nn_gru_class); }
Test(model_file, bidirectional_round_trips) { layer_round_trip(&nn_bidirectional_class); }
Test(model_file, repeat_vector_round_trips) { layer_round_trip(&nn_repeat_vector_class); }
Test(model_file, permute_round_trips) { layer_round_trip(&nn_permute_class); }
Test(model_file, spatial_dropout1d_round_trips) { layer_round_trip(&nn_spatial_dropout1d_class); }
Test(model_file, embedding_round_trips) { layer_round_trip(&nn_embedding_class); }
Test(model_file, gaussian_noise_round_trips) { layer_round_trip(&nn_gaussian_noise_class); }
Test(model_file, gaussian_dropout_round_trips) { layer_round_trip(&nn_gaussian_dropout_class); }
Test(model_file, alpha_dropout_round_trips) { layer_round_trip(&nn_alpha_dropout_class); }
Test(model_file, random_flip_round_trips) { layer_round_trip(&nn_random_flip_class); }
Test(model_file, random_rotation_round_trips) { layer_round_trip(&nn_random_rotation_class); }
Test(model_file, random_translation_round_trips)
{
    layer_round_trip(&nn_random_translation_class);
}
Test(model_file, random_zoom_round_trips) { layer_round_trip(&nn_random_zoom_class); }
Test(model_file, relu_round_trips) { layer_round_trip(&nn_relu_class); }
Test(model_file, masking_round_trips) { layer_round_trip(&nn_masking_class); }
Test(model_file, prelu_round_trips) { layer_round_trip(&nn_prelu_class); }
Test(model_file, normalization_round_trips) { layer_round_trip(&nn_normalization_class); }
Test(model_file, group_normalization_round_trips) { layer_round_trip(&nn_group_norm_class); }
Test(model_file, random_contrast_round_trips) { layer_round_trip(&nn_random_contrast_class); }
Test(model_file, random_brightness_round_trips) { layer_round_trip(&nn_random_brightness_class); }
Test(model_file, resizing_round_trips) { layer_round_trip(&nn_resizing_class); }
Test(model_file, center_crop_round_trips) { layer_round_trip(&nn_center_crop_class); }
Test(model_file, random_crop_round_trips) { layer_round_trip(&nn_random_crop_class); }
Test(model_file, identity_round_trips) { layer_round_trip(&nn_identity_class); }
Test(model_file, unit_normalization_round_trips) { layer_round_trip(&nn_unit_normalization_class); }
Test(model_file, category_encoding_round_trips) { layer_round_trip(&nn_category_encoding_class); }
Test(model_file, discretization_round_trips) { layer_round_trip(&nn_discretization_class); }
Test(model_file, rms_normalization_round_trips) { layer_round_trip(&nn_rms_norm_class); }
Test(model_file, depthwise_conv1d_round_trips) { layer_round_trip(&nn_depthwise_conv1d_class); }
Test(model_file, conv1d_transpose_round_trips) { layer_round_trip(&nn_conv1d_transpose_class); }
Test(model_file, separable_conv1d_round_trips) { layer_round_trip(&nn_separable_conv1d_class); }
Test(model_file, conv3d_round_trips) { layer_round_trip(&nn_conv3d_class); }
Test(model_file, conv3d_transpose_round_trips)
{
    layer_round_trip(&nn_conv3d_transpose_class);
}
Test(model_file, time_distributed_round_trips)
{
    layer_round_trip(&nn_time_distributed_class);
}
Test(model_file, activity_regularization_round_trips)
{
    layer_round_trip(&nn_activity_regularization_class);
}
Test(model_file, dense_round_trips) { layer_round_trip(&nn_dense_class); }
Test(model_file, dropout_round_trips) { layer_round_trip(&nn_dropout_class); }
Test(model_file, batchnormalization_round_trips) { layer_round_trip(&nn_batchnorm_class); }
Test(model_file, activation_round_trips) { layer_round_trip(&nn_activation_class); }
Test(model_file, rescaling_round_trips) { layer_round_trip(&nn_rescaling_class); }
Test(model_file, global_average_pooling2d_round_trips)
{
    layer_round_trip(&nn_global_average_pooling2d_class);
}
Test(model_file, global_max_pooling2d_round_trips)
{
    layer_round_trip(&nn_global_max_pooling2d_class);
}

Test(model_file, every_layer_class_has_a_round_trip_test)
{
    const nn_layer_class *const tested[] = {&nn_conv2d_class,  &nn_maxpool2d_class,
                                            &nn_flatten_class, &nn_dense_class,
                                            &nn_dropout_class, &nn_batchnorm_class,
                                            &nn_activation_class, &nn_rescaling_class,
                                            &nn_avgpool2d_class,
                                            &nn_global_average_pooling2d_class,
                                            &nn_global_max_pooling2d_class,
                                            &nn_reshape_class, &nn_zero_padding2d_class,
                                            &nn_cropping2d_class, &nn_upsampling2d_class,
                                            &nn_leaky_relu_class, &nn_elu_class,
                                            &nn_softmax_class, &nn_conv2d_transpose_class,
                                            &nn_depthwise_conv2d_class,
                                            &nn_spatial_dropout2d_class, &nn_layernorm_class,
                                            &nn_separable_conv2d_class, &nn_conv1d_class,
                                            &nn_maxpool1d_class, &nn_avgpool1d_class,
                                            &nn_global_average_pooling1d_class,
                                            &nn_global_max_pooling1d_class,
                                            &nn_zero_padding1d_class, &nn_cropping1d_class,
                                            &nn_upsampling1d_class, &nn_simple_rnn_class,
                                            &nn_lstm_class, &nn_gru_class,
                                            &nn_embedding_class, &nn_bidirectional_class,
                                            &nn_repeat_vector_class,
                                            &nn_spatial_dropout1d_class, &nn_permute_class,
                                            &nn_gaussian_noise_class,
                                            &nn_gaussian_dropout_class,
                                            &nn_activity_regularization_class,
                                            &nn_alpha_dropout_class,
                                            &nn_random_flip_class, &nn_random_rotation_class,
                                            &nn_random_translation_class,
                                            &nn_random_zoom_class, &nn_relu_class,
                                            &nn_masking_class, &nn_prelu_class,
                                            &nn_time_distributed_class,
                                            &nn_normalization_class, &nn_group_norm_class,
                                            &nn_random_contrast_class,
                                            &nn_random_brightness_class, &nn_resizing_class,
                                            &nn_center_crop_class, &nn_random_crop_class,
                                            &nn_identity_class, &nn_unit_normalization_class,
                                            &nn_category_encoding_class,
                                            &nn_discretization_class, &nn_rms_norm_class,
                                            &nn_depthwise_conv1d_class,
                                            &nn_conv1d_transpose_class,
                                            &nn_separable_conv1d_class,
                                            &nn_maxpool3d_class, &nn_avgpool3d_class,
                                            &nn_global_average_pooling3d_class,
                                            &nn_global_max_pooling3d_class,
                                            &nn_zero_padding3d_class, &nn_cropping3d_class,
                                            &nn_upsampling3d_class,
                                            &nn_spatial_dropout3d_class,
                                            &nn_conv3d_class,
                                            &nn_conv3d_transpose_class};
    const nn_layer_class *const *classes = nn_layer_classes();
    for (int i = 0; classes[i]; i++) {
        bool found = false;
        for (size_t t = 0; t < sizeof tested / sizeof tested[0]; t++)
            found |= tested[t] == classes[i];
        cr_expect(found, "layer class %s has no round-trip test", classes[i]->name);
    }
}

/* ---- every optimizer ---- */

static void optimizer_round_trip(const char *name, nn_optimizer_config config)
{
    nn_optimizer_kind kind;
    cr_assert_eq(nn_optimizer_parse(name, &kind), NN_OK);
    if (kind != config.kind || strcmp(nn_optimizer_name(kind), name) != 0)
        cr_skip_test("optimizer %s is a stub in this tree", name);
    nn_model *model;
    cr_assert_eq(nn_model_create(&model, "optimizer_test"), NN_OK);
    nn_layer *first = dense(6, "relu");
    set_input(first, NN_SHAPE(5));
    add(model, first);
    add(model, dense(3, NULL));
    nn_shape input = NN_SHAPE(5);
    round_trip(model, &input, config, name);
    nn_model_release(model);
}

Test(model_file, sgd_with_nesterov_momentum_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.momentum = 0.9, config.nesterov = true, config.clipnorm = 1.0;
    optimizer_round_trip("sgd", config);
}

Test(model_file, adam_with_amsgrad_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
    config.amsgrad = true, config.learning_rate = 0.003;
    optimizer_round_trip("adam", config);
}

Test(model_file, adamw_round_trips)
{
    optimizer_round_trip("adamw", nn_optimizer_defaults(NN_OPTIMIZER_ADAMW));
}

Test(model_file, centered_rmsprop_with_momentum_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_RMSPROP);
    config.centered = true, config.momentum = 0.5, config.clipvalue = 0.5;
    optimizer_round_trip("rmsprop", config);
}

/* Every schedule kind, written as Keras writes one and read back: the second file is the
 * first byte for byte, and both models go on with the same rates. */
Test(model_file, learning_rate_schedules_round_trip)
{
    for (int kind = 1; kind < NN_SCHEDULE_COUNT; kind++) {
        nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAM);
        nn_schedule *s = &config.schedule;
        *s = nn_schedule_defaults((nn_schedule_kind)kind);
        s->initial_learning_rate = 0.01, s->decay_steps = 3, s->decay_rate = 0.5;
        s->staircase = kind == NN_SCHEDULE_INVERSE_TIME_DECAY;
        s->cycle = true, s->power = 2, s->alpha = 0.1, s->m_mul = 0.5;
        if (kind == NN_SCHEDULE_COSINE_DECAY)
            s->warmup = true, s->warmup_target = 0.02, s->warmup_steps = 2;
        s->boundary_count = 2;
        s->boundaries[0] = 2, s->boundaries[1] = 4;
        s->values[0] = 0.01, s->values[1] = 0.005, s->values[2] = 0.001;
        optimizer_round_trip("adam", config);
    }
}

/* An optimizer's settings from JSON text: read, or the error. */
static nn_status read_optimizer_text(const char *text, nn_optimizer_config *config)
{
    cJSON *json;
    cr_assert_eq(nn_json_parse_text(&json, text, "test", "the optimizer"), NN_OK);
    nn_status status = nn_json_optimizer_read(config, json, "test.nnsh");
    cJSON_Delete(json);
    return status;
}

/* A file from before a setting existed reads that optimizer's own default for it. */
Test(model_file, missing_optimizer_settings_read_the_kinds_defaults)
{
    nn_optimizer_config config;
    cr_assert_eq(read_optimizer_text("{\"name\": \"adadelta\"}", &config), NN_OK, "%s",
                 nn_error_message());
    cr_expect(config.kind == NN_OPTIMIZER_ADADELTA && config.rho == 0.95 &&
              config.learning_rate == 0.001 && config.epsilon == 1e-7, "adadelta rho %g",
              config.rho);
    cr_assert_eq(read_optimizer_text("{\"name\": \"lion\", \"rho\": 0.9}", &config), NN_OK);
    cr_expect(config.beta_1 == 0.9 && config.beta_2 == 0.99, "lion beta_2 %g", config.beta_2);
    cr_assert_eq(read_optimizer_text("{\"name\": \"ftrl\", \"global_clipnorm\": 0}", &config),
                 NN_OK, "%s", nn_error_message());
    cr_expect(config.learning_rate_power == -0.5 && config.initial_accumulator_value == 0.1 &&
              config.l1_regularization_strength == 0.0 && config.beta == 0.0);
    cr_assert_eq(read_optimizer_text("{\"name\": \"ftrl\", \"learning_rate_power\": -0.25, "
                                     "\"beta\": 0.5}", &config), NN_OK, "%s", nn_error_message());
    cr_expect(config.learning_rate_power == -0.25 && config.beta == 0.5);
    cr_expect_neq(read_optimizer_text("{\"name\": \"ftrl\", \"learning_rate_power\": 0.5}",
                                      &config), NN_OK);
    cr_expect(strstr(nn_error_message(), "learning_rate_power must be in [-1e+30, 0], got 0.5"),
              "%s", nn_error_message());
    cr_expect_neq(read_optimizer_text("{\"name\": \"ftrl\", \"l1_regularization_strength\": -1}",
                                      &config), NN_OK);
    cr_expect(strstr(nn_error_message(), "l1_regularization_strength must be >= 0, got -1"), "%s",
              nn_error_message());
    cr_expect_neq(read_optimizer_text("{\"name\": \"nadam\", \"beta_2\": 1}", &config), NN_OK);
    cr_expect(strstr(nn_error_message(), "nadam: beta_2 must be in [0, 1), got 1"), "%s",
              nn_error_message());
}

/* An optimizer whose learning_rate is `schedule` (JSON text): read, or the error. */
static nn_status read_scheduled(const char *schedule, nn_optimizer_config *config)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"name\": \"sgd\", \"learning_rate\": %s}", schedule);
    cJSON *json;
    cr_assert_eq(nn_json_parse_text(&json, text, "test", "the optimizer"), NN_OK);
    nn_status status = nn_json_optimizer_read(config, json, "test.nnsh");
    cJSON_Delete(json);
    return status;
}

Test(model_file, schedules_in_files_are_read_strictly_and_take_keras_extra_keys)
{
    nn_optimizer_config config;
    /* Keras' own serialization: module, registered_name and the schedule's name. */
    cr_expect_eq(read_scheduled("{\"module\": \"keras.optimizers.schedules\", "
                                "\"class_name\": \"ExponentialDecay\", \"config\": "
                                "{\"initial_learning_rate\": 0.1, \"decay_steps\": 10, "
                                "\"decay_rate\": 0.5, \"staircase\": false, \"name\": "
                                "\"ExponentialDecay\"}, \"registered_name\": null}",
                                &config),
                 NN_OK, "%s", nn_error_message());
    cr_expect_eq(config.schedule.kind, NN_SCHEDULE_EXPONENTIAL_DECAY);
    cr_expect_float_eq(config.learning_rate, 0.1, 1e-15, "the rate of step 0");
    struct {
        const char *schedule, *fragment;
    } bad[] = {
        {"{\"class_name\": \"ExponentialDecay\", \"config\": {\"decay_steps\": 10}}",
         "ExponentialDecay lacks its setting 'initial_learning_rate'"},
        {"{\"class_name\": \"CosineDecay\", \"config\": {\"initial_learning_rate\": 0.1, "
         "\"decay_steps\": 10, \"alpha\": 0.1, \"alpha\": 0.9}}",
         "CosineDecay has 'alpha' twice"},
        {"{\"class_name\": \"PiecewiseConstantDecay\", \"config\": {\"values\": [1]}}",
         "needs both boundaries and values"},
        {"{\"class_name\": \"PiecewiseConstantDecay\", \"config\": {\"boundaries\": [1], "
         "\"values\": [1, 2, 3]}}",
         "3 values for 1 boundaries"},
        {"{\"class_name\": \"CosineDecay\", \"config\": {\"initial_learning_rate\": 0.1, "
         "\"decay_steps\": 10, \"decay_rate\": 0.5}}",
         "CosineDecay has no setting 'decay_rate'"},
        {"{\"class_name\": \"StepDecay\", \"config\": {}}", "unknown learning-rate schedule"},
        {"{\"class_name\": \"CosineDecayRestarts\", \"config\": {\"initial_learning_rate\": "
         "0.1, \"first_decay_steps\": 10, \"t_mul\": 0.5}}",
         "t_mul must be a number >= 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_neq(read_scheduled(bad[i].schedule, &config), NN_OK, "accepted: %s",
                      bad[i].schedule);
        cr_expect(strstr(nn_error_message(), bad[i].fragment) != NULL,
                  "expected \"%s\" in: %s", bad[i].fragment, nn_error_message());
        cr_expect(strstr(nn_error_message(), "test.nnsh") != NULL, "names the file: %s",
                  nn_error_message());
    }
}

Test(model_file, optimizer_settings_in_files_keep_to_the_ranges_compile_takes)
{
    struct {
        const char *settings, *fragment;
    } cases[] = {
        {"\"name\": \"adam\", \"learning_rate\": 1e300", "learning_rate must be in [0, 1e+30]"},
        {"\"name\": \"adam\", \"epsilon\": 1e308", "epsilon must be in [0, 1]"},
        {"\"name\": \"adamw\", \"weight_decay\": 1e308", "weight_decay must be in [0, 1e+06]"},
        {"\"name\": \"sgd\", \"clipnorm\": 1e308", "clipnorm must be in [0, 1e+30]"},
        {"\"name\": \"sgd\", \"momentum\": 5", "momentum must be in [0, 1]"},
        {"\"name\": \"adam\", \"clipnorm\": 1, \"clipvalue\": 1", "only one of clipnorm"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "{%s}", cases[i].settings);
        cJSON *json;
        cr_assert_eq(nn_json_parse_text(&json, text, "test", "the optimizer"), NN_OK);
        nn_optimizer_config config;
        cr_expect_eq(nn_json_optimizer_read(&config, json, "test.nnsh"), NN_ERR_FORMAT,
                     "accepted: %s", text);
        cr_expect(strstr(nn_error_message(), cases[i].fragment) != NULL &&
                      strstr(nn_error_message(), "test.nnsh") != NULL,
                  "expected \"%s\" and the file in: %s", cases[i].fragment, nn_error_message());
        cJSON_Delete(json);
    }
}

/* A layer from its JSON config (as Keras writes one), or the error. */
static nn_status read_layer(const char *text, nn_layer **layer)
{
    cJSON *json;
    cr_assert_eq(nn_json_parse_text(&json, text, "test", "the layer"), NN_OK);
    nn_status status = nn_json_layer_read(layer, json, "test.nnsh");
    cJSON_Delete(json);
    return status;
}

/* Sizes of the wrong count, sides of the wrong shape and repeated axes in a file are
 * errors that say what came. */
Test(model_file, sizes_sides_and_axes_of_the_wrong_length_are_refused_clearly)
{
    const struct { const char *text, *fragment; } bad[] = {
        {"{\"class_name\": \"Conv3D\", \"config\": {\"filters\": 2, \"kernel_size\": [3, 3]}}",
         "kernel_size must be a list [a, b, c], got a list of 2"},
        {"{\"class_name\": \"MaxPooling3D\", \"config\": {\"strides\": [1, 1, 1, 1]}}",
         "strides must be a list [a, b, c], got a list of 4"},
        {"{\"class_name\": \"Conv2D\", \"config\": {\"filters\": 2, \"kernel_size\": 3}}",
         "kernel_size must be a pair [a, b], got a number"},
        {"{\"class_name\": \"ZeroPadding3D\", \"config\": {\"padding\": [[1, 1], [1, 1]]}}",
         "padding must be [[front, back], [top, bottom], [left, right]], got a list"},
        {"{\"class_name\": \"Cropping3D\", \"config\": {\"cropping\": [[1, 1], [1], [1, 1]]}}",
         "cropping must be a pair [a, b], got a list of 1"},
        {"{\"class_name\": \"LayerNormalization\", \"config\": {\"axis\": []}}",
         "axis must be an axis or a list of 1 to 8 axes, got 0"},
        {"{\"class_name\": \"LayerNormalization\", \"config\": {\"axis\": [2, 2]}}",
         "axis lists axis 2 twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_layer *layer = NULL;
        cr_expect_neq(read_layer(bad[i].text, &layer), NN_OK, "accepted: %s", bad[i].text);
        cr_expect(strstr(nn_error_message(), bad[i].fragment) != NULL,
                  "expected \"%s\" in: %s", bad[i].fragment, nn_error_message());
        nn_layer_release(layer);
    }
}

Test(model_file, augmentation_factors_read_as_keras_writes_them)
{
    /* Keras keeps a factor as given: one number f is -|f| to |f|, a range may come upper
     * bound first. */
    nn_layer *layer;
    cr_assert_eq(read_layer("{\"class_name\": \"RandomZoom\", \"config\": {\"height_factor\": "
                            "-0.2, \"width_factor\": [0.3, -0.1], \"name\": \"z\"}}",
                            &layer),
                 NN_OK, "%s", nn_error_message());
    const float *height = nn_layer_arg_pointer(layer, arg(layer, "height_factor"));
    const float *width = nn_layer_arg_pointer(layer, arg(layer, "width_factor"));
    cr_expect(height[0] == -0.2f && height[1] == 0.2f, "height (%g, %g)", (double)height[0],
              (double)height[1]);
    cr_expect(width[0] == -0.1f && width[1] == 0.3f, "width (%g, %g)", (double)width[0],
              (double)width[1]);
    nn_layer_release(layer);
    cr_expect_neq(read_layer("{\"class_name\": \"RandomRotation\", \"config\": {\"factor\": "
                             "[-0.5, 2], \"name\": \"r\"}}",
                             &layer),
                  NN_OK);
    cr_expect(strstr(nn_error_message(), "test.nnsh") != NULL &&
                  strstr(nn_error_message(), "factor=[-0.5, 2] is out of range") != NULL,
              "%s", nn_error_message());
}

Test(model_file, a_wrapped_layer_is_an_entry_in_the_wrappers_config)
{
    nn_layer *layer;
    cr_assert_eq(read_layer("{\"class_name\": \"TimeDistributed\", \"config\": {\"name\": "
                            "\"td\", \"layer\": {\"class_name\": \"Dense\", \"config\": "
                            "{\"units\": 5, \"name\": \"d\"}}}}",
                            &layer),
                 NN_OK, "%s", nn_error_message());
    const nn_layer *inner = nn_time_distributed_inner(layer);
    cr_assert(inner && inner->cls == &nn_dense_class);
    cr_expect_eq(*(const int *)nn_layer_arg_pointer((nn_layer *)inner,
                                                    arg((nn_layer *)inner, "units")),
                 5);
    cr_expect_str_eq(inner->name, "d");
    cr_expect_str_eq(layer->name, "td");
    nn_layer_release(layer);

    static const struct {
        const char *text, *fragment;
    } bad[] = {
        {"{\"class_name\": \"TimeDistributed\", \"config\": {\"name\": \"td\"}}",
         "the config has no 'layer'"},
        {"{\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": {\"class_name\": "
         "\"Dense\", \"config\": {\"units\": -1}}}}",
         "units"},
        {"{\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": 3}}",
         "its layer"},
        {"{\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": {\"class_name\": "
         "\"Dense\", \"config\": {\"units\": 2, \"input_shape\": [4]}}}}",
         "takes no input_shape"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        layer = NULL;
        cr_expect_neq(read_layer(bad[i].text, &layer), NN_OK, "%s", bad[i].text);
        cr_expect(layer == NULL);
        cr_expect(strstr(nn_error_message(), bad[i].fragment) != NULL &&
                      strstr(nn_error_message(), "test.nnsh") != NULL,
                  "expected \"%s\" in: %s", bad[i].fragment, nn_error_message());
    }

    /* Wrappers nest 8 deep at most: the reader's recursion has a bound. */
    char deep[2048] = "", tail[256] = "";
    for (int depth = 0; depth < 10; depth++) {
        strcat(deep, "{\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": ");
        strcat(tail, "}}");
    }
    strcat(deep, "{\"class_name\": \"Flatten\", \"config\": {}}");
    strcat(deep, tail);
    cr_expect_neq(read_layer(deep, &layer), NN_OK);
    cr_expect(strstr(nn_error_message(), "nest more than 8 deep") != NULL, "%s",
              nn_error_message());

    /* A fault 8 wrappers down names every step of the way, none cut off. */
    strcpy(deep, ""), strcpy(tail, "");
    for (int depth = 0; depth < 8; depth++) {
        strcat(deep, "{\"class_name\": \"TimeDistributed\", \"config\": {\"layer\": ");
        strcat(tail, "}}");
    }
    strcat(deep, "{\"class_name\": \"Dense\", \"config\": {\"units\": -1}}");
    strcat(deep, tail);
    cJSON *json;
    cr_assert_eq(nn_json_parse_text(&json, deep, "test", "the layer"), NN_OK);
    const char *where = "/home/someone/experiments/2026/november/checkpoints/model.nnsh: layer 3";
    cr_expect_neq(nn_json_layer_read(&layer, json, where), NN_OK);
    cJSON_Delete(json);
    const char *message = nn_error_message();
    int steps = 0;
    for (const char *at = message; (at = strstr(at, "(TimeDistributed), its layer")); at++)
        steps++;
    cr_expect_eq(steps, 8, "%s", message);
    cr_expect(strstr(message, "its layer (Dense): ") != NULL &&
                  strstr(message, "units") != NULL,
              "%s", message);
}

Test(model_file, adagrad_round_trips)
{
    optimizer_round_trip("adagrad", nn_optimizer_defaults(NN_OPTIMIZER_ADAGRAD));
}

/* Nadam's momentum product is not saved: it follows from the step count, which is. */
Test(model_file, nadam_with_clipnorm_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_NADAM);
    config.clipnorm = 0.5, config.learning_rate = 0.01;
    optimizer_round_trip("nadam", config);
}

Test(model_file, adamax_with_weight_decay_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADAMAX);
    config.weight_decay = 0.1, config.beta_2 = 0.9;
    optimizer_round_trip("adamax", config);
}

Test(model_file, adadelta_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_ADADELTA);
    config.learning_rate = 1.0, config.rho = 0.9;
    optimizer_round_trip("adadelta", config);
}

Test(model_file, ftrl_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_FTRL);
    config.learning_rate = 0.05, config.learning_rate_power = -0.4;
    config.l1_regularization_strength = 0.01, config.l2_regularization_strength = 0.02;
    config.l2_shrinkage_regularization_strength = 0.03, config.beta = 0.1;
    optimizer_round_trip("ftrl", config);
}

Test(model_file, lion_with_global_clipnorm_round_trips)
{
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_LION);
    config.global_clipnorm = 1.0, config.beta_1 = 0.8;
    optimizer_round_trip("lion", config);
}

/* ---- every argument of every class, through the JSON config ---- */

static char *config_text(const nn_layer *layer)
{
    cJSON *json = nn_json_layer_write(layer);
    cr_assert(json, "%s", nn_error_message());
    char *text = cJSON_PrintUnformatted(json);
    cJSON_Delete(json);
    return text;
}

/* Gives the argument a valid value other than its default. Returns false when this tree
 * cannot express one (a stub parser that knows no constraint names). */
static bool change_arg(nn_layer *layer, const nn_arg_spec *spec)
{
    void *field = nn_layer_arg_pointer(layer, spec);
    int count = 0;
    switch (spec->kind) {
    case NN_ARG_INT: {
        int *value = field;
        *value = *value + 2 <= spec->max ? *value + 2 : (int)spec->min;
        break;
    }
    case NN_ARG_OPTIONAL_INT:
        ((nn_optional_int *)field)->present = true;
        /* Far from the default where the range allows (a seed), else its top (an axis). */
        ((nn_optional_int *)field)->value = spec->max >= spec->min + 12345
                                                ? (int64_t)spec->min + 12345
                                                : (int64_t)spec->max;
        break;
    case NN_ARG_OPTIONAL_FLOATS: {
        nn_optional_floats *floats = field;
        *floats = (nn_optional_floats){.present = true, .list = true, .count = 2};
        floats->values[0] = (float)spec->min + 0.375f;
        floats->values[1] = (float)spec->min + 1.5f;
        break;
    }
    case NN_ARG_OPTIONAL_FLOAT:
        ((nn_optional_float *)field)->present = true;
        ((nn_optional_float *)field)->value = (float)spec->min + 0.375f;
        break;
    case NN_ARG_FLOAT: {
        double high = spec->max > 1e6 ? spec->min + 10.0 : spec->max;
        *(float *)field = (float)(spec->min + (high - spec->min) * 0.37);
        break;
    }
    case NN_ARG_BOOL: *(bool *)field = !*(bool *)field; break;
    case NN_ARG_CHOICE:
        while (spec->choices[count])
            count++;
        *(int *)field = (*(int *)field + 1) % count;
        return count > 1; /* a choice of one (Resizing's fill_mode) cannot change */
    case NN_ARG_PAIR:
    case NN_ARG_OPTIONAL_PAIR: ((int *)field)[0] = 2, ((int *)field)[1] = 3; break;
    case NN_ARG_TRIPLE:
    case NN_ARG_OPTIONAL_TRIPLE: {
        int *triple = field;
        triple[0] = 2, triple[1] = 3, triple[2] = 1;
        break;
    }
    case NN_ARG_SIDES:
    case NN_ARG_SIDES3: {
        int *sides = field;
        sides[0] = 1, sides[1] = 2, sides[2] = 0, sides[3] = 3;
        if (spec->kind == NN_ARG_SIDES3)
            sides[4] = 2, sides[5] = 1;
        break;
    }
    case NN_ARG_FACTOR: ((float *)field)[0] = -0.125f, ((float *)field)[1] = 0.25f; break;
    case NN_ARG_TARGET_SHAPE:
    case NN_ARG_SHAPE:
        *(nn_shape *)field = spec->min < 0 ? NN_SHAPE(-1, 3) : NN_SHAPE(5, 6);
        break;
    case NN_ARG_AXIS: *(int *)field = *(int *)field == 1 ? -1 : 1; break;
    case NN_ARG_AXES: { /* the same last axis, written as a list */
        nn_axes *axes = field;
        axes->list = true, axes->count = 1, axes->values[0] = -1;
        break;
    }
    case NN_ARG_ACTIVATION: {
        nn_activation *activation = field;
        cr_assert_eq(nn_activation_parse("leaky_relu", activation), NN_OK);
        activation->alpha = 0.125f;
        break;
    }
    case NN_ARG_INITIALIZER: {
        nn_initializer *initializer = field;
        cr_assert_eq(nn_initializer_parse("random_normal", initializer), NN_OK);
        initializer->a = 0.25, initializer->b = 0.125;
        initializer->has_seed = true, initializer->seed = UINT64_C(18446744073709551557);
        break;
    }
    case NN_ARG_REGULARIZER:
        ((nn_regularizer *)field)->l1 = 0.01f, ((nn_regularizer *)field)->l2 = 0.1f;
        break;
    case NN_ARG_CONSTRAINT: {
        nn_constraint *constraint = field;
        cr_assert_eq(nn_constraint_parse("max_norm", constraint), NN_OK);
        constraint->max_value = 3.0f, constraint->axes = 3u;
        return constraint->kind != NN_CONSTRAINT_NONE;
    }
    case NN_ARG_STRING: snprintf(field, NN_NAME_CAPACITY, "custom_%s", spec->name); break;
    }
    return true;
}

Test(model_file, every_argument_of_every_layer_class_round_trips)
{
    const nn_layer_class *const *classes = nn_layer_classes();
    int checked = 0;
    for (int c = 0; classes[c]; c++) {
        const nn_layer_class *cls = classes[c];
        for (int a = 0; a < cls->arg_count; a++) {
            nn_layer *layer = new_layer(cls);
            nn_layer *plain = new_layer(cls);
            layer->seed = plain->seed = 5, layer->stream = plain->stream = UINT64_C(1) << 60;
            /* Required arguments get a valid value in both. */
            for (int r = 0; r < cls->arg_count; r++) {
                if (!cls->args[r].required || r == a)
                    continue;
                change_arg(layer, &cls->args[r]);
                change_arg(plain, &cls->args[r]);
                /* 6 filters or units: divisible by the groups the test gives Conv2D. */
                if (cls->args[r].kind == NN_ARG_INT && cls->args[r].max >= 6)
                    set_int(layer, cls->args[r].name, 6), set_int(plain, cls->args[r].name, 6);
            }
            bool changed_anything = change_arg(layer, &cls->args[a]);
            if (cls->validate && cls->validate(layer) != NN_OK) {
                cr_log_info("%s.%s: the changed value is not valid alone (%s); skipped",
                            cls->name, cls->args[a].name, nn_error_message());
                nn_layer_release(layer);
                nn_layer_release(plain);
                continue;
            }
            char *changed = config_text(layer), *original = config_text(plain);
            if (changed_anything)
                cr_expect_str_neq(changed, original, "%s.%s: the change does not show in the "
                                  "config", cls->name, cls->args[a].name);
            cJSON *json = cJSON_Parse(changed);
            nn_layer *read = NULL;
            cr_expect_eq(nn_json_layer_read(&read, json, "test"), NN_OK, "%s.%s: %s", cls->name,
                         cls->args[a].name, nn_error_message());
            if (read) {
                char *again = config_text(read);
                cr_expect_str_eq(again, changed, "%s.%s does not round-trip", cls->name,
                                 cls->args[a].name);
                free(again);
                nn_layer_release(read);
            }
            cJSON_Delete(json);
            free(changed);
            free(original);
            nn_layer_release(layer);
            nn_layer_release(plain);
            checked++;
        }
    }
    cr_log_info("%d arguments round-tripped", checked);
}

/* ---- models without weights, weights files, backups, failures ---- */

Test(model_file, an_unbuilt_model_saves_and_loads_its_architecture)
{
    nn_model *model;
    cr_assert_eq(nn_model_create(&model, "later"), NN_OK);
    add(model, dense(4, "relu"));
    add(model, dense(2, "softmax"));
    char first[512], second[512];
    temp_path(first, sizeof first, "unbuilt.safetensors");
    temp_path(second, sizeof second, "unbuilt2.safetensors");
    cr_assert_eq(nn_model_save(model, first, true), NN_OK, "%s", nn_error_message());
    nn_model *copy;
    cr_assert_eq(nn_model_load(&copy, first, true), NN_OK, "%s", nn_error_message());
    cr_expect(!copy->built);
    cr_expect_eq(copy->layer_count, 2);
    cr_expect_str_eq(copy->name, "later");
    cr_assert_eq(nn_model_save(copy, second, true), NN_OK);
    expect_same_file(first, second);
    /* Building it later gives the weights the original gets: the streams were kept. */
    nn_shape input = NN_SHAPE(-1, 3);
    cr_assert_eq(nn_model_build(model, &input), NN_OK);
    cr_assert_eq(nn_model_build(copy, &input), NN_OK);
    expect_same_state(model, copy, "built after loading");
    unlink(first);
    unlink(second);
    nn_model_release(model);
    nn_model_release(copy);
}

static nn_model *small_built_model(int hidden)
{
    nn_model *model;
    cr_assert_eq(nn_model_create(&model, "small"), NN_OK);
    nn_layer *first = dense(hidden, "relu");
    set_input(first, NN_SHAPE(5));
    add(model, first);
    add(model, dense(3, NULL));
    return model;
}

Test(model_file, weights_files_round_trip_and_a_mismatch_changes_nothing)
{
    nn_model *model = small_built_model(6), *other = small_built_model(6);
    nn_model *different = small_built_model(7);
    char path[512];
    temp_path(path, sizeof path, "weights.safetensors");
    cr_assert_eq(nn_model_save_weights(model, path), NN_OK, "%s", nn_error_message());
    cr_assert_eq(nn_model_load_weights(other, path), NN_OK, "%s", nn_error_message());
    cr_expect(memcmp(nn_model_weights(model), nn_model_weights(other),
                     model->weight_count * sizeof(float)) == 0);
    cr_assert(nn_model_weights(different)); /* gathers them, so weight_count is known */
    float *before = malloc(different->weight_count * sizeof(float));
    memcpy(before, nn_model_weights(different), different->weight_count * sizeof(float));
    cr_expect_eq(nn_model_load_weights(different, path), NN_ERR_FORMAT);
    cr_expect(strstr(nn_error_message(), "dense/kernel") != NULL, "%s", nn_error_message());
    cr_expect(memcmp(before, nn_model_weights(different),
                     different->weight_count * sizeof(float)) == 0,
              "a failed load_weights changed the model");
    nn_model *loaded = NULL;
    cr_expect_eq(nn_model_load(&loaded, path, true), NN_ERR_FORMAT);
    cr_expect(strstr(nn_error_message(), "only weights") != NULL, "%s", nn_error_message());
    free(before);
    unlink(path);
    nn_model_release(model);
    nn_model_release(other);
    nn_model_release(different);
}

Test(model_file, layers_sharing_a_name_cannot_be_saved_and_nothing_is_written)
{
    nn_model *model;
    cr_assert_eq(nn_model_create(&model, "twins"), NN_OK);
    nn_layer *first = dense(4, NULL), *second = dense(4, NULL);
    set_input(first, NN_SHAPE(4));
    snprintf(first->name, NN_NAME_CAPACITY, "twin");
    snprintf(second->name, NN_NAME_CAPACITY, "other");
    first->named_by_user = second->named_by_user = true;
    add(model, first);
    add(model, second);
    /* A model refuses a second "twin" when adding; a rename afterwards gets past that. */
    snprintf(second->name, NN_NAME_CAPACITY, "twin");
    char path[512];
    temp_path(path, sizeof path, "twins.safetensors");
    unlink(path);
    cr_expect_eq(nn_model_save(model, path, true), NN_ERR_ARGUMENT);
    cr_expect(strstr(nn_error_message(), "both named \"twin\"") != NULL, "%s",
              nn_error_message());
    cr_expect_neq(access(path, F_OK), 0, "a failed save left a file");
    nn_model_release(model);
}

/* The same "script" twice: build, compile, and either train 4 epochs, or train 2, back
 * up, start again from scratch, restore and train the last 2. */
static nn_model *scripted_model(void)
{
    nn_random_seed(2024);
    nn_model *model = small_built_model(8);
    nn_optimizer_config config = nn_optimizer_defaults(NN_OPTIMIZER_SGD);
    config.momentum = 0.8;
    compile(model, config);
    return model;
}

Test(model_file, a_restored_backup_finishes_like_an_uninterrupted_run)
{
    nn_tensor *x = random_tensor(NN_SHAPE(40, 5), 3), *y = random_tensor(NN_SHAPE(40, 3), 4);
    nn_model *straight = scripted_model();
    fit(straight, x, y, 0, 4);

    char path[512];
    temp_path(path, sizeof path, "backup.safetensors");
    nn_model *interrupted = scripted_model();
    fit(interrupted, x, y, 0, 2);
    cr_assert_eq(nn_model_save_backup(interrupted, path, 2), NN_OK, "%s", nn_error_message());
    nn_model_release(interrupted);

    nn_model *resumed = scripted_model();
    int epochs_done = -1;
    cr_assert_eq(nn_model_restore_backup(resumed, path, &epochs_done), NN_OK, "%s",
                 nn_error_message());
    cr_expect_eq(epochs_done, 2);
    fit(resumed, x, y, epochs_done, 4);
    expect_same_state(straight, resumed, "resumed run");

    /* A backup does not fit a model of another shape, and that changes nothing. */
    nn_model *other = small_built_model(9);
    compile(other, nn_optimizer_defaults(NN_OPTIMIZER_SGD));
    cr_assert(nn_model_weights(other));
    float *before = malloc(other->weight_count * sizeof(float));
    memcpy(before, nn_model_weights(other), other->weight_count * sizeof(float));
    cr_expect_neq(nn_model_restore_backup(other, path, &epochs_done), NN_OK);
    cr_expect(memcmp(before, nn_model_weights(other), other->weight_count * sizeof(float)) == 0);
    free(before);
    nn_model_release(other);
    unlink(path);
    nn_model_release(straight);
    nn_model_release(resumed);
    nn_tensor_free(x);
    nn_tensor_free(y);
}

Test(model_file, a_model_file_is_not_a_backup)
{
    nn_model *model = scripted_model();
    char path[512];
    temp_path(path, sizeof path, "not-backup.safetensors");
    cr_assert_eq(nn_model_save(model, path, true), NN_OK);
    int epochs_done;
    cr_expect_eq(nn_model_restore_backup(model, path, &epochs_done), NN_ERR_FORMAT);
    cr_expect(strstr(nn_error_message(), "not a training backup") != NULL, "%s",
              nn_error_message());
    unlink(path);
    nn_model_release(model);
}
