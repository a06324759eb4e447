#include "net/plain_http_transport.h"

// One call is one Call object that moves through its steps with completion handlers: take a pooled
// connection or resolve and connect, write, read the answer. No coroutine is spawned per call: at
// tens of thousands of calls a second the frames, executors and cancellation slots a spawned
// coroutine costs were a large share of the gateway's own CPU.
//
// Whatever ends a call early (its deadline, the caller's terminal cancellation, the transport's
// destruction) records why in Call::stopped and cancels what the call waits on; every step checks
// `stopped` before it starts the next operation. The caller's own cancellation slot is never wired to
// the operations directly, so that only terminal cancellation reaches them.

#include <algorithm>
#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/url/parse.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "net/network_list.h"

namespace eg::net {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Kind = OutboundError::Kind;
using beast::error_code;

namespace {

// I/O objects bound to the io_context's own executor: the type-erased default (any_io_executor)
// costs a conversion on every operation.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Resolver = asio::ip::basic_resolver<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
using Completion = asio::any_completion_handler<void(OutboundResult)>;
using Clock = Timer::clock_type;

// As much as libcurl accepts for a response's header block; a bound on what a broken function costs.
constexpr std::uint32_t kMaxResponseHeaderBytes = 100 * 1024;

// Where a call goes, parsed from its URL.
struct Destination {
  std::string host;         // name or address to resolve; an IPv6 address without brackets
  std::uint16_t port = 80;  // 80 when the URL names none
  std::string host_header;  // host and port as the URL writes them, port 80 left out, as libcurl does
  std::string target;       // path and query; "/" for an empty path

  std::string pool_key;  // host and port: where idle connections are kept; no host has a '/'
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
  destination.pool_key = destination.host + '/' + std::to_string(destination.port);
  return destination;
}

bool method_sends_body(const OutboundRequest& request) {
  // The same framing libcurl uses: a Content-Length whenever a body goes out, and POST, PUT and
  // PATCH always have one, if empty. HEAD never does.
  if (request.method == "HEAD") return false;
  return request.method == "POST" || request.method == "PUT" || request.method == "PATCH" ||
         !request.body.empty();
}

// The request line and header block, written by hand: it is a handful of appends into one string,
// where a Beast message allocates every field and its serializer walks a chain of buffer views.
std::string request_head(const Destination& destination, const OutboundRequest& request) {
  std::string head;
  head.reserve(256);
  head.append(request.method).append(" ").append(destination.target).append(" HTTP/1.1\r\n");
  bool host_given = false;
  for (const auto& [name, value] : request.headers) {
    host_given = host_given || beast::iequals(name, "Host");
    head.append(name).append(": ").append(value).append("\r\n");
  }
  if (!host_given) head.append("Host: ").append(destination.host_header).append("\r\n");
  if (method_sends_body(request))
    head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  head.append("\r\n");
  return head;
}

// Parses one response straight into an OutboundResponse: status, header fields in order, body.
class ResponseParser final : public http::basic_parser<false> {
 public:
  ResponseParser(std::size_t max_body_bytes, bool head_request) {
    header_limit(kMaxResponseHeaderBytes);
    body_limit(max_body_bytes);
    skip(head_request);
    response_.headers.reserve(8);  // a typical answer's fields, in one allocation
  }
  OutboundResponse& response() { return response_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int, error_code&) override {}
  void on_response_impl(int status, beast::string_view, int, error_code&) override {
    response_.status = status;
  }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value, error_code&) override {
    response_.headers.emplace_back(name, value);
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length, error_code&) override {
    if (content_length) response_.body.reserve(*content_length);  // within body_limit: checked before
  }
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    response_.body.append(body);
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    response_.body.append(body);
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  OutboundResponse response_;
};

// A keep-alive connection to one host and port.
struct Connection {
  explicit Connection(asio::io_context& io) : socket(io.get_executor()) {}
  Socket socket;
  beast::flat_buffer buffer;
  bool reused = false;  // taken from the pool: it has served a call before
};
using ConnectionPtr = std::unique_ptr<Connection>;

}  // namespace

