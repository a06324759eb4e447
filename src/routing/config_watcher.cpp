#include "routing/config_watcher.h"

#include <spdlog/spdlog.h>

#include "store/keys.h"

namespace eg::routing {
namespace {

constexpr auto kFirstRetryDelay = std::chrono::milliseconds(100);
constexpr auto kMaxRetryDelay = std::chrono::seconds(5);

std::string describe(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return exception.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

ConfigWatcher::ConfigWatcher(store::Store& store, SnapshotHolder& snapshots)
    : store_(store), snapshots_(snapshots) {}

ConfigWatcher::~ConfigWatcher() {
  std::unique_ptr<store::WatchHandle> watch;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    watch = std::move(watch_);
  }
  wake_recovery_.notify_all();
  watch.reset();  // outside the lock: cancelling waits for a running callback, which takes the lock
  if (recovery_.joinable()) recovery_.join();
}

void ConfigWatcher::start() {
  load_and_watch();
  recovery_ = std::thread([this] { recover_loop(); });
}

void ConfigWatcher::load_and_watch() {
  const auto everything = store_.get_prefix(std::string(store::keys::kRoot));
  std::unique_ptr<store::WatchHandle> old_watch;
  {
    std::lock_guard lock(mutex_);
    // From scratch, even when the store's revision went back (etcd restored from an older backup):
    // what the store holds now is the configuration, whatever was routed before.
    if (everything.revision < state_.revision()) {
      spdlog::warn("the configuration store went back from revision {} to {}: routing what it holds now",
                   state_.revision(), everything.revision);
    }
    state_.reset(everything);
    snapshots_.publish(state_.build());
    old_watch = std::move(watch_);
  }
  old_watch.reset();
  auto watch = store_.watch_prefix(
      std::string(store::keys::kRoot), everything.revision + 1,
      [this](const std::vector<store::WatchEvent>& events) { on_events(events); },
      [this](std::exception_ptr error) { on_watch_error(error); });
  std::lock_guard lock(mutex_);
  watch_ = std::move(watch);
  spdlog::debug("routing from configuration revision {}", everything.revision);
}

void ConfigWatcher::on_events(const std::vector<store::WatchEvent>& events) {
  std::lock_guard lock(mutex_);
  state_.apply(events);
  snapshots_.publish(state_.build());
}

void ConfigWatcher::on_watch_error(std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    spdlog::warn("configuration watch failed ({}); routing continues on revision {} and will reload",
                 describe(error), state_.revision());
    broken_ = true;
  }
  wake_recovery_.notify_all();
}

void ConfigWatcher::recover_loop() {
  auto delay = kFirstRetryDelay;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_recovery_.wait(lock, [this] { return stopping_ || broken_; });
    if (stopping_) return;
    broken_ = false;  // an error reported while we reload sets it again
    lock.unlock();
    try {
      load_and_watch();
      spdlog::info("configuration watch restored");
      delay = kFirstRetryDelay;
      lock.lock();
      continue;
    } catch (const std::exception& error) {
      spdlog::warn("configuration reload failed: {}; retrying in {} ms", error.what(), delay.count());
    }
    lock.lock();
    broken_ = true;
    wake_recovery_.wait_for(lock, delay, [this] { return stopping_; });
    delay = std::min<std::chrono::milliseconds>(delay * 2, kMaxRetryDelay);
  }
}

}  // namespace eg::routing
