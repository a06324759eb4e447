#include "app/descriptor_limit.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>

namespace eg::app {
namespace {

// The most descriptors a process may have open (fs.nr_open); 1048576 unless changed.
rlim_t kernel_descriptor_maximum() {
  std::ifstream nr_open("/proc/sys/fs/nr_open");
  rlim_t maximum = 0;
  if (nr_open >> maximum && maximum > 0) return maximum;
  return 1024 * 1024;
}

}  // namespace

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  const rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? kernel_descriptor_maximum() : limit.rlim_max;
  if (limit.rlim_cur == RLIM_INFINITY) return kernel_descriptor_maximum();
  if (limit.rlim_cur >= wanted) return limit.rlim_cur;
  rlimit raised = limit;
  raised.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return wanted;
  return limit.rlim_cur;
}

std::size_t default_max_connections(std::uint64_t descriptor_limit) {
  return static_cast<std::size_t>(std::max<std::uint64_t>(1, descriptor_limit / 4));
}

}  // namespace eg::app
