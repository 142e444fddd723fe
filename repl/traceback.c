/* Error messages trimmed to the user's code (see traceback.h). */
#include <lauxlib.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "traceback.h"

/* Whether a chunk is the user's: a cell, a file, -e's code, standard input, a string they
 * loaded; not C, nn's embedded modules or the shell's own Lua. */
static bool is_user_source(const char *source)
{
    return source[0] != '=' || strncmp(source, "=In[", 4) == 0 ||
           strcmp(source, "=(command line)") == 0 || strcmp(source, "=stdin") == 0;
}

const char *nnsh_user_location(lua_State *L, char *buf, size_t size)
{
    lua_Debug frame;
    buf[0] = '\0';
    for (int level = 1; lua_getstack(L, level, &frame); level++) {
        if (lua_getinfo(L, "Sl", &frame) && frame.currentline > 0 &&
            is_user_source(frame.source)) {
            snprintf(buf, size, "%s:%d: ", frame.short_src, frame.currentline);
            break;
        }
    }
    return buf;
}

bool nnsh_message_has_location(const char *message)
{
    const char *colon = strchr(message, ':');
    if (!colon || colon == message || memchr(message, '\n', (size_t)(colon - message)))
        return false;
    const char *digits = colon + 1;
    while (*digits >= '0' && *digits <= '9')
        digits++;
    return digits > colon + 1 && *digits == ':';
}

/* A traceback shows the frames nearest the error and the outermost ones, as Lua's own
 * does: a runaway recursion has a million frames, and reading each one's place from the
 * top is quadratic (lua_getstack walks the frames from the top every time). */
enum { FRAMES_NEAR = 10, FRAMES_OUTER = 11 };

/* The number of the deepest frame that exists: an exponential then a binary search, a
 * few dozen lua_getstack calls however deep the stack. */
int nnsh_stack_depth(lua_State *L)
{
    lua_Debug info;
    int low = 0, high = 1;
    while (lua_getstack(L, high, &info)) {
        low = high;
        if (high > (1 << 29))
            return high;
        high *= 2;
    }
    while (high - low > 1) {
        int middle = low + (high - low) / 2;
        if (lua_getstack(L, middle, &info))
            low = middle;
        else
            high = middle;
    }
    return low;
}

/* Adds frame `level` to frames when it is the user's; its place goes to location when it
 * is the first. Returns whether it was added. */
static bool add_frame(lua_State *L, int level, luaL_Buffer *frames, char *location,
                      size_t location_size, bool first)
{
    lua_Debug info;
    if (!lua_getstack(L, level, &info))
        return false;
    lua_getinfo(L, "Sln", &info);
    if (!is_user_source(info.source) || info.currentline <= 0)
        return false;
    if (first)
        snprintf(location, location_size, "%s:%d: ", info.short_src, info.currentline);
    char frame[LUA_IDSIZE + 128];
    if (strcmp(info.what, "main") == 0)
        snprintf(frame, sizeof frame, "\n  %s:%d: in main chunk", info.short_src,
                 info.currentline);
    else if (info.name)
        snprintf(frame, sizeof frame, "\n  %s:%d: in %s '%s'", info.short_src,
                 info.currentline, strcmp(info.namewhat, "method") == 0 ? "method" : "function",
                 info.name);
    else
        snprintf(frame, sizeof frame, "\n  %s:%d: in a function defined at line %d",
                 info.short_src, info.currentline, info.linedefined);
    luaL_addstring(frames, frame);
    return true;
}

/* The message handler: the message, located in the user's code when it comes from C
 * (nn's errors name their function, not a line), and a traceback of the user's frames
 * when there is more than one. */
int nnsh_traceback_handler(lua_State *L)
{
    const char *message = lua_tostring(L, 1);
    if (!message) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            message = lua_tostring(L, -1);
        else
            message = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_Buffer frames;
    luaL_buffinit(L, &frames);
    int user_frames = 0, deepest = nnsh_stack_depth(L);
    char location[LUA_IDSIZE + 32] = "";
    int skipped = deepest - FRAMES_NEAR - FRAMES_OUTER;
    for (int level = 1; level <= deepest; level++) {
        if (skipped > 0 && level == FRAMES_NEAR + 1) {
            char note[64];
            snprintf(note, sizeof note, "\n  ...(%d levels skipped)", skipped);
            luaL_addstring(&frames, note);
            user_frames++;
            level += skipped;
        }
        user_frames += add_frame(L, level, &frames, location, sizeof location, !location[0]);
    }
    luaL_pushresult(&frames);
    lua_pushfstring(L, "%s%s%s%s", nnsh_message_has_location(message) ? "" : location, message,
                    user_frames > 1 ? "\ntraceback:" : "",
                    user_frames > 1 ? lua_tostring(L, -1) : "");
    return 1;
}
