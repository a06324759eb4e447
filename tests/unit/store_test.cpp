// The Store contract, run against every backend (value-parameterized over a backend factory; another
// backend joins with one INSTANTIATE_TEST_SUITE_P line), then what only the embedded SQLite store does.
// Tests of the shared suite only assume a fresh keyspace: revisions are compared with each other, not
// with absolute numbers, so that they also hold on a shared etcd server.

#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <latch>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "common/temporary_directory.h"
#include "etcd/etcd_test_backend.h"
#include "store/sqlite_store.h"
#include "store_test_support.h"

namespace eg::store {
namespace {

using namespace std::chrono_literals;
using Target = Compare::Target;
using Result = Compare::Result;
using testing::compacted_revision_of;

// How long a test waits for a watch callback before it fails; generous for sanitizer builds.
constexpr auto kWaitTimeout = 5s;

using testsupport::TemporaryDirectory;

// A backend under test: a fresh, empty keyspace whose clients are opened one after another, so that
// opening again after closing shows what survives a restart.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::unique_ptr<Store> open() = 0;
};

class SqliteBackend final : public Backend {
 public:
  std::unique_ptr<Store> open() override { return std::make_unique<SqliteStore>(directory_.path()); }

 private:
  TemporaryDirectory directory_;
};

using BackendFactory = std::unique_ptr<Backend> (*)();

std::unique_ptr<Backend> make_sqlite_backend() { return std::make_unique<SqliteBackend>(); }

TxnResult put(Store& store, const std::string& key, const std::string& value) {
  return store.txn(TxnRequest{{}, {Operation::put(key, value)}, {}});
}

TxnResult remove(Store& store, const std::string& key) {
  return store.txn(TxnRequest{{}, {Operation::remove(key)}, {}});
}

std::optional<KeyValue> find(Store& store, const std::string& key) {
  auto result = store.get(key);
  if (result.kvs.empty()) return std::nullopt;
  return result.kvs.front();
}

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const auto& kv : kvs) keys.push_back(kv.key);
  return keys;
}

std::vector<std::string> keys_of(const std::vector<WatchEvent>& events) {
  std::vector<std::string> keys;
  for (const auto& event : events) keys.push_back(event.kv.key);
  return keys;
}

std::vector<std::int64_t> revisions_of(const std::vector<WatchEvent>& events) {
  std::vector<std::int64_t> revisions;
  for (const auto& event : events) revisions.push_back(event.kv.mod_revision);
  return revisions;
}

std::vector<std::int64_t> revision_sequence(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> revisions(static_cast<std::size_t>(last - first + 1));
  std::iota(revisions.begin(), revisions.end(), first);
  return revisions;
}


template <typename Exception>
bool is_error_of_type(const std::exception_ptr& error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const Exception&) {
    return true;
  } catch (...) {
    return false;
  }
}

// Records what one watch delivers and lets a test wait for it.
class WatchRecorder {
 public:
  void record(const std::vector<WatchEvent>& events) {
    const bool overlapping = in_callback_.exchange(true);
    {
      std::lock_guard lock(mutex_);
      overlapped_ = overlapped_ || overlapping;
      batches_.push_back(events);
      events_.insert(events_.end(), events.begin(), events.end());
    }
    in_callback_ = false;
    changed_.notify_all();
  }
  WatchCallback on_events() {
    return [this](const std::vector<WatchEvent>& events) { record(events); };
  }
  WatchErrorCallback on_error() {
    return [this](std::exception_ptr error) {
      {
        std::lock_guard lock(mutex_);
        error_ = std::move(error);
      }
      changed_.notify_all();
    };
  }

  // Waits until an event of `revision` or later has arrived; returns every event so far.
  std::vector<WatchEvent> wait_for_revision(std::int64_t revision) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kWaitTimeout,
                      [&] { return !events_.empty() && events_.back().kv.mod_revision >= revision; });
    return events_;
  }
  std::exception_ptr wait_for_error() {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, kWaitTimeout, [&] { return error_ != nullptr; });
    return error_;
  }

  std::vector<WatchEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::vector<WatchEvent>> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::exception_ptr error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }
  bool overlapped() const {
    std::lock_guard lock(mutex_);
    return overlapped_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<WatchEvent> events_;
  std::vector<std::vector<WatchEvent>> batches_;
  std::exception_ptr error_;
  std::atomic<bool> in_callback_{false};
  bool overlapped_ = false;
};

class StoreTest : public ::testing::TestWithParam<BackendFactory> {
 protected:
  StoreTest() : backend_(GetParam()()), store_(backend_->open()) {}

  Store& store() { return *store_; }
  void reopen() {
    store_.reset();
    store_ = backend_->open();
  }
  std::int64_t current_revision() { return store_->get("/revision-probe").revision; }
  std::unique_ptr<WatchHandle> watch(const std::string& prefix, std::int64_t start, WatchRecorder& recorder) {
    return store_->watch_prefix(prefix, start, recorder.on_events(), recorder.on_error());
  }

 private:
  std::unique_ptr<Backend> backend_;  // declared first: outlives the store
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest, ::testing::Values(&make_sqlite_backend));

