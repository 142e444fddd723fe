/* Atomic replacement of a file: temporary file beside it, fsync, rename, directory
 * fsync; plus the clean-up of temporary files that crashed writes left behind. */
#include "atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Big enough that a large model takes few system calls; the test hooks use small
 * chunks so that a kill lands in the middle of a file. */
enum { CHUNK_BYTES = 1 << 20, HOOK_CHUNK_BYTES = 4096 };

/* A temporary file this much older than now belongs to no living write. */
static const time_t STALE_SECONDS = 24 * 60 * 60;

static const char TEMP_MARKER[] = ".nnsh-tmp-";

/* Plain words for the errors users meet when saving. */
static const char *error_hint(int error_number)
{
    switch (error_number) {
    case ENOSPC: return " (the disk is full)";
    case EDQUOT: return " (the disk quota is exhausted)";
    case EROFS: return " (the file system is read-only)";
    case EACCES:
    case EPERM: return " (no permission to write there)";
    case ENOENT: return " (the directory does not exist)";
    case ENOTDIR: return " (a part of the path is not a directory)";
    case EFBIG: return " (the file is too large for this file system)";
    case ENAMETOOLONG: return " (the file name is too long)";
    default: return "";
    }
}

static nn_status write_failure(const char *path, const char *step, int error_number,
                               bool existed)
{
    return nn_error(NN_ERR_IO, "cannot save '%s': %s failed: %s%s; %s", path, step,
                    strerror(error_number), error_hint(error_number),
                    existed ? "the previous file is unchanged" : "no file was written");
}

static void free_names(nn_atomic_file *file)
{
    free(file->path);
    free(file->temp_path);
    free(file->directory);
    file->path = file->temp_path = file->directory = NULL;
}

/* Splits path into the directory to sync ("." when there is none) and the prefix that
 * temporary names are built on (the directory with its slash, or ""). */
static nn_status split_path(const char *path, char **directory, size_t *prefix_length,
                            const char **base)
{
    const char *slash = strrchr(path, '/');
    *prefix_length = slash ? (size_t)(slash - path) + 1 : 0;
    *base = path + *prefix_length;
    size_t directory_length = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;
    *directory = malloc(directory_length + 1);
    if (!*directory)
        return nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
    memcpy(*directory, slash ? path : ".", directory_length);
    (*directory)[directory_length] = '\0';
    return NN_OK;
}

/* A name's part in its temporary files' names: the name itself, or, where the marker and
 * numbers would take the temporary name past the 255 bytes a file name may have, its
 * start and a hash of the whole. */
enum { TEMP_BASE_MAX = 200, TEMP_BASE_KEPT = 180 };

static const char *temp_base(const char *base, char out[TEMP_BASE_MAX + 1])
{
    size_t length = strlen(base);
    if (length <= TEMP_BASE_MAX)
        return base;
    uint32_t hash = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < length; i++)
        hash = (hash ^ (unsigned char)base[i]) * 16777619u;
    snprintf(out, TEMP_BASE_MAX + 1, "%.*s~%08x", TEMP_BASE_KEPT, base, (unsigned)hash);
    return out;
}

/* Whether a temporary file name of ours, for the file called base, is stale. */
static bool temp_is_stale(int directory_fd, const char *entry, const char *full_base)
{
    char shortened[TEMP_BASE_MAX + 1];
    const char *base = temp_base(full_base, shortened);
    size_t base_length = strlen(base);
    if (entry[0] != '.' || strncmp(entry + 1, base, base_length) != 0 ||
        strncmp(entry + 1 + base_length, TEMP_MARKER, sizeof TEMP_MARKER - 1) != 0)
        return false;
    const char *number = entry + 1 + base_length + sizeof TEMP_MARKER - 1;
    char *end = NULL;
    long pid = strtol(number, &end, 10);
    if (end == number || *end != '-' || pid <= 0 || pid > INT_MAX)
        return false;
    if ((pid_t)pid == getpid())
        return false; /* our own writes remove their files themselves */
    if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
        return true;
    /* The pid may have been reused by an unrelated process: age decides then. */
    struct stat info;
    if (fstatat(directory_fd, entry, &info, AT_SYMLINK_NOFOLLOW) != 0)
        return false;
    return time(NULL) - info.st_mtime > STALE_SECONDS;
}

int nn_atomic_file_clean_stale(const char *path)
{
    char *directory = NULL;
    size_t prefix_length;
    const char *base;
    if (split_path(path, &directory, &prefix_length, &base) != NN_OK)
        return 0;
    int removed = 0;
    DIR *listing = opendir(directory);
    if (listing) {
        int directory_fd = dirfd(listing);
        struct dirent *entry;
        while ((entry = readdir(listing)) != NULL) {
            if (temp_is_stale(directory_fd, entry->d_name, base) &&
                unlinkat(directory_fd, entry->d_name, 0) == 0)
                removed++;
        }
        closedir(listing);
    }
    free(directory);
    return removed;
}

