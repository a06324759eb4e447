#include "events/console_feed.h"

#include <boost/json.hpp>
#include <string>

#include "common/utf8.h"
#include "observe/traffic_tap.h"

namespace eg::events {
namespace {

void publish(std::string_view space, std::string_view kind, const boost::json::object& line) {
  auto text = boost::json::serialize(line);
  common::make_valid_utf8(text);  // a path is the client's, and may hold any bytes
  observe::traffic_tap().publish(space, kind, text);
}

}  // namespace

void feed_received(std::string_view space, const Event& event, std::string_view type, std::string_view path) {
  if (!observe::traffic_tap().watching(space)) return;
  boost::json::object line{{"event", event.name},
                           {"eventId", event.id},
                           {"type", type},
                           {"time", event.received_at},
                           {"traceId", event.provenance.trace.trace_id()}};
  if (!path.empty()) line["path"] = path;
  publish(space, "received", line);
}

void feed_call(const model::Function& function, std::string_view event_name,
               const providers::CallResult& result, std::string_view outcome, std::uint32_t attempt,
               std::string_view trace_id) {
  if (!observe::traffic_tap().watching(function.space)) return;
  boost::json::object line{{"functionId", function.function_id},
                           {"event", event_name},
                           {"outcome", outcome},
                           {"status", result.status},
                           {"durationMs", result.took.count()},
                           {"traceId", trace_id},
                           {"time", now_millis()}};
  if (attempt != 0) line["attempt"] = attempt;
  publish(function.space, "call", line);
}

}  // namespace eg::events
