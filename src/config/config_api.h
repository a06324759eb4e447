#pragma once
// The Configuration API (README "Configuration API"): HTTP in, ConfigService calls, JSON out.
//
//   GET                /v1/status
//   GET, POST          /v1/spaces/<space>/functions
//   GET, PUT, DELETE   /v1/spaces/<space>/functions/<functionId>
//   GET, POST          /v1/spaces/<space>/subscriptions
//   GET, DELETE        /v1/spaces/<space>/subscriptions/<subscriptionId>
//   GET                /v1/spaces/<space>/deadletters?limit=&cursor=
//   GET, DELETE        /v1/spaces/<space>/deadletters/<deadLetterId>
//   POST               /v1/spaces/<space>/deadletters/<deadLetterId>/redeliver

#include <functional>
#include <string>
#include <utility>

#include "config/config_service.h"
#include "delivery/dead_letters.h"
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

class ConfigApi {
 public:
  // `store_status` describes the store for /v1/status.
  ConfigApi(ConfigService& service, std::function<boost::json::object()> store_status,
            delivery::DeadLetters& dead_letters, Redeliver redeliver)
      : service_(service),
        store_status_(std::move(store_status)),
        dead_letters_(dead_letters),
        redeliver_(std::move(redeliver)) {}

  // Never throws: every failure becomes a JSON error response.
  net::Response handle(const net::Request& request);

 private:
  net::Response route(const net::Request& request);
  net::Response functions(const net::Request& request, std::string_view space);
  net::Response function(const net::Request& request, std::string_view space, std::string_view function_id);
  net::Response subscriptions(const net::Request& request, std::string_view space);
  net::Response subscription(const net::Request& request, std::string_view space, std::string_view raw_id);
  net::Response dead_letters(const net::Request& request, std::string_view space);
  net::Response dead_letter(const net::Request& request, std::string_view space, std::string_view id);
  net::Response redeliver(const net::Request& request, std::string_view space, std::string_view id);

  ConfigService& service_;
  std::function<boost::json::object()> store_status_;
  delivery::DeadLetters& dead_letters_;
  Redeliver redeliver_;
};

}  // namespace eg::config
