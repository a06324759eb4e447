#pragma once
// The libcurl transport of HttpClient (see http_client.h): curl's multi interface driven by an Asio
// io_context. It carries every call the plain-HTTP transport does not: https://, and every call
// when a proxy is configured through curl's environment variables.
//
// Threading, cancellation and destruction are as http_client.h describes for HttpClient.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <memory>

#include "net/outbound.h"

namespace eg::net {

class CurlTransport {
 public:
  CurlTransport(boost::asio::io_context& io, HttpClientOptions options = {});
  ~CurlTransport();  // completes in-flight calls with Kind::Cancelled
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  boost::asio::awaitable<OutboundResult> send(OutboundRequest request);
  std::size_t in_flight() const;

 private:
  class Engine;
  boost::asio::io_context& io_;
  HttpClientOptions options_;
  std::shared_ptr<Engine> engine_;  // from the first call on; shared only so that pending Asio
                                    // handlers can tell it is gone
};

}  // namespace eg::net