// The same suite on a real etcd; skipped when EG_ETCD_ENDPOINTS is unset (tests/unit/etcd/with_etcd.sh).
std::unique_ptr<Backend> make_etcd_backend() { return std::make_unique<etcd_test::EtcdTestBackend<Backend>>(); }
INSTANTIATE_TEST_SUITE_P(Etcd, StoreTest, ::testing::Values(&make_etcd_backend));

// --- revisions, reads and writes ---

TEST_P(StoreTest, EachWritingTransactionAddsOneRevisionSharedByItsOperations) {
  const auto start = current_revision();
  EXPECT_EQ(put(store(), "/r/a", "1").revision, start + 1);
  const auto both =
      store().txn(TxnRequest{{}, {Operation::put("/r/b", "2"), Operation::put("/r/c", "3")}, {}});
  EXPECT_EQ(both.revision, start + 2);
  EXPECT_EQ(find(store(), "/r/b")->mod_revision, start + 2);
  EXPECT_EQ(find(store(), "/r/c")->mod_revision, start + 2);
  EXPECT_EQ(remove(store(), "/r/a").revision, start + 3);
  EXPECT_EQ(current_revision(), start + 3);
}

TEST_P(StoreTest, TransactionsThatChangeNothingKeepTheRevision) {
  const auto start = put(store(), "/n/k", "v").revision;
  EXPECT_EQ(store().txn(TxnRequest{}).revision, start);
  const auto unmet =
      store().txn(TxnRequest{{Compare::key_absent("/n/k")}, {Operation::put("/n/x", "1")}, {}});
  EXPECT_FALSE(unmet.succeeded);
  EXPECT_EQ(unmet.revision, start);
  EXPECT_EQ(remove(store(), "/n/absent").revision, start);
  EXPECT_EQ(current_revision(), start);
  EXPECT_FALSE(find(store(), "/n/x"));
}

TEST_P(StoreTest, PutAndDeleteMaintainKeyMetadata) {
  const auto created = put(store(), "/m/k", "one").revision;
  const auto first = find(store(), "/m/k");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->value, "one");
  EXPECT_EQ(first->create_revision, created);
  EXPECT_EQ(first->mod_revision, created);
  EXPECT_EQ(first->version, 1);

  const auto modified = put(store(), "/m/k", "two").revision;
  const auto second = find(store(), "/m/k");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->value, "two");
  EXPECT_EQ(second->create_revision, created);
  EXPECT_EQ(second->mod_revision, modified);
  EXPECT_EQ(second->version, 2);

  remove(store(), "/m/k");
  EXPECT_FALSE(find(store(), "/m/k"));
  const auto recreated = put(store(), "/m/k", "three").revision;
  EXPECT_EQ(find(store(), "/m/k")->create_revision, recreated);
  EXPECT_EQ(find(store(), "/m/k")->version, 1);
}

TEST_P(StoreTest, GetReportsTheRevisionItObserved) {
  const auto written = put(store(), "/g/k", "v").revision;
  EXPECT_EQ(store().get("/g/k").revision, written);
  EXPECT_EQ(store().get("/g/absent").revision, written);
  EXPECT_TRUE(store().get("/g/absent").kvs.empty());
  EXPECT_EQ(store().get_prefix("/g/").revision, written);
}

TEST_P(StoreTest, KeysAndValuesAreBinarySafe) {
  const std::string key("/bin/\x00\xff", 7);
  const std::string value("\x00\x01\xfe\xff", 4);
  put(store(), key, value);
  put(store(), "/bin/empty", "");
  EXPECT_EQ(find(store(), key)->value, value);
  const auto empty = find(store(), "/bin/empty");
  ASSERT_TRUE(empty);  // an empty value is still a key
  EXPECT_EQ(empty->value, "");
  EXPECT_EQ(empty->version, 1);
}

TEST_P(StoreTest, GetPrefixReturnsExactlyThePrefixSortedBytewise) {
  for (const std::string key :
       {"/a/\xff\xff", "/ab", "/a/b", "/a", "/a0", "/a/\x80", "/a/", "/b/a/x", "/a/B"}) {
    put(store(), key, "v");
  }
  const auto result = store().get_prefix("/a/");
  EXPECT_EQ(keys_of(result.kvs), (std::vector<std::string>{"/a/", "/a/B", "/a/b", "/a/\x80", "/a/\xff\xff"}));
  EXPECT_EQ(result.revision, current_revision());
  EXPECT_TRUE(store().get_prefix("/c/").kvs.empty());
}

TEST_P(StoreTest, GetPrefixOfFfBytesReachesTheEndOfTheKeyspace) {
  const std::string ff_nul("\xff\x00", 2);
  for (const std::string key : {"\xfe\xff", "\xff", "\xff\xff\x01", "\xff\xff"}) put(store(), key, "v");
  put(store(), ff_nul, "v");
  EXPECT_EQ(keys_of(store().get_prefix("\xff\xff").kvs),
            (std::vector<std::string>{"\xff\xff", "\xff\xff\x01"}));
  EXPECT_EQ(keys_of(store().get_prefix("\xff").kvs),
            (std::vector<std::string>{"\xff", ff_nul, "\xff\xff", "\xff\xff\x01"}));
}

// --- transactions ---

struct CompareCase {
  std::string name;
  Compare compare;
  bool holds;
};

