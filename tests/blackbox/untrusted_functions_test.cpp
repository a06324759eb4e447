// Black-box tests of what the gateway does not take on trust: a function's answer (headers, status
// codes), the spaces a system event or a custom event may reach, loops through the gateway itself,
// and what a failed call tells its caller. Each test is named after what a user sees.
//
// The real binary on free ports, real functions (UpstreamServer); raw sockets where what matters is
// the bytes on the wire.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/shared_gateway.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::custom_subscription;
using blackbox::error_message;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::Headers;
using blackbox::http_subscription;
using blackbox::HttpResponse;
using blackbox::IsJsonError;
using blackbox::to_json;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

// An answer to an http event, written as the function's JSON.
UpstreamResponse answer(const bj::object& object) {
  UpstreamResponse response;
  response.body = to_json(object);
  return response;
}

// The request id a failed call's message names, or "" when it names none.
std::string request_id_in(const std::string& message) {
  static const std::regex id(
      R"(request id ([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}))");
  std::smatch match;
  return std::regex_search(message, match, id) ? match[1].str() : std::string();
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++count;
  return count;
}

// The events named `name` among `requests` to `path`.
std::vector<bj::value> received_events(const std::vector<blackbox::RecordedRequest>& requests,
                                       const std::string& path, std::string_view name) {
  std::vector<bj::value> events;
  for (const auto& request : requests) {
    if (request.path != path) continue;
    boost::system::error_code error;
    auto event = bj::parse(request.body, error);
    const auto* event_name = !error && event.is_object() ? event.as_object().if_contains("event") : nullptr;
    if (event_name != nullptr && event_name->is_string() && event_name->as_string() == name) {
      events.push_back(std::move(event));
    }
  }
  return events;
}

class UntrustedFunctionsTest : public blackbox::SharedGatewayTest<UntrustedFunctionsTest> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedGatewayTest::SetUp());
    gw_ = std::make_unique<GatewayClient>(gateway());
  }
  GatewayClient& gw() { return *gw_; }

  // An http endpoint GET <prefix>/<name> in this test's space, served by function <name>, which
  // answers `response`.
  void endpoint(const std::string& name, UpstreamResponse response) {
    ASSERT_TRUE(gw().add_function(space_, name, upstream_.url("/" + name)));
    ASSERT_TRUE(gw().subscribe(space_, http_subscription(name, "GET", prefix_ + "/" + name)));
    upstream_.respond("/" + name, std::move(response));
  }
  std::string raw_get(const std::string& name, const std::string& connection = "close") const {
    return "GET " + prefix_ + "/" + name + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: " + connection +
           "\r\n\r\n";
  }

  std::unique_ptr<GatewayClient> gw_;
  UpstreamServer upstream_;
};

// ---- a function's answer
// ------------------------------------------------------------------------------------

TEST_F(UntrustedFunctionsTest, AFunctionCannotInjectAHeader) {
  const std::vector<std::pair<std::string, bj::object>> hostile = {
      {"crlfvalue", {{"X-A", "b\r\nSet-Cookie: evil=1"}}},
      {"lfvalue", {{"X-A", "b\nSet-Cookie: evil=1"}}},
      {"crvalue", {{"X-A", "b\rSet-Cookie: evil=1"}}},
      {"nulvalue", {{"X-A", std::string("b\0Set-Cookie: evil=1", 20)}}},
      {"crlfname", {{"Set-Cookie: evil=1\r\nX-A", "b"}}},
      {"colonname", {{"Set-Cookie: evil", "1"}}},
      {"emptyname", {{"", "Set-Cookie: evil=1"}}},
      {"spacename", {{"Set-Cookie evil", "1"}}},
  };
  for (const auto& [name, headers] : hostile) endpoint(name, answer({{"headers", headers}, {"body", "x"}}));
  ASSERT_TRUE(gw().sync());
  for (const auto& [name, headers] : hostile) {
    SCOPED_TRACE(name);
    const auto raw = blackbox::send_raw(gateway().events_port(), raw_get(name));
    EXPECT_TRUE(raw.data.starts_with("HTTP/1.1 500 ")) << raw.data;
    EXPECT_EQ(raw.data.find("evil"), std::string::npos) << "the function's header reached the wire:\n"
                                                        << raw.data;
    const auto r = blackbox::request("GET", gw().events_url(prefix_ + "/" + name));
    EXPECT_TRUE(IsJsonError(r, 500));
    EXPECT_NE(error_message(r).find("invalid http response"), std::string::npos) << error_message(r);
  }
  EXPECT_NE(gateway().log().find("returned an invalid http response"), std::string::npos)
      << "the refusal is logged";
}

