// The Configuration API's dead-letter endpoints, in process: ConfigApi over a real embedded store and
// real local dead letters, in a temporary directory, with a fake of the delivery scheduler's
// redelivery. (Nothing makes dead letters in the gateway yet; tests/blackbox/config_api_test.cpp
// checks what the endpoints do without any, through the real binary.)

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "common/temporary_directory.h"
#include "config/config_api.h"
#include "config/config_service.h"
#include "delivery/local_dead_letters.h"
#include "store/sqlite_store.h"

namespace eg::config {
namespace {

namespace http = net::http;
using testsupport::TemporaryDirectory;

delivery::DeadLetter letter(const std::string& id, const std::string& space = "s") {
  return delivery::DeadLetter{.id = id,
                              .space = space,
                              .subscription_id = "user.created,f,%2F",
                              .function_id = "f",
                              .event = R"({"eventType":"user.created","data":{"n":1}})",
                              .attempts = 12,
                              .first_attempt_ms = 1'700'000'000'000,
                              .last_attempt_ms = 1'700'086'400'000,
                              .last_error = "HTTP 400 from the function"};
}

class DeadLettersApiTest : public ::testing::Test {
 protected:
  DeadLettersApiTest()
      : store_(temp_.path() / "store"),
        service_(store_),
        letters_(temp_.path() / "spool"),
        api_(
            service_, [] { return boost::json::object{}; }, letters_,
            // As the scheduler does (config_api.h, Redeliver): an accepted letter is marked.
            [this](const delivery::DeadLetter& l) {
              redelivered_.push_back(l);
              if (outcome_.kind == RedeliveryOutcome::Kind::Accepted) letters_.mark_redelivering(l.space, l.id);
              return outcome_;
            }) {}

  net::Response call(http::verb method, const std::string& target) {
    net::Request request{method, target, 11};
    request.prepare_payload();
    return api_.handle(request);
  }
  net::Response get(const std::string& target) { return call(http::verb::get, target); }

  static boost::json::value body_of(const net::Response& response) {
    return boost::json::parse(response.body());
  }
  // The message of a JSON error response, or a description of why it is not one.
  static std::string error_of(const net::Response& response) {
    const auto body = body_of(response);
    const auto* errors = body.is_object() ? body.as_object().if_contains("errors") : nullptr;
    if (errors == nullptr || !errors->is_array() || errors->as_array().size() != 1)
      return "not an error: " + response.body();
    return std::string(errors->as_array()[0].at("message").as_string());
  }
  static std::vector<std::string> ids_of(const boost::json::value& body) {
    std::vector<std::string> ids;
    for (const auto& l : body.at("deadLetters").as_array())
      ids.emplace_back(l.at("deadLetterId").as_string());
    return ids;
  }

  static constexpr const char* kList = "/v1/spaces/s/deadletters";

