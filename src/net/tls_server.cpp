#include "net/tls_server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <array>
#include <boost/asio/ssl/context.hpp>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace eg::net {
namespace ssl = boost::asio::ssl;

namespace {

// Mozilla's "intermediate" configuration (version 5.7): for TLS 1.2 only forward-secret AEAD ciphers
// (the DHE ones left out, since no DH parameters are configured), the three TLS 1.3 suites, and the
// key exchange groups in the order it gives. The client picks among them: all are strong.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:prime256v1:secp384r1";

// The protocols the server speaks, in its order of preference, as ALPN names.
constexpr std::array<std::string_view, 2> kApplicationProtocols{"http/1.1", "http/1.0"};

// What OpenSSL said about the last failure, oldest reason first; its error queue is emptied.
std::string openssl_errors() {
  std::string text;
  while (const auto code = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(code);
    if (!text.empty()) text += "; ";
    text += reason != nullptr ? std::string(reason) : "OpenSSL error " + std::to_string(code);
  }
  return text.empty() ? "unknown OpenSSL error" : text;
}

TlsFileError file_error(const std::string& flag, const std::string& path, const std::string& why) {
  return TlsFileError(flag + " " + path + ": " + why);
}

// Why `path` cannot be read, or nothing. OpenSSL reports a missing or unreadable file as a failed
// "system lib" call, which does not say which.
std::optional<std::string> unreadable(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return std::string(std::strerror(errno));
  char byte = 0;
  const auto read = ::read(fd, &byte, 1);
  const int error = errno;
  ::close(fd);
  if (read < 0) return std::string(std::strerror(error));
  if (read == 0) return std::string("the file is empty");
  return std::nullopt;
}

void require_readable(const std::string& flag, const std::string& path) {
  if (auto why = unreadable(path)) throw file_error(flag, path, "cannot read it: " + *why);
}

// A key protected by a passphrase is refused rather than prompted for: the gateway has no terminal.
int refuse_passphrase(char*, int, int, void*) { return 0; }

// ALPN: http/1.1 (or http/1.0) when the client offers it. A client that offers only protocols the
// server does not speak (h2 alone) gets the no_application_protocol alert (RFC 7301, section 3.2)
// rather than a connection it would misread. A client that offers no ALPN at all speaks HTTP/1.
int select_application_protocol(SSL*, const unsigned char** selected, unsigned char* selected_length,
                                const unsigned char* offered, unsigned int offered_length, void*) {
  for (const auto wanted : kApplicationProtocols) {
    for (unsigned int at = 0; at < offered_length;) {
      const unsigned int length = offered[at];
      if (at + 1 + length > offered_length) break;  // malformed list: nothing more to read in it
      const std::string_view name(reinterpret_cast<const char*>(offered + at + 1), length);
      if (name == wanted) {
        *selected = offered + at + 1;
        *selected_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      at += 1 + length;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

void configure_protocols(SSL_CTX* context) {
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  // Level 2 (112-bit security) refuses what Mozilla's configuration does not allow either: RSA and DH
  // under 2048 bits, and certificates signed with SHA-1.
  SSL_CTX_set_security_level(context, 2);
  // Renegotiation (TLS 1.2) lets a client make the server redo its expensive half of a handshake
  // at will; nothing the gateway serves needs it.
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(context, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(context, kGroups) != 1) {
    throw TlsFileError("the TLS library refuses the gateway's cipher settings: " + openssl_errors());
  }
  SSL_CTX_set_alpn_select_cb(context, select_application_protocol, nullptr);
}

void use_certificate_chain(SSL_CTX* context, const TlsFiles& files) {
  require_readable(files.certificate_flag, files.certificate);
  if (SSL_CTX_use_certificate_chain_file(context, files.certificate.c_str()) != 1) {
    throw file_error(files.certificate_flag, files.certificate,
                     "not a usable PEM certificate chain (" + openssl_errors() + ")");
  }
}

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FileDeleter {
  void operator()(BIO* file) const { BIO_free(file); }
};

std::unique_ptr<EVP_PKEY, KeyDeleter> read_private_key(const TlsFiles& files) {
  require_readable(files.key_flag, files.key);
  std::unique_ptr<BIO, FileDeleter> file(BIO_new_file(files.key.c_str(), "r"));
  std::unique_ptr<EVP_PKEY, KeyDeleter> key;
  if (file) key.reset(PEM_read_bio_PrivateKey(file.get(), nullptr, refuse_passphrase, nullptr));
  if (!key) {
    throw file_error(files.key_flag, files.key,
                     "not an unencrypted PEM private key (" + openssl_errors() + ")");
  }
  return key;
}

// After the certificate chain: the key must be the certificate's.
void use_private_key(SSL_CTX* context, const TlsFiles& files) {
  const auto key = read_private_key(files);
  if (X509_check_private_key(SSL_CTX_get0_certificate(context), key.get()) != 1) {
    ERR_clear_error();
    throw file_error(
        files.key_flag, files.key,
        "the key does not match the certificate of " + files.certificate_flag + " " + files.certificate);
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    throw file_error(files.key_flag, files.key, "the TLS library refuses the key (" + openssl_errors() + ")");
  }
}

std::shared_ptr<ssl::context> load_context(const TlsFiles& files) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  auto* native = context->native_handle();
  ERR_clear_error();  // so that the messages are about these files only
  configure_protocols(native);
  use_certificate_chain(native, files);
  use_private_key(native, files);
  return context;
}

}  // namespace

TlsServerContext::TlsServerContext(TlsFiles files)
    : files_(std::move(files)), current_(load_context(files_)) {}

std::shared_ptr<ssl::context> TlsServerContext::current() const {
  const std::lock_guard lock(mutex_);
  return current_;
}

void TlsServerContext::reload() {
  auto next = load_context(files_);  // throws before anything changed
  const std::lock_guard lock(mutex_);
  current_.swap(next);
}

}  // namespace eg::net