class PlainHttpTransport::Pool : public std::enable_shared_from_this<Pool> {
 public:
  Pool(asio::io_context& io, HttpClientOptions options) : io_(io), options_(options) {}

  // Parsed once per URL: a function's calls all go to the same one, and parsing it cost about as
  // much as the rest of starting a call. Nothing when this transport does not carry `url`.
  std::shared_ptr<const Destination> destination(const std::string& url);
  void start(OutboundRequest request, Completion completion);
  void shut_down();
  std::size_t in_flight() const { return calls_.size(); }

 private:
  class Call;
  ConnectionPtr take_idle(const std::string& key);
  void keep_idle(const std::string& key, ConnectionPtr connection);
  void drop_idle(const std::string& key);

  asio::io_context& io_;
  HttpClientOptions options_;
  std::unordered_set<Call*> calls_;
  // By URL; null for a URL this transport does not carry. Shared with the calls in flight, which
  // may outlive a clearing of the cache.
  std::unordered_map<std::string, std::shared_ptr<const Destination>> destinations_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;  // by Destination::pool_key
  std::size_t idle_count_ = 0;
  bool shut_down_ = false;
};

// One call in flight. Every handler of its operations holds it (shared_from_this) until it is done.
class PlainHttpTransport::Pool::Call : public std::enable_shared_from_this<Call> {
 public:
  Call(std::shared_ptr<Pool> pool, OutboundRequest request, std::shared_ptr<const Destination> destination,
       Completion completion)
      : pool_(std::move(pool)),
        request_(std::move(request)),
        destination_(std::move(destination)),
        head_(request_head(*destination_, request_)),
        completion_(std::move(completion)),
        deadline_(pool_->io_.get_executor()) {}

  void start();
  // Ends the call early with `kind`: what it waits on is cancelled, and nothing more is started.
  void stop(Kind kind, std::string message);

 private:
  void forward_terminal_cancellation();
  // What the deadline armed stands for. The message is built only when it expires: calls that
  // finish in time, nearly all of them, need none.
  enum class Deadline { Connect, Answer };
  void arm_deadline(Clock::time_point when, Deadline meaning);
  std::string expiry_message(Deadline meaning) const;
  void resolve();
  void connect(std::vector<tcp::endpoint> endpoints);
  void write();
  void read();
  void on_read(error_code error);
  // Whether a failed exchange on a pooled connection is worth repeating on a new one: the server
  // closed the connection while it sat in the pool, so it never read this call.
  bool stale_connection() const;
  void fail(Kind kind, std::string message) { finish(OutboundError{kind, std::move(message)}); }
  // Completes the call. Only from a completion handler, never from start(): the caller may resume
  // only once the operation that started the call has returned.
  void finish(OutboundResult result);

  std::shared_ptr<Pool> pool_;
  OutboundRequest request_;
  std::shared_ptr<const Destination> destination_;
  std::string head_;
  Completion completion_;
  Timer deadline_;
  Clock::time_point total_deadline_;
  std::optional<OutboundError> stopped_;
  std::optional<Resolver> resolver_;  // while a name is being resolved
  // For the connect: cancelling its socket would only move it on to the next address.
  asio::cancellation_signal connect_cancel_;
  ConnectionPtr connection_;
  std::optional<ResponseParser> parser_;
  bool finished_ = false;
};

std::shared_ptr<const Destination> PlainHttpTransport::Pool::destination(const std::string& url) {
  // A bound on what a stream of ever-new URLs can hold; the cache refills from the URLs in use.
  constexpr std::size_t kMaxCachedUrls = 4096;
  auto found = destinations_.find(url);
  if (found == destinations_.end()) {
    if (destinations_.size() >= kMaxCachedUrls) destinations_.clear();
    auto parsed = destination_of(url);
    found =
        destinations_.emplace(url, parsed ? std::make_shared<const Destination>(std::move(*parsed)) : nullptr)
            .first;
  }
  return found->second;
}

