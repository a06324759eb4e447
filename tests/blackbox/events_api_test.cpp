// Black-box tests of the Events API: the real event-gateway binary, real HTTP functions (UpstreamServer).
//
// Most tests share one gateway (started once for the suite) and isolate themselves with paths under
// "/<TestName>/" (http endpoints are global to the gateway), spaces and function ids named after the
// test; custom events are emitted in the test's space. Tests that need special flags, system-event
// subscriptions in the default space, or a process of their own (drain, backlog, timeouts) start a
// fresh gateway.
//
// After configuring, a test calls `sync()` (support/gateway_client.h) before it sends events.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <boost/uuid/string_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <set>
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
using blackbox::ConfigClient;
using blackbox::custom_subscription;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::Headers;
using blackbox::http_function;
using blackbox::http_subscription;
using blackbox::HttpResponse;
using blackbox::IsJsonError;
using blackbox::RecordedRequest;
using blackbox::test_name;
using blackbox::to_json;
using blackbox::UpstreamResponse;
using blackbox::UpstreamServer;

// ---- helpers ----------------------------------------------------------------------------------------------

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool starts_with_status(const std::string& raw, int status) {
  return raw.starts_with("HTTP/1.1 " + std::to_string(status) + " ") ||
         raw.starts_with("HTTP/1.0 " + std::to_string(status) + " ");
}

// Canonical lower-case text of a random (version 4, RFC 4122 variant) UUID.
bool is_uuid_v4(std::string_view s) {
  try {
    const auto id = boost::uuids::string_generator()(std::string(s));
    return id.version() == boost::uuids::uuid::version_random_number_based &&
           id.variant() == boost::uuids::uuid::variant_rfc_4122 && boost::uuids::to_string(id) == s;
  } catch (const std::runtime_error&) {
    return false;
  }
}

// The event envelope of the README: exactly {event, id (UUID v4), receivedAt (ms, within the window),
// data, dataType}, and the W3C traceparent the gateway adds (docs/events.md, "Trace context").
::testing::AssertionResult IsEvent(const bj::value& v, std::string_view name, std::string_view data_type,
                                   std::int64_t not_before, std::int64_t not_after) {
  const auto* o = v.if_object();
  if (!o) return ::testing::AssertionFailure() << "event is not a JSON object: " << to_json(v);
  std::set<std::string> keys;
  for (const auto& kv : *o) keys.insert(std::string(kv.key()));
  const std::set<std::string> expected{"event", "id", "receivedAt", "traceparent", "data", "dataType"};
  if (keys != expected)
    return ::testing::AssertionFailure()
           << "expected exactly the keys event,id,receivedAt,traceparent,data,dataType: " << to_json(v);
  static const std::regex traceparent("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
  if (!o->at("traceparent").is_string() ||
      !std::regex_match(std::string(o->at("traceparent").as_string()), traceparent))
    return ::testing::AssertionFailure() << "traceparent is not one the gateway started: " << to_json(v);
  if (!o->at("event").is_string() || o->at("event").as_string() != name)
    return ::testing::AssertionFailure() << "expected event \"" << name << "\": " << to_json(v);
  if (!o->at("id").is_string() || !is_uuid_v4(o->at("id").as_string()))
    return ::testing::AssertionFailure() << "id is not a lower-case UUID v4: " << to_json(v);
  const auto& at = o->at("receivedAt");
  if (!at.is_int64() && !at.is_uint64())
    return ::testing::AssertionFailure() << "receivedAt is not an integer: " << to_json(v);
  const auto ms = at.is_int64() ? at.as_int64() : static_cast<std::int64_t>(at.as_uint64());
  // Generous: the clocks are the same machine's, but the event may be stamped a little before/after.
  if (ms < not_before - 2000 || ms > not_after + 2000)
    return ::testing::AssertionFailure() << "receivedAt " << ms << " is not close to now [" << not_before
                                         << ", " << not_after << "]: " << to_json(v);
  if (!o->at("dataType").is_string() || o->at("dataType").as_string() != data_type)
    return ::testing::AssertionFailure() << "expected dataType \"" << data_type << "\": " << to_json(v);
  return ::testing::AssertionSuccess();
}

const bj::value* field(const bj::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

std::string string_field(const bj::value& v, std::string_view key) {
  const auto* f = field(v, key);
  return f && f->is_string() ? std::string(f->as_string()) : std::string();
}

// A function's answer to an http event.
UpstreamResponse http_answer(const bj::value& answer) {
  UpstreamResponse r;
  r.body = to_json(answer);
  return r;
}

// Polls `request` until `done(response)` or `timeout`; returns the last response.
template <typename Request, typename Done>
HttpResponse poll_until(Request request, Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  HttpResponse r = request();
  while (!done(r) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    r = request();
  }
  return r;
}

// Events (parsed bodies) that `fn` received with the given event name.
std::vector<bj::value> events_named(const std::vector<RecordedRequest>& requests, std::string_view name) {
  std::vector<bj::value> out;
  for (const auto& r : requests) {
    boost::system::error_code ec;
    auto v = bj::parse(r.body, ec);
    if (!ec && string_field(v, "event") == name) out.push_back(v);
  }
  return out;
}

// A raw TCP connection held open by the test (slow clients).
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// ---- fixture: one gateway shared by the suite -------------------------------------------------------------

class EventsApiTest : public blackbox::SharedGatewayTest<EventsApiTest> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(SharedGatewayTest::SetUp());
    gw_ = std::make_unique<GatewayClient>(gateway());
  }

  GatewayClient& gw() { return *gw_; }

  // Registers function `id` in this test's space, answering at upstream path "/<id>".
  void function(const std::string& id, const UpstreamServer& upstream) {
    ASSERT_TRUE(gw().add_function(space_, id, upstream.url("/" + id)));
  }
  void subscribe(const bj::object& subscription) { ASSERT_TRUE(gw().subscribe(space_, subscription)); }
  // Emits a custom event in this test's space (custom events reach only the subscribers of theirs).
  HttpResponse emit(const std::string& path, const std::string& event, const std::string& body,
                    const std::string& content_type = "application/json", Headers extra = {}) {
    extra.emplace_back("Space", space_);
    return gw().emit(path, event, body, content_type, std::move(extra));
  }

  std::unique_ptr<GatewayClient> gw_;
  UpstreamServer upstream_;
};

// ---- custom events ----------------------------------------------------------------------------------------

