# The gRPC client of the plugins' Reacter service (docs/plugins.md): C++ code generated from
# proto/plugin/v1/reacter.proto (cmake/grpc.cmake) in `eventgateway_reacter_proto`, which the module
# and any C++ plugin (bench/noop_plugin.cpp) build on, and the module libeventgateway_plugin.so next
# to the gateway binary, with one entry point (src/plugin/reacter_module.h). As for the etcd store
# (cmake/etcd.cmake), the gateway does not link gRPC: it loads the module only when -plugin is given.
#
# The include must come after the project's add_compile_options(), so that -Werror and the
# sanitizer flags apply to src/plugin/grpc_reacter_client.cpp too.

include(${CMAKE_CURRENT_LIST_DIR}/grpc.cmake)

set(EG_REACTER_GENERATED_SOURCES)
eg_generate_grpc(EG_REACTER_GENERATED_SOURCES plugin/v1/reacter)

add_library(eventgateway_reacter_proto STATIC ${EG_REACTER_GENERATED_SOURCES})
set_target_properties(eventgateway_reacter_proto PROPERTIES POSITION_INDEPENDENT_CODE ON)
# SYSTEM: the generated headers are included by code compiled with -Werror.
target_include_directories(eventgateway_reacter_proto SYSTEM PUBLIC "${EG_GENERATED_PROTO_DIR}")
target_link_libraries(eventgateway_reacter_proto PUBLIC gRPC::grpc++ protobuf::libprotobuf)

add_library(eventgateway_plugin_module MODULE ${CMAKE_CURRENT_LIST_DIR}/../src/plugin/grpc_reacter_client.cpp)
target_include_directories(eventgateway_plugin_module PRIVATE "${CMAKE_CURRENT_LIST_DIR}/../src")
target_link_libraries(eventgateway_plugin_module PRIVATE eventgateway_reacter_proto absl::synchronization)
eg_grpc_module(eventgateway_plugin_module eventgateway_plugin)
