#pragma once
// The event catalog (docs/console.md): per space, per custom event name, how often it was seen, when
// last, and a sample of its JSON as subscribers receive it, so that a teammate can find an event and
// reuse it.
//
// Every Events API thread records into a shard of its own (one uncontended mutex per event); the
// Configuration API merges the shards when it reads. Bounded: at most `names_per_space` names per
// space and `spaces` spaces per shard; an event beyond them is only counted (`overflow` of its space,
// or `unlisted_spaces`), so a flood of made-up names never grows memory. A sample is copied at most
// once per `sample_refresh_ms` per name, so most events cost no copy of their payload.
//
// Threading: record() on any thread, read() on any thread; a catalog must outlive the threads that
// record into it.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace eg::observe {

struct CatalogLimits {
  std::size_t names_per_space = 256;
  std::size_t spaces = 1024;
  std::size_t sample_bytes = 4096;
  std::int64_t sample_refresh_ms = 1000;
};

struct CatalogEntry {
  std::string name;
  std::uint64_t count = 0;
  std::int64_t last_seen_ms = 0;
  std::string sample;  // the event's JSON, cut at CatalogLimits::sample_bytes (at a UTF-8 boundary)
  bool sample_truncated = false;
  std::int64_t sampled_at_ms = 0;
};

struct SpaceCatalog {
  std::vector<CatalogEntry> events;   // by name
  std::uint64_t overflow = 0;         // events of this space whose names found no room
  std::uint64_t unlisted_spaces = 0;  // events of any space that found no room, all spaces together
};

class EventCatalog {
 public:
  explicit EventCatalog(CatalogLimits limits = {});
  ~EventCatalog();
  EventCatalog(const EventCatalog&) = delete;
  EventCatalog& operator=(const EventCatalog&) = delete;

  // Counts an event of `name` in `space` seen at `now_ms`. `sample` is called (on this thread, under
  // the shard's lock) only when the name's sample is due for a refresh.
  void record(std::string_view space, std::string_view name, std::int64_t now_ms,
              const std::function<std::string()>& sample);
  // Every shard merged: counts summed, the latest time and the newest sample of each name.
  SpaceCatalog read(std::string_view space) const;

  const CatalogLimits& limits() const { return limits_; }

  struct Shard;

 private:
  Shard& this_thread_shard();

  const CatalogLimits limits_;
  const std::uint64_t id_;  // tells a thread's cached shard of this catalog from another's
  mutable std::mutex shards_mutex_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

// The process's catalog, which the Events API records into and the Configuration API reads.
EventCatalog& event_catalog();

// `text` cut to at most `bytes`, never inside a UTF-8 sequence.
std::string_view cut_at_utf8_boundary(std::string_view text, std::size_t bytes);

}  // namespace eg::observe
