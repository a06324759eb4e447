#include "net/trace_context.h"

#include <algorithm>
#include <cstdint>
#include <random>

namespace eg::net {
namespace {

constexpr std::size_t kVersion00Size = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2

bool is_trace_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_trace_hex(std::string_view field) {
  return std::all_of(field.begin(), field.end(), is_trace_hex_digit);
}

bool is_all_zero_digits(std::string_view field) {
  return std::all_of(field.begin(), field.end(), [](char c) { return c == '0'; });
}

// Writes 16 random hex digits per word at `out`; no word is all zeros.
void write_random_hex(char* out, std::size_t words) {
  // One generator per thread, seeded once from the OS, as event ids are (events/event.cpp).
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t word = 0; word < words; ++word) {
    std::uint64_t bits = 0;
    while (bits == 0) bits = generator();
    for (int digit = 0; digit < 16; ++digit, bits >>= 4) *out++ = kDigits[bits & 0xf];
  }
}

}  // namespace

bool is_valid_traceparent(std::string_view value) {
  if (value.size() < kVersion00Size) return false;
  const auto version = value.substr(0, 2);
  const auto trace_id = value.substr(3, 32);
  const auto parent_id = value.substr(36, 16);
  const auto flags = value.substr(53, 2);
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') return false;
  if (!is_trace_hex(version) || !is_trace_hex(trace_id) || !is_trace_hex(parent_id) || !is_trace_hex(flags))
    return false;
  if (version == "ff" || is_all_zero_digits(trace_id) || is_all_zero_digits(parent_id)) return false;
  if (version == "00") return value.size() == kVersion00Size;
  // A later version may add fields after a dash; a receiver of version 00 reads the first ones.
  return value.size() == kVersion00Size || value[kVersion00Size] == '-';
}

TraceContext trace_context_of(std::string_view traceparent, std::string_view tracestate) {
  if (is_valid_traceparent(traceparent)) return {std::string(traceparent), std::string(tracestate)};
  // Sampled (01): the gateway records no spans, but a function that does should keep its part.
  std::string started = "00-00000000000000000000000000000000-0000000000000000-01";
  write_random_hex(&started[3], 2);   // the trace id
  write_random_hex(&started[36], 1);  // the parent id: the gateway's
  return {std::move(started), {}};
}

}  // namespace eg::net
