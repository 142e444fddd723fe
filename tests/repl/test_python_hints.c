/* Hints for Python habits: each habit's Lua error, with the line it names, gets the one
 * hint line that says how Lua writes it; ordinary Lua mistakes get none. */
#include <criterion/criterion.h>
#include <string.h>

#include "python_hints.h"

/* The hint for `message` on the one-line cell `source` ("" for none). */
static void expect_hint(const char *message, const char *source, const char *expected)
{
    nn_text hint;
    nn_text_init(&hint);
    bool found = nnsh_python_hint(&hint, message, NULL, source, strlen(source), 1);
    cr_assert_eq(found, expected[0] != '\0', "for [%s] on [%s]: expected %s, got [%s]", message,
                 source, expected[0] ? expected : "no hint", hint.data ? hint.data : "");
    cr_assert_str_eq(hint.data ? hint.data : "", expected, "for [%s] on [%s]", message, source);
    nn_text_free(&hint);
}

Test(python_hints, keyword_arguments_become_an_options_table)
{
    expect_hint("In[1]:1: ')' expected near '='", "model:fit(x, y, epochs=3)",
                "hint: Lua passes options in a table: model:fit(x, y, {epochs = 3})");
    expect_hint("In[1]:1: ')' expected near '='", "model:compile(optimizer='adam')",
                "hint: Lua passes options in a table: model:compile{optimizer = 'adam'}");
    expect_hint("In[2]:1: ')' expected near '='",
                "model:compile(optimizer='adam', loss='mse', metrics=['accuracy'])",
                "hint: Lua passes options in a table: model:compile{optimizer = 'adam', "
                "loss = 'mse', metrics = {'accuracy'}}");
    /* a layer takes all in one table, as nn writes it; Python's constants become Lua's */
    expect_hint("In[1]:1: ')' expected near '='",
                "d = nn.layers.Dense(64, activation='relu', use_bias=False)",
                "hint: Lua passes options in a table: nn.layers.Dense{64, activation = 'relu', "
                "use_bias = false}");
    expect_hint("In[1]:1: ')' expected near '='", "nn.layers.Dense(units=3, input_shape=(None, 4))",
                "hint: Lua passes options in a table: nn.layers.Dense{units = 3, "
                "input_shape = {nn.None, 4}}");
    /* a call that goes on past the line: the general form */
    expect_hint("In[1]:1: ')' expected near '='", "model:fit(x, y, epochs=3,",
                "hint: Lua passes options in a table: model:fit(x, y, {epochs = 3})");
}

Test(python_hints, tuples_and_lists_become_tables)
{
    expect_hint("In[1]:1: ')' expected near ','", "nn.layers.Conv2D{32, (3, 3)}",
                "hint: lists and tuples are tables in Lua: {3, 3}");
    expect_hint("In[1]:1: ')' expected near ','", "nn.layers.Dense{3, input_shape=(4,)}",
                "hint: lists and tuples are tables in Lua: {4}");
    expect_hint("In[1]:1: unexpected symbol near '['", "[1, 2, 3]",
                "hint: lists and tuples are tables in Lua: {1, 2, 3}");
    expect_hint("In[1]:1: unexpected symbol near '['", "m = nn.Sequential([nn.layers.Dense(3)])",
                "hint: lists and tuples are tables in Lua: {nn.layers.Dense(3)}");
    expect_hint("In[1]:1: unexpected symbol near '['", "squares = [x * x for x in t]",
                "hint: Lua has no list comprehensions: fill a table in a loop, t[#t + 1] = x");
}

