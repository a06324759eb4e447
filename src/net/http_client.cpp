#include "net/http_client.h"

#include <cstdlib>
#include <utility>

namespace eg::net {
namespace {

// The variables libcurl reads for an http:// URL. (It ignores HTTP_PROXY in capitals, which a CGI
// program could not tell from a request's "Proxy:" header.)
bool proxy_configured_for_plain_http() {
  for (const char* name : {"http_proxy", "ALL_PROXY", "all_proxy"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return true;
  }
  return false;
}

}  // namespace

HttpClient::HttpClient(boost::asio::io_context& io, HttpClientOptions options)
    : proxy_configured_(proxy_configured_for_plain_http()), plain_(io, options), curl_(io, options) {}

boost::asio::awaitable<OutboundResult> HttpClient::send(OutboundRequest request) {
  if (!proxy_configured_ && plain_.carries(request.url)) return plain_.send(std::move(request));
  return curl_.send(std::move(request));
}

std::size_t HttpClient::in_flight() const { return plain_.in_flight() + curl_.in_flight(); }

}  // namespace eg::net