Compare make_compare(std::string key, std::string range_end, Target target, Result result,
                     std::int64_t number, std::string value = {}) {
  Compare compare;
  compare.key = std::move(key);
  compare.range_end = std::move(range_end);
  compare.target = target;
  compare.result = result;
  compare.number = number;
  compare.value = std::move(value);
  return compare;
}

Compare on_key(std::string key, Target target, Result result, std::int64_t number) {
  return make_compare(std::move(key), "", target, result, number);
}

Compare on_value(std::string key, std::string range_end, Result result, std::string value) {
  return make_compare(std::move(key), std::move(range_end), Target::Value, result, 0, std::move(value));
}

// Runs each case as the only guard of a transaction and checks the branch taken.
void expect_compares(Store& store, const std::vector<CompareCase>& cases) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto result = store.txn(
        TxnRequest{{c.compare}, {Operation::put("/out", "success")}, {Operation::put("/out", "failure")}});
    EXPECT_EQ(result.succeeded, c.holds);
    EXPECT_EQ(find(store, "/out")->value, c.holds ? "success" : "failure");
  }
}

TEST_P(StoreTest, EveryCompareTargetAndResultOnOneKey) {
  const auto created = put(store(), "/c/k", "b").revision;
  const auto modified = put(store(), "/c/k", "b").revision;
  expect_compares(
      store(),
      {
          {"version =", on_key("/c/k", Target::Version, Result::Equal, 2), true},
          {"version = other", on_key("/c/k", Target::Version, Result::Equal, 1), false},
          {"version !=", on_key("/c/k", Target::Version, Result::NotEqual, 1), true},
          {"version != same", on_key("/c/k", Target::Version, Result::NotEqual, 2), false},
          {"version <", on_key("/c/k", Target::Version, Result::Less, 3), true},
          {"version < same", on_key("/c/k", Target::Version, Result::Less, 2), false},
          {"version >", on_key("/c/k", Target::Version, Result::Greater, 1), true},
          {"version > same", on_key("/c/k", Target::Version, Result::Greater, 2), false},
          {"create =", on_key("/c/k", Target::CreateRevision, Result::Equal, created), true},
          {"create = mod", on_key("/c/k", Target::CreateRevision, Result::Equal, modified), false},
          {"create <", on_key("/c/k", Target::CreateRevision, Result::Less, modified), true},
          {"create >", on_key("/c/k", Target::CreateRevision, Result::Greater, created), false},
          {"mod =", on_key("/c/k", Target::ModRevision, Result::Equal, modified), true},
          {"mod = create", on_key("/c/k", Target::ModRevision, Result::Equal, created), false},
          {"mod >", on_key("/c/k", Target::ModRevision, Result::Greater, created), true},
          {"mod <", on_key("/c/k", Target::ModRevision, Result::Less, modified), false},
          {"mod !=", on_key("/c/k", Target::ModRevision, Result::NotEqual, created), true},
          {"value =", on_value("/c/k", "", Result::Equal, "b"), true},
          {"value = other", on_value("/c/k", "", Result::Equal, "a"), false},
          {"value !=", on_value("/c/k", "", Result::NotEqual, "b"), false},
          {"value >", on_value("/c/k", "", Result::Greater, "a"), true},
          {"value <", on_value("/c/k", "", Result::Less, "c"), true},
          {"value < longer", on_value("/c/k", "", Result::Less, "ba"), true},
          {"value is bytewise", on_value("/c/k", "", Result::Less, "\x80"), true},
          {"absent: version = 0", Compare::key_absent("/c/absent"), true},
          {"absent: version > 0", on_key("/c/absent", Target::Version, Result::Greater, 0), false},
          {"absent: create = 0", on_key("/c/absent", Target::CreateRevision, Result::Equal, 0), true},
          {"absent: mod = 0", Compare::mod_revision_equals("/c/absent", 0), true},
          {"absent: mod < 1", on_key("/c/absent", Target::ModRevision, Result::Less, 1), true},
          {"absent: value = empty", on_value("/c/absent", "", Result::Equal, ""), false},
          {"absent: value != x", on_value("/c/absent", "", Result::NotEqual, "x"), false},
          {"present: key_absent", Compare::key_absent("/c/k"), false},
          {"present: mod_revision_equals", Compare::mod_revision_equals("/c/k", modified), true},
          {"unchanged since its last write", Compare::key_unchanged_since("/c/k", modified), true},
          {"changed since its creation", Compare::key_unchanged_since("/c/k", created), false},
          {"absent: unchanged since 0", Compare::key_unchanged_since("/c/absent", 0), true},
      });
}

