#include "delivery/target.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

namespace eg::delivery {
namespace {

// What the spool held before encode_target was written member by member: the object, serialized by
// Boost.JSON. Spools written that way must stay readable, and new ones must read the same.
std::string as_an_object_serialized(const DeliveryTarget& target, std::string_view event_id) {
  boost::json::object json{{"kind", std::string(1, static_cast<char>(target.kind))},
                           {"space", target.space},
                           {"subscriptionId", target.subscription_id},
                           {"functionId", target.function_id},
                           {"eventId", event_id},
                           {"hops", target.hops}};
  if (!target.system_event.empty()) json["systemEvent"] = target.system_event;
  if (!target.dead_letter_id.empty()) json["deadLetterId"] = target.dead_letter_id;
  return boost::json::serialize(json);
}

constexpr std::string_view kEventId = "0b9c5e4c-6a43-4ac4-8b5c-1b3b8d6c2a10";

std::vector<DeliveryTarget> targets() {
  return {
      {.space = "default", .subscription_id = "bench.emit,bench,%2Fone", .function_id = "bench"},
      {.kind = DeliveryTarget::Kind::DeadLetterNotice,
       .space = "team-a",
       .subscription_id = "s1",
       .function_id = "letters",
       .hops = 3,
       .system_event = "gateway.function.invoked",
       .dead_letter_id = std::string(kEventId) + "-1"},
      {.space = "quote \" backslash \\ newline \n", .subscription_id = "\x01", .function_id = "caf\xc3\xa9"},
  };
}

TEST(DeliveryTargetTest, IsWrittenAsTheSerializedObjectEarlierSpoolsHold) {
  for (const auto& target : targets()) {
    EXPECT_EQ(encode_target(target, kEventId), as_an_object_serialized(target, kEventId));
  }
}

TEST(DeliveryTargetTest, ReadsBackWhatItWrote) {
  for (const auto& target : targets()) {
    const auto decoded = decode_target(encode_target(target, kEventId));
    EXPECT_EQ(decoded.target.key(), target.key());
    EXPECT_EQ(view(decoded.event_id), kEventId);
  }
}

TEST(DeliveryTargetTest, RefusesTextItDidNotWrite) {
  EXPECT_THROW(decode_target("not json"), std::invalid_argument);
  EXPECT_THROW(decode_target(R"({"kind":"x","space":"s"})"), std::invalid_argument);
  EXPECT_THROW(decode_target(R"({"kind":"s","space":"s"})"), std::invalid_argument);
}

}  // namespace
}  // namespace eg::delivery
