#pragma once
// A NotifyRequest (proto/plugin/v1/reacter.proto) as the bytes protobuf serializes it to, written
// event by event as the async events are queued. Built as protobuf objects instead, each event cost
// a ReactRequest and three strings on the heap, all serialized again at the write and freed on
// another thread: a third of what telling an async plugin of an event cost the gateway (perf).
// Part of the plugin module (cmake/plugin.cmake), which sends these bytes as they are
// (grpc_reacter_client.cpp), without a copy.
//
// The encoding is protobuf's wire format (protobuf.dev/programming-guides/encoding): the message is
// its repeated field 1 (`events`), each a length-delimited ReactRequest, which is its field 1
// (`event_type`) and field 2 (`event`), both length-delimited. Protobuf's own varint writer is used;
// the fields are laid out here because protobuf only writes from message objects.

#include <google/protobuf/io/coded_stream.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace eg::plugin {
namespace wire {
// A length-delimited field's key: its number, and wire type 2 in the low three bits.
constexpr std::uint8_t length_delimited_key(unsigned field) {
  return static_cast<std::uint8_t>(field << 3 | 2);
}
}  // namespace wire

class EncodedNotifyRequest {
 public:
  // Appends one event, as NotifyRequest.events would hold it.
  void append(std::string_view event_type, std::string_view event) {
    const auto react_request_bytes = field_bytes(event_type.size()) + field_bytes(event.size());
    append_key_and_length(kEventsField, react_request_bytes);
    append_key_and_length(kEventTypeField, event_type.size());
    bytes_->append(event_type);
    append_key_and_length(kEventField, event.size());
    bytes_->append(event);
    ++events_;
  }

  // Makes room for `bytes` at once, rather than growing as events come.
  void reserve(std::size_t bytes) { bytes_->reserve(bytes); }

  std::size_t events() const { return events_; }
  std::size_t size() const { return bytes_->size(); }
  // The bytes, shared with whoever sends them: they stay alive as long as it needs them.
  std::shared_ptr<const std::string> bytes() const { return bytes_; }

 private:
  static constexpr std::uint8_t kEventsField = wire::length_delimited_key(1);     // NotifyRequest.events
  static constexpr std::uint8_t kEventTypeField = wire::length_delimited_key(1);  // ReactRequest.event_type
  static constexpr std::uint8_t kEventField = wire::length_delimited_key(2);      // ReactRequest.event

  // What a length-delimited field of `length` bytes takes: its key (one byte, for fields below 16),
  // the length's varint and the bytes.
  static std::size_t field_bytes(std::size_t length) {
    return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(length) + length;
  }

  void append_key_and_length(std::uint8_t key, std::size_t length) {
    constexpr std::size_t kLongestVarint = 10;
    std::uint8_t prefix[1 + kLongestVarint];
    prefix[0] = key;
    const auto* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(length, prefix + 1);
    bytes_->append(reinterpret_cast<const char*>(prefix), static_cast<std::size_t>(end - prefix));
  }

  std::shared_ptr<std::string> bytes_ = std::make_shared<std::string>();
  std::size_t events_ = 0;
};

}  // namespace eg::plugin