Test(python_hints, comments_and_operators)
{
    expect_hint("In[1]:1: unexpected symbol near '#'", "# build the model",
                "hint: comments start with -- in Lua");
    expect_hint("In[1]:1: unexpected symbol near '#'", "x = 1  # one",
                "hint: comments start with -- in Lua");
    /* a cell's last line read as an expression: the length of a nil global */
    expect_hint("In[1]:1: attempt to get length of a nil value (global 'comment')",
                "x = 3;  # comment", "hint: comments start with -- in Lua");
    expect_hint("In[1]:1: unexpected symbol near '*'", "y = x ** 2", "hint: Lua writes x^2");
    expect_hint("In[1]:1: ')' expected near '!'", "print(a != b)",
                "hint: Lua writes ~= for not equal");
    expect_hint("In[1]:1: syntax error near '+'", "x += 1", "hint: Lua has no +=; write x = x + 1");
    expect_hint("In[1]:1: syntax error near '-'", "t.count -= a + b",
                "hint: Lua has no -=; write t.count = t.count - (a + b)");
    expect_hint("In[1]:1: syntax error near '*'", "x **= 2", "hint: Lua has no **=; write x = x^2");
    expect_hint("In[1]:1: ')' expected near 'is'", "print(x is None)",
                "hint: Lua writes x == nil for x is None, and ~= for is not");
    expect_hint("In[1]:1: 'then' expected near 'else'", "x = 1 if y else 2",
                "hint: Lua writes c and a or b for a if c else b");
    expect_hint("In[1]:1: '}' expected near ':'", "d = {'a': 1}",
                "hint: dictionaries are tables in Lua: {lr = 0.01, ['a key'] = 2}");
    expect_hint("In[1]:1: unexpected symbol near '\"doc\"'", "s = \"\"\"doc\"\"\"",
                "hint: Lua writes long strings as [[...]] and long comments as --[[...]]");
}

Test(python_hints, blocks_and_definitions)
{
    expect_hint("In[1]:1: <name> expected near <eof>", "if x:",
                "hint: Lua writes if x then ... end");
    expect_hint("In[1]:1: 'then' expected near <eof>", "if x: print(1)",
                "hint: Lua writes if x then ... end");
    expect_hint("In[1]:1: syntax error near 'x'", "elif x then",
                "hint: Lua writes elseif x then ... end");
    expect_hint("In[1]:1: 'do' expected near ':'", "while n > 0:",
                "hint: Lua writes while n > 0 do ... end");
    expect_hint("In[1]:1: <name> expected near <eof>", "for i in range(3):",
                "hint: Lua counts with for i = 0, 2 do ... end");
    expect_hint("In[1]:1: <name> expected near <eof>", "for i in range(1, n):",
                "hint: Lua counts with for i = 1, n - 1 do ... end");
    expect_hint("In[1]:1: <name> expected near <eof>", "for x in xs:",
                "hint: Lua walks a list with for _, x in ipairs(xs) do ... end");
    expect_hint("In[1]:1: <name> expected near <eof>", "for k, v in d.items():",
                "hint: Lua writes for k, v in pairs(d) do ... end");
    expect_hint("In[1]:1: syntax error near 'f'", "def f(x):",
                "hint: Lua writes function f(x) ... end");
    expect_hint("In[1]:1: syntax error near 'f'", "def f(x, y=2, *rest):",
                "hint: Lua writes function f(x, y, ...) ... end");
    expect_hint("In[1]:1: <eof> expected near 'else'", "else:",
                "hint: Lua writes if x then ... else ... end, with no colons");
    expect_hint("In[1]:1: <name> expected near <eof>", "try:",
                "hint: Lua catches errors with pcall: local ok, err = pcall(f, x)");
    expect_hint("In[1]:1: syntax error near 'numpy'", "import numpy as np",
                "hint: Lua has no import: nn is loaded already, and require 'name' loads a Lua "
                "module");
    expect_hint("In[1]:1: function arguments expected near <eof>", "f = lambda x: x",
                "hint: Lua writes function(x) return x * 2 end for lambda x: x * 2");
}

Test(python_hints, a_header_a_few_lines_up_is_found)
{
    /* `if x:` takes the next line's first name as a method: the error is a line later */
    const char *source = "if x:\n    print(x)\nelse:\n    print(y)\n";
    nn_text hint;
    nn_text_init(&hint);
    cr_assert(nnsh_python_hint(&hint, "f.lua:3: 'then' expected near 'else'", "f.lua", source,
                               strlen(source), 1));
    cr_assert_str_eq(hint.data, "hint: Lua writes if x then ... else ... end, with no colons");
    nn_text_free(&hint);
    /* a cell that starts at line 10 of its file: the message counts the file's lines */
    const char *cell = "x = 1\nfor i in range(4):\n    print(i)\n";
    nn_text_init(&hint);
    cr_assert(nnsh_python_hint(&hint, "nb.lua:12: 'do' expected near <eof>", NULL, cell,
                               strlen(cell), 10));
    cr_assert_str_eq(hint.data, "hint: Lua counts with for i = 0, 3 do ... end");
    nn_text_free(&hint);
}

