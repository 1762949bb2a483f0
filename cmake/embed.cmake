# SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
# cmake -DIN=file -DOUT=file.inc -DNAME=symbol -P embed.cmake: writes `file` as a C++ byte array.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" len)
math(EXPR size "${len} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "// Generated from ${IN}. Do not edit.\ninline constexpr unsigned char ${NAME}[${size}] = {\n${bytes}};\n")
