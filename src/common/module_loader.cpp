#include "common/module_loader.h"

#include <dlfcn.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace eg::common {

void* load_module_entry(const std::string& file_name, const char* symbol, const std::string& needed_for) {
  std::error_code error;
  const auto binary = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    throw std::runtime_error(needed_for + " needs the module " + file_name +
                             ", which cannot be found: /proc/self/exe: " + error.message());
  }
  const auto path = binary.parent_path() / file_name;
  if (!std::filesystem::exists(path, error)) {
    throw std::runtime_error(needed_for + " needs the module " + path.string() +
                             ", which is missing: the build that made this event-gateway puts it next to "
                             "the binary (unless configured with -DEG_WITH_GRPC=OFF); copy it from there "
                             "beside this binary");
  }
  // The handle is never closed: the module's code and gRPC's threads live as long as the process.
  void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (module == nullptr) {
    const char* reason = dlerror();
    throw std::runtime_error(needed_for + " needs the module " + path.string() +
                             ", which cannot be loaded: " + (reason != nullptr ? reason : "unknown reason"));
  }
  void* entry = dlsym(module, symbol);
  if (entry == nullptr) throw std::runtime_error("the module " + path.string() + " has no " + symbol);
  return entry;
}

void module_not_built(const std::string& module, const std::string& needed_for) {
  throw std::runtime_error(
      needed_for + " needs " + module +
      ", which this event-gateway was built without (configured with -DEG_WITH_GRPC=OFF, as scripts/dev.sh "
      "does for dev mode): install gRPC (scripts/install-deps.sh) and build with -DEG_WITH_GRPC=ON, which "
      "puts the module next to event-gateway");
}

}  // namespace eg::common
