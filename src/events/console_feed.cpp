#include "events/console_feed.h"

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <string>

#include "common/utf8.h"
#include "observe/traffic_tap.h"

namespace eg::events {
namespace {

// The lines are appended by hand, not built as a boost::json::object nor with fmt: either cost
// thousands of instructions per line (fmt parses its format string on every call), paid on the Events
// API's thread for every event and call while someone watches. Ids, function ids, outcomes and trace
// ids are the gateway's own or validated names (letters, digits, '.', '_', '-'), written as they are;
// event names and paths are written as JSON strings, escaped and made valid UTF-8 (a path is the
// client's, and may hold any bytes).
void append_json_string(std::string& line, std::string_view text) {
  // Names and most paths need no escaping: printable ASCII without '"' and '\\'.
  const bool plain = std::all_of(text.begin(), text.end(), [](char byte) {
    return byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\';
  });
  if (plain) {
    line.append("\"").append(text).append("\"");
    return;
  }
  auto quoted = boost::json::serialize(boost::json::string_view(text.data(), text.size()));
  common::make_valid_utf8(quoted);
  line.append(quoted);
}

template <class Number>
void append_number(std::string& line, Number number) {
  char digits[32];
  const auto end = std::to_chars(digits, digits + sizeof digits, number).ptr;
  line.append(digits, end);
}

void append_milliseconds(std::string& line, double milliseconds) {
  char digits[32];
  const auto end =
      std::to_chars(digits, digits + sizeof digits, milliseconds, std::chars_format::fixed, 3).ptr;
  line.append(digits, end);
}

}  // namespace

void feed_received(std::string_view space, const Event& event, std::string_view type, std::string_view path) {
  auto& tap = observe::traffic_tap();
  if (!tap.watching(space)) return;
  auto line = observe::TrafficTap::start_line("received");
  line.append(R"({"event":)");
  append_json_string(line, event.name);
  line.append(R"(,"eventId":")").append(event.id);
  line.append(R"(","type":")").append(type);
  line.append(R"(","time":)");
  append_number(line, event.received_at);
  line.append(R"(,"traceId":")").append(event.provenance.trace.trace_id()).append("\"");
  if (!path.empty()) {
    line.append(R"(,"path":)");
    append_json_string(line, path);
  }
  line.push_back('}');
  tap.publish_line(space, std::move(line));
}

void feed_call(const model::Function& function, std::string_view event_name,
               const providers::CallResult& result, std::string_view outcome, std::uint32_t attempt,
               std::string_view trace_id) {
  auto& tap = observe::traffic_tap();
  if (!tap.watching(function.space)) return;
  auto line = observe::TrafficTap::start_line("call");
  line.append(R"({"functionId":")").append(function.function_id).append(R"(","event":)");
  append_json_string(line, event_name);
  line.append(R"(,"outcome":")").append(outcome).append(R"(","status":)");
  append_number(line, result.status);
  line.append(R"(,"durationMs":)");
  append_milliseconds(line, result.took.count());
  line.append(R"(,"traceId":")").append(trace_id).append(R"(","time":)");
  append_number(line, now_millis());
  if (attempt != 0) {
    line.append(R"(,"attempt":)");
    append_number(line, attempt);
  }
  line.push_back('}');
  tap.publish_line(function.space, std::move(line));
}

}  // namespace eg::events
