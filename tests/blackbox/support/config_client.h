// Black-box test harness: a client of the Configuration API, and the request bodies tests send it.
//
//   blackbox::ConfigClient api(gw.config_url());
//   auto r = api.create_function("default", blackbox::http_function("hello", upstream.url("/hello")));
//   EXPECT_TRUE(blackbox::IsJson(r, 201));
//   auto subscriptions = api.list_subscriptions("default");   // the array (a failure if it is not one)
#pragma once

#include <boost/json.hpp>
#include <string>

#include "support/http_client.h"

namespace blackbox {

// {"functionId": id, "type": "http", "provider": {"url": url}}
boost::json::object http_function(const std::string& id, const std::string& url = "http://127.0.0.1:9/hello");

// {"event": event, "functionId": fn} and, unless empty, "path": path.
boost::json::object custom_subscription(const std::string& event, const std::string& fn,
                                        const std::string& path = "");

// {"event": "http", "functionId": fn, "method": method, "path": path}
boost::json::object http_subscription(const std::string& fn, const std::string& method,
                                      const std::string& path);

// A Configuration API client bound to one gateway (`base` is its http://host:port). Every call is one request
// on a fresh connection; the responses are returned as they are, unchecked (but for list()).
class ConfigClient {
 public:
  // With `api_key`, every request carries `Authorization: Bearer <api_key>`.
  explicit ConfigClient(std::string base, std::string api_key = "")
      : base_(std::move(base)), api_key_(std::move(api_key)) {}

  std::string url(const std::string& path) const { return base_ + path; }
  static std::string functions(const std::string& space) { return "/v1/spaces/" + space + "/functions"; }
  static std::string subscriptions(const std::string& space) {
    return "/v1/spaces/" + space + "/subscriptions";
  }

  HttpResponse get(const std::string& path) const;
  HttpResponse del(const std::string& path) const;
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body) const;
  HttpResponse post(const std::string& path, const boost::json::value& body) const;
  HttpResponse put(const std::string& path, const boost::json::value& body) const;

  HttpResponse create_function(const std::string& space, const boost::json::value& body) const;
  HttpResponse create_subscription(const std::string& space, const boost::json::value& body) const;
  HttpResponse get_function(const std::string& space, const std::string& id) const;
  HttpResponse get_subscription(const std::string& space, const std::string& id) const;

  // The "functions" / "subscriptions" array of a list response (records a failure if it is not one: not
  // IsJson 200, or not {"<key>":[...]}).
  boost::json::array list(const std::string& path, const char* key) const;
  boost::json::array list_functions(const std::string& space) const;
  boost::json::array list_subscriptions(const std::string& space) const;

 private:
  Headers auth() const;

  std::string base_;
  std::string api_key_;
};

}  // namespace blackbox
