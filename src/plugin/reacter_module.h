#pragma once
// The one entry point of the plugin module (libeventgateway_plugin.so, cmake/plugin.cmake): a gRPC
// client of a plugin's Reacter service. Both sides include this header, so that the module's
// definition and the gateway's call are checked against one type; the module and the binary must
// come from the same build, since ReacterClient crosses the boundary as a C++ type.

#include <memory>
#include <string>

#include "plugin/reacter_client.h"

extern "C" {
// A client of the Reacter service at settings.grpc_target, over a channel of its own that connects when
// first used. Never blocks.
__attribute__((visibility("default"))) std::unique_ptr<eg::plugin::ReacterClient> eg_connect_reacter(
    eg::plugin::ReacterSettings settings);
}

namespace eg::plugin {

inline constexpr const char* kConnectReacterSymbol = "eg_connect_reacter";
using ConnectReacterFunction = decltype(&eg_connect_reacter);

// The module's entry point, loaded on first use (common/module_loader.h); throws when it cannot be.
ConnectReacterFunction load_reacter_module();

}  // namespace eg::plugin
