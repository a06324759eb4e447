// Route lookup cost as the number of http subscriptions grows: a path tree holding N routes, a third
// each static (/static/<i>/items), with a parameter (/param/<i>/:id) and with a wildcard
// (/wild/<i>/*rest), looked up with request paths of one kind per benchmark. The time per lookup
// should stay flat from 10 to 100k routes. Run by bench/run.sh; not a test.

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "routing/path_tree.h"
#include "routing/snapshot.h"

namespace {

using eg::routing::HttpRoute;
using eg::routing::PathTree;

enum class Kind { Static, Param, Wildcard };

PathTree<HttpRoute> tree_with(std::size_t routes) {
  PathTree<HttpRoute> tree;
  for (std::size_t i = 0; i < routes; ++i) {
    const auto n = std::to_string(i / 3);
    const std::string path = i % 3 == 0   ? "/static/" + n + "/items"
                             : i % 3 == 1 ? "/param/" + n + "/:id"
                                          : "/wild/" + n + "/*rest";
    tree.add(path, HttpRoute{.space = "default", .subscription_id = path, .function_id = "f" + n});
  }
  return tree;
}

// Request paths spread over the whole tree, so the lookups do not all hit one warm cache line.
std::vector<std::string> requests_for(Kind kind, std::size_t routes) {
  std::vector<std::string> paths;
  const std::size_t per_kind = std::max<std::size_t>(1, routes / 3);
  for (std::size_t i = 0; i < 4096; ++i) {
    const auto n = std::to_string((i * 7919) % per_kind);
    paths.push_back(kind == Kind::Static  ? "/static/" + n + "/items"
                    : kind == Kind::Param ? "/param/" + n + "/42"
                                          : "/wild/" + n + "/a/b/c.txt");
  }
  return paths;
}

void lookup(benchmark::State& state, Kind kind) {
  const auto routes = static_cast<std::size_t>(state.range(0));
  const auto tree = tree_with(routes);
  const auto paths = requests_for(kind, routes);
  std::size_t next = 0;
  for (auto _ : state) {
    auto match = tree.match(paths[next++ & (paths.size() - 1)]);
    if (!match) state.SkipWithError("no match");
    benchmark::DoNotOptimize(match);
  }
}

void static_lookup(benchmark::State& state) { lookup(state, Kind::Static); }
void param_lookup(benchmark::State& state) { lookup(state, Kind::Param); }
void wildcard_lookup(benchmark::State& state) { lookup(state, Kind::Wildcard); }

}  // namespace

BENCHMARK(static_lookup)->Arg(10)->Arg(1'000)->Arg(100'000);
BENCHMARK(param_lookup)->Arg(10)->Arg(1'000)->Arg(100'000);
BENCHMARK(wildcard_lookup)->Arg(10)->Arg(1'000)->Arg(100'000);
BENCHMARK_MAIN();
