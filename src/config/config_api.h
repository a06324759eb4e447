#pragma once
// The Configuration API (README "Configuration API"): HTTP in, ConfigService calls, JSON out.
//
//   GET                /v1/status
//   GET, POST          /v1/spaces/<space>/functions
//   GET, PUT, DELETE   /v1/spaces/<space>/functions/<functionId>
//   GET, POST          /v1/spaces/<space>/subscriptions
//   GET, DELETE        /v1/spaces/<space>/subscriptions/<subscriptionId>

#include <functional>

#include "config/config_service.h"
#include "net/json_response.h"

namespace eg::config {

class ConfigApi {
 public:
  // `describe_store` names the store backend for /v1/status.
  ConfigApi(ConfigService& service, std::function<boost::json::object()> store_status)
      : service_(service), store_status_(std::move(store_status)) {}

  // Never throws: every failure becomes a JSON error response.
  net::Response handle(const net::Request& request);

 private:
  net::Response route(const net::Request& request);
  net::Response functions(const net::Request& request, std::string_view space);
  net::Response function(const net::Request& request, std::string_view space, std::string_view function_id);
  net::Response subscriptions(const net::Request& request, std::string_view space);
  net::Response subscription(const net::Request& request, std::string_view space, std::string_view raw_id);

  ConfigService& service_;
  std::function<boost::json::object()> store_status_;
};

}  // namespace eg::config
