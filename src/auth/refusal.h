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

// A 401 that says `message`, with the Bearer challenge every 401 must carry (RFC 9110 §15.5.2), for
// a key the gateway cannot check at all.
net::Response unauthorized(std::string_view message);

}  // namespace eg::auth
