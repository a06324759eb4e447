// The local dead letters (delivery/local_dead_letters.h): a real SQLite file in a temporary directory.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/captured_log.h"
#include "common/temporary_directory.h"
#include "delivery/local_dead_letters.h"

namespace eg::delivery {
namespace {

using testsupport::TemporaryDirectory;

DeadLetter letter(const std::string& id, const std::string& space = "s",
                  const std::string& event = R"({"n":1})") {
  return DeadLetter{.id = id,
                    .space = space,
                    .subscription_id = "user.created,f,%2F",
                    .function_id = "f",
                    .event = event,
                    .attempts = 3,
                    .first_attempt_ms = 1'700'000'000'000,
                    .last_attempt_ms = 1'700'000'060'000,
                    .last_error = "HTTP 400 from the function",
                    .redelivering = false};
}

std::vector<std::string> ids_of(const DeadLetterPage& page) {
  std::vector<std::string> ids;
  for (const auto& l : page.letters) ids.push_back(l.id);
  return ids;
}

// Every letter of `space`, page by page.
std::vector<std::string> all_pages(DeadLetters& letters, const std::string& space, std::size_t limit) {
  std::vector<std::string> ids;
  std::optional<std::string> cursor;
  do {
    const auto page = letters.list(space, limit, cursor);
    EXPECT_LE(page.letters.size(), limit);
    EXPECT_TRUE(!page.next || page.letters.size() == limit) << "a page before the last one is full";
    for (const auto& l : page.letters) ids.push_back(l.id);
    cursor = page.next;
  } while (cursor);
  return ids;
}

unsigned mode_of(const std::filesystem::path& path) {
  struct stat status {};
  EXPECT_EQ(::stat(path.c_str(), &status), 0) << path;
  return status.st_mode & 0777;
}

class LocalDeadLettersTest : public ::testing::Test {
 protected:
  LocalDeadLetters& open(LocalDeadLettersOptions options = {}) {
    letters_.reset();
    letters_ = std::make_unique<LocalDeadLetters>(directory(), options);
    return *letters_;
  }
  std::filesystem::path directory() const { return temp_.path() / "spool"; }

  TemporaryDirectory temp_;
  std::unique_ptr<LocalDeadLetters> letters_;
};

TEST_F(LocalDeadLettersTest, PutThenGetReturnsEveryField) {
  auto& letters = open();
  auto original = letter("a");
  original.event = std::string("{\"bytes\":\"\xff\x00\"}", 13);  // kept byte for byte, NUL and all
  original.redelivering = true;
  letters.put(original);
  const auto got = letters.get("s", "a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, "a");
  EXPECT_EQ(got->space, "s");
  EXPECT_EQ(got->subscription_id, original.subscription_id);
  EXPECT_EQ(got->function_id, "f");
  EXPECT_EQ(got->event, original.event);
  EXPECT_EQ(got->attempts, 3U);
  EXPECT_EQ(got->first_attempt_ms, original.first_attempt_ms);
  EXPECT_EQ(got->last_attempt_ms, original.last_attempt_ms);
  EXPECT_EQ(got->last_error, original.last_error);
  EXPECT_TRUE(got->redelivering);
}

TEST_F(LocalDeadLettersTest, SpacesIsolateLetters) {
  auto& letters = open();
  letters.put(letter("a", "one"));
  EXPECT_FALSE(letters.get("two", "a"));
  EXPECT_TRUE(letters.list("two", 10, std::nullopt).letters.empty());
  EXPECT_FALSE(letters.mark_redelivering("two", "a"));
  EXPECT_FALSE(letters.remove("two", "a"));
  EXPECT_TRUE(letters.get("one", "a"));
}

TEST_F(LocalDeadLettersTest, ListIsNewestFirst) {
  auto& letters = open();
  for (const auto* id : {"a", "b", "c"}) letters.put(letter(id));
  const auto page = letters.list("s", 10, std::nullopt);
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_FALSE(page.next);
}

TEST_F(LocalDeadLettersTest, PutOfAKnownIdReplacesItAndMakesItNewest) {
  auto& letters = open();
  for (const auto* id : {"a", "b", "c"}) letters.put(letter(id));
  auto again = letter("a");
  again.attempts = 7;
  again.last_error = "HTTP 410";
  letters.put(again);
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"a", "c", "b"}));
  EXPECT_EQ(letters.get("s", "a")->attempts, 7U);
  EXPECT_EQ(letters.get("s", "a")->last_error, "HTTP 410");
  EXPECT_EQ(letters.size(), 3U);
}

