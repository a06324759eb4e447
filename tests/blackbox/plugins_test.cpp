// Black-box tests of plugins (docs/plugins.md): the real binary starts real plugin processes, the
// example plugins of examples/plugins/python and the scriptable test plugin of tests/plugins, over
// go-plugin's handshake and gRPC, and real functions (UpstreamServer) receive what they let through.
// Each test is named after what a user sees.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/json_checks.h"
#include "support/upstream_server.h"

namespace {

namespace bj = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using blackbox::custom_subscription;
using blackbox::GatewayClient;
using blackbox::GatewayOptions;
using blackbox::GatewayProcess;
using blackbox::Headers;
using blackbox::http_subscription;
using blackbox::IsJsonError;
using blackbox::request;
using blackbox::UpstreamServer;

using Environment = std::vector<std::pair<std::string, std::string>>;

const fs::path kSource = EG_SOURCE_DIR;
const fs::path kScriptable = kSource / "tests/plugins/scriptable_plugin.py";
const fs::path kAuthorizer = kSource / "examples/plugins/python/authorizer.py";
const fs::path kAuditLogger = kSource / "examples/plugins/python/audit_logger.py";

std::string shell_quoted(const std::string& text) {
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// An executable that starts `program` with `environment` added, as an operator's wrapper script does:
// the gateway passes a plugin no arguments. `exec`, so that the gateway's signals reach the plugin.
fs::path plugin_script(const fs::path& directory, const std::string& name, const Environment& environment,
                       const fs::path& program = kScriptable) {
  const auto path = directory / name;
  std::ofstream script(path, std::ios::trunc);
  script << "#!/bin/sh\n";
  for (const auto& [variable, value] : environment)
    script << "export " << variable << "=" << shell_quoted(value) << "\n";
  script << "exec " << shell_quoted(program.string()) << "\n";
  script.close();
  fs::permissions(path, fs::perms::owner_all);
  return path;
}

// The lines of a plugin's record or audit file, parsed.
std::vector<bj::object> json_lines(const fs::path& file) {
  std::vector<bj::object> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(bj::parse(line).as_object());
  }
  return lines;
}

std::string event_type_of(const bj::object& line) { return std::string(line.at("eventType").as_string()); }

// The lines about the space "default": the requests GatewayClient::sync() makes to know that the
// configuration is routable (in the space "syncprobe") pass through the plugins too.
std::vector<bj::object> in_default_space(const std::vector<bj::object>& lines) {
  std::vector<bj::object> kept;
  for (const auto& line : lines) {
    if (line.at("event").at("data").at("space") == "default") kept.push_back(line);
  }
  return kept;
}

// The lines of `file` about the space "default", once there are at least `count` (or 10 s passed).
std::vector<bj::object> wait_for_default_lines(const fs::path& file, std::size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  auto lines = in_default_space(json_lines(file));
  while (lines.size() < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    lines = in_default_space(json_lines(file));
  }
  return lines;
}

// A gateway started with the plugins of `plugins` (in that order), a function "f" on `function`, and
// whatever more flags a test needs.
struct PluginGateway {
  blackbox::TempDir dir{"eg-plugins-"};
  UpstreamServer function;
  std::unique_ptr<GatewayProcess> process;
  std::unique_ptr<GatewayClient> client;

