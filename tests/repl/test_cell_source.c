/* How the shell reads cells: top-level locals become session variables, trailing
 * expressions are found, and the call whose argument table the cursor is in. */
#include <criterion/criterion.h>
#include <string.h>

#include "cell_source.h"
#include "lexer.h"

static void expect_rewrite(const char *source, const char *expected)
{
    nn_text out;
    nn_text_init(&out);
    nnsh_cell_rewrite_locals(source, strlen(source), &out);
    cr_assert_str_eq(out.data ? out.data : "", expected, "rewriting [%s]", source);
    nn_text_free(&out);
}

Test(cell_source, top_level_locals_become_assignments)
{
    expect_rewrite("local x = 1", " x = 1");
    expect_rewrite("local a, b = f()", " a, b = f()");
    expect_rewrite("local z", " z = nil");
    expect_rewrite("local p, q\nprint(p)", " p, q = nil\nprint(p)");
    expect_rewrite("local n <const> = 3", " n  = 3");
    expect_rewrite("local function f() local y = 2 return y end",
                   " function f() local y = 2 return y end");
    expect_rewrite("local x = 1; local y = x", " x = 1;  y = x");
}

Test(cell_source, locals_inside_blocks_strings_and_comments_stay)
{
    expect_rewrite("do local x = 1 end", "do local x = 1 end");
    expect_rewrite("for i = 1, 2 do local y = i end", "for i = 1, 2 do local y = i end");
    expect_rewrite("if a then local b = 1 else local c = 2 end local d = 3",
                   "if a then local b = 1 else local c = 2 end  d = 3");
    expect_rewrite("f = function() local x = 1 end", "f = function() local x = 1 end");
    expect_rewrite("repeat local r = 1 until r", "repeat local r = 1 until r");
    expect_rewrite("s = 'local x = 1' -- local y = 2", "s = 'local x = 1' -- local y = 2");
    expect_rewrite("s = [[\nlocal x\n]] --[==[ local y ]==] local z = 1",
                   "s = [[\nlocal x\n]] --[==[ local y ]==]  z = 1");
    expect_rewrite("local f <close> = io.open('x')", "local f <close> = io.open('x')");
}

Test(cell_source, rewriting_keeps_line_numbers)
{
    const char *source = "local a = 1\n\nlocal b\nlocal function c()\nend\n";
    nn_text out;
    nn_text_init(&out);
    nnsh_cell_rewrite_locals(source, strlen(source), &out);
    int lines = 0;
    for (size_t i = 0; i < out.length; i++)
        lines += out.data[i] == '\n';
    cr_assert_eq(lines, 5);
    nn_text_free(&out);
}

static size_t starts_of(const char *source, size_t *starts)
{
    return nnsh_cell_expression_starts(source, strlen(source), starts, 8);
}

Test(cell_source, expression_starts_are_the_cell_then_its_last_lines)
{
    size_t starts[8];
    const char *source = "x = 1\ny = 2\nx + y";
    cr_assert_eq(starts_of(source, starts), 3);
    cr_assert_eq(starts[0], 0);
    cr_assert_eq(starts[1], strlen("x = 1\ny = 2\n"), "the last line comes first");
    cr_assert_eq(starts[2], strlen("x = 1\n"));
}

Test(cell_source, expression_starts_skip_lines_that_continue_the_one_before)
{
    size_t starts[8];
    /* "(c)" would make b(c) a call; "-d" a subtraction; lines inside a table or a
     * block are not statements of the cell. */
    cr_assert_eq(starts_of("a = b\n(c)", starts), 1);
    cr_assert_eq(starts_of("a = b\n-d", starts), 1);
    cr_assert_eq(starts_of("t = {\n  x\n}", starts), 1);
    cr_assert_eq(starts_of("if a then\n  b()\nend", starts), 1);
    cr_assert_eq(starts_of("f(1,\n  2)\nm", starts), 2);
    cr_assert_eq(starts[1], strlen("f(1,\n  2)\n"));
}

Test(cell_source, a_statement_after_a_top_level_semicolon_is_a_candidate)
{
    size_t starts[8];
    const char *source = "x = nn.zeros(3); x[2] = 5; x";
    cr_assert_eq(starts_of(source, starts), 3);
    cr_assert_eq(starts[1], strlen("x = nn.zeros(3); x[2] = 5; "), "the last statement first");
    cr_assert_eq(starts[2], strlen("x = nn.zeros(3); "));
    /* A ';' inside a table or a block ends no statement of the cell. */
    cr_assert_eq(starts_of("t = {1; 2}", starts), 1);
    cr_assert_eq(starts_of("do a = 1; b = 2 end", starts), 1);
    cr_assert_eq(starts_of("do a = 1; b = 2 end; b", starts), 2);
    cr_assert_eq(starts[1], strlen("do a = 1; b = 2 end; "));
}

Test(cell_source, only_the_newest_candidates_are_kept)
{
    size_t starts[3];
    const char *source = "a\nb\nc\nd\ne";
    cr_assert_eq(nnsh_cell_expression_starts(source, strlen(source), starts, 3), 3);
    cr_assert_eq(starts[0], 0);
    cr_assert_eq(starts[1], 8, "e");
    cr_assert_eq(starts[2], 6, "d");
}

