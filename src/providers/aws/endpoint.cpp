#include "providers/aws/endpoint.h"

#include <boost/url/parse.hpp>
#include <optional>

#include "providers/aws/lookup.h"
#include "providers/aws/profile_file.h"

namespace eg::providers::aws {
namespace {

struct ConfiguredEndpoint {
  std::string url;
  std::string where;  // which setting or variable it came from
};

std::optional<ConfiguredEndpoint> configured_endpoint(const Service& service,
                                                      const boost::json::object& settings) {
  if (auto url = string_setting(settings, "endpoint"); !url.empty())
    return ConfiguredEndpoint{url, "provider.endpoint"};
  const auto service_variable = "AWS_ENDPOINT_URL_" + std::string(service.env_suffix);
  if (auto url = environment(service_variable); !url.empty())
    return ConfiguredEndpoint{url, service_variable};
  if (auto url = environment("AWS_ENDPOINT_URL"); !url.empty())
    return ConfiguredEndpoint{url, "AWS_ENDPOINT_URL"};
  return std::nullopt;
}

std::string default_endpoint(const Service& service, std::string_view region) {
  const std::string_view domain = region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return "https://" + std::string(service.name) + "." + std::string(region) + "." + std::string(domain);
}

}  // namespace

Region resolve_region(const boost::json::object& settings) {
  if (auto region = string_setting(settings, "region"); !region.empty()) return {region, "provider.region"};
  for (const auto* variable : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto region = environment(variable); !region.empty()) return {region, variable};
  }
  const auto files = profile_location_from_environment();
  const auto where = "profile \"" + files.profile + "\" of " + files.config_path;
  return {config_file_value(files, "region"), where};
}

bool is_valid_region(std::string_view region) {
  return !region.empty() &&
         region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string_view::npos;
}

std::optional<std::string> check_endpoint_url(std::string_view url, std::string_view where) {
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || (parsed->scheme() != "http" && parsed->scheme() != "https") || parsed->host().empty() ||
      parsed->has_query() || parsed->has_fragment() || parsed->has_userinfo()) {
    return std::string(where) +
           " must be an absolute http:// or https:// URL without credentials, query or fragment";
  }
  return std::nullopt;
}

std::variant<Target, std::string> resolve_target(const Service& service,
                                                 const boost::json::object& settings) {
  auto region = resolve_region(settings);
  if (!region.value.empty() && !is_valid_region(region.value))
    return "invalid AWS region \"" + region.value + "\" (from " + region.where + ")";
  if (region.value.empty()) {
    return "no AWS region: give the function provider.region or set AWS_REGION (or AWS_DEFAULT_REGION, "
           "or region in " +
           region.where + ")";
  }
  Target target{.region = std::move(region.value)};

  const auto configured = configured_endpoint(service, settings);
  const auto url = configured ? configured->url : default_endpoint(service, target.region);
  if (configured) {
    if (auto error = check_endpoint_url(url, configured->where)) return *error;
  }
  const auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "invalid AWS endpoint " + url;
  target.scheme = parsed->scheme();
  target.authority = parsed->encoded_authority();
  target.base_path = parsed->encoded_path();
  while (!target.base_path.empty() && target.base_path.back() == '/') target.base_path.pop_back();
  return target;
}

}  // namespace eg::providers::aws
