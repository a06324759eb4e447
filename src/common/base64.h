#pragma once
// Standard base64 (RFC 4648 §4, with padding), what events carry binary payloads in and what the
// Kinesis and Firehose APIs take a record's data in.

#include <string>
#include <string_view>

namespace eg::common {

std::string base64_encode(std::string_view bytes);

}  // namespace eg::common
