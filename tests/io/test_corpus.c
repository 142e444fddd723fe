/* The corpus of malformed files (tests/io/corpus, written by make_corpus.py, plus inputs
 * the fuzzers found): every file is rejected by the model loader with a message that
 * names the file and the problem; the safetensors reader rejects exactly the st-* files,
 * from disk and from memory alike; and loading weights from any of them either works or
 * leaves the model untouched. Run under ASan in the sanitizer build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/model_file.h"
#include "layers/layers.h"

typedef struct corpus_entry {
    char name[512];
    char fragment[512];
} corpus_entry;

static int read_expected(corpus_entry *entries, int capacity)
{
    FILE *file = fopen(NNSH_CORPUS_DIR "/EXPECTED", "r");
    cr_assert(file, "cannot open %s/EXPECTED", NNSH_CORPUS_DIR);
    char line[512];
    int count = 0;
    while (fgets(line, sizeof line, file) && count < capacity) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        cr_assert(tab, "EXPECTED line without a tab: %s", line);
        *tab = '\0';
        snprintf(entries[count].name, sizeof entries[count].name, "%s", line);
        snprintf(entries[count].fragment, sizeof entries[count].fragment, "%s", tab + 1);
        count++;
    }
    fclose(file);
    return count;
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *file = fopen(path, "rb");
    cr_assert(file, "cannot open %s", path);
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char *data = malloc(length > 0 ? (size_t)length : 1);
    cr_assert(data);
    *size = fread(data, 1, (size_t)length, file);
    fclose(file);
    return data;
}

/* Dense{4, input_shape={3}} named "dense": the weights most corpus files pretend to hold. */
static nn_model *small_model(void)
{
    nn_model *model;
    nn_layer *layer;
    cr_assert_eq(nn_model_create(&model, "target"), NN_OK);
    cr_assert_eq(nn_layer_create(&layer, &nn_dense_class), NN_OK);
    *(int *)nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class, "units")) = 4;
    nn_shape *input = nn_layer_arg_pointer(layer, nn_layer_class_arg(&nn_dense_class,
                                                                      "input_shape"));
    *input = NN_SHAPE(3);
    layer->named_by_user = true;
    cr_assert_eq(nn_layer_finish(layer), NN_OK);
    cr_assert_eq(nn_model_add(model, layer), NN_OK, "%s", nn_error_message());
    nn_layer_release(layer);
    cr_assert(nn_model_weights(model));
    return model;
}

Test(corpus, every_malformed_file_is_rejected_with_a_message_naming_file_and_problem)
{
    static corpus_entry entries[512];
    int count = read_expected(entries, 512);
    cr_assert_geq(count, 30, "the corpus must hold at least 30 files, has %d", count);
    nn_model *target = small_model();
    float before[16];
    memcpy(before, nn_model_weights(target), sizeof before);
    for (int i = 0; i < count; i++) {
        char path[sizeof NNSH_CORPUS_DIR + 520];
        snprintf(path, sizeof path, "%s/%.500s", NNSH_CORPUS_DIR, entries[i].name);
        nn_model *model = NULL;
        nn_status status = nn_model_load(&model, path, true);
        const char *message = nn_error_message();
        cr_expect_neq(status, NN_OK, "%s: loaded, but it is malformed", entries[i].name);
        cr_expect_null(model, "%s: a model came back from a failed load", entries[i].name);
        cr_expect(strstr(message, path) != NULL, "%s: the message does not name the file: %s",
                  entries[i].name, message);
        cr_expect(strstr(message, entries[i].fragment) != NULL,
                  "%s: expected the message to say \"%s\", got: %s", entries[i].name,
                  entries[i].fragment, message);
        nn_model_release(model);

        /* The reader itself refuses exactly the files that break the format. */
        bool format_broken = strncmp(entries[i].name, "st-", 3) == 0;
        nn_safetensors file;
        status = nn_safetensors_open(&file, path);
        cr_expect_eq(status != NN_OK, format_broken, "%s: safetensors reader %s: %s",
                     entries[i].name, status == NN_OK ? "accepted it" : "refused it",
                     nn_error_message());
        if (status == NN_OK)
            nn_safetensors_close(&file);
        size_t size;
        unsigned char *data = read_file(path, &size);
        status = nn_safetensors_open_memory(&file, data, size, entries[i].name);
        cr_expect_eq(status != NN_OK, format_broken, "%s: reading from memory differs",
                     entries[i].name);
        if (status == NN_OK) {
            nn_model *from_memory = NULL;
            cr_expect_neq(nn_model_load_from(&from_memory, &file, true), NN_OK,
                          "%s: loaded from memory", entries[i].name);
            nn_model_release(from_memory);
            nn_safetensors_close(&file);
        }
        free(data);

        /* Loading weights either succeeds (the file holds dense/kernel and dense/bias) or
         * changes nothing. */
        if (nn_model_load_weights(target, path) != NN_OK)
            cr_expect(memcmp(before, nn_model_weights(target), sizeof before) == 0,
                      "%s: a failed load_weights changed the model", entries[i].name);
        memcpy(nn_model_weights(target), before, sizeof before);
    }
    nn_model_release(target);
}