TEST_F(EventsApiTest, CustomEventIsDeliveredAsAJsonEvent) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  ASSERT_TRUE(gw().sync());

  const auto before = now_ms();
  auto r = emit(path, "user.created", R"({"name":"Max"})");
  EXPECT_EQ(r.status, 202) << r.describe();
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  const auto after = now_ms();

  const auto got = upstream_.requests("/f").front();
  EXPECT_EQ(got.method, "POST");
  EXPECT_TRUE(got.header("Content-Type").starts_with("application/json")) << got.header("Content-Type");
  const auto event = got.json();
  EXPECT_TRUE(IsEvent(event, "user.created", "application/json", before, after));
  EXPECT_EQ(to_json(*field(event, "data")), R"({"name":"Max"})");
}

TEST_F(EventsApiTest, EventIdsAreUniquePerEvent) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  ASSERT_TRUE(gw().sync());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(emit(path, "user.created", "{}").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 3));
  std::set<std::string> ids;
  for (const auto& req : upstream_.requests("/f")) ids.insert(string_field(req.json(), "id"));
  EXPECT_EQ(ids.size(), 3u);
}

TEST_F(EventsApiTest, NonJsonPayloadsAreBase64) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("text.sent", "f", path));
  subscribe(custom_subscription("raw.sent", "f", path));
  subscribe(custom_subscription("api.sent", "f", path));
  subscribe(custom_subscription("charset.sent", "f", path));
  ASSERT_TRUE(gw().sync());

  const auto before = now_ms();
  EXPECT_EQ(emit(path, "text.sent", "hello", "text/plain").status, 202);
  // No Content-Type at all (curl would add one to a POST body): raw HTTP.
  const std::string raw_request = "POST " + path +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nEvent: raw.sent\r\nSpace: " + space_ +
                                  "\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
  auto raw = blackbox::send_raw(gw().events_port(), raw_request);
  EXPECT_TRUE(starts_with_status(raw.data, 202)) << raw.data;
  EXPECT_EQ(emit(path, "api.sent", R"({"type":"users","id":"1"})", "application/vnd.api+json").status, 202);
  EXPECT_EQ(emit(path, "charset.sent", R"([1,2])", "application/json; charset=utf-8").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 4));
  const auto after = now_ms();
  const auto all = upstream_.requests("/f");

  struct Expected {
    const char* event;
    const char* data_type;
    const char* data;
  };
  for (const auto& e : {Expected{"text.sent", "text/plain", R"("aGVsbG8=")"},
                        Expected{"raw.sent", "application/octet-stream", R"("aGVsbG8=")"},
                        Expected{"api.sent", "application/vnd.api+json", R"({"type":"users","id":"1"})"}}) {
    SCOPED_TRACE(e.event);
    auto got = events_named(all, e.event);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(IsEvent(got[0], e.event, e.data_type, before, after));
    EXPECT_EQ(to_json(*field(got[0], "data")), e.data);
  }

  // JSON with a charset parameter is still JSON: the data is embedded as JSON, not base64.
  auto charset = events_named(all, "charset.sent");
  ASSERT_EQ(charset.size(), 1u);
  EXPECT_EQ(to_json(*field(charset[0], "data")), "[1,2]");
}

TEST_F(EventsApiTest, MalformedJsonIs400AndNothingIsDelivered) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  subscribe(custom_subscription("marker", "f", path));
  ASSERT_TRUE(gw().sync());

  EXPECT_TRUE(IsJsonError(emit(path, "user.created", R"({"name":)"), 400));
  EXPECT_TRUE(IsJsonError(emit(path, "user.created", "not json"), 400));
  // A later event overtakes nothing: once it arrived, the refused ones would have arrived before it.
  EXPECT_EQ(emit(path, "marker", "{}").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  auto all = upstream_.requests("/f");
  EXPECT_EQ(all.size(), 1u);
  EXPECT_TRUE(events_named(all, "user.created").empty());
}

TEST_F(EventsApiTest, CustomEventMustBePost) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  subscribe(custom_subscription("marker", "f", path));
  ASSERT_TRUE(gw().sync());

  EXPECT_TRUE(
      IsJsonError(blackbox::request("GET", gw().events_url(path), "", {{"Event", "user.created"}}), 400));
  EXPECT_TRUE(
      IsJsonError(blackbox::request("PUT", gw().events_url(path), "{}", {{"Event", "user.created"}}), 400));
  EXPECT_EQ(emit(path, "marker", "{}").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  EXPECT_EQ(upstream_.count("/f"), 1u);
  EXPECT_TRUE(events_named(upstream_.requests("/f"), "user.created").empty());
}

TEST_F(EventsApiTest, ClientsCannotFakeSystemEvents) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  function("recorder", upstream_);
  subscribe(custom_subscription("marker", "f", path));
  subscribe(custom_subscription("gateway.function.invoked", "recorder", path));
  ASSERT_TRUE(gw().sync());

  const auto faked = emit(path, "gateway.function.invoked", R"({"functionId":"f"})");
  EXPECT_TRUE(IsJsonError(faked, 400));
  EXPECT_NE(faked.body.find("reserved for system events"), std::string::npos) << faked.body;
  // The genuine gateway.function.invoked for the marker's delivery reaches the recorder; a faked
  // one would have been queued before it.
  EXPECT_EQ(emit(path, "marker", "{}").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/recorder", 1));
  for (const auto& event : events_named(upstream_.requests("/recorder"), "gateway.function.invoked")) {
    const auto* invoked_event = field(*field(event, "data"), "event");
    ASSERT_NE(invoked_event, nullptr) << "a system event without the invoked event: " << to_json(event);
    EXPECT_EQ(string_field(*invoked_event, "event"), "marker");
  }
}

TEST_F(EventsApiTest, TrailingSlashReachesTheSameSubscribers) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  ASSERT_TRUE(gw().sync());
  EXPECT_EQ(emit(path + "/", "user.created", R"({"n":1})").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  EXPECT_EQ(to_json(*field(upstream_.requests("/f").front().json(), "data")), R"({"n":1})");
}

TEST_F(EventsApiTest, FanOutDeliversToEverySubscriberExactlyOnce) {
  const std::string path = prefix_ + "/myteam";
  for (const std::string fn : {"f1", "f2", "f3"}) {
    function(fn, upstream_);
    subscribe(custom_subscription("user.created", fn, path));
    subscribe(custom_subscription("marker", fn, path));
  }
  ASSERT_TRUE(gw().sync());
  EXPECT_EQ(emit(path, "user.created", R"({"name":"Max"})").status, 202);
  for (const std::string fn : {"/f1", "/f2", "/f3"}) ASSERT_TRUE(upstream_.wait_for_requests(fn, 1));
  // The marker, emitted afterwards, arrives after any duplicate would have.
  EXPECT_EQ(emit(path, "marker", "{}").status, 202);
  for (const std::string fn : {"/f1", "/f2", "/f3"}) {
    ASSERT_TRUE(upstream_.wait_for_requests(fn, 2));
    auto got = upstream_.requests(fn);
    EXPECT_EQ(events_named(got, "user.created").size(), 1u) << fn;
    EXPECT_EQ(events_named(got, "marker").size(), 1u) << fn;
  }
  // All three got the same event instance.
  std::set<std::string> ids;
  for (const std::string fn : {"/f1", "/f2", "/f3"})
    ids.insert(string_field(events_named(upstream_.requests(fn), "user.created").at(0), "id"));
  EXPECT_EQ(ids.size(), 1u);
}

