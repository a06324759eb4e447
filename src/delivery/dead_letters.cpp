#include "delivery/dead_letters.h"

#include "common/json.h"
#include "delivery/local_dead_letters.h"

namespace eg::delivery {

boost::json::object DeadLetter::to_json() const {
  // The event as its function received it: JSON when it is (every event the gateway makes is), its
  // text otherwise, so that a letter is always shown.
  auto parsed = common::parse_json(event);
  boost::json::value shown_event = parsed.ok() ? std::move(parsed.value) : boost::json::value(event);
  return boost::json::object{{"deadLetterId", id},
                             {"space", space},
                             {"subscriptionId", subscription_id},
                             {"functionId", function_id},
                             {"event", std::move(shown_event)},
                             {"attempts", attempts},
                             {"firstAttemptAt", first_attempt_ms},
                             {"lastAttemptAt", last_attempt_ms},
                             {"lastError", last_error},
                             {"redelivering", redelivering}};
}

std::unique_ptr<DeadLetters> open_local_dead_letters(const std::filesystem::path& directory,
                                                     bool power_loss_safe) {
  return std::make_unique<LocalDeadLetters>(directory, LocalDeadLettersOptions{.fsync_each_letter = power_loss_safe});
}

}  // namespace eg::delivery