TEST_F(LocalDeadLettersTest, ReplacingMovesALetterToTheSpaceOfItsNewVersion) {
  auto& letters = open();
  letters.put(letter("a", "one"));
  letters.put(letter("a", "two"));
  EXPECT_FALSE(letters.get("one", "a"));
  EXPECT_TRUE(letters.get("two", "a"));
  EXPECT_EQ(letters.size(), 1U);
}

TEST_F(LocalDeadLettersTest, PagesCoverEveryLetterOnceInOrder) {
  auto& letters = open();
  std::vector<std::string> newest_first;
  for (int i = 0; i < 23; ++i) {
    letters.put(letter("l" + std::to_string(i)));
    letters.put(letter("other" + std::to_string(i), "other"));  // interleaved, in another space
    newest_first.insert(newest_first.begin(), "l" + std::to_string(i));
  }
  for (const std::size_t limit : {1, 5, 7, 22, 23, 24, 1000}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    EXPECT_EQ(all_pages(letters, "s", limit), newest_first);
  }
}

TEST_F(LocalDeadLettersTest, ALastPageExactlyFullHasNoNext) {
  auto& letters = open();
  for (const auto* id : {"a", "b", "c", "d"}) letters.put(letter(id));
  const auto first = letters.list("s", 2, std::nullopt);
  ASSERT_TRUE(first.next);
  const auto second = letters.list("s", 2, *first.next);
  EXPECT_EQ(ids_of(second), (std::vector<std::string>{"b", "a"}));
  EXPECT_FALSE(second.next);
}

TEST_F(LocalDeadLettersTest, ChangesWhilePagingNeitherRepeatNorSkipTheLettersThatStay) {
  auto& letters = open();
  for (int i = 0; i < 10; ++i) letters.put(letter("l" + std::to_string(i)));
  auto page = letters.list("s", 3, std::nullopt);  // l9 l8 l7
  EXPECT_EQ(ids_of(page), (std::vector<std::string>{"l9", "l8", "l7"}));
  letters.put(letter("new"));              // newer than every page: not on the next ones
  letters.put(letter("l8"));               // seen already, replaced: newest now, not shown again
  ASSERT_TRUE(letters.remove("s", "l7"));  // the cursor's own letter goes: the cursor still works
  ASSERT_TRUE(letters.remove("s", "l5"));  // an unseen letter goes: simply not shown
  std::vector<std::string> rest;
  while (page.next) {
    page = letters.list("s", 3, *page.next);
    for (const auto& l : page.letters) rest.push_back(l.id);
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"l6", "l4", "l3", "l2", "l1", "l0"}));
}

TEST_F(LocalDeadLettersTest, ACursorNoPageHandedOutIsInvalidArgument) {
  auto& letters = open();
  for (const auto* id : {"a", "b", "c"}) {
    letters.put(letter(id));
    letters.put(letter(std::string("x") + id, "other"));
  }
  const auto cursor = *letters.list("s", 1, std::nullopt).next;
  const auto other_space = *letters.list("other", 1, std::nullopt).next;
  EXPECT_NO_THROW(letters.list("s", 1, cursor));
  auto tampered = cursor;
  tampered[0] = tampered[0] == '9' ? '8' : static_cast<char>(tampered[0] + 1);
  auto upper = cursor;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](char c) { return std::toupper(c); });
  for (const std::string& bad : {std::string(), std::string("garbage"), std::string("3"), std::string("3."),
                                 std::string("-1.0000000000000000"), std::string(".") + cursor, cursor + "0",
                                 cursor.substr(0, cursor.size() - 1), tampered, other_space}) {
    SCOPED_TRACE("cursor \"" + bad + "\"");
    EXPECT_THROW(letters.list("s", 1, bad), std::invalid_argument);
  }
  if (upper != cursor) {
    EXPECT_THROW(letters.list("s", 1, upper), std::invalid_argument);
  }
  EXPECT_THROW(letters.list("s", 0, std::nullopt), std::invalid_argument);
}

