#include "auth/api_keys.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "common/digest.h"
#include "common/text.h"
#include "model/identifiers.h"

namespace eg::auth {
namespace {

constexpr std::size_t kDigestHexLength = 64;
// Around a line of a key file or a bearer token: a Windows line end's \r too.
constexpr std::string_view kLineBlanks = " \t\r";

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// RFC 6750 §2.1: the characters of a bearer token (token68).
bool is_token_character(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~+/=").find(c) != std::string_view::npos;
}

std::string_view without_comment(std::string_view line) { return line.substr(0, line.find('#')); }

std::string digest_of_hex(std::string_view hex) {
  std::string digest;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    digest += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  }
  return digest;
}

// The spaces of a line ("a,b,c" or "*"), or why not.
std::optional<KeyGrant> parse_spaces(std::string_view list, std::string& error) {
  KeyGrant grant;
  if (list == "*") {
    grant.every_space = true;
    return grant;
  }
  for (const auto space : common::split_list(list)) {  // blanks were refused before
    if (!model::is_valid_name(space)) {
      error = space.empty()
                  ? "an empty space name in \"" + std::string(list) + "\""
                  : "\"" + std::string(space) + "\" is not a space name (1-128 characters of A-Za-z0-9._-)";
      return std::nullopt;
    }
    grant.spaces.emplace_back(space);
  }
  return grant;
}

// One line without its comment, or why it is refused.
std::optional<KeyGrant> parse_line(std::string_view line, std::string& error) {
  const auto separator = line.find(' ');
  const auto digest = line.substr(0, separator);
  if (digest.size() != kDigestHexLength || !is_lower_hex(digest)) {
    error =
        "expected the key's SHA-256 in lower-case hex (64 characters of 0-9a-f), a space and the spaces it "
        "may "
        "act on (`event-gateway -hash-key` prints such a line)";
    return std::nullopt;
  }
  if (separator == std::string_view::npos) {
    error = "the SHA-256 is not followed by a space and the spaces the key may act on (a,b or *)";
    return std::nullopt;
  }
  const auto spaces = line.substr(separator + 1);
  if (spaces.find_first_of(" \t") != std::string_view::npos) {
    error = "the spaces the key may act on are one comma-separated list without blanks: \"" +
            std::string(spaces) + "\"";
    return std::nullopt;
  }
  auto grant = parse_spaces(spaces, error);
  if (grant) grant->digest = digest_of_hex(digest);
  return grant;
}

}  // namespace

KeyFile parse_key_file(std::string_view text) {
  KeyFile file;
  std::size_t number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    const auto line = common::trim(without_comment(text.substr(start, end - start)), kLineBlanks);
    start = end + 1;
    ++number;
    if (line.empty()) continue;
    auto grant = parse_line(line, file.error);
    if (!grant) {
      file.error = "line " + std::to_string(number) + ": " + file.error;
      return file;
    }
    grant->line = number;
    for (const auto& earlier : file.grants) {
      if (earlier.digest == grant->digest) {
        file.error = "line " + std::to_string(number) + ": the same key as line " +
                     std::to_string(earlier.line) + " (give a key one line, with all its spaces)";
        return file;
      }
    }
    file.grants.push_back(std::move(*grant));
  }
  if (file.grants.empty()) file.error = "holds no key (a file with no key would let nobody in)";
  return file;
}

std::optional<ApiKeys> ApiKeys::load(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in) {
    error = path + ": cannot be read";
    return std::nullopt;
  }
  auto file = parse_key_file(text.str());
  if (!file.ok()) {
    error = path + ": " + file.error;
    return std::nullopt;
  }
  return ApiKeys(std::move(file.grants));
}

// Every stored digest is compared, whichever matches: the scan takes the same time for every key.
const KeyGrant* ApiKeys::find(std::string_view key) const {
  const auto digest = common::sha256(key);
  const KeyGrant* found = nullptr;
  for (const auto& grant : grants_) {
    if (common::equal_in_constant_time(digest, grant.digest)) found = &grant;
  }
  return found;
}

Access ApiKeys::check(std::string_view authorization, std::optional<std::string_view> space) const {
  const auto key = bearer_token(authorization);
  if (!key) return Access::NoKey;
  const auto* grant = find(*key);
  if (grant == nullptr) return Access::UnknownKey;
  if (!space || grant->every_space) return Access::Granted;
  if (*space == kEverySpace) return Access::OutsideSpaces;
  const bool allowed = std::find(grant->spaces.begin(), grant->spaces.end(), *space) != grant->spaces.end();
  return allowed ? Access::Granted : Access::OutsideSpaces;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return std::nullopt;
  }
  const auto rest = authorization.substr(kScheme.size());
  if (rest.front() != ' ' && rest.front() != '\t') return std::nullopt;
  const auto token = common::trim(rest, kLineBlanks);
  if (token.empty() || !std::all_of(token.begin(), token.end(), is_token_character)) return std::nullopt;
  return token;
}

std::optional<std::string> key_file_line(std::string_view key, std::string& error) {
  if (key.size() < kMinKeyLength) {
    error =
        "a key needs at least " + std::to_string(kMinKeyLength) + " characters (try `openssl rand -hex 32`)";
    return std::nullopt;
  }
  if (!std::all_of(key.begin(), key.end(), is_token_character)) {
    error = "a key may hold only A-Za-z0-9 and -._~+/= (what an Authorization: Bearer field carries)";
    return std::nullopt;
  }
  return common::sha256_hex(key) + " *";
}

}  // namespace eg::auth
