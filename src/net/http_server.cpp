#include "net/http_server.h"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>

#include "net/header_rules.h"
#include "net/http_date.h"
#include "net/request_checks.h"

namespace eg::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using asio::ip::tcp;

namespace {

// A connection's stream: plain HTTP, or TLS over it. The code that serves a connection is a template
// over the two, so that plain HTTP runs exactly the code it ran before TLS existed.
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// The first byte of a TLS record that carries an alert (close_notify among them).
constexpr char kTlsAlertRecord = 0x15;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// For a connection's own reads and writes. Its coroutine's cancellation slot is connected, for the
// handler's sake (a hangup cancels what the handler waits for); an operation awaited with the slot
// connected installs a cancellation handler in it, about a thousand instructions per request over a
// connection's reads and writes, which nothing ever cancels that way. This token hides the slot.
auto own_io() { return asio::bind_cancellation_slot(asio::cancellation_slot(), kUseTuple); }

// Reading and dropping what a client still sends after we stopped sending, so that closing does not
// reset the connection and lose our last answer ("lingering close"): how long and how much.
struct Linger {
  std::chrono::milliseconds time;
  std::size_t bytes;
};
// After refusing a request whose body may still be arriving.
constexpr Linger kAfterRefusedRequest{std::chrono::seconds(2), 64 * 1024 * 1024};
// After the last response of a connection, or when closing an idle one: a client that follows the
// protocol sends nothing more, or hangs up at once.
constexpr Linger kAfterLastResponse{std::chrono::seconds(2), 1024 * 1024};
// After the canned 503 to a connection past the cap: little, since a flood of them is what it answers.
constexpr Linger kAfterRefusedConnection{std::chrono::seconds(1), 64 * 1024};
// Canned 503s in progress per server; past it a refused connection is closed without an answer, so
// that refusing never holds more than a few descriptors.
constexpr unsigned kMaxRefusalsInProgress = 64;
// A connection's read buffer grows with the requests it reads; past this, an empty one is given back
// between requests, so that idle connections do not each keep what their largest request needed.
constexpr std::size_t kKeptReadBufferBytes = 16 * 1024;

// A TLS session that failed (a record that does not decrypt, an alert), or a client that closed
// the connection without close_notify: nothing can be answered over it.
bool is_tls_failure(const beast::error_code& error) {
  return error == ssl::error::stream_truncated || error.category() == asio::error::get_ssl_category();
}

// A read error the client should hear about, or nothing when the connection just ended.
std::optional<Response> response_to_read_error(const beast::error_code& error, const HttpServerOptions& options) {
  if (error == http::error::end_of_stream || error == beast::error::timeout ||
      error == asio::error::operation_aborted || error == asio::error::connection_reset ||
      error == asio::error::eof || is_tls_failure(error)) {
    return std::nullopt;
  }
  if (error == http::error::body_limit) {
    return error_response(http::status::payload_too_large,
                          "request body exceeds the limit of " + std::to_string(options.max_body_bytes) + " bytes");
  }
  if (error == http::error::header_limit) {
    return error_response(http::status::request_header_fields_too_large,
                          "request headers exceed the limit of " + std::to_string(options.max_header_bytes) +
                              " bytes");
  }
  return error_response(http::status::bad_request, "malformed HTTP request: " + error.message());
}

Response buffered_bytes_exceeded(const ServerLimits& limits) {
  return error_response(http::status::service_unavailable,
                        "the gateway holds as many request and response bodies as it may (" +
                            std::to_string(limits.buffered_bytes.limit()) + " bytes); retry later");
}

Response too_many_connections(const ServerLimits& limits) {
  return error_response(http::status::service_unavailable,
                        "the gateway has as many connections open as it may (" +
                            std::to_string(limits.connections.limit()) + "); retry later");
}

bool expects_continue(const Request& request) {
  return beast::iequals(request[http::field::expect], "100-continue");
}

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry a body, nor (§8.6) a Content-Length.
bool status_has_body(unsigned status) { return status >= 200 && status != 204 && status != 304; }

// How the server frames a response on its connection: decided by the server, never by the
// response's own fields.
struct Framing {
  bool keep_alive = true;
  bool head_only = false;  // the answer to a HEAD request: the head of what a GET would get
  unsigned request_version = 11;
  bool streamed = false;  // a StreamedResponse: chunked to HTTP/1.1, no length to HTTP/1.0
};

bool sends_body(const Response& response, const Framing& framing) {
  return !framing.head_only && status_has_body(response.result_int());
}

// The status line and header block, written by hand into one string: Beast's serializer walks a
// chain of buffer views on every write, which cost more than everything else in writing a response.
// Nothing when a field (or the reason phrase) may not be written; `refused` then says which.
std::optional<std::string> response_head(const Response& response, const Framing& framing,
                                         std::string& refused) {
  if (!is_field_value(response.reason())) {
    refused = "reason phrase \"" + printable_for_log(response.reason()) + "\"";
    return std::nullopt;
  }
  std::string head;
  head.reserve(256);
  head.append(response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ")
      .append(std::to_string(response.result_int()))
      .append(" ")
      .append(response.reason())
      .append("\r\nDate: ")
      .append(current_http_date())
      .append("\r\n");
  for (const auto& field : response) {
    const auto name = field.name_string();
    if (!is_field_name(name) || !is_field_value(field.value())) {
      refused = "field \"" + printable_for_log(name) + "\"";
      return std::nullopt;
    }
    if (is_server_managed_field(name)) continue;
    head.append(name).append(": ").append(field.value()).append("\r\n");
  }
  if (framing.streamed) {
    if (framing.request_version >= 11) head.append("Transfer-Encoding: chunked\r\n");
  } else if (status_has_body(response.result_int())) {
    head.append("Content-Length: ").append(std::to_string(response.body().size())).append("\r\n");
  }
  if (!framing.keep_alive) {
    head.append("Connection: close\r\n");
  } else if (framing.request_version == 10) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
  return head;
}

// The head and, unless the response carries none, the body, in one gather write (over TLS, in one
// record: beast::ssl_stream flattens small buffer sequences). (An operation to co_await, not a
// coroutine of its own: a coroutine frame per response costs more than this does.)
template <class Stream>
auto write_message(Stream& stream, const std::string& head, const Response& response,
                   const Framing& framing) {
  const auto body = sends_body(response, framing) ? asio::buffer(response.body()) : asio::const_buffer{};
  const std::array<asio::const_buffer, 2> message{asio::buffer(head), body};
  return asio::async_write(stream, message, own_io());
}

// Stops sending, then reads and drops what the client still sends for a bounded time and amount, so
// that closing the socket afterwards is not a reset that could lose our last answer.
asio::awaitable<void> close_gracefully(beast::tcp_stream& stream, Linger linger) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(linger.time);
  std::array<char, 16 * 1024> scratch{};
  std::size_t discarded = 0;
  while (discarded < linger.bytes) {
    auto [error, bytes] = co_await stream.async_read_some(asio::buffer(scratch), own_io());
    if (error) break;
    discarded += bytes;
  }
}

// Over TLS, close_notify first, so that the client can tell our close from a truncation; the client's
// own close_notify is waited for within the linger time. Then as over TCP.
asio::awaitable<void> close_gracefully(TlsStream& stream, Linger linger) {
  beast::get_lowest_layer(stream).expires_after(linger.time);
  co_await stream.async_shutdown(own_io());
  co_await close_gracefully(beast::get_lowest_layer(stream), linger);
}

template <class Stream>
Stream open_stream(tcp::socket socket, ssl::context* tls) {
  if constexpr (kIsTls<Stream>) {
    return Stream(std::move(socket), *tls);
  } else {
    return Stream(std::move(socket));
  }
}

}  // namespace

