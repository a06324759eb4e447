// Black-box tests of at-least-once delivery (docs/delivery.md): retries with the headers a function
// deduplicates by, dead letters through the Configuration API, the spool that survives kill -9 and
// SIGTERM, the spool's limit, and the dead-letter function. Each test starts its own gateway (the
// real binary, dev mode) and talks HTTP to it, with real functions on 127.0.0.1 (UpstreamServer).

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::custom_subscription;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::HttpResponse;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::RecordedRequest;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

UpstreamResponse status(int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
  UpstreamResponse response;
  response.status = code;
  response.headers.insert(response.headers.end(), headers.begin(), headers.end());
  return response;
}

// A custom event subscription with a delivery policy.
bj::object subscription_with(const std::string& event, const std::string& function, bj::object delivery) {
  auto subscription = custom_subscription(event, function, "/app");
  subscription["delivery"] = std::move(delivery);
  return subscription;
}

std::string event_id_of(const RecordedRequest& request) {
  const auto json = request.json();
  return json.is_object() ? std::string(json.as_object().at("id").as_string()) : std::string();
}

// The dead letters of `space`, polled until there are `count` (or 10 s passed).
bj::array wait_for_dead_letters(const GatewayClient& gateway, const std::string& space, std::size_t count) {
  bj::array letters;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    const auto listed = gateway.config().get("/v1/spaces/" + space + "/deadletters");
    if (listed.status == 200) letters = listed.json().as_object().at("deadLetters").as_array();
    if (letters.size() >= count) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return letters;
}

class Delivery : public ::testing::Test {
 protected:
  // A gateway with its own data directory (and so its own spool).
  ::testing::AssertionResult start(std::vector<std::string> flags = {}) {
    gateway_process_ = std::make_unique<GatewayProcess>(GatewayOptions{.extra_args = std::move(flags)});
    gateway_ = std::make_unique<GatewayClient>(*gateway_process_);
    return gateway_process_->start();
  }
  ::testing::AssertionResult configure(const bj::object& subscription, const std::string& path = "/f") {
    if (auto added = gateway_->add_function("default", "f", function_.url(path)); !added) return added;
    if (auto subscribed = gateway_->subscribe("default", subscription); !subscribed) return subscribed;
    return gateway_->sync();
  }
  HttpResponse emit(const std::string& body = R"({"n":1})") const {
    return gateway_->emit("/app", "user.created", body);
  }

  UpstreamServer function_;
  std::unique_ptr<GatewayProcess> gateway_process_;
  std::unique_ptr<GatewayClient> gateway_;
};

TEST_F(Delivery, AFunctionThatFailsTwiceGetsTheSameEventThreeTimesWithItsAttemptNumber) {
  ASSERT_TRUE(start());
  function_.respond_in_turn("/f", {status(503), status(503), status(200)});
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 20}, {"maxBackoffMs", 50}})));
  ASSERT_EQ(emit().status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 3));
  std::this_thread::sleep_for(200ms);  // time for a fourth attempt, which must not come
  const auto requests = function_.requests("/f");
  ASSERT_EQ(requests.size(), 3U);
  const auto id = event_id_of(requests[0]);
  ASSERT_EQ(id.size(), 36U);
  for (std::size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(event_id_of(requests[i]), id);
    EXPECT_EQ(requests[i].header("Event-ID"), id);
    EXPECT_EQ(requests[i].header("Delivery-Attempt"), std::to_string(i + 1));
  }
  EXPECT_TRUE(wait_for_dead_letters(*gateway_, "default", 0).empty());
}

TEST_F(Delivery, APermanentFailureIsAttemptedOnceAndBecomesADeadLetter) {
  ASSERT_TRUE(start());
  function_.respond_in_turn("/f", {status(400)});
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 10}})));
  ASSERT_EQ(emit(R"({"n":42})").status, 202);
  const auto letters = wait_for_dead_letters(*gateway_, "default", 1);
  ASSERT_EQ(letters.size(), 1U);
  const auto& letter = letters[0].as_object();
  const auto requests = function_.requests("/f");
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(letter.at("subscriptionId").as_string(), "user.created,f,%2Fapp");
  EXPECT_EQ(letter.at("functionId").as_string(), "f");
  EXPECT_EQ(letter.at("attempts").as_int64(), 1);
  EXPECT_EQ(letter.at("event").at("id").as_string(), event_id_of(requests[0]));
  EXPECT_EQ(letter.at("event").at("data").at("n").as_int64(), 42);
  EXPECT_NE(std::string(letter.at("lastError").as_string()).find("400"), std::string::npos) << bj::serialize(letter);
  EXPECT_GT(letter.at("lastAttemptAt").as_int64(), 0);
  const auto id = std::string(letter.at("deadLetterId").as_string());
  EXPECT_TRUE(IsJson(gateway_->config().get("/v1/spaces/default/deadletters/" + id), 200));
  EXPECT_EQ(gateway_->config().get("/v1/spaces/other/deadletters").json().at("deadLetters").as_array().size(), 0U)
      << "another space sees none of them";
}

