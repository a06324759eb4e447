#include "store/store.h"

#include <set>

namespace eg::store {

Compare Compare::key_absent(std::string key) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::Version;
  compare.result = Result::Equal;
  compare.number = 0;
  return compare;
}

Compare Compare::mod_revision_equals(std::string key, std::int64_t revision) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::ModRevision;
  compare.result = Result::Equal;
  compare.number = revision;
  return compare;
}

Compare Compare::key_unchanged_since(std::string key, std::int64_t revision) {
  Compare compare;
  compare.key = std::move(key);
  compare.target = Target::ModRevision;
  compare.result = Result::Less;
  compare.number = revision + 1;
  return compare;
}

Compare Compare::prefix_unchanged_since(const std::string& prefix, std::int64_t revision) {
  Compare compare = key_unchanged_since(prefix, revision);
  compare.range_end = prefix_range_end(prefix);
  return compare;
}

Operation Operation::put(std::string key, std::string value) {
  return Operation{Kind::Put, std::move(key), std::move(value)};
}

Operation Operation::remove(std::string key) { return Operation{Kind::Delete, std::move(key), {}}; }

RevisionCompacted::RevisionCompacted(std::int64_t requested, std::int64_t compacted)
    : std::runtime_error("revision " + std::to_string(requested) + " has been compacted (oldest kept: " +
                         std::to_string(compacted) + ")"),
      compacted_(compacted) {}

void reject_conflicting_operations(const std::vector<Operation>& operations) {
  std::set<std::string> put, deleted;
  for (const auto& operation : operations) {
    const bool is_put = operation.kind == Operation::Kind::Put;
    if (put.contains(operation.key) || (is_put && deleted.contains(operation.key))) {
      throw std::invalid_argument("transaction writes key '" + operation.key + "' more than once");
    }
    (is_put ? put : deleted).insert(operation.key);
  }
}

std::string prefix_range_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  // Every byte was 0xff: etcd's convention for "to the end of the keyspace".
  return std::string(1, '\0');
}

}  // namespace eg::store
