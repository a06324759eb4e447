#include "delivery/spool.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/captured_log.h"
#include "common/temporary_directory.h"
#include "delivery/dead_letters.h"
#include "delivery/local_spool.h"

namespace eg::delivery {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;

// The dead letters in memory: the spool only puts letters.
class MemoryDeadLetters final : public DeadLetters {
 public:
  void put(const DeadLetter& letter) override { letters[letter.id] = letter; }
  std::optional<DeadLetter> get(std::string_view, std::string_view id) override {
    const auto found = letters.find(std::string(id));
    if (found == letters.end()) return std::nullopt;
    return found->second;
  }
  DeadLetterPage list(std::string_view, std::size_t, std::optional<std::string_view>) override { return {}; }
  bool mark_redelivering(std::string_view, std::string_view) override { return false; }
  bool remove(std::string_view, std::string_view id) override { return letters.erase(std::string(id)) > 0; }

  std::map<std::string, DeadLetter> letters;
};

std::vector<NewDelivery> deliveries_to(std::initializer_list<std::string> targets) {
  std::vector<NewDelivery> deliveries;
  for (const auto& target : targets) deliveries.push_back({target, {}});
  return deliveries;
}

std::vector<std::string> segment_files(const fs::path& directory) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(directory))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// How many times `needle` occurs in the segments of `directory`, but for the segment `except`.
std::size_t occurrences(const fs::path& directory, const std::string& needle,
                        const std::string& except = {}) {
  std::size_t found = 0;
  for (const auto& name : segment_files(directory)) {
    if (name == except) continue;
    std::string bytes(fs::file_size(directory / name), '\0');
    std::ifstream(directory / name, std::ios::binary)
        .read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    for (auto at = bytes.find(needle); at != std::string::npos; at = bytes.find(needle, at + needle.size()))
      ++found;
  }
  return found;
}

bool logged(const testsupport::CapturedLog& log, std::initializer_list<std::string_view> parts) {
  for (const auto& line : log.lines()) {
    if (std::all_of(parts.begin(), parts.end(),
                    [&](auto part) { return line.find(part) != std::string::npos; })) {
      return true;
    }
  }
  return false;
}

class SpoolTest : public ::testing::Test {
 protected:
  // Opens `threads` spools on io_contexts of their own (none running: the test drives them).
  std::vector<std::unique_ptr<Spool>>& open(std::size_t threads = 1, SpoolOptions options = {}) {
    spools_.clear();
    ios_.clear();
    std::vector<asio::io_context*> ios;
    for (std::size_t i = 0; i < threads; ++i)
      ios.push_back(ios_.emplace_back(std::make_unique<asio::io_context>()).get());
    spools_ = open_local_spools(directory_.path(), ios, options, dead_letters_);
    return spools_;
  }
  Spool& spool(std::size_t i = 0) { return *spools_.at(i); }
  asio::io_context& io(std::size_t i = 0) { return *ios_.at(i); }
  // As at a shutdown: flushes, lets the fsyncs that deletions wait for come back, closes.
  void close() {
    for (std::size_t i = 0; i < spools_.size(); ++i) await_durable(i);
    spools_.clear();
    for (auto& io : ios_) {
      io->restart();
      io->run();
    }
  }
  fs::path thread_directory(std::size_t i = 0) const { return directory_.path() / std::to_string(i); }
  fs::path segment_path(std::uint64_t sequence, std::size_t thread = 0) const {
    return thread_directory(thread) / spool_format::segment_file_name(sequence);
  }

  // Waits for durable() by running the io_context; rethrows what it threw.
  void await_durable(std::size_t i = 0) {
    bool done = false;
    std::exception_ptr failure;
    asio::co_spawn(io(i), spool(i).durable(), [&](std::exception_ptr error) {
      done = true;
      failure = error;
    });
    io(i).restart();
    io(i).run();
    ASSERT_TRUE(done);
    if (failure) std::rethrow_exception(failure);
  }

  std::vector<PendingDelivery> recovered(std::size_t i = 0) {
    std::vector<PendingDelivery> found;
    spool(i).recover([&](PendingDelivery&& delivery) { found.push_back(std::move(delivery)); });
    return found;
  }

