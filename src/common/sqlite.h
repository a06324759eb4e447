#pragma once
// What the gateway's own SQLite files (the embedded store, the local dead letters) share: one
// connection, statements prepared once, queries that reset them after use, and a database file
// private to its owner.
//
// Each user names its file in its messages and chooses the exception they are thrown as
// (SqliteErrors): the store's are StoreUnavailable, the dead letters' std::runtime_error. This layer
// knows neither.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace eg::common {

// How the failures of one database file become its user's exceptions.
struct SqliteErrors {
  // Begins each message about the file, as "<name> <file>: ...": "sqlite store", "dead letters".
  std::string name;
  // Throws the exception for `message`, which is complete; `locked` when SQLite's error was
  // SQLITE_BUSY (another connection holds the file's lock). It must throw a std::runtime_error or a
  // type derived from it; should it return, a std::runtime_error(message) is thrown.
  std::function<void(const std::string& message, bool locked)> raise;

  [[noreturn]] void fail(const std::string& message, bool locked = false) const;
};

// One connection to a database file, for one thread at a time (the user serializes its calls).
class Database {
 public:
  // Opens `file`, creating it if missing; a lock another connection holds is waited for up to
  // `busy_timeout`.
  Database(std::filesystem::path file, SqliteErrors errors, std::chrono::milliseconds busy_timeout);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_.get(); }
  const std::filesystem::path& file() const { return file_; }

  // Throws "<name> <file>: <what>: <SQLite's message>".
  [[noreturn]] void fail(std::string_view what) const;
  // Runs `sql`, one or more statements that return no rows.
  void execute(const std::string& sql);
  // The rows changed by the last INSERT, UPDATE or DELETE.
  int changes() const;

  // Creates the schema, or checks the one there, in one transaction: BEGIN EXCLUSIVE takes the file
  // lock now, so that a second process fails here rather than later. Refuses a file written by a
  // newer version (a PRAGMA user_version above `version`); runs `schema`, statements that leave
  // what exists as it is (CREATE TABLE IF NOT EXISTS), then `fill` when given (the rows a new file
  // needs), and records `version`.
  void create_schema(int version, const std::string& schema, const std::function<void()>& fill = {});

 private:
  struct Close {
    void operator()(sqlite3* db) const;
  };

  std::filesystem::path file_;
  SqliteErrors errors_;
  std::unique_ptr<sqlite3, Close> db_;
};

// A statement prepared once and reused for the life of the connection.
class Statement {
 public:
  Statement(Database& database, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

 private:
  friend class Query;
  Database& database_;
  sqlite3_stmt* statement_ = nullptr;
};

// One execution of a prepared statement: binds its parameters, steps through its rows, and resets the
// statement for its next use when it goes out of scope.
class Query {
 public:
  explicit Query(Statement& statement) : statement_(statement) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind_integer(int index, std::int64_t value);
  Query& bind_text(int index, std::string_view text);
  // Always a BLOB, never NULL, even when empty: the bytes stay exactly as they were (valid UTF-8 or
  // not), and compare bytewise (memcmp) against other BLOBs.
  Query& bind_bytes(int index, std::string_view bytes);
  Query& bind_bytes_or_null(int index, const std::optional<std::string>& bytes);

  // Advances to the next row; false when there is none.
  bool step();
  // Steps to the end (a DELETE ... RETURNING completes only then).
  void run();

  std::int64_t integer(int column) const;
  // The column's bytes: a BLOB's, or a TEXT's as stored.
  std::string bytes(int column) const;

 private:
  sqlite3_stmt* raw() const { return statement_.statement_; }
  Query& check_bind(int code);

  Statement& statement_;
};

// BEGIN IMMEDIATE, COMMIT and ROLLBACK, prepared once.
struct TransactionStatements {
  explicit TransactionStatements(Database& database);

  Statement begin, commit, rollback;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back when left without commit().
class Transaction {
 public:
  explicit Transaction(TransactionStatements& statements);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  TransactionStatements& statements_;
  bool committed_ = false;
};

// What prepare_private_database says of the directory, where `{}` stands for its path and, in
// open_to_others, `{:o}` for its mode.
struct PrivateDirectoryMessages {
  std::string cannot_create;    // followed by ": <why>"
  std::string cannot_restrict;  // followed by ": <why>"
  std::string open_to_others;   // a warning
  // Of the file: "<name> <file>: <cannot_make_private>: <why>".
  std::string cannot_make_private;
};

// Makes `<directory>/<file_name>` ready for SQLite to open as a file private to its owner, and
// returns its absolute path. A missing directory is created the owner's only (0700); one that exists
// keeps its mode (it may be shared: a home directory, /tmp, and only its owner should change that),
// with a warning when it is open to other users. SQLite creates a database file with mode 0644, and
// its -wal and -shm files with the mode of the database file: so the file is created (or set) 0600
// before SQLite opens it, and the companion files an older gateway left are set 0600 too.
std::filesystem::path prepare_private_database(const std::filesystem::path& directory,
                                               std::string_view file_name,
                                               const PrivateDirectoryMessages& messages,
                                               const SqliteErrors& errors);

}  // namespace eg::common
