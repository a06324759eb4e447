// A function is compiled once, when the routing snapshot takes it (providers/provider.h): what its
// settings and the gateway's environment say is resolved then, and calls read none of it again. The
// shared credentials file is the one thing that may change under a running gateway; it is read
// again when it changes, never by a call.

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "common/scoped_env.h"
#include "net/http_client.h"
#include "providers/aws/credentials.h"
#include "providers/provider.h"
#include "routing/snapshot.h"
#include "store/keys.h"
#include "support/upstream_server.h"

namespace eg::providers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using blackbox::UpstreamServer;
using testsupport::ScopedEnv;

const std::string kPayload = R"({"event":"e","id":"6f1c1d2e-0000-4000-8000-000000000001","data":{}})";

model::Function function_of(std::string type, std::string_view settings) {
  return model::Function{.space = "default",
                         .function_id = "f",
                         .type = std::move(type),
                         .provider = boost::json::parse(settings).as_object()};
}

CallResult call(const CompiledFunction& compiled) {
  asio::io_context io;
  net::HttpClient http(io, {.connect_timeout = 2s, .total_timeout = 5s});
  CallContext context{http};
  std::optional<CallResult> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await compiled.call(kPayload, {}, context); },
      asio::detached);
  io.run();
  return result.value();
}

// "AKIA…" from "AWS4-HMAC-SHA256 Credential=AKIA…/20260101/us-east-1/lambda/aws4_request, …".
std::string access_key_of(const blackbox::RecordedRequest& request) {
  const auto authorization = request.header("Authorization");
  const auto start = authorization.find("Credential=");
  if (start == std::string::npos) return "<unsigned>";
  const auto key = start + std::string_view("Credential=").size();
  return authorization.substr(key, authorization.find('/', key) - key);
}

// No AWS settings in the environment, and a credentials file of the test's own.
class CompiledFunctionTest : public ::testing::Test {
 protected:
  CompiledFunctionTest()
      : directory_(std::filesystem::temp_directory_path() /
                   ("eg-compiled-test-" + std::to_string(::getpid()))),
        credentials_file_(directory_ / "credentials") {
    std::filesystem::create_directories(directory_);
    file_env_.emplace("AWS_SHARED_CREDENTIALS_FILE", credentials_file_.string());
  }
  ~CompiledFunctionTest() override { std::filesystem::remove_all(directory_); }

  void write_credentials(const std::string& key_id) {
    // Written aside and renamed into place, as tools that rotate credentials do.
    const auto aside = directory_ / "credentials.new";
    std::ofstream(aside) << "[default]\naws_access_key_id = " << key_id << "\naws_secret_access_key = s-"
                         << key_id << "\n";
    std::filesystem::rename(aside, credentials_file_);
  }