  testsupport::TemporaryDirectory directory_{"eg-spool-test-"};
  MemoryDeadLetters dead_letters_;
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<std::unique_ptr<Spool>> spools_;
};

TEST_F(SpoolTest, AppendClaimAcknowledge) {
  open();
  const auto key = spool().append(R"({"id":"e1"})", deliveries_to({"f1", "f2"}));
  ASSERT_TRUE(key);
  EXPECT_EQ(spool().claim({*key, 0}), R"({"id":"e1"})");
  EXPECT_EQ(spool().claim({*key, 1}), R"({"id":"e1"})");
  EXPECT_EQ(spool().usage().pending, 2U);

  spool().acknowledge({*key, 0});
  EXPECT_EQ(spool().usage().pending, 1U);
  spool().acknowledge({*key, 0});  // twice: nothing more
  EXPECT_EQ(spool().usage().pending, 1U);
  EXPECT_THROW(spool().claim({*key, 0}), std::out_of_range);
  EXPECT_EQ(spool().claim({*key, 1}), R"({"id":"e1"})");
  spool().acknowledge({*key, 1});
  EXPECT_EQ(spool().usage().pending, 0U);
  EXPECT_THROW(spool().claim({*key, 1}), std::out_of_range);

  // An event without deliveries has a key, and nothing is kept of it.
  const auto bytes = spool().usage().bytes;
  EXPECT_GT(*spool().append("nobody", {}), *key);
  EXPECT_EQ(spool().usage().bytes, bytes);
}

TEST_F(SpoolTest, KeysIncreaseAndEachEventKeepsItsPayload) {
  open();
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(*spool().append("payload " + std::to_string(i), deliveries_to({"f"})));
  }
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::adjacent_find(keys.begin(), keys.end()), keys.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(spool().claim({keys[i], 0}), "payload " + std::to_string(i));
}

TEST_F(SpoolTest, RetryAtChangesTheStateRecovered) {
  open();
  const auto key = *spool().append("e", deliveries_to({"f1", "f2"}));
  spool().retry_at({key, 1}, {.attempts = 3, .first_attempt_ms = 1000, .due_ms = 5000});
  spool().retry_at({key + 100, 0}, {.attempts = 1});  // not pending: nothing happens
  close();

  open();
  const auto found = recovered();
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].key, (DeliveryKey{key, 0}));
  EXPECT_EQ(found[0].target, "f1");
  EXPECT_EQ(found[0].state.attempts, 0U);
  EXPECT_EQ(found[1].key, (DeliveryKey{key, 1}));
  EXPECT_EQ(found[1].target, "f2");
  EXPECT_EQ(found[1].state.attempts, 3U);
  EXPECT_EQ(found[1].state.first_attempt_ms, 1000);
  EXPECT_EQ(found[1].state.due_ms, 5000);
  EXPECT_EQ(spool().claim({key, 1}), "e");
}

TEST_F(SpoolTest, RecoveryReportsPendingDeliveriesInAcceptanceOrderWithoutTheAcknowledged) {
  open();
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 5; ++i) {
    NewDelivery delivery{"f" + std::to_string(i), {.attempts = 0, .first_attempt_ms = 0, .due_ms = 100 + i}};
    keys.push_back(*spool().append("event " + std::to_string(i), {&delivery, 1}));
  }
  spool().acknowledge({keys[1], 0});
  spool().acknowledge({keys[3], 0});
  close();

  open();
  const auto found = recovered();
  ASSERT_EQ(found.size(), 3U);
  for (std::size_t i = 0; i < found.size(); ++i) {
    const int event = std::array{0, 2, 4}[i];
    EXPECT_EQ(found[i].key, (DeliveryKey{keys[event], 0}));
    EXPECT_EQ(found[i].target, "f" + std::to_string(event));
    EXPECT_EQ(found[i].state.due_ms, 100 + event);
    EXPECT_EQ(spool().claim(found[i].key), "event " + std::to_string(event));
  }
  EXPECT_EQ(spool().usage().pending, 3U);

  // What is appended after the open is not "recovered".
  spool().append("new", deliveries_to({"f"}));
  EXPECT_EQ(recovered().size(), 3U);
}

