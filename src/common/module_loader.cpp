#include "common/module_loader.h"

#include <dlfcn.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace eg::common {

namespace {

// Where a module may be, in this order: next to the binary (a build directory, or a copy of the two
// files), then where `cmake --install` puts it, EG_MODULE_DIR_FROM_BINARY from the binary's directory
// (cmake/install.cmake: ../lib/event-gateway, in any prefix).
std::vector<std::filesystem::path> module_candidates(const std::filesystem::path& binary_dir,
                                                     const std::string& file_name) {
  std::vector<std::filesystem::path> candidates{binary_dir / file_name};
#ifdef EG_MODULE_DIR_FROM_BINARY
  candidates.push_back((binary_dir / EG_MODULE_DIR_FROM_BINARY / file_name).lexically_normal());
#endif
  return candidates;
}

std::string either_of(const std::vector<std::filesystem::path>& paths) {
  std::string text;
  for (const auto& path : paths) text += (text.empty() ? "" : " nor ") + path.string();
  return text;
}

}  // namespace

void* load_module_entry(const std::string& file_name, const char* symbol, const std::string& needed_for) {
  std::error_code error;
  const auto binary = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) {
    throw std::runtime_error(needed_for + " needs the module " + file_name +
                             ", which cannot be found: /proc/self/exe: " + error.message());
  }
  const auto candidates = module_candidates(binary.parent_path(), file_name);
  const auto found = std::find_if(candidates.begin(), candidates.end(), [&](const auto& candidate) {
    return std::filesystem::exists(candidate, error);
  });
  if (found == candidates.end()) {
    throw std::runtime_error(needed_for + " needs the module " + file_name + ", which is missing: neither " +
                             either_of(candidates) +
                             " exists. The build that made this event-gateway puts it next to the binary "
                             "(unless configured with -DEG_WITH_GRPC=OFF), and cmake --install in the "
                             "second place: copy it from the build into either");
  }
  const auto& path = *found;
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
