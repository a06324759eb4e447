// The SQLite wrapper the embedded store and the local dead letters share (src/common/sqlite.h).

#include "common/sqlite.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/captured_log.h"
#include "common/temporary_directory.h"

namespace {

using eg::common::Database;
using eg::common::PrivateDirectoryMessages;
using eg::common::Query;
using eg::common::SqliteErrors;
using eg::common::Statement;
using eg::common::Transaction;
using eg::common::TransactionStatements;
using testsupport::TemporaryDirectory;
namespace fs = std::filesystem;

// The exception of a user of the wrapper, which says whether SQLite said the file was locked.
struct TestError : std::runtime_error {
  TestError(const std::string& message, bool was_locked) : std::runtime_error(message), locked(was_locked) {}
  bool locked;
};

SqliteErrors test_errors() {
  return {"test db", [](const std::string& message, bool locked) { throw TestError(message, locked); }};
}

const PrivateDirectoryMessages kMessages{
    .cannot_create = "cannot create the test directory {}",
    .cannot_restrict = "cannot restrict the test directory {}",
    .open_to_others = "the test directory {} is open to others (mode {:o})",
    .cannot_make_private = "cannot make it private",
};

unsigned mode_of(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return 0;
  return status.st_mode & 0777;
}

template <typename Call>
TestError thrown_by(const Call& call) {
  try {
    call();
  } catch (const TestError& error) {
    return error;
  }
  ADD_FAILURE() << "nothing thrown";
  return TestError("", false);
}

TEST(SqliteTest, AFailureNamesTheFileAndIsTheUsersException) {
  TemporaryDirectory directory;
  const auto file = directory.path() / "a.db";
  Database database(file, test_errors(), std::chrono::milliseconds(0));
  const auto error = thrown_by([&] { database.execute("NOT SQL"); });
  EXPECT_EQ(std::string(error.what()).rfind("test db " + file.string() + ": NOT SQL: ", 0), 0U)
      << error.what();
  EXPECT_NE(std::string(error.what()).find("syntax error"), std::string::npos) << error.what();
  EXPECT_FALSE(error.locked);
}

TEST(SqliteTest, AFileLockedByAnotherConnectionIsSaidToBeLocked) {
  TemporaryDirectory directory;
  const auto file = directory.path() / "a.db";
  Database first(file, test_errors(), std::chrono::milliseconds(0));
  first.execute("PRAGMA locking_mode = EXCLUSIVE");
  first.execute("BEGIN EXCLUSIVE");
  first.execute("CREATE TABLE t (x)");
  Database second(file, test_errors(), std::chrono::milliseconds(0));
  const auto error = thrown_by([&] { second.execute("SELECT * FROM t"); });
  EXPECT_TRUE(error.locked) << error.what();
}

TEST(SqliteTest, ARaiseThatReturnsStillThrows) {
  TemporaryDirectory directory;
  Database database(directory.path() / "a.db", {"test db", [](const std::string&, bool) {}},
                    std::chrono::milliseconds(0));
  EXPECT_THROW(database.execute("NOT SQL"), std::runtime_error);
}

TEST(SqliteTest, BytesKeepEveryByteAndEmptyIsNotNull) {
  TemporaryDirectory directory;
  Database database(directory.path() / "a.db", test_errors(), std::chrono::milliseconds(0));
  database.execute("CREATE TABLE t (n INTEGER, b BLOB, s TEXT)");
  Statement insert(database, "INSERT INTO t (n, b, s) VALUES (?1, ?2, ?3)");
  Statement select(database, "SELECT n, b, s, b IS NULL FROM t ORDER BY n");
  const std::string binary("a\0\xff", 3);
  Query(insert).bind_integer(1, 1).bind_bytes(2, binary).bind_text(3, "text").run();
  Query(insert).bind_integer(1, 2).bind_bytes(2, "").bind_text(3, "").run();
  Query(insert).bind_integer(1, 3).bind_bytes_or_null(2, std::nullopt).bind_text(3, "").run();
  Query rows(select);
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.integer(0), 1);
  EXPECT_EQ(rows.bytes(1), binary);
  EXPECT_EQ(rows.bytes(2), "text");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.bytes(1), "");
  EXPECT_EQ(rows.integer(3), 0) << "an empty BLOB, not NULL";
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.integer(3), 1);
  EXPECT_FALSE(rows.step());
}

