/* Layer, optimizer and compile settings as JSON (cJSON trees).
 *
 * Layer configurations are written by walking each class's nn_arg_spec table, so every
 * Keras argument of every layer kind is saved without per-layer code; they are read
 * back through the same specs with the checks the Lua constructors make (types, ranges,
 * choices, required arguments, unknown names), so a file can only describe a layer
 * that could have been built by hand. Class names come from the fixed list in C.
 *
 * Numbers: floats are written in their shortest round-trip form ("0.1", not
 * "0.10000000149011612"); 64-bit integers (seeds, counters) as JSON numbers up to 2^53
 * and as decimal strings beyond, so nothing is rounded. */
#ifndef NN_JSON_CONFIG_H
#define NN_JSON_CONFIG_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "../layer.h"
#include "../loss.h"
#include "../optimizer.h"

/* {"class_name": "Dense", "config": {every argument, "trainable"}, "random": {"seed",
 * "stream"}}. Returns NULL when memory runs out (the error is set). */
cJSON *nn_json_layer_write(const nn_layer *layer);
/* A new, unbuilt layer from such an entry. `where` starts every error message
 * ("model.safetensors: layer 2"). The layer keeps the saved random stream, so it draws
 * the numbers the saved one drew, and nothing is taken from the global generator. */
nn_status nn_json_layer_read(nn_layer **out, const cJSON *entry, const char *where);

/* {"name": "adam", "learning_rate": ..., every setting}. */
cJSON *nn_json_optimizer_write(const nn_optimizer_config *config);
nn_status nn_json_optimizer_read(nn_optimizer_config *out, const cJSON *json, const char *where);

/* {"name": "mse", "from_logits": false, "label_smoothing": 0}, and "delta" for huber
 * (a file without label_smoothing reads it as 0, a huber without delta as 1). */
cJSON *nn_json_loss_write(const nn_loss *loss);
nn_status nn_json_loss_read(nn_loss *out, const cJSON *json, const char *where);

/* ---- helpers shared with the model file ---- */

/* A 64-bit count as a number (up to 2^53) or a decimal string. */
cJSON *nn_json_uint64(uint64_t value);
nn_status nn_json_read_uint64(const cJSON *item, uint64_t *out, const char *where,
                              const char *field);
/* An integer in [low, high] (|bounds| <= 2^53). */
nn_status nn_json_read_integer(const cJSON *item, int64_t low, int64_t high, int64_t *out,
                               const char *where, const char *field);
/* A shape: a list of sizes, null for the batch axis (-1). */
cJSON *nn_json_shape(const nn_shape *shape);
nn_status nn_json_read_shape(const cJSON *item, nn_shape *out, const char *where,
                             const char *field);
/* Picks the members of an object by name: items[i] receives the member called names[i]
 * or NULL. A key not in names, or a key given twice (cJSON keeps both), is an error that
 * lists the valid names. Costs O(members x count), and stops at the first stray key. */
nn_status nn_json_fields(const cJSON *object, const char *const *names, int count,
                         const cJSON **items, const char *where, const char *what);
/* Parses JSON text that came from a file (a metadata value). Text with more values than
 * any nnsh file holds is refused before parsing (the tree costs many times the text),
 * as is anything after the value. */
nn_status nn_json_parse_text(cJSON **out, const char *text, const char *where,
                             const char *what);
/* "a string", "a number", ... for messages. */
const char *nn_json_type_name(const cJSON *item);

#endif
