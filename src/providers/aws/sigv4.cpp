#include "providers/aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "common/digest.h"

namespace eg::providers::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

// A header value as AWS canonicalizes it: outer whitespace trimmed, inner runs of spaces collapsed.
std::string canonical_header_value(std::string_view value) {
  std::string result;
  bool in_space = false;
  for (const char c : value) {
    const bool space = c == ' ' || c == '\t';
    if (space && (result.empty() || in_space)) continue;
    in_space = space;
    result += space ? ' ' : c;
  }
  if (!result.empty() && result.back() == ' ') result.pop_back();
  return result;
}

struct CanonicalHeaders {
  std::string lines;           // "name:value\n" for each header, sorted by name
  std::string signed_headers;  // "host;x-amz-date"
};

// Headers sharing a name are one canonical header whose values are joined by commas, in order.
CanonicalHeaders canonical_headers(const net::HeaderFields& headers) {
  std::map<std::string, std::string> by_name;
  for (const auto& [name, value] : headers) {
    auto& joined = by_name[lower(name)];
    if (!joined.empty()) joined += ',';
    joined += canonical_header_value(value);
  }
  CanonicalHeaders canonical;
  for (const auto& [name, value] : by_name) {
    canonical.lines += name + ':' + value + '\n';
    if (!canonical.signed_headers.empty()) canonical.signed_headers += ';';
    canonical.signed_headers += name;
  }
  return canonical;
}

// The path with `.`, `..` and empty segments resolved, as AWS does for every service but S3.
std::string normalized_path(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const auto segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string result = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) result += '/';
    result += segments[i];
  }
  if (!segments.empty() && path.ends_with('/')) result += '/';
  return result;
}

std::string date_stamp(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  const auto date_key = hmac_sha256("AWS4" + std::string(secret), date);
  const auto region_key = hmac_sha256(date_key, region);
  const auto service_key = hmac_sha256(region_key, service);
  return hmac_sha256(service_key, "aws4_request");
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kDigits[byte >> 4];
      encoded += kDigits[byte & 0x0f];
    }
  }
  return encoded;
}

std::string canonical_query(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) encoded.emplace_back(uri_encode(name), uri_encode(value));
  std::sort(encoded.begin(), encoded.end());
  std::string text;
  for (const auto& [name, value] : encoded) {
    if (!text.empty()) text += '&';
    text += name + '=' + value;
  }
  return text;
}

std::string canonical_uri(std::string_view path) { return uri_encode(normalized_path(path), true); }

std::string amz_date(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[sizeof "20150830T123600Z"];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

Signature sign(SignableRequest& request, const Credentials& credentials, std::string_view region,
               std::string_view service, std::chrono::system_clock::time_point now) {
  const auto date = amz_date(now);
  request.headers.emplace_back("X-Amz-Date", date);
  // Signed, not appended afterwards: every current AWS service accepts a signed session token.
  if (!credentials.session_token.empty())
    request.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);

  const auto headers = canonical_headers(request.headers);
  Signature signature;
  signature.canonical_request = request.method + '\n' + canonical_uri(request.path) + '\n' +
                                canonical_query(request.query) + '\n' + headers.lines + '\n' +
                                headers.signed_headers + '\n' + common::sha256_hex(request.body);
  const auto scope =
      date_stamp(date) + '/' + std::string(region) + '/' + std::string(service) + "/aws4_request";
  signature.string_to_sign = std::string(kAlgorithm) + '\n' + date + '\n' + scope + '\n' +
                             common::sha256_hex(signature.canonical_request);
  const auto key = signing_key(credentials.secret_access_key, date_stamp(date), region, service);
  const auto digest = hmac_sha256(key, signature.string_to_sign);
  signature.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + '/' +
                            scope + ", SignedHeaders=" + headers.signed_headers +
                            ", Signature=" + common::lower_hex(digest);
  request.headers.emplace_back("Authorization", signature.authorization);
  return signature;
}

}  // namespace eg::providers::aws
