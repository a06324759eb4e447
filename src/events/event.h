#pragma once
// The event every function receives (README "Event Definition"):
//   {"event": name, "id": UUID v4, "receivedAt": ms since epoch, "data": ..., "dataType": MIME type}
// JSON payloads (application/json and any +json type) travel as JSON; every other payload as base64.

#include <boost/json.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace eg::events {

inline constexpr std::string_view kDefaultDataType = "application/octet-stream";

// Where an event, or a call, comes from, as far as loops are concerned (docs/events.md, "Loops"):
// read from the marks on the request that brought it (providers::kHopsHeader, kSystemEventHeader)
// and passed on, one hop more, to every function called on its account.
struct Provenance {
  unsigned hops = 0;         // gateways the request had passed before this one
  std::string system_event;  // the system event whose delivery led to the request; empty for others
  // Whether what happens on its account is reported as system events: not when a system event's
  // delivery caused it, so that a subscriber is never told about its own invocations, even when its
  // URL leads back to a gateway.
  bool reported() const { return system_event.empty(); }
};

struct Event {
  std::string name;
  std::string id;
  std::int64_t received_at = 0;
  std::string data_type;
  boost::json::value data;
  // Not part of the JSON: what the calls made on the event's account tell the function.
  Provenance provenance;

  boost::json::object to_json() const;
  // The same JSON as text, written straight from the fields: what functions receive. Cheaper than
  // serializing to_json(), which copies `data`.
  std::string serialize() const;
};

// Thrown for a body that claims to be JSON and is not.
class MalformedJson : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A new event named `name`, stamped with a fresh id and the current time, carrying `body`.
// An empty `content_type` means application/octet-stream.
Event make_event(std::string name, std::string_view content_type, std::string_view body);
// Same, with data that is already JSON (http events, system events).
Event make_json_event(std::string name, boost::json::value data);

bool is_json_media_type(std::string_view content_type);
// The payload as event data: parsed JSON for JSON types (null when empty), base64 text otherwise.
boost::json::value encode_data(std::string_view content_type, std::string_view body,
                               boost::json::storage_ptr storage = {});

std::string new_event_id();
std::int64_t now_millis();

}  // namespace eg::events
