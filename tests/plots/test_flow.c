/* The seed's network flow picture, as text in both character sets and as SVG. */
#include <criterion/criterion.h>
#include <string.h>

#include "flow.h"
#include "golden.h"

static const nn_flow_step seed_steps[] = {
    {"Conv2D(32, 3×3, relu, same)", "(28, 28, 32)", NULL},
    {"MaxPooling2D(2×2)", "(14, 14, 32)", NULL},
    {"Conv2D(64, 3×3, relu, same)", "(14, 14, 64)", NULL},
    {"MaxPooling2D(2×2)", "(7, 7, 64)", NULL},
    {"Flatten", "(3136,)", NULL},
    {"Dense(128, relu)", "(128,)", NULL},
    {"Dropout(0.5)", "(128,)", NULL},
    {"Dense(10, softmax)", "(10,)", NULL},
};

static const nn_flow seed_flow = {.title = "sequential", .input_shape = "(28, 28, 1)",
                                  .steps = seed_steps, .count = 8};

Test(flow, seed_picture_as_text)
{
    nn_text out;
    nn_text_init(&out);
    nn_flow_render_text(&out, &seed_flow, NN_CHARSET_UNICODE);
    expect_golden("flow_unicode", out.data);
    nn_text_free(&out);
    nn_text_init(&out);
    nn_flow_render_text(&out, &seed_flow, NN_CHARSET_ASCII);
    expect_golden("flow_ascii", out.data);
    nn_text_free(&out);
}

static int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

Test(flow, seed_picture_as_svg)
{
    nn_text out;
    nn_text_init(&out);
    nn_flow_render_svg(&out, &seed_flow);
    cr_assert(strncmp(out.data, "<?xml", 5) == 0);
    cr_expect(strstr(out.data, "</svg>\n") != NULL);
    cr_expect_eq(count(out.data, "<rect x="), 10, "input, 8 layers, output: %d boxes",
                 count(out.data, "<rect x="));
    cr_expect_eq(count(out.data, "marker-end=\"url(#arrow)\""), 9);
    cr_expect(strstr(out.data, ">Conv2D(32, 3×3, relu, same)</text>") != NULL);
    cr_expect(strstr(out.data, ">shape: (7, 7, 64)</text>") != NULL);
    cr_expect(strstr(out.data, ">Output: (10,)</text>") != NULL);
    nn_text_free(&out);
}

Test(flow, labels_are_escaped_in_svg_and_flattened_in_ascii)
{
    nn_flow_step steps[] = {{"Lambda(<x & y>)", "(2,)", "odd\"name"}};
    nn_flow flow = {.input_shape = "(2,)", .steps = steps, .count = 1};
    nn_text out;
    nn_text_init(&out);
    nn_flow_render_svg(&out, &flow);
    cr_expect(strstr(out.data, "Lambda(&lt;x &amp; y&gt;)") != NULL);
    cr_expect(strstr(out.data, "odd&quot;name") != NULL);
    nn_text_free(&out);
    nn_text_init(&out);
    nn_text_append_ascii(&out, "Conv2D(8, 5×5) → é");
    cr_expect_str_eq(out.data, "Conv2D(8, 5x5) -> ?");
    nn_text_free(&out);
}

Test(flow, names_and_dtype_are_drawn_when_given_and_shapes_left_out_when_not)
{
    nn_flow_step named[] = {{"Dense(8, relu)", "(8,)", "dense"}, {"Dense(2)", "(2,)", "dense_1"}};
    nn_flow flow = {.input_shape = "(4,)", .dtype = "float32", .steps = named, .count = 2};
    nn_text out;
    nn_text_init(&out);
    nn_flow_render_text(&out, &flow, NN_CHARSET_ASCII);
    cr_expect_str_eq(out.data, "Input: (4,), float32\nv\ndense: Dense(8, relu)\nv shape: (8,), float32\n"
                               "dense_1: Dense(2)\nv shape: (2,), float32\n");
    nn_text_free(&out);

    nn_flow_step bare[] = {{"Dense(8, relu)", NULL, NULL}, {"Dense(2)", NULL, NULL}};
    nn_flow shapeless = {.steps = bare, .count = 2};
    nn_text_init(&out);
    nn_flow_render_text(&out, &shapeless, NN_CHARSET_ASCII);
    cr_expect_str_eq(out.data, "Input\nv\nDense(8, relu)\nv\nDense(2)\nv\n");
    nn_text_free(&out);
    nn_text_init(&out);
    nn_flow_render_svg(&out, &shapeless);
    cr_expect(strstr(out.data, ">Input</text>") != NULL);
    cr_expect(strstr(out.data, ">Output</text>") != NULL);
    cr_expect(strstr(out.data, "shape:") == NULL, "no shape labels");
    nn_text_free(&out);

    shapeless.dtype = "float32";
    nn_text_init(&out);
    nn_flow_render_svg(&out, &shapeless);
    cr_expect(strstr(out.data, ">Input: float32</text>") != NULL);
    cr_expect(strstr(out.data, ">float32</text>") != NULL, "the arrows say the dtype alone");
    nn_text_free(&out);
}
