#pragma once
// The Configuration API (README "Configuration API"): HTTP in, ConfigService calls, JSON out.
//
//   GET                /v1/status
//   GET                /healthz, /readyz (health probes; no key needed)
//   GET                /metrics, /v1/metrics (Prometheus; docs/metrics.md)
//   GET                /v1/openapi.json, /v1/openapi/events-api.json (the OpenAPI documents of this
//                      API and of the Events API, docs/openapi/; no key needed)
//   GET, POST          /v1/spaces/<space>/functions
//   GET, PUT, DELETE   /v1/spaces/<space>/functions/<functionId>
//   GET, POST          /v1/spaces/<space>/subscriptions
//   GET, DELETE        /v1/spaces/<space>/subscriptions/<subscriptionId>
//   GET                /v1/spaces/<space>/deadletters?limit=&cursor=
//   GET, DELETE        /v1/spaces/<space>/deadletters/<deadLetterId>
//   POST               /v1/spaces/<space>/deadletters/<deadLetterId>/redeliver
//   GET                /v1/spaces/<space>/events/catalog (the custom events seen: docs/console.md)
//   GET                /v1/spaces/<space>/events/stream (live traffic, server-sent events: stream())
//   GET                /console, /console/app.js, /console/style.css (the web console; no key needed)
//
// Before a request reaches its resource (docs/security.md): with API keys, every request but
// GET /v1/status, the probes, the documents and the console's files needs a key that may act on its space,
// the metrics a key for every space (401, 403); then cross-site writes are refused (403, 415,
// config/cross_site.h).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/api_keys.h"
#include "config/config_service.h"
#include "config/cross_site.h"
#include "delivery/dead_letters.h"
#include "net/http_server.h"
#include "net/json_response.h"

namespace eg::config {

// What the delivery scheduler answers when asked to deliver a dead letter again.
struct RedeliveryOutcome {
  // Refused: the API answers `status` with `message` (409: the subscription no longer exists; 503: the
  // spool is full or the gateway is draining) and leaves the letter as it is.
  enum class Kind { Accepted, Refused };
  Kind kind = Kind::Accepted;
  net::http::status status = net::http::status::accepted;
  std::string message;

  static RedeliveryOutcome accepted() { return {}; }
  static RedeliveryOutcome refused(net::http::status status, std::string message) {
    return {Kind::Refused, status, std::move(message)};
  }
};

// Hands a dead letter to the delivery scheduler, which delivers it again with its subscription's
// current policy, then removes it (delivered) or puts it back (failed for good again). Called on the
// Configuration API's thread, for every POST. On Accepted the scheduler has marked the letter as
// redelivering, before the delivery could finish (which removes or replaces the letter).
using Redeliver = std::function<RedeliveryOutcome(const delivery::DeadLetter&)>;

// Who may use the API, from which web pages, and what /v1/status says about it.
struct ConfigApiSecurity {
  std::shared_ptr<const auth::ApiKeys> keys;  // none: no key is needed
  CrossSitePolicy cross_site;
  std::vector<std::string> warnings;  // shown by /v1/status ("warnings"), e.g. a cluster without keys
};

class ConfigApi {
 public:
  // `store_status` describes the store for /v1/status.
  ConfigApi(ConfigService& service, std::function<boost::json::object()> store_status,
            delivery::DeadLetters& dead_letters, Redeliver redeliver, ConfigApiSecurity security = {})
      : service_(service),
        store_status_(std::move(store_status)),
        dead_letters_(dead_letters),
        redeliver_(std::move(redeliver)),
        security_(std::move(security)) {}

  // Never throws: every failure becomes a JSON error response.
  net::Response handle(const net::Request& request);

  // GET /v1/spaces/<space>/events/stream, the console's live traffic, as a StreamedResponse (or its
  // refusal: 401, 403, 405, 503 past the watcher cap); nothing for any other request, which handle()
  // answers. For net::HttpServerOptions::streams.
  std::optional<net::StreamedResponse> stream(net::Request& request);

  // The keys from now on (a reload of -config-api-keys); on the API's thread.
  void use_keys(std::shared_ptr<const auth::ApiKeys> keys) { security_.keys = std::move(keys); }
  // What GET /readyz asks; until it is set, the API is ready.
  void use_readiness(net::Readiness readiness) { readiness_ = std::move(readiness); }

 private:
  net::Response answer(const net::Request& request);
  net::Response guarded(const net::Request& request);
  std::optional<net::Response> access_refusal(const net::Request& request) const;
  net::Response route(const net::Request& request);
  net::Response functions(const net::Request& request, std::string_view space);
  net::Response function(const net::Request& request, std::string_view space, std::string_view function_id);
  net::Response subscriptions(const net::Request& request, std::string_view space);
  net::Response subscription(const net::Request& request, std::string_view space, std::string_view raw_id);
  net::Response catalog(const net::Request& request, std::string_view space);
  net::StreamedResponse open_stream(const net::Request& request,
                                    const std::vector<std::string_view>& segments);
  net::Response dead_letters(const net::Request& request, std::string_view space);
  net::Response dead_letter(const net::Request& request, std::string_view space, std::string_view id);
  net::Response redeliver(const net::Request& request, std::string_view space, std::string_view id);

  ConfigService& service_;
  std::function<boost::json::object()> store_status_;
  delivery::DeadLetters& dead_letters_;
  Redeliver redeliver_;
  ConfigApiSecurity security_;
  net::Readiness readiness_;
};

}  // namespace eg::config