void PlainHttpTransport::Pool::start(OutboundRequest request, Completion completion) {
  auto destination = this->destination(request.url);
  if (!destination) {
    OutboundResult refused = OutboundError{Kind::Protocol, "not a plain http:// URL: " + request.url};
    asio::post(io_.get_executor(), asio::append(std::move(completion), std::move(refused)));
    return;
  }
  auto call = std::make_shared<Call>(shared_from_this(), std::move(request), std::move(destination),
                                     std::move(completion));
  calls_.insert(call.get());
  call->start();
}

void PlainHttpTransport::Pool::Call::start() {
  forward_terminal_cancellation();
  total_deadline_ = Clock::now() + pool_->options_.total_timeout;
  arm_deadline(total_deadline_, Deadline::Answer);
  connection_ = pool_->take_idle(destination_->pool_key);
  if (connection_) {
    write();
  } else {
    resolve();
  }
}

void PlainHttpTransport::Pool::Call::stop(Kind kind, std::string message) {
  if (stopped_ || finished_) return;
  stopped_ = OutboundError{kind, std::move(message)};
  error_code ignored;
  if (resolver_) resolver_->cancel();
  connect_cancel_.emit(asio::cancellation_type::terminal);
  if (connection_) connection_->socket.cancel(ignored);
}

void PlainHttpTransport::Pool::Call::forward_terminal_cancellation() {
  auto slot = completion_.get_cancellation_slot();
  if (!slot.is_connected()) return;
  slot.assign([weak_call = weak_from_this()](asio::cancellation_type type) {
    // Abandoning a call that may already have reached the function is only what terminal asks for.
    if ((type & asio::cancellation_type::terminal) == asio::cancellation_type::none) return;
    if (auto live = weak_call.lock()) live->stop(Kind::Cancelled, "call cancelled");
  });
}

void PlainHttpTransport::Pool::Call::arm_deadline(Clock::time_point when, Deadline meaning) {
  deadline_.expires_at(when);  // aborts the wait for an earlier deadline, if any
  deadline_.async_wait([weak_call = weak_from_this(), meaning](error_code error) {
    if (error) return;  // replaced by another deadline, or the call is done
    if (auto live = weak_call.lock()) live->stop(Kind::Timeout, live->expiry_message(meaning));
  });
}

std::string PlainHttpTransport::Pool::Call::expiry_message(Deadline meaning) const {
  const auto& options = pool_->options_;
  if (meaning == Deadline::Connect) {
    return "cannot connect to " + destination_->host_header + " within " +
           std::to_string(options.connect_timeout.count()) + " ms";
  }
  return "no answer within " + std::to_string(options.total_timeout.count()) + " ms";
}

void PlainHttpTransport::Pool::Call::resolve() {
  arm_deadline(std::min(total_deadline_, Clock::now() + pool_->options_.connect_timeout), Deadline::Connect);
  error_code not_an_address;
  const auto address = asio::ip::make_address(destination_->host, not_an_address);
  if (!not_an_address) {  // nothing to look up: spare the resolver's thread
    connect({tcp::endpoint(address, destination_->port)});
    return;
  }
  resolver_.emplace(pool_->io_.get_executor());
  resolver_->async_resolve(
      destination_->host, std::to_string(destination_->port), tcp::resolver::numeric_service,
      [self = shared_from_this()](error_code error, tcp::resolver::results_type results) {
        self->resolver_.reset();
        if (self->stopped_) return self->finish(*self->stopped_);
        if (error) {
          return self->fail(Kind::Connect,
                            "cannot resolve " + self->destination_->host + ": " + error.message());
        }
        self->connect({results.begin(), results.end()});
      });
}

