#pragma once
// API keys (docs/security.md): who may use the Configuration API (-config-api-keys) and emit events
// (-events-api-keys), and on which spaces.
//
// A key file holds digests, never keys. Each line is a key's SHA-256 in lower-case hex, one space,
// and the spaces the key may act on, comma-separated, or `*` for every space:
//
//   # the CI pipeline of team a
//   5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 team-a,team-a-staging
//   9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 *
//
// `#` starts a comment, blank lines are skipped; `event-gateway -hash-key` prints a key's line.
//
// A presented key is hashed, and its digest compared with every stored digest in constant time
// (common::equal_in_constant_time, no early exit), so the time an answer takes says nothing about the
// stored digests. Keys are checked on the thread that serves the request; the object is immutable, and
// a reload (SIGHUP) builds a new one.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::auth {

// The space of a request that reaches every space (no space name has a `*`).
inline constexpr std::string_view kEverySpace = "*";

// What a request's key may do.
enum class Access {
  Granted,
  NoKey,          // no `Authorization: Bearer <key>`: 401
  UnknownKey,     // a key no line of the file is the digest of: 401
  OutsideSpaces,  // a known key that may not act on the space: 403
};

// One line of a key file.
struct KeyGrant {
  std::string digest;               // the SHA-256 of the key: 32 bytes
  bool every_space = false;         // `*`
  std::vector<std::string> spaces;  // when not every space
  std::size_t line = 0;             // where it was read, for messages
};

// What reading a key file came to: the keys, or the first reason the file was refused, naming its
// line ("line 3: ...").
struct KeyFile {
  std::vector<KeyGrant> grants;
  std::string error;

  bool ok() const { return error.empty(); }
};

// The text of a key file, read.
KeyFile parse_key_file(std::string_view text);

class ApiKeys {
 public:
  explicit ApiKeys(std::vector<KeyGrant> grants) : grants_(std::move(grants)) {}

  // The keys in `path`, or why they could not be read ("<path>: line 3: ...").
  static std::optional<ApiKeys> load(const std::string& path, std::string& error);

  // What the request whose Authorization field is `authorization` (empty when it has none) may do in
  // `space`; with no space, whether it carries any known key; with kEverySpace, whether its key may
  // act on every space (a `*` line).
  Access check(std::string_view authorization, std::optional<std::string_view> space) const;

  std::size_t size() const { return grants_.size(); }

 private:
  const KeyGrant* find(std::string_view key) const;

  std::vector<KeyGrant> grants_;
};

// The key of an `Authorization: Bearer <key>` field (the scheme in any case: the Node SDK sends
// `bearer`), or nothing when the field holds no bearer token.
std::optional<std::string_view> bearer_token(std::string_view authorization);

// The key file line of `key` for every space, what `event-gateway -hash-key` prints; or nothing, with
// `error` saying why the key is unfit (shorter than kMinKeyLength, or not token characters, which an
// Authorization field could not carry).
inline constexpr std::size_t kMinKeyLength = 16;
std::optional<std::string> key_file_line(std::string_view key, std::string& error);

}  // namespace eg::auth
