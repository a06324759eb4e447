#include "delivery/local_spool.h"

#include <fcntl.h>
#include <isa-l/crc.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "delivery/dead_letters.h"

namespace eg::delivery {
namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace spool_format;
using spool_detail::File;
using spool_detail::Index;
using spool_detail::Segment;

namespace {

constexpr std::size_t kBeginRecordBytes = kHeaderBytes + 1 + 1 + 8;
constexpr std::size_t kFlushBytes = 64 * 1024;               // buffered ACK and RETRY records written at once
constexpr auto kFlushDelay = std::chrono::milliseconds(50);  // ... or this long after the first of them
constexpr std::size_t kWindowBytes = 1024 * 1024;            // read at once when replaying or copying
constexpr std::size_t kCopyBytes = 1024 * 1024;              // copies written at once when compacting
constexpr std::size_t kMaxPayloadBytes = 1ULL << 30;
constexpr std::uint64_t kMinSegmentBytes = 4096;                // see open_local_spools

std::string errno_text(int error) { return std::error_code(error, std::generic_category()).message(); }

// --- Encoding ---------------------------------------------------------------------------------

void put_u8(std::string& out, std::uint8_t value) { out.push_back(static_cast<char>(value)); }
void put_u32(std::string& out, std::uint32_t value) {
  char bytes[4];
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  out.append(bytes, 4);
}
void put_u64(std::string& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
  out.append(bytes, 8);
}
void put_state(std::string& out, const AttemptState& state) {
  put_u32(out, state.attempts);
  put_u64(out, static_cast<std::uint64_t>(state.first_attempt_ms));
  put_u64(out, static_cast<std::uint64_t>(state.due_ms));
}

std::uint32_t get_u32(const char* bytes) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= std::uint32_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
  return value;
}

// CRC-32, the one zlib's crc32() computes (the spool's format since its first version), by ISA-L,
// which folds 64 bytes a step with the CPU's carry-less multiply: zlib's table-driven crc32 cost
// about 2 instructions a byte, 6% of all an emitted 1 KiB event costs the gateway
// (docs/architecture.md, the performance notes).
std::uint32_t checksum(std::string_view bytes) {
  return crc32_gzip_refl(0, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

// Appends a record's header (filled in by end_record) and its type byte to `out`.
std::size_t begin_record(std::string& out, RecordType type) {
  const auto start = out.size();
  out.append(kHeaderBytes, '\0');
  put_u8(out, static_cast<std::uint8_t>(type));
  return start;
}
void end_record(std::string& out, std::size_t start) {
  const std::string_view body(out.data() + start + kHeaderBytes, out.size() - start - kHeaderBytes);
  std::string header;
  put_u32(header, kMagic);
  put_u32(header, static_cast<std::uint32_t>(body.size()));
  put_u32(header, checksum(body));
  out.replace(start, kHeaderBytes, header);
}

struct EventDelivery {
  std::uint32_t index = 0;
  AttemptState state;
  std::string_view target;
};

void encode_event(std::string& out, std::uint64_t key, std::span<const EventDelivery> deliveries,
                  std::string_view payload) {
  const auto start = begin_record(out, RecordType::Event);
  put_u64(out, key);
  put_u32(out, static_cast<std::uint32_t>(deliveries.size()));
  for (const auto& delivery : deliveries) {
    put_u32(out, delivery.index);
    put_state(out, delivery.state);
    put_u32(out, static_cast<std::uint32_t>(delivery.target.size()));
    out.append(delivery.target);
  }
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.append(payload);
  end_record(out, start);
}

class Decoder {
 public:
  explicit Decoder(std::string_view bytes) : rest_(bytes) {}
  bool ok() const { return ok_; }
  bool at_end() const { return rest_.empty(); }
  std::size_t left() const { return rest_.size(); }

  std::uint8_t u8() {
    const auto bytes = take(1);
    return ok_ ? static_cast<std::uint8_t>(bytes[0]) : 0;
  }
  std::uint32_t u32() {
    const auto bytes = take(4);
    return ok_ ? get_u32(bytes.data()) : 0;
  }
  std::uint64_t u64() {
    const auto bytes = take(8);
    if (!ok_) return 0;
    return std::uint64_t{get_u32(bytes.data())} | std::uint64_t{get_u32(bytes.data() + 4)} << 32;
  }
  AttemptState state() {
    AttemptState state;
    state.attempts = u32();
    state.first_attempt_ms = static_cast<std::int64_t>(u64());
    state.due_ms = static_cast<std::int64_t>(u64());
    return state;
  }
  std::string_view take(std::size_t n) {
    if (!ok_ || rest_.size() < n) {
      ok_ = false;
      return {};
    }
    const auto bytes = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return bytes;
  }

 private:
  std::string_view rest_;
  bool ok_ = true;
};

struct DecodedEvent {
  std::uint64_t key = 0;
  std::vector<EventDelivery> deliveries;  // views into the record's bytes
  std::string_view payload;
};

// `decoder` is past the type byte of an EVENT record's body.
bool decode_event(Decoder& decoder, DecodedEvent& event) {
  event.key = decoder.u64();
  const auto count = decoder.u32();
  // Each delivery takes at least 24 bytes: a count beyond what is left is corruption, not a reason
  // to reserve gigabytes.
  if (!decoder.ok() || event.key == 0 || count == 0 || count > decoder.left() / 24) return false;
  event.deliveries.clear();
  event.deliveries.reserve(count);
  for (std::uint32_t i = 0; i < count && decoder.ok(); ++i) {
    EventDelivery delivery;
    delivery.index = decoder.u32();
    delivery.state = decoder.state();
    delivery.target = decoder.take(decoder.u32());
    event.deliveries.push_back(delivery);
  }
  const auto payload_size = decoder.u32();
  if (!decoder.ok() || payload_size != decoder.left()) return false;
  event.payload = decoder.take(payload_size);
  return decoder.ok();
}

// --- Reading ----------------------------------------------------------------------------------

// pread until `size` bytes are read or the file ends; the number read, or -1 with errno set.
ssize_t read_at(int fd, char* data, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const auto n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

// Reads a segment through a window of kWindowBytes (or one record, when larger), so that reading it
// in order costs one system call per window, not per record.
class FileWindow {
 public:
  FileWindow(std::shared_ptr<File> file, std::uint64_t file_size)
      : file_(std::move(file)), file_size_(file_size) {}

  // The bytes [offset, offset + size), valid until the next call; nullptr, with `problem` set, when
  // they cannot be read.
  const char* get(std::uint64_t offset, std::size_t size, std::string& problem) {
    if (offset >= start_ && offset + size <= start_ + buffer_.size())
      return buffer_.data() + (offset - start_);
    if (offset + size > file_size_) {
      problem = "the file ends there";
      return nullptr;
    }
    const auto want =
        std::max<std::uint64_t>(size, std::min<std::uint64_t>(kWindowBytes, file_size_ - offset));
    buffer_.resize(want);
    const auto got = read_at(file_->fd(), buffer_.data(), want, offset);
    if (got < 0 || static_cast<std::size_t>(got) < size) {
      problem = got < 0 ? "it cannot be read: " + errno_text(errno) : "the file ends there";
      buffer_.clear();
      return nullptr;
    }
    buffer_.resize(static_cast<std::size_t>(got));
    start_ = offset;
    return buffer_.data();
  }

  // The record at `offset`, when it is an EVENT record of `size` bytes. With Crc::Verify its CRC is checked
  // too (not needed for records that the replay of this run has just checked).
  enum class Crc { Verify, Trust };
  bool event(std::uint64_t offset, std::uint32_t size, Crc crc, DecodedEvent& event, std::string& problem) {
    const char* bytes = get(offset, size, problem);
    if (bytes == nullptr) return false;
    const std::string_view body(bytes + kHeaderBytes, size - kHeaderBytes);
    if (get_u32(bytes) != kMagic || get_u32(bytes + 4) != body.size() ||
        (crc == Crc::Verify && get_u32(bytes + 8) != checksum(body))) {
      problem = "its header or CRC does not match";
      return false;
    }
    Decoder decoder(body);
    if (static_cast<RecordType>(decoder.u8()) != RecordType::Event || !decode_event(decoder, event)) {
      problem = "it is not an EVENT record";
      return false;
    }
    return true;
  }

 private:
  std::shared_ptr<File> file_;
  std::uint64_t file_size_;
  std::string buffer_;
  std::uint64_t start_ = 0;
};

// Applies one checked record body of `segment` to `index`; false when it cannot be decoded.
bool apply_record(Index& index, Segment& segment, std::uint64_t offset, std::string_view body) {
  Decoder decoder(body);
  const auto type = static_cast<RecordType>(decoder.u8());
  switch (type) {
    case RecordType::Begin: {
      const auto version = decoder.u8();
      const auto next_key = decoder.u64();
      if (!decoder.ok() || !decoder.at_end() || version != kVersion) return false;
      index.next_key = std::max(index.next_key, next_key);
      return true;
    }
    case RecordType::Event: {
      thread_local DecodedEvent event;
      thread_local std::vector<Index::NewSlot> slots;
      if (!decode_event(decoder, event)) return false;
      slots.clear();
      for (const auto& delivery : event.deliveries) slots.push_back({delivery.index, delivery.state});
      index.put_event(event.key, segment, offset, static_cast<std::uint32_t>(kHeaderBytes + body.size()),
                      static_cast<std::uint32_t>(event.payload.size()), slots);
      index.next_key = std::max(index.next_key, event.key + 1);
      return true;
    }
    case RecordType::Ack: {
      DeliveryKey key;
      key.event = decoder.u64();
      key.index = decoder.u32();
      if (!decoder.ok() || !decoder.at_end()) return false;
      bool finished = false;
      index.acknowledge(key, finished);
      return true;
    }
    case RecordType::Retry: {
      DeliveryKey key;
      key.event = decoder.u64();
      key.index = decoder.u32();
      const auto state = decoder.state();
      if (!decoder.ok() || !decoder.at_end()) return false;
      index.retry_at(key, state);
      return true;
    }
  }
  return false;
}

void replay_segment(Index& index, Segment& segment) {
  FileWindow window(segment.file, segment.size);
  std::uint64_t offset = 0;
  std::string problem;
  while (offset < segment.size) {
    const auto left = segment.size - offset;
    if (left < kHeaderBytes) {
      problem = fmt::format("a record header cut short ({} of {} bytes)", left, kHeaderBytes);
      break;
    }
    const char* header = window.get(offset, kHeaderBytes, problem);
    if (header == nullptr) break;
    const auto magic = get_u32(header);
    const auto length = get_u32(header + 4);
    const auto crc = get_u32(header + 8);
    if (magic != kMagic) {
      problem = "no record starts there (bad magic)";
      break;
    }
    if (length > left - kHeaderBytes) {
      problem = fmt::format("a record cut short ({} of its {} bytes)", left - kHeaderBytes, length);
      break;
    }
    const char* body = window.get(offset + kHeaderBytes, length, problem);
    if (body == nullptr) break;
    if (checksum({body, length}) != crc) {
      problem = "a record whose CRC does not match its contents";
      break;
    }
    if (!apply_record(index, segment, offset, {body, length})) {
      problem = "a record that cannot be decoded";
      break;
    }
    offset += kHeaderBytes + length;
  }
  if (offset < segment.size) {
    spdlog::warn(
        "spool segment {}: {} at offset {}: skipped the last {} bytes of the segment (torn by a crash, or "
        "corrupt); the records before offset {} are kept",
        segment.path.string(), problem, offset, segment.size - offset, offset);
  }
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_segment_name(const std::string& name) {
  if (name.size() != 16 + 4 || !name.ends_with(".seg")) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + 16, value);
  if (error != std::errc() || end != name.data() + 16) return std::nullopt;
  return value;
}

void fsync_directory(const fs::path& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    spdlog::error("spool: cannot fsync the directory {}: {}", directory.string(), errno_text(errno));
  }
  if (fd >= 0) ::close(fd);
}

}  // namespace

std::string spool_format::segment_file_name(std::uint64_t sequence) {
  return fmt::format("{:016d}.seg", sequence);
}

// --- Index ------------------------------------------------------------------------------------

namespace spool_detail {

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

class SyncThread {
 public:
  SyncThread() : thread_([this] { run(); }) {}
  ~SyncThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  SyncThread(const SyncThread&) = delete;
  SyncThread& operator=(const SyncThread&) = delete;

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

 private:
  // Runs the jobs in order, and those submitted before the destructor, then ends.
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is constructed
};

Segment* Index::segment(std::uint64_t sequence) {
  const auto found =
      std::lower_bound(segments.begin(), segments.end(), sequence,
                       [](const Segment& segment, std::uint64_t s) { return segment.sequence < s; });
  return found != segments.end() && found->sequence == sequence ? &*found : nullptr;
}

void Index::put_event(std::uint64_t key, Segment& segment, std::uint64_t offset, std::uint32_t size,
                      std::uint32_t payload_size, std::span<const NewSlot> slots) {
  if (events.contains(key)) drop_event(key);
  LiveEvent event{.segment = segment.sequence, .offset = offset, .size = size, .payload_size = payload_size};
  for (const auto& slot : slots) {
    if (deliveries.insert_or_assign(DeliveryKey{key, slot.index}, slot.state).second) ++event.pending;
    event.index_end = std::max(event.index_end, slot.index + 1);
  }
  if (event.pending == 0) return;
  events.emplace(key, event);
  segment.events.push_back(key);
  ++segment.live_events;
  segment.live_bytes += size;
  live_bytes += size;
}

void Index::move_event(std::uint64_t key, Segment& to, std::uint64_t offset, std::uint32_t size,
                       std::uint32_t payload_size) {
  auto& event = events.at(key);
  if (Segment* from = segment(event.segment)) {
    --from->live_events;
    from->live_bytes -= event.size;
  }
  live_bytes -= event.size;
  event.segment = to.sequence;
  event.offset = offset;
  event.size = size;
  event.payload_size = payload_size;
  to.events.push_back(key);
  ++to.live_events;
  to.live_bytes += size;
  live_bytes += size;
}

void Index::drop_event(std::uint64_t key) {
  const auto found = events.find(key);
  if (found == events.end()) return;
  const auto& event = found->second;
  for (std::uint32_t i = 0; i < event.index_end; ++i) deliveries.erase(DeliveryKey{key, i});
  if (Segment* in = segment(event.segment)) {
    --in->live_events;
    in->live_bytes -= event.size;
  }
  live_bytes -= event.size;
  events.erase(found);
}

bool Index::acknowledge(DeliveryKey key, bool& event_finished) {
  event_finished = false;
  if (deliveries.erase(key) == 0) return false;
  const auto found = events.find(key.event);
  assert(found != events.end());  // every pending delivery's event is live
  if (found == events.end()) return true;
  if (--found->second.pending == 0) {
    if (Segment* in = segment(found->second.segment)) {
      --in->live_events;
      in->live_bytes -= found->second.size;
    }
    live_bytes -= found->second.size;
    events.erase(found);
    event_finished = true;
  }
  return true;
}

bool Index::retry_at(DeliveryKey key, const AttemptState& state) {
  const auto found = deliveries.find(key);
  if (found == deliveries.end()) return false;
  found->second = state;
  return true;
}

std::shared_ptr<File> open_locked_directory(const fs::path& directory) {
  if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error(
        fmt::format("cannot create the spool directory {}: {}", directory.string(), errno_text(errno)));
  }
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("cannot open the spool directory {}: {}", directory.string(), errno_text(errno)));
  }
  auto file = std::make_shared<File>(fd);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    throw std::runtime_error(fmt::format(
        "the spool directory {} is in use by another process ({}): give each gateway instance a spool "
        "directory of its own",
        directory.string(), errno_text(errno)));
  }
  return file;
}

