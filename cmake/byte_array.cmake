# What the scripts that embed files in the binary share (embed_openapi.cmake, embed_console.cmake):
# a file's bytes as the body of a C++ char array, 16 a line. As bytes, not as a string literal:
# nothing in a file can end or escape an array of numbers.
function(eg_byte_array variable file)
  file(READ "${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(REPEAT "[^,]*," 16 line)  # CMake's regular expressions have no {16}
  string(REGEX REPLACE "(${line})" "\\1\n    " bytes "${bytes}")
  set(${variable} "${bytes}" PARENT_SCOPE)
endfunction()
