#pragma once
// The plain http:// transport of HttpClient (see http_client.h): Asio sockets in a pool of keep-alive
// connections per host and port, answers read with Beast's HTTP parser. A call on a pooled
// connection costs one send and one or two receives. libcurl adds a poll() per reuse to check the
// connection is alive, timer changes, and its own bookkeeping, which made it the largest cost of a
// proxied call.
//
// Liveness: a pooled connection the server has closed meanwhile shows when the call on it fails
// before any byte of an answer arrived. Such a call is repeated once on a new connection, as libcurl
// does; the server never read it. An idle connection the server closed stays open on our side
// (CLOSE_WAIT) until a call takes it; at most max_idle_connections are kept.
//
// Threading, cancellation and destruction are as http_client.h describes for HttpClient.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>
#include <string>

#include "net/outbound.h"

namespace eg::net {

class PlainHttpTransport {
 public:
  // Whether this transport can carry a call to `url`: http:// without user info.
  bool carries(const std::string& url) const;

  PlainHttpTransport(boost::asio::io_context& io, HttpClientOptions options = {});
  ~PlainHttpTransport();  // completes in-flight calls with Kind::Cancelled
  PlainHttpTransport(const PlainHttpTransport&) = delete;
  PlainHttpTransport& operator=(const PlainHttpTransport&) = delete;

  // A URL this transport does not carry fails with Kind::Protocol.
  boost::asio::awaitable<OutboundResult> send(OutboundRequest request);
  std::size_t in_flight() const;

 private:
  class Pool;
  std::shared_ptr<Pool> pool_;  // shared with the calls in flight, which may outlive the transport
};

}  // namespace eg::net
