#pragma once
// Every metric the gateway serves at GET /metrics (docs/metrics.md lists them with their labels).
// The first ones keep the names, help texts and labels of the original gateway at the seed's commit,
// so that its dashboards keep working. Labels are bounded: spaces, function ids, outcomes and
// reasons, never event ids or paths.

#include <string_view>

#include "metrics/registry.h"

namespace eg::metrics {

// The original's.
extern const Counter events_received;   // space, type: custom, http, invoke
extern const Counter events_processed;  // space, type
extern const Counter events_dropped;    // space, type: stays 0, the gateway refuses instead
extern const Gauge events_backlog;
extern const Histogram events_custom_processing_seconds;
extern const Gauge functions_total;      // space
extern const Gauge subscriptions_total;  // space
extern const Counter config_requests;    // space, resource, operation
extern const Histogram config_request_duration_seconds;

// What operators of a gateway need besides.
extern const Counter events_refused;                    // space, type, reason
extern const Counter function_calls;                    // space, function, outcome
extern const Histogram function_call_duration_seconds;  // space, function, outcome
extern const Gauge deliveries_pending;
extern const Counter deliveries_attempted;            // space
extern const Counter deliveries_retried;              // space
extern const Counter deliveries_dead_lettered;        // space
extern const Counter plugin_calls;                    // plugin, event, outcome
extern const Histogram plugin_call_duration_seconds;  // plugin, event
extern const CollectedCounter plugin_async_dropped;   // plugin
extern const CollectedCounter plugin_async_lost;      // plugin
extern const CollectedCounter plugin_restarts;        // plugin
extern const Gauge open_connections;                  // api
extern const Gauge store_available;
extern const Gauge routing_revision;
extern const Gauge build_info;  // version, commit
extern const Counter
    console_stream_dropped;  // lines the web console's live streams dropped (docs/console.md)

// The `type` label of events_* for each kind of event the Events API receives.
inline constexpr std::string_view kCustomEvent = "custom";
inline constexpr std::string_view kHttpEvent = "http";
inline constexpr std::string_view kInvokeEvent = "invoke";

}  // namespace eg::metrics
