/* STUB: to be replaced by the real BatchNormalization layer. */
#include "layers.h"

static void stub_set_defaults(nn_layer *layer) { (void)layer; }
static nn_status stub_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    (void)input;
    (void)output;
    return nn_error(NN_ERR_STATE, "layer \"%s\": BatchNormalization is not implemented yet", layer->name);
}

const nn_layer_class nn_batchnorm_class = {
    .name = "BatchNormalization",
    .base_name = "batch_normalization",
    .size = sizeof(nn_layer),
    .set_defaults = stub_set_defaults,
    .build = stub_build,
};