  ::testing::AssertionResult start(const std::vector<fs::path>& plugins, std::vector<std::string> flags = {},
                                   std::vector<std::string> environment = {}) {
    GatewayOptions options;
    for (const auto& plugin : plugins) {
      options.extra_args.push_back("-plugin");
      options.extra_args.push_back(plugin.string());
    }
    options.extra_args.insert(options.extra_args.end(), flags.begin(), flags.end());
    // The gateway is SIGKILLed at the end of a test, and cannot remove its plugins' socket
    // directories then: they go in the test's directory.
    options.environment = {"TMPDIR=" + dir.path().string()};
    options.environment.insert(options.environment.end(), environment.begin(), environment.end());
    options.ready_timeout = 30s;  // Python plugins start in a fraction of a second, slower under ASan
    process = std::make_unique<GatewayProcess>(std::move(options));
    client = std::make_unique<GatewayClient>(*process);
    if (auto started = process->start(); !started) return started;
    return client->add_function("default", "f", function.url("/f"));
  }
  ::testing::AssertionResult subscribe(const bj::object& subscription) {
    if (auto subscribed = client->subscribe("default", subscription); !subscribed) return subscribed;
    return client->sync();
  }
  fs::path file(const std::string& name) const { return dir.path() / name; }
};

// Starts `gateway` with `plugin` (which records its calls to `record`) and GET /hello routed to "f";
// the pid of the plugin process that was asked about a first request, or 0 (a test failure).
pid_t serving_plugin_pid(PluginGateway& gateway, const fs::path& plugin, const fs::path& record,
                         std::vector<std::string> environment = {}) {
  if (!gateway.start({plugin}, {}, std::move(environment)) ||
      !gateway.subscribe(http_subscription("f", "GET", "/hello"))) {
    ADD_FAILURE() << "the gateway did not start with " << plugin;
    return 0;
  }
  EXPECT_EQ(request("GET", gateway.client->events_url("/hello")).status, 200);
  const auto lines = wait_for_default_lines(record, 1);
  if (lines.size() != 1) {
    ADD_FAILURE() << "expected the plugin to record one call, not " << lines.size();
    return 0;
  }
  return static_cast<pid_t>(lines[0].at("pid").to_number<int>());
}

// ---- gateway.event.received, sync ----

TEST(Plugins, AVetoRefusesTheEventWithTheDefaultStatusAndThePluginsError) {
  PluginGateway gateway;
  const auto plugin = plugin_script(
      gateway.dir.path(), "refuser",
      {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"}, {"PLUGIN_VETO_ERROR", "not today"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/hello")));
  ASSERT_TRUE(gateway.subscribe(bj::object{{"event", "invoke"}, {"functionId", "f"}}));

  // Custom, http and invoke events alike.
  EXPECT_TRUE(IsJsonError(gateway.client->emit("/app", "user.created", R"({"a":1})"), 400, "not today"));
  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello")), 400, "not today"));
  EXPECT_TRUE(
      IsJsonError(request("POST", gateway.client->events_url("/"), "{}",
                          {{"Event", "invoke"}, {"Function-ID", "f"}, {"Content-Type", "application/json"}}),
                  400, "not today"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gateway.function.count("/f"), 0U);  // nothing was routed
}

TEST(Plugins, TheExampleAuthorizerRefusesWithoutItsTokenWith401AndLetsTheTokenThrough) {
  PluginGateway gateway;
  ASSERT_TRUE(gateway.start({kAuthorizer}, {}, {"AUTHORIZER_TOKEN=open-sesame-123"}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "POST", "/orders")));

  EXPECT_TRUE(IsJsonError(gateway.client->emit("/app", "user.created", R"({"a":1})"), 401));
  EXPECT_TRUE(IsJsonError(gateway.client->emit("/app", "user.created", R"({"a":1})", "application/json",
                                               {{"Authorization", "Bearer wrong"}}),
                          401));
  EXPECT_TRUE(IsJsonError(request("POST", gateway.client->events_url("/orders"), "{}"), 401));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gateway.function.count("/f"), 0U);

  const Headers token{{"Authorization", "Bearer open-sesame-123"}};
  EXPECT_EQ(gateway.client->emit("/app", "user.created", R"({"a":1})", "application/json", token).status,
            202);
  EXPECT_EQ(request("POST", gateway.client->events_url("/orders"), "{}", token).status, 200);
  EXPECT_TRUE(gateway.function.wait_for_requests("/f", 2));
}

TEST(Plugins, AVetoMayChooseItsStatusAndKeepsTheCorsHeadersOfTheRoute) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "teapot",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_VETO_ERROR", "short and stout"},
                                     {"PLUGIN_VETO_STATUS", "418"}});
  ASSERT_TRUE(gateway.start({plugin}));
  auto route = http_subscription("f", "GET", "/tea");
  route["cors"] = bj::object{{"origins", bj::array{"https://app.example.com"}}};
  ASSERT_TRUE(gateway.subscribe(route));

  const auto refused =
      request("GET", gateway.client->events_url("/tea"), {}, {{"Origin", "https://app.example.com"}});
  EXPECT_TRUE(IsJsonError(refused, 418, "short and stout"));
  EXPECT_EQ(refused.header("Access-Control-Allow-Origin"), "https://app.example.com");
}

