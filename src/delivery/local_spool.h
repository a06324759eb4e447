#pragma once
// The local spool (open_local_spools in spool.h): an append-only log of segment files per Events API
// thread, under `<directory>/<thread index>/<16-digit sequence>.seg` (directories 0700, files 0600:
// events may hold personal data).
//
// Records. Every record is a 12-byte header, then its body:
//   header: magic "EGSP" (u32), body length (u32), CRC-32 of the body (u32), all little-endian;
//   body:   a type byte, then
//     BEGIN  the first record of each segment: format version (u8), the next event key (u64), so
//            that keys are never reused even when every earlier segment has been deleted;
//     EVENT  event key (u64), number of deliveries (u32), per delivery its index (u32), AttemptState
//            (attempts u32, first_attempt_ms i64, due_ms i64) and target (u32 length, bytes), then
//            the payload (u32 length, bytes) last, so that claim() reads it with one pread;
//     ACK    event key (u64), delivery index (u32): the delivery is finished;
//     RETRY  event key (u64), delivery index (u32), AttemptState: the delivery's new state.
// A later EVENT record of the same key (a copy made by compaction or at open) replaces what was
// known of the event: it lists the deliveries still pending, with their states, when it was copied.
//
// Memory. Payloads and targets stay on disk. In RAM: per live event its record's place (segment,
// offset, length) and pending count, per pending delivery its AttemptState, in open-addressing hash
// maps, and per live segment the keys of the EVENT records written to it: 110 to 170 bytes per
// pending delivery of one-delivery events, the maps' slack included (bench/spool_bench, BM_Reopen).
//
// Writing. append() writes the EVENT record with write(2) before it returns, together with any ACK
// and RETRY records buffered since the last write (one system call). ACK and RETRY records are
// buffered, and written with the next append, by durable(), when 64 KiB are buffered, or within
// 50 ms at the latest. The CRC-32 is zlib's, computed by ISA-L. Segments rotate at
// SpoolOptions::segment_bytes. With SpoolOptions::fsync, durable() waits for an fdatasync of every
// segment written to, and an fsync of the directory when segments were created or deleted, that
// started after the caller's append; the fsyncs run on a helper thread, one at a time, each covering
// every durable() that waited meanwhile (group commit), and each starting once the handlers ready to
// run have run, so that a burst of requests shares one.
//
// Reclaiming. The oldest segment is deleted as soon as no live event has its current record in it;
// segments are deleted oldest first only. A segment's live events are copied forward (compaction)
// when it is the oldest, at least one sealed segment follows it, and at most half of the spool's
// bytes are live: so a delivery retrying for a day pins no more than a few segments, while a
// backlog draining in order is never copied. Compaction copies about 1 MiB per turn of the event
// loop. A segment some of whose events were copied, and every segment found at open (a previous
// run may have been killed before its copies were fsync'ed), is deleted only after an fdatasync
// (on the helper thread, in both modes) that covers the copies. Compaction may take the spool past
// its size limit by the live bytes of one segment.
//
// Crash consistency: a crash at any point loses no pending delivery and resurrects no
// acknowledged one whose ACK record reached the OS.
//   - Log order is (segment sequence, offset), and replay applies records in that order. Every
//     record about a delivery comes after an EVENT record that lists it: ACK and RETRY records are
//     written only for pending deliveries, and a copy lists exactly the deliveries pending when it
//     is written, with their current states, so replaying the old records and then the copy yields
//     the copy's state, and records after the copy apply to it.
//   - A segment is deleted only when every event whose record it holds is finished or has a
//     durable copy in a later segment, and only when it is the oldest. So a deleted segment never
//     held the only record of a pending delivery, and an ACK (in the same or a later segment) is
//     never deleted while an EVENT record it cancels (in an earlier segment) is still on disk.
//   - A crash while writing leaves a torn record at the end of the segment being written; replay
//     stops reading that segment there with a warning and keeps everything before it, and the
//     next run appends to a fresh segment, never after the tear. A record cut short by a crash
//     was never reported appended (append() returns after write(2) completed).
//   - Buffered ACK and RETRY records lost in a crash only mean a delivery is made again, or made
//     with an older AttemptState: at least once. An ACK whose EVENT's segment was deleted before
//     the ACK was written cannot resurrect anything either: its EVENT is gone.
//   - Taking over a directory of a run with more threads: its live events are copied, with new keys,
//     into the receiving spool, fdatasync'ed, then the directory is renamed to `<index>.removing`
//     (the parent fsync'ed) and removed; open removes any `*.removing` left by a crash. A crash
//     before the rename takes the directory over again at the next open: its deliveries are then
//     made twice, never lost.
//   - In the default mode the OS holds what append() wrote: it survives kill -9, an OOM kill or a
//     crash of the gateway, not a crash of the machine. With fsync, durable() returns only after
//     the records and the directory entries are on disk, so a 202 survives power loss as well.
//
// Threading: a LocalSpool is used only from the thread of its io_context (spool.h), except for its
// helper thread, which only fsyncs files it is handed. It must be destroyed before its io_context,
// and after every durable() it started has completed. Destroying it writes what is buffered (and
// with fsync, fsyncs it).

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/rate_limited_log.h"
#include "delivery/spool.h"