TEST_F(UntrustedFunctionsTest, AFunctionCannotDesynchronizeAKeepAliveClient) {
  // A forged end of the response and a second response after it: a client that took them would read
  // "forged" as the answer to its next request.
  const std::string forged =
      "x\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged";
  endpoint("evil", answer({{"headers", {{"X-A", forged}}}, {"body", ""}}));
  endpoint("good", answer({{"body", "the real answer"}}));
  ASSERT_TRUE(gw().sync());
  const auto raw =
      blackbox::send_raw(gateway().events_port(), raw_get("evil", "keep-alive") + raw_get("good"));
  EXPECT_EQ(occurrences(raw.data, "HTTP/1.1 "), 2U) << raw.data;
  EXPECT_TRUE(raw.data.starts_with("HTTP/1.1 500 ")) << raw.data;
  EXPECT_EQ(raw.data.find("forged"), std::string::npos) << raw.data;
  EXPECT_TRUE(raw.data.ends_with("the real answer")) << raw.data;
}

TEST_F(UntrustedFunctionsTest, FramingAndConnectionHeadersFromAFunctionAreIgnored) {
  endpoint("framed", answer({{"headers",
                              {{"Content-Length", "999"},
                               {"Transfer-Encoding", "chunked"},
                               {"Connection", "close"},
                               {"Keep-Alive", "timeout=1"},
                               {"Upgrade", "websocket"},
                               {"X-Kept", "yes"}}},
                             {"body", "exactly this"}}));
  ASSERT_TRUE(gw().sync());
  const auto r = blackbox::request("GET", gw().events_url(prefix_ + "/framed"));
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "exactly this");
  EXPECT_EQ(r.header("Content-Length"), "12");
  EXPECT_EQ(r.header("X-Kept"), "yes");
  for (const char* ignored : {"Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade"}) {
    EXPECT_FALSE(r.has_header(ignored)) << ignored << ": " << r.header(ignored);
  }
  // The connection stays usable: a second request on it is answered as well.
  const auto raw =
      blackbox::send_raw(gateway().events_port(), raw_get("framed", "keep-alive") + raw_get("framed"));
  EXPECT_EQ(occurrences(raw.data, "HTTP/1.1 200 "), 2U) << raw.data;
}

TEST_F(UntrustedFunctionsTest, StatusCodesOutside200To599AreRefused) {
  const std::vector<std::pair<std::string, int>> codes = {
      {"s100", 100}, {"s101", 101}, {"s103", 103}, {"s199", 199}, {"s99", 99}, {"s600", 600}, {"s0", 0}};
  for (const auto& [name, code] : codes) endpoint(name, answer({{"statusCode", code}, {"body", "x"}}));
  endpoint("s200float", answer({{"statusCode", 200.5}, {"body", "x"}}));
  ASSERT_TRUE(gw().sync());
  blackbox::RequestOptions quick;
  quick.timeout = 5s;  // an interim answer passed on would leave the client waiting
  for (const auto& [name, code] : codes) {
    SCOPED_TRACE(name);
    const auto r = blackbox::request("GET", gw().events_url(prefix_ + "/" + name), "", {}, quick);
    EXPECT_TRUE(IsJsonError(r, 500));
    EXPECT_NE(error_message(r).find("statusCode must be an integer from 200 to 599"), std::string::npos)
        << error_message(r);
  }
  EXPECT_TRUE(
      IsJsonError(blackbox::request("GET", gw().events_url(prefix_ + "/s200float"), "", {}, quick), 500));
}

