#pragma once
// The local dead letters (dead_letters.h): one SQLite file, `<directory>/deadletters.db`, private to
// its owner (directory 0700 when created, file 0600), used through one connection under one mutex.
// Dead letters are rare, so every call simply takes the mutex; with fsync_each_letter, `put` waits
// for an fsync (see "synchronous" in local_dead_letters.cpp).
//
// Bounded (docs/delivery.md, "Dead letters"): beyond `max_letters` letters or `max_bytes` bytes, each
// put removes the oldest letters of the space that holds the most, with a rate-limited warning; the
// letter just put is never the one removed.
//
// The file is opened in SQLite's exclusive locking mode: a second gateway on the same directory fails
// to open it, rather than sharing one instance's dead letters with another.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "delivery/dead_letters.h"

namespace eg::delivery {

struct LocalDeadLettersOptions {
  // Letters kept in all, every space together.
  std::size_t max_letters = 100'000;
  // Bytes of letters kept (their events, ids and errors), every space together: an event may be as
  // large as -max-body-bytes, so a bound on the count alone would not bound the disk.
  std::uint64_t max_bytes = 1ULL << 30;
  // Each put is on disk before it returns (survives a power loss), as the spool's -spool-fsync mode
  // needs; without it, a put survives a crash of the process.
  bool fsync_each_letter = true;
};

class LocalDeadLetters : public DeadLetters {
 public:
  // Throws std::runtime_error saying why when the directory or file cannot be used.
  explicit LocalDeadLetters(const std::filesystem::path& directory, LocalDeadLettersOptions options = {});
  ~LocalDeadLetters() override;
  LocalDeadLetters(const LocalDeadLetters&) = delete;
  LocalDeadLetters& operator=(const LocalDeadLetters&) = delete;

  void put(const DeadLetter& letter) override;
  std::optional<DeadLetter> get(std::string_view space, std::string_view id) override;
  DeadLetterPage list(std::string_view space, std::size_t limit,
                      std::optional<std::string_view> cursor) override;
  bool mark_redelivering(std::string_view space, std::string_view id) override;
  bool remove(std::string_view space, std::string_view id) override;

  // Letters and bytes kept now, every space together.
  std::size_t size() const;
  std::uint64_t bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace eg::delivery
