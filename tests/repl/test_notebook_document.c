/* Notebook documents: cells found in Markdown and Lua, outputs written below them, and
 * old outputs replaced rather than repeated. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notebook_document.h"

/* Renders text with the given outputs and returns it (static buffer). */
static const char *render(const char *text, nnsh_notebook_format format,
                          const char *const *outputs, int *cells)
{
    static char result[4096];
    nnsh_notebook_document document;
    cr_assert(nnsh_notebook_parse(&document, text, strlen(text), format));
    *cells = 0;
    for (int i = 0; i < document.part_count; i++)
        *cells += document.parts[i].is_cell;
    nn_text out;
    nn_text_init(&out);
    nnsh_notebook_render(&document, outputs, &out);
    snprintf(result, sizeof result, "%s", out.data ? out.data : "");
    nn_text_free(&out);
    nnsh_notebook_document_free(&document);
    return result;
}

Test(notebook_document, markdown_lua_blocks_are_cells_and_get_output_blocks)
{
    const char *text = "# Lesson\n\n```lua\nx = 1\nx\n```\n\nText.\n\n```python\nnot run\n```\n";
    const char *outputs[] = {"1\n"};
    int cells;
    const char *result = render(text, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells);
    cr_assert_eq(cells, 1);
    cr_assert_str_eq(result, "# Lesson\n\n```lua\nx = 1\nx\n```\n\n```output\n1\n```\n\nText.\n\n"
                             "```python\nnot run\n```\n");
}

Test(notebook_document, markdown_runs_twice_to_the_same_handout)
{
    const char *text = "```lua\nx\n```\n\nEnd.\n";
    const char *outputs[] = {"1\n"};
    int cells;
    char first[4096];
    snprintf(first, sizeof first, "%s", render(text, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells));
    const char *second = render(first, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells);
    cr_assert_str_eq(second, first);
    const char *none[] = {NULL};
    cr_assert_str_eq(render(first, NNSH_NOTEBOOK_MARKDOWN, none, &cells), "```lua\nx\n```\n\nEnd.\n",
                     "a cell with no output loses its old output block");
}

Test(notebook_document, markdown_code_positions_and_expected_errors)
{
    const char *text = "intro\n\n~~~~lua expect-error\nerror('x')\n~~~~\n";
    nnsh_notebook_document document;
    cr_assert(nnsh_notebook_parse(&document, text, strlen(text), NNSH_NOTEBOOK_MARKDOWN));
    const nnsh_notebook_part *cell = NULL;
    for (int i = 0; i < document.part_count; i++)
        if (document.parts[i].is_cell)
            cell = &document.parts[i];
    cr_assert_not_null(cell);
    cr_assert_eq(cell->code_line, 4);
    cr_assert(cell->expect_error);
    cr_assert_eq(cell->code_length, strlen("error('x')\n"));
    cr_assert_eq(memcmp(text + cell->code_start, "error('x')\n", cell->code_length), 0);
    nnsh_notebook_document_free(&document);
}

Test(notebook_document, output_fences_outgrow_backticks_in_the_output)
{
    const char *text = "```lua\nprint(s)\n```\n";
    const char *outputs[] = {"```\n"};
    int cells;
    cr_assert_str_eq(render(text, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells),
                     "```lua\nprint(s)\n```\n\n````output\n```\n````\n");
}

Test(notebook_document, lua_cells_get_arrow_comments_once)
{
    const char *text = "-- a lesson\n\n-- %%\nx = 1\nx\n\n-- %% second\nprint('a')\nprint('')\n";
    const char *outputs[] = {"1\n", "a\n\n"};
    int cells;
    char first[4096];
    snprintf(first, sizeof first, "%s", render(text, NNSH_NOTEBOOK_LUA, outputs, &cells));
    cr_assert_eq(cells, 2, "a header of comments before the first marker is not a cell");
    cr_assert_str_eq(first, "-- a lesson\n\n-- %%\nx = 1\nx\n--> 1\n\n-- %% second\nprint('a')\n"
                            "print('')\n--> a\n-->\n");
    cr_assert_str_eq(render(first, NNSH_NOTEBOOK_LUA, outputs, &cells), first);
}