TEST_F(SpoolTest, KeysAreNeverReusedAfterARestartEvenWhenEverythingWasAcknowledged) {
  open();
  const auto first = *spool().append("e", deliveries_to({"f"}));
  spool().acknowledge({first, 0});
  close();
  open();  // the first segment is deleted: nothing in it is live
  close();
  EXPECT_FALSE(fs::exists(segment_path(1)));
  open();
  EXPECT_GT(*spool().append("e", deliveries_to({"f"})), first);
}

TEST_F(SpoolTest, FilesAreForTheGatewayOnly) {
  open();
  spool().append("e", deliveries_to({"f"}));
  struct stat status {};
  ASSERT_EQ(::stat(thread_directory().c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0700U);
  ASSERT_EQ(::stat(segment_path(1).c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600U);
}

TEST_F(SpoolTest, ADirectoryInUseIsRefused) {
  open();
  MemoryDeadLetters other;
  asio::io_context io;
  asio::io_context* ios[] = {&io};
  try {
    open_local_spools(directory_.path(), ios, {}, other);
    FAIL() << "opened twice";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("in use by another process"), std::string::npos) << error.what();
  }
}

TEST_F(SpoolTest, ATornLastRecordIsSkippedAndTheRecordsBeforeItKept) {
  open();
  const auto first = *spool().append("first event", deliveries_to({"f"}));
  const auto second = *spool().append("second event", deliveries_to({"f"}));
  const auto torn_at = fs::file_size(segment_path(1));
  spool().append(std::string(200, 'x'), deliveries_to({"f"}));
  close();
  const auto cut = torn_at + 100;  // in the middle of the third record
  fs::resize_file(segment_path(1), cut);

  testsupport::CapturedLog log("%l %v");
  open();
  const auto found = recovered();
  ASSERT_EQ(found.size(), 2U);
  EXPECT_EQ(found[0].key.event, first);
  EXPECT_EQ(found[1].key.event, second);
  EXPECT_TRUE(logged(log, {"warning", segment_path(1).string(), "offset " + std::to_string(torn_at),
                           "skipped the last 100 bytes"}))
      << ::testing::PrintToString(log.lines());

  // Usable afterwards, in a fresh segment: nothing is appended after the tear.
  const auto next = *spool().append("after", deliveries_to({"f"}));
  EXPECT_GT(next, second);
  EXPECT_EQ(spool().claim({next, 0}), "after");
  EXPECT_EQ(spool().claim({first, 0}), "first event");
  EXPECT_EQ(fs::file_size(segment_path(1)), cut);
  EXPECT_TRUE(fs::exists(segment_path(2)));
  close();
  open();
  EXPECT_EQ(recovered().size(), 3U);
}

TEST_F(SpoolTest, ACorruptRecordEndsTheReadingOfItsSegmentOnly) {
  open();
  const auto first = *spool().append("first event", deliveries_to({"f"}));
  const auto second_at = fs::file_size(segment_path(1));
  spool().append("second event", deliveries_to({"f"}));
  spool().append("third event", deliveries_to({"f"}));
  close();
  {
    std::fstream file(segment_path(1), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(second_at + 30));  // in the second record's body
    file.put('\xff');
  }

  testsupport::CapturedLog log("%l %v");
  open();
  const auto found = recovered();
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].key.event, first);
  EXPECT_TRUE(
      logged(log, {"warning", segment_path(1).string(), "CRC", "offset " + std::to_string(second_at)}))
      << ::testing::PrintToString(log.lines());
  const auto next = *spool().append("after", deliveries_to({"f"}));
  EXPECT_EQ(spool().claim({next, 0}), "after");
}

