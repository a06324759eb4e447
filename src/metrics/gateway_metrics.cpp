#include "metrics/gateway_metrics.h"

namespace eg::metrics {

// In this order at GET /metrics. The original's help texts and buckets, word for word.
const Counter events_received("gateway_events_received_total", "Total of events received.",
                              {"space", "type"});
const Counter events_processed("gateway_events_processed_total", "Total of processed events.",
                               {"space", "type"});
const Counter events_dropped("gateway_events_dropped_total",
                             "Total of events dropped due to insufficient processing power.",
                             {"space", "type"});
const Gauge events_backlog("gateway_events_backlog",
                           "Gauge of asynchronous events count waiting to be processed.");
const Histogram events_custom_processing_seconds(
    "gateway_events_custom_processing_seconds",
    "Bucketed histogram of processing duration of an event. From receiving the asynchronous custom event to "
    "calling a function.",
    {}, exponential_buckets(0.00001, 2, 20));
const Gauge functions_total("gateway_functions_total", "Gauge of registered functions count.", {"space"});
const Gauge subscriptions_total("gateway_subscriptions_total", "Gauge of created subscriptions count.",
                                {"space"});
const Counter config_requests("gateway_config_requests_total", "Total of Config API requests.",
                              {"space", "resource", "operation"});
const Histogram config_request_duration_seconds(
    "gateway_config_request_duration_seconds",
    "Bucketed histogram of request duration of Config API requests", {}, exponential_buckets(0.0005, 2, 16));

const Counter events_refused(
    "gateway_events_refused_total",
    "Events the Events API refused, by reason (the status says which: docs/metrics.md).",
    {"space", "type", "reason"});
const Counter function_calls("gateway_function_calls_total",
                             "Calls of functions, sync and async (each delivery attempt), by outcome.",
                             {"space", "function", "outcome"});
// 0.5 ms to 33 s: the -function-timeout-ms default (30 s) falls in the last bucket.
const Histogram function_call_duration_seconds("gateway_function_call_duration_seconds",
                                               "Duration of function calls, by outcome.",
                                               {"space", "function", "outcome"},
                                               exponential_buckets(0.0005, 2, 17));
const Gauge deliveries_pending(
    "gateway_deliveries_pending",
    "Asynchronous deliveries accepted and not finished: waiting, running or to be retried.");
const Counter deliveries_attempted("gateway_deliveries_attempted_total",
                                   "Attempts of asynchronous deliveries.", {"space"});
const Counter deliveries_retried("gateway_deliveries_retried_total",
                                 "Asynchronous delivery attempts that failed and are to be tried again.",
                                 {"space"});
const Counter deliveries_dead_lettered(
    "gateway_deliveries_dead_lettered_total",
    "Asynchronous deliveries that failed for good and became dead letters.", {"space"});
const Counter plugin_calls("gateway_plugin_calls_total",
                           "Sync plugin calls, by outcome (allowed, vetoed, unavailable).",
                           {"plugin", "event", "outcome"});
// 0.1 ms to 0.8 s: the -plugin-timeout default falls inside.
const Histogram plugin_call_duration_seconds("gateway_plugin_call_duration_seconds",
                                             "Duration of sync plugin calls.", {"plugin", "event"},
                                             exponential_buckets(0.0001, 2, 14));
const CollectedCounter plugin_async_dropped(
    "gateway_plugin_async_dropped_total",
    "Async system events not queued for a plugin: its queue was full or it "
    "was down.",
    {"plugin"});
const CollectedCounter plugin_async_lost(
    "gateway_plugin_async_lost_total",
    "Async system events queued for a plugin that a failed stream or call lost.", {"plugin"});
const CollectedCounter plugin_restarts("gateway_plugin_restarts_total", "Restarts of plugin processes.",
                                       {"plugin"});
const Gauge open_connections("gateway_open_connections", "Open client connections, by API.", {"api"});
const Gauge store_available(
    "gateway_store_available",
    "1 when a read of the configuration store succeeds at the scrape (as for GET /v1/status), else 0.");
const Gauge routing_revision("gateway_routing_revision",
                             "The configuration store's revision that this instance routes with.");
const Gauge build_info("gateway_build_info", "The gateway's version and commit; always 1.",
                       {"version", "commit"});
const Counter console_stream_dropped(
    "gateway_console_stream_dropped_total",
    "Lines of the web console's live traffic dropped because a browser read its stream too slowly.", {});

}  // namespace eg::metrics