// What the server's connections share with it. Connections keep it alive, so a connection that
// outlives the HttpServer object never touches freed memory.
namespace detail {

class ConnectionBase;

struct Connections {
  HttpServerOptions options;
  Handler handler;
  ServerLimits& limits;
  bool stopped_accepting = false;  // every response closes its connection
  bool closing = false;            // close_connections() was called: idle connections close
  unsigned refusals_in_progress = 0;
  std::uint64_t next_id = 0;
  // Every connection being served, registered once for its lifetime (not once per request, which
  // cost a map node per request).
  std::unordered_map<std::uint64_t, ConnectionBase*> served;
  // Cancelled when the last connection ends while closing.
  asio::steady_timer all_closed;
  const Response connection_refusal;  // the canned 503 past the connection cap
  const Response memory_refusal;      // the canned 503 while the byte budget is used up

  Connections(asio::io_context& io, HttpServerOptions server_options, Handler request_handler)
      : options(with_limits(std::move(server_options))),
        handler(std::move(request_handler)),
        limits(*options.limits),
        all_closed(io),
        connection_refusal(with_close(too_many_connections(limits))),
        memory_refusal(with_close(buffered_bytes_exceeded(limits))) {}

  static HttpServerOptions with_limits(HttpServerOptions options) {
    if (!options.limits) {
      constexpr auto kNoLimit = std::numeric_limits<std::size_t>::max();
      options.limits = std::make_shared<ServerLimits>("HTTP server", kNoLimit, kNoLimit);
    }
    return options;
  }
  static Response with_close(Response response) {
    response.keep_alive(false);
    return response;
  }
};

// What every connection has, whatever its stream: its place among the server's connections
// (registered once for its lifetime, not once per request, which cost a map node per request) and
// what its coroutine and its hangup watch share.
class ConnectionBase {
 public:
  explicit ConnectionBase(std::shared_ptr<Connections> server)
      : server(std::move(server)), id_(this->server->next_id++) {
    this->server->served.emplace(id_, this);
  }
  virtual ~ConnectionBase() {
    server->served.erase(id_);
    server->limits.connections.give_back(1);
    if (server->closing && server->served.empty()) server->all_closed.cancel();
  }
  ConnectionBase(const ConnectionBase&) = delete;
  ConnectionBase& operator=(const ConnectionBase&) = delete;

