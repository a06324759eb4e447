#include "store/etcd/etcd_module_loader.h"

#include "common/module_loader.h"
#include "store/etcd/etcd_module.h"

namespace eg::store {

namespace {
constexpr const char* kNeededFor = "cluster mode (a start without -dev)";
}

std::unique_ptr<Store> load_etcd_store(const EtcdOptions& options) {
#ifdef EG_ETCD_MODULE_FILE
  // Loaded on first use only; a failed load is tried again on the next call.
  static const auto open = reinterpret_cast<OpenEtcdStoreFunction>(
      common::load_module_entry(EG_ETCD_MODULE_FILE, kOpenEtcdStoreSymbol, kNeededFor));
  return open(options);
#else
  // Built without gRPC (CMakeLists.txt: EG_WITH_GRPC).
  (void)options;
  common::module_not_built("the etcd client module", kNeededFor);
#endif
}

}  // namespace eg::store
