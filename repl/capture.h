/* Capturing what cells print: print, io.write (while the default output is stdout) and
 * everything nn writes go to nnsh_session_write, which shows it (in the shell) and keeps
 * it in the running cell's transcript (for %save and notebooks). Text written to
 * io.stdout or io.stderr directly, or by C code with printf, is not captured. */
#ifndef NNSH_CAPTURE_H
#define NNSH_CAPTURE_H

#include "session.h"

/* Replaces print and io.write, and installs nn's writer; in an interactive session it
 * also tells nn that it runs in a shell on a terminal (live progress bars, Ctrl-C in fit
 * back to the prompt). */
void nnsh_capture_install(nnsh_session *session);
/* Puts the original print, io.write and nn's output back. */
void nnsh_capture_remove(nnsh_session *session);

#endif
