#include "store/sqlite_store.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <compare>
#include <condition_variable>
#include <deque>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "common/sqlite.h"

// How the embedded store works:
//   - One connection, used under one mutex; the revision and compacted revision are cached in memory
//     and written to the `meta` table in the same SQLite transaction as the change they describe.
//   - The file is opened in exclusive locking mode: another process (say a second gateway on the same
//     data directory) would otherwise write without the watches of this one noticing.
//   - Every change is also written to `history`. Watches do not receive events pushed by writers;
//     the notifier thread reads each watch's next revisions from `history`, so a replay from the past
//     and the live stream are the same code path and cannot miss or repeat an event.
//   - Callbacks run on the notifier thread, never under the database mutex. An exception thrown by
//     on_events ends the watch and is passed to its on_error; one thrown by on_error is dropped.
//   - Destroying the store ends each live watch with on_error(StoreUnavailable("store closed")),
//     called before the destructor returns. A callback must not destroy the store itself.
//   - History is kept for at least SqliteStoreOptions::history_retention and at most the latest
//     kHistoryRevisionsKept revisions. The notifier forgets what has expired once per retention
//     period, never a revision that a live watch has not yet received; what is forgotten is then
//     also gone from the file: deleted content is zeroed (secure_delete) and the write-ahead log,
//     which holds pages as they were, is truncated.

