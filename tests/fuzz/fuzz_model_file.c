/* libFuzzer harness for the model-file reader: the bytes are a safetensors file in
 * memory; it is opened, loaded as a model, loaded as weights into a fixed model, and
 * every tensor is read. Nothing may crash, leak, read out of bounds or allocate more
 * than the input justifies (ASan/UBSan and libFuzzer's memory limit watch). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/model_file.h"
#include "layers/layers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dense{4, input_shape={3}} named "dense", the weights many inputs pretend to hold. */
static nn_model *target_model(void)
{
    static nn_model *model;
    if (model)
        return model;
    nn_layer *layer;
    if (nn_model_create(&model, "target") != NN_OK ||
        nn_layer_create(&layer, &nn_dense_class) != NN_OK)
        abort();
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 4;
    *(nn_shape *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "input_shape")) =
        NN_SHAPE(3);
    layer->named_by_user = true;
    if (nn_layer_finish(layer) != NN_OK || nn_model_add(model, layer) != NN_OK)
        abort();
    nn_layer_release(layer);
    return model;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_safetensors file;
    if (nn_safetensors_open_memory(&file, data, size, "fuzz") != NN_OK)
        return 0;
    nn_model *model = NULL;
    if (nn_model_load_from(&model, &file, true) == NN_OK)
        nn_model_release(model);
    nn_model_load_weights_from(target_model(), &file);
    for (size_t i = 0; i < file.tensor_count; i++) {
        const nn_safetensors_tensor *tensor = &file.tensors[i];
        void *buffer = malloc(tensor->bytes ? tensor->bytes : 1);
        if (buffer && nn_safetensors_read(&file, tensor, buffer, tensor->bytes) != NN_OK)
            abort(); /* a validated file must read back */
        free(buffer);
    }
    nn_safetensors_close(&file);
    return 0;
}
