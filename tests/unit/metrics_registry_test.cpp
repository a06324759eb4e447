// The metrics registry (src/metrics/registry.h): what GET /metrics prints, in Prometheus' text format.
// The registry is process-wide, so each test counts in families of its own and reads only their lines.

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "metrics/registry.h"

namespace {

using eg::metrics::Counter;
using eg::metrics::Gauge;
using eg::metrics::Histogram;

// The lines of render() that start with `prefix`.
std::vector<std::string> lines_of(const std::string& prefix) {
  std::vector<std::string> lines;
  std::istringstream text(eg::metrics::render());
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with(prefix)) lines.push_back(line);
  }
  return lines;
}

TEST(MetricsRegistry, ACounterIsPrintedWithHelpTypeAndEachLabelSetSorted) {
  static const Counter counter("test_requests_total", "Requests.", {"space", "type"});
  counter.add({"b", "http"});
  counter.add({"a", "custom"}, 2);
  counter.add({"b", "http"});
  EXPECT_EQ(lines_of("# HELP test_requests_total"),
            std::vector<std::string>{"# HELP test_requests_total Requests."});
  EXPECT_EQ(lines_of("# TYPE test_requests_total"),
            std::vector<std::string>{"# TYPE test_requests_total counter"});
  EXPECT_EQ(lines_of("test_requests_total{"),
            (std::vector<std::string>{R"(test_requests_total{space="a",type="custom"} 2)",
                                      R"(test_requests_total{space="b",type="http"} 2)"}));
}

TEST(MetricsRegistry, CountsOfEveryThreadAreSummedAndKeptAfterTheThreadEnds) {
  static const Counter counter("test_threads_total", "Counted on many threads.", {"space"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 1000; ++i) counter.add({"s"});
    });
  }
  for (auto& thread : threads) thread.join();
  counter.add({"s"});
  EXPECT_EQ(lines_of("test_threads_total{"),
            std::vector<std::string>{R"(test_threads_total{space="s"} 4001)"});
}

TEST(MetricsRegistry, LabelValuesAreEscapedSoThatNoValueEndsTheLine) {
  static const Counter counter("test_escaped_total", "Help with a \\ and a\nnewline.", {"space"});
  counter.add({"a\"b\\c\nd"});
  EXPECT_EQ(lines_of("test_escaped_total{"),
            std::vector<std::string>{R"(test_escaped_total{space="a\"b\\c\nd"} 1)"});
  EXPECT_EQ(lines_of("# HELP test_escaped_total"),
            std::vector<std::string>{R"(# HELP test_escaped_total Help with a \\ and a\nnewline.)"});
}

TEST(MetricsRegistry, AHistogramHasCumulativeBucketsUpToInfAndItsSumAndCount) {
  static const Histogram histogram("test_duration_seconds", "Durations.", {"outcome"}, {0.5, 1});
  histogram.observe({"ok"}, 0.25);
  histogram.observe({"ok"}, 0.5);  // a bound is in its bucket: le means "at most"
  histogram.observe({"ok"}, 0.75);
  histogram.observe({"ok"}, 7);
  EXPECT_EQ(lines_of("test_duration_seconds"),
            (std::vector<std::string>{R"(test_duration_seconds_bucket{outcome="ok",le="0.5"} 2)",
                                      R"(test_duration_seconds_bucket{outcome="ok",le="1"} 3)",
                                      R"(test_duration_seconds_bucket{outcome="ok",le="+Inf"} 4)",
                                      R"(test_duration_seconds_sum{outcome="ok"} 8.5)",
                                      R"(test_duration_seconds_count{outcome="ok"} 4)"}));
  EXPECT_EQ(lines_of("# TYPE test_duration_seconds"),
            std::vector<std::string>{"# TYPE test_duration_seconds histogram"});
}

TEST(MetricsRegistry, AFamilyWithoutLabelsShowsZeroBeforeAnythingCounts) {
  static const Counter counter("test_unlabelled_total", "Nothing yet.");
  EXPECT_EQ(lines_of("test_unlabelled_total"), std::vector<std::string>{"test_unlabelled_total 0"});
}

TEST(MetricsRegistry, LabelSetsBeyondTheCapAreCountedAsOverflowSoMemoryStaysBounded) {
  static const Counter counter("test_many_spaces_total", "One series per space, to a point.", {"space"});
  const auto extra = 5;
  for (std::size_t i = 0; i < eg::metrics::kMaxSeries + extra; ++i)
    counter.add({"space-" + std::to_string(i)});
  counter.add({"space-0"});  // a label set counted before the cap still counts as itself
  counter.add({"space-" + std::to_string(eg::metrics::kMaxSeries)});  // one after it, as overflow
  const auto lines = lines_of("test_many_spaces_total{");
  EXPECT_EQ(lines.size(), eg::metrics::kMaxSeries + 1);
  EXPECT_NE(std::find(lines.begin(), lines.end(), R"(test_many_spaces_total{space="overflow"} 6)"),
            lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), R"(test_many_spaces_total{space="space-0"} 2)"),
            lines.end());
}

// A thread remembers the few label sets it used last (registry.cpp); taking more in turn, some of
// them prefixes of others or equal but for one value, each still counts as itself.
TEST(MetricsRegistry, LabelSetsTakenInTurnEachCountAsThemselves) {
  static const Counter counter("test_in_turn_total", "Calls.", {"space", "function"});
  const std::vector<std::pair<std::string, std::string>> label_sets = {
      {"a", "f"}, {"a", "g"}, {"ab", "f"}, {"a", "fg"}, {"b", "f"}, {"", "af"}, {"a", ""}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [space, function] : label_sets) counter.add({space, function});
  }
  counter.add({"a", "g"});
  EXPECT_EQ(lines_of("test_in_turn_total{"),
            (std::vector<std::string>{
                R"(test_in_turn_total{space="",function="af"} 3)", R"(test_in_turn_total{space="a",function=""} 3)",
                R"(test_in_turn_total{space="a",function="f"} 3)", R"(test_in_turn_total{space="a",function="fg"} 3)",
                R"(test_in_turn_total{space="a",function="g"} 4)", R"(test_in_turn_total{space="ab",function="f"} 3)",
                R"(test_in_turn_total{space="b",function="f"} 3)"}));
}

TEST(MetricsRegistry, CollectorsReportGaugesAtScrapeTimeUntilTheirHandleGoes) {
  static const Gauge gauge("test_pending", "Pending things.", {"api"});
  int pending = 3;
  {
    const auto handle =
        eg::metrics::add_collector([&](eg::metrics::Sink& sink) { sink.set(gauge, {"events"}, pending); });
    EXPECT_EQ(lines_of("test_pending{"), std::vector<std::string>{R"(test_pending{api="events"} 3)"});
    pending = 5;
    EXPECT_EQ(lines_of("test_pending{"), std::vector<std::string>{R"(test_pending{api="events"} 5)"});
    EXPECT_EQ(lines_of("# TYPE test_pending"), std::vector<std::string>{"# TYPE test_pending gauge"});
  }
  EXPECT_TRUE(lines_of("test_pending").empty());
}

}  // namespace