Index replay_directory(const fs::path& directory) {
  std::vector<std::pair<std::uint64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const auto name = entry.path().filename().string();
    if (const auto sequence = parse_segment_name(name); sequence && entry.is_regular_file()) {
      found.emplace_back(*sequence, entry.path());
    } else {
      spdlog::warn("spool directory {}: ignoring {}, which is not a segment", directory.string(), name);
    }
  }
  if (error) {
    throw std::runtime_error(
        fmt::format("cannot list the spool directory {}: {}", directory.string(), error.message()));
  }
  std::sort(found.begin(), found.end());
  Index index;
  for (auto& [sequence, path] : found) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat status {};
    if (fd < 0 || ::fstat(fd, &status) != 0) {
      const auto reason = errno_text(errno);
      if (fd >= 0) ::close(fd);
      throw std::runtime_error(fmt::format("cannot read the spool segment {}: {}", path.string(), reason));
    }
    // Events may hold personal data: a segment an older gateway (or a copy) left readable by others
    // is made the owner's only, as the configuration store's files are.
    if ((status.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
      spdlog::warn("spool segment {} is readable by others and cannot be made private: {}", path.string(),
                   errno_text(errno));
    }
    auto& segment = index.segments.emplace_back();
    segment.sequence = sequence;
    segment.path = std::move(path);
    segment.file = std::make_shared<File>(fd);
    segment.size = static_cast<std::uint64_t>(status.st_size);
    index.bytes += segment.size;
    replay_segment(index, segment);
  }
  return index;
}

}  // namespace spool_detail

