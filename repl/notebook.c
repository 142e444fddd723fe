/* Running notebooks into handouts and saving sessions as notebooks (see notebook.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "notebook.h"
#include "notebook_document.h"

/* ---- files ---- */

static char *read_file(const char *path, size_t *length)
{
    FILE *file = fopen(path, "rb");
    if (!file)
        return NULL;
    nn_text text;
    nn_text_init(&text);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, file)) > 0)
        nn_text_append_n(&text, chunk, n);
    /* The cause is fread's errno (EISDIR for a directory); fclose could change it. */
    int cause = ferror(file) ? errno : text.failed ? ENOMEM : 0;
    fclose(file);
    if (cause) {
        nn_text_free(&text);
        errno = cause;
        return NULL;
    }
    nn_text_append(&text, ""); /* a terminating NUL even for an empty file */
    *length = text.length;
    return text.data ? text.data : strdup("");
}

/* Writes through a temporary file and a rename, so a reader never sees half a file. */
static bool write_file(const char *path, const char *data, size_t length, char *error,
                       size_t error_size)
{
    if (strcmp(path, "-") == 0) {
        fwrite(data, 1, length, stdout);
        return fflush(stdout) == 0;
    }
    /* As a model file is written: beside the target, renamed over it once on disk, the
     * old file's permissions kept and a symbolic link kept pointing at the new file. */
    if (nn_atomic_file_replace(path, data, length) == NN_OK)
        return true;
    snprintf(error, error_size, "%s", nn_error_message());
    return false;
}

/* INPUT.md -> INPUT.out.md, lesson.lua -> lesson.out.lua. */
static char *default_output_path(const char *input)
{
    size_t length = strlen(input);
    const char *slash = strrchr(input, '/');
    const char *dot = strrchr(input, '.');
    size_t stem = dot && (!slash || dot > slash) && dot != input ? (size_t)(dot - input) : length;
    char *path = malloc(length + 8);
    if (path)
        snprintf(path, length + 8, "%.*s.out%s", (int)stem, input, input + stem);
    return path;
}

/* ---- running ---- */

/* The finished text of a cell's output (owned by the cell). */
static const char *cell_output(nnsh_cell *cell)
{
    size_t length;
    return nnsh_transcript_finish(&cell->output, &length);
}

int nnsh_notebook_run(lua_State *L, const nnsh_notebook_options *options)
{
    size_t length;
    char *text = read_file(options->input, &length);
    if (!text) {
        fprintf(stderr, "nnsh: cannot read %s: %s\n", options->input, strerror(errno));
        return 1;
    }
    nnsh_notebook_document document;
    nnsh_session *session = NULL;
    const char **outputs = NULL;
    int exit_status = 1;
    if (!nnsh_notebook_parse(&document, text, length, nnsh_notebook_format_of(options->input)) ||
        !(session = nnsh_session_create(L, NNSH_SESSION_NOTEBOOK)) ||
        !(outputs = calloc((size_t)document.part_count + 1, sizeof *outputs))) {
        fputs("nnsh: out of memory\n", stderr);
        goto done;
    }
    /* Where the author meant the block to end is a guess; running the rest of the lesson
     * as its code, or writing the output inside it, would both be wrong. */
    if (document.unclosed_line) {
        fprintf(stderr,
                "nnsh: %s:%d: the code block opened here is never closed (add its closing "
                "fence)\n",
                options->input, document.unclosed_line);
        goto done;
    }
    /* Errors in the handout name the notebook by its file name alone: the same lesson
     * gives the same handout from whatever folder it is run, and the handout does not
     * carry the author's folders. The terminal's lines keep the path as typed. */
    const char *slash = strrchr(options->input, '/');
    const char *shown_name = slash && slash[1] ? slash + 1 : options->input;
    bool failed = false;
    int cell_index = 0, cells_run = 0, cells_failed = 0, cell_total = 0;
    for (int i = 0; i < document.part_count; i++)
        cell_total += document.parts[i].is_cell;
    for (int i = 0; i < document.part_count; i++) {
        const nnsh_notebook_part *part = &document.parts[i];
        if (!part->is_cell)
            continue;
        int index = cell_index++;
        if (failed && !options->keep_going)
            continue;
        nnsh_cell_status status = nnsh_session_run_cell(
            session, text + part->code_start, part->code_length, shown_name, part->code_line);
        cells_run++;
        nnsh_cell *cell = nnsh_session_cell(session, nnsh_session_cell_count(session) - 1);
        if (part->expect_error && status == NNSH_CELL_OK) {
            nnsh_transcript_write(&cell->output, "error: this cell was expected to fail\n", 38);
            status = NNSH_CELL_FAILED;
            free(cell->error);
            cell->error = strdup("the cell ran without the error it was marked to expect");
        } else if (part->expect_error && status == NNSH_CELL_FAILED) {
            status = NNSH_CELL_OK;
        }
        outputs[index] = cell_output(cell);
        if (status == NNSH_CELL_FAILED) {
            const char *error = cell->error ? cell->error : "error";
            fprintf(stderr, "nnsh: %s:%d: cell %d failed: %.*s\n", options->input,
                    part->code_line, cell->number, (int)strcspn(error, "\n"), error);
            failed = true;
            cells_failed++;
        } else if (status == NNSH_CELL_QUIT) {
            break;
        }
    }
    char *output_path = options->output ? strdup(options->output)
                                        : default_output_path(options->input);
    nn_text handout;
    nn_text_init(&handout);
    nnsh_notebook_render(&document, outputs, &handout);
    char error[512];
    if (!output_path || handout.failed) {
        fputs("nnsh: out of memory\n", stderr);
    } else if (!write_file(output_path, handout.data ? handout.data : "", handout.length, error,
                           sizeof error)) {
        fprintf(stderr, "nnsh: %s\n", error);
    } else {
        int exit_code;
        bool exited = nnsh_session_exit_requested(session, &exit_code);
        /* How the run went: the cells that ran of those there are, the failures (one
         * stops the run unless --keep-going), and an os.exit that ended it. */
        char ending[128];
        int n = snprintf(ending, sizeof ending, "%d of %d cell%s run", cells_run, cell_total,
                         cell_total == 1 ? "" : "s");
        if (cells_failed > 0 && options->keep_going)
            n += snprintf(ending + n, sizeof ending - (size_t)n, ", %d failed", cells_failed);
        else if (cells_failed > 0)
            n += snprintf(ending + n, sizeof ending - (size_t)n, ", stopped by an error");
        if (exited)
            snprintf(ending + n, sizeof ending - (size_t)n, ", ended by os.exit(%d)", exit_code);
        if (strcmp(output_path, "-") != 0)
            fprintf(stderr, "nnsh: wrote %s (%s)\n", output_path, ending);
        exit_status = failed ? 1 : exited ? exit_code : 0;
    }
    nn_text_free(&handout);
    free(output_path);
done:
    free(outputs);
    nnsh_session_free(session);
    nnsh_notebook_document_free(&document);
    free(text);
    return exit_status;
}