TEST_F(UntrustedFunctionsTest, NoContentAndNotModifiedAnswersCarryNoBody) {
  endpoint("nocontent", answer({{"statusCode", 204}, {"headers", {{"X-Kept", "yes"}}}, {"body", "dropped"}}));
  endpoint("notmodified", answer({{"statusCode", 304}, {"body", "dropped"}}));
  endpoint("lowest", answer({{"statusCode", 200}, {"body", "ok"}}));
  endpoint("highest", answer({{"statusCode", 599}, {"body", "odd but valid"}}));
  ASSERT_TRUE(gw().sync());
  const auto no_content = blackbox::request("GET", gw().events_url(prefix_ + "/nocontent"));
  EXPECT_EQ(no_content.status, 204) << no_content.describe();
  EXPECT_EQ(no_content.body, "");
  EXPECT_EQ(no_content.header("X-Kept"), "yes");
  EXPECT_FALSE(no_content.has_header("Content-Length")) << "RFC 9110 forbids it on a 204";
  const auto not_modified = blackbox::request("GET", gw().events_url(prefix_ + "/notmodified"));
  EXPECT_EQ(not_modified.status, 304) << not_modified.describe();
  EXPECT_EQ(not_modified.body, "");
  // Nothing follows the empty answers on the wire: the next response on the connection is the next one.
  const auto raw =
      blackbox::send_raw(gateway().events_port(), raw_get("nocontent", "keep-alive") + raw_get("lowest"));
  EXPECT_TRUE(raw.data.starts_with("HTTP/1.1 204 ")) << raw.data;
  EXPECT_EQ(raw.data.find("dropped"), std::string::npos) << raw.data;
  EXPECT_TRUE(raw.data.ends_with("\r\n\r\nok")) << raw.data;
  EXPECT_EQ(blackbox::request("GET", gw().events_url(prefix_ + "/highest")).status, 599);
}

// ---- what a failed call tells its caller
// --------------------------------------------------------------------

TEST_F(UntrustedFunctionsTest, AFailedCallTellsTheCallerARequestIdAndNothingOfTheFunction) {
  const auto port = std::to_string(blackbox::closed_port());
  const std::string url = "http://127.0.0.1:" + port + "/internal/fn?token=hunter2";
  ASSERT_TRUE(gw().add_function(space_, "down", url));
  ASSERT_TRUE(gw().subscribe(space_, http_subscription("down", "GET", prefix_ + "/down")));
  ASSERT_TRUE(gw().subscribe(space_, bj::object{{"event", "invoke"}, {"functionId", "down"}}));
  endpoint("failing", UpstreamResponse{.status = 500, .body = "stack trace of db.internal:5432"});
  ASSERT_TRUE(gw().sync());

  const auto http_event = blackbox::request("GET", gw().events_url(prefix_ + "/down"));
  const auto invoked = blackbox::request("POST", gw().events_url("/"), "{}",
                                         {{"Event", "invoke"}, {"Function-ID", "down"}, {"Space", space_}});
  const auto failing = blackbox::request("GET", gw().events_url(prefix_ + "/failing"));
  EXPECT_TRUE(IsJsonError(http_event, 502));
  EXPECT_TRUE(IsJsonError(invoked, 502));
  EXPECT_TRUE(IsJsonError(failing, 500));
  for (const auto* r : {&http_event, &invoked, &failing}) {
    SCOPED_TRACE(r->body);
    for (const char* secret : {"hunter2", "token", "127.0.0.1", "internal", "db.internal", "5432"}) {
      EXPECT_EQ(r->body.find(secret), std::string::npos) << secret;
    }
    const auto id = request_id_in(error_message(*r));
    ASSERT_FALSE(id.empty()) << "no request id in " << error_message(*r);
    auto without_id = r->body;
    without_id.erase(without_id.find(id), id.size());
    EXPECT_EQ(without_id.find(port), std::string::npos);
    // The details are in the log, under the same request id.
    const auto log = gateway().log();
    ASSERT_NE(log.find(id), std::string::npos) << "request id " << id << " is not in the log";
    const auto line_start = log.rfind('\n', log.find(id)) + 1;
    const auto line = log.substr(line_start, log.find('\n', line_start) - line_start);
    EXPECT_NE(line.find(space_ + "/"), std::string::npos) << line;
  }
  EXPECT_NE(gateway().log().find("hunter2"), std::string::npos) << "the log has the URL the caller does not";
}

