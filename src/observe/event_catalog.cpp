#include "observe/event_catalog.h"

#include <algorithm>
#include <map>
#include <unordered_map>

namespace eg::observe {
namespace {

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};
template <class Value>
using ByName = std::unordered_map<std::string, Value, NameHash, std::equal_to<>>;

std::atomic<std::uint64_t> next_catalog_id{1};

}  // namespace

struct EventCatalog::Shard {
  struct Space {
    ByName<CatalogEntry> names;
    std::uint64_t overflow = 0;
  };
  mutable std::mutex mutex;  // the owner records under it, a read merges under it
  ByName<Space> spaces;
  std::uint64_t unlisted_spaces = 0;
};

std::string_view cut_at_utf8_boundary(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  std::size_t end = bytes;
  // Back off the continuation bytes (10xxxxxx) of a sequence the cut would split.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

EventCatalog::EventCatalog(CatalogLimits limits) : limits_(limits), id_(next_catalog_id++) {}
EventCatalog::~EventCatalog() = default;

EventCatalog::Shard& EventCatalog::this_thread_shard() {
  // Shards of every catalog this thread recorded into, by catalog id (ids are never reused, so a
  // destroyed catalog's entry is never matched again). Almost always one, the process's.
  thread_local std::vector<std::pair<std::uint64_t, Shard*>> mine;
  for (const auto& [id, shard] : mine) {
    if (id == id_) return *shard;
  }
  const std::lock_guard lock(shards_mutex_);
  auto* shard = shards_.emplace_back(std::make_unique<Shard>()).get();
  mine.emplace_back(id_, shard);
  return *shard;
}

void EventCatalog::record(std::string_view space, std::string_view name, std::int64_t now_ms,
                          const std::function<std::string()>& sample) {
  auto& shard = this_thread_shard();
  const std::lock_guard lock(shard.mutex);
  auto found_space = shard.spaces.find(space);
  if (found_space == shard.spaces.end()) {
    if (shard.spaces.size() >= limits_.spaces) {
      ++shard.unlisted_spaces;
      return;
    }
    found_space = shard.spaces.emplace(std::string(space), Shard::Space{}).first;
  }
  auto& names = found_space->second;
  auto found = names.names.find(name);
  if (found == names.names.end()) {
    if (names.names.size() >= limits_.names_per_space) {
      ++names.overflow;
      return;
    }
    found = names.names.emplace(std::string(name), CatalogEntry{.name = std::string(name)}).first;
  }
  auto& entry = found->second;
  ++entry.count;
  entry.last_seen_ms = std::max(entry.last_seen_ms, now_ms);
  if (entry.sampled_at_ms == 0 || now_ms - entry.sampled_at_ms >= limits_.sample_refresh_ms) {
    const auto text = sample();
    const auto kept = cut_at_utf8_boundary(text, limits_.sample_bytes);
    entry.sample.assign(kept);
    entry.sample_truncated = kept.size() < text.size();
    entry.sampled_at_ms = now_ms;
  }
}

SpaceCatalog EventCatalog::read(std::string_view space) const {
  std::map<std::string, CatalogEntry, std::less<>> merged;
  SpaceCatalog catalog;
  const std::lock_guard shards_lock(shards_mutex_);
  for (const auto& shard : shards_) {
    const std::lock_guard lock(shard->mutex);
    catalog.unlisted_spaces += shard->unlisted_spaces;
    const auto found = shard->spaces.find(space);
    if (found == shard->spaces.end()) continue;
    catalog.overflow += found->second.overflow;
    for (const auto& [name, entry] : found->second.names) {
      auto [place, fresh] = merged.try_emplace(name, entry);
      if (fresh) continue;
      auto& into = place->second;
      into.count += entry.count;
      into.last_seen_ms = std::max(into.last_seen_ms, entry.last_seen_ms);
      if (entry.sampled_at_ms > into.sampled_at_ms) {
        into.sample = entry.sample;
        into.sample_truncated = entry.sample_truncated;
        into.sampled_at_ms = entry.sampled_at_ms;
      }
    }
  }
  // Each shard keeps at most names_per_space names, their union may hold more: the rest is overflow.
  for (auto& [name, entry] : merged) {
    if (catalog.events.size() < limits_.names_per_space) {
      catalog.events.push_back(std::move(entry));
    } else {
      catalog.overflow += entry.count;
    }
  }
  return catalog;
}

EventCatalog& event_catalog() {
  // Never destroyed: an Events API thread may still record while the process exits.
  static auto* const catalog = new EventCatalog;
  return *catalog;
}

}  // namespace eg::observe