// CRC-32 (ISO-HDLC, reflected 0xEDB88320: zlib's and gzip's), bit by bit: the reference the
// spool's faster computation must agree with.
std::uint32_t reference_crc32(std::string_view bytes) {
  std::uint32_t crc = 0xffffffffU;
  for (const unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

std::uint32_t u32_at(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= std::uint32_t{static_cast<unsigned char>(bytes[at + i])} << (8 * i);
  return value;
}

TEST_F(SpoolTest, EveryRecordCarriesTheCrc32OfItsBodyAsEarlierVersionsWroteIt) {
  ASSERT_EQ(reference_crc32("123456789"), 0xcbf43926U);  // the CRC-32's check value
  open();
  // Bodies of every length around the computation's 16-, 64- and 256-byte steps.
  std::vector<std::uint64_t> keys;
  for (std::size_t size = 0; size < 300; ++size) {
    keys.push_back(
        *spool().append(std::string(size, static_cast<char>('a' + size % 26)), deliveries_to({"f"})));
  }
  for (std::size_t i = 0; i < keys.size(); i += 2) spool().acknowledge({keys[i], 0});
  close();

  std::string bytes(fs::file_size(segment_path(1)), '\0');
  std::ifstream(segment_path(1), std::ios::binary)
      .read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::size_t records = 0;
  for (std::size_t at = 0; at < bytes.size(); ++records) {
    ASSERT_LE(at + spool_format::kHeaderBytes, bytes.size());
    ASSERT_EQ(u32_at(bytes, at), spool_format::kMagic) << "at offset " << at;
    const auto size = u32_at(bytes, at + 4);
    ASSERT_LE(at + spool_format::kHeaderBytes + size, bytes.size());
    const auto body = std::string_view(bytes).substr(at + spool_format::kHeaderBytes, size);
    EXPECT_EQ(u32_at(bytes, at + 8), reference_crc32(body)) << "record at offset " << at;
    at += spool_format::kHeaderBytes + size;
  }
  EXPECT_GT(records, keys.size());  // the segment's first record, the events and the acknowledgements
}

TEST_F(SpoolTest, ATruncatedSegmentLosesOnlyWhatWasCutOff) {
  SpoolOptions options;
  options.segment_bytes = 1024;
  open(1, options);
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 30; ++i)
    keys.push_back(*spool().append(std::string(100, 'a' + i % 26), deliveries_to({"f"})));
  close();
  const auto files = segment_files(thread_directory());
  ASSERT_GE(files.size(), 4U);
  const auto middle = thread_directory() / files[1];
  const auto size = fs::file_size(middle);
  fs::resize_file(middle, size / 2);

  testsupport::CapturedLog log("%l %v");
  open(1, options);
  const auto found = recovered();
  EXPECT_LT(found.size(), keys.size());
  EXPECT_GT(found.size(), keys.size() - 9);  // a segment of 1 KiB holds at most 8 of these
  EXPECT_EQ(found.front().key.event, keys.front());
  EXPECT_EQ(found.back().key.event, keys.back());
  for (const auto& delivery : found) {
    const auto i = std::find(keys.begin(), keys.end(), delivery.key.event) - keys.begin();
    EXPECT_EQ(spool().claim(delivery.key), std::string(100, 'a' + i % 26));
  }
  EXPECT_TRUE(logged(log, {"warning", middle.string(), "cut short"}))
      << ::testing::PrintToString(log.lines());
}

TEST_F(SpoolTest, AnEmptySegmentLeftByACrashIsHarmless) {
  open();
  const auto key = *spool().append("e", deliveries_to({"f"}));
  close();
  std::ofstream(segment_path(7)).close();  // created, then the crash
  testsupport::CapturedLog log("%l %v");
  open();
  ASSERT_EQ(recovered().size(), 1U);
  EXPECT_GT(*spool().append("e", deliveries_to({"f"})), key);
  EXPECT_TRUE(fs::exists(segment_path(8)));
}

TEST_F(SpoolTest, TheSizeLimitRefusesAppendsAndAcknowledgementsGiveTheRoomBack) {
  SpoolOptions options;
  options.segment_bytes = 4096;
  options.max_bytes = 16 * 1024;
  open(1, options);
  const std::string payload(500, 'p');
  std::vector<std::uint64_t> keys;
  while (const auto key = spool().append(payload, deliveries_to({"f"}))) {
    keys.push_back(*key);
    ASSERT_LT(keys.size(), 100U);
  }
  EXPECT_GT(keys.size(), 20U);
  EXPECT_LE(spool().usage().bytes, options.max_bytes);
  EXPECT_EQ(spool().usage().max_bytes, options.max_bytes);
  EXPECT_EQ(spool().usage().pending, keys.size());
  EXPECT_FALSE(spool().append(payload, deliveries_to({"f"})));
  EXPECT_EQ(spool().usage().pending, keys.size());  // refused: nothing recorded

  for (const auto key : keys) spool().acknowledge({key, 0});
  EXPECT_LT(spool().usage().bytes, options.max_bytes / 2);
  EXPECT_TRUE(spool().append(payload, deliveries_to({"f"})));
}

TEST_F(SpoolTest, TheLimitIsSharedByTheThreadsSpools) {
  SpoolOptions options;
  options.max_bytes = 3000;
  open(2, options);
  EXPECT_EQ(spool(0).usage().max_bytes, 1500U);
  EXPECT_EQ(spool(1).usage().max_bytes, 1500U);
  EXPECT_TRUE(spool(0).append(std::string(1000, 'p'), deliveries_to({"f"})));
  EXPECT_FALSE(spool(0).append(std::string(1000, 'p'), deliveries_to({"f"})));
}

TEST_F(SpoolTest, CompactionKeepsALongPendingDeliveryWhileOlderSegmentsAreDeleted) {
  SpoolOptions options;
  options.segment_bytes = 4096;
  open(1, options);
  const auto stuck = *spool().append("the long-retrying one", deliveries_to({"slow"}));
  spool().retry_at({stuck, 0}, {.attempts = 7, .first_attempt_ms = 1, .due_ms = 2});
  for (int i = 0; i < 300; ++i) {
    const auto key = *spool().append(std::string(200, 'x'), deliveries_to({"fast"}));
    spool().acknowledge({key, 0});
    if (i % 100 == 99) await_durable();  // lets the fsyncs that compaction waits for come back
  }
  await_durable();
  // 300 events of ~280 bytes filled about 20 segments of 4 KiB; all but the last few are gone.
  const auto files = segment_files(thread_directory());
  EXPECT_LE(files.size(), 3U) << ::testing::PrintToString(files);
  EXPECT_FALSE(fs::exists(segment_path(1)));
  EXPECT_LT(spool().usage().bytes, 3 * options.segment_bytes);
  EXPECT_EQ(spool().usage().pending, 1U);
  EXPECT_EQ(spool().claim({stuck, 0}), "the long-retrying one");
  close();

  open(1, options);
  const auto found = recovered();
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].key, (DeliveryKey{stuck, 0}));
  EXPECT_EQ(found[0].target, "slow");
  EXPECT_EQ(found[0].state.attempts, 7U);
  EXPECT_EQ(spool().claim({stuck, 0}), "the long-retrying one");
}

