#include "plugin/handshake.h"

#include <boost/asio/ip/address.hpp>
#include <charconv>

#include "common/text.h"

namespace eg::plugin {
namespace {

constexpr std::string_view kCoreProtocolVersion = "1";
constexpr std::string_view kAppProtocolVersion = "1";  // what PLUGIN_PROTOCOL_VERSIONS offers

bool is_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  return error == std::errc() && end == text.data() + text.size() && port > 0 && port <= 65535;
}

// "127.0.0.1:41235" or "[::1]:41235", on loopback only: a plugin's calls carry every event.
std::variant<PluginAddress, std::string> tcp_target(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos || !is_port(address.substr(colon + 1))) {
    return "its tcp address \"" + std::string(address) + "\" is not host:port";
  }
  auto host = address.substr(0, colon);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  // A zone ("[::1%lo]") means nothing on loopback, and boost reads it loosely ("%1f." as zone 1,
  // which would then be written into the target): refused before it is parsed.
  if (host.find('%') != std::string_view::npos) {
    return "its tcp address \"" + std::string(address) + "\" names an IPv6 zone; a plugin on loopback needs none";
  }
  boost::system::error_code error;
  const auto ip = boost::asio::ip::make_address(std::string(host), error);
  if (error) return "its tcp address \"" + std::string(address) + "\" is not an IP address and port";
  if (!ip.is_loopback()) {
    return "it listens on " + std::string(address) +
           ", not on loopback: a plugin must listen on 127.0.0.1, ::1 "
           "or a unix socket";
  }
  // Written anew from the parsed address, so that the target is gRPC's canonical form whatever the
  // spelling ("::1:41235" and "[::1]:41235" alike).
  const auto port = std::string(address.substr(colon + 1));
  if (ip.is_v4()) return PluginAddress{.grpc_target = "ipv4:" + ip.to_string() + ":" + port};
  return PluginAddress{.grpc_target = "ipv6:[" + ip.to_string() + "]:" + port};
}

}  // namespace

std::variant<PluginAddress, std::string> parse_handshake(std::string_view line) {
  line = common::trim(line, " \t\r\n");
  const auto fields = common::split(line, '|');
  if (fields.size() < 5 || fields.size() > 7) {
    return "its first line is not go-plugin's handshake CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL";
  }
  if (fields[0] != kCoreProtocolVersion) {
    return "it speaks go-plugin core protocol " + std::string(fields[0]) + "; the gateway speaks " +
           std::string(kCoreProtocolVersion);
  }
  if (fields[1] != kAppProtocolVersion) {
    return "it speaks plugin protocol version " + std::string(fields[1]) + "; the gateway offers version " +
           std::string(kAppProtocolVersion) + " (PLUGIN_PROTOCOL_VERSIONS=1)";
  }
  if (fields[4] != "grpc") {
    return "it speaks the " + std::string(fields[4]) +
           " protocol; the gateway loads grpc plugins only (the original gateway's netrpc Go plugins must be "
           "rebuilt with go-plugin's gRPC mode and proto/plugin/v1/reacter.proto)";
  }
  if (fields.size() > 5 && !fields[5].empty()) {
    return "it offers a TLS server certificate, which the gateway did not ask for (no PLUGIN_CLIENT_CERT)";
  }
  if (fields.size() > 6 && !fields[6].empty() && fields[6] != "false") {
    return "it offers gRPC multiplexing, which the gateway did not ask for";
  }
  const auto network = fields[2];
  const auto address = fields[3];
  if (network == "unix") {
    if (address.empty() || address.front() != '/') {
      return "its unix socket \"" + std::string(address) + "\" is not an absolute path";
    }
    return PluginAddress{.grpc_target = "unix:" + std::string(address)};
  }
  if (network == "tcp") return tcp_target(address);
  return "it listens on network \"" + std::string(network) + "\"; the gateway connects to unix or tcp";
}

}  // namespace eg::plugin
