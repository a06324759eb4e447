// Black-box tests of what the gateway shows about itself: its Prometheus metrics (docs/metrics.md),
// scraped by a real Prometheus (Debian's `prometheus`, which scripts/install-deps.sh installs) and
// checked by its `promtool`; the W3C trace context it passes to functions (docs/events.md, "Trace
// context"); and its log lines' fields (docs/logging.md).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/config_client.h"
#include "support/gateway_client.h"
#include "support/gateway_process.h"
#include "support/http_client.h"
#include "support/upstream_server.h"

extern char** environ;

namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;
using blackbox::GatewayClient;
using blackbox::GatewayProcess;
using blackbox::http_subscription;
using blackbox::request;

// A real Prometheus scraping one gateway's Configuration API every second, on a free port, with its
// data and log in a temporary directory; stopped with SIGTERM when destroyed.
class Prometheus {
 public:
  explicit Prometheus(int config_port) : port_(blackbox::pick_free_port()) {
    const auto config = dir_.path() / "prometheus.yml";
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                          << "scrape_configs:\n  - job_name: event-gateway\n    metrics_path: /metrics\n"
                          << "    static_configs:\n      - targets: ['127.0.0.1:" << config_port << "']\n";
    const std::vector<std::string> args = {"prometheus", "--config.file=" + config.string(),
                                           "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                           "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                           "--log.level=warn"};
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    const auto log = (dir_.path() / "prometheus.log").string();
    posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&files, 1, 2);
    spawned_ = posix_spawnp(&pid_, "prometheus", &files, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&files);
  }
  ~Prometheus() {
    if (!spawned_) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  ::testing::AssertionResult ready() const {
    if (!spawned_)
      return ::testing::AssertionFailure() << "prometheus could not be started: is it installed?";
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (request("GET", url("/-/ready")).status == 200) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(100ms);
    }
    return ::testing::AssertionFailure() << "prometheus was not ready within 30 s: " << log();
  }

  // The value of an instant query that selects one series; nothing while it selects none.
  std::optional<double> value(const std::string& query) const {
    const auto r = request("GET", url("/api/v1/query?query=" + blackbox::encode_uri_component(query)));
    last_answer_ = r.describe();
    if (r.status != 200) return std::nullopt;
    const auto answer = r.json();
    const auto& result = answer.at("data").at("result").as_array();
    if (result.size() != 1) return std::nullopt;
    return std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
  }

  // Waits (up to 30 s: Prometheus scrapes every second) until the query's value is at least `expected`.
  ::testing::AssertionResult reaches(const std::string& query, double expected) const {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::optional<double> seen;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = value(query);
      if (seen && *seen >= expected) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(200ms);
    }
    return ::testing::AssertionFailure()
           << query << " is " << (seen ? std::to_string(*seen) : "absent") << ", not " << expected
           << ", after 30 s; last answer: " << last_answer_ << "; " << log();
  }

 private:
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string log() const {
    std::ifstream in(dir_.path() / "prometheus.log");
    return "prometheus log: " + std::string(std::istreambuf_iterator<char>(in), {});
  }

  blackbox::TempDir dir_{"eg-prometheus-"};
  int port_;
  mutable std::string last_answer_;  // of the last query, for failure messages
  pid_t pid_ = -1;
  bool spawned_ = false;
};

// A gateway with functions that answer ("ok") and that cannot be reached ("down"), http routes to
// both and a custom event that "ok" subscribes to.
struct ObservedGateway {
  blackbox::UpstreamServer upstream;
  GatewayProcess process;
  GatewayClient gateway{process};

  ::testing::AssertionResult start() {
    if (auto started = process.start(); !started) return started;
    const auto nowhere = "http://127.0.0.1:" + std::to_string(blackbox::pick_free_port()) + "/down";
    for (auto configured : {gateway.add_function("default", "ok", upstream.url("/ok")),
                            gateway.add_function("default", "down", nowhere),
                            gateway.subscribe("default", http_subscription("ok", "GET", "/ok")),
                            gateway.subscribe("default", http_subscription("down", "GET", "/down")),
                            gateway.subscribe("default", blackbox::custom_subscription("user.created", "ok")),
                            gateway.sync()}) {
      if (!configured) return configured;
    }
    return ::testing::AssertionSuccess();
  }

