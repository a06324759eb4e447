// SigV4 canonicalization and signing (src/providers/aws/sigv4.h). The input is a request:
//   line 1: the method; line 2: the path as sent;
//   then, up to an empty line, "?name=value" query parameters and "name:value" headers (kept when
//   they could be sent: a token for a name, a value without CR, LF or NUL);
//   after the empty line: the body.
// Invariants:
//   - uri_encode leaves only unreserved characters (and '/' when asked) and upper-case escapes, and
//     percent-decoding gives the input back;
//   - the canonical URI is absolute, holds no empty, "." or ".." segment, and decodes to the path
//     normalized; the canonical query holds every parameter once, encoded, in sorted order;
//   - the canonical request is made of those parts, the headers, the signed header list and the
//     body's hash; the signed headers are lower case, sorted, unique and include host and
//     x-amz-date; the Authorization header has AWS's form; signing is deterministic.

#include "providers/aws/sigv4.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "common/digest.h"
#include "fuzz_check.h"
#include "model/identifiers.h"
#include "net/header_rules.h"

namespace {

using eg::fuzz::check;
namespace aws = eg::providers::aws;

constexpr std::size_t kMaxLines = 32;

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

bool is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    const auto end = text.find(separator);
    parts.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return parts;
    text.remove_prefix(end + 1);
  }
}

void check_encoding(std::string_view text, bool keep_slash) {
  const auto encoded = aws::uri_encode(text, keep_slash);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const char c = encoded[i];
    if (c == '%') {
      check(i + 2 < encoded.size() && is_upper_hex(encoded[i + 1]) && is_upper_hex(encoded[i + 2]),
            "uri_encode writes upper-case escapes", encoded);
      i += 2;
    } else {
      check(is_unreserved(c) || (keep_slash && c == '/'), "uri_encode leaves only unreserved characters",
            encoded);
    }
  }
  check(eg::model::percent_decode(encoded) == std::string(text), "uri_encode is undone by decoding", encoded);
}

void check_canonical_uri(std::string_view path) {
  const auto canonical = aws::canonical_uri(path);
  check(canonical.starts_with('/'), "the canonical URI is absolute", canonical);
  const auto decoded = eg::model::percent_decode(canonical);
  check(decoded.has_value(), "the canonical URI decodes", canonical);
  const auto segments = split(std::string_view(*decoded).substr(1), '/');
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const bool trailing_slash = i + 1 == segments.size() && segments[i].empty();
    check(trailing_slash || (!segments[i].empty() && segments[i] != "." && segments[i] != ".."),
          "the canonical URI is normalized", canonical);
  }
}

void check_canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  const auto canonical = aws::canonical_query(query);
  if (query.empty()) {
    check(canonical.empty(), "no parameters make an empty canonical query", canonical);
    return;
  }
  // AWS sorts by encoded name, then by encoded value: not by the "name=value" text.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto part : split(canonical, '&')) {
    const auto equals = part.find('=');
    check(equals != std::string_view::npos, "each canonical parameter has a value", canonical);
    pairs.emplace_back(part.substr(0, equals), part.substr(equals + 1));
  }
  check(std::is_sorted(pairs.begin(), pairs.end()), "the canonical query is sorted", canonical);
  std::vector<std::pair<std::string, std::string>> expected;
  for (const auto& [name, value] : query)
    expected.emplace_back(aws::uri_encode(name), aws::uri_encode(value));
  std::sort(expected.begin(), expected.end());
  check(pairs == expected, "the canonical query holds every parameter, encoded", canonical);
}

