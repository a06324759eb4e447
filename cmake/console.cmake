# The web console's files (src/config/console/: index.html, app.js, style.css), compiled into the
# gateway, which serves them at GET /console on the Configuration API (docs/console.md). Plain files:
# no CDN and no build step of their own. Regenerated whenever one of them changes.

set(EG_CONSOLE_DIR "${CMAKE_SOURCE_DIR}/src/config/console")
set(EG_CONSOLE_FILES "${EG_CONSOLE_DIR}/index.html" "${EG_CONSOLE_DIR}/app.js" "${EG_CONSOLE_DIR}/style.css")
set(EG_CONSOLE_SOURCE "${CMAKE_BINARY_DIR}/generated/console_files.cpp")
add_custom_command(
  OUTPUT "${EG_CONSOLE_SOURCE}"
  COMMAND "${CMAKE_COMMAND}" "-DOUTPUT=${EG_CONSOLE_SOURCE}" "-DCONSOLE_DIR=${EG_CONSOLE_DIR}" -P
          "${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake"
  DEPENDS ${EG_CONSOLE_FILES} "${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake"
          "${CMAKE_SOURCE_DIR}/cmake/byte_array.cmake"
  COMMENT "Embedding the web console of src/config/console/"
  VERBATIM)
# Out of the unity batches: an edited file recompiles this source only.
set_source_files_properties("${EG_CONSOLE_SOURCE}" PROPERTIES GENERATED ON SKIP_UNITY_BUILD_INCLUSION ON)
