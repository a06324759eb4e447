#pragma once
// Cluster mode's store, from the etcd store module (etcd_module.h) that sits next to the running
// binary. Part of the gateway itself, which does not link gRPC.

#include <memory>

#include "store/etcd/etcd_store.h"

namespace eg::store {

// Loads the module (once; it stays loaded for the life of the process: gRPC keeps threads and
// global state, and the store's code lives in it) and constructs an EtcdStore. Throws
// std::runtime_error naming the module's path and the loader's reason when the module cannot be
// loaded, and otherwise what EtcdStore's constructor throws.
std::unique_ptr<Store> load_etcd_store(const EtcdOptions& options);

}  // namespace eg::store
