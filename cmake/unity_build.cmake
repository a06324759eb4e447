# Unity builds (-DEG_UNITY_BUILD=ON, as scripts/test.sh builds): the core library and the test programs
# compiled in batches of CMake's default 8 files, each batch one translation unit. Most of their
# compile time is not parsing (the precompiled headers do that once) but generating code for the same
# inline functions and templates (Asio, Beast, Boost.JSON, gtest) in every file that uses them; a batch
# generates each once. About 45% less CPU for those files, in Release as under ASan + UBSan; an edit,
# though, recompiles its whole batch, hence off by default.
#
# In a batch, what one file declares at namespace scope is visible to the files after it: names local
# to a file (anonymous namespace, static) must not repeat within a target, which such a build enforces.

option(EG_UNITY_BUILD "Compile the core library and the test programs in batches of files" OFF)

# eg_unity_build(<target>): the target as a unity build when EG_UNITY_BUILD is on.
function(eg_unity_build target)
  if(NOT EG_UNITY_BUILD)
    return()
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON)
  # GCC takes the files a batch includes for headers, and says of each coroutine in an anonymous
  # namespace that its frame, a type of a header, has a member of a type with internal linkage. True
  # of a header, not of a source file; the builds without batches still check real headers.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-subobject-linkage)
  endif()
endfunction()
