# The etcd v3 client of the configuration store: C++ code generated from proto/etcd/*.proto
# (protoc + grpc_cpp_plugin, into the build tree) and src/store/etcd/*.cpp, as the object library
# `eventgateway_etcd`, which carries gRPC and protobuf as usage requirements.
#
# An OBJECT library rather than a static one: EtcdStore implements store.h, whose out-of-line
# parts (src/store/store.cpp) live in eventgateway_core, while eventgateway_core (the gateway's
# wiring) constructs EtcdStore. Linking the object library into eventgateway_core puts its
# objects inside libeventgateway_core.a, so there is no cycle between two archives.
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

add_library(eventgateway_etcd OBJECT
  ${EG_ETCD_GENERATED_SOURCES}
  ${EG_ETCD_SOURCE_ROOT}/src/store/etcd/etcd_store.cpp
)
target_include_directories(eventgateway_etcd PUBLIC "${EG_ETCD_SOURCE_ROOT}/src")
# SYSTEM: the generated headers are included by etcd_store.cpp, compiled with -Werror.
target_include_directories(eventgateway_etcd SYSTEM PRIVATE "${EG_ETCD_GENERATED_DIR}")
target_link_libraries(eventgateway_etcd PUBLIC gRPC::grpc++ protobuf::libprotobuf)