Test(python_hints, python_builtins_at_run_time)
{
    expect_hint("In[1]:1: attempt to call a nil value (global 'f')", "print(f\"hi {x}\")",
                "hint: Lua has no f-strings: 'x = ' .. x, or string.format('x = %g', x)");
    expect_hint("In[1]:1: attempt to call a nil value (global 'len')", "print(len(t))",
                "hint: Lua writes #t for len(t)");
    expect_hint("In[1]:1: attempt to call a nil value (field 'append')", "t.append(3)",
                "hint: Lua appends with t[#t + 1] = x");
    /* A method written with Python's dot gets Lua's colon; modules and classes keep it. */
    expect_hint("In[1]:1: ')' expected near '='",
                "model.compile(optimizer='adam', loss='mse', metrics=['accuracy'])",
                "hint: Lua passes options in a table: model:compile{optimizer = 'adam', "
                "loss = 'mse', metrics = {'accuracy'}}");
    expect_hint("In[1]:1: ')' expected near '='", "model.fit(x, y, epochs=1)",
                "hint: Lua passes options in a table: model:fit(x, y, {epochs = 1})");
    expect_hint("In[1]:1: ')' expected near '='", "L.Dense(64, activation='relu')",
                "hint: Lua passes options in a table: L.Dense{64, activation = 'relu'}");
    expect_hint("In[1]:1: ')' expected near '='",
                "cb = nn.callbacks.EarlyStopping(monitor='val_loss', patience=2)",
                "hint: Lua passes options in a table: nn.callbacks.EarlyStopping{monitor = "
                "'val_loss', patience = 2}");
    /* dtype is a plain argument in nn. */
    expect_hint("In[1]:1: ')' expected near '='", "z = nn.zeros({2, 3}, dtype='int32')",
                "hint: nn takes shape and dtype as plain arguments: nn.zeros({2, 3}, 'int32')");
    expect_hint("In[1]:1: ')' expected near '='", "z = nn.zeros(shape=(2, 3), dtype='int32')",
                "hint: nn takes shape and dtype as plain arguments: nn.zeros({2, 3}, 'int32')");
    /* Python's libraries: what nnsh has instead, not a table no call takes. */
    expect_hint("In[1]:1: ')' expected near '='", "c = np.argmax(p, axis=1)",
                "hint: Lua has no NumPy: tensors have its operations as methods (x:argmax(-1), "
                "x:mean(0), x:reshape(2, 3)) and nn the rest (nn.zeros, nn.matmul); help "
                "'nn.Tensor' lists them");
    expect_hint("In[1]:1: ')' expected near '='", "plt.plot(h, label='loss')",
                "hint: nnsh draws charts in the terminal: history:plot(), or nn.plot(values)");
    expect_hint("In[1]:1: attempt to index a nil value (global 'tf')", "p = tf.argmax(x, 1)",
                "hint: nnsh's Keras is nn (nn.layers.Dense, nn.Sequential, nn.datasets.mnist), "
                "and a tensor's methods do tf's math (x:argmax(-1), x:mean())");
    expect_hint("In[1]:1: attempt to index a nil value (global 'npx')", "p = npx.argmax(x)", "");
    /* Python's operators and indexing. */
    expect_hint("In[1]:1: unexpected symbol near '::'", "y = x[::2]",
                "hint: Lua has no slices: t:slice(first, last) takes rows (counting from 1, "
                "last included), t:take{1, 3, 5} the rows given");
    expect_hint("In[1]:1: ']' expected near ','", "y = x[0, :, :, 0]",
                "hint: Lua's [] takes one position: t[1][2] goes one axis at a time, counting "
                "from 1");
    expect_hint("In[1]:1: unexpected symbol near '2'", "2 ** 10", "hint: Lua writes 2^10");
    expect_hint("In[1]:1: syntax error near '@'", "p @ q",
                "hint: Lua has no @: nn.matmul(a, b) multiplies matrices");
    expect_hint("In[1]:1: syntax error near 'y'", "if x then a() elif y then b() end",
                "hint: Lua writes elseif for elif, and ends the if with end");
    expect_hint("In[1]:1: unexpected symbol near '&'", "ok = a && b",
                "hint: Lua writes and for &&, or for ||");
    expect_hint("In[1]:1: unexpected symbol near '!'", "ok = !a", "hint: Lua writes not x for !x");
    expect_hint("In[1]:1: unexpected symbol near '!'", "!ls -l",
                "hint: Lua runs a shell command with os.execute('ls -l')");
    expect_hint("In[1]:1: ')' expected near '3'", "print(\"a elif b\" 3)", "");
    expect_hint("In[1]:1: ')' expected near '='", "y = x.astype(dtype='int32')",
                "hint: nn takes shape and dtype as plain arguments: x:astype('int32')");
    expect_hint("In[1]:1: attempt to index a boolean value", "acc = (p == y):mean()",
                "hint: == compares whole tensors to one true or false; a:eq(b) compares them "
                "element by element");
    expect_hint("In[1]:1: 'None' is Python: Lua's nothing is nil; a size left open is nn.None",
                "y = x[None]", "hint: NumPy's x[None] adds an axis: x:expand_dims(0)");
    expect_hint("In[1]:1: attempt to call a table value (for iterator 'for iterator')",
                "for layer in model.layers do print(layer.name) end",
                "hint: Lua walks a list with ipairs: for _, layer in ipairs(model.layers) do");
    expect_hint("In[1]:1: attempt to call a nil value (global 'max')", "print(max(p))",
                "hint: Lua writes math.max(a, b) for numbers, t:max() for a tensor");
    /* Correct Lua and other mistakes get none: a colon in a comment, keywords before a
     * parenthesis, a boolean a name holds, a ? after a statement. */
    cr_expect_not(nnsh_python_block_header("for i = 1, 3 do -- i: the index", 31));
    cr_expect_not(nnsh_python_block_header("if a then -- note: sort first", 29));
    cr_expect(nnsh_python_block_header("if a: -- note", 13));
    expect_hint("In[1]:1: ')' expected near '='", "local x = 1 if(x = 1) then print(x) end", "");
    expect_hint("In[1]:1: ')' expected near '='", "local f = function(a = 1) end", "");
    expect_hint("In[1]:1: attempt to index a boolean value (field 'verbose')",
                "if cfg.verbose.level == 2 then print(1) end", "");
    expect_hint("In[1]:1: unexpected symbol near '?'", "local v = 3 print(v) ?", "");
    expect_hint("In[1]:1: unexpected symbol near '='", "x = = 1 -- python elif here", "");
    expect_hint("In[1]:1: attempt to get length of a nil value (global 'items')",
                "print(# items)", "");
    /* A variable named lambda, and three quotes inside a Lua string, are no Python. */
    expect_hint("In[1]:2: unexpected symbol near ')'", "local lambda = 0.01\nprint(lambda * 2))", "");
    expect_hint("In[1]:1: unexpected symbol near '='", "local q = '\"\"\"' local y = = 2", "");
    expect_hint("In[1]:1: unexpected symbol near '\"doc\"'", "s = \"\"\"doc\"\"\"",
                "hint: Lua writes long strings as [[...]] and long comments as --[[...]]");
    /* A Lua if that lacks its then is no conditional expression. */
    expect_hint("In[1]:1: 'then' expected near 'else'", "local n = 0 if n > 0 else n = 1 end", "");
    /* A Python-looking line inside a long string or comment above the error is text. */
    expect_hint("In[1]:4: unexpected symbol near '='",
                "local s = [[\nif x: the text of a page\n]]\nlocal y = = 1", "");
    expect_hint("In[1]:4: unexpected symbol near '='",
                "--[[\nfor x in items:\n]]\nlocal y = = 1", "");
    expect_hint("In[1]:2: function arguments expected near '='", "if x:\n  y = 1",
                "hint: Lua writes if x then ... end");
    expect_hint("In[1]:1: syntax error near '2'", "x = 1 2 -- 2**3", "");
    /* Lua's own labels and a plain index are no Python. */
    expect_hint("In[1]:1: unexpected symbol near '::'", "goto ::x", "");
    expect_hint("In[1]:1: attempt to index a boolean value", "y = flag.x", "");
    expect_hint("In[1]:1: attempt to call a nil value (global 'quit')", "quit()",
                "hint: Ctrl-D or %quit leaves the shell; os.exit() ends a script");
    expect_hint("In[1]:1: attempt to call a nil value (global 'exit')", "exit()",
                "hint: Ctrl-D or %quit leaves the shell; os.exit() ends a script");
    /* IPython's ? for help, before or after, once or twice. */
    expect_hint("In[1]:1: syntax error near '?'", "L.Dense?",
                "hint: Lua has no ? for help: help(L.Dense) shows it");
    expect_hint("In[1]:1: unexpected symbol near '?'", "?nn.layers.Conv2D",
                "hint: Lua has no ? for help: help(nn.layers.Conv2D) shows it");
    expect_hint("In[1]:1: unexpected symbol near '?'", "help(model)??",
                "hint: Lua has no ? for help: help(model) shows it");
    /* C's conditional is no help request. */
    expect_hint("In[1]:1: unexpected symbol near '?'", "x = a ? b : c", "");
    /* with a traceback after the message */
    expect_hint("In[1]:1: attempt to call a nil value (global 'range')\ntraceback:\n  In[1]:1: in "
                "main chunk",
                "for i in range(3) do end", "hint: Lua counts with for i = 0, n - 1 do ... end");
}

