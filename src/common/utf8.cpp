#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace eg::common {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The longest prefix of a sequence that starts with a byte above 0x7F and is well-formed or could
// still become so: a whole character when `complete`, else the maximal subpart to replace.
struct Sequence {
  std::size_t length = 1;
  bool complete = false;
};

// Unicode Table 3-7. Each lead byte allows a range of second bytes (that is what excludes overlong
// forms, surrogates and code points above U+10FFFF); every later byte is 80..BF.
Sequence sequence_at(const unsigned char* position, const unsigned char* end) {
  const unsigned char lead = *position;
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return {};  // 80..C1 and F5..FF never start a character
  }
  std::size_t taken = 1;
  while (taken < length && position + taken < end) {
    const unsigned char next = position[taken];
    if (next < low || next > high) break;
    ++taken;
    low = 0x80;
    high = 0xBF;
  }
  return {taken, taken == length};
}

constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

std::uint64_t word_at(const unsigned char* position) {
  std::uint64_t word;
  std::memcpy(&word, position, sizeof word);
  return word;
}

// Whether the 32 bytes at `position` are ASCII: four words tested at once, since text is mostly
// ASCII and this loop runs over every event the gateway sends.
bool ascii_block_at(const unsigned char* position) {
  return ((word_at(position) | word_at(position + 8) | word_at(position + 16) | word_at(position + 24)) &
          kHighBits) == 0;
}

// The offset of the first ill-formed sequence in `text`, or its size when there is none.
std::size_t first_invalid(std::string_view text) {
  const auto* begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = begin + text.size();
  const auto* position = begin;
  while (position < end) {
    while (end - position >= 32 && ascii_block_at(position)) position += 32;
    while (end - position >= 8 && (word_at(position) & kHighBits) == 0) position += 8;
    if (position == end) break;
    if (*position < 0x80) {
      ++position;
      continue;
    }
    const auto sequence = sequence_at(position, end);
    if (!sequence.complete) return static_cast<std::size_t>(position - begin);
    position += sequence.length;
  }
  return text.size();
}

// Appends `text` to `valid`, each ill-formed sequence replaced.
void append_replacing(std::string& valid, std::string_view text) {
  while (!text.empty()) {
    const auto good = first_invalid(text);
    valid.append(text.substr(0, good));
    text.remove_prefix(good);
    if (text.empty()) return;
    const auto* position = reinterpret_cast<const unsigned char*>(text.data());
    valid.append(kReplacementCharacter);
    text.remove_prefix(sequence_at(position, position + text.size()).length);
  }
}

}  // namespace

bool is_valid_utf8(std::string_view text) { return first_invalid(text) == text.size(); }

std::string replace_invalid_utf8(std::string_view text) {
  std::string valid;
  valid.reserve(text.size() + kReplacementCharacter.size());
  append_replacing(valid, text);
  return valid;
}

void make_valid_utf8(std::string& text) {
  const auto invalid = first_invalid(text);
  if (invalid == text.size()) return;
  std::string valid;
  valid.reserve(text.size() + kReplacementCharacter.size());
  valid.append(text, 0, invalid);
  append_replacing(valid, std::string_view(text).substr(invalid));
  text = std::move(valid);
}

}  // namespace eg::common