static void expect_returned(const char *source, size_t start, const char *expected)
{
    nn_text out;
    nn_text_init(&out);
    cr_assert(nnsh_cell_return_expression(source, strlen(source), start, &out),
              "returning [%s] from %zu", source, start);
    cr_assert_str_eq(out.data ? out.data : "", expected, "returning [%s] from %zu", source,
                     start);
    nn_text_free(&out);
}

Test(cell_source, a_returned_expression_closes_on_its_last_line)
{
    expect_returned("x = 1; x + 1", 7, "x = 1; return (function(...) return ... end)(x + 1)");
    expect_returned("t.a -- note\n", 0, "return (function(...) return ... end)(t.a) -- note\n");
    expect_returned("y = 2\nt\n  .a\n\n", 6,
                    "y = 2\nreturn (function(...) return ... end)(t\n  .a)\n\n");
    expect_returned("s --[[ a\nlong comment ]]", 0,
                    "return (function(...) return ... end)(s) --[[ a\nlong comment ]]");
}

Test(cell_source, an_expression_that_would_close_the_wrapper_is_refused)
{
    nn_text out;
    nn_text_init(&out);
    cr_assert(!nnsh_cell_return_expression("1) + (2", 7, 0, &out));
    cr_assert(!nnsh_cell_return_expression("x = 1; f()) (g()", 16, 7, &out));
    cr_assert_eq(out.length, 0, "nothing is appended, got %zu bytes", out.length);
    nn_text_free(&out);
}

Test(cell_source, a_trailing_semicolon_is_seen_past_comments)
{
    cr_assert(nnsh_cell_ends_with_semicolon("x; -- quiet", 11));
    cr_assert(!nnsh_cell_ends_with_semicolon("x -- ;", 6));
    cr_assert(!nnsh_cell_ends_with_semicolon("s = ';'", 7));
}

Test(cell_source, calls_are_told_from_names)
{
    cr_assert(nnsh_cell_ends_with_call("h:plot()", 8));
    cr_assert(nnsh_cell_ends_with_call("f{1}", 4));
    cr_assert(nnsh_cell_ends_with_call("f'x' -- note", 12));
    cr_assert(!nnsh_cell_ends_with_call("x", 1));
    cr_assert(!nnsh_cell_ends_with_call("t.field", 7));
}

static const char *callee_of(const char *text, char *buffer)
{
    nnsh_argument_context context;
    if (!nnsh_cell_argument_context(text, strlen(text), &context))
        return NULL;
    memcpy(buffer, text + context.callee_start, context.callee_length);
    buffer[context.callee_length] = '\0';
    return buffer;
}

Test(cell_source, argument_context_names_the_called_path)
{
    char buffer[128];
    cr_assert_str_eq(callee_of("nn.layers.Conv2D{32, 3, ", buffer), "nn.layers.Conv2D");
    cr_assert_str_eq(callee_of("L.Dense{", buffer), "L.Dense");
    cr_assert_str_eq(callee_of("h = model:fit(x, y, {epochs = 2, ", buffer), "model:fit");
    cr_assert_str_eq(callee_of("m = nn.Sequential{\n  nn.layers.Dense{10,\n    ", buffer),
                     "nn.layers.Dense");
}

Test(cell_source, argument_context_needs_a_key_position)
{
    char buffer[128];
    cr_assert_null(callee_of("nn.layers.Conv2D{32, padding = ", buffer), "after =, a value");
    cr_assert_null(callee_of("f(", buffer), "a parenthesised argument, not a table");
    cr_assert_null(callee_of("t = {", buffer), "a table constructor, no call");
    cr_assert_null(callee_of("f{'a, ", buffer), "inside a string");
    cr_assert_null(callee_of("f{}, ", buffer), "the table is closed");
}

Test(lexer, tokens_and_lines)
{
    const char *source = "x = [==[a\nb]==] .. 'c' -- d\n--[[e\nf]] 0x1p4 ...";
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, source, strlen(source));
    nnsh_token_kind kinds[] = {NNSH_TOKEN_NAME,   NNSH_TOKEN_SYMBOL, NNSH_TOKEN_STRING,
                               NNSH_TOKEN_SYMBOL, NNSH_TOKEN_STRING, NNSH_TOKEN_NUMBER,
                               NNSH_TOKEN_SYMBOL, NNSH_TOKEN_END};
    int lines[] = {1, 1, 1, 2, 2, 4, 4, 4};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        nnsh_token token = nnsh_lexer_next(&lexer);
        cr_assert_eq(token.kind, kinds[i], "token %zu kind", i);
        cr_assert_eq(token.line, lines[i], "token %zu line", i);
    }
}

