// The async events' messages as the gateway writes them (src/plugin/encoded_notify_request.h): what
// protobuf parses them to must be the NotifyRequest a plugin expects.

#include "plugin/encoded_notify_request.h"

#include <gtest/gtest.h>

#include <string>

#include "plugin/v1/reacter.pb.h"

namespace {

eventgateway::plugin::v1::NotifyRequest parsed(const eg::plugin::EncodedNotifyRequest& message) {
  eventgateway::plugin::v1::NotifyRequest request;
  EXPECT_TRUE(request.ParseFromString(*message.bytes()));
  return request;
}

TEST(EncodedNotifyRequest, ParsesAsTheNotifyRequestOfItsEvents) {
  eg::plugin::EncodedNotifyRequest message;
  EXPECT_EQ(parsed(message).events_size(), 0);

  // Lengths around the varints' limits: one byte up to 127, two up to 16383, then three.
  const std::string small = R"({"event":"gateway.event.received"})";
  const std::string two_bytes(200, 'x');
  const std::string three_bytes(70'000, 'y');
  const std::string binary("\0\xff\x0a\x12", 4);
  message.append("gateway.event.received", small);
  message.append("gateway.function.invoked", two_bytes);
  message.append("gateway.function.invocationFailed", three_bytes);
  message.append("", binary);
  message.append("gateway.function.invoking", "");

  const auto request = parsed(message);
  ASSERT_EQ(request.events_size(), 5);
  EXPECT_EQ(message.events(), 5U);
  EXPECT_EQ(request.events(0).event_type(), "gateway.event.received");
  EXPECT_EQ(request.events(0).event(), small);
  EXPECT_TRUE(request.events(1).event() == two_bytes);
  EXPECT_EQ(request.events(2).event_type(), "gateway.function.invocationFailed");
  EXPECT_TRUE(request.events(2).event() == three_bytes);
  EXPECT_EQ(request.events(3).event_type(), "");
  EXPECT_EQ(request.events(3).event(), binary);
  EXPECT_EQ(request.events(4).event(), "");
  EXPECT_EQ(message.size(), message.bytes()->size());
}

// Protobuf leaves empty fields out, which the encoding writes (both parse the same): with none, the
// bytes are protobuf's own.
TEST(EncodedNotifyRequest, IsWhatProtobufSerializesWhenNoFieldIsEmpty) {
  eg::plugin::EncodedNotifyRequest message;
  eventgateway::plugin::v1::NotifyRequest built;
  for (const auto* event_type : {"gateway.event.received", "gateway.function.invoked"}) {
    const std::string event = std::string(R"({"event":")") + event_type + R"("})" + std::string(300, ' ');
    message.append(event_type, event);
    auto* added = built.add_events();
    added->set_event_type(event_type);
    added->set_event(event);
  }
  EXPECT_TRUE(*message.bytes() == built.SerializeAsString());  // not EXPECT_EQ: no page of bytes on failure
}

}  // namespace
