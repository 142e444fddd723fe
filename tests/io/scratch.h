/* A scratch directory per test process under NNSH_TEST_TMP, removed when the process
 * exits. Not named by pid: the build tree keeps what earlier runs left, and pids come
 * round again (pid_max may be 32768), so a test could meet an earlier run's files. The
 * including file defines _XOPEN_SOURCE 700 before its first include, for nftw. */
#ifndef NNSH_TEST_SCRATCH_H
#define NNSH_TEST_SCRATCH_H

#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char scratch_directory[256]; /* leaves room for a name in the callers' 512 bytes */

static inline int scratch_remove_entry(const char *path, const struct stat *info, int flag,
                                       struct FTW *walk)
{
    (void)info, (void)flag, (void)walk;
    remove(path);
    return 0;
}

static inline void scratch_remove(void)
{
    nftw(scratch_directory, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* out = <this process's scratch directory>/name; the directory is made on first use,
 * named after prefix. */
static inline void scratch_path(char *out, size_t size, const char *prefix, const char *name)
{
    static pid_t owner;
    if (owner != getpid()) {
        snprintf(scratch_directory, sizeof scratch_directory, "%s/%s-XXXXXX", NNSH_TEST_TMP,
                 prefix);
        cr_assert_not_null(mkdtemp(scratch_directory), "mkdtemp %s", scratch_directory);
        owner = getpid();
        atexit(scratch_remove);
    }
    snprintf(out, size, "%s/%s", scratch_directory, name);
}

#endif