Test(python_hints, ordinary_lua_mistakes_get_no_hint)
{
    expect_hint("In[1]:1: unexpected symbol near '='", "x = = 1", "");
    expect_hint("In[1]:1: 'then' expected near 'print'", "if x == 1 print(x) end", "");
    expect_hint("In[1]:1: ')' expected near 'c'", "f(a, b c)", "");
    expect_hint("In[1]:1: '}' expected near <eof>", "t = {1, 2", "");
    expect_hint("In[1]:1: 'then' expected near <eof>", "if a:b() == 1", "");
    expect_hint("In[1]:1: ')' expected near '='", "function f(a=1) end", "");
    expect_hint("In[1]:1: attempt to call a nil value (global 'f')", "f(x)", "");
    expect_hint("In[1]:1: attempt to call a nil value (global 'len')", "y = length(t)", "");
    expect_hint("In[1]:1: attempt to get length of a nil value (global 't')", "n = #t", "");
    expect_hint("In[1]:1: attempt to perform arithmetic on a nil value (global 'x')", "y = x + 1",
                "");
    expect_hint("not a located message", "x += 1", "");
}

Test(python_hints, a_message_about_another_chunk_gets_no_hint)
{
    /* a function from an earlier cell failed: its line is not this cell's */
    const char *source = "print(len(t))";
    nn_text hint;
    nn_text_init(&hint);
    cr_assert_not(nnsh_python_hint(&hint, "In[2]:1: attempt to call a nil value (global 'len')",
                                   "In[5]", source, strlen(source), 1));
    cr_assert(nnsh_python_hint(&hint, "In[5]:1: attempt to call a nil value (global 'len')",
                               "In[5]", source, strlen(source), 1));
    nn_text_free(&hint);
}