void check_signed_headers(std::string_view signed_headers) {
  const auto names = split(signed_headers, ';');
  for (std::size_t i = 0; i < names.size(); ++i) {
    check(std::none_of(names[i].begin(), names[i].end(), [](char c) { return c >= 'A' && c <= 'Z'; }),
          "signed header names are lower case", std::string(signed_headers));
    check(i == 0 || names[i - 1] < names[i], "signed header names are sorted and unique",
          std::string(signed_headers));
  }
  for (const auto required : {"host", "x-amz-date"}) {
    check(std::find(names.begin(), names.end(), required) != names.end(), "host and x-amz-date are signed",
          std::string(signed_headers));
  }
}

void check_signature(const aws::SignableRequest& request) {
  const aws::Credentials credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token"};
  const auto now = std::chrono::sys_days(std::chrono::year(2015) / 8 / 30) + std::chrono::hours(12) +
                   std::chrono::minutes(36);
  auto signed_once = request;
  auto signed_twice = request;
  const auto signature = aws::sign(signed_once, credentials, "us-east-1", "lambda", now);
  check(aws::sign(signed_twice, credentials, "us-east-1", "lambda", now).authorization ==
            signature.authorization,
        "signing is deterministic");

  const auto prefix = request.method + "\n" + aws::canonical_uri(request.path) + "\n" +
                      aws::canonical_query(request.query) + "\n";
  const auto& canonical = signature.canonical_request;
  check(canonical.starts_with(prefix), "the canonical request starts with method, URI and query", canonical);
  check(canonical.ends_with("\n" + eg::common::sha256_hex(request.body)),
        "the canonical request ends with the body's hash", canonical);

  const std::string credential =
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/lambda/aws4_request, ";
  const auto& authorization = signature.authorization;
  check(authorization.starts_with(credential + "SignedHeaders="), "the Authorization header has AWS's form",
        authorization);
  const auto signature_at = authorization.rfind(", Signature=");
  check(signature_at != std::string::npos, "the Authorization header ends with the signature", authorization);
  const auto hex = std::string_view(authorization).substr(signature_at + 12);
  check(hex.size() == 64 &&
            std::all_of(hex.begin(), hex.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }),
        "the signature is 64 lower-case hex digits", authorization);
  const auto start = credential.size() + std::string_view("SignedHeaders=").size();
  check_signed_headers(std::string_view(authorization).substr(start, signature_at - start));
  check(signed_once.headers.size() == request.headers.size() + 3,
        "signing adds date, token and Authorization");
}

// The request the input describes; a Host header is added when it has none (sign() requires one).
aws::SignableRequest request_of(std::string_view text) {
  aws::SignableRequest request;
  const auto lines = eg::fuzz::lines_of(text);
  if (!lines.empty()) request.method = lines[0];
  if (lines.size() > 1) request.path = lines[1];
  std::size_t i = 2;
  for (; i < std::min(lines.size(), kMaxLines) && !lines[i].empty(); ++i) {
    const auto line = lines[i];
    if (line.front() == '?') {
      const auto equals = line.find('=');
      request.query.emplace_back(
          line.substr(1, equals == std::string_view::npos ? line.size() : equals - 1),
          equals == std::string_view::npos ? std::string_view() : line.substr(equals + 1));
    } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
      // Only what can be a header on the wire: the gateway sends no other.
      const auto name = line.substr(0, colon);
      const auto value = line.substr(colon + 1);
      if (eg::net::is_field_name(name) && eg::net::is_field_value(value))
        request.headers.emplace_back(name, value);
    }
  }
  const auto body_start = text.find("\n\n");
  if (body_start != std::string_view::npos) request.body = text.substr(body_start + 2);
  const bool has_host = std::any_of(request.headers.begin(), request.headers.end(), [](const auto& header) {
    return boost::beast::iequals(header.first, "host");
  });
  if (!has_host) request.headers.emplace_back("Host", "lambda.us-east-1.amazonaws.com");
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = eg::fuzz::as_text(data, size);
  check_encoding(text, false);
  check_encoding(text, true);
  const auto request = request_of(text);
  check_canonical_uri(request.path);
  check_canonical_query(request.query);
  check_signature(request);
  return 0;
}
