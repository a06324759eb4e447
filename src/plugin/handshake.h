#pragma once
// The first line a plugin prints on stdout, in hashicorp/go-plugin's format:
//   CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK|ADDRESS|PROTOCOL[|SERVER-CERT[|MULTIPLEX]]
// e.g. "1|1|unix|/tmp/plugin123|grpc" or "1|1|tcp|127.0.0.1:41235|grpc". go-plugin itself always
// prints the sixth field, empty unless the host asked for automatic mutual TLS, which the gateway
// does not (a plugin is its child, on a loopback address or a socket only its user can reach).

#include <string>
#include <string_view>
#include <variant>

namespace eg::plugin {

// Where the plugin serves gRPC, as a gRPC target ("unix:/tmp/plugin123", "ipv4:127.0.0.1:41235").
struct PluginAddress {
  std::string grpc_target;
};

// The address, or why the line is refused (one sentence that says what was expected): another core
// or app protocol version, another protocol than grpc (go-plugin's netrpc: the original gateway's Go
// plugins), a network other than unix or tcp, a TCP address not on loopback, a server certificate.
std::variant<PluginAddress, std::string> parse_handshake(std::string_view line);

}  // namespace eg::plugin