TEST(Plugins, ATransformReplacesTheDataTheSubscriberReceives) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "enricher",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_TRANSFORM_DATA", R"({"name":"Grace","enriched":true})"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));

  // Sent as plain text: the transformed data is JSON, and so is the event's dataType now.
  ASSERT_EQ(gateway.client->emit("/app", "user.created", "grace hopper", "text/plain").status, 202);
  ASSERT_TRUE(gateway.function.wait_for_requests("/f", 1));
  const auto event = gateway.function.requests("/f").front().json().as_object();
  EXPECT_EQ(bj::serialize(event.at("data")), R"({"name":"Grace","enriched":true})");
  EXPECT_EQ(event.at("dataType"), "application/json");
  EXPECT_EQ(event.at("event"), "user.created");
}

TEST(Plugins, ATransformThatIsNotJsonRefusesTheEventWith500) {
  PluginGateway gateway;
  const auto plugin = plugin_script(
      gateway.dir.path(), "broken",
      {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"}, {"PLUGIN_TRANSFORM_DATA", "{not json"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));

  EXPECT_TRUE(
      IsJsonError(gateway.client->emit("/app", "user.created", "{}"), 500, "plugin broken returned data"));
}

TEST(Plugins, PluginsAreAskedInFlagOrderEachSeeingWhatTheOneBeforeLeft) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  // The second refuses only what the first has transformed: it refuses, so it saw the first's work.
  const auto first = plugin_script(gateway.dir.path(), "first",
                                   {{"PLUGIN_NAME", "first"},
                                    {"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                    {"PLUGIN_TRANSFORM_DATA", R"({"stamp":"first-was-here"})"},
                                    {"PLUGIN_RECORD_FILE", record.string()}});
  const auto second = plugin_script(gateway.dir.path(), "second",
                                    {{"PLUGIN_NAME", "second"},
                                     {"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_VETO_ERROR", "stamped by first"},
                                     {"PLUGIN_VETO_IF", "first-was-here"},
                                     {"PLUGIN_RECORD_FILE", record.string()}});
  ASSERT_TRUE(gateway.start({first, second}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));

  EXPECT_TRUE(
      IsJsonError(gateway.client->emit("/app", "user.created", R"({"a":1})"), 400, "stamped by first"));
  const auto lines = wait_for_default_lines(record, 2);
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_EQ(lines[0].at("plugin"), "first");
  EXPECT_EQ(lines[1].at("plugin"), "second");
  // Both saw the system event as a subscriber of gateway.event.received receives it.
  const auto& seen = lines[0].at("event").as_object();
  EXPECT_EQ(seen.at("event"), "gateway.event.received");
  EXPECT_EQ(seen.at("data").at("event").at("event"), "user.created");
  EXPECT_EQ(seen.at("data").at("space"), "default");
  EXPECT_EQ(seen.at("data").at("path"), "/app");
}

TEST(Plugins, TwoAsyncPluginsBothHearOfAnHttpEventWithItsHeaders) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  std::vector<std::filesystem::path> plugins;
  for (const std::string name : {"first", "second"}) {
    plugins.push_back(plugin_script(gateway.dir.path(), name,
                                    {{"PLUGIN_NAME", name},
                                     {"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:async"},
                                     {"PLUGIN_STREAMS", "1"},
                                     {"PLUGIN_RECORD_FILE", record.string()}}));
  }
  ASSERT_TRUE(gateway.start(plugins));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/heard")));

  EXPECT_EQ(request("GET", gateway.client->events_url("/heard"), "", {{"X-Trace-Me", "yes"}}).status, 200);
  const auto lines = wait_for_default_lines(record, 2);
  ASSERT_EQ(lines.size(), 2U);
  std::set<std::string> heard_by;
  for (const auto& line : lines) {
    heard_by.insert(std::string(line.at("plugin").as_string()));
    const auto& data = line.at("event").at("data").as_object();
    EXPECT_EQ(data.at("event").at("event"), "http");
    EXPECT_EQ(data.at("path"), "/heard");
    EXPECT_EQ(data.at("headers").at("X-Trace-Me"), "yes");
  }
  EXPECT_EQ(heard_by, (std::set<std::string>{"first", "second"}));
  // The same system event: one id, told to each.
  EXPECT_EQ(lines[0].at("event").at("id"), lines[1].at("event").at("id"));
}

// ---- gateway.function.invoking, sync ----

TEST(Plugins, AVetoOfInvokingAnswersASyncCallerAndTheFunctionIsNotCalled) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "gatekeeper",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.function.invoking:sync"},
                                     {"PLUGIN_VETO_ERROR", "f is closed"},
                                     {"PLUGIN_VETO_STATUS", "403"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/hello")));

  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello")), 403, "f is closed"));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(gateway.function.count("/f"), 0U);
}

TEST(Plugins, AVetoOfInvokingMakesAnAsyncDeliveryADeadLetterWithoutCallingTheFunction) {
  PluginGateway gateway;
  const auto plugin = plugin_script(
      gateway.dir.path(), "gatekeeper",
      {{"PLUGIN_SUBSCRIPTIONS", "gateway.function.invoking:sync"}, {"PLUGIN_VETO_ERROR", "f is closed"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));

  ASSERT_EQ(gateway.client->emit("/app", "user.created", R"({"a":1})").status, 202);
  bj::array letters;
  for (int i = 0; i < 500 && letters.empty(); ++i) {
    const auto listed = gateway.client->config().get("/v1/spaces/default/deadletters");
    if (listed.status == 200) letters = listed.json().as_object().at("deadLetters").as_array();
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(letters.size(), 1U);
  EXPECT_EQ(letters[0].at("attempts"), 1);  // a veto is not retried
  EXPECT_NE(std::string(letters[0].at("lastError").as_string()).find("f is closed"), std::string::npos);
  EXPECT_EQ(gateway.function.count("/f"), 0U);
}

// ---- async ----

TEST(Plugins, TheExampleAuditLoggerHearsOfInvokedAndInvocationFailed) {
  PluginGateway gateway;
  const auto audit = gateway.file("audit.jsonl");
  ASSERT_TRUE(gateway.start({kAuditLogger}, {}, {"AUDIT_LOG_FILE=" + audit.string()}));
  ASSERT_TRUE(gateway.client->add_function("default", "down", "http://127.0.0.1:9/down"));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/up")));
  ASSERT_TRUE(gateway.subscribe(http_subscription("down", "GET", "/down")));

  EXPECT_EQ(request("GET", gateway.client->events_url("/up")).status, 200);
  EXPECT_EQ(request("GET", gateway.client->events_url("/down")).status, 502);
  // For each: received, invoking, and invoked or invocationFailed.
  const auto lines = wait_for_default_lines(audit, 6);
  std::multiset<std::string> types;
  for (const auto& line : lines) types.insert(event_type_of(line));
  EXPECT_EQ(types.count("gateway.event.received"), 2U);
  EXPECT_EQ(types.count("gateway.function.invoking"), 2U);
  EXPECT_EQ(types.count("gateway.function.invoked"), 1U);
  EXPECT_EQ(types.count("gateway.function.invocationFailed"), 1U);
  for (const auto& line : lines) {
    if (event_type_of(line) != "gateway.function.invocationFailed") continue;
    const auto& data = line.at("event").at("data").as_object();
    EXPECT_EQ(data.at("functionId"), "down");
    EXPECT_EQ(data.at("space"), "default");
  }
}

// A gateway.function.* event that only plugins hear of is written as text, one that a function
// subscribes to as a tree (Dispatcher::announce_about): the plugin gets the same JSON either way.
TEST(Plugins, AnAsyncPluginGetsTheFunctionEventsOfACallAsTheirSubscribersWould) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  const auto plugin = plugin_script(
      gateway.dir.path(), "told",
      {{"PLUGIN_SUBSCRIPTIONS", "gateway.function.invoking:async,gateway.function.invoked:async"},
       {"PLUGIN_STREAMS", "1"},
       {"PLUGIN_RECORD_FILE", record.string()}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/told")));
  // The calls' events, by type, about the http requests (not about the subscribers' own deliveries).
  const auto about_requests = [&](std::size_t count) {
    std::map<std::string, std::vector<bj::object>> by_type;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (std::size_t found = 0; found < count && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(20ms);
      by_type.clear();
      found = 0;
      for (const auto& line : wait_for_default_lines(record, 0)) {
        const auto& event = line.at("event").as_object();
        if (event.at("data").at("event").at("event") != "http") continue;
        by_type[event_type_of(line)].push_back(event);
        ++found;
      }
    }
    return by_type;
  };

  EXPECT_EQ(request("GET", gateway.client->events_url("/told?x=1")).status, 200);
  auto heard = about_requests(2);
  ASSERT_EQ(heard["gateway.function.invoking"].size(), 1U);
  ASSERT_EQ(heard["gateway.function.invoked"].size(), 1U);
  const auto& invoked = heard["gateway.function.invoked"][0].at("data").as_object();
  EXPECT_EQ(invoked.at("space"), "default");
  EXPECT_EQ(invoked.at("functionId"), "f");
  EXPECT_EQ(invoked.at("event").at("data").at("path"), "/told");
  EXPECT_TRUE(invoked.contains("result"));

  // Now a function subscribes to both: the same request again, its events built as trees.
  ASSERT_TRUE(gateway.subscribe(custom_subscription("gateway.function.invoking", "f", "/")));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("gateway.function.invoked", "f", "/")));
  ASSERT_TRUE(gateway.client->sync());
  EXPECT_EQ(request("GET", gateway.client->events_url("/told?x=1")).status, 200);
  heard = about_requests(4);
  // What differs from one request to the next: ids, times and trace contexts.
  const auto without_stamps = [](bj::object event) {
    for (auto* json : {&event, &event.at("data").at("event").as_object()}) {
      for (const auto* name : {"id", "receivedAt", "traceparent", "tracestate"}) json->erase(name);
    }
    return bj::serialize(event);  // member order too
  };
  for (const auto* type : {"gateway.function.invoking", "gateway.function.invoked"}) {
    ASSERT_EQ(heard[type].size(), 2U) << type;
    EXPECT_EQ(without_stamps(heard[type][0]), without_stamps(heard[type][1])) << type;
  }
}

TEST(Plugins, APluginWithoutNotifyGetsItsAsyncEventsAsReactCalls) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  const auto plugin =
      plugin_script(gateway.dir.path(), "unary",
                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:async,gateway.function.invoked:async"},
                     {"PLUGIN_RECORD_FILE", record.string()}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/up")));

  EXPECT_EQ(request("GET", gateway.client->events_url("/up")).status, 200);
  const auto lines = wait_for_default_lines(record, 2);
  std::multiset<std::string> types;
  for (const auto& line : lines) types.insert(event_type_of(line));
  EXPECT_EQ(types, (std::multiset<std::string>{"gateway.event.received", "gateway.function.invoked"}));
}

TEST(Plugins, AsyncEventsStillQueuedAtShutdownReachThePluginBeforeItIsStopped) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  // 60 events at 100 ms each, on two streams (one per Events API thread): 3 s of work, more than the
  // example server's 2 s of grace after SIGTERM, so only the gateway's waiting for its Notify streams
  // to be answered gets them all there.
  const auto plugin = plugin_script(gateway.dir.path(), "slow-audit",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:async"},
                                     {"PLUGIN_STREAMS", "1"},
                                     {"PLUGIN_DELAY_MS", "100"},
                                     {"PLUGIN_RECORD_FILE", record.string()}});
  ASSERT_TRUE(gateway.start({plugin}, {"-plugin-timeout", "8000", "-events-threads", "2"}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/up")));

  constexpr std::size_t kRequests = 60;
  for (std::size_t i = 0; i < kRequests; ++i) {
    ASSERT_EQ(request("GET", gateway.client->events_url("/up")).status, 200);
  }
  EXPECT_LT(in_default_space(json_lines(record)).size(), kRequests) << "the plugin should still be busy";
  EXPECT_TRUE(gateway.process->stop());
  EXPECT_EQ(gateway.process->exit_code(), 0);
  EXPECT_EQ(in_default_space(json_lines(record)).size(), kRequests);
}

// ---- ReactStream: the same contract, many calls per message ----

TEST(Plugins, OnAReactStreamVetoesAndTransformsAreAnsweredAsByReact) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "streamed",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_STREAMS", "1"},
                                     {"PLUGIN_VETO_ERROR", "not this one"},
                                     {"PLUGIN_VETO_STATUS", "403"},
                                     {"PLUGIN_VETO_IF", "forbidden"},
                                     {"PLUGIN_TRANSFORM_DATA", R"({"name":"Grace"})"}});
  ASSERT_TRUE(gateway.start({plugin}));
  ASSERT_TRUE(gateway.subscribe(custom_subscription("user.created", "f", "/app")));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/hello")));

  EXPECT_TRUE(
      IsJsonError(request("GET", gateway.client->events_url("/hello?forbidden")), 403, "not this one"));
  ASSERT_EQ(gateway.client->emit("/app", "user.created", R"({"name":"Ada"})").status, 202);
  ASSERT_TRUE(gateway.function.wait_for_requests("/f", 1));
  EXPECT_EQ(bj::serialize(gateway.function.requests("/f").front().json().at("data")), R"({"name":"Grace"})");
}

