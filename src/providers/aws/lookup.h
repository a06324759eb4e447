#pragma once
// The two lookups behind a function's AWS destination (endpoint.cpp: endpoint and region) and its
// credentials (credentials.cpp): a string of the provider settings and an environment variable,
// each "" when absent, for the caller to fall back on the next source.

#include <boost/json.hpp>
#include <cstdlib>
#include <string>
#include <string_view>

namespace eg::providers::aws {

// settings[name] when it is a string, else "".
inline std::string string_setting(const boost::json::object& settings, std::string_view name) {
  const auto* value = settings.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

// The environment variable `name`, or "" when it is not set.
inline std::string environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace eg::providers::aws
