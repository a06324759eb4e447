#include "store/etcd/etcd_module_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "store/etcd/etcd_module.h"

namespace eg::store {
namespace {

// The module is looked up next to the binary rather than on the library path, so that a build
// directory, an installed copy and the tests all find the module that was built with their binary.
std::filesystem::path module_path() {
  std::error_code error;
  const auto binary = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    throw std::runtime_error("cannot find the etcd store module: /proc/self/exe: " + error.message());
  return binary.parent_path() / EG_ETCD_MODULE_FILE;
}

OpenEtcdStoreFunction load_module() {
  const auto path = module_path();
  // RTLD_LOCAL: gRPC's symbols stay the module's own. The handle is never closed.
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* reason = dlerror();
    throw std::runtime_error("cluster mode needs the etcd store module " + path.string() +
                             ", which cannot be loaded: " + (reason != nullptr ? reason : "unknown reason"));
  }
  void* entry = dlsym(module, kOpenEtcdStoreSymbol);
  if (entry == nullptr) {
    throw std::runtime_error("the etcd store module " + path.string() + " has no " + kOpenEtcdStoreSymbol);
  }
  return reinterpret_cast<OpenEtcdStoreFunction>(entry);
}

}  // namespace

std::unique_ptr<Store> load_etcd_store(const EtcdOptions& options) {
  // Loaded on first use only; a failed load is tried again on the next call.
  static const OpenEtcdStoreFunction open = load_module();
  return open(options);
}

}  // namespace eg::store
