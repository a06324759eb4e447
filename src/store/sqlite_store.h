#pragma once
// The embedded store of dev mode: the Store interface on one SQLite database file, so a single
// process keeps its configuration across restarts with no other server. It keeps a short history of
// changes so that watches can start from any revision not yet compacted.
//
// The file holds functions' secrets, so it is the owner's only (directory 0700, files 0600), and
// the history, which would keep every replaced secret, is kept no longer than a watch may need it
// (docs/store.md, "The embedded store's history").

#include <chrono>
#include <filesystem>
#include <memory>

#include "store/store.h"

namespace eg::store {

struct SqliteStoreOptions {
  // How long the history of a revision is kept at least (and forgotten within twice that): enough
  // for a watch started from a revision just read, which is all the gateway's own watcher needs.
  std::chrono::milliseconds history_retention = std::chrono::seconds(5);
};

class SqliteStore : public Store {
 public:
  // Opens (creating if needed) the database `<data_dir>/config.db`; creates `data_dir` if missing.
  // Throws StoreUnavailable when the directory or file cannot be used.
  explicit SqliteStore(const std::filesystem::path& data_dir, SqliteStoreOptions options = {});
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  RangeResult get(const std::string& key) override;
  RangeResult get_prefix(const std::string& prefix) override;
  TxnResult txn(const TxnRequest& request) override;
  std::unique_ptr<WatchHandle> watch_prefix(const std::string& prefix, std::int64_t start_revision,
                                            WatchCallback on_events, WatchErrorCallback on_error) override;
  void compact(std::int64_t revision) override;
  std::string describe() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::store
