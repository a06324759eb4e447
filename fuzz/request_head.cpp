// The head and body of a request to either API, as the server reads them: Boost.Beast's parser with
// the server's limits, then net::refusal_of (src/net/request_checks.h). Invariants, whatever the
// bytes:
//   - a refused head is answered 400 or 501 with a JSON error;
//   - a head that may be served frames its body one way only: at most one Content-Length field, no
//     Transfer-Encoding but a lone "chunked" (empty list elements aside, which RFC 9110 §5.6.1 says
//     to ignore), never both; an HTTP/1.1 head has exactly one Host;
//   - its body, when complete, is what that framing says: Content-Length bytes, or chunked exactly
//     when Transfer-Encoding says so.

#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "net/request_checks.h"

namespace {

using eg::fuzz::check;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::uint32_t kHeaderLimit = 16 * 1024;  // net::HttpServerOptions' defaults
constexpr std::uint64_t kBodyLimit = 1024 * 1024;

std::size_t fields_named(const eg::net::Request& head, http::field name) {
  const auto [first, last] = head.equal_range(name);
  return static_cast<std::size_t>(std::distance(first, last));
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The elements of a comma-separated field value, empty ones left out as RFC 9110 §5.6.1 says.
std::vector<std::string_view> list_elements(std::string_view value) {
  std::vector<std::string_view> elements;
  while (true) {
    const auto comma = value.find(',');
    if (const auto element = trimmed(value.substr(0, comma)); !element.empty()) elements.push_back(element);
    if (comma == std::string_view::npos) return elements;
    value.remove_prefix(comma + 1);
  }
}

void check_served_head(const eg::net::Request& head) {
  const auto lengths = fields_named(head, http::field::content_length);
  const auto codings = fields_named(head, http::field::transfer_encoding);
  check(lengths <= 1, "a served head has at most one Content-Length");
  check(codings <= 1, "a served head has at most one Transfer-Encoding");
  check(lengths == 0 || codings == 0, "a served head never has both Content-Length and Transfer-Encoding");
  if (codings == 1) {
    const auto elements = list_elements(head[http::field::transfer_encoding]);
    check(elements.size() == 1 && beast::iequals(elements.front(), "chunked"),
          "a served head's Transfer-Encoding is a lone chunked", head[http::field::transfer_encoding]);
  }
  if (head.version() == 11) check(fields_named(head, http::field::host) == 1, "an HTTP/1.1 head has one Host");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHeaderLimit);
  parser.body_limit(kBodyLimit);
  parser.eager(false);
  auto input = boost::asio::const_buffer(data, size);
  beast::error_code error;
  while (input.size() > 0 && !parser.is_header_done()) {
    const auto used = parser.put(input, error);
    if (error || used == 0) return 0;
    input += used;
  }
  if (!parser.is_header_done()) return 0;
  if (const auto refusal = eg::net::refusal_of(parser.get())) {
    const int status = refusal->result_int();
    check(status == 400 || status == 501, "a refused head is a 400 or a 501", std::to_string(status));
    check(refusal->body().starts_with(R"({"errors":[{"message":)"), "a refusal is a JSON error", refusal->body());
    return 0;
  }
  check_served_head(parser.get());
  const bool chunked = parser.get().count(http::field::transfer_encoding) == 1;
  check(parser.chunked() == chunked, "the body is chunked exactly when Transfer-Encoding says so");
  const auto declared = parser.content_length();
  parser.eager(true);
  while (input.size() > 0 && !parser.is_done()) {
    const auto used = parser.put(input, error);
    if (error || used == 0) return 0;
    input += used;
  }
  if (!parser.is_done()) return 0;
  if (declared) {
    check(parser.get().body().size() == *declared, "a body is as long as its Content-Length says",
          std::to_string(parser.get().body().size()) + " of " + std::to_string(*declared));
  }
  return 0;
}
