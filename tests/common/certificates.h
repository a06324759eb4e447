#pragma once
// Certificates for TLS tests, made with the openssl tool in a temporary directory (removed with the
// object): a CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA.
// Files: ca.pem, server.pem, server.key, client.pem, client.key.

#include <filesystem>
#include <string>
#include <vector>

#include "temporary_directory.h"

namespace testsupport {

class Certificates {
 public:
  Certificates();
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;

  // False when openssl failed (its output is in openssl.log in the directory).
  bool ok() const { return ok_; }
  std::string file(const std::string& name) const { return (directory_.path() / name).string(); }

 private:
  bool openssl(std::vector<std::string> arguments);
  bool issue(const std::string& name);

  TemporaryDirectory directory_{"eg-tls-"};
  bool ok_ = false;
};

}  // namespace testsupport
