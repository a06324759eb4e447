#pragma once
// A registered function: where it lives (space), what it is called, and how to call it (a provider
// type and that provider's settings). Validation of the settings belongs to the provider
// (src/providers/<type>), so adding a provider touches nothing here.

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace eg::model {

struct Function {
  std::string space;
  std::string function_id;
  std::string type;                 // a provider name: http, awslambda, awskinesis, awsfirehose
  boost::json::object provider;     // provider settings, secrets included

  // The stored form: every field, secrets included. Never sent to a client.
  boost::json::object to_stored_json() const;
  // The form the Config API returns: secrets removed by the provider's own list of secret fields.
  boost::json::object to_public_json() const;
  // Reads the stored form back; throws std::invalid_argument saying why a record cannot be read.
  static Function from_stored_text(std::string_view text);
};

}  // namespace eg::model
