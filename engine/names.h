/* Name lists for error messages and help: "'zeros', 'ones', 'constant'", and the names
 * of such a list that a misspelt name most likely meant: "(did you mean 'relu'?)".
 * Every module that looks names up in a table rejects unknown ones with this list. */
#ifndef NN_NAMES_H
#define NN_NAMES_H

#include <stddef.h>

/* Writes the NULL-terminated `names` as "'a', 'b', 'c'" into buf (cut short if it does
 * not fit; always terminated). Returns buf. */
char *nn_names_join(char *buf, size_t size, const char *const *names);

/* The few names closest to a misspelt one, offered one by one; of those equally close,
 * the alphabetically first. Candidates are kept by pointer and must outlive the guess. */
enum { NN_NAME_GUESS_MAX = 3 };
typedef struct {
    const char *typed;
    int best_distance; /* of the names found so far; the limit when none */
    int found_count;
    const char *found[NN_NAME_GUESS_MAX];
} nn_name_guess;

void nn_name_guess_start(nn_name_guess *guess, const char *typed);
void nn_name_guess_offer(nn_name_guess *guess, const char *candidate);

/* " (did you mean 'relu'?)", " (did you mean 'mae' or 'mse'?)", or "" when no name is
 * close: at most one edit (a letter added, dropped, changed, or two neighbours swapped;
 * case aside) per three letters typed, so a name of one or two letters differs only in
 * case. Returns buf. */
char *nn_name_guess_text(const nn_name_guess *guess, char *buf, size_t size);

/* The same for the NULL-terminated `names` at once. */
char *nn_names_did_you_mean(char *buf, size_t size, const char *typed,
                            const char *const *names);

#endif