// ---- spaces
// -------------------------------------------------------------------------------------------------

TEST_F(UntrustedFunctionsTest, SystemEventsStayInTheirSpace) {
  const std::string spy = space_ + "-spy";
  ASSERT_TRUE(gw().add_function(spy, "recorder", upstream_.url("/spy")));
  ASSERT_TRUE(gw().add_function(space_, "recorder", upstream_.url("/own")));
  for (const std::string name : {"gateway.event.received", "gateway.function.invoking",
                                 "gateway.function.invoked", "gateway.function.invocationFailed"}) {
    ASSERT_TRUE(gw().subscribe(spy, custom_subscription(name, "recorder")));
    ASSERT_TRUE(gw().subscribe(space_, custom_subscription(name, "recorder")));
  }
  endpoint("private", answer({{"body", "secret answer"}}));
  ASSERT_TRUE(gw().subscribe(space_, bj::object{{"event", "invoke"}, {"functionId", "private"}}));
  ASSERT_TRUE(gw().subscribe(space_, custom_subscription("order.placed", "private", "/orders")));
  ASSERT_TRUE(gw().sync());

  const Headers credentials{{"Authorization", "Bearer victim-token"}, {"Cookie", "session=victim"}};
  EXPECT_EQ(blackbox::request("GET", gw().events_url(prefix_ + "/private"), "", credentials).status, 200);
  auto invoke_headers = credentials;
  invoke_headers.insert(invoke_headers.end(),
                        {{"Event", "invoke"}, {"Function-ID", "private"}, {"Space", space_}});
  EXPECT_EQ(blackbox::request("POST", gw().events_url("/"), "{}", invoke_headers).status, 200);
  auto emit_headers = credentials;
  emit_headers.emplace_back("Space", space_);
  EXPECT_EQ(gw().emit("/orders", "order.placed", "{}", "application/json", emit_headers).status, 202);

  // The space's own recorder hears of all three: the reports exist, they just stay home.
  ASSERT_TRUE(upstream_.wait_until(
      [](const auto& requests) {
        return received_events(requests, "/own", "gateway.function.invoked").size() >= 3;
      },
      "three gateway.function.invoked in the victim's space"));
  EXPECT_EQ(received_events(upstream_.requests(), "/own", "gateway.event.received").size(), 3U);
  const auto received = received_events(upstream_.requests(), "/own", "gateway.event.received");
  EXPECT_EQ(received[0].as_object().at("data").as_object().at("space").as_string(), space_);
  // Reports of a later request arrive after those of an earlier one: emit a marker in the spy's space
  // and wait for its report, then the spy has had every chance to hear of the victim.
  ASSERT_TRUE(gw().subscribe(spy, custom_subscription("marker", "recorder", "/orders")));
  ASSERT_TRUE(gw().sync());
  EXPECT_EQ(gw().emit("/orders", "marker", "{}", "application/json", {{"Space", spy}}).status, 202);
  ASSERT_TRUE(upstream_.wait_until(
      [](const auto& requests) {
        return !received_events(requests, "/spy", "gateway.event.received").empty();
      },
      "the spy's own marker"));
  for (const auto& request : upstream_.requests("/spy")) {
    EXPECT_EQ(request.body.find("victim"), std::string::npos) << request.body;
    EXPECT_EQ(request.body.find(space_ + "\""), std::string::npos) << request.body;
  }
}