TEST(Plugins, OnAReactStreamACallPastTheDeadlineRefusesWith503NamingThePlugin) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "sleepy-stream",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_STREAMS", "1"},
                                     {"PLUGIN_DELAY_MS", "3000"}});
  ASSERT_TRUE(gateway.start({plugin}, {"-plugin-timeout", "300"}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/hello")));

  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello")), 503,
                          "plugin sleepy-stream did not answer within 300 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);
  EXPECT_EQ(gateway.function.count("/f"), 0U);
}

// ---- failure is explicit ----

TEST(Plugins, ASyncPluginThatDoesNotAnswerInTimeRefusesWith503NamingIt) {
  PluginGateway gateway;
  const auto plugin =
      plugin_script(gateway.dir.path(), "sleepy",
                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"}, {"PLUGIN_DELAY_MS", "3000"}});
  ASSERT_TRUE(gateway.start({plugin}, {"-plugin-timeout", "300"}));
  ASSERT_TRUE(gateway.subscribe(http_subscription("f", "GET", "/hello")));

  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello")), 503,
                          "plugin sleepy did not answer within 300 ms"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);  // the deadline, not the plugin, ended it
  EXPECT_EQ(gateway.function.count("/f"), 0U);
}

// `streams`: the plugin takes its calls on a ReactStream rather than as React calls.
void a_killed_plugin_fails_closed_then_is_started_again_and_works(bool streams) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  const auto plugin = plugin_script(gateway.dir.path(), "guard",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_VETO_ERROR", "no"},
                                     {"PLUGIN_VETO_IF", "forbidden"},
                                     {"PLUGIN_RECORD_FILE", record.string()},
                                     {"PLUGIN_STREAMS", streams ? "1" : "0"}});
  const auto pid = serving_plugin_pid(gateway, plugin, record);
  ASSERT_NE(pid, 0);

  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  // Until it is back, every request fails closed: never let through unchecked.
  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello")), 503, "plugin guard"));
  // And the gateway says it is not ready, for as long as the restart takes (100 ms at least).
  blackbox::HttpResponse not_ready;
  for (const auto deadline = std::chrono::steady_clock::now() + 2s;
       not_ready.status != 503 && std::chrono::steady_clock::now() < deadline;) {
    not_ready = request("GET", gateway.client->events_url("/readyz"));
  }
  EXPECT_TRUE(IsJsonError(not_ready, 503, "not ready: plugin guard is not running"));

  int status = 0;
  for (int i = 0; i < 500 && status != 200; ++i) {
    std::this_thread::sleep_for(20ms);
    status = request("GET", gateway.client->events_url("/hello")).status;
    ASSERT_TRUE(status == 200 || status == 503) << status;
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(request("GET", gateway.process->config_url() + "/readyz").status, 200);
  // It is the plugin that answers again, not a bypass: it still refuses what it refuses.
  EXPECT_TRUE(IsJsonError(request("GET", gateway.client->events_url("/hello?forbidden")), 400, "no"));
  EXPECT_NE(gateway.process->log().find("plugin guard was killed by signal 9"), std::string::npos);
  const auto after = json_lines(record);
  ASSERT_FALSE(after.empty());
  EXPECT_NE(after.back().at("pid").to_number<int>(), pid);
}

