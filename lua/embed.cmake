# Turns a Lua source file into a C array, so the nnsh binary carries its Lua modules.
# Usage: cmake -DINPUT=file.lua -DOUTPUT=file.c -DNAME=symbol -P embed.cmake
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_length)
math(EXPR byte_count "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "(0x[0-9a-f][0-9a-f],){16}" "\\0\n" bytes "${bytes}")
file(WRITE "${OUTPUT}" "/* Generated from ${INPUT}; do not edit. */\n#include <stddef.h>\n"
     "const unsigned char ${NAME}[] = {\n${bytes}\n0x00};\n"
     "const size_t ${NAME}_size = ${byte_count};\n")
