#include "config/validation.h"

#include <gtest/gtest.h>

#include "config/errors.h"

namespace eg::config {
namespace {

boost::json::value json(std::string_view text) { return boost::json::parse(text); }

// The message of the Invalid error `action` throws; fails the test if it throws nothing else.
template <typename Action>
std::string invalid_message(Action action) {
  try {
    action();
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.kind(), ConfigError::Kind::Invalid);
    return error.what();
  }
  ADD_FAILURE() << "expected a validation error";
  return {};
}

TEST(FunctionValidation, AcceptsEachProviderType) {
  const auto http = parse_function("default", json(R"({"functionId":"f","type":"http","provider":{"url":"http://127.0.0.1:8080/x"}})"));
  EXPECT_EQ(http.function_id, "f");
  EXPECT_EQ(http.space, "default");
  EXPECT_EQ(http.provider.at("url").as_string(), "http://127.0.0.1:8080/x");
  EXPECT_NO_THROW(parse_function("s", json(R"({"functionId":"l","type":"awslambda","provider":{"arn":"arn:aws:lambda:us-east-1:1:function:f","region":"us-east-1","awsAccessKeyId":"A","awsSecretAccessKey":"S","awsSessionToken":"T"}})")));
  EXPECT_NO_THROW(parse_function("s", json(R"({"functionId":"k","type":"awskinesis","provider":{"streamName":"s","region":"eu-west-1"}})")));
  EXPECT_NO_THROW(parse_function("s", json(R"({"functionId":"h","type":"awsfirehose","provider":{"deliveryStreamName":"d","region":"eu-west-1"}})")));
  // The region may come from AWS_REGION when the call is made; the endpoint may point at an emulator.
  EXPECT_NO_THROW(parse_function("s", json(R"({"functionId":"e","type":"awskinesis","provider":{"streamName":"s","endpoint":"http://127.0.0.1:4566"}})")));
}

TEST(FunctionValidation, ExplainsWhatIsWrong) {
  const auto message = [](std::string_view body) {
    return invalid_message([&] { parse_function("default", json(body)); });
  };
  EXPECT_NE(message(R"([1,2])").find("JSON object"), std::string::npos);
  EXPECT_NE(message(R"({"type":"http","provider":{"url":"http://a"}})").find("functionId is required"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":5,"type":"http","provider":{"url":"http://a"}})").find("functionId must be a string"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"a b","type":"http","provider":{"url":"http://a"}})").find("invalid"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","provider":{"url":"http://a"}})").find("type is required"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"gcf","provider":{}})").find("awsfirehose, awskinesis, awslambda, http"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"http"})").find("provider is required"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"http","provider":"x"})").find("provider must be an object"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"http","provider":{}})").find("provider.url is required"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"http","provider":{"url":"ftp://a/b"}})").find("http:// or https://"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","region":"US East"}})").find("provider.region must be an AWS region name"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","endpoint":"localhost:4566"}})").find("provider.endpoint must be an absolute http:// or https:// URL"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","endpoint":7}})").find("provider.endpoint must be a string"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","awsAccessKeyId":"A"}})").find("must be given together"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","awsSessionToken":"T"}})").find("awsSessionToken needs"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awslambda","provider":{"arn":"a","region":"r","awsSecretAccessKey":1}})").find("awsSecretAccessKey must be a string"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awskinesis","provider":{"region":"r"}})").find("provider.streamName is required"), std::string::npos);
  EXPECT_NE(message(R"({"functionId":"f","type":"awsfirehose","provider":{"region":"r"}})").find("provider.deliveryStreamName is required"), std::string::npos);
  EXPECT_NE(message(R"({"space":"other","functionId":"f","type":"http","provider":{"url":"http://a"}})").find("does not match"), std::string::npos);
}

TEST(FunctionValidation, UpdateTakesTheIdFromTheUrl) {
  const auto updated = parse_function("default", json(R"({"type":"http","provider":{"url":"http://a"}})"), "f");
  EXPECT_EQ(updated.function_id, "f");
  const auto mismatch = invalid_message(
      [] { parse_function("default", json(R"({"functionId":"g","type":"http","provider":{"url":"http://a"}})"), "f"); });
  EXPECT_NE(mismatch.find("does not match"), std::string::npos);
}

TEST(SubscriptionValidation, CustomEventDefaultsToTheRootPath) {
  const auto subscription = parse_subscription("default", json(R"({"event":"user.created","functionId":"sendEmail"})"));
  EXPECT_EQ(subscription.path, "/");
  EXPECT_EQ(subscription.subscription_id, "user.created,sendEmail,%2F");
  EXPECT_FALSE(subscription.cors);
  EXPECT_FALSE(subscription.to_json().contains("method"));
}

TEST(SubscriptionValidation, HttpSubscriptionIsNormalized) {
  const auto subscription =
      parse_subscription("default", json(R"({"event":"http","functionId":"f","method":"get","path":"/users/:id/"})"));
  EXPECT_EQ(subscription.method, "GET");
  EXPECT_EQ(subscription.path, "/users/:id");
  EXPECT_EQ(subscription.subscription_id, "http,GET,%2Fusers%2F:id");
}

TEST(SubscriptionValidation, EmptyCorsObjectTakesTheReadmeDefaults) {
  const auto subscription =
      parse_subscription("default", json(R"({"event":"http","functionId":"f","method":"GET","path":"/","cors":{}})"));
  ASSERT_TRUE(subscription.cors);
  EXPECT_EQ(boost::json::serialize(subscription.cors->to_json()),
            R"({"origins":["*"],"methods":["HEAD","GET","POST"],"headers":["Origin","Accept","Content-Type"],"allowCredentials":false})");
  const auto partial = parse_subscription(
      "default", json(R"({"event":"http","functionId":"f","method":"GET","cors":{"origins":["http://*.example.com"],"allowCredentials":true}})"));
  EXPECT_EQ(partial.cors->origins, std::vector<std::string>{"http://*.example.com"});
  EXPECT_EQ(partial.cors->methods, (std::vector<std::string>{"HEAD", "GET", "POST"}));
  EXPECT_TRUE(partial.cors->allow_credentials);
}

TEST(SubscriptionValidation, ExplainsWhatIsWrong) {
  const auto message = [](std::string_view body) {
    return invalid_message([&] { parse_subscription("default", json(body)); });
  };
  EXPECT_NE(message(R"({"functionId":"f"})").find("event is required"), std::string::npos);
  EXPECT_NE(message(R"({"event":"e"})").find("functionId is required"), std::string::npos);
  EXPECT_NE(message(R"({"event":"bad event","functionId":"f"})").find("event"), std::string::npos);
  EXPECT_NE(message(R"({"event":"http","functionId":"f","path":"/x"})").find("method is required"), std::string::npos);
  EXPECT_NE(message(R"({"event":"http","functionId":"f","method":"BREW"})").find("not supported"), std::string::npos);
  EXPECT_NE(message(R"({"event":"e","functionId":"f","method":"GET"})").find("only allowed for http"), std::string::npos);
  EXPECT_NE(message(R"({"event":"e","functionId":"f","cors":{}})").find("cors is only allowed"), std::string::npos);
  EXPECT_NE(message(R"({"event":"http","functionId":"f","method":"GET","cors":{"origins":"*"}})").find("cors.origins"), std::string::npos);
  EXPECT_NE(message(R"({"event":"http","functionId":"f","method":"GET","cors":{"allowCredentials":"yes"}})").find("allowCredentials"), std::string::npos);
  EXPECT_NE(message(R"({"event":"e","functionId":"f","path":"nope"})").find("path"), std::string::npos);
  EXPECT_NE(message(R"({"event":"e","functionId":"f","path":7})").find("path must be a string"), std::string::npos);
}

TEST(SubscriptionValidation, AnHttpSubscriptionMayRequireAnApiKey) {
  const auto keyed = parse_subscription(
      "default", json(R"({"event":"http","functionId":"f","method":"GET","requireApiKey":true})"));
  EXPECT_TRUE(keyed.require_api_key);
  EXPECT_EQ(keyed.to_json().at("requireApiKey"), true);
  EXPECT_TRUE(model::Subscription::from_stored_text(boost::json::serialize(keyed.to_json())).require_api_key);
  const auto open =
      parse_subscription("default", json(R"({"event":"http","functionId":"f","method":"GET"})"));
  EXPECT_FALSE(open.require_api_key);
  EXPECT_FALSE(open.to_json().contains("requireApiKey"));
  const auto message = [](std::string_view body) {
    return invalid_message([&] { parse_subscription("default", json(body)); });
  };
  EXPECT_NE(message(R"({"event":"http","functionId":"f","method":"GET","requireApiKey":"yes"})")
                .find("requireApiKey must be a boolean"),
            std::string::npos);
  EXPECT_NE(message(R"({"event":"e","functionId":"f","requireApiKey":true})")
                .find("requireApiKey is only allowed for http subscriptions"),
            std::string::npos);
}

TEST(SubscriptionValidation, DeliveryPolicyIsKeptAsGiven) {
  const auto subscription = parse_subscription(
      "default", json(R"({"event":"user.created","functionId":"f","delivery":{"maxAttempts":3,"initialBackoffMs":10,
                          "deadLetterFunctionId":"dlq"}})"));
  ASSERT_TRUE(subscription.delivery);
  EXPECT_EQ(subscription.delivery->max_attempts, 3U);
  EXPECT_EQ(subscription.delivery->initial_backoff_ms, 10U);
  EXPECT_FALSE(subscription.delivery->max_backoff_ms);
  EXPECT_EQ(subscription.delivery->dead_letter_function_id, "dlq");
  EXPECT_EQ(boost::json::serialize(subscription.to_json().at("delivery")),
            R"({"maxAttempts":3,"initialBackoffMs":10,"deadLetterFunctionId":"dlq"})");
  const auto system = parse_subscription(
      "default", json(R"({"event":"gateway.function.invoked","functionId":"f","delivery":{"maxAttempts":1}})"));
  EXPECT_EQ(system.delivery->max_attempts, 1U);
}

TEST(SubscriptionValidation, ExplainsWhatIsWrongWithADeliveryPolicy) {
  const auto message = [](std::string_view delivery, std::string_view event = "e") {
    const auto body = R"({"event":")" + std::string(event) + R"(","functionId":"f","method":"GET","delivery":)" +
                      std::string(delivery) + "}";
    return invalid_message([&] { parse_subscription("default", json(body)); });
  };
  EXPECT_NE(message("[]").find("delivery must be an object"), std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":0})").find("delivery.maxAttempts must be an integer from 1"), std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":-2})").find("delivery.maxAttempts"), std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":2.5})").find("delivery.maxAttempts"), std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":"3"})").find("delivery.maxAttempts"), std::string::npos);
  EXPECT_NE(message(R"({"initialBackoffMs":0})").find("delivery.initialBackoffMs"), std::string::npos);
  EXPECT_NE(message(R"({"initialBackoffMs":100,"maxBackoffMs":10})").find("at least delivery.initialBackoffMs"),
            std::string::npos);
  EXPECT_NE(message(R"({"maxAgeSeconds":99999999999})").find("delivery.maxAgeSeconds"), std::string::npos);
  EXPECT_NE(message(R"({"retries":3})").find("delivery.retries is not a delivery setting"), std::string::npos);
  EXPECT_NE(message(R"({"deadLetterFunctionId":"bad id"})").find("delivery.deadLetterFunctionId"), std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":3})", "http").find("delivery is only allowed for asynchronous"),
            std::string::npos);
  EXPECT_NE(message(R"({"maxAttempts":3})", "invoke").find("delivery is only allowed for asynchronous"),
            std::string::npos);
}

TEST(SpaceValidation, RejectsInvalidNames) {
  EXPECT_NO_THROW(validate_space("team-a.prod"));
  EXPECT_NE(invalid_message([] { validate_space("bad space"); }).find("space"), std::string::npos);
}

}  // namespace
}  // namespace eg::config
