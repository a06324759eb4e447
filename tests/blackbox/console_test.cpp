// Black-box tests of the web console's API (docs/console.md): its files, the event catalog, and the
// live traffic stream (server-sent events) with its keys, its isolation of spaces, its cap, and that
// it blocks neither the Configuration API nor the gateway's exit.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/digest.h"
#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::Headers;
using blackbox::IsJson;
using blackbox::IsJsonError;
using blackbox::request;

// A client of one live stream on a raw socket: sends the GET, then collects what arrives, so that a
// test can wait for a line to show up.
class StreamReader {
 public:
  StreamReader(int port, const std::string& space, const std::string& key = "") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return;
    std::string request = "GET /v1/spaces/" + space + "/events/stream HTTP/1.1\r\nHost: x\r\n";
    if (!key.empty()) request += "Authorization: Bearer " + key + "\r\n";
    request += "\r\n";
    connected_ =
        ::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size());
  }
  ~StreamReader() {
    if (fd_ >= 0) ::close(fd_);
  }
  StreamReader(const StreamReader&) = delete;
  StreamReader& operator=(const StreamReader&) = delete;

  // Reads until `needle` has arrived (true), the server closed (false) or `timeout` passed (false).
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (data_.find(needle) == std::string::npos) {
      if (closed_ || !read_some(deadline)) return data_.find(needle) != std::string::npos;
    }
    return true;
  }
  // Reads until the server closes the connection: true if it did within `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!closed_) {
      if (!read_some(deadline)) break;
    }
    return closed_;
  }
  bool connected() const { return connected_; }
  const std::string& data() const { return data_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd waiting{.fd = fd_, .events = POLLIN, .revents = 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[8192];
    const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
    if (got <= 0) {
      closed_ = true;
      return false;
    }
    data_.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string data_;
};

// A gateway with a function and a subscription to user.created in `space`, ready to route.
struct ConsoleGateway {
  blackbox::UpstreamServer upstream;
  GatewayProcess process;
  GatewayClient client{process};

  explicit ConsoleGateway(GatewayOptions options = {}) : process(std::move(options)) {}

  ::testing::AssertionResult start(const std::vector<std::string>& spaces = {"default"}) {
    if (auto started = process.start(); !started) return started;
    for (const auto& space : spaces) {
      if (auto added = client.add_function(space, "receiver", upstream.url("/receiver")); !added)
        return added;
      if (auto subscribed =
              client.subscribe(space, blackbox::custom_subscription("user.created", "receiver"));
          !subscribed)
        return subscribed;
    }
    return client.sync();
  }
  blackbox::HttpResponse emit(const std::string& space, const std::string& body = R"({"name":"Ada"})") {
    return client.emit("/", "user.created", body, "application/json", {{"Space", space}});
  }
  std::string url(const std::string& path) const { return process.config_url() + path; }
};

TEST(Console, ServesItsPageScriptAndStyleWithAStrictPolicyAndNoKey) {
  blackbox::TempDir dir{"eg-console-"};
  const auto keys = dir.path() / "keys";
  std::ofstream(keys) << eg::common::sha256_hex("admin-0123456789abcdef") << " *\n";
  GatewayOptions options;
  options.extra_args = {"-config-api-keys", keys.string()};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  for (const auto& [path, type] :
       std::vector<std::pair<std::string, std::string>>{{"/console", "text/html"},
                                                        {"/console/app.js", "text/javascript"},
                                                        {"/console/style.css", "text/css"}}) {
    SCOPED_TRACE(path);
    const auto r = request("GET", gateway.config_url() + path);
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.header("Content-Type").rfind(type, 0), 0u) << r.header("Content-Type");
    EXPECT_NE(r.header("Content-Security-Policy").find("default-src 'none'; script-src 'self'"),
              std::string::npos);
    EXPECT_NE(r.header("Content-Security-Policy").find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  }
  const auto page = request("GET", gateway.config_url() + "/console");
  EXPECT_NE(page.body.find("<script src=\"/console/app.js\""), std::string::npos);
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "no inline script";
  EXPECT_EQ(page.body.find("style="), std::string::npos) << "no inline style";
  const auto script = request("GET", gateway.config_url() + "/console/app.js");
  EXPECT_EQ(script.body.find("innerHTML"), std::string::npos) << "data is never written as HTML";
  EXPECT_EQ(request("POST", gateway.config_url() + "/console").status, 405);
  // Only the console's three files are free of the key; any other path is the API's.
  EXPECT_EQ(request("GET", gateway.config_url() + "/console/other.js").status, 401);
}

TEST(Console, TheCatalogCountsCustomEventsWithASampleAndTheirSubscribers) {
  ConsoleGateway gateway;
  ASSERT_TRUE(gateway.start());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(gateway.emit("default").status, 202);
  ASSERT_EQ(
      gateway.client.emit("/", "order.placed", R"({"total":12})", "application/json", {{"Space", "default"}})
          .status,
      202);
  const auto r = request("GET", gateway.url("/v1/spaces/default/events/catalog"));
  ASSERT_TRUE(IsJson(r, 200)) << r.describe();
  const auto body = r.json().as_object();
  EXPECT_EQ(body.at("overflow").as_int64(), 0);
  const auto& events = body.at("events").as_array();
  ASSERT_EQ(events.size(), 2u) << r.body;
  const auto& order = events[0].as_object();
  EXPECT_EQ(order.at("name").as_string(), "order.placed");
  EXPECT_EQ(order.at("count").as_int64(), 1);
  EXPECT_TRUE(order.at("subscribers").as_array().empty());
  const auto& user = events[1].as_object();
  EXPECT_EQ(user.at("name").as_string(), "user.created");
  EXPECT_GE(user.at("count").as_int64(), 3);
  EXPECT_GT(user.at("lastSeen").as_int64(), 1'600'000'000'000);
  const auto sample = bj::parse(user.at("sample").as_string()).as_object();
  EXPECT_EQ(sample.at("event").as_string(), "user.created");
  EXPECT_EQ(sample.at("data").at("name").as_string(), "Ada");
  const auto& subscribers = user.at("subscribers").as_array();
  ASSERT_EQ(subscribers.size(), 1u);
  EXPECT_EQ(subscribers[0].at("functionId").as_string(), "receiver");
  EXPECT_EQ(subscribers[0].at("subscriptionId").as_string(), "user.created,receiver,%2F");
  // Another space saw none of it.
  const auto other = request("GET", gateway.url("/v1/spaces/other/events/catalog"));
  ASSERT_TRUE(IsJson(other, 200));
  EXPECT_TRUE(other.json().at("events").as_array().empty()) << other.body;
}

TEST(Console, TheStreamDeliversReceivedEventsAndCallsOfItsSpaceOnly) {
  ConsoleGateway gateway;
  ASSERT_TRUE(gateway.start({"default", "other"}));
  StreamReader stream(gateway.process.config_port(), "default");
  StreamReader other(gateway.process.config_port(), "other");
  ASSERT_TRUE(stream.wait_for("event: open\n")) << stream.data();
  ASSERT_TRUE(other.wait_for("event: open\n")) << other.data();
  EXPECT_NE(stream.data().find("Content-Type: text/event-stream"), std::string::npos) << stream.data();
  EXPECT_NE(stream.data().find("Cache-Control: no-store"), std::string::npos) << stream.data();
  EXPECT_NE(stream.data().find("Transfer-Encoding: chunked"), std::string::npos) << stream.data();
  const auto emitted = gateway.emit("default");
  ASSERT_EQ(emitted.status, 202) << emitted.describe();
  EXPECT_TRUE(stream.wait_for("event: received\ndata: {\"event\":\"user.created\"")) << stream.data();
  EXPECT_TRUE(stream.wait_for("\"type\":\"custom\"")) << stream.data();
  EXPECT_TRUE(
      stream.wait_for("event: call\ndata: {\"functionId\":\"receiver\",\"event\":\"user.created\","
                      "\"outcome\":\"success\",\"status\":200"))
      << stream.data();
  EXPECT_TRUE(stream.wait_for("\"attempt\":1")) << stream.data();
  // The other space's stream heard nothing of it (give it the time the first one needed, and more).
  EXPECT_FALSE(other.wait_for("event: received", 1s)) << other.data();
  EXPECT_EQ(other.data().find("event: call"), std::string::npos) << other.data();
}

TEST(Console, TheCatalogAndTheStreamNeedAKeyForTheirSpace) {
  blackbox::TempDir dir{"eg-console-keys-"};
  const auto keys = dir.path() / "keys";
  const std::string admin = "admin-0123456789abcdef";
  const std::string team = "team-a-0123456789abcdef";
  std::ofstream(keys) << eg::common::sha256_hex(admin) << " *\n"
                      << eg::common::sha256_hex(team) << " team-a\n";
  GatewayOptions options;
  options.extra_args = {"-config-api-keys", keys.string()};
  GatewayProcess gateway(options);
  ASSERT_TRUE(gateway.start());
  const Headers team_key{{"Authorization", "Bearer " + team}};
  for (const auto* resource : {"catalog", "stream"}) {
    SCOPED_TRACE(resource);
    const auto path = std::string("/events/") + resource;
    EXPECT_TRUE(IsJsonError(request("GET", gateway.config_url() + "/v1/spaces/team-a" + path), 401));
    EXPECT_TRUE(
        IsJsonError(request("GET", gateway.config_url() + "/v1/spaces/team-b" + path, {}, team_key), 403));
  }
  EXPECT_TRUE(
      IsJson(request("GET", gateway.config_url() + "/v1/spaces/team-a/events/catalog", {}, team_key), 200));
  StreamReader allowed(gateway.config_port(), "team-a", team);
  EXPECT_TRUE(allowed.wait_for("event: open\n")) << allowed.data();
  StreamReader refused(gateway.config_port(), "team-b", team);
  EXPECT_TRUE(refused.wait_for("HTTP/1.1 403")) << refused.data();
}

TEST(Console, AnOpenStreamBlocksNoOtherConfigurationRequest) {
  ConsoleGateway gateway;
  ASSERT_TRUE(gateway.start());
  StreamReader stream(gateway.process.config_port(), "default");
  ASSERT_TRUE(stream.wait_for("event: open\n")) << stream.data();
  for (int i = 0; i < 5; ++i) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_TRUE(IsJson(request("GET", gateway.url("/v1/spaces/default/functions")), 200));
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  }
  EXPECT_TRUE(gateway.client.add_function("default", "another", gateway.upstream.url("/another")));
}

