#include "net/plain_http_transport.h"

// One call is one coroutine (Pool::exchange), co_spawned with its own cancellation signal. Whatever
// ends a call early (its deadline, the caller's terminal cancellation, the transport's destruction)
// records why in Call::stopped and emits that signal, which aborts the operation the coroutine waits
// on and every one it would start afterwards. The caller's own cancellation slot is never wired to
// the coroutine directly, so that only terminal cancellation reaches it.

#include <algorithm>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <exception>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace eg::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Kind = OutboundError::Kind;

namespace {

using Completion = asio::any_completion_handler<void(OutboundResult)>;
using Clock = asio::steady_timer::clock_type;
constexpr auto kTupleAwaitable = asio::as_tuple(asio::use_awaitable);

// As much as libcurl accepts for a response's header block; a bound on what a broken function costs.
constexpr std::uint32_t kMaxResponseHeaderBytes = 100 * 1024;

// Where a call goes, parsed from its URL.
struct Destination {
  std::string host;         // name or address to resolve; an IPv6 address without brackets
  std::uint16_t port = 80;  // 80 when the URL names none
  std::string host_header;  // host and port as the URL writes them, port 80 left out, as libcurl does
  std::string target;       // path and query; "/" for an empty path

  std::string pool_key() const { return host + '/' + std::to_string(port); }  // no host has a '/'
};

std::optional<Destination> destination_of(std::string_view url) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::http || parsed->has_userinfo() ||
      parsed->host().empty())
    return std::nullopt;
  Destination destination;
  if (parsed->has_port() && !parsed->port().empty()) {
    destination.port = parsed->port_number();
    if (destination.port == 0) return std::nullopt;  // 0 or out of range: let libcurl explain
  }
  destination.host = parsed->host_address();
  destination.host_header = parsed->encoded_host();
  if (destination.port != 80) destination.host_header += ":" + std::to_string(destination.port);
  destination.target = parsed->encoded_path().empty() ? "/" : std::string(parsed->encoded_path());
  if (parsed->has_query()) destination.target += "?" + std::string(parsed->encoded_query());
  return destination;
}

using RequestMessage = http::request<http::string_body>;
using ResponseParser = http::response_parser<http::string_body>;

RequestMessage request_message(const Destination& destination, OutboundRequest& request) {
  RequestMessage message;
  if (const http::verb verb = http::string_to_verb(request.method); verb != http::verb::unknown) {
    message.method(verb);
  } else {
    message.method_string(request.method);
  }
  message.target(destination.target);
  message.version(11);
  bool host_given = false;
  for (const auto& [name, value] : request.headers) {
    host_given = host_given || beast::iequals(name, "Host");
    message.insert(name, value);
  }
  if (!host_given) message.set(http::field::host, destination.host_header);
  // The same framing libcurl uses: a Content-Length whenever a body goes out, and POST, PUT and
  // PATCH always have one, if empty. HEAD never does.
  const bool method_has_body = request.method == "POST" || request.method == "PUT" || request.method == "PATCH";
  if (request.method != "HEAD" && (method_has_body || !request.body.empty())) {
    message.content_length(request.body.size());
    message.body() = std::move(request.body);
  }
  return message;
}

OutboundResponse response_of(http::response<http::string_body>&& message) {
  OutboundResponse response;
  response.status = static_cast<long>(message.result_int());
  for (const auto& field : message) response.headers.emplace_back(field.name_string(), field.value());
  response.body = std::move(message.body());
  return response;
}

// A keep-alive connection to one host and port.
struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
  bool reused = false;  // taken from the pool: it has served a call before
};
using ConnectionPtr = std::unique_ptr<Connection>;
using Endpoints = std::vector<tcp::endpoint>;

// One call in flight.
struct Call {
  Call(asio::io_context& io, OutboundRequest request, Completion completion)
      : request(std::move(request)), completion(std::move(completion)), deadline(io) {}

  // Ends the call early: the operation it waits on, and every one it would start, is aborted.
  void stop(Kind kind, std::string message) {
    if (stopped) return;
    stopped = OutboundError{kind, std::move(message)};
    if (resolver) resolver->cancel();  // a name lookup ignores cancellation signals
    cancel.emit(asio::cancellation_type::terminal);
  }

  OutboundRequest request;
  Completion completion;
  asio::cancellation_signal cancel;
  asio::steady_timer deadline;
  std::optional<OutboundError> stopped;
  std::optional<tcp::resolver> resolver;  // while a name is being resolved
};
using CallPtr = std::shared_ptr<Call>;

// Whether a failed exchange on a pooled connection is worth repeating on a new one: the server
// closed the connection while it sat in the pool, so it never read this call.
bool stale_connection(const Connection& connection, const ResponseParser& parser, const Call& call) {
  return connection.reused && !parser.got_some() && !call.stopped;
}

}  // namespace

