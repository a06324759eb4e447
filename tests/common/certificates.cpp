#include "certificates.h"

#include <fstream>

#include "etcd_process.h"

namespace testsupport {

Certificates::Certificates() {
  std::ofstream(file("server.ext")) << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
  std::ofstream(file("client.ext")) << "extendedKeyUsage=clientAuth\n";
  ok_ = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                 file("ca.key"), "-out", file("ca.pem"), "-days", "1", "-subj", "/CN=eg-test-ca"}) &&
        issue("server") && issue("client");
}

bool Certificates::openssl(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), "/usr/bin/openssl");
  return run_program(arguments, directory_.path() / "openssl.log");
}

bool Certificates::issue(const std::string& name) {
  return openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                  file(name + ".key"), "-out", file(name + ".csr"), "-subj", "/CN=" + name}) &&
         openssl({"x509", "-req", "-in", file(name + ".csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
                  "-CAcreateserial", "-out", file(name + ".pem"), "-days", "1", "-extfile", file(name + ".ext")});
}

}  // namespace testsupport
