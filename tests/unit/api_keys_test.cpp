#include "auth/api_keys.h"

#include <gtest/gtest.h>

#include <string>

#include "common/digest.h"

namespace eg::auth {
namespace {

const std::string kTeamKey = "team-a-key-0123456789";
const std::string kAdminKey = "admin-key-0123456789abcdef";

std::string line_for(const std::string& key, const std::string& spaces) {
  return common::sha256_hex(key) + " " + spaces;
}

ApiKeys keys_of(const std::string& text) {
  auto file = parse_key_file(text);
  EXPECT_TRUE(file.ok()) << file.error;
  return ApiKeys(std::move(file.grants));
}

std::string error_of(const std::string& text) {
  const auto file = parse_key_file(text);
  EXPECT_FALSE(file.ok()) << text;
  return file.error;
}

TEST(Digest, Sha256IsTheStandardDigestInLowerCaseHex) {
  EXPECT_EQ(common::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(common::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(common::sha256("abc").size(), 32u);
  EXPECT_EQ(common::lower_hex(std::string("\x00\x0f\xf0\xff", 4)), "000ff0ff");
}

// The comparer looks at every byte whatever it finds, so its answer must be right wherever the first
// difference is: a comparer that stopped early and got this right would still be caught only by
// timing, which is CRYPTO_memcmp's to guarantee (docs/security.md).
TEST(Digest, TheConstantTimeComparerFindsADifferenceAtEveryPosition) {
  const std::string digest = common::sha256("a key");
  EXPECT_TRUE(common::equal_in_constant_time(digest, digest));
  for (std::size_t i = 0; i < digest.size(); ++i) {
    auto other = digest;
    other[i] = static_cast<char>(other[i] ^ 0x01);
    EXPECT_FALSE(common::equal_in_constant_time(digest, other)) << "difference at byte " << i;
  }
  EXPECT_FALSE(common::equal_in_constant_time(digest, digest.substr(0, 31)));
  EXPECT_FALSE(common::equal_in_constant_time(digest, digest + "x"));
  EXPECT_TRUE(common::equal_in_constant_time("", ""));
}

TEST(ApiKeys, AKeyMayActOnItsSpacesOnly) {
  const auto keys = keys_of("# keys of this gateway\n" + line_for(kTeamKey, "team-a,team-a-staging") +
                            "\n\n" + line_for(kAdminKey, "*") + "  # the operators\n");
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, "team-a"), Access::Granted);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, "team-a-staging"), Access::Granted);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, "team-b"), Access::OutsideSpaces);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, "team"), Access::OutsideSpaces);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, std::nullopt), Access::Granted);
  EXPECT_EQ(keys.check("Bearer " + kAdminKey, "anything"), Access::Granted);
  // A request that reaches every space needs a key of every space.
  EXPECT_EQ(keys.check("Bearer " + kAdminKey, kEverySpace), Access::Granted);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, kEverySpace), Access::OutsideSpaces);
}

TEST(ApiKeys, MissingAndUnknownKeysAreToldApart) {
  const auto keys = keys_of(line_for(kTeamKey, "team-a"));
  EXPECT_EQ(keys.check("", "team-a"), Access::NoKey);
  EXPECT_EQ(keys.check("Basic dXNlcjpwYXNz", "team-a"), Access::NoKey);
  EXPECT_EQ(keys.check("Bearer", "team-a"), Access::NoKey);
  EXPECT_EQ(keys.check("Bearer ", "team-a"), Access::NoKey);
  EXPECT_EQ(keys.check("Bearer " + kAdminKey, "team-a"), Access::UnknownKey);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey + "x", "team-a"), Access::UnknownKey);
  // The digest itself is no key.
  EXPECT_EQ(keys.check("Bearer " + common::sha256_hex(kTeamKey), "team-a"), Access::UnknownKey);
}

TEST(ApiKeys, TheSchemeIsCaseInsensitiveAsTheSdkSendsBearerInLowerCase) {
  const auto keys = keys_of(line_for(kTeamKey, "team-a"));
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    EXPECT_EQ(keys.check(scheme + " " + kTeamKey, "team-a"), Access::Granted) << scheme;
  }
  EXPECT_EQ(keys.check("Bearer   " + kTeamKey + " ", "team-a"), Access::Granted);
  EXPECT_EQ(keys.check("Bearer\t" + kTeamKey, "team-a"), Access::Granted);
  EXPECT_EQ(keys.check("Bearerx " + kTeamKey, "team-a"), Access::NoKey);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey + " extra", "team-a"), Access::NoKey);
}

TEST(ApiKeys, EachMalformedLineIsNamedWithWhatIsWrong) {
  const auto good = line_for(kTeamKey, "team-a");
  EXPECT_NE(error_of(good + "\nnot-a-digest team-a\n").find("line 2: expected the key's SHA-256"),
            std::string::npos);
  std::string upper = common::sha256_hex(kAdminKey);
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NE(error_of(upper + " *").find("line 1: expected the key's SHA-256 in lower-case hex"),
            std::string::npos);
  EXPECT_NE(error_of(common::sha256_hex(kAdminKey)).find("line 1: the SHA-256 is not followed by a space"),
            std::string::npos);
  EXPECT_NE(error_of(line_for(kAdminKey, "a, b")).find("line 1: the spaces the key may act on are one"),
            std::string::npos);
  EXPECT_NE(error_of(line_for(kAdminKey, "a,,b")).find("line 1: an empty space name"), std::string::npos);
  EXPECT_NE(error_of(line_for(kAdminKey, "a/b")).find("line 1: \"a/b\" is not a space name"),
            std::string::npos);
  EXPECT_NE(error_of(line_for(kAdminKey, "")).find("line 1: the SHA-256 is not followed by a space"),
            std::string::npos);
  EXPECT_NE(error_of(good + "\n# again\n" + line_for(kTeamKey, "b")).find("line 3: the same key as line 1"),
            std::string::npos);
  EXPECT_NE(error_of("# nothing but comments\n\n").find("holds no key"), std::string::npos);
}

TEST(ApiKeys, WindowsLineEndsAndTrailingBlanksAreRead) {
  const auto keys = keys_of(line_for(kTeamKey, "team-a") + " \r\n" + line_for(kAdminKey, "*") + "\r\n");
  EXPECT_EQ(keys.check("Bearer " + kAdminKey, "x"), Access::Granted);
  EXPECT_EQ(keys.check("Bearer " + kTeamKey, "team-a"), Access::Granted);
}

TEST(ApiKeys, LoadNamesTheFileThatCannotBeRead) {
  std::string error;
  EXPECT_FALSE(ApiKeys::load("/nonexistent/keys", error));
  EXPECT_EQ(error, "/nonexistent/keys: cannot be read");
}

TEST(ApiKeys, TheHashKeyLineIsTheKeysDigestForEverySpace) {
  std::string error;
  const auto line = key_file_line(kTeamKey, error);
  ASSERT_TRUE(line) << error;
  EXPECT_EQ(*line, common::sha256_hex(kTeamKey) + " *");
  EXPECT_EQ(keys_of(*line).check("Bearer " + kTeamKey, "any"), Access::Granted);
  EXPECT_FALSE(key_file_line("short", error));
  EXPECT_NE(error.find("at least 16 characters"), std::string::npos);
  EXPECT_FALSE(key_file_line("a key with blanks in it", error));
  EXPECT_NE(error.find("may hold only"), std::string::npos);
}

}  // namespace
}  // namespace eg::auth
