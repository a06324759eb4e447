#include "app/security.h"

#include <algorithm>
#include <cstdio>

#include "app/listen_check.h"
#include "common/text.h"

namespace eg::app {
namespace {

// The keys of a -*-api-keys flag: none when the flag is empty.
bool load_keys(const std::string& path, const char* flag, std::shared_ptr<const auth::ApiKeys>& keys,
               std::string& error) {
  if (path.empty()) {
    keys.reset();
    return true;
  }
  std::string reason;
  auto loaded = auth::ApiKeys::load(path, reason);
  if (!loaded) {
    error = std::string(flag) + " " + reason;
    return false;
  }
  keys = std::make_shared<const auth::ApiKeys>(std::move(*loaded));
  return true;
}

// Every item of every -config-allowed-origins value ("a,b" and repeated flags alike), normalized.
std::optional<std::vector<std::string>> allowed_origins(const Options& options, std::string& error) {
  std::vector<std::string> origins;
  for (const auto& value : options.config_allowed_origins) {
    for (const auto item : common::split_list(value)) {
      if (item.empty()) continue;
      auto origin = config::normalize_origin(item);
      if (!origin) {
        error = "-config-allowed-origins: \"" + std::string(item) +
                "\" is not an origin: write scheme://host[:port], e.g. https://console.example.com";
        return std::nullopt;
      }
      origins.push_back(std::move(*origin));
    }
  }
  return origins;
}

std::vector<std::string> exposure_warnings(const Options& options, const Security& security) {
  std::vector<std::string> warnings;
  // On what -listen-address resolved to: a name counts as loopback only if each of its addresses is.
  if (!options.dev && !security.config_keys && !only_loopback(options.listen_ips)) {
    warnings.push_back(
        "the Configuration API needs no key: anyone who reaches port " + std::to_string(options.config_port) +
        " can register functions and change routing for every gateway of this cluster; give -config-api-keys "
        "(docs/security.md)");
  }
  return warnings;
}

}  // namespace

std::optional<Security> load_security(const Options& options, std::string& error) {
  Security security;
  if (!load_keys(options.config_api_keys, "-config-api-keys", security.config_keys, error) ||
      !load_keys(options.events_api_keys, "-events-api-keys", security.events_keys, error)) {
    return std::nullopt;
  }
  auto origins = allowed_origins(options, error);
  if (!origins) return std::nullopt;
  security.cross_site = config::CrossSitePolicy(std::move(*origins));
  std::string reason;
  auto networks = net::NetworkList::parse(options.function_deny_networks, reason);
  if (!networks) {
    error = "-function-deny-networks: " + reason;
    return std::nullopt;
  }
  security.denied_networks = std::make_shared<const net::NetworkList>(std::move(*networks));
  security.warnings = exposure_warnings(options, security);
  return security;
}

bool reload_keys(const Options& options, Security& security, std::string& error) {
  std::shared_ptr<const auth::ApiKeys> config_keys;
  std::shared_ptr<const auth::ApiKeys> events_keys;
  if (!load_keys(options.config_api_keys, "-config-api-keys", config_keys, error) ||
      !load_keys(options.events_api_keys, "-events-api-keys", events_keys, error)) {
    return false;
  }
  security.config_keys = std::move(config_keys);
  security.events_keys = std::move(events_keys);
  return true;
}

int print_key_line(std::FILE* in, std::FILE* out, std::FILE* err) {
  std::string key;
  for (int c = std::fgetc(in); c != EOF && c != '\n'; c = std::fgetc(in)) key += static_cast<char>(c);
  if (key.ends_with('\r')) key.pop_back();
  std::string error;
  const auto line = auth::key_file_line(key, error);
  if (!line) {
    std::fprintf(err, "event-gateway: -hash-key: %s\n", error.c_str());
    return 2;
  }
  std::fprintf(out, "%s\n", line->c_str());
  return 0;
}

}  // namespace eg::app
