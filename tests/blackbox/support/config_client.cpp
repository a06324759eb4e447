#include "support/config_client.h"

#include <gtest/gtest.h>

#include "support/json_checks.h"

namespace blackbox {

namespace bj = boost::json;

bj::object http_function(const std::string& id, const std::string& url) {
  return bj::object{{"functionId", id}, {"type", "http"}, {"provider", bj::object{{"url", url}}}};
}

bj::object custom_subscription(const std::string& event, const std::string& fn, const std::string& path) {
  bj::object o{{"event", event}, {"functionId", fn}};
  if (!path.empty()) o["path"] = path;
  return o;
}

bj::object http_subscription(const std::string& fn, const std::string& method, const std::string& path) {
  return bj::object{{"event", "http"}, {"functionId", fn}, {"method", method}, {"path", path}};
}

Headers ConfigClient::auth() const {
  if (api_key_.empty()) return {};
  return {{"Authorization", "Bearer " + api_key_}};
}

HttpResponse ConfigClient::get(const std::string& path) const {
  return request("GET", url(path), {}, auth());
}

HttpResponse ConfigClient::del(const std::string& path) const {
  return request("DELETE", url(path), {}, auth());
}

HttpResponse ConfigClient::send(const std::string& method, const std::string& path,
                                const std::string& body) const {
  return request(method, url(path), body, auth());
}

HttpResponse ConfigClient::post(const std::string& path, const bj::value& body) const {
  return send("POST", path, to_json(body));
}

HttpResponse ConfigClient::put(const std::string& path, const bj::value& body) const {
  return send("PUT", path, to_json(body));
}

HttpResponse ConfigClient::create_function(const std::string& space, const bj::value& body) const {
  return post(functions(space), body);
}

HttpResponse ConfigClient::create_subscription(const std::string& space, const bj::value& body) const {
  return post(subscriptions(space), body);
}

HttpResponse ConfigClient::get_function(const std::string& space, const std::string& id) const {
  return get(functions(space) + "/" + id);
}

HttpResponse ConfigClient::get_subscription(const std::string& space, const std::string& id) const {
  return get(subscriptions(space) + "/" + id);
}

bj::array ConfigClient::list(const std::string& path, const char* key) const {
  auto r = get(path);
  EXPECT_TRUE(IsJson(r, 200)) << "GET " << path;
  auto v = r.try_json();
  if (!v || !v->is_object() || !v->as_object().contains(key) || !v->as_object().at(key).is_array()) {
    ADD_FAILURE() << "GET " << path << ": expected {\"" << key << "\":[...]}, got " << r.describe();
    return {};
  }
  return v->as_object().at(key).as_array();
}

bj::array ConfigClient::list_functions(const std::string& space) const {
  return list(functions(space), "functions");
}

bj::array ConfigClient::list_subscriptions(const std::string& space) const {
  return list(subscriptions(space), "subscriptions");
}

}  // namespace blackbox