Test(python_hints, block_headers)
{
    const char *headers[] = {"if x:",     "  elif a == b:",        "else:",
                             "while True:", "for i in range(3):", "for x in xs: print(x)",
                             "def f(x):", "try:",               "except ValueError:",
                             "finally:"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
        cr_assert(nnsh_python_block_header(headers[i], strlen(headers[i])), "[%s]", headers[i]);
    const char *lua[] = {"if x then", "if a:b() then", "for i = 1, 3 do", "else", "x = t:",
                         "local s = 'if x:'", "def = 3", "elseif x then"};
    for (size_t i = 0; i < sizeof lua / sizeof lua[0]; i++)
        cr_assert_not(nnsh_python_block_header(lua[i], strlen(lua[i])), "[%s]", lua[i]);
}

Test(python_hints, python_names_read_as_globals)
{
    cr_assert_str_eq(nnsh_python_constant_message("None"),
                     "'None' is Python: Lua's nothing is nil; a size left open is nn.None");
    cr_assert_str_eq(nnsh_python_constant_message("True"), "'True' is Python: Lua writes true");
    cr_assert_str_eq(nnsh_python_constant_message("False"), "'False' is Python: Lua writes false");
    cr_assert_null(nnsh_python_constant_message("none"));
    nn_text message;
    nn_text_init(&message);
    nnsh_python_option_message(&message, "same");
    cr_assert_str_eq(message.data,
                     "'same' is not defined: nn's option values are strings in Lua, so write 'same'");
    nn_text_free(&message);
}

Test(python_hints, nested_tuple_unpacking_becomes_a_flat_list_of_names)
{
    expect_hint("In[1]:1: ')' expected near ','",
                "(x_train, y_train), (x_test, y_test) = nn.datasets.mnist.load_data()",
                "hint: Lua assigns several values without brackets: x_train, y_train, x_test, "
                "y_test = nn.datasets.mnist.load_data()");
    expect_hint("In[1]:1: ')' expected near ','", "(a, b) = f()",
                "hint: Lua assigns several values without brackets: a, b = f()");
    /* a tuple that is a value, not names, stays the tuple hint */
    expect_hint("In[1]:1: ')' expected near ','", "c = nn.layers.Conv2D{32, (3, 3)}",
                "hint: lists and tuples are tables in Lua: {3, 3}");
}

Test(python_hints, a_power_or_an_augmented_assignment_anywhere_on_the_line)
{
    expect_hint("In[1]:1: syntax error near '*'", "x ** 2", "hint: Lua writes x^2");
    expect_hint("In[1]:1: syntax error near '+'", "x = 1; x += 1",
                "hint: Lua has no +=; write x = x + 1");
    expect_hint("In[1]:1: syntax error near '+'", "s = 'a;b'; n += 2",
                "hint: Lua has no +=; write n = n + 2");
}

Test(python_hints, slices_point_to_slice)
{
    const char *slice = "hint: Lua has no slices: t:slice(first, last) takes rows (counting from 1, "
                        "last included); t[i] is row i";
    expect_hint("In[1]:1: ']' expected near ':'", "y = x[1:2]", slice);
    expect_hint("In[1]:1: unexpected symbol near ':'", "y = x[:, 1]", slice);
    /* for t[a:b] Lua says "function arguments expected" (a method call begun): no hint
     * then; the slice hint answers only the messages a slice gets */
    expect_hint("In[1]:1: unexpected symbol near ':'", "y = t[a:b]", slice);
    expect_hint("In[1]:1: function arguments expected near ']'", "y = t[a:b]", "");
}

/* The hint for the teacher's cell: its second line calls d.bias. */
static const char *const paren_d_bias =
    "hint: line 2 starts with '(', so Lua reads it as a call of the line above (d.bias(...)); "
    "end the line above with ';' or start this one with ';('";

Test(python_hints, a_line_starting_with_a_bracket_calls_the_line_above)
{
    const char *teacher = "by_hand = nn.matmul(x, d.kernel) + d.bias\n"
                          "(by_hand - d(x)):abs():max() < 1e-5";
    /* an error in the arguments, or in the call itself */
    expect_hint("In[1]:2: tensor -: expected tensors or numbers, got nil and nn.Tensor", teacher,
                paren_d_bias);
    expect_hint("In[1]:1: attempt to call a userdata value (field 'bias')", teacher,
                paren_d_bias);
    expect_hint("In[1]:1: attempt to call a nil value", "print(a)\n(b):foo()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(print(a)(...)); end the line above with ';' or start this one with ';('");
    expect_hint("In[1]:1: attempt to call a nil value (global 'y')", "x = y\n(f or g)(1)",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(y(...)); end the line above with ';' or start this one with ';('");
    /* calls with a string or a table, an index and a group are expressions too */
    expect_hint("In[1]:1: x", "m = require 'nn'\n(m):f()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(require 'nn'(...)); end the line above with ';' or start this one with ';('");
    expect_hint("In[1]:1: x", "v = t[1]\n  (v):f()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(t[1](...)); end the line above with ';' or start this one with ';('");
    expect_hint("In[1]:1: x", "v = (a or b)\n(v):f()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "((a or b)(...)); end the line above with ';' or start this one with ';('");
    expect_hint("In[1]:1: x", "v = o:m 'a'\n(v):f()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(o:m 'a'(...)); end the line above with ';' or start this one with ';('");
    expect_hint("In[1]:1: x", "v = o:m{}\n(v):f()",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(o:m{}(...)); end the line above with ';' or start this one with ';('");
    /* a syntax error on the line, inside a block */
    expect_hint("In[1]:3: function arguments expected near '='",
                "for i = 1, 2 do\n  x = y\n  (a):b = 1\nend",
                "hint: line 3 starts with '(', so Lua reads it as a call of the line above "
                "(y(...)); end the line above with ';' or start this one with ';('");
    /* a comment and a blank line between: the line above is named */
    expect_hint("In[1]:3: x", "x = y -- note\n\n(f or g)(1)",
                "hint: line 3 starts with '(', so Lua reads it as a call of line 1 (y(...)); "
                "end line 1 with ';' or start this one with ';('");
    /* an expression over several lines: Lua names its first line for the call; too long
     * to quote */
    expect_hint("In[1]:1: model(x): expected a tensor or a table of numbers for x, got nil",
                "model = nn.Sequential{\n  nn.layers.Dense{2},\n}\n(model):summary()",
                "hint: line 4 starts with '(', so Lua reads it as a call of the line above; "
                "end the line above with ';' or start this one with ';('");
    /* arguments over several lines */
    expect_hint("In[1]:3: x", "x = y\n(f or\n g)(1)",
                "hint: line 2 starts with '(', so Lua reads it as a call of the line above "
                "(y(...)); end the line above with ';' or start this one with ';('");
}

Test(python_hints, a_bracket_line_in_a_notebook_is_named_by_the_files_line)
{
    const char *cell = "by_hand = nn.matmul(x, d.kernel) + d.bias\n(by_hand - d(x)):abs()";
    nn_text hint;
    nn_text_init(&hint);
    cr_assert(nnsh_python_hint(&hint, "nb.md:11: tensor -: expected tensors or numbers", "nb.md",
                               cell, strlen(cell), 10));
    cr_assert_str_eq(hint.data,
                     "hint: line 11 starts with '(', so Lua reads it as a call of the line above "
                     "(d.bias(...)); end the line above with ';' or start this one with ';('");
    nn_text_free(&hint);
}

Test(python_hints, a_bracket_line_that_calls_nothing_gets_no_hint)
{
    /* inside a long string or a long comment */
    expect_hint("In[1]:3: x", "notes = [[\nby_hand = d.bias\n(by_hand - y)\n]] + 1", "");
    expect_hint("In[1]:3: x", "--[[\nx = y\n(f or g)(1)\n]] z()", "");
    expect_hint("In[1]:2: x", "x = y --[[ note\n(f or g)(1) ]]", "");
    /* after an operator, an opening bracket, a comma, a keyword, a ';' */
    expect_hint("In[1]:2: x", "x = y +\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "x = y ..\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "x = f(\n(a or b))", "");
    expect_hint("In[1]:2: x", "t = {\n(a or b)}", "");
    expect_hint("In[1]:2: x", "t = {y,\n(a or b)}", "");
    expect_hint("In[1]:2: x", "x = y;\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "if y then\n(f or g)(1) end", "");
    expect_hint("In[1]:2: x", "while y do\n(f or g)(1) end", "");
    expect_hint("In[1]:2: x", "if y then z() else\n(f or g)(1) end", "");
    expect_hint("In[1]:2: x", "return\n(f or g)(1)", "");
    /* after a value Lua does not call, or a name that is no value */
    expect_hint("In[1]:2: x", "x = 1\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "x = 'a'\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "x = {}\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "x = nil\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "f = function() end\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "local y\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "local a, b <const>\n(f or g)(1)", "");
    expect_hint("In[1]:2: x", "goto done\n(f or g)(1)\n::done::", "");
    expect_hint("In[1]:2: x", "function m.f\n(a) return a end", "");
    expect_hint("In[1]:2: x", "x = o:m\n(a)", "");
    /* the '(' not first on its line */
    expect_hint("In[1]:1: attempt to call a nil value (global 'y')", "x = y (f or g)(1)", "");
    /* an error elsewhere: a later line, another name on the line above, or a line inside
     * the called expression */
    expect_hint("In[1]:3: attempt to perform arithmetic on a nil value (global 'w')",
                "x = y\n(f or g)(1)\nz = w + 1", "");
    expect_hint("In[1]:1: attempt to call a nil value (global 'pirnt')", "pirnt(a)\n(b):foo()",
                "");
    expect_hint("In[1]:2: attempt to call a nil value (field 'Dnse')",
                "model = nn.Sequential{\n  nn.layers.Dnse{2},\n}\n(model):summary()", "");
}

Test(python_hints, pytorch_habits_name_the_nnsh_way)
{
    /* torch is a library as np is: what nnsh has instead */
    expect_hint("In[1]:1: attempt to index a nil value (global 'torch')",
                "y = torch.cat({a, b}, 1)",
                "hint: nnsh is Keras-style, not PyTorch: nn.layers.Dense for nn.Linear, "
                "model:compile and model:fit train, nn.concatenate{a, b} joins tensors, "
                "model:save(path) saves");
    /* a loss and a whole-tensor reduction are numbers already */
    expect_hint("In[1]:1: attempt to index a number value", "print(x:mean():item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    expect_hint("In[2]:1: attempt to index a number value (global 'loss')",
                "print(loss.item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    expect_hint("In[3]:1: attempt to index a number value (global 'loss')", "loss.backward()",
                "hint: nnsh has no autograd: model:fit(x, y, {...}) trains, or "
                "model:train_on_batch(x, y) takes one step of a loop of your own");
    expect_hint("In[1]:1: attempt to call a nil value (method 'step')", "opt:step()",
                "hint: the optimizer steps inside model:fit and model:train_on_batch: give it "
                "to model:compile{optimizer = ...}");
    expect_hint("In[1]:1: attempt to call a nil value (method 'zero_grad')", "opt:zero_grad()",
                "hint: the optimizer steps inside model:fit and model:train_on_batch: give it "
                "to model:compile{optimizer = ...}");
    expect_hint("In[1]:1: attempt to call a nil value (field 'step')", "optimizer.step()",
                "hint: the optimizer steps inside model:fit and model:train_on_batch: give it "
                "to model:compile{optimizer = ...}");
    /* x.size() and x.size(0) */
    expect_hint("In[1]:1: attempt to call a number value (field 'size')", "n = x.size(0)",
                "hint: x.size is the number of elements (a field, no call); x.shape[1] is the "
                "size of the first axis");
    expect_hint("In[1]:1: attempt to call a number value (method 'size')", "n = x:size()",
                "hint: x.size is the number of elements (a field, no call); x.shape[1] is the "
                "size of the first axis");
    /* other numbers indexed get no hint */
    expect_hint("In[1]:1: attempt to index a number value (global 'n')", "print(n.value)", "");
    /* a table of the user's own with a step method, or another value on the line, is no
     * PyTorch habit */
    expect_hint("In[1]:1: attempt to call a nil value (method 'step')",
                "local obs = env:step(1)", "");
    expect_hint("In[1]:1: attempt to call a nil value (field 'step')", "sim.step(0.1)", "");
    expect_hint("In[1]:1: attempt to index a number value (local 'item')",
                "print(item.name, get_item(1))", "");
    expect_hint("In[1]:1: attempt to index a number value (local 'n')",
                "game.backward(n.x)", "");
    expect_hint("In[1]:1: attempt to index a number value (global 'n')",
                "print(n.x, loss:item())", "");
    expect_hint("In[1]:1: attempt to call a nil value (method 'step')", "options:step()", "");
    expect_hint("In[1]:1: attempt to call a nil value (method 'step')", "adopter:step()", "");
    /* an indexed number (Lua names no variable), blanks around ':', a later call */
    expect_hint("In[1]:1: attempt to index a number value (field 'integer index')",
                "print(losses[1]:item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    expect_hint("In[1]:1: attempt to index a number value (field '?')",
                "print(h.loss[i]:item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    expect_hint("In[1]:1: attempt to index a number value (global 'loss')",
                "print(loss :item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    expect_hint("In[1]:1: attempt to index a number value (local 'loss')",
                "print(t:item(), loss:item())",
                "hint: x:sum(), x:mean() and a loss are Lua numbers already: drop :item()");
    /* Python's with-block */
    expect_hint("In[1]:1: syntax error near 'torch'", "with torch.no_grad():",
                "hint: nnsh needs no torch.no_grad(): model(x) and model:predict(x) keep no "
                "gradients; Lua has no with-block");
    expect_hint("In[1]:1: syntax error near 'open'", "with open('log.txt') as f:",
                "hint: Lua has no with-block: local f = assert(io.open(path)), then "
                "f:read('a') and f:close()");
    expect_hint("In[1]:1: syntax error near 'lock'", "with lock:",
                "hint: Lua has no with-block: write the setup, a do ... end block, and the "
                "cleanup after it");
    /* a name that begins with "with" is no with-block */
    expect_hint("In[1]:1: syntax error near 'x'", "without x", "");
    expect_hint("In[1]:1: attempt to call a nil value (method 'step')", "self.my_optimizer:step()",
                "hint: the optimizer steps inside model:fit and model:train_on_batch: give it "
                "to model:compile{optimizer = ...}");
}
