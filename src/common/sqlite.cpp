#include "common/sqlite.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace eg::common {

namespace fs = std::filesystem;

void SqliteErrors::fail(const std::string& message, bool locked) const {
  if (raise) raise(message, locked);
  throw std::runtime_error(message);
}

void Database::Close::operator()(sqlite3* db) const { sqlite3_close_v2(db); }

Database::Database(fs::path file, SqliteErrors errors, std::chrono::milliseconds busy_timeout)
    : file_(std::move(file)), errors_(std::move(errors)) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int code = sqlite3_open_v2(file_.c_str(), &db, flags, nullptr);
  db_.reset(db);
  if (code != SQLITE_OK) fail("cannot open the database");
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
}

Database::~Database() = default;

void Database::fail(std::string_view what) const {
  const bool locked = sqlite3_errcode(db_.get()) == SQLITE_BUSY;
  errors_.fail(
      errors_.name + " " + file_.string() + ": " + std::string(what) + ": " + sqlite3_errmsg(db_.get()),
      locked);
}

void Database::execute(const std::string& sql) {
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

int Database::changes() const { return sqlite3_changes(db_.get()); }

void Database::create_schema(int version, const std::string& schema, const std::function<void()>& fill) {
  execute("BEGIN EXCLUSIVE");
  std::int64_t found = 0;
  {
    Statement read_version(*this, "PRAGMA user_version");
    Query query(read_version);
    if (query.step()) found = query.integer(0);
  }
  if (found > version) {
    errors_.fail(errors_.name + " " + file_.string() + ": written by a newer version (schema " +
                 std::to_string(found) + ")");
  }
  execute(schema);
  if (fill) fill();
  execute("PRAGMA user_version = " + std::to_string(version));
  execute("COMMIT");
}

Statement::Statement(Database& database, std::string_view sql) : database_(database) {
  if (sqlite3_prepare_v3(database.handle(), sql.data(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &statement_, nullptr) != SQLITE_OK) {
    database.fail("cannot prepare \"" + std::string(sql) + "\"");
  }
}

Statement::~Statement() { sqlite3_finalize(statement_); }

Query::~Query() {
  sqlite3_reset(raw());
  sqlite3_clear_bindings(raw());
}

Query& Query::bind_integer(int index, std::int64_t value) {
  return check_bind(sqlite3_bind_int64(raw(), index, value));
}

Query& Query::bind_text(int index, std::string_view text) {
  return check_bind(
      sqlite3_bind_text64(raw(), index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Query& Query::bind_bytes(int index, std::string_view bytes) {
  if (bytes.empty()) return check_bind(sqlite3_bind_zeroblob(raw(), index, 0));
  return check_bind(sqlite3_bind_blob64(raw(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
}

Query& Query::bind_bytes_or_null(int index, const std::optional<std::string>& bytes) {
  return bytes ? bind_bytes(index, *bytes) : check_bind(sqlite3_bind_null(raw(), index));
}

bool Query::step() {
  const int code = sqlite3_step(raw());
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  statement_.database_.fail(sqlite3_sql(raw()));
}

void Query::run() {
  while (step()) {
  }
}

std::int64_t Query::integer(int column) const { return sqlite3_column_int64(raw(), column); }

std::string Query::bytes(int column) const {
  // column_blob is NULL for an empty value, so ask for the size first.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(raw(), column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(raw(), column));
  return size == 0 ? std::string() : std::string(data, size);
}

Query& Query::check_bind(int code) {
  if (code != SQLITE_OK) statement_.database_.fail("cannot bind a parameter");
  return *this;
}

TransactionStatements::TransactionStatements(Database& database)
    : begin(database, "BEGIN IMMEDIATE"), commit(database, "COMMIT"), rollback(database, "ROLLBACK") {}

Transaction::Transaction(TransactionStatements& statements) : statements_(statements) {
  Query(statements.begin).run();
}

Transaction::~Transaction() {
  if (committed_) return;
  try {
    Query(statements_.rollback).run();
  } catch (const std::runtime_error&) {
    // SQLite has already rolled back after the errors that make ROLLBACK fail.
  }
}

void Transaction::commit() {
  Query(statements_.commit).run();
  committed_ = true;
}

namespace {

void prepare_directory(const fs::path& directory, const PrivateDirectoryMessages& messages,
                       const SqliteErrors& errors) {
  std::error_code error;
  const bool existed = fs::exists(directory, error);
  fs::create_directories(directory, error);
  if (error) {
    errors.fail(fmt::format(fmt::runtime(messages.cannot_create), directory.string()) + ": " +
                error.message());
  }
  if (!existed) {
    fs::permissions(directory, fs::perms::owner_all, fs::perm_options::replace, error);
    if (error) {
      errors.fail(fmt::format(fmt::runtime(messages.cannot_restrict), directory.string()) + ": " +
                  error.message());
    }
    return;
  }
  const auto mode = fs::status(directory, error).permissions();
  if (!error && (mode & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
    spdlog::warn(fmt::runtime(messages.open_to_others), directory.string(), static_cast<unsigned>(mode));
  }
}

void restrict_to_owner(const fs::path& file, const PrivateDirectoryMessages& messages,
                       const SqliteErrors& errors) {
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || ::fchmod(fd, 0600) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    errors.fail(errors.name + " " + file.string() + ": " + messages.cannot_make_private + ": " + why);
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const fs::path companion(file.string() + suffix);
    std::error_code error;
    if (fs::exists(companion, error)) {
      fs::permissions(companion, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                      error);
    }
  }
}

}  // namespace

fs::path prepare_private_database(const fs::path& directory, std::string_view file_name,
                                  const PrivateDirectoryMessages& messages, const SqliteErrors& errors) {
  prepare_directory(directory, messages, errors);
  auto file = fs::absolute(directory / file_name);
  restrict_to_owner(file, messages, errors);
  return file;
}

}  // namespace eg::common