  // For close_connections(): the read of a connection waiting for a request (or for the TLS
  // handshake) is cancelled, and the connection closes.
  virtual void cancel_if_idle() = 0;

  const std::shared_ptr<Connections> server;
  // Bound to the connection's coroutine: emitting terminal cancellation cancels what its handler
  // waits for (an outbound call ends as Cancelled; see http_client.h).
  asio::cancellation_signal cancel_handler;
  bool idle = false;  // waiting for a request: close_connections() closes it
  bool streaming = false;  // writing a StreamedResponse: close_connections() ends it
  bool hung_up = false;

 private:
  const std::uint64_t id_;
};

// One client connection: its stream and read buffer, and what watches it for a hangup while its
// handler runs. Shared by the connection's coroutine and the hangup watch, whichever ends last.
template <class Stream>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  // `tls`: the TLS context of the server when the connection began; none for plain HTTP.
  Connection(tcp::socket socket, std::shared_ptr<Connections> server, std::shared_ptr<ssl::context> tls)
      : ConnectionBase(std::move(server)),
        tls_(std::move(tls)),
        stream(open_stream<Stream>(std::move(socket), tls_.get())) {}

  // Until end_hangup_watch(), a hangup (end of stream, reset) emits terminal cancellation on
  // `cancel_handler`. The watch waits for the socket to become readable and then peeks: it never
  // reads, so a pipelined request stays where the parser will look for it, and nothing needs to be
  // waited for when the watch ends.
  void start_hangup_watch();
  void end_hangup_watch();
  void cancel_if_idle() override {
    beast::error_code ignored;
    if (idle) socket().cancel(ignored);  // its read ends; it closes
  }
  tcp::socket& socket() { return beast::get_lowest_layer(stream).socket(); }

