#include "net/http_server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <iterator>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/rate_limited_log.h"
#include "net/header_rules.h"
#include "net/http_date.h"
#include "net/request_checks.h"

namespace eg::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// Reading and dropping what a client still sends after we stopped sending, so that closing does not
// reset the connection and lose our last answer ("lingering close"): how long and how much.
struct Linger {
  std::chrono::milliseconds time;
  std::size_t bytes;
};
// After refusing a request whose body may still be arriving.
constexpr Linger kAfterRefusedRequest{std::chrono::seconds(2), 64 * 1024 * 1024};

// A read error the client should hear about, or nothing when the connection just ended.
std::optional<Response> response_to_read_error(const beast::error_code& error, const HttpServerOptions& options) {
  if (error == http::error::end_of_stream || error == beast::error::timeout ||
      error == asio::error::operation_aborted || error == asio::error::connection_reset ||
      error == asio::error::eof) {
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

bool expects_continue(const Request& request) {
  return beast::iequals(request[http::field::expect], "100-continue");
}

// RFC 9110 §6.4.1: 1xx, 204 and 304 responses never carry a body, nor (§8.6) a Content-Length.
bool status_has_body(unsigned status) { return status >= 200 && status != 204 && status != 304; }

// A header name or value that broke the rules, fit for a log line: control bytes as '?', at most 64.
std::string printable(std::string_view text) {
  std::string shown(text.substr(0, 64));
  for (auto& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return shown;
}

// How the server frames a response on its connection: decided by the server, never by the
// response's own fields.
struct Framing {
  bool keep_alive = true;
  bool head_only = false;  // the answer to a HEAD request: the head of what a GET would get
  unsigned request_version = 11;
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
    refused = "reason phrase \"" + printable(response.reason()) + "\"";
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
      refused = "field \"" + printable(name) + "\"";
      return std::nullopt;
    }
    if (is_server_managed_field(name)) continue;
    head.append(name).append(": ").append(field.value()).append("\r\n");
  }
  if (status_has_body(response.result_int())) {
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

// The head and, unless the response carries none, the body, in one gather write. (An operation to
// co_await, not a coroutine of its own: a coroutine frame per response costs more than this does.)
// The head and, unless the response carries none, the body, in one gather write. (An operation to
// co_await, not a coroutine of its own: a coroutine frame per response costs more than this does.)
auto write_message(beast::tcp_stream& stream, const std::string& head, const Response& response,
                   const Framing& framing) {
  const auto body = sends_body(response, framing) ? asio::buffer(response.body()) : asio::const_buffer{};
  const std::array<asio::const_buffer, 2> message{asio::buffer(head), body};
  return asio::async_write(stream, message, kUseTuple);
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
    auto [error, bytes] = co_await stream.async_read_some(asio::buffer(scratch), kUseTuple);
    if (error) break;
    discarded += bytes;
  }
}

}  // namespace

// What the server's connections share with it. Connections keep it alive, so a connection that
// outlives the HttpServer object never touches freed memory.
namespace detail {
struct Connections {
  HttpServerOptions options;
  Handler handler;
  bool stopping = false;
  std::uint64_t next_id = 0;
  // Every connection being served, registered once for its lifetime (not once per request, which
  // cost a map node per request).
  struct Served {
    beast::tcp_stream* stream;
    bool waiting_for_request = false;  // idle: closed at once when the server stops
  };
  std::unordered_map<std::uint64_t, Served*> served;
  // An error: handlers should never produce such fields.
  common::RateLimitedWarning refused_header_fields{
      "response replaced by a 500: it held a header field that breaks RFC 9110", std::chrono::seconds(10),
      common::RateLimitedWarning::Level::Error};

  Connections(HttpServerOptions server_options, Handler request_handler)
      : options(std::move(server_options)), handler(std::move(request_handler)) {}
};
}  // namespace detail

namespace {

asio::awaitable<Response> call_handler(const Handler& handler, Request& request) {
  try {
    co_return co_await handler(request);
  } catch (const std::exception& error) {
    spdlog::error("request handler failed for {} {}: {}", std::string(request.method_string()),
                  std::string(request.target()), error.what());
  }
  co_return error_response(http::status::internal_server_error, "internal error while handling the request");
}

// Writes `response`, or a 500 in its place when one of its fields may not be written. False when
// the connection cannot go on after it.
asio::awaitable<bool> send_response(beast::tcp_stream& stream, detail::Connections& server,
                                    const Response& response, const Framing& framing) {
  std::string refused;
  auto head = response_head(response, framing, refused);
  const Response* sent = &response;
  std::optional<Response> replacement;
  if (!head) {
    server.refused_header_fields.note(refused);
    replacement =
        error_response(http::status::internal_server_error,
                       "the response could not be sent: it held a header field that HTTP does not allow");
    sent = &*replacement;
    head = response_head(*replacement, framing, refused);
  }
  stream.expires_after(server.options.request_timeout);
  const auto [error, bytes] = co_await write_message(stream, *head, *sent, framing);
  co_return !error && framing.keep_alive;
}

// What reading a request came to: a request in the parser, a refusal to answer before closing, or
// neither (the client went away or timed out).
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

// Reads one request: its head first, so that a head that breaks the framing rules, or an oversized
// Content-Length, is refused before any body is read, and `Expect: 100-continue` clients are told
// to go on only then.
asio::awaitable<ReadOutcome> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                          http::request_parser<http::string_body>& parser,
                                          const HttpServerOptions& options) {
  auto [error, header_bytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  if (error) co_return failed_read(error, options);
  if (auto refusal = refusal_of(parser.get())) co_return refused(std::move(*refusal));
  if (expects_continue(parser.get())) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [write_error, sent] = co_await asio::async_write(stream, asio::buffer(kContinue), kUseTuple);
    if (write_error) co_return ReadOutcome{};
  }
  const auto head_fields = std::distance(parser.get().begin(), parser.get().end());
  auto [body_error, body_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  if (body_error) co_return failed_read(body_error, options);
  if (parser.chunked()) drop_trailer_fields(parser.get(), head_fields);
  co_return ReadOutcome{.request_read = true};
}

// Keeps a connection in Connections::served while its coroutine frame exists.
class ServedRegistration {
 public:
  ServedRegistration(detail::Connections& connections, detail::Connections::Served& served)
      : connections_(connections), id_(connections.next_id++) {
    connections_.served.emplace(id_, &served);
  }
  ~ServedRegistration() { connections_.served.erase(id_); }
  ServedRegistration(const ServedRegistration&) = delete;
  ServedRegistration& operator=(const ServedRegistration&) = delete;

 private:
  detail::Connections& connections_;
  std::uint64_t id_;
};

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<detail::Connections> shared) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  detail::Connections::Served served{&stream};
  const ServedRegistration registration(*shared, served);
  bool keep_alive = true;
  while (keep_alive && !shared->stopping) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(shared->options.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(shared->options.max_header_bytes));
    stream.expires_after(shared->options.request_timeout);
    served.waiting_for_request = true;
    const auto read = co_await read_request(stream, buffer, parser, shared->options);
    served.waiting_for_request = false;
    if (!read.request_read) {
      if (read.refusal) {
        co_await send_response(stream, *shared, *read.refusal, Framing{.keep_alive = false});
        co_await close_gracefully(stream, kAfterRefusedRequest);
      }
      co_return;
    }
    auto request = parser.release();
    const auto response = co_await call_handler(shared->handler, request);
    const Framing framing{.keep_alive = request.keep_alive() && !shared->stopping,
                          .head_only = request.method() == http::verb::head,
                          .request_version = request.version()};
    keep_alive = co_await send_response(stream, *shared, response, framing);
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, Handler handler)
    : io_(io), acceptor_(io), connections_(std::make_shared<detail::Connections>(std::move(options), std::move(handler))) {
  const auto& settings = connections_->options;
  const tcp::endpoint endpoint{asio::ip::make_address(settings.address), settings.port};
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  if (settings.reuse_port) {
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  }
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

HttpServer::~HttpServer() = default;

void HttpServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void HttpServer::stop() {
  asio::post(io_, [this, shared = connections_] {
    shared->stopping = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [id, served] : shared->served) {
      if (served->waiting_for_request) served->stream->socket().close(ignored);
    }
  });
}

asio::awaitable<void> HttpServer::accept_loop() {
  auto shared = connections_;
  while (acceptor_.is_open()) {
    auto [error, socket] = co_await acceptor_.async_accept(kUseTuple);
    if (error == asio::error::operation_aborted || shared->stopping) co_return;
    if (error) {
      // Typically EMFILE: back off briefly instead of spinning on the same error.
      spdlog::warn("accept failed on port {}: {}", port_, error.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(50));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(io_, serve_connection(std::move(socket), shared), asio::detached);
  }
}

}  // namespace eg::net
