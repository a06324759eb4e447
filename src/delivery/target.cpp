#include "delivery/target.h"

#include <algorithm>
#include <boost/json.hpp>
#include <stdexcept>

#include "common/json.h"

namespace eg::delivery {

std::string DeliveryTarget::key() const {
  std::string key;
  key.reserve(space.size() + subscription_id.size() + function_id.size() + system_event.size() +
              dead_letter_id.size() + 16);
  key += static_cast<char>(kind);
  for (std::string_view part : {std::string_view(space), std::string_view(subscription_id),
                                std::string_view(function_id), std::string_view(system_event),
                                std::string_view(dead_letter_id)}) {
    key += '\n';
    key += part;
  }
  key += '\n';
  key += std::to_string(hops);
  return key;
}

EventId to_event_id(std::string_view id) {
  EventId inline_id;
  inline_id.fill(' ');
  std::copy_n(id.begin(), std::min(id.size(), inline_id.size()), inline_id.begin());
  return inline_id;
}

std::string encode_target(const DeliveryTarget& target, std::string_view event_id) {
  // Written member by member, as boost::json::serialize would write the object {kind, space,
  // subscriptionId, functionId, eventId, hops[, systemEvent][, deadLetterId]}: once per delivery of
  // every event accepted, where building the object and serializing it cost a twentieth of all an
  // emitted event costs the gateway.
  std::string json;
  json.reserve(96 + target.space.size() + target.subscription_id.size() + target.function_id.size() +
               event_id.size() + target.system_event.size() + target.dead_letter_id.size());
  json += R"({"kind":")";
  json += static_cast<char>(target.kind);
  json += R"(","space":)";
  common::append_json_string(json, target.space);
  json += R"(,"subscriptionId":)";
  common::append_json_string(json, target.subscription_id);
  json += R"(,"functionId":)";
  common::append_json_string(json, target.function_id);
  json += R"(,"eventId":)";
  common::append_json_string(json, event_id);
  json += R"(,"hops":)";
  json += std::to_string(target.hops);
  if (!target.system_event.empty()) {
    json += R"(,"systemEvent":)";
    common::append_json_string(json, target.system_event);
  }
  if (!target.dead_letter_id.empty()) {
    json += R"(,"deadLetterId":)";
    common::append_json_string(json, target.dead_letter_id);
  }
  json += '}';
  return json;
}

DecodedTarget decode_target(std::string_view text) {
  const auto json = common::parse_json(text);
  if (!json.ok() || !json.value.is_object()) throw std::invalid_argument("delivery target is not a JSON object");
  try {
    const auto& object = json.value.get_object();
    const auto kind = object.at("kind").as_string();
    if (kind != "s" && kind != "d") throw std::invalid_argument("unknown delivery kind");
    DecodedTarget decoded;
    auto& target = decoded.target;
    target.kind = static_cast<DeliveryTarget::Kind>(kind.front());
    target.space = object.at("space").as_string();
    target.subscription_id = object.at("subscriptionId").as_string();
    target.function_id = object.at("functionId").as_string();
    target.hops = object.at("hops").to_number<unsigned>();
    if (const auto* system_event = object.if_contains("systemEvent")) target.system_event = system_event->as_string();
    if (const auto* letter = object.if_contains("deadLetterId")) target.dead_letter_id = letter->as_string();
    decoded.event_id = to_event_id(object.at("eventId").as_string());
    return decoded;
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& error) {
    throw std::invalid_argument(std::string("unreadable delivery target: ") + error.what());
  }
}

}  // namespace eg::delivery
