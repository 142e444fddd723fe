/* CategoryEncoding and Discretization, Keras' preprocessing layers for ids and numbers.
 * CategoryEncoding turns whole-number ids in [0, num_tokens) into vectors: one-hot (a
 * vector per id), multi-hot (one per sample, 1 for each id it holds) or count (how often
 * each occurs). Discretization puts each number into a bucket between sorted
 * bin_boundaries (given, or learned from data by adapt as quantiles for num_bins) and
 * gives the bucket's index, or the same encodings of it. Neither has weights, and no
 * gradient flows back through them: ids and buckets are not differentiable. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"

enum { MODE_INT, MODE_ONE_HOT, MODE_MULTI_HOT, MODE_COUNT };

typedef struct category_layer {
    nn_layer base;
    int num_tokens;                     /* CategoryEncoding */
    nn_optional_floats bin_boundaries;  /* Discretization: given, or set by adapt */
    nn_optional_int num_bins;           /* Discretization: learned by adapt */
    float epsilon;                      /* Keras' quantile error; nnsh's are exact */
    int output_mode;                    /* MODE_*; CategoryEncoding's choices start at one_hot */
    bool sparse;
} category_layer;

#define ARG(field) offsetof(category_layer, field)

static const char *const encoding_choices[] = {"one_hot", "multi_hot", "count", NULL};
static const char *const discretization_choices[] = {"int", "one_hot", "multi_hot", "count",
                                                     NULL};

#define SPARSE_AND_NAME_ARGS(base_name)                                                       \
    {"sparse", NN_ARG_BOOL, ARG(sparse), false, 0, 1, false, NULL, "False",                   \
     "Keras' sparse output; nnsh's tensors are dense, so only False."},                       \
        NN_NAME_AND_INPUT_SHAPE_ARGS(base_name)

static const nn_arg_spec encoding_args[] = {
    {"num_tokens", NN_ARG_INT, ARG(num_tokens), true, 1, 1 << 24, false, NULL, NULL,
     "How many different ids there are: every id must be a whole number in [0, num_tokens)."},
    {"output_mode", NN_ARG_CHOICE, ARG(output_mode), false, 0, 0, false, encoding_choices,
     "'multi_hot'",
     "'one_hot' (a vector per id; a last axis of 1 is replaced, any other kept), "
     "'multi_hot' (a vector per sample: 1 for each id in its last axis) or 'count' (how "
     "often each id occurs there)."},
    SPARSE_AND_NAME_ARGS("category_encoding"),
};

static const nn_arg_spec discretization_args[] = {
    {"bin_boundaries", NN_ARG_OPTIONAL_FLOATS, ARG(bin_boundaries), false, -3.4e38, 3.4e38,
     false, NULL, "None",
     "Sorted boundaries between the buckets: {0, 1, 2} makes buckets below 0, [0, 1), "
     "[1, 2) and from 2 on (up to 64 boundaries). Or leave it out, give num_bins and adapt."},
    {"num_bins", NN_ARG_OPTIONAL_INT, ARG(num_bins), false, 2, 65, false, NULL, "None",
     "How many buckets adapt makes, each holding about as many of the data's values."},
    {"epsilon", NN_ARG_FLOAT, ARG(epsilon), false, 0, 1, false, NULL, "0.01",
     "Keras' error bound for its approximate quantiles; nnsh's adapt computes them "
     "exactly, so this changes nothing."},
    {"output_mode", NN_ARG_CHOICE, ARG(output_mode), false, 0, 0, false,
     discretization_choices, "'int'",
     "'int' (each value's bucket index), or 'one_hot', 'multi_hot' or 'count' of the "
     "buckets, as CategoryEncoding."},
    SPARSE_AND_NAME_ARGS("discretization"),
};

static bool is_discretization(const nn_layer *layer)
{
    return layer->cls == &nn_discretization_class;
}

/* The output mode as MODE_*: CategoryEncoding's choices have no 'int'. */
static int mode_of(const category_layer *category)
{
    return is_discretization(&category->base) ? category->output_mode
                                              : category->output_mode + MODE_ONE_HOT;
}

static void category_set_defaults(nn_layer *layer)
{
    category_layer *category = (category_layer *)layer;
    /* multi_hot for CategoryEncoding (its second choice), int for Discretization */
    category->output_mode = is_discretization(layer) ? MODE_INT : MODE_MULTI_HOT - 1;
    category->epsilon = 0.01f;
}