TEST_P(StoreTest, RangeComparesTestEveryKeyAndTreatAnEmptyRangeAsOneAbsentKey) {
  const auto first = put(store(), "/q/a", "x").revision;
  put(store(), "/q/b", "y");
  const auto last = put(store(), "/q/b", "y").revision;
  put(store(), "/q0", "z");
  const std::string end_of_keyspace(1, '\0');
  expect_compares(
      store(),
      {
          {"all versions > 0", make_compare("/q/", "/q0", Target::Version, Result::Greater, 0), true},
          {"all versions = 1", make_compare("/q/", "/q0", Target::Version, Result::Equal, 1), false},
          {"all versions < 3", make_compare("/q/", "/q0", Target::Version, Result::Less, 3), true},
          {"all creates >= first",
           make_compare("/q/", "/q0", Target::CreateRevision, Result::Greater, first - 1), true},
          {"all mods < last", make_compare("/q/", "/q0", Target::ModRevision, Result::Less, last), false},
          {"all values > w", on_value("/q/", "/q0", Result::Greater, "w"), true},
          {"all values = x", on_value("/q/", "/q0", Result::Equal, "x"), false},
          {"end excluded", make_compare("/q/a", "/q/b", Target::Version, Result::Equal, 1), true},
          {"end of keyspace", on_value("/q/b", end_of_keyspace, Result::Greater, "x"), true},
          {"end of keyspace, all", on_value("/q/b", end_of_keyspace, Result::Equal, "y"), false},
          {"empty: version = 0", make_compare("/s/", "/s0", Target::Version, Result::Equal, 0), true},
          {"empty: version > 0", make_compare("/s/", "/s0", Target::Version, Result::Greater, 0), false},
          {"empty: create = 0", make_compare("/s/", "/s0", Target::CreateRevision, Result::Equal, 0), true},
          {"empty: mod < 1", make_compare("/s/", "/s0", Target::ModRevision, Result::Less, 1), true},
          {"empty: value = empty", on_value("/s/", "/s0", Result::Equal, ""), false},
          {"empty: value != x", on_value("/s/", "/s0", Result::NotEqual, "x"), false},
          {"end before key", make_compare("/q/b", "/q/a", Target::Version, Result::Equal, 0), true},
          {"prefix unchanged since last", Compare::prefix_unchanged_since("/q/", last), true},
          {"prefix changed since first", Compare::prefix_unchanged_since("/q/", first), false},
      });
}

TEST_P(StoreTest, FailureBranchRunsWhenAnyCompareFails) {
  const auto written = put(store(), "/t/k", "v").revision;
  const auto result =
      store().txn(TxnRequest{{Compare::mod_revision_equals("/t/k", written), Compare::key_absent("/t/k")},
                             {Operation::put("/t/success", "1")},
                             {Operation::put("/t/failure", "1"), Operation::remove("/t/k")}});
  EXPECT_FALSE(result.succeeded);
  EXPECT_EQ(result.revision, written + 1);
  EXPECT_FALSE(find(store(), "/t/success"));
  EXPECT_TRUE(find(store(), "/t/failure"));
  EXPECT_FALSE(find(store(), "/t/k"));
}

TEST_P(StoreTest, SuccessBranchRunsWhenEveryCompareHolds) {
  const auto written = put(store(), "/t/k", "v").revision;
  const auto result =
      store().txn(TxnRequest{{Compare::mod_revision_equals("/t/k", written), Compare::key_absent("/t/other")},
                             {Operation::put("/t/success", "1")},
                             {Operation::put("/t/failure", "1")}});
  EXPECT_TRUE(result.succeeded);
  EXPECT_EQ(result.revision, written + 1);
  EXPECT_TRUE(find(store(), "/t/success"));
  EXPECT_FALSE(find(store(), "/t/failure"));
}

TEST_P(StoreTest, BranchWritingAKeyTwiceIsRefused) {
  put(store(), "/dup/k", "v");
  const auto before = current_revision();
  const TxnRequest twice{{}, {Operation::put("/dup/k", "1"), Operation::put("/dup/k", "2")}, {}};
  const TxnRequest put_and_delete{{}, {}, {Operation::remove("/dup/k"), Operation::put("/dup/k", "1")}};
  EXPECT_THROW(store().txn(twice), std::invalid_argument);
  EXPECT_THROW(store().txn(put_and_delete), std::invalid_argument);
  EXPECT_EQ(current_revision(), before);
  EXPECT_EQ(find(store(), "/dup/k")->value, "v");
}

TEST_P(StoreTest, ConcurrentCreatesOfOneKeyHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      const auto result = store().txn(
          TxnRequest{{Compare::key_absent("/lock")}, {Operation::put("/lock", std::to_string(i))}, {}});
      if (result.succeeded) ++winners;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(find(store(), "/lock")->version, 1);
}

TEST_P(StoreTest, ConcurrentCompareAndSwapIncrementsLoseNoUpdate) {
  constexpr int kThreads = 8;
  constexpr int kIncrements = 25;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  const auto increment = [&] {
    while (true) {
      const auto counter = find(store(), "/counter");
      const std::int64_t value = counter ? std::stoll(counter->value) : 0;
      const std::int64_t seen = counter ? counter->mod_revision : 0;
      const auto result = store().txn(TxnRequest{{Compare::mod_revision_equals("/counter", seen)},
                                                 {Operation::put("/counter", std::to_string(value + 1))},
                                                 {}});
      if (result.succeeded) return;
    }
  };
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int n = 0; n < kIncrements; ++n) increment();
    });
  }
  for (auto& thread : threads) thread.join();
  const auto counter = find(store(), "/counter");
  ASSERT_TRUE(counter);
  EXPECT_EQ(counter->value, std::to_string(kThreads * kIncrements));
  EXPECT_EQ(counter->version, kThreads * kIncrements);
}

// --- watches ---

