/* Guessing the listed name a misspelt one meant: which slips count as one edit, how many
 * edits a name of a given length may carry, ties, and the text errors insert. */
#include <criterion/criterion.h>
#include <string.h>

#include "names.h"

static const char *const activations[] = {"linear", "relu", "sigmoid", "softmax", "tanh",
                                          "elu", "selu", "gelu", NULL};

static void expect_guess(const char *typed, const char *const *names, const char *expected)
{
    char text[128];
    nn_names_did_you_mean(text, sizeof text, typed, names);
    cr_expect_str_eq(text, expected, "typed '%s': \"%s\"", typed, text);
}

Test(names, one_slip_finds_the_name)
{
    expect_guess("rleu", activations, " (did you mean 'relu'?)");      /* neighbours swapped */
    expect_guess("sigmod", activations, " (did you mean 'sigmoid'?)"); /* a letter dropped */
    expect_guess("softmaxx", activations, " (did you mean 'softmax'?)"); /* one added */
    expect_guess("tanj", activations, " (did you mean 'tanh'?)");      /* one changed */
    expect_guess("Softmax", activations, " (did you mean 'softmax'?)"); /* case only */
}

Test(names, of_names_that_differ_in_case_only_the_nearer_case_is_named)
{
    static const char *const metrics[] = {"precision", "Precision", "recall", NULL};
    expect_guess("Precisionn", metrics, " (did you mean 'Precision'?)");
    expect_guess("precisionn", metrics, " (did you mean 'precision'?)");
    static const char *const reversed[] = {"Precision", "precision", NULL};
    expect_guess("Precison", reversed, " (did you mean 'Precision'?)");
    expect_guess("precison", reversed, " (did you mean 'precision'?)");
}

Test(names, ties_are_named_alphabetically_whatever_their_order)
{
    static const char *const losses[] = {"mse", "mae", "mape", NULL};
    expect_guess("mxe", losses, " (did you mean 'mae' or 'mse'?)");
    /* relu, elu, selu and gelu are all one edit from "eelu"; the first three are named. */
    expect_guess("eelu", activations, " (did you mean 'elu', 'gelu' or 'relu'?)");
    static const char *const reversed[] = {"selu", "relu", "gelu", "elu", NULL};
    expect_guess("eelu", reversed, " (did you mean 'elu', 'gelu' or 'relu'?)");
}

Test(names, the_allowed_edits_grow_with_the_name)
{
    static const char *const names[] = {"categorical_crossentropy", "abc", NULL};
    /* Three letters allow one edit, not two; two letters allow only another case. */
    expect_guess("xbc", names, " (did you mean 'abc'?)");
    expect_guess("xyc", names, "");
    static const char *const short_names[] = {"l1", "l2", "x", NULL};
    expect_guess("l3", short_names, "");
    expect_guess("L1", short_names, " (did you mean 'l1'?)");
    expect_guess("y", short_names, "");
    /* 24 letters allow eight: two dropped and one swapped still find it. */
    expect_guess("categorcal_crossentrpoy", names,
                 " (did you mean 'categorical_crossentropy'?)");
    /* Nothing close, nothing typed, an exact name, or a name too long to be a slip. */
    expect_guess("adam", activations, "");
    expect_guess("", activations, "");
    expect_guess("relu", activations, "");
    char long_name[80];
    memset(long_name, 'r', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    expect_guess(long_name, activations, "");
}

Test(names, offered_names_are_kept_once_and_the_text_fits_its_buffer)
{
    nn_name_guess guess;
    nn_name_guess_start(&guess, "elk");
    nn_name_guess_offer(&guess, "elu");
    nn_name_guess_offer(&guess, "elu");
    cr_expect_eq(guess.found_count, 1);
    char small[12];
    nn_name_guess_text(&guess, small, sizeof small);
    cr_expect_eq(strlen(small), sizeof small - 1, "cut short, still terminated: '%s'", small);
    char none[1] = {'x'};
    nn_name_guess_start(&guess, "zzz");
    nn_name_guess_text(&guess, none, sizeof none);
    cr_expect_eq(none[0], '\0');
}

Test(names, the_names_older_keras_used_lead_to_the_current_ones)
{
    static const char *const options[] = {"name", "learning_rate", "epochs", "padding", "lr_x",
                                          NULL};
    expect_guess("lr", options, " (did you mean 'learning_rate'?)"); /* no slip reaches it */
    expect_guess("nb_epoch", options, " (did you mean 'epochs'?)");
    expect_guess("border_mode", options, " (did you mean 'padding'?)");
    /* only where the current name is on the list */
    static const char *const others[] = {"units", "activation", NULL};
    expect_guess("lr", others, "");
}
