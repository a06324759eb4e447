// The first line a plugin prints (src/plugin/handshake.h), which the gateway reads from a child
// process it does not control. Invariants, for any bytes: the parse does not crash; what it accepts
// is a gRPC target on a unix socket's absolute path or on a loopback address, never anything else.

#include <string>

#include "fuzz_check.h"
#include "plugin/handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string line(eg::fuzz::as_text(data, size));
  const auto parsed = eg::plugin::parse_handshake(line);
  const auto* address = std::get_if<eg::plugin::PluginAddress>(&parsed);
  if (address == nullptr) {
    eg::fuzz::check(!std::get<std::string>(parsed).empty(), "a refusal says why", line);
    return 0;
  }
  const auto& target = address->grpc_target;
  const bool unix_socket = target.starts_with("unix:/");
  const bool loopback_v4 = target.starts_with("ipv4:127.");
  const bool loopback_v6 = target.starts_with("ipv6:[::1]:");
  eg::fuzz::check(unix_socket || loopback_v4 || loopback_v6, "only unix sockets and loopback are targets",
                  line + " -> " + target);
  return 0;
}
