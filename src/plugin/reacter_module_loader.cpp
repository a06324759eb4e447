#include "common/module_loader.h"
#include "plugin/reacter_module.h"

namespace eg::plugin {

ConnectReacterFunction load_reacter_module() {
#ifdef EG_PLUGIN_MODULE_FILE
  // Loaded on first use only; a failed load is tried again on the next call.
  static const auto connect = reinterpret_cast<ConnectReacterFunction>(
      common::load_module_entry(EG_PLUGIN_MODULE_FILE, kConnectReacterSymbol, "-plugin"));
  return connect;
#else
  // Built without gRPC (CMakeLists.txt: EG_WITH_GRPC).
  common::module_not_built("the plugin client module", "-plugin");
#endif
}

}  // namespace eg::plugin
