#pragma once
// A fresh directory under the system's temporary directory, removed with everything in it when the
// object goes.

#include <filesystem>
#include <string>

namespace testsupport {

class TemporaryDirectory {
 public:
  // The directory is named <prefix>XXXXXX.
  explicit TemporaryDirectory(const std::string& prefix = "eg-test-");
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace testsupport
