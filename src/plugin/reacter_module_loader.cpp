#include "common/module_loader.h"
#include "plugin/reacter_module.h"

namespace eg::plugin {

ConnectReacterFunction load_reacter_module() {
  // Loaded on first use only; a failed load is tried again on the next call.
  static const auto connect = reinterpret_cast<ConnectReacterFunction>(
      common::load_module_entry(EG_PLUGIN_MODULE_FILE, kConnectReacterSymbol, "-plugin"));
  return connect;
}

}  // namespace eg::plugin
