#pragma once
// The one entry point of the etcd store module (libeventgateway_etcd.so, cmake/etcd.cmake).
//
// The etcd store needs gRPC, protobuf and abseil: about 50 shared libraries, whose relocated and
// initialized pages cost every process that maps them several MiB of RSS even when it never talks
// to etcd. The gateway therefore does not link them: it loads the module only in cluster mode
// (load_etcd_store in etcd_module_loader.h), and dev mode never maps gRPC at all.
//
// Declared with C linkage so that its symbol name is plain and stable for dlsym; both sides include
// this header, so the module's definition and the loader's call are checked against one type. The
// module and the binary must come from the same build: EtcdOptions and Store cross the boundary as
// C++ types, and exceptions thrown by EtcdStore's constructor propagate to the caller.

#include <memory>

#include "store/etcd/etcd_store.h"

extern "C" {
// Constructs an EtcdStore (never blocks, see etcd_store.h); throws what its constructor throws.
// Visible even though the module is compiled with hidden visibility: its only exported symbol.
__attribute__((visibility("default"))) std::unique_ptr<eg::store::Store> eg_open_etcd_store(
    const eg::store::EtcdOptions& options);
}

namespace eg::store {

inline constexpr const char* kOpenEtcdStoreSymbol = "eg_open_etcd_store";
using OpenEtcdStoreFunction = decltype(&eg_open_etcd_store);

}  // namespace eg::store