TEST_P(StoreTest, WatchFromNowSeesOnlyLaterChanges) {
  put(store(), "/w/before", "v");
  WatchRecorder from_zero, from_negative;
  const auto zero = watch("/w/", 0, from_zero);
  const auto negative = watch("/w/", -1, from_negative);
  const auto after = put(store(), "/w/after", "v").revision;
  EXPECT_EQ(keys_of(from_zero.wait_for_revision(after)), std::vector<std::string>{"/w/after"});
  EXPECT_EQ(keys_of(from_negative.wait_for_revision(after)), std::vector<std::string>{"/w/after"});
}

TEST_P(StoreTest, WatchReportsPutAndDeleteEvents) {
  WatchRecorder recorder;
  const auto handle = watch("/e/", 0, recorder);
  const auto created = put(store(), "/e/k", "one").revision;
  const auto modified = put(store(), "/e/k", "two").revision;
  const auto deleted = remove(store(), "/e/k").revision;
  remove(store(), "/e/k");  // absent: no event
  const auto last = put(store(), "/e/last", "v").revision;
  const auto events = recorder.wait_for_revision(last);
  ASSERT_EQ(events.size(), 4u);

  EXPECT_EQ(events[0].type, WatchEvent::Type::Put);
  EXPECT_EQ(events[0].kv.key, "/e/k");
  EXPECT_EQ(events[0].kv.value, "one");
  EXPECT_EQ(events[0].kv.create_revision, created);
  EXPECT_EQ(events[0].kv.mod_revision, created);
  EXPECT_EQ(events[0].kv.version, 1);

  EXPECT_EQ(events[1].type, WatchEvent::Type::Put);
  EXPECT_EQ(events[1].kv.value, "two");
  EXPECT_EQ(events[1].kv.create_revision, created);
  EXPECT_EQ(events[1].kv.mod_revision, modified);
  EXPECT_EQ(events[1].kv.version, 2);

  EXPECT_EQ(events[2].type, WatchEvent::Type::Delete);
  EXPECT_EQ(events[2].kv.key, "/e/k");
  EXPECT_EQ(events[2].kv.mod_revision, deleted);

  EXPECT_EQ(events[3].kv.key, "/e/last");
  EXPECT_EQ(last, deleted + 1);
}

TEST_P(StoreTest, WatchSeesOnlyKeysUnderItsPrefix) {
  WatchRecorder recorder;
  const auto handle = watch("/a/", 0, recorder);
  for (const std::string key : {"/a", "/a/", "/a0", "/ab", "/b/a/x", "/a/x", "/A/x"}) put(store(), key, "v");
  const auto last = put(store(), "/a/\xff", "v").revision;
  EXPECT_EQ(keys_of(recorder.wait_for_revision(last)), (std::vector<std::string>{"/a/", "/a/x", "/a/\xff"}));
}

TEST_P(StoreTest, WatchOfFfPrefixReachesTheEndOfTheKeyspace) {
  WatchRecorder recorder;
  const auto handle = watch("\xff", 0, recorder);
  put(store(), "\xfe\xff", "v");
  put(store(), "\xff", "v");
  const auto last = put(store(), "\xff\xff\x01", "v").revision;
  EXPECT_EQ(keys_of(recorder.wait_for_revision(last)), (std::vector<std::string>{"\xff", "\xff\xff\x01"}));
}

TEST_P(StoreTest, WatchDeliversWholeRevisionsInOrder) {
  const auto before = current_revision();
  for (int i = 0; i < 5; ++i) {
    const auto n = std::to_string(i);
    store().txn(TxnRequest{{},
                           {Operation::put("/o/" + n + "a", n), Operation::put("/o/" + n + "b", n),
                            Operation::put("/o/" + n + "c", n)},
                           {}});
  }
  WatchRecorder recorder;
  const auto handle = watch("/o/", before + 1, recorder);
  const auto events = recorder.wait_for_revision(before + 5);
  ASSERT_EQ(events.size(), 15u);
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].kv.mod_revision, before + 1 + static_cast<std::int64_t>(i / 3));
    EXPECT_EQ(events[i].kv.key.back(), "abc"[i % 3]);  // the order of the operations
  }
  std::map<std::int64_t, std::size_t> batch_of_revision;
  const auto batches = recorder.batches();
  for (std::size_t batch = 0; batch < batches.size(); ++batch) {
    for (const auto& event : batches[batch]) {
      const auto recorded_batch = batch_of_revision.emplace(event.kv.mod_revision, batch).first->second;
      EXPECT_EQ(recorded_batch, batch) << "revision " << event.kv.mod_revision << " split across callbacks";
    }
  }
}

TEST_P(StoreTest, WatchFromThePastReplaysThenStreamsWithoutGapsOrDuplicates) {
  constexpr int kWriters = 4;
  constexpr int kWritesEach = 30;
  std::int64_t start = 0;
  for (int i = 0; i < 20; ++i) {
    const auto revision = put(store(), "/p/before-" + std::to_string(i), "v").revision;
    if (i == 10) start = revision;
  }
  std::latch go(kWriters + 1);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      go.arrive_and_wait();
      for (int i = 0; i < kWritesEach; ++i) {
        put(store(), "/p/" + std::to_string(w) + "-" + std::to_string(i), "v");
      }
    });
  }
  WatchRecorder recorder;
  go.arrive_and_wait();  // the replay races with the writers
  const auto handle = watch("/p/", start, recorder);
  for (auto& writer : writers) writer.join();
  const auto last = current_revision();

  EXPECT_EQ(revisions_of(recorder.wait_for_revision(last)), revision_sequence(start, last));
  EXPECT_FALSE(recorder.overlapped());
}

