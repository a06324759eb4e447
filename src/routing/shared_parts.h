#pragma once
// Building blocks for routing data that one snapshot shares with the next: a configuration change
// copies only the parts it touches, and a snapshot, once copied, never changes (routing/snapshot.h).
//
// Every part records the edit token of the container copy that created it. A container changes in
// place only the parts that carry its own token, and copies any other part before changing it (copy
// on write). Copying a container gives the copy and the original new tokens, so neither changes a
// part they now share: the copy handed to readers stays as it was, and the original keeps changing
// by copying. Within one batch of changes (a reload applying 100k keys), parts created by the batch
// are changed in place, so a batch costs what building from scratch costs.

#include <array>
#include <atomic>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace eg::routing {

// The token of one container copy (see above). Copying gives both sides new tokens; `mutable` and
// atomic because the original of a copy is const and may be read by other threads meanwhile.
class EditToken {
 public:
  EditToken() = default;
  EditToken(const EditToken& other) { other.renew(); }
  EditToken& operator=(const EditToken& other) {
    renew();
    other.renew();
    return *this;
  }
  ~EditToken() = default;

  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  static std::uint64_t fresh() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
  void renew() const { value_.store(fresh(), std::memory_order_relaxed); }

  mutable std::atomic<std::uint64_t> value_{fresh()};
};

// A key and its hash, computed once: a ShardedMap picks the shard and searches it with one hash.
struct HashedKey {
  std::string_view text;
  std::size_t hash;
};

// Hashes string keys, and lets maps keyed by std::string be searched with a string_view or a
// HashedKey.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept { return std::hash<std::string_view>{}(text); }
  std::size_t operator()(const HashedKey& key) const noexcept { return key.hash; }
};

struct StringEqual {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
  bool operator()(const HashedKey& a, std::string_view b) const noexcept { return a.text == b; }
  bool operator()(std::string_view a, const HashedKey& b) const noexcept { return a == b.text; }
};

template <typename Value>
using StringMap = boost::unordered_flat_map<std::string, Value, StringHash, StringEqual>;

// A hash map from strings whose copies share their entries: copying it copies one pointer, and a
// change copies the table of kShards shard pointers and the one shard the key lives in (1/256 of
// the entries), unless the caller's token owns them already. Lookups cost one hash and two extra
// pointer hops (to the table and to the shard, both few and hot in the cache) over a flat map.
template <typename Value>
class ShardedMap {
 public:
  static constexpr std::size_t kShards = 256;

  const Value* find(std::string_view key) const {
    if (!table_) return nullptr;
    const HashedKey hashed{key, StringHash{}(key)};
    const auto& shard = table_->shards[hashed.hash % kShards];
    if (!shard) return nullptr;
    const auto found = shard->entries.find(hashed);
    return found == shard->entries.end() ? nullptr : &found->second;
  }

  std::size_t size() const { return table_ ? table_->size : 0; }
  bool empty() const { return !table_; }  // the table is dropped when emptied

  // Some entry's value, or null when empty.
  const Value* any() const {
    if (!table_) return nullptr;
    for (const auto& shard : table_->shards) {
      if (shard) return &shard->entries.begin()->second;  // shards are dropped when emptied
    }
    return nullptr;
  }

  // The value at `key`, to be changed in place by the caller who holds `edit`; null when absent.
  Value* find_for_change(std::string_view key, std::uint64_t edit) {
    if (find(key) == nullptr) return nullptr;
    auto& entries = shard_for_change(shard_of(key), edit).entries;
    return &entries.find(key)->second;
  }

  void insert_or_assign(std::string_view key, Value value, std::uint64_t edit) {
    auto& entries = shard_for_change(shard_of(key), edit).entries;
    const auto [position, inserted] = entries.try_emplace(std::string(key), std::move(value));
    if (inserted) {
      ++table_->size;
    } else {
      position->second = std::move(value);
    }
  }

  // Returns false when the key was absent.
  bool erase(std::string_view key, std::uint64_t edit) {
    if (find(key) == nullptr) return false;
    const auto index = shard_of(key);
    auto& entries = shard_for_change(index, edit).entries;
    entries.erase(entries.find(key));
    if (entries.empty()) table_->shards[index].reset();
    if (--table_->size == 0) table_.reset();
    return true;
  }

 private:
  struct Shard {
    std::uint64_t edit;
    StringMap<Value> entries;
  };
  struct Table {
    std::uint64_t edit;
    std::size_t size;
    std::array<std::shared_ptr<Shard>, kShards> shards;
  };

  static std::size_t shard_of(std::string_view key) { return StringHash{}(key) % kShards; }

  // The shard at `index`, owned by `edit` (copied, with the table, when it was not), created when
  // missing.
  Shard& shard_for_change(std::size_t index, std::uint64_t edit) {
    if (!table_) {
      table_ = std::make_shared<Table>(Table{edit, 0, {}});
    } else if (table_->edit != edit) {
      table_ = std::make_shared<Table>(Table{edit, table_->size, table_->shards});
    }
    auto& shard = table_->shards[index];
    if (!shard) {
      shard = std::make_shared<Shard>(Shard{edit, {}});
    } else if (shard->edit != edit) {
      shard = std::make_shared<Shard>(Shard{edit, shard->entries});
    }
    return *shard;
  }

  std::shared_ptr<Table> table_;  // null when empty
};

}  // namespace eg::routing