TEST_F(UntrustedFunctionsTest, CustomEventsReachOnlyTheSubscribersOfTheirSpace) {
  const std::string other = space_ + "-other";
  ASSERT_TRUE(gw().add_function(space_, "mine", upstream_.url("/mine")));
  ASSERT_TRUE(gw().add_function(other, "theirs", upstream_.url("/theirs")));
  ASSERT_TRUE(gw().add_function("default", "default", upstream_.url("/default")));
  const auto path = prefix_ + "/shared";
  ASSERT_TRUE(gw().subscribe(space_, custom_subscription("user.created", "mine", path)));
  ASSERT_TRUE(gw().subscribe(other, custom_subscription("user.created", "theirs", path)));
  ASSERT_TRUE(gw().subscribe("default", custom_subscription("user.created", "default", path)));
  ASSERT_TRUE(gw().sync());

  EXPECT_EQ(
      gw().emit(path, "user.created", R"({"to":"mine"})", "application/json", {{"Space", space_}}).status,
      202);
  EXPECT_EQ(gw().emit(path, "user.created", R"({"to":"default"})").status, 202)
      << "no Space: the default space";
  ASSERT_TRUE(upstream_.wait_for_requests("/mine", 1));
  ASSERT_TRUE(upstream_.wait_for_requests("/default", 1));
  EXPECT_EQ(
      gw().emit(path, "user.created", R"({"to":"theirs"})", "application/json", {{"Space", other}}).status,
      202);
  ASSERT_TRUE(upstream_.wait_for_requests("/theirs", 1));
  EXPECT_EQ(upstream_.count("/mine"), 1U);
  EXPECT_EQ(upstream_.count("/default"), 1U);
  EXPECT_EQ(upstream_.count("/theirs"), 1U);
  EXPECT_NE(upstream_.requests("/mine")[0].body.find(R"("to":"mine")"), std::string::npos);
  EXPECT_NE(upstream_.requests("/default")[0].body.find(R"("to":"default")"), std::string::npos);

  EXPECT_TRUE(
      IsJsonError(gw().emit(path, "user.created", "{}", "application/json", {{"Space", "no spaces"}}), 400));
}