TEST(SqliteTest, ATransactionLeftWithoutCommitIsRolledBack) {
  TemporaryDirectory directory;
  Database database(directory.path() / "a.db", test_errors(), std::chrono::milliseconds(0));
  database.execute("CREATE TABLE t (x)");
  TransactionStatements transactions(database);
  Statement insert(database, "INSERT INTO t (x) VALUES (?1)");
  Statement count(database, "SELECT COUNT(*) FROM t");
  {
    Transaction transaction(transactions);
    Query(insert).bind_integer(1, 1).run();
    transaction.commit();
  }
  {
    Transaction transaction(transactions);
    Query(insert).bind_integer(1, 2).run();
  }
  Query rows(count);
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.integer(0), 1);
}

TEST(SqliteTest, ASchemaOfANewerVersionIsRefused) {
  TemporaryDirectory directory;
  const auto file = directory.path() / "a.db";
  {
    Database database(file, test_errors(), std::chrono::milliseconds(0));
    database.create_schema(2, "CREATE TABLE IF NOT EXISTS t (x);");
  }
  Database database(file, test_errors(), std::chrono::milliseconds(0));
  bool filled = false;
  database.create_schema(2, "CREATE TABLE IF NOT EXISTS t (x);", [&] { filled = true; });
  EXPECT_TRUE(filled);
  const auto error = thrown_by([&] { database.create_schema(1, "CREATE TABLE IF NOT EXISTS t (x);"); });
  EXPECT_EQ(std::string(error.what()),
            "test db " + file.string() + ": written by a newer version (schema 2)");
}

TEST(SqliteTest, APrivateDatabaseIsTheOwnersOnly) {
  TemporaryDirectory directory;
  const auto dir = directory.path() / "new" / "nested";
  const auto file = eg::common::prepare_private_database(dir, "a.db", kMessages, test_errors());
  EXPECT_EQ(file, fs::absolute(dir / "a.db"));
  EXPECT_EQ(mode_of(dir), 0700U);
  EXPECT_EQ(mode_of(file), 0600U);
  Database database(file, test_errors(), std::chrono::milliseconds(0));
  database.execute("PRAGMA journal_mode = WAL");
  database.execute("CREATE TABLE t (x)");
  EXPECT_EQ(mode_of(file.string() + "-wal"), 0600U);
}

TEST(SqliteTest, AnExistingDirectoryKeepsItsModeWithAWarningAndItsFilesAreMadePrivate) {
  TemporaryDirectory directory;
  const auto dir = directory.path() / "shared";
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms(0755), fs::perm_options::replace);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::ofstream(dir / (std::string("a.db") + suffix));
    fs::permissions(dir / (std::string("a.db") + suffix), fs::perms(0644), fs::perm_options::replace);
  }
  testsupport::CapturedLog log;
  const auto file = eg::common::prepare_private_database(dir, "a.db", kMessages, test_errors());
  EXPECT_EQ(mode_of(dir), 0755U);
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    EXPECT_EQ(mode_of(file.string() + suffix), 0600U);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_EQ(lines[0], "the test directory " + dir.string() + " is open to others (mode 755)\n");
}

TEST(SqliteTest, AnUnusableDirectoryOrFileIsTheUsersException) {
  TemporaryDirectory directory;
  const auto a_file = directory.path() / "a-file";
  std::ofstream(a_file) << "x";
  auto error = thrown_by(
      [&] { eg::common::prepare_private_database(a_file / "sub", "a.db", kMessages, test_errors()); });
  EXPECT_EQ(std::string(error.what())
                .rfind("cannot create the test directory " + (a_file / "sub").string() + ": ", 0),
            0U)
      << error.what();
  fs::create_directories(directory.path() / "dir" / "a.db");
  testsupport::CapturedLog log;  // "dir" is open to others, as the umask made it
  error = thrown_by([&] {
    eg::common::prepare_private_database(directory.path() / "dir", "a.db", kMessages, test_errors());
  });
  EXPECT_EQ(std::string(error.what()), "test db " + (directory.path() / "dir" / "a.db").string() +
                                           ": cannot make it private: Is a directory");
}

}  // namespace
