#pragma once
// Cross-origin resource sharing on the Events API (README "CORS"): custom events may be emitted from
// any origin; http subscriptions follow their own `cors` configuration, and the gateway answers their
// preflight OPTIONS requests itself.

#include <string_view>

#include "model/subscription.h"
#include "net/json_response.h"

namespace eg::events {

// Whether `origin` matches one of the configured origins; '*' in a pattern stands for 0 or more
// characters ("http://*.example.com"). Case-insensitive, as origins are.
bool origin_allowed(const model::Cors& cors, std::string_view origin);

// Adds the headers that let the browser hand the response to a page from `origin`, if allowed.
void add_cors_headers(net::Response& response, const model::Cors& cors, std::string_view origin);

// The answer to a preflight (OPTIONS with Origin and Access-Control-Request-Method) for a
// subscription with `cors`. A disallowed request gets no CORS headers, which the browser refuses.
net::Response preflight_response(const model::Cors& cors, const net::Request& request);

// The CORS policy of custom events: any origin, POST, any requested header.
const model::Cors& custom_event_cors();

bool is_preflight(const net::Request& request);

}  // namespace eg::events
