#pragma once
// The gateway process: opens the configuration store, serves the Configuration API and the Events
// API, reloads the API key files on SIGHUP, and shuts down cleanly on SIGINT or SIGTERM.

#include <boost/asio/signal_set.hpp>
#include <memory>

#include "app/options.h"
#include "app/security.h"

namespace eg::app {

class Gateway {
 public:
  // Opens the store and binds both ports; throws (with a message for the user) when either fails.
  Gateway(const Options& options, Security security);
  ~Gateway();

  // Serves until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  void reload_on_hangup(boost::asio::signal_set& hangup);

  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eg::app