TEST_F(SpoolTest, CompactionCopiesOnlyTheDeliveriesStillPending) {
  SpoolOptions options;
  options.segment_bytes = 2048;
  open(1, options);
  const auto event = *spool().append("three subscribers", deliveries_to({"a", "b", "c"}));
  spool().acknowledge({event, 1});
  spool().retry_at({event, 2}, {.attempts = 2, .first_attempt_ms = 10, .due_ms = 20});
  for (int i = 0; i < 200; ++i)
    spool().acknowledge({*spool().append(std::string(100, 'x'), deliveries_to({"f"})), 0});
  await_durable();
  EXPECT_FALSE(fs::exists(segment_path(1)));
  spool().acknowledge({event, 0});
  close();

  open(1, options);
  const auto found = recovered();
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].key, (DeliveryKey{event, 2}));
  EXPECT_EQ(found[0].target, "c");
  EXPECT_EQ(found[0].state.attempts, 2U);
}

// Compaction copied an event forward, and the gateway died before the fsync after which the
// original's segment is deleted: both records are on disk, and the event comes back once, as the
// copy says.
TEST_F(SpoolTest, ACrashBetweenACopyAndTheDeletionOfItsOriginalRecoversTheEventOnce) {
  SpoolOptions options;
  options.segment_bytes = 2048;
  open(1, options);
  const auto stuck = *spool().append("the stuck one", deliveries_to({"a", "b"}));
  spool().acknowledge({stuck, 0});
  spool().retry_at({stuck, 1}, {.attempts = 5, .first_attempt_ms = 1, .due_ms = 2});
  for (int i = 0; i < 100; ++i)
    spool().acknowledge({*spool().append(std::string(100, 'x'), deliveries_to({"f"})), 0});
  // The io_context never ran: the fsync's completion never came, and nothing was deleted.
  spools_.clear();
  ASSERT_TRUE(fs::exists(segment_path(1)));
  ASSERT_GE(occurrences(thread_directory(), "the stuck one"), 2U);  // the original and its copy

  open(1, options);
  const auto found = recovered();
  ASSERT_EQ(found.size(), 1U);
  EXPECT_EQ(found[0].key, (DeliveryKey{stuck, 1}));
  EXPECT_EQ(found[0].target, "b");
  EXPECT_EQ(found[0].state.attempts, 5U);
  EXPECT_EQ(spool().claim(found[0].key), "the stuck one");
  EXPECT_EQ(spool().usage().pending, 1U);
}

