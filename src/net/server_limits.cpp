#include "net/server_limits.h"

namespace eg::net {

bool Taken::add(std::size_t more) {
  if (!limit_->try_take(more)) return false;
  amount_ += more;
  return true;
}

ServerLimits::ServerLimits(std::string api_name, std::size_t max_connections, std::size_t max_buffered_bytes)
    : api(std::move(api_name)),
      connections(max_connections),
      buffered_bytes(max_buffered_bytes),
      refused_connections(api + ": new connection answered 503 (over TLS: closed), -max-connections reached"),
      refused_for_buffered_bytes(
          api + ": answered 503, the bodies held in memory would exceed -max-buffered-bytes"),
      failed_accepts(api + ": accepting a connection failed"),
      failed_handshakes(api + ": TLS handshake failed, connection closed"),
      refused_header_fields(api + ": response replaced by a 500: it held a header field that breaks RFC 9110",
                            std::chrono::seconds(10), common::RateLimitedWarning::Level::Error) {}

}  // namespace eg::net
