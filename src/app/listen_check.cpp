#include "app/listen_check.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

namespace eg::app {
namespace {

namespace asio = boost::asio;

void check_port_free(std::string_view api, std::string_view flag, const asio::ip::address& ip,
                     std::uint16_t port) {
  if (port == 0) return;
  boost::system::error_code error;
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  const asio::ip::tcp::endpoint endpoint{ip, port};
  probe.open(endpoint.protocol(), error);
  if (!error) probe.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) probe.bind(endpoint, error);
  if (!error) return;
  const auto where = fmt::format("the {} cannot listen on {} port {}", api, ip.to_string(), port);
  if (error == asio::error::address_in_use) {
    throw ListenError(
        fmt::format("{}: the port is in use (by another event gateway?); stop what listens "
                    "there, or choose another port with {}",
                    where, flag));
  }
  if (error == asio::error::access_denied) {
    throw ListenError(
        fmt::format("{}: permission denied (ports below 1024 need privileges); choose another "
                    "port with {}",
                    where, flag));
  }
  throw ListenError(fmt::format("{}: {}", where, error.message()));
}

}  // namespace

std::vector<asio::ip::address> resolve_listen_address(const std::string& name) {
  boost::system::error_code error;
  const auto literal = asio::ip::make_address(name, error);
  if (!error) return {literal};
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  // The resolver's default flags include AI_ADDRCONFIG: no IPv6 address where this machine has no
  // IPv6 at all, which could not be listened on.
  const auto results = resolver.resolve(name, "", error);
  std::vector<asio::ip::address> addresses;
  if (!error) {
    for (const auto& result : results) {
      const auto address = result.endpoint().address();
      if (std::find(addresses.begin(), addresses.end(), address) == addresses.end())
        addresses.push_back(address);
    }
  }
  if (addresses.empty()) {
    throw ListenError(fmt::format(
        "-listen-address {}: the name does not resolve to an address ({}); give a host name this machine "
        "resolves, or an IP address (for example 0.0.0.0, 127.0.0.1 or ::)",
        name, error ? error.message() : "no address"));
  }
  std::string listed;
  for (const auto& address : addresses) listed += (listed.empty() ? "" : ", ") + address.to_string();
  spdlog::info("-listen-address {}: listening on {}", name, listed);
  return addresses;
}

bool only_loopback(const std::vector<asio::ip::address>& addresses) {
  return !addresses.empty() && std::all_of(addresses.begin(), addresses.end(),
                                           [](const auto& address) { return address.is_loopback(); });
}

void check_ports_free(const Options& options) {
  for (const auto& ip : options.listen_ips) {
    check_port_free("Configuration API", "-config-port", ip, options.config_port);
    check_port_free("Events API", "-events-port", ip, options.events_port);
  }
}

}  // namespace eg::app