Test(notebook_document, new_cells_for_a_saved_session)
{
    nn_text out;
    nn_text_init(&out);
    nnsh_notebook_append_cell(&out, NNSH_NOTEBOOK_MARKDOWN, false, "x = 1\n", "");
    nnsh_notebook_append_cell(&out, NNSH_NOTEBOOK_MARKDOWN, false, "x", "1\n");
    cr_assert_str_eq(out.data, "```lua\nx = 1\n```\n\n```lua\nx\n```\n\n```output\n1\n```\n\n");
    nn_text_free(&out);
    nn_text_init(&out);
    nnsh_notebook_append_cell(&out, NNSH_NOTEBOOK_LUA, false, "x", "1\n");
    cr_assert_str_eq(out.data, "-- %%\nx\n--> 1\n\n");
    nn_text_free(&out);
    /* a cell that failed after it ran is written marked, so a replay expects the error */
    nn_text_init(&out);
    nnsh_notebook_append_cell(&out, NNSH_NOTEBOOK_LUA, true, "f = 1; error('x')", "error: x\n");
    nnsh_notebook_append_cell(&out, NNSH_NOTEBOOK_MARKDOWN, true, "error('x')", NULL);
    cr_assert_str_eq(out.data, "-- %% expect-error\nf = 1; error('x')\n--> error: x\n\n"
                               "```lua expect-error\nerror('x')\n```\n\n");
    nn_text_free(&out);
}

Test(notebook_document, unclosed_fences_are_noted_with_their_line)
{
    const char *cases[][2] = {
        {"# t\n\n```lua\nx = 1\nprint('hi')\n", "3"},
        {"```lua\nx\n```\n\n```output\n1\n\nMore prose.\n", "5"},
        {"```lua\nx\n```\n\n```python\nnot run\n", "0"}, /* not a cell: copied as it is */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nnsh_notebook_document document;
        cr_assert(nnsh_notebook_parse(&document, cases[i][0], strlen(cases[i][0]),
                                      NNSH_NOTEBOOK_MARKDOWN));
        cr_assert_eq(document.unclosed_line, atoi(cases[i][1]), "case %zu", i);
        nnsh_notebook_document_free(&document);
    }
}

Test(notebook_document, output_without_a_final_newline_still_closes_its_fence)
{
    const char *text = "```lua\nio.write('a')\n```\n";
    const char *outputs[] = {"a"};
    int cells;
    cr_assert_str_eq(render(text, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells),
                     "```lua\nio.write('a')\n```\n\n```output\na\n```\n");
}

