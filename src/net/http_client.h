#pragma once
// The outbound HTTP client the gateway calls functions with. Thousands of calls can be in flight on
// one thread without a thread per call, and keep-alive connections to a function are reused across
// calls from the same HttpClient.
//
// Two transports carry the calls:
//   - plain http:// URLs (the common case: functions next to the gateway) go through a Boost.Beast
//     connection pool (plain_http_transport.h), which costs a few system calls per call;
//   - https:// URLs, URLs with user info, and every call while curl's proxy environment variables
//     (http_proxy, ALL_PROXY, all_proxy) are set go through libcurl (curl_transport.h), which brings
//     TLS and proxies.
// Both behave alike for everything below; tests/unit/http_client_test.cpp runs one suite on each.
//
// Threading: one HttpClient per io_context (per thread). It is not thread-safe: construct it, call
// send(), cancel and destroy it only from the thread that runs its io_context. The HttpClient must be
// destroyed before its io_context.
//
// Cancellation: a call ends with OutboundError::Kind::Cancelled when
//   - the awaiting coroutine is cancelled with cancellation_type::terminal (for instance through
//     co_spawn with bind_cancellation_slot); other cancellation types are ignored because an
//     abandoned call may already have reached the function, or
//   - the HttpClient is destroyed while the call is in flight.
// Like every completion, that result comes through the io_context: the coroutine resumes when the
// io_context next runs. If the io_context never runs again, the waiting coroutine is destroyed (not
// resumed) together with the io_context.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>

#include "net/curl_transport.h"
#include "net/outbound.h"
#include "net/plain_http_transport.h"

namespace eg::net {

class HttpClient {
 public:
  HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Never throws for a failed call: failures are returned as OutboundError. The result is delivered
  // through the io_context, never from inside send() itself.
  boost::asio::awaitable<OutboundResult> send(OutboundRequest request);

  // Calls started and not yet completed.
  std::size_t in_flight() const;

 private:
  bool proxy_configured_;
  PlainHttpTransport plain_;
  CurlTransport curl_;
};

}  // namespace eg::net
