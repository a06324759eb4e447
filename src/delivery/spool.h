#pragma once
// The durable record of asynchronous deliveries not yet finished: what makes a 202 mean "every
// subscriber will get this event, even if the gateway is killed" (docs/delivery.md).
//
// The interface is what a delivery scheduler needs from any durable queue (append, claim,
// acknowledge, retry-at, dead-letter), so that a shared, replicated queue (NATS JetStream) can take
// the place of the local spool later without touching the dispatcher. The local spool
// (open_local_spools) is an append-only log of segment files, one directory per Events API thread.
//
// A Spool is single-threaded: use it only from the thread of the io_context it was opened for.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eg::delivery {

class DeadLetters;
struct DeadLetter;

// One delivery in a spool: the event's record and the subscriber's place among its deliveries.
struct DeliveryKey {
  std::uint64_t event = 0;
  std::uint32_t index = 0;
  auto operator<=>(const DeliveryKey&) const = default;
};

// What changes with each attempt of a delivery. Times are milliseconds since the Unix epoch, so
// that they keep their meaning across a restart.
struct AttemptState {
  std::uint32_t attempts = 0;         // attempts made so far
  std::int64_t first_attempt_ms = 0;  // 0 before the first attempt
  std::int64_t due_ms = 0;            // not attempted before this time; 0: as soon as possible
};

struct NewDelivery {
  std::string target;  // opaque to the spool: whom the delivery is for, as the dispatcher encodes it
  AttemptState state;
};

// A delivery found in the spool when it was opened: accepted before a restart, not yet finished.
struct PendingDelivery {
  DeliveryKey key;
  std::string target;
  AttemptState state;
};

struct SpoolUsage {
  std::uint64_t bytes = 0;      // on disk now
  std::uint64_t max_bytes = 0;  // the limit appends are refused beyond
  std::uint64_t pending = 0;    // deliveries appended and not yet acknowledged
};

class Spool {
 public:
  virtual ~Spool() = default;

  // Records an event (`payload`: the JSON its subscribers receive) with its deliveries, all or
  // nothing, and returns the event's key (the DeliveryKey::event of each of them, whose index is its
  // place in `deliveries`). Nothing, recording none, when the spool's size limit leaves no room.
  virtual std::optional<std::uint64_t> append(std::string_view payload,
                                              std::span<const NewDelivery> deliveries) = 0;
  // Completes once everything appended before the call is as durable as the spool promises:
  // written to the operating system (survives kill -9), or with fsync (survives power loss),
  // batched with the appends of every caller waiting meanwhile (group commit). Throws
  // std::runtime_error when the fsync failed (the events may not be on disk: do not answer 202).
  // The spool must outlive every durable() in progress.
  virtual boost::asio::awaitable<void> durable() = 0;
  // The payload of a pending delivery's event, for an attempt. Throws std::out_of_range for a
  // delivery that is not pending, std::runtime_error when the payload cannot be read.
  virtual std::string claim(DeliveryKey key) = 0;
  // The delivery is finished (delivered, or given up): it leaves the spool. An acknowledgement may
  // be lost in a crash, and the delivery then made again: delivery is at least once. Does nothing
  // for a delivery that is not pending.
  virtual void acknowledge(DeliveryKey key) = 0;
  // The delivery failed and will be attempted again, with `state` (recovered with it after a
  // restart, unless the record is lost in a crash). Does nothing for a delivery that is not pending.
  virtual void retry_at(DeliveryKey key, const AttemptState& state) = 0;
  // The delivery failed for good: `letter` is kept in the dead letters, then the delivery leaves
  // the spool. Idempotent by letter id, so that a crash in between repeats it harmlessly. When
  // keeping the letter throws, the exception propagates and the delivery stays pending.
  virtual void dead_letter(DeliveryKey key, const DeadLetter& letter) = 0;
  // Calls `found` for every delivery pending when the spool was opened (and still pending), in the
  // order accepted. `found` may acknowledge or retry deliveries.
  virtual void recover(const std::function<void(PendingDelivery&&)>& found) = 0;
  virtual SpoolUsage usage() const = 0;
};

struct SpoolOptions {
  std::uint64_t max_bytes = 1ULL << 30;  // of all the threads' spools together
  bool fsync = false;                    // the power-loss-safe mode: durable() waits for fsync
  // The local spool's segment files rotate at this size (a larger record gets a segment of its own).
  std::uint64_t segment_bytes = 8ULL << 20;
};

// The local spools under `directory`, one per Events API thread, each for `ios[i]`. Directories
// left by a run with more threads are taken over by the spools of this run, so nothing pending is
// left behind. Creates `directory` (mode 0700) when missing. Throws std::runtime_error saying why
// when the directory cannot be used.
std::vector<std::unique_ptr<Spool>> open_local_spools(const std::filesystem::path& directory,
                                                      std::span<boost::asio::io_context* const> ios,
                                                      const SpoolOptions& options, DeadLetters& dead_letters);

}  // namespace eg::delivery
