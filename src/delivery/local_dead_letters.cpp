#include "delivery/local_dead_letters.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/rate_limited_log.h"
#include "common/sqlite.h"

// How the local dead letters work:
//   - One table of letters. `seq` orders them: every put takes a sequence number higher than any
//     before (AUTOINCREMENT never reuses one, not even the number of a letter removed since), so
//     "newest first" is "highest seq first", and a replaced letter, deleted and inserted again,
//     becomes the newest.
//   - A page's cursor is the seq of its last letter, with a check that ties it to the space and to
//     this database (a random number drawn when the file was created): the next page is the letters
//     of the space below that seq, so pages neither repeat nor skip a letter, whatever is put or
//     removed meanwhile (a letter put or replaced meanwhile is newer than every page: it shows on a
//     listing from the start).
//   - The letters and bytes of each space are counted in memory (read once at open), so that the
//     bound is checked without a query; they change only with a committed transaction.
namespace eg::delivery {
namespace {

namespace fs = std::filesystem;

constexpr int kSchemaVersion = 1;
// Only another process can hold the file lock; wait that long for it before giving up.
constexpr std::chrono::milliseconds kBusyTimeout{1'000};
// Counted, besides its texts, for the columns and the index entries of a letter.
constexpr std::uint64_t kLetterOverheadBytes = 64;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  instance INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS letters (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  space TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  function_id TEXT NOT NULL,
  event BLOB NOT NULL,
  attempts INTEGER NOT NULL,
  first_attempt_ms INTEGER NOT NULL,
  last_attempt_ms INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  redelivering INTEGER NOT NULL,
  bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS letters_by_space ON letters (space, seq);
)sql";

constexpr const char* kLetterColumns =
    "id, space, subscription_id, function_id, event, attempts, first_attempt_ms, last_attempt_ms, "
    "last_error, redelivering, seq";

using common::Database;
using common::Query;
using common::Statement;
using common::Transaction;

// Its messages begin "dead letters <file>: ", and are thrown as std::runtime_error.
common::SqliteErrors letters_errors() {
  return {"dead letters", [](const std::string& message, bool locked) {
            // Only another process can hold the lock (the file is opened in exclusive locking mode).
            throw std::runtime_error(message +
                                     (locked ? " (is another gateway using the same directory? give each "
                                               "instance a -spool-dir of its own)"
                                             : ""));
          }};
}

// The file holds events.
const common::PrivateDirectoryMessages kDirectoryMessages{
    .cannot_create = "cannot create the directory of the dead letters {}",
    .cannot_restrict = "cannot restrict the directory of the dead letters {} to its owner",
    .open_to_others =
        "the directory {} of the dead letters is open to other users (mode {:o}) and holds events: "
        "chmod 700 it",
    .cannot_make_private = "cannot make the file private to its owner",
};

std::uint64_t size_of(const DeadLetter& letter) {
  return kLetterOverheadBytes + letter.id.size() + letter.space.size() + letter.subscription_id.size() +
         letter.function_id.size() + letter.event.size() + letter.last_error.size();
}

// FNV-1a: stable across builds and machines, unlike std::hash. It detects a cursor of another
// space or another database (and typing mistakes); it is no secret and protects nothing.
std::uint64_t cursor_check(std::uint64_t instance, std::string_view space, std::int64_t seq) {
  std::uint64_t hash = 14695981039346656037ULL;
  const auto mix = [&hash](std::string_view bytes) {
    for (const unsigned char byte : bytes) {
      hash ^= byte;
      hash *= 1099511628211ULL;
    }
  };
  char instance_bytes[8];
  for (int i = 0; i < 8; ++i) instance_bytes[i] = static_cast<char>((instance >> (8 * i)) & 0xff);
  mix(std::string_view(instance_bytes, sizeof instance_bytes));
  mix(space);
  mix(std::string_view("\0", 1));
  mix(std::to_string(seq));
  return hash;
}

// "<seq>.<check, 16 hex digits>"
std::string make_cursor(std::uint64_t instance, std::string_view space, std::int64_t seq) {
  char check[17];
  std::snprintf(check, sizeof check, "%016llx",
                static_cast<unsigned long long>(cursor_check(instance, space, seq)));
  return std::to_string(seq) + "." + check;
}

std::int64_t read_cursor(std::uint64_t instance, std::string_view space, std::string_view cursor) {
  const auto dot = cursor.find('.');
  std::int64_t seq = 0;
  const auto* seq_end = cursor.data() + std::min(dot, cursor.size());
  const auto [end, error] = std::from_chars(cursor.data(), seq_end, seq);
  // The whole cursor is compared: one with a leading zero or upper-case digits was not handed out.
  if (dot == std::string_view::npos || error != std::errc() || end != seq_end || seq <= 0 ||
      make_cursor(instance, space, seq) != cursor) {
    throw std::invalid_argument(
        "the cursor \"" + std::string(cursor) + "\" is not one that a page of the dead letters of space \"" +
        std::string(space) + "\" handed out (a cursor belongs to one space, on one gateway instance)");
  }
  return seq;
}

struct Usage {
  std::size_t letters = 0;
  std::uint64_t bytes = 0;
};

}  // namespace

struct LocalDeadLetters::Impl {
  Impl(const fs::path& directory, LocalDeadLettersOptions letters_options)
      : options(letters_options),
        database(common::prepare_private_database(directory, "deadletters.db", kDirectoryMessages,
                                                  letters_errors()),
                 letters_errors(), kBusyTimeout) {
    if (options.max_letters == 0) throw std::invalid_argument("dead letters: max_letters must be at least 1");
    configure();
    create_schema();
    statements = std::make_unique<Statements>(database);
    read_usage();
  }