namespace eg::delivery {

namespace spool_format {
inline constexpr std::uint32_t kMagic = 0x50534745;  // "EGSP" as little-endian bytes
inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::uint8_t kVersion = 1;
enum class RecordType : std::uint8_t { Begin = 1, Event = 2, Ack = 3, Retry = 4 };

// "0000000000000042.seg"
std::string segment_file_name(std::uint64_t sequence);
}  // namespace spool_format

namespace spool_detail {

// An open file descriptor, closed when the last holder lets go: a segment being fsync'ed by the
// helper thread stays open even if the spool deletes it meanwhile.
class File {
 public:
  explicit File(int fd) : fd_(fd) {}
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Segment {
  std::uint64_t sequence = 0;
  std::filesystem::path path;
  std::shared_ptr<File> file;
  std::uint64_t size = 0;             // bytes in the file, and buffered for it
  std::uint64_t live_events = 0;      // events whose current EVENT record is here
  std::uint64_t live_bytes = 0;       // the size of those records
  std::vector<std::uint64_t> events;  // keys of the EVENT records here (some since finished or moved)
  // Deleted only after a sync that covers the log before this position (where the copies of its
  // events end, when some were copied forward); 0: at once.
  std::uint64_t delete_after_sync = 0;
  bool dirty = false;  // written since the last fdatasync started
};

struct LiveEvent {
  std::uint64_t segment = 0;       // sequence of the segment holding its current EVENT record
  std::uint64_t offset = 0;        // of that record in the segment
  std::uint32_t size = 0;          // of the record, header included
  std::uint32_t payload_size = 0;  // the payload is the last bytes of the record
  std::uint32_t pending = 0;       // deliveries not acknowledged
  std::uint32_t index_end = 0;     // one past its highest delivery index
};

struct DeliveryKeyHash {
  std::size_t operator()(const DeliveryKey& key) const {
    return static_cast<std::size_t>(key.event * 0x9E3779B97F4A7C15ULL ^ key.index);
  }
};

// What the segments of one directory say is live: built by replaying them, then kept up to date.
struct Index {
  std::deque<Segment> segments;  // oldest first; the last one is written to
  boost::unordered_flat_map<std::uint64_t, LiveEvent> events;
  boost::unordered_flat_map<DeliveryKey, AttemptState, DeliveryKeyHash> deliveries;
  std::uint64_t next_key = 1;
  std::uint64_t bytes = 0;       // sum of the segments' sizes
  std::uint64_t live_bytes = 0;  // sum of the segments' live bytes

