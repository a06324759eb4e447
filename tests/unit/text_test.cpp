#include "common/text.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace eg::common {
namespace {

using Items = std::vector<std::string_view>;

TEST(Text, TrimTakesOnlyTheGivenBlanksAround) {
  EXPECT_EQ(trim("  a b \t"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(trim("a\r"), "a\r");
  EXPECT_EQ(trim(" a\r\n", " \r\n"), "a");
}

TEST(Text, SplitListTrimsItemsAndKeepsEmptyOnes) {
  EXPECT_EQ(split_list("a, b ,c"), (Items{"a", "b", "c"}));
  EXPECT_EQ(split_list("a,,b,"), (Items{"a", "", "b", ""}));
  EXPECT_EQ(split_list(""), (Items{""}));
}

TEST(Text, AsciiLowerChangesOnlyAToZ) {
  EXPECT_EQ(ascii_lower("HTTPS://Ex-1.COM\xC3\x89"), "https://ex-1.com\xC3\x89");
}

}  // namespace
}  // namespace eg::common
