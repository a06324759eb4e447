#pragma once
// Deliveries that failed for good, kept durably until an operator redelivers or deletes them
// (docs/delivery.md, "Dead letters"). Shared by every thread of the gateway: thread-safe.
//
// The local dead letters are a SQLite database next to the spool (deadletters.db, mode 0600: events
// may hold personal data).

#include <boost/json.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eg::delivery {

struct DeadLetter {
  std::string id;  // unique in the gateway; the same for every attempt to dead-letter one delivery
  std::string space;
  std::string subscription_id;
  std::string function_id;
  std::string event;  // the event's JSON text, exactly as the function received it
  std::uint32_t attempts = 0;
  std::int64_t first_attempt_ms = 0;  // milliseconds since the Unix epoch
  std::int64_t last_attempt_ms = 0;
  std::string last_error;
  // Set while the letter is being delivered again (POST .../redeliver): it stays a dead letter
  // until that delivery succeeds, and is updated if it fails for good again.
  bool redelivering = false;

  // The Configuration API's form:
  //   {"deadLetterId", "space", "subscriptionId", "functionId", "event": {...}, "attempts",
  //    "firstAttemptAt", "lastAttemptAt", "lastError", "redelivering"}
  // (times in milliseconds since the epoch, as the event's receivedAt).
  boost::json::object to_json() const;
};

struct DeadLetterPage {
  std::vector<DeadLetter> letters;  // newest first
  std::optional<std::string> next;  // cursor of the next page, when there is one
};

class DeadLetters {
 public:
  virtual ~DeadLetters() = default;
  // Inserts `letter`, or replaces the one with its id (newest again).
  virtual void put(const DeadLetter& letter) = 0;
  virtual std::optional<DeadLetter> get(std::string_view space, std::string_view id) = 0;
  // At most `limit` letters of `space`, newest first, starting after `cursor` (from a previous page).
  // Throws std::invalid_argument for a cursor that no page handed out.
  virtual DeadLetterPage list(std::string_view space, std::size_t limit,
                              std::optional<std::string_view> cursor) = 0;
  // Marks a letter as being redelivered; false when there is no such letter.
  virtual bool mark_redelivering(std::string_view space, std::string_view id) = 0;
  // False when there was no such letter.
  virtual bool remove(std::string_view space, std::string_view id) = 0;
};

// The dead letters in `<directory>/deadletters.db`, created (directory 0700, file 0600) when missing,
// each put on disk before it returns when `power_loss_safe`. Throws std::runtime_error saying why
// when the file cannot be used.
std::unique_ptr<DeadLetters> open_local_dead_letters(const std::filesystem::path& directory, bool power_loss_safe);

}  // namespace eg::delivery