TEST_F(EventsApiTest, SubscriptionsAreScopedByPathAndEventName) {
  const std::string path = prefix_ + "/myteam";
  const std::string other = prefix_ + "/other";
  function("f", upstream_);
  function("onother", upstream_);
  function("othername", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  subscribe(custom_subscription("user.created", "onother", other));
  subscribe(custom_subscription("user.deleted", "othername", path));
  ASSERT_TRUE(gw().sync());

  EXPECT_EQ(emit(path, "user.created", R"({"where":"myteam"})").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  // Later events to the other subscribers: once they arrived, a wrong delivery would have too.
  EXPECT_EQ(emit(other, "user.created", R"({"where":"other"})").status, 202);
  EXPECT_EQ(emit(path, "user.deleted", R"({"where":"deleted"})").status, 202);
  ASSERT_TRUE(upstream_.wait_for_requests("/onother", 1));
  ASSERT_TRUE(upstream_.wait_for_requests("/othername", 1));

  auto on_other = upstream_.requests("/onother");
  ASSERT_EQ(on_other.size(), 1u);
  EXPECT_EQ(to_json(*field(on_other[0].json(), "data")), R"({"where":"other"})");
  auto other_name = upstream_.requests("/othername");
  ASSERT_EQ(other_name.size(), 1u);
  EXPECT_EQ(to_json(*field(other_name[0].json(), "data")), R"({"where":"deleted"})");
  EXPECT_EQ(upstream_.count("/f"), 1u);
}

TEST_F(EventsApiTest, EventWithoutSubscribersIsAccepted) {
  auto r = emit(prefix_ + "/nobody", "nobody.listens", R"({"a":1})");
  EXPECT_EQ(r.status, 202) << r.describe();
  EXPECT_EQ(upstream_.count(), 0u);
}

TEST_F(EventsApiTest, CustomEventsAllowAnyOrigin) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  ASSERT_TRUE(gw().sync());

  auto pre = blackbox::request("OPTIONS", gw().events_url(path), "",
                               {{"Origin", "http://x.test"},
                                {"Access-Control-Request-Method", "POST"},
                                {"Access-Control-Request-Headers", "event, content-type"}});
  EXPECT_GE(pre.status, 200) << pre.describe();
  EXPECT_LT(pre.status, 300) << pre.describe();
  EXPECT_TRUE(pre.has_header("Access-Control-Allow-Origin")) << pre.describe();
  const auto allowed = pre.header("Access-Control-Allow-Origin");
  EXPECT_TRUE(allowed == "*" || allowed == "http://x.test") << allowed;

  auto post = emit(path, "user.created", "{}", "application/json", {{"Origin", "http://x.test"}});
  EXPECT_EQ(post.status, 202) << post.describe();
  EXPECT_TRUE(post.has_header("Access-Control-Allow-Origin")) << post.describe();
  // The preflight itself is not an event.
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  EXPECT_EQ(upstream_.count("/f"), 1u);
}

// ---- http events ------------------------------------------------------------------------------------------

TEST_F(EventsApiTest, HttpEventCarriesTheRequest) {
  const std::string route = prefix_ + "/users/:id";
  function("f", upstream_);
  subscribe(http_subscription("f", "GET", route));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", http_answer(bj::object{{"body", "hi"}}));

  const auto before = now_ms();
  auto r = blackbox::request("GET", gw().events_url(prefix_ + "/users/42?x=1&x=2&y=z"), "",
                             {{"x-custom", "hello"}});
  const auto after = now_ms();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "hi");
  ASSERT_EQ(upstream_.count("/f"), 1u);
  const auto got = upstream_.requests("/f").front();
  EXPECT_EQ(got.method, "POST");
  EXPECT_TRUE(got.header("Content-Type").starts_with("application/json"));
  const auto event = got.json();
  ASSERT_TRUE(IsEvent(event, "http", "application/json", before, after));
  const auto& data = *field(event, "data");
  ASSERT_TRUE(data.is_object()) << to_json(event);
  std::set<std::string> keys;
  for (const auto& kv : data.as_object()) keys.insert(std::string(kv.key()));
  EXPECT_EQ(keys, (std::set<std::string>{"path", "method", "headers", "host", "query", "params", "body"}))
      << to_json(data);
  EXPECT_EQ(string_field(data, "path"), prefix_ + "/users/42");
  EXPECT_EQ(string_field(data, "method"), "GET");
  EXPECT_EQ(string_field(data, "host"), "127.0.0.1:" + std::to_string(gw().events_port()));
  const auto* headers = field(data, "headers");
  ASSERT_TRUE(headers && headers->is_object()) << to_json(data);
  EXPECT_EQ(string_field(*headers, "X-Custom"), "hello")
      << "header names are canonical: " << to_json(*headers);
  EXPECT_EQ(field(*headers, "x-custom"), nullptr) << to_json(*headers);
  EXPECT_EQ(to_json(*field(data, "query")), R"({"x":["1","2"],"y":["z"]})");
  EXPECT_EQ(to_json(*field(data, "params")), R"({"id":"42"})");
  EXPECT_TRUE(field(data, "body")->is_null()) << "a request without a body: " << to_json(data);
}

