// What the credentials chain's sources answer, parsed without a network: the config file's profiles,
// STS's XML, the JSON of the container endpoint, the metadata service and credential_process, AWS's
// times, the container endpoint's URL, and when credentials are fetched again.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "providers/aws/credential_sources.h"
#include "providers/aws/credentials.h"
#include "providers/aws/profile_file.h"

namespace eg::providers::aws {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

Clock::time_point utc(std::string_view text) { return parse_aws_time(text).value(); }

TEST(AwsProfileFile, ConfigSectionsAreProfileNameAndDefault) {
  const std::string text =
      "[default]\nregion = us-east-1\n[profile app]\nrole_arn = arn:aws:iam::1:role/r\n"
      "s3 =\n  max_concurrent_requests = 10\nsource_profile = base\n[app]\nregion = wrong\n"
      "[profile   spaced ]\nregion=eu-west-1\n";
  const auto app = parse_profile(text, "app", ProfileFileKind::Config);
  ASSERT_TRUE(app);
  EXPECT_EQ(app->at("role_arn"), "arn:aws:iam::1:role/r");
  EXPECT_EQ(app->at("source_profile"), "base");
  EXPECT_FALSE(app->contains("max_concurrent_requests")) << "a sub-section's key";
  EXPECT_FALSE(app->contains("region")) << "[app] is no profile in the config file";
  EXPECT_EQ(parse_profile(text, "default", ProfileFileKind::Config)->at("region"), "us-east-1");
  EXPECT_EQ(parse_profile(text, "spaced", ProfileFileKind::Config)->at("region"), "eu-west-1");
  EXPECT_EQ(parse_profile(text, "app", ProfileFileKind::Credentials)->at("region"), "wrong");
  EXPECT_FALSE(parse_profile(text, "absent", ProfileFileKind::Config));
}

TEST(AwsTime, ParsesTheShapesAwsWrites) {
  EXPECT_EQ(Clock::to_time_t(utc("2019-11-09T13:34:41Z")), 1573306481);
  EXPECT_EQ(utc("2019-11-09T13:34:41.123Z"), utc("2019-11-09T13:34:41Z"));
  EXPECT_EQ(utc("2019-11-09T15:34:41+02:00"), utc("2019-11-09T13:34:41Z"));
  EXPECT_FALSE(parse_aws_time("2019-11-09 13:34:41"));
  EXPECT_FALSE(parse_aws_time("tomorrow"));
  EXPECT_FALSE(parse_aws_time("2019-11-09T13:34:41"));
}

TEST(AwsStsAnswer, ReadsTheCredentialsOfEitherAssumeRole) {
  const auto answer = parse_sts_answer(
      200, R"(<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>system:serviceaccount:default:gw</SubjectFromWebIdentityToken>
    <AssumedRoleUser><Arn>arn:aws:sts::1:assumed-role/r/s</Arn><AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>
    <Credentials>
      <SessionToken>token+/=</SessionToken>
      <SecretAccessKey>secret</SecretAccessKey>
      <Expiration>2030-01-01T00:00:00Z</Expiration>
      <AccessKeyId>ASIAWEB</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>ad4156e9</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>)");
  const auto& fetched = std::get<FetchedCredentials>(answer);
  EXPECT_EQ(fetched.credentials.access_key_id, "ASIAWEB");
  EXPECT_EQ(fetched.credentials.secret_access_key, "secret");
  EXPECT_EQ(fetched.credentials.session_token, "token+/=");
  EXPECT_EQ(fetched.expiration, utc("2030-01-01T00:00:00Z"));
  EXPECT_TRUE(std::holds_alternative<FetchedCredentials>(parse_sts_answer(
      200,
      "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S"
      "</SecretAccessKey><SessionToken>T</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>"
      "</Credentials></AssumeRoleResult></AssumeRoleResponse>")));
}

TEST(AwsStsAnswer, ErrorsSayStsCodeAndMessage) {
  EXPECT_EQ(
      std::get<std::string>(parse_sts_answer(
          403,
          "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to "
          "perform sts:AssumeRole</Message></Error><RequestId>1</RequestId></ErrorResponse>")),
      "AccessDenied: Not authorized to perform sts:AssumeRole");
  EXPECT_NE(std::get<std::string>(parse_sts_answer(502, "Bad Gateway")).find("not XML"), std::string::npos);
  EXPECT_NE(std::get<std::string>(parse_sts_answer(200, "<AssumeRoleResponse/>")).find("without credentials"),
            std::string::npos);
}

TEST(AwsCredentialsJson, ReadsTheContainerAndMetadataShapes) {
  const auto fetched = std::get<FetchedCredentials>(parse_credentials_json(
      R"({"Code":"Success","AccessKeyId":"ASIA","SecretAccessKey":"s","Token":"t","Expiration":"2030-01-01T00:00:00Z"})",
      "Token"));
  EXPECT_EQ(fetched.credentials.session_token, "t");
  EXPECT_EQ(fetched.expiration, utc("2030-01-01T00:00:00Z"));
  const auto process = std::get<FetchedCredentials>(
      parse_credentials_json(R"({"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s"})", "SessionToken"));
  EXPECT_FALSE(process.expiration) << "credential_process may give long-term keys";
  EXPECT_EQ(std::get<std::string>(
                parse_credentials_json(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"no"})", "Token")),
            "Code AssumeRoleUnauthorizedAccess: no");
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_credentials_json(R"({"AccessKeyId":"A"})", "Token")));
  EXPECT_TRUE(std::holds_alternative<std::string>(
      parse_credentials_json(R"({"AccessKeyId":"A","SecretAccessKey":"s","Expiration":"soon"})", "Token")));
}

