// What every outcome of every provider means for a delivery: retryable or permanent, and the wait a
// function asked for (docs/delivery.md, "What is retried"). The http provider is called in process
// against a real HTTP server on 127.0.0.1 answering each case; the AWS providers' mapping from
// AWS's answer to a CallResult is tested on the answers themselves, and each AWS provider once end
// to end against the same server standing in for its endpoint.

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "common/base64.h"
#include "common/scoped_env.h"
#include "net/http_client.h"
#include "net/http_date.h"
#include "providers/aws/api_call.h"
#include "providers/awsfirehose/awsfirehose_provider.h"
#include "providers/awskinesis/awskinesis_provider.h"
#include "providers/awslambda/awslambda_provider.h"
#include "providers/http/http_provider.h"
#include "providers/outcome.h"
#include "support/upstream_server.h"

namespace eg::providers {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Outcome = CallResult::Outcome;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

const std::string kPayload =
    R"({"event":"user.created","id":"6f1c1d2e-0000-4000-8000-000000000001","data":{}})";

model::Function function_of(std::string type, std::string_view settings) {
  return model::Function{.space = "default",
                         .function_id = "f",
                         .type = std::move(type),
                         .provider = boost::json::parse(settings).as_object()};
}

model::Function http_function(const std::string& url) {
  return function_of("http", boost::json::serialize(boost::json::object{{"url", url}}));
}

// Calls a compiled function once, on an io_context of the test's own thread, as a dispatcher would.
CallResult call(const CompiledFunction& compiled, const CallMarks& marks = {},
                net::HttpClientOptions options = {.connect_timeout = 2s, .total_timeout = 5s}) {
  asio::io_context io;
  net::HttpClient http(io, options);
  CallContext context{http};
  std::optional<CallResult> result;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await compiled.call(kPayload, marks, context); },
      asio::detached);
  io.run();
  return result.value();
}

// Compiles `function` as the routing snapshot does, then calls it once.
CallResult call(const model::Function& function, const CallMarks& marks = {},
                net::HttpClientOptions options = {.connect_timeout = 2s, .total_timeout = 5s}) {
  return call(*compile_function(function), marks, options);
}

std::string describe(const CallResult& result) {
  return "outcome " + std::to_string(static_cast<int>(result.outcome)) + ", retryable " +
         (result.retryable ? "yes" : "no") + ", error: " + result.error;
}

