#pragma once
// Prometheus metrics (docs/metrics.md), rendered in the text exposition format at GET /metrics.
//
// Counters and histograms are updated on the request path, so every thread updates a shard of its
// own: a series is found by a hash lookup in the thread's map and bumped with a plain load and store
// (relaxed atomics, so that a scrape may read them, but no locked instruction and no cache line
// shared with another thread). A scrape sums the shards. Gauges are not updated at all: collectors
// read them at scrape time from the objects that know them (the snapshot, the delivery capacity, the
// connection limits).
//
// Label values come from requests (a space's name), so a family holds at most kMaxSeries label sets
// per thread; what does not fit is counted under the label set whose every value is "overflow".

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eg::metrics {

// Label values, in the order of the family's label names.
using Labels = std::initializer_list<std::string_view>;

inline constexpr std::size_t kMaxSeries = 2000;
inline constexpr std::string_view kOverflowLabel = "overflow";

enum class Type { Counter, Gauge, Histogram };

// One metric name with its help text, type and label names. Families are process-wide objects with
// static storage (metrics/gateway_metrics.h); creating one registers it.
class Family {
 public:
  // `collected`: read by collectors at scrape time (Gauge, CollectedCounter), not updated.
  Family(std::string name, std::string help, Type type, bool collected, std::vector<std::string> label_names,
         std::vector<double> buckets = {});
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  Type type() const { return type_; }
  bool collected() const { return collected_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Histograms: the upper bounds of the buckets, ascending (+Inf is implied).
  const std::vector<double>& buckets() const { return buckets_; }
  std::size_t id() const { return id_; }

 private:
  std::string name_;
  std::string help_;
  Type type_;
  bool collected_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  std::size_t id_;
};

class Counter : public Family {
 public:
  Counter(std::string name, std::string help, std::vector<std::string> label_names = {})
      : Family(std::move(name), std::move(help), Type::Counter, false, std::move(label_names)) {}
  void add(Labels labels, std::uint64_t amount = 1) const;
};

class Histogram : public Family {
 public:
  Histogram(std::string name, std::string help, std::vector<std::string> label_names,
            std::vector<double> buckets)
      : Family(std::move(name), std::move(help), Type::Histogram, false, std::move(label_names),
               std::move(buckets)) {}
  void observe(Labels labels, double value) const;
};

// A value read at scrape time only, by a collector.
class Gauge : public Family {
 public:
  Gauge(std::string name, std::string help, std::vector<std::string> label_names = {})
      : Family(std::move(name), std::move(help), Type::Gauge, true, std::move(label_names)) {}
};

// A counter kept elsewhere (an atomic of the plugin host, say), read at scrape time by a collector.
class CollectedCounter : public Family {
 public:
  CollectedCounter(std::string name, std::string help, std::vector<std::string> label_names = {})
      : Family(std::move(name), std::move(help), Type::Counter, true, std::move(label_names)) {}
};

// What collectors report at scrape time, for Gauge and CollectedCounter families. Values for the same
// labels add up (two gateways in one process, as in the unit tests, report their sum).
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void set(const Gauge& gauge, Labels labels, double value) = 0;
  virtual void set(const CollectedCounter& counter, Labels labels, double value) = 0;
};

using Collector = std::function<void(Sink&)>;

// Unregisters its collector when destroyed: a collector reads objects that must outlive it.
class CollectorHandle {
 public:
  CollectorHandle() = default;
  explicit CollectorHandle(std::size_t id) : id_(id) {}
  CollectorHandle(CollectorHandle&& other) noexcept : id_(std::exchange(other.id_, 0)) {}
  CollectorHandle& operator=(CollectorHandle&& other) noexcept;
  ~CollectorHandle();

 private:
  std::size_t id_ = 0;
};

// Adds a collector; it runs on the scraping thread, concurrently with everything else, and must not
// add or remove collectors.
[[nodiscard]] CollectorHandle add_collector(Collector collector);

// Every family with its series summed over the threads, and the collectors' gauges, in the text
// exposition format (version 0.0.4): what GET /metrics answers.
std::string render();

// The Content-Type of render()'s text.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// n bounds from `start`, each `factor` times the one before (Prometheus' ExponentialBuckets).
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);

}  // namespace eg::metrics
