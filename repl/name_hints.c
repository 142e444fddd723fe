/* Guessing the name a nil global or field misspelt (see name_hints.h). */
#include "name_hints.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "nn_lua.h"

/* How deep below a global the tables are searched: nn.optimizers.schedules.X is three.
 * At most so many tables are looked at, so that a session holding a table of a million
 * tables answers an error at once (a hint may then be missed). */
enum { SEARCH_DEPTH = 3, PATH_MAX_LENGTH = 128, SEARCH_TABLES_MAX = 20000 };

/* The name and its kind ("global" or "field") out of "attempt to call a nil value (field
 * 'Sequental')"; false when the message says no such thing. */
static bool nil_name(const char *message, char *kind, size_t kind_size, char *name,
                     size_t name_size)
{
    const char *at = strstr(message, "a nil value (");
    if (!at)
        return false;
    at += strlen("a nil value (");
    const char *quote = strchr(at, '\'');
    const char *end = quote ? strchr(quote + 1, '\'') : NULL;
    if (!end || quote == at || (size_t)(quote - at) > kind_size ||
        (size_t)(end - quote - 1) >= name_size || end[1] != ')')
        return false;
    snprintf(kind, kind_size, "%.*s", (int)(quote - at - 1), at);
    snprintf(name, name_size, "%.*s", (int)(end - quote - 1), quote + 1);
    return strcmp(kind, "global") == 0 || strcmp(kind, "field") == 0;
}

/* Whether source holds `table_name.field` with the table's name whole (a name character
 * does not come before it). */
static bool source_writes(const char *source, size_t length, const char *table_name,
                          const char *field)
{
    char written[PATH_MAX_LENGTH * 2];
    int n = snprintf(written, sizeof written, "%s.%s", table_name, field);
    if (n <= 0 || (size_t)n >= sizeof written)
        return false;
    for (const char *at = source; at + n <= source + length; at++) {
        at = memchr(at, written[0], (size_t)(source + length - at));
        if (!at || at + n > source + length)
            return false;
        if (memcmp(at, written, (size_t)n) != 0)
            continue;
        /* nor a dot: in `nn.layers.Dens`, a global `layers` is not written */
        bool whole_before = at == source || !(at[-1] == '_' || at[-1] == '.' ||
                                              (at[-1] >= '0' && at[-1] <= '9') ||
                                              ((at[-1] | 32) >= 'a' && (at[-1] | 32) <= 'z'));
        char after = at + n < source + length ? at[n] : ' ';
        bool whole_after = !(after == '_' || (after >= '0' && after <= '9') ||
                             ((after | 32) >= 'a' && (after | 32) <= 'z'));
        if (whole_before && whole_after)
            return true;
    }
    return false;
}

enum { HINTS_MAX = 8 };

typedef struct {
    const char *field;
    const char *source;
    size_t length;
    char hints[HINTS_MAX][PATH_MAX_LENGTH * 2]; /* the names found, path and all */
    int hint_count;
    int tables; /* tables looked at */
    /* Which tables count: those whose path the source writes before the field; or
     * every table searched, for the field's exact name, or for a guess. */
    enum { WRITTEN_PATHS, EXACT_ANYWHERE, GUESS_ANYWHERE } where;
} field_search;

static void add_hint(field_search *search, const char *path, const char *name)
{
    if (search->hint_count < HINTS_MAX)
        snprintf(search->hints[search->hint_count++], sizeof search->hints[0], "%s.%s", path,
                 name);
}

/* Searches the table on top of the stack (named path) and the tables below it, depth
 * levels down. */
static void search_table(lua_State *L, field_search *search, const char *path, int depth)
{
    /* The global table (path "") holds globals, not fields. Elsewhere, in the written
     * mode, the whole path as written counts (nn.layers.Dens), or a global's own name
     * (cfg.printr): a user's local named like one of nn's tables (local layers = {}) is
     * not nn's. */
    if (*path && search->where == EXACT_ANYWHERE) {
        lua_pushstring(L, search->field);
        if (lua_rawget(L, -2) != LUA_TNIL)
            add_hint(search, path, search->field);
        lua_pop(L, 1);
    } else if (*path && (search->where == GUESS_ANYWHERE ||
                         source_writes(search->source, search->length, path, search->field))) {
        nn_name_guess guess;
        nn_name_guess_start(&guess, search->field);
        nn_lua_offer_keys(L, -1, &guess);
        for (int i = 0; i < guess.found_count; i++)
            add_hint(search, path, guess.found[i]);
    }
    if (depth == 0 || ++search->tables > SEARCH_TABLES_MAX || !lua_checkstack(L, 4))
        return;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (search->tables > SEARCH_TABLES_MAX) {
            lua_pop(L, 2);
            break;
        }
        /* Library tables hold each other (package.loaded, _G._G): walk only names. */
        if (lua_type(L, -1) == LUA_TTABLE && lua_type(L, -2) == LUA_TSTRING &&
            lua_tostring(L, -2)[0] != '_' && strcmp(lua_tostring(L, -2), "package") != 0 &&
            strcmp(lua_tostring(L, -2), "loaded") != 0 &&
            !(*path == '\0' && strcmp(lua_tostring(L, -2), "nn") == 0)) {
            char child[PATH_MAX_LENGTH];
            int n = snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "",
                             lua_tostring(L, -2));
            if (n > 0 && (size_t)n < sizeof child)
                search_table(L, search, child, depth - 1);
        }
        lua_pop(L, 1);
    }
}

