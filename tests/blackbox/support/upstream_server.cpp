#include "support/upstream_server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <deque>
#include <set>
#include <sstream>

namespace blackbox {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string describe_requests(const std::vector<RecordedRequest>& requests) {
  std::ostringstream out;
  out << requests.size() << " request(s) arrived";
  std::size_t shown = 0;
  for (const auto& r : requests) {
    if (++shown > 20) {
      out << "\n  ...";
      break;
    }
    std::string body = r.body.size() > 300 ? r.body.substr(0, 300) + "..." : r.body;
    out << "\n  #" << r.sequence << " " << r.method << " " << r.target << " " << body;
  }
  return out.str();
}

}  // namespace

// ---- RecordedRequest
// ---------------------------------------------------------------------------------------------

std::string RecordedRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return {};
}

bool RecordedRequest::has_header(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return iequals(h.first, name); });
}

boost::json::value RecordedRequest::json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) {
    ADD_FAILURE() << "upstream request body is not JSON: " << body;
    return nullptr;
  }
  return v;
}

// ---- the server
// ----------------------------------------------------------------------------------------------------

struct UpstreamServer::Impl : std::enable_shared_from_this<UpstreamServer::Impl> {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};

  // Guarded by mutex (read by test threads, written by the server thread).
  mutable std::mutex mutex;
  std::condition_variable changed;
  std::vector<RecordedRequest> recorded;
  std::map<std::string, UpstreamResponse> responses;
  std::map<std::string, std::deque<UpstreamResponse>> responses_in_turn;  // the last one repeats
  UpstreamResponse default_response;
  std::size_t answered = 0;
  std::size_t next_sequence = 0;

  // Only touched on the server thread.
  bool stopping = false;
  std::set<beast::tcp_stream*> streams;
  std::set<asio::steady_timer*> timers;

  UpstreamResponse response_for(const std::string& path) {
    std::lock_guard lock(mutex);
    if (auto in_turn = responses_in_turn.find(path); in_turn != responses_in_turn.end()) {
      auto& queue = in_turn->second;
      auto next = queue.front();
      if (queue.size() > 1) queue.pop_front();
      return next;
    }
    auto it = responses.find(path);
    return it == responses.end() ? default_response : it->second;
  }

  void record(RecordedRequest request) {
    {
      std::lock_guard lock(mutex);
      request.sequence = next_sequence++;
      recorded.push_back(std::move(request));
    }
    changed.notify_all();
  }

  asio::awaitable<void> accept_loop() {
    auto self = shared_from_this();
    while (!stopping) {
      auto [error, socket] = co_await acceptor.async_accept(kUseTuple);
      if (error) {
        if (stopping || error == asio::error::operation_aborted) co_return;
        continue;
      }
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(io, serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket socket) {
    auto self = shared_from_this();
    beast::tcp_stream stream(std::move(socket));
    streams.insert(&stream);
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [read_error, read_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      if (read_error) break;
      auto request = parser.release();

      RecordedRequest recorded_request;
      recorded_request.method = std::string(request.method_string());
      recorded_request.target = std::string(request.target());
      recorded_request.path = recorded_request.target.substr(0, recorded_request.target.find('?'));
      for (const auto& field : request)
        recorded_request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      recorded_request.body = request.body();
      recorded_request.arrived = std::chrono::steady_clock::now();
      const auto answer = response_for(recorded_request.path);
      record(std::move(recorded_request));

      if (answer.hang) {
        // Never answer: wait until the client gives up (closes) or the server stops.
        char scratch[1024];
        for (;;) {
          auto [error, n] = co_await stream.socket().async_read_some(asio::buffer(scratch), kUseTuple);
          if (error) break;
        }
        break;
      }
      if (answer.delay.count() > 0) {
        asio::steady_timer timer(io, answer.delay);
        timers.insert(&timer);
        co_await timer.async_wait(kUseTuple);
        timers.erase(&timer);
        if (stopping) break;
      }

      http::response<http::string_body> response{static_cast<http::status>(answer.status), request.version()};
      for (const auto& [name, value] : answer.headers) response.insert(name, value);
      response.body() = answer.body;
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      stream.expires_after(std::chrono::seconds(10));
      auto [write_error, written] = co_await http::async_write(stream, response, kUseTuple);
      stream.expires_never();
      if (write_error) break;
      {
        std::lock_guard lock(mutex);
        ++answered;
      }
      changed.notify_all();
      if (!response.keep_alive()) break;
    }
    streams.erase(&stream);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.socket().close(ignored);
  }

  void close_everything() {
    stopping = true;
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto* stream : streams) stream->socket().close(ignored);
    for (auto* timer : timers) timer->cancel();
  }
};

