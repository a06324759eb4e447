// Black-box tests of what the gateway shows about itself (docs/metrics.md): its Prometheus metrics,
// scraped by a real Prometheus (Debian's `prometheus`, which scripts/install-deps.sh installs) and
// checked by its `promtool`.

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
#include <set>
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

}  // namespace