 private:
  // Kept for the connection's lifetime, whatever reloads happen meanwhile; before `stream`, which
  // uses it.
  const std::shared_ptr<ssl::context> tls_;

 public:
  Stream stream;
  beast::flat_buffer buffer;

 private:
  bool input_waiting();
  void wait_for_hangup();
  void on_readable(const beast::error_code& error);

  bool handler_running_ = false;
};

// Whether the next request has begun to arrive already: in the read buffer, or, over TLS, in
// OpenSSL's buffers (decrypted or not), where no readiness of the socket would show it.
template <class Stream>
bool Connection<Stream>::input_waiting() {
  if (buffer.size() > 0) return true;
  if constexpr (kIsTls<Stream>) {
    SSL* session = stream.native_handle();
    return SSL_has_pending(session) == 1 || BIO_pending(SSL_get_rbio(session)) > 0;
  }
  return false;
}

template <class Stream>
void Connection<Stream>::start_hangup_watch() {
  handler_running_ = true;
  if (input_waiting()) return;  // a pipelined request is waiting: no hangup to see before it
  wait_for_hangup();
}

template <class Stream>
void Connection<Stream>::end_hangup_watch() {
  handler_running_ = false;
  beast::error_code ignored;
  socket().cancel(ignored);  // the watch's wait, if still pending: nothing else is
}

template <class Stream>
void Connection<Stream>::wait_for_hangup() {
  socket().async_wait(
      tcp::socket::wait_read,
      [self = this->shared_from_this()](const beast::error_code& error) { self->on_readable(error); });
}

// Also runs for a watch that ended (cancelled, or readable just before it ended): only a hangup
// seen while a handler runs cancels it, and a hangup is one whichever request it is seen during.
// Over TLS the bytes are records: an alert record (TLS 1.2 shows its type; close_notify is one) is a
// client going away. TLS 1.3 encrypts every record's type, so its close_notify looks like the start
// of a pipelined request and ends the watch: such a call goes on until its handler ends.
template <class Stream>
void Connection<Stream>::on_readable(const beast::error_code& error) {
  if (error == asio::error::operation_aborted || !handler_running_) return;
  char byte = 0;
  const auto peeked = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  const bool alert = kIsTls<Stream> && peeked > 0 && byte == kTlsAlertRecord;
  if (peeked > 0 && !alert) return;  // the start of a pipelined request: no hangup, and none to see before it
  if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    wait_for_hangup();  // readable no longer: wait again
    return;
  }
  hung_up = true;
  spdlog::debug("the client hung up: cancelling the call it waited for");
  cancel_handler.emit(asio::cancellation_type::terminal);
}

}  // namespace detail

