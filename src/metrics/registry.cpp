#include "metrics/registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cmath>
#include <map>
#include <mutex>
#include <unordered_map>

namespace eg::metrics {
namespace {

// One label set of one family on one thread. Only the owning thread writes the cells, with a plain
// load and store; a scrape reads them.
struct Series {
  std::vector<std::string> labels;
  // A counter's value; a histogram's count per bucket (not cumulative), the last one +Inf.
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts;
  std::atomic<double> sum{0};  // histograms
};

void bump(std::atomic<std::uint64_t>& cell, std::uint64_t amount) {
  cell.store(cell.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
// By the label values, each followed by a unit separator.
using SeriesMap = std::unordered_map<std::string, Series, KeyHash, std::equal_to<>>;

// The series a thread updated last in a family, looked at before the map: most updates repeat a recent
// label set (one space, one function), and comparing two or three short strings costs a fraction of
// building the key, hashing it and probing the map.
constexpr std::size_t kRecentSeries = 4;
using RecentSeries = std::array<Series*, kRecentSeries>;  // most recent first; null when unused

struct Shard {
  std::mutex mutex;                 // the owner adds series under it, a scrape reads under it
  std::vector<SeriesMap> families;  // by Family::id
  std::vector<RecentSeries> recent;  // by Family::id; the owner's alone
};

struct State {
  std::mutex mutex;  // families and shards
  std::vector<const Family*> families;
  std::vector<std::unique_ptr<Shard>> shards;  // kept after their threads end: counters never go back
  std::mutex collectors_mutex;                 // held while collectors run, so a handle waits for a scrape
  std::map<std::size_t, Collector> collectors;
  std::size_t next_collector = 1;
};

// Never destroyed: a thread may still count while the process exits.
State& state() {
  static auto* const instance = new State;
  return *instance;
}

Shard& this_thread_shard() {
  thread_local Shard* const shard = [] {
    auto& registry = state();
    const std::lock_guard lock(registry.mutex);
    registry.shards.push_back(std::make_unique<Shard>());
    return registry.shards.back().get();
  }();
  return *shard;
}

void append_key(std::string& key, Labels labels) {
  for (const auto value : labels) {
    key.append(value);
    key.push_back('\x1f');
  }
}

std::size_t cells_of(const Family& family) {
  return family.type() == Type::Histogram ? family.buckets().size() + 1 : 1;
}

Series& add_series(SeriesMap& map, const Family& family, std::string key, std::vector<std::string> labels) {
  auto& series = map.try_emplace(std::move(key)).first->second;  // in place: atomics do not move
  series.labels = std::move(labels);
  series.counts = std::make_unique<std::atomic<std::uint64_t>[]>(cells_of(family));
  return series;
}

bool has_labels(const Series& series, Labels labels) {
  return std::equal(labels.begin(), labels.end(), series.labels.begin());
}

Series* recent_series(Shard& shard, const Family& family, Labels labels) {
  if (family.id() >= shard.recent.size()) return nullptr;
  for (auto* series : shard.recent[family.id()]) {
    if (series == nullptr) return nullptr;
    if (has_labels(*series, labels)) return series;
  }
  return nullptr;
}

void remember(Shard& shard, const Family& family, Series& series) {
  if (family.id() >= shard.recent.size()) shard.recent.resize(family.id() + 1);
  auto& recent = shard.recent[family.id()];
  std::copy_backward(recent.begin(), recent.end() - 1, recent.end());
  recent.front() = &series;
}

Series& series_in_map(Shard& shard, const Family& family, Labels labels) {
  thread_local std::string key;  // reused: no allocation per update once it has grown
  key.clear();
  append_key(key, labels);
  if (family.id() < shard.families.size()) {
    auto& map = shard.families[family.id()];
    if (const auto found = map.find(key); found != map.end()) return found->second;
  }
  const std::lock_guard lock(shard.mutex);
  if (family.id() >= shard.families.size()) shard.families.resize(family.id() + 1);
  auto& map = shard.families[family.id()];
  if (map.size() < kMaxSeries) return add_series(map, family, key, {labels.begin(), labels.end()});
  std::vector<std::string> overflow(labels.size(), std::string(kOverflowLabel));
  std::string overflow_key;
  for (const auto& value : overflow) overflow_key.append(value).push_back('\x1f');
  if (const auto found = map.find(overflow_key); found != map.end()) return found->second;
  return add_series(map, family, std::move(overflow_key), std::move(overflow));
}

Series& series_of(const Family& family, Labels labels) {
  assert(labels.size() == family.label_names().size());
  auto& shard = this_thread_shard();
  if (auto* series = recent_series(shard, family, labels)) return *series;
  auto& series = series_in_map(shard, family, labels);
  // The overflow series is not remembered: its labels are not the ones asked for.
  if (has_labels(series, labels)) remember(shard, family, series);
  return series;
}

// ---- rendering ----

struct Merged {
  std::vector<std::string> labels;
  std::vector<double> values;  // as Series::counts; a gauge's value
  double sum = 0;
};
using MergedFamily = std::map<std::string, Merged>;  // sorted: stable output

Merged& merged_series(MergedFamily& family, std::string key, std::vector<std::string> labels,
                      std::size_t cells) {
  auto& merged = family[std::move(key)];
  if (merged.values.empty()) {
    merged.labels = std::move(labels);
    merged.values.assign(cells, 0);
  }
  return merged;
}

class MergingSink final : public Sink {
 public:
  explicit MergingSink(std::vector<MergedFamily>& families) : families_(families) {}
  void set(const Gauge& gauge, Labels labels, double value) override { add(gauge, labels, value); }
  void set(const CollectedCounter& counter, Labels labels, double value) override {
    add(counter, labels, value);
  }

 private:
  void add(const Family& family, Labels labels, double value) {
    assert(labels.size() == family.label_names().size());
    std::string key;
    append_key(key, labels);
    merged_series(families_[family.id()], std::move(key), {labels.begin(), labels.end()}, 1).values[0] +=
        value;
  }

  std::vector<MergedFamily>& families_;
};

std::string escaped(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// {a="x",b="y"} with `extra` (le="0.5") last; nothing for no labels.
std::string label_text(const Family& family, const std::vector<std::string>& values,
                       std::string_view extra = {}) {
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i) {
    text += text.empty() ? "{" : ",";
    text += family.label_names()[i] + "=\"" + escaped(values[i], true) + "\"";
  }
  if (!extra.empty()) {
    text += text.empty() ? "{" : ",";
    text += extra;
  }
  if (!text.empty()) text += '}';
  return text;
}

void render_series(std::string& out, const Family& family, const Merged& series) {
  if (family.type() != Type::Histogram) {
    out += family.name() + label_text(family, series.labels) + ' ' + number(series.values[0]) + '\n';
    return;
  }
  double cumulative = 0;
  const auto& bounds = family.buckets();
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += series.values[i];
    const auto le = "le=\"" + (i < bounds.size() ? number(bounds[i]) : std::string("+Inf")) + "\"";
    out +=
        family.name() + "_bucket" + label_text(family, series.labels, le) + ' ' + number(cumulative) + '\n';
  }
  out += family.name() + "_sum" + label_text(family, series.labels) + ' ' + number(series.sum) + '\n';
  out += family.name() + "_count" + label_text(family, series.labels) + ' ' + number(cumulative) + '\n';
}

const char* type_name(Type type) {
  switch (type) {
    case Type::Counter:
      return "counter";
    case Type::Gauge:
      return "gauge";
    case Type::Histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

Family::Family(std::string name, std::string help, Type type, bool collected,
               std::vector<std::string> label_names, std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      collected_(collected),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {
  auto& registry = state();
  const std::lock_guard lock(registry.mutex);
  id_ = registry.families.size();
  registry.families.push_back(this);
}

void Counter::add(Labels labels, std::uint64_t amount) const {
  bump(series_of(*this, labels).counts[0], amount);
}

void Histogram::observe(Labels labels, double value) const {
  auto& series = series_of(*this, labels);
  const auto& bounds = buckets();
  const auto bucket =
      std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();  // value <= bound
  bump(series.counts[bucket], 1);
  series.sum.store(series.sum.load(std::memory_order_relaxed) + value, std::memory_order_relaxed);
}

CollectorHandle& CollectorHandle::operator=(CollectorHandle&& other) noexcept {
  if (this != &other) {
    CollectorHandle old(std::move(*this));
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

CollectorHandle::~CollectorHandle() {
  if (id_ == 0) return;
  auto& registry = state();
  const std::lock_guard lock(registry.collectors_mutex);
  registry.collectors.erase(id_);
}

CollectorHandle add_collector(Collector collector) {
  auto& registry = state();
  const std::lock_guard lock(registry.collectors_mutex);
  const auto id = registry.next_collector++;
  registry.collectors.emplace(id, std::move(collector));
  return CollectorHandle(id);
}

std::string render() {
  auto& registry = state();
  std::vector<const Family*> families;
  std::vector<MergedFamily> merged;
  {
    const std::lock_guard lock(registry.mutex);
    families = registry.families;
    merged.resize(families.size());
    for (const auto& shard : registry.shards) {
      const std::lock_guard shard_lock(shard->mutex);
      for (std::size_t id = 0; id < shard->families.size(); ++id) {
        for (const auto& [key, series] : shard->families[id]) {
          const auto cells = cells_of(*families[id]);
          auto& sum = merged_series(merged[id], key, series.labels, cells);
          for (std::size_t i = 0; i < cells; ++i)
            sum.values[i] += series.counts[i].load(std::memory_order_relaxed);
          sum.sum += series.sum.load(std::memory_order_relaxed);
        }
      }
    }
  }
  {
    const std::lock_guard lock(registry.collectors_mutex);
    MergingSink sink(merged);
    for (const auto& [id, collect] : registry.collectors) collect(sink);
  }
  std::string out;
  for (std::size_t id = 0; id < families.size(); ++id) {
    const auto& family = *families[id];
    // A counter or histogram without labels always has its one series, zero until something counts.
    if (merged[id].empty() && family.label_names().empty() && !family.collected()) {
      merged_series(merged[id], "", {}, cells_of(family));
    }
    if (merged[id].empty()) continue;
    out += "# HELP " + family.name() + ' ' + escaped(family.help(), false) + '\n';
    out += "# TYPE " + family.name() + ' ' + type_name(family.type()) + '\n';
    for (const auto& [key, series] : merged[id]) render_series(out, family, series);
  }
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
  std::vector<double> buckets;
  buckets.reserve(count);
  for (double bound = start; buckets.size() < count; bound *= factor) buckets.push_back(bound);
  return buckets;
}

}  // namespace eg::metrics
