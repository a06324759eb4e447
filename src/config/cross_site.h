#pragma once
// What keeps a web page from using the Configuration API through the browser of someone who can reach
// it (docs/security.md, "Cross-site requests"). A page may make a browser send a POST whose body is
// text/plain or a form to any address, with the browser's own credentials and network position, and
// without asking first (a "simple" request, the Fetch standard). So:
//   - a write with a body must say Content-Type: application/json (or */*+json): else 415. No page
//     can send JSON elsewhere without a CORS preflight, which the API answers only for allowed
//     origins;
//   - a write (any method but GET, HEAD and OPTIONS) that carries an Origin must come from an allowed
//     origin (-config-allowed-origins), or from the API itself where its host cannot be re-pointed by
//     DNS (an IP address or localhost): else 403. Browsers send Origin on every cross-origin write.
// Allowed origins also get CORS answers: preflights, and Access-Control-Allow-Origin on responses.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/json_response.h"

namespace eg::config {

class CrossSitePolicy {
 public:
  CrossSitePolicy() = default;  // no page of another origin may write
  // `allowed_origins`: normalized by normalize_origin.
  explicit CrossSitePolicy(std::vector<std::string> allowed_origins) : allowed_origins_(std::move(allowed_origins)) {}

  // 415 or 403 for a request a page could have made a browser send; nothing for any other.
  std::optional<net::Response> refusal(const net::Request& request) const;
  // The answer to a CORS preflight (OPTIONS with Access-Control-Request-Method) from an allowed
  // origin; nothing for any other request.
  std::optional<net::Response> preflight(const net::Request& request) const;
  // Lets an allowed origin read `response` to `request` (Access-Control-Allow-Origin, Vary).
  void allow_reading(const net::Request& request, net::Response& response) const;

 private:
  bool is_allowed(std::string_view origin) const;

  std::vector<std::string> allowed_origins_;
};

// `origin` ("https://console.example.com:8443") in the form browsers send it: scheme and host in lower
// case, no path; nothing when it is not such an origin.
std::optional<std::string> normalize_origin(std::string_view origin);

}  // namespace eg::config