// A server that accepts each connection, reads what arrives and resets it (SO_LINGER 0): a
// function that crashed mid-request.
class ResettingServer {
 public:
  ResettingServer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, serve(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ResettingServer() {
    io_.stop();
    thread_.join();
  }
  ResettingServer(const ResettingServer&) = delete;
  ResettingServer& operator=(const ResettingServer&) = delete;

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/f";
  }

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      std::array<char, 4096> buffer{};
      boost::system::error_code error;
      co_await socket.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
      socket.set_option(asio::socket_base::linger(true, 0), error);
      socket.close(error);
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

// ---- http

TEST(HttpProviderOutcomes, A2xxIsTheFunctionsResult) {
  UpstreamServer server;
  for (const int status : {200, 201, 202, 204}) {
    const auto path = "/s" + std::to_string(status);
    server.respond(path, {.status = status, .body = status == 204 ? "" : R"({"ok":true})"});
    const auto result = call(http_function(server.url(path)));
    EXPECT_TRUE(result.ok()) << status << ": " << describe(result);
    EXPECT_FALSE(result.retryable) << status;
    EXPECT_EQ(result.retry_after, std::nullopt) << status;
  }
}

TEST(HttpProviderOutcomes, Status408And429And5xxAreRetryable) {
  UpstreamServer server;
  for (const int status : {408, 429, 500, 501, 502, 503, 504, 599}) {
    const auto path = "/s" + std::to_string(status);
    server.respond(path, {.status = status, .body = R"({"error":"later"})"});
    const auto result = call(http_function(server.url(path)));
    EXPECT_EQ(result.outcome, Outcome::FunctionError) << status;
    EXPECT_TRUE(result.retryable) << status << ": " << describe(result);
    EXPECT_EQ(result.retry_after, std::nullopt) << status << ": no Retry-After was sent";
    EXPECT_EQ(result.body, R"({"error":"later"})") << status;
    EXPECT_NE(result.error.find("HTTP status " + std::to_string(status)), std::string::npos) << result.error;
  }
}

TEST(HttpProviderOutcomes, OtherStatusesArePermanent) {
  UpstreamServer server;
  for (const int status : {300, 301, 307, 400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 451}) {
    const auto path = "/s" + std::to_string(status);
    server.respond(path, {.status = status, .headers = {{"Retry-After", "5"}}, .body = "no"});
    const auto result = call(http_function(server.url(path)));
    EXPECT_EQ(result.outcome, Outcome::FunctionError) << status;
    EXPECT_FALSE(result.retryable) << status << ": " << describe(result);
    EXPECT_EQ(result.retry_after, std::nullopt) << status << ": Retry-After counts on 429 and 503 only";
  }
}

TEST(HttpProviderOutcomes, RetryAfterOn429And503InSecondsOrAsADate) {
  UpstreamServer server;
  server.respond("/seconds", {.status = 429, .headers = {{"Retry-After", "7"}}});
  server.respond("/date", {.status = 503,
                           .headers = {{"Retry-After", net::format_http_date(std::time(nullptr) + 120)}}});
  server.respond("/past", {.status = 503, .headers = {{"Retry-After", "Sun, 06 Nov 1994 08:49:37 GMT"}}});
  server.respond("/garbage", {.status = 429, .headers = {{"Retry-After", "in a while"}}});
  server.respond("/on500", {.status = 500, .headers = {{"Retry-After", "7"}}});

  const auto seconds = call(http_function(server.url("/seconds")));
  EXPECT_TRUE(seconds.retryable);
  EXPECT_EQ(seconds.retry_after, 7s);

  const auto date = call(http_function(server.url("/date")));
  EXPECT_TRUE(date.retryable);
  ASSERT_TRUE(date.retry_after);
  EXPECT_GE(*date.retry_after, 115s) << "the date is two minutes ahead";
  EXPECT_LE(*date.retry_after, 121s);

  const auto past = call(http_function(server.url("/past")));
  EXPECT_TRUE(past.retryable);
  EXPECT_EQ(past.retry_after, 0s) << "a date in the past asks for no wait";

  const auto garbage = call(http_function(server.url("/garbage")));
  EXPECT_TRUE(garbage.retryable) << "a 429 is retryable whatever its Retry-After says";
  EXPECT_EQ(garbage.retry_after, std::nullopt);

  const auto on500 = call(http_function(server.url("/on500")));
  EXPECT_TRUE(on500.retryable);
  EXPECT_EQ(on500.retry_after, std::nullopt);
}

TEST(HttpProviderOutcomes, ARefusedConnectionIsRetryable) {
  const auto result =
      call(http_function("http://127.0.0.1:" + std::to_string(blackbox::closed_port()) + "/f"));
  EXPECT_EQ(result.outcome, Outcome::Unreachable) << describe(result);
  EXPECT_TRUE(result.retryable);
}

TEST(HttpProviderOutcomes, AResetConnectionIsRetryable) {
  ResettingServer server;
  const auto result = call(http_function(server.url()));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.retryable) << describe(result);
}

TEST(HttpProviderOutcomes, ATimeoutIsRetryable) {
  UpstreamServer server;
  server.respond("/hang", {.hang = true});
  const auto result =
      call(http_function(server.url("/hang")), {}, {.connect_timeout = 2s, .total_timeout = 200ms});
  EXPECT_EQ(result.outcome, Outcome::Timeout) << describe(result);
  EXPECT_TRUE(result.retryable);
}

