#pragma once
// An HTTP/1.1 server on Boost.Beast: one coroutine per connection, keep-alive, and the limits that
// keep a hostile or broken client from hurting anyone else:
//   - request heads are checked before their body is read (net/request_checks.h: no request
//     smuggling); malformed requests are answered with a JSON 4xx or 501 and the connection closed;
//   - body and header size (413, 431), read timeouts (slowloris);
//   - at most `limits->connections` open connections: past it a new connection gets a canned 503
//     with `Connection: close`, unparsed (so do connections while the byte budget is used up);
//   - at most `limits->buffered_bytes` of request bodies (counted as they are read; a Content-Length
//     body as soon as its head arrives) and response bodies (until written) held at once: a request
//     or response that would exceed it is answered with a JSON 503 and the connection closed;
//   - with `cancel_on_hangup`, a client that hangs up while its handler waits cancels the handler
//     (terminal cancellation), so a synchronous call nobody waits for ends at once.
// With `tls`, every connection is TLS (net/tls_server.h, docs/tls.md): the handshake must end within
// the request timeout, a client that fails it (plain HTTP to the TLS port, TLS 1.1, no common cipher)
// is closed, and a connection past the limits is closed at once, without a handshake or a 503.
// Refusals are logged through the limits' RateLimitedWarnings, never a line per request.
//
// The server owns the wire format of its responses: it writes Date, Content-Length (never for HEAD
// bodies, 1xx, 204 and 304, which carry no body) and Connection itself and ignores the response's own
// fields of those names (net::is_server_managed_field). A response with a field that breaks RFC 9110
// is not written: a JSON 500 goes in its place, and an error is logged (rate-limited).
//
// Threading: a server and its connections live on one io_context, and every member function must be
// called on its thread. Several servers (one per thread) may share a port with SO_REUSEPORT and one
// ServerLimits (thread-safe).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "net/json_response.h"
#include "net/server_limits.h"
#include "net/tls_server.h"

namespace eg::net {

namespace detail {
struct Connections;
}

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

// A response whose body is written piece by piece as it comes (server-sent events): the server writes
// the head with chunked transfer encoding (to HTTP/1.0 clients: no length, and closes), then each
// piece that `next` completes with, until `next` completes with nothing, the client hangs up (which
// cancels what `next` waits for: terminal cancellation), a write stalls past the request timeout, or
// close_connections() is called (which cancels it too). The connection closes after a stream.
// Without `next`, `head` is an ordinary response (a refusal, say).
struct StreamedResponse {
  Response head;  // its body, if any, is ignored when `next` is set
  std::function<boost::asio::awaitable<std::optional<std::string>>()> next;
};
// Asked before the Handler for every request: an answer is sent instead of calling the Handler.
// Nothing: the Handler answers. Runs on the server's thread and must not block.
using StreamHandler = std::function<std::optional<StreamedResponse>(Request&)>;

struct HttpServerOptions {
  // The server listens on each, on the same port: with port 0, the one picked for the first.
  std::vector<boost::asio::ip::address> addresses{boost::asio::ip::address_v4::any()};
  std::uint16_t port = 0;  // 0 picks a free port; see HttpServer::port()
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  // A client must deliver a whole request within this time (slowloris protection); also bounds
  // how long an idle keep-alive connection is kept, and how long writing a response may take.
  std::chrono::milliseconds request_timeout{30'000};
  bool reuse_port = false;
  // Shared by every server of one API; none: no limits on connections and buffered bytes.
  std::shared_ptr<ServerLimits> limits;
  // Watch the client while the handler runs and cancel the handler when the client hangs up (end of
  // stream or reset). For handlers that wait for something (a function's answer); a pipelined
  // request waiting to be read is no hangup, and ends the watch.
  bool cancel_on_hangup = false;
  // Serve TLS with this context's certificate (each new connection takes the current one); none:
  // plain HTTP.
  std::shared_ptr<TlsServerContext> tls;
  // Streamed responses (StreamedResponse); none: every request goes to the Handler.
  StreamHandler streams;
};

class HttpServer {
 public:
  // Binds and listens at once, so a port conflict is reported by the constructor (system_error).
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, Handler handler);
  ~HttpServer();

  // Starts accepting connections on the io_context.
  void start();
  // Closes the listeners at once, so that new connections are refused. Connections already open are
  // still served; every response from now on carries "Connection: close".
  void stop_accepting();
  // Closes every idle connection gracefully (it stops sending, then reads and drops what the client
  // still sends, for a bounded time, so the client sees an orderly close and not a reset), lets the
  // others finish the request they are serving, and completes once no connection is left. Call after
  // stop_accepting().
  boost::asio::awaitable<void> close_connections();
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor);

  boost::asio::io_context& io_;
  std::vector<boost::asio::ip::tcp::acceptor>
      acceptors_;  // one per address, never resized after construction
  std::uint16_t port_ = 0;
  std::shared_ptr<detail::Connections> connections_;
};

}  // namespace eg::net
