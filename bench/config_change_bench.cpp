// The cost of one configuration change as the configuration grows: a ConfigState holding N functions
// and N http subscriptions (GET /r/<i>, as bench/preload_store.cpp writes them), then one watch event
// applied and its snapshot built, as ConfigWatcher does for every batch; one change per iteration.
// The time per change should stay flat from 1k to 100k. Run by bench/run.sh; not a test.

#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <string>

#include "routing/snapshot.h"
#include "store/keys.h"

namespace {

using eg::store::WatchEvent;

std::string function_id(std::size_t i) { return "f" + std::to_string(i); }
std::string route_path(std::size_t i) { return "/r/" + std::to_string(i); }

WatchEvent put(std::string key, const boost::json::object& value, std::int64_t revision) {
  return {WatchEvent::Type::Put, eg::store::KeyValue{std::move(key), boost::json::serialize(value), revision, revision, 1}};
}

WatchEvent remove(std::string key, std::int64_t revision) {
  return {WatchEvent::Type::Delete, eg::store::KeyValue{std::move(key), "", 0, revision, 0}};
}

boost::json::object function_json(const std::string& id, const std::string& url) {
  return {{"space", "default"}, {"functionId", id}, {"type", "http"}, {"provider", {{"url", url}}}};
}

std::string subscription_key(const std::string& path) { return eg::store::keys::subscription("default", "http,GET," + path); }

WatchEvent put_route(const std::string& path, const std::string& function, std::int64_t revision) {
  const boost::json::object subscription{{"space", "default"}, {"subscriptionId", "http,GET," + path},
                                         {"event", "http"},     {"functionId", function},
                                         {"path", path},        {"method", "GET"}};
  return put(subscription_key(path), subscription, revision);
}

// N functions and N routes, in one batch as a reload applies them.
eg::routing::ConfigState state_with(std::size_t n, std::int64_t& revision) {
  std::vector<WatchEvent> events;
  events.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    events.push_back(put(eg::store::keys::function("default", function_id(i)),
                         function_json(function_id(i), "http://127.0.0.1/"), ++revision));
    events.push_back(put_route(route_path(i), function_id(i), ++revision));
  }
  eg::routing::ConfigState state;
  state.apply(events);
  benchmark::DoNotOptimize(state.build());
  return state;
}

// One http subscription created or deleted, in turn.
void http_subscription_change(benchmark::State& state) {
  std::int64_t revision = 0;
  auto config = state_with(static_cast<std::size_t>(state.range(0)), revision);
  const std::string path = "/r/new";
  bool created = false;
  for (auto _ : state) {
    if (created) {
      config.apply({remove(subscription_key(path), ++revision)});
    } else {
      config.apply({put_route(path, function_id(0), ++revision)});
    }
    created = !created;
    benchmark::DoNotOptimize(config.build());
  }
}

// One function's URL updated.
void function_update(benchmark::State& state) {
  std::int64_t revision = 0;
  auto config = state_with(static_cast<std::size_t>(state.range(0)), revision);
  const auto key = eg::store::keys::function("default", function_id(0));
  for (auto _ : state) {
    ++revision;
    config.apply({put(key, function_json(function_id(0), "http://127.0.0.1/" + std::to_string(revision)), revision)});
    benchmark::DoNotOptimize(config.build());
  }
}

}  // namespace

BENCHMARK(http_subscription_change)->Arg(1'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(function_update)->Arg(1'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