namespace eg::store {
namespace {

// etcd keeps history until told to compact; the embedded store compacts by itself so that the file
// does not grow without bound. A watch that falls further behind than this fails with
// RevisionCompacted, as it would on a compacted etcd.
constexpr std::int64_t kHistoryRevisionsKept = 10'000;
// Commits this close together share one entry of the record of commit times.
constexpr auto kCommitTimeGranularity = std::chrono::milliseconds(100);
// Bounds the memory of one callback when a watch replays a long history.
constexpr std::int64_t kMaxRevisionsPerBatch = 1'000;
// Only another process can hold the file lock; wait that long for it before giving up.
constexpr std::chrono::milliseconds kBusyTimeout{1'000};
constexpr int kSchemaVersion = 1;

// `meta` has one row. An empty store is at revision 1 and has compacted nothing, as in etcd.
// `history.sub` orders the changes within one revision. Keys and values are BLOBs so that they
// compare bytewise (memcmp) and may hold any byte.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  revision INTEGER NOT NULL,
  compacted_revision INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (id, revision, compacted_revision) VALUES (0, 1, 0);
CREATE TABLE IF NOT EXISTS kv (
  key BLOB PRIMARY KEY,
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision INTEGER NOT NULL,
  version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
  revision INTEGER NOT NULL,
  sub INTEGER NOT NULL,
  key BLOB NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
  value BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (revision, sub)
) WITHOUT ROWID;
)sql";

constexpr std::string_view kKvColumns = "key, value, create_revision, mod_revision, version";

// etcd's range_end of a single NUL byte: every key from the start of the range on.
bool reaches_end_of_keyspace(const std::string& range_end) {
  return range_end.size() == 1 && range_end[0] == '\0';
}

using common::Database;
using common::Query;
using common::Statement;
using common::Transaction;

// Its messages begin "sqlite store <file>: ", and are thrown as StoreUnavailable.
common::SqliteErrors store_errors() {
  return {"sqlite store", [](const std::string& message, bool) { throw StoreUnavailable(message); }};
}

// The store's settings and schema, before its statements are prepared.
Database& set_up(Database& database) {
  // Exclusive before WAL: the WAL index then lives in this process's memory, not in a shared file.
  database.execute("PRAGMA locking_mode = EXCLUSIVE");
  database.execute("PRAGMA journal_mode = WAL");
  // Durable across a crash of the process; a power loss may lose the last commits, not the file.
  database.execute("PRAGMA synchronous = NORMAL");
  // Deleted content (replaced values, forgotten history) is overwritten with zeros rather than left
  // in free space: it may be a secret.
  database.execute("PRAGMA secure_delete = ON");
  database.create_schema(kSchemaVersion, kSchema);
  return database;
}

std::string select_kv(std::string_view condition) {
  return "SELECT " + std::string(kKvColumns) + " FROM kv WHERE " + std::string(condition) + " ORDER BY key";
}

struct Statements {
  explicit Statements(Database& database)
      : transactions(database),
        read_meta(database, "SELECT revision, compacted_revision FROM meta"),
        write_revision(database, "UPDATE meta SET revision = ?1"),
        write_compacted_revision(database, "UPDATE meta SET compacted_revision = ?1"),
        select_key(database, select_kv("key = ?1")),
        select_from(database, select_kv("key >= ?1")),
        select_range(database, select_kv("key >= ?1 AND key < ?2")),
        upsert(database,
               "INSERT OR REPLACE INTO kv (" + std::string(kKvColumns) + ") VALUES (?1, ?2, ?3, ?4, ?5)"),
        delete_key(database, "DELETE FROM kv WHERE key = ?1"),
        record_change(database,
                      "INSERT INTO history (revision, sub, key, type, value, create_revision, version) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
        select_changes(database,
                       "SELECT revision, type, key, value, create_revision, version FROM history "
                       "WHERE revision BETWEEN ?1 AND ?2 AND key >= ?3 AND (?4 IS NULL OR key < ?4) "
                       "ORDER BY revision, sub"),
        forget_changes_before(database, "DELETE FROM history WHERE revision < ?1") {}

  common::TransactionStatements transactions;
  Statement read_meta, write_revision, write_compacted_revision;
  Statement select_key, select_from, select_range, upsert, delete_key;
  Statement record_change, select_changes, forget_changes_before;
};

std::strong_ordering order_of(const KeyValue& kv, const Compare& compare) {
  switch (compare.target) {
    case Compare::Target::Version:
      return kv.version <=> compare.number;
    case Compare::Target::CreateRevision:
      return kv.create_revision <=> compare.number;
    case Compare::Target::ModRevision:
      return kv.mod_revision <=> compare.number;
    case Compare::Target::Value:
      return kv.value <=> compare.value;  // char_traits<char> compares as unsigned char: bytewise
  }
  throw std::invalid_argument("unknown compare target");
}

bool satisfies(std::strong_ordering order, Compare::Result result) {
  switch (result) {
    case Compare::Result::Equal:
      return order == 0;
    case Compare::Result::NotEqual:
      return order != 0;
    case Compare::Result::Less:
      return order < 0;
    case Compare::Result::Greater:
      return order > 0;
  }
  throw std::invalid_argument("unknown compare result");
}

KeyValue kv_from_row(const Query& query) {
  return KeyValue{query.bytes(0), query.bytes(1), query.integer(2), query.integer(3), query.integer(4)};
}

// A row of `history`: revision, type, key, value, create_revision, version.
WatchEvent event_from_row(const Query& query) {
  WatchEvent event;
  event.kv.mod_revision = query.integer(0);
  event.kv.key = query.bytes(2);
  if (query.bytes(1) == "delete") {
    event.type = WatchEvent::Type::Delete;
    return event;
  }
  event.kv.value = query.bytes(3);
  event.kv.create_revision = query.integer(4);
  event.kv.version = query.integer(5);
  return event;
}

// One watch. prefix and range_end never change; the callbacks are called only by the notifier while
// `delivering` names this watch, and released by cancel(); the rest is guarded by WatchHub::mutex.
struct WatchState {
  std::string prefix;
  std::optional<std::string> range_end;  // none: to the end of the keyspace
  WatchCallback on_events;
  WatchErrorCallback on_error;
  std::int64_t next_revision = 0;  // the first revision not yet delivered
  bool ended = false;              // cancelled, or told why it cannot continue
};

// The live watches and the hand-offs between writers, the notifier thread and cancelling handles.
// Shared with the handles, which may outlive the store.
struct WatchHub {
  void add(const std::shared_ptr<WatchState>& watch) {
    std::lock_guard lock(mutex);
    if (closing) throw StoreUnavailable("store closed");
    watches.push_back(watch);
    work.notify_one();
  }

  // Called after a commit: the notifier has new revisions to read.
  void publish(std::int64_t revision) {
    std::lock_guard lock(mutex);
    committed_revision = std::max(committed_revision, revision);
    work.notify_one();
  }