  std::filesystem::path directory_;
  std::filesystem::path credentials_file_;
  // The rest of the chain off: no config file, no web identity, no container, no metadata service.
  ScopedEnv vars_[13]{{"AWS_ACCESS_KEY_ID", std::nullopt},
                      {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                      {"AWS_SESSION_TOKEN", std::nullopt},
                      {"AWS_PROFILE", std::nullopt},
                      {"AWS_REGION", std::nullopt},
                      {"AWS_DEFAULT_REGION", std::nullopt},
                      {"AWS_ENDPOINT_URL", std::nullopt},
                      {"AWS_ENDPOINT_URL_LAMBDA", std::nullopt},
                      {"AWS_CONFIG_FILE", "/nonexistent/eg-test/config"},
                      {"AWS_WEB_IDENTITY_TOKEN_FILE", std::nullopt},
                      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", std::nullopt},
                      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", std::nullopt},
                      {"AWS_EC2_METADATA_DISABLED", "true"}};
  std::optional<ScopedEnv> file_env_;
};

TEST_F(CompiledFunctionTest, AnUnknownTypeFailsEveryCallPermanently) {
  const auto compiled = compile_function(function_of("gcpfunctions", R"({"name":"x"})"));
  ASSERT_NE(compiled->target, nullptr);
  const auto result = call(*compiled);
  EXPECT_EQ(result.outcome, CallResult::Outcome::Unreachable);
  EXPECT_FALSE(result.retryable);
  EXPECT_EQ(result.error, "unknown function type gcpfunctions");
}

TEST_F(CompiledFunctionTest, SettingsThatDoNotValidateFailEveryCallSayingWhy) {
  // Only a record written behind the Configuration API's back can hold them.
  for (const auto& [type, settings, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"http", R"({})", "function f cannot be called: provider.url is required"},
           {"http", R"({"url":"ftp://x/"})", "function f cannot be called: provider.url must be an absolute"},
           {"awslambda", R"({"arn":"hello","region":5})",
            "function f cannot be called: provider.region must be"},
           {"awskinesis", R"({"streamName":""})",
            "function f cannot be called: provider.streamName must be"}}) {
    const auto result = call(*compile_function(function_of(type, settings)));
    EXPECT_FALSE(result.ok()) << settings;
    EXPECT_FALSE(result.retryable) << settings;
    EXPECT_TRUE(result.error.starts_with(message)) << result.error;
  }
}

TEST_F(CompiledFunctionTest, TheRegionAndEndpointAreTheEnvironmentsWhenCompiled) {
  UpstreamServer aws;
  aws.respond("/2015-03-31/functions/hello/invocations", {.body = R"({"ok":true})"});
  std::optional<ScopedEnv> region(std::in_place, "AWS_REGION", "eu-west-1");
  std::optional<ScopedEnv> endpoint(std::in_place, "AWS_ENDPOINT_URL", aws.url(""));
  const auto compiled = compile_function(
      function_of("awslambda", R"({"arn":"hello","awsAccessKeyId":"AKIAFN","awsSecretAccessKey":"s"})"));
  region.reset();
  endpoint.reset();
  const auto result = call(*compiled);
  ASSERT_TRUE(result.ok()) << result.error;
  const auto requests = aws.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_NE(requests[0].header("Authorization").find("/eu-west-1/lambda/aws4_request"), std::string::npos)
      << requests[0].header("Authorization");
}

TEST_F(CompiledFunctionTest, TheSharedCredentialsFileIsReadWhenCompiledAndAgainWhenItChanges) {
  UpstreamServer aws;
  write_credentials("AKIAFIRST");
  const auto compiled = compile_function(function_of(
      "awslambda", R"({"arn":"hello","region":"us-east-1","endpoint":")" + aws.url("") + R"("})"));
  ASSERT_TRUE(call(*compiled).ok());

  write_credentials("AKIASECOND");
  aws::refresh_credentials_in_use();  // what the watching thread does every few seconds
  ASSERT_TRUE(call(*compiled).ok());

  const auto requests = aws.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(access_key_of(requests[0]), "AKIAFIRST");
  EXPECT_EQ(access_key_of(requests[1]), "AKIASECOND");
}

TEST_F(CompiledFunctionTest, TheWatchingThreadReadsAChangedFileWithinItsInterval) {
  write_credentials("AKIABEFORE");
  const auto source = aws::credentials_source({});
  write_credentials("AKIAAFTER");
  const auto key_id = [&] {
    const auto current = source->current();
    return std::holds_alternative<aws::ResolvedCredentials>(*current)
               ? std::get<aws::ResolvedCredentials>(*current).credentials.access_key_id
               : std::get<std::string>(*current);
  };
  const auto deadline = std::chrono::steady_clock::now() + 3 * aws::kSharedFileCheckInterval;
  while (key_id() != "AKIAAFTER" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(key_id(), "AKIAAFTER") << "nobody called refresh_credentials_in_use() here";
}

TEST_F(CompiledFunctionTest, ACredentialsFileThatAppearsLaterIsUsedOnceRead) {
  UpstreamServer aws;
  const auto compiled = compile_function(function_of(
      "awskinesis", R"({"streamName":"s","region":"us-east-1","endpoint":")" + aws.url("") + R"("})"));
  const auto before = call(*compiled);
  EXPECT_FALSE(before.retryable);
  EXPECT_NE(before.error.find("no AWS credentials found"), std::string::npos) << before.error;
  EXPECT_NE(before.error.find(credentials_file_.string()), std::string::npos) << before.error;

  write_credentials("AKIALATE");
  aws::refresh_credentials_in_use();
  ASSERT_TRUE(call(*compiled).ok());
  EXPECT_EQ(access_key_of(aws.requests().at(0)), "AKIALATE");
}

TEST_F(CompiledFunctionTest, AFileThatLosesItsCredentialsKeepsThoseReadBefore) {
  write_credentials("AKIAKEPT");
  const auto source = aws::credentials_source({});
  std::ofstream(credentials_file_) << "[default]\n";  // caught in the middle of a rewrite, most likely
  aws::refresh_credentials_in_use();
  const auto current = source->current();
  ASSERT_TRUE(std::holds_alternative<aws::ResolvedCredentials>(*current));
  EXPECT_EQ(std::get<aws::ResolvedCredentials>(*current).credentials.access_key_id, "AKIAKEPT");
}

TEST_F(CompiledFunctionTest, FunctionsOfOneFileAndProfileShareOneSource) {
  write_credentials("AKIASHARED");
  const auto first = aws::credentials_source({});
  const auto second = aws::credentials_source(boost::json::parse(R"({"region":"us-east-1"})").as_object());
  EXPECT_EQ(first, second);
  const auto own = aws::credentials_source(
      boost::json::parse(R"({"awsAccessKeyId":"AKIAOWN","awsSecretAccessKey":"s"})").as_object());
  EXPECT_NE(first, own);
}

TEST_F(CompiledFunctionTest, TheSnapshotHoldsEachFunctionCompiled) {
  routing::ConfigState state;
  const boost::json::object record{{"space", "default"},
                                   {"functionId", "f"},
                                   {"type", "http"},
                                   {"provider", {{"url", "http://127.0.0.1:9/"}}}};
  state.apply({{store::WatchEvent::Type::Put, store::KeyValue{store::keys::function("default", "f"),
                                                              boost::json::serialize(record), 2, 2, 1}}});
  const auto snapshot = state.build();
  const auto* compiled = snapshot->find_function("default", "f");
  ASSERT_NE(compiled, nullptr);
  EXPECT_EQ(compiled->function.function_id, "f");
  ASSERT_NE(compiled->target, nullptr);
  EXPECT_EQ(snapshot->share_function("default", "f").get(), compiled) << "deliveries share the same one";
}

}  // namespace
}  // namespace eg::providers
