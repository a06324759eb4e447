#include "auth/refusal.h"

#include <string>

namespace eg::auth {
namespace {

namespace http = net::http;

constexpr std::string_view kChallenge = R"(Bearer realm="event-gateway")";

net::Response challenged(std::string_view message, std::string_view challenge) {
  auto response = net::error_response(http::status::unauthorized, message);
  response.set(http::field::www_authenticate, challenge);
  return response;
}

}  // namespace

std::optional<net::Response> refusal(Access access, std::string_view api, std::string_view space) {
  switch (access) {
    case Access::Granted:
      return std::nullopt;
    case Access::NoKey:
      return challenged(std::string(api) + " needs a key: send Authorization: Bearer <key>", kChallenge);
    case Access::UnknownKey:
      return challenged("the key is not one this gateway knows",
                        R"(Bearer realm="event-gateway", error="invalid_token")");
    case Access::OutsideSpaces:
      if (space == kEverySpace) {
        return net::error_response(http::status::forbidden,
                                   "the key may not act on every space, which this request reaches "
                                   "(-cross-space-events): it needs a key of every space (*)");
      }
      return net::error_response(http::status::forbidden,
                                 "the key may not act on space \"" + std::string(space) + "\"");
  }
  return std::nullopt;
}

net::Response unauthorized(std::string_view message) { return challenged(message, kChallenge); }

}  // namespace eg::auth
