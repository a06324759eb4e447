#include "model/function.h"

#include <stdexcept>

#include "common/json.h"

namespace eg::model {

boost::json::object Function::to_stored_json() const {
  return {{"space", space}, {"functionId", function_id}, {"type", type}, {"provider", provider}};
}

boost::json::object Function::to_public_json(const std::vector<std::string_view>& secret_fields) const {
  auto json = to_stored_json();
  auto& settings = json["provider"].as_object();
  for (const auto field : secret_fields) settings.erase(field);
  return json;
}

Function Function::from_stored_text(std::string_view text) {
  const auto json = common::parse_json(text);
  if (!json.ok()) throw std::invalid_argument("corrupt function record: it holds " + json.error);
  try {
    const auto& object = json.value.as_object();
    return Function{
        .space = std::string(object.at("space").as_string()),
        .function_id = std::string(object.at("functionId").as_string()),
        .type = std::string(object.at("type").as_string()),
        .provider = object.at("provider").as_object(),
    };
  } catch (const std::exception& error) {
    throw std::invalid_argument(std::string("corrupt function record: ") + error.what());
  }
}

}  // namespace eg::model
