#include "app/data_dir_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace eg::app {
namespace {

namespace fs = std::filesystem;

std::string failure(const std::string& what, const fs::path& path, int error) {
  return fmt::format("-embed-data-dir: cannot {} {}: {}", what, path.string(), std::strerror(error));
}

// The process id the holder wrote, or "" when there is none yet (it is between its lock and its write).
std::string holder(int fd) {
  char buffer[32] = {};
  const auto read = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, read > 0 ? static_cast<std::size_t>(read) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text.find_first_not_of("0123456789") == std::string::npos ? text : "";
}

}  // namespace

DataDirectoryLock::DataDirectoryLock(const fs::path& directory) {
  if (directory.has_parent_path()) {
    std::error_code ignored;  // mkdir below says what went wrong
    fs::create_directories(directory.parent_path(), ignored);
  }
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error(failure("create the data directory", directory, errno));
  }
  const auto file = directory / kFileName;
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error(failure("open", file, errno));
  // Like every file of the data directory, its owner's only, also when an older copy was not.
  [[maybe_unused]] const int restricted = ::fchmod(fd_, 0600);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const auto pid = holder(fd_);
    ::close(fd_);
    if (error != EWOULDBLOCK) throw std::runtime_error(failure("lock", file, error));
    throw std::runtime_error(fmt::format(
        "-embed-data-dir {}: the data directory is in use by another event gateway (or another process{} "
        "holds {}); stop it, or give this gateway a directory of its own with -embed-data-dir",
        directory.string(), pid.empty() ? "" : ", pid " + pid, file.string()));
  }
  const auto pid = std::to_string(::getpid()) + "\n";
  // For the message above only: a failure to write it changes nothing.
  [[maybe_unused]] const bool written =
      ::ftruncate(fd_, 0) == 0 &&
      ::pwrite(fd_, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
}

DataDirectoryLock::~DataDirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace eg::app
