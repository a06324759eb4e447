#pragma once
// What the gateway's outbound HTTP calls to functions take and give back, whichever transport
// carries them (see http_client.h).

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace eg::net {

class NetworkList;

// Header fields in order, names as written; a name may repeat.
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

struct OutboundRequest {
  std::string method = "POST";
  std::string url;  // http:// or https:// only
  // Sent as given, plus Host (unless given here) and Content-Length (when there is a body, or the
  // method is POST, PUT or PATCH); no Accept, Content-Type or Expect of the client's own. An empty
  // value sends an empty field.
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
    Protocol,   // anything else that went wrong on the wire, or a URL the client refused
    TooLarge,   // the response body exceeded max_response_bytes
    Cancelled,  // see "Cancellation" in http_client.h
    Denied,     // every address of the host is on a denied network (HttpClientOptions::denied_networks)
  };
  Kind kind;
  std::string message;
};

using OutboundResult = std::variant<OutboundResponse, OutboundError>;

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds total_timeout{30000};
  std::size_t max_response_bytes = 6 * 1024 * 1024;
  // Idle keep-alive connections kept for reuse, per transport. curl's default limit shrinks with the
  // number of calls in flight, so the end of a burst would close connections the next burst could
  // reuse.
  long max_idle_connections = 256;
  // Addresses no call may connect to (-function-deny-networks), checked on every address a name
  // resolves to, just before connecting; none: every address. Through a proxy, the proxy's address.
  std::shared_ptr<const NetworkList> denied_networks;
};

}  // namespace eg::net
