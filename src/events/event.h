#pragma once
// The event every function receives (README "Event Definition"):
//   {"event": name, "id": UUID v4, "receivedAt": ms since epoch, "traceparent": W3C trace context,
//    "data": ..., "dataType": MIME type}
// with "tracestate" after "traceparent" when the request had one (docs/events.md, "Trace context").
// JSON payloads (application/json and any +json type) travel as JSON; every other payload as base64.

#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/trace_context.h"

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
  // The request's W3C trace context, or the one the gateway started for it: passed on to every call
  // on its account, and part of the event's JSON (the only part of the provenance that is).
  net::TraceContext trace;
};

struct Event {
  std::string name;
  std::string id;
  std::int64_t received_at = 0;
  std::string data_type;
  boost::json::value data;
  // What the calls made on the event's account tell the function; of it, only the trace context is
  // part of the JSON.
  Provenance provenance;

  // In `storage` (the default resource when none): a system event's data puts its copy of the event
  // in the arena of system_event_storage().
  boost::json::object to_json(boost::json::storage_ptr storage = {}) const;
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
// A system event about what happened on `cause`'s account: it carries the cause's trace context.
Event make_system_event(std::string_view name, boost::json::value data, const Provenance& cause);
// The text make_system_event(name, data, cause).serialize() writes, where `data` is {"event": the
// event `about` is the serialize() text of, then the members `write_members` appends, each after a
// comma}: the event's text as the caller has it already (a function's call serialized it too), where
// the tree would copy the event's data and serialize it again. For the system events that go only to
// plugins, which take them as text.
std::string serialize_system_event(std::string_view name, const Provenance& cause, std::string_view about,
                                   const std::function<void(std::string&)>& write_members);
// Appends `,"name":value` for each member of `members`: write_members for serialize_system_event.
void append_members(std::string& text, const boost::json::object& members);
// Where a system event's data is built: one arena that lives as long as the data. The data copies
// the event it is about and the request's headers, a few dozen small strings and objects: in an
// arena, a few allocations instead of one each, all freed at once (a tenth of an async plugin's
// cost per request was malloc and free).
boost::json::storage_ptr system_event_storage();

// The trace context in an event's JSON as serialize() wrote it, read without parsing the rest;
// empty for an event that has none (one spooled by a gateway before trace context).
net::TraceContext trace_context_in(std::string_view serialized_event);
// The event's name, read the same way; empty when it has none.
std::string event_name_in(std::string_view serialized_event);

bool is_json_media_type(std::string_view content_type);
// The payload as event data: parsed JSON for JSON types (null when empty), base64 text otherwise.
boost::json::value encode_data(std::string_view content_type, std::string_view body,
                               boost::json::storage_ptr storage = {});

// The dataType of the events whose data the gateway writes as JSON (http and system events).
inline constexpr std::string_view kJsonDataType = "application/json";

// A fresh event id, a random (version 4) UUID; as its 36 characters, without a string to hold them.
using EventIdChars = std::array<char, 36>;
EventIdChars new_event_id_chars();
std::string new_event_id();
std::int64_t now_millis();

}  // namespace eg::events
