#include "app/service_notify.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

namespace eg::app {
namespace {

using SdNotify = decltype(&sd_notify);

// libsystemd's sd_notify, loaded on first use and kept; null when it cannot be loaded, which is said
// once. The Debian package depends on libsystemd0 (cmake/install.cmake), which dpkg-shlibdeps cannot
// see through dlopen.
SdNotify loaded_sd_notify() {
  static const SdNotify loaded = [] {
    void* library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    void* symbol = library != nullptr ? dlsym(library, "sd_notify") : nullptr;
    if (symbol == nullptr) {
      const char* reason = dlerror();
      spdlog::warn(
          "NOTIFY_SOCKET is set, but libsystemd's sd_notify cannot be loaded ({}): systemd will not "
          "hear that the gateway is ready",
          reason != nullptr ? reason : "unknown reason");
    }
    return reinterpret_cast<SdNotify>(symbol);
  }();
  return loaded;
}

// A notification that cannot be sent is logged: systemd would otherwise wait for READY=1 until
// TimeoutStartSec= and kill a gateway whose log says nothing of it.
void tell_service_manager(const std::string& state) {
  const char* notify_socket = std::getenv("NOTIFY_SOCKET");
  if (notify_socket == nullptr || *notify_socket == '\0') return;
  const auto notify = loaded_sd_notify();
  if (notify == nullptr) return;
  const int sent = notify(0, state.c_str());
  if (sent < 0) {
    spdlog::warn("cannot tell systemd {}: {}", state.substr(0, state.find('\n')), std::strerror(-sent));
  }
}

}  // namespace

void notify_service_ready(const std::string& status) { tell_service_manager("READY=1\nSTATUS=" + status); }

void notify_service_stopping() {
  tell_service_manager("STOPPING=1\nSTATUS=finishing accepted events, then exiting");
}

}  // namespace eg::app