TEST_F(Delivery, RetryAfterIsWaitedFor) {
  ASSERT_TRUE(start());
  function_.respond_in_turn("/f", {status(429, {{"Retry-After", "1"}}), status(200)});
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 1}, {"maxBackoffMs", 5000}})));
  ASSERT_EQ(emit().status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 2));
  const auto requests = function_.requests("/f");
  EXPECT_GE(requests[1].arrived - requests[0].arrived, 1s);
}

TEST_F(Delivery, ARedeliveredDeadLetterReachesTheFunctionOnceItWorks) {
  ASSERT_TRUE(start());
  function_.respond_in_turn("/f", {status(410)});
  ASSERT_TRUE(configure(custom_subscription("user.created", "f", "/app")));
  ASSERT_EQ(emit().status, 202);
  const auto letters = wait_for_dead_letters(*gateway_, "default", 1);
  ASSERT_EQ(letters.size(), 1U);
  const auto id = std::string(letters[0].at("deadLetterId").as_string());
  function_.respond_in_turn("/f", {status(200)});
  const auto path = "/v1/spaces/default/deadletters/" + id;
  const auto redelivered = gateway_->config().send("POST", path + "/redeliver", "");
  EXPECT_EQ(redelivered.status, 202) << redelivered.describe();
  ASSERT_TRUE(function_.wait_for_requests("/f", 2));
  const auto requests = function_.requests("/f");
  EXPECT_EQ(event_id_of(requests[1]), event_id_of(requests[0]));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (gateway_->config().get(path).status != 404 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(gateway_->config().get(path).status, 404) << "a delivered letter leaves the dead letters";
}

TEST_F(Delivery, TheDeadLetterFunctionGetsTheRecord) {
  ASSERT_TRUE(start());
  UpstreamServer dead_letter_function;
  function_.respond_in_turn("/f", {status(500)});
  ASSERT_TRUE(gateway_->add_function("default", "dlq", dead_letter_function.url("/dlq")));
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"maxAttempts", 2}, {"initialBackoffMs", 10},
                                                                {"deadLetterFunctionId", "dlq"}})));
  ASSERT_EQ(emit(R"({"n":7})").status, 202);
  ASSERT_TRUE(dead_letter_function.wait_for_requests("/dlq", 1));
  const auto record = dead_letter_function.requests("/dlq")[0].json();
  EXPECT_EQ(record.at("functionId").as_string(), "f");
  EXPECT_EQ(record.at("attempts").as_int64(), 2);
  EXPECT_EQ(record.at("event").at("data").at("n").as_int64(), 7);
  EXPECT_EQ(function_.count("/f"), 2U);
  EXPECT_EQ(wait_for_dead_letters(*gateway_, "default", 1).size(), 1U);
}

TEST_F(Delivery, EveryAcceptedEventArrivesAfterAKillNineAndARestart) {
  ASSERT_TRUE(start({"-function-timeout", "60000"}));
  UpstreamResponse hang;
  hang.hang = true;
  function_.respond("/f", hang);
  ASSERT_TRUE(configure(custom_subscription("user.created", "f", "/app")));
  constexpr int kEvents = 300;
  for (int n = 0; n < kEvents; ++n) ASSERT_EQ(emit(R"({"n":)" + std::to_string(n) + "}").status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 1));
  gateway_process_->kill_now();
  function_.respond("/f", status(200));
  function_.clear();
  ASSERT_TRUE(gateway_process_->start());
  std::set<std::int64_t> received;
  ASSERT_TRUE(function_.wait_until(
      [&](const std::vector<RecordedRequest>& requests) {
        for (const auto& request : requests) {
          if (request.path == "/f") received.insert(request.json().at("data").at("n").as_int64());
        }
        return received.size() == kEvents;
      },
      "every accepted event delivered after the restart", 30s));
}

