#pragma once
// What the HTTP servers of one API share, whichever event-loop thread they run on: how many
// connections it holds open, how many bytes of request and response bodies it holds in memory, and
// the rate-limited log lines that say what it refused. Each API (Events, Configuration) has one, so a
// flood of one API never takes the other's connections or bytes.
//
// Thread-safe: taking and giving back is one atomic operation, so the limits hold across threads
// without a lock.

#include <atomic>
#include <cstddef>
#include <string>

#include "common/rate_limited_log.h"
#include "common/shared_limit.h"

namespace eg::net {

using common::SharedLimit;

// An amount taken from a SharedLimit, given back when it is destroyed; it can grow (a chunked body
// as it arrives) but never past the limit.
class Taken {
 public:
  explicit Taken(SharedLimit& limit) : limit_(&limit) {}
  ~Taken() { limit_->give_back(amount_); }
  Taken(const Taken&) = delete;
  Taken& operator=(const Taken&) = delete;

  // Takes `more` as well; false, taking nothing, when it does not fit.
  bool add(std::size_t more);
  // Grows to `total`, if that is more than already taken; false, taking nothing, when it does not fit.
  bool grow_to(std::size_t total) { return total <= amount_ || add(total - amount_); }
  std::size_t amount() const { return amount_; }

 private:
  SharedLimit* limit_;
  std::size_t amount_ = 0;
};

struct ServerLimits {
  // `api` names the API in log lines ("Events API").
  ServerLimits(std::string api, std::size_t max_connections, std::size_t max_buffered_bytes);

  const std::string api;
  SharedLimit connections;
  SharedLimit buffered_bytes;  // request bodies as they are read, response bodies until written
  common::RateLimitedWarning refused_connections;
  common::RateLimitedWarning refused_for_buffered_bytes;
  common::RateLimitedWarning failed_accepts;
  common::RateLimitedWarning failed_handshakes;      // TLS: clients that speak plain HTTP, old protocols, ...
  common::RateLimitedWarning refused_header_fields;  // an error: handlers should never produce them
};

}  // namespace eg::net