class PlainHttpTransport::Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(asio::io_context& io, HttpClientOptions options) : io_(io), options_(options) {}

  void start(OutboundRequest request, Completion completion);
  void shut_down();
  std::size_t in_flight() const { return calls_.size(); }

 private:
  asio::awaitable<OutboundResult> exchange(CallPtr call);
  asio::awaitable<std::variant<ConnectionPtr, OutboundError>> connect(const CallPtr& call,
                                                                      const Destination& destination);
  asio::awaitable<std::variant<Endpoints, OutboundError>> resolve(
      const CallPtr& call, const Destination& destination);
  void arm_deadline(const CallPtr& call, Clock::time_point when, std::string expiry_message);
  void forward_terminal_cancellation(const CallPtr& call);
  void finish(const CallPtr& call, OutboundResult result);

  ConnectionPtr take_idle(const std::string& key);
  void keep_idle(const std::string& key, ConnectionPtr connection);
  void drop_idle(const std::string& key);

  asio::io_context& io_;
  HttpClientOptions options_;
  std::unordered_set<Call*> calls_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;  // by Destination::pool_key
  std::size_t idle_count_ = 0;
  bool shut_down_ = false;
};

void PlainHttpTransport::Pool::start(OutboundRequest request, Completion completion) {
  auto call = std::make_shared<Call>(io_, std::move(request), std::move(completion));
  calls_.insert(call.get());
  forward_terminal_cancellation(call);
  arm_deadline(call, Clock::now() + options_.total_timeout,
               "no answer within " + std::to_string(options_.total_timeout.count()) + " ms");
  // The completion handler keeps the call, and so the signal bound to the coroutine, alive until
  // the coroutine is done with it.
  asio::co_spawn(io_, exchange(call),
                 asio::bind_cancellation_slot(
                     call->cancel.slot(), [pool = shared_from_this(), call](std::exception_ptr failure,
                                                                            OutboundResult result) {
                       if (failure) result = OutboundError{Kind::Protocol, "unexpected failure in the HTTP client"};
                       pool->finish(call, std::move(result));
                     }));
}

void PlainHttpTransport::Pool::forward_terminal_cancellation(const CallPtr& call) {
  auto slot = call->completion.get_cancellation_slot();
  if (!slot.is_connected()) return;
  slot.assign([weak_call = std::weak_ptr(call)](asio::cancellation_type type) {
    // Abandoning a call that may already have reached the function is only what terminal asks for.
    if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
    if (auto live = weak_call.lock()) live->stop(Kind::Cancelled, "call cancelled");
  });
}

void PlainHttpTransport::Pool::arm_deadline(const CallPtr& call, Clock::time_point when,
                                            std::string expiry_message) {
  call->deadline.expires_at(when);  // aborts the wait for an earlier deadline, if any
  call->deadline.async_wait([weak_call = std::weak_ptr(call), message = std::move(expiry_message)](
                                boost::system::error_code error) mutable {
    if (error) return;  // replaced by another deadline, or the call is done
    if (auto live = weak_call.lock()) live->stop(Kind::Timeout, std::move(message));
  });
}

asio::awaitable<OutboundResult> PlainHttpTransport::Pool::exchange(CallPtr call) {
  const auto destination = destination_of(call->request.url);
  if (!destination) co_return OutboundError{Kind::Protocol, "not a plain http:// URL: " + call->request.url};
  const std::string key = destination->pool_key();
  RequestMessage message = request_message(*destination, call->request);
  const bool head = message.method() == http::verb::head;
  for (;;) {
    ConnectionPtr connection = take_idle(key);
    if (!connection) {
      auto connected = co_await connect(call, *destination);
      if (auto* error = std::get_if<OutboundError>(&connected)) co_return std::move(*error);
      connection = std::move(std::get<ConnectionPtr>(connected));
    }
    std::optional<ResponseParser> parser;
    auto [write_error, written] = co_await http::async_write(connection->socket, message, kTupleAwaitable);
    boost::system::error_code read_error;
    // Interim (1xx) answers come before the real one and are dropped; a parser reads one message.
    // (101 Switching Protocols never comes: we never ask for an upgrade.)
    do {
      parser.emplace();
      parser->header_limit(kMaxResponseHeaderBytes);
      parser->body_limit(options_.max_response_bytes);
      parser->skip(head);
      if (write_error) break;
      std::tie(read_error, std::ignore) =
          co_await http::async_read(connection->socket, connection->buffer, *parser, kTupleAwaitable);
    } while (!read_error && parser->get().result_int() / 100 == 1);
    if (call->stopped) co_return *call->stopped;
    if (write_error || read_error) {
      if (stale_connection(*connection, *parser, *call)) {
        drop_idle(key);  // the server closed them all, most likely: it restarted, or an idle timeout
        continue;
      }
      if (read_error == http::error::body_limit)
        co_return OutboundError{Kind::TooLarge,
                                "response body exceeds " + std::to_string(options_.max_response_bytes) + " bytes"};
      co_return OutboundError{Kind::Protocol, (write_error ? "sending the call to " : "reading the answer from ") +
                                                  destination->host_header + " failed: " +
                                                  (write_error ? write_error : read_error).message()};
    }
    // Bytes after the answer would be read as the next call's answer.
    const bool reusable = parser->get().keep_alive() && connection->buffer.size() == 0;
    OutboundResponse response = response_of(parser->release());
    if (reusable) keep_idle(key, std::move(connection));
    co_return response;
  }
}