// --- LocalSpool -------------------------------------------------------------------------------

LocalSpool::LocalSpool(fs::path directory, asio::io_context& io, const SpoolOptions& options,
                       std::uint64_t max_bytes, DeadLetters& dead_letters)
    : directory_(std::move(directory)),
      io_(io),
      options_(options),
      max_bytes_(max_bytes),
      dead_letters_(dead_letters),
      directory_file_(spool_detail::open_locked_directory(directory_)),
      index_(spool_detail::replay_directory(directory_)),
      write_errors_(fmt::format("spool {}: writing failed", directory_.string()), std::chrono::seconds(10),
                    common::RateLimitedWarning::Level::Error),
      flush_timer_(io),
      sync_done_(io, asio::steady_timer::time_point::max()),
      sync_thread_(std::make_unique<spool_detail::SyncThread>()) {
  // Never append after what a previous run wrote: its last record may be torn.
  if (!start_segment() || !write_buffered()) {
    throw std::runtime_error(
        fmt::format("cannot write a segment in the spool directory {}", directory_.string()));
  }
  // A previous run killed after compacting, before its fsync, may have left copies that are not on
  // disk yet: the segments they replace are deleted only after a sync that covers every segment.
  for (auto& segment : index_.segments) {
    if (&segment == &index_.segments.back()) break;
    segment.dirty = true;
    segment.delete_after_sync = written_;
  }
  if (options_.fsync) {
    sync_now();
    fsync_directory(directory_.parent_path());  // in case the thread's directory is new
  }
  recovered_before_ = index_.next_key;
  if (!index_.deliveries.empty()) {
    spdlog::info("spool {}: {} pending deliveries of {} events in {} segments ({} bytes)",
                 directory_.string(), index_.deliveries.size(), index_.events.size(), index_.segments.size(),
                 index_.bytes);
  }
  reclaim();
}

