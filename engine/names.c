/* Joining name tables into the lists that error messages show, and guessing which name
 * of such a table a misspelt one meant. */
#include "names.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

char *nn_names_join(char *buf, size_t size, const char *const *names)
{
    size_t used = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    for (int i = 0; names[i] && used < size; i++) {
        int written = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", names[i]);
        if (written < 0)
            break;
        used += (size_t)written;
    }
    return buf;
}

/* Names longer than this are never typos of a listed name worth guessing at. */
enum { GUESS_LENGTH_MAX = 48 };

static int letter(char c, bool ignore_case)
{
    return ignore_case ? tolower((unsigned char)c) : (unsigned char)c;
}

/* Edits that turn a into b: letters added, dropped or changed, and two neighbours
 * swapped (the commonest slip at a keyboard), each one edit. */
static int edit_distance(const char *a, size_t a_length, const char *b, size_t b_length,
                         bool ignore_case)
{
    int rows[3][GUESS_LENGTH_MAX + 1];
    int *before = rows[0], *previous = rows[1], *current = rows[2];
    for (size_t j = 0; j <= b_length; j++)
        previous[j] = (int)j;
    for (size_t i = 1; i <= a_length; i++) {
        current[0] = (int)i;
        for (size_t j = 1; j <= b_length; j++) {
            int a_letter = letter(a[i - 1], ignore_case);
            int b_letter = letter(b[j - 1], ignore_case);
            int best = previous[j - 1] + (a_letter != b_letter);
            if (previous[j] + 1 < best)
                best = previous[j] + 1;
            if (current[j - 1] + 1 < best)
                best = current[j - 1] + 1;
            if (i > 1 && j > 1 && a_letter == letter(b[j - 2], ignore_case) &&
                letter(a[i - 2], ignore_case) == b_letter && before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            current[j] = best;
        }
        int *spare = before;
        before = previous;
        previous = current;
        current = spare;
    }
    return previous[b_length];
}

/* One edit per three letters typed: none but case for one or two letters, where one
 * edit reaches too many names ('x' is one from every other one-letter name). */
static int distance_limit(const char *typed)
{
    return (int)(strlen(typed) / 3);
}

void nn_name_guess_start(nn_name_guess *guess, const char *typed)
{
    *guess = (nn_name_guess){.typed = typed, .best_distance = distance_limit(typed)};
}

/* Names older Keras versions used for what is now `current`: tutorials still write them,
 * and no spelling slip leads from lr to learning_rate. */
static bool is_old_name_of(const char *typed, const char *current)
{
    static const char *const renamed[][2] = {
        {"lr", "learning_rate"},          {"nb_epoch", "epochs"},
        {"output_dim", "units"},          {"nb_filter", "filters"},
        {"border_mode", "padding"},       {"subsample", "strides"},
        {"init", "kernel_initializer"},   {"W_regularizer", "kernel_regularizer"},
        {"b_regularizer", "bias_regularizer"}, {"W_constraint", "kernel_constraint"},
        {"b_constraint", "bias_constraint"},   {"dim_ordering", "data_format"},
        {"filter_length", "kernel_size"}, {"pool_length", "pool_size"},
        {"bias", "use_bias"},             {"nb_val_samples", "validation_steps"},
    };
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strcmp(typed, renamed[i][0]) == 0 && strcmp(current, renamed[i][1]) == 0)
            return true;
    return false;
}

void nn_name_guess_offer(nn_name_guess *guess, const char *candidate)
{
    size_t typed_length = strlen(guess->typed), candidate_length = strlen(candidate);
    if (typed_length == 0 || typed_length > GUESS_LENGTH_MAX ||
        candidate_length > GUESS_LENGTH_MAX)
        return;
    /* A name on the list is no slip: nothing is guessed. */
    if (strcmp(guess->typed, candidate) == 0) {
        guess->best_distance = -1;
        guess->found_count = 0;
        return;
    }
    int distance = is_old_name_of(guess->typed, candidate)
                       ? 0
                       : edit_distance(guess->typed, typed_length, candidate, candidate_length,
                                       true);
    /* Of two names that differ only in case ('Precision' and 'precision'), the one
     * nearer the case typed. */
    for (int i = 0; i < guess->found_count; i++) {
        if (strcasecmp(guess->found[i], candidate) != 0)
            continue;
        size_t found_length = strlen(guess->found[i]);
        if (edit_distance(guess->typed, typed_length, candidate, candidate_length, false) <
            edit_distance(guess->typed, typed_length, guess->found[i], found_length, false)) {
            for (int j = i; j + 1 < guess->found_count; j++)
                guess->found[j] = guess->found[j + 1];
            guess->found_count--;
            break;
        }
        return;
    }
    if (distance > guess->best_distance || distance > distance_limit(guess->typed))
        return;
    if (distance < guess->best_distance) {
        guess->best_distance = distance;
        guess->found_count = 0;
    }
    /* The alphabetically first few, kept in order, so that the guess does not depend on
     * the order the names come in (a Lua table's, say). */
    int place = guess->found_count;
    while (place > 0 && strcmp(candidate, guess->found[place - 1]) < 0)
        place--;
    if (place == NN_NAME_GUESS_MAX)
        return;
    int last = guess->found_count < NN_NAME_GUESS_MAX ? guess->found_count
                                                      : NN_NAME_GUESS_MAX - 1;
    for (int i = last; i > place; i--)
        guess->found[i] = guess->found[i - 1];
    guess->found[place] = candidate;
    if (guess->found_count < NN_NAME_GUESS_MAX)
        guess->found_count++;
}

char *nn_name_guess_text(const nn_name_guess *guess, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (guess->found_count == 0)
        return buf;
    size_t used = (size_t)snprintf(buf, size, " (did you mean ");
    for (int i = 0; i < guess->found_count && used < size; i++) {
        const char *separator = i == 0 ? "" : i == guess->found_count - 1 ? " or " : ", ";
        used += (size_t)snprintf(buf + used, size - used, "%s'%s'", separator,
                                 guess->found[i]);
    }
    if (used < size)
        snprintf(buf + used, size - used, "?)");
    return buf;
}

char *nn_names_did_you_mean(char *buf, size_t size, const char *typed,
                            const char *const *names)
{
    nn_name_guess guess;
    nn_name_guess_start(&guess, typed);
    for (int i = 0; names[i]; i++)
        nn_name_guess_offer(&guess, names[i]);
    return nn_name_guess_text(&guess, buf, size);
}
