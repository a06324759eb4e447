#include "store/etcd/etcd_module_loader.h"

#include "common/module_loader.h"
#include "store/etcd/etcd_module.h"

namespace eg::store {

std::unique_ptr<Store> load_etcd_store(const EtcdOptions& options) {
  // Loaded on first use only; a failed load is tried again on the next call.
  static const auto open = reinterpret_cast<OpenEtcdStoreFunction>(
      common::load_module_entry(EG_ETCD_MODULE_FILE, kOpenEtcdStoreSymbol, "cluster mode"));
  return open(options);
}

}  // namespace eg::store
