#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate` headers
// that tie a request to the calls it causes. The gateway records no spans of its own: it passes a
// caller's context on unchanged to every function call the request causes, and starts a trace for
// a request that brings none (docs/events.md, "Trace context").

#include <string>
#include <string_view>

namespace eg::net {

inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kTracestateHeader = "tracestate";

struct TraceContext {
  std::string traceparent;  // "<version>-<32 hex trace id>-<16 hex parent id>-<2 hex flags>[-...]"
  std::string tracestate;   // vendors' entries, passed on as received; may be empty

  // The 32 lowercase hex digits that name the trace: what the logs call traceId. Empty for no context.
  std::string_view trace_id() const {
    return traceparent.size() < 35 ? std::string_view() : std::string_view(traceparent).substr(3, 32);
  }
};

// Whether `value` is a traceparent header a receiver may pass on: version 00 exactly, or a later
// version (not ff) whose first 55 characters follow version 00's form; trace and parent ids not all
// zeros; lowercase hex only.
bool is_valid_traceparent(std::string_view value);

// The request's trace context when `traceparent` is valid (with `tracestate`, which only means
// something beside it); otherwise a new trace: random trace and parent ids, sampled.
TraceContext trace_context_of(std::string_view traceparent, std::string_view tracestate);

}  // namespace eg::net
