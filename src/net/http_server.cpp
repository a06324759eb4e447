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
#include <string>
#include <unordered_map>

namespace eg::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

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

// The status line and header block, written by hand into one string: Beast's serializer walks a
// chain of buffer views on every write, which cost more than everything else in writing a response.
std::string response_head(const Response& response) {
  std::string head;
  head.reserve(256);
  head.append(response.version() == 10 ? "HTTP/1.0 " : "HTTP/1.1 ")
      .append(std::to_string(response.result_int()))
      .append(" ")
      .append(response.reason())
      .append("\r\n");
  for (const auto& field : response)
    head.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  head.append("\r\n");
  return head;
}

// Head and body go out in one gather write.
asio::awaitable<beast::error_code> write_response(beast::tcp_stream& stream, const Response& response) {
  const std::string head = response_head(response);
  const std::array<asio::const_buffer, 2> message{asio::buffer(head), asio::buffer(response.body())};
  auto [error, sent] = co_await asio::async_write(stream, message, kUseTuple);
  co_return error;
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

// Reads one request: headers first, so an oversized Content-Length is refused before any body is
// read and `Expect: 100-continue` clients are told to go on.
asio::awaitable<beast::error_code> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                                http::request_parser<http::string_body>& parser) {
  auto [error, header_bytes] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
  if (error) co_return error;
  if (expects_continue(parser.get())) {
    const Response go_on{http::status::continue_, 11};
    if (auto write_error = co_await write_response(stream, go_on)) co_return write_error;
  }
  auto [body_error, body_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
  co_return body_error;
}

// After refusing a request whose body is still arriving, closing at once would make the kernel
// reset the connection, and the client could lose our answer. So stop sending, then read and
// drop what the client still sends, for a bounded time and amount (a "lingering close").
asio::awaitable<void> discard_unread_input(beast::tcp_stream& stream) {
  constexpr std::size_t kMaxDiscardedBytes = 64 * 1024 * 1024;
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(std::chrono::seconds(2));
  std::array<char, 16 * 1024> scratch{};
  std::size_t discarded = 0;
  while (discarded < kMaxDiscardedBytes) {
    auto [error, bytes] = co_await stream.async_read_some(asio::buffer(scratch), kUseTuple);
    if (error) break;
    discarded += bytes;
  }
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
    const auto read_error = co_await read_request(stream, buffer, parser);
    served.waiting_for_request = false;
    if (read_error) {
      if (auto reply = response_to_read_error(read_error, shared->options)) {
        reply->keep_alive(false);
        co_await write_response(stream, *reply);
        co_await discard_unread_input(stream);
      }
      break;
    }
    auto request = parser.release();
    auto response = co_await call_handler(shared->handler, request);
    keep_alive = request.keep_alive() && !shared->stopping;
    response.keep_alive(keep_alive);
    stream.expires_after(shared->options.request_timeout);
    if (co_await write_response(stream, response)) break;
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
