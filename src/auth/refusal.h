#pragma once
// The answer to a request whose key does not let it through (auth/api_keys.h): 401 with a Bearer
// challenge (RFC 6750 §3) when it has no known key, 403 when its key may not act on the space, both
// with the usual {"errors":[{"message":...}]}.

#include <optional>
#include <string_view>

#include "auth/api_keys.h"
#include "net/json_response.h"

namespace eg::auth {

// Nothing when `access` is Granted. `api` names what refuses ("the Configuration API"), `space` the
// space the request acts on.
std::optional<net::Response> refusal(Access access, std::string_view api, std::string_view space);

}  // namespace eg::auth
