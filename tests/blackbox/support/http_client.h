// Black-box test harness: a synchronous HTTP client (libcurl easy) and a raw TCP helper.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace blackbox {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  long status = 0;                             // 0 if the transfer failed (see `error`)
  std::string error;                           // curl's error text when status == 0
  std::map<std::string, std::string> headers;  // lower-case names; repeated headers joined by ", "
  std::string body;

  // The header's value, or "" if absent (name is case-insensitive).
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // Parses the body as JSON; on a parse error records a test failure and returns null.
  boost::json::value json() const;
  // Parses the body as JSON; nullopt if it is not JSON.
  std::optional<boost::json::value> try_json() const;
  // "<status> <body>" (body truncated), for assertion messages.
  std::string describe() const;
};

struct RequestOptions {
  std::chrono::milliseconds timeout = std::chrono::seconds(20);
  // If the body is non-empty and no Content-Type is given, send `application/json`.
  bool default_json_content_type = true;
  // For https:// URLs: the CA file (PEM) that the server's certificate chain is verified against,
  // instead of the system's.
  std::string ca_file;
};

// Sends one request on a fresh connection. `method` is sent verbatim (GET, POST, PUT, PATCH, DELETE, ...).
// The URL is used as given (no re-encoding), so percent-escapes in it reach the server unchanged.
HttpResponse request(std::string_view method, const std::string& url, std::string_view body = {},
                     const Headers& headers = {}, const RequestOptions& options = {});

// encodeURIComponent: escapes everything but A-Z a-z 0-9 - _ . ! ~ * ' ( )
std::string encode_uri_component(std::string_view s);

struct RawResponse {
  std::string data;        // everything read
  bool closed = false;     // the peer closed (EOF or reset)
  bool timed_out = false;  // neither closed nor finished within the timeout
  std::string error;       // connect/send error text, if any
};

// Connects to 127.0.0.1:port, writes `bytes`, reads until the peer closes or `timeout` passes.
RawResponse send_raw(int port, std::string_view bytes,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace blackbox
