# The etcd v3 client of the configuration store: C++ code generated from proto/etcd/*.proto
# (protoc + grpc_cpp_plugin, into the build tree) and src/store/etcd/etcd_store.cpp, in two forms:
#
# - `eventgateway_etcd`, a static library that carries gRPC and protobuf as usage requirements, for
#   the tests that use EtcdStore directly;
# - `eventgateway_etcd_module`, the shared object libeventgateway_etcd.so next to the gateway binary,
#   with one entry point (src/store/etcd/etcd_module.h). The gateway does not link gRPC: it loads
#   the module with dlopen only in cluster mode (src/store/etcd/etcd_module_loader.cpp). gRPC,
#   protobuf and abseil are about 50 shared libraries; mapped, relocated and initialized, they cost
#   the process about 6 MiB of RSS even when it never talks to etcd, as in dev mode.
#
# Both are position-independent, since the module is a shared object. The out-of-line parts of
# store.h come from `eventgateway_store`, which the gateway links as well; the module has its own
# copy, and exports only its entry point.
#
# Debian bookworm packages: libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev (scripts/install-deps.sh).
#
# The include must come after the project's add_compile_options() so that -Werror and the
# sanitizer flags apply to src/store/etcd/*.cpp too (generated code is compiled without warnings).

find_package(Protobuf REQUIRED)      # CMake's FindProtobuf: protobuf::libprotobuf, protobuf::protoc
find_package(gRPC CONFIG REQUIRED)   # /usr/lib/x86_64-linux-gnu/cmake/grpc: gRPC::grpc++, gRPC::grpc_cpp_plugin

set(EG_ETCD_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")
set(EG_ETCD_PROTO_DIR "${EG_ETCD_SOURCE_ROOT}/proto")
set(EG_ETCD_GENERATED_DIR "${CMAKE_CURRENT_BINARY_DIR}/generated/proto")

if(TARGET gRPC::grpc_cpp_plugin)
  set(EG_GRPC_CPP_PLUGIN "$<TARGET_FILE:gRPC::grpc_cpp_plugin>")
else()
  find_program(EG_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
endif()
if(TARGET protobuf::protoc)
  set(EG_PROTOC "$<TARGET_FILE:protobuf::protoc>")
else()
  set(EG_PROTOC "${Protobuf_PROTOC_EXECUTABLE}")
endif()

# proto/etcd/<name>.proto -> <build>/generated/proto/etcd/<name>.{pb,grpc.pb}.{h,cc}; included as
# "etcd/<name>.pb.h" and "etcd/<name>.grpc.pb.h".
set(EG_ETCD_PROTOS kv rpc)
set(EG_ETCD_GENERATED_SOURCES)
foreach(name IN LISTS EG_ETCD_PROTOS)
  set(proto "${EG_ETCD_PROTO_DIR}/etcd/${name}.proto")
  set(out "${EG_ETCD_GENERATED_DIR}/etcd/${name}")
  add_custom_command(
    OUTPUT "${out}.pb.h" "${out}.pb.cc" "${out}.grpc.pb.h" "${out}.grpc.pb.cc"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${EG_ETCD_GENERATED_DIR}"
    COMMAND "${EG_PROTOC}"
      --proto_path "${EG_ETCD_PROTO_DIR}"
      --cpp_out "${EG_ETCD_GENERATED_DIR}"
      --grpc_out "${EG_ETCD_GENERATED_DIR}"
      --plugin=protoc-gen-grpc=${EG_GRPC_CPP_PLUGIN}
      "${proto}"
    DEPENDS "${proto}" ${EG_ETCD_PROTO_DIR}/etcd/kv.proto
    COMMENT "Generating C++ for proto/etcd/${name}.proto"
    VERBATIM)
  list(APPEND EG_ETCD_GENERATED_SOURCES "${out}.pb.cc" "${out}.grpc.pb.cc")
endforeach()
# Generated code follows protobuf's style, not the project's warning set.
set_source_files_properties(${EG_ETCD_GENERATED_SOURCES} PROPERTIES COMPILE_OPTIONS "-w")

add_library(eventgateway_etcd STATIC
  ${EG_ETCD_GENERATED_SOURCES}
  ${EG_ETCD_SOURCE_ROOT}/src/store/etcd/etcd_store.cpp
)
set_target_properties(eventgateway_etcd PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(eventgateway_etcd PUBLIC "${EG_ETCD_SOURCE_ROOT}/src")
# SYSTEM: the generated headers are included by etcd_store.cpp, compiled with -Werror.
target_include_directories(eventgateway_etcd SYSTEM PRIVATE "${EG_ETCD_GENERATED_DIR}")
target_link_libraries(eventgateway_etcd PUBLIC eventgateway_store gRPC::grpc++ protobuf::libprotobuf)

add_library(eventgateway_etcd_module MODULE ${EG_ETCD_SOURCE_ROOT}/src/store/etcd/etcd_module.cpp)
target_link_libraries(eventgateway_etcd_module PRIVATE eventgateway_etcd)
set_target_properties(eventgateway_etcd_module PROPERTIES
  OUTPUT_NAME eventgateway_etcd
  # Only the entry point is exported (etcd_module.h marks it visible); with --exclude-libs below,
  # nothing else of the module can clash with or be resolved against the gateway's own symbols.
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  # Next to event-gateway (also built in the top build directory), where the loader looks for it.
  LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}")
target_link_options(eventgateway_etcd_module PRIVATE
  # A missing symbol fails the build, not the gateway's start in cluster mode.
  LINKER:--no-undefined
  # What the static libraries bring (the store, the generated code) stays private to the module.
  LINKER:--exclude-libs,ALL)
