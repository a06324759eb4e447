# gRPC and protobuf for the parts of the gateway that speak gRPC (the etcd store, cmake/etcd.cmake;
# the plugin client, cmake/plugin.cmake), and the code generation they share.
#
# Debian bookworm packages: libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev (scripts/install-deps.sh).

include_guard(GLOBAL)

find_package(Protobuf REQUIRED)      # CMake's FindProtobuf: protobuf::libprotobuf, protobuf::protoc
find_package(gRPC CONFIG REQUIRED)   # /usr/lib/x86_64-linux-gnu/cmake/grpc: gRPC::grpc++, gRPC::grpc_cpp_plugin

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

set(EG_PROTO_DIR "${CMAKE_CURRENT_LIST_DIR}/../proto")
set(EG_GENERATED_PROTO_DIR "${CMAKE_BINARY_DIR}/generated/proto")

# eg_generate_grpc(<variable> <name>...): proto/<name>.proto -> <build>/generated/proto/<name>.{pb,grpc.pb}.{h,cc},
# included as "<name>.pb.h" and "<name>.grpc.pb.h"; the .cc files are appended to <variable>.
# Every generated file depends on every proto of the call, since they may import each other.
function(eg_generate_grpc variable)
  set(protos)
  foreach(name IN LISTS ARGN)
    list(APPEND protos "${EG_PROTO_DIR}/${name}.proto")
  endforeach()
  set(sources ${${variable}})
  foreach(name IN LISTS ARGN)
    set(out "${EG_GENERATED_PROTO_DIR}/${name}")
    add_custom_command(
      OUTPUT "${out}.pb.h" "${out}.pb.cc" "${out}.grpc.pb.h" "${out}.grpc.pb.cc"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${EG_GENERATED_PROTO_DIR}"
      COMMAND "${EG_PROTOC}"
        --proto_path "${EG_PROTO_DIR}"
        --cpp_out "${EG_GENERATED_PROTO_DIR}"
        --grpc_out "${EG_GENERATED_PROTO_DIR}"
        --plugin=protoc-gen-grpc=${EG_GRPC_CPP_PLUGIN}
        "${EG_PROTO_DIR}/${name}.proto"
      DEPENDS ${protos}
      COMMENT "Generating C++ for proto/${name}.proto"
      VERBATIM)
    list(APPEND sources "${out}.pb.cc" "${out}.grpc.pb.cc")
  endforeach()
  # Generated code follows protobuf's style, not the project's warning set.
  set_source_files_properties(${sources} PROPERTIES COMPILE_OPTIONS "-w")
  set(${variable} ${sources} PARENT_SCOPE)
endfunction()

# eg_grpc_module(<target> <output name>): a shared object loaded with dlopen (common/module_loader.h),
# next to event-gateway in the top build directory, that exports only the entry points its sources mark
# visible; what static libraries bring stays private to it.
function(eg_grpc_module target output_name)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${output_name}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}")
  target_link_options(${target} PRIVATE
    # A missing symbol fails the build, not the gateway's start.
    LINKER:--no-undefined
    LINKER:--exclude-libs,ALL)
endfunction()
