#pragma once
// The gateway process: opens the configuration store, serves the Configuration API and the Events
// API, and shuts down cleanly on SIGINT or SIGTERM.

#include <memory>

#include "app/options.h"

namespace eg::app {

class Gateway {
 public:
  // Opens the store and binds both ports; throws (with a message for the user) when either fails.
  explicit Gateway(const Options& options);
  ~Gateway();

  // Serves until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eg::app