TEST_F(EventsApiTest, HttpEventJsonBodyIsJson) {
  function("f", upstream_);
  subscribe(http_subscription("f", "POST", prefix_ + "/users"));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", http_answer(bj::object{{"body", "ok"}}));
  auto r = blackbox::request("POST", gw().events_url(prefix_ + "/users"), R"({"name":"Max","tags":[1,2]})",
                             {{"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(upstream_.count("/f"), 1u);
  const auto data = *field(upstream_.requests("/f").front().json(), "data");
  EXPECT_EQ(to_json(*field(data, "body")), R"({"name":"Max","tags":[1,2]})");
  EXPECT_EQ(string_field(data, "method"), "POST");
  EXPECT_EQ(to_json(*field(data, "params")), "{}");
  EXPECT_EQ(to_json(*field(data, "query")), "{}");
}

TEST_F(EventsApiTest, FunctionResponseBecomesTheHttpResponse) {
  function("f", upstream_);
  subscribe(http_subscription("f", "POST", prefix_ + "/things"));
  function("plain", upstream_);
  subscribe(http_subscription("plain", "GET", prefix_ + "/plain"));
  ASSERT_TRUE(gw().sync());
  upstream_.respond(
      "/f", http_answer(bj::object{
                {"statusCode", 201}, {"headers", bj::object{{"X-Reply", "yes"}}}, {"body", "created"}}));
  upstream_.respond("/plain", http_answer(bj::object{{"body", "default status"}}));

  auto r = blackbox::request("POST", gw().events_url(prefix_ + "/things"), "{}");
  EXPECT_EQ(r.status, 201) << r.describe();
  EXPECT_EQ(r.header("X-Reply"), "yes");
  EXPECT_EQ(r.body, "created");

  auto plain = blackbox::request("GET", gw().events_url(prefix_ + "/plain"));
  EXPECT_EQ(plain.status, 200) << plain.describe();
  EXPECT_EQ(plain.body, "default status");
}

TEST_F(EventsApiTest, WildcardParameterTakesTheRestOfThePath) {
  function("f", upstream_);
  subscribe(http_subscription("f", "GET", prefix_ + "/files/*path"));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", http_answer(bj::object{{"body", "file"}}));
  auto r = blackbox::request("GET", gw().events_url(prefix_ + "/files/a/b/c"));
  EXPECT_EQ(r.status, 200) << r.describe();
  ASSERT_EQ(upstream_.count("/f"), 1u);
  const auto data = *field(upstream_.requests("/f").front().json(), "data");
  EXPECT_EQ(to_json(*field(data, "params")), R"({"path":"a/b/c"})");
  EXPECT_EQ(string_field(data, "path"), prefix_ + "/files/a/b/c");
}

TEST_F(EventsApiTest, NoRouteIs404JsonError) {
  function("f", upstream_);
  subscribe(http_subscription("f", "GET", prefix_ + "/users/:id"));
  ASSERT_TRUE(gw().sync());
  EXPECT_TRUE(IsJsonError(blackbox::request("GET", gw().events_url(prefix_ + "/nothing/here")), 404));
  // Same path, another method.
  EXPECT_TRUE(IsJsonError(blackbox::request("DELETE", gw().events_url(prefix_ + "/users/1")), 404));
  EXPECT_EQ(upstream_.count(), 0u);
}

TEST_F(EventsApiTest, InvalidFunctionAnswersAre500JsonErrors) {
  const std::vector<std::pair<std::string, std::string>> answers = {
      {"notjson", "this is not JSON"},
      {"array", R"([{"statusCode":200,"body":"x"}])"},
      {"badstatus", R"({"statusCode":"two hundred","body":"x"})"},
      {"badbody", R"({"statusCode":200,"body":{"an":"object"}})"},
  };
  for (const auto& [fn, body] : answers) {
    function(fn, upstream_);
    subscribe(http_subscription(fn, "GET", prefix_ + "/" + fn));
    UpstreamResponse answer;
    answer.body = body;
    upstream_.respond("/" + fn, answer);
  }
  ASSERT_TRUE(gw().sync());
  for (const auto& [fn, body] : answers) {
    SCOPED_TRACE(fn + ": " + body);
    EXPECT_TRUE(IsJsonError(blackbox::request("GET", gw().events_url(prefix_ + "/" + fn)), 500));
  }
}

TEST_F(EventsApiTest, FunctionHttpErrorIs500) {
  function("f", upstream_);
  subscribe(http_subscription("f", "GET", prefix_ + "/fails"));
  ASSERT_TRUE(gw().sync());
  UpstreamResponse failure;
  failure.status = 500;
  failure.body = R"({"statusCode":200,"body":"looks fine but HTTP 500"})";
  upstream_.respond("/f", failure);
  auto r = blackbox::request("GET", gw().events_url(prefix_ + "/fails"));
  EXPECT_TRUE(IsJsonError(r, 500));
  EXPECT_EQ(upstream_.count("/f"), 1u);
}

TEST_F(EventsApiTest, UnreachableFunctionIs502) {
  ASSERT_TRUE(gw().add_function(space_, "gone",
                                "http://127.0.0.1:" + std::to_string(blackbox::closed_port()) + "/gone"));
  subscribe(http_subscription("gone", "GET", prefix_ + "/gone"));
  ASSERT_TRUE(gw().sync());
  EXPECT_TRUE(IsJsonError(blackbox::request("GET", gw().events_url(prefix_ + "/gone")), 502));
}

TEST(EventsApiTimeout, HangingFunctionIs504) {
  GatewayOptions options;
  options.extra_args = {"-function-timeout", "300"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  UpstreamResponse hang;
  hang.hang = true;
  upstream.respond("/slow", hang);
  ASSERT_TRUE(gw.add_function("default", "slow", upstream.url("/slow")));
  ASSERT_TRUE(gw.subscribe("default", http_subscription("slow", "GET", "/slow")));
  ASSERT_TRUE(gw.sync());

  const auto start = std::chrono::steady_clock::now();
  auto r = blackbox::request("GET", gw.events_url("/slow"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(IsJsonError(r, 504));
  EXPECT_EQ(upstream.count("/slow"), 1u) << "the function was called";
  EXPECT_LT(took, 5s) << "the 300 ms function timeout was not applied";
  upstream.stop();
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

// ---- per-subscription CORS --------------------------------------------------------------------------------

TEST_F(EventsApiTest, HttpSubscriptionCors) {
  function("f", upstream_);
  auto with_cors = http_subscription("f", "GET", prefix_ + "/cors");
  with_cors["cors"] = bj::object{{"origins", bj::array{"http://*.example.com"}}, {"allowCredentials", true}};
  subscribe(with_cors);
  function("nocors", upstream_);
  subscribe(http_subscription("nocors", "GET", prefix_ + "/nocors"));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", http_answer(bj::object{{"body", "cors"}}));
  upstream_.respond("/nocors", http_answer(bj::object{{"body", "nocors"}}));

  const std::string url = gw().events_url(prefix_ + "/cors");
  auto pre = blackbox::request(
      "OPTIONS", url, "", {{"Origin", "http://app.example.com"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_GE(pre.status, 200) << pre.describe();
  EXPECT_LT(pre.status, 300) << pre.describe();
  EXPECT_EQ(pre.header("Access-Control-Allow-Origin"), "http://app.example.com") << pre.describe();
  EXPECT_EQ(pre.header("Access-Control-Allow-Credentials"), "true") << pre.describe();

  auto evil = blackbox::request("OPTIONS", url, "",
                                {{"Origin", "http://evil.test"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_FALSE(evil.has_header("Access-Control-Allow-Origin")) << evil.header("Access-Control-Allow-Origin");

  auto get = blackbox::request("GET", url, "", {{"Origin", "http://app.example.com"}});
  EXPECT_EQ(get.status, 200) << get.describe();
  EXPECT_EQ(get.body, "cors");
  EXPECT_EQ(get.header("Access-Control-Allow-Origin"), "http://app.example.com");
  EXPECT_EQ(get.header("Access-Control-Allow-Credentials"), "true");

  auto evil_get = blackbox::request("GET", url, "", {{"Origin", "http://evil.test"}});
  EXPECT_FALSE(evil_get.has_header("Access-Control-Allow-Origin"));

  auto none =
      blackbox::request("GET", gw().events_url(prefix_ + "/nocors"), "", {{"Origin", "http://x.test"}});
  EXPECT_EQ(none.status, 200) << none.describe();
  EXPECT_FALSE(none.has_header("Access-Control-Allow-Origin")) << none.header("Access-Control-Allow-Origin");
  EXPECT_FALSE(none.has_header("Access-Control-Allow-Credentials"));

  // Preflights are answered by the gateway: the function saw only the two GETs to /cors.
  EXPECT_EQ(upstream_.count("/f"), 2u);
}

// ---- invoke -----------------------------------------------------------------------------------------------

TEST_F(EventsApiTest, InvokeReturnsTheRawFunctionAnswer) {
  const std::string fn = test_name();  // in the default space: no Space header
  ASSERT_TRUE(gw().add_function("default", fn, upstream_.url("/f")));
  ASSERT_TRUE(gw().subscribe("default", bj::object{{"event", "invoke"}, {"functionId", fn}}));
  ASSERT_TRUE(gw().sync());
  UpstreamResponse answer;
  answer.body = R"({"result":42})";
  upstream_.respond("/f", answer);

  const auto before = now_ms();
  auto r =
      blackbox::request("POST", gw().events_url("/"), R"({"question":"everything"})",
                        {{"Event", "invoke"}, {"Function-ID", fn}, {"Content-Type", "application/json"}});
  const auto after = now_ms();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, R"({"result":42})");
  ASSERT_EQ(upstream_.count("/f"), 1u);
  const auto event = upstream_.requests("/f").front().json();
  EXPECT_TRUE(IsEvent(event, "invoke", "application/json", before, after));
  EXPECT_EQ(to_json(*field(event, "data")), R"({"question":"everything"})");
}

TEST_F(EventsApiTest, InvokeInANamedSpace) {
  ASSERT_TRUE(gw().add_function(space_, "f", upstream_.url("/f")));
  ASSERT_TRUE(gw().subscribe(space_, bj::object{{"event", "invoke"}, {"functionId", "f"}}));
  ASSERT_TRUE(gw().sync());
  UpstreamResponse answer;
  answer.body = "plain answer";
  answer.headers = {{"Content-Type", "text/plain"}};
  upstream_.respond("/f", answer);
  auto r = blackbox::request("POST", gw().events_url("/"), "{}",
                             {{"Event", "invoke"}, {"Function-ID", "f"}, {"Space", space_}});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "plain answer");
}

TEST_F(EventsApiTest, InvokeErrors) {
  const std::string fn = test_name();
  const std::string without = test_name() + "-nosub";
  ASSERT_TRUE(gw().add_function("default", fn, upstream_.url("/f")));
  ASSERT_TRUE(gw().subscribe("default", bj::object{{"event", "invoke"}, {"functionId", fn}}));
  ASSERT_TRUE(gw().add_function("default", without, upstream_.url("/f")));
  ASSERT_TRUE(gw().sync());
  auto invoke = [&](Headers headers) {
    headers.emplace_back("Event", "invoke");
    return blackbox::request("POST", gw().events_url("/"), "{}", headers);
  };
  EXPECT_TRUE(IsJsonError(invoke({{"Function-ID", without}}), 404)) << "no invoke subscription";
  EXPECT_TRUE(IsJsonError(invoke({{"Function-ID", "nosuchfunction"}}), 404));
  EXPECT_TRUE(IsJsonError(invoke({}), 400)) << "missing Function-ID";
  EXPECT_TRUE(IsJsonError(invoke({{"Function-ID", fn}, {"Space", "other"}}), 404))
      << "function only in default";
  EXPECT_EQ(upstream_.count(), 0u);
  // And the function itself is invokable.
  EXPECT_EQ(invoke({{"Function-ID", fn}}).status, 200);
}

// ---- configuration changes without restart ----------------------------------------------------------------

TEST_F(EventsApiTest, SubscriptionChangesApplyWithoutRestart) {
  function("f", upstream_);
  upstream_.respond("/f", http_answer(bj::object{{"body", "live"}}));
  const std::string url = gw().events_url(prefix_ + "/live");
  EXPECT_TRUE(IsJsonError(blackbox::request("GET", url), 404));

  std::string id;
  ASSERT_TRUE(gw().subscribe(space_, http_subscription("f", "GET", prefix_ + "/live"), &id));
  auto r = poll_until([&] { return blackbox::request("GET", url); },
                      [](const HttpResponse& r) { return r.status >= 200 && r.status < 300; }, 1s);
  EXPECT_EQ(r.status, 200) << "not routable within 1 s of creation: " << r.describe();
  EXPECT_EQ(r.body, "live");

  auto del =
      gw().config().del(ConfigClient::subscriptions(space_) + "/" + blackbox::encode_uri_component(id));
  ASSERT_EQ(del.status, 204) << del.describe();
  r = poll_until([&] { return blackbox::request("GET", url); },
                 [](const HttpResponse& r) { return r.status == 404; }, 1s);
  EXPECT_TRUE(IsJsonError(r, 404)) << "still routed 1 s after deletion";
}

// ---- system events ----------------------------------------------------------------------------------------

class SystemEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(process_.start());
    gw_ = std::make_unique<GatewayClient>(process_);
    ASSERT_TRUE(gw().add_function("default", "f", upstream_.url("/f")));
    ASSERT_TRUE(gw().add_function("default", "recorder", upstream_.url("/recorder")));
    for (const std::string name : {"gateway.event.received", "gateway.function.invoking",
                                   "gateway.function.invoked", "gateway.function.invocationFailed"})
      ASSERT_TRUE(gw().subscribe("default", custom_subscription(name, "recorder")));
  }
  void TearDown() override {
    upstream_.stop();
    EXPECT_TRUE(process_.stop());
    EXPECT_EQ(process_.exit_code(), 0);
  }
  GatewayClient& gw() { return *gw_; }

  // System events the recorder received, with the given name.
  std::vector<bj::value> recorded(std::string_view name) {
    return events_named(upstream_.requests("/recorder"), name);
  }
  // Of those, the ones about function `fn` / about events named `event`.
  static std::vector<bj::value> about_function(const std::vector<bj::value>& events, std::string_view fn) {
    std::vector<bj::value> out;
    for (const auto& e : events)
      if (const auto* d = field(e, "data"); d && string_field(*d, "functionId") == fn) out.push_back(e);
    return out;
  }
  static std::vector<bj::value> about_event(const std::vector<bj::value>& events, std::string_view event) {
    std::vector<bj::value> out;
    for (const auto& e : events)
      if (const auto* d = field(e, "data");
          d && field(*d, "event") && string_field(*field(*d, "event"), "event") == event)
        out.push_back(e);
    return out;
  }
  ::testing::AssertionResult wait_for(std::string_view name, std::string_view fn, std::string_view event,
                                      std::size_t n = 1) {
    return upstream_.wait_until(
        [&](const std::vector<RecordedRequest>& all) {
          std::vector<RecordedRequest> rec;
          for (const auto& r : all)
            if (r.path == "/recorder") rec.push_back(r);
          auto matching = about_event(events_named(rec, name), event);
          if (!fn.empty()) matching = about_function(matching, fn);
          return matching.size() >= n;
        },
        std::string(name) + " about " + std::string(event) + (fn.empty() ? "" : " / " + std::string(fn)));
  }

  GatewayProcess process_;
  std::unique_ptr<GatewayClient> gw_;
  UpstreamServer upstream_;
};

TEST_F(SystemEventsTest, EveryStageIsReportedButNotTheRecordersOwnDeliveries) {
  ASSERT_TRUE(gw().subscribe("default", custom_subscription("user.created", "f", "/myteam")));
  ASSERT_TRUE(gw().subscribe("default", custom_subscription("marker", "f", "/myteam")));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", UpstreamResponse{.body = R"({"ok":true})"});

  const auto before = now_ms();
  EXPECT_EQ(
      gw().emit("/myteam", "user.created", R"({"name":"Max"})", "application/json", {{"X-Trace", "abc"}})
          .status,
      202);
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  ASSERT_TRUE(wait_for("gateway.event.received", "", "user.created"));
  ASSERT_TRUE(wait_for("gateway.function.invoking", "f", "user.created"));
  ASSERT_TRUE(wait_for("gateway.function.invoked", "f", "user.created"));
  // Extra time for unwanted events: a later event's reports arrive after anything the first caused.
  EXPECT_EQ(gw().emit("/myteam", "marker", "{}").status, 202);
  ASSERT_TRUE(wait_for("gateway.function.invoked", "f", "marker"));
  // Deliveries run concurrently: the marker's own report may arrive after its invocation's.
  ASSERT_TRUE(wait_for("gateway.event.received", "", "marker"));
  const auto after = now_ms();

  auto received = about_event(recorded("gateway.event.received"), "user.created");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(IsEvent(received[0], "gateway.event.received", "application/json", before, after));
  {
    const auto& data = *field(received[0], "data");
    EXPECT_EQ(string_field(data, "path"), "/myteam") << to_json(data);
    const auto* event = field(data, "event");
    ASSERT_NE(event, nullptr) << to_json(data);
    EXPECT_TRUE(IsEvent(*event, "user.created", "application/json", before, after));
    EXPECT_EQ(to_json(*field(*event, "data")), R"({"name":"Max"})");
    const auto* headers = field(data, "headers");
    ASSERT_TRUE(headers && headers->is_object()) << to_json(data);
    EXPECT_EQ(string_field(*headers, "X-Trace"), "abc") << to_json(*headers);
    EXPECT_EQ(string_field(*headers, "Event"), "user.created") << to_json(*headers);
  }

  auto invoking = recorded("gateway.function.invoking");
  auto invoked = recorded("gateway.function.invoked");
  auto f_invoking = about_event(about_function(invoking, "f"), "user.created");
  auto f_invoked = about_event(about_function(invoked, "f"), "user.created");
  ASSERT_EQ(f_invoking.size(), 1u);
  ASSERT_EQ(f_invoked.size(), 1u);
  const auto event_id = string_field(*field(*field(received[0], "data"), "event"), "id");
  {
    const auto& data = *field(f_invoking[0], "data");
    EXPECT_EQ(string_field(data, "functionId"), "f");
    EXPECT_EQ(string_field(*field(data, "event"), "id"), event_id) << "the same event instance";
  }
  {
    const auto& data = *field(f_invoked[0], "data");
    EXPECT_EQ(string_field(data, "functionId"), "f");
    EXPECT_EQ(string_field(*field(data, "event"), "id"), event_id);
    const auto* result = field(data, "result");
    ASSERT_NE(result, nullptr) << to_json(data);
    // The function's answer, as JSON (or as its text).
    EXPECT_TRUE(to_json(*result) == R"({"ok":true})" || to_json(*result) == R"("{\"ok\":true}")")
        << to_json(*result);
  }

  // Exact counts: f was invoked for user.created and marker only, the recorder's own deliveries never
  // produce reports, and nothing failed.
  EXPECT_EQ(about_function(invoking, "f").size(), 2u);
  EXPECT_EQ(about_function(invoked, "f").size(), 2u);
  EXPECT_TRUE(about_function(invoking, "recorder").empty()) << about_function(invoking, "recorder").size();
  EXPECT_TRUE(about_function(invoked, "recorder").empty()) << about_function(invoked, "recorder").size();
  for (const auto* reports : {&invoking, &invoked})
    for (const auto& e : *reports)
      EXPECT_FALSE(string_field(*field(*field(e, "data"), "event"), "event").starts_with("gateway."))
          << "a report about a system event: " << to_json(e);
  EXPECT_EQ(about_event(recorded("gateway.event.received"), "user.created").size(), 1u);
  EXPECT_EQ(about_event(recorded("gateway.event.received"), "marker").size(), 1u);
  EXPECT_TRUE(about_function(recorded("gateway.function.invocationFailed"), "f").empty());
  // f itself got exactly its two events, nothing else.
  EXPECT_EQ(upstream_.count("/f"), 2u);
}

TEST_F(SystemEventsTest, FailedInvocationIsReportedWithTheError) {
  auto once = custom_subscription("user.created", "f", "/myteam");
  once["delivery"] = bj::object{{"maxAttempts", 1}};  // one failure to report: no retries
  ASSERT_TRUE(gw().subscribe("default", once));
  ASSERT_TRUE(gw().sync());
  upstream_.respond("/f", UpstreamResponse{.status = 500, .body = R"({"oops":1})"});

  EXPECT_EQ(gw().emit("/myteam", "user.created", R"({"name":"Max"})").status, 202);
  ASSERT_TRUE(wait_for("gateway.function.invocationFailed", "f", "user.created"));
  auto failed =
      about_event(about_function(recorded("gateway.function.invocationFailed"), "f"), "user.created");
  ASSERT_EQ(failed.size(), 1u);
  const auto& data = *field(failed[0], "data");
  EXPECT_EQ(string_field(data, "functionId"), "f");
  EXPECT_EQ(string_field(*field(data, "event"), "event"), "user.created");
  const auto* error = field(data, "error");
  ASSERT_NE(error, nullptr) << to_json(data);
  EXPECT_TRUE(!error->is_null() && !(error->is_string() && error->as_string().empty())) << to_json(data);
  EXPECT_EQ(to_json(*field(data, "attempt")), "1");
  EXPECT_EQ(to_json(*field(data, "willRetry")), "false");
  EXPECT_TRUE(about_event(about_function(recorded("gateway.function.invoked"), "f"), "user.created").empty());
}

// ---- backlog and shutdown ---------------------------------------------------------------------------------

TEST(EventsApiBacklog, FullBacklogRefusesWith429AndDeliversEverythingAccepted) {
  GatewayOptions options;
  options.extra_args = {"-workers", "1", "-workers-backlog", "2"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  upstream.respond("/slow", UpstreamResponse{.delay = 500ms});
  ASSERT_TRUE(gw.add_function("default", "slow", upstream.url("/slow")));
  ASSERT_TRUE(gw.subscribe("default", custom_subscription("work", "slow", "/jobs")));
  ASSERT_TRUE(gw.sync());

  std::size_t accepted = 0;
  HttpResponse refused;
  for (int i = 0; i < 20; ++i) {
    auto r = gw.emit("/jobs", "work", "{\"i\":" + std::to_string(i) + "}");
    if (r.status == 202) {
      ++accepted;
      continue;
    }
    refused = r;
    break;
  }
  EXPECT_TRUE(IsJsonError(refused, 429)) << "after " << accepted << " accepted events";
  // Two deliveries (one running, one waiting) before anything can be refused (more only if one
  // finished meanwhile).
  EXPECT_GE(accepted, 2u) << "a backlog of 2 must take 2 events";
  ASSERT_TRUE(upstream.wait_for_requests("/slow", accepted));
  // Nothing more arrives than was accepted: one more (accepted) event as a marker of "later".
  auto after = poll_until([&] { return gw.emit("/jobs", "work", R"({"marker":true})"); },
                          [](const HttpResponse& r) { return r.status == 202; }, 5s);
  ASSERT_EQ(after.status, 202) << after.describe();
  ASSERT_TRUE(upstream.wait_for_requests("/slow", accepted + 1));
  auto all = upstream.requests("/slow");
  EXPECT_EQ(all.size(), accepted + 1);
  EXPECT_EQ(to_json(*field(all.back().json(), "data")), R"({"marker":true})");
  upstream.stop();
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

// SIGTERM lets the attempts in flight finish and exits 0; what it did not attempt waits in the spool
// and is delivered after a restart (docs/delivery.md, "Crashes and restarts").
TEST(EventsApiShutdown, SigtermFinishesAttemptsInFlightAndTheRestartDeliversTheRest) {
  GatewayOptions options;
  options.extra_args = {"-workers", "2"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  upstream.respond("/slow", UpstreamResponse{.delay = 300ms});
  ASSERT_TRUE(gw.add_function("default", "slow", upstream.url("/slow")));
  ASSERT_TRUE(gw.subscribe("default", custom_subscription("work", "slow", "/jobs")));
  ASSERT_TRUE(gw.sync());

  constexpr int kEvents = 6;
  for (int i = 0; i < kEvents; ++i)
    ASSERT_EQ(gw.emit("/jobs", "work", "{\"i\":" + std::to_string(i) + "}").status, 202) << i;
  ASSERT_TRUE(upstream.wait_for_requests("/slow", 1));
  ASSERT_EQ(::kill(process.pid(), SIGTERM), 0);

  // Soon after the signal, new events are refused (connection) or answered 503. The signal takes a
  // moment to reach every event thread; an event accepted in that moment must still be delivered
  // like the others.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  int accepted_late = 0;
  std::optional<int> refused_with;
  while (!refused_with && std::chrono::steady_clock::now() < deadline) {
    auto late = gw.emit("/jobs", "work", "{\"late\":" + std::to_string(accepted_late) + "}");
    if (late.status == 202) {
      ++accepted_late;
      continue;
    }
    refused_with = late.status;
    if (late.status != 0) {
      EXPECT_TRUE(IsJsonError(late, 503)) << late.describe();
    }
  }
  EXPECT_TRUE(refused_with.has_value()) << "still accepting events 5 s after SIGTERM";

  // It exits on its own, 0, once the attempts in flight have their answers.
  const auto exit_deadline = std::chrono::steady_clock::now() + 10s;
  while (process.running() && std::chrono::steady_clock::now() < exit_deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_FALSE(process.running()) << "still running 10 s after SIGTERM";
  EXPECT_EQ(process.exit_code(), 0);
  EXPECT_EQ(upstream.answered(), upstream.count("/slow")) << "attempts cut short";

  // The rest after the restart: every accepted event at least once.
  ASSERT_TRUE(process.start());
  const auto accepted = static_cast<std::size_t>(kEvents + accepted_late);
  std::set<std::string> data;
  ASSERT_TRUE(upstream.wait_until(
      [&](const std::vector<blackbox::RecordedRequest>& requests) {
        for (const auto& r : requests) data.insert(to_json(*field(r.json(), "data")));
        return data.size() == accepted;
      },
      "every accepted event delivered"));
  ASSERT_TRUE(process.stop());
}

// ---- robustness -------------------------------------------------------------------------------------------

TEST(EventsApiLimits, BodyOverTheLimitIs413) {
  GatewayOptions options;
  options.extra_args = {"-max-body-bytes", "1024"};
  GatewayProcess process(options);
  ASSERT_TRUE(process.start());
  GatewayClient gw(process);
  UpstreamServer upstream;
  ASSERT_TRUE(gw.add_function("default", "f", upstream.url("/f")));
  ASSERT_TRUE(gw.subscribe("default", custom_subscription("big", "f", "/myteam")));
  ASSERT_TRUE(gw.sync());

  const std::string big = "\"" + std::string(2000, 'x') + "\"";
  EXPECT_TRUE(IsJsonError(gw.emit("/myteam", "big", big), 413));
  const std::string small = "\"" + std::string(500, 'x') + "\"";
  EXPECT_EQ(gw.emit("/myteam", "big", small).status, 202);
  ASSERT_TRUE(upstream.wait_for_requests("/f", 1));
  auto all = upstream.requests("/f");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(to_json(*field(all[0].json(), "data")), small);
  upstream.stop();
  ASSERT_TRUE(process.stop());
  EXPECT_EQ(process.exit_code(), 0);
}

TEST_F(EventsApiTest, MalformedHttpIsRejectedAndTheServerKeepsServing) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  ASSERT_TRUE(gw().sync());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"binary garbage", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03garbage\r\n\r\n", 22)},
      {"text garbage", "THIS IS NOT HTTP AT ALL\r\n\r\n"},
      {"bad content-length", "POST " + path +
                                 " HTTP/1.1\r\nHost: x\r\nEvent: user.created\r\n"
                                 "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{}"},
      {"bad chunk size",
       "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nEvent: user.created\r\n"
           "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n"},
      {"chunk size mismatch", "POST " + path +
                                  " HTTP/1.1\r\nHost: x\r\nEvent: user.created\r\n"
                                  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "1\r\n{\"a\":1}\r\n0\r\n\r\n"},
  };
  for (const auto& [name, bytes] : cases) {
    SCOPED_TRACE(name);
    auto raw = blackbox::send_raw(gw().events_port(), bytes);
    if (raw.data.empty()) {
      EXPECT_TRUE(raw.closed) << "no response and the connection was not closed";
    } else {
      EXPECT_TRUE(starts_with_status(raw.data, 400)) << "response: " << raw.data.substr(0, 300);
    }
    auto ok = emit(path, "user.created", R"({"after":"garbage"})");
    EXPECT_EQ(ok.status, 202) << "after " << name << ": " << ok.describe();
  }
  ASSERT_TRUE(upstream_.wait_for_requests("/f", cases.size()));
  for (const auto& r : upstream_.requests("/f"))
    EXPECT_EQ(to_json(*field(r.json(), "data")), R"({"after":"garbage"})")
        << "a malformed request was delivered";
}

TEST_F(EventsApiTest, StalledClientDoesNotBlockOthers) {
  const std::string path = prefix_ + "/myteam";
  function("f", upstream_);
  subscribe(custom_subscription("user.created", "f", path));
  function("h", upstream_);
  subscribe(http_subscription("h", "GET", prefix_ + "/h"));
  upstream_.respond("/h", http_answer(bj::object{{"body", "still here"}}));
  ASSERT_TRUE(gw().sync());

  // Half a request (headers promise 100 bytes, 3 arrive), and half a header block, both left hanging.
  RawConnection half_body(gw().events_port());
  ASSERT_TRUE(half_body.connected());
  ASSERT_TRUE(half_body.send("POST " + path +
                             " HTTP/1.1\r\nHost: x\r\nEvent: user.created\r\n"
                             "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a"));
  RawConnection half_header(gw().events_port());
  ASSERT_TRUE(half_header.connected());
  ASSERT_TRUE(half_header.send("GET " + prefix_ + "/h HTTP/1.1\r\nHost: x\r\nX-Slow: "));

  blackbox::RequestOptions quick;
  quick.timeout = 3s;
  auto ok = blackbox::request(
      "POST", gw().events_url(path), R"({"b":1})",
      {{"Event", "user.created"}, {"Content-Type", "application/json"}, {"Space", space_}}, quick);
  EXPECT_EQ(ok.status, 202) << ok.describe();
  auto h = blackbox::request("GET", gw().events_url(prefix_ + "/h"), "", {}, quick);
  EXPECT_EQ(h.status, 200) << h.describe();
  EXPECT_EQ(h.body, "still here");
  ASSERT_TRUE(upstream_.wait_for_requests("/f", 1));
  EXPECT_EQ(upstream_.count("/f"), 1u);
  EXPECT_EQ(upstream_.count("/h"), 1u);
}

// ---- the upstream harness itself --------------------------------------------------------------------------

TEST(UpstreamHarness, RecordsRequestsAndAnswersPerPath) {
  UpstreamServer upstream;
  upstream.respond("/a", UpstreamResponse{.status = 201, .headers = {{"X-A", "1"}}, .body = "A"});
  auto a = blackbox::request("POST", upstream.url("/a?q=1"), "hello", {{"Content-Type", "text/plain"}});
  EXPECT_EQ(a.status, 201);
  EXPECT_EQ(a.header("X-A"), "1");
  EXPECT_EQ(a.body, "A");
  auto b = blackbox::request("GET", upstream.url("/b"));
  EXPECT_EQ(b.status, 200);
  EXPECT_EQ(b.body, "{}");
  ASSERT_TRUE(upstream.wait_for_requests(2, 1s));
  auto all = upstream.requests();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].sequence, 0u);
  EXPECT_EQ(all[0].method, "POST");
  EXPECT_EQ(all[0].target, "/a?q=1");
  EXPECT_EQ(all[0].path, "/a");
  EXPECT_EQ(all[0].body, "hello");
  EXPECT_EQ(all[0].header("content-type"), "text/plain");
  EXPECT_EQ(all[1].path, "/b");
  EXPECT_FALSE(upstream.wait_for_requests(3, 50ms)) << "a third request never came";
  // Keep-alive: two requests on one connection.
  auto raw = blackbox::send_raw(
      upstream.port(),
      "GET /k HTTP/1.1\r\nHost: x\r\n\r\nGET /k HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(upstream.count("/k"), 2u) << raw.data;
  EXPECT_TRUE(raw.closed);
}

TEST(UpstreamHarness, HangingAndClosedPorts) {
  UpstreamServer upstream;
  upstream.respond("/hang", UpstreamResponse{.hang = true});
  blackbox::RequestOptions quick;
  quick.timeout = 200ms;
  auto r = blackbox::request("GET", upstream.url("/hang"), "", {}, quick);
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(upstream.count("/hang"), 1u);
  auto closed = blackbox::request("GET", "http://127.0.0.1:" + std::to_string(blackbox::closed_port()) + "/");
  EXPECT_EQ(closed.status, 0);
  // stop() returns although a connection hangs.
  RawConnection hanging(upstream.port());
  ASSERT_TRUE(hanging.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(upstream.wait_for_requests("/hang", 2));
  const auto start = std::chrono::steady_clock::now();
  upstream.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

}  // namespace
