/* Atomic writes: the new file appears whole or not at all; on any failure (disk full,
 * read-only file system, missing directory) the old file is untouched, no temporary file
 * stays behind, and the message says what failed. Stale temporaries of crashed writes
 * are cleaned up. The full and read-only file systems are real tmpfs mounts when the
 * tests run as root (skipped otherwise); the write-failure hook covers the rest. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "scratch.h"

static char directory[512];

/* A fresh, empty directory per test. Not named by pid: the build tree keeps the
 * directories of earlier runs, and pids come round again (pid_max may be 32768), so a
 * test could find links and files a test of an earlier run left under its name. */
static void make_directory(void)
{
    snprintf(directory, sizeof directory, "%s/atomic-XXXXXX", NNSH_TEST_TMP);
    cr_assert_not_null(mkdtemp(directory), "mkdtemp %s: %s", directory, strerror(errno));
}

/* The directory goes when its test ends, so runs leave nothing behind. FTW_MOUNT keeps
 * the walk out of a tmpfs a failed test left mounted. */
static void remove_directory(void)
{
    nftw(directory, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", directory, name);
}

static void write_plain(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    cr_assert(file, "cannot create %s: %s", path, strerror(errno));
    fputs(text, file);
    fclose(file);
}

static char *read_text(const char *path)
{
    static char buffer[4096];
    FILE *file = fopen(path, "r");
    if (!file)
        return NULL;
    size_t size = fread(buffer, 1, sizeof buffer - 1, file);
    buffer[size] = '\0';
    fclose(file);
    return buffer;
}

/* Entries of the test directory whose names contain the temporary marker. */
static int temporaries(const char *in)
{
    int count = 0;
    DIR *listing = opendir(in);
    cr_assert(listing);
    struct dirent *entry;
    while ((entry = readdir(listing)))
        count += strstr(entry->d_name, ".nnsh-tmp-") != NULL;
    closedir(listing);
    return count;
}

TestSuite(atomic_file, .init = make_directory, .fini = remove_directory);

Test(atomic_file, replace_writes_the_whole_file_and_leaves_no_temporary)
{
    char path[600];
    path_in(path, sizeof path, "plain.txt");
    cr_assert_eq(nn_atomic_file_replace(path, "hello", 5), NN_OK, "%s", nn_error_message());
    cr_expect_str_eq(read_text(path), "hello");
    cr_assert_eq(nn_atomic_file_replace(path, "second", 6), NN_OK);
    cr_expect_str_eq(read_text(path), "second");
    cr_expect_eq(temporaries(directory), 0);
}

Test(atomic_file, a_replaced_file_keeps_its_permissions)
{
    char path[600];
    path_in(path, sizeof path, "private.txt");
    write_plain(path, "old");
    chmod(path, 0600);
    cr_assert_eq(nn_atomic_file_replace(path, "new", 3), NN_OK);
    struct stat info;
    stat(path, &info);
    cr_expect_eq(info.st_mode & 0777, 0600, "mode %o", info.st_mode & 0777);
}

Test(atomic_file, a_symbolic_link_stays_and_its_target_is_replaced)
{
    char target[600], link[600];
    path_in(target, sizeof target, "target.txt");
    path_in(link, sizeof link, "link.txt");
    write_plain(target, "old");
    cr_assert_eq(symlink(target, link), 0);
    cr_assert_eq(nn_atomic_file_replace(link, "new", 3), NN_OK, "%s", nn_error_message());
    struct stat info;
    lstat(link, &info);
    cr_expect(S_ISLNK(info.st_mode), "the link was replaced by a file");
    cr_expect_str_eq(read_text(target), "new");
}

Test(atomic_file, a_dangling_relative_link_creates_its_target_and_stays_a_link)
{
    char runs[600], link[600], target[600];
    path_in(runs, sizeof runs, "runs");
    cr_assert_eq(mkdir(runs, 0777), 0);
    path_in(link, sizeof link, "latest.txt");
    path_in(target, sizeof target, "runs/first.txt");
    cr_assert_eq(symlink("runs/first.txt", link), 0); /* relative to the link's directory */
    cr_assert_eq(nn_atomic_file_replace(link, "new", 3), NN_OK, "%s", nn_error_message());
    struct stat info;
    lstat(link, &info);
    cr_expect(S_ISLNK(info.st_mode), "the dangling link was replaced by a file");
    cr_expect_str_eq(read_text(target), "new");
}

Test(atomic_file, a_link_into_a_missing_directory_is_named_as_typed)
{
    char link[600];
    path_in(link, sizeof link, "dangling");
    cr_assert_eq(symlink("nowhere/x.txt", link), 0);
    cr_assert_neq(nn_atomic_file_replace(link, "new", 3), NN_OK);
    cr_expect(strstr(nn_error_message(), "dangling' (a link to '"), "%s", nn_error_message());
    cr_expect(strstr(nn_error_message(), "nowhere' does not exist"), "%s", nn_error_message());
}

Test(atomic_file, a_link_loop_is_refused_and_left_as_it_was)
{
    char one[600], two[600];
    path_in(one, sizeof one, "loop1");
    path_in(two, sizeof two, "loop2");
    cr_assert_eq(symlink(two, one), 0);
    cr_assert_eq(symlink(one, two), 0);
    cr_assert_neq(nn_atomic_file_replace(one, "new", 3), NN_OK);
    cr_expect(strstr(nn_error_message(), "Too many levels of symbolic links"), "%s",
              nn_error_message());
    struct stat info;
    lstat(one, &info);
    cr_expect(S_ISLNK(info.st_mode), "the link was replaced by a file");
    cr_expect_eq(temporaries(directory), 0);
}

Test(atomic_file, a_full_disk_fails_cleanly_with_the_old_file_intact)
{
    char path[600];
    path_in(path, sizeof path, "full.txt");
    write_plain(path, "precious");
    setenv("NNSH_TEST_WRITE_FAIL", "ENOSPC", 1);
    static char big[20000];
    nn_status status = nn_atomic_file_replace(path, big, sizeof big);
    unsetenv("NNSH_TEST_WRITE_FAIL");
    cr_expect_eq(status, NN_ERR_IO);
    const char *message = nn_error_message();
    cr_expect(strstr(message, path) && strstr(message, "No space left on device") &&
              strstr(message, "the disk is full") && strstr(message, "previous file is unchanged"),
              "message: %s", message);
    cr_expect_str_eq(read_text(path), "precious");
    cr_expect_eq(temporaries(directory), 0, "a temporary file stayed behind");
    /* A small file fails at fsync, where delayed allocation reports a full disk. */
    setenv("NNSH_TEST_WRITE_FAIL", "ENOSPC", 1);
    status = nn_atomic_file_replace(path, "tiny", 4);
    unsetenv("NNSH_TEST_WRITE_FAIL");
    cr_expect_eq(status, NN_ERR_IO);
    cr_expect(strstr(nn_error_message(), "fsync"), "%s", nn_error_message());
    cr_expect_str_eq(read_text(path), "precious");
    cr_expect_eq(temporaries(directory), 0);
}

Test(atomic_file, a_missing_directory_or_a_directory_target_is_named_in_the_error)
{
    char path[600];
    path_in(path, sizeof path, "no/such/dir/file.txt");
    cr_expect_eq(nn_atomic_file_replace(path, "x", 1), NN_ERR_IO);
    cr_expect(strstr(nn_error_message(), "does not exist"), "%s", nn_error_message());
    cr_expect_eq(nn_atomic_file_replace(directory, "x", 1), NN_ERR_IO);
    cr_expect(strstr(nn_error_message(), "is a directory"), "%s", nn_error_message());
    cr_expect_eq(nn_atomic_file_replace("", "x", 1), NN_ERR_ARGUMENT);
    cr_expect_eq(nn_atomic_file_replace("/dev/null", "x", 1), NN_ERR_IO);
    cr_expect(strstr(nn_error_message(), "not a regular file"), "%s", nn_error_message());
    /* /proc exists but takes no new files: not reported as a missing directory. */
    struct stat proc;
    if (stat("/proc/self", &proc) == 0) {
        cr_expect_eq(nn_atomic_file_replace("/proc/nnsh-test.txt", "x", 1), NN_ERR_IO);
        cr_expect(strstr(nn_error_message(), "the directory '/proc' does not take new files"),
                  "%s", nn_error_message());
    }
}

/* A name near the 255 bytes a file name may have: its temporary file must still fit. */
Test(atomic_file, a_long_name_saves_and_a_file_in_place_of_a_directory_is_named)
{
    char name[256], path[800];
    memset(name, 'b', 240);
    strcpy(name + 240, ".safetensors"); /* 252 bytes */
    path_in(path, sizeof path, name);
    cr_assert_eq(nn_atomic_file_replace(path, "long", 4), NN_OK, "%s", nn_error_message());
    cr_expect_str_eq(read_text(path), "long");
    cr_assert_eq(nn_atomic_file_replace(path, "again", 5), NN_OK, "%s", nn_error_message());
    cr_expect_str_eq(read_text(path), "again");
    cr_expect_eq(temporaries(directory), 0);

    char file[600], inside[700];
    path_in(file, sizeof file, "plain.txt");
    write_plain(file, "x");
    snprintf(inside, sizeof inside, "%s/model.safetensors", file);
    cr_expect_eq(nn_atomic_file_replace(inside, "x", 1), NN_ERR_IO);
    char expected[800];
    snprintf(expected, sizeof expected, "the path '%s' is not a directory; no file was written",
             file);
    cr_expect(strstr(nn_error_message(), expected), "%s", nn_error_message());
}

/* A pid that belonged to a process that has exited (and been reaped). */
static pid_t dead_pid(void)
{
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    return child;
}

Test(atomic_file, temporaries_of_crashed_writes_are_removed_and_live_ones_kept)
{
    char path[600], stale[700], live[700], old_live[700], other[700];
    path_in(path, sizeof path, "model.safetensors");
    snprintf(stale, sizeof stale, "%s/.model.safetensors.nnsh-tmp-%d-0", directory,
             (int)dead_pid());
    snprintf(live, sizeof live, "%s/.model.safetensors.nnsh-tmp-%d-0", directory, (int)getppid());
    snprintf(old_live, sizeof old_live, "%s/.model.safetensors.nnsh-tmp-%d-1", directory,
             (int)getppid());
    snprintf(other, sizeof other, "%s/.other.nnsh-tmp-%d-0", directory, (int)dead_pid());
    write_plain(stale, "half a file");
    write_plain(live, "a write in progress");
    write_plain(old_live, "two days old");
    write_plain(other, "belongs to another file");
    struct timespec two_days_ago[2] = {{time(NULL) - 2 * 86400, 0}, {time(NULL) - 2 * 86400, 0}};
    utimensat(AT_FDCWD, old_live, two_days_ago, 0);
    cr_assert_eq(nn_atomic_file_replace(path, "new", 3), NN_OK, "%s", nn_error_message());
    cr_expect_neq(access(stale, F_OK), 0, "the temporary of a dead process stayed");
    cr_expect_eq(access(live, F_OK), 0, "the temporary of a live process was removed");
    cr_expect_neq(access(old_live, F_OK), 0, "a two-day-old temporary stayed");
    cr_expect_eq(access(other, F_OK), 0, "another file's temporary was touched");
}

/* ---- real file systems (root only) ---- */

static bool mount_tmpfs(const char *where, const char *options)
{
    mkdir(where, 0777);
    return geteuid() == 0 && mount("tmpfs", where, "tmpfs", 0, options) == 0;
}

Test(atomic_file, a_really_full_tmpfs_fails_cleanly_with_the_old_file_intact)
{
    char where[600], path[700];
    path_in(where, sizeof where, "tiny");
    if (!mount_tmpfs(where, "size=64k"))
        cr_skip_test("mounting a tmpfs needs root (%s)", strerror(errno));
    snprintf(path, sizeof path, "%s/model.safetensors", where);
    write_plain(path, "precious");
    static char big[256 * 1024];
    nn_status status = nn_atomic_file_replace(path, big, sizeof big);
    const char *message = nn_error_message();
    cr_expect_eq(status, NN_ERR_IO);
    cr_expect(strstr(message, "No space left on device") && strstr(message, "unchanged"), "%s",
              message);
    cr_expect_str_eq(read_text(path), "precious");
    cr_expect_eq(temporaries(where), 0, "a temporary file stayed behind");
    umount2(where, MNT_DETACH);
}

Test(atomic_file, a_read_only_file_system_fails_cleanly_with_the_old_file_intact)
{
    char where[600], path[700];
    path_in(where, sizeof where, "readonly");
    if (!mount_tmpfs(where, "size=1m"))
        cr_skip_test("mounting a tmpfs needs root (%s)", strerror(errno));
    snprintf(path, sizeof path, "%s/model.safetensors", where);
    write_plain(path, "precious");
    cr_assert_eq(mount("tmpfs", where, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=1m"), 0,
                 "remount read-only: %s", strerror(errno));
    nn_status status = nn_atomic_file_replace(path, "new", 3);
    cr_expect_eq(status, NN_ERR_IO);
    cr_expect(strstr(nn_error_message(), "read-only") && strstr(nn_error_message(), "unchanged"),
              "%s", nn_error_message());
    cr_expect_str_eq(read_text(path), "precious");
    umount2(where, MNT_DETACH);
}
