#pragma once
// The outbound HTTP client the gateway calls functions with: libcurl's multi interface driven by an
// Asio io_context, so thousands of calls can be in flight on one thread without a thread per call.
//
// Threading: one HttpClient per io_context (per thread). It is not thread-safe: construct it, call
// send(), cancel and destroy it only from the thread that runs its io_context. The HttpClient must be
// destroyed before its io_context.
//
// Connections: curl's multi handle owns the connection pool, so keep-alive connections to a function
// are reused across calls from the same HttpClient.
//
// Cancellation: a call ends with OutboundError::Kind::Cancelled when
//   - the awaiting coroutine is cancelled with cancellation_type::terminal (for instance through
//     co_spawn with bind_cancellation_slot); other cancellation types are ignored because an
//     abandoned call may already have reached the function, or
//   - the HttpClient is destroyed while the call is in flight.
// Like every completion, that result is posted to the io_context: the coroutine resumes when the
// io_context next runs. If the io_context never runs again, the waiting coroutine is destroyed (not
// resumed) together with the io_context.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace eg::net {

// Header fields in order, names as written; a name may repeat.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

struct OutboundRequest {
  std::string method = "POST";
  std::string url;  // http:// or https:// only
  // Sent as given. curl adds only Host and Content-Length; it sends no Accept, Content-Type or
  // Expect header of its own. An empty value sends an empty field.
  HeaderFields headers;
  std::string body;
};

struct OutboundResponse {
  long status = 0;
  HeaderFields headers;  // of the final response: interim (1xx) header blocks are dropped
  std::string body;
};

struct OutboundError {
  enum class Kind {
    Connect,    // the host name did not resolve or the connection was refused
    Timeout,    // connect_timeout or total_timeout elapsed
    Protocol,   // anything else that went wrong on the wire, or a URL curl refused
    TooLarge,   // the response body exceeded max_response_bytes
    Cancelled,  // see "Cancellation" above
  };
  Kind kind;
  std::string message;  // curl's own description where there is one
};

using OutboundResult = std::variant<OutboundResponse, OutboundError>;

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{30000};
  std::size_t max_response_bytes = 6 * 1024 * 1024;
  long max_host_connections = 0;  // 0 = unlimited; further calls to that host wait for a free one
  // Idle keep-alive connections kept for reuse. curl's default limit shrinks with the number of calls
  // in flight, so the end of a burst would close connections the next burst could reuse.
  long max_idle_connections = 256;
};

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  ~HttpClient();  // completes in-flight calls with Kind::Cancelled (see "Cancellation" above)
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never throws for a failed call: failures are returned as OutboundError. The result is delivered
  // through the io_context, never from inside send() itself.
  boost::asio::awaitable<OutboundResult> send(OutboundRequest request);

  // Calls started and not yet completed.
  std::size_t in_flight() const;

 private:
  class Engine;
  std::shared_ptr<Engine> engine_;  // shared only so that pending Asio handlers can tell it is gone
};

}  // namespace eg::net