TEST_F(LocalDeadLettersTest, ACursorOfAnotherDatabaseIsInvalidArgument) {
  auto& letters = open();
  for (const auto* id : {"a", "b"}) letters.put(letter(id));
  const auto cursor = *letters.list("s", 1, std::nullopt).next;
  TemporaryDirectory elsewhere;
  LocalDeadLetters other(elsewhere.path());
  for (const auto* id : {"a", "b"}) other.put(letter(id));
  EXPECT_THROW(other.list("s", 1, cursor), std::invalid_argument);
}

TEST_F(LocalDeadLettersTest, RemoveSaysWhetherTheLetterWasThere) {
  auto& letters = open();
  letters.put(letter("a"));
  letters.put(letter("b"));
  EXPECT_TRUE(letters.remove("s", "a"));
  EXPECT_FALSE(letters.remove("s", "a"));
  EXPECT_FALSE(letters.get("s", "a"));
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), std::vector<std::string>{"b"});
  EXPECT_EQ(letters.size(), 1U);
}

TEST_F(LocalDeadLettersTest, MarkRedeliveringKeepsTheLetterAndItsPlace) {
  auto& letters = open();
  for (const auto* id : {"a", "b"}) letters.put(letter(id));
  EXPECT_TRUE(letters.mark_redelivering("s", "a"));
  EXPECT_TRUE(letters.mark_redelivering("s", "a"));  // already marked: still there
  EXPECT_FALSE(letters.mark_redelivering("s", "nope"));
  EXPECT_TRUE(letters.get("s", "a")->redelivering);
  EXPECT_FALSE(letters.get("s", "b")->redelivering);
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"b", "a"}));
  // Failed for good again: the scheduler puts it back, newest, no longer redelivering.
  letters.put(letter("a"));
  EXPECT_FALSE(letters.get("s", "a")->redelivering);
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"a", "b"}));
}

TEST_F(LocalDeadLettersTest, LettersCountsAndCursorsSurviveAReopen) {
  std::string cursor;
  {
    auto& letters = open();
    for (const auto* id : {"a", "b", "c"}) letters.put(letter(id));
    letters.mark_redelivering("s", "b");
    cursor = *letters.list("s", 1, std::nullopt).next;
  }
  auto& letters = open();
  EXPECT_EQ(letters.size(), 3U);
  EXPECT_TRUE(letters.get("s", "b")->redelivering);
  EXPECT_EQ(ids_of(letters.list("s", 10, cursor)), (std::vector<std::string>{"b", "a"}));
  letters.put(letter("d"));  // sequence numbers go on after the reopen
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"d", "c", "b", "a"}));
}

TEST_F(LocalDeadLettersTest, TheDirectoryAndTheFileAreTheOwnersOnly) {
  open().put(letter("a"));
  EXPECT_EQ(mode_of(directory()), 0700U);
  EXPECT_EQ(mode_of(directory() / "deadletters.db"), 0600U);
  EXPECT_EQ(mode_of(directory() / "deadletters.db-wal"), 0600U);
}

TEST_F(LocalDeadLettersTest, ASecondOpenOfTheSameDirectoryFailsSayingWhy) {
  open();
  try {
    LocalDeadLetters second(directory());
    FAIL() << "a second open succeeded";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("deadletters.db"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("-spool-dir"), std::string::npos) << error.what();
  }
}

TEST_F(LocalDeadLettersTest, AnUnusableDirectoryIsARuntimeErrorSayingWhy) {
  const auto file = temp_.path() / "a-file";
  { std::ofstream(file) << "x"; }
  try {
    LocalDeadLetters letters(file / "spool");
    FAIL() << "opened under a file";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find((file / "spool").string()), std::string::npos) << error.what();
  }
}

TEST_F(LocalDeadLettersTest, BeyondMaxLettersTheOldestOfTheFullestSpaceGoWithOneWarning) {
  testsupport::CapturedLog log;
  auto& letters = open({.max_letters = 5});
  letters.put(letter("quiet-old", "quiet"));
  for (int i = 0; i < 4; ++i) letters.put(letter("noisy" + std::to_string(i), "noisy"));
  EXPECT_EQ(letters.size(), 5U);
  EXPECT_TRUE(log.lines().empty());
  for (int i = 4; i < 10; ++i) letters.put(letter("noisy" + std::to_string(i), "noisy"));
  EXPECT_EQ(letters.size(), 5U);
  // The quiet space keeps its letter, though it is the oldest of all.
  EXPECT_TRUE(letters.get("quiet", "quiet-old"));
  EXPECT_EQ(ids_of(letters.list("noisy", 10, std::nullopt)),
            (std::vector<std::string>{"noisy9", "noisy8", "noisy7", "noisy6"}));
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1U) << "rate-limited";
  EXPECT_NE(lines[0].find("dead letters full"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"noisy0\""), std::string::npos) << lines[0];
  // A new space's first letter takes the place of the fullest space's oldest.
  letters.put(letter("quiet-new", "quiet"));
  EXPECT_FALSE(letters.get("noisy", "noisy6"));
  EXPECT_TRUE(letters.get("quiet", "quiet-old"));
}

