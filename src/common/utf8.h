#pragma once
// Text from outside the gateway (header values, percent-decoded paths and queries, function answers,
// error messages that quote them) may hold any bytes, but JSON text must be UTF-8 (RFC 8259 §8.1),
// and Boost.JSON's serializer copies the bytes of strings as they are. So every JSON text the
// gateway writes (events, JSON responses, JSON log lines) goes through make_valid_utf8, which
// replaces each ill-formed sequence with U+FFFD, one per maximal subpart (Unicode §3.9, U+FFFD
// Substitution of Maximal Subparts), as WHATWG's UTF-8 decoder and Python's errors="replace" do:
// "\xF0\x9F\x98" (a truncated emoji) becomes one U+FFFD, "\xC0\xAF" (an overlong '/') two.
//
// Only bytes inside JSON strings can be ill-formed (the JSON syntax itself is ASCII), and an ASCII
// byte never belongs to a maximal subpart, so replacing in the serialized text leaves the syntax as
// it is.
//
// Hand-written because no library the gateway links does this (docs/architecture.md, "UTF-8").
// It runs on every event: text is checked eight bytes at a time while they are ASCII, and copied
// only when something must be replaced.

#include <string>
#include <string_view>

namespace eg::common {

// Whether `text` is well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no surrogates, nothing
// above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// `text` with every ill-formed sequence replaced by U+FFFD, one per maximal subpart.
std::string replace_invalid_utf8(std::string_view text);

// The same in place; leaves `text` untouched (no copy) when it is well-formed.
void make_valid_utf8(std::string& text);

}  // namespace eg::common