namespace {

using detail::Connection;
using detail::Connections;

asio::awaitable<Response> call_handler(const Handler& handler, Request& request) {
  try {
    co_return co_await handler(request);
  } catch (const std::exception& error) {
    spdlog::error("request handler failed for {} {}: {}", std::string(request.method_string()),
                  std::string(request.target()), error.what());
  }
  co_return error_response(http::status::internal_server_error, "internal error while handling the request");
}

// Writes `response`, or what must go in its place: a 500 when one of its fields may not be written,
// a 503 when its body does not fit in the byte budget (`held` keeps the body's share until the
// connection is done with the request; none for the server's own small answers, which are never
// refused). False when the connection cannot go on after it.
template <class Stream>
asio::awaitable<bool> send_response(Connection<Stream>& connection, const Response& response, Framing framing,
                                    Taken* held) {
  auto& limits = connection.server->limits;
  std::string refused;
  auto head = response_head(response, framing, refused);
  const Response* sent = &response;
  std::optional<Response> replacement;
  if (!head) {
    limits.refused_header_fields.note(refused);
    replacement =
        error_response(http::status::internal_server_error,
                       "the response could not be sent: it held a header field that HTTP does not allow");
  } else if (held != nullptr && sends_body(response, framing) && !held->add(response.body().size())) {
    limits.refused_for_buffered_bytes.note("a response body of " + std::to_string(response.body().size()) +
                                           " bytes");
    replacement = buffered_bytes_exceeded(limits);
    framing.keep_alive = false;
  }
  if (replacement) {
    sent = &*replacement;
    head = response_head(*replacement, framing, refused);
  }
  beast::get_lowest_layer(connection.stream).expires_after(connection.server->options.request_timeout);
  const auto [error, bytes] = co_await write_message(connection.stream, *head, *sent, framing);
  co_return !error && framing.keep_alive;
}

// What reading a request came to: a request in the parser, a refusal to answer before closing, or
// neither (the client went away, timed out, or the server is closing the connection).
struct ReadOutcome {
  bool request_read = false;
  std::optional<Response> refusal;
};

ReadOutcome refused(Response response) { return ReadOutcome{.refusal = std::move(response)}; }

ReadOutcome failed_read(const beast::error_code& error, const HttpServerOptions& options) {
  return ReadOutcome{.refusal = response_to_read_error(error, options)};
}

// A chunked body may end in trailer fields, which Beast adds to the header fields. They are dropped
// (RFC 9110 §6.5.1): a client could otherwise send, after the body, fields that whatever checked the
// head before us never saw.
void drop_trailer_fields(Request& request, std::ptrdiff_t head_fields) {
  auto field = std::next(request.begin(), head_fields);
  while (field != request.end()) field = request.erase(field);
}

// A chunked body grows as it arrives: each piece must fit in the byte budget.
template <class Stream>
asio::awaitable<ReadOutcome> read_chunked_body(Connection<Stream>& connection,
                                               http::request_parser<http::string_body>& parser, Taken& held) {
  const auto head_fields = std::distance(parser.get().begin(), parser.get().end());
  while (!parser.is_done()) {
    auto [error, bytes] =
        co_await http::async_read_some(connection.stream, connection.buffer, parser, own_io());
    if (error) co_return failed_read(error, connection.server->options);
    if (!held.grow_to(parser.get().body().size())) {
      connection.server->limits.refused_for_buffered_bytes.note("a chunked request body");
      co_return refused(buffered_bytes_exceeded(connection.server->limits));
    }
  }
  drop_trailer_fields(parser.get(), head_fields);
  co_return ReadOutcome{.request_read = true};
}

// Reads one request: its head first, so that a head that breaks the framing rules, or an oversized
// or unaffordable Content-Length, is refused before any body is read, and `Expect: 100-continue`
// clients are told to go on only then. `held` takes the body's share of the byte budget.
template <class Stream>
asio::awaitable<ReadOutcome> read_request(Connection<Stream>& connection,
                                          http::request_parser<http::string_body>& parser, Taken& held) {
  const auto& server = *connection.server;
  auto [error, header_bytes] =
      co_await http::async_read_header(connection.stream, connection.buffer, parser, own_io());
  if (error) co_return failed_read(error, server.options);
  if (auto refusal = refusal_of(parser.get())) co_return refused(std::move(*refusal));
  if (const auto length = parser.content_length(); length && !held.add(*length)) {
    server.limits.refused_for_buffered_bytes.note("a request body of " + std::to_string(*length) + " bytes");
    co_return refused(buffered_bytes_exceeded(server.limits));
  }
  if (expects_continue(parser.get())) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [write_error, sent] =
        co_await asio::async_write(connection.stream, asio::buffer(kContinue), own_io());
    if (write_error) co_return ReadOutcome{};
  }
  if (parser.chunked()) co_return co_await read_chunked_body(connection, parser, held);
  auto [body_error, body_bytes] =
      co_await http::async_read(connection.stream, connection.buffer, parser, own_io());
  if (body_error) co_return failed_read(body_error, server.options);
  co_return ReadOutcome{.request_read = true};
}

