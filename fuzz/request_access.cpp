// Who may use an API (src/auth/api_keys.h, src/config/cross_site.h), from what a client sends. The
// input's lines are the Authorization, Origin, Host and Content-Type fields (as the server hands them
// over: valid field values), a method (GET, POST, PUT, DELETE or OPTIONS, by the first byte), then the
// body. Invariants:
//   - a key is granted exactly when the field is `Bearer <key>` (any case, blanks after the scheme)
//     and the key is one of the file's; its spaces decide between Granted and OutsideSpaces;
//   - NoKey exactly when the field holds no bearer token at all;
//   - a cross-site refusal is a 403 or 415 with a JSON error, never for a read; a write with a body
//     whose Content-Type is not JSON is always refused; one from an allowed origin never with 403;
//   - normalize_origin is idempotent and gives lower case.

#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "auth/api_keys.h"
#include "common/digest.h"
#include "config/cross_site.h"
#include "fuzz_check.h"
#include "net/header_rules.h"

namespace {

using eg::fuzz::check;
namespace http = eg::net::http;

const std::string kKey = "fuzz-key-0123456789";

const eg::auth::ApiKeys& keys() {
  static const eg::auth::ApiKeys keys = [] {
    auto file = eg::auth::parse_key_file(eg::common::sha256_hex(kKey) + " team-a,team-b\n");
    return eg::auth::ApiKeys(std::move(file.grants));
  }();
  return keys;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The plain reading of `Bearer <token>`: the scheme in any case, at least one blank, the token
// between blanks, made of token68 characters.
std::optional<std::string> plain_bearer(std::string field) {
  if (field.size() < 7) return std::nullopt;
  for (std::size_t i = 0; i < 6; ++i)
    field[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(field[i])));
  if (field.compare(0, 6, "bearer") != 0 || !is_blank(field[6])) return std::nullopt;
  auto token = field.substr(7);
  while (!token.empty() && (is_blank(token.front()) || token.front() == '\r')) token.erase(0, 1);
  while (!token.empty() && (is_blank(token.back()) || token.back() == '\r')) token.pop_back();
  if (token.empty()) return std::nullopt;
  for (const char c : token) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 &&
        std::string_view("-._~+/=").find(c) == std::string_view::npos) {
      return std::nullopt;
    }
  }
  return token;
}

void check_keys(const std::string& authorization, const std::string& space) {
  using eg::auth::Access;
  const auto access = keys().check(authorization, space);
  const auto token = plain_bearer(authorization);
  check((access == Access::NoKey) == !token, "NoKey exactly when the field holds no bearer token",
        authorization);
  const bool known = token && *token == kKey;
  check((access == Access::Granted || access == Access::OutsideSpaces) == known,
        "a key is recognized exactly when it is the file's", authorization);
  if (known) {
    const bool allowed = space == "team-a" || space == "team-b";
    check((access == Access::Granted) == allowed, "the key's spaces decide", space);
  }
}

http::verb method_of(char selector) {
  switch (static_cast<unsigned char>(selector) % 5) {
    case 0:
      return http::verb::get;
    case 1:
      return http::verb::post;
    case 2:
      return http::verb::put;
    case 3:
      return http::verb::delete_;
    default:
      return http::verb::options;
  }
}

bool says_json(std::string type) {
  type = type.substr(0, type.find(';'));
  for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && is_blank(type.back())) type.pop_back();
  while (!type.empty() && is_blank(type.front())) type.erase(0, 1);
  return type == "application/json" || (type.ends_with("+json") && type.find('/') != std::string::npos &&
                                        type.find('/') != 0 && type.find('/') + 5 < type.size());
}

void check_cross_site(const std::vector<std::string>& lines, const std::string& body) {
  const eg::config::CrossSitePolicy policy({"https://console.example.com"});
  eg::net::Request request{method_of(lines[4].empty() ? 'a' : lines[4][0]), "/v1/spaces/a/functions", 11};
  if (!lines[1].empty()) request.set(http::field::origin, lines[1]);
  if (!lines[2].empty()) request.set(http::field::host, lines[2]);
  if (!lines[3].empty()) request.set(http::field::content_type, lines[3]);
  request.body() = body;
  const auto refusal = policy.refusal(request);
  const bool read = request.method() == http::verb::get || request.method() == http::verb::options;
  if (read) check(!refusal, "a read is never refused", lines[3]);
  if (refusal) {
    const auto status = refusal->result_int();
    check(status == 403 || status == 415, "a refusal is a 403 or 415", std::to_string(status));
    check(refusal->body().starts_with(R"({"errors":[{"message":")"), "a refusal is a JSON error",
          refusal->body());
    const bool allowed_origin = eg::config::normalize_origin(lines[1]) == "https://console.example.com";
    if (allowed_origin) check(status != 403, "an allowed origin is never refused with 403", lines[1]);
  }
  if (!read && !body.empty() && !says_json(lines[3]))
    check(refusal.has_value(), "a non-JSON body is refused", lines[3]);
  if (auto origin = eg::config::normalize_origin(lines[1])) {
    check(eg::config::normalize_origin(*origin) == origin, "normalizing is idempotent", *origin);
    for (const char c : *origin) check(c < 'A' || c > 'Z', "a normalized origin is lower case", *origin);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto views = eg::fuzz::lines_of(eg::fuzz::as_text(data, size));
  const std::vector<std::string> lines(views.begin(), views.end());
  if (lines.size() < 5) return 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (!eg::net::is_field_value(lines[i])) return 0;  // what the server would refuse before
  }
  std::string body;
  for (std::size_t i = 5; i < lines.size(); ++i) body += lines[i] + "\n";
  check_keys(lines[0], lines[2].empty() ? "team-a" : lines[2]);
  check_cross_site(lines, body);
  return 0;
}
