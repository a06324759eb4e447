#pragma once
// Where the configuration lives in the key-value store. Every key sits under one root so operators
// can inspect a cluster with `etcdctl get --prefix /serverless-event-gateway/` (docs/store.md).
//
//   <root>spaces/<space>/functions/<functionId>          the function, JSON, secrets included
//   <root>spaces/<space>/subscriptions/<subscriptionId>  the subscription, JSON
//   <root>endpoints/<METHOD>/<escaped path>              {"space","subscriptionId"} of the http
//                                                        subscription owning that endpoint: one per
//                                                        method and path across every space
//   <root>endpoint-claims/<METHOD>                       the endpoint key last claimed for the method,
//                                                        written with every claim: its mod_revision
//                                                        tells whether any endpoint of the method was
//                                                        claimed since a revision, in one key

#include <string>
#include <string_view>

namespace eg::store::keys {

inline constexpr std::string_view kRoot = "/serverless-event-gateway/";

std::string function(std::string_view space, std::string_view function_id);
std::string functions_prefix(std::string_view space);
std::string subscription(std::string_view space, std::string_view subscription_id);
std::string subscriptions_prefix(std::string_view space);
std::string endpoint(std::string_view method, std::string_view path);
std::string endpoints_prefix(std::string_view method);
std::string endpoint_claims(std::string_view method);

enum class KeyKind { Function, Subscription, Endpoint, Unknown };
KeyKind classify(std::string_view key);

}  // namespace eg::store::keys