static nn_status category_validate(nn_layer *layer)
{
    category_layer *category = (category_layer *)layer;
    if (category->sparse)
        return nn_error(NN_ERR_ARGUMENT, "%s \"%s\": sparse=True is not available; nnsh's "
                        "tensors are dense (the default, False)", layer->cls->name,
                        layer->name);
    if (!is_discretization(layer))
        return NN_OK;
    const nn_optional_floats *boundaries = &category->bin_boundaries;
    if (boundaries->present == category->num_bins.present)
        return nn_error(NN_ERR_ARGUMENT, "Discretization \"%s\": give either bin_boundaries "
                        "(the boundaries themselves) or num_bins (how many buckets adapt "
                        "learns), %s", layer->name,
                        boundaries->present ? "not both" : "got neither");
    for (int k = 1; boundaries->present && k < boundaries->count; k++)
        if (!(boundaries->values[k - 1] <= boundaries->values[k]))
            return nn_error(NN_ERR_ARGUMENT, "Discretization \"%s\": bin_boundaries must be "
                            "sorted, but entry %d (%g) is below entry %d (%g)", layer->name,
                            k + 1, (double)boundaries->values[k], k,
                            (double)boundaries->values[k - 1]);
    return NN_OK;
}

/* How many ids (tokens) the encodings count: num_tokens, or a Discretization's buckets. */
static int64_t token_count(const category_layer *category)
{
    if (!is_discretization(&category->base))
        return category->num_tokens;
    return category->bin_boundaries.present ? category->bin_boundaries.count + 1
                                            : category->num_bins.value;
}

static nn_status category_build(nn_layer *layer, const nn_shape *input, nn_shape *output)
{
    category_layer *category = (category_layer *)layer;
    char text[128];
    nn_shape_format(input, text, sizeof text);
    NN_TRY(nn_known_sizes(input));
    int mode = mode_of(category);
    int64_t tokens = token_count(category);
    *output = *input;
    if (mode == MODE_ONE_HOT && (input->ndim == 1 || input->dims[input->ndim - 1] != 1)) {
        if (input->ndim >= NN_MAX_DIMS)
            return nn_error(NN_ERR_SHAPE, "one_hot adds an axis to input %s, "
                            "which has the most axes nnsh allows (%d)", text,
                            NN_MAX_DIMS);
        output->dims[output->ndim++] = tokens;
    } else if (mode != MODE_INT) {
        if (input->ndim == 1)
            output->ndim = 2;
        output->dims[output->ndim - 1] = tokens;
    }
    const char *what = is_discretization(layer) ? "bucket" : "id";
    const char *learned = is_discretization(layer) && !category->bin_boundaries.present
                              ? " (boundaries learned by adapt)"
                              : "";
    char *explanation = layer->explanation;
    size_t size = sizeof layer->explanation;
    if (mode == MODE_INT)
        snprintf(explanation, size, "unchanged: each value becomes the index of its bucket, 0 to "
                 "%lld%s", (long long)(tokens - 1), learned);
    else if (mode == MODE_ONE_HOT)
        snprintf(explanation, size, "one_hot: each %s becomes a vector of %lld with a 1 at its "
                 "place%s", what, (long long)tokens, learned);
    else
        snprintf(explanation, size, "%s: each sample's last axis becomes a vector of %lld, %s every "
                 "%s in it%s", mode == MODE_COUNT ? "count" : "multi_hot", (long long)tokens,
                 mode == MODE_COUNT ? "counting" : "1 for", what, learned);
    return NN_OK;
}

/* CategoryEncoding's ids must be whole numbers in [0, num_tokens). (A Discretization takes
 * any number, so it has no check, and may follow other layers.) */
static nn_status encoding_check_input(const nn_layer *layer, const nn_tensor *input)
{
    return nn_check_ids(layer, input, ((const category_layer *)layer)->num_tokens, "num_tokens");
}

/* The backend's view of an input of `shape` (batch included). */
static nn_category_geometry geometry_of(const category_layer *category, const nn_shape *shape)
{
    int mode = mode_of(category);
    int64_t count = nn_shape_inner(shape, 0);
    nn_category_geometry g = {.tokens = token_count(category), .count = mode == MODE_COUNT,
                              .bucketize = is_discretization(&category->base)};
    int64_t last = shape->ndim > 1 ? shape->dims[shape->ndim - 1] : 1;
    g.length = mode == MODE_ONE_HOT ? 1 : last;
    g.rows = count / g.length;
    const nn_optional_floats *boundaries = &category->bin_boundaries;
    if (g.bucketize && boundaries->present) {
        g.boundary_count = boundaries->count;
        memcpy(g.boundaries, boundaries->values, sizeof(float) * (size_t)boundaries->count);
    }
    return g;
}

static nn_status category_forward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                  nn_tensor *output)
{
    category_layer *category = (category_layer *)layer;
    if (is_discretization(layer) && !category->bin_boundaries.present)
        return nn_error(NN_ERR_STATE, "this Discretization has num_bins=%lld but no "
                        "boundaries yet: call layer:adapt(data) first, or give "
                        "bin_boundaries", (long long)category->num_bins.value);
    nn_category_geometry g = geometry_of(category, &input->shape);
    if (mode_of(category) == MODE_INT)
        exec->backend->bucketize(nn_tensor_f32(output), nn_tensor_f32(input),
                                 nn_tensor_count(input), &g);
    else
        exec->backend->category_encode(nn_tensor_f32(output), nn_tensor_f32(input), &g);
    return NN_OK;
}

