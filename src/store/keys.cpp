#include "store/keys.h"

#include "model/identifiers.h"

namespace eg::store::keys {
namespace {

std::string space_prefix(std::string_view space) {
  std::string key(kRoot);
  key.append("spaces/").append(space).append("/");
  return key;
}

}  // namespace

std::string functions_prefix(std::string_view space) { return space_prefix(space) + "functions/"; }

std::string function(std::string_view space, std::string_view function_id) {
  return functions_prefix(space).append(function_id);
}

std::string subscriptions_prefix(std::string_view space) { return space_prefix(space) + "subscriptions/"; }

std::string subscription(std::string_view space, std::string_view subscription_id) {
  return subscriptions_prefix(space).append(subscription_id);
}

std::string endpoints_prefix(std::string_view method) {
  std::string key(kRoot);
  key.append("endpoints/").append(method).append("/");
  return key;
}

std::string endpoint_claims(std::string_view method) {
  std::string key(kRoot);
  key.append("endpoint-claims/").append(method);
  return key;
}

std::string endpoint(std::string_view method, std::string_view path) {
  return endpoints_prefix(method).append(model::path_escape(path));
}

KeyKind classify(std::string_view key) {
  if (!key.starts_with(kRoot)) return KeyKind::Unknown;
  key.remove_prefix(kRoot.size());
  if (key.starts_with("endpoints/")) return KeyKind::Endpoint;
  if (!key.starts_with("spaces/")) return KeyKind::Unknown;
  key.remove_prefix(std::string_view("spaces/").size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) return KeyKind::Unknown;
  key.remove_prefix(slash + 1);
  if (key.starts_with("functions/")) return KeyKind::Function;
  if (key.starts_with("subscriptions/")) return KeyKind::Subscription;
  return KeyKind::Unknown;
}

}  // namespace eg::store::keys