TEST_P(StoreTest, WatchFromAFutureRevisionWaitsForIt) {
  const auto start = current_revision() + 3;
  WatchRecorder recorder;
  const auto handle = watch("/f/", start, recorder);
  for (int i = 0; i < 4; ++i) put(store(), "/f/" + std::to_string(i), "v");
  EXPECT_EQ(revisions_of(recorder.wait_for_revision(start + 1)), revision_sequence(start, start + 1));
}

TEST_P(StoreTest, WatchFromACompactedRevisionFailsAndDeliversNothing) {
  std::vector<std::int64_t> revisions;
  for (int i = 0; i < 5; ++i) revisions.push_back(put(store(), "/h/k", std::to_string(i)).revision);
  store().compact(revisions[2]);

  WatchRecorder too_old, oldest_kept;
  const auto failed = watch("/h/", revisions[1], too_old);
  const auto kept = watch("/h/", revisions[2], oldest_kept);
  const auto error = too_old.wait_for_error();
  ASSERT_TRUE(error);
  EXPECT_EQ(compacted_revision_of(error), revisions[2]);
  EXPECT_EQ(revisions_of(oldest_kept.wait_for_revision(revisions[4])),
            revision_sequence(revisions[2], revisions[4]));

  const auto later = put(store(), "/h/k", "later").revision;
  oldest_kept.wait_for_revision(later);
  EXPECT_TRUE(too_old.events().empty());
  EXPECT_FALSE(oldest_kept.error());
}

TEST_P(StoreTest, CompactingAFutureRevisionIsRefused) {
  put(store(), "/h/k", "v");
  EXPECT_THROW(store().compact(current_revision() + 1), std::invalid_argument);
  EXPECT_NO_THROW(store().compact(current_revision()));
}

TEST_P(StoreTest, DestroyedHandleGetsNoMoreEvents) {
  WatchRecorder cancelled, still_watching;
  auto handle = watch("/x/", 0, cancelled);
  const auto keep = watch("/x/", 0, still_watching);
  const auto first = put(store(), "/x/1", "v").revision;
  cancelled.wait_for_revision(first);
  handle.reset();
  const auto second = put(store(), "/x/2", "v").revision;
  still_watching.wait_for_revision(second);
  EXPECT_EQ(revisions_of(still_watching.events()), revision_sequence(first, second));
  EXPECT_EQ(revisions_of(cancelled.events()), std::vector<std::int64_t>{first});
  EXPECT_FALSE(cancelled.error());
}

TEST_P(StoreTest, HandleDestructorWaitsForTheRunningCallback) {
  std::promise<void> entered;
  std::atomic<bool> callback_returned{false};
  std::once_flag once;
  std::unique_ptr<WatchHandle> handle;
  std::promise<void> release;  // after the handle: on an early exit, the broken promise frees the callback
  handle = store().watch_prefix(
      "/cb/", 0,
      [&, released = release.get_future().share()](const std::vector<WatchEvent>&) {
        std::call_once(once, [&] { entered.set_value(); });
        released.wait();
        callback_returned = true;
      },
      [](std::exception_ptr) {});
  put(store(), "/cb/k", "v");
  ASSERT_EQ(entered.get_future().wait_for(kWaitTimeout), std::future_status::ready);

  std::atomic<bool> destructor_returned{false};
  bool callback_returned_first = false;
  std::thread canceller([&] {
    handle.reset();
    callback_returned_first = callback_returned;
    destructor_returned = true;
  });
  // Not an assertion on timing: it gives a destructor that does not wait the chance to return early.
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(destructor_returned);
  release.set_value();
  canceller.join();
  EXPECT_TRUE(callback_returned_first);
}

TEST_P(StoreTest, CallbackCanUseTheStoreAndCancelItsOwnWatch) {
  WatchRecorder recorder;
  std::string value_read_in_callback;
  std::unique_ptr<WatchHandle> handle;
  handle = store().watch_prefix(
      "/re/", 0,
      [&](const std::vector<WatchEvent>& events) {
        for (const auto& event : events) {
          if (event.kv.key == "/re/ping") {
            value_read_in_callback = find(store(), "/re/ping")->value;
            put(store(), "/re/pong", "from callback");
          }
          if (event.kv.key == "/re/pong") handle.reset();
        }
        recorder.record(events);  // last: the test goes on once it has seen the events
      },
      recorder.on_error());
  const auto ping = put(store(), "/re/ping", "hello").revision;
  EXPECT_EQ(keys_of(recorder.wait_for_revision(ping + 1)),
            (std::vector<std::string>{"/re/ping", "/re/pong"}));
  EXPECT_EQ(value_read_in_callback, "hello");
  EXPECT_FALSE(handle);

  WatchRecorder still_watching;
  const auto keep = watch("/re/", 0, still_watching);
  const auto after = put(store(), "/re/after", "v").revision;
  still_watching.wait_for_revision(after);
  EXPECT_EQ(recorder.events().size(), 2u);
  EXPECT_FALSE(recorder.error());
}