  void emit(int times) {
    for (int i = 0; i < times; ++i) {
      EXPECT_EQ(gateway.emit("/", "user.created", R"({"n":1})").status, 202);
    }
  }
};

TEST(Metrics, PrometheusSeesEventsReceivedRiseAndFunctionCallsByOutcome) {
  ObservedGateway observed;
  ASSERT_TRUE(observed.start());
  observed.emit(3);
  EXPECT_EQ(request("GET", observed.gateway.events_url("/ok")).status, 200);
  EXPECT_EQ(request("GET", observed.gateway.events_url("/down")).status, 502);

  Prometheus prometheus(observed.process.config_port());
  ASSERT_TRUE(prometheus.ready());
  const std::string received = R"(gateway_events_received_total{space="default",type="custom"})";
  EXPECT_TRUE(prometheus.reaches(received, 3));
  observed.emit(2);
  EXPECT_TRUE(prometheus.reaches(received, 5));
  EXPECT_TRUE(prometheus.reaches(R"(gateway_events_received_total{space="default",type="http"})", 2));
  // One sync call and five deliveries of the custom event answered; the sync call to "down" failed.
  EXPECT_TRUE(prometheus.reaches(
      R"(gateway_function_call_duration_seconds_count{space="default",function="ok",outcome="success"})", 6));
  EXPECT_TRUE(prometheus.reaches(
      R"(gateway_function_call_duration_seconds_count{space="default",function="down",outcome="unreachable"})",
      1));
  EXPECT_TRUE(prometheus.reaches(
      R"(gateway_function_call_duration_seconds_bucket{function="ok",outcome="success",le="+Inf"})", 6));
  EXPECT_TRUE(prometheus.reaches(R"(gateway_functions_total{space="default"})", 2));
  EXPECT_FALSE(prometheus.value(R"(gateway_function_calls_total{function="down",outcome="success"})"));
}

// promtool reads the metrics from stdin; its output and exit status (0 clean, 3 lint findings, 1 an
// error), as `promtool check metrics < file` gives them.
std::pair<int, std::set<std::string>> promtool_check(const std::string& metrics) {
  blackbox::TempDir dir("eg-promtool-");
  const auto file = dir.path() / "metrics.txt";
  std::ofstream(file) << metrics;
  const auto command = "promtool check metrics < " + file.string() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, {}};
  std::set<std::string> lines;
  char line[4096];
  while (fgets(line, sizeof line, pipe) != nullptr) {
    std::string text(line);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty()) lines.insert(text);
  }
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, lines};
}