TEST(HttpProviderOutcomes, AnAnswerTooLargeIsPermanent) {
  UpstreamServer server;
  server.respond("/big", {.body = std::string(2048, 'x')});
  const auto result =
      call(http_function(server.url("/big")), {}, {.total_timeout = 5s, .max_response_bytes = 1024});
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.retryable) << "it would be as large again: " << describe(result);
}

TEST(HttpProviderOutcomes, AnAttemptOfADeliveryCarriesTheEventIdAndItsNumber) {
  UpstreamServer server;
  const CallMarks marks{.hops = 1, .event_id = "6f1c1d2e-0000-4000-8000-000000000001", .attempt = 3};
  ASSERT_TRUE(call(http_function(server.url("/f")), marks).ok());
  const auto requests = server.requests("/f");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header(kEventIdHeader), "6f1c1d2e-0000-4000-8000-000000000001");
  EXPECT_EQ(requests[0].header(kDeliveryAttemptHeader), "3");
  EXPECT_EQ(requests[0].header(kHopsHeader), "1");
}

TEST(HttpProviderOutcomes, ASynchronousCallCarriesNoDeliveryHeaders) {
  UpstreamServer server;
  ASSERT_TRUE(call(http_function(server.url("/f")), {.hops = 2}).ok());
  const auto requests = server.requests("/f");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_FALSE(requests[0].has_header(kEventIdHeader));
  EXPECT_FALSE(requests[0].has_header(kDeliveryAttemptHeader));
  EXPECT_EQ(requests[0].header(kHopsHeader), "2");
}

// ---- the rules every provider shares

TEST(SharedOutcomeRules, TransportFailures) {
  using Kind = net::OutboundError::Kind;
  EXPECT_TRUE(is_retryable(Kind::Connect));
  EXPECT_TRUE(is_retryable(Kind::Timeout));
  EXPECT_TRUE(is_retryable(Kind::Protocol));
  EXPECT_TRUE(is_retryable(Kind::Cancelled));
  EXPECT_FALSE(is_retryable(Kind::TooLarge));
}

TEST(SharedOutcomeRules, Statuses) {
  for (const long status : {408L, 429L, 500L, 503L, 599L}) EXPECT_TRUE(is_retryable_status(status)) << status;
  for (const long status : {100L, 200L, 301L, 400L, 404L, 410L, 600L})
    EXPECT_FALSE(is_retryable_status(status)) << status;
}

// ---- AWS: the mapping from AWS's answer to a CallResult