/* The file a save really replaces: symbolic links are followed, so a link stays and the
 * file it points to is replaced in its own directory, created there when the link
 * dangles (realpath would fail on it, and the link would be replaced instead). */
enum { LINKS_MAX = 40 }; /* as the kernel's own limit on following links */

static nn_status resolve_target(const char *path, char **out)
{
    char *current = strdup(path);
    for (int hops = 0; current; hops++) {
        struct stat info;
        if (lstat(current, &info) != 0 || !S_ISLNK(info.st_mode)) {
            *out = current;
            return NN_OK;
        }
        if (hops == LINKS_MAX) {
            free(current);
            return nn_error(NN_ERR_IO, "cannot save '%s': %s", path, strerror(ELOOP));
        }
        char target[PATH_MAX];
        ssize_t length = readlink(current, target, sizeof target - 1);
        if (length < 0) {
            nn_status status = nn_error(NN_ERR_IO, "cannot save '%s': cannot read the link "
                                        "'%s': %s", path, current, strerror(errno));
            free(current);
            return status;
        }
        target[length] = '\0';
        /* A relative target is relative to the link's own directory. */
        const char *slash = strrchr(current, '/');
        char *next;
        if (target[0] == '/' || !slash) {
            next = strdup(target);
        } else {
            size_t directory = (size_t)(slash - current) + 1;
            next = malloc(directory + (size_t)length + 1);
            if (next) {
                memcpy(next, current, directory);
                memcpy(next + directory, target, (size_t)length + 1);
            }
        }
        free(current);
        current = next;
    }
    return nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
}

