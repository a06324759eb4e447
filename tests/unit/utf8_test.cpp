#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eg::common {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

std::string replaced(std::string text) {
  make_valid_utf8(text);
  return text;
}

TEST(Utf8Test, WellFormedTextIsLeftAsItIs) {
  for (const std::string& text : std::vector<std::string>{
           "", "plain ascii", "caf\xC3\xA9", "\xE2\x82\xAC 10", "\xF0\x9F\x98\x80", "\xC2\x80", "\xDF\xBF",
           "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x90\x80\x80",
           "\xF4\x8F\xBF\xBF", std::string("nul\0in", 6)}) {
    SCOPED_TRACE(text);
    EXPECT_TRUE(is_valid_utf8(text));
    EXPECT_EQ(replaced(text), text);
    EXPECT_EQ(replace_invalid_utf8(text), text);
  }
}

TEST(Utf8Test, EachMaximalSubpartBecomesOneReplacementCharacter) {
  const std::string r = kReplacement;
  struct Case {
    std::string input;
    std::string expected;
  };
  for (const auto& [input, expected] : std::initializer_list<Case>{
           {"\xFF", r},
           {"\x80", r},  // a continuation byte alone
           {"\xC3", r},  // truncated at the end
           {"\xC3"
            "A",
            r + "A"},                            // an ASCII byte is never swallowed
           {"\xC0\xAF", r + r},                  // overlong '/': C0 never starts a character
           {"\xE0\x80\x80", r + r + r},          // overlong: E0 needs A0..BF next
           {"\xED\xA0\x80", r + r + r},          // a surrogate: ED needs 80..9F next
           {"\xF4\x90\x80\x80", r + r + r + r},  // above U+10FFFF
           {"\xF5\x80", r + r},                  // F5..FF never start a character
           {"\xF0\x9F\x98", r},                  // a truncated emoji is one subpart
           {"\xF0\x9F\x98"
            "x",
            r + "x"},
           {"\xE2\x82", r},
           {"a\xFF"
            "b\xFE"
            "c",
            "a" + r + "b" + r + "c"},
           // The example of Unicode §3.9 (Table 3-8): 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64.
           {"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
            "a" + r + r + r + "b" + r + "c" + r + r + "d"},
       }) {
    SCOPED_TRACE(input);
    EXPECT_FALSE(is_valid_utf8(input));
    EXPECT_EQ(replace_invalid_utf8(input), expected);
    EXPECT_EQ(replaced(input), expected);
    EXPECT_TRUE(is_valid_utf8(expected));
  }
}

// The eight-bytes-at-a-time path must not skip a bad byte at any offset, nor one after a character.
TEST(Utf8Test, AnInvalidByteIsFoundAtEveryOffset) {
  for (std::size_t offset = 0; offset < 40; ++offset) {
    std::string text(40, 'x');
    text[offset] = '\xFF';
    SCOPED_TRACE(offset);
    EXPECT_FALSE(is_valid_utf8(text));
    auto expected = std::string(40, 'x');
    expected.replace(offset, 1, kReplacement);
    EXPECT_EQ(replaced(text), expected);

    const auto after_character = "\xC3\xA9" + text;
    EXPECT_FALSE(is_valid_utf8(after_character));
  }
}

}  // namespace
}  // namespace eg::common
