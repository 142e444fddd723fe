/* Persistent history shared between sessions (see history.h). */
#include <errno.h>
#include <fcntl.h>
#include <readline/history.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "history.h"

enum { DEFAULT_HISTORY_SIZE = 1000 };

static char *history_path;
static int history_limit = DEFAULT_HISTORY_SIZE;

/* Opens the history file for locking (creating it private to the user). */
static int lock_history(void)
{
    int fd = open(history_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        flock(fd, LOCK_EX);
    return fd;
}

static void unlock_history(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

/* What starts the line before each entry in the history file, followed by the entry's
 * time: Readline reads such a line as a timestamp wherever it is, so a cell's own line
 * that started with it would be cut out of its entry. '#' (Readline's custom) starts Lua
 * comments and notes ("#2 try lr=1e-3" in a long string); the ASCII record separator
 * starts no line anyone types. */
enum { TIMESTAMP_MARK = '\036' };

void nnsh_history_open(void)
{
    using_history();
    /* With timestamps, each entry starts with a "<mark><time>" line, which is what lets
     * Readline read a multi-line cell back as one entry. */
    history_write_timestamps = 1;
    history_comment_char = TIMESTAMP_MARK;
    const char *size = getenv("NNSH_HISTORY_SIZE");
    if (size && *size) {
        char *end;
        long value = strtol(size, &end, 10);
        if (*end == '\0' && value >= 0 && value <= 1000000)
            history_limit = (int)value;
        else
            fprintf(stderr, "nnsh: NNSH_HISTORY_SIZE=%s is not a number of entries from 0 to "
                            "1000000; keeping %d\n", size, history_limit);
    }
    const char *path = getenv("NNSH_HISTORY");
    const char *home = getenv("HOME");
    if (history_limit == 0 || (!(path && *path) && !(home && *home)))
        return;
    if (path && *path) {
        history_path = strdup(path);
    } else {
        size_t length = strlen(home) + sizeof "/.nnsh_history";
        history_path = malloc(length);
        if (history_path)
            snprintf(history_path, length, "%s/.nnsh_history", home);
    }
    if (!history_path)
        return;
    int lock = lock_history();
    if (lock < 0) {
        /* Said once, here: the session goes on with history in memory only. */
        fprintf(stderr, "nnsh: history is not kept between sessions: cannot open %s: %s\n",
                history_path, strerror(errno));
        free(history_path);
        history_path = NULL;
        stifle_history(history_limit);
        return;
    }
    /* A file of nnsh before the mark was \036 has "#<time>" lines: it is read as such,
     * and written anew with the mark. */
    FILE *file = fopen(history_path, "r");
    bool hash_marks = file && fgetc(file) == '#';
    if (file)
        fclose(file);
    if (hash_marks)
        history_comment_char = '#';
    read_history(history_path);
    history_comment_char = TIMESTAMP_MARK;
    /* Readline keeps each entry's time line as read, and writes it back so. */
    HIST_ENTRY **entries = hash_marks ? history_list() : NULL;
    for (int i = 0; entries && entries[i]; i++)
        if (entries[i]->timestamp && entries[i]->timestamp[0] == '#')
            entries[i]->timestamp[0] = TIMESTAMP_MARK;
    if (history_length > history_limit || hash_marks) {
        /* Cut the file back to the newest entries, replacing it in one step. */
        stifle_history(history_limit);
        size_t length = strlen(history_path) + 32;
        char *temporary = malloc(length);
        if (temporary) {
            snprintf(temporary, length, "%s.tmp-%ld", history_path, (long)getpid());
            if (write_history(temporary) == 0)
                rename(temporary, history_path);
            else
                remove(temporary);
            free(temporary);
        }
    }
    unlock_history(lock);
    stifle_history(history_limit);
}

void nnsh_history_add(const char *entry)
{
    if (!entry[strspn(entry, " \t\r\n")] || history_limit == 0)
        return;
    HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
    if (last && strcmp(last->line, entry) == 0)
        return;
    add_history(entry);
    if (!history_path)
        return;
    int lock = lock_history();
    append_history(1, history_path);
    unlock_history(lock);
}

void nnsh_history_close(void)
{
    free(history_path);
    history_path = NULL;
    clear_history();
}
