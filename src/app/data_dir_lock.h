#pragma once
// One gateway per embedded data directory (-embed-data-dir), said at once. A second gateway on the
// same directory used to get as far as SQLite, whose exclusive lock on config.db made it wait out a
// busy timeout and then fail with "database is locked", naming neither the directory, nor the flag,
// nor who holds it. So before anything in the directory is opened, the gateway takes an exclusive
// flock() on a file of its own there, without waiting, and holds it for the life of the process.
//
// flock() rather than a PID file: the kernel drops the lock with the descriptor, so no stale lock
// survives a crash or a SIGKILL. The descriptor is close-on-exec, so that plugins (child processes)
// do not inherit it and keep the directory locked after the gateway is gone. The holder writes its
// process id into the file, for the message a second gateway gives.

#include <filesystem>
#include <stdexcept>

namespace eg::app {

class DataDirectoryLock {
 public:
  // Creates the directory (0700, as the store would) if it is missing, and takes the lock. Throws
  // std::runtime_error naming the directory and -embed-data-dir: when another process holds the lock,
  // that it is in use and by which process; otherwise what could not be done.
  explicit DataDirectoryLock(const std::filesystem::path& directory);
  ~DataDirectoryLock();
  DataDirectoryLock(const DataDirectoryLock&) = delete;
  DataDirectoryLock& operator=(const DataDirectoryLock&) = delete;

  static constexpr const char* kFileName = "event-gateway.lock";

 private:
  int fd_ = -1;
};

}  // namespace eg::app
