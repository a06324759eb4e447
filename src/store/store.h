#pragma once
// The configuration store, shaped after etcd v3: every write creates a new store revision; each key
// carries the revisions that created and last modified it; reads are point or prefix ranges;
// writes are compare-and-swap transactions; a watch streams every change after a revision.
// The embedded SQLite store and the etcd store both implement this interface, and the same
// tests (tests/unit/store_test.cpp) run against both.
//
// All methods are thread-safe and blocking. Failures to reach the backing database throw
// StoreUnavailable; a watch asked to start before the compacted revision reports RevisionCompacted;
// a watch whose store lost the history it was following reports StoreRewound.

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace eg::store {

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;  // number of writes since creation; 0 means "absent"
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  std::int64_t revision = 0;  // store revision the read observed
};

// One guard of a transaction. With an empty range_end it tests one key; otherwise every key in
// [key, range_end), and an empty range is compared as one absent key (etcd's rule).
struct Compare {
  enum class Target { Version, CreateRevision, ModRevision, Value };
  enum class Result { Equal, NotEqual, Less, Greater };

  std::string key;
  std::string range_end;
  Target target = Target::Version;
  Result result = Result::Equal;
  std::int64_t number = 0;  // for Version / CreateRevision / ModRevision
  std::string value;        // for Value

  static Compare key_absent(std::string key);
  static Compare mod_revision_equals(std::string key, std::int64_t revision);
  // `key` was not created or modified after `revision` (an absent key never was).
  static Compare key_unchanged_since(std::string key, std::int64_t revision);
  // No key under `prefix` was created or modified after `revision`.
  static Compare prefix_unchanged_since(const std::string& prefix, std::int64_t revision);
};

struct Operation {
  enum class Kind { Put, Delete };
  Kind kind = Kind::Put;
  std::string key;
  std::string value;

  static Operation put(std::string key, std::string value);
  static Operation remove(std::string key);
};

struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<Operation> success;  // applied when every compare holds
  std::vector<Operation> failure;  // applied otherwise
};

struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;  // store revision after the transaction
};

struct WatchEvent {
  enum class Type { Put, Delete };
  Type type = Type::Put;
  KeyValue kv;  // for Delete: key and mod_revision (the deleting revision) only
};

// Called with the events of one or more whole revisions, in revision order. Never concurrently
// with itself for the same watch.
using WatchCallback = std::function<void(const std::vector<WatchEvent>&)>;
// Called once when the watch cannot continue (store closed, revision compacted, connection lost
// for good). The watch delivers nothing after it.
using WatchErrorCallback = std::function<void(std::exception_ptr)>;

// Cancels the watch when destroyed; after the destructor returns no callback runs.
class WatchHandle {
 public:
  virtual ~WatchHandle() = default;
};

class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class RevisionCompacted : public std::runtime_error {
 public:
  RevisionCompacted(std::int64_t requested, std::int64_t compacted);
  std::int64_t compacted_revision() const { return compacted_; }

 private:
  std::int64_t compacted_;
};

// The store's history went back under a live watch: its revision is now below one the store already
// answered with, or it is another cluster (etcd restored from an older backup, its data wiped, another
// etcd at the same address). What the watch delivered may no longer exist, and revisions may be
// reused for other changes: read everything again. The embedded store, which owns its file, never
// reports it.
class StoreRewound : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual RangeResult get(const std::string& key) = 0;
  virtual RangeResult get_prefix(const std::string& prefix) = 0;
  virtual TxnResult txn(const TxnRequest& request) = 0;
  // Streams every change under `prefix` with revision >= start_revision. Ends with RevisionCompacted
  // when that history is gone, with StoreRewound when the store went back in history.
  virtual std::unique_ptr<WatchHandle> watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                                    WatchCallback on_events, WatchErrorCallback on_error) = 0;
  // Forgets history before `revision`; watches from older revisions then fail with RevisionCompacted.
  virtual void compact(std::int64_t revision) = 0;
  // A short, human-readable name of the backend for logs and /v1/status.
  virtual std::string describe() const = 0;
};

// etcd refuses a transaction branch that puts a key twice, or puts and deletes it (the outcome would
// depend on the order of operations within one revision). Every backend checks with this, so all
// answer alike: std::invalid_argument naming the key.
void reject_conflicting_operations(const std::vector<Operation>& operations);

// The end of the key range holding every key that starts with `prefix` (etcd's prefix rule).
std::string prefix_range_end(const std::string& prefix);

}  // namespace eg::store
