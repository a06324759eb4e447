# The etcd v3 client of the configuration store: C++ code generated from proto/etcd/*.proto
# (cmake/grpc.cmake, into the build tree) and src/store/etcd/etcd_store.cpp, in two forms:
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
# The include must come after the project's add_compile_options() so that -Werror and the
# sanitizer flags apply to src/store/etcd/*.cpp too (generated code is compiled without warnings).

include(${CMAKE_CURRENT_LIST_DIR}/grpc.cmake)

set(EG_ETCD_SOURCE_ROOT "${CMAKE_CURRENT_LIST_DIR}/..")
set(EG_ETCD_GENERATED_SOURCES)
eg_generate_grpc(EG_ETCD_GENERATED_SOURCES etcd/kv etcd/rpc)

add_library(eventgateway_etcd STATIC
  ${EG_ETCD_GENERATED_SOURCES}
  ${EG_ETCD_SOURCE_ROOT}/src/store/etcd/etcd_store.cpp
)
set_target_properties(eventgateway_etcd PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(eventgateway_etcd PUBLIC "${EG_ETCD_SOURCE_ROOT}/src")
# SYSTEM: the generated headers are included by etcd_store.cpp, compiled with -Werror.
target_include_directories(eventgateway_etcd SYSTEM PRIVATE "${EG_GENERATED_PROTO_DIR}")
target_link_libraries(eventgateway_etcd PUBLIC eventgateway_store gRPC::grpc++ protobuf::libprotobuf)

add_library(eventgateway_etcd_module MODULE ${EG_ETCD_SOURCE_ROOT}/src/store/etcd/etcd_module.cpp)
target_link_libraries(eventgateway_etcd_module PRIVATE eventgateway_etcd)
eg_grpc_module(eventgateway_etcd_module eventgateway_etcd)