/* ---- saving a session ---- */

/* Whether %save writes the cell: not %save or %quit, and not a failed cell that changed
 * nothing (a syntax error) or could not be replayed (one stopped by Ctrl-C, maybe an
 * endless loop). A failed cell that ran may have defined what later cells use, so it is
 * written, marked expect-error, as a notebook run expects it to fail. */
static bool is_saved(const nnsh_cell *cell)
{
    return cell->keep && (!cell->failed || (cell->ran && !cell->interrupted));
}

int nnsh_notebook_save_session(nnsh_session *session, const char *path, char *error,
                               size_t error_size)
{
    nnsh_notebook_format format = nnsh_notebook_format_of(path);
    for (int i = 0; format == NNSH_NOTEBOOK_LUA && i < nnsh_session_cell_count(session); i++) {
        nnsh_cell *cell = nnsh_session_cell(session, i);
        const char *problem = is_saved(cell) ? nnsh_notebook_lua_cell_problem(cell->input)
                                             : NULL;
        if (problem) {
            snprintf(error, error_size,
                     "cannot save In[%d] in a Lua notebook: %s (a .md notebook keeps it whole)",
                     cell->number, problem);
            return -1;
        }
    }
    nn_text document;
    nn_text_init(&document);
    nn_text_append(&document, format == NNSH_NOTEBOOK_LUA ? "-- nnsh session\n\n"
                                                          : "# nnsh session\n\n");
    int saved = 0;
    const nnsh_cell *start = nnsh_session_start_cell(session);
    if (start && is_saved(start)) {
        nnsh_notebook_append_cell(&document, format, start->failed, start->input, NULL);
        saved++;
    }
    /* The numbers the saved cells get when the notebook runs (from 1, without the cells
     * left out), for the In[n] and Out[n] in their code. */
    int count = 1;
    for (int i = 0; i < nnsh_session_cell_count(session); i++)
        if (nnsh_session_cell(session, i)->number >= count)
            count = nnsh_session_cell(session, i)->number + 1;
    int *numbers = calloc((size_t)count, sizeof *numbers);
    for (int i = 0, next = saved + 1; numbers && i < nnsh_session_cell_count(session); i++) {
        nnsh_cell *cell = nnsh_session_cell(session, i);
        if (is_saved(cell) && cell->number > 0)
            numbers[cell->number] = next++;
    }
    nn_text code;
    nn_text_init(&code);
    int left_out = 0; /* references to cells not saved */
    for (int i = 0; i < nnsh_session_cell_count(session); i++) {
        nnsh_cell *cell = nnsh_session_cell(session, i);
        if (!is_saved(cell))
            continue;
        code.length = 0;
        if (code.data)
            code.data[0] = '\0';
        if (numbers)
            left_out += nnsh_notebook_renumber_references(&code, cell->input, numbers, count);
        nnsh_notebook_append_cell(&document, format, cell->failed,
                                  numbers && !code.failed && code.data ? code.data : cell->input,
                                  cell_output(cell));
        saved++;
    }
    nn_text_free(&code);
    if (!numbers)
        document.failed = true;
    free(numbers);
    bool ok = !document.failed &&
              write_file(path, document.data ? document.data : "", document.length, error,
                         error_size);
    if (document.failed)
        snprintf(error, error_size, "out of memory");
    nn_text_free(&document);
    if (ok && left_out > 0)
        snprintf(error, error_size, "note: %d In[n] or Out[n] in the saved cells name%s a cell "
                                    "left out (it failed to compile, or was %%save or "
                                    "stopped by Ctrl-C); running the notebook, %s another "
                                    "cell", left_out, left_out == 1 ? "s" : "",
                 left_out == 1 ? "it reads" : "they read");
    return ok ? saved : -1;
}
