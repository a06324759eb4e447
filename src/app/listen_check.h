#pragma once
// Before anything starts: what -listen-address names, and whether each API's port is free there, said
// in words a user can act on. Boost's "bind: Address already in use [system:98 at
// .../reactive_socket_service.hpp:161:5 ...]" named neither the API nor the port.

#include <boost/asio/ip/address.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/options.h"

namespace eg::app {

// Thrown when an API cannot listen on its address and port: says which API, where, why, and what to do.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The addresses -listen-address stands for: an IP address as it is, a host name (`localhost`) resolved
// once, here, to every address it has (127.0.0.1 and ::1 for localhost where this machine has IPv6; no
// family this machine has no address of), in the resolver's order, without repeats. Both APIs listen
// on each. A name that does not resolve throws ListenError naming the flag and the name.
std::vector<boost::asio::ip::address> resolve_listen_address(const std::string& name);

// Whether every address is a loopback one, so that only this machine can reach the APIs (none: no).
bool only_loopback(const std::vector<boost::asio::ip::address>& addresses);

// Binds, then closes, each API's port on each of options.listen_ips (a port of 0 is picked at start:
// nothing to check). A plain bind, without the Events API's SO_REUSEPORT, which would let this gateway
// share a port that another process of the same user already listens on, each getting part of the
// connections.
void check_ports_free(const Options& options);

}  // namespace eg::app