TEST(CrossSpaceEvents, TheFlagRestoresTheOriginalFanOutAcrossSpaces) {
  GatewayOptions options;
  options.extra_args = {"-cross-space-events"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  for (const std::string space : {"a", "b"}) {
    ASSERT_TRUE(gw.add_function(space, "f", upstream.url("/" + space)));
    ASSERT_TRUE(gw.add_function(space, "recorder", upstream.url("/recorder-" + space)));
    ASSERT_TRUE(gw.subscribe(space, custom_subscription("user.created", "f", "/app")));
    ASSERT_TRUE(gw.subscribe(space, custom_subscription("gateway.event.received", "recorder")));
  }
  ASSERT_TRUE(gw.sync());
  EXPECT_EQ(gw.emit("/app", "user.created", "{}").status, 202);
  ASSERT_TRUE(upstream.wait_for_requests("/a", 1));
  ASSERT_TRUE(upstream.wait_for_requests("/b", 1));
  ASSERT_TRUE(upstream.wait_for_requests("/recorder-a", 1));
  ASSERT_TRUE(upstream.wait_for_requests("/recorder-b", 1));
  upstream.stop();
  EXPECT_EQ(upstream.count("/recorder-a"), 1U) << "each space hears of the event once";
  EXPECT_EQ(upstream.count("/recorder-b"), 1U);
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

// ---- loops
// --------------------------------------------------------------------------------------------------

TEST_F(UntrustedFunctionsTest, CallsCarryTheirHopCount) {
  endpoint("hops", answer({{"body", "ok"}}));
  ASSERT_TRUE(gw().sync());
  EXPECT_EQ(blackbox::request("GET", gw().events_url(prefix_ + "/hops")).status, 200);
  EXPECT_EQ(
      blackbox::request("GET", gw().events_url(prefix_ + "/hops"), "", {{"Event-Gateway-Hops", "5"}}).status,
      200);
  ASSERT_EQ(upstream_.count("/hops"), 2U);
  EXPECT_EQ(upstream_.requests("/hops")[0].header("Event-Gateway-Hops"), "1");
  EXPECT_EQ(upstream_.requests("/hops")[1].header("Event-Gateway-Hops"), "6");
  EXPECT_FALSE(upstream_.requests("/hops")[0].has_header("Event-Gateway-System-Event"));

  for (const char* malformed : {"many", "-1", "1.5", "99999999"}) {
    EXPECT_TRUE(IsJsonError(
        blackbox::request("GET", gw().events_url(prefix_ + "/hops"), "", {{"Event-Gateway-Hops", malformed}}),
        400))
        << malformed;
  }
  EXPECT_TRUE(IsJsonError(
      blackbox::request("GET", gw().events_url(prefix_ + "/hops"), "", {{"Event-Gateway-Hops", "17"}}), 508));
  EXPECT_EQ(upstream_.count("/hops"), 2U) << "refused requests call nothing";
}

TEST(Loops, AFunctionWhoseUrlIsTheGatewayEndsWith508) {
  GatewayOptions options;
  options.extra_args = {"-max-hops", "3"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  // POST /loop is served by a function whose URL is POST /loop on the gateway itself.
  ASSERT_TRUE(gw.add_function("default", "loop", gw.events_url("/loop")));
  ASSERT_TRUE(gw.subscribe("default", http_subscription("loop", "POST", "/loop")));
  ASSERT_TRUE(gw.sync());
  for (int i = 0; i < 3; ++i) {
    const auto r = blackbox::request("POST", gw.events_url("/loop"), "{}");
    EXPECT_TRUE(IsJsonError(r, 500)) << "the innermost call was refused, so the function failed";
  }
  const auto log = process.log();
  EXPECT_NE(log.find("passed 4 gateways (-max-hops 3)"), std::string::npos) << log;
  EXPECT_EQ(occurrences(log, "request loop:"), 1U) << "logged once per interval, not per request\n" << log;
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

TEST(Loops, ASystemEventLoopEndsAfterOneRound) {
  GatewayProcess process;
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  // f is invoked for user.created; every gateway.function.invoked goes to `relay`, whose URL is the
  // gateway's own POST /relay, served by `sink`. Without the mark on the relayed call, sink's own
  // invocation would be reported to relay again, without end.
  ASSERT_TRUE(gw.add_function("default", "f", upstream.url("/f")));
  ASSERT_TRUE(gw.add_function("default", "sink", upstream.url("/sink")));
  ASSERT_TRUE(gw.add_function("default", "relay", gw.events_url("/relay")));
  ASSERT_TRUE(gw.subscribe("default", custom_subscription("user.created", "f", "/app")));
  ASSERT_TRUE(gw.subscribe("default", custom_subscription("gateway.function.invoked", "relay")));
  ASSERT_TRUE(gw.subscribe("default", http_subscription("sink", "POST", "/relay")));
  ASSERT_TRUE(gw.sync());
  upstream.respond("/sink", answer({{"body", "sunk"}}));

  EXPECT_EQ(gw.emit("/app", "user.created", "{}").status, 202);
  ASSERT_TRUE(upstream.wait_for_requests("/sink", 1));
  // A second event's round trip through the same chain: the first's consequences are over by then.
  EXPECT_EQ(gw.emit("/app", "user.created", "{}").status, 202);
  ASSERT_TRUE(upstream.wait_for_requests("/sink", 2));
  std::this_thread::sleep_for(300ms);
  upstream.stop();
  EXPECT_EQ(upstream.count("/f"), 2U);
  EXPECT_EQ(upstream.count("/sink"), 2U) << "the relayed calls started a loop";
  const auto relayed = upstream.requests("/sink").front();
  EXPECT_EQ(relayed.header("Event-Gateway-System-Event"), "gateway.function.invoked");
  EXPECT_EQ(relayed.header("Event-Gateway-Hops"), "2");
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

}  // namespace
