#include "events/event.h"

#include <boost/beast/core/string.hpp>
#include <boost/random/mersenne_twister.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>
#include <chrono>
#include <optional>

#include "common/base64.h"
#include "common/json.h"
#include "common/utf8.h"

namespace eg::events {

boost::json::object Event::to_json(boost::json::storage_ptr storage) const {
  constexpr std::size_t kMembers = 7;
  boost::json::object json(kMembers, std::move(storage));
  json.emplace("event", name);
  json.emplace("id", id);
  json.emplace("receivedAt", received_at);
  const auto& trace = provenance.trace;
  if (!trace.traceparent.empty()) json.emplace("traceparent", trace.traceparent);
  if (!trace.tracestate.empty()) json.emplace("tracestate", trace.tracestate);
  json.emplace("data", data);  // copied into the object's storage
  json.emplace("dataType", data_type);
  return json;
}

namespace {

// Appends what `serializer` writes to `text`: boost::json::serialize() would return a new string for
// every part.
void append_serialized(std::string& text, boost::json::serializer& serializer) {
  char chunk[1024];
  while (!serializer.done()) text.append(serializer.read(chunk, sizeof chunk));
}

// The JSON string value that starts right after `key` (`,"name":"`, its opening quote included) at
// `at` in `text`; `at` moves past its closing quote. Nothing when `key` is not there. Only the escapes
// JSON writes for printable ASCII (\" and \\) are undone by hand: a value with any other goes through
// the parser, far dearer than the rest of this.
std::optional<std::string> string_at(std::string_view text, std::size_t& at, std::string_view key) {
  if (text.substr(at, key.size()) != key) return std::nullopt;
  const auto start = at + key.size();
  const auto first_quote = text.find('"', start);
  if (first_quote == std::string_view::npos) return std::nullopt;
  if (text.substr(start, first_quote - start).find('\\') == std::string_view::npos) {
    at = first_quote + 1;
    return std::string(text.substr(start, first_quote - start));  // most values: no escape, one copy
  }
  bool other_escapes = false;
  auto end = start;
  for (; end < text.size() && text[end] != '"'; ++end) {
    if (text[end] != '\\') continue;
    if (++end < text.size()) other_escapes |= text[end] != '"' && text[end] != '\\';
  }
  if (end >= text.size()) return std::nullopt;
  at = end + 1;
  if (other_escapes) {
    boost::system::error_code error;
    const auto parsed = boost::json::parse(text.substr(start - 1, end - start + 2), error);
    if (error || !parsed.is_string()) return std::nullopt;
    return std::string(parsed.get_string());
  }
  const auto quoted = text.substr(start, end - start);
  std::string value;
  for (std::size_t i = 0; i < quoted.size(); ++i) value += quoted[i] == '\\' ? quoted[++i] : quoted[i];
  return value;
}

}  // namespace

net::TraceContext trace_context_in(std::string_view serialized_event) {
  // serialize() writes the trace context right after receivedAt's digits; before them come only
  // the name and the id, which hold no quote, so the first "receivedAt" is the event's own (for a
  // dead-letter notice, that of the event in the letter).
  constexpr std::string_view kReceivedAt = R"("receivedAt":)";
  auto at = serialized_event.find(kReceivedAt);
  if (at == std::string_view::npos) return {};
  at += kReceivedAt.size();
  while (at < serialized_event.size() && serialized_event[at] >= '0' && serialized_event[at] <= '9') ++at;
  auto traceparent = string_at(serialized_event, at, R"(,"traceparent":")");
  if (!traceparent || !net::is_valid_traceparent(*traceparent)) return {};
  return {std::move(*traceparent), string_at(serialized_event, at, R"(,"tracestate":")").value_or("")};
}

std::string event_name_in(std::string_view serialized_event) {
  // The first "event" member: the event's own, or for a dead-letter notice that of the letter's
  // event (the names before it hold no quote).
  constexpr std::string_view kName = R"("event":")";
  auto at = serialized_event.find(kName);
  if (at == std::string_view::npos) return {};
  return string_at(serialized_event, at, kName).value_or("");
}

namespace {

// The members every event's JSON has besides its data, in to_json()'s order.
struct EventFields {
  std::string_view name;
  std::string_view id;
  std::int64_t received_at = 0;
  const net::TraceContext& trace;
  std::string_view data_type;
};

// An event's JSON as text, with `write_data` writing the value of its "data" member.
// `known_data_bytes`: what the caller knows the data will take at least (the text of an event it
// embeds), made room for at once with the rest.
template <class WriteData>
std::string serialize_event(const EventFields& event, WriteData write_data,
                            std::size_t known_data_bytes = 0) {
  // Enough for a typical event in one allocation; a larger one grows by doubling.
  constexpr std::size_t kTypicalEventBytes = 1024;
  std::string text;
  text.reserve(kTypicalEventBytes + known_data_bytes);
  // Same member order as to_json().
  text += R"({"event":)";
  common::append_json_string(text, event.name);
  text += R"(,"id":)";
  common::append_json_string(text, event.id);
  text += R"(,"receivedAt":)";
  text += std::to_string(event.received_at);
  // Right after receivedAt, where trace_context_in() finds them.
  const auto& trace = event.trace;
  if (!trace.traceparent.empty()) {  // lowercase hex and dashes only (net::is_valid_traceparent)
    text += R"(,"traceparent":")";
    text += trace.traceparent;
    text += '"';
  }
  if (!trace.tracestate.empty()) {
    text += R"(,"tracestate":)";
    common::append_json_string(text, trace.tracestate);
  }
  text += R"(,"data":)";
  write_data(text);
  text += R"(,"dataType":)";
  common::append_json_string(text, event.data_type);
  text += '}';
  // Strings copied from requests and answers may hold any bytes; functions must get JSON they can parse.
  common::make_valid_utf8(text);
  return text;
}

}  // namespace

