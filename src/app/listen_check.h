#pragma once
// Before anything starts: each API's port must be free, said in words a user can act on. Boost's
// "bind: Address already in use [system:98 at .../reactive_socket_service.hpp:161:5 ...]" named
// neither the API nor the port.

#include <stdexcept>

#include "app/options.h"

namespace eg::app {

// Thrown when an API cannot listen on its address and port: says which API, where, why, and what to do.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Binds, then closes, each API's address and port (a port of 0 is picked at start: nothing to check).
// A plain bind, without the Events API's SO_REUSEPORT, which would let this gateway share a port that
// another process of the same user already listens on, each getting part of the connections.
void check_ports_free(const Options& options);

}  // namespace eg::app
