#pragma once
// What the Events API tells the web console's live traffic (observe::TrafficTap, docs/console.md):
// one line per event received and one per function call, built only when a browser watches the
// space. Call sites test observe::traffic_tap().watched() first (one relaxed load), so that nothing
// here runs while nobody watches.

#include <cstdint>
#include <string_view>

#include "events/event.h"
#include "model/function.h"
#include "providers/provider.h"

namespace eg::events {

// `received`: {"event","eventId","type" (custom, http, invoke),"time","traceId"[,"path"]}
void feed_received(std::string_view space, const Event& event, std::string_view type, std::string_view path);
// `call`: {"functionId","event","outcome" (as gateway_function_calls_total labels it),"status",
// "durationMs","traceId"[,"attempt"]}; `attempt` 0 for a synchronous call.
void feed_call(const model::Function& function, std::string_view event_name,
               const providers::CallResult& result, std::string_view outcome, std::uint32_t attempt,
               std::string_view trace_id);

}  // namespace eg::events
