// The local spool's cost per event: append a 1 KiB payload with one delivery, durable(), claim,
// acknowledge, as the Events API and the dispatcher do for each custom event. In the default mode
// (written to the OS before the 202) and with fsync (group commit), with 1 and 64 callers waiting
// at once. Baselines in the same run: one write(2) of the same record size, and one write(2) plus
// fdatasync, to a file in the same directory (SPOOL_BENCH_DIR, else the system's temporary
// directory: it must be on a real disk for the fsync figures to mean anything). Not a test.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "delivery/dead_letters.h"
#include "delivery/spool.h"

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace eg::delivery;

class NoDeadLetters final : public DeadLetters {
 public:
  void put(const DeadLetter&) override {}
  std::optional<DeadLetter> get(std::string_view, std::string_view) override { return std::nullopt; }
  DeadLetterPage list(std::string_view, std::size_t, std::optional<std::string_view>) override { return {}; }
  bool mark_redelivering(std::string_view, std::string_view) override { return false; }
  bool remove(std::string_view, std::string_view) override { return false; }
};

class BenchDirectory {
 public:
  BenchDirectory() {
    const char* base = std::getenv("SPOOL_BENCH_DIR");
    auto pattern =
        ((base != nullptr ? fs::path(base) : fs::temp_directory_path()) / "eg-spool-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~BenchDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const std::string kPayload(1024, 'x');

// Arguments: fsync (0 or 1), callers waiting at once.
void BM_SpoolEvent(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  const auto callers = static_cast<int>(state.range(1));
  BenchDirectory directory;
  NoDeadLetters dead_letters;
  asio::io_context io;
  asio::io_context* ios[] = {&io};
  SpoolOptions options;
  options.fsync = fsync;
  auto spools = open_local_spools(directory.path(), ios, options, dead_letters);
  Spool& spool = *spools[0];
  const NewDelivery delivery{"function", {}};

  // Each round: `callers` coroutines each append an event, wait for durable(), claim and acknowledge
  // it; the round ends when the last one is done. All of it inside the io_context, which keeps
  // running as it does in the gateway (so the ACK records' flush timer never idles the benchmark).
  asio::steady_timer round_done(io, asio::steady_timer::time_point::max());
  int running = 0;
  const auto one_event = [&]() -> asio::awaitable<void> {
    const auto key = spool.append(kPayload, {&delivery, 1});
    if (!key) throw std::runtime_error("the spool is full");
    co_await spool.durable();
    auto payload = spool.claim({*key, 0});
    benchmark::DoNotOptimize(payload);
    spool.acknowledge({*key, 0});
    if (--running == 0) round_done.cancel();
  };
  const auto rounds = [&]() -> asio::awaitable<void> {
    for (auto _ : state) {
      running = callers;
      for (int i = 0; i < callers; ++i) asio::co_spawn(io, one_event(), asio::detached);
      while (running > 0) co_await round_done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  };
  asio::co_spawn(io, rounds(), [&](std::exception_ptr error) {
    if (error) state.SkipWithError("an event failed");
    spools.clear();  // so that the ACK records' timer does not keep io.run() waiting
  });
  io.run();
  state.SetItemsProcessed(state.iterations() * callers);
}
BENCHMARK(BM_SpoolEvent)
    ->ArgNames({"fsync", "callers"})
    ->Args({0, 1})
    ->Args({0, 64})
    ->Args({1, 1})
    ->Args({1, 64})
    ->UseRealTime();

// A restart with `state.range(0)` deliveries pending (1 KiB events, one delivery each): the time to
// open the spool and report every pending delivery (replaying the segments, which are in the page
// cache, as after a kill -9), and the heap the index takes per pending delivery.
void BM_Reopen(benchmark::State& state) {
  const auto pending = static_cast<std::size_t>(state.range(0));
  BenchDirectory directory;
  NoDeadLetters dead_letters;
  asio::io_context io;
  asio::io_context* ios[] = {&io};
  SpoolOptions options;
  options.max_bytes = 4ULL << 30;
  const NewDelivery delivery{"function", {}};
  {
    auto spools = open_local_spools(directory.path(), ios, options, dead_letters);
    for (std::size_t i = 0; i < pending; ++i) {
      if (!spools[0]->append(kPayload, {&delivery, 1})) throw std::runtime_error("the spool is full");
    }
  }
  // In use on the heap, mmapped blocks (the large hash tables) included.
  const auto heap = [] {
    const auto info = mallinfo2();
    return static_cast<double>(info.uordblks + info.hblkhd);
  };
  double heap_per_delivery = 0;
  double open_seconds = 0;
  for (auto _ : state) {
    const auto heap_before = heap();
    const auto start = std::chrono::steady_clock::now();
    auto spools = open_local_spools(directory.path(), ios, options, dead_letters);
    open_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::size_t found = 0;
    spools[0]->recover([&](PendingDelivery&&) { ++found; });
    if (found != pending) state.SkipWithError("deliveries missing");
    heap_per_delivery = (heap() - heap_before) / static_cast<double>(pending);
    state.PauseTiming();
    spools.clear();
    io.restart();
    io.run();
    state.ResumeTiming();
  }
  state.counters["heap_bytes_per_delivery"] = heap_per_delivery;
  state.counters["open_s"] = benchmark::Counter(open_seconds, benchmark::Counter::kAvgIterations);
  state.counters["deliveries_per_second"] =
      benchmark::Counter(static_cast<double>(pending), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Reopen)
    ->ArgName("pending")
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The baselines: the system calls the spool cannot do without, for a record of the same size.
void BM_RawWrite(benchmark::State& state) {
  const bool fsync = state.range(0) != 0;
  BenchDirectory directory;
  const auto path = directory.path() / "raw";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string());
  const std::string record(kPayload.size() + 80, 'r');
  std::size_t written = 0;
  for (auto _ : state) {
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size())) {
      state.SkipWithError("write failed");
      break;
    }
    if (fsync) ::fdatasync(fd);
    written += record.size();
    if (written > (64U << 20)) {  // keep the file small, as the spool's segments are
      if (::ftruncate(fd, 0) != 0) {
        state.SkipWithError("ftruncate failed");
        break;
      }
      written = 0;
    }
  }
  ::close(fd);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawWrite)->ArgNames({"fdatasync"})->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