bool nnsh_name_hint_global(lua_State *L, nn_text *out, const char *name, int env)
{
    nn_name_guess guess;
    nn_name_guess_start(&guess, name);
    if (env) {
        lua_pushvalue(L, env);
        nn_lua_offer_keys(L, -1, &guess);
        /* The keys must outlive the guess: the table stays on the stack until the end. */
    }
    lua_pushglobaltable(L);
    nn_lua_offer_keys(L, -1, &guess);
    bool found = guess.found_count > 0;
    for (int i = 0; i < guess.found_count; i++)
        nn_text_printf(out, "%s%s", i == 0 ? "did you mean " : i == guess.found_count - 1 ? " or " : ", ",
                       guess.found[i]);
    if (found)
        nn_text_printf(out, "?");
    lua_pop(L, env ? 2 : 1);
    return found;
}

/* Searches nn and its tables, with the budget of tables fresh. */
static void search_nn(lua_State *L, field_search *search)
{
    search->tables = 0;
    if (lua_getglobal(L, "nn") == LUA_TTABLE)
        search_table(L, search, "nn", SEARCH_DEPTH - 1);
    lua_pop(L, 1);
}

/* nn.Linear, nn.CrossEntropyLoss: PyTorch's name for one of nn's layers or losses, from
 * the prelude's tables nn._torch_layers and nn._torch_losses (a guess by spelling would
 * offer nn.activations.linear). */
static bool torch_name_hint(lua_State *L, nn_text *hint, const char *name)
{
    static const struct {
        const char *table, *module;
    } tables[] = {{"_torch_layers", "layers"}, {"_torch_losses", "losses"}};
    int top = lua_gettop(L);
    bool found = false;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0] && !found; t++) {
        found = lua_getglobal(L, "nn") == LUA_TTABLE &&
                lua_getfield(L, -1, tables[t].table) == LUA_TTABLE &&
                lua_getfield(L, -1, name) == LUA_TSTRING;
        if (found)
            nn_text_printf(hint, "hint: did you mean nn.%s.%s?", tables[t].module,
                           lua_tostring(L, -1));
        lua_settop(L, top);
    }
    return found;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

bool nnsh_name_hint(lua_State *L, nn_text *hint, const char *message, const char *source,
                    size_t length, int env)
{
    char kind[16], name[PATH_MAX_LENGTH];
    if (!message || !source || !nil_name(message, kind, sizeof kind, name, sizeof name))
        return false;
    size_t before = hint->length;
    if (strcmp(kind, "global") == 0) {
        nn_text_printf(hint, "hint: ");
        if (!nnsh_name_hint_global(L, hint, name, env)) {
            hint->length = before;
            if (hint->data)
                hint->data[before] = '\0';
            return false;
        }
        return true;
    }
    field_search search = {.field = name, .source = source, .length = length,
                           .where = EXACT_ANYWHERE};
    /* Keras's names live in modules (keras.layers.Dense): nn.Dense, nn.Adam or
     * nn.load_model is that very name one of nn's tables away, a likelier meaning than
     * a slip at nn's own level (nn.plot_model). */
    bool writes_nn = source_writes(source, length, "nn", name);
    if (writes_nn && torch_name_hint(L, hint, name))
        return true;
    if (writes_nn)
        search_nn(L, &search);
    /* nn first, whose names most slips are of, before the budget goes on the user's
     * tables; then the session's variables (cfg = {...} typed in the shell) and the
     * other globals. */
    if (search.hint_count == 0) {
        search.where = WRITTEN_PATHS;
        search_nn(L, &search);
        if (env) {
            lua_pushvalue(L, env);
            search_table(L, &search, "", SEARCH_DEPTH);
            lua_pop(L, 1);
        }
        lua_pushglobaltable(L);
        search_table(L, &search, "", SEARCH_DEPTH);
        lua_pop(L, 1);
    }
    /* Last, a slip one of nn's tables away (nn.Conv2d for nn.layers.Conv2D). */
    if (search.hint_count == 0 && writes_nn) {
        search.where = GUESS_ANYWHERE;
        search_nn(L, &search);
    }
    qsort(search.hints, (size_t)search.hint_count, sizeof search.hints[0], compare_names);
    for (int i = 0; i < search.hint_count; i++)
        nn_text_printf(hint, "%s%s",
                       i == 0                       ? "hint: did you mean "
                       : i == search.hint_count - 1 ? " or "
                                                    : ", ",
                       search.hints[i]);
    if (search.hint_count > 0)
        nn_text_printf(hint, "?");
    return search.hint_count > 0;
}
