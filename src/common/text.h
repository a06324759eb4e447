#pragma once
// The small text operations that parsing flags, files and header fields shares.

#include <string>
#include <string_view>
#include <vector>

namespace eg::common {

// `text` without the characters of `blanks` around it.
std::string_view trim(std::string_view text, std::string_view blanks = " \t");

// The fields of `text` between each `separator`, as they are ("a||b" has an empty one; "" has one).
std::vector<std::string_view> split(std::string_view text, char separator);

// The items of a comma-separated list, each trimmed of spaces and tabs; empty items are kept ("a,,b"
// and "a," have an empty one), for the caller to refuse or skip.
std::vector<std::string_view> split_list(std::string_view list);

// `text` with A-Z in lower case.
std::string ascii_lower(std::string_view text);

}  // namespace eg::common
