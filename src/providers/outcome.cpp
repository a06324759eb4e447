#include "providers/outcome.h"

#include <boost/beast/core/string.hpp>

#include "net/http_date.h"

namespace eg::providers {

bool is_retryable(net::OutboundError::Kind kind) {
  using Kind = net::OutboundError::Kind;
  switch (kind) {
    case Kind::Connect:
    case Kind::Timeout:
    case Kind::Protocol:   // a reset, a connection closed before the answer, an answer cut short
    case Kind::Cancelled:  // abandoned: the function may never have seen it
      return true;
    case Kind::TooLarge:
    case Kind::Denied:  // the egress policy will not change between attempts
      return false;
  }
  return false;
}

bool is_retryable_status(long status) {
  return status == 408 || status == 429 || (status >= 500 && status <= 599);
}

std::optional<std::chrono::seconds> retry_after_of(const net::OutboundResponse& response,
                                                   std::chrono::system_clock::time_point now) {
  if (response.status != 429 && response.status != 503) return std::nullopt;
  for (const auto& [name, value] : response.headers) {
    if (boost::beast::iequals(name, "Retry-After")) return net::parse_retry_after(value, now);
  }
  return std::nullopt;
}

}  // namespace eg::providers
