/* Atomic file replacement: a file is written under a temporary name in its own
 * directory and renamed over the target only once every byte is on disk, so a crash,
 * a kill or a full disk never leaves a half-written file where the old one was.
 *
 *     nn_atomic_file file;
 *     NN_TRY(nn_atomic_file_begin(&file, "model.safetensors"));
 *     nn_status status = nn_atomic_file_write(&file, bytes, size);
 *     if (status == NN_OK)
 *         status = nn_atomic_file_commit(&file);   // fsync, rename, fsync the directory
 *     else
 *         nn_atomic_file_abort(&file);             // removes the temporary file
 *
 * Test hooks (environment variables, read at begin): NNSH_TEST_WRITE_DELAY_MS=n sleeps n
 * milliseconds after every chunk written, so a test can kill the process mid-write;
 * NNSH_TEST_WRITE_FAIL=ENOSPC (or EIO, EDQUOT, EFBIG) makes the second chunk fail with
 * that error, as a full disk would. */
#ifndef NN_ATOMIC_FILE_H
#define NN_ATOMIC_FILE_H

#include <stddef.h>

#include "../status.h"

/* One write in progress. Owns the open temporary file until commit or abort. */
typedef struct nn_atomic_file {
    char *path;         /* the file being replaced (symbolic links resolved) */
    char *temp_path;    /* ".<name>.nnsh-tmp-<pid>-<n>" beside it */
    char *directory;    /* the directory both live in, for fsync */
    int fd;             /* the temporary file; -1 once closed */
    size_t written;     /* bytes written so far */
    int delay_ms;       /* test hook: pause after each chunk */
    int fail_errno;     /* test hook: fail the second chunk with this errno */
    int chunks;         /* chunks written, for the hook */
} nn_atomic_file;

/* Starts replacing `path`: removes temporary files that earlier crashed writes left
 * beside it, then creates a new temporary file with the old file's permissions. On
 * error nothing is left behind and the message names the path and what failed. */
nn_status nn_atomic_file_begin(nn_atomic_file *file, const char *path);
/* Appends bytes to the temporary file. On error the caller must still call abort. */
nn_status nn_atomic_file_write(nn_atomic_file *file, const void *data, size_t size);
/* Flushes the data to disk, renames the temporary file over the target and syncs the
 * directory. On error the temporary file is removed and the target is unchanged. Frees
 * what begin allocated either way. */
nn_status nn_atomic_file_commit(nn_atomic_file *file);
/* Gives up: closes and removes the temporary file. Safe after a failed begin. */
void nn_atomic_file_abort(nn_atomic_file *file);

/* Writes a whole buffer atomically (begin, write, commit). */
nn_status nn_atomic_file_replace(const char *path, const void *data, size_t size);

/* Removes temporary files of earlier, crashed writes to `path`: those whose writing
 * process no longer exists, or older than a day. Returns how many were removed. */
int nn_atomic_file_clean_stale(const char *path);

#endif