TEST_F(LocalDeadLettersTest, WithinOneSpaceTheOldestGo) {
  auto& letters = open({.max_letters = 3});
  for (int i = 0; i < 6; ++i) letters.put(letter("l" + std::to_string(i)));
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"l5", "l4", "l3"}));
}

TEST_F(LocalDeadLettersTest, TheBoundHoldsAcrossAReopen) {
  {
    auto& letters = open({.max_letters = 10});
    for (int i = 0; i < 6; ++i) letters.put(letter("l" + std::to_string(i)));
  }
  auto& letters = open({.max_letters = 3});  // lowered: the next put trims down to it
  letters.put(letter("l6"));
  EXPECT_EQ(letters.size(), 3U);
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"l6", "l5", "l4"}));
}

TEST_F(LocalDeadLettersTest, BeyondMaxBytesTheOldestGoButTheNewLetterStays) {
  const std::string kilobyte(1000, 'x');
  auto& letters = open({.max_bytes = 3500});
  for (int i = 0; i < 5; ++i) letters.put(letter("l" + std::to_string(i), "s", '"' + kilobyte + '"'));
  EXPECT_LE(letters.bytes(), 3500U);
  EXPECT_EQ(ids_of(letters.list("s", 10, std::nullopt)), (std::vector<std::string>{"l4", "l3", "l2"}));
  // Larger than the bound on its own: everything else goes, it stays.
  letters.put(letter("huge", "other", '"' + std::string(5000, 'y') + '"'));
  EXPECT_EQ(letters.size(), 1U);
  EXPECT_TRUE(letters.get("other", "huge"));
}

TEST_F(LocalDeadLettersTest, ConcurrentPutsAndReadsAreSafe) {
  auto& letters = open({.max_letters = 50});
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&letters, t] {
      const auto space = "space" + std::to_string(t % 2);
      for (int i = 0; i < 40; ++i) {
        const auto id = "t" + std::to_string(t) + "-" + std::to_string(i);
        letters.put(letter(id, space));
        letters.list(space, 10, std::nullopt);
        if (i % 3 == 0) letters.remove(space, id);
      }
    });
  }
  threads.clear();
  EXPECT_LE(letters.size(), 50U);
  EXPECT_EQ(all_pages(letters, "space0", 7).size() + all_pages(letters, "space1", 7).size(), letters.size());
}

TEST(DeadLetterJson, TheEventIsItsJsonOrElseItsText) {
  auto json = letter("a").to_json();
  EXPECT_EQ(json, (boost::json::object{{"deadLetterId", "a"},
                                       {"space", "s"},
                                       {"subscriptionId", "user.created,f,%2F"},
                                       {"functionId", "f"},
                                       {"event", boost::json::object{{"n", 1}}},
                                       {"attempts", 3},
                                       {"firstAttemptAt", 1'700'000'000'000},
                                       {"lastAttemptAt", 1'700'000'060'000},
                                       {"lastError", "HTTP 400 from the function"},
                                       {"redelivering", false}}));
  EXPECT_EQ(letter("a", "s", "not json {").to_json().at("event"), "not json {");
  EXPECT_EQ(letter("a", "s", "1e400").to_json().at("event"), "1e400");
}

TEST(OpenLocalDeadLetters, OpensTheFileInTheDirectory) {
  TemporaryDirectory temp;
  const auto letters = open_local_dead_letters(temp.path() / "spool", /*power_loss_safe=*/false);
  letters->put(letter("a"));
  EXPECT_TRUE(letters->get("s", "a"));
  EXPECT_TRUE(std::filesystem::exists(temp.path() / "spool" / "deadletters.db"));
}

}  // namespace
}  // namespace eg::delivery
