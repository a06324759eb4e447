#pragma once
// Turns Config API request bodies into model objects, or throws ConfigError(Invalid) with a message
// that tells the user what to fix. Nothing here touches the store.

#include <boost/json.hpp>
#include <optional>
#include <string_view>

#include "model/function.h"
#include "model/subscription.h"

namespace eg::config {

// A request body as JSON, or ConfigError(Invalid) saying what is malformed: what the Configuration
// API parses before it validates (and what fuzz/config_validation.cpp feeds the parsers below).
boost::json::value parse_request_body(std::string_view body);

// Space names come from the URL; they follow the same rule as function ids.
void validate_space(std::string_view space);

// A function registration (POST, `function_id_from_url` empty) or update (PUT, id from the URL; the
// body's functionId, when present, must match it).
model::Function parse_function(std::string_view space, const boost::json::value& body,
                               std::optional<std::string_view> function_id_from_url = std::nullopt);

// A subscription request: validates every field, applies defaults (path "/", CORS defaults),
// normalizes (method upper case, trailing slash) and derives the subscription id.
model::Subscription parse_subscription(std::string_view space, const boost::json::value& body);

}  // namespace eg::config
