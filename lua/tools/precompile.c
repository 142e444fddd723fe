/* Build tool: compiles a Lua module to bytecode for embedding, so that opening nn
 * undumps its Lua instead of parsing it at every start (about six times faster). It is
 * built against the same Lua library as nnsh, so the bytecode always matches.
 * Usage: nnsh_lua_precompile CHUNK_NAME INPUT.lua OUTPUT.luac
 * CHUNK_NAME is what messages call the module ("=nn/prelude.lua"); debug information
 * is kept, so errors inside embedded modules still have line numbers. */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>

static int write_chunk(lua_State *L, const void *data, size_t size, void *file)
{
    (void)L;
    return fwrite(data, 1, size, file) == size ? 0 : 1;
}

static int precompile(const char *chunk_name, const char *input, const char *output)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fputs("nnsh_lua_precompile: out of memory\n", stderr);
        return 1;
    }
    int status = 1;
    luaL_Buffer source;
    FILE *in = fopen(input, "rb");
    if (!in) {
        fprintf(stderr, "nnsh_lua_precompile: cannot open %s\n", input);
        goto done;
    }
    luaL_buffinit(L, &source);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        luaL_addlstring(&source, chunk, n);
    fclose(in);
    luaL_pushresult(&source);
    size_t length;
    const char *text = lua_tolstring(L, -1, &length);
    if (luaL_loadbufferx(L, text, length, chunk_name, "t") != LUA_OK) {
        fprintf(stderr, "nnsh_lua_precompile: %s\n", lua_tostring(L, -1));
        goto done;
    }
    FILE *out = fopen(output, "wb");
    if (!out) {
        fprintf(stderr, "nnsh_lua_precompile: cannot write %s\n", output);
        goto done;
    }
    int dumped = lua_dump(L, write_chunk, out, 0);
    if (fclose(out) != 0 || dumped != 0) {
        fprintf(stderr, "nnsh_lua_precompile: cannot write %s\n", output);
        remove(output);
        goto done;
    }
    status = 0;
done:
    lua_close(L);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fputs("usage: nnsh_lua_precompile CHUNK_NAME INPUT.lua OUTPUT.luac\n", stderr);
        return 2;
    }
    return precompile(argv[1], argv[2], argv[3]);
}
