/* The shell's persistent history: ~/.nnsh_history (or $NNSH_HISTORY), at most
 * $NNSH_HISTORY_SIZE entries (1000; 0 keeps none). A multi-line cell is one entry.
 * Each entry is appended to the file as soon as it is entered, under a lock, so
 * sessions running side by side interleave their entries instead of overwriting each
 * other's, and a session that dies loses nothing; the file is cut back to the limit
 * when a session starts. */
#ifndef NNSH_HISTORY_H
#define NNSH_HISTORY_H

/* Loads the file into Readline's history. */
void nnsh_history_open(void);
/* Adds a cell (skipping blanks and repeats of the last entry) and saves it. */
void nnsh_history_add(const char *entry);
void nnsh_history_close(void);

#endif
