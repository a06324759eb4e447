#include "net/trace_context.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <random>

namespace eg::net {
namespace {

constexpr std::size_t kVersion00Size = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2

constexpr bool is_trace_hex_digit(char c) {
  return static_cast<unsigned char>(c - '0') < 10 || static_cast<unsigned char>(c - 'a') < 6;
}

// 1 for the lowercase hex digits, 0 for every other byte: a field is checked with one load and an
// AND a character, without a branch until its end (the check runs on every delivery).
constexpr std::array<std::uint8_t, 256> kTraceHexDigits = [] {
  std::array<std::uint8_t, 256> digits{};
  for (int c = 0; c < 256; ++c) digits[c] = is_trace_hex_digit(static_cast<char>(c)) ? 1 : 0;
  return digits;
}();

// Whether `field` is lowercase hex and, when `nonzero`, not all zeros.
bool is_trace_hex(std::string_view field, bool nonzero = false) {
  std::uint8_t all_hex = 1;
  std::uint8_t any_but_zero = 0;
  for (const char c : field) {
    all_hex &= kTraceHexDigits[static_cast<unsigned char>(c)];
    any_but_zero |= static_cast<std::uint8_t>(c ^ '0');
  }
  return all_hex != 0 && (!nonzero || any_but_zero != 0);
}

// SplitMix64 (Steele, Lea and Flood), seeded once per thread from the OS: ids that are random
// enough to tell traces apart, for a few instructions a word (a Mersenne Twister's ran to hundreds
// per request). Trace ids are not secrets: W3C asks only that they be unlikely to repeat.
std::uint64_t next_random_word() {
  thread_local std::uint64_t state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Two lowercase hex digits for each byte value: a word's 16 digits in 8 steps.
constexpr std::array<char, 512> kHexPairs = [] {
  constexpr std::string_view kDigits = "0123456789abcdef";
  std::array<char, 512> pairs{};
  for (std::size_t byte = 0; byte < 256; ++byte) {
    pairs[2 * byte] = kDigits[byte >> 4];
    pairs[2 * byte + 1] = kDigits[byte & 0xf];
  }
  return pairs;
}();

// Writes 16 random hex digits per word at `out`; no word is all zeros.
void write_random_hex(char* out, std::size_t words) {
  for (std::size_t word = 0; word < words; ++word) {
    std::uint64_t bits = 0;
    while (bits == 0) bits = next_random_word();
    for (int byte = 0; byte < 8; ++byte, bits >>= 8, out += 2) std::memcpy(out, &kHexPairs[2 * (bits & 0xff)], 2);
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
  if (!is_trace_hex(version) || !is_trace_hex(trace_id, true) || !is_trace_hex(parent_id, true) ||
      !is_trace_hex(flags))
    return false;
  if (version == "ff") return false;
  if (version == "00") return value.size() == kVersion00Size;
  // A later version may add fields after a dash; a receiver of version 00 reads the first ones. They
  // too are lowercase hex and dashes, so that the value goes into headers and JSON as it is.
  if (value.size() == kVersion00Size) return true;
  return value[kVersion00Size] == '-' && std::all_of(value.begin() + kVersion00Size, value.end(), [](char c) {
           return c == '-' || is_trace_hex_digit(c);
         });
}

TraceContext trace_context_of(std::string_view traceparent, std::string_view tracestate) {
  if (is_valid_traceparent(traceparent)) return {std::string(traceparent), std::string(tracestate)};
  // Sampled (01): the gateway records no spans, but a function that does should keep its part.
  std::string started(kVersion00Size, '-');  // the dashes stay at 2, 35 and 52
  started[0] = started[1] = '0';              // version 00
  write_random_hex(&started[3], 2);           // the trace id
  write_random_hex(&started[36], 1);          // the parent id: the gateway's
  started[53] = '0';
  started[54] = '1';
  return {std::move(started), {}};
}

}  // namespace eg::net