Test(lexer, unterminated_strings_and_comments_are_marked)
{
    nnsh_lexer lexer;
    nnsh_lexer_init(&lexer, "'abc", 4);
    cr_assert(nnsh_lexer_next(&lexer).unterminated);
    nnsh_lexer_init(&lexer, "[[abc", 5);
    cr_assert(nnsh_lexer_next(&lexer).unterminated);
    nnsh_lexer_init(&lexer, "x --[[abc", 9);
    nnsh_lexer_next(&lexer);
    cr_assert(nnsh_lexer_next(&lexer).unterminated);
}

Test(cell_source, open_blocks_brackets_and_long_strings_want_more_lines)
{
    const char *open[] = {
        "function f()", "for i = 1, 3 do", "while x do\n  y()", "if a then b() elseif c then",
        "repeat", "t = {1,", "print(", "x = [[long", "--[[ a comment", "do local f = function()",
        "local t = {f = function() return 1 end,",
    };
    for (size_t i = 0; i < sizeof open / sizeof open[0]; i++)
        cr_assert(nnsh_cell_is_open(open[i], strlen(open[i])), "[%s] is open", open[i]);
    const char *closed[] = {
        "x = 1", "function f() end", "if a then b() elseif c then d() else e() end",
        "repeat x() until y", "print('(')", "t[1] = {2}", "x = \"unfinished",
        "-- a comment with function in it", "end", "print())",
    };
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++)
        cr_assert(!nnsh_cell_is_open(closed[i], strlen(closed[i])), "[%s] is not open",
                  closed[i]);
}

Test(cell_source, the_innermost_unclosed_bracket_and_its_line)
{
    int line = 0;
    const char *table = "m = nn.Sequential{\n  L.Dense{4},\n";
    cr_assert_eq(nnsh_cell_unclosed_bracket(table, strlen(table), &line, NULL), '}');
    cr_assert_eq(line, 1);
    const char *nested = "f(a, {\n  b = g(1,\n";
    cr_assert_eq(nnsh_cell_unclosed_bracket(nested, strlen(nested), &line, NULL), ')');
    cr_assert_eq(line, 2);
    const char *in_string = "x = '(' .. \"[\" -- {\n";
    cr_assert_eq(nnsh_cell_unclosed_bracket(in_string, strlen(in_string), &line, NULL), '\0',
                 "brackets in strings and comments do not count");
    cr_assert_eq(nnsh_cell_unclosed_bracket("t = {1, 2}", 10, &line, NULL), '\0');
    cr_assert_eq(nnsh_cell_unclosed_bracket("a = (1]", 7, &line, NULL), '\0', "a mismatch is no hint");
}

Test(cell_source, a_quiet_expression_runs_with_its_values_dropped)
{
    nn_text out;
    nn_text_init(&out);
    cr_assert(nnsh_cell_discard_expression("x = 1; x + 1", 12, 7, &out));
    cr_assert_str_eq(out.data, "x = 1; return (function() end)(x + 1)");
    nn_text_free(&out);
}

Test(cell_source, top_level_locals_are_found_by_name)
{
    const char *source = "local a, b <const>, c = 1, 2, 3\nlocal function f() local inner = 1 end\n"
                         "do local hidden = 2 end\nx = 1";
    size_t length = strlen(source);
    cr_assert(nnsh_cell_declares_local(source, length, "a"));
    cr_assert(nnsh_cell_declares_local(source, length, "b"));
    cr_assert(nnsh_cell_declares_local(source, length, "c"));
    cr_assert(nnsh_cell_declares_local(source, length, "f"));
    cr_assert_not(nnsh_cell_declares_local(source, length, "inner"), "inside a function");
    cr_assert_not(nnsh_cell_declares_local(source, length, "hidden"), "inside a block");
    cr_assert_not(nnsh_cell_declares_local(source, length, "x"), "a global");
}

Test(cell_source, assignments_are_told_from_uses)
{
    const char *assigning[] = {"b = nil", "local b", "local a, b", "a, b = 1", "b=nil; c = 1",
                               "function b() end", "if x then b = 1 end", "local function b() end",
                               "x = 1\nb = nil", "b, t.f = nil, 1", "t.f, b = 1, nil",
                               "a[1], b = 1, 2", "do local a\nb = nil end",
                               "if x then local t\nb = nil end", "local x <const> = 1 b = 2"};
    for (size_t i = 0; i < sizeof assigning / sizeof *assigning; i++)
        cr_assert(nnsh_cell_assigns(assigning[i], strlen(assigning[i]), "b"), "[%s]",
                  assigning[i]);
    const char *not_assigning[] = {"print(b)", "t = {b = nil}", "t.b = 1", "t:b()", "x = b",
                                   "b == 1", "-- b = 1", "s = 'b = 1'", "a = 1 b.c = 2",
                                   "x = a, b", "f(a, b)", "bb = 1", "function t.b() end",
                                   "function g() local b = 1 end", "for b = 1, 2 do end",
                                   "for k, b in pairs(t) do end", "b[1] = nil", "b.x = 1",
                                   "if x then local b = 2 end"};
    for (size_t i = 0; i < sizeof not_assigning / sizeof *not_assigning; i++)
        cr_assert(!nnsh_cell_assigns(not_assigning[i], strlen(not_assigning[i]), "b"), "[%s]",
                  not_assigning[i]);
}