TEST_F(Delivery, ThePowerLossSafeSpoolAcceptsDeliversAndKeepsEventsAcrossAKillNine) {
  ASSERT_TRUE(start({"-spool-fsync"}));
  UpstreamResponse hang;
  hang.hang = true;
  function_.respond("/f", hang);
  ASSERT_TRUE(configure(custom_subscription("user.created", "f", "/app")));
  // Concurrent emitters share fsyncs (group commit); each 202 comes once its event is on disk.
  std::vector<std::thread> emitters;
  std::atomic<int> accepted{0};
  for (int t = 0; t < 4; ++t) {
    emitters.emplace_back([&, t] {
      for (int n = 0; n < 10; ++n) {
        if (emit(R"({"n":)" + std::to_string(t * 10 + n) + "}").status == 202) ++accepted;
      }
    });
  }
  for (auto& emitter : emitters) emitter.join();
  ASSERT_EQ(accepted.load(), 40);
  gateway_process_->kill_now();
  function_.clear();
  function_.respond("/f", status(200));
  ASSERT_TRUE(gateway_process_->start());
  std::set<std::int64_t> received;
  ASSERT_TRUE(function_.wait_until(
      [&](const std::vector<RecordedRequest>& requests) {
        for (const auto& request : requests) received.insert(request.json().at("data").at("n").as_int64());
        return received.size() == 40;
      },
      "every accepted event delivered after the restart"));
}

TEST_F(Delivery, AFullSpoolRefusesWith429AndLosesNothing) {
  ASSERT_TRUE(start({"-spool-max-bytes", "131072", "-function-timeout", "300"}));
  UpstreamResponse hang;
  hang.hang = true;
  function_.respond("/f", hang);
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 50}, {"maxBackoffMs", 100}})));
  const std::string padding(1000, 'x');
  int accepted = 0;
  HttpResponse refused;
  for (int n = 0; n < 2000 && refused.status == 0; ++n) {
    const auto answer = emit(R"({"n":)" + std::to_string(n) + R"(,"padding":")" + padding + R"("})");
    if (answer.status == 202) {
      ++accepted;
    } else {
      refused = answer;
    }
  }
  ASSERT_EQ(refused.status, 429) << refused.describe();
  EXPECT_TRUE(IsJsonError(refused, 429));
  ASSERT_GT(accepted, 10);
  // Cleared first: an attempt that arrives in between hangs, times out and comes again.
  function_.clear();
  function_.respond("/f", status(200));
  std::set<std::int64_t> received;
  ASSERT_TRUE(function_.wait_until(
      [&](const std::vector<RecordedRequest>& requests) {
        for (const auto& request : requests) received.insert(request.json().at("data").at("n").as_int64());
        return received.size() >= static_cast<std::size_t>(accepted);
      },
      "every accepted event delivered", 30s));
  for (int n = 0; n < accepted; ++n) EXPECT_EQ(received.count(n), 1U) << "event " << n;
  // The function has the events before the gateway has its answers and frees their room: a refused
  // emit changes nothing, so ask again for a while.
  int status = 0;
  for (const auto deadline = std::chrono::steady_clock::now() + 10s;
       status != 202 && std::chrono::steady_clock::now() < deadline;) {
    status = emit().status;
    if (status != 202) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 202) << "room again once delivered";
}

TEST_F(Delivery, SigtermDuringABackoffExitsAndTheRetryHappensAfterTheRestart) {
  ASSERT_TRUE(start());
  function_.respond_in_turn("/f", {status(503, {{"Retry-After", "2"}}), status(200)});
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 1}, {"maxBackoffMs", 10000}})));
  ASSERT_EQ(emit().status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 1));
  ASSERT_TRUE(gateway_process_->stop());
  EXPECT_EQ(gateway_process_->exit_code(), 0);
  EXPECT_EQ(function_.count("/f"), 1U) << "the retry waits for its time, not for the shutdown";
  ASSERT_TRUE(gateway_process_->start());
  ASSERT_TRUE(function_.wait_for_requests("/f", 2));
  const auto requests = function_.requests("/f");
  EXPECT_EQ(requests[1].header("Delivery-Attempt"), "2");
  EXPECT_EQ(event_id_of(requests[1]), event_id_of(requests[0]));
  EXPECT_GE(requests[1].arrived - requests[0].arrived, 2s) << "the Retry-After outlives the restart";
}

TEST_F(Delivery, AnAttemptStillRunningAtTheShutdownTimeoutIsMadeAgainAfterTheRestart) {
  ASSERT_TRUE(start({"-shutdown-timeout", "300", "-function-timeout", "60000"}));
  UpstreamResponse hang;
  hang.hang = true;
  function_.respond("/f", hang);
  ASSERT_TRUE(configure(custom_subscription("user.created", "f", "/app")));
  ASSERT_EQ(emit().status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 1));
  ASSERT_TRUE(gateway_process_->stop()) << "the hanging attempt must not keep the gateway from exiting";
  EXPECT_EQ(gateway_process_->exit_code(), 0);
  function_.respond("/f", status(200));
  ASSERT_TRUE(gateway_process_->start());
  ASSERT_TRUE(function_.wait_for_requests("/f", 2));
  const auto requests = function_.requests("/f");
  EXPECT_EQ(event_id_of(requests[1]), event_id_of(requests[0]));
}

