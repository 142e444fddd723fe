/* Golden-text checks for the renderers: the expected output of each case lives in
 * tests/plots/golden/<name>.txt, where a reviewer can read it as it will look.
 * NNSH_UPDATE_GOLDEN=1 rewrites the files from the current output (then review the
 * diff). */
#ifndef NN_TEST_GOLDEN_H
#define NN_TEST_GOLDEN_H

/* Fails the test with the first differing line (expected and actual) unless actual
 * equals the golden file's content. */
void expect_golden(const char *name, const char *actual);

#endif