  void cancel(const std::shared_ptr<WatchState>& watch) {
    WatchCallback on_events;  // released after the lock, since they may own anything
    WatchErrorCallback on_error;
    std::unique_lock lock(mutex);
    watch->ended = true;
    std::erase(watches, watch);
    // A callback that cancels its own watch cannot wait for itself to return; the notifier checks
    // `ended` before calling the watch again, and releases the callbacks when it drops the watch.
    if (std::this_thread::get_id() != notifier_id) {
      delivered.wait(lock, [&] { return delivering != watch.get(); });
    }
    if (delivering == watch.get()) return;
    on_events = std::exchange(watch->on_events, nullptr);
    on_error = std::exchange(watch->on_error, nullptr);
  }

  // The first revision some live watch has not yet received (the largest revision when none).
  std::int64_t oldest_undelivered_revision() const {
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (const auto& watch : watches) oldest = std::min(oldest, watch->next_revision);
    return oldest;
  }

  std::vector<std::shared_ptr<WatchState>> due_watches() const {
    std::vector<std::shared_ptr<WatchState>> due;
    for (const auto& watch : watches) {
      if (watch->next_revision <= committed_revision) due.push_back(watch);
    }
    return due;
  }

  // Runs `call` as the callback of `watch` unless the watch has ended; returns what it threw.
  template <typename Call>
  std::exception_ptr deliver(WatchState& watch, std::unique_lock<std::mutex>& lock, const Call& call) {
    if (watch.ended) return nullptr;
    delivering = &watch;
    lock.unlock();
    std::exception_ptr thrown;
    try {
      call();
    } catch (...) {
      thrown = std::current_exception();
    }
    lock.lock();
    delivering = nullptr;
    delivered.notify_all();
    return thrown;
  }

  // Tells the watch why it cannot continue, and forgets it.
  void fail(const std::shared_ptr<WatchState>& watch, std::unique_lock<std::mutex>& lock,
            const std::exception_ptr& error) {
    // What on_error throws is dropped: there is nobody left to tell.
    deliver(*watch, lock, [&] { watch->on_error(error); });
    watch->ended = true;
    std::erase(watches, watch);
  }

  void fail_all(std::unique_lock<std::mutex>& lock) {
    const auto closed = std::make_exception_ptr(StoreUnavailable("store closed"));
    while (!watches.empty()) {
      const auto watch = watches.front();  // a copy: fail() lets cancel() erase from `watches`
      fail(watch, lock, closed);
    }
  }

  std::mutex mutex;
  std::condition_variable work;       // for the notifier: new revisions, new watches, closing
  std::condition_variable delivered;  // for cancel(): a callback returned
  std::vector<std::shared_ptr<WatchState>> watches;
  std::int64_t committed_revision = 0;
  bool closing = false;
  const WatchState* delivering = nullptr;  // the watch whose callback runs now
  std::thread::id notifier_id;
};

class SqliteWatchHandle final : public WatchHandle {
 public:
  SqliteWatchHandle(std::shared_ptr<WatchHub> hub, std::shared_ptr<WatchState> watch)
      : hub_(std::move(hub)), watch_(std::move(watch)) {}
  ~SqliteWatchHandle() override { hub_->cancel(watch_); }

 private:
  std::shared_ptr<WatchHub> hub_;
  std::shared_ptr<WatchState> watch_;
};

// The changes a watch reads in one go: whole revisions up to last_revision, or why it cannot go on.
struct Batch {
  std::vector<WatchEvent> events;
  std::int64_t last_revision = 0;
  std::exception_ptr error;
};

// The file holds function secrets.
const common::PrivateDirectoryMessages kDataDirectoryMessages{
    .cannot_create = "cannot create the data directory {}",
    .cannot_restrict = "cannot restrict the data directory {}",
    .open_to_others =
        "the data directory {} is open to other users (mode {:o}) and holds function secrets: chmod 700 it",
    .cannot_make_private = "cannot make it private to its owner",
};

// When revisions were committed, for the history's retention: one entry per group of revisions
// committed within kCommitTimeGranularity of the group's first, oldest first.
struct CommitTime {
  std::int64_t first_revision = 0;
  std::chrono::steady_clock::time_point first_at;
  std::chrono::steady_clock::time_point last_at;
};

}  // namespace

struct SqliteStore::Impl {
  Impl(const std::filesystem::path& data_dir, SqliteStoreOptions store_options)
      : options(store_options),
        database(
            common::prepare_private_database(data_dir, "config.db", kDataDirectoryMessages, store_errors()),
            store_errors(), kBusyTimeout),
        statements(set_up(database)) {
    Query meta(statements.read_meta);
    if (!meta.step()) database.fail("the meta table is empty");
    revision = meta.integer(0);
    compacted_revision = meta.integer(1);
    hub->committed_revision = revision;
    // The history written before this open is taken as written now: its commit times are not stored.
    const auto now = std::chrono::steady_clock::now();
    commit_times.push_back({compacted_revision, now, now});
  }