TEST(Plugins, AKilledPluginFailsClosedThenIsStartedAgainAndWorks) {
  a_killed_plugin_fails_closed_then_is_started_again_and_works(false);
}

TEST(Plugins, AKilledPluginOnAReactStreamFailsClosedThenIsStartedAgainAndWorks) {
  a_killed_plugin_fails_closed_then_is_started_again_and_works(true);
}

// What `directory` holds, by name.
std::set<std::string> entries_of(const fs::path& directory) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory)) names.insert(entry.path().filename().string());
  return names;
}

TEST(Plugins, EachPluginStartHasASocketDirectoryOfItsOwnRemovedOnceTheProcessHasExited) {
  PluginGateway gateway;
  const auto sockets = gateway.file("sockets");  // where the operator wants plugin sockets
  fs::create_directory(sockets);
  const auto record = gateway.file("record.jsonl");
  const auto plugin = plugin_script(
      gateway.dir.path(), "guard",
      {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"}, {"PLUGIN_RECORD_FILE", record.string()}});
  const auto pid =
      serving_plugin_pid(gateway, plugin, record, {"PLUGIN_UNIX_SOCKET_DIR=" + sockets.string()});
  ASSERT_NE(pid, 0);
  const auto first = entries_of(sockets);
  ASSERT_EQ(first.size(), 1U);
  const auto directory = sockets / *first.begin();
  EXPECT_EQ(fs::status(directory).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_FALSE(entries_of(directory).empty());  // the plugin made its socket there

  // SIGKILL: the plugin cannot clean up; the gateway does, and gives the next start another one.
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  for (int i = 0; i < 500 && status != 200; ++i) {
    std::this_thread::sleep_for(20ms);
    status = request("GET", gateway.client->events_url("/hello")).status;
  }
  ASSERT_EQ(status, 200);
  const auto second = entries_of(sockets);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_NE(*second.begin(), *first.begin());

  EXPECT_TRUE(gateway.process->stop());
  EXPECT_TRUE(entries_of(sockets).empty());
}

TEST(Plugins, ThePluginsStderrAndLaterStdoutGoToTheGatewaysLogTaggedWithItsName) {
  PluginGateway gateway;
  const auto plugin = plugin_script(gateway.dir.path(), "chatty",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.function.invoked"},
                                     {"PLUGIN_STDERR_LINE", "warming up the flux capacitor"},
                                     {"PLUGIN_STDOUT_LINE", "serving requests now"}});
  ASSERT_TRUE(gateway.start({plugin}));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (gateway.process->log().find("serving requests now") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  const auto log = gateway.process->log();
  EXPECT_NE(log.find("plugin chatty (stderr): warming up the flux capacitor"), std::string::npos) << log;
  EXPECT_NE(log.find("plugin chatty: serving requests now"), std::string::npos) << log;
}

TEST(Plugins, OnSigtermPluginsStopAfterTheGatewayAndOneThatIgnoresItIsKilled) {
  PluginGateway gateway;
  const auto record = gateway.file("record.jsonl");
  const auto plugin = plugin_script(gateway.dir.path(), "stubborn",
                                    {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"},
                                     {"PLUGIN_IGNORE_SIGTERM", "1"},
                                     {"PLUGIN_RECORD_FILE", record.string()}});
  const auto pid = serving_plugin_pid(gateway, plugin, record);
  ASSERT_NE(pid, 0);

  EXPECT_TRUE(gateway.process->stop());
  EXPECT_EQ(gateway.process->exit_code(), 0);
  EXPECT_NE(::kill(pid, 0), 0);  // gone: killed after the deadline
  EXPECT_NE(gateway.process->log().find("plugin stubborn did not exit after SIGTERM"), std::string::npos);
}

// ---- start errors ----

struct StartError {
  blackbox::TempDir dir{"eg-plugin-start-"};

  blackbox::RunResult run(const std::vector<fs::path>& plugins, std::vector<std::string> flags = {},
                          const std::vector<std::string>& environment = {}) {
    const auto ports = blackbox::pick_free_ports(2);
    std::vector<std::string> args{"-dev",
                                  "-embed-data-dir",
                                  (dir.path() / "data").string(),
                                  "-config-port",
                                  std::to_string(ports[0]),
                                  "-events-port",
                                  std::to_string(ports[1])};
    for (const auto& plugin : plugins) {
      args.push_back("-plugin");
      args.push_back(plugin.string());
    }
    args.insert(args.end(), flags.begin(), flags.end());
    return blackbox::run_binary(args, 20s, environment);
  }
};

TEST(PluginStart, ABadHandshakeLineEndsTheStartSayingWhy) {
  StartError start;
  const auto netrpc = plugin_script(start.dir.path(), "netrpc-plugin",
                                    {{"PLUGIN_HANDSHAKE_LINE", "1|1|{network}|{address}|netrpc"}});
  const auto r = start.run({netrpc});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("plugin netrpc-plugin"), std::string::npos) << r.output();
  EXPECT_NE(r.output().find("netrpc"), std::string::npos) << r.output();
  EXPECT_NE(r.output().find("grpc plugins only"), std::string::npos) << r.output();

  const auto garbage = plugin_script(start.dir.path(), "garbage", {{"PLUGIN_HANDSHAKE_LINE", "hello world"}});
  const auto g = start.run({garbage});
  EXPECT_EQ(g.exit_code, 1) << g.output();
  EXPECT_NE(g.output().find("is not go-plugin's handshake"), std::string::npos) << g.output();

  const auto version =
      plugin_script(start.dir.path(), "v2", {{"PLUGIN_HANDSHAKE_LINE", "1|2|{network}|{address}|grpc"}});
  const auto v = start.run({version});
  EXPECT_EQ(v.exit_code, 1) << v.output();
  EXPECT_NE(v.output().find("plugin protocol version 2"), std::string::npos) << v.output();
}

TEST(PluginStart, APluginThatWantsAnotherCookieEndsTheStartQuotingWhatItSaid) {
  StartError start;
  // A plugin built for another application: it finds the gateway's cookie wrong and refuses to run.
  const auto path = start.dir.path() / "other-app-plugin";
  std::ofstream(path)
      << "#!/bin/sh\n"
         "[ \"$OTHER_APP_COOKIE\" = 42 ] || { echo 'This binary is a plugin of another app' >&2; exit 1; }\n";
  fs::permissions(path, fs::perms::owner_all);
  const auto r = start.run({path});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("exited with status 1 before printing its handshake line"), std::string::npos)
      << r.output();
  EXPECT_NE(r.output().find("This binary is a plugin of another app"), std::string::npos) << r.output();
}

TEST(PluginStart, APluginThatNeverHandshakesEndsTheStartAtTheStartTimeout) {
  StartError start;
  const auto path = start.dir.path() / "silent";
  std::ofstream(path) << "#!/bin/sh\nexec sleep 30\n";
  fs::permissions(path, fs::perms::owner_all);
  const auto r = start.run({path}, {"-plugin-start-timeout", "500"});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("printed no handshake line within 500 ms"), std::string::npos) << r.output();
}