std::string Event::serialize() const {
  const EventFields fields{
      .name = name, .id = id, .received_at = received_at, .trace = provenance.trace, .data_type = data_type};
  return serialize_event(fields, [this](std::string& text) {
    boost::json::serializer serializer;
    serializer.reset(&data);
    append_serialized(text, serializer);
  });
}

std::string serialize_system_event(std::string_view name, const Provenance& cause, std::string_view about,
                                   const std::function<void(std::string&)>& write_members) {
  const auto id = new_event_id_chars();
  const EventFields fields{.name = name,
                           .id = std::string_view(id.data(), id.size()),
                           .received_at = now_millis(),
                           .trace = cause.trace,
                           .data_type = kJsonDataType};
  return serialize_event(
      fields,
      [&](std::string& text) {
        text += R"({"event":)";
        text += about;
        write_members(text);
        text += '}';
      },
      about.size());
}

void append_members(std::string& text, const boost::json::object& members) {
  boost::json::serializer serializer;
  for (const auto& member : members) {
    text += ',';
    common::append_json_string(text, member.key());
    text += ':';
    serializer.reset(&member.value());
    append_serialized(text, serializer);
  }
}

Event make_event(std::string name, std::string_view content_type, std::string_view body) {
  const auto data_type = content_type.empty() ? kDefaultDataType : content_type;
  // The data's objects, keys and strings in one arena that lives as long as the data: a few
  // allocations instead of one per member. (The arena is shared: it goes wherever the value goes.)
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>(body.size() + 256);
  return Event{.name = std::move(name),
               .id = new_event_id(),
               .received_at = now_millis(),
               .data_type = std::string(data_type),
               .data = encode_data(data_type, body, std::move(arena))};
}

Event make_json_event(std::string name, boost::json::value data) {
  return Event{.name = std::move(name),
               .id = new_event_id(),
               .received_at = now_millis(),
               .data_type = std::string(kJsonDataType),
               .data = std::move(data)};
}

Event make_system_event(std::string_view name, boost::json::value data, const Provenance& cause) {
  auto event = make_json_event(std::string(name), std::move(data));
  event.provenance.trace = cause.trace;
  return event;
}

boost::json::storage_ptr system_event_storage() {
  // Most system events' data fits in the first block; a larger one grows the arena by doubling.
  constexpr std::size_t kFirstBlockBytes = 4096;
  return boost::json::make_shared_resource<boost::json::monotonic_resource>(kFirstBlockBytes);
}

bool is_json_media_type(std::string_view content_type) {
  // "application/json; charset=utf-8" and "application/vnd.api+json" are JSON too.
  auto media_type = content_type.substr(0, content_type.find(';'));
  while (!media_type.empty() && media_type.back() == ' ') media_type.remove_suffix(1);
  if (boost::beast::iequals(media_type, "application/json")) return true;
  return media_type.size() > 5 && boost::beast::iequals(media_type.substr(media_type.size() - 5), "+json");
}

boost::json::value encode_data(std::string_view content_type, std::string_view body,
                               boost::json::storage_ptr storage) {
  if (!is_json_media_type(content_type))
    return boost::json::string(common::base64_encode(body), std::move(storage));
  if (body.empty()) return nullptr;
  auto data = common::parse_json(body, std::move(storage));
  if (!data.ok()) throw MalformedJson("the body holds " + data.error);
  return std::move(data.value);
}

EventIdChars new_event_id_chars() {
  // One Mersenne Twister per thread, seeded once from the OS: boost's default random_generator
  // asks the kernel for entropy on every UUID, a system call per event.
  thread_local boost::uuids::basic_random_generator<boost::random::mt19937> generator;
  EventIdChars id;
  boost::uuids::to_chars(generator(), id.begin());
  return id;
}

std::string new_event_id() {
  const auto id = new_event_id_chars();
  return std::string(id.data(), id.size());
}

std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace eg::events
