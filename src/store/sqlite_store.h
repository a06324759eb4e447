#pragma once
// The embedded store of dev mode: the Store interface on one SQLite database file, so a single
// process keeps its configuration across restarts with no other server. It keeps a history of
// changes so that watches can start from any revision not yet compacted.

#include <filesystem>
#include <memory>

#include "store/store.h"

namespace eg::store {

class SqliteStore : public Store {
 public:
  // Opens (creating if needed) the database `<data_dir>/config.db`; creates `data_dir` if missing.
  // Throws StoreUnavailable when the directory or file cannot be used.
  explicit SqliteStore(const std::filesystem::path& data_dir);
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