TEST(PluginStart, ASocketDirectoryThatCannotBeMadeEndsTheStartSayingWhere) {
  StartError start;
  const auto plugin =
      plugin_script(start.dir.path(), "guard", {{"PLUGIN_SUBSCRIPTIONS", "gateway.event.received:sync"}});
  const auto missing = start.dir.path() / "no-such-directory";
  const auto r = start.run({plugin}, {}, {"PLUGIN_UNIX_SOCKET_DIR=" + missing.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("cannot start plugin " + plugin.string() +
                            ": cannot make a directory for its socket in " + missing.string() +
                            ": No such file or directory"),
            std::string::npos)
      << r.output();
}

TEST(PluginStart, AMissingPluginEndsTheStartNamingIt) {
  StartError start;
  const auto r = start.run({start.dir.path() / "no-such-plugin"});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("no-such-plugin"), std::string::npos) << r.output();
  EXPECT_NE(r.output().find("No such file or directory"), std::string::npos) << r.output();
}

// The plugins' gRPC client is a module next to the binary (EG_PLUGIN_MODULE_FILE): without it the start
// ends before any plugin is started, naming the file that is missing.
TEST(PluginModule, WithoutItTheStartEndsBeforeAnyPluginRuns) {
  blackbox::BinaryWithoutModules binary;
  blackbox::TempDir dir("eg-plugin-module-");
  const auto started = dir.path() / "started";
  const auto plugin = dir.path() / "plugin.sh";
  std::ofstream(plugin) << "#!/bin/sh\ntouch " << shell_quoted(started.string()) << "\nsleep 5\n";
  fs::permissions(plugin, fs::perms::owner_all);
  const auto ports = blackbox::pick_free_ports(2);
  const auto r = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(), "-plugin",
                                       plugin.string(), "-plugin-start-timeout", "2000", "-config-port",
                                       std::to_string(ports[0]), "-events-port", std::to_string(ports[1])});
  EXPECT_EQ(r.exit_code, 1) << r.output();
  EXPECT_NE(r.output().find("-plugin needs the module "), std::string::npos) << r.output();
  EXPECT_NE(r.output().find(EG_PLUGIN_MODULE_FILE ", which is missing"), std::string::npos) << r.output();
  EXPECT_FALSE(fs::exists(started)) << "the plugin was started";
}

}  // namespace