void PlainHttpTransport::Pool::Call::connect(std::vector<tcp::endpoint> endpoints) {
  if (const auto& denied = pool_->options_.denied_networks) {
    std::optional<std::string> denied_network;
    std::erase_if(endpoints, [&](const tcp::endpoint& endpoint) {
      auto network = denied->network_of(endpoint.address());
      if (!network) return false;
      denied_network = std::move(network);
      return true;
    });
    if (endpoints.empty()) return fail(Kind::Denied, describe_denial(destination_->host, *denied_network));
  }
  connection_ = std::make_unique<Connection>(pool_->io_);
  auto on_connect = [self = shared_from_this()](error_code error, const tcp::endpoint&) {
    if (self->stopped_) return self->finish(*self->stopped_);
    if (error) {
      return self->fail(Kind::Connect,
                        "cannot connect to " + self->destination_->host_header + ": " + error.message());
    }
    error_code ignored;  // as libcurl does: answers must not wait for ACKs
    self->connection_->socket.set_option(tcp::no_delay(true), ignored);
    self->arm_deadline(self->total_deadline_, Deadline::Answer);
    self->write();
  };
  asio::async_connect(connection_->socket, endpoints,
                      asio::bind_cancellation_slot(connect_cancel_.slot(), std::move(on_connect)));
}

void PlainHttpTransport::Pool::Call::write() {
  const std::array<asio::const_buffer, 2> message{
      asio::buffer(head_), method_sends_body(request_) ? asio::buffer(request_.body) : asio::const_buffer()};
  asio::async_write(connection_->socket, message, [self = shared_from_this()](error_code error, std::size_t) {
    if (self->stopped_) return self->finish(*self->stopped_);
    if (error) {
      if (self->stale_connection()) {
        self->pool_->drop_idle(self->destination_->pool_key);  // the server closed them all, most likely
        return self->resolve();
      }
      return self->fail(Kind::Protocol, "sending the call to " + self->destination_->host_header +
                                            " failed: " + error.message());
    }
    self->read();
  });
}

void PlainHttpTransport::Pool::Call::read() {
  parser_.emplace(pool_->options_.max_response_bytes, request_.method == "HEAD");
  http::async_read(connection_->socket, connection_->buffer, *parser_,
                   [self = shared_from_this()](error_code error, std::size_t) { self->on_read(error); });
}

void PlainHttpTransport::Pool::Call::on_read(error_code error) {
  if (stopped_) return finish(*stopped_);
  if (error) {
    if (stale_connection()) {
      pool_->drop_idle(
          destination_
              ->pool_key);  // the server closed them all, most likely: it restarted, or an idle timeout
      return resolve();
    }
    if (error == http::error::body_limit) {
      return fail(Kind::TooLarge,
                  "response body exceeds " + std::to_string(pool_->options_.max_response_bytes) + " bytes");
    }
    return fail(Kind::Protocol,
                "reading the answer from " + destination_->host_header + " failed: " + error.message());
  }
  // Interim (1xx) answers come before the real one and are dropped. (101 Switching Protocols never
  // comes: we never ask for an upgrade.)
  if (parser_->response().status / 100 == 1) return read();
  // Bytes after the answer would be read as the next call's answer.
  const bool reusable = parser_->keep_alive() && connection_->buffer.size() == 0;
  OutboundResponse response = std::move(parser_->response());
  if (reusable) pool_->keep_idle(destination_->pool_key, std::move(connection_));
  finish(std::move(response));
}

bool PlainHttpTransport::Pool::Call::stale_connection() const {
  return connection_->reused && !(parser_ && parser_->got_some()) && !stopped_;
}

void PlainHttpTransport::Pool::Call::finish(OutboundResult result) {
  finished_ = true;
  pool_->calls_.erase(this);
  deadline_.cancel();
  Completion completion = std::move(completion_);
  completion.get_cancellation_slot().clear();
  // Called from a completion handler of this io_context, so the caller resumes right here rather
  // than after another trip through the scheduler.
  std::move(completion)(std::move(result));
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
  for (Call* call : calls_) call->stop(Kind::Cancelled, "HTTP client destroyed");
}

bool PlainHttpTransport::carries(const std::string& url) const { return pool_->destination(url) != nullptr; }

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
