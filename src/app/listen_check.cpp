#include "app/listen_check.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <string_view>

namespace eg::app {
namespace {

namespace asio = boost::asio;

void check_port_free(std::string_view api, std::string_view flag, const std::string& address,
                     std::uint16_t port) {
  if (port == 0) return;
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(address, error);
  if (error) {
    throw ListenError(fmt::format(
        "-listen-address {} is not an IP address (for example 0.0.0.0, 127.0.0.1 or ::)", address));
  }
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io);
  const asio::ip::tcp::endpoint endpoint{ip, port};
  probe.open(endpoint.protocol(), error);
  if (!error) probe.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) probe.bind(endpoint, error);
  if (!error) return;
  const auto where = fmt::format("the {} cannot listen on {} port {}", api, address, port);
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

void check_ports_free(const Options& options) {
  check_port_free("Configuration API", "-config-port", options.listen_address, options.config_port);
  check_port_free("Events API", "-events-port", options.listen_address, options.events_port);
}

}  // namespace eg::app