  void start_notifier() {
    std::lock_guard lock(hub->mutex);
    notifier = std::thread([this] { run_notifier(); });
    hub->notifier_id = notifier.get_id();
  }

  void stop_notifier() {
    {
      std::lock_guard lock(hub->mutex);
      hub->closing = true;
      hub->work.notify_one();
    }
    notifier.join();
  }

  std::int64_t current_revision() {
    std::lock_guard lock(db_mutex);
    return revision;
  }

  // Every key in [key, range_end), or just `key` when range_end is empty.
  std::vector<KeyValue> read_range(const std::string& key, const std::string& range_end) {
    const bool single = range_end.empty();
    const bool unbounded = reaches_end_of_keyspace(range_end);
    Query query(single      ? statements.select_key
                : unbounded ? statements.select_from
                            : statements.select_range);
    query.bind_bytes(1, key);
    if (!single && !unbounded) query.bind_bytes(2, range_end);
    std::vector<KeyValue> kvs;
    while (query.step()) kvs.push_back(kv_from_row(query));
    return kvs;
  }

  RangeResult read(const std::string& key, const std::string& range_end) {
    std::lock_guard lock(db_mutex);
    return RangeResult{read_range(key, range_end), revision};
  }

  // etcd's applyCompare: an empty range compares as one absent key, except that a value compare on
  // absent keys always fails (an absent value is not an empty one).
  bool holds(const Compare& compare) {
    const auto kvs = read_range(compare.key, compare.range_end);
    if (kvs.empty()) {
      return compare.target != Compare::Target::Value &&
             satisfies(order_of(KeyValue{}, compare), compare.result);
    }
    return std::all_of(kvs.begin(), kvs.end(),
                       [&](const KeyValue& kv) { return satisfies(order_of(kv, compare), compare.result); });
  }

  void record_change(std::int64_t sub, std::string_view type, const KeyValue& kv) {
    Query(statements.record_change)
        .bind_integer(1, kv.mod_revision)
        .bind_integer(2, sub)
        .bind_bytes(3, kv.key)
        .bind_text(4, type)
        .bind_bytes(5, kv.value)
        .bind_integer(6, kv.create_revision)
        .bind_integer(7, kv.version)
        .run();
  }

  void put(const Operation& operation, std::int64_t new_revision, std::int64_t sub) {
    const auto existing = read_range(operation.key, "");
    KeyValue kv{operation.key, operation.value, new_revision, new_revision, 1};
    if (!existing.empty()) {
      kv.create_revision = existing.front().create_revision;
      kv.version = existing.front().version + 1;
    }
    Query(statements.upsert)
        .bind_bytes(1, kv.key)
        .bind_bytes(2, kv.value)
        .bind_integer(3, kv.create_revision)
        .bind_integer(4, kv.mod_revision)
        .bind_integer(5, kv.version)
        .run();
    record_change(sub, "put", kv);
  }

  // Returns false when the key was absent: nothing changed, no event.
  bool remove(const Operation& operation, std::int64_t new_revision, std::int64_t sub) {
    Query(statements.delete_key).bind_bytes(1, operation.key).run();
    if (database.changes() == 0) return false;
    record_change(sub, "delete", KeyValue{operation.key, {}, 0, new_revision, 0});
    return true;
  }

