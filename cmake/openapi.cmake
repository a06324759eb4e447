# The OpenAPI documents of both APIs (docs/openapi/*.json), compiled into the gateway, which serves
# them on the Configuration API (docs/api.md, "OpenAPI documents"). The source is JSON, so that the
# served document is the file itself, byte for byte, and the build needs no YAML converter
# (docs/openapi/README.md says why). Regenerated whenever a document changes; a document that is not
# JSON fails the build (cmake/embed_openapi.cmake).

set(EG_OPENAPI_CONFIG_API "${CMAKE_SOURCE_DIR}/docs/openapi/config-api.json")
set(EG_OPENAPI_EVENTS_API "${CMAKE_SOURCE_DIR}/docs/openapi/events-api.json")
set(EG_OPENAPI_SOURCE "${CMAKE_BINARY_DIR}/generated/openapi_documents.cpp")
add_custom_command(
  OUTPUT "${EG_OPENAPI_SOURCE}"
  COMMAND "${CMAKE_COMMAND}" "-DOUTPUT=${EG_OPENAPI_SOURCE}" "-DCONFIG_API=${EG_OPENAPI_CONFIG_API}"
          "-DEVENTS_API=${EG_OPENAPI_EVENTS_API}" -P "${CMAKE_SOURCE_DIR}/cmake/embed_openapi.cmake"
  DEPENDS "${EG_OPENAPI_CONFIG_API}" "${EG_OPENAPI_EVENTS_API}" "${CMAKE_SOURCE_DIR}/cmake/embed_openapi.cmake"
          "${CMAKE_SOURCE_DIR}/cmake/byte_array.cmake"
  COMMENT "Embedding the OpenAPI documents of docs/openapi/"
  VERBATIM)
# Out of the unity batches: an edited document recompiles this file only.
set_source_files_properties("${EG_OPENAPI_SOURCE}" PROPERTIES GENERATED ON SKIP_UNITY_BUILD_INCLUSION ON)