  TemporaryDirectory temp_;
  store::SqliteStore store_;
  ConfigService service_;
  delivery::LocalDeadLetters letters_;
  std::vector<delivery::DeadLetter> redelivered_;
  RedeliveryOutcome outcome_ = RedeliveryOutcome::accepted();
  ConfigApi api_;
};

TEST_F(DeadLettersApiTest, AnEmptyListIsAnEmptyArray) {
  const auto response = get(kList);
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(body_of(response), boost::json::parse(R"({"deadLetters":[]})"));
}

TEST_F(DeadLettersApiTest, ListShowsEveryFieldNewestFirst) {
  letters_.put(letter("a"));
  letters_.put(letter("b"));
  letters_.put(letter("elsewhere", "other"));
  const auto response = get(kList);
  ASSERT_EQ(response.result(), http::status::ok) << response.body();
  const auto body = body_of(response);
  EXPECT_EQ(ids_of(body), (std::vector<std::string>{"b", "a"}));
  EXPECT_FALSE(body.as_object().contains("next"));
  EXPECT_EQ(body.at("deadLetters").at(1), boost::json::parse(R"({
      "deadLetterId": "a", "space": "s", "subscriptionId": "user.created,f,%2F", "functionId": "f",
      "event": {"eventType": "user.created", "data": {"n": 1}}, "attempts": 12,
      "firstAttemptAt": 1700000000000, "lastAttemptAt": 1700086400000,
      "lastError": "HTTP 400 from the function", "redelivering": false})"));
}

TEST_F(DeadLettersApiTest, PagesFollowTheirNextCursorToTheEnd) {
  for (int i = 0; i < 7; ++i) letters_.put(letter("l" + std::to_string(i)));
  std::vector<std::string> seen;
  std::string target = std::string(kList) + "?limit=3";
  std::vector<std::size_t> sizes;
  for (int pages = 0; pages < 10; ++pages) {
    const auto response = get(target);
    ASSERT_EQ(response.result(), http::status::ok) << response.body();
    const auto body = body_of(response);
    const auto ids = ids_of(body);
    sizes.push_back(ids.size());
    seen.insert(seen.end(), ids.begin(), ids.end());
    const auto* next = body.as_object().if_contains("next");
    if (next == nullptr) break;
    target = std::string(kList) + "?cursor=" + std::string(next->as_string()) + "&limit=3";
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{3, 3, 1}));
  EXPECT_EQ(seen, (std::vector<std::string>{"l6", "l5", "l4", "l3", "l2", "l1", "l0"}));
}

TEST_F(DeadLettersApiTest, ThePageHolds100LettersByDefaultAnd1000AtMost) {
  for (int i = 0; i < 101; ++i) letters_.put(letter("l" + std::to_string(i)));
  auto body = body_of(get(kList));
  EXPECT_EQ(body.at("deadLetters").as_array().size(), 100U);
  EXPECT_TRUE(body.as_object().contains("next"));
  body = body_of(get(std::string(kList) + "?limit=1000"));
  EXPECT_EQ(body.at("deadLetters").as_array().size(), 101U);
  EXPECT_FALSE(body.as_object().contains("next"));
  body = body_of(get(std::string(kList) + "?limit=1&unknown=x"));  // other parameters are ignored
  EXPECT_EQ(ids_of(body), std::vector<std::string>{"l100"});
}

TEST_F(DeadLettersApiTest, ABadLimitOrCursorIs400) {
  letters_.put(letter("a"));
  letters_.put(letter("b"));
  letters_.put(letter("x", "other"));
  const auto other_cursor = body_of(get("/v1/spaces/other/deadletters?limit=1"));  // no next: one letter
  EXPECT_FALSE(other_cursor.as_object().contains("next"));
  letters_.put(letter("y", "other"));
  const std::string foreign(body_of(get("/v1/spaces/other/deadletters?limit=1")).at("next").as_string());
  for (const std::string& query : std::vector<std::string>{
           "limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=", "limit=1.5", "limit=%201",
           "limit=1&limit=2", "limit=99999999999999999999999", "cursor=", "cursor=nope", "cursor=" + foreign,
           "cursor=" + foreign + "&cursor=" + foreign}) {
    SCOPED_TRACE(query);
    const auto response = get(std::string(kList) + "?" + query);
    EXPECT_EQ(response.result(), http::status::bad_request) << response.body();
    EXPECT_FALSE(error_of(response).starts_with("not an error")) << response.body();
  }
  EXPECT_NE(error_of(get(std::string(kList) + "?limit=0")).find("from 1 to 1000"), std::string::npos);
  EXPECT_NE(error_of(get(std::string(kList) + "?cursor=nope")).find("cursor"), std::string::npos);
}

TEST_F(DeadLettersApiTest, GetShowsOneLetterOr404) {
  letters_.put(letter("a"));
  letters_.put(letter("b", "other"));
  const auto found = get(std::string(kList) + "/a");
  ASSERT_EQ(found.result(), http::status::ok) << found.body();
  EXPECT_EQ(body_of(found), boost::json::value(letter("a").to_json()));
  EXPECT_EQ(body_of(get(std::string(kList) + "/%61")).at("deadLetterId"), "a");  // percent-decoded
  for (const char* missing : {"/nope", "/b"}) {
    SCOPED_TRACE(missing);
    const auto response = get(std::string(kList) + missing);
    EXPECT_EQ(response.result(), http::status::not_found);
    EXPECT_NE(error_of(response).find("not found in space \"s\""), std::string::npos) << response.body();
  }
}

TEST_F(DeadLettersApiTest, DeleteIs204ThenTheLetterIsGone) {
  letters_.put(letter("a"));
  const auto deleted = call(http::verb::delete_, std::string(kList) + "/a");
  EXPECT_EQ(deleted.result(), http::status::no_content);
  EXPECT_TRUE(deleted.body().empty());
  EXPECT_EQ(get(std::string(kList) + "/a").result(), http::status::not_found);
  EXPECT_EQ(body_of(get(kList)), boost::json::parse(R"({"deadLetters":[]})"));
  const auto again = call(http::verb::delete_, std::string(kList) + "/a");
  EXPECT_EQ(again.result(), http::status::not_found);
  EXPECT_FALSE(error_of(again).starts_with("not an error"));
}

TEST_F(DeadLettersApiTest, AnAcceptedRedeliveryIs202AndMarksTheLetter) {
  letters_.put(letter("a"));
  letters_.put(letter("b"));
  const auto response = call(http::verb::post, std::string(kList) + "/a/redeliver");
  ASSERT_EQ(response.result(), http::status::accepted) << response.body();
  auto expected = letter("a");
  ASSERT_EQ(redelivered_.size(), 1U);
  EXPECT_EQ(redelivered_[0].to_json(), expected.to_json()) << "the scheduler gets the letter as stored";
  expected.redelivering = true;
  EXPECT_EQ(body_of(response), boost::json::value(expected.to_json()));
  EXPECT_EQ(body_of(get(std::string(kList) + "/a")).at("redelivering"), true);
  // It stays in its place, and a second POST asks the scheduler again.
  EXPECT_EQ(ids_of(body_of(get(kList))), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(call(http::verb::post, std::string(kList) + "/a/redeliver").result(), http::status::accepted);
  EXPECT_EQ(redelivered_.size(), 2U);
}

TEST_F(DeadLettersApiTest, ARefusedRedeliveryAnswersTheSchedulersStatusAndLeavesTheLetter) {
  letters_.put(letter("a"));
  for (const auto& refusal :
       {RedeliveryOutcome::refused(http::status::conflict,
                                   "the subscription user.created,f,%2F no longer exists"),
        RedeliveryOutcome::refused(http::status::service_unavailable, "redelivery is not available yet")}) {
    SCOPED_TRACE(refusal.message);
    outcome_ = refusal;
    const auto response = call(http::verb::post, std::string(kList) + "/a/redeliver");
    EXPECT_EQ(response.result(), refusal.status);
    EXPECT_EQ(error_of(response), refusal.message);
    EXPECT_EQ(body_of(get(std::string(kList) + "/a")).at("redelivering"), false);
  }
}

TEST_F(DeadLettersApiTest, RedeliveryOfAMissingLetterIs404AndAsksNobody) {
  letters_.put(letter("a", "other"));
  const auto response = call(http::verb::post, std::string(kList) + "/a/redeliver");
  EXPECT_EQ(response.result(), http::status::not_found);
  EXPECT_FALSE(error_of(response).starts_with("not an error"));
  EXPECT_TRUE(redelivered_.empty());
}

TEST_F(DeadLettersApiTest, OtherMethodsAre405WithAllow) {
  letters_.put(letter("a"));
  const std::vector<std::tuple<http::verb, std::string, std::string>> cases = {
      {http::verb::post, kList, "GET"},
      {http::verb::delete_, kList, "GET"},
      {http::verb::put, std::string(kList) + "/a", "GET, DELETE"},
      {http::verb::post, std::string(kList) + "/a", "GET, DELETE"},
      {http::verb::patch, std::string(kList) + "/a", "GET, DELETE"},
      {http::verb::get, std::string(kList) + "/a/redeliver", "POST"},
      {http::verb::delete_, std::string(kList) + "/a/redeliver", "POST"},
  };
  for (const auto& [method, target, allow] : cases) {
    SCOPED_TRACE(std::string(http::to_string(method)) + " " + target);
    const auto response = call(method, target);
    EXPECT_EQ(response.result(), http::status::method_not_allowed);
    EXPECT_EQ(response[http::field::allow], allow);
    EXPECT_FALSE(error_of(response).starts_with("not an error"));
  }
  EXPECT_TRUE(letters_.get("s", "a")) << "nothing was deleted";
  EXPECT_TRUE(redelivered_.empty());
}

TEST_F(DeadLettersApiTest, UnknownRoutesBelowDeadLettersAre404) {
  letters_.put(letter("a"));
  for (const char* path :
       {"/deadletters/", "/deadletters/a/b", "/deadletters/a/redeliver/x", "/deadletters//redeliver"}) {
    SCOPED_TRACE(path);
    const auto response = call(http::verb::post, std::string("/v1/spaces/s") + path);
    EXPECT_EQ(response.result(), http::status::not_found) << response.body();
  }
  EXPECT_TRUE(redelivered_.empty());
}

TEST_F(DeadLettersApiTest, AnInvalidSpaceIs400) {
  for (const char* space : {"bad%20space", "b%C3%A4d"}) {
    SCOPED_TRACE(space);
    EXPECT_EQ(get(std::string("/v1/spaces/") + space + "/deadletters").result(), http::status::bad_request);
    EXPECT_EQ(get(std::string("/v1/spaces/") + space + "/deadletters/a").result(), http::status::bad_request);
  }
}

}  // namespace
}  // namespace eg::config
