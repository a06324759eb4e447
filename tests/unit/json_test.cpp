#include "common/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace eg::common {
namespace {

TEST(JsonTest, ParsesJsonWithFiniteNumbers) {
  const auto parsed = parse_json(R"({"a":[1,-2.5,1e308,18446744073709551615],"b":{"c":null}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.at("a").as_array().size(), 4u);
  EXPECT_EQ(boost::json::serialize(parsed.value),
            R"({"a":[1,-2.5E0,1E308,18446744073709551615],"b":{"c":null}})");
}

TEST(JsonTest, RefusesNumbersBeyondTheRangeOfADouble) {
  for (const std::string& text : std::vector<std::string>{"1e400", "-1e400", R"({"a":[{"b":1e309}]})",
                                                          "[0," + std::string(10000, '9') + "]"}) {
    SCOPED_TRACE(text.substr(0, 40));
    const auto parsed = parse_json(text);
    EXPECT_FALSE(parsed.ok());
    EXPECT_TRUE(parsed.value.is_null());
    EXPECT_NE(parsed.error.find("number out of range"), std::string::npos) << parsed.error;
  }
}

TEST(JsonTest, ReadsANumberTooSmallForADoubleAsZero) {
  const auto parsed = parse_json("1e-400");
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(parsed.value.as_double(), 0.0);
}

TEST(JsonTest, SaysWhyMalformedJsonIsRefused) {
  for (const std::string text : {"{", "Infinity", "NaN", "{\"a\":1,}", "\"\xFF\""}) {
    SCOPED_TRACE(text);
    const auto parsed = parse_json(text);
    EXPECT_FALSE(parsed.ok());
    EXPECT_TRUE(parsed.error.starts_with("malformed JSON (")) << parsed.error;
  }
}

TEST(JsonTest, BuildsTheValueInTheGivenStorage) {
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  const auto parsed = parse_json(R"({"a":"b"})", arena);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed.value.storage().get(), arena.get());
}

TEST(JsonTest, AppendsAStringExactlyAsBoostJsonSerializesIt) {
  const std::vector<std::string> strings{"",
                                         "default",
                                         "an-id.with_parts",
                                         "quote \" and backslash \\",
                                         std::string("nul ") + '\0' + " and controls \x01\x1f\n\t",
                                         "del \x7f and slash /",
                                         "utf-8 \xc3\xa9 and a stray byte \xff"};
  for (const auto& text : strings) {
    std::string out = "prefix:";
    append_json_string(out, text);
    EXPECT_EQ(out, "prefix:" + boost::json::serialize(boost::json::string_view(text.data(), text.size())));
  }
}

}  // namespace
}  // namespace eg::common