// More than a turn's worth (1 MiB) of live events to copy: compaction goes on in steps, then the
// gateway dies before the fsync that the deletion waits for. Every pending delivery comes back once.
TEST_F(SpoolTest, ACompactionInStepsThenACrashLosesNothingAndDuplicatesNothing) {
  SpoolOptions options;
  options.segment_bytes = 3 << 19;  // 1.5 MiB: room for 1.4 MiB of live events in the first segment
  open(1, options);
  std::vector<std::uint64_t> pending;
  for (int i = 0; i < 1300; ++i) {
    pending.push_back(*spool().append(std::to_string(i) + std::string(1000, 'p'), deliveries_to({"slow"})));
  }
  const std::string garbage(1000, 'g');
  for (int i = 0; i < 2000; ++i) spool().acknowledge({*spool().append(garbage, deliveries_to({"fast"})), 0});
  ASSERT_TRUE(fs::exists(segment_path(1)));  // its copies are not known to be on disk
  spools_.clear();
  // Every one was copied, in more than one step, and the originals are still there.
  EXPECT_EQ(occurrences(thread_directory(), std::string(1000, 'p'), spool_format::segment_file_name(1)),
            1300U);
  EXPECT_EQ(occurrences(thread_directory(), std::string(1000, 'p')), 2600U);

  open(1, options);
  const auto found = recovered();
  ASSERT_EQ(found.size(), pending.size());
  for (std::size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].key, (DeliveryKey{pending[i], 0}));
    EXPECT_EQ(spool().claim(found[i].key), std::to_string(i) + std::string(1000, 'p'));
  }
  // Once the spool's io_context runs, the originals go.
  await_durable();
  EXPECT_FALSE(fs::exists(segment_path(1)));
  EXPECT_EQ(recovered().size(), pending.size());
}

TEST_F(SpoolTest, ARecordLargerThanASegmentGetsOneOfItsOwn) {
  SpoolOptions options;
  options.segment_bytes = 1024;
  open(1, options);
  const auto small = *spool().append("small", deliveries_to({"f"}));
  const auto large = *spool().append(std::string(5000, 'L'), deliveries_to({"f"}));
  const auto after = *spool().append("after", deliveries_to({"f"}));
  EXPECT_EQ(spool().claim({large, 0}), std::string(5000, 'L'));
  close();
  EXPECT_GE(segment_files(thread_directory()).size(), 3U);
  open(1, options);
  ASSERT_EQ(recovered().size(), 3U);
  EXPECT_EQ(spool().claim({small, 0}), "small");
  EXPECT_EQ(spool().claim({large, 0}), std::string(5000, 'L'));
  EXPECT_EQ(spool().claim({after, 0}), "after");
}

TEST_F(SpoolTest, RecoverMayFinishDeliveriesAsItReportsThem) {
  open();
  for (int i = 0; i < 10; ++i) spool().append("e", deliveries_to({"a", "b"}));
  close();
  open();
  int reported = 0;
  spool().recover([&](PendingDelivery&& delivery) {
    ++reported;
    spool().acknowledge(delivery.key);
    spool().acknowledge({delivery.key.event, 1});  // the next one of the same event, before it is reported
  });
  EXPECT_EQ(reported, 10);
  EXPECT_EQ(spool().usage().pending, 0U);
  close();
  open();
  EXPECT_TRUE(recovered().empty());
}

