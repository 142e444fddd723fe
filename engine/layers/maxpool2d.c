/* STUB: to be replaced by the real MaxPooling2D layer. */
#include "layers.h"

static void stub_set_defaults(nn_layer *layer) { (void)layer; }
static nn_status stub_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    (void)input;
    (void)output;
    return nn_error(NN_ERR_STATE, "layer \"%s\": MaxPooling2D is not implemented yet", layer->name);
}

const nn_layer_class nn_maxpool2d_class = {
    .name = "MaxPooling2D",
    .alias = "MaxPool2D",
    .base_name = "max_pooling2d",
    .size = sizeof(nn_layer),
    .set_defaults = stub_set_defaults,
    .build = stub_build,
};