TEST(Metrics, PromtoolFindsNothingButTheOriginalsGaugeNamesOnEitherPath) {
  ObservedGateway observed;
  ASSERT_TRUE(observed.start());
  observed.emit(1);
  EXPECT_EQ(request("GET", observed.gateway.events_url("/down")).status, 502);
  for (const std::string path : {"/metrics", "/v1/metrics"}) {
    SCOPED_TRACE(path);
    const auto metrics = request("GET", observed.process.config_url() + path);
    ASSERT_EQ(metrics.status, 200) << metrics.describe();
    EXPECT_EQ(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    const auto [status, findings] = promtool_check(metrics.body);
    // The original gateway's gauges keep their names for its dashboards; promtool's lint prefers
    // counters alone to end in _total (docs/metrics.md).
    const std::set<std::string> expected = {
        R"(gateway_functions_total non-counter metrics should not have "_total" suffix)",
        R"(gateway_subscriptions_total non-counter metrics should not have "_total" suffix)"};
    EXPECT_EQ(status, 3) << metrics.body;
    EXPECT_EQ(findings, expected) << metrics.body;
  }
  EXPECT_EQ(request("POST", observed.process.config_url() + "/metrics").status, 405);
}

// ---- trace context ----

constexpr const char* kCallersTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
constexpr const char* kCallersTracestate = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";
const blackbox::Headers kCallersTrace = {{"traceparent", kCallersTraceparent},
                                         {"tracestate", kCallersTracestate}};

// A gateway whose functions answer ("ok"), fail once then answer ("flaky", an async subscriber that
// retries at once), or always fail ("failing", answering 500), with -log-format json so that its
// lines can be read as JSON.
struct TracedGateway {
  explicit TracedGateway(std::vector<std::string> more_args = {})
      : process(blackbox::GatewayOptions{.extra_args = with_json_log(std::move(more_args))}) {}

  static std::vector<std::string> with_json_log(std::vector<std::string> args) {
    args.insert(args.end(), {"-log-format", "json"});
    return args;
  }

  blackbox::UpstreamServer upstream;
  GatewayProcess process;
  GatewayClient gateway{process};

  ::testing::AssertionResult start() {
    upstream.respond_in_turn("/flaky", {{.status = 503}, {.status = 200}});
    upstream.respond("/failing", {.status = 500});
    upstream.respond("/refusing", {.status = 400});
    if (auto started = process.start(); !started) return started;
    auto flaky = blackbox::custom_subscription("user.created", "flaky");
    flaky["delivery"] = bj::object{{"initialBackoffMs", 1}, {"maxBackoffMs", 5}};
    for (auto configured :
         {gateway.add_function("default", "ok", upstream.url("/ok")),
          gateway.add_function("default", "flaky", upstream.url("/flaky")),
          gateway.add_function("default", "failing", upstream.url("/failing")),
          gateway.add_function("default", "refusing", upstream.url("/refusing")),
          gateway.subscribe("default", http_subscription("ok", "GET", "/ok")),
          gateway.subscribe("default", http_subscription("failing", "GET", "/failing")),
          gateway.subscribe("default", bj::object{{"event", "invoke"}, {"functionId", "ok"}}),
          gateway.subscribe("default", flaky),
          gateway.subscribe("default", blackbox::custom_subscription("user.deleted", "refusing")),
          gateway.sync()}) {
      if (!configured) return configured;
    }
    return ::testing::AssertionSuccess();
  }

  // The log's JSON lines that have `field` equal to `value`.
  std::vector<bj::object> log_lines_with(const std::string& field, const std::string& value) const {
    std::vector<bj::object> lines;
    std::istringstream log(process.log());
    for (std::string line; std::getline(log, line);) {
      boost::system::error_code error;
      auto json = bj::parse(line, error);
      if (error || !json.is_object()) continue;
      const auto* found = json.as_object().if_contains(field);
      if (found != nullptr && found->is_string() && found->as_string() == value) lines.push_back(json.as_object());
    }
    return lines;
  }
};

std::string trace_id_of(std::string_view traceparent) { return std::string(traceparent.substr(3, 32)); }

TEST(Trace, ACallersTraceparentAndTracestateReachEverySyncCallUnchanged) {
  TracedGateway traced;
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(request("GET", traced.gateway.events_url("/ok"), "", kCallersTrace).status, 200);
  EXPECT_EQ(request("POST", traced.gateway.events_url("/"), R"({"q":1})",
                    {{"Event", "invoke"}, {"Function-ID", "ok"}, {"Content-Type", "application/json"},
                     {"traceparent", kCallersTraceparent}, {"tracestate", kCallersTracestate}})
                .status,
            200);
  const auto calls = traced.upstream.requests("/ok");
  ASSERT_EQ(calls.size(), 2U);
  for (const auto& call : calls) {
    EXPECT_EQ(call.header("traceparent"), kCallersTraceparent);
    EXPECT_EQ(call.header("tracestate"), kCallersTracestate);
    const auto event = call.json();
    EXPECT_EQ(event.at("traceparent").as_string(), kCallersTraceparent) << bj::serialize(event);
    EXPECT_EQ(event.at("tracestate").as_string(), kCallersTracestate) << bj::serialize(event);
  }
}

TEST(Trace, EveryDeliveryAttemptOfAnEventCarriesTheCallersTraceparentRetriesIncluded) {
  TracedGateway traced;
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(traced.gateway.emit("/", "user.created", R"({"n":1})", "application/json", kCallersTrace).status, 202);
  ASSERT_TRUE(traced.upstream.wait_for_requests("/flaky", 2));
  const auto attempts = traced.upstream.requests("/flaky");
  for (const auto& attempt : attempts) {
    SCOPED_TRACE("attempt " + attempt.header("Delivery-Attempt"));
    EXPECT_EQ(attempt.header("traceparent"), kCallersTraceparent);
    EXPECT_EQ(attempt.header("tracestate"), kCallersTracestate);
    EXPECT_EQ(attempt.json().at("traceparent").as_string(), kCallersTraceparent);
  }
}

TEST(Trace, ARequestWithoutOneOrWithAMalformedOneStartsATraceTheFunctionAndTheLogSee) {
  TracedGateway traced;
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(request("GET", traced.gateway.events_url("/ok")).status, 200);
  EXPECT_EQ(request("GET", traced.gateway.events_url("/ok"), "",
                    {{"traceparent", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"},
                     {"tracestate", kCallersTracestate}})
                .status,
            200);
  EXPECT_EQ(request("GET", traced.gateway.events_url("/failing")).status, 500);
  std::vector<std::string> started;
  for (const auto& call : traced.upstream.requests()) {
    const auto traceparent = call.header("traceparent");
    EXPECT_TRUE(std::regex_match(traceparent, std::regex("00-[0-9a-f]{32}-[0-9a-f]{16}-01"))) << traceparent;
    EXPECT_FALSE(call.has_header("tracestate"));  // it belonged to the malformed traceparent
    EXPECT_EQ(call.json().at("traceparent").as_string(), traceparent);
    started.push_back(trace_id_of(traceparent));
  }
  ASSERT_EQ(started.size(), 3U);
  EXPECT_NE(started[0], started[1]);
  EXPECT_NE(started[1], started[2]);
  // The failed call's warning names the trace the gateway started for it.
  const auto warnings = traced.log_lines_with("functionId", "failing");
  ASSERT_EQ(warnings.size(), 1U) << traced.process.log();
  EXPECT_EQ(warnings[0].at("traceId").as_string(), started[2]);
}

// ---- logs ----

TEST(Logs, AFailedSyncCallIsAWarningWithTheFieldsASearchNeeds) {
  TracedGateway traced;
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(request("GET", traced.gateway.events_url("/failing"), "", kCallersTrace).status, 500);
  const auto call = traced.upstream.requests("/failing").at(0);
  const auto lines = traced.log_lines_with("functionId", "failing");
  ASSERT_EQ(lines.size(), 1U) << traced.process.log();
  const auto& line = lines[0];
  EXPECT_EQ(line.at("level").as_string(), "warning");
  EXPECT_EQ(line.at("space").as_string(), "default");
  EXPECT_EQ(line.at("subscriptionId").as_string(), "http,GET,%2Ffailing");
  EXPECT_EQ(line.at("event").as_string(), "http");
  EXPECT_EQ(line.at("eventId").as_string(), call.json().at("id").as_string());
  EXPECT_EQ(line.at("status").as_int64(), 500);  // what the caller got
  EXPECT_GE(line.at("durationMs").as_double(), 0.0);
  EXPECT_NE(line.at("error").as_string().find("500"), bj::string::npos) << bj::serialize(line);
  EXPECT_EQ(line.at("traceId").as_string(), trace_id_of(kCallersTraceparent));
  EXPECT_NE(line.at("msg").as_string().find("failed"), bj::string::npos);
}

TEST(Logs, AFailedDeliveryIsAWarningWithTheFieldsASearchNeedsAndItsAttempt) {
  TracedGateway traced;
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(traced.gateway.emit("/", "user.deleted", R"({"n":1})", "application/json", kCallersTrace).status, 202);
  ASSERT_TRUE(traced.upstream.wait_for_requests("/refusing", 1));
  const auto event_id = std::string(traced.upstream.requests("/refusing").at(0).json().at("id").as_string());
  std::vector<bj::object> lines;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((lines = traced.log_lines_with("eventId", event_id)).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  ASSERT_FALSE(lines.empty()) << traced.process.log();
  const auto& line = lines[0];  // the attempt; a dead-letter line follows it
  EXPECT_EQ(line.at("level").as_string(), "warning");
  EXPECT_EQ(line.at("space").as_string(), "default");
  EXPECT_EQ(line.at("functionId").as_string(), "refusing");
  EXPECT_EQ(line.at("subscriptionId").as_string(), "user.deleted,refusing,%2F");
  EXPECT_EQ(line.at("event").as_string(), "user.deleted");
  EXPECT_EQ(line.at("status").as_int64(), 400);  // what the function answered
  EXPECT_GE(line.at("durationMs").as_double(), 0.0);
  EXPECT_NE(line.at("error").as_string().find("400"), bj::string::npos) << bj::serialize(line);
  EXPECT_EQ(line.at("traceId").as_string(), trace_id_of(kCallersTraceparent));
  EXPECT_EQ(line.at("attempt").as_int64(), 1);
}

TEST(Logs, TheTextLogsTimesCarryTheirZoneAndAWarningItsFields) {
  GatewayProcess process;
  ASSERT_TRUE(process.start());
  GatewayClient gateway{process};
  ASSERT_TRUE(gateway.add_function("default", "down", "http://127.0.0.1:" + std::to_string(blackbox::closed_port())));
  ASSERT_TRUE(gateway.subscribe("default", http_subscription("down", "GET", "/down")));
  ASSERT_TRUE(gateway.sync());
  EXPECT_EQ(request("GET", gateway.events_url("/down")).status, 502);
  static const std::regex warning(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d warning http call of function default/down failed .* space=default functionId=down .*status=502 .*traceId=[0-9a-f]{32})");
  const auto log = process.log();
  std::istringstream lines(log);
  bool found = false;
  for (std::string line; std::getline(lines, line);) found = found || std::regex_search(line, warning);
  EXPECT_TRUE(found) << log;
}

// The level flag takes the names the log prints. (An address that does not resolve ends the start
// after the flags were read, with an error that either level shows.)
TEST(Logs, WarningAndWarnAreTheSameLevel) {
  for (const std::string level : {"warning", "warn"}) {
    SCOPED_TRACE(level);
    blackbox::TempDir dir;
    const auto r = blackbox::run_binary({"-dev", "-embed-data-dir", (dir.path() / "data").string(), "-log-level",
                                         level, "-listen-address", "no-such-host.invalid"});
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.exit_code, 1) << r.output();
    EXPECT_EQ(r.output().find("-log-level"), std::string::npos) << r.output();
    EXPECT_NE(r.output().find("no-such-host.invalid"), std::string::npos) << r.output();
  }
}

TEST(Logs, TheAccessLogHasALinePerEventsApiRequestWithWhatItDidAndOnlyWhenAskedFor) {
  TracedGateway traced({"-access-log"});
  ASSERT_TRUE(traced.start());
  EXPECT_EQ(request("GET", traced.gateway.events_url("/ok?token=secret"), "", kCallersTrace).status, 200);
  EXPECT_EQ(traced.gateway.emit("/", "user.created", R"({"n":1})").status, 202);
  EXPECT_EQ(request("GET", traced.gateway.events_url("/nowhere")).status, 404);
  const auto lines = [&] {
    std::vector<bj::object> found;
    for (const auto method : {"GET", "POST"}) {
      for (auto& line : traced.log_lines_with("method", method)) found.push_back(std::move(line));
    }
    return found;
  }();
  const auto line_for = [&](std::string_view path) -> const bj::object* {
    for (const auto& line : lines) {
      if (line.at("path").as_string() == path) return &line;
    }
    return nullptr;
  };
  const auto* http = line_for("/ok");
  ASSERT_NE(http, nullptr) << traced.process.log();
  EXPECT_EQ(http->at("level").as_string(), "info");
  EXPECT_EQ(http->at("status").as_int64(), 200);
  EXPECT_EQ(http->at("space").as_string(), "default");
  EXPECT_EQ(http->at("functionId").as_string(), "ok");
  EXPECT_EQ(http->at("traceId").as_string(), trace_id_of(kCallersTraceparent));
  EXPECT_GE(http->at("durationMs").as_double(), 0.0);
  EXPECT_TRUE(http->at("bytes").is_int64());
  EXPECT_EQ(traced.process.log().find("secret"), std::string::npos) << "the query is not logged";
  const auto* emitted = line_for("/");
  ASSERT_NE(emitted, nullptr) << traced.process.log();
  EXPECT_EQ(emitted->at("method").as_string(), "POST");
  EXPECT_EQ(emitted->at("status").as_int64(), 202);
  EXPECT_EQ(emitted->at("event").as_string(), "user.created");
  EXPECT_EQ(emitted->at("traceId").as_string().size(), 32U);
  EXPECT_FALSE(emitted->contains("functionId"));
  const auto* missing = line_for("/nowhere");
  ASSERT_NE(missing, nullptr) << traced.process.log();
  EXPECT_EQ(missing->at("status").as_int64(), 404);
  EXPECT_GT(missing->at("bytes").as_int64(), 0);

  TracedGateway quiet;  // without the flag
  ASSERT_TRUE(quiet.start());
  EXPECT_EQ(request("GET", quiet.gateway.events_url("/ok")).status, 200);
  EXPECT_TRUE(quiet.log_lines_with("method", "GET").empty()) << quiet.process.log();
}

}  // namespace
