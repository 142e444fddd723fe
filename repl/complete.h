/* Tab completion for the shell's Readline: variables and globals, fields of tables,
 * methods after `:` (found through __index metatables and nn's methods tables),
 * argument names inside a call's table (`nn.layers.Conv2D{32, 3, pad` -> `padding=`),
 * % commands, and file names inside strings and after %run / %save. */
#ifndef NNSH_COMPLETE_H
#define NNSH_COMPLETE_H

#include "session.h"
#include "text.h"

/* Makes Readline complete in this session. pending holds the lines already entered of
 * an unfinished cell, which completion reads for context; both must outlive the REPL. */
void nnsh_complete_install(nnsh_session *session, const nn_text *pending);

#endif