// The TLS handshake, within the request timeout, so that a client that says nothing cannot hold a
// connection. The connection counts as idle meanwhile, so that closing the server does not wait for
// it. A client that fails it (plain HTTP, an old protocol, no cipher or ALPN protocol in common) has
// had its alert, if OpenSSL sent one, and is closed.
asio::awaitable<bool> shake_hands(Connection<TlsStream>& connection) {
  const auto& server = *connection.server;
  if (server.closing) co_return false;
  beast::get_lowest_layer(connection.stream).expires_after(server.options.request_timeout);
  connection.idle = true;
  const auto [error] = co_await connection.stream.async_handshake(ssl::stream_base::server, own_io());
  connection.idle = false;
  if (!error) co_return true;
  if (!server.closing) server.limits.failed_handshakes.note(error.message());
  co_await close_gracefully(beast::get_lowest_layer(connection.stream), kAfterRefusedConnection);
  co_return false;
}

// How the answer to `request` is framed: kept alive unless the client or a drain says otherwise.
Framing framing_of(const Request& request, const detail::Connections& server) {
  return Framing{.keep_alive = request.keep_alive() && !server.stopped_accepting,
                 .head_only = request.method() == http::verb::head,
                 .request_version = request.version()};
}

// The StreamHandler's answer to `request`, or nothing; a failing StreamHandler is a 500.
std::optional<StreamedResponse> ask_streams(const StreamHandler& streams, Request& request) {
  try {
    return streams(request);
  } catch (const std::exception& error) {
    spdlog::error("stream handler failed for {} {}: {}", std::string(request.method_string()),
                  std::string(request.target()), error.what());
  }
  return StreamedResponse{.head = error_response(http::status::internal_server_error,
                                                 "internal error while handling the request")};
}

// One piece of a stream, framed as a chunk for HTTP/1.1, within the request timeout.
template <class Stream>
asio::awaitable<bool> write_piece(Connection<Stream>& connection, std::string_view piece, bool chunked) {
  std::string size;
  if (chunked) size = fmt::format("{:x}\r\n", piece.size());
  static constexpr std::string_view kChunkEnd = "\r\n";
  const std::array<asio::const_buffer, 3> message{asio::buffer(size), asio::buffer(piece),
                                                  chunked ? asio::buffer(kChunkEnd) : asio::const_buffer{}};
  beast::get_lowest_layer(connection.stream).expires_after(connection.server->options.request_timeout);
  const auto [error, bytes] = co_await asio::async_write(connection.stream, message, own_io());
  co_return !error;
}

// Writes a StreamedResponse's head, then its pieces as they come (see StreamedResponse). The hangup
// watch runs meanwhile, so that a client that goes away cancels what `next` waits for.
template <class Stream>
asio::awaitable<void> send_stream(Connection<Stream>& connection, StreamedResponse& streamed,
                                  const Request& request) {
  const auto& server = *connection.server;
  const Framing framing{.keep_alive = false, .request_version = request.version(), .streamed = true};
  std::string refused;
  const auto head = response_head(streamed.head, framing, refused);
  if (!head) {
    server.limits.refused_header_fields.note(refused);
    const auto failure =
        error_response(http::status::internal_server_error,
                       "the response could not be sent: it held a header field that HTTP does "
                       "not allow");
    co_await send_response(connection, failure, Framing{.keep_alive = false}, nullptr);
    co_return;
  }
  beast::get_lowest_layer(connection.stream).expires_after(server.options.request_timeout);
  const auto [error, bytes] = co_await asio::async_write(connection.stream, asio::buffer(*head), own_io());
  if (error) co_return;
  const bool chunked = request.version() >= 11;
  connection.streaming = true;
  connection.start_hangup_watch();
  bool written = true;
  while (written && !connection.hung_up && !server.closing) {
    auto piece = co_await streamed.next();
    if (!piece || connection.hung_up || server.closing) break;
    if (piece->empty()) continue;
    written = co_await write_piece(connection, *piece, chunked);
  }
  connection.end_hangup_watch();
  connection.streaming = false;
  if (written && chunked && !connection.hung_up)
    co_await write_piece(connection, {}, true);  // the last chunk
}

