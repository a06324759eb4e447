#pragma once
// The TLS side of an HTTP server (docs/tls.md): its certificate chain and key, loaded from PEM files
// into an OpenSSL context that offers TLS 1.2 and 1.3 only, Mozilla's "intermediate" ciphers, and
// ALPN http/1.1.
//
// A certificate can be replaced while the server runs: reload() builds a new context from the same
// files and swaps it in, so that every connection accepted afterwards gets the new certificate,
// while connections already open keep the context they started with (each holds it by shared_ptr)
// and go on undisturbed. A reload that fails changes nothing.
//
// Threading: thread-safe. The servers of one API, on several threads, share one TlsServerContext;
// current() and reload() may be called from any thread.

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace eg::net {

// Where a server's certificate and key come from, and the flags that named them: every error names
// the flag and the file.
struct TlsFiles {
  std::string certificate;  // PEM: the server's certificate first, then the intermediates that sign it
  std::string key;          // PEM: the certificate's private key, unencrypted
  std::string certificate_flag = "certificate";  // e.g. "-events-tls-cert"
  std::string key_flag = "key";                  // e.g. "-events-tls-key"
};

// A certificate or key file that cannot serve: missing, unreadable, not PEM, or a key that does not
// match its certificate. The message starts with the flag and the file ("-events-tls-key /x: ...").
class TlsFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsServerContext {
 public:
  // Loads the files; throws TlsFileError when they cannot serve.
  explicit TlsServerContext(TlsFiles files);
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  // The context for a new connection, which keeps it for as long as it lives.
  std::shared_ptr<boost::asio::ssl::context> current() const;
  // Loads the files again and, when they can serve, gives their certificate to every connection
  // from now on. Otherwise throws TlsFileError, and connections keep getting the certificate in use.
  void reload();

  const TlsFiles& files() const { return files_; }

 private:
  const TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> current_;
};

}  // namespace eg::net