// --- durability ---

TEST_P(StoreTest, DataRevisionAndHistorySurviveReopening) {
  const auto created = put(store(), "/d/a", "1").revision;
  put(store(), "/d/b", "2");
  const auto modified = put(store(), "/d/a", "3").revision;
  const auto last = remove(store(), "/d/b").revision;
  reopen();

  EXPECT_EQ(current_revision(), last);
  const auto a = find(store(), "/d/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, "3");
  EXPECT_EQ(a->create_revision, created);
  EXPECT_EQ(a->mod_revision, modified);
  EXPECT_EQ(a->version, 2);
  EXPECT_FALSE(find(store(), "/d/b"));
  EXPECT_EQ(put(store(), "/d/c", "4").revision, last + 1);

  WatchRecorder recorder;
  const auto handle = watch("/d/", created, recorder);
  EXPECT_EQ(revisions_of(recorder.wait_for_revision(last + 1)), revision_sequence(created, last + 1));
}

TEST_P(StoreTest, CompactionSurvivesReopening) {
  const auto first = put(store(), "/d/a", "1").revision;
  const auto second = put(store(), "/d/a", "2").revision;
  store().compact(second);
  reopen();
  WatchRecorder recorder;
  const auto handle = watch("/d/", first, recorder);
  EXPECT_EQ(compacted_revision_of(recorder.wait_for_error()), second);
}

// --- the embedded SQLite store only ---

constexpr std::int64_t kHistoryRevisionsKept = 10'000;  // promised by sqlite_store.cpp

TEST(SqliteStoreTest, EmptyStoreIsAtRevisionOneAndItsFirstWriteMakesTwo) {
  TemporaryDirectory directory;
  SqliteStore store(directory.path());
  EXPECT_EQ(store.get("/k").revision, 1);
  EXPECT_EQ(put(store, "/k", "v").revision, 2);
}

TEST(SqliteStoreTest, CreatesAMissingDataDirectoryAndNamesItsFile) {
  TemporaryDirectory directory;
  const auto data_dir = directory.path() / "nested" / "data";
  SqliteStore store(data_dir);
  const auto file = std::filesystem::absolute(data_dir / "config.db");
  EXPECT_TRUE(std::filesystem::is_regular_file(file));
  EXPECT_EQ(store.describe(), "embedded (sqlite: " + file.string() + ")");
}

// Opens a store that must fail, and returns the message of its StoreUnavailable.
std::string open_failure(const std::filesystem::path& data_dir) {
  try {
    SqliteStore store(data_dir);
  } catch (const StoreUnavailable& unavailable) {
    return unavailable.what();
  }
  ADD_FAILURE() << "opening " << data_dir << " did not fail";
  return {};
}

TEST(SqliteStoreTest, DataDirectoryThatIsAFileIsUnavailable) {
  TemporaryDirectory directory;
  const auto not_a_directory = directory.path() / "file";
  std::ofstream(not_a_directory) << "not a directory";
  EXPECT_NE(open_failure(not_a_directory).find(not_a_directory.string()), std::string::npos);
}

TEST(SqliteStoreTest, FileThatIsNotADatabaseIsUnavailable) {
  TemporaryDirectory directory;
  std::ofstream(directory.path() / "config.db") << std::string(4096, 'x');
  const auto message = open_failure(directory.path());
  EXPECT_NE(message.find((directory.path() / "config.db").string()), std::string::npos) << message;
  EXPECT_NE(message.find("not a database"), std::string::npos) << message;
}

TEST(SqliteStoreTest, SecondStoreOnTheSameDirectoryIsRefused) {
  TemporaryDirectory directory;
  SqliteStore first(directory.path());
  EXPECT_NE(open_failure(directory.path()).find("locked"), std::string::npos);
  EXPECT_EQ(put(first, "/k", "v").revision, 2);
}

// Read behind the store's back (after closing it): the file itself must not grow without bound.
std::int64_t history_rows(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  sqlite3_stmt* count = nullptr;
  std::int64_t rows = -1;
  if (sqlite3_open(file.c_str(), &db) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM history", -1, &count, nullptr) == SQLITE_OK &&
      sqlite3_step(count) == SQLITE_ROW) {
    rows = sqlite3_column_int64(count, 0);
  }
  sqlite3_finalize(count);
  sqlite3_close(db);
  return rows;
}

// Retention long enough that only the count of revisions bounds the history.
const SqliteStoreOptions kLongRetention{.history_retention = std::chrono::hours(1)};

TEST(SqliteStoreTest, KeepsTheHistoryOfTheLatestRevisionsOnly) {
  TemporaryDirectory directory;
  std::int64_t last = 0;
  {
    SqliteStore store(directory.path(), kLongRetention);
    for (std::int64_t i = 0; i < kHistoryRevisionsKept + 5; ++i) last = put(store, "/k", "v").revision;
  }
  const auto oldest_kept = last - kHistoryRevisionsKept + 1;
  EXPECT_EQ(history_rows(directory.path() / "config.db"), kHistoryRevisionsKept);

  SqliteStore store(directory.path(), kLongRetention);
  WatchRecorder too_old, kept;
  const auto failed = store.watch_prefix("/", oldest_kept - 1, too_old.on_events(), too_old.on_error());
  const auto replayed = store.watch_prefix("/", oldest_kept, kept.on_events(), kept.on_error());
  EXPECT_EQ(compacted_revision_of(too_old.wait_for_error()), oldest_kept);
  EXPECT_EQ(revisions_of(kept.wait_for_revision(last)), revision_sequence(oldest_kept, last));
}

std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The data directory's files, as they are on disk.
std::string store_bytes(const std::filesystem::path& data_dir) {
  std::string bytes;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) bytes += file_bytes(entry.path());
  return bytes;
}

