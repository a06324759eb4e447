#include "model/identifiers.h"

#include <gtest/gtest.h>

namespace eg::model {
namespace {

TEST(Names, AcceptLettersDigitsDotsDashesUnderscores) {
  EXPECT_TRUE(is_valid_name("default"));
  EXPECT_TRUE(is_valid_name("user.created"));
  EXPECT_TRUE(is_valid_name("my-function_2"));
  EXPECT_TRUE(is_valid_name(std::string(128, 'a')));
}

TEST(Names, RejectEmptyTooLongAndOtherCharacters) {
  EXPECT_FALSE(is_valid_name(""));
  EXPECT_FALSE(is_valid_name(std::string(129, 'a')));
  for (const char* bad : {"a b", "a/b", "a,b", "a%2F", "é", "a:b", "a*"}) EXPECT_FALSE(is_valid_name(bad)) << bad;
}

TEST(PathEscape, MatchesGoUrlPathEscape) {
  EXPECT_EQ(path_escape("/myteam"), "%2Fmyteam");
  EXPECT_EQ(path_escape("/users/:id"), "%2Fusers%2F:id");
  EXPECT_EQ(path_escape("/files/*path"), "%2Ffiles%2F%2Apath");
  EXPECT_EQ(path_escape("a,b;c?d e"), "a%2Cb%3Bc%3Fd%20e");
  EXPECT_EQ(path_escape("$&+=@-_.~"), "$&+=@-_.~");
}

TEST(PercentDecode, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(percent_decode("%2Fusers%2f:id"), "/users/:id");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_FALSE(percent_decode("%2"));
  EXPECT_FALSE(percent_decode("%zz"));
  EXPECT_FALSE(percent_decode("abc%"));
}

TEST(SubscriptionIds, FollowTheDesignedFormat) {
  EXPECT_EQ(custom_subscription_id("user.created", "sendEmail", "/myteam"), "user.created,sendEmail,%2Fmyteam");
  EXPECT_EQ(custom_subscription_id("invoke", "createUser", "/"), "invoke,createUser,%2F");
  EXPECT_EQ(http_subscription_id("GET", "/users"), "http,GET,%2Fusers");
}

TEST(SubscriptionIds, EveryClientEncodingFindsTheCanonicalId) {
  const std::string canonical = "user.created,sendEmail,%2Fmyteam";
  EXPECT_EQ(canonical_subscription_id(canonical), canonical);                          // raw, as the SDK sends it
  EXPECT_EQ(canonical_subscription_id("user.created,sendEmail,/myteam"), canonical);   // decoded by a proxy
  EXPECT_EQ(canonical_subscription_id("user.created%2CsendEmail%2C%252Fmyteam"), canonical);  // encodeURIComponent
  EXPECT_EQ(canonical_subscription_id("http,GET,%2Fusers%2F:id"), "http,GET,%2Fusers%2F:id");
  EXPECT_EQ(canonical_subscription_id("http,GET,%2Ffiles%2F%2Apath"), "http,GET,%2Ffiles%2F%2Apath");
}

TEST(SubscriptionIds, RejectWhatCannotBeAnId) {
  EXPECT_FALSE(canonical_subscription_id("nonsense"));
  EXPECT_FALSE(canonical_subscription_id("a,b"));
  EXPECT_FALSE(canonical_subscription_id("a,b,notapath"));
}

}  // namespace
}  // namespace eg::model