UpstreamServer::UpstreamServer() : impl_(std::make_shared<Impl>()) {
  const tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  thread_ = std::thread([impl = impl_] { impl->io.run(); });
}

UpstreamServer::~UpstreamServer() { stop(); }

void UpstreamServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->io, [impl = impl_] { impl->close_everything(); });
  // Everything completes with an error once closed, so run() returns on its own; stop() is only a
  // safety net should some operation not.
  auto guard = std::thread([impl = impl_] {
    for (int i = 0; i < 500 && !impl->io.stopped(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    impl->io.stop();
  });
  thread_.join();
  guard.join();
}

std::string UpstreamServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

void UpstreamServer::respond(const std::string& path, UpstreamResponse response) {
  std::lock_guard lock(impl_->mutex);
  impl_->responses[path] = std::move(response);
}

void UpstreamServer::respond_in_turn(const std::string& path, std::vector<UpstreamResponse> responses) {
  std::lock_guard lock(impl_->mutex);
  impl_->responses_in_turn[path] = std::deque<UpstreamResponse>(responses.begin(), responses.end());
}

void UpstreamServer::set_default_response(UpstreamResponse response) {
  std::lock_guard lock(impl_->mutex);
  impl_->default_response = std::move(response);
}

std::vector<RecordedRequest> UpstreamServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded;
}

std::vector<RecordedRequest> UpstreamServer::requests(const std::string& path) const {
  std::lock_guard lock(impl_->mutex);
  std::vector<RecordedRequest> out;
  for (const auto& r : impl_->recorded)
    if (r.path == path) out.push_back(r);
  return out;
}

std::size_t UpstreamServer::count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->recorded.size();
}

std::size_t UpstreamServer::count(const std::string& path) const { return requests(path).size(); }

std::size_t UpstreamServer::answered() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->answered;
}

void UpstreamServer::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->recorded.clear();
}

::testing::AssertionResult UpstreamServer::wait_until(
    const std::function<bool(const std::vector<RecordedRequest>&)>& done, const std::string& what,
    std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mutex);
  if (impl_->changed.wait_for(lock, timeout, [&] { return done(impl_->recorded); }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "upstream on port " << port_ << ": timed out after " << timeout.count() << " ms waiting for "
         << what << "; " << describe_requests(impl_->recorded);
}

::testing::AssertionResult UpstreamServer::wait_for_requests(std::size_t n,
                                                             std::chrono::milliseconds timeout) {
  return wait_until([n](const auto& all) { return all.size() >= n; }, std::to_string(n) + " request(s)",
                    timeout);
}

::testing::AssertionResult UpstreamServer::wait_for_requests(const std::string& path, std::size_t n,
                                                             std::chrono::milliseconds timeout) {
  return wait_until(
      [&path, n](const auto& all) {
        return static_cast<std::size_t>(
                   std::count_if(all.begin(), all.end(), [&](const auto& r) { return r.path == path; })) >= n;
      },
      std::to_string(n) + " request(s) to " + path, timeout);
}

int closed_port() {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

}  // namespace blackbox