/* Ids and buckets are steps, not slopes: nothing flows back. */
static nn_status category_backward(nn_layer *layer, nn_exec *exec, const nn_tensor *input,
                                   const nn_tensor *output, const nn_tensor *doutput,
                                   nn_tensor *dinput)
{
    (void)layer, (void)output, (void)doutput;
    if (dinput)
        exec->backend->memory_zero(nn_tensor_f32(dinput), nn_tensor_bytes(input));
    return NN_OK;
}

static int compare_floats(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Discretization's adapt: num_bins - 1 boundaries at the data's quantiles k / num_bins
 * (the value at that share of the sorted finite values), computed exactly. */
static nn_status discretization_adapt(nn_layer *layer, const nn_tensor *data)
{
    category_layer *category = (category_layer *)layer;
    if (!category->num_bins.present)
        return nn_error(NN_ERR_ARGUMENT, "Discretization \"%s\" was given its bin_boundaries; "
                        "adapt learns them from data instead (make it with num_bins=)",
                        layer->name);
    if (layer->running_in)
        return nn_error(NN_ERR_STATE, "Discretization \"%s\" is in use by a model in the "
                        "middle of fit, evaluate or predict; adapt it before or after",
                        layer->name);
    nn_tensor *host = NULL;
    if (!nn_tensor_on_host(data))
        NN_TRY(nn_tensor_to(&host, data, nn_device_cpu()));
    const nn_tensor *values = host ? host : data;
    size_t count = nn_tensor_count(values), finite = 0;
    float *sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!sorted) {
        nn_tensor_free(host);
        return nn_error(NN_ERR_MEMORY, "Discretization \"%s\": out of memory adapting",
                        layer->name);
    }
    for (size_t i = 0; i < count; i++) {
        float value = (float)nn_tensor_get(values, i);
        if (isfinite(value))
            sorted[finite++] = value;
    }
    nn_tensor_free(host);
    if (finite == 0) {
        free(sorted);
        return nn_error(NN_ERR_ARGUMENT, "Discretization \"%s\": adapt needs data with at least "
                        "one finite number, got %zu values and none finite", layer->name,
                        count);
    }
    qsort(sorted, finite, sizeof *sorted, compare_floats);
    /* num_bins - 1 boundaries, repeats kept (a bucket may stay empty), so the number of
     * buckets, and the output's shape, is num_bins either way. */
    nn_optional_floats boundaries = {.present = true, .list = true};
    int64_t bins = category->num_bins.value;
    for (int64_t k = 1; k < bins; k++)
        boundaries.values[boundaries.count++] =
            sorted[(size_t)((double)k * (double)finite / (double)bins)];
    free(sorted);
    category->bin_boundaries = boundaries;
    category->num_bins.present = false; /* the boundaries say it all now */
    return NN_OK;
}

#define CATEGORY_CLASS(class_name, base, args_table, doc_text, example_text, check_hook,   \
                       adapt_hook)                                                         \
    {                                                                                      \
        .name = class_name, .base_name = base, .doc = doc_text, .example = example_text,   \
        .size = sizeof(category_layer), .args = args_table,                                \
        .arg_count = (int)(sizeof args_table / sizeof args_table[0]),                      \
        .positional_count = 1, .set_defaults = category_set_defaults,                      \
        .validate = category_validate, .build = category_build,                            \
        .forward = category_forward, .backward = category_backward,                        \
        .check_input = check_hook, .adapt = adapt_hook,                                    \
    }

const nn_layer_class nn_category_encoding_class = CATEGORY_CLASS(
    "CategoryEncoding", "category_encoding", encoding_args,
    "Turns whole-number ids in [0, num_tokens) into vectors: one-hot (a vector per id), "
    "multi-hot (a vector per sample, 1 for each id in it) or count (how often each "
    "occurs). No weights; ids outside the range are an error naming their place.",
    "local encode = nn.layers.CategoryEncoding{4, output_mode = 'one_hot'}\n"
    "print(encode(nn.tensor{3, 2, 0, 1}))   --> one row per id, its 1 at the id",
    encoding_check_input, NULL);

const nn_layer_class nn_discretization_class = CATEGORY_CLASS(
    "Discretization", "discretization", discretization_args,
    "Puts each number into a bucket between sorted bin_boundaries and gives the bucket's "
    "index (or its one-hot, multi-hot or count encoding). Give the boundaries, or num_bins "
    "and call layer:adapt(data) to place them at the data's quantiles.",
    "local buckets = nn.layers.Discretization{bin_boundaries = {0, 1, 2}}\n"
    "print(buckets(nn.tensor{{-1.5, 1.0, 3.4, 0.5}}))   --> [[0, 2, 3, 1]]",
    NULL, discretization_adapt);