TEST(AwsContainerUrl, RelativeUriIsOnTheEcsAgentsAddress) {
  EXPECT_EQ(std::get<0>(container_credentials_url("", "/v2/credentials/abc")),
            "http://169.254.170.2/v2/credentials/abc");
  EXPECT_EQ(std::get<0>(container_credentials_url("http://127.0.0.1:1/x", "/v2/c")),
            "http://169.254.170.2/v2/c")
      << "RELATIVE_URI wins, as in the SDKs";
  EXPECT_EQ(container_credentials_url("", "v2/c").index(), 1u);
}

TEST(AwsContainerUrl, FullUriMustBeHttpsLoopbackOrTheContainerAddresses) {
  for (const auto* allowed :
       {"https://creds.example/x", "http://127.0.0.1:51679/creds", "http://localhost/x", "http://[::1]:80/x",
        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/x"}) {
    EXPECT_EQ(container_credentials_url(allowed, "").index(), 0u) << allowed;
  }
  for (const auto* refused :
       {"http://192.0.2.1/x", "http://169.254.169.254/latest", "ftp://127.0.0.1/x", "nonsense"}) {
    EXPECT_EQ(container_credentials_url(refused, "").index(), 1u) << refused;
  }
}

TEST(AwsCredentialsRefresh, FiveMinutesBeforeExpiryElseAQuarterOfWhatIsLeft) {
  const auto now = utc("2030-01-01T00:00:00Z");
  EXPECT_EQ(refresh_time(now, now + 1h), now + 55min);
  EXPECT_EQ(refresh_time(now, now + kRefreshMargin + 2s), now + 2s);
  EXPECT_EQ(refresh_time(now, now + 2min), now + 30s) << "short-lived: a quarter of what is left";
  EXPECT_EQ(refresh_time(now, now + 2s), now + 1s) << "never sooner than a second";
  EXPECT_EQ(refresh_time(now, now + 4min + 59s), now + 1min) << "never later than a minute";
  EXPECT_EQ(retry_delay(1), 1s);
  EXPECT_EQ(retry_delay(2), 2s);
  EXPECT_EQ(retry_delay(6), 32s);
  EXPECT_EQ(retry_delay(7), 60s);
  EXPECT_EQ(retry_delay(1000), 60s);
}

}  // namespace
}  // namespace eg::providers::aws