TEST_F(Delivery, SystemEventDeliveriesAreRetriedAndFailuresSayWhetherTheyWillBeRetried) {
  ASSERT_TRUE(start());
  UpstreamServer observer;
  observer.respond_in_turn("/observer", {status(503), status(200)});
  function_.respond_in_turn("/f", {status(500), status(200)});
  ASSERT_TRUE(gateway_->add_function("default", "observer", observer.url("/observer")));
  ASSERT_TRUE(gateway_->subscribe(
      "default", subscription_with("gateway.function.invocationFailed", "observer", {{"initialBackoffMs", 10}})));
  ASSERT_TRUE(configure(subscription_with("user.created", "f", {{"initialBackoffMs", 10}})));
  ASSERT_EQ(emit().status, 202);
  ASSERT_TRUE(function_.wait_for_requests("/f", 2));
  ASSERT_TRUE(observer.wait_for_requests("/observer", 2));
  const auto requests = observer.requests("/observer");
  EXPECT_EQ(requests[1].header("Delivery-Attempt"), "2");
  const auto failure = requests[1].json().at("data").as_object();
  EXPECT_EQ(failure.at("attempt").as_int64(), 1);
  EXPECT_TRUE(failure.at("willRetry").as_bool());
}

TEST_F(Delivery, AHangingFunctionDoesNotHoldUpAnotherSpacesDeliveries) {
  // Four workers in all: the hanging function may take at most its share per thread.
  ASSERT_TRUE(start({"-workers", "4", "-delivery-max-per-function", "1", "-function-timeout", "60000"}));
  UpstreamResponse hang;
  hang.hang = true;
  function_.respond("/hanging", hang);
  ASSERT_TRUE(gateway_->add_function("slow", "hanging", function_.url("/hanging")));
  ASSERT_TRUE(gateway_->subscribe("slow", custom_subscription("user.created", "hanging", "/app")));
  ASSERT_TRUE(configure(custom_subscription("user.created", "f", "/app"), "/healthy"));
  for (int n = 0; n < 10; ++n) {
    ASSERT_EQ(gateway_->emit("/app", "user.created", "{}", "application/json", {{"Space", "slow"}}).status, 202);
  }
  ASSERT_TRUE(function_.wait_for_requests("/hanging", 1));
  ASSERT_EQ(emit().status, 202);
  // Far sooner than the hanging calls' 60 s timeout: the healthy function's lane has its own turn.
  EXPECT_TRUE(function_.wait_for_requests("/healthy", 1, 5s));
  EXPECT_LE(function_.count("/hanging"), 2U) << "one attempt at a time per function and thread";
}

TEST_F(Delivery, ThePolicyIsValidatedAndReturned) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(gateway_->add_function("default", "f", function_.url("/f")));
  const auto api = gateway_->config();
  auto http = blackbox::http_subscription("f", "GET", "/x");
  http["delivery"] = bj::object{{"maxAttempts", 3}};
  EXPECT_TRUE(IsJsonError(api.create_subscription("default", http), 400));
  EXPECT_TRUE(IsJsonError(
      api.create_subscription("default", subscription_with("e", "f", {{"deadLetterFunctionId", "missing"}})), 400));
  EXPECT_TRUE(IsJsonError(api.create_subscription("default", subscription_with("e", "f", {{"maxAttempts", -1}})), 400));
  EXPECT_TRUE(api.list_subscriptions("default").empty()) << "a refused subscription changes nothing";
  ASSERT_TRUE(gateway_->add_function("default", "dlq", function_.url("/dlq")));
  const auto created = api.create_subscription(
      "default", subscription_with("e", "f", {{"maxAttempts", 3}, {"deadLetterFunctionId", "dlq"}}));
  ASSERT_TRUE(IsJson(created, 201));
  const auto listed = api.list_subscriptions("default");
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(bj::serialize(listed[0].at("delivery")), R"({"maxAttempts":3,"deadLetterFunctionId":"dlq"})");
  EXPECT_TRUE(IsJsonError(api.del("/v1/spaces/default/functions/dlq"), 400))
      << "a dead-letter function in use cannot be deleted";
}

}  // namespace