TEST(SqliteStoreTest, ForgetsHistoryOlderThanItsRetentionAndTheValuesItHeld) {
  TemporaryDirectory directory;
  const SqliteStoreOptions short_retention{.history_retention = 50ms};
  std::int64_t first = 0;
  std::int64_t last = 0;
  {
    SqliteStore store(directory.path(), short_retention);
    first = put(store, "/k", "replaced-value-0123456789").revision;
    last = put(store, "/k", "current-value-0123456789").revision;
    std::this_thread::sleep_for(400ms);  // retention, twice over, with room for a slow machine
    EXPECT_EQ(store_bytes(directory.path()).find("replaced-value"), std::string::npos) << "while open";
  }
  EXPECT_EQ(history_rows(directory.path() / "config.db"), 1) << "the latest revision's history is kept";
  EXPECT_EQ(store_bytes(directory.path()).find("replaced-value"), std::string::npos);
  EXPECT_NE(store_bytes(directory.path()).find("current-value"), std::string::npos);

  SqliteStore store(directory.path(), short_retention);
  WatchRecorder too_old, latest;
  const auto failed = store.watch_prefix("/", first, too_old.on_events(), too_old.on_error());
  const auto kept = store.watch_prefix("/", last, latest.on_events(), latest.on_error());
  EXPECT_EQ(compacted_revision_of(too_old.wait_for_error()), last);
  EXPECT_EQ(revisions_of(latest.wait_for_revision(last)), std::vector<std::int64_t>{last});
}

TEST(SqliteStoreTest, ALiveWatchGetsEveryRevisionHoweverShortTheRetention) {
  TemporaryDirectory directory;
  SqliteStore store(directory.path(), SqliteStoreOptions{.history_retention = 1ms});
  WatchRecorder recorder;
  const auto handle = store.watch_prefix("/", 0, recorder.on_events(), recorder.on_error());
  const auto first = put(store, "/k", "0").revision;
  std::int64_t last = first;
  for (int i = 1; i < 200; ++i) {
    last = put(store, "/k", std::to_string(i)).revision;
    if (i % 20 == 0) std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(revisions_of(recorder.wait_for_revision(last)), revision_sequence(first, last));
  EXPECT_FALSE(recorder.error());
}

unsigned mode_of(const std::filesystem::path& path) {
  return static_cast<unsigned>(std::filesystem::status(path).permissions() & std::filesystem::perms::all);
}

TEST(SqliteStoreTest, CreatesItsDirectoryAndFilesForItsOwnerOnly) {
  TemporaryDirectory directory;
  const auto data_dir = directory.path() / "new";
  SqliteStore store(data_dir);
  put(store, "/k", "v");
  EXPECT_EQ(mode_of(data_dir), 0700u);
  ASSERT_TRUE(std::filesystem::exists(data_dir / "config.db-wal"));
  for (const auto& entry : std::filesystem::directory_iterator(data_dir)) {
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
  }
}

TEST(SqliteStoreTest, MakesTheFilesOfAnExistingStorePrivate) {
  TemporaryDirectory directory;
  {
    SqliteStore store(directory.path());
    put(store, "/k", "v");
  }
  std::ofstream(directory.path() / "config.db-wal").flush();  // as a crash would leave it
  const auto everyone_reads = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                              std::filesystem::perms::group_read | std::filesystem::perms::others_read;
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) {
    std::filesystem::permissions(entry.path(), everyone_reads);
  }
  SqliteStore store(directory.path());
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) {
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
  }
  EXPECT_EQ(find(store, "/k")->value, "v");
}

TEST(SqliteStoreTest, ClosingTheStoreEndsLiveWatches) {
  TemporaryDirectory directory;
  WatchRecorder recorder;
  std::unique_ptr<WatchHandle> handle;
  {
    SqliteStore store(directory.path());
    handle = store.watch_prefix("/", 0, recorder.on_events(), recorder.on_error());
  }
  EXPECT_TRUE(is_error_of_type<StoreUnavailable>(recorder.error()));
  handle.reset();  // outliving the store is safe
}

TEST(SqliteStoreTest, WatchNeedsBothCallbacks) {
  TemporaryDirectory directory;
  SqliteStore store(directory.path());
  EXPECT_THROW(store.watch_prefix("/", 0, nullptr, [](std::exception_ptr) {}), std::invalid_argument);
  EXPECT_THROW(store.watch_prefix(
                   "/", 0, [](const std::vector<WatchEvent>&) {}, nullptr),
               std::invalid_argument);
}

}  // namespace
}  // namespace eg::store