net::OutboundResponse answer(long status, net::HeaderFields headers, std::string body = {}) {
  return net::OutboundResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

const aws::ApiErrorContext kContext{.resource = "AWS Lambda function hello",
                                    .region = "us-east-1",
                                    .permission = "lambda:InvokeFunction",
                                    .access_key_id = "AKIAEXAMPLE",
                                    .credentials_source = "provider.awsAccessKeyId"};

CallResult aws_error(long status, std::string code, net::HeaderFields headers = {}) {
  auto body = code.empty() ? std::string("<html>error</html>")
                           : boost::json::serialize(boost::json::object{{"__type", code}, {"message", "m"}});
  return aws::api_error_result(answer(status, std::move(headers), std::move(body)), kContext,
                               std::chrono::system_clock::from_time_t(784111777));
}

TEST(AwsOutcomes, ALambdaFunctionErrorIsRetryable) {
  auto result = lambda_invoke_result(
      answer(200, {{"X-Amz-Function-Error", "Unhandled"}, {"Content-Type", "application/json"}},
             R"({"errorType":"Error","errorMessage":"boom"})"),
      "AWS Lambda function hello");
  EXPECT_EQ(result.outcome, Outcome::FunctionError);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(result.error, "AWS Lambda function hello failed (Unhandled): Error: boom");
  EXPECT_EQ(result.body, R"({"errorType":"Error","errorMessage":"boom"})");
}

TEST(AwsOutcomes, ALambdaAnswerWithoutFunctionErrorIsTheResult) {
  auto result = lambda_invoke_result(answer(200, {{"Content-Type", "application/json"}}, R"({"ok":1})"),
                                     "AWS Lambda function hello");
  EXPECT_TRUE(result.ok());
  EXPECT_FALSE(result.retryable);
  EXPECT_EQ(result.body, R"({"ok":1})");
  EXPECT_EQ(result.content_type, "application/json");
}

TEST(AwsOutcomes, ThrottlingIsRetryableWhateverItsStatus) {
  for (const auto& [status, code] :
       std::vector<std::pair<long, std::string>>{{429, "TooManyRequestsException"},  // Lambda
                                                 {429, ""},
                                                 {400, "ProvisionedThroughputExceededException"},  // Kinesis
                                                 {400, "ThrottlingException"},
                                                 {400, "LimitExceededException"},
                                                 {400, "KMSThrottlingException"},
                                                 {500, "ServiceUnavailableException"},  // Firehose
                                                 {502, "EC2ThrottledException"}}) {
    const auto result = aws_error(status, code);
    EXPECT_EQ(result.outcome, Outcome::Unreachable) << code;
    EXPECT_TRUE(result.retryable) << status << " " << code << ": " << describe(result);
    EXPECT_NE(result.error.find("AWS throttled"), std::string::npos) << result.error;
  }
}

TEST(AwsOutcomes, AwsServerErrorsAreRetryable) {
  for (const auto& [status, code] :
       std::vector<std::pair<long, std::string>>{{500, "ServiceException"},
                                                 {500, "InternalFailure"},
                                                 {502, "ResourceNotReadyException"},
                                                 {503, ""},
                                                 {504, ""},
                                                 {408, "RequestTimeoutException"}}) {
    EXPECT_TRUE(aws_error(status, code).retryable) << status << " " << code;
  }
}

TEST(AwsOutcomes, RetryAfterCountsOnA429OrA503) {
  EXPECT_EQ(aws_error(429, "TooManyRequestsException", {{"Retry-After", "3"}}).retry_after, 3s);
  EXPECT_EQ(aws_error(503, "", {{"Retry-After", "Sun, 06 Nov 1994 08:50:37 GMT"}}).retry_after, 60s);
  EXPECT_EQ(aws_error(500, "ServiceException", {{"Retry-After", "3"}}).retry_after, std::nullopt);
  EXPECT_EQ(aws_error(429, "TooManyRequestsException").retry_after, std::nullopt);
}

TEST(AwsOutcomes, CredentialErrorsArePermanent) {
  for (const auto& [status, code] :
       std::vector<std::pair<long, std::string>>{{403, "AccessDeniedException"},
                                                 {403, "UnrecognizedClientException"},
                                                 {400, "UnrecognizedClientException"},
                                                 {403, "InvalidSignatureException"},
                                                 {403, "ExpiredTokenException"},
                                                 {400, "InvalidClientTokenId"},
                                                 {403, "MissingAuthenticationTokenException"}}) {
    const auto result = aws_error(status, code);
    EXPECT_EQ(result.outcome, Outcome::Unreachable);
    EXPECT_FALSE(result.retryable) << status << " " << code << ": " << describe(result);
  }
}

TEST(AwsOutcomes, NotFoundIsPermanent) {
  const auto result = aws_error(404, "ResourceNotFoundException");
  EXPECT_FALSE(result.retryable);
  EXPECT_NE(result.error.find("was not found in region us-east-1"), std::string::npos) << result.error;
  EXPECT_FALSE(aws_error(400, "ResourceNotFoundException").retryable) << "Kinesis says it with 400";
}

TEST(AwsOutcomes, OtherClientErrorsArePermanent) {
  for (const auto& [status, code] :
       std::vector<std::pair<long, std::string>>{{400, "InvalidRequestContentException"},
                                                 {400, "ValidationException"},
                                                 {400, "InvalidArgumentException"},
                                                 {409, "ResourceConflictException"},
                                                 {413, "RequestTooLargeException"},
                                                 {415, "UnsupportedMediaTypeException"},
                                                 {400, ""}}) {
    EXPECT_FALSE(aws_error(status, code).retryable) << status << " " << code;
  }
}

TEST(AwsOutcomes, TransportFailuresAreRetryableButAnAnswerTooLarge) {
  using Kind = net::OutboundError::Kind;
  const auto of = [](Kind kind) {
    return aws::transport_error_result({kind, "what happened"},
                                       "calling AWS Lambda function hello at https://x");
  };
  EXPECT_EQ(of(Kind::Timeout).outcome, Outcome::Timeout);
  EXPECT_EQ(of(Kind::Connect).outcome, Outcome::Unreachable);
  EXPECT_EQ(of(Kind::Connect).error, "calling AWS Lambda function hello at https://x failed: what happened");
  for (const auto kind : {Kind::Connect, Kind::Timeout, Kind::Protocol, Kind::Cancelled})
    EXPECT_TRUE(of(kind).retryable) << static_cast<int>(kind);
  EXPECT_FALSE(of(Kind::TooLarge).retryable);
}

// ---- AWS providers end to end, against a stand-in endpoint on 127.0.0.1

std::string aws_settings(const UpstreamServer& server, std::string_view resource_field,
                         std::string_view name) {
  return boost::json::serialize(boost::json::object{{resource_field, name},
                                                    {"region", "us-east-1"},
                                                    {"endpoint", server.url("")},
                                                    {"awsAccessKeyId", "AKIAEXAMPLE"},
                                                    {"awsSecretAccessKey", "secret"}});
}

UpstreamResponse aws_answer(int status, std::string body, net::HeaderFields headers = {}) {
  headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  return UpstreamResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

TEST(AwsProviderOutcomes, LambdaSuccessFunctionErrorThrottlingAndNotFound) {
  UpstreamServer server;
  const auto lambda = [&](std::string_view name) {
    return function_of("awslambda", aws_settings(server, "arn", name));
  };
  server.respond("/2015-03-31/functions/ok/invocations", aws_answer(200, R"({"ok":true})"));
  server.respond("/2015-03-31/functions/fails/invocations",
                 aws_answer(200, R"({"errorType":"Error","errorMessage":"boom"})",
                            {{"X-Amz-Function-Error", "Unhandled"}}));
  server.respond("/2015-03-31/functions/busy/invocations",
                 aws_answer(429, R"({"__type":"TooManyRequestsException","message":"Rate exceeded"})",
                            {{"Retry-After", "2"}}));
  server.respond("/2015-03-31/functions/gone/invocations",
                 aws_answer(404, R"({"__type":"ResourceNotFoundException","message":"Function not found"})"));

  const auto ok = call(lambda("ok"));
  EXPECT_TRUE(ok.ok()) << describe(ok);
  const auto fails = call(lambda("fails"));
  EXPECT_EQ(fails.outcome, Outcome::FunctionError);
  EXPECT_TRUE(fails.retryable);
  const auto busy = call(lambda("busy"));
  EXPECT_TRUE(busy.retryable) << describe(busy);
  EXPECT_EQ(busy.retry_after, 2s);
  const auto gone = call(lambda("gone"));
  EXPECT_FALSE(gone.retryable) << describe(gone);
  ASSERT_EQ(server.requests("/2015-03-31/functions/ok/invocations").size(), 1u);
  EXPECT_FALSE(server.requests("/2015-03-31/functions/ok/invocations")[0].has_header(kEventIdHeader))
      << "AWS carries no headers of ours to the function";
}

TEST(AwsProviderOutcomes, KinesisAndFirehoseThrottlingServerErrorsAndRefusals) {
  UpstreamServer server;
  const auto kinesis = function_of("awskinesis", aws_settings(server, "streamName", "orders"));
  const auto firehose = function_of("awsfirehose", aws_settings(server, "deliveryStreamName", "orders"));
  const CallMarks delivery{.event_id = "6f1c1d2e-0000-4000-8000-000000000001", .attempt = 1};
  struct Case {
    UpstreamResponse answer;
    bool ok;
    bool retryable;
  };
  const std::vector<Case> cases{
      {aws_answer(200, R"({"ShardId":"shardId-000000000000","SequenceNumber":"1"})"), true, false},
      {aws_answer(400, R"({"__type":"ProvisionedThroughputExceededException","message":"slow down"})"), false,
       true},
      {aws_answer(500, R"({"__type":"ServiceUnavailableException","message":"try again"})"), false, true},
      {aws_answer(503, R"({"__type":"InternalFailure"})"), false, true},
      {aws_answer(400, R"({"__type":"ResourceNotFoundException","message":"Stream orders not found"})"),
       false, false},
      {aws_answer(400, R"({"__type":"UnrecognizedClientException","message":"bad key"})"), false, false},
      {aws_answer(400, R"({"__type":"ValidationException","message":"no"})"), false, false},
  };
  for (const auto& function : {kinesis, firehose}) {
    for (const auto& [answer, ok, retryable] : cases) {
      server.respond("/", answer);
      const auto result = call(function, delivery);
      EXPECT_EQ(result.ok(), ok) << function.type << " " << answer.status << " " << answer.body << ": "
                                 << describe(result);
      EXPECT_EQ(result.retryable, retryable) << function.type << " " << answer.status << " " << answer.body;
    }
  }
  const auto requests = server.requests("/");
  ASSERT_EQ(requests.size(), 2 * cases.size());
  const auto kinesis_record = requests.front().json();
  EXPECT_EQ(kinesis_record.at("StreamName"), "orders");
  EXPECT_EQ(kinesis_record.at("Data").as_string(), common::base64_encode(kPayload));
  EXPECT_EQ(kinesis_record.at("PartitionKey").as_string(), delivery.event_id)
      << "the delivery's event id, not parsed again";
  const auto firehose_record = requests.back().json();
  EXPECT_EQ(firehose_record.at("DeliveryStreamName"), "orders");
  EXPECT_EQ(firehose_record.at("Record").at("Data").as_string(), common::base64_encode(kPayload));
}

TEST(AwsProviderOutcomes, AnUnreachableEndpointIsRetryable) {
  const auto settings = boost::json::serialize(
      boost::json::object{{"arn", "hello"},
                          {"region", "us-east-1"},
                          {"endpoint", "http://127.0.0.1:" + std::to_string(blackbox::closed_port())},
                          {"awsAccessKeyId", "AKIAEXAMPLE"},
                          {"awsSecretAccessKey", "secret"}});
  const auto result = call(function_of("awslambda", settings));
  EXPECT_EQ(result.outcome, Outcome::Unreachable) << describe(result);
  EXPECT_TRUE(result.retryable);
}

TEST(AwsProviderOutcomes, NoRegionOrNoCredentialsIsPermanent) {
  testsupport::ScopedEnv region("AWS_REGION", std::nullopt), key("AWS_ACCESS_KEY_ID", std::nullopt),
      secret("AWS_SECRET_ACCESS_KEY", std::nullopt),
      file("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
  const auto no_region = call(function_of(
      "awslambda", R"({"arn":"hello","awsAccessKeyId":"AKIAEXAMPLE","awsSecretAccessKey":"secret"})"));
  EXPECT_EQ(no_region.outcome, Outcome::Unreachable);
  EXPECT_FALSE(no_region.retryable) << describe(no_region);
  EXPECT_NE(no_region.error.find("no AWS region"), std::string::npos) << no_region.error;
  const auto no_credentials =
      call(function_of("awskinesis", R"({"streamName":"orders","region":"us-east-1"})"));
  EXPECT_FALSE(no_credentials.retryable) << describe(no_credentials);
  EXPECT_NE(no_credentials.error.find("no AWS credentials found"), std::string::npos) << no_credentials.error;
}

}  // namespace
}  // namespace eg::providers
