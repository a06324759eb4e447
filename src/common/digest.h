#pragma once
// SHA-256 and the comparison of secrets, on OpenSSL: what AWS request signing and the API keys
// (auth/api_keys.h) share.

#include <string>
#include <string_view>

namespace eg::common {

// Lower-case hex of `bytes`.
std::string lower_hex(std::string_view bytes);

// The SHA-256 digest of `data`: 32 raw bytes.
std::string sha256(std::string_view data);
// Its lower-case hex: 64 characters.
std::string sha256_hex(std::string_view data);

// Whether `a` and `b` hold the same bytes, in a time that depends only on their sizes (CRYPTO_memcmp),
// never on where they first differ: for secrets and digests of secrets, so that a caller who times the
// answers learns nothing about a stored value. Different sizes are unequal at once (sizes are public).
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace eg::common