template <class Stream>
asio::awaitable<void> serve_connection(std::shared_ptr<Connection<Stream>> shared_connection) {
  // A hangup cancels what the handler waits for; the connection's own steps must go on regardless.
  co_await asio::this_coro::throw_if_cancelled(false);
  auto& connection = *shared_connection;
  const auto& server = *connection.server;
  if constexpr (kIsTls<Stream>) {
    const bool secured = co_await shake_hands(connection);
    if (!secured) co_return;
  }
  bool keep_alive = true;
  while (keep_alive && !server.closing) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(server.options.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(server.options.max_header_bytes));
    Taken held(server.limits.buffered_bytes);  // this request's bodies, until it is done
    beast::get_lowest_layer(connection.stream).expires_after(server.options.request_timeout);
    connection.idle = true;
    const auto read = co_await read_request(connection, parser, held);
    connection.idle = false;
    if (!read.request_read) {
      if (read.refusal) {
        co_await send_response(connection, *read.refusal, Framing{.keep_alive = false}, nullptr);
        co_await close_gracefully(connection.stream, kAfterRefusedRequest);
      } else if (server.closing) {
        co_await close_gracefully(connection.stream, kAfterLastResponse);
      }
      co_return;
    }
    auto request = parser.release();
    std::optional<StreamedResponse> streamed;
    if (server.options.streams) streamed = ask_streams(server.options.streams, request);
    if (streamed && streamed->next) {
      co_await send_stream(connection, *streamed, request);
      break;  // a stream is the connection's last answer
    }
    if (streamed) {
      keep_alive = co_await send_response(connection, streamed->head, framing_of(request, server), &held);
      continue;
    }
    const bool watch = server.options.cancel_on_hangup;
    if (watch) connection.start_hangup_watch();
    const auto response = co_await call_handler(server.handler, request);
    if (watch) connection.end_hangup_watch();
    if (connection.hung_up) co_return;  // nobody to answer
    keep_alive = co_await send_response(connection, response, framing_of(request, server), &held);
    if (connection.buffer.size() == 0 && connection.buffer.capacity() > kKeptReadBufferBytes) {
      connection.buffer.shrink_to_fit();
    }
  }
  co_await close_gracefully(connection.stream, kAfterLastResponse);
}

// The canned 503 for a connection past a cap: nothing is read or parsed before it. Over TLS
// (`answer` none) the connection is closed without one: a 503 would need a handshake first, the
// very work that a flood of connections must not get. The client sees its handshake end.
asio::awaitable<void> refuse_connection(tcp::socket socket, std::shared_ptr<Connections> server,
                                        const Response* answer) {
  beast::tcp_stream stream(std::move(socket));
  bool answered = true;
  if (answer != nullptr) {
    std::string unused;
    const auto head = response_head(*answer, Framing{.keep_alive = false}, unused);
    stream.expires_after(kAfterRefusedConnection.time);
    const auto [error, bytes] = co_await write_message(stream, *head, *answer, Framing{.keep_alive = false});
    answered = !error;
  }
  if (answered) co_await close_gracefully(stream, kAfterRefusedConnection);
  --server->refusals_in_progress;
}