  void configure() {
    // Exclusive before WAL: the WAL index then lives in this process's memory, not in a shared file,
    // and a second gateway on the same directory cannot write behind this one's counts.
    database.execute("PRAGMA locking_mode = EXCLUSIVE");
    database.execute("PRAGMA journal_mode = WAL");
    // In WAL mode NORMAL survives a crash of the process but may lose the last commits on a power
    // loss; FULL survives both, for an fsync per put. A dead letter is put, then its delivery leaves
    // the spool: the letters must be as durable as the spool's record of that, or a delivery could
    // be lost without a trace. So FULL when the spool runs power-loss-safe (-spool-fsync), and NORMAL
    // otherwise, where the spool itself promises no more than surviving a crash of the process, and
    // an fsync per letter on an event-loop thread would let a function that refuses every event
    // slow down the deliveries of every other.
    database.execute(options.fsync_each_letter ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
    // A removed letter (an operator may delete one because of what its event holds) is overwritten
    // with zeros rather than left in free pages.
    database.execute("PRAGMA secure_delete = ON");
  }

  void create_schema() {
    database.create_schema(kSchemaVersion, kSchema, [this] {
      Statement read_instance(database, "SELECT instance FROM meta");
      Query query(read_instance);
      if (query.step()) {
        instance = static_cast<std::uint64_t>(query.integer(0));
      } else {
        std::random_device random;
        instance = (static_cast<std::uint64_t>(random()) << 32) | random();
        Statement write_instance(database, "INSERT INTO meta (id, instance) VALUES (0, ?1)");
        Query(write_instance).bind_integer(1, static_cast<std::int64_t>(instance)).run();
      }
    });
  }

  void read_usage() {
    Statement per_space(database, "SELECT space, COUNT(*), SUM(bytes) FROM letters GROUP BY space");
    Query query(per_space);
    while (query.step()) {
      const Usage usage{static_cast<std::size_t>(query.integer(1)),
                        static_cast<std::uint64_t>(query.integer(2))};
      spaces.emplace(query.bytes(0), usage);
      total.letters += usage.letters;
      total.bytes += usage.bytes;
    }
  }

  struct Statements {
    explicit Statements(Database& database)
        : transactions(database),
          remove_id(database, "DELETE FROM letters WHERE id = ?1 RETURNING space, bytes"),
          remove_in_space(database, "DELETE FROM letters WHERE space = ?1 AND id = ?2 RETURNING bytes"),
          remove_oldest_of_space(
              database,
              "DELETE FROM letters WHERE seq = "
              "(SELECT seq FROM letters WHERE space = ?1 ORDER BY seq LIMIT 1) RETURNING id, bytes"),
          insert(database,
                 "INSERT INTO letters (id, space, subscription_id, function_id, event, attempts, "
                 "first_attempt_ms, "
                 "last_attempt_ms, last_error, redelivering, bytes) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
          select_one(database,
                     std::string("SELECT ") + kLetterColumns + " FROM letters WHERE space = ?1 AND id = ?2"),
          select_page(database, std::string("SELECT ") + kLetterColumns +
                                    " FROM letters WHERE space = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3"),
          mark(database, "UPDATE letters SET redelivering = 1 WHERE space = ?1 AND id = ?2") {}

    common::TransactionStatements transactions;
    Statement remove_id, remove_in_space, remove_oldest_of_space, insert;
    Statement select_one, select_page, mark;
  };

  static DeadLetter letter_from_row(const Query& row) {
    return DeadLetter{.id = row.bytes(0),
                      .space = row.bytes(1),
                      .subscription_id = row.bytes(2),
                      .function_id = row.bytes(3),
                      .event = row.bytes(4),
                      .attempts = static_cast<std::uint32_t>(row.integer(5)),
                      .first_attempt_ms = row.integer(6),
                      .last_attempt_ms = row.integer(7),
                      .last_error = row.bytes(8),
                      .redelivering = row.integer(9) != 0};
  }

  // The space whose oldest letter goes next when the letters are over a bound: the one that holds
  // the most letters (or bytes, when over the byte bound), not counting the letter just put, which
  // stays. None when that letter is all that is left.
  std::string victim_space(const std::map<std::string, Usage, std::less<>>& usage, std::string_view new_space,
                           std::uint64_t new_bytes, bool by_bytes) const {
    const std::string* victim = nullptr;
    std::uint64_t largest = 0;
    for (const auto& [space, counted] : usage) {
      const bool holds_new = space == new_space;
      const std::uint64_t share =
          by_bytes ? counted.bytes - (holds_new ? new_bytes : 0) : counted.letters - (holds_new ? 1 : 0);
      const bool others = counted.letters > (holds_new ? 1U : 0U);
      if (others && (victim == nullptr || share > largest)) {
        victim = &space;
        largest = share;
      }
    }
    return victim == nullptr ? std::string() : *victim;
  }

  void put(const DeadLetter& letter) {
    std::lock_guard lock(mutex);
    auto usage = spaces;  // the counts as they will be once committed
    auto counted = total;
    const auto subtract = [&](const std::string& space, std::uint64_t bytes) {
      auto& of_space = usage[space];
      of_space.letters -= 1;
      of_space.bytes -= bytes;
      counted.letters -= 1;
      counted.bytes -= bytes;
      if (of_space.letters == 0) usage.erase(space);
    };
    const auto bytes = size_of(letter);
    std::size_t trimmed = 0;
    std::string trimmed_space;
    std::string oldest_trimmed;

    Transaction transaction(statements->transactions);
    {
      Query replaced(statements->remove_id);
      replaced.bind_text(1, letter.id);
      if (replaced.step()) subtract(replaced.bytes(0), static_cast<std::uint64_t>(replaced.integer(1)));
    }
    Query(statements->insert)
        .bind_text(1, letter.id)
        .bind_text(2, letter.space)
        .bind_text(3, letter.subscription_id)
        .bind_text(4, letter.function_id)
        .bind_bytes(5, letter.event)
        .bind_integer(6, static_cast<std::int64_t>(letter.attempts))
        .bind_integer(7, letter.first_attempt_ms)
        .bind_integer(8, letter.last_attempt_ms)
        .bind_text(9, letter.last_error)
        .bind_integer(10, letter.redelivering ? 1 : 0)
        .bind_integer(11, static_cast<std::int64_t>(bytes))
        .run();
    auto& of_space = usage[letter.space];
    of_space.letters += 1;
    of_space.bytes += bytes;
    counted.letters += 1;
    counted.bytes += bytes;

    while (counted.letters > options.max_letters || counted.bytes > options.max_bytes) {
      const bool by_bytes = counted.letters <= options.max_letters;
      const auto victim = victim_space(usage, letter.space, bytes, by_bytes);
      if (victim.empty()) break;  // the letter just put is over max_bytes on its own: it stays
      Query oldest(statements->remove_oldest_of_space);
      oldest.bind_text(1, victim);
      if (!oldest.step())
        database.fail("the counts of the dead letters of space \"" + victim + "\" are wrong");
      if (trimmed == 0 || trimmed_space != victim) oldest_trimmed = oldest.bytes(0);
      trimmed_space = victim;
      ++trimmed;
      subtract(victim, static_cast<std::uint64_t>(oldest.integer(1)));
    }
    transaction.commit();
    spaces = std::move(usage);
    total = counted;
    if (trimmed > 0) {
      full.note("removed " + std::to_string(trimmed) + " of space \"" + trimmed_space + "\", the oldest \"" +
                oldest_trimmed + "\", to keep the dead letter " + letter.space + "/" + letter.id +
                " within their bound of " + std::to_string(options.max_letters) + " letters and " +
                std::to_string(options.max_bytes) + " bytes (docs/delivery.md, \"Dead letters\")");
    }
  }

  std::optional<DeadLetter> get(std::string_view space, std::string_view id) {
    std::lock_guard lock(mutex);
    Query query(statements->select_one);
    query.bind_text(1, space).bind_text(2, id);
    if (!query.step()) return std::nullopt;
    return letter_from_row(query);
  }

  DeadLetterPage list(std::string_view space, std::size_t limit, std::optional<std::string_view> cursor) {
    if (limit == 0) throw std::invalid_argument("a page of dead letters holds at least one letter");
    std::lock_guard lock(mutex);
    const auto below =
        cursor ? read_cursor(instance, space, *cursor) : std::numeric_limits<std::int64_t>::max();
    const auto wanted = std::min<std::size_t>(limit, std::numeric_limits<std::int32_t>::max() - 1);
    DeadLetterPage page;
    Query query(statements->select_page);
    query.bind_text(1, space).bind_integer(2, below).bind_integer(3, static_cast<std::int64_t>(wanted) + 1);
    std::int64_t last_seq = 0;
    while (query.step()) {
      if (page.letters.size() == wanted) {
        page.next = make_cursor(instance, space, last_seq);
        break;
      }
      page.letters.push_back(letter_from_row(query));
      last_seq = query.integer(10);
    }
    return page;
  }

  bool mark_redelivering(std::string_view space, std::string_view id) {
    std::lock_guard lock(mutex);
    Query(statements->mark).bind_text(1, space).bind_text(2, id).run();
    return database.changes() > 0;
  }

  bool remove(std::string_view space, std::string_view id) {
    std::lock_guard lock(mutex);
    std::uint64_t bytes = 0;
    {
      Query removed(statements->remove_in_space);
      removed.bind_text(1, space).bind_text(2, id);
      if (!removed.step()) return false;
      bytes = static_cast<std::uint64_t>(removed.integer(0));
      removed.run();  // a DELETE ... RETURNING completes when stepped to its end
    }
    const auto of_space = spaces.find(space);
    if (of_space != spaces.end()) {
      of_space->second.letters -= 1;
      of_space->second.bytes -= bytes;
      if (of_space->second.letters == 0) spaces.erase(of_space);
    }
    total.letters -= 1;
    total.bytes -= bytes;
    return true;
  }

  const LocalDeadLettersOptions options;
  mutable std::mutex mutex;
  Database database;
  std::unique_ptr<Statements> statements;  // after the schema exists; destroyed before the database
  std::uint64_t instance = 0;              // drawn when the file was created; ties cursors to it
  std::map<std::string, Usage, std::less<>> spaces;
  Usage total;
  common::RateLimitedWarning full{
      "dead letters full: the oldest letters of the space holding the most removed"};
};

LocalDeadLetters::LocalDeadLetters(const fs::path& directory, LocalDeadLettersOptions options)
    : impl_(std::make_unique<Impl>(directory, options)) {}

LocalDeadLetters::~LocalDeadLetters() = default;

void LocalDeadLetters::put(const DeadLetter& letter) { impl_->put(letter); }

std::optional<DeadLetter> LocalDeadLetters::get(std::string_view space, std::string_view id) {
  return impl_->get(space, id);
}

DeadLetterPage LocalDeadLetters::list(std::string_view space, std::size_t limit,
                                      std::optional<std::string_view> cursor) {
  return impl_->list(space, limit, cursor);
}

bool LocalDeadLetters::mark_redelivering(std::string_view space, std::string_view id) {
  return impl_->mark_redelivering(space, id);
}

bool LocalDeadLetters::remove(std::string_view space, std::string_view id) {
  return impl_->remove(space, id);
}

std::size_t LocalDeadLetters::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->total.letters;
}

std::uint64_t LocalDeadLetters::bytes() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->total.bytes;
}

}  // namespace eg::delivery