TEST_F(SpoolTest, WhatATakeOverLeftBehindIsRemovedAndTheRestOfTheDirectoryLeftAlone) {
  fs::create_directories(directory_.path() / "3.removing");
  std::ofstream(directory_.path() / "3.removing" / spool_format::segment_file_name(1)).close();
  std::ofstream(directory_.path() / "deadletters.db").close();
  open(2);
  EXPECT_FALSE(fs::exists(directory_.path() / "3.removing"));
  EXPECT_TRUE(fs::exists(directory_.path() / "deadletters.db"));
}

TEST_F(SpoolTest, AReopenWithFewerThreadsTakesOverTheDirectoriesLeft) {
  open(3);
  std::vector<std::uint64_t> keys;
  for (std::size_t i = 0; i < 3; ++i) {
    keys.push_back(*spool(i).append("event of thread " + std::to_string(i), deliveries_to({"a", "b"})));
  }
  spool(2).acknowledge({keys[2], 0});
  spool(2).retry_at({keys[2], 1}, {.attempts = 4, .first_attempt_ms = 1, .due_ms = 9});
  close();

  open(2);
  EXPECT_FALSE(fs::exists(thread_directory(2)));
  const auto zero = recovered(0);
  ASSERT_EQ(zero.size(), 3U);  // its own two, then thread 2's remaining one
  EXPECT_EQ(spool(0).claim(zero[0].key), "event of thread 0");
  EXPECT_EQ(zero[2].target, "b");
  EXPECT_EQ(zero[2].key.index, 1U);
  EXPECT_EQ(zero[2].state.attempts, 4U);
  EXPECT_EQ(spool(0).claim(zero[2].key), "event of thread 2");
  const auto one = recovered(1);
  ASSERT_EQ(one.size(), 2U);
  EXPECT_EQ(spool(1).claim(one[0].key), "event of thread 1");

  // Taken over for good: the next open finds them in spool 0 only, once.
  for (const auto& delivery : zero) {
    if (delivery.key.index == 0) spool(0).acknowledge(delivery.key);
  }
  close();
  open(1);
  std::multiset<std::pair<std::string, std::string>> all;
  for (const auto& delivery : recovered()) all.emplace(delivery.target, spool().claim(delivery.key));
  EXPECT_EQ(all, (std::multiset<std::pair<std::string, std::string>>{{"b", "event of thread 0"},
                                                                     {"b", "event of thread 2"},
                                                                     {"a", "event of thread 1"},
                                                                     {"b", "event of thread 1"}}));
  EXPECT_FALSE(fs::exists(thread_directory(1)));
}

TEST_F(SpoolTest, DeadLetterKeepsTheLetterThenAcknowledges) {
  open();
  const auto key = *spool().append("e", deliveries_to({"f"}));
  DeadLetter letter;
  letter.id = "letter-1";
  letter.event = "e";
  spool().dead_letter({key, 0}, letter);
  EXPECT_EQ(dead_letters_.letters.count("letter-1"), 1U);
  EXPECT_EQ(spool().usage().pending, 0U);
  close();
  open();
  EXPECT_TRUE(recovered().empty());
}

TEST_F(SpoolTest, DurableCompletesInTheDefaultMode) {
  open();
  spool().append("e", deliveries_to({"f"}));
  await_durable();
}

TEST_F(SpoolTest, DurableWaitsForTheFsyncInFsyncMode) {
  SpoolOptions options;
  options.fsync = true;
  options.segment_bytes = 4096;
  open(1, options);
  // Many callers waiting at once, across segment rotations: every one completes.
  int done = 0;
  std::vector<std::uint64_t> keys;
  for (int i = 0; i < 100; ++i) {
    keys.push_back(*spool().append(std::string(100, 'e'), deliveries_to({"f"})));
    asio::co_spawn(io(), spool().durable(), [&](std::exception_ptr error) {
      EXPECT_FALSE(error);
      ++done;
    });
  }
  io().run();
  EXPECT_EQ(done, 100);
  for (const auto key : keys) spool().acknowledge({key, 0});
  await_durable();
  await_durable();  // nothing new: completes at once
  close();
  open(1, options);
  EXPECT_TRUE(recovered().empty());
}

}  // namespace
}  // namespace eg::delivery