TEST(Console, SigtermWithAnOpenStreamExitsPromptly) {
  ConsoleGateway gateway;
  ASSERT_TRUE(gateway.start());
  StreamReader stream(gateway.process.config_port(), "default");
  ASSERT_TRUE(stream.wait_for("event: open\n")) << stream.data();
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(gateway.process.stop());
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(gateway.process.exit_code(), 0);
  EXPECT_LT(took, 4s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_TRUE(stream.wait_for_close(1s));
  EXPECT_NE(stream.data().find("0\r\n\r\n"), std::string::npos) << "the stream ends with its last chunk";
}

TEST(Console, WatchersPastTheCapAre503AndAClosedStreamFreesItsPlace) {
  ConsoleGateway gateway;
  ASSERT_TRUE(gateway.start());
  std::vector<std::unique_ptr<StreamReader>> streams;
  for (int i = 0; i < 16; ++i) {
    streams.push_back(std::make_unique<StreamReader>(gateway.process.config_port(), "default"));
    ASSERT_TRUE(streams.back()->wait_for("event: open\n")) << i << ": " << streams.back()->data();
  }
  const auto refused = request("GET", gateway.url("/v1/spaces/default/events/stream"));
  EXPECT_TRUE(IsJsonError(refused, 503, "as many browsers watch the live traffic as may (16)"))
      << refused.describe();
  streams.pop_back();  // its hangup ends its stream
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  bool reopened = false;
  while (!reopened && std::chrono::steady_clock::now() < deadline) {
    StreamReader again(gateway.process.config_port(), "default");
    reopened = again.wait_for("event: open\n", 1s);
  }
  EXPECT_TRUE(reopened);
}

}  // namespace
