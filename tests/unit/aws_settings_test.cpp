// How the AWS providers find their credentials, region and endpoint, and how they word AWS's errors.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/scoped_env.h"
#include "providers/aws/api_error.h"
#include "providers/aws/credentials.h"
#include "providers/aws/endpoint.h"

namespace eg::providers::aws {
namespace {

using testsupport::ScopedEnv;

// An environment with no AWS settings at all, and an empty HOME.
class AwsSettings : public ::testing::Test {
 protected:
  AwsSettings()
      : home_(std::filesystem::temp_directory_path() / ("eg-aws-test-" + std::to_string(::getpid()))),
        home_env_("HOME", home_.string()) {
    std::filesystem::create_directories(home_);
  }
  ~AwsSettings() override { std::filesystem::remove_all(home_); }

  void write_credentials_file(const std::string& text) {
    std::filesystem::create_directories(home_ / ".aws");
    std::ofstream(home_ / ".aws" / "credentials") << text;
  }

  std::filesystem::path home_;

 private:
  ScopedEnv home_env_;
  // The metadata service off: 169.254.169.254 is no place for a unit test to go.
  ScopedEnv vars_[17]{{"AWS_ACCESS_KEY_ID", std::nullopt},
                      {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                      {"AWS_SESSION_TOKEN", std::nullopt},
                      {"AWS_PROFILE", std::nullopt},
                      {"AWS_SHARED_CREDENTIALS_FILE", std::nullopt},
                      {"AWS_CONFIG_FILE", std::nullopt},
                      {"AWS_REGION", std::nullopt},
                      {"AWS_DEFAULT_REGION", std::nullopt},
                      {"AWS_ENDPOINT_URL", std::nullopt},
                      {"AWS_ENDPOINT_URL_LAMBDA", std::nullopt},
                      {"AWS_ENDPOINT_URL_KINESIS", std::nullopt},
                      {"AWS_ENDPOINT_URL_STS", std::nullopt},
                      {"AWS_WEB_IDENTITY_TOKEN_FILE", std::nullopt},
                      {"AWS_ROLE_ARN", std::nullopt},
                      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", std::nullopt},
                      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", std::nullopt},
                      {"AWS_EC2_METADATA_DISABLED", "true"}};
};

const Service kLambda{.name = "lambda", .env_suffix = "LAMBDA", .permission = "lambda:InvokeFunction"};

boost::json::object settings(std::string_view json) { return boost::json::parse(json).as_object(); }

TEST_F(AwsSettings, CredentialsFromTheFunctionComeFirst) {
  ScopedEnv key("AWS_ACCESS_KEY_ID", "AKIAENV"), secret("AWS_SECRET_ACCESS_KEY", "env-secret");
  const auto resolved = std::get<ResolvedCredentials>(resolve_credentials(
      settings(R"({"awsAccessKeyId":"AKIAFN","awsSecretAccessKey":"s","awsSessionToken":"t"})")));
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIAFN");
  EXPECT_EQ(resolved.credentials.secret_access_key, "s");
  EXPECT_EQ(resolved.credentials.session_token, "t");
  EXPECT_EQ(resolved.source, "provider.awsAccessKeyId");
}

TEST_F(AwsSettings, ThenTheEnvironmentThenTheSharedFile) {
  write_credentials_file("[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = file-secret\n");
  {
    ScopedEnv key("AWS_ACCESS_KEY_ID", "AKIAENV"), secret("AWS_SECRET_ACCESS_KEY", "env-secret"),
        token("AWS_SESSION_TOKEN", "env-token");
    const auto resolved = std::get<ResolvedCredentials>(resolve_credentials({}));
    EXPECT_EQ(resolved.credentials.access_key_id, "AKIAENV");
    EXPECT_EQ(resolved.credentials.session_token, "env-token");
    EXPECT_EQ(resolved.source, "AWS_ACCESS_KEY_ID");
  }
  const auto resolved = std::get<ResolvedCredentials>(resolve_credentials({}));
  EXPECT_EQ(resolved.credentials.access_key_id, "AKIAFILE");
  EXPECT_EQ(resolved.source, "profile \"default\" in " + (home_ / ".aws" / "credentials").string());
}

TEST_F(AwsSettings, SharedFileProfileAndPathFromTheEnvironment) {
  const auto other_file = home_ / "other-credentials";
  std::ofstream(other_file) << "[ci]\naws_access_key_id=AKIACI\naws_secret_access_key=ci-secret\n";
  ScopedEnv profile("AWS_PROFILE", "ci"), file("AWS_SHARED_CREDENTIALS_FILE", other_file.string());
  EXPECT_EQ(std::get<ResolvedCredentials>(resolve_credentials({})).credentials.access_key_id, "AKIACI");
}

TEST_F(AwsSettings, NoCredentialsSaysWhereTheyCanCome) {
  const auto error = std::get<std::string>(resolve_credentials({}));
  EXPECT_NE(error.find("provider.awsAccessKeyId"), std::string::npos);
  EXPECT_NE(error.find("AWS_ACCESS_KEY_ID"), std::string::npos);
  EXPECT_NE(error.find("profile \"default\" in " + (home_ / ".aws" / "credentials").string()),
            std::string::npos);
}

TEST(SharedCredentialsFile, ParsesProfilesCommentsAndSpacing) {
  const std::string text =
      "# comment\n[default]\naws_access_key_id=AKIADEF\naws_secret_access_key=def\n\n"
      "[ ci ]\r\n ; another comment\r\n aws_access_key_id =  AKIACI \r\naws_secret_access_key= a=b \r\n"
      "aws_session_token = tok\r\nregion = eu-west-1\r\n[incomplete]\naws_access_key_id=AKIAX\n";
  const auto ci = parse_shared_credentials(text, "ci");
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->access_key_id, "AKIACI");
  EXPECT_EQ(ci->secret_access_key, "a=b");
  EXPECT_EQ(ci->session_token, "tok");
  EXPECT_EQ(parse_shared_credentials(text, "default")->access_key_id, "AKIADEF");
  EXPECT_FALSE(parse_shared_credentials(text, "incomplete"));
  EXPECT_FALSE(parse_shared_credentials(text, "absent"));
}

TEST_F(AwsSettings, EndpointOverridesInTheSdkOrder) {
  const auto host_of = [](const boost::json::object& with) {
    return std::get<Target>(resolve_target(kLambda, with)).authority;
  };
  const auto in_region = settings(R"({"region":"eu-west-1"})");
  EXPECT_EQ(host_of(in_region), "lambda.eu-west-1.amazonaws.com");
  EXPECT_EQ(host_of(settings(R"({"region":"cn-north-1"})")), "lambda.cn-north-1.amazonaws.com.cn");
  ScopedEnv global("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
  EXPECT_EQ(host_of(in_region), "127.0.0.1:4566");
  ScopedEnv kinesis("AWS_ENDPOINT_URL_KINESIS", "http://127.0.0.1:1111");  // another service's: ignored
  ScopedEnv lambda("AWS_ENDPOINT_URL_LAMBDA", "http://localhost:3001/lambda/");
  const auto target = std::get<Target>(resolve_target(kLambda, in_region));
  EXPECT_EQ(target.scheme, "http");
  EXPECT_EQ(target.authority, "localhost:3001");
  EXPECT_EQ(target.base_path, "/lambda");
  EXPECT_EQ(host_of(settings(R"({"region":"eu-west-1","endpoint":"https://emulator.test"})")),
            "emulator.test");
}

TEST_F(AwsSettings, RegionFromTheFunctionElseAwsRegion) {
  EXPECT_NE(std::get<std::string>(resolve_target(kLambda, {})).find("provider.region or set AWS_REGION"),
            std::string::npos);
  ScopedEnv region("AWS_REGION", "ap-south-1");
  EXPECT_EQ(std::get<Target>(resolve_target(kLambda, {})).region, "ap-south-1");
  EXPECT_EQ(std::get<Target>(resolve_target(kLambda, settings(R"({"region":"us-east-2"})"))).region,
            "us-east-2");
  ScopedEnv bad_region("AWS_REGION", "us-east-1/../x");
  EXPECT_NE(std::get<std::string>(resolve_target(kLambda, {})).find("invalid AWS region"), std::string::npos);
}

TEST_F(AwsSettings, RegionThenFromAwsDefaultRegionThenTheConfigFile) {
  std::filesystem::create_directories(home_ / ".aws");
  std::ofstream(home_ / ".aws" / "config")
      << "[default]\nregion = eu-central-1\n[profile ci]\nregion = sa-east-1\n";
  EXPECT_EQ(std::get<Target>(resolve_target(kLambda, {})).region, "eu-central-1");
  {
    ScopedEnv profile("AWS_PROFILE", "ci");
    EXPECT_EQ(std::get<Target>(resolve_target(kLambda, {})).region, "sa-east-1");
  }
  ScopedEnv fallback("AWS_DEFAULT_REGION", "ca-central-1");
  EXPECT_EQ(std::get<Target>(resolve_target(kLambda, {})).region, "ca-central-1");
  ScopedEnv region("AWS_REGION", "ap-south-1");
  EXPECT_EQ(std::get<Target>(resolve_target(kLambda, {})).region, "ap-south-1");
  std::filesystem::remove(home_ / ".aws" / "config");
}

TEST_F(AwsSettings, BadEndpointVariableIsAnError) {
  ScopedEnv region("AWS_REGION", "us-east-1"), endpoint("AWS_ENDPOINT_URL_LAMBDA", "localhost:4566");
  EXPECT_EQ(std::get<std::string>(resolve_target(kLambda, {})),
            "AWS_ENDPOINT_URL_LAMBDA must be an absolute http:// or https:// URL without credentials, query "
            "or fragment");
}

net::OutboundResponse answer(long status, net::HeaderFields headers, std::string body) {
  return net::OutboundResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

TEST(AwsApiError, ReadsTheCodeFromTheHeaderOrTheBody) {
  const auto lambda = parse_api_error(
      answer(403, {{"X-Amzn-ErrorType", "AccessDeniedException:http://internal.amazon.com/coral/"}},
             R"({"Message":"nope"})"));
  EXPECT_EQ(lambda.code, "AccessDeniedException");
  EXPECT_EQ(lambda.message, "nope");
  const auto json_protocol = parse_api_error(
      answer(400, {}, R"({"__type":"com.amazonaws.kinesis#ResourceNotFoundException","message":"m"})"));
  EXPECT_EQ(json_protocol.code, "ResourceNotFoundException");
  const auto html = parse_api_error(answer(502, {}, "<html>bad gateway</html>"));
  EXPECT_EQ(html.code, "");
  EXPECT_EQ(html.message, "<html>bad gateway</html>");
}

TEST(AwsApiError, ClassifiesCredentialProblemsAndThrottling) {
  for (const auto* code : {"AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException",
                           "InvalidSignatureException", "MissingAuthenticationTokenException"}) {
    EXPECT_EQ(classify({.status = 403, .code = code}), ApiErrorKind::Credentials) << code;
  }
  for (const auto* code : {"TooManyRequestsException", "ProvisionedThroughputExceededException",
                           "ThrottlingException", "LimitExceededException", "ServiceUnavailableException"}) {
    EXPECT_EQ(classify({.status = 400, .code = code}), ApiErrorKind::Throttled) << code;
  }
  EXPECT_EQ(classify({.status = 429}), ApiErrorKind::Throttled);
  EXPECT_EQ(classify({.status = 404, .code = "ResourceNotFoundException"}), ApiErrorKind::NotFound);
  EXPECT_EQ(classify({.status = 500, .code = "ServiceException"}), ApiErrorKind::Other);
}

TEST(AwsApiError, DescribesWhatToDo) {
  const ApiErrorContext context{.resource = "Kinesis stream s",
                                .region = "eu-west-1",
                                .permission = "kinesis:PutRecord",
                                .access_key_id = "AKIAX",
                                .credentials_source = "AWS_ACCESS_KEY_ID"};
  EXPECT_EQ(describe({.status = 400, .code = "AccessDeniedException", .message = "m"}, context),
            "AWS denied access: the credentials from AWS_ACCESS_KEY_ID (access key AKIAX) may not call "
            "kinesis:PutRecord on Kinesis stream s; allow it in their IAM policy (AccessDeniedException: m)");
  EXPECT_EQ(describe({.status = 500, .code = "", .message = ""}, context),
            "AWS refused the call to Kinesis stream s with HTTP status 500 (HTTP 500)");
  EXPECT_NE(describe({.status = 400, .code = "ProvisionedThroughputExceededException"}, context)
                .find("AWS throttled"),
            std::string::npos);
}

}  // namespace
}  // namespace eg::providers::aws
