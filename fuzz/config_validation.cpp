// Function and subscription validation (src/config/validation.h), fed as the Configuration API feeds
// it: the input is a request body, parsed by parse_request_body, then validated as a registration
// (POST), an update (PUT .../functions/f) and a subscription. Invariants:
//   - bad input is refused with a ConfigError (a 4xx), never another exception (a 500);
//   - an accepted function is stored as text that reads back as the same function, and its public
//     form holds none of its provider's secret fields;
//   - an accepted subscription has a canonical id, a valid normalized path, reads back from its
//     stored form unchanged, and validates again, as stored, to itself.

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <exception>
#include <string>

#include "config/errors.h"
#include "config/validation.h"
#include "fuzz_check.h"
#include "model/identifiers.h"
#include "providers/provider.h"
#include "routing/path_tree.h"

namespace {

using eg::fuzz::check;
namespace bj = boost::json;

constexpr std::string_view kSpace = "default";

// Runs one validation; true when it accepted the input. Anything but a ConfigError is a bug.
template <typename Validate>
bool accepted(const char* what, const Validate& validate) {
  try {
    validate();
    return true;
  } catch (const eg::config::ConfigError&) {
    return false;
  } catch (const std::exception& error) {
    eg::fuzz::fail(std::string(what) + " threw something other than a ConfigError (a 500)", error.what());
  }
}

// Runs what must succeed for anything validation accepted; fails with `what` when it throws.
template <typename Call>
void must_succeed(const char* what, const Call& call) {
  try {
    call();
  } catch (const std::exception& error) {
    eg::fuzz::fail(what, error.what());
  }
}

void check_function(const eg::model::Function& function) {
  const auto stored = bj::serialize(function.to_stored_json());
  std::string read_back;
  must_succeed("a stored function reads back", [&] {
    read_back = bj::serialize(eg::model::Function::from_stored_text(stored).to_stored_json());
  });
  check(read_back == stored, "a stored function reads back unchanged", stored + "\n" + read_back);

  const auto* provider = eg::providers::find_provider(function.type);
  check(provider != nullptr, "an accepted function has a known type", function.type);
  const auto shown = function.to_public_json(provider->secret_fields());
  for (const auto field : provider->secret_fields()) {
    check(!shown.at("provider").as_object().contains(field), "the public form holds no secret", field);
  }
}

void check_subscription(const eg::model::Subscription& subscription) {
  check(eg::model::canonical_subscription_id(subscription.subscription_id) == subscription.subscription_id,
        "a subscription id is canonical", subscription.subscription_id);
  check(!eg::routing::validate_subscription_path(subscription.path), "an accepted path is valid",
        subscription.path);
  check(eg::routing::normalize_subscription_path(subscription.path) == subscription.path,
        "an accepted path is normalized", subscription.path);

  const auto stored = bj::serialize(subscription.to_json());
  std::string read_back;
  must_succeed("a stored subscription reads back", [&] {
    read_back = bj::serialize(eg::model::Subscription::from_stored_text(stored).to_json());
  });
  check(read_back == stored, "a stored subscription reads back unchanged", stored + "\n" + read_back);

  std::string revalidated;
  must_succeed("a stored subscription validates again", [&] {
    revalidated = bj::serialize(eg::config::parse_subscription(kSpace, bj::parse(stored)).to_json());
  });
  check(revalidated == stored, "validating a stored subscription again changes nothing",
        stored + "\n" + revalidated);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bj::value body;
  if (!accepted("parsing the body",
                [&] { body = eg::config::parse_request_body(eg::fuzz::as_text(data, size)); })) {
    return 0;
  }
  eg::model::Function function;
  if (accepted("registering a function", [&] { function = eg::config::parse_function(kSpace, body); })) {
    check_function(function);
  }
  if (accepted("updating a function", [&] { function = eg::config::parse_function(kSpace, body, "f"); })) {
    check(function.function_id == "f", "an update keeps the id of its URL", function.function_id);
    check_function(function);
  }
  eg::model::Subscription subscription;
  if (accepted("creating a subscription",
               [&] { subscription = eg::config::parse_subscription(kSpace, body); })) {
    check_subscription(subscription);
  }
  return 0;
}
