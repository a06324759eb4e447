#pragma once
// Whom a delivery is for, as the spool keeps it (opaque text to the spool; JSON, so that a spool
// written by one version of the gateway stays readable by the next).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace eg::delivery {

struct DeliveryTarget {
  enum class Kind : char {
    Subscriber = 's',        // a custom or system event to a subscription's function
    DeadLetterNotice = 'd',  // a dead letter to the subscription's deadLetterFunctionId
  };
  Kind kind = Kind::Subscriber;
  std::string space;
  std::string subscription_id;
  std::string function_id;  // the function called: the subscriber's, or the dead-letter function
  unsigned hops = 0;         // gateways the event had passed before this one
  std::string system_event;  // the system event whose delivery led to the event, if any
  std::string dead_letter_id;  // a redelivery of this dead letter (Subscriber), or the letter (notice)

  // Deliveries with equal keys share one DeliveryTarget in memory.
  std::string key() const;
};

// An event id (a UUID, 36 characters) kept inline: one per pending delivery, no allocation.
using EventId = std::array<char, 36>;
EventId to_event_id(std::string_view id);
inline std::string_view view(const EventId& id) { return {id.data(), id.size()}; }

std::string encode_target(const DeliveryTarget& target, std::string_view event_id);
struct DecodedTarget {
  DeliveryTarget target;
  EventId event_id;
};
// Throws std::invalid_argument for text that encode_target did not write.
DecodedTarget decode_target(std::string_view text);

}  // namespace eg::delivery