  // Applies the operations as revision `new_revision`; returns how many changed something.
  std::int64_t write(const std::vector<Operation>& operations, std::int64_t new_revision) {
    std::int64_t changes = 0;
    for (const auto& operation : operations) {
      if (operation.kind == Operation::Kind::Put) {
        put(operation, new_revision, changes++);
      } else if (remove(operation, new_revision, changes)) {
        ++changes;
      }
    }
    return changes;
  }

  void forget_changes_before(std::int64_t oldest_kept) {
    Query(statements.forget_changes_before).bind_integer(1, oldest_kept).run();
    Query(statements.write_compacted_revision).bind_integer(1, oldest_kept).run();
  }

  struct Applied {
    bool succeeded = false;
    bool changed = false;
    std::int64_t revision = 0;
  };

  Applied apply(const TxnRequest& request) {
    std::lock_guard lock(db_mutex);
    Transaction transaction(statements.transactions);
    const bool succeeded = std::all_of(request.compares.begin(), request.compares.end(),
                                       [&](const Compare& compare) { return holds(compare); });
    const std::int64_t new_revision = revision + 1;
    if (write(succeeded ? request.success : request.failure, new_revision) == 0) {
      transaction.commit();
      return Applied{succeeded, false, revision};
    }
    Query(statements.write_revision).bind_integer(1, new_revision).run();
    note_commit_time(new_revision);
    const std::int64_t new_compacted = std::max(compacted_revision, new_revision - kHistoryRevisionsKept + 1);
    if (new_compacted != compacted_revision) forget_changes_before(new_compacted);
    transaction.commit();
    revision = new_revision;
    compacted_revision = new_compacted;
    return Applied{succeeded, true, revision};
  }

  void note_commit_time(std::int64_t new_revision) {
    const auto now = std::chrono::steady_clock::now();
    if (!commit_times.empty() && now - commit_times.back().first_at < kCommitTimeGranularity) {
      commit_times.back().last_at = now;
    } else {
      commit_times.push_back({new_revision, now, now});
    }
  }