static int hook_errno(const char *name)
{
    if (!name || !*name)
        return 0;
    static const struct {
        const char *name;
        int number;
    } known[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EFBIG", EFBIG}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i].name) == 0)
            return known[i].number;
    return EIO;
}

nn_status nn_atomic_file_begin(nn_atomic_file *file, const char *path)
{
    memset(file, 0, sizeof *file);
    file->fd = -1;
    if (!path || !*path)
        return nn_error(NN_ERR_ARGUMENT, "cannot save: the file name is empty");
    NN_TRY(resolve_target(path, &file->path));
    struct stat info;
    bool existed = stat(file->path, &info) == 0;
    /* The name as given, and where a link led when it did. */
    char named[PATH_MAX + 64];
    snprintf(named, sizeof named, strcmp(path, file->path) ? "'%s' (a link to '%s')" : "'%s'",
             path, file->path);
    if (existed && S_ISDIR(info.st_mode)) {
        nn_status status = nn_error(NN_ERR_IO, "cannot save %s: it is a directory; give a "
                                    "file name inside it", named);
        free_names(file);
        return status;
    }
    if (existed && !S_ISREG(info.st_mode)) {
        nn_status status = nn_error(NN_ERR_IO, "cannot save %s: it exists and is not a "
                                    "regular file", named);
        free_names(file);
        return status;
    }
    size_t prefix_length;
    const char *base;
    nn_status status = split_path(file->path, &file->directory, &prefix_length, &base);
    if (status != NN_OK) {
        free_names(file);
        return status;
    }
    struct stat directory_info;
    int directory_error = stat(file->directory, &directory_info) != 0 ? errno
                          : !S_ISDIR(directory_info.st_mode) ? ENOTDIR : 0;
    if (directory_error) {
        int error_number = directory_error;
        if (error_number == ENOENT || error_number == ENOTDIR)
            status = nn_error(NN_ERR_IO, "cannot save %s: %s '%s' %s; no file was written",
                              named, error_number == ENOENT ? "the directory" : "the path",
                              file->directory,
                              error_number == ENOENT ? "does not exist" : "is not a directory");
        else
            status = nn_error(NN_ERR_IO, "cannot save %s: the directory '%s': %s; no file "
                              "was written", named, file->directory,
                              strerror(error_number));
        free_names(file);
        return status;
    }
    nn_atomic_file_clean_stale(file->path);

    char shortened[TEMP_BASE_MAX + 1];
    base = temp_base(base, shortened);
    size_t temp_size = prefix_length + strlen(base) + sizeof TEMP_MARKER + 48;
    file->temp_path = malloc(temp_size);
    if (!file->temp_path) {
        free_names(file);
        return nn_error(NN_ERR_MEMORY, "out of memory saving '%s'", path);
    }
    /* O_EXCL with a per-process counter: concurrent saves never share a temporary. */
    static unsigned counter;
    int error_number = 0;
    for (int attempt = 0; attempt < 100 && file->fd < 0; attempt++) {
        snprintf(file->temp_path, temp_size, "%.*s.%s%s%ld-%u", (int)prefix_length, file->path,
                 base, TEMP_MARKER, (long)getpid(), counter++);
        file->fd = open(file->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        error_number = errno;
        if (file->fd < 0 && error_number != EEXIST)
            break;
    }
    if (file->fd < 0 && error_number == ENOENT) {
        /* The directory exists (checked above), so it takes no new files: /proc, /sys. */
        status = nn_error(NN_ERR_IO, "cannot save %s: the directory '%s' does not take "
                          "new files (creating one there failed: %s); no file was written",
                          named, file->directory, strerror(error_number));
        free_names(file);
        return status;
    }
    if (file->fd < 0) {
        status = write_failure(file->path, "creating a temporary file in its directory",
                               error_number, existed);
        free_names(file);
        return status;
    }
    /* A replaced file keeps its permissions; a new one gets the umask's. */
    if (existed)
        (void)fchmod(file->fd, info.st_mode & 07777);
    const char *delay = getenv("NNSH_TEST_WRITE_DELAY_MS");
    file->delay_ms = delay ? atoi(delay) : 0;
    file->fail_errno = hook_errno(getenv("NNSH_TEST_WRITE_FAIL"));
    return NN_OK;
}

static bool target_exists(const nn_atomic_file *file)
{
    struct stat info;
    return stat(file->path, &info) == 0;
}

nn_status nn_atomic_file_write(nn_atomic_file *file, const void *data, size_t size)
{
    const char *bytes = data;
    bool hooked = file->delay_ms > 0 || file->fail_errno != 0;
    size_t chunk_limit = hooked ? HOOK_CHUNK_BYTES : CHUNK_BYTES;
    while (size > 0) {
        size_t chunk = size < chunk_limit ? size : chunk_limit;
        ssize_t done;
        if (file->fail_errno && file->chunks >= 1) {
            errno = file->fail_errno;
            done = -1;
        } else {
            done = write(file->fd, bytes, chunk);
        }
        if (done < 0) {
            if (errno == EINTR)
                continue;
            /* Kept first: target_exists() calls stat(), which sets errno itself. */
            int error_number = errno;
            char step[64];
            snprintf(step, sizeof step, "writing byte %zu", file->written);
            return write_failure(file->path, step, error_number, target_exists(file));
        }
        bytes += done;
        size -= (size_t)done;
        file->written += (size_t)done;
        file->chunks++;
        if (file->delay_ms > 0) {
            struct timespec pause = {file->delay_ms / 1000,
                                     (long)(file->delay_ms % 1000) * 1000000L};
            nanosleep(&pause, NULL);
        }
    }
    return NN_OK;
}

void nn_atomic_file_abort(nn_atomic_file *file)
{
    if (file->fd >= 0)
        close(file->fd);
    file->fd = -1;
    if (file->temp_path)
        unlink(file->temp_path);
    free_names(file);
}

/* fsync of the directory makes the rename itself durable. File systems that cannot
 * sync a directory say so with EINVAL; that is not a failure of the save. */
static int sync_directory(const char *directory)
{
    int fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int error_number = 0;
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        error_number = errno;
    close(fd);
    return error_number;
}

nn_status nn_atomic_file_commit(nn_atomic_file *file)
{
    bool existed = target_exists(file);
    int error_number = 0;
    const char *step = NULL;
    if (file->fail_errno && file->chunks <= 1)
        error_number = file->fail_errno, step = "flushing to disk (fsync)";
    else if (fsync(file->fd) != 0)
        error_number = errno, step = "flushing to disk (fsync)";
    int fd = file->fd;
    file->fd = -1;
    if (close(fd) != 0 && !step)
        error_number = errno, step = "closing the temporary file";
    if (!step && rename(file->temp_path, file->path) != 0)
        error_number = errno, step = "renaming the temporary file over it";
    if (step) {
        nn_status status = write_failure(file->path, step, error_number, existed);
        nn_atomic_file_abort(file);
        return status;
    }
    error_number = sync_directory(file->directory);
    nn_status status = NN_OK;
    if (error_number != 0)
        status = nn_error(NN_ERR_IO, "saved '%s', but syncing its directory failed: %s; the "
                          "new file may not survive a power failure",
                          file->path, strerror(error_number));
    free_names(file);
    return status;
}

nn_status nn_atomic_file_replace(const char *path, const void *data, size_t size)
{
    nn_atomic_file file;
    NN_TRY(nn_atomic_file_begin(&file, path));
    nn_status status = nn_atomic_file_write(&file, data, size);
    if (status != NN_OK) {
        nn_atomic_file_abort(&file);
        return status;
    }
    return nn_atomic_file_commit(&file);
}
