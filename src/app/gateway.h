#pragma once
// The gateway process: opens the configuration store, serves the Configuration API and the Events
// API (over TLS when their certificates are given), reloads the certificates and the API key files
// on SIGHUP, and shuts down cleanly on SIGINT or SIGTERM.

#include <memory>

#include "app/options.h"
#include "app/security.h"

namespace eg::app {

class Gateway {
 public:
  // Loads the TLS certificates, opens the store and binds both ports; throws (with a message for the
  // user) when any fails: net::TlsFileError for a certificate or key file.
  Gateway(const Options& options, Security security);
  ~Gateway();

  // Serves until SIGINT or SIGTERM; returns the process exit code.
  int run();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace eg::app
