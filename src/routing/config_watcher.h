#pragma once
// Keeps the routing snapshot in step with the store, the etcd way: read everything under the root,
// note the revision, watch from the next one, apply events in order, publish a new snapshot after
// each batch. When the watch fails (history compacted, store unreachable, or the store went back in
// history: store::StoreRewound) it starts over from a fresh read, retrying with backoff, while routing
// continues on the last snapshot.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "routing/snapshot.h"
#include "store/store.h"

namespace eg::routing {

class ConfigWatcher {
 public:
  ConfigWatcher(store::Store& store, SnapshotHolder& snapshots);
  ~ConfigWatcher();

  // Loads the configuration and publishes the first snapshot before returning (so the gateway
  // routes from its first request), then follows the watch. Throws StoreUnavailable when the
  // first load fails.
  void start();

 private:
  void load_and_watch();
  void on_events(const std::vector<store::WatchEvent>& events);
  void on_watch_error(std::exception_ptr error);
  void recover_loop();

  store::Store& store_;
  SnapshotHolder& snapshots_;
  std::mutex mutex_;  // guards state_, watch_, broken_, stopping_
  ConfigState state_;
  std::unique_ptr<store::WatchHandle> watch_;
  bool broken_ = false;
  bool stopping_ = false;
  std::condition_variable wake_recovery_;
  std::thread recovery_;
};

}  // namespace eg::routing
