#pragma once
// The OpenAPI documents of both APIs: the files docs/openapi/config-api.json and
// docs/openapi/events-api.json, byte for byte, as they were when the gateway was built
// (cmake/openapi.cmake generates the definitions). The Configuration API serves both (docs/api.md).

#include <string_view>

namespace eg::config {

std::string_view configuration_api_document();
std::string_view events_api_document();

}  // namespace eg::config