LocalSpool::~LocalSpool() {
  write_buffered();
  sync_thread_.reset();  // waits for the fsync in flight
  if (options_.fsync) {
    try {
      sync_now();
    } catch (const std::exception& error) {
      spdlog::error("{}", error.what());
    }
  }
}

bool LocalSpool::start_segment() {
  assert(out_.empty());  // what is buffered belongs to the previous segment
  const auto sequence = index_.segments.empty() ? 1 : index_.segments.back().sequence + 1;
  auto path = directory_ / segment_file_name(sequence);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    write_errors_.note(fmt::format("cannot create {}: {}", path.string(), errno_text(errno)));
    broken_ = true;
    return false;
  }
  auto& segment = index_.segments.emplace_back();
  segment.sequence = sequence;
  segment.path = std::move(path);
  segment.file = std::make_shared<File>(fd);
  broken_ = false;
  compaction_failed_ = false;
  reclaim_due_ = true;
  directory_dirty_ = true;
  const auto start = begin_record(out_, RecordType::Begin);
  put_u8(out_, kVersion);
  put_u64(out_, index_.next_key);
  end_record(out_, start);
  segment.size = out_.size();
  index_.bytes += out_.size();
  return true;
}

bool LocalSpool::needs_new_segment(std::size_t record_bytes) const {
  const auto& last = index_.segments.back();
  return broken_ || (last.size > kBeginRecordBytes && last.size + record_bytes > options_.segment_bytes);
}

bool LocalSpool::room_for(std::size_t record_bytes) {
  if (!needs_new_segment(record_bytes)) return true;
  write_buffered();  // into the segment being sealed
  return start_segment();
}

