#pragma once
// A registered function: where it lives (space), what it is called, and how to call it (a provider
// type and that provider's settings). What the settings mean, which of them are valid and which are
// secret belongs to the provider (src/providers/<type>), a layer above this one: adding a provider
// touches nothing here.

#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace eg::model {

struct Function {
  std::string space;
  std::string function_id;
  std::string type;                 // a provider name: http, awslambda, awskinesis, awsfirehose
  boost::json::object provider;     // provider settings, secrets included

  // The stored form: every field, secrets included. Never sent to a client.
  boost::json::object to_stored_json() const;
  // The form the Config API returns: without the settings named in `secret_fields` (its provider's
  // own list, providers::Provider::secret_fields).
  boost::json::object to_public_json(const std::vector<std::string_view>& secret_fields) const;
  // Reads the stored form back; throws std::invalid_argument saying why a record cannot be read.
  static Function from_stored_text(std::string_view text);
};

}  // namespace eg::model
