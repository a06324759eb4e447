#include "delivery/local_dead_letters.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
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
constexpr int kBusyTimeoutMs = 1'000;
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

struct CloseDatabase {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

class Database {
 public:
  explicit Database(fs::path file) : file_(std::move(file)) {
    sqlite3* db = nullptr;
    const int code = sqlite3_open_v2(
        file_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    db_.reset(db);
    if (code != SQLITE_OK) fail("cannot open the database");
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
  }

  sqlite3* handle() const { return db_.get(); }
  const fs::path& file() const { return file_; }

  [[noreturn]] void fail(std::string_view what) const {
    // Only another process can hold the lock (the file is opened in exclusive locking mode).
    const bool locked = sqlite3_errcode(db_.get()) == SQLITE_BUSY;
    throw std::runtime_error("dead letters " + file_.string() + ": " + std::string(what) + ": " +
                             sqlite3_errmsg(db_.get()) +
                             (locked ? " (is another gateway using the same directory? give each instance a "
                                       "-spool-dir of its own)"
                                     : ""));
  }
  void execute(const std::string& sql) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }

 private:
  fs::path file_;
  std::unique_ptr<sqlite3, CloseDatabase> db_;
};

// A statement prepared once, for the life of the connection.
class Statement {
 public:
  Statement(Database& database, const std::string& sql) : database_(database) {
    if (sqlite3_prepare_v3(database.handle(), sql.c_str(), static_cast<int>(sql.size()),
                           SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
      database.fail("cannot prepare \"" + sql + "\"");
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

 private:
  friend class Query;
  Database& database_;
  sqlite3_stmt* statement_ = nullptr;
};

// One execution of a statement; resets it for its next use when it goes out of scope.
class Query {
 public:
  explicit Query(Statement& statement) : statement_(statement) {}
  ~Query() {
    sqlite3_reset(raw());
    sqlite3_clear_bindings(raw());
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, std::int64_t value) { return check(sqlite3_bind_int64(raw(), index, value)); }
  Query& bind(int index, std::string_view text) {
    return check(sqlite3_bind_text64(raw(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  // A BLOB keeps the event's bytes exactly as they were, valid UTF-8 or not.
  Query& bind_blob(int index, std::string_view bytes) {
    if (bytes.empty()) return check(sqlite3_bind_zeroblob(raw(), index, 0));
    return check(sqlite3_bind_blob64(raw(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
  }

  bool step() {
    const int code = sqlite3_step(raw());
    if (code == SQLITE_ROW) return true;
    if (code == SQLITE_DONE) return false;
    statement_.database_.fail(sqlite3_sql(raw()));
  }
  void run() {
    while (step()) {
    }
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(raw(), column); }
  std::string text(int column) const {
    // column_blob is NULL for an empty value, so ask for the size first.
    const auto* data = static_cast<const char*>(sqlite3_column_blob(raw(), column));
    const auto size = static_cast<std::size_t>(sqlite3_column_bytes(raw(), column));
    return size == 0 ? std::string() : std::string(data, size);
  }

 private:
  sqlite3_stmt* raw() const { return statement_.statement_; }
  Query& check(int code) {
    if (code != SQLITE_OK) statement_.database_.fail("cannot bind a parameter");
    return *this;
  }

  Statement& statement_;
};

// A directory that exists keeps its mode (it may be shared); a new one is the owner's only.
void prepare_directory(const fs::path& directory) {
  std::error_code error;
  const bool existed = fs::exists(directory, error);
  fs::create_directories(directory, error);
  if (error) {
    throw std::runtime_error("cannot create the directory of the dead letters " + directory.string() + ": " +
                             error.message());
  }
  if (!existed) {
    fs::permissions(directory, fs::perms::owner_all, fs::perm_options::replace, error);
    if (error) {
      throw std::runtime_error("cannot restrict the directory of the dead letters " + directory.string() +
                               " to its owner: " + error.message());
    }
    return;
  }
  const auto mode = fs::status(directory, error).permissions();
  if (!error && (mode & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    spdlog::warn(
        "the directory {} of the dead letters is open to other users (mode {:o}) and holds events: "
        "chmod 700 it",
        directory.string(), static_cast<unsigned>(mode));
  }
}

// SQLite creates a database with mode 0644 and its -wal file with the database's mode: so the
// database is created (or set) 0600 before SQLite opens it.
fs::path private_database_file(const fs::path& directory) {
  prepare_directory(directory);
  auto file = fs::absolute(directory / "deadletters.db");
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("dead letters " + file.string() +
                             ": cannot make the file private to its owner: " + why);
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::error_code error;
    const fs::path companion(file.string() + suffix);
    if (fs::exists(companion, error)) {
      fs::permissions(companion, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                      error);
    }
  }
  return file;
}

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
      : options(letters_options), database(private_database_file(directory)) {
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
    // BEGIN EXCLUSIVE takes the file lock now, so a second process fails here rather than later.
    database.execute("BEGIN EXCLUSIVE");
    std::int64_t version = 0;
    {
      Statement read_version(database, "PRAGMA user_version");
      Query query(read_version);
      if (query.step()) version = query.integer(0);
    }
    if (version > kSchemaVersion) {
      throw std::runtime_error("dead letters " + database.file().string() +
                               ": written by a newer version (schema " + std::to_string(version) + ")");
    }
    database.execute(kSchema);
    {
      Statement read_instance(database, "SELECT instance FROM meta");
      Query query(read_instance);
      if (query.step()) {
        instance = static_cast<std::uint64_t>(query.integer(0));
      } else {
        std::random_device random;
        instance = (static_cast<std::uint64_t>(random()) << 32) | random();
        Statement write_instance(database, "INSERT INTO meta (id, instance) VALUES (0, ?1)");
        Query(write_instance).bind(1, static_cast<std::int64_t>(instance)).run();
      }
    }
    database.execute("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    database.execute("COMMIT");
  }

  void read_usage() {
    Statement per_space(database, "SELECT space, COUNT(*), SUM(bytes) FROM letters GROUP BY space");
    Query query(per_space);
    while (query.step()) {
      const Usage usage{static_cast<std::size_t>(query.integer(1)),
                        static_cast<std::uint64_t>(query.integer(2))};
      spaces.emplace(query.text(0), usage);
      total.letters += usage.letters;
      total.bytes += usage.bytes;
    }
  }

  struct Statements {
    explicit Statements(Database& database)
        : begin(database, "BEGIN IMMEDIATE"),
          commit(database, "COMMIT"),
          rollback(database, "ROLLBACK"),
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

    Statement begin, commit, rollback;
    Statement remove_id, remove_in_space, remove_oldest_of_space, insert;
    Statement select_one, select_page, mark;
  };

  // BEGIN IMMEDIATE ... COMMIT, rolled back when left without commit().
  class Transaction {
   public:
    explicit Transaction(Statements& statements) : statements_(statements) { Query(statements.begin).run(); }
    ~Transaction() {
      if (committed_) return;
      try {
        Query(statements_.rollback).run();
      } catch (const std::runtime_error&) {
        // SQLite has already rolled back after the errors that make ROLLBACK fail.
      }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
      Query(statements_.commit).run();
      committed_ = true;
    }

   private:
    Statements& statements_;
    bool committed_ = false;
  };

  static DeadLetter letter_from_row(const Query& row) {
    return DeadLetter{.id = row.text(0),
                      .space = row.text(1),
                      .subscription_id = row.text(2),
                      .function_id = row.text(3),
                      .event = row.text(4),
                      .attempts = static_cast<std::uint32_t>(row.integer(5)),
                      .first_attempt_ms = row.integer(6),
                      .last_attempt_ms = row.integer(7),
                      .last_error = row.text(8),
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

    Transaction transaction(*statements);
    {
      Query replaced(statements->remove_id);
      replaced.bind(1, letter.id);
      if (replaced.step()) subtract(replaced.text(0), static_cast<std::uint64_t>(replaced.integer(1)));
    }
    Query(statements->insert)
        .bind(1, letter.id)
        .bind(2, letter.space)
        .bind(3, letter.subscription_id)
        .bind(4, letter.function_id)
        .bind_blob(5, letter.event)
        .bind(6, static_cast<std::int64_t>(letter.attempts))
        .bind(7, letter.first_attempt_ms)
        .bind(8, letter.last_attempt_ms)
        .bind(9, letter.last_error)
        .bind(10, std::int64_t{letter.redelivering ? 1 : 0})
        .bind(11, static_cast<std::int64_t>(bytes))
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
      oldest.bind(1, victim);
      if (!oldest.step())
        database.fail("the counts of the dead letters of space \"" + victim + "\" are wrong");
      if (trimmed == 0 || trimmed_space != victim) oldest_trimmed = oldest.text(0);
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
    query.bind(1, space).bind(2, id);
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
    query.bind(1, space).bind(2, below).bind(3, static_cast<std::int64_t>(wanted) + 1);
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
    Query(statements->mark).bind(1, space).bind(2, id).run();
    return sqlite3_changes(database.handle()) > 0;
  }

  bool remove(std::string_view space, std::string_view id) {
    std::lock_guard lock(mutex);
    std::uint64_t bytes = 0;
    {
      Query removed(statements->remove_in_space);
      removed.bind(1, space).bind(2, id);
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