void log_failure(std::exception_ptr failure) {
  if (!failure) return;
  try {
    std::rethrow_exception(failure);
  } catch (const std::exception& error) {
    spdlog::error("a connection ended with an exception: {}", error.what());
  }
}

template <class Stream>
void spawn_connection(asio::io_context& io, tcp::socket socket, std::shared_ptr<Connections> server,
                      std::shared_ptr<ssl::context> tls) {
  auto connection =
      std::make_shared<Connection<Stream>>(std::move(socket), std::move(server), std::move(tls));
  auto& cancel_handler = connection->cancel_handler;
  asio::co_spawn(
      io, serve_connection(connection),
      asio::bind_cancellation_slot(cancel_handler.slot(),
                                   [connection](std::exception_ptr failure) { log_failure(failure); }));
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler)
    : io_(io),
      connections_(std::make_shared<detail::Connections>(io, std::move(options), std::move(handler))) {
  const auto& settings = connections_->options;
  port_ = settings.port;
  acceptors_.reserve(settings.addresses.size());
  for (const auto& address : settings.addresses) {
    const tcp::endpoint endpoint{address, port_};
    auto& acceptor = acceptors_.emplace_back(io);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    // Beside an IPv4 address, an IPv6 one is that address only, not IPv4 as well.
    if (address.is_v6() && settings.addresses.size() > 1) acceptor.set_option(asio::ip::v6_only(true));
    if (settings.reuse_port) {
      acceptor.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    }
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port_ = acceptor.local_endpoint().port();
  }
}

HttpServer::~HttpServer() = default;

void HttpServer::start() {
  for (auto& acceptor : acceptors_) {
    asio::co_spawn(io_, accept_loop(acceptor), [](std::exception_ptr failure) { log_failure(failure); });
  }
}

void HttpServer::stop_accepting() {
  connections_->stopped_accepting = true;
  for (auto& acceptor : acceptors_) {
    beast::error_code ignored;
    acceptor.close(ignored);
  }
}

asio::awaitable<void> HttpServer::close_connections() {
  auto shared = connections_;
  shared->closing = true;
  for (auto& [id, connection] : shared->served) {
    connection->cancel_if_idle();
    if (connection->streaming) connection->cancel_handler.emit(asio::cancellation_type::terminal);
  }
  while (!shared->served.empty()) {
    shared->all_closed.expires_at(asio::steady_timer::time_point::max());
    co_await shared->all_closed.async_wait(kUseTuple);
  }
}

asio::awaitable<void> HttpServer::accept_loop(tcp::acceptor& acceptor) {
  auto shared = connections_;
  auto& limits = shared->limits;
  while (acceptor.is_open()) {
    auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
    if (error == asio::error::operation_aborted || shared->stopped_accepting) co_return;
    if (error) {
      // Typically EMFILE: back off briefly instead of spinning on the same error.
      limits.failed_accepts.note(error.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    const Response* refusal = nullptr;
    if (limits.buffered_bytes.exhausted()) {
      limits.refused_for_buffered_bytes.note("a new connection");
      refusal = &shared->memory_refusal;
    } else if (!limits.connections.try_take(1)) {
      limits.refused_connections.note(std::to_string(limits.connections.limit()) + " connections open");
      refusal = &shared->connection_refusal;
    }
    if (refusal != nullptr) {
      // Past kMaxRefusalsInProgress the socket just closes here: refusing costs nothing more.
      if (shared->refusals_in_progress < kMaxRefusalsInProgress) {
        ++shared->refusals_in_progress;
        const Response* answer = shared->options.tls ? nullptr : refusal;
        asio::co_spawn(io_, refuse_connection(std::move(socket), shared, answer), asio::detached);
      }
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    if (shared->options.tls) {
      spawn_connection<TlsStream>(io_, std::move(socket), shared, shared->options.tls->current());
    } else {
      spawn_connection<PlainStream>(io_, std::move(socket), shared, nullptr);
    }
  }
}

}  // namespace eg::net