bool LocalSpool::write_buffered() {
  if (out_.empty()) return true;
  auto& last = index_.segments.back();
  std::size_t done = 0;
  int error = 0;
  while (!broken_ && done < out_.size()) {
    const auto n = ::write(last.file->fd(), out_.data() + done, out_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  written_ += done;
  if (done > 0) last.dirty = true;
  const auto lost = out_.size() - done;
  out_.clear();
  if (lost == 0) return true;
  // The segment may now end in a torn record: nothing more goes after it.
  last.size -= lost;
  index_.bytes -= lost;
  if (!broken_) write_errors_.note(fmt::format("{}: {}", last.path.string(), errno_text(error)));
  broken_ = true;
  return false;
}

// Buffers the ACK or RETRY record in scratch_. Losing it (when no segment can be written) only
// means that the delivery is made again after a restart.
void LocalSpool::buffer_scratch() {
  if (!room_for(scratch_.size())) return;
  auto& last = index_.segments.back();
  out_ += scratch_;
  last.size += scratch_.size();
  index_.bytes += scratch_.size();
  if (out_.size() >= kFlushBytes) {
    write_buffered();
  } else if (!flush_timer_armed_) {
    // Armed at most once per kFlushDelay, never cancelled by the writes in between: while events
    // flow, their appends write the records first, and re-arming a timer for every record would
    // cost a system call each.
    flush_timer_armed_ = true;
    flush_timer_.expires_after(kFlushDelay);
    flush_timer_.async_wait([this, alive = std::weak_ptr(alive_)](const boost::system::error_code& error) {
      if (error || !alive.lock()) return;
      flush_timer_armed_ = false;
      write_buffered();
    });
  }
  if (reclaim_due_) reclaim();
}

std::optional<std::uint64_t> LocalSpool::append(std::string_view payload,
                                                std::span<const NewDelivery> deliveries) {
  const auto key = index_.next_key;
  if (deliveries.empty()) {
    ++index_.next_key;  // nothing to record: nothing will be pending
    return key;
  }
  if (payload.size() > kMaxPayloadBytes) return std::nullopt;
  thread_local std::vector<EventDelivery> listed;
  listed.clear();
  slots_.clear();
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    listed.push_back({static_cast<std::uint32_t>(i), deliveries[i].state, deliveries[i].target});
    slots_.push_back({static_cast<std::uint32_t>(i), deliveries[i].state});
  }
  scratch_.clear();
  encode_event(scratch_, key, listed, payload);
  const auto size = scratch_.size();
  if (index_.bytes + size > max_bytes_) return std::nullopt;
  if (!room_for(size)) return std::nullopt;
  auto& last = index_.segments.back();
  const auto offset = last.size;
  out_ += scratch_;
  last.size += size;
  index_.bytes += size;
  if (!write_buffered()) return std::nullopt;
  index_.put_event(key, last, offset, static_cast<std::uint32_t>(size),
                   static_cast<std::uint32_t>(payload.size()), slots_);
  ++index_.next_key;
  if (reclaim_due_) reclaim();
  return key;
}

asio::awaitable<void> LocalSpool::durable() {
  if (!out_.empty()) {
    write_buffered();
    if (flush_timer_armed_) {  // nothing left for it to write (and an idle io_context can return)
      flush_timer_armed_ = false;
      flush_timer_.cancel();
    }
  }
  if (!options_.fsync) co_return;
  const auto target = written_;
  if (synced_ < target && failed_through_ < target) {
    ++durable_waiters_;
    request_sync(target);
    while (synced_ < target && failed_through_ < target) {
      co_await sync_done_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    --durable_waiters_;
  }
  if (failed_through_ >= target && target > 0) {
    throw std::runtime_error(
        fmt::format("spool {}: the events could not be made durable: {}", directory_.string(), sync_error_));
  }
}

std::string LocalSpool::claim(DeliveryKey key) {
  const auto event = index_.events.find(key.event);
  if (!index_.deliveries.contains(key) || event == index_.events.end()) {
    throw std::out_of_range(
        fmt::format("spool {}: no pending delivery {}/{}", directory_.string(), key.event, key.index));
  }
  const auto* segment = index_.segment(event->second.segment);
  assert(segment != nullptr);  // a live event's segment is never deleted
  std::string payload(event->second.payload_size, '\0');
  const auto offset = event->second.offset + event->second.size - event->second.payload_size;
  const auto got = read_at(segment->file->fd(), payload.data(), payload.size(), offset);
  if (got != static_cast<ssize_t>(payload.size())) {
    throw std::runtime_error(fmt::format("spool {}: cannot read event {} from {}: {}", directory_.string(),
                                         key.event, segment->path.string(),
                                         got < 0 ? errno_text(errno) : "the file is short"));
  }
  return payload;
}

void LocalSpool::acknowledge(DeliveryKey key) {
  bool event_finished = false;
  if (!index_.acknowledge(key, event_finished)) return;
  scratch_.clear();
  const auto start = begin_record(scratch_, RecordType::Ack);
  put_u64(scratch_, key.event);
  put_u32(scratch_, key.index);
  end_record(scratch_, start);
  buffer_scratch();
  if (event_finished) reclaim();
}

void LocalSpool::retry_at(DeliveryKey key, const AttemptState& state) {
  if (!index_.retry_at(key, state)) return;
  scratch_.clear();
  const auto start = begin_record(scratch_, RecordType::Retry);
  put_u64(scratch_, key.event);
  put_u32(scratch_, key.index);
  put_state(scratch_, state);
  end_record(scratch_, start);
  buffer_scratch();
}

void LocalSpool::dead_letter(DeliveryKey key, const DeadLetter& letter) {
  dead_letters_.put(letter);  // when it throws, the delivery stays pending
  acknowledge(key);
}

void LocalSpool::recover(const std::function<void(PendingDelivery&&)>& found) {
  std::vector<std::uint64_t> keys;
  for (const auto& [key, event] : index_.events) {
    if (key < recovered_before_) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  std::optional<FileWindow> window;
  std::uint64_t window_segment = 0;
  DecodedEvent decoded;
  std::vector<PendingDelivery> pending;
  std::string problem;
  for (const auto key : keys) {
    const auto event = index_.events.find(key);
    if (event == index_.events.end()) continue;  // finished by an earlier call of `found`
    const auto& live = event->second;
    auto* segment = index_.segment(live.segment);
    if (!window || window_segment != live.segment) {
      window.emplace(segment->file, segment->size);
      window_segment = live.segment;
    }
    if (!window->event(live.offset, live.size, FileWindow::Crc::Trust, decoded, problem)) {
      spdlog::error(
          "spool segment {}: event {} at offset {} cannot be read any more ({}); its {} pending deliveries "
          "are lost",
          segment->path.string(), key, live.offset, problem, live.pending);
      index_.drop_event(key);
      continue;
    }
    pending.clear();
    for (const auto& delivery : decoded.deliveries) {
      const auto state = index_.deliveries.find(DeliveryKey{key, delivery.index});
      if (state == index_.deliveries.end()) continue;
      pending.push_back({DeliveryKey{key, delivery.index}, std::string(delivery.target), state->second});
    }
    for (auto& delivery : pending) {
      if (!index_.deliveries.contains(delivery.key)) continue;
      delivery.state = index_.deliveries.find(delivery.key)->second;
      found(std::move(delivery));
    }
  }
}

SpoolUsage LocalSpool::usage() const {
  return {.bytes = index_.bytes, .max_bytes = max_bytes_, .pending = index_.deliveries.size()};
}

void LocalSpool::reclaim() {
  reclaim_due_ = false;
  bool deleted = false;
  while (index_.segments.size() > 1) {  // never the last one, which is written to
    const auto& oldest = index_.segments.front();
    if (oldest.live_events == 0) {
      if (oldest.delete_after_sync > synced_) {
        request_sync(oldest.delete_after_sync);  // reclaim() again when it is done
        break;
      }
      delete_oldest();
      deleted = true;
      continue;
    }
    // Compact only a segment that pins a sealed one, and only when most of the spool is garbage: not
    // while a backlog drains in order (the oldest segment's events are acknowledged soon anyway), but
    // when a few deliveries retrying for long keep many finished segments on disk.
    if (compaction_failed_ || index_.segments.size() < 3) break;
    if (index_.live_bytes * 2 > index_.bytes) break;
    const auto compaction = compact_oldest();
    if (compaction == Compaction::Failed) break;
    if (compaction == Compaction::Partial) {
      // The rest in the next turn of the event loop: a segment's copies never hold it up for long.
      asio::post(io_, [this, alive = std::weak_ptr(alive_)] {
        if (alive.lock()) reclaim();
      });
      break;
    }
  }
  if (deleted && options_.fsync) start_sync_if_needed();  // the directory, soon
}

LocalSpool::Compaction LocalSpool::compact_oldest() {
  Segment& oldest = index_.segments.front();  // references into the deque survive emplace_back
  struct Copy {
    std::uint64_t key;
    std::uint64_t segment;
    std::uint64_t offset;
    std::uint32_t size;
    std::uint32_t payload_size;
  };
  std::vector<Copy> copies;  // in out_, to be applied to the index once written
  const auto write_copies = [&] {
    const bool written = write_buffered();
    if (written) {
      for (const auto& copy : copies) {
        index_.move_event(copy.key, *index_.segment(copy.segment), copy.offset, copy.size, copy.payload_size);
      }
    }
    copies.clear();
    return written;
  };
  FileWindow window(oldest.file, oldest.size);
  DecodedEvent decoded;
  std::vector<EventDelivery> remaining;
  std::string problem;
  std::uint64_t copied_bytes = 0;
  bool partial = false;
  bool failed = false;
  for (const auto key : oldest.events) {
    const auto event = index_.events.find(key);
    if (event == index_.events.end() || event->second.segment != oldest.sequence) continue;
    if (copied_bytes >= kCopyBytes) {
      partial = true;
      break;
    }
    // Checked again: a record that rotted on disk since the open must not be copied with a new CRC.
    if (!window.event(event->second.offset, event->second.size, FileWindow::Crc::Verify, decoded, problem)) {
      spdlog::error(
          "spool segment {}: event {} at offset {} cannot be read any more ({}); its {} pending deliveries "
          "are lost",
          oldest.path.string(), key, event->second.offset, problem, event->second.pending);
      index_.drop_event(key);
      continue;
    }
    remaining.clear();
    for (auto delivery : decoded.deliveries) {
      const auto state = index_.deliveries.find(DeliveryKey{key, delivery.index});
      if (state == index_.deliveries.end()) continue;
      delivery.state = state->second;
      remaining.push_back(delivery);
    }
    if (remaining.empty()) {  // the index and the record disagree: never write an event of no delivery
      spdlog::error("spool segment {}: event {} lists none of its pending deliveries; they are lost",
                    oldest.path.string(), key);
      index_.drop_event(key);
      continue;
    }
    scratch_.clear();
    encode_event(scratch_, key, remaining, decoded.payload);
    if ((needs_new_segment(scratch_.size()) && !write_copies()) || !room_for(scratch_.size())) {
      failed = true;
      break;
    }
    auto& last = index_.segments.back();
    copies.push_back({key, last.sequence, last.size, static_cast<std::uint32_t>(scratch_.size()),
                      static_cast<std::uint32_t>(decoded.payload.size())});
    out_ += scratch_;
    last.size += scratch_.size();
    index_.bytes += scratch_.size();
    copied_bytes += scratch_.size();
  }
  const bool written = write_copies() && !failed;
  // Whatever was copied, the originals stay until the copies are on disk, even if the segment's
  // other events finish meanwhile.
  oldest.delete_after_sync = written_;
  if (!written) {
    compaction_failed_ = true;  // tried again once another segment starts
    return Compaction::Failed;
  }
  if (partial) return Compaction::Partial;
  assert(oldest.live_events == 0);  // every live event whose record is here was copied or dropped
  return Compaction::Done;
}

void LocalSpool::delete_oldest() {
  const auto& oldest = index_.segments.front();
  if (::unlink(oldest.path.c_str()) != 0 && errno != ENOENT) {
    // Harmless but for the disk space: nothing in it is live, and the next open replays it again.
    spdlog::error("spool: cannot delete {}: {}", oldest.path.string(), errno_text(errno));
  }
  index_.bytes -= oldest.size;
  index_.segments.pop_front();
  directory_dirty_ = true;
}

void LocalSpool::request_sync(std::uint64_t position) {
  sync_wanted_ = std::max(sync_wanted_, position);
  if (sync_in_flight_ || sync_scheduled_) return;
  // Started once the handlers ready to run have run: the callers of durable() woken by the same
  // turn of the event loop (a burst of requests) then share the fsync rather than wait for the next.
  sync_scheduled_ = true;
  asio::post(io_, [this, alive = std::weak_ptr(alive_)] {
    if (!alive.lock()) return;
    sync_scheduled_ = false;
    start_sync_if_needed();
  });
}

void LocalSpool::start_sync_if_needed() {
  if (sync_in_flight_) return;
  const bool data = sync_wanted_ > synced_;
  const bool directory = options_.fsync && directory_dirty_;
  if (!data && !directory) return;
  std::vector<std::shared_ptr<File>> files;
  for (auto& segment : index_.segments) {
    if (!segment.dirty) continue;
    files.push_back(segment.file);
    segment.dirty = false;
  }
  std::shared_ptr<File> directory_file;
  if (options_.fsync && directory_dirty_) {
    directory_file = directory_file_;
    directory_dirty_ = false;
  }
  sync_in_flight_ = true;
  const auto position = written_;
  // The work guard keeps the io_context running until the completion is back on its thread.
  sync_thread_->submit([this, files = std::move(files), directory_file, position,
                        alive = std::weak_ptr(alive_), work = asio::make_work_guard(io_)]() mutable {
    std::string error;
    for (const auto& file : files) {
      if (::fdatasync(file->fd()) != 0) error = "fdatasync: " + errno_text(errno);
    }
    if (directory_file && ::fsync(directory_file->fd()) != 0)
      error = "fsync of the directory: " + errno_text(errno);
    const auto executor = work.get_executor();
    asio::post(executor, [this, files = std::move(files), position, alive, error = std::move(error),
                          work = std::move(work)]() mutable {
      if (!alive.lock()) return;
      sync_finished(position, error, std::move(files));
    });
  });
}

void LocalSpool::sync_finished(std::uint64_t position, const std::string& error,
                               std::vector<std::shared_ptr<File>> files) {
  sync_in_flight_ = false;
  if (error.empty()) {
    synced_ = std::max(synced_, position);
  } else {
    spdlog::error("spool {}: {}; the events appended since the previous fsync are not known to be on disk",
                  directory_.string(), error);
    failed_through_ = std::max(failed_through_, position);
    sync_error_ = error;
    for (auto& segment : index_.segments) {
      if (std::find(files.begin(), files.end(), segment.file) != files.end()) segment.dirty = true;
    }
  }
  sync_done_.cancel();  // wakes every durable() waiting; each checks its own position
  if (error.empty()) reclaim();
  // After a failure, try again only for callers waiting, not in a loop of its own.
  if (error.empty() || durable_waiters_ > 0) start_sync_if_needed();
}

void LocalSpool::sync_now() {
  for (auto& segment : index_.segments) {
    if (!segment.dirty) continue;
    if (::fdatasync(segment.file->fd()) != 0) {
      throw std::runtime_error(
          fmt::format("spool: cannot fdatasync {}: {}", segment.path.string(), errno_text(errno)));
    }
    segment.dirty = false;
  }
  if (::fsync(directory_file_->fd()) != 0) {
    throw std::runtime_error(
        fmt::format("spool: cannot fsync the directory {}: {}", directory_.string(), errno_text(errno)));
  }
  directory_dirty_ = false;
  synced_ = std::max(synced_, written_);
}

void LocalSpool::take_over(Index&& other, const fs::path& from) {
  std::vector<std::uint64_t> keys;
  for (const auto& [key, event] : other.events) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  std::optional<FileWindow> window;
  std::uint64_t window_segment = 0;
  DecodedEvent decoded;
  std::vector<EventDelivery> remaining;
  std::string problem;
  const auto fail = [&] {
    throw std::runtime_error(
        fmt::format("spool {}: cannot take over the pending deliveries of {}: writing failed",
                    directory_.string(), from.string()));
  };
  std::size_t deliveries = 0;
  for (const auto key : keys) {
    const auto& live = other.events.at(key);
    auto* segment = other.segment(live.segment);
    if (!window || window_segment != live.segment) {
      window.emplace(segment->file, segment->size);
      window_segment = live.segment;
    }
    if (!window->event(live.offset, live.size, FileWindow::Crc::Trust, decoded, problem)) {
      spdlog::error(
          "spool segment {}: event {} at offset {} cannot be read any more ({}); its {} pending deliveries "
          "are lost",
          segment->path.string(), key, live.offset, problem, live.pending);
      continue;
    }
    remaining.clear();
    slots_.clear();
    for (auto delivery : decoded.deliveries) {
      const auto state = other.deliveries.find(DeliveryKey{key, delivery.index});
      if (state == other.deliveries.end()) continue;
      delivery.state = state->second;
      remaining.push_back(delivery);
      slots_.push_back({delivery.index, delivery.state});
    }
    if (remaining.empty()) continue;  // cannot be: a live event has pending deliveries
    const auto new_key = index_.next_key++;
    scratch_.clear();
    encode_event(scratch_, new_key, remaining, decoded.payload);
    if (!room_for(scratch_.size())) fail();
    auto& last = index_.segments.back();
    const auto offset = last.size;
    out_ += scratch_;
    last.size += scratch_.size();
    index_.bytes += scratch_.size();
    // Applied before it is written: when writing fails, the open fails.
    index_.put_event(new_key, last, offset, static_cast<std::uint32_t>(scratch_.size()),
                     static_cast<std::uint32_t>(decoded.payload.size()), slots_);
    deliveries += remaining.size();
    if (out_.size() >= kCopyBytes && !write_buffered()) fail();
  }
  if (!write_buffered()) fail();
  sync_now();  // before the caller removes `from`
  recovered_before_ = index_.next_key;
  spdlog::info("spool {}: took over {} pending deliveries of {} events from {}", directory_.string(),
               deliveries, keys.size(), from.string());
}

std::vector<std::unique_ptr<Spool>> open_local_spools(const fs::path& directory,
                                                      std::span<asio::io_context* const> ios,
                                                      const SpoolOptions& options,
                                                      DeadLetters& dead_letters) {
  const auto per_spool = options.max_bytes / std::max<std::size_t>(1, ios.size());
  // A spool gives room back one sealed segment at a time, and the segment being written is never
  // sealed while it has room: in a small spool, segments of at most an eighth of it keep the room
  // that waits for a rotation small.
  auto sized = options;
  sized.segment_bytes = std::min(options.segment_bytes, std::max<std::uint64_t>(kMinSegmentBytes, per_spool / 8));
  if (ios.empty()) throw std::invalid_argument("open_local_spools: no io_context");
  std::error_code ignored;
  if (!fs::is_directory(directory, ignored)) {
    if (directory.has_parent_path()) fs::create_directories(directory.parent_path(), ignored);
    if (::mkdir(directory.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::runtime_error(
          fmt::format("cannot create the spool directory {}: {}", directory.string(), errno_text(errno)));
    }
  }
  // Thread directories: "<index>"; "<index>.removing": taken over, and being removed when a crash came.
  std::vector<std::uint64_t> extra;
  std::vector<fs::path> leftovers;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    if (!entry.is_directory(ignored)) continue;
    const auto name = entry.path().filename().string();
    if (name.ends_with(".removing") && parse_number(std::string_view(name).substr(0, name.size() - 9))) {
      leftovers.push_back(entry.path());
    } else if (const auto index = parse_number(name); index && *index >= ios.size()) {
      extra.push_back(*index);
    }
  }
  if (error) {
    throw std::runtime_error(
        fmt::format("cannot list the spool directory {}: {}", directory.string(), error.message()));
  }
  for (const auto& leftover : leftovers) fs::remove_all(leftover, ignored);
  std::sort(extra.begin(), extra.end());

  std::vector<std::unique_ptr<LocalSpool>> spools;
  for (std::size_t i = 0; i < ios.size(); ++i) {
    if (ios[i] == nullptr) throw std::invalid_argument("open_local_spools: a null io_context");
    spools.push_back(std::make_unique<LocalSpool>(directory / std::to_string(i), *ios[i], sized, per_spool,
                                                  dead_letters));
  }
  for (const auto index : extra) {
    const auto from = directory / std::to_string(index);
    {
      const auto lock = spool_detail::open_locked_directory(from);
      spools[index % ios.size()]->take_over(spool_detail::replay_directory(from), from);
    }
    // Renamed first, so that a crash while removing it never leaves part of it to be taken over.
    auto removing = from;
    removing += ".removing";
    fs::rename(from, removing, error);
    if (error) {
      throw std::runtime_error(fmt::format("cannot remove the spool directory {} after taking it over: {}",
                                           from.string(), error.message()));
    }
    fsync_directory(directory);
    fs::remove_all(removing, ignored);
  }
  return {std::make_move_iterator(spools.begin()), std::make_move_iterator(spools.end())};
}

}  // namespace eg::delivery