asio::awaitable<std::variant<Endpoints, OutboundError>> PlainHttpTransport::Pool::resolve(
    const CallPtr& call, const Destination& destination) {
  boost::system::error_code not_an_address;
  const auto address = asio::ip::make_address(destination.host, not_an_address);
  if (!not_an_address) {  // nothing to look up: spare the resolver's thread
    co_return Endpoints(1, tcp::endpoint(address, destination.port));
  }
  call->resolver.emplace(io_);
  auto [error, endpoints] = co_await call->resolver->async_resolve(destination.host, std::to_string(destination.port),
                                                                      tcp::resolver::numeric_service, kTupleAwaitable);
  call->resolver.reset();
  if (call->stopped) co_return *call->stopped;
  if (error) co_return OutboundError{Kind::Connect, "cannot resolve " + destination.host + ": " + error.message()};
  co_return Endpoints(endpoints.begin(), endpoints.end());
}

asio::awaitable<std::variant<ConnectionPtr, OutboundError>> PlainHttpTransport::Pool::connect(
    const CallPtr& call, const Destination& destination) {
  const auto call_deadline = call->deadline.expiry();
  arm_deadline(call, std::min(call_deadline, Clock::now() + options_.connect_timeout),
               "cannot connect to " + destination.host_header + " within " +
                   std::to_string(options_.connect_timeout.count()) + " ms");
  auto resolved = co_await resolve(call, destination);
  if (auto* error = std::get_if<OutboundError>(&resolved)) co_return std::move(*error);
  auto connection = std::make_unique<Connection>(io_);
  auto [error, endpoint] = co_await asio::async_connect(
      connection->socket, std::get<Endpoints>(resolved), kTupleAwaitable);
  if (call->stopped) co_return *call->stopped;
  if (error) co_return OutboundError{Kind::Connect, "cannot connect to " + destination.host_header + ": " + error.message()};
  connection->socket.set_option(tcp::no_delay(true));  // as libcurl does: answers must not wait for ACKs
  arm_deadline(call, call_deadline, "no answer within " + std::to_string(options_.total_timeout.count()) + " ms");
  co_return std::move(connection);
}

void PlainHttpTransport::Pool::finish(const CallPtr& call, OutboundResult result) {
  calls_.erase(call.get());
  call->deadline.cancel();
  Completion completion = std::move(call->completion);
  completion.get_cancellation_slot().clear();
  // Posted, never called from here: the caller may resume only once this call is unwound.
  asio::post(io_.get_executor(), asio::append(std::move(completion), std::move(result)));
}

ConnectionPtr PlainHttpTransport::Pool::take_idle(const std::string& key) {
  const auto found = idle_.find(key);
  if (found == idle_.end() || found->second.empty()) return nullptr;
  // The most recently used connection: the least likely to have been closed by an idle timeout.
  ConnectionPtr connection = std::move(found->second.back());
  found->second.pop_back();
  --idle_count_;
  connection->reused = true;
  return connection;
}

void PlainHttpTransport::Pool::keep_idle(const std::string& key, ConnectionPtr connection) {
  if (shut_down_ || idle_count_ >= static_cast<std::size_t>(options_.max_idle_connections)) return;
  idle_[key].push_back(std::move(connection));
  ++idle_count_;
}

void PlainHttpTransport::Pool::drop_idle(const std::string& key) {
  const auto found = idle_.find(key);
  if (found == idle_.end()) return;
  idle_count_ -= found->second.size();
  idle_.erase(found);
}

void PlainHttpTransport::Pool::shut_down() {
  shut_down_ = true;
  idle_.clear();
  idle_count_ = 0;
  const std::vector<Call*> in_flight(calls_.begin(), calls_.end());  // stop() may finish a call
  for (Call* call : in_flight) call->stop(Kind::Cancelled, "HTTP client destroyed");
}

bool PlainHttpTransport::carries(std::string_view url) { return destination_of(url).has_value(); }

PlainHttpTransport::PlainHttpTransport(asio::io_context& io, HttpClientOptions options)
    : pool_(std::make_shared<Pool>(io, options)) {}

PlainHttpTransport::~PlainHttpTransport() { pool_->shut_down(); }

asio::awaitable<OutboundResult> PlainHttpTransport::send(OutboundRequest request) {
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(OutboundResult)>(
      [pool = pool_.get()](auto handler, OutboundRequest request) {
        pool->start(std::move(request), Completion(std::move(handler)));
      },
      asio::use_awaitable, std::move(request));
}

std::size_t PlainHttpTransport::in_flight() const { return pool_->in_flight(); }

}  // namespace eg::net
