#pragma once
// What the store suites (tests/unit/store_test.cpp, tests/unit/etcd/etcd_store_test.cpp) share.

#include <cstdint>
#include <exception>
#include <optional>

#include "store/store.h"

namespace eg::store::testing {

// The compacted revision a watch error reports, or nothing when it is not RevisionCompacted.
inline std::optional<std::int64_t> compacted_revision_of(const std::exception_ptr& error) {
  if (!error) return std::nullopt;
  try {
    std::rethrow_exception(error);
  } catch (const RevisionCompacted& compacted) {
    return compacted.compacted_revision();
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace eg::store::testing