  Segment* segment(std::uint64_t sequence);
  // Replaces whatever was known of event `key` by the record at `offset` of `segment`.
  struct NewSlot {
    std::uint32_t index;
    AttemptState state;
  };
  void put_event(std::uint64_t key, Segment& segment, std::uint64_t offset, std::uint32_t size,
                 std::uint32_t payload_size, std::span<const NewSlot> slots);
  // The event's current record is now the one at `offset` of `segment` (its deliveries unchanged).
  void move_event(std::uint64_t key, Segment& segment, std::uint64_t offset, std::uint32_t size,
                  std::uint32_t payload_size);
  void drop_event(std::uint64_t key);
  // False when the delivery is not pending. `event_finished`: its event has no pending delivery left.
  bool acknowledge(DeliveryKey key, bool& event_finished);
  bool retry_at(DeliveryKey key, const AttemptState& state);
};

// Opens `directory` (creating it, mode 0700, when missing) and locks it (flock) for this process.
// Throws std::runtime_error saying why when it cannot, or when another process holds it.
std::shared_ptr<File> open_locked_directory(const std::filesystem::path& directory);
// The segments under `directory`, replayed in order. A torn or corrupt record ends the reading of its
// segment with a warning. Throws std::runtime_error when a segment cannot be opened or read.
Index replay_directory(const std::filesystem::path& directory);

class SyncThread;

}  // namespace spool_detail

class LocalSpool final : public Spool {
 public:
  // Replays the segments under `directory` (created when missing) and starts a fresh segment.
  // Throws std::runtime_error when the directory cannot be used.
  LocalSpool(std::filesystem::path directory, boost::asio::io_context& io, const SpoolOptions& options,
             std::uint64_t max_bytes, DeadLetters& dead_letters);
  ~LocalSpool() override;
  LocalSpool(const LocalSpool&) = delete;
  LocalSpool& operator=(const LocalSpool&) = delete;

  std::optional<std::uint64_t> append(std::string_view payload,
                                      std::span<const NewDelivery> deliveries) override;
  boost::asio::awaitable<void> durable() override;
  std::string claim(DeliveryKey key) override;
  void acknowledge(DeliveryKey key) override;
  void retry_at(DeliveryKey key, const AttemptState& state) override;
  void dead_letter(DeliveryKey key, const DeadLetter& letter) override;
  void recover(const std::function<void(PendingDelivery&&)>& found) override;
  SpoolUsage usage() const override;

  // At open: copies the live events of `other` (the replayed directory of a thread this run does not
  // have) into this spool, under new keys, and makes them durable. Throws std::runtime_error when
  // they cannot be written.
  void take_over(spool_detail::Index&& other, const std::filesystem::path& from);

 private:
  bool start_segment();
  bool needs_new_segment(std::size_t record_bytes) const;
  bool room_for(std::size_t record_bytes);
  bool write_buffered();
  void buffer_scratch();
  void reclaim();
  enum class Compaction { Done, Partial, Failed };
  // Copies the live events of the oldest segment forward, at most about 1 MiB per call.
  Compaction compact_oldest();
  void delete_oldest();
  void request_sync(std::uint64_t position);
  void start_sync_if_needed();
  void sync_finished(std::uint64_t position, const std::string& error,
                     std::vector<std::shared_ptr<spool_detail::File>> files);
  void sync_now();

  const std::filesystem::path directory_;
  boost::asio::io_context& io_;
  const SpoolOptions options_;
  const std::uint64_t max_bytes_;
  DeadLetters& dead_letters_;
  std::shared_ptr<spool_detail::File> directory_file_;  // locked (flock) while the spool is open
  spool_detail::Index index_;
  std::uint64_t recovered_before_ = 0;  // keys below were accepted before this spool was opened

  std::string out_;      // records of the last segment not yet written to it
  std::string scratch_;  // the record being encoded
  std::vector<spool_detail::Index::NewSlot> slots_;
  bool broken_ = false;             // a write to the last segment failed: start another before writing again
  bool compaction_failed_ = false;  // until the next segment starts
  bool reclaim_due_ = false;        // a segment was sealed
  common::RateLimitedWarning write_errors_;
  boost::asio::steady_timer flush_timer_;
  bool flush_timer_armed_ = false;

  // Log positions: bytes written to the OS since the spool was opened.
  std::uint64_t written_ = 0;
  std::uint64_t synced_ = 0;          // every byte before this was fdatasync'ed
  std::uint64_t sync_wanted_ = 0;     // a sync should cover the bytes before this
  std::uint64_t failed_through_ = 0;  // an fdatasync failed that would have covered these
  std::string sync_error_;
  bool directory_dirty_ = false;  // segments created or deleted since the last directory fsync
  bool sync_in_flight_ = false;
  bool sync_scheduled_ = false;  // posted to start once the ready handlers have run
  std::size_t durable_waiters_ = 0;
  boost::asio::steady_timer sync_done_;  // never expires: cancelled when a sync finishes
  std::unique_ptr<spool_detail::SyncThread> sync_thread_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // what the helper thread's completions check
};

}  // namespace eg::delivery