Test(notebook_document, lua_code_before_the_first_marker_is_a_cell)
{
    const char *cases[][2] = {
        {"-- nnsh session\n\n-- %%\nx = 1\n", "1"},
        {"-- setup\nnn.random.seed(7)\n\n-- %%\nx = 1\n", "2"},
        {"--[[ a ]] y = 2\n-- %%\nx = 1\n", "2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int cells;
        const char *outputs[] = {NULL, NULL};
        render(cases[i][0], NNSH_NOTEBOOK_LUA, outputs, &cells);
        cr_assert_eq(cells, atoi(cases[i][1]), "case %zu", i);
    }
}

Test(notebook_document, lua_cells_that_would_not_read_back_whole)
{
    cr_assert_null(nnsh_notebook_lua_cell_problem("x = 1\n--> not last\ny = 2"));
    cr_assert_null(nnsh_notebook_lua_cell_problem("-- a comment\nx = '-- %%'"));
    cr_assert_not_null(nnsh_notebook_lua_cell_problem("s = [[\n-- %%\n]]"));
    cr_assert_not_null(nnsh_notebook_lua_cell_problem("--> looks like output"));
    cr_assert_not_null(nnsh_notebook_lua_cell_problem("x = 1\n-->  note\n\n"));
}

Test(notebook_document, a_byte_order_mark_stays_in_front_and_is_not_code)
{
    const char *outputs[] = {"5\n", "6\n"};
    int cells;
    const char *lua = "\xef\xbb\xbf-- %%\nprint(5)\n-- %%\nprint(6)\n";
    cr_assert_str_eq(render(lua, NNSH_NOTEBOOK_LUA, outputs, &cells),
                     "\xef\xbb\xbf-- %%\nprint(5)\n--> 5\n-- %%\nprint(6)\n--> 6\n");
    cr_assert_eq(cells, 2);
    nnsh_notebook_document document;
    cr_assert(nnsh_notebook_parse(&document, lua, strlen(lua), NNSH_NOTEBOOK_LUA));
    for (int i = 0; i < document.part_count; i++)
        if (document.parts[i].is_cell)
            cr_expect_neq(lua[document.parts[i].code_start], '\xef',
                          "the byte order mark is read as code of cell %d", i);
    nnsh_notebook_document_free(&document);
    const char *markdown = "\xef\xbb\xbf```lua\nprint(5)\n```\n";
    cr_assert_str_eq(render(markdown, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells),
                     "\xef\xbb\xbf```lua\nprint(5)\n```\n\n```output\n5\n```\n");
    cr_assert_eq(cells, 1, "a fence on the first line after the byte order mark is a cell");
}

Test(notebook_document, outputs_keep_the_documents_crlf_line_endings)
{
    const char *outputs[] = {"1\n2\n"};
    int cells;
    cr_assert_str_eq(render("# T\r\n\r\n```lua\r\nx\r\n```\r\n", NNSH_NOTEBOOK_MARKDOWN, outputs,
                            &cells),
                     "# T\r\n\r\n```lua\r\nx\r\n```\r\n\r\n```output\r\n1\r\n2\r\n```\r\n");
    cr_assert_str_eq(render("-- %%\r\nx\r\n", NNSH_NOTEBOOK_LUA, outputs, &cells),
                     "-- %%\r\nx\r\n--> 1\r\n--> 2\r\n");
    /* Run again, the handout stays the same. */
    const char *handout = "-- %%\r\nx\r\n--> 1\r\n--> 2\r\n";
    cr_assert_str_eq(render(handout, NNSH_NOTEBOOK_LUA, outputs, &cells), handout);
    const char *markdown = "```lua\r\nx\r\n```\r\n\r\n```output\r\n1\r\n2\r\n```\r\n";
    cr_assert_str_eq(render(markdown, NNSH_NOTEBOOK_MARKDOWN, outputs, &cells), markdown);
}

Test(notebook_document, a_fence_names_lua_in_any_case)
{
    const char *text = "```Lua\nx = 1\n```\n\n```LUA expect-error\nerror('x')\n```\n";
    nnsh_notebook_document document;
    cr_assert(nnsh_notebook_parse(&document, text, strlen(text), NNSH_NOTEBOOK_MARKDOWN));
    int cells = 0;
    bool expected_error = false;
    for (int i = 0; i < document.part_count; i++) {
        cells += document.parts[i].is_cell;
        expected_error = expected_error || document.parts[i].expect_error;
    }
    cr_assert_eq(cells, 2);
    cr_assert(expected_error);
    nnsh_notebook_document_free(&document);
}

Test(notebook_document, a_block_in_an_html_comment_is_not_a_cell)
{
    const char *text = "<!-- a cell left out:\n```lua\nerror('no')\n```\n-->\n\n```lua\nx = 1\n```\n"
                       "<!-- one line --> text\n```lua\ny = 2\n```\n";
    nnsh_notebook_document document;
    cr_assert(nnsh_notebook_parse(&document, text, strlen(text), NNSH_NOTEBOOK_MARKDOWN));
    int cells = 0;
    for (int i = 0; i < document.part_count; i++) {
        if (!document.parts[i].is_cell)
            continue;
        cells++;
        const char *code = text + document.parts[i].code_start;
        cr_assert(strncmp(code, "error", 5) != 0, "the commented-out block became a cell");
    }
    cr_assert_eq(cells, 2);
    cr_assert_eq(document.unclosed_line, 0);
    nnsh_notebook_document_free(&document);
}

static void expect_renumbered(const char *code, const char *expected)
{
    /* Cells 1 and 2 kept as 1 and 2, cell 3 left out, 4 and 5 become 3 and 4. */
    static const int numbers[] = {0, 1, 2, 0, 3, 4};
    nn_text out;
    nn_text_init(&out);
    nnsh_notebook_renumber_references(&out, code, numbers, 6);
    cr_expect_str_eq(out.data ? out.data : "", expected);
    nn_text_free(&out);
}

Test(notebook_document, a_saved_sessions_references_follow_its_new_cell_numbers)
{
    expect_renumbered("Out[4] + In[5]", "Out[3] + In[4]");
    expect_renumbered("x = Out [ 4 ]\nprint(In[4]:upper())", "x = Out [ 3 ]\nprint(In[3]:upper())");
    /* Kept cells before the gap, a cell left out, numbers past the end or not whole,
     * other tables, strings and comments: as written. */
    expect_renumbered("Out[1], Out[2], Out[3], Out[9], Out[4.0], Out[0x4]",
                      "Out[1], Out[2], Out[3], Out[9], Out[4.0], Out[0x4]");
    expect_renumbered("t.Out[4], MyOut[4], 'Out[4]', [[In[5]]] -- Out[4]",
                      "t.Out[4], MyOut[4], 'Out[4]', [[In[5]]] -- Out[4]");
    expect_renumbered("", "");
}