  // Forgets the history committed longer than the retention ago, but never the latest revision's
  // (its values are the current ones), nor any revision from `oldest_undelivered` on, which a live
  // watch has not yet received.
  void forget_expired_history(std::int64_t oldest_undelivered) {
    std::lock_guard lock(db_mutex);
    const auto expired_before = std::chrono::steady_clock::now() - options.history_retention;
    while (!commit_times.empty() && commit_times.front().last_at < expired_before) commit_times.pop_front();
    const auto oldest_unexpired = commit_times.empty() ? revision : commit_times.front().first_revision;
    const auto oldest_kept = std::min({revision, oldest_unexpired, oldest_undelivered});
    if (oldest_kept <= compacted_revision) return;
    Transaction transaction(statements.transactions);
    forget_changes_before(oldest_kept);
    transaction.commit();
    compacted_revision = oldest_kept;
    // The log still holds the pages as they were before the deletion.
    database.execute("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  void forget_expired_history_or_retry_later(std::int64_t oldest_undelivered) {
    try {
      forget_expired_history(oldest_undelivered);
    } catch (const StoreUnavailable& error) {
      spdlog::warn("embedded store: could not forget expired history, will retry: {}", error.what());
    }
  }

  void compact(std::int64_t oldest_kept) {
    std::lock_guard lock(db_mutex);
    if (oldest_kept > revision) {
      throw std::invalid_argument("cannot compact revision " + std::to_string(oldest_kept) +
                                  ": the store is at revision " + std::to_string(revision));
    }
    if (oldest_kept <= compacted_revision) return;
    Transaction transaction(statements.transactions);
    forget_changes_before(oldest_kept);
    transaction.commit();
    compacted_revision = oldest_kept;
  }

  Batch read_changes(const WatchState& watch, std::int64_t from) {
    std::lock_guard lock(db_mutex);
    if (from < compacted_revision) {
      return Batch{{}, 0, std::make_exception_ptr(RevisionCompacted(from, compacted_revision))};
    }
    Batch batch{{}, std::min(revision, from + kMaxRevisionsPerBatch - 1), nullptr};
    Query query(statements.select_changes);
    query.bind_integer(1, from).bind_integer(2, batch.last_revision).bind_bytes(3, watch.prefix);
    query.bind_bytes_or_null(4, watch.range_end);
    while (query.step()) batch.events.push_back(event_from_row(query));
    return batch;
  }

  Batch read_changes_or_error(const WatchState& watch, std::int64_t from) {
    try {
      return read_changes(watch, from);
    } catch (const StoreUnavailable&) {
      return Batch{{}, 0, std::current_exception()};
    }
  }

  // Reads and delivers the next batch of one due watch. Called and returns with `lock` held.
  void serve(const std::shared_ptr<WatchState>& watch, std::unique_lock<std::mutex>& lock) {
    if (watch->ended) return;
    const std::int64_t from = watch->next_revision;
    lock.unlock();
    const Batch batch = read_changes_or_error(*watch, from);
    lock.lock();
    auto error = batch.error;
    if (!error && !batch.events.empty()) {
      error = hub->deliver(*watch, lock, [&] { watch->on_events(batch.events); });
    }
    if (error) {
      hub->fail(watch, lock, error);
    } else {
      watch->next_revision = batch.last_revision + 1;
    }
  }

  void run_notifier() {
    auto next_forgetting = std::chrono::steady_clock::now() + options.history_retention;
    std::unique_lock lock(hub->mutex);
    while (!hub->closing) {
      const auto due = hub->due_watches();
      if (!due.empty()) {
        for (const auto& watch : due) serve(watch, lock);
      } else if (std::chrono::steady_clock::now() >= next_forgetting) {
        // Read under this lock, which a watch holds to move on (after its revisions were read).
        const auto oldest_undelivered = hub->oldest_undelivered_revision();
        lock.unlock();
        forget_expired_history_or_retry_later(oldest_undelivered);
        lock.lock();
        next_forgetting = std::chrono::steady_clock::now() + options.history_retention;
      } else {
        hub->work.wait_until(lock, next_forgetting);
      }
    }
    hub->fail_all(lock);
  }

  const SqliteStoreOptions options;
  std::mutex db_mutex;  // guards everything down to commit_times
  Database database;
  Statements statements;
  std::int64_t revision = 0;
  std::int64_t compacted_revision = 0;
  std::deque<CommitTime> commit_times;

  std::shared_ptr<WatchHub> hub = std::make_shared<WatchHub>();
  std::thread notifier;
};

SqliteStore::SqliteStore(const std::filesystem::path& data_dir, SqliteStoreOptions options)
    : impl_(std::make_unique<Impl>(data_dir, options)) {
  impl_->start_notifier();
}

SqliteStore::~SqliteStore() { impl_->stop_notifier(); }

RangeResult SqliteStore::get(const std::string& key) { return impl_->read(key, ""); }

RangeResult SqliteStore::get_prefix(const std::string& prefix) {
  return impl_->read(prefix, prefix_range_end(prefix));
}

TxnResult SqliteStore::txn(const TxnRequest& request) {
  reject_conflicting_operations(request.success);
  reject_conflicting_operations(request.failure);
  const auto applied = impl_->apply(request);
  if (applied.changed) impl_->hub->publish(applied.revision);
  return TxnResult{applied.succeeded, applied.revision};
}

std::unique_ptr<WatchHandle> SqliteStore::watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                                       WatchCallback on_events, WatchErrorCallback on_error) {
  if (!on_events || !on_error) throw std::invalid_argument("watch_prefix needs both callbacks");
  auto watch = std::make_shared<WatchState>();
  watch->prefix = prefix;
  const auto range_end = prefix_range_end(prefix);
  if (!reaches_end_of_keyspace(range_end)) watch->range_end = range_end;
  watch->on_events = std::move(on_events);
  watch->on_error = std::move(on_error);
  watch->next_revision = start_revision > 0 ? start_revision : impl_->current_revision() + 1;
  impl_->hub->add(watch);
  return std::make_unique<SqliteWatchHandle>(impl_->hub, std::move(watch));
}

void SqliteStore::compact(std::int64_t revision) { impl_->compact(revision); }

std::string SqliteStore::describe() const {
  return "embedded (sqlite: " + impl_->database.file().string() + ")";
}

}  // namespace eg::store
