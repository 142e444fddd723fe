/* Model files: a whole model (architecture, weights, optimizer state, compile settings,
 * training counters) or only its weights, in one safetensors file that other tools can
 * read (engine/io/FILE_FORMAT.md). Writes are atomic; reads treat the file as hostile and
 * check every layer, shape and size before allocating anything for it.
 *
 *     NN_TRY(nn_model_save(model, "mnist.safetensors", true));
 *     nn_model *copy;
 *     NN_TRY(nn_model_load(&copy, "mnist.safetensors", true));  // predicts bit-identically
 *
 * A loaded model keeps each layer's random stream and the model's step counter, so it
 * goes on training exactly as the saved one would have. */
#ifndef NN_MODEL_FILE_H
#define NN_MODEL_FILE_H

#include <stdbool.h>

#include "../model.h"
#include "safetensors.h"

/* Tensor names: "<layer>/<weight>" (dense/kernel) and, for the optimizer's state,
 * "optimizer/<slot>/<layer>/<weight>" (optimizer/momentum/dense/kernel). */
#define NN_MODEL_FILE_VERSION "1"

/* Saves everything; include_optimizer=false leaves out the optimizer's state (the
 * compile settings stay). Fails, leaving any old file intact, when two layers share a
 * name or a name is not UTF-8. */
nn_status nn_model_save(nn_model *model, const char *path, bool include_optimizer);
/* A new model from a file saved by nn_model_save. With compile=false the compile
 * settings and optimizer state are ignored. */
nn_status nn_model_load(nn_model **out, const char *path, bool compile);
nn_status nn_model_load_from(nn_model **out, const nn_safetensors *file, bool compile);

/* The architecture as Keras' model.to_json() gives it, in the model file's form
 * ({"class_name": "Sequential", "config": {"name": ..., "layers": [...]},
 * "build_input_shape": ...}): no weights, compile settings or random streams. *out is
 * malloc'd text for the caller to free. */
nn_status nn_model_to_json(const nn_model *model, char **out);
/* A new, uncompiled model from such text (or a model file's nnsh.architecture), its
 * weights drawn afresh from the layers' initializers. */
nn_status nn_model_from_json(nn_model **out, const char *text);

/* Only the weights (built models). */
nn_status nn_model_save_weights(nn_model *model, const char *path);
/* Replaces the weights of a built model with those of a file (a weights file, a model
 * file, or any safetensors file whose F32 tensors are named "<layer>/<weight>" with the
 * model's shapes). Every weight must be there and nothing else; on any error the model
 * is unchanged. */
nn_status nn_model_load_weights(nn_model *model, const char *path);
nn_status nn_model_load_weights_from(nn_model *model, const nn_safetensors *file);

/* BackupAndRestore: a model file that also records how many epochs are complete. */
nn_status nn_model_save_backup(nn_model *model, const char *path, int epochs_done);
/* Puts a backup's training state back into a compiled model of the same architecture:
 * weights, optimizer state and learning rate, and the step counter. *epochs_done
 * receives the number of completed epochs. On error the model is unchanged. */
nn_status nn_model_restore_backup(nn_model *model, const char *path, int *epochs_done);

#endif
