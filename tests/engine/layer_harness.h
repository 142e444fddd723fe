/* Driving a layer through the generic API in tests: setting arguments by name through
 * the class's spec table, and running forward and backward with a hand-made nn_exec,
 * as a model would. Header-only (static inline) so each test links only what it uses. */
#ifndef NN_LAYER_HARNESS_H
#define NN_LAYER_HARNESS_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "layers/layers.h"
#include "test_support.h"

static inline void *harness_arg(nn_layer *layer, const char *name)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert(spec != NULL, "%s has no argument '%s'", layer->cls->name, name);
    return nn_layer_arg_pointer(layer, spec);
}

static inline void harness_set_int(nn_layer *layer, const char *name, int value)
{
    *(int *)harness_arg(layer, name) = value;
}

static inline void harness_set_pair(nn_layer *layer, const char *name, int first, int second)
{
    int *pair = harness_arg(layer, name);
    pair[0] = first;
    pair[1] = second;
}

static inline void harness_set_bool(nn_layer *layer, const char *name, bool value)
{
    *(bool *)harness_arg(layer, name) = value;
}

/* A choice argument ('padding', 'data_format') by its name, looked up in the spec. */
static inline void harness_set_choice(nn_layer *layer, const char *name, const char *choice)
{
    const nn_arg_spec *spec = nn_layer_class_arg(layer->cls, name);
    cr_assert(spec && spec->kind == NN_ARG_CHOICE, "'%s' is not a choice argument", name);
    for (int i = 0; spec->choices[i]; i++) {
        if (strcmp(spec->choices[i], choice) == 0) {
            *(int *)nn_layer_arg_pointer(layer, spec) = i;
            return;
        }
    }
    cr_assert_fail("'%s' is not a choice of '%s'", choice, name);
}

static inline void harness_set_activation(nn_layer *layer, nn_activation activation)
{
    *(nn_activation *)harness_arg(layer, "activation") = activation;
}

/* A float32 tensor of shape holding values (count must match). */
static inline nn_tensor *harness_tensor(const nn_shape *shape, const float *values)
{
    nn_tensor *tensor = NULL;
    cr_assert_eq(nn_tensor_create(&tensor, NN_DTYPE_F32, shape), NN_OK, "%s",
                 nn_error_message());
    if (values)
        memcpy(nn_tensor_f32(tensor), values, nn_tensor_bytes(tensor));
    return tensor;
}

/* One forward (and optionally backward) of a layer on a batch, outside any model. */
typedef struct harness_run {
    nn_exec exec;
    float *scratch;
    nn_tensor *output;
} harness_run;

/* Builds (first time), reserves, allocates scratch and runs forward. logits, when not
 * NULL, plays the model's last-layer buffer (output-sized). */
static inline nn_status harness_forward(harness_run *run, nn_layer *layer,
                                        const nn_tensor *input, bool training, float *logits)
{
    memset(run, 0, sizeof *run);
    NN_TRY(nn_layer_build(layer, &input->shape));
    int64_t batch = input->shape.dims[0];
    NN_TRY(nn_layer_reserve(layer, batch));
    size_t floats = nn_layer_scratch_floats(layer, nn_backend_cpu(), batch);
    run->scratch = aligned_alloc(64, ((floats > 0 ? floats : 1) * sizeof(float) + 63) / 64 * 64);
    cr_assert(run->scratch != NULL);
    nn_shape output_shape = layer->output_shape;
    output_shape.dims[0] = batch;
    run->output = harness_tensor(&output_shape, NULL);
    run->exec = (nn_exec){.backend = nn_backend_cpu(),
                          .training = training,
                          .seed = 1234,
                          .step = 0,
                          .scratch = run->scratch,
                          .scratch_floats = floats,
                          .logits = logits};
    return nn_layer_forward(layer, &run->exec, input, run->output);
}

/* Backward after harness_forward in training; dinput may be NULL (first layer). */
static inline nn_status harness_backward(harness_run *run, nn_layer *layer,
                                         const nn_tensor *input, const nn_tensor *doutput,
                                         nn_tensor *dinput, bool doutput_is_preactivation)
{
    run->exec.doutput_is_preactivation = doutput_is_preactivation;
    return nn_layer_backward(layer, &run->exec, input, run->output, doutput, dinput);
}

static inline void harness_run_free(harness_run *run)
{
    free(run->scratch);
    nn_tensor_free(run->output);
    memset(run, 0, sizeof *run);
}

/* Asserts that message contains every one of the NULL-terminated words. */
static inline void harness_assert_mentions(const char *message, const char *const *words)
{
    for (int i = 0; words[i]; i++)
        cr_assert(strstr(message, words[i]) != NULL, "expected \"%s\" in the message: %s",
                  words[i], message);
}
#define ASSERT_MENTIONS(message, ...) \
    harness_assert_mentions((message), (const char *const[]){__VA_ARGS__, NULL})

#endif
